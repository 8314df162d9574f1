//! A model's state: whether it is loaded (open), its `activeState`, and whether it is online,
//! read and changed as the live-tested description documents them.
//!
//! - `GET /models/{m}` → `model`: its name and `activeState` (Anaplan's state names, kept as
//!   given: the description lists six, Anaplan has been seen to report others).
//! - `GET /models/{m}/status` → the bare `requestStatus` (no envelope): `currentStep` is
//!   `Open` or `Closed` when idle, `Closing` during a close, the step's name while loading or
//!   running a task; `progress` is `-1.0` when idle.
//! - `POST /models/{m}/open` and `POST /models/{m}/close`: no body, sent with
//!   `Content-Type: application/text` as Anaplan expects; 202 and 204, both empty, both
//!   answered before the transition ends (follow it with the status).
//! - `POST /models/{m}/onlineStatus` `{"status": "online" | "offline"}` → 204 (ALM API; the
//!   description marks it not tested live: any 2xx is taken as done).
//!
//! Minimum role: Standard User for the reads, Workspace Administrator for the changes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::ModelId;

/// The media type Anaplan expects on the empty bodies of open and close.
pub const EMPTY_BODY_MEDIA: &str = "application/text";

/// A model as `GET /models/{m}` describes it: fields Anaplan adds are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Anaplan's state name as given (`UNLOCKED`, `PRODUCTION`, `MAINTENANCE`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_state: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `requestStatus`: the model's runtime state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStatus {
    /// `Open`, `Closed`, `Closing`, or the step a loading or busy model is on (an open string).
    #[serde(default)]
    pub current_step: Option<String>,
    /// 0.0 to 1.0 for a step, `-1.0` when idle.
    #[serde(default)]
    pub progress: Option<f64>,
    /// The task driving the current step, when one runs.
    #[serde(default)]
    pub task_id: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The two idle steps the description names.
pub const STEP_OPEN: &str = "Open";
/// See [`STEP_OPEN`].
pub const STEP_CLOSED: &str = "Closed";

impl ModelStatus {
    /// The step as reported (empty when absent).
    pub fn step(&self) -> &str {
        self.current_step.as_deref().unwrap_or("")
    }

    /// Loaded: idle and `Open`, or running a task (only a loaded model runs one).
    pub fn is_loaded(&self) -> bool {
        self.step() == STEP_OPEN || self.task_id.as_deref().is_some_and(|t| !t.is_empty())
    }

    /// Idle and `Closed`.
    pub fn is_closed(&self) -> bool {
        self.step() == STEP_CLOSED
    }
}

/// Whether a model in `active_state` is online: `false` for the maintenance states (what
/// taking a model offline sets), an `offline` reading and `ARCHIVED`; `true` for the other
/// states the description names; `None` for a name it does not (a state Anaplan adds).
pub fn online(active_state: &str) -> Option<bool> {
    match active_state.to_ascii_uppercase().as_str() {
        "UNLOCKED" | "LOCKED" | "PRODUCTION" | "ACTIVE" => Some(true),
        "MAINTENANCE" | "PRODUCTION_MAINTENANCE" | "OFFLINE" | "ARCHIVED" => Some(false),
        _ => None,
    }
}

#[derive(Deserialize)]
struct ModelBody {
    model: Option<ModelInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusBody {
    request_status: Option<ModelStatus>,
}

impl Client {
    /// The model's metadata (`GET /models/{m}`).
    pub async fn model_info(&self, model: &ModelId) -> Result<ModelInfo, AnaplanError> {
        let body: ModelBody = self.json(ApiRequest::get(["models", model.as_str()])).await?;
        body.model.ok_or_else(|| AnaplanError::Protocol("the answer has no model".into()))
    }

    /// The model's runtime state (`GET /models/{m}/status`).
    pub async fn model_status(&self, model: &ModelId) -> Result<ModelStatus, AnaplanError> {
        let body: StatusBody = self.json(ApiRequest::get(["models", model.as_str(), "status"])).await?;
        body.request_status.ok_or_else(|| AnaplanError::Protocol("the answer has no requestStatus".into()))
    }

    /// Asks Anaplan to load the model; it answers before the model is loaded.
    pub async fn open_model(&self, model: &ModelId) -> Result<(), AnaplanError> {
        self.transition(model, "open").await
    }

    /// Asks Anaplan to unload the model (every user in it is closed out, unwarned).
    pub async fn close_model(&self, model: &ModelId) -> Result<(), AnaplanError> {
        self.transition(model, "close").await
    }

    async fn transition(&self, model: &ModelId, what: &str) -> Result<(), AnaplanError> {
        // Asking twice asks for the same state: safe to repeat after a lost answer.
        let req = ApiRequest::get(["models", model.as_str(), what])
            .method(reqwest::Method::POST)
            .empty_as(EMPTY_BODY_MEDIA)
            .replayable();
        self.send(req).await.map(drop)
    }

    /// Sets the model online (`true`) or offline (`false`).
    pub async fn set_online(&self, model: &ModelId, online: bool) -> Result<(), AnaplanError> {
        let status = if online { "online" } else { "offline" };
        let req = ApiRequest::get(["models", model.as_str(), "onlineStatus"])
            .method(reqwest::Method::POST)
            .json(json!({ "status": status }))
            .replayable();
        self.send(req).await.map(drop)
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

    const MODEL: &str = "75A40874E6B64FA3AE0743278996850F";

    type Seen = Arc<Mutex<Vec<String>>>;

    async fn answer(State(seen): State<Seen>, req: Request) -> Response {
        let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
        let ct = req.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = String::from_utf8(to_bytes(req.into_body(), 1 << 16).await.unwrap().to_vec()).unwrap();
        seen.lock().unwrap().push(format!("{method} {path} {ct} {body}").trim_end().to_owned());
        let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
        match (method.as_str(), path.rsplit('/').next().unwrap()) {
            ("GET", "status") => ok(json!({"requestStatus": {"currentStep": "Closed", "progress": -1.0,
                "creationTime": 1786576465308_u64, "taskId": null, "tooltip": null}})),
            ("GET", MODEL) => ok(json!({"meta": {}, "status": {"code": 200, "message": "Success"},
                "model": {"id": MODEL, "name": "Revenue Plan", "activeState": "offline", "memoryUsage": 1}})),
            ("POST", "open") => StatusCode::ACCEPTED.into_response(),
            ("POST", "close" | "onlineStatus") => StatusCode::NO_CONTENT.into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    #[tokio::test]
    async fn the_requests_are_the_documented_ones_and_every_state_is_kept() {
        let seen: Seen = Arc::default();
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(seen.clone())).await;
        let model = ModelId::parse(MODEL).unwrap();
        let info = client.model_info(&model).await.unwrap();
        assert_eq!((info.name.as_str(), info.active_state.as_deref()), ("Revenue Plan", Some("offline")));
        assert_eq!(info.other["memoryUsage"], 1, "fields Anaplan adds are kept");
        let status = client.model_status(&model).await.unwrap();
        assert!(status.is_closed() && !status.is_loaded(), "{status:?}");
        client.open_model(&model).await.unwrap();
        client.close_model(&model).await.unwrap();
        client.set_online(&model, false).await.unwrap();
        client.set_online(&model, true).await.unwrap();
        let m = format!("/2/0/models/{MODEL}");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                format!("GET {m}"),
                format!("GET {m}/status"),
                format!("POST {m}/open application/text"),
                format!("POST {m}/close application/text"),
                format!(r#"POST {m}/onlineStatus application/json {{"status":"offline"}}"#),
                format!(r#"POST {m}/onlineStatus application/json {{"status":"online"}}"#),
            ]
        );
    }

    #[test]
    fn loaded_means_open_or_running_a_task() {
        let s = |v: Value| serde_json::from_value::<ModelStatus>(v).unwrap();
        assert!(s(json!({"currentStep": "Open", "progress": -1.0})).is_loaded());
        assert!(s(json!({"currentStep": "Processing ...", "progress": 0.4, "taskId": "ABC-1"})).is_loaded());
        for step in ["Closed", "Closing", "Loading", ""] {
            assert!(!s(json!({"currentStep": step, "progress": -1.0, "taskId": null})).is_loaded(), "{step}");
        }
    }

    #[test]
    fn online_follows_the_state_names_and_admits_not_knowing() {
        assert_eq!(online("UNLOCKED"), Some(true));
        assert_eq!(online("PRODUCTION"), Some(true));
        assert_eq!(online("MAINTENANCE"), Some(false));
        assert_eq!(online("PRODUCTION_MAINTENANCE"), Some(false));
        assert_eq!(online("offline"), Some(false));
        assert_eq!(online("ARCHIVED"), Some(false));
        assert_eq!(online("SOMETHING_NEW"), None);
    }
}
