//! Application lifecycle management (ALM API, minimum role Workspace Administrator on every
//! operation), as the live-tested description documents it:
//!
//! - revisions: `GET /models/{m}/alm/revisions` (paged), `GET .../alm/latestRevision`,
//!   `GET .../alm/syncableRevisions?sourceModelId=`, `GET .../alm/revisions/{r}/appliedToModels`,
//!   `POST .../alm/revisions {"name", "description"}` → 201;
//! - sync tasks: `POST .../alm/syncTasks {"sourceRevisionId", "sourceModelId",
//!   "targetRevisionId"}` → 201 `task`, `GET .../alm/syncTasks/{t}` → `task` (`IN_PROGRESS` |
//!   `COMPLETE`, then `result.successful` and `result.error{title, messageText}`). The
//!   description documents no cancel for a sync task, so none is offered here;
//! - report tasks: `POST .../alm/comparisonReportTasks` | `.../summaryReportTasks` (the same
//!   body), `GET .../{kind}ReportTasks/{t}`, and the reports:
//!   `GET .../comparisonReports/{targetRev}/{sourceRev}` (a TSV, served only to `Accept:
//!   application/octet-stream`), `GET .../summaryReports/{targetRev}/{sourceRev}` (JSON).
//!
//! Where the description and its live notes differ, both readings are taken: an empty
//! `latestRevision` omits its key, which the schema calls `revisions` (one item) and a live
//! note `revision`; either is read, and neither is no revision.

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{Id, InvalidId, ModelId};

/// A revision id (also a sync or report task id): 32 uppercase hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RevisionId(String);

impl RevisionId {
    /// Parses an id in Anaplan's format.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) {
            Ok(RevisionId(s.to_owned()))
        } else {
            let mut got: String = s.chars().take(64).collect();
            if s.chars().count() > 64 {
                got.push('…');
            }
            Err(InvalidId { kind: "revisionId", expected: "32 uppercase hexadecimal characters", got })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Id for RevisionId {
    fn parse(s: &str) -> Result<Self, InvalidId> {
        RevisionId::parse(s)
    }
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// One revision: the fields read here and every other one Anaplan sends (`creationMethod`,
/// `appliedOn`, `appliedBy`...), kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A model a revision was applied to (`modelId`, `modelName`, `workspaceId` are absent for
/// a deleted model, which has `modelDeleted: true`), every field kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An ALM task (sync, comparison report or summary report) as Anaplan reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlmTask {
    pub task_id: String,
    /// `IN_PROGRESS` or `COMPLETE` (an other state is kept as given).
    #[serde(default)]
    pub task_state: String,
    /// `{successful, error?, reportFileUrl?}`, once complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl AlmTask {
    /// Complete (whatever the outcome).
    pub fn is_complete(&self) -> bool {
        self.task_state == "COMPLETE"
    }

    /// `result.successful`; false when absent.
    pub fn successful(&self) -> bool {
        self.result.as_ref().and_then(|r| r.get("successful")).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// The revisions a sync or report task compares: the source's and the target's.
#[derive(Debug, Clone)]
pub struct SyncRevisions {
    pub source_model: ModelId,
    pub source_revision: RevisionId,
    pub target_revision: RevisionId,
}

impl SyncRevisions {
    fn body(&self) -> Value {
        json!({
            "sourceRevisionId": self.source_revision.as_str(),
            "sourceModelId": self.source_model.as_str(),
            "targetRevisionId": self.target_revision.as_str(),
        })
    }
}

/// The two report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// The full comparison (a TSV).
    Comparison,
    /// The summary (JSON).
    Summary,
}

impl ReportKind {
    fn tasks(self) -> &'static str {
        match self {
            ReportKind::Comparison => "comparisonReportTasks",
            ReportKind::Summary => "summaryReportTasks",
        }
    }
}

#[derive(Deserialize)]
struct RevisionsBody {
    revisions: Option<Vec<Revision>>,
    revision: Option<Revision>,
}

impl RevisionsBody {
    fn first(self) -> Option<Revision> {
        self.revisions.and_then(|r| r.into_iter().next()).or(self.revision)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppliedBody {
    applied_to_models: Option<Vec<AppliedModel>>,
}

#[derive(Deserialize)]
struct TaskBody {
    task: Option<AlmTask>,
}

fn alm(model: &ModelId, rest: &[&str]) -> ApiRequest {
    let mut segments = vec!["models", model.as_str(), "alm"];
    segments.extend_from_slice(rest);
    ApiRequest::get(segments)
}

fn task_of(body: TaskBody) -> Result<AlmTask, AnaplanError> {
    body.task.ok_or_else(|| AnaplanError::Protocol("the answer has no task".into()))
}

impl Client {
    /// Every revision of the model, every page (none when the key is absent).
    pub async fn revisions(&self, model: &ModelId) -> Result<Vec<Revision>, AnaplanError> {
        self.list(alm(model, &["revisions"]), "revisions").await
    }

    /// The model's latest revision; `None` when it has none.
    pub async fn latest_revision(&self, model: &ModelId) -> Result<Option<Revision>, AnaplanError> {
        let body: RevisionsBody = self.json(alm(model, &["latestRevision"])).await?;
        Ok(body.first())
    }

    /// The revisions of `source` that can be synced into `target`, newest first.
    pub async fn syncable_revisions(&self, target: &ModelId, source: &ModelId) -> Result<Vec<Revision>, AnaplanError> {
        let req = alm(target, &["syncableRevisions"]).query("sourceModelId", source.as_str());
        let body: RevisionsBody = self.json(req).await?;
        Ok(body.revisions.unwrap_or_default())
    }

    /// The models `revision` was applied to; the first is the model it was created in.
    pub async fn applied_to_models(
        &self,
        model: &ModelId,
        revision: &RevisionId,
    ) -> Result<Vec<AppliedModel>, AnaplanError> {
        let body: AppliedBody = self.json(alm(model, &["revisions", revision.as_str(), "appliedToModels"])).await?;
        Ok(body.applied_to_models.unwrap_or_default())
    }

    /// Adds a revision tag (not replayed: a lost answer could otherwise tag twice).
    pub async fn create_revision(
        &self,
        model: &ModelId,
        name: &str,
        description: Option<&str>,
    ) -> Result<Revision, AnaplanError> {
        let mut body = json!({ "name": name });
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        let req = alm(model, &["revisions"]).method(Method::POST).json(body);
        let body: RevisionsBody = self.json(req).await?;
        body.first().ok_or_else(|| AnaplanError::Protocol("the answer has no revision".into()))
    }

    /// Starts a sync of `revisions` into `target`.
    pub async fn start_sync(&self, target: &ModelId, revisions: &SyncRevisions) -> Result<AlmTask, AnaplanError> {
        let req = alm(target, &["syncTasks"]).method(Method::POST).json(revisions.body());
        task_of(self.json(req).await?)
    }

    /// The model's sync tasks in progress or completed within 48 hours (none when the key is
    /// absent, as the description says of an empty list).
    pub async fn sync_tasks(&self, target: &ModelId) -> Result<Vec<AlmTask>, AnaplanError> {
        #[derive(Deserialize)]
        struct Tasks {
            tasks: Option<Vec<AlmTask>>,
        }
        let body: Tasks = self.json(alm(target, &["syncTasks"])).await?;
        Ok(body.tasks.unwrap_or_default())
    }

    /// A sync task's state and result.
    pub async fn sync_task(&self, target: &ModelId, task: &RevisionId) -> Result<AlmTask, AnaplanError> {
        task_of(self.json(alm(target, &["syncTasks", task.as_str()])).await?)
    }

    /// Starts a report task comparing `revisions` (a report changes nothing: safe to repeat).
    pub async fn start_report(
        &self,
        target: &ModelId,
        kind: ReportKind,
        revisions: &SyncRevisions,
    ) -> Result<AlmTask, AnaplanError> {
        let req = alm(target, &[kind.tasks()]).method(Method::POST).json(revisions.body()).replayable();
        task_of(self.json(req).await?)
    }

    /// A report task's state and result.
    pub async fn report_task(
        &self,
        target: &ModelId,
        kind: ReportKind,
        task: &RevisionId,
    ) -> Result<AlmTask, AnaplanError> {
        task_of(self.json(alm(target, &[kind.tasks(), task.as_str()])).await?)
    }

    /// The comparison report (TSV) of a completed comparison task.
    pub async fn comparison_report(
        &self,
        target: &ModelId,
        target_revision: &RevisionId,
        source_revision: &RevisionId,
    ) -> Result<bytes::Bytes, AnaplanError> {
        let req = alm(target, &["comparisonReports", target_revision.as_str(), source_revision.as_str()])
            .accept("application/octet-stream");
        self.bytes(req).await
    }

    /// The summary report (Anaplan's JSON, `summaryReport` included) of a completed summary task.
    pub async fn summary_report(
        &self,
        target: &ModelId,
        target_revision: &RevisionId,
        source_revision: &RevisionId,
    ) -> Result<Value, AnaplanError> {
        self.json(alm(target, &["summaryReports", target_revision.as_str(), source_revision.as_str()])).await
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

    const TARGET: &str = "75A40874E6B64FA3AE0743278996850F";
    const SOURCE: &str = "75A40874E6B64FA3AE0743278996850E";
    const REV: &str = "B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5";

    #[test]
    fn revision_ids_are_uppercase_hex() {
        assert!(RevisionId::parse(REV).is_ok());
        for bad in ["b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5", "B2C3", "", "B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4EG"] {
            assert!(RevisionId::parse(bad).unwrap_err().to_string().contains("revisionId"), "{bad}");
        }
    }

    struct Fake {
        seen: Mutex<Vec<String>>,
    }

    async fn answer(State(fake): State<Arc<Fake>>, req: Request) -> Response {
        let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
        let query = req.uri().query().unwrap_or("").to_owned();
        let accept = req.headers().get("accept").map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default();
        let body = axum::body::to_bytes(req.into_body(), 4096).await.unwrap();
        fake.seen.lock().unwrap().push(format!("{method} {path}?{query} {accept} {}", String::from_utf8_lossy(&body)));
        let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
        let rev = json!({"id": REV, "name": "R1", "createdOn": "2026-11-01T10:00:00.000Z", "appliedBy": "x"});
        let alm = format!("/2/0/models/{TARGET}/alm");
        match (method.as_str(), path.strip_prefix(&alm).unwrap_or("")) {
            ("GET", "/latestRevision") => ok(json!({"meta": {"schema": "x"}, "status": {"code": 200}})),
            ("GET", "/revisions") => ok(json!({"meta": {"paging": {"totalSize": 1}}, "revisions": [rev]})),
            ("GET", "/syncableRevisions") => ok(json!({"revisions": [rev]})),
            ("POST", "/revisions") => (StatusCode::CREATED, axum::Json(json!({"revision": rev}))).into_response(),
            ("POST", "/syncTasks") => {
                (StatusCode::CREATED, axum::Json(json!({"task": {"taskId": REV, "taskState": "IN_PROGRESS"}})))
                    .into_response()
            }
            ("GET", p) if p == format!("/syncTasks/{REV}") => ok(json!({"task": {
                "taskId": REV, "taskState": "COMPLETE",
                "result": {"successful": false, "error": {"title": "t", "messageText": "m"}}}})),
            ("GET", p) if p.starts_with("/comparisonReports/") => (StatusCode::OK, "a\tb\n").into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    #[tokio::test]
    async fn the_client_sends_what_the_description_documents_and_reads_both_latest_shapes() {
        let fake = Arc::new(Fake { seen: Mutex::new(Vec::new()) });
        let client = client_of_stand_in(Router::new().fallback(answer).with_state(fake.clone())).await;
        let (target, source) = (ModelId::parse(TARGET).unwrap(), ModelId::parse(SOURCE).unwrap());
        let rev = RevisionId::parse(REV).unwrap();
        assert_eq!(client.latest_revision(&target).await.unwrap(), None, "no key is no revision");
        let all = client.revisions(&target).await.unwrap();
        assert_eq!((all.len(), all[0].other["appliedBy"].as_str()), (1, Some("x")));
        assert_eq!(client.syncable_revisions(&target, &source).await.unwrap().len(), 1);
        let made = client.create_revision(&target, "R1", Some("d")).await.unwrap();
        assert_eq!(made.id, REV, "a `revision` object is read as well as a `revisions` list");
        let revs = SyncRevisions { source_model: source, source_revision: rev.clone(), target_revision: rev.clone() };
        assert!(!client.start_sync(&target, &revs).await.unwrap().is_complete());
        let done = client.sync_task(&target, &rev).await.unwrap();
        assert!(done.is_complete() && !done.successful());
        assert_eq!(&client.comparison_report(&target, &rev, &rev).await.unwrap()[..], b"a\tb\n");
        let seen = fake.seen.lock().unwrap().clone();
        let alm = format!("/2/0/models/{TARGET}/alm");
        assert!(seen[2].starts_with(&format!("GET {alm}/syncableRevisions?sourceModelId={SOURCE} ")), "{seen:?}");
        assert!(seen[3].ends_with(r#"{"name":"R1","description":"d"}"#), "{seen:?}");
        assert!(
            seen[4].ends_with(&format!(
                r#"{{"sourceRevisionId":"{REV}","sourceModelId":"{SOURCE}","targetRevisionId":"{REV}"}}"#
            )),
            "{seen:?}"
        );
        assert!(seen[6].contains(" application/octet-stream "), "{seen:?}");
    }
}
