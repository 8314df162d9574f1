//! `list-items`: reads a list's items (GET, as JSON or as Anaplan's own CSV; lists whose
//! `itemCount` is above 1,000,000 through a large list read request, deleted afterwards)
//! and changes them (POST `action=add|update|upsert|delete`, in batches of at most 100,000
//! items, in order). `upsert` adds the items whose code is new and updates the rest, which
//! is what a sync job needs.

use std::collections::HashSet;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::data_body;
use super::declare::{Answer, Function, Input, Object, Operation, Param, RequestBody, Trigger};
use crate::anaplan::ids::{ListId, ModelId, WorkspaceId};
use crate::anaplan::model_data::{ItemAction, ItemChange, ListRead, MAX_ITEMS_PER_CALL, TooLarge};
use crate::anaplan::{AnaplanError, Client, Listing};
use crate::http::{AppState, Call, ModelRef, Problem};

const FORMAT: Param =
    Param::choice("format", &["json", "csv"], "Format", "GET: json (the default) or csv.").default("json").advanced();

const ACTION: Param = Param::choice(
    "action",
    &["add", "update", "upsert", "delete"],
    "Action",
    "POST: add, update, upsert (add the items whose code is new, update the rest) or delete.",
);

/// The POST body.
pub const BODY: Param = Param::text(
    "body",
    "Items",
    "POST: {\"items\": [{\"code\", \"name\", \"parent\", \"properties\", \"subsets\"}]}; code (or id) is required \
     for update, upsert and delete.",
)
.json_body("ListItemsBody")
.required();

/// `list-items`.
pub const FUNCTION: Function = Function {
    name: "list-items",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Data },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::List),
        Input::Param(FORMAT),
        Input::Param(ACTION),
        Input::Param(BODY),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "GetListItems",
        summary: "Read a list's items",
        description: "Reads every item of an Anaplan list with its code, parent, properties and subsets. Lists above \
                      1,000,000 items are read through a large list read request.",
        important: true,
        consumes: &[],
        produces: &["application/json", "text/csv", "application/problem+json"],
        ok: Answer { description: "The list's items.", schema: "ListItems", array: false },
    }),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// The connector's POST operation on `list-items` (see [`super::openapi`]): its own
/// inputs; the GET operation shows the others.
pub const CHANGE_OPERATION: (Operation, &[Input]) = (
    Operation {
        id: "ChangeListItems",
        summary: "Add, update, upsert or delete list items",
        description: "Changes an Anaplan list's items in batches of at most 100,000, in order. upsert adds the items \
                      whose code is new and updates the rest. Items Anaplan refuses make the action fail (422) with \
                      each one named.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer {
            description: "How many items were added, updated and deleted.",
            schema: "ListItemsChanged",
            array: false,
        },
    },
    &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::List),
        Input::Param(ACTION.required()),
        Input::Param(BODY),
    ],
);

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let (params, mut data) = data_body::split(&call, &["items"]).await?;
    let model = ModelRef::parse(&params)?;
    let list = params.object::<ListId>("list")?;
    let is_post = call.method == Method::POST;
    if is_post && params.get("format").is_some() {
        return Err(Problem::bad_parameter("format is for GET; POST answers with counts"));
    }
    if !is_post && params.get("action").is_some() {
        return Err(Problem::bad_parameter("action is for POST"));
    }
    let change = if is_post {
        let action = params.choice(&ACTION.required())?.unwrap_or("add");
        let items = match data.remove("items") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(Problem::bad_parameter("items must be a JSON array")),
            None => return Err(Problem::bad_parameter("the body needs items (a JSON array)")),
        };
        for (i, item) in items.iter().enumerate() {
            check_item(action, i, item)?;
        }
        Some((action, items))
    } else {
        None
    };
    let csv = params.choice(&FORMAT)? == Some("csv");
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, model).await?;
    let found = state.find(&client, &Listing::Lists(model.clone()), list).await?;
    let list = found.id;
    match change {
        Some((action, items)) => change_items(&client, (&ws, &model, &list), action, items).await,
        None => {
            let name = match found.name {
                Some(n) => n,
                None => state
                    .catalog
                    .name_of(&client, &Listing::Lists(model.clone()), &list)
                    .await
                    .map_err(Problem::from)?
                    .unwrap_or_else(|| list.to_string()),
            };
            read(&client, (&ws, &model, &list), &name, csv).await
        }
    }
}

const FIELDS: [&str; 6] = ["id", "code", "name", "parent", "properties", "subsets"];

/// Checks one item of a change before anything is sent.
fn check_item(action: &str, i: usize, item: &Value) -> Result<(), Problem> {
    let bad = |what: String| Problem::bad_parameter(format!("items[{i}]: {what}"));
    let obj = item.as_object().ok_or_else(|| bad("must be a JSON object".into()))?;
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(format!("unknown field {k:?}; an item has {}", FIELDS.join(", "))));
    }
    let text = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.as_str())),
        Some(Value::Number(_)) if k == "id" => Ok(Some("")),
        Some(other) => Err(bad(format!("{k} must be non-empty text; got {other}"))),
    };
    let (id, code, name) = (text("id")?, text("code")?, text("name")?);
    text("parent").or_else(|e| if obj.get("parent") == Some(&json!("")) { Ok(None) } else { Err(e) })?;
    match action {
        "add" if name.is_none() => return Err(bad("add needs a name".into())),
        "add" if id.is_some() => return Err(bad("add takes no id (Anaplan gives it)".into())),
        "update" | "upsert" | "delete" if code.is_none() && id.is_none() => {
            return Err(bad(format!("{action} needs a code (or an id)")));
        }
        _ => {}
    }
    if let Some(p) = obj.get("properties").filter(|p| !p.is_null()) {
        let ok = p.as_object().is_some_and(|m| m.values().all(|v| !v.is_array() && !v.is_object()));
        if !ok {
            return Err(bad("properties must be an object of property names to values".into()));
        }
    }
    if let Some(s) = obj.get("subsets").filter(|s| !s.is_null())
        && !s.as_object().is_some_and(|m| m.values().all(Value::is_boolean))
    {
        return Err(bad("subsets must be an object of subset names to true or false".into()));
    }
    Ok(())
}

type ListScope<'a> = (&'a WorkspaceId, &'a ModelId, &'a ListId);

/// The item as sent to Anaplan: only the fields it has, nulls dropped.
fn outgoing(item: &Value, action: ItemAction) -> Value {
    let mut out = Map::new();
    if let Some(obj) = item.as_object() {
        for (k, v) in obj {
            if v.is_null() {
                continue;
            }
            let keep = match action {
                ItemAction::Delete => k == "id" || (k == "code" && !obj.contains_key("id")),
                ItemAction::Add => k != "id",
                ItemAction::Update => true,
            };
            if keep {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// Totals over the batches.
#[derive(Default)]
struct Totals {
    added: usize,
    updated: usize,
    deleted: usize,
    ignored: usize,
    failures: Vec<Value>,
    batches: usize,
}

impl Totals {
    fn take(&mut self, answer: ItemChange, sent: &[usize], items: &[Value]) {
        self.added += answer.added;
        self.updated += answer.updated;
        self.deleted += answer.deleted;
        self.ignored += answer.ignored;
        for f in answer.failures {
            let index = sent.get(f.request_index).copied();
            let code = index.and_then(|i| items[i].get("code")).cloned().unwrap_or(Value::Null);
            self.failures.push(json!({ "index": index, "code": code, "reason": f.reason() }));
        }
    }
}

async fn send(
    client: &Client,
    (ws, model, list): ListScope<'_>,
    action: ItemAction,
    items: &[Value],
    sent: &[usize],
    totals: &mut Totals,
) -> Result<(), Problem> {
    if sent.is_empty() {
        return Ok(());
    }
    let batch: Vec<Value> = sent.iter().map(|&i| outgoing(&items[i], action)).collect();
    let body = serde_json::to_vec(&json!({ "items": batch })).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
    drop(batch);
    let answer = client.change_list_items(ws, model, list, action, bytes::Bytes::from(body)).await.map_err(|e| {
        Problem::from(e)
            .with("added", json!(totals.added))
            .with("updated", json!(totals.updated))
            .with("deleted", json!(totals.deleted))
    })?;
    totals.batches += 1;
    totals.take(answer, sent, items);
    Ok(())
}

async fn change_items(
    client: &Client,
    scope: ListScope<'_>,
    action: &str,
    items: Vec<Value>,
) -> Result<Response, Problem> {
    let mut totals = Totals::default();
    // upsert needs the codes the list has; a code added by an earlier item of this
    // request is an update the next time it appears.
    let mut existing: HashSet<String> = HashSet::new();
    if action == "upsert" {
        existing = current_codes(client, scope).await?;
        // A new code is an add, which needs a name: refuse before anything is sent (a
        // code repeated later in the request is an update by then).
        let mut seen: HashSet<&str> = HashSet::new();
        let nameless = items.iter().position(|i| {
            let code = i.get("code").and_then(Value::as_str).filter(|_| i.get("id").is_none());
            let named = i.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
            match code {
                Some(c) if !existing.contains(c) && seen.insert(c) => !named,
                _ => false,
            }
        });
        if let Some(i) = nameless {
            return Err(Problem::bad_parameter(format!(
                "items[{i}]: its code is new to the list, so upsert adds it, which needs a name"
            )));
        }
    }
    let indexes: Vec<usize> = (0..items.len()).collect();
    for chunk in indexes.chunks(MAX_ITEMS_PER_CALL) {
        match action {
            "add" => send(client, scope, ItemAction::Add, &items, chunk, &mut totals).await?,
            "update" => send(client, scope, ItemAction::Update, &items, chunk, &mut totals).await?,
            "delete" => send(client, scope, ItemAction::Delete, &items, chunk, &mut totals).await?,
            _ => {
                let (mut adds, mut updates) = (Vec::new(), Vec::new());
                for &i in chunk {
                    let code = items[i].get("code").and_then(Value::as_str);
                    match code {
                        Some(c) if items[i].get("id").is_none() && !existing.contains(c) => {
                            existing.insert(c.to_owned());
                            adds.push(i);
                        }
                        _ => updates.push(i),
                    }
                }
                send(client, scope, ItemAction::Add, &items, &adds, &mut totals).await?;
                send(client, scope, ItemAction::Update, &items, &updates, &mut totals).await?;
            }
        }
    }
    let Totals { added, updated, deleted, ignored, failures, batches } = totals;
    tracing::info!(action, items = items.len(), batches, "list items changed");
    let mut body = Map::new();
    for (k, v) in
        [("added", added), ("updated", updated), ("deleted", deleted), ("ignored", ignored), ("total", items.len())]
    {
        body.insert(k.into(), json!(v));
    }
    if failures.is_empty() {
        body.insert("failures".into(), json!([]));
        return Ok(json_response(Value::Object(body).to_string().into_bytes(), "application/json"));
    }
    let detail = format!(
        "Anaplan refused {} of the {} items; the first: index {}, code {}: {}",
        failures.len(),
        items.len(),
        failures[0]["index"],
        failures[0]["code"],
        failures[0]["reason"].as_str().unwrap_or("")
    );
    let mut p =
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "items-refused", "Anaplan refused some list items", detail);
    for (k, v) in body {
        p = p.with(&k, v);
    }
    Err(p.with("failures", Value::Array(failures)))
}

async fn current_codes(client: &Client, (ws, model, list): ListScope<'_>) -> Result<HashSet<String>, Problem> {
    Ok(match client.list_items(ws, model, list).await? {
        ListRead::Direct(items) => {
            items.iter().filter_map(|i| i.get("code").and_then(Value::as_str)).map(str::to_owned).collect()
        }
        ListRead::Large(why) => {
            log_large(&why);
            let (csv, _) = client.large_list_read_csv(ws, model, list).await?;
            items_from_csv(&csv)?.iter().filter_map(|i| i["code"].as_str()).map(str::to_owned).collect()
        }
    })
}

/// Items from a large list read's CSV: `id`, `name`, `code`, `parent` columns (any case),
/// every other column a property.
fn items_from_csv(csv_text: &str) -> Result<Vec<Value>, Problem> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv_text.as_bytes());
    let headers =
        reader.headers().map_err(|e| AnaplanError::Protocol(format!("the list's CSV could not be read: {e}")))?.clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| AnaplanError::Protocol(format!("the list's CSV could not be read: {e}")))?;
        let mut item = json!({ "id": "", "name": "", "code": "", "parent": "", "properties": {}, "subsets": {} });
        for (h, v) in headers.iter().zip(record.iter()) {
            match h.to_ascii_lowercase().as_str() {
                key @ ("id" | "name" | "code" | "parent") => item[key] = json!(v),
                _ => item["properties"][h] = json!(v),
            }
        }
        out.push(item);
    }
    Ok(out)
}

/// An item in the answer's shape.
fn shaped(item: &Value) -> Value {
    let text = |k: &str| match item.get(k) {
        Some(Value::String(s)) => json!(s),
        Some(Value::Number(n)) => json!(n.to_string()),
        _ => json!(""),
    };
    let object = |k: &str| item.get(k).filter(|v| v.is_object()).cloned().unwrap_or_else(|| json!({}));
    json!({
        "id": text("id"),
        "name": text("name"),
        "code": text("code"),
        "parent": text("parent"),
        "properties": object("properties"),
        "subsets": object("subsets"),
    })
}

/// Why a list goes through a large list read, in the log.
fn log_large(why: &TooLarge) {
    match why {
        TooLarge::ItemCount(n) => tracing::info!(items = n, "the list is above the direct-read limit"),
        TooLarge::Refused(message) => {
            tracing::info!(anaplan = %message, "no itemCount, and Anaplan refused a direct read: reading it whole")
        }
    }
}

async fn read(client: &Client, scope: ListScope<'_>, name: &str, csv: bool) -> Result<Response, Problem> {
    let (ws, model, list) = scope;
    if csv {
        // Anaplan's own CSV, passed on unchanged: every column it gives (parentId, listId,
        // listName, subsets, properties), none rebuilt here.
        let text = match client.list_items_csv(ws, model, list).await? {
            ListRead::Direct(text) => text,
            ListRead::Large(why) => {
                log_large(&why);
                let (text, pages) = client.large_list_read_csv(ws, model, list).await?;
                tracing::info!(pages, bytes = text.len(), "list read through a large list read request");
                text
            }
        };
        return Ok(json_response(text.into_bytes(), "text/csv; charset=utf-8"));
    }
    let items: Vec<Value> = match client.list_items(ws, model, list).await? {
        ListRead::Direct(items) => items.iter().map(shaped).collect(),
        ListRead::Large(why) => {
            log_large(&why);
            let (text, pages) = client.large_list_read_csv(ws, model, list).await?;
            tracing::info!(pages, bytes = text.len(), "list read through a large list read request");
            items_from_csv(&text)?
        }
    };
    let body = json!({ "list": { "id": list.as_str(), "name": name }, "items": items });
    Ok(json_response(body.to_string().into_bytes(), "application/json"))
}

fn json_response(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
