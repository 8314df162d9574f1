//! Small shared helpers: Anaplan's error envelope, timestamps, ids, query
//! parsing, CSV quoting and a hand-rolled base64 decoder (the `base64` crate is
//! not a dependency of the main crate, so the emulator cannot use it).

use axum::Json;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Anaplan's error body for the Integration API (reference §6.1):
/// `{"status":{"code":..,"message":..},"path":..,"timestamp":..}`.
pub fn api_error(status: StatusCode, message: &str, path: &str) -> Response {
    let body = json!({
        "status": { "code": status.as_u16(), "message": message },
        "path": path,
        "timestamp": iso_timestamp_now(),
    });
    (status, Json(body)).into_response()
}

/// Error body whose message is the HTTP reason phrase, as Anaplan answers
/// 401/404/405/406 without a more specific text.
pub fn api_status(status: StatusCode, path: &str) -> Response {
    api_error(status, status.canonical_reason().unwrap_or("Error"), path)
}

/// The success envelope shared by all JSON answers: `meta.schema` + `status`.
pub fn envelope(schema: &str) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("meta".into(), json!({ "schema": format!("https://api.anaplan.com/2/0/{schema}") }));
    map.insert("status".into(), json!({ "code": 200, "message": "Success" }));
    map
}

/// Path extractor whose rejection is Anaplan's 404 body instead of axum's
/// plain-text error (e.g. for a path segment that is not valid UTF-8).
pub struct Ids<T>(pub T);

impl<T, S> FromRequestParts<S> for Ids<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Ids(v)),
            Err(_) => Err(api_status(StatusCode::NOT_FOUND, parts.uri.path())),
        }
    }
}

/// Decoded query pairs in order (repeated keys are kept, as `pages=` may repeat).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned().collect()
}

/// First value of a query parameter.
pub fn query_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// True when a boolean query flag is set to `true` (case-insensitive, like Spring).
pub fn query_flag(pairs: &[(String, String)], key: &str) -> bool {
    query_get(pairs, key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Current time as milliseconds since the Unix epoch (legacy `expiresAt`).
pub fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// ISO-8601 UTC timestamp with nanoseconds, like the captured 404 sample
/// (`2026-07-14T13:55:12.198115662Z`). Done by hand: no chrono in main.
pub fn iso_timestamp_now() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z", rem / 3600, (rem / 60) % 60, rem % 60, d.subsec_nanos())
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// 32 uppercase hex digits: Anaplan's task / read-request id format (§7).
pub fn upper_hex_id() -> String {
    uuid::Uuid::new_v4().simple().to_string().to_uppercase()
}

/// Formats `n` with thousands separators (`1000500` → `1,000,500`) for messages.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Appends one CSV field, quoting it when it holds a comma, quote or line break.
pub fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Appends a whole CSV record terminated by `\n`.
pub fn push_csv_line<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, f);
    }
    out.push('\n');
}

/// Strict standard-alphabet base64 decoder (padding required to a multiple of
/// four). Returns `None` on any malformed input rather than panicking.
pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = input.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        // Padding is only legal at the very end, and at most two characters.
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | val(c)?;
        }
        acc <<= 6 * pad as u32;
        let three = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}
