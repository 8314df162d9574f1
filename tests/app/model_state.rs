//! model-state: a model's state as Anaplan reports it (loaded or not, its activeState, online
//! or not), and open (through the asynchronous pattern, or held with `wait`), close, online
//! and offline, a model already in the wanted state answering `changed: false` without asking
//! Anaplan; every refusal clear, and answered before Anaplan is asked where the app can tell.

use std::time::Duration;

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope(model: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={model}")
}

async fn ok(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

async fn change(app: &App, model: &str, action: &str) -> reqwest::Response {
    app.post("model-state", &format!("{}&action={action}", scope(model)), &json!({})).await
}

#[tokio::test]
async fn get_reports_the_state_as_anaplan_does_whatever_its_name() {
    let app = App::start().await;
    let state = ok(app.get("model-state", &scope(MODEL_REVENUE_ID)).await).await;
    assert_eq!(
        state,
        json!({"model": {"id": MODEL_REVENUE_ID, "name": "Revenue Plan"}, "state": "Open",
               "activeState": "UNLOCKED", "online": true})
    );
    let by_name = ok(app.get("model-state", "workspaceName=FP%26A%20Planning&modelName=Revenue%20Plan").await).await;
    assert_eq!(by_name, state);
    app.fake.set_model_loaded(MODEL_REVENUE_ID, false);
    app.fake.set_model_state(MODEL_REVENUE_ID, "PRODUCTION_MAINTENANCE");
    let state = ok(app.get("model-state", &scope(MODEL_REVENUE_ID)).await).await;
    assert_eq!(
        (&state["state"], &state["activeState"], &state["online"]),
        (&json!("Closed"), &json!("PRODUCTION_MAINTENANCE"), &json!(false))
    );
    app.fake.set_model_state(MODEL_HEADCOUNT_ID, "SOME_NEW_STATE");
    let state = ok(app.get("model-state", &scope(MODEL_HEADCOUNT_ID)).await).await;
    assert_eq!(state["activeState"], "SOME_NEW_STATE", "every state name is accepted");
    assert_eq!(state["online"], Value::Null, "a state Anaplan does not document: not guessed");
    let locked = ok(app.get("model-state", &scope(MODEL_LOCKED_ID)).await).await;
    assert_eq!((&locked["activeState"], &locked["online"]), (&json!("LOCKED"), &json!(true)));
}

#[tokio::test]
async fn open_answers_202_until_the_model_is_loaded_then_200() {
    let app = App::start().await;
    app.fake.set_model_load_times(Duration::from_millis(1500), Duration::from_millis(200));
    app.fake.set_model_loaded(MODEL_REVENUE_ID, false);
    let resp = change(&app, MODEL_REVENUE_ID, "open").await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(resp.headers()["retry-after"], "5");
    assert!(location.starts_with("http://127.0.0.1:") && location.contains("/api/model-state?"), "{location}");
    assert!(location.contains(&format!("modelId={MODEL_REVENUE_ID}")) && location.contains("action=open"));
    assert!(location.contains("code="), "the function key rides along: {location}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!((&body["state"], &body["statusUrl"]), (&json!("Loading"), &json!(location)));
    // Polled as Logic Apps does: the Location as given, no other header.
    let mut polls = 0;
    let done = loop {
        let resp = app.http.get(&location).send().await.unwrap();
        if resp.status() != 202 {
            break resp;
        }
        assert_eq!(resp.headers()["location"].to_str().unwrap(), location);
        polls += 1;
        assert!(polls < 30, "the model never loaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let state = ok(done).await;
    assert_eq!((&state["state"], &state["changed"]), (&json!("Open"), &json!(true)));
    assert!(polls >= 1, "the open took time, so it was polled");
    assert_eq!(app.fake.model_state_changes(), [(MODEL_REVENUE_ID.to_owned(), "open".to_owned())]);
}

#[tokio::test]
async fn open_with_wait_answers_once_loaded_and_an_open_model_is_not_opened_again() {
    let app = App::start().await;
    app.fake.set_model_load_times(Duration::from_millis(800), Duration::from_millis(200));
    app.fake.set_model_loaded(MODEL_REVENUE_ID, false);
    let resp = app.post("model-state", &format!("{}&action=open&wait=20", scope(MODEL_REVENUE_ID)), &json!({})).await;
    let state = ok(resp).await;
    assert_eq!((&state["state"], &state["changed"]), (&json!("Open"), &json!(true)));
    // Open again: already loaded, Anaplan is not asked.
    let state = ok(app.post("model-state", &scope(MODEL_REVENUE_ID), &json!({"action": "open"})).await).await;
    assert_eq!((&state["state"], &state["changed"]), (&json!("Open"), &json!(false)));
    assert_eq!(app.fake.model_state_changes().len(), 1);
}

#[tokio::test]
async fn close_online_and_offline_answer_the_state_afterwards_and_repeats_change_nothing() {
    let app = App::start().await;
    app.fake.set_model_load_times(Duration::from_millis(500), Duration::from_millis(300));
    let closed = ok(change(&app, MODEL_REVENUE_ID, "close").await).await;
    assert_eq!(closed["changed"], true);
    assert!(["Closing", "Closed"].contains(&closed["state"].as_str().unwrap()), "{closed}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = ok(change(&app, MODEL_REVENUE_ID, "close").await).await;
    assert_eq!((&again["state"], &again["changed"]), (&json!("Closed"), &json!(false)));

    // Headcount is a production model: offline is its maintenance state.
    let offline = ok(change(&app, MODEL_HEADCOUNT_ID, "offline").await).await;
    assert_eq!(
        (&offline["activeState"], &offline["online"], &offline["changed"]),
        (&json!("PRODUCTION_MAINTENANCE"), &json!(false), &json!(true))
    );
    let again = ok(change(&app, MODEL_HEADCOUNT_ID, "offline").await).await;
    assert_eq!(again["changed"], false);
    let online = ok(change(&app, MODEL_HEADCOUNT_ID, "online").await).await;
    assert_eq!(
        (&online["activeState"], &online["online"], &online["changed"]),
        (&json!("PRODUCTION"), &json!(true), &json!(true))
    );
    let again = ok(change(&app, MODEL_HEADCOUNT_ID, "online").await).await;
    assert_eq!(again["changed"], false);
    let asked: Vec<String> = app.fake.model_state_changes().into_iter().map(|(_, w)| w).collect();
    assert_eq!(asked, ["close", "offline", "online"], "a model already in the wanted state is left alone");
}

#[tokio::test]
async fn every_refusal_is_clear_and_nothing_is_asked_of_anaplan_that_it_would_refuse() {
    let app = App::start().await;
    let bad_action = problem(change(&app, MODEL_REVENUE_ID, "reload").await, 400).await;
    assert!(bad_action["detail"].as_str().unwrap().contains("open"), "{bad_action}");
    let missing = problem(app.post("model-state", &scope(MODEL_REVENUE_ID), &json!({})).await, 400).await;
    assert!(missing["detail"].as_str().unwrap().contains("action"), "{missing}");
    let get_close =
        problem(app.get("model-state", &format!("{}&action=close", scope(MODEL_REVENUE_ID))).await, 400).await;
    assert!(get_close["detail"].as_str().unwrap().contains("POST"), "{get_close}");
    let wait_close = format!("{}&action=close&wait=5", scope(MODEL_REVENUE_ID));
    let wait_close = problem(app.post("model-state", &wait_close, &json!({})).await, 400).await;
    assert!(wait_close["detail"].as_str().unwrap().contains("wait"), "{wait_close}");
    let unknown = app.get("model-state", &format!("workspaceId={WS_FPA_ID}&modelName=Revenue%20Plna")).await;
    let unknown = problem(unknown, 404).await;
    assert!(unknown["detail"].as_str().unwrap().contains("Revenue Plan"), "closest names: {unknown}");
    let locked = problem(change(&app, MODEL_LOCKED_ID, "offline").await, 423).await;
    assert!(locked["detail"].as_str().unwrap().contains("locked"), "{locked}");
    let archived = problem(change(&app, MODEL_ARCHIVED_ID, "online").await, 422).await;
    assert!(archived["detail"].as_str().unwrap().contains("archived"), "{archived}");
    let archived_open = problem(change(&app, MODEL_ARCHIVED_ID, "close").await, 422).await;
    assert_eq!(archived_open["anaplan"]["status"], 422, "Anaplan's refusal: {archived_open}");
    assert!(app.fake.model_state_changes().is_empty(), "nothing was changed");
}

#[tokio::test]
async fn a_caller_who_is_not_a_workspace_administrator_is_told_so() {
    let fake = anaplan_emulator::Emulator::start().await;
    let app = App::start_against(fake.clone(), |env| env.push(("ANAPLAN_AUTH_METHOD".into(), "caller".into()))).await;
    let theirs = fake.access_token_for("user005@example.com");
    let resp = app
        .http
        .post(format!("{}?{}&action=close", app.url("model-state"), scope(MODEL_REVENUE_ID)))
        .header("x-functions-key", app.host.function_key())
        .header("authorization", format!("Bearer {theirs}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = problem(resp, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("Workspace Administrator"), "{body}");
    assert_eq!(body["anaplan"]["status"], 403);
    assert!(fake.model_state_changes().is_empty());
}
