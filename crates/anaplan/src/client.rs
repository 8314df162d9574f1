//! The Anaplan HTTP client: one shared `reqwest::Client`, the `AnaplanAuthToken` header,
//! one refresh-and-retry on 401, and bounded retries with backoff on 429 and 5xx that
//! honour `Retry-After`.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::Credentials;
use super::error::AnaplanError;
use crate::secret::Secret;

/// How many times a body cut off midway is asked for (see [`Client::bytes`]).
pub const BODY_ATTEMPTS: u32 = 4;

/// A response's body, read chunk by chunk into one buffer sized from Content-Length:
/// unlike collecting the chunks first and joining them, the body is never held twice.
async fn whole_body(mut resp: reqwest::Response) -> Result<bytes::Bytes, reqwest::Error> {
    // Content-Length is the sender's word: reserve no more than 64 MiB on it.
    let reserve = resp.content_length().unwrap_or(0).min(64 * 1024 * 1024) as usize;
    let mut buf = Vec::with_capacity(reserve);
    while let Some(chunk) = resp.chunk().await? {
        buf.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(buf))
}

/// How hard to retry transient failures (429, 5xx, connection errors).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// No retry starts later than this after the first attempt.
    pub budget: Duration,
    /// First backoff when Anaplan sends no `Retry-After`; doubles each time.
    pub base_delay: Duration,
    /// Longest single wait.
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(90),
        }
    }
}

/// The HTTP client for Anaplan and its token services, built once and shared: no redirects
/// (a redirect would carry a token or a secret to another host), a clear user agent, a
/// bounded connect; `timeout` bounds each whole request (token requests: a refresh holds
/// the chain's lock meanwhile), else [`RetryPolicy::attempt_timeout`] does per attempt.
pub fn http_client(timeout: Option<Duration>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("anaplan-functions/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10));
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    builder.build().expect("the TLS backend initialises")
}

/// A client for one Anaplan tenant and identity. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    /// `<API URL>/2/0/`.
    api: Url,
    credentials: Credentials,
    retry: RetryPolicy,
    /// A fixed `Bearer` credential sent instead of the Anaplan token (a SCIM API key).
    api_key: Option<Secret>,
}

/// One request to the Integration API, relative to `/2/0/`.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: Method,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    accept: &'static str,
    body: Option<Body>,
    /// A POST that does no harm when carried out twice (see [`ApiRequest::replayable`]).
    replayable_post: bool,
}

/// A request body.
#[derive(Debug, Clone)]
enum Body {
    Json(serde_json::Value),
    Octets(bytes::Bytes),
    /// Bytes packed with gzip (`application/x-gzip`: upload chunks).
    Gzip(bytes::Bytes),
    /// JSON already serialised (a batch of cells or items, built once).
    JsonBytes(bytes::Bytes),
    /// JSON sent under another media type (SCIM's `application/scim+json`).
    JsonAs(serde_json::Value, &'static str),
    /// No bytes, under a media type (a model's open and close: `application/text`).
    Empty(&'static str),
    /// Bytes under a media type built at run time (a multipart body and its boundary).
    Typed(bytes::Bytes, String),
}

impl ApiRequest {
    /// A GET of `segments` joined as path segments (each escaped), expecting JSON.
    pub fn get<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ApiRequest {
            method: Method::GET,
            segments: segments.into_iter().map(Into::into).collect(),
            query: Vec::new(),
            accept: "application/json",
            body: None,
            replayable_post: false,
        }
    }

    /// Marks a POST whose second execution does no harm (it sets the same state again,
    /// e.g. writing the same cells or completing an upload), so that it is retried on a
    /// timeout or a 5xx like any GET or PUT. Other POSTs are retried only on 429 or when
    /// no connection was made: a start sent twice would start two tasks.
    pub fn replayable(mut self) -> Self {
        self.replayable_post = true;
        self
    }

    /// The same with another method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the `Accept` header.
    pub fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    /// Sends a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(Body::Json(body));
        self
    }

    /// Sends a JSON body with `Content-Type: media` (a JSON media type such as SCIM's
    /// `application/scim+json`) instead of `application/json`.
    pub fn json_as(mut self, body: serde_json::Value, media: &'static str) -> Self {
        self.body = Some(Body::JsonAs(body, media));
        self
    }

    /// Sends JSON already serialised (cheap to clone for retries).
    pub fn json_bytes(mut self, body: bytes::Bytes) -> Self {
        self.body = Some(Body::JsonBytes(body));
        self
    }

    /// Sends raw bytes as `application/octet-stream` (cheap to clone for retries).
    pub fn octets(mut self, body: bytes::Bytes) -> Self {
        self.body = Some(Body::Octets(body));
        self
    }

    /// An empty body sent with `Content-Type: media`, where Anaplan expects one on a request
    /// that carries nothing (a model's open and close: `application/text`).
    pub fn empty_as(mut self, media: &'static str) -> Self {
        self.body = Some(Body::Empty(media));
        self
    }

    /// Sends `body` with `Content-Type: media` (e.g. `multipart/form-data; boundary=...`).
    pub fn body_as(mut self, body: bytes::Bytes, media: String) -> Self {
        self.body = Some(Body::Typed(body, media));
        self
    }

    /// A gzip body (`Content-Type: application/x-gzip`), as Anaplan takes upload chunks.
    pub fn gzip(mut self, body: bytes::Bytes) -> Self {
        self.body = Some(Body::Gzip(body));
        self
    }

    /// Whether sending it twice does no harm: anything but a POST, or a POST marked
    /// [`ApiRequest::replayable`].
    fn may_repeat(&self) -> bool {
        self.method != Method::POST || self.replayable_post
    }

    fn describe(&self, base: &Url) -> String {
        format!("{} {}{}", self.method, base.path(), self.segments.join("/"))
    }
}

impl Client {
    /// A client for the API at `api_url` (the `/2/0` is appended here).
    pub fn new(http: reqwest::Client, api_url: &Url, credentials: Credentials, retry: RetryPolicy) -> Self {
        let mut api = api_url.clone();
        api.path_segments_mut().expect("http(s) URLs have paths").pop_if_empty().extend(["2", "0", ""]);
        Client { http, api, credentials, retry, api_key: None }
    }

    /// The same client for another Anaplan API whose base is `base`, used as given (e.g.
    /// `https://api.anaplan.com/scim/1/0/v2/`): same identity, retries and HTTP client.
    pub fn for_base(&self, base: Url) -> Self {
        Client { api: base, ..self.clone() }
    }

    /// The same client sending `Authorization: Bearer <key>` (an Anaplan SCIM API key)
    /// instead of an Anaplan access token; a 401 then is final (no token to refresh).
    pub fn with_api_key(&self, key: Secret) -> Self {
        Client { api_key: Some(key), ..self.clone() }
    }

    /// The same client (credentials, retries, connections) for another API on the same
    /// tenant, e.g. CloudWorks at `ANAPLAN_CLOUDWORKS_URL` (the `/2/0` is appended here).
    pub fn at(&self, api_url: &Url) -> Self {
        Client::new(self.http.clone(), api_url, self.credentials.clone(), self.retry.clone())
    }

    /// The same client acting with the caller's own token.
    pub fn with_caller_token(&self, token: Secret) -> Self {
        Client { credentials: Credentials::Caller(token), ..self.clone() }
    }

    /// The credentials this client uses.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Sends `req` and parses a JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, AnaplanError> {
        let what = req.describe(&self.api);
        let bytes = self.bytes(req).await?;
        serde_json::from_slice(&bytes).map_err(|e| AnaplanError::Protocol(format!("{what}: {e}")))
    }

    /// Sends `req` and returns the body as text.
    pub async fn text(&self, req: ApiRequest) -> Result<String, AnaplanError> {
        let bytes = self.bytes(req).await?;
        // As reqwest's own text() without its charset feature: UTF-8, invalid bytes replaced.
        // Valid UTF-8 becomes the String without a copy (a large read's CSV or a direct
        // read's JSON is held once, not twice).
        Ok(match String::from_utf8(Vec::from(bytes)) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Sends `req` and returns the whole body. A body cut off midway (a reset connection)
    /// is fetched again, up to [`BODY_ATTEMPTS`] times, when the request may be repeated;
    /// the part already read is dropped, so the bytes are exactly one answer's.
    pub async fn bytes(&self, req: ApiRequest) -> Result<bytes::Bytes, AnaplanError> {
        let what = req.describe(&self.api);
        let replayable = req.may_repeat();
        let mut attempt = 1;
        loop {
            let resp = self.send(req.clone()).await?;
            match whole_body(resp).await {
                Ok(bytes) => return Ok(bytes),
                Err(e) if replayable && attempt < BODY_ATTEMPTS => {
                    tracing::info!(request = %what, attempt, error = %transport_error(&what, e), "the answer was cut off; asking again");
                    tokio::time::sleep(self.retry.base_delay.saturating_mul(attempt)).await;
                    attempt += 1;
                }
                Err(e) if replayable => return Err(transport_error(&what, e)),
                Err(e) => return Err(AnaplanError::NotRepeated(Box::new(transport_error(&what, e)))),
            }
        }
    }

    /// Sends `req`, with auth and retries; returns the successful response.
    pub async fn send(&self, req: ApiRequest) -> Result<reqwest::Response, AnaplanError> {
        let url = self.url(&req);
        let what = req.describe(&self.api);
        let started = Instant::now();
        let mut retries = 0u32;
        let mut reauthenticated = false;
        // A POST may start something (a task, a read request, a run): it is sent again
        // only when Anaplan surely did not act on it (429, or no connection was made).
        let replayable = req.may_repeat();
        loop {
            let (token, authorization) = match &self.api_key {
                Some(key) => (None, bearer_header(key)),
                None => {
                    let token = self.credentials.access_token().await?;
                    let header = auth_header(&token);
                    (Some(token), header)
                }
            };
            let mut builder = self
                .http
                .request(req.method.clone(), url.clone())
                .timeout(self.retry.attempt_timeout)
                .header(AUTHORIZATION, authorization)
                .header(ACCEPT, req.accept);
            match &req.body {
                Some(Body::Json(v)) => builder = builder.header(CONTENT_TYPE, "application/json").body(v.to_string()),
                Some(Body::JsonBytes(b)) => builder = builder.header(CONTENT_TYPE, "application/json").body(b.clone()),
                Some(Body::JsonAs(v, media)) => builder = builder.header(CONTENT_TYPE, *media).body(v.to_string()),
                Some(Body::Octets(b)) => {
                    builder = builder.header(CONTENT_TYPE, "application/octet-stream").body(b.clone())
                }
                Some(Body::Gzip(b)) => builder = builder.header(CONTENT_TYPE, "application/x-gzip").body(b.clone()),
                Some(Body::Empty(media)) => builder = builder.header(CONTENT_TYPE, *media).body(Vec::new()),
                Some(Body::Typed(b, media)) => builder = builder.header(CONTENT_TYPE, media.as_str()).body(b.clone()),
                None => {}
            }
            let outcome = builder.send().await;
            let (failure, retry_after, maybe_applied) = match outcome {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp.headers().get(RETRY_AFTER).and_then(parse_retry_after);
                    let body = resp.text().await.unwrap_or_default();
                    let err = AnaplanError::from_body(status.as_u16(), &body, retry_after);
                    if let Some(token) = &token
                        && status == StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && self.credentials.rejected(token).await
                    {
                        reauthenticated = true;
                        tracing::info!(request = %what, "Anaplan refused the access token; obtaining a new one");
                        continue;
                    }
                    if !is_transient(status) {
                        return Err(err);
                    }
                    (err, retry_after, status != StatusCode::TOO_MANY_REQUESTS)
                }
                Err(e) => {
                    let connected = !e.is_connect();
                    (transport_error(&what, e), None, connected)
                }
            };
            if maybe_applied && !replayable {
                tracing::warn!(request = %what, error = %failure, "not repeating a request that may have reached Anaplan");
                return Err(AnaplanError::NotRepeated(Box::new(failure)));
            }
            // Anaplan's Retry-After is obeyed as given (a longer one than the budget ends
            // the retries and is passed on to the caller); otherwise exponential backoff.
            let wait = match retry_after {
                Some(secs) => Duration::from_secs(secs),
                None => self.retry.base_delay.saturating_mul(2u32.saturating_pow(retries)).min(self.retry.max_delay),
            };
            if retries >= self.retry.max_retries || started.elapsed().saturating_add(wait) > self.retry.budget {
                tracing::warn!(request = %what, retries, error = %failure, "giving up on a transient Anaplan failure");
                return Err(failure);
            }
            tracing::info!(request = %what, wait_ms = wait.as_millis() as u64, error = %failure, "retrying Anaplan request");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    /// Lists every item of a paged collection: follows `offset`/`limit` paging with the
    /// page size the server actually returned (it may cap `limit` silently). An absent
    /// array key is an empty collection.
    pub async fn list<T: DeserializeOwned>(&self, req: ApiRequest, key: &str) -> Result<Vec<T>, AnaplanError> {
        let mut out: Vec<T> = Vec::new();
        let mut offset = 0usize;
        loop {
            let page: serde_json::Value =
                self.json(req.clone().query("offset", offset.to_string()).query("limit", "5000")).await?;
            let items = match page.get(key) {
                Some(v) => serde_json::from_value::<Vec<T>>(v.clone())
                    .map_err(|e| AnaplanError::Protocol(format!("{}: {key}: {e}", req.describe(&self.api))))?,
                None => Vec::new(),
            };
            let got = items.len();
            out.extend(items);
            let total = page.pointer("/meta/paging/totalSize").and_then(|v| v.as_u64()).map(|t| t as usize);
            offset += got;
            match total {
                Some(total) if got > 0 && offset < total => continue,
                _ => return Ok(out),
            }
        }
    }

    fn url(&self, req: &ApiRequest) -> Url {
        let mut url = self.api.clone();
        url.path_segments_mut()
            .expect("http(s) URLs have paths")
            .pop_if_empty()
            .extend(req.segments.iter().map(String::as_str));
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter());
        }
        url
    }
}

fn auth_header(token: &Secret) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("AnaplanAuthToken {}", token.expose()))
        .unwrap_or_else(|_| HeaderValue::from_static("AnaplanAuthToken invalid"));
    v.set_sensitive(true);
    v
}

fn bearer_header(key: &Secret) -> HeaderValue {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
    v.set_sensitive(true);
    v
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// The longest `Retry-After` believed, waited for or passed on to a caller: an hour. A
/// longer one (a huge number, an HTTP-date far in the future) is clamped to it, so no
/// arithmetic on it can overflow and no caller is told to come back in a century.
pub const MAX_RETRY_AFTER: u64 = 3600;

/// `Retry-After` as seconds (at most [`MAX_RETRY_AFTER`]); HTTP-date values are turned into
/// a delay from now.
pub(crate) fn parse_retry_after(v: &HeaderValue) -> Option<u64> {
    let s = v.to_str().ok()?.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a very long time", not "no advice".
        return Some(s.parse::<u64>().unwrap_or(u64::MAX).min(MAX_RETRY_AFTER));
    }
    let when = httpdate_to_unix(s)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(when.saturating_sub(now).min(MAX_RETRY_AFTER))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to unix seconds. Every field is
/// range-checked first (a four-digit year, a day of 1-31, a valid time), so the arithmetic
/// below cannot overflow whatever the header says.
fn httpdate_to_unix(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" || parts[3].len() != 4 {
        return None;
    }
    let day: u64 = parts[1].parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == parts[2])? as u64
        + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m as i64 + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + (hms[0] * 3600 + hms[1] * 60 + hms[2]) as i64;
    u64::try_from(secs).ok()
}

fn transport_error(what: &str, e: reqwest::Error) -> AnaplanError {
    let timeout = e.is_timeout();
    // Without the URL: query strings may carry nothing secret today, but the rule is simple.
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if timeout {
        AnaplanError::Timeout(format!("{what}: {text}"))
    } else {
        AnaplanError::Unreachable(format!("{what}: {text}"))
    }
}

/// For unit tests: serves `app` on a free loopback port as a stand-in for Anaplan, and a
/// client of it that sends the caller's token `t`.
#[cfg(test)]
pub(crate) async fn client_of_stand_in(app: axum::Router) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let url = Url::parse(&format!("http://{}/", listener.local_addr().expect("its address"))).expect("a URL");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Client::new(reqwest::Client::new(), &url, Credentials::Caller(Secret::new("t")), RetryPolicy::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("7")), Some(7));
        assert_eq!(httpdate_to_unix("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT")), Some(0));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
        assert_eq!(parse_retry_after(&HeaderValue::from_static("-5")), None);
    }

    #[test]
    fn absurd_retry_after_values_are_clamped_never_overflow() {
        for huge in ["99999999999999", "18446744073709551615", "99999999999999999999999999999999"] {
            assert_eq!(parse_retry_after(&HeaderValue::from_str(huge).unwrap()), Some(MAX_RETRY_AFTER), "{huge}");
        }
        // Far in the future, the farthest an IMF-fixdate can say, and dates with absurd fields.
        let far = HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(parse_retry_after(&far), Some(MAX_RETRY_AFTER));
        for bad in [
            "Fri, 31 Dec 99999999999999999 23:59:59 GMT",
            "Fri, 99999999999999999999 Dec 2030 23:59:59 GMT",
            "Fri, 31 Dec 2030 99999999999999999:59:59 GMT",
            "Fri, 31 Dec 2030 23:59:99999999999 GMT",
            "Fri, 0 Dec 2030 23:59:59 GMT",
        ] {
            assert_eq!(parse_retry_after(&HeaderValue::from_str(bad).unwrap()), None, "{bad}");
        }
    }

    #[test]
    fn urls_are_built_from_escaped_segments() {
        let http = reqwest::Client::new();
        let c = Client::new(
            http,
            &Url::parse("http://127.0.0.1:9/").unwrap(),
            Credentials::CallerRequired,
            RetryPolicy::default(),
        );
        let u = c.url(&ApiRequest::get(["models", "A/B?c"]).query("pages", "1:2,3:4"));
        assert_eq!(u.as_str(), "http://127.0.0.1:9/2/0/models/A%2FB%3Fc?pages=1%3A2%2C3%3A4");
        let c2 = Client::new(
            reqwest::Client::new(),
            &Url::parse("https://api.anaplan.com").unwrap(),
            Credentials::CallerRequired,
            RetryPolicy::default(),
        );
        assert_eq!(c2.url(&ApiRequest::get(["workspaces"])).as_str(), "https://api.anaplan.com/2/0/workspaces");
    }
}
