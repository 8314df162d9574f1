//! run-action end to end, as a Logic App calls it: Anaplan's other actions (deletes using a
//! selection) through the async pattern (202 + Location, polls, the final answer), `wait`,
//! a failed action (422 with its one entry and no dump), by name and an unknown name,
//! Idempotency-Key, and DELETE (Anaplan documents no cancel for these tasks: a clear 409,
//! nothing sent).

use std::time::Duration;

use crate::support::app::{App, follow, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn by_ids(action: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&actionId={action}")
}

#[tokio::test]
async fn an_action_named_by_name_runs_to_completion_through_the_async_pattern() {
    let app = App::start().await;
    let names =
        json!({"workspaceName": WS_FPA_NAME, "modelName": MODEL_REVENUE_NAME, "actionName": ACTION_DELETE_CLOSED_NAME});
    let resp = app.post("run-action", "", &names).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.headers()["retry-after"], "1");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/api/run-action?", app.host.base_url())), "{location}");
    for part in [format!("modelId={MODEL_REVENUE_ID}"), format!("actionId={ACTION_DELETE_CLOSED_ID}"), "taskId=".into()]
    {
        assert!(location.contains(&part), "{location} lacks {part}");
    }
    let started: Value = resp.json().await.unwrap();
    assert_eq!(started["statusUrl"], location.as_str());
    let (done, _) = follow(&app.http, app.http.get(&location).send().await.unwrap()).await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["taskId"], started["taskId"]);
    assert_eq!((body["taskState"].as_str(), body["successful"].as_bool()), (Some("COMPLETE"), Some(true)));
    assert_eq!(body["result"]["objectId"], ACTION_DELETE_CLOSED_ID);
    assert!(body["result"].get("nestedResults").is_none(), "{body}");
    let starts = app.fake.task_starts();
    assert_eq!(starts, vec![(ACTION_DELETE_CLOSED_ID.to_owned(), body["taskId"].as_str().unwrap().to_owned())]);
    // The task was started and polled under actions/, nowhere else.
    let paths: Vec<String> =
        app.fake.requests().iter().map(|r| r.path.clone()).filter(|p| p.contains("/tasks")).collect();
    assert!(paths.iter().all(|p| p.contains(&format!("/actions/{ACTION_DELETE_CLOSED_ID}/tasks"))), "{paths:?}");
}

#[tokio::test]
async fn wait_holds_the_start_until_the_final_answer() {
    let app = App::start().await;
    let resp = app.post("run-action", &format!("{}&wait=20", by_ids(ACTION_DELETE_CLOSED_ID)), &json!({})).await;
    assert_eq!(resp.status(), 200, "the action finishes within the wait");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["successful"], true);
    app.fake.set_action_timing(ACTION_DELETE_CLOSED_ID, Duration::ZERO, Duration::from_secs(30));
    let resp = app.post("run-action", &format!("{}&wait=1", by_ids(ACTION_DELETE_CLOSED_ID)), &json!({})).await;
    assert_eq!(resp.status(), 202, "a wait shorter than the task still answers 202");
}

#[tokio::test]
async fn a_failed_action_is_a_422_with_its_message_and_no_dump() {
    let app = App::start().await;
    let resp = app.post("run-action", &format!("{}&wait=20", by_ids(ACTION_DELETE_LOCKED_ID)), &json!({})).await;
    let body = problem(resp, 422).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:task-failed");
    assert_eq!((body["taskState"].as_str(), body["successful"].as_bool()), (Some("COMPLETE"), Some(false)));
    let failures = body["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{body}");
    assert_eq!(failures[0]["objectId"], ACTION_DELETE_LOCKED_ID);
    assert!(failures[0]["details"].as_str().unwrap().contains(ACTION_DELETE_LOCKED_MESSAGE), "{body}");
    assert!(failures[0].get("dumpUrl").is_none(), "{body}");
    // dump= is refused before Anaplan is asked: other actions have no documented dump.
    let task = body["taskId"].as_str().unwrap();
    let q = format!("{}&taskId={task}&dump={ACTION_DELETE_LOCKED_ID}", by_ids(ACTION_DELETE_LOCKED_ID));
    let before = app.fake.requests().len();
    let body = problem(app.get("run-action", &q).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("no failure dump"), "{body}");
    assert!(app.fake.requests()[before..].iter().all(|r| !r.path.contains("dump")));
}

#[tokio::test]
async fn an_unknown_name_is_a_404_with_the_closest_names_and_a_bad_id_a_400() {
    let app = App::start().await;
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&actionName=Delete%20Closed%20Cost%20Centre");
    let body = problem(app.post("run-action", &q, &json!({})).await, 404).await;
    assert_eq!(body["closestNames"][0], ACTION_DELETE_CLOSED_NAME, "{body}");
    // A process's id is not an other action's: refused before any URL is built.
    let body = problem(app.post("run-action", &by_ids(PROCESS_NIGHTLY_ID), &json!({})).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("117"), "{body}");
    problem(
        app.post("run-action", &format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}"), &json!({})).await,
        400,
    )
    .await;
    // An id Anaplan does not know: its 404.
    let body = problem(app.post("run-action", &by_ids("117000000099"), &json!({})).await, 404).await;
    assert_eq!(body["anaplan"]["status"], json!(404), "{body}");
    assert!(app.fake.task_starts().is_empty());
}

#[tokio::test]
async fn an_idempotency_key_starts_the_action_once() {
    let app = App::start().await;
    let key = format!("delete-{}", uuid::Uuid::new_v4());
    let send = || {
        app.http
            .post(format!("{}?{}", app.url("run-action"), by_ids(ACTION_DELETE_CLOSED_ID)))
            .header("Idempotency-Key", &key)
            .header("x-functions-key", app.host.function_key())
            .json(&json!({}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert!([200, 202].contains(&again.status().as_u16()));
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["taskId"], first["taskId"]);
    assert_eq!(app.fake.task_starts().len(), 1, "the Anaplan task started exactly once");
}

#[tokio::test]
async fn delete_is_a_409_that_says_anaplan_cannot_cancel_and_the_task_runs_on() {
    let app = App::start().await;
    app.fake.set_action_timing(ACTION_DELETE_CLOSED_ID, Duration::ZERO, Duration::from_secs(3));
    let resp = app.post("run-action", &by_ids(ACTION_DELETE_CLOSED_ID), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let body = problem(app.http.delete(&location).send().await.unwrap(), 409).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:task-not-cancellable");
    assert!(body["detail"].as_str().unwrap().contains("no way to cancel"), "{body}");
    assert!(body["taskState"].is_string(), "{body}");
    assert_eq!(app.fake.cancel_requests(), 0);
    assert!(app.fake.requests().iter().all(|r| r.method != "DELETE"), "nothing was sent to cancel");
    let (done, _) = follow(&app.http, app.http.get(&location).send().await.unwrap()).await;
    assert_eq!(done.status(), 200, "the task ran to its end");
}
