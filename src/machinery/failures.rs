//! The 422 answer for a task that completed without success: Anaplan's result, and one
//! entry per failed step with the head of its failure dump and a URL for the whole dump,
//! and for a failed Optimizer step of a process a URL for its solution log when Anaplan
//! kept one ([`super::solution_logs`]).

use serde_json::{Value, json};

use super::solution_logs::OptimizerSteps;
use super::task_call::TaskCall;
use crate::http::{Problem, ProblemType};
use anaplan::AnaplanError;
use anaplan::files::Dump;
use anaplan::ids::ChunkId;
use anaplan::tasks::{Step, Task};

/// How many lines of a failure dump are put inline.
pub const DUMP_HEAD_LINES: usize = 10;

/// Reading dump heads (and looking for solution logs) stops this long before the answer
/// must be given (the rest of the answer still has to be made and sent).
const DUMP_MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

impl TaskCall<'_> {
    /// The final answer of a task with nothing to add: 200 `{"taskId", "taskState",
    /// "successful": true, "result"}`, or the [`Self::failure`] 422 when it did not succeed.
    pub async fn completed(&self, task: Task) -> Result<axum::response::Response, Problem> {
        if task.successful() == Some(false) {
            return Err(self.failure(&task).await);
        }
        let body = json!({
            "taskId": task.id.as_str(),
            "taskState": task.state.as_str(),
            "successful": true,
            "result": task.result,
        });
        Ok(crate::http::json_answer(axum::http::StatusCode::OK, &body))
    }

    /// 422 for a task that completed without success.
    pub async fn failure(&self, task: &Task) -> Problem {
        let failed: Vec<Step> = task.steps().into_iter().filter(|s| s.successful == Some(false)).collect();
        // Which failed steps are Optimizer actions: the process's metadata, asked only now.
        let optimizers = self.optimizer_steps(&failed, self.extras_by()).await;
        let mut failures = Vec::new();
        for step in &failed {
            failures.push(self.failed_step(task, step, &optimizers).await);
        }
        Problem::new(
            ProblemType::TaskFailed,
            format!(
                "Anaplan task {} completed without success ({} failed step{})",
                task.id,
                failures.len(),
                if failures.len() == 1 { "" } else { "s" }
            ),
        )
        .with("taskId", json!(task.id.as_str()))
        .with("taskState", json!(task.state.as_str()))
        .with("successful", json!(false))
        .with("result", task.result.clone().unwrap_or(Value::Null))
        .with("failures", Value::Array(failures))
    }

    /// When reading what a failed task's answer adds (dump heads, solution logs) stops.
    fn extras_by(&self) -> tokio::time::Instant {
        self.finish_by().checked_sub(DUMP_MARGIN).unwrap_or(self.call.received)
    }

    async fn failed_step(&self, task: &Task, step: &Step, optimizers: &OptimizerSteps) -> Value {
        let name = step.object_name.clone().unwrap_or_else(|| step.object_id.clone());
        let mut details = step.messages();
        let mut entry = json!({ "objectId": step.object_id, "name": name });
        // Other actions have no documented failure dump: none is asked for.
        let dumps = !matches!(self.action.action, anaplan::tasks::Action::Other(_));
        if let Some(object) = step.object().filter(|_| step.failure_dump_available && dumps) {
            let dump = self.dump_of(&task.id, &object);
            let dump_url = self.status_url(&task.id).ok().map(|url| {
                let sep = if url.contains('?') { '&' } else { '?' };
                let dump_param: String =
                    url::form_urlencoded::Serializer::new(String::new()).append_pair("dump", object.as_str()).finish();
                format!("{url}{sep}{dump_param}")
            });
            // The head is a courtesy: it never makes the answer late (its URL stays).
            let by = self.extras_by();
            let read = async {
                match self.client.dump_chunks(&dump).await {
                    Ok(Some(chunks)) => Ok(Some(self.dump_head(&dump, &chunks).await)),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                }
            };
            match tokio::time::timeout_at(by, read).await {
                Ok(Ok(Some((head, error)))) => {
                    if let Some(e) = error {
                        details.push(format!("The failure dump could only be read in part: {e}"));
                    }
                    entry["dumpHead"] = json!(head);
                    if let Some(url) = dump_url {
                        entry["dumpUrl"] = json!(url);
                    }
                }
                Ok(Ok(None)) => details.push(
                    "The failure dump has expired: Anaplan deletes dumps 48 hours after last access or after the next \
                     error-free run, so it can no longer be downloaded."
                        .to_owned(),
                ),
                Ok(Err(e)) => details.push(format!("The failure dump could not be read: {e}")),
                Err(_) => {
                    details.push(
                        "The failure dump's first lines were not read within this answer's time; dumpUrl answers the whole dump."
                            .to_owned(),
                    );
                    if let Some(url) = dump_url {
                        entry["dumpUrl"] = json!(url);
                    }
                }
            }
        }
        self.add_solution_log((&task.id, step), optimizers, self.extras_by(), &mut entry, &mut details).await;
        entry["details"] = json!(details.join(" "));
        entry
    }

    /// The first [`DUMP_HEAD_LINES`] lines of a dump, whole: chunks are read in order
    /// until that many lines are complete or the dump ends (chunk boundaries fall
    /// anywhere, even inside a line or a character). A chunk that cannot be read ends the
    /// head at the last whole line read, with the error.
    async fn dump_head(&self, dump: &Dump, chunks: &[ChunkId]) -> (Vec<String>, Option<AnaplanError>) {
        let mut head = DumpHead::default();
        for id in chunks {
            match self.client.dump_chunk(dump, id).await {
                Ok(bytes) if head.push(&bytes) => return (head.lines(true), None),
                Ok(_) => {}
                Err(e) => return (head.lines(false), Some(e)),
            }
        }
        (head.lines(true), None)
    }
}

/// The bytes of a dump's first chunks, until they hold [`DUMP_HEAD_LINES`] whole lines.
#[derive(Default)]
struct DumpHead {
    bytes: Vec<u8>,
    complete_lines: usize,
}

impl DumpHead {
    /// Adds a chunk; true once the head has all its lines.
    fn push(&mut self, chunk: &[u8]) -> bool {
        self.bytes.extend_from_slice(chunk);
        self.complete_lines += chunk.iter().filter(|b| **b == b'\n').count();
        self.complete_lines >= DUMP_HEAD_LINES
    }

    /// The head's lines; with `ended` false a last line without its end is left out.
    fn lines(&self, ended: bool) -> Vec<String> {
        let whole = match self.bytes.iter().rposition(|b| *b == b'\n') {
            Some(last) if !ended => &self.bytes[..=last],
            None if !ended => &[],
            _ => &self.bytes[..],
        };
        String::from_utf8_lossy(whole).lines().take(DUMP_HEAD_LINES).map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{DUMP_HEAD_LINES, DumpHead};

    fn dump(lines: usize) -> String {
        (0..lines).map(|i| format!("row {i},\u{e9}l\u{e8}ve {i}\n")).collect()
    }

    #[test]
    fn the_head_spans_chunks_and_stops_at_its_lines() {
        let text = dump(40);
        let mut head = DumpHead::default();
        // 5-byte chunks split lines and the two-byte characters.
        let mut used = 0;
        for chunk in text.as_bytes().chunks(5) {
            used += 1;
            if head.push(chunk) {
                break;
            }
        }
        let want: Vec<String> = text.lines().take(DUMP_HEAD_LINES).map(str::to_owned).collect();
        assert_eq!(head.lines(true), want);
        assert!(used < text.len().div_ceil(5), "stops before the end of the dump");
    }

    #[test]
    fn a_short_dump_is_read_to_its_end_and_a_broken_read_keeps_whole_lines() {
        let mut head = DumpHead::default();
        assert!(!head.push(b"a,b\nc,"));
        assert!(!head.push(b"d"));
        assert_eq!(head.lines(true), ["a,b", "c,d"], "the dump's end ends its last line");
        assert_eq!(head.lines(false), ["a,b"], "a line cut by a failed read is left out");
        assert!(DumpHead::default().lines(false).is_empty());
    }
}
