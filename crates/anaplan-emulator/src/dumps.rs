//! Failure dumps (reference §4.5): the CSV of failed rows a finished run left.
//!
//! Process: `…/processes/{p}/tasks/{t}/dumps/{objectId}[/chunks[/{n}]]`, where
//! `objectId` is the failing step's object id; import:
//! `…/imports/{i}/tasks/{t}/dump[/chunks[/{n}]]`. Every path answers 404 unless
//! the task resolves under that action, is COMPLETE, and its dump is still
//! live: a newer run of the same action, `expire_dumps`, or the data set's
//! Stale Dump process make it 404 although the task still says
//! `failureDumpAvailable: true`. Chunks are `dump_chunk_size` bytes. The whole dump and its
//! chunks are `text/plain`, as the live-tested description has the import dump (the
//! process dump, which it does not describe, answers the same way).
//!
//! Optimizer solution logs: `…/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs`,
//! the solver's log of a process task that ran the Optimizer action, `text/plain`. The
//! description's order: a caller below Workspace Administrator (every seeded user but the
//! integration user) → 403 before any id is read; then 404 unless `actionId` is an
//! `OPTIMIZER` action of the model (the process's own id is a 404) and `correlationId` is a
//! completed task of a process of the model whose steps include that action (the task id of
//! the containing process, as live-tested). A task of the action run on its own, one still
//! running, a cancelled one, or one whose log the test control `forget_solution_logs` took
//! away has no log (404).

use super::Inner;
use super::actions::scope;
use super::bulk::{self, Kind, Step};
use super::files::chunk_list;
use super::tasks::{TaskState, find, settle};
use super::util::{Ids, api_status};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// The live dump of `object` in a completed task, or Anaplan's 404.
fn dump(
    inner: &Inner,
    (ws, m, kind, action): (&str, &str, Kind, &str),
    task: &str,
    object: &str,
    path: &str,
) -> Result<Vec<u8>, Response> {
    scope(inner, ws, m, path)?;
    let now = Instant::now();
    let mut st = inner.state();
    settle(&mut st, now);
    find(&mut st, (ws, m, kind, action), task)
        .filter(|t| t.state(now) == TaskState::Complete)
        .and_then(|t| t.outcome.as_ref()?.dumps.get(object).cloned())
        .ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))
}

fn chunk_size(inner: &Inner) -> usize {
    inner.cfg.dump_chunk_size.max(1)
}

/// A `text/plain` answer.
fn text(bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

fn whole_answer(found: Result<Vec<u8>, Response>) -> Response {
    match found {
        Ok(bytes) => text(bytes),
        Err(resp) => resp,
    }
}

fn chunks_answer(inner: &Inner, uri: &Uri, m: &str, found: Result<Vec<u8>, Response>) -> Response {
    match found {
        Ok(bytes) => chunk_list(inner, uri, m, bytes.len().div_ceil(chunk_size(inner))),
        Err(resp) => resp,
    }
}

fn chunk_answer(inner: &Inner, path: &str, n: &str, found: Result<Vec<u8>, Response>) -> Response {
    let bytes = match found {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    match n.parse::<usize>().ok().and_then(|n| bytes.chunks(chunk_size(inner)).nth(n)) {
        Some(part) => text(part.to_vec()),
        None => api_status(StatusCode::NOT_FOUND, path),
    }
}

/// `GET …/processes/{p}/tasks/{t}/dumps/{objectId}` → whole dump, `text/plain`.
pub async fn process_whole(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, p, t, o)): Ids<(String, String, String, String, String)>,
    uri: Uri,
) -> Response {
    whole_answer(dump(&inner, (&ws, &m, Kind::Process, &p), &t, &o, uri.path()))
}

/// `GET …/processes/{p}/tasks/{t}/dumps/{objectId}/chunks` → `chunks[{id,name}]`.
pub async fn process_chunks(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, p, t, o)): Ids<(String, String, String, String, String)>,
    uri: Uri,
) -> Response {
    let found = dump(&inner, (&ws, &m, Kind::Process, &p), &t, &o, uri.path());
    chunks_answer(&inner, &uri, &m, found)
}

/// `GET …/processes/{p}/tasks/{t}/dumps/{objectId}/chunks/{n}` → `text/plain`.
pub async fn process_chunk(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, p, t, o, n)): Ids<(String, String, String, String, String, String)>,
    uri: Uri,
) -> Response {
    let found = dump(&inner, (&ws, &m, Kind::Process, &p), &t, &o, uri.path());
    chunk_answer(&inner, uri.path(), &n, found)
}

/// `GET …/imports/{i}/tasks/{t}/dump` → whole dump, `text/plain`.
pub async fn import_whole(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, i, t)): Ids<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    whole_answer(dump(&inner, (&ws, &m, Kind::Import, &i), &t, &i, uri.path()))
}

/// `GET …/imports/{i}/tasks/{t}/dump/chunks` → `chunks[{id,name}]`.
pub async fn import_chunks(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, i, t)): Ids<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    let found = dump(&inner, (&ws, &m, Kind::Import, &i), &t, &i, uri.path());
    chunks_answer(&inner, &uri, &m, found)
}

/// `GET …/imports/{i}/tasks/{t}/dump/chunks/{n}` → `text/plain`.
pub async fn import_chunk(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, i, t, n)): Ids<(String, String, String, String, String)>,
    uri: Uri,
) -> Response {
    let found = dump(&inner, (&ws, &m, Kind::Import, &i), &t, &i, uri.path());
    chunk_answer(&inner, uri.path(), &n, found)
}

/// `GET …/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs` → the solver log,
/// `text/plain` (see the module docs for its refusals).
pub async fn solution_log(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, action, correlation)): Ids<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if super::auth::token_user(&inner, &headers) != Some(0) {
        return api_status(StatusCode::FORBIDDEN, path);
    }
    let model = match scope(&inner, &ws, &m, path) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    if !model.bulk.actions.iter().any(|a| a.id == action && a.action_type == "OPTIMIZER") {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let runs_it = |process: &str| {
        bulk::process(process)
            .is_some_and(|p| p.steps.iter().any(|s| matches!(s, Step::Optimizer { id } if *id == action)))
    };
    let now = Instant::now();
    let mut st = inner.state();
    settle(&mut st, now);
    let ran = st.bulk.tasks.iter().any(|t| {
        t.id == correlation
            && t.workspace_id == ws
            && t.model_id == m
            && t.kind == Kind::Process
            && t.state(now) == TaskState::Complete
            && runs_it(&t.action_id)
    }) && !st.bulk.forgotten_logs.contains(&correlation);
    if ran {
        text(super::seed::SUPPLY_PLAN_SOLVER_LOG.as_bytes().to_vec())
    } else {
        api_status(StatusCode::NOT_FOUND, path)
    }
}
