//! `run-integration`: runs a CloudWorks integration or integration flow and follows it with
//! the asynchronous pattern, as `run-process` does for processes: 202 + Location +
//! Retry-After while it runs, `wait`, `Idempotency-Key`, `DELETE` to cancel (polling then
//! ends in 409), a 200 for a successful run and a 422 listing each failed action with a
//! `dumpUrl` for its failure dump (CSV).

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::declare::{
    Answer, DUMP, Function, IDEMPOTENCY_KEY, Input, Object, Operation, Param, RequestBody, TASK_RESPONSES, Trigger,
    WAIT,
};
use crate::anaplan::catalog::pick;
use crate::anaplan::cloudworks::{self, Run, RunState, Runnable};
use crate::anaplan::ids::{FlowId, IntegrationId, ObjectId, ObjectRef, RunId};
use crate::anaplan::{AnaplanError, Client};
use crate::http::idempotency::{self, Claimed};
use crate::http::long_running::{hold, hold_until, status_url, wait_param};
use crate::http::{AppState, Call, Params, Problem};

/// `runId` of a status check or cancellation.
pub const RUN_ID: Param =
    Param::text("runId", "Run ID", "The CloudWorks run's id, from the 'Run ID' of the start action's answer.")
        .advanced();

/// `run-integration`.
pub const FUNCTION: Function = Function {
    name: "run-integration",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST, Method::DELETE], body: RequestBody::Parameters },
    inputs: &[
        Input::Object(Object::Integration),
        Input::Object(Object::Flow),
        Input::Param(WAIT),
        Input::Param(IDEMPOTENCY_KEY),
        Input::Param(RUN_ID),
        Input::Param(
            DUMP.help(
                "With runId, on GET: the actionId of a failed step; answers with that step's failure dump as CSV.",
            ),
        ),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "RunIntegration",
        summary: "Run a CloudWorks integration",
        description: "Runs a CloudWorks integration or integration flow (give exactly one of them) and waits until it \
                      has finished (asynchronous pattern). The action succeeds when the run did; a run that ended \
                      without success makes it fail with 422, listing each failed step with its messages and a link \
                      to its failure dump.",
        important: true,
        consumes: &[],
        produces: TASK_RESPONSES,
        ok: Answer { description: "The run ended successfully.", schema: "IntegrationResult", array: false },
    }),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// The CloudWorks client for this call (the caller's own token with auth method `caller`).
pub fn cloudworks_client(state: &AppState, call: &Call) -> Result<Client, Problem> {
    if state.caller_auth {
        Ok(call.client(state)?.at(&state.cloudworks_settings.url))
    } else {
        Ok(state.cloudworks.clone())
    }
}

/// The integration or flow a request names.
enum Target {
    Integration(ObjectRef<IntegrationId>),
    Flow(ObjectRef<FlowId>),
}

/// What a request asks.
enum Intent {
    Start,
    Status(RunId, Option<ObjectId>),
    Cancel(RunId),
}

struct IntegrationRequest {
    target: Target,
    intent: Intent,
    wait: Duration,
}

impl IntegrationRequest {
    fn parse(call: &Call, params: &Params) -> Result<Self, Problem> {
        let given: Vec<&str> = ["integrationId", "integrationName", "flowId", "flowName"]
            .into_iter()
            .filter(|p| params.get(p).is_some())
            .collect();
        let target = match given.as_slice() {
            [one] if one.starts_with("integration") => Target::Integration(params.object("integration")?),
            [_] => Target::Flow(params.object("flow")?),
            [] => {
                return Err(Problem::bad_parameter(
                    "give exactly one of integrationId, integrationName, flowId or flowName",
                ));
            }
            many => {
                return Err(Problem::bad_parameter(format!(
                    "give exactly one of integrationId, integrationName, flowId or flowName, not {}",
                    many.join(" and ")
                )));
            }
        };
        let run = params.get(RUN_ID.name).map(|r| RunId::parse(r).map_err(|e| Problem::bad_parameter(e.to_string())));
        let intent = match (&call.method, run) {
            (&Method::POST, None) => Intent::Start,
            (&Method::POST, Some(_)) => {
                return Err(Problem::bad_parameter(
                    "runId is for checking (GET) or cancelling (DELETE) a run; POST starts a new one without it",
                ));
            }
            (&Method::GET, Some(r)) => Intent::Status(r?, None),
            (&Method::DELETE, Some(r)) => Intent::Cancel(r?),
            (m, None) => {
                return Err(Problem::bad_parameter(format!(
                    "{m} needs runId: it checks or cancels a run (use the Location URL of the 202 answer); POST starts one"
                )));
            }
            (m, Some(_)) => return Err(Problem::bad_parameter(format!("{m} is not a way to reach a run"))),
        };
        let intent = match (intent, params.get(DUMP.name)) {
            (Intent::Status(r, _), Some(action)) => {
                let action = ObjectId::parse(action)
                    .map_err(|_| Problem::bad_parameter("dump must be the actionId of a failed step"))?;
                Intent::Status(r, Some(action))
            }
            (_, Some(_)) => return Err(Problem::bad_parameter("dump is for GET on a run's status URL")),
            (intent, None) => intent,
        };
        Ok(IntegrationRequest { target, intent, wait: wait_param(params.get(WAIT.name))? })
    }
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = IntegrationRequest::parse(&call, &call.params()?)?;
    let cw = cloudworks_client(state, &call)?;
    let runnable = resolve(&cw, req.target).await?;
    let rc = RunCall { state, call: &call, cw, runnable };
    match req.intent {
        Intent::Start => {
            let run = rc.start_once().await?;
            rc.answer(run, req.wait).await
        }
        Intent::Status(id, Some(action)) => rc.dump(&id, &action).await,
        Intent::Status(id, None) => {
            let run = cloudworks::run(&rc.cw, &id).await?;
            rc.answer(run, req.wait).await
        }
        Intent::Cancel(id) => rc.cancel(&id).await,
    }
}

/// The integration or flow, by id as given or by its exact name.
async fn resolve(cw: &Client, target: Target) -> Result<Runnable, Problem> {
    Ok(match target {
        Target::Integration(ObjectRef::Id(id)) => Runnable::Integration(id),
        Target::Flow(ObjectRef::Id(id)) => Runnable::Flow(id),
        Target::Integration(ObjectRef::Name(name)) => {
            let found = pick("integration", &cloudworks::integrations(cw).await?, &name)?;
            Runnable::Integration(IntegrationId::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()))?)
        }
        Target::Flow(ObjectRef::Name(name)) => {
            let found = pick("flow", &cloudworks::flows(cw).await?, &name)?;
            Runnable::Flow(FlowId::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()))?)
        }
    })
}

/// One call, with its integration or flow resolved.
struct RunCall<'a> {
    state: &'a AppState,
    call: &'a Call,
    cw: Client,
    runnable: Runnable,
}

impl RunCall<'_> {
    fn id_param(&self) -> &'static str {
        match self.runnable {
            Runnable::Integration(_) => "integrationId",
            Runnable::Flow(_) => "flowId",
        }
    }

    fn status_url(&self, run: &RunId) -> Result<String, Problem> {
        status_url(self.call, self.call.function, &[(self.id_param(), self.runnable.id()), ("runId", run.as_str())])
    }

    /// Starts a run, once per `Idempotency-Key`; for a key seen before, that run as it is now.
    async fn start_once(&self) -> Result<Run, Problem> {
        let start = || async {
            let id = cloudworks::start(&self.cw, &self.runnable).await?;
            tracing::info!(run = %id, what = self.runnable.noun(), id = self.runnable.id(), "CloudWorks run started");
            Ok(cloudworks::run(&self.cw, &id).await?)
        };
        let Some(key) = idempotency::key(&self.call.headers)? else { return start().await };
        let store = self.state.state_store().await?;
        // The caller's user (asked of the Integration API, where `users/me` is), not its
        // token: a retry after the caller refreshed its token finds the same record.
        let who = self.state.caller_users.scope(&self.call.client(self.state)?).await?;
        let scope = format!("{who}|{}", self.call.function);
        let name = idempotency::record_name(&scope, &key);
        let fingerprint = idempotency::fingerprint(&[(self.id_param(), self.runnable.id())]);
        // CloudWorks lists no runs by start time to recover a lost start from: say so.
        let recover = |_since: u64, _context: Value| async {
            Err(Problem::new(
                StatusCode::CONFLICT,
                "idempotency-key-uncertain",
                "Cannot tell whether this key started a run",
                "the start with this Idempotency-Key may have reached CloudWorks, but its answer was lost; check the integration's run history in Anaplan and use a new key",
            ))
        };
        let recovery = idempotency::Recovery { recover, context: &|| Value::Null };
        match idempotency::run_once(store, &name, &fingerprint, start, |r: &Run| r.id.as_str().to_owned(), recovery)
            .await?
        {
            Claimed::Started(run) => Ok(run),
            Claimed::Existing(id) => {
                tracing::info!(run = %id, "Idempotency-Key seen before: answering for the run it started");
                let id = RunId::parse(&id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
                Ok(cloudworks::run(&self.cw, &id).await?)
            }
        }
    }

    /// Holds for `wait`, then answers: 202 while running, 409 when cancelled, 200 or 422
    /// once ended.
    async fn answer(&self, run: Run, wait: Duration) -> Result<Response, Problem> {
        let interval = Duration::from_secs(self.state.poll_seconds);
        let until = hold_until(self.call, wait);
        let run = hold(
            run,
            until,
            interval,
            |r| r.state != RunState::Running,
            |r| {
                let id = r.id.clone();
                async move { cloudworks::run(&self.cw, &id).await.map_err(Problem::from) }
            },
        )
        .await?;
        match run.state {
            RunState::Running => Ok(self.accepted(&run)?),
            RunState::Cancelled => Err(cancelled(&run)),
            RunState::Succeeded => {
                let body = json!({
                    "runId": run.id.as_str(),
                    "success": true,
                    "message": run.message,
                    "startDate": run.start_date,
                    "endDate": run.end_date,
                });
                Ok(json_response(StatusCode::OK, &body))
            }
            RunState::Failed => Err(self.failure(&run).await),
        }
    }

    fn accepted(&self, run: &Run) -> Result<Response, Problem> {
        let url = self.status_url(&run.id)?;
        // `taskId`/`taskState` as every 202 of this app has them, plus `runId`.
        let body = json!({ "runId": run.id.as_str(), "taskId": run.id.as_str(), "taskState": run.state.as_str(), "statusUrl": url });
        let mut resp = json_response(StatusCode::ACCEPTED, &body);
        let h = resp.headers_mut();
        h.insert(header::RETRY_AFTER, HeaderValue::from(self.state.poll_seconds));
        if let Ok(v) = HeaderValue::from_str(&url) {
            h.insert(header::LOCATION, v);
        }
        Ok(resp)
    }

    /// 422 for a run that ended without success: each failed action, its messages and a
    /// URL for its dump.
    async fn failure(&self, run: &Run) -> Problem {
        let (errors, note) = match cloudworks::errors(&self.cw, &run.id).await {
            Ok(e) => (e, None),
            Err(e) => (Vec::new(), Some(format!("CloudWorks' run errors could not be read: {e}"))),
        };
        let entries: Vec<Value> = errors
            .iter()
            .map(|e| {
                let dump_url = if e.dump {
                    self.status_url(&run.id).ok().map(|url| {
                        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("dump", &e.action_id).finish();
                        format!("{url}&{q}")
                    })
                } else {
                    None
                };
                json!({ "actionId": e.action_id, "actionName": e.action_name, "messages": e.messages, "dumpUrl": dump_url })
            })
            .collect();
        let message = run.message.clone().unwrap_or_else(|| "the run ended without success".to_owned());
        let mut detail = format!(
            "CloudWorks {} {} run {} ended without success: {message}",
            self.runnable.noun(),
            self.runnable.id(),
            run.id
        );
        if let Some(note) = note {
            detail.push_str(&format!(" ({note})"));
        }
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "run-failed", "CloudWorks ran it and it failed", detail)
            .with("runId", json!(run.id.as_str()))
            .with("success", json!(false))
            .with("message", json!(message))
            .with("startDate", json!(run.start_date))
            .with("endDate", json!(run.end_date))
            .with("errors", Value::Array(entries))
    }

    /// The failure dump of `action` in run `id`, as CSV.
    async fn dump(&self, id: &RunId, action: &ObjectId) -> Result<Response, Problem> {
        match cloudworks::dump(&self.cw, id, action).await? {
            Some(csv) => {
                let mut resp = (StatusCode::OK, csv).into_response();
                resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
                Ok(resp)
            }
            None => Err(Problem::new(
                StatusCode::NOT_FOUND,
                "dump-not-found",
                "No failure dump",
                format!("CloudWorks has no failure dump for action {action} of run {id}"),
            )),
        }
    }

    /// Asks CloudWorks to cancel and answers 202 with the same Location; polling then ends
    /// in 409.
    async fn cancel(&self, id: &RunId) -> Result<Response, Problem> {
        let current = cloudworks::run(&self.cw, id).await?;
        if current.state != RunState::Running {
            return Err(match current.state {
                RunState::Cancelled => cancelled(&current),
                _ => finished(&current),
            });
        }
        match cloudworks::cancel(&self.cw, &self.runnable).await {
            Ok(()) => {}
            // Not running (any more): answer what a poll would now.
            Err(AnaplanError::Api { status: 409, .. }) => {
                let now = cloudworks::run(&self.cw, id).await?;
                return Err(match now.state {
                    RunState::Cancelled => cancelled(&now),
                    RunState::Running => Problem::new(
                        StatusCode::CONFLICT,
                        "run-not-cancellable",
                        "Run cannot be cancelled yet",
                        format!("CloudWorks cannot cancel run {id} yet (it is still queued); try again shortly"),
                    )
                    .with("runId", json!(id.as_str())),
                    _ => finished(&now),
                });
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(run = %id, "CloudWorks cancellation requested");
        let after = cloudworks::run(&self.cw, id).await?;
        match after.state {
            RunState::Running | RunState::Cancelled => self.accepted(&after),
            _ => Err(finished(&after)),
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn cancelled(run: &Run) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "run-cancelled",
        "Run cancelled",
        format!("CloudWorks run {} was cancelled", run.id),
    )
    .with("runId", json!(run.id.as_str()))
    .with("message", json!(run.message))
}

fn finished(run: &Run) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "run-finished",
        "Run already finished",
        format!("CloudWorks run {} already finished; it can no longer be cancelled", run.id),
    )
    .with("runId", json!(run.id.as_str()))
    .with("success", json!(run.state == RunState::Succeeded))
}
