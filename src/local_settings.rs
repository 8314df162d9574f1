//! `serve --settings local.settings.json`: the `Values` of a Core Tools settings file, for
//! running `serve` standalone with the same settings `func start` would give it.

use std::collections::HashMap;
use std::path::Path;

/// The `Values` of the local.settings.json at `path`, as strings. A value that is not a
/// string (or null) is an error naming it: the host would refuse it too.
pub fn values(path: &Path) -> Result<HashMap<String, String>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("--settings {shown}: {e}"))?;
    parse(&text).map_err(|e| format!("--settings {shown}: {e}"))
}

/// [`values`] on the file's text.
pub fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if doc.get("IsEncrypted").and_then(serde_json::Value::as_bool) == Some(true) {
        return Err("the file is encrypted (IsEncrypted: true); decrypt it with `func settings decrypt`".into());
    }
    let Some(values) = doc.get("Values") else {
        return Ok(HashMap::new());
    };
    let values = values.as_object().ok_or("Values is not an object")?;
    let mut out = HashMap::new();
    for (name, value) in values {
        match value {
            serde_json::Value::String(s) => {
                out.insert(name.clone(), s.clone());
            }
            serde_json::Value::Null => {}
            _ => return Err(format!("Values.{name} is not a string")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn values_are_read_as_strings() {
        let v = parse(r#"{"IsEncrypted": false, "Values": {"ANAPLAN_AUTH_METHOD": "basic", "X": null}}"#).unwrap();
        assert_eq!(v.get("ANAPLAN_AUTH_METHOD").map(String::as_str), Some("basic"));
        assert!(!v.contains_key("X"));
    }

    #[test]
    fn bad_files_say_why() {
        assert!(parse("{").unwrap_err().starts_with("not JSON"));
        assert!(parse(r#"{"Values": {"ANAPLAN_POLL_SECONDS": 5}}"#).unwrap_err().contains("ANAPLAN_POLL_SECONDS"));
        assert!(parse(r#"{"IsEncrypted": true, "Values": {}}"#).unwrap_err().contains("encrypted"));
    }
}
