//! The demo certificate user: an RSA 2048 key and a certificate for the demo user
//! ([`super::seed::USER_EMAIL`]), issued by a demo CA the emulator makes up for it, valid
//! from a day ago for a year. The emulator registers it for certificate login, keeps it in
//! `state.json` and hands it out in `credentials.json` (`certificate`: the certificate PEM
//! then the key PEM, as `ANAPLAN_CERTIFICATE` takes them).
//!
//! The CA is an ECDSA P-256 key made with each certificate and thrown away once it signed:
//! nothing checks the chain (the emulator registers the certificate itself, as Anaplan
//! registers a user's certificate), it only makes the certificate look like one Anaplan
//! takes (issued by a CA, not self-signed). RSA keys come from `rcgen` on `aws-lc-rs`
//! (already built for rustls); `ring` cannot make RSA keys.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

/// How long a minted certificate is valid (from a day before it was made).
const VALIDITY_DAYS: u64 = 365;
/// A stored certificate with less left than this is replaced at start.
const RENEW_BEFORE: Duration = Duration::from_secs(24 * 3600);

/// The demo user's certificate and private key (PEM each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCertificate {
    /// `-----BEGIN CERTIFICATE-----` …
    pub certificate: String,
    /// `-----BEGIN PRIVATE KEY-----` … (PKCS#8, unencrypted).
    pub private_key: String,
}

impl DemoCertificate {
    /// Certificate then key: the value of `ANAPLAN_CERTIFICATE`.
    pub fn pem(&self) -> String {
        format!("{}{}", ensure_newline(&self.certificate), ensure_newline(&self.private_key))
    }

    /// True when the certificate parses and is valid for at least another day.
    pub fn usable(&self) -> bool {
        let Ok(cert) = Certificate::from_pem(self.certificate.as_bytes()) else {
            return false;
        };
        let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) else {
            return false;
        };
        let validity = &cert.tbs_certificate.validity;
        validity.not_before.to_unix_duration() <= now && now + RENEW_BEFORE < validity.not_after.to_unix_duration()
    }
}

fn ensure_newline(pem: &str) -> String {
    if pem.ends_with('\n') { pem.to_owned() } else { format!("{pem}\n") }
}

/// The process's demo RSA key (PKCS#8 PEM): made once, since an RSA key takes a moment.
fn rsa_key_pem() -> Result<String, String> {
    static KEY: OnceLock<String> = OnceLock::new();
    if let Some(k) = KEY.get() {
        return Ok(k.clone());
    }
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .map_err(|e| format!("cannot make the demo certificate's RSA key: {e}"))?;
    Ok(KEY.get_or_init(|| key.serialize_pem()).clone())
}

/// A new certificate for the demo user, issued by a new demo CA.
pub fn mint() -> Result<DemoCertificate, String> {
    let fail = |what: &str, e: rcgen::Error| format!("cannot make the demo certificate ({what}): {e}");
    let key_pem = rsa_key_pem()?;
    let key = rcgen::KeyPair::from_pem(&key_pem).map_err(|e| fail("key", e))?;
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| fail("CA key", e))?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", e))?;
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Anaplan Emulator Demo CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let at = |d: Duration| rcgen::date_time_ymd(1970, 1, 1) + d;
    let day = Duration::from_secs(86_400);
    ca.not_before = at(now.saturating_sub(day));
    ca.not_after = at(now + day * (VALIDITY_DAYS as u32 + 1));
    let issuer = rcgen::Issuer::new(ca, ca_key);

    let mut user = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("user", e))?;
    user.distinguished_name.push(rcgen::DnType::CommonName, super::seed::USER_EMAIL);
    user.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    user.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    user.not_before = at(now.saturating_sub(day));
    user.not_after = at(now + day * VALIDITY_DAYS as u32);
    let mut serial = [0u8; 16];
    getrandom::getrandom(&mut serial).map_err(|e| format!("cannot make the demo certificate: {e}"))?;
    serial[0] &= 0x7f;
    user.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = user.signed_by(&key, &issuer).map_err(|e| fail("signing", e))?;
    Ok(DemoCertificate { certificate: cert.pem(), private_key: key_pem })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_certificate_is_issued_by_the_demo_ca_for_the_demo_user_and_usable() {
        let c = mint().unwrap();
        assert!(c.usable());
        let cert = Certificate::from_pem(c.certificate.as_bytes()).unwrap();
        let tbs = &cert.tbs_certificate;
        assert_ne!(tbs.issuer, tbs.subject, "not self-signed");
        assert!(tbs.subject.to_string().contains(super::super::seed::USER_EMAIL), "{}", tbs.subject);
        assert!(tbs.issuer.to_string().contains("Demo CA"), "{}", tbs.issuer);
        let pem = c.pem();
        assert!(pem.contains("-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----"), "{pem}");
        assert_ne!(mint().unwrap().certificate, c.certificate, "each mint is a new certificate");
    }

    #[test]
    fn an_unreadable_or_expiring_certificate_is_not_usable() {
        let bad = DemoCertificate { certificate: "nope".into(), private_key: String::new() };
        assert!(!bad.usable());
    }
}
