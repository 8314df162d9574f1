//! sync-model: a source model's ALM revision applied to a target through the asynchronous
//! pattern (held with wait, 202 with the status URL, once per Idempotency-Key), a failed
//! sync a 422 with Anaplan's result, DELETE a 409 since Anaplan cannot cancel a sync, and
//! what the app can tell refused before anything starts.

use crate::support::app::{App, follow, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

/// PROD by names, DEV as its source by name.
fn names() -> String {
    "workspaceName=Sales%20Ops&modelName=Pipeline%20PROD&sourceModelName=Pipeline%20DEV".to_owned()
}

fn sync_starts(app: &App) -> usize {
    app.fake.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/alm/syncTasks")).count()
}

async fn steer(app: &App, query: &str) {
    let url = format!("{}/_emulator/alm?{query}", app.fake.base_url());
    assert_eq!(app.http.post(url).send().await.unwrap().status(), 204);
}

async fn latest_of_prod(app: &App) -> Value {
    let resp = app.get("revisions", &format!("workspaceId={WS_SALES_ID}&modelId={MODEL_PROD_ID}&kind=latest")).await;
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_sync_by_names_defaults_to_the_latest_revisions_and_answers_anaplans_result() {
    let app = App::start().await;
    steer(&app, "taskMillis=300").await;
    let resp = app.post("sync-model", &format!("{}&wait=20", names()), &json!({})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!((body["taskState"].as_str(), body["successful"].as_bool()), (Some("COMPLETE"), Some(true)), "{body}");
    assert_eq!(body["result"], json!({"successful": true}));
    assert!(body["taskId"].as_str().is_some_and(|t| t.len() == 32), "{body}");
    assert_eq!(latest_of_prod(&app).await["id"], REVISION_TERRITORIES_ID, "DEV's latest is PROD's now");
}

#[tokio::test]
async fn a_running_sync_answers_202_its_status_url_polls_to_the_end_and_delete_cannot_cancel_it() {
    let app = App::start().await;
    steer(&app, "taskMillis=2500").await;
    let q = format!(
        "workspaceId={WS_SALES_ID}&modelId={MODEL_PROD_ID}&sourceModelId={MODEL_DEV_ID}&sourceRevisionId={REVISION_TERRITORIES_ID}"
    );
    let resp = app.post("sync-model", &q, &json!({})).await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("taskId=") && location.contains(MODEL_PROD_ID), "{location}");
    let body = problem(app.http.delete(&location).send().await.unwrap(), 409).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:task-not-cancellable");
    assert_eq!(body["taskState"], "IN_PROGRESS", "{body}");
    let (done, _) = follow(&app.http, app.http.get(&location).send().await.unwrap()).await;
    assert_eq!(done.status(), 200, "the sync ran to its end");
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["successful"], true);
}

#[tokio::test]
async fn a_failed_sync_is_a_422_with_anaplans_result() {
    let app = App::start().await;
    steer(&app, "taskMillis=200&failNextSync=The+target+model+is+being+edited").await;
    let body = problem(app.post("sync-model", &format!("{}&wait=20", names()), &json!({})).await, 422).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:task-failed");
    assert_eq!(body["successful"], false);
    assert_eq!(body["result"]["error"]["messageText"], "The target model is being edited", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("being edited"), "{body}");
    assert_eq!(latest_of_prod(&app).await["id"], REVISION_LAUNCH_ID, "nothing was applied");
    // A revision that cannot be synced (DEV's first, already in PROD): Anaplan's failure too.
    let q = format!("{}&sourceRevisionId={REVISION_LAUNCH_ID}&wait=20", names());
    let body = problem(app.post("sync-model", &q, &json!({})).await, 422).await;
    assert!(body["result"]["error"]["title"].is_string(), "{body}");
}

#[tokio::test]
async fn an_idempotency_key_starts_the_sync_once() {
    let app = App::start().await;
    steer(&app, "taskMillis=3000").await;
    let key = format!("sync-{}", uuid::Uuid::new_v4());
    let send = || {
        app.http
            .post(format!("{}?{}", app.url("sync-model"), names()))
            .header("Idempotency-Key", &key)
            .header("x-functions-key", app.host.function_key())
            .json(&json!({}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(again["taskId"], first["taskId"]);
    assert_eq!(sync_starts(&app), 1, "the sync started exactly once");
}

#[tokio::test]
async fn what_the_app_can_tell_is_refused_before_anything_starts() {
    let app = App::start().await;
    let prod = format!("workspaceId={WS_SALES_ID}&modelId={MODEL_PROD_ID}");
    for (q, says) in [
        (prod.clone(), "sourceModelId"),
        (format!("{}&sourceRevisionId=abc", names()), "sourceRevisionId"),
        (format!("{}&taskId={REVISION_LAUNCH_ID}", names()), "taskId"),
        (format!("{}&wait=500", names()), "wait"),
    ] {
        let body = problem(app.post("sync-model", &q, &json!({})).await, 400).await;
        assert!(body["detail"].as_str().unwrap().contains(says), "{q}: {body}");
    }
    let body = problem(app.get("sync-model", &prod).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("taskId"), "{body}");
    let unknown = format!("{prod}&taskId=0123456789ABCDEF0123456789ABCDEF");
    let body = problem(app.get("sync-model", &unknown).await, 404).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:task-not-found");
    // A target without revisions cannot be synced: said before Anaplan is asked.
    let q = format!(
        "workspaceName=FP%26A%20Planning&modelName=Revenue%20Plan&sourceModelId={MODEL_DEV_ID}&sourceWorkspaceId={WS_SALES_ID}"
    );
    let body = problem(app.post("sync-model", &q, &json!({})).await, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("no revision"), "{body}");
    let body =
        problem(app.post("sync-model", &format!("{}&sourceModelName=Pipeline%20DEW", prod), &json!({})).await, 404)
            .await;
    assert!(body["detail"].as_str().unwrap().contains("Pipeline DEV"), "closest names: {body}");
    assert_eq!(sync_starts(&app), 0);
}

#[tokio::test]
async fn a_dry_run_answers_the_report_and_syncs_nothing() {
    let app = App::start().await;
    steer(&app, "taskMillis=300").await;
    // wait=20 answers at the end; on a loaded machine a 202 may come first, then its status URL does.
    let (resp, _) =
        follow(&app.http, app.post("sync-model", &format!("{}&report=summary&wait=20", names()), &json!({})).await)
            .await;
    let status = resp.status();
    let summary: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{summary}");
    assert_eq!((summary["dryRun"].as_bool(), summary["report"].as_str()), (Some(true), Some("summary")));
    assert_eq!(summary["summaryReport"]["sourceRevisionId"], REVISION_TERRITORIES_ID, "Anaplan's JSON: {summary}");
    assert_eq!(summary["summaryReport"]["totals"]["created"], 3);

    let (resp, _) = follow(
        &app.http,
        app.post("sync-model", &format!("{}&report=summary&format=csv&wait=20", names()), &json!({})).await,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("category,change,count\r\ntotals,") && csv.contains("lists,created,1\r\n"), "{csv}");

    // The comparison, held past wait: 202 with a status URL that fetches it at the end.
    steer(&app, "taskMillis=1500").await;
    let resp = app.post("sync-model", &format!("{}&report=comparison&format=csv", names()), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("report=comparison") && location.contains("format=csv"), "{location}");
    problem(app.http.delete(&location).send().await.unwrap(), 409).await;
    let (done, _) = follow(&app.http, app.http.get(&location).send().await.unwrap()).await;
    assert_eq!(done.status(), 200);
    let csv = done.text().await.unwrap();
    assert!(csv.contains("Lists Added\r\n") && csv.contains("TER01 Territory Assignment,Owner"), "TSV as CSV: {csv}");
    let (resp, _) =
        follow(&app.http, app.post("sync-model", &format!("{}&report=comparison&wait=20", names()), &json!({})).await)
            .await;
    let comparison: Value = resp.json().await.unwrap();
    assert!(comparison["rows"].as_array().is_some_and(|r| r.iter().any(|r| r[0] == "Lists Added")), "{comparison}");

    assert_eq!(sync_starts(&app), 0, "a dry run syncs nothing");
    assert_eq!(latest_of_prod(&app).await["id"], REVISION_LAUNCH_ID);
    problem(app.post("sync-model", &format!("{}&format=csv", names()), &json!({})).await, 400).await;
}
