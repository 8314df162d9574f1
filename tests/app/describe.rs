//! describe: a view's, module's or list's metadata, and with schema=true the JSON schema of
//! one row, which the connector's dynamic schemas use.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")
}

async fn describe(app: &App, query: &str) -> Value {
    let resp = app.get("describe", &format!("{}&{query}", scope())).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("not a JSON schema ({e}): {schema}"))
}

#[tokio::test]
async fn a_modules_dimensions_and_line_items_with_formats_and_what_is_calculated() {
    let app = App::start().await;
    let body = describe(&app, &format!("moduleName={}", MODULE_SALES_INPUT_NAME.replace(' ', "%20"))).await;
    assert_eq!(body["module"], json!({ "id": MODULE_SALES_INPUT_ID, "name": MODULE_SALES_INPUT_NAME }));
    let dims: Vec<&str> = body["dimensions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(dims, [DIM_PRODUCTS_NAME, DIM_REGIONS_NAME, DIM_TIME_NAME, DIM_VERSIONS_NAME]);
    let lines = body["lineItems"].as_array().unwrap();
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, SALES_INPUT_LINE_ITEMS);
    let by_name = |n: &str| lines.iter().find(|l| l["name"] == n).unwrap();
    assert_eq!(by_name(LINE_TOTAL_UNITS_NAME)["calculated"], json!(true));
    assert_eq!(by_name(LINE_UNITS_NAME)["calculated"], json!(false));
    assert_eq!(by_name(LINE_LAUNCH_DATE_NAME)["format"], "DATE");
    let price_dims: Vec<&str> = by_name(LINE_PRICE_NAME)["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(price_dims, [DIM_PRODUCTS_NAME, DIM_TIME_NAME, DIM_VERSIONS_NAME]);
}

#[tokio::test]
async fn a_modules_row_schema_takes_what_write_cells_writes_and_refuses_a_misspelt_key() {
    let app = App::start().await;
    let schema = describe(&app, &format!("moduleId={MODULE_SALES_INPUT_ID}&schema=true")).await;
    let props = schema["properties"].as_object().unwrap();
    assert!(props.get(LINE_TOTAL_UNITS_NAME).is_none(), "a calculated line item cannot be written");
    assert_eq!(props[LINE_UNITS_NAME]["type"], "number");
    assert_eq!(props[LINE_ACTIVE_NAME]["type"], "boolean");
    assert_eq!(props[LINE_LAUNCH_DATE_NAME]["format"], "date");
    let versions = props[DIM_VERSIONS_NAME]["enum"].as_array().unwrap();
    assert_eq!(versions, &[json!(VERSION_ACTUAL_NAME), json!(VERSION_FORECAST_NAME)], "small dimensions are dropdowns");
    let products = props[DIM_PRODUCTS_NAME]["enum"].as_array().unwrap();
    assert!(products.contains(&json!("Widget")) && products.contains(&json!("P001")), "names and codes: {products:?}");

    let v = validator(&schema);
    let row = json!({
        DIM_PRODUCTS_NAME: "P001", DIM_REGIONS_NAME: "North", DIM_TIME_NAME: "Mar 26", DIM_VERSIONS_NAME: "Forecast",
        LINE_UNITS_NAME: 12, LINE_COMMENT_NAME: "checked", LINE_ACTIVE_NAME: true, LINE_LAUNCH_DATE_NAME: "2026-03-01",
    });
    assert!(v.is_valid(&row), "{:?}", v.iter_errors(&row).map(|e| e.to_string()).collect::<Vec<_>>());
    let mut misspelt = row.clone();
    misspelt.as_object_mut().unwrap().insert("Unitz".into(), json!(12));
    assert!(!v.is_valid(&misspelt), "a misspelt key is refused");
    let mut wrong = row.clone();
    wrong[LINE_UNITS_NAME] = json!("twelve");
    assert!(!v.is_valid(&wrong), "a number line item takes numbers");
    let mut calculated = row.clone();
    calculated[LINE_TOTAL_UNITS_NAME] = json!(3);
    assert!(!v.is_valid(&calculated), "a calculated line item is not a field");

    // What the schema accepts, write-cells writes.
    let resp = app
        .post("write-cells", &format!("{}&moduleId={MODULE_SALES_INPUT_ID}", scope()), &json!({ "rows": [row] }))
        .await;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["cellsChanged"], json!(4), "Units, Comment, Active and Launch Date: {answer}");
}

#[tokio::test]
async fn a_views_record_schema_holds_every_record_get_view_data_gives() {
    let app = App::start().await;
    let meta = describe(&app, &format!("viewId={VIEW_PRICE_BOOK_ID}")).await;
    assert_eq!(meta["view"]["name"], VIEW_PRICE_BOOK_NAME);
    let axis = |k: &str| -> Vec<String> {
        meta[k].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(axis("rows"), [DIM_PRODUCTS_NAME, DIM_REGIONS_NAME]);
    assert_eq!(axis("pages"), [DIM_VERSIONS_NAME]);
    assert_eq!(axis("columns"), [DIM_TIME_NAME, DIM_LINE_ITEMS_NAME]);

    let schema = describe(&app, &format!("viewId={VIEW_PRICE_BOOK_ID}&schema=true")).await;
    let v = validator(&schema);
    let resp = app.get("get-view-data", &format!("{}&viewId={VIEW_PRICE_BOOK_ID}", scope())).await;
    assert_eq!(resp.status(), 200);
    let records: Value = resp.json().await.unwrap();
    let keys: Vec<&str> = records["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let props: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(props, keys, "the schema's fields are the records' keys, in order");
    let rows = records["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert!(v.is_valid(row), "{row}: {:?}", v.iter_errors(row).map(|e| e.to_string()).collect::<Vec<_>>());
    }
    let mut extra = rows[0].clone();
    extra["Jan 26 | Prize"] = json!(1);
    assert!(!v.is_valid(&extra));
}

#[tokio::test]
async fn a_lists_item_schema_holds_its_items_and_refuses_unknown_properties() {
    let app = App::start().await;
    let meta = describe(&app, &format!("listName={}", LIST_COST_CENTRES_NAME.replace(' ', "%20"))).await;
    assert_eq!(meta["list"], json!({ "id": LIST_COST_CENTRES_ID, "name": LIST_COST_CENTRES_NAME }));
    assert_eq!(meta["properties"][0]["name"], "Owner");
    assert_eq!(meta["itemCount"], json!(COST_CENTRES.len() + 1), "Anaplan counts the top level item");

    let schema = describe(&app, &format!("listId={LIST_COST_CENTRES_ID}&schema=true")).await;
    let v = validator(&schema);
    let resp = app.get("list-items", &format!("{}&listId={LIST_COST_CENTRES_ID}", scope())).await;
    assert_eq!(resp.status(), 200);
    let items: Value = resp.json().await.unwrap();
    for item in items["items"].as_array().unwrap() {
        assert!(v.is_valid(item), "{item}: {:?}", v.iter_errors(item).map(|e| e.to_string()).collect::<Vec<_>>());
    }
    let new =
        json!({ "code": "CC400", "name": "Legal", "parent": "All Cost Centres", "properties": { "Owner": "Lin" } });
    assert!(v.is_valid(&new));
    assert!(!v.is_valid(&json!({ "code": "CC400", "properties": { "Ownr": "Lin" } })), "a misspelt property");
}

#[tokio::test]
async fn exactly_one_object_is_described_and_names_are_checked() {
    let app = App::start().await;
    let none = problem(app.get("describe", &scope()).await, 400).await;
    assert!(none["detail"].as_str().unwrap().contains("exactly one"), "{none}");
    let two = format!("{}&viewId={VIEW_PRICE_BOOK_ID}&listId={LIST_COST_CENTRES_ID}", scope());
    problem(app.get("describe", &two).await, 400).await;
    problem(app.get("describe", &format!("{}&moduleId=12&schema=true", scope())).await, 400).await;
    problem(app.get("describe", &format!("{}&listId={LIST_COST_CENTRES_ID}&schema=maybe", scope())).await, 400).await;
    assert!(app.fake.requests().is_empty(), "refused before Anaplan is called");
    let body = problem(app.get("describe", &format!("{}&moduleName=REV10%20Sales%20Inputs", scope())).await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains(MODULE_SALES_INPUT_NAME), "{body}");
    problem(app.get("describe", &format!("{}&listId=101000000099", scope())).await, 404).await;
}

/// The connector's `x-ms-dynamic-schema` of a definition's field, as `infra/connector`
/// commits it.
fn connector_dynamic_schema(pointer: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/connector/apiDefinition.swagger.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let d = doc.pointer(pointer).unwrap_or_else(|| panic!("no {pointer} in the connector"));
    let dynamic = d["x-ms-dynamic-schema"].clone();
    assert!(dynamic.is_object(), "{pointer} has no x-ms-dynamic-schema: {d}");
    // The operation it names is describe's.
    let op = &doc["paths"]["/describe"]["get"];
    assert_eq!(dynamic["operationId"], op["operationId"]);
    dynamic
}

/// Calls what a connector's dynamic schema names, as the designer does: each
/// `{"parameter": name}` takes the value the user gave that parameter (`given`), literals as
/// they are; the answer (at `value-path`, when there is one) is the schema.
async fn resolve(app: &App, dynamic: &Value, given: &[(&str, &str)]) -> Value {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (arg, value) in dynamic["parameters"].as_object().unwrap() {
        let v = match value.get("parameter").and_then(Value::as_str) {
            Some(source) => given
                .iter()
                .find(|(k, _)| *k == source)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("the designer would need {source}, which the operation was not given")),
            None => value.as_str().unwrap(),
        };
        query.append_pair(arg, v);
    }
    let resp = app.get("describe", &query.finish()).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    match dynamic.get("value-path").and_then(Value::as_str) {
        Some(path) => body.pointer(&format!("/{}", path.replace('.', "/"))).cloned().unwrap(),
        None => body,
    }
}

#[tokio::test]
async fn the_connectors_dynamic_schemas_resolve_to_each_objects_fields() {
    let app = App::start().await;
    let (ws, model) = (WS_FPA_ID, MODEL_REVENUE_ID);

    // write-cells: once a module is picked, its rows take its dimensions and line items.
    let dynamic = connector_dynamic_schema("/definitions/WriteCellsBody/properties/rows/items");
    let schema =
        resolve(&app, &dynamic, &[("workspaceId", ws), ("modelId", model), ("moduleId", MODULE_SALES_INPUT_ID)]).await;
    let v = validator(&schema);
    let row = json!({ DIM_PRODUCTS_NAME: "Widget", DIM_TIME_NAME: "Jan 26", DIM_VERSIONS_NAME: "Actual", LINE_PRICE_NAME: 9.5 });
    assert!(v.is_valid(&row), "{:?}", v.iter_errors(&row).map(|e| e.to_string()).collect::<Vec<_>>());
    assert!(!v.is_valid(&json!({ DIM_PRODUCTS_NAME: "Widget", "Prise": 9.5 })), "a misspelt line item");

    // get-view-data: a view's records.
    let dynamic = connector_dynamic_schema("/definitions/ViewRecords/properties/rows/items");
    let schema =
        resolve(&app, &dynamic, &[("workspaceId", ws), ("modelId", model), ("viewId", VIEW_PRICE_BOOK_ID)]).await;
    assert!(schema["properties"]["Jan 26 | Price"].is_object(), "{schema}");

    // list-items: a list's items, read (GET) and written (POST).
    let dynamic = connector_dynamic_schema("/definitions/ListItem");
    let schema =
        resolve(&app, &dynamic, &[("workspaceId", ws), ("modelId", model), ("listId", LIST_COST_CENTRES_ID)]).await;
    assert!(schema["properties"]["properties"]["properties"]["Owner"].is_object(), "{schema}");
    assert!(!validator(&schema).is_valid(&json!({ "code": "CC1", "colour": "red" })));
}

#[tokio::test]
async fn an_imports_file_layout_is_the_csv_it_expects() {
    let app = App::start().await;
    let body = describe(&app, &format!("importId={IMPORT_PRODUCTS_ID}")).await;
    assert_eq!(body["import"], json!({ "id": IMPORT_PRODUCTS_ID, "name": IMPORT_PRODUCTS_NAME }));
    assert_eq!(body["type"], "FILE");
    let source = &body["source"];
    let headers = source["headerNames"].as_array().unwrap();
    assert_eq!(source["columnCount"], json!(headers.len()), "Anaplan's importMetadata, unchanged: {body}");
    assert_eq!(source["columnSeparator"], ",");
    let by_name = describe(&app, &format!("importName={}", IMPORT_PRODUCTS_NAME.replace(' ', "%20"))).await;
    assert_eq!(by_name, body);
    // No row schema for an import; and still exactly one object.
    problem(app.get("describe", &format!("{}&importId={IMPORT_PRODUCTS_ID}&schema=true", scope())).await, 400).await;
    let two = format!("{}&importId={IMPORT_PRODUCTS_ID}&listId={LIST_COST_CENTRES_ID}", scope());
    problem(app.get("describe", &two).await, 400).await;
    problem(app.get("describe", &format!("{}&importId=112000000099", scope())).await, 404).await;
}
