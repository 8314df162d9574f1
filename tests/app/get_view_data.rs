//! get-view-data end to end: through the host harness, against the Anaplan emulator.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use anaplan_emulator::{Emulator, EmulatorConfig, ReadPageHeaders};
use serde_json::{Value, json};

fn ids(view: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={view}")
}

#[tokio::test]
async fn records_by_ids_have_typed_cells_in_column_order() {
    let app = App::start().await;
    let resp = app
        .get("get-view-data", &format!("{}&pages={DIM_VERSIONS_ID}:{VERSION_FORECAST_ID}", ids(VIEW_PRICE_BOOK_ID)))
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["view"], json!({"id": VIEW_PRICE_BOOK_ID, "name": VIEW_PRICE_BOOK_NAME}));
    assert_eq!(body["pages"], json!([{"dimension": DIM_VERSIONS_NAME, "item": VERSION_FORECAST_NAME}]));

    let mut columns = vec![DIM_PRODUCTS_NAME.to_owned(), DIM_REGIONS_NAME.to_owned()];
    for m in PRICE_BOOK_MONTHS {
        for li in PRICE_BOOK_LINE_ITEMS {
            columns.push(format!("{m} | {li}"));
        }
    }
    assert_eq!(body["columns"], json!(columns));

    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), PRODUCTS.len() * REGIONS.len());
    for (p, product) in PRODUCTS.iter().enumerate() {
        for (r, region) in REGIONS.iter().enumerate() {
            let row = rows.iter().find(|row| row["Products"] == *product && row["Regions"] == *region).unwrap();
            let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            assert_eq!(keys, columns.iter().collect::<Vec<_>>());
            for (m, month) in PRICE_BOOK_MONTHS.iter().enumerate() {
                let price: Value = serde_json::from_str(&price_book_price(1, p, r, m)).unwrap();
                assert!(price.is_number());
                assert_eq!(row[format!("{month} | Price")], price, "{product}/{region}/{month}");
                assert_eq!(row[format!("{month} | Notes")], json!(price_book_note(1, p, r, m)));
            }
        }
    }
}

#[tokio::test]
async fn names_resolve_like_ids_and_post_bodies_work() {
    let app = App::start().await;
    let by_id: Value = app.get("get-view-data", &ids(VIEW_REGIONS_ID)).await.json().await.unwrap();
    let resp = app
        .post(
            "get-view-data",
            "",
            &json!({"workspaceName": WS_FPA_NAME, "modelName": MODEL_REVENUE_NAME, "viewName": VIEW_REGIONS_NAME}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let by_name: Value = resp.json().await.unwrap();
    assert_eq!(by_id, by_name);
    assert_eq!(by_name["rows"].as_array().unwrap().len(), REGIONS.len());
    // A saved view is found by name too (listed with includesubsidiaryviews=true).
    let saved = app
        .get(
            "get-view-data",
            &format!(
                "workspaceId={WS_FPA_ID}&modelName=Revenue%20Plan&viewName={}",
                VIEW_SAVED_NOTES_NAME.replace(' ', "%20")
            ),
        )
        .await;
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["view"]["id"], VIEW_SAVED_NOTES_ID);
}

#[tokio::test]
async fn grid_is_anaplans_json_and_csv_is_anaplans_csv() {
    let app = App::start().await;
    let pages = format!("&pages={DIM_VERSIONS_ID}:{VERSION_ACTUAL_ID}");
    let grid = app.get("get-view-data", &format!("{}&format=grid{pages}", ids(VIEW_PRICE_BOOK_ID))).await;
    assert_eq!(grid.status(), 200);
    let grid: Value = grid.json().await.unwrap();
    assert_eq!(grid["pages"], json!([VERSION_ACTUAL_NAME]));
    assert_eq!(grid["columnCoordinates"][0], json!([PRICE_BOOK_MONTHS[0], PRICE_BOOK_LINE_ITEMS[0]]));
    assert_eq!(grid["rows"][0]["cells"][0], json!(price_book_price(0, 0, 0, 0)));

    let csv = app.get("get-view-data", &format!("{}&format=csv{pages}", ids(VIEW_PRICE_BOOK_ID))).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&lines[0][0], VERSION_ACTUAL_NAME, "page line first");
    assert_eq!(lines.len(), 1 + 2 + PRODUCTS.len() * REGIONS.len());
    let gizmo = lines.iter().find(|l| &l[0] == PRODUCTS[2] && &l[1] == REGIONS[0]).unwrap();
    assert_eq!(&gizmo[2], price_book_price(0, 2, 0, 0));
}

#[tokio::test]
async fn views_above_a_million_cells_go_through_a_large_read_that_is_deleted() {
    let app = App::start().await;
    let resp = app.get("get-view-data", &ids(VIEW_BIG_GRID_ID)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), BIG_GRID_ROWS);
    assert_eq!(body["columns"].as_array().unwrap().len(), 1 + BIG_GRID_COLUMNS);
    for (r, c) in [(0, 0), (1000, 250), (BIG_GRID_ROWS - 1, BIG_GRID_COLUMNS - 1)] {
        let row = &rows[r];
        assert_eq!(row[DIM_CUSTOMERS_NAME], json!(customer_name(r)));
        let want: Value = serde_json::from_str(&big_grid_cell(r, c)).unwrap();
        assert_eq!(row[month_name(c)], want, "cell {r},{c}");
    }
    assert_eq!(app.fake.read_requests_created(), 1);
    assert_eq!(app.fake.live_read_requests(), 0, "the read request is deleted afterwards");

    let csv = app.get("get-view-data", &format!("{}&format=csv", ids(VIEW_BIG_GRID_ID))).await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + BIG_GRID_ROWS);
    assert_eq!(app.fake.read_requests_created(), 2);
    assert_eq!(app.fake.live_read_requests(), 0);

    // Grid JSON and page selection only exist for direct reads.
    let grid = app.get("get-view-data", &format!("{}&format=grid", ids(VIEW_BIG_GRID_ID))).await;
    let p = problem(grid, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("1,000,000"), "{p}");
    assert_eq!(app.fake.read_requests_created(), 2, "no large read for a format it cannot serve");
}

/// (csv, records) of a large read of `view` under each page layout, in that order.
async fn large_read_under_both_layouts(app: &App, view: &str, records: bool) -> Vec<(String, Option<Value>)> {
    let mut out = Vec::new();
    for layout in [ReadPageHeaders::FirstPage, ReadPageHeaders::EveryPage] {
        app.fake.set_read_page_headers(layout);
        let csv = app.get("get-view-data", &format!("{}&format=csv", ids(view))).await;
        assert_eq!(csv.status(), 200, "{layout:?}");
        let csv = csv.text().await.unwrap();
        let records = if records {
            let resp = app.get("get-view-data", &ids(view)).await;
            assert_eq!(resp.status(), 200, "{layout:?}");
            Some(resp.json::<Value>().await.unwrap())
        } else {
            None
        };
        out.push((csv, records));
    }
    out
}

#[tokio::test]
async fn large_read_pages_with_or_without_repeated_headers_give_the_same_answers() {
    // Nine pages, as in the report of 8 extra rows.
    let cfg = EmulatorConfig { read_request_pages: 9, ..EmulatorConfig::default() };
    let app = App::start_against(Emulator::start_with(cfg).await, |_| {}).await;
    let answers = large_read_under_both_layouts(&app, VIEW_BIG_GRID_ID, true).await;
    let (first_only, every) = (&answers[0], &answers[1]);
    assert_eq!(first_only.0.lines().count(), 1 + BIG_GRID_ROWS);
    assert!(first_only.0 == every.0, "the same CSV under both layouts");
    let rows = every.1.as_ref().unwrap()["rows"].as_array().unwrap();
    assert_eq!(rows.len(), BIG_GRID_ROWS, "no header line became a row");
    assert!(first_only.1 == every.1, "the same records under both layouts");
    assert_eq!(app.fake.live_read_requests(), 0);
}

#[tokio::test]
async fn a_repeated_header_block_of_several_lines_is_dropped_whole() {
    // REV01 Price Book has a page line and two column dimensions: a three-line preamble.
    // A low direct-read limit sends it through a large read.
    let cfg = EmulatorConfig { direct_read_cell_limit: 10, read_request_pages: 3, ..EmulatorConfig::default() };
    let app = App::start_against(Emulator::start_with(cfg).await, |_| {}).await;
    let answers = large_read_under_both_layouts(&app, VIEW_PRICE_BOOK_ID, false).await;
    assert_eq!(app.fake.read_requests_created(), 2);
    let direct = App::start().await;
    let want = direct.get("get-view-data", &format!("{}&format=csv", ids(VIEW_PRICE_BOOK_ID))).await;
    let want = want.text().await.unwrap();
    assert!(want.lines().count() > 3 + 2, "a preamble of three lines and rows on every page: {want}");
    assert_eq!(answers[0].0, want, "first page only: the pages concatenated");
    assert_eq!(answers[1].0, want, "every page: the repeats dropped");
}

#[tokio::test]
async fn bad_input_gets_the_right_problem_and_never_reaches_anaplan_with_junk() {
    let app = App::start().await;
    let cases: Vec<(String, u16, &str)> = vec![
        (format!("workspaceId={WS_FPA_ID}&modelId=75a40874e6b64fa3ae0743278996850f&viewId=1"), 400, "modelId"),
        (format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId=..%2F102"), 400, "viewId"),
        (format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId=102000000001&viewName=x"), 400, "not both"),
        (format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}"), 400, "viewId or viewName"),
        (format!("{}&format=xml", ids(VIEW_REGIONS_ID)), 400, "format"),
        (format!("{}&pages=20000000020", ids(VIEW_REGIONS_ID)), 400, "pages"),
        (format!("{}&viewid=1", ids(VIEW_REGIONS_ID)), 400, "unknown parameter"),
        (format!("{}&format=csv&format=grid", ids(VIEW_REGIONS_ID)), 400, "twice"),
    ];
    let before = app.fake.requests().len();
    for (query, status, needle) in &cases {
        let body = problem(app.get("get-view-data", query).await, *status).await;
        assert!(body["detail"].as_str().unwrap().contains(needle), "{query}: {body}");
    }
    assert_eq!(app.fake.requests().len(), before, "malformed input never reaches Anaplan");

    // A body that is not JSON, one that conflicts with the query, and a GET with a body.
    let not_json = app
        .http
        .post(app.url("get-view-data"))
        .header("x-functions-key", app.host.function_key())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(not_json, 400).await;
    let conflict = app.post("get-view-data", "format=csv", &json!({"format": "grid"})).await;
    problem(conflict, 400).await;
    let form = app
        .http
        .post(app.url("get-view-data"))
        .header("x-functions-key", app.host.function_key())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("format=csv")
        .send()
        .await
        .unwrap();
    problem(form, 400).await;
}

#[tokio::test]
async fn a_large_read_that_is_not_a_grid_is_a_502_never_a_200() {
    let app = App::start().await;
    // The first of the four pages has one field too many on its last line (row 500).
    app.fake.make_read_pages_ragged(1);
    let body = problem(app.get("get-view-data", &ids(VIEW_BIG_GRID_ID)).await, 502).await;
    let detail = body["detail"].as_str().unwrap();
    let line = 1 + BIG_GRID_ROWS / 4;
    assert!(detail.contains(&format!("{} fields on line {line}", 2 + BIG_GRID_COLUMNS)), "{body}");
    assert_eq!(app.fake.live_read_requests(), 0, "the read request is deleted all the same");

    // The same grid read whole again is records, every row with every column.
    let resp = app.get("get-view-data", &ids(VIEW_BIG_GRID_ID)).await;
    assert_eq!(resp.status(), 200);
    let records: Value = resp.json().await.unwrap();
    let rows = records["rows"].as_array().unwrap();
    assert_eq!(rows.len(), BIG_GRID_ROWS);
    assert!(rows.iter().all(|r| r.as_object().unwrap().len() == 1 + BIG_GRID_COLUMNS));
}

#[tokio::test]
async fn a_resized_big_grid_reads_whole_under_both_layouts() {
    // 3,001 rows (not a multiple of the pages) of 400 columns: 1,200,400 cells.
    let cfg = EmulatorConfig { read_request_pages: 7, ..EmulatorConfig::default() };
    let app = App::start_against(Emulator::start_with(cfg).await, |_| {}).await;
    app.fake.set_big_grid_size(3001, 400).unwrap();
    let answers = large_read_under_both_layouts(&app, VIEW_BIG_GRID_ID, true).await;
    assert!(answers[0] == answers[1], "the same CSV and records under both layouts");
    let records = answers[0].1.as_ref().unwrap();
    let rows = records["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3001);
    assert_eq!(records["columns"].as_array().unwrap().len(), 401);
    let last = &rows[3000];
    assert_eq!(last[DIM_CUSTOMERS_NAME], json!(customer_name(3000)));
    let want: Value = serde_json::from_str(&big_grid_cell(3000, 399)).unwrap();
    assert_eq!(last[month_name(399)], want);
}

#[tokio::test]
async fn anaplan_refusals_keep_their_meaning() {
    let app = App::start().await;
    // A page dimension the view does not have: Anaplan's 400, with its message.
    let body =
        problem(app.get("get-view-data", &format!("{}&pages={DIM_REGIONS_ID}:1", ids(VIEW_PRICE_BOOK_ID))).await, 400)
            .await;
    assert_eq!(body["anaplan"]["status"], 400);
    assert!(body["anaplan"]["message"].as_str().unwrap().contains("Invalid page selector"), "{body}");
    // With pages, Anaplan's 400 may also mean a view above 1,000,000 cells (its wording is
    // not documented): both are named, and no large read is tried.
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("page axis") && detail.contains("1,000,000"), "{body}");
    assert_eq!(app.fake.read_requests_created(), 0);
    // An id that does not exist: 404.
    let body = problem(app.get("get-view-data", &ids("102999999999")).await, 404).await;
    assert_eq!(body["anaplan"]["status"], 404);
}

#[tokio::test]
async fn unknown_and_ambiguous_names_are_404_with_candidates() {
    let app = App::start().await;
    let q = format!("workspaceId={WS_FPA_ID}&modelName=Revenue%20Pln&viewId=1");
    let body = problem(app.get("get-view-data", &q).await, 404).await;
    assert_eq!(body["closestNames"][0], MODEL_REVENUE_NAME, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Revenue Pln"));

    let q = format!("workspaceName=Sales%20Ops&modelName=Forecast&viewId={VIEW_FORECAST_ID}");
    let body = problem(app.get("get-view-data", &q).await, 404).await;
    let ids = body["matchingIds"].as_array().unwrap();
    assert!(ids.contains(&json!(MODEL_FORECAST_1_ID)) && ids.contains(&json!(MODEL_FORECAST_2_ID)), "{body}");
    assert_eq!(body["closestNames"][0], format!("Forecast ({})", ids[0].as_str().unwrap()), "{body}");

    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewName=REV04%20Duplicate");
    let body = problem(app.get("get-view-data", &q).await, 404).await;
    assert_eq!(body["matchingIds"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn throttling_is_retried_and_persistent_throttling_is_a_429_with_retry_after() {
    let app = App::start().await;
    app.fake.throttle_next(2, 1);
    let resp = app.get("get-view-data", &ids(VIEW_REGIONS_ID)).await;
    assert_eq!(resp.status(), 200, "two 429s are absorbed by the retry budget");

    app.fake.throttle_next(100, 120);
    let resp = app.get("get-view-data", &ids(VIEW_REGIONS_ID)).await;
    assert_eq!(resp.headers()["retry-after"], "120", "Anaplan's Retry-After is passed on");
    problem(resp, 429).await;

    app.fake.throttle_next(0, 0);
    app.fake.fail_next(1, 503);
    let resp = app.get("get-view-data", &ids(VIEW_REGIONS_ID)).await;
    assert_eq!(resp.status(), 200, "a passing 503 is retried");
}
