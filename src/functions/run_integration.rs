//! `run-integration`: runs a CloudWorks integration or integration flow and follows it with
//! the asynchronous pattern, as `run-process` does for processes: 202 + Location +
//! Retry-After while it runs, `wait`, `Idempotency-Key`, `DELETE` to cancel (polling then
//! ends in 409), a 200 for a successful run and a 422 listing each failed action with a
//! `dumpUrl` for its failure dump (CSV).

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::idempotency::{self, Claimed, Sending, now_ms};
use crate::http::json_answer;
use crate::http::long_running::{hold, hold_until, status_url, wait_param};
use crate::http::{AppState, Call, Params, Problem, ProblemType};
use crate::machinery::declare::{
    Answer, DUMP, Function, Group, IDEMPOTENCY_KEY, Input, Object, Operation, Param, RequestBody, Schema,
    TASK_RESPONSES, Trigger, WAIT,
};
use crate::machinery::openapi::successful;
use crate::machinery::task_call::{
    FINISH_MARGIN, LEAST_START, LOST_START_AFTER_MS, LOST_START_BEFORE_MS, START_MARGIN, no_time_to_start,
};
use anaplan::catalog::pick;
use anaplan::cloudworks::{self, Run, RunState, Runnable};
use anaplan::ids::{FlowId, IntegrationId, ObjectId, ObjectRef, RunId};
use anaplan::{AnaplanError, Client};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

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
    more_operations: &[],
    schemas: &[Schema { name: "IntegrationResult", build: integration_result_schema }],
    group: Some(Group::CloudWorks),
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

/// `#/definitions/IntegrationResult`: a run that ended successfully.
fn integration_result_schema() -> Value {
    json!({
        "type": "object",
        "description": "A CloudWorks integration or flow run that ended successfully.",
        "properties": {
            "runId": { "type": "string", "x-ms-summary": "Run ID", "description": "The CloudWorks run's id." },
            "success": successful("Always true here; a run that ended without success is a 422 problem."),
            "message": { "type": "string", "x-ms-summary": "Message", "description": "CloudWorks' message about the run." },
            "startDate": { "type": "string", "x-ms-summary": "Start date", "description": "When the run started, as CloudWorks reports it." },
            "endDate": { "type": "string", "x-ms-summary": "End date", "description": "When the run ended, as CloudWorks reports it." },
        },
    })
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
        Intent::Status(id, Some(action)) => {
            rc.owned_run(&id).await?;
            rc.dump(&id, &action).await
        }
        Intent::Status(id, None) => match tokio::time::timeout_at(rc.finish_by(), rc.owned_run(&id)).await {
            Ok(run) => rc.answer(run?, req.wait).await,
            // CloudWorks did not answer the status check in time: the same Location.
            Err(_) => rc.accepted_unknown(&id),
        },
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

    /// When work after a run's end must have given its answer (see [`FINISH_MARGIN`]).
    fn finish_by(&self) -> Instant {
        self.call.deadline.checked_sub(FINISH_MARGIN).unwrap_or(self.call.received).max(self.call.received)
    }

    /// Run `id` of this integration or flow: a status URL whose `runId` belongs to another
    /// one is a 404, for status checks, dumps and cancellations alike (a cancellation
    /// names the integration, not the run, so it must never follow another's run).
    async fn owned_run(&self, id: &RunId) -> Result<Run, Problem> {
        let run = cloudworks::run(&self.cw, id).await?;
        if run.belongs_to(&self.runnable) {
            return Ok(run);
        }
        Err(Problem::new(
            ProblemType::RunNotFound,
            format!(
                "run {id} is not a run of {} {}: a status URL's ids must be those of the start's Location",
                self.runnable.noun(),
                self.runnable.id()
            ),
        )
        .with("runId", json!(id.as_str())))
    }

    /// Starts a run, once per `Idempotency-Key`; for a key seen before, that run as it is now.
    async fn start_once(&self) -> Result<Run, Problem> {
        let start = |sending: Sending| async move { self.start_run(&sending).await };
        let Some(key) = idempotency::key(&self.call.headers)? else { return start(Sending::none()).await };
        let store = self.state.state_store().await?;
        // The caller's user (asked of the Integration API, where `users/me` is), not its
        // token: a retry after the caller refreshed its token finds the same record.
        let who = self.state.caller_users.scope(&self.call.client(self.state)?).await?;
        let scope = format!("{who}|{}", self.call.function);
        let name = idempotency::record_name(&scope, &key);
        let fingerprint = idempotency::fingerprint(&[(self.id_param(), self.runnable.id())]);
        // A start of this key that was sent and never recorded its run: the run it made,
        // looked for in the integration's run history before anything starts.
        let recover = |since: u64, context: Value| async move {
            let before =
                serde_json::from_value(context).unwrap_or(BeforeRun { since_ms: since, latest_start_ms: None });
            let uncertain = |seen: String| {
                Problem::new(
                    ProblemType::IdempotencyKeyUncertainRun,
                    format!(
                        "the start with this Idempotency-Key may have reached CloudWorks, but its answer was lost, and {seen}; check in CloudWorks and use a new key"
                    ),
                )
            };
            match self.find_run(&before).await? {
                FoundRun::None => Ok(None),
                FoundRun::One(id) => Ok(Some(id.as_str().to_owned())),
                other => Err(uncertain(other.seen(&self.runnable))),
            }
        };
        let recovery = idempotency::Recovery { recover };
        let deadline = self.call.deadline;
        match idempotency::run_once(
            store,
            &name,
            &fingerprint,
            deadline,
            start,
            |r: &Run| r.id.as_str().to_owned(),
            recovery,
        )
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

    /// What a start knows before it is sent: when, and when the latest run of the
    /// integration or flow began (CloudWorks runs one at a time, so a run that began after
    /// it is a new one).
    async fn before(&self) -> Result<BeforeRun, Problem> {
        let latest_start_ms = match &self.runnable {
            Runnable::Integration(id) => cloudworks::latest_run_start(&self.cw, id).await?,
            Runnable::Flow(id) => cloudworks::latest_flow_run_start(&self.cw, id).await?,
        };
        Ok(BeforeRun { since_ms: now_ms(), latest_start_ms })
    }

    /// The runs that began around a start whose answer was lost, after the latest run
    /// before it: from the integration's run history. A flow has no run history, only its
    /// latest run's start date, so a flow's run can be seen but not named.
    async fn find_run(&self, before: &BeforeRun) -> Result<FoundRun, Problem> {
        let (from, to) = (before.since_ms.saturating_sub(LOST_START_BEFORE_MS), before.since_ms + LOST_START_AFTER_MS);
        let new = |start: Option<u64>| {
            start.is_some_and(|s| (from..=to).contains(&s) && before.latest_start_ms.is_none_or(|l| s > l))
        };
        let id = match &self.runnable {
            Runnable::Integration(id) => id,
            Runnable::Flow(flow) => {
                let latest = cloudworks::latest_flow_run_start(&self.cw, flow).await?;
                return Ok(FoundRun::Flow(latest.filter(|s| new(Some(*s)))));
            }
        };
        let mut found: Vec<RunId> = Vec::new();
        for r in cloudworks::run_history(&self.cw, id).await? {
            if new(r.start_ms) && !found.contains(&r.id) {
                found.push(r.id);
            }
        }
        Ok(match found.len() {
            0 => FoundRun::None,
            1 => FoundRun::One(found.remove(0)),
            _ => FoundRun::Several(found),
        })
    }

    /// Sends the start within this answer's time; a start whose answer is lost is looked
    /// for in the run history (see [`RunCall::find_run`]) and answered as the start would
    /// have been, or, when that cannot tell, with a 409 that says it may have happened.
    async fn start_run(&self, sending: &Sending) -> Result<Run, Problem> {
        let start_by = self.call.deadline.checked_sub(START_MARGIN).unwrap_or(self.call.received);
        let before = self.before().await?;
        if start_by.saturating_duration_since(Instant::now()) < LEAST_START {
            return Err(no_time_to_start());
        }
        sending.mark(json!(before)).await?;
        let cause = match tokio::time::timeout_at(start_by, cloudworks::start(&self.cw, &self.runnable)).await {
            Ok(Ok(id)) => {
                tracing::info!(run = %id, what = self.runnable.noun(), id = self.runnable.id(), "CloudWorks run started");
                return Ok(self.first_look(id).await);
            }
            Ok(Err(e)) => {
                let problem = Problem::from(e);
                if !problem.not_repeated() {
                    return Err(problem);
                }
                problem.body()["detail"].as_str().unwrap_or_default().to_owned()
            }
            Err(_) => "CloudWorks did not answer the start in this answer's time".to_owned(),
        };
        tracing::warn!(
            what = self.runnable.noun(),
            id = self.runnable.id(),
            "a run start's answer was lost; looking for its run"
        );
        let by = self.call.deadline.checked_sub(FINISH_MARGIN / 2).unwrap_or(start_by).max(start_by);
        let found = match tokio::time::timeout_at(by, self.find_run(&before)).await {
            Ok(Ok(found)) => found,
            Ok(Err(p)) => FoundRun::Unknown(p.body()["detail"].as_str().unwrap_or_default().to_owned()),
            Err(_) => FoundRun::Unknown("the run history was not read in time".to_owned()),
        };
        if let FoundRun::One(id) = found {
            tracing::info!(run = %id, "the lost start did start: answering for its run");
            return Ok(self.first_look(id).await);
        }
        let keyed = idempotency::key(&self.call.headers).ok().flatten().is_some();
        let advice = if keyed {
            "; a retry with the same Idempotency-Key looks for the run first, and starts one only if none appeared"
        } else {
            "; an Idempotency-Key on the start lets a retry find the run instead of starting a second one"
        };
        let mut problem = Problem::new(ProblemType::StartUncertain, format!(
                "the start of {} {} was sent to CloudWorks but its answer was lost ({cause}), and {}: it may or may not be running. Check in CloudWorks before running it again{advice}",
                self.runnable.noun(),
                self.runnable.id(),
                found.seen(&self.runnable),
            ),
        )
        .with("notRepeated", json!(true));
        if let FoundRun::Several(ids) = &found {
            problem = problem.with("candidates", json!(ids.iter().map(RunId::as_str).collect::<Vec<_>>()));
        }
        Err(problem)
    }

    /// A run just started, as its first status check shows it; a check that fails or is
    /// late does not lose the run's id (it is answered as running).
    async fn first_look(&self, id: RunId) -> Run {
        match tokio::time::timeout_at(self.finish_by(), cloudworks::run(&self.cw, &id)).await {
            Ok(Ok(run)) => run,
            _ => Run::started(id),
        }
    }

    /// 202 for a run whose status CloudWorks did not tell in this answer's time.
    fn accepted_unknown(&self, id: &RunId) -> Result<Response, Problem> {
        let mut resp = self.accepted(&Run::started(id.clone()))?;
        let body = json!({ "runId": id.as_str(), "taskId": id.as_str(), "taskState": "UNKNOWN", "statusUrl": self.status_url(id)? });
        *resp.body_mut() = axum::body::Body::from(body.to_string());
        Ok(resp)
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
                Ok(json_answer(StatusCode::OK, &body))
            }
            RunState::Failed => match tokio::time::timeout_at(self.finish_by(), self.failure(&run)).await {
                Ok(problem) => Err(problem),
                // Its errors were not read in this answer's time: the next poll gives them.
                Err(_) => self.accepted(&run),
            },
        }
    }

    fn accepted(&self, run: &Run) -> Result<Response, Problem> {
        let url = self.status_url(&run.id)?;
        // `taskId`/`taskState` as every 202 of this app has them, plus `runId`.
        let body = json!({ "runId": run.id.as_str(), "taskId": run.id.as_str(), "taskState": run.state.as_str(), "statusUrl": url });
        let mut resp = json_answer(StatusCode::ACCEPTED, &body);
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
            "CloudWorks {} {} run {} ended without success: {}",
            self.runnable.noun(),
            self.runnable.id(),
            run.id,
            anaplan::untrusted::quote(&message)
        );
        if let Some(note) = note {
            detail.push_str(&format!(" ({note})"));
        }
        Problem::new(ProblemType::RunFailed, detail)
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
                ProblemType::DumpNotFound,
                format!("CloudWorks has no failure dump for action {action} of run {id}"),
            )),
        }
    }

    /// Asks CloudWorks to cancel and answers 202 with the same Location; polling then ends
    /// in 409.
    async fn cancel(&self, id: &RunId) -> Result<Response, Problem> {
        let current = self.owned_run(id).await?;
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
                        ProblemType::RunNotCancellable,
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

/// What a run start knew before it was sent (kept with an `Idempotency-Key`'s record).
#[derive(Debug, Serialize, Deserialize)]
struct BeforeRun {
    /// When it was about to be sent (our clock, unix ms).
    #[serde(rename = "sinceMs")]
    since_ms: u64,
    /// When the latest run before it began (CloudWorks' clock, unix ms), if any.
    #[serde(rename = "latestStartMs")]
    latest_start_ms: Option<u64>,
}

/// What CloudWorks shows of a start whose answer was lost.
enum FoundRun {
    /// No new run.
    None,
    /// This new run.
    One(RunId),
    /// These new runs, too many to tell.
    Several(Vec<RunId>),
    /// A flow: when its latest run began, if that was after the start was sent.
    Flow(Option<u64>),
    /// CloudWorks could not be asked: why.
    Unknown(String),
}

impl FoundRun {
    /// What was seen, for a problem's detail.
    fn seen(&self, what: &Runnable) -> String {
        match self {
            FoundRun::None | FoundRun::Flow(None) => format!("no new run of the {} has appeared", what.noun()),
            FoundRun::One(id) => format!("run {id} began then"),
            FoundRun::Several(ids) => format!(
                "{} new runs began then ({})",
                ids.len(),
                ids.iter().map(RunId::as_str).collect::<Vec<_>>().join(", ")
            ),
            FoundRun::Flow(Some(ms)) => format!(
                "CloudWorks shows a run of the flow that began after it was sent ({} ms after the epoch), but names no run id for a flow: find it in the flow's runs in CloudWorks",
                ms
            ),
            FoundRun::Unknown(why) => format!("its runs could not be read ({why})"),
        }
    }
}

fn cancelled(run: &Run) -> Problem {
    Problem::new(ProblemType::RunCancelled, format!("CloudWorks run {} was cancelled", run.id))
        .with("runId", json!(run.id.as_str()))
        .with("message", json!(run.message))
}

fn finished(run: &Run) -> Problem {
    Problem::new(
        ProblemType::RunFinished,
        format!("CloudWorks run {} already finished; it can no longer be cancelled", run.id),
    )
    .with("runId", json!(run.id.as_str()))
    .with("success", json!(run.state == RunState::Succeeded))
}
