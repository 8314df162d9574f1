//! dimension-items: a dimension's items at model, line item or view level, and the lookup
//! by names and codes, against the strict emulator; what is refused is refused before
//! Anaplan is asked where the handler can tell.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")
}

async fn items(app: &App, query: &str) -> Vec<Value> {
    let resp = app.get("dimension-items", &format!("{}&{query}", scope())).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    body.as_array().unwrap_or_else(|| panic!("an array: {body}")).clone()
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["name"].as_str().unwrap()).collect()
}

/// The requests the emulator saw to a path ending in `tail`, as `METHOD path`.
fn seen(app: &App, tail: &str) -> Vec<String> {
    app.fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(tail))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn a_lists_items_by_id_or_name_at_model_level() {
    let app = App::start().await;
    let by_name = items(&app, &format!("dimensionName={DIM_REGIONS_NAME}")).await;
    assert_eq!(
        by_name,
        [
            json!({ "id": "203000000000", "name": "All Regions", "code": null }),
            json!({ "id": "203000000001", "name": "North", "code": "R01" }),
            json!({ "id": "203000000002", "name": "South", "code": "R02" }),
        ],
        "the top level item too; its code null, as it has none"
    );
    let by_id = items(&app, &format!("dimensionId={DIM_PRODUCTS_ID}")).await;
    assert_eq!(names(&by_id), ["All Products", "Widget", "Gadget", "Gizmo, Deluxe"]);
    // The workspace form of the model-level call.
    let want = format!("/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/dimensions/{DIM_REGIONS_ID}/items");
    assert_eq!(seen(&app, &format!("/dimensions/{DIM_REGIONS_ID}/items")), [format!("GET {want}")]);
    // A list without items still has its top level item.
    let retired = items(&app, &format!("dimensionId={LIST_RETIRED_CODES_ID}")).await;
    assert_eq!(names(&retired), [RETIRED_CODES_TOP_NAME]);
}

#[tokio::test]
async fn time_and_versions_need_a_line_item_or_a_view_and_are_refused_at_model_level_before_anaplan() {
    let app = App::start().await;
    for query in
        [format!("dimensionId={DIM_TIME_ID}"), format!("dimensionId={DIM_VERSIONS_ID}"), "dimensionName=Time".into()]
    {
        let resp = app.get("dimension-items", &format!("{}&{query}", scope())).await;
        let p = problem(resp, 400).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("lineItemId") && detail.contains("viewId"), "{query}: {detail}");
    }
    assert!(seen(&app, &format!("/dimensions/{DIM_TIME_ID}/items")).is_empty(), "Anaplan was not asked");
    assert!(seen(&app, &format!("/dimensions/{DIM_VERSIONS_ID}/items")).is_empty(), "Anaplan was not asked");

    // Through a line item, by id or by name with its module: every period.
    let time = items(&app, &format!("lineItemId={LINE_UNITS_ID}&dimensionName={DIM_TIME_NAME}")).await;
    assert_eq!(time.len(), 13, "twelve months and FY26");
    assert_eq!(time[0], json!({ "id": "300000000001", "name": "Jan 26", "code": null }));
    let module = MODULE_SALES_INPUT_NAME.replace(' ', "%20");
    let versions =
        items(&app, &format!("moduleName={module}&lineItemName={LINE_PRICE_NAME}&dimensionId={DIM_VERSIONS_ID}")).await;
    assert_eq!(names(&versions), [VERSION_ACTUAL_NAME, VERSION_FORECAST_NAME]);
    // Through a view: only what the view shows.
    let shown = items(&app, &format!("viewId={VIEW_PRICE_BOOK_ID}&dimensionName={DIM_TIME_NAME}")).await;
    assert_eq!(names(&shown), PRICE_BOOK_MONTHS);
    let line_items = items(&app, &format!("viewId={VIEW_PRICE_BOOK_ID}&dimensionName={}", "Line%20items")).await;
    assert_eq!(names(&line_items), PRICE_BOOK_LINE_ITEMS, "a view's axis is a dimension by name too");
}

#[tokio::test]
async fn a_list_above_a_million_items_is_refused_from_its_item_count_before_its_items_are_asked_for() {
    let app = App::start().await;
    let resp = app.get("dimension-items", &format!("{}&dimensionId={LIST_TRANSACTIONS_ID}", scope())).await;
    let p = problem(resp, 400).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:dimension-too-large", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("list-items"), "{p}");
    assert_eq!(p["itemCount"], json!(TRANSACTIONS_COUNT as u64), "{p}");
    assert!(
        seen(&app, &format!("/dimensions/{LIST_TRANSACTIONS_ID}/items")).is_empty(),
        "its items were not asked for"
    );
    // A view above 1,000,000 cells: Anaplan's 400, said the same way.
    let q = format!("{}&viewId={VIEW_BIG_GRID_ID}&dimensionId={DIM_CUSTOMERS_ID}", scope());
    let p = problem(app.get("dimension-items", &q).await, 400).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:dimension-too-large", "{p}");
    assert_eq!(p["anaplan"]["status"], 400, "{p}");
}

#[tokio::test]
async fn a_lookup_finds_names_and_codes_in_any_case_and_says_what_is_missing_in_the_order_asked() {
    let app = App::start().await;
    let q = format!("{}&dimensionName={DIM_REGIONS_NAME}&action=lookup", scope());
    let body = json!({ "names": ["north", "Atlantis", "ATLANTIS"], "codes": ["r02", "R99"] });
    let resp = app.post("dimension-items", &q, &body).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(
        answer,
        json!({
            "found": [{ "id": "203000000001", "name": "North", "code": "R01" }, { "id": "203000000002", "name": "South", "code": "R02" }],
            "missing": { "names": ["Atlantis"], "codes": ["R99"] },
        })
    );
    let want = format!("POST /2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/dimensions/{DIM_REGIONS_ID}/items");
    assert_eq!(
        seen(&app, &format!("/dimensions/{DIM_REGIONS_ID}/items"))
            .iter()
            .filter(|r| r.starts_with("POST"))
            .collect::<Vec<_>>(),
        [&want],
        "Anaplan's own lookup"
    );
    // Codes only, all found.
    let resp = app
        .post("dimension-items", &q.replace(DIM_REGIONS_NAME, DIM_PRODUCTS_NAME), &json!({ "codes": ["P003"] }))
        .await;
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["found"][0]["name"], "Gizmo, Deluxe", "{answer}");
    assert_eq!(answer["missing"], json!({ "names": [], "codes": [] }));
    // Through a line item (Anaplan has no lookup there): its items matched here, Time included.
    let q = format!("{}&lineItemId={LINE_UNITS_ID}&dimensionId={DIM_TIME_ID}&action=lookup", scope());
    let resp = app.post("dimension-items", &q, &json!({ "names": ["JAN 26", "fy26", "Month 13"] })).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(names(answer["found"].as_array().unwrap()), ["Jan 26", "FY26"], "{answer}");
    assert_eq!(answer["missing"], json!({ "names": ["Month 13"], "codes": [] }));
    assert!(
        !seen(&app, &format!("/dimensions/{DIM_TIME_ID}/items")).iter().any(|r| r.starts_with("POST")),
        "no lookup at model level for Time"
    );
    // Through a view: only the items it shows are found.
    let q = format!("{}&viewId={VIEW_PRICE_BOOK_ID}&dimensionName={DIM_TIME_NAME}&action=lookup", scope());
    let answer: Value =
        app.post("dimension-items", &q, &json!({ "names": ["feb 26", "Mar 26"] })).await.json().await.unwrap();
    assert_eq!(names(answer["found"].as_array().unwrap()), ["Feb 26"], "{answer}");
    assert_eq!(answer["missing"]["names"], json!(["Mar 26"]));
}

#[tokio::test]
async fn bad_requests_are_refused_before_anaplan_is_asked_and_unknown_names_say_what_is_close() {
    let app = App::start().await;
    let dims = format!("{}&dimensionId={DIM_REGIONS_ID}", scope());
    let before = app.fake.requests().len();
    for query in [
        scope(),
        format!("{dims}&dimensionName=Regions"),
        format!("{dims}&viewId={VIEW_PRICE_BOOK_ID}&lineItemId={LINE_UNITS_ID}"),
        format!("{dims}&moduleId={MODULE_SALES_INPUT_ID}"),
        format!("{dims}&lineItemName=Units"),
        format!("{dims}&action=lookup"),
        format!("{dims}&dimensionId=abc"),
    ] {
        problem(app.get("dimension-items", &query).await, 400).await;
    }
    let lookup = format!("{dims}&action=lookup");
    for (query, body) in [
        (lookup.clone(), json!({})),
        (lookup.clone(), json!({ "names": [], "codes": [] })),
        (lookup.clone(), json!({ "names": ["North"], "other": 1 })),
        (lookup.clone(), json!({ "names": [""] })),
        (lookup.clone(), json!({ "names": "North" })),
        (lookup.clone(), json!({ "names": ["North"], "action": "find" })),
        (dims.clone(), json!({ "names": ["North"] })),
        (format!("{dims}&action=find"), json!({ "names": ["North"] })),
    ] {
        let p = problem(app.post("dimension-items", &query, &body).await, 400).await;
        assert_eq!(p["type"], "urn:anaplan-functions:problem:bad-parameter", "{body}: {p}");
    }
    let asked: Vec<_> = app.fake.requests().into_iter().skip(before).filter(|r| r.path.starts_with("/2/0/")).collect();
    assert!(asked.is_empty(), "Anaplan was asked: {asked:?}");

    let p = problem(app.get("dimension-items", &format!("{}&dimensionName=Regionz", scope())).await, 404).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:unknown-name", "{p}");
    assert!(p["closestNames"].as_array().unwrap().contains(&json!("Regions")), "{p}");
    let p = problem(app.get("dimension-items", &format!("{}&dimensionId=101000000099", scope())).await, 404).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:not-found", "{p}");
    // A dimension the line item does not have: Anaplan's 404.
    let q = format!("{}&lineItemId={LINE_ACTIVE_ID}&dimensionId={DIM_REGIONS_ID}", scope());
    problem(app.get("dimension-items", &q).await, 404).await;
}
