//! The functions: one file per function folder under `functions/`, each with its
//! declaration (a `pub const FUNCTION: Function`, see [`crate::machinery::declare`]) and its
//! handler, and nothing else: what they are built from is in [`crate::machinery`]. The
//! declarations are the one source of the router, `functions/*/function.json` (a test keeps
//! the committed files equal), the parameter checks and the connector's Swagger
//! (`anaplan-functions openapi`), answer schemas and further operations on a path included.
//!
//! # Adding a function
//! A function that calls an Anaplan endpoint not used yet touches, in this order:
//! 1. The client, `crates/anaplan/src/<area>.rs` (`pub mod` in its `lib.rs`): the call,
//!    typed ids in (a new id type in `ids.rs`) and a typed answer out, read as the
//!    live-tested description (`../shared/reference/anaplan-openapi/`) documents it; its
//!    unit tests beside it. No Azure, no settings there.
//! 2. The emulator, `crates/anaplan-emulator/src/<area>.rs`: the endpoint, as strict as
//!    the description (auth, ids, states, limits, Anaplan's error shapes); in `lib.rs` its
//!    `mod`, its route and any new state in `EmulatorState`; seed data in `seed*.rs`.
//! 3. The conformance table, `crates/anaplan-emulator/tests/support/operations.rs` (shapes
//!    in `shapes.rs`): the operation's documented answers and requests, and a call in the
//!    tour of `crates/anaplan-emulator/tests/emulator/conformance.rs` (it fails for a route
//!    without an entry, or an entry it never called); strictness tests go in
//!    `crates/anaplan-emulator/tests/emulator/<area>.rs` (`mod <area>;` in its `main.rs`).
//! 4. The function, `src/functions/<name>.rs`: a typed request (`parse(&Params)`, so bad
//!    input is a 400 before Anaplan is called), the handler, and `pub const FUNCTION:
//!    Function` with its trigger (HTTP methods and body, or a timer schedule), inputs with
//!    their help text, connector operation, the `schemas` its operations answer with or take,
//!    any `more_operations` (another method on its path) and, when it runs as an Anaplan
//!    task, its [`LongRunning`](crate::machinery::declare::LongRunning) side
//!    ([`TaskCall`](crate::machinery::task_call::TaskCall) then does the asynchronous
//!    pattern, idempotency, cancellation and failure dumps). Errors are
//!    [`ProblemType`](crate::http::ProblemType)s; a new kind of error is a new entry in
//!    `src/http/problem_types.rs` and a row in the README's Errors section (a test checks).
//!    With `RequestBody::Parameters` every body key must be a declared parameter and an
//!    empty string counts as absent; a body that carries data (where `""` means something)
//!    is parsed by the function itself, as `users.rs` and `model_calendar.rs` do.
//! 5. Here: `pub mod <name>;` and `&<name>::FUNCTION` in [`FUNCTIONS`]. A new kind of
//!    object with a connector dropdown (`<kind>Id` fed by `list-objects`): its
//!    [`Object`](crate::machinery::declare::Object) variant and its kind in
//!    `list_objects.rs` (and that function's README section).
//! 6. Generated files: `functions/<name>/function.json` (what `cargo test --lib` prints
//!    when it is missing) and `infra/connector/apiDefinition.swagger.json`
//!    (`cargo run -q -- openapi > infra/connector/apiDefinition.swagger.json`; a test checks).
//! 7. Its black-box tests, `tests/app/<name>.rs` with `mod <name>;` in `tests/app/main.rs`,
//!    and a call in `tests/app/conformance.rs`'s tour so its requests are checked against
//!    the description (most app tests need Azurite: `scripts/azurite.sh start`).
//! 8. The README: its section (what it does, its parameters, a Logic Apps example), the
//!    emulator's choices where the description is silent ("The emulator and live
//!    Anaplan"), and the demo tenant's new objects.

pub mod access_review;
pub mod audit_events;
pub mod cloudworks;
pub mod describe;
pub mod dimension_items;
pub mod exception_users;
pub mod export_file;
pub mod get_view_data;
pub mod health;
pub mod import_file;
pub mod keep_signed_in;
pub mod list_items;
pub mod list_objects;
pub mod model_calendar;
pub mod model_state;
pub mod onboard;
pub mod onboard_callback;
pub mod refresh_cloudworks_sas;
pub mod revisions;
pub mod run_action;
pub mod run_integration;
pub mod run_process;
pub mod sync_model;
pub mod tenant_users;
pub mod users;
pub mod versions;
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

/// One variant of it (`anaplan-functions openapi --group NAME --auth ...`): a connector per
/// role, or the one whose connections sign in to Anaplan (`infra/connector/groups/`,
/// `infra/connector-oauth/`).
pub fn connector_definition_for(variant: crate::machinery::openapi::Variant) -> String {
    crate::machinery::openapi::connector_definition_for(FUNCTIONS, variant)
}

/// Every function the handler serves, in the connector's order.
pub const FUNCTIONS: &[&Function] = &[
    &get_view_data::FUNCTION,
    &run_process::FUNCTION,
    &run_action::FUNCTION,
    &export_file::FUNCTION,
    &import_file::FUNCTION,
    &list_objects::FUNCTION,
    &run_integration::FUNCTION,
    &refresh_cloudworks_sas::FUNCTION,
    &users::FUNCTION,
    &audit_events::FUNCTION,
    &write_cells::FUNCTION,
    &list_items::FUNCTION,
    &model_calendar::FUNCTION,
    &versions::FUNCTION,
    &revisions::FUNCTION,
    &sync_model::FUNCTION,
    &model_state::FUNCTION,
    &cloudworks::FUNCTION,
    &exception_users::FUNCTION,
    &tenant_users::FUNCTION,
    &access_review::FUNCTION,
    &describe::FUNCTION,
    &dimension_items::FUNCTION,
    &keep_signed_in::FUNCTION,
    &health::FUNCTION,
    &onboard::FUNCTION,
    &onboard_callback::FUNCTION,
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
    fn every_schema_referred_to_is_declared_alike_and_every_declared_one_is_used() {
        use crate::machinery::openapi::{definitions, swagger, tests::unmatched};
        definitions(FUNCTIONS).unwrap_or_else(|e| panic!("{e}"));
        let (undeclared, unused) = unmatched(&swagger(FUNCTIONS));
        assert!(
            undeclared.is_empty(),
            "referred to, but no function declares them (Function::schemas): {undeclared:?}"
        );
        assert!(unused.is_empty(), "declared, but never referred to: {unused:?}");
    }

    #[test]
    fn further_operations_take_methods_their_function_serves_and_its_operation_does_not() {
        // swagger() refuses a method its main operation(s) already have.
        let doc = crate::machinery::openapi::swagger(FUNCTIONS);
        for f in FUNCTIONS {
            for more in f.more_operations {
                assert!(f.methods().contains(&more.method), "{}: the handler does not take {}", f.name, more.method);
                let method = more.method.as_str().to_ascii_lowercase();
                assert_eq!(doc["paths"][format!("/{}", f.name)][method]["operationId"], more.operation.id);
            }
        }
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
