//! Request-body memory benchmark: how much a `write-cells` or `list-items` request's body
//! costs the handler, as a multiple of the body. For each request the handler's resident
//! memory is taken just before it, its peak reset (Linux `clear_refs`), and the peak during
//! the request read afterwards; the growth is the peak minus the memory before.
//!
//! - write-cells, 500,000 tidy rows (1,000,000 cells): first made malformed in its last row
//!   (a 400 after every row was read and checked, before any write), then the valid
//!   request (ten batches of 100,000 cells).
//! - write-cells, 300,000 of Anaplan's own cells.
//! - list-items add, 300,000 items (three batches of 100,000).
//!
//! Bound, else the bench fails: the growth stays under three times the body, plus, for a
//! write, two 15 MB batch bodies (the one being built and the one in flight).
//!
//! Meanwhile `GET /` (the host's health probe) is asked of the handler every 50 ms: the
//! slowest answer must come within a second, since parsing, checking and building batches
//! run off the runtime threads.
//!
//! Run: `cargo bench --bench write_cells_memory` (figures in BENCHMARKS.md).

#[path = "../tests/app/support/mod.rs"]
mod support;
use support::memory::{peak_rss, reset_peak_rss, rss};

use std::time::Instant;

use anaplan_emulator::seed::*;
use serde_json::{Value, json};
use support::app::App;

const ROWS: usize = 500_000;
const CELLS: usize = 300_000;
const ITEMS: usize = 300_000;
/// Times the body a request may grow the handler by.
const BODY_TIMES: f64 = 3.0;
/// Two batch bodies of 15 MB: the one being built and the one in flight.
const BATCHES_BYTES: f64 = 2.0 * 15_000_000.0;

fn rows(malformed_last: bool) -> Vec<u8> {
    let mut rows: Vec<Value> = (0..ROWS)
        .map(|i| {
            json!({"Products": PRODUCTS[i % 3], "Active": i % 2 == 0, "Launch Date": format!("2026-01-{:02}", 1 + i % 28)})
        })
        .collect();
    if malformed_last {
        rows[ROWS - 1]["Launch Date"] = json!("not a date");
    }
    serde_json::to_vec(&json!({ "rows": rows })).unwrap()
}

fn cells() -> Vec<u8> {
    let cells: Vec<Value> = (0..CELLS)
        .map(|i| {
            json!({"lineItemName": "Comment", "dimensions": [
                {"dimensionName": "Products", "itemName": PRODUCTS[i % 3]},
                {"dimensionName": "Regions", "itemName": REGIONS[i % 2]}], "value": format!("note {i}")})
        })
        .collect();
    serde_json::to_vec(&json!({ "cells": cells })).unwrap()
}

fn items() -> Vec<u8> {
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| json!({"code": format!("B{i:07}"), "name": format!("Bench item {i}"), "properties": {"Owner": "Ada"}}))
        .collect();
    serde_json::to_vec(&json!({ "items": items })).unwrap()
}

/// One measured request: its status and answer, seconds, and the handler's growth.
async fn measure(app: &App, pid: u32, function: &str, query: &str, body: Vec<u8>) -> (u16, Value, f64, u64) {
    let before = rss(pid);
    assert!(reset_peak_rss(pid), "the kernel lets the peak be reset (/proc/<pid>/clear_refs)");
    let started = Instant::now();
    let resp = app.post_bytes(function, query, Some("application/json"), body).await;
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    (status, answer, secs, peak_rss(pid).saturating_sub(before))
}

fn mib(b: f64) -> f64 {
    b / (1024.0 * 1024.0)
}

/// Prints one line and checks the bound.
fn report(what: &str, body_len: usize, secs: f64, growth: u64, batches: bool) {
    let bound = BODY_TIMES * body_len as f64 + if batches { BATCHES_BYTES } else { 0.0 };
    println!(
        "  {what:<34} body {:>6.1} MiB  {secs:>6.2} s  growth {:>6.1} MiB = {:.2} x body  (bound {:.1} MiB)",
        mib(body_len as f64),
        mib(growth as f64),
        growth as f64 / body_len as f64,
        mib(bound)
    );
    assert!(growth as f64 <= bound, "{what}: the handler grew by more than the bound");
}

#[tokio::main]
async fn main() {
    let app = App::start().await;
    let pid = app.host.handler_pid().expect("the handler runs");
    let module = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&moduleId={MODULE_SALES_INPUT_ID}");
    let list = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId={LIST_COST_CENTRES_ID}&action=add");
    // Warm-up: the catalog, the module's metadata, a first allocation of everything.
    let small = serde_json::to_vec(&json!({"rows": [{"Products": "Widget", "Active": true}]})).unwrap();
    let (status, _, _, _) = measure(&app, pid, "write-cells", &module, small).await;
    assert_eq!(status, 200);
    println!("write_cells_memory: the handler's peak resident memory during one request, beyond before it");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // On a thread and runtime of its own, so that the emulator's work in this process does
    // not delay the probes.
    let prober = std::thread::spawn({
        let (stop, url) = (stop.clone(), format!("{}/", app.host.handler_url()));
        move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let http = reqwest::Client::new();
                let (mut probes, mut slowest) = (0u32, 0f64);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let started = Instant::now();
                    let resp = http.get(&url).send().await.expect("GET / answers");
                    assert_eq!(resp.status(), 200);
                    slowest = slowest.max(started.elapsed().as_secs_f64());
                    probes += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                (probes, slowest)
            })
        }
    });

    let body = rows(true);
    let len = body.len();
    let (status, answer, secs, growth) = measure(&app, pid, "write-cells", &module, body).await;
    assert_eq!(status, 400, "the malformed request is refused: {answer}");
    assert_eq!(app.fake.cell_writes().len(), 1, "and writes nothing (one batch: the warm-up's)");
    report(&format!("write-cells {ROWS} rows, check (400)"), len, secs, growth, false);

    let body = rows(false);
    let len = body.len();
    let (status, answer, secs, growth) = measure(&app, pid, "write-cells", &module, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["cellsChanged"], 2 * ROWS);
    report(&format!("write-cells {ROWS} rows, write (200)"), len, secs, growth, true);

    let body = cells();
    let len = body.len();
    let (status, answer, secs, growth) = measure(&app, pid, "write-cells", &module, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["cellsChanged"], CELLS);
    report(&format!("write-cells {CELLS} cells, write (200)"), len, secs, growth, true);

    let body = items();
    let len = body.len();
    let (status, answer, secs, growth) = measure(&app, pid, "list-items", &list, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["added"], ITEMS);
    report(&format!("list-items add {ITEMS} items (200)"), len, secs, growth, true);

    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (probes, slowest) = prober.join().unwrap();
    println!("  GET / meanwhile: {probes} probes, the slowest answered in {:.0} ms", slowest * 1000.0);
    assert!(slowest < 1.0, "GET / waited a second or more behind the requests");
}
