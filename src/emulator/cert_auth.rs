//! Legacy certificate authentication (reference §3): `POST /token/authenticate`
//! with `Authorization: CACertificate <base64 of the PEM certificate>` and
//! `{"encodedData": base64(>= 100 random bytes), "encodedSignedData":
//! base64(RSASSA-PKCS1-v1_5 SHA-512 signature of those bytes)}`.
//!
//! Answers, in order:
//! - certificate not base64, not a PEM certificate, or no JSON Content-Type → 400
//!   `FAILURE_BAD_HEADER` "Invalid header. Verify the header.";
//! - certificate not registered with `set_certificate_user` → 401 `FAILURE_BAD_CREDENTIAL`
//!   "Certificate is not registered to a user.";
//! - outside notBefore..notAfter → 401 "Certificate has expired or is not yet valid.";
//! - body not a JSON object with both fields as standard base64 → 401 "Invalid certificate data.";
//! - encodedData under 100 bytes → 401 "encodedData must be at least 100 bytes.";
//! - key not RSA or signature wrong → 401 "Signature verification failed.";
//! - encodedData accepted before (replay) → 401 "encodedData has already been used.";
//! - success → 201 with `tokenInfo`, like Basic.

use super::auth::{bad_credential, bad_header, issue_access_token, legacy_body};
use super::{Emulator, Inner};
use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA512, UnparsedPublicKey};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

/// Anaplan's minimum length of the random data to sign.
pub const MIN_ENCODED_DATA: usize = 100;

/// Registered certificates and used nonces.
#[derive(Default)]
pub(super) struct CertState {
    /// DER of every certificate registered to the user.
    registered: Vec<Vec<u8>>,
    /// Every `encodedData` that logged in once (replays are refused).
    used: HashSet<Vec<u8>>,
}

impl Emulator {
    /// Enables certificate auth for the user holding `cert_pem`'s key.
    /// Panics on a PEM that is not a certificate (a test bug).
    pub fn set_certificate_user(&self, cert_pem: &str) {
        let cert = Certificate::from_pem(cert_pem.as_bytes()).expect("set_certificate_user: not a PEM certificate");
        let der = cert.to_der().expect("set_certificate_user: re-encode certificate");
        self.inner.state().cert.registered.push(der);
    }
}

/// Handles a `CACertificate` login; `cert_b64` is the header value after the scheme.
pub(super) fn authenticate(inner: &Inner, headers: &HeaderMap, cert_b64: &str, body: &[u8]) -> Response {
    let Some(cert) = STANDARD.decode(cert_b64).ok().and_then(|pem| Certificate::from_pem(pem).ok()) else {
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
    let Some((data, signature)) = parse_body(body) else {
        return bad_credential("Invalid certificate data.");
    };
    if data.len() < MIN_ENCODED_DATA {
        return bad_credential("encodedData must be at least 100 bytes.");
    }
    if !signature_ok(&cert, &data, &signature) {
        return bad_credential("Signature verification failed.");
    }
    let mut st = inner.state();
    if !st.cert.used.insert(data) {
        return bad_credential("encodedData has already been used.");
    }
    let token = issue_access_token(inner, &mut st);
    let body = legacy_body(inner, &st, &token, "Login successful");
    (StatusCode::CREATED, Json(Value::Object(body))).into_response()
}

/// True when now is within the certificate's notBefore..=notAfter.
fn valid_now(cert: &Certificate) -> bool {
    let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) else {
        return false;
    };
    let validity = &cert.tbs_certificate.validity;
    validity.not_before.to_unix_duration() <= now && now <= validity.not_after.to_unix_duration()
}

/// (encodedData, encodedSignedData) decoded; `None` unless both are strict base64 strings.
fn parse_body(body: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let field = |k: &str| map.get(k).and_then(Value::as_str).and_then(|s| STANDARD.decode(s).ok());
    Some((field("encodedData")?, field("encodedSignedData")?))
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
