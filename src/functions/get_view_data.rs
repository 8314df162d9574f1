//! `get-view-data`: a view's cells as records, Anaplan's JSON grid, or CSV. Views above
//! Anaplan's direct-read limit are read through a large read request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::records;
use crate::anaplan::ids::{ModelId, PageSelection, ViewId, WorkspaceId};
use crate::anaplan::views::DirectRead;
use crate::http::{AppState, Call, ObjectRef, Problem};

const PARAMETERS: &[&str] =
    &["workspaceId", "workspaceName", "modelId", "modelName", "viewId", "viewName", "pages", "format"];

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params(PARAMETERS)?;
    let workspace = params.object("workspace", WorkspaceId::parse)?;
    let model = params.object("model", ModelId::parse)?;
    let view = params.object("view", ViewId::parse)?;
    let pages =
        PageSelection::parse(params.get("pages").unwrap_or("")).map_err(|e| Problem::bad_parameter(e.to_string()))?;
    let format = params.choice("format", &["records", "grid", "csv"], "records")?;

    let client = call.client(state)?;
    let ws = state.workspace(&client, workspace).await?;
    let model = state.model(&client, &ws, model).await?;
    let view = match view {
        ObjectRef::Id(id) => id,
        ObjectRef::Name(name) => {
            let found = state.catalog.resolve(&client, &crate::anaplan::Listing::Views(model.clone()), &name).await?;
            ViewId::parse(&found.id)
                .map_err(|e| Problem::from(crate::anaplan::AnaplanError::Protocol(e.to_string())))?
        }
    };

    let too_large = |message: String| {
        Problem::bad_parameter(format!(
            "the view is above Anaplan's direct-read limit of 1,000,000 cells ({message}); {}",
            "such views are read whole through a large read request, so `pages` cannot be used and format=grid is not available"
        ))
        .with("anaplan", serde_json::json!({ "status": 400, "message": message }))
    };

    match format {
        "grid" => match client.view_data_json(&model, &view, &pages).await? {
            DirectRead::Data(json) => Ok(body(json.into_bytes(), "application/json")),
            DirectRead::TooLarge(message) => Err(too_large(message)),
        },
        "csv" => match client.view_data_csv(&model, &view, &pages).await? {
            DirectRead::Data(csv) => Ok(body(csv.into_bytes(), "text/csv; charset=utf-8")),
            DirectRead::TooLarge(message) if !pages.is_empty() => Err(too_large(message)),
            DirectRead::TooLarge(_) => {
                let read = client.large_read_csv(&ws, &model, &view).await?;
                tracing::info!(pages = read.pages, bytes = read.csv.len(), "view read through a large read request");
                Ok(body(read.csv.into_bytes(), "text/csv; charset=utf-8"))
            }
        },
        _ => {
            let meta = client.view_metadata(&model, &view).await?;
            let out = match client.view_data_json(&model, &view, &pages).await? {
                DirectRead::Data(json) => records::from_grid_json(&meta, &json),
                DirectRead::TooLarge(message) if !pages.is_empty() => return Err(too_large(message)),
                DirectRead::TooLarge(message) if !meta.pages.is_empty() => {
                    return Err(Problem::bad_parameter(format!(
                        "the view is above Anaplan's direct-read limit of 1,000,000 cells ({message}) and has page dimensions: \
                         a large read returns every page in one grid, which cannot be turned into records reliably; use format=csv"
                    )));
                }
                DirectRead::TooLarge(_) => {
                    let read = client.large_read_csv(&ws, &model, &view).await?;
                    tracing::info!(
                        pages = read.pages,
                        bytes = read.csv.len(),
                        "view read through a large read request"
                    );
                    records::from_grid_csv(&meta, &read.csv)
                }
            };
            let out = out.map_err(|e| Problem::from(crate::anaplan::AnaplanError::Protocol(e)))?;
            Ok(body(out, "application/json"))
        }
    }
}

fn body(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
