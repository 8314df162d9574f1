//! The emulator's model state is strict: open and close answer before the transition ends
//! (202 and 204, empty) and the status follows it (`Loading`, `Open`; `Closing`, `Closed`);
//! a repeat changes nothing; the changes are refused to a caller who is not a workspace
//! administrator, for an unknown model, with a body or another media type, and for an archived
//! model; online status moves the model between its state and the maintenance one, as the
//! ALM description says, refusing a bad status, a locked model and an archived one.

use std::time::Duration;

use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Api;

fn transition(api: &Api, model: &str, what: &str) -> reqwest::RequestBuilder {
    api.req(Method::POST, &format!("models/{model}/{what}")).header("content-type", "application/text")
}

async fn step(api: &Api, model: &str) -> (String, f64) {
    let (s, body) = api.send(api.req(Method::GET, &format!("models/{model}/status"))).await;
    assert_eq!(s, 200, "{body}");
    let status = &body["requestStatus"];
    (status["currentStep"].as_str().unwrap().to_owned(), status["progress"].as_f64().unwrap())
}

async fn active_state(api: &Api, model: &str) -> Value {
    let (s, body) = api.send(api.req(Method::GET, &format!("models/{model}"))).await;
    assert_eq!(s, 200, "{body}");
    body["model"]["activeState"].clone()
}

#[tokio::test]
async fn close_then_open_follow_the_status_and_repeats_change_nothing() {
    let api = Api::start().await;
    api.fake.set_model_load_times(Duration::from_millis(400), Duration::from_millis(200));
    assert_eq!(step(&api, MODEL_REVENUE_ID).await, ("Open".to_owned(), -1.0), "seeded models start loaded");
    let resp = transition(&api, MODEL_REVENUE_ID, "close").send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.text().await.unwrap().is_empty(), "close answers no body");
    assert_eq!(step(&api, MODEL_REVENUE_ID).await.0, "Closing");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(step(&api, MODEL_REVENUE_ID).await, ("Closed".to_owned(), -1.0));
    // Closing a closed model: accepted, nothing changes.
    assert_eq!(api.send(transition(&api, MODEL_REVENUE_ID, "close")).await.0, 204);
    assert_eq!(step(&api, MODEL_REVENUE_ID).await.0, "Closed");
    let resp = transition(&api, MODEL_REVENUE_ID, "open").send().await.unwrap();
    assert_eq!(resp.status(), 202);
    assert!(resp.text().await.unwrap().is_empty(), "open answers no body");
    let (loading, progress) = step(&api, MODEL_REVENUE_ID).await;
    assert_eq!(loading, "Loading");
    assert!((0.0..=1.0).contains(&progress), "{progress}");
    // A second open while loading does not start the load again.
    assert_eq!(api.send(transition(&api, MODEL_REVENUE_ID, "open")).await.0, 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(step(&api, MODEL_REVENUE_ID).await, ("Open".to_owned(), -1.0));
    assert_eq!(api.send(transition(&api, MODEL_REVENUE_ID, "open")).await.0, 202);
    assert_eq!(step(&api, MODEL_REVENUE_ID).await.0, "Open");
    let changes: Vec<String> = api.fake.model_state_changes().into_iter().map(|(_, what)| what).collect();
    assert_eq!(changes, ["close", "close", "open", "open", "open"]);
}

#[tokio::test]
async fn open_and_close_are_refused_as_the_description_and_the_emulator_choose() {
    let api = Api::start().await;
    api.fake.set_model_loaded(MODEL_REVENUE_ID, false);
    let unknown = "0123456789ABCDEF0123456789ABCDEF";
    let other = api.fake.access_token_for("user005@example.com");
    for what in ["open", "close"] {
        let (s, body) = api.send(transition(&api, unknown, what)).await;
        assert_eq!((s, &body["status"]["code"]), (404, &json!(404)), "{what}: {body}");
        let theirs = api
            .http
            .post(format!("{}/2/0/models/{MODEL_REVENUE_ID}/{what}", api.fake.base_url()))
            .header("authorization", format!("AnaplanAuthToken {other}"))
            .header("content-type", "application/text");
        assert_eq!(api.send(theirs).await.0, 403, "{what}: below Workspace Administrator");
        let with_body = transition(&api, MODEL_REVENUE_ID, what).body("now");
        assert_eq!(api.send(with_body).await.0, 400, "{what} takes no body");
        let json_type = api.req(Method::POST, &format!("models/{MODEL_REVENUE_ID}/{what}")).json(&json!({}));
        assert_eq!(api.send(json_type).await.0, 415, "{what} wants application/text");
        let untyped = api.req(Method::POST, &format!("models/{MODEL_REVENUE_ID}/{what}"));
        assert_eq!(api.send(untyped).await.0, 415, "{what} wants application/text");
        let (s, body) = api.send(transition(&api, MODEL_ARCHIVED_ID, what)).await;
        assert_eq!((s, body["status"]["message"].as_str()), (422, Some("Model archived")), "{what}");
    }
    // A locked model can still be loaded and unloaded.
    assert_eq!(api.send(transition(&api, MODEL_LOCKED_ID, "close")).await.0, 204);
    assert_eq!(step(&api, MODEL_REVENUE_ID).await.0, "Closed", "every refusal left it as it was");
    assert!(api.fake.model_state_changes().iter().all(|(m, _)| m == MODEL_LOCKED_ID));
}

#[tokio::test]
async fn online_status_moves_between_a_state_and_its_maintenance_one() {
    let api = Api::start().await;
    let set = |model: &str, method: Method, status: &str| {
        api.req(method, &format!("models/{model}/onlineStatus")).json(&json!({ "status": status }))
    };
    assert_eq!(api.send(set(MODEL_REVENUE_ID, Method::POST, "offline")).await.0, 204);
    assert_eq!(active_state(&api, MODEL_REVENUE_ID).await, "MAINTENANCE");
    assert_eq!(api.send(set(MODEL_REVENUE_ID, Method::PUT, "offline")).await.0, 204, "again: no change");
    assert_eq!(active_state(&api, MODEL_REVENUE_ID).await, "MAINTENANCE");
    assert_eq!(api.send(set(MODEL_REVENUE_ID, Method::PUT, "online")).await.0, 204);
    assert_eq!(active_state(&api, MODEL_REVENUE_ID).await, "UNLOCKED");
    api.fake.set_model_state(MODEL_HEADCOUNT_ID, "PRODUCTION");
    assert_eq!(api.send(set(MODEL_HEADCOUNT_ID, Method::POST, "offline")).await.0, 204);
    assert_eq!(active_state(&api, MODEL_HEADCOUNT_ID).await, "PRODUCTION_MAINTENANCE");
    assert_eq!(api.send(set(MODEL_HEADCOUNT_ID, Method::POST, "online")).await.0, 204);
    assert_eq!(active_state(&api, MODEL_HEADCOUNT_ID).await, "PRODUCTION");
    api.fake.set_model_state(MODEL_HEADCOUNT_ID, "OFFLINE");
    assert_eq!(api.send(set(MODEL_HEADCOUNT_ID, Method::POST, "online")).await.0, 204);
    assert_eq!(active_state(&api, MODEL_HEADCOUNT_ID).await, "UNLOCKED");
}

#[tokio::test]
async fn online_status_refuses_what_the_description_says() {
    let api = Api::start().await;
    let set = |model: &str, body: Value| api.req(Method::POST, &format!("models/{model}/onlineStatus")).json(&body);
    for bad in [json!({"status": "asleep"}), json!({"status": "Online"}), json!({}), json!("online")] {
        let (s, body) = api.send(set(MODEL_REVENUE_ID, bad.clone())).await;
        assert_eq!((s, &body["status"]["code"]), (400, &json!(400)), "{bad}: {body}");
    }
    assert_eq!(api.send(set(MODEL_LOCKED_ID, json!({"status": "offline"}))).await.0, 400, "locked");
    assert_eq!(api.send(set(MODEL_ARCHIVED_ID, json!({"status": "offline"}))).await.0, 422, "archived");
    let unknown = "0123456789ABCDEF0123456789ABCDEF";
    assert_eq!(api.send(set(unknown, json!({"status": "offline"}))).await.0, 404);
    let text = api
        .req(Method::PUT, &format!("models/{MODEL_REVENUE_ID}/onlineStatus"))
        .header("content-type", "text/plain")
        .body(r#"{"status":"offline"}"#);
    assert_eq!(api.send(text).await.0, 415);
    let other = api.fake.access_token_for("user005@example.com");
    let theirs = api
        .http
        .post(format!("{}/2/0/models/{MODEL_REVENUE_ID}/onlineStatus", api.fake.base_url()))
        .header("authorization", format!("AnaplanAuthToken {other}"))
        .json(&json!({"status": "offline"}));
    assert_eq!(api.send(theirs).await.0, 403);
    assert_eq!(active_state(&api, MODEL_REVENUE_ID).await, "UNLOCKED", "every refusal left it as it was");
    assert!(api.fake.model_state_changes().is_empty());
}
