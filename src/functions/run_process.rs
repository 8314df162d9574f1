//! `run-process`: starts an Anaplan process and follows it with the async pattern. The
//! final 200 carries Anaplan's nested results; a failed process is a 422 with one entry
//! per failed step and its dump.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::{AppState, Call, Problem};
use crate::machinery::declare::{
    Answer, DUMP, Function, Input, LOCALE, LongRunning, Object, Operation, RequestBody, Schema, TASK_RESPONSES, Trigger,
};
use crate::machinery::openapi::{successful, task_id, task_result, task_state};
use crate::machinery::task_call::{TaskCall, TaskRequest};
use anaplan::Listing;
use anaplan::ids::ProcessId;
use anaplan::tasks::{Action, ActionRef, Task};

/// `run-process`.
pub const FUNCTION: Function = Function {
    name: "run-process",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST, Method::DELETE], body: RequestBody::Parameters },
    inputs: &[Input::Param(LOCALE)],
    long_running: Some(LongRunning {
        noun: "process",
        action: Object::Process,
        status_inputs: &[
            DUMP.help("The objectId of a failed step: answers with that step's whole failure dump as CSV.")
        ],
        status_produces: Some(TASK_RESPONSES),
    }),
    operation: Some(Operation {
        id: "RunProcess",
        summary: "Run a process",
        description: "Runs an Anaplan process and waits until it has finished (asynchronous pattern). The action \
                      succeeds when every step did; a failed step makes it fail with 422, listing each failed step \
                      with the head of its dump.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The process completed successfully.", schema: "ProcessResult", array: false },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "ProcessResult", build: process_result_schema }],
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `#/definitions/ProcessResult`: a process that completed.
fn process_result_schema() -> Value {
    json!({
        "type": "object",
        "description": "A process that completed successfully.",
        "properties": {
            "taskId": task_id(),
            "taskState": task_state(),
            "successful": successful("Always true here; a failed task is a 422 problem."),
            "result": task_result(),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req: TaskRequest<ProcessId> = TaskRequest::parse(&call, &call.params()?, Object::Process)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let process = state.find(&client, &Listing::Processes(ws.clone(), model.clone()), req.action).await?;
    let action = ActionRef { workspace: ws, model, action: Action::Process(process.id) };
    let tc =
        TaskCall { state, call: &call, client, action, action_name: process.name, extra: Vec::new(), wait: req.wait };

    tc.run(req.intent, req.wait, &req.locale, &[], || async { Ok(None) }, |t| finish(&tc, t)).await
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
