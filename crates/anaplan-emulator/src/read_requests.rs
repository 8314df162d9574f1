//! Large-volume view reads (reference §5.3):
//! `POST/GET/DELETE /2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests[/{id}[/pages/{n}]]`.
//!
//! Life cycle: created `IN_PROGRESS`; the first status poll still answers
//! `IN_PROGRESS` with `availablePages: 0`; later polls answer `COMPLETE`.
//! Pages are only served once a poll has reported `COMPLETE`; before that no
//! page is available, so every page is 404 (consistent with `pageNo <
//! availablePages`). A deleted request is gone (404).
//!
//! Page layout: by default only page 0 starts with the CSV preamble (page line and
//! column headers); [`Emulator::set_read_page_headers`] makes every page repeat it.
//! Which one Anaplan does is not documented, so clients must accept both.

use super::data::View;
use super::grid;
use super::sized_view;
use super::util::{Ids, api_error, api_status, envelope, upper_hex_id};
use super::views::{csv_response, find_view, with_cells};
use super::{Inner, ReadPageHeaders};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// Layouts the emulator accepts in `exportType`. All of them yield the grid CSV
/// (the tabular layouts' real shapes are unverified, reference §5.3).
const EXPORT_TYPES: [&str; 3] = ["GRID_ALL_PAGES", "TABULAR_SINGLE_COLUMN", "TABULAR_MULTI_COLUMN"];

/// A read request and the parent it was created under.
pub struct ReadRequest {
    workspace_id: String,
    model_id: String,
    view_id: String,
    /// Status polls served so far: 0–1 → IN_PROGRESS, then COMPLETE.
    polls: u32,
}

impl ReadRequest {
    fn complete(&self) -> bool {
        self.polls >= 2
    }
}

/// Path ids shared by every read-request route.
type Parent = (String, String, String);

/// The view, after checking the workspace, that the model lives in it, and the view.
fn find_parent<'a>(inner: &'a Inner, (ws, m, v): &Parent, path: &str) -> Result<&'a View, Response> {
    let in_ws = inner.catalog.model(m).is_some_and(|model| model.workspace_id == ws);
    if inner.catalog.workspace(ws).is_none() || !in_ws {
        return Err(api_status(StatusCode::NOT_FOUND, path));
    }
    find_view(inner, m, v, path)
}

fn request_url(inner: &Inner, (ws, m, v): &Parent, id: &str) -> String {
    format!("{}/2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests/{id}", inner.base_url)
}

/// `viewId` is a JSON NUMBER in read-request bodies (as captured live).
fn view_id_json(view_id: &str) -> Value {
    view_id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(view_id))
}

fn answer(read_request: Value) -> Response {
    let mut body = envelope("objects/viewReadRequest");
    body.insert("viewReadRequest".into(), read_request);
    Json(Value::Object(body)).into_response()
}

/// `POST …/readRequests` with `{"exportType": …}` (JSON body required).
pub async fn create(
    State(inner): State<Arc<Inner>>,
    Ids(parent): Ids<Parent>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Err(resp) = find_parent(&inner, &parent, path) {
        return resp;
    }
    if let Some(refusal) = super::views::model_refusal(&inner, &parent.1, path) {
        return refusal;
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return api_status(StatusCode::UNSUPPORTED_MEDIA_TYPE, path);
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return api_error(StatusCode::BAD_REQUEST, "Malformed JSON request body", path);
    };
    // Every export type yields the same pages here; only its validity is checked.
    match req.get("exportType") {
        Some(Value::String(t)) if EXPORT_TYPES.contains(&t.as_str()) => {}
        other => {
            let shown = match other {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            let message = format!("Invalid exportType [{shown}]; expected one of {}", EXPORT_TYPES.join(", "));
            return api_error(StatusCode::BAD_REQUEST, &message, path);
        }
    }
    let id = upper_hex_id();
    {
        let mut st = inner.state();
        st.read_requests.insert(
            id.clone(),
            ReadRequest {
                workspace_id: parent.0.clone(),
                model_id: parent.1.clone(),
                view_id: parent.2.clone(),
                polls: 0,
            },
        );
        st.read_requests_created += 1;
    }
    answer(json!({
        "requestId": id,
        "requestState": "IN_PROGRESS",
        "url": request_url(&inner, &parent, &id),
    }))
}

/// True when request `id` exists and was created under exactly this parent
/// (a request id only resolves under the path that created it).
fn belongs(r: &ReadRequest, (ws, m, v): &Parent) -> bool {
    r.workspace_id == *ws && r.model_id == *m && r.view_id == *v
}

/// `GET …/readRequests/{id}`: IN_PROGRESS on the first poll, then COMPLETE.
pub async fn status(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, v, id)): Ids<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    let parent = (ws, m, v);
    let pages = inner.cfg.read_request_pages.max(1);
    let complete = {
        let mut st = inner.state();
        match st.read_requests.get_mut(&id).filter(|r| belongs(r, &parent)) {
            Some(r) => {
                r.polls = r.polls.saturating_add(1);
                r.complete()
            }
            None => return api_status(StatusCode::NOT_FOUND, uri.path()),
        }
    };
    let mut rr = json!({
        "requestId": id,
        "viewId": view_id_json(&parent.2),
        "requestState": if complete { "COMPLETE" } else { "IN_PROGRESS" },
        "url": request_url(&inner, &parent, &id),
        "availablePages": if complete { pages } else { 0 },
    });
    if complete {
        rr["successful"] = json!(true);
    }
    answer(rr)
}

/// `GET …/readRequests/{id}/pages/{n}` → `text/csv` part `n` of the grid.
pub async fn page(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, v, id, n)): Ids<(String, String, String, String, String)>,
    uri: Uri,
) -> Response {
    let path = uri.path();
    let parent = (ws, m, v);
    let pages = inner.cfg.read_request_pages.max(1);
    let (ready, every) = {
        let st = inner.state();
        let ready = st.read_requests.get(&id).is_some_and(|r| belongs(r, &parent) && r.complete());
        (ready, st.read_page_headers == ReadPageHeaders::EveryPage)
    };
    let n = match n.parse::<usize>() {
        Ok(n) if ready && n < pages => n,
        _ => return api_status(StatusCode::NOT_FOUND, path),
    };
    match find_parent(&inner, &parent, path) {
        Ok(view) => {
            let part = with_cells(&inner, view, |cell| grid::csv_part(view, n, pages, every, cell));
            csv_response(sized_view::served_page(&inner, part))
        }
        Err(resp) => resp,
    }
}

/// `DELETE …/readRequests/{id}` → 200 with `requestState: CANCELLED`; then gone.
pub async fn delete(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, v, id)): Ids<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    let parent = (ws, m, v);
    let removed = {
        let mut st = inner.state();
        match st.read_requests.get(&id) {
            Some(r) if belongs(r, &parent) => st.read_requests.remove(&id),
            _ => None,
        }
    };
    if removed.is_none() {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    answer(json!({
        "requestId": id,
        "viewId": view_id_json(&parent.2),
        "requestState": "CANCELLED",
        "url": request_url(&inner, &parent, &id),
    }))
}
