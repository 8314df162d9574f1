//! `import-file`: uploads a file (the request body, or a blob) to an import's data source in
//! chunks, then runs the import with the async pattern. The final answer reports the rows
//! processed, ignored and failed; a failed import is a 422 with its failure dump.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::declare::{
    Answer, BLOB_NAME, CONTAINER, DUMP, Function, Input, LOCALE, LongRunning, Object, Operation, Param, RequestBody,
    TASK_RESPONSES, Trigger,
};
use super::task_call::{Intent, TaskCall, TaskRequest};
use crate::anaplan::Listing;
use crate::anaplan::ids::{FileId, ImportId};
use crate::anaplan::tasks::{Action, ActionRef, Task};
use crate::http::{AppState, Call, Params, Problem, off_runtime};

/// Upload chunk size: within Anaplan's 1–50 MB, small enough to retry cheaply.
pub const UPLOAD_CHUNK: usize = 10 * 1024 * 1024;

const SOURCE: Param = Param::choice(
    "source",
    &["body", "blob"],
    "Source",
    "body (the default): the file is the action's body. blob: read it from 'Blob container' / 'Blob name'.",
)
.default("body");

/// `import-file`.
pub const FUNCTION: Function = Function {
    name: "import-file",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST, Method::DELETE], body: RequestBody::File },
    inputs: &[
        Input::Param(SOURCE),
        Input::Param(CONTAINER.help("With source=blob: the container holding the file.")),
        Input::Param(BLOB_NAME.help("With source=blob: the blob holding the file (required then).")),
        Input::Param(LOCALE),
        Input::Param(
            Param::text(
                "file",
                "File content",
                "With source=body: the file to import (CSV or text, as the import expects).",
            )
            .body(),
        ),
    ],
    long_running: Some(LongRunning {
        noun: "import",
        action: Object::Import,
        status_inputs: &[DUMP.help("Any value (e.g. true): answers with the import's whole failure dump as CSV.")],
        status_produces: Some(TASK_RESPONSES),
    }),
    operation: Some(Operation {
        id: "ImportFile",
        summary: "Import a file",
        description: "Uploads the file (the action's body, or a blob with source=blob) to the import's data source \
                      in chunks, runs the import and waits until it has finished (asynchronous pattern). The answer \
                      counts the rows processed, ignored and failed; failed rows make it a 422 with the dump.",
        important: true,
        consumes: &["text/csv", "application/octet-stream"],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The import completed successfully.", schema: "ImportResult", array: false },
    }),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// Where the file to import is.
enum Source {
    /// The request body.
    Body,
    /// A blob.
    Blob { container: String, blob: String },
}

/// An import-file request, checked.
struct ImportFileRequest {
    task: TaskRequest<ImportId>,
    source: Source,
}

impl ImportFileRequest {
    /// The body is the file, so parameters come from the query string only.
    fn parse(call: &Call, params: &Params) -> Result<Self, Problem> {
        let task = TaskRequest::parse(call, params, Object::Import)?;
        let (container, blob) = (params.get("container"), params.get("blobName"));
        let source = match params.choice(&SOURCE)? {
            Some("blob") => {
                Source::Blob { container: container.unwrap_or("").to_owned(), blob: blob.unwrap_or("").to_owned() }
            }
            _ => Source::Body,
        };
        if matches!(task.intent, Intent::Start) {
            check_source(call, &source, container.is_some() || blob.is_some())?;
        }
        Ok(ImportFileRequest { task, source })
    }
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let ImportFileRequest { task: req, source } = ImportFileRequest::parse(&call, &call.params()?)?;
    if let Source::Blob { container, .. } = &source {
        state.transfer_container(container)?;
    }
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let import = state.find(&client, &Listing::Imports(ws.clone(), model.clone()), req.action).await?;
    let action = ActionRef { workspace: ws, model, action: Action::Import(import.id) };
    let tc =
        TaskCall { state, call: &call, client, action, action_name: import.name, extra: Vec::new(), wait: req.wait };

    // The file goes into the fingerprint: the same key with another file is another request.
    let file = match &source {
        Source::Blob { container, blob } => format!("blob:{container}/{blob}"),
        Source::Body => {
            // Up to the host's 100 MiB: hashed on a blocking thread.
            let body = call.body.clone();
            let digest = off_runtime(move || hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body))).await?;
            format!("body:{digest}")
        }
    };
    let prepare = || async {
        let file = tc.client.import_source(&tc.action).await?;
        let (bytes, chunks) = upload(&tc, &file, &source).await?;
        tracing::info!(file = %file, bytes, chunks, "import data uploaded");
        Ok(())
    };
    tc.run(req.intent, req.wait, &req.locale, &[("file", &file)], prepare, |t| finish(&tc, t)).await
}

fn check_source(call: &Call, source: &Source, blob_params: bool) -> Result<(), Problem> {
    match source {
        Source::Blob { container, blob } => {
            if container.is_empty() || blob.is_empty() {
                return Err(Problem::bad_parameter("source=blob needs container and blobName"));
            }
            if !call.body.is_empty() {
                return Err(Problem::bad_parameter("source=blob reads the file from Blob storage; send no body"));
            }
        }
        Source::Body => {
            if blob_params {
                return Err(Problem::bad_parameter("container and blobName go with source=blob"));
            }
            // First: the Functions host forwards no Content-Type with an empty body.
            if call.body.is_empty() {
                return Err(Problem::bad_parameter("the body is empty: send the file to import (or source=blob)"));
            }
            let ct = call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if !(essence.starts_with("text/") || essence == "application/octet-stream") {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                    format!(
                        "the body is the file to import: send it as text/csv or application/octet-stream (got {:?})",
                        essence
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Uploads the file in chunks of [`UPLOAD_CHUNK`]; returns (bytes, chunks).
async fn upload(tc: &TaskCall<'_>, file: &FileId, source: &Source) -> Result<(u64, usize), Problem> {
    let (ws, model) = (&tc.action.workspace, &tc.action.model);
    tc.client.begin_upload(ws, model, file).await?;
    let mut n = 0usize;
    let mut total = 0u64;
    match source {
        Source::Blob { container, blob } => {
            let account = tc
                .state
                .export_storage()
                .ok_or_else(|| Problem::bad_parameter("source=blob needs a storage account, which is not configured: set EXPORT_STORAGE_URL or AzureWebJobsStorage (locally `UseDevelopmentStorage=true` with Azurite running (scripts/azurite.sh start)), or send the file as the request body"))?;
            let client = account.blob(container, blob).map_err(|e| Problem::bad_parameter(e.to_string()))?;
            let (_, stream) = crate::storage::read_stream(&client).await?;
            let mut stream = Box::pin(stream);
            let mut pending = BytesMut::new();
            while let Some(piece) = stream.next().await {
                pending.extend_from_slice(&piece?);
                while pending.len() >= UPLOAD_CHUNK {
                    let chunk = pending.split_to(UPLOAD_CHUNK).freeze();
                    total += chunk.len() as u64;
                    tc.client.upload_chunk(ws, model, file, n, chunk).await?;
                    n += 1;
                }
            }
            if !pending.is_empty() || n == 0 {
                let chunk = pending.freeze();
                if chunk.is_empty() {
                    return Err(Problem::bad_parameter("the blob is empty: there is nothing to import"));
                }
                total += chunk.len() as u64;
                tc.client.upload_chunk(ws, model, file, n, chunk).await?;
                n += 1;
            }
        }
        Source::Body => {
            let body: Bytes = tc.call.body.clone();
            for start in (0..body.len()).step_by(UPLOAD_CHUNK) {
                let chunk = body.slice(start..(start + UPLOAD_CHUNK).min(body.len()));
                total += chunk.len() as u64;
                tc.client.upload_chunk(ws, model, file, n, chunk).await?;
                n += 1;
            }
        }
    }
    let count = tc.client.complete_upload(ws, model, file).await?;
    if count != n as i64 {
        return Err(Problem::from(crate::anaplan::AnaplanError::Protocol(format!(
            "Anaplan counted {count} chunks after {n} were uploaded"
        ))));
    }
    Ok((total, n))
}

/// Rows processed (successful), ignored and failed, summed over the result's details.
fn rows(result: &Value) -> Value {
    let mut sums = [0u64; 3];
    let keys = ["successRowCount", "ignoredCount", "failedCount"];
    for detail in result.get("details").and_then(Value::as_array).into_iter().flatten() {
        let values: Vec<&str> =
            detail.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for pair in values.chunks(2) {
            if let [k, v] = pair
                && let Some(i) = keys.iter().position(|key| key == k)
            {
                sums[i] += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    json!({ "processed": sums[0], "ignored": sums[1], "failed": sums[2] })
}

async fn finish(tc: &TaskCall<'_>, task: Task) -> Result<Response, Problem> {
    let rows = task.result.as_ref().map(rows).unwrap_or_else(|| json!({"processed": 0, "ignored": 0, "failed": 0}));
    if task.successful() == Some(false) {
        return Err(tc.failure(&task).await.with("rows", rows));
    }
    let body = json!({
        "taskId": task.id.as_str(),
        "taskState": task.state.as_str(),
        "successful": true,
        "rows": rows,
        "result": task.result,
    });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_summed_from_anaplans_flat_value_lists() {
        // The shape of Anaplan's import task result (reference sample), two hierarchies.
        let result = json!({"details": [
            {"type": "hierarchyRowsProcessed", "values": ["hierarchyName", "Employees", "successRowCount", "90",
                "failedCount", "0", "ignoredCount", "5", "totalRowCount", "95"]},
            {"type": "hierarchyRowsProcessed", "values": ["hierarchyName", "Regions", "successRowCount", "3",
                "failedCount", "2", "ignoredCount", "0", "totalRowCount", "5"]}
        ], "successful": false});
        assert_eq!(rows(&result), json!({"processed": 93, "ignored": 5, "failed": 2}));
    }
}
