//! Action tasks (reference §4.2–4.4, §4.8, §6.4): start, poll, list, cancel,
//! and the model status they show through.
//!
//! Tasks move with wall-clock time. A task waits NOT_STARTED for its action's
//! `queue` time (and, under [`BusyPolicy::Queue`], until the model's previous
//! task is terminal), runs IN_PROGRESS for `run`, then is COMPLETE with a
//! `result`. Nothing runs in the background: every handler first calls
//! [`settle`], which brings all tasks up to "now" in creation order, so side
//! effects (an import reading its file, an export writing its file, dumps
//! appearing or expiring) happen as if at the instant they were due.

use super::actions::{kind_of, scope};
use super::api::paged;
use super::bulk::{self, Kind};
use super::files::{self, FileState};
use super::results::{self, Outcome};
use super::util::{Ids, api_error, api_status, envelope, now_millis, query_get, query_pairs, upper_hex_id};
use super::{BusyPolicy, EmulatorState, Inner, seed};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One started action.
pub struct Task {
    pub id: String,
    pub workspace_id: String,
    pub model_id: String,
    pub kind: Kind,
    pub action_id: String,
    creation_ms: u64,
    created: Instant,
    queue: Duration,
    run: Duration,
    /// Planned start and natural end; fixed once the start is reached.
    pub start: Instant,
    end: Instant,
    started: bool,
    cancelled_at: Option<Instant>,
    /// Imports: the data source content read at start.
    input: Vec<u8>,
    settled: bool,
    pub outcome: Option<Outcome>,
}

/// Reported life-cycle state (CANCELLING only appears in the DELETE answer).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TaskState {
    NotStarted,
    InProgress,
    Complete,
    Cancelled,
}

impl Task {
    /// State reported at `now` (call `settle` first).
    pub fn state(&self, now: Instant) -> TaskState {
        match self.cancelled_at {
            Some(_) => TaskState::Cancelled,
            None if now < self.start => TaskState::NotStarted,
            None if now < self.end => TaskState::InProgress,
            None => TaskState::Complete,
        }
    }

    /// True while the task holds (or waits for) the model.
    pub fn active(&self, now: Instant) -> bool {
        matches!(self.state(now), TaskState::NotStarted | TaskState::InProgress)
    }

    /// Fraction of the run done at `at` (0 before the start).
    pub fn progress(&self, at: Instant) -> f64 {
        let Some(d) = at.checked_duration_since(self.start) else { return 0.0 };
        if self.run.is_zero() { 1.0 } else { (d.as_secs_f64() / self.run.as_secs_f64()).min(1.0) }
    }

    fn belongs(&self, (ws, m, kind, action): (&str, &str, Kind, &str)) -> bool {
        self.workspace_id == ws && self.model_id == m && self.kind == kind && self.action_id == action
    }
}

/// Bulk-API state kept in `EmulatorState`.
#[derive(Default)]
pub struct BulkState {
    pub tasks: Vec<Task>,
    /// `(queue, run)` overrides by action id, for tasks started later.
    pub timings: HashMap<String, (Duration, Duration)>,
    /// Model id → (since, until): busy with another user's task.
    pub busy: HashMap<String, (Instant, Instant)>,
    /// (model id, file id) → file state.
    pub files: HashMap<(String, String), FileState>,
    /// (model id, file id) of private files created by `POST …/files/{id}`.
    pub created_files: Vec<(String, String)>,
    pub task_starts: Vec<(String, String)>,
    pub cancel_requests: usize,
    /// (file id, task id): uploads touching the source of a non-terminal import.
    pub uploads_during_import: Vec<(String, String)>,
    /// Model id → `activeState` set by a test or the HTTP control (else the seed's).
    pub model_states: HashMap<String, String>,
    /// Task status and cancel find a task of the model by its id alone, whatever action
    /// the path names (the other reading of an undocumented check; off by default).
    pub tasks_by_id_alone: bool,
    /// The next `n` task starts are carried out, then their answer is held this long (a
    /// slow gateway, or time for a test to stop the caller meanwhile).
    pub held_starts: (u32, Duration),
    /// The next `n` task starts are carried out, then answered with this status instead
    /// (other POSTs, such as an upload's, are not touched).
    pub lost_starts: (u32, u16),
    /// Tasks whose Optimizer solution log Anaplan no longer has (their `solutionLogs` is a 404).
    pub forgotten_logs: std::collections::HashSet<String>,
}

/// A model's `activeState`: the one set with `Emulator::set_model_state`, else the seed's.
pub fn active_state(st: &EmulatorState, model: &super::data::Model) -> String {
    st.bulk.model_states.get(model.id).cloned().unwrap_or_else(|| model.active_state.to_owned())
}

/// What a model in `state` refuses, in the emulator's choice where the description is
/// silent: `LOCKED` refuses what changes the model (task starts: 423 "Model locked"),
/// `ARCHIVED` refuses task starts and data reads alike (422 "Model archived": an archived
/// model cannot be opened). Every other state, the maintenance ones and offline included,
/// serves the integration user (a workspace administrator) as usual.
pub fn state_refusal(state: &str, changes: bool, path: &str) -> Option<Response> {
    match state {
        "LOCKED" if changes => Some(api_error(StatusCode::LOCKED, "Model locked", path)),
        "ARCHIVED" => Some(api_error(StatusCode::UNPROCESSABLE_ENTITY, "Model archived", path)),
        _ => None,
    }
}

/// Brings every task up to `now` (see the module docs).
pub fn settle(st: &mut EmulatorState, now: Instant) {
    let BulkState { tasks, files, .. } = &mut st.bulk;
    let mut free_at: HashMap<String, Instant> = HashMap::new();
    let mut due = Vec::new();
    for (i, t) in tasks.iter_mut().enumerate() {
        if !t.started {
            // Queued behind the model's previous task (only possible under BusyPolicy::Queue).
            let earliest = t.created + t.queue;
            t.start = free_at.get(&t.model_id).map_or(earliest, |f| earliest.max(*f));
            t.end = t.start + t.run;
        }
        let effective_end = t.cancelled_at.map_or(t.end, |c| c.min(t.end));
        let slot = free_at.entry(t.model_id.clone()).or_insert(effective_end);
        *slot = (*slot).max(effective_end);
        if !t.started && t.cancelled_at.is_none() && t.start <= now {
            t.started = true;
            if let Some(def) = bulk::import(&t.action_id).filter(|_| t.kind == Kind::Import) {
                t.input = files::content(files, &t.model_id, def.file_id);
            }
        }
        if !t.settled && (t.cancelled_at.is_some() || t.end <= now) {
            t.settled = true;
            if t.cancelled_at.is_none() {
                due.push(i);
            }
        }
    }
    for i in due {
        let t = &tasks[i];
        let outcome = match t.kind {
            Kind::Import => bulk::import(&t.action_id).map(|d| results::import(d, &t.input)),
            Kind::Export => bulk::export(&t.action_id).map(results::export),
            Kind::Process => bulk::process(&t.action_id).map(results::process),
            Kind::Action => bulk::other_action(&t.action_id).map(results::other_action),
        };
        let Some(outcome) = outcome else { continue };
        for id in &outcome.produced {
            files.entry((t.model_id.clone(), id.to_string())).or_default().export_produced = true;
        }
        // A newer run of the same action replaces (deletes) older dumps (§4.5).
        let (model, kind, action) = (t.model_id.clone(), t.kind, t.action_id.clone());
        for older in tasks[..i].iter_mut().filter(|o| o.model_id == model && o.kind == kind && o.action_id == action) {
            if let Some(o) = older.outcome.as_mut() {
                o.dumps.clear();
            }
        }
        tasks[i].outcome = Some(outcome);
    }
}

/// The `task` object of a status answer.
fn task_json(t: &Task, now: Instant) -> Value {
    let state = t.state(now);
    let name = match state {
        TaskState::NotStarted => "NOT_STARTED",
        TaskState::InProgress => "IN_PROGRESS",
        TaskState::Complete => "COMPLETE",
        TaskState::Cancelled => "CANCELLED",
    };
    let mut o = Map::new();
    o.insert("taskId".into(), json!(t.id));
    o.insert("taskState".into(), json!(name));
    o.insert("creationTime".into(), json!(t.creation_ms));
    match state {
        TaskState::NotStarted => {
            o.insert("progress".into(), json!(0.0));
        }
        TaskState::InProgress => {
            o.insert("progress".into(), json!(t.progress(now)));
            o.insert("currentStep".into(), json!("Processing ..."));
        }
        TaskState::Complete => {
            o.insert("progress".into(), json!(1.0));
            o.insert("currentStep".into(), json!("Complete."));
            o.insert("result".into(), t.outcome.as_ref().map_or(Value::Null, |r| r.result.clone()));
        }
        TaskState::Cancelled => {
            o.insert("progress".into(), json!(t.progress(t.cancelled_at.unwrap_or(now))));
            o.insert("currentStep".into(), json!("Cancelled."));
            o.insert("cancelledBy".into(), json!(seed::USER_ID));
            let result = json!({ "failureDumpAvailable": false, "objectId": t.action_id, "successful": false });
            o.insert("result".into(), result);
        }
    }
    Value::Object(o)
}

fn task_answer(m: &str, task: Value) -> Response {
    let mut body = envelope(&format!("models/{m}/objects/task"));
    body.insert("task".into(), task);
    Json(Value::Object(body)).into_response()
}

/// Checks the `{"localeName":"en_US"}` body of a task start.
fn check_start_body(headers: &HeaderMap, body: &[u8], path: &str) -> Result<(), Response> {
    let bad = |msg: &str| api_error(StatusCode::BAD_REQUEST, msg, path);
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(bad("Content-Type must be application/json"));
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("Malformed JSON request body"));
    };
    match req.get("localeName") {
        None => return Err(bad("Missing parameter [localeName]")),
        Some(Value::String(l)) if l == "en_US" => {}
        Some(other) => {
            let shown = other.as_str().map_or_else(|| other.to_string(), str::to_string);
            return Err(bad(&format!("Unsupported locale [{shown}]; only en_US is supported")));
        }
    }
    // Optional runtime mapping prompts: [{"entityType": "...", "entityName": "..."}].
    if let Some(mp) = req.get("mappingParameters") {
        let ok =
            mp.as_array().is_some_and(|a| a.iter().all(|p| p["entityType"].is_string() && p["entityName"].is_string()));
        if !ok {
            return Err(bad("Invalid mappingParameters"));
        }
    }
    Ok(())
}

/// `POST …/{processes|exports|imports|actions}/{id}/tasks`. Checks, in order: scope and
/// action (404), body (400), model state (423 locked, 422 archived), busy (409).
pub async fn start(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (answer, hold) = start_now(&inner, (ws, m, id), &uri, &headers, &body);
    tokio::time::sleep(hold).await;
    if answer.status().is_success() {
        let mut st = inner.state();
        if st.bulk.lost_starts.0 > 0 {
            st.bulk.lost_starts.0 -= 1;
            let status = StatusCode::from_u16(st.bulk.lost_starts.1).unwrap_or(StatusCode::GATEWAY_TIMEOUT);
            return api_status(status, uri.path());
        }
    }
    answer
}

/// [`start`] up to its answer, and how long that answer is held (see `held_starts`).
fn start_now(
    inner: &Inner,
    (ws, m, id): (String, String, String),
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (Response, Duration) {
    let refused = |resp: Response| (resp, Duration::ZERO);
    let path = uri.path();
    let model = match scope(inner, &ws, &m, path) {
        Ok(model) => model,
        Err(resp) => return refused(resp),
    };
    let Some(kind) = kind_of(uri).filter(|k| model.bulk.has(*k, &id)) else {
        return refused(api_status(StatusCode::NOT_FOUND, path));
    };
    if let Err(resp) = check_start_body(headers, body, path) {
        return refused(resp);
    }
    let now = Instant::now();
    let mut st = inner.state();
    if let Some(refusal) = state_refusal(&active_state(&st, model), true, path) {
        return refused(refusal);
    }
    settle(&mut st, now);
    let busy_elsewhere = st.bulk.busy.get(&m).is_some_and(|(_, until)| now < *until);
    let busy_here = st.bulk.tasks.iter().any(|t| t.model_id == m && t.active(now));
    if busy_elsewhere || (busy_here && inner.cfg.busy_policy == BusyPolicy::Conflict) {
        return refused(api_error(StatusCode::CONFLICT, "The model is currently busy with another task", path));
    }
    let default_run = bulk::process(&id).filter(|_| kind == Kind::Process).map_or(seed::DEFAULT_RUN, |p| p.run);
    let (queue, run) = st.bulk.timings.get(&id).copied().unwrap_or((seed::DEFAULT_QUEUE, default_run));
    let task = Task {
        id: upper_hex_id(),
        workspace_id: ws,
        model_id: m.clone(),
        kind,
        action_id: id.clone(),
        creation_ms: now_millis(),
        created: now,
        queue,
        run,
        start: now + queue,
        end: now + queue + run,
        started: false,
        cancelled_at: None,
        input: Vec::new(),
        settled: false,
        outcome: None,
    };
    let answer = json!({ "taskId": task.id, "taskState": "NOT_STARTED", "creationTime": task.creation_ms });
    st.bulk.task_starts.push((id, task.id.clone()));
    st.bulk.tasks.push(task);
    // Settle again so a zero queue under Queue policy is placed behind the running task.
    settle(&mut st, now);
    let hold = match &mut st.bulk.held_starts {
        (n, hold) if *n > 0 => {
            *n -= 1;
            *hold
        }
        _ => Duration::ZERO,
    };
    (task_answer(&m, answer), hold)
}

/// `GET …/{kind}/{id}/tasks[?sort=-creationDate]` → `tasks[{taskId,taskState,creationTime}]`.
pub async fn list(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    let model = match scope(&inner, &ws, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let Some(kind) = kind_of(&uri).filter(|k| model.bulk.has(*k, &id)) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let now = Instant::now();
    let mut items: Vec<Value> = {
        let mut st = inner.state();
        settle(&mut st, now);
        st.bulk
            .tasks
            .iter()
            .filter(|t| t.belongs((&ws, &m, kind, &id)))
            .map(|t| {
                let full = task_json(t, now);
                json!({ "taskId": full["taskId"], "taskState": full["taskState"], "creationTime": full["creationTime"] })
            })
            .collect()
    };
    // The sort field is not validated (as live); a leading '-' means newest first.
    if query_get(&query_pairs(uri.query()), "sort").is_some_and(|s| s.starts_with('-')) {
        items.reverse();
    }
    paged(&inner, &uri, "tasks", &format!("models/{m}/objects/task"), items)
}

/// Finds the task under exactly the action that created it.
pub fn find<'a>(
    st: &'a mut EmulatorState,
    (ws, m, kind, action): (&str, &str, Kind, &str),
    task_id: &str,
) -> Option<&'a mut Task> {
    let by_id_alone = st.bulk.tasks_by_id_alone;
    st.bulk.tasks.iter_mut().find(|t| {
        t.id == task_id
            && (t.belongs((ws, m, kind, action)) || (by_id_alone && t.workspace_id == ws && t.model_id == m))
    })
}

/// `GET …/{kind}/{id}/tasks/{taskId}`.
pub async fn status(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id, task_id)): Ids<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    let Some(kind) = kind_of(&uri) else { return api_status(StatusCode::NOT_FOUND, uri.path()) };
    let now = Instant::now();
    let mut st = inner.state();
    settle(&mut st, now);
    match find(&mut st, (&ws, &m, kind, &id), &task_id) {
        Some(t) => task_answer(&m, task_json(t, now)),
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

/// `DELETE …/{kind}/{id}/tasks/{taskId}` (not for other actions: no cancel is documented
/// for their tasks, so that route answers 405): 200 with `CANCELLING`; the next poll
/// shows `CANCELLED`. A terminal task answers 400. Every DELETE that names an
/// existing task counts in `cancel_requests`.
pub async fn cancel(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id, task_id)): Ids<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    let path = uri.path();
    let Some(kind) = kind_of(&uri) else { return api_status(StatusCode::NOT_FOUND, path) };
    let now = Instant::now();
    let mut st = inner.state();
    settle(&mut st, now);
    let Some(t) = find(&mut st, (&ws, &m, kind, &id), &task_id) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    let refusal = match t.state(now) {
        TaskState::Complete => Some(format!("Task [{task_id}] has already completed and cannot be cancelled")),
        TaskState::Cancelled => Some(format!("Task [{task_id}] has already been cancelled")),
        _ => None,
    };
    let answer = refusal.is_none().then(|| {
        t.cancelled_at = Some(now);
        let mut task = task_json(t, now);
        task["taskState"] = json!("CANCELLING");
        task["currentStep"] = json!("Cancelling ...");
        if let Some(o) = task.as_object_mut() {
            o.remove("result");
            o.remove("cancelledBy");
        }
        task
    });
    st.bulk.cancel_requests += 1;
    settle(&mut st, now);
    match (answer, refusal) {
        (Some(task), _) => task_answer(&m, task),
        (None, msg) => api_error(StatusCode::BAD_REQUEST, &msg.unwrap_or_default(), path),
    }
}
