//! `application/problem+json` errors (RFC 9457), and the one place where Anaplan errors
//! become HTTP statuses. Status codes say who is at fault, and transient trouble is 429 or
//! 5xx (with `Retry-After`) so Logic Apps' default retry policy retries exactly that.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub use super::problem_types::ProblemType;
use crate::storage::StorageError;
use anaplan::client::MAX_RETRY_AFTER;
use anaplan::{AnaplanError, AuthError};

/// What a problem's `type` URI starts with; the slug follows.
pub const TYPE_PREFIX: &str = "urn:anaplan-functions:problem:";

/// A problem to answer with. Boxed: it travels in every `Err` of the HTTP layer.
#[derive(Debug, Clone)]
pub struct Problem(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    status: StatusCode,
    slug: std::borrow::Cow<'static, str>,
    title: std::borrow::Cow<'static, str>,
    detail: String,
    retry_after: Option<u64>,
    extra: Map<String, Value>,
}

/// `Retry-After` sent with 429 and 503 when Anaplan did not say.
const DEFAULT_RETRY_AFTER: u64 = 30;

impl Problem {
    /// A problem of type `kind` (its status, slug and title) with a detail.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Problem(Box::new(Inner {
            status: kind.status(),
            slug: kind.slug().into(),
            title: kind.title().into(),
            detail: detail.into(),
            retry_after: None,
            extra: Map::new(),
        }))
    }

    /// The problem as a JSON document, to be answered later (by another instance) with
    /// [`Problem::from_stored`].
    pub fn stored(&self) -> Value {
        json!({"status": self.0.status.as_u16(), "slug": self.0.slug, "title": self.0.title, "detail": self.0.detail,
               "retryAfter": self.0.retry_after, "extra": self.0.extra})
    }

    /// A problem from [`Problem::stored`]'s document (a 500 when it is not one). Its status,
    /// slug and title are taken as stored, whatever the catalogue says now.
    pub fn from_stored(doc: &Value) -> Problem {
        let status = doc["status"].as_u64().and_then(|s| StatusCode::from_u16(s as u16).ok());
        let text = |k: &str| doc[k].as_str().map(str::to_owned);
        let (Some(status), Some(slug), Some(title), Some(detail)) =
            (status, text("slug"), text("title"), text("detail"))
        else {
            return Problem::new(ProblemType::InternalError, "a stored outcome could not be read");
        };
        let extra = doc["extra"].as_object().cloned().unwrap_or_default();
        let retry_after = doc["retryAfter"].as_u64();
        Problem(Box::new(Inner { status, slug: slug.into(), title: title.into(), detail, retry_after, extra }))
    }

    /// 400: a parameter is missing, malformed, or conflicts with another.
    pub fn bad_parameter(detail: impl Into<String>) -> Self {
        Problem::new(ProblemType::BadParameter, detail)
    }

    /// True for a failed request that may nevertheless have reached Anaplan (it was not
    /// sent again; see `AnaplanError::NotRepeated`).
    pub fn not_repeated(&self) -> bool {
        self.0.extra.get("notRepeated") == Some(&Value::Bool(true))
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.to_owned(), value);
        self
    }

    /// Sets `Retry-After` (at most an hour, whatever a service upstream said).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs.min(MAX_RETRY_AFTER));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let p = &self.0;
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("{TYPE_PREFIX}{}", p.slug)));
        body.insert("title".into(), json!(p.title));
        body.insert("status".into(), json!(p.status.as_u16()));
        body.insert("detail".into(), json!(p.detail));
        for (k, v) in &p.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let retry_after = self.0.retry_after.or(match self.0.status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Some(DEFAULT_RETRY_AFTER),
            _ => None,
        });
        let mut resp = (self.0.status, self.body().to_string()).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// Blob storage of exports and imports (the app's own state storage has its own answers).
impl From<StorageError> for Problem {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::InvalidName(what) => Problem::bad_parameter(what),
            StorageError::NoContainer(what) => Problem::new(
                ProblemType::BlobContainerNotFound,
                format!(
                    "{what}; create the container first (it is not created implicitly, so a typo cannot create a new one)"
                ),
            ),
            StorageError::NotFound(what) => Problem::new(ProblemType::BlobNotFound, what),
            other => {
                Problem::new(ProblemType::BlobStorageUnavailable, format!("Blob storage could not be used: {other}"))
            }
        }
    }
}

impl From<AnaplanError> for Problem {
    fn from(e: AnaplanError) -> Self {
        let detail = e.to_string();
        match e {
            AnaplanError::NotRepeated(inner) => {
                let mut p = Problem::from(*inner);
                p.0.detail = format!(
                    "{detail}. Check in Anaplan whether it took effect before trying again; for a task start, an Idempotency-Key lets a retry find the task instead of starting a second one"
                );
                p.with("notRepeated", json!(true))
            }
            AnaplanError::Api { status, message, retry_after } => {
                let kind = match status {
                    400 => ProblemType::AnaplanBadRequest,
                    401 => ProblemType::AnaplanUnauthorized,
                    403 => ProblemType::AnaplanForbidden,
                    404 | 410 => ProblemType::NotFound,
                    409 => ProblemType::AnaplanConflict,
                    422 => ProblemType::ModelArchived,
                    423 => ProblemType::ModelLocked,
                    429 => ProblemType::Throttled,
                    500..=599 => ProblemType::AnaplanUnavailable,
                    // Anything else is a request this handler got wrong.
                    _ => ProblemType::AnaplanUnexpected,
                };
                let mut p = Problem::new(kind, detail).with("anaplan", json!({ "status": status, "message": message }));
                if let Some(s) = retry_after {
                    p = p.retry_after(s);
                }
                p
            }
            AnaplanError::Auth(AuthError::Rejected { code, .. }) => {
                // Say what to renew: the refresh token only when it is the one refused.
                let advice = match code.as_str() {
                    "invalid_grant" => {
                        "The refresh token no longer works: an admin must run `anaplan-functions auth login` for a new one"
                    }
                    "invalid_client" | "unauthorized_client" => {
                        "Anaplan does not accept the OAuth client: an admin must check its client id and client secret"
                    }
                    _ => "The configured credentials no longer work: an admin must provide new ones",
                };
                Problem::new(ProblemType::AnaplanCredentialsRejected, format!("{detail}. {advice}"))
                    .with("anaplan", json!({ "status": 401, "message": code }))
            }
            AnaplanError::Auth(AuthError::Busy { status, retry_after, .. }) => {
                let kind = if status == 429 { ProblemType::AnaplanAuthThrottled } else { ProblemType::AnaplanAuthBusy };
                let p = Problem::new(kind, detail);
                match retry_after {
                    Some(s) => p.retry_after(s),
                    None => p,
                }
            }
            AnaplanError::Auth(AuthError::MissingCallerToken(_)) => {
                Problem::new(ProblemType::CallerTokenRequired, detail)
            }
            AnaplanError::Auth(AuthError::Unavailable(_)) => Problem::new(ProblemType::AnaplanAuthUnavailable, detail),
            AnaplanError::Auth(AuthError::Store(_)) => Problem::new(ProblemType::CredentialStoreUnavailable, detail),
            // The one remote credential store is Key Vault.
            AnaplanError::Auth(AuthError::StoreUnreachable { .. }) => {
                Problem::new(ProblemType::KeyVaultUnavailable, detail)
            }
            AnaplanError::Auth(AuthError::Missing(_)) => {
                Problem::new(ProblemType::CredentialMissing, format!("{detail}; an admin must add it"))
            }
            AnaplanError::Unreachable(_) => Problem::new(ProblemType::AnaplanUnreachable, detail),
            AnaplanError::Timeout(_) => Problem::new(ProblemType::AnaplanTimeout, detail),
            AnaplanError::Protocol(_) => Problem::new(ProblemType::AnaplanUnexpected, detail),
            AnaplanError::Busy(_) => Problem::new(
                ProblemType::ModelBusy,
                format!("{detail}; it stayed busy for this request's retry budget, try again later"),
            ),
            AnaplanError::Failed(_) => Problem::new(ProblemType::AnaplanFailed, detail),
            AnaplanError::Cancelled(_) => Problem::new(ProblemType::Cancelled, detail),
            AnaplanError::UnknownName { kind, name, closest, listed } => Problem::new(ProblemType::UnknownName, {
                let name = anaplan::untrusted::quote(&name);
                match (listed, closest.is_empty()) {
                    (0, _) => format!("no {kind} is named {name} (none are visible to this identity)"),
                    (n, true) => format!("no {kind} is named {name}, and none of the {n} visible is close to it"),
                    _ => format!("no {kind} is named {name}; closest names: {}", quoted(&closest)),
                }
            })
            .with("closestNames", json!(closest)),
            AnaplanError::AmbiguousName { name, ids, .. } => {
                // The closest names are the exact ones: each with its id, to tell them apart.
                let closest: Vec<String> = ids.iter().map(|id| format!("{name} ({id})")).collect();
                Problem::new(ProblemType::AmbiguousName, detail)
                    .with("closestNames", json!(closest))
                    .with("matchingIds", json!(ids))
            }
        }
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_says_none_are_visible_only_when_the_listing_is_empty() {
        let unknown = |listed: usize, closest: &[&str]| {
            let e = AnaplanError::UnknownName {
                kind: "model",
                name: "Revenu Plan".into(),
                closest: closest.iter().map(|c| c.to_string()).collect(),
                listed,
            };
            Problem::from(e).body()["detail"].as_str().unwrap().to_owned()
        };
        assert!(unknown(0, &[]).contains("none are visible to this identity"));
        let far = unknown(12, &[]);
        assert!(!far.contains("visible to this identity") && far.contains("none of the 12 visible"), "{far}");
        assert!(unknown(3, &["Revenue Plan"]).contains("closest names: \"Revenue Plan\""));
        let long = Problem::from(AnaplanError::UnknownName {
            kind: "view",
            name: "v".repeat(1024),
            closest: vec![],
            listed: 1,
        });
        let detail = long.body()["detail"].as_str().unwrap().to_owned();
        assert!(detail.len() < 400 && detail.contains("(1024 characters)"), "{detail}");
    }

    #[test]
    fn throttling_is_429_with_anaplans_retry_after() {
        let p: Problem =
            AnaplanError::Api { status: 429, message: "Too Many Requests".into(), retry_after: Some(7) }.into();
        assert_eq!(p.status(), StatusCode::TOO_MANY_REQUESTS);
        let resp = p.into_response();
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/problem+json");
    }

    #[test]
    fn every_503_has_retry_after() {
        let unavailable = ProblemType::ALL.iter().filter(|t| t.status() == StatusCode::SERVICE_UNAVAILABLE);
        for kind in unavailable {
            let resp = Problem::new(*kind, "d").into_response();
            assert_eq!(resp.headers()[header::RETRY_AFTER], "30", "{kind:?}");
        }
    }

    #[test]
    fn a_problem_answers_its_types_status_slug_and_title() {
        for kind in ProblemType::ALL {
            let p = Problem::new(*kind, "d");
            assert_eq!(p.status(), kind.status());
            let body = p.body();
            assert_eq!(body["type"], format!("urn:anaplan-functions:problem:{}", kind.slug()));
            assert_eq!(body["title"], kind.title());
            assert_eq!(body["status"], kind.status().as_u16());
        }
    }

    #[test]
    fn a_stored_problem_keeps_its_stored_slug_title_and_status() {
        // As written by earlier versions: whatever they said is answered unchanged.
        let doc = json!({"status": 418, "slug": "retired-slug", "title": "Retired", "detail": "d",
                         "retryAfter": null, "extra": {"taskId": "1"}});
        let p = Problem::from_stored(&doc);
        assert_eq!(p.status().as_u16(), 418);
        assert_eq!(p.body()["type"], "urn:anaplan-functions:problem:retired-slug");
        assert_eq!(p.body()["title"], "Retired");
        assert_eq!(p.body()["taskId"], "1");
        assert_eq!(Problem::from_stored(&p.stored()).body(), p.body());
        let unreadable = Problem::from_stored(&json!({"status": 409}));
        assert_eq!(unreadable.body()["type"], "urn:anaplan-functions:problem:internal-error");
    }

    #[test]
    fn anaplan_refusals_carry_anaplans_status_and_message() {
        let p: Problem = AnaplanError::Api { status: 423, message: "Model locked".into(), retry_after: None }.into();
        let body = p.body();
        assert_eq!(body["status"], 423);
        assert_eq!(body["anaplan"]["status"], 423);
        assert_eq!(body["anaplan"]["message"], "Model locked");
        for key in ["type", "title", "detail"] {
            assert!(body[key].is_string(), "{key}");
        }
    }

    #[test]
    fn retry_after_passed_on_is_at_most_an_hour() {
        let p: Problem =
            AnaplanError::Api { status: 429, message: "slow down".into(), retry_after: Some(u64::MAX) }.into();
        assert_eq!(p.into_response().headers()[header::RETRY_AFTER], "3600");
    }

    #[test]
    fn a_busy_token_service_is_retryable_never_a_credentials_problem() {
        let busy = |status| AnaplanError::Auth(AuthError::Busy { status, detail: "x".into(), retry_after: Some(9) });
        let throttled: Problem = busy(429).into();
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.into_response().headers()[header::RETRY_AFTER], "9");
        let timeout: Problem = busy(408).into();
        assert_eq!(timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
        let refused: Problem = AnaplanError::Auth(AuthError::Rejected {
            code: "invalid_client".into(),
            description: "Client authentication failed.".into(),
        })
        .into();
        let detail = refused.body()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("client secret") && !detail.contains("refresh token"), "{detail}");
    }

    #[test]
    fn anaplan_server_errors_are_bad_gateway() {
        let p: Problem = AnaplanError::Api { status: 503, message: "down".into(), retry_after: None }.into();
        assert_eq!(p.status(), StatusCode::BAD_GATEWAY);
    }
}
