//! Reading an account from the settings: `AzureWebJobsStorage` (a connection string, or
//! the identity-based `AzureWebJobsStorage__*` settings) and `EXPORT_STORAGE_URL`. Every
//! error names the setting and never repeats its value, which may hold a key or a SAS.

use std::collections::HashMap;

use azure_identity::UserAssignedId;
use url::Url;

use crate::loopback::is_loopback;

use super::account::{with_identity, with_key, with_sas};
use super::{BlobAccount, StorageError};
use anaplan::secret::Secret;

/// Azurite's account, the same for every installation (published by Microsoft).
const DEV_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known account key (not a secret: it is in Microsoft's documentation).
const DEV_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// Azurite's blob endpoint.
const DEV_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

const APP_STORAGE: &str = "AzureWebJobsStorage";
const EXPORT_STORAGE: &str = "EXPORT_STORAGE_URL";

impl BlobAccount {
    /// The app's own account, from `AzureWebJobsStorage`: a connection string
    /// (`UseDevelopmentStorage=true` for Azurite; `AccountName` + `AccountKey`, with
    /// `BlobEndpoint` or `DefaultEndpointsProtocol` + `EndpointSuffix`; or `BlobEndpoint`
    /// (or `AccountName`) + `SharedAccessSignature`), or else the identity-based
    /// `AzureWebJobsStorage__blobServiceUri` (also `__serviceUri`) or
    /// `AzureWebJobsStorage__accountName`, used with the managed identity
    /// (`__clientId` picks a user-assigned one). `None` when none of these is set.
    /// Errors name the setting and never repeat its value. Empty values count as unset.
    pub fn from_app_settings(get: impl Fn(&str) -> Option<String>) -> Result<Option<BlobAccount>, StorageError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if let Some(value) = get(APP_STORAGE) {
            return from_connection_string(&value, APP_STORAGE).map(Some);
        }
        const URI: &str = "AzureWebJobsStorage__blobServiceUri";
        const LEGACY_URI: &str = "AzureWebJobsStorage__serviceUri";
        const ACCOUNT: &str = "AzureWebJobsStorage__accountName";
        const CREDENTIAL: &str = "AzureWebJobsStorage__credential";
        const CLIENT_ID: &str = "AzureWebJobsStorage__clientId";
        let (name, endpoint) = if let Some(raw) = get(URI) {
            (URI, service_url(&raw, URI)?)
        } else if let Some(raw) = get(LEGACY_URI) {
            (LEGACY_URI, service_url(&raw, LEGACY_URI)?)
        } else if let Some(account) = get(ACCOUNT) {
            check_account_name(&account, ACCOUNT)?;
            (ACCOUNT, public_endpoint(&account, "https", "core.windows.net", ACCOUNT)?)
        } else {
            return Ok(None);
        };
        if let Some(kind) = get(CREDENTIAL)
            && !kind.eq_ignore_ascii_case("managedidentity")
        {
            return Err(setting(CREDENTIAL, format!("only managedidentity is supported, got {kind:?}")));
        }
        let user_assigned = get(CLIENT_ID).map(UserAssignedId::ClientId);
        with_identity(endpoint, user_assigned, name).map(Some)
    }

    /// `EXPORT_STORAGE_URL`: a blob service URL (used with the app's system-assigned managed
    /// identity), an account SAS URL (`https://acct.blob.core.windows.net/?sv=...&sig=...`),
    /// or a connection string as for `AzureWebJobsStorage`.
    pub fn from_export_setting(value: &str) -> Result<BlobAccount, StorageError> {
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let url = Url::parse(value)
                .map_err(|e| setting(EXPORT_STORAGE, format!("not a URL ({e}); expected a blob service URL")))?;
            let query = url.query().unwrap_or("").to_owned();
            let mut endpoint = service_url_parts(url, EXPORT_STORAGE)?;
            endpoint.set_query(None);
            if query.is_empty() {
                return with_identity(endpoint, None, EXPORT_STORAGE);
            }
            return with_sas(endpoint, &query, EXPORT_STORAGE);
        }
        if value.contains('=') {
            return from_connection_string(value, EXPORT_STORAGE);
        }
        Err(setting(
            EXPORT_STORAGE,
            "expected a blob service URL (https://<account>.blob.core.windows.net), an account SAS URL or a connection string",
        ))
    }
}

/// Parses a storage connection string. Keys are case-insensitive; values may contain `=`.
fn from_connection_string(value: &str, name: &'static str) -> Result<BlobAccount, StorageError> {
    let mut parts: HashMap<String, String> = HashMap::new();
    for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, val)) = part.split_once('=') else {
            return Err(setting(name, "not a connection string: every part must be Key=Value, separated by ';'"));
        };
        parts.insert(key.trim().to_ascii_lowercase(), val.trim().to_owned());
    }
    let part = |k: &str| parts.get(k).filter(|v| !v.is_empty()).cloned();

    if let Some(dev) = part("usedevelopmentstorage") {
        if !dev.eq_ignore_ascii_case("true") {
            return Err(setting(name, "UseDevelopmentStorage must be true when given"));
        }
        if part("developmentstorageproxyuri").is_some() {
            return Err(setting(
                name,
                "DevelopmentStorageProxyUri is not supported; give BlobEndpoint, AccountName and AccountKey",
            ));
        }
        let endpoint = Url::parse(DEV_BLOB_ENDPOINT).expect("constant URL");
        return with_key(endpoint, DEV_ACCOUNT, Secret::new(DEV_ACCOUNT_KEY), name);
    }

    let account = part("accountname");
    if let Some(account) = &account {
        check_account_name(account, name)?;
    }
    let endpoint = match part("blobendpoint") {
        Some(raw) => {
            let url = service_url(&raw, name)?;
            if url.query().is_some() {
                return Err(setting(
                    name,
                    "BlobEndpoint must not have a query string; put a SAS in SharedAccessSignature",
                ));
            }
            Some(url)
        }
        None => match &account {
            Some(account) => {
                let protocol =
                    part("defaultendpointsprotocol").unwrap_or_else(|| "https".to_owned()).to_ascii_lowercase();
                if protocol != "https" && protocol != "http" {
                    return Err(setting(
                        name,
                        format!("DefaultEndpointsProtocol must be https or http, got {protocol:?}"),
                    ));
                }
                let suffix = part("endpointsuffix").unwrap_or_else(|| "core.windows.net".to_owned());
                Some(public_endpoint(account, &protocol, &suffix, name)?)
            }
            None => None,
        },
    };
    let key = part("accountkey");
    let sas = part("sharedaccesssignature");
    match (key, sas) {
        (Some(_), Some(_)) => Err(setting(name, "give AccountKey or SharedAccessSignature, not both")),
        (Some(key), None) => {
            let account = account.ok_or_else(|| setting(name, "AccountKey needs AccountName"))?;
            let endpoint = endpoint.expect("AccountName gives an endpoint");
            with_key(endpoint, &account, Secret::new(key), name)
        }
        (None, Some(sas)) => {
            let endpoint =
                endpoint.ok_or_else(|| setting(name, "SharedAccessSignature needs BlobEndpoint or AccountName"))?;
            with_sas(endpoint, &sas, name)
        }
        (None, None) => Err(setting(
            name,
            "the connection string has neither AccountKey nor SharedAccessSignature (nor UseDevelopmentStorage=true); for a managed identity give a service URL instead",
        )),
    }
}

/// A blob service URL from a setting: http only for loopback hosts, no credentials.
fn service_url(raw: &str, name: &'static str) -> Result<Url, StorageError> {
    let url = Url::parse(raw).map_err(|e| setting(name, format!("not a URL ({e})")))?;
    service_url_parts(url, name)
}

fn service_url_parts(url: Url, name: &'static str) -> Result<Url, StorageError> {
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(setting(name, "give only scheme, host, port and path (no user, password or fragment)"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(setting(
                name,
                format!("http:// is only accepted for loopback hosts; use https:// ({})", without_query(&url)),
            ));
        }
        other => return Err(setting(name, format!("expected an https:// URL, got scheme {other:?}"))),
    }
    if url.host().is_none() {
        return Err(setting(name, "the URL has no host"));
    }
    Ok(url)
}

/// `https://<account>.blob.<suffix>/`.
fn public_endpoint(account: &str, protocol: &str, suffix: &str, name: &'static str) -> Result<Url, StorageError> {
    let suffix = suffix.trim_matches('.');
    if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        return Err(setting(name, "EndpointSuffix must be a DNS suffix such as core.windows.net"));
    }
    let url = Url::parse(&format!("{protocol}://{account}.blob.{suffix}/"))
        .map_err(|e| setting(name, format!("cannot build the blob endpoint: {e}")))?;
    service_url_parts(url, name)
}

/// Storage account names: 3 to 24 lowercase letters and digits. Checked because the name
/// becomes part of a host name.
fn check_account_name(account: &str, name: &'static str) -> Result<(), StorageError> {
    if !(3..=24).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return Err(setting(name, format!("account name {account:?} must be 3 to 24 lowercase letters and digits")));
    }
    Ok(())
}

fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

pub(super) fn setting(name: &'static str, problem: impl Into<String>) -> StorageError {
    StorageError::Setting { name, problem: problem.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0LWtleS1ieXRlcy1mb3ItdGVzdHMtb25seQ==";

    fn app(pairs: &[(&str, &str)]) -> Result<Option<BlobAccount>, StorageError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        BlobAccount::from_app_settings(|k| map.get(k).cloned())
    }

    fn conn(value: &str) -> Result<BlobAccount, StorageError> {
        app(&[("AzureWebJobsStorage", value)]).map(|a| a.expect("an account"))
    }

    fn problem(e: StorageError) -> (&'static str, String) {
        match e {
            StorageError::Setting { name, problem } => (name, problem),
            other => panic!("expected a setting error, got {other:?}"),
        }
    }

    #[test]
    fn nothing_set_is_none() {
        assert!(app(&[]).unwrap().is_none());
        assert!(app(&[("AzureWebJobsStorage", "  ")]).unwrap().is_none());
    }

    #[test]
    fn development_storage_is_azurite_with_its_key() {
        let a = conn("UseDevelopmentStorage=true").unwrap();
        assert_eq!(a.endpoint().as_str(), "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(a.auth_kind(), "account key (signed short-lived SAS)");
        assert_eq!(a.public_url("c1c", "x.csv").as_str(), "http://127.0.0.1:10000/devstoreaccount1/c1c/x.csv");
        assert_eq!(problem(conn("UseDevelopmentStorage=false").unwrap_err()).0, "AzureWebJobsStorage");
    }

    #[test]
    fn account_key_with_protocol_and_suffix() {
        let a = conn(&format!(
            "DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={KEY};EndpointSuffix=core.chinacloudapi.cn"
        ))
        .unwrap();
        assert_eq!(a.endpoint().as_str(), "https://myacct.blob.core.chinacloudapi.cn/");
        assert_eq!(
            a.public_url("exports", "d/e.csv").as_str(),
            "https://myacct.blob.core.chinacloudapi.cn/exports/d/e.csv"
        );
        // Defaults: https and the public cloud; keys are case-insensitive; a trailing ';' is fine.
        let a = conn(&format!("accountname=myacct;ACCOUNTKEY={KEY};")).unwrap();
        assert_eq!(a.endpoint().as_str(), "https://myacct.blob.core.windows.net/");
    }

    #[test]
    fn account_key_with_blob_endpoint() {
        let a = conn(&format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
        ))
        .unwrap();
        assert_eq!(a.endpoint().as_str(), "http://127.0.0.1:10000/devstoreaccount1");
        let e = problem(
            conn(&format!("AccountName=acct1;AccountKey={KEY};BlobEndpoint=http://storage.example.com")).unwrap_err(),
        );
        assert!(e.1.contains("loopback"), "{e:?}");
    }

    #[test]
    fn sas_connection_string() {
        let a = conn("BlobEndpoint=https://myacct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&spr=https&sig=abc%2Bdef%3D").unwrap();
        assert_eq!(a.auth_kind(), "shared access signature");
        let a = conn("AccountName=myacct;SharedAccessSignature=?sv=2022-11-02&ss=b&srt=sco&sp=r&se=2030-01-01&sig=x")
            .unwrap();
        assert_eq!(a.endpoint().as_str(), "https://myacct.blob.core.windows.net/");
        let e = problem(conn("SharedAccessSignature=sv=1&ss=b&sig=x").unwrap_err());
        assert!(e.1.contains("BlobEndpoint"), "{e:?}");
        let e =
            problem(conn("BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&ss=b").unwrap_err());
        assert!(e.1.contains("sig="), "{e:?}");
    }

    #[test]
    fn malformed_connection_strings_are_named_without_their_value() {
        for (value, fragment) in [
            ("AccountName=myacct", "neither AccountKey"),
            (&format!("AccountKey={KEY}") as &str, "needs AccountName"),
            ("AccountName=myacct;AccountKey=%%%not-base64-secret", "base64"),
            ("AccountName=My_Acct;AccountKey=abcd", "3 to 24"),
            ("just some text", "Key=Value"),
            (&format!("AccountName=myacct;AccountKey={KEY};SharedAccessSignature=sv=1&sig=x") as &str, "not both"),
            (&format!("AccountName=myacct;AccountKey={KEY};DefaultEndpointsProtocol=ftp") as &str, "https or http"),
        ] {
            let (name, text) = problem(conn(value).unwrap_err());
            assert_eq!(name, "AzureWebJobsStorage");
            assert!(text.contains(fragment), "{value}: {text}");
            assert!(!text.contains(KEY) && !text.contains("not-base64-secret"), "{text}");
        }
    }

    #[test]
    fn identity_based_settings() {
        let a = app(&[("AzureWebJobsStorage__accountName", "myacct")]).unwrap().unwrap();
        assert_eq!(a.endpoint().as_str(), "https://myacct.blob.core.windows.net/");
        assert_eq!(a.auth_kind(), "managed identity");
        let a =
            app(&[("AzureWebJobsStorage__blobServiceUri", "https://myacct.blob.core.windows.net")]).unwrap().unwrap();
        assert_eq!(a.public_url("c0c", "b").as_str(), "https://myacct.blob.core.windows.net/c0c/b");
        let (name, text) =
            problem(app(&[("AzureWebJobsStorage__blobServiceUri", "http://127.0.0.1:10000/x")]).unwrap_err());
        assert_eq!(name, "AzureWebJobsStorage__blobServiceUri");
        assert!(text.contains("https"), "{text}");
        let (name, _) = problem(
            app(&[("AzureWebJobsStorage__accountName", "myacct"), ("AzureWebJobsStorage__credential", "secret")])
                .unwrap_err(),
        );
        assert_eq!(name, "AzureWebJobsStorage__credential");
        // A connection string wins over identity-based settings, as in the Functions host.
        let a = app(&[
            ("AzureWebJobsStorage", "UseDevelopmentStorage=true"),
            ("AzureWebJobsStorage__accountName", "other"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.endpoint().as_str(), DEV_BLOB_ENDPOINT);
    }

    #[test]
    fn export_setting_forms() {
        let a = BlobAccount::from_export_setting("https://exp.blob.core.windows.net").unwrap();
        assert_eq!(a.auth_kind(), "managed identity");
        let a = BlobAccount::from_export_setting(
            "https://exp.blob.core.windows.net/?sv=2022-11-02&ss=b&srt=sco&sp=rwac&se=2030-01-01T00%3A00%3A00Z&sig=s3cr3t%2F",
        )
        .unwrap();
        assert_eq!(a.auth_kind(), "shared access signature");
        assert_eq!(a.endpoint().as_str(), "https://exp.blob.core.windows.net/");
        assert_eq!(a.public_url("out", "x.csv").as_str(), "https://exp.blob.core.windows.net/out/x.csv");
        assert!(!format!("{a:?}").contains("s3cr3t"));
        let a = BlobAccount::from_export_setting("UseDevelopmentStorage=true").unwrap();
        assert_eq!(a.endpoint().as_str(), DEV_BLOB_ENDPOINT);

        for (value, fragment) in [
            ("https://exp.blob.core.windows.net/out?sv=2022-11-02&sr=c&sp=rw&sig=s3cr3t", "account SAS"),
            ("https://exp.blob.core.windows.net/?foo=bar", "sig="),
            ("http://exp.blob.core.windows.net/", "loopback"),
            ("exp.blob.core.windows.net", "expected a blob service URL"),
        ] {
            let (name, text) = problem(BlobAccount::from_export_setting(value).unwrap_err());
            assert_eq!(name, "EXPORT_STORAGE_URL");
            assert!(text.contains(fragment), "{value}: {text}");
            assert!(!text.contains("s3cr3t"), "{text}");
        }
    }
}
