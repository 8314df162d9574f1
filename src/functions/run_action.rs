//! `run-action`: starts one of Anaplan's "other actions" (`117…`: a delete from a list using
//! a selection, for one) and follows it with the async pattern, as `run-process` does. Its
//! result has no nested results: the final 200 carries Anaplan's result, a failed action is
//! a 422 with its one entry. Anaplan documents no cancel for these tasks, so `DELETE` on the
//! status URL is a 409 that says so (nothing is sent to Anaplan).

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{AppState, Call, Problem};
use crate::machinery::declare::{
    Answer, Function, Group, Input, LOCALE, LongRunning, Object, Operation, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{successful, task_id, task_result, task_state};
use crate::machinery::task_call::{TaskCall, TaskRequest};
use anaplan::Listing;
use anaplan::ids::ActionId;
use anaplan::tasks::{Action, ActionRef};

/// `run-action`.
pub const FUNCTION: Function = Function {
    name: "run-action",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST, Method::DELETE], body: RequestBody::Parameters },
    inputs: &[Input::Param(LOCALE)],
    long_running: Some(LongRunning {
        noun: "action",
        action: Object::Action,
        status_inputs: &[],
        status_produces: None,
    }),
    operation: Some(Operation {
        id: "RunAction",
        summary: "Run an other action",
        description: "Runs one of Anaplan's other actions (such as a delete from a list using a selection) and waits \
                      until it has finished (asynchronous pattern). The action fails with 422 when Anaplan ran it \
                      without success. Anaplan cannot cancel these actions once started.",
        important: false,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The action completed successfully.", schema: "ActionResult", array: false },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "ActionResult", build: action_result_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `#/definitions/ActionResult`: an other action that completed.
fn action_result_schema() -> Value {
    json!({
        "type": "object",
        "description": "An other action that completed successfully.",
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
    let req: TaskRequest<ActionId> = TaskRequest::parse(&call, &call.params()?, Object::Action)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let action = state.find(&client, &Listing::Actions(ws.clone(), model.clone()), req.action).await?;
    let action_ref = ActionRef { workspace: ws, model, action: Action::Other(action.id) };
    let tc = TaskCall {
        state,
        call: &call,
        client,
        action: action_ref,
        action_name: action.name,
        extra: Vec::new(),
        wait: req.wait,
    };

    tc.run(req.intent, req.wait, &req.locale, &[], || async { Ok(None) }, |t| tc.completed(t)).await
}
