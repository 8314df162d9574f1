//! Discovery endpoints: who-am-I, workspaces, models, modules and view lists,
//! with Anaplan's `offset`/`limit` paging (reference §4.1, §5.1, §6.5).

use super::Inner;
use super::data::{Model, View};
use super::seed;
use super::util::{Ids, api_error, api_status, envelope, query_flag, query_get, query_pairs};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Default page size when the client sends no `limit` (Anaplan's documented max).
const DEFAULT_LIMIT: usize = 5000;

/// `GET /2/0/users/me`: a cheap who-am-I call, answering the user the token belongs to
/// (the integration user for every token the token services issue; another seeded user
/// for one from [`super::Emulator::access_token_for`]).
pub async fn users_me(State(inner): State<Arc<Inner>>, uri: Uri, headers: HeaderMap) -> Response {
    // The gate let only a live token through; a token that died since is a 401 too.
    let Some(n) = super::auth::token_user(&inner, &headers) else {
        return api_status(StatusCode::UNAUTHORIZED, uri.path());
    };
    let user = seed::scim_user(n);
    let mut body = envelope("objects/user");
    body.insert(
        "user".into(),
        json!({
            "id": user.id,
            "active": user.active,
            "email": user.user_name,
            "emailOptIn": false,
            "firstName": user.given_name,
            "lastName": user.family_name,
        }),
    );
    Json(Value::Object(body)).into_response()
}

/// Parses a non-negative integer query parameter; a bad value is a 400.
fn usize_param(pairs: &[(String, String)], key: &str, default: usize, path: &str) -> Result<usize, Response> {
    match query_get(pairs, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [{key}]"), path)),
    }
}

/// Answers one page of `items` under `key`.
///
/// `limit` is silently capped to `page_size_cap`; `meta.paging` carries
/// `currentPageSize`, `offset`, `totalSize` and ready `next`/`previous` URLs.
/// An empty collection omits both its array key and `meta.paging`, like the
/// captured empty-collection sample; a page past the end omits the array key.
pub(super) fn paged(inner: &Inner, uri: &Uri, key: &str, schema: &str, items: Vec<Value>) -> Response {
    paged_capped(inner, uri, (key, schema), items, inner.cfg.page_size_cap)
}

/// [`paged`] with an explicit cap: chunk lists use Anaplan's 5000 rather than
/// `page_size_cap`, since no real file has more chunks than one page holds.
pub(super) fn paged_chunks(inner: &Inner, uri: &Uri, schema: &str, items: Vec<Value>) -> Response {
    paged_capped(inner, uri, ("chunks", schema), items, DEFAULT_LIMIT)
}

fn paged_capped(inner: &Inner, uri: &Uri, (key, schema): (&str, &str), items: Vec<Value>, cap: usize) -> Response {
    let path = uri.path();
    let pairs = query_pairs(uri.query());
    let (offset, limit) =
        match (usize_param(&pairs, "offset", 0, path), usize_param(&pairs, "limit", DEFAULT_LIMIT, path)) {
            (Ok(o), Ok(l)) if l > 0 => (o, l),
            (Err(e), _) | (_, Err(e)) => return e,
            _ => {
                return api_error(StatusCode::BAD_REQUEST, "Invalid value for parameter [limit]", path);
            }
        };
    let step = limit.min(cap.max(1));
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(step).collect();

    let mut meta = Map::new();
    if total > 0 {
        let mut paging = Map::new();
        paging.insert("currentPageSize".into(), json!(page.len()));
        paging.insert("offset".into(), json!(offset));
        paging.insert("totalSize".into(), json!(total));
        let link = |off: usize| page_url(inner, path, &pairs, off, step);
        if offset + page.len() < total {
            paging.insert("next".into(), json!(link(offset + page.len())));
        }
        if offset > 0 {
            paging.insert("previous".into(), json!(link(offset.saturating_sub(step))));
        }
        meta.insert("paging".into(), Value::Object(paging));
    }
    meta.insert("schema".into(), json!(format!("https://api.anaplan.com/2/0/{schema}")));
    let mut body = Map::new();
    body.insert("meta".into(), Value::Object(meta));
    body.insert("status".into(), json!({ "code": 200, "message": "Success" }));
    if !page.is_empty() {
        body.insert(key.into(), Value::Array(page));
    }
    Json(Value::Object(body)).into_response()
}

/// A full URL for another page: same path and other parameters, new offset/limit.
fn page_url(inner: &Inner, path: &str, pairs: &[(String, String)], offset: usize, limit: usize) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "offset" && k != "limit") {
        q.append_pair(k, v);
    }
    q.append_pair("offset", &offset.to_string());
    q.append_pair("limit", &limit.to_string());
    format!("{}{path}?{}", inner.base_url, q.finish())
}

/// `GET /2/0/workspaces[?tenantDetails=true]`.
pub async fn workspaces(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let details = query_flag(&query_pairs(uri.query()), "tenantDetails");
    let items = inner
        .catalog
        .workspaces
        .iter()
        .map(|w| {
            let mut o = json!({ "id": w.id, "name": w.name, "active": true });
            if details {
                o["sizeAllowance"] = json!(w.size_allowance);
                o["currentSize"] = json!(w.current_size);
            }
            o
        })
        .collect();
    paged(&inner, &uri, "workspaces", "objects/workspace", items)
}

/// True when the query asks for `modelDetails=true`.
fn model_details(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| q.split('&').any(|p| p.eq_ignore_ascii_case("modelDetails=true")))
}

/// A model as listed; with `modelDetails=true` also its memory use, last save and dates
/// (fixed values: the seed does not change).
fn model_json(inner: &Inner, m: &Model, details: bool) -> Value {
    let ws_name = inner.catalog.workspace(m.workspace_id).map(|w| w.name).unwrap_or_default();
    let state = super::tasks::active_state(&inner.state(), m);
    let mut model = json!({
        "id": m.id,
        "activeState": state,
        "name": m.name,
        "currentWorkspaceId": m.workspace_id,
        "currentWorkspaceName": ws_name,
        "modelUrl": format!(
            "https://us1a.app.anaplan.com/core?selectedWorkspaceId={}&selectedModelId={}",
            m.workspace_id, m.id
        ),
        "categoryValues": [],
    });
    if details && let Some(o) = model.as_object_mut() {
        o.insert("memoryUsage".into(), json!(48_234_496));
        // A string in the description's Model schema.
        o.insert("lastSavedSerialNumber".into(), json!("2000417"));
        o.insert("lastModifiedByUserGuid".into(), json!(super::seed::USER_ID));
        o.insert("isoCreationDate".into(), json!("2025-01-06T09:12:44.000+0000"));
        o.insert("lastModified".into(), json!("2026-06-30T17:45:02.000+0000"));
    }
    model
}

/// `GET /2/0/workspaces/{ws}/models`; unknown workspace → 404.
pub async fn workspace_models(State(inner): State<Arc<Inner>>, Ids(ws): Ids<String>, uri: Uri) -> Response {
    if inner.catalog.workspace(&ws).is_none() {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    let items = inner
        .catalog
        .models
        .iter()
        .filter(|m| m.workspace_id == ws)
        .map(|m| model_json(&inner, m, model_details(&uri)))
        .collect();
    paged(&inner, &uri, "models", "objects/model", items)
}

/// `GET /2/0/models`: every model the user can see, in all workspaces (what the Python
/// anaplan-sdk lists; not in the reference notes, shaped like the per-workspace list).
pub async fn all_models(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let items = inner.catalog.models.iter().map(|m| model_json(&inner, m, model_details(&uri))).collect();
    paged(&inner, &uri, "models", "objects/model", items)
}

/// Model by exact id, or Anaplan's 404.
pub(super) fn find_model<'a>(inner: &'a Inner, id: &str, path: &str) -> Result<&'a Model, Response> {
    inner.catalog.model(id).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))
}

/// `GET /2/0/models/{m}` → `model`.
pub async fn model(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri) -> Response {
    match find_model(&inner, &m, uri.path()) {
        Ok(model) => {
            let mut body = envelope("objects/model");
            body.insert("model".into(), model_json(&inner, model, model_details(&uri)));
            Json(Value::Object(body)).into_response()
        }
        Err(resp) => resp,
    }
}

/// `GET /2/0/models/{m}/modules` → `modules[{id,name}]`.
pub async fn modules(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri) -> Response {
    let model = match find_model(&inner, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let items = model.modules.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
    paged(&inner, &uri, "modules", "objects/module", items)
}

fn view_json(v: &View) -> Value {
    json!({ "id": v.id, "name": v.name, "moduleId": v.module_id })
}

/// `GET /2/0/models/{m}/views[?includesubsidiaryviews=true]`: default views,
/// plus saved views only when the flag is set.
pub async fn views(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri) -> Response {
    let model = match find_model(&inner, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let all = query_flag(&query_pairs(uri.query()), "includesubsidiaryviews");
    let items = model.views.iter().filter(|v| all || v.is_default).map(view_json).collect();
    paged(&inner, &uri, "views", "objects/view", items)
}

/// `GET /2/0/models/{m}/modules/{module}/views`: every view of that module.
pub async fn module_views(
    State(inner): State<Arc<Inner>>,
    Ids((m, module)): Ids<(String, String)>,
    uri: Uri,
) -> Response {
    let model = match find_model(&inner, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    if !model.modules.iter().any(|(id, _)| *id == module) {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    let items = model.views.iter().filter(|v| v.module_id == module).map(view_json).collect();
    paged(&inner, &uri, "views", "objects/view", items)
}
