//! `audit-events`: the tenant's Anaplan audit events in a window of at most 30 days, every
//! page followed, ready for Log Analytics. The window is half-open, `[from, to)`: a flow that
//! asks for consecutive windows gets each event exactly once. GET reads Anaplan's
//! `GET /events`; POST sends Anaplan's search body (`from`, `to` or `interval`) to
//! `POST /events/search`, so the window is decided server-side.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::{AppState, Call, Params, Problem};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with};
use anaplan::audit::{self, DAY_MS, EVENT_TYPES, MAX_INTERVAL_HOURS, MAX_WINDOW_MS, Window};

const FROM: Param = Param::text(
    "from",
    "From",
    "Start of the window (RFC 3339, e.g. 2026-12-01T00:00:00Z, or epoch milliseconds as Anaplan's search body has \
     it), included. Default: 24 hours before 'To'.",
);

const TO: Param = Param::text(
    "to",
    "To",
    "End of the window (RFC 3339 or epoch milliseconds), excluded; at most 30 days after 'From'. Default: now.",
);

const INTERVAL: Param = Param::text(
    "interval",
    "Last hours",
    "Instead of From and To: the previous N hours (1 to 720). With POST, Anaplan decides the window from it.",
)
.advanced();

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
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Param(FROM), Input::Param(TO), Input::Param(INTERVAL), Input::Param(TYPE)],
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
    more_operations: &[SEARCH_OPERATION],
    schemas: &[
        Schema { name: "AuditEvents", build: audit_events_schema },
        Schema { name: "AuditSearch", build: audit_search_schema },
    ],
    group: Some(Group::Users),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `audit-events`' POST in the connector: Anaplan's search body.
pub const SEARCH_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Param(TYPE)],
    body: Some("AuditSearch"),
    operation: Operation {
        id: "SearchAuditEvents",
        summary: "Search Anaplan audit events",
        description: "Sends Anaplan's audit search body (from and to in epoch milliseconds or RFC 3339, or interval: the \
                      last N hours) to Anaplan's POST /events/search, which selects the events server-side, and \
                      reads every page. Without a window: the last 24 hours.",
        important: false,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The window and its events.", schema: "AuditEvents", array: false },
    },
    accepted: None,
};

/// A checked request.
struct AuditEventsRequest {
    ask: Ask,
    kind: &'static str,
}

/// What to ask Anaplan: a window we hold to (GET), or a search body (POST).
enum Ask {
    Events(Window),
    /// The body, and the window it stands for by this clock (for the answer).
    Search(audit::Search, Window),
}

impl AuditEventsRequest {
    fn parse(params: &Params, search: bool, now: i64) -> Result<Self, Problem> {
        let time = |p: &Param| -> Result<Option<i64>, Problem> {
            params
                .get(p.name)
                .map(|v| parse_time(v).map_err(|e| Problem::bad_parameter(format!("{}: {e}", p.name))))
                .transpose()
        };
        let interval = params
            .get(INTERVAL.name)
            .map(|v| match v.trim().parse::<u32>() {
                Ok(h) if (1..=MAX_INTERVAL_HOURS).contains(&h) => Ok(h),
                _ => Err(Problem::bad_parameter(format!(
                    "interval is {}; it is a whole number of hours from 1 to {MAX_INTERVAL_HOURS} (30 days)",
                    anaplan::untrusted::quote(v)
                ))),
            })
            .transpose()?;
        let (from, to) = (time(&FROM)?, time(&TO)?);
        if interval.is_some() && (from.is_some() || to.is_some()) {
            return Err(Problem::bad_parameter("give either from and to, or interval, not both"));
        }
        let (from, to) = match (from, to, interval) {
            (_, _, Some(h)) => (now - i64::from(h) * 3_600_000, now),
            (Some(f), Some(t), None) => (f, t),
            (Some(f), None, None) => (f, now),
            (None, Some(t), None) => (t - DAY_MS, t),
            (None, None, None) => (now - DAY_MS, now),
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
        let window = Window { from, to };
        let ask = match (search, interval) {
            (false, _) => Ask::Events(window),
            (true, Some(h)) => Ask::Search(audit::Search { interval: Some(h), ..Default::default() }, window),
            (true, None) => Ask::Search(audit::Search { from: Some(from), to: Some(to), interval: None }, window),
        };
        Ok(AuditEventsRequest { ask, kind })
    }
}

/// A point in time as RFC 3339, or as epoch milliseconds (digits only), as Anaplan's search
/// body has it.
fn parse_time(v: &str) -> Result<i64, String> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<i64>().map_err(|_| format!("{v} is not a time in epoch milliseconds"));
    }
    audit::parse_rfc3339(v)
}

/// `#/definitions/AuditSearch`: Anaplan's search body.
fn audit_search_schema() -> Value {
    json!({
        "type": "object",
        "description": "Anaplan's audit search body: from and to, or interval. Without either, the last 24 hours.",
        "properties": {
            "from": prop("string", "From", "Start of the window, included: epoch milliseconds (as Anaplan has it) or RFC 3339."),
            "to": prop("string", "To", "End of the window, excluded: epoch milliseconds or RFC 3339; at most 30 days after From. Default: now."),
            "interval": prop("integer", "Last hours", "Instead of From and To: the previous N hours (1 to 720)."),
        },
    })
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
    let search = call.method == Method::POST;
    let AuditEventsRequest { ask, kind } = AuditEventsRequest::parse(&call.params()?, search, audit::now_millis())?;
    let client = call.client(state)?;
    let (events, window) = match ask {
        Ask::Events(window) => (state.audit.events(&client, window, kind).await?, window),
        Ask::Search(body, window) => (state.audit.search(&client, body, kind).await?, window),
    };
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
