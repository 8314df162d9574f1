//! `run-process`: starts an Anaplan process and follows it with the async pattern. The
//! final 200 carries Anaplan's nested results; a failed process is a 422 with one entry
//! per failed step and its dump.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::task_call::{self, TaskCall};
use crate::anaplan::Listing;
use crate::anaplan::ids::ProcessId;
use crate::anaplan::tasks::{Action, ActionRef, Task};
use crate::http::{AppState, Call, Problem};

const PARAMETERS: &[&str] = &[
    "workspaceId",
    "workspaceName",
    "modelId",
    "modelName",
    "processId",
    "processName",
    "locale",
    "wait",
    "taskId",
    "dump",
];

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params(PARAMETERS)?;
    let intent = task_call::intent(&call, &params)?;
    let wait = task_call::wait(&params)?;
    let client = call.client(state)?;
    let (ws, model) = task_call::workspace_and_model(state, &client, &params).await?;
    let (process, name) = task_call::action_id(
        state,
        &client,
        params.object("process", ProcessId::parse)?,
        Listing::Processes(ws.clone(), model.clone()),
        ProcessId::parse,
    )
    .await?;
    let action = ActionRef { workspace: ws, model, action: Action::Process(process) };
    let tc =
        TaskCall { state, call: &call, client, function: "run-process", action, action_name: name, extra: Vec::new() };

    tc.run(intent, &params, wait, &[], || async { Ok(()) }, |t| finish(&tc, t)).await
}

async fn finish(tc: &TaskCall<'_>, task: Task) -> Result<Response, Problem> {
    if task.successful() == Some(false) {
        return Err(tc.failure(&task).await);
    }
    let body = json!({
        "taskId": task.id.as_str(),
        "taskState": task.state.as_str(),
        "successful": true,
        "result": task.result,
    });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}
