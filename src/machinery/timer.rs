//! What the timer functions share: the host's JSON invocation format. The host calls a timer
//! with `POST /<function>` and `{"Data": {"timer": ...}, "Metadata": ...}`, and reads
//! `{"Outputs": {}, "Logs": [...], "ReturnValue": ...}` back; a non-2xx status fails the
//! invocation (the host then drops the logs, which the handler also writes to its own log).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::Problem;

/// Checks that `body` is the host's invocation: a 400 otherwise.
pub fn invocation(body: &[u8]) -> Result<(), Problem> {
    let invocation: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_parameter(format!("not a JSON invocation from the Functions host: {e}")))?;
    if !invocation.get("Data").is_some_and(Value::is_object) {
        return Err(Problem::bad_parameter("the invocation has no Data object (the host's JSON invocation format)"));
    }
    Ok(())
}

/// The invocation's result: `logs` and `value`, with `status` (non-2xx fails it).
pub fn result(status: StatusCode, logs: Vec<String>, value: Value) -> Response {
    let body = json!({ "Outputs": {}, "Logs": logs, "ReturnValue": value });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hosts_invocation_format_is_accepted() {
        assert!(invocation(br#"{"Data": {"timer": {}}, "Metadata": {}}"#).is_ok());
        assert!(invocation(br#"{"Metadata": {}}"#).is_err());
        assert!(invocation(b"not json").is_err());
        assert_eq!(result(StatusCode::OK, vec![], json!({})).status(), 200);
    }
}
