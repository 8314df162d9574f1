//! The transactional API: module metadata (line items, their dimensions, dimension items),
//! module cell writes, and list items (reads as JSON or Anaplan's CSV, large list reads,
//! add, update, delete). Whether a list is read directly or through a large list read is
//! decided from its `itemCount`, never from the wording of an error.
//! Callers build and batch the bodies; this module sends one batch per call.

use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::catalog::Named;
use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{DimensionId, LineItemId, ListId, ModelId, ModuleId, TaskId, ViewId, WorkspaceId};
use super::views::ReadRequestGuard;

/// Anaplan's limits of one module write: 100,000 cells or 15 MB, whichever is lower.
pub const MAX_CELLS_PER_WRITE: usize = 100_000;
/// The 15 MB of a module write's body, read as 15,000,000 bytes: Anaplan does not say
/// whether its "MB" is 10^6 or 2^20 bytes, so batches stay under the smaller reading.
pub const MAX_WRITE_BYTES: usize = 15_000_000;
/// Items per list change call.
pub const MAX_ITEMS_PER_CALL: usize = 100_000;
/// Anaplan's limit of a direct list item read: lists with more items are read through a
/// large list read request.
pub const DIRECT_READ_ITEMS: u64 = 1_000_000;

fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A line item of a module, with its format when Anaplan says it (`includeAll=true`).
#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    /// Its id.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// `NUMBER`, `TEXT`, `BOOLEAN`, `DATE`, `LIST`, ... (absent: unknown, values pass unchecked).
    #[serde(default, deserialize_with = "opt_text")]
    pub format: Option<String>,
    /// Its formula (`includeAll=true`); a non-empty one makes the line item calculated, so
    /// not writable. Absent: unknown.
    #[serde(default, deserialize_with = "opt_text")]
    pub formula: Option<String>,
}

/// An item of a dimension.
#[derive(Debug, Clone, Deserialize)]
pub struct DimensionItem {
    /// Its id.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its code, when it has one.
    #[serde(default, deserialize_with = "opt_text")]
    pub code: Option<String>,
}

/// An answer that lists dimension items (`items`, left out when there are none).
#[derive(Deserialize)]
struct DimensionItems {
    #[serde(default)]
    items: Vec<DimensionItem>,
}

/// One refused cell or item, as Anaplan reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The index in the batch sent.
    #[serde(default)]
    pub request_index: usize,
    /// Anaplan's failure type.
    #[serde(default)]
    pub failure_type: Option<String>,
    /// Anaplan's explanation.
    #[serde(default)]
    pub failure_message_details: Option<String>,
}

impl Failure {
    /// The reason in words: the details, else the type.
    pub fn reason(&self) -> String {
        match (&self.failure_message_details, &self.failure_type) {
            (Some(d), Some(t)) => format!("{d} ({t})"),
            (Some(d), None) => d.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => "refused by Anaplan".into(),
        }
    }
}

/// The answer to one module write.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellWrite {
    /// Cells changed.
    #[serde(default)]
    pub number_of_cells_changed: usize,
    /// Refused cells (absent when none).
    #[serde(default)]
    pub failures: Vec<Failure>,
}

/// The answer to one list change call; absent counts are 0.
#[derive(Debug, Default, Deserialize)]
pub struct ItemChange {
    /// Items added.
    #[serde(default)]
    pub added: usize,
    /// Items updated.
    #[serde(default)]
    pub updated: usize,
    /// Items deleted.
    #[serde(default)]
    pub deleted: usize,
    /// Items ignored.
    #[serde(default)]
    pub ignored: usize,
    /// Refused items (absent when none).
    #[serde(default)]
    pub failures: Vec<Failure>,
}

/// A list change call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAction {
    /// `POST …/items?action=add`.
    Add,
    /// `PUT …/items`.
    Update,
    /// `POST …/items?action=delete`.
    Delete,
}

/// A list's size as its metadata gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSize {
    /// `itemCount`, when the metadata gives it as a whole number. It counts the top level
    /// item (the description, "Reset the list index").
    pub item_count: Option<u64>,
    /// Whether the metadata names a `topLevelItem`.
    pub top_level_item: bool,
}

impl ListSize {
    /// The list's own items: `itemCount` without the top level item.
    pub fn items(&self) -> Option<u64> {
        self.item_count.map(|n| n.saturating_sub(u64::from(self.top_level_item)))
    }
}

/// A direct list read, or why the list must be read through a large list read request.
#[derive(Debug)]
pub enum ListRead<T> {
    /// The direct read's answer.
    Direct(T),
    /// Too many items for a direct read.
    Large(TooLarge),
}

/// Why a list is read through a large list read request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TooLarge {
    /// The list's metadata gives an `itemCount` above [`DIRECT_READ_ITEMS`]: no direct read
    /// was tried.
    ItemCount(u64),
    /// The metadata gave no `itemCount` and Anaplan answered the direct read with a 400
    /// (its message; the wording is not documented and not looked at).
    Refused(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListReadRequestBody {
    list_read_request: ListReadRequest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListReadRequest {
    request_id: String,
    request_state: String,
    available_pages: Option<u32>,
    successful: Option<bool>,
}

fn list_path(ws: &WorkspaceId, model: &ModelId, list: &ListId) -> Vec<String> {
    ["workspaces", ws.as_str(), "models", model.as_str(), "lists", list.as_str()].map(str::to_owned).to_vec()
}

/// `/workspaces/{ws}/models/{m}/dimensions/{d}/items`.
fn dimension_items_path(ws: &WorkspaceId, model: &ModelId, dimension: &DimensionId) -> Vec<String> {
    ["workspaces", ws.as_str(), "models", model.as_str(), "dimensions", dimension.as_str(), "items"]
        .map(str::to_owned)
        .to_vec()
}

/// `GET …/lists/{l}/items?includeAll=true`.
fn items_request(ws: &WorkspaceId, model: &ModelId, list: &ListId) -> ApiRequest {
    let mut path = list_path(ws, model, list);
    path.push("items".into());
    ApiRequest::get(path).query("includeAll", "true")
}

impl Client {
    /// The line items of a module (`includeAll=true`, so their formats come along).
    pub async fn module_line_items(&self, model: &ModelId, module: &ModuleId) -> Result<Vec<LineItem>, AnaplanError> {
        let req = ApiRequest::get(["models", model.as_str(), "modules", module.as_str(), "lineItems"])
            .query("includeAll", "true");
        self.list(req, "items").await
    }

    /// The dimensions of a line item, in the module's order.
    pub async fn line_item_dimensions(
        &self,
        model: &ModelId,
        line_item: &LineItemId,
    ) -> Result<Vec<Named>, AnaplanError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            dimensions: Vec<Named>,
        }
        let req = ApiRequest::get(["models", model.as_str(), "lineItems", line_item.as_str(), "dimensions"]);
        Ok(self.json::<Answer>(req).await?.dimensions)
    }

    /// Every item of a dimension at model level (`GET /workspaces/{ws}/models/{m}/dimensions/{d}/items`;
    /// an empty dimension omits `items`), read straight into typed items. The description:
    /// the dimension "must be a list, a list subset, a line item subset, or the Users
    /// dimension", Time is a 400, and so is a dimension above 1,000,000 items (the two 400s
    /// differ only in wording, so callers decide from the dimension's id and a list's
    /// `itemCount` first).
    pub async fn dimension_items(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        dimension: &DimensionId,
    ) -> Result<Vec<DimensionItem>, AnaplanError> {
        let req = ApiRequest::get(dimension_items_path(ws, model, dimension));
        Ok(self.json::<DimensionItems>(req).await?.items)
    }

    /// The items of a dimension whose name or code is one of `names` or `codes` (`POST
    /// /workspaces/{ws}/models/{m}/dimensions/{d}/items`; Anaplan compares both without
    /// regard to case and leaves out what matches nothing). At least one of the two must
    /// hold a value; codes on a dimension without codes are Anaplan's 400. A lookup changes
    /// nothing, so it is sent again after a lost answer.
    pub async fn lookup_dimension_items(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        dimension: &DimensionId,
        names: &[String],
        codes: &[String],
    ) -> Result<Vec<DimensionItem>, AnaplanError> {
        let mut body = serde_json::Map::new();
        if !names.is_empty() {
            body.insert("names".into(), Value::from(names.to_vec()));
        }
        if !codes.is_empty() {
            body.insert("codes".into(), Value::from(codes.to_vec()));
        }
        let bytes = serde_json::to_vec(&Value::Object(body))
            .map_err(|e| AnaplanError::Protocol(format!("lookup body: {e}")))?;
        let req = ApiRequest::get(dimension_items_path(ws, model, dimension))
            .method(Method::POST)
            .json_bytes(bytes::Bytes::from(bytes))
            .replayable();
        Ok(self.json::<DimensionItems>(req).await?.items)
    }

    /// The items of one of a line item's dimensions (any dimension type, Time and Versions
    /// included, which the model-level call refuses; an empty one omits `items`).
    pub async fn line_item_dimension_items(
        &self,
        model: &ModelId,
        line_item: &LineItemId,
        dimension: &str,
    ) -> Result<Vec<DimensionItem>, AnaplanError> {
        let req = ApiRequest::get([
            "models",
            model.as_str(),
            "lineItems",
            line_item.as_str(),
            "dimensions",
            dimension,
            "items",
        ]);
        Ok(self.json::<DimensionItems>(req).await?.items)
    }

    /// The items of one of a view's dimensions as the view shows them (hidden and filtered
    /// items and selective access left out; an empty one omits `items`).
    pub async fn view_dimension_items(
        &self,
        model: &ModelId,
        view: &ViewId,
        dimension: &str,
    ) -> Result<Vec<DimensionItem>, AnaplanError> {
        let req = ApiRequest::get(["models", model.as_str(), "views", view.as_str(), "dimensions", dimension, "items"]);
        Ok(self.json::<DimensionItems>(req).await?.items)
    }

    /// A list's metadata (`GET /models/{m}/lists/{l}`): Anaplan's `metadata` object unchanged
    /// (`id`, `name`, `properties` with their formats, `parent`, `itemCount`, ...).
    pub async fn list_metadata(&self, model: &ModelId, list: &ListId) -> Result<Value, AnaplanError> {
        let body: Value = self.json(ApiRequest::get(["models", model.as_str(), "lists", list.as_str()])).await?;
        match body.get("metadata") {
            Some(m @ Value::Object(_)) => Ok(m.clone()),
            _ => Err(AnaplanError::Protocol("list metadata: no metadata object".into())),
        }
    }

    /// Writes one batch of cells (a JSON array, at most [`MAX_CELLS_PER_WRITE`] cells and
    /// [`MAX_WRITE_BYTES`]).
    pub async fn write_cells(
        &self,
        model: &ModelId,
        module: &ModuleId,
        batch: bytes::Bytes,
    ) -> Result<CellWrite, AnaplanError> {
        let req = ApiRequest::get(["models", model.as_str(), "modules", module.as_str(), "data"])
            .method(Method::POST)
            .json_bytes(batch)
            // Writing the same values to the same cells again leaves them as they are.
            .replayable();
        self.json(req).await
    }

    /// A list's `itemCount`, from its metadata (`GET /models/{m}/lists/{l}`); `None` when
    /// the metadata does not give it as a whole number.
    pub async fn list_item_count(&self, model: &ModelId, list: &ListId) -> Result<Option<u64>, AnaplanError> {
        let body: Value = self.json(ApiRequest::get(["models", model.as_str(), "lists", list.as_str()])).await?;
        Ok(body.pointer("/metadata/itemCount").and_then(Value::as_u64))
    }

    /// What a list's metadata (`GET /models/{m}/lists/{l}`) says of its size.
    pub async fn list_size(&self, model: &ModelId, list: &ListId) -> Result<ListSize, AnaplanError> {
        let body: Value = self.json(ApiRequest::get(["models", model.as_str(), "lists", list.as_str()])).await?;
        Ok(ListSize {
            item_count: body.pointer("/metadata/itemCount").and_then(Value::as_u64),
            top_level_item: body.pointer("/metadata/topLevelItem").is_some_and(Value::is_object),
        })
    }

    /// Resets a list's index counter to 1 (`POST …/lists/{l}/resetIndex`, no body; 200 with
    /// no body). Anaplan refuses it with a 400 for a list that holds items, and for a list
    /// that is not production data in a deployed model; the two differ only in wording, so
    /// callers check the list's size first ([`Client::list_size`]). Sent again after a lost
    /// answer: resetting an empty list twice leaves it as once.
    pub async fn reset_list_index(&self, ws: &WorkspaceId, model: &ModelId, list: &ListId) -> Result<(), AnaplanError> {
        let mut path = list_path(ws, model, list);
        path.push("resetIndex".into());
        self.send(ApiRequest::get(path).method(Method::POST).replayable()).await?;
        Ok(())
    }

    /// Every item of a list with its properties and subsets (`includeAll=true`), as JSON
    /// (`listItems`), or why it must be read through a large list read ([`ListRead`]).
    pub async fn list_items(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        list: &ListId,
    ) -> Result<ListRead<Vec<Value>>, AnaplanError> {
        let req = items_request(ws, model, list);
        self.direct_list_read(model, list, async {
            let mut body: Value = self.json(req).await?;
            match body.get_mut("listItems").map(Value::take) {
                Some(Value::Array(items)) => Ok(items),
                Some(other) => Err(AnaplanError::Protocol(format!("listItems is not an array: {other}"))),
                // An empty list omits the key.
                None => Ok(Vec::new()),
            }
        })
        .await
    }

    /// Every item of a list as Anaplan's own CSV (`Accept: text/csv`, `includeAll=true`:
    /// the default columns, then subsets and properties), unchanged; or why it must be
    /// read through a large list read ([`ListRead`]).
    pub async fn list_items_csv(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        list: &ListId,
    ) -> Result<ListRead<String>, AnaplanError> {
        let req = items_request(ws, model, list).accept("text/csv");
        self.direct_list_read(model, list, self.text(req)).await
    }

    /// Decides from documented facts whether a direct read can serve `list`: its
    /// `itemCount` against [`DIRECT_READ_ITEMS`]. Only when the metadata lacks the count is
    /// the direct read tried blind, and a 400 to it (the description gives no other 400 for
    /// this call) taken to mean the list is too large, whatever its wording.
    async fn direct_list_read<T>(
        &self,
        model: &ModelId,
        list: &ListId,
        read: impl Future<Output = Result<T, AnaplanError>>,
    ) -> Result<ListRead<T>, AnaplanError> {
        let count = self.list_item_count(model, list).await?;
        if let Some(n) = count.filter(|n| *n > DIRECT_READ_ITEMS) {
            return Ok(ListRead::Large(TooLarge::ItemCount(n)));
        }
        match read.await {
            Ok(v) => Ok(ListRead::Direct(v)),
            Err(AnaplanError::Api { status: 400, message, .. }) if count.is_none() => {
                Ok(ListRead::Large(TooLarge::Refused(message)))
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a whole list through a large list read request, page by page (CSV). The
    /// request is deleted afterwards whether the read succeeded, failed, or was abandoned
    /// (a dropped future, e.g. a caller that went away or an answer deadline, deletes it in
    /// the background).
    pub async fn large_list_read_csv(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        list: &ListId,
    ) -> Result<(String, u32), AnaplanError> {
        let mut base = list_path(ws, model, list);
        base.push("readRequests".into());
        let started: ListReadRequestBody =
            // No body: the description documents none.
            self.json(ApiRequest::get(base.clone()).method(Method::POST)).await?;
        let id = TaskId::parse(&started.list_read_request.request_id)
            .map_err(|e| AnaplanError::Protocol(format!("list read request id: {e}")))?;
        let mut path = base.clone();
        path.push(id.to_string());
        let guard = ReadRequestGuard::new(self, path.clone());
        let outcome = self.finish_list_read(&path, started.list_read_request).await;
        guard.delete_now().await;
        outcome
    }

    async fn finish_list_read(
        &self,
        path: &[String],
        mut state: ListReadRequest,
    ) -> Result<(String, u32), AnaplanError> {
        let mut wait = Duration::from_millis(250);
        loop {
            match state.request_state.as_str() {
                "COMPLETE" if state.successful == Some(false) => {
                    return Err(AnaplanError::Failed("Anaplan could not complete the large list read request".into()));
                }
                "COMPLETE" => break,
                "CANCELLED" | "CANCELLING" => {
                    return Err(AnaplanError::Cancelled("the large list read request was cancelled in Anaplan".into()));
                }
                _ => {}
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
            let body: ListReadRequestBody = self.json(ApiRequest::get(path.to_vec())).await?;
            state = body.list_read_request;
        }
        let pages = state.available_pages.unwrap_or(0);
        let mut csv = String::new();
        let mut header: Option<String> = None;
        for page in 0..pages {
            let mut segments = path.to_vec();
            segments.extend(["pages".to_owned(), page.to_string()]);
            let text = self.text(ApiRequest::get(segments).accept("text/csv")).await?;
            // Whether every page repeats the header line is not documented: keep the
            // first page's header and drop an identical first line on later pages.
            let first_line = text.split_inclusive('\n').next().unwrap_or("");
            match &header {
                None => {
                    header = Some(first_line.to_owned());
                    csv.push_str(&text);
                }
                Some(h) if h == first_line => csv.push_str(&text[first_line.len()..]),
                Some(_) => csv.push_str(&text),
            }
            if !csv.is_empty() && !csv.ends_with('\n') {
                csv.push('\n');
            }
        }
        Ok((csv, pages))
    }

    /// Sends one batch of list item changes (`{"items": [...]}`, at most
    /// [`MAX_ITEMS_PER_CALL`] items).
    pub async fn change_list_items(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        list: &ListId,
        action: ItemAction,
        batch: bytes::Bytes,
    ) -> Result<ItemChange, AnaplanError> {
        let mut path = list_path(ws, model, list);
        path.push("items".into());
        let req = match action {
            ItemAction::Add => ApiRequest::get(path).method(Method::POST).query("action", "add"),
            ItemAction::Delete => ApiRequest::get(path).method(Method::POST).query("action", "delete"),
            ItemAction::Update => ApiRequest::get(path).method(Method::PUT),
        };
        self.json(req.json_bytes(batch)).await
    }
}

#[cfg(test)]
mod tests {
    //! Which way a list is read, against a minimal stand-in for Anaplan whose list
    //! metadata may lack `itemCount` and whose direct read may refuse with any wording.

    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use serde_json::json;

    use super::*;
    use crate::client::client_of_stand_in;

    const WS: &str = "8a81b09d599f3c6e0159f605560c2630";
    const MODEL: &str = "75A40874E6B64FA3AE0743278996850F";
    const LIST: &str = "101000000007";
    const READ: &str = "0123456789ABCDEF0123456789ABCDEF";

    /// The stand-in: what its metadata says, whether a direct read is refused, and every
    /// request it saw (`METHOD path`).
    struct Fake {
        item_count: Option<Value>,
        refuse: bool,
        seen: Mutex<Vec<String>>,
    }

    async fn answer(State(fake): State<Arc<Fake>>, req: Request) -> Response {
        let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
        fake.seen.lock().unwrap().push(format!("{method} {path}"));
        let list = format!("/2/0/workspaces/{WS}/models/{MODEL}/lists/{LIST}");
        let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
        match (method.as_str(), path.as_str()) {
            ("GET", p) if p == format!("/2/0/models/{MODEL}/lists/{LIST}") => {
                let mut metadata = json!({"id": LIST, "name": "Accounts"});
                if let Some(n) = &fake.item_count {
                    metadata["itemCount"] = n.clone();
                }
                ok(json!({ "metadata": metadata }))
            }
            ("GET", p) if p == format!("{list}/items") && fake.refuse => {
                let body = json!({"status": {"code": 400, "message": "Something went wrong"}});
                (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
            }
            ("GET", p) if p == format!("{list}/items") => ok(json!({"listItems": [{"id": "1", "name": "a"}]})),
            ("POST", p) if p == format!("{list}/readRequests") => ok(json!({"listReadRequest": {
                "requestId": READ, "requestState": "COMPLETE", "availablePages": 1, "successful": true}})),
            ("GET", p) if p == format!("{list}/readRequests/{READ}/pages/0") => "id,name\n1,a\n".into_response(),
            ("DELETE", p) if p == format!("{list}/readRequests/{READ}") => ok(json!({})),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    /// Reads the list as JSON the way `list-items` does; returns how, and the requests.
    async fn read_with(item_count: Option<Value>, refuse: bool) -> (Result<ListRead<Vec<Value>>, String>, Vec<String>) {
        let fake = Arc::new(Fake { item_count, refuse, seen: Mutex::new(Vec::new()) });
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(fake.clone())).await;
        let (ws, model, list) =
            (WorkspaceId::parse(WS).unwrap(), ModelId::parse(MODEL).unwrap(), ListId::parse(LIST).unwrap());
        let read = client.list_items(&ws, &model, &list).await.map_err(|e| e.to_string());
        let seen = fake.seen.lock().unwrap().clone();
        (read, seen)
    }

    fn direct_reads(seen: &[String]) -> usize {
        seen.iter().filter(|r| r.starts_with("GET ") && r.ends_with("/items")).count()
    }

    #[tokio::test]
    async fn an_item_count_above_the_limit_skips_the_direct_read() {
        let (read, seen) = read_with(Some(json!(1_000_001)), false).await;
        assert!(matches!(read, Ok(ListRead::Large(TooLarge::ItemCount(1_000_001)))), "{read:?}");
        assert_eq!(direct_reads(&seen), 0, "{seen:?}");
    }

    #[tokio::test]
    async fn a_400_without_an_item_count_falls_back_whatever_its_wording() {
        // No itemCount: the direct read is tried, and its 400 (in words Anaplan does not
        // document) means a large read.
        let (read, seen) = read_with(None, true).await;
        match read {
            Ok(ListRead::Large(TooLarge::Refused(message))) => assert_eq!(message, "Something went wrong"),
            other => panic!("{other:?}"),
        }
        assert_eq!(direct_reads(&seen), 1, "{seen:?}");
        // An itemCount that is not a whole number is no fact either.
        let (read, _) = read_with(Some(json!("many")), true).await;
        assert!(matches!(read, Ok(ListRead::Large(TooLarge::Refused(_)))), "{read:?}");
    }

    #[tokio::test]
    async fn a_400_to_a_list_within_the_limit_is_an_error_not_a_large_read() {
        let (read, seen) = read_with(Some(json!(5)), true).await;
        assert!(read.as_ref().is_err_and(|e| e.contains("400")), "{read:?}");
        assert!(!seen.iter().any(|r| r.contains("readRequests")), "{seen:?}");
        let (read, _) = read_with(Some(json!(1_000_000)), false).await;
        assert!(matches!(read, Ok(ListRead::Direct(ref items)) if items.len() == 1), "{read:?}");
    }
}

#[cfg(test)]
mod list_size_tests {
    use super::ListSize;

    #[test]
    fn the_top_level_item_is_not_an_item() {
        let size = |item_count, top_level_item| ListSize { item_count, top_level_item }.items();
        assert_eq!(size(Some(1), true), Some(0), "the description: a top level item alone reports 1");
        assert_eq!(size(Some(4), true), Some(3));
        assert_eq!(size(Some(0), false), Some(0));
        assert_eq!(size(Some(0), true), Some(0));
        assert_eq!(size(None, true), None);
    }
}

#[cfg(test)]
mod lookup_tests {
    //! The dimension item calls' paths and the lookup's body, against a stand-in that
    //! records what it was sent.

    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{Request, State};
    use axum::response::IntoResponse;
    use serde_json::json;

    use super::*;
    use crate::client::client_of_stand_in;

    type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

    async fn answer(State(seen): State<Seen>, req: Request) -> axum::response::Response {
        let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
        let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
        seen.lock().unwrap().push((method, path, String::from_utf8_lossy(&body).into_owned()));
        // An empty dimension omits `items`; a lookup answers one item without a code.
        let items =
            if body.is_empty() { json!({}) } else { json!({"items": [{"id": 200000000001u64, "name": "North"}]}) };
        axum::Json(items).into_response()
    }

    #[tokio::test]
    async fn the_workspace_form_is_used_and_a_lookup_sends_only_what_it_has() {
        let seen: Seen = Arc::default();
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(seen.clone())).await;
        let ws = WorkspaceId::parse("8a81b09d599f3c6e0159f605560c2630").unwrap();
        let model = ModelId::parse("75A40874E6B64FA3AE0743278996850F").unwrap();
        let dim = DimensionId::parse("101000000003").unwrap();
        let all = client.dimension_items(&ws, &model, &dim).await.unwrap();
        assert!(all.is_empty(), "no items key: no items");
        let found = client.lookup_dimension_items(&ws, &model, &dim, &["north".to_owned()], &[]).await.unwrap();
        assert_eq!(
            (found[0].id.as_str(), found[0].name.as_str(), found[0].code.as_deref()),
            ("200000000001", "North", None)
        );
        let path = format!("/2/0/workspaces/{ws}/models/{model}/dimensions/{dim}/items");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[0], ("GET".to_owned(), path.clone(), String::new()));
        assert_eq!(seen[1].0, "POST");
        assert_eq!(seen[1].1, path);
        assert_eq!(serde_json::from_str::<Value>(&seen[1].2).unwrap(), json!({"names": ["north"]}), "no empty codes");
    }
}
