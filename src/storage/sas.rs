//! Shared access signatures. The blob SDK speaks only Entra ID tokens and SAS, so an
//! account key (a connection string's `AccountKey`, Azurite's well-known key) is turned
//! into a short-lived ACCOUNT SAS here, signed with HMAC-SHA256 as the Storage REST docs
//! describe ("Create an account SAS"). A SAS given by the user is used as given.
//!
//! Either way the SAS is added to each request by [`SasPolicy`], a per-try pipeline
//! policy, instead of being baked into the client's URL: clients live as long as the app
//! (a `JsonStore`, a long export's `BlockWriter`) and must not carry a SAS that expires,
//! and a client's `url()` stays free of secrets.

use std::sync::{Arc, Mutex};

use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};
use azure_core::time::{Duration, OffsetDateTime};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use anaplan::secret::Secret;

/// How long a signed SAS is valid. Short, so a SAS that leaks is soon worthless.
const SAS_LIFETIME: Duration = Duration::hours(1);
/// A cached SAS is replaced when less than this is left, so every request (and its
/// retries) goes out with a SAS that outlives it comfortably.
const RENEW_BEFORE: Duration = Duration::minutes(15);

/// Services (`ss`): blob only.
const SERVICES: &str = "b";
/// Resource types (`srt`): service, container, object.
const RESOURCE_TYPES: &str = "sco";
/// Permissions (`sp`): read, add, create, write, delete, list; what exports, imports and
/// shared state need, in the order the service requires.
const PERMISSIONS: &str = "racwdl";

/// The fields of an account SAS that its signature covers.
pub(crate) struct AccountSasFields<'a> {
    pub account: &'a str,
    pub permissions: &'a str,
    pub services: &'a str,
    pub resource_types: &'a str,
    pub start: &'a str,
    pub expiry: &'a str,
    pub ip: &'a str,
    pub protocol: &'a str,
    pub version: &'a str,
    pub encryption_scope: &'a str,
}

/// The account-SAS string-to-sign for service versions 2020-12-06 and later: ten fields,
/// each followed by a newline (an absent optional field is an empty line).
pub(crate) fn string_to_sign(f: &AccountSasFields<'_>) -> String {
    [
        f.account,
        f.permissions,
        f.services,
        f.resource_types,
        f.start,
        f.expiry,
        f.ip,
        f.protocol,
        f.version,
        f.encryption_scope,
    ]
    .iter()
    .fold(String::new(), |mut s, field| {
        s.push_str(field);
        s.push('\n');
        s
    })
}

/// Base64 of HMAC-SHA256 over `text` with the (decoded) account key.
pub(crate) fn sign(text: &str, key: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(text.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `2026-04-06T12:00:00Z`: the ISO 8601 UTC form SAS times take (no fractions).
pub(crate) fn sas_time(t: OffsetDateTime) -> String {
    // Back through the Unix clock, which is UTC whatever offset `t` carried.
    let t = OffsetDateTime::from_unix_timestamp(t.unix_timestamp()).unwrap_or(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The service version the blob SDK speaks (`x-ms-version`), which the SAS is signed for.
pub(crate) fn sdk_service_version() -> String {
    azure_storage_blob::BlobClientOptions::default().version
}

/// Signs account SASs with an account key and caches the current one.
#[derive(Debug)]
pub(crate) struct AccountKeySas {
    account: String,
    /// The account key, base64 as Azure shows it.
    key: Secret,
    /// `https,http` for loopback endpoints (Azurite), else `https`.
    protocol: &'static str,
    version: String,
    cached: Mutex<Option<(Secret, OffsetDateTime)>>,
}

impl AccountKeySas {
    /// Checks that the key is base64; the error never repeats the key.
    pub(crate) fn new(account: &str, key: Secret, allow_http: bool) -> Result<AccountKeySas, String> {
        match BASE64.decode(key.expose()) {
            Ok(bytes) if !bytes.is_empty() => {}
            _ => return Err("AccountKey is not a base64 account key".to_owned()),
        }
        Ok(AccountKeySas {
            account: account.to_owned(),
            key,
            protocol: if allow_http { "https,http" } else { "https" },
            version: sdk_service_version(),
            cached: Mutex::new(None),
        })
    }

    /// A SAS query string valid for at least [`RENEW_BEFORE`].
    pub(crate) fn current(&self) -> Secret {
        let now = OffsetDateTime::now_utc();
        let mut cached = self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((sas, expiry)) = cached.as_ref()
            && *expiry - now > RENEW_BEFORE
        {
            return sas.clone();
        }
        let expiry = now + SAS_LIFETIME;
        let sas = self.sign_until(expiry);
        *cached = Some((sas.clone(), expiry));
        sas
    }

    /// The storage account it signs for.
    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    /// A SAS query string that expires at `expiry`. No start time: a start would make the
    /// SAS fail on a server whose clock is behind ours.
    pub(crate) fn sign_until(&self, expiry: OffsetDateTime) -> Secret {
        self.sign_grant(PERMISSIONS, expiry)
    }

    /// A blob-service account SAS for resource types service, container and object with
    /// `permissions` (in the service's order, e.g. `rwl`), expiring at `expiry`.
    pub(crate) fn sign_grant(&self, permissions: &str, expiry: OffsetDateTime) -> Secret {
        let expiry = sas_time(expiry);
        let fields = AccountSasFields {
            account: &self.account,
            permissions,
            services: SERVICES,
            resource_types: RESOURCE_TYPES,
            start: "",
            expiry: &expiry,
            ip: "",
            protocol: self.protocol,
            version: &self.version,
            encryption_scope: "",
        };
        // Checked in `new`.
        let key = BASE64.decode(self.key.expose()).unwrap_or_default();
        let signature = sign(&string_to_sign(&fields), &key);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("sv", &self.version)
            .append_pair("ss", SERVICES)
            .append_pair("srt", RESOURCE_TYPES)
            .append_pair("sp", permissions)
            .append_pair("se", &expiry)
            .append_pair("spr", self.protocol)
            .append_pair("sig", &signature)
            .finish();
        Secret::new(query)
    }
}

/// Where a request's SAS comes from.
#[derive(Debug)]
pub(crate) enum SasSource {
    /// Given by the user (connection string or SAS URL), used as given.
    Fixed(Secret),
    /// Signed here from an account key.
    AccountKey(AccountKeySas),
}

/// Adds the SAS to the query string of every request try, and takes it off again after
/// the try, so a retry does not stack a second copy and the SAS never lingers in a URL
/// that may be logged or quoted in an error.
#[derive(Debug)]
pub(crate) struct SasPolicy(pub SasSource);

impl SasPolicy {
    fn query(&self) -> Secret {
        match &self.0 {
            SasSource::Fixed(sas) => sas.clone(),
            SasSource::AccountKey(signer) => signer.current(),
        }
    }
}

#[async_trait::async_trait]
impl Policy for SasPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let original = request.url().clone();
        let sas = self.query();
        {
            let url = request.url_mut();
            let query = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{}", sas.expose()),
                _ => sas.expose().to_owned(),
            };
            url.set_query(Some(&query));
        }
        let result = next[0].send(ctx, request, &next[1..]).await;
        *request.url_mut() = original;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Azurite's (and the old storage emulator's) published development key.
    const DEV_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    fn fields<'a>(expiry: &'a str, version: &'a str) -> AccountSasFields<'a> {
        AccountSasFields {
            account: "devstoreaccount1",
            permissions: "racwdl",
            services: "b",
            resource_types: "sco",
            start: "",
            expiry,
            ip: "",
            protocol: "https,http",
            version,
            encryption_scope: "",
        }
    }

    #[test]
    fn string_to_sign_has_ten_newline_terminated_fields() {
        let s = string_to_sign(&fields("2030-01-01T00:00:00Z", "2026-04-06"));
        assert_eq!(s, "devstoreaccount1\nracwdl\nb\nsco\n\n2030-01-01T00:00:00Z\n\nhttps,http\n2026-04-06\n\n");
    }

    #[test]
    fn signature_matches_an_independent_computation() {
        // Computed separately with Python's hmac/hashlib/base64 over the string above.
        let key = BASE64.decode(DEV_KEY).unwrap();
        let s = string_to_sign(&fields("2030-01-01T00:00:00Z", "2026-04-06"));
        assert_eq!(sign(&s, &key), "3nKLXpFZWlnG4ILzDHu+tGGAGaA5Xzvl8BK5wZ3kDhQ=");
    }

    #[test]
    fn the_sdk_speaks_a_version_this_signature_format_covers() {
        // The ten-field string-to-sign is the format from 2020-12-06 on. A newer SDK that
        // speaks an older version would need the nine-field format.
        let v = sdk_service_version();
        assert!(v.as_str() >= "2020-12-06", "{v}");
        assert_eq!(v.len(), 10, "{v}");
    }

    #[test]
    fn sas_query_is_encoded_and_carries_every_field() {
        let signer = AccountKeySas::new("devstoreaccount1", Secret::new(DEV_KEY), true).unwrap();
        let expiry = OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap(); // 2030-01-01
        let q = signer.sign_until(expiry);
        let q = q.expose();
        let v = sdk_service_version();
        assert!(
            q.starts_with(&format!("sv={v}&ss=b&srt=sco&sp=racwdl&se=2030-01-01T00%3A00%3A00Z&spr=https%2Chttp&sig=")),
            "{q}"
        );
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        let sig = &pairs.iter().find(|(k, _)| k == "sig").unwrap().1;
        let expected = sign(&string_to_sign(&fields("2030-01-01T00:00:00Z", &v)), &BASE64.decode(DEV_KEY).unwrap());
        assert_eq!(sig, &expected);
    }

    #[test]
    fn https_only_unless_loopback() {
        let signer = AccountKeySas::new("acct", Secret::new(DEV_KEY), false).unwrap();
        assert!(signer.current().expose().contains("spr=https&"));
    }

    #[test]
    fn the_current_sas_is_cached_until_close_to_expiry() {
        let signer = AccountKeySas::new("acct", Secret::new(DEV_KEY), false).unwrap();
        let a = signer.current();
        assert_eq!(a, signer.current());
        // Pretend the cached one is about to expire: a new one is signed.
        let soon = OffsetDateTime::now_utc() + Duration::minutes(5);
        *signer.cached.lock().unwrap() = Some((signer.sign_until(soon), soon));
        let b = signer.current();
        assert_ne!(b, signer.sign_until(soon));
    }

    #[test]
    fn a_bad_key_is_refused_without_being_repeated() {
        let e = AccountKeySas::new("acct", Secret::new("not base64!"), false).unwrap_err();
        assert!(!e.contains("not base64!"), "{e}");
        assert!(AccountKeySas::new("acct", Secret::new(""), false).is_err());
    }

    #[test]
    fn debug_hides_the_key_and_the_sas() {
        let signer = AccountKeySas::new("acct", Secret::new(DEV_KEY), false).unwrap();
        let sas = signer.current();
        let shown = format!("{:?}", SasPolicy(SasSource::AccountKey(signer)));
        assert!(!shown.contains(DEV_KEY), "{shown}");
        assert!(!shown.contains(sas.expose()), "{shown}");
    }
}
