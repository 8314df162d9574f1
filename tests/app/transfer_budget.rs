//! One byte budget for transfer chunks in flight per instance (issue #26,
//! `TRANSFER_MEMORY_MB`): several exports at once, to the answer and to Blob, each with a
//! window of 4 chunks of 10 MiB, share a budget of 16 MiB. The emulator records the most
//! chunk bytes it was serving at once; with the budget that is never more than the budget
//! and one chunk (a chunk's reservation is taken before it is asked for and returned after
//! its bytes have been handed on), where the windows alone would allow 4 x 4 x 10 MiB.
//! Every file still arrives byte for byte.
//!
//! Needs Azurite (`scripts/azurite.sh start`; `scripts/test.sh` and `.ci/run` start it).

use std::time::Duration;

use crate::support::app::{App, azurite_container, follow, read_blob};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn concurrent_exports_share_one_budget_and_arrive_whole() {
    let fake = Emulator::start().await;
    // 4 chunks of 10 MiB.
    let size = 4 * EXPORT_CHUNK_SIZE as u64;
    fake.set_sized_export_bytes(size);
    fake.set_action_timing(EXPORT_SIZED_ID, Duration::ZERO, Duration::ZERO);
    let app = App::start_against(fake, |env| {
        env.push(("TRANSFER_MEMORY_MB".into(), "16".into()));
        env.push(("TRANSFER_WINDOW".into(), "4".into()));
    })
    .await;
    let (account, container) = azurite_container().await;
    let want: Vec<u8> =
        (0..sized_export_chunk_count(size)).flat_map(|n| sized_export_chunk(size, n).unwrap()).collect();
    assert_eq!(want.len() as u64, size);

    // One run of the export; its status URL is then polled by several callers at once,
    // each of whom gets the file once the task has finished (to the answer, or copied to
    // a blob of its own).
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={EXPORT_SIZED_ID}&wait=0");
    let started = app.post("export-file", &q, &json!({})).await;
    assert_eq!(started.status(), 202);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let to_answer = (0..3).map(|_| {
        let (http, location) = (app.http.clone(), location.clone());
        async move {
            let (resp, _) = follow(&http, http.get(&location).send().await.unwrap()).await;
            assert_eq!(resp.status(), 200);
            resp.bytes().await.unwrap().to_vec()
        }
    });
    let to_blob = (0..2).map(|i| {
        let (http, location, container) = (app.http.clone(), location.clone(), container.clone());
        async move {
            let url = format!("{location}&destination=blob&container={container}&blobName=budget/{i}.txt");
            let (resp, _) = follow(&http, http.get(&url).send().await.unwrap()).await;
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["bytes"], size, "{body}");
            format!("budget/{i}.txt")
        }
    });
    let (answers, blobs) =
        tokio::join!(futures_util::future::join_all(to_answer), futures_util::future::join_all(to_blob));
    for got in answers {
        assert!(got == want, "an export to the answer arrived with {} bytes, not the file's {size}", got.len());
    }
    for name in blobs {
        let got = read_blob(&account.blob(&container, &name).unwrap()).await;
        assert!(got == want, "an export to {name} has {} bytes, not the file's {size}", got.len());
    }

    let high = app.fake.chunk_bytes_high_water();
    let bound = 16 * MIB + EXPORT_CHUNK_SIZE as u64;
    assert!(high > 0, "the emulator served chunks");
    assert!(
        high <= bound,
        "{high} bytes of chunks were in flight at once, more than the budget and one chunk ({bound})"
    );
    assert_eq!(app.fake.chunk_bytes_serving(), 0);
}
