//! What run-process, export-file and import-file share: the parts of a request every
//! long-running function takes ([`TaskRequest`]), the status URL, holding for `wait`, the
//! 202/409 answers, `Idempotency-Key` and cancellation. Failure reports are in
//! [`super::failures`], dumps in [`super::dumps`].

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use axum::http::Method;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::declare::{LOCALE, Object};
use super::transfers::DataSourceLock;
use crate::http::idempotency::{self, Outcome, Sending, now_ms};
use crate::http::long_running::{self, accepted, accepted_transfer, cancelled, hold, hold_until, status_url};
use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem, ProblemType};
use anaplan::Client;
use anaplan::ids::{Id, ObjectId, TaskId};
use anaplan::tasks::{Action, ActionRef, BUSY_BUDGET, ListedTask, Task, TaskState};

/// How far before and after a start was sent (our clock) a task of the action counts as
/// the one it made (Anaplan's clock): clocks differ, and a start may retry for a while.
pub const LOST_START_BEFORE_MS: u64 = 30_000;
/// See [`LOST_START_BEFORE_MS`].
pub const LOST_START_AFTER_MS: u64 = 180_000;

/// A start must have its answer this long before the answer deadline: the time to find out
/// what a start whose answer did not come did, and to answer with its task.
pub const START_MARGIN: Duration = Duration::from_secs(3);
/// Less time than this left for a start: it is not sent (nothing starts; a retry may).
pub const LEAST_START: Duration = Duration::from_secs(1);
/// What follows a task's end (reading a file's first chunk, dumps, the answer) is given up
/// this long before the answer deadline, for a 202 with the task's Location instead.
pub const FINISH_MARGIN: Duration = Duration::from_secs(2);

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
            Action::Other(_) => "actionId",
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

    /// When work after a task's end must have given its answer: [`FINISH_MARGIN`] before
    /// the answer deadline.
    pub fn finish_by(&self) -> Instant {
        self.call.deadline.checked_sub(FINISH_MARGIN).unwrap_or(self.call.received).max(self.call.received)
    }

    /// The 202 for a task whose final answer did not fit in this answer's time: the same
    /// Location, so the next poll (with the whole deadline for it) gives it.
    pub fn not_yet(&self, task: &Task, why: &str) -> Result<Response, Problem> {
        tracing::info!(task = %task.id, why, "answering 202: the final answer did not fit in this answer's time");
        Ok(accepted_transfer(
            &self.status_url(&task.id)?,
            self.state.poll_seconds,
            Some(task),
            json!({"phase": "answering", "detail": why}),
        ))
    }

    /// Holds for `wait`, then answers: 202 while running, 409 when cancelled, `finish`
    /// once complete. `finish` must answer by [`TaskCall::finish_by`]; when it does not,
    /// the answer is a 202 with the task's Location (never a 504 without it).
    pub async fn answer<F, Fut>(&self, task: Task, wait: Duration, finish: F) -> Result<Response, Problem>
    where
        F: FnOnce(Task) -> Fut,
        Fut: Future<Output = Result<Response, Problem>>,
    {
        let interval = Duration::from_secs(self.state.poll_seconds);
        let until = hold_until(self.call, wait);
        // A task found in a listing (a start whose answer was lost) has no result yet.
        let ended = |t: &Task| t.state == TaskState::Cancelled || (t.state.is_terminal() && t.result.is_some());
        let task = hold(task, until, interval, ended, |t| {
            let id = t.id.clone();
            async move { self.client.task(&self.action, &id).await.map_err(Problem::from) }
        })
        .await?;
        match task.state {
            TaskState::Complete if task.result.is_some() => {
                match tokio::time::timeout_at(self.finish_by(), finish(task.clone())).await {
                    Ok(answer) => answer,
                    Err(_) => self.not_yet(&task, "the task has finished; its final answer is given by the next poll"),
                }
            }
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
                self.start_once(&parts, |sending: Sending| async move {
                    let lock = prepare().await?;
                    let started = self.start_task(&sending, locale).await;
                    match (lock, &self.action.action, &started) {
                        (Some(lock), Action::Import(import), Ok(task)) => lock.hand_to_task(import, &task.id).await,
                        // The import may be reading the file: no other upload until the lock lapses.
                        (Some(lock), _, Err(p)) if p.not_repeated() => lock.keep_until_lapsed(),
                        _ => {}
                    }
                    let started = started?;
                    tracing::info!(
                        task = %started.id,
                        action = %format!("{}/{}", self.action.action.collection(), self.action.action.id()),
                        "task started"
                    );
                    Ok(started)
                })
                .await?
            }
            Intent::Status(_, Some(_)) if matches!(self.action.action, Action::Other(_)) => {
                return Err(Problem::bad_parameter(
                    "dump is not for an other action: Anaplan documents no failure dump for its tasks",
                ));
            }
            Intent::Status(id, Some(object)) => {
                self.owned_task(&id).await?;
                return self.dump(&id, &object).await;
            }
            Intent::Status(id, None) => {
                match tokio::time::timeout_at(self.finish_by(), self.owned_task(&id)).await {
                    Ok(task) => task?,
                    // Anaplan did not answer the status check in time: the same Location.
                    Err(_) => {
                        return Ok(long_running::accepted_unknown(
                            &self.status_url(&id)?,
                            self.state.poll_seconds,
                            &id,
                        ));
                    }
                }
            }
            Intent::Cancel(id) => return self.cancel(&id).await,
            Intent::Upload(_) | Intent::CancelUpload(_) => {
                return Err(Problem::bad_parameter("uploadId belongs to import-file's status URLs"));
            }
        };
        self.answer(task, wait, finish).await
    }

    /// Sends the start of the action, within this answer's time: the tasks that exist are
    /// noted first (kept with the key's record, when there is one), and a start whose
    /// answer is lost (a timeout, a 5xx, a broken connection, or no answer before
    /// [`START_MARGIN`] ahead of the deadline) is looked for among the action's tasks: the
    /// answer is then that task, or, when Anaplan's tasks cannot tell, a 409 that says the
    /// start may have happened (never a status Logic Apps would retry by itself).
    async fn start_task(&self, sending: &Sending, locale: &str) -> Result<Task, Problem> {
        let start_by = self.call.deadline.checked_sub(START_MARGIN).unwrap_or(self.call.received);
        let before = Before::take(&self.client, &self.action).await?;
        let left = start_by.saturating_duration_since(Instant::now());
        if left < LEAST_START {
            return Err(no_time_to_start());
        }
        sending.mark(json!(before)).await?;
        // A busy model is waited for only as long as this answer leaves time for.
        let busy_budget = BUSY_BUDGET.min(left.saturating_sub(LEAST_START));
        let cause =
            match tokio::time::timeout_at(start_by, self.client.start_task(&self.action, locale, busy_budget)).await {
                Ok(Ok(task)) => return Ok(task),
                Ok(Err(e)) => {
                    let problem = Problem::from(e);
                    if !problem.not_repeated() {
                        return Err(problem);
                    }
                    problem.body()["detail"].as_str().unwrap_or_default().to_owned()
                }
                Err(_) => "Anaplan did not answer the start in this answer's time".to_owned(),
            };
        tracing::warn!(action = %self.action.action.id(), "a task start's answer was lost; looking for its task");
        let by = self.call.deadline.checked_sub(FINISH_MARGIN / 2).unwrap_or(start_by).max(start_by);
        let found = tokio::time::timeout_at(by, async {
            match before.find(&self.client, &self.action).await? {
                // Anaplan may still be making it: one more look after a second.
                Found::None if by.saturating_duration_since(Instant::now()) > Duration::from_secs(2) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    before.find(&self.client, &self.action).await
                }
                found => Ok(found),
            }
        })
        .await
        .unwrap_or_else(|_| Err(Problem::bad_parameter("the action's tasks were not listed in time")));
        let keyed = idempotency::key(&self.call.headers).ok().flatten().is_some();
        match found {
            Ok(Found::One(t)) => {
                tracing::info!(task = %t.id, "the lost start did start: answering for its task");
                Ok(Task { id: t.id, state: t.state, result: None, created_ms: t.created_ms })
            }
            Ok(Found::Several(ids)) => Err(start_uncertain(&self.action, &cause, Shown::Several(&ids), keyed)),
            Ok(Found::None) => Err(start_uncertain(&self.action, &cause, Shown::Nothing, keyed)),
            Err(p) => {
                let why = p.body()["detail"].as_str().unwrap_or_default().to_owned();
                Err(start_uncertain(&self.action, &cause, Shown::Unknown(&why), keyed))
            }
        }
    }

    /// Runs `start` once per `Idempotency-Key` (always, without one); for a key seen
    /// before, the task that key started, as it is now. `fingerprint` adds what identifies
    /// the request beyond the action and the status parameters.
    async fn start_once<F, Fut>(&self, fingerprint: &[(&str, &str)], start: F) -> Result<Task, Problem>
    where
        F: FnOnce(Sending) -> Fut,
        Fut: Future<Output = Result<Task, Problem>>,
    {
        let Some(key) = idempotency::key(&self.call.headers)? else { return start(Sending::none()).await };
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
        // A start of this key that was sent and never recorded its task (its answer was
        // lost, or its instance died): the task it made, looked for before anything starts.
        let recover = |since_ms: u64, context: Value| async move {
            let before = Before::from_context(since_ms, context);
            match before.find(&self.client, &self.action).await? {
                Found::None => Ok(None),
                Found::One(t) => Ok(Some(t.id.as_str().to_owned())),
                Found::Several(several) => Err(Problem::new(ProblemType::IdempotencyKeyUncertainTask, format!(
                        "the start with this Idempotency-Key may have reached Anaplan, and {} tasks of this action began around then ({}); check them in Anaplan and use a new key",
                        several.len(),
                        several.iter().map(TaskId::as_str).collect::<Vec<_>>().join(", ")
                    ),
                )
                .with("candidates", json!(several.iter().map(TaskId::as_str).collect::<Vec<_>>()))),
            }
        };
        let recovery = idempotency::Recovery { recover };
        let fp = idempotency::fingerprint(&parts);
        match idempotency::start_once(store, &name, &fp, self.call.deadline, start, recovery).await? {
            Outcome::Started(task) => Ok(task),
            Outcome::Existing(id) => {
                tracing::info!(task = %id, "Idempotency-Key seen before: answering for the task it started");
                Ok(self.client.task(&self.action, &id).await?)
            }
        }
    }

    /// Task `id` of this action: a status URL whose `taskId` belongs to another action (or
    /// to none) is a 404, so no id in it can point at someone else's work. A task whose
    /// result names the action as its object belongs to it; any other (one still running,
    /// or a result that names no object) must be in the action's task list, which is asked
    /// once per task and instance.
    pub async fn owned_task(&self, id: &TaskId) -> Result<Task, Problem> {
        let task = self.client.task(&self.action, id).await?;
        let a = &self.action;
        let key = format!("{}/{}/{}/{}/{}", a.workspace, a.model, a.action.collection(), a.action.id(), id);
        let named = task.result.as_ref().and_then(|r| r.get("objectId")).and_then(Value::as_str);
        let known = || OWNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&key);
        if named == Some(a.action.id()) || known() {
            return Ok(task);
        }
        let listed = self.client.action_tasks(a).await?;
        if !listed.iter().any(|t| t.id == *id) {
            return Err(Problem::new(ProblemType::TaskNotFound, format!(
                    "task {id} is not a task of {} {} in this model: a status URL's ids must be those of the start's Location",
                    noun(&a.action),
                    a.action.id()
                ),
            )
            .with("taskId", json!(id.as_str())));
        }
        let mut owned = OWNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if owned.len() >= OWNED_CAP {
            owned.clear();
        }
        owned.insert(key);
        Ok(task)
    }

    /// Asks Anaplan to cancel and answers 202 with the same Location; polling then ends in
    /// 409.
    pub async fn cancel(&self, task: &TaskId) -> Result<Response, Problem> {
        let current = self.owned_task(task).await?;
        if !self.action.action.cancellable() {
            return Err(Problem::new(
                ProblemType::TaskNotCancellable,
                format!(
                    "Anaplan documents no way to cancel the task of {} {}: task {task} runs to its end; poll its \
                     status URL (GET) for the result",
                    noun(&self.action.action),
                    self.action.action.id()
                ),
            )
            .with("taskId", json!(task.as_str()))
            .with("taskState", json!(current.state.as_str())));
        }
        if current.state.is_terminal() {
            // Nothing left to cancel: answer what a poll would.
            return Err(match current.state {
                TaskState::Cancelled => cancelled(&current),
                _ => Problem::new(
                    ProblemType::TaskFinished,
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

/// Tasks this process has seen in their action's task list (workspace/model/kind/action/task).
static OWNED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);
/// At most this many are remembered (then forgotten all at once, and asked again).
const OWNED_CAP: usize = 10_000;

/// What a start knew before it was sent: when (our clock, unix ms), and the action's tasks
/// created around then that existed already (none of them is the one it makes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Before {
    /// When the start was about to be sent.
    #[serde(rename = "sinceMs")]
    pub since_ms: u64,
    /// Ids of the action's tasks created from [`LOST_START_BEFORE_MS`] before then.
    pub known: Vec<String>,
}

/// What the action's tasks say a start whose answer was lost did.
#[derive(Debug)]
pub enum Found {
    /// No task of the action began then.
    None,
    /// This one began then, and was not there before.
    One(ListedTask),
    /// Several began then.
    Several(Vec<TaskId>),
}

impl Before {
    /// Lists the action's tasks now, before a start is sent.
    pub async fn take(client: &Client, action: &ActionRef) -> Result<Before, Problem> {
        let since_ms = now_ms();
        let from = since_ms.saturating_sub(LOST_START_BEFORE_MS);
        let known = client
            .action_tasks(action)
            .await?
            .into_iter()
            .filter(|t| t.created_ms.is_none_or(|c| c >= from))
            .map(|t| t.id.as_str().to_owned())
            .collect();
        Ok(Before { since_ms, known })
    }

    /// From the context kept with a key's record (`since` when it has no time of its own;
    /// records of earlier versions kept a bare list of task ids).
    pub fn from_context(since: u64, context: Value) -> Before {
        match context {
            Value::Array(ids) => {
                Before { since_ms: since, known: ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect() }
            }
            other => serde_json::from_value(other).unwrap_or(Before { since_ms: since, known: Vec::new() }),
        }
    }

    /// The action's tasks that began around the start and were not there before it.
    pub async fn find(&self, client: &Client, action: &ActionRef) -> Result<Found, Problem> {
        // Anaplan's clock may differ from ours, and the start took up to its retry budget:
        // a window around it, without the tasks seen before it.
        let (from, to) = (self.since_ms.saturating_sub(LOST_START_BEFORE_MS), self.since_ms + LOST_START_AFTER_MS);
        let mut found: Vec<ListedTask> = client
            .action_tasks(action)
            .await?
            .into_iter()
            .filter(|t| t.created_ms.is_some_and(|c| (from..=to).contains(&c)))
            .filter(|t| !self.known.iter().any(|k| k == t.id.as_str()))
            .collect();
        Ok(match found.len() {
            0 => Found::None,
            1 => Found::One(found.remove(0)),
            _ => Found::Several(found.into_iter().map(|t| t.id).collect()),
        })
    }
}

/// What the action's tasks showed after a start whose answer was lost.
pub enum Shown<'a> {
    /// No new task.
    Nothing,
    /// These new tasks, too many to tell.
    Several(&'a [TaskId]),
    /// The tasks could not be listed: why.
    Unknown(&'a str),
}

/// 409: a start was sent, its answer was lost (`cause`), and the action's tasks cannot
/// tell whether it started. Not a status Logic Apps retries: a retry could start it twice.
pub fn start_uncertain(action: &ActionRef, cause: &str, seen: Shown<'_>, keyed: bool) -> Problem {
    let what = format!("{} {}", noun(&action.action), action.action.id());
    let seen_text = match &seen {
        Shown::Nothing => "no new task of it has appeared".to_owned(),
        Shown::Several(ids) => format!(
            "{} new tasks of it began then ({})",
            ids.len(),
            ids.iter().map(TaskId::as_str).collect::<Vec<_>>().join(", ")
        ),
        Shown::Unknown(why) => format!("its tasks could not be listed ({why})"),
    };
    let advice = if keyed {
        "; a retry with the same Idempotency-Key looks for the task first, and starts one only if none appeared"
    } else {
        "; an Idempotency-Key on the start lets a retry find the task instead of starting a second one"
    };
    let mut p = Problem::new(ProblemType::StartUncertain, format!(
            "the start of {what} was sent to Anaplan but its answer was lost ({cause}), and {seen_text}: it may or may not be running. Check the action's tasks in Anaplan before starting it again{advice}"
        ),
    )
    .with("notRepeated", json!(true));
    if let Shown::Several(ids) = seen {
        p = p.with("candidates", json!(ids.iter().map(TaskId::as_str).collect::<Vec<_>>()));
    }
    p
}

/// `process`, `export` or `import`, in messages.
fn noun(action: &Action) -> &'static str {
    match action {
        Action::Process(_) => "process",
        Action::Export(_) => "export",
        Action::Import(_) => "import",
        Action::Other(_) => "action",
    }
}

/// 503 for a start that no longer fits in this answer (what came before it took the
/// time): nothing was sent, so a retry is safe.
pub fn no_time_to_start() -> Problem {
    Problem::new(ProblemType::NoTimeToStart, "what had to happen before the start took this answer's time, so the start was not sent (nothing started); try again",
    )
    .retry_after(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn a_keys_context_reads_as_it_is_kept_or_as_earlier_versions_kept_it() {
        let before = Before { since_ms: 1_000, known: vec!["A".into(), "B".into()] };
        let kept = Before::from_context(5, json!(before));
        assert_eq!((kept.since_ms, kept.known), (1_000, vec!["A".to_owned(), "B".to_owned()]));
        // Earlier records kept a bare list of the tasks seen before the start.
        let legacy = Before::from_context(7, json!(["C"]));
        assert_eq!((legacy.since_ms, legacy.known), (7, vec!["C".to_owned()]));
        let unreadable = Before::from_context(9, json!("?"));
        assert_eq!((unreadable.since_ms, unreadable.known.len()), (9, 0));
    }

    #[test]
    fn an_uncertain_start_is_a_409_that_names_what_was_seen_and_is_never_retried() {
        let action = ActionRef {
            workspace: anaplan::ids::WorkspaceId::parse("8a81b09d5e8c6f27015ea3f1b4f34c2f").unwrap(),
            model: anaplan::ids::ModelId::parse("75A40874E6B64FA3AE0743278996850F").unwrap(),
            action: Action::Process(anaplan::ids::ProcessId::parse("118000000001").unwrap()),
        };
        let ids = [TaskId::parse("16605AE88D1D46EDB88FD12DFBA867A9").unwrap()];
        let p = start_uncertain(&action, "a 504", Shown::Several(&ids), true);
        assert_eq!(p.status(), StatusCode::CONFLICT);
        assert!(p.not_repeated());
        let body = p.body();
        assert_eq!(body["candidates"], json!(["16605AE88D1D46EDB88FD12DFBA867A9"]));
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("process 118000000001") && detail.contains("same Idempotency-Key"), "{detail}");
        let p = start_uncertain(&action, "a 504", Shown::Nothing, false);
        assert!(p.body().get("candidates").is_none());
    }
}
