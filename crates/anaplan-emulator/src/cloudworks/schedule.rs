//! CloudWorks schedules (the description's `Schedules` group): at most one per integration,
//! shown as `schedule` in the integration's summary and detail.
//!
//! - `POST /integrations/{id}/schedule` (`createSchedule`) creates it: body `{"schedule":
//!   {...}}`, `integrationId` optional beside it (equal to the path's when given); an
//!   integration that already has one is a 400 (the description: "a maximum of one schedule
//!   per integration"; the status for it is not documented, 400 is the one it lists).
//! - `PUT /integrations/{id}/schedule` (`updateSchedule`) replaces it: `integrationId` is
//!   required in the body as well (the README: live CloudWorks answers 400 "Invalid value for
//!   integration_id" without it); an integration without a schedule is a 404.
//! - `DELETE /integrations/{id}/schedule`: 404 when it has none.
//! - `POST /integrations/{id}/schedule/status/{enabled|disabled}`: `status` becomes `Active`
//!   or `Inactive`; another status word, or no schedule, is a 404.
//!
//! The schedule is checked as the description's `Schedule` says: `name`, `type`,
//! `startDate`, `endDate`, `timezone` required; `time` (HH:MM) for weekly, daily and both
//! monthly types; `fromTime` and `toTime` (HH:MM, from before to) and `repeatEvery` (hours,
//! 1 to 24) for hourly; `daysOfWeek` (0 = Sunday to 6, at least one, no repeats) for weekly,
//! hourly and monthly_relative_weekday; `dayOfMonth` (1 to 31) for monthly_specific_day;
//! `dayOfWeek` (0 to 6) and `repeatEvery` (the nth weekday, 1 to 5) for
//! monthly_relative_weekday; dates YYYY-MM-DD, the end not before the start; `status`
//! `Active` or `Inactive` when given (a new schedule is `Active`). Any other key is refused.
//! The emulator carries no time zone database: a timezone is accepted when it is `UTC`,
//! `GMT` or has IANA's `Area/Location` form in one of IANA's areas. A refused schedule is a
//! 400 naming the field and changes nothing.

use super::super::Inner;
use super::super::util::{Ids, api_error, api_status};
use super::{integration, ok};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The keys the description's `Schedule` has.
const KEYS: &[&str] = &[
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

/// IANA's areas (the first part of a zone name).
const AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

/// The seed's schedule, of [`super::INTEGRATION_PROCESS_ID`].
pub(super) fn seed_schedule() -> Value {
    json!({
        "name": super::SCHEDULE_NIGHTLY_NAME,
        "type": "weekly",
        "time": "02:00",
        "daysOfWeek": [1, 2, 3, 4, 5],
        "startDate": "2025-01-06",
        "endDate": "2030-12-31",
        "timezone": "Europe/London",
        "status": "Active",
    })
}

fn hh_mm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn date(s: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    (s.len() == 10).then(|| time::Date::parse(s, &fmt).ok()).flatten()
}

fn timezone_ok(tz: &str) -> bool {
    if tz == "UTC" || tz == "GMT" {
        return true;
    }
    let mut parts = tz.split('/');
    let area = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    AREAS.contains(&area)
        && (1..=2).contains(&rest.len())
        && rest.iter().all(|p| {
            p.starts_with(|c: char| c.is_ascii_alphabetic())
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
        })
}

/// The schedule as it will be kept, or why it is refused.
pub(super) fn check(v: &Value) -> Result<Map<String, Value>, String> {
    let Some(s) = v.as_object() else { return Err("schedule must be an object".into()) };
    if let Some(k) = s.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("Invalid field in schedule: {k}"));
    }
    let text = |k: &str| -> Result<&str, String> {
        match s.get(k) {
            Some(Value::String(t)) if !t.trim().is_empty() => Ok(t),
            Some(_) => Err(format!("Invalid value for {k}")),
            None => Err(format!("{k} is required")),
        }
    };
    let int = |k: &str, lo: i64, hi: i64| -> Result<i64, String> {
        match s.get(k).map(Value::as_i64) {
            Some(Some(n)) if (lo..=hi).contains(&n) => Ok(n),
            Some(_) => Err(format!("Invalid value for {k}: an integer from {lo} to {hi}")),
            None => Err(format!("{k} is required")),
        }
    };
    let time_of = |k: &str| -> Result<u32, String> {
        hh_mm(text(k)?).ok_or_else(|| format!("Invalid value for {k}: HH:MM from 00:00 to 23:59"))
    };
    let days = || -> Result<(), String> {
        let Some(Value::Array(d)) = s.get("daysOfWeek") else {
            return Err(if s.contains_key("daysOfWeek") {
                "Invalid value for daysOfWeek".into()
            } else {
                "daysOfWeek is required".into()
            });
        };
        let mut seen = [false; 7];
        for day in d {
            match day.as_u64() {
                Some(n @ 0..=6) if !seen[n as usize] => seen[n as usize] = true,
                _ => return Err("Invalid value for daysOfWeek: distinct integers from 0 (Sunday) to 6".into()),
            }
        }
        if d.is_empty() { Err("Invalid value for daysOfWeek: at least one day".into()) } else { Ok(()) }
    };
    text("name")?;
    let kind = text("type")?;
    // The keys each type takes beyond the common ones.
    let takes: &[&str] = match kind {
        "daily" => &["time"],
        "weekly" => &["time", "daysOfWeek"],
        "hourly" => &["fromTime", "toTime", "daysOfWeek", "repeatEvery"],
        "monthly_specific_day" => &["time", "dayOfMonth"],
        "monthly_relative_weekday" => &["time", "daysOfWeek", "dayOfWeek", "repeatEvery"],
        _ => {
            return Err(
                "Invalid value for type: weekly, daily, hourly, monthly_specific_day or monthly_relative_weekday"
                    .into(),
            );
        }
    };
    for k in ["time", "fromTime", "toTime", "daysOfWeek", "dayOfMonth", "dayOfWeek", "repeatEvery"] {
        if s.contains_key(k) && !takes.contains(&k) {
            return Err(format!("{k} is not a field of a {kind} schedule"));
        }
    }
    if takes.contains(&"time") {
        time_of("time")?;
    }
    if takes.contains(&"daysOfWeek") {
        days()?;
    }
    match kind {
        "hourly" => {
            if time_of("fromTime")? >= time_of("toTime")? {
                return Err("Invalid value for toTime: it must be after fromTime".into());
            }
            int("repeatEvery", 1, 24)?;
        }
        "monthly_specific_day" => {
            int("dayOfMonth", 1, 31)?;
        }
        "monthly_relative_weekday" => {
            int("dayOfWeek", 0, 6)?;
            int("repeatEvery", 1, 5)?;
        }
        _ => {}
    }
    let start = date(text("startDate")?).ok_or("Invalid value for startDate: YYYY-MM-DD")?;
    let end = date(text("endDate")?).ok_or("Invalid value for endDate: YYYY-MM-DD")?;
    if end < start {
        return Err("Invalid value for endDate: it must not be before startDate".into());
    }
    if !timezone_ok(text("timezone")?) {
        return Err("Invalid value for timezone: an IANA time zone name, e.g. Europe/Paris".into());
    }
    let mut kept = s.clone();
    match s.get("status") {
        None => {
            kept.insert("status".into(), json!("Active"));
        }
        Some(Value::String(st)) if st == "Active" || st == "Inactive" => {}
        Some(_) => return Err("Invalid value for status: Active or Inactive".into()),
    }
    Ok(kept)
}

/// A create or update body: `{"schedule": {...}, "integrationId"?}`, the schedule checked.
fn body_schedule(
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    path: &str,
    id_required: bool,
) -> Result<Map<String, Value>, Response> {
    super::check_run_body(headers, body, path)?;
    let bad = |m: &str| api_error(StatusCode::BAD_REQUEST, m, path);
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("Malformed JSON request body"))?;
    if let Some(k) = v.as_object().and_then(|o| o.keys().find(|k| *k != "schedule" && *k != "integrationId")) {
        return Err(bad(&format!("Invalid field in request body: {k}")));
    }
    match v.get("integrationId") {
        Some(Value::String(s)) if s == id => {}
        None if !id_required => {}
        _ => return Err(bad("Invalid value for integration_id")),
    }
    let Some(schedule) = v.get("schedule") else { return Err(bad("schedule is required")) };
    check(schedule).map_err(|m| bad(&m))
}

/// `POST /integrations/{id}/schedule`.
pub(super) async fn create(
    State(inner): State<Arc<Inner>>,
    Ids(id): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let Some(i) = integration(&id) else { return api_status(StatusCode::NOT_FOUND, path) };
    let schedule = match body_schedule(i.id, &headers, &body, path, false) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let mut st = inner.state();
    if st.cloudworks.schedules.contains_key(i.id) {
        return api_error(StatusCode::BAD_REQUEST, "Integration already has a schedule", path);
    }
    st.cloudworks.schedules.insert(i.id, Value::Object(schedule));
    ok(Map::new())
}

/// `PUT /integrations/{id}/schedule`: the schedule is replaced; its status is kept unless
/// the body gives one.
pub(super) async fn update(
    State(inner): State<Arc<Inner>>,
    Ids(id): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let Some(i) = integration(&id) else { return api_status(StatusCode::NOT_FOUND, path) };
    if !inner.state().cloudworks.schedules.contains_key(i.id) {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let given_status =
        serde_json::from_slice::<Value>(&body).ok().is_some_and(|v| v["schedule"].get("status").is_some());
    let mut schedule = match body_schedule(i.id, &headers, &body, path, true) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let mut st = inner.state();
    let Some(old) = st.cloudworks.schedules.get_mut(i.id) else { return api_status(StatusCode::NOT_FOUND, path) };
    if !given_status && let Some(status) = old.get("status") {
        schedule.insert("status".into(), status.clone());
    }
    *old = Value::Object(schedule);
    ok(Map::new())
}

/// `DELETE /integrations/{id}/schedule`.
pub(super) async fn delete(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let Some(i) = integration(&id) else { return api_status(StatusCode::NOT_FOUND, uri.path()) };
    match inner.state().cloudworks.schedules.remove(i.id) {
        Some(_) => ok(Map::new()),
        None => api_status(StatusCode::NOT_FOUND, uri.path()),
    }
}

/// `POST /integrations/{id}/schedule/status/{enabled|disabled}`.
pub(super) async fn set_status(
    State(inner): State<Arc<Inner>>,
    Ids((id, status)): Ids<(String, String)>,
    uri: Uri,
) -> Response {
    let path = uri.path();
    let word = match status.as_str() {
        "enabled" => "Active",
        "disabled" => "Inactive",
        _ => return api_status(StatusCode::NOT_FOUND, path),
    };
    let Some(i) = integration(&id) else { return api_status(StatusCode::NOT_FOUND, path) };
    match inner.state().cloudworks.schedules.get_mut(i.id) {
        Some(s) => {
            s["status"] = json!(word);
            ok(Map::new())
        }
        None => api_status(StatusCode::NOT_FOUND, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(patch: Value) -> String {
        let mut s = seed_schedule();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                s.as_object_mut().unwrap().remove(k);
            } else {
                s[k] = v.clone();
            }
        }
        check(&s).expect_err(&s.to_string())
    }

    #[test]
    fn the_seed_schedule_passes_and_a_new_one_is_active() {
        let mut s = seed_schedule();
        s.as_object_mut().unwrap().remove("status");
        assert_eq!(check(&s).unwrap()["status"], "Active");
    }

    #[test]
    fn schedules_are_checked_as_documented() {
        assert!(refused(json!({"type": "yearly"})).contains("type"));
        assert!(refused(json!({"time": "25:00"})).contains("time"));
        assert!(refused(json!({"time": "2:00"})).contains("time"));
        assert!(refused(json!({"time": null})).contains("time is required"));
        assert!(refused(json!({"daysOfWeek": [7]})).contains("daysOfWeek"));
        assert!(refused(json!({"daysOfWeek": []})).contains("daysOfWeek"));
        assert!(refused(json!({"daysOfWeek": [1, 1]})).contains("daysOfWeek"));
        assert!(refused(json!({"startDate": "2025-02-30"})).contains("startDate"));
        assert!(refused(json!({"endDate": "2024-01-01"})).contains("endDate"));
        assert!(refused(json!({"timezone": "Mars/Olympus"})).contains("timezone"));
        assert!(refused(json!({"timezone": null})).contains("timezone is required"));
        assert!(refused(json!({"dayOfMonth": 3})).contains("not a field"));
        assert!(refused(json!({"every": 3})).contains("every"));
        assert!(refused(json!({"status": "On"})).contains("status"));
        let hourly = json!({"name": "h", "type": "hourly", "fromTime": "20:00", "toTime": "08:00",
            "daysOfWeek": [0], "repeatEvery": 2, "startDate": "2026-01-01", "endDate": "2026-02-01", "timezone": "UTC"});
        assert!(check(&hourly).unwrap_err().contains("toTime"));
        let mut fine = hourly.clone();
        fine["toTime"] = json!("23:20");
        assert!(check(&fine).is_ok());
        let monthly = json!({"name": "m", "type": "monthly_relative_weekday", "time": "06:00", "daysOfWeek": [1],
            "dayOfWeek": 1, "repeatEvery": 6, "startDate": "2026-01-01", "endDate": "2026-02-01",
            "timezone": "America/Argentina/Buenos_Aires"});
        assert!(check(&monthly).unwrap_err().contains("repeatEvery"));
    }
}
