//! run-integration end to end, as a Logic App calls it: CloudWorks integrations and flows by
//! id or name through the asynchronous pattern, failures with each failed step and its dump,
//! cancellation, `wait`, Idempotency-Key, bad input, and the list-objects dropdowns.

use std::time::Duration;

use crate::support::app::{App, follow, problem};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed_cloudworks::*;
use serde_json::{Value, json};

#[tokio::test]
async fn an_integration_named_by_name_runs_through_the_async_pattern() {
    let app = App::start().await;
    let resp = app.post("run-integration", "", &json!({"integrationName": INTEGRATION_PROCESS_NAME})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.headers()["retry-after"], "1");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/api/run-integration?", app.host.base_url())), "{location}");
    for part in [
        format!("integrationId={INTEGRATION_PROCESS_ID}"),
        "runId=".into(),
        format!("code={}", app.host.function_key()),
    ] {
        assert!(location.contains(&part), "{location} lacks {part}");
    }
    let (done, polls) = follow(&app.http, resp).await;
    assert!(polls >= 1);
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["success"], true, "{body}");
    assert!(body["message"].is_string() && body["startDate"].is_string() && body["endDate"].is_string(), "{body}");
    let runs = app.fake.cloudworks_runs();
    assert_eq!(runs, vec![(INTEGRATION_PROCESS_ID.to_owned(), body["runId"].as_str().unwrap().to_owned())]);
}

#[tokio::test]
async fn a_flow_by_id_with_wait_answers_the_final_result_at_once() {
    let app = App::start().await;
    let resp = app.post("run-integration", "wait=20", &json!({"flowId": FLOW_NIGHTLY_ID})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(app.fake.cloudworks_runs()[0].0, FLOW_NIGHTLY_ID);
}

#[tokio::test]
async fn a_failed_integration_is_a_422_with_each_failed_step_and_its_dump() {
    let app = App::start().await;
    let resp = app.post("run-integration", &format!("integrationId={INTEGRATION_BROKEN_ID}"), &json!({})).await;
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    assert_eq!(body["success"], false);
    assert!(body["runId"].is_string() && body["message"].is_string(), "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    let e = &errors[0];
    assert_eq!(e["actionId"], BROKEN_ACTION_ID);
    assert_eq!(e["actionName"], BROKEN_ACTION_NAME);
    assert!(e["messages"].as_array().unwrap().iter().any(|m| m == BROKEN_MESSAGE), "{e}");
    let dump_url = e["dumpUrl"].as_str().unwrap();
    assert!(dump_url.contains(&format!("dump={BROKEN_ACTION_ID}")) && dump_url.contains("runId="), "{dump_url}");
    // Fetched as Logic Apps would: the key rides in the URL.
    let dump = app.http.get(dump_url).send().await.unwrap();
    assert_eq!(dump.status(), 200);
    assert!(dump.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(dump.text().await.unwrap(), broken_dump());
    // A step that left no dump is a 404 problem.
    let other = dump_url.replace(&format!("dump={BROKEN_ACTION_ID}"), "dump=112000000001");
    problem(app.http.get(&other).send().await.unwrap(), 404).await;
}

#[tokio::test]
async fn a_failed_flow_reports_its_failed_step() {
    let app = App::start().await;
    let resp = app.post("run-integration", "wait=20", &json!({"flowName": FLOW_BROKEN_NAME})).await;
    let body = problem(resp, 422).await;
    assert_eq!(body["errors"][0]["actionId"], BROKEN_ACTION_ID);
    assert!(body["errors"][0]["dumpUrl"].as_str().unwrap().contains(&format!("flowId={FLOW_BROKEN_ID}")));
}

#[tokio::test]
async fn a_run_that_is_still_running_polls_as_running_never_as_failed() {
    let fake = Emulator::start().await;
    fake.set_cloudworks_run_time(Duration::from_secs(60));
    let app = App::start_against(fake, |_| {}).await;
    let resp = app.post("run-integration", &format!("integrationId={INTEGRATION_IMPORT_ID}"), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    // CloudWorks says `success: false` (and no `endDate`) for a run that has not ended.
    for _ in 0..2 {
        let poll = app.http.get(&location).send().await.unwrap();
        assert_eq!(poll.status(), 202);
        let body: Value = poll.json().await.unwrap();
        assert_eq!(body["taskState"], "RUNNING", "{body}");
    }
}

#[tokio::test]
async fn delete_on_the_location_cancels_and_polling_ends_in_409() {
    let fake = Emulator::start().await;
    fake.set_cloudworks_run_time(Duration::from_secs(60));
    let app = App::start_against(fake, |_| {}).await;
    let resp = app.post("run-integration", &format!("integrationId={INTEGRATION_EXPORT_ID}"), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let cancel = app.http.delete(&location).send().await.unwrap();
    assert_eq!(cancel.status(), 202);
    assert_eq!(cancel.headers()["location"].to_str().unwrap(), location);
    assert_eq!(app.fake.cloudworks_cancels(), 1);
    let (done, _) = follow(&app.http, cancel).await;
    let body = problem(done, 409).await;
    assert!(body["type"].as_str().unwrap().ends_with("run-cancelled"), "{body}");
    // Cancelling again: nothing left to cancel, still 409, and CloudWorks is not asked.
    problem(app.http.delete(&location).send().await.unwrap(), 409).await;
    assert_eq!(app.fake.cloudworks_cancels(), 1);
}

#[tokio::test]
async fn bad_input_is_a_400_and_unknown_names_a_404_before_anything_runs() {
    let app = App::start().await;
    let empty = json!({});
    let (a, e) = (&app, &empty);
    let p = move |q: String| async move { a.post("run-integration", &q, e).await };
    problem(p(String::new()).await, 400).await;
    problem(p(format!("integrationId={INTEGRATION_IMPORT_ID}&flowId={FLOW_NIGHTLY_ID}")).await, 400).await;
    problem(p(format!("integrationId={INTEGRATION_IMPORT_ID}&integrationName=x")).await, 400).await;
    problem(p(format!("integrationId={}", INTEGRATION_IMPORT_ID.to_uppercase())).await, 400).await;
    problem(p("flowId=../../integrations".into()).await, 400).await;
    problem(p(format!("integrationId={INTEGRATION_IMPORT_ID}&runId=c10d0000000000000000000000000001")).await, 400)
        .await;
    problem(app.get("run-integration", &format!("integrationId={INTEGRATION_IMPORT_ID}")).await, 400).await;
    problem(app.get("run-integration", &format!("integrationId={INTEGRATION_IMPORT_ID}&runId=nope")).await, 400).await;
    let unknown = problem(p("integrationName=Nightly%20Blob%20Proces".into()).await, 404).await;
    assert!(unknown.to_string().contains(INTEGRATION_PROCESS_NAME), "closest names: {unknown}");
    let ambiguous =
        problem(p(format!("integrationName={}", INTEGRATION_DUPLICATE_NAME.replace(' ', "%20"))).await, 404).await;
    assert!(ambiguous.to_string().contains(INTEGRATION_DUPLICATE_1_ID), "{ambiguous}");
    problem(p("flowName=Nightly".into()).await, 404).await;
    // An id of the right shape that CloudWorks does not know: CloudWorks' 404, passed on.
    problem(p("integrationId=c10d00000000000000000000000000ff".into()).await, 404).await;
    assert!(app.fake.cloudworks_runs().is_empty(), "nothing ran");
}

fn with_key(req: reqwest::RequestBuilder, key: &str, fkey: &str) -> reqwest::RequestBuilder {
    req.header("Idempotency-Key", key).header("x-functions-key", fkey).json(&json!({}))
}

#[tokio::test]
async fn an_idempotency_key_starts_the_run_once() {
    let app = App::start().await;
    let key = format!("order-{}", uuid::Uuid::new_v4());
    let q = format!("integrationId={INTEGRATION_IMPORT_ID}");
    let url = format!("{}?{q}", app.url("run-integration"));
    let (ra, rb) = tokio::join!(
        with_key(app.http.post(&url), &key, &app.host.function_key()).send(),
        with_key(app.http.post(&url), &key, &app.host.function_key()).send(),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (202, 202));
    let a: Value = ra.json().await.unwrap();
    let b: Value = rb.json().await.unwrap();
    assert_eq!(a["runId"], b["runId"]);
    assert_eq!(app.fake.cloudworks_runs().len(), 1, "CloudWorks ran it once");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = with_key(app.http.post(&url), &key, &app.host.function_key()).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["runId"], a["runId"]);
    let other = format!("{}?flowId={FLOW_NIGHTLY_ID}", app.url("run-integration"));
    problem(with_key(app.http.post(&other), &key, &app.host.function_key()).send().await.unwrap(), 409).await;
    assert_eq!(app.fake.cloudworks_runs().len(), 1);
}

async fn list(app: &App, q: &str) -> Vec<(String, String)> {
    let resp = app.get("list-objects", q).await;
    assert_eq!(resp.status(), 200, "{q}");
    let items: Vec<Value> = resp.json().await.unwrap();
    items.iter().map(|i| (i["id"].as_str().unwrap().to_owned(), i["name"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn list_objects_feeds_the_integration_and_flow_dropdowns() {
    let app = App::start().await;
    let integrations = list(&app, "kind=integrations").await;
    assert_eq!(integrations.len(), 6, "every page followed: {integrations:?}");
    assert!(integrations.contains(&(INTEGRATION_BROKEN_ID.into(), INTEGRATION_BROKEN_NAME.into())));
    let flows = list(&app, "kind=flows").await;
    assert_eq!(
        flows,
        vec![(FLOW_NIGHTLY_ID.into(), FLOW_NIGHTLY_NAME.into()), (FLOW_BROKEN_ID.into(), FLOW_BROKEN_NAME.into())]
    );
    problem(app.get("list-objects", "kind=integrations&workspaceName=x").await, 400).await;
}

#[tokio::test]
async fn a_start_whose_answer_is_lost_is_answered_for_the_run_it_made() {
    let app = App::start().await;
    // CloudWorks starts the run, and the answer is lost: the run is found in the
    // integration's run history and answered as the start would have been.
    app.fake.fail_next_after_acting(1, 504);
    let q = format!("integrationId={INTEGRATION_PROCESS_ID}");
    let resp = app.post("run-integration", &q, &json!({})).await;
    assert_eq!(resp.status(), 202, "not a status Logic Apps would retry");
    let runs = app.fake.cloudworks_runs();
    assert_eq!(runs.len(), 1, "started once, never again");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains(&format!("runId={}", runs[0].1)), "{location}");
    let (done, _) = follow(&app.http, resp).await;
    assert_eq!(done.status(), 200);

    // A flow has no run history to name its run from: CloudWorks shows that it started,
    // so the answer is a 409 that says so and how to check, and nothing starts again.
    app.fake.fail_next_after_acting(1, 504);
    let body = problem(app.post("run-integration", &format!("flowId={FLOW_NIGHTLY_ID}"), &json!({})).await, 409).await;
    assert!(body["type"].as_str().unwrap().ends_with("start-uncertain"), "{body}");
    assert_eq!(body["notRepeated"], true);
    assert!(body["detail"].as_str().unwrap().contains("began after it was sent"), "{body}");
    assert_eq!(app.fake.cloudworks_runs().len(), 2);

    // With a key, the run found is the key's: the retry answers for it.
    let key = format!("lost-{}", uuid::Uuid::new_v4());
    let url = format!("{}?integrationId={INTEGRATION_IMPORT_ID}", app.url("run-integration"));
    app.fake.fail_next_after_acting(1, 504);
    let first = with_key(app.http.post(&url), &key, &app.host.function_key()).send().await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let retry = with_key(app.http.post(&url), &key, &app.host.function_key()).send().await.unwrap();
    assert!(retry.status() == 202 || retry.status() == 200, "{}", retry.status());
    assert_eq!(retry.json::<Value>().await.unwrap()["runId"], first["runId"]);
    let runs = app.fake.cloudworks_runs();
    assert_eq!(runs.len(), 3);
    assert_eq!(first["runId"], runs[2].1.as_str());
}

#[tokio::test]
async fn a_status_url_cannot_point_at_another_integrations_run() {
    let fake = Emulator::start().await;
    fake.set_cloudworks_run_time(Duration::from_secs(60));
    let app = App::start_against(fake, |_| {}).await;
    let app = &app;
    let start = |q: String| async move {
        let resp = app.post("run-integration", &q, &json!({})).await;
        assert_eq!(resp.status(), 202);
        resp.json::<Value>().await.unwrap()["runId"].as_str().unwrap().to_owned()
    };
    let export_run = start(format!("integrationId={INTEGRATION_EXPORT_ID}")).await;
    let flow_run = start(format!("flowId={FLOW_NIGHTLY_ID}")).await;
    let delete = |q: String| {
        app.http
            .delete(format!("{}?{q}", app.url("run-integration")))
            .header("x-functions-key", app.host.function_key())
    };
    // Another integration's run, an integration's run under a flow, a flow's run under an
    // integration or another flow: 404 for a status check, a dump and a cancellation.
    for q in [
        format!("integrationId={INTEGRATION_IMPORT_ID}&runId={export_run}"),
        format!("flowId={FLOW_NIGHTLY_ID}&runId={export_run}"),
        format!("integrationId={INTEGRATION_EXPORT_ID}&runId={flow_run}"),
        format!("flowId={FLOW_BROKEN_ID}&runId={flow_run}"),
    ] {
        let body = problem(app.get("run-integration", &q).await, 404).await;
        assert!(body["type"].as_str().unwrap().ends_with("run-not-found"), "{q}: {body}");
        problem(app.get("run-integration", &format!("{q}&dump={BROKEN_ACTION_ID}")).await, 404).await;
        problem(delete(q.clone()).send().await.unwrap(), 404).await;
    }
    assert_eq!(app.fake.cloudworks_cancels(), 0, "nothing was cancelled through another's status URL");
    // Each under its own integration or flow answers as ever.
    let own = app.get("run-integration", &format!("integrationId={INTEGRATION_EXPORT_ID}&runId={export_run}")).await;
    assert_eq!(own.status(), 202);
    let own = app.get("run-integration", &format!("flowId={FLOW_NIGHTLY_ID}&runId={flow_run}")).await;
    assert_eq!(own.status(), 202);
    let cancel = delete(format!("flowId={FLOW_NIGHTLY_ID}&runId={flow_run}")).send().await.unwrap();
    assert_eq!(cancel.status(), 202);
    assert_eq!(app.fake.cloudworks_cancels(), 1);
}
