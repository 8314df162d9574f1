// Handlers return ready-made `Response`s as their error type (the axum idiom);
// boxing them only to shrink `Result` would add noise for no benefit here.
#![allow(clippy::result_large_err)]
//! The Anaplan emulator: a strict local Anaplan with a seeded demo tenant ([`seed`]).
//!
//! `anaplan-functions emulator` and `demo` run it as a server, and the project's own tests
//! start it in-process ([`Emulator::start`]) and steer it through its public methods
//! (throttling, injected failures, expired tokens, task timing, busy models...).
//!
//! One axum server on `127.0.0.1:<port>` serves the Integration API
//! (`/2/0/...`), the OAuth token endpoint (`/oauth/token`) and the legacy token
//! service (`/token/...`), plus SCIM (`/scim/1/0/v2/Users`, `scim.rs`), Audit
//! (`/audit/api/1/events`, `audit.rs`) and the administration APIs, Exception Users and
//! Administration (`/admin/1/0/...`, `admin.rs`). It answers in the real shapes recorded in
//! `shared/reference/anaplan-samples/` and enforces the real rules (token
//! scheme, rotation of refresh tokens, paging caps, content negotiation, page
//! selectors, the 1 M-cell limit...), so a client that only works against a
//! lenient server fails here. A request it does not know is a 404 in Anaplan's error
//! shape, never a made-up success.
//!
//! Fault injection (`throttle_next`, `fail_next`) applies to `/2/0` requests
//! AFTER their token was accepted: a request rejected with 401 does not consume
//! an injected fault, so a test knows the faulted request was otherwise valid.
//! When both are pending, throttling is served first.
//!
//! Answers at a glance (bodies: OAuth `{"error","error_description"}`, legacy
//! `{"status":"FAILURE_…","statusMessage"}`, API `{"status":{code,message},"path","timestamp"}`):
//! - Token services: a fault set with `fail_token_requests` (429/503 with `Retry-After`,
//!   408, 5xx) answers before anything is checked; `delay_token_answers` holds a refresh
//!   grant's answer after the chain rotated.
//! - `/oauth/token`: Authorization header, missing `grant_type`/`client_id`/`refresh_token`,
//!   bad body or Content-Type → 400 `invalid_request`; unknown client or wrong/missing secret
//!   → 401 `invalid_client`; spent/unknown refresh token → 400 `invalid_grant`; any other
//!   grant → 400 `unsupported_grant_type`.
//! - `/token/*`: missing/undecodable header or non-`Basic`/`AnaplanAuthToken` scheme → 400
//!   `FAILURE_BAD_HEADER`; wrong user/password or dead token → 401 `FAILURE_BAD_CREDENTIAL`.
//!   Certificate auth (`v2` payloads by default, the demo certificate user of
//!   `demo_cert.rs`): see `cert_auth.rs`; device and authorization-code grants:
//!   `oauth_flows.rs`.
//! - `/2/0`: no live `AnaplanAuthToken` → 401; unknown id or route → 404 "Not Found"; wrong
//!   method → 405; bad `offset`/`limit` → 400 "Invalid value for parameter [..]"; view data
//!   Accept/format mismatch → 406; bad selector → 400 "Invalid page selector [..]"; too many
//!   cells → 400 "The view contains N cells, which exceeds the limit of L cells for this
//!   call. Use a large read request."; read request without JSON Content-Type → 415, bad
//!   `exportType` → 400, page not available → 404.
//!
//! Bulk API (`/2/0/workspaces/{ws}/models/{m}/…`, see `actions.rs`, `tasks.rs`,
//! `files.rs`, `dumps.rs`): unknown workspace/model/action/task/file/chunk/dump → 404.
//! Task start: no JSON Content-Type → 400 "Content-Type must be application/json"; bad JSON
//! → 400 "Malformed JSON request body"; no `localeName` → 400 "Missing parameter
//! [localeName]"; not en_US → 400 "Unsupported locale [x]; only en_US is supported"; LOCKED
//! model → 423 "Model locked"; ARCHIVED → 422 "Model archived"; busy → 409 "The model is
//! currently busy with another task". Cancelling a terminal task → 400. File chunk or whole
//! file with an `Accept` that excludes `application/octet-stream` (e.g. `text/csv`; `*/*` is
//! fine) → 406. Uploads: gzip → 415 (not
//! supported), other Content-Type → 415, no upload started → 400, chunk out of order, empty
//! or past the count → 400, over `max_upload_chunk` → 413, export output file → 400.

mod actions;
mod admin;
mod alm;
mod api;
mod audit;
mod auth;
mod bulk;
mod calendar;
mod cert_auth;
mod cloudworks;
mod control;
mod data;
mod demo_cert;
mod dumps;
mod files;
mod grid;
mod lists;
mod model_data;
pub mod model_seed;
mod model_status;
mod oauth_flows;
mod persist;
mod read_requests;
mod results;
mod scim;
mod scim_filter;
pub mod seed;
pub mod seed_cloudworks;
mod seed_users;
mod sized_export;
mod sized_view;
mod speed_cap;
mod tasks;
mod uploads;
mod util;
mod versions;
mod views;
mod workspace_access;

pub use cert_auth::CertificateLogin;
pub use cloudworks::ConnectionView;
pub use lists::ItemView;
pub use oauth_flows::{DEMO_REDIRECT_URI, FlowError};
pub use persist::CREDENTIALS_FILE;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Knobs of the emulator. `Default` mirrors Anaplan where Anaplan has a number.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Lifetime of access tokens (OAuth `expires_in`, legacy `expiresAt`); Anaplan: 2100 s.
    pub access_token_ttl: Duration,
    /// Rotatable OAuth client: each refresh returns a new refresh token and
    /// spends the presented one. `false` = the same refresh token keeps working.
    pub rotate_refresh_tokens: bool,
    /// How long a refresh token lives unused before Anaplan refuses it (`invalid_grant`):
    /// the OAuth client's refresh-token lifetime, 43200 s unless an admin changes it.
    /// `None`: forever. [`Emulator::set_refresh_token_lifetime`] changes it at run time.
    pub refresh_token_lifetime: Option<Duration>,
    /// List endpoints silently cap `limit` to this (0 is treated as 1), forcing paging.
    pub page_size_cap: usize,
    /// Max cells (rows × columns) a direct `/data` read may return.
    pub direct_read_cell_limit: usize,
    /// `availablePages` of a completed large read request (0 is treated as 1).
    pub read_request_pages: usize,
    /// What starting a task on a model with a task NOT_STARTED/IN_PROGRESS does.
    pub busy_policy: BusyPolicy,
    /// Size of failure-dump chunks (0 is treated as 1); Anaplan: ≤ 10 MB.
    pub dump_chunk_size: usize,
    /// Largest accepted upload chunk (and single-shot file PUT); Anaplan: 50 MB.
    pub max_upload_chunk: usize,
    /// Bytes/s each connection may read and write (each direction); 0 = no cap (`speed_cap.rs`).
    pub speed_cap: u64,
}

/// Answer to a task start while the model already has a task of this user
/// NOT_STARTED or IN_PROGRESS (reference §6.4 says to design for both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BusyPolicy {
    /// 409 "The model is currently busy with another task".
    #[default]
    Conflict,
    /// Accept; the new task stays NOT_STARTED until the running one is terminal.
    Queue,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            access_token_ttl: Duration::from_secs(2100),
            rotate_refresh_tokens: true,
            refresh_token_lifetime: Some(Duration::from_secs(43_200)),
            page_size_cap: 2,
            direct_read_cell_limit: 1_000_000,
            read_request_pages: 4,
            busy_policy: BusyPolicy::Conflict,
            dump_chunk_size: 64 * 1024,
            max_upload_chunk: 50 * 1024 * 1024,
            speed_cap: 0,
        }
    }
}

/// Which pages of a large read request carry the CSV preamble (page line and column
/// headers). Anaplan does not document it, so the emulator serves either.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadPageHeaders {
    /// Only page 0: the pages concatenated are the direct-read document.
    #[default]
    FirstPage,
    /// Every page repeats the preamble.
    EveryPage,
}

/// One `grant_type=refresh_token` attempt at `/oauth/token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRecord {
    /// The refresh token the client sent ("" when it sent none).
    pub presented: String,
    /// The refresh token returned on success (the same one without rotation).
    pub issued: Option<String>,
    /// The OAuth `error` code on failure, e.g. "invalid_grant".
    pub error: Option<String>,
}

/// One HTTP request as the emulator saw it. Never holds credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string ("" when none).
    pub query: String,
    /// Scheme word of the `Authorization` header ("AnaplanAuthToken", "Bearer",
    /// "Basic"…). `Some("")` when the header has no space (it might be a bare
    /// secret, so it is not recorded); `None` when the header is absent.
    pub authorization_scheme: Option<String>,
    /// The `Content-Type` header as sent (`None` when absent).
    pub content_type: Option<String>,
    /// The `Accept` header as sent (`None` when absent).
    pub accept: Option<String>,
}

/// How [`Emulator::launch`] serves.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Keeps the client, the password and live tokens between runs, and receives
    /// `credentials.json`.
    pub state_dir: Option<std::path::PathBuf>,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The state directory could not be read or written.
    #[error("state directory: {0}")]
    State(String),
}

/// The demo tenant's credentials, as written to `credentials.json`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCredentials {
    /// OAuth client id (rotating refresh tokens).
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The first refresh token of the client's rotating chain.
    pub refresh_token: String,
    /// The user for legacy basic auth (`/token/authenticate`).
    pub username: String,
    /// That user's password.
    pub password: String,
    /// The tenant's SCIM API key (`Authorization: Bearer <key>`, SCIM only).
    pub scim_api_key: String,
    /// The demo user's certificate for certificate auth, issued by a demo CA, then its
    /// RSA private key (PEM each): the value `ANAPLAN_CERTIFICATE` takes.
    pub certificate: String,
}

/// Handle to a running emulator; cheap to clone.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

/// Shared state behind the handle and the handlers.
struct Inner {
    cfg: EmulatorConfig,
    base_url: String,
    client_id: String,
    client_secret: String,
    /// The device-grant client (no secret; one grant type per client).
    device_client_id: String,
    initial_refresh_token: String,
    /// The demo user's basic-auth password.
    password: String,
    /// The demo user's certificate and key, registered for certificate auth.
    demo_certificate: demo_cert::DemoCertificate,
    /// Where tokens are kept between runs (`None`: in memory only).
    state_dir: Option<std::path::PathBuf>,
    catalog: data::Catalog,
    speed_cap: speed_cap::SpeedCap,
    /// Export chunk bytes being served at once, and the most seen.
    served_chunks: Arc<files::ServedChunks>,
    state: Mutex<EmulatorState>,
}

/// An access token (OAuth or legacy) and the ids the legacy service shows for it.
struct AccessToken {
    expires_at: Instant,
    token_id: String,
    refresh_token_id: String,
    /// Whose it is: a seeded user's number ([`seed::scim_user`]; 0, the integration user,
    /// for every token the token services issue).
    user: usize,
}

/// Faults of the token services (`/oauth/token`, `/token/authenticate`, `/token/refresh`),
/// served before the request is looked at (so nothing is spent or issued).
#[derive(Default)]
struct TokenFaults {
    /// (count, status, Retry-After seconds) for the next token requests.
    fail: (u32, u16, Option<u64>),
    /// (count, delay): the next refresh grants are processed (the token rotated), then
    /// their answer waits this long, as an answer lost in a slow network would.
    delay: (u32, Duration),
}

#[derive(Default)]
struct EmulatorState {
    access_tokens: HashMap<String, AccessToken>,
    /// Refresh tokens that may still be presented → the client they belong to.
    live_refresh_tokens: HashMap<String, String>,
    /// When each live refresh token was issued or last used: one unused for longer than
    /// `refresh_token_lifetime` is dead ([`auth::register_refresh_token`]).
    refresh_token_used: HashMap<String, std::time::SystemTime>,
    /// How long a refresh token lives unused (the OAuth client's setting in Anaplan);
    /// `None`: forever.
    refresh_token_lifetime: Option<Duration>,
    refresh_log: Vec<RefreshRecord>,
    issued_secrets: Vec<String>,
    requests: Vec<RecordedRequest>,
    throttle: (u32, u64),
    failures: (u32, u16),
    /// The next N file chunk downloads break off halfway through their bytes.
    chunk_resets: u32,
    /// How long each file chunk download and upload takes at least (a slow link).
    chunk_delay: Duration,
    /// The next N `/2/0` POST requests get this status before anything is done.
    post_failures: (u32, u16),
    /// The next N `/2/0` POST requests are carried out, then answered with this status
    /// instead (a gateway that timed out after Anaplan acted).
    lost_answers: (u32, u16),
    token_faults: TokenFaults,
    read_requests: HashMap<String, read_requests::ReadRequest>,
    read_requests_created: usize,
    /// Which pages of a large read start with the CSV preamble.
    read_page_headers: ReadPageHeaders,
    /// The next N large-read pages have one field too many on their last line.
    ragged_read_pages: u32,
    basic_user: Option<(String, String)>,
    bulk: tasks::BulkState,
    cert: cert_auth::CertState,
    flows: oauth_flows::FlowState,
    cloudworks: cloudworks::CloudWorksState,
    scim: scim::ScimState,
    audit: audit::AuditState,
    model_data: lists::DataState,
    calendar: calendar::CalendarState,
    versions: versions::VersionsState,
    alm: alm::AlmState,
    admin: admin::AdminState,
    loads: model_status::LoadState,
    sized_export: sized_export::Size,
}

impl Inner {
    /// Locks the state; a poisoned lock is still usable (a test panicked
    /// elsewhere), and the emulator must not add a second panic.
    fn state(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Emulator {
    /// Starts an emulator with [`EmulatorConfig::default`] on a free port (tests).
    pub async fn start() -> Emulator {
        Self::start_with(EmulatorConfig::default()).await
    }

    /// Binds `127.0.0.1:0` and serves on the current tokio runtime until it ends (tests:
    /// panics when it cannot bind).
    pub async fn start_with(cfg: EmulatorConfig) -> Emulator {
        Self::launch(cfg, &Launch::default()).await.expect("emulator: bind 127.0.0.1:0")
    }

    /// Binds `127.0.0.1:<port>` (0 picks a free one) and serves on the current tokio
    /// runtime until it ends. With a state directory, the OAuth client, the demo user's
    /// password and every live token are read from `state.json` there when it exists, and
    /// written back after each token answer, so a restart keeps clients working.
    pub async fn launch(cfg: EmulatorConfig, launch: &Launch) -> Result<Emulator, LaunchError> {
        let stored = match &launch.state_dir {
            Some(dir) => persist::load(dir)?,
            None => None,
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], launch.port));
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| LaunchError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| LaunchError::Bind { addr, source })?;
        let stored = stored.unwrap_or_else(persist::Stored::fresh);
        let mut state = EmulatorState::default();
        state.issued_secrets.push(stored.client_secret.clone());
        state.issued_secrets.push(stored.initial_refresh_token.clone());
        state.issued_secrets.push(stored.password.clone());
        if let Some(key) = &stored.scim_api_key {
            state.scim.api_key = key.clone();
        }
        state.issued_secrets.push(state.scim.api_key.clone());
        state.refresh_token_lifetime = cfg.refresh_token_lifetime;
        if stored.restored {
            // The chain as it was: the first token stays spent once it was used, and a
            // token's idle time runs on while the emulator is stopped.
            for (token, client) in &stored.live_refresh_tokens {
                let used = stored.refresh_token_used.get(token).map(|ms| persist::from_unix_millis(*ms));
                auth::register_refresh_token(&mut state, token, client, used);
            }
            state.issued_secrets.extend(stored.live_refresh_tokens.keys().cloned());
        } else {
            auth::register_refresh_token(&mut state, &stored.initial_refresh_token, &stored.client_id, None);
        }
        persist::restore_access_tokens(&mut state, &stored);
        // The demo user for legacy basic auth (tests set their own with `set_basic_user`),
        // and the callback registered on the authorization-code client.
        state.basic_user = Some((seed::USER_EMAIL.to_string(), stored.password.clone()));
        // The demo certificate user: the stored certificate while it has a day left, else a
        // new one.
        let demo_certificate = match stored.demo_certificate.clone().filter(demo_cert::DemoCertificate::usable) {
            Some(c) => c,
            None => demo_cert::mint().map_err(LaunchError::State)?,
        };
        cert_auth::register(&mut state, &demo_certificate.certificate).map_err(LaunchError::State)?;
        state.issued_secrets.push(demo_certificate.private_key.clone());
        state.flows.redirect_uris.push(oauth_flows::DEMO_REDIRECT_URI.to_string());
        let cap = speed_cap::SpeedCap::new(cfg.speed_cap);
        let inner = Arc::new(Inner {
            cfg,
            base_url: format!("http://{addr}"),
            client_id: stored.client_id.clone(),
            client_secret: stored.client_secret.clone(),
            device_client_id: stored.device_client_id.clone(),
            initial_refresh_token: stored.initial_refresh_token.clone(),
            password: stored.password.clone(),
            demo_certificate,
            state_dir: launch.state_dir.clone(),
            catalog: data::catalog(),
            speed_cap: cap.clone(),
            served_chunks: Arc::default(),
            state: Mutex::new(state),
        });
        if let Some(dir) = &launch.state_dir {
            persist::save(&inner, dir)?;
            persist::write_credentials(dir, &Emulator { inner: inner.clone() }.credentials())?;
        }
        let app = router(inner.clone());
        tokio::spawn(async move {
            // The server lives as long as the runtime; errors only end it.
            let _ = axum::serve(speed_cap::CappedListener::new(listener, cap), app).await;
        });
        Ok(Emulator { inner })
    }

    /// What a client of the demo tenant needs: the OAuth client, the first refresh token of
    /// its rotating chain, the basic-auth user and the certificate user. This is
    /// `credentials.json`.
    pub fn credentials(&self) -> DemoCredentials {
        DemoCredentials {
            client_id: self.client_id(),
            client_secret: self.client_secret(),
            refresh_token: self.initial_refresh_token(),
            username: seed::USER_EMAIL.to_string(),
            password: self.inner.password.clone(),
            scim_api_key: self.scim_api_key(),
            certificate: self.inner.demo_certificate.pem(),
        }
    }

    /// `http://127.0.0.1:PORT`: base for `/2/0`, `/oauth` and `/token`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The OAuth client id (32 lowercase hex).
    pub fn client_id(&self) -> String {
        self.inner.client_id.clone()
    }

    /// The OAuth client secret.
    pub fn client_secret(&self) -> String {
        self.inner.client_secret.clone()
    }

    /// First refresh token of the chain (what a human bootstrap would yield).
    pub fn initial_refresh_token(&self) -> String {
        self.inner.initial_refresh_token.clone()
    }

    /// The next `n` authenticated `/2/0` requests get 429 with `Retry-After: secs`.
    pub fn throttle_next(&self, n: u32, retry_after_secs: u64) {
        self.inner.state().throttle = (n, retry_after_secs);
    }

    /// The next `n` authenticated `/2/0` requests get `status` with Anaplan's
    /// error body (an invalid status code becomes 500).
    pub fn fail_next(&self, n: u32, status: u16) {
        self.inner.state().failures = (n, status);
    }

    /// The next `n` file chunk downloads send their headers and half their bytes, then
    /// the connection breaks (a reset mid-chunk).
    pub fn reset_next_chunks(&self, n: u32) {
        self.inner.state().chunk_resets = n;
    }

    /// Every file chunk download and chunk upload takes at least `delay` from now on (a
    /// slow link, so a transfer spans several polls).
    pub fn set_chunk_delay(&self, delay: Duration) {
        self.inner.state().chunk_delay = delay;
    }

    /// The next `n` `/2/0` POST requests get `status` without being carried out (other
    /// methods pass).
    pub fn fail_next_posts(&self, n: u32, status: u16) {
        self.inner.state().post_failures = (n, status);
    }

    /// The next `n` `/2/0` POST requests (task starts, read requests...) are carried out
    /// as usual, but answered with `status` (e.g. 504): what a caller sees when a gateway
    /// gives up after Anaplan acted.
    pub fn fail_next_after_acting(&self, n: u32, status: u16) {
        self.inner.state().lost_answers = (n, status);
    }

    /// The next `n` requests to the token services (`/oauth/token`, `/token/authenticate`,
    /// `/token/refresh`) get `status` (429 or 503 with `Retry-After` when given), before
    /// anything is checked or spent: a busy token service, not a refusal. The body is the
    /// service's own error shape (OAuth's `{"error","error_description"}`, the legacy
    /// `{"status","statusMessage"}`).
    pub fn fail_token_requests(&self, n: u32, status: u16, retry_after: Option<u64>) {
        self.inner.state().token_faults.fail = (n, status, retry_after);
    }

    /// The next `n` refresh grants rotate the chain as usual, then hold their answer for
    /// `delay` (a client that gives up meanwhile has lost the new refresh token unless it
    /// keeps waiting).
    pub fn delay_token_answers(&self, n: u32, delay: Duration) {
        self.inner.state().token_faults.delay = (n, delay);
    }

    /// A live access token of seeded user `user_name` (e.g. `user005@example.com`), as that
    /// user's own sign-in would give; `/2/0/users/me` answers that user for it. Panics for
    /// a user the seed does not have (a test bug).
    pub fn access_token_for(&self, user_name: &str) -> String {
        let n = (0..seed::SCIM_USER_COUNT)
            .find(|n| seed::scim_user(*n).user_name.eq_ignore_ascii_case(user_name))
            .unwrap_or_else(|| panic!("access_token_for: no seeded user {user_name}"));
        let mut st = self.inner.state();
        auth::issue_access_token_as(&self.inner, &mut st, n)
    }

    /// Every access token issued so far is expired from now on (new ones are not).
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for t in self.inner.state().access_tokens.values_mut() {
            t.expires_at = now;
        }
    }

    /// Sets how long a refresh token lives unused (`None`: forever), from now on; tokens
    /// already issued are judged by it at their next use.
    pub fn set_refresh_token_lifetime(&self, lifetime: Option<Duration>) {
        self.inner.state().refresh_token_lifetime = lifetime;
    }

    /// Every refresh-token grant attempt, in order.
    pub fn refresh_log(&self) -> Vec<RefreshRecord> {
        self.inner.state().refresh_log.clone()
    }

    /// Client secret, every token issued (access, refresh, id token) and the
    /// basic-auth password if one was set: strings that must never leak.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.inner.state().issued_secrets.clone()
    }

    /// Every request seen, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.state().requests.clone()
    }

    /// Large read requests created and not yet deleted.
    pub fn live_read_requests(&self) -> usize {
        self.inner.state().read_requests.len()
    }

    /// Large read requests created in total.
    pub fn read_requests_created(&self) -> usize {
        self.inner.state().read_requests_created
    }

    /// Which pages of large read requests carry the CSV preamble from now on (default:
    /// the first only).
    pub fn set_read_page_headers(&self, layout: ReadPageHeaders) {
        self.inner.state().read_page_headers = layout;
    }

    /// The value of a module cell written so far (line item id, item ids in the line
    /// item's dimension order), as the emulator stored it.
    pub fn cell(&self, line_item_id: &str, item_ids: &[&str]) -> Option<String> {
        let key = (line_item_id.to_owned(), item_ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        self.inner.state().model_data.cells.get(&key).cloned()
    }

    /// Module cells written so far.
    pub fn cells_written(&self) -> usize {
        self.inner.state().model_data.cells.len()
    }

    /// Cells in each module write call (`POST …/modules/{id}/data`), in order.
    pub fn cell_writes(&self) -> Vec<usize> {
        self.inner.state().model_data.cell_writes.clone()
    }

    /// (action, items) of each list change call, in order.
    pub fn list_changes(&self) -> Vec<(String, usize)> {
        self.inner.state().model_data.list_changes.clone()
    }

    /// The items of a list as (code, name, parent, properties), in list order.
    pub fn list_items(&self, list_id: &str) -> Vec<lists::ItemView> {
        let st = self.inner.state();
        st.model_data.list(list_id).map(|l| l.items.iter().map(lists::ItemView::of).collect()).unwrap_or_default()
    }

    /// Large list read requests created and not yet deleted; created in total.
    pub fn list_reads(&self) -> (usize, usize) {
        let st = self.inner.state();
        (st.model_data.list_reads.len(), st.model_data.list_reads_created)
    }

    /// Enables legacy `POST /token/authenticate` with Basic auth for this user.
    pub fn set_basic_user(&self, username: &str, password: &str) {
        let mut st = self.inner.state();
        st.basic_user = Some((username.to_string(), password.to_string()));
        st.issued_secrets.push(password.to_string());
    }
}

/// All routes. Paths not listed answer Anaplan's 404 body; a known path with
/// the wrong method answers 405 (as the real API does).
fn router(inner: Arc<Inner>) -> Router {
    routes()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(inner.clone(), gate))
        .with_state(inner)
}

/// Every route, without the fallbacks and the gate (also read by [`Emulator::route_table`]).
fn routes() -> Router<Arc<Inner>> {
    const RR: &str = "/2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests";
    Router::new()
        .route("/oauth/token", post(auth::oauth_token))
        .route("/oauth/device/code", post(oauth_flows::device_code))
        .route("/auth/authorize", get(oauth_flows::authorize_page))
        .route("/auth/prelogin", get(oauth_flows::authorize_page))
        .route("/activate", get(oauth_flows::activate_page))
        .route("/token/authenticate", post(auth::legacy_authenticate))
        .route("/token/refresh", post(auth::legacy_refresh))
        .route("/token/validate", get(auth::legacy_validate))
        .route("/token/logout", post(auth::legacy_logout))
        .route("/2/0/users/me", get(api::users_me))
        .route("/2/0/workspaces", get(api::workspaces))
        .route("/2/0/workspaces/{ws}/models", get(api::workspace_models))
        // Real Anaplan answers 405 for every method here; use /models/{m}.
        .route("/2/0/workspaces/{ws}/models/{m}", any(method_not_allowed))
        .route("/2/0/models", get(api::all_models))
        .route("/2/0/models/{m}", get(api::model))
        .route("/2/0/models/{m}/modules", get(api::modules))
        .route("/2/0/models/{m}/modules/{module}/views", get(api::module_views))
        .route("/2/0/models/{m}/views", get(api::views))
        .route("/2/0/models/{m}/views/{v}", get(views::metadata))
        .route("/2/0/models/{m}/views/{v}/data", get(views::data))
        .route("/2/0/models/{m}/views/{v}/dimensions/{d}/items", get(views::dimension_items))
        .route(RR, post(read_requests::create))
        .route(&format!("{RR}/{{id}}"), get(read_requests::status).delete(read_requests::delete))
        .route(&format!("{RR}/{{id}}/pages/{{n}}"), get(read_requests::page))
        .merge(actions::routes())
        .merge(cloudworks::routes())
        .merge(scim::routes())
        .merge(audit::routes())
        .route("/_emulator/throttle", post(control::http_throttle))
        .route("/_emulator/reset-chunks", post(control::http_reset_chunks))
        .route("/_emulator/fail", post(control::http_fail))
        .route("/_emulator/expire-tokens", post(control::http_expire_tokens))
        .route("/_emulator/refresh-token-lifetime", post(control::http_refresh_token_lifetime))
        .route("/_emulator/token-fail", post(control::http_token_fail))
        .route("/_emulator/read-page-headers", post(control::http_read_page_headers))
        .route("/_emulator/model-state", post(control::http_model_state))
        .merge(cert_auth::routes())
        .merge(sized_view::routes())
        .route("/_emulator/speed-cap", post(speed_cap::http_speed_cap))
        .route("/_emulator/sized-export", post(sized_export::http_sized_export))
        .merge(model_data::routes())
        .merge(lists::routes())
        .merge(calendar::routes())
        .merge(versions::routes())
        .merge(alm::routes())
        .merge(admin::routes())
        .merge(model_status::routes())
        .merge(workspace_access::routes())
}

impl Emulator {
    /// Every route the emulator serves, as (methods, path template), e.g.
    /// `(["GET", "HEAD", "PUT"], "/2/0/workspaces/{ws}/models/{m}/files/{f}")`; methods are
    /// `["*"]` for a route that takes any method. Read from the router itself (its debug
    /// form), so a route added anywhere shows up here: the conformance test compares this
    /// with its table of documented shapes.
    pub fn route_table() -> Vec<(Vec<String>, String)> {
        parse_route_table(&format!("{:?}", routes()))
    }
}

/// Reads `RouteId(n): MethodRouter(… allow_header: Bytes(b"GET,HEAD") …)` and the node's
/// `paths: {RouteId(n): "/path", …}` out of axum's debug form of a router.
fn parse_route_table(debug: &str) -> Vec<(Vec<String>, String)> {
    // The fallback router comes after the routes; only the routes are wanted.
    let debug = debug.split("fallback_router").next().unwrap_or(debug);
    let id_at = |s: &str| -> Option<(String, usize)> {
        let start = s.find("RouteId(")? + "RouteId(".len();
        let end = start + s[start..].find(')')?;
        Some((s[start..end].to_owned(), end))
    };
    let (routes_part, paths_part) = debug.split_once("paths: {").unwrap_or((debug, ""));
    let mut methods: HashMap<String, Vec<String>> = HashMap::new();
    let mut rest = routes_part;
    while let Some((id, end)) = id_at(rest) {
        rest = &rest[end..];
        let next = rest.find("RouteId(").unwrap_or(rest.len());
        let entry = &rest[..next];
        let allowed = match entry.split_once("allow_header: Bytes(b\"") {
            Some((_, tail)) => tail.split('"').next().unwrap_or("").split(',').map(str::to_owned).collect(),
            None => vec!["*".to_owned()],
        };
        methods.insert(id, allowed);
    }
    let mut out = Vec::new();
    let mut rest = paths_part;
    while let Some((id, end)) = id_at(rest) {
        rest = &rest[end..];
        let Some(open) = rest.find('"') else { break };
        let Some(close) = rest[open + 1..].find('"') else { break };
        let path = rest[open + 1..open + 1 + close].to_owned();
        rest = &rest[open + 2 + close..];
        out.push((methods.remove(&id).unwrap_or_else(|| vec!["*".to_owned()]), path));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

async fn not_found(req: Request) -> Response {
    util::api_status(StatusCode::NOT_FOUND, req.uri().path())
}

async fn method_not_allowed(req: Request) -> Response {
    util::api_status(StatusCode::METHOD_NOT_ALLOWED, req.uri().path())
}

/// Runs before every handler: records the request, then for `/2/0` checks the
/// `AnaplanAuthToken` and serves any injected throttle/fault.
async fn gate(State(inner): State<Arc<Inner>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let auth = req.headers().get(header::AUTHORIZATION);
    let scheme = auth.map(|v| {
        let s = String::from_utf8_lossy(v.as_bytes());
        s.split_once(' ').map(|(scheme, _)| scheme.to_string()).unwrap_or_default()
    });
    let recorded = {
        let header_text =
            |name| req.headers().get(name).map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned());
        RecordedRequest {
            method: req.method().to_string(),
            path: path.clone(),
            query: req.uri().query().unwrap_or("").to_string(),
            authorization_scheme: scheme,
            content_type: header_text(header::CONTENT_TYPE),
            accept: header_text(header::ACCEPT),
        }
    };
    inner.state().requests.push(recorded);
    if path == "/2/0" || path.starts_with("/2/0/") {
        if !auth::api_token_ok(&inner, req.headers()) {
            return util::api_status(StatusCode::UNAUTHORIZED, &path);
        }
        if let Some(resp) = take_fault(&inner, &path, req.method() == axum::http::Method::POST) {
            return resp;
        }
    }
    // SCIM and Audit need valid auth too (each with its own rules and error shape).
    if (path == "/scim" || path.starts_with("/scim/")) && !scim::auth_ok(&inner, req.headers()) {
        return scim::error(StatusCode::UNAUTHORIZED, None, "Unauthorized");
    }
    if (path == "/audit" || path.starts_with("/audit/")) && !audit::auth_ok(&inner, req.headers()) {
        return audit::unauthorized();
    }
    let token_service = path.starts_with("/oauth/") || path.starts_with("/token/");
    if matches!(path.as_str(), "/oauth/token" | "/token/authenticate" | "/token/refresh")
        && let Some(resp) = auth::take_token_fault(&inner, &path)
    {
        return resp;
    }
    let api_post = req.method() == axum::http::Method::POST && (path == "/2/0" || path.starts_with("/2/0/"));
    let resp = next.run(req).await;
    if api_post && let Some(status) = take_lost_answer(&inner) {
        return util::api_status(status, &path);
    }
    if token_service && let Some(dir) = &inner.state_dir {
        // Tokens changed (or may have): keep them for the next run.
        if let Err(e) = persist::save(&inner, dir) {
            tracing::warn!(error = %e, "the emulator could not save its state");
        }
    }
    resp
}

/// Consumes one pending lost answer, if any.
fn take_lost_answer(inner: &Inner) -> Option<StatusCode> {
    let mut st = inner.state();
    if st.lost_answers.0 == 0 {
        return None;
    }
    st.lost_answers.0 -= 1;
    Some(StatusCode::from_u16(st.lost_answers.1).unwrap_or(StatusCode::GATEWAY_TIMEOUT))
}

/// Consumes one pending throttle (first) or failure, if any.
fn take_fault(inner: &Inner, path: &str, post: bool) -> Option<Response> {
    let mut st = inner.state();
    if post && st.post_failures.0 > 0 {
        st.post_failures.0 -= 1;
        let status = StatusCode::from_u16(st.post_failures.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        drop(st);
        return Some(util::api_status(status, path).into_response());
    }
    if st.throttle.0 > 0 {
        st.throttle.0 -= 1;
        let secs = st.throttle.1;
        drop(st);
        let mut resp = util::api_status(StatusCode::TOO_MANY_REQUESTS, path);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Some(resp);
    }
    if st.failures.0 > 0 {
        st.failures.0 -= 1;
        let status = StatusCode::from_u16(st.failures.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        drop(st);
        return Some(util::api_status(status, path).into_response());
    }
    None
}
