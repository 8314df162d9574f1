//! versions: a model's versions as Anaplan lists them, and a version's switchover set by id
//! or by name; every refusal answered before anything is written where the app can tell.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")
}

/// The switchover PUTs the emulator received.
fn switchover_puts(app: &App) -> usize {
    app.fake.requests().iter().filter(|r| r.method == "PUT" && r.path.ends_with("/switchover")).count()
}

async fn list(app: &App, query: &str) -> Vec<Value> {
    let resp = app.get("versions", query).await;
    assert_eq!(resp.status(), 200, "{query}");
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn get_lists_the_versions_as_anaplan_reports_them_by_ids_or_names() {
    let app = App::start().await;
    let versions = list(&app, &scope()).await;
    assert_eq!(versions.len(), 2, "every page read: {versions:?}");
    assert_eq!(
        versions[1],
        json!({
            "id": VERSION_FORECAST_ID, "name": VERSION_FORECAST_NAME, "isCurrent": true, "isActual": false,
            "switchover": {"periodText": "Mar 26", "date": "2026-03-01"},
            "editFrom": {"periodText": "Jan 26", "date": "2026-01-01"},
            "editTo": {"periodText": "Dec 26", "date": "2026-12-31"},
        })
    );
    assert_eq!(versions[0]["isActual"], true);
    assert!(versions[0].get("switchover").is_none(), "what Anaplan does not set stays absent");
    let by_name = list(&app, "workspaceName=FP%26A%20Planning&modelName=Revenue%20Plan").await;
    assert_eq!(by_name, versions);
}

#[tokio::test]
async fn get_refuses_what_is_for_post_and_names_the_closest_model() {
    let app = App::start().await;
    for extra in ["action=switchover", &format!("versionId={VERSION_FORECAST_ID}"), "versionName=Forecast"] {
        let body = problem(app.get("versions", &format!("{}&{extra}", scope())).await, 400).await;
        assert!(body["detail"].as_str().unwrap().contains("POST"), "{body}");
    }
    let body =
        problem(app.get("versions", &format!("workspaceId={WS_FPA_ID}&modelName=Revenue%20Plna")).await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("Revenue Plan"), "{body}");
}

#[tokio::test]
async fn switchover_by_id_and_by_name_answers_the_version_afterwards() {
    let app = App::start().await;
    let by_id = format!("{}&action=switchover&versionId={VERSION_FORECAST_ID}", scope());
    let resp = app.post("versions", &by_id, &json!({"date": "2026-05-13"})).await;
    assert_eq!(resp.status(), 200);
    let version: Value = resp.json().await.unwrap();
    assert_eq!(version["id"], VERSION_FORECAST_ID);
    assert_eq!(version["switchover"], json!({"periodText": "May 26", "date": "2026-05-01"}), "as Anaplan lists it");
    assert_eq!(version["isCurrent"], true);

    let by_name = format!("{}&action=switchover&versionName=Forecast", scope());
    let resp = app.post("versions", &by_name, &json!({"date": "2026-07-01"})).await;
    assert_eq!(resp.status(), 200);
    let version: Value = resp.json().await.unwrap();
    assert_eq!(version["switchover"]["date"], "2026-07-01");
    assert_eq!(list(&app, &scope()).await[1]["switchover"]["periodText"], "Jul 26");

    // An empty date resets the switchover to blank, as Anaplan documents.
    let resp = app.post("versions", &by_name, &json!({"date": ""})).await;
    assert_eq!(resp.status(), 200);
    let version: Value = resp.json().await.unwrap();
    assert!(version.get("switchover").is_none(), "{version}");
    assert_eq!(switchover_puts(&app), 3);
}

#[tokio::test]
async fn anaplans_refusals_name_the_date_and_the_version() {
    let app = App::start().await;
    let q = format!("{}&action=switchover&versionName=Forecast", scope());
    for date in ["2026-02-01", "2027-06-01"] {
        let body = problem(app.post("versions", &q, &json!({ "date": date })).await, 400).await;
        assert!(body["type"].as_str().unwrap().ends_with("anaplan-bad-request"), "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(date) && detail.contains("Forecast"), "{detail}");
        assert_eq!(body["anaplan"]["status"], 400);
        assert_eq!(body["date"], date);
    }
    assert_eq!(list(&app, &scope()).await[1]["switchover"]["date"], "2026-03-01", "nothing changed");
}

#[tokio::test]
async fn refusals_the_app_can_tell_are_answered_before_anything_is_written() {
    let app = App::start().await;
    let q = |extra: &str| format!("{}&{extra}", scope());
    let forecast = q(&format!("action=switchover&versionId={VERSION_FORECAST_ID}"));
    let date = json!({"date": "2026-06-01"});
    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        ("not a date", app.post("versions", &forecast, &json!({"date": "01/06/2026"})).await, 400, "YYYY-MM-DD"),
        ("no such day", app.post("versions", &forecast, &json!({"date": "2026-02-30"})).await, 400, "2026-02-30"),
        ("no date", app.post("versions", &forecast, &json!({})).await, 400, "date"),
        (
            "another field",
            app.post("versions", &forecast, &json!({"date": "2026-06-01", "when": "x"})).await,
            400,
            "when",
        ),
        ("a date that is no string", app.post("versions", &forecast, &json!({"date": 20260601})).await, 400, "date"),
        ("malformed JSON", app.post_json_text("versions", &forecast, "{\"date\": ").await, 400, ""),
        (
            "a key twice",
            app.post_json_text("versions", &forecast, r#"{"date": "2026-06-01", "date": "2026-07-01"}"#).await,
            400,
            "date",
        ),
        ("no body", app.post_bytes("versions", &forecast, None, Vec::new()).await, 400, "body"),
        (
            "not JSON",
            app.post_bytes("versions", &forecast, Some("text/plain"), b"2026-06-01".to_vec()).await,
            400,
            "text/plain",
        ),
        (
            "no action",
            app.post("versions", &q(&format!("versionId={VERSION_FORECAST_ID}")), &date).await,
            400,
            "action",
        ),
        (
            "another action",
            app.post("versions", &q(&format!("action=rename&versionId={VERSION_FORECAST_ID}")), &date).await,
            400,
            "switchover",
        ),
        ("no version", app.post("versions", &q("action=switchover"), &date).await, 400, "versionId or versionName"),
        (
            "a bad version id",
            app.post("versions", &q("action=switchover&versionId=101000000001"), &date).await,
            400,
            "107",
        ),
        (
            "the Actual version",
            app.post("versions", &q("action=switchover&versionName=Actual"), &date).await,
            400,
            "actual version",
        ),
        (
            "an unknown version name",
            app.post("versions", &q("action=switchover&versionName=Forcast"), &date).await,
            404,
            "closest names: \"Forecast\"",
        ),
        (
            "an unknown version id",
            app.post("versions", &q("action=switchover&versionId=107000000099"), &date).await,
            404,
            "\"Forecast\" (107000000002)",
        ),
    ];
    for (what, resp, status, says) in cases {
        let body = problem(resp, status).await;
        assert!(body["detail"].as_str().unwrap().contains(says), "{what}: {body}");
    }
    assert_eq!(switchover_puts(&app), 0, "nothing was written");
    assert_eq!(list(&app, &scope()).await[1]["switchover"]["date"], "2026-03-01");
}

#[tokio::test]
async fn a_model_anaplan_refuses_to_change_is_its_problem() {
    let app = App::start().await;
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_LOCKED_ID}&action=switchover&versionName=Forecast");
    let body = problem(app.post("versions", &q, &json!({"date": "2026-06-01"})).await, 423).await;
    assert_eq!(body["anaplan"]["status"], 423);
}
