//! Parameters from the query string and, for POST, a JSON body. The same parameter given
//! twice with different values is a 400, and so is a parameter the function does not know:
//! a typo must not silently fall back to a default.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, header};

use super::problem::Problem;
pub use anaplan::ids::ObjectRef;
use anaplan::ids::{Id, ModelId, WorkspaceId};
pub use anaplan::names::MAX_NAME_CHARS;

/// Query-string parameters that belong to the Functions host, not to a function.
const HOST_PARAMETERS: &[&str] = &["code"];

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The query string (or, for POST, a JSON body of parameters).
    Query,
    /// A request header.
    Header,
    /// The whole request body (a file).
    Body,
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number within bounds.
    Integer {
        /// Smallest.
        min: u64,
        /// Largest.
        max: u64,
    },
    /// One of a closed set of values.
    Choice(&'static [&'static str]),
    /// Bytes (the whole request body).
    File,
    /// A JSON object (the whole request body), described by that connector schema.
    Json(&'static str),
}

/// A parameter: its name, type and help text.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Where it travels.
    pub place: Place,
    /// Its type.
    pub kind: Kind,
    /// Whether it must be given.
    pub required: bool,
    /// The value when absent.
    pub default: Option<&'static str>,
    /// The connector's label.
    pub summary: &'static str,
    /// The connector's help text.
    pub help: &'static str,
    /// Shown under "advanced" in the designer.
    pub advanced: bool,
    /// A connector dropdown fed by list-objects: its `kind`, and which of list-objects'
    /// parameters take which parameter of the same operation.
    pub dropdown: Option<(&'static str, &'static [(&'static str, &'static str)])>,
}

impl Param {
    /// An optional text parameter in the query, shown by default.
    pub const fn text(name: &'static str, summary: &'static str, help: &'static str) -> Param {
        Param {
            name,
            place: Place::Query,
            kind: Kind::Text,
            required: false,
            default: None,
            summary,
            help,
            advanced: false,
            dropdown: None,
        }
    }

    /// The same, as a dropdown of list-objects `kind`, whose parent parameters are taken
    /// from this operation's (`args`: list-objects' name, this operation's name).
    pub const fn dropdown(self, kind: &'static str, args: &'static [(&'static str, &'static str)]) -> Param {
        Param { dropdown: Some((kind, args)), ..self }
    }

    /// An optional choice; `choices[0]` is not implied as the default (see [`Param::default`]).
    pub const fn choice(
        name: &'static str,
        choices: &'static [&'static str],
        summary: &'static str,
        help: &'static str,
    ) -> Param {
        Param { kind: Kind::Choice(choices), ..Param::text(name, summary, help) }
    }

    /// The same, in a header.
    pub const fn header(self) -> Param {
        Param { place: Place::Header, ..self }
    }

    /// The same, as the request body (a file).
    pub const fn body(self) -> Param {
        Param { place: Place::Body, kind: Kind::File, ..self }
    }

    /// The same, as a JSON request body described by connector schema `schema`.
    pub const fn json_body(self, schema: &'static str) -> Param {
        Param { place: Place::Body, kind: Kind::Json(schema), ..self }
    }

    /// The same, required.
    pub const fn required(self) -> Param {
        Param { required: true, ..self }
    }

    /// The same, with a default.
    pub const fn default(self, value: &'static str) -> Param {
        Param { default: Some(value), ..self }
    }

    /// The same, under "advanced".
    pub const fn advanced(self) -> Param {
        Param { advanced: true, ..self }
    }

    /// The same, with other help text.
    pub const fn help(self, help: &'static str) -> Param {
        Param { help, ..self }
    }

    /// The choices of a [`Kind::Choice`].
    pub fn choices(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Choice(c) => c,
            _ => &[],
        }
    }
}

/// A model named by workspace and model, each by id or name: what every model-level
/// function takes first.
#[derive(Debug, Clone)]
pub struct ModelRef {
    /// `workspaceId` or `workspaceName`.
    pub workspace: ObjectRef<WorkspaceId>,
    /// `modelId` or `modelName`.
    pub model: ObjectRef<ModelId>,
}

impl ModelRef {
    /// From the parameters.
    pub fn parse(params: &Params) -> Result<Self, Problem> {
        Ok(ModelRef { workspace: params.object("workspace")?, model: params.object("model")? })
    }
}

/// A request's parameters, merged from query and body.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Collects the parameters of a request; `allowed` lists the names the function takes.
    pub fn collect(
        method: &Method,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        allowed: &[impl AsRef<str>],
    ) -> Result<Params, Problem> {
        let mut params = Params::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if HOST_PARAMETERS.contains(&k.as_ref()) {
                continue;
            }
            params.insert(&k, v.into_owned(), "query string")?;
        }
        if !body.iter().all(u8::is_ascii_whitespace) {
            if method != Method::POST {
                return Err(Problem::bad_parameter(format!(
                    "{method} takes its parameters in the query string; this request has a body"
                )));
            }
            if let Some(ct) = headers.get(header::CONTENT_TYPE) {
                let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
                let essence = ct.split(';').next().unwrap_or("").trim();
                if essence != "application/json" && !essence.ends_with("+json") {
                    return Err(Problem::bad_parameter(format!(
                        "the body must be a JSON object of parameters (Content-Type: application/json), got Content-Type {}",
                        anaplan::untrusted::quote(essence)
                    )));
                }
            }
            // A key given twice in the body is refused like a parameter given twice.
            let value = super::strict_json::from_slice(body)?;
            let serde_json::Value::Object(map) = value else {
                return Err(Problem::bad_parameter("the body must be a JSON object of parameters"));
            };
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(Problem::bad_parameter(format!(
                            "parameter {k} must be a string, number or boolean"
                        )));
                    }
                };
                params.insert(&k, text, "body")?;
            }
        }
        let allowed: Vec<&str> = allowed.iter().map(AsRef::as_ref).collect();
        let unknown: Vec<&str> = params.values.keys().map(String::as_str).filter(|k| !allowed.contains(k)).collect();
        if !unknown.is_empty() {
            return Err(Problem::bad_parameter(format!(
                "unknown parameter{} {}; this function takes {}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                allowed.join(", ")
            )));
        }
        Ok(params)
    }

    fn insert(&mut self, name: &str, value: String, from: &str) -> Result<(), Problem> {
        match self.values.get(name) {
            Some(existing) if *existing != value => Err(Problem::bad_parameter(format!(
                "parameter {name} is given twice with different values (the second in the {from})"
            ))),
            _ => {
                self.values.insert(name.to_owned(), value);
                Ok(())
            }
        }
    }

    /// An optional parameter (empty counts as absent).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The value of choice `param` (one of its choices), its default when absent, and
    /// `None` when it has no default and is absent (a 400 when it is required).
    pub fn choice(&self, param: &Param) -> Result<Option<&'static str>, Problem> {
        let (name, choices) = (param.name, param.choices());
        match self.get(name) {
            None if param.required => {
                Err(Problem::bad_parameter(format!("{name} is required: one of {}", choices.join(", "))))
            }
            None => Ok(param.default),
            Some(v) => choices.iter().copied().find(|c| *c == v).map(Some).ok_or_else(|| {
                Problem::bad_parameter(format!(
                    "{name} must be one of {}; got {}",
                    choices.join(", "),
                    anaplan::untrusted::quote(v)
                ))
            }),
        }
    }

    /// An object named by exactly one of `<kind>Id` and `<kind>Name`: an id in its
    /// format, a name of at most [`MAX_NAME_CHARS`] characters.
    pub fn object<T: Id>(&self, kind: &str) -> Result<ObjectRef<T>, Problem> {
        let id_param = format!("{kind}Id");
        let name_param = format!("{kind}Name");
        match (self.get(&id_param), self.get(&name_param)) {
            (Some(_), Some(_)) => {
                Err(Problem::bad_parameter(format!("give either {id_param} or {name_param}, not both")))
            }
            (None, None) => Err(Problem::bad_parameter(format!("{id_param} or {name_param} is required"))),
            (Some(id), None) => T::parse(id).map(ObjectRef::Id).map_err(|e| Problem::bad_parameter(e.to_string())),
            (None, Some(name)) => {
                // Bounded before any listing is read or compared with it.
                let chars = name.chars().count();
                if chars > MAX_NAME_CHARS {
                    return Err(Problem::bad_parameter(format!(
                        "{name_param} is {chars} characters long; an Anaplan name has at most {MAX_NAME_CHARS}"
                    )));
                }
                Ok(ObjectRef::Name(name.to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[&str] = &["modelId", "modelName", "format"];

    fn collect(method: Method, query: &str, body: &str) -> Result<Params, Problem> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        Params::collect(&method, Some(query), &headers, body.as_bytes(), ALLOWED)
    }

    #[test]
    fn query_and_body_merge_and_code_is_ignored() {
        let p = collect(Method::POST, "format=csv&code=KEY", r#"{"modelName": "Revenue Plan"}"#).unwrap();
        assert_eq!(p.get("format"), Some("csv"));
        assert_eq!(p.get("modelName"), Some("Revenue Plan"));
        assert_eq!(p.get("code"), None);
    }

    #[test]
    fn same_value_twice_is_fine_different_is_400() {
        assert!(collect(Method::POST, "format=csv", r#"{"format": "csv"}"#).is_ok());
        let e = collect(Method::POST, "format=csv", r#"{"format": "grid"}"#).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(collect(Method::GET, "format=csv&format=grid", "").is_err());
    }

    #[test]
    fn unknown_and_malformed_input_is_400() {
        assert!(
            collect(Method::GET, "modelid=x", "").unwrap_err().body()["detail"].as_str().unwrap().contains("modelid")
        );
        assert!(collect(Method::POST, "", "not json").is_err());
        assert!(collect(Method::POST, "", "[1,2]").is_err());
        assert!(collect(Method::POST, "", r#"{"format": {"a": 1}}"#).is_err());
        assert!(collect(Method::GET, "", r#"{"format": "csv"}"#).is_err());
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(Params::collect(&Method::POST, None, &headers, br#"{"format":"csv"}"#, ALLOWED).is_err());
    }

    #[test]
    fn objects_need_exactly_one_of_id_and_name() {
        let p = collect(Method::GET, "modelId=75A40874E6B64FA3AE0743278996850F", "").unwrap();
        assert!(matches!(p.object::<ModelId>("model"), Ok(ObjectRef::Id(_))));
        let both = collect(Method::GET, "modelId=75A40874E6B64FA3AE0743278996850F&modelName=x", "").unwrap();
        assert!(both.object::<ModelId>("model").is_err());
        let none = collect(Method::GET, "", "").unwrap();
        assert!(none.object::<ModelId>("model").is_err());
        let bad = collect(Method::GET, "modelId=../x", "").unwrap();
        assert!(bad.object::<ModelId>("model").unwrap_err().body()["detail"].as_str().unwrap().contains("modelId"));
    }

    #[test]
    fn names_are_bounded_in_length() {
        let at_bound = "é".repeat(MAX_NAME_CHARS);
        let p = collect(Method::POST, "", &format!(r#"{{"modelName": "{at_bound}"}}"#)).unwrap();
        assert!(matches!(p.object::<ModelId>("model"), Ok(ObjectRef::Name(n)) if n == at_bound), "characters count");
        let over = format!("modelName={}", "x".repeat(MAX_NAME_CHARS + 1));
        let e = collect(Method::GET, &over, "").unwrap().object::<ModelId>("model").unwrap_err();
        assert_eq!(e.status(), 400);
        let detail = e.body()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("modelName") && detail.contains("1025") && detail.len() < 200, "{detail}");
    }

    #[test]
    fn a_key_twice_in_the_body_is_400_naming_it() {
        for body in [r#"{"format": "csv", "format": "grid"}"#, r#"{"format": "csv", "format": "csv"}"#] {
            let e = collect(Method::POST, "", body).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.body()["detail"].as_str().unwrap().contains("\"format\" twice"), "{}", e.body());
            assert_eq!(e.body()["duplicateKey"], "format");
        }
    }

    #[test]
    fn choices_are_closed() {
        let format = Param::choice("format", &["records", "grid", "csv"], "Format", "").default("records");
        let p = collect(Method::GET, "format=xml", "").unwrap();
        assert!(p.choice(&format).is_err());
        let q = collect(Method::GET, "", "").unwrap();
        assert_eq!(q.choice(&format).unwrap(), Some("records"));
    }
}
