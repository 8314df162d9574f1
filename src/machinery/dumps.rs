//! Failure dumps of a task: which dump belongs to a step, and the whole dump as CSV for a
//! status check with `dump=<objectId>`, streamed chunk by chunk.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::task_call::TaskCall;
use crate::http::{Problem, ProblemType};
use anaplan::Client;
use anaplan::files::Dump;
use anaplan::ids::{ChunkId, ObjectId, TaskId};
use anaplan::tasks::Action;

impl TaskCall<'_> {
    /// The failure dump of object `object` of `task`: an import's own dump, or the dump of
    /// one step (processes; also exports).
    pub fn dump_of(&self, task: &TaskId, object: &ObjectId) -> Dump {
        match self.action.action {
            Action::Import(_) => Dump::Import { action: self.action.clone(), task: task.clone() },
            _ => Dump::Step { action: self.action.clone(), task: task.clone(), object: object.clone() },
        }
    }

    /// The whole failure dump of `object` as CSV, chunk by chunk (GET with `dump=`).
    pub async fn dump(&self, task: &TaskId, object: &ObjectId) -> Result<Response, Problem> {
        let dump = self.dump_of(task, object);
        let Some(chunks) = self.client.dump_chunks(&dump).await? else {
            return Err(Problem::new(
                ProblemType::DumpExpired,
                "Anaplan no longer has this failure dump (dumps are deleted 48 hours after last access or after the next error-free run)",
            ));
        };
        // Cut off at the answer deadline, never longer.
        let stream = crate::http::body::cut_at(self.call.deadline, chunk_stream(self.client.clone(), dump, chunks));
        let mut resp = (StatusCode::OK, axum::body::Body::from_stream(stream)).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        Ok(resp)
    }
}

/// Streams dump chunks in order; an error midway ends the body early (the status line is
/// already sent), and is logged.
fn chunk_stream(
    client: Client,
    dump: Dump,
    chunks: Vec<ChunkId>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold((client, dump, chunks.into_iter()), |(client, dump, mut ids)| async move {
        let id = ids.next()?;
        match client.dump_chunk(&dump, &id).await {
            Ok(bytes) => Some((Ok(bytes), (client, dump, ids))),
            Err(e) => {
                tracing::warn!(error = %e, chunk = %id, "dump download failed midway");
                Some((Err(std::io::Error::other(e.to_string())), (client, dump, Vec::new().into_iter())))
            }
        }
    })
}
