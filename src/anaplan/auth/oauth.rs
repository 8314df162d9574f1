//! The OAuth refresh-token grant, rotation-safe.
//!
//! One refresh at a time in the process (a mutex held across the refresh), and one at a
//! time across everything that shares the chain (the [`ChainLock`]). Under the lock the
//! newest refresh token is read from the store, spent, and its successor written back
//! before the new access token is used; the access token is shared through the store too,
//! so N instances do not cause N refreshes. A refused refresh token is re-read once from
//! the store before giving up, in case someone rotated it outside the lock (an admin's
//! `auth login`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, TokenResponse, TokenUrl};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use url::Url;

use super::source::{ChainLock, SecretKind, SecretSource};
use super::{CachedToken, DEFAULT_LIFETIME, MAX_LIFETIME, describe_error};
use crate::anaplan::error::AuthError;
use crate::secret::Secret;

/// OAuth settings and the state of one refresh-token chain.
#[derive(Debug)]
pub struct OAuthSession {
    token_url: Url,
    secrets: Arc<dyn SecretSource>,
    lock: Arc<dyn ChainLock>,
    http: reqwest::Client,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    cached: Option<CachedToken>,
    /// A rotated refresh token that could not be written to the store. It is the only
    /// live token of the chain, so it is used for the next refresh instead of the store's.
    unsaved: Option<Secret>,
    /// The access token Anaplan last refused: the shared one is not taken if it is this.
    refused: Option<Secret>,
}

/// The shared access token as stored (unix milliseconds).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SharedToken {
    access_token: String,
    refresh_at: u64,
    expires_at: u64,
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

impl SharedToken {
    fn from_cached(t: &CachedToken) -> Self {
        let now = Instant::now();
        let refresh_in = t.refresh_at.saturating_duration_since(now);
        SharedToken {
            access_token: t.value.expose().to_owned(),
            refresh_at: unix_ms(SystemTime::now() + refresh_in),
            expires_at: unix_ms(t.expires_at),
        }
    }

    /// The token if it is still fresh by its own clock. Whatever another instance (or
    /// anyone with write access to the store) put there, this never panics: times are
    /// clamped to [`MAX_LIFETIME`] from now.
    fn into_cached(self) -> Option<CachedToken> {
        let now = unix_ms(SystemTime::now());
        if self.refresh_at <= now || self.access_token.is_empty() {
            return None;
        }
        let refresh_in = Duration::from_millis(self.refresh_at - now).min(MAX_LIFETIME);
        let expires_in = Duration::from_millis(self.expires_at.saturating_sub(now)).min(MAX_LIFETIME);
        Some(CachedToken {
            value: Secret::new(self.access_token),
            refresh_at: Instant::now().checked_add(refresh_in)?,
            expires_at: SystemTime::now().checked_add(expires_in)?,
        })
    }
}

/// What one grant produced.
struct Granted {
    access: CachedToken,
    next_refresh: Option<Secret>,
}

impl OAuthSession {
    /// A session against the OAuth service at `oauth_url`, with secrets from `secrets`
    /// and refreshes serialised by `lock`.
    pub fn new(
        oauth_url: &Url,
        secrets: Arc<dyn SecretSource>,
        lock: Arc<dyn ChainLock>,
        http: reqwest::Client,
    ) -> Self {
        let token_url = oauth_url.join("oauth/token").expect("a base URL joins a relative path");
        OAuthSession { token_url, secrets, lock, http, state: Mutex::new(State::default()) }
    }

    pub(super) async fn access_token(&self) -> Result<Secret, AuthError> {
        // The mutex is held across the refresh: concurrent requests wait for one refresh
        // instead of each spending the refresh token.
        let mut state = self.state.lock().await;
        if let Some(t) = state.cached.as_ref().filter(|t| t.fresh()) {
            return Ok(t.value.clone());
        }
        let token = self.refresh(&mut state).await?;
        state.refused = None;
        state.cached = Some(token.clone());
        Ok(token.value)
    }

    pub(super) async fn expires_at(&self) -> Option<SystemTime> {
        self.state.lock().await.cached.as_ref().map(|t| t.expires_at)
    }

    pub(super) fn store_fingerprint(&self) -> String {
        Secret::new(self.secrets.describe()).fingerprint()[..16].to_owned()
    }

    pub(super) async fn forget(&self, rejected: &Secret) -> bool {
        let mut state = self.state.lock().await;
        if state.cached.as_ref().is_some_and(|t| &t.value == rejected) {
            state.cached = None;
        }
        state.refused = Some(rejected.clone());
        true
    }

    async fn shared_token(&self, rejected: Option<&Secret>) -> Option<CachedToken> {
        let stored = match self.secrets.get_fresh(SecretKind::AccessToken).await {
            Ok(Some(s)) => s,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "the shared access token could not be read; refreshing");
                return None;
            }
        };
        let token = serde_json::from_str::<SharedToken>(stored.expose()).ok()?.into_cached()?;
        (Some(&token.value) != rejected).then_some(token)
    }

    async fn refresh(&self, state: &mut State) -> Result<CachedToken, AuthError> {
        // The token another instance shared may still be good: no refresh needed. (The
        // one this process just saw rejected is not.)
        let rejected = state.refused.clone();
        if let Some(t) = self.shared_token(rejected.as_ref()).await {
            return Ok(t);
        }
        let guard = self.lock.lock().await?;
        let outcome = self.refresh_locked(state, rejected.as_ref()).await;
        guard.release().await;
        outcome
    }

    async fn refresh_locked(&self, state: &mut State, rejected: Option<&Secret>) -> Result<CachedToken, AuthError> {
        // Whoever held the lock before may have refreshed already.
        if let Some(t) = self.shared_token(rejected).await {
            return Ok(t);
        }
        let client_id =
            self.secrets.get(SecretKind::ClientId).await?.ok_or_else(|| self.missing(SecretKind::ClientId))?;
        let client_secret = self.secrets.get(SecretKind::ClientSecret).await?;
        let current = match state.unsaved.clone() {
            Some(t) => t,
            None => self
                .secrets
                .get_fresh(SecretKind::RefreshToken)
                .await?
                .ok_or_else(|| self.missing(SecretKind::RefreshToken))?,
        };
        let granted = match self.grant(&client_id, client_secret.as_ref(), &current).await {
            Err(AuthError::Rejected { code, description }) if code == "invalid_grant" && state.unsaved.is_none() => {
                // Someone may have rotated the chain outside the lock: try the store's
                // newest token once before giving up.
                match self.secrets.get_fresh(SecretKind::RefreshToken).await? {
                    Some(latest) if latest != current => {
                        tracing::info!("refresh token refused; the store has a newer one, retrying with it");
                        self.grant(&client_id, client_secret.as_ref(), &latest).await.map(|g| (g, latest))?
                    }
                    _ => return Err(AuthError::Rejected { code, description }),
                }
            }
            other => other.map(|g| (g, current))?,
        };
        let (granted, spent) = granted;
        if let Some(next) = granted.next_refresh.filter(|n| *n != spent) {
            // Save before use: if this fails, the new token stays in memory as the only
            // live token of the chain, and this request fails (503) rather than lose it.
            if let Err(e) = self.secrets.set(SecretKind::RefreshToken, &next).await {
                state.unsaved = Some(next);
                return Err(AuthError::Store(format!(
                    "the rotated refresh token could not be saved to {}: {e}",
                    self.secrets.describe()
                )));
            }
            state.unsaved = None;
            tracing::info!(store = %self.secrets.describe(), "refresh token rotated and saved");
        }
        let shared = serde_json::to_string(&SharedToken::from_cached(&granted.access)).map(Secret::new);
        if let Ok(shared) = shared
            && let Err(e) = self.secrets.set(SecretKind::AccessToken, &shared).await
        {
            tracing::warn!(error = %e, "the new access token could not be shared; other instances will refresh");
        }
        Ok(granted.access)
    }

    fn missing(&self, kind: SecretKind) -> AuthError {
        AuthError::Missing(format!(
            "{} has no {} (set it, or run `anaplan-functions auth login`)",
            self.secrets.describe(),
            match kind {
                SecretKind::RefreshToken => "refresh token",
                SecretKind::ClientId => "OAuth client id",
                _ => "secret",
            }
        ))
    }

    async fn grant(
        &self,
        client_id: &Secret,
        client_secret: Option<&Secret>,
        refresh: &Secret,
    ) -> Result<Granted, AuthError> {
        let mut client = BasicClient::new(ClientId::new(client_id.expose().to_owned()))
            .set_token_uri(TokenUrl::from_url(self.token_url.clone()))
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        let answer = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_owned()))
            .request_async(&self.http)
            .await;
        token_answer(answer)
            .map(|(access, lifetime, next)| Granted { access: CachedToken::new(access, lifetime), next_refresh: next })
    }
}

type TokenAnswer = Result<
    oauth2::basic::BasicTokenResponse,
    RequestTokenError<oauth2::HttpClientError<reqwest::Error>, oauth2::basic::BasicErrorResponse>,
>;

/// A token endpoint's answer as (access token, lifetime, refresh token) or an
/// [`AuthError`] that never carries a token.
pub(crate) fn token_answer(answer: TokenAnswer) -> Result<(Secret, Duration, Option<Secret>), AuthError> {
    match answer {
        Ok(t) => Ok((
            Secret::new(t.access_token().secret().clone()),
            t.expires_in().unwrap_or(DEFAULT_LIFETIME),
            t.refresh_token().map(|r| Secret::new(r.secret().clone())),
        )),
        Err(RequestTokenError::ServerResponse(e)) => {
            let code = match e.error() {
                BasicErrorResponseType::InvalidGrant => "invalid_grant".to_owned(),
                BasicErrorResponseType::InvalidClient => "invalid_client".to_owned(),
                other => other.to_string(),
            };
            Err(AuthError::Rejected { code, description: e.error_description().cloned().unwrap_or_default() })
        }
        Err(RequestTokenError::Request(e)) => Err(AuthError::Unavailable(describe_error(&e))),
        Err(RequestTokenError::Parse(e, _)) => Err(AuthError::Unavailable(format!("unreadable token response: {e}"))),
        Err(RequestTokenError::Other(e)) => Err(AuthError::Unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_token_keeps_its_refresh_time_across_instances() {
        let t = CachedToken::new(Secret::new("at-1"), Duration::from_secs(100));
        let json = serde_json::to_string(&SharedToken::from_cached(&t)).unwrap();
        let back = serde_json::from_str::<SharedToken>(&json).unwrap().into_cached().unwrap();
        assert_eq!(back.value.expose(), "at-1");
        let delta = back.refresh_at.max(t.refresh_at) - back.refresh_at.min(t.refresh_at);
        assert!(delta < Duration::from_millis(50), "{delta:?}");
        let stale = SharedToken { access_token: "x".into(), refresh_at: 1, expires_at: 2 };
        assert!(stale.into_cached().is_none());
    }

    #[test]
    fn an_absurd_shared_token_never_panics() {
        let far = SharedToken { access_token: "x".into(), refresh_at: u64::MAX, expires_at: u64::MAX };
        let t = far.into_cached().unwrap();
        assert!(t.refresh_at - Instant::now() <= MAX_LIFETIME);
        let backwards = SharedToken { access_token: "x".into(), refresh_at: u64::MAX, expires_at: 0 };
        assert!(backwards.into_cached().is_some());
    }
}
