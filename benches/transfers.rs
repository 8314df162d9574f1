//! Transfer benchmark (issue #12): export to blob and import from blob through the handler,
//! at 64 MiB, 256 MiB and 1 GiB, on loopback and through a per-connection speed cap in the
//! emulator (40 MB/s unless `TRANSFER_CAP` says otherwise), against two references measured
//! in the same run on the same emulator:
//! - raw: one reqwest client straight at the emulator, chunks one after the other on one
//!   connection (download: the export's 10 MiB chunks; upload: 10 MiB chunks to the import's
//!   file), timing only the requests: the emulator's single-connection rate;
//! - anaplan-sdk: the Python SDK (`benches/anaplan_sdk_transfer.py`) downloading the export
//!   with `export_and_download`'s parallel chunks and uploading the file before the import;
//! - azurite: the same SDK client the handler uses, staging the file's worth of 10 MiB blocks
//!   `TRANSFER_WINDOW` (default 4) at a time, and reading the import's blob as the handler
//!   does: the Blob side's own rate on this machine, the ceiling of the handler's blob rows.
//!
//! At sizes up to 100 MiB (what one answer or request body may carry through the Functions
//! host) the handler is also measured without Blob storage: the export answered as the file
//! (`destination=response`) and the import sent as the request body.
//!
//! CPU time (user and system, from `/proc`) of the handler and of Azurite is noted for each
//! handler row, with the handler's bytes per CPU second: what the handler itself would move
//! per core where neither Blob storage nor Anaplan is the limit.
//!
//! Handler figures are wall time from the POST to the final 200, polls (their Retry-After
//! waits) and the Anaplan task included, as a Logic App sees them; the SDK's `seconds` also
//! include its task (the emulator runs both tasks instantly here). Memory is the handler's
//! peak RSS during the call (VmHWM reset before it) and its growth over the RSS before (0 when
//! the allocator kept freed memory from an earlier call: the peak is the figure to compare);
//! the SDK's is its process's VmHWM. MB/s are 10^6 bytes per second.
//!
//! The bench does not judge the targets; it fails only when bytes arrive wrong (the blob's
//! or the emulator's upload's SHA-256 differs from the generated file, or a size or row
//! count is off).
//!
//! Needs Azurite (`scripts/azurite.sh start`) and, for the SDK rows, a Python with
//! anaplan-sdk 0.5.22 (`ANAPLAN_SDK_PYTHON`, else `.venv-sdk/bin/python` as
//! `scripts/test.sh` makes it; without one those rows say skipped). Run:
//!
//!     cargo bench --bench transfers
//!     TRANSFER_SIZES=64M,256M TRANSFER_LINKS=capped cargo bench --bench transfers
//!
//! `TRANSFER_WAIT=N`: every start carries `wait=N` (the answer held until done), so the
//! handler rows hold no poll intervals.
//! `TRANSFER_SIZES`: comma-separated sizes with M (MiB) or G (GiB), default `64M,256M,1G`.
//! `TRANSFER_LINKS`: `loopback`, `capped` or both (default). `TRANSFER_CAP`: bytes/s per
//! connection on the capped link (default 40000000).

#[path = "../tests/app/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use anaplan_functions::config::TransferSettings;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::app::{App, azurite_container, follow};
use support::memory::{cpu_seconds, peak_rss, pids_with, reset_peak_rss, rss};

const MIB: u64 = 1024 * 1024;
/// Chunk size of the raw upload (the handler's too, today).
const UPLOAD_CHUNK: usize = 10 * 1024 * 1024;
/// Largest file one answer (or one request body) may carry through the Functions host:
/// the sizes at or under it also measure the export to `response` and the import from the body.
const ANSWER_FILE_LIMIT: u64 = 100 * MIB;

fn sizes() -> Vec<u64> {
    let spec = std::env::var("TRANSFER_SIZES").unwrap_or_else(|_| "64M,256M,1G".into());
    spec.split(',')
        .map(|s| {
            let s = s.trim();
            let (num, unit) = s.split_at(s.len() - 1);
            let n: u64 = num.parse().unwrap_or_else(|_| panic!("TRANSFER_SIZES: {s:?} is not like 64M or 1G"));
            match unit {
                "M" | "m" => n * MIB,
                "G" | "g" => n * 1024 * MIB,
                _ => panic!("TRANSFER_SIZES: {s:?} is not like 64M or 1G"),
            }
        })
        .collect()
}

fn links(cap: u64) -> Vec<(&'static str, u64)> {
    let spec = std::env::var("TRANSFER_LINKS").unwrap_or_else(|_| "loopback,capped".into());
    spec.split(',')
        .map(|l| match l.trim() {
            "loopback" => ("loopback", 0),
            "capped" => ("capped", cap),
            other => panic!("TRANSFER_LINKS: unknown link {other:?} (loopback, capped)"),
        })
        .collect()
}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * MIB && bytes.is_multiple_of(1024 * MIB) {
        format!("{} GiB", bytes / (1024 * MIB))
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

/// One measured transfer.
struct Row {
    what: String,
    secs: f64,
    bytes: u64,
    /// (peak RSS, growth over the RSS before), when measured.
    memory: Option<(u64, Option<u64>)>,
    note: String,
}

fn print_row(size: u64, link: &str, r: &Row) {
    let rate = r.bytes as f64 / r.secs / 1e6;
    let memory = match r.memory {
        Some((peak, Some(growth))) => format!("{:>8.1} MiB  {:>+8.1} MiB", mib(peak), mib(growth)),
        Some((peak, None)) => format!("{:>8.1} MiB  {:>12}", mib(peak), ""),
        None => format!("{:>12}  {:>12}", "", ""),
    };
    println!(
        "{:>8}  {:<9} {:<27} {:>8.2} s {:>8.1} MB/s  {memory}  {}",
        human(size),
        link,
        r.what,
        r.secs,
        rate,
        r.note
    );
}

/// The sized export's file at `size`: its SHA-256, written to `path` and, block by block,
/// to the blob the handler's import reads.
async fn prepare(size: u64, path: &Path, blob: &azure_storage_blob::BlobClient) -> String {
    let mut hash = Sha256::new();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut writer = anaplan_functions::storage::BlockWriter::new(blob);
    for n in 0..sized_export_chunk_count(size) {
        let chunk = sized_export_chunk(size, n).unwrap();
        hash.update(&chunk);
        file.write_all(&chunk).unwrap();
        writer.append(chunk.into()).await.unwrap();
    }
    file.flush().unwrap();
    writer.finish("text/plain").await.unwrap();
    hex::encode(hash.finalize())
}

/// The CPU seconds Azurite has used so far: every process whose command line names
/// `azurite` (0 when none is found: an Azurite in another container).
fn azurite_cpu(azurite: &[u32]) -> f64 {
    azurite.iter().map(|&p| cpu_seconds(p)).sum()
}

/// The CPU seconds used so far by the handler and by Azurite.
fn cpu_now(handler: u32, azurite: &[u32]) -> (f64, f64) {
    (cpu_seconds(handler), azurite_cpu(azurite))
}

/// What the handler and Azurite spent on one row: "cpu: handler 1.20 s (224 MB/cpu-s),
/// azurite 6.10 s".
fn cpu_note(before: (f64, f64), after: (f64, f64), bytes: u64) -> String {
    let (handler, azurite) = (after.0 - before.0, after.1 - before.1);
    let per = if handler > 0.0 { format!("{:.0}", bytes as f64 / handler / 1e6) } else { "-".to_owned() };
    format!("cpu: handler {handler:.2} s ({per} MB/cpu-s), azurite {azurite:.2} s")
}

/// Runs `call` against the handler, measuring its peak memory and its (and Azurite's) CPU
/// time around it; `consume` reads the final 200 (reading its body is part of the time).
async fn measured<F, C, CF, T>(app: &App, what: &str, bytes: u64, call: F, consume: C) -> (Row, T)
where
    F: std::future::Future<Output = reqwest::Response>,
    C: FnOnce(reqwest::Response) -> CF,
    CF: std::future::Future<Output = T>,
{
    let pid = app.host.handler_pid().expect("the handler runs");
    let azurite = pids_with("azurite");
    let reset = reset_peak_rss(pid);
    let before = rss(pid);
    let cpu_before = cpu_now(pid, &azurite);
    let started = Instant::now();
    let (done, polls) = follow(&app.http, call.await).await;
    let status = done.status();
    if status != 200 {
        panic!("{what}: {status} {}", done.text().await.unwrap_or_default());
    }
    let out = consume(done).await;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_note(cpu_before, cpu_now(pid, &azurite), bytes);
    let peak = peak_rss(pid);
    let growth = reset.then(|| peak.saturating_sub(before));
    let note = format!("polls: {polls}; {cpu}");
    let row = Row { what: what.into(), secs, bytes, memory: Some((peak, growth)), note };
    (row, out)
}

/// A final answer's JSON body.
async fn json_body(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap_or(Value::Null)
}

/// A final answer that is the file (at most 100 MiB), read whole; hashed by the caller
/// afterwards, so the hash is not in the time (as for the raw download).
async fn file_body(resp: reqwest::Response) -> bytes::Bytes {
    resp.bytes().await.expect("the file arrives whole")
}

/// Azurite's own rate for what the handler's export asks of it: the file's worth of 10 MiB
/// blocks staged `window` at a time with the same SDK client, then committed (one chunk's
/// bytes staged again and again: the content is not what is measured).
async fn azurite_stage(blob: &azure_storage_blob::BlobClient, size: u64, window: usize, azurite: &[u32]) -> Row {
    let writer = anaplan_functions::storage::BlockWriter::new(blob);
    let count = sized_export_chunk_count(size) as usize;
    let chunk = bytes::Bytes::from(sized_export_chunk(size, 0).unwrap());
    let before = azurite_cpu(azurite);
    let started = Instant::now();
    let mut staged = futures_util::stream::iter(0..count)
        .map(|i| {
            let (writer, chunk) = (&writer, chunk.clone());
            async move { writer.stage(i, chunk).await.unwrap() }
        })
        .buffer_unordered(window);
    let mut bytes = 0;
    while let Some(n) = staged.next().await {
        bytes += n;
    }
    drop(staged);
    writer.commit(count, &[], "text/plain").await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    let cpu = azurite_cpu(azurite) - before;
    let what = format!("azurite stage (window {window})");
    Row { what, secs, bytes, memory: None, note: format!("cpu: azurite {cpu:.2} s") }
}

/// Azurite's own rate for what the handler's import asks of it: the blob read as the
/// handler reads it (`storage::read_stream`), bytes dropped.
async fn azurite_read(blob: &azure_storage_blob::BlobClient, azurite: &[u32]) -> Row {
    let before = azurite_cpu(azurite);
    let started = Instant::now();
    let (_, mut stream) = anaplan_functions::storage::read_stream(blob).await.unwrap();
    let mut bytes = 0u64;
    while let Some(piece) = stream.next().await {
        bytes += piece.unwrap().len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = azurite_cpu(azurite) - before;
    Row { what: "azurite read".into(), secs, bytes, memory: None, note: format!("cpu: azurite {cpu:.2} s") }
}

async fn blob_sha(blob: &azure_storage_blob::BlobClient) -> (u64, String) {
    let (_, mut stream) = anaplan_functions::storage::read_stream(blob).await.unwrap();
    let mut hash = Sha256::new();
    let mut len = 0u64;
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap();
        len += piece.len() as u64;
        hash.update(&piece);
    }
    (len, hex::encode(hash.finalize()))
}

fn uploaded_sha(fake: &Emulator) -> (u64, String) {
    let got = fake.uploaded(FILE_PRODUCTS_ID).expect("an upload completed");
    (got.len() as u64, hex::encode(Sha256::digest(&got)))
}

/// An Integration API token by the legacy basic-auth login (the OAuth chain is the handler's).
async fn api_token(fake: &Emulator) -> String {
    let c = fake.credentials();
    let resp = reqwest::Client::new()
        .post(format!("{}/token/authenticate", fake.base_url()))
        .basic_auth(&c.username, Some(&c.password))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["tokenInfo"]["tokenValue"].as_str().expect("a token").to_owned()
}

fn bulk_url(fake: &Emulator) -> String {
    format!("{}/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}", fake.base_url())
}

/// The export's chunks, one after the other on one connection; only the requests timed.
async fn raw_download(fake: &Emulator, token: &str, size: u64) -> (Row, String) {
    let http = reqwest::Client::new();
    let mut hash = Sha256::new();
    let mut secs = 0.0;
    let mut bytes = 0u64;
    for n in 0..sized_export_chunk_count(size) {
        let started = Instant::now();
        let resp = http
            .get(format!("{}/files/{EXPORT_SIZED_ID}/chunks/{n}", bulk_url(fake)))
            .header("authorization", format!("AnaplanAuthToken {token}"))
            .header("accept", "application/octet-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "raw chunk {n}");
        let chunk = resp.bytes().await.unwrap();
        secs += started.elapsed().as_secs_f64();
        bytes += chunk.len() as u64;
        hash.update(&chunk);
    }
    let row = Row { what: "raw download (1 conn)".into(), secs, bytes, memory: None, note: String::new() };
    (row, hex::encode(hash.finalize()))
}

/// The file in 10 MiB chunks to the import's file, one after the other on one connection.
async fn raw_upload(fake: &Emulator, token: &str, path: &Path) -> Row {
    let http = reqwest::Client::new();
    let auth = format!("AnaplanAuthToken {token}");
    let content = std::fs::read(path).unwrap();
    let chunks: Vec<&[u8]> = content.chunks(UPLOAD_CHUNK).collect();
    let file = format!("{}/files/{FILE_PRODUCTS_ID}", bulk_url(fake));
    let started = Instant::now();
    let resp = http
        .post(&file)
        .header("authorization", &auth)
        .json(&json!({"chunkCount": chunks.len()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "raw upload start");
    let mut secs = started.elapsed().as_secs_f64();
    for (n, chunk) in chunks.iter().enumerate() {
        let body = bytes::Bytes::copy_from_slice(chunk);
        let started = Instant::now();
        let resp = http
            .put(format!("{file}/chunks/{n}"))
            .header("authorization", &auth)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204, "raw chunk {n}");
        secs += started.elapsed().as_secs_f64();
    }
    Row { what: "raw upload (1 conn)".into(), secs, bytes: content.len() as u64, memory: None, note: String::new() }
}

fn sdk_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANAPLAN_SDK_PYTHON") {
        return Some(p.into());
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-sdk/bin/python");
    venv.exists().then_some(venv)
}

/// Runs the SDK script; its JSON line.
fn sdk(python: &Path, fake: &Emulator, args: &[&str]) -> Value {
    let c = fake.credentials();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/anaplan_sdk_transfer.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args([fake.base_url().as_str(), &c.username, &c.password])
        .args(args)
        .output()
        .expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "anaplan-sdk {args:?} failed:\n{said}");
    let line = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").to_owned();
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("no JSON from the SDK script:\n{said}"))
}

fn sdk_row(what: &str, v: &Value) -> Row {
    let transfer = v["transfer_seconds"].as_f64().unwrap();
    let mut note = format!("transfer alone {transfer:.2} s");
    if let Some(r) = v["gzip_ratio"].as_f64() {
        note.push_str(&format!(", gzip {r:.1}x"));
    }
    Row {
        what: what.into(),
        secs: v["seconds"].as_f64().unwrap(),
        bytes: v["bytes"].as_u64().unwrap(),
        memory: Some((v["peak_rss"].as_u64().unwrap(), None)),
        note,
    }
}

#[tokio::main]
async fn main() {
    let cap: u64 = std::env::var("TRANSFER_CAP").ok().map_or(40_000_000, |v| v.parse().expect("TRANSFER_CAP: bytes/s"));
    let sizes = sizes();
    let links = links(cap);
    // The handler logs warnings only: its debug lines would bury the table (and slow it).
    let quiet = |env: &mut Vec<(String, String)>| env.retain(|(k, _)| k != "RUST_LOG");
    // The handler's window (and the Azurite rows'), when the bench is asked for another
    // than the handler's default.
    let window_setting = std::env::var("TRANSFER_WINDOW").ok();
    let window = window_setting
        .as_deref()
        .map_or(TransferSettings::default().window, |w| w.parse().expect("TRANSFER_WINDOW: a whole number"));
    let app = App::start_against(Emulator::start().await, |env| {
        quiet(env);
        env.push(("RUST_LOG".into(), "warn".into()));
        if let Some(window) = &window_setting {
            env.push(("TRANSFER_WINDOW".into(), window.clone()));
        }
    })
    .await;
    let fake = app.fake.clone();
    // Tasks finish at once: the figures are about moving bytes.
    fake.set_action_timing(EXPORT_SIZED_ID, Duration::ZERO, Duration::ZERO);
    fake.set_action_timing(IMPORT_PRODUCTS_ID, Duration::ZERO, Duration::ZERO);
    let (account, container) = azurite_container().await;
    let python = sdk_python();
    let token = api_token(&fake).await;
    let scratch = tempfile::tempdir().unwrap();
    // `TRANSFER_WAIT=N` passes `wait=N` on every start: the answer is held until the work is
    // done (up to N s), so the figures hold no poll intervals. Unset, the bench polls as a
    // Logic App does.
    let wait = std::env::var("TRANSFER_WAIT").ok().map(|w| format!("&wait={w}")).unwrap_or_default();
    let q = |what: &str, id: &str| format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&{what}={id}{wait}");

    println!("transfers: cap {:.1} MB/s per connection on the capped link; MB = 10^6 bytes", cap as f64 / 1e6);
    println!(
        "{:>8}  {:<9} {:<27} {:>10} {:>13}  {:>12}  {:>12}  note",
        "size", "link", "what", "time", "rate", "peak RSS", "growth"
    );
    for &size in &sizes {
        fake.set_sized_export_bytes(size);
        let source = format!("bench/import-{}.txt", size / MIB);
        let path = scratch.path().join("import.txt");
        let want = prepare(size, &path, &account.blob(&container, &source).unwrap()).await;
        let rows = size / SIZED_EXPORT_LINE as u64 - 1;
        for &(link, rate) in &links {
            fake.set_speed_cap(rate);
            let name = format!("bench/export-{}-{link}.txt", size / MIB);
            let (query, body) = (
                q("exportId", EXPORT_SIZED_ID),
                json!({"destination": "blob", "container": container, "blobName": name}),
            );
            let call = app.post("export-file", &query, &body);
            let (row, body) = measured(&app, "handler export to blob", size, call, json_body).await;
            print_row(size, link, &row);
            assert_eq!(body["bytes"], size, "{body}");
            assert_eq!(blob_sha(&account.blob(&container, &name).unwrap()).await, (size, want.clone()), "export blob");

            let query =
                format!("{}&source=blob&container={container}&blobName={source}", q("importId", IMPORT_PRODUCTS_ID));
            let call = app.post_bytes("import-file", &query, None, Vec::new());
            let (row, body) = measured(&app, "handler import from blob", size, call, json_body).await;
            print_row(size, link, &row);
            assert_eq!(body["rows"]["processed"], rows, "{body}");
            assert_eq!(uploaded_sha(&fake), (size, want.clone()), "handler import upload");

            // The same transfers without Blob storage, where one answer may carry the file.
            if size <= ANSWER_FILE_LIMIT {
                let (query, body) = (q("exportId", EXPORT_SIZED_ID), json!({}));
                let call = app.post("export-file", &query, &body);
                let (row, got) = measured(&app, "handler export to response", size, call, file_body).await;
                print_row(size, link, &row);
                assert_eq!(
                    (got.len() as u64, hex::encode(Sha256::digest(&got))),
                    (size, want.clone()),
                    "export to response"
                );
                drop(got);
                let content = std::fs::read(&path).unwrap();
                let query = q("importId", IMPORT_PRODUCTS_ID);
                let call = app.post_bytes("import-file", &query, Some("text/csv"), content);
                let (row, body) = measured(&app, "handler import from body", size, call, json_body).await;
                print_row(size, link, &row);
                assert_eq!(body["rows"]["processed"], rows, "{body}");
                assert_eq!(uploaded_sha(&fake), (size, want.clone()), "handler import from body");
            }

            // Azurite's own rates for the same work: the ceiling of both handler rows above.
            let azurite = pids_with("azurite");
            let scratch_blob = account.blob(&container, &format!("bench/stage-{}-{link}.txt", size / MIB)).unwrap();
            print_row(size, link, &azurite_stage(&scratch_blob, size, window, &azurite).await);
            print_row(size, link, &azurite_read(&account.blob(&container, &source).unwrap(), &azurite).await);

            let (row, got) = raw_download(&fake, &token, size).await;
            print_row(size, link, &row);
            assert_eq!(got, want, "raw download");
            let row = raw_upload(&fake, &token, &path).await;
            print_row(size, link, &row);
            assert_eq!(uploaded_sha(&fake), (size, want.clone()), "raw upload");

            let Some(python) = &python else {
                println!("{:>8}  {link:<9} anaplan-sdk: skipped (no ANAPLAN_SDK_PYTHON, no .venv-sdk)", human(size));
                continue;
            };
            let v = sdk(python, &fake, &["export", EXPORT_SIZED_ID]);
            assert_eq!((v["bytes"].as_u64(), v["sha256"].as_str()), (Some(size), Some(want.as_str())), "SDK export");
            print_row(size, link, &sdk_row("anaplan-sdk export", &v));
            let path = path.to_str().unwrap();
            let v = sdk(python, &fake, &["import", FILE_PRODUCTS_ID, IMPORT_PRODUCTS_ID, path]);
            assert_eq!(uploaded_sha(&fake), (size, want.clone()), "SDK import upload");
            print_row(size, link, &sdk_row("anaplan-sdk import", &v));
        }
        fake.set_speed_cap(0);
    }
}
