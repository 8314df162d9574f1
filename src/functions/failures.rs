//! The 422 answer for a task that completed without success: Anaplan's result, and one
//! entry per failed step with the head of its failure dump and a URL for the whole dump.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::task_call::TaskCall;
use crate::anaplan::tasks::{Step, Task};
use crate::http::Problem;

/// How many lines of a failure dump are put inline.
pub const DUMP_HEAD_LINES: usize = 10;

impl TaskCall<'_> {
    /// 422 for a task that completed without success.
    pub async fn failure(&self, task: &Task) -> Problem {
        let mut failures = Vec::new();
        for step in task.steps().iter().filter(|s| s.successful == Some(false)) {
            failures.push(self.failed_step(task, step).await);
        }
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "task-failed",
            "Anaplan ran the task and it failed",
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

    async fn failed_step(&self, task: &Task, step: &Step) -> Value {
        let name = step.object_name.clone().unwrap_or_else(|| step.object_id.clone());
        let mut details = step.messages();
        let mut entry = json!({ "objectId": step.object_id, "name": name });
        if let Some(object) = step.object().filter(|_| step.failure_dump_available) {
            let dump = self.dump_of(&task.id, &object);
            match self.client.dump_chunks(&dump).await {
                Ok(Some(chunks)) => {
                    let head = match chunks.first() {
                        Some(first) => self.client.dump_chunk(&dump, first).await.ok(),
                        None => None,
                    };
                    let head: Vec<String> = head
                        .map(|b| String::from_utf8_lossy(&b).lines().take(DUMP_HEAD_LINES).map(str::to_owned).collect())
                        .unwrap_or_default();
                    entry["dumpHead"] = json!(head);
                    if let Ok(url) = self.status_url(&task.id) {
                        let sep = if url.contains('?') { '&' } else { '?' };
                        let dump_param: String = url::form_urlencoded::Serializer::new(String::new())
                            .append_pair("dump", object.as_str())
                            .finish();
                        entry["dumpUrl"] = json!(format!("{url}{sep}{dump_param}"));
                    }
                }
                Ok(None) => details.push(
                    "The failure dump has expired: Anaplan deletes dumps 48 hours after last access or after the next \
                     error-free run, so it can no longer be downloaded."
                        .to_owned(),
                ),
                Err(e) => details.push(format!("The failure dump could not be read: {e}")),
            }
        }
        entry["details"] = json!(details.join(" "));
        entry
    }
}
