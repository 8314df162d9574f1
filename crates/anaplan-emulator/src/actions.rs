//! Bulk-action discovery (reference §4.1): the model's processes, exports,
//! imports, files and other actions, their metadata, and the routes of every
//! bulk endpoint. All of them live under `/2/0/workspaces/{ws}/models/{m}`;
//! the model-direct forms (`/2/0/models/{m}/imports`…) are not served (404).

use super::Inner;
use super::api::paged;
use super::bulk::{ExportDef, ImportDef, Kind, Step};
use super::data::Model;
use super::util::{Ids, api_status, envelope};
use super::{dumps, files, model_status, tasks, uploads};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;

/// Every bulk route; merged into the main router.
pub fn routes() -> Router<Arc<Inner>> {
    const M: &str = "/2/0/workspaces/{ws}/models/{m}";
    let mut router = Router::new()
        .route(&format!("{M}/processes"), get(processes))
        .route(&format!("{M}/exports"), get(exports))
        .route(&format!("{M}/imports"), get(imports))
        .route(&format!("{M}/files"), get(files::list))
        .route(&format!("{M}/actions"), get(actions))
        .route(&format!("{M}/dashboards"), get(dashboards))
        .route(&format!("{M}/processes/{{id}}"), get(process_metadata))
        .route(&format!("{M}/exports/{{id}}"), get(export_metadata))
        .route(&format!("{M}/imports/{{id}}"), get(import_metadata))
        .route(&format!("{M}/processes/{{id}}/tasks/{{t}}/dumps/{{o}}"), get(dumps::process_whole))
        .route(&format!("{M}/processes/{{id}}/tasks/{{t}}/dumps/{{o}}/chunks"), get(dumps::process_chunks))
        .route(&format!("{M}/processes/{{id}}/tasks/{{t}}/dumps/{{o}}/chunks/{{n}}"), get(dumps::process_chunk))
        .route(&format!("{M}/imports/{{id}}/tasks/{{t}}/dump"), get(dumps::import_whole))
        .route(&format!("{M}/imports/{{id}}/tasks/{{t}}/dump/chunks"), get(dumps::import_chunks))
        .route(&format!("{M}/imports/{{id}}/tasks/{{t}}/dump/chunks/{{n}}"), get(dumps::import_chunk))
        .route(&format!("{M}/optimizeActions/{{id}}/tasks/{{t}}/solutionLogs"), get(dumps::solution_log))
        .route(&format!("{M}/files/{{f}}"), get(files::whole).post(uploads::set_chunk_count).put(uploads::put_whole))
        .route(&format!("{M}/files/{{f}}/chunks"), get(files::chunks))
        .route(&format!("{M}/files/{{f}}/chunks/{{n}}"), get(files::chunk).put(uploads::put_chunk))
        .route(&format!("{M}/files/{{f}}/complete"), post(uploads::complete))
        .route("/2/0/models/{m}/status", get(model_status::model_status));
    for kind in [Kind::Process, Kind::Export, Kind::Import] {
        let seg = kind.segment();
        router = router
            .route(&format!("{M}/{seg}/{{id}}/tasks"), post(tasks::start).get(tasks::list))
            .route(&format!("{M}/{seg}/{{id}}/tasks/{{t}}"), get(tasks::status).delete(tasks::cancel));
    }
    // Other actions: the description documents no cancel of their tasks (DELETE is a 405).
    router
        .route(&format!("{M}/actions/{{id}}/tasks"), post(tasks::start).get(tasks::list))
        .route(&format!("{M}/actions/{{id}}/tasks/{{t}}"), get(tasks::status))
}

/// The action family of a task/metadata URL: segment 7 of
/// `/2/0/workspaces/{ws}/models/{m}/{kind}/…`.
pub(super) fn kind_of(uri: &Uri) -> Option<Kind> {
    uri.path().split('/').nth(7).and_then(Kind::from_segment)
}

/// The model, after checking the workspace exists and holds it (else 404,
/// as Anaplan answers for an unknown id or a model seen through the wrong workspace).
pub(super) fn scope<'a>(inner: &'a Inner, ws: &str, m: &str, path: &str) -> Result<&'a Model, Response> {
    match inner.catalog.model(m) {
        Some(model) if model.workspace_id == ws && inner.catalog.workspace(ws).is_some() => Ok(model),
        _ => Err(api_status(StatusCode::NOT_FOUND, path)),
    }
}

/// One page of a model's `key` collection; `object` names the schema (`objects/process`).
fn listing(
    inner: &Inner,
    uri: &Uri,
    (ws, m): (&str, &str),
    (key, object): (&str, &str),
    item: fn(&Model) -> Vec<Value>,
) -> Response {
    match scope(inner, ws, m, uri.path()) {
        Ok(model) => paged(inner, uri, key, &format!("models/{m}/objects/{object}"), item(model)),
        Err(resp) => resp,
    }
}

fn export_item(e: &ExportDef) -> Value {
    json!({
        "id": e.id,
        "name": e.name,
        "exportType": "TABULAR_MULTI_COLUMN",
        "exportFormat": e.format,
        "encoding": "UTF-8",
        "layout": "TABULAR_MULTI_COLUMN",
    })
}

fn import_item(i: &ImportDef) -> Value {
    json!({ "id": i.id, "name": i.name, "importType": "HIERARCHY_DATA", "importDataSourceId": i.file_id })
}

/// `GET …/processes` → `processes[{id,name}]`.
pub async fn processes(State(inner): State<Arc<Inner>>, Ids((ws, m)): Ids<(String, String)>, uri: Uri) -> Response {
    listing(&inner, &uri, (&ws, &m), ("processes", "process"), |model| {
        model.bulk.processes.iter().map(|p| json!({ "id": p.id, "name": p.name })).collect()
    })
}

/// `GET …/exports` → `exports[{id,name,exportType,exportFormat,encoding,layout}]`.
pub async fn exports(State(inner): State<Arc<Inner>>, Ids((ws, m)): Ids<(String, String)>, uri: Uri) -> Response {
    listing(&inner, &uri, (&ws, &m), ("exports", "export"), |model| {
        model.bulk.exports.iter().map(|e| export_item(e)).collect()
    })
}

/// `GET …/imports` → `imports[{id,name,importType,importDataSourceId}]`.
pub async fn imports(State(inner): State<Arc<Inner>>, Ids((ws, m)): Ids<(String, String)>, uri: Uri) -> Response {
    listing(&inner, &uri, (&ws, &m), ("imports", "import"), |model| {
        model.bulk.imports.iter().map(|i| import_item(i)).collect()
    })
}

/// `GET …/actions` → `actions[{id,actionType,name}]`: Revenue Plan's deletes using a
/// selection and its Optimizer action; a model without any answers the empty-collection shape (no `actions` key).
pub async fn actions(State(inner): State<Arc<Inner>>, Ids((ws, m)): Ids<(String, String)>, uri: Uri) -> Response {
    listing(&inner, &uri, (&ws, &m), ("actions", "action"), |model| {
        model.bulk.actions.iter().map(|a| json!({ "id": a.id, "actionType": a.action_type, "name": a.name })).collect()
    })
}

/// `GET …/dashboards` → `dashboards[{id,name}]` (offset and limit only: the description
/// documents no `sort` here).
pub async fn dashboards(State(inner): State<Arc<Inner>>, Ids((ws, m)): Ids<(String, String)>, uri: Uri) -> Response {
    listing(&inner, &uri, (&ws, &m), ("dashboards", "dashboard"), |model| {
        model.dashboards.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect()
    })
}

fn metadata(key: &str, m: &str, payload: Value) -> Response {
    let mut body = envelope(&format!("models/{m}/objects/{key}"));
    body.insert(key.into(), payload);
    Json(Value::Object(body)).into_response()
}

/// `GET …/processes/{id}` → `processMetadata{name, actions[]}` (steps in run order).
pub async fn process_metadata(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    let model = match scope(&inner, &ws, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let Some(process) = model.bulk.processes.iter().find(|p| p.id == id) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let steps: Vec<Value> = process
        .steps
        .iter()
        .filter_map(|step| match step {
            Step::Import { id, .. } => super::bulk::import(id).map(|i| {
                let mut v = import_item(i);
                v["actionType"] = json!("IMPORT");
                v
            }),
            Step::Export { id } => super::bulk::export(id).map(|e| {
                let mut v = export_item(e);
                v["actionType"] = json!("EXPORT");
                v
            }),
            // "Other actions just contain the id, name, and actionType".
            Step::Optimizer { id } => super::bulk::other_action(id)
                .map(|a| json!({ "id": a.id, "name": a.name, "actionType": a.action_type })),
        })
        .collect();
    metadata("processMetadata", &m, json!({ "name": process.name, "actions": steps }))
}

/// `GET …/exports/{id}` → `exportMetadata` (columns, row count, format…).
pub async fn export_metadata(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    let model = match scope(&inner, &ws, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let Some(e) = model.bulk.exports.iter().find(|e| e.id == id) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let data_types: Vec<&str> = (0..e.headers.len()).map(|i| if i == 0 { "ENTITY" } else { "MIXED" }).collect();
    let list_names: Vec<&str> = e.headers.iter().map(|_| "").collect();
    metadata(
        "exportMetadata",
        &m,
        json!({
            "columnCount": e.headers.len(),
            "dataTypes": data_types,
            "delimiter": "\"",
            "encoding": "UTF-8",
            "exportFormat": e.format,
            "headerNames": e.headers,
            "listNames": list_names,
            "rowCount": e.row_count(),
            "separator": e.separator,
            "layout": "TABULAR_MULTI_COLUMN",
        }),
    )
}

/// `GET …/imports/{id}` → `importMetadata{name, type: FILE, source{…}}`.
pub async fn import_metadata(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    let model = match scope(&inner, &ws, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let Some(i) = model.bulk.imports.iter().find(|i| i.id == id) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    metadata(
        "importMetadata",
        &m,
        json!({
            "name": i.name,
            "type": "FILE",
            "source": {
                "textEncoding": "UTF-8",
                "columnSeparator": ",",
                "textDelimiter": "\"",
                "headerRow": 1,
                "firstDataRow": 2,
                "decimalSeparator": ".",
                "headerNames": i.headers,
                "columnCount": i.headers.len(),
            },
        }),
    )
}
