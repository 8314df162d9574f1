//! Parameters from the query string and, for POST, a JSON body. The same parameter given
//! twice with different values is a 400, and so is a parameter the function does not know:
//! a typo must not silently fall back to a default.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, header};

use super::problem::Problem;
use crate::anaplan::ids::InvalidId;

/// Query-string parameters that belong to the Functions host, not to a function.
const HOST_PARAMETERS: &[&str] = &["code"];

/// A request's parameters, merged from query and body.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: BTreeMap<String, String>,
}

/// An Anaplan object named by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef<T> {
    /// By id (already validated).
    Id(T),
    /// By name, to be resolved.
    Name(String),
}

impl Params {
    /// Collects the parameters of a request; `allowed` lists the names the function takes.
    pub fn collect(
        method: &Method,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        allowed: &[&str],
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
                        "the body must be a JSON object of parameters (Content-Type: application/json), got Content-Type {essence:?}"
                    )));
                }
            }
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| Problem::bad_parameter(format!("the body is not valid JSON: {e}")))?;
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

    /// One of a closed set of values, or `default` when absent.
    pub fn choice<'a>(&self, name: &str, choices: &[&'a str], default: &'a str) -> Result<&'a str, Problem> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => choices.iter().copied().find(|c| *c == v).ok_or_else(|| {
                Problem::bad_parameter(format!("{name} must be one of {}; got {v:?}", choices.join(", ")))
            }),
        }
    }

    /// An object named by exactly one of `<kind>Id` and `<kind>Name`.
    pub fn object<T>(&self, kind: &str, parse: impl Fn(&str) -> Result<T, InvalidId>) -> Result<ObjectRef<T>, Problem> {
        let id_param = format!("{kind}Id");
        let name_param = format!("{kind}Name");
        match (self.get(&id_param), self.get(&name_param)) {
            (Some(_), Some(_)) => {
                Err(Problem::bad_parameter(format!("give either {id_param} or {name_param}, not both")))
            }
            (None, None) => Err(Problem::bad_parameter(format!("{id_param} or {name_param} is required"))),
            (Some(id), None) => parse(id).map(ObjectRef::Id).map_err(|e| Problem::bad_parameter(e.to_string())),
            (None, Some(name)) => Ok(ObjectRef::Name(name.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anaplan::ids::ModelId;

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
        assert!(matches!(p.object("model", ModelId::parse), Ok(ObjectRef::Id(_))));
        let both = collect(Method::GET, "modelId=75A40874E6B64FA3AE0743278996850F&modelName=x", "").unwrap();
        assert!(both.object("model", ModelId::parse).is_err());
        let none = collect(Method::GET, "", "").unwrap();
        assert!(none.object("model", ModelId::parse).is_err());
        let bad = collect(Method::GET, "modelId=../x", "").unwrap();
        assert!(
            bad.object("model", ModelId::parse).unwrap_err().body()["detail"].as_str().unwrap().contains("modelId")
        );
    }

    #[test]
    fn choices_are_closed() {
        let p = collect(Method::GET, "format=xml", "").unwrap();
        assert!(p.choice("format", &["records", "grid", "csv"], "records").is_err());
        let q = collect(Method::GET, "", "").unwrap();
        assert_eq!(q.choice("format", &["records", "grid", "csv"], "records").unwrap(), "records");
    }
}
