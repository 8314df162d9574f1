//! What run-process, export-file and import-file share: the parts of a request every
//! long-running function takes ([`TaskRequest`]), the status URL, holding for `wait`, the
//! 202/409 answers, `Idempotency-Key` and cancellation. Failure reports are in
//! [`super::failures`], dumps in [`super::dumps`].

use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::declare::{LOCALE, Object};
use super::transfers::DataSourceLock;
use crate::anaplan::Client;
use crate::anaplan::ids::{Id, ObjectId, TaskId};
use crate::anaplan::tasks::{Action, ActionRef, BUSY_BUDGET, Task, TaskState};
use crate::http::idempotency::{self, Outcome};
use crate::http::long_running::{self, accepted, cancelled, hold, hold_until, status_url};
use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem};

/// How far before and after an uncertain start's claim (our clock) a task of the action
/// counts as the one it made (Anaplan's clock).
const LOST_START_BEFORE_MS: u64 = 30_000;
const LOST_START_AFTER_MS: u64 = 180_000;

/// What every long-running request carries, checked: the model, the action, what is asked
/// of it, how long to hold the answer, and the locale of a start.
pub struct TaskRequest<A> {
    /// Workspace and model.
    pub model: ModelRef,
    /// The action (`<kind>Id` or `<kind>Name`).
    pub action: ObjectRef<A>,
    /// Start, status or cancel.
    pub intent: Intent,
    /// `wait`.
    pub wait: Duration,
    /// `locale` (en_US by default).
    pub locale: String,
}

impl<A: Id> TaskRequest<A> {
    /// From the call and its parameters; `action` says which `<kind>Id` names the action.
    pub fn parse(call: &Call, params: &Params, action: Object) -> Result<Self, Problem> {
        let intent = intent(call, params)?;
        let wait = long_running::wait_param(params.get("wait"))?;
        Ok(TaskRequest {
            model: ModelRef::parse(params)?,
            action: params.object(action.kind())?,
            intent,
            wait,
            locale: params.get(LOCALE.name).or(LOCALE.default).unwrap_or_default().to_owned(),
        })
    }
}

/// One call to a long-running function, with its action resolved.
pub struct TaskCall<'a> {
    /// Shared state.
    pub state: &'a AppState,
    /// The request.
    pub call: &'a Call,
    /// Anaplan, as this caller.
    pub client: Client,
    /// The action.
    pub action: ActionRef,
    /// The action's name, when it was looked up.
    pub action_name: Option<String>,
    /// Parameters the status URL must carry besides the ids (e.g. an export's destination).
    pub extra: Vec<(&'static str, String)>,
    /// How long the caller asked the answer to be held (`wait`).
    pub wait: Duration,
}

/// What the request asks for.
pub enum Intent {
    /// POST without `taskId`: start the action.
    Start,
    /// GET with `taskId`: the task's status, or with `dump` the dump of that object.
    Status(TaskId, Option<ObjectId>),
    /// DELETE with `taskId`: cancel.
    Cancel(TaskId),
    /// GET with `uploadId` (import-file): an upload that has not started its task yet.
    Upload(String),
    /// DELETE with `uploadId`: cancel that upload (or the task it started).
    CancelUpload(String),
}

/// An `uploadId`: 32 lowercase hexadecimal characters.
fn upload_id(v: &str) -> Result<String, Problem> {
    if v.len() == 32 && v.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(v.to_owned())
    } else {
        Err(Problem::bad_parameter("uploadId must be the 32 lowercase hexadecimal characters of a status URL"))
    }
}

/// Works out the intent from method, `taskId` and `dump`.
fn intent(call: &Call, params: &Params) -> Result<Intent, Problem> {
    let task = params.get("taskId").map(|t| TaskId::parse(t).map_err(|e| Problem::bad_parameter(e.to_string())));
    if let Some(upload) = params.get("uploadId") {
        return match (&call.method, task.is_some(), params.get("dump")) {
            (_, true, _) => Err(Problem::bad_parameter("a status URL has taskId or uploadId, not both")),
            (_, _, Some(_)) => Err(Problem::bad_parameter("dump goes with taskId")),
            (&Method::GET, ..) => Ok(Intent::Upload(upload_id(upload)?)),
            (&Method::DELETE, ..) => Ok(Intent::CancelUpload(upload_id(upload)?)),
            (m, ..) => Err(Problem::bad_parameter(format!(
                "{m} is not a way to reach an upload (GET checks it, DELETE cancels it)"
            ))),
        };
    }
    let intent = match (&call.method, task) {
        (&Method::POST, None) => Intent::Start,
        (&Method::POST, Some(_)) => {
            return Err(Problem::bad_parameter(
                "taskId is for checking (GET) or cancelling (DELETE) a task; POST starts a new one without it",
            ));
        }
        (&Method::GET, Some(t)) => Intent::Status(t?, None),
        (&Method::DELETE, Some(t)) => Intent::Cancel(t?),
        (m, None) => {
            return Err(Problem::bad_parameter(format!(
                "{m} needs taskId: it checks or cancels a task (use the Location URL of the 202 answer); POST starts one"
            )));
        }
        (m, Some(_)) => return Err(Problem::bad_parameter(format!("{m} is not a way to reach a task"))),
    };
    match (intent, params.get("dump")) {
        (Intent::Status(t, _), Some(object)) => {
            let object = ObjectId::parse(object)
                .map_err(|_| Problem::bad_parameter("dump must be the objectId of a failed step"))?;
            Ok(Intent::Status(t, Some(object)))
        }
        (_, Some(_)) => Err(Problem::bad_parameter("dump is for GET on a task's status URL")),
        (intent, None) => Ok(intent),
    }
}

impl TaskCall<'_> {
    /// The status URL of `task`.
    pub fn status_url(&self, task: &TaskId) -> Result<String, Problem> {
        self.status_url_with(&[("taskId", task.as_str())])
    }

    /// The status URL with `last` after the ids (a task's, or an upload's).
    pub fn status_url_with(&self, last: &[(&str, &str)]) -> Result<String, Problem> {
        let a = &self.action;
        let id_param = match a.action {
            Action::Process(_) => "processId",
            Action::Export(_) => "exportId",
            Action::Import(_) => "importId",
        };
        let mut params: Vec<(&str, &str)> =
            vec![("workspaceId", a.workspace.as_str()), ("modelId", a.model.as_str()), (id_param, a.action.id())];
        params.extend(last.iter().copied());
        params.extend(self.extra.iter().map(|(k, v)| (*k, v.as_str())));
        status_url(self.call, self.call.function, &params)
    }

    /// A function from task id to that task's status URL, owned, for background work.
    pub fn status_urls(&self) -> impl Fn(&TaskId) -> Option<String> + Send + Sync + 'static {
        let template = self.status_url_with(&[("taskId", "")]).ok();
        move |task: &TaskId| {
            let mut url = url::Url::parse(template.as_deref()?).ok()?;
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    if k == "taskId" {
                        (k.into_owned(), task.as_str().to_owned())
                    } else {
                        (k.into_owned(), v.into_owned())
                    }
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            Some(url.to_string())
        }
    }

    /// Holds for `wait`, then answers: 202 while running, 409 when cancelled, `finish`
    /// once complete.
    pub async fn answer<F, Fut>(&self, task: Task, wait: Duration, finish: F) -> Result<Response, Problem>
    where
        F: FnOnce(Task) -> Fut,
        Fut: Future<Output = Result<Response, Problem>>,
    {
        let interval = Duration::from_secs(self.state.poll_seconds);
        let until = hold_until(self.call, wait);
        let task = hold(
            task,
            until,
            interval,
            |t| t.state.is_terminal(),
            |t| {
                let id = t.id.clone();
                async move { self.client.task(&self.action, &id).await.map_err(Problem::from) }
            },
        )
        .await?;
        match task.state {
            TaskState::Complete => finish(task).await,
            TaskState::Cancelled => Err(cancelled(&task)),
            _ => Ok(accepted(&self.status_url(&task.id)?, self.state.poll_seconds, &task)),
        }
    }

    /// Carries out `intent`: a start in `locale` (running `prepare`, then starting the task,
    /// once per `Idempotency-Key`), a status check (or, with `dump=`, the dump), or a
    /// cancellation; then holds for `wait` and answers, with `finish` making the answer of a
    /// completed task. `fingerprint` adds what identifies a start beyond the action and locale.
    pub async fn run<P, PFut, F, FFut>(
        &self,
        intent: Intent,
        wait: Duration,
        locale: &str,
        fingerprint: &[(&str, &str)],
        prepare: P,
        finish: F,
    ) -> Result<Response, Problem>
    where
        P: FnOnce() -> PFut,
        PFut: Future<Output = Result<Option<DataSourceLock>, Problem>>,
        F: FnOnce(Task) -> FFut,
        FFut: Future<Output = Result<Response, Problem>>,
    {
        let task = match intent {
            Intent::Start => {
                let mut parts = vec![("locale", locale)];
                parts.extend(fingerprint.iter().copied());
                self.start_once(&parts, || async {
                    let lock = prepare().await?;
                    let started = self.client.start_task(&self.action, locale, BUSY_BUDGET).await?;
                    if let (Some(lock), Action::Import(import)) = (lock, &self.action.action) {
                        lock.hand_to_task(import, &started.id).await;
                    }
                    tracing::info!(
                        task = %started.id,
                        action = %format!("{}/{}", self.action.action.collection(), self.action.action.id()),
                        "task started"
                    );
                    Ok(started)
                })
                .await?
            }
            Intent::Status(id, Some(object)) => return self.dump(&id, &object).await,
            Intent::Status(id, None) => self.client.task(&self.action, &id).await?,
            Intent::Cancel(id) => return self.cancel(&id).await,
            Intent::Upload(_) | Intent::CancelUpload(_) => {
                return Err(Problem::bad_parameter("uploadId belongs to import-file's status URLs"));
            }
        };
        self.answer(task, wait, finish).await
    }

    /// Runs `start` once per `Idempotency-Key` (always, without one); for a key seen
    /// before, the task that key started, as it is now. `fingerprint` adds what identifies
    /// the request beyond the action and the status parameters.
    async fn start_once<F, Fut>(&self, fingerprint: &[(&str, &str)], start: F) -> Result<Task, Problem>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Task, Problem>>,
    {
        let Some(key) = idempotency::key(&self.call.headers)? else { return start().await };
        let store = self.state.state_store().await?;
        // The caller's user, not its token: a retry after the caller refreshed its token
        // finds the same record.
        let scope = format!("{}|{}", self.state.caller_users.scope(&self.client).await?, self.call.function);
        let name = idempotency::record_name(&scope, &key);
        let a = &self.action;
        let mut parts: Vec<(&str, &str)> =
            vec![("workspaceId", a.workspace.as_str()), ("modelId", a.model.as_str()), ("action", a.action.id())];
        parts.extend(self.extra.iter().map(|(k, v)| (*k, v.as_str())));
        parts.extend(fingerprint.iter().copied());
        // Tasks of the action that existed before this start: a lost start's task is
        // none of them.
        let before: std::sync::Mutex<Vec<String>> = std::sync::Mutex::default();
        let context = || json!(*before.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let recover = |since_ms: u64, context: serde_json::Value| async move {
            // Anaplan's clock may differ from ours, and the start took up to its retry
            // budget: a window around the claim, without the tasks seen before it.
            let (from, to) = (since_ms.saturating_sub(LOST_START_BEFORE_MS), since_ms + LOST_START_AFTER_MS);
            let known: Vec<String> = serde_json::from_value(context).unwrap_or_default();
            let mut found = self.client.tasks_created_between(&self.action, from, to).await?;
            found.retain(|t| !known.iter().any(|k| k == t.as_str()));
            match found.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(one.as_str().to_owned())),
                several => Err(Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency-key-uncertain",
                    "Cannot tell which task this key started",
                    format!(
                        "the start with this Idempotency-Key may have reached Anaplan, and {} tasks of this action began around then ({}); check them in Anaplan and use a new key",
                        several.len(),
                        several.iter().map(TaskId::as_str).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        };
        let start = || async {
            let existing = self.client.action_tasks(&self.action).await?;
            *before.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                existing.iter().map(|t| t.id.as_str().to_owned()).collect();
            start().await
        };
        let recovery = idempotency::Recovery { recover, context: &context };
        match idempotency::start_once(store, &name, &idempotency::fingerprint(&parts), start, recovery).await? {
            Outcome::Started(task) => Ok(task),
            Outcome::Existing(id) => {
                tracing::info!(task = %id, "Idempotency-Key seen before: answering for the task it started");
                Ok(self.client.task(&self.action, &id).await?)
            }
        }
    }

    /// Asks Anaplan to cancel and answers 202 with the same Location; polling then ends in
    /// 409.
    pub async fn cancel(&self, task: &TaskId) -> Result<Response, Problem> {
        let current = self.client.task(&self.action, task).await?;
        if current.state.is_terminal() {
            // Nothing left to cancel: answer what a poll would.
            return Err(match current.state {
                TaskState::Cancelled => cancelled(&current),
                _ => Problem::new(
                    StatusCode::CONFLICT,
                    "task-finished",
                    "Task already finished",
                    format!("Anaplan task {task} already finished; it can no longer be cancelled"),
                )
                .with("taskId", json!(task.as_str()))
                .with("taskState", json!(current.state.as_str())),
            });
        }
        let after = self.client.cancel_task(&self.action, task).await?;
        tracing::info!(task = %task, state = after.state.as_str(), "cancellation requested");
        Ok(accepted(&self.status_url(task)?, self.state.poll_seconds, &after))
    }
}
