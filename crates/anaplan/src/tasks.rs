//! Bulk actions and their tasks: start, status, cancel. Anaplan has no FAILED state: a
//! task ends `COMPLETE` (check `result.successful`) or `CANCELLED`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{ActionId, ExportId, ImportId, ModelId, ObjectId, ProcessId, TaskId, WorkspaceId};

/// An action that runs as a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A process.
    Process(ProcessId),
    /// An export.
    Export(ExportId),
    /// An import.
    Import(ImportId),
    /// An "other action" (`117…`): a delete from a list using a selection, for one. Its
    /// task cannot be cancelled: the description documents no DELETE on its task.
    Other(ActionId),
}

impl Action {
    /// Whether Anaplan can be asked to cancel its task: a process's, an export's or an
    /// import's (help page "cancel a task"); an other action's has no documented cancel.
    pub fn cancellable(&self) -> bool {
        !matches!(self, Action::Other(_))
    }

    /// The collection in Anaplan's paths.
    pub fn collection(&self) -> &'static str {
        match self {
            Action::Process(_) => "processes",
            Action::Export(_) => "exports",
            Action::Import(_) => "imports",
            Action::Other(_) => "actions",
        }
    }

    /// The action's id.
    pub fn id(&self) -> &str {
        match self {
            Action::Process(id) => id.as_str(),
            Action::Export(id) => id.as_str(),
            Action::Import(id) => id.as_str(),
            Action::Other(id) => id.as_str(),
        }
    }
}

/// Where an action lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Model.
    pub model: ModelId,
    /// The action.
    pub action: Action,
}

impl ActionRef {
    pub(crate) fn segments(&self, rest: &[&str]) -> Vec<String> {
        let mut s: Vec<String> = ["workspaces", self.workspace.as_str(), "models", self.model.as_str()]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        s.push(self.action.collection().to_owned());
        s.push(self.action.id().to_owned());
        s.extend(rest.iter().map(|r| (*r).to_owned()));
        s
    }
}

/// A task's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Scheduled, waiting (e.g. behind another task on the model).
    NotStarted,
    /// Running.
    InProgress,
    /// Finished, successfully or not.
    Complete,
    /// Being cancelled.
    Cancelling,
    /// Cancelled.
    Cancelled,
}

impl TaskState {
    fn parse(s: &str) -> Result<Self, AnaplanError> {
        Ok(match s {
            "NOT_STARTED" => TaskState::NotStarted,
            "IN_PROGRESS" => TaskState::InProgress,
            "COMPLETE" => TaskState::Complete,
            "CANCELLING" => TaskState::Cancelling,
            "CANCELLED" => TaskState::Cancelled,
            other => {
                return Err(AnaplanError::Protocol(format!("unknown task state {}", crate::untrusted::quote(other))));
            }
        })
    }

    /// Anaplan's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::NotStarted => "NOT_STARTED",
            TaskState::InProgress => "IN_PROGRESS",
            TaskState::Complete => "COMPLETE",
            TaskState::Cancelling => "CANCELLING",
            TaskState::Cancelled => "CANCELLED",
        }
    }

    /// True once nothing more will happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Complete | TaskState::Cancelled)
    }
}

/// A task as Anaplan reports it.
#[derive(Debug, Clone)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// Its state.
    pub state: TaskState,
    /// Anaplan's `result`, present once terminal.
    pub result: Option<Value>,
    /// When Anaplan created it (unix milliseconds, Anaplan's clock), when it says.
    pub created_ms: Option<u64>,
}

/// A task as an action's task list shows it.
#[derive(Debug, Clone)]
pub struct ListedTask {
    /// Its id.
    pub id: TaskId,
    /// Its state.
    pub state: TaskState,
    /// When Anaplan created it (unix milliseconds), when it says.
    pub created_ms: Option<u64>,
}

impl Task {
    /// `result.successful`, when there is a result.
    pub fn successful(&self) -> Option<bool> {
        self.result.as_ref().and_then(|r| r.get("successful")).and_then(Value::as_bool)
    }

    /// The steps of the result: a process's nested results, or the result itself for a
    /// single action.
    pub fn steps(&self) -> Vec<Step> {
        let result = self.result.clone().unwrap_or(Value::Null);
        let raw: Vec<Value> = match result.get("nestedResults").and_then(Value::as_array) {
            Some(nested) if !nested.is_empty() => nested.clone(),
            _ => vec![result],
        };
        raw.iter().map(Step::read).collect()
    }
}

/// One step of a task's result, as Anaplan reports it (read leniently: a field of an
/// unexpected type counts as absent).
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// The step's object id, as Anaplan sent it (empty when absent).
    pub object_id: String,
    /// The step's name.
    pub object_name: Option<String>,
    /// Whether it succeeded.
    pub successful: Option<bool>,
    /// Whether Anaplan holds a failure dump for it.
    pub failure_dump_available: bool,
    /// Anaplan's messages about it (`details[].localMessageText`).
    messages: Vec<String>,
}

impl Step {
    fn read(v: &Value) -> Step {
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        Step {
            object_id: text("objectId").unwrap_or_default(),
            object_name: text("objectName"),
            successful: v.get("successful").and_then(Value::as_bool),
            failure_dump_available: v.get("failureDumpAvailable").and_then(Value::as_bool) == Some(true),
            messages: v
                .get("details")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.get("localMessageText").and_then(Value::as_str))
                .map(|s| s.trim().to_owned())
                .collect(),
        }
    }

    /// The step's object, when its id is one.
    pub fn object(&self) -> Option<ObjectId> {
        ObjectId::parse(&self.object_id).ok()
    }

    /// Anaplan's messages, trimmed.
    pub fn messages(&self) -> Vec<String> {
        self.messages.clone()
    }
}

/// A task answer: `{"task": {...}}` as the help pages and live samples show it, or the bare
/// task object the live-tested description's schema (`TaskWithUrl`) gives for a task start.
#[derive(Deserialize)]
#[serde(untagged)]
enum TaskBody {
    Wrapped { task: RawTask },
    Bare(RawTask),
}

impl TaskBody {
    fn task(self) -> RawTask {
        match self {
            TaskBody::Wrapped { task } | TaskBody::Bare(task) => task,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTask {
    task_id: String,
    /// Absent from the description's example of a task start: a task just started has not.
    #[serde(default = "not_started")]
    task_state: String,
    result: Option<Value>,
    #[serde(default)]
    creation_time: Value,
}

fn not_started() -> String {
    "NOT_STARTED".to_owned()
}

/// `creationTime`: a number of milliseconds; tolerated as a string of digits too.
fn millis(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl TryFrom<RawTask> for Task {
    type Error = AnaplanError;
    fn try_from(t: RawTask) -> Result<Self, AnaplanError> {
        Ok(Task {
            id: TaskId::parse(&t.task_id).map_err(|e| AnaplanError::Protocol(format!("task id: {e}")))?,
            state: TaskState::parse(&t.task_state)?,
            result: t.result,
            created_ms: millis(&t.creation_time),
        })
    }
}

/// How long a task start keeps retrying while the model is busy (Anaplan's 409).
pub const BUSY_BUDGET: Duration = Duration::from_secs(20);

impl Client {
    /// Starts the action. A busy model (409) is retried with backoff for up to `busy_budget`;
    /// after that the answer is [`AnaplanError::Busy`].
    pub async fn start_task(
        &self,
        action: &ActionRef,
        locale: &str,
        busy_budget: Duration,
    ) -> Result<Task, AnaplanError> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            let req = ApiRequest::get(action.segments(&["tasks"]))
                .method(Method::POST)
                .json(serde_json::json!({ "localeName": locale }));
            match self.json::<TaskBody>(req).await {
                Ok(body) => return body.task().try_into(),
                Err(AnaplanError::Api { status: 409, message, .. }) => {
                    if started.elapsed() + wait > busy_budget {
                        return Err(AnaplanError::Busy(message));
                    }
                    tracing::info!(wait_ms = wait.as_millis() as u64, %message, "model busy; retrying the task start");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The ids of the action's tasks that Anaplan created between `from_ms` and `to_ms`
    /// (unix milliseconds, Anaplan's clock), e.g. to find a start whose answer was lost.
    pub async fn tasks_created_between(
        &self,
        action: &ActionRef,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<TaskId>, AnaplanError> {
        let listed = self.action_tasks(action).await?;
        Ok(listed
            .into_iter()
            .filter(|t| t.created_ms.is_some_and(|c| (from_ms..=to_ms).contains(&c)))
            .map(|t| t.id)
            .collect())
    }

    /// Every task of the action that Anaplan lists, with its state and creation time.
    pub async fn action_tasks(&self, action: &ActionRef) -> Result<Vec<ListedTask>, AnaplanError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Listed {
            task_id: String,
            task_state: String,
            #[serde(default)]
            creation_time: Value,
        }
        let listed: Vec<Listed> = self.list(ApiRequest::get(action.segments(&["tasks"])), "tasks").await?;
        listed
            .into_iter()
            .map(|t| {
                Ok(ListedTask {
                    id: TaskId::parse(&t.task_id).map_err(|e| AnaplanError::Protocol(format!("task id: {e}")))?,
                    state: TaskState::parse(&t.task_state)?,
                    created_ms: millis(&t.creation_time),
                })
            })
            .collect()
    }

    /// A task of the action created after `task` that has started (or may have: a
    /// cancelled one cannot be told apart), so may have written over what `task` left,
    /// e.g. an export's file. `None` also when `task`'s creation time is unknown (the
    /// order cannot be told; logged).
    pub async fn later_started_task(&self, action: &ActionRef, task: &Task) -> Result<Option<TaskId>, AnaplanError> {
        let Some(created) = task.created_ms else {
            tracing::warn!(task = %task.id, "the task has no creationTime; cannot tell whether a later run replaced its output");
            return Ok(None);
        };
        let listed = self.action_tasks(action).await?;
        // Same millisecond counts as later: ambiguous, and a wrong file is worse than a retry.
        Ok(listed
            .into_iter()
            .filter(|t| t.id != task.id && t.state != TaskState::NotStarted)
            .find(|t| t.created_ms.is_some_and(|c| c >= created))
            .map(|t| t.id))
    }

    /// The task's current state.
    pub async fn task(&self, action: &ActionRef, task: &TaskId) -> Result<Task, AnaplanError> {
        let body: TaskBody = self.json(ApiRequest::get(action.segments(&["tasks", task.as_str()]))).await?;
        body.task().try_into()
    }

    /// Asks Anaplan to cancel the task (best effort; it moves through CANCELLING). An other
    /// action's task has no cancel (see [`Action::cancellable`]): nothing is sent.
    pub async fn cancel_task(&self, action: &ActionRef, task: &TaskId) -> Result<Task, AnaplanError> {
        if !action.action.cancellable() {
            return Err(AnaplanError::Protocol(format!(
                "Anaplan documents no cancel for the task of {} {}",
                action.action.collection(),
                action.action.id()
            )));
        }
        let req = ApiRequest::get(action.segments(&["tasks", task.as_str()])).method(Method::DELETE);
        let body: TaskBody = self.json(req).await?;
        body.task().try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_other_actions_tasks_are_under_actions_and_have_no_cancel() {
        let action = ActionRef {
            workspace: WorkspaceId::parse("8a81b09d599f3c6e0159f605560c2630").unwrap(),
            model: ModelId::parse("75A40874E6B64FA3AE0743278996850F").unwrap(),
            action: Action::Other(ActionId::parse("117000000019").unwrap()),
        };
        assert_eq!(
            action.segments(&["tasks"]).join("/"),
            "workspaces/8a81b09d599f3c6e0159f605560c2630/models/75A40874E6B64FA3AE0743278996850F/actions/117000000019/tasks"
        );
        assert!(!action.action.cancellable());
        assert!(Action::Process(ProcessId::parse("118000000001").unwrap()).cancellable());
    }

    #[test]
    fn a_task_answer_reads_wrapped_or_bare() {
        let id = "16605AE88D1D46EDB88FD12DFBA867A9";
        let wrapped: TaskBody =
            serde_json::from_value(serde_json::json!({"task": {"taskId": id, "taskState": "IN_PROGRESS"}})).unwrap();
        let t: Task = wrapped.task().try_into().unwrap();
        assert_eq!((t.id.as_str(), t.state), (id, TaskState::InProgress));
        // The description's example of a task start: the bare object, no state yet.
        let bare: TaskBody = serde_json::from_value(serde_json::json!({"taskId": id})).unwrap();
        let t: Task = bare.task().try_into().unwrap();
        assert_eq!((t.id.as_str(), t.state), (id, TaskState::NotStarted));
    }
}
