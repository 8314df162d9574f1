//! Who a caller is, for scopes that must outlive the caller's token.
//!
//! With auth method `caller` each request brings its own Anaplan access token, and that
//! token changes every time the caller refreshes it while the user behind it stays the
//! same. An `Idempotency-Key` scoped by the token would start a second task after such a
//! refresh, so scopes that must survive it name the Anaplan user instead: the `id` of
//! `GET /2/0/users/me` asked with the caller's token. A token belongs to one user for its
//! whole life, so the answer is kept by the token's fingerprint for a few minutes (never the
//! token itself) and a burst of requests asks Anaplan once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Credentials;
use crate::client::{ApiRequest, Client};
use crate::error::AnaplanError;

/// How long a token's user is remembered.
pub const CALLER_USER_TTL: Duration = Duration::from_secs(600);
/// At most this many tokens are remembered (a burst of distinct callers cannot grow the map
/// without bound).
const MAX_REMEMBERED: usize = 10_000;

/// Token fingerprint → (when asked, Anaplan user id). Shared by every request.
#[derive(Debug, Default)]
pub struct CallerUsers {
    seen: Mutex<HashMap<String, (Instant, String)>>,
}

#[derive(serde::Deserialize)]
struct Me {
    user: MeUser,
}

#[derive(serde::Deserialize)]
struct MeUser {
    id: String,
}

impl CallerUsers {
    /// A scope for the identity `client` acts as that stays the same across a caller's
    /// token refreshes: `caller-user:<Anaplan user id>` for a caller's token (asking Anaplan
    /// who it is, unless known), [`Credentials::identity`] for the app's own credentials.
    pub async fn scope(&self, client: &Client) -> Result<String, AnaplanError> {
        let Credentials::Caller(token) = client.credentials() else {
            return Ok(client.credentials().identity());
        };
        let fingerprint = token.fingerprint();
        if let Some(user) = self.known(&fingerprint) {
            return Ok(format!("caller-user:{user}"));
        }
        let me: Me = client.json(ApiRequest::get(["users", "me"])).await?;
        let id = me.user.id;
        // Anaplan's user ids are 32 hex characters; anything else is not an id to build a
        // scope from.
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(AnaplanError::Protocol("GET /2/0/users/me: the user id is not an Anaplan id".into()));
        }
        self.remember(fingerprint, &id);
        Ok(format!("caller-user:{id}"))
    }

    fn known(&self, fingerprint: &str) -> Option<String> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(fingerprint).filter(|(at, _)| at.elapsed() < CALLER_USER_TTL).map(|(_, id)| id.clone())
    }

    fn remember(&self, fingerprint: String, id: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, (at, _)| at.elapsed() < CALLER_USER_TTL);
            if seen.len() >= MAX_REMEMBERED {
                seen.clear();
            }
        }
        seen.insert(fingerprint, (Instant::now(), id.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RetryPolicy;
    use crate::secret::Secret;

    fn client(credentials: Credentials) -> Client {
        // Port 9 (discard): nothing answers, so a test that reaches the network fails.
        let url = url::Url::parse("http://127.0.0.1:9/").unwrap();
        let retry = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
        Client::new(reqwest::Client::new(), &url, credentials, retry)
    }

    #[tokio::test]
    async fn a_known_token_is_its_users_scope_without_asking_anaplan() {
        let users = CallerUsers::default();
        let token = Secret::new("caller-token-a");
        users.remember(token.fingerprint(), "8a80da9a5fbe1c80015fc1d8d2f10c2f");
        let scope = users.scope(&client(Credentials::Caller(token))).await.unwrap();
        assert_eq!(scope, "caller-user:8a80da9a5fbe1c80015fc1d8d2f10c2f");
        assert!(!format!("{:?}", users.seen).contains("caller-token-a"));
    }

    #[tokio::test]
    async fn the_apps_own_credentials_keep_their_identity() {
        let users = CallerUsers::default();
        assert_eq!(users.scope(&client(Credentials::CallerRequired)).await.unwrap(), "caller:none");
    }

    #[test]
    fn the_map_stays_bounded() {
        let users = CallerUsers::default();
        for i in 0..(MAX_REMEMBERED + 5) {
            users.remember(format!("f{i}"), "u");
        }
        assert!(users.seen.lock().unwrap().len() <= MAX_REMEMBERED);
    }
}
