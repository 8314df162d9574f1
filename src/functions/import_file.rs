//! `import-file`: uploads a file (the request body, or a blob) to an import's data source in
//! chunks, then runs the import with the async pattern. The final answer reports the rows
//! processed, ignored and failed; a failed import is a 422 with its failure dump.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::task_call::{self, Intent, TaskCall};
use crate::anaplan::Listing;
use crate::anaplan::ids::{FileId, ImportId};
use crate::anaplan::tasks::{Action, ActionRef, Task};
use crate::http::{AppState, Call, Problem};

/// Upload chunk size: within Anaplan's 1–50 MB, small enough to retry cheaply.
pub const UPLOAD_CHUNK: usize = 10 * 1024 * 1024;

const PARAMETERS: &[&str] = &[
    "workspaceId",
    "workspaceName",
    "modelId",
    "modelName",
    "importId",
    "importName",
    "source",
    "container",
    "blobName",
    "locale",
    "wait",
    "taskId",
    "dump",
];

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    // The body is the file, so parameters come from the query string only.
    let params = call.query_params(PARAMETERS)?;
    let intent = task_call::intent(&call, &params)?;
    let wait = task_call::wait(&params)?;
    let source = params.choice("source", &["body", "blob"], "body")?;
    if matches!(intent, Intent::Start) {
        check_source(&call, &params, source)?;
    }
    let client = call.client(state)?;
    let (ws, model) = task_call::workspace_and_model(state, &client, &params).await?;
    let (import, name) = task_call::action_id(
        state,
        &client,
        params.object("import", ImportId::parse)?,
        Listing::Imports(ws.clone(), model.clone()),
        ImportId::parse,
    )
    .await?;
    let action = ActionRef { workspace: ws, model, action: Action::Import(import) };
    let tc =
        TaskCall { state, call: &call, client, function: "import-file", action, action_name: name, extra: Vec::new() };

    // The file goes into the fingerprint: the same key with another file is another request.
    let file = match source {
        "blob" => format!("blob:{}/{}", params.get("container").unwrap_or(""), params.get("blobName").unwrap_or("")),
        _ => format!("body:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&call.body))),
    };
    let prepare = || async {
        let file = tc.client.import_source(&tc.action).await?;
        let (bytes, chunks) = upload(&tc, &file, source, &params).await?;
        tracing::info!(file = %file, bytes, chunks, "import data uploaded");
        Ok(())
    };
    tc.run(intent, &params, wait, &[("file", &file)], prepare, |t| finish(&tc, t)).await
}

fn check_source(call: &Call, params: &crate::http::Params, source: &str) -> Result<(), Problem> {
    match source {
        "blob" => {
            if params.get("container").is_none() || params.get("blobName").is_none() {
                return Err(Problem::bad_parameter("source=blob needs container and blobName"));
            }
            if !call.body.is_empty() {
                return Err(Problem::bad_parameter("source=blob reads the file from Blob storage; send no body"));
            }
        }
        _ => {
            if params.get("container").is_some() || params.get("blobName").is_some() {
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
async fn upload(
    tc: &TaskCall<'_>,
    file: &FileId,
    source: &str,
    params: &crate::http::Params,
) -> Result<(u64, usize), Problem> {
    let (ws, model) = (&tc.action.workspace, &tc.action.model);
    tc.client.begin_upload(ws, model, file).await?;
    let mut n = 0usize;
    let mut total = 0u64;
    match source {
        "blob" => {
            let account = tc
                .state
                .export_storage()
                .ok_or_else(|| Problem::bad_parameter("source=blob needs a storage account, which is not configured: set EXPORT_STORAGE_URL or AzureWebJobsStorage (locally `UseDevelopmentStorage=true` with Azurite running (scripts/azurite.sh start)), or send the file as the request body"))?;
            let (container, blob) = (params.get("container").unwrap_or(""), params.get("blobName").unwrap_or(""));
            let client = account.blob(container, blob).map_err(|e| Problem::bad_parameter(e.to_string()))?;
            let (_, stream) = crate::storage::read_stream(&client).await.map_err(blob_problem)?;
            let mut stream = Box::pin(stream);
            let mut pending = BytesMut::new();
            while let Some(piece) = stream.next().await {
                pending.extend_from_slice(&piece.map_err(blob_problem)?);
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
        _ => {
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

fn blob_problem(e: crate::storage::StorageError) -> Problem {
    match e {
        crate::storage::StorageError::NotFound(what) => {
            Problem::new(StatusCode::NOT_FOUND, "blob-not-found", "Blob not found", what)
        }
        other => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "blob-storage-unavailable",
            "Blob storage unavailable",
            format!("the file could not be read from Blob storage: {other}"),
        ),
    }
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
