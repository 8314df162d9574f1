//! The storage layer against a real Azurite (scripts/test.sh starts one): signed account
//! SASs, JSON records with ETags under contention, block-by-block writes and streamed
//! reads. Every test fails, never skips, when Azurite is not running.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anaplan_functions::storage::{BlobAccount, BlockWriter, Created, JsonStore, StorageError, read_stream};
use azure_core::Bytes;
use azure_storage_blob::models::BlockListType;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

const AZURITE: &str = "127.0.0.1:10000";
const DEV_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The account of `AzureWebJobsStorage=UseDevelopmentStorage=true`, after checking that
/// Azurite answers, so a missing Azurite is one clear failure instead of a retry storm.
fn azurite() -> BlobAccount {
    let addr: SocketAddr = AZURITE.parse().unwrap();
    if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
        panic!(
            "Azurite is not running on {AZURITE}. These tests need it: run ./scripts/test.sh (which starts it), \
             or scripts/azurite.sh start first."
        );
    }
    account_from("UseDevelopmentStorage=true")
}

fn account_from(connection_string: &str) -> BlobAccount {
    let settings = HashMap::from([("AzureWebJobsStorage".to_owned(), connection_string.to_owned())]);
    BlobAccount::from_app_settings(|k| settings.get(k).cloned()).expect("valid settings").expect("an account")
}

/// A container name no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Deterministic, incompressible-looking bytes.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn read_all(client: &azure_storage_blob::BlobClient) -> (u64, Vec<u8>, usize) {
    let (length, mut stream) = read_stream(client).await.expect("read_stream");
    let mut all = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        all.extend_from_slice(&chunk.expect("a chunk"));
        chunks += 1;
    }
    (length, all, chunks)
}

#[tokio::test]
async fn creating_a_record_twice_gives_exactly_one_created() {
    let account = azurite();
    let store = JsonStore::open(&account, &unique("json")).await.unwrap();
    let first = store.create("idempotency/key-1.json", &json!({"taskId": "t1"})).await.unwrap();
    let Created::Created(etag) = first else { panic!("first create: {first:?}") };
    assert_eq!(store.create("idempotency/key-1.json", &json!({"taskId": "t2"})).await.unwrap(), Created::Exists);
    let (value, read_etag) = store.read("idempotency/key-1.json").await.unwrap().expect("the record");
    assert_eq!(value, json!({"taskId": "t1"}), "the second create must not overwrite");
    assert_eq!(read_etag, etag);
    assert!(store.read("idempotency/missing.json").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creators_exactly_one_wins() {
    let account = azurite();
    let store = JsonStore::open(&account, &unique("race")).await.unwrap();
    for round in 0..5 {
        let name = format!("lock-{round}.json");
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                let name = name.clone();
                tokio::spawn(async move { (i, store.create(&name, &json!({"owner": i})).await.unwrap()) })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            let (i, outcome) = t.await.unwrap();
            if matches!(outcome, Created::Created(_)) {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let (value, _) = store.read(&name).await.unwrap().unwrap();
        assert_eq!(value, json!({"owner": winners[0]}), "round {round}: the winner's value is stored");
    }
}

#[tokio::test]
async fn a_stale_etag_cannot_replace_or_delete() {
    let account = azurite();
    let store = JsonStore::open(&account, &unique("etag")).await.unwrap();
    let Created::Created(v1) = store.create("r.json", &json!({"n": 1})).await.unwrap() else { panic!() };
    let v2 = store.replace("r.json", &json!({"n": 2}), &v1).await.unwrap().expect("fresh etag replaces");
    assert_ne!(v1, v2);
    assert_eq!(store.replace("r.json", &json!({"n": 3}), &v1).await.unwrap(), None, "stale etag");
    assert_eq!(store.read("r.json").await.unwrap().unwrap().0, json!({"n": 2}));
    assert!(matches!(store.delete("r.json", Some(&v1)).await, Err(StorageError::Conflict)));
    store.delete("r.json", Some(&v2)).await.unwrap();
    assert!(store.read("r.json").await.unwrap().is_none());
    // Deleting what is gone is fine without an etag; replacing it is "no longer matches".
    store.delete("r.json", None).await.unwrap();
    assert_eq!(store.replace("r.json", &json!({"n": 4}), &v2).await.unwrap(), None);
}

#[tokio::test]
async fn block_writer_commits_thirteen_blocks_in_order() {
    let account = azurite();
    let container = unique("blocks");
    account.ensure_container(&container).await.unwrap();
    let client = account.blob(&container, "exports/2026/report.csv").unwrap();
    let mut writer = BlockWriter::new(&client);
    let mut expected = Sha256::new();
    let mut total = 0u64;
    for i in 0..13u64 {
        // Different sizes and contents, so any reordering changes the hash.
        let block = pattern(50_000 + (i as usize) * 7_919, i);
        expected.update(&block);
        total += block.len() as u64;
        writer.append(Bytes::from(block)).await.unwrap();
    }
    writer.append(Bytes::new()).await.unwrap();
    assert_eq!(writer.blocks(), 13);
    assert_eq!(writer.finish("text/csv").await.unwrap(), total);

    let blocks = client.block_blob_client().get_block_list(BlockListType::Committed, None).await.unwrap();
    let blocks = blocks.into_model().unwrap();
    let committed = blocks.committed_blocks.unwrap_or_default();
    assert_eq!(committed.len(), 13);
    let props = client.get_properties(None).await.unwrap();
    assert_eq!(props.headers().get_optional_str(&"content-type".into()), Some("text/csv"));

    let (length, body, _) = read_all(&client).await;
    assert_eq!(length, total);
    assert_eq!(hex::encode(Sha256::digest(&body)), hex::encode(expected.finalize()));
}

#[tokio::test]
async fn an_empty_writer_makes_an_empty_blob() {
    let account = azurite();
    let container = unique("empty");
    account.ensure_container(&container).await.unwrap();
    let client = account.blob(&container, "empty.csv").unwrap();
    assert_eq!(BlockWriter::new(&client).finish("text/csv").await.unwrap(), 0);
    let (length, body, _) = read_all(&client).await;
    assert_eq!((length, body.len()), (0, 0));
}

#[tokio::test]
async fn read_stream_round_trips_megabytes_in_chunks() {
    let account = azurite();
    let container = unique("stream");
    account.ensure_container(&container).await.unwrap();
    let client = account.blob(&container, "import source.csv").unwrap();
    let data = pattern(9 * 1024 * 1024 + 12_345, 42);
    let mut writer = BlockWriter::new(&client);
    for part in data.chunks(3 * 1024 * 1024) {
        writer.append(Bytes::copy_from_slice(part)).await.unwrap();
    }
    writer.finish("application/octet-stream").await.unwrap();

    let (length, body, chunks) = read_all(&client).await;
    assert_eq!(length, data.len() as u64);
    assert!(chunks > 1, "read in chunks, got {chunks}");
    assert_eq!(Sha256::digest(&body), Sha256::digest(&data));

    let missing = account.blob(&container, "missing.csv").unwrap();
    assert!(matches!(read_stream(&missing).await.err(), Some(StorageError::NotFound(_))));
}

#[tokio::test]
async fn ensure_container_tolerates_races_and_repeats() {
    let account = azurite();
    let name = unique("ensure");
    let (a, b, c) =
        tokio::join!(account.ensure_container(&name), account.ensure_container(&name), account.ensure_container(&name));
    a.unwrap();
    b.unwrap();
    c.unwrap();
    account.ensure_container(&name).await.unwrap();
}

#[tokio::test]
async fn a_wrong_key_is_a_clear_auth_error() {
    azurite();
    let wrong = BASE64.encode(b"this is not the key of devstoreaccount1 at all");
    let account = account_from(&format!(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={wrong};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1"
    ));
    let err = account.ensure_container(&unique("denied")).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StorageError::Denied(_)), "{err:?}");
    assert!(text.contains("403") && text.contains("check the account key"), "{text}");
    assert!(!text.contains(&wrong) && !text.contains("sig="), "{text}");
}

/// An account SAS computed here, independently of the crate, per the REST docs.
fn account_sas(permissions: &str) -> String {
    let version = azure_storage_blob::BlobClientOptions::default().version;
    let expiry = "2099-01-01T00:00:00Z";
    let to_sign = format!("devstoreaccount1\n{permissions}\nb\nsco\n\n{expiry}\n\nhttps,http\n{version}\n\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(&BASE64.decode(DEV_KEY).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = BASE64.encode(mac.finalize().into_bytes());
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", &version)
        .append_pair("ss", "b")
        .append_pair("srt", "sco")
        .append_pair("sp", permissions)
        .append_pair("se", expiry)
        .append_pair("spr", "https,http")
        .append_pair("sig", &sig)
        .finish()
}

#[tokio::test]
async fn a_given_sas_is_used_as_given() {
    azurite();
    let sas = account_sas("racwdl");
    let by_connection_string =
        account_from(&format!("BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature={sas}"));
    let by_url = BlobAccount::from_export_setting(&format!("http://127.0.0.1:10000/devstoreaccount1?{sas}")).unwrap();
    for account in [by_connection_string, by_url] {
        let store = JsonStore::open(&account, &unique("sas")).await.unwrap();
        assert!(matches!(store.create("x.json", &json!(1)).await.unwrap(), Created::Created(_)));
        assert_eq!(store.read("x.json").await.unwrap().unwrap().0, json!(1));
    }
    // A read-only SAS is refused writes, with a clear error.
    let read_only = account_from(&format!(
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature={}",
        account_sas("rl")
    ));
    let err = read_only.ensure_container(&unique("ro")).await.unwrap_err();
    assert!(matches!(err, StorageError::Denied(_)), "{err:?}");
}
