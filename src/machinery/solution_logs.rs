//! Optimizer solution logs of a process's task: which failed steps are Optimizer actions
//! (the process metadata, read only when a failed step is an other action), whether
//! Anaplan kept a log for one (its `solutionLogUrl` in the 422), and the log itself as
//! text for a status check with `solutionLog=<actionId>`, streamed.
//!
//! Anaplan keeps the log under `…/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs`,
//! where the process task's id serves as the correlation id, and serves it to Workspace
//! Administrators only (403 to anyone else, whether or not the log exists).

use std::collections::HashSet;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::task_call::TaskCall;
use crate::http::{Problem, ProblemType};
use anaplan::AnaplanError;
use anaplan::ids::{ActionId, TaskId};
use anaplan::optimizer::SolutionLog;
use anaplan::tasks::{Action, Step};

/// The status check's parameter: `solutionLog=<actionId>`.
pub const PARAM: &str = "solutionLog";

/// What the process metadata says of a task's Optimizer steps.
pub enum OptimizerSteps {
    /// Not asked: not a process, or no failed step is an other action (`117…`), the only
    /// kind an Optimizer action is.
    NotAsked,
    /// The ids of the process's Optimizer actions.
    Known(HashSet<String>),
    /// The metadata could not be read: why.
    Unknown(String),
}

impl OptimizerSteps {
    /// Whether `step` may be an Optimizer action (an other action's id).
    fn may_be(step: &Step) -> bool {
        ActionId::parse(&step.object_id).is_ok()
    }
}

impl TaskCall<'_> {
    /// The Optimizer actions of this process, read by `by` when one of `failed` may be one.
    pub async fn optimizer_steps(&self, failed: &[Step], by: Instant) -> OptimizerSteps {
        if !matches!(self.action.action, Action::Process(_)) || !failed.iter().any(OptimizerSteps::may_be) {
            return OptimizerSteps::NotAsked;
        }
        match tokio::time::timeout_at(by, self.client.process_steps(&self.action)).await {
            Ok(Ok(steps)) => {
                OptimizerSteps::Known(steps.into_iter().filter(|s| s.is_optimizer()).map(|s| s.id).collect())
            }
            Ok(Err(e)) => OptimizerSteps::Unknown(e.to_string()),
            Err(_) => OptimizerSteps::Unknown("it was not read within this answer's time".to_owned()),
        }
    }

    /// For a failed step of a task: its `solutionLogUrl` when it is an Optimizer action and
    /// Anaplan has its log (checked by `by`), else why there is none in `details` (nothing
    /// when Anaplan simply has no log).
    pub async fn add_solution_log(
        &self,
        (task, step): (&TaskId, &Step),
        optimizers: &OptimizerSteps,
        by: Instant,
        entry: &mut Value,
        details: &mut Vec<String>,
    ) {
        let action = match optimizers {
            OptimizerSteps::Known(ids) if ids.contains(&step.object_id) => ActionId::parse(&step.object_id),
            OptimizerSteps::Unknown(why) if OptimizerSteps::may_be(step) => {
                details.push(format!(
                    "Whether this step is an Optimizer action with a solution log could not be told: the process's \
                     metadata could not be read ({why})."
                ));
                return;
            }
            _ => return,
        };
        let Ok(action) = action else { return };
        let a = &self.action;
        match tokio::time::timeout_at(by, self.client.solution_log(&a.workspace, &a.model, &action, task)).await {
            // Only whether it exists matters here: the body is left unread.
            Ok(Ok(SolutionLog::Found(_))) => {
                if let Some(url) = self.solution_log_url(task, &action) {
                    entry["solutionLogUrl"] = json!(url);
                }
            }
            Ok(Ok(SolutionLog::Forbidden(_))) => details.push(
                "Anaplan lets only a Workspace Administrator read an Optimizer's solution log, and refused this \
                 identity, so whether it kept one for this step is unknown."
                    .to_owned(),
            ),
            Ok(Ok(SolutionLog::Missing)) => {}
            Ok(Err(e)) => details.push(format!("The Optimizer's solution log could not be looked for: {e}")),
            Err(_) => details.push(format!(
                "Whether Anaplan kept the Optimizer's solution log was not checked within this answer's time; a GET \
                 on the status URL with {PARAM}={action} answers with it."
            )),
        }
    }

    /// The status URL with `solutionLog=<action>`.
    fn solution_log_url(&self, task: &TaskId, action: &ActionId) -> Option<String> {
        let url = self.status_url(task).ok()?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let param: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair(PARAM, action.as_str()).finish();
        Some(format!("{url}{sep}{param}"))
    }

    /// The solution log of Optimizer step `action` of `task`, as text (GET with
    /// `solutionLog=`), streamed and cut off at the answer deadline.
    pub async fn solution_log(&self, task: &TaskId, action: &ActionId) -> Result<Response, Problem> {
        self.owned_task(task).await?;
        let steps = self.client.process_steps(&self.action).await?;
        if !steps.iter().any(|s| s.is_optimizer() && s.id == action.as_str()) {
            return Err(Problem::new(
                ProblemType::SolutionLogNotFound,
                format!(
                    "action {action} is not an Optimizer step of process {}: {PARAM} takes the objectId of a failed \
                     Optimizer step",
                    self.action.action.id()
                ),
            ));
        }
        let a = &self.action;
        match self.client.solution_log(&a.workspace, &a.model, action, task).await? {
            SolutionLog::Found(resp) => {
                let body = resp.bytes_stream().map_err(std::io::Error::other);
                let stream = crate::http::body::cut_at(self.call.deadline, body);
                let mut resp = (StatusCode::OK, axum::body::Body::from_stream(stream)).into_response();
                resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                Ok(resp)
            }
            SolutionLog::Forbidden(e) => Err(forbidden(e)),
            SolutionLog::Missing => Err(Problem::new(
                ProblemType::SolutionLogNotFound,
                format!("Anaplan has no solution log of Optimizer step {action} for task {task}"),
            )
            .with("taskId", json!(task.as_str()))),
        }
    }
}

/// Anaplan's 403 for a solution log, said plainly: the description's reason.
fn forbidden(e: AnaplanError) -> Problem {
    let message = match &e {
        AnaplanError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    };
    Problem::new(
        ProblemType::AnaplanForbidden,
        "Anaplan refused to give the Optimizer's solution log: reading it needs the Workspace Administrator role \
         in the model's workspace",
    )
    .with("anaplan", json!({ "status": 403, "message": message }))
}
