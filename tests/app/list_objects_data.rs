//! list-objects kinds modules, lineItems and lists: the dropdowns of write-cells and
//! list-items, with names and id formats checked like every other object.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::Value;

async fn list(app: &App, query: &str) -> Vec<(String, String)> {
    let resp = app.get("list-objects", query).await;
    assert_eq!(resp.status(), 200, "{query}");
    let items: Vec<Value> = resp.json().await.unwrap();
    items.into_iter().map(|i| (i["id"].as_str().unwrap().to_owned(), i["name"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test]
async fn modules_line_items_and_lists_feed_the_dropdowns() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    let modules = list(&app, &format!("kind=modules&{scope}")).await;
    assert!(modules.contains(&(MODULE_SALES_INPUT_ID.into(), MODULE_SALES_INPUT_NAME.into())), "{modules:?}");
    let lines = list(&app, &format!("kind=lineItems&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await;
    assert_eq!(lines.len(), 7, "every line item, through the paging: {lines:?}");
    assert!(lines.contains(&(LINE_LAUNCH_DATE_ID.into(), LINE_LAUNCH_DATE_NAME.into())));
    let by_name = list(
        &app,
        "kind=lineItems&workspaceName=FP%26A%20Planning&modelName=Revenue%20Plan&moduleName=REV10%20Sales%20Input",
    )
    .await;
    assert_eq!(by_name, lines);
    let lists = list(&app, &format!("kind=lists&{scope}")).await;
    assert!(lists.contains(&(LIST_COST_CENTRES_ID.into(), LIST_COST_CENTRES_NAME.into())), "{lists:?}");
    assert!(lists.contains(&(LIST_TRANSACTIONS_ID.into(), LIST_TRANSACTIONS_NAME.into())));
}

#[tokio::test]
async fn module_names_and_ids_are_checked() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    let p =
        problem(app.get("list-objects", &format!("kind=lineItems&{scope}&moduleName=REV10%20Sales")).await, 404).await;
    assert_eq!(p["closestNames"][0], MODULE_SALES_INPUT_NAME, "{p}");
    let p = problem(app.get("list-objects", &format!("kind=lineItems&{scope}&moduleId=101000000020")).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("102"), "{p}");
    problem(app.get("list-objects", &format!("kind=lists&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await, 400).await;
    assert!(!app.fake.requests().iter().any(|r| r.path.contains("101000000020")), "a bad id never reaches a URL");
}

#[tokio::test]
async fn line_items_of_the_whole_model_and_views_of_one_module() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    // Without a module: every module's line items (GET /models/{m}/lineItems).
    let all = list(&app, &format!("kind=lineItems&{scope}")).await;
    let of_module = list(&app, &format!("kind=lineItems&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await;
    assert_eq!(all, of_module, "Revenue Plan's one module with line items");
    assert!(app.fake.requests().iter().any(|r| r.path == format!("/2/0/models/{MODEL_REVENUE_ID}/lineItems")));
    let none = list(&app, &format!("kind=lineItems&workspaceId={WS_SALES_ID}&modelId={MODEL_PROD_ID}")).await;
    assert!(none.is_empty(), "a model without line items: {none:?}");
    // With a module: that module's views (its default view, and saved views on it).
    let views = list(&app, &format!("kind=views&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await;
    assert!(views.iter().any(|(id, _)| id == MODULE_SALES_INPUT_ID), "its default view has its id: {views:?}");
    let every = list(&app, &format!("kind=views&{scope}")).await;
    assert!(views.len() < every.len() && views.iter().all(|v| every.contains(v)), "{views:?}");
    let p = problem(app.get("list-objects", &format!("kind=views&{scope}&moduleName=REV10")).await, 404).await;
    assert_eq!(p["closestNames"][0], MODULE_SALES_INPUT_NAME, "{p}");
}
