//! Test certificates for certificate auth against the emulator (rcgen is a dev dependency,
//! so they are made here, not in the library).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use anaplan_emulator::seed::USER_EMAIL;

/// (certificate PEM, PKCS#8 private key PEM) for certificate auth: an RSA 2048
/// key and a self-signed certificate for [`USER_EMAIL`], valid from yesterday
/// for a year. Made once per process (RSA key generation is slow); register it
/// with `Emulator::set_certificate_user`.
pub fn test_certificate() -> (String, String) {
    static CERT: OnceLock<(String, String)> = OnceLock::new();
    CERT.get_or_init(|| certificate_for(&rsa_key_pem(), -1, 365)).clone()
}

/// Like [`test_certificate`] (same key) but its validity ended yesterday.
pub fn expired_certificate() -> (String, String) {
    static CERT: OnceLock<(String, String)> = OnceLock::new();
    CERT.get_or_init(|| certificate_for(&rsa_key_pem(), -730, -1)).clone()
}

/// The process-wide RSA key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
fn rsa_key_pem() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        // aws-lc-rs generates RSA keys in milliseconds; the pure-Rust `rsa`
        // crate takes seconds in debug builds.
        let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .expect("generate RSA key");
        key.serialize_pem()
    })
    .clone()
}

/// A self-signed certificate for `key_pem`, valid from `from_days` to `to_days` relative to today.
fn certificate_for(key_pem: &str, from_days: i64, to_days: i64) -> (String, String) {
    let key = rcgen::KeyPair::from_pem(key_pem).expect("parse RSA key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate params");
    params.distinguished_name.push(rcgen::DnType::CommonName, USER_EMAIL);
    // Midnight UTC of today + `offset` days.
    let today = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400;
    let midnight = |offset: i64| {
        let days = u64::try_from(today as i64 + offset).expect("after 1970");
        rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(days * 86_400)
    };
    params.not_before = midnight(from_days);
    params.not_after = midnight(to_days);
    let cert = params.self_signed(&key).expect("self-sign certificate");
    (cert.pem(), key_pem.to_string())
}
