//! The transactional API of modules (reference "More APIs" §3): line items and their
//! dimensions, dimension items, and strict module cell writes, whose cells land in the
//! emulator's state ([`super::Emulator::cell`]).
//!
//! - `GET /2/0/models/{m}/modules/{module}/lineItems[?includeAll=true]` → `items`
//!   (`id`, `name`, `moduleId`, `moduleName`; with includeAll also `format`).
//! - `GET /2/0/models/{m}/lineItems/{li}/dimensions` → `dimensions[{id,name}]`.
//! - `GET /2/0/models/{m}/dimensions/{d}/items` (and its workspace form
//!   `/2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items`) and
//!   `…/lineItems/{li}/dimensions/{d}/items` → `items[{id,name,code}]` (aggregates included;
//!   an empty dimension omits the key). At model level Time and Versions are a 400, and so
//!   is a list above 1,000,000 items (Transactions).
//! - `POST` on the model-level forms, `{"names": [...], "codes": [...]}` → the items whose
//!   name or code is one of them, compared without regard to case ([`lookup`]): no JSON
//!   Content-Type, another key, a value that is not an array of strings, or neither array
//!   holding a value is a 400; Time and Versions are a 400 (codes: they have none; names:
//!   model-level calls do not take Time); an unknown model or dimension a 404.
//! - `POST /2/0/models/{m}/modules/{module}/data` with `[{lineItemId|lineItemName,
//!   dimensions:[{dimensionId|dimensionName, itemId|itemName|itemCode}], value}]` →
//!   `{numberOfCellsChanged, failures[{requestIndex, failureType, failureMessageDetails}]}`
//!   (`failures` only when there are some). Refused whole with 400: no JSON Content-Type,
//!   not a JSON array, more than 100,000 cells or a body above 15 MB (15,000,000 bytes,
//!   the stricter reading of Anaplan's unit). Per cell (a failure, the other cells are
//!   written): unknown line item, dimensions that are not exactly the line item's, unknown
//!   item, aggregate item, calculated line item, wrong value type.

use super::Inner;
use super::actions::scope;
use super::api::{find_model, paged};
use super::lists::{DIRECT_READ_ITEMS, DataState, ListState};
use super::seed::*;
use super::util::{Ids, api_error, api_status, envelope};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// Anaplan's limits of one module write.
pub const MAX_CELLS_PER_WRITE: usize = 100_000;
/// Anaplan's "15 MB" at its stricter reading, 15,000,000 bytes (not 15 MiB): the unit is
/// not documented, so the emulator refuses what the smaller reading would, and the client
/// is tested against it.
pub const MAX_WRITE_BYTES: usize = 15_000_000;

/// A line item's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Number,
    Text,
    Boolean,
    Date,
    /// Formatted as an item of that list (by id).
    List(&'static str),
}

impl Format {
    fn word(self) -> &'static str {
        match self {
            Format::Number => "NUMBER",
            Format::Text => "TEXT",
            Format::Boolean => "BOOLEAN",
            Format::Date => "DATE",
            Format::List(_) => "LIST",
        }
    }
}

/// A line item of a writable module.
pub struct LineItem {
    pub id: &'static str,
    pub name: &'static str,
    pub format: Format,
    /// Dimension ids, in the module's order.
    pub dims: &'static [&'static str],
    /// Calculated by a formula: not writable.
    pub calculated: bool,
}

/// The writable modules of a model (only Revenue Plan has one).
pub fn modules_of(model: &str) -> &'static [(&'static str, &'static str)] {
    if model == MODEL_REVENUE_ID { &[(MODULE_SALES_INPUT_ID, MODULE_SALES_INPUT_NAME)] } else { &[] }
}

const P: &str = DIM_PRODUCTS_ID;
const R: &str = DIM_REGIONS_ID;
const T: &str = DIM_TIME_ID;
const V: &str = DIM_VERSIONS_ID;

static SALES_INPUT: [LineItem; 7] = [
    LineItem {
        id: LINE_UNITS_ID,
        name: LINE_UNITS_NAME,
        format: Format::Number,
        dims: &[P, R, T, V],
        calculated: false,
    },
    LineItem { id: LINE_PRICE_ID, name: LINE_PRICE_NAME, format: Format::Number, dims: &[P, T, V], calculated: false },
    LineItem { id: LINE_COMMENT_ID, name: LINE_COMMENT_NAME, format: Format::Text, dims: &[P, R], calculated: false },
    LineItem { id: LINE_ACTIVE_ID, name: LINE_ACTIVE_NAME, format: Format::Boolean, dims: &[P], calculated: false },
    LineItem {
        id: LINE_LAUNCH_DATE_ID,
        name: LINE_LAUNCH_DATE_NAME,
        format: Format::Date,
        dims: &[P],
        calculated: false,
    },
    LineItem {
        id: LINE_LEAD_REGION_ID,
        name: LINE_LEAD_REGION_NAME,
        format: Format::List(DIM_REGIONS_ID),
        dims: &[P],
        calculated: false,
    },
    LineItem {
        id: LINE_TOTAL_UNITS_ID,
        name: LINE_TOTAL_UNITS_NAME,
        format: Format::Number,
        dims: &[P],
        calculated: true,
    },
];

/// The line items of a module with line items (`None`: the module has none defined).
pub fn line_items(model: &str, module: &str) -> Option<&'static [LineItem]> {
    (model == MODEL_REVENUE_ID && module == MODULE_SALES_INPUT_ID).then_some(&SALES_INPUT[..])
}

fn line_item(model: &str, id: &str) -> Option<&'static LineItem> {
    (model == MODEL_REVENUE_ID).then(|| SALES_INPUT.iter().find(|l| l.id == id)).flatten()
}

/// A dimension item as a write or a read sees it.
#[derive(Clone, Debug)]
pub struct DimItem {
    pub id: String,
    pub name: String,
    pub code: String,
    pub aggregate: bool,
}

/// The name of a dimension the writable module uses.
fn dim_name(id: &str) -> Option<&'static str> {
    match id {
        DIM_PRODUCTS_ID => Some(DIM_PRODUCTS_NAME),
        DIM_REGIONS_ID => Some(DIM_REGIONS_NAME),
        DIM_TIME_ID => Some(DIM_TIME_NAME),
        DIM_VERSIONS_ID => Some(DIM_VERSIONS_NAME),
        _ => None,
    }
}

/// The items of a dimension of Revenue Plan: a list's items (top level first, an
/// aggregate), Time's months and FY26, or Versions.
pub fn dim_items(data: &DataState, model: &str, dim: &str) -> Option<Vec<DimItem>> {
    if model != MODEL_REVENUE_ID {
        return None;
    }
    let item = |id: String, name: &str, code: &str, aggregate| DimItem {
        id,
        name: name.to_owned(),
        code: code.to_owned(),
        aggregate,
    };
    match dim {
        DIM_TIME_ID => {
            let mut out: Vec<DimItem> = MONTHS_26
                .iter()
                .enumerate()
                .map(|(i, n)| item((300_000_000_001 + i as u64).to_string(), n, "", false))
                .collect();
            out.push(item(FY26_ID.to_owned(), FY26_NAME, "", true));
            Some(out)
        }
        DIM_VERSIONS_ID => Some(vec![
            item(VERSION_ACTUAL_ID.to_owned(), VERSION_ACTUAL_NAME, "", false),
            item(VERSION_FORECAST_ID.to_owned(), VERSION_FORECAST_NAME, "", false),
        ]),
        _ => {
            let list: &ListState = data.list(dim)?;
            if list.generated {
                return None;
            }
            let mut out = Vec::new();
            if let Some((id, name, code)) = &list.top {
                out.push(item(id.clone(), name, code, true));
            }
            out.extend(list.items.iter().map(|i| item(i.id.clone(), &i.name, &i.code, false)));
            Some(out)
        }
    }
}

/// Every module route; merged into the main router.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/2/0/models/{m}/modules/{module}/lineItems", get(module_line_items))
        .route("/2/0/models/{m}/lineItems", get(model_line_items))
        .route("/2/0/models/{m}/modules/{module}/data", post(write_cells))
        .route("/2/0/models/{m}/lineItems/{li}/dimensions", get(line_item_dimensions))
        .route("/2/0/models/{m}/lineItems/{li}/dimensions/{d}/items", get(line_item_dimension_items))
        .route("/2/0/models/{m}/dimensions/{d}/items", get(dimension_items).post(lookup))
        .route("/2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items", get(ws_dimension_items).post(ws_lookup))
        // Bodies above Anaplan's limits reach the handler, which refuses them in Anaplan's shape.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

fn module_known(inner: &Inner, m: &str, module: &str, path: &str) -> Result<(), Response> {
    let model = find_model(inner, m, path)?;
    let known = model.modules.iter().any(|(id, _)| *id == module) || modules_of(m).iter().any(|(id, _)| *id == module);
    if known { Ok(()) } else { Err(api_status(StatusCode::NOT_FOUND, path)) }
}

/// `GET …/modules/{module}/lineItems[?includeAll=true]`.
async fn module_line_items(
    State(inner): State<Arc<Inner>>,
    Ids((m, module)): Ids<(String, String)>,
    uri: Uri,
) -> Response {
    if let Err(resp) = module_known(&inner, &m, &module, uri.path()) {
        return resp;
    }
    let all = uri.query().unwrap_or("").split('&').any(|p| p.eq_ignore_ascii_case("includeAll=true"));
    let module_name = modules_of(&m).iter().find(|(id, _)| *id == module).map(|(_, n)| *n).unwrap_or_default();
    let items = line_items(&m, &module)
        .unwrap_or(&[])
        .iter()
        .map(|l| {
            let mut o = json!({ "moduleId": module, "moduleName": module_name, "id": l.id, "name": l.name });
            if all {
                o["format"] = json!(l.format.word());
                o["isSummary"] = json!(false);
                o["formula"] = json!(if l.calculated { "SUM(Units)" } else { "" });
            }
            o
        })
        .collect();
    paged(&inner, &uri, "items", "objects/lineItem", items)
}

/// `GET /2/0/models/{m}/lineItems`: every line item of the model's modules, as
/// `{moduleId, moduleName, id, name}`, paged (the description: ids and names only).
async fn model_line_items(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri) -> Response {
    if let Err(resp) = find_model(&inner, &m, uri.path()) {
        return resp;
    }
    let items = modules_of(&m)
        .iter()
        .flat_map(|(module, module_name)| {
            line_items(&m, module)
                .unwrap_or(&[])
                .iter()
                .map(move |l| json!({ "moduleId": module, "moduleName": module_name, "id": l.id, "name": l.name }))
        })
        .collect();
    paged(&inner, &uri, "items", "objects/lineItem", items)
}

/// `GET …/lineItems/{li}/dimensions`.
async fn line_item_dimensions(
    State(inner): State<Arc<Inner>>,
    Ids((m, li)): Ids<(String, String)>,
    uri: Uri,
) -> Response {
    let Some(l) = find_model(&inner, &m, uri.path()).ok().and_then(|_| line_item(&m, &li)) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let dims: Vec<Value> = l.dims.iter().map(|d| json!({ "id": d, "name": dim_name(d).unwrap_or_default() })).collect();
    let mut body = envelope("objects/dimension");
    body.insert("dimensions".into(), Value::Array(dims));
    Json(Value::Object(body)).into_response()
}

fn items_answer(inner: &Inner, m: &str, d: &str, path: &str) -> Response {
    let st = inner.state();
    let Some(items) = dim_items(&st.model_data, m, d) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    dimension_items_answer(items.iter().map(|i| item_json(&i.id, &i.name, &i.code)).collect())
}

/// One dimension item as the description has it: `code` only when the item has one.
pub(super) fn item_json(id: &str, name: &str, code: &str) -> Value {
    let mut o = json!({ "id": id, "name": name });
    if !code.is_empty() {
        o["code"] = json!(code);
    }
    o
}

/// An answer listing dimension items (every form of `…/dimensions/{d}/items`): no `items`
/// key at all when there are none, as the description says.
pub(super) fn dimension_items_answer(items: Vec<Value>) -> Response {
    let mut body = envelope("objects/dimension");
    if !items.is_empty() {
        body.insert("items".into(), Value::Array(items));
    }
    Json(Value::Object(body)).into_response()
}

/// Time and Versions at model level: the description says the dimension "must be a list, a
/// list subset, a line item subset, or the Users dimension", and "calls at model-level do
/// not support the Time dimension" (a 400); Versions is not among the kinds either.
fn not_at_model_level(path: &str) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "Model-level dimension item calls support lists, list subsets, line item subsets and Users",
        path,
    )
}

/// A list of `m` above the 1,000,000 items a dimension item read takes: the description's 400.
fn too_many_items(inner: &Inner, m: &str, d: &str, path: &str) -> Option<Response> {
    let st = inner.state();
    let list = st.model_data.list(d).filter(|_| m == MODEL_REVENUE_ID)?;
    (list.len() + usize::from(list.top.is_some()) > DIRECT_READ_ITEMS).then(|| {
        // Anaplan does not document this message's wording; the client must not need it.
        api_error(StatusCode::BAD_REQUEST, "The dimension holds more than the 1,000,000 items this call reads", path)
    })
}

/// `GET /2/0/models/{m}/dimensions/{d}/items`: a list's items; Time and Versions, which
/// are not lists, and a list above 1,000,000 items are a 400 (the line item and view forms
/// serve Time and Versions).
async fn dimension_items(State(inner): State<Arc<Inner>>, Ids((m, d)): Ids<(String, String)>, uri: Uri) -> Response {
    model_level_items(&inner, &m, &d, uri.path())
}

/// `GET /2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items`: the same, for a model of
/// that workspace (another workspace's model is a 404).
async fn ws_dimension_items(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, d)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    if let Err(resp) = scope(&inner, &ws, &m, uri.path()) {
        return resp;
    }
    model_level_items(&inner, &m, &d, uri.path())
}

fn model_level_items(inner: &Inner, m: &str, d: &str, path: &str) -> Response {
    if let Err(resp) = find_model(inner, m, path) {
        return resp;
    }
    if d == DIM_TIME_ID || d == DIM_VERSIONS_ID {
        return not_at_model_level(path);
    }
    if let Some(resp) = too_many_items(inner, m, d, path) {
        return resp;
    }
    items_answer(inner, m, d, path)
}

/// `POST /2/0/models/{m}/dimensions/{d}/items`: the lookup by names or codes.
async fn lookup(
    State(inner): State<Arc<Inner>>,
    Ids((m, d)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lookup_items(&inner, &m, &d, uri.path(), &headers, &body)
}

/// `POST /2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items`: the same, for a model of
/// that workspace.
async fn ws_lookup(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, d)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(resp) = scope(&inner, &ws, &m, uri.path()) {
        return resp;
    }
    lookup_items(&inner, &m, &d, uri.path(), &headers, &body)
}

/// The lookup's body: `names` and `codes`, each absent or an array of strings, and nothing
/// else (the description's schema has these two properties).
fn lookup_body(headers: &HeaderMap, body: &[u8]) -> Result<(Vec<String>, Vec<String>), &'static str> {
    if !is_json(headers) {
        return Err("Content-Type must be application/json");
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err("Malformed JSON request body: expected an object with names and codes");
    };
    let mut out = (Vec::new(), Vec::new());
    for (key, value) in obj {
        let slot = match key.as_str() {
            "names" => &mut out.0,
            "codes" => &mut out.1,
            _ => return Err("Unrecognized field in the request body: only names and codes are taken"),
        };
        let Value::Array(values) = value else {
            return Err("names and codes must be arrays of strings");
        };
        for v in values {
            let Value::String(s) = v else {
                return Err("names and codes must be arrays of strings");
            };
            slot.push(s);
        }
    }
    if out.0.is_empty() && out.1.is_empty() {
        return Err("The request body must give at least one name or code");
    }
    Ok(out)
}

/// The lookup: an unknown model or dimension is a 404 (before the body is read), a body not
/// as documented a 400; Time and Versions a 400 (codes: they have none; else: model-level
/// calls do not take them). Names and codes compare without regard to case; what matches
/// nothing is left out; the answer is in the dimension's order, `items` omitted when none.
fn lookup_items(inner: &Inner, m: &str, d: &str, path: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Err(resp) = find_model(inner, m, path) {
        return resp;
    }
    let fixed = d == DIM_TIME_ID || d == DIM_VERSIONS_ID;
    let st = inner.state();
    let list = st.model_data.list(d).filter(|_| m == MODEL_REVENUE_ID);
    if list.is_none() && !fixed {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let (names, codes) = match lookup_body(headers, body) {
        Ok(v) => v,
        Err(message) => return api_error(StatusCode::BAD_REQUEST, message, path),
    };
    let Some(list) = list else {
        if !codes.is_empty() {
            return api_error(StatusCode::BAD_REQUEST, "The dimension does not support codes", path);
        }
        return not_at_model_level(path);
    };
    let names: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let codes: HashSet<String> = codes.iter().map(|c| c.to_lowercase()).collect();
    let wanted = |name: &str, code: &str| {
        names.contains(&name.to_lowercase()) || (!code.is_empty() && codes.contains(&code.to_lowercase()))
    };
    let mut found: Vec<Value> = Vec::new();
    let mut push = |id: &str, name: &str, code: &str| {
        if wanted(name, code) {
            found.push(item_json(id, name, code));
        }
    };
    if let Some((id, name, code)) = &list.top {
        push(id, name, code);
    }
    for i in 0..list.len() {
        let item = list.item(i);
        push(&item.id, &item.name, &item.code);
    }
    drop(st);
    dimension_items_answer(found)
}

/// `GET …/lineItems/{li}/dimensions/{d}/items`: only a dimension of that line item.
async fn line_item_dimension_items(
    State(inner): State<Arc<Inner>>,
    Ids((m, li, d)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    match line_item(&m, &li) {
        Some(l) if l.dims.contains(&d.as_str()) => items_answer(&inner, &m, &d, uri.path()),
        _ => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// One refused cell or item: `{requestIndex, failureType, failureMessageDetails}`.
pub(super) fn failure(index: usize, kind: &str, details: String) -> Value {
    json!({ "requestIndex": index, "failureType": kind, "failureMessageDetails": details })
}

/// `POST /2/0/models/{m}/modules/{module}/data`.
async fn write_cells(
    State(inner): State<Arc<Inner>>,
    Ids((m, module)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Err(resp) = module_known(&inner, &m, &module, path) {
        return resp;
    }
    let bad = |msg: &str| api_error(StatusCode::BAD_REQUEST, msg, path);
    if !is_json(&headers) {
        return bad("Content-Type must be application/json");
    }
    if body.len() > MAX_WRITE_BYTES {
        return bad("The request body exceeds the limit of 15 MB (15,000,000 bytes) for this call");
    }
    let Ok(Value::Array(cells)) = serde_json::from_slice::<Value>(&body) else {
        return bad("Malformed JSON request body: expected an array of cells");
    };
    if cells.len() > MAX_CELLS_PER_WRITE {
        return bad(&format!(
            "The request has {} cells, which exceeds the limit of 100,000 cells for this call",
            cells.len()
        ));
    }
    let Some(module_items) = line_items(&m, &module) else {
        // A module without line items defined here cannot take any cell.
        let failures: Vec<Value> = (0..cells.len())
            .map(|i| failure(i, "INVALID_LINE_ITEM", "The line item does not exist in this module".into()))
            .collect();
        return write_answer(0, failures);
    };
    let mut st = inner.state();
    let mut changed = 0usize;
    let mut failures = Vec::new();
    let mut writes = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        match check_cell(&st.model_data, &m, module_items, cell) {
            Ok((key, value)) => {
                writes.push((key, value));
                changed += 1;
            }
            Err((kind, details)) => failures.push(failure(i, kind, details)),
        }
    }
    let data = &mut st.model_data;
    data.cells.extend(writes);
    data.cell_writes.push(cells.len());
    drop(st);
    write_answer(changed, failures)
}

fn write_answer(changed: usize, failures: Vec<Value>) -> Response {
    let mut body: Map<String, Value> = envelope("objects/cellwrite");
    body.insert("numberOfCellsChanged".into(), json!(changed));
    if !failures.is_empty() {
        body.insert("failures".into(), Value::Array(failures));
    }
    Json(Value::Object(body)).into_response()
}

type CellKey = (String, Vec<String>);
type CellError = (&'static str, String);

/// Checks one cell; its key (line item id, item ids in the line item's order) and value.
fn check_cell(data: &DataState, m: &str, items: &[LineItem], cell: &Value) -> Result<(CellKey, String), CellError> {
    let obj = cell.as_object().ok_or(("INVALID_REQUEST", "A cell must be a JSON object".to_owned()))?;
    let li = match (obj.get("lineItemId").and_then(Value::as_str), obj.get("lineItemName").and_then(Value::as_str)) {
        (Some(id), None) => items.iter().find(|l| l.id == id),
        (None, Some(name)) => items.iter().find(|l| l.name == name),
        _ => return Err(("INVALID_REQUEST", "Give exactly one of lineItemId and lineItemName".into())),
    }
    .ok_or(("INVALID_LINE_ITEM", "The line item does not exist in this module".into()))?;
    if li.calculated {
        return Err(("LINE_ITEM_NOT_WRITABLE", format!("Line item {} is calculated and cannot be written", li.name)));
    }
    let dims =
        obj.get("dimensions").and_then(Value::as_array).ok_or(("INVALID_REQUEST", "dimensions is required".into()))?;
    let mut chosen: Vec<Option<String>> = vec![None; li.dims.len()];
    for d in dims {
        let dim_id =
            match (d.get("dimensionId").and_then(Value::as_str), d.get("dimensionName").and_then(Value::as_str)) {
                (Some(id), None) => li.dims.iter().find(|x| **x == id),
                (None, Some(name)) => li.dims.iter().find(|x| dim_name(x) == Some(name)),
                _ => return Err(("INVALID_REQUEST", "Give exactly one of dimensionId and dimensionName".into())),
            }
            .ok_or(("INVALID_DIMENSION", format!("The dimension is not a dimension of line item {}", li.name)))?;
        let slot = li.dims.iter().position(|x| x == dim_id).unwrap_or(0);
        if chosen[slot].is_some() {
            return Err(("INVALID_DIMENSION", format!("Dimension {dim_id} is given twice")));
        }
        let all = dim_items(data, m, dim_id).unwrap_or_default();
        let keys = ["itemId", "itemName", "itemCode"];
        let given: Vec<(&str, &str)> =
            keys.iter().filter_map(|k| d.get(*k).and_then(Value::as_str).map(|v| (*k, v))).collect();
        let [(key, value)] = given.as_slice() else {
            return Err(("INVALID_REQUEST", "Give exactly one of itemId, itemName and itemCode".into()));
        };
        let found = all.iter().find(|i| match *key {
            "itemId" => i.id == *value,
            "itemName" => i.name == *value,
            _ => !i.code.is_empty() && i.code == *value,
        });
        let item = found.ok_or(("INVALID_ITEM", format!("Item {value:?} does not exist in dimension {dim_id}")))?;
        if item.aggregate {
            return Err((
                "AGGREGATE_CELL",
                format!("Item {} is an aggregate; aggregate cells cannot be written", item.name),
            ));
        }
        chosen[slot] = Some(item.id.clone());
    }
    let ids: Vec<String> = chosen
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.ok_or(("INVALID_DIMENSION", format!("Dimension {} is missing", li.dims[i]))))
        .collect::<Result<_, _>>()?;
    let value = obj.get("value").ok_or(("INVALID_VALUE", "value is required".into()))?;
    let text = check_value(data, m, li.format, value).ok_or((
        "INVALID_VALUE",
        format!("The value {value} does not fit line item {} ({})", li.name, li.format.word()),
    ))?;
    Ok(((li.id.to_owned(), ids), text))
}

/// The value as Anaplan would store it, or `None` when it does not fit the format.
fn check_value(data: &DataState, m: &str, format: Format, value: &Value) -> Option<String> {
    match (format, value) {
        (Format::Number, Value::Number(n)) => Some(n.to_string()),
        (Format::Number, Value::String(s)) => {
            s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(|_| s.trim().to_owned())
        }
        (Format::Text, Value::String(s)) => Some(s.clone()),
        (Format::Boolean, Value::Bool(b)) => Some(b.to_string()),
        (Format::Boolean, Value::String(s)) if s == "true" || s == "false" => Some(s.clone()),
        (Format::Date, Value::String(s)) if is_date(s) => Some(s.clone()),
        (Format::List(list), Value::String(s)) => dim_items(data, m, list)?
            .into_iter()
            .find(|i| !i.aggregate && (i.name == *s || i.code == *s))
            .map(|i| i.name),
        _ => None,
    }
}

/// `YYYY-MM-DD` with a real month and day.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse::<u32>().ok())
    };
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(_), Some(mo), Some(d)) => (1..=12).contains(&mo) && (1..=31).contains(&d),
        _ => false,
    }
}
