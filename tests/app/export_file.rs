//! export-file end to end: the file as the answer (ordered chunks, empty exports, the
//! 100 MiB limit) or written to Blob storage (Azurite) block by block.

use crate::support::app::{App, azurite_container, follow, missing_container, problem, read_blob};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn q(export: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={export}")
}

fn expected(export: &str) -> Vec<u8> {
    (0..export_chunk_count(export).unwrap()).flat_map(|n| export_chunk(export, n).unwrap()).collect()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn the_file_is_the_final_answer_with_its_name_and_type() {
    let app = App::start().await;
    let (done, _) = follow(&app.http, app.post("export-file", &q(EXPORT_PRICE_ID), &json!({})).await).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.headers()["content-type"], "text/csv");
    assert_eq!(done.headers()["content-disposition"], format!("attachment; filename=\"{EXPORT_PRICE_NAME}\""));
    assert_eq!(done.bytes().await.unwrap().to_vec(), expected(EXPORT_PRICE_ID));
}

#[tokio::test]
async fn thirteen_chunks_arrive_in_numeric_order() {
    let app = App::start().await;
    let start = app
        .post(
            "export-file",
            "",
            &json!({"workspaceName": WS_FPA_NAME, "modelName": MODEL_REVENUE_NAME, "exportName": EXPORT_BIG_NAME}),
        )
        .await;
    let (done, _) = follow(&app.http, start).await;
    assert_eq!(done.status(), 200);
    let got = done.bytes().await.unwrap();
    assert_eq!(got.len(), export_len(EXPORT_BIG_ID).unwrap());
    assert_eq!(sha(&got), sha(&expected(EXPORT_BIG_ID)), "bytes in equal bytes out, in chunk order");
}

#[tokio::test]
async fn an_empty_export_is_an_empty_200() {
    let app = App::start().await;
    let (done, _) = follow(&app.http, app.post("export-file", &q(EXPORT_EMPTY_ID), &json!({})).await).await;
    assert_eq!(done.status(), 200);
    assert!(done.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn above_100_mib_the_answer_is_413_pointing_to_blob() {
    let app = App::start().await;
    let (done, _) = follow(&app.http, app.post("export-file", &q(EXPORT_HUGE_ID), &json!({})).await).await;
    let body = problem(done, 413).await;
    assert!(body["detail"].as_str().unwrap().contains("destination=blob"), "{body}");
}

#[tokio::test]
async fn to_blob_the_chunks_become_one_blob_with_the_same_bytes() {
    let app = App::start().await;
    let (account, container) = azurite_container().await;
    for (export, name) in [(EXPORT_BIG_ID, "exports/big.csv"), (EXPORT_HUGE_ID, "exports/huge.txt")] {
        let start = app
            .post("export-file", &q(export), &json!({"destination": "blob", "container": container, "blobName": name}))
            .await;
        let location = start.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("destination=blob") && location.contains(&container), "{location}");
        let (done, _) = follow(&app.http, start).await;
        assert_eq!(done.status(), 200);
        let body: Value = done.json().await.unwrap();
        assert_eq!(body["bytes"], export_len(export).unwrap());
        assert_eq!(body["chunks"], export_chunk_count(export).unwrap());
        let url = body["blobUrl"].as_str().unwrap();
        assert!(url.ends_with(&format!("/{container}/{name}")), "{url}");
        assert!(!url.contains("sig="), "the blob URL carries no SAS");
        let blob = account.blob(&container, name).unwrap();
        let got = read_blob(&blob).await;
        assert_eq!(sha(&got), sha(&expected(export)), "{export}");
    }
    // The default blob name is the export's name.
    let (done, _) = follow(
        &app.http,
        app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"destination": "blob", "container": container})).await,
    )
    .await;
    let body: Value = done.json().await.unwrap();
    assert!(body["blobUrl"].as_str().unwrap().ends_with("/Price%20Export.csv"), "{body}");
    assert_eq!(body["contentType"], "text/csv");
}

#[tokio::test]
async fn blob_parameters_are_checked_before_anything_runs() {
    let app = App::start().await;
    problem(app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"destination": "blob"})).await, 400).await;
    problem(
        app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"destination": "blob", "container": "Bad_Name"})).await,
        400,
    )
    .await;
    problem(app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"container": "x"})).await, 400).await;
    // Only the containers BLOB_CONTAINERS allows; the host's, the deployment's and the
    // app's state never, whatever the setting says.
    for container in ["azure-webjobs-secrets", "app-package-myapp", "scm-releases", "anaplan-functions-state", "other"]
    {
        let body = problem(
            app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"destination": "blob", "container": container})).await,
            400,
        )
        .await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("BLOB_CONTAINERS") && detail.contains(container), "{body}");
    }
    problem(app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"destination": "ftp"})).await, 400).await;
    assert!(app.fake.task_starts().is_empty());
    // A container that does not exist: the export runs, the write is a clear 404.
    let missing = missing_container();
    let start =
        app.post("export-file", &q(EXPORT_PRICE_ID), &json!({"destination": "blob", "container": missing})).await;
    let (done, _) = follow(&app.http, start).await;
    let body = problem(done, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("container"), "{body}");
}

#[tokio::test]
async fn without_storage_blob_transfers_say_so_before_anything_about_the_container() {
    // As in `demo`: no AzureWebJobsStorage, no EXPORT_STORAGE_URL.
    let fake = anaplan_emulator::Emulator::start().await;
    let app = App::start_against(fake, |env| env.retain(|(k, _)| k != "AzureWebJobsStorage")).await;
    for container in ["anaplan-exports", "not-listed"] {
        let body = json!({"destination": "blob", "container": container});
        let answer = problem(app.post("export-file", &q(EXPORT_PRICE_ID), &body).await, 400).await;
        assert!(answer["detail"].as_str().unwrap().contains("needs a storage account"), "{answer}");
        let query = format!(
            "workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&importId={IMPORT_PRODUCTS_ID}\
             &source=blob&container={container}&blobName=a.csv"
        );
        let answer = problem(app.post_bytes("import-file", &query, None, Vec::new()).await, 400).await;
        assert!(answer["detail"].as_str().unwrap().contains("needs a storage account"), "{answer}");
    }
    assert!(app.fake.task_starts().is_empty());
}

#[tokio::test]
async fn a_later_run_of_the_export_makes_the_earlier_task_answer_409_not_its_file() {
    let app = App::start().await;
    let first = app.post("export-file", &q(EXPORT_PRICE_ID), &json!({})).await;
    assert_eq!(first.status(), 202);
    let first_url = first.headers()["location"].to_str().unwrap().to_owned();
    let first_task = first.json::<Value>().await.unwrap()["taskId"].as_str().unwrap().to_owned();
    // The second start waits out the first run (the model is busy), then runs over its file.
    let second = app.post("export-file", &q(EXPORT_PRICE_ID), &json!({})).await;
    assert_eq!(second.status(), 202);
    let (done, _) = follow(&app.http, second).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.bytes().await.unwrap().to_vec(), expected(EXPORT_PRICE_ID), "the later run gets its file");
    let starts = app.fake.task_starts();
    assert_eq!(starts.len(), 2);
    let second_task = starts[1].1.clone();

    let p = problem(app.http.get(&first_url).send().await.unwrap(), 409).await;
    assert!(p["type"].as_str().unwrap().ends_with("export-replaced"), "{p}");
    assert_eq!(p["taskId"], first_task.as_str());
    assert_eq!(p["laterTaskId"], second_task.as_str());
    assert!(p["detail"].as_str().unwrap().contains("run the export again"), "{p}");
    let later_url = p["laterStatusUrl"].as_str().unwrap();
    assert!(later_url.contains(&format!("taskId={second_task}")), "{later_url}");
    let again = app.http.get(later_url).send().await.unwrap();
    assert_eq!(again.status(), 200, "the later run's status URL still gives its file");
}
