//! The fault suite: what a faulty Anaplan or a faulty Azure does to the handler, through
//! the host harness as a Logic App sees it. Every fault ends with the right data or a
//! clear retryable answer (429 or 5xx, with `Retry-After` where the contract wants one),
//! no task started twice, and the handler still serving. (Key Vault writes that hang and
//! requests cut during a refresh are in `tests/faults_auth.rs`.)

mod support;

use anaplan_functions::emulator::seed::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::app::{App, follow, problem};

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
    let fake = anaplan_functions::emulator::Emulator::start().await;
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
