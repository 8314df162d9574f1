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

use super::FUNCTIONS;
use super::declare::{
    Function, IDEMPOTENCY_KEY, Input, Kind, LongRunning, Object, Operation, Param, Place, TASK_ID, WAIT,
};

/// The definition, as printed (2-space indentation, a trailing newline).
pub fn connector_definition() -> String {
    let doc = swagger(FUNCTIONS);
    serde_json::to_string_pretty(&doc).expect("JSON values always serialise") + "\n"
}

/// The definition of `functions` as a JSON value.
pub fn swagger(functions: &[&Function]) -> Value {
    let mut paths = Map::new();
    for f in functions {
        let Some(op) = &f.operation else { continue };
        let item = match &f.long_running {
            None => {
                let method = if f.methods().contains(&axum::http::Method::GET) { "get" } else { "post" };
                json!({ method: plain_operation(f, op) })
            }
            Some(lr) => json!({
                "post": start_operation(f, op, lr),
                "get": status_operation(op, lr),
                "delete": cancel_operation(lr),
            }),
        };
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

fn plain_operation(f: &Function, op: &Operation) -> Value {
    let mut out = head(op.id.into(), op.summary.into(), op.description.into(), op.important, op.consumes, op.produces);
    out.insert("parameters".into(), Value::Array(inputs(f.inputs)));
    let mut responses = Map::new();
    responses.insert("200".into(), ok(op));
    out.insert("responses".into(), problems(responses, &[]));
    Value::Object(out)
}

fn start_operation(f: &Function, op: &Operation, lr: &LongRunning) -> Value {
    let mut out = head(op.id.into(), op.summary.into(), op.description.into(), op.important, op.consumes, op.produces);
    let mut params = inputs(f.inputs);
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
        Kind::File => {}
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
    out.insert("x-ms-visibility".into(), json!(visibility(!p.advanced)));
    Value::Object(out)
}

/// The answers' schemas.
fn definitions() -> Value {
    let mut defs = Map::new();
    defs.insert(
        "ObjectItem".to_owned(),
        json!({
            "type": "object",
            "properties": {
                "id": {
                    "type": "string",
                    "x-ms-summary": "ID",
                    "description": "The object's id."
                },
                "name": {
                    "type": "string",
                    "x-ms-summary": "Name",
                    "description": "The object's name."
                }
            }
        }),
    );
    defs.insert("ViewRecords".to_owned(), json!({
            "type": "object",
            "description": "The view as records (format=records).",
            "properties": {
                "view": {
                    "type": "object",
                    "x-ms-summary": "View",
                    "description": "The view read.",
                    "properties": {
                        "id": {
                            "type": "string",
                            "x-ms-summary": "View ID",
                            "description": "The view's id."
                        },
                        "name": {
                            "type": "string",
                            "x-ms-summary": "View name",
                            "description": "The view's name."
                        }
                    }
                },
                "pages": {
                    "type": "array",
                    "x-ms-summary": "Pages",
                    "description": "The page selection the data is for.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "dimension": {
                                "type": "string",
                                "x-ms-summary": "Page dimension",
                                "description": "A page dimension's name."
                            },
                            "item": {
                                "type": "string",
                                "x-ms-summary": "Page item",
                                "description": "The item selected on it."
                            }
                        }
                    }
                },
                "columns": {
                    "type": "array",
                    "x-ms-summary": "Columns",
                    "description": "Row dimension names, then column labels (labels of several column dimensions joined with ' | '): the keys of each row, in order.",
                    "items": {
                        "type": "string"
                    }
                },
                "rows": {
                    "type": "array",
                    "x-ms-summary": "Rows",
                    "description": "One object per row, keyed by the names in 'Columns'; numbers are JSON numbers, everything else strings.",
                    "items": {
                        "type": "object",
                        "additionalProperties": true
                    }
                }
            }
        }));
    defs.insert(
        "TaskAccepted".to_owned(),
        json!({
            "type": "object",
            "description": "A task that is still running.",
            "properties": {
                "taskId": {
                    "type": "string",
                    "x-ms-summary": "Task ID",
                    "description": "The Anaplan task's id."
                },
                "taskState": {
                    "type": "string",
                    "x-ms-summary": "Task state",
                    "description": "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED."
                },
                "statusUrl": {
                    "type": "string",
                    "x-ms-summary": "Status URL",
                    "description": "Where to poll (GET) or cancel (DELETE) the task; equals Location."
                }
            }
        }),
    );
    defs.insert(
        "ProcessResult".to_owned(),
        json!({
            "type": "object",
            "description": "A process that completed successfully.",
            "properties": {
                "taskId": {
                    "type": "string",
                    "x-ms-summary": "Task ID",
                    "description": "The Anaplan task's id."
                },
                "taskState": {
                    "type": "string",
                    "x-ms-summary": "Task state",
                    "description": "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED."
                },
                "successful": {
                    "type": "boolean",
                    "x-ms-summary": "Successful",
                    "description": "Always true here; a failed task is a 422 problem."
                },
                "result": {
                    "type": "object",
                    "x-ms-summary": "Anaplan result",
                    "description": "Anaplan's own task result, nested results included."
                }
            }
        }),
    );
    defs.insert("ExportBlobResult".to_owned(), json!({
            "type": "object",
            "description": "Where an export to Blob storage (destination=blob) was written. With destination=response the body is the file itself instead.",
            "properties": {
                "blobUrl": {
                    "type": "string",
                    "x-ms-summary": "Blob URL",
                    "description": "The blob's URL, without any SAS."
                },
                "bytes": {
                    "type": "integer",
                    "x-ms-summary": "Bytes",
                    "description": "Size of the file written."
                },
                "chunks": {
                    "type": "integer",
                    "x-ms-summary": "Chunks",
                    "description": "Anaplan chunks the file came in."
                },
                "contentType": {
                    "type": "string",
                    "x-ms-summary": "Content type",
                    "description": "The file's content type."
                }
            }
        }));
    defs.insert(
        "ImportResult".to_owned(),
        json!({
            "type": "object",
            "description": "An import that completed successfully.",
            "properties": {
                "taskId": {
                    "type": "string",
                    "x-ms-summary": "Task ID",
                    "description": "The Anaplan task's id."
                },
                "taskState": {
                    "type": "string",
                    "x-ms-summary": "Task state",
                    "description": "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED."
                },
                "successful": {
                    "type": "boolean",
                    "x-ms-summary": "Successful",
                    "description": "Always true here; a failed import is a 422 problem."
                },
                "rows": {
                    "type": "object",
                    "x-ms-summary": "Rows",
                    "description": "Rows the import processed, ignored and failed, summed over its steps.",
                    "properties": {
                        "processed": {
                            "type": "integer",
                            "x-ms-summary": "Rows processed",
                            "description": "Rows imported."
                        },
                        "ignored": {
                            "type": "integer",
                            "x-ms-summary": "Rows ignored",
                            "description": "Rows Anaplan ignored."
                        },
                        "failed": {
                            "type": "integer",
                            "x-ms-summary": "Rows failed",
                            "description": "Rows that failed (see the dump)."
                        }
                    }
                },
                "result": {
                    "type": "object",
                    "x-ms-summary": "Anaplan result",
                    "description": "Anaplan's own task result, nested results included."
                }
            }
        }),
    );
    defs.insert(
        "FailedStep".to_owned(),
        json!({
            "type": "object",
            "properties": {
                "objectId": {
                    "type": "string",
                    "x-ms-summary": "Step ID",
                    "description": "The failed step's object id."
                },
                "name": {
                    "type": "string",
                    "x-ms-summary": "Step name",
                    "description": "The failed step's name."
                },
                "details": {
                    "type": "array",
                    "x-ms-summary": "Details",
                    "description": "Anaplan's messages about the failure.",
                    "items": {
                        "type": "string"
                    }
                },
                "dumpHead": {
                    "type": "array",
                    "x-ms-summary": "Dump head",
                    "description": "The first lines of the failure dump.",
                    "items": {
                        "type": "string"
                    }
                },
                "dumpUrl": {
                    "type": "string",
                    "x-ms-summary": "Dump URL",
                    "description": "GET it for the whole dump as CSV (absent once expired)."
                }
            }
        }),
    );
    defs.insert(
        "Problem".to_owned(),
        json!({
            "type": "object",
            "description": "An error, as application/problem+json (RFC 9457).",
            "properties": {
                "type": {
                    "type": "string",
                    "x-ms-summary": "Problem type",
                    "description": "A URI naming the kind of problem."
                },
                "title": {
                    "type": "string",
                    "x-ms-summary": "Title",
                    "description": "A short summary of the kind of problem."
                },
                "status": {
                    "type": "integer",
                    "x-ms-summary": "Status",
                    "description": "The HTTP status code."
                },
                "detail": {
                    "type": "string",
                    "x-ms-summary": "Detail",
                    "description": "What went wrong, for this request."
                },
                "anaplan": {
                    "type": "object",
                    "x-ms-summary": "Anaplan",
                    "description": "Anaplan's own answer, when Anaplan refused.",
                    "properties": {
                        "status": {
                            "type": "integer",
                            "x-ms-summary": "Anaplan status",
                            "description": "The status Anaplan answered with."
                        },
                        "message": {
                            "type": "string",
                            "x-ms-summary": "Anaplan message",
                            "description": "Anaplan's message."
                        }
                    }
                },
                "closestNames": {
                    "type": "array",
                    "x-ms-summary": "Closest names",
                    "description": "For an unknown name: the most similar names.",
                    "items": {
                        "type": "string"
                    }
                },
                "matchingIds": {
                    "type": "array",
                    "x-ms-summary": "Matching IDs",
                    "description": "For a name shared by several objects: their ids.",
                    "items": {
                        "type": "string"
                    }
                },
                "taskId": {
                    "type": "string",
                    "x-ms-summary": "Task ID",
                    "description": "For a task: its id."
                },
                "taskState": {
                    "type": "string",
                    "x-ms-summary": "Task state",
                    "description": "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED."
                },
                "successful": {
                    "type": "boolean",
                    "x-ms-summary": "Successful",
                    "description": "For a failed task: false."
                },
                "result": {
                    "type": "object",
                    "x-ms-summary": "Anaplan result",
                    "description": "Anaplan's own task result, nested results included."
                },
                "failures": {
                    "type": "array",
                    "x-ms-summary": "Failures",
                    "description": "For a failed task: one entry per failed step.",
                    "items": {
                        "$ref": "#/definitions/FailedStep"
                    }
                },
                "rows": {
                    "type": "object",
                    "x-ms-summary": "Rows",
                    "description": "Rows the import processed, ignored and failed, summed over its steps.",
                    "properties": {
                        "processed": {
                            "type": "integer",
                            "x-ms-summary": "Rows processed",
                            "description": "Rows imported."
                        },
                        "ignored": {
                            "type": "integer",
                            "x-ms-summary": "Rows ignored",
                            "description": "Rows Anaplan ignored."
                        },
                        "failed": {
                            "type": "integer",
                            "x-ms-summary": "Rows failed",
                            "description": "Rows that failed (see the dump)."
                        }
                    }
                }
            }
        }),
    );
    Value::Object(defs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_definition_is_the_generated_one() {
        let committed = include_str!("../../infra/connector/apiDefinition.swagger.json");
        assert!(
            committed == connector_definition(),
            "infra/connector/apiDefinition.swagger.json is not what the declarations give: run \
             cargo run -q -- openapi > infra/connector/apiDefinition.swagger.json"
        );
    }
}
