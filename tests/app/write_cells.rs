//! write-cells: values written by name land in the emulator's cells, in batches within
//! Anaplan's limits; a malformed request writes nothing; refused cells are a 422.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope() -> String {
    "workspaceName=FP%26A%20Planning&modelName=Revenue%20Plan&moduleName=REV10%20Sales%20Input".to_owned()
}

fn data_posts(app: &App) -> usize {
    let path = format!("/2/0/models/{MODEL_REVENUE_ID}/modules/{MODULE_SALES_INPUT_ID}/data");
    app.fake.requests().iter().filter(|r| r.method == "POST" && r.path == path).count()
}

const WIDGET: &str = "201000000001";
const GADGET: &str = "201000000002";
const NORTH: &str = "203000000001";
const JAN: &str = "300000000001";
const FEB: &str = "300000000002";

#[tokio::test]
async fn tidy_rows_land_in_the_cells_their_dimensions_name() {
    let app = App::start().await;
    let rows = json!({"rows": [
        {"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual",
         "Units": 120, "Price": 9.5, "Comment": "first", "Active": true, "Launch Date": "2026-03-01",
         "Lead Region": "South"},
        {"Products": "P002", "Regions": "R01", "Time": "Feb 26", "Versions": "Forecast", "Units": 7, "Comment": null},
    ]});
    let resp = app.post("write-cells", &scope(), &rows).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"cellsChanged": 7, "batches": 1, "failures": []}));
    let f = &app.fake;
    assert_eq!(f.cell(LINE_UNITS_ID, &[WIDGET, NORTH, JAN, VERSION_ACTUAL_ID]).as_deref(), Some("120"));
    assert_eq!(f.cell(LINE_PRICE_ID, &[WIDGET, JAN, VERSION_ACTUAL_ID]).as_deref(), Some("9.5"));
    assert_eq!(f.cell(LINE_COMMENT_ID, &[WIDGET, NORTH]).as_deref(), Some("first"));
    assert_eq!(f.cell(LINE_ACTIVE_ID, &[WIDGET]).as_deref(), Some("true"));
    assert_eq!(f.cell(LINE_LAUNCH_DATE_ID, &[WIDGET]).as_deref(), Some("2026-03-01"));
    assert_eq!(f.cell(LINE_LEAD_REGION_ID, &[WIDGET]).as_deref(), Some("South"));
    assert_eq!(f.cell(LINE_UNITS_ID, &[GADGET, NORTH, FEB, VERSION_FORECAST_ID]).as_deref(), Some("7"), "by code");
    assert_eq!(f.cells_written(), 7, "a null is no cell");
    assert_eq!(data_posts(&app), 1);
}

#[tokio::test]
async fn anaplans_own_cells_are_checked_and_passed_on() {
    let app = App::start().await;
    let cells = json!({"cells": [
        {"lineItemName": "Active", "dimensions": [{"dimensionName": "Products", "itemCode": "P003"}], "value": false},
        {"lineItemId": LINE_PRICE_ID, "dimensions": [
            {"dimensionId": DIM_PRODUCTS_ID, "itemId": GADGET},
            {"dimensionName": "Time", "itemName": "Feb 26"},
            {"dimensionName": "Versions", "itemName": "Forecast"}], "value": 12},
    ]});
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&moduleId={MODULE_SALES_INPUT_ID}");
    let resp = app.post("write-cells", &q, &cells).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.fake.cell(LINE_ACTIVE_ID, &["201000000003"]).as_deref(), Some("false"));
    assert_eq!(app.fake.cell(LINE_PRICE_ID, &[GADGET, FEB, VERSION_FORECAST_ID]).as_deref(), Some("12"));
}

#[tokio::test]
async fn a_malformed_request_writes_nothing() {
    let app = App::start().await;
    let good = json!({"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": 1});
    let cases = [
        (json!({"rows": [good, {"Products": "Widget", "Region": "North", "Units": 2}]}), "Regions"),
        (json!({"rows": [good, {"Products": "Widget", "Units": 2}]}), "lacks the dimension"),
        (json!({"rows": [good, {"Products": "Widgit", "Active": true}]}), "Widget"),
        (json!({"rows": [good, {"Products": "Widget", "Launch Date": "03/01/2026"}]}), "YYYY-MM-DD"),
        (json!({"rows": [good, {"Products": "Widget", "Active": "yes"}]}), "true or false"),
        (
            json!({"rows": [good, {"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": "lots"}]}),
            "a number",
        ),
        (json!({"rows": [good], "cells": []}), "exactly one"),
        (json!({"cells": [{"lineItemName": "Unit", "dimensions": [], "value": 1}]}), "Units"),
        (json!({}), "rows or cells"),
    ];
    for (body, says) in cases {
        let p = problem(app.post("write-cells", &scope(), &body).await, 400).await;
        let text = p.to_string();
        assert!(text.contains(says), "{says}: {p}");
    }
    assert_eq!(data_posts(&app), 0, "nothing was sent");
    assert_eq!(app.fake.cells_written(), 0);
    let p = problem(app.post("write-cells", &scope().replace("REV10", "REV11"), &json!({"rows": []})).await, 404).await;
    assert!(p["closestNames"].to_string().contains(MODULE_SALES_INPUT_NAME), "{p}");
    problem(
        app.post(
            "write-cells",
            &format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&moduleId=101000000020"),
            &json!({"rows": []}),
        )
        .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn cells_anaplan_refuses_are_a_422_naming_each_row() {
    let app = App::start().await;
    let rows = json!({"rows": [
        {"Products": "Widget", "Active": true},
        {"Products": "All Products", "Active": true},
        {"Products": "Gadget", "Total Units": 4, "Active": false},
    ]});
    let p = problem(app.post("write-cells", &scope(), &rows).await, 422).await;
    assert_eq!(p["cellsChanged"], 2);
    let failures: Vec<(u64, String)> = p["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["row"].as_u64().unwrap(), f["lineItem"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(failures, [(1, "Active".to_owned()), (2, "Total Units".to_owned())]);
    assert!(p["failures"][0]["reason"].as_str().unwrap().contains("aggregate"), "{p}");
    assert_eq!(app.fake.cell(LINE_ACTIVE_ID, &[WIDGET]).as_deref(), Some("true"));
}

#[tokio::test]
async fn large_writes_go_in_batches_within_anaplans_limits_in_order() {
    let app = App::start().await;
    // 250,000 cells: three batches of at most 100,000; the last value of each cell wins.
    let mut rows = Vec::with_capacity(125_000);
    for i in 0..125_000u32 {
        let product = PRODUCTS[(i % 3) as usize];
        rows.push(
            json!({"Products": product, "Active": i % 2 == 0, "Launch Date": format!("2026-01-{:02}", 1 + i % 28)}),
        );
    }
    let resp = app.post("write-cells", &scope(), &json!({ "rows": rows })).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["cellsChanged"], 250_000);
    assert_eq!(body["batches"], 3);
    assert_eq!(app.fake.cell_writes(), [100_000, 100_000, 50_000]);
    // Row 124,998 (Widget, i even) is the last Widget row.
    assert_eq!(app.fake.cell(LINE_ACTIVE_ID, &[WIDGET]).as_deref(), Some("true"));
    assert_eq!(app.fake.cell(LINE_LAUNCH_DATE_ID, &[WIDGET]).as_deref(), Some("2026-01-07"));

    // Long texts: the 15 MB limit splits before 100,000 cells.
    let text = "x".repeat(400);
    let rows: Vec<Value> = (0..50_000)
        .map(|i| json!({"Products": PRODUCTS[i % 3], "Regions": REGIONS[i % 2], "Comment": format!("{i} {text}")}))
        .collect();
    let resp = app.post("write-cells", &scope(), &json!({ "rows": rows })).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["cellsChanged"], 50_000);
    assert!(body["batches"].as_u64().unwrap() >= 2, "{body}");
    assert_eq!(app.fake.cell_writes().len(), 3 + body["batches"].as_u64().unwrap() as usize);
}

#[tokio::test]
async fn a_key_given_twice_anywhere_in_the_body_is_a_400_naming_it_and_writes_nothing() {
    let app = App::start().await;
    let good = r#"{"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": 1}"#;
    let cases = [
        // A row with the same line item twice: which value would be written?
        (
            format!(
                r#"{{"rows": [{good}, {{"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": 1, "Units": 2}}]}}"#
            ),
            "Units",
            "rows[1]",
        ),
        // The same dimension twice, with different items.
        (
            format!(r#"{{"rows": [{{"Products": "Widget", "Products": "Gadget", "Active": true}}, {good}]}}"#),
            "Products",
            "rows[0]",
        ),
        // Anaplan's cells: the line item named twice.
        (
            r#"{"cells": [{"lineItemName": "Units", "lineItemName": "Price", "dimensions": [], "value": 1}]}"#.into(),
            "lineItemName",
            "cells[0]",
        ),
        // A parameter twice in the body, and `rows` itself twice.
        (
            format!(r#"{{"moduleName": "REV10 Sales Input", "moduleName": "REV11", "rows": [{good}]}}"#),
            "moduleName",
            "",
        ),
        (format!(r#"{{"rows": [{good}], "rows": []}}"#), "rows", ""),
    ];
    let q = "workspaceName=FP%26A%20Planning&modelName=Revenue%20Plan";
    for (body, key, at) in cases {
        let query = if key == "moduleName" { q.to_owned() } else { scope() };
        let p = problem(app.post_json_text("write-cells", &query, &body).await, 400).await;
        assert_eq!(p["duplicateKey"], key, "{p}");
        assert_eq!(p["at"], at, "{p}");
        assert!(p["detail"].as_str().unwrap().contains(&format!("{key:?} twice")), "{p}");
    }
    assert_eq!(data_posts(&app), 0, "nothing was sent");
    assert_eq!(app.fake.cells_written(), 0);
    assert!(app.fake.requests().is_empty(), "refused before Anaplan is called: {:?}", app.fake.requests());
}

/// One Comment cell (Products × Regions) as Anaplan's JSON, `text` as its value.
fn comment_cell(text: &str) -> Value {
    json!({"lineItemId": LINE_COMMENT_ID, "dimensions": [
        {"dimensionId": DIM_PRODUCTS_ID, "itemId": WIDGET},
        {"dimensionId": DIM_REGIONS_ID, "itemId": REGIONS_FIRST_ID},
    ], "value": text})
}

const REGIONS_FIRST_ID: &str = "203000000001";

#[tokio::test]
async fn a_write_above_15_000_000_bytes_is_refused_even_under_15_mib() {
    // Anaplan's limit is "15 MB"; the emulator takes the stricter reading.
    let api = crate::support::emulator_api::EmulatorApi::start().await;
    let path = format!("models/{MODEL_REVENUE_ID}/modules/{MODULE_SALES_INPUT_ID}/data");
    let cell = comment_cell(&"y".repeat(1_834));
    let one = serde_json::to_vec(&cell).unwrap().len();
    // 15,200,000 bytes or so: above 15,000,000, below 15 MiB (15,728,640).
    let n = 15_200_000 / (one + 1);
    let body = serde_json::to_vec(&Value::Array(vec![cell; n])).unwrap();
    assert!(body.len() > 15_000_000 && body.len() < 15 * 1024 * 1024, "{}", body.len());
    let (status, answer) =
        api.send(api.req(reqwest::Method::POST, &path).header("content-type", "application/json").body(body)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(api.fake.cells_written(), 0);
}

#[tokio::test]
async fn batches_stay_under_15_000_000_bytes() {
    let app = App::start().await;
    // 30,000 cells of 512 bytes each in Anaplan's JSON: 15,360,000 bytes, under 15 MiB but
    // over 15,000,000, so they need two batches.
    let text = "z".repeat(512 - 1 - serde_json::to_vec(&comment_cell("")).unwrap().len());
    let rows: Vec<Value> =
        (0..30_000).map(|i| json!({"Products": PRODUCTS[i % 3], "Regions": REGIONS[i % 2], "Comment": text})).collect();
    let resp = app.post("write-cells", &scope(), &json!({ "rows": rows })).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["cellsChanged"], 30_000, "{body}");
    assert_eq!(body["batches"], 2, "{body}");
    let writes = app.fake.cell_writes();
    assert_eq!(writes.iter().sum::<usize>(), 30_000);
    assert!(writes[0] <= 15_000_000 / 512, "{writes:?}");
}

#[tokio::test]
async fn every_dimension_a_row_names_is_resolved_even_when_no_line_item_written_uses_it() {
    let app = App::start().await;
    // Active is by Products only; the row also names a region that does not exist. That
    // key has one reading: an item of Regions, so an unknown one is a 400 naming it.
    let rows = json!({"rows": [
        {"Products": "Widget", "Regions": "North", "Active": true},
        {"Products": "Gadget", "Regions": "Nowhere", "Active": false},
    ]});
    let p = problem(app.post("write-cells", &scope(), &rows).await, 400).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("rows[1]") && detail.contains("Nowhere") && detail.contains("Regions"), "{p}");
    assert!(p["closestNames"].is_array(), "{p}");
    // A text-only key for a dimension still takes an item's name or code.
    let p = problem(
        app.post("write-cells", &scope(), &json!({"rows": [{"Products": "Widget", "Versions": 3, "Active": true}]}))
            .await,
        400,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("rows[0].Versions"), "{p}");
    assert_eq!(data_posts(&app), 0, "nothing was sent");
    // Named items that exist are fine, whether or not a line item uses them.
    let rows = json!({"rows": [{"Products": "Widget", "Regions": "R02", "Time": "Jan 26", "Active": true}]});
    let resp = app.post("write-cells", &scope(), &rows).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.fake.cell(LINE_ACTIVE_ID, &[WIDGET]).as_deref(), Some("true"));
}

#[tokio::test]
async fn rows_and_cells_are_bounded_before_any_work_with_a_400_naming_the_bound() {
    let app = App::start().await;
    // 1,000,001 rows (empty ones: the cheapest to send).
    let body = format!(r#"{{"rows": [{}{{}}]}}"#, "{},".repeat(1_000_000));
    let p = problem(app.post_json_text("write-cells", &scope(), &body).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("rows has more than 1000000 entries"), "{p}");
    // A cell that is not one is refused as it is read, not kept until the check.
    let body = format!(r#"{{"cells": [{}{{}}]}}"#, "{},".repeat(1_000_000));
    let p = problem(app.post_json_text("write-cells", &scope(), &body).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("cells[0]: give exactly one of lineItemId"), "{p}");
    // Rows that use more than 10,000 different keys (no module has that many dimensions
    // and line items).
    let rows: Vec<String> = (0..10_001).map(|k| format!(r#"{{"Column {k}": 1}}"#)).collect();
    let p = problem(
        app.post_json_text("write-cells", &scope(), &format!(r#"{{"rows": [{}]}}"#, rows.join(","))).await,
        400,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("more than 10000 different names"), "{p}");
    assert!(app.fake.requests().is_empty(), "refused before Anaplan is called");
}

#[tokio::test]
async fn values_of_every_json_type_are_written_as_given_and_nested_ones_refused() {
    let app = App::start().await;
    let rows = json!({"rows": [
        {"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": -3, "Price": 1e3,
         "Comment": "a \"quoted\" \u{e9}\n line"},
        {"Products": "Gadget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": "12.5",
         "Price": 18446744073709551615u64},
    ]});
    let resp = app.post("write-cells", &scope(), &rows).await;
    assert_eq!(resp.status(), 200);
    let f = &app.fake;
    assert_eq!(f.cell(LINE_UNITS_ID, &[WIDGET, NORTH, JAN, VERSION_ACTUAL_ID]).as_deref(), Some("-3"));
    assert_eq!(f.cell(LINE_PRICE_ID, &[WIDGET, JAN, VERSION_ACTUAL_ID]).as_deref(), Some("1000.0"));
    assert_eq!(f.cell(LINE_COMMENT_ID, &[WIDGET, NORTH]).as_deref(), Some("a \"quoted\" \u{e9}\n line"));
    assert_eq!(f.cell(LINE_UNITS_ID, &[GADGET, NORTH, JAN, VERSION_ACTUAL_ID]).as_deref(), Some("12.5"));
    assert_eq!(f.cell(LINE_PRICE_ID, &[GADGET, JAN, VERSION_ACTUAL_ID]).as_deref(), Some("18446744073709551615"));
    for bad in [json!([1]), json!({"v": 1})] {
        let p = problem(
            app.post("write-cells", &scope(), &json!({"rows": [{"Products": "Widget", "Active": bad}]})).await,
            400,
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("rows[0].Active must be"), "{p}");
    }
}
