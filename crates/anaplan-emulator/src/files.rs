//! Files (reference §4.6): the model's file list and chunked or whole
//! downloads of export output (file id = export id) and import sources.
//! Uploads are in `uploads.rs`.

use super::actions::scope;
use super::api::{paged, paged_chunks};
use super::bulk::{ExportDef, FileDef};
use super::data::Model;
use super::sized_export;
use super::tasks::settle;
use super::util::{Ids, api_status, envelope};
use super::{EmulatorState, Inner};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What the emulator knows about one file of one model.
#[derive(Default)]
pub struct FileState {
    /// An export wrote this file (export output ids only).
    pub export_produced: bool,
    /// Stored chunks; `None` until first touched (the fixture's initial content).
    pub chunks: Option<Vec<Vec<u8>>>,
    /// Upload in progress: expected chunk count (`None` for -1) and chunks so far.
    pub pending: Option<(Option<usize>, Vec<Vec<u8>>)>,
    /// Content of the last completed upload, until a new upload starts.
    pub uploaded: Option<Vec<u8>>,
    /// Sizes of the chunks of the most recent upload, in arrival order.
    pub chunk_sizes: Vec<usize>,
    /// With a known chunk count, chunks that arrived before an earlier one, by index.
    pub early_chunks: std::collections::BTreeMap<usize, Vec<u8>>,
}

/// A file id resolved in a model.
pub(super) enum FileRef {
    Source(&'static FileDef),
    Export(&'static ExportDef),
    Private,
}

pub(super) fn resolve(st: &EmulatorState, model: &Model, id: &str) -> Option<FileRef> {
    if let Some(f) = model.bulk.files.iter().find(|f| f.id == id) {
        return Some(FileRef::Source(f));
    }
    if let Some(e) = model.bulk.exports.iter().find(|e| e.id == id) {
        return Some(FileRef::Export(e));
    }
    st.bulk.created_files.iter().any(|(m, f)| m == model.id && f == id).then_some(FileRef::Private)
}

/// Stored chunks of a source or private file (initial content until touched).
fn stored(files: &HashMap<(String, String), FileState>, m: &str, id: &str) -> Vec<Vec<u8>> {
    if let Some(chunks) = files.get(&(m.to_string(), id.to_string())).and_then(|f| f.chunks.clone()) {
        return chunks;
    }
    let initial = super::bulk::FILES.iter().find(|f| f.id == id).map_or("", |f| f.initial);
    if initial.is_empty() { Vec::new() } else { vec![initial.as_bytes().to_vec()] }
}

/// The content an import reads from file `id` of model `m` right now.
pub fn content(files: &HashMap<(String, String), FileState>, m: &str, id: &str) -> Vec<u8> {
    stored(files, m, id).concat()
}

fn chunk_count(st: &EmulatorState, m: &str, id: &str, file: &FileRef) -> usize {
    match file {
        FileRef::Export(e) => {
            let produced = st.bulk.files.get(&(m.to_string(), id.to_string())).is_some_and(|f| f.export_produced);
            match produced {
                false => 0,
                true if sized_export::is_sized(e.id) => sized_export::sized_export_chunk_count(sized_export::size(st)),
                true => e.chunk_count(),
            }
        }
        _ => stored(&st.bulk.files, m, id).len(),
    }
}

pub(super) fn file_json(st: &EmulatorState, m: &str, id: &str, file: &FileRef) -> Value {
    let (name, separator) = match file {
        FileRef::Source(f) => (f.name, ","),
        FileRef::Export(e) => (e.name, e.separator),
        FileRef::Private => (id, ","),
    };
    json!({
        "id": id,
        "name": name,
        "chunkCount": chunk_count(st, m, id, file),
        "delimiter": "\"",
        "encoding": "UTF-8",
        "firstDataRow": 2,
        "format": "txt",
        "headerRow": 1,
        "separator": separator,
    })
}

pub(super) fn file_answer(m: &str, file: Value) -> Response {
    let mut body = envelope(&format!("models/{m}/objects/file"));
    body.insert("file".into(), file);
    Json(Value::Object(body)).into_response()
}

/// `GET …/files`: import sources, export outputs (chunkCount 0 until an export
/// ran), then private files in creation order.
pub async fn list(State(inner): State<Arc<Inner>>, Ids((ws, m)): Ids<(String, String)>, uri: Uri) -> Response {
    let model = match scope(&inner, &ws, &m, uri.path()) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let items: Vec<Value> = {
        let mut st = inner.state();
        settle(&mut st, Instant::now());
        let mut refs: Vec<(String, FileRef)> = Vec::new();
        refs.extend(model.bulk.files.iter().map(|f| (f.id.to_string(), FileRef::Source(f))));
        refs.extend(model.bulk.exports.iter().map(|e| (e.id.to_string(), FileRef::Export(e))));
        refs.extend(
            st.bulk.created_files.iter().filter(|(mm, _)| *mm == m).map(|(_, f)| (f.clone(), FileRef::Private)),
        );
        refs.iter().map(|(id, f)| file_json(&st, &m, id, f)).collect()
    };
    paged(&inner, &uri, "files", &format!("models/{m}/objects/file"), items)
}

/// True when `Accept` lists `application/octet-stream` (a missing Accept or
/// `*/*` is not enough, as for view data).
fn accepts_octets(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|r| r.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        // Wildcards too: the Python anaplan-sdk downloads whole files with httpx's default
        // `Accept: */*`, and works against Anaplan. A specific other type is refused.
        .any(|r| matches!(r.as_str(), "application/octet-stream" | "application/*" | "*/*"))
}

/// An `application/octet-stream` answer.
pub(super) fn octets(bytes: Vec<u8>) -> Response {
    octets_shared(Bytes::from(bytes))
}

/// [`octets`] without a copy.
fn octets_shared(bytes: Bytes) -> Response {
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    resp
}

/// Chunk `n` of a file, or `None` when there is no such chunk.
fn read_chunk(st: &EmulatorState, m: &str, id: &str, file: &FileRef, n: usize) -> Option<Vec<u8>> {
    match find_chunk(st, m, id, file, n)? {
        Chunk::Stored(bytes) => Some(bytes),
        Chunk::Export(e, n) => e.chunk(n),
        Chunk::Sized(total, n) => sized_export::sized_export_chunk(total, n),
    }
}

/// Where chunk `n` of a file comes from, found under the state lock.
enum Chunk {
    Stored(Vec<u8>),
    /// Rendered (or taken from the cache) after the lock is released.
    Export(&'static ExportDef, usize),
    /// Chunk `n` of the sized export at this size, rendered after the lock is released.
    Sized(u64, usize),
}

fn find_chunk(st: &EmulatorState, m: &str, id: &str, file: &FileRef, n: usize) -> Option<Chunk> {
    if n >= chunk_count(st, m, id, file) {
        return None;
    }
    match file {
        FileRef::Export(e) if sized_export::is_sized(e.id) => Some(Chunk::Sized(sized_export::size(st), n)),
        FileRef::Export(e) => Some(Chunk::Export(e, n)),
        _ => stored(&st.bulk.files, m, id).into_iter().nth(n).map(Chunk::Stored),
    }
}

/// Resolves scope and file for a download; `None` chunk count means 404.
fn with_file<T>(
    inner: &Inner,
    (ws, m, id): (&str, &str, &str),
    path: &str,
    f: impl FnOnce(&EmulatorState, &FileRef) -> Option<T>,
) -> Result<T, Response> {
    let model = scope(inner, ws, m, path)?;
    let mut st = inner.state();
    settle(&mut st, Instant::now());
    let file = resolve(&st, model, id).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))?;
    f(&st, &file).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))
}

/// `GET …/files/{id}/chunks` → `chunks[{id:"0",name:"Chunk 0"},…]`; the
/// key is omitted when the file has no chunks (never-run export, 0-chunk export).
pub async fn chunks(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
) -> Response {
    match with_file(&inner, (&ws, &m, &id), uri.path(), |st, file| Some(chunk_count(st, &m, &id, file))) {
        Ok(n) => chunk_list(&inner, &uri, &m, n),
        Err(resp) => resp,
    }
}

/// The `chunks` list of `n` chunks, with `meta.paging` as captured; `offset`
/// and `limit` work, but `page_size_cap` does not apply (see `paged_chunks`).
pub(super) fn chunk_list(inner: &Inner, uri: &Uri, m: &str, n: usize) -> Response {
    let items = (0..n).map(|i| json!({ "id": i.to_string(), "name": format!("Chunk {i}") })).collect();
    paged_chunks(inner, uri, &format!("models/{m}/objects/chunk"), items)
}

/// `GET …/files/{id}/chunks/{n}` with `Accept: application/octet-stream` (else 406).
pub async fn chunk(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id, n)): Ids<(String, String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let delay = inner.state().chunk_delay;
    tokio::time::sleep(delay).await;
    let found = with_file(&inner, (&ws, &m, &id), path, |st, file| {
        let n = n.parse::<usize>().ok()?;
        find_chunk(st, &m, &id, file, n)
    });
    let bytes = match found {
        Ok(_) if !accepts_octets(&headers) => return api_status(StatusCode::NOT_ACCEPTABLE, path),
        Ok(Chunk::Stored(bytes)) => Bytes::from(bytes),
        Ok(Chunk::Export(e, n)) => match e.chunk_bytes(n) {
            Some(bytes) => bytes,
            None => return api_status(StatusCode::NOT_FOUND, path),
        },
        Ok(Chunk::Sized(total, n)) => match sized_export::sized_export_chunk(total, n) {
            Some(bytes) => Bytes::from(bytes),
            None => return api_status(StatusCode::NOT_FOUND, path),
        },
        Err(resp) => return resp,
    };
    if take_chunk_reset(&inner) {
        return cut_off(bytes);
    }
    counted(&inner.served_chunks, bytes)
}

/// Export chunk bytes being served at once (from when a chunk's answer is built until its
/// body has been written), and the most seen: what a client's chunks in flight cost the
/// server, for tests of the handler's transfer budget.
#[derive(Default)]
pub struct ServedChunks {
    now: AtomicU64,
    high: AtomicU64,
}

/// One chunk's bytes, counted in [`ServedChunks`] while it is being served.
struct Serving {
    served: Arc<ServedChunks>,
    len: u64,
    bytes: Option<Bytes>,
}

impl futures_util::Stream for Serving {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.bytes.take().map(Ok))
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.served.now.fetch_sub(self.len, Ordering::SeqCst);
    }
}

/// The chunk's answer (octet-stream, with its Content-Length), counted while it is served.
fn counted(served: &Arc<ServedChunks>, bytes: Bytes) -> Response {
    let len = bytes.len() as u64;
    let now = served.now.fetch_add(len, Ordering::SeqCst) + len;
    served.high.fetch_max(now, Ordering::SeqCst);
    let body = Serving { served: served.clone(), len, bytes: Some(bytes) };
    let mut resp = axum::body::Body::from_stream(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

impl super::Emulator {
    /// The most export chunk bytes served at once (from when a chunk's answer is built
    /// until its body has been written) since the start or the last
    /// [`reset_chunk_bytes_high_water`](Self::reset_chunk_bytes_high_water).
    pub fn chunk_bytes_high_water(&self) -> u64 {
        self.inner.served_chunks.high.load(Ordering::SeqCst)
    }

    /// Export chunk bytes being served now.
    pub fn chunk_bytes_serving(&self) -> u64 {
        self.inner.served_chunks.now.load(Ordering::SeqCst)
    }

    /// Starts the high-water mark again from what is being served now.
    pub fn reset_chunk_bytes_high_water(&self) {
        let served = &self.inner.served_chunks;
        served.high.store(served.now.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

fn take_chunk_reset(inner: &Inner) -> bool {
    let mut st = inner.state();
    let pending = st.chunk_resets > 0;
    if pending {
        st.chunk_resets -= 1;
    }
    pending
}

/// The chunk's headers (with its full `Content-Length`) and half its bytes, then the
/// connection breaks: a reset mid-chunk.
fn cut_off(bytes: Bytes) -> Response {
    let len = bytes.len();
    let half = bytes.slice(..len / 2);
    let parts: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset mid-chunk"))];
    let mut resp = axum::body::Body::from_stream(futures_util::stream::iter(parts)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

/// `GET …/files/{id}`: the whole content (octet-stream); 404 when it has 0 chunks.
/// Built for this request only (110 MiB for the huge export).
pub async fn whole(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m, id)): Ids<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let found = with_file(&inner, (&ws, &m, &id), path, |st, file| {
        let n = chunk_count(st, &m, &id, file);
        (n > 0).then(|| (0..n).filter_map(|i| read_chunk(st, &m, &id, file, i)).collect::<Vec<_>>().concat())
    });
    match found {
        Ok(_) if !accepts_octets(&headers) => api_status(StatusCode::NOT_ACCEPTABLE, path),
        Ok(bytes) => octets(bytes),
        Err(resp) => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunk_bytes_count_while_their_body_lives() {
        let served = Arc::new(ServedChunks::default());
        let a = counted(&served, Bytes::from(vec![1u8; 100]));
        let b = counted(&served, Bytes::from(vec![2u8; 50]));
        assert_eq!(a.headers()[header::CONTENT_LENGTH], "100");
        assert_eq!(served.now.load(Ordering::SeqCst), 150);
        let body = axum::body::to_bytes(a.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body.len(), 100);
        assert_eq!(served.now.load(Ordering::SeqCst), 50);
        drop(b);
        assert_eq!(served.now.load(Ordering::SeqCst), 0);
        assert_eq!(served.high.load(Ordering::SeqCst), 150);
    }
}
