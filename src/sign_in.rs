//! The state of the app's own Anaplan sign-in, as `health`, `keep-signed-in` and
//! `auth check` report it: when the OAuth refresh-token chain was last refreshed and when it
//! dies if nobody uses it (a rotatable client's refresh token lives
//! `ANAPLAN_REFRESH_TOKEN_LIFETIME` seconds unused), or when the certificate expires.
//!
//! The last refresh is what the credential store records (see
//! [`anaplan::auth::OAuthSession::last_refresh`]), so every instance sees the same one. The
//! expiry is an estimate: Anaplan does not say when a refresh token dies, only how long the
//! OAuth client lets one live unused.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anaplan::Credentials;
use anaplan::auth::{SecretKind, SecretSource};
use anaplan::secret::Secret;
use url::Url;

use crate::auth_commands::utc;
use crate::config::AuthMethod;

/// A certificate this close to its expiry makes `keep-signed-in` fail and `health` red.
pub const CERTIFICATE_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long `health` reuses its last look at Anaplan.
pub const ANAPLAN_CHECK_TTL: Duration = Duration::from_secs(60);

/// What the sign-in checks need besides the Anaplan client.
pub struct SignIn {
    /// `ANAPLAN_AUTH_METHOD`.
    pub method: AuthMethod,
    /// Where the app's credentials are (`None` in `caller` mode).
    pub secrets: Option<Arc<dyn SecretSource>>,
    /// Whether they are in Key Vault.
    pub key_vault: bool,
    /// `ANAPLAN_REFRESH_TOKEN_LIFETIME`.
    pub lifetime: Duration,
    /// The OAuth service (`ANAPLAN_OAUTH_URL`): where `onboard` sends the browser.
    pub oauth_url: Option<Url>,
    /// `GET /2/0/users/me` on the Integration API host.
    me_url: Url,
    http: reqwest::Client,
    /// The last look at Anaplan (`health` calls it at most once a minute).
    anaplan: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").field("method", &self.method).field("lifetime", &self.lifetime).finish()
    }
}

/// The sign-in's state: the `auth` part of `health`.
#[derive(Debug, Clone, Default)]
pub struct AuthState {
    /// When the chain was last refreshed (OAuth; `None`: the store cannot say).
    pub last_refresh: Option<SystemTime>,
    /// When the chain dies if nobody uses it (OAuth).
    pub refresh_token_expires_at: Option<SystemTime>,
    /// When the certificate expires (certificate).
    pub certificate_not_after: Option<SystemTime>,
    /// What is wrong, if anything.
    pub problem: Option<String>,
    /// What is wrong with Key Vault, if the checks could not read it.
    pub vault_problem: Option<String>,
}

impl SignIn {
    /// The checks for an app that reads its credentials from `secrets`.
    pub fn new(
        method: AuthMethod,
        secrets: Option<Arc<dyn SecretSource>>,
        key_vault: bool,
        lifetime: Duration,
        api_url: &Url,
    ) -> Self {
        let mut me_url = api_url.clone();
        if let Ok(mut segments) = me_url.path_segments_mut() {
            segments.pop_if_empty().extend(["2", "0", "users", "me"]);
        }
        SignIn {
            method,
            secrets,
            key_vault,
            lifetime,
            oauth_url: None,
            me_url,
            http: anaplan::client::http_client(Some(Duration::from_secs(10))),
            anaplan: tokio::sync::Mutex::new(None),
        }
    }

    /// The same with the OAuth service at `oauth_url` (`onboard` signs the app in there).
    pub fn with_oauth_url(mut self, oauth_url: &Url) -> Self {
        self.oauth_url = Some(oauth_url.clone());
        self
    }

    /// Who `token` signs in as (`GET /2/0/users/me`): the user's name and email. Nothing is
    /// refreshed; an error says what went wrong without the token.
    pub async fn user(&self, token: &Secret) -> Result<(String, String), String> {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("AnaplanAuthToken {}", token.expose()))
            .map_err(|_| "the access token is not a valid header value".to_owned())?;
        value.set_sensitive(true);
        let sent = self
            .http
            .get(self.me_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, value)
            .send()
            .await;
        let resp = sent.map_err(|e| {
            format!("Anaplan could not be reached: {}", anaplan::auth::describe_error(&e.without_url()))
        })?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(format!("Anaplan answered {status} to GET /2/0/users/me"));
        }
        let me: serde_json::Value =
            resp.json().await.map_err(|_| "Anaplan's answer about the user is not JSON".to_owned())?;
        let user = &me["user"];
        let text = |k: &str| user[k].as_str().unwrap_or_default().trim().to_owned();
        let name = format!("{} {}", text("firstName"), text("lastName")).trim().to_owned();
        Ok((name, text("email")))
    }

    /// A quarter of the lifetime: `keep-signed-in` refreshes a chain older than this, and
    /// `health` turns red when less than this is left.
    pub fn keep_alive_window(&self) -> Duration {
        self.lifetime / 4
    }

    /// When a chain refreshed at `last` dies unused.
    pub fn chain_dies(&self, last: SystemTime) -> SystemTime {
        last.checked_add(self.lifetime).unwrap_or(last)
    }

    /// The sign-in's state, read from the store: nothing is refreshed or spent.
    pub async fn state(&self, credentials: &Credentials) -> AuthState {
        let mut state = AuthState::default();
        match (self.method, credentials, &self.secrets) {
            (AuthMethod::OAuth, Credentials::OAuth(session), _) => {
                match session.has_refresh_token().await {
                    Ok(true) => {}
                    Ok(false) => {
                        state.problem = Some(
                            "no refresh token is configured: sign the app in (open onboard, or run \
                             `anaplan-functions auth login`)"
                                .into(),
                        );
                        return state;
                    }
                    Err(e) => {
                        state.problem = Some(format!("the refresh token could not be read: {e}"));
                        self.note_store_problem(&mut state, &e);
                        return state;
                    }
                }
                let refused = session.refused().await;
                match session.last_refresh().await {
                    Ok(last) => {
                        // A refusal counts until a chain is stored after it (a new sign-in).
                        if let Some((_, why)) = refused.filter(|(at, _)| last.is_none_or(|l| l < *at)) {
                            state.problem = Some(format!(
                                "{why}; the refresh token is dead: sign the app in again (onboard, or `auth login`)"
                            ));
                        }
                        if let Some(last) = last {
                            let dies = self.chain_dies(last);
                            state.last_refresh = Some(last);
                            state.refresh_token_expires_at = Some(dies);
                            if state.problem.is_none() {
                                state.problem = self.chain_problem(dies);
                            }
                        }
                    }
                    Err(e) => {
                        state.problem.get_or_insert_with(|| format!("the last refresh could not be read: {e}"));
                        self.note_store_problem(&mut state, &e);
                    }
                }
            }
            (AuthMethod::Certificate, _, Some(secrets)) => match secrets.get_fresh(SecretKind::Certificate).await {
                Ok(Some(pem)) => match anaplan::auth::legacy::certificate::not_after(pem.expose()) {
                    Ok(at) => {
                        state.certificate_not_after = Some(at);
                        state.problem = certificate_problem(at);
                    }
                    Err(e) => state.problem = Some(format!("the certificate cannot be read: {e}")),
                },
                Ok(None) => {
                    state.problem = Some(format!("no certificate: set {}", secrets.locate(SecretKind::Certificate)))
                }
                Err(e) => {
                    state.problem = Some(format!("the certificate could not be read: {e}"));
                    self.note_store_problem(&mut state, &e);
                }
            },
            (AuthMethod::Basic, _, Some(secrets)) => {
                for kind in [SecretKind::Username, SecretKind::Password] {
                    match secrets.get_fresh(kind).await {
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            state.problem.get_or_insert_with(|| format!("missing: set {}", secrets.locate(kind)));
                        }
                        Err(e) => {
                            state.problem.get_or_insert_with(|| format!("the credentials could not be read: {e}"));
                            self.note_store_problem(&mut state, &e);
                        }
                    }
                }
            }
            _ => {}
        }
        state
    }

    fn note_store_problem(&self, state: &mut AuthState, e: &anaplan::AuthError) {
        if self.key_vault {
            state.vault_problem.get_or_insert_with(|| e.to_string());
        }
    }

    /// What is wrong with a chain that dies unused at `dies`, if anything.
    pub fn chain_problem(&self, dies: SystemTime) -> Option<String> {
        let left = dies.duration_since(SystemTime::now()).unwrap_or_default();
        if left.is_zero() {
            Some(format!(
                "the refresh token has probably died at {}: unused for longer than ANAPLAN_REFRESH_TOKEN_LIFETIME ({} s); \
                 sign the app in again (onboard, or `auth login`)",
                utc(dies),
                self.lifetime.as_secs()
            ))
        } else if left < self.keep_alive_window() {
            Some(format!(
                "the refresh token dies at {} unless it is used before: is keep-signed-in running (KEEP_SIGNED_IN_SCHEDULE)?",
                utc(dies)
            ))
        } else {
            None
        }
    }

    /// Whether Anaplan answers, looked at most once a minute: `GET /2/0/users/me` with the
    /// access token the app holds (never refreshing one), or without one.
    pub async fn anaplan(&self, credentials: &Credentials) -> Result<(), String> {
        let mut last = self.anaplan.lock().await;
        if let Some((at, result)) = last.as_ref()
            && at.elapsed() < ANAPLAN_CHECK_TTL
        {
            return result.clone();
        }
        let result = self.look_at_anaplan(credentials).await;
        *last = Some((Instant::now(), result.clone()));
        result
    }

    async fn look_at_anaplan(&self, credentials: &Credentials) -> Result<(), String> {
        let token = match credentials {
            Credentials::OAuth(session) => session.current_token().await,
            _ => None,
        };
        let mut request = self.http.get(self.me_url.clone()).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &token
            && let Ok(mut value) =
                reqwest::header::HeaderValue::from_str(&format!("AnaplanAuthToken {}", token.expose()))
        {
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        let status = match request.send().await {
            Ok(resp) => resp.status().as_u16(),
            Err(e) => {
                return Err(format!(
                    "Anaplan ({}) could not be reached: {}",
                    self.me_url.host_str().unwrap_or("?"),
                    anaplan::auth::describe_error(&e.without_url())
                ));
            }
        };
        match status {
            429 => Err("Anaplan is throttling the app (429)".into()),
            s if s >= 500 => Err(format!("Anaplan answered {s}")),
            _ => Ok(()),
        }
    }
}

/// What is wrong with a certificate that expires at `at`, if anything.
pub fn certificate_problem(at: SystemTime) -> Option<String> {
    let left = at.duration_since(SystemTime::now()).unwrap_or_default();
    if left.is_zero() {
        Some(format!("the certificate expired at {}: replace it (anaplan-certificate / ANAPLAN_CERTIFICATE)", utc(at)))
    } else if left < CERTIFICATE_WARNING {
        Some(format!(
            "the certificate expires at {} (in {} days): replace it before then (anaplan-certificate / ANAPLAN_CERTIFICATE)",
            utc(at),
            left.as_secs() / 86_400
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in(lifetime: u64) -> SignIn {
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        SignIn::new(AuthMethod::OAuth, None, false, Duration::from_secs(lifetime), &url)
    }

    #[test]
    fn a_chain_is_red_for_its_last_quarter_and_after() {
        let s = sign_in(43_200);
        let now = SystemTime::now();
        assert_eq!(s.chain_problem(now + Duration::from_secs(20_000)), None);
        let soon = s.chain_problem(now + Duration::from_secs(3_600)).unwrap();
        assert!(soon.contains("keep-signed-in"), "{soon}");
        let dead = s.chain_problem(now - Duration::from_secs(1)).unwrap();
        assert!(dead.contains("died") && dead.contains("43200"), "{dead}");
        assert_eq!(s.keep_alive_window(), Duration::from_secs(10_800));
    }

    #[test]
    fn a_certificate_is_red_within_thirty_days_of_its_expiry() {
        let now = SystemTime::now();
        assert_eq!(certificate_problem(now + Duration::from_secs(40 * 86_400)), None);
        assert!(certificate_problem(now + Duration::from_secs(29 * 86_400)).unwrap().contains("in 28 days"));
        assert!(certificate_problem(now - Duration::from_secs(5)).unwrap().contains("expired"));
    }
}
