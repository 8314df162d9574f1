//! Test certificates for certificate auth against the emulator (rcgen is a dev dependency,
//! so they are made here, not in the library).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use anaplan_functions::emulator::seed::USER_EMAIL;

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
    let (y, m, d) = ymd_from_today(from_days);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd_from_today(to_days);
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let cert = params.self_signed(&key).expect("self-sign certificate");
    (cert.pem(), key_pem.to_string())
}

/// (year, month, day) of today + `offset` days, UTC (rcgen takes midnight of it).
fn ymd_from_today(offset: i64) -> (i32, u8, u8) {
    let today = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64 / 86_400;
    let (y, m, d) = civil_from_days(today + offset);
    (y as i32, m as u8, d as u8)
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
