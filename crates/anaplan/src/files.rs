//! Files: export output downloaded chunk by chunk, import data sources uploaded in chunks,
//! failure dumps, and the action metadata that names them.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::catalog::Named;
use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{ChunkId, FileId, ModelId, ObjectId, TaskId, WorkspaceId};
use super::tasks::ActionRef;

/// A model's file, as the `files` listing reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// Id (`113…` for import sources, the export id for export output).
    pub id: String,
    /// Name.
    pub name: String,
    /// Chunks currently held.
    #[serde(default)]
    pub chunk_count: i64,
}

#[derive(Deserialize)]
struct ChunkList {
    #[serde(default)]
    chunks: Vec<Named>,
}

#[derive(Deserialize)]
struct FileBody {
    file: FileInfo,
}

/// A failure dump: of a process step, or of an import.
#[derive(Debug, Clone)]
pub enum Dump {
    /// The dump of object `object` of a task (a process step; also exports and actions).
    Step {
        /// The action.
        action: ActionRef,
        /// Its task.
        task: TaskId,
        /// The failed step's object id.
        object: ObjectId,
    },
    /// The dump of an import task.
    Import {
        /// The import.
        action: ActionRef,
        /// Its task.
        task: TaskId,
    },
}

impl Dump {
    fn segments(&self, rest: &[&str]) -> Vec<String> {
        let mut s = match self {
            Dump::Step { action, task, object } => action.segments(&["tasks", task.as_str(), "dumps", object.as_str()]),
            Dump::Import { action, task } => action.segments(&["tasks", task.as_str(), "dump"]),
        };
        s.extend(rest.iter().map(|r| (*r).to_owned()));
        s
    }
}

fn model_segments(ws: &WorkspaceId, model: &ModelId, rest: &[&str]) -> Vec<String> {
    ["workspaces", ws.as_str(), "models", model.as_str()].iter().chain(rest.iter()).map(|s| (*s).to_owned()).collect()
}

/// Chunk ids in numeric order ("10" after "9"), whatever order Anaplan listed them in.
fn numeric_order(chunks: Vec<Named>) -> Result<Vec<ChunkId>, AnaplanError> {
    let mut ids: Vec<(u64, ChunkId)> = chunks
        .into_iter()
        .map(|c| {
            let n =
                c.id.parse::<u64>().map_err(|e| AnaplanError::Protocol(format!("chunk id is not a number: {e}")))?;
            let id = ChunkId::parse(&c.id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
            Ok((n, id))
        })
        .collect::<Result<_, AnaplanError>>()?;
    ids.sort();
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

impl Client {
    /// The model's files.
    pub async fn files(&self, ws: &WorkspaceId, model: &ModelId) -> Result<Vec<FileInfo>, AnaplanError> {
        self.list(ApiRequest::get(model_segments(ws, model, &["files"])), "files").await
    }

    /// The chunk ids of a file, in order; empty for an empty file (Anaplan omits the key).
    pub async fn file_chunks(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        file: &FileId,
    ) -> Result<Vec<ChunkId>, AnaplanError> {
        let list: ChunkList =
            self.json(ApiRequest::get(model_segments(ws, model, &["files", file.as_str(), "chunks"]))).await?;
        numeric_order(list.chunks)
    }

    /// One chunk of a file.
    pub async fn file_chunk(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        file: &FileId,
        chunk: &ChunkId,
    ) -> Result<bytes::Bytes, AnaplanError> {
        let req = ApiRequest::get(model_segments(ws, model, &["files", file.as_str(), "chunks", chunk.as_str()]))
            .accept("application/octet-stream");
        self.bytes(req).await
    }

    /// Starts an upload to `file` of `chunks` chunks (`None`: unknown, ended with
    /// [`complete_upload`](Client::complete_upload); with a count, the chunks may be sent
    /// in any order and the file is complete once all have arrived). Anaplan creates a new
    /// private file when the id does not exist, so the file must be one the model already
    /// has and the answer must name that same file.
    pub async fn begin_upload(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        file: &FileId,
        chunks: Option<usize>,
    ) -> Result<FileInfo, AnaplanError> {
        let files = self.files(ws, model).await?;
        let Some(existing) = files.into_iter().find(|f| f.id == file.as_str()) else {
            return Err(AnaplanError::Failed(format!(
                "the import's data source file {file} is not among the model's files; refusing to let Anaplan create a new one"
            )));
        };
        let req = ApiRequest::get(model_segments(ws, model, &["files", file.as_str()]))
            .method(Method::POST)
            .json(serde_json::json!({ "chunkCount": chunks.map_or(-1, |n| n as i64) }))
            // Setting the same chunk count again changes nothing.
            .replayable();
        let body: FileBody = self.json(req).await?;
        if body.file.id != existing.id {
            return Err(AnaplanError::Protocol(format!(
                "Anaplan answered for file {} while uploading to {}",
                body.file.id, existing.id
            )));
        }
        Ok(existing)
    }

    /// Uploads chunk `n` (from 0; in order unless the count was given), as it is or, with
    /// `gzipped`, packed with gzip.
    pub async fn upload_chunk(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        file: &FileId,
        n: usize,
        bytes: bytes::Bytes,
        gzipped: bool,
    ) -> Result<(), AnaplanError> {
        let req = ApiRequest::get(model_segments(ws, model, &["files", file.as_str(), "chunks", &n.to_string()]))
            .method(Method::PUT);
        let req = if gzipped { req.gzip(bytes) } else { req.octets(bytes) };
        self.send(req).await.map(|_| ())
    }

    /// Ends an upload begun with `chunkCount: -1`; returns the final chunk count.
    pub async fn complete_upload(&self, ws: &WorkspaceId, model: &ModelId, file: &FileId) -> Result<i64, AnaplanError> {
        let req = ApiRequest::get(model_segments(ws, model, &["files", file.as_str(), "complete"]))
            .method(Method::POST)
            .json(serde_json::json!({ "id": file.as_str() }))
            // Completing a completed upload changes nothing.
            .replayable();
        let body: FileBody = self.json(req).await?;
        Ok(body.file.chunk_count)
    }

    /// The chunk ids of a failure dump, in order; `None` when Anaplan no longer has it
    /// (dumps expire 48 h after last access, or after the next error-free run).
    pub async fn dump_chunks(&self, dump: &Dump) -> Result<Option<Vec<ChunkId>>, AnaplanError> {
        match self.json::<ChunkList>(ApiRequest::get(dump.segments(&["chunks"]))).await {
            Ok(list) => numeric_order(list.chunks).map(Some),
            Err(AnaplanError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One chunk of a failure dump (`text/plain`, as the live-tested description has it).
    pub async fn dump_chunk(&self, dump: &Dump, chunk: &ChunkId) -> Result<bytes::Bytes, AnaplanError> {
        self.bytes(ApiRequest::get(dump.segments(&["chunks", chunk.as_str()])).accept("text/plain")).await
    }

    /// The data source file of an import. An import that reads from a model or list has
    /// none, and cannot take a file.
    pub async fn import_source(&self, action: &ActionRef) -> Result<FileId, AnaplanError> {
        let imports: Vec<Value> = self
            .list(ApiRequest::get(model_segments(&action.workspace, &action.model, &["imports"])), "imports")
            .await?;
        let entry = imports
            .iter()
            .find(|i| i.get("id").and_then(Value::as_str) == Some(action.action.id()))
            .ok_or_else(|| AnaplanError::Api {
                status: 404,
                message: format!("no import {} in model {}", action.action.id(), action.model),
                retry_after: None,
            })?;
        let source = entry.get("importDataSourceId").and_then(Value::as_str).unwrap_or("");
        if source.is_empty() {
            return Err(AnaplanError::Failed(format!(
                "import {} has no file data source (it reads from a model or list); run it with run-process",
                action.action.id()
            )));
        }
        FileId::parse(source).map_err(|e| AnaplanError::Protocol(format!("importDataSourceId: {e}")))
    }

    /// An action's metadata object (`exportMetadata`, `importMetadata`, ...).
    pub async fn action_metadata(&self, action: &ActionRef) -> Result<Value, AnaplanError> {
        let body: Value = self.json(ApiRequest::get(action.segments(&[]))).await?;
        let key = match action.action {
            super::tasks::Action::Process(_) => "processMetadata",
            super::tasks::Action::Export(_) => "exportMetadata",
            super::tasks::Action::Import(_) => "importMetadata",
            super::tasks::Action::Other(_) => {
                return Err(AnaplanError::Protocol("Anaplan documents no metadata for an other action".into()));
            }
        };
        body.get(key).cloned().ok_or_else(|| AnaplanError::Protocol(format!("no {key} in the answer")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_ordered_numerically() {
        let chunks = ["10", "2", "0", "1", "11", "9"]
            .iter()
            .map(|id| Named { id: (*id).into(), name: format!("Chunk {id}") })
            .collect();
        let ids: Vec<String> = numeric_order(chunks).unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(ids, ["0", "1", "2", "9", "10", "11"]);
        assert!(numeric_order(vec![Named { id: "x".into(), name: "x".into() }]).is_err());
    }
}
