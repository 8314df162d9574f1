//! What every function shares: the request context ([`Call`]), parameters, problem+json
//! errors, the asynchronous pattern and idempotency. It knows no function: the router and
//! the declarations live in [`crate::functions`], and data flows from there to here only.

pub mod body;
pub mod idempotency;
pub mod long_running;
pub mod params;
pub mod problem;
pub mod problem_types;
pub mod strict_json;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, header};

pub use params::{ModelRef, ObjectRef, Params};
pub use problem::{Problem, ProblemType};

use crate::storage::{AllowedContainers, BlobAccount, JsonStore};
use anaplan::ids::{Id, ModelId, WorkspaceId};
use anaplan::secret::Secret;
use anaplan::{Catalog, Client, Found, Listing};

/// The route prefix of host.json (`extensions.http.routePrefix`).
pub const ROUTE_PREFIX: &str = "/api/";

/// A JSON answer: `status`, `Content-Type: application/json` and `v` as written.
pub fn json_answer(status: axum::http::StatusCode, v: &serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut resp = (status, v.to_string()).into_response();
    resp.headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    resp
}

/// State shared by every request.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Anaplan client with the app's own credentials.
    pub anaplan: Client,
    /// Listings for name resolution.
    pub catalog: Catalog,
    /// True when each caller must bring its own Anaplan token.
    pub caller_auth: bool,
    /// Which Anaplan user each caller token is (scopes that outlive a token refresh).
    pub caller_users: Arc<anaplan::auth::CallerUsers>,
    /// `Retry-After` for 202 answers.
    pub poll_seconds: u64,
    /// `FORWARDED_HOSTS`: the only values of `X-Forwarded-Host` a status URL may carry.
    pub forwarded_hosts: Arc<[String]>,
    /// The app's own storage account (`AzureWebJobsStorage`): shared state.
    pub app_storage: Option<Arc<BlobAccount>>,
    /// Where exports to Blob go (`EXPORT_STORAGE_URL`, else the app's account).
    pub export_storage: Option<Arc<BlobAccount>>,
    /// `BLOB_CONTAINERS`: the only containers transfers may use.
    pub blob_containers: Arc<AllowedContainers>,
    /// CloudWorks (`ANAPLAN_CLOUDWORKS_URL`), with the app's own credentials.
    pub cloudworks: Client,
    /// What the `refresh-cloudworks-sas` timer renews, and for how long.
    pub cloudworks_settings: crate::config::CloudWorksSettings,
    /// The container of shared-state records, opened on first use (never before the
    /// port is bound).
    pub state_store: Arc<tokio::sync::OnceCell<JsonStore>>,
    /// SCIM (`users`): its base and the optional SCIM API key.
    pub scim: anaplan::scim::ScimApi,
    /// The Audit API (`audit-events`).
    pub audit: anaplan::audit::AuditApi,
    /// The administration APIs on the API host (`exception-users`, `tenant-users`).
    pub admin: anaplan::admin::AdminApi,
    /// How transfers run, and the answer deadline.
    pub transfers: crate::config::TransferSettings,
    /// `TRANSFER_MEMORY_MB`: the chunk bytes every transfer on this instance draws from.
    pub budget: Arc<crate::machinery::budget::TransferBudget>,
    /// This process, as the owner of the transfers it runs.
    pub instance: Arc<str>,
    /// Transfer records when the app has no storage account (this instance only).
    pub local_records: Arc<crate::storage::LocalRecords>,
    /// The app's own sign-in, for `health` and `keep-signed-in`.
    pub sign_in: Arc<crate::sign_in::SignIn>,
}

/// The container that holds the handler's shared state in the app's storage account.
pub const STATE_CONTAINER: &str = "anaplan-functions-state";

impl AppState {
    /// The account exports and blob imports use.
    pub fn export_storage(&self) -> Option<&BlobAccount> {
        self.export_storage.as_deref().or(self.app_storage.as_deref())
    }

    /// Checks that a transfer may use `container` (`BLOB_CONTAINERS`): a 400 naming the
    /// setting otherwise, before anything is asked of Anaplan or of storage.
    pub fn transfer_container(&self, container: &str) -> Result<(), Problem> {
        self.blob_containers.check(container).map_err(|e| Problem::new(ProblemType::ContainerNotAllowed, e.to_string()))
    }

    /// Where records of work that outlives one answer live: the shared store when the app
    /// has a storage account, else this process's memory.
    pub async fn records(&self) -> Result<crate::storage::Records, Problem> {
        if self.app_storage.is_some() {
            Ok(crate::storage::Records::Shared(self.state_store().await?.clone()))
        } else {
            Ok(crate::storage::Records::Local(self.local_records.clone()))
        }
    }

    /// The shared-state store (idempotency records), opened on first use.
    pub async fn state_store(&self) -> Result<&JsonStore, Problem> {
        let Some(account) = self.app_storage.as_deref() else {
            return Err(Problem::new(
                ProblemType::StateStorageUnavailable,
                "Idempotency-Key needs the app's storage account, which is not configured: set AzureWebJobsStorage (locally `UseDevelopmentStorage=true` with Azurite running (scripts/azurite.sh start)), or send the request without Idempotency-Key",
            ));
        };
        self.state_store.get_or_try_init(|| JsonStore::open(account, STATE_CONTAINER)).await.map_err(|e| {
            Problem::new(
                ProblemType::StateStorageUnavailable,
                format!("the app's storage account (AzureWebJobsStorage) could not be used: {e}"),
            )
        })
    }

    /// The object `r` names in `what` (see [`Catalog::find`]).
    pub async fn find<T: Id>(&self, client: &Client, what: &Listing, r: ObjectRef<T>) -> Result<Found<T>, Problem> {
        Ok(self.catalog.find(client, what, r).await?)
    }

    /// The workspace named by `r`.
    pub async fn workspace(&self, client: &Client, r: ObjectRef<WorkspaceId>) -> Result<WorkspaceId, Problem> {
        Ok(self.find(client, &Listing::Workspaces, r).await?.id)
    }

    /// The workspace and model `m` names.
    pub async fn model(&self, client: &Client, m: ModelRef) -> Result<(WorkspaceId, ModelId), Problem> {
        let ws = self.workspace(client, m.workspace).await?;
        let model = self.find(client, &Listing::Models(ws.clone()), m.model).await?.id;
        Ok((ws, model))
    }
}

/// Runs CPU-heavy work (parsing or hashing a large input) on tokio's blocking threads, so
/// that no request holds an async worker while the others wait.
pub async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Problem> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "blocking work failed");
        Problem::new(ProblemType::InternalError, "the request could not be processed")
    })
}

/// One forwarded request, as a function sees it.
#[derive(Debug)]
pub struct Call {
    /// The function's name (its route, `/api/<function>`).
    pub function: &'static str,
    /// The parameter names the function accepts (from its declaration).
    pub accepted: Vec<String>,
    /// True when the body is a file: parameters then come from the query string alone.
    pub body_is_file: bool,
    /// HTTP method.
    pub method: Method,
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw query string.
    pub query: Option<String>,
    /// Request body.
    pub body: Bytes,
    /// `FORWARDED_HOSTS` (see [`AppState::forwarded_hosts`]).
    pub forwarded_hosts: Arc<[String]>,
    /// When the request arrived: [`crate::config::ANSWER_DEADLINE`] and `wait` count from here.
    pub received: tokio::time::Instant,
    /// When the answer must have been given (`ANSWER_DEADLINE_SECONDS` after `received`).
    pub deadline: tokio::time::Instant,
}

impl Call {
    /// The parameters from query and body (the query alone when the body is a file); a name
    /// the function does not accept is a 400.
    pub fn params(&self) -> Result<Params, Problem> {
        let body: &[u8] = if self.body_is_file { &[] } else { &self.body };
        Params::collect(&self.method, self.query.as_deref(), &self.headers, body, &self.accepted)
    }

    /// The Anaplan client for this call: the app's own, or (auth method `caller`) one with
    /// the caller's `Authorization: Bearer` token. Without one that is a 401 and Anaplan is
    /// not called.
    pub fn client(&self, state: &AppState) -> Result<Client, Problem> {
        if !state.caller_auth {
            return Ok(state.anaplan.clone());
        }
        let token = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
            .map(|(_, token)| Secret::new(token.trim()));
        match token {
            Some(t) => Ok(state.anaplan.with_caller_token(t)),
            None => Err(Problem::new(
                ProblemType::CallerTokenRequired,
                "this app acts with the caller's own Anaplan token: send Authorization: Bearer <Anaplan access token>",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[tokio::test]
    async fn blocking_work_answers_its_value_and_a_panic_is_a_500_without_its_message() {
        assert_eq!(off_runtime(|| 6 * 7).await.unwrap(), 42);
        let p = off_runtime(|| -> u32 { panic!("secret-looking text") }).await.unwrap_err();
        assert_eq!(p.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!p.body().to_string().contains("secret-looking"), "{}", p.body());
    }
}
