//! The emulator's other actions (`117…`, deletes from a list using a selection) are as
//! strict as its processes: listed with their `actionType`, their tasks started, listed and
//! polled with the same task machinery (timing, busy and locked models), and no cancel,
//! since the description documents none for their tasks.

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
    assert_eq!(body["meta"]["paging"]["totalSize"], 2);
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
