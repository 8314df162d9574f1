//! `model-calendar`: a model's current period and current fiscal year. GET reads them;
//! POST `action=setCurrentPeriod` (body `{"date": "YYYY-MM-DD"}`, `""` clears it) or
//! `action=setFiscalYear` (body `{"year": "FY27"}`, or the model's own label) sets one and
//! answers the calendar afterwards. A date in the wrong form is refused before Anaplan is
//! called; a value Anaplan refuses (out of the timescale, a year it does not have) is a 400
//! that names it, with Anaplan's message.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, ModelRef, Params, Problem, ProblemType, strict_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::prop;
use anaplan::AnaplanError;
use anaplan::calendar::{CalendarDate, CurrentPeriod, ModelCalendar, YearLabel};
use anaplan::ids::{ModelId, WorkspaceId};

/// `action` of a POST.
pub const ACTION: Param = Param::choice(
    "action",
    &["setCurrentPeriod", "setFiscalYear"],
    "Action",
    "setCurrentPeriod: the current period becomes the one that contains the body's date (an empty date clears \
     it); setFiscalYear: the current fiscal year becomes the body's year.",
);

/// `model-calendar`.
pub const FUNCTION: Function = Function {
    name: "model-calendar",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Object(Object::Workspace), Input::Object(Object::Model)],
    long_running: None,
    operation: Some(Operation {
        id: "GetModelCalendar",
        summary: "Get a model's calendar",
        description: "The model's current period, calendar and current fiscal year, as Anaplan reports them. Needs \
                      the workspace administrator role.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The calendar.", schema: "ModelCalendar", array: false },
    }),
    more_operations: &[CHANGE_OPERATION],
    schemas: &[
        Schema { name: "ModelCalendar", build: calendar_schema },
        Schema { name: "ModelCalendarChange", build: change_schema },
    ],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `model-calendar`'s POST in the connector.
pub const CHANGE_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Object(Object::Workspace), Input::Object(Object::Model), Input::Param(ACTION.required())],
    body: Some("ModelCalendarChange"),
    operation: Operation {
        id: "SetModelCalendar",
        summary: "Set a model's current period or fiscal year",
        description: "setCurrentPeriod: the current period becomes the one that contains date (an empty date clears \
                      it). setFiscalYear: the current fiscal year becomes year (e.g. FY27). Anaplan warns that a \
                      change to time settings can remove periods, and their data, from the model. Answers the \
                      calendar afterwards; a value Anaplan refuses is a 400 that names it.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The calendar afterwards.", schema: "ModelCalendar", array: false },
    },
    accepted: None,
};

/// `#/definitions/ModelCalendar`: what GET and POST answer.
fn calendar_schema() -> Value {
    json!({
        "type": "object",
        "description": "A model's calendar, as Anaplan reports it.",
        "properties": {
            "currentPeriod": {
                "type": "object",
                "x-ms-summary": "Current period",
                "description": "Anaplan's currentPeriod: periodText and lastDay are empty when no current period is set.",
                "properties": {
                    "periodText": prop("string", "Current period", "The period's label, e.g. May 26 (empty when none is set)."),
                    "lastDay": prop("string", "Current period's last day", "YYYY-MM-DD (empty when none is set)."),
                    "calendarType": prop("string", "Calendar type", "e.g. Calendar Months/Quarters/Years."),
                },
            },
            "calendar": {
                "type": "object",
                "x-ms-summary": "Calendar",
                "description": "Anaplan's modelCalendar, every field it reports (empty for a calendar type without \
                                fiscal years, e.g. Weeks General).",
                "properties": {
                    "calendarType": prop("string", "Calendar type", "e.g. Calendar Months/Quarters/Years."),
                    "pastYearsCount": prop("integer", "Past years", "Years of the timescale before the current fiscal year."),
                    "futureYearsCount": prop("integer", "Future years", "Years of the timescale after the current fiscal year."),
                },
            },
            "fiscalYear": {
                "type": "object",
                "x-ms-summary": "Fiscal year",
                "description": "The current fiscal year; null when the calendar type has none.",
                "properties": {
                    "year": prop("string", "Fiscal year", "e.g. FY26."),
                    "startDate": prop("string", "Fiscal year start", "YYYY-MM-DD."),
                    "endDate": prop("string", "Fiscal year end", "YYYY-MM-DD."),
                },
            },
        },
    })
}

/// `#/definitions/ModelCalendarChange`: the body of a POST.
fn change_schema() -> Value {
    json!({
        "type": "object",
        "description": "setCurrentPeriod takes date, setFiscalYear takes year.",
        "properties": {
            "date": prop("string", "Date", "setCurrentPeriod: a day in YYYY-MM-DD form; the period that contains it becomes current. Empty clears the current period."),
            "year": prop("string", "Fiscal year", "setFiscalYear: the fiscal year as the model names it, e.g. FY27."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    if call.method == Method::POST {
        return change(state, call).await;
    }
    let params = call.params()?;
    if params.get(ACTION.name).is_some() {
        return Err(Problem::bad_parameter("action is for POST; GET reads the calendar"));
    }
    let model = ModelRef::parse(&params)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, model).await?;
    let (period, calendar) = tokio::try_join!(client.current_period(&ws, &model), client.model_calendar(&ws, &model))?;
    Ok(json_answer(StatusCode::OK, &calendar_json(&period, &calendar)))
}

/// The JSON body of a POST.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    action: Option<String>,
    date: Option<String>,
    year: Option<String>,
}

/// A checked POST.
#[derive(Debug)]
enum Change {
    /// `None` clears the current period.
    CurrentPeriod(Option<CalendarDate>),
    FiscalYear(YearLabel),
}

impl Change {
    /// The model and the change, every check made before Anaplan is called.
    fn parse(call: &Call) -> Result<(ModelRef, Change), Problem> {
        // The query string carries the model and `action` (and the host's `code`); the body
        // is a JSON object of date or year (an empty date is a value here, not an absence).
        let names = ["workspaceId", "workspaceName", "modelId", "modelName", ACTION.name];
        let query = Params::collect(&Method::GET, call.query.as_deref(), &call.headers, &[], &names)?;
        let body: ChangeBody = if call.body.iter().all(u8::is_ascii_whitespace) {
            ChangeBody::default()
        } else {
            if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
                let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
                let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
                if essence != "application/json" && !essence.ends_with("+json") {
                    return Err(Problem::bad_parameter(format!(
                        "the body must be a JSON object (Content-Type: application/json), got {}",
                        anaplan::untrusted::quote(&essence)
                    )));
                }
            }
            serde_json::from_value(strict_json::from_slice(&call.body)?)
                .map_err(|e| Problem::bad_parameter(format!("the body: {e}")))?
        };
        let model = ModelRef::parse(&query)?;
        let action = match (query.get(ACTION.name), body.action.as_deref().map(str::trim)) {
            (Some(a), Some(b)) if a != b => {
                return Err(Problem::bad_parameter(
                    "parameter action is given twice with different values (the second in the body)",
                ));
            }
            (Some(a), _) => a.to_owned(),
            (None, Some(b)) if !b.is_empty() => b.to_owned(),
            _ => return Err(Problem::bad_parameter("action is required: setCurrentPeriod or setFiscalYear")),
        };
        let bad = |e: anaplan::calendar::InvalidValue| Problem::bad_parameter(e.0);
        let change = match action.as_str() {
            "setCurrentPeriod" => {
                if body.year.is_some() {
                    return Err(Problem::bad_parameter("action=setCurrentPeriod takes date, not year"));
                }
                let date = body.date.ok_or_else(|| {
                    Problem::bad_parameter(
                        "action=setCurrentPeriod needs date in the body: YYYY-MM-DD, or \"\" to clear the current period",
                    )
                })?;
                let date = date.trim();
                match date {
                    "" => Change::CurrentPeriod(None),
                    d => {
                        Change::CurrentPeriod(Some(CalendarDate::parse(d).map_err(|e| bad(e).with("value", json!(d)))?))
                    }
                }
            }
            "setFiscalYear" => {
                if body.date.is_some() {
                    return Err(Problem::bad_parameter("action=setFiscalYear takes year, not date"));
                }
                let year = body.year.ok_or_else(|| {
                    Problem::bad_parameter("action=setFiscalYear needs year in the body, e.g. {\"year\": \"FY27\"}")
                })?;
                Change::FiscalYear(YearLabel::parse(&year).map_err(|e| bad(e).with("value", json!(year)))?)
            }
            other => {
                return Err(Problem::bad_parameter(format!(
                    "action must be setCurrentPeriod or setFiscalYear; got {}",
                    anaplan::untrusted::quote(other)
                )));
            }
        };
        Ok((model, change))
    }
}

async fn change(state: &AppState, call: Call) -> Result<Response, Problem> {
    let (model, change) = Change::parse(&call)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, model).await?;
    let (period, calendar) = match &change {
        Change::CurrentPeriod(date) => {
            let period = client
                .set_current_period(&ws, &model, date.as_ref())
                .await
                .map_err(|e| refused(e, "date", date.as_ref().map_or("", CalendarDate::as_str)))?;
            tracing::info!(cleared = date.is_none(), "current period set");
            (period, client.model_calendar(&ws, &model).await?)
        }
        Change::FiscalYear(year) => {
            client.set_fiscal_year(&model, year).await.map_err(|e| refused(e, "year", year.as_str()))?;
            tracing::info!("fiscal year set");
            read(&client, &ws, &model).await?
        }
    };
    Ok(json_answer(StatusCode::OK, &calendar_json(&period, &calendar)))
}

async fn read(
    client: &anaplan::Client,
    ws: &WorkspaceId,
    model: &ModelId,
) -> Result<(CurrentPeriod, ModelCalendar), Problem> {
    Ok(tokio::try_join!(client.current_period(ws, model), client.model_calendar(ws, model))?)
}

/// Anaplan's 400 to a write names the value it refused; any other error is as usual.
fn refused(e: AnaplanError, what: &str, value: &str) -> Problem {
    match e {
        AnaplanError::Api { status: 400, message, .. } => Problem::new(
            ProblemType::AnaplanBadRequest,
            format!(
                "Anaplan refused the {what} {}: {}",
                anaplan::untrusted::quote(value),
                anaplan::untrusted::quote(&message)
            ),
        )
        .with("value", json!(value))
        .with("anaplan", json!({ "status": 400, "message": message })),
        other => Problem::from(other),
    }
}

/// `{"currentPeriod", "calendar", "fiscalYear"}`.
fn calendar_json(period: &CurrentPeriod, calendar: &ModelCalendar) -> Value {
    json!({
        "currentPeriod": period,
        "calendar": calendar,
        "fiscalYear": calendar.current_fiscal_year(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_connector_has_a_read_and_a_change_with_model_dropdowns() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/model-calendar"];
        assert_eq!(path["get"]["operationId"], "GetModelCalendar");
        let post = &path["post"];
        assert_eq!(post["operationId"], "SetModelCalendar");
        let params = post["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true && p["in"] == "query"));
        assert!(params.iter().any(|p| p["name"] == "modelId"));
        let body = params.iter().find(|p| p["in"] == "body").unwrap();
        assert_eq!(body["schema"]["$ref"], "#/definitions/ModelCalendarChange");
    }
}
