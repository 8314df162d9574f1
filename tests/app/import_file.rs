//! import-file end to end: the body (or a blob) uploaded in chunks to the import's data
//! source, the import run with the async pattern, rows reported, failures with dumps.

use crate::support::app::{App, azurite_container, follow, problem, write_blob};
use anaplan_emulator::seed::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn q(import: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&importId={import}")
}

async fn post_file(app: &App, query: &str, body: Vec<u8>, content_type: &str) -> reqwest::Response {
    app.post_bytes("import-file", query, Some(content_type), body).await
}

#[tokio::test]
async fn the_body_is_uploaded_and_the_rows_are_reported() {
    let app = App::start().await;
    let csv = "Code,Name\nP010,Sprocket\nP011,Cog\n\nP012,\"Flange, large\"\n";
    let (done, _) = follow(&app.http, post_file(&app, &q(IMPORT_PRODUCTS_ID), csv.into(), "text/csv").await).await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["successful"], true);
    assert_eq!(body["rows"]["processed"], 3);
    assert_eq!(body["rows"]["ignored"], 1);
    assert_eq!(body["rows"]["failed"], 0);
    assert_eq!(app.fake.uploaded(FILE_PRODUCTS_ID).unwrap(), csv.as_bytes());
    assert!(app.fake.created_files().is_empty(), "no stray file was created");
}

#[tokio::test]
async fn a_large_body_goes_up_in_chunks_byte_for_byte() {
    let app = App::start().await;
    let mut csv = String::from("Code,Name\n");
    let mut i = 0;
    while csv.len() < 25 * 1024 * 1024 {
        csv.push_str(&format!("P{i:08},Product number {i} with a longer name to fill space\n"));
        i += 1;
    }
    let start = post_file(&app, &q(IMPORT_PRODUCTS_ID), csv.clone().into_bytes(), "application/octet-stream").await;
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    let sizes = app.fake.upload_chunk_sizes(FILE_PRODUCTS_ID);
    // Sent several at once, so they may arrive in any order; the file is put together by
    // chunk number.
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert_eq!(sizes.iter().filter(|s| **s == 10 * 1024 * 1024).count(), 2, "{sizes:?}");
    let uploaded = app.fake.uploaded(FILE_PRODUCTS_ID).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&uploaded)), hex::encode(Sha256::digest(csv.as_bytes())));
}

#[tokio::test]
async fn failed_rows_make_a_422_with_counts_and_the_dump() {
    let app = App::start().await;
    let csv = "Code,Name\nR10,East\nR11,FAIL here\nR12,West\nR13,FAIL again\n";
    let (done, _) = follow(&app.http, post_file(&app, &q(IMPORT_REGIONS_ID), csv.into(), "text/csv").await).await;
    let body = problem(done, 422).await;
    assert_eq!(body["rows"]["failed"], 2, "{body}");
    assert_eq!(body["rows"]["processed"], 2);
    let f = &body["failures"][0];
    let head: Vec<&str> = f["dumpHead"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(head.len(), 3, "header and two failed rows: {head:?}");
    assert!(head[1].contains("R11") && head[2].contains("R13"), "{head:?}");
    let whole = app.http.get(f["dumpUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.text().await.unwrap().lines().count(), 3);
}

#[tokio::test]
async fn a_blob_is_streamed_to_anaplan() {
    let app = App::start().await;
    let (account, container) = azurite_container().await;
    let csv = "Code,Name\nP100,From blob\nP101,Also from blob\n";
    write_blob(&account.blob(&container, "in/products.csv").unwrap(), csv.as_bytes().to_vec()).await;
    let query = format!("{}&source=blob&container={container}&blobName=in/products.csv", q(IMPORT_PRODUCTS_ID));
    let start = app.post_bytes("import-file", &query, None, Vec::new()).await;
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    assert_eq!(app.fake.uploaded(FILE_PRODUCTS_ID).unwrap(), csv.as_bytes());
}

#[tokio::test]
async fn bad_bodies_are_refused_before_anything_is_uploaded() {
    let app = App::start().await;
    problem(post_file(&app, &q(IMPORT_PRODUCTS_ID), b"{}".to_vec(), "application/json").await, 415).await;
    problem(post_file(&app, &q(IMPORT_PRODUCTS_ID), Vec::new(), "text/csv").await, 400).await;
    problem(post_file(&app, &format!("{}&source=blob", q(IMPORT_PRODUCTS_ID)), Vec::new(), "text/csv").await, 400)
        .await;
    assert!(app.fake.upload_chunk_sizes(FILE_PRODUCTS_ID).is_empty());
    assert!(app.fake.task_starts().is_empty());
}

#[tokio::test]
async fn an_idempotency_key_uploads_and_starts_once() {
    let app = App::start().await;
    let key = format!("load-{}", uuid::Uuid::new_v4());
    let send = || {
        app.http
            .post(format!("{}?{}", app.url("import-file"), q(IMPORT_PRODUCTS_ID)))
            .header("x-functions-key", app.host.function_key())
            .header("Idempotency-Key", &key)
            .header("content-type", "text/csv")
            .body("Code,Name\nP200,Once\n")
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let second: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first["taskId"], second["taskId"]);
    assert_eq!(app.fake.task_starts().len(), 1);
    assert_eq!(app.fake.upload_chunk_sizes(FILE_PRODUCTS_ID).len(), 1, "uploaded once");
}

#[tokio::test]
async fn blob_sources_outside_blob_containers_are_refused_before_anything_is_read() {
    // The admin lists a host container by mistake: it is refused anyway.
    let fake = anaplan_emulator::Emulator::start().await;
    let app = App::start_against(fake, |env| {
        env.retain(|(k, _)| k != "BLOB_CONTAINERS");
        env.push(("BLOB_CONTAINERS".into(), "anaplan-exports,azure-webjobs-secrets".into()));
    })
    .await;
    for container in ["azure-webjobs-secrets", "azure-webjobs-hosts", "app-package", "anaplan-functions-state", "other"]
    {
        let query = format!("{}&source=blob&container={container}&blobName=host.json", q(IMPORT_PRODUCTS_ID));
        let resp = app.post_bytes("import-file", &query, None, Vec::new()).await;
        let body = problem(resp, 400).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("BLOB_CONTAINERS") && detail.contains(container), "{body}");
    }
    assert!(app.fake.upload_chunk_sizes(FILE_PRODUCTS_ID).is_empty());
    assert!(app.fake.task_starts().is_empty());
}
