//! Anaplan's Audit API (`/audit/api/1/events`): the tenant's events, newest first, with
//! `type` (`all` and the categories in [`AUDIT_TYPES`]), `dateFrom`/`dateTo` in epoch
//! milliseconds (both ends inclusive; more than 30 days apart, or from after to, is a 400)
//! or `intervalInHours` (at most 720), and `limit`/`offset` paging (`limit` capped at
//! [`AUDIT_PAGE_CAP`]) answered in `meta.paging` (`currentPageSize`, `totalSize`,
//! `offSet`, and `nextOffset`/`nextUrl` while more remain). Only JSON is served: CEF
//! (`Accept: text/plain`) is a 406 here. Auth: a live Anaplan access token
//! (`AnaplanAuthToken` or `Bearer`); a SCIM API key does not open it.

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
    AUDIT_EVENT_DAYS, AUDIT_EVENT_SPACING_MS, AUDIT_PAGE_CAP, AUDIT_TYPES, audit_event_type, scim_user,
};
use super::util::{api_error, now_millis, query_get, query_pairs};
use super::{Emulator, Inner};

const PATH: &str = "/audit/api/1/events";
const DAY_MS: u64 = 24 * 3600 * 1000;
/// The widest window Anaplan serves.
pub const MAX_WINDOW_MS: u64 = 30 * DAY_MS;

/// When the seeded events end.
pub struct AuditState {
    /// `eventDate` of the newest event (epoch ms).
    newest: u64,
}

impl Default for AuditState {
    fn default() -> Self {
        let now = now_millis();
        AuditState { newest: now - now % AUDIT_EVENT_SPACING_MS }
    }
}

fn event_count() -> usize {
    (AUDIT_EVENT_DAYS * DAY_MS / AUDIT_EVENT_SPACING_MS) as usize
}

/// Seeded event `i` (0 = the newest) and its `type` category.
fn event(newest: u64, i: usize) -> (&'static str, Value) {
    let (category, event_type) = audit_event_type(i);
    let at = newest - i as u64 * AUDIT_EVENT_SPACING_MS;
    let user = scim_user(i % 20);
    let user_id = if i.is_multiple_of(20) { USER_ID.to_owned() } else { user.id.clone() };
    let id = format!("{:032x}", 0xa0d1_0000_0000_0000_0000u128 + i as u128);
    let message = match event_type {
        "user.login.success" => format!("User {} signed in", user.user_name),
        "user.logout" => format!("User {} signed out", user.user_name),
        "workspace.user.added" => format!("User {} was added to workspace FP&A Planning", user.user_name),
        "integration.process.run" => "Process Nightly Load was run through the Integration API".to_owned(),
        _ => "CloudWorks connection blob-exports was updated".to_owned(),
    };
    let v = json!({
        "id": id,
        "eventTypeId": event_type,
        "userId": user_id,
        "tenantId": CUSTOMER_ID,
        "objectId": user.id,
        "objectTypeId": "user",
        "objectTenantId": CUSTOMER_ID,
        "message": message,
        "success": !i.is_multiple_of(17),
        "errorNumber": if i.is_multiple_of(17) { json!(401) } else { Value::Null },
        "ipAddress": format!("203.0.113.{}", i % 250 + 1),
        "userAgent": "Mozilla/5.0",
        "sessionId": format!("{:032x}", 0x5e55_0000u128 + (i / 4) as u128),
        "hostName": "us1a.app.anaplan.com",
        "serviceVersion": "1.0",
        "eventDate": at,
        "eventTimeZone": "GMT",
        "createdDate": at + 1000,
        "createdTimeZone": "GMT",
        "checksum": format!("{:064x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        "additionalAttributes": { "category": category },
    });
    (category, v)
}

impl Emulator {
    /// Every seeded audit event, newest first.
    pub fn audit_events(&self) -> Vec<Value> {
        let newest = self.inner.state().audit.newest;
        (0..event_count()).map(|i| event(newest, i).1).collect()
    }
}

/// The Audit routes.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new().route(PATH, get(events))
}

/// True when the request carries a live Anaplan access token (either scheme).
pub fn auth_ok(inner: &Inner, headers: &HeaderMap) -> bool {
    let Some((scheme, token)) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.split_once(' '))
    else {
        return false;
    };
    matches!(scheme, "AnaplanAuthToken" | "Bearer")
        && inner.state().access_tokens.get(token.trim()).is_some_and(|t| Instant::now() < t.expires_at)
}

fn bad(message: String) -> Response {
    api_error(StatusCode::BAD_REQUEST, &message, PATH)
}

fn number(pairs: &[(String, String)], key: &str) -> Result<Option<u64>, Response> {
    match query_get(pairs, key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| bad(format!("Invalid value for parameter [{key}]"))),
    }
}

async fn events(State(inner): State<Arc<Inner>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    if accept.contains("text/plain") && !accept.contains("json") {
        return api_error(StatusCode::NOT_ACCEPTABLE, "CEF output is not emulated", PATH);
    }
    let pairs = query_pairs(uri.query());
    let known = ["type", "dateFrom", "dateTo", "intervalInHours", "limit", "offset"];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return bad(format!("Unknown parameter [{k}]"));
    }
    let kind = query_get(&pairs, "type").unwrap_or("all");
    if !AUDIT_TYPES.contains(&kind) {
        return bad(format!("Invalid value for parameter [type]: {kind}"));
    }
    let (from, to, interval, limit, offset) = match (|| {
        Ok::<_, Response>((
            number(&pairs, "dateFrom")?,
            number(&pairs, "dateTo")?,
            number(&pairs, "intervalInHours")?,
            number(&pairs, "limit")?,
            number(&pairs, "offset")?,
        ))
    })() {
        Ok(t) => t,
        Err(r) => return r,
    };
    let now = now_millis();
    let (from, to) = match (from, to, interval) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return bad("Give either dateFrom and dateTo or intervalInHours".into());
        }
        (None, None, Some(h)) if h == 0 || h > 720 => {
            return bad("intervalInHours must be from 1 to 720".into());
        }
        (None, None, Some(h)) => (now.saturating_sub(h * 3600 * 1000), now),
        (Some(f), Some(t), None) => (f, t),
        (Some(f), None, None) => (f, now),
        (None, Some(t), None) => (t.saturating_sub(DAY_MS), t),
        (None, None, None) => (now.saturating_sub(DAY_MS), now),
    };
    if from > to {
        return bad("dateFrom must not be after dateTo".into());
    }
    if to - from > MAX_WINDOW_MS {
        return bad("The date range must not exceed 30 days".into());
    }
    let limit = limit.unwrap_or(AUDIT_PAGE_CAP as u64).clamp(1, AUDIT_PAGE_CAP as u64) as usize;
    let offset = offset.unwrap_or(0) as usize;
    let newest = inner.state().audit.newest;
    let matched: Vec<Value> = (0..event_count())
        .map(|i| event(newest, i))
        .filter(|(category, e)| {
            let at = e["eventDate"].as_u64().unwrap_or(0);
            (kind == "all" || *category == kind) && at >= from && at <= to
        })
        .map(|(_, e)| e)
        .collect();
    let total = matched.len();
    let page: Vec<Value> = matched.into_iter().skip(offset).take(limit).collect();
    let mut paging = json!({ "currentPageSize": page.len(), "totalSize": total, "offSet": offset });
    let next = offset + page.len();
    if next < total {
        paging["nextOffset"] = json!(next);
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "offset") {
            q.append_pair(k, v);
        }
        q.append_pair("offset", &next.to_string());
        paging["nextUrl"] = json!(format!("{}{PATH}?{}", inner.base_url, q.finish()));
    }
    (StatusCode::OK, Json(json!({ "meta": { "paging": paging }, "response": page }))).into_response()
}
