//! `export-file`: runs an Anaplan export with the async pattern and delivers the file,
//! either as the final answer (up to 100 MiB) or written to Blob storage block by block as
//! the chunks arrive (memory bounded by about one chunk).

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::http::long_running::{accepted_transfer, hold_until};
use crate::http::{AppState, Call, Params, Problem, ProblemType};
use crate::machinery::budget::{self, TransferBudget};
use crate::machinery::declare::{
    Answer, BLOB_NAME, CONTAINER, Function, Group, Input, LOCALE, LongRunning, Object, Operation, Param, RequestBody,
    Schema, Trigger,
};
use crate::machinery::openapi::prop;
use crate::machinery::task_call::{FINISH_MARGIN, TaskCall, TaskRequest};
use crate::machinery::transfers::{self, Progress, Seen};
use crate::storage::{BlobAccount, BlockWriter};
use anaplan::ids::{ChunkId, ExportId, FileId, TaskId};
use anaplan::tasks::{Action, ActionRef, Task};
use anaplan::{AnaplanError, Client, Listing};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// The largest file answered directly: the Functions host's own body limit.
pub const MAX_RESPONSE_BYTES: u64 = 100 * 1024 * 1024;

const DESTINATION: Param = Param::choice(
    "destination",
    &["response", "blob"],
    "Destination",
    "response (the default): the action's body is the exported file. blob: the file is streamed into Blob \
     storage (the app's storage account, or EXPORT_STORAGE_URL), in 'Blob container', and the body says where.",
)
.default("response");

/// `export-file`.
pub const FUNCTION: Function = Function {
    name: "export-file",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST, Method::DELETE], body: RequestBody::Parameters },
    inputs: &[
        Input::Param(DESTINATION),
        Input::Param(CONTAINER.help("With destination=blob: the container to write to (required then).")),
        Input::Param(BLOB_NAME.help("With destination=blob: the blob's name; the export's name by default.")),
        Input::Param(LOCALE),
    ],
    long_running: Some(LongRunning {
        noun: "export",
        action: Object::Export,
        status_inputs: &[
            DESTINATION.advanced(),
            CONTAINER.help("As in the status URL, for destination=blob."),
            BLOB_NAME.help("As in the status URL, for destination=blob."),
        ],
        status_produces: None,
    }),
    operation: Some(Operation {
        id: "ExportFile",
        summary: "Export a file",
        description: "Runs an Anaplan export and, once it has finished (asynchronous pattern), returns the file, or \
                      streams it into Blob storage with destination=blob.",
        important: true,
        consumes: &[],
        produces: &["application/json", "text/csv", "application/octet-stream", "application/problem+json"],
        ok: Answer {
            description: "The export completed: the file itself (destination=response; an empty export is an empty \
                          body), or where it was written (destination=blob).",
            schema: "ExportBlobResult",
            array: false,
        },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "ExportBlobResult", build: export_blob_result_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// Where the file goes, as asked.
enum Target {
    Response,
    Blob { container: String, blob: Option<String> },
}

/// An export-file request, checked.
struct ExportFileRequest {
    task: TaskRequest<ExportId>,
    target: Target,
}

impl ExportFileRequest {
    fn parse(call: &Call, params: &Params) -> Result<Self, Problem> {
        let task = TaskRequest::parse(call, params, Object::Export)?;
        let (container, blob) = (params.get("container"), params.get("blobName"));
        let target = match params.choice(&DESTINATION)? {
            Some("blob") => Target::Blob {
                container: container
                    .ok_or_else(|| Problem::bad_parameter("container is required with destination=blob"))?
                    .to_owned(),
                blob: blob.map(str::to_owned),
            },
            _ if container.is_some() || blob.is_some() => {
                return Err(Problem::bad_parameter("container and blobName go with destination=blob"));
            }
            _ => Target::Response,
        };
        Ok(ExportFileRequest { task, target })
    }
}

/// Where the file goes.
enum Destination<'a> {
    Response,
    Blob { account: &'a BlobAccount, container: String, blob: String },
}

/// `#/definitions/ExportBlobResult`: where an export to Blob storage was written.
fn export_blob_result_schema() -> Value {
    json!({
        "type": "object",
        "description": "Where an export to Blob storage (destination=blob) was written. With destination=response \
                        the body is the file itself instead.",
        "properties": {
            "blobUrl": prop("string", "Blob URL", "The blob's URL, without any SAS."),
            "bytes": prop("integer", "Bytes", "Size of the file written."),
            "chunks": prop("integer", "Chunks", "Anaplan chunks the file came in."),
            "contentType": prop("string", "Content type", "The file's content type."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let ExportFileRequest { task: req, target } = ExportFileRequest::parse(&call, &call.params()?)?;
    // No storage at all is what to fix first (e.g. `demo`); then which container.
    let account = match &target {
        Target::Blob { container, .. } => {
            let account = state.export_storage().ok_or_else(|| {
                Problem::bad_parameter(
                    "destination=blob needs a storage account, which is not configured: set EXPORT_STORAGE_URL or AzureWebJobsStorage (locally `UseDevelopmentStorage=true` with Azurite running (scripts/azurite.sh start)), or use destination=response",
                )
            })?;
            state.transfer_container(container)?;
            Some(account)
        }
        Target::Response => None,
    };
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let listing = Listing::Exports(ws.clone(), model.clone());
    let export = state.find(&client, &listing, req.action).await?.id;
    // The export's name is the file name (and the default blob name).
    let name = state.catalog.name_of(&client, &listing, &export).await?.ok_or_else(|| {
        Problem::from(AnaplanError::Api {
            status: 404,
            message: format!("no export {export} in model {model}"),
            retry_after: None,
        })
    })?;

    let mut extra: Vec<(&'static str, String)> = Vec::new();
    let destination = match (account, target) {
        (Some(account), Target::Blob { container, blob }) => {
            let blob = blob.unwrap_or_else(|| name.clone());
            // Checked now, not after minutes of exporting.
            account.blob(&container, &blob).map_err(|e| Problem::bad_parameter(e.to_string()))?;
            extra.extend([
                ("destination", "blob".to_owned()),
                ("container", container.clone()),
                ("blobName", blob.clone()),
            ]);
            Destination::Blob { account, container, blob }
        }
        _ => Destination::Response,
    };
    let action = ActionRef { workspace: ws, model, action: Action::Export(export) };
    let tc = TaskCall { state, call: &call, client, action, action_name: Some(name), extra, wait: req.wait };

    tc.run(req.intent, req.wait, &req.locale, &[], || async { Ok(None) }, |t| finish(&tc, t, &destination)).await
}

async fn finish(tc: &TaskCall<'_>, task: Task, destination: &Destination<'_>) -> Result<Response, Problem> {
    if task.successful() == Some(false) {
        return Err(tc.failure(&task).await);
    }
    let Action::Export(export) = &tc.action.action else {
        return Err(Problem::from(AnaplanError::Protocol("export-file runs exports only".to_owned())));
    };
    let file = export.output_file();
    match destination {
        Destination::Response => {
            let content_type = content_type(tc).await?;
            // The file is the export's, not the task's: the latest run writes it.
            replaced_check(tc, &task).await?;
            let (ws, model) = (&tc.action.workspace, &tc.action.model);
            let chunks = tc.client.file_chunks(ws, model, &file).await?;
            respond_with_file(tc, &task, &file, chunks, &content_type).await
        }
        Destination::Blob { account, container, blob } => to_blob(tc, task, account, container, blob).await,
    }
}

/// The export's content type: its format when that is a MIME type.
async fn content_type(tc: &TaskCall<'_>) -> Result<String, Problem> {
    let meta = tc.client.action_metadata(&tc.action).await?;
    Ok(meta
        .get("exportFormat")
        .and_then(Value::as_str)
        .filter(|f| f.contains('/') && HeaderValue::from_str(f).is_ok())
        .unwrap_or("application/octet-stream")
        .to_owned())
}

/// The copy of a completed task's file to the blob, in the background of whichever
/// instance claimed it: 202 with its progress until the blob is committed, then 200.
async fn to_blob(
    tc: &TaskCall<'_>,
    task: Task,
    account: &BlobAccount,
    container: &str,
    blob: &str,
) -> Result<Response, Problem> {
    let records = tc.state.records().await?;
    let a = &tc.action;
    let name = transfers::record_name(
        "transfers/export",
        &[a.workspace.as_str(), a.model.as_str(), a.action.id(), task.id.as_str(), container, blob],
    );
    let seen = match transfers::look(&records, &name).await? {
        Some((seen @ (Seen::Running(_) | Seen::Done(_)), _)) => seen,
        _ => {
            // Checked here, where the answer can carry the later run's status URL; the
            // copy checks again before it commits.
            replaced_check(tc, &task).await?;
            let job = ExportJob {
                client: tc.client.clone(),
                account: account.clone(),
                action: tc.action.clone(),
                task: task.clone(),
                container: container.to_owned(),
                blob: blob.to_owned(),
                content_type: content_type(tc).await?,
                window: tc.state.transfers.window,
                budget: tc.state.budget.clone(),
                status_urls: Arc::new(tc.status_urls()),
            };
            transfers::ensure(
                tc.state,
                &records,
                &name,
                json!({}),
                |_| std::future::ready(Ok(transfers::Lapsed::TakeOver)),
                move |_| Box::new(move |progress| Box::pin(copy_to_blob(job, progress))),
            )
            .await?
        }
    };
    let until = hold_until(tc.call, tc.wait);
    let seen = transfers::hold(&records, &name, seen, until).await?;
    match seen {
        Seen::Running(progress) => {
            Ok(accepted_transfer(&tc.status_url(&task.id)?, tc.state.poll_seconds, Some(&task), progress))
        }
        Seen::Done(result) => {
            let mut resp = (StatusCode::OK, result.to_string()).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(resp)
        }
        Seen::Failed(problem) => Err(problem),
    }
}

/// A task's status URL from its id.
type StatusUrls = dyn Fn(&TaskId) -> Option<String> + Send + Sync;

/// What the background copy of an export's file needs, owned.
struct ExportJob {
    client: Client,
    account: BlobAccount,
    action: ActionRef,
    task: Task,
    container: String,
    blob: String,
    content_type: String,
    window: usize,
    budget: Arc<TransferBudget>,
    status_urls: Arc<StatusUrls>,
}

/// Copies the export's chunks into blocks, `window` chunks at a time within the
/// instance's budget (each fetched whole, retried alone when cut midway, and staged as its
/// own block), then commits them in chunk order, unless a later run of the export started
/// meanwhile.
async fn copy_to_blob(job: ExportJob, progress: Progress) -> Result<Value, Problem> {
    let ExportJob { client, account, action, task, container, blob, content_type, window, budget, status_urls } = job;
    let Action::Export(export) = &action.action else {
        return Err(Problem::from(AnaplanError::Protocol("export-file runs exports only".to_owned())));
    };
    let file = export.output_file();
    let (ws, model) = (&action.workspace, &action.model);
    let chunks = client.file_chunks(ws, model, &file).await?;
    let target = account.blob(&container, &blob).map_err(|e| Problem::bad_parameter(e.to_string()))?;
    let writer = BlockWriter::new(&target);
    let total = chunks.len();
    let sizes = ChunkSizes::default();
    let reserved = budget::reserve_each(budget, futures_util::stream::iter(chunks.into_iter().enumerate()), total, {
        let sizes = sizes.clone();
        move |_| sizes.guess()
    });
    let (mut done, mut bytes) = (0usize, 0u64);
    let mut empty: Vec<usize> = Vec::new();
    progress.set(json!({"phase": "copying", "chunks": 0, "of": total, "bytes": 0}));
    {
        let (client, writer, file, sizes) = (&client, &writer, &file, &sizes);
        let mut staged = std::pin::pin!(
            reserved
                .map(|(reservation, (i, id)): (budget::Reservation, (usize, ChunkId))| async move {
                    let chunk = client.file_chunk(ws, model, file, &id).await?;
                    sizes.arrived(i, chunk.len());
                    let n = writer.stage(i, reservation.hold(chunk)).await?;
                    Ok::<_, Problem>((i, n))
                })
                .buffer_unordered(window)
        );
        while let Some(staged) = staged.next().await {
            let (i, n) = staged?;
            if n == 0 {
                empty.push(i);
            }
            done += 1;
            bytes += n;
            progress.set(json!({"phase": "copying", "chunks": done, "of": total, "bytes": bytes}));
        }
    }
    // A run that started while the chunks were read may have mixed its file in: checked
    // again before the blob is committed.
    if let Some(later) = client.later_started_task(&action, &task).await? {
        return Err(replaced(&task, &later, status_urls(&later)));
    }
    progress.set(json!({"phase": "committing", "chunks": done, "of": total, "bytes": bytes}));
    writer.commit(total, &empty, &content_type).await?;
    tracing::info!(chunks = total, bytes, "export written to blob");
    Ok(json!({
        "blobUrl": account.public_url(&container, &blob).as_str(),
        "bytes": bytes,
        "chunks": total,
        "contentType": content_type,
    }))
}

/// 409 when a later task of the same export has started since `task`: the export's one
/// output file may now hold that run's output, so it is not handed out as `task`'s.
async fn replaced_check(tc: &TaskCall<'_>, task: &Task) -> Result<(), Problem> {
    match tc.client.later_started_task(&tc.action, task).await? {
        Some(later) => Err(replaced(task, &later, tc.status_url(&later).ok())),
        None => Ok(()),
    }
}

fn replaced(task: &Task, later: &TaskId, later_url: Option<String>) -> Problem {
    let mut problem = Problem::new(ProblemType::ExportReplaced, format!(
            "Anaplan task {} completed, but a later run of the same export (task {later}) has started since, and each run writes over the export's one file: it may hold that run's output. Use that run's status URL (laterStatusUrl) or run the export again",
            task.id
        ),
    )
    .with("taskId", json!(task.id.as_str()))
    .with("laterTaskId", json!(later.as_str()));
    if let Some(url) = later_url {
        problem = problem.with("laterStatusUrl", json!(url));
    }
    problem
}

/// The file as the answer. Anaplan's chunks have one size but the last, so after the first
/// chunk the total is known within a chunk: clearly too large is a 413 before anything is
/// sent, clearly small enough is streamed, and only the uncertain middle is buffered.
///
/// The whole answer must be given by [`TaskCall::finish_by`]. `window` chunks are fetched
/// at once, so the first one's time tells how long the rest takes: a file that will not
/// arrive in the time left is not begun (a 200 cut off midway would leave the caller with
/// nothing). Then the answer is a 202 with the task's Location, so the next poll, which has
/// the whole answer deadline for it, sends the file; or, when this request had most of
/// that time and the file still cannot arrive in it, a 413 that points to
/// `destination=blob`. A stream that falls behind all the same is cut at the deadline.
async fn respond_with_file(
    tc: &TaskCall<'_>,
    task: &Task,
    file: &FileId,
    chunks: Vec<ChunkId>,
    content_type: &str,
) -> Result<Response, Problem> {
    let (ws, model) = (tc.action.workspace.clone(), tc.action.model.clone());
    let name = tc.action_name.clone().unwrap_or_else(|| file.to_string());
    let n = chunks.len() as u64;
    let client = tc.client.clone();
    let file = file.clone();
    let window = tc.state.transfers.window;
    let sizes = ChunkSizes::default();
    let reserved = budget::reserve_each(tc.state.budget.clone(), futures_util::stream::iter(chunks), n as usize, {
        let sizes = sizes.clone();
        move |_| sizes.guess()
    });
    // A little before the answer's own limit, so this decides, not that limit.
    let until = tc.finish_by().checked_sub(Duration::from_millis(250)).unwrap_or(tc.call.received);
    let began = tokio::time::Instant::now();
    let had = until.saturating_duration_since(began);
    // The time a fresh poll has for the file: most of the answer deadline.
    let full = tc.state.transfers.answer_deadline.saturating_sub(FINISH_MARGIN) * 3 / 4;
    let late = |needed: Option<Duration>| -> Result<Response, Problem> {
        match needed {
            Some(needed) if had >= full && needed > had => {
                Err(too_slow(task, needed, had, tc.status_url(&task.id).ok()))
            }
            _ => tc.not_yet(
                task,
                "the export has finished; its file is sent by the next poll, which has a whole answer's time for it",
            ),
        }
    };
    // `window` chunks fetched at once from the start (the first one's size decides the
    // answer, the others arrive meanwhile), within the instance's budget, handed on in
    // chunk order; each chunk's reservation returns when hyper has written it.
    let mut fetched = Box::pin(
        reserved
            .enumerate()
            .map(move |(i, (reservation, id))| {
                let (client, ws, model, file) = (client.clone(), ws.clone(), model.clone(), file.clone());
                let sizes = sizes.clone();
                async move {
                    let chunk = client.file_chunk(&ws, &model, &file, &id).await.map_err(|e| (id, e))?;
                    sizes.arrived(i, chunk.len());
                    Ok(reservation.hold(chunk))
                }
            })
            .buffered(window),
    );
    let first = match tokio::time::timeout_at(until, fetched.next()).await {
        Ok(first) => first,
        // Not even the first chunk in the time left: at least `n / window` times longer.
        Err(_) => {
            let windows = n.div_ceil(window as u64).max(1) as u32;
            return late(Some(had.saturating_mul(windows).saturating_add(Duration::from_secs(1))));
        }
    };
    let body = match first {
        None => Body::empty(),
        Some(Err((_, e))) => return Err(e.into()),
        Some(Ok(first)) => {
            let size = first.len() as u64;
            if n.saturating_sub(1).saturating_mul(size) >= MAX_RESPONSE_BYTES {
                return Err(too_large(n, size));
            }
            // The first `window` chunks took this long; each further window about as long.
            let per_window = began.elapsed();
            let windows = n.div_ceil(window as u64) as u32;
            let needed = per_window.saturating_mul(windows);
            if began + needed > until {
                return late(Some(needed));
            }
            if n.saturating_mul(size) <= MAX_RESPONSE_BYTES {
                let rest = fetched.scan((size, false), |(total, ended), fetched| {
                    if *ended {
                        return std::future::ready(None);
                    }
                    let item = match fetched {
                        Ok(b) if *total + b.len() as u64 <= MAX_RESPONSE_BYTES => {
                            *total += b.len() as u64;
                            Ok::<Bytes, std::io::Error>(b)
                        }
                        Ok(_) => {
                            *ended = true;
                            Err(std::io::Error::other("export larger than expected"))
                        }
                        Err((id, e)) => {
                            tracing::warn!(error = %e, chunk = %id, "export download failed midway");
                            *ended = true;
                            Err(std::io::Error::other(e.to_string()))
                        }
                    };
                    std::future::ready(Some(item))
                });
                let stream = futures_util::stream::once(std::future::ready(Ok(first))).chain(rest);
                Body::from_stream(crate::http::body::cut_at(tc.call.deadline, stream))
            } else {
                let mut buf = first.to_vec();
                loop {
                    let next = match tokio::time::timeout_at(until, fetched.next()).await {
                        Ok(next) => next,
                        Err(_) => return late(None),
                    };
                    let Some(b) = next else { break };
                    let b = b.map_err(|(_, e)| e)?;
                    if (buf.len() + b.len()) as u64 > MAX_RESPONSE_BYTES {
                        return Err(too_large(n, size));
                    }
                    buf.extend_from_slice(&b);
                }
                Body::from(buf)
            }
        }
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_DISPOSITION, content_disposition(&name));
    Ok(resp)
}

/// What an export's chunks reserve: [`budget::FIRST_CHUNK_GUESS`] until the first chunk
/// has arrived, then its size (Anaplan's chunks have one size but the last).
#[derive(Clone, Default)]
struct ChunkSizes(Arc<std::sync::atomic::AtomicUsize>);

impl ChunkSizes {
    fn guess(&self) -> usize {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            0 => budget::FIRST_CHUNK_GUESS,
            n => n,
        }
    }

    fn arrived(&self, i: usize, len: usize) {
        if i == 0 {
            self.0.store(len.max(1), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// 413 for a file that cannot arrive within one answer at the rate Anaplan sends it.
fn too_slow(task: &Task, needed: Duration, had: Duration, status_url: Option<String>) -> Problem {
    let mut p = Problem::new(ProblemType::ExportTooSlow, format!(
            "the export has finished, but at the rate Anaplan sends its file it would take about {} s, more than the {} s one answer has for it; use destination=blob with a container to have it written to Blob storage (that copy spans polls)",
            needed.as_secs().max(1),
            had.as_secs()
        ),
    )
    .with("taskId", json!(task.id.as_str()));
    if let Some(url) = status_url {
        p = p.with("statusUrl", json!(url));
    }
    p
}

fn too_large(chunks: u64, chunk_size: u64) -> Problem {
    Problem::new(
        ProblemType::ExportTooLarge,
        format!(
            "the export is larger than 100 MiB ({chunks} chunks of {chunk_size} bytes), more than one answer may carry; \
             use destination=blob with a container to have it written to Blob storage"
        ),
    )
}

/// `attachment; filename="..."` with quotes and control characters replaced, plus an
/// RFC 5987 `filename*` for names beyond ASCII.
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut v = format!("attachment; filename=\"{ascii}\"");
    if !name.is_ascii() {
        let encoded: String =
            url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
        v.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_break_the_header() {
        assert_eq!(content_disposition("Price Export.csv"), "attachment; filename=\"Price Export.csv\"");
        assert_eq!(content_disposition("a\"b\r\n.csv"), "attachment; filename=\"a_b__.csv\"");
        let v = content_disposition("Prévision.csv");
        assert!(v.to_str().unwrap().contains("filename*=UTF-8''Pr%C3%A9vision.csv"), "{v:?}");
    }
}
