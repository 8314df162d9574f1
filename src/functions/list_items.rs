//! `list-items`: reads a list's items (GET, as JSON or as Anaplan's own CSV; lists whose
//! `itemCount` is above 1,000,000 through a large list read request, deleted afterwards)
//! and changes them (POST `action=add|update|upsert|delete`, in batches of at most 100,000
//! items, in order). `upsert` adds the items whose code is new and updates the rest, which
//! is what a sync job needs. POST `action=resetIndex` (no items) resets an empty list's index
//! counter to 1; a list that holds items is a 409 naming how many, decided from the list's
//! documented `itemCount` (which counts the top level item) before Anaplan is asked, since
//! Anaplan's own refusal is a 400 told apart from its other 400 only by its wording.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::http::{AppState, Call, ModelRef, Problem, ProblemType, off_runtime};
use crate::machinery::data_body::{self, Body, DataKey, ItemIn, Items, Text, write_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with, schema_ref};
use anaplan::ids::{ListId, ModelId, WorkspaceId};
use anaplan::model_data::{ItemAction, ItemChange, ListRead, MAX_ITEMS_PER_CALL, TooLarge};
use anaplan::untrusted::quote;
use anaplan::{AnaplanError, Client, Listing};

const FORMAT: Param =
    Param::choice("format", &["json", "csv"], "Format", "GET: json (the default) or csv.").default("json").advanced();

const ACTION: Param = Param::choice(
    "action",
    &["add", "update", "upsert", "delete", "resetIndex"],
    "Action",
    "POST: add, update, upsert (add the items whose code is new, update the rest), delete, or resetIndex (reset an \
     empty list's index counter to 1; no items).",
);

/// The POST body.
pub const BODY: Param = Param::text(
    "body",
    "Items",
    "POST: {\"items\": [{\"code\", \"name\", \"parent\", \"properties\", \"subsets\"}]}; code (or id) is required \
     for update, upsert and delete; none for resetIndex.",
)
.json_body("ListItemsBody");

/// `list-items`.
pub const FUNCTION: Function = Function {
    name: "list-items",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Data },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::List),
        Input::Param(FORMAT),
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
    more_operations: &[CHANGE_OPERATION],
    schemas: &[
        Schema { name: "ListItems", build: list_items_schema },
        Schema { name: "ListItem", build: list_item_schema },
        Schema { name: "ListItemsBody", build: list_items_body_schema },
        Schema { name: "ListItemsChanged", build: list_items_changed_schema },
    ],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `list-items`' POST in the connector: add, update, upsert or delete, with its own inputs
/// (the GET operation has `format`, this one `action` and the body).
pub const CHANGE_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::List),
        Input::Param(ACTION.required()),
        Input::Param(BODY),
    ],
    body: None,
    operation: Operation {
        id: "ChangeListItems",
        summary: "Add, update, upsert or delete list items, or reset a list's index",
        description: "Changes an Anaplan list's items in batches of at most 100,000, in order. upsert adds the items \
                      whose code is new and updates the rest. Items Anaplan refuses make the action fail (422) with \
                      each one named. resetIndex (no items) resets an empty list's index counter to 1; a list that \
                      still holds items is a 409 saying how many.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer {
            description: "How many items were added, updated and deleted.",
            schema: "ListItemsChanged",
            array: false,
        },
    },
    accepted: None,
};

/// `#/definitions/ListItems`: the items, as GET reads them.
fn list_items_schema() -> Value {
    json!({
        "type": "object",
        "description": "A list's items (format=csv gives CSV instead).",
        "properties": {
            "list": prop_with("object", "List", "The list read.", "properties", json!({
                "id": prop("string", "List ID", "The list's id."),
                "name": prop("string", "List name", "The list's name."),
            })),
            "items": prop_with("array", "Items", "Every item of the list.", "items", schema_ref("ListItem")),
        },
    })
}

/// `#/definitions/ListItem`: one item, its fields the list's own (id, code, name, parent,
/// its properties and subsets by name), as `describe` gives them.
fn list_item_schema() -> Value {
    super::describe::dynamic_row(
        "list",
        "An item: id, name, code, parent (empty at the top), the list's properties and whether the item is in each \
         subset (the designer shows them once a list is picked by id).",
    )
}

/// `#/definitions/ListItemsBody`: the body of a POST.
fn list_items_body_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "items": prop_with(
                "array",
                "Items",
                "The items to add, update, upsert or delete: code (required but for add), name (required for \
                 add and for new codes of upsert), parent, properties, subsets; or id instead of code.",
                "items",
                schema_ref("ListItem"),
            ),
        },
    })
}

/// `#/definitions/ListItemsChanged`: what a POST changed.
fn list_items_changed_schema() -> Value {
    json!({
        "type": "object",
        "description": "Every item was changed.",
        "properties": {
            "added": prop("integer", "Added", "Items added."),
            "updated": prop("integer", "Updated", "Items updated."),
            "deleted": prop("integer", "Deleted", "Items deleted."),
            "ignored": prop("integer", "Ignored", "Items Anaplan ignored."),
            "total": prop("integer", "Total", "Items in the request."),
            "failures": prop_with("array", "Failures", "Always empty here; refused items are a 422 problem.", "items",
                json!({ "type": "object", "additionalProperties": true })),
            "indexReset": prop("boolean", "Index reset", "resetIndex: true, the list's index counter is at 1 again."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, mut call: Call) -> Result<Response, Problem> {
    let (params, body) = data_body::split(&mut call, &[DataKey::Items]).await?;
    let model = ModelRef::parse(&params)?;
    let list = params.object::<ListId>("list")?;
    let is_post = call.method == Method::POST;
    if is_post && params.get("format").is_some() {
        return Err(Problem::bad_parameter("format is for GET; POST answers with counts"));
    }
    if !is_post && params.get("action").is_some() {
        return Err(Problem::bad_parameter("action is for POST"));
    }
    let reset = is_post && params.choice(&ACTION.required())? == Some("resetIndex");
    if reset && body.items.is_some() {
        return Err(Problem::bad_parameter("action=resetIndex takes no items: it resets an empty list's index"));
    }
    let change = if is_post && !reset {
        let action = params.choice(&ACTION.required())?.unwrap_or("add");
        let Body { text, keys, items, .. } = body;
        let items = items.ok_or_else(|| Problem::bad_parameter("the body needs items (a JSON array)"))?;
        let request = Arc::new(Request { text, keys, items });
        // Checked whole before anything is sent, off the runtime threads.
        off_runtime({
            let request = request.clone();
            move || request.check(action)
        })
        .await??;
        Some((action, request))
    } else {
        None
    };
    let csv = params.choice(&FORMAT)? == Some("csv");
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, model).await?;
    let found = state.find(&client, &Listing::Lists(model.clone()), list).await?;
    let list = found.id;
    if reset {
        let name = match found.name {
            Some(n) => n,
            None => state
                .catalog
                .name_of(&client, &Listing::Lists(model.clone()), &list)
                .await
                .map_err(Problem::from)?
                .unwrap_or_else(|| list.to_string()),
        };
        return reset_index(&client, (&ws, &model, &list), &name).await;
    }
    match change {
        Some((action, request)) => {
            let change = Change { client: &client, scope: (&ws, &model, &list), request };
            change.run(action).await
        }
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

/// Resets the list's index counter, after checking from its metadata that it holds no items
/// (`itemCount` without the top level item). Anaplan's 400 to the reset itself (a list that
/// gained items meanwhile, or a non-production list of a deployed model) is told apart by
/// reading the metadata again, never by its wording.
async fn reset_index(client: &Client, (ws, model, list): ListScope<'_>, name: &str) -> Result<Response, Problem> {
    let holding = |n: u64| {
        Problem::new(
            ProblemType::ListNotEmpty,
            format!(
                "the list {} holds {n} item{}: Anaplan resets the index of an empty list only (delete its items \
                 first, e.g. with action=delete)",
                quote(name),
                if n == 1 { "" } else { "s" }
            ),
        )
        .with("items", json!(n))
    };
    if let Some(n) = client.list_size(model, list).await?.items().filter(|n| *n > 0) {
        return Err(holding(n));
    }
    match client.reset_list_index(ws, model, list).await {
        Ok(()) => {}
        Err(e @ AnaplanError::Api { status: 400, .. }) => {
            return match client.list_size(model, list).await?.items().filter(|n| *n > 0) {
                Some(n) => Err(holding(n)),
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!("list index reset");
    let body = json!({
        "added": 0, "updated": 0, "deleted": 0, "ignored": 0, "total": 0, "failures": [], "indexReset": true,
    });
    Ok(json_response(body.to_string().into_bytes(), "application/json"))
}

/// The items of a change, as read from the body.
struct Request {
    text: Text,
    keys: Vec<Arc<str>>,
    items: Items,
}

impl Request {
    fn len(&self) -> usize {
        self.items.items.len()
    }

    fn item(&self, i: usize) -> &ItemIn {
        &self.items.items[i]
    }

    fn code(&self, i: usize) -> Option<&str> {
        self.item(i).code.map(|c| self.text.get(c))
    }

    /// Checks every item for `action` before anything is sent (the shape of each was
    /// checked as the body was read).
    fn check(&self, action: &str) -> Result<(), Problem> {
        for (i, item) in self.items.items.iter().enumerate() {
            let bad = |what: &str| Err(Problem::bad_parameter(format!("items[{i}]: {what}")));
            match action {
                "add" if item.name.is_none() => return bad("add needs a name"),
                "add" if item.id.is_some() => return bad("add takes no id (Anaplan gives it)"),
                "update" | "upsert" | "delete" if item.code.is_none() && item.id.is_none() => {
                    return bad(&format!("{action} needs a code (or an id)"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `{"items": [...]}` of the items at `indexes`, each with only the fields `action`
    /// sends (see [`Request::write_item`]).
    fn batch(&self, action: ItemAction, indexes: &[usize]) -> Vec<u8> {
        let mut out = b"{\"items\":[".to_vec();
        for (k, &i) in indexes.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            self.write_item(self.item(i), action, &mut out);
        }
        out.extend_from_slice(b"]}");
        out
    }

    /// The item as sent to Anaplan: only the fields it has; a delete names it by id, else
    /// by code; an add sends no id.
    fn write_item(&self, item: &ItemIn, action: ItemAction, out: &mut Vec<u8>) {
        let text = &self.text;
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &str| {
            out.push(if std::mem::take(&mut first) { b'{' } else { b',' });
            write_json(out, name);
            out.push(b':');
        };
        let delete = action == ItemAction::Delete;
        if let Some(id) = item.id.filter(|_| action != ItemAction::Add) {
            key(out, "id");
            id.write_json(text, out);
        }
        if let Some(code) = item.code.filter(|_| !delete || item.id.is_none()) {
            key(out, "code");
            write_json(out, text.get(code));
        }
        if !delete {
            for (name, v) in [("name", item.name), ("parent", item.parent)] {
                if let Some(v) = v {
                    key(out, name);
                    write_json(out, text.get(v));
                }
            }
            if let Some(given) = item.properties {
                key(out, "properties");
                let mut sep = b'{';
                for (k, v) in &self.items.properties[given.indexes()] {
                    out.push(std::mem::replace(&mut sep, b','));
                    write_json(out, &*self.keys[*k as usize]);
                    out.push(b':');
                    v.write_json(text, out);
                }
                out.extend_from_slice(if sep == b'{' { b"{}" } else { b"}" });
            }
            if let Some(given) = item.subsets {
                key(out, "subsets");
                let mut sep = b'{';
                for (k, v) in &self.items.subsets[given.indexes()] {
                    out.push(std::mem::replace(&mut sep, b','));
                    write_json(out, &*self.keys[*k as usize]);
                    out.extend_from_slice(if *v { b":true" } else { b":false" });
                }
                out.extend_from_slice(if sep == b'{' { b"{}" } else { b"}" });
            }
        }
        if first {
            out.push(b'{');
        }
        out.push(b'}');
    }

    /// Whether the list, as it is now, shows item `i`'s `action` carried out: an added
    /// item is there (by code with its name; by name when it has no code), a deleted one
    /// is gone (by id, else by code).
    fn shows(&self, i: usize, action: ItemAction, list: &Present) -> bool {
        let item = self.item(i);
        let text = &self.text;
        match action {
            ItemAction::Add => {
                let name = item.name.map(|n| text.get(n)).unwrap_or("");
                match self.code(i) {
                    Some(code) => list.codes.get(code).is_some_and(|n| n == name),
                    None => list.names.contains(name),
                }
            }
            ItemAction::Delete => match (item.id, self.code(i)) {
                (Some(id), _) => !list.ids.contains(&*id.to_text(text)),
                (None, Some(code)) => !list.codes.contains_key(code),
                (None, None) => false,
            },
            ItemAction::Update => false,
        }
    }
}

type ListScope<'a> = (&'a WorkspaceId, &'a ModelId, &'a ListId);

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
    fn take(&mut self, answer: ItemChange, sent: &[usize], request: &Request) {
        self.added += answer.added;
        self.updated += answer.updated;
        self.deleted += answer.deleted;
        self.ignored += answer.ignored;
        for f in answer.failures {
            let index = sent.get(f.request_index).copied();
            let code = index.and_then(|i| request.code(i)).map_or(Value::Null, |c| json!(c));
            self.failures.push(json!({ "index": index, "code": code, "reason": f.reason() }));
        }
    }

    /// `n` items of `action` that the list shows carried out, though Anaplan's answer was
    /// lost.
    fn carried_out(&mut self, action: ItemAction, n: usize) {
        match action {
            ItemAction::Add => self.added += n,
            ItemAction::Delete => self.deleted += n,
            ItemAction::Update => self.updated += n,
        }
    }

    /// A problem with the counts so far.
    fn with_counts(&self, p: Problem) -> Problem {
        p.with("added", json!(self.added)).with("updated", json!(self.updated)).with("deleted", json!(self.deleted))
    }
}

/// A failure that does not tell whether Anaplan carried the change out: a lost answer (a
/// timeout, a 5xx, a cut connection, which the client does not repeat for a POST), or an
/// answer that could not be read.
fn may_have_acted(e: &AnaplanError) -> bool {
    matches!(e, AnaplanError::NotRepeated(_) | AnaplanError::Protocol(_))
}

/// How long to leave Anaplan to finish a change whose answer was lost before the list is
/// read to find out what happened.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

fn verb(action: ItemAction) -> &'static str {
    match action {
        ItemAction::Add => "added",
        ItemAction::Update => "updated",
        ItemAction::Delete => "deleted",
    }
}

/// One change request against one list.
struct Change<'a> {
    client: &'a Client,
    scope: ListScope<'a>,
    request: Arc<Request>,
}

impl Change<'_> {
    async fn run(&self, action: &str) -> Result<Response, Problem> {
        let request = &self.request;
        let mut totals = Totals::default();
        // upsert: whether each item is an add (its code is new to the list, and not added
        // by an earlier item of this request) or an update.
        let adds: Vec<bool> = if action == "upsert" {
            let existing = self.present().await?.codes;
            let request = self.request.clone();
            off_runtime(move || upsert_adds(&request, &existing)).await??
        } else {
            Vec::new()
        };
        let indexes: Vec<usize> = (0..request.len()).collect();
        for chunk in indexes.chunks(MAX_ITEMS_PER_CALL) {
            match action {
                "add" => self.send(ItemAction::Add, chunk.to_vec(), &mut totals).await?,
                "update" => self.send(ItemAction::Update, chunk.to_vec(), &mut totals).await?,
                "delete" => self.send(ItemAction::Delete, chunk.to_vec(), &mut totals).await?,
                _ => {
                    let (added, updated): (Vec<usize>, Vec<usize>) = chunk.iter().partition(|&&i| adds[i]);
                    self.send(ItemAction::Add, added, &mut totals).await?;
                    self.send(ItemAction::Update, updated, &mut totals).await?;
                }
            }
        }
        let Totals { added, updated, deleted, ignored, failures, batches } = totals;
        tracing::info!(action, items = request.len(), batches, "list items changed");
        let mut body = Map::new();
        for (k, v) in [
            ("added", added),
            ("updated", updated),
            ("deleted", deleted),
            ("ignored", ignored),
            ("total", request.len()),
        ] {
            body.insert(k.into(), json!(v));
        }
        if failures.is_empty() {
            body.insert("failures".into(), json!([]));
            return Ok(json_response(Value::Object(body).to_string().into_bytes(), "application/json"));
        }
        let detail = format!(
            "Anaplan refused {} of the {} items; the first: index {}, code {}: {}",
            failures.len(),
            request.len(),
            failures[0]["index"],
            failures[0]["code"].as_str().map_or("none".into(), quote),
            quote(failures[0]["reason"].as_str().unwrap_or(""))
        );
        let mut p = Problem::new(ProblemType::ItemsRefused, detail);
        for (k, v) in body {
            p = p.with(&k, v);
        }
        Err(p.with("failures", Value::Array(failures)))
    }

    /// Sends the items at `sent` as one call. An add or delete whose answer is lost is not
    /// simply repeated, nor answered with a status a caller retries by default: the list is
    /// read to find out which items it shows changed (counted as Anaplan would have
    /// counted them), and only the others, surely unchanged, are sent again, once.
    async fn send(&self, action: ItemAction, sent: Vec<usize>, totals: &mut Totals) -> Result<(), Problem> {
        let mut sent = sent;
        for attempt in 0..2 {
            if sent.is_empty() {
                return Ok(());
            }
            let request = self.request.clone();
            let (body, back) = off_runtime(move || (request.batch(action, &sent), sent)).await?;
            sent = back;
            let (ws, model, list) = self.scope;
            let lost = match self.client.change_list_items(ws, model, list, action, bytes::Bytes::from(body)).await {
                Ok(answer) => {
                    totals.batches += 1;
                    totals.take(answer, &sent, &self.request);
                    return Ok(());
                }
                Err(e) if action != ItemAction::Update && may_have_acted(&e) => e,
                Err(e) => return Err(totals.with_counts(Problem::from(e))),
            };
            tracing::warn!(
                error = %lost,
                items = sent.len(),
                action = verb(action),
                "Anaplan's answer to a list change was lost; reading the list to find out what happened"
            );
            tokio::time::sleep(SETTLE).await;
            let now = match self.present().await {
                Ok(now) => now,
                Err(read) => return Err(totals.with_counts(unconfirmed(action, &sent, &lost, &read))),
            };
            let request = self.request.clone();
            let (done, rest) = off_runtime(move || {
                let (done, rest): (Vec<usize>, Vec<usize>) =
                    sent.iter().partition(|&&i| request.shows(i, action, &now));
                (done, rest)
            })
            .await?;
            if !done.is_empty() {
                totals.batches += 1;
                totals.carried_out(action, done.len());
            }
            tracing::info!(carried_out = done.len(), not_carried_out = rest.len(), "the list shows the change");
            if rest.is_empty() {
                return Ok(());
            }
            if attempt == 1 {
                // Failed twice, and the list shows these unchanged.
                if totals.added + totals.deleted == 0 {
                    // Nothing was added or deleted: the whole request can be sent again.
                    let inner = match lost {
                        AnaplanError::NotRepeated(inner) => *inner,
                        other => other,
                    };
                    return Err(totals.with_counts(Problem::from(inner)).with(
                        "listChecked",
                        json!("the list shows that nothing was added or deleted: the request can be sent again"),
                    ));
                }
                return Err(totals.with_counts(not_carried_out(action, &rest, &lost)));
            }
            // The items the list shows unchanged were not carried out (or Anaplan refused
            // them): sending them again is safe, and gives Anaplan's reasons for any refused.
            sent = rest;
        }
        Ok(())
    }

    /// The list's items as they are now: ids, codes (with names) and names.
    async fn present(&self) -> Result<Present, AnaplanError> {
        let (ws, model, list) = self.scope;
        match self.client.list_items(ws, model, list).await? {
            ListRead::Direct(items) => {
                let text = |v: Option<&Value>| match v {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let mut out = Present::default();
                for item in &items {
                    let (id, name, code) = (text(item.get("id")), text(item.get("name")), text(item.get("code")));
                    out.add(id, name, code);
                }
                Ok(out)
            }
            ListRead::Large(why) => {
                log_large(&why);
                let (csv, _) = self.client.large_list_read_csv(ws, model, list).await?;
                off_runtime(move || Present::from_csv(&csv))
                    .await
                    .map_err(|_| AnaplanError::Protocol("the list's CSV could not be read".into()))?
            }
        }
    }
}

/// upsert: for each item, whether it is an add: its code is not in `existing` and no
/// earlier item of the request had it. A new code needs a name: refused before anything is
/// sent.
fn upsert_adds(request: &Request, existing: &HashMap<String, String>) -> Result<Vec<bool>, Problem> {
    let mut added: HashSet<&str> = HashSet::new();
    let mut adds = Vec::with_capacity(request.len());
    for (i, item) in request.items.items.iter().enumerate() {
        let new = match request.code(i) {
            Some(code) if item.id.is_none() => !existing.contains_key(code) && added.insert(code),
            _ => false,
        };
        if new && item.name.is_none() {
            return Err(Problem::bad_parameter(format!(
                "items[{i}]: its code is new to the list, so upsert adds it, which needs a name"
            )));
        }
        adds.push(new);
    }
    Ok(adds)
}

/// A list's items as they are: what a lost answer is checked against.
#[derive(Debug, Default)]
struct Present {
    ids: HashSet<String>,
    /// Code → name.
    codes: HashMap<String, String>,
    names: HashSet<String>,
}

impl Present {
    fn add(&mut self, id: Option<String>, name: Option<String>, code: Option<String>) {
        if let Some(id) = id.filter(|s| !s.is_empty()) {
            self.ids.insert(id);
        }
        let name = name.unwrap_or_default();
        if let Some(code) = code.filter(|s| !s.is_empty()) {
            self.codes.insert(code, name.clone());
        }
        if !name.is_empty() {
            self.names.insert(name);
        }
    }

    /// From a large list read's CSV: the `id`, `name` and `code` columns (any case).
    fn from_csv(csv_text: &str) -> Result<Present, AnaplanError> {
        let unreadable = |e: csv::Error| AnaplanError::Protocol(format!("the list's CSV could not be read: {e}"));
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv_text.as_bytes());
        let headers = reader.headers().map_err(unreadable)?.clone();
        let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (id, name, code) = (column("id"), column("name"), column("code"));
        let mut out = Present::default();
        for record in reader.records() {
            let record = record.map_err(unreadable)?;
            let field = |at: Option<usize>| at.and_then(|k| record.get(k)).map(str::to_owned);
            out.add(field(id), field(name), field(code));
        }
        Ok(out)
    }
}

/// 409: Anaplan's answer to an add or delete was lost, and the list could not be read to
/// find out what happened. A 4xx, so that no caller repeats it by default: the change may
/// have been made.
fn unconfirmed(action: ItemAction, sent: &[usize], lost: &AnaplanError, read: &AnaplanError) -> Problem {
    let first = sent.first().copied().unwrap_or(0);
    Problem::new(
        ProblemType::ChangeUnconfirmed,
        format!(
            "Anaplan's answer to {} items to be {} (from items[{first}]) was lost ({lost}), and the list could not be \
             read to find out what happened ({read}): they may or may not have been {}. Read the list (GET \
             list-items) and send only what is missing; the items before them were handled as counted here",
            sent.len(),
            verb(action),
            verb(action)
        ),
    )
    .with("unconfirmed", json!({ "firstIndex": first, "count": sent.len() }))
}

/// 409: Anaplan failed twice on the same items, and the list shows them unchanged, while
/// earlier items of the request were changed: sending the whole request again would repeat
/// those.
fn not_carried_out(action: ItemAction, rest: &[usize], lost: &AnaplanError) -> Problem {
    let first = rest.first().copied().unwrap_or(0);
    Problem::new(
        ProblemType::ChangeIncomplete,
        format!(
            "Anaplan failed twice on {} items to be {} ({lost}); the list shows them (from items[{first}]) not {}, \
             while earlier items were: send those items again, not the whole request",
            rest.len(),
            verb(action),
            verb(action)
        ),
    )
    .with("notChanged", json!({ "firstIndex": first, "count": rest.len() }))
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

#[cfg(test)]
mod tests {
    //! What an add whose answer is lost answers when the list cannot tell, against a
    //! minimal stand-in for Anaplan whose list change calls always lose their answer.

    use std::sync::Mutex;

    use axum::Router;
    use axum::extract::{Request as HttpRequest, State};
    use axum::response::IntoResponse;

    use super::*;

    /// Serves `app` on a free loopback port as a stand-in for Anaplan, and a client of it
    /// that sends the caller's token `t`.
    async fn client_of_stand_in(app: Router) -> anaplan::Client {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = url::Url::parse(&format!("http://{}/", listener.local_addr().expect("its address"))).expect("a URL");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let caller = anaplan::Credentials::Caller(anaplan::secret::Secret::new("t"));
        anaplan::Client::new(reqwest::Client::new(), &url, caller, anaplan::RetryPolicy::default())
    }

    const WS: &str = "8a81b09d599f3c6e0159f605560c2630";
    const MODEL: &str = "75A40874E6B64FA3AE0743278996850F";
    const LIST: &str = "101000000007";

    /// The stand-in: the list it shows (`None`: its metadata is refused with a 403), and
    /// how many change calls it got.
    struct Fake {
        items: Option<Value>,
        posts: Mutex<usize>,
    }

    async fn answer(State(fake): State<Arc<Fake>>, req: HttpRequest) -> Response {
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
        let error = |status: StatusCode| {
            let body = json!({"status": {"code": status.as_u16(), "message": "failed"}});
            (status, axum::Json(body)).into_response()
        };
        match (method.as_str(), path.as_str()) {
            ("POST", p) if p.ends_with("/items") => {
                *fake.posts.lock().unwrap() += 1;
                error(StatusCode::GATEWAY_TIMEOUT)
            }
            ("GET", p) if p == format!("/2/0/models/{MODEL}/lists/{LIST}") => match &fake.items {
                Some(_) => ok(json!({"metadata": {"id": LIST, "name": "Accounts", "itemCount": 1}})),
                None => error(StatusCode::FORBIDDEN),
            },
            ("GET", p) if p.ends_with("/items") => ok(json!({ "listItems": fake.items.clone() })),
            _ => error(StatusCode::NOT_FOUND),
        }
    }

    /// Adds `items` (JSON text) to a list that shows `shown`; the answer and how many calls
    /// were sent.
    async fn add(items: &str, shown: Option<Value>) -> (Result<Response, Problem>, usize) {
        let fake = Arc::new(Fake { items: shown, posts: Mutex::new(0) });
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(fake.clone())).await;
        let (ws, model, list) =
            (WorkspaceId::parse(WS).unwrap(), ModelId::parse(MODEL).unwrap(), ListId::parse(LIST).unwrap());
        let (body, _) = data_body::parse(format!(r#"{{"items": {items}}}"#).as_bytes(), &[DataKey::Items]).unwrap();
        let Body { text, keys, items, .. } = body;
        let request = Arc::new(Request { text, keys, items: items.unwrap() });
        let change = Change { client: &client, scope: (&ws, &model, &list), request };
        let result = change.run("add").await;
        let posts = *fake.posts.lock().unwrap();
        (result, posts)
    }

    fn problem(result: Result<Response, Problem>) -> Problem {
        match result {
            Err(p) => p,
            Ok(r) => panic!("answered {}", r.status()),
        }
    }

    #[tokio::test]
    async fn an_add_that_cannot_be_checked_is_a_4xx_that_says_it_may_have_happened() {
        let (result, posts) = add(r#"[{"code": "A1", "name": "A"}]"#, None).await;
        let p = problem(result);
        assert_eq!(p.status(), StatusCode::CONFLICT, "{}", p.body());
        let body = p.body();
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("may or may not have been added") && detail.contains("GET list-items"), "{body}");
        assert_eq!(body["unconfirmed"], json!({"firstIndex": 0, "count": 1}));
        assert_eq!(posts, 1, "not sent again");
    }

    #[tokio::test]
    async fn an_add_the_list_shows_unmade_twice_is_retryable_only_when_nothing_was_made() {
        // Nothing added: sent again once, then the original error, which a retry may repeat.
        let (result, posts) = add(r#"[{"code": "B1", "name": "B"}]"#, Some(json!([]))).await;
        let p = problem(result);
        assert_eq!(p.status(), StatusCode::BAD_GATEWAY, "{}", p.body());
        assert!(p.body()["listChecked"].as_str().unwrap().contains("can be sent again"), "{}", p.body());
        assert_eq!(posts, 2);

        // One of two shown added: the other is sent again once, then a 409 that says which
        // were not added, since repeating the whole request would add the first again.
        let shown = json!([{"id": "1", "name": "A", "code": "A1"}]);
        let (result, posts) = add(r#"[{"code": "A1", "name": "A"}, {"code": "B1", "name": "B"}]"#, Some(shown)).await;
        let p = problem(result);
        assert_eq!(p.status(), StatusCode::CONFLICT, "{}", p.body());
        let body = p.body();
        assert_eq!(body["added"], 1, "{body}");
        assert_eq!(body["notChanged"], json!({"firstIndex": 1, "count": 1}), "{body}");
        assert_eq!(posts, 2, "the first call, then the unadded item alone");
    }

    #[tokio::test]
    async fn a_code_shown_with_another_name_is_not_taken_for_the_add() {
        // Another item already has the code: the list does not show this add made.
        let shown = json!([{"id": "1", "name": "Other", "code": "A1"}]);
        let (result, posts) = add(r#"[{"code": "A1", "name": "A"}]"#, Some(shown)).await;
        assert_eq!(problem(result).status(), StatusCode::BAD_GATEWAY);
        assert_eq!(posts, 2);
    }
}
