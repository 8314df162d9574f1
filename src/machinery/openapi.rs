//! The Logic Apps custom connector (Swagger 2.0), generated from the declarations:
//! `anaplan-functions openapi` prints it, and `infra/connector/apiDefinition.swagger.json`
//! is that output, committed (a test keeps the two equal). To regenerate it:
//!
//! ```text
//! cargo run -q -- openapi > infra/connector/apiDefinition.swagger.json
//! ```
//!
//! A long-running function's declaration gives three operations on its path: POST starts
//! (its inputs, then `wait` and `Idempotency-Key`), GET checks a task and DELETE cancels one
//! (the ids as the status URL carries them, `taskId`, then its status inputs). Further
//! operations on a path are the function's [`Function::more_operations`].
//!
//! The `definitions` are the shared ones kept here (problems, task status, object items) and
//! those each function declares in [`Function::schemas`]; the schema helpers below
//! ([`prop`], [`schema_ref`], ...) are for those declarations.
//!
//! Variants ([`Variant`], `openapi --group NAME --auth functionKey|anaplanOAuth
//! [--power-platform]`): one connector per role has only its [`Group`]'s operations (plus the
//! operations its dropdowns call, see [`swagger_for`]); the `anaplanOAuth` connector signs each
//! connection in to Anaplan (OAuth 2 authorization code) and still carries the function key,
//! as an internal header whose default the deployment sets (Logic Apps), or through a
//! `setheader` policy from a connection parameter (Power Platform, which runs policies).

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::declare::{
    Function, Group, IDEMPOTENCY_KEY, Input, Kind, LongRunning, MethodOperation, Object, Operation, Param, Place,
    TASK_ID, WAIT,
};

/// How a connector's connections authenticate (`main.bicep`'s `connectorAuth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectorAuth {
    /// The connection asks for a function key (`x-functions-key`); the app uses its own
    /// Anaplan identity.
    #[default]
    FunctionKey,
    /// Each connection signs in to Anaplan (Generic OAuth 2, authorization code) and the app
    /// runs in `caller` mode; the function key travels as an internal header.
    AnaplanOAuth,
}

impl ConnectorAuth {
    /// Its name on the command line and in `main.bicep`.
    pub fn name(self) -> &'static str {
        match self {
            ConnectorAuth::FunctionKey => "functionKey",
            ConnectorAuth::AnaplanOAuth => "anaplanOAuth",
        }
    }

    /// The variant named `name`.
    pub fn from_name(name: &str) -> Option<ConnectorAuth> {
        [ConnectorAuth::FunctionKey, ConnectorAuth::AnaplanOAuth].into_iter().find(|a| a.name() == name)
    }
}

/// Which connector definition: the operations of one group (or every one), how connections
/// authenticate, and for whom (Logic Apps, or a Power Platform custom connector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Variant {
    /// Only this group's operations; `None`: every operation.
    pub group: Option<Group>,
    /// How connections authenticate.
    pub auth: ConnectorAuth,
    /// For Power Platform (`paconn`): with [`ConnectorAuth::AnaplanOAuth`], the function key
    /// comes from a `setheader` policy (`apiProperties.json`) instead of an internal header.
    pub power_platform: bool,
}

/// The OAuth host in the committed definitions: Anaplan's global one (`ANAPLAN_OAUTH_URL`'s
/// default). The deployment replaces it with the region's (`main.bicep`), as a
/// Power Platform user edits it for theirs.
pub const OAUTH_HOST_PLACEHOLDER: &str = "https://us1a.app.anaplan.com";
/// Anaplan's authorization URL path (no `?`: the connector appends the query).
pub const AUTHORIZATION_PATH: &str = "/auth/prelogin";
/// Anaplan's token and refresh URL path.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The scopes a connection asks for (`offline_access` gives the refresh token).
pub const OAUTH_SCOPES: [&str; 3] = ["openid", "email", "offline_access"];
/// The name of the OAuth security definition.
pub const OAUTH_SECURITY: &str = "oauth2_auth";
/// `#/parameters/<this>`: the internal `x-functions-key` header of the `anaplanOAuth`
/// connector for Logic Apps.
pub const FUNCTION_KEY_PARAMETER: &str = "functionKey";
/// Its default in the committed definitions; the deployment sets the connector's key.
pub const FUNCTION_KEY_PLACEHOLDER: &str = "set-by-the-deployment";

/// The definition of a variant, as printed (2-space indentation, a trailing newline).
pub fn connector_definition_for(functions: &[&Function], variant: Variant) -> String {
    let doc = swagger_for(functions, variant);
    serde_json::to_string_pretty(&doc).expect("JSON values always serialise") + "\n"
}

/// The definition of a variant as a JSON value: [`swagger`] of every function, then
/// - for a group, only the paths of its functions and of the functions whose operations its
///   dropdowns (`x-ms-dynamic-values`, `x-ms-dynamic-schema`) call (list-objects, for the
///   users and CloudWorks connectors), the definitions those paths use, and a title,
///   description and connection test of its own;
/// - for `anaplanOAuth`, the OAuth 2 security definition and (Logic Apps) the internal
///   function key header on every operation.
pub fn swagger_for(functions: &[&Function], variant: Variant) -> Value {
    let mut doc = swagger(functions);
    if let Some(group) = variant.group {
        keep_group(&mut doc, functions, group);
    }
    if variant.auth == ConnectorAuth::AnaplanOAuth {
        sign_in_with_anaplan(&mut doc, !variant.power_platform);
    }
    doc
}

/// Every `operationId` that a dropdown or dynamic schema under `node` calls.
fn called_operations<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
    match node {
        Value::Object(map) => {
            for key in ["x-ms-dynamic-values", "x-ms-dynamic-schema"] {
                if let Some(id) = map.get(key).and_then(|d| d["operationId"].as_str()) {
                    out.push(id);
                }
            }
            map.values().for_each(|v| called_operations(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| called_operations(v, out)),
        _ => {}
    }
}

/// The definitions `node` refers to, transitively through `definitions`.
fn definitions_used(definitions: &Map<String, Value>, node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/"))
                && !out.iter().any(|n| n == name)
            {
                out.push(name.to_owned());
                if let Some(def) = definitions.get(name) {
                    definitions_used(definitions, def, out);
                }
            }
            map.values().for_each(|v| definitions_used(definitions, v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| definitions_used(definitions, v, out)),
        _ => {}
    }
}

/// Keeps `group`'s paths (and those its dropdowns call) and the definitions they use.
fn keep_group(doc: &mut Value, functions: &[&Function], group: Group) {
    let all_paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let definitions = doc["definitions"].as_object().cloned().unwrap_or_default();
    let path_of = |id: &str| {
        all_paths.iter().find_map(|(path, item)| {
            let ops = item.as_object()?;
            ops.values().any(|op| op["operationId"] == id).then(|| path.clone())
        })
    };
    let mut kept: Vec<String> =
        functions.iter().filter(|f| f.group == Some(group)).map(|f| format!("/{}", f.name)).collect();
    kept.retain(|p| all_paths.contains_key(p));
    // The operations the kept ones call for their dropdowns, until nothing new is called.
    loop {
        let mut called = Vec::new();
        for path in &kept {
            let mut used = Vec::new();
            definitions_used(&definitions, &all_paths[path], &mut used);
            called_operations(&all_paths[path], &mut called);
            for name in &used {
                if let Some(def) = definitions.get(name) {
                    called_operations(def, &mut called);
                }
            }
        }
        let new: Vec<String> = called.iter().filter_map(|id| path_of(id)).filter(|p| !kept.contains(p)).collect();
        if new.is_empty() {
            break;
        }
        for p in new {
            if !kept.contains(&p) {
                kept.push(p);
            }
        }
    }
    let paths: Map<String, Value> =
        all_paths.iter().filter(|(p, _)| kept.contains(p)).map(|(p, item)| (p.clone(), item.clone())).collect();
    let mut used = Vec::new();
    definitions_used(&definitions, &Value::Object(paths.clone()), &mut used);
    let kept_definitions: Map<String, Value> =
        definitions.into_iter().filter(|(name, _)| used.contains(name)).collect();
    doc["paths"] = Value::Object(paths);
    doc["definitions"] = Value::Object(kept_definitions);
    doc["info"]["title"] = json!(format!("Anaplan Functions: {}", group.title()));
    doc["info"]["description"] = json!(format!(
        "{}, from Logic Apps, through your own anaplan-functions app (an Azure Functions custom handler). This \
         connector has the {} group's operations only, and a function key of its own.",
        group.description(),
        group.name()
    ));
    // The connection test lists what every user of the group can see.
    let kind = if group == Group::CloudWorks { "integrations" } else { "workspaces" };
    doc["x-ms-capabilities"]["testConnection"] =
        json!({ "operationId": "ListObjects", "parameters": { "kind": kind } });
}

/// OAuth 2 (authorization code) against Anaplan instead of the function key as the
/// connection's credential; with `key_header`, every operation also sends the function key
/// as an internal header (one root parameter, so the deployment sets its default once).
fn sign_in_with_anaplan(doc: &mut Value, key_header: bool) {
    let scopes: Map<String, Value> = OAUTH_SCOPES
        .iter()
        .map(|s| {
            let text = match *s {
                "openid" => "Sign in with the user's Anaplan account.",
                "email" => "The user's email address.",
                _ => "A refresh token, so the connection stays signed in.",
            };
            ((*s).to_owned(), json!(text))
        })
        .collect();
    doc["securityDefinitions"] = json!({
        OAUTH_SECURITY: {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": format!("{OAUTH_HOST_PLACEHOLDER}{AUTHORIZATION_PATH}"),
            "tokenUrl": format!("{OAUTH_HOST_PLACEHOLDER}{TOKEN_PATH}"),
            "scopes": scopes,
            "description": "Each connection signs in to Anaplan with its user's own account (an Anaplan OAuth client \
                            of type authorization code); the app acts as that user.",
        }
    });
    doc["security"] = json!([{ OAUTH_SECURITY: [] }]);
    let description = doc["info"]["description"].as_str().unwrap_or_default().to_owned();
    doc["info"]["description"] = json!(format!(
        "{description} Each connection signs in to Anaplan with its user's own account, and the app acts as that user."
    ));
    if !key_header {
        return;
    }
    doc["parameters"][FUNCTION_KEY_PARAMETER] = json!({
        "name": "x-functions-key",
        "in": "header",
        "required": true,
        "type": "string",
        "default": FUNCTION_KEY_PLACEHOLDER,
        "x-ms-summary": "Function key",
        "description": "The connector's function key, set by the deployment (the Functions host checks it before \
                        the app runs). Internal: the designer never shows it.",
        "x-ms-visibility": "internal",
    });
    let key = json!({ "$ref": format!("#/parameters/{FUNCTION_KEY_PARAMETER}") });
    for item in doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
        for op in item.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
            match op["parameters"].as_array_mut() {
                Some(params) => params.insert(0, key.clone()),
                None => op["parameters"] = json!([key.clone()]),
            }
        }
    }
}

/// The definition of `functions`, as printed (2-space indentation, a trailing newline).
pub fn connector_definition(functions: &[&Function]) -> String {
    let doc = swagger(functions);
    serde_json::to_string_pretty(&doc).expect("JSON values always serialise") + "\n"
}

/// The definition of `functions` as a JSON value.
///
/// # Panics
/// When two functions declare one schema name differently (see [`definitions`]), or a
/// further operation takes a method its function's main operation has (unit tests check
/// the handler's functions).
pub fn swagger(functions: &[&Function]) -> Value {
    let mut paths = Map::new();
    for f in functions {
        let Some(op) = &f.operation else { continue };
        let mut item = match &f.long_running {
            None if asynchronous(f) => {
                let mut item = json!({
                    "post": plain_operation(f, op),
                    "get": run_operation(f, op, "Get"),
                });
                // A CloudWorks run (runId) can be cancelled; an ALM sync (taskId) cannot, as
                // its description documents no cancel: no Cancel operation is offered for it
                // (a DELETE on its status URL still answers, with the 409 that says so).
                if f.inputs.iter().any(|i| matches!(i, Input::Param(p) if p.name == "runId")) {
                    item["delete"] = run_operation(f, op, "Cancel");
                }
                item
            }
            None => {
                let method = if f.methods().contains(&Method::GET) { "get" } else { "post" };
                json!({ method: plain_operation(f, op) })
            }
            Some(lr) => {
                let mut item = json!({
                    "post": start_operation(f, op, lr),
                    "get": status_operation(op, lr),
                });
                if lr.action.tasks_cancellable() {
                    item["delete"] = cancel_operation(lr);
                }
                item
            }
        };
        for more in f.more_operations {
            let method = more.method.as_str().to_ascii_lowercase();
            assert!(item.get(&method).is_none(), "{}: its main operation is on {method} already", f.name);
            item[method] = method_operation(more);
        }
        paths.insert(format!("/{}", f.name), item);
    }
    let definitions = definitions(functions).unwrap_or_else(|e| panic!("{e}"));
    json!({
        "swagger": "2.0",
        "info": {
            "title": "Anaplan Functions",
            "description": "Read Anaplan views and run processes, exports and imports from Logic Apps, through your \
                            own anaplan-functions app (an Azure Functions custom handler). Long-running actions follow \
                            the asynchronous pattern: the action ends when Anaplan's task has.",
            "version": "1.0.0",
        },
        "host": "your-function-app.azurewebsites.net",
        "basePath": "/api",
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": definitions,
        "parameters": {},
        "responses": {},
        "securityDefinitions": {
            "api_key": {
                "type": "apiKey",
                "in": "header",
                "name": "x-functions-key",
                "description": "A function key (or the host key) of the function app.",
            }
        },
        "security": [{ "api_key": [] }],
        "tags": [],
        "x-ms-capabilities": {
            "testConnection": { "operationId": "ListObjects", "parameters": { "kind": "workspaces" } }
        },
    })
}

fn visibility(important: bool) -> &'static str {
    if important { "important" } else { "advanced" }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// `{"$ref": "#/definitions/<name>"}`.
pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{name}") })
}

/// An operation's head: id, summary, description, visibility, content types.
fn head(
    id: String,
    summary: String,
    description: String,
    important: bool,
    consumes: &[&str],
    produces: &[&str],
) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(id));
    op.insert("summary".into(), json!(summary));
    op.insert("description".into(), json!(description));
    op.insert("x-ms-visibility".into(), json!(visibility(important)));
    if !consumes.is_empty() {
        op.insert("consumes".into(), json!(consumes));
    }
    op.insert("produces".into(), json!(produces));
    op
}

fn ok(op: &Operation) -> Value {
    let schema = if op.ok.array {
        json!({ "type": "array", "items": schema_ref(op.ok.schema) })
    } else {
        schema_ref(op.ok.schema)
    };
    json!({ "description": op.ok.description, "schema": schema })
}

/// The responses: `extra` (status, description) with the Problem schema, then `default`.
fn problems(mut responses: Map<String, Value>, extra: &[(&str, &str)]) -> Value {
    for (code, text) in extra {
        responses.insert((*code).to_owned(), json!({ "description": text, "schema": schema_ref("Problem") }));
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "A problem (application/problem+json): 400 bad parameter, 401/403 Anaplan refused the \
                            credentials, 404 unknown object, 409 conflict, 422 Anaplan ran it and it failed, 423 model \
                            locked, 429 throttled, 502/504 Anaplan unreachable, 503 Key Vault unreachable or the model \
                            still busy. 429 and 5xx come with Retry-After.",
            "schema": schema_ref("Problem"),
        }),
    );
    Value::Object(responses)
}

const TASK_FAILED: &str = "Anaplan ran the task and it failed: the problem lists the failed steps and their dumps.";
const CANCELLED: &str = "The task was cancelled (or had already finished, for a cancellation).";

fn accepted(what: &str) -> Value {
    json!({
        "description": format!(
            "{what} The asynchronous pattern: Logic Apps polls Location every Retry-After seconds until the final answer."
        ),
        "headers": {
            "Location": { "type": "string", "description": "The status URL (GET) of the task; DELETE on it cancels." },
            "Retry-After": { "type": "integer", "description": "Seconds to wait before polling Location." },
        },
        "schema": schema_ref("TaskAccepted"),
    })
}

/// A function that takes Idempotency-Key without a task side (run-integration) starts
/// something asynchronous all the same: its operation is a POST answering 202 with
/// Location, 409 when cancelled and 422 when it failed.
fn asynchronous(f: &Function) -> bool {
    f.inputs.iter().any(|i| matches!(i, Input::Param(p) if p.name == IDEMPOTENCY_KEY.name))
}

/// The status check (`Get`) or cancellation (`Cancel`) of an asynchronous plain function,
/// on its status URL: the object ids it was started with, `runId` (required), and for a
/// status check the rest of its parameters.
fn run_operation(f: &Function, op: &Operation, verb: &str) -> Value {
    let status = verb == "Get";
    let (summary, description) = if status {
        (
            format!("Get the status of: {}", op.summary),
            format!(
                "Checks a run started by '{}': 202 while it runs, then the same final answer the start action gives. \
                 The start action already waits for the end by itself (asynchronous pattern).",
                op.summary
            ),
        )
    } else {
        (
            format!("Cancel: {}", op.summary),
            "Asks to cancel a running run. The answer is 202 with the status URL; polling then ends in 409.".to_owned(),
        )
    };
    let produces: &[&str] = if status { op.produces } else { &["application/json", "application/problem+json"] };
    let mut out =
        head(format!("{verb}{}Run", op.id.trim_start_matches("Run")), summary, description, false, &[], produces);
    let mut params = Vec::new();
    for input in f.inputs {
        match input {
            Input::Object(o) => params.push(object_id(*o, false)),
            Input::Param(p) if p.name == "runId" || p.name == "taskId" => params.push(param(&p.required())),
            Input::Param(p) if status && p.name != IDEMPOTENCY_KEY.name => params.push(param(p)),
            _ => {}
        }
    }
    out.insert("parameters".into(), Value::Array(params));
    let mut responses = Map::new();
    if status {
        responses.insert("200".into(), ok(op));
    }
    responses
        .insert("202".into(), accepted(if status { "The run is still running." } else { "Cancellation requested." }));
    let failures: &[(&str, &str)] =
        if status { &[("409", CANCELLED), ("422", TASK_FAILED)] } else { &[("409", CANCELLED)] };
    out.insert("responses".into(), problems(responses, failures));
    Value::Object(out)
}

fn plain_operation(f: &Function, op: &Operation) -> Value {
    let mut out = head(op.id.into(), op.summary.into(), op.description.into(), op.important, op.consumes, op.produces);
    let mut start = f.all_inputs();
    if asynchronous(f) {
        // runId and dump belong to the status URL: a start with them is a 400.
        start.retain(|i| !matches!(i, Input::Param(p) if p.name == "runId" || p.name == "dump"));
    }
    out.insert("parameters".into(), Value::Array(inputs(&start)));
    let mut responses = Map::new();
    responses.insert("200".into(), ok(op));
    if asynchronous(f) {
        responses.insert("202".into(), accepted("The run was started (or is still running)."));
        out.insert("responses".into(), problems(responses, &[("409", CANCELLED), ("422", TASK_FAILED)]));
    } else {
        out.insert("responses".into(), problems(responses, &[]));
    }
    Value::Object(out)
}

fn method_operation(m: &MethodOperation) -> Value {
    let op = &m.operation;
    let mut out = head(op.id.into(), op.summary.into(), op.description.into(), op.important, op.consumes, op.produces);
    let mut params = inputs(m.inputs);
    if let Some(schema) = m.body {
        params.push(json!({
            "name": "body",
            "in": "body",
            "required": true,
            "x-ms-summary": "Body",
            "description": "The request's JSON body.",
            "schema": schema_ref(schema),
        }));
    }
    out.insert("parameters".into(), Value::Array(params));
    let mut responses = Map::new();
    responses.insert("200".into(), ok(op));
    if let Some(a) = &m.accepted {
        responses.insert(
            "202".into(),
            json!({
                "description": format!(
                    "{} The asynchronous pattern: Logic Apps polls Location every Retry-After seconds until the \
                     final answer.",
                    a.description
                ),
                "headers": {
                    "Location": { "type": "string", "description": "The status URL (GET)." },
                    "Retry-After": { "type": "integer", "description": "Seconds to wait before polling Location." },
                },
                "schema": schema_ref(a.schema),
            }),
        );
    }
    out.insert("responses".into(), problems(responses, &[]));
    Value::Object(out)
}

fn start_operation(f: &Function, op: &Operation, lr: &LongRunning) -> Value {
    let mut out = head(op.id.into(), op.summary.into(), op.description.into(), op.important, op.consumes, op.produces);
    let mut params = inputs(&f.all_inputs());
    params.push(param(&WAIT.help(
        "Hold the answer up to this many seconds (at most 100) and answer with the final result if the task \
         finished by then. Not needed with the asynchronous pattern, which Logic Apps follows by itself.",
    )));
    params.push(param(&IDEMPOTENCY_KEY));
    out.insert("parameters".into(), Value::Array(params));
    let mut responses = Map::new();
    responses.insert("200".into(), ok(op));
    responses.insert("202".into(), accepted(&format!("The {} was started (or is still running).", lr.noun)));
    out.insert("responses".into(), problems(responses, &[("409", CANCELLED), ("422", TASK_FAILED)]));
    Value::Object(out)
}

/// The ids a status URL carries, required.
fn task_ids(lr: &LongRunning) -> Vec<Value> {
    let mut out: Vec<Value> =
        [Object::Workspace, Object::Model, lr.action].iter().map(|o| object_id(*o, true)).collect();
    out.push(param(&TASK_ID));
    out
}

fn status_operation(op: &Operation, lr: &LongRunning) -> Value {
    let noun = lr.noun;
    let mut out = head(
        format!("Get{}Status", lr.action.display()),
        format!("Get the status of {} {noun}", article(noun)),
        format!(
            "Checks a {noun} task started by '{}': 202 while it runs, then the same final answer the start action \
             gives. The start action already waits for the end by itself (asynchronous pattern); use this when that \
             pattern is turned off.",
            op.summary
        ),
        false,
        &[],
        lr.status_produces.unwrap_or(op.produces),
    );
    let mut params = task_ids(lr);
    params.extend(lr.status_inputs.iter().map(param));
    params.push(param(&WAIT));
    out.insert("parameters".into(), Value::Array(params));
    let mut responses = Map::new();
    responses.insert("200".into(), ok(op));
    responses.insert("202".into(), accepted(&format!("The {noun} is still running.")));
    out.insert("responses".into(), problems(responses, &[("409", CANCELLED), ("422", TASK_FAILED)]));
    Value::Object(out)
}

fn cancel_operation(lr: &LongRunning) -> Value {
    let noun = lr.noun;
    let mut out = head(
        format!("Cancel{}", lr.action.display()),
        format!("Cancel {} {noun}", article(noun)),
        format!(
            "Asks Anaplan to cancel a running {noun} task. The answer is 202 with the status URL; with the \
             asynchronous pattern on, the action then waits until Anaplan has cancelled the task, which ends in 409 \
             (turn the pattern off in the action's settings to return right after asking)."
        ),
        false,
        &[],
        &["application/json"],
    );
    out.insert("parameters".into(), Value::Array(task_ids(lr)));
    let mut responses = Map::new();
    responses.insert("202".into(), accepted("Cancellation requested."));
    out.insert("responses".into(), problems(responses, &[("409", CANCELLED)]));
    Value::Object(out)
}

fn inputs(inputs: &[Input]) -> Vec<Value> {
    let mut out = Vec::new();
    for input in inputs {
        match input {
            Input::Object(o) => {
                out.push(object_id(*o, false));
                out.push(object_name(*o));
            }
            Input::ObjectName(o) => out.push(object_name(*o)),
            Input::Param(p) => out.push(param(p)),
        }
    }
    out
}

/// `<kind>Id`: a dropdown fed by ListObjects, or any id typed in.
fn object_id(o: Object, required: bool) -> Value {
    let (kind, display, format) = (o.kind(), o.display(), o.id_format());
    let description = if required {
        format!("The {kind}'s id ({format}), as in the status URL of the task.")
    } else {
        format!(
            "The {kind} ({format}). Pick it from the list, or give its name in '{display} name' instead; exactly one of the two."
        )
    };
    let mut args = Map::new();
    args.insert("kind".into(), json!(o.plural()));
    for parent in o.parents() {
        args.insert(parent.id_param(), json!({ "parameter": parent.id_param() }));
    }
    json!({
        "name": o.id_param(),
        "in": "query",
        "required": required,
        "type": "string",
        "x-ms-summary": display,
        "description": description,
        "x-ms-visibility": "important",
        "x-ms-dynamic-values": {
            "operationId": "ListObjects",
            "parameters": args,
            "value-path": "id",
            "value-title": "name",
        },
    })
}

/// `<kind>Name`.
fn object_name(o: Object) -> Value {
    let (kind, display) = (o.kind(), o.display());
    json!({
        "name": o.name_param(),
        "in": "query",
        "required": false,
        "type": "string",
        "x-ms-summary": format!("{display} name"),
        "description": format!(
            "The {kind}'s exact name, instead of '{display}'. A name that matches nothing, or more than one object, \
             is a 404 that lists the closest names."
        ),
        "x-ms-visibility": "advanced",
    })
}

fn param(p: &Param) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(p.name));
    let place = match p.place {
        Place::Query => "query",
        Place::Header => "header",
        Place::Body => "body",
    };
    out.insert("in".into(), json!(place));
    out.insert("required".into(), json!(p.required));
    match p.kind {
        Kind::Text => {
            out.insert("type".into(), json!("string"));
        }
        Kind::Choice(choices) => {
            out.insert("type".into(), json!("string"));
            out.insert("enum".into(), json!(choices));
        }
        Kind::Integer { .. } => {
            out.insert("type".into(), json!("integer"));
        }
        Kind::File | Kind::Json(_) => {}
    }
    if let Some(d) = p.default {
        out.insert("default".into(), json!(d));
    }
    if let Kind::Integer { min, max } = p.kind {
        out.insert("minimum".into(), json!(min));
        out.insert("maximum".into(), json!(max));
    }
    out.insert("x-ms-summary".into(), json!(p.summary));
    out.insert("description".into(), json!(p.help));
    if p.kind == Kind::File {
        out.insert("schema".into(), json!({ "type": "string", "format": "binary" }));
    }
    if let Kind::Json(schema) = p.kind {
        out.insert("schema".into(), schema_ref(schema));
    }
    out.insert("x-ms-visibility".into(), json!(visibility(!p.advanced)));
    if let Some((kind, args)) = p.dropdown {
        let mut parameters = Map::new();
        parameters.insert("kind".into(), json!(kind));
        for (theirs, ours) in args {
            parameters.insert((*theirs).into(), json!({ "parameter": ours }));
        }
        out.insert(
            "x-ms-dynamic-values".into(),
            json!({ "operationId": "ListObjects", "parameters": parameters, "value-path": "id", "value-title": "name" }),
        );
    }
    Value::Object(out)
}

/// A described property of a schema.
pub fn prop(kind: &str, summary: &str, description: &str) -> Value {
    json!({ "type": kind, "x-ms-summary": summary, "description": description })
}

/// The same, with more keys after the description (`items`, `properties`, ...).
pub fn prop_with(kind: &str, summary: &str, description: &str, key: &str, value: Value) -> Value {
    let mut p = prop(kind, summary, description);
    p[key] = value;
    p
}

/// A problem's `type`: one of the catalogue's URIs ([`crate::http::ProblemType::ALL`]), so
/// the connector documents every error the handler answers with.
fn problem_types() -> Value {
    let mut uris: Vec<String> = Vec::new();
    for t in crate::http::ProblemType::ALL {
        let uri = format!("{}{}", crate::http::problem::TYPE_PREFIX, t.slug());
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    let description = "A URI naming the kind of problem, urn:anaplan-functions:problem:<slug>; the README's Errors \
                       section says what each means and what to do.";
    prop_with("string", "Problem type", description, "enum", json!(uris))
}

/// A described array of strings.
pub fn string_list(summary: &str, description: &str) -> Value {
    prop_with("array", summary, description, "items", json!({ "type": "string" }))
}

/// `taskId` of a task's answer (and of a failed task's problem).
pub fn task_id() -> Value {
    prop("string", "Task ID", "The Anaplan task's id.")
}

/// `taskState` of a task's answer (and of a failed task's problem).
pub fn task_state() -> Value {
    prop("string", "Task state", "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED.")
}

/// `successful` of a task's answer (and of a failed task's problem).
pub fn successful(text: &str) -> Value {
    prop("boolean", "Successful", text)
}

/// `result` of a task's answer (and of a failed task's problem).
pub fn task_result() -> Value {
    prop("object", "Anaplan result", "Anaplan's own task result, nested results included.")
}

/// `rows` of an import's answer (and of a failed import's problem).
pub fn import_rows() -> Value {
    prop_with(
        "object",
        "Rows",
        "Rows the import processed, ignored and failed, summed over its steps.",
        "properties",
        json!({
            "processed": prop("integer", "Rows processed", "Rows imported."),
            "ignored": prop("integer", "Rows ignored", "Rows Anaplan ignored."),
            "failed": prop("integer", "Rows failed", "Rows that failed (see the dump)."),
        }),
    )
}

/// The connector's `definitions`: the shared ones (see [`shared_definitions`]) and each
/// function's [`Function::schemas`], in the order of the functions (the order of
/// `definitions` carries no meaning; it is stable so the committed file is). A name declared twice must be
/// declared alike: otherwise the error names the two declarations.
pub fn definitions(functions: &[&Function]) -> Result<Map<String, Value>, String> {
    let mut found: Vec<(&str, &str, Value)> =
        shared_definitions().into_iter().map(|(name, schema)| (name, "the shared definitions", schema)).collect();
    for f in functions {
        for s in f.schemas {
            let schema = (s.build)();
            match found.iter().find(|(name, ..)| *name == s.name) {
                Some((_, owner, earlier)) if *earlier != schema => {
                    return Err(format!(
                        "#/definitions/{}: {} declares it unlike {owner}; give one of them another name",
                        s.name, f.name
                    ));
                }
                Some(_) => {}
                None => found.push((s.name, f.name, schema)),
            }
        }
    }
    Ok(found.into_iter().map(|(name, _, schema)| (name.to_owned(), schema)).collect())
}

/// The definitions several functions use: what the lists of objects answer with, the answer
/// of a running task, and the problem (a failed task's included).
fn shared_definitions() -> Vec<(&'static str, Value)> {
    vec![
        (
            "ObjectItem",
            json!({
                "type": "object",
                "properties": {
                    "id": prop("string", "ID", "The object's id."),
                    "name": prop("string", "Name", "The object's name."),
                },
            }),
        ),
        (
            "TaskAccepted",
            json!({
                "type": "object",
                "description": "A task that is still running.",
                "properties": {
                    "taskId": task_id(),
                    "taskState": task_state(),
                    "statusUrl": prop("string", "Status URL", "Where to poll (GET) or cancel (DELETE) the task; equals Location."),
                },
            }),
        ),
        (
            "FailedStep",
            json!({
                "type": "object",
                "properties": {
                    "objectId": prop("string", "Step ID", "The failed step's object id."),
                    "name": prop("string", "Step name", "The failed step's name."),
                    "details": prop(
                        "string",
                        "Details",
                        "Anaplan's messages about the failure, and what the dump or solution log could not give.",
                    ),
                    "dumpHead": string_list("Dump head", "The first lines of the failure dump."),
                    "dumpUrl": prop("string", "Dump URL", "GET it for the whole dump as CSV (absent once expired)."),
                    "solutionLogUrl": prop(
                        "string",
                        "Solution log URL",
                        "A failed Optimizer step's: GET it for the solver's log as text (absent when Anaplan has none, \
                         or refuses it below Workspace Administrator).",
                    ),
                },
            }),
        ),
        (
            "Problem",
            json!({
                "type": "object",
                "description": "An error, as application/problem+json (RFC 9457).",
                "properties": {
                    "type": problem_types(),
                    "title": prop("string", "Title", "A short summary of the kind of problem."),
                    "status": prop("integer", "Status", "The HTTP status code."),
                    "detail": prop("string", "Detail", "What went wrong, for this request."),
                    "anaplan": prop_with("object", "Anaplan", "Anaplan's own answer, when Anaplan refused.", "properties", json!({
                        "status": prop("integer", "Anaplan status", "The status Anaplan answered with."),
                        "message": prop("string", "Anaplan message", "Anaplan's message."),
                    })),
                    "closestNames": string_list("Closest names", "For an unknown name: the most similar names."),
                    "matchingIds": string_list("Matching IDs", "For a name shared by several objects: their ids."),
                    "taskId": prop("string", "Task ID", "For a task: its id."),
                    "taskState": task_state(),
                    "successful": successful("For a failed task: false."),
                    "result": task_result(),
                    "failures": prop_with(
                        "array",
                        "Failures",
                        "For a failed task: one entry per failed step.",
                        "items",
                        schema_ref("FailedStep"),
                    ),
                    "rows": import_rows(),
                },
            }),
        ),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::http::{AppState, Call, Problem};
    use crate::machinery::declare::{Answer, BoxFuture, RequestBody, Schema, Trigger};
    use axum::response::Response;

    fn nothing<'a>(_: &'a AppState, _: Call) -> BoxFuture<'a, Result<Response, Problem>> {
        Box::pin(async { Ok(Response::default()) })
    }

    fn thing() -> Value {
        json!({ "type": "object" })
    }

    fn other_thing() -> Value {
        json!({ "type": "string" })
    }

    const fn answering(name: &'static str) -> Function {
        Function {
            name,
            trigger: Trigger::Http { methods: &[Method::GET], body: RequestBody::Parameters },
            inputs: &[],
            long_running: None,
            operation: Some(Operation {
                id: "GetThing",
                summary: "Get a thing",
                description: "Gets a thing.",
                important: true,
                consumes: &[],
                produces: &["application/json"],
                ok: Answer { description: "The thing.", schema: "Thing", array: false },
            }),
            more_operations: &[],
            schemas: &[],
            group: Some(crate::machinery::declare::Group::Integration),
            handler: nothing,
        }
    }

    /// Every `$ref` in `value`.
    pub(crate) fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// The `$ref`s of `doc` that name no definition of it, and the definitions nothing names.
    pub(crate) fn unmatched(doc: &Value) -> (Vec<String>, Vec<String>) {
        let mut found = Vec::new();
        refs(doc, &mut found);
        let definitions = doc["definitions"].as_object().unwrap();
        let undeclared = found
            .iter()
            .filter(|r| !r.strip_prefix("#/definitions/").is_some_and(|name| definitions.contains_key(name)))
            .filter(|r| r.strip_prefix("#/parameters/").is_none_or(|name| doc["parameters"].get(name).is_none()))
            .map(|r| (*r).to_owned())
            .collect();
        let unused = definitions
            .keys()
            .filter(|name| !found.contains(&format!("#/definitions/{name}").as_str()))
            .cloned()
            .collect();
        (undeclared, unused)
    }

    #[test]
    fn a_schema_referred_to_but_not_declared_is_found() {
        const UNDECLARED: Function = answering("undeclared");
        const DECLARED: Function = Function { schemas: &[Schema { name: "Thing", build: thing }], ..answering("one") };
        assert_eq!(unmatched(&swagger(&[&UNDECLARED])).0, ["#/definitions/Thing"]);
        assert!(unmatched(&swagger(&[&DECLARED])).0.is_empty());
    }

    /// The `operationId`s of `doc`.
    fn operation_ids(doc: &Value) -> Vec<String> {
        let paths = doc["paths"].as_object().unwrap();
        paths
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn every_http_function_of_the_connector_is_in_exactly_one_group() {
        use crate::functions::FUNCTIONS;
        for f in FUNCTIONS {
            match (&f.trigger, &f.operation) {
                (Trigger::Http { .. }, Some(_)) => assert!(f.group.is_some(), "{}: no group", f.name),
                _ => assert!(f.group.is_none(), "{}: outside the connector, yet in a group", f.name),
            }
        }
        // The groups' own functions are every path of the whole connector, each once.
        let all = swagger(FUNCTIONS);
        let mut own: Vec<String> = Vec::new();
        for g in Group::ALL {
            let mine: Vec<String> =
                FUNCTIONS.iter().filter(|f| f.group == Some(g)).map(|f| format!("/{}", f.name)).collect();
            assert!(!mine.is_empty(), "{g:?} is empty");
            own.extend(mine);
        }
        let mut paths: Vec<String> = all["paths"].as_object().unwrap().keys().cloned().collect();
        own.sort();
        paths.sort();
        assert_eq!(own, paths);
    }

    #[test]
    fn a_group_has_its_operations_what_its_dropdowns_call_and_only_the_definitions_they_use() {
        use crate::functions::FUNCTIONS;
        let all = swagger(FUNCTIONS);
        for group in Group::ALL {
            for auth in [ConnectorAuth::FunctionKey, ConnectorAuth::AnaplanOAuth] {
                let doc = swagger_for(FUNCTIONS, Variant { group: Some(group), auth, power_platform: false });
                let (undeclared, unused) = unmatched(&doc);
                assert!(undeclared.is_empty() && unused.is_empty(), "{group:?}: {undeclared:?} {unused:?}");
                let ids = operation_ids(&doc);
                let mut called = Vec::new();
                called_operations(&doc, &mut called);
                for id in called {
                    assert!(ids.iter().any(|i| i == id), "{group:?}: a dropdown calls {id}, not in the group");
                }
                let test = doc["x-ms-capabilities"]["testConnection"]["operationId"].as_str().unwrap();
                assert!(ids.iter().any(|i| i == test), "{group:?}: connection test {test}");
                for (path, item) in doc["paths"].as_object().unwrap() {
                    let f = FUNCTIONS.iter().find(|f| format!("/{}", f.name) == *path).unwrap();
                    // Its own functions, and list-objects for the dropdowns.
                    assert!(f.group == Some(group) || f.name == "list-objects", "{group:?}: {path}");
                    if auth == ConnectorAuth::FunctionKey {
                        assert_eq!(item, &all["paths"][path], "{group:?}: {path} differs from the whole connector");
                    }
                }
                assert!(doc["info"]["title"].as_str().unwrap().contains(group.title()));
            }
        }
        let users = swagger_for(FUNCTIONS, Variant { group: Some(Group::Users), ..Variant::default() });
        assert!(users["paths"]["/list-objects"].is_object(), "users' workspace dropdowns need list-objects");
        assert!(users["paths"]["/run-process"].is_null());
        let integration = swagger_for(FUNCTIONS, Variant { group: Some(Group::Integration), ..Variant::default() });
        assert!(integration["paths"]["/users"].is_null() && integration["paths"]["/run-integration"].is_null());
    }

    #[test]
    fn the_whole_function_key_connector_is_the_default_variant() {
        use crate::functions::FUNCTIONS;
        assert_eq!(connector_definition_for(FUNCTIONS, Variant::default()), connector_definition(FUNCTIONS));
    }

    #[test]
    fn the_anaplan_oauth_connector_signs_in_with_the_authorization_code_and_keeps_the_key_internal() {
        use crate::functions::FUNCTIONS;
        let doc = swagger_for(FUNCTIONS, Variant { auth: ConnectorAuth::AnaplanOAuth, ..Variant::default() });
        let sec = &doc["securityDefinitions"][OAUTH_SECURITY];
        assert_eq!(sec["type"], "oauth2");
        assert_eq!(sec["flow"], "accessCode");
        assert_eq!(sec["authorizationUrl"], "https://us1a.app.anaplan.com/auth/prelogin");
        assert_eq!(sec["tokenUrl"], "https://us1a.app.anaplan.com/oauth/token");
        let scopes: Vec<&String> = sec["scopes"].as_object().unwrap().keys().collect();
        assert_eq!(scopes, ["openid", "email", "offline_access"]);
        assert_eq!(doc["securityDefinitions"].as_object().unwrap().len(), 1, "no api_key next to it");
        assert_eq!(doc["security"], json!([{ OAUTH_SECURITY: [] }]));
        let key = &doc["parameters"][FUNCTION_KEY_PARAMETER];
        assert_eq!(key["name"], "x-functions-key");
        assert_eq!(
            (&key["in"], &key["required"], &key["x-ms-visibility"]),
            (&json!("header"), &json!(true), &json!("internal"))
        );
        assert_eq!(key["default"], FUNCTION_KEY_PLACEHOLDER);
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for item in paths.values() {
            for op in item.as_object().unwrap().values() {
                operations += 1;
                assert_eq!(op["parameters"][0], json!({ "$ref": "#/parameters/functionKey" }), "{}", op["operationId"]);
            }
        }
        assert_eq!(operations, operation_ids(&swagger(FUNCTIONS)).len());
        // Power Platform: the policy sends the key; no header parameter.
        let pp = swagger_for(
            FUNCTIONS,
            Variant { auth: ConnectorAuth::AnaplanOAuth, power_platform: true, ..Variant::default() },
        );
        assert_eq!(pp["parameters"], json!({}));
        assert_eq!(pp["securityDefinitions"], doc["securityDefinitions"]);
        assert!(!pp.to_string().contains("#/parameters/"));
    }

    #[test]
    fn two_functions_declaring_one_name_differently_is_an_error() {
        const ONE: Function = Function { schemas: &[Schema { name: "Thing", build: thing }], ..answering("one") };
        const SAME: Function = Function { schemas: &[Schema { name: "Thing", build: thing }], ..answering("same") };
        const OTHER: Function =
            Function { schemas: &[Schema { name: "Thing", build: other_thing }], ..answering("other") };
        const PROBLEM: Function =
            Function { schemas: &[Schema { name: "Problem", build: thing }], ..answering("problem") };
        assert_eq!(definitions(&[&ONE, &SAME]).unwrap()["Thing"], thing());
        let err = definitions(&[&ONE, &OTHER]).unwrap_err();
        assert!(err.contains("#/definitions/Thing") && err.contains("other") && err.contains("one"), "{err}");
        let err = definitions(&[&PROBLEM]).unwrap_err();
        assert!(err.contains("shared"), "{err}");
    }
}
