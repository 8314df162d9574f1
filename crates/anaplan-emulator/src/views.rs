//! View metadata and direct cell reads (reference §5.1, §5.2).

use super::Inner;
use super::api::find_model;
use super::data::{Dim, View};
use super::grid;
use super::util::{Ids, api_error, api_status, envelope, query_get, query_pairs, thousands};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// The model's view by id, or Anaplan's 404 (unknown model or view alike).
pub(super) fn find_view<'a>(inner: &'a Inner, model: &str, view: &str, path: &str) -> Result<&'a View, Response> {
    find_model(inner, model, path)?.view(view).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))
}

fn dims_json(dims: &[Dim]) -> Value {
    dims.iter().map(|d| json!({ "id": d.id, "name": d.name })).collect()
}

/// `GET /2/0/models/{m}/views/{v}` → `viewName`, `viewId`, `rows`, `columns`,
/// `pages`; an axis without dimensions is omitted, not empty.
pub async fn metadata(State(inner): State<Arc<Inner>>, Ids((m, v)): Ids<(String, String)>, uri: Uri) -> Response {
    let view = match find_view(&inner, &m, &v, uri.path()) {
        Ok(view) => view,
        Err(resp) => return resp,
    };
    let mut body = envelope("objects/view");
    body.insert("viewName".into(), json!(view.name));
    body.insert("viewId".into(), json!(view.id));
    for (key, dims) in [("rows", &view.rows), ("columns", &view.columns), ("pages", &view.pages)] {
        if !dims.is_empty() {
            body.insert(key.into(), dims_json(dims));
        }
    }
    Json(Value::Object(body)).into_response()
}

/// `GET /2/0/models/{m}/views/{v}/dimensions/{d}/items`: the items of one of the view's
/// dimensions as the view shows them, `[{id, name}]` in axis order (no codes: the emulator's
/// view items have none, and the description omits `code` when unset); no `items` key when
/// the dimension shows none. A dimension not on the view is a 404; a view above 1,000,000
/// cells a 400, as the description documents.
pub async fn dimension_items(
    State(inner): State<Arc<Inner>>,
    Ids((m, v, d)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    let view = match find_view(&inner, &m, &v, uri.path()) {
        Ok(view) => view,
        Err(resp) => return resp,
    };
    let Some(dim) = view.pages.iter().chain(&view.rows).chain(&view.columns).find(|dim| dim.id == d) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    if view.cell_count() > 1_000_000 {
        return api_error(StatusCode::BAD_REQUEST, "The view contains more than 1,000,000 cells", uri.path());
    }
    super::model_data::dimension_items_answer(
        (0..dim.len()).map(|i| super::model_data::item_json(&dim.item_id(i), &dim.item_name(i), "")).collect(),
    )
}

/// The refusal of a data read for the model's state (`tasks::state_refusal`), if any.
pub(super) fn model_refusal(inner: &Inner, model_id: &str, path: &str) -> Option<Response> {
    let model = inner.catalog.model(model_id)?;
    let state = super::tasks::active_state(&inner.state(), model);
    super::tasks::state_refusal(&state, false, path)
}

/// The representation a `/data` request negotiated.
enum Repr {
    Json,
    Csv,
}

/// JSON needs both `Accept: application/json` and `format=v1`; CSV needs
/// `Accept: text/csv` (any parameters, e.g. `escaped=true`) and no `format`.
/// Everything else — including a missing Accept or `*/*` — is not acceptable.
fn negotiate(headers: &HeaderMap, format: Option<&str>) -> Option<Repr> {
    let accept = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let has = |wanted: &str| {
        accept.split(',').any(|range| {
            let media = range.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case(wanted)
        })
    };
    match format {
        Some("v1") if has("application/json") => Some(Repr::Json),
        None if has("text/csv") => Some(Repr::Csv),
        _ => None,
    }
}

/// `GET /2/0/models/{m}/views/{v}/data`: checks in order view exists (404),
/// representation (406), page selectors (400), cell limit (400).
pub async fn data(
    State(inner): State<Arc<Inner>>,
    Ids((m, v)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let view = match find_view(&inner, &m, &v, path) {
        Ok(view) => view,
        Err(resp) => return resp,
    };
    if let Some(refusal) = model_refusal(&inner, &m, path) {
        return refusal;
    }
    let pairs = query_pairs(uri.query());
    let Some(repr) = negotiate(&headers, query_get(&pairs, "format")) else {
        return api_status(StatusCode::NOT_ACCEPTABLE, path);
    };
    let selectors: Vec<&str> = pairs.iter().filter(|(k, _)| k == "pages").map(|(_, v)| v.as_str()).collect();
    let pages = match grid::select_pages(view, &selectors) {
        Ok(p) => p,
        Err(bad) => {
            return api_error(StatusCode::BAD_REQUEST, &format!("Invalid page selector [{bad}]"), path);
        }
    };
    let cells = view.cell_count();
    let limit = inner.cfg.direct_read_cell_limit;
    if cells > limit {
        let message = format!(
            // Anaplan does not document this message's wording; the client must not need it.
            "Request exceeds the limit of {} for this call ({} requested). Use a large read request.",
            thousands(limit),
            thousands(cells)
        );
        return api_error(StatusCode::BAD_REQUEST, &message, path);
    }
    with_cells(&inner, view, |cell| match repr {
        Repr::Json => Json(grid::json_v1(view, &pages, cell)).into_response(),
        Repr::Csv => csv_response(grid::csv_document(view, &pages, cell)),
    })
}

/// Runs `render` with the view's cells: its formula, or for a view of stored cells (the
/// writable module's default view) what module writes stored, read under the state lock
/// (such a view is small). A cell never written shows Anaplan's blank: `0` for a number,
/// `false` for a boolean, empty otherwise; the calculated Total Units sums Units.
pub(super) fn with_cells<R>(inner: &Inner, view: &View, render: impl FnOnce(grid::CellOf) -> R) -> R {
    if !view.stored {
        let formula = view.cell;
        return render(&|p: &[usize], r: &[usize], c: &[usize]| formula(p, r, c));
    }
    let st = inner.state();
    let cells = &st.model_data.cells;
    let line_items = super::model_data::line_items(super::seed::MODEL_REVENUE_ID, view.module_id).unwrap_or(&[]);
    // The item id a dimension of the line item takes at a coordinate of the view.
    let coordinate = |dim: &str, p: &[usize], r: &[usize], c: &[usize]| -> String {
        let axes = [(&view.pages, p), (&view.rows, r), (&view.columns, c)];
        axes.iter()
            .find_map(|(dims, idx)| dims.iter().position(|d| d.id == dim).map(|k| dims[k].item_id(idx[k])))
            .unwrap_or_default()
    };
    let units_total = |product: &str| -> String {
        let sum: f64 = cells
            .iter()
            .filter(|((li, ids), _)| li == super::seed::LINE_UNITS_ID && ids.first().is_some_and(|p| p == product))
            .filter_map(|(_, v)| v.parse::<f64>().ok())
            .sum();
        sum.to_string()
    };
    let cell = |p: &[usize], r: &[usize], c: &[usize]| -> String {
        let Some(li) = c.last().and_then(|&k| line_items.get(k)) else { return String::new() };
        let ids: Vec<String> = li.dims.iter().map(|d| coordinate(d, p, r, c)).collect();
        if li.calculated {
            return units_total(ids.first().map(String::as_str).unwrap_or(""));
        }
        match cells.get(&(li.id.to_owned(), ids)) {
            Some(v) => v.clone(),
            None => match li.format {
                super::model_data::Format::Number => "0".to_owned(),
                super::model_data::Format::Boolean => "false".to_owned(),
                _ => String::new(),
            },
        }
    };
    render(&cell)
}

/// A `text/csv` answer.
pub(super) fn csv_response(body: String) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    resp
}
