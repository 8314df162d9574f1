//! A model's calendar: its current period and its current fiscal year, read and set as the
//! live-tested description documents them (minimum role: workspace administrator).
//!
//! - `GET /workspaces/{ws}/models/{m}/currentPeriod` → `currentPeriod` (`periodText`,
//!   `lastDay`, `calendarType`; empty strings when no current period is set).
//! - `PUT` the same path: a date sets the period that contains it (sent as the body
//!   `{"date": "YYYY-MM-DD"}`); no date resets it (sent as `?date=`, the form the description
//!   gives for a reset; it takes the date in the query or the body, never both).
//! - `GET /workspaces/{ws}/models/{m}/modelCalendar` → `modelCalendar`: the current fiscal
//!   year and whatever else Anaplan reports (calendar type, timescale...), an empty object
//!   for a calendar type without fiscal years (Weeks General).
//! - `PUT /models/{m}/modelCalendar/fiscalYear` with `{"year": "FY21"}` → `modelCalendar`
//!   with the new fiscal year (the only form of this path: its GET is a 405).
//!
//! A date or year Anaplan refuses is its 400 ([`AnaplanError::Api`]); the wording of the
//! date messages is documented, the fiscal year's is not, and neither is read here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{ModelId, WorkspaceId};

/// The longest fiscal year label sent to Anaplan: labels are a few characters ("FY21",
/// "FY2021"); this only bounds what a request can carry.
pub const MAX_YEAR_CHARS: usize = 32;

/// A date as Anaplan takes it: `YYYY-MM-DD`, a day that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDate(String);

/// Why a date or a year label is not one Anaplan could take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl CalendarDate {
    /// Parses `YYYY-MM-DD` (four, two and two digits; a month of 1-12, a day the month has).
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let bad = || {
            InvalidValue(format!(
                "date {} is not a day in the form YYYY-MM-DD, e.g. 2026-05-20",
                crate::untrusted::quote(s)
            ))
        };
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return Err(bad());
        }
        let (year, month, day): (u32, u32, u32) = (
            s[0..4].parse().map_err(|_| bad())?,
            s[5..7].parse().map_err(|_| bad())?,
            s[8..10].parse().map_err(|_| bad())?,
        );
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(CalendarDate(s.to_owned()))
    }

    /// `YYYY-MM-DD`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Days in `month` (1-12) of `year` (Gregorian).
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A fiscal year label as the model's calendar names years ("FY27", or the model's own
/// form): sent as given. Which labels a model takes is Anaplan's to say (its 400), so only
/// what no label can be is refused here: empty, control characters, over
/// [`MAX_YEAR_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearLabel(String);

impl YearLabel {
    /// Checks `s` (trimmed).
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InvalidValue("year is empty; give a fiscal year such as FY27".into()));
        }
        let chars = s.chars().count();
        if chars > MAX_YEAR_CHARS || s.chars().any(char::is_control) {
            return Err(InvalidValue(format!(
                "year {} is not a fiscal year label (at most {MAX_YEAR_CHARS} characters, no control characters), \
                 e.g. FY27",
                crate::untrusted::quote(s)
            )));
        }
        Ok(YearLabel(s.to_owned()))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `currentPeriod`, as Anaplan reports it: fields it adds are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentPeriod {
    /// The period's label ("May 20"); empty when no current period is set.
    #[serde(default)]
    pub period_text: String,
    /// The period's last day (`YYYY-MM-DD`); empty when no current period is set.
    #[serde(default)]
    pub last_day: String,
    /// The model's calendar type ("Calendar Months/Quarters/Years").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_type: Option<String>,
    /// Anything else Anaplan reports.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `modelCalendar`, as Anaplan reports it: its fiscal year, and every other field it
/// reports (calendar type, timescale, totals...) kept as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCalendar {
    /// The current fiscal year; absent for a calendar type without fiscal years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_year: Option<FiscalYear>,
    /// Anything else Anaplan reports.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ModelCalendar {
    /// The fiscal year, when it names one (an empty `fiscalYear` object names none).
    pub fn current_fiscal_year(&self) -> Option<&FiscalYear> {
        self.fiscal_year.as_ref().filter(|f| f.year.as_deref().is_some_and(|y| !y.is_empty()))
    }
}

/// `fiscalYear`: its label and first and last days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiscalYear {
    /// "FY21".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Anything else Anaplan reports.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CurrentPeriodBody {
    current_period: Option<CurrentPeriod>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelCalendarBody {
    // Tolerated when absent: the description does not mark it required.
    #[serde(default)]
    model_calendar: ModelCalendar,
}

fn model_path(ws: &WorkspaceId, model: &ModelId, what: &str) -> [String; 5] {
    ["workspaces".into(), ws.as_str().into(), "models".into(), model.as_str().into(), what.into()]
}

impl Client {
    /// The model's current period.
    pub async fn current_period(&self, ws: &WorkspaceId, model: &ModelId) -> Result<CurrentPeriod, AnaplanError> {
        let body: CurrentPeriodBody = self.json(ApiRequest::get(model_path(ws, model, "currentPeriod"))).await?;
        body.current_period.ok_or_else(|| AnaplanError::Protocol("the answer has no currentPeriod".into()))
    }

    /// Sets the current period to the one that contains `date`, or resets it (`None`).
    /// Answers the current period afterwards.
    pub async fn set_current_period(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        date: Option<&CalendarDate>,
    ) -> Result<CurrentPeriod, AnaplanError> {
        let req = ApiRequest::get(model_path(ws, model, "currentPeriod")).method(reqwest::Method::PUT);
        let req = match date {
            Some(d) => req.json(json!({ "date": d.as_str() })),
            None => req.query("date", ""),
        };
        let body: CurrentPeriodBody = self.json(req).await?;
        body.current_period.ok_or_else(|| AnaplanError::Protocol("the answer has no currentPeriod".into()))
    }

    /// The model's calendar.
    pub async fn model_calendar(&self, ws: &WorkspaceId, model: &ModelId) -> Result<ModelCalendar, AnaplanError> {
        let body: ModelCalendarBody = self.json(ApiRequest::get(model_path(ws, model, "modelCalendar"))).await?;
        Ok(body.model_calendar)
    }

    /// Sets the current fiscal year. Answers the calendar as the PUT reports it (its
    /// fiscal year at least).
    pub async fn set_fiscal_year(&self, model: &ModelId, year: &YearLabel) -> Result<ModelCalendar, AnaplanError> {
        let req = ApiRequest::get(["models", model.as_str(), "modelCalendar", "fiscalYear"])
            .method(reqwest::Method::PUT)
            .json(json!({ "year": year.as_str() }));
        let body: ModelCalendarBody = self.json(req).await?;
        Ok(body.model_calendar)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::to_bytes;
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    use super::*;
    use crate::client::client_of_stand_in;

    const WS: &str = "8a81b09d599f3c6e0159f605560c2630";
    const MODEL: &str = "75A40874E6B64FA3AE0743278996850F";

    #[test]
    fn dates_are_real_days_in_iso_form() {
        for ok in ["2026-05-20", "2024-02-29", "2000-02-29", "1999-12-31"] {
            assert_eq!(CalendarDate::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "2026-5-20",
            "20-05-2026",
            "2026/05/20",
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-00-10",
            "2026-01-00",
            " 2026-01-01",
            "2026-01-01T00:00",
            "",
            "２０２６-01-01",
        ] {
            let e = CalendarDate::parse(bad).unwrap_err();
            assert!(e.0.contains("YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn year_labels_are_passed_on_as_given_but_bounded() {
        assert_eq!(YearLabel::parse(" FY27 ").unwrap().as_str(), "FY27");
        assert_eq!(YearLabel::parse("FY2027").unwrap().as_str(), "FY2027");
        assert!(YearLabel::parse("  ").is_err());
        assert!(YearLabel::parse("FY\n27").is_err());
        assert!(YearLabel::parse(&"Y".repeat(MAX_YEAR_CHARS + 1)).is_err());
    }

    /// Every request the stand-in saw: `METHOD path?query body`.
    type Seen = Arc<Mutex<Vec<String>>>;

    async fn answer(State(seen): State<Seen>, req: Request) -> Response {
        let (method, uri) = (req.method().to_string(), req.uri().to_string());
        let body = String::from_utf8(to_bytes(req.into_body(), 1 << 16).await.unwrap().to_vec()).unwrap();
        seen.lock().unwrap().push(format!("{method} {uri} {body}").trim_end().to_owned());
        let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
        let period = json!({"currentPeriod": {"periodText": "May 20", "lastDay": "2020-05-31",
            "calendarType": "Calendar Months/Quarters/Years", "extra": 1}});
        match (method.as_str(), uri.as_str()) {
            (_, u) if u.ends_with("/currentPeriod") || u.ends_with("/currentPeriod?date=") => ok(period),
            ("GET", u) if u.ends_with("/modelCalendar") => ok(json!({"modelCalendar": {}})),
            ("PUT", u) if u.ends_with("/modelCalendar/fiscalYear") => ok(json!({"modelCalendar": {"fiscalYear": {
                "year": "FY21", "startDate": "2021-01-01", "endDate": "2021-12-31"}}})),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    #[tokio::test]
    async fn the_requests_are_the_documented_ones_and_the_answers_are_kept_whole() {
        let seen: Seen = Arc::default();
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(seen.clone())).await;
        let (ws, model) = (WorkspaceId::parse(WS).unwrap(), ModelId::parse(MODEL).unwrap());
        let p = client.current_period(&ws, &model).await.unwrap();
        assert_eq!((p.period_text.as_str(), p.last_day.as_str()), ("May 20", "2020-05-31"));
        assert_eq!(p.other["extra"], 1, "fields Anaplan adds are kept");
        let date = CalendarDate::parse("2020-05-20").unwrap();
        client.set_current_period(&ws, &model, Some(&date)).await.unwrap();
        client.set_current_period(&ws, &model, None).await.unwrap();
        let cal = client.model_calendar(&ws, &model).await.unwrap();
        assert_eq!(cal.current_fiscal_year(), None, "an empty modelCalendar: no fiscal year");
        let set = client.set_fiscal_year(&model, &YearLabel::parse("FY21").unwrap()).await.unwrap();
        assert_eq!(set.current_fiscal_year().and_then(|f| f.year.as_deref()), Some("FY21"));
        let base = format!("/2/0/workspaces/{WS}/models/{MODEL}");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                format!("GET {base}/currentPeriod"),
                format!(r#"PUT {base}/currentPeriod {{"date":"2020-05-20"}}"#),
                format!("PUT {base}/currentPeriod?date="),
                format!("GET {base}/modelCalendar"),
                format!(r#"PUT /2/0/models/{MODEL}/modelCalendar/fiscalYear {{"year":"FY21"}}"#),
            ]
        );
    }

    #[test]
    fn an_empty_fiscal_year_object_names_no_year() {
        let cal: ModelCalendar =
            serde_json::from_value(json!({"fiscalYear": {}, "calendarType": "Weeks General"})).unwrap();
        assert_eq!(cal.current_fiscal_year(), None);
        assert_eq!(cal.other["calendarType"], "Weeks General");
    }
}
