//! Transfers that outlive one answer (issue #12): an export copied to Blob storage and a
//! blob uploaded to an import run in the background, polls on any instance answer 202 with
//! their progress, a lost instance's transfer is taken over by the next poll, uploads to
//! one data source never mix, and an export's later run never leaks into an earlier
//! task's blob. The emulator's chunk delay makes the link slow enough for a transfer to
//! span several polls, and `ANSWER_DEADLINE_SECONDS` makes the answer deadline short.
//!
//! Needs Azurite (`scripts/azurite.sh start`; `scripts/test.sh` and `.ci/run` start it).

use std::time::Duration;

use crate::support::app::{App, azurite_container, follow, problem, read_blob, write_blob};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn export_q(export: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={export}")
}

fn import_q() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&importId={IMPORT_PRODUCTS_ID}")
}

/// The export's bytes as the emulator serves them.
fn export_bytes(export: &str) -> Vec<u8> {
    (0..export_chunk_count(export).unwrap()).flat_map(|n| export_chunk(export, n).unwrap()).collect()
}

/// Short polls, a short answer deadline, a small window and a short lease.
fn quick(env: &mut Vec<(String, String)>) {
    env.push(("ANSWER_DEADLINE_SECONDS".into(), "12".into()));
    env.push(("TRANSFER_WINDOW".into(), "2".into()));
    env.push(("TRANSFER_LEASE_SECONDS".into(), "5".into()));
}

/// Polls `location` until the answer shows the copy to Blob under way.
async fn until_copying(http: &reqwest::Client, location: &str) {
    for _ in 0..50 {
        let body: Value = http.get(location).send().await.unwrap().json().await.unwrap();
        if body["transfer"]["phase"] == "copying" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the copy never began");
}

/// Like `follow`, also collecting the `transfer` progress of each 202.
async fn follow_progress(app: &App, mut resp: reqwest::Response) -> (reqwest::Response, Vec<Value>) {
    let mut seen = Vec::new();
    while resp.status() == 202 {
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["statusUrl"], location.as_str());
        if body["transfer"].is_object() {
            seen.push(body["transfer"].clone());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        resp = app.http.get(&location).send().await.unwrap();
    }
    (resp, seen)
}

#[tokio::test]
async fn an_export_to_blob_longer_than_one_answer_finishes_across_polls_with_the_right_bytes() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, quick).await;
    let (account, container) = azurite_container().await;
    // 13 chunks, 2 at a time, 2 s each: about 14 s, longer than the 12 s answer deadline.
    app.fake.set_chunk_delay(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let start = app
        .post(
            "export-file",
            &format!("{}&wait=100", export_q(EXPORT_BIG_ID)),
            &json!({"destination": "blob", "container": container, "blobName": "slow/big.csv"}),
        )
        .await;
    // Held as long as the deadline allows, then the task id and the copy's progress.
    assert_eq!(start.status(), 202, "a held start answers 202 before the deadline, never 504");
    assert!(started.elapsed() < Duration::from_secs(12));
    let (done, progress) = follow_progress(&app, start).await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["bytes"], export_len(EXPORT_BIG_ID).unwrap());
    assert_eq!(body["chunks"], BIG_EXPORT_CHUNKS);
    assert!(!progress.is_empty(), "polls answered 202 with the copy's progress");
    let copied: Vec<u64> = progress.iter().filter_map(|p| p["chunks"].as_u64()).collect();
    assert!(copied.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {progress:?}");
    assert!(progress.iter().all(|p| p["of"] == BIG_EXPORT_CHUNKS || p["chunks"].is_null()), "{progress:?}");
    let blob = read_blob(&account.blob(&container, "slow/big.csv").unwrap()).await;
    assert_eq!(blob, export_bytes(EXPORT_BIG_ID), "the blob holds the export's bytes in chunk order");
}

#[tokio::test]
async fn a_transfer_whose_instance_is_lost_is_taken_over_by_the_next_poll_on_another() {
    // Two instances of the app (legacy basic sign-in: they share no refresh-token chain),
    // one storage account and one Anaplan.
    let fake = Emulator::start().await;
    fake.set_basic_user(USER_EMAIL, "pa55word");
    let basic = |env: &mut Vec<(String, String)>| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "basic".into()));
        env.push(("ANAPLAN_USERNAME".into(), USER_EMAIL.into()));
        env.push(("ANAPLAN_PASSWORD".into(), "pa55word".into()));
        quick(env);
    };
    let mut first = App::start_against(fake.clone(), basic).await;
    let second = App::start_against(fake.clone(), basic).await;
    let (account, container) = azurite_container().await;
    fake.set_chunk_delay(Duration::from_millis(1500));
    let start = first
        .post(
            "export-file",
            &export_q(EXPORT_BIG_ID),
            &json!({"destination": "blob", "container": container, "blobName": "lost/big.csv"}),
        )
        .await;
    assert_eq!(start.status(), 202);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    // Poll the first instance until its copy is under way, then lose it.
    until_copying(&first.http, &location).await;
    first.host.kill();
    // The same status URL, on the other instance (its own host and key).
    let mut url = url::Url::parse(&location).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "code")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain([("code".to_owned(), second.host.function_key())])
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let there = url::Url::parse(&second.host.base_url()).unwrap();
    url.set_port(there.port()).unwrap();
    let resp = second.http.get(url.as_str()).send().await.unwrap();
    if resp.status() != 202 {
        panic!("the lost copy is not reported done: {url}: {} {:?}", resp.status(), resp.text().await);
    }
    let (done, _) = follow(&second.http, resp).await;
    assert_eq!(done.status(), 200, "the next poll after the claim lapsed started the copy again");
    let blob = read_blob(&account.blob(&container, "lost/big.csv").unwrap()).await;
    assert_eq!(blob, export_bytes(EXPORT_BIG_ID));
}

#[tokio::test]
async fn a_later_run_of_the_export_during_the_copy_makes_the_earlier_task_a_409_and_writes_no_blob() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, quick).await;
    let (account, container) = azurite_container().await;
    app.fake.set_chunk_delay(Duration::from_millis(700));
    let start = app
        .post(
            "export-file",
            &export_q(EXPORT_BIG_ID),
            &json!({"destination": "blob", "container": container, "blobName": "replaced/big.csv"}),
        )
        .await;
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    until_copying(&app.http, &location).await;
    // Another run of the same export, while the first task's file is copied.
    let later = app.post("export-file", &export_q(EXPORT_BIG_ID), &json!({})).await;
    assert_eq!(later.status(), 202);
    let later: Value = later.json().await.unwrap();
    let (done, _) = follow(&app.http, app.http.get(&location).send().await.unwrap()).await;
    let body = problem(done, 409).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:export-replaced", "{body}");
    assert_eq!(body["laterTaskId"], later["taskId"], "{body}");
    let blob = account.blob(&container, "replaced/big.csv").unwrap();
    assert!(!blob.exists().await.unwrap(), "nothing was committed for the replaced task");
}

#[tokio::test]
async fn a_blob_import_uploads_in_the_background_then_answers_for_its_task() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, quick).await;
    let (account, container) = azurite_container().await;
    // 25 MiB: three chunks of up to 10 MiB, each 1.5 s on this link.
    let csv = products_csv(25 * 1024 * 1024, "B");
    write_blob(&account.blob(&container, "in/many.csv").unwrap(), csv.clone()).await;
    app.fake.set_chunk_delay(Duration::from_millis(1500));
    let query = format!("{}&source=blob&container={container}&blobName=in/many.csv", import_q());
    let start = app.post_bytes("import-file", &query, None, Vec::new()).await;
    assert_eq!(start.status(), 202);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("uploadId="), "{location}");
    let first: Value = start.json().await.unwrap();
    assert!(first["taskId"].is_null(), "no task before the file is uploaded: {first}");
    let (done, progress) = follow_progress(&app, app.http.get(&location).send().await.unwrap()).await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert!(body["taskId"].is_string(), "{body}");
    assert!(progress.iter().any(|p| p["phase"] == "uploading"), "{progress:?}");
    assert_eq!(app.fake.uploaded(FILE_PRODUCTS_ID).unwrap(), csv, "the data source holds the blob byte for byte");
    assert_eq!(app.fake.upload_chunk_sizes(FILE_PRODUCTS_ID).len(), 3);
    assert_eq!(app.fake.task_starts().len(), 1);
}

#[tokio::test]
async fn two_concurrent_imports_of_one_data_source_do_not_mix() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, quick).await;
    let (account, container) = azurite_container().await;
    app.fake.set_chunk_delay(Duration::from_millis(600));
    app.fake.set_action_timing(IMPORT_PRODUCTS_ID, Duration::from_millis(200), Duration::from_secs(2));
    let a = products_csv(21 * 1024 * 1024, "A");
    let b = products_csv(21 * 1024 * 1024, "B");
    write_blob(&account.blob(&container, "in/a.csv").unwrap(), a.clone()).await;
    // One from a blob, one as the body: both upload in chunks to the same file.
    let from_blob = async {
        let query = format!("{}&source=blob&container={container}&blobName=in/a.csv", import_q());
        follow(&app.http, app.post_bytes("import-file", &query, None, Vec::new()).await).await.0
    };
    // Waits for the other upload and its import as long as one answer may, then 429 with
    // Retry-After, which Logic Apps retries (or, when the wait and the upload left no time
    // to start the import in this answer, a 503 that says nothing started).
    let from_body = async {
        loop {
            let resp = app.post_bytes("import-file", &import_q(), Some("text/csv"), b.clone()).await;
            if resp.status() != 429 && resp.status() != 503 {
                break follow(&app.http, resp).await.0;
            }
            let status = resp.status().as_u16();
            let body = problem(resp, status).await;
            let want = if status == 429 { "data-source-busy" } else { "no-time-to-start" };
            assert_eq!(body["type"], format!("urn:anaplan-functions:problem:{want}"), "{body}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    let (x, y) = tokio::join!(from_blob, from_body);
    assert_eq!(x.status(), 200);
    assert_eq!(y.status(), 200);
    assert!(
        app.fake.uploads_during_import().is_empty(),
        "no upload changed the file while an import read it: {:?}",
        app.fake.uploads_during_import()
    );
    let last = app.fake.uploaded(FILE_PRODUCTS_ID).unwrap();
    assert!(last == a || last == b, "the file is one upload, whole, not a mix");
    assert_eq!(app.fake.task_starts().len(), 2);
}

#[tokio::test]
async fn cancelling_an_upload_stops_it_and_no_import_runs() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, quick).await;
    let (account, container) = azurite_container().await;
    let csv = products_csv(35 * 1024 * 1024, "C");
    write_blob(&account.blob(&container, "in/cancel.csv").unwrap(), csv).await;
    app.fake.set_chunk_delay(Duration::from_secs(2));
    let query = format!("{}&source=blob&container={container}&blobName=in/cancel.csv", import_q());
    let start = app.post_bytes("import-file", &query, None, Vec::new()).await;
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cancel = app.http.delete(&location).send().await.unwrap();
    assert_eq!(cancel.status(), 202, "{:?}", cancel.text().await);
    assert_eq!(cancel.headers()["location"], location.as_str());
    let (done, _) = follow(&app.http, app.http.get(&location).send().await.unwrap()).await;
    let body = problem(done, 409).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:upload-cancelled", "{body}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(app.fake.task_starts().is_empty(), "the import never started");
}

#[tokio::test]
async fn an_unknown_upload_id_is_a_404_and_a_malformed_one_a_400() {
    let app = App::start().await;
    let missing = format!("{}&uploadId={}", import_q(), "0".repeat(32));
    problem(app.get("import-file", &missing).await, 404).await;
    problem(app.get("import-file", &format!("{}&uploadId=nope", import_q())).await, 400).await;
    let both = format!("{}&uploadId={}&taskId={}", import_q(), "0".repeat(32), "0".repeat(32));
    problem(app.get("import-file", &both).await, 400).await;
}

/// A Products CSV of about `size` bytes whose codes start with `tag`.
fn products_csv(size: usize, tag: &str) -> Vec<u8> {
    let mut out = b"Code,Name\n".to_vec();
    let mut i = 0usize;
    while out.len() < size {
        out.extend_from_slice(format!("{tag}{i:09},Product {i} of upload {tag}\n").as_bytes());
        i += 1;
    }
    out
}
