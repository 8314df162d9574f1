//! records memory benchmark: how much the handler's peak resident memory grows while it
//! answers `get-view-data` records of REV02 Big Grid, sized through the emulator's
//! `set_big_grid_size`: 2,000 × 500 (1,000,000 cells, a direct read of Anaplan's JSON),
//! 2,001 × 500 (1,000,500 cells, its seeded size, a large read of CSV) and 10,000 × 500
//! (5,000,000 cells, a large read). Each case runs in a fresh handler: a small records
//! read first (the baseline), then the big one. The growth must stay under three times
//! the size of the source Anaplan sent (the CSV, or the JSON), else the bench fails.
//!
//! Run: `cargo bench --bench records_memory` (figures in BENCHMARKS.md).

#[path = "../tests/app/support/mod.rs"]
mod support;
use support::memory::peak_rss;

use std::time::Instant;

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use support::app::App;

/// Peak growth allowed, as a multiple of the source's size.
const BOUND_RATIO: f64 = 3.0;

struct Case {
    rows: usize,
    columns: usize,
    /// The format the source arrives in, to measure its size (`grid` or `csv`).
    source_format: &'static str,
}

const CASES: [Case; 3] = [
    Case { rows: 2000, columns: 500, source_format: "grid" },
    Case { rows: 2001, columns: 500, source_format: "csv" },
    Case { rows: 10_000, columns: 500, source_format: "csv" },
];

fn ids(view: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={view}")
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// (status, body length, seconds) of one GET of get-view-data.
async fn read(app: &App, query: &str) -> (u16, u64, f64) {
    let started = Instant::now();
    let resp = app.get("get-view-data", query).await;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("the answer arrives whole");
    (status, body.len() as u64, started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let mut failures = Vec::new();
    for case in &CASES {
        // Quiet: the handler's debug lines would bury the figures.
        let quiet = |env: &mut Vec<(String, String)>| {
            env.retain(|(k, _)| k != "RUST_LOG");
            env.push(("RUST_LOG".into(), "warn".into()));
        };
        let app = App::start_against(Emulator::start().await, quiet).await;
        let pid = app.host.handler_pid().expect("the handler runs");
        app.fake.set_big_grid_size(case.rows, case.columns).expect("a size in range");

        let (status, _, _) = read(&app, &ids(VIEW_REGIONS_ID)).await;
        assert_eq!(status, 200, "the warm-up read succeeds");
        let baseline = peak_rss(pid);
        let (status, out_len, secs) = read(&app, &ids(VIEW_BIG_GRID_ID)).await;
        assert_eq!(status, 200, "the records read succeeds");
        let peak = peak_rss(pid);
        // The source's size, read after the peak was taken (this read holds it too).
        let (status, source_len, _) =
            read(&app, &format!("{}&format={}", ids(VIEW_BIG_GRID_ID), case.source_format)).await;
        assert_eq!(status, 200);

        let cells = case.rows * case.columns;
        let growth = peak.saturating_sub(baseline);
        let ratio = growth as f64 / source_len as f64;
        let (how, source) = if case.source_format == "csv" { ("large read", "CSV") } else { ("direct read", "JSON") };
        println!("records_memory: {cells} cells ({} x {}), {how}", case.rows, case.columns);
        println!(
            "  {source} {:.1} MiB -> records {:.1} MiB in {secs:.2} s ({:.1} MiB/s of records)",
            mib(source_len),
            mib(out_len),
            mib(out_len) / secs
        );
        println!(
            "  handler peak RSS {:.1} MiB -> {:.1} MiB: growth {:.1} MiB, {ratio:.2} x the {source} (bound {BOUND_RATIO} x)",
            mib(baseline),
            mib(peak),
            mib(growth)
        );
        if ratio > BOUND_RATIO {
            failures.push(format!("{cells} cells: growth {ratio:.2} x the {source}"));
        }
    }
    assert!(failures.is_empty(), "records held more than {BOUND_RATIO} x their source: {failures:?}");
}
