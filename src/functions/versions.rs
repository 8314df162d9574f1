//! `versions`: a model's versions (Actual, Forecast, Variance...) and their switchover
//! dates. GET lists them as Anaplan reports them; POST `action=switchover` sets one
//! version's switchover date (body `{"date": "YYYY-MM-DD"}`, or `""` to reset it to blank,
//! as Anaplan documents) and answers the version as Anaplan lists it afterwards.
//!
//! Everything that can be checked is checked before anything is written: the parameters, the
//! body, the date's form, the version (by id or name: a name that matches nothing answers
//! the closest names), and that it is not the Actual version (Anaplan sets a switchover on
//! forecast and variance versions only). What Anaplan alone knows (a date before the current
//! switchover, outside the model year) comes back as its 400, naming the date.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem, ProblemType, strict_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, schema_ref};
use anaplan::AnaplanError;
use anaplan::catalog::{Named, pick};
use anaplan::ids::{ModelId, WorkspaceId};
use anaplan::untrusted::quote;
use anaplan::versions::{Version, VersionId};

/// `action` of a POST.
pub const ACTION: Param = Param::choice(
    "action",
    &["switchover"],
    "Action",
    "switchover: sets the version's switchover date to the body's date (\"\" resets it to blank).",
);

/// `versions`.
pub const FUNCTION: Function = Function {
    name: "versions",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Object(Object::Workspace), Input::Object(Object::Model)],
    long_running: None,
    operation: Some(Operation {
        id: "ListVersions",
        summary: "List a model's versions",
        description: "Lists the model's versions (Actual, Forecast, Variance...) as Anaplan reports them: which is \
                      current and which actual, their switchover and edit ranges. Needs the Workspace \
                      Administrator role in Anaplan.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The versions.", schema: "Version", array: true },
    }),
    more_operations: &[SWITCHOVER_OPERATION],
    schemas: &[
        Schema { name: "Version", build: version_schema },
        Schema { name: "VersionPeriod", build: period_schema },
        Schema { name: "VersionSwitchover", build: switchover_schema },
    ],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `versions`' POST in the connector: set a version's switchover date, with a version
/// dropdown.
pub const SWITCHOVER_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::Version),
        Input::Param(ACTION.required()),
    ],
    body: Some("VersionSwitchover"),
    operation: Operation {
        id: "SetVersionSwitchover",
        summary: "Set a version's switchover date",
        description: "Sets a forecast or variance version's switchover date (the month from which it holds forecast \
                      rather than actual data); an empty date resets it to blank. Anaplan refuses a date earlier than \
                      the current switchover or outside the model's current year (a 400 naming it), and the Actual \
                      version. Answers the version afterwards.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The version, as Anaplan lists it afterwards.", schema: "Version", array: false },
    },
    accepted: None,
};

/// `#/definitions/Version`: a version as Anaplan lists it.
fn version_schema() -> Value {
    json!({
        "type": "object",
        "description": "A version of the model, as Anaplan lists it (a field Anaplan does not set is absent).",
        "properties": {
            "id": prop("string", "Version ID", "The version's id (12 digits starting with 107)."),
            "name": prop("string", "Name", "The version's name."),
            "isCurrent": prop("boolean", "Current", "Whether it is the model's current version."),
            "isActual": prop("boolean", "Actual", "Whether it is the actual version (historical data)."),
            "switchover": schema_ref("VersionPeriod"),
            "editFrom": schema_ref("VersionPeriod"),
            "editTo": schema_ref("VersionPeriod"),
            "formula": prop("string", "Formula", "Its formula, for a formula (e.g. variance) version."),
            "notes": prop("string", "Notes", "Its notes."),
            "code": prop("string", "Code", "Its code."),
        },
    })
}

/// `#/definitions/VersionPeriod`: a period as versions show it.
fn period_schema() -> Value {
    json!({
        "type": "object",
        "description": "A period of the model's calendar.",
        "properties": {
            "periodText": prop("string", "Period", "The period as Anaplan shows it, e.g. Mar 26."),
            "date": prop("string", "Date", "Its first day, YYYY-MM-DD."),
        },
    })
}

/// `#/definitions/VersionSwitchover`: the body of a POST.
fn switchover_schema() -> Value {
    json!({
        "type": "object",
        "description": "The new switchover date.",
        "required": ["date"],
        "properties": {
            "date": prop("string", "Switchover date", "YYYY-MM-DD, within the model's current year and not before the current switchover; \"\" resets it to blank."),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    if call.method == Method::POST {
        return switchover(state, call).await;
    }
    let params = call.params()?;
    for name in [ACTION.name, "versionId", "versionName"] {
        if params.get(name).is_some() {
            return Err(Problem::bad_parameter(format!(
                "{name} is for POST (action=switchover); GET lists the model's versions"
            )));
        }
    }
    let m = ModelRef::parse(&params)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, m).await?;
    let versions = client.versions(&ws, &model).await?;
    Ok(json_answer(StatusCode::OK, &serde_json::to_value(versions).unwrap_or_else(|_| json!([]))))
}

/// The JSON body of a POST.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchoverBody {
    date: Option<String>,
}

/// A checked POST.
#[derive(Debug)]
struct SwitchoverRequest {
    model: ModelRef,
    version: ObjectRef<VersionId>,
    /// `YYYY-MM-DD`, or "" to reset.
    date: String,
}

impl SwitchoverRequest {
    fn parse(call: &Call) -> Result<Self, Problem> {
        // The query string carries the ids and `action`; the body is the date alone.
        let query = Params::collect(&Method::GET, call.query.as_deref(), &call.headers, &[], &call.accepted)?;
        query.choice(&ACTION.required())?;
        let model = ModelRef::parse(&query)?;
        let version = query.object("version")?;
        if call.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Problem::bad_parameter(
                "the body is required: {\"date\": \"YYYY-MM-DD\"} (or {\"date\": \"\"} to reset the switchover)",
            ));
        }
        if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(Problem::bad_parameter(format!(
                    "the body must be a JSON object (Content-Type: application/json), got {}",
                    quote(&essence)
                )));
            }
        }
        // Strict JSON first: a key given twice is a 400 naming it, as for every body.
        let body: SwitchoverBody = serde_json::from_value(strict_json::from_slice(&call.body)?)
            .map_err(|e| Problem::bad_parameter(format!("the body must be {{\"date\": \"YYYY-MM-DD\"}}: {e}")))?;
        let date = body.date.ok_or_else(|| Problem::bad_parameter("the body's date is required: YYYY-MM-DD"))?;
        let date = date.trim().to_owned();
        if !date.is_empty() && !is_iso_date(&date) {
            return Err(Problem::bad_parameter(format!(
                "date must be a day written YYYY-MM-DD (or \"\" to reset the switchover); got {}",
                quote(&date)
            )));
        }
        Ok(SwitchoverRequest { model, version, date })
    }
}

/// True for a real calendar day written `YYYY-MM-DD`.
fn is_iso_date(s: &str) -> bool {
    // `time` checks the calendar (month lengths, leap years); the length check refuses a
    // signed or longer year it would otherwise read.
    let format = time::macros::format_description!("[year]-[month]-[day]");
    s.len() == 10 && s.is_ascii() && time::Date::parse(s, format).is_ok()
}

/// The version `r` names among `versions`: by id, or by exact name (none is a 404 listing
/// the closest names, several a 404 listing their ids).
fn find(versions: &[Version], r: &ObjectRef<VersionId>) -> Result<Version, Problem> {
    match r {
        ObjectRef::Id(id) => versions.iter().find(|v| v.id == id.as_str()).cloned().ok_or_else(|| {
            let known: Vec<String> = versions.iter().map(|v| format!("{} ({})", quote(&v.name), v.id)).collect();
            Problem::new(
                ProblemType::NotFound,
                format!(
                    "the model has no version with id {id} that this identity can read; its versions: {}",
                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                ),
            )
        }),
        ObjectRef::Name(name) => {
            let named: Vec<Named> = versions.iter().map(|v| Named { id: v.id.clone(), name: v.name.clone() }).collect();
            let found = pick("version", &named, name)?;
            Ok(versions.iter().find(|v| v.id == found.id).cloned().expect("picked from these versions"))
        }
    }
}

async fn switchover(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = SwitchoverRequest::parse(&call)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let version = find(&client.versions(&ws, &model).await?, &req.version)?;
    if version.is_actual == Some(true) {
        return Err(Problem::bad_parameter(format!(
            "version {} is the model's actual version: Anaplan sets a switchover date on forecast and variance \
             versions only",
            quote(&version.name)
        )));
    }
    let id = VersionId::parse(&version.id).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
    set(&client, (&ws, &model), (&id, &version.name), &req.date).await?;
    tracing::info!(version = %id, reset = req.date.is_empty(), "version switchover set");
    let after = client.versions(&ws, &model).await?;
    let Some(now) = after.into_iter().find(|v| v.id == version.id) else {
        return Err(Problem::from(AnaplanError::Protocol(format!(
            "version {id} was not listed after its switchover was set"
        ))));
    };
    Ok(json_answer(StatusCode::OK, &serde_json::to_value(now).unwrap_or_default()))
}

/// Sets the switchover; Anaplan's 400 names the date and the version.
async fn set(
    client: &anaplan::Client,
    (_, model): (&WorkspaceId, &ModelId),
    (id, name): (&VersionId, &str),
    date: &str,
) -> Result<(), Problem> {
    match client.set_switchover(model, id, date).await {
        Ok(_) => Ok(()),
        Err(AnaplanError::Api { status: 400, message, .. }) => {
            let what = if date.is_empty() {
                "resetting the switchover".to_owned()
            } else {
                format!("switchover date {}", quote(date))
            };
            Err(Problem::new(
                ProblemType::AnaplanBadRequest,
                format!(
                    "Anaplan refused {what} for version {}: {} (a switchover must not be earlier than the current \
                     one, and must be within the model's current year)",
                    quote(name),
                    quote(&message)
                ),
            )
            .with("anaplan", json!({ "status": 400, "message": message }))
            .with("date", json!(date)))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_days() {
        for good in ["2026-03-01", "2024-02-29", "2000-02-29", "2026-12-31"] {
            assert!(is_iso_date(good), "{good}");
        }
        for bad in ["2026-02-29", "1900-02-29", "2026-13-01", "2026-04-31", "2026-3-01", "01/03/2026", "2026-03-01T00"]
        {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }

    #[test]
    fn the_connector_has_a_listing_and_a_switchover_with_a_version_dropdown() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/versions"];
        assert_eq!(path["get"]["operationId"], "ListVersions");
        let post = &path["post"];
        assert_eq!(post["operationId"], "SetVersionSwitchover");
        let params = post["parameters"].as_array().unwrap();
        let version = params.iter().find(|p| p["name"] == "versionId").unwrap();
        let values = &version["x-ms-dynamic-values"];
        assert_eq!(values["operationId"], "ListObjects");
        assert_eq!(
            values["parameters"],
            json!({"kind": "versions", "workspaceId": {"parameter": "workspaceId"}, "modelId": {"parameter": "modelId"}})
        );
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true));
        assert!(params.iter().any(|p| p["in"] == "body" && p["schema"]["$ref"] == "#/definitions/VersionSwitchover"));
    }
}
