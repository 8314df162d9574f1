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
//! (the ids as the status URL carries them, `taskId`, then its status inputs).

use serde_json::{Map, Value, json};

use super::declare::{
    Function, IDEMPOTENCY_KEY, Input, Kind, LongRunning, MethodOperation, Object, Operation, Param, Place, TASK_ID,
    WAIT,
};
use crate::functions::MORE_OPERATIONS;

/// The definition of `functions`, as printed (2-space indentation, a trailing newline).
pub fn connector_definition(functions: &[&Function]) -> String {
    let doc = swagger(functions);
    serde_json::to_string_pretty(&doc).expect("JSON values always serialise") + "\n"
}

/// The definition of `functions` as a JSON value.
pub fn swagger(functions: &[&Function]) -> Value {
    let mut paths = Map::new();
    for f in functions {
        let Some(op) = &f.operation else { continue };
        let item = match &f.long_running {
            None if f.name == crate::functions::list_items::FUNCTION.name => {
                // GET reads, POST changes: two operations with their own inputs.
                let (change, change_inputs) = &crate::functions::list_items::CHANGE_OPERATION;
                let mut get = plain_operation(f, op);
                if let Some(Value::Array(params)) = get.get_mut("parameters") {
                    params.retain(|p| p["name"] != "action" && p["in"] != "body");
                }
                let mut post = plain_operation(f, change);
                post["parameters"] = Value::Array(inputs(change_inputs));
                json!({ "get": get, "post": post })
            }
            None => {
                if asynchronous(f) {
                    json!({
                        "post": plain_operation(f, op),
                        "get": run_operation(f, op, "Get"),
                        "delete": run_operation(f, op, "Cancel"),
                    })
                } else {
                    let method = if f.methods().contains(&axum::http::Method::GET) { "get" } else { "post" };
                    json!({ method: plain_operation(f, op) })
                }
            }
            Some(lr) => json!({
                "post": start_operation(f, op, lr),
                "get": status_operation(op, lr),
                "delete": cancel_operation(lr),
            }),
        };
        let mut item = item;
        for more in MORE_OPERATIONS.iter().filter(|m| m.function == f.name) {
            item[more.method.as_str().to_ascii_lowercase()] = method_operation(more);
        }
        paths.insert(format!("/{}", f.name), item);
    }
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
        "definitions": definitions(),
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

fn schema_ref(name: &str) -> Value {
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
            Input::Param(p) if p.name == "runId" => params.push(param(&p.required())),
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
    let mut params: Vec<Value> = m.inputs.iter().map(param).collect();
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
    Value::Object(out)
}

/// A described property of an answer's schema.
fn prop(kind: &str, summary: &str, description: &str) -> Value {
    json!({ "type": kind, "x-ms-summary": summary, "description": description })
}

/// The same, with more keys after the description (`items`, `properties`, ...).
fn prop_with(kind: &str, summary: &str, description: &str, key: &str, value: Value) -> Value {
    let mut p = prop(kind, summary, description);
    p[key] = value;
    p
}

fn string_list(summary: &str, description: &str) -> Value {
    prop_with("array", summary, description, "items", json!({ "type": "string" }))
}

/// The answers' schemas.
fn definitions() -> Value {
    let task_id = prop("string", "Task ID", "The Anaplan task's id.");
    let task_state = prop("string", "Task state", "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED.");
    let rows = prop_with(
        "object",
        "Rows",
        "Rows the import processed, ignored and failed, summed over its steps.",
        "properties",
        json!({
            "processed": prop("integer", "Rows processed", "Rows imported."),
            "ignored": prop("integer", "Rows ignored", "Rows Anaplan ignored."),
            "failed": prop("integer", "Rows failed", "Rows that failed (see the dump)."),
        }),
    );
    let result = prop("object", "Anaplan result", "Anaplan's own task result, nested results included.");
    let successful = |text: &str| prop("boolean", "Successful", text);
    json!({
        "ObjectItem": {
            "type": "object",
            "properties": {
                "id": prop("string", "ID", "The object's id."),
                "name": prop("string", "Name", "The object's name."),
            },
        },
        "ViewRecords": {
            "type": "object",
            "description": "The view as records (format=records).",
            "properties": {
                "view": prop_with("object", "View", "The view read.", "properties", json!({
                    "id": prop("string", "View ID", "The view's id."),
                    "name": prop("string", "View name", "The view's name."),
                })),
                "pages": prop_with("array", "Pages", "The page selection the data is for.", "items", json!({
                    "type": "object",
                    "properties": {
                        "dimension": prop("string", "Page dimension", "A page dimension's name."),
                        "item": prop("string", "Page item", "The item selected on it."),
                    },
                })),
                "columns": string_list(
                    "Columns",
                    "Row dimension names, then column labels (labels of several column dimensions joined with \
                     ' | '): the keys of each row, in order.",
                ),
                "rows": prop_with(
                    "array",
                    "Rows",
                    "One object per row, keyed by the names in 'Columns'; numbers are JSON numbers, everything \
                     else strings.",
                    "items",
                    json!({ "type": "object", "additionalProperties": true }),
                ),
            },
        },
        "TaskAccepted": {
            "type": "object",
            "description": "A task that is still running.",
            "properties": {
                "taskId": task_id,
                "taskState": task_state,
                "statusUrl": prop("string", "Status URL", "Where to poll (GET) or cancel (DELETE) the task; equals Location."),
            },
        },
        "ProcessResult": {
            "type": "object",
            "description": "A process that completed successfully.",
            "properties": {
                "taskId": task_id,
                "taskState": task_state,
                "successful": successful("Always true here; a failed task is a 422 problem."),
                "result": result,
            },
        },
        "IntegrationResult": {
            "type": "object",
            "description": "A CloudWorks integration or flow run that ended successfully.",
            "properties": {
                "runId": { "type": "string", "x-ms-summary": "Run ID", "description": "The CloudWorks run's id." },
                "success": successful("Always true here; a run that ended without success is a 422 problem."),
                "message": { "type": "string", "x-ms-summary": "Message", "description": "CloudWorks' message about the run." },
                "startDate": { "type": "string", "x-ms-summary": "Start date", "description": "When the run started, as CloudWorks reports it." },
                "endDate": { "type": "string", "x-ms-summary": "End date", "description": "When the run ended, as CloudWorks reports it." },
            },
        },
        "ExportBlobResult": {
            "type": "object",
            "description": "Where an export to Blob storage (destination=blob) was written. With destination=response \
                            the body is the file itself instead.",
            "properties": {
                "blobUrl": prop("string", "Blob URL", "The blob's URL, without any SAS."),
                "bytes": prop("integer", "Bytes", "Size of the file written."),
                "chunks": prop("integer", "Chunks", "Anaplan chunks the file came in."),
                "contentType": prop("string", "Content type", "The file's content type."),
            },
        },
        "ImportResult": {
            "type": "object",
            "description": "An import that completed successfully.",
            "properties": {
                "taskId": task_id,
                "taskState": task_state,
                "successful": successful("Always true here; a failed import is a 422 problem."),
                "rows": rows,
                "result": result,
            },
        },
        "FailedStep": {
            "type": "object",
            "properties": {
                "objectId": prop("string", "Step ID", "The failed step's object id."),
                "name": prop("string", "Step name", "The failed step's name."),
                "details": string_list("Details", "Anaplan's messages about the failure."),
                "dumpHead": string_list("Dump head", "The first lines of the failure dump."),
                "dumpUrl": prop("string", "Dump URL", "GET it for the whole dump as CSV (absent once expired)."),
            },
        },
        "User": {
            "type": "object",
            "description": "An Anaplan user (SCIM).",
            "properties": {
                "id": prop("string", "User ID", "Anaplan's user id."),
                "userName": prop("string", "User name", "The login (an email address)."),
                "externalId": prop("string", "External ID", "The identity provider's id for the user (may be null)."),
                "givenName": prop("string", "Given name", "Given name."),
                "familyName": prop("string", "Family name", "Family name."),
                "active": prop("boolean", "Active", "Whether the user may sign in."),
                "workspaces": prop_with("array", "Workspaces", "The workspaces the user has.", "items", schema_ref("ObjectItem")),
            },
        },
        "UserChange": {
            "type": "object",
            "description": "The user to provision (action=provision) or deactivate (action=deactivate: userName only).",
            "required": ["userName"],
            "properties": {
                "userName": prop("string", "User name", "The user's login, their email address."),
                "givenName": prop("string", "Given name", "Required to provision."),
                "familyName": prop("string", "Family name", "Required to provision."),
                "externalId": prop("string", "External ID", "The identity provider's id for the user, e.g. the Entra object id (provision; left alone when empty)."),
                "workspaces": prop_with(
                    "array",
                    "Workspaces",
                    "Provision: every workspace the user must have, by id (pick from the list) or name; others are removed. [] for none.",
                    "items",
                    json!({
                        "type": "string",
                        "x-ms-summary": "Workspace",
                        "x-ms-dynamic-values": {
                            "operationId": "ListObjects",
                            "parameters": { "kind": "workspaces" },
                            "value-path": "id",
                            "value-title": "name",
                        },
                    }),
                ),
            },
        },
        "UserChangeResult": {
            "type": "object",
            "description": "What provision or deactivate did.",
            "properties": {
                "id": prop("string", "User ID", "Anaplan's user id."),
                "userName": prop("string", "User name", "The login."),
                "created": prop("boolean", "Created", "Provision: true when the user was new."),
                "changed": prop("boolean", "Changed", "False when the user already was as asked (nothing was written)."),
                "workspaces": prop_with("array", "Workspaces", "Provision: the user's workspaces now.", "items", schema_ref("ObjectItem")),
            },
        },
        "AuditEvents": {
            "type": "object",
            "description": "The audit events of a window.",
            "properties": {
                "from": prop("string", "From", "Start of the window (RFC 3339, UTC), included."),
                "to": prop("string", "To", "End of the window (RFC 3339, UTC), excluded."),
                "events": prop_with(
                    "array",
                    "Events",
                    "Anaplan's event objects, unchanged (id, eventTypeId, userId, message, success, eventDate, ...).",
                    "items",
                    json!({ "type": "object", "additionalProperties": true }),
                ),
            },
        },
        "WriteCellsBody": {
            "type": "object",
            "description": "Exactly one of rows and cells.",
            "properties": {
                "rows": prop_with(
                    "array",
                    "Rows",
                    "One object per row: the module's dimension names (value: an item's name or code) and line item \
                     names (value: the cell's value), e.g. the rows of a SQL query.",
                    "items",
                    json!({ "type": "object", "additionalProperties": true }),
                ),
                "cells": prop_with(
                    "array",
                    "Cells",
                    "Anaplan's own cells: lineItemId or lineItemName, dimensions [{dimensionId or dimensionName, \
                     itemId, itemName or itemCode}], value.",
                    "items",
                    json!({ "type": "object", "additionalProperties": true }),
                ),
            },
        },
        "CellsWritten": {
            "type": "object",
            "description": "Every cell was written.",
            "properties": {
                "cellsChanged": prop("integer", "Cells changed", "Cells Anaplan changed."),
                "batches": prop("integer", "Batches", "Calls to Anaplan (at most 100,000 cells and 15 MB each)."),
                "failures": prop_with("array", "Failures", "Always empty here; refused cells are a 422 problem.", "items",
                    json!({ "type": "object", "additionalProperties": true })),
            },
        },
        "ListItems": {
            "type": "object",
            "description": "A list's items (format=csv gives CSV instead).",
            "properties": {
                "list": prop_with("object", "List", "The list read.", "properties", json!({
                    "id": prop("string", "List ID", "The list's id."),
                    "name": prop("string", "List name", "The list's name."),
                })),
                "items": prop_with("array", "Items", "Every item of the list.", "items", schema_ref("ListItem")),
            },
        },
        "ListItem": {
            "type": "object",
            "properties": {
                "id": prop("string", "Item ID", "The item's id."),
                "name": prop("string", "Item name", "The item's name."),
                "code": prop("string", "Item code", "The item's code (empty when it has none)."),
                "parent": prop("string", "Parent", "The parent item's name (empty at the top)."),
                "properties": prop("object", "Properties", "The item's list properties, by name."),
                "subsets": prop("object", "Subsets", "Whether the item is in each of the list's subsets, by name."),
            },
        },
        "ListItemsBody": {
            "type": "object",
            "properties": {
                "items": prop_with(
                    "array",
                    "Items",
                    "The items to add, update, upsert or delete: code (required but for add), name (required for \
                     add and for new codes of upsert), parent, properties, subsets; or id instead of code.",
                    "items",
                    schema_ref("ListItem"),
                ),
            },
        },
        "ListItemsChanged": {
            "type": "object",
            "description": "Every item was changed.",
            "properties": {
                "added": prop("integer", "Added", "Items added."),
                "updated": prop("integer", "Updated", "Items updated."),
                "deleted": prop("integer", "Deleted", "Items deleted."),
                "ignored": prop("integer", "Ignored", "Items Anaplan ignored."),
                "total": prop("integer", "Total", "Items in the request."),
                "failures": prop_with("array", "Failures", "Always empty here; refused items are a 422 problem.", "items",
                    json!({ "type": "object", "additionalProperties": true })),
            },
        },
        "Problem": {
            "type": "object",
            "description": "An error, as application/problem+json (RFC 9457).",
            "properties": {
                "type": prop("string", "Problem type", "A URI naming the kind of problem."),
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
                "taskState": task_state,
                "successful": successful("For a failed task: false."),
                "result": result,
                "failures": prop_with(
                    "array",
                    "Failures",
                    "For a failed task: one entry per failed step.",
                    "items",
                    schema_ref("FailedStep"),
                ),
                "rows": rows,
            },
        },
    })
}
