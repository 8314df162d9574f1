//! Anaplan's Audit API (`<Audit URL>/audit/api/1/events`): the tenant's events in a time
//! window of at most 30 days, every page followed. Windows are half-open here, `[from, to)`,
//! whatever Anaplan does at the edges, so consecutive windows never repeat or miss an event.

use serde_json::Value;
use url::Url;

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;

/// The widest window Anaplan serves.
pub const MAX_WINDOW_MS: i64 = 30 * DAY_MS;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 3600 * 1000;
/// Events asked for per page (Anaplan may serve fewer; the paging says what remains).
pub const PAGE_SIZE: usize = 100;
/// A bound on pages, so a server that never ends its paging cannot hold a request forever.
const MAX_PAGES: usize = 10_000;

/// The Audit API's event types (`type=`).
pub const EVENT_TYPES: [&str; 9] =
    ["all", "user_activity", "access_control", "int", "conn_mgmt", "comment", "byok", "plan_iq", "forecaster"];

/// Where the Audit API is; built once and shared.
#[derive(Clone, Debug)]
pub struct AuditApi {
    /// `<Audit URL>/audit/api/1/`.
    base: Url,
}

/// A window `[from, to)` in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start (inclusive).
    pub from: i64,
    /// End (exclusive).
    pub to: i64,
}

impl AuditApi {
    /// The Audit API at `audit_url` (`/audit/api/1` is appended).
    pub fn new(audit_url: &Url) -> Self {
        let mut base = audit_url.clone();
        base.path_segments_mut().expect("http(s) URLs have paths").pop_if_empty().extend(["audit", "api", "1", ""]);
        AuditApi { base }
    }

    /// Every event of `kind` in `window` (Anaplan's event objects, unchanged), in Anaplan's
    /// order, each once.
    pub async fn events(&self, anaplan: &Client, window: Window, kind: &str) -> Result<Vec<Value>, AnaplanError> {
        let page = |offset: usize| {
            ApiRequest::get(["events"])
                .query("type", kind)
                .query("dateFrom", window.from.to_string())
                .query("dateTo", window.to.to_string())
                .query("limit", PAGE_SIZE.to_string())
                .query("offset", offset.to_string())
        };
        self.all_pages(anaplan, page, Some(window)).await
    }

    /// Every event of `kind` that `POST /events/search` finds for `body` (Anaplan's search
    /// body: the window is decided server-side), each once. A body with both `from` and `to`
    /// is read as the half-open window `[from, to)`, as [`Self::events`] reads its window.
    pub async fn search(&self, anaplan: &Client, body: Search, kind: &str) -> Result<Vec<Value>, AnaplanError> {
        let json = serde_json::to_value(body).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
        let page = |offset: usize| {
            // A search reads: sending it twice does no harm, so it is retried like a GET.
            ApiRequest::get(["events", "search"])
                .method(reqwest::Method::POST)
                .replayable()
                .query("type", kind)
                .query("limit", PAGE_SIZE.to_string())
                .query("offset", offset.to_string())
                .json(json.clone())
        };
        let window = match (body.from, body.to) {
            (Some(from), Some(to)) => Some(Window { from, to }),
            _ => None,
        };
        self.all_pages(anaplan, page, window).await
    }

    async fn all_pages(
        &self,
        anaplan: &Client,
        request: impl Fn(usize) -> ApiRequest,
        window: Option<Window>,
    ) -> Result<Vec<Value>, AnaplanError> {
        let client = anaplan.for_base(self.base.clone());
        let mut out: Vec<Value> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut offset = 0usize;
        for _ in 0..MAX_PAGES {
            let page: Value = client.json(request(offset)).await?;
            let events = match page.get("response") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(other) => return Err(AnaplanError::Protocol(format!("audit events: response is {other}"))),
            };
            let got = events.len();
            for e in events {
                let inside = match (window, event_millis(&e)) {
                    (Some(w), Some(at)) => at >= w.from && at < w.to,
                    _ => true,
                };
                // `id` is an integer live; a string id is read the same way.
                let fresh = match e.get("id") {
                    Some(Value::Number(n)) => seen.insert(n.to_string()),
                    Some(Value::String(id)) => seen.insert(id.clone()),
                    _ => true,
                };
                if inside && fresh {
                    out.push(e);
                }
            }
            let paging = page.pointer("/meta/paging");
            let number = |k: &str| paging.and_then(|p| p.get(k)).and_then(Value::as_u64).map(|n| n as usize);
            // nextOffset when Anaplan gives it; else offset + what came, while below totalSize.
            // No paging at all: one page.
            let next = match (number("nextOffset"), number("totalSize")) {
                (Some(n), _) if n > offset => Some(n),
                (Some(_), _) => None,
                (None, Some(total)) if offset + got < total => Some(offset + got),
                _ => None,
            };
            match next {
                Some(n) if got > 0 => offset = n,
                _ => return Ok(out),
            }
        }
        Err(AnaplanError::Protocol(format!("audit events: more than {MAX_PAGES} pages")))
    }
}

/// `POST /events/search`'s body, as its description documents it: `from` and `to` in epoch
/// milliseconds, or `interval` in hours (the previous N hours). Empty fields are left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Search {
    /// Start (epoch ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// End (epoch ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// The previous N hours (1 to 720).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
}

/// The longest `interval` Anaplan serves: 30 days.
pub const MAX_INTERVAL_HOURS: u32 = 720;

/// An event's `eventDate` in epoch milliseconds (a number, a numeric string or RFC 3339).
pub fn event_millis(e: &Value) -> Option<i64> {
    match e.get("eventDate")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| parse_rfc3339(s).ok()),
        _ => None,
    }
}

/// Parses an RFC 3339 timestamp (`2026-12-01T08:30:00Z`, `...T08:30:00.5+01:00`) into epoch
/// milliseconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let bad = || format!("{} is not an RFC 3339 timestamp such as 2026-12-01T08:30:00Z", crate::untrusted::quote(s));
    let b = s.trim().as_bytes();
    if b.len() < 20 {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = std::str::from_utf8(&b[r]).map_err(|_| bad())?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse::<i64>().map_err(|_| bad()) } else { Err(bad()) }
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut millis = 0i64;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let digits = std::str::from_utf8(&b[start..i.min(start + 3)]).map_err(|_| bad())?;
        millis = format!("{digits:0<3}").parse::<i64>().map_err(|_| bad())?;
    }
    let offset_minutes = match b.get(i..) {
        Some(b"Z" | b"z") => 0,
        Some(rest) if rest.len() == 6 && matches!(rest[0], b'+' | b'-') && rest[3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let sign = if rest[0] == b'-' { -1 } else { 1 };
            sign * (h * 60 + m)
        }
        _ => return Err(bad()),
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
    Ok(secs * 1000 + millis)
}

/// Epoch milliseconds as RFC 3339 in UTC (`2026-12-01T08:30:00Z`, milliseconds only when
/// not zero).
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let time = format!("{:02}:{:02}:{:02}", rem / 3600, (rem / 60) % 60, rem % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{d:02}T{time}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{time}.{millis:03}Z")
    }
}

/// Now, in epoch milliseconds.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_offsets_are_applied() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2026-12-01T08:30:00Z").map(format_rfc3339).as_deref(), Ok("2026-12-01T08:30:00Z"));
        assert_eq!(parse_rfc3339("2026-12-01T09:30:00.25+01:00"), parse_rfc3339("2026-12-01T08:30:00.250Z"));
        assert_eq!(format_rfc3339(parse_rfc3339("2024-02-29T23:59:59.999-00:30").unwrap()), "2024-03-01T00:29:59.999Z");
        for bad in [
            "2026-12-01",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-12-01T00:00:00",
            "yesterday",
            "2026-12-01T00:00:00+0100",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_dates_are_read_in_any_of_the_likely_forms() {
        assert_eq!(event_millis(&serde_json::json!({"eventDate": 1000})), Some(1000));
        assert_eq!(event_millis(&serde_json::json!({"eventDate": "1000"})), Some(1000));
        assert_eq!(event_millis(&serde_json::json!({"eventDate": "1970-01-01T00:00:01Z"})), Some(1000));
        assert_eq!(event_millis(&serde_json::json!({})), None);
    }
}
