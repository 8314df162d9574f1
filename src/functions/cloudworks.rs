//! `cloudworks`: CloudWorks beyond runs. GET `kind` = `integrations` | `integration` |
//! `schedule` | `runs` | `notifications` | `connections` | `flows` answers Anaplan's own objects, unchanged
//! (lists as arrays: `IntegrationSummary`, connection, `RunRecord` and
//! `IntegrationFlowSummary` objects; one integration as `IntegrationDetail`; a schedule as
//! `Schedule`; a notification configuration as `NotificationConfig`). `integration`,
//! `schedule`, `runs` and `notifications` take `integrationId` or
//! `integrationName` (an exact name; one that matches nothing answers with the closest names).
//!
//! POST `action` = `setSchedule` (body: Anaplan's schedule object) | `enableSchedule` |
//! `disableSchedule` | `deleteSchedule`, with `integration*`, answers
//! `{"integration": {"id", "name"}, "schedule", "changed"}`: the schedule afterwards (null
//! once deleted) and whether anything changed. CloudWorks holds one schedule per
//! integration: setSchedule reads the integration first and creates the schedule (POST)
//! when it has none, replaces it (PUT) when it has one. A schedule already enabled or
//! disabled, or deleting none, is `changed: false` without asking CloudWorks to change it;
//! enabling or disabling a schedule that does not exist is a 404. The schedule's shape is
//! checked before CloudWorks is called (an object of the documented keys, with `name`,
//! `type`, `startDate`, `endDate` and `timezone`; `type` one of the documented five); what
//! CloudWorks refuses beyond that (times, days, dates, time zones) is a 400 with its message.
//! Either way nothing is written. `status` in the body is not sent (the description says a
//! create or update does not need it, and does not say that one honours it): when given, it
//! is applied afterwards by enabling or disabling the schedule.
//!
//! Creating and deleting integrations and connections stays in CloudWorks' own interface.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::functions::run_integration::cloudworks_client;
use crate::http::json_answer;
use crate::http::{AppState, Call, Params, Problem, ProblemType, strict_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::prop;
use anaplan::catalog::pick;
use anaplan::cloudworks;
use anaplan::ids::{IntegrationId, ObjectRef};
use anaplan::untrusted::quote;
use anaplan::{AnaplanError, Client};

/// `kind` of a GET.
pub const KIND: Param = Param::choice(
    "kind",
    &["integrations", "integration", "schedule", "runs", "notifications", "connections", "flows"],
    "Kind",
    "integrations: every integration; integration: one integration with its jobs (needs the integration); \
     schedule: an integration's schedule (needs the integration); runs: an integration's run history, every page \
     (needs the integration); notifications: who CloudWorks tells of an integration's outcomes (needs the \
     integration); connections: every connection (no secrets); flows: every integration flow.",
);

/// `action` of a POST.
pub const ACTION: Param = Param::choice(
    "action",
    &["setSchedule", "enableSchedule", "disableSchedule", "deleteSchedule"],
    "Action",
    "setSchedule: gives the integration the body's schedule (created, or replacing the one it has); \
     enableSchedule / disableSchedule: turns its schedule on or off; deleteSchedule: removes it.",
);

/// The schedule keys the description documents.
const SCHEDULE_KEYS: &[&str] = &[
    "name",
    "type",
    "time",
    "fromTime",
    "toTime",
    "daysOfWeek",
    "dayOfMonth",
    "dayOfWeek",
    "repeatEvery",
    "startDate",
    "endDate",
    "timezone",
    "status",
];
/// The keys every schedule has.
const SCHEDULE_REQUIRED: &[&str] = &["name", "type", "startDate", "endDate", "timezone"];
/// The schedule types the description documents.
const SCHEDULE_TYPES: &[&str] = &["weekly", "daily", "hourly", "monthly_specific_day", "monthly_relative_weekday"];

/// `cloudworks`.
pub const FUNCTION: Function = Function {
    name: "cloudworks",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Param(KIND), Input::Object(Object::Integration)],
    long_running: None,
    operation: Some(Operation {
        id: "GetCloudWorks",
        summary: "Read CloudWorks integrations, schedules, connections or flows",
        description: "kind=integrations, connections or flows: every one, as CloudWorks lists them (an array). \
                      kind=integration: one integration with its jobs; kind=schedule: its schedule (404 when it has \
                      none); kind=runs: its run history, every page; kind=notifications: who CloudWorks tells of its \
                      outcomes; these need the integration.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "CloudWorks' objects, as it gives them.", schema: "CloudWorksObjects", array: false },
    }),
    more_operations: &[SCHEDULE_OPERATION],
    schemas: &[
        Schema { name: "CloudWorksObjects", build: objects_schema },
        Schema { name: "CloudWorksSchedule", build: schedule_schema },
        Schema { name: "CloudWorksScheduleChange", build: change_schema },
    ],
    group: Some(Group::CloudWorks),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `cloudworks`' POST in the connector: an integration's schedule.
pub const SCHEDULE_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Object(Object::Integration), Input::Param(ACTION.required())],
    body: Some("CloudWorksSchedule"),
    operation: Operation {
        id: "SetCloudWorksSchedule",
        summary: "Set, enable, disable or delete an integration's schedule",
        description: "setSchedule gives the integration the body's schedule (CloudWorks' own schedule object), \
                      creating it or replacing the one it has; enableSchedule and disableSchedule turn it on or off; \
                      deleteSchedule removes it. Answers the schedule afterwards and whether anything changed.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The schedule afterwards.", schema: "CloudWorksScheduleChange", array: false },
    },
    accepted: None,
};

/// `#/definitions/CloudWorksObjects`: whatever CloudWorks gives (an array for the lists).
fn objects_schema() -> Value {
    json!({
        "description": "CloudWorks' own objects, unchanged: an array of integrations, connections or flows, or one \
                        integration, or one schedule.",
    })
}

/// `#/definitions/CloudWorksSchedule`: the description's `Schedule`.
fn schedule_schema() -> Value {
    json!({
        "type": "object",
        "description": "CloudWorks' schedule. Which fields a type needs: daily time; weekly time, daysOfWeek; hourly \
                        fromTime, toTime, daysOfWeek, repeatEvery (hours); monthly_specific_day time, dayOfMonth; \
                        monthly_relative_weekday time, daysOfWeek, dayOfWeek, repeatEvery (the nth weekday).",
        "required": SCHEDULE_REQUIRED,
        "properties": {
            "name": prop("string", "Schedule name", "The schedule's name."),
            "type": {
                "type": "string",
                "enum": SCHEDULE_TYPES,
                "x-ms-summary": "Schedule type",
                "description": "weekly, daily, hourly, monthly_specific_day or monthly_relative_weekday.",
            },
            "time": prop("string", "Time", "HH:MM, when it runs (all but hourly)."),
            "fromTime": prop("string", "From", "hourly: HH:MM, the window's start."),
            "toTime": prop("string", "To", "hourly: HH:MM, the window's end."),
            "daysOfWeek": {
                "type": "array",
                "items": { "type": "integer" },
                "x-ms-summary": "Days of the week",
                "description": "0 = Sunday to 6 = Saturday (weekly, hourly, monthly_relative_weekday).",
            },
            "dayOfMonth": prop("integer", "Day of the month", "monthly_specific_day: 1 to 31."),
            "dayOfWeek": prop("integer", "Day of the week", "monthly_relative_weekday: 0 = Sunday to 6."),
            "repeatEvery": prop("integer", "Repeat every", "hourly: every N hours; monthly_relative_weekday: the nth weekday."),
            "startDate": prop("string", "Start date", "YYYY-MM-DD."),
            "endDate": prop("string", "End date", "YYYY-MM-DD."),
            "timezone": prop("string", "Time zone", "An IANA time zone name, e.g. Europe/Paris."),
            "status": prop("string", "Status", "Active or Inactive (reads; on setSchedule, applied afterwards)."),
        },
    })
}

/// `#/definitions/CloudWorksScheduleChange`: what a POST answers.
fn change_schema() -> Value {
    let mut schedule = schedule_schema();
    schedule["x-ms-summary"] = json!("Schedule");
    schedule["description"] = json!("The schedule afterwards; null once deleted.");
    json!({
        "type": "object",
        "description": "An integration's schedule after a change.",
        "properties": {
            "integration": {
                "type": "object",
                "x-ms-summary": "Integration",
                "description": "The integration.",
                "properties": {
                    "id": prop("string", "Integration ID", "The integration's id."),
                    "name": prop("string", "Integration name", "The integration's name."),
                },
            },
            "schedule": schedule,
            "changed": prop("boolean", "Changed", "Whether the action changed anything (false: it was already so)."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    if call.method == Method::POST {
        return change(state, call).await;
    }
    let params = call.params()?;
    if params.get(ACTION.name).is_some() {
        return Err(Problem::bad_parameter("action is for POST; GET reads (give kind)"));
    }
    let kind = params.choice(&KIND.required())?.ok_or_else(|| Problem::bad_parameter("kind is required"))?;
    let names_integration = params.get("integrationId").is_some() || params.get("integrationName").is_some();
    let cw = cloudworks_client(state, &call)?;
    let body = match kind {
        "runs" => {
            let id = resolve(&cw, params.object("integration")?).await?;
            Value::Array(cloudworks::run_records(&cw, &id).await?)
        }
        "notifications" => {
            let id = resolve(&cw, params.object("integration")?).await?;
            let detail = cloudworks::integration_detail(&cw, &id).await?;
            let Some(notification) = detail.get("notificationId").and_then(Value::as_str).filter(|n| !n.is_empty())
            else {
                return Err(Problem::new(
                    ProblemType::NotFound,
                    format!("integration {} has no notification configuration", describe(&detail, &id)),
                )
                .with("integrationId", json!(id.as_str())));
            };
            cloudworks::notification(&cw, notification).await?
        }
        "integration" | "schedule" => {
            let id = resolve(&cw, params.object("integration")?).await?;
            let detail = cloudworks::integration_detail(&cw, &id).await?;
            if kind == "integration" {
                detail
            } else {
                cloudworks::schedule_of(&detail).cloned().ok_or_else(|| {
                    Problem::new(
                        ProblemType::NotFound,
                        format!("integration {} has no schedule", describe(&detail, &id)),
                    )
                    .with("integrationId", json!(id.as_str()))
                })?
            }
        }
        _ if names_integration => {
            return Err(Problem::bad_parameter(format!(
                "kind={kind} lists every one; integrationId and integrationName are for kind=integration, schedule, \
                 runs or notifications"
            )));
        }
        "integrations" => Value::Array(cloudworks::integration_summaries(&cw).await?),
        "connections" => Value::Array(cloudworks::connection_summaries(&cw).await?),
        _ => Value::Array(cloudworks::flow_summaries(&cw).await?),
    };
    Ok(json_answer(StatusCode::OK, &body))
}

/// The integration, by id as given or by its exact name.
async fn resolve(cw: &Client, target: ObjectRef<IntegrationId>) -> Result<IntegrationId, Problem> {
    match target {
        ObjectRef::Id(id) => Ok(id),
        ObjectRef::Name(name) => {
            let found = pick("integration", &cloudworks::integrations(cw).await?, &name)?;
            Ok(IntegrationId::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()))?)
        }
    }
}

/// `"name" (id)` of an integration, for messages.
fn describe(detail: &Value, id: &IntegrationId) -> String {
    match detail.get("name").and_then(Value::as_str) {
        Some(name) => format!("{} ({id})", quote(name)),
        None => id.to_string(),
    }
}

/// A checked POST.
#[derive(Debug)]
enum Action {
    /// The schedule to send (without `status`) and the status asked for, if any.
    Set(Map<String, Value>, Option<bool>),
    Enable,
    Disable,
    Delete,
}

/// The integration and the action, every check made before CloudWorks is called.
fn parse_change(call: &Call) -> Result<(ObjectRef<IntegrationId>, Action), Problem> {
    // The query string carries the integration and `action`; the body is the schedule.
    let names = ["integrationId", "integrationName", ACTION.name, KIND.name];
    let query = Params::collect(&Method::GET, call.query.as_deref(), &call.headers, &[], &names)?;
    if query.get(KIND.name).is_some() {
        return Err(Problem::bad_parameter("kind is for GET; POST takes action"));
    }
    let action = query.choice(&ACTION.required())?.unwrap_or_default();
    let integration = query.object("integration")?;
    let empty = call.body.iter().all(u8::is_ascii_whitespace);
    if action != "setSchedule" {
        if !empty {
            return Err(Problem::bad_parameter(format!(
                "action={action} takes no body (only setSchedule takes a schedule)"
            )));
        }
        let action = match action {
            "enableSchedule" => Action::Enable,
            "disableSchedule" => Action::Disable,
            _ => Action::Delete,
        };
        return Ok((integration, action));
    }
    if empty {
        return Err(Problem::bad_parameter(
            "action=setSchedule needs the schedule as the body: a JSON object with name, type, startDate, endDate, \
             timezone and the fields its type needs",
        ));
    }
    if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(Problem::bad_parameter(format!(
                "the schedule must be a JSON object (Content-Type: application/json), got {}",
                quote(&essence)
            )));
        }
    }
    let Value::Object(mut schedule) = strict_json::from_slice(&call.body)? else {
        return Err(Problem::bad_parameter("the schedule must be a JSON object"));
    };
    let unknown: Vec<&str> = schedule.keys().map(String::as_str).filter(|k| !SCHEDULE_KEYS.contains(k)).collect();
    if !unknown.is_empty() {
        return Err(Problem::bad_parameter(format!(
            "the schedule has unknown field{} {}; a CloudWorks schedule has {}",
            if unknown.len() > 1 { "s" } else { "" },
            unknown.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", "),
            SCHEDULE_KEYS.join(", ")
        )));
    }
    let missing: Vec<&str> = SCHEDULE_REQUIRED
        .iter()
        .copied()
        .filter(|k| schedule.get(*k).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Problem::bad_parameter(format!(
            "the schedule needs {} (text); missing or empty: {}",
            SCHEDULE_REQUIRED.join(", "),
            missing.join(", ")
        )));
    }
    let kind = schedule.get("type").and_then(Value::as_str).unwrap_or_default();
    if !SCHEDULE_TYPES.contains(&kind) {
        return Err(Problem::bad_parameter(format!(
            "the schedule's type must be one of {}; got {}",
            SCHEDULE_TYPES.join(", "),
            quote(kind)
        ))
        .with("value", json!(kind)));
    }
    let status = match schedule.remove("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "Active" => Some(true),
        Some(Value::String(s)) if s == "Inactive" => Some(false),
        Some(other) => {
            return Err(Problem::bad_parameter(format!(
                "the schedule's status must be Active or Inactive; got {}",
                quote(&other.to_string())
            )));
        }
    };
    Ok((integration, Action::Set(schedule, status)))
}

async fn change(state: &AppState, call: Call) -> Result<Response, Problem> {
    let (integration, action) = parse_change(&call)?;
    let cw = cloudworks_client(state, &call)?;
    let id = resolve(&cw, integration).await?;
    let before = cloudworks::integration_detail(&cw, &id).await?;
    let current = cloudworks::schedule_of(&before).cloned();
    let active = |s: &Value| s.get("status").and_then(Value::as_str) != Some("Inactive");
    let changed = match action {
        Action::Set(schedule, status) => {
            let exists = current.is_some();
            cloudworks::set_schedule(&cw, &id, &Value::Object(schedule), exists)
                .await
                .map_err(|e| refused(e, &before, &id))?;
            tracing::info!(integration = %id, replaced = exists, "CloudWorks schedule set");
            if let Some(enable) = status {
                let after = cloudworks::integration_detail(&cw, &id).await?;
                if cloudworks::schedule_of(&after).is_some_and(|s| active(s) != enable) {
                    cloudworks::set_schedule_status(&cw, &id, enable).await?;
                }
            }
            true
        }
        Action::Enable | Action::Disable => {
            let enable = matches!(action, Action::Enable);
            let Some(schedule) = &current else {
                return Err(Problem::new(
                    ProblemType::NotFound,
                    format!(
                        "integration {} has no schedule to {}; set one first (action=setSchedule)",
                        describe(&before, &id),
                        if enable { "enable" } else { "disable" }
                    ),
                )
                .with("integrationId", json!(id.as_str())));
            };
            if active(schedule) == enable {
                false
            } else {
                cloudworks::set_schedule_status(&cw, &id, enable).await?;
                tracing::info!(integration = %id, enable, "CloudWorks schedule status set");
                true
            }
        }
        Action::Delete => {
            if current.is_some() {
                cloudworks::delete_schedule(&cw, &id).await?;
                tracing::info!(integration = %id, "CloudWorks schedule deleted");
                true
            } else {
                false
            }
        }
    };
    let after = if changed { cloudworks::integration_detail(&cw, &id).await? } else { before };
    let body = json!({
        "integration": { "id": id.as_str(), "name": after.get("name").cloned().unwrap_or(Value::Null) },
        "schedule": cloudworks::schedule_of(&after).cloned().unwrap_or(Value::Null),
        "changed": changed,
    });
    Ok(json_answer(StatusCode::OK, &body))
}

/// CloudWorks' 400 to a schedule names what it refused; any other error is as usual.
fn refused(e: AnaplanError, detail: &Value, id: &IntegrationId) -> Problem {
    match e {
        AnaplanError::Api { status: 400, message, .. } => Problem::new(
            ProblemType::AnaplanBadRequest,
            format!("CloudWorks refused the schedule of integration {}: {}", describe(detail, id), quote(&message)),
        )
        .with("anaplan", json!({ "status": 400, "message": message })),
        other => Problem::from(other),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_connector_has_a_read_and_a_schedule_change() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/cloudworks"];
        assert_eq!(path["get"]["operationId"], "GetCloudWorks");
        let post = &path["post"];
        assert_eq!(post["operationId"], "SetCloudWorksSchedule");
        let params = post["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true && p["in"] == "query"));
        assert!(params.iter().any(|p| p["name"] == "integrationId"));
        let body = params.iter().find(|p| p["in"] == "body").unwrap();
        assert_eq!(body["schema"]["$ref"], "#/definitions/CloudWorksSchedule");
    }
}
