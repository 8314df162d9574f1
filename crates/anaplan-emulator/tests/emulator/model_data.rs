//! The emulator's transactional API is strict: module writes and list changes enforce
//! Anaplan's shapes and limits, and what they change shows in later reads.

use anaplan_emulator::seed::*;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Api;

fn write_path() -> String {
    format!("models/{MODEL_REVENUE_ID}/modules/{MODULE_SALES_INPUT_ID}/data")
}

fn units(product: &str, region: &str, month: &str, value: Value) -> Value {
    json!({"lineItemName": LINE_UNITS_NAME, "dimensions": [
        {"dimensionName": "Products", "itemName": product},
        {"dimensionName": "Regions", "itemCode": region},
        {"dimensionId": DIM_TIME_ID, "itemName": month},
        {"dimensionName": "Versions", "itemId": VERSION_ACTUAL_ID},
    ], "value": value})
}

#[tokio::test]
async fn module_metadata_describes_line_items_and_their_dimensions() {
    let api = Api::start().await;
    let (s, body) =
        api.send(api.req(reqwest::Method::GET, &format!("models/{MODEL_REVENUE_ID}/modules?offset=4"))).await;
    assert_eq!(s, 200);
    assert!(body["modules"].as_array().unwrap().iter().any(|m| m["id"] == MODULE_SALES_INPUT_ID), "{body}");
    let path = format!("models/{MODEL_REVENUE_ID}/modules/{MODULE_SALES_INPUT_ID}/lineItems?includeAll=true&limit=100");
    let (s, body) = api.send(api.req(reqwest::Method::GET, &path)).await;
    assert_eq!(s, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "paged like every listing: {body}");
    assert_eq!(items[0]["format"], "NUMBER");
    let (s, body) = api
        .send(api.req(reqwest::Method::GET, &format!("models/{MODEL_REVENUE_ID}/lineItems/{LINE_PRICE_ID}/dimensions")))
        .await;
    assert_eq!(s, 200);
    let names: Vec<&str> = body["dimensions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Products", "Time", "Versions"]);
    // Time (and Versions, not a list) only through a line item or a view, as the description says.
    let (s, body) = api
        .send(api.req(
            reqwest::Method::GET,
            &format!("models/{MODEL_REVENUE_ID}/lineItems/{LINE_PRICE_ID}/dimensions/{DIM_TIME_ID}/items"),
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 13, "twelve months and FY26");
    for dim in [DIM_TIME_ID, DIM_VERSIONS_ID] {
        let (s, _) =
            api.send(api.req(reqwest::Method::GET, &format!("models/{MODEL_REVENUE_ID}/dimensions/{dim}/items"))).await;
        assert_eq!(s, 400, "{dim} at model level");
    }
    let (s, body) = api
        .send(api.req(reqwest::Method::GET, &format!("models/{MODEL_REVENUE_ID}/dimensions/{DIM_PRODUCTS_ID}/items")))
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = api
        .send(api.req(reqwest::Method::GET, &format!("models/{MODEL_REVENUE_ID}/lineItems/206000000999/dimensions")))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn cell_writes_land_in_state_and_refuse_bad_cells_one_by_one() {
    let api = Api::start().await;
    let cells = json!([
        units("Widget", "R01", "Jan 26", json!(42)),
        units("Nothing", "R01", "Jan 26", json!(1)),
        units("Widget", "R01", FY26_NAME, json!(1)),
        units("Widget", "R02", "Feb 26", json!("many")),
        {"lineItemName": LINE_TOTAL_UNITS_NAME, "dimensions": [{"dimensionName": "Products", "itemName": "Widget"}], "value": 3},
        {"lineItemName": LINE_ACTIVE_NAME, "dimensions": [{"dimensionName": "Products", "itemCode": "P002"}], "value": true},
        {"lineItemName": LINE_LAUNCH_DATE_NAME, "dimensions": [{"dimensionName": "Products", "itemCode": "P002"}], "value": "2026-13-01"},
        {"lineItemName": LINE_COMMENT_NAME, "dimensions": [{"dimensionName": "Products", "itemCode": "P002"}], "value": "x"},
    ]);
    let (s, body) = api.send(api.req(reqwest::Method::POST, &write_path()).json(&cells)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["numberOfCellsChanged"], 2);
    let failed: Vec<(u64, &str)> = body["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["requestIndex"].as_u64().unwrap(), f["failureType"].as_str().unwrap()))
        .collect();
    assert_eq!(
        failed,
        [
            (1, "INVALID_ITEM"),
            (2, "AGGREGATE_CELL"),
            (3, "INVALID_VALUE"),
            (4, "LINE_ITEM_NOT_WRITABLE"),
            (6, "INVALID_VALUE"),
            (7, "INVALID_DIMENSION")
        ]
    );
    assert_eq!(
        api.fake.cell(LINE_UNITS_ID, &["201000000001", "203000000001", "300000000001", VERSION_ACTUAL_ID]).as_deref(),
        Some("42")
    );
    assert_eq!(api.fake.cell(LINE_ACTIVE_ID, &["201000000002"]).as_deref(), Some("true"));
    assert_eq!(api.fake.cells_written(), 2);
}

#[tokio::test]
async fn writes_above_the_limits_or_malformed_are_refused_whole() {
    let api = Api::start().await;
    let one = units("Widget", "R01", "Jan 26", json!(1));
    let small = json!({"lineItemId": LINE_ACTIVE_ID, "dimensions": [{"dimensionId": DIM_PRODUCTS_ID, "itemId": "201000000001"}], "value": true});
    let too_many = Value::Array(vec![small; 100_001]);
    let (s, body) = api.send(api.req(reqwest::Method::POST, &write_path()).json(&too_many)).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["status"]["message"].as_str().unwrap().contains("100,000"));
    let too_big = Value::Array(vec![units("Widget", "R01", "Jan 26", json!(1)); 70_000]);
    let (s, body) = api.send(api.req(reqwest::Method::POST, &write_path()).json(&too_big)).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["status"]["message"].as_str().unwrap().contains("15 MB"));
    let (s, _) = api.send(api.req(reqwest::Method::POST, &write_path()).json(&json!({"cells": [one]}))).await;
    assert_eq!(s, 400);
    let (s, _) =
        api.send(api.req(reqwest::Method::POST, &write_path()).header("content-type", "text/plain").body("[]")).await;
    assert_eq!(s, 400);
    let (s, _) = api
        .send(
            api.req(reqwest::Method::POST, &format!("models/{MODEL_REVENUE_ID}/modules/102000000999/data"))
                .json(&json!([])),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(api.fake.cells_written(), 0, "nothing written");
    assert!(api.fake.cell_writes().is_empty());
}

#[tokio::test]
async fn list_items_change_and_read_back_with_failures_per_index() {
    let api = Api::start().await;
    let items = format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/lists/{LIST_COST_CENTRES_ID}/items");
    let add = json!({"items": [
        {"name": "Legal", "code": "CC400", "properties": {"Owner": "Edsger"}, "subsets": {"Active": false}},
        {"name": "Finance Ops", "code": "CC999"},
        {"name": "Ops", "code": "CC500", "parent": "Nowhere"},
    ]});
    let (s, body) = api.send(api.req(reqwest::Method::POST, &format!("{items}?action=add")).json(&add)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!((body["added"].clone(), body["total"].clone()), (json!(1), json!(3)));
    let idx: Vec<u64> =
        body["failures"].as_array().unwrap().iter().map(|f| f["requestIndex"].as_u64().unwrap()).collect();
    assert_eq!(idx, [1, 2]);
    let (s, body) = api
        .send(
            api.req(reqwest::Method::PUT, &items)
                .json(&json!({"items": [{"code": "CC400", "properties": {"Owner": "Barbara"}}, {"code": "NOPE"}]})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["updated"], 1);
    let (s, body) = api.send(api.req(reqwest::Method::GET, &format!("{items}?includeAll=true"))).await;
    assert_eq!(s, 200);
    let legal = body["listItems"].as_array().unwrap().iter().find(|i| i["code"] == "CC400").unwrap().clone();
    assert_eq!(legal["properties"]["Owner"], "Barbara");
    assert_eq!(legal["parent"], COST_CENTRES_TOP_NAME);
    let (s, body) = api
        .send(
            api.req(reqwest::Method::POST, &format!("{items}?action=delete"))
                .json(&json!({"items": [{"code": "CC400"}]})),
        )
        .await;
    assert_eq!((s, body["deleted"].clone()), (200, json!(1)));
    let (s, _) =
        api.send(api.req(reqwest::Method::POST, &format!("{items}?action=upsert")).json(&json!({"items": []}))).await;
    assert_eq!(s, 400, "Anaplan has no upsert");
    let big = Value::Array(vec![json!({"name": "x"}); 100_001]);
    let (s, _) =
        api.send(api.req(reqwest::Method::POST, &format!("{items}?action=add")).json(&json!({"items": big}))).await;
    assert_eq!(s, 400);
    assert_eq!(api.fake.list_items(LIST_COST_CENTRES_ID).len(), COST_CENTRES.len());
}

#[tokio::test]
async fn a_list_above_a_million_items_is_read_only_through_a_large_read() {
    let api = Api::start().await;
    let base = format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/lists/{LIST_TRANSACTIONS_ID}");
    let (s, body) = api.send(api.req(reqwest::Method::GET, &format!("{base}/items?includeAll=true"))).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = api.send(api.req(reqwest::Method::POST, &format!("{base}/readRequests")).json(&json!({}))).await;
    assert_eq!(s, 200, "{body}");
    let id = body["listReadRequest"]["requestId"].as_str().unwrap().to_owned();
    let (s, _) = api.send(api.req(reqwest::Method::GET, &format!("{base}/readRequests/{id}/pages/0"))).await;
    assert_eq!(s, 404, "no page before COMPLETE");
    let mut state = Value::Null;
    for _ in 0..3 {
        state = api.send(api.req(reqwest::Method::GET, &format!("{base}/readRequests/{id}"))).await.1;
    }
    assert_eq!(state["listReadRequest"]["requestState"], "COMPLETE");
    let pages = state["listReadRequest"]["availablePages"].as_u64().unwrap();
    assert_eq!(pages as usize, TRANSACTIONS_COUNT.div_ceil(LIST_READ_PAGE_ITEMS));
    let (s, last) =
        api.send(api.req(reqwest::Method::GET, &format!("{base}/readRequests/{id}/pages/{}", pages - 1))).await;
    assert_eq!(s, 200);
    let text = last.as_str().unwrap();
    assert!(text.starts_with("id,name,code,parent\n"));
    let last_code = transaction_code(TRANSACTIONS_COUNT - 1);
    assert!(text.trim_end().ends_with(&format!("{last_code},{last_code},")), "{}", &text[text.len() - 80..]);
    let (s, _) = api.send(api.req(reqwest::Method::DELETE, &format!("{base}/readRequests/{id}"))).await;
    assert_eq!(s, 200);
    assert_eq!(api.fake.list_reads(), (0, 1));
}

#[tokio::test]
async fn dimension_item_lookup_is_case_insensitive_and_strict_about_its_body() {
    let api = Api::start().await;
    let ws_path = |d: &str| format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/dimensions/{d}/items");
    let model_path = |d: &str| format!("models/{MODEL_REVENUE_ID}/dimensions/{d}/items");
    let post = |path: String, body: Value| api.send(api.req(reqwest::Method::POST, &path).json(&body));
    // Names and codes both, any case; what matches nothing is left out; the dimension's order.
    let (s, body) = post(ws_path(DIM_PRODUCTS_ID), json!({"names": ["GADGET", "nothing"], "codes": ["p001"]})).await;
    assert_eq!(s, 200, "{body}");
    let names: Vec<&str> = body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Widget", "Gadget"]);
    assert_eq!(body["items"][0]["code"], "P001");
    // The top level item is an item of the dimension too; it has no code here, so no `code`.
    let (s, body) = post(model_path(DIM_PRODUCTS_ID), json!({"names": ["all products"]})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["items"], json!([{"id": "201000000000", "name": "All Products"}]));
    // A list above 1,000,000 items still answers a lookup (the description gives no limit).
    let (s, body) = post(ws_path(LIST_TRANSACTIONS_ID), json!({"codes": ["t0000002"]})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["items"], json!([{"id": "250000000002", "name": "T0000002", "code": "T0000002"}]));
    // The GET of the same list is the description's 400.
    let (s, _) = api.send(api.req(reqwest::Method::GET, &ws_path(LIST_TRANSACTIONS_ID))).await;
    assert_eq!(s, 400);
    // Bodies not as documented: 400.
    for bad in [
        json!({}),
        json!({"names": [], "codes": []}),
        json!({"names": "Widget"}),
        json!({"names": [1]}),
        json!({"names": ["Widget"], "other": true}),
        json!(["Widget"]),
    ] {
        let (s, body) = post(ws_path(DIM_PRODUCTS_ID), bad.clone()).await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let (s, _) =
        api.send(api.req(reqwest::Method::POST, &ws_path(DIM_PRODUCTS_ID)).body(r#"{"names":["Widget"]}"#)).await;
    assert_eq!(s, 400, "no JSON Content-Type");
    // Time and Versions: codes they do not have, names not at model level.
    for body in [json!({"codes": ["x"]}), json!({"names": ["Jan 26"]})] {
        let (s, _) = post(model_path(DIM_TIME_ID), body).await;
        assert_eq!(s, 400);
    }
    // Unknown dimension, model, or a model of another workspace: 404, whatever the body.
    let (s, _) = post(ws_path("101000000099"), json!({})).await;
    assert_eq!(s, 404);
    let (s, _) = post(
        format!("models/75A40874E6B64FA3AE07432789960000/dimensions/{DIM_PRODUCTS_ID}/items"),
        json!({"names": ["x"]}),
    )
    .await;
    assert_eq!(s, 404);
    let other_ws = format!("workspaces/{WS_SALES_ID}/models/{MODEL_REVENUE_ID}/dimensions/{DIM_PRODUCTS_ID}/items");
    let (s, _) = post(other_ws.clone(), json!({"names": ["Widget"]})).await;
    assert_eq!(s, 404);
    let (s, _) = api.send(api.req(reqwest::Method::GET, &other_ws)).await;
    assert_eq!(s, 404);
}
