//! The emulator's CloudWorks is strict: auth, id formats, unknown routes, run timing,
//! cancellation, and connections that refuse a malformed or too-weak SAS.

use std::time::Duration;

use anaplan_emulator::seed_cloudworks::*;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Cw;

impl Cw {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.req(reqwest::Method::POST, path).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn put_sas(&self, id: &str, sas: &str) -> (u16, Value) {
        let body = json!({"type": "AzureBlob", "body": {"name": CONNECTION_SALES_NAME, "storageAccountName": CONNECTION_ACCOUNT,
            "containerName": "cloudworks-sales", "sasToken": sas, "auth_method": "SAS-based"}});
        let r =
            self.req(reqwest::Method::PUT, &format!("integrations/connections/{id}")).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn cloudworks_needs_a_token_and_knows_only_its_routes_and_ids() {
    let cw = Cw::start().await;
    let r = cw.http.get(format!("{}/2/0/integrations", cw.fake.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (status, body) = cw.get("integrations/NOT-AN-ID").await;
    assert_eq!(status, 404);
    assert_eq!(body["status"]["code"], 404, "Anaplan's error shape: {body}");
    assert_eq!(cw.get(&format!("integrations/{}", INTEGRATION_IMPORT_ID.to_uppercase())).await.0, 404);
    assert_eq!(cw.get("integrations/00000000000000000000000000000000").await.0, 404);
    assert_eq!(cw.get("integrations/schedules/x").await.0, 404);
    assert_eq!(cw.post(&format!("integrationflows/{INTEGRATION_IMPORT_ID}/run"), json!({})).await.0, 404);
    let (status, body) = cw.get(&format!("integrations/{INTEGRATION_BROKEN_ID}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["integration"]["name"], INTEGRATION_BROKEN_NAME);
}

#[tokio::test]
async fn listings_are_paged_in_the_envelope() {
    let cw = Cw::start().await;
    let (status, body) = cw.get("integrations?limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"]["code"], 200);
    assert_eq!(body["integrations"].as_array().unwrap().len(), 2, "limit is capped: {body}");
    assert_eq!(body["meta"]["paging"]["totalSize"], 6);
    let (_, flows) = cw.get("integrationflows").await;
    assert_eq!(flows["meta"]["paging"]["totalSize"], 2);
    assert_eq!(flows["integrationFlows"][0]["id"], FLOW_NIGHTLY_ID);
}

#[tokio::test]
async fn runs_move_through_time_and_cancel_only_while_running() {
    let cw = Cw::start().await;
    cw.fake.set_cloudworks_run_time(Duration::from_millis(600));
    let (status, body) = cw.post(&format!("integrations/{INTEGRATION_PROCESS_ID}/run"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let run = body["run"]["id"].as_str().unwrap().to_owned();
    assert!(run.len() == 32 && run.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let (_, now) = cw.get(&format!("integrations/run/{run}")).await;
    // As live CloudWorks: `success` is a plain false until the run ends, no `endDate` yet.
    assert_eq!(now["run"]["success"], false, "{now}");
    assert!(now["run"].get("endDate").is_none(), "{now}");
    assert_eq!(now["run"]["message"], "Running", "{now}");
    assert_eq!(now["run"]["integrationId"], INTEGRATION_PROCESS_ID);
    assert_eq!(cw.post(&format!("integrations/{INTEGRATION_PROCESS_ID}/run"), json!({})).await.0, 409);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, done) = cw.get(&format!("integrations/run/{run}")).await;
    assert_eq!(done["run"]["success"], true, "{done}");
    assert_eq!(done["run"]["message"], "Success");
    // ISO 8601 UTC with milliseconds, as the description records them.
    for key in ["startDate", "endDate", "creationDate", "modificationDate"] {
        let date = done["run"][key].as_str().unwrap();
        assert!(date.len() == 24 && date.ends_with('Z') && date.as_bytes()[19] == b'.', "{key}: {date}");
    }
    let trace = done["run"]["traceId"].as_str().unwrap();
    assert!(trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let (status, body) = cw.post(&format!("integrations/{INTEGRATION_PROCESS_ID}/cancel"), json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(cw.get(&format!("integrations/runerror/{run}")).await.1["runs"], json!({}));

    // A run body must be JSON.
    let r = cw.req(reqwest::Method::POST, &format!("integrations/{INTEGRATION_IMPORT_ID}/run")).send().await.unwrap();
    assert_eq!(r.status(), 415);

    cw.fake.set_cloudworks_run_time(Duration::from_secs(30));
    let (_, body) = cw.post(&format!("integrationflows/{FLOW_NIGHTLY_ID}/run"), json!({})).await;
    let run = body["run"]["id"].as_str().unwrap().to_owned();
    assert_eq!(cw.post(&format!("integrationflows/{FLOW_NIGHTLY_ID}/cancel"), json!({})).await.0, 200);
    let (_, done) = cw.get(&format!("integrations/run/{run}")).await;
    assert_eq!(done["run"]["success"], false, "{done}");
    assert!(done["run"]["endDate"].is_string(), "a cancelled run has ended: {done}");
    assert_eq!(done["run"]["message"], "Cancelled", "{done}");
    assert_eq!(done["run"]["flowGroupId"], FLOW_NIGHTLY_ID);
    assert_eq!(cw.fake.cloudworks_cancels(), 1);
}

#[tokio::test]
async fn a_failed_process_integration_has_errors_and_an_import_dump() {
    let cw = Cw::start().await;
    cw.fake.set_cloudworks_run_time(Duration::from_millis(100));
    let (_, body) = cw.post(&format!("integrations/{INTEGRATION_BROKEN_ID}/run"), json!({})).await;
    let run = body["run"]["id"].as_str().unwrap().to_owned();
    // No dump while it runs.
    let path = format!("integrations/run/{run}/process/import/{BROKEN_ACTION_ID}/dumps");
    assert_eq!(cw.req(reqwest::Method::GET, &path).send().await.unwrap().status(), 404);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, errors) = cw.get(&format!("integrations/runerror/{run}")).await;
    let entry = &errors["runs"][0]["errorMessages"][0];
    assert_eq!(entry["actionId"], BROKEN_ACTION_ID);
    assert_eq!(entry["errorMessage"][0]["localMessageText"], BROKEN_MESSAGE);
    let r = cw.req(reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), broken_dump());
    let other = format!("integrations/run/{run}/process/import/112000000001/dumps");
    assert_eq!(cw.req(reqwest::Method::GET, &other).send().await.unwrap().status(), 404);
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn connections_refuse_a_weak_forged_or_expired_sas_and_remember_expiry() {
    let cw = Cw::start().await;
    let (status, body) = cw.get("integrations/connections").await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["paging"]["totalSize"], 3);
    let before = cw.fake.cloudworks_connection(CONNECTION_SALES_ID).unwrap();
    assert!(before.sas_expiry < unix_now(), "the seed's SAS has expired");

    for weak in [
        "sv=2025-01-05&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=AAAA",
        "sv=2025-01-05&ss=b&srt=co&sp=rwl&se=2099-01-01T00:00:00Z&sig=AAAA",
        "sv=2025-01-05&ss=q&srt=sco&sp=rwl&se=2099-01-01T00:00:00Z&sig=AAAA",
        "sv=2025-01-05&ss=b&srt=sco&sp=rwl&se=2001-01-01T00:00:00Z&sig=AAAA",
        // Well-formed and strong enough, but not signed with the account's key.
        "sv=2025-01-05&ss=b&srt=sco&sp=rwl&se=2099-01-01T00:00:00Z&spr=https&sig=AAAA",
        "garbage",
    ] {
        let (status, body) = cw.put_sas(CONNECTION_SALES_ID, weak).await;
        assert_eq!(status, 400, "{weak}: {body}");
        assert_eq!(body["status"]["message"], "Credentials are invalid");
    }
    assert_eq!(cw.fake.cloudworks_connection(CONNECTION_SALES_ID).unwrap(), before, "nothing changed");
    // A partial body is refused too.
    let r = cw
        .req(reqwest::Method::PUT, &format!("integrations/connections/{CONNECTION_SALES_ID}"))
        .json(&json!({"type": "AzureBlob", "body": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(cw.put_sas("c0aa0000000000000000000000000999", "x").await.0, 404);
}

impl Cw {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

async fn schedule_of(cw: &Cw, id: &str) -> Value {
    cw.get(&format!("integrations/{id}")).await.1["integration"]["schedule"].clone()
}

fn daily(id: Option<&str>) -> Value {
    let mut v = json!({"schedule": {"name": "Daily", "type": "daily", "time": "06:15", "startDate": "2026-01-01",
        "endDate": "2026-12-31", "timezone": "Europe/Paris"}});
    if let Some(id) = id {
        v["integrationId"] = json!(id);
    }
    v
}

#[tokio::test]
async fn the_seed_has_one_scheduled_integration_shown_in_its_summary_and_detail() {
    let cw = Cw::start().await;
    let (_, detail) = cw.get(&format!("integrations/{SCHEDULED_INTEGRATION_ID}")).await;
    let s = &detail["integration"]["schedule"];
    assert_eq!(s["name"], SCHEDULE_NIGHTLY_NAME);
    assert_eq!(s["type"], "weekly");
    assert_eq!(s["status"], "Active");
    let (_, detail) = cw.get(&format!("integrations/{INTEGRATION_IMPORT_ID}")).await;
    assert!(detail["integration"].get("schedule").is_none(), "no schedule, no key: {detail}");
    let (_, list) = cw.get("integrations?limit=1&offset=2").await;
    assert_eq!(list["integrations"][0]["schedule"]["name"], SCHEDULE_NIGHTLY_NAME);
}

#[tokio::test]
async fn a_schedule_is_created_by_post_replaced_by_put_and_deleted_once() {
    let cw = Cw::start().await;
    let path = format!("integrations/{INTEGRATION_IMPORT_ID}/schedule");
    // PUT replaces: nothing to replace yet.
    assert_eq!(cw.call(reqwest::Method::PUT, &path, Some(daily(Some(INTEGRATION_IMPORT_ID)))).await.0, 404);
    // POST creates, integrationId optional; a second POST is refused.
    let (status, body) = cw.call(reqwest::Method::POST, &path, Some(daily(None))).await;
    assert_eq!((status, &body["status"]["message"]), (200, &json!("Success")), "{body}");
    assert_eq!(schedule_of(&cw, INTEGRATION_IMPORT_ID).await["status"], "Active");
    assert_eq!(cw.call(reqwest::Method::POST, &path, Some(daily(None))).await.0, 400);
    // PUT needs integrationId in the body too (live CloudWorks refuses it without).
    assert_eq!(cw.call(reqwest::Method::PUT, &path, Some(daily(None))).await.0, 400);
    assert_eq!(cw.call(reqwest::Method::PUT, &path, Some(daily(Some(INTEGRATION_EXPORT_ID)))).await.0, 400);
    // Disabled, then replaced: the status is kept.
    assert_eq!(cw.call(reqwest::Method::POST, &format!("{path}/status/disabled"), None).await.0, 200);
    let mut weekly = daily(Some(INTEGRATION_IMPORT_ID));
    weekly["schedule"]["type"] = json!("weekly");
    weekly["schedule"]["daysOfWeek"] = json!([0, 6]);
    assert_eq!(cw.call(reqwest::Method::PUT, &path, Some(weekly)).await.0, 200);
    let s = schedule_of(&cw, INTEGRATION_IMPORT_ID).await;
    assert_eq!((s["type"].as_str(), s["status"].as_str()), (Some("weekly"), Some("Inactive")));
    assert_eq!(cw.call(reqwest::Method::POST, &format!("{path}/status/on"), None).await.0, 404);
    assert_eq!(cw.call(reqwest::Method::DELETE, &path, None).await.0, 200);
    assert!(schedule_of(&cw, INTEGRATION_IMPORT_ID).await.is_null());
    assert_eq!(cw.call(reqwest::Method::DELETE, &path, None).await.0, 404);
    assert_eq!(cw.call(reqwest::Method::POST, &format!("{path}/status/enabled"), None).await.0, 404);
    // Unknown integrations, and no token.
    let unknown = "integrations/0123456789abcdef0123456789abcdef/schedule";
    assert_eq!(cw.call(reqwest::Method::POST, unknown, Some(daily(None))).await.0, 404);
    assert_eq!(cw.call(reqwest::Method::DELETE, unknown, None).await.0, 404);
    let r = cw.http.delete(format!("{}/2/0/{path}", cw.fake.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_malformed_schedule_is_a_400_naming_the_field_and_changes_nothing() {
    let cw = Cw::start().await;
    let path = format!("integrations/{SCHEDULED_INTEGRATION_ID}/schedule");
    let before = cw.get(&format!("integrations/{SCHEDULED_INTEGRATION_ID}")).await.1["integration"]["schedule"].clone();
    for (field, value) in [
        ("type", json!("fortnightly")),
        ("time", json!("6am")),
        ("timezone", json!("Paris")),
        ("startDate", json!("01/01/2026")),
        ("endDate", json!("2025-12-31")),
        ("daysOfWeek", json!([1])),
    ] {
        let mut body = daily(Some(SCHEDULED_INTEGRATION_ID));
        body["schedule"][field] = value;
        let (status, answer) = cw.call(reqwest::Method::PUT, &path, Some(body)).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert!(answer["status"]["message"].as_str().unwrap().contains(field), "{field}: {answer}");
    }
    let mut body = daily(None);
    body["schedule"].as_object_mut().unwrap().remove("timezone");
    assert_eq!(
        cw.call(reqwest::Method::POST, &format!("integrations/{INTEGRATION_EXPORT_ID}/schedule"), Some(body)).await.0,
        400
    );
    let r =
        cw.req(reqwest::Method::PUT, &path).body("{").header("content-type", "application/json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let after = cw.get(&format!("integrations/{SCHEDULED_INTEGRATION_ID}")).await.1["integration"]["schedule"].clone();
    assert_eq!(before, after);
    assert!(cw.get(&format!("integrations/{INTEGRATION_EXPORT_ID}")).await.1["integration"].get("schedule").is_none());
}
