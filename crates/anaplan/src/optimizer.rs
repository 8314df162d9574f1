//! Optimizer actions: which steps of a process are Optimizer actions (the process metadata
//! names them by `actionType` `OPTIMIZER`), and the solver log Anaplan keeps of a run
//! (`GET …/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs`, `text/plain`).
//!
//! The live-tested description: the log needs the Workspace Administrator role (403 for
//! anyone else, before any id is read, so a 403 says nothing about the log); `actionId` must
//! be the Optimizer action (the process's own id is a 404); the task id of the process that
//! ran it serves as the correlation id; no log is a 404 (which Anaplan also answers for an
//! unknown route and masks a NO ACCESS role with).

use serde::Deserialize;

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{ActionId, ModelId, TaskId, WorkspaceId};
use super::tasks::{Action, ActionRef};

/// `actionType` of an Optimizer action.
pub const OPTIMIZER: &str = "OPTIMIZER";

/// One step of a process, as its metadata names it (in run order).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStep {
    /// The action's id (`112…` import, `116…` export, `117…` other action).
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// `IMPORT`, `EXPORT`, `DELETE_BY_SELECTION`, `ORDER_HIERARCHY`, `OPTIMIZER`... (the
    /// description's list is not exhaustive).
    #[serde(default)]
    pub action_type: String,
}

impl ProcessStep {
    /// Whether the step is an Optimizer action.
    pub fn is_optimizer(&self) -> bool {
        self.action_type == OPTIMIZER
    }

    /// Its id as an other action's (`117…`), when it is one.
    pub fn action_id(&self) -> Option<ActionId> {
        ActionId::parse(&self.id).ok()
    }
}

/// What Anaplan answered for a solution log.
#[derive(Debug)]
pub enum SolutionLog {
    /// 200: the log, its body not read yet (`text/plain`).
    Found(reqwest::Response),
    /// 403: the identity is below Workspace Administrator (the log may or may not exist).
    Forbidden(AnaplanError),
    /// 404: no log for that action and correlation id.
    Missing,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessBody {
    process_metadata: ProcessMetadata,
}

#[derive(Deserialize)]
struct ProcessMetadata {
    /// Absent when the process has no steps.
    #[serde(default)]
    actions: Vec<ProcessStep>,
}

impl Client {
    /// The steps of a process, in run order (`GET …/processes/{processId}`).
    pub async fn process_steps(&self, process: &ActionRef) -> Result<Vec<ProcessStep>, AnaplanError> {
        if !matches!(process.action, Action::Process(_)) {
            return Err(AnaplanError::Protocol("only a process has steps".into()));
        }
        let body: ProcessBody = self.json(ApiRequest::get(process.segments(&[]))).await?;
        Ok(body.process_metadata.actions)
    }

    /// The solver log of Optimizer action `action` for `correlation` (the task id of the
    /// process that ran it). The body is left unread: a check of whether the log exists
    /// drops it, a download streams it.
    pub async fn solution_log(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        action: &ActionId,
        correlation: &TaskId,
    ) -> Result<SolutionLog, AnaplanError> {
        let segments = [
            "workspaces",
            ws.as_str(),
            "models",
            model.as_str(),
            "optimizeActions",
            action.as_str(),
            "tasks",
            correlation.as_str(),
            "solutionLogs",
        ];
        match self.send(ApiRequest::get(segments).accept("text/plain")).await {
            Ok(resp) => Ok(SolutionLog::Found(resp)),
            Err(e @ AnaplanError::Api { status: 403, .. }) => Ok(SolutionLog::Forbidden(e)),
            Err(AnaplanError::Api { status: 404, .. }) => Ok(SolutionLog::Missing),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_steps_read_the_metadata_and_tell_the_optimizer_apart() {
        let body: ProcessBody = serde_json::from_value(serde_json::json!({
            "meta": {"schema": "x"},
            "status": {"code": 200, "message": "Success"},
            "processMetadata": {"name": "P", "actions": [
                {"id": "112000000001", "name": "Load", "actionType": "IMPORT", "importDataSourceId": "113000000001"},
                {"id": "117000000003", "name": "Solve", "actionType": "OPTIMIZER"},
            ]},
        }))
        .unwrap();
        let steps = body.process_metadata.actions;
        assert!(!steps[0].is_optimizer() && steps[1].is_optimizer());
        assert_eq!(steps[1].action_id().unwrap().as_str(), "117000000003");
        assert!(steps[0].action_id().is_none(), "an import's id is not an other action's");
        let empty: ProcessBody = serde_json::from_value(serde_json::json!({"processMetadata": {"name": "E"}})).unwrap();
        assert!(empty.process_metadata.actions.is_empty());
    }
}
