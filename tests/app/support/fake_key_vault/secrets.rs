//! The secret operations: get (latest or a version), set (a new version each
//! time), update a version's properties, list versions. Shapes follow the Key Vault REST API 2025-07-01.

use super::{Inner, Version, error};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Key Vault's cap on a secret value.
const MAX_VALUE_BYTES: usize = 25 * 1024;
/// Key Vault's cap on tags per object.
const MAX_TAGS: usize = 15;

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A new version with a fresh 32-hex id; `attrs` is (enabled, nbf, exp).
pub(super) fn new_version(
    value: String,
    content_type: Option<String>,
    tags: Option<Map<String, Value>>,
    attrs: (bool, Option<i64>, Option<i64>),
) -> Version {
    Version {
        id: uuid::Uuid::new_v4().simple().to_string(),
        value,
        content_type,
        tags,
        enabled: attrs.0,
        nbf: attrs.1,
        exp: attrs.2,
        created: unix_now(),
    }
}

/// Secret names: 1-127 characters of `[0-9A-Za-z-]`.
fn check_name(name: &str) -> Result<String, Response> {
    if (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            &format!("The request URI contains an invalid name: {name}"),
        ))
    }
}

fn not_found(what: &str) -> Response {
    let message = format!(
        "A secret with (name/id) {what} was not found in this key vault. If you recently deleted this secret you \
         may be able to recover it using the correct recovery command. For help resolving this issue, please see \
         https://go.microsoft.com/fwlink/?linkid=2125182"
    );
    error(StatusCode::NOT_FOUND, "SecretNotFound", &message)
}

/// The JSON of one version; `with_value` is false in version lists.
fn render(inner: &Inner, name: &str, v: &Version, with_value: bool) -> Value {
    let mut attributes = json!({
        "enabled": v.enabled,
        "created": v.created,
        "updated": v.created,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": 90,
    });
    if let Some(nbf) = v.nbf {
        attributes["nbf"] = json!(nbf);
    }
    if let Some(exp) = v.exp {
        attributes["exp"] = json!(exp);
    }
    let mut body = Map::new();
    if with_value {
        body.insert("value".into(), json!(v.value));
    }
    body.insert("id".into(), json!(format!("{}secrets/{name}/{}", inner.uri, v.id)));
    body.insert("attributes".into(), attributes);
    if let Some(tags) = &v.tags {
        body.insert("tags".into(), Value::Object(tags.clone()));
    }
    if let Some(ct) = &v.content_type {
        body.insert("contentType".into(), json!(ct));
    }
    Value::Object(body)
}

/// Answers one version; a disabled one is 403 as in the service.
fn answer(inner: &Inner, name: &str, v: &Version) -> Response {
    if !v.enabled {
        let body = json!({ "error": {
            "code": "Forbidden",
            "message": "Operation get is not allowed on a disabled secret.",
            "innererror": { "code": "SecretDisabled" },
        }});
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    Json(render(inner, name, v, true)).into_response()
}

/// `GET /secrets/{name}/` (trailing slash: the latest version).
pub(super) async fn get_latest(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    let key = match check_name(&name) {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    inner.stall("GET", &key).await;
    let latest = inner.state().secrets.get(&key).and_then(|vs| vs.last().cloned());
    match latest {
        Some(v) => answer(&inner, &name, &v),
        None => not_found(&name),
    }
}

/// `GET /secrets/{name}/{version}`.
pub(super) async fn get_version(
    State(inner): State<Arc<Inner>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    let key = match check_name(&name) {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    let found = inner.state().secrets.get(&key).and_then(|vs| vs.iter().find(|v| v.id == version).cloned());
    match found {
        Some(v) => answer(&inner, &name, &v),
        None => not_found(&format!("{name}/{version}")),
    }
}

/// `GET /secrets/{name}/versions`: ids and attributes, never values; one page.
pub(super) async fn list_versions(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    let key = match check_name(&name) {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    let st = inner.state();
    // An unknown name lists nothing rather than 404 (what list operations do).
    let items: Vec<Value> =
        st.secrets.get(&key).map(|vs| vs.iter().map(|v| render(&inner, &name, v, false)).collect()).unwrap_or_default();
    Json(json!({ "value": items, "nextLink": null })).into_response()
}

fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BadParameter", message)
}

/// 403 as Key Vault answers a caller without the role for `message`'s action.
fn forbidden(message: &str) -> Response {
    let body = json!({ "error": {
        "code": "Forbidden",
        "message": message,
        "innererror": { "code": "ForbiddenByRbac" },
    }});
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

/// The request's JSON object (Content-Type `application/json`), with no member outside
/// `allowed`.
fn json_object(headers: &HeaderMap, body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, Response> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json_type {
        return Err(bad("Content-Type must be application/json."));
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("The request body is not a valid JSON object."));
    };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(&format!("Unknown property {k}.")));
    }
    Ok(map)
}

/// What PUT and PATCH may set besides the value, each `None` when not sent.
struct Properties {
    content_type: Option<String>,
    tags: Option<Map<String, Value>>,
    enabled: Option<bool>,
    nbf: Option<i64>,
    exp: Option<i64>,
}

/// The optional `contentType`, `tags` and `attributes` of a body, checked; read-only
/// attributes the SDK never sends (created, updated, recovery*) are refused.
fn properties(map: &Map<String, Value>) -> Result<Properties, Response> {
    let content_type = match map.get("contentType") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("Property contentType must be a string.")),
    };
    let tags = match map.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Object(t)) if t.len() <= MAX_TAGS && t.values().all(Value::is_string) => Some(t.clone()),
        Some(_) => return Err(bad("Property tags must be an object of at most 15 string values.")),
    };
    let no_attributes = Map::new();
    let attrs = match map.get("attributes") {
        None | Some(Value::Null) => &no_attributes,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("Property attributes must be an object.")),
    };
    if let Some(k) = attrs.keys().find(|k| !["enabled", "nbf", "exp"].contains(&k.as_str())) {
        return Err(bad(&format!("Property attributes.{k} cannot be set.")));
    }
    let enabled = match attrs.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(bad("Property attributes.enabled must be a boolean.")),
    };
    let time = |k: &str| match attrs.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| bad(&format!("Property attributes.{k} must be unix seconds."))),
    };
    Ok(Properties { content_type, tags, enabled, nbf: time("nbf")?, exp: time("exp")? })
}

/// `PUT /secrets/{name}` with `{"value", "contentType"?, "tags"?, "attributes"?}` → a new version.
pub(super) async fn set(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = match check_name(&name) {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    inner.stall("PUT", &key).await;
    if inner.state().deny_writes {
        return forbidden(
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny \
             assignments or role definitions were changed recently, please observe propagation time.\r\n\
             Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'\r\nAssignment: (not found)",
        );
    }
    let map = match json_object(&headers, &body, &["value", "contentType", "tags", "attributes"]) {
        Ok(m) => m,
        Err(resp) => return resp,
    };
    let Some(Value::String(value)) = map.get("value") else {
        return bad("Property value is required and must be a string.");
    };
    if value.len() > MAX_VALUE_BYTES {
        return bad("The secret value exceeds the maximum size of 25 KB.");
    }
    let p = match properties(&map) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let v = new_version(value.clone(), p.content_type, p.tags, (p.enabled.unwrap_or(true), p.nbf, p.exp));
    inner.state().secrets.entry(key).or_default().push(v.clone());
    Json(render(&inner, &name, &v, true)).into_response()
}

/// `PATCH /secrets/{name}/{version}` with `{"contentType"?, "attributes"?, "tags"?}`: changes
/// only what is sent; the value cannot change.
pub(super) async fn update(
    State(inner): State<Arc<Inner>>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = match check_name(&name) {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    if inner.state().deny_writes {
        return forbidden(
            "Caller is not authorized to perform action on resource.\r\nAction: \
             'Microsoft.KeyVault/vaults/secrets/update/action'\r\nAssignment: (not found)",
        );
    }
    let p = match json_object(&headers, &body, &["contentType", "tags", "attributes"]).and_then(|m| properties(&m)) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let updated = {
        let mut st = inner.state();
        let Some(v) = st.secrets.get_mut(&key).and_then(|vs| vs.iter_mut().find(|v| v.id == version)) else {
            return not_found(&format!("{name}/{version}"));
        };
        if let Some(ct) = p.content_type {
            v.content_type = Some(ct);
        }
        if let Some(t) = p.tags {
            v.tags = Some(t);
        }
        if let Some(e) = p.enabled {
            v.enabled = e;
        }
        if let Some(nbf) = p.nbf {
            v.nbf = Some(nbf);
        }
        if let Some(exp) = p.exp {
            v.exp = Some(exp);
        }
        v.clone()
    };
    // The service answers the secret bundle without its value.
    Json(render(&inner, &name, &updated, false)).into_response()
}
