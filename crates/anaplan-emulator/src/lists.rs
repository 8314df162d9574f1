//! Lists (reference "More APIs" §3): metadata, items, item changes and large list reads,
//! with the state module writes and list changes land in ([`DataState`]).
//!
//! - `GET /2/0/models/{m}/lists` → `lists[{id,name}]`; `GET /2/0/models/{m}/lists/{l}` →
//!   `metadata{id,name,properties[],subsets[],itemCount,…}` (`itemCount` counts the top
//!   level item, as the description says).
//! - `POST …/lists/{l}/resetIndex` → 200, no body ([`reset_index`]): 400 with the
//!   description's message for a list that holds items or a non-production list of a
//!   deployed model.
//! - `GET /2/0/workspaces/{ws}/models/{m}/lists/{l}/items[?includeAll=true]` → `listItems`
//!   (`id,name,code,parent,parentId,listId,listName,subsets{},properties{}` with
//!   includeAll; `id,name,code` without). Above 1,000,000 items → 400 (its wording is not
//!   Anaplan's, which is undocumented). An empty list omits the key. `Accept: text/csv`
//!   answers CSV ([`items_csv`]); an `Accept` it serves neither way is a 406.
//! - `POST …/items?action=add` `{"items":[{name,code,parent,properties,subsets}]}` →
//!   `{added,ignored,total,failures?}`; `?action=delete` `{"items":[{id}|{code}]}` →
//!   `{deleted,failures?}`; `PUT …/items` `{"items":[{id|code|name,…}]}` →
//!   `{updated,ignored,total,failures?}`. More than 100,000 items, no JSON Content-Type, no
//!   `items` array, another `action` → 400. Failures are
//!   `{requestIndex,failureType,failureMessageDetails}`; the other items are changed.
//! - `POST …/lists/{l}/readRequests` → `listReadRequest{requestId,requestState,url,
//!   availablePages,successful}` (IN_PROGRESS for the first status poll, then COMPLETE);
//!   `GET …/readRequests/{id}`, `GET …/readRequests/{id}/pages/{n}` (CSV, each page with
//!   its header line), `DELETE …/readRequests/{id}`.
//!
//! "Transactions" is generated on demand and read-only here (changes → 400).

use super::Inner;
use super::actions::scope;
use super::api::{find_model, paged};
use super::model_data::{failure, is_json};
use super::seed::*;
use super::util::{Ids, api_error, api_status, envelope, push_csv_line, upper_hex_id};
use super::views::csv_response;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Anaplan's limits: items per change call, items per direct read.
pub const MAX_ITEMS_PER_CALL: usize = 100_000;
pub const DIRECT_READ_ITEMS: usize = 1_000_000;

/// One list item.
#[derive(Clone, Debug)]
pub struct ListItem {
    pub id: String,
    pub name: String,
    pub code: String,
    /// The parent's name ("" at the top).
    pub parent: String,
    pub properties: BTreeMap<String, String>,
    pub subsets: BTreeMap<String, bool>,
}

/// One list of Revenue Plan.
pub struct ListState {
    pub id: &'static str,
    pub name: &'static str,
    /// Top level (id, name, code): an aggregate item, every item's default parent.
    pub top: Option<(String, String, String)>,
    pub items: Vec<ListItem>,
    pub properties: Vec<&'static str>,
    pub subsets: Vec<&'static str>,
    /// Items generated on demand (Transactions): `items` stays empty.
    pub generated: bool,
    next_id: u64,
    /// The id an item added after an index reset gets (the index counter at 1).
    first_id: u64,
}

impl ListState {
    /// Number of items.
    pub fn len(&self) -> usize {
        if self.generated { TRANSACTIONS_COUNT } else { self.items.len() }
    }

    /// Item `i`, generated or stored.
    pub(super) fn item(&self, i: usize) -> ListItem {
        if self.generated {
            let code = transaction_code(i);
            ListItem {
                id: (250_000_000_001 + i as u64).to_string(),
                name: code.clone(),
                code,
                parent: String::new(),
                properties: BTreeMap::new(),
                subsets: BTreeMap::new(),
            }
        } else {
            self.items[i].clone()
        }
    }
}

/// A large list read request.
pub struct ListRead {
    list_id: String,
    model_id: String,
    polls: u32,
}

/// What the transactional API changes: lists, module cells, and logs of both.
pub struct DataState {
    pub lists: Vec<ListState>,
    /// (line item id, item ids in the line item's dimension order) → value.
    pub cells: HashMap<(String, Vec<String>), String>,
    /// Cells in each module write call, in order.
    pub cell_writes: Vec<usize>,
    /// (action, items) of each list change call, in order.
    pub list_changes: Vec<(String, usize)>,
    pub list_reads: HashMap<String, ListRead>,
    pub list_reads_created: usize,
}

fn seeded(
    id: &'static str,
    name: &'static str,
    top: (&str, &str, &str),
    first_id: u64,
    items: Vec<(String, String, BTreeMap<String, String>)>,
) -> ListState {
    let n = items.len() as u64;
    ListState {
        id,
        name,
        top: Some((top.0.to_owned(), top.1.to_owned(), top.2.to_owned())),
        items: items
            .into_iter()
            .enumerate()
            .map(|(i, (code, name, properties))| ListItem {
                id: (first_id + i as u64).to_string(),
                name,
                code,
                parent: top.1.to_owned(),
                properties,
                subsets: BTreeMap::new(),
            })
            .collect(),
        properties: Vec::new(),
        subsets: Vec::new(),
        generated: false,
        next_id: first_id + n,
        first_id,
    }
}

impl Default for DataState {
    fn default() -> Self {
        let plain = |codes: &[&str], names: &[&str]| -> Vec<(String, String, BTreeMap<String, String>)> {
            codes.iter().zip(names).map(|(c, n)| ((*c).to_owned(), (*n).to_owned(), BTreeMap::new())).collect()
        };
        let products = seeded(
            DIM_PRODUCTS_ID,
            DIM_PRODUCTS_NAME,
            ("201000000000", "All Products", ""),
            201_000_000_001,
            plain(&PRODUCT_CODES, &PRODUCTS),
        );
        let regions = seeded(
            DIM_REGIONS_ID,
            DIM_REGIONS_NAME,
            ("203000000000", "All Regions", ""),
            203_000_000_001,
            plain(&REGION_CODES, &REGIONS),
        );
        let mut cost_centres = seeded(
            LIST_COST_CENTRES_ID,
            LIST_COST_CENTRES_NAME,
            ("209000000000", COST_CENTRES_TOP_NAME, "TOTAL"),
            209_000_000_001,
            COST_CENTRES
                .iter()
                .map(|(c, n, o)| {
                    ((*c).to_owned(), (*n).to_owned(), BTreeMap::from([("Owner".to_owned(), (*o).to_owned())]))
                })
                .collect(),
        );
        cost_centres.properties = vec!["Owner"];
        cost_centres.subsets = vec!["Active"];
        for item in &mut cost_centres.items {
            item.subsets.insert("Active".into(), true);
        }
        let transactions = ListState {
            id: LIST_TRANSACTIONS_ID,
            name: LIST_TRANSACTIONS_NAME,
            top: None,
            items: Vec::new(),
            properties: Vec::new(),
            subsets: Vec::new(),
            generated: true,
            next_id: 0,
            first_id: 0,
        };
        let retired_codes = seeded(
            LIST_RETIRED_CODES_ID,
            LIST_RETIRED_CODES_NAME,
            ("211000000000", RETIRED_CODES_TOP_NAME, ""),
            211_000_000_001,
            Vec::new(),
        );
        DataState {
            lists: vec![products, regions, cost_centres, transactions, retired_codes],
            cells: HashMap::new(),
            cell_writes: Vec::new(),
            list_changes: Vec::new(),
            list_reads: HashMap::new(),
            list_reads_created: 0,
        }
    }
}

impl DataState {
    /// A list of Revenue Plan by id.
    pub fn list(&self, id: &str) -> Option<&ListState> {
        self.lists.iter().find(|l| l.id == id)
    }

    fn list_mut(&mut self, id: &str) -> Option<&mut ListState> {
        self.lists.iter_mut().find(|l| l.id == id)
    }
}

/// Every list route; merged into the main router.
pub fn routes() -> Router<Arc<Inner>> {
    const L: &str = "/2/0/workspaces/{ws}/models/{m}/lists/{l}";
    Router::new()
        .route("/2/0/models/{m}/lists", get(lists))
        .route("/2/0/models/{m}/lists/{l}", get(list_metadata))
        .route(&format!("{L}/items"), get(read_items).post(change_items).put(update_items))
        .route(&format!("{L}/resetIndex"), axum::routing::post(reset_index))
        .route(&format!("{L}/readRequests"), axum::routing::post(create_read))
        .route(&format!("{L}/readRequests/{{id}}"), get(read_status).delete(delete_read))
        .route(&format!("{L}/readRequests/{{id}}/pages/{{n}}"), get(read_page))
        // Bodies above Anaplan's limits reach the handler, which refuses them in Anaplan's shape.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
}

fn lists_of(model: &str) -> bool {
    model == MODEL_REVENUE_ID
}

/// `GET /2/0/models/{m}/lists`.
async fn lists(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri) -> Response {
    if let Err(resp) = find_model(&inner, &m, uri.path()) {
        return resp;
    }
    let items: Vec<Value> = if lists_of(&m) {
        inner.state().model_data.lists.iter().map(|l| json!({ "id": l.id, "name": l.name })).collect()
    } else {
        Vec::new()
    };
    paged(&inner, &uri, "lists", "objects/list", items)
}

/// `GET /2/0/models/{m}/lists/{l}`.
async fn list_metadata(State(inner): State<Arc<Inner>>, Ids((m, l)): Ids<(String, String)>, uri: Uri) -> Response {
    if let Err(resp) = find_model(&inner, &m, uri.path()) {
        return resp;
    }
    let st = inner.state();
    let Some(list) = st.model_data.list(&l).filter(|_| lists_of(&m)) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let mut body = envelope("objects/list");
    // The description's ListMetadata: entries not set for a list (no top level, the next
    // index of a list that is not numbered) are omitted, never empty or null.
    let mut metadata = json!({
        "id": list.id,
        "name": list.name,
        "hasSelectiveAccess": false,
        "properties": list
            .properties
            .iter()
            .map(|p| json!({ "name": p, "format": "TEXT", "notes": "", "referencedBy": "" }))
            .collect::<Vec<_>>(),
        "subsets": list
            .subsets
            .iter()
            .enumerate()
            .map(|(i, s)| json!({ "id": format!("{}", 110_000_000_001u64 + i as u64), "name": s }))
            .collect::<Vec<_>>(),
        // The description ("Reset the list index"): itemCount counts the top level item.
        "itemCount": list.len() + usize::from(list.top.is_some()),
        "productionData": false,
        "managedBy": "",
        "numberedList": false,
        "useTopLevelAsPageDefault": false,
        "workflowEnabled": false,
        // How many more items the list takes (Anaplan's list limit, 999,999,999).
        "permittedItems": 999_999_999usize.saturating_sub(list.len()),
    });
    if let Some((id, name, _)) = &list.top {
        metadata["topLevelItem"] = json!({ "id": id, "name": name });
    }
    body.insert("metadata".into(), metadata);
    Json(Value::Object(body)).into_response()
}

/// Checks workspace, model and list (404 otherwise).
fn find_list<'a>(
    inner: &Inner,
    st: &'a super::EmulatorState,
    (ws, m, l): &(String, String, String),
    path: &str,
) -> Result<&'a ListState, Response> {
    scope(inner, ws, m, path)?;
    st.model_data.list(l).filter(|_| lists_of(m)).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))
}

fn item_json(list: &ListState, item: &ListItem, all: bool) -> Value {
    let mut o = json!({ "id": item.id, "name": item.name, "code": item.code });
    if all {
        let parent_id = list
            .items
            .iter()
            .find(|i| i.name == item.parent)
            .map(|i| i.id.clone())
            .or_else(|| list.top.as_ref().filter(|t| t.1 == item.parent).map(|t| t.0.clone()));
        o["parent"] = json!(item.parent);
        if let Some(p) = parent_id {
            o["parentId"] = json!(p);
        }
        o["listId"] = json!(list.id);
        o["listName"] = json!(list.name);
        o["subsets"] = json!(item.subsets);
        o["properties"] = json!(item.properties);
    }
    o
}

/// What a list item read answers: JSON (`Accept: application/json`, `*/*` or none) or
/// CSV (`Accept: text/csv`, as Anaplan Connect asks for it).
enum ItemsRepr {
    Json,
    Csv,
}

/// The first media range of `Accept` that a list item read serves; `None` when none is.
fn items_repr(headers: &HeaderMap) -> Option<ItemsRepr> {
    let accept = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    if accept.trim().is_empty() {
        return Some(ItemsRepr::Json);
    }
    accept.split(',').find_map(|range| {
        let media = range.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match media.as_str() {
            "application/json" | "application/*" | "*/*" => Some(ItemsRepr::Json),
            "text/csv" | "text/*" => Some(ItemsRepr::Csv),
            _ => None,
        }
    })
}

/// The items as Anaplan's CSV: the default fields `id,name,code,parent,parentId,listId,
/// listName` (the description's "always display" set), then with `includeAll` one column
/// per subset (`true`/`false`) and one per property, named as in the list. This is the
/// layout of the list item CSVs in Anaplan Connect's own test data; the description
/// documents only the JSON answer.
fn items_csv(list: &ListState, all: bool) -> String {
    let mut out = String::new();
    let mut header = vec!["id", "name", "code", "parent", "parentId", "listId", "listName"];
    if all {
        header.extend(list.subsets.iter().copied());
        header.extend(list.properties.iter().copied());
    }
    push_csv_line(&mut out, header.iter().copied());
    for item in &list.items {
        let full = item_json(list, item, true);
        let text = |k: &str| full.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut fields: Vec<String> =
            ["id", "name", "code", "parent", "parentId", "listId", "listName"].iter().map(|k| text(k)).collect();
        if all {
            fields.extend(list.subsets.iter().map(|s| item.subsets.get(*s).copied().unwrap_or(false).to_string()));
            fields.extend(list.properties.iter().map(|p| item.properties.get(*p).cloned().unwrap_or_default()));
        }
        push_csv_line(&mut out, fields.iter().map(String::as_str));
    }
    out
}

/// `GET …/lists/{l}/items[?includeAll=true]`: JSON, or CSV for `Accept: text/csv`; any
/// other `Accept` is a 406.
async fn read_items(
    State(inner): State<Arc<Inner>>,
    Ids(ids): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let st = inner.state();
    let list = match find_list(&inner, &st, &ids, path) {
        Ok(l) => l,
        Err(resp) => return resp,
    };
    if list.len() > DIRECT_READ_ITEMS {
        return api_error(
            StatusCode::BAD_REQUEST,
            &format!(
                // Anaplan does not document this message's wording; the client must not need it.
                "Request exceeds the limit of 1,000,000 for this call ({} requested). Use a large list read request.",
                list.len()
            ),
            path,
        );
    }
    let all = uri.query().unwrap_or("").split('&').any(|p| p.eq_ignore_ascii_case("includeAll=true"));
    match items_repr(&headers) {
        Some(ItemsRepr::Json) => {}
        Some(ItemsRepr::Csv) => return csv_response(items_csv(list, all)),
        None => return api_status(StatusCode::NOT_ACCEPTABLE, path),
    }
    let mut body = envelope("objects/listItem");
    if list.len() > 0 {
        let items: Vec<Value> = list.items.iter().map(|i| item_json(list, i, all)).collect();
        body.insert("listItems".into(), Value::Array(items));
    }
    Json(Value::Object(body)).into_response()
}

/// The `items` of a change body, after the common checks.
fn change_body(headers: &HeaderMap, body: &[u8], path: &str) -> Result<Vec<Value>, Response> {
    let bad = |msg: &str| api_error(StatusCode::BAD_REQUEST, msg, path);
    if !is_json(headers) {
        return Err(bad("Content-Type must be application/json"));
    }
    let Ok(Value::Object(mut req)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("Malformed JSON request body"));
    };
    let Some(Value::Array(items)) = req.remove("items") else {
        return Err(bad("Missing parameter [items]"));
    };
    if items.len() > MAX_ITEMS_PER_CALL {
        return Err(bad(&format!(
            "The request has {} items, which exceeds the limit of 100,000 items per call",
            items.len()
        )));
    }
    Ok(items)
}

fn answer(fields: &[(&str, usize)], failures: Vec<Value>) -> Response {
    let mut body: Map<String, Value> = envelope("objects/list");
    for (k, v) in fields {
        body.insert((*k).into(), json!(v));
    }
    if !failures.is_empty() {
        body.insert("failures".into(), Value::Array(failures));
    }
    Json(Value::Object(body)).into_response()
}

/// `POST …/lists/{l}/items?action=add|delete`.
async fn change_items(
    State(inner): State<Arc<Inner>>,
    Ids(ids): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let action = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.into_owned());
    let mut st = inner.state();
    if let Err(resp) = find_list(&inner, &st, &ids, path) {
        return resp;
    }
    let items = match change_body(&headers, &body, path) {
        Ok(items) => items,
        Err(resp) => return resp,
    };
    let data = &mut st.model_data;
    let Some(list) = data.list_mut(&ids.2) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    if list.generated {
        return api_error(StatusCode::BAD_REQUEST, "This list is read-only in the emulator", path);
    }
    let response = match action.as_deref() {
        Some("add") => {
            let mut failures = Vec::new();
            let mut added = 0;
            // Indexes of names and codes, so a 100,000-item call stays linear.
            let mut taken: (HashSet<String>, HashSet<String>) = (
                list.items.iter().map(|i| i.name.clone()).collect(),
                list.items.iter().filter(|i| !i.code.is_empty()).map(|i| i.code.clone()).collect(),
            );
            for (i, item) in items.iter().enumerate() {
                match add_one(list, item, &mut taken) {
                    Ok(()) => added += 1,
                    Err((kind, details)) => failures.push(failure(i, kind, details)),
                }
            }
            answer(&[("added", added), ("ignored", failures.len()), ("total", items.len())], failures)
        }
        Some("delete") => {
            let mut failures = Vec::new();
            let mut deleted = 0;
            for (i, item) in items.iter().enumerate() {
                let pos = item_position(list, item, &["id", "code"]);
                match pos {
                    Ok(p) => {
                        list.items.remove(p);
                        deleted += 1;
                    }
                    Err((kind, details)) => failures.push(failure(i, kind, details)),
                }
            }
            answer(&[("deleted", deleted)], failures)
        }
        _ => return api_error(StatusCode::BAD_REQUEST, "Invalid value for parameter [action]", path),
    };
    data.list_changes.push((action.unwrap_or_default(), items.len()));
    response
}

/// The description's two 400s of a reset (each its own message; the description gives both).
const RESET_HOLDS_ITEMS: &str = "We can't reset the list item index of a list that contains data. Select an empty \
                                 list that doesn't contain any list items.";
const RESET_NOT_PRODUCTION: &str =
    "We cannot reset a list if the list is not production data and the model is in deployed mode.";

/// `POST …/lists/{l}/resetIndex` (no body; 200 with none). The caller must be a workspace
/// administrator (403 otherwise, as the emulator's other Workspace Administrator operations),
/// the model writable (423 locked, 422 archived), the list empty but for its top level item
/// (400), and not a non-production list of a deployed model (400; no seeded list is
/// production data). The next item added gets the list's first id again.
async fn reset_index(
    State(inner): State<Arc<Inner>>,
    Ids(ids): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if super::auth::token_user(&inner, &headers) != Some(0) {
        return api_status(StatusCode::FORBIDDEN, path);
    }
    let mut st = inner.state();
    if let Err(resp) = find_list(&inner, &st, &ids, path) {
        return resp;
    }
    let Ok(model) = find_model(&inner, &ids.1, path) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    let state = super::tasks::active_state(&st, model);
    if let Some(refusal) = super::tasks::state_refusal(&state, true, path) {
        return refusal;
    }
    let Some(list) = st.model_data.list_mut(&ids.2) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    if list.len() > 0 {
        return api_error(StatusCode::BAD_REQUEST, RESET_HOLDS_ITEMS, path);
    }
    if state == "PRODUCTION" {
        return api_error(StatusCode::BAD_REQUEST, RESET_NOT_PRODUCTION, path);
    }
    list.next_id = list.first_id;
    StatusCode::OK.into_response()
}

/// `PUT …/lists/{l}/items`.
async fn update_items(
    State(inner): State<Arc<Inner>>,
    Ids(ids): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let mut st = inner.state();
    if let Err(resp) = find_list(&inner, &st, &ids, path) {
        return resp;
    }
    let items = match change_body(&headers, &body, path) {
        Ok(items) => items,
        Err(resp) => return resp,
    };
    let data = &mut st.model_data;
    let Some(list) = data.list_mut(&ids.2) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    if list.generated {
        return api_error(StatusCode::BAD_REQUEST, "This list is read-only in the emulator", path);
    }
    let mut failures = Vec::new();
    let mut updated = 0;
    for (i, item) in items.iter().enumerate() {
        match update_one(list, item) {
            Ok(()) => updated += 1,
            Err((kind, details)) => failures.push(failure(i, kind, details)),
        }
    }
    let resp = answer(&[("updated", updated), ("ignored", failures.len()), ("total", items.len())], failures);
    data.list_changes.push(("update".into(), items.len()));
    resp
}

type ItemError = (&'static str, String);

/// The item an entry names by the first of `keys` it has (id, then code, then name).
fn item_position(list: &ListState, item: &Value, keys: &[&str]) -> Result<usize, ItemError> {
    for key in keys {
        if let Some(v) = item.get(*key) {
            let v = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            return list
                .items
                .iter()
                .position(|i| match *key {
                    "id" => i.id == v,
                    "code" => !i.code.is_empty() && i.code == v,
                    _ => i.name == v,
                })
                .ok_or(("ITEM_NOT_FOUND", format!("No item with {key} {v:?}")));
        }
    }
    Err(("INVALID_REQUEST", format!("An item needs one of {}", keys.join(", "))))
}

/// Applies parent, properties and subsets of `item` to `target`.
fn apply(list: &ListState, target: &mut ListItem, item: &Value) -> Result<(), ItemError> {
    if let Some(p) = item.get("parent") {
        let p = p.as_str().ok_or(("INVALID_PARENT", "parent must be text".into()))?;
        let known = p.is_empty()
            || list.top.as_ref().is_some_and(|t| t.1 == p || t.2 == p)
            || list.items.iter().any(|i| i.name == p || (!i.code.is_empty() && i.code == p));
        if !known {
            return Err(("INVALID_PARENT", format!("Parent {p:?} does not exist")));
        }
        let name = list.items.iter().find(|i| i.code == p).map(|i| i.name.clone());
        target.parent =
            name.or_else(|| list.top.as_ref().filter(|t| t.2 == p).map(|t| t.1.clone())).unwrap_or(p.into());
    }
    if let Some(props) = item.get("properties") {
        let props = props.as_object().ok_or(("INVALID_PROPERTY", "properties must be an object".into()))?;
        for (k, v) in props {
            if !list.properties.contains(&k.as_str()) {
                return Err(("INVALID_PROPERTY", format!("Property {k:?} does not exist in the list")));
            }
            target.properties.insert(k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
        }
    }
    if let Some(subsets) = item.get("subsets") {
        let subsets = subsets.as_object().ok_or(("INVALID_SUBSET", "subsets must be an object".into()))?;
        for (k, v) in subsets {
            if !list.subsets.contains(&k.as_str()) {
                return Err(("INVALID_SUBSET", format!("Subset {k:?} does not exist in the list")));
            }
            let b = v.as_bool().ok_or(("INVALID_SUBSET", format!("Subset {k:?} must be true or false")))?;
            target.subsets.insert(k.clone(), b);
        }
    }
    Ok(())
}

fn add_one(
    list: &mut ListState,
    item: &Value,
    taken: &mut (HashSet<String>, HashSet<String>),
) -> Result<(), ItemError> {
    let name = item.get("name").and_then(Value::as_str).filter(|n| !n.is_empty());
    let name = name.ok_or(("INVALID_NAME", "name is required".into()))?.to_owned();
    let code = item.get("code").and_then(Value::as_str).unwrap_or("").to_owned();
    if taken.0.contains(&name) {
        return Err(("DUPLICATE_NAME", format!("An item named {name:?} already exists")));
    }
    if !code.is_empty() && taken.1.contains(&code) {
        return Err(("DUPLICATE_CODE", format!("An item with code {code:?} already exists")));
    }
    let parent = list.top.as_ref().map(|t| t.1.clone()).unwrap_or_default();
    let mut new = ListItem {
        id: list.next_id.to_string(),
        name,
        code,
        parent,
        properties: BTreeMap::new(),
        subsets: BTreeMap::new(),
    };
    apply(list, &mut new, item)?;
    taken.0.insert(new.name.clone());
    if !new.code.is_empty() {
        taken.1.insert(new.code.clone());
    }
    list.next_id += 1;
    list.items.push(new);
    Ok(())
}

fn update_one(list: &mut ListState, item: &Value) -> Result<(), ItemError> {
    let pos = item_position(list, item, &["id", "code", "name"])?;
    let mut target = list.items[pos].clone();
    // Fields besides the identifier are new values (the identifier is id, else code).
    if (item.get("id").is_some() || item.get("code").is_some())
        && let Some(n) = item.get("name").and_then(Value::as_str)
    {
        if list.items.iter().enumerate().any(|(j, i)| j != pos && i.name == n) {
            return Err(("DUPLICATE_NAME", format!("An item named {n:?} already exists")));
        }
        target.name = n.to_owned();
    }
    apply(list, &mut target, item)?;
    list.items[pos] = target;
    Ok(())
}

// ------------------------------------------------------------- large list reads

fn read_json(inner: &Inner, (ws, m, l): &(String, String, String), id: &str, r: &ListRead, total: usize) -> Response {
    let complete = r.polls >= 2;
    let pages = total.div_ceil(LIST_READ_PAGE_ITEMS).max(1);
    let mut body = envelope("objects/listReadRequest");
    body.insert(
        "listReadRequest".into(),
        json!({
            "requestId": id,
            "requestState": if complete { "COMPLETE" } else { "IN_PROGRESS" },
            "url": format!("{}/2/0/workspaces/{ws}/models/{m}/lists/{l}/readRequests/{id}", inner.base_url),
            "availablePages": if complete { pages } else { 0 },
            "successful": complete,
        }),
    );
    Json(Value::Object(body)).into_response()
}

/// `POST …/lists/{l}/readRequests`.
async fn create_read(State(inner): State<Arc<Inner>>, Ids(ids): Ids<(String, String, String)>, uri: Uri) -> Response {
    let mut st = inner.state();
    let total = match find_list(&inner, &st, &ids, uri.path()) {
        Ok(l) => l.len(),
        Err(resp) => return resp,
    };
    let id = upper_hex_id();
    let r = ListRead { list_id: ids.2.clone(), model_id: ids.1.clone(), polls: 0 };
    let resp = read_json(&inner, &ids, &id, &r, total);
    st.model_data.list_reads.insert(id, r);
    st.model_data.list_reads_created += 1;
    resp
}

type ReadIds = (String, String, String, String);

fn read_of<'a>(st: &'a mut super::EmulatorState, (_, m, l, id): &ReadIds) -> Option<&'a mut ListRead> {
    st.model_data.list_reads.get_mut(id).filter(|r| r.list_id == *l && r.model_id == *m)
}

/// `GET …/readRequests/{id}`.
async fn read_status(State(inner): State<Arc<Inner>>, Ids(ids): Ids<ReadIds>, uri: Uri) -> Response {
    let parent = (ids.0.clone(), ids.1.clone(), ids.2.clone());
    let mut st = inner.state();
    let total = match find_list(&inner, &st, &parent, uri.path()) {
        Ok(l) => l.len(),
        Err(resp) => return resp,
    };
    let Some(r) = read_of(&mut st, &ids) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    r.polls += 1;
    read_json(&inner, &parent, &ids.3, r, total)
}

/// `DELETE …/readRequests/{id}`.
async fn delete_read(State(inner): State<Arc<Inner>>, Ids(ids): Ids<ReadIds>, uri: Uri) -> Response {
    let mut st = inner.state();
    if read_of(&mut st, &ids).is_none() {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    st.model_data.list_reads.remove(&ids.3);
    let mut body = envelope("objects/listReadRequest");
    body.insert("listReadRequest".into(), json!({ "requestId": ids.3, "requestState": "CANCELLED" }));
    Json(Value::Object(body)).into_response()
}

/// `GET …/readRequests/{id}/pages/{n}`: CSV `id,name,code,parent` + properties.
async fn read_page(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, l, id, n)): Ids<(String, String, String, String, usize)>,
    uri: Uri,
) -> Response {
    let ids = (ws, m, l, id);
    let mut st = inner.state();
    let complete = read_of(&mut st, &ids).map(|r| r.polls >= 2);
    let Some(list) = st.model_data.list(&ids.2) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let start = n.saturating_mul(LIST_READ_PAGE_ITEMS);
    if complete != Some(true) || (start >= list.len() && n > 0) {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    let end = (start + LIST_READ_PAGE_ITEMS).min(list.len());
    let mut out = String::with_capacity((end - start) * 40);
    let mut header = vec!["id", "name", "code", "parent"];
    header.extend(list.properties.iter().copied());
    push_csv_line(&mut out, header.iter().copied());
    for i in start..end {
        let item = list.item(i);
        let mut fields = vec![item.id.clone(), item.name.clone(), item.code.clone(), item.parent.clone()];
        fields.extend(list.properties.iter().map(|p| item.properties.get(*p).cloned().unwrap_or_default()));
        push_csv_line(&mut out, fields.iter().map(String::as_str));
    }
    csv_response(out)
}

/// A list item as tests see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub parent: String,
    pub properties: BTreeMap<String, String>,
    pub subsets: BTreeMap<String, bool>,
}

impl ItemView {
    pub(super) fn of(i: &ListItem) -> ItemView {
        ItemView {
            id: i.id.clone(),
            code: i.code.clone(),
            name: i.name.clone(),
            parent: i.parent.clone(),
            properties: i.properties.clone(),
            subsets: i.subsets.clone(),
        }
    }
}
