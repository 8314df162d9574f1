//! What every function shares: the router that receives what the Functions host forwards,
//! the request context ([`Call`]), parameters, and problem+json errors.

pub mod idempotency;
pub mod long_running;
pub mod params;
pub mod problem;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use params::{ObjectRef, Params};
pub use problem::Problem;

use crate::anaplan::ids::{ModelId, WorkspaceId};
use crate::anaplan::{AnaplanError, Catalog, Client, Listing};
use crate::functions::{self, FUNCTIONS};
use crate::secret::Secret;
use crate::storage::{BlobAccount, JsonStore};

/// The route prefix of host.json (`extensions.http.routePrefix`).
pub const ROUTE_PREFIX: &str = "/api/";

/// No answer takes longer than this (the contract says 110 s; Logic Apps cuts synchronous
/// calls at 120 s and Azure's front end at 230 s).
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(105);

/// State shared by every request.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Anaplan client with the app's own credentials.
    pub anaplan: Client,
    /// Listings for name resolution.
    pub catalog: Catalog,
    /// True when each caller must bring its own Anaplan token.
    pub caller_auth: bool,
    /// `Retry-After` for 202 answers.
    pub poll_seconds: u64,
    /// The app's own storage account (`AzureWebJobsStorage`): shared state.
    pub app_storage: Option<Arc<BlobAccount>>,
    /// Where exports to Blob go (`EXPORT_STORAGE_URL`, else the app's account).
    pub export_storage: Option<Arc<BlobAccount>>,
    /// The container of shared-state records, opened on first use (never before the
    /// port is bound).
    pub state_store: Arc<tokio::sync::OnceCell<JsonStore>>,
}

/// The container that holds the handler's shared state in the app's storage account.
pub const STATE_CONTAINER: &str = "anaplan-functions-state";

impl AppState {
    /// The account exports and blob imports use.
    pub fn export_storage(&self) -> Option<&BlobAccount> {
        self.export_storage.as_deref().or(self.app_storage.as_deref())
    }

    /// The shared-state store (idempotency records), opened on first use.
    pub async fn state_store(&self) -> Result<&JsonStore, Problem> {
        let Some(account) = self.app_storage.as_deref() else {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "state-storage-unavailable",
                "State storage unavailable",
                "Idempotency-Key needs the app's storage account, which is not configured: set AzureWebJobsStorage (locally `UseDevelopmentStorage=true` with Azurite running (scripts/azurite.sh start)), or send the request without Idempotency-Key",
            ));
        };
        self.state_store.get_or_try_init(|| JsonStore::open(account, STATE_CONTAINER)).await.map_err(|e| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "state-storage-unavailable",
                "State storage unavailable",
                format!("the app's storage account (AzureWebJobsStorage) could not be used: {e}"),
            )
        })
    }

    /// The workspace named by `r`.
    pub async fn workspace(&self, client: &Client, r: ObjectRef<WorkspaceId>) -> Result<WorkspaceId, Problem> {
        match r {
            ObjectRef::Id(id) => Ok(id),
            ObjectRef::Name(name) => {
                let found = self.catalog.resolve(client, &Listing::Workspaces, &name).await?;
                WorkspaceId::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()).into())
            }
        }
    }

    /// The model named by `r` in workspace `ws`.
    pub async fn model(&self, client: &Client, ws: &WorkspaceId, r: ObjectRef<ModelId>) -> Result<ModelId, Problem> {
        match r {
            ObjectRef::Id(id) => Ok(id),
            ObjectRef::Name(name) => {
                let found = self.catalog.resolve(client, &Listing::Models(ws.clone()), &name).await?;
                ModelId::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()).into())
            }
        }
    }
}

/// One forwarded request, as a function sees it.
#[derive(Debug)]
pub struct Call {
    /// HTTP method.
    pub method: Method,
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw query string.
    pub query: Option<String>,
    /// Request body.
    pub body: Bytes,
}

impl Call {
    /// The parameters from query and body; `allowed` lists the function's names.
    pub fn params(&self, allowed: &[&str]) -> Result<Params, Problem> {
        Params::collect(&self.method, self.query.as_deref(), &self.headers, &self.body, allowed)
    }

    /// The parameters from the query string alone (for functions whose body is a file).
    pub fn query_params(&self, allowed: &[&str]) -> Result<Params, Problem> {
        Params::collect(&self.method, self.query.as_deref(), &self.headers, &[], allowed)
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
                StatusCode::UNAUTHORIZED,
                "caller-token-required",
                "Anaplan token required",
                "this app acts with the caller's own Anaplan token: send Authorization: Bearer <Anaplan access token>",
            )),
        }
    }
}

/// The router: `GET /` for the host's readiness probe, `/api/<function>` for functions.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { "anaplan-functions is running" }))
        .fallback(dispatch)
        .with_state(Arc::new(state))
        .layer(
            TraceLayer::new_for_http()
                // The span carries the path but never the query string: it holds the
                // function key (`code`).
                .make_span_with(|req: &Request<Body>| {
                    let invocation = req
                        .headers()
                        .get("x-azure-functions-invocationid")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), invocation_id = %invocation)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

async fn dispatch(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let path = req.uri().path().to_ascii_lowercase();
    let name = path.strip_prefix(ROUTE_PREFIX).map(|n| n.trim_end_matches('/'));
    let Some(function) = name.and_then(|n| FUNCTIONS.iter().find(|f| f.name == n)) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "no-such-function",
            "No such function",
            format!(
                "no function answers {}; the functions are {}",
                req.uri().path(),
                FUNCTIONS.iter().map(|f| format!("{ROUTE_PREFIX}{}", f.name)).collect::<Vec<_>>().join(", ")
            ),
        )
        .into_response();
    };
    if !function.methods.contains(req.method()) {
        let allow = function.methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        let mut resp = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("{} does not take {}; it takes {allow}", function.name, req.method()),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&allow) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        return resp;
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, function.max_body).await {
        Ok(b) => b,
        Err(_) => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Body too large",
                format!("{} reads a request body of at most {} bytes", function.name, function.max_body),
            )
            .into_response();
        }
    };
    let call = Call { method: parts.method, headers: parts.headers, query: parts.uri.query().map(str::to_owned), body };
    let name = function.name;
    match tokio::time::timeout(ANSWER_DEADLINE, functions::invoke(&state, name, call)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(problem)) => {
            if problem.status().is_server_error() {
                tracing::warn!(status = problem.status().as_u16(), detail = %problem.body()["detail"], "request failed");
            } else {
                tracing::info!(status = problem.status().as_u16(), detail = %problem.body()["detail"], "request refused");
            }
            problem.into_response()
        }
        Err(_) => Problem::new(StatusCode::GATEWAY_TIMEOUT, "answer-deadline", "Took too long", format!(
            "{name} did not finish within {} s, the longest a single answer may take; Anaplan may be busy, try again later",
            ANSWER_DEADLINE.as_secs()
        ))
        .into_response(),
    }
}
