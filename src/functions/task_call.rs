//! What run-process, export-file and import-file share: resolving the action, the status
//! URL, holding for `wait`, the 202/409 answers, cancellation, and failure reports with
//! their dumps.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::anaplan::files::Dump;
use crate::anaplan::ids::{ModelId, ObjectId, TaskId, WorkspaceId};
use crate::anaplan::tasks::{ActionRef, BUSY_BUDGET, Task, TaskState};
use crate::anaplan::{AnaplanError, Client, Listing};
use crate::http::idempotency::{self, Outcome};
use crate::http::long_running::{self, accepted, cancelled, hold, status_url};
use crate::http::{AppState, Call, ObjectRef, Params, Problem};

/// How many lines of a failure dump are put inline.
pub const DUMP_HEAD_LINES: usize = 10;

/// One call to a long-running function, with its action resolved.
pub struct TaskCall<'a> {
    /// Shared state.
    pub state: &'a AppState,
    /// The request.
    pub call: &'a Call,
    /// Anaplan, as this caller.
    pub client: Client,
    /// The function's name (its route).
    pub function: &'static str,
    /// The action.
    pub action: ActionRef,
    /// The action's name, when it was looked up.
    pub action_name: Option<String>,
    /// Parameters the status URL must carry besides the ids (e.g. an export's destination).
    pub extra: Vec<(&'static str, String)>,
}

/// What the request asks for.
pub enum Intent {
    /// POST without `taskId`: start the action.
    Start,
    /// GET with `taskId`: the task's status (or a dump, with `dump`).
    Status(TaskId),
    /// DELETE with `taskId`: cancel.
    Cancel(TaskId),
}

/// Works out the intent from method and `taskId`.
pub fn intent(call: &Call, params: &Params) -> Result<Intent, Problem> {
    let task = params.get("taskId").map(|t| TaskId::parse(t).map_err(|e| Problem::bad_parameter(e.to_string())));
    let intent = match (&call.method, task) {
        (&Method::POST, None) => Intent::Start,
        (&Method::POST, Some(_)) => {
            return Err(Problem::bad_parameter(
                "taskId is for checking (GET) or cancelling (DELETE) a task; POST starts a new one without it",
            ));
        }
        (&Method::GET, Some(t)) => Intent::Status(t?),
        (&Method::DELETE, Some(t)) => Intent::Cancel(t?),
        (m, None) => {
            return Err(Problem::bad_parameter(format!(
                "{m} needs taskId: it checks or cancels a task (use the Location URL of the 202 answer); POST starts one"
            )));
        }
        (m, Some(_)) => return Err(Problem::bad_parameter(format!("{m} is not a way to reach a task"))),
    };
    if params.get("dump").is_some() && !matches!(intent, Intent::Status(_)) {
        return Err(Problem::bad_parameter("dump is for GET on a task's status URL"));
    }
    Ok(intent)
}

/// Resolves workspace and model (ids or names) from the parameters.
pub async fn workspace_and_model(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<(WorkspaceId, ModelId), Problem> {
    let ws = state.workspace(client, params.object("workspace", WorkspaceId::parse)?).await?;
    let model = state.model(client, &ws, params.object("model", ModelId::parse)?).await?;
    Ok((ws, model))
}

/// Resolves an action named by id or name in `listing`; returns its id and, when looked
/// up, its name.
pub async fn action_id<T: Clone>(
    state: &AppState,
    client: &Client,
    r: ObjectRef<T>,
    listing: Listing,
    parse: impl Fn(&str) -> Result<T, crate::anaplan::ids::InvalidId>,
) -> Result<(T, Option<String>), Problem> {
    match r {
        ObjectRef::Id(id) => Ok((id, None)),
        ObjectRef::Name(name) => {
            let found = state.catalog.resolve(client, &listing, &name).await?;
            let id = parse(&found.id).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
            Ok((id, Some(found.name)))
        }
    }
}

impl TaskCall<'_> {
    /// The status URL of `task`.
    pub fn status_url(&self, task: &TaskId) -> Result<String, Problem> {
        let a = &self.action;
        let id_param = match a.action {
            crate::anaplan::tasks::Action::Process(_) => "processId",
            crate::anaplan::tasks::Action::Export(_) => "exportId",
            crate::anaplan::tasks::Action::Import(_) => "importId",
        };
        let mut params: Vec<(&str, &str)> = vec![
            ("workspaceId", a.workspace.as_str()),
            ("modelId", a.model.as_str()),
            (id_param, a.action.id()),
            ("taskId", task.as_str()),
        ];
        params.extend(self.extra.iter().map(|(k, v)| (*k, v.as_str())));
        status_url(self.call, self.function, &params)
    }

    /// Holds for `wait`, then answers: 202 while running, 409 when cancelled, `finish`
    /// once complete.
    pub async fn answer<F, Fut>(&self, task: Task, wait: std::time::Duration, finish: F) -> Result<Response, Problem>
    where
        F: FnOnce(Task) -> Fut,
        Fut: Future<Output = Result<Response, Problem>>,
    {
        let interval = std::time::Duration::from_secs(self.state.poll_seconds);
        let task = hold(task, wait, interval, |t| async move {
            self.client.task(&self.action, &t.id).await.map_err(Problem::from)
        })
        .await?;
        match task.state {
            TaskState::Complete => finish(task).await,
            TaskState::Cancelled => Err(cancelled(&task)),
            _ => Ok(accepted(&self.status_url(&task.id)?, self.state.poll_seconds, &task)),
        }
    }

    /// Carries out `intent`: a start (running `prepare`, then starting the task, once per
    /// `Idempotency-Key`), a status check (or, with `dump=`, the dump), or a cancellation;
    /// then holds for `wait` and answers, with `finish` making the answer of a completed
    /// task. `fingerprint` adds what identifies a start beyond the action and locale.
    pub async fn run<P, PFut, F, FFut>(
        &self,
        intent: Intent,
        params: &Params,
        wait: std::time::Duration,
        fingerprint: &[(&str, &str)],
        prepare: P,
        finish: F,
    ) -> Result<Response, Problem>
    where
        P: FnOnce() -> PFut,
        PFut: Future<Output = Result<(), Problem>>,
        F: FnOnce(Task) -> FFut,
        FFut: Future<Output = Result<Response, Problem>>,
    {
        let task = match intent {
            Intent::Start => {
                let locale = params.get("locale").unwrap_or("en_US");
                let mut parts = vec![("locale", locale)];
                parts.extend(fingerprint.iter().copied());
                self.start_once(&parts, || async {
                    prepare().await?;
                    let started = self.client.start_task(&self.action, locale, BUSY_BUDGET).await?;
                    tracing::info!(
                        task = %started.id,
                        action = %format!("{}/{}", self.action.action.collection(), self.action.action.id()),
                        "task started"
                    );
                    Ok(started)
                })
                .await?
            }
            Intent::Status(id) => {
                if let Some(object) = params.get("dump") {
                    return self.dump(&id, object).await;
                }
                self.client.task(&self.action, &id).await?
            }
            Intent::Cancel(id) => return self.cancel(&id).await,
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
        let scope = format!("{}|{}", self.client.credentials().identity(), self.function);
        let name = idempotency::record_name(&scope, &key);
        let a = &self.action;
        let mut parts: Vec<(&str, &str)> =
            vec![("workspaceId", a.workspace.as_str()), ("modelId", a.model.as_str()), ("action", a.action.id())];
        parts.extend(self.extra.iter().map(|(k, v)| (*k, v.as_str())));
        parts.extend(fingerprint.iter().copied());
        match idempotency::start_once(store, &name, &idempotency::fingerprint(&parts), start).await? {
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

    /// The failure dump of object `object` of `task`: an import's own dump, or the dump of
    /// one step (processes; also exports).
    pub fn dump_of(&self, task: &TaskId, object: &str) -> Dump {
        match self.action.action {
            crate::anaplan::tasks::Action::Import(_) => {
                Dump::Import { action: self.action.clone(), task: task.clone() }
            }
            _ => Dump::Step { action: self.action.clone(), task: task.clone(), object: object.to_owned() },
        }
    }

    /// 422 for a task that completed without success: Anaplan's result, and one entry per
    /// failed step with the head of its dump and a URL for the whole dump.
    pub async fn failure(&self, task: &Task) -> Problem {
        let result = task.result.clone().unwrap_or(Value::Null);
        let steps: Vec<Value> = match result.get("nestedResults").and_then(Value::as_array) {
            Some(nested) if !nested.is_empty() => nested.clone(),
            _ => vec![result.clone()],
        };
        let mut failures = Vec::new();
        for step in steps.iter().filter(|s| s.get("successful").and_then(Value::as_bool) == Some(false)) {
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
        .with("result", result)
        .with("failures", Value::Array(failures))
    }

    async fn failed_step(&self, task: &Task, step: &Value) -> Value {
        let object_id = step.get("objectId").and_then(Value::as_str).unwrap_or("").to_owned();
        let name =
            step.get("objectName").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| object_id.clone());
        let mut details: Vec<String> = step
            .get("details")
            .and_then(Value::as_array)
            .map(|d| {
                d.iter()
                    .filter_map(|x| x.get("localMessageText").and_then(Value::as_str))
                    .map(|s| s.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let mut entry = json!({ "objectId": object_id, "name": name });
        let dump_available = step.get("failureDumpAvailable").and_then(Value::as_bool) == Some(true);
        if dump_available && !object_id.is_empty() {
            let dump = self.dump_of(&task.id, &object_id);
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
                            .append_pair("dump", &object_id)
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

    /// The whole failure dump of `object` as CSV, chunk by chunk (GET with `dump=`).
    pub async fn dump(&self, task: &TaskId, object: &str) -> Result<Response, Problem> {
        ObjectId::parse(object).map_err(|_| Problem::bad_parameter("dump must be the objectId of a failed step"))?;
        let dump = self.dump_of(task, object);
        let Some(chunks) = self.client.dump_chunks(&dump).await? else {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "dump-expired",
                "Failure dump expired",
                "Anaplan no longer has this failure dump (dumps are deleted 48 hours after last access or after the next error-free run)",
            ));
        };
        let client = self.client.clone();
        let stream = async_stream(client, dump, chunks);
        let mut resp = (StatusCode::OK, axum::body::Body::from_stream(stream)).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        Ok(resp)
    }
}

/// Streams dump chunks in order; an error midway ends the body early (the status line is
/// already sent), and is logged.
fn async_stream(
    client: Client,
    dump: Dump,
    chunks: Vec<String>,
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

/// `wait` from the parameters.
pub fn wait(params: &Params) -> Result<std::time::Duration, Problem> {
    long_running::wait_param(params.get("wait"))
}
