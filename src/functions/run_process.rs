//! `run-process`: starts an Anaplan process and follows it with the async pattern. The
//! final 200 carries Anaplan's nested results; a failed process is a 422 with one entry
//! per failed step and its dump, and for a failed Optimizer step the URL of its solution
//! log (`solutionLog=<actionId>` on the status URL answers with the log as text).

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{AppState, Call, Params, Problem};
use crate::machinery::declare::{
    Answer, DUMP, Function, Group, Input, LOCALE, LongRunning, Object, Operation, RequestBody, SOLUTION_LOG, Schema,
    Trigger,
};
use crate::machinery::openapi::{successful, task_id, task_result, task_state};
use crate::machinery::task_call::{Intent, TaskCall, TaskRequest};
use anaplan::Listing;
use anaplan::ids::{ActionId, ProcessId};
use anaplan::tasks::{Action, ActionRef};

/// `run-process`.
pub const FUNCTION: Function = Function {
    name: "run-process",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST, Method::DELETE], body: RequestBody::Parameters },
    inputs: &[Input::Param(LOCALE)],
    long_running: Some(LongRunning {
        noun: "process",
        action: Object::Process,
        status_inputs: &[
            DUMP.help("The objectId of a failed step: answers with that step's whole failure dump as CSV."),
            SOLUTION_LOG,
        ],
        status_produces: Some(STATUS_RESPONSES),
    }),
    operation: Some(Operation {
        id: "RunProcess",
        summary: "Run a process",
        description: "Runs an Anaplan process and waits until it has finished (asynchronous pattern). The action \
                      succeeds when every step did; a failed step makes it fail with 422, listing each failed step \
                      with the head of its dump (and, for an Optimizer step, the URL of its solution log).",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The process completed successfully.", schema: "ProcessResult", array: false },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "ProcessResult", build: process_result_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// What the status check answers with: the task's JSON, a dump's CSV, a solution log's
/// text, or a problem.
const STATUS_RESPONSES: &[&str] = &["application/json", "text/csv", "text/plain", "application/problem+json"];

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
    let params = call.params()?;
    let log = solution_log_param(&call, &params)?;
    let req: TaskRequest<ProcessId> = TaskRequest::parse(&call, &params, Object::Process)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let process = state.find(&client, &Listing::Processes(ws.clone(), model.clone()), req.action).await?;
    let action = ActionRef { workspace: ws, model, action: Action::Process(process.id) };
    let tc =
        TaskCall { state, call: &call, client, action, action_name: process.name, extra: Vec::new(), wait: req.wait };

    if let (Some(action), Intent::Status(task, None)) = (&log, &req.intent) {
        return tc.solution_log(task, action).await;
    }
    tc.run(req.intent, req.wait, &req.locale, &[], || async { Ok(None) }, |t| tc.completed(t)).await
}

/// `solutionLog=<actionId>`: only on a status check (GET with `taskId`), without `dump`.
fn solution_log_param(call: &Call, params: &Params) -> Result<Option<ActionId>, Problem> {
    let Some(value) = params.get(SOLUTION_LOG.name) else { return Ok(None) };
    if call.method != Method::GET || params.get("taskId").is_none() {
        return Err(Problem::bad_parameter("solutionLog is for GET on a task's status URL"));
    }
    if params.get(DUMP.name).is_some() {
        return Err(Problem::bad_parameter("a status check asks for a dump or a solution log, not both"));
    }
    ActionId::parse(value)
        .map(Some)
        .map_err(|_| Problem::bad_parameter("solutionLog must be the objectId of a failed Optimizer step (117…)"))
}
