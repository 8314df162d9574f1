//! A model's versions (Actual, Forecast, Variance...) and their switchover dates:
//! `GET /workspaces/{ws}/models/{m}/versions` (`versionMetadata`) and
//! `PUT /models/{m}/versions/{v}/switchover` (`{"date"}` → `versionSwitchover`), as the
//! live-tested description documents them (minimum role: Workspace Administrator).
//!
//! The description documents a 400 for a switchover date earlier than the version's current
//! one or outside the current model year, and says a switchover applies only to a forecast
//! or variance version; it documents no wording for these, so none is read here.

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{Id, InvalidId, ModelId, WorkspaceId};

/// A version id: 12 decimal digits starting with 107 (the description's `VersionId`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId(String);

impl VersionId {
    /// Parses an id in Anaplan's format.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if s.len() == 12 && s.starts_with("107") && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(VersionId(s.to_owned()))
        } else {
            let mut got: String = s.chars().take(64).collect();
            if s.chars().count() > 64 {
                got.push('…');
            }
            Err(InvalidId {
                kind: "versionId",
                expected: "12 decimal digits starting with 107 (e.g. 107000000002)",
                got,
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Id for VersionId {
    fn parse(s: &str) -> Result<Self, InvalidId> {
        VersionId::parse(s)
    }
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// One version, as `versionMetadata` lists it: the fields read here, and every other field
/// Anaplan sends (`editFrom`, `editTo`, `switchover`, `formula`, `notes`, `code`...) kept
/// as sent, so an answer passes them on unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// The id (`107…`); a number is taken as its digits.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// The name.
    pub name: String,
    /// Whether it holds actual data (the description: "rather than forecast data").
    /// Anaplan returns a field only when it is set, so absent is `None`, not false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_actual: Option<bool>,
    /// Whether it is the current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_current: Option<bool>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Version {
    /// Its switchover (`{"periodText", "date"}`), when it has one.
    pub fn switchover(&self) -> Option<&Value> {
        self.other.get("switchover")
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SwitchoverBody {
    version_switchover: Option<Map<String, Value>>,
}

impl Client {
    /// The model's versions the identity can read, every page (an absent `versionMetadata`
    /// is none). The workspace form of the path: it answers as the model-direct one.
    pub async fn versions(&self, ws: &WorkspaceId, model: &ModelId) -> Result<Vec<Version>, AnaplanError> {
        let req = ApiRequest::get(["workspaces", ws.as_str(), "models", model.as_str(), "versions"]);
        self.list(req, "versionMetadata").await
    }

    /// Sets `version`'s switchover date: `date` as `YYYY-MM-DD`, or "" to reset it to blank
    /// (both as the description documents). Answers Anaplan's `versionSwitchover`
    /// (`periodText`, `date`, `calendarType`...), empty when it sent none.
    pub async fn set_switchover(
        &self,
        model: &ModelId,
        version: &VersionId,
        date: &str,
    ) -> Result<Map<String, Value>, AnaplanError> {
        let req = ApiRequest::get(["models", model.as_str(), "versions", version.as_str(), "switchover"])
            .method(Method::PUT)
            .json(json!({ "date": date }));
        let body: SwitchoverBody = self.json(req).await?;
        Ok(body.version_switchover.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    use super::*;
    use crate::client::client_of_stand_in;

    const WS: &str = "8a81b09d599f3c6e0159f605560c2630";
    const MODEL: &str = "75A40874E6B64FA3AE0743278996850F";

    #[test]
    fn version_ids_have_their_prefix() {
        assert!(VersionId::parse("107000000002").is_ok());
        for bad in ["101000000002", "10700000000", "1070000000021", "10700000000x", "", "107/00000002"] {
            let e = VersionId::parse(bad).unwrap_err();
            assert!(e.to_string().contains("versionId") && e.to_string().contains("107"), "{e}");
        }
    }

    #[test]
    fn a_version_keeps_every_field_anaplan_sent_and_omits_what_it_did_not() {
        let sent = json!({
            "id": "107000000002", "name": "Variance", "isCurrent": false, "isActual": false,
            "switchover": {"periodText": "Mar 20", "date": "2020-03-01"}, "formula": "Actual - 20",
            "editFrom": {"periodText": "Jan 20", "date": "2020-01-01"},
            "editTo": {"periodText": "Dec 20", "date": "2020-12-31"},
        });
        let v: Version = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(v.switchover().unwrap()["date"], "2020-03-01");
        assert_eq!(serde_json::to_value(&v).unwrap(), sent);
        let bare: Version = serde_json::from_value(json!({"id": 107000000001_u64, "name": "Actual"})).unwrap();
        assert_eq!((bare.id.as_str(), bare.is_actual), ("107000000001", None));
        assert_eq!(serde_json::to_value(&bare).unwrap(), json!({"id": "107000000001", "name": "Actual"}));
    }

    struct Fake {
        seen: Mutex<Vec<String>>,
    }

    async fn answer(State(fake): State<Arc<Fake>>, req: Request) -> Response {
        let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
        let ct = req.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default();
        let body = axum::body::to_bytes(req.into_body(), 1024).await.unwrap();
        fake.seen.lock().unwrap().push(format!("{method} {path} {ct} {}", String::from_utf8_lossy(&body)));
        let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
        match (method.as_str(), path.as_str()) {
            ("GET", p) if p == format!("/2/0/workspaces/{WS}/models/{MODEL}/versions") => {
                // A model whose versions the identity cannot read: the key is absent.
                ok(json!({"meta": {"schema": "x"}, "status": {"code": 200, "message": "Success"}}))
            }
            ("PUT", p) if p == format!("/2/0/models/{MODEL}/versions/107000000002/switchover") => ok(json!({
                "versionSwitchover": {"periodText": "May 26", "date": "2026-05-01", "calendarType": "Calendar Months/Quarters/Years"}
            })),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    #[tokio::test]
    async fn the_client_sends_what_the_description_documents() {
        let fake = Arc::new(Fake { seen: Mutex::new(Vec::new()) });
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(fake.clone())).await;
        let (ws, model) = (WorkspaceId::parse(WS).unwrap(), ModelId::parse(MODEL).unwrap());
        assert!(client.versions(&ws, &model).await.unwrap().is_empty(), "an absent key is no version");
        let version = VersionId::parse("107000000002").unwrap();
        let set = client.set_switchover(&model, &version, "2026-05-13").await.unwrap();
        assert_eq!(set["date"], "2026-05-01");
        let seen = fake.seen.lock().unwrap().clone();
        assert!(seen[0].starts_with(&format!("GET /2/0/workspaces/{WS}/models/{MODEL}/versions ")), "{seen:?}");
        assert_eq!(
            seen[1],
            format!(
                "PUT /2/0/models/{MODEL}/versions/107000000002/switchover application/json {{\"date\":\"2026-05-13\"}}"
            )
        );
    }
}
