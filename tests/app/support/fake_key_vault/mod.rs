#![allow(clippy::result_large_err)]
//! A strict fake of the Azure Key Vault secrets REST API, served over real TLS.
//!
//! At start it makes a throwaway CA and a certificate for `localhost` and
//! `127.0.0.1`, writes the CA to [`FakeKeyVault::ca_pem_path`] and serves HTTPS
//! on `127.0.0.1:<random port>`. A child process using the official
//! `azure_security_keyvault_secrets` client trusts it with
//! `SSL_CERT_FILE=<ca_pem_path>` (reqwest → rustls-platform-verifier →
//! rustls-native-certs reads that variable on Linux).
//!
//! Auth is that of a real vault: a request without `Authorization` gets 401
//! with `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
//! resource="https://vault.azure.net"` (the SDK's first request carries no
//! token and no body, then it re-sends); `Authorization: Bearer <t>` needs a live
//! token the [`FakeIdentity`] issued for `https://vault.azure.net`.
//!
//! Answers (body `{"error":{"code","message"}}`), checked in this order:
//! - unavailable ([`FakeKeyVault::set_available`]) → 503 `ServiceUnavailable`, `Retry-After: 1`;
//! - no or non-Bearer `Authorization` → 401 `Unauthorized` "AKV10000: Request is missing a
//!   Bearer or PoP token."; unknown, expired or other-audience token → 401 `Unauthorized`
//!   (with the challenge header, as the service sends on every 401);
//! - injected fault ([`FakeKeyVault::fail_next`]) → that status (`Retry-After: 1` on 429/503);
//! - no `api-version` → 400 `BadParameter`; an unknown one → 400 `BadParameter`;
//! - bad secret name (not 1-127 of `[0-9A-Za-z-]`) → 400 `BadParameter`;
//! - `PUT` while [`FakeKeyVault::deny_writes`] → 403 `Forbidden` (innererror `ForbiddenByRbac`);
//!   no JSON Content-Type, bad JSON, no `value`, unknown field, value over 25 KiB, tags not
//!   strings → 400 `BadParameter`;
//! - `PATCH /secrets/{name}/{version}` (update properties): while denying writes → 403;
//!   no JSON Content-Type, bad JSON, `value` or any field but `contentType`, `attributes`,
//!   `tags`, attributes other than `enabled`, `nbf`, `exp` → 400 `BadParameter`; only the
//!   fields sent change;
//! - unknown secret or version → 404 `SecretNotFound`; unknown path → 404 `NotFound`;
//!   wrong method → 405 `MethodNotAllowed`.

mod secrets;
mod tls;

use super::fake_identity::{FakeIdentity, TokenStatus, VAULT_RESOURCE};
use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// API versions the fake accepts (GA versions; the 1.x SDK sends 2025-07-01).
pub const API_VERSIONS: [&str; 8] = ["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"];

/// Handle to a running fake vault; cheap to clone.
#[derive(Clone)]
pub struct FakeKeyVault {
    inner: Arc<Inner>,
}

struct Inner {
    identity: FakeIdentity,
    uri: String,
    ca_pem: String,
    ca_pem_path: PathBuf,
    /// Keeps the CA file alive as long as the server.
    _ca_dir: tempfile::TempDir,
    state: Mutex<VaultState>,
}

/// One version of a secret.
#[derive(Clone)]
struct Version {
    id: String,
    value: String,
    content_type: Option<String>,
    tags: Option<serde_json::Map<String, Value>>,
    /// `enabled`, `nbf`, `exp` as sent (created/updated are added on output).
    enabled: bool,
    nbf: Option<i64>,
    exp: Option<i64>,
    created: u64,
}

struct VaultState {
    /// name (case-insensitive in Key Vault, so stored lowercase) → versions, oldest first.
    secrets: BTreeMap<String, Vec<Version>>,
    available: bool,
    failures: (u32, u16),
    deny_writes: bool,
    requests: Vec<(String, String)>,
    /// (method, lowercase secret name, delay): the next such request waits that long
    /// before it is served, so a test can kill a client in the middle of a refresh.
    stalls: Vec<(&'static str, String, Duration)>,
}

impl Inner {
    /// Waits out a stall set for this request, if any.
    async fn stall(&self, method: &'static str, key: &str) {
        let delay = {
            let mut st = self.state();
            let found = st.stalls.iter().position(|(m, n, _)| *m == method && n == key);
            found.map(|i| st.stalls.remove(i).2)
        };
        match delay {
            // A vault that never answers: nothing is served or stored, however long the
            // client waits.
            Some(Duration::MAX) => std::future::pending::<()>().await,
            Some(d) => tokio::time::sleep(d).await,
            None => {}
        }
    }

    /// A poisoned lock is still usable: the fake must not add a second panic.
    fn state(&self) -> MutexGuard<'_, VaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FakeKeyVault {
    /// Starts a vault that accepts tokens `identity` issued for Key Vault.
    pub async fn start(identity: &FakeIdentity) -> FakeKeyVault {
        let material = tls::make_material();
        let dir = tempfile::tempdir().expect("fake vault: temp dir");
        let ca_pem_path = dir.path().join("fake-key-vault-ca.pem");
        std::fs::write(&ca_pem_path, &material.ca_pem).expect("fake vault: write CA");
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("fake vault: bind 127.0.0.1:0");
        let addr = tcp.local_addr().expect("fake vault: local_addr");
        let inner = Arc::new(Inner {
            identity: identity.clone(),
            uri: format!("https://{addr}/"),
            ca_pem: material.ca_pem,
            ca_pem_path,
            _ca_dir: dir,
            state: Mutex::new(VaultState {
                secrets: BTreeMap::new(),
                available: true,
                failures: (0, 0),
                deny_writes: false,
                requests: Vec::new(),
                stalls: Vec::new(),
            }),
        });
        let listener = tls::TlsListener::new(tcp, material.config);
        let app = router(inner.clone());
        tokio::spawn(async move {
            // The server lives as long as the test's runtime; errors only end it.
            let _ = axum::serve(listener, app).await;
        });
        FakeKeyVault { inner }
    }

    /// The next `method` ("GET" or "PUT") request for secret `name` waits `delay` before it
    /// is served (a PUT is stored only after the wait).
    pub fn stall_next(&self, method: &'static str, name: &str, delay: Duration) {
        self.inner.state().stalls.push((method, name.to_ascii_lowercase(), delay));
    }

    /// The next `method` request for secret `name` hangs: it is never answered, and a PUT is
    /// never stored (a vault whose writes hang).
    pub fn hang_next(&self, method: &'static str, name: &str) {
        self.stall_next(method, name, Duration::MAX);
    }

    /// The vault URL: `https://127.0.0.1:PORT/`.
    pub fn uri(&self) -> String {
        self.inner.uri.clone()
    }

    /// PEM file of the CA that signed the server certificate (for `SSL_CERT_FILE`).
    pub fn ca_pem_path(&self) -> PathBuf {
        self.inner.ca_pem_path.clone()
    }

    /// The same CA as PEM text (e.g. for `reqwest::Certificate::from_pem`).
    pub fn ca_pem(&self) -> String {
        self.inner.ca_pem.clone()
    }

    /// Stores a new version of `name` directly (no auth); returns its version id.
    pub fn set_secret(&self, name: &str, value: &str) -> String {
        let v = secrets::new_version(value.to_string(), None, None, (true, None, None));
        let id = v.id.clone();
        self.inner.state().secrets.entry(name.to_ascii_lowercase()).or_default().push(v);
        id
    }

    /// The latest value of `name`, if any.
    pub fn secret(&self, name: &str) -> Option<String> {
        self.inner.state().secrets.get(&name.to_ascii_lowercase())?.last().map(|v| v.value.clone())
    }

    /// Every value `name` has had, oldest first.
    pub fn versions(&self, name: &str) -> Vec<String> {
        let st = self.inner.state();
        st.secrets
            .get(&name.to_ascii_lowercase())
            .map(|vs| vs.iter().map(|v| v.value.clone()).collect())
            .unwrap_or_default()
    }

    /// (enabled, exp) of every version of `name`, oldest first.
    pub fn version_attributes(&self, name: &str) -> Vec<(bool, Option<i64>)> {
        let st = self.inner.state();
        st.secrets
            .get(&name.to_ascii_lowercase())
            .map(|vs| vs.iter().map(|v| (v.enabled, v.exp)).collect())
            .unwrap_or_default()
    }

    /// Tags of the latest version of `name` (empty when none).
    pub fn tags(&self, name: &str) -> BTreeMap<String, String> {
        let st = self.inner.state();
        let tags = st.secrets.get(&name.to_ascii_lowercase()).and_then(|vs| vs.last()).and_then(|v| v.tags.clone());
        tags.unwrap_or_default().into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect()
    }

    /// `false`: every request gets 503 with `Retry-After: 1`, as during an outage.
    pub fn set_available(&self, available: bool) {
        self.inner.state().available = available;
    }

    /// The next `n` authenticated requests get `status` (an invalid code becomes 500).
    pub fn fail_next(&self, n: u32, status: u16) {
        self.inner.state().failures = (n, status);
    }

    /// `true`: `PUT` answers 403, like an identity with Secrets User but not Secrets Officer.
    pub fn deny_writes(&self, deny: bool) {
        self.inner.state().deny_writes = deny;
    }

    /// (method, path) of every request, in arrival order; never values or tokens.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.inner.state().requests.clone()
    }
}

/// Key Vault's error body.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/secrets/{name}", put(secrets::set))
        .route("/secrets/{name}/", get(secrets::get_latest))
        .route("/secrets/{name}/versions", get(secrets::list_versions))
        .route("/secrets/{name}/{version}", get(secrets::get_version).patch(secrets::update))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NotFound", "The requested resource was not found.") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "The method is not allowed for this resource.")
        })
        .layer(middleware::from_fn_with_state(inner.clone(), gate))
        .with_state(inner)
}

/// 401 with the challenge the SDK parses for the token scope.
fn unauthorized(inner: &Inner, message: &str) -> Response {
    let mut resp = error(StatusCode::UNAUTHORIZED, "Unauthorized", message);
    let challenge = format!(
        "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"{VAULT_RESOURCE}\"",
        inner.identity.tenant_id()
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

fn with_retry_after(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// Runs before every handler: records, then availability, auth, faults, api-version.
async fn gate(State(inner): State<Arc<Inner>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let available = {
        let mut st = inner.state();
        st.requests.push((req.method().to_string(), path));
        st.available
    };
    if !available {
        let resp = error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The service is unavailable.");
        return with_retry_after(resp);
    }
    let auth = req.headers().get(header::AUTHORIZATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(token) = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")).map(str::trim) else {
        return unauthorized(&inner, "AKV10000: Request is missing a Bearer or PoP token.");
    };
    match inner.identity.token_status(token) {
        TokenStatus::Live(r) if r == VAULT_RESOURCE => {}
        TokenStatus::Live(r) | TokenStatus::Expired(r) if r != VAULT_RESOURCE => {
            return unauthorized(&inner, &format!("Invalid audience. Expected {VAULT_RESOURCE}, found: {r}."));
        }
        TokenStatus::Expired(_) => return unauthorized(&inner, "Token is expired."),
        _ => return unauthorized(&inner, "Token validation failed: the token was not issued by the tenant."),
    }
    if let Some(resp) = take_fault(&inner) {
        return resp;
    }
    let query = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).into_owned();
    let versions: Vec<String> = query.filter(|(k, _)| k == "api-version").map(|(_, v)| v).collect();
    match versions.as_slice() {
        [] => return error(StatusCode::BAD_REQUEST, "BadParameter", "The 'api-version' query parameter is missing."),
        [v] if API_VERSIONS.contains(&v.as_str()) => {}
        [v] => {
            let msg = format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version (2025-07-01)."
            );
            return error(StatusCode::BAD_REQUEST, "BadParameter", &msg);
        }
        _ => return error(StatusCode::BAD_REQUEST, "BadParameter", "The 'api-version' query parameter is repeated."),
    }
    next.run(req).await
}

/// Consumes one injected failure, if any.
fn take_fault(inner: &Inner) -> Option<Response> {
    let mut st = inner.state();
    if st.failures.0 == 0 {
        return None;
    }
    st.failures.0 -= 1;
    let status = StatusCode::from_u16(st.failures.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    drop(st);
    let code = match status.as_u16() {
        429 => "Throttled",
        503 => "ServiceUnavailable",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let resp = error(status, code, "Injected failure.");
    Some(if matches!(status.as_u16(), 429 | 503) { with_retry_after(resp) } else { resp })
}
