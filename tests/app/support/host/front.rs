//! The public HTTP front end: route, check method and key, then forward the request to the
//! handler the way `DefaultHttpWorkerService.ProcessHttpInAndOutInvocationRequest` does (§1.4 A).

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::Invocation;
use super::config::{AuthLevel, FunctionDef};
use super::route::path_segments;

/// The host version this harness claims to be, in the headers it adds.
pub(super) const HOST_VERSION: &str = "4.1040.300.0";

/// `DefaultMaxRequestBodySize` (100 MB).
const MAX_BODY: usize = 104_857_600;

pub(super) struct Front {
    pub functions: Vec<FunctionDef>,
    pub handler_url: String,
    pub client: reqwest::Client,
    pub function_key: String,
    pub master_key: String,
    pub invocations: Arc<Mutex<Vec<Invocation>>>,
}

/// Serves every request: the front end has no routes of its own besides the functions.
pub(super) async fn handle(State(front): State<Arc<Front>>, req: Request) -> Response {
    let segments = path_segments(req.uri().path());
    // A route whose method constraint fails does not match at all, so a wrong method gives 404
    // like an unknown path. Among matches the most specific template wins.
    let Some(function) = front
        .functions
        .iter()
        .filter(|f| f.template.matches(&segments))
        .filter(|f| f.methods.as_ref().is_none_or(|ms| ms.iter().any(|m| m == req.method().as_str())))
        .min_by_key(|f| f.template.precedence())
    else {
        return status(StatusCode::NOT_FOUND);
    };
    if !front.authorized(function.auth, &req) {
        return status(StatusCode::UNAUTHORIZED);
    }
    front.forward(function, req).await
}

impl Front {
    /// `AuthenticationLevelHandler`: the `x-functions-key` header wins over the `code` query
    /// parameter; function level accepts the function or master key, admin only the master key.
    fn authorized(&self, level: AuthLevel, req: &Request) -> bool {
        if level == AuthLevel::Anonymous {
            return true;
        }
        let key = match req.headers().get("x-functions-key") {
            Some(v) => v.to_str().ok().map(str::to_owned),
            None => url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                .find(|(k, _)| k.eq_ignore_ascii_case("code"))
                .map(|(_, v)| v.into_owned()),
        };
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return false;
        };
        key == self.master_key || (level == AuthLevel::Function && key == self.function_key)
    }

    async fn forward(&self, function: &FunctionDef, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or("").to_owned();
        let content_length = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if content_length > MAX_BODY as u64 {
            return status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        // Read the body even when it is not forwarded, so the caller's connection stays sane.
        let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
            return status(StatusCode::PAYLOAD_TOO_LARGE);
        };
        // Only a request with Content-Length > 0 carries its body; a chunked one arrives empty.
        let body = if content_length > 0 { body } else { Bytes::new() };

        let invocation_id = uuid::Uuid::new_v4().to_string();
        let headers = forwarded_headers(&parts.headers, &parts.method, &invocation_id, &body);
        let mut recorded: Vec<(String, String)> =
            headers.iter().map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        // reqwest adds this default when the request has none; .NET's HttpClient would not.
        if !headers.contains_key(header::ACCEPT) {
            recorded.push(("accept".into(), "*/*".into()));
        }

        let target = match query.is_empty() {
            true => format!("{}{path}", self.handler_url),
            false => format!("{}{path}?{query}", self.handler_url),
        };
        let mut request = self.client.request(parts.method.clone(), &target).headers(headers);
        if !body.is_empty() {
            request = request.body(body.clone());
        }
        let result = async {
            let resp = request.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes))
        }
        .await;

        let (response, error) = match result {
            Ok((code, headers, bytes)) => (relay(code, &headers, bytes), None),
            // The invocation fails and the host answers 500 with no body.
            Err(e) => {
                let msg = error_chain(&e);
                eprintln!("[host] invocation {invocation_id} of {} failed: {msg}", function.info.name);
                (status(StatusCode::INTERNAL_SERVER_ERROR), Some(msg))
            }
        };
        self.invocations.lock().unwrap().push(Invocation {
            function: function.info.name.clone(),
            method: parts.method.to_string(),
            path,
            query,
            invocation_id,
            forwarded_headers: recorded,
            body_len: body.len(),
            error,
        });
        response
    }
}

/// Hop-by-hop headers: they describe one connection and are not forwarded.
fn is_hop_by_hop(name: &str, connection_listed: &[String]) -> bool {
    matches!(name, "connection" | "keep-alive" | "transfer-encoding" | "te" | "upgrade")
        || name.starts_with("proxy-")
        || connection_listed.iter().any(|c| c == name)
}

/// .NET content headers: `TryAddWithoutValidation` on request headers refuses them, so they
/// never reach the handler except Content-Length/Content-Type, which go with the body.
fn is_content_header(name: &str) -> bool {
    matches!(
        name,
        "allow"
            | "content-disposition"
            | "content-encoding"
            | "content-language"
            | "content-length"
            | "content-location"
            | "content-md5"
            | "content-range"
            | "content-type"
            | "expires"
            | "last-modified"
    )
}

/// The headers the handler receives: all incoming ones (Host included, as received) except
/// hop-by-hop and content headers, plus the host's own.
fn forwarded_headers(incoming: &HeaderMap, method: &Method, invocation_id: &str, body: &Bytes) -> HeaderMap {
    let connection_listed: Vec<String> = incoming
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for name in incoming.keys() {
        let n = name.as_str();
        if is_hop_by_hop(n, &connection_listed) || is_content_header(n) {
            continue;
        }
        // HttpClient writes a repeated request header as one line, values joined.
        let sep: &[u8] = match n {
            "cookie" => b"; ",
            "user-agent" => b" ",
            _ => b", ",
        };
        let joined = incoming.get_all(name).iter().map(HeaderValue::as_bytes).collect::<Vec<_>>().join(sep);
        if let Ok(value) = HeaderValue::from_bytes(&joined) {
            out.insert(name.clone(), value);
        }
    }
    let agent_token = format!("Azure-Functions-Host/{HOST_VERSION}");
    let agent = match out.get(header::USER_AGENT) {
        Some(ua) => {
            let mut bytes = ua.as_bytes().to_vec();
            bytes.push(b' ');
            bytes.extend_from_slice(agent_token.as_bytes());
            HeaderValue::from_bytes(&bytes).ok()
        }
        None => HeaderValue::from_str(&agent_token).ok(),
    };
    if let Some(agent) = agent {
        out.insert(header::USER_AGENT, agent);
    }
    out.insert(HeaderName::from_static("x-azure-functions-hostversion"), HeaderValue::from_static(HOST_VERSION));
    if let Ok(id) = HeaderValue::from_str(invocation_id) {
        out.insert(HeaderName::from_static("x-azure-functions-invocationid"), id);
    }
    if !body.is_empty() {
        out.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        if let Some(ct) = incoming.get(header::CONTENT_TYPE) {
            out.insert(header::CONTENT_TYPE, ct.clone());
        }
    } else if !matches!(*method, Method::GET | Method::HEAD | Method::CONNECT | Method::OPTIONS | Method::DELETE) {
        // SocketsHttpHandler sends "Content-Length: 0" for a body-less POST/PUT/PATCH/...
        out.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    }
    out
}

/// The handler's response as-is (status, headers, buffered body), minus hop-by-hop headers.
fn relay(code: StatusCode, headers: &HeaderMap, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = code;
    for (name, value) in headers {
        if !is_hop_by_hop(name.as_str(), &[]) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

fn status(code: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = code;
    response
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
