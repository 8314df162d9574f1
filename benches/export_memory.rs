//! Export memory benchmark: how much the handler's peak resident memory grows while it
//! copies a 110 MiB Anaplan export (11 chunks of 10 MiB) to Blob storage, against a 100 KiB
//! one. The copy keeps `TRANSFER_WINDOW` (default 4) chunks in flight and stages each as a
//! block as it arrives, so growth is about the window times the chunk size, never the file.
//! Prints the numbers and fails above the bound. `benches/transfers.rs` measures the same
//! up to 1 GiB, with throughput; figures in BENCHMARKS.md.
//!
//! Needs Azurite (`scripts/azurite.sh start`). Run: `cargo bench --bench export_memory`.

#[path = "../tests/app/support/mod.rs"]
mod support;
use support::memory::peak_rss;

use std::time::Instant;

use anaplan_emulator::seed::*;
use serde_json::json;
use support::app::{App, azurite_container, follow};

/// Peak growth allowed: the default window of four 10 MiB chunks plus two more (a chunk's
/// buffer while it is read, the copy an HTTP stack makes for the block upload); a handler
/// that held the file would grow by more than the whole 110 MiB.
const BOUND_BYTES: u64 = (4 + 2) * 10 * 1024 * 1024;

async fn export_to_blob(app: &App, export: &str, container: &str) -> f64 {
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&exportId={export}");
    let started = Instant::now();
    let (done, _) =
        follow(&app.http, app.post("export-file", &q, &json!({"destination": "blob", "container": container})).await)
            .await;
    assert_eq!(done.status(), 200, "the export to blob succeeds");
    started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let app = App::start().await;
    let pid = app.host.handler_pid().expect("the handler runs");
    let (_, container) = azurite_container().await;

    let small_secs = export_to_blob(&app, EXPORT_BIG_ID, &container).await;
    let baseline = peak_rss(pid);
    let huge_secs = export_to_blob(&app, EXPORT_HUGE_ID, &container).await;
    let peak = peak_rss(pid);
    let growth = peak.saturating_sub(baseline);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let size = export_len(EXPORT_HUGE_ID).unwrap() as u64;
    println!(
        "export_memory: {:.0} KiB export to blob in {:.2} s (warm-up)",
        export_len(EXPORT_BIG_ID).unwrap() as f64 / 1024.0,
        small_secs
    );
    println!(
        "export_memory: {:.0} MiB export to blob in {:.2} s ({:.1} MiB/s, polls included)",
        mib(size),
        huge_secs,
        mib(size) / huge_secs
    );
    println!(
        "export_memory: peak RSS {:.1} MiB -> {:.1} MiB, growth {:.1} MiB (bound {:.0} MiB, file {:.0} MiB)",
        mib(baseline),
        mib(peak),
        mib(growth),
        mib(BOUND_BYTES),
        mib(size)
    );
    assert!(growth <= BOUND_BYTES, "peak memory grew by {:.1} MiB: more than a few chunks", mib(growth));
}
