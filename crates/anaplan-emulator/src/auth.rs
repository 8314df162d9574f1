//! Authentication: the OAuth token endpoint (reference §2.3/§2.5/§2.7), the
//! legacy token service (§3) and the `AnaplanAuthToken` check for `/2/0`.

use super::util::{base64_decode, now_millis};
use super::{AccessToken, EmulatorState, Inner, RefreshRecord};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// A fresh random refresh token.
pub fn new_refresh_token() -> String {
    format!("rt-{}", uuid::Uuid::new_v4().simple())
}

/// Makes `token` a live refresh token of `client_id`, issued or last used at `used` (now
/// when `None`).
pub(super) fn register_refresh_token(
    st: &mut EmulatorState,
    token: &str,
    client_id: &str,
    used: Option<std::time::SystemTime>,
) {
    st.live_refresh_tokens.insert(token.to_string(), client_id.to_string());
    st.refresh_token_used.insert(token.to_string(), used.unwrap_or_else(std::time::SystemTime::now));
}

/// Forgets a refresh token (spent, or dead of old age).
fn drop_refresh_token(st: &mut EmulatorState, token: &str) {
    st.live_refresh_tokens.remove(token);
    st.refresh_token_used.remove(token);
}

/// True when `token` has gone unused for longer than the client's refresh-token lifetime.
fn refresh_token_too_old(st: &EmulatorState, token: &str) -> bool {
    let Some(lifetime) = st.refresh_token_lifetime else { return false };
    st.refresh_token_used.get(token).and_then(|used| used.elapsed().ok()).is_some_and(|idle| idle > lifetime)
}

/// Issues an access token of the integration user valid for the configured TTL and records
/// it as a secret.
pub(super) fn issue_access_token(inner: &Inner, st: &mut EmulatorState) -> String {
    issue_access_token_as(inner, st, 0)
}

/// [`issue_access_token`] for seeded user `user` ([`super::seed::scim_user`]).
pub(super) fn issue_access_token_as(inner: &Inner, st: &mut EmulatorState, user: usize) -> String {
    let token = format!("at-{}", uuid::Uuid::new_v4().simple());
    st.access_tokens.insert(
        token.clone(),
        AccessToken {
            expires_at: Instant::now() + inner.cfg.access_token_ttl,
            token_id: uuid::Uuid::new_v4().hyphenated().to_string(),
            refresh_token_id: uuid::Uuid::new_v4().hyphenated().to_string(),
            user,
        },
    );
    st.issued_secrets.push(token.clone());
    token
}

/// The seeded user a live `AnaplanAuthToken` belongs to.
pub(super) fn token_user(inner: &Inner, headers: &HeaderMap) -> Option<usize> {
    let token = anaplan_token(headers)?;
    let st = inner.state();
    st.access_tokens.get(token).filter(|t| Instant::now() < t.expires_at).map(|t| t.user)
}

/// Consumes one pending token-service fault, if any: the answer in the service's own error
/// shape, with `Retry-After` when one was set.
pub(super) fn take_token_fault(inner: &Inner, path: &str) -> Option<Response> {
    let (status, retry_after) = {
        let mut st = inner.state();
        let fail = &mut st.token_faults.fail;
        if fail.0 == 0 {
            return None;
        }
        fail.0 -= 1;
        (StatusCode::from_u16(fail.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), fail.2)
    };
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut resp = if path.starts_with("/oauth/") {
        // RFC 6749's code for a server that cannot serve now; an OAuth client that reads only
        // the body would take it for a refusal.
        let body = json!({ "error": "temporarily_unavailable", "error_description": reason });
        (status, Json(body)).into_response()
    } else {
        let body = json!({ "status": "FAILURE_TEMPORARILY_UNAVAILABLE", "statusMessage": reason });
        (status, Json(body)).into_response()
    };
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(resp)
}

/// The token of an `Authorization: AnaplanAuthToken <token>` header.
/// Any other scheme (Bearer included) counts as absent.
fn anaplan_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // The Integration API and CloudWorks take the token under either scheme (both
    // live-confirmed in the description's READMEs).
    let token = value.strip_prefix("AnaplanAuthToken ").or_else(|| value.strip_prefix("Bearer "))?.trim();
    (!token.is_empty()).then_some(token)
}

/// True when the token is known and not expired at this instant.
fn token_live(st: &EmulatorState, token: &str) -> bool {
    st.access_tokens.get(token).is_some_and(|t| Instant::now() < t.expires_at)
}

/// Gate for every `/2/0` request: a live token under the `AnaplanAuthToken` or `Bearer`
/// scheme.
pub fn api_token_ok(inner: &Inner, headers: &HeaderMap) -> bool {
    anaplan_token(headers).is_some_and(|t| token_live(&inner.state(), t))
}

// ---------------------------------------------------------------- OAuth

/// An OAuth error answer: `{"error":..,"error_description":..}`.
pub(super) struct OAuthError {
    status: StatusCode,
    pub(super) error: &'static str,
    description: String,
}

impl OAuthError {
    pub(super) fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into() }
    }
    pub(super) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    pub(super) fn invalid_client() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed.")
    }
    pub(super) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
    /// A known client using a grant it was not created for (one grant type per client).
    pub(super) fn unauthorized_client() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "The client is not authorized to use this grant type.",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        no_store((self.status, Json(body)).into_response())
    }
}

/// Token answers must not be cached (RFC 6749 §5.1).
pub(super) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// Reads the token request body: JSON object (Anaplan's documented form) or
/// `application/x-www-form-urlencoded` (what oauthlib sends). Only string
/// values are accepted and a parameter may appear once (RFC 6749 §3.2).
pub(super) fn parse_params(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let pairs: Vec<(String, String)> = match content_type.as_str() {
        "application/json" => {
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
                return Err(OAuthError::invalid_request("The request body must be a JSON object."));
            };
            let mut pairs = Vec::new();
            for (k, v) in map {
                let Value::String(s) = v else {
                    return Err(OAuthError::invalid_request(format!("Parameter {k} must be a string.")));
                };
                pairs.push((k, s));
            }
            pairs
        }
        "application/x-www-form-urlencoded" => url::form_urlencoded::parse(body).into_owned().collect(),
        _ => {
            return Err(OAuthError::invalid_request(
                "Content-Type must be application/json or application/x-www-form-urlencoded.",
            ));
        }
    };
    let mut params = HashMap::new();
    for (k, v) in pairs {
        if params.insert(k.clone(), v).is_some() {
            return Err(OAuthError::invalid_request(format!("Parameter {k} is repeated.")));
        }
    }
    Ok(params)
}

/// Client credentials belong in the body; an Authorization header is refused.
pub(super) fn reject_authorization_header(headers: &HeaderMap) -> Result<(), OAuthError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(OAuthError::invalid_request(
            "Client credentials must be sent in the request body, not in an Authorization header.",
        ));
    }
    Ok(())
}

/// `POST /oauth/token`. Each grant type has its own function.
pub async fn oauth_token(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match parse_params(&headers, &body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let result = match params.get("grant_type").map(String::as_str) {
        None => Err(OAuthError::invalid_request("Missing parameter: grant_type")),
        Some("refresh_token") => {
            let granted = refresh_grant(&inner, &headers, &params);
            let delay = {
                let mut st = inner.state();
                let d = &mut st.token_faults.delay;
                (d.0 > 0).then(|| {
                    d.0 -= 1;
                    d.1
                })
            };
            if let Some(d) = delay {
                // The chain has rotated; the answer is slow to arrive.
                tokio::time::sleep(d).await;
            }
            granted
        }
        Some("authorization_code") => super::oauth_flows::code_grant(&inner, &headers, &params),
        Some(super::oauth_flows::DEVICE_GRANT) => super::oauth_flows::device_grant(&inner, &headers, &params),
        Some(other) => reject_authorization_header(&headers).and(Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Grant type '{other}' is not supported."),
        ))),
    };
    match result {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

/// `grant_type=refresh_token`: checks client, then the token; logs the attempt.
fn refresh_grant(inner: &Inner, headers: &HeaderMap, params: &HashMap<String, String>) -> Result<Value, OAuthError> {
    let presented = params.get("refresh_token").cloned().unwrap_or_default();
    let mut st = inner.state();
    let outcome = check_refresh(inner, &mut st, headers, params, &presented);
    st.refresh_log.push(RefreshRecord {
        presented,
        issued: outcome.as_ref().ok().map(|(_, rt)| rt.clone()),
        error: outcome.as_ref().err().map(|e| e.error.to_string()),
    });
    outcome.map(|(body, _)| body)
}

fn check_refresh(
    inner: &Inner,
    st: &mut EmulatorState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    presented: &str,
) -> Result<(Value, String), OAuthError> {
    reject_authorization_header(headers)?;
    let client_id = check_client(inner, params)?;
    if !params.contains_key("refresh_token") {
        return Err(OAuthError::invalid_request("Missing parameter: refresh_token"));
    }
    // A refresh token only works for the client it was issued to.
    if st.live_refresh_tokens.get(presented) != Some(&client_id) {
        return Err(OAuthError::invalid_grant("Unknown or invalid refresh token."));
    }
    if refresh_token_too_old(st, presented) {
        // Unused for longer than the client's refresh-token lifetime: the user must sign in
        // again. Anaplan answers it as any other dead refresh token.
        drop_refresh_token(st, presented);
        return Err(OAuthError::invalid_grant("Unknown or invalid refresh token."));
    }
    let refresh_token = if inner.cfg.rotate_refresh_tokens {
        // Rotation: the presented token is spent the moment a new one exists.
        drop_refresh_token(st, presented);
        let next = new_refresh_token();
        register_refresh_token(st, &next, &client_id, None);
        st.issued_secrets.push(next.clone());
        next
    } else {
        // The same token keeps working; its idle time starts again.
        register_refresh_token(st, presented, &client_id, None);
        presented.to_string()
    };
    let body = token_answer(inner, st, Some(&refresh_token), OFFLINE_SCOPE);
    Ok((body, refresh_token))
}

/// Granted scope when `offline_access` was asked for (Anaplan drops `profile`).
pub(super) const OFFLINE_SCOPE: &str = "openid email offline_access";

/// Authenticates the client of a token request and returns its id: the
/// authorization-code client must send its secret; the device client has none
/// and must not send one.
pub(super) fn check_client(inner: &Inner, params: &HashMap<String, String>) -> Result<String, OAuthError> {
    let client_id =
        params.get("client_id").ok_or_else(|| OAuthError::invalid_request("Missing parameter: client_id"))?;
    let secret = params.get("client_secret");
    let ok = if *client_id == inner.client_id {
        secret == Some(&inner.client_secret)
    } else {
        *client_id == inner.device_client_id && secret.is_none()
    };
    if !ok {
        return Err(OAuthError::invalid_client());
    }
    Ok(client_id.clone())
}

/// The success body of every grant: a new access token and id token, plus
/// `refresh_token` when the grant yields one (scope `offline_access`).
pub(super) fn token_answer(inner: &Inner, st: &mut EmulatorState, refresh_token: Option<&str>, scope: &str) -> Value {
    let access_token = issue_access_token(inner, st);
    let id_token = format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    st.issued_secrets.push(id_token.clone());
    // Key order of the recorded sample (serde_json keeps insertion order here).
    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("id_token".into(), json!(id_token));
    if let Some(rt) = refresh_token {
        body.insert("refresh_token".into(), json!(rt));
    }
    body.insert("scope".into(), json!(scope));
    body.insert("expires_in".into(), json!(inner.cfg.access_token_ttl.as_secs()));
    body.insert("token_type".into(), json!("Bearer"));
    Value::Object(body)
}

// ---------------------------------------------------------------- legacy

/// Legacy error: `{"status":"FAILURE_…","statusMessage":…}`.
fn legacy_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "status": code, "statusMessage": message }))).into_response()
}

pub(super) fn bad_header() -> Response {
    legacy_error(StatusCode::BAD_REQUEST, "FAILURE_BAD_HEADER", "Invalid header. Verify the header.")
}

pub(super) fn bad_credential(message: &str) -> Response {
    legacy_error(StatusCode::UNAUTHORIZED, "FAILURE_BAD_CREDENTIAL", message)
}

/// The legacy success body with `tokenInfo` for `token`.
pub(super) fn legacy_body(
    inner: &Inner,
    st: &EmulatorState,
    token: &str,
    message: &str,
) -> serde_json::Map<String, Value> {
    let mut body = serde_json::Map::new();
    body.insert("meta".into(), json!({ "validationUrl": format!("{}/token/validate", inner.base_url) }));
    body.insert("status".into(), json!("SUCCESS"));
    body.insert("statusMessage".into(), json!(message));
    if let Some(t) = st.access_tokens.get(token) {
        let left = t.expires_at.saturating_duration_since(Instant::now());
        body.insert(
            "tokenInfo".into(),
            json!({
                "tokenId": t.token_id,
                "tokenValue": token,
                "expiresAt": now_millis() + left.as_millis() as u64,
                "refreshTokenId": t.refresh_token_id,
            }),
        );
    }
    body
}

/// The body of a token answer (`/token/authenticate`, `/token/refresh`): [`legacy_body`]
/// with a new `refreshToken` in `tokenInfo`. Anaplan's "API updates" page adds this
/// optional field to token answers without saying where, nor how to use it; the emulator
/// sends one so clients show they tolerate it, and accepts it nowhere.
pub(super) fn legacy_token_answer(
    inner: &Inner,
    st: &mut EmulatorState,
    token: &str,
    message: &str,
) -> serde_json::Map<String, Value> {
    let mut body = legacy_body(inner, st, token, message);
    if let Some(Value::Object(info)) = body.get_mut("tokenInfo") {
        let refresh = format!("lrt-{}", uuid::Uuid::new_v4().simple());
        info.insert("refreshToken".into(), json!(refresh));
        st.issued_secrets.push(refresh);
    }
    body
}

/// `POST /token/authenticate` with `Authorization: Basic base64(user:pass)` → 201.
/// A missing or undecodable header is 400 FAILURE_BAD_HEADER; wrong credentials,
/// or no user configured, 401. `CACertificate` is handled in `cert_auth.rs`.
pub async fn legacy_authenticate(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let scheme = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.split_once(' '));
    if let Some(("CACertificate", cert_b64)) = scheme {
        return super::cert_auth::authenticate(&inner, &headers, cert_b64.trim(), &body);
    }
    let Some(b64) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "))
    else {
        return bad_header();
    };
    let Some(decoded) = base64_decode(b64.trim()).and_then(|b| String::from_utf8(b).ok()) else {
        return bad_header();
    };
    let Some((user, pass)) = decoded.split_once(':') else {
        return bad_header();
    };
    let mut st = inner.state();
    let ok = st.basic_user.as_ref().is_some_and(|(u, p)| u == user && p == pass);
    if !ok {
        return bad_credential("Invalid username or password.");
    }
    let token = issue_access_token(&inner, &mut st);
    let body = legacy_token_answer(&inner, &mut st, &token, "Login successful");
    (StatusCode::CREATED, Json(Value::Object(body))).into_response()
}

/// Resolves the live token of a `/token/*` request or the legacy error answer.
fn legacy_token<'a>(st: &EmulatorState, headers: &'a HeaderMap) -> Result<&'a str, Response> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(bad_header)?;
    // Bearer is rejected by the token service (reference §2.6).
    let token = value.strip_prefix("AnaplanAuthToken ").ok_or_else(bad_header)?.trim();
    if !token_live(st, token) {
        return Err(bad_credential("Token is invalid or has expired."));
    }
    Ok(token)
}

/// `POST /token/refresh` → 200, same `tokenValue`, new `expiresAt`.
pub async fn legacy_refresh(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let mut st = inner.state();
    let token = match legacy_token(&st, &headers) {
        Ok(t) => t.to_string(),
        Err(resp) => return resp,
    };
    if let Some(t) = st.access_tokens.get_mut(&token) {
        t.expires_at = Instant::now() + inner.cfg.access_token_ttl;
        t.refresh_token_id = uuid::Uuid::new_v4().hyphenated().to_string();
    }
    Json(Value::Object(legacy_token_answer(&inner, &mut st, &token, "Token refreshed"))).into_response()
}

/// `GET /token/validate` → 200 with `tokenInfo` and `userInfo`.
pub async fn legacy_validate(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let st = inner.state();
    let token = match legacy_token(&st, &headers) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let mut body = legacy_body(&inner, &st, token, "Token validated");
    // The live-tested description's validate answer names the token by `tokenId` and
    // `expiresAt` only: no token value or refresh id.
    if let Some(info) = body.get_mut("tokenInfo").and_then(Value::as_object_mut) {
        info.retain(|k, _| k == "tokenId" || k == "expiresAt");
    }
    let user = super::seed::scim_user(st.access_tokens.get(token).map(|t| t.user).unwrap_or(0));
    body.insert(
        "userInfo".into(),
        json!({
            "userGuid": user.id,
            "userId": user.user_name,
            "customerGuid": super::seed::CUSTOMER_ID,
        }),
    );
    Json(Value::Object(body)).into_response()
}

/// `POST /token/logout` → 204; the token is unknown afterwards.
pub async fn legacy_logout(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let mut st = inner.state();
    let token = match legacy_token(&st, &headers) {
        Ok(t) => t.to_string(),
        Err(resp) => return resp,
    };
    st.access_tokens.remove(&token);
    StatusCode::NO_CONTENT.into_response()
}
