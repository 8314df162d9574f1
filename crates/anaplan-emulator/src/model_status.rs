//! Model state (reference §4.8): `GET /2/0/models/{m}/status`, which shows whether the
//! model is loaded, a load or unload under way, and a running task of this user or another
//! user's (`make_model_busy`); `POST /2/0/models/{m}/open` (202) and `.../close` (204), which
//! the description says answer before the transition ends; and the ALM API's
//! `POST|PUT /2/0/models/{m}/onlineStatus` (204).
//!
//! Every seeded model starts loaded (`Open`). An open takes [`DEFAULT_OPEN_TIME`] (tests
//! change it with `Emulator::set_model_load_times`), reporting `currentStep` `Loading` with
//! its progress meanwhile (the description leaves a loading model's step open: "the step it
//! is on"); a close takes [`DEFAULT_CLOSE_TIME`], reporting `Closing` as observed live, then
//! `Closed`. Opening an open model and closing a closed one change nothing and answer as usual.
//!
//! The emulator's choices where the description is silent: the changes answer 403 to a caller
//! who is not a workspace administrator (their minimum role; the ALM description documents
//! the 403 for `onlineStatus`); open and close take no body (400) and want
//! `Content-Type: application/text` (415 otherwise), as Anaplan "expects"; an `ARCHIVED`
//! model refuses open and close with 422 as it refuses task starts. `onlineStatus` is as its
//! description says (400 for a status other than `online`/`offline` and for a `LOCKED`
//! model, 422 for an `ARCHIVED` one); offline moves `UNLOCKED` to `MAINTENANCE` and
//! `PRODUCTION` to `PRODUCTION_MAINTENANCE`, online moves them back (and `OFFLINE` to
//! `UNLOCKED`). Reads and task starts do not look at whether the model is loaded.

use super::tasks::{TaskState, active_state, settle, state_refusal};
use super::util::{Ids, api_error, api_status, now_millis, upper_hex_id};
use super::{Emulator, EmulatorState, Inner, seed};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an open takes to load a model, unless a test sets another.
pub const DEFAULT_OPEN_TIME: Duration = Duration::from_millis(1500);
/// How long a close takes to unload a model, unless a test sets another.
pub const DEFAULT_CLOSE_TIME: Duration = Duration::from_millis(500);

/// A model that is not simply loaded (a model without an entry is `Open`).
#[derive(Clone, Copy, Debug)]
pub enum Load {
    Closed,
    Loading { since: Instant, until: Instant },
    Closing { since: Instant, until: Instant },
}

/// Which models are loaded, and how long transitions take.
#[derive(Default)]
pub struct LoadState {
    pub models: HashMap<String, Load>,
    /// (open, close) set by a test; `None`: the defaults.
    pub times: Option<(Duration, Duration)>,
    /// Every accepted open, close and online status change: (model id, what).
    pub changes: Vec<(String, String)>,
}

impl LoadState {
    /// The model's load at `now` (`None`: `Open`), transitions that have ended settled.
    fn at(&mut self, m: &str, now: Instant) -> Option<Load> {
        match self.models.get(m).copied() {
            Some(Load::Loading { until, .. }) if until <= now => {
                self.models.remove(m);
                None
            }
            Some(Load::Closing { until, .. }) if until <= now => {
                self.models.insert(m.to_owned(), Load::Closed);
                Some(Load::Closed)
            }
            other => other,
        }
    }

    fn times(&self) -> (Duration, Duration) {
        self.times.unwrap_or((DEFAULT_OPEN_TIME, DEFAULT_CLOSE_TIME))
    }
}

impl Emulator {
    /// Opens take `open` and closes take `close` from now on (defaults
    /// [`DEFAULT_OPEN_TIME`] and [`DEFAULT_CLOSE_TIME`]).
    pub fn set_model_load_times(&self, open: Duration, close: Duration) {
        self.inner.state().loads.times = Some((open, close));
    }

    /// Model `model_id` is closed (`false`: not loaded, its status `Closed`) or open (`true`)
    /// at once. Panics for a model the seed does not have (a test bug).
    pub fn set_model_loaded(&self, model_id: &str, loaded: bool) {
        assert!(self.inner.catalog.model(model_id).is_some(), "set_model_loaded: no model {model_id}");
        let models = &mut self.inner.state().loads.models;
        if loaded {
            models.remove(model_id);
        } else {
            models.insert(model_id.to_owned(), Load::Closed);
        }
    }

    /// Every accepted open, close and online status request: (model id, `open` | `close` |
    /// `online` | `offline`).
    pub fn model_state_changes(&self) -> Vec<(String, String)> {
        self.inner.state().loads.changes.clone()
    }
}

pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/2/0/models/{m}/open", post(open))
        .route("/2/0/models/{m}/close", post(close))
        .route("/2/0/models/{m}/onlineStatus", post(online_status).put(online_status))
}

/// The checks every change makes: the model exists, the caller is a workspace
/// administrator.
fn admin_model<'a>(
    inner: &'a Inner,
    m: &str,
    headers: &HeaderMap,
    path: &str,
) -> Result<&'a super::data::Model, Response> {
    let model = inner.catalog.model(m).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))?;
    if super::auth::token_user(inner, headers) != Some(0) {
        return Err(api_status(StatusCode::FORBIDDEN, path));
    }
    Ok(model)
}

/// Open and close: no body, `Content-Type: application/text`, not an archived model.
fn transition_checks(inner: &Inner, m: &str, headers: &HeaderMap, body: &Bytes, path: &str) -> Result<(), Response> {
    let model = admin_model(inner, m, headers, path)?;
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !media.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/text") {
        let message = format!("Content type '{media}' not supported; expected application/text");
        return Err(api_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &message, path));
    }
    if !body.is_empty() {
        return Err(api_error(StatusCode::BAD_REQUEST, "The request takes no body", path));
    }
    match state_refusal(&active_state(&inner.state(), model), false, path) {
        Some(refused) => Err(refused),
        None => Ok(()),
    }
}

/// `POST /2/0/models/{m}/open` → 202, empty; the model loads meanwhile.
async fn open(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = transition_checks(&inner, &m, &headers, &body, uri.path()) {
        return refused;
    }
    let now = Instant::now();
    let mut st = inner.state();
    let loads = &mut st.loads;
    match loads.at(&m, now) {
        None | Some(Load::Loading { .. }) => {}
        Some(Load::Closed | Load::Closing { .. }) => {
            let until = now + loads.times().0;
            loads.models.insert(m.clone(), Load::Loading { since: now, until });
        }
    }
    loads.changes.push((m, "open".into()));
    StatusCode::ACCEPTED.into_response()
}

/// `POST /2/0/models/{m}/close` → 204, empty; the model unloads meanwhile.
async fn close(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = transition_checks(&inner, &m, &headers, &body, uri.path()) {
        return refused;
    }
    let now = Instant::now();
    let mut st = inner.state();
    let loads = &mut st.loads;
    match loads.at(&m, now) {
        Some(Load::Closed | Load::Closing { .. }) => {}
        None | Some(Load::Loading { .. }) => {
            let until = now + loads.times().1;
            loads.models.insert(m.clone(), Load::Closing { since: now, until });
        }
    }
    loads.changes.push((m, "close".into()));
    StatusCode::NO_CONTENT.into_response()
}

/// The state a model in `state` moves to when set online (`true`) or offline.
fn moved(state: &str, online: bool) -> Option<&'static str> {
    match (state, online) {
        ("UNLOCKED", false) => Some("MAINTENANCE"),
        ("PRODUCTION", false) => Some("PRODUCTION_MAINTENANCE"),
        ("MAINTENANCE", true) => Some("UNLOCKED"),
        ("PRODUCTION_MAINTENANCE", true) => Some("PRODUCTION"),
        (s, true) if s.eq_ignore_ascii_case("OFFLINE") => Some("UNLOCKED"),
        _ => None,
    }
}

/// `POST|PUT /2/0/models/{m}/onlineStatus` `{"status": "online" | "offline"}` → 204.
async fn online_status(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let model = match admin_model(&inner, &m, &headers, path) {
        Ok(model) => model,
        Err(refused) => return refused,
    };
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !media.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json") {
        let message = format!("Content type '{media}' not supported");
        return api_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &message, path);
    }
    let wanted = serde_json::from_slice::<Value>(&body).ok().and_then(|v| match v.get("status")?.as_str()? {
        "online" => Some(true),
        "offline" => Some(false),
        _ => None,
    });
    let Some(online) = wanted else {
        return api_error(StatusCode::BAD_REQUEST, "Invalid status value; expected online or offline", path);
    };
    let mut st = inner.state();
    let state = active_state(&st, model);
    match state.as_str() {
        "LOCKED" => return api_error(StatusCode::BAD_REQUEST, "Model is locked", path),
        "ARCHIVED" => return api_error(StatusCode::UNPROCESSABLE_ENTITY, "Model archived", path),
        _ => {}
    }
    if let Some(next) = moved(&state, online) {
        st.bulk.model_states.insert(m.clone(), next.to_owned());
    }
    st.loads.changes.push((m, if online { "online" } else { "offline" }.into()));
    StatusCode::NO_CONTENT.into_response()
}

/// `requestStatus` of a model that is closed or on its way to or from it.
fn load_status(st: &mut EmulatorState, m: &str, now: Instant) -> Option<Value> {
    let (step, progress) = match st.loads.at(m, now)? {
        Load::Closed => ("Closed", -1.0),
        Load::Loading { since, until } => ("Loading", fraction(since, until, now)),
        Load::Closing { since, until } => ("Closing", fraction(since, until, now)),
    };
    Some(json!({
        "tooltip": null, "progress": progress, "currentStep": step, "exportTaskType": null,
        "creationTime": now_millis(), "taskId": null,
    }))
}

fn fraction(since: Instant, until: Instant, now: Instant) -> f64 {
    let total = until.duration_since(since).as_secs_f64().max(f64::EPSILON);
    (now.duration_since(since).as_secs_f64() / total).min(1.0)
}

/// Tooltip of a busy model, as in `model-status-export-running.json`.
fn tooltip(label: &str, user: &str, started_ms: u64) -> String {
    let article = if label.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
    let (h, mi) = ((started_ms / 3_600_000) % 24, (started_ms / 60_000) % 60);
    format!(
        "The system is currently processing {article} {label}:\n\n{label} started by user {user}\n\n\
         {label} started at {h:02}:{mi:02} (UTC)\nTasks can be cancelled in Model Management."
    )
}

/// `GET /2/0/models/{m}/status`: the bare `requestStatus` (no envelope, as the live-tested
/// description has it), with a task id and a tooltip while a task is IN_PROGRESS or another
/// user holds the model (`make_model_busy`).
pub async fn model_status(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri) -> Response {
    if inner.catalog.model(&m).is_none() {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    let now = Instant::now();
    let mut st = inner.state();
    if let Some(status) = load_status(&mut st, &m, now) {
        return Json(json!({ "requestStatus": status })).into_response();
    }
    settle(&mut st, now);
    let me = format!("{} {} ({})", seed::USER_FIRST_NAME, seed::USER_LAST_NAME, seed::USER_EMAIL);
    let ms_at = |at: Instant| now_millis().saturating_sub(now.saturating_duration_since(at).as_millis() as u64);
    let running = st.bulk.tasks.iter().find(|t| t.model_id == m && t.state(now) == TaskState::InProgress);
    let busy = st.bulk.busy.get(&m).filter(|(_, until)| now < *until);
    let status = match (running, busy) {
        (Some(t), _) => Some((format!("{}-1", t.id), tooltip(t.kind.label(), &me, ms_at(t.start)), t.progress(now))),
        (None, Some((since, until))) => {
            let total = until.duration_since(*since).as_secs_f64().max(f64::EPSILON);
            let progress = now.duration_since(*since).as_secs_f64() / total;
            let other = "Other User (other.user@example.com)";
            Some((format!("{}-1", upper_hex_id()), tooltip("Process", other, ms_at(*since)), progress))
        }
        (None, None) => None,
    };
    let Some((task_id, tip, progress)) = status else {
        let idle = json!({ "currentStep": "Open", "progress": -1.0, "creationTime": now_millis() });
        return Json(json!({ "requestStatus": idle })).into_response();
    };
    // The bare `requestStatus`, busy or not: the live-tested description's one answer without
    // an envelope (the help page's busy example, for a POST, has one).
    let busy = json!({
        "exportTaskType": null,
        "taskId": task_id,
        "currentStep": "Processing ...",
        "tooltip": tip,
        "progress": progress,
        "creationTime": now_millis(),
    });
    Json(json!({ "requestStatus": busy })).into_response()
}
