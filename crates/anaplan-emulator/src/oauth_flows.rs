//! The two grants that start a refresh-token chain (reference §2.1-§2.4): the
//! device grant (RFC 8628) for [`Emulator::device_client_id`], which has no
//! secret, and the authorization-code grant for [`Emulator::client_id`].
//! Each client is made for one grant type, as in Anaplan.
//!
//! `POST /oauth/device/code` (JSON or form: `client_id`, `scope`) → 200
//! `{device_code, user_code, verification_uri, verification_uri_complete,
//! expires_in: 900, interval: 1}`. The auth-code client → 400 `unauthorized_client`;
//! unknown client or one sending a secret → 401 `invalid_client`.
//!
//! `POST /oauth/token`, grant `urn:ietf:params:oauth:grant-type:device_code`
//! (`device_code`, `client_id`): unknown or redeemed code → 400 `invalid_grant`;
//! expired → 400 `expired_token`; polled sooner than `interval` after the previous
//! poll → 400 `slow_down` (and the interval grows by 5 s, RFC 8628 §3.5);
//! denied → 400 `access_denied`; not yet approved → 400 `authorization_pending`;
//! approved → 200 tokens once.
//!
//! Grant `authorization_code` (`code`, `client_id`, `client_secret`, `redirect_uri`):
//! device client → 400 `unauthorized_client`; bad secret → 401 `invalid_client`;
//! unknown, used or expired code, or a `redirect_uri` differing from the
//! authorize request → 400 `invalid_grant`.
//!
//! A `scope` without `offline_access` yields no refresh token. Otherwise the
//! refresh token starts a new chain (see [`Emulator::chain_starts`]) usable
//! with the refresh grant by the same client only.

use super::auth::{OAuthError, check_client, no_store, parse_params, reject_authorization_header, token_answer};
use super::{Emulator, EmulatorState, Inner};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The device grant's `grant_type`.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Polling interval the emulator announces (Anaplan: 5 s; 1 s keeps tests fast).
pub const DEVICE_INTERVAL: Duration = Duration::from_secs(1);
/// Lifetime of a device code, as Anaplan's `expires_in`.
pub const DEVICE_CODE_TTL: Duration = Duration::from_secs(900);
/// Lifetime of an authorization code.
const AUTH_CODE_TTL: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

struct Device {
    device_code: String,
    user_code: String,
    scope: Scope,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    status: DeviceStatus,
}

struct AuthCode {
    redirect_uri: String,
    scope: Scope,
    expires_at: Instant,
    used: bool,
}

/// Granted scope and whether it includes `offline_access`.
#[derive(Clone)]
struct Scope {
    granted: String,
    offline: bool,
}

impl Scope {
    /// Anaplan silently drops `profile` and keeps openid/email/offline_access.
    fn from_request(requested: &str) -> Scope {
        let asked: Vec<&str> = requested.split_whitespace().collect();
        let kept: Vec<&str> = ["openid", "email", "offline_access"].into_iter().filter(|s| asked.contains(s)).collect();
        Scope { granted: kept.join(" "), offline: asked.contains(&"offline_access") }
    }
}

/// Device codes, authorization codes, allowed callbacks and chain starts.
#[derive(Default)]
pub(super) struct FlowState {
    devices: Vec<Device>,
    codes: HashMap<String, AuthCode>,
    pub(super) redirect_uris: Vec<String>,
    /// Loopback callbacks registered by [`Emulator::allow_loopback_redirect_uri`] (demo and
    /// tests only: Anaplan refuses them).
    loopback_redirect_uris: Vec<String>,
    chain_starts: Vec<String>,
}

/// `XXXX-XXXX` → `XXXXXXXX`, so `approve_device` accepts either spelling.
fn normalize_user_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// True for hosts a browser callback would reach on the user's own machine.
fn is_local(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        None => true,
    }
}

/// Why a simulated user action (approving a device code, authorizing) was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FlowError(String);

impl Emulator {
    /// Client id of the device-grant client (32 lowercase hex; it has no secret).
    pub fn device_client_id(&self) -> String {
        self.inner.device_client_id.clone()
    }

    /// First refresh token of every chain, oldest first: the initial one, then
    /// one per device or authorization-code grant that issued a refresh token.
    pub fn chain_starts(&self) -> Vec<String> {
        let st = self.inner.state();
        std::iter::once(self.inner.initial_refresh_token.clone()).chain(st.flows.chain_starts.iter().cloned()).collect()
    }

    /// User codes of device requests that are pending and not expired.
    pub fn pending_user_codes(&self) -> Vec<String> {
        let now = Instant::now();
        let st = self.inner.state();
        let pending = st.flows.devices.iter().filter(|d| d.status == DeviceStatus::Pending && now < d.expires_at);
        pending.map(|d| d.user_code.clone()).collect()
    }

    /// The user enters `user_code` at the verification page and approves.
    /// Errors for an unknown, expired or already decided code.
    pub fn approve_device(&self, user_code: &str) -> Result<(), FlowError> {
        self.decide_device(user_code, DeviceStatus::Approved)
    }

    /// The user enters `user_code` and denies: the next poll gets `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> Result<(), FlowError> {
        self.decide_device(user_code, DeviceStatus::Denied)
    }

    fn decide_device(&self, user_code: &str, decision: DeviceStatus) -> Result<(), FlowError> {
        let wanted = normalize_user_code(user_code);
        let mut st = self.inner.state();
        let device = st
            .flows
            .devices
            .iter_mut()
            .find(|d| normalize_user_code(&d.user_code) == wanted)
            .ok_or_else(|| FlowError(format!("unknown user code {user_code}")))?;
        if Instant::now() >= device.expires_at {
            return Err(FlowError(format!("user code {user_code} has expired")));
        }
        if device.status != DeviceStatus::Pending {
            return Err(FlowError(format!("user code {user_code} was already used")));
        }
        device.status = decision;
        Ok(())
    }

    /// Every device code issued so far is expired from now on.
    pub fn expire_device_codes(&self) {
        let now = Instant::now();
        for d in self.inner.state().flows.devices.iter_mut() {
            d.expires_at = now;
        }
    }

    /// Registers a callback URL of the authorization-code client. Panics on a
    /// localhost or loopback URL: Anaplan refuses those (a test bug).
    pub fn allow_redirect_uri(&self, uri: &str) {
        let url = url::Url::parse(uri).expect("allow_redirect_uri: not a URL");
        assert!(!is_local(&url), "Anaplan does not accept localhost callback URLs: {uri}");
        self.inner.state().flows.redirect_uris.push(uri.to_string());
    }

    /// Registers a loopback callback URL (`http://127.0.0.1:<port>/...`), which Anaplan
    /// refuses: a departure for `demo` and the tests only, so that a handler on this machine
    /// can receive the browser's redirect (`onboard-callback`). Every other loopback callback
    /// stays refused. Panics on a URL that is not loopback (use [`Emulator::allow_redirect_uri`]).
    pub fn allow_loopback_redirect_uri(&self, uri: &str) {
        let url = url::Url::parse(uri).expect("allow_loopback_redirect_uri: not a URL");
        assert!(is_local(&url), "not a loopback URL (use allow_redirect_uri): {uri}");
        let mut st = self.inner.state();
        st.flows.redirect_uris.push(uri.to_string());
        st.flows.loopback_redirect_uris.push(uri.to_string());
    }

    /// Simulates a user who opens `authorize_url`, logs in and approves. Checks
    /// host, path (`/auth/authorize` or `/auth/prelogin`), `response_type=code`,
    /// `client_id`, a registered non-local `redirect_uri`, `scope` with
    /// `offline_access` and a `state`; returns `<redirect_uri>?code=..&state=..`.
    pub fn authorize(&self, authorize_url: &str) -> Result<String, FlowError> {
        let url = url::Url::parse(authorize_url).map_err(|_| FlowError("authorize URL does not parse".into()))?;
        let base = url::Url::parse(&self.inner.base_url).map_err(|e| FlowError(e.to_string()))?;
        if url.origin() != base.origin() {
            return Err(FlowError(format!("authorize URL {authorize_url} is not on the OAuth host {base}")));
        }
        if !["/auth/authorize", "/auth/prelogin"].contains(&url.path()) {
            return Err(FlowError(format!(
                "authorize URL path must be /auth/authorize or /auth/prelogin, not {}",
                url.path()
            )));
        }
        let mut q: HashMap<String, String> = HashMap::new();
        for (k, v) in url.query_pairs().into_owned() {
            if q.insert(k.clone(), v).is_some() {
                return Err(FlowError(format!("parameter {k} is repeated")));
            }
        }
        let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
        if get("response_type") != Some("code") {
            return Err(FlowError("response_type must be code".into()));
        }
        match get("client_id") {
            Some(c) if c == self.inner.client_id => {}
            Some(c) if c == self.inner.device_client_id => {
                return Err(FlowError("the device client cannot use the code grant".into()));
            }
            _ => return Err(FlowError("unknown client_id".into())),
        }
        let redirect_uri = get("redirect_uri").ok_or_else(|| FlowError("redirect_uri is missing".into()))?;
        let mut target = url::Url::parse(redirect_uri).map_err(|_| FlowError("redirect_uri is not a URL".into()))?;
        let opted_in = self.inner.state().flows.loopback_redirect_uris.iter().any(|u| u == redirect_uri);
        if is_local(&target) && !opted_in {
            return Err(FlowError(format!("Anaplan does not accept localhost callback URLs: {redirect_uri}")));
        }
        let scope = Scope::from_request(get("scope").unwrap_or_default());
        if !scope.offline {
            return Err(FlowError("scope must include offline_access, or no refresh token is issued".into()));
        }
        let state = get("state").ok_or_else(|| FlowError("state is missing".into()))?;
        let code = format!("ac-{}", uuid::Uuid::new_v4().simple());
        let mut st = self.inner.state();
        if !st.flows.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err(FlowError(format!("redirect_uri {redirect_uri} is not registered for the client")));
        }
        let entry = AuthCode {
            redirect_uri: redirect_uri.to_string(),
            scope,
            expires_at: Instant::now() + AUTH_CODE_TTL,
            used: false,
        };
        st.flows.codes.insert(code.clone(), entry);
        st.issued_secrets.push(code.clone());
        target.query_pairs_mut().append_pair("code", &code).append_pair("state", state);
        Ok(target.to_string())
    }
}

/// The redirect URI registered on the demo tenant's authorization-code client.
pub const DEMO_REDIRECT_URI: &str = "https://example.com/anaplan-callback";

/// `GET /auth/authorize` or `/auth/prelogin` opened in a browser: the demo user is signed
/// in and approves at once, so the answer is the redirect to the client's callback with
/// `code` and `state` (what `auth login --redirect-uri` asks to paste). A request that
/// Anaplan would refuse is a 400 saying why.
pub async fn authorize_page(State(inner): State<Arc<Inner>>, uri: axum::http::Uri) -> Response {
    let url = format!("{}{}", inner.base_url, uri.path_and_query().map(|p| p.as_str()).unwrap_or(""));
    match (Emulator { inner }).authorize(&url) {
        Ok(target) => (StatusCode::FOUND, [(axum::http::header::LOCATION, target)]).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("Anaplan would refuse this sign-in: {e}\n")).into_response(),
    }
}

/// `GET /activate?user_code=XXXX-XXXX`, the device grant's verification page: the demo user
/// is signed in and approves the code at once.
pub async fn activate_page(
    State(inner): State<Arc<Inner>>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let Some(code) = q.get("user_code").filter(|c| !c.trim().is_empty()) else {
        return (StatusCode::BAD_REQUEST, "Open the verification_uri_complete address (it carries user_code).\n")
            .into_response();
    };
    match (Emulator { inner }).approve_device(code) {
        Ok(()) => (StatusCode::OK, "Approved. Return to your terminal.\n").into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}

/// Starts a new refresh-token chain for `client_id` and records it.
fn start_chain(st: &mut EmulatorState, client_id: &str) -> String {
    let token = super::auth::new_refresh_token();
    super::auth::register_refresh_token(st, &token, client_id, None);
    st.issued_secrets.push(token.clone());
    st.flows.chain_starts.push(token.clone());
    token
}

/// Tokens for a successful grant; a refresh token only with `offline_access`.
fn grant_tokens(inner: &Inner, st: &mut EmulatorState, client_id: &str, scope: &Scope) -> Value {
    let refresh = scope.offline.then(|| start_chain(st, client_id));
    token_answer(inner, st, refresh.as_deref(), &scope.granted)
}

fn oauth(error: &'static str, description: &str) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, error, description)
}

/// `POST /oauth/device/code`.
pub async fn device_code(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        reject_authorization_header(&headers)?;
        let params = parse_params(&headers, &body)?;
        let client_id =
            params.get("client_id").ok_or_else(|| OAuthError::invalid_request("Missing parameter: client_id"))?;
        if *client_id == inner.client_id {
            return Err(OAuthError::unauthorized_client());
        }
        if *client_id != inner.device_client_id || params.contains_key("client_secret") {
            return Err(OAuthError::invalid_client());
        }
        let user_code = uuid::Uuid::new_v4().simple().to_string()[..8].to_ascii_uppercase();
        let device = Device {
            device_code: format!("dc-{}", uuid::Uuid::new_v4().simple()),
            user_code: format!("{}-{}", &user_code[..4], &user_code[4..]),
            scope: Scope::from_request(params.get("scope").map(String::as_str).unwrap_or_default()),
            expires_at: Instant::now() + DEVICE_CODE_TTL,
            interval: DEVICE_INTERVAL,
            last_poll: None,
            status: DeviceStatus::Pending,
        };
        let activate = format!("{}/activate", inner.base_url);
        let body = json!({
            "device_code": device.device_code,
            "user_code": device.user_code,
            "verification_uri": activate,
            "verification_uri_complete": format!("{activate}?user_code={}", device.user_code),
            "expires_in": DEVICE_CODE_TTL.as_secs(),
            "interval": DEVICE_INTERVAL.as_secs(),
        });
        let mut st = inner.state();
        st.issued_secrets.push(device.device_code.clone());
        st.flows.devices.push(device);
        Ok(body)
    })();
    match result {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    }
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
pub(super) fn device_grant(
    inner: &Inner,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Value, OAuthError> {
    reject_authorization_header(headers)?;
    if params.get("client_id") == Some(&inner.client_id) {
        return Err(OAuthError::unauthorized_client());
    }
    let client_id = check_client(inner, params)?;
    let code =
        params.get("device_code").ok_or_else(|| OAuthError::invalid_request("Missing parameter: device_code"))?;
    let mut st = inner.state();
    let now = Instant::now();
    let Some(d) = st.flows.devices.iter_mut().find(|d| d.device_code == *code) else {
        return Err(OAuthError::invalid_grant("Unknown or invalid device code."));
    };
    if d.status == DeviceStatus::Redeemed {
        return Err(OAuthError::invalid_grant("The device code was already used."));
    }
    if now >= d.expires_at {
        return Err(oauth("expired_token", "The device code has expired."));
    }
    let too_soon = d.last_poll.is_some_and(|last| now.duration_since(last) < d.interval);
    d.last_poll = Some(now);
    if too_soon {
        d.interval += Duration::from_secs(5);
        return Err(oauth("slow_down", "Polling too fast; wait the interval between requests."));
    }
    match d.status {
        DeviceStatus::Pending => Err(oauth("authorization_pending", "The user has not yet approved the request.")),
        DeviceStatus::Denied => Err(oauth("access_denied", "The user denied the request.")),
        _ => {
            d.status = DeviceStatus::Redeemed;
            let scope = d.scope.clone();
            Ok(grant_tokens(inner, &mut st, &client_id, &scope))
        }
    }
}

/// `grant_type=authorization_code`.
pub(super) fn code_grant(
    inner: &Inner,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Value, OAuthError> {
    reject_authorization_header(headers)?;
    if params.get("client_id") == Some(&inner.device_client_id) {
        return Err(OAuthError::unauthorized_client());
    }
    let client_id = check_client(inner, params)?;
    let missing = |k: &str| OAuthError::invalid_request(format!("Missing parameter: {k}"));
    let code = params.get("code").ok_or_else(|| missing("code"))?;
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| missing("redirect_uri"))?;
    let mut st = inner.state();
    let Some(entry) = st.flows.codes.get_mut(code) else {
        return Err(OAuthError::invalid_grant("Invalid authorization code."));
    };
    if entry.used {
        return Err(OAuthError::invalid_grant("The authorization code was already used."));
    }
    if Instant::now() >= entry.expires_at {
        return Err(OAuthError::invalid_grant("The authorization code has expired."));
    }
    if entry.redirect_uri != *redirect_uri {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request."));
    }
    entry.used = true;
    let scope = entry.scope.clone();
    Ok(grant_tokens(inner, &mut st, &client_id, &scope))
}
