//! cloudworks end to end, against the emulator: each GET kind answers CloudWorks' own
//! objects (one integration and its schedule by id and by name), each POST action changes
//! the schedule as CloudWorks documents it (POST to create, PUT to replace), a no-op answers
//! `changed: false` without writing, a malformed schedule is a 400 with nothing written, and
//! unknown names answer with the closest ones.

use crate::support::app::{App, problem};
use anaplan_emulator::seed_cloudworks::*;
use serde_json::{Value, json};

/// `integrationName=` of a name.
fn by_name(name: &str) -> String {
    format!("integrationName={}", url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>())
}

/// The schedule writes CloudWorks has seen (method and path).
fn schedule_writes(app: &App) -> Vec<String> {
    app.fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/schedule") && r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

async fn ok(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

fn daily() -> Value {
    json!({"name": "Every morning", "type": "daily", "time": "06:15", "startDate": "2026-01-01",
        "endDate": "2026-12-31", "timezone": "Europe/Paris"})
}

#[tokio::test]
async fn the_lists_are_cloudworks_own_objects() {
    let app = App::start().await;
    let integrations = ok(app.get("cloudworks", "kind=integrations").await).await;
    let integrations = integrations.as_array().unwrap();
    assert_eq!(integrations.len(), 6, "every page: {integrations:?}");
    let scheduled = integrations.iter().find(|i| i["integrationId"] == SCHEDULED_INTEGRATION_ID).unwrap();
    assert_eq!(scheduled["name"], INTEGRATION_PROCESS_NAME);
    assert_eq!(scheduled["integrationType"], "Process");
    assert_eq!(scheduled["schedule"]["name"], SCHEDULE_NIGHTLY_NAME);
    let connections = ok(app.get("cloudworks", "kind=connections").await).await;
    let names: Vec<&str> = connections.as_array().unwrap().iter().filter_map(|c| c["body"]["name"].as_str()).collect();
    assert_eq!(names, [CONNECTION_SALES_NAME, CONNECTION_FINANCE_NAME, CONNECTION_PARTNER_NAME]);
    assert!(connections.to_string().find("sasToken").is_none(), "no secrets: {connections}");
    let flows = ok(app.get("cloudworks", "kind=flows").await).await;
    let ids: Vec<&str> = flows.as_array().unwrap().iter().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, [FLOW_NIGHTLY_ID, FLOW_BROKEN_ID]);
    // A list takes no integration; GET takes no action; kind is required and checked.
    let q = format!("kind=flows&integrationId={INTEGRATION_IMPORT_ID}");
    problem(app.get("cloudworks", &q).await, 400).await;
    problem(app.get("cloudworks", "kind=integrations&action=setSchedule").await, 400).await;
    let p = problem(app.get("cloudworks", "").await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("kind"), "{p}");
    problem(app.get("cloudworks", "kind=runs").await, 400).await;
}

#[tokio::test]
async fn one_integration_and_its_schedule_by_id_or_name() {
    let app = App::start().await;
    let by_id =
        ok(app.get("cloudworks", &format!("kind=integration&integrationId={INTEGRATION_EXPORT_ID}")).await).await;
    assert_eq!(by_id["name"], INTEGRATION_EXPORT_NAME);
    assert_eq!(by_id["jobs"][0]["targets"][0]["connectionId"], CONNECTION_FINANCE_ID, "the detail, jobs and all");
    let named =
        ok(app.get("cloudworks", &format!("kind=integration&{}", by_name(INTEGRATION_EXPORT_NAME))).await).await;
    assert_eq!(named, by_id);
    let schedule =
        ok(app.get("cloudworks", &format!("kind=schedule&{}", by_name(INTEGRATION_PROCESS_NAME))).await).await;
    assert_eq!(schedule["name"], SCHEDULE_NIGHTLY_NAME);
    assert_eq!(schedule["type"], "weekly");
    assert_eq!(schedule["daysOfWeek"], json!([1, 2, 3, 4, 5]));
    assert_eq!(schedule["status"], "Active");
    let same =
        ok(app.get("cloudworks", &format!("kind=schedule&integrationId={SCHEDULED_INTEGRATION_ID}")).await).await;
    assert_eq!(same, schedule);
    // No schedule: a 404 that says so.
    let p = problem(app.get("cloudworks", &format!("kind=schedule&integrationId={INTEGRATION_IMPORT_ID}")).await, 404)
        .await;
    assert!(p["detail"].as_str().unwrap().contains("has no schedule"), "{p}");
    assert_eq!(p["integrationId"], INTEGRATION_IMPORT_ID);
    // These kinds need the integration; an unknown id is CloudWorks' 404.
    problem(app.get("cloudworks", "kind=integration").await, 400).await;
    problem(app.get("cloudworks", "kind=schedule&integrationId=not-an-id").await, 400).await;
    problem(app.get("cloudworks", "kind=integration&integrationId=0123456789abcdef0123456789abcdef").await, 404).await;
}

#[tokio::test]
async fn unknown_and_ambiguous_names_answer_with_the_closest_names_or_the_ids() {
    let app = App::start().await;
    let p =
        problem(app.get("cloudworks", &format!("kind=schedule&{}", by_name("Nightly Blob Proces"))).await, 404).await;
    assert!(p["type"].as_str().unwrap().ends_with("unknown-name"), "{p}");
    assert!(p.to_string().contains(INTEGRATION_PROCESS_NAME), "the closest name: {p}");
    let q = format!("action=deleteSchedule&{}", by_name("Nightly Blob Proces"));
    problem(app.post_bytes("cloudworks", &q, None, Vec::new()).await, 404).await;
    let p =
        problem(app.get("cloudworks", &format!("kind=integration&{}", by_name(INTEGRATION_DUPLICATE_NAME))).await, 404)
            .await;
    assert!(p["type"].as_str().unwrap().ends_with("ambiguous-name"), "{p}");
    assert!(schedule_writes(&app).is_empty());
}

#[tokio::test]
async fn set_schedule_creates_with_post_and_replaces_with_put() {
    let app = App::start().await;
    // Load Sales from Blob has no schedule: created (POST).
    let q = format!("action=setSchedule&{}", by_name(INTEGRATION_IMPORT_NAME));
    let body = ok(app.post("cloudworks", &q, &daily()).await).await;
    assert_eq!(body["integration"], json!({"id": INTEGRATION_IMPORT_ID, "name": INTEGRATION_IMPORT_NAME}));
    assert_eq!(body["changed"], true);
    let mut want = daily();
    want["status"] = json!("Active");
    assert_eq!(body["schedule"], want, "the schedule as CloudWorks holds it afterwards");
    // Set again: replaced (PUT), with integrationId in the body as CloudWorks needs.
    let mut weekly = daily();
    weekly["type"] = json!("weekly");
    weekly["daysOfWeek"] = json!([0, 6]);
    let body =
        ok(app.post("cloudworks", &format!("action=setSchedule&integrationId={INTEGRATION_IMPORT_ID}"), &weekly).await)
            .await;
    assert_eq!(body["schedule"]["daysOfWeek"], json!([0, 6]));
    let path = format!("/2/0/integrations/{INTEGRATION_IMPORT_ID}/schedule");
    assert_eq!(schedule_writes(&app), [format!("POST {path}"), format!("PUT {path}")]);
    // status in the body is applied by enabling or disabling afterwards.
    weekly["status"] = json!("Inactive");
    let body = ok(app.post("cloudworks", &q, &weekly).await).await;
    assert_eq!(body["schedule"]["status"], "Inactive");
    assert_eq!(
        schedule_writes(&app)[2..],
        [format!("PUT {path}"), format!("POST {path}/status/disabled")],
        "the status is not sent in the schedule"
    );
}

#[tokio::test]
async fn enable_disable_and_delete_change_only_what_differs() {
    let app = App::start().await;
    let q = |action: &str| format!("action={action}&integrationId={SCHEDULED_INTEGRATION_ID}");
    let post = |action: &'static str| {
        let url = q(action);
        let app = &app;
        async move { ok(app.post_bytes("cloudworks", &url, None, Vec::new()).await).await }
    };
    // The seed's schedule is Active: enabling changes nothing and asks nothing.
    let body = post("enableSchedule").await;
    assert_eq!((body["changed"].as_bool(), body["schedule"]["status"].as_str()), (Some(false), Some("Active")));
    assert!(schedule_writes(&app).is_empty());
    let body = post("disableSchedule").await;
    assert_eq!((body["changed"].as_bool(), body["schedule"]["status"].as_str()), (Some(true), Some("Inactive")));
    let body = post("disableSchedule").await;
    assert_eq!(body["changed"], false);
    let body = post("enableSchedule").await;
    assert_eq!((body["changed"].as_bool(), body["schedule"]["status"].as_str()), (Some(true), Some("Active")));
    let body = post("deleteSchedule").await;
    assert_eq!((body["changed"].as_bool(), &body["schedule"]), (Some(true), &Value::Null));
    assert_eq!(body["integration"]["name"], INTEGRATION_PROCESS_NAME);
    let body = post("deleteSchedule").await;
    assert_eq!(body["changed"], false, "nothing left to delete");
    let path = format!("/2/0/integrations/{SCHEDULED_INTEGRATION_ID}/schedule");
    assert_eq!(
        schedule_writes(&app),
        [format!("POST {path}/status/disabled"), format!("POST {path}/status/enabled"), format!("DELETE {path}")]
    );
    // No schedule to enable: a 404 that says to set one.
    let p = problem(app.post_bytes("cloudworks", &q("enableSchedule"), None, Vec::new()).await, 404).await;
    assert!(p["detail"].as_str().unwrap().contains("setSchedule"), "{p}");
    // These actions take no body; POST takes action, not kind.
    let resp = app.post("cloudworks", &q("deleteSchedule"), &daily()).await;
    problem(resp, 400).await;
    problem(
        app.post_bytes("cloudworks", &format!("kind=schedule&{}", q("deleteSchedule")), None, Vec::new()).await,
        400,
    )
    .await;
    problem(
        app.post_bytes("cloudworks", &format!("integrationId={SCHEDULED_INTEGRATION_ID}"), None, Vec::new()).await,
        400,
    )
    .await;
}

#[tokio::test]
async fn a_malformed_schedule_is_a_400_and_nothing_is_written() {
    let app = App::start().await;
    let q = format!("action=setSchedule&integrationId={SCHEDULED_INTEGRATION_ID}");
    let before =
        ok(app.get("cloudworks", &format!("kind=schedule&integrationId={SCHEDULED_INTEGRATION_ID}")).await).await;
    // Refused before CloudWorks is called: shape, required fields, type, status, unknown keys.
    let mut cases = Vec::new();
    for (key, value) in [("type", json!("fortnightly")), ("status", json!("On")), ("every", json!(2))] {
        let mut s = daily();
        s[key] = value;
        cases.push((s, key));
    }
    let mut no_tz = daily();
    no_tz.as_object_mut().unwrap().remove("timezone");
    cases.push((no_tz, "timezone"));
    cases.push((json!(["daily"]), "object"));
    for (schedule, word) in cases {
        let p = problem(app.post("cloudworks", &q, &schedule).await, 400).await;
        assert!(p["type"].as_str().unwrap().ends_with("bad-parameter"), "{p}");
        assert!(p["detail"].as_str().unwrap().contains(word), "{word}: {p}");
    }
    problem(app.post_bytes("cloudworks", &q, None, Vec::new()).await, 400).await;
    problem(app.post_bytes("cloudworks", &q, Some("text/plain"), b"daily".to_vec()).await, 400).await;
    assert!(schedule_writes(&app).is_empty(), "{:?}", schedule_writes(&app));
    // Refused by CloudWorks (a time it cannot read): a 400 with its message, nothing changed.
    let mut bad_time = daily();
    bad_time["time"] = json!("6am");
    let p = problem(app.post("cloudworks", &q, &bad_time).await, 400).await;
    assert!(p["type"].as_str().unwrap().ends_with("anaplan-bad-request"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("time"), "{p}");
    assert_eq!(p["anaplan"]["status"], 400);
    let after =
        ok(app.get("cloudworks", &format!("kind=schedule&integrationId={SCHEDULED_INTEGRATION_ID}")).await).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn runs_is_an_integrations_run_history_as_cloudworks_records_it() {
    let app = App::start().await;
    app.fake.set_cloudworks_run_time(std::time::Duration::ZERO);
    let none = ok(app.get("cloudworks", &format!("kind=runs&integrationId={INTEGRATION_EXPORT_ID}")).await).await;
    assert_eq!(none, json!([]), "no run yet");
    for _ in 0..2 {
        let resp = app.post("cloudworks", "", &json!({})).await;
        assert_eq!(resp.status(), 400, "POST takes an action");
        let started =
            app.post("run-integration", &format!("integrationId={INTEGRATION_EXPORT_ID}&wait=20"), &json!({})).await;
        assert!(started.status().is_success(), "{}", started.status());
    }
    let runs = ok(app.get("cloudworks", &format!("kind=runs&{}", by_name(INTEGRATION_EXPORT_NAME))).await).await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for r in runs {
        for key in ["id", "startDate", "success", "triggeredBy"] {
            assert!(r.get(key).is_some(), "CloudWorks' RunRecord, unchanged: {r}");
        }
    }
    let other = ok(app.get("cloudworks", &format!("kind=runs&integrationId={INTEGRATION_PROCESS_ID}")).await).await;
    assert_eq!(other, json!([]), "another integration's history");
    problem(app.get("cloudworks", "kind=runs").await, 400).await;
}

#[tokio::test]
async fn notifications_are_the_integrations_own_configuration() {
    let app = App::start().await;
    let config =
        ok(app.get("cloudworks", &format!("kind=notifications&integrationId={INTEGRATION_BROKEN_ID}")).await).await;
    assert_eq!(config["integrationIds"], json!([INTEGRATION_BROKEN_ID]), "CloudWorks' NotificationConfig: {config}");
    let detail =
        ok(app.get("cloudworks", &format!("kind=integration&integrationId={INTEGRATION_BROKEN_ID}")).await).await;
    assert_eq!(config["notificationId"], detail["notificationId"], "the one the integration names");
    let types: Vec<&str> =
        config["notifications"]["config"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"full_failure"), "{config}");
    let by_name =
        ok(app.get("cloudworks", &format!("kind=notifications&{}", by_name(INTEGRATION_BROKEN_NAME))).await).await;
    assert_eq!(by_name, config);
    problem(app.get("cloudworks", "kind=notifications").await, 400).await;
}
