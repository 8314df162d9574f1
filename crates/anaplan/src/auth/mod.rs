//! Access tokens for Anaplan: obtained, cached, refreshed before they expire, one refresh
//! at a time.
//!
//! - `oauth` ([`oauth`]): the refresh-token grant against Anaplan's OAuth service. With a
//!   rotating client every refresh returns a new refresh token and spends the old one, so
//!   the new one is stored before the new access token is used, under a lock that spans
//!   every process or instance sharing the chain.
//! - `basic` and `certificate` ([`legacy`]): Anaplan's legacy token service.
//! - `caller`: the caller's own token, used as given and never refreshed.
//!
//! Where secrets come from is a [`SecretSource`] ([`source`]); [`env`] is the one for
//! secrets in the environment with the chain kept in a token file. A busy token service is
//! retried ([`retry`]); who a caller is, for scopes that outlive its token, is [`caller`].

pub mod caller;
pub mod legacy;
pub mod oauth;
pub mod retry;
pub mod source;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub use caller::CallerUsers;
pub use legacy::{LegacyLogin, LegacySession};
pub use oauth::{KeepAlive, OAuthSession};
pub use source::{ChainLock, LockGuard, SecretKind, SecretSource};

use super::error::AuthError;
use crate::secret::Secret;

/// Anaplan access tokens live 35 minutes; this is assumed when a service does not say.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(2100);
/// The longest lifetime a token service is believed: a day. Anything longer (an
/// `expires_in` of `u64::MAX`, an `expiresAt` centuries ahead) is clamped to it, so no
/// instant or time computed from it can overflow, and a token is re-checked at least daily.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A token is reused for at least this long, whatever its service says: a lifetime of 0 (or
/// a past expiry) must not turn every request into a refresh. A token Anaplan refuses in the
/// meantime is replaced at once anyway (401: one refresh and one retry).
const MIN_REUSE: Duration = Duration::from_secs(1);

/// A cached access token and when to stop using it.
#[derive(Debug, Clone)]
pub(crate) struct CachedToken {
    value: Secret,
    /// Refresh from this instant on: a fifth of the lifetime (at most 5 minutes) before it
    /// expires, so a request never starts with a token about to die.
    refresh_at: Instant,
    /// When Anaplan will stop accepting it.
    expires_at: SystemTime,
}

impl CachedToken {
    /// A token its service says lives `lifetime` (any value: it is clamped to
    /// [`MAX_LIFETIME`], and reused for at least [`MIN_REUSE`]).
    fn new(value: Secret, lifetime: Duration) -> Self {
        let lifetime = lifetime.min(MAX_LIFETIME);
        let margin = (lifetime / 5).min(Duration::from_secs(300));
        let refresh_in = lifetime.saturating_sub(margin).max(MIN_REUSE);
        let now = Instant::now();
        let wall = SystemTime::now();
        CachedToken {
            value,
            // A day from now always fits an Instant and a SystemTime; the fallbacks only
            // keep this free of any panic path.
            refresh_at: now.checked_add(refresh_in).unwrap_or(now),
            expires_at: wall.checked_add(lifetime).unwrap_or(wall),
        }
    }

    fn fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}

/// How the handler obtains Anaplan access tokens.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// OAuth refresh-token grant.
    OAuth(Arc<OAuthSession>),
    /// Legacy basic or certificate authentication.
    Legacy(Arc<LegacySession>),
    /// The caller's own token for this request.
    Caller(Secret),
    /// Auth method `caller`, before a request supplied its token.
    CallerRequired,
}

impl Credentials {
    /// A valid access token.
    pub async fn access_token(&self) -> Result<Secret, AuthError> {
        match self {
            Credentials::OAuth(s) => s.access_token().await,
            Credentials::Legacy(s) => s.access_token().await,
            Credentials::Caller(t) => Ok(t.clone()),
            Credentials::CallerRequired => Err(AuthError::MissingCallerToken(
                "this client acts with its caller's own Anaplan access token, and none was given",
            )),
        }
    }

    /// When the current access token expires, if one is held.
    pub async fn expires_at(&self) -> Option<SystemTime> {
        match self {
            Credentials::OAuth(s) => s.expires_at().await,
            Credentials::Legacy(s) => s.expires_at().await,
            Credentials::Caller(_) | Credentials::CallerRequired => None,
        }
    }

    /// Anaplan refused `token` with 401: forget it so the next call obtains a new one.
    /// Returns whether a retry can help (false for a caller's token).
    pub async fn rejected(&self, token: &Secret) -> bool {
        match self {
            Credentials::OAuth(s) => s.forget(token).await,
            Credentials::Legacy(s) => s.forget(token).await,
            Credentials::Caller(_) | Credentials::CallerRequired => false,
        }
    }

    /// A name for whose view of Anaplan this is, for caches: the same for every request of
    /// a shared identity (and every instance reading the same credential store), distinct
    /// per caller token and per store, so apps that share a storage account never see each
    /// other's records. A caller's token changes when the caller refreshes it; scopes that
    /// must outlive that (`Idempotency-Key`) use [`CallerUsers::scope`], which names the
    /// caller's Anaplan user instead.
    pub fn identity(&self) -> String {
        match self {
            Credentials::OAuth(s) => format!("oauth:{}", s.store_fingerprint()),
            Credentials::Legacy(s) => format!("legacy:{}", s.store_fingerprint()),
            Credentials::Caller(t) => format!("caller:{}", t.fingerprint()),
            Credentials::CallerRequired => "caller:none".to_owned(),
        }
    }
}

/// An error's text with its chain of causes, for errors that never carry a secret (the
/// token request body is not part of a reqwest error).
pub fn describe_error<E: std::error::Error + ?Sized>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        let t = CachedToken::new(Secret::new("a"), Duration::from_secs(2100));
        assert!(t.fresh());
        let remaining = t.refresh_at - Instant::now();
        assert!(remaining <= Duration::from_secs(1800) && remaining > Duration::from_secs(1790));
        let short = CachedToken::new(Secret::new("b"), Duration::from_secs(2));
        assert!(short.refresh_at - Instant::now() <= Duration::from_millis(1600));
    }

    #[test]
    fn absurd_lifetimes_are_clamped_never_overflow() {
        let forever = CachedToken::new(Secret::new("a"), Duration::MAX);
        assert!(forever.refresh_at - Instant::now() <= MAX_LIFETIME);
        let left = forever.expires_at.duration_since(SystemTime::now()).unwrap();
        assert!(left <= MAX_LIFETIME && left > MAX_LIFETIME - Duration::from_secs(5), "{left:?}");
        // A lifetime of 0: reused briefly rather than refreshed on every request.
        let none = CachedToken::new(Secret::new("b"), Duration::ZERO);
        assert!(none.fresh());
        assert!(none.refresh_at - Instant::now() <= MIN_REUSE);
    }

    #[tokio::test]
    async fn caller_mode_without_a_token_is_an_error_and_never_retried() {
        let c = Credentials::CallerRequired;
        assert!(matches!(c.access_token().await, Err(AuthError::MissingCallerToken(_))));
        assert!(!c.rejected(&Secret::new("x")).await);
        let caller = Credentials::Caller(Secret::new("tok"));
        assert!(!caller.identity().contains("tok"));
    }
}
