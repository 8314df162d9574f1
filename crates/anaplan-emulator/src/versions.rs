//! Versions (integration description: "Retrieve version metadata", "Set version switchover
//! date"), with each model's versions in [`VersionsState`].
//!
//! - `GET /2/0/models/{m}/versions` and `GET /2/0/workspaces/{ws}/models/{m}/versions` (the
//!   README's "path duality": the same answer) → `versionMetadata[{id, name, isCurrent,
//!   isActual, switchover?, editFrom, editTo, notes?}]`, paged. A field that is not set is
//!   absent, as the description says.
//! - `PUT /2/0/models/{m}/versions/{v}/switchover` `{"date": "YYYY-MM-DD"}` →
//!   `versionSwitchover{periodText, date, calendarType}`: the date's month, from its first
//!   day (as the description's examples show it). `{"date": ""}` resets the switchover to
//!   blank (documented); the answer then has no `versionSwitchover` (undocumented: the
//!   emulator's choice, which the client tolerates either way).
//!
//! Refusals: a caller who is not a workspace administrator (every seeded user but the
//! integration user) → 403 before any id is looked at (the README's observation of another
//! operation whose minimum role is Workspace Administrator); unknown model, workspace or
//! version → 404; a LOCKED model refuses the PUT (423), an ARCHIVED one both (422), as task
//! starts and reads do. 400s, all documented by the description: no JSON Content-Type,
//! malformed JSON, a field other than `date` or no `date`, a date that is not `YYYY-MM-DD`
//! (Anaplan's wording for the current period's date), the Actual version (a switchover
//! applies to forecast and variance versions only), a date earlier than the version's
//! current switchover or outside the current model year. The wording of the last three is
//! the emulator's own: the description documents none.
//!
//! Seed: every model has the two items of the seed's Versions dimension, Actual
//! ([`VERSION_ACTUAL_ID`]) and Forecast ([`VERSION_FORECAST_ID`], the current version,
//! switchover Mar 26); the model year is 2026 ([`MODEL_YEAR`]), as the seed's months are.

use super::api::{find_model, paged};
use super::model_data::is_json;
use super::seed::*;
use super::tasks::{active_state, state_refusal};
use super::util::{Ids, api_error, api_status, envelope};
use super::{EmulatorState, Inner};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The current model year of every seeded model: the first and last day.
pub const MODEL_YEAR: (&str, &str) = ("2026-01-01", "2026-12-31");
/// The calendar type the switchover answer names.
pub const CALENDAR_TYPE: &str = "Calendar Months/Quarters/Years";

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A period as versions show it: `{periodText, date}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub text: String,
    pub date: String,
}

impl Period {
    fn json(&self) -> Value {
        json!({ "periodText": self.text, "date": self.date })
    }

    /// The month of `date` (`YYYY-MM-DD`, already checked), from its first day.
    fn month_of(date: &str) -> Period {
        let (y, m) = (&date[..4], &date[5..7]);
        let month = MONTHS[m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
        Period { text: format!("{month} {}", &y[2..]), date: format!("{y}-{m}-01") }
    }
}

/// One version of a model.
#[derive(Clone, Debug)]
pub struct Version {
    pub id: &'static str,
    pub name: &'static str,
    pub is_actual: bool,
    pub is_current: bool,
    pub switchover: Option<Period>,
    pub edit_from: Period,
    pub edit_to: Period,
    pub notes: Option<&'static str>,
}

impl Version {
    fn json(&self) -> Value {
        let mut v = Map::new();
        v.insert("id".into(), json!(self.id));
        v.insert("name".into(), json!(self.name));
        v.insert("isCurrent".into(), json!(self.is_current));
        v.insert("isActual".into(), json!(self.is_actual));
        if let Some(s) = &self.switchover {
            v.insert("switchover".into(), s.json());
        }
        v.insert("editFrom".into(), self.edit_from.json());
        v.insert("editTo".into(), self.edit_to.json());
        if let Some(n) = self.notes {
            v.insert("notes".into(), json!(n));
        }
        Value::Object(v)
    }
}

fn period(text: &str, date: &str) -> Period {
    Period { text: text.to_owned(), date: date.to_owned() }
}

/// A model's versions as seeded.
pub fn seeded() -> Vec<Version> {
    vec![
        Version {
            id: VERSION_ACTUAL_ID,
            name: VERSION_ACTUAL_NAME,
            is_actual: true,
            is_current: false,
            switchover: None,
            edit_from: period("Start of Timescale", "1900-01-01"),
            edit_to: period("End of Timescale", "2399-12-31"),
            notes: Some("Loaded from the ledger every month-end"),
        },
        Version {
            id: VERSION_FORECAST_ID,
            name: VERSION_FORECAST_NAME,
            is_actual: false,
            is_current: true,
            switchover: Some(period("Mar 26", "2026-03-01")),
            edit_from: period("Jan 26", MODEL_YEAR.0),
            edit_to: period("Dec 26", MODEL_YEAR.1),
            notes: None,
        },
    ]
}

/// Every model's versions, seeded on first use.
#[derive(Default)]
pub struct VersionsState {
    models: HashMap<String, Vec<Version>>,
}

impl VersionsState {
    /// The versions of `model` (an existing model's id).
    pub fn of(&mut self, model: &str) -> &mut Vec<Version> {
        self.models.entry(model.to_owned()).or_insert_with(seeded)
    }
}

pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/2/0/models/{m}/versions", get(list))
        .route("/2/0/workspaces/{ws}/models/{m}/versions", get(list_in_workspace))
        .route("/2/0/models/{m}/versions/{v}/switchover", put(switchover))
}

/// The 403 for a caller without the Workspace Administrator role (every seeded user but
/// the integration user, who administers both workspaces).
fn role_refusal(inner: &Inner, headers: &HeaderMap, path: &str) -> Option<Response> {
    match super::auth::token_user(inner, headers) {
        Some(0) => None,
        _ => Some(api_status(StatusCode::FORBIDDEN, path)),
    }
}

fn versions_page(inner: &Inner, m: &str, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path();
    if let Some(refused) = role_refusal(inner, headers, path) {
        return refused;
    }
    let model = match find_model(inner, m, path) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let mut st = inner.state();
    if let Some(refusal) = state_refusal(&active_state(&st, model), false, path) {
        return refusal;
    }
    let items = st.versions.of(m).iter().map(Version::json).collect();
    drop(st);
    paged(inner, uri, "versionMetadata", "objects/version", items)
}

/// `GET /2/0/models/{m}/versions`.
pub async fn list(State(inner): State<Arc<Inner>>, Ids(m): Ids<String>, uri: Uri, headers: HeaderMap) -> Response {
    versions_page(&inner, &m, &uri, &headers)
}

/// `GET /2/0/workspaces/{ws}/models/{m}/versions`: the model must be in that workspace.
pub async fn list_in_workspace(
    State(inner): State<Arc<Inner>>,
    Ids((ws, m)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if role_refusal(&inner, &headers, uri.path()).is_none()
        && inner.catalog.model(&m).is_none_or(|model| model.workspace_id != ws)
    {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    }
    versions_page(&inner, &m, &uri, &headers)
}

/// True for a real calendar date written `YYYY-MM-DD`.
pub fn iso_date(s: &str) -> bool {
    // `time` checks the calendar (month lengths, leap years); the length check refuses a
    // signed or longer year it would otherwise read.
    let format = time::macros::format_description!("[year]-[month]-[day]");
    s.len() == 10 && s.is_ascii() && time::Date::parse(s, format).is_ok()
}

/// The `date` of a switchover body, or the 400 that refuses the body.
fn body_date(headers: &HeaderMap, body: &[u8], path: &str) -> Result<String, Response> {
    let bad = |message: &str| api_error(StatusCode::BAD_REQUEST, message, path);
    if !is_json(headers) {
        return Err(bad("Content-Type must be application/json"));
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("Malformed JSON request body"));
    };
    if let Some(other) = map.keys().find(|k| *k != "date") {
        return Err(bad(&format!(
            "Identified an unrecognized '{other}'. Amend the content so it only contains applicable fields."
        )));
    }
    match map.get("date") {
        Some(Value::String(date)) => Ok(date.clone()),
        Some(_) => Err(bad("Malformed JSON request body")),
        None => Err(bad("Expected mandatory field 'date' to be present.")),
    }
}

/// `PUT /2/0/models/{m}/versions/{v}/switchover`.
pub async fn switchover(
    State(inner): State<Arc<Inner>>,
    Ids((m, v)): Ids<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Some(refused) = role_refusal(&inner, &headers, path) {
        return refused;
    }
    let model = match find_model(&inner, &m, path) {
        Ok(model) => model,
        Err(resp) => return resp,
    };
    let mut st = inner.state();
    if let Some(refusal) = state_refusal(&active_state(&st, model), true, path) {
        return refusal;
    }
    if !st.versions.of(&m).iter().any(|version| version.id == v) {
        return api_status(StatusCode::NOT_FOUND, path);
    }
    let date = match body_date(&headers, &body, path) {
        Ok(date) => date,
        Err(resp) => return resp,
    };
    match set(&mut st, &m, &v, &date) {
        Ok(period) => {
            let mut out = envelope("objects/switchover");
            if let Some(p) = period {
                out.insert(
                    "versionSwitchover".into(),
                    json!({ "periodText": p.text, "date": p.date, "calendarType": CALENDAR_TYPE }),
                );
            }
            Json(Value::Object(out)).into_response()
        }
        Err(message) => api_error(StatusCode::BAD_REQUEST, &message, path),
    }
}

/// Sets version `v`'s switchover to `date` ("" resets it): the new switchover, or why not.
fn set(st: &mut EmulatorState, m: &str, v: &str, date: &str) -> Result<Option<Period>, String> {
    let Some(version) = st.versions.of(m).iter_mut().find(|version| version.id == v) else {
        return Err(format!("Version '{v}' not found"));
    };
    if version.is_actual {
        return Err(format!(
            "Version '{}' is the actual version: a switchover date can be set on a forecast or variance version only",
            version.name
        ));
    }
    if date.is_empty() {
        version.switchover = None;
        return Ok(None);
    }
    if !iso_date(date) {
        return Err(format!("Invalid ISO date format '{date}'. Date should match format YYYY-MM-DD"));
    }
    let (first, last) = MODEL_YEAR;
    if date < first || date > last {
        return Err(format!("Specified date '{date}' is outside the current model year {first} - {last}"));
    }
    let new = Period::month_of(date);
    if let Some(current) = &version.switchover
        && new.date < current.date
    {
        return Err(format!(
            "Specified date '{date}' is earlier than the current switchover date {} of version '{}'",
            current.date, version.name
        ));
    }
    version.switchover = Some(new.clone());
    Ok(Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_dates() {
        for good in ["2026-03-01", "2024-02-29", "2026-12-31", "2000-02-29"] {
            assert!(iso_date(good), "{good}");
        }
        for bad in [
            "2026-3-01",
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "26-03-01",
            "2026/03/01",
            "+026-03-01",
            "",
        ] {
            assert!(!iso_date(bad), "{bad}");
        }
    }

    #[test]
    fn a_switchover_is_its_month_from_the_first_day() {
        assert_eq!(Period::month_of("2026-05-13"), period("May 26", "2026-05-01"));
        assert_eq!(Period::month_of("2026-12-31"), period("Dec 26", "2026-12-01"));
    }
}
