//! The OAuth refresh-token grant, rotation-safe.
//!
//! One refresh at a time in the process (a mutex held across the refresh), and one at a
//! time across everything that shares the chain (the [`ChainLock`]). Under the lock the
//! newest refresh token is read from the store, spent, and its successor written back
//! before the new access token is used; the access token is shared through the store too,
//! so N instances do not cause N refreshes. A refused refresh token is re-read once from
//! the store before giving up, in case someone rotated it outside the lock (an admin's
//! `auth login`).
//!
//! A refresh runs to completion on its own task, whatever happens to the request that
//! needed it: a request dropped after Anaplan rotated the token (its deadline passed, its
//! client went away) must not take the only live refresh token with it. The successor is
//! kept in memory before it is written, and every call to the store is bounded, so a store
//! that hangs costs one request a 503, never the chain.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use super::retry::{Attempt, TokenRetry, is_transient, with_retries};
use super::source::{ChainLock, SecretKind, SecretSource};
use super::{CachedToken, DEFAULT_LIFETIME, MAX_LIFETIME, describe_error};
use crate::client::parse_retry_after;
use crate::error::AuthError;
use crate::secret::Secret;

/// How long one call to the credential store may take under the lock before the refresh
/// gives up on it (the vault client retries within this itself).
pub const STORE_TIMEOUT: Duration = Duration::from_secs(15);

/// OAuth settings and the state of one refresh-token chain.
#[derive(Debug)]
pub struct OAuthSession {
    token_url: Url,
    secrets: Arc<dyn SecretSource>,
    lock: Arc<dyn ChainLock>,
    http: reqwest::Client,
    retry: TokenRetry,
    store_timeout: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    cached: Option<CachedToken>,
    /// A rotated refresh token not (yet) in the store: set before the store is written and
    /// cleared once it is. While set it is the only live token of the chain, so it is used
    /// for the next refresh instead of the store's.
    unsaved: Option<Secret>,
    /// The access token Anaplan last refused: the shared one is not taken if it is this.
    refused: Option<Secret>,
    /// When and why the token service refused this process's last grant, while no grant
    /// succeeded since (the refresh token is dead: someone must sign in again).
    grant_refused: Option<(SystemTime, String)>,
}

/// What [`OAuthSession::keep_alive`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// The chain was refreshed recently enough (by a request, another instance, or an
    /// earlier run) at this instant: nothing was spent.
    Fresh(SystemTime),
    /// The chain was refreshed now.
    Refreshed,
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

/// What one grant produced: the successor refresh token (kept even when the access token
/// in the same answer is unusable) and the access token.
struct Granted {
    access: Result<CachedToken, AuthError>,
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
        OAuthSession {
            token_url,
            secrets,
            lock,
            http,
            retry: TokenRetry::default(),
            store_timeout: STORE_TIMEOUT,
            state: Mutex::new(State::default()),
        }
    }

    /// The same with another bound on each call to the credential store (tests).
    pub fn with_store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// The same with other retries of a busy token endpoint (tests).
    pub fn with_token_retry(mut self, retry: TokenRetry) -> Self {
        self.retry = retry;
        self
    }

    pub(super) async fn access_token(self: &Arc<Self>) -> Result<Secret, AuthError> {
        if let Some(t) = self.state.lock().await.cached.as_ref().filter(|t| t.fresh()) {
            return Ok(t.value.clone());
        }
        // The refresh runs on its own task and this request only awaits it: dropping the
        // request (deadline, client gone) detaches the task, which still stores the
        // successor of the token it spent.
        let session = Arc::clone(self);
        match tokio::spawn(async move { session.obtain().await }).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(AuthError::Unavailable("the token refresh failed unexpectedly".into())),
            Err(_) => Err(AuthError::Unavailable("the token refresh was stopped (shutting down)".into())),
        }
    }

    /// A valid access token, refreshed if needed. The mutex is held across the refresh:
    /// concurrent requests wait for one refresh instead of each spending the refresh token.
    async fn obtain(&self) -> Result<Secret, AuthError> {
        let mut state = self.state.lock().await;
        if let Some(t) = state.cached.as_ref().filter(|t| t.fresh()) {
            return Ok(t.value.clone());
        }
        let token = self.refresh(&mut state).await?;
        state.refused = None;
        state.cached = Some(token.clone());
        Ok(token.value)
    }

    /// When the chain was last refreshed, as the store records it: the later of the writes
    /// of the refresh token (a rotation, or a new chain from `auth login`) and of the shared
    /// access token (every grant). `None` when the store cannot say (a chain still at the
    /// `ANAPLAN_REFRESH_TOKEN` it started from, with a client that does not rotate).
    pub async fn last_refresh(&self) -> Result<Option<SystemTime>, AuthError> {
        let refresh = self.store("reading the refresh token's date", self.secrets.written_at(SecretKind::RefreshToken));
        let refresh = refresh.await?;
        let shared = self.store("reading the access token's date", self.secrets.written_at(SecretKind::AccessToken));
        let shared = shared.await?;
        Ok(refresh.max(shared))
    }

    /// Whether a refresh token is configured (read from the store; nothing is spent).
    pub async fn has_refresh_token(&self) -> Result<bool, AuthError> {
        if self.state.lock().await.unsaved.is_some() {
            return Ok(true);
        }
        Ok(self.newest_refresh_token().await?.is_some())
    }

    /// When and why Anaplan refused this process's last refresh, while no refresh succeeded
    /// here since (a chain started later elsewhere, e.g. by `auth login`, shows in
    /// [`last_refresh`](OAuthSession::last_refresh)).
    pub async fn refused(&self) -> Option<(SystemTime, String)> {
        self.state.lock().await.grant_refused.clone()
    }

    /// The access token in use, if one is fresh here or shared by another instance: never
    /// a refresh (for checks that must not spend the chain).
    pub async fn current_token(&self) -> Option<Secret> {
        if let Some(t) = self.state.lock().await.cached.as_ref().filter(|t| t.fresh()) {
            return Some(t.value.clone());
        }
        self.shared_token(None).await.map(|t| t.value)
    }

    /// Keeps the chain alive: refreshes it unless its last refresh ([`last_refresh`]) is
    /// more recent than `older_than`, under the same locks as any refresh (so instances and
    /// requests never spend one token twice), and runs to completion on its own task.
    ///
    /// [`last_refresh`]: OAuthSession::last_refresh
    pub async fn keep_alive(self: &Arc<Self>, older_than: Duration) -> Result<KeepAlive, AuthError> {
        let session = Arc::clone(self);
        match tokio::spawn(async move { session.keep_alive_now(older_than).await }).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(AuthError::Unavailable("the token refresh failed unexpectedly".into())),
            Err(_) => Err(AuthError::Unavailable("the token refresh was stopped (shutting down)".into())),
        }
    }

    async fn keep_alive_now(&self, older_than: Duration) -> Result<KeepAlive, AuthError> {
        let mut state = self.state.lock().await;
        if let Some(at) = self.refreshed_within(older_than).await? {
            return Ok(KeepAlive::Fresh(at));
        }
        let guard = self.lock.lock().await?;
        let outcome = async {
            // Whoever held the lock before may have refreshed already.
            if let Some(at) = self.refreshed_within(older_than).await? {
                return Ok(KeepAlive::Fresh(at));
            }
            let token = self.grant_locked(&mut state).await;
            match token {
                Ok(token) => {
                    state.refused = None;
                    state.grant_refused = None;
                    state.cached = Some(token);
                    Ok(KeepAlive::Refreshed)
                }
                Err(e) => {
                    if matches!(&e, AuthError::Rejected { code, .. } if code == "invalid_grant") {
                        state.grant_refused = Some((SystemTime::now(), e.to_string()));
                    }
                    Err(e)
                }
            }
        }
        .await;
        guard.release().await;
        outcome
    }

    /// Starts a new chain from a grant that did not spend one (an authorization code, when an
    /// admin signs the app in from a browser): stores `refresh` as the chain's newest refresh
    /// token (`SecretSource::set`: a new vault version, or the token file) and shares
    /// `access` (valid for `lifetime`, Anaplan's usual when `None`), under the same locks as
    /// a refresh, so no refresh in this process or another instance spends the old chain
    /// while it is replaced. The session forgets its cached access token, any unsaved
    /// successor of the old chain and any refusal: the next request uses `access`, and the
    /// next refresh presents `refresh`. Runs to completion on its own task.
    pub async fn start_chain(
        self: &Arc<Self>,
        refresh: Secret,
        access: Secret,
        lifetime: Option<Duration>,
    ) -> Result<(), AuthError> {
        let session = Arc::clone(self);
        match tokio::spawn(async move { session.start_chain_now(refresh, access, lifetime).await }).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(AuthError::Unavailable("storing the new sign-in failed unexpectedly".into())),
            Err(_) => Err(AuthError::Unavailable("storing the new sign-in was stopped (shutting down)".into())),
        }
    }

    async fn start_chain_now(
        &self,
        refresh: Secret,
        access: Secret,
        lifetime: Option<Duration>,
    ) -> Result<(), AuthError> {
        let mut state = self.state.lock().await;
        let guard = self.lock.lock().await?;
        let outcome = async {
            let saved = self.store("saving the new refresh token", self.secrets.set(SecretKind::RefreshToken, &refresh));
            if let Err(e) = saved.await {
                return Err(AuthError::Store(format!(
                    "the new refresh token could not be saved to {}: {e}",
                    self.secrets.describe()
                )));
            }
            let token = CachedToken::new(access, lifetime.unwrap_or(DEFAULT_LIFETIME));
            let shared = serde_json::to_string(&SharedToken::from_cached(&token)).map(Secret::new);
            if let Ok(shared) = shared {
                let share = self.secrets.set_until(SecretKind::AccessToken, &shared, token.expires_at);
                if let Err(e) = self.store("sharing the access token", share).await {
                    tracing::warn!(error = %e, "the new access token could not be shared; other instances will refresh");
                }
            }
            Ok(token)
        }
        .await;
        guard.release().await;
        let token = outcome?;
        state.unsaved = None;
        state.refused = None;
        state.grant_refused = None;
        state.cached = Some(token);
        tracing::info!(store = %self.secrets.describe(), "a new refresh-token chain was started and saved");
        Ok(())
    }

    /// The last refresh when it is more recent than `window`.
    async fn refreshed_within(&self, window: Duration) -> Result<Option<SystemTime>, AuthError> {
        let last = self.last_refresh().await?;
        Ok(last.filter(|at| at.elapsed().map(|age| age < window).unwrap_or(true)))
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

    /// Runs one call to the credential store, bounded by the store timeout.
    async fn store<T>(&self, what: &str, call: impl Future<Output = Result<T, AuthError>>) -> Result<T, AuthError> {
        match tokio::time::timeout(self.store_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(AuthError::Store(format!(
                "{} did not answer within {} s ({what})",
                self.secrets.describe(),
                self.store_timeout.as_secs_f32()
            ))),
        }
    }

    async fn shared_token(&self, rejected: Option<&Secret>) -> Option<CachedToken> {
        let read = self.store("reading the shared access token", self.secrets.get_fresh(SecretKind::AccessToken));
        let stored = match read.await {
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
        let outcome = self.grant_locked(state).await;
        match &outcome {
            Err(e @ AuthError::Rejected { code, .. }) if code == "invalid_grant" => {
                state.grant_refused = Some((SystemTime::now(), e.to_string()));
            }
            Ok(_) => state.grant_refused = None,
            Err(_) => {}
        }
        outcome
    }

    /// Spends the chain's newest refresh token (the lock is held): stores its successor,
    /// shares the new access token, and answers it.
    async fn grant_locked(&self, state: &mut State) -> Result<CachedToken, AuthError> {
        let client_id = self
            .store("reading the client id", self.secrets.get(SecretKind::ClientId))
            .await?
            .ok_or_else(|| self.missing(SecretKind::ClientId))?;
        let client_secret = self.store("reading the client secret", self.secrets.get(SecretKind::ClientSecret)).await?;
        let current = match state.unsaved.clone() {
            Some(t) => t,
            None => self.newest_refresh_token().await?.ok_or_else(|| self.missing(SecretKind::RefreshToken))?,
        };
        let (granted, spent) = match self.grant(&client_id, client_secret.as_ref(), &current).await {
            Err(AuthError::Rejected { code, description }) if code == "invalid_grant" => {
                // The token presented is dead. One kept in memory was spent by someone who
                // read it from the store after all; and someone may have rotated the chain
                // outside the lock: try the store's newest once before giving up.
                state.unsaved = None;
                match self.newest_refresh_token().await? {
                    Some(latest) if latest != current => {
                        tracing::info!("refresh token refused; the store has a newer one, retrying with it");
                        let granted = self.grant(&client_id, client_secret.as_ref(), &latest).await;
                        (self.explain(granted, client_secret.is_some())?, latest)
                    }
                    _ => return Err(AuthError::Rejected { code, description }),
                }
            }
            other => (self.explain(other, client_secret.is_some())?, current),
        };
        if let Some(next) = granted.next_refresh.filter(|n| *n != spent) {
            // Kept before it is written: if the write fails or hangs (or this task is
            // stopped in the middle of it), the new token stays in memory as the chain's
            // only live token, this request fails (503) rather than lose it, and the next
            // refresh uses it.
            state.unsaved = Some(next.clone());
            let saved = self
                .store("saving the rotated refresh token", self.secrets.rotate(SecretKind::RefreshToken, &spent, &next))
                .await;
            if let Err(e) = saved {
                return Err(AuthError::Store(format!(
                    "the rotated refresh token could not be saved to {}: {e}",
                    self.secrets.describe()
                )));
            }
            state.unsaved = None;
            tracing::info!(store = %self.secrets.describe(), "refresh token rotated and saved");
        }
        let access = granted.access?;
        let shared = serde_json::to_string(&SharedToken::from_cached(&access)).map(Secret::new);
        if let Ok(shared) = shared {
            let share = self.secrets.set_until(SecretKind::AccessToken, &shared, access.expires_at);
            if let Err(e) = self.store("sharing the access token", share).await {
                tracing::warn!(error = %e, "the new access token could not be shared; other instances will refresh");
            }
        }
        Ok(access)
    }

    async fn newest_refresh_token(&self) -> Result<Option<Secret>, AuthError> {
        self.store("reading the refresh token", self.secrets.get_fresh(SecretKind::RefreshToken)).await
    }

    /// A refused client says what to fix: a client that needs a secret and has none is told
    /// to configure it, rather than blamed on the refresh token. It stays a refusal (401):
    /// retrying cannot add a setting, so it must not look transient to Logic Apps.
    fn explain(&self, granted: Result<Granted, AuthError>, has_secret: bool) -> Result<Granted, AuthError> {
        match granted {
            Err(AuthError::Rejected { code, .. })
                if !has_secret && (code == "invalid_client" || code == "unauthorized_client") =>
            {
                Err(AuthError::Rejected {
                    description: format!(
                        "no client secret is configured, and a client made for the authorization-code grant needs \
                         its client secret: set {} (a device-grant client needs none: then check the client id)",
                        self.secrets.locate(SecretKind::ClientSecret)
                    ),
                    code,
                })
            }
            other => other,
        }
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

    /// The refresh-token grant, with retries while the token endpoint is busy (429, 408,
    /// 5xx, or no connection at all). A timeout is not retried: Anaplan may have rotated
    /// the token before the answer was lost.
    async fn grant(
        &self,
        client_id: &Secret,
        client_secret: Option<&Secret>,
        refresh: &Secret,
    ) -> Result<Granted, AuthError> {
        with_retries(&self.retry, "OAuth token endpoint", || self.grant_once(client_id, client_secret, refresh)).await
    }

    async fn grant_once(
        &self,
        client_id: &Secret,
        client_secret: Option<&Secret>,
        refresh: &Secret,
    ) -> Attempt<Granted> {
        // The form oauthlib and the oauth2 crate send (Anaplan takes JSON too); the body is
        // never part of an error.
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", refresh.expose())
                .append_pair("client_id", client_id.expose());
            if let Some(secret) = client_secret {
                form.append_pair("client_secret", secret.expose());
            }
            form.finish()
        };
        let sent = self
            .http
            .post(self.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                let detail = format!("could not connect: {}", describe_error(&e.without_url()));
                return Attempt::Transient { status: 503, detail, retry_after: None };
            }
            Err(e) => return Attempt::Done(Err(AuthError::Unavailable(describe_error(&e.without_url())))),
        };
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(parse_retry_after);
        if is_transient(status) {
            return Attempt::Transient { status, detail: format!("the token endpoint answered {status}"), retry_after };
        }
        match resp.bytes().await {
            Ok(body) => Attempt::Done(token_answer(status, &body)),
            Err(e) => Attempt::Done(Err(AuthError::Unavailable(describe_error(&e.without_url())))),
        }
    }
}

/// A token endpoint's answer (status and body) as a [`Granted`] or an [`AuthError`] that
/// never carries a token. Lenient where leniency loses nothing: a successor refresh token
/// is taken whatever else the answer holds, and `expires_in` may be any number or numeric
/// string (negative or absurd ones are clamped by [`CachedToken::new`]).
fn token_answer(status: u16, body: &[u8]) -> Result<Granted, AuthError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| parsed.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
    if !(200..300).contains(&status) {
        return Err(AuthError::Rejected {
            code: field("error").map(str::to_owned).unwrap_or_else(|| format!("HTTP {status}")),
            description: field("error_description").map(str::to_owned).unwrap_or_default(),
        });
    }
    if parsed.is_none() {
        return Err(AuthError::Unavailable("unreadable token response: not JSON".into()));
    }
    let next_refresh = field("refresh_token").map(Secret::new);
    let lifetime = lifetime(parsed.as_ref().and_then(|v| v.get("expires_in")));
    let access = match field("access_token") {
        Some(token) => Ok(CachedToken::new(Secret::new(token), lifetime)),
        None => Err(AuthError::Unavailable("unreadable token response: no access_token".into())),
    };
    Ok(Granted { access, next_refresh })
}

/// `expires_in` as a lifetime: absent means Anaplan's usual; numbers and numeric strings
/// are seconds; negative, non-finite or non-numeric values count as 0.
fn lifetime(expires_in: Option<&Value>) -> Duration {
    let secs = match expires_in {
        None | Some(Value::Null) => return DEFAULT_LIFETIME,
        Some(Value::Number(n)) => n.as_u64().map(|s| s as f64).or_else(|| n.as_f64()),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match secs {
        Some(s) if s.is_finite() && s > 0.0 => Duration::try_from_secs_f64(s).unwrap_or(MAX_LIFETIME).min(MAX_LIFETIME),
        _ => Duration::ZERO,
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

    fn granted(body: &str) -> Granted {
        token_answer(200, body.as_bytes()).unwrap()
    }

    #[test]
    fn expires_in_of_any_shape_gives_a_bounded_lifetime() {
        let life = |v: &str| {
            let t = granted(&format!(r#"{{"access_token":"a","expires_in":{v}}}"#)).access.unwrap();
            t.expires_at.duration_since(SystemTime::now()).unwrap_or_default()
        };
        assert!(life("18446744073709551615") <= MAX_LIFETIME);
        assert!(life("1e308") <= MAX_LIFETIME);
        assert!(life("99999999999999999999999999") <= MAX_LIFETIME);
        assert_eq!(life("-1"), Duration::ZERO);
        assert_eq!(life("0"), Duration::ZERO);
        assert_eq!(life(r#""nonsense""#), Duration::ZERO);
        let l = life(r#""2100""#);
        assert!(l > Duration::from_secs(2090) && l <= Duration::from_secs(2100), "{l:?}");
        let l = life("null");
        assert!(l > Duration::from_secs(2090), "{l:?}");
        // A negative lifetime still gives a token that is used, not a refresh per request.
        assert!(granted(r#"{"access_token":"a","expires_in":-5}"#).access.unwrap().fresh());
    }

    #[test]
    fn a_successor_is_kept_from_an_answer_without_a_usable_access_token() {
        let g = granted(r#"{"refresh_token":"rt-next","expires_in":"soon"}"#);
        assert_eq!(g.next_refresh.unwrap().expose(), "rt-next");
        assert!(matches!(g.access, Err(AuthError::Unavailable(_))));
    }

    #[test]
    fn refusals_carry_the_oauth_code_never_the_body() {
        let e = token_answer(401, br#"{"error":"invalid_client","error_description":"Client authentication failed."}"#);
        assert!(matches!(e, Err(AuthError::Rejected { ref code, .. }) if code == "invalid_client"), "{:?}", e.err());
        let html = token_answer(403, b"<html>denied rt-secret</html>");
        match html {
            Err(AuthError::Rejected { code, description }) => {
                assert_eq!(code, "HTTP 403");
                assert!(!description.contains("rt-secret"));
            }
            other => panic!("{:?}", other.err()),
        }
    }
}
