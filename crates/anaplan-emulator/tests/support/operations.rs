//! The operations the emulator serves, as the live-tested description of Anaplan's APIs
//! documents them, written out by hand: for each route (method and the emulator's path
//! template), the answers it may give (status, media type, body shape) and what a request
//! to it may carry (query parameter names, request media types, `Accept`, auth schemes).
//!
//! `source` says where an operation's shape comes from when it is not the description
//! itself (a help page, or the emulator's own choice where both are silent); the README's
//! "The emulator and live Anaplan" lists the same choices.
#![allow(dead_code)]

use super::shapes::*;

/// One answer an operation may give.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    /// The media type (`Content-Type` up to `;`); `None`: no body and no content type.
    pub media: Option<&'static str>,
    /// The JSON body's shape (`None` for a text or binary body, or none).
    pub body: Option<Shape>,
}

/// One documented operation.
#[derive(Clone, Debug)]
pub struct Op {
    pub method: &'static str,
    /// The emulator's route template (`/2/0/models/{m}`).
    pub template: &'static str,
    /// Where the shape comes from, when not the description: "help page …" or "emulator: …".
    pub source: Option<&'static str>,
    pub answers: Vec<Answer>,
    /// Query parameter names a request may carry.
    pub query: &'static [&'static str],
    /// Media types a request body may have (empty: the request has no body).
    pub content_types: &'static [&'static str],
    /// The body may also be left out (the description does not require it).
    pub body_optional: bool,
    /// Media types a request's `Accept` may name (empty: any or none).
    pub accept: &'static [&'static str],
    /// Authorization schemes the operation takes (empty: none).
    pub auth: &'static [&'static str],
}

const ANAPLAN: &[&str] = &["AnaplanAuthToken", "Bearer"];
const ANAPLAN_ONLY: &[&str] = &["AnaplanAuthToken"];
const SCIM_AUTH: &[&str] = &["AnaplanAuthToken", "Bearer", "Basic"];
const JSON: &[&str] = &["application/json"];
const PAGING: &[&str] = &["offset", "limit"];
const SORTED_PAGING: &[&str] = &["sort", "offset", "limit"];

fn json(status: u16, body: Shape) -> Answer {
    Answer { status, media: Some("application/json"), body: Some(body) }
}

fn media(status: u16, media: &'static str) -> Answer {
    Answer { status, media: Some(media), body: None }
}

fn empty(status: u16) -> Answer {
    Answer { status, media: None, body: None }
}

fn op(method: &'static str, template: &'static str, answers: Vec<Answer>) -> Op {
    Op {
        method,
        template,
        source: None,
        answers,
        query: &[],
        content_types: &[],
        body_optional: false,
        accept: &[],
        auth: ANAPLAN,
    }
}

impl Op {
    fn source(mut self, s: &'static str) -> Op {
        self.source = Some(s);
        self
    }
    fn query(mut self, q: &'static [&'static str]) -> Op {
        self.query = q;
        self
    }
    fn body(mut self, types: &'static [&'static str]) -> Op {
        self.content_types = types;
        self
    }
    /// The body is optional: a request may carry none.
    fn optional_body(mut self) -> Op {
        self.body_optional = true;
        self
    }
    fn accept(mut self, types: &'static [&'static str]) -> Op {
        self.accept = types;
        self
    }
    fn auth(mut self, schemes: &'static [&'static str]) -> Op {
        self.auth = schemes;
        self
    }
}

/// A page of audit events (`GET /events`, `POST /events/search`): `meta.paging` with
/// `offSet` (the Audit API's spelling) and the events in `response`.
fn audit_page() -> Shape {
    obj(vec![
        req(
            "meta",
            obj(vec![req(
                "paging",
                obj(vec![
                    req("currentPageSize", Shape::Int),
                    req("totalSize", Shape::Int),
                    req("offSet", Shape::Int),
                    opt("nextOffset", Shape::Int),
                    opt("nextUrl", Shape::Str),
                    opt("previousUrl", Shape::Str),
                ]),
            )]),
        ),
        req("response", arr(audit_event())),
    ])
}

// ------------------------------------------------------------- Integration API shapes

/// `meta`: `schema` and, on collections, `paging`.
fn meta() -> Shape {
    obj(vec![
        req("schema", Shape::Str),
        opt(
            "paging",
            obj(vec![
                req("currentPageSize", Shape::Int),
                req("totalSize", Shape::Int),
                req("offset", Shape::Int),
                opt("next", Shape::Str),
                opt("previous", Shape::Str),
            ]),
        ),
    ])
}

fn status() -> Shape {
    obj(vec![opt("code", Shape::Int), opt("message", Shape::Str)])
}

/// `{meta, status}` and `fields`.
fn envelope(mut fields: Vec<Field>) -> Shape {
    fields.push(opt("meta", meta()));
    fields.push(opt("status", status()));
    obj(fields)
}

/// A collection: `{meta, status, <key>: [item]}` (an empty collection omits its key).
fn collection(key: &'static str, item: Shape) -> Shape {
    envelope(vec![opt(key, arr(item))])
}

/// The description's `User` (`GET /users`, `/users/{userId}`, `/users/me`).
fn integration_user() -> Shape {
    obj(vec![
        req("id", hex32()),
        opt("firstName", Shape::Str),
        opt("lastName", Shape::Str),
        opt("email", Shape::Str),
        opt("active", Shape::Bool),
        opt("lastLoginDate", date_time()),
        opt("emailOptIn", Shape::Bool),
        opt("customerId", Shape::Str),
    ])
}

/// The description's `Admin` and `Visitor`: no id, every field optional.
fn workspace_member() -> Shape {
    obj(vec![
        opt("firstName", Shape::Str),
        opt("lastName", Shape::Str),
        opt("email", Shape::Str),
        opt("active", Shape::Bool),
        opt("otherWorkspaces", arr(Shape::Str)),
    ])
}

/// `{id, name, code?}`: modules, lists, processes, dimensions and their items.
fn named() -> Shape {
    obj(vec![req("id", Shape::Str), req("name", Shape::Str), opt("code", Shape::Str)])
}

/// The Integration API's error: `{"status": {code, message}, "path", "timestamp"}`.
pub fn api_error() -> Shape {
    obj(vec![req("status", status()), opt("path", Shape::Str), opt("timestamp", date_time())])
}

const ACTIVE_STATES: &[&str] =
    &["MAINTENANCE", "UNLOCKED", "PRODUCTION", "ARCHIVED", "PRODUCTION_MAINTENANCE", "LOCKED"];

/// A model, as listed and as `GET /models/{m}` has it (`modelDetails=true` adds the rest).
fn model() -> Shape {
    obj(vec![
        req("id", Shape::StrLike("32 hex", |s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))),
        req("name", Shape::Str),
        req("activeState", Shape::Enum(ACTIVE_STATES)),
        opt("currentWorkspaceId", hex32()),
        opt("currentWorkspaceName", Shape::Str),
        opt("modelUrl", Shape::Str),
        opt(
            "categoryValues",
            arr(obj(vec![
                opt("id", Shape::Str),
                opt("attribute", Shape::Str),
                opt("categoryId", Shape::Str),
                opt("categoryName", Shape::Str),
                opt("customerId", Shape::Str),
            ])),
        ),
        opt("isoCreationDate", Shape::Str),
        opt("lastModified", Shape::Str),
        opt("lastModifiedByUserGuid", Shape::Str),
        opt("lastSavedSerialNumber", Shape::Str),
        opt("memoryUsage", Shape::Num),
        opt("modelTransactionRunning", Shape::Bool),
    ])
}

fn view() -> Shape {
    obj(vec![req("id", Shape::Str), req("name", Shape::Str), opt("moduleId", Shape::Str), opt("code", Shape::Str)])
}

const TASK_STATES: &[&str] = &["NOT_STARTED", "IN_PROGRESS", "COMPLETE", "CANCELLING", "CANCELLED"];

/// A task's `result` (`nestedResults` are results again; two levels are checked).
fn task_result(depth: usize) -> Shape {
    let mut fields = vec![
        opt(
            "details",
            arr(obj(vec![
                opt("localMessageText", Shape::Str),
                opt("occurrences", Shape::Int),
                opt("type", Shape::Str),
                opt("values", arr(Shape::Str)),
            ])),
        ),
        opt("duration", Shape::Str),
        opt("failureDumpAvailable", Shape::Bool),
        opt("objectId", Shape::Str),
        opt("objectName", Shape::Str),
        opt("startTime", Shape::Str),
        req("successful", Shape::Bool),
    ];
    if depth > 0 {
        fields.push(opt("nestedResults", arr(task_result(depth - 1))));
    }
    obj(fields)
}

/// A task. `cancelledBy` is the help pages' (Anaplan's task reference shows it on a
/// cancelled task); the description's schema does not list it.
fn task() -> Shape {
    obj(vec![
        req("taskId", upper_hex32()),
        req("taskState", Shape::Enum(TASK_STATES)),
        opt("creationTime", Shape::Int),
        opt("currentStep", Shape::Str),
        opt("progress", Shape::Num),
        opt("result", task_result(2)),
        opt("cancelledBy", hex32()),
    ])
}

fn chunks() -> Shape {
    collection("chunks", obj(vec![req("id", Shape::Str), req("name", Shape::Str), opt("code", Shape::Str)]))
}

/// A file as listed, and as a chunk count or completion answers it. `origin`, `country` and
/// `language` never appear live (README, "Fields Absent from Live Responses"): not listed.
fn file() -> Shape {
    obj(vec![
        req("id", numeric_id()),
        req("name", Shape::Str),
        opt("chunkCount", Shape::Int),
        opt("code", Shape::Str),
        opt("delimiter", Shape::Str),
        opt("encoding", Shape::Enum(&["ISO-8859-1", "UTF-16LE", "UTF-8"])),
        opt("firstDataRow", Shape::Int),
        opt("format", Shape::Str),
        opt("headerRow", Shape::Int),
        opt("separator", Shape::Str),
    ])
}

const EXPORT_TYPES: &[&str] =
    &["AUDIT_LOG", "GRID_CURRENT_PAGE", "TABULAR_ALL_LINE_ITEMS", "TABULAR_CURRENT_LINE_ITEM", "TABULAR_MULTI_COLUMN"];
const IMPORT_TYPES: &[&str] = &["HIERARCHY_DATA", "LINE_ITEM_DEFINITION", "MODULE_DATA", "USERS"];

fn export_item() -> Shape {
    obj(vec![
        req("id", numeric_id()),
        req("name", Shape::Str),
        opt("code", Shape::Str),
        opt("exportType", Shape::Enum(EXPORT_TYPES)),
        opt("encoding", Shape::Str),
        opt("exportFormat", Shape::Str),
        opt("layout", Shape::Str),
    ])
}

fn import_data_source() -> Shape {
    obj(vec![
        opt("importDataSourceId", Shape::Str),
        opt("sourceModelId", Shape::Str),
        opt("sourceModelName", Shape::Str),
        opt("sourceWorkspaceId", Shape::Str),
        opt("type", Shape::Str),
    ])
}

fn import_item() -> Shape {
    obj(vec![
        req("id", numeric_id()),
        req("name", Shape::Str),
        opt("code", Shape::Str),
        opt("importDataSource", import_data_source()),
        opt("importDataSourceId", Shape::Str),
        opt("importType", Shape::Enum(IMPORT_TYPES)),
    ])
}

/// `processMetadata`: the description's example (`name`, `actions[]` with `actionType`
/// and each action's own fields; `encoding` on an export step as the exports list has it).
fn process_metadata() -> Shape {
    obj(vec![
        opt("code", Shape::Str),
        opt("id", Shape::Str),
        req("name", Shape::Str),
        opt(
            "actions",
            arr(obj(vec![
                req("id", numeric_id()),
                req("name", Shape::Str),
                req("actionType", Shape::Str),
                opt("importDataSourceId", Shape::Str),
                opt("importType", Shape::Enum(IMPORT_TYPES)),
                opt("importDataSource", import_data_source()),
                opt("exportType", Shape::Enum(EXPORT_TYPES)),
                opt("exportFormat", Shape::Str),
                opt("encoding", Shape::Str),
                opt("layout", Shape::Str),
            ])),
        ),
    ])
}

fn view_read_request() -> Shape {
    envelope(vec![opt(
        "viewReadRequest",
        obj(vec![
            req("requestId", upper_hex32()),
            req("requestState", Shape::Enum(TASK_STATES)),
            opt("url", Shape::Str),
            opt("availablePages", Shape::Int),
            opt("successful", Shape::Bool),
            opt("viewId", Shape::Int),
        ]),
    )])
}

fn list_read_request() -> Shape {
    envelope(vec![opt(
        "listReadRequest",
        obj(vec![
            req("requestId", upper_hex32()),
            req("requestState", Shape::Enum(TASK_STATES)),
            opt("url", Shape::Str),
            opt("availablePages", Shape::Int),
            opt("listId", Shape::Str),
            opt("successful", Shape::Bool),
        ]),
    )])
}

fn failures() -> Shape {
    arr(obj(vec![
        req("requestIndex", Shape::Int),
        req("failureType", Shape::Str),
        req("failureMessageDetails", Shape::Str),
    ]))
}

fn list_metadata() -> Shape {
    let id_name = || obj(vec![opt("id", Shape::Str), opt("name", Shape::Str)]);
    obj(vec![
        opt("category", Shape::Str),
        opt("dataTags", arr(Shape::Str)),
        opt("hasSelectiveAccess", Shape::Bool),
        req("id", numeric_id()),
        opt("itemCount", Shape::Int),
        opt("managedBy", Shape::Str),
        req("name", Shape::Str),
        // The description's spelling; only numbered lists have it.
        opt("nextitemIndex", Shape::Int),
        opt("numberedList", Shape::Bool),
        opt("parent", id_name()),
        opt("permittedItems", Shape::Int),
        opt("productionData", Shape::Bool),
        opt(
            "properties",
            arr(obj(vec![
                req("name", Shape::Str),
                opt("dataTags", arr(Shape::Str)),
                opt("format", Shape::Str),
                opt("formula", Shape::Str),
                opt("notes", Shape::Str),
                opt("referencedBy", Shape::Str),
            ])),
        ),
        opt("subsets", arr(id_name())),
        opt("topLevelItem", id_name()),
        opt("useTopLevelAsPageDefault", Shape::Bool),
        opt("workflowEnabled", Shape::Bool),
    ])
}

fn list_item() -> Shape {
    obj(vec![
        req("id", Shape::Str),
        req("name", Shape::Str),
        opt("code", Shape::Str),
        opt("parent", Shape::Str),
        opt("parentId", Shape::Str),
        opt("listId", Shape::Str),
        opt("listName", Shape::Str),
        opt("subsets", map(Shape::Bool)),
        opt("properties", map(Shape::Str)),
    ])
}

fn line_item() -> Shape {
    let id_name = || obj(vec![opt("id", Shape::Str), opt("name", Shape::Str)]);
    obj(vec![
        opt("appliesTo", arr(id_name())),
        opt("breakback", Shape::Bool),
        opt("broughtForward", Shape::Bool),
        opt("cellCount", Shape::Int),
        opt("code", Shape::Str),
        opt("dataTags", arr(id_name())),
        opt("format", Shape::Str),
        opt("formatMetadata", Shape::AnyObj),
        opt("formula", Shape::Str),
        opt("formulaScope", Shape::Str),
        req("id", Shape::Str),
        opt("isSummary", Shape::Bool),
        opt("moduleId", Shape::Str),
        opt("moduleName", Shape::Str),
        req("name", Shape::Str),
        opt("notes", Shape::Str),
        opt("parent", id_name()),
        opt("readAccessDriver", id_name()),
        opt("referencedBy", arr(id_name())),
        opt("startOfSection", Shape::Bool),
        opt("style", Shape::Str),
        opt("summary", Shape::Str),
        opt("timeRange", Shape::Str),
        opt("timeScale", Shape::Str),
        opt("useSwitchover", Shape::Bool),
        opt("version", id_name()),
        opt("writeAccessDriver", id_name()),
    ])
}

/// Dimension items: not paged ("returns all"), so `meta` has its schema only.
fn dimension_items() -> Shape {
    obj(vec![opt("meta", obj(vec![req("schema", Shape::Str)])), opt("status", status()), opt("items", arr(named()))])
}

// ---------------------------------------------------------------------- CloudWorks

/// CloudWorks' errors: `{"status": {code, message}, "path", "timestamp"}` (README: cancel's
/// errors use this shape).
pub fn cw_error() -> Shape {
    obj(vec![req("status", status()), opt("path", Shape::Str), opt("timestamp", Shape::Str)])
}

fn cw_paging_meta(tenant_counts: bool) -> Shape {
    let mut fields = vec![
        opt(
            "paging",
            obj(vec![opt("currentPageSize", Shape::Int), opt("totalSize", Shape::Int), opt("offset", Shape::Int)]),
        ),
        opt("schema", Shape::Str),
    ];
    if tenant_counts {
        fields.push(opt("tenantCurrentCount", Shape::Int));
        fields.push(opt("tenantMaxAllowed", Shape::Int));
    }
    obj(fields)
}

fn latest_run(sources: &'static [&'static str]) -> Shape {
    obj(vec![
        opt("triggeredBy", Shape::Str),
        opt("startDate", date_time()),
        opt("endDate", date_time()),
        opt("success", Shape::Bool),
        opt("message", Shape::Str),
        opt("executionErrorCode", nullable(Shape::Int)),
        opt("triggerSource", Shape::Enum(sources)),
    ])
}

const TRIGGERS: &[&str] = &["scheduled", "manual", "scheduled_inf", "manual_inf", "nux_dashboard"];
const FLOW_TRIGGERS: &[&str] = &["scheduled", "manual", "scheduled_inf"];

fn schedule() -> Shape {
    obj(vec![
        req("name", Shape::Str),
        req("type", Shape::Enum(&["weekly", "daily", "hourly", "monthly_specific_day", "monthly_relative_weekday"])),
        opt("time", Shape::Str),
        opt("fromTime", Shape::Str),
        opt("toTime", Shape::Str),
        opt("daysOfWeek", arr(Shape::Int)),
        opt("dayOfMonth", Shape::Int),
        opt("dayOfWeek", Shape::Int),
        opt("repeatEvery", Shape::Int),
        req("startDate", Shape::Str),
        req("endDate", Shape::Str),
        req("timezone", Shape::Str),
        opt("status", Shape::Enum(&["Active", "Inactive"])),
    ])
}

fn integration_fields() -> Vec<Field> {
    vec![
        req("integrationId", hex32()),
        req("name", Shape::Str),
        opt("integrationType", Shape::Enum(&["Process", "Export", "Import"])),
        opt("processId", numeric_id()),
        opt("workspaceId", hex32()),
        opt("modelId", upper_hex32()),
        opt("createdBy", Shape::Str),
        opt("creationDate", date_time()),
        opt("modificationDate", date_time()),
        opt("modifiedBy", Shape::Str),
        opt("latestRun", latest_run(TRIGGERS)),
        opt("notificationId", hex32()),
        opt("nuxVisible", Shape::Bool),
        opt("schedule", schedule()),
    ]
}

fn job_end(types: &'static [&'static str]) -> Shape {
    obj(vec![
        opt("type", Shape::Enum(types)),
        opt("connectionId", hex32()),
        opt("file", Shape::Str),
        opt("table", Shape::Str),
        opt("actionId", numeric_id()),
        opt("fileId", numeric_id()),
        opt("overwrite", Shape::Bool),
        opt("connectionName", Shape::Str),
        opt("isConnectionDeleted", Shape::Bool),
        opt("bucketName", Shape::Str),
    ])
}

fn integration_detail() -> Shape {
    let mut fields = integration_fields();
    fields.push(opt("version", Shape::Str));
    fields.push(opt(
        "jobs",
        arr(obj(vec![
            req(
                "type",
                Shape::Enum(&[
                    "AmazonS3ToAnaplan",
                    "AnaplanToAmazonS3",
                    "GoogleBigQueryToAnaplan",
                    "AnaplanToGoogleBigQuery",
                    "AzureBlobToAnaplan",
                    "AnaplanToAzureBlob",
                ]),
            ),
            req("sources", arr(job_end(&["AmazonS3", "GoogleBigQuery", "AzureBlob", "Anaplan"]))),
            req("targets", arr(job_end(&["Anaplan", "AmazonS3", "GoogleBigQuery", "AzureBlob"]))),
            opt("mapping", arr(obj(vec![opt("sourceName", Shape::Str), opt("targetName", Shape::Str)]))),
        ])),
    ));
    obj(fields)
}

fn flow_fields() -> Vec<Field> {
    vec![
        req("id", hex32()),
        req("name", Shape::Str),
        opt("createdBy", Shape::Str),
        opt("creationDate", date_time()),
        opt("modificationDate", date_time()),
        opt("modifiedBy", Shape::Str),
        opt("nuxVisible", Shape::Bool),
        opt("stepsCount", Shape::Int),
        opt("latestRun", latest_run(FLOW_TRIGGERS)),
        opt("schedule", schedule()),
    ]
}

fn flow_detail() -> Shape {
    let mut fields = flow_fields();
    fields.push(opt("version", Shape::Str));
    fields.push(opt(
        "steps",
        arr(obj(vec![
            req("referrer", hex32()),
            opt("name", Shape::Str),
            req("type", Shape::Enum(&["Process", "Export", "Import"])),
            opt("createdBy", Shape::Str),
            opt("createdDate", Shape::Str),
            opt("modifiedDate", Shape::Str),
            opt("modifiedBy", nullable(Shape::Str)),
            opt("modelId", upper_hex32()),
            opt("workspaceId", hex32()),
            req("dependsOn", arr(hex32())),
            opt("isSkipped", Shape::Bool),
            opt(
                "exceptionBehavior",
                arr(obj(vec![
                    opt("type", Shape::Enum(&["failure", "partial_success"])),
                    opt("strategy", Shape::Enum(&["stop", "continue"])),
                ])),
            ),
            opt("latestRun", latest_run(FLOW_TRIGGERS)),
        ])),
    ));
    obj(fields)
}

fn cw_status_only() -> Shape {
    obj(vec![req("status", status())])
}

fn run_started() -> Shape {
    obj(vec![req("status", status()), req("run", obj(vec![req("id", hex32())]))])
}

fn run_status() -> Shape {
    obj(vec![
        opt("status", status()),
        opt("meta", obj(vec![opt("schema", Shape::Str)])),
        req(
            "run",
            obj(vec![
                req("id", hex32()),
                opt("integrationId", hex32()),
                opt("traceId", hex32()),
                opt("startDate", date_time()),
                opt("endDate", date_time()),
                req("success", Shape::Bool),
                opt("message", Shape::Str),
                opt("creationDate", date_time()),
                opt("modificationDate", date_time()),
                opt("createdBy", Shape::Str),
                opt("modifiedBy", nullable(Shape::Str)),
                opt("executionErrorCode", nullable(Shape::Int)),
                opt("flowGroupId", nullable(hex32())),
                opt("triggerSource", Shape::Enum(FLOW_TRIGGERS)),
            ]),
        ),
    ])
}

fn run_errors() -> Shape {
    let run = obj(vec![
        opt("id", Shape::Str),
        opt(
            "errorMessages",
            arr(obj(vec![
                opt(
                    "errorMessage",
                    arr(obj(vec![
                        opt("localMessageText", Shape::Str),
                        opt("occurrences", Shape::Int),
                        opt("type", Shape::Str),
                        opt("values", arr(Shape::Str)),
                    ])),
                ),
                opt("actionId", numeric_id()),
                opt("actionName", Shape::Str),
                opt("failureDumpGenerated", Shape::Bool),
            ])),
        ),
        opt("taskId", Shape::Str),
        opt("creationDate", date_time()),
        opt("modificationDate", date_time()),
        opt("createdBy", Shape::Str),
        opt("modifiedBy", Shape::Str),
    ]);
    // `runs` is `{}` (an empty object, README) for a run without errors.
    obj(vec![
        req("status", status()),
        opt("meta", Shape::AnyObj),
        req("runs", Shape::OneOf(vec![arr(run), obj(vec![])])),
    ])
}

/// `GET /integrations/runs/{integrationId}`: the integration and its `RunRecord`s.
fn run_history() -> Shape {
    let record = obj(vec![
        req("id", hex32()),
        opt("triggeredBy", Shape::Str),
        opt("lastRun", Shape::Int),
        opt("startDate", date_time()),
        opt("endDate", date_time()),
        opt("success", Shape::Bool),
        opt("message", Shape::Str),
        opt("executionErrorCode", nullable(Shape::Int)),
        opt("traceId", hex32()),
        opt("triggerSource", Shape::Enum(FLOW_TRIGGERS)),
    ]);
    obj(vec![
        req("status", status()),
        req(
            "history_of_runs",
            obj(vec![
                req("integrationId", hex32()),
                opt("name", Shape::Str),
                opt("integrationType", Shape::Enum(&["Process", "Export", "Import"])),
                opt("processId", numeric_id()),
                opt("version", Shape::Str),
                opt("schedule", nullable(schedule())),
                opt("workspaceId", hex32()),
                opt("modelId", upper_hex32()),
                opt("creationDate", date_time()),
                opt("modificationDate", date_time()),
                opt("createdBy", Shape::Str),
                opt("modifiedBy", Shape::Str),
                opt("status", Shape::Int),
                opt("notificationId", hex32()),
                opt("runs", arr(record)),
                opt("totalRuns", Shape::Int),
            ]),
        ),
        opt("meta", cw_paging_meta(true)),
    ])
}

fn connection() -> Shape {
    obj(vec![
        req("connectionId", hex32()),
        req("connectionType", Shape::Enum(&["AmazonS3", "GoogleBigQuery", "AzureBlob"])),
        req("body", Shape::AnyObj),
        opt("creationDate", date_time()),
        opt("modificationDate", date_time()),
        opt("createdBy", Shape::Str),
        opt("modifiedBy", Shape::Str),
        opt("status", Shape::Int),
        opt("integrationErrorCode", nullable(Shape::Int)),
        opt("workspaceId", nullable(hex32())),
        opt("authMethod", nullable(Shape::Str)),
    ])
}

// ----------------------------------------------------------------------- SCIM, Audit

fn scim_user() -> Shape {
    obj(vec![
        opt("schemas", arr(Shape::Str)),
        req("id", hex32()),
        opt("externalId", Shape::Str),
        req("userName", Shape::Str),
        req(
            "name",
            obj(vec![req("familyName", Shape::Str), req("givenName", Shape::Str), opt("formatted", Shape::Str)]),
        ),
        opt("displayName", Shape::Str),
        opt("active", Shape::Bool),
        opt("emails", arr(obj(vec![opt("value", Shape::Str), opt("type", Shape::Str), opt("primary", Shape::Bool)]))),
        opt(
            "entitlements",
            arr(obj(vec![
                opt("value", Shape::Str),
                opt("display", Shape::Str),
                opt("type", Shape::Enum(&["WORKSPACE", "WORKSPACE_IDS", "WORKSPACE_NAMES"])),
                opt("primary", Shape::Bool),
            ])),
        ),
        // `created`/`lastModified` are SCIM's (RFC 7643 §3.1); the description lists
        // `resourceType` and `location` only, and no live sample of a user shows `meta`.
        opt(
            "meta",
            obj(vec![
                opt("resourceType", Shape::Str),
                opt("location", Shape::Str),
                opt("created", date_time()),
                opt("lastModified", date_time()),
            ]),
        ),
    ])
}

pub fn scim_error() -> Shape {
    obj(vec![
        req("schemas", arr(Shape::Str)),
        req("status", Shape::Str),
        opt("detail", Shape::Str),
        opt("scimType", Shape::Str),
    ])
}

fn scim_json(status: u16, body: Shape) -> Answer {
    Answer { status, media: Some("application/scim+json"), body: Some(body) }
}

fn audit_event() -> Shape {
    let tenant = || Shape::StrLike("32 lowercase hex", |s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    obj(vec![
        req("id", Shape::Int),
        req("eventTypeId", Shape::Str),
        req("userId", Shape::Str),
        req("tenantId", tenant()),
        req("objectId", Shape::Str),
        opt("objectTypeId", Shape::Str),
        opt("objectTenantId", tenant()),
        req("additionalAttributes", nullable(Shape::AnyObj)),
        req("message", Shape::Str),
        req("success", Shape::Bool),
        opt("errorNumber", Shape::Str),
        req("ipAddress", Shape::Str),
        req("userAgent", Shape::Str),
        opt("sessionId", Shape::Str),
        req("hostName", Shape::Str),
        opt("serviceVersion", Shape::Str),
        req("eventDate", Shape::Int),
        req("eventTimeZone", Shape::Str),
        req("createdDate", Shape::Int),
        req("createdTimeZone", Shape::Str),
        req("checksum", Shape::StrLike("a numeric string", |s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))),
    ])
}

/// Exception Users' error body (`statusMessage`, live-corrected from Apiary's `message`).
pub fn exception_error() -> Shape {
    obj(vec![opt("status", Shape::Str), opt("statusMessage", Shape::Str)])
}

/// One workspace of an exception-user search.
fn exception_workspace() -> Shape {
    obj(vec![
        opt("workspaceGuid", hex32()),
        opt("workspaceName", Shape::Str),
        opt("users", arr(obj(vec![opt("userGuid", hex32()), opt("email", Shape::Str)]))),
    ])
}

/// The Administration API's error body.
pub fn admin_error() -> Shape {
    obj(vec![opt("status", Shape::Str), opt("message", Shape::Str)])
}

pub fn audit_error() -> Shape {
    obj(vec![req("status", Shape::Str), req("statusMessage", Shape::Str)])
}

// ------------------------------------------------------------------ token services

fn token_info(refresh: bool) -> Shape {
    let uuid = || {
        Shape::StrLike("a UUID", |s| {
            s.len() == 36
                && s.split('-').map(str::len).eq([8, 4, 4, 4, 12])
                && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
        })
    };
    let mut fields = vec![req("expiresAt", Shape::Int), req("tokenId", uuid())];
    if refresh {
        fields.push(req("refreshTokenId", uuid()));
        fields.push(req("tokenValue", Shape::Str));
        // Added by the help page "API updates" (newer than the description): optional.
        fields.push(opt("refreshToken", Shape::Str));
    }
    obj(fields)
}

fn legacy_answer(message: &'static [&'static str], validate: bool) -> Shape {
    let mut fields = vec![
        req("tokenInfo", token_info(!validate)),
        req("status", Shape::Enum(&["SUCCESS"])),
        req("statusMessage", Shape::Enum(message)),
        opt("meta", obj(vec![opt("validationUrl", Shape::Str)])),
    ];
    if validate {
        fields.push(req(
            "userInfo",
            obj(vec![req("userGuid", hex32()), req("userId", Shape::Str), req("customerGuid", hex32())]),
        ));
    }
    obj(fields)
}

fn oauth_error() -> Shape {
    obj(vec![req("error", Shape::Str), req("error_description", Shape::Str), opt("error_uri", Shape::Str)])
}

// ------------------------------------------------------------------------ the table

const M: &str = "/2/0/workspaces/{ws}/models/{m}";

/// A version's period: `{periodText, date}`.
fn period() -> Shape {
    obj(vec![opt("periodText", Shape::Str), opt("date", Shape::Str)])
}

/// A version, as `versionMetadata` lists it (a field that is not set is absent).
fn version() -> Shape {
    obj(vec![
        req("id", numeric_id()),
        req("name", Shape::Str),
        opt("code", Shape::Str),
        opt("isCurrent", Shape::Bool),
        opt("isActual", Shape::Bool),
        opt("switchover", period()),
        opt("formula", Shape::Str),
        opt("editFrom", period()),
        opt("editTo", period()),
        opt("notes", Shape::Str),
    ])
}

/// `versionSwitchover`: the description's `Switchover`.
fn switchover() -> Shape {
    obj(vec![
        opt("periodText", Shape::Str),
        opt("date", Shape::Str),
        opt("calendarType", Shape::Str),
        opt("code", Shape::Str),
        opt("id", Shape::Str),
        opt("name", Shape::Str),
    ])
}

/// Where the calendar operations' 403, 422 and 423 come from.
const CALENDAR_ROLE: &str = "403: the README's observation of another Workspace Administrator operation; 422/423: the \
     emulator's model-state choice, as for task starts";

/// A calendar read: 200 `{meta, status, <key>}`, 403, 404, 422.
fn calendar_read(key: &'static str, shape: Shape) -> Vec<Answer> {
    vec![
        json(200, envelope(vec![opt(key, shape)])),
        json(403, api_error()),
        json(404, api_error()),
        json(422, api_error()),
    ]
}

/// A calendar write: as a read, and 400 (a date or year refused) and 423.
fn calendar_write(key: &'static str, shape: Shape) -> Vec<Answer> {
    let mut answers = calendar_read(key, shape);
    answers.extend([json(400, api_error()), json(423, api_error())]);
    answers
}

/// `currentPeriod`: the description's `CurrentPeriod` (empty texts when none is set).
fn current_period() -> Shape {
    obj(vec![opt("periodText", Shape::Str), opt("lastDay", Shape::Str), opt("calendarType", Shape::Str)])
}

/// `modelCalendar`: the description's `ModelCalendar` (an empty object for a calendar type
/// without fiscal years).
fn model_calendar() -> Shape {
    obj(vec![
        opt("calendarType", Shape::Str),
        opt("currentPeriod", obj(vec![opt("lastDay", Shape::Str), opt("periodText", Shape::Str)])),
        opt("extraWeekMonth", Shape::Int),
        opt("fiscalYear", obj(vec![opt("year", Shape::Str), opt("startDate", Shape::Str), opt("endDate", Shape::Str)])),
        opt("futureYearsCount", Shape::Int),
        opt("pastYearsCount", Shape::Int),
        opt("startDate", Shape::Str),
        opt(
            "totalsSelection",
            obj(vec![
                opt("extraMonthQuarter", Shape::Int),
                opt("isHalfYearTotals", Shape::Bool),
                opt("isQuarterTotals", Shape::Bool),
                opt("isTotalOfAllPeriods", Shape::Bool),
                opt("isYearToDateSummary", Shape::Bool),
                opt("isYearToGoSummary", Shape::Bool),
            ]),
        ),
        opt("weekFormat", Shape::Str),
        opt("weekGrouping", Shape::Str),
        opt("weeksCount", Shape::Int),
    ])
}

/// Every operation the emulator serves (its `/_emulator` controls aside).
pub fn operations() -> Vec<Op> {
    let not_found = || json(404, api_error());
    let mut ops = vec![
        // ---------------------------------------------------------- token services
        op(
            "POST",
            "/oauth/token",
            vec![
                json(
                    200,
                    obj(vec![
                        req("access_token", Shape::Str),
                        opt("id_token", Shape::Str),
                        req("refresh_token", Shape::Str),
                        opt("scope", Shape::Str),
                        req("expires_in", Shape::Int),
                        req("token_type", Shape::Enum(&["Bearer"])),
                    ]),
                ),
                json(400, oauth_error()),
                json(401, oauth_error()),
            ],
        )
        .body(&["application/json", "application/x-www-form-urlencoded"])
        .auth(&[]),
        op(
            "POST",
            "/oauth/device/code",
            vec![
                json(
                    200,
                    obj(vec![
                        req("device_code", Shape::Str),
                        req("user_code", Shape::Str),
                        req("verification_uri", Shape::Str),
                        opt("verification_uri_complete", Shape::Str),
                        req("expires_in", Shape::Int),
                        req("interval", Shape::Int),
                    ]),
                ),
                json(400, oauth_error()),
            ],
        )
        .body(&["application/json", "application/x-www-form-urlencoded"])
        .auth(&[]),
        op("GET", "/auth/authorize", vec![empty(302), media(400, "text/plain")])
            .query(&["response_type", "client_id", "redirect_uri", "scope", "state"])
            .auth(&[]),
        op("GET", "/auth/prelogin", vec![empty(302), media(400, "text/plain")])
            .source("CONTEXT.md: found by live testing, not in the description's paths; answered as /auth/authorize")
            .query(&["response_type", "client_id", "redirect_uri", "scope", "state"])
            .auth(&[]),
        op("GET", "/activate", vec![media(200, "text/plain"), media(400, "text/plain")])
            .source("emulator: the device grant's verification page (a web page, not an API operation)")
            .query(&["user_code"])
            .auth(&[]),
        op(
            "POST",
            "/token/authenticate",
            vec![
                json(201, legacy_answer(&["Login successful"], false)),
                json(400, audit_error()),
                json(401, audit_error()),
            ],
        )
        .body(&["application/json"])
        // Its text: Basic sends "no request body"; its schema: a required JSON body that may be
        // empty (EmptyPayload). Both readings pass.
        .optional_body()
        .auth(&["Basic", "CACertificate"]),
        op(
            "POST",
            "/token/refresh",
            vec![
                json(200, legacy_answer(&["Token refreshed"], false)),
                json(400, audit_error()),
                json(401, audit_error()),
            ],
        )
        .auth(ANAPLAN_ONLY),
        op(
            "GET",
            "/token/validate",
            vec![
                json(200, legacy_answer(&["Token validated"], true)),
                json(400, audit_error()),
                json(401, audit_error()),
            ],
        )
        .auth(ANAPLAN_ONLY),
        op("POST", "/token/logout", vec![empty(204), json(401, audit_error())]).auth(ANAPLAN_ONLY),
        // ---------------------------------------------------------- discovery
        op(
            "GET",
            "/2/0/users/me",
            vec![
                json(
                    200,
                    envelope(vec![opt(
                        "user",
                        obj(vec![
                            req("id", hex32()),
                            opt("firstName", Shape::Str),
                            opt("lastName", Shape::Str),
                            opt("email", Shape::Str),
                            opt("active", Shape::Bool),
                            opt("lastLoginDate", date_time()),
                            opt("emailOptIn", Shape::Bool),
                            opt("customerId", Shape::Str),
                        ]),
                    )]),
                ),
                json(401, api_error()),
            ],
        ),
        op("GET", "/2/0/users", vec![json(200, collection("users", integration_user()))])
            .query(&["s", "sort", "offset", "limit"]),
        op("GET", "/2/0/users/{id}", vec![json(200, envelope(vec![opt("user", integration_user())])), not_found()]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/admins",
            vec![json(200, collection("admins", workspace_member())), json(500, api_error()), not_found()],
        )
        .source("500 for a caller without the User Administrator role: the README's live test table")
        .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/visitors",
            vec![json(200, collection("visitors", workspace_member())), json(500, api_error()), not_found()],
        )
        .source("500 for a caller without the User Administrator role: the README's live test table")
        .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces",
            vec![json(
                200,
                collection(
                    "workspaces",
                    obj(vec![
                        req("id", hex32()),
                        req("name", Shape::Str),
                        opt("active", Shape::Bool),
                        opt("sizeAllowance", Shape::Int),
                        opt("currentSize", Shape::Int),
                    ]),
                ),
            )],
        )
        .query(&["tenantDetails", "s", "sort", "offset", "limit"]),
        op("GET", "/2/0/workspaces/{ws}/models", vec![json(200, collection("models", model())), not_found()])
            .query(PAGING),
        op("*", "/2/0/workspaces/{ws}/models/{m}", vec![json(405, api_error())]),
        op("GET", "/2/0/models", vec![json(200, collection("models", model()))]).query(&[
            "modelDetails",
            "s",
            "sort",
            "offset",
            "limit",
        ]),
        op("GET", "/2/0/models/{m}", vec![json(200, envelope(vec![opt("model", model())])), not_found()])
            .query(&["modelDetails"]),
        op("GET", "/2/0/models/{m}/modules", vec![json(200, collection("modules", named())), not_found()])
            .query(PAGING),
        op("GET", "/2/0/models/{m}/modules/{module}/views", vec![json(200, collection("views", view())), not_found()])
            .query(&["includesubsidiaryviews", "offset", "limit"]),
        op("GET", "/2/0/models/{m}/views", vec![json(200, collection("views", view())), not_found()]).query(&[
            "includesubsidiaryviews",
            "offset",
            "limit",
        ]),
        op(
            "GET",
            "/2/0/models/{m}/views/{v}",
            vec![
                json(
                    200,
                    envelope(vec![
                        opt("viewId", Shape::Str),
                        opt("viewName", Shape::Str),
                        opt("rows", arr(named())),
                        opt("columns", arr(named())),
                        opt("pages", arr(named())),
                    ]),
                ),
                not_found(),
            ],
        ),
        op(
            "GET",
            "/2/0/models/{m}/views/{v}/data",
            vec![
                media(200, "text/csv"),
                json(
                    200,
                    obj(vec![
                        opt("pages", arr(Shape::Str)),
                        req("columnCoordinates", arr(arr(Shape::Str))),
                        req(
                            "rows",
                            arr(obj(vec![req("rowCoordinates", arr(Shape::Str)), req("cells", arr(Shape::Str))])),
                        ),
                    ]),
                ),
                json(400, api_error()),
                json(406, api_error()),
                json(422, api_error()),
                not_found(),
            ],
        )
        .query(&["format", "pages"])
        .accept(&["text/csv", "application/json"]),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests",
            vec![
                json(200, view_read_request()),
                json(400, api_error()),
                json(415, api_error()),
                json(422, api_error()),
                not_found(),
            ],
        )
        .body(JSON),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests/{id}",
            vec![json(200, view_read_request()), not_found()],
        ),
        op(
            "DELETE",
            "/2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests/{id}",
            vec![json(200, view_read_request()), not_found()],
        ),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/views/{v}/readRequests/{id}/pages/{n}",
            vec![media(200, "text/csv"), not_found()],
        )
        .accept(&["text/csv"]),
        // ---------------------------------------------------------- bulk
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/processes",
            vec![json(200, collection("processes", named())), not_found()],
        )
        .query(SORTED_PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/exports",
            vec![json(200, collection("exports", export_item())), not_found()],
        )
        .query(SORTED_PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/imports",
            vec![json(200, collection("imports", import_item())), not_found()],
        )
        .source("the description writes the path with a trailing slash (`.../imports/`); both reach it")
        .query(SORTED_PAGING),
        op("GET", "/2/0/workspaces/{ws}/models/{m}/files", vec![json(200, collection("files", file())), not_found()])
            .query(SORTED_PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/actions",
            vec![
                json(
                    200,
                    collection(
                        "actions",
                        obj(vec![
                            req("id", numeric_id()),
                            req("name", Shape::Str),
                            opt("code", Shape::Str),
                            opt("actionType", Shape::Str),
                        ]),
                    ),
                ),
                not_found(),
            ],
        )
        .query(SORTED_PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/dashboards",
            vec![
                json(
                    200,
                    collection(
                        "dashboards",
                        obj(vec![req("id", numeric_id()), req("name", Shape::Str), opt("code", Shape::Str)]),
                    ),
                ),
                not_found(),
            ],
        )
        .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/processes/{id}",
            vec![json(200, envelope(vec![opt("processMetadata", process_metadata())])), not_found()],
        )
        .query(&["showImportDataSource"]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/exports/{id}",
            vec![
                json(
                    200,
                    envelope(vec![opt(
                        "exportMetadata",
                        obj(vec![
                            opt("columnCount", Shape::Int),
                            opt(
                                "dataTypes",
                                arr(Shape::Enum(&[
                                    "NONE",
                                    "NUMBER",
                                    "ENTITY",
                                    "DATE",
                                    "TEXT",
                                    "BOOLEAN",
                                    "FORMAT",
                                    "SUMMARY",
                                    "MULTISELECT_HIERARCHY",
                                    "MULTISELECT_USER",
                                    "MULTISELECT_ENTITY",
                                    "MULTISELECT_MODULE",
                                    "ACTION_DEFINITION",
                                    "MIXED",
                                    "TIME_ENTITY",
                                    "REMOTE_MODEL_DEFINITION",
                                    "MULTISELECT_TAG",
                                ])),
                            ),
                            opt("delimiter", Shape::Str),
                            opt("encoding", Shape::Str),
                            opt("exportFormat", Shape::Str),
                            opt("headerNames", arr(Shape::Str)),
                            opt("listNames", arr(Shape::Str)),
                            opt("rowCount", Shape::Int),
                            opt("separator", Shape::Str),
                            opt("layout", Shape::Str),
                        ]),
                    )]),
                ),
                not_found(),
            ],
        ),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/imports/{id}",
            vec![
                json(
                    200,
                    envelope(vec![opt(
                        "importMetadata",
                        obj(vec![
                            opt("name", Shape::Str),
                            opt("type", Shape::Enum(&["FILE", "MODEL"])),
                            opt(
                                "source",
                                obj(vec![
                                    opt("columnCount", Shape::Int),
                                    opt("columnSeparator", Shape::Str),
                                    opt("decimalSeparator", Shape::Str),
                                    opt("firstDataRow", Shape::Int),
                                    opt("headerNames", arr(Shape::Str)),
                                    opt("headerRow", Shape::Int),
                                    opt("textDelimiter", Shape::Str),
                                    opt("textEncoding", Shape::Str),
                                ]),
                            ),
                        ]),
                    )]),
                ),
                not_found(),
            ],
        ),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/imports/{id}/tasks/{t}/dump",
            vec![media(200, "text/plain"), empty(204), not_found()],
        )
        .accept(&["text/plain"]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/imports/{id}/tasks/{t}/dump/chunks",
            vec![json(200, chunks()), not_found()],
        )
        .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/imports/{id}/tasks/{t}/dump/chunks/{n}",
            vec![media(200, "text/plain"), not_found()],
        )
        .accept(&["text/plain"]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/processes/{id}/tasks/{t}/dumps/{o}",
            vec![media(200, "text/plain"), not_found()],
        )
        .source("help page (process dumps): not in the description; answered like the import dump")
        .accept(&["text/plain"]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/processes/{id}/tasks/{t}/dumps/{o}/chunks",
            vec![json(200, chunks()), not_found()],
        )
        .source("help page (process dump chunks): not in the description")
        .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/processes/{id}/tasks/{t}/dumps/{o}/chunks/{n}",
            vec![media(200, "text/plain"), not_found()],
        )
        .source("help page (process dump chunks): not in the description; answered like the import dump's")
        .accept(&["text/plain"]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/optimizeActions/{id}/tasks/{t}/solutionLogs",
            vec![media(200, "text/plain"), json(403, api_error()), not_found()],
        )
        .accept(&["text/plain"]),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/files/{f}",
            vec![media(200, "application/octet-stream"), json(406, api_error()), not_found()],
        )
        .accept(&["application/octet-stream", "*/*"]),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/files/{f}",
            vec![json(200, envelope(vec![opt("file", file())])), json(400, api_error()), not_found()],
        )
        .body(JSON),
        op(
            "PUT",
            "/2/0/workspaces/{ws}/models/{m}/files/{f}",
            vec![empty(204), json(400, api_error()), json(415, api_error()), not_found()],
        )
        .body(&["application/octet-stream"]),
        op("GET", "/2/0/workspaces/{ws}/models/{m}/files/{f}/chunks", vec![json(200, chunks()), not_found()])
            .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/files/{f}/chunks/{n}",
            vec![media(200, "application/octet-stream"), json(406, api_error()), not_found()],
        )
        .accept(&["application/octet-stream", "*/*"]),
        op(
            "PUT",
            "/2/0/workspaces/{ws}/models/{m}/files/{f}/chunks/{n}",
            vec![empty(204), json(400, api_error()), json(415, api_error()), not_found()],
        )
        .body(&["application/octet-stream"]),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/files/{f}/complete",
            vec![json(200, envelope(vec![opt("file", file())])), json(400, api_error()), not_found()],
        )
        .source("help page (mark an upload complete): the description documents no request body")
        .body(JSON),
        op(
            "GET",
            "/2/0/models/{m}/versions",
            vec![json(200, collection("versionMetadata", version())), json(403, api_error()), not_found()],
        )
        .source("403: the README's observation of another Workspace Administrator operation; the description documents none")
        .query(PAGING),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/versions",
            vec![json(200, collection("versionMetadata", version())), json(403, api_error()), not_found()],
        )
        .source("403: the README's observation of another Workspace Administrator operation; the description documents none")
        .query(PAGING),
        op(
            "PUT",
            "/2/0/models/{m}/versions/{v}/switchover",
            vec![
                json(200, envelope(vec![opt("versionSwitchover", switchover())])),
                json(400, api_error()),
                json(403, api_error()),
                json(422, api_error()),
                json(423, api_error()),
                not_found(),
            ],
        )
        .source(
            "the description's notes (400 for a date before the switchover or outside the model year); 403 as for \
             the listing; 422/423: the emulator's model-state choice, as for task starts",
        )
        .body(JSON),
        // The calendar: 403 as for versions (the README's observation of another Workspace
        // Administrator operation); 422/423 the emulator's model-state choice.
        op("GET", "/2/0/workspaces/{ws}/models/{m}/currentPeriod", calendar_read("currentPeriod", current_period()))
            .source(CALENDAR_ROLE),
        op("GET", "/2/0/models/{m}/currentPeriod", calendar_read("currentPeriod", current_period()))
            .source(CALENDAR_ROLE),
        op("PUT", "/2/0/workspaces/{ws}/models/{m}/currentPeriod", calendar_write("currentPeriod", current_period()))
            .source(CALENDAR_ROLE)
            .query(&["date"])
            .body(JSON)
            .optional_body(),
        op("PUT", "/2/0/models/{m}/currentPeriod", calendar_write("currentPeriod", current_period()))
            .source(CALENDAR_ROLE)
            .query(&["date"])
            .body(JSON)
            .optional_body(),
        op("GET", "/2/0/workspaces/{ws}/models/{m}/modelCalendar", calendar_read("modelCalendar", model_calendar()))
            .source(CALENDAR_ROLE),
        op("GET", "/2/0/models/{m}/modelCalendar", calendar_read("modelCalendar", model_calendar()))
            .source(CALENDAR_ROLE),
        op("PUT", "/2/0/models/{m}/modelCalendar/fiscalYear", calendar_write("modelCalendar", model_calendar()))
            .source(CALENDAR_ROLE)
            .body(JSON),
        op(
            "GET",
            "/2/0/models/{m}/status",
            vec![
                json(
                    200,
                    obj(vec![req(
                        "requestStatus",
                        obj(vec![
                            req("currentStep", Shape::Str),
                            req("progress", Shape::Num),
                            req("creationTime", Shape::Int),
                            opt("taskId", nullable(Shape::Str)),
                            opt("tooltip", nullable(Shape::Str)),
                            opt("exportTaskType", nullable(Shape::Str)),
                            opt("peakMemoryUsageEstimate", nullable(Shape::Int)),
                            opt("peakMemoryUsageTime", nullable(Shape::Int)),
                        ]),
                    )]),
                ),
                not_found(),
            ],
        ),
        // Open and close: 202 and 204, empty, and the 404 the description documents; 403 for a
        // caller below Workspace Administrator, 400 for a body, 415 for another media type and
        // 422 for an archived model are the emulator's choices (see model_status.rs).
        op("POST", "/2/0/models/{m}/open", model_transition(202))
            .source(MODEL_TRANSITION)
            .body(&["application/text"])
            .optional_body(),
        op("POST", "/2/0/models/{m}/close", model_transition(204))
            .source(MODEL_TRANSITION)
            .body(&["application/text"])
            .optional_body(),
        // ALM: marked not tested live in the description; its answers as it lists them.
        op("POST", "/2/0/models/{m}/onlineStatus", online_status()).body(JSON),
        op("PUT", "/2/0/models/{m}/onlineStatus", online_status()).body(JSON),
        // ALM revisions, sync and report tasks (alm-openapi.json; every one Workspace
        // Administrator). 400 on reads, 422 for adding a revision to a model in deployed mode or
        // without structural changes, and 423 for a locked model are the emulator's choices.
        op("GET", "/2/0/models/{m}/alm/revisions", alm_read(collection("revisions", revision())))
            .source(ALM_CHOICES)
            .query(&["appliedAfter", "appliedBefore", "sort", "offset", "limit"]),
        op(
            "POST",
            "/2/0/models/{m}/alm/revisions",
            vec![
                json(201, collection("revisions", revision())),
                json(400, api_error()),
                json(403, api_error()),
                json(404, api_error()),
                json(422, api_error()),
                json(423, api_error()),
            ],
        )
        .source(ALM_CHOICES)
        .body(JSON),
        op("GET", "/2/0/models/{m}/alm/latestRevision", alm_read(collection("revisions", revision()))),
        op("GET", "/2/0/models/{m}/alm/syncableRevisions", alm_read(collection("revisions", revision())))
            .source(ALM_CHOICES)
            .query(&["sourceModelId"]),
        op(
            "GET",
            "/2/0/models/{m}/alm/revisions/{r}/appliedToModels",
            alm_read(collection("appliedToModels", applied_model())),
        ),
        op("GET", "/2/0/models/{m}/alm/syncTasks", alm_read(collection("tasks", alm_task()))),
        op("POST", "/2/0/models/{m}/alm/syncTasks", alm_start()).source(ALM_CHOICES).body(JSON),
        op("GET", "/2/0/models/{m}/alm/syncTasks/{t}", alm_read(envelope(vec![opt("task", alm_task())]))),
        op("POST", "/2/0/models/{m}/alm/comparisonReportTasks", alm_start()).source(ALM_CHOICES).body(JSON),
        op("GET", "/2/0/models/{m}/alm/comparisonReportTasks/{t}", alm_read(envelope(vec![opt("task", alm_task())]))),
        op("POST", "/2/0/models/{m}/alm/summaryReportTasks", alm_start()).source(ALM_CHOICES).body(JSON),
        op("GET", "/2/0/models/{m}/alm/summaryReportTasks/{t}", alm_read(envelope(vec![opt("task", alm_task())]))),
        op(
            "GET",
            "/2/0/models/{m}/alm/comparisonReports/{tr}/{sr}",
            vec![
                media(200, "application/octet-stream"),
                json(403, api_error()),
                json(404, api_error()),
                json(406, api_error()),
                json(422, api_error()),
            ],
        )
        .source("406 to an Accept other than application/octet-stream: the README's live note")
        .accept(&["application/octet-stream"]),
        op(
            "GET",
            "/2/0/models/{m}/alm/summaryReports/{tr}/{sr}",
            alm_read(obj(vec![opt("summaryReport", summary_report())])),
        ),
        // ---------------------------------------------------------- lists, modules
        op("GET", "/2/0/models/{m}/lists", vec![json(200, collection("lists", named())), not_found()]).query(PAGING),
        op(
            "GET",
            "/2/0/models/{m}/lists/{l}",
            vec![json(200, envelope(vec![opt("metadata", list_metadata())])), not_found()],
        ),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/items",
            vec![
                json(200, collection("listItems", list_item())),
                media(200, "text/csv"),
                json(400, api_error()),
                not_found(),
            ],
        )
        .query(&["includeAll", "offset", "limit"])
        .accept(&["application/json", "text/csv"]),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/items",
            vec![
                json(
                    200,
                    envelope(vec![
                        opt("added", Shape::Int),
                        opt("ignored", Shape::Int),
                        opt("total", Shape::Int),
                        opt("deleted", Shape::Int),
                        opt("failures", failures()),
                    ]),
                ),
                json(400, api_error()),
                not_found(),
            ],
        )
        .query(&["action"])
        .body(JSON),
        op(
            "PUT",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/items",
            vec![
                json(
                    200,
                    envelope(vec![
                        opt("updated", Shape::Int),
                        opt("ignored", Shape::Int),
                        opt("total", Shape::Int),
                        opt("failures", failures()),
                    ]),
                ),
                json(400, api_error()),
                not_found(),
            ],
        )
        .body(JSON),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/resetIndex",
            vec![
                empty(200),
                json(400, api_error()),
                json(403, api_error()),
                json(422, api_error()),
                json(423, api_error()),
                not_found(),
            ],
        )
        .source(
            "403: the README's observation of another Workspace Administrator operation; 422/423: the emulator's \
             model-state choice, as for task starts",
        ),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/readRequests",
            vec![json(200, list_read_request()), not_found()],
        ),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/readRequests/{id}",
            vec![json(200, list_read_request()), not_found()],
        )
        .source("help page (status of a large list read): not in the description's paths"),
        op(
            "DELETE",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/readRequests/{id}",
            vec![json(200, list_read_request()), not_found()],
        )
        .source("help page (delete a large list read): not in the description's paths"),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/lists/{l}/readRequests/{id}/pages/{n}",
            vec![media(200, "text/csv"), not_found()],
        )
        .source("help pages and third-party docs (pages of a large list read): not in the description's paths")
        .accept(&["text/csv"]),
        op(
            "GET",
            "/2/0/models/{m}/modules/{module}/lineItems",
            vec![json(200, collection("items", line_item())), not_found()],
        )
        .query(&["includeAll", "offset", "limit"]),
        op("GET", "/2/0/models/{m}/lineItems", vec![json(200, collection("items", line_item())), not_found()])
            .query(&["offset", "limit"]),
        op(
            "POST",
            "/2/0/models/{m}/modules/{module}/data",
            vec![
                json(
                    200,
                    obj(vec![
                        req("numberOfCellsChanged", Shape::Num),
                        opt("failures", failures()),
                        // The envelope the rest of the Integration API has; the description's schema
                        // lists the two counts only.
                        opt("meta", meta()),
                        opt("status", status()),
                    ]),
                ),
                json(400, api_error()),
                json(422, api_error()),
                not_found(),
            ],
        )
        .body(JSON),
        op(
            "GET",
            "/2/0/models/{m}/lineItems/{li}/dimensions",
            vec![json(200, collection("dimensions", named())), not_found()],
        )
        .query(PAGING),
        op(
            "GET",
            "/2/0/models/{m}/lineItems/{li}/dimensions/{d}/items",
            vec![json(200, dimension_items()), not_found()],
        ),
        op(
            "GET",
            "/2/0/models/{m}/dimensions/{d}/items",
            vec![json(200, dimension_items()), json(400, api_error()), not_found()],
        ),
        op(
            "GET",
            "/2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items",
            vec![json(200, dimension_items()), json(400, api_error()), not_found()],
        ),
        op(
            "POST",
            "/2/0/models/{m}/dimensions/{d}/items",
            vec![json(200, dimension_items()), json(400, api_error()), not_found()],
        )
        .body(JSON),
        op(
            "POST",
            "/2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items",
            vec![json(200, dimension_items()), json(400, api_error()), not_found()],
        )
        .body(JSON),
        op(
            "GET",
            "/2/0/models/{m}/views/{v}/dimensions/{d}/items",
            vec![json(200, dimension_items()), json(400, api_error()), not_found()],
        ),
        // ---------------------------------------------------------- CloudWorks
        op(
            "GET",
            "/2/0/integrations",
            vec![json(
                200,
                obj(vec![
                    req("status", status()),
                    req("integrations", arr(obj(integration_fields()))),
                    opt("meta", cw_paging_meta(true)),
                ]),
            )],
        )
        .query(&["offset", "limit", "myIntegrations", "sortBy"]),
        op(
            "GET",
            "/2/0/integrations/{id}",
            vec![
                json(200, obj(vec![req("status", status()), req("integration", integration_detail())])),
                json(404, cw_error()),
            ],
        ),
        op(
            "POST",
            "/2/0/integrations/{id}/run",
            vec![json(200, run_started()), json(404, cw_error()), json(409, cw_error())],
        )
        .body(JSON),
        // The description documents no request body for a cancel.
        op(
            "POST",
            "/2/0/integrations/{id}/cancel",
            vec![json(200, cw_status_only()), json(404, cw_error()), json(409, cw_error())],
        ),
        op(
            "POST",
            "/2/0/integrations/{id}/schedule",
            vec![json(200, cw_status_only()), json(400, cw_error()), json(404, cw_error())],
        )
        .body(JSON),
        op(
            "PUT",
            "/2/0/integrations/{id}/schedule",
            vec![json(200, cw_status_only()), json(400, cw_error()), json(404, cw_error())],
        )
        .body(JSON),
        op("DELETE", "/2/0/integrations/{id}/schedule", vec![json(200, cw_status_only()), json(404, cw_error())]),
        // The description documents no request body for a status change.
        op(
            "POST",
            "/2/0/integrations/{id}/schedule/status/{status}",
            vec![json(200, cw_status_only()), json(404, cw_error())],
        ),
        op("GET", "/2/0/integrations/run/{run}", vec![json(200, run_status()), json(404, cw_error())]),
        op(
            "GET",
            "/2/0/integrations/runs/{id}",
            vec![json(200, run_history()), json(400, cw_error()), json(404, cw_error())],
        )
        .query(PAGING),
        op(
            "GET",
            "/2/0/integrations/notification/{id}",
            vec![
                json(
                    200,
                    obj(vec![
                        req("status", status()),
                        req(
                            "notifications",
                            obj(vec![
                                req("notificationId", Shape::Str),
                                req("integrationIds", arr(Shape::Str)),
                                req("channels", arr(Shape::Str)),
                                req(
                                    "notifications",
                                    obj(vec![req(
                                        "config",
                                        arr(obj(vec![
                                            req("type", Shape::Str),
                                            req(
                                                "users",
                                                arr(obj(vec![
                                                    req("userGuid", Shape::Str),
                                                    opt("firstName", Shape::Str),
                                                    opt("lastName", Shape::Str),
                                                ])),
                                            ),
                                        ])),
                                    )]),
                                ),
                            ]),
                        ),
                        opt("meta", Shape::AnyObj),
                    ]),
                ),
                json(404, cw_error()),
            ],
        ),
        op("GET", "/2/0/integrations/runerror/{run}", vec![json(200, run_errors()), json(404, cw_error())]),
        op("GET", "/2/0/integrations/run/{run}/dumps", vec![media(200, "text/csv"), json(404, cw_error())])
            .source("emulator: the description's 200 is a bare status; the dump itself is served as CSV")
            .accept(&["text/csv"]),
        op(
            "GET",
            "/2/0/integrations/run/{run}/process/import/{action}/dumps",
            vec![media(200, "text/csv"), json(404, cw_error())],
        )
        .source("emulator: the description's 200 is a bare status; the dump itself is served as CSV")
        .accept(&["text/csv"]),
        op(
            "GET",
            "/2/0/integrationflows",
            vec![json(
                200,
                obj(vec![
                    req("status", status()),
                    req("integrationFlows", arr(obj(flow_fields()))),
                    opt("meta", cw_paging_meta(true)),
                ]),
            )],
        )
        .query(PAGING),
        op(
            "GET",
            "/2/0/integrationflows/{id}",
            vec![
                json(200, obj(vec![req("status", status()), req("integrationFlow", flow_detail())])),
                json(404, cw_error()),
            ],
        ),
        op(
            "POST",
            "/2/0/integrationflows/{id}/run",
            vec![json(200, run_started()), json(404, cw_error()), json(409, cw_error())],
        )
        .body(JSON),
        op(
            "POST",
            "/2/0/integrationflows/{id}/cancel",
            vec![json(200, cw_status_only()), json(404, cw_error()), json(409, cw_error())],
        )
        .source("emulator: not in the description; answered as an integration's cancel"),
        op(
            "GET",
            "/2/0/integrations/connections",
            vec![json(
                200,
                obj(vec![
                    req("status", status()),
                    req("connections", arr(connection())),
                    opt("meta", cw_paging_meta(false)),
                ]),
            )],
        )
        .source("the description documents no offset/limit here; the emulator pages it like the other lists")
        .query(PAGING),
        op(
            "GET",
            "/2/0/integrations/connections/{id}",
            vec![json(200, obj(vec![req("status", status()), req("connection", connection())])), json(404, cw_error())],
        )
        .source("emulator: the description has no GET of one connection; answered as a listed one"),
        op(
            "PUT",
            "/2/0/integrations/connections/{id}",
            vec![json(200, cw_status_only()), json(400, cw_error()), json(404, cw_error()), json(500, cw_error())],
        )
        .body(JSON),
        // ---------------------------------------------------------- SCIM
        op(
            "GET",
            "/scim/1/0/v2/Users",
            vec![
                scim_json(
                    200,
                    obj(vec![
                        req("schemas", arr(Shape::Str)),
                        req("totalResults", Shape::Int),
                        opt("startIndex", Shape::Int),
                        opt("itemsPerPage", Shape::Int),
                        opt("Resources", arr(scim_user())),
                    ]),
                ),
                scim_json(400, scim_error()),
                scim_json(401, scim_error()),
            ],
        )
        .query(&["filter", "startIndex", "count"])
        .auth(SCIM_AUTH),
        op(
            "POST",
            "/scim/1/0/v2/Users",
            vec![scim_json(201, scim_user()), scim_json(400, scim_error()), scim_json(409, scim_error())],
        )
        .body(&["application/scim+json"])
        .auth(SCIM_AUTH),
        op("GET", "/scim/1/0/v2/Users/{id}", vec![scim_json(200, scim_user()), scim_json(404, scim_error())])
            .auth(SCIM_AUTH),
        op(
            "PUT",
            "/scim/1/0/v2/Users/{id}",
            vec![scim_json(200, scim_user()), scim_json(400, scim_error()), scim_json(404, scim_error())],
        )
        .body(&["application/scim+json"])
        .auth(SCIM_AUTH),
        op(
            "PATCH",
            "/scim/1/0/v2/Users/{id}",
            vec![scim_json(200, scim_user()), scim_json(400, scim_error()), scim_json(404, scim_error())],
        )
        .body(&["application/scim+json"])
        .auth(SCIM_AUTH),
        op("DELETE", "/scim/1/0/v2/Users/{id}", vec![scim_json(501, scim_error())])
            .source("SCIM README: DELETE is not in the description; live it answers 501 Not Implemented")
            .auth(SCIM_AUTH),
        // ---------------------------------------------------------- Audit
        op(
            "GET",
            "/audit/api/1/events",
            vec![
                json(200, audit_page()),
                media(200, "text/plain"),
                json(400, audit_error()),
                json(401, audit_error()),
            ],
        )
        .query(&["type", "dateFrom", "dateTo", "intervalInHours", "limit", "offset"])
        .accept(&["application/json", "text/plain"])
        .auth(ANAPLAN_ONLY),
        op(
            "POST",
            "/audit/api/1/events/search",
            vec![
                json(200, audit_page()),
                media(200, "text/plain"),
                json(400, audit_error()),
                json(401, audit_error()),
            ],
        )
        .source("description: its parameters list only type, its text tells clients to page it with limit and offset")
        .query(&["type", "limit", "offset"])
        .body(JSON)
        .optional_body()
        .accept(&["application/json", "text/plain"])
        .auth(ANAPLAN_ONLY),
        // ---------------------------------------------------------- Exception Users
        op(
            "POST",
            "/admin/1/0/permissions/exception-users/search",
            vec![
                json(200, obj(vec![opt("response", arr(exception_workspace()))])),
                json(400, exception_error()),
                json(401, exception_error()),
                json(403, exception_error()),
                json(404, exception_error()),
            ],
        )
        .body(JSON)
        .auth(ANAPLAN_ONLY),
        op(
            "PATCH",
            "/admin/1/0/permissions/exception-users/users/{user}",
            vec![
                empty(204),
                json(400, exception_error()),
                json(401, exception_error()),
                json(403, exception_error()),
                json(404, exception_error()),
            ],
        )
        .body(JSON)
        .auth(ANAPLAN_ONLY),
        // ---------------------------------------------------------- Administration
        op(
            "GET",
            "/admin/1/0/users/export",
            vec![media(200, "text/csv"), empty(401), json(401, admin_error()), json(403, admin_error())],
        )
        .source("administration README: Bearer is refused by the auth layer with an empty 401 (live)")
        .query(&["Limit", "Offset"])
        .accept(&["text/csv"])
        .auth(ANAPLAN_ONLY),
        op(
            "PUT",
            "/admin/1/0/users/import",
            vec![
                json(
                    207,
                    obj(vec![
                        opt("accepted", Shape::Int),
                        opt("created", Shape::Int),
                        opt("updated", Shape::Int),
                        opt("errors", arr(obj(vec![opt("line", Shape::Int), opt("message", Shape::Str)]))),
                    ]),
                ),
                json(400, admin_error()),
                empty(401),
                json(401, admin_error()),
                json(403, admin_error()),
            ],
        )
        .source("administration README: Bearer is refused by the auth layer with an empty 401 (live)")
        .body(&["multipart/form-data"])
        .auth(ANAPLAN_ONLY),
    ];
    // Task start, list, status and cancel, for each action family (other actions have no
    // documented cancel: no DELETE on their tasks).
    for family in ["processes", "exports", "imports", "actions"] {
        let t: &'static str = Box::leak(format!("{M}/{family}/{{id}}/tasks").into_boxed_str());
        let one: &'static str = Box::leak(format!("{t}/{{t}}").into_boxed_str());
        let task_answer = || envelope(vec![opt("task", task())]);
        ops.push(
            op("POST", t, vec![
                json(200, task_answer()),
                json(400, api_error()),
                json(409, api_error()),
                json(422, api_error()),
                json(423, api_error()),
                json(404, api_error()),
            ])
            .source("help page (start a task): {meta, status, task}; the description's schema is the bare task (TaskWithUrl)")
            .body(JSON),
        );
        ops.push(
            op("GET", t, vec![json(200, collection("tasks", task())), json(404, api_error())]).query(SORTED_PAGING),
        );
        ops.push(op("GET", one, vec![json(200, envelope(vec![opt("task", task())])), json(404, api_error())]));
        if family == "actions" {
            continue;
        }
        ops.push(
            op(
                "DELETE",
                one,
                vec![json(200, envelope(vec![opt("task", task())])), json(400, api_error()), json(404, api_error())],
            )
            .source("help page (cancel a task): not in the description"),
        );
    }
    ops
}

/// The emulator's own controls (`/_emulator/...`): no Anaplan operation, listed so that a
/// new route is noticed either way.
pub const CONTROLS: &[&str] = &[
    "/_emulator/admin-roles",
    "/_emulator/alm",
    "/_emulator/big-grid",
    "/_emulator/cert-format",
    "/_emulator/expire-tokens",
    "/_emulator/fail",
    "/_emulator/model-state",
    "/_emulator/ragged-read-pages",
    "/_emulator/read-page-headers",
    "/_emulator/refresh-token-lifetime",
    "/_emulator/reset-chunks",
    "/_emulator/sized-export",
    "/_emulator/speed-cap",
    "/_emulator/throttle",
    "/_emulator/token-fail",
];

/// Fills a route template's `{..}` segments with `ids`, in order.
pub fn fill(template: &str, ids: &[&str]) -> String {
    let mut ids = ids.iter();
    template
        .split('/')
        .map(|seg| if seg.starts_with('{') { ids.next().copied().unwrap_or("MISSING") } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The template among `templates` that `path` matches (literal segments first).
pub fn template_of<'a>(templates: &'a [String], path: &str) -> Option<&'a str> {
    let segs: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segs.len() && ts.iter().zip(&segs).all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|t| t.split('/').filter(|s| !s.starts_with('{')).count())
        .map(String::as_str)
}

/// `Content-Type` up to its parameters.
pub fn media_of(ct: Option<&str>) -> Option<String> {
    ct.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// Where open's and close's refusals beyond the 404 come from.
const MODEL_TRANSITION: &str = "403 (below Workspace Administrator), 400 (a body), 415 (not application/text), 422 \
                                (archived): the emulator's choices; the description documents the 404 alone";

/// Open (202) or close (204): an empty success, or a refusal in Anaplan's error shape.
fn model_transition(ok: u16) -> Vec<Answer> {
    vec![
        empty(ok),
        json(400, api_error()),
        json(403, api_error()),
        json(415, api_error()),
        json(422, api_error()),
        json(404, api_error()),
    ]
}

const ALM_CHOICES: &str = "emulator: 400 for a read without sourceModelId, 422 for a revision on a model in \
     deployed mode or without structural changes (the description states the rule, not its status), 423 for a locked \
     model as for task starts";

/// An ALM read: 200 with `ok`, 403, 404, and 422 for an archived model.
fn alm_read(ok: Shape) -> Vec<Answer> {
    vec![json(200, ok), json(400, api_error()), json(403, api_error()), json(404, api_error()), json(422, api_error())]
}

/// An ALM task start: 201 `task`, 400, 403, 404, 422 (archived), 423 (locked).
fn alm_start() -> Vec<Answer> {
    vec![
        json(201, envelope(vec![opt("task", alm_task())])),
        json(400, api_error()),
        json(403, api_error()),
        json(404, api_error()),
        json(422, api_error()),
        json(423, api_error()),
    ]
}

/// The description's `Revision`.
fn revision() -> Shape {
    obj(vec![
        req("id", upper_hex32()),
        opt("name", Shape::Str),
        opt("description", Shape::Str),
        opt("createdOn", date_time()),
        opt("createdBy", Shape::Str),
        opt("creationMethod", Shape::Str),
        opt("appliedOn", date_time()),
        opt("appliedBy", Shape::Str),
    ])
}

/// The description's `AppliedModel`.
fn applied_model() -> Shape {
    obj(vec![
        opt("modelId", upper_hex32()),
        opt("modelName", Shape::Str),
        opt("workspaceId", hex32()),
        opt("appliedBy", Shape::Str),
        opt("appliedOn", date_time()),
        opt("appliedMethod", Shape::Str),
        opt("modelDeleted", Shape::Bool),
    ])
}

/// The description's `SyncTask` (report tasks have the same fields but `creationTime`).
fn alm_task() -> Shape {
    obj(vec![
        req("taskId", upper_hex32()),
        opt("taskUrl", Shape::Str),
        opt("taskState", Shape::Enum(&["IN_PROGRESS", "COMPLETE"])),
        opt("creationTime", date_time()),
        opt(
            "result",
            obj(vec![
                opt("successful", Shape::Bool),
                opt("reportFileUrl", Shape::Str),
                opt("error", obj(vec![opt("title", Shape::Str), opt("messageText", Shape::Str)])),
            ]),
        ),
    ])
}

/// The description's `SummaryReportResponse.summaryReport`.
fn summary_report() -> Shape {
    obj(vec![
        opt("targetRevisionId", upper_hex32()),
        opt("sourceRevisionId", upper_hex32()),
        opt("totals", obj(vec![opt("modified", Shape::Int), opt("deleted", Shape::Int), opt("created", Shape::Int)])),
        opt(
            "differences",
            obj(vec![
                opt("lineItems", Shape::AnyObj),
                opt("rolesContents", Shape::AnyObj),
                opt("lists", Shape::AnyObj),
                opt("modules", Shape::AnyObj),
            ]),
        ),
    ])
}

/// `onlineStatus`: 204 empty; 400 (bad status, locked), 403, 404, 422 (archived), 415 for a
/// body that is not JSON (the emulator's choice).
fn online_status() -> Vec<Answer> {
    vec![
        empty(204),
        json(400, api_error()),
        json(403, api_error()),
        json(415, api_error()),
        json(422, api_error()),
        json(404, api_error()),
    ]
}
