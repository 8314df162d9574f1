//! The emulator's transfer knobs for benchmarks: the sized export (any whole number of
//! 64-byte lines, rendered on request) and the per-connection speed cap, both steerable over
//! HTTP, refusing what they do not understand. The cap's arithmetic is unit-tested in
//! `src/emulator/speed_cap.rs`; here the bytes through a capped connection are checked, not
//! how long they took.

use crate::support::emulator_api::EmulatorApi;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};
use std::time::Duration;

const BULK: &str = "workspaces/8a81b09d599f3c6e0159f605560c2630/models/75A40874E6B64FA3AE0743278996850F";

async fn control(api: &EmulatorApi, what: &str) -> (u16, Value) {
    api.send(api.http.post(format!("{}/_emulator/{what}", api.fake.base_url()))).await
}

/// Runs the sized export and waits for it to finish.
async fn run_sized_export(api: &EmulatorApi) {
    api.fake.set_action_timing(EXPORT_SIZED_ID, Duration::ZERO, Duration::ZERO);
    let start = api
        .req(reqwest::Method::POST, &format!("{BULK}/exports/{EXPORT_SIZED_ID}/tasks"))
        .json(&json!({"localeName": "en_US"}));
    let (status, body) = api.send(start).await;
    assert_eq!(status, 200, "{body}");
    let task = body["task"]["taskId"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let (_, s) =
            api.send(api.req(reqwest::Method::GET, &format!("{BULK}/exports/{EXPORT_SIZED_ID}/tasks/{task}"))).await;
        if s["task"]["taskState"] == "COMPLETE" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the sized export never completed");
}

async fn chunk(api: &EmulatorApi, n: usize) -> (u16, Vec<u8>) {
    let resp = api
        .req(reqwest::Method::GET, &format!("{BULK}/files/{EXPORT_SIZED_ID}/chunks/{n}"))
        .header("accept", "application/octet-stream")
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_sized_export_serves_the_size_set_over_http_chunk_by_chunk() {
    let api = EmulatorApi::start().await;
    assert_eq!(api.fake.sized_export_bytes(), SIZED_EXPORT_DEFAULT_BYTES);
    let total = 2 * EXPORT_CHUNK_SIZE as u64 + 64 * 10;
    assert_eq!(control(&api, &format!("sized-export?bytes={total}")).await.0, 204);
    assert_eq!(api.fake.sized_export_bytes(), total);
    run_sized_export(&api).await;
    let (status, list) =
        api.send(api.req(reqwest::Method::GET, &format!("{BULK}/files/{EXPORT_SIZED_ID}/chunks"))).await;
    assert_eq!(status, 200);
    assert_eq!(list["chunks"].as_array().map(Vec::len), Some(3), "{list}");
    let (status, last) = chunk(&api, 2).await;
    assert_eq!(status, 200);
    assert_eq!(last.len(), 640);
    assert_eq!(Some(last), sized_export_chunk(total, 2));
    let (status, first) = chunk(&api, 0).await;
    assert_eq!(status, 200);
    assert!(first.starts_with(SIZED_EXPORT_HEADER.as_bytes()));
    assert_eq!(first.len(), EXPORT_CHUNK_SIZE);
    assert_eq!(chunk(&api, 3).await.0, 404, "past the last chunk");
}

#[tokio::test]
async fn sizes_and_caps_it_does_not_understand_are_400() {
    let api = EmulatorApi::start().await;
    for bad in ["sized-export", "sized-export?bytes=abc", "sized-export?bytes=0", "sized-export?bytes=100"] {
        let (status, body) = control(&api, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["status"]["message"].as_str().unwrap().contains("[bytes]"), "{bad}: {body}");
    }
    assert_eq!(api.fake.sized_export_bytes(), SIZED_EXPORT_DEFAULT_BYTES, "unchanged");
    for bad in ["speed-cap", "speed-cap?bytesPerSecond=-1", "speed-cap?bytesPerSecond=fast"] {
        let (status, body) = control(&api, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["status"]["message"].as_str().unwrap().contains("[bytesPerSecond]"), "{bad}: {body}");
    }
    assert_eq!(api.fake.speed_cap(), 0, "unchanged");
}

#[tokio::test]
async fn a_capped_connection_carries_uploads_and_downloads_byte_for_byte() {
    let api = EmulatorApi::start().await;
    // Small enough to take a fraction of a second at the cap.
    let total = 64 * 4096;
    api.fake.set_sized_export_bytes(total);
    run_sized_export(&api).await;
    assert_eq!(control(&api, "speed-cap?bytesPerSecond=2000000").await.0, 204);
    assert_eq!(api.fake.speed_cap(), 2_000_000);
    let (status, got) = chunk(&api, 0).await;
    assert_eq!(status, 200);
    assert_eq!(Some(got.clone()), sized_export_chunk(total, 0));

    let file = format!("{BULK}/files/{FILE_PRODUCTS_ID}");
    let (status, body) = api.send(api.req(reqwest::Method::POST, &file).json(&json!({"chunkCount": 1}))).await;
    assert_eq!(status, 200, "{body}");
    let put = api
        .req(reqwest::Method::PUT, &format!("{file}/chunks/0"))
        .header("content-type", "application/octet-stream")
        .body(got.clone());
    assert_eq!(api.send(put).await.0, 204);
    assert_eq!(api.fake.uploaded(FILE_PRODUCTS_ID), Some(got));

    assert_eq!(control(&api, "speed-cap?bytesPerSecond=0").await.0, 204, "0 turns it off");
    assert_eq!(api.fake.speed_cap(), 0);
    assert_eq!(chunk(&api, 0).await.0, 200);
}

/// Sets a chunk count on the Products source file and PUTs `body` as chunk `n` with
/// `content_type`.
async fn put_chunk(api: &EmulatorApi, n: usize, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let path = format!("{BULK}/files/{FILE_PRODUCTS_ID}/chunks/{n}");
    api.send(api.req(reqwest::Method::PUT, &path).header("content-type", content_type).body(body)).await
}

#[tokio::test]
async fn gzip_chunks_are_unpacked_and_counted_chunks_may_come_in_any_order() {
    use std::io::Write;
    let api = EmulatorApi::start().await;
    let start =
        api.req(reqwest::Method::POST, &format!("{BULK}/files/{FILE_PRODUCTS_ID}")).json(&json!({"chunkCount": 2}));
    assert_eq!(api.send(start).await.0, 200);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"P9,Second\n").unwrap();
    // Chunk 1 first, packed; then chunk 0 plain.
    assert_eq!(put_chunk(&api, 1, "application/x-gzip", gz.finish().unwrap()).await.0, 204);
    assert!(api.fake.uploaded(FILE_PRODUCTS_ID).is_none(), "not complete with one of two chunks");
    let (status, body) = put_chunk(&api, 1, "application/x-gzip", b"not gzip at all".to_vec()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(put_chunk(&api, 0, "application/octet-stream", b"Code,Name\n".to_vec()).await.0, 204);
    assert_eq!(api.fake.uploaded(FILE_PRODUCTS_ID).unwrap(), b"Code,Name\nP9,Second\n");
    // With an unknown count (-1) the order is strict.
    let start =
        api.req(reqwest::Method::POST, &format!("{BULK}/files/{FILE_PRODUCTS_ID}")).json(&json!({"chunkCount": -1}));
    assert_eq!(api.send(start).await.0, 200);
    let (status, body) = put_chunk(&api, 1, "application/octet-stream", b"x\n".to_vec()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("out of order"), "{body}");
}
