//! Test-side controls and records of the bulk API (tasks, uploads, dumps), and the HTTP
//! control surface of a running emulator (`POST /_emulator/...`, no token needed: it
//! listens on loopback only), for trying a client's retries by hand:
//! - `/_emulator/throttle?count=N&retryAfter=S`: the next N authenticated `/2/0` requests
//!   get 429 with `Retry-After: S` (defaults 1 and 5).
//! - `/_emulator/fail?count=N&status=S`: the next N get status S (defaults 1 and 500);
//!   with `&after=true` the next N POSTs are carried out first, and only their answer is lost.
//! - `/_emulator/reset-chunks?count=N`: the next N file chunk downloads break off halfway.
//! - `/_emulator/expire-tokens`: every access token issued so far is expired.
//! - `/_emulator/refresh-token-lifetime?seconds=N`: a refresh token unused for longer than N
//!   seconds is refused from now on (`invalid_grant`); without `seconds`, never (default
//!   43200, the OAuth client's default lifetime).
//! - `/_emulator/token-fail?count=N&status=S&retryAfter=R`: the next N requests to the token
//!   services (`/oauth/token`, `/token/authenticate`, `/token/refresh`) get status S
//!   (defaults 1 and 429), with `Retry-After: R` when given.
//! - `/_emulator/read-page-headers?layout=every|first`: large read pages from now on
//!   all repeat the CSV preamble, or only the first page has it (the default).
//! - `/_emulator/cert-format?accept=v1|v2`: certificate logins in the old `v1` format (no
//!   `encodedDataFormat`, no timestamp) are accepted as well as `v2`, or only `v2` (the
//!   default); see `cert_auth.rs`.
//! - `/_emulator/model-state?modelId=M&activeState=S`: model M reports `activeState` S from
//!   now on (`UNLOCKED`, `PRODUCTION`, `LOCKED`, `ARCHIVED`, `MAINTENANCE`,
//!   `PRODUCTION_MAINTENANCE`, `OFFLINE`, or any other name of letters, digits and `_`, as a
//!   state Anaplan may add), and task starts and data reads answer as for that state
//!   (`LOCKED`: task starts 423; `ARCHIVED`: task starts and view data reads 422; see
//!   `tasks::state_refusal`). An unknown model is a 404.
//! - `/_emulator/big-grid` and `/_emulator/ragged-read-pages`: see `sized_view.rs`.
//! - `/_emulator/alm?failNextSync=<message>&structuralChange=M&taskMillis=N`: the next ALM
//!   sync fails with that message, model M has structural changes (a revision can be added),
//!   ALM tasks take N ms; see `alm.rs`.
//! - `/_emulator/speed-cap?bytesPerSecond=N` (`speed_cap.rs`) and
//!   `/_emulator/sized-export?bytes=N` (`sized_export.rs`): transfer benchmarks' knobs.
//!
//! Each answers 204; a malformed number is a 400 in Anaplan's error shape.

use super::util::api_error;
use super::{Emulator, Inner, ReadPageHeaders};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Emulator {
    /// Tasks of `action_id` started from now on wait NOT_STARTED for `queue`,
    /// then run IN_PROGRESS for `run` (defaults: 300 ms and 1.5 s; Slow Process
    /// 30 s). Tasks already started keep their timing.
    pub fn set_action_timing(&self, action_id: &str, queue: Duration, run: Duration) {
        self.inner.state().bulk.timings.insert(action_id.to_string(), (queue, run));
    }

    /// For `for_` from now, task starts on that model answer 409 whatever the
    /// busy policy (another user's task holds it), and the model status shows it.
    pub fn make_model_busy(&self, model_id: &str, for_: Duration) {
        let now = Instant::now();
        self.inner.state().bulk.busy.insert(model_id.to_string(), (now, now + for_));
    }

    /// Model `model_id` reports `activeState` `state` from now on, and its task starts and
    /// data reads answer as for that state (see the module docs). Panics for a model the
    /// seed does not have or a state that is not a name (a test bug).
    pub fn set_model_state(&self, model_id: &str, state: &str) {
        assert!(self.inner.catalog.model(model_id).is_some(), "set_model_state: no model {model_id}");
        assert!(valid_state(state), "set_model_state: {state:?} is not a state name");
        self.inner.state().bulk.model_states.insert(model_id.to_owned(), state.to_owned());
    }

    /// Task status checks and cancellations find a task of the model by its id alone,
    /// whatever action their path names (`true`), or only under the action that started
    /// it (`false`, the default). Whether Anaplan checks is not documented.
    pub fn find_tasks_by_id_alone(&self, on: bool) {
        self.inner.state().bulk.tasks_by_id_alone = on;
    }

    /// The next `n` task starts are carried out at once, and their answer is sent `hold`
    /// later (a caller that stops meanwhile has started a task without learning its id).
    pub fn hold_task_start_answers(&self, n: u32, hold: Duration) {
        self.inner.state().bulk.held_starts = (n, hold);
    }

    /// The next `n` task starts are carried out, and answered with `status` instead (a
    /// gateway that gave up after Anaplan acted), leaving other POSTs alone.
    pub fn lose_task_start_answers(&self, n: u32, status: u16) {
        self.inner.state().bulk.lost_starts = (n, status);
    }

    /// Every accepted task start, in order: (action id, task id).
    pub fn task_starts(&self) -> Vec<(String, String)> {
        self.inner.state().bulk.task_starts.clone()
    }

    /// DELETE requests that named an existing task (accepted or refused).
    pub fn cancel_requests(&self) -> usize {
        self.inner.state().bulk.cancel_requests
    }

    /// Content of the last completed upload to `file_id` (any model); `None`
    /// before one, or while a newer upload is in progress.
    pub fn uploaded(&self, file_id: &str) -> Option<Vec<u8>> {
        let st = self.inner.state();
        st.bulk
            .files
            .iter()
            .find(|((_, f), s)| f == file_id && s.uploaded.is_some())
            .and_then(|(_, s)| s.uploaded.clone())
    }

    /// Sizes of the chunks of the most recent upload to `file_id`, in arrival
    /// order (one entry for a single-shot `PUT …/files/{id}`).
    pub fn upload_chunk_sizes(&self, file_id: &str) -> Vec<usize> {
        let st = self.inner.state();
        st.bulk.files.iter().find(|((_, f), _)| f == file_id).map(|(_, s)| s.chunk_sizes.clone()).unwrap_or_default()
    }

    /// Ids of private files created by `POST …/files/{id}` on an unknown id.
    pub fn created_files(&self) -> Vec<String> {
        self.inner.state().bulk.created_files.iter().map(|(_, f)| f.clone()).collect()
    }

    /// (file id, import task id) for each upload request that changed the data
    /// source of an import task that was NOT_STARTED or IN_PROGRESS (one entry per pair).
    pub fn uploads_during_import(&self) -> Vec<(String, String)> {
        self.inner.state().bulk.uploads_during_import.clone()
    }

    /// Every failure dump produced so far is gone (Anaplan purges them after
    /// 48 h): downloads answer 404 while results still say `failureDumpAvailable`.
    pub fn expire_dumps(&self) {
        let mut st = self.inner.state();
        super::tasks::settle(&mut st, Instant::now());
        for t in st.bulk.tasks.iter_mut() {
            if let Some(o) = t.outcome.as_mut() {
                o.dumps.clear();
            }
        }
    }

    /// Anaplan no longer has the Optimizer solution logs of the tasks started so far (their
    /// `solutionLogs` answers 404; tasks started later keep theirs).
    pub fn forget_solution_logs(&self) {
        let mut st = self.inner.state();
        let ids: Vec<String> = st.bulk.tasks.iter().map(|t| t.id.clone()).collect();
        st.bulk.forgotten_logs.extend(ids);
    }
}

/// A state name: 1 to 40 ASCII letters, digits and `_`.
fn valid_state(s: &str) -> bool {
    (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `POST /_emulator/model-state?modelId=M&activeState=S`.
pub async fn http_model_state(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let Some(model) = q.get("modelId").filter(|m| inner.catalog.model(m).is_some()) else {
        return api_error(StatusCode::NOT_FOUND, "Invalid value for parameter [modelId]: no such model", path);
    };
    let state = q.get("activeState").map(String::as_str).unwrap_or("");
    if !valid_state(state) {
        let message = format!("Invalid value for parameter [activeState]: {state:?}; expected a state name");
        return api_error(StatusCode::BAD_REQUEST, &message, path);
    }
    inner.state().bulk.model_states.insert(model.clone(), state.to_owned());
    StatusCode::NO_CONTENT.into_response()
}

/// A numeric query parameter with a default; `Err` is the 400 to answer.
pub(super) fn number<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
    default: T,
    path: &str,
) -> Result<T, Response> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [{name}]: {v}"), path)
        }),
    }
}

/// `POST /_emulator/...?count=N` (default 1): `apply(state, n)`, then 204.
pub(super) fn set_count(
    inner: &Inner,
    q: &HashMap<String, String>,
    uri: &Uri,
    apply: impl FnOnce(&mut super::EmulatorState, u32),
) -> Response {
    match number(q, "count", 1u32, uri.path()) {
        Ok(n) => {
            apply(&mut inner.state(), n);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(resp) => resp,
    }
}

/// `count` (default 1) and `status` (default `default_status`, a valid HTTP status).
fn count_and_status(q: &HashMap<String, String>, default_status: u16, path: &str) -> Result<(u32, u16), Response> {
    let count = number(q, "count", 1u32, path)?;
    let status = number(q, "status", default_status, path)?;
    if StatusCode::from_u16(status).is_err() {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid value for parameter [status]: {status}"),
            path,
        ));
    }
    Ok((count, status))
}

/// `POST /_emulator/throttle?count=N&retryAfter=S`.
pub async fn http_throttle(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let (count, secs) = match (number(&q, "count", 1u32, path), number(&q, "retryAfter", 5u64, path)) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    inner.state().throttle = (count, secs);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_emulator/fail?count=N&status=S[&after=true]`.
pub async fn http_fail(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let (count, status) = match count_and_status(&q, 500, path) {
        Ok(cs) => cs,
        Err(r) => return r,
    };
    match q.get("after").map(String::as_str) {
        None | Some("false") => inner.state().failures = (count, status),
        Some("true") => inner.state().lost_answers = (count, status),
        Some(other) => {
            return api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [after]: {other}"), path);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_emulator/reset-chunks?count=N`.
pub async fn http_reset_chunks(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    set_count(&inner, &q, &uri, |st, n| st.chunk_resets = n)
}

/// `POST /_emulator/expire-tokens`.
pub async fn http_expire_tokens(State(inner): State<Arc<Inner>>) -> Response {
    Emulator { inner }.expire_access_tokens();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_emulator/refresh-token-lifetime?seconds=N` (omitted: forever).
pub async fn http_refresh_token_lifetime(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lifetime = match q.get("seconds") {
        None => None,
        Some(_) => match number(&q, "seconds", 0u64, uri.path()) {
            Ok(s) => Some(Duration::from_secs(s)),
            Err(r) => return r,
        },
    };
    Emulator { inner }.set_refresh_token_lifetime(lifetime);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_emulator/token-fail?count=N&status=S&retryAfter=R`.
pub async fn http_token_fail(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let (count, status) = match count_and_status(&q, 429, path) {
        Ok(cs) => cs,
        Err(r) => return r,
    };
    let retry_after = match q.get("retryAfter") {
        None => None,
        Some(_) => match number(&q, "retryAfter", 0u64, path) {
            Ok(r) => Some(r),
            Err(r) => return r,
        },
    };
    Emulator { inner }.fail_token_requests(count, status, retry_after);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_emulator/read-page-headers?layout=every|first`.
pub async fn http_read_page_headers(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let layout = match q.get("layout").map(String::as_str) {
        Some("every") => ReadPageHeaders::EveryPage,
        Some("first") => ReadPageHeaders::FirstPage,
        other => {
            let shown = other.unwrap_or("");
            let message = format!("Invalid value for parameter [layout]: {shown}; expected every or first");
            return api_error(StatusCode::BAD_REQUEST, &message, uri.path());
        }
    };
    inner.state().read_page_headers = layout;
    StatusCode::NO_CONTENT.into_response()
}
