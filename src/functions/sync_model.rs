//! `sync-model`: applies a source model's ALM revision to a target model (Anaplan's sync
//! task), through the asynchronous pattern.
//!
//! POST: `workspace*` and `model*` name the target; `sourceModelId` | `sourceModelName` the
//! source (in the target's workspace unless `sourceWorkspaceId` | `sourceWorkspaceName` says
//! another); `sourceRevisionId` defaults to the source's latest revision, `targetRevisionId`
//! to the target's latest (Anaplan requires all three ids). The sync task starts once per
//! `Idempotency-Key`; the answer is held up to `wait` seconds, then 202 with `Location` (this
//! function's GET with the ids and `taskId`) and `Retry-After`. The final answer is 200
//! `{"taskId", "taskState", "successful", "result"}`; a sync that completed without success a
//! 422 `task-failed` with the same fields and Anaplan's `result` (its `error.title` and
//! `error.messageText`). A DELETE on the status URL is a 409 `task-not-cancellable`: the ALM
//! description documents no cancel for a sync task.

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::idempotency::{self, Claimed, Sending, now_ms};
use crate::http::json_answer;
use crate::http::long_running::{accepted_with, hold, hold_until, status_url, wait_param};
use crate::http::{AppState, Call, ModelRef, Params, Problem, ProblemType};
use crate::machinery::declare::{
    Answer, Function, Group, IDEMPOTENCY_KEY, Input, Object, Operation, Param, RequestBody, Schema, Trigger, WAIT,
};
use crate::machinery::openapi::prop;
use anaplan::AnaplanError;
use anaplan::alm::{AlmTask, ReportKind, RevisionId, SyncRevisions};
use anaplan::ids::{ModelId, WorkspaceId};
use anaplan::untrusted::quote;

/// The function's name (its route).
const NAME: &str = "sync-model";
/// Seconds a caller is asked to wait between polls.
const RETRY_AFTER: u64 = 5;
/// Longest pause between status checks while holding an answer.
const HOLD_INTERVAL: Duration = Duration::from_secs(5);

const SOURCE_MODEL_ID: Param = Param::text(
    "sourceModelId",
    "Source model",
    "The model whose revision is applied (32 uppercase hexadecimal characters), or its name in sourceModelName.",
);
const SOURCE_MODEL_NAME: Param = Param::text("sourceModelName", "Source model name", "The source model's exact name.");
const SOURCE_WORKSPACE_ID: Param = Param::text(
    "sourceWorkspaceId",
    "Source workspace",
    "The source model's workspace, when it is not the target's (32 lowercase hexadecimal characters).",
)
.advanced();
const SOURCE_WORKSPACE_NAME: Param =
    Param::text("sourceWorkspaceName", "Source workspace name", "The source model's workspace, by exact name.")
        .advanced();
const SOURCE_REVISION_ID: Param = Param::text(
    "sourceRevisionId",
    "Source revision",
    "The source revision to apply (32 uppercase hexadecimal characters); default: the source model's latest revision. \
     The list shows the source model's revisions when it is in the target's workspace.",
)
.dropdown("revisions", &[("workspaceId", "workspaceId"), ("modelId", "sourceModelId")])
.advanced();
const TARGET_REVISION_ID: Param = Param::text(
    "targetRevisionId",
    "Target revision",
    "The target model's revision the sync starts from; default: the target model's latest revision.",
)
.dropdown("revisions", &[("workspaceId", "workspaceId"), ("modelId", "modelId")])
.advanced();
const TASK_ID: Param =
    Param::text("taskId", "Task ID", "The sync task's id, as the status URL carries it (GET and DELETE only).");

const REPORT: Param = Param::choice(
    "report",
    &["comparison", "summary"],
    "Dry run report",
    "Instead of syncing, runs Anaplan's comparison or summary report for the same revisions and answers it \
     (dryRun: true): summary as Anaplan's JSON, comparison as its rows.",
)
.advanced();
const FORMAT: Param = Param::choice(
    "format",
    &["json", "csv"],
    "Report format",
    "With report: json (the default) or csv (the comparison's rows, or the summary's totals and differences).",
)
.default("json")
.advanced();

/// `sync-model`.
pub const FUNCTION: Function = Function {
    name: NAME,
    trigger: Trigger::Http { methods: &[Method::POST, Method::GET, Method::DELETE], body: RequestBody::Parameters },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Param(SOURCE_MODEL_ID),
        Input::Param(SOURCE_MODEL_NAME),
        Input::Param(SOURCE_WORKSPACE_ID),
        Input::Param(SOURCE_WORKSPACE_NAME),
        Input::Param(SOURCE_REVISION_ID),
        Input::Param(TARGET_REVISION_ID),
        Input::Param(REPORT),
        Input::Param(FORMAT),
        Input::Param(WAIT.help("Hold the answer up to this many seconds (at most 100) for the sync to finish.")),
        Input::Param(IDEMPOTENCY_KEY),
        Input::Param(TASK_ID),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "SyncModel",
        summary: "Sync a model from a source model's revision (ALM)",
        description: "Applies a source model's revision (default: its latest) to the target model, as Anaplan's ALM \
                      sync does, and waits for the end (asynchronous pattern). A sync that fails answers 422 with \
                      Anaplan's result. Anaplan cannot cancel a sync. Needs the Workspace Administrator role on both \
                      models in Anaplan.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The completed sync.", schema: "SyncResult", array: false },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "SyncResult", build: result_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `#/definitions/SyncResult`.
fn result_schema() -> Value {
    json!({
        "type": "object",
        "description": "An ALM sync task as Anaplan reports it.",
        "properties": {
            "taskId": prop("string", "Task ID", "The sync task's id."),
            "taskState": prop("string", "Task state", "IN_PROGRESS or COMPLETE."),
            "successful": prop("boolean", "Successful", "Whether the sync succeeded."),
            "result": {
                "type": "object",
                "x-ms-summary": "Result",
                "description": "Anaplan's result: successful, and error (title, messageText) when it failed.",
            },
            "statusUrl": prop("string", "Status URL", "While the sync runs (202): where to ask again."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params()?;
    let wait = wait_param(params.get(WAIT.name))?;
    let target = ModelRef::parse(&params)?;
    let task = params.get(TASK_ID.name).map(parse_revision(TASK_ID.name)).transpose()?;
    let report = Report::parse(&params)?;
    if call.method != Method::POST {
        let Some(task) = task else {
            return Err(Problem::bad_parameter(format!(
                "{} is the status URL of a sync: it needs taskId (POST starts a sync)",
                call.method
            )));
        };
        for p in [SOURCE_MODEL_ID, SOURCE_MODEL_NAME, SOURCE_WORKSPACE_ID, SOURCE_WORKSPACE_NAME] {
            if params.get(p.name).is_some() {
                return Err(Problem::bad_parameter(format!("{} is for the start (POST)", p.name)));
            }
        }
        let client = call.client(state)?;
        let (ws, model) = state.model(&client, target).await?;
        if let Some(report) = report {
            let revision = |p: &Param| {
                params.get(p.name).map(parse_revision(p.name)).transpose()?.ok_or_else(|| {
                    Problem::bad_parameter(format!("a report's status URL carries {}, as the start's Location", p.name))
                })
            };
            let job = ReportJob {
                report,
                source_revision: revision(&SOURCE_REVISION_ID)?,
                target_revision: revision(&TARGET_REVISION_ID)?,
            };
            let now = match client.report_task(&model, report.kind, &task).await {
                Err(AnaplanError::Api { status: 404, .. }) => {
                    return Err(Problem::new(
                        ProblemType::TaskNotFound,
                        format!("the model has no {} report task {task}", report.name()),
                    )
                    .with("taskId", json!(task.as_str())));
                }
                other => other?,
            };
            if call.method == Method::DELETE {
                return Err(not_cancellable(&task, &now, "a report task"));
            }
            return finish_report(&call, &client, (&ws, &model), &job, now, wait).await;
        }
        let now = current(&client, &model, &task).await?;
        if call.method == Method::DELETE {
            return Err(not_cancellable(&task, &now, "a sync task"));
        }
        return finish(&call, &client, (&ws, &model), now, wait).await;
    }
    if task.is_some() {
        return Err(Problem::bad_parameter("taskId is for the status URL (GET); POST starts a sync"));
    }
    let source = source_ref(&params, &target)?;
    let source_revision =
        params.get(SOURCE_REVISION_ID.name).map(parse_revision(SOURCE_REVISION_ID.name)).transpose()?;
    let target_revision =
        params.get(TARGET_REVISION_ID.name).map(parse_revision(TARGET_REVISION_ID.name)).transpose()?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, target).await?;
    let (_, source_model) = state.model(&client, source).await?;
    let revisions = SyncRevisions {
        source_revision: match source_revision {
            Some(r) => r,
            None => latest(&client, &source_model, "source").await?,
        },
        target_revision: match target_revision {
            Some(r) => r,
            None => latest(&client, &model, "target").await?,
        },
        source_model,
    };
    if let Some(report) = report {
        // A report changes nothing: started again on a retry, no key needed.
        let task = client.start_report(&model, report.kind, &revisions).await?;
        tracing::info!(task = %task.task_id, "ALM report started");
        let job = ReportJob {
            report,
            source_revision: revisions.source_revision,
            target_revision: revisions.target_revision,
        };
        return finish_report(&call, &client, (&ws, &model), &job, task, wait).await;
    }
    let task = start_once(state, &call, &client, &model, &revisions).await?;
    finish(&call, &client, (&ws, &model), task, wait).await
}

/// The 409 for a DELETE: the ALM description documents no cancel for its tasks.
fn not_cancellable(task: &RevisionId, now: &AlmTask, what: &str) -> Problem {
    Problem::new(
        ProblemType::TaskNotCancellable,
        format!("Anaplan documents no cancel for {what} in ALM: task {task} runs to its end (now {})", now.task_state),
    )
    .with("taskId", json!(task.as_str()))
    .with("taskState", json!(now.task_state))
}

/// A dry run: which report, in which format.
#[derive(Clone, Copy)]
struct Report {
    kind: ReportKind,
    csv: bool,
}

impl Report {
    fn parse(params: &Params) -> Result<Option<Report>, Problem> {
        let format = params.get(FORMAT.name).map(|_| params.choice(&FORMAT)).transpose()?.flatten();
        let kind = match params.choice(&REPORT)? {
            Some("comparison") => ReportKind::Comparison,
            Some(_) => ReportKind::Summary,
            None if format.is_some() => return Err(Problem::bad_parameter("format is for a dry run (report)")),
            None => return Ok(None),
        };
        Ok(Some(Report { kind, csv: format == Some("csv") }))
    }

    fn name(self) -> &'static str {
        match self.kind {
            ReportKind::Comparison => "comparison",
            ReportKind::Summary => "summary",
        }
    }
}

/// A report task's own ids: what its report is fetched by.
struct ReportJob {
    report: Report,
    source_revision: RevisionId,
    target_revision: RevisionId,
}

fn parse_revision(name: &'static str) -> impl Fn(&str) -> Result<RevisionId, Problem> {
    move |s| {
        RevisionId::parse(s).map_err(|_| {
            Problem::bad_parameter(format!("{name} must be 32 uppercase hexadecimal characters; got {}", quote(s)))
        })
    }
}

/// The source model, in the target's workspace unless one is named.
fn source_ref(params: &Params, target: &ModelRef) -> Result<ModelRef, Problem> {
    let has = |p: &Param| params.get(p.name).is_some();
    if !has(&SOURCE_MODEL_ID) && !has(&SOURCE_MODEL_NAME) {
        return Err(Problem::bad_parameter("the source model is required: sourceModelId or sourceModelName"));
    }
    let workspace = if has(&SOURCE_WORKSPACE_ID) || has(&SOURCE_WORKSPACE_NAME) {
        params.object("sourceWorkspace")?
    } else {
        target.workspace.clone()
    };
    Ok(ModelRef { workspace, model: params.object("sourceModel")? })
}

/// A model's latest revision, or the 409 that says it has none.
async fn latest(client: &anaplan::Client, model: &ModelId, which: &str) -> Result<RevisionId, Problem> {
    let Some(r) = client.latest_revision(model).await? else {
        return Err(Problem::new(
            ProblemType::AnaplanConflict,
            format!("the {which} model has no revision: Anaplan syncs from one revision tag to another"),
        ));
    };
    RevisionId::parse(&r.id).map_err(|e| AnaplanError::Protocol(e.to_string()).into())
}

/// The task now; a task of another model or an unknown one is a 404.
async fn current(client: &anaplan::Client, model: &ModelId, task: &RevisionId) -> Result<AlmTask, Problem> {
    match client.sync_task(model, task).await {
        Err(AnaplanError::Api { status: 404, .. }) => Err(Problem::new(
            ProblemType::TaskNotFound,
            format!("the model has no sync task {task}: a status URL's ids must be those of the start's Location"),
        )
        .with("taskId", json!(task.as_str()))),
        other => Ok(other?),
    }
}

/// Starts the sync, once per `Idempotency-Key`; for a key seen before, that sync as it is now.
async fn start_once(
    state: &AppState,
    call: &Call,
    client: &anaplan::Client,
    model: &ModelId,
    revisions: &SyncRevisions,
) -> Result<AlmTask, Problem> {
    let start = |sending: Sending| async move {
        sending.mark(json!({ "sinceMs": now_ms() })).await?;
        let task = client.start_sync(model, revisions).await?;
        tracing::info!(task = %task.task_id, "model sync started");
        Ok(task)
    };
    let Some(key) = idempotency::key(&call.headers)? else { return start(Sending::none()).await };
    let store = state.state_store().await?;
    let who = state.caller_users.scope(client).await?;
    let name = idempotency::record_name(&format!("{who}|{}", call.function), &key);
    let fingerprint = idempotency::fingerprint(&[
        ("modelId", model.as_str()),
        ("sourceModelId", revisions.source_model.as_str()),
        ("sourceRevisionId", revisions.source_revision.as_str()),
        ("targetRevisionId", revisions.target_revision.as_str()),
    ]);
    // A start of this key that was sent and never recorded its task: the sync tasks of the
    // model created since then tell what it made (one: that one; none: nothing).
    let recover = |since: u64, _context: Value| async move {
        let tasks = client.sync_tasks(model).await?;
        let since_ms = since.saturating_sub(crate::machinery::task_call::LOST_START_BEFORE_MS);
        let made: Vec<&AlmTask> = tasks
            .iter()
            .filter(|t| {
                t.other.get("creationTime").and_then(Value::as_str).and_then(unix_ms).is_none_or(|ms| ms >= since_ms)
            })
            .collect();
        match made.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.task_id.clone())),
            _ => Err(Problem::new(
                ProblemType::IdempotencyKeyUncertainTask,
                format!(
                    "the sync with this Idempotency-Key may have reached Anaplan, but its answer was lost, and {} \
                     sync tasks of the model began around then; check in Anaplan and use a new key",
                    made.len()
                ),
            )),
        }
    };
    let recovery = idempotency::Recovery { recover };
    match idempotency::run_once(
        store,
        &name,
        &fingerprint,
        call.deadline,
        start,
        |t: &AlmTask| t.task_id.clone(),
        recovery,
    )
    .await?
    {
        Claimed::Started(task) => Ok(task),
        Claimed::Existing(id) => {
            tracing::info!(task = %id, "Idempotency-Key seen before: answering for the sync it started");
            let id = RevisionId::parse(&id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
            Ok(client.sync_task(model, &id).await?)
        }
    }
}

/// Unix milliseconds of an ISO 8601 date-time.
fn unix_ms(s: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Holds up to `wait` for the end; the final answer, or 202 with the status URL.
async fn finish(
    call: &Call,
    client: &anaplan::Client,
    (ws, model): (&WorkspaceId, &ModelId),
    task: AlmTask,
    wait: Duration,
) -> Result<Response, Problem> {
    let until = hold_until(call, wait);
    let id = RevisionId::parse(&task.task_id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
    let task =
        hold(task, until, HOLD_INTERVAL, AlmTask::is_complete, |_| async { Ok(client.sync_task(model, &id).await?) })
            .await?;
    let body = json!({
        "taskId": task.task_id,
        "taskState": task.task_state,
        "successful": task.successful(),
        "result": task.result,
    });
    if !task.is_complete() {
        let url = status_url(
            call,
            NAME,
            &[("workspaceId", ws.as_str()), ("modelId", model.as_str()), ("taskId", id.as_str())],
        )?;
        let mut body = body;
        body["statusUrl"] = json!(url);
        body.as_object_mut().map(|b| b.remove("successful"));
        return Ok(accepted_with(&url, RETRY_AFTER, body));
    }
    if !task.successful() {
        let error = task.result.as_ref().and_then(|r| r.get("error"));
        let say = |k: &str| error.and_then(|e| e.get(k)).and_then(Value::as_str).unwrap_or("").to_owned();
        let (title, message) = (say("title"), say("messageText"));
        let mut p = Problem::new(
            ProblemType::TaskFailed,
            format!("Anaplan ran the sync {} and it failed: {}: {}", task.task_id, quote(&title), quote(&message)),
        );
        for (k, v) in body.as_object().into_iter().flatten() {
            p = p.with(k, v.clone());
        }
        return Err(p);
    }
    Ok(crate::http::json_answer(StatusCode::OK, &body))
}

/// Holds up to `wait` for a report task; then its report (dryRun), 422 when the task failed,
/// or 202 with a status URL that carries the revisions the report is fetched by.
async fn finish_report(
    call: &Call,
    client: &anaplan::Client,
    (ws, model): (&WorkspaceId, &ModelId),
    job: &ReportJob,
    task: AlmTask,
    wait: Duration,
) -> Result<Response, Problem> {
    let until = hold_until(call, wait);
    let kind = job.report.kind;
    let id = RevisionId::parse(&task.task_id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
    let task = hold(task, until, HOLD_INTERVAL, AlmTask::is_complete, |_| async {
        Ok(client.report_task(model, kind, &id).await?)
    })
    .await?;
    if !task.is_complete() {
        let mut q = vec![
            ("workspaceId", ws.as_str()),
            ("modelId", model.as_str()),
            ("taskId", id.as_str()),
            ("report", job.report.name()),
            ("sourceRevisionId", job.source_revision.as_str()),
            ("targetRevisionId", job.target_revision.as_str()),
        ];
        if job.report.csv {
            q.push(("format", "csv"));
        }
        let url = status_url(call, NAME, &q)?;
        let body = json!({ "taskId": task.task_id, "taskState": task.task_state, "dryRun": true, "statusUrl": url });
        return Ok(accepted_with(&url, RETRY_AFTER, body));
    }
    if !task.successful() {
        let message = task
            .result
            .as_ref()
            .and_then(|r| r.get("error"))
            .and_then(|e| e.get("messageText"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        return Err(Problem::new(
            ProblemType::TaskFailed,
            format!("Anaplan ran the {} report {} and it failed: {}", job.report.name(), task.task_id, quote(&message)),
        )
        .with("taskId", json!(task.task_id))
        .with("taskState", json!(task.task_state))
        .with("successful", json!(false))
        .with("result", json!(task.result)));
    }
    let (target, source) = (&job.target_revision, &job.source_revision);
    let head = json!({
        "dryRun": true,
        "report": job.report.name(),
        "taskId": task.task_id,
        "sourceRevisionId": source.as_str(),
        "targetRevisionId": target.as_str(),
    });
    match kind {
        ReportKind::Summary => {
            let summary = client.summary_report(model, target, source).await?;
            if job.report.csv {
                return Ok(csv_response(&summary_rows(&summary)));
            }
            let mut body = head;
            if let (Some(b), Some(s)) = (body.as_object_mut(), summary.as_object()) {
                b.extend(s.clone());
            }
            Ok(json_answer(StatusCode::OK, &body))
        }
        ReportKind::Comparison => {
            let tsv = client.comparison_report(model, target, source).await?;
            let rows: Vec<Vec<String>> =
                String::from_utf8_lossy(&tsv).lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect();
            if job.report.csv {
                return Ok(csv_response(&rows));
            }
            let mut body = head;
            body["rows"] = json!(rows);
            Ok(json_answer(StatusCode::OK, &body))
        }
    }
}

/// The summary as rows: `category,change,count` (the totals under `totals`).
fn summary_rows(summary: &Value) -> Vec<Vec<String>> {
    let report = summary.get("summaryReport").unwrap_or(summary);
    let mut rows = vec![vec!["category".to_owned(), "change".to_owned(), "count".to_owned()]];
    let mut add = |category: &str, counts: &Value| {
        for (change, n) in counts.as_object().into_iter().flatten() {
            if n.is_number() {
                rows.push(vec![category.to_owned(), change.clone(), n.to_string()]);
            }
        }
    };
    add("totals", &report["totals"]);
    for (category, counts) in report["differences"].as_object().into_iter().flatten() {
        add(category, counts);
    }
    rows
}

/// RFC 4180 CSV of `rows`.
fn csv_response(rows: &[Vec<String>]) -> Response {
    let field = |f: &String| {
        if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.clone() }
    };
    let text: String = rows.iter().map(|r| r.iter().map(field).collect::<Vec<_>>().join(",") + "\r\n").collect();
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_as_csv_rows_has_totals_then_each_category() {
        let summary = json!({"summaryReport": {"totals": {"created": 3, "deleted": 0},
            "differences": {"lists": {"created": 1}, "modules": {"created": 1, "detail": "x"}}}});
        let rows = summary_rows(&summary);
        assert_eq!(rows[0], ["category", "change", "count"]);
        assert_eq!(rows[1..].len(), 4, "{rows:?}");
        assert!(rows.contains(&vec!["lists".into(), "created".into(), "1".into()]));
    }

    #[test]
    fn the_connector_offers_no_cancel_for_a_sync() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/sync-model"];
        assert_eq!(path["post"]["operationId"], "SyncModel");
        assert!(path["get"].is_object() && path.get("delete").is_none(), "{path}");
        let params = path["get"]["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "taskId" && p["required"] == true));
        let start = path["post"]["parameters"].as_array().unwrap();
        let source = start.iter().find(|p| p["name"] == "sourceRevisionId").unwrap();
        assert_eq!(
            source["x-ms-dynamic-values"]["parameters"],
            json!({"kind": "revisions", "workspaceId": {"parameter": "workspaceId"}, "modelId": {"parameter": "sourceModelId"}}),
            "the source model's revisions feed the dropdown"
        );
    }
}
