//! The fault suite: what a faulty Anaplan or a faulty Azure does to the handler, through
//! the host harness as a Logic App sees it. Every fault ends with the right data or a
//! clear retryable answer (429 or 5xx, with `Retry-After` where the contract wants one),
//! no task started twice, and the handler still serving. A start whose answer is lost (a
//! gateway's 504 after Anaplan acted, an instance killed while the start was in flight, a
//! start slower than the answer deadline) is followed to its task, never answered with a
//! status Logic Apps retries; work after a task ends (an export's file) keeps to the
//! answer deadline and leaves the task's Location. (Key Vault writes that hang and
//! requests cut during a refresh are in `tests/faults_auth.rs`.)

use std::time::Duration;

use crate::support::app::{App, azurite_container, follow, problem, write_blob};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn export_query(export: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={export}")
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn expected(export: &str) -> String {
    let bytes: Vec<u8> =
        (0..export_chunk_count(export).unwrap()).flat_map(|n| export_chunk(export, n).unwrap()).collect();
    sha(&bytes)
}

/// The handler still answers an ordinary request.
async fn still_serving(app: &App) {
    let resp = app.get("list-objects", "kind=workspaces").await;
    assert_eq!(resp.status(), 200, "the handler still serves after the fault");
}

/// Starts the big export (13 chunks) and returns its status URL.
async fn start_big_export(app: &App) -> String {
    let start = app.post("export-file", &export_query(EXPORT_BIG_ID), &json!({})).await;
    assert_eq!(start.status(), 202);
    start.headers()["location"].to_str().unwrap().to_owned()
}

/// Polls `location` until the task is done (the chunks are fetched by that answer).
async fn poll(app: &App, location: &str) -> reqwest::Response {
    let first = app.http.get(location).send().await.unwrap();
    follow(&app.http, first).await.0
}

#[tokio::test]
async fn a_429_storm_during_an_export_ends_with_the_right_bytes_or_a_429_then_the_right_bytes() {
    let app = App::start().await;
    // A few throttled requests among the chunk downloads: absorbed.
    let location = start_big_export(&app).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    app.fake.throttle_next(3, 1);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));

    // A storm longer than the retry budget: a 429 with Retry-After, then, once it is over,
    // the same status URL answers with the whole file.
    let location = start_big_export(&app).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    app.fake.throttle_next(10_000, 1);
    let body = problem(app.http.get(&location).send().await.unwrap(), 429).await;
    assert!(body["detail"].is_string());
    app.fake.throttle_next(0, 0);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));
    assert_eq!(app.fake.task_starts().len(), 2, "one task per start, none repeated");
    still_serving(&app).await;
}

#[tokio::test]
async fn a_503_burst_is_absorbed_and_a_long_outage_is_a_5xx_that_recovers() {
    let app = App::start().await;
    let location = start_big_export(&app).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    app.fake.fail_next(3, 503);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));

    app.fake.fail_next(10_000, 503);
    let resp = app.http.get(&location).send().await.unwrap();
    assert!(resp.status().is_server_error(), "an outage is a 5xx, which Logic Apps retries: {}", resp.status());
    problem(resp, 502).await;
    app.fake.fail_next(0, 503);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));

    // Chunk uploads of an import are PUTs: a burst among them is retried, the bytes arrive whole.
    let csv = "Code,Name\nP1,One\nP2,Two\n";
    app.fake.fail_next(2, 503);
    let query = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&importId={IMPORT_PRODUCTS_ID}");
    let start = app.post_bytes("import-file", &query, Some("text/csv"), csv.as_bytes().to_vec()).await;
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    assert_eq!(app.fake.uploaded(FILE_PRODUCTS_ID).unwrap(), csv.as_bytes());
    assert_eq!(app.fake.task_starts().len(), 2, "the export and the import, once each");
    still_serving(&app).await;
}

#[tokio::test]
async fn chunks_cut_off_midway_are_fetched_again_and_the_bytes_are_exact() {
    let app = App::start().await;
    let location = start_big_export(&app).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    app.fake.reset_next_chunks(3);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    let got = done.bytes().await.unwrap();
    assert_eq!(got.len(), export_len(EXPORT_BIG_ID).unwrap(), "no half chunk kept");
    assert_eq!(sha(&got), expected(EXPORT_BIG_ID));

    // Every download cut off: a clear 5xx, never a short file; then it recovers.
    app.fake.reset_next_chunks(10_000);
    let resp = app.http.get(&location).send().await.unwrap();
    assert!(resp.status().is_server_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert!(body["detail"].is_string(), "{body}");
    app.fake.reset_next_chunks(0);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));
    assert_eq!(app.fake.task_starts().len(), 1);
    still_serving(&app).await;
}

/// Azurite's published development account key, with an endpoint nothing listens on.
const STORAGE_DOWN: &str = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;\
BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;";

#[tokio::test]
async fn a_storage_outage_is_a_503_for_what_needs_storage_and_nothing_else() {
    let fake = anaplan_emulator::Emulator::start().await;
    let app = App::start_against(fake, |env| {
        env.retain(|(k, _)| k != "AzureWebJobsStorage");
        env.push(("AzureWebJobsStorage".into(), STORAGE_DOWN.into()));
    })
    .await;
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&processId={PROCESS_NIGHTLY_ID}");
    // Idempotency-Key needs the state store: a 503 with Retry-After, and nothing started.
    let keyed = app
        .http
        .post(format!("{}?{q}", app.url("run-process")))
        .header("x-functions-key", app.host.function_key())
        .header("Idempotency-Key", "storage-down-1")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(keyed, 503).await;
    assert!(app.fake.task_starts().is_empty(), "no task without its key record");
    // What does not need storage goes on.
    let plain = app.post("run-process", &q, &json!({})).await;
    assert_eq!(plain.status(), 202);
    assert_eq!(app.fake.task_starts().len(), 1);
    still_serving(&app).await;
}

/// Two instances of one app need one identity but no shared refresh-token chain: the
/// legacy basic sign-in, with `ANSWER_DEADLINE_SECONDS` short so a dead owner's claim
/// lapses soon, and a short transfer lease.
fn basic_quick(env: &mut Vec<(String, String)>) {
    env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
    env.push(("ANAPLAN_AUTH_METHOD".into(), "basic".into()));
    env.push(("ANAPLAN_USERNAME".into(), USER_EMAIL.into()));
    env.push(("ANAPLAN_PASSWORD".into(), "pa55word".into()));
    env.push(("ANSWER_DEADLINE_SECONDS".into(), "10".into()));
    env.push(("TRANSFER_LEASE_SECONDS".into(), "5".into()));
}

/// `location` (a status URL of one instance) as the same URL on `app`, with its key.
fn on(app: &App, location: &str) -> String {
    let mut url = url::Url::parse(location).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "code")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain([("code".to_owned(), app.host.function_key())])
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.set_port(url::Url::parse(&app.host.base_url()).unwrap().port()).unwrap();
    url.to_string()
}

fn import_query() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&importId={IMPORT_PRODUCTS_ID}")
}

#[tokio::test]
async fn starts_whose_answer_is_lost_are_followed_to_their_data_and_never_repeated() {
    let app = App::start().await;
    // An export: the gateway loses the start's answer after Anaplan acted.
    app.fake.lose_task_start_answers(1, 504);
    let start = app.post("export-file", &export_query(EXPORT_BIG_ID), &json!({})).await;
    assert_eq!(start.status(), 202, "the task it made, not a status Logic Apps would retry");
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));
    assert_eq!(app.fake.task_starts().len(), 1);

    // An import of the request's body: uploaded, started, the start's answer lost.
    let csv = "Code,Name\nP1,One\nP2,Two\n";
    app.fake.lose_task_start_answers(1, 502);
    let start = app.post_bytes("import-file", &import_query(), Some("text/csv"), csv.as_bytes().to_vec()).await;
    assert_eq!(start.status(), 202);
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["rows"]["processed"], 2);
    assert_eq!(app.fake.task_starts().len(), 2, "each started once");

    // An import from a blob, started in the background after its upload.
    let (account, container) = azurite_container().await;
    write_blob(&account.blob(&container, "lost/products.csv").unwrap(), csv.as_bytes().to_vec()).await;
    app.fake.lose_task_start_answers(1, 504);
    let q = format!("{}&source=blob&container={container}&blobName=lost/products.csv", import_query());
    let start = app.post_bytes("import-file", &q, None, Vec::new()).await;
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["rows"]["processed"], 2);
    assert_eq!(app.fake.task_starts().len(), 3);
    still_serving(&app).await;
}

#[tokio::test]
async fn a_start_slower_than_the_answer_deadline_answers_with_its_task_not_a_504() {
    let fake = Emulator::start().await;
    fake.set_basic_user(USER_EMAIL, "pa55word");
    let app = App::start_against(fake, basic_quick).await;
    // Anaplan acts at once but answers after the 10 s deadline.
    app.fake.hold_task_start_answers(1, Duration::from_secs(15));
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&processId={PROCESS_NIGHTLY_ID}");
    let start = app.post("run-process", &q, &json!({})).await;
    assert_eq!(start.status(), 202, "the task's Location, not a 504 without it");
    let starts = app.fake.task_starts();
    assert_eq!(starts.len(), 1);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains(&format!("taskId={}", starts[0].1)), "{location}");
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    assert_eq!(app.fake.task_starts().len(), 1);
}

#[tokio::test]
async fn an_instance_killed_mid_start_leaves_its_key_to_be_recovered_from_anaplan_not_started_again() {
    let fake = Emulator::start().await;
    fake.set_basic_user(USER_EMAIL, "pa55word");
    let mut first = App::start_against(fake.clone(), basic_quick).await;
    let second = App::start_against(fake.clone(), basic_quick).await;
    let key = format!("killed-{}", uuid::Uuid::new_v4());
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&processId={PROCESS_NIGHTLY_ID}");
    let keyed = |app: &App| {
        app.http
            .post(format!("{}?{q}", app.url("run-process")))
            .header("x-functions-key", app.host.function_key())
            .header("Idempotency-Key", key.clone())
            .json(&json!({}))
    };
    // The first instance sends the start; Anaplan acts and holds its answer; the instance
    // is killed before it hears it.
    fake.hold_task_start_answers(1, Duration::from_secs(30));
    let in_flight = tokio::spawn(keyed(&first).send());
    for _ in 0..100 {
        if !fake.task_starts().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fake.task_starts().len(), 1, "the start reached Anaplan");
    first.host.kill();
    let _ = in_flight.await;
    // Logic Apps retries on the other instance: while the dead owner's claim may still be
    // live the answer is a 503 to retry, then the task it made, found in Anaplan.
    let mut answer = None;
    for _ in 0..60 {
        let resp = keyed(&second).send().await.unwrap();
        if resp.status() != 503 {
            answer = Some(resp);
            break;
        }
        let body = problem(resp, 503).await;
        assert!(body["type"].as_str().unwrap().ends_with("start-in-progress"), "{body}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let answer = answer.expect("the key's task was never recovered");
    assert!(answer.status() == 202 || answer.status() == 200, "{}", answer.status());
    let body: Value = answer.json().await.unwrap();
    let starts = fake.task_starts();
    assert_eq!(starts.len(), 1, "one key, one task: nothing started again");
    assert_eq!(body["taskId"], starts[0].1.as_str());
    still_serving(&second).await;
}

#[tokio::test]
async fn a_blob_import_whose_instance_dies_while_starting_is_recovered_from_anaplan() {
    let fake = Emulator::start().await;
    fake.set_basic_user(USER_EMAIL, "pa55word");
    let mut first = App::start_against(fake.clone(), basic_quick).await;
    let second = App::start_against(fake.clone(), basic_quick).await;
    let (account, container) = azurite_container().await;
    let csv = "Code,Name\nP1,One\nP2,Two\nP3,Three\n";
    write_blob(&account.blob(&container, "dies/products.csv").unwrap(), csv.as_bytes().to_vec()).await;
    // The import's start is carried out, its answer held; the instance dies meanwhile.
    fake.hold_task_start_answers(1, Duration::from_secs(60));
    let q = format!("{}&source=blob&container={container}&blobName=dies/products.csv", import_query());
    let start = first.post_bytes("import-file", &q, None, Vec::new()).await;
    assert_eq!(start.status(), 202);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    for _ in 0..100 {
        if !fake.task_starts().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fake.task_starts().len(), 1, "the import was started");
    first.host.kill();
    // The other instance takes the lapsed upload over, finds the import's task, and
    // answers for it: no 409, no second start.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let resp = second.http.get(on(&second, &location)).send().await.unwrap();
    let (done, _) = follow(&second.http, resp).await;
    assert_eq!(done.status(), 200, "the upload is answered for the task it started");
    let body: Value = done.json().await.unwrap();
    let starts = fake.task_starts();
    assert_eq!(starts.len(), 1);
    assert_eq!(body["taskId"], starts[0].1.as_str());
    assert_eq!(body["rows"]["processed"], 3);
}

#[tokio::test]
async fn an_export_file_slower_than_one_answer_leaves_its_location_and_then_arrives_whole() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, |env| env.push(("ANSWER_DEADLINE_SECONDS".into(), "20".into()))).await;
    // The task ends 8 s into a held start; its 13 chunks then take 3 s per window of 4
    // (about 12 s): more than the start has left, less than a fresh poll has.
    app.fake.set_action_timing(EXPORT_BIG_ID, Duration::from_millis(300), Duration::from_secs(8));
    app.fake.set_chunk_delay(Duration::from_secs(3));
    let start = app.post("export-file", &format!("{}&wait=20", export_query(EXPORT_BIG_ID)), &json!({})).await;
    assert_eq!(start.status(), 202, "not a file that would run past the deadline");
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = start.json().await.unwrap();
    assert_eq!(body["taskState"], "COMPLETE", "{body}");
    assert_eq!(body["transfer"]["phase"], "answering", "{body}");
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID), "the next poll sends it whole");

    // 6 s a window: about 24 s, more than any answer has: a 413 that says where to send it
    // instead, with the task's status URL; the same URL answers once the link is fast.
    app.fake.set_chunk_delay(Duration::from_secs(6));
    let body = problem(app.http.get(&location).send().await.unwrap(), 413).await;
    assert!(body["type"].as_str().unwrap().ends_with("export-too-slow"), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("destination=blob"), "{body}");
    assert_eq!(body["statusUrl"], location.as_str());
    app.fake.set_chunk_delay(Duration::ZERO);
    let done = poll(&app, &location).await;
    assert_eq!(done.status(), 200);
    assert_eq!(sha(&done.bytes().await.unwrap()), expected(EXPORT_BIG_ID));
    assert_eq!(app.fake.task_starts().len(), 1);
}
