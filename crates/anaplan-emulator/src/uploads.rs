//! Uploads (reference §4.7).
//!
//! `POST …/files/{id}` with `{"chunkCount": N|-1}` starts a new upload and
//! empties the file (an unknown id creates a private file named after it).
//! Chunks are `PUT` as `application/octet-stream`, 1 byte to `max_upload_chunk`
//! each: with -1 strictly in order 0,1,2… and complete after `POST …/complete`;
//! with N ≥ 0 in any order (anaplan-sdk uploads them in parallel), each of
//! 0..N, and complete when all N have arrived. A chunk PUT again replaces itself. `PUT …/files/{id}` replaces the whole
//! content in one shot. Export output files (`116…`) cannot be uploaded (400).
//! Chunks may be gzip (`application/x-gzip`): unpacked, then held to the same
//! limit; the single-shot PUT takes no gzip (415).
//! Every upload request that changes the source file of an import task still
//! NOT_STARTED or IN_PROGRESS is recorded (Anaplan does not lock the file).

use super::Inner;
use super::actions::scope;
use super::bulk::Kind;
use super::files::{FileRef, FileState, file_answer, file_json, resolve};
use super::tasks::settle;
use super::util::{Ids, api_error, api_status};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// Runs `f` on the state of an uploadable file after settling tasks, then
/// records the upload if a non-terminal import reads that file.
fn upload<T>(
    inner: &Inner,
    (ws, m, id): (&str, &str, &str),
    path: &str,
    create: bool,
    f: impl FnOnce(&mut FileState) -> Result<T, Response>,
) -> Result<T, Response> {
    let model = scope(inner, ws, m, path)?;
    let now = Instant::now();
    let mut st = inner.state();
    settle(&mut st, now);
    match resolve(&st, model, id) {
        Some(FileRef::Export(_)) => {
            let msg = format!("File [{id}] is the output of an export and cannot be uploaded");
            return Err(api_error(StatusCode::BAD_REQUEST, &msg, path));
        }
        Some(_) => {}
        // Anaplan creates a private file named after an unknown id (§4.7).
        None if create => st.bulk.created_files.push((m.to_string(), id.to_string())),
        None => return Err(api_status(StatusCode::NOT_FOUND, path)),
    }
    let key = (m.to_string(), id.to_string());
    let out = f(st.bulk.files.entry(key).or_default())?;
    let readers: Vec<String> = st
        .bulk
        .tasks
        .iter()
        .filter(|t| t.model_id == m && t.kind == Kind::Import && t.active(now))
        .filter(|t| super::bulk::import(&t.action_id).is_some_and(|d| d.file_id == id))
        .map(|t| t.id.clone())
        .collect();
    for task in readers {
        let entry = (id.to_string(), task);
        if !st.bulk.uploads_during_import.contains(&entry) {
            st.bulk.uploads_during_import.push(entry);
        }
    }
    Ok(out)
}

/// Stores the finished upload as the file's content.
fn commit(f: &mut FileState, chunks: Vec<Vec<u8>>) {
    f.uploaded = Some(chunks.concat());
    f.chunks = Some(chunks);
    f.pending = None;
}

fn content_type(headers: &HeaderMap) -> String {
    let raw = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn json_body(headers: &HeaderMap, body: &[u8], path: &str) -> Result<serde_json::Map<String, Value>, Response> {
    if content_type(headers) != "application/json" {
        return Err(api_error(StatusCode::BAD_REQUEST, "Content-Type must be application/json", path));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(api_error(StatusCode::BAD_REQUEST, "Malformed JSON request body", path)),
    }
}

/// `POST …/files/{id}` `{"chunkCount": N|-1}` → 200 `file`; starts a new upload.
pub async fn set_chunk_count(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let req = match json_body(&headers, &body, path) {
        Ok(req) => req,
        Err(resp) => return resp,
    };
    let expected = match req.get("chunkCount").and_then(Value::as_i64) {
        Some(-1) => None,
        Some(n) if n >= 0 => Some(n as usize),
        _ => return api_error(StatusCode::BAD_REQUEST, "Invalid value for parameter [chunkCount]", path),
    };
    let started = upload(&inner, (&ws, &m, &id), path, true, |f| {
        f.chunks = Some(Vec::new());
        f.uploaded = None;
        f.chunk_sizes.clear();
        f.early_chunks.clear();
        f.pending = Some((expected, Vec::new()));
        if expected == Some(0) {
            commit(f, Vec::new());
        }
        Ok(())
    });
    if let Err(resp) = started {
        return resp;
    }
    let st = inner.state();
    let r = inner.catalog.model(&m).and_then(|model| resolve(&st, model, &id));
    let mut file = file_json(&st, &m, &id, &r.unwrap_or(FileRef::Private));
    file["chunkCount"] = json!(expected.unwrap_or(0));
    file_answer(&m, file)
}

/// Reads an octet-stream body of 1..=`max` bytes (413 above, 415 for other types). A
/// chunk (`gzip_ok`) may also be gzip (`application/x-gzip`, as Anaplan Connect and
/// anaplan-sdk send): it is unpacked, and the unpacked chunk must fit `max` too; a body
/// that is not gzip is a 400. The single-shot file PUT is not compressible (415).
async fn octet_body(
    inner: &Inner,
    headers: &HeaderMap,
    body: Body,
    path: &str,
    allow_empty: bool,
    gzip_ok: bool,
) -> Result<Vec<u8>, Response> {
    let gzipped = match content_type(headers).as_str() {
        "application/octet-stream" => false,
        "application/x-gzip" | "application/gzip" if gzip_ok => true,
        "application/x-gzip" | "application/gzip" => {
            let msg = "A whole-file upload cannot be compressed; upload it in chunks";
            return Err(api_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg, path));
        }
        _ => return Err(api_status(StatusCode::UNSUPPORTED_MEDIA_TYPE, path)),
    };
    let max = inner.cfg.max_upload_chunk;
    let too_large = || {
        let msg = format!("Upload exceeds the maximum chunk size of {max} bytes");
        api_error(StatusCode::PAYLOAD_TOO_LARGE, &msg, path)
    };
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| too_large())?;
    if bytes.is_empty() && !allow_empty {
        return Err(api_error(StatusCode::BAD_REQUEST, "Chunk is empty", path));
    }
    if !gzipped {
        return Ok(bytes.to_vec());
    }
    let unpacked = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut out = Vec::new();
        let read = flate2::read::GzDecoder::new(&bytes[..]).take(max as u64 + 1).read_to_end(&mut out);
        read.map(|_| out)
    })
    .await;
    match unpacked {
        Ok(Ok(out)) if out.len() > max => Err(too_large()),
        Ok(Ok(out)) if out.is_empty() => Err(api_error(StatusCode::BAD_REQUEST, "Chunk is empty", path)),
        Ok(Ok(out)) => Ok(out),
        _ => Err(api_error(StatusCode::BAD_REQUEST, "The chunk is not valid gzip data", path)),
    }
}

/// `PUT …/files/{id}/chunks/{n}` → 204; chunk `n` must be the next one.
pub async fn put_chunk(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id, n)): Ids<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path();
    let bytes = match octet_body(&inner, &headers, body, path, false, true).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let delay = inner.state().chunk_delay;
    tokio::time::sleep(delay).await;
    let bad = |msg: String| api_error(StatusCode::BAD_REQUEST, &msg, path);
    let stored = upload(&inner, (&ws, &m, &id), path, false, |f| {
        let Some((expected, chunks)) = f.pending.as_mut() else {
            return Err(bad(format!("No upload in progress for file [{id}]; set its chunk count first")));
        };
        let next = chunks.len();
        let k = match n.parse::<usize>() {
            Ok(k) => k,
            Err(_) => return Err(bad(format!("Invalid chunk id [{n}]"))),
        };
        if expected.is_some_and(|e| k >= e) {
            return Err(bad(format!("Chunk [{k}] exceeds the chunk count")));
        }
        // PUT again: the chunk is replaced (a retried PUT whose answer was lost).
        if k < next {
            f.chunk_sizes.push(bytes.len());
            chunks[k] = bytes;
            return Ok(());
        }
        if k > next && expected.is_none() {
            return Err(bad(format!("Chunk [{k}] is out of order; expected chunk [{next}]")));
        }
        f.chunk_sizes.push(bytes.len());
        if k != next {
            f.early_chunks.insert(k, bytes);
            return Ok(());
        }
        chunks.push(bytes);
        while let Some(early) = f.early_chunks.remove(&chunks.len()) {
            chunks.push(early);
        }
        if *expected == Some(chunks.len()) {
            let done = std::mem::take(chunks);
            commit(f, done);
        }
        Ok(())
    });
    match stored {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(resp) => resp,
    }
}

/// `POST …/files/{id}/complete` → 200 `file` with the final chunkCount.
pub async fn complete(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let req = match json_body(&headers, &body, path) {
        Ok(req) => req,
        Err(resp) => return resp,
    };
    if req.get("id").is_some_and(|v| v.as_str() != Some(id.as_str())) {
        return api_error(StatusCode::BAD_REQUEST, &format!("Body id does not match file [{id}]"), path);
    }
    let bad = |msg: String| api_error(StatusCode::BAD_REQUEST, &msg, path);
    let done = upload(&inner, (&ws, &m, &id), path, false, |f| match f.pending.take() {
        Some((Some(e), chunks)) if chunks.len() != e => {
            let got = chunks.len();
            f.pending = Some((Some(e), chunks));
            Err(bad(format!("Upload of file [{id}] is incomplete: {got} of {e} chunks received")))
        }
        Some((_, chunks)) => {
            commit(f, chunks);
            Ok(())
        }
        // Completing an upload that already completed (known count) is harmless.
        None if f.uploaded.is_some() => Ok(()),
        None => Err(bad(format!("No upload in progress for file [{id}]"))),
    });
    if let Err(resp) = done {
        return resp;
    }
    let st = inner.state();
    let file = inner.catalog.model(&m).and_then(|model| resolve(&st, model, &id));
    file_answer(&m, file_json(&st, &m, &id, &file.unwrap_or(FileRef::Private)))
}

/// `PUT …/files/{id}` (single shot, octet-stream, not compressible) → 204.
pub async fn put_whole(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path();
    let bytes = match octet_body(&inner, &headers, body, path, true, false).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let stored = upload(&inner, (&ws, &m, &id), path, false, |f| {
        f.chunk_sizes = vec![bytes.len()];
        let chunks = if bytes.is_empty() { Vec::new() } else { vec![bytes] };
        commit(f, chunks);
        Ok(())
    });
    match stored {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(resp) => resp,
    }
}
