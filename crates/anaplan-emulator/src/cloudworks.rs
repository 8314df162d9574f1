//! CloudWorks (reference: anaplan-more-apis.md §1), on the same port under `/2/0`:
//! integrations and integration flows of the demo tenant ([`super::seed_cloudworks`]),
//! runs that move through time, run errors and import dumps, cancellation, and Azure Blob
//! connections whose SAS is checked like CloudWorks checks credentials.
//!
//! - `GET /integrations`, `GET /integrationflows`, `GET /integrations/connections`:
//!   `meta.paging` `{currentPageSize, totalSize, offset}` (`limit` capped like the rest, 25
//!   by default), the array present even when empty; the description's summaries (no
//!   `processId` but on a process integration, `latestRun` only once it ran, never null).
//!   `GET /integrations/{id}` adds `version` and `jobs`; `GET /integrationflows/{id}` adds
//!   `version` and `steps` (each with its integration's `type`; `dependsOn` holds the
//!   referrer ids of the steps it waits for).
//! - `POST /integrations/{id}/run`, `POST /integrationflows/{id}/run` (JSON body, `{}` or
//!   an object) → `{"run":{"id"}}`; a second run while one is running is a 409.
//! - `GET /integrations/run/{runId}` (the description's `RunStatus`): `success` is `false`
//!   and `endDate` absent until the run ends (as live CloudWorks answers); `message` is
//!   `Running`, then `Success`, `Process failed` or `Cancelled`; dates in milliseconds.
//! - `GET /integrations/runerror/{runId}`: `{"runs":[...]}` for a failed run, `{"runs":{}}` else.
//! - `GET /integrations/runs/{integrationId}?offset&limit`: the integration's run history
//!   (`history_of_runs.runs`, newest first), both parameters required as documented.
//! - `GET /integrations/run/{runId}/process/import/{actionId}/dumps` (CSV) and
//!   `GET /integrations/run/{runId}/dumps` (CSV; 404 for a run without errors).
//! - `POST /integrations/{id}/cancel`, `POST /integrationflows/{id}/cancel`: 409 "not in
//!   running state" unless a run is running; the run then ends unsuccessful with the
//!   message [`CANCELLED_MESSAGE`].
//! - `GET /integrations/connections`, `GET|PUT /integrations/connections/{id}`: a PUT needs
//!   the full body (`type` AzureBlob, `body` with `name`, `storageAccountName`,
//!   `containerName`, `sasToken`, `auth_method`); a SAS that is malformed, not for the Blob
//!   service, lacks resource types service+container+object or permissions
//!   read+write+list, is expired, or (account [`CONNECTION_ACCOUNT`]) is not signed with
//!   its key, is a 400 "Credentials are invalid" and changes nothing. A user delegation SAS
//!   (`skoid=`) must be for a container (`sr=c`) with read+write+list and a key that
//!   outlives it. The connection remembers when its SAS expires (never shows the SAS).
//!
//! - Schedules (`POST|PUT|DELETE /integrations/{id}/schedule`,
//!   `POST /integrations/{id}/schedule/status/{status}`): see [`schedule`].
//!
//! Ids in paths must be 32 lowercase hex, else 404; unknown ids are 404.

mod schedule;

use super::Inner;
use super::seed_cloudworks::*;
use super::util::{Ids, api_error, api_status, iso_timestamp_now, query_pairs};
use super::{Emulator, seed};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The message of a cancelled run (a value the description documents for `message`).
pub const CANCELLED_MESSAGE: &str = "Cancelled";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Import,
    Export,
    Process,
}

struct IntegrationDef {
    id: &'static str,
    name: &'static str,
    kind: Kind,
    process_id: Option<&'static str>,
    fails: bool,
}

const INTEGRATIONS: &[IntegrationDef] = &[
    IntegrationDef {
        id: INTEGRATION_IMPORT_ID,
        name: INTEGRATION_IMPORT_NAME,
        kind: Kind::Import,
        process_id: None,
        fails: false,
    },
    IntegrationDef {
        id: INTEGRATION_EXPORT_ID,
        name: INTEGRATION_EXPORT_NAME,
        kind: Kind::Export,
        process_id: None,
        fails: false,
    },
    IntegrationDef {
        id: INTEGRATION_PROCESS_ID,
        name: INTEGRATION_PROCESS_NAME,
        kind: Kind::Process,
        process_id: Some(seed::PROCESS_NIGHTLY_ID),
        fails: false,
    },
    IntegrationDef {
        id: INTEGRATION_BROKEN_ID,
        name: INTEGRATION_BROKEN_NAME,
        kind: Kind::Process,
        process_id: Some(seed::PROCESS_BROKEN_ID),
        fails: true,
    },
    IntegrationDef {
        id: INTEGRATION_DUPLICATE_1_ID,
        name: INTEGRATION_DUPLICATE_NAME,
        kind: Kind::Export,
        process_id: None,
        fails: false,
    },
    IntegrationDef {
        id: INTEGRATION_DUPLICATE_2_ID,
        name: INTEGRATION_DUPLICATE_NAME,
        kind: Kind::Export,
        process_id: None,
        fails: false,
    },
];

struct FlowDef {
    id: &'static str,
    name: &'static str,
    steps: &'static [&'static str],
}

const FLOWS: &[FlowDef] = &[
    FlowDef { id: FLOW_NIGHTLY_ID, name: FLOW_NIGHTLY_NAME, steps: &[INTEGRATION_IMPORT_ID, INTEGRATION_PROCESS_ID] },
    FlowDef { id: FLOW_BROKEN_ID, name: FLOW_BROKEN_NAME, steps: &[INTEGRATION_IMPORT_ID, INTEGRATION_BROKEN_ID] },
];

/// One Azure Blob connection.
#[derive(Clone, Debug)]
struct Connection {
    name: String,
    account: String,
    container: String,
    sas: String,
    /// Unix seconds when the SAS expires.
    sas_expiry: u64,
    /// Accepted PUTs.
    updates: usize,
    created: String,
}

/// One run.
#[derive(Clone, Debug)]
struct Run {
    /// The integration or flow.
    of: &'static str,
    flow: bool,
    start_date: String,
    ends_at: Instant,
    fails: bool,
    cancelled: bool,
    end_date: Option<String>,
}

impl Run {
    /// Fills in the end once its time has come; true while it runs.
    fn settle(&mut self, now: Instant) -> bool {
        if self.end_date.is_none() && now >= self.ends_at {
            self.end_date = Some(iso_timestamp_now());
        }
        self.end_date.is_none()
    }

    fn success(&self) -> Option<bool> {
        self.end_date.as_ref().map(|_| !self.fails && !self.cancelled)
    }

    /// The `message` CloudWorks gives the run (`Running` is what live CloudWorks shows in
    /// `latestRun.message` while a run runs).
    fn message(&self) -> &'static str {
        match self.success() {
            None => "Running",
            Some(true) => "Success",
            Some(false) if self.cancelled => CANCELLED_MESSAGE,
            Some(false) => "Process failed",
        }
    }

    fn failed(&self) -> bool {
        self.success() == Some(false) && !self.cancelled
    }
}

/// CloudWorks' part of the emulator's state.
pub(super) struct CloudWorksState {
    connections: HashMap<&'static str, Connection>,
    runs: HashMap<String, Run>,
    run_time: Duration,
    /// (integration or flow id, run id) of every run started.
    started: Vec<(String, String)>,
    cancels: usize,
    /// The next `n` connection PUTs for this connection id answer 500.
    fail_updates: HashMap<String, u32>,
    /// The schedule of each integration that has one (the description's `Schedule`).
    schedules: HashMap<&'static str, Value>,
}

impl Default for CloudWorksState {
    fn default() -> Self {
        let now = unix_now();
        let conn = |name: &str, account: &str, container: &str| Connection {
            name: name.to_owned(),
            account: account.to_owned(),
            container: container.to_owned(),
            // The seed's SAS expired a day ago: the connections are broken until renewed.
            sas: String::new(),
            sas_expiry: now.saturating_sub(86_400),
            updates: 0,
            created: iso_timestamp_now(),
        };
        let connections = HashMap::from([
            (CONNECTION_SALES_ID, conn(CONNECTION_SALES_NAME, CONNECTION_ACCOUNT, "cloudworks-sales")),
            (CONNECTION_FINANCE_ID, conn(CONNECTION_FINANCE_NAME, CONNECTION_ACCOUNT, "cloudworks-finance")),
            (CONNECTION_PARTNER_ID, conn(CONNECTION_PARTNER_NAME, PARTNER_ACCOUNT, "partner-drop")),
        ]);
        CloudWorksState {
            connections,
            runs: HashMap::new(),
            run_time: CLOUDWORKS_RUN_TIME,
            started: Vec::new(),
            cancels: 0,
            fail_updates: HashMap::new(),
            schedules: HashMap::from([(SCHEDULED_INTEGRATION_ID, schedule::seed_schedule())]),
        }
    }
}

/// What a test can read of a connection (the SAS it holds, when it expires).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionView {
    /// The connection's name.
    pub name: String,
    /// Its storage account.
    pub storage_account: String,
    /// Its container.
    pub container: String,
    /// The SAS last written ("" for the seed's expired one).
    pub sas: String,
    /// Unix seconds when that SAS expires.
    pub sas_expiry: u64,
    /// Accepted updates.
    pub updates: usize,
}

impl Emulator {
    /// How long each CloudWorks run takes from now on.
    pub fn set_cloudworks_run_time(&self, run: Duration) {
        self.inner.state().cloudworks.run_time = run;
    }

    /// A CloudWorks connection as the emulator holds it.
    pub fn cloudworks_connection(&self, id: &str) -> Option<ConnectionView> {
        self.inner.state().cloudworks.connections.get(id).map(|c| ConnectionView {
            name: c.name.clone(),
            storage_account: c.account.clone(),
            container: c.container.clone(),
            sas: c.sas.clone(),
            sas_expiry: c.sas_expiry,
            updates: c.updates,
        })
    }

    /// (integration or flow id, run id) of every CloudWorks run started, in order.
    pub fn cloudworks_runs(&self) -> Vec<(String, String)> {
        self.inner.state().cloudworks.started.clone()
    }

    /// CloudWorks cancel requests that cancelled a run.
    pub fn cloudworks_cancels(&self) -> usize {
        self.inner.state().cloudworks.cancels
    }

    /// The next `n` PUTs of connection `id` answer 500 (a CloudWorks outage).
    pub fn fail_cloudworks_connection_updates(&self, id: &str, n: u32) {
        self.inner.state().cloudworks.fail_updates.insert(id.to_owned(), n);
    }

    /// Points connection `id` at another container, as a CloudWorks user editing it would.
    pub fn repoint_cloudworks_connection(&self, id: &str, container: &str) {
        if let Some(c) = self.inner.state().cloudworks.connections.get_mut(id) {
            c.container = container.to_owned();
        }
    }
}

/// CloudWorks' routes.
pub(super) fn routes() -> Router<Arc<Inner>> {
    const I: &str = "/2/0/integrations";
    Router::new()
        .route(I, get(list_integrations))
        .route(&format!("{I}/connections"), get(list_connections))
        .route(&format!("{I}/connections/{{id}}"), get(get_connection).put(put_connection))
        .route(&format!("{I}/run/{{run}}"), get(run_status))
        .route(&format!("{I}/run/{{run}}/dumps"), get(run_dump))
        .route(&format!("{I}/run/{{run}}/process/import/{{action}}/dumps"), get(process_import_dump))
        .route(&format!("{I}/runerror/{{run}}"), get(run_errors))
        .route(&format!("{I}/runs/{{id}}"), get(run_history))
        .route(&format!("{I}/notification/{{id}}"), get(get_notification))
        .route(&format!("{I}/{{id}}"), get(get_integration))
        .route(&format!("{I}/{{id}}/run"), post(run_integration))
        .route(&format!("{I}/{{id}}/cancel"), post(cancel_integration))
        .route(&format!("{I}/{{id}}/schedule"), post(schedule::create).put(schedule::update).delete(schedule::delete))
        .route(&format!("{I}/{{id}}/schedule/status/{{status}}"), post(schedule::set_status))
        .route("/2/0/integrationflows", get(list_flows))
        .route("/2/0/integrationflows/{id}", get(get_flow))
        .route("/2/0/integrationflows/{id}/run", post(run_flow))
        .route("/2/0/integrationflows/{id}/cancel", post(cancel_flow))
}

fn is_cw_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn ok(mut body: serde_json::Map<String, Value>) -> Response {
    body.insert("status".into(), json!({ "code": 200, "message": "Success" }));
    (StatusCode::OK, axum::Json(Value::Object(body))).into_response()
}

fn integration(id: &str) -> Option<&'static IntegrationDef> {
    is_cw_id(id).then(|| INTEGRATIONS.iter().find(|i| i.id == id)).flatten()
}

fn flow(id: &str) -> Option<&'static FlowDef> {
    is_cw_id(id).then(|| FLOWS.iter().find(|f| f.id == id)).flatten()
}

/// The word for an integration's type (`integrationType`, a flow step's `type`).
fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Import => "Import",
        Kind::Export => "Export",
        Kind::Process => "Process",
    }
}

/// When the seed's integrations and flows were made and last changed (fixed).
const SEED_DATE: &str = "2025-01-06T09:00:00.000Z";
/// The same instant as flow steps write it (`YYYY-MM-DD HH:MM:SS.uuuuuu+00:00`).
const SEED_STEP_DATE: &str = "2025-01-06 09:00:00.000000+00:00";

/// The notification configuration CloudWorks made with an integration (32 lowercase hex).
fn notification_id(integration_id: &str) -> String {
    format!("a0f1{}", &integration_id[4..])
}

/// The description's `latestRun` of the integration or flow `of`: its newest run, absent
/// when it never ran. Messages as the run status gives them.
fn latest_run(inner: &Inner, of: &str) -> Option<Value> {
    let now = Instant::now();
    let mut st = inner.state();
    let runs = &mut st.cloudworks.runs;
    for r in runs.values_mut() {
        r.settle(now);
    }
    let run = runs.values().filter(|r| r.of == of).max_by(|a, b| a.start_date.cmp(&b.start_date))?;
    let message = run.message();
    let mut v = json!({
        "triggeredBy": format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME),
        "startDate": run_date(&run.start_date),
        "success": run.success() == Some(true),
        "message": message,
        "executionErrorCode": if run.failed() { json!(39) } else { Value::Null },
        "triggerSource": "manual",
    });
    if let Some(end) = &run.end_date {
        v["endDate"] = json!(run_date(end));
    }
    Some(v)
}

/// The description's `IntegrationSummary`: `processId` only for a process integration,
/// `latestRun` only once it ran (omitted, never null).
fn integration_json(inner: &Inner, i: &IntegrationDef) -> Value {
    let user = format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME);
    let mut v = json!({
        "integrationId": i.id,
        "name": i.name,
        "integrationType": kind_word(i.kind),
        "workspaceId": seed::WS_FPA_ID,
        "modelId": seed::MODEL_REVENUE_ID,
        "createdBy": user,
        "creationDate": SEED_DATE,
        "modificationDate": SEED_DATE,
        "modifiedBy": user,
        "notificationId": notification_id(i.id),
        "nuxVisible": false,
    });
    if let Some(p) = i.process_id {
        v["processId"] = json!(p);
    }
    if let Some(run) = latest_run(inner, i.id) {
        v["latestRun"] = run;
    }
    if let Some(s) = inner.state().cloudworks.schedules.get(i.id) {
        v["schedule"] = s.clone();
    }
    v
}

/// One page of a CloudWorks collection: `meta.paging` `{currentPageSize, totalSize,
/// offset}` and `meta.schema`, the array always present (an empty list is `[]` in
/// CloudWorks, as its README records), `limit` capped like the Integration API's lists.
fn cw_paged(
    inner: &Inner,
    uri: &Uri,
    key: &str,
    mut meta: serde_json::Map<String, Value>,
    items: Vec<Value>,
) -> Response {
    let path = uri.path();
    let pairs = query_pairs(uri.query());
    let number = |k: &str, default: usize| -> Result<usize, Response> {
        match pairs.iter().find(|(n, _)| n == k) {
            None => Ok(default),
            Some((_, v)) => v
                .parse::<usize>()
                .map_err(|_| api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [{k}]"), path)),
        }
    };
    let (offset, limit) = match (number("offset", 0), number("limit", 25)) {
        (Ok(o), Ok(l)) => (o, l.clamp(1, inner.cfg.page_size_cap.max(1))),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    meta.insert("paging".into(), json!({ "currentPageSize": page.len(), "totalSize": total, "offset": offset }));
    meta.insert("schema".into(), json!(format!("https://api.cloudworks.anaplan.com/2/0/integrations/objects/{key}")));
    let mut body = serde_json::Map::new();
    body.insert(key.into(), Value::Array(page));
    body.insert("meta".into(), Value::Object(meta));
    ok(body)
}

async fn list_integrations(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let items: Vec<Value> = INTEGRATIONS.iter().map(|i| integration_json(&inner, i)).collect();
    let mut meta = serde_json::Map::new();
    meta.insert("tenantCurrentCount".into(), json!(items.len()));
    meta.insert("tenantMaxAllowed".into(), json!(1000));
    cw_paged(&inner, &uri, "integrations", meta, items)
}

/// The job of an integration (the description's `Job`): which connection and which
/// Anaplan action it moves data between.
fn jobs(inner: &Inner, i: &IntegrationDef) -> Value {
    let st = inner.state();
    let conn = |id: &'static str, file: &str| {
        let name = st.cloudworks.connections.get(id).map(|c| c.name.clone()).unwrap_or_default();
        json!({ "type": "AzureBlob", "connectionId": id, "connectionName": name, "isConnectionDeleted": false, "file": file })
    };
    let anaplan = |action: &str| json!({ "type": "Anaplan", "actionId": action });
    let (kind, source, target) = match i.kind {
        Kind::Import | Kind::Process if i.fails => {
            ("AzureBlobToAnaplan", conn(CONNECTION_PARTNER_ID, "regions.csv"), anaplan(seed::IMPORT_REGIONS_ID))
        }
        Kind::Import | Kind::Process => {
            ("AzureBlobToAnaplan", conn(CONNECTION_SALES_ID, "products.csv"), anaplan(seed::IMPORT_PRODUCTS_ID))
        }
        Kind::Export => {
            let mut target = conn(CONNECTION_FINANCE_ID, "price-export.csv");
            target["overwrite"] = json!(true);
            ("AnaplanToAzureBlob", anaplan(seed::EXPORT_PRICE_ID), target)
        }
    };
    json!([{ "type": kind, "sources": [source], "targets": [target] }])
}

/// `GET /integrations/{id}`: the description's `IntegrationDetail` (the summary, `version`
/// and `jobs`).
async fn get_integration(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    match integration(&id) {
        Some(i) => {
            let mut v = integration_json(&inner, i);
            v["version"] = json!("2.0");
            v["jobs"] = jobs(&inner, i);
            ok(serde_json::Map::from_iter([("integration".to_owned(), v)]))
        }
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

/// `GET /integrations/notification/{notificationId}` → `notifications`: the description's
/// `NotificationConfig` of the one integration it belongs to (CloudWorks makes one with each
/// integration): e-mail to the integration user on a full or partial failure (the
/// emulator's seed; the description gives no default). An unknown or malformed id: 404.
async fn get_notification(State(_inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let Some(i) = INTEGRATIONS.iter().find(|i| is_cw_id(&id) && notification_id(i.id) == id) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let user =
        json!({ "userGuid": seed::USER_ID, "firstName": seed::USER_FIRST_NAME, "lastName": seed::USER_LAST_NAME });
    let config = json!({
        "notificationId": id,
        "integrationIds": [i.id],
        "channels": ["email"],
        "notifications": { "config": [
            { "type": "full_failure", "users": [user.clone()] },
            { "type": "partial_failure", "users": [user] },
        ] },
    });
    ok(serde_json::Map::from_iter([("notifications".to_owned(), config), ("meta".to_owned(), json!({}))]))
}

/// The description's `IntegrationFlowSummary` (`id`, `name`, `stepsCount`...).
fn flow_summary(inner: &Inner, f: &FlowDef) -> Value {
    let user = format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME);
    let mut v = json!({
        "id": f.id,
        "name": f.name,
        "createdBy": user,
        "creationDate": SEED_DATE,
        "modificationDate": SEED_DATE,
        "modifiedBy": user,
        "nuxVisible": false,
        "stepsCount": f.steps.len(),
    });
    if let Some(run) = latest_run(inner, f.id) {
        v["latestRun"] = run;
    }
    v
}

/// The description's `IntegrationFlowDetail`: the summary, `version` and `steps`, each
/// step with its integration's name and `type`, and `dependsOn` the referrer ids of the
/// steps before it (strings).
fn flow_detail(inner: &Inner, f: &FlowDef) -> Value {
    let user = format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME);
    let steps: Vec<Value> = f
        .steps
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let i = integration(s);
            json!({
                "referrer": s,
                "name": i.map(|i| i.name).unwrap_or_default(),
                "type": i.map(|i| kind_word(i.kind)).unwrap_or("Process"),
                "createdBy": user,
                "createdDate": SEED_STEP_DATE,
                "modifiedDate": SEED_STEP_DATE,
                "modifiedBy": Value::Null,
                "modelId": seed::MODEL_REVENUE_ID,
                "workspaceId": seed::WS_FPA_ID,
                "dependsOn": f.steps[..n].last().map(|prev| vec![*prev]).unwrap_or_default(),
                "isSkipped": false,
                "exceptionBehavior": [
                    { "type": "failure", "strategy": "stop" },
                    { "type": "partial_success", "strategy": "continue" },
                ],
            })
        })
        .collect();
    let mut v = flow_summary(inner, f);
    v["version"] = json!("2.0");
    v["steps"] = json!(steps);
    v
}

async fn list_flows(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let items = FLOWS.iter().map(|f| flow_summary(&inner, f)).collect();
    cw_paged(&inner, &uri, "integrationFlows", serde_json::Map::new(), items)
}

async fn get_flow(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    match flow(&id) {
        Some(f) => ok(serde_json::Map::from_iter([("integrationFlow".to_owned(), flow_detail(&inner, f))])),
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

/// A run request must be JSON (an empty object, or a flow's options).
fn check_run_body(headers: &HeaderMap, body: &Bytes, path: &str) -> Result<(), Response> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(api_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json", path));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(api_error(StatusCode::BAD_REQUEST, "Malformed JSON request body", path)),
    }
}

fn start_run(inner: &Inner, of: &'static str, flow: bool, fails: bool, path: &str) -> Response {
    let now = Instant::now();
    let mut st = inner.state();
    let cw = &mut st.cloudworks;
    let mut running = false;
    for r in cw.runs.values_mut() {
        running |= r.settle(now) && r.of == of;
    }
    if running {
        return api_error(StatusCode::CONFLICT, "Integration is already running", path);
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let run = Run {
        of,
        flow,
        start_date: iso_timestamp_now(),
        ends_at: now + cw.run_time,
        fails,
        cancelled: false,
        end_date: None,
    };
    cw.runs.insert(id.clone(), run);
    cw.started.push((of.to_owned(), id.clone()));
    ok(serde_json::Map::from_iter([("run".to_owned(), json!({ "id": id }))]))
}

async fn run_integration(
    State(inner): State<Arc<Inner>>,
    Ids(id): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(i) = integration(&id) else { return api_status(StatusCode::NOT_FOUND, uri.path()) };
    if let Err(resp) = check_run_body(&headers, &body, uri.path()) {
        return resp;
    }
    start_run(&inner, i.id, false, i.fails, uri.path())
}

async fn run_flow(
    State(inner): State<Arc<Inner>>,
    Ids(id): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(f) = flow(&id) else { return api_status(StatusCode::NOT_FOUND, uri.path()) };
    if let Err(resp) = check_run_body(&headers, &body, uri.path()) {
        return resp;
    }
    let fails = f.steps.iter().any(|s| integration(s).is_some_and(|i| i.fails));
    start_run(&inner, f.id, true, fails, uri.path())
}

fn cancel(inner: &Inner, of: &str, path: &str) -> Response {
    let now = Instant::now();
    let mut st = inner.state();
    let cw = &mut st.cloudworks;
    for r in cw.runs.values_mut() {
        r.settle(now);
    }
    let Some(run) = cw.runs.values_mut().find(|r| r.of == of && r.end_date.is_none()) else {
        return api_error(StatusCode::CONFLICT, "Integration is not in running state", path);
    };
    run.cancelled = true;
    run.end_date = Some(iso_timestamp_now());
    cw.cancels += 1;
    ok(serde_json::Map::new())
}

async fn cancel_integration(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    match integration(&id) {
        Some(i) => cancel(&inner, i.id, uri.path()),
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

async fn cancel_flow(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    match flow(&id) {
        Some(f) => cancel(&inner, f.id, uri.path()),
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

/// The run `id`, settled to now.
fn find_run(inner: &Inner, id: &str, path: &str) -> Result<Run, Response> {
    if !is_cw_id(id) {
        return Err(api_status(StatusCode::NOT_FOUND, path));
    }
    let now = Instant::now();
    let mut st = inner.state();
    let run = st.cloudworks.runs.get_mut(id).ok_or_else(|| api_status(StatusCode::NOT_FOUND, path))?;
    run.settle(now);
    Ok(run.clone())
}

/// An emulator timestamp (nanoseconds) as CloudWorks writes run dates:
/// `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn run_date(iso: &str) -> String {
    match iso.find('.') {
        Some(dot) if iso.len() > dot + 4 => format!("{}Z", &iso[..dot + 4]),
        _ => iso.to_owned(),
    }
}

/// `GET /integrations/run/{runId}`: the description's `RunStatus`, with `success: false`
/// and no `endDate` while the run runs.
async fn run_status(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let run = match find_run(&inner, &id, uri.path()) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let message = run.message();
    let user = format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME);
    let start = run_date(&run.start_date);
    let end = run.end_date.as_deref().map(run_date);
    let mut body = serde_json::Map::new();
    body.insert("id".into(), json!(id));
    // A flow's run names the flow in `flowGroupId`; which integration id live CloudWorks
    // gives it is not documented, so the key is left out rather than sent as null.
    if !run.flow {
        body.insert("integrationId".into(), json!(run.of));
    }
    body.insert("traceId".into(), json!(uuid::Uuid::new_v4().simple().to_string()));
    body.insert("startDate".into(), json!(start));
    if let Some(end) = &end {
        body.insert("endDate".into(), json!(end));
    }
    body.insert("success".into(), json!(run.success() == Some(true)));
    body.insert("message".into(), json!(message));
    body.insert("creationDate".into(), json!(start));
    body.insert("modificationDate".into(), json!(end.as_deref().unwrap_or(&start)));
    body.insert("createdBy".into(), json!(user));
    body.insert("modifiedBy".into(), json!(user));
    body.insert("executionErrorCode".into(), if run.failed() { json!(39) } else { Value::Null });
    body.insert("flowGroupId".into(), if run.flow { json!(run.of) } else { Value::Null });
    body.insert("triggerSource".into(), json!("manual"));
    let mut answer = serde_json::Map::from_iter([("run".to_owned(), Value::Object(body))]);
    answer
        .insert("meta".into(), json!({ "schema": "https://api.cloudworks.anaplan.com/1/0/integrations/objects/run" }));
    ok(answer)
}

/// `GET /integrations/runs/{integrationId}?offset&limit` (both required): the
/// description's run history, `history_of_runs` with the integration's fields and its runs
/// (`RunRecord`s, newest first; a flow's runs are not an integration's), `meta.paging`.
async fn run_history(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let path = uri.path();
    let Some(i) = integration(&id) else { return api_status(StatusCode::NOT_FOUND, path) };
    let pairs = query_pairs(uri.query());
    let number = |k: &str| pairs.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.parse::<usize>().ok());
    let (Some(offset), Some(limit)) = (number("offset"), number("limit")) else {
        let missing = if number("offset").is_none() { "offset" } else { "limit" };
        return api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [{missing}]"), path);
    };
    let now = Instant::now();
    let mut runs: Vec<(String, Run)> = {
        let mut st = inner.state();
        for r in st.cloudworks.runs.values_mut() {
            r.settle(now);
        }
        st.cloudworks
            .runs
            .iter()
            .filter(|(_, r)| r.of == i.id && !r.flow)
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect()
    };
    runs.sort_by(|a, b| b.1.start_date.cmp(&a.1.start_date));
    let total = runs.len();
    let user = format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME);
    let records: Vec<Value> = runs
        .iter()
        .skip(offset)
        .take(limit.clamp(1, inner.cfg.page_size_cap.max(1)))
        .map(|(run_id, run)| {
            let message = run.message();
            let mut v = json!({
                "id": run_id,
                "triggeredBy": user,
                "startDate": run_date(&run.start_date),
                "success": run.success() == Some(true),
                "message": message,
                "executionErrorCode": if run.failed() { json!(39) } else { Value::Null },
                "traceId": uuid::Uuid::new_v4().simple().to_string(),
                "triggerSource": "manual",
            });
            if let Some(end) = &run.end_date {
                v["endDate"] = json!(run_date(end));
                // `lastRun`: when it ended, in seconds.
                let ended = time::OffsetDateTime::parse(&run_date(end), &time::format_description::well_known::Rfc3339)
                    .map(|t| t.unix_timestamp());
                v["lastRun"] = json!(ended.unwrap_or(unix_now() as i64));
            }
            v
        })
        .collect();
    let mut history = integration_json(&inner, i);
    if let Some(h) = history.as_object_mut() {
        h.remove("latestRun");
        h.remove("nuxVisible");
        h.insert("version".into(), json!("2.0"));
        h.insert("schedule".into(), Value::Null);
        h.insert("status".into(), json!(1));
        h.insert("runs".into(), json!(records));
        h.insert("totalRuns".into(), json!(total));
    }
    let paging = json!({ "currentPageSize": records.len(), "totalSize": total, "offset": offset });
    ok(serde_json::Map::from_iter([
        ("history_of_runs".to_owned(), history),
        (
            "meta".to_owned(),
            json!({ "paging": paging, "schema": "https://api.cloudworks.anaplan.com/2/0/integrations/objects/runs" }),
        ),
    ]))
}

async fn run_errors(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let run = match find_run(&inner, &id, uri.path()) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let runs = if run.failed() {
        json!([{
            "taskId": "5F0E3C1B2A4D4E6F8A9B0C1D2E3F4A5B",
            "errorMessages": [{
                "actionId": BROKEN_ACTION_ID,
                "actionName": BROKEN_ACTION_NAME,
                "failureDumpGenerated": true,
                "errorMessage": [
                    { "localMessageText": BROKEN_MESSAGE, "occurrences": 1, "type": "hierarchyError", "values": ["Atlantis"] },
                    { "localMessageText": "Invalid Region code in row 4: 'Mars' is not in list Regions", "occurrences": 1, "type": "hierarchyError", "values": ["Mars"] }
                ]
            }]
        }])
    } else {
        json!({})
    };
    ok(serde_json::Map::from_iter([("runs".to_owned(), runs)]))
}

fn csv(text: String) -> Response {
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    resp
}

async fn process_import_dump(
    State(inner): State<Arc<Inner>>,
    Ids((id, action)): Ids<(String, String)>,
    uri: Uri,
) -> Response {
    let run = match find_run(&inner, &id, uri.path()) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if run.failed() && action == BROKEN_ACTION_ID {
        csv(broken_dump())
    } else {
        api_status(StatusCode::NOT_FOUND, uri.path())
    }
}

async fn run_dump(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let run = match find_run(&inner, &id, uri.path()) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    // Broken Blob Load is a process integration: its dump is per import step, not here.
    if run.failed() && integration(run.of).is_some_and(|i| i.kind != Kind::Process) {
        csv(broken_dump())
    } else {
        api_error(StatusCode::NOT_FOUND, "Your integration run was successful / no errors", uri.path())
    }
}

fn connection_json(id: &str, c: &Connection) -> Value {
    json!({
        "connectionId": id,
        "connectionType": "AzureBlob",
        "body": { "name": c.name, "storageAccountName": c.account, "containerName": c.container, "authMethod": "SAS-based" },
        "status": if c.sas_expiry > unix_now() { 1 } else { 0 },
        "integrationErrorCode": if c.sas_expiry > unix_now() { Value::Null } else { json!(35) },
        "workspaceId": seed::WS_FPA_ID,
        "authMethod": "SAS-based",
        "creationDate": run_date(&c.created),
        "modificationDate": run_date(&c.created),
        "createdBy": format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME),
        "modifiedBy": format!("{} {}", seed::USER_FIRST_NAME, seed::USER_LAST_NAME),
    })
}

async fn list_connections(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let mut items: Vec<(String, Value)> = {
        let st = inner.state();
        st.cloudworks.connections.iter().map(|(id, c)| (id.to_string(), connection_json(id, c))).collect()
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    cw_paged(&inner, &uri, "connections", serde_json::Map::new(), items.into_iter().map(|(_, v)| v).collect())
}

async fn get_connection(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let st = inner.state();
    match st.cloudworks.connections.get(id.as_str()).filter(|_| is_cw_id(&id)) {
        Some(c) => ok(serde_json::Map::from_iter([("connection".to_owned(), connection_json(&id, c))])),
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

async fn put_connection(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    if !is_cw_id(&id) || !inner.state().cloudworks.connections.contains_key(id.as_str()) {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    {
        let mut st = inner.state();
        if let Some(n) = st.cloudworks.fail_updates.get_mut(&id)
            && *n > 0
        {
            *n -= 1;
            return api_status(StatusCode::INTERNAL_SERVER_ERROR, path);
        }
    }
    let bad = |m: &str| api_error(StatusCode::BAD_REQUEST, m, path);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else { return bad("Malformed JSON request body") };
    if v["type"] != "AzureBlob" {
        return bad("type must be AzureBlob");
    }
    let b = &v["body"];
    let field = |k: &str| b[k].as_str().filter(|s| !s.is_empty());
    let (Some(name), Some(account), Some(container), Some(sas), Some(method)) = (
        field("name"),
        field("storageAccountName"),
        field("containerName"),
        field("sasToken"),
        field("auth_method").or(field("authMethod")),
    ) else {
        return bad("The connection body needs name, storageAccountName, containerName, sasToken and auth_method");
    };
    if method != "SAS-based" {
        return bad("auth_method must be SAS-based for a SAS token");
    }
    let expiry = match check_sas(sas, account, unix_now()) {
        Ok(e) => e,
        Err(why) => {
            tracing::debug!(connection = %id, why, "CloudWorks emulator refused a SAS");
            return bad("Credentials are invalid");
        }
    };
    let mut st = inner.state();
    let Some(c) = st.cloudworks.connections.get_mut(id.as_str()) else {
        return api_status(StatusCode::NOT_FOUND, path);
    };
    c.name = name.to_owned();
    c.account = account.to_owned();
    c.container = container.to_owned();
    c.sas = sas.trim_start_matches('?').to_owned();
    c.sas_expiry = expiry;
    c.updates += 1;
    // The description's SuccessStatus: `{"status": {"code": 200, "message": "Success"}}`.
    ok(serde_json::Map::new())
}

/// Checks a SAS as CloudWorks needs it; the expiry (unix seconds) when it will do.
pub fn check_sas(sas: &str, account: &str, now: u64) -> Result<u64, String> {
    let pairs: HashMap<String, String> = query_pairs(Some(sas.trim().trim_start_matches('?'))).into_iter().collect();
    let get = |k: &str| pairs.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(version), Some(perms), Some(se), Some(sig)) = (get("sv"), get("sp"), get("se"), get("sig")) else {
        return Err("a SAS needs sv, sp, se and sig".into());
    };
    let has_all = |value: &str, needed: &str| needed.chars().all(|c| value.contains(c));
    if !has_all(perms, "rwl") {
        return Err(format!("permissions {perms:?} lack read, write or list"));
    }
    let expiry = parse_sas_time(se).ok_or("se is not a time")?;
    if expiry <= now {
        return Err("the SAS has expired".into());
    }
    if let Some(st) = get("st") {
        let start = parse_sas_time(st).ok_or("st is not a time")?;
        if start > now + 900 {
            return Err("the SAS starts in the future".into());
        }
    }
    if get("skoid").is_some() {
        // A user delegation SAS: for a container, with a delegation key that outlives it.
        if get("sr") != Some("c") {
            return Err("a user delegation SAS must be for the container (sr=c)".into());
        }
        let key_expiry = get("ske").and_then(parse_sas_time).ok_or("ske missing")?;
        if key_expiry < expiry || get("sks") != Some("b") || get("sktid").is_none() || get("skv").is_none() {
            return Err("the user delegation key fields are incomplete or expire before the SAS".into());
        }
        return Ok(expiry);
    }
    let (Some(services), Some(types)) = (get("ss"), get("srt")) else {
        return Err("not an account SAS (ss and srt missing)".into());
    };
    if !services.contains('b') {
        return Err("not for the Blob service".into());
    }
    if !has_all(types, "sco") {
        return Err(format!("resource types {types:?} lack service, container or object"));
    }
    if account == CONNECTION_ACCOUNT {
        let fields = [
            account,
            perms,
            services,
            types,
            get("st").unwrap_or(""),
            se,
            get("sip").unwrap_or(""),
            get("spr").unwrap_or(""),
            version,
            get("ses").unwrap_or(""),
        ];
        let text: String = fields.iter().map(|f| format!("{f}\n")).collect();
        let key = super::util::base64_decode(DEV_ACCOUNT_KEY).unwrap_or_default();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
        mac.update(text.as_bytes());
        let want = super::util::base64_decode(sig).ok_or("sig is not base64")?;
        mac.verify_slice(&want).map_err(|_| "the signature does not match the account key".to_owned())?;
    }
    Ok(expiry)
}

/// `2026-04-06T12:00:00Z` (or with fractions) → unix seconds.
fn parse_sas_time(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date.split('-').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let time = time.split('.').next()?;
    let t: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let (&[y, m, day], &[h, min, sec]) = (d.as_slice(), t.as_slice()) else { return None };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + min * 60 + sec).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_times_parse() {
        assert_eq!(parse_sas_time("2030-01-01T00:00:00Z"), Some(1_893_456_000));
        assert_eq!(parse_sas_time("2030-01-01T00:00:00.5Z"), Some(1_893_456_000));
        assert_eq!(parse_sas_time("2030-13-01T00:00:00Z"), None);
        assert_eq!(parse_sas_time("tomorrow"), None);
    }

    #[test]
    fn weak_or_expired_sas_is_refused() {
        let now = 1_893_000_000;
        let base = "sv=2025-01-05&ss=b&srt=sco&sp=rwl&se=2030-01-01T00:00:00Z&sig=AAAA";
        assert!(check_sas(base, "otheraccount", now).is_ok());
        for weak in [
            base.replace("sp=rwl", "sp=rl"),
            base.replace("srt=sco", "srt=co"),
            base.replace("ss=b", "ss=f"),
            base.replace("2030-01-01", "2029-12-01"),
            base.replace("&sig=AAAA", ""),
            "not a sas".to_owned(),
        ] {
            assert!(check_sas(&weak, "otheraccount", now).is_err(), "{weak}");
        }
        // For the dev account the signature is checked.
        assert!(check_sas(base, CONNECTION_ACCOUNT, now).is_err());
    }
}
