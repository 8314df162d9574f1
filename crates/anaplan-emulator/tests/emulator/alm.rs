//! The emulator's ALM is strict and tells the release story: DEV has two revisions, PROD the
//! first; the second is syncable into PROD and, once synced, is PROD's latest and no longer
//! syncable. Revisions are added only in standard mode and after structural changes; a
//! sync of anything but a syncable revision onto the target's latest fails in the task's
//! result, as a steered failure does; reports exist only once their task completed.

use std::time::Duration;

use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Api;

fn alm(model: &str, rest: &str) -> String {
    format!("models/{model}/alm/{rest}")
}

fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key].as_array().map(|a| a.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

async fn control(api: &Api, query: &str) {
    let url = format!("{}/_emulator/alm?{query}", api.fake.base_url());
    assert_eq!(api.http.post(url).send().await.unwrap().status(), 204);
}

/// Starts a task and waits until it is complete: its final `task`.
async fn run(api: &Api, model: &str, kind: &str, body: &Value) -> Value {
    let (s, started) = api.send(api.req(Method::POST, &alm(model, kind)).json(body)).await;
    assert_eq!(s, 201, "{started}");
    assert_eq!(started["task"]["taskState"], "IN_PROGRESS");
    let id = started["task"]["taskId"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let (s, now) = api.send(api.req(Method::GET, &alm(model, &format!("{kind}/{id}")))).await;
        assert_eq!(s, 200, "{now}");
        if now["task"]["taskState"] == "COMPLETE" {
            return now["task"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{kind} {id} never completed");
}

fn sync_body(source_revision: &str, target_revision: &str) -> Value {
    json!({ "sourceRevisionId": source_revision, "sourceModelId": MODEL_DEV_ID, "targetRevisionId": target_revision })
}

#[tokio::test]
async fn a_syncable_revision_synced_into_prod_becomes_its_latest() {
    let api = Api::start().await;
    let (s, dev) = api.send(api.req(Method::GET, &alm(MODEL_DEV_ID, "revisions"))).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&dev, "revisions"), [REVISION_LAUNCH_ID, REVISION_TERRITORIES_ID]);
    let (_, latest) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, "latestRevision"))).await;
    assert_eq!(ids(&latest, "revisions"), [REVISION_LAUNCH_ID]);
    let syncable = format!("syncableRevisions?sourceModelId={MODEL_DEV_ID}");
    let (_, before) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, &syncable))).await;
    assert_eq!(ids(&before, "revisions"), [REVISION_TERRITORIES_ID]);
    // A model with no revisions: latestRevision has only meta and status.
    let (_, none) = api.send(api.req(Method::GET, &alm(MODEL_REVENUE_ID, "latestRevision"))).await;
    assert!(none.get("revisions").is_none() && none.get("meta").is_some(), "{none}");

    let task = run(&api, MODEL_PROD_ID, "syncTasks", &sync_body(REVISION_TERRITORIES_ID, REVISION_LAUNCH_ID)).await;
    assert_eq!(task["result"], json!({"successful": true}), "{task}");
    let (_, latest) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, "latestRevision"))).await;
    assert_eq!(ids(&latest, "revisions"), [REVISION_TERRITORIES_ID]);
    let (_, after) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, &syncable))).await;
    assert!(after.get("revisions").is_none(), "nothing left to sync: {after}");
    let applied = format!("revisions/{REVISION_TERRITORIES_ID}/appliedToModels");
    let (_, to) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, &applied))).await;
    let models: Vec<&str> =
        to["appliedToModels"].as_array().unwrap().iter().map(|m| m["modelId"].as_str().unwrap()).collect();
    assert_eq!(models, [MODEL_DEV_ID, MODEL_PROD_ID], "the model it was created in first");
    // Syncing the same again fails in the result: the target's latest moved on.
    let again = run(&api, MODEL_PROD_ID, "syncTasks", &sync_body(REVISION_TERRITORIES_ID, REVISION_LAUNCH_ID)).await;
    assert_eq!(again["result"]["successful"], false);
    assert!(again["result"]["error"]["messageText"].as_str().unwrap().contains(REVISION_LAUNCH_ID), "{again}");
}

#[tokio::test]
async fn a_steered_failure_is_in_the_result_and_changes_nothing() {
    let api = Api::start().await;
    control(&api, "failNextSync=Model+is+busy&taskMillis=100").await;
    let task = run(&api, MODEL_PROD_ID, "syncTasks", &sync_body(REVISION_TERRITORIES_ID, REVISION_LAUNCH_ID)).await;
    assert_eq!(
        task["result"],
        json!({"successful": false, "error": {"title": "Model sync failed", "messageText": "Model is busy"}})
    );
    let (_, latest) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, "latestRevision"))).await;
    assert_eq!(ids(&latest, "revisions"), [REVISION_LAUNCH_ID]);
    let (_, list) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, "syncTasks"))).await;
    assert_eq!(list["tasks"].as_array().unwrap().len(), 1);
    // Every field is required, with the live-tested wording.
    let (s, body) = api
        .send(api.req(Method::POST, &alm(MODEL_PROD_ID, "syncTasks")).json(&json!({"sourceModelId": MODEL_DEV_ID})))
        .await;
    assert_eq!(s, 400);
    assert!(body["status"]["message"].as_str().unwrap().contains("'targetRevisionId'"), "{body}");
}

#[tokio::test]
async fn revisions_are_added_in_standard_mode_after_structural_changes_only() {
    let api = Api::start().await;
    let add = |model: &str, body: Value| api.req(Method::POST, &alm(model, "revisions")).json(&body);
    for bad in [
        json!({}),
        json!({"name": "x".repeat(61)}),
        json!({"name": "ok", "description": "d".repeat(251)}),
        json!({"name": "ok", "tag": 1}),
    ] {
        let (s, body) = api.send(add(MODEL_DEV_ID, bad.clone())).await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let (s, body) = api.send(add(MODEL_PROD_ID, json!({"name": "Hotfix"}))).await;
    assert_eq!(s, 422, "deployed mode: {body}");
    let (s, made) = api.send(add(MODEL_DEV_ID, json!({"name": "2026.3", "description": "Quotas"}))).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(
        (made["revisions"][0]["name"].as_str(), made["revisions"][0]["createdBy"].as_str()),
        (Some("2026.3"), Some(USER_EMAIL))
    );
    let (s, _) = api.send(add(MODEL_DEV_ID, json!({"name": "2026.4"}))).await;
    assert_eq!(s, 422, "no structural changes since the last revision");
    control(&api, &format!("structuralChange={MODEL_DEV_ID}")).await;
    let (s, _) = api.send(add(MODEL_DEV_ID, json!({"name": "2026.4"}))).await;
    assert_eq!(s, 201);
    // Workspace administrators only; archived models 422.
    let other = api.fake.access_token_for("user005@example.com");
    let theirs = api
        .http
        .get(format!("{}/2/0/{}", api.fake.base_url(), alm(MODEL_DEV_ID, "revisions")))
        .header("authorization", format!("AnaplanAuthToken {other}"));
    assert_eq!(api.send(theirs).await.0, 403);
    assert_eq!(api.send(api.req(Method::GET, &alm(MODEL_ARCHIVED_ID, "revisions"))).await.0, 422);
}

#[tokio::test]
async fn reports_exist_once_their_task_completed() {
    let api = Api::start().await;
    let body = sync_body(REVISION_TERRITORIES_ID, REVISION_LAUNCH_ID);
    let summary = alm(MODEL_PROD_ID, &format!("summaryReports/{REVISION_LAUNCH_ID}/{REVISION_TERRITORIES_ID}"));
    assert_eq!(api.send(api.req(Method::GET, &summary)).await.0, 404);
    let task = run(&api, MODEL_PROD_ID, "summaryReportTasks", &body).await;
    assert!(task["result"]["reportFileUrl"].as_str().unwrap().ends_with(&summary), "{task}");
    let (s, report) = api.send(api.req(Method::GET, &summary)).await;
    assert_eq!(s, 200);
    assert_eq!(report["summaryReport"]["sourceRevisionId"], REVISION_TERRITORIES_ID);
    run(&api, MODEL_PROD_ID, "comparisonReportTasks", &body).await;
    let comparison = alm(MODEL_PROD_ID, &format!("comparisonReports/{REVISION_LAUNCH_ID}/{REVISION_TERRITORIES_ID}"));
    assert_eq!(api.send(api.req(Method::GET, &comparison)).await.0, 406, "JSON is not served");
    let (s, tsv) = api.send(api.req(Method::GET, &comparison).header("accept", "application/octet-stream")).await;
    assert_eq!(s, 200);
    assert!(tsv.as_str().unwrap().contains("Lists Added"), "{tsv}");
    // A report task is not a sync: PROD is unchanged.
    let (_, latest) = api.send(api.req(Method::GET, &alm(MODEL_PROD_ID, "latestRevision"))).await;
    assert_eq!(ids(&latest, "revisions"), [REVISION_LAUNCH_ID]);
}
