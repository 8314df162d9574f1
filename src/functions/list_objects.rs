//! `list-objects`: the workspaces, models, processes, exports, imports or views an identity
//! can see, as `[{"id", "name"}]`. It feeds the custom connector's dropdowns.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::task_call;
use crate::anaplan::Listing;
use crate::anaplan::ids::WorkspaceId;
use crate::http::{AppState, Call, Problem};

const PARAMETERS: &[&str] = &["kind", "workspaceId", "workspaceName", "modelId", "modelName"];
const KINDS: &[&str] = &["workspaces", "models", "processes", "exports", "imports", "views"];

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params(PARAMETERS)?;
    let kind = params
        .get("kind")
        .ok_or_else(|| Problem::bad_parameter(format!("kind is required: one of {}", KINDS.join(", "))))?;
    let kind = params.choice("kind", KINDS, kind)?;
    let has = |name: &str| params.get(&format!("{name}Id")).is_some() || params.get(&format!("{name}Name")).is_some();
    let (wants_workspace, wants_model) = match kind {
        "workspaces" => (false, false),
        "models" => (true, false),
        _ => (true, true),
    };
    for (name, wanted) in [("workspace", wants_workspace), ("model", wants_model)] {
        if has(name) && !wanted {
            return Err(Problem::bad_parameter(format!("kind={kind} takes no {name}Id or {name}Name")));
        }
    }
    let client = call.client(state)?;
    let listing = match kind {
        "workspaces" => Listing::Workspaces,
        "models" => Listing::Models(state.workspace(&client, params.object("workspace", WorkspaceId::parse)?).await?),
        _ => {
            let (ws, model) = task_call::workspace_and_model(state, &client, &params).await?;
            match kind {
                "processes" => Listing::Processes(ws, model),
                "exports" => Listing::Exports(ws, model),
                "imports" => Listing::Imports(ws, model),
                _ => Listing::Views(model),
            }
        }
    };
    let items = state.catalog.list(&client, &listing).await?;
    let mut resp = (StatusCode::OK, serde_json::to_string(&*items).unwrap_or_else(|_| "[]".into())).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}
