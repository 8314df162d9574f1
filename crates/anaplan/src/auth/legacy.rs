//! Anaplan's legacy token service (the auth URL): basic authentication, or CA
//! certificate authentication (the certificate in the `CACertificate` header and a fresh
//! payload signed with its private key, RSASSA-PKCS1-v1_5 with SHA-512, in the `v2` format:
//! see [`certificate`]). Tokens last 35 minutes and are extended with `/token/refresh`
//! before they run out. A token answer may carry fields this client does not use (Anaplan
//! adds an optional `refreshToken`): they are ignored.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::Mutex;
use url::Url;

use super::retry::{Attempt, TokenRetry, is_transient, with_retries};
use super::source::{SecretKind, SecretSource};
use super::{CachedToken, DEFAULT_LIFETIME, MAX_LIFETIME, describe_error};
use crate::client::parse_retry_after;
use crate::error::AuthError;
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
                // A fresh payload for every login: v2 payloads carry their time and are
                // refused once used or once stale.
                let signed = certificate::sign_nonce(pem.expose()).map_err(AuthError::Missing)?;
                self.call("token/authenticate", format!("CACertificate {}", signed.header), Some(signed.body())).await
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

/// Certificate auth: the header value and a signed payload.
///
/// Anaplan's `v2` format (help page "API updates", effective 19 June 2026): the body is
/// `{"encodedDataFormat": "v2", "encodedData": base64(data), "encodedSignedData":
/// base64(signature of data)}`, where `data` starts with an 8-byte timestamp. This client
/// writes it as whole seconds since the Unix epoch, big-endian (the help page's example
/// `AAAAAGhaH7pe…` reads as 1,750,736,826 s, June 2025, that way), followed by
/// [`RANDOM_BYTES`] random bytes (the `v1` rule of at least 100 random bytes, kept). Every
/// login makes a new payload: Anaplan refuses one it has seen, or one whose time is stale.
pub mod certificate {
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA512, RsaKeyPair};

    /// The value of `encodedDataFormat` this client sends.
    pub const FORMAT: &str = "v2";
    /// Length of the timestamp that starts a `v2` payload.
    pub const TIMESTAMP_BYTES: usize = 8;
    /// Random bytes after the timestamp.
    pub const RANDOM_BYTES: usize = 100;

    /// What a certificate login sends.
    pub struct Signed {
        /// `base64(PEM of the certificate)`, the `CACertificate` header value.
        pub header: String,
        /// The signed bytes (`encodedData` before base64): for [`sign_nonce`], a `v2`
        /// payload.
        pub nonce: Vec<u8>,
        /// Their signature.
        pub signature: Vec<u8>,
    }

    impl Signed {
        /// The request body of a `v2` login with these bytes.
        pub fn body(&self) -> serde_json::Value {
            serde_json::json!({
                "encodedDataFormat": FORMAT,
                "encodedData": STANDARD.encode(&self.nonce),
                "encodedSignedData": STANDARD.encode(&self.signature),
            })
        }
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

    /// A `v2` payload for the instant `unix_seconds`: the seconds as an 8-byte big-endian
    /// number, then [`RANDOM_BYTES`] random bytes.
    pub fn v2_payload(unix_seconds: u64) -> Result<Vec<u8>, String> {
        let mut data = vec![0u8; TIMESTAMP_BYTES + RANDOM_BYTES];
        data[..TIMESTAMP_BYTES].copy_from_slice(&unix_seconds.to_be_bytes());
        getrandom::getrandom(&mut data[TIMESTAMP_BYTES..])
            .map_err(|e| format!("no randomness for the payload: {e}"))?;
        Ok(data)
    }

    /// When the PEM's certificate stops being valid (its `notAfter`). Errors say what is
    /// wrong with the PEM, never its content.
    pub fn not_after(pem: &str) -> Result<SystemTime, String> {
        use x509_cert::der::Decode;
        let cert = block(pem, "CERTIFICATE").ok_or("the certificate secret has no CERTIFICATE block")?;
        let der = der(cert).ok_or("the CERTIFICATE block is not base64")?;
        let parsed =
            x509_cert::Certificate::from_der(&der).map_err(|_| "the CERTIFICATE block is not an X.509 certificate")?;
        Ok(UNIX_EPOCH + parsed.tbs_certificate.validity.not_after.to_unix_duration())
    }

    /// Signs a fresh `v2` payload (now, then random bytes) with the PEM's private key.
    /// Errors say what is missing from the PEM, never its content.
    pub fn sign_nonce(pem: &str) -> Result<Signed, String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        sign_payload(pem, v2_payload(now)?)
    }

    /// Signs `data` with the PEM's private key (RSASSA-PKCS1-v1_5 with SHA-512, by `ring`,
    /// whose RSA is constant-time; the `rsa` crate and its timing advisory are not used).
    /// Errors say what is missing from the PEM, never its content.
    pub fn sign_payload(pem: &str, data: Vec<u8>) -> Result<Signed, String> {
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
        let mut signature = vec![0u8; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA512, &SystemRandom::new(), &data, &mut signature)
            .map_err(|_| "the private key could not sign the payload")?;
        // Anaplan takes the PEM text of the certificate, base64-encoded once more.
        let header = STANDARD.encode(format!("{}\n", cert.trim()));
        Ok(Signed { header, nonce: data, signature })
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

        #[test]
        fn a_v2_payload_is_the_big_endian_seconds_then_fresh_random_bytes() {
            // The help page's example starts AAAAAGhaH7pe: 00 00 00 00 68 5a 1f ba.
            let example = STANDARD.decode("AAAAAGhaH7pe").unwrap();
            let read = u64::from_be_bytes(example[..8].try_into().unwrap());
            assert_eq!(read, 1_750_736_826, "June 2025 in seconds");
            let a = v2_payload(read).unwrap();
            let b = v2_payload(read).unwrap();
            assert_eq!(a.len(), TIMESTAMP_BYTES + RANDOM_BYTES);
            assert_eq!(&a[..8], &example[..8]);
            assert_eq!(&a[..8], &b[..8]);
            assert_ne!(&a[8..], &b[8..], "the random part differs each time");
        }

        #[tokio::test]
        async fn the_emulators_demo_certificate_signs() {
            let emulator = anaplan_emulator::Emulator::start().await;
            sign_nonce(&emulator.credentials().certificate).unwrap();
        }

        #[tokio::test]
        async fn a_certificates_expiry_is_read_and_a_broken_one_is_named_without_content() {
            let emulator = anaplan_emulator::Emulator::start().await;
            let at = not_after(&emulator.credentials().certificate).unwrap();
            let left = at.duration_since(SystemTime::now()).expect("the demo certificate is valid");
            assert!(left > std::time::Duration::from_secs(3600), "{left:?}");
            assert!(not_after("nothing").unwrap_err().contains("CERTIFICATE"));
            let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
            let e = not_after(junk).unwrap_err();
            assert!(e.contains("X.509") && !e.contains("AAAA"), "{e}");
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

    #[test]
    fn an_optional_refresh_token_and_other_new_fields_are_ignored() {
        // Anaplan's "API updates" page adds an optional `refreshToken` to token answers
        // without saying where: wherever it is, the token is read as before.
        for text in [
            r#"{"status":"SUCCESS","refreshToken":"r1","tokenInfo":{"tokenValue":"t","expiresAt":1}}"#,
            r#"{"status":"SUCCESS","tokenInfo":{"tokenValue":"t","refreshToken":"r1","refreshTokenId":"x","somethingNew":{"a":[1]}}}"#,
        ] {
            let t = token_from(text).unwrap();
            assert_eq!(t.value.expose(), "t", "{text}");
        }
    }
}
