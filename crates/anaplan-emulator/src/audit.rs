//! Anaplan's Audit API (`/audit/api/1/events`), as the live-tested description has it: the
//! tenant's events, newest first, with `type` (`all`, or a category in [`super::seed_users::AUDIT_TYPES`]
//! selecting an `eventTypeId` prefix; any other value counts as `all`, as live),
//! `dateFrom`/`dateTo` in epoch milliseconds (both ends inclusive; more than 30 days apart,
//! or from after to, is a 400) or `intervalInHours` (1 to 720), the previous 30 days when
//! neither is given, and `limit`/`offset` paging answered in `meta.paging`
//! (`currentPageSize`, `totalSize`, `offSet`, `nextOffset`/`nextUrl` while more remain,
//! `previousUrl` past the first page). `limit` is capped at [`AUDIT_PAGE_CAP`] so that
//! clients page (live Anaplan honours larger limits). `Accept: text/plain` answers every
//! matching event in CEF, one per line, unpaged. Events carry an integer `id`, a numeric
//! string `checksum` and `errorNumber` (a string) only on failures. Errors are the Audit
//! API's `{"status": "FAILURE_…", "statusMessage"}`. Auth: a live Anaplan access token under
//! `AnaplanAuthToken` only (`Bearer` is a 401, as live); a SCIM API key does not open it.
//!
//! `POST /audit/api/1/events/search` takes the window in a JSON body instead, `{"from", "to"}`
//! (epoch milliseconds) or `{"interval"}` (hours, 1 to 720), with the same `type`, paging and
//! answers. Its description lists only `type` as a query parameter, yet tells clients to page
//! it with `limit` and `offset`: both are served. A body key the description does not name, or
//! a value that is not a whole number, is a 400 (the emulator's choice: the description is
//! silent).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::seed::{CUSTOMER_ID, USER_ID};
use super::seed_users::{
    AUDIT_EVENT_DAYS, AUDIT_EVENT_SPACING_MS, AUDIT_PAGE_CAP, audit_event_type, audit_type_prefix, scim_user,
};
use super::util::{now_millis, query_get, query_pairs};
use super::{Emulator, Inner};

const PATH: &str = "/audit/api/1/events";
const SEARCH_PATH: &str = "/audit/api/1/events/search";
const DAY_MS: u64 = 24 * 3600 * 1000;
/// The widest window Anaplan serves.
pub const MAX_WINDOW_MS: u64 = 30 * DAY_MS;

/// When the seeded events end.
pub struct AuditState {
    /// `eventDate` of the newest event (epoch ms).
    newest: u64,
    /// The JSON bodies of `POST …/events/search` calls, in order.
    searches: Vec<Value>,
}

impl Default for AuditState {
    fn default() -> Self {
        let now = now_millis();
        AuditState { newest: now - now % AUDIT_EVENT_SPACING_MS, searches: Vec::new() }
    }
}

fn event_count() -> usize {
    (AUDIT_EVENT_DAYS * DAY_MS / AUDIT_EVENT_SPACING_MS) as usize
}

/// Seeded event `i` (0 = the newest).
fn event(newest: u64, i: usize) -> Value {
    let (_, event_type, message) = audit_event_type(i);
    let at = newest - i as u64 * AUDIT_EVENT_SPACING_MS;
    let user = scim_user(i % 20);
    let user_id = if i.is_multiple_of(20) { USER_ID.to_owned() } else { user.id.clone() };
    let success = !i.is_multiple_of(17);
    // Ids grow with time, like the live ones (`2598676438`).
    let id = 2_598_000_000u64 + (event_count() - i) as u64;
    let mut v = json!({
        "id": id,
        "eventTypeId": event_type,
        "userId": user_id,
        "tenantId": CUSTOMER_ID,
        "objectId": user.id,
        "objectTenantId": CUSTOMER_ID,
        "message": message,
        "success": success,
        "ipAddress": format!("203.0.113.{}", i % 250 + 1),
        "userAgent": "Mozilla/5.0",
        "hostName": "us1a.app.anaplan.com",
        "eventDate": at,
        "eventTimeZone": "UTC",
        "createdDate": at + 1000,
        "createdTimeZone": "UTC",
        // A short numeric string, as live (not a hash).
        "checksum": ((i as u64).wrapping_mul(2_654_435_761) % 4_000_000_000).to_string(),
        "additionalAttributes": if event_type.starts_with("USR-") { json!({ "clientName": "Anaplan Functions" }) } else { json!({}) },
    });
    if !success {
        v["errorNumber"] = json!("401");
    }
    v
}

impl Emulator {
    /// The bodies of the audit searches received (an empty body as `{}`), in order.
    pub fn audit_searches(&self) -> Vec<Value> {
        self.inner.state().audit.searches.clone()
    }

    /// Every seeded audit event, newest first.
    pub fn audit_events(&self) -> Vec<Value> {
        let newest = self.inner.state().audit.newest;
        (0..event_count()).map(|i| event(newest, i)).collect()
    }
}

/// The Audit routes.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new().route(PATH, get(events)).route(SEARCH_PATH, axum::routing::post(search))
}

/// True when the request carries a live Anaplan access token as `AnaplanAuthToken` (the
/// audit host refuses `Bearer`, live-confirmed).
pub fn auth_ok(inner: &Inner, headers: &HeaderMap) -> bool {
    let Some((scheme, token)) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.split_once(' '))
    else {
        return false;
    };
    scheme == "AnaplanAuthToken"
        && inner.state().access_tokens.get(token.trim()).is_some_and(|t| Instant::now() < t.expires_at)
}

/// The Audit API's error body: `{"status": "FAILURE_…", "statusMessage"}`.
fn audit_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "status": code, "statusMessage": message }))).into_response()
}

/// The 401 of a request without a live `AnaplanAuthToken` (the live message for a Bearer
/// header; the `status` word is the emulator's).
pub fn unauthorized() -> Response {
    audit_error(StatusCode::UNAUTHORIZED, "FAILURE_BAD_HEADER", "No valid token header found for the request")
}

fn bad(message: String) -> Response {
    audit_error(StatusCode::BAD_REQUEST, "FAILURE_BAD_REQUEST", &message)
}

fn number(pairs: &[(String, String)], key: &str) -> Result<Option<u64>, Response> {
    match query_get(pairs, key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| bad(format!("Invalid value for parameter [{key}]"))),
    }
}

/// A request's window as it asked for it: `from`/`to` (epoch ms) or an interval in hours.
struct Asked {
    from: Option<u64>,
    to: Option<u64>,
    interval: Option<u64>,
}

fn wants_cef(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    accept.contains("text/plain") && !accept.contains("json")
}

async fn events(State(inner): State<Arc<Inner>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let pairs = query_pairs(uri.query());
    let known = ["type", "dateFrom", "dateTo", "intervalInHours", "limit", "offset"];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return bad(format!("Unknown parameter [{k}]"));
    }
    let asked = match (|| {
        Ok::<_, Response>(Asked {
            from: number(&pairs, "dateFrom")?,
            to: number(&pairs, "dateTo")?,
            interval: number(&pairs, "intervalInHours")?,
        })
    })() {
        Ok(a) => a,
        Err(r) => return r,
    };
    answer(&inner, wants_cef(&headers), PATH, &pairs, asked)
}

/// `POST …/events/search`: the window in the body.
async fn search(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> Response {
    let pairs = query_pairs(uri.query());
    let known = ["type", "limit", "offset"];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return bad(format!("Unknown parameter [{k}]"));
    }
    let fields: serde_json::Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(m)) => m,
            _ => return bad("The request body must be a JSON object".into()),
        }
    };
    inner.state().audit.searches.push(Value::Object(fields.clone()));
    if let Some(k) = fields.keys().find(|k| !["from", "to", "interval"].contains(&k.as_str())) {
        return bad(format!("Unknown field [{k}]"));
    }
    let field = |k: &str| match fields.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| bad(format!("Invalid value for field [{k}]"))),
    };
    let asked = match (|| {
        Ok::<_, Response>(Asked { from: field("from")?, to: field("to")?, interval: field("interval")? })
    })() {
        Ok(a) => a,
        Err(r) => return r,
    };
    answer(&inner, wants_cef(&headers), SEARCH_PATH, &pairs, asked)
}

/// The events of a window, as CEF or one JSON page (`limit`, `offset` from `pairs`).
fn answer(inner: &Inner, cef: bool, path: &str, pairs: &[(String, String)], asked: Asked) -> Response {
    // An unrecognised `type` is `all` (live: not rejected).
    let prefix = audit_type_prefix(query_get(pairs, "type").unwrap_or("all"));
    let (limit, offset) = match (number(pairs, "limit"), number(pairs, "offset")) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let now = now_millis();
    let (from, to) = match (asked.from, asked.to, asked.interval) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return bad("Give either a date range or an interval, not both".into());
        }
        (None, None, Some(h)) if h == 0 || h > 720 => {
            return bad("The interval must be from 1 to 720 hours".into());
        }
        (None, None, Some(h)) => (now.saturating_sub(h * 3600 * 1000), now),
        (Some(f), Some(t), None) => (f, t),
        (Some(f), None, None) => (f, now),
        (None, Some(t), None) => (t.saturating_sub(MAX_WINDOW_MS), t),
        (None, None, None) => (now.saturating_sub(MAX_WINDOW_MS), now),
    };
    if from > to {
        return bad("The start of the range must not be after its end".into());
    }
    if to - from > MAX_WINDOW_MS {
        return bad("Date range cannot exceed 30 days".into());
    }
    let newest = inner.state().audit.newest;
    let matched: Vec<Value> = (0..event_count())
        .map(|i| event(newest, i))
        .filter(|e| {
            let at = e["eventDate"].as_u64().unwrap_or(0);
            let kind_ok = prefix.is_none_or(|p| e["eventTypeId"].as_str().is_some_and(|t| t.starts_with(p)));
            kind_ok && at >= from && at <= to
        })
        .collect();
    if cef {
        let mut resp = matched.iter().map(cef_line).collect::<String>().into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/plain"));
        return resp;
    }
    let limit = limit.unwrap_or(AUDIT_PAGE_CAP as u64).clamp(1, AUDIT_PAGE_CAP as u64) as usize;
    let offset = offset.unwrap_or(0) as usize;
    let total = matched.len();
    let page: Vec<Value> = matched.into_iter().skip(offset).take(limit).collect();
    let mut paging = json!({ "currentPageSize": page.len(), "totalSize": total, "offSet": offset });
    let link = |off: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "offset") {
            q.append_pair(k, v);
        }
        q.append_pair("offset", &off.to_string());
        format!("{}{path}?{}", inner.base_url, q.finish())
    };
    let next = offset + page.len();
    if next < total {
        paging["nextOffset"] = json!(next);
        paging["nextUrl"] = json!(link(next));
    }
    if offset > 0 {
        paging["previousUrl"] = json!(link(offset.saturating_sub(limit)));
    }
    (StatusCode::OK, Json(json!({ "meta": { "paging": paging }, "response": page }))).into_response()
}

/// One event in Anaplan's CEF line: `<ISO timestamp>  CEF:0|Anaplan, Inc.||null|<eventTypeId>|
/// <message>|key=value ...` (no severity field, as live).
fn cef_line(e: &Value) -> String {
    let text = |k: &str| match &e[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let at = e["eventDate"].as_u64().unwrap_or(0);
    let iso = iso_millis(at);
    let mut ext: Vec<String> = Vec::new();
    for k in [
        "id",
        "userId",
        "tenantId",
        "eventTimeZone",
        "createdDate",
        "createdTimeZone",
        "success",
        "objectId",
        "additionalAttributes",
        "ipAddress",
        "userAgent",
    ] {
        ext.push(format!("{k}={}", text(k)));
    }
    format!("{iso}  CEF:0|Anaplan, Inc.||null|{}|{}|{}\n", text("eventTypeId"), text("message"), ext.join(" "))
}

/// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn iso_millis(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = super::util::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, (rem / 60) % 60, rem % 60, ms % 1000)
}
