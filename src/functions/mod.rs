//! The functions: one file per function folder under `functions/`, each with its
//! declaration (a `pub const FUNCTION: Function`, see [`declare`]) and its handler. The
//! declarations are the one source of the router, `functions/*/function.json` (a test keeps
//! the committed files equal), the parameter checks and the connector's Swagger
//! (`anaplan-functions openapi`).
//!
//! # Adding a function
//! 1. `src/functions/<name>.rs`: a typed request (`parse(&Params)`, so bad input is a 400
//!    before Anaplan is called), the handler, and `pub const FUNCTION: Function` naming its
//!    trigger (HTTP methods and body, or a timer schedule), inputs with their help text,
//!    connector operation and, when it runs as an Anaplan task, its
//!    [`declare::LongRunning`] side (which implies the workspace, model and action inputs;
//!    [`task_call::TaskRequest`] parses them and [`task_call::TaskCall`] does the
//!    asynchronous pattern, idempotency, cancellation and failure dumps).
//! 2. Here: `pub mod <name>;` and `&<name>::FUNCTION` in [`FUNCTIONS`].
//! 3. `functions/<name>/function.json`: what `cargo test --lib` prints when it is missing.
//! 4. `infra/connector/apiDefinition.swagger.json`: regenerate with
//!    `cargo run -q -- openapi > infra/connector/apiDefinition.swagger.json` (a test checks).
//! 5. Its Anaplan calls in `src/anaplan/` (typed ids in, typed answers out; no Azure there).
//! 6. Its tests in `tests/<name>.rs` (and the emulator routes they need, in `src/emulator/`), and its
//!    section in the README.

pub mod audit_events;
pub mod export_file;
pub mod get_view_data;
pub mod import_file;
pub mod list_items;
pub mod list_objects;
pub mod refresh_cloudworks_sas;
pub mod run_integration;
pub mod run_process;
pub mod users;
pub mod write_cells;

use crate::http::AppState;
use crate::machinery::declare::Function;

/// The handler's router: the host's readiness probe, then every function in [`FUNCTIONS`].
pub fn router(state: AppState) -> axum::Router {
    crate::machinery::router::router_for(state, FUNCTIONS)
}

/// The Logic Apps custom connector (Swagger 2.0) of every function, as printed by
/// `anaplan-functions openapi` and committed as `infra/connector/apiDefinition.swagger.json`.
pub fn connector_definition() -> String {
    crate::machinery::openapi::connector_definition(FUNCTIONS)
}

/// Every function the handler serves, in the connector's order.
pub const FUNCTIONS: &[&Function] = &[
    &get_view_data::FUNCTION,
    &run_process::FUNCTION,
    &export_file::FUNCTION,
    &import_file::FUNCTION,
    &list_objects::FUNCTION,
    &run_integration::FUNCTION,
    &refresh_cloudworks_sas::FUNCTION,
    &users::FUNCTION,
    &audit_events::FUNCTION,
    &write_cells::FUNCTION,
    &list_items::FUNCTION,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_folders_are_the_declarations() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("functions");
        let mut folders: Vec<String> =
            std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        folders.sort();
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        for f in FUNCTIONS {
            let want = f.function_json();
            let path = root.join(f.name).join("function.json");
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let got: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(
                got,
                want,
                "{} must be, as its declaration says:\n{}",
                path.display(),
                serde_json::to_string_pretty(&want).unwrap()
            );
        }
        assert_eq!(folders, names, "one folder under functions/ per declared function");
    }

    #[test]
    fn the_committed_definition_is_the_generated_one() {
        let committed = include_str!("../../infra/connector/apiDefinition.swagger.json");
        assert!(
            committed == connector_definition(),
            "infra/connector/apiDefinition.swagger.json is not what the declarations give: run \
             cargo run -q -- openapi > infra/connector/apiDefinition.swagger.json"
        );
    }

    #[test]
    fn names_are_unique_and_routes_are_lowercase() {
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len());
        for f in FUNCTIONS {
            assert_eq!(f.name, f.name.to_ascii_lowercase(), "the router matches lowercase paths");
        }
    }
}
