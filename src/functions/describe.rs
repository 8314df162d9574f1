//! `describe`: a view's, a module's or a list's metadata in one answer, and with
//! `schema=true` the JSON schema of one row that `get-view-data` records (view), `write-cells`
//! rows (module) or `list-items` items (list) give or take. The connector points its
//! `x-ms-dynamic-schema` at it, so the Logic Apps designer shows the model's own columns as
//! typed fields once a view, module or list is picked.
//!
//! A dimension's items become a dropdown (`enum`) when there are at most
//! [`ENUM_MAX_ITEMS`] of them; larger dimensions are free text. A list's size is read from
//! its metadata before any item is, so a large list is never read to make a schema.

use axum::http::Method;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem, json_answer};
use crate::machinery::declare::{
    Answer, Function, Group, Input, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with};
use anaplan::ids::{ImportId, LineItemId, ListId, ModelId, ModuleId, ViewId};
use anaplan::model_data::DimensionItem;
use anaplan::tasks::{Action, ActionRef};
use anaplan::{AnaplanError, Client, Listing, Named};

/// Dimensions with at most this many items are offered as a dropdown.
pub const ENUM_MAX_ITEMS: usize = 100;

/// Column labels a view schema lists at most (beyond, its rows are described loosely).
const MAX_VIEW_COLUMNS: usize = 1_000;

/// `schema`.
pub const SCHEMA: Param = Param::choice(
    "schema",
    &["false", "true"],
    "JSON schema",
    "true: answer the JSON schema of one row instead (a module's write-cells row, a view's get-view-data record, \
     a list's list-items item), as the connector's dynamic schemas use it.",
)
.default("false")
.advanced();

/// `describe`.
pub const FUNCTION: Function = Function {
    name: "describe",
    trigger: Trigger::Http { methods: &[Method::GET], body: RequestBody::Parameters },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Param(
            Param::text("viewId", "View", "The view to describe (exactly one of view, module and list).")
                .dropdown("views", &[("workspaceId", "workspaceId"), ("modelId", "modelId")]),
        ),
        Input::ObjectName(Object::View),
        Input::Param(
            Param::text("moduleId", "Module", "The module to describe (exactly one of view, module and list).")
                .dropdown("modules", &[("workspaceId", "workspaceId"), ("modelId", "modelId")]),
        ),
        Input::ObjectName(Object::Module),
        Input::Param(
            Param::text("listId", "List", "The list to describe (exactly one of view, module and list).")
                .dropdown("lists", &[("workspaceId", "workspaceId"), ("modelId", "modelId")]),
        ),
        Input::ObjectName(Object::List),
        Input::Param(
            Param::text(
                "importId",
                "Import",
                "Instead of a view, module or list: the import whose file layout to describe (no schema).",
            )
            .dropdown("imports", &[("workspaceId", "workspaceId"), ("modelId", "modelId")])
            .advanced(),
        ),
        Input::ObjectName(Object::Import),
        Input::Param(SCHEMA),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "DescribeObject",
        summary: "Describe a view, module or list",
        description: "A view's row, column and page dimensions; a module's dimensions and line items with their \
                      formats and whether each is calculated; a list's properties, parent and item count; or an \
                      import's file layout (its column names and separator: the CSV it expects). With \
                      JSON schema true: the schema of one row, which the connector uses to show a module's, view's \
                      or list's own columns as fields.",
        important: false,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer {
            description: "The object's metadata, or a row's JSON schema.",
            schema: "Description",
            array: false,
        },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "Description", build: description_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `#/definitions/Description`: one of the three metadata shapes, or a JSON schema.
fn description_schema() -> Value {
    let named = |summary: &str, description: &str| {
        prop_with(
            "object",
            summary,
            description,
            "properties",
            json!({ "id": prop("string", "Id", "Its id."), "name": prop("string", "Name", "Its name.") }),
        )
    };
    let dims = |summary: &str, description: &str| {
        prop_with("array", summary, description, "items", json!({ "type": "object", "additionalProperties": true }))
    };
    json!({
        "type": "object",
        "description": "A view's, module's or list's metadata (schema=false), or the JSON schema of one row (schema=true).",
        "additionalProperties": true,
        "properties": {
            "view": named("View", "The view described."),
            "rows": dims("Rows", "The view's row dimensions, outermost first."),
            "columns": dims("Columns", "The view's column dimensions."),
            "pages": dims("Pages", "The view's page dimensions."),
            "module": named("Module", "The module described."),
            "dimensions": dims("Dimensions", "The module's dimensions: every dimension of its line items."),
            "lineItems": dims("Line items", "The module's line items: id, name, format, calculated, dimensions."),
            "list": named("List", "The list described."),
            "properties": dims("Properties", "The list's properties with their formats (schema=false)."),
            "itemCount": prop("integer", "Item count", "The list's items, its top level included (as Anaplan counts)."),
            "import": named("Import", "The import described."),
            "source": prop(
                "object",
                "Source",
                "The import's file layout as Anaplan gives it: headerNames, columnCount, columnSeparator, \
                 textDelimiter, textEncoding, headerRow, firstDataRow, decimalSeparator.",
            ),
        },
    })
}

/// A connector schema whose fields come from `describe ... schema=true` for the `<kind>Id`
/// (`view`, `module` or `list`) the operation was given: `x-ms-dynamic-schema` on
/// `DescribeObject`, with the operation's `workspaceId`, `modelId` and `<kind>Id`.
pub fn dynamic_row(kind: &'static str, description: &str) -> Value {
    let id = format!("{kind}Id");
    json!({
        "type": "object",
        "description": description,
        "x-ms-dynamic-schema": {
            "operationId": FUNCTION.operation.as_ref().map_or("", |o| o.id),
            "parameters": {
                "workspaceId": { "parameter": "workspaceId" },
                "modelId": { "parameter": "modelId" },
                id.clone(): { "parameter": id },
                "schema": "true",
            },
        },
    })
}

/// What to describe.
enum Target {
    View(ObjectRef<ViewId>),
    Module(ObjectRef<ModuleId>),
    List(ObjectRef<ListId>),
    Import(ObjectRef<ImportId>),
}

struct DescribeRequest {
    model: ModelRef,
    target: Target,
    schema: bool,
}

impl DescribeRequest {
    fn parse(params: &Params) -> Result<Self, Problem> {
        let has = |k: &str| params.get(&format!("{k}Id")).is_some() || params.get(&format!("{k}Name")).is_some();
        let given: Vec<&str> = ["view", "module", "list", "import"].into_iter().filter(|k| has(k)).collect();
        let schema = params.choice(&SCHEMA)?.unwrap_or("false") == "true";
        let target = match given.as_slice() {
            ["view"] => Target::View(params.object("view")?),
            ["module"] => Target::Module(params.object("module")?),
            ["list"] => Target::List(params.object("list")?),
            ["import"] if schema => {
                return Err(Problem::bad_parameter(
                    "schema=true is for a view, a module or a list; an import is described by its file layout",
                ));
            }
            ["import"] => Target::Import(params.object("import")?),
            [] => {
                return Err(Problem::bad_parameter(
                    "name exactly one of a view, a module and a list (or an import) to describe",
                ));
            }
            more => {
                return Err(Problem::bad_parameter(format!(
                    "name exactly one of a view, a module and a list (or an import) to describe; got {}",
                    more.join(" and ")
                )));
            }
        };
        Ok(DescribeRequest { model: ModelRef::parse(params)?, target, schema })
    }
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = DescribeRequest::parse(&call.params()?)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let body = match req.target {
        Target::View(v) => {
            let view = state.find(&client, &Listing::Views(model.clone()), v).await?.id;
            describe_view(&client, &model, &view, req.schema).await?
        }
        Target::Module(m) => {
            let found = state.find(&client, &Listing::Modules(model.clone()), m).await?;
            let name = match found.name {
                Some(n) => n,
                None => listed_name(state, &client, &Listing::Modules(model.clone()), found.id.as_str()).await?,
            };
            describe_module(&client, &model, (&found.id, &name), req.schema).await?
        }
        Target::List(l) => {
            let list = state.find(&client, &Listing::Lists(model.clone()), l).await?.id;
            describe_list(&client, &model, &list, req.schema).await?
        }
        Target::Import(i) => {
            let import = state.find(&client, &Listing::Imports(ws.clone(), model.clone()), i).await?.id;
            let action = ActionRef { workspace: ws, model, action: Action::Import(import.clone()) };
            let meta = client.action_metadata(&action).await?;
            let name = meta.get("name").cloned().unwrap_or(Value::Null);
            let mut body = json!({ "import": { "id": import.as_str(), "name": name } });
            for (k, v) in meta.as_object().into_iter().flatten().filter(|(k, _)| k.as_str() != "name") {
                body[k] = v.clone();
            }
            body
        }
    };
    Ok(json_answer(axum::http::StatusCode::OK, &body))
}

/// The name `id` has in a listing (the id itself when the listing does not show it).
async fn listed_name(state: &AppState, client: &Client, listing: &Listing, id: &str) -> Result<String, Problem> {
    let items = state.catalog.list(client, listing).await?;
    Ok(items.iter().find(|n| n.id == id).map(|n| n.name.clone()).unwrap_or_else(|| id.to_owned()))
}

fn named(id: &str, name: &str) -> Value {
    json!({ "id": id, "name": name })
}

// ------------------------------------------------------------------------------ view

async fn describe_view(client: &Client, model: &ModelId, view: &ViewId, schema: bool) -> Result<Value, Problem> {
    let meta = client.view_metadata(model, view).await?;
    if !schema {
        let dims = |d: &[Named]| Value::Array(d.iter().map(|n| named(&n.id, &n.name)).collect());
        return Ok(json!({
            "view": named(&meta.id, &meta.name),
            "rows": dims(&meta.rows),
            "columns": dims(&meta.columns),
            "pages": dims(&meta.pages),
        }));
    }
    // Row dimensions: text, a dropdown when small.
    let mut row_props = Vec::new();
    for d in &meta.rows {
        let items = small(client.view_dimension_items(model, view, &d.id).await)?;
        row_props.push((d.name.clone(), item_property(&d.name, items.as_deref(), "An item of")));
    }
    // Column labels: every combination of the column dimensions' items, joined as records
    // joins them; too many to list and the row is described by its row dimensions alone.
    let mut labels: Option<Vec<String>> = Some(vec![String::new()]);
    for d in &meta.columns {
        let Some(so_far) = labels.take() else { break };
        let items = client.view_dimension_items(model, view, &d.id).await?;
        if so_far.len().saturating_mul(items.len()) > MAX_VIEW_COLUMNS {
            break;
        }
        labels = Some(
            so_far
                .iter()
                .flat_map(|prefix| {
                    items.iter().map(move |i| {
                        if prefix.is_empty() { i.name.clone() } else { format!("{prefix}{}{}", " | ", i.name) }
                    })
                })
                .collect(),
        );
    }
    if meta.columns.is_empty() {
        labels = Some(Vec::new());
    }
    let complete = labels.is_some();
    let headings = crate::machinery::records::headings(&meta, meta.rows.len(), labels.clone().unwrap_or_default());
    let mut properties = Map::new();
    for (i, heading) in headings.into_iter().enumerate() {
        let p = match row_props.get(i) {
            Some((_, p)) => p.clone(),
            None => json!({
                "x-ms-summary": heading,
                "description": "A cell: a JSON number when its text is one, else text.",
            }),
        };
        properties.insert(heading, p);
    }
    Ok(json!({
        "type": "object",
        "title": format!("A record of {}", meta.name),
        "properties": properties,
        "additionalProperties": !complete,
    }))
}

// ---------------------------------------------------------------------------- module

async fn describe_module(
    client: &Client,
    model: &ModelId,
    (module, module_name): (&ModuleId, &str),
    schema: bool,
) -> Result<Value, Problem> {
    let line_items = client.module_line_items(model, module).await?;
    let mut dimensions: Vec<Named> = Vec::new();
    let mut described = Vec::new();
    let mut writable_dims: Vec<usize> = Vec::new();
    for li in &line_items {
        let id = LineItemId::parse(&li.id).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
        let dims = client.line_item_dimensions(model, &id).await?;
        let calculated = li.formula.as_deref().is_some_and(|f| !f.trim().is_empty());
        let mut at = Vec::new();
        for d in &dims {
            let i = match dimensions.iter().position(|x| x.id == d.id) {
                Some(i) => i,
                None => {
                    dimensions.push(d.clone());
                    dimensions.len() - 1
                }
            };
            at.push(i);
            if !calculated && !writable_dims.contains(&i) {
                writable_dims.push(i);
            }
        }
        described.push((li, calculated, at));
    }
    if !schema {
        let lines: Vec<Value> = described
            .iter()
            .map(|(li, calculated, at)| {
                json!({
                    "id": li.id,
                    "name": li.name,
                    "format": li.format,
                    "calculated": if li.formula.is_some() { json!(calculated) } else { Value::Null },
                    "dimensions": at.iter().map(|&i| named(&dimensions[i].id, &dimensions[i].name)).collect::<Vec<_>>(),
                })
            })
            .collect();
        return Ok(json!({
            "module": named(module.as_str(), module_name),
            "dimensions": dimensions.iter().map(|d| named(&d.id, &d.name)).collect::<Vec<_>>(),
            "lineItems": lines,
        }));
    }
    // One write-cells row: the dimensions writable line items use, then those line items.
    let mut properties = Map::new();
    writable_dims.sort_unstable();
    for &i in &writable_dims {
        let d = &dimensions[i];
        let via = described.iter().find(|(_, calculated, at)| !calculated && at.contains(&i)).map(|(li, ..)| &li.id);
        let items = match via {
            Some(via) => small_dimension(client, model, via, &d.id).await?,
            None => None,
        };
        properties.insert(d.name.clone(), item_property(&d.name, items.as_deref(), "An item of"));
    }
    for (li, calculated, _) in &described {
        if *calculated || properties.contains_key(&li.name) {
            continue;
        }
        properties.insert(li.name.clone(), line_item_property(&li.name, li.format.as_deref()));
    }
    Ok(json!({
        "type": "object",
        "title": format!("A row of {module_name}"),
        "description": "Dimension names (an item's name or code) and line item names (the cell's value); calculated \
                        line items are left out, as they cannot be written.",
        "properties": properties,
        "additionalProperties": false,
    }))
}

/// A line item's cell, typed by its format (unknown formats take any value).
fn line_item_property(name: &str, format: Option<&str>) -> Value {
    let (kind, what, date) = match format {
        Some("NUMBER") => (Some("number"), "a number", false),
        Some("BOOLEAN") => (Some("boolean"), "true or false", false),
        Some("DATE") => (Some("string"), "a date as YYYY-MM-DD", true),
        Some("LIST") => (Some("string"), "a list item's name or code", false),
        Some("TEXT") => (Some("string"), "text", false),
        _ => (None, "its value", false),
    };
    let mut p = json!({ "x-ms-summary": name, "description": format!("Line item {name}: {what}.") });
    if let Some(kind) = kind {
        p["type"] = json!(kind);
    }
    if date {
        p["format"] = json!("date");
    }
    p
}

/// A dimension column: an item's name (a dropdown when `items` is given) or code.
fn item_property(dimension: &str, items: Option<&[DimensionItem]>, what: &str) -> Value {
    let mut p = json!({
        "type": "string",
        "x-ms-summary": dimension,
        "description": format!("{what} {dimension}: its name or code."),
    });
    if let Some(items) = items {
        let mut values: Vec<&str> = Vec::new();
        for i in items {
            values.push(&i.name);
            if let Some(code) = i.code.as_deref().filter(|c| !c.is_empty() && *c != i.name) {
                values.push(code);
            }
        }
        values.dedup();
        p["enum"] = json!(values);
    }
    p
}

/// The items of a view dimension when few enough for a dropdown.
fn small(read: Result<Vec<DimensionItem>, AnaplanError>) -> Result<Option<Vec<DimensionItem>>, Problem> {
    Ok(Some(read?).filter(|items| items.len() <= ENUM_MAX_ITEMS))
}

/// The items of a module dimension when few enough for a dropdown, read through a line item
/// that has it (Anaplan's model-level call refuses Time; the line item one takes any
/// dimension). A list's size comes from its metadata first, so a large list is never read.
async fn small_dimension(
    client: &Client,
    model: &ModelId,
    line_item: &str,
    id: &str,
) -> Result<Option<Vec<DimensionItem>>, Problem> {
    if let Ok(list) = ListId::parse(id) {
        match client.list_metadata(model, &list).await {
            Ok(meta) => {
                if meta.get("itemCount").and_then(Value::as_u64).is_none_or(|n| n as usize > ENUM_MAX_ITEMS + 1) {
                    return Ok(None);
                }
            }
            // Not a list Anaplan knows as one (a subset, the Users dimension): read it below.
            Err(AnaplanError::Api { status: 400 | 404, .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let line_item = LineItemId::parse(line_item).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
    match client.line_item_dimension_items(model, &line_item, id).await {
        Ok(items) => Ok(Some(items).filter(|i| i.len() <= ENUM_MAX_ITEMS)),
        // Above 1,000,000 items Anaplan refuses the read: free text.
        Err(AnaplanError::Api { status: 400, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------------------ list

async fn describe_list(client: &Client, model: &ModelId, list: &ListId, schema: bool) -> Result<Value, Problem> {
    let meta = client.list_metadata(model, list).await?;
    let text = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let props: Vec<(String, Option<String>)> = meta
        .get("properties")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?.to_owned();
                    Some((name, p.get("format").and_then(Value::as_str).map(str::to_owned)))
                })
                .collect()
        })
        .unwrap_or_default();
    let subsets: Vec<String> = meta
        .get("subsets")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.get("name")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if !schema {
        let mut body = json!({ "list": named(&text("id"), &text("name")) });
        for key in
            ["properties", "subsets", "parent", "topLevelItem", "itemCount", "numberedList", "hasSelectiveAccess"]
        {
            if let Some(v) = meta.get(key) {
                body[key] = v.clone();
            }
        }
        return Ok(body);
    }
    let mut properties = Map::new();
    for (name, format) in &props {
        let mut p = line_item_property(name, format.as_deref());
        p["description"] = json!(format!("Property {name}."));
        properties.insert(name.clone(), p);
    }
    let mut subset_props = Map::new();
    for s in &subsets {
        subset_props.insert(
            s.clone(),
            json!({ "type": "boolean", "x-ms-summary": s, "description": format!("Whether the item is in subset {s}.") }),
        );
    }
    let field = |summary: &str, description: &str| json!({ "type": "string", "x-ms-summary": summary, "description": description });
    Ok(json!({
        "type": "object",
        "title": format!("An item of {}", text("name")),
        "properties": {
            "id": field("Id", "The item's id (read; in a change, names the item instead of its code)."),
            "code": field("Code", "The item's code."),
            "name": field("Name", "The item's name."),
            "parent": field("Parent", "The parent item's name or code."),
            "properties": { "type": "object", "x-ms-summary": "Properties", "properties": properties, "additionalProperties": false },
            "subsets": { "type": "object", "x-ms-summary": "Subsets", "properties": subset_props, "additionalProperties": false },
        },
        "additionalProperties": false,
    }))
}
