//! `import-file`: uploads a file (the request body, or a blob) to an import's data source in
//! chunks, then runs the import with the async pattern. The final answer reports the rows
//! processed, ignored and failed; a failed import is a 422 with its failure dump.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::http::long_running::{accepted_transfer, hold_until};
use crate::http::{AppState, Call, Params, Problem, ProblemType, off_runtime};
use crate::machinery::declare::{
    Answer, BLOB_NAME, CONTAINER, DUMP, Function, Group, Input, LOCALE, LongRunning, Object, Operation, Param,
    RequestBody, Schema, TASK_RESPONSES, Trigger,
};
use crate::machinery::openapi::{import_rows, successful, task_id, task_result, task_state};
use crate::machinery::task_call::{Before, Found, Intent, Shown, TaskCall, TaskRequest, start_uncertain};
use crate::machinery::transfers::{self, DataSourceLock, Progress, Seen};
use crate::storage::Records;
use anaplan::ids::{FileId, ImportId, TaskId};
use anaplan::tasks::{Action, ActionRef, BUSY_BUDGET, Task};
use anaplan::{Client, Listing};
use std::time::Duration;

/// Upload chunk size: within Anaplan's 1–50 MB, small enough to retry cheaply.
pub const UPLOAD_CHUNK: usize = 10 * 1024 * 1024;

const SOURCE: Param = Param::choice(
    "source",
    &["body", "blob"],
    "Source",
    "body (the default): the file is the action's body. blob: read it from 'Blob container' / 'Blob name'.",
)
.default("body");

/// The status URL's id of a blob upload that has not started its import yet.
const UPLOAD_ID: Param = Param::text(
    "uploadId",
    "Upload ID",
    "With source=blob: the upload's id, from the status URL, until the import has started.",
)
.advanced();

/// How long a blob import waits for another upload or import of its data source.
const LOCK_WAIT: Duration = Duration::from_secs(3600);

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
        status_inputs: &[
            DUMP.help("Any value (e.g. true): answers with the import's whole failure dump as CSV."),
            UPLOAD_ID,
        ],
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
    more_operations: &[],
    schemas: &[Schema { name: "ImportResult", build: import_result_schema }],
    group: Some(Group::Integration),
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

/// `#/definitions/ImportResult`: an import that completed.
fn import_result_schema() -> Value {
    json!({
        "type": "object",
        "description": "An import that completed successfully.",
        "properties": {
            "taskId": task_id(),
            "taskState": task_state(),
            "successful": successful("Always true here; a failed import is a 422 problem."),
            "rows": import_rows(),
            "result": task_result(),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let ImportFileRequest { task: req, source } = ImportFileRequest::parse(&call, &call.params()?)?;
    if let Source::Blob { container, .. } = &source {
        // No storage at all is what to fix first (e.g. `demo`); then which container.
        blob_account(state)?;
        state.transfer_container(container)?;
    }
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let import = state.find(&client, &Listing::Imports(ws.clone(), model.clone()), req.action).await?;
    let action = ActionRef { workspace: ws, model, action: Action::Import(import.id) };
    let tc =
        TaskCall { state, call: &call, client, action, action_name: import.name, extra: Vec::new(), wait: req.wait };

    match (&req.intent, &source) {
        (Intent::Upload(id), _) => return blob_upload_answer(&tc, id, None).await,
        (Intent::CancelUpload(id), _) => return cancel_upload(&tc, id).await,
        (Intent::Start, Source::Blob { container, blob }) => {
            return start_blob_upload(&tc, container, blob, &req.locale).await;
        }
        _ => {}
    }

    // The file goes into the fingerprint: the same key with another file is another request.
    // Up to the host's 100 MiB: hashed on a blocking thread.
    let body = call.body.clone();
    let digest = off_runtime(move || hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body))).await?;
    let file = format!("body:{digest}");
    let prepare = || async {
        let file = tc.client.import_source(&tc.action).await?;
        // Another upload to the file (or the import reading it) is waited for while this
        // answer may wait; then a 429, and the caller's retry tries again.
        let records = tc.state.records().await?;
        // Half the answer's time at most, so the upload and the start still fit after it.
        let until = tc.call.received + (tc.call.deadline - tc.call.received) / 2;
        let (ws, model) = (&tc.action.workspace, &tc.action.model);
        let lock =
            DataSourceLock::acquire(tc.state, &tc.client, &records, (ws, model, file.as_str()), until, |_| {}).await?;
        let body = tc.call.body.clone();
        let pieces = futures_util::stream::iter(
            (0..body.len())
                .step_by(UPLOAD_CHUNK)
                .map(move |at| Ok(body.slice(at..(at + UPLOAD_CHUNK).min(body.len())))),
        );
        let length = tc.call.body.len() as u64;
        let (bytes, chunks) = upload(tc.state, &tc.client, &tc.action, &file, length, pieces, |_, _| {}).await?;
        tracing::info!(file = %file, bytes, chunks, "import data uploaded");
        Ok(Some(lock))
    };
    tc.run(req.intent, req.wait, &req.locale, &[("file", &file)], prepare, |t| finish(&tc, t)).await
}

/// The record of upload `id` of this import.
fn upload_record(tc: &TaskCall<'_>, id: &str) -> String {
    let a = &tc.action;
    transfers::record_name("transfers/import", &[a.workspace.as_str(), a.model.as_str(), a.action.id(), id])
}

/// Starts a blob import: its upload runs in the background (see [`transfers`]); the
/// answer is 202 with the upload's status URL (`uploadId`) until the import has started,
/// then the import task's.
async fn start_blob_upload(tc: &TaskCall<'_>, container: &str, blob: &str, locale: &str) -> Result<Response, Problem> {
    let account = blob_account(tc.state)?;
    account.blob(container, blob).map_err(|e| Problem::bad_parameter(e.to_string()))?;
    // Checked now: an import that takes no file is refused before anything is uploaded.
    let file = tc.client.import_source(&tc.action).await?;
    let records = tc.state.records().await?;
    let a = &tc.action;
    let fingerprint = crate::http::idempotency::fingerprint(&[
        ("workspaceId", a.workspace.as_str()),
        ("modelId", a.model.as_str()),
        ("action", a.action.id()),
        ("locale", locale),
        ("file", &format!("blob:{container}/{blob}")),
    ]);
    // With Idempotency-Key the upload's id comes from the key, so a repeat finds it.
    let id = match crate::http::idempotency::key(&tc.call.headers)? {
        Some(key) => {
            // As for every keyed start: without the app's storage account, a 503 that says so.
            tc.state.state_store().await?;
            let scope = format!("{}|{}", tc.state.caller_users.scope(&tc.client).await?, tc.call.function);
            let name = crate::http::idempotency::record_name(&scope, &key);
            hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(name.as_bytes())[..16])
        }
        None => azure_core::Uuid::new_v4().simple().to_string(),
    };
    let name = upload_record(tc, &id);
    if let Some((doc, _)) = transfers::raw(&records, &name).await?
        && doc["kept"]["fingerprint"].as_str() != Some(fingerprint.as_str())
    {
        return Err(Problem::new(
            ProblemType::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request; use a new key",
        ));
    }
    let kept = json!({"container": container, "blobName": blob, "locale": locale, "file": file.as_str(),
                      "fingerprint": fingerprint});
    let seen = ensure_upload(tc, &records, &name, kept).await?;
    blob_upload_answer(tc, &id, Some(seen)).await
}

/// Claims upload `name` when no instance runs it (see [`transfers::ensure`]), its work
/// made from the record's `kept` parameters.
async fn ensure_upload(tc: &TaskCall<'_>, records: &Records, name: &str, kept: Value) -> Result<Seen, Problem> {
    let job = |kept: &Value| -> transfers::Work {
        let text = |k: &str| kept[k].as_str().unwrap_or_default().to_owned();
        let job = ImportJob {
            state: tc.state.clone(),
            client: tc.client.clone(),
            action: tc.action.clone(),
            records: records.clone(),
            file: FileId::parse(&text("file")),
            container: text("container"),
            blob: text("blobName"),
            locale: text("locale"),
        };
        Box::new(move |progress| Box::pin(upload_from_blob(job, progress)))
    };
    // Lost while it started the import: the import may be running. Its task is looked
    // for among the import's tasks (those that began then and were not there before);
    // found, the upload is done and answers for it; not found, it is not started twice.
    let on_lapse = |progress: Value| async move {
        if progress["phase"] != "starting" {
            return Ok(transfers::Lapsed::TakeOver);
        }
        let uncertain = |seen: Shown<'_>| {
            let cause = "the instance uploading the file stopped while it started the import";
            transfers::Lapsed::Final(start_uncertain(&tc.action, cause, seen, false))
        };
        let Some(before) = progress.get("before").filter(|b| b.is_object()) else {
            return Ok(uncertain(Shown::Unknown("the upload's record predates the check")));
        };
        let before = Before::from_context(0, before.clone());
        match before.find(&tc.client, &tc.action).await? {
            Found::One(task) => {
                tracing::info!(task = %task.id, "the import started by a lost upload is running; answering for it");
                if let (Action::Import(import), Some(file)) = (&tc.action.action, progress["file"].as_str()) {
                    let (ws, model) = (&tc.action.workspace, &tc.action.model);
                    DataSourceLock::assign_lapsed(records, (ws, model, file), import, &task.id).await?;
                }
                Ok(transfers::Lapsed::Done(
                    json!({"taskId": task.id.as_str(), "bytes": progress["bytes"], "chunks": progress["chunks"]}),
                ))
            }
            Found::Several(ids) => Ok(uncertain(Shown::Several(&ids))),
            Found::None => Ok(uncertain(Shown::Nothing)),
        }
    };
    transfers::ensure(tc.state, records, name, kept, on_lapse, job).await
}

/// The answer for upload `id`: 202 with its progress while the file is uploaded, then
/// what a poll of the import task answers (its status URL from then on).
async fn blob_upload_answer(tc: &TaskCall<'_>, id: &str, seen: Option<Seen>) -> Result<Response, Problem> {
    let records = tc.state.records().await?;
    let name = upload_record(tc, id);
    let seen = match seen {
        Some(seen) => seen,
        None => match transfers::look(&records, &name).await? {
            Some((seen @ (Seen::Running(_) | Seen::Done(_)), _)) => seen,
            _ => {
                let Some((doc, _)) = transfers::raw(&records, &name).await? else { return Err(no_upload(id)) };
                ensure_upload(tc, &records, &name, doc["kept"].clone()).await?
            }
        },
    };
    let until = hold_until(tc.call, tc.wait);
    match transfers::hold(&records, &name, seen, until).await? {
        Seen::Running(progress) => {
            Ok(accepted_transfer(&tc.status_url_with(&[("uploadId", id)])?, tc.state.poll_seconds, None, progress))
        }
        Seen::Done(result) => {
            let task = tc.client.task(&tc.action, &task_of(&result)?).await?;
            // `wait` counts from the request's arrival, as for any poll.
            tc.answer(task, tc.wait, |t| finish(tc, t)).await
        }
        Seen::Failed(problem) => Err(problem),
    }
}

/// DELETE on an upload's status URL: stops the upload (polls then answer 409), or, once
/// the import has started, cancels it.
async fn cancel_upload(tc: &TaskCall<'_>, id: &str) -> Result<Response, Problem> {
    let records = tc.state.records().await?;
    let name = upload_record(tc, id);
    let url = tc.status_url_with(&[("uploadId", id)])?;
    for _ in 0..3 {
        let Some((doc, etag)) = transfers::raw(&records, &name).await? else { return Err(no_upload(id)) };
        match doc["state"].as_str() {
            Some("done") => {
                return tc.cancel(&task_of(&doc["result"])?).await;
            }
            Some("failed") => return Err(Problem::from_stored(&doc["problem"])),
            _ if doc["progress"]["phase"] == "starting" => {
                return Err(Problem::new(
                    ProblemType::ImportStarting,
                    "the file is uploaded and the import is being started: poll the status URL for its task, then cancel that",
                ));
            }
            _ => {
                let cancelled = Problem::new(
                    ProblemType::UploadCancelled,
                    format!("upload {id} was cancelled before the import started; the import did not run"),
                )
                .with("uploadId", json!(id));
                if transfers::end(&records, &name, &doc, &etag, &cancelled).await? {
                    tracing::info!(upload = id, "upload cancelled");
                    return Ok(accepted_transfer(&url, tc.state.poll_seconds, None, json!({"phase": "cancelling"})));
                }
            }
        }
    }
    Err(Problem::new(ProblemType::UploadBusy, "the upload changed while it was being cancelled; try again")
        .retry_after(1))
}

/// 404 for an upload id this import has no record of.
fn no_upload(id: &str) -> Problem {
    Problem::new(
        ProblemType::UploadNotFound,
        format!("there is no upload {id} of this import (records are kept for two days after their last change)"),
    )
}

/// The import task a finished upload started.
fn task_of(result: &Value) -> Result<TaskId, Problem> {
    result["taskId"]
        .as_str()
        .and_then(|t| TaskId::parse(t).ok())
        .ok_or_else(|| Problem::from(anaplan::AnaplanError::Protocol("an upload's record has no task".to_owned())))
}

fn blob_account(state: &AppState) -> Result<&crate::storage::BlobAccount, Problem> {
    state.export_storage().ok_or_else(|| Problem::bad_parameter("source=blob needs a storage account, which is not configured: set EXPORT_STORAGE_URL or AzureWebJobsStorage (locally `UseDevelopmentStorage=true` with Azurite running (scripts/azurite.sh start)), or send the file as the request body"))
}

/// What the background upload of a blob needs, owned.
struct ImportJob {
    state: AppState,
    client: Client,
    action: ActionRef,
    records: Records,
    file: Result<FileId, anaplan::ids::InvalidId>,
    container: String,
    blob: String,
    locale: String,
}

/// Takes the data source's lock, uploads the blob in chunks, `window` at a time, starts
/// the import and hands the lock to its task.
async fn upload_from_blob(job: ImportJob, progress: Progress) -> Result<Value, Problem> {
    let ImportJob { state, client, action, records, file, container, blob, locale } = job;
    let file = file.map_err(|e| Problem::from(anaplan::AnaplanError::Protocol(e.to_string())))?;
    let Action::Import(import) = &action.action else {
        return Err(Problem::from(anaplan::AnaplanError::Protocol("import-file runs imports only".to_owned())));
    };
    let (ws, model) = (&action.workspace, &action.model);
    let until = tokio::time::Instant::now() + LOCK_WAIT;
    let lock = DataSourceLock::acquire(&state, &client, &records, (ws, model, file.as_str()), until, |why| {
        progress.set(json!({"phase": "waiting", "detail": why}))
    })
    .await?;
    let account = blob_account(&state)?;
    let source = account.blob(&container, &blob).map_err(|e| Problem::bad_parameter(e.to_string()))?;
    let (length, stream) = crate::storage::read_stream(&source).await?;
    if length == 0 {
        return Err(Problem::bad_parameter("the blob is empty: there is nothing to import"));
    }
    let count = (length as usize).div_ceil(UPLOAD_CHUNK);
    progress.set(json!({"phase": "uploading", "chunks": 0, "of": count, "bytes": 0, "totalBytes": length}));
    let pieces = Box::pin(in_chunks(stream.map(|r| r.map_err(Problem::from)), UPLOAD_CHUNK));
    let (bytes, chunks) = upload(&state, &client, &action, &file, length, pieces, |done, bytes| {
        progress.set(json!({"phase": "uploading", "chunks": done, "of": count, "bytes": bytes, "totalBytes": length}))
    })
    .await?;
    if bytes != length {
        return Err(Problem::from(anaplan::AnaplanError::Protocol(format!(
            "the blob was {length} bytes when the upload began, {bytes} were read"
        ))));
    }
    tracing::info!(file = %file, bytes, chunks, "import data uploaded from blob");
    // Known to any instance that takes over: from here the import may be running, and
    // the tasks that exist already are not the one it starts.
    let before = Before::take(&client, &action).await?;
    progress
        .flush(json!({"phase": "starting", "chunks": chunks, "of": count, "bytes": bytes, "file": file.as_str(),
                      "before": before}))
        .await?;
    let task = match client.start_task(&action, &locale, BUSY_BUDGET).await {
        Ok(task) => task,
        Err(e) => {
            let problem = Problem::from(e);
            if !problem.not_repeated() {
                return Err(problem);
            }
            // Its answer was lost: the import's tasks say whether it started.
            let cause = problem.body()["detail"].as_str().unwrap_or_default().to_owned();
            let seen = before.find(&client, &action).await;
            match seen {
                Ok(Found::One(t)) => Task { id: t.id, state: t.state, result: None, created_ms: t.created_ms },
                other => {
                    lock.keep_until_lapsed();
                    let why = match &other {
                        Err(p) => p.body()["detail"].as_str().unwrap_or_default().to_owned(),
                        _ => String::new(),
                    };
                    return Err(match &other {
                        Ok(Found::Several(ids)) => start_uncertain(&action, &cause, Shown::Several(ids), false),
                        Ok(_) => start_uncertain(&action, &cause, Shown::Nothing, false),
                        Err(_) => start_uncertain(&action, &cause, Shown::Unknown(&why), false),
                    });
                }
            }
        }
    };
    tracing::info!(task = %task.id, "import started after its upload");
    lock.hand_to_task(import, &task.id).await;
    Ok(json!({"taskId": task.id.as_str(), "bytes": bytes, "chunks": chunks}))
}

/// A stream of byte pieces cut into chunks of `size` (the last one shorter).
fn in_chunks(
    pieces: impl futures_util::Stream<Item = Result<Bytes, Problem>> + Send + Unpin + 'static,
    size: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, Problem>> + Send + 'static {
    futures_util::stream::unfold((pieces, BytesMut::new(), false), move |(mut pieces, mut pending, ended)| async move {
        if ended {
            return None;
        }
        while pending.len() < size {
            match pieces.next().await {
                Some(Ok(piece)) => pending.extend_from_slice(&piece),
                Some(Err(e)) => return Some((Err(e), (pieces, pending, true))),
                None if pending.is_empty() => return None,
                None => {
                    let last = pending.split().freeze();
                    return Some((Ok(last), (pieces, pending, true)));
                }
            }
        }
        let chunk = pending.split_to(size).freeze();
        Some((Ok(chunk), (pieces, pending, false)))
    })
}

/// Uploads the `length` bytes of `pieces` (chunks of [`UPLOAD_CHUNK`]) to `file`,
/// `TRANSFER_WINDOW` at a time within the instance's budget (the count is given, so
/// Anaplan takes them in any order); `on_chunk(done, bytes)` after each. Returns (bytes,
/// chunks).
///
/// Each chunk reserves its size and half again (the packed copy) before it is pulled from
/// `pieces` (which may be what reads it); what is sent keeps the reservation of its own
/// size until reqwest drops it.
async fn upload(
    state: &AppState,
    client: &Client,
    action: &ActionRef,
    file: &FileId,
    length: u64,
    pieces: impl futures_util::Stream<Item = Result<Bytes, Problem>> + Send + Unpin,
    on_chunk: impl Fn(usize, u64),
) -> Result<(u64, usize), Problem> {
    let (ws, model) = (&action.workspace, &action.model);
    let count = (length as usize).div_ceil(UPLOAD_CHUNK);
    client.begin_upload(ws, model, file, Some(count)).await?;
    let size = move |n: usize| {
        let piece = (length as usize).saturating_sub(n * UPLOAD_CHUNK).min(UPLOAD_CHUNK);
        piece + piece / 2
    };
    let mut sent = std::pin::pin!(
        crate::machinery::budget::reserve_each(state.budget.clone(), pieces, count, size)
            .enumerate()
            .map(|(n, (reservation, piece))| async move {
                let piece = piece?;
                if n >= count {
                    return Err(Problem::from(anaplan::AnaplanError::Protocol(
                        "the file grew while it was uploaded".to_owned(),
                    )));
                }
                let len = piece.len() as u64;
                // Packed on a blocking thread: CSV shrinks several times, and the link to
                // Anaplan is usually the slow part. Sent as it is when packing does not help.
                let (body, gzipped) = off_runtime(move || match pack(&piece) {
                    Some(packed) => (packed, true),
                    None => (piece, false),
                })
                .await?;
                client.upload_chunk(ws, model, file, n, reservation.hold(body), gzipped).await?;
                Ok::<u64, Problem>(len)
            })
            .buffer_unordered(state.transfers.window)
    );
    let (mut total, mut n) = (0u64, 0usize);
    while let Some(len) = sent.next().await {
        total += len?;
        n += 1;
        on_chunk(n, total);
    }
    if n != count {
        return Err(Problem::from(anaplan::AnaplanError::Protocol(format!(
            "{n} chunks were uploaded where {count} were announced"
        ))));
    }
    Ok((total, n))
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
                    ProblemType::UnsupportedMediaType,
                    format!(
                        "the body is the file to import: send it as text/csv or application/octet-stream (got {})",
                        anaplan::untrusted::quote(&essence)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `bytes` packed with gzip (fastest level), when that makes them smaller.
fn pack(bytes: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
    gz.write_all(bytes).ok()?;
    let packed = gz.finish().ok()?;
    (packed.len() < bytes.len()).then(|| Bytes::from(packed))
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
    Ok(crate::http::json_answer(StatusCode::OK, &body))
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
