//! The transactional API: module metadata (line items, their dimensions, dimension items),
//! module cell writes, and list items (reads, large list reads, add, update, delete).
//! Callers build and batch the bodies; this module sends one batch per call.

use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::catalog::Named;
use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{LineItemId, ListId, ModelId, ModuleId, TaskId, WorkspaceId};

/// Anaplan's limits of one module write: 100,000 cells or 15 MB, whichever is lower.
pub const MAX_CELLS_PER_WRITE: usize = 100_000;
/// The 15 MB of a module write's body, read as 15,000,000 bytes: Anaplan does not say
/// whether its "MB" is 10^6 or 2^20 bytes, so batches stay under the smaller reading.
pub const MAX_WRITE_BYTES: usize = 15_000_000;
/// Items per list change call.
pub const MAX_ITEMS_PER_CALL: usize = 100_000;

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

/// A direct list read, or Anaplan's refusal because the list is above the direct-read limit.
#[derive(Debug)]
pub enum ListRead {
    /// The items, as Anaplan sent them (`listItems`).
    Items(Vec<Value>),
    /// The list has too many items; Anaplan's message.
    TooLarge(String),
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
        let req = ApiRequest::get(["models", model.as_str(), "lineItems", line_item.as_str(), "dimensions"]);
        let body: Value = self.json(req).await?;
        match body.get("dimensions") {
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|e| AnaplanError::Protocol(format!("dimensions: {e}")))
            }
            None => Ok(Vec::new()),
        }
    }

    /// The items of a dimension (an empty dimension omits `items`).
    pub async fn dimension_items(&self, model: &ModelId, dimension: &str) -> Result<Vec<DimensionItem>, AnaplanError> {
        let req = ApiRequest::get(["models", model.as_str(), "dimensions", dimension, "items"]);
        let body: Value = self.json(req).await?;
        match body.get("items") {
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| AnaplanError::Protocol(format!("items: {e}"))),
            None => Ok(Vec::new()),
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

    /// Every item of a list with its properties and subsets (`includeAll=true`).
    pub async fn list_items(&self, ws: &WorkspaceId, model: &ModelId, list: &ListId) -> Result<ListRead, AnaplanError> {
        let mut path = list_path(ws, model, list);
        path.push("items".into());
        match self.json::<Value>(ApiRequest::get(path).query("includeAll", "true")).await {
            Ok(mut body) => match body.get_mut("listItems").map(Value::take) {
                Some(Value::Array(items)) => Ok(ListRead::Items(items)),
                Some(other) => Err(AnaplanError::Protocol(format!("listItems is not an array: {other}"))),
                None => Ok(ListRead::Items(Vec::new())),
            },
            // Anaplan refuses lists above 1,000,000 items with a 400 that speaks of items
            // (the wording is not documented, so only the word is relied on).
            Err(AnaplanError::Api { status: 400, message, .. }) if message.to_lowercase().contains("item") => {
                Ok(ListRead::TooLarge(message))
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a whole list through a large list read request, page by page (CSV). The
    /// request is deleted afterwards, whether the read succeeded or not.
    pub async fn large_list_read_csv(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        list: &ListId,
    ) -> Result<(String, u32), AnaplanError> {
        let mut base = list_path(ws, model, list);
        base.push("readRequests".into());
        let started: ListReadRequestBody =
            self.json(ApiRequest::get(base.clone()).method(Method::POST).json(serde_json::json!({}))).await?;
        let id = TaskId::parse(&started.list_read_request.request_id)
            .map_err(|e| AnaplanError::Protocol(format!("list read request id: {e}")))?;
        let mut path = base.clone();
        path.push(id.to_string());
        let outcome = self.finish_list_read(&path, started.list_read_request).await;
        if let Err(e) = self.send(ApiRequest::get(path).method(Method::DELETE)).await {
            tracing::warn!(error = %e, "could not delete a large list read request; Anaplan reclaims it after 30 minutes idle");
        }
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
