//! Legacy certificate authentication (reference §3; help page "API updates", effective
//! 19 June 2026): `POST /token/authenticate` with `Authorization: CACertificate <base64 of
//! the PEM certificate>` and `{"encodedDataFormat": "v2", "encodedData": base64(data),
//! "encodedSignedData": base64(RSASSA-PKCS1-v1_5 SHA-512 signature of data)}`, where a
//! `v2` `data` starts with an 8-byte timestamp.
//!
//! The timestamp is read as a big-endian count of seconds since the Unix epoch (the help
//! page's example reads as June 2025 that way); a value over 10^11 (no date in seconds
//! before the year 5000) is read as milliseconds, the other possible reading. It must be
//! within [`FRESHNESS`] (5 minutes) of the emulator's clock, either way. `v1` (no
//! `encodedDataFormat`: random bytes only, no time) is refused unless
//! [`Emulator::accept_v1_certificate_logins`] or `POST /_emulator/cert-format?accept=v1`
//! allowed it; `v2` is always accepted.
//!
//! The header may also hold the certificate's DER in base64 (the PEM body without its
//! lines), as some community guides send it.
//!
//! Answers, in order:
//! - certificate not base64, not a PEM or DER certificate, or no JSON Content-Type → 400
//!   `FAILURE_BAD_HEADER` "Invalid header. Verify the header.";
//! - certificate not registered (`set_certificate_user`, or the demo certificate) → 401
//!   `FAILURE_BAD_CREDENTIAL` "Certificate is not registered to a user.";
//! - outside notBefore..notAfter → 401 "Certificate has expired or is not yet valid.";
//! - body not a JSON object with both fields as standard base64, or an `encodedDataFormat`
//!   that is not the string `v2` → 401 "Invalid certificate data.";
//! - no `encodedDataFormat` while `v1` is not accepted → 401 "encodedDataFormat v2 is
//!   required.";
//! - encodedData under 100 bytes (timestamp included) → 401 "encodedData must be at least
//!   100 bytes.";
//! - key not RSA or signature wrong → 401 "Signature verification failed.";
//! - `v2` timestamp more than 5 minutes from now → 401 "encodedData timestamp is not
//!   current.";
//! - encodedData accepted before (replay) → 401 "encodedData has already been used.";
//! - success → 201 with `tokenInfo`, like Basic.

use super::auth::{bad_credential, bad_header, issue_access_token, legacy_token_answer};
use super::util::api_error;
use super::{Emulator, Inner};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA512, UnparsedPublicKey};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::Certificate;
use x509_cert::der::{Decode, DecodePem, Encode};

/// Anaplan's minimum length of the data to sign.
pub const MIN_ENCODED_DATA: usize = 100;
/// How far a `v2` timestamp may be from the emulator's clock, before or after.
pub const FRESHNESS: Duration = Duration::from_secs(300);
/// Timestamps above this are milliseconds (10^11 seconds is after the year 5000).
const MILLIS_FROM: u64 = 100_000_000_000;

/// One certificate login that reached the body check, as the emulator saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateLogin {
    /// `encodedDataFormat` as sent (`None` when absent: a `v1` login).
    pub format: Option<String>,
    /// The decoded `encodedData`.
    pub encoded_data: Vec<u8>,
    /// The answer's status (201 when it logged in).
    pub status: u16,
}

/// Registered certificates, used payloads, the accepted formats and the login record.
#[derive(Default)]
pub(super) struct CertState {
    /// DER of every certificate registered to the user.
    registered: Vec<Vec<u8>>,
    /// Every `encodedData` that logged in once → its timestamp in seconds (`None` for
    /// `v1`). Replays are refused; `v2` entries are forgotten once their time is too old
    /// to pass the freshness check anyway.
    used: HashMap<Vec<u8>, Option<u64>>,
    /// `v1` logins (no `encodedDataFormat`) are accepted as well as `v2`.
    accept_v1: bool,
    /// Every login that got as far as its body.
    logins: Vec<CertificateLogin>,
}

impl Emulator {
    /// Enables certificate auth for the user holding `cert_pem`'s key.
    /// Panics on a PEM that is not a certificate (a test bug).
    pub fn set_certificate_user(&self, cert_pem: &str) {
        let cert = Certificate::from_pem(cert_pem.as_bytes()).expect("set_certificate_user: not a PEM certificate");
        let der = cert.to_der().expect("set_certificate_user: re-encode certificate");
        self.inner.state().cert.registered.push(der);
    }

    /// From now on `v1` certificate logins (no `encodedDataFormat`, no timestamp) are
    /// accepted too (`true`), or only `v2` ones (`false`, the default), as for a tenant
    /// that still takes the old format.
    pub fn accept_v1_certificate_logins(&self, accept: bool) {
        self.inner.state().cert.accept_v1 = accept;
    }

    /// Every certificate login that reached its body check, in order.
    pub fn certificate_logins(&self) -> Vec<CertificateLogin> {
        self.inner.state().cert.logins.clone()
    }
}

/// Registers the demo certificate (a PEM the emulator made itself).
pub(super) fn register(state: &mut super::EmulatorState, cert_pem: &str) -> Result<(), String> {
    let der = Certificate::from_pem(cert_pem.as_bytes())
        .and_then(|c| c.to_der())
        .map_err(|e| format!("the demo certificate does not parse: {e}"))?;
    state.cert.registered.push(der);
    Ok(())
}

/// The control route: `POST /_emulator/cert-format?accept=v1|v2`.
pub(super) fn routes() -> Router<Arc<Inner>> {
    Router::new().route("/_emulator/cert-format", post(http_cert_format))
}

/// `POST /_emulator/cert-format?accept=v1|v2`: `v1` accepts `v1` logins as well as `v2`;
/// `v2` (the default) accepts only `v2`. 204, or 400 for another value.
async fn http_cert_format(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let accept_v1 = match q.get("accept").map(String::as_str) {
        Some("v1") => true,
        Some("v2") => false,
        other => {
            let message = format!("Invalid value for parameter [accept]: {}; expected v1 or v2", other.unwrap_or(""));
            return api_error(StatusCode::BAD_REQUEST, &message, uri.path());
        }
    };
    inner.state().cert.accept_v1 = accept_v1;
    StatusCode::NO_CONTENT.into_response()
}

/// The certificate in a `CACertificate` header: base64 of its PEM (Anaplan's help page),
/// or base64 of its DER.
fn header_certificate(cert_b64: &str) -> Option<Certificate> {
    let bytes = STANDARD.decode(cert_b64).ok()?;
    Certificate::from_pem(&bytes).or_else(|_| Certificate::from_der(&bytes)).ok()
}

/// Handles a `CACertificate` login; `cert_b64` is the header value after the scheme.
pub(super) fn authenticate(inner: &Inner, headers: &HeaderMap, cert_b64: &str, body: &[u8]) -> Response {
    let Some(cert) = header_certificate(cert_b64) else {
        return bad_header();
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json {
        return bad_header();
    }
    let Ok(der) = cert.to_der() else {
        return bad_header();
    };
    if !inner.state().cert.registered.contains(&der) {
        return bad_credential("Certificate is not registered to a user.");
    }
    if !valid_now(&cert) {
        return bad_credential("Certificate has expired or is not yet valid.");
    }
    let Some(login) = parse_body(body) else {
        return bad_credential("Invalid certificate data.");
    };
    let (status, answer) = check(inner, &cert, &login);
    let mut st = inner.state();
    st.cert.logins.push(CertificateLogin {
        format: login.format.as_ref().map(|f| f.as_str().map_or_else(|| f.to_string(), str::to_owned)),
        encoded_data: login.data.clone(),
        status: status.as_u16(),
    });
    if let Err(message) = answer {
        return bad_credential(message);
    }
    let token = issue_access_token(inner, &mut st);
    let body = legacy_token_answer(inner, &mut st, &token, "Login successful");
    (StatusCode::CREATED, Json(Value::Object(body))).into_response()
}

/// A login body: `encodedDataFormat` as sent (any JSON value), the data and its signature.
struct Login {
    format: Option<Value>,
    data: Vec<u8>,
    signature: Vec<u8>,
}

/// The checks after the body parsed, in order; on success the payload is marked used.
fn check(inner: &Inner, cert: &Certificate, login: &Login) -> (StatusCode, Result<(), &'static str>) {
    let refuse = |message| (StatusCode::UNAUTHORIZED, Err(message));
    let v2 = match &login.format {
        None => false,
        Some(Value::String(f)) if f == "v2" => true,
        Some(_) => return refuse("Invalid certificate data."),
    };
    if !v2 && !inner.state().cert.accept_v1 {
        return refuse("encodedDataFormat v2 is required.");
    }
    if login.data.len() < MIN_ENCODED_DATA {
        return refuse("encodedData must be at least 100 bytes.");
    }
    if !signature_ok(cert, &login.data, &login.signature) {
        return refuse("Signature verification failed.");
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let stamp = v2.then(|| timestamp_seconds(&login.data));
    if stamp.is_some_and(|t| t.abs_diff(now) > FRESHNESS.as_secs()) {
        return refuse("encodedData timestamp is not current.");
    }
    let mut st = inner.state();
    let used = &mut st.cert.used;
    // Payloads too old to pass the freshness check are no longer worth keeping.
    used.retain(|_, t| t.is_none_or(|t| t.abs_diff(now) <= FRESHNESS.as_secs()));
    if used.insert(login.data.clone(), stamp).is_some() {
        return refuse("encodedData has already been used.");
    }
    (StatusCode::CREATED, Ok(()))
}

/// The first 8 bytes of a `v2` payload as seconds since the Unix epoch: big-endian, and
/// milliseconds when the number is too large to be seconds.
fn timestamp_seconds(data: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&data[..8]);
    let n = u64::from_be_bytes(raw);
    if n > MILLIS_FROM { n / 1000 } else { n }
}

/// True when now is within the certificate's notBefore..=notAfter.
fn valid_now(cert: &Certificate) -> bool {
    let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) else {
        return false;
    };
    let validity = &cert.tbs_certificate.validity;
    validity.not_before.to_unix_duration() <= now && now <= validity.not_after.to_unix_duration()
}

/// The body of a login; `None` unless it is a JSON object with `encodedData` and
/// `encodedSignedData` as strict base64 strings.
fn parse_body(body: &[u8]) -> Option<Login> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let field = |k: &str| map.get(k).and_then(Value::as_str).and_then(|s| STANDARD.decode(s).ok());
    Some(Login {
        format: map.get("encodedDataFormat").cloned(),
        data: field("encodedData")?,
        signature: field("encodedSignedData")?,
    })
}

/// Verifies an RSASSA-PKCS1-v1_5 / SHA-512 signature under the certificate's key.
fn signature_ok(cert: &Certificate, data: &[u8], signature: &[u8]) -> bool {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return false;
    }
    // An RSA key's bit string is its PKCS#1 RSAPublicKey.
    let Some(key) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA512, key).verify(data, signature).is_ok()
}

/// rsaEncryption (1.2.840.113549.1.1.1), the algorithm of an RSA public key.
const RSA_ENCRYPTION: x509_cert::der::asn1::ObjectIdentifier =
    x509_cert::der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_big_endian_seconds_or_milliseconds() {
        let secs = 1_750_736_826u64;
        let mut data = secs.to_be_bytes().to_vec();
        data.extend([0u8; 100]);
        assert_eq!(timestamp_seconds(&data), secs);
        let mut data = (secs * 1000 + 999).to_be_bytes().to_vec();
        data.extend([0u8; 100]);
        assert_eq!(timestamp_seconds(&data), secs);
    }
}
