//! Access tokens for Anaplan: obtained, cached, refreshed before they expire, one refresh
//! at a time.
//!
//! - `oauth`: the refresh-token grant against Anaplan's OAuth service (`/oauth/token`,
//!   client credentials in the body). With a rotating client every refresh returns a new
//!   refresh token and spends the old one, so the new one is saved before the new access
//!   token is used.
//! - `basic`: the legacy token service (`/token/authenticate`, `/token/refresh`).
//! - `caller`: the caller's own token, used as given and never refreshed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, TokenResponse, TokenUrl};
use tokio::sync::Mutex;
use url::Url;

use super::error::AuthError;
use super::token_file::TokenFile;
use crate::secret::Secret;

/// Anaplan access tokens live 35 minutes; this is assumed when a service does not say.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(2100);

/// A cached access token and when to stop using it.
#[derive(Debug, Clone)]
struct CachedToken {
    value: Secret,
    /// Refresh from this instant on: a fifth of the lifetime (at most 5 minutes) before it
    /// expires, so a request never starts with a token about to die.
    refresh_at: Instant,
}

impl CachedToken {
    fn new(value: Secret, lifetime: Duration) -> Self {
        let margin = (lifetime / 5).min(Duration::from_secs(300));
        CachedToken { value, refresh_at: Instant::now() + lifetime.saturating_sub(margin) }
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
    /// Legacy basic authentication.
    Basic(Arc<BasicSession>),
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
            Credentials::Basic(s) => s.access_token().await,
            Credentials::Caller(t) => Ok(t.clone()),
            Credentials::CallerRequired => Err(AuthError::MissingCallerToken(
                "this app uses the caller's Anaplan token (ANAPLAN_AUTH_METHOD=caller): send Authorization: Bearer <Anaplan access token>",
            )),
        }
    }

    /// Anaplan refused `token` with 401: forget it so the next call obtains a new one.
    /// Returns whether a retry can help (false for a caller's token).
    pub async fn rejected(&self, token: &Secret) -> bool {
        match self {
            Credentials::OAuth(s) => s.forget(token).await,
            Credentials::Basic(s) => s.forget(token).await,
            Credentials::Caller(_) | Credentials::CallerRequired => false,
        }
    }

    /// A name for whose view of Anaplan this is, for caches: the same for every request
    /// of a shared identity, distinct per caller token.
    pub fn identity(&self) -> String {
        match self {
            Credentials::OAuth(_) => "oauth".to_owned(),
            Credentials::Basic(_) => "basic".to_owned(),
            Credentials::Caller(t) => format!("caller:{}", t.fingerprint()),
            Credentials::CallerRequired => "caller:none".to_owned(),
        }
    }
}

/// OAuth settings and the state of one refresh-token chain.
#[derive(Debug)]
pub struct OAuthSession {
    token_url: Url,
    client_id: String,
    client_secret: Option<Secret>,
    store: TokenFile,
    http: reqwest::Client,
    state: Mutex<OAuthState>,
}

#[derive(Debug, Default)]
struct OAuthState {
    cached: Option<CachedToken>,
    /// A rotated refresh token that could not be written to the store. It is the only
    /// live token of the chain, so it is used for the next refresh instead of the store's.
    unsaved: Option<Secret>,
}

impl OAuthSession {
    /// A session for `client_id` against the OAuth service at `oauth_url`.
    pub fn new(
        oauth_url: &Url,
        client_id: String,
        client_secret: Option<Secret>,
        store: TokenFile,
        http: reqwest::Client,
    ) -> Self {
        let token_url = oauth_url.join("oauth/token").expect("a base URL joins a relative path");
        OAuthSession { token_url, client_id, client_secret, store, http, state: Mutex::new(OAuthState::default()) }
    }

    async fn access_token(&self) -> Result<Secret, AuthError> {
        // The lock is held across the refresh: concurrent requests wait for one refresh
        // instead of each spending the refresh token.
        let mut state = self.state.lock().await;
        if let Some(t) = state.cached.as_ref().filter(|t| t.fresh()) {
            return Ok(t.value.clone());
        }
        let token = self.refresh(&mut state).await?;
        Ok(token)
    }

    async fn forget(&self, rejected: &Secret) -> bool {
        let mut state = self.state.lock().await;
        if state.cached.as_ref().is_some_and(|t| &t.value == rejected) {
            state.cached = None;
        }
        true
    }

    async fn refresh(&self, state: &mut OAuthState) -> Result<Secret, AuthError> {
        let store = self.store.clone();
        let lock = tokio::task::spawn_blocking(move || store.lock())
            .await
            .map_err(|e| AuthError::Store(e.to_string()))?
            .map_err(|e| AuthError::Store(format!("cannot lock {}: {e}", self.store.path().display())))?;
        let current = match state.unsaved.clone() {
            Some(t) => t,
            None => self
                .store
                .load()
                .map_err(|e| AuthError::Store(format!("cannot read {}: {e}", self.store.path().display())))?,
        };
        let granted = self.grant(&current).await;
        let (access, lifetime, next) = granted?;
        if let Some(next) = next.filter(|n| n != &current) {
            // Save before use: if this fails the new token stays in memory as the live one.
            if let Err(e) = self.store.save(&next) {
                state.unsaved = Some(next);
                drop(lock);
                return Err(AuthError::Store(format!("cannot write {}: {e}", self.store.path().display())));
            }
            state.unsaved = None;
            tracing::info!(store = %self.store.path().display(), "refresh token rotated and saved");
        }
        drop(lock);
        state.cached = Some(CachedToken::new(access.clone(), lifetime));
        Ok(access)
    }

    async fn grant(&self, refresh: &Secret) -> Result<(Secret, Duration, Option<Secret>), AuthError> {
        let mut client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_token_uri(TokenUrl::from_url(self.token_url.clone()))
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &self.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        let answer = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_owned()))
            .request_async(&self.http)
            .await;
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
                let description = e.error_description().cloned().unwrap_or_default();
                Err(AuthError::Rejected { code, description })
            }
            Err(RequestTokenError::Request(e)) => Err(AuthError::Unavailable(describe_request_error(&e))),
            Err(RequestTokenError::Parse(e, _)) => {
                Err(AuthError::Unavailable(format!("unreadable token response: {e}")))
            }
            Err(RequestTokenError::Other(e)) => Err(AuthError::Unavailable(e)),
        }
    }
}

fn describe_request_error<E: std::error::Error>(e: &E) -> String {
    // The chain of sources names the cause (connection refused, timeout) without the
    // request body, which holds the refresh token.
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Legacy basic authentication against Anaplan's token service.
#[derive(Debug)]
pub struct BasicSession {
    auth_url: Url,
    username: String,
    password: Secret,
    http: reqwest::Client,
    cached: Mutex<Option<CachedToken>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyTokenInfo {
    token_value: String,
    expires_at: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyTokenResponse {
    token_info: LegacyTokenInfo,
}

impl BasicSession {
    /// A session for `username` against the token service at `auth_url`.
    pub fn new(auth_url: &Url, username: String, password: Secret, http: reqwest::Client) -> Self {
        BasicSession { auth_url: auth_url.clone(), username, password, http, cached: Mutex::new(None) }
    }

    async fn access_token(&self) -> Result<Secret, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.fresh()) {
            return Ok(t.value.clone());
        }
        // A token near its end is extended with /token/refresh (same value, new expiry);
        // if that fails, log in again.
        if let Some(old) = cached.take()
            && let Ok(t) = self.call("token/refresh", format!("AnaplanAuthToken {}", old.value.expose())).await
        {
            let value = t.value.clone();
            *cached = Some(t);
            return Ok(value);
        }
        let basic = basic_header(&self.username, self.password.expose());
        let t = self.call("token/authenticate", basic).await?;
        let value = t.value.clone();
        *cached = Some(t);
        Ok(value)
    }

    async fn forget(&self, rejected: &Secret) -> bool {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|t| &t.value == rejected) {
            *cached = None;
        }
        true
    }

    async fn call(&self, path: &str, authorization: String) -> Result<CachedToken, AuthError> {
        let url = self.auth_url.join(path).expect("a base URL joins a relative path");
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|e| AuthError::Unavailable(describe_request_error(&e.without_url())))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
        if status.is_success() {
            let parsed: LegacyTokenResponse = serde_json::from_str(&body)
                .map_err(|e| AuthError::Unavailable(format!("unreadable token response: {e}")))?;
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            let lifetime = parsed
                .token_info
                .expires_at
                .map(|at| Duration::from_millis(at.saturating_sub(now_ms).max(0) as u64))
                .unwrap_or(DEFAULT_LIFETIME);
            Ok(CachedToken::new(Secret::new(parsed.token_info.token_value), lifetime))
        } else if status.is_client_error() {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            Err(AuthError::Rejected {
                code: v.get("status").and_then(|s| s.as_str()).unwrap_or("FAILURE").to_owned(),
                description: v.get("statusMessage").and_then(|s| s.as_str()).unwrap_or("").to_owned(),
            })
        } else {
            Err(AuthError::Unavailable(format!("token service answered {status}")))
        }
    }
}

fn basic_header(user: &str, password: &str) -> String {
    format!("Basic {}", base64_encode(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 (RFC 4648, padded). Small enough not to need a crate.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(input.as_bytes()), want);
        }
    }

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        let t = CachedToken::new(Secret::new("a"), Duration::from_secs(2100));
        assert!(t.fresh());
        let remaining = t.refresh_at - Instant::now();
        assert!(remaining <= Duration::from_secs(1800) && remaining > Duration::from_secs(1790));
        let short = CachedToken::new(Secret::new("b"), Duration::from_secs(2));
        assert!(short.refresh_at - Instant::now() <= Duration::from_millis(1600));
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
