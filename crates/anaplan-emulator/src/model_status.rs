//! Model state (reference §4.8): `GET /2/0/models/{m}/status`, which shows a
//! running task of this user or another user's (`make_model_busy`).

use super::tasks::{TaskState, settle};
use super::util::{Ids, api_status, now_millis, upper_hex_id};
use super::{Inner, seed};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

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
