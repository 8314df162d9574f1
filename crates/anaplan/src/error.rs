//! What can go wrong when talking to Anaplan, in terms a caller can act on. The HTTP layer
//! maps these to problem+json statuses in one place (`http::problem`).

/// An error from the Anaplan client.
#[derive(Debug, thiserror::Error)]
pub enum AnaplanError {
    /// Anaplan answered with a non-success status (after any retries).
    #[error("Anaplan answered {status}: {message}")]
    Api {
        /// Anaplan's HTTP status.
        status: u16,
        /// Anaplan's message (`status.message` of its error body), or the body's start.
        message: String,
        /// `Retry-After` in seconds, when Anaplan sent one.
        retry_after: Option<u64>,
    },
    /// No access token could be obtained.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Anaplan could not be reached (connection refused, DNS, TLS) after retries.
    #[error("Anaplan could not be reached: {0}")]
    Unreachable(String),
    /// Anaplan did not answer in time.
    #[error("Anaplan did not answer in time: {0}")]
    Timeout(String),
    /// Anaplan answered something this client does not understand.
    #[error("unexpected answer from Anaplan: {0}")]
    Protocol(String),
    /// A request that may take effect (a task start, a read request, a run) failed in a
    /// way that does not tell whether Anaplan carried it out (a timeout, a 5xx, a cut
    /// connection), so it was not sent again: a second send could start a second task.
    #[error("{0}; the request may have reached Anaplan, so it was not sent again")]
    NotRepeated(Box<AnaplanError>),
    /// The model stayed busy with other work for this request's whole retry budget.
    #[error("the model is busy with another task: {0}")]
    Busy(String),
    /// Anaplan ran the job and it failed.
    #[error("{0}")]
    Failed(String),
    /// The job was cancelled.
    #[error("{0}")]
    Cancelled(String),
    /// No object of that kind has that name; `closest` are the nearest names that exist.
    #[error("no {kind} is named {}", crate::untrusted::quote(.name))]
    UnknownName {
        /// "workspace", "model", "view", ...
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// Up to five existing names, most similar first.
        closest: Vec<String>,
        /// How many objects of that kind the identity sees (none: maybe a missing right).
        listed: usize,
    },
    /// More than one object of that kind has that name.
    #[error("{} {kind}s are named {name:?}: {}; name it by id instead", ids.len(), ids.join(", "))]
    AmbiguousName {
        /// "workspace", "model", "view", ...
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The ids of every object with that name.
        ids: Vec<String>,
    },
}

/// Why no access token could be obtained. Never carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token service refused the credentials (`invalid_grant`, `invalid_client`,
    /// bad password, ...): an admin must act, retrying will not help.
    #[error("Anaplan refused the credentials ({code}): {description}")]
    Rejected {
        /// OAuth error code or legacy status.
        code: String,
        /// The service's description.
        description: String,
    },
    /// The caller's own token is missing (auth method `caller`).
    #[error("{0}")]
    MissingCallerToken(&'static str),
    /// The token service could not be reached or failed.
    #[error("the Anaplan token service is unavailable: {0}")]
    Unavailable(String),
    /// The token service throttled (429) or was briefly unavailable (408, 5xx) for this
    /// request's whole retry budget: retrying later will help, nothing is wrong with the
    /// credentials.
    #[error("the Anaplan token service is busy, try again later: {detail}")]
    Busy {
        /// The token service's HTTP status.
        status: u16,
        /// What happened (never a secret value).
        detail: String,
        /// Seconds to wait, when the service said (already clamped).
        retry_after: Option<u64>,
    },
    /// The credential store (token file, vault) could not be read or written.
    #[error("the credential store is unavailable: {0}")]
    Store(String),
    /// A remote credential store (e.g. a vault) could not be reached, and no earlier value
    /// can stand in.
    #[error("{store} is unavailable: {detail}")]
    StoreUnreachable {
        /// The store, for messages ("Key Vault").
        store: &'static str,
        /// What failed (never a secret value).
        detail: String,
    },
    /// A credential the configuration needs is not in its store.
    #[error("a credential is missing: {0}")]
    Missing(String),
}

impl AnaplanError {
    /// Builds an [`AnaplanError::Api`] from a status and an error body in Anaplan's
    /// `{"status": {"code", "message"}}` shape (or any other text).
    pub fn from_body(status: u16, body: &str, retry_after: Option<u64>) -> Self {
        let message = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.pointer("/status/message")
                    .or_else(|| v.get("statusMessage"))
                    .or_else(|| v.get("message"))
                    // SCIM's error body (RFC 7644 section 3.12).
                    .or_else(|| v.get("detail"))
                    .and_then(|m| m.as_str())
                    .map(crate::untrusted::cut)
            })
            .unwrap_or_else(|| {
                let t = body.trim();
                if t.is_empty() { default_reason(status).to_owned() } else { crate::untrusted::cut(t) }
            });
        AnaplanError::Api { status, message, retry_after }
    }
}

fn default_reason(status: u16) -> &'static str {
    http_reason(status).unwrap_or("no message")
}

fn http_reason(status: u16) -> Option<&'static str> {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_comes_from_anaplan_error_body() {
        let body = r#"{"status":{"code":400,"message":"Invalid page selector [1:2]"},"path":"/2/0/x"}"#;
        match AnaplanError::from_body(400, body, None) {
            AnaplanError::Api { status, message, .. } => {
                assert_eq!(status, 400);
                assert_eq!(message, "Invalid page selector [1:2]");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_long_message_or_body_is_kept_cut_short_with_its_length() {
        let long = "m".repeat(50_000);
        let body = format!(r#"{{"status":{{"code":400,"message":"{long}"}}}}"#);
        for text in [body.as_str(), long.as_str()] {
            let AnaplanError::Api { message, .. } = AnaplanError::from_body(400, text, None) else { panic!() };
            assert!(message.len() < 300 && message.ends_with("characters)"), "{message}");
        }
    }

    #[test]
    fn empty_body_gets_the_reason_phrase() {
        let e = AnaplanError::from_body(404, "", None);
        assert!(e.to_string().contains("Not Found"), "{e}");
    }
}
