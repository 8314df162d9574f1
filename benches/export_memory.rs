//! Export memory benchmark (issue #26): how much the handler's peak resident memory grows
//! while it copies 1, 4 or 16 Anaplan exports to Blob storage at once, under one instance-wide
//! transfer budget (`TRANSFER_MEMORY_MB`) and under a budget so large it does not bind (the
//! "no budget" comparison). Each export is the emulator's Sized Export (chunks of 10 MiB)
//! and each keeps up to `TRANSFER_WINDOW` (default 4) chunks in flight, so without a binding
//! budget growth rises with the number of transfers; with one it stays under the budget plus
//! a fixed overhead, the same for every concurrency.
//!
//! Each row runs in a fresh handler (so memory the allocator kept from an earlier row cannot
//! hide growth): a 100 KiB export to Blob warms it up, its peak is the baseline, then the N
//! exports run at once. The emulator's `chunk_bytes_high_water` (export chunk bytes it was
//! serving at once) is printed as a cross-check. Fails when a budgeted row grows by more
//! than budget + [`OVERHEAD_BYTES`]. Figures in BENCHMARKS.md.
//!
//! `EXPORT_CONCURRENCY` (default `1,4,16`), `EXPORT_BUDGETS_MB` (default `64,4096`; a budget
//! of 4096 MiB does not bind here and is not judged), `EXPORT_MIB` (size of each export,
//! default 40 = 4 chunks).
//!
//! Needs Azurite (`scripts/azurite.sh start`). Run: `cargo bench --bench export_memory`.

#[path = "../tests/app/support/mod.rs"]
mod support;
use support::memory::peak_rss;

use std::time::{Duration, Instant};

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::json;
use support::app::{App, azurite_container, follow};

const MIB: u64 = 1024 * 1024;

/// Growth allowed beyond the budget, the same for every concurrency: bytes the budget does not
/// count (the Blob SDK's copy of a block while it is sent, hyper's read buffers, a chunk's
/// reservation taken before its size is known) plus the allocator's slack.
const OVERHEAD_BYTES: u64 = 64 * MIB;

/// A budget this large does not bind: the "no budget" rows.
const UNBOUNDED_MB: u64 = 4096;

fn list(var: &str, default: &str) -> Vec<u64> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{var}: a list of numbers")))
        .collect()
}

fn mib(b: u64) -> f64 {
    b as f64 / MIB as f64
}

async fn export_to_blob(app: &App, export: &str, container: &str, blob: &str) {
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={export}");
    let body = json!({"destination": "blob", "container": container, "blobName": blob});
    let (done, _) = follow(&app.http, app.post("export-file", &q, &body).await).await;
    assert_eq!(done.status(), 200, "the export to blob succeeds");
}

struct Row {
    concurrency: u64,
    budget_mb: u64,
    baseline: u64,
    growth: u64,
    secs: f64,
    high_water: u64,
}

async fn row(concurrency: u64, budget_mb: u64, size: u64, container: &str) -> Row {
    let fake = Emulator::start().await;
    fake.set_sized_export_bytes(size);
    fake.set_action_timing(EXPORT_SIZED_ID, Duration::ZERO, Duration::ZERO);
    let app = App::start_against(fake, |env| {
        env.push(("TRANSFER_MEMORY_MB".into(), budget_mb.to_string()));
    })
    .await;
    let pid = app.host.handler_pid().expect("the handler runs");
    export_to_blob(&app, EXPORT_BIG_ID, container, &format!("warm/{concurrency}-{budget_mb}.txt")).await;
    let baseline = peak_rss(pid);
    app.fake.reset_chunk_bytes_high_water();
    let started = Instant::now();
    // One run of the export (runs of one export write over its one file, so they cannot
    // overlap); its status URL is then followed by N callers at once, each copying the file
    // to a blob of its own.
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={EXPORT_SIZED_ID}&wait=0");
    let start = app.post("export-file", &q, &json!({})).await;
    assert_eq!(start.status(), 202, "the export starts");
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let exports = (0..concurrency).map(|i| {
        let url = format!(
            "{location}&destination=blob&container={container}&blobName=concurrent/{budget_mb}/{concurrency}/{i}.txt"
        );
        let http = app.http.clone();
        async move {
            let (done, _) = follow(&http, http.get(&url).send().await.unwrap()).await;
            assert_eq!(done.status(), 200, "the export to blob succeeds");
        }
    });
    futures_util::future::join_all(exports).await;
    let secs = started.elapsed().as_secs_f64();
    let growth = peak_rss(pid).saturating_sub(baseline);
    Row { concurrency, budget_mb, baseline, growth, secs, high_water: app.fake.chunk_bytes_high_water() }
}

#[tokio::main]
async fn main() {
    let concurrencies = list("EXPORT_CONCURRENCY", "1,4,16");
    let budgets = list("EXPORT_BUDGETS_MB", "64,4096");
    let size = list("EXPORT_MIB", "40")[0] * MIB;
    let (_, container) = azurite_container().await;

    println!(
        "export_memory: {} export(s) of {:.0} MiB to blob at once, chunks of {:.0} MiB, overhead allowed {:.0} MiB",
        concurrencies.iter().map(u64::to_string).collect::<Vec<_>>().join("/"),
        mib(size),
        mib(EXPORT_CHUNK_SIZE as u64),
        mib(OVERHEAD_BYTES)
    );
    println!(
        "{:>11} {:>9} {:>10} {:>10} {:>10} {:>9} {:>10}  bound",
        "concurrent", "budget", "moved", "baseline", "growth", "time", "emulator"
    );
    let mut over = Vec::new();
    for &budget_mb in &budgets {
        for &n in &concurrencies {
            let r = row(n, budget_mb, size, &container).await;
            let bound = (budget_mb < UNBOUNDED_MB).then(|| budget_mb * MIB + OVERHEAD_BYTES);
            println!(
                "{:>11} {:>5} MiB {:>6.0} MiB {:>6.1} MiB {:>6.1} MiB {:>7.2} s {:>6.0} MiB  {}",
                r.concurrency,
                r.budget_mb,
                mib(size * r.concurrency),
                mib(r.baseline),
                mib(r.growth),
                r.secs,
                mib(r.high_water),
                bound.map_or("(does not bind)".to_owned(), |b| format!("<= {:.0} MiB", mib(b)))
            );
            if bound.is_some_and(|b| r.growth > b) {
                over.push(format!("{} exports in {budget_mb} MiB grew {:.1} MiB", r.concurrency, mib(r.growth)));
            }
        }
    }
    assert!(over.is_empty(), "growth above budget + overhead: {}", over.join("; "));
}
