//! JSON bodies read strictly: an object that gives the same key twice is refused, naming the
//! key and where the object is. serde_json keeps the last of them silently, so
//! `{"modelName": "A", "modelName": "B"}`, or a row of `write-cells` with the same line item
//! twice, would mean whatever the parser happened to choose; the contract makes a repeated
//! parameter a 400, and a repeated key anywhere in a body is just as ambiguous.
//!
//! One pass, straight into a [`Value`]: the check is one hash lookup per key, nothing is
//! parsed twice, and nothing is kept besides the value itself (the path to the duplicate is
//! only assembled on the way out of an error).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value, json};

use super::problem::Problem;

/// Keys are shown up to this many characters in an error.
const SHOWN_KEY_CHARS: usize = 64;

/// Why a body is not strict JSON.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON at all (or trailing characters after it).
    Syntax(serde_json::Error),
    /// An object gives `key` twice.
    Duplicate {
        /// The repeated key.
        key: String,
        /// Where the object is, from the body's root.
        at: Vec<Step>,
    },
}

/// One step from a value into one of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The member of an object with this key.
    Key(String),
    /// The element of an array at this index.
    Index(usize),
}

/// Parses `bytes` as one JSON value, refusing any object that repeats a key.
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Strict(&duplicate).deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (parsed, duplicate.into_inner()) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some((key, mut at))) => {
            at.reverse();
            Err(JsonError::Duplicate { key, at })
        }
        (Err(e), None) => Err(JsonError::Syntax(e)),
    }
}

/// `at` in the user's words: `rows[3]`, `items[0].properties`, empty for the root.
pub fn path(at: &[Step]) -> String {
    let mut out = String::new();
    for step in at {
        match step {
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&shorten(k));
            }
            Step::Key(k) => out.push_str(&format!("[{:?}]", shorten(k))),
        }
    }
    out
}

fn shorten(s: &str) -> String {
    let mut shown: String = s.chars().take(SHOWN_KEY_CHARS).collect();
    if s.chars().nth(SHOWN_KEY_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(e) => write!(f, "the body is not valid JSON: {e}"),
            JsonError::Duplicate { key, at } if at.is_empty() => {
                write!(f, "the body gives {:?} twice; a key may appear only once in a JSON object", shorten(key))
            }
            JsonError::Duplicate { key, at } => write!(
                f,
                "the body gives {:?} twice in {}; a key may appear only once in a JSON object",
                shorten(key),
                path(at)
            ),
        }
    }
}

/// A 400; a duplicate also says which key (`duplicateKey`) and where (`at`).
impl From<JsonError> for Problem {
    fn from(e: JsonError) -> Self {
        let problem = Problem::bad_parameter(e.to_string());
        match e {
            JsonError::Syntax(_) => problem,
            JsonError::Duplicate { key, at } => {
                problem.with("duplicateKey", json!(shorten(&key))).with("at", json!(path(&at)))
            }
        }
    }
}

/// The repeated key and the steps to its object, innermost first (filled on the way out).
type Found = RefCell<Option<(String, Vec<Step>)>>;

/// serde_json's own `Value` visitor, with the duplicate check in objects.
struct Strict<'a>(&'a Found);

impl Strict<'_> {
    /// On the way out of an error: when it is a duplicate, adds the step it went through.
    fn note(&self, step: impl FnOnce() -> Step) {
        if let Some((_, at)) = self.0.borrow_mut().as_mut() {
            at.push(step());
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            match seq.next_element_seed(Strict(self.0)) {
                Ok(Some(v)) => out.push(v),
                Ok(None) => return Ok(Value::Array(out)),
                Err(e) => {
                    self.note(|| Step::Index(out.len()));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                *self.0.borrow_mut() = Some((key, Vec::new()));
                return Err(de::Error::custom("a key is given twice"));
            }
            match map.next_value_seed(Strict(self.0)) {
                Ok(v) => {
                    out.insert(key, v);
                }
                Err(e) => {
                    self.note(|| Step::Key(key));
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> (String, String) {
        match from_slice(text.as_bytes()) {
            Err(JsonError::Duplicate { key, at }) => (key, path(&at)),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn the_same_value_as_serde_json_when_no_key_repeats() {
        let text = r#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "c": {"d": [[]]}, "e": 18446744073709551615}"#;
        assert_eq!(from_slice(text.as_bytes()).unwrap(), serde_json::from_str::<Value>(text).unwrap());
        let keys: Vec<String> =
            from_slice(br#"{"z": 1, "a": 2, "m": 3}"#).unwrap().as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"], "order is kept");
    }

    #[test]
    fn a_repeated_key_is_named_with_where_its_object_is() {
        assert_eq!(duplicate(r#"{"modelName": "A", "modelName": "B"}"#), ("modelName".into(), String::new()));
        assert_eq!(duplicate(r#"{"modelName": "A", "modelName": "A"}"#).0, "modelName", "even with the same value");
        assert_eq!(
            duplicate(r#"{"rows": [{"Units": 1}, {"Time": "Jan 26", "Units": 1, "Units": 2}]}"#),
            ("Units".into(), "rows[1]".into())
        );
        assert_eq!(
            duplicate(r#"{"items": [{"properties": {"Owner": "a", "Owner": "b"}}]}"#),
            ("Owner".into(), "items[0].properties".into())
        );
        assert_eq!(duplicate(r#"[[{"a b": {"k": 1, "k": 2}}]]"#), ("k".into(), r#"[0][0]["a b"]"#.into()));
        // Same key in different objects is fine.
        assert!(from_slice(br#"{"rows": [{"Units": 1}, {"Units": 2}], "Units": 3}"#).is_ok());
    }

    #[test]
    fn problems_are_400s_that_name_the_key() {
        let p = Problem::from(from_slice(br#"{"rows": [{"Units": 1, "Units": 2}]}"#).unwrap_err());
        assert_eq!(p.status(), 400);
        let body = p.body();
        assert_eq!(body["duplicateKey"], "Units");
        assert_eq!(body["at"], "rows[0]");
        assert!(body["detail"].as_str().unwrap().contains("\"Units\" twice in rows[0]"), "{body}");
        let long = "k".repeat(10_000);
        let p = Problem::from(from_slice(format!(r#"{{"{long}": 1, "{long}": 2}}"#).as_bytes()).unwrap_err());
        assert!(p.body().to_string().len() < 600, "a long key is shortened");
        let p = Problem::from(from_slice(b"{\"a\": ").unwrap_err());
        assert!(p.body()["detail"].as_str().unwrap().starts_with("the body is not valid JSON"));
        assert!(matches!(from_slice(b"{} {}"), Err(JsonError::Syntax(_))), "one value only");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(from_slice(deep.as_bytes()), Err(JsonError::Syntax(_))));
    }
}
