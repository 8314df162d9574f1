//! `model-state`: whether a model is loaded, its `activeState` and whether it is online; and
//! the changes: `open` (load it), `close` (unload it), `online`, `offline`.
//!
//! GET answers `{"model": {"id", "name"}, "state", "activeState", "online"}`: `state` is
//! Anaplan's `currentStep` from the model's status as given (`Open`, `Closed`, `Closing`, or
//! the step a loading or busy model is on), `activeState` Anaplan's state name as given (any
//! name is accepted), `online` `false` for the maintenance states, an offline reading and
//! `ARCHIVED`, `true` for the other states Anaplan documents, `null` for a name it does not.
//!
//! POST `action=open` is long-running: Anaplan answers before the model is loaded, so this
//! answers 202 with `Location` (this function's GET with the same ids and `action=open`: the
//! marker that makes a GET answer 202 until the model is loaded, then 200) and `Retry-After`;
//! `wait` holds the answer up to that many seconds. The other actions answer 200 with the
//! state afterwards. A model already in the wanted state is a 200 with `changed: false`, and
//! Anaplan is not asked to change it. A locked or archived model's online status is refused
//! before Anaplan is called (423, 422): Anaplan does not change it.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::long_running::{accepted_with, hold, hold_until, status_url, wait_param};
use crate::http::{AppState, Call, ModelRef, Problem, ProblemType};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger, WAIT,
};
use crate::machinery::openapi::prop;
use anaplan::AnaplanError;
use anaplan::ids::{ModelId, WorkspaceId};
use anaplan::model_state::{ModelInfo, ModelStatus, online};
use anaplan::untrusted::quote;

/// `action` of a POST (and `open` on a GET: the status of an open).
pub const ACTION: Param = Param::choice(
    "action",
    &["open", "close", "online", "offline"],
    "Action",
    "open: loads the model (long-running: 202 until loaded); close: unloads it, closing it for every user in it \
     without warning; online / offline: takes the model online or offline.",
);

/// Seconds a caller is asked to wait between polls of an open.
const RETRY_AFTER: u64 = 5;
/// Longest pause between status checks while holding an answer.
const HOLD_INTERVAL: Duration = Duration::from_secs(5);

/// The function's name (its route); the status URL names it without going through
/// `FUNCTION`, whose handler needs this module's futures to be known first.
const NAME: &str = "model-state";

/// `model-state`.
pub const FUNCTION: Function = Function {
    name: NAME,
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Object(Object::Workspace), Input::Object(Object::Model)],
    long_running: None,
    operation: Some(Operation {
        id: "GetModelState",
        summary: "Get a model's state",
        description: "Whether the model is loaded (Anaplan's current step: Open, Closed, Closing...), its state \
                      (UNLOCKED, PRODUCTION, MAINTENANCE...) and whether it is online, as Anaplan reports them.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The model's state.", schema: "ModelState", array: false },
    }),
    more_operations: &[CHANGE_OPERATION],
    schemas: &[Schema { name: "ModelState", build: model_state_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `model-state`'s POST in the connector: open, close, online, offline.
pub const CHANGE_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Param(ACTION.required()),
        Input::Param(
            WAIT.help("For open: hold the answer up to this many seconds (at most 100) for the model to load."),
        ),
    ],
    body: None,
    operation: Operation {
        id: "ChangeModelState",
        summary: "Open, close, or take a model online or offline",
        description: "open loads the model (202 until it is loaded, then its state); close unloads it (every user in \
                      it is closed out without warning); online and offline change whether users can work in it. A \
                      model already in the wanted state answers changed: false. Needs the Workspace Administrator \
                      role in Anaplan.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The model's state afterwards.", schema: "ModelState", array: false },
    },
    accepted: Some(Answer { description: "open: the model is still loading.", schema: "ModelState", array: false }),
};

/// `#/definitions/ModelState`.
fn model_state_schema() -> Value {
    json!({
        "type": "object",
        "description": "A model's state, as Anaplan reports it.",
        "properties": {
            "model": {
                "type": "object",
                "x-ms-summary": "Model",
                "description": "The model.",
                "properties": {
                    "id": prop("string", "Model ID", "The model's id."),
                    "name": prop("string", "Model name", "The model's name."),
                },
            },
            "state": prop("string", "State", "Anaplan's current step: Open or Closed when idle, Closing while closing, the step a loading or busy model is on."),
            "activeState": prop("string", "Active state", "Anaplan's state name as given: UNLOCKED, LOCKED, PRODUCTION, MAINTENANCE, PRODUCTION_MAINTENANCE, ARCHIVED, or another Anaplan reports."),
            "online": prop("boolean", "Online", "Whether the model is online; null for a state name Anaplan does not document."),
            "changed": prop("boolean", "Changed", "POST: whether the action changed anything (false: the model was already in that state)."),
            "statusUrl": prop("string", "Status URL", "While an open is loading the model (202): where to ask again."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params()?;
    let action = params.choice(&ACTION)?;
    let wait = wait_param(params.get(WAIT.name))?;
    if call.method == Method::GET {
        match action {
            None if !wait.is_zero() => {
                return Err(Problem::bad_parameter("wait is for an open (POST action=open, or its status URL)"));
            }
            None | Some("open") => {}
            Some(other) => {
                return Err(Problem::bad_parameter(format!(
                    "action={other} is for POST; GET reads the state (action=open on a GET is an open's status URL)"
                )));
            }
        }
    } else if action.is_none() {
        return Err(Problem::bad_parameter("action is required: open, close, online or offline"));
    }
    if action.is_some_and(|a| a != "open") && !wait.is_zero() {
        return Err(Problem::bad_parameter("wait is for action=open only: the other actions answer at once"));
    }
    let m = ModelRef::parse(&params)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, m).await?;
    let info = client.model_info(&model).await?;
    let status = client.model_status(&model).await?;
    match (call.method == Method::POST, action) {
        (false, None) => Ok(json_answer(StatusCode::OK, &state_json(&info, &status, None))),
        (false, Some(_)) => opening(&call, &client, (&ws, &model), info, status, wait).await,
        (true, Some("open")) => open(&call, &client, (&ws, &model), info, status, wait).await,
        (true, Some("close")) => close(&client, &model, info, status).await,
        (true, Some(a)) => set_online(&client, &model, info, status, a == "online").await,
        (true, None) => unreachable!("checked above"),
    }
}

/// The answer's body.
fn state_json(info: &ModelInfo, status: &ModelStatus, changed: Option<bool>) -> Value {
    let mut v = json!({
        "model": { "id": info.id, "name": info.name },
        "state": status.current_step,
        "activeState": info.active_state,
        "online": info.active_state.as_deref().and_then(online),
    });
    if let Some(c) = changed {
        v["changed"] = json!(c);
    }
    v
}

async fn open(
    call: &Call,
    client: &anaplan::Client,
    ids: (&WorkspaceId, &ModelId),
    info: ModelInfo,
    status: ModelStatus,
    wait: Duration,
) -> Result<Response, Problem> {
    if status.is_loaded() {
        return Ok(json_answer(StatusCode::OK, &state_json(&info, &status, Some(false))));
    }
    client.open_model(ids.1).await.map_err(|e| refused(e, &info, "open"))?;
    tracing::info!(model = %ids.1, "model open requested");
    let status = client.model_status(ids.1).await?;
    opening(call, client, ids, info, status, wait).await
}

/// An open under way: 200 once the model is loaded (held up to `wait`), else 202 with the
/// status URL.
async fn opening(
    call: &Call,
    client: &anaplan::Client,
    (ws, model): (&WorkspaceId, &ModelId),
    info: ModelInfo,
    status: ModelStatus,
    wait: Duration,
) -> Result<Response, Problem> {
    let until = hold_until(call, wait);
    let status =
        hold(status, until, HOLD_INTERVAL, ModelStatus::is_loaded, |_| async { Ok(client.model_status(model).await?) })
            .await?;
    if status.is_loaded() {
        return Ok(json_answer(StatusCode::OK, &state_json(&info, &status, Some(true))));
    }
    if status.is_closed() && call.method == Method::GET {
        // Closed again (or never opened): polling would never end.
        return Err(Problem::new(
            ProblemType::AnaplanConflict,
            format!(
                "model {} is closed, not loading: it was closed after the open, or the open did not take; ask to \
                 open it again (POST action=open)",
                quote(&info.name)
            ),
        ));
    }
    let url = status_url(call, NAME, &[("workspaceId", ws.as_str()), ("modelId", model.as_str()), ("action", "open")])?;
    let mut body = state_json(&info, &status, None);
    body["statusUrl"] = json!(url);
    Ok(accepted_with(&url, RETRY_AFTER, body))
}

async fn close(
    client: &anaplan::Client,
    model: &ModelId,
    info: ModelInfo,
    status: ModelStatus,
) -> Result<Response, Problem> {
    if status.is_closed() || status.step() == "Closing" {
        return Ok(json_answer(StatusCode::OK, &state_json(&info, &status, Some(false))));
    }
    client.close_model(model).await.map_err(|e| refused(e, &info, "close"))?;
    tracing::info!(model = %model, "model close requested");
    let status = client.model_status(model).await?;
    Ok(json_answer(StatusCode::OK, &state_json(&info, &status, Some(true))))
}

async fn set_online(
    client: &anaplan::Client,
    model: &ModelId,
    info: ModelInfo,
    status: ModelStatus,
    wanted: bool,
) -> Result<Response, Problem> {
    let state = info.active_state.clone().unwrap_or_default();
    if info.active_state.as_deref().and_then(online) == Some(wanted) && !state.eq_ignore_ascii_case("ARCHIVED") {
        return Ok(json_answer(StatusCode::OK, &state_json(&info, &status, Some(false))));
    }
    let what = if wanted { "online" } else { "offline" };
    match state.to_ascii_uppercase().as_str() {
        "LOCKED" => {
            return Err(Problem::new(
                ProblemType::ModelLocked,
                format!("model {} is locked: Anaplan does not take a locked model {what}", quote(&info.name)),
            )
            .with("activeState", json!(state)));
        }
        "ARCHIVED" => {
            return Err(Problem::new(
                ProblemType::ModelArchived,
                format!("model {} is archived: Anaplan does not take an archived model {what}", quote(&info.name)),
            )
            .with("activeState", json!(state)));
        }
        _ => {}
    }
    client.set_online(model, wanted).await.map_err(|e| refused(e, &info, what))?;
    tracing::info!(model = %model, online = wanted, "model online status set");
    let info = client.model_info(model).await?;
    Ok(json_answer(StatusCode::OK, &state_json(&info, &status, Some(true))))
}

/// Anaplan's refusal of a change, said plainly where the description says why.
fn refused(e: AnaplanError, info: &ModelInfo, what: &str) -> Problem {
    match e {
        AnaplanError::Api { status: 403, ref message, .. } => Problem::new(
            ProblemType::AnaplanForbidden,
            format!(
                "Anaplan refused to {what} model {}: this needs the Workspace Administrator role in its workspace",
                quote(&info.name)
            ),
        )
        .with("anaplan", json!({ "status": 403, "message": message })),
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_keeps_anaplans_names_and_admits_an_unknown_state() {
        let info: ModelInfo =
            serde_json::from_value(json!({"id": "M", "name": "Plan", "activeState": "SOMETHING_NEW"})).unwrap();
        let status: ModelStatus = serde_json::from_value(json!({"currentStep": "Closing", "progress": 0.5})).unwrap();
        assert_eq!(
            state_json(&info, &status, Some(true)),
            json!({"model": {"id": "M", "name": "Plan"}, "state": "Closing", "activeState": "SOMETHING_NEW",
                   "online": null, "changed": true})
        );
    }

    #[test]
    fn the_connector_has_a_read_and_a_change() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/model-state"];
        assert_eq!(path["get"]["operationId"], "GetModelState");
        assert_eq!(path["post"]["operationId"], "ChangeModelState");
        let params = path["post"]["parameters"].as_array().unwrap();
        let action = params.iter().find(|p| p["name"] == "action").unwrap();
        assert_eq!(action["required"], true);
        assert_eq!(action["enum"], json!(["open", "close", "online", "offline"]));
        assert!(params.iter().any(|p| p["name"] == "wait"));
    }
}
