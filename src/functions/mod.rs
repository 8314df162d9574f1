//! One module per Azure function folder under `functions/`. Each takes a [`Call`] and
//! answers a response or a [`Problem`].

pub mod export_file;
pub mod get_view_data;
pub mod import_file;
pub mod list_objects;
pub mod records;
pub mod run_process;
pub mod task_call;

use axum::http::Method;
use axum::response::Response;

use crate::http::{AppState, Call, Problem};

/// A function the handler serves: its folder name and the methods its function.json allows.
#[derive(Debug)]
pub struct Function {
    /// Folder name = route (`/api/<name>`).
    pub name: &'static str,
    /// Methods the function accepts.
    pub methods: &'static [Method],
    /// Largest request body it reads.
    pub max_body: usize,
}

/// Parameters come as a query string or a small JSON body.
const PARAMETER_BODY: usize = 1024 * 1024;
/// The Functions host's own request body limit (`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` default).
const FILE_BODY: usize = 100 * 1024 * 1024;

/// Every function, as in `functions/*/function.json` (a test keeps them equal).
pub const FUNCTIONS: &[Function] = &[
    Function { name: "get-view-data", methods: &[Method::GET, Method::POST], max_body: PARAMETER_BODY },
    Function { name: "run-process", methods: &[Method::GET, Method::POST, Method::DELETE], max_body: PARAMETER_BODY },
    Function { name: "export-file", methods: &[Method::GET, Method::POST, Method::DELETE], max_body: PARAMETER_BODY },
    Function { name: "import-file", methods: &[Method::GET, Method::POST, Method::DELETE], max_body: FILE_BODY },
    Function { name: "list-objects", methods: &[Method::GET], max_body: PARAMETER_BODY },
];

/// Runs function `name` for `call`.
pub async fn invoke(state: &AppState, name: &'static str, call: Call) -> Result<Response, Problem> {
    match name {
        "get-view-data" => get_view_data::handle(state, call).await,
        "run-process" => run_process::handle(state, call).await,
        "export-file" => export_file::handle(state, call).await,
        "import-file" => import_file::handle(state, call).await,
        "list-objects" => list_objects::handle(state, call).await,
        other => Err(Problem::not_implemented(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_folders_match_the_handler() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("functions");
        let mut folders: Vec<String> =
            std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        folders.sort();
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        assert_eq!(folders, names);
        for f in FUNCTIONS {
            let text = std::fs::read_to_string(root.join(f.name).join("function.json")).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let bindings = json["bindings"].as_array().unwrap();
            assert_eq!(bindings.len(), 2, "{}: one HTTP trigger and one HTTP output", f.name);
            let trigger = &bindings[0];
            assert_eq!(trigger["type"], "httpTrigger");
            assert_eq!(trigger["direction"], "in");
            assert_eq!(trigger["name"], "req");
            assert_eq!(trigger["authLevel"], "function");
            assert!(trigger.get("route").is_none(), "{}: the route is the folder name", f.name);
            let methods: Vec<String> =
                trigger["methods"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_uppercase()).collect();
            let want: Vec<String> = f.methods.iter().map(|m| m.to_string()).collect();
            assert_eq!(methods, want, "{}", f.name);
            assert_eq!(bindings[1], serde_json::json!({"type": "http", "direction": "out", "name": "res"}));
        }
    }
}
