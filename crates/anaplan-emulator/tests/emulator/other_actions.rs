//! The emulator's other actions (`117…`, deletes from a list using a selection and an
//! Optimizer action) are as strict as its processes: listed with their `actionType`, their
//! tasks started, listed and polled with the same task machinery (timing, busy and locked
//! models), and no cancel, since the description documents none for their tasks. The
//! Optimizer's solution log of a process task is served as the description has it: to a
//! Workspace Administrator only (403 before any id is read), 404 for anything but a
//! completed task of a process that ran that Optimizer action.

use std::time::Duration;

use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Api;

/// The models used here are all in FP&A Planning.
fn scope(model: &str) -> String {
    format!("workspaces/{WS_FPA_ID}/models/{model}")
}

async fn start(api: &Api, model: &str, action: &str) -> (u16, Value) {
    let req = api.req(Method::POST, &format!("{}/actions/{action}/tasks", scope(model)));
    api.send(req.json(&json!({ "localeName": "en_US" }))).await
}

async fn until_done(api: &Api, action: &str, task: &str) -> Value {
    for _ in 0..100 {
        let p = format!("{}/actions/{action}/tasks/{task}", scope(MODEL_REVENUE_ID));
        let (s, body) = api.send(api.req(Method::GET, &p)).await;
        assert_eq!(s, 200, "{body}");
        if body["task"]["taskState"] == "COMPLETE" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {task} did not complete");
}

#[tokio::test]
async fn the_listing_has_each_action_with_its_type_and_a_model_without_any_omits_the_key() {
    let api = Api::start().await;
    let (s, body) = api.send(api.req(Method::GET, &format!("{}/actions", scope(MODEL_REVENUE_ID)))).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["actions"],
        json!([
            {"id": ACTION_DELETE_CLOSED_ID, "actionType": "DELETE_BY_SELECTION", "name": ACTION_DELETE_CLOSED_NAME},
            {"id": ACTION_DELETE_LOCKED_ID, "actionType": "DELETE_BY_SELECTION", "name": ACTION_DELETE_LOCKED_NAME},
        ])
    );
    assert_eq!(body["meta"]["paging"]["totalSize"], 3);
    // The emulator's pages hold two: the Optimizer action is on the second.
    let (s, body) = api.send(api.req(Method::GET, &format!("{}/actions?offset=2", scope(MODEL_REVENUE_ID)))).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["actions"],
        json!([{"id": ACTION_OPTIMIZER_ID, "actionType": "OPTIMIZER", "name": ACTION_OPTIMIZER_NAME}])
    );
    let (s, body) = api.send(api.req(Method::GET, &format!("{}/actions", scope(MODEL_HEADCOUNT_ID)))).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.get("actions").is_none(), "an empty collection omits its key: {body}");
}

#[tokio::test]
async fn a_task_runs_to_its_scripted_result_and_is_listed() {
    let api = Api::start().await;
    for id in [ACTION_DELETE_CLOSED_ID, ACTION_DELETE_LOCKED_ID] {
        api.fake.set_action_timing(id, Duration::ZERO, Duration::from_millis(200));
    }
    let (s, body) = start(&api, MODEL_REVENUE_ID, ACTION_DELETE_CLOSED_ID).await;
    assert_eq!(s, 200, "{body}");
    let ok = body["task"]["taskId"].as_str().unwrap().to_owned();
    let done = until_done(&api, ACTION_DELETE_CLOSED_ID, &ok).await;
    assert_eq!(
        done["task"]["result"],
        json!({"failureDumpAvailable": false, "objectId": ACTION_DELETE_CLOSED_ID, "successful": true})
    );
    let (_, body) = start(&api, MODEL_REVENUE_ID, ACTION_DELETE_LOCKED_ID).await;
    let failed = body["task"]["taskId"].as_str().unwrap().to_owned();
    let done = until_done(&api, ACTION_DELETE_LOCKED_ID, &failed).await;
    assert_eq!(done["task"]["result"]["successful"], false, "{done}");
    assert_eq!(done["task"]["result"]["details"][0]["localMessageText"], ACTION_DELETE_LOCKED_MESSAGE);
    assert!(done["task"]["result"].get("nestedResults").is_none(), "{done}");
    // Each action lists its own tasks only; a task is not found under the other action.
    let p = format!("{}/actions/{ACTION_DELETE_CLOSED_ID}/tasks", scope(MODEL_REVENUE_ID));
    let (s, listed) = api.send(api.req(Method::GET, &p)).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = listed["tasks"].as_array().unwrap().iter().map(|t| t["taskId"].as_str().unwrap()).collect();
    assert_eq!(ids, [ok.as_str()]);
    let p = format!("{}/actions/{ACTION_DELETE_CLOSED_ID}/tasks/{failed}", scope(MODEL_REVENUE_ID));
    assert_eq!(api.send(api.req(Method::GET, &p)).await.0, 404);
}

#[tokio::test]
async fn unknown_actions_busy_and_locked_models_and_bad_bodies_are_refused_as_for_processes() {
    let api = Api::start().await;
    // An unknown action, an action of another model, a process id under actions/: 404.
    for (model, id) in [
        (MODEL_REVENUE_ID, "117000000099"),
        (MODEL_HEADCOUNT_ID, ACTION_DELETE_CLOSED_ID),
        (MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID),
    ] {
        let (s, body) = start(&api, model, id).await;
        assert_eq!((s, &body["status"]["code"]), (404, &json!(404)), "{model} {id}: {body}");
    }
    let p = format!("{}/actions/{ACTION_DELETE_CLOSED_ID}/tasks", scope(MODEL_REVENUE_ID));
    let (s, body) = api.send(api.req(Method::POST, &p).json(&json!({}))).await;
    assert_eq!(s, 400, "{body}");
    api.fake.make_model_busy(MODEL_REVENUE_ID, Duration::from_secs(30));
    let (s, body) = start(&api, MODEL_REVENUE_ID, ACTION_DELETE_CLOSED_ID).await;
    assert_eq!(s, 409, "{body}");
    // Locked Model (LOCKED in the seed) refuses the start; Archived Model too.
    let (s, body) = start(&api, MODEL_LOCKED_ID, ACTION_DELETE_CLOSED_ID).await;
    assert_eq!(s, 423, "{body}");
    let (s, body) = start(&api, MODEL_ARCHIVED_ID, ACTION_DELETE_CLOSED_ID).await;
    assert_eq!(s, 422, "{body}");
}

#[tokio::test]
async fn a_task_cannot_be_cancelled_as_the_description_documents_no_cancel() {
    let api = Api::start().await;
    api.fake.set_action_timing(ACTION_DELETE_CLOSED_ID, Duration::ZERO, Duration::from_secs(60));
    let (_, body) = start(&api, MODEL_REVENUE_ID, ACTION_DELETE_CLOSED_ID).await;
    let task = body["task"]["taskId"].as_str().unwrap().to_owned();
    let p = format!("{}/actions/{ACTION_DELETE_CLOSED_ID}/tasks/{task}", scope(MODEL_REVENUE_ID));
    let (s, body) = api.send(api.req(Method::DELETE, &p)).await;
    assert_eq!(s, 405, "{body}");
    assert_eq!(api.fake.cancel_requests(), 0);
    let (_, body) = api.send(api.req(Method::GET, &p)).await;
    assert_eq!(body["task"]["taskState"], "IN_PROGRESS", "{body}");
}

/// Runs Optimize Supply Plan to its end; its task id and final answer.
async fn run_optimize(api: &Api) -> (String, Value) {
    api.fake.set_action_timing(PROCESS_OPTIMIZE_ID, Duration::ZERO, Duration::from_millis(100));
    let p = format!("{}/processes/{PROCESS_OPTIMIZE_ID}/tasks", scope(MODEL_REVENUE_ID));
    let (s, body) = api.send(api.req(Method::POST, &p).json(&json!({ "localeName": "en_US" }))).await;
    assert_eq!(s, 200, "{body}");
    let task = body["task"]["taskId"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let (s, body) = api.send(api.req(Method::GET, &format!("{p}/{task}"))).await;
        assert_eq!(s, 200, "{body}");
        if body["task"]["taskState"] == "COMPLETE" {
            return (task, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {task} did not complete");
}

fn log_path(model: &str, action: &str, correlation: &str) -> String {
    format!("{}/optimizeActions/{action}/tasks/{correlation}/solutionLogs", scope(model))
}

#[tokio::test]
async fn the_optimizer_is_a_process_step_that_fails_without_a_dump_and_is_named_in_the_metadata() {
    let api = Api::start().await;
    let p = format!("{}/processes/{PROCESS_OPTIMIZE_ID}", scope(MODEL_REVENUE_ID));
    let (s, body) = api.send(api.req(Method::GET, &p)).await;
    assert_eq!(s, 200, "{body}");
    let steps = body["processMetadata"]["actions"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{body}");
    assert_eq!(steps[0]["actionType"], "IMPORT");
    assert_eq!(
        steps[1],
        json!({"id": ACTION_OPTIMIZER_ID, "name": ACTION_OPTIMIZER_NAME, "actionType": "OPTIMIZER"}),
        "other actions carry only id, name and actionType"
    );
    let (_, done) = run_optimize(&api).await;
    let result = &done["task"]["result"];
    assert_eq!(result["successful"], false, "{done}");
    assert_eq!(result["failureDumpAvailable"], false, "no dump: {done}");
    let nested = result["nestedResults"].as_array().unwrap();
    assert_eq!(nested[0]["successful"], true);
    assert_eq!(nested[1]["objectId"], ACTION_OPTIMIZER_ID);
    assert_eq!(nested[1]["successful"], false);
    assert_eq!(nested[1]["failureDumpAvailable"], false);
    assert_eq!(nested[1]["details"][0]["localMessageText"], ACTION_OPTIMIZER_MESSAGE);
}

#[tokio::test]
async fn the_solution_log_is_text_for_a_workspace_administrator_and_the_task_of_its_process() {
    let api = Api::start().await;
    let (task, _) = run_optimize(&api).await;
    let resp = api.req(Method::GET, &log_path(MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID, &task)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert_eq!(resp.text().await.unwrap(), SUPPLY_PLAN_SOLVER_LOG);

    // 404: the process's id as actionId, another other action, a task of another process,
    // an unknown correlation id, the model seen through the wrong workspace.
    api.fake.set_action_timing(PROCESS_NIGHTLY_ID, Duration::ZERO, Duration::ZERO);
    let p = format!("{}/processes/{PROCESS_NIGHTLY_ID}/tasks", scope(MODEL_REVENUE_ID));
    let (_, body) = api.send(api.req(Method::POST, &p).json(&json!({ "localeName": "en_US" }))).await;
    let nightly = body["task"]["taskId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for path in [
        log_path(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID, &task),
        log_path(MODEL_REVENUE_ID, ACTION_DELETE_LOCKED_ID, &task),
        log_path(MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID, &nightly),
        log_path(MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID, "0123456789ABCDEF0123456789ABCDEF"),
        log_path(MODEL_HEADCOUNT_ID, ACTION_OPTIMIZER_ID, &task),
        format!(
            "workspaces/{WS_SALES_ID}/models/{MODEL_REVENUE_ID}/optimizeActions/{ACTION_OPTIMIZER_ID}/tasks/{task}/solutionLogs"
        ),
    ] {
        let (s, body) = api.send(api.req(Method::GET, &path)).await;
        assert_eq!(s, 404, "{path}: {body}");
        assert_eq!(body["status"]["code"], 404, "Anaplan's error shape: {body}");
    }
}

#[tokio::test]
async fn the_solution_log_refuses_anyone_below_workspace_administrator_before_reading_ids() {
    let api = Api::start().await;
    let (task, _) = run_optimize(&api).await;
    let theirs = api.fake.access_token_for("user005@example.com");
    for path in [
        log_path(MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID, &task),
        log_path(MODEL_REVENUE_ID, "117000000099", &task),
        log_path("0123456789ABCDEF0123456789ABCDEF", ACTION_OPTIMIZER_ID, &task),
    ] {
        let req = api
            .http
            .get(format!("{}/2/0/{path}", api.fake.base_url()))
            .header("authorization", format!("AnaplanAuthToken {theirs}"));
        let (s, body) = api.send(req).await;
        assert_eq!(s, 403, "{path}: {body}");
        assert_eq!(body["status"]["code"], 403, "{body}");
    }
    // No token at all is the gate's 401, as everywhere.
    let req =
        api.http.get(format!("{}/2/0/{}", api.fake.base_url(), log_path(MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID, &task)));
    assert_eq!(api.send(req).await.0, 401);
}

#[tokio::test]
async fn the_optimizer_run_on_its_own_fails_the_same_way_and_keeps_no_log() {
    let api = Api::start().await;
    api.fake.set_action_timing(ACTION_OPTIMIZER_ID, Duration::ZERO, Duration::ZERO);
    let (s, body) = start(&api, MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID).await;
    assert_eq!(s, 200, "{body}");
    let task = body["task"]["taskId"].as_str().unwrap().to_owned();
    let done = until_done(&api, ACTION_OPTIMIZER_ID, &task).await;
    assert_eq!(done["task"]["result"]["details"][0]["localMessageText"], ACTION_OPTIMIZER_MESSAGE);
    let (s, _) = api.send(api.req(Method::GET, &log_path(MODEL_REVENUE_ID, ACTION_OPTIMIZER_ID, &task))).await;
    assert_eq!(s, 404, "the correlation id is the task of a process that runs the action");
}
