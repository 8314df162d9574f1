//! A strict fake of the App Service / Functions managed-identity endpoint
//! (reference azure-platform.md §6.3), the one `ManagedIdentityCredential`
//! uses when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set.
//!
//! Plain HTTP on `127.0.0.1:<random port>` (the SDK sends no bearer token
//! there, so it allows http). `GET /msi/token?api-version=2019-08-01&resource=R`
//! with `X-IDENTITY-HEADER: <header()>` answers
//! `{"access_token","expires_on":"<unix seconds as a STRING>","resource","token_type":"Bearer","client_id"}`.
//!
//! Answers (body `{"statusCode":..,"message":..}`, as App Service sends):
//! - no `X-IDENTITY-HEADER` → 400; a wrong one → 401;
//! - `api-version` other than `2019-08-01`, no or unknown `resource` (only
//!   [`KNOWN_RESOURCES`]), a repeated parameter → 400;
//! - `client_id` other than [`FakeIdentity::client_id`], or any `object_id`,
//!   `principal_id`, `mi_res_id`, `msi_res_id` → 400 (identity not assigned,
//!   which the SDK reports as such);
//! - another path → 404, another method → 405; injected faults (`fail_next`) → that status.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Audience of Key Vault tokens.
pub const VAULT_RESOURCE: &str = "https://vault.azure.net";
/// Audience of Blob/Queue/Table storage tokens.
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com";
/// The resources this tenant can issue tokens for; anything else is AADSTS500011.
pub const KNOWN_RESOURCES: [&str; 3] = [VAULT_RESOURCE, STORAGE_RESOURCE, "https://management.azure.com"];
/// The only API version App Service serves with `X-IDENTITY-HEADER`.
pub const API_VERSION: &str = "2019-08-01";

/// What the fake knows of a bearer token (for the services that accept them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    /// Never issued here.
    Unknown,
    /// Issued for this resource, but past its `expires_on`.
    Expired(String),
    /// Issued for this resource and still valid.
    Live(String),
}

/// Handle to a running fake identity endpoint; cheap to clone.
#[derive(Clone)]
pub struct FakeIdentity {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: String,
    header: String,
    tenant_id: String,
    client_id: String,
    state: Mutex<IdState>,
}

struct IdState {
    /// token → (resource, expiry in unix seconds).
    tokens: HashMap<String, (String, u64)>,
    issued: Vec<String>,
    ttl: Duration,
    failures: (u32, u16),
    requests: usize,
}

impl Inner {
    /// A poisoned lock is still usable: the fake must not add a second panic.
    fn state(&self) -> MutexGuard<'_, IdState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl FakeIdentity {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime until it ends.
    pub async fn start() -> FakeIdentity {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("fake identity: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake identity: local_addr");
        let header = format!("ih-{}", uuid::Uuid::new_v4().simple());
        let inner = Arc::new(Inner {
            endpoint: format!("http://{addr}/msi/token"),
            header: header.clone(),
            tenant_id: uuid::Uuid::new_v4().hyphenated().to_string(),
            client_id: uuid::Uuid::new_v4().hyphenated().to_string(),
            state: Mutex::new(IdState {
                tokens: HashMap::new(),
                issued: vec![header],
                // App Service tokens live about 24 h.
                ttl: Duration::from_secs(86_400),
                failures: (0, 0),
                requests: 0,
            }),
        });
        let app = Router::new().route("/msi/token", get(token)).fallback(not_found).with_state(inner.clone());
        tokio::spawn(async move {
            // The server lives as long as the test's runtime; errors only end it.
            let _ = axum::serve(listener, app).await;
        });
        FakeIdentity { inner }
    }

    /// Value for `IDENTITY_ENDPOINT`: `http://127.0.0.1:PORT/msi/token`.
    pub fn endpoint(&self) -> String {
        self.inner.endpoint.clone()
    }

    /// Value for `IDENTITY_HEADER` (sent back as `X-IDENTITY-HEADER`).
    pub fn header(&self) -> String {
        self.inner.header.clone()
    }

    /// Entra tenant of the identity (Key Vault names it in its challenge).
    pub fn tenant_id(&self) -> String {
        self.inner.tenant_id.clone()
    }

    /// Client id of the identity; a request may name it as `client_id`
    /// (user-assigned style) or name none (system-assigned style).
    pub fn client_id(&self) -> String {
        self.inner.client_id.clone()
    }

    /// Tokens issued so far, one per successful request. The SDK caches tokens,
    /// so more than one per resource means it asked again.
    pub fn tokens_issued(&self) -> usize {
        self.inner.state().tokens.len()
    }

    /// Requests seen on `/msi/token`, good or bad.
    pub fn requests(&self) -> usize {
        self.inner.state().requests
    }

    /// True when `token` was issued here for `resource` and has not expired.
    pub fn is_valid(&self, token: &str, resource: &str) -> bool {
        self.token_status(token) == TokenStatus::Live(resource.to_string())
    }

    /// What the fake knows of `token`.
    pub fn token_status(&self, token: &str) -> TokenStatus {
        match self.inner.state().tokens.get(token) {
            None => TokenStatus::Unknown,
            Some((r, exp)) if *exp <= unix_now() => TokenStatus::Expired(r.clone()),
            Some((r, _)) => TokenStatus::Live(r.clone()),
        }
    }

    /// The identity header and every token issued: strings that must never leak.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.inner.state().issued.clone()
    }

    /// Lifetime of tokens issued from now on (default 24 h). The SDK renews a
    /// cached token 5 minutes before `expires_on`, so under 300 s it asks every time.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.inner.state().ttl = ttl;
    }

    /// Every token issued so far is expired from now on (services refuse it,
    /// while the SDK still trusts its cached `expires_on`).
    pub fn expire_tokens(&self) {
        let past = unix_now().saturating_sub(1);
        for (_, exp) in self.inner.state().tokens.values_mut() {
            *exp = past;
        }
    }

    /// The next `n` well-formed token requests get `status` (the SDK retries 5xx).
    pub fn fail_next(&self, n: u32, status: u16) {
        self.inner.state().failures = (n, status);
    }
}

/// App Service's error shape.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "statusCode": status.as_u16(), "message": message }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// `GET /msi/token`.
async fn token(State(inner): State<Arc<Inner>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    inner.state().requests += 1;
    match headers.get("x-identity-header").map(|v| v.as_bytes()) {
        None => return error(StatusCode::BAD_REQUEST, "Required header X-IDENTITY-HEADER is missing."),
        Some(v) if v != inner.header.as_bytes() => {
            return error(StatusCode::UNAUTHORIZED, "The X-IDENTITY-HEADER value is not valid.");
        }
        Some(_) => {}
    }
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned() {
        if params.insert(k.clone(), v).is_some() {
            return error(StatusCode::BAD_REQUEST, &format!("Parameter {k} is repeated."));
        }
    }
    if params.get("api-version").map(String::as_str) != Some(API_VERSION) {
        return error(StatusCode::BAD_REQUEST, "api-version must be 2019-08-01 with X-IDENTITY-HEADER.");
    }
    let Some(resource) = params.get("resource").cloned() else {
        return error(StatusCode::BAD_REQUEST, "Required parameter resource is missing.");
    };
    // The SDK strips "/.default"; a trailing slash names the same audience.
    let resource = resource.trim_end_matches('/').to_string();
    if !KNOWN_RESOURCES.contains(&resource.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("AADSTS500011: The resource principal named {resource} was not found in the tenant."),
        );
    }
    let wrong_id = params.get("client_id").is_some_and(|c| *c != inner.client_id)
        || ["object_id", "principal_id", "mi_res_id", "msi_res_id"].iter().any(|k| params.contains_key(*k));
    if wrong_id {
        return error(StatusCode::BAD_REQUEST, "No managed identity with the requested id is assigned to this app.");
    }
    let mut st = inner.state();
    if st.failures.0 > 0 {
        st.failures.0 -= 1;
        let status = StatusCode::from_u16(st.failures.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error(status, "Injected failure.");
    }
    // JWT-shaped so a client that logs tokens is caught by a search for "eyJ".
    let access_token = format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let expires_on = unix_now() + st.ttl.as_secs();
    st.tokens.insert(access_token.clone(), (resource.clone(), expires_on));
    st.issued.push(access_token.clone());
    Json(json!({
        "access_token": access_token,
        "expires_on": expires_on.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": inner.client_id,
    }))
    .into_response()
}
