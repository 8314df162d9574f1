//! `audit-events`: the tenant's Anaplan audit events in a window of at most 30 days, every
//! page followed, ready for Log Analytics. The window is half-open, `[from, to)`: a flow that
//! asks for consecutive windows gets each event exactly once.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::{AppState, Call, Params, Problem};
use crate::machinery::declare::{Answer, Function, Input, Operation, Param, RequestBody, Schema, Trigger};
use crate::machinery::openapi::{prop, prop_with};
use anaplan::audit::{self, DAY_MS, EVENT_TYPES, MAX_WINDOW_MS, Window};

const FROM: Param = Param::text(
    "from",
    "From",
    "Start of the window (RFC 3339, e.g. 2026-12-01T00:00:00Z), included. Default: 24 hours before 'To'.",
);

const TO: Param =
    Param::text("to", "To", "End of the window (RFC 3339), excluded; at most 30 days after 'From'. Default: now.");

const TYPE: Param = Param::choice(
    "type",
    &EVENT_TYPES,
    "Event type",
    "Anaplan's event type: all (the default), user_activity, access_control, int, conn_mgmt, comment, byok, plan_iq or \
     forecaster.",
)
.default("all")
.advanced();

/// `audit-events`.
pub const FUNCTION: Function = Function {
    name: "audit-events",
    trigger: Trigger::Http { methods: &[Method::GET], body: RequestBody::Parameters },
    inputs: &[Input::Param(FROM), Input::Param(TO), Input::Param(TYPE)],
    long_running: None,
    operation: Some(Operation {
        id: "GetAuditEvents",
        summary: "Get Anaplan audit events",
        description: "Reads the tenant's Anaplan audit events from 'From' (included) to 'To' (excluded), at most 30 \
                      days, every page. Consecutive windows give each event once: ready for the Azure Log Analytics \
                      Data Collector action.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The window and its events.", schema: "AuditEvents", array: false },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "AuditEvents", build: audit_events_schema }],
    handler: |state, call| Box::pin(handle(state, call)),
};

/// A checked request.
struct AuditEventsRequest {
    window: Window,
    kind: &'static str,
}

impl AuditEventsRequest {
    fn parse(params: &Params, now: i64) -> Result<Self, Problem> {
        let time = |p: &Param| -> Result<Option<i64>, Problem> {
            params
                .get(p.name)
                .map(|v| audit::parse_rfc3339(v).map_err(|e| Problem::bad_parameter(format!("{}: {e}", p.name))))
                .transpose()
        };
        let (from, to) = match (time(&FROM)?, time(&TO)?) {
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, now),
            (None, Some(t)) => (t - DAY_MS, t),
            (None, None) => (now - DAY_MS, now),
        };
        if from >= to {
            return Err(Problem::bad_parameter(format!(
                "from ({}) must be before to ({})",
                audit::format_rfc3339(from),
                audit::format_rfc3339(to)
            )));
        }
        if to - from > MAX_WINDOW_MS {
            return Err(Problem::bad_parameter(format!(
                "from ({}) and to ({}) are more than 30 days apart, the widest window Anaplan's audit API serves; \
                 ask for several windows",
                audit::format_rfc3339(from),
                audit::format_rfc3339(to)
            )));
        }
        let kind = params.choice(&TYPE)?.unwrap_or("all");
        Ok(AuditEventsRequest { window: Window { from, to }, kind })
    }
}

/// `#/definitions/AuditEvents`: the events of a window.
fn audit_events_schema() -> Value {
    json!({
        "type": "object",
        "description": "The audit events of a window.",
        "properties": {
            "from": prop("string", "From", "Start of the window (RFC 3339, UTC), included."),
            "to": prop("string", "To", "End of the window (RFC 3339, UTC), excluded."),
            "events": prop_with(
                "array",
                "Events",
                "Anaplan's event objects, unchanged (id, eventTypeId, userId, message, success, eventDate, ...).",
                "items",
                json!({ "type": "object", "additionalProperties": true }),
            ),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let AuditEventsRequest { window, kind } = AuditEventsRequest::parse(&call.params()?, audit::now_millis())?;
    let client = call.client(state)?;
    let events = state.audit.events(&client, window, kind).await?;
    tracing::info!(events = events.len(), kind, "audit events read");
    let body = json!({
        "from": audit::format_rfc3339(window.from),
        "to": audit::format_rfc3339(window.to),
        "events": events,
    });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}
