//! Anaplan's legacy token service (the auth URL): basic authentication, or CA
//! certificate authentication (the certificate in the `CACertificate` header and a random
//! nonce signed with its private key, RSASSA-PKCS1-v1_5 with SHA-512). Tokens last 35
//! minutes and are extended with `/token/refresh` before they run out.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::Mutex;
use url::Url;

use super::retry::{Attempt, TokenRetry, is_transient, with_retries};
use super::source::{SecretKind, SecretSource};
use super::{CachedToken, DEFAULT_LIFETIME, MAX_LIFETIME, describe_error};
use crate::anaplan::client::parse_retry_after;
use crate::anaplan::error::AuthError;
use crate::secret::Secret;

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyLogin {
    /// User name and password.
    Basic,
    /// CA certificate and private key (PEM).
    Certificate,
}

/// A legacy-token session.
#[derive(Debug)]
pub struct LegacySession {
    auth_url: Url,
    login: LegacyLogin,
    secrets: Arc<dyn SecretSource>,
    http: reqwest::Client,
    retry: TokenRetry,
    cached: Mutex<Option<CachedToken>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenInfo {
    token_value: String,
    expires_at: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody {
    token_info: TokenInfo,
}

impl LegacySession {
    /// A session against the token service at `auth_url`.
    pub fn new(auth_url: &Url, login: LegacyLogin, secrets: Arc<dyn SecretSource>, http: reqwest::Client) -> Self {
        LegacySession {
            auth_url: auth_url.clone(),
            login,
            secrets,
            http,
            retry: TokenRetry::default(),
            cached: Mutex::new(None),
        }
    }

    /// The same with other retries of a busy token service (tests).
    pub fn with_token_retry(mut self, retry: TokenRetry) -> Self {
        self.retry = retry;
        self
    }

    pub(super) async fn access_token(&self) -> Result<Secret, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.fresh()) {
            return Ok(t.value.clone());
        }
        // A token near its end is extended (same value, new expiry); if that fails, log in
        // again.
        if let Some(old) = cached.take()
            && let Ok(t) = self.call("token/refresh", format!("AnaplanAuthToken {}", old.value.expose()), None).await
        {
            let value = t.value.clone();
            *cached = Some(t);
            return Ok(value);
        }
        let t = self.log_in().await?;
        let value = t.value.clone();
        *cached = Some(t);
        Ok(value)
    }

    pub(super) async fn expires_at(&self) -> Option<SystemTime> {
        self.cached.lock().await.as_ref().map(|t| t.expires_at)
    }

    pub(super) fn store_fingerprint(&self) -> String {
        Secret::new(self.secrets.describe()).fingerprint()[..16].to_owned()
    }

    pub(super) async fn forget(&self, rejected: &Secret) -> bool {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|t| &t.value == rejected) {
            *cached = None;
        }
        true
    }

    async fn required(&self, kind: SecretKind, what: &str) -> Result<Secret, AuthError> {
        self.secrets
            .get(kind)
            .await?
            .ok_or_else(|| AuthError::Missing(format!("{} has no {what}", self.secrets.describe())))
    }

    async fn log_in(&self) -> Result<CachedToken, AuthError> {
        match self.login {
            LegacyLogin::Basic => {
                let user = self.required(SecretKind::Username, "Anaplan user name").await?;
                let password = self.required(SecretKind::Password, "Anaplan password").await?;
                let basic = STANDARD.encode(format!("{}:{}", user.expose(), password.expose()));
                self.call("token/authenticate", format!("Basic {basic}"), None).await
            }
            LegacyLogin::Certificate => {
                let pem = self.required(SecretKind::Certificate, "certificate (PEM with the private key)").await?;
                let signed = certificate::sign_nonce(pem.expose()).map_err(AuthError::Missing)?;
                let body = serde_json::json!({
                    "encodedData": STANDARD.encode(&signed.nonce),
                    "encodedSignedData": STANDARD.encode(&signed.signature),
                });
                self.call("token/authenticate", format!("CACertificate {}", signed.header), Some(body)).await
            }
        }
    }

    /// One call to the token service, retried while it is busy (429, 408, 5xx, no
    /// connection): those say "not now", never "these credentials are wrong".
    async fn call(
        &self,
        path: &str,
        authorization: String,
        body: Option<serde_json::Value>,
    ) -> Result<CachedToken, AuthError> {
        let url = self.auth_url.join(path).expect("a base URL joins a relative path");
        let body = body.map(|b| b.to_string());
        with_retries(&self.retry, "legacy token service", || self.call_once(&url, &authorization, body.as_deref()))
            .await
    }

    async fn call_once(&self, url: &Url, authorization: &str, body: Option<&str>) -> Attempt<CachedToken> {
        let mut req = self.http.post(url.clone()).header(reqwest::header::AUTHORIZATION, sensitive(authorization));
        if let Some(b) = body {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.to_owned());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                let detail = format!("could not connect: {}", describe_error(&e.without_url()));
                return Attempt::Transient { status: 503, detail, retry_after: None };
            }
            Err(e) => return Attempt::Done(Err(AuthError::Unavailable(describe_error(&e.without_url())))),
        };
        let status = resp.status();
        let retry_after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(parse_retry_after);
        if is_transient(status.as_u16()) {
            let detail = format!("the token service answered {}", status.as_u16());
            return Attempt::Transient { status: status.as_u16(), detail, retry_after };
        }
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => return Attempt::Done(Err(AuthError::Unavailable(describe_error(&e.without_url())))),
        };
        Attempt::Done(if status.is_success() {
            token_from(&text)
        } else if status.is_client_error() {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            Err(AuthError::Rejected {
                code: v.get("status").and_then(|s| s.as_str()).unwrap_or("FAILURE").to_owned(),
                description: v.get("statusMessage").and_then(|s| s.as_str()).unwrap_or("").to_owned(),
            })
        } else {
            Err(AuthError::Unavailable(format!("token service answered {status}")))
        })
    }
}

/// A success body's token. `expiresAt` may be anything a number can be: one in the past
/// is a lifetime of 0, one centuries ahead is clamped by [`CachedToken::new`].
fn token_from(text: &str) -> Result<CachedToken, AuthError> {
    let parsed: TokenBody =
        serde_json::from_str(text).map_err(|e| AuthError::Unavailable(format!("unreadable token response: {e}")))?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let lifetime = parsed
        .token_info
        .expires_at
        .map(|at| Duration::from_millis(u64::try_from(at.saturating_sub(now_ms)).unwrap_or(0)).min(MAX_LIFETIME))
        .unwrap_or(DEFAULT_LIFETIME);
    Ok(CachedToken::new(Secret::new(parsed.token_info.token_value), lifetime))
}

fn sensitive(value: &str) -> reqwest::header::HeaderValue {
    let mut v = reqwest::header::HeaderValue::from_str(value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
    v.set_sensitive(true);
    v
}

/// Certificate auth: the header value and a signed nonce.
pub mod certificate {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA512, RsaKeyPair};

    /// What a certificate login sends.
    pub struct Signed {
        /// `base64(PEM of the certificate)`, the `CACertificate` header value.
        pub header: String,
        /// The random bytes.
        pub nonce: Vec<u8>,
        /// Their signature.
        pub signature: Vec<u8>,
    }

    impl std::fmt::Debug for Signed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Signed {{ nonce: {} bytes, signature: {} bytes }}", self.nonce.len(), self.signature.len())
        }
    }

    /// Blocks `-----BEGIN <label>-----` … `-----END <label>-----` of a PEM text.
    fn block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let start = pem.find(&begin)?;
        let stop = pem[start..].find(&end)? + start + end.len();
        Some(&pem[start..stop])
    }

    /// The DER inside a PEM block (base64 between the BEGIN and END lines).
    fn der(block: &str) -> Option<Vec<u8>> {
        let body: String = block.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.trim().chars()).collect();
        STANDARD.decode(body).ok()
    }

    /// Signs 150 random bytes with the PEM's private key (RSASSA-PKCS1-v1_5 with SHA-512,
    /// by `ring`, whose RSA is constant-time; the `rsa` crate and its timing advisory are
    /// not used). Errors say what is missing from the PEM, never its content.
    pub fn sign_nonce(pem: &str) -> Result<Signed, String> {
        let cert = block(pem, "CERTIFICATE").ok_or("the certificate secret has no CERTIFICATE block")?;
        let key = if let Some(k) = block(pem, "PRIVATE KEY") {
            der(k)
                .and_then(|d| RsaKeyPair::from_pkcs8(&d).ok())
                .ok_or("the PRIVATE KEY block is not an RSA PKCS#8 key of 2048 to 8192 bits")?
        } else if let Some(k) = block(pem, "RSA PRIVATE KEY") {
            der(k)
                .and_then(|d| RsaKeyPair::from_der(&d).ok())
                .ok_or("the RSA PRIVATE KEY block is not a PKCS#1 key of 2048 to 8192 bits")?
        } else {
            return Err("the certificate secret has no (unencrypted) PRIVATE KEY block".to_owned());
        };
        let mut nonce = vec![0u8; 150];
        getrandom::getrandom(&mut nonce).map_err(|e| format!("no randomness for the nonce: {e}"))?;
        let mut signature = vec![0u8; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA512, &SystemRandom::new(), &nonce, &mut signature)
            .map_err(|_| "the private key could not sign the nonce")?;
        // Anaplan takes the PEM text of the certificate, base64-encoded once more.
        let header = STANDARD.encode(format!("{}\n", cert.trim()));
        Ok(Signed { header, nonce, signature })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn missing_parts_are_named_without_content() {
            assert!(sign_nonce("nothing").unwrap_err().contains("CERTIFICATE"));
            let only_cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
            assert!(sign_nonce(only_cert).unwrap_err().contains("PRIVATE KEY"));
            let bad_key = format!("{only_cert}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
            let e = sign_nonce(&bad_key).unwrap_err();
            assert!(e.contains("PKCS#8") && !e.contains("AAAA"), "{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(expires_at: &str) -> String {
        format!(r#"{{"status":"SUCCESS","tokenInfo":{{"tokenValue":"t","expiresAt":{expires_at}}}}}"#)
    }

    #[test]
    fn absurd_expiries_never_panic() {
        for at in ["9223372036854775807", "-9223372036854775808", "0", "1"] {
            let t = token_from(&body(at)).unwrap();
            assert!(t.expires_at.duration_since(SystemTime::now()).unwrap_or_default() <= MAX_LIFETIME, "{at}");
            assert!(t.fresh(), "{at}: used at least briefly");
        }
        assert!(matches!(token_from(&body("1e999")), Err(AuthError::Unavailable(_))));
    }
}
