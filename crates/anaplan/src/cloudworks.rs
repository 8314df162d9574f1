//! CloudWorks, Anaplan's own integration service (API v2.0): integrations and integration
//! flows, their runs, run errors and failure dumps, and Azure Blob connections. The client
//! is an ordinary [`Client`] pointed at the CloudWorks base URL ([`Client::at`]), so it
//! shares the tenant's credentials, retries and connection pool.
//!
//! Several shapes are documented only by third parties (marked ~ in the reference); where
//! two readings exist this module accepts both, as noted on each item.

use reqwest::Method;
use serde_json::{Value, json};

use super::catalog::Named;
use super::error::AnaplanError;
use super::ids::{FlowId, IntegrationId, InvalidId, ObjectId, RunId};
use super::{ApiRequest, Client};
use crate::secret::Secret;

/// Something CloudWorks can run: an integration or an integration flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runnable {
    /// An integration (import, export or process).
    Integration(IntegrationId),
    /// An integration flow.
    Flow(FlowId),
}

impl Runnable {
    /// The collection it lives in (`integrations` or `integrationflows`).
    fn collection(&self) -> &'static str {
        match self {
            Runnable::Integration(_) => "integrations",
            Runnable::Flow(_) => "integrationflows",
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        match self {
            Runnable::Integration(i) => i.as_str(),
            Runnable::Flow(f) => f.as_str(),
        }
    }

    /// `integration` or `flow`, in messages.
    pub fn noun(&self) -> &'static str {
        match self {
            Runnable::Integration(_) => "integration",
            Runnable::Flow(_) => "flow",
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Not ended: no `endDate` yet (`success` is `false`, or absent, until then).
    Running,
    /// Ended with `success: true`.
    Succeeded,
    /// Ended without success.
    Failed,
    /// Ended without success with the message `Cancelled`, a value the description
    /// documents for a run's `message`.
    Cancelled,
}

impl RunState {
    /// The state's word in answers (`RUNNING`, `SUCCEEDED`, `FAILED`, `CANCELLED`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "RUNNING",
            RunState::Succeeded => "SUCCEEDED",
            RunState::Failed => "FAILED",
            RunState::Cancelled => "CANCELLED",
        }
    }
}

/// A run as CloudWorks reports it.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// Where it is.
    pub state: RunState,
    /// CloudWorks' message (none while running).
    pub message: Option<String>,
    /// When it started.
    pub start_date: Option<String>,
    /// When it ended.
    pub end_date: Option<String>,
    /// `integrationId`: the integration it is a run of (documented on a run's status).
    pub integration_id: Option<String>,
    /// `flowGroupId`: the flow that ran it (documented; null when no flow did).
    pub flow_group_id: Option<String>,
}

/// The `message` CloudWorks documents for a cancelled run (`RunRecord.message` and
/// `latestRun.message`: "Success", "Cancelled", "Process failed", ...).
const CANCELLED: &str = "Cancelled";

impl Run {
    /// Reads `run` of `GET /integrations/run/{runId}` (the description's `RunStatus`).
    ///
    /// `success` is a plain boolean there, `false` until the run ends well, so it cannot
    /// tell a running run from a failed one: only `endDate` says that a run ended. A run
    /// without `endDate` is running whatever `success` says (`false`, `null` or absent),
    /// except `success: true`, which only a run that ended well has. An ended run without
    /// success is cancelled when its message is exactly `Cancelled` (documented), failed
    /// otherwise. CloudWorks documents no status field of its own for a run.
    fn from_json(id: RunId, v: &Value) -> Run {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let success = v.get("success").and_then(Value::as_bool) == Some(true);
        let end_date = match v.get("endDate") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let message = text("message").filter(|m| !m.is_empty());
        let state = match (success, &end_date) {
            (true, _) => RunState::Succeeded,
            (false, None) => RunState::Running,
            (false, Some(_)) if message.as_deref().is_some_and(|m| m.trim().eq_ignore_ascii_case(CANCELLED)) => {
                RunState::Cancelled
            }
            (false, Some(_)) => RunState::Failed,
        };
        // While it runs, CloudWorks' message only says so ("Running"); it is no outcome.
        let message = if state == RunState::Running { None } else { message };
        let id_of = |k: &str| listed_id(v, &[k]);
        Run {
            id,
            state,
            message,
            start_date: text("startDate"),
            end_date,
            integration_id: id_of("integrationId"),
            flow_group_id: id_of("flowGroupId"),
        }
    }

    /// A run of nothing yet known but its id, just started (its first status check did
    /// not answer): running.
    pub fn started(id: RunId) -> Run {
        Run {
            id,
            state: RunState::Running,
            message: None,
            start_date: None,
            end_date: None,
            integration_id: None,
            flow_group_id: None,
        }
    }

    /// Whether this is a run of `what`. An integration's run names it in `integrationId`
    /// (documented, and live-confirmed). What a flow's run names is not documented: the
    /// flow in `flowGroupId` ("the integration flow that triggered this run"), or in
    /// `integrationId`; either is accepted. A run that names neither is not `what`'s.
    pub fn belongs_to(&self, what: &Runnable) -> bool {
        let id = Some(what.id());
        match what {
            Runnable::Integration(_) => self.integration_id.as_deref() == id,
            Runnable::Flow(_) => self.flow_group_id.as_deref() == id || self.integration_id.as_deref() == id,
        }
    }
}

/// A run in an integration's run history (`RunRecord`): its id and when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// The run's id.
    pub id: RunId,
    /// `startDate`, in unix milliseconds.
    pub start_ms: Option<u64>,
}

/// An ISO 8601 time as CloudWorks writes run dates (`2026-06-19T01:30:16.000Z`), or a
/// number of seconds or milliseconds since the epoch, as unix milliseconds.
pub fn time_ms(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => {
            let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
            u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
        }
        // `lastRun` is in seconds; a number that large is milliseconds.
        Value::Number(n) => n.as_u64().map(|n| if n < 100_000_000_000 { n * 1000 } else { n }),
        _ => None,
    }
}

/// The failure of one action of a run (`GET /integrations/runerror/{runId}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// The Anaplan action (import, export, process step) that failed.
    pub action_id: String,
    /// Its name.
    pub action_name: Option<String>,
    /// CloudWorks' messages for it.
    pub messages: Vec<String>,
    /// Whether CloudWorks says it left a failure dump.
    pub dump: bool,
}

/// A connection id: CloudWorks shows 32 hex characters; letters, digits and `-` (a UUID's
/// form) are accepted, nothing that could change a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionId(String);

impl ConnectionId {
    /// Parses a connection id.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Ok(ConnectionId(s.to_owned()))
        } else {
            Err(InvalidId {
                kind: "connectionId",
                expected: "letters, digits and '-' (a CloudWorks connection id)",
                got: s.chars().take(64).collect(),
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An Azure Blob connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobConnection {
    /// Its id.
    pub id: ConnectionId,
    /// Its name.
    pub name: String,
    /// The storage account CloudWorks reads and writes.
    pub storage_account: String,
    /// The container.
    pub container: String,
}

/// A field of `v`, read from `v.body` first and then from `v` itself (the reference shows
/// connection details under `body`; some answers flatten them ~).
fn field(v: &Value, names: &[&str]) -> Option<String> {
    for scope in [v.get("body"), Some(v)].into_iter().flatten() {
        for n in names {
            if let Some(s) = scope.get(*n).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                return Some(s.to_owned());
            }
        }
    }
    None
}

/// The id of a listed object: `integrationId`, `flowId`, `id` or `connectionId`.
fn listed_id(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn protocol(what: &str, e: impl std::fmt::Display) -> AnaplanError {
    AnaplanError::Protocol(format!("CloudWorks {what}: {e}"))
}

fn is_not_found(e: &AnaplanError) -> bool {
    matches!(e, AnaplanError::Api { status: 404, .. })
}

/// Every integration, as id and name.
pub async fn integrations(cw: &Client) -> Result<Vec<Named>, AnaplanError> {
    let items: Vec<Value> = cw.list(ApiRequest::get(["integrations"]), "integrations").await?;
    Ok(items
        .iter()
        .filter_map(|v| {
            Some(Named { id: listed_id(v, &["integrationId", "id"])?, name: field(v, &["name"]).unwrap_or_default() })
        })
        .collect())
}

/// Every integration flow, as id and name: `integrationFlows[{id, name, ...}]` (the key and
/// `id` are live-confirmed; `flowId`/`integrationFlowId` are still accepted as the id).
pub async fn flows(cw: &Client) -> Result<Vec<Named>, AnaplanError> {
    let items: Vec<Value> = cw.list(ApiRequest::get(["integrationflows"]), "integrationFlows").await?;
    Ok(items
        .iter()
        .filter_map(|v| {
            Some(Named {
                id: listed_id(v, &["id", "flowId", "integrationFlowId"])?,
                name: field(v, &["name"]).unwrap_or_default(),
            })
        })
        .collect())
}

/// Starts a run (`POST /{integrations|integrationflows}/{id}/run` with `{}`).
pub async fn start(cw: &Client, what: &Runnable) -> Result<RunId, AnaplanError> {
    let req = ApiRequest::get([what.collection(), what.id(), "run"]).method(Method::POST).json(json!({}));
    let v: Value = cw.json(req).await?;
    // `run.id` (reference, SDK); a top-level `runId` or `id` is accepted too.
    let id =
        v.pointer("/run/id").or_else(|| v.get("runId")).or_else(|| v.get("id")).and_then(Value::as_str).ok_or_else(
            || protocol("run start", format!("no run id in {}", crate::untrusted::quote(&v.to_string()))),
        )?;
    RunId::parse(id).map_err(|e| protocol("run start", e))
}

/// When the latest run of integration `id` started (`latestRun.startDate` of
/// `GET /integrations/{id}`), in unix milliseconds; `None` when it never ran.
pub async fn latest_run_start(cw: &Client, id: &IntegrationId) -> Result<Option<u64>, AnaplanError> {
    let v: Value = cw.json(ApiRequest::get(["integrations", id.as_str()])).await?;
    let latest = v.pointer("/integration/latestRun").or_else(|| v.get("latestRun"));
    Ok(latest.and_then(|l| l.get("startDate")).and_then(time_ms))
}

/// When the latest run of flow `id` started (`latestRun.startDate` of
/// `GET /integrationflows/{id}`), in unix milliseconds; `None` when it never ran.
pub async fn latest_flow_run_start(cw: &Client, id: &FlowId) -> Result<Option<u64>, AnaplanError> {
    let v: Value = cw.json(ApiRequest::get(["integrationflows", id.as_str()])).await?;
    let latest = v.pointer("/integrationFlow/latestRun").or_else(|| v.get("latestRun"));
    Ok(latest.and_then(|l| l.get("startDate")).and_then(time_ms))
}

/// The run history of integration `id` (`GET /integrations/runs/{id}`, every page):
/// `history_of_runs.runs`, in the order CloudWorks gives them.
pub async fn run_history(cw: &Client, id: &IntegrationId) -> Result<Vec<RunRecord>, AnaplanError> {
    let mut out = Vec::new();
    for r in run_records(cw, id).await? {
        let Some(run) = listed_id(&r, &["id", "runId"]) else { continue };
        let run = RunId::parse(&run).map_err(|e| protocol("run history", e))?;
        out.push(RunRecord { id: run, start_ms: r.get("startDate").and_then(time_ms) });
    }
    Ok(out)
}

/// The run records of integration `id` as CloudWorks gives them (`RunRecord` objects,
/// unchanged), every page of `GET /integrations/runs/{id}`.
pub async fn run_records(cw: &Client, id: &IntegrationId) -> Result<Vec<Value>, AnaplanError> {
    const PAGE: usize = 100;
    let mut out = Vec::new();
    let mut offset = 0usize;
    loop {
        let req = ApiRequest::get(["integrations", "runs", id.as_str()])
            .query("offset", offset.to_string())
            .query("limit", PAGE.to_string());
        let page: Value = cw.json(req).await?;
        let history = page.get("history_of_runs").unwrap_or(&page);
        let runs = history.get("runs").and_then(Value::as_array).cloned().unwrap_or_default();
        let got = runs.len();
        out.extend(runs);
        offset += got;
        let total = page
            .pointer("/meta/paging/totalSize")
            .or_else(|| history.get("totalRuns"))
            .and_then(Value::as_u64)
            .map(|t| t as usize);
        match total {
            Some(total) if got > 0 && offset < total => continue,
            _ => return Ok(out),
        }
    }
}

/// A notification configuration (`GET /integrations/notification/{notificationId}`):
/// CloudWorks' `NotificationConfig` (who is told of which outcome, on which channels),
/// unchanged. `id` is a 32-hex id as CloudWorks gives it in an integration's
/// `notificationId`.
pub async fn notification(cw: &Client, id: &str) -> Result<Value, AnaplanError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(protocol("notificationId", format!("{id:?} is not 32 hexadecimal characters")));
    }
    let v: Value = cw.json(ApiRequest::get(["integrations", "notification", id])).await?;
    v.get("notifications").cloned().ok_or_else(|| protocol("notification", "no notifications object"))
}

/// A run's status (`GET /integrations/run/{runId}`, for integrations and flows alike).
pub async fn run(cw: &Client, id: &RunId) -> Result<Run, AnaplanError> {
    let v: Value = cw.json(ApiRequest::get(["integrations", "run", id.as_str()])).await?;
    let run = v.get("run").ok_or_else(|| protocol("run status", "no run in the answer"))?;
    Ok(Run::from_json(id.clone(), run))
}

/// Asks CloudWorks to cancel the running run of `what` (`POST .../{id}/cancel`); CloudWorks
/// answers 409 when nothing runs.
pub async fn cancel(cw: &Client, what: &Runnable) -> Result<(), AnaplanError> {
    // Cancelling twice is cancelling once.
    let req =
        // No body: the description documents none.
        ApiRequest::get([what.collection(), what.id(), "cancel"]).method(Method::POST).replayable();
    cw.send(req).await.map(|_| ())
}

/// The failed actions of a run (`GET /integrations/runerror/{runId}`): `runs` is a list of
/// `{errorMessages: [{actionId, actionName, failureDumpGenerated, errorMessage: [...]}]}`,
/// or `{}` when there were none.
pub async fn errors(cw: &Client, id: &RunId) -> Result<Vec<ActionError>, AnaplanError> {
    let v: Value = cw.json(ApiRequest::get(["integrations", "runerror", id.as_str()])).await?;
    let mut out: Vec<ActionError> = Vec::new();
    for run in v.get("runs").and_then(Value::as_array).into_iter().flatten() {
        for e in run.get("errorMessages").and_then(Value::as_array).into_iter().flatten() {
            let Some(action_id) = listed_id(e, &["actionId"]) else { continue };
            let messages = match e.get("errorMessage") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|m| match m {
                        Value::String(s) => Some(s.clone()),
                        other => other.get("localMessageText").and_then(Value::as_str).map(str::to_owned),
                    })
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                Some(other) => {
                    other.get("localMessageText").and_then(Value::as_str).map(str::to_owned).into_iter().collect()
                }
                None => Vec::new(),
            };
            let dump = e.get("failureDumpGenerated").and_then(Value::as_bool).unwrap_or(false);
            match out.iter_mut().find(|a| a.action_id == action_id) {
                Some(a) => {
                    a.messages.extend(messages);
                    a.dump |= dump;
                }
                None => out.push(ActionError {
                    action_id,
                    action_name: e.get("actionName").and_then(Value::as_str).map(str::to_owned),
                    messages,
                    dump,
                }),
            }
        }
    }
    Ok(out)
}

/// The failure dump (CSV) of `action` in run `id`: the process-import dump
/// (`/integrations/run/{runId}/process/import/{actionId}/dumps`), else the run's own dump
/// (`/integrations/run/{runId}/dumps`, import integrations); `None` when neither exists.
pub async fn dump(cw: &Client, id: &RunId, action: &ObjectId) -> Result<Option<String>, AnaplanError> {
    let process = ApiRequest::get(["integrations", "run", id.as_str(), "process", "import", action.as_str(), "dumps"])
        .accept("text/csv");
    match cw.text(process).await {
        Ok(csv) => return Ok(Some(csv)),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(e),
    }
    match cw.text(ApiRequest::get(["integrations", "run", id.as_str(), "dumps"]).accept("text/csv")).await {
        Ok(csv) => Ok(Some(csv)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every Azure Blob connection.
pub async fn blob_connections(cw: &Client) -> Result<Vec<BlobConnection>, AnaplanError> {
    let items: Vec<Value> = cw.list(ApiRequest::get(["integrations", "connections"]), "connections").await?;
    let mut out = Vec::new();
    for v in &items {
        let kind = field(v, &["connectionType", "type"]).unwrap_or_default();
        if !kind.eq_ignore_ascii_case("AzureBlob") {
            continue;
        }
        let Some(id) = listed_id(v, &["connectionId", "id"]) else { continue };
        let id = ConnectionId::parse(&id).map_err(|e| protocol("connections", e))?;
        let (Some(account), Some(container)) = (field(v, &["storageAccountName"]), field(v, &["containerName"])) else {
            return Err(protocol("connections", format!("connection {} has no storage account or container", id.0)));
        };
        out.push(BlobConnection {
            id,
            name: field(v, &["name"]).unwrap_or_default(),
            storage_account: account,
            container,
        });
    }
    Ok(out)
}

/// Writes a new SAS into `conn` (`PUT /integrations/connections/{id}` with the full body,
/// as CloudWorks requires; `auth_method` too).
pub async fn set_sas(cw: &Client, conn: &BlobConnection, sas: &Secret) -> Result<(), AnaplanError> {
    let body = json!({
        "type": "AzureBlob",
        "body": {
            "name": conn.name,
            "storageAccountName": conn.storage_account,
            "containerName": conn.container,
            "sasToken": sas.expose(),
            "auth_method": "SAS-based",
        }
    });
    let req = ApiRequest::get(["integrations", "connections", conn.id.as_str()]).method(Method::PUT).json(body);
    cw.send(req).await.map(|_| ())
}

/// Every integration as CloudWorks lists it (`GET /integrations`, every page): the
/// description's `IntegrationSummary` objects, unchanged.
pub async fn integration_summaries(cw: &Client) -> Result<Vec<Value>, AnaplanError> {
    cw.list(ApiRequest::get(["integrations"]), "integrations").await
}

/// One integration (`GET /integrations/{id}`): the description's `IntegrationDetail`
/// (`integration`), unchanged; `schedule` is in it when the integration has one.
pub async fn integration_detail(cw: &Client, id: &IntegrationId) -> Result<Value, AnaplanError> {
    let v: Value = cw.json(ApiRequest::get(["integrations", id.as_str()])).await?;
    v.get("integration")
        .filter(|i| i.is_object())
        .cloned()
        .ok_or_else(|| protocol("integration", "no integration object in the answer"))
}

/// The schedule of an integration as [`integration_detail`] reports it; `None` when it has
/// none (`schedule` absent or null).
pub fn schedule_of(detail: &Value) -> Option<&Value> {
    detail.get("schedule").filter(|s| s.is_object())
}

/// Every integration flow as CloudWorks lists it (`GET /integrationflows`, every page):
/// `IntegrationFlowSummary` objects, unchanged.
pub async fn flow_summaries(cw: &Client) -> Result<Vec<Value>, AnaplanError> {
    cw.list(ApiRequest::get(["integrationflows"]), "integrationFlows").await
}

/// Every connection as CloudWorks lists it (`GET /integrations/connections`), unchanged
/// (CloudWorks never shows a connection's secret).
pub async fn connection_summaries(cw: &Client) -> Result<Vec<Value>, AnaplanError> {
    cw.list(ApiRequest::get(["integrations", "connections"]), "connections").await
}

/// Gives integration `id` the schedule `schedule` (the description's `Schedule`). CloudWorks
/// holds at most one schedule per integration: `POST /integrations/{id}/schedule` creates it
/// (`createSchedule`), `PUT` replaces one that exists (`updateSchedule`), so `exists` says
/// which one to send. Both bodies carry `integrationId` beside `schedule`: `createSchedule`
/// documents it as optional, and live CloudWorks refuses an `updateSchedule` without it.
pub async fn set_schedule(cw: &Client, id: &IntegrationId, schedule: &Value, exists: bool) -> Result<(), AnaplanError> {
    let method = if exists { Method::PUT } else { Method::POST };
    let body = json!({ "integrationId": id.as_str(), "schedule": schedule });
    let req = ApiRequest::get(["integrations", id.as_str(), "schedule"]).method(method).json(body);
    cw.send(req).await.map(|_| ())
}

/// Enables or disables the schedule of integration `id`
/// (`POST /integrations/{id}/schedule/status/{enabled|disabled}`, no body documented).
pub async fn set_schedule_status(cw: &Client, id: &IntegrationId, enabled: bool) -> Result<(), AnaplanError> {
    let status = if enabled { "enabled" } else { "disabled" };
    // Setting a status twice sets it once.
    let req =
        ApiRequest::get(["integrations", id.as_str(), "schedule", "status", status]).method(Method::POST).replayable();
    cw.send(req).await.map(|_| ())
}

/// Deletes the schedule of integration `id` (`DELETE /integrations/{id}/schedule`).
pub async fn delete_schedule(cw: &Client, id: &IntegrationId) -> Result<(), AnaplanError> {
    let req = ApiRequest::get(["integrations", id.as_str(), "schedule"]).method(Method::DELETE);
    cw.send(req).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FlowId, IntegrationId};

    fn run(v: Value) -> RunState {
        Run::from_json(RunId::parse("0123456789abcdef0123456789abcdef").unwrap(), &v).state
    }

    #[test]
    fn a_run_without_an_end_date_is_running_whatever_success_says() {
        // Live CloudWorks: `success` is false until the run ends well.
        let running = json!({"startDate": "2026-08-11T18:07:06.000Z", "success": false, "message": "Running"});
        assert_eq!(run(running.clone()), RunState::Running);
        let read = Run::from_json(RunId::parse("0123456789abcdef0123456789abcdef").unwrap(), &running);
        assert_eq!(read.message, None, "a running run's message is no outcome");
        // Tolerated: `success` null or absent, `endDate` null or empty.
        assert_eq!(run(json!({"endDate": null, "success": null})), RunState::Running);
        assert_eq!(run(json!({"endDate": "", "success": false})), RunState::Running);
        assert_eq!(run(json!({})), RunState::Running);
    }

    #[test]
    fn only_an_end_date_ends_a_run() {
        let ended = |success: Value, message: &str| {
            run(json!({"endDate": "2026-08-11T18:07:51.000Z", "success": success, "message": message}))
        };
        assert_eq!(ended(json!(true), "Success"), RunState::Succeeded);
        assert_eq!(ended(json!(false), "Process failed"), RunState::Failed);
        assert_eq!(ended(json!(null), "Anaplan model was deleted"), RunState::Failed);
        assert_eq!(run(json!({"endDate": "2026-08-11T18:07:51.000Z"})), RunState::Failed);
        assert_eq!(ended(json!(false), "Cancelled"), RunState::Cancelled);
        // Only the documented message counts, not any wording that mentions cancelling.
        assert_eq!(ended(json!(false), "Run Cancelled by user"), RunState::Failed);
        // `success: true` is only ever sent for a run that ended well.
        assert_eq!(run(json!({"success": true, "message": "Success"})), RunState::Succeeded);
    }

    #[test]
    fn a_run_belongs_to_the_integration_or_flow_it_names() {
        let id = RunId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let integration = Runnable::Integration(IntegrationId::parse("c10d0000000000000000000000000001").unwrap());
        let other = Runnable::Integration(IntegrationId::parse("c10d0000000000000000000000000002").unwrap());
        let flow = Runnable::Flow(FlowId::parse("f10e0000000000000000000000000001").unwrap());
        let of = |v: Value| Run::from_json(id.clone(), &v);
        // The documented `RunStatus` of an integration's run.
        let run = of(json!({"integrationId": "c10d0000000000000000000000000001", "flowGroupId": null}));
        assert!(run.belongs_to(&integration) && !run.belongs_to(&other) && !run.belongs_to(&flow));
        // A flow's run: the flow in `flowGroupId` (documented), or in `integrationId`.
        for v in [
            json!({"flowGroupId": "f10e0000000000000000000000000001"}),
            json!({"integrationId": "f10e0000000000000000000000000001", "flowGroupId": null}),
        ] {
            let run = of(v);
            assert!(run.belongs_to(&flow) && !run.belongs_to(&integration), "{run:?}");
        }
        // A run that names nothing is no one's.
        assert!(!of(json!({})).belongs_to(&integration) && !of(json!({})).belongs_to(&flow));
    }

    #[test]
    fn run_dates_read_as_milliseconds() {
        assert_eq!(time_ms(&json!("2026-06-19T01:30:16.000Z")), Some(1_781_832_616_000));
        assert_eq!(time_ms(&json!("2026-06-19T01:30:16.250Z")), Some(1_781_832_616_250));
        assert_eq!(time_ms(&json!(1_781_832_681)), Some(1_781_832_681_000), "lastRun is in seconds");
        assert_eq!(time_ms(&json!(1_781_832_681_000u64)), Some(1_781_832_681_000));
        assert_eq!(time_ms(&json!("yesterday")), None);
        assert_eq!(time_ms(&Value::Null), None);
    }

    #[test]
    fn a_schedule_is_an_object_in_the_detail_or_none() {
        let with =
            json!({"integrationId": "c10d0000000000000000000000000003", "schedule": {"name": "n", "type": "daily"}});
        assert_eq!(schedule_of(&with).and_then(|s| s.get("type")), Some(&json!("daily")));
        assert_eq!(schedule_of(&json!({"schedule": null})), None);
        assert_eq!(schedule_of(&json!({})), None);
    }

    #[test]
    fn connection_fields_come_from_body_or_top_level() {
        let nested = json!({"body": {"storageAccountName": "a"}});
        let flat = json!({"storageAccountName": "b"});
        assert_eq!(field(&nested, &["storageAccountName"]).as_deref(), Some("a"));
        assert_eq!(field(&flat, &["storageAccountName"]).as_deref(), Some("b"));
        assert!(ConnectionId::parse("c0aa0000-0000-0000-0000-000000000001").is_ok());
        assert!(ConnectionId::parse("../x").is_err());
    }
}
