//! list-objects: what the connector's dropdowns show, level by level.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

async fn list(app: &App, query: &str) -> Vec<(String, String)> {
    let resp = app.get("list-objects", query).await;
    assert_eq!(resp.status(), 200, "{query}");
    let items: Vec<Value> = resp.json().await.unwrap();
    items
        .into_iter()
        .map(|i| {
            assert_eq!(i.as_object().unwrap().len(), 2, "only id and name: {i}");
            (i["id"].as_str().unwrap().to_owned(), i["name"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn each_level_lists_what_the_next_dropdown_needs() {
    let app = App::start().await;
    let ws = list(&app, "kind=workspaces").await;
    assert!(
        ws.contains(&(WS_FPA_ID.into(), WS_FPA_NAME.into()))
            && ws.contains(&(WS_SALES_ID.into(), WS_SALES_NAME.into()))
    );

    let models = list(&app, &format!("kind=models&workspaceId={WS_FPA_ID}")).await;
    assert!(models.contains(&(MODEL_REVENUE_ID.into(), MODEL_REVENUE_NAME.into())), "{models:?}");
    assert!(!models.iter().any(|(id, _)| id == MODEL_FORECAST_1_ID), "models of another workspace");

    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    let processes = list(&app, &format!("kind=processes&{scope}")).await;
    assert!(processes.contains(&(PROCESS_NIGHTLY_ID.into(), PROCESS_NIGHTLY_NAME.into())));
    let exports = list(&app, &format!("kind=exports&{scope}")).await;
    assert_eq!(exports.iter().filter(|(id, _)| id.starts_with("116")).count(), exports.len());
    assert!(exports.contains(&(EXPORT_BIG_ID.into(), EXPORT_BIG_NAME.into())));
    let imports = list(&app, &format!("kind=imports&{scope}")).await;
    assert!(imports.contains(&(IMPORT_PRODUCTS_ID.into(), IMPORT_PRODUCTS_NAME.into())));
    let views = list(&app, &format!("kind=views&{scope}")).await;
    assert!(views.contains(&(VIEW_SAVED_NOTES_ID.into(), VIEW_SAVED_NOTES_NAME.into())), "saved views are listed");

    // Names work as parents too.
    let by_name = list(&app, "kind=models&workspaceName=FP%26A%20Planning").await;
    assert_eq!(by_name, models);
}

#[tokio::test]
async fn versions_feed_the_version_dropdown() {
    let app = App::start().await;
    let versions = list(&app, &format!("kind=versions&workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")).await;
    assert_eq!(
        versions,
        [
            (VERSION_ACTUAL_ID.into(), VERSION_ACTUAL_NAME.into()),
            (VERSION_FORECAST_ID.into(), VERSION_FORECAST_NAME.into())
        ]
    );
    let by_name = list(&app, "kind=versions&workspaceName=FP%26A%20Planning&modelName=Headcount%20Plan").await;
    assert_eq!(by_name, versions, "every model has the Versions dimension's items");
    problem(app.get("list-objects", &format!("kind=versions&workspaceId={WS_FPA_ID}")).await, 400).await;
    let body = problem(
        app.get("list-objects", &format!("kind=versions&workspaceId={WS_FPA_ID}&modelName=Revenue")).await,
        404,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("Revenue Plan"), "{body}");
}

#[tokio::test]
async fn revisions_feed_the_revision_dropdown() {
    let app = App::start().await;
    let revisions = list(&app, &format!("kind=revisions&workspaceId={WS_SALES_ID}&modelId={MODEL_DEV_ID}")).await;
    assert_eq!(
        revisions,
        [
            (REVISION_LAUNCH_ID.into(), REVISION_LAUNCH_NAME.into()),
            (REVISION_TERRITORIES_ID.into(), REVISION_TERRITORIES_NAME.into())
        ]
    );
    let by_name = list(&app, "kind=revisions&workspaceName=Sales%20Ops&modelName=Pipeline%20PROD").await;
    assert_eq!(by_name, [(REVISION_LAUNCH_ID.into(), REVISION_LAUNCH_NAME.into())]);
    problem(app.get("list-objects", &format!("kind=revisions&workspaceId={WS_SALES_ID}")).await, 400).await;
}

#[tokio::test]
async fn other_actions_feed_the_action_dropdown() {
    let app = App::start().await;
    let actions = list(&app, &format!("kind=actions&workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")).await;
    assert_eq!(
        actions,
        [
            (ACTION_DELETE_CLOSED_ID.into(), ACTION_DELETE_CLOSED_NAME.into()),
            (ACTION_DELETE_LOCKED_ID.into(), ACTION_DELETE_LOCKED_NAME.into()),
            (ACTION_OPTIMIZER_ID.into(), ACTION_OPTIMIZER_NAME.into())
        ]
    );
    // A model without other actions: Anaplan leaves the key out, the list is empty.
    let none = list(&app, "kind=actions&workspaceName=FP%26A%20Planning&modelName=Headcount%20Plan").await;
    assert!(none.is_empty(), "{none:?}");
    problem(app.get("list-objects", &format!("kind=actions&workspaceId={WS_FPA_ID}")).await, 400).await;
}

#[tokio::test]
async fn dashboards_are_listed_per_model() {
    let app = App::start().await;
    let dashboards = list(&app, &format!("kind=dashboards&workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")).await;
    assert_eq!(
        dashboards,
        [("115000000001".into(), "Revenue Overview".into()), ("115000000002".into(), "Month-End Close".into())]
    );
    let none = list(&app, "kind=dashboards&workspaceName=FP%26A%20Planning&modelName=Headcount%20Plan").await;
    assert!(none.is_empty(), "a model without dashboards: {none:?}");
    problem(app.get("list-objects", &format!("kind=dashboards&workspaceId={WS_FPA_ID}")).await, 400).await;
}

#[tokio::test]
async fn dimensions_are_a_line_items_own_or_the_models_lists() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    // A line item by id: its dimensions in the module's order, Time and Versions included.
    let units = list(&app, &format!("kind=dimensions&{scope}&lineItemId={LINE_UNITS_ID}")).await;
    let names: Vec<&str> = units.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, [DIM_PRODUCTS_NAME, DIM_REGIONS_NAME, DIM_TIME_NAME, DIM_VERSIONS_NAME], "{units:?}");
    assert!(units.contains(&(DIM_TIME_ID.into(), DIM_TIME_NAME.into())));
    // By name, within its module.
    let price =
        list(&app, &format!("kind=dimensions&{scope}&moduleName=REV10%20Sales%20Input&lineItemName={LINE_PRICE_NAME}"))
            .await;
    let names: Vec<&str> = price.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, [DIM_PRODUCTS_NAME, DIM_TIME_NAME, DIM_VERSIONS_NAME]);
    // Without a line item: the model's lists, each of which can be a dimension.
    let lists = list(&app, &format!("kind=lists&{scope}")).await;
    assert!(!lists.is_empty());
    assert_eq!(list(&app, &format!("kind=dimensions&{scope}")).await, lists);

    // A line item name needs its module; a module alone is not a line item.
    let body =
        problem(app.get("list-objects", &format!("kind=dimensions&{scope}&lineItemName=Units")).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("module"), "{body}");
    problem(app.get("list-objects", &format!("kind=dimensions&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await, 400)
        .await;
    // A malformed id never reaches Anaplan; an unknown one is Anaplan's 404; a misspelt
    // name gets the closest names.
    problem(app.get("list-objects", &format!("kind=dimensions&{scope}&lineItemId=106000000001")).await, 400).await;
    problem(app.get("list-objects", &format!("kind=dimensions&{scope}&lineItemId=206000000999")).await, 404).await;
    let body = problem(
        app.get(
            "list-objects",
            &format!("kind=dimensions&{scope}&moduleId={MODULE_SALES_INPUT_ID}&lineItemName=Unitz"),
        )
        .await,
        404,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("Units"), "{body}");
    // Other kinds take no line item.
    problem(app.get("list-objects", &format!("kind=lists&{scope}&lineItemId={LINE_UNITS_ID}")).await, 400).await;
}

#[tokio::test]
async fn missing_or_extra_parents_and_unknown_kinds_are_400() {
    let app = App::start().await;
    let body = problem(app.get("list-objects", "").await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("kind"));
    problem(app.get("list-objects", "kind=lists").await, 400).await;
    problem(app.get("list-objects", &format!("kind=processes&workspaceId={WS_FPA_ID}")).await, 400).await;
    problem(app.get("list-objects", &format!("kind=workspaces&modelId={MODEL_REVENUE_ID}")).await, 400).await;
    let body =
        problem(app.get("list-objects", "kind=models&workspaceId=8a81b09d599f3c6e0159f605560c2699").await, 404).await;
    assert_eq!(body["anaplan"]["status"], json!(404));
}

#[tokio::test]
async fn models_without_a_workspace_are_every_workspaces() {
    let app = App::start().await;
    let all = list(&app, "kind=models").await;
    let fpa = list(&app, &format!("kind=models&workspaceId={WS_FPA_ID}")).await;
    let sales = list(&app, &format!("kind=models&workspaceId={WS_SALES_ID}")).await;
    assert!(fpa.iter().chain(&sales).all(|m| all.contains(m)), "{all:?}");
    assert_eq!(all.len(), fpa.len() + sales.len(), "each model once");
    assert!(app.fake.requests().iter().any(|r| r.path == "/2/0/models"), "one call: GET /models");
}
