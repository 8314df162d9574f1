//! Retries of token-service calls. A 429, 408 or 5xx from a token service (or a connection
//! it refused) is that service's passing trouble, not a verdict on the credentials: the call
//! is retried with backoff, honouring `Retry-After`, while a small budget lasts (a refresh
//! holds the chain's lock meanwhile); after that the request answers 429 or 503 with
//! `Retry-After` ([`AuthError::Busy`]), never "credentials rejected".

use std::future::Future;
use std::time::{Duration, Instant};

use crate::client::MAX_RETRY_AFTER;
use crate::error::AuthError;

/// How hard to retry a token service.
#[derive(Debug, Clone)]
pub struct TokenRetry {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// No retry starts later than this after the first attempt.
    pub budget: Duration,
    /// First backoff when the service sends no `Retry-After`; doubles each time.
    pub base_delay: Duration,
}

impl Default for TokenRetry {
    fn default() -> Self {
        TokenRetry { max_retries: 3, budget: Duration::from_secs(8), base_delay: Duration::from_millis(500) }
    }
}

/// What one attempt of a token-service call produced.
pub(super) enum Attempt<T> {
    /// A final answer: success, or a refusal that retrying cannot change.
    Done(Result<T, AuthError>),
    /// The service's passing trouble: worth another try.
    Transient {
        /// The HTTP status (503 when the service could not be connected to at all).
        status: u16,
        /// What happened, for the error (never a secret).
        detail: String,
        /// The service's `Retry-After`, clamped.
        retry_after: Option<u64>,
    },
}

/// Statuses of a token service that say "not now" rather than "no".
pub(super) fn is_transient(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Runs `attempt` until it is [`Attempt::Done`] or the retries or the budget run out.
pub(super) async fn with_retries<T, F, Fut>(policy: &TokenRetry, what: &str, mut attempt: F) -> Result<T, AuthError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let started = Instant::now();
    let mut retries = 0u32;
    loop {
        let (status, detail, retry_after) = match attempt().await {
            Attempt::Done(result) => return result,
            Attempt::Transient { status, detail, retry_after } => (status, detail, retry_after),
        };
        let retry_after = retry_after.map(|s| s.min(MAX_RETRY_AFTER));
        let wait = match retry_after {
            Some(secs) => Duration::from_secs(secs),
            None => policy.base_delay.saturating_mul(2u32.saturating_pow(retries)),
        };
        if retries >= policy.max_retries || started.elapsed().saturating_add(wait) > policy.budget {
            tracing::warn!(service = what, status, retries, %detail, "giving up on a busy token service");
            return Err(AuthError::Busy { status, detail, retry_after });
        }
        tracing::info!(service = what, status, wait_ms = wait.as_millis() as u64, %detail, "token service busy; retrying");
        tokio::time::sleep(wait).await;
        retries += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick() -> TokenRetry {
        TokenRetry { max_retries: 3, budget: Duration::from_secs(2), base_delay: Duration::from_millis(10) }
    }

    #[tokio::test]
    async fn transient_answers_are_retried_then_succeed() {
        let calls = AtomicU32::new(0);
        let got = with_retries(&quick(), "test", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Attempt::Transient { status: 429, detail: "429".into(), retry_after: Some(0) },
                1 => Attempt::Transient { status: 408, detail: "408".into(), retry_after: None },
                _ => Attempt::Done(Ok(7)),
            }
        })
        .await;
        assert_eq!(got.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn exhausted_retries_are_busy_with_the_services_retry_after() {
        let got: Result<(), _> = with_retries(&quick(), "test", || async {
            Attempt::Transient { status: 429, detail: "slow down".into(), retry_after: Some(0) }
        })
        .await;
        assert!(matches!(got, Err(AuthError::Busy { status: 429, retry_after: Some(0), .. })), "{got:?}");
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_budget_ends_at_once_clamped() {
        let started = Instant::now();
        let got: Result<(), _> = with_retries(&quick(), "test", || async {
            Attempt::Transient { status: 503, detail: "down".into(), retry_after: Some(u64::MAX) }
        })
        .await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(got, Err(AuthError::Busy { status: 503, retry_after: Some(MAX_RETRY_AFTER), .. })), "{got:?}");
    }
}
