//! write-cells memory benchmark: a 500,000-row write (1,000,000 cells, ten batches of
//! 100,000) must hold no more than about one batch of Anaplan request bodies beyond its
//! parsed input. The parsed input is measured by the same request made malformed in its
//! last row (a 400 after every row was parsed and checked, before any write); the valid
//! request's peak resident memory may exceed that by at most two 15 MB batch bodies.
//! Prints the numbers and fails above the bound.
//!
//! Run: `cargo bench --bench write_cells_memory` (figures in BENCHMARKS.md).

#[path = "../tests/support/mod.rs"]
mod support;
use support::memory::peak_rss;

use std::time::Instant;

use anaplan_functions::emulator::seed::*;
use serde_json::{Value, json};
use support::app::App;

const ROWS: usize = 500_000;
/// Two batch bodies of 15 MB: the one being sent and slack for the allocator.
const BOUND_BYTES: u64 = 2 * 15 * 1024 * 1024;

fn rows(malformed_last: bool) -> Value {
    let mut rows: Vec<Value> = (0..ROWS)
        .map(|i| {
            json!({"Products": PRODUCTS[i % 3], "Active": i % 2 == 0, "Launch Date": format!("2026-01-{:02}", 1 + i % 28)})
        })
        .collect();
    if malformed_last {
        rows[ROWS - 1]["Launch Date"] = json!("not a date");
    }
    json!({ "rows": rows })
}

#[tokio::main]
async fn main() {
    let app = App::start().await;
    let pid = app.host.handler_pid().expect("the handler runs");
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&moduleId={MODULE_SALES_INPUT_ID}");
    let body_len = serde_json::to_vec(&rows(false)).unwrap().len();

    let started = Instant::now();
    let resp = app.post("write-cells", &q, &rows(true)).await;
    assert_eq!(resp.status(), 400, "the malformed request is refused");
    let checked_secs = started.elapsed().as_secs_f64();
    let parsed_peak = peak_rss(pid);
    assert!(app.fake.cell_writes().is_empty(), "and writes nothing");

    let started = Instant::now();
    let resp = app.post("write-cells", &q, &rows(false)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let write_secs = started.elapsed().as_secs_f64();
    let write_peak = peak_rss(pid);
    assert_eq!(body["cellsChanged"], 2 * ROWS);
    let growth = write_peak.saturating_sub(parsed_peak);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "write_cells_memory: {ROWS} rows ({:.1} MiB body), {} cells in {} batches",
        mib(body_len as u64),
        body["cellsChanged"],
        body["batches"]
    );
    println!("  check only (400): {checked_secs:.2} s, handler peak RSS {:.1} MiB", mib(parsed_peak));
    println!("  write (200):      {write_secs:.2} s, handler peak RSS {:.1} MiB", mib(write_peak));
    println!("  beyond the parsed input: {:.1} MiB (bound {:.0} MiB)", mib(growth), mib(BOUND_BYTES));
    assert!(growth <= BOUND_BYTES, "write-cells held more than a batch beyond its input");
}
