//! The router: what the Functions host forwards goes to the function declared for it. HTTP
//! functions answer `/api/<name>` with the methods and body limit of their declaration (a
//! body is refused by method and size before it is read, see [`crate::http::body`]);
//! timer functions answer the host's `POST /<name>` (JSON invocation format).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::declare::{Function, RequestBody, Trigger};
use crate::http::{AppState, Call, Problem, ProblemType, ROUTE_PREFIX};

/// The router: `GET /` for the host's readiness probe, then `functions` (the handler's are
/// [`crate::functions::FUNCTIONS`]; tests declare their own).
pub fn router_for(state: AppState, functions: &'static [&'static Function]) -> Router {
    Router::new()
        .route("/", get(|| async { "anaplan-functions is running" }))
        .fallback(move |state, req| dispatch(state, functions, req))
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

/// The function `path` names: `/api/<name>` for HTTP triggers, `/<name>` for timers.
fn find(functions: &'static [&'static Function], path: &str) -> Option<&'static Function> {
    let path = path.to_ascii_lowercase();
    let path = path.trim_end_matches('/');
    functions.iter().copied().find(|f| match f.trigger {
        Trigger::Http { .. } | Trigger::Page { .. } => path.strip_prefix(ROUTE_PREFIX) == Some(f.name),
        Trigger::Timer { .. } => path.strip_prefix('/') == Some(f.name),
    })
}

async fn dispatch(
    State(state): State<Arc<AppState>>,
    functions: &'static [&'static Function],
    req: Request,
) -> Response {
    let received = tokio::time::Instant::now();
    let Some(function) = find(functions, req.uri().path()) else {
        return Problem::new(
            ProblemType::NoSuchFunction,
            format!(
                "no function answers {}; the functions are {}",
                req.uri().path(),
                functions
                    .iter()
                    .filter(|f| matches!(f.trigger, Trigger::Http { .. } | Trigger::Page { .. }))
                    .map(|f| format!("{ROUTE_PREFIX}{}", f.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into_response();
    };
    let methods = function.methods();
    if !methods.contains(req.method()) {
        let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        let mut resp = Problem::new(
            ProblemType::MethodNotAllowed,
            format!("{} does not take {}; it takes {allow}", function.name, req.method()),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&allow) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        return resp;
    }
    let (parts, body) = req.into_parts();
    // Refused from Content-Length before it is read, or as soon as it streams past the limit.
    let body = match crate::http::body::read(function.name, &parts.method, &parts.headers, body, function.max_body())
        .await
    {
        Ok(b) => b,
        Err(problem) => {
            tracing::info!(status = problem.status().as_u16(), detail = %problem.body()["detail"], "request refused");
            return problem.into_response();
        }
    };
    let name = function.name;
    let call = Call {
        function: name,
        accepted: function.accepted(),
        body_is_file: matches!(function.trigger, Trigger::Http { body: RequestBody::File | RequestBody::Data, .. }),
        method: parts.method,
        headers: parts.headers,
        query: parts.uri.query().map(str::to_owned),
        body,
        forwarded_hosts: state.forwarded_hosts.clone(),
        received,
        deadline: received + state.transfers.answer_deadline,
    };
    let deadline = call.deadline;
    match tokio::time::timeout_at(deadline, (function.handler)(&state, call)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(problem)) => {
            if problem.status().is_server_error() {
                tracing::warn!(status = problem.status().as_u16(), detail = %problem.body()["detail"], "request failed");
            } else {
                tracing::info!(status = problem.status().as_u16(), detail = %problem.body()["detail"], "request refused");
            }
            problem.into_response()
        }
        Err(_) => Problem::new(ProblemType::AnswerDeadline, format!(
            "{name} did not finish within {} s, the longest a single answer may take; Anaplan may be busy, try again later",
            state.transfers.answer_deadline.as_secs()
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machinery::declare::BoxFuture;

    fn answer<'a>(_: &'a AppState, call: Call) -> BoxFuture<'a, Result<Response, Problem>> {
        Box::pin(async move { Ok(call.function.into_response()) })
    }

    const TIMER: Function = Function {
        name: "refresh-cloudworks-sas",
        trigger: Trigger::Timer { schedule: "%CLOUDWORKS_SAS_SCHEDULE%" },
        inputs: &[],
        long_running: None,
        operation: None,
        more_operations: &[],
        schemas: &[],
        group: None,
        handler: answer,
    };

    const LIST: Function = Function {
        name: "list-items",
        trigger: Trigger::Http { methods: &[Method::POST], body: RequestBody::Parameters },
        inputs: &[],
        long_running: None,
        operation: None,
        more_operations: &[],
        schemas: &[],
        group: None,
        handler: answer,
    };

    const BOTH: &[&Function] = &[&TIMER, &LIST];

    #[test]
    fn timers_answer_the_hosts_invocation_path_and_http_functions_their_route() {
        assert_eq!(find(BOTH, "/refresh-cloudworks-sas").map(|f| f.name), Some("refresh-cloudworks-sas"));
        assert!(find(BOTH, "/api/refresh-cloudworks-sas").is_none(), "a timer is not an HTTP route");
        assert_eq!(find(BOTH, "/API/List-Items/").map(|f| f.name), Some("list-items"));
        assert!(find(BOTH, "/list-items").is_none());
        assert!(find(BOTH, "/api/").is_none());
        assert_eq!(TIMER.methods(), &[Method::POST]);
    }

    #[test]
    fn functions_without_an_operation_stay_out_of_the_connector() {
        let doc = crate::machinery::openapi::swagger(BOTH);
        assert_eq!(doc["paths"], serde_json::json!({}));
    }
}
