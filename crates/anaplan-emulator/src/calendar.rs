//! A model's calendar (the live-tested description's "Model Setting Metadata" and its two
//! writes): the current period and the current fiscal year, minimum role workspace
//! administrator.
//!
//! - `GET /2/0/workspaces/{ws}/models/{m}/currentPeriod` (and `/2/0/models/{m}/…`) →
//!   `currentPeriod {periodText, lastDay, calendarType}`, empty texts when none is set.
//! - `PUT` the same: the date in the query (`?date=`) or a JSON body (`{"date"}`), not both
//!   (400 "use query parameter or body to set date, not both"); blank resets; otherwise 400
//!   "Invalid ISO date format '{date}'. Date should match format YYYY-MM-DD" or "Specified
//!   date '{date}' is out of timescale range {start} - {end}" (all documented). No date at
//!   all: 400 "Missing parameter [date]" (the description marks it required; the wording is
//!   the emulator's).
//! - `GET /2/0/workspaces/{ws}/models/{m}/modelCalendar` (and `/2/0/models/{m}/…`) →
//!   `modelCalendar {calendarType, fiscalYear {year, startDate, endDate}, pastYearsCount,
//!   futureYearsCount}`; `{}` for Weeks General (documented: "empty when the calendar type has
//!   no fiscal year").
//! - `PUT /2/0/models/{m}/modelCalendar/fiscalYear {"year"}` → `modelCalendar {fiscalYear}`;
//!   GET there is a 405 (documented). A year out of range, or any year for Weeks General: 400
//!   (documented; the range and the wording are the emulator's: labels `FYnn` of 2010-2040,
//!   "Invalid fiscal year '{year}'"). The timescale moves with the fiscal year.
//!
//! The emulator's choices where the description is silent: a caller other than the
//! integration user (a workspace administrator) is not one, and gets 403 "Forbidden"; a
//! LOCKED model refuses the writes (423), an ARCHIVED one everything (422), as for tasks;
//! a JSON body with another field is a 400 naming it; Weeks General periods are weeks ending
//! Sunday, labelled "W/E 7 Jun 26"; a fiscal year is named by the year it ends in.

use super::tasks::{active_state, state_refusal};
use super::util::{Ids, api_error, api_status, envelope};
use super::{Emulator, Inner, seed::*};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// "Calendar Months/Quarters/Years".
pub const MONTHS: &str = "Calendar Months/Quarters/Years";
/// "Weeks General": no fiscal years.
pub const WEEKS_GENERAL: &str = "Weeks General";
/// The fiscal years a model may be moved to (the emulator's range).
pub const FISCAL_YEARS: std::ops::RangeInclusive<i64> = 2010..=2040;

/// One model's calendar.
#[derive(Clone, Debug)]
pub struct ModelCalendar {
    pub calendar_type: &'static str,
    /// The fiscal year's first month (1-12); `None` for Weeks General.
    pub fiscal_start_month: Option<u32>,
    /// The current fiscal year, by the year it ends in (Weeks General: the timescale's
    /// middle year).
    pub fiscal_year: i64,
    pub past_years: i64,
    pub future_years: i64,
    /// The day the current period was set from (`None`: not set).
    pub current: Option<Day>,
}

/// A day as (year, month, day).
pub type Day = (i64, u32, u32);

/// The seed's calendars: Revenue Plan by months with FY26 from January and a current
/// period of May 2026; Headcount Plan with FY27 from April 2026 and none set; the two
/// Forecast models Weeks General; the locked and archived models like Revenue Plan.
pub fn seed(model: &str) -> Option<ModelCalendar> {
    let months = |start, fy, past, future, current| ModelCalendar {
        calendar_type: MONTHS,
        fiscal_start_month: Some(start),
        fiscal_year: fy,
        past_years: past,
        future_years: future,
        current,
    };
    Some(match model {
        MODEL_REVENUE_ID | MODEL_LOCKED_ID | MODEL_ARCHIVED_ID => months(1, 2026, 1, 2, Some((2026, 5, 20))),
        MODEL_HEADCOUNT_ID => months(4, 2027, 0, 1, None),
        MODEL_FORECAST_1_ID | MODEL_FORECAST_2_ID => ModelCalendar {
            calendar_type: WEEKS_GENERAL,
            fiscal_start_month: None,
            fiscal_year: 2026,
            past_years: 0,
            future_years: 0,
            current: None,
        },
        _ => return None,
    })
}

/// The calendars changed so far (the others are the seed's).
#[derive(Default)]
pub struct CalendarState {
    pub models: HashMap<String, ModelCalendar>,
}

const MONTH_NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil((y, m, d): Day) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil(days: i64) -> Day {
    super::util::civil_from_days(days)
}

fn iso((y, m, d): Day) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD` that is a real day.
fn parse_day(s: &str) -> Option<Day> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (s[0..4].parse().ok()?, s[5..7].parse().ok()?, s[8..10].parse().ok()?);
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

impl ModelCalendar {
    /// The fiscal year's first and last days.
    fn fiscal_range(&self, fy: i64) -> (Day, Day) {
        let start_month = self.fiscal_start_month.unwrap_or(1);
        let start = if start_month == 1 { (fy, 1, 1) } else { (fy - 1, start_month, 1) };
        let end = civil(days_from_civil(if start_month == 1 { (fy + 1, 1, 1) } else { (fy, start_month, 1) }) - 1);
        (start, end)
    }

    /// The timescale's first and last days: the past and future years around the current
    /// fiscal year; Weeks General, whole weeks (Monday to Sunday) over its year.
    pub fn timescale(&self) -> (Day, Day) {
        if self.fiscal_start_month.is_none() {
            let (first, last) =
                (days_from_civil((self.fiscal_year, 1, 1)), days_from_civil((self.fiscal_year, 12, 31)));
            // 1970-01-01 was a Thursday: weekday 0 is Monday.
            let monday = first - (first + 3).rem_euclid(7);
            let sunday = last + (6 - (last + 3).rem_euclid(7));
            return (civil(monday), civil(sunday));
        }
        let (start, _) = self.fiscal_range(self.fiscal_year - self.past_years);
        let (_, end) = self.fiscal_range(self.fiscal_year + self.future_years);
        (start, end)
    }

    /// `currentPeriod`.
    fn current_period(&self) -> Value {
        let (text, last) = match self.current {
            None => (String::new(), String::new()),
            Some(day) if self.fiscal_start_month.is_none() => {
                let n = days_from_civil(day);
                let sunday = civil(n + (6 - (n + 3).rem_euclid(7)));
                (format!("W/E {} {} {:02}", sunday.2, MONTH_NAMES[sunday.1 as usize - 1], sunday.0 % 100), iso(sunday))
            }
            Some((y, m, _)) => {
                let last = (y, m, days_in_month(y, m));
                (format!("{} {:02}", MONTH_NAMES[m as usize - 1], y % 100), iso(last))
            }
        };
        json!({ "periodText": text, "lastDay": last, "calendarType": self.calendar_type })
    }

    /// `fiscalYear`.
    fn fiscal_year_json(&self) -> Value {
        let (start, end) = self.fiscal_range(self.fiscal_year);
        json!({ "year": format!("FY{:02}", self.fiscal_year % 100), "startDate": iso(start), "endDate": iso(end) })
    }

    /// `modelCalendar` as the GET answers it.
    fn model_calendar(&self) -> Value {
        if self.fiscal_start_month.is_none() {
            return json!({});
        }
        json!({
            "calendarType": self.calendar_type,
            "fiscalYear": self.fiscal_year_json(),
            "pastYearsCount": self.past_years,
            "futureYearsCount": self.future_years,
        })
    }
}

/// Every calendar route.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/2/0/workspaces/{ws}/models/{m}/currentPeriod", get(ws_current_period).put(ws_set_current_period))
        .route("/2/0/models/{m}/currentPeriod", get(current_period).put(set_current_period))
        .route("/2/0/workspaces/{ws}/models/{m}/modelCalendar", get(ws_model_calendar))
        .route("/2/0/models/{m}/modelCalendar", get(model_calendar))
        .route("/2/0/models/{m}/modelCalendar/fiscalYear", put(set_fiscal_year))
}

/// The model's calendar, after the checks every route makes: the model exists (in `ws`
/// when given), the caller is a workspace administrator, the model's state allows it.
fn checked(
    inner: &Inner,
    ws: Option<&str>,
    m: &str,
    writes: bool,
    headers: &HeaderMap,
    path: &str,
) -> Result<ModelCalendar, Response> {
    let model = inner.catalog.model(m).filter(|model| ws.is_none_or(|ws| model.workspace_id == ws));
    let (Some(model), Some(seeded)) = (model, seed(m)) else {
        return Err(api_status(StatusCode::NOT_FOUND, path));
    };
    if super::auth::token_user(inner, headers) != Some(0) {
        return Err(api_status(StatusCode::FORBIDDEN, path));
    }
    let st = inner.state();
    if let Some(refused) = state_refusal(&active_state(&st, model), writes, path) {
        return Err(refused);
    }
    Ok(st.calendar.models.get(m).cloned().unwrap_or(seeded))
}

fn answer(schema: &str, key: &str, value: Value) -> Response {
    let mut body = envelope(schema);
    body.insert(key.into(), value);
    Json(Value::Object(body)).into_response()
}

async fn ws_current_period(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read_current_period(&inner, Some(&ws), &m, &headers, uri.path())
}

async fn current_period(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read_current_period(&inner, None, &m, &headers, uri.path())
}

fn read_current_period(inner: &Inner, ws: Option<&str>, m: &str, headers: &HeaderMap, path: &str) -> Response {
    match checked(inner, ws, m, false, headers, path) {
        Ok(cal) => answer("objects/currentPeriod", "currentPeriod", cal.current_period()),
        Err(resp) => resp,
    }
}

async fn ws_set_current_period(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_current_period(&inner, Some(&ws), &m, &uri, &headers, &body)
}

async fn set_current_period(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_current_period(&inner, None, &m, &uri, &headers, &body)
}

/// A JSON object body with only the fields `allowed`, or Anaplan's 400.
fn object_body(
    headers: &HeaderMap,
    body: &[u8],
    allowed: &[&str],
    path: &str,
) -> Result<serde_json::Map<String, Value>, Response> {
    if !super::model_data::is_json(headers) {
        return Err(api_error(StatusCode::BAD_REQUEST, "Content-Type must be application/json", path));
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(api_error(StatusCode::BAD_REQUEST, "Malformed JSON request body", path));
    };
    if let Some(other) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let message =
            format!("Identified an unrecognized '{other}'. Amend the content so it only contains applicable fields.");
        return Err(api_error(StatusCode::BAD_REQUEST, &message, path));
    }
    Ok(map)
}

fn write_current_period(
    inner: &Inner,
    ws: Option<&str>,
    m: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let path = uri.path();
    let mut cal = match checked(inner, ws, m, true, headers, path) {
        Ok(cal) => cal,
        Err(resp) => return resp,
    };
    let pairs = super::util::query_pairs(uri.query());
    let in_query = super::util::query_get(&pairs, "date").map(str::to_owned);
    let in_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match object_body(headers, body, &["date"], path) {
            Ok(map) => map.get("date").cloned(),
            Err(resp) => return resp,
        }
    };
    let date = match (in_query, in_body) {
        (Some(_), Some(_)) => {
            return api_error(StatusCode::BAD_REQUEST, "use query parameter or body to set date, not both", path);
        }
        (None, None) => return api_error(StatusCode::BAD_REQUEST, "Missing parameter [date]", path),
        (Some(q), None) => q,
        (None, Some(Value::String(s))) => s,
        (None, Some(other)) => other.to_string(),
    };
    if date.is_empty() {
        cal.current = None;
    } else {
        let Some(day) = parse_day(&date) else {
            let message = format!("Invalid ISO date format '{date}'. Date should match format YYYY-MM-DD");
            return api_error(StatusCode::BAD_REQUEST, &message, path);
        };
        let (start, end) = cal.timescale();
        if day < start || day > end {
            let message = format!("Specified date '{date}' is out of timescale range {} - {}", iso(start), iso(end));
            return api_error(StatusCode::BAD_REQUEST, &message, path);
        }
        cal.current = Some(day);
    }
    let period = cal.current_period();
    inner.state().calendar.models.insert(m.to_owned(), cal);
    answer("objects/currentPeriod", "currentPeriod", period)
}

async fn ws_model_calendar(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read_model_calendar(&inner, Some(&ws), &m, &headers, uri.path())
}

async fn model_calendar(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read_model_calendar(&inner, None, &m, &headers, uri.path())
}

fn read_model_calendar(inner: &Inner, ws: Option<&str>, m: &str, headers: &HeaderMap, path: &str) -> Response {
    match checked(inner, ws, m, false, headers, path) {
        Ok(cal) => answer("objects/modelCalendar", "modelCalendar", cal.model_calendar()),
        Err(resp) => resp,
    }
}

/// `FYnn` within [`FISCAL_YEARS`], as the year it ends in.
fn parse_year(label: &str) -> Option<i64> {
    let digits = label.strip_prefix("FY").filter(|d| d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit()))?;
    let year = 2000 + digits.parse::<i64>().ok()?;
    FISCAL_YEARS.contains(&year).then_some(year)
}

async fn set_fiscal_year(
    State(inner): State<Arc<Inner>>,
    Ids(m): Ids<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let mut cal = match checked(&inner, None, &m, true, &headers, path) {
        Ok(cal) => cal,
        Err(resp) => return resp,
    };
    let map = match object_body(&headers, &body, &["year"], path) {
        Ok(map) => map,
        Err(resp) => return resp,
    };
    let label = match map.get("year") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => return api_error(StatusCode::BAD_REQUEST, "Missing parameter [year]", path),
    };
    let year = parse_year(&label).filter(|_| cal.fiscal_start_month.is_some());
    let Some(year) = year else {
        return api_error(StatusCode::BAD_REQUEST, &format!("Invalid fiscal year '{label}'"), path);
    };
    cal.fiscal_year = year;
    let fiscal_year = cal.fiscal_year_json();
    inner.state().calendar.models.insert(m, cal);
    answer("objects/modelCalendar", "modelCalendar", json!({ "fiscalYear": fiscal_year }))
}

impl Emulator {
    /// A model's current period as `(periodText, lastDay)` and its fiscal year label
    /// (`None` for Weeks General), as the emulator holds them now; `None` for a model
    /// without a calendar.
    pub fn calendar_of(&self, model_id: &str) -> Option<((String, String), Option<String>)> {
        let cal = self.inner.state().calendar.models.get(model_id).cloned().or_else(|| seed(model_id))?;
        let period = cal.current_period();
        let text = |k: &str| period[k].as_str().unwrap_or_default().to_owned();
        let year =
            cal.fiscal_start_month.map(|_| cal.fiscal_year_json()["year"].as_str().unwrap_or_default().to_owned());
        Some(((text("periodText"), text("lastDay")), year))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timescales_and_fiscal_years_follow_the_calendar() {
        let revenue = seed(MODEL_REVENUE_ID).unwrap();
        assert_eq!(revenue.timescale(), ((2025, 1, 1), (2028, 12, 31)));
        assert_eq!(
            revenue.fiscal_year_json(),
            json!({"year": "FY26", "startDate": "2026-01-01", "endDate": "2026-12-31"})
        );
        assert_eq!(revenue.current_period()["periodText"], "May 26");
        assert_eq!(revenue.current_period()["lastDay"], "2026-05-31");
        let headcount = seed(MODEL_HEADCOUNT_ID).unwrap();
        assert_eq!(headcount.fiscal_year_json()["startDate"], "2026-04-01");
        assert_eq!(headcount.fiscal_year_json()["endDate"], "2027-03-31");
        assert_eq!(headcount.timescale(), ((2026, 4, 1), (2028, 3, 31)));
        let mut weeks = seed(MODEL_FORECAST_1_ID).unwrap();
        // 2026-01-01 is a Thursday, 2026-12-31 too.
        assert_eq!(weeks.timescale(), ((2025, 12, 29), (2027, 1, 3)));
        weeks.current = Some((2026, 6, 3));
        assert_eq!(weeks.current_period()["periodText"], "W/E 7 Jun 26");
        assert_eq!(weeks.model_calendar(), json!({}));
    }

    #[test]
    fn days_are_strict() {
        assert_eq!(parse_day("2024-02-29"), Some((2024, 2, 29)));
        for bad in ["2026-02-29", "2026-13-01", "2026-5-1", "26-05-01", "2026-05-01 ", ""] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        assert_eq!(parse_year("FY27"), Some(2027));
        assert_eq!(parse_year("FY41"), None);
        assert_eq!(parse_year("FY2027"), None);
        assert_eq!(parse_year("fy27"), None);
    }
}
