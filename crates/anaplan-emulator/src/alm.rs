//! Application lifecycle management (the ALM description), with its state in [`AlmState`].
//!
//! - `GET /2/0/models/{m}/alm/revisions` → `revisions[]` (paged; oldest first),
//!   `GET .../alm/latestRevision` → `revisions[one]`, or only `meta` and `status` when the
//!   model has none (the schema's key; the live note's `revision` is not emulated),
//!   `GET .../alm/syncableRevisions?sourceModelId=` → the source's revisions newer than the
//!   target's latest one, newest first (none when the target's latest revision is not in the
//!   source's history), `GET .../alm/revisions/{r}/appliedToModels` → `appliedToModels[]`,
//!   the model it was created in first.
//! - `POST .../alm/revisions {"name", "description"}` → 201 `revisions[one]`: the model must be
//!   in standard mode (not `PRODUCTION`, deployed) and have structural changes since its last
//!   revision (documented); both refusals are a 422 here, the emulator's choice, since the
//!   description documents the rule but no status for it. Adding a revision clears the
//!   changes; `POST /_emulator/alm?structuralChange=M` makes some again.
//! - `POST .../alm/syncTasks {"sourceRevisionId", "sourceModelId", "targetRevisionId"}` (all
//!   three required, with the live-tested wording) → 201 `task` `IN_PROGRESS`;
//!   `GET .../alm/syncTasks/{t}` → `COMPLETE` after [`AlmState::task_time`], with
//!   `result.successful`, and `result.error{title, messageText}` when the sync failed: a
//!   target revision that is not the target's latest, a source revision that is not syncable
//!   into it, or a failure steered with `POST /_emulator/alm?failNextSync=<message>`. A
//!   successful sync applies the source revision to the target. `GET .../alm/syncTasks` lists
//!   them. No cancel: the description documents none.
//! - `POST .../alm/comparisonReportTasks` | `summaryReportTasks` (the same body) → 201 `task`;
//!   `GET .../{kind}ReportTasks/{t}`; once complete, `result.reportFileUrl` and the report:
//!   `GET .../comparisonReports/{targetRev}/{sourceRev}` (TSV, only to `Accept:
//!   application/octet-stream`, else the live-tested 406) and
//!   `GET .../summaryReports/{targetRev}/{sourceRev}` (`summaryReport`); 404 before.
//!
//! Every operation: a caller who is not a workspace administrator → 403 first; an unknown
//! model → 404; an `ARCHIVED` model → 422 (documented), a `LOCKED` one refuses changes (423,
//! as task starts do).
//!
//! Seed (the release story): Pipeline DEV (standard mode, with structural changes) has two
//! revisions, [`REVISION_LAUNCH_ID`] (applied to Pipeline PROD) and
//! [`REVISION_TERRITORIES_ID`] (not yet: syncable into PROD). Pipeline PROD (`PRODUCTION`)
//! has the first. Other models have none.

use super::api::{find_model, paged};
use super::model_data::is_json;
use super::seed::*;
use super::tasks::{active_state, state_refusal};
use super::util::{Ids, api_error, api_status, envelope};
use super::{EmulatorState, Inner};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One revision tag.
#[derive(Clone, Debug)]
struct Revision {
    id: String,
    name: String,
    description: Option<String>,
    created_on: String,
    created_by: String,
}

/// A model a revision was applied to, and when.
#[derive(Clone, Debug)]
struct Applied {
    model: String,
    on: String,
    method: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskKind {
    Sync,
    Comparison,
    Summary,
}

impl TaskKind {
    /// The kind a path `/2/0/models/{m}/alm/{kind}...` names.
    fn of(path: &str) -> Option<TaskKind> {
        match path.split('/').nth(6).unwrap_or("") {
            "syncTasks" => Some(TaskKind::Sync),
            "comparisonReportTasks" => Some(TaskKind::Comparison),
            "summaryReportTasks" => Some(TaskKind::Summary),
            _ => None,
        }
    }
}

/// A sync or report task.
#[derive(Clone, Debug)]
struct Task {
    id: String,
    kind: TaskKind,
    model: String,
    source_revision: String,
    target_revision: String,
    created: Instant,
    creation_time: String,
    /// Why it fails, decided at its start.
    failure: Option<(String, String)>,
    /// Its outcome, applied once.
    done: bool,
}

/// ALM state: revisions, each model's history, tasks and the finished reports.
pub struct AlmState {
    seeded: bool,
    revisions: HashMap<String, Revision>,
    /// Each model's revisions in the order they were applied (created or synced).
    history: HashMap<String, Vec<String>>,
    /// The models each revision was applied to, the model it was created in first.
    applied: HashMap<String, Vec<Applied>>,
    /// Models with structural changes since their last revision.
    changed: HashSet<String>,
    tasks: Vec<Task>,
    /// Finished reports: (kind, model, target revision, source revision).
    reports: HashSet<(bool, String, String, String)>,
    /// How long a sync or report task runs.
    pub task_time: Duration,
    /// The next sync fails with this message.
    fail_next_sync: Option<String>,
}

impl Default for AlmState {
    fn default() -> Self {
        AlmState {
            seeded: false,
            revisions: HashMap::new(),
            history: HashMap::new(),
            applied: HashMap::new(),
            changed: HashSet::new(),
            tasks: Vec::new(),
            reports: HashSet::new(),
            task_time: Duration::from_millis(600),
            fail_next_sync: None,
        }
    }
}

impl AlmState {
    fn seed(&mut self) {
        if self.seeded {
            return;
        }
        self.seeded = true;
        let rev = |id: &str, name: &str, description: &str, on: &str| Revision {
            id: id.to_owned(),
            name: name.to_owned(),
            description: Some(description.to_owned()),
            created_on: on.to_owned(),
            created_by: USER_EMAIL.to_owned(),
        };
        for r in [
            rev(
                REVISION_LAUNCH_ID,
                REVISION_LAUNCH_NAME,
                "Pipeline stages and the weekly forecast",
                "2026-10-01T09:00:00.000Z",
            ),
            rev(
                REVISION_TERRITORIES_ID,
                REVISION_TERRITORIES_NAME,
                "Territories by region",
                "2026-11-16T09:00:00.000Z",
            ),
        ] {
            self.revisions.insert(r.id.clone(), r);
        }
        let applied = |model: &str, on: &str, method| Applied { model: model.to_owned(), on: on.to_owned(), method };
        self.applied.insert(
            REVISION_LAUNCH_ID.into(),
            vec![
                applied(MODEL_DEV_ID, "2026-10-01T09:00:00.000Z", "created"),
                applied(MODEL_PROD_ID, "2026-10-02T07:30:00.000Z", "sync"),
            ],
        );
        self.applied
            .insert(REVISION_TERRITORIES_ID.into(), vec![applied(MODEL_DEV_ID, "2026-11-16T09:00:00.000Z", "created")]);
        self.history.insert(MODEL_DEV_ID.into(), vec![REVISION_LAUNCH_ID.into(), REVISION_TERRITORIES_ID.into()]);
        self.history.insert(MODEL_PROD_ID.into(), vec![REVISION_LAUNCH_ID.into()]);
        self.changed.insert(MODEL_DEV_ID.into());
    }

    fn history(&self, model: &str) -> &[String] {
        self.history.get(model).map(Vec::as_slice).unwrap_or(&[])
    }

    fn latest(&self, model: &str) -> Option<&String> {
        self.history(model).last()
    }

    /// The revisions of `source` that can be synced into `target`, newest first.
    fn syncable(&self, target: &str, source: &str) -> Vec<String> {
        let Some(latest) = self.latest(target) else { return Vec::new() };
        let from = self.history(source);
        match from.iter().position(|r| r == latest) {
            Some(i) => from[i + 1..].iter().rev().cloned().collect(),
            None => Vec::new(),
        }
    }

    fn revision_json(&self, id: &str, model: &str) -> Value {
        let Some(r) = self.revisions.get(id) else { return Value::Null };
        let mut v = Map::new();
        v.insert("id".into(), json!(r.id));
        v.insert("name".into(), json!(r.name));
        if let Some(d) = &r.description {
            v.insert("description".into(), json!(d));
        }
        v.insert("createdOn".into(), json!(r.created_on));
        v.insert("createdBy".into(), json!(r.created_by));
        v.insert("creationMethod".into(), json!("user"));
        if let Some(a) = self.applied.get(id).and_then(|all| all.iter().find(|a| a.model == model)) {
            v.insert("appliedOn".into(), json!(a.on));
            v.insert("appliedBy".into(), json!(USER_EMAIL));
        }
        Value::Object(v)
    }

    /// Brings every task up to `now`: a finished sync applies its revision once.
    fn settle(&mut self, now: Instant) {
        let time = self.task_time;
        let mut finished = Vec::new();
        for t in self.tasks.iter_mut().filter(|t| !t.done && now >= t.created + time) {
            t.done = true;
            finished.push(t.clone());
        }
        for t in finished {
            if t.failure.is_some() {
                continue;
            }
            match t.kind {
                TaskKind::Sync => {
                    self.history.entry(t.model.clone()).or_default().push(t.source_revision.clone());
                    self.applied.entry(t.source_revision.clone()).or_default().push(Applied {
                        model: t.model.clone(),
                        on: now_iso(),
                        method: "sync",
                    });
                }
                kind => {
                    self.reports.insert((kind == TaskKind::Comparison, t.model, t.target_revision, t.source_revision));
                }
            }
        }
    }

    fn task_json(&self, t: &Task, base: &str) -> Value {
        let segment = match t.kind {
            TaskKind::Sync => "syncTasks",
            TaskKind::Comparison => "comparisonReportTasks",
            TaskKind::Summary => "summaryReportTasks",
        };
        let mut v = Map::new();
        v.insert("taskId".into(), json!(t.id));
        v.insert("taskUrl".into(), json!(format!("{base}/2/0/models/{}/alm/{segment}/{}", t.model, t.id)));
        v.insert("taskState".into(), json!(if t.done { "COMPLETE" } else { "IN_PROGRESS" }));
        v.insert("creationTime".into(), json!(t.creation_time));
        if t.done {
            let result = match (&t.failure, t.kind) {
                (Some((title, message)), _) => {
                    json!({ "successful": false, "error": { "title": title, "messageText": message } })
                }
                (None, TaskKind::Sync) => json!({ "successful": true }),
                (None, kind) => {
                    let reports = if kind == TaskKind::Comparison { "comparisonReports" } else { "summaryReports" };
                    json!({ "successful": true, "reportFileUrl": format!(
                        "{base}/2/0/models/{}/alm/{reports}/{}/{}", t.model, t.target_revision, t.source_revision
                    ) })
                }
            };
            v.insert("result".into(), result);
        }
        Value::Object(v)
    }
}

fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    now.format(format).unwrap_or_default()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string().to_ascii_uppercase()
}

pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/2/0/models/{m}/alm/revisions", get(revisions).post(create_revision))
        .route("/2/0/models/{m}/alm/latestRevision", get(latest_revision))
        .route("/2/0/models/{m}/alm/syncableRevisions", get(syncable_revisions))
        .route("/2/0/models/{m}/alm/revisions/{r}/appliedToModels", get(applied_to_models))
        .route("/2/0/models/{m}/alm/syncTasks", get(list_tasks).post(start_task))
        .route("/2/0/models/{m}/alm/syncTasks/{t}", get(task_status))
        .route("/2/0/models/{m}/alm/comparisonReportTasks", post(start_task))
        .route("/2/0/models/{m}/alm/comparisonReportTasks/{t}", get(task_status))
        .route("/2/0/models/{m}/alm/summaryReportTasks", post(start_task))
        .route("/2/0/models/{m}/alm/summaryReportTasks/{t}", get(task_status))
        .route("/2/0/models/{m}/alm/comparisonReports/{tr}/{sr}", get(comparison_report))
        .route("/2/0/models/{m}/alm/summaryReports/{tr}/{sr}", get(summary_report))
        .route("/_emulator/alm", post(control))
}

/// The checks every operation makes first: the role (403), the model (404), its state
/// (ARCHIVED 422; LOCKED 423 for a change). Answers the locked state, seeded and settled.
fn admit<'a>(
    inner: &'a Inner,
    headers: &HeaderMap,
    m: &str,
    path: &str,
    changes: bool,
) -> Result<std::sync::MutexGuard<'a, EmulatorState>, Response> {
    if super::auth::token_user(inner, headers) != Some(0) {
        return Err(api_status(StatusCode::FORBIDDEN, path));
    }
    let model = find_model(inner, m, path)?;
    let mut st = inner.state();
    if let Some(refusal) = state_refusal(&active_state(&st, model), changes, path) {
        return Err(refusal);
    }
    st.alm.seed();
    st.alm.settle(Instant::now());
    Ok(st)
}

/// `GET /2/0/models/{m}/alm/revisions`.
async fn revisions(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let items = st.alm.history(&m).iter().map(|id| st.alm.revision_json(id, &m)).collect();
    drop(st);
    paged(&inner, &uri, "revisions", "objects/revision", items)
}

/// `GET /2/0/models/{m}/alm/latestRevision`.
async fn latest_revision(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let st = match admit(&inner, &headers, &m, uri.path(), false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let mut body = envelope("objects/revision");
    if let Some(id) = st.alm.latest(&m) {
        body.insert("revisions".into(), json!([st.alm.revision_json(id, &m)]));
    }
    Json(Value::Object(body)).into_response()
}

/// `GET /2/0/models/{m}/alm/syncableRevisions?sourceModelId=`.
async fn syncable_revisions(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let Some(source) = q.get("sourceModelId") else {
        return api_error(StatusCode::BAD_REQUEST, "Expected mandatory parameter 'sourceModelId'", path);
    };
    if inner.catalog.model(source).is_none() {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let mut body = envelope("objects/revision");
    let items: Vec<Value> = st.alm.syncable(&m, source).iter().map(|id| st.alm.revision_json(id, source)).collect();
    if !items.is_empty() {
        body.insert("revisions".into(), Value::Array(items));
    }
    Json(Value::Object(body)).into_response()
}

/// `GET /2/0/models/{m}/alm/revisions/{r}/appliedToModels`.
async fn applied_to_models(
    State(inner): State<Arc<Inner>>,
    Ids((m, r)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    if !st.alm.history(&m).contains(&r) {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let models: Vec<Value> = st
        .alm
        .applied
        .get(&r)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|a| {
            let model = inner.catalog.model(&a.model);
            json!({
                "modelId": a.model,
                "modelName": model.map(|m| m.name),
                "workspaceId": model.map(|m| m.workspace_id),
                "appliedBy": USER_EMAIL,
                "appliedOn": a.on,
                "appliedMethod": a.method,
                "modelDeleted": false,
            })
        })
        .collect();
    let mut body = envelope("objects/appliedToModels");
    body.insert("appliedToModels".into(), Value::Array(models));
    Json(Value::Object(body)).into_response()
}

/// The JSON object of a POST, or the 400 that refuses it.
fn body_object(headers: &HeaderMap, body: &[u8], path: &str, fields: &[&str]) -> Result<Map<String, Value>, Response> {
    let bad = |message: &str| api_error(StatusCode::BAD_REQUEST, message, path);
    if !is_json(headers) {
        return Err(bad("Content-Type must be application/json"));
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("Malformed JSON request body"));
    };
    if let Some(other) = map.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(bad(&format!(
            "Identified an unrecognized '{other}'. Amend the content so it only contains applicable fields."
        )));
    }
    if map.values().any(|v| !v.is_string()) {
        return Err(bad("Malformed JSON request body"));
    }
    Ok(map)
}

/// `POST /2/0/models/{m}/alm/revisions`.
async fn create_revision(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let mut st = match admit(&inner, &headers, &m, path, true) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let map = match body_object(&headers, &body, path, &["name", "description"]) {
        Ok(map) => map,
        Err(resp) => return resp,
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    let (name, description) = (text("name").unwrap_or_default(), text("description"));
    if name.trim().is_empty() {
        return api_error(StatusCode::BAD_REQUEST, "Expected mandatory field 'name' to be present.", path);
    }
    if name.chars().count() > 60 {
        return api_error(StatusCode::BAD_REQUEST, "Revision name must not exceed 60 characters.", path);
    }
    if description.as_deref().is_some_and(|d| d.chars().count() > 250) {
        return api_error(StatusCode::BAD_REQUEST, "Revision description must not exceed 250 characters.", path);
    }
    let model = inner.catalog.model(&m).expect("admitted");
    if active_state(&st, model) == "PRODUCTION" {
        let message = "A revision tag can only be added to a model in standard mode; this model is in deployed mode.";
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, message, path);
    }
    if !st.alm.changed.contains(&m) {
        let message = "There are no structural changes since the last revision tag.";
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, message, path);
    }
    let now = now_iso();
    let id = new_id();
    let revision =
        Revision { id: id.clone(), name, description, created_on: now.clone(), created_by: USER_EMAIL.into() };
    st.alm.revisions.insert(id.clone(), revision);
    st.alm.history.entry(m.clone()).or_default().push(id.clone());
    st.alm.applied.insert(id.clone(), vec![Applied { model: m.clone(), on: now, method: "created" }]);
    st.alm.changed.remove(&m);
    let mut out = envelope("objects/revision");
    out.insert("revisions".into(), json!([st.alm.revision_json(&id, &m)]));
    (StatusCode::CREATED, Json(Value::Object(out))).into_response()
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// `POST /2/0/models/{m}/alm/{syncTasks | comparisonReportTasks | summaryReportTasks}`.
async fn start_task(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let Some(kind) = TaskKind::of(path) else { return api_status(StatusCode::NOT_FOUND, path) };
    let mut st = match admit(&inner, &headers, &m, path, kind == TaskKind::Sync) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let fields = ["sourceRevisionId", "sourceModelId", "targetRevisionId"];
    let map = match body_object(&headers, &body, path, &fields) {
        Ok(map) => map,
        Err(resp) => return resp,
    };
    let get = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let (source_revision, source_model, target_revision) = (get(fields[0]), get(fields[1]), get(fields[2]));
    if [&source_revision, &source_model, &target_revision].iter().any(|v| v.is_empty()) {
        let message = "Expected mandatory fields 'sourceRevisionId', 'sourceModelId' and 'targetRevisionId'";
        return api_error(StatusCode::BAD_REQUEST, message, path);
    }
    if inner.catalog.model(&source_model).is_none() {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let alm = &mut st.alm;
    let failure = if !alm.history(&source_model).contains(&source_revision) {
        Some((
            "Revision not found".to_owned(),
            format!("Revision {source_revision} is not a revision of the source model."),
        ))
    } else if !alm.history(&m).contains(&target_revision) {
        Some((
            "Revision not found".to_owned(),
            format!("Revision {target_revision} is not a revision of the target model."),
        ))
    } else if kind == TaskKind::Sync && alm.latest(&m) != Some(&target_revision) {
        Some((
            "Target revision is not the latest".to_owned(),
            format!("Revision {target_revision} is not the latest revision of the target model."),
        ))
    } else if kind == TaskKind::Sync && !alm.syncable(&m, &source_model).contains(&source_revision) {
        Some((
            "Revision not syncable".to_owned(),
            format!("Revision {source_revision} cannot be synchronized into the target model."),
        ))
    } else if kind == TaskKind::Sync {
        alm.fail_next_sync.take().map(|message| ("Model sync failed".to_owned(), message))
    } else {
        None
    };
    let task = Task {
        id: new_id(),
        kind,
        model: m.clone(),

        source_revision,
        target_revision,
        created: Instant::now(),
        creation_time: now_iso(),
        failure,
        done: false,
    };
    let answer = alm.task_json(&task, &base_url(&headers));
    alm.tasks.push(task);
    let mut out = envelope("objects/task");
    out.insert("task".into(), answer);
    (StatusCode::CREATED, Json(Value::Object(out))).into_response()
}

/// `GET /2/0/models/{m}/alm/syncTasks`.
async fn list_tasks(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let base = base_url(&headers);
    let items: Vec<Value> = st
        .alm
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Sync && t.model == m)
        .map(|t| st.alm.task_json(t, &base))
        .collect();
    let mut out = envelope("objects/task");
    if !items.is_empty() {
        out.insert("tasks".into(), Value::Array(items));
    }
    Json(Value::Object(out)).into_response()
}

/// `GET /2/0/models/{m}/alm/{kind}/{t}`.
async fn task_status(
    State(inner): State<Arc<Inner>>,
    Ids((m, t)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let Some(kind) = TaskKind::of(path) else { return api_status(StatusCode::NOT_FOUND, path) };
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    let Some(task) = st.alm.tasks.iter().find(|x| x.id == t && x.kind == kind && x.model == m) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    let mut out = envelope("objects/task");
    out.insert("task".into(), st.alm.task_json(task, &base_url(&headers)));
    Json(Value::Object(out)).into_response()
}

/// `GET /2/0/models/{m}/alm/comparisonReports/{tr}/{sr}`: TSV to an octet-stream Accept only.
async fn comparison_report(
    State(inner): State<Arc<Inner>>,
    Ids((m, tr, sr)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !accept.contains("application/octet-stream") {
        return api_status(StatusCode::NOT_ACCEPTABLE, path);
    }
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    if !st.alm.reports.contains(&(true, m.clone(), tr.clone(), sr.clone())) {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let name = |id: &str| st.alm.revisions.get(id).map(|r| r.name.clone()).unwrap_or_default();
    let tsv = format!(
        "Comparison report\t{}\t{}\nLists Added\nTerritories\nModules Added\nTER01 Territory Assignment\nLine Items Added\n\
         TER01 Territory Assignment\tOwner\n",
        name(&tr),
        name(&sr)
    );
    ([(header::CONTENT_TYPE, "application/octet-stream")], tsv).into_response()
}

/// `GET /2/0/models/{m}/alm/summaryReports/{tr}/{sr}`.
async fn summary_report(
    State(inner): State<Arc<Inner>>,
    Ids((m, tr, sr)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let st = match admit(&inner, &headers, &m, path, false) {
        Ok(st) => st,
        Err(resp) => return resp,
    };
    if !st.alm.reports.contains(&(false, m.clone(), tr.clone(), sr.clone())) {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    Json(json!({ "summaryReport": {
        "targetRevisionId": tr,
        "sourceRevisionId": sr,
        "totals": { "modified": 1, "deleted": 0, "created": 3 },
        "differences": {
            "lists": { "created": 1 },
            "modules": { "created": 1 },
            "lineItems": { "created": 1, "modified": 1 },
        },
    } }))
    .into_response()
}

/// `POST /_emulator/alm?failNextSync=<message>&structuralChange=<model>&taskMillis=<n>`.
async fn control(State(inner): State<Arc<Inner>>, uri: Uri, Query(q): Query<HashMap<String, String>>) -> Response {
    let path = uri.path();
    let mut st = inner.state();
    st.alm.seed();
    if let Some(m) = q.get("structuralChange") {
        if inner.catalog.model(m).is_none() {
            return api_error(
                StatusCode::NOT_FOUND,
                "Invalid value for parameter [structuralChange]: no such model",
                path,
            );
        }
        st.alm.changed.insert(m.clone());
    }
    if let Some(message) = q.get("failNextSync") {
        st.alm.fail_next_sync = Some(message.clone());
    }
    if let Some(ms) = q.get("taskMillis") {
        match ms.parse::<u64>() {
            Ok(ms) => st.alm.task_time = Duration::from_millis(ms),
            Err(_) => return api_error(StatusCode::BAD_REQUEST, "Invalid value for parameter [taskMillis]", path),
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
