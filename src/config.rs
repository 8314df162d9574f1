//! Settings from the environment (= app settings = `local.settings.json` Values), read and
//! validated once at start. A missing or malformed setting is one clear line naming it.

use std::collections::HashMap;
use std::path::PathBuf;

use url::Url;

use crate::loopback::is_loopback;

use crate::storage::{AllowedContainers, BlobAccount, StorageError};
use anaplan::auth::SecretKind;
use anaplan::auth::legacy::certificate::sign_nonce;
use anaplan::regions::{self, RegionHosts};
use anaplan::secret::Secret;
use anaplan::token_file;

/// No answer takes longer than this (the contract says 110 s; Logic Apps cuts synchronous
/// calls at 120 s and Azure's front end at 230 s).
pub const ANSWER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(105);

/// `FORWARDED_HOSTS`: comma-separated host names (optionally with a port), each a bare
/// host that can stand in a URL; kept lowercase.
fn forwarded_hosts(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let mut hosts = Vec::new();
    for h in value.unwrap_or_default().split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let bare = !h.contains(['/', '?', '#', '@', '\\', ' '])
            && Url::parse(&format!("https://{h}/")).is_ok_and(|u| u.host_str().is_some() && u.path() == "/");
        if !bare {
            return Err(err(
                "FORWARDED_HOSTS",
                format!("expected comma-separated host names such as api.contoso.com, got {h:?}"),
            ));
        }
        hosts.push(h.to_ascii_lowercase());
    }
    Ok(hosts)
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {problem}")]
pub struct ConfigError {
    /// The setting's name.
    pub name: &'static str,
    /// What is wrong with it (never its value when it is a secret).
    pub problem: String,
}

fn err(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { name, problem: problem.into() }
}

/// `ANAPLAN_AUTH_METHOD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// OAuth client id (+ secret for authorization-code clients) and a refresh token.
    OAuth,
    /// Anaplan CA certificate and private key.
    Certificate,
    /// User name and password.
    Basic,
    /// Only the caller's own `Authorization: Bearer` token.
    Caller,
}

impl AuthMethod {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::OAuth => "oauth",
            AuthMethod::Certificate => "certificate",
            AuthMethod::Basic => "basic",
            AuthMethod::Caller => "caller",
        }
    }

    /// The secrets the method needs, and whether each is required.
    pub fn secrets(self) -> &'static [(SecretKind, bool)] {
        match self {
            AuthMethod::OAuth => {
                &[(SecretKind::ClientId, true), (SecretKind::ClientSecret, false), (SecretKind::RefreshToken, true)]
            }
            AuthMethod::Certificate => &[(SecretKind::Certificate, true)],
            AuthMethod::Basic => &[(SecretKind::Username, true), (SecretKind::Password, true)],
            AuthMethod::Caller => &[],
        }
    }
}

/// Where secrets come from.
#[derive(Debug, Clone)]
pub enum SecretsFrom {
    /// The environment: the values, and for OAuth the token file of the chain.
    Env {
        /// Values by kind.
        values: HashMap<SecretKind, Secret>,
        /// `ANAPLAN_TOKEN_FILE` (OAuth only).
        token_file: Option<PathBuf>,
    },
    /// `KEY_VAULT_URI`: read on first use (never before the port is bound).
    Vault(Url),
}

/// How the handler authenticates to Anaplan.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The method.
    pub method: AuthMethod,
    /// Where its secrets are.
    pub secrets: SecretsFrom,
    /// `ANAPLAN_REFRESH_TOKEN_LIFETIME`: how long the OAuth client lets a refresh token
    /// live unused.
    pub refresh_token_lifetime: std::time::Duration,
}

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Credentials to use.
    pub auth: AuthSettings,
    /// `ANAPLAN_API_URL`.
    pub api_url: Url,
    /// `ANAPLAN_AUTH_URL`.
    pub auth_url: Url,
    /// `ANAPLAN_OAUTH_URL`.
    pub oauth_url: Url,
    /// `ANAPLAN_POLL_SECONDS`.
    pub poll_seconds: u64,
    /// `FORWARDED_HOSTS`: host names (`host` or `host:port`, lowercase) that
    /// `X-Forwarded-Host` may name in status URLs; empty = that header is ignored.
    pub forwarded_hosts: Vec<String>,
    /// The app's storage account (`AzureWebJobsStorage`, or its identity-based form).
    pub app_storage: Option<BlobAccount>,
    /// `EXPORT_STORAGE_URL`.
    pub export_storage: Option<BlobAccount>,
    /// `BLOB_CONTAINERS`: the containers transfers may use.
    pub blob_containers: AllowedContainers,
    /// Reserved containers `BLOB_CONTAINERS` listed, which are refused anyway (start-up
    /// warns about them).
    pub blob_containers_ignored: Vec<String>,
    /// `ANAPLAN_CLOUDWORKS_URL` and the `CLOUDWORKS_SAS_*` settings.
    pub cloudworks: CloudWorksSettings,
    /// `ANAPLAN_SCIM_URL` (default: `ANAPLAN_API_URL`); `/scim/1/0/v2` is appended by the client.
    pub scim_url: Url,
    /// Whether `ANAPLAN_SCIM_URL` is set (with `ANAPLAN_SCIM_API_KEY`, what makes SCIM
    /// "configured" for `access-review`).
    pub scim_url_set: bool,
    /// `TRANSFER_WINDOW`, `TRANSFER_MEMORY_MB`, `TRANSFER_LEASE_SECONDS` and
    /// `ANSWER_DEADLINE_SECONDS`.
    pub transfers: TransferSettings,
    /// `ANAPLAN_AUDIT_URL`; `/audit/api/1` is appended by the client.
    pub audit_url: Url,
}

/// How transfers between Anaplan and Blob storage run.
#[derive(Debug, Clone)]
pub struct TransferSettings {
    /// `TRANSFER_WINDOW`: chunks of one transfer in flight at once (1-16, default 4).
    pub window: usize,
    /// `TRANSFER_MEMORY_MB`: the bytes of transfer chunks in flight on this instance at
    /// once, shared by every transfer (16-4096 MiB, default 256 MiB: an eighth of the
    /// smallest common Flex Consumption instance, 2 GB, which also holds the process, the
    /// SDKs' copies and the host's own buffers).
    pub memory: usize,
    /// `TRANSFER_LEASE_SECONDS`: how long a transfer (or a data source's upload lock) stays
    /// with an instance that stopped renewing it before another instance takes it over
    /// (5-300, default 30).
    pub lease: std::time::Duration,
    /// `ANSWER_DEADLINE_SECONDS`: the longest one answer may take (10-105, default 105).
    /// Shorter only for tests.
    pub answer_deadline: std::time::Duration,
}

impl Default for TransferSettings {
    fn default() -> Self {
        TransferSettings {
            window: 4,
            memory: 256 << 20,
            lease: std::time::Duration::from_secs(30),
            answer_deadline: ANSWER_DEADLINE,
        }
    }
}

impl TransferSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name, range, default| ranged(get, name, range, default, "a whole number", "");
        let default = TransferSettings::default();
        Ok(TransferSettings {
            window: number("TRANSFER_WINDOW", 1..=16, default.window as u64)? as usize,
            memory: (number("TRANSFER_MEMORY_MB", 16..=4096, (default.memory >> 20) as u64)? as usize) << 20,
            lease: std::time::Duration::from_secs(number("TRANSFER_LEASE_SECONDS", 5..=300, default.lease.as_secs())?),
            answer_deadline: std::time::Duration::from_secs(number(
                "ANSWER_DEADLINE_SECONDS",
                10..=default.answer_deadline.as_secs(),
                default.answer_deadline.as_secs(),
            )?),
        })
    }
}

/// Setting `name` as a whole number in `range` (`default` when unset); otherwise an error
/// that says "expected `what` from <start> to <end>`why`".
fn ranged(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
    what: &str,
    why: &str,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(err(name, format!("expected {what} from {} to {}{why}, got {v:?}", range.start(), range.end()))),
        },
    }
}

/// The setting that names the containers `refresh-cloudworks-sas` may grant.
pub const SAS_CONTAINERS: &str = "CLOUDWORKS_SAS_CONTAINERS";

/// CloudWorks: where its API is, and what the `refresh-cloudworks-sas` timer renews.
#[derive(Debug, Clone)]
pub struct CloudWorksSettings {
    /// `ANAPLAN_CLOUDWORKS_URL` (the client appends `/2/0`).
    pub url: Url,
    /// `CLOUDWORKS_SAS_CONNECTIONS`: connection ids or names, in order.
    pub sas_connections: Vec<String>,
    /// `CLOUDWORKS_SAS_DAYS` (1-7).
    pub sas_days: u32,
    /// `CLOUDWORKS_SAS_CONTAINERS`: the containers the timer may grant CloudWorks; `None`
    /// when unset, and then `BLOB_CONTAINERS` decides. Reserved containers never qualify.
    pub sas_containers: Option<AllowedContainers>,
}

impl CloudWorksSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let url = anaplan_url(get, "ANAPLAN_CLOUDWORKS_URL", &region_hosts(get)?.cloudworks)?;
        let mut sas_connections: Vec<String> = Vec::new();
        for c in get("CLOUDWORKS_SAS_CONNECTIONS").unwrap_or_default().split(',').map(str::trim) {
            if !c.is_empty() && !sas_connections.iter().any(|x| x == c) {
                sas_connections.push(c.to_owned());
            }
        }
        let why = " (a user delegation SAS cannot outlive 7 days)";
        let sas_days = ranged(get, "CLOUDWORKS_SAS_DAYS", 1..=7, 7, "whole days", why)? as u32;
        if let Some(schedule) = get("CLOUDWORKS_SAS_SCHEDULE")
            && schedule.split_whitespace().count() != 6
        {
            return Err(err(
                "CLOUDWORKS_SAS_SCHEDULE",
                format!(
                    "expected an NCRONTAB expression with six fields (second minute hour day month weekday), e.g. \"0 0 3 * * *\", got {schedule:?}"
                ),
            ));
        }
        let sas_containers = match get(SAS_CONTAINERS) {
            None => None,
            Some(v) => {
                let (allowed, _reserved) = AllowedContainers::from_setting(Some(&v)).map_err(|e| match e {
                    StorageError::Setting { problem, .. } => err(SAS_CONTAINERS, problem),
                    other => err(SAS_CONTAINERS, other.to_string()),
                })?;
                Some(allowed)
            }
        };
        Ok(CloudWorksSettings { url, sas_connections, sas_days, sas_containers })
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests). Empty values
    /// count as unset, as an empty app setting does in Azure.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let hosts = region_hosts(&get)?;
        let api_url = anaplan_url(&get, "ANAPLAN_API_URL", &hosts.api)?;
        let auth_url = anaplan_url(&get, "ANAPLAN_AUTH_URL", &hosts.auth)?;
        let oauth_url = anaplan_url(&get, "ANAPLAN_OAUTH_URL", &hosts.oauth)?;
        let scim_url = anaplan_url(&get, "ANAPLAN_SCIM_URL", api_url.as_str())?;
        let scim_url_set = get("ANAPLAN_SCIM_URL").is_some();
        let audit_url = anaplan_url(&get, "ANAPLAN_AUDIT_URL", &hosts.audit)?;
        let poll_seconds = ranged(&get, "ANAPLAN_POLL_SECONDS", 1..=3600, 5, "whole seconds", "")?;
        let forwarded_hosts = forwarded_hosts(get("FORWARDED_HOSTS"))?;
        let method =
            match get("ANAPLAN_AUTH_METHOD").unwrap_or_else(|| "oauth".to_owned()).to_ascii_lowercase().as_str() {
                "oauth" => AuthMethod::OAuth,
                "certificate" => AuthMethod::Certificate,
                "basic" => AuthMethod::Basic,
                "caller" => AuthMethod::Caller,
                other => {
                    return Err(err(
                        "ANAPLAN_AUTH_METHOD",
                        format!("expected oauth, certificate, basic or caller, got {other:?}"),
                    ));
                }
            };
        let secrets = match get("KEY_VAULT_URI") {
            Some(uri) => SecretsFrom::Vault(vault_uri(&uri)?),
            None => env_secrets(&get, method)?,
        };
        // Up to a year, the longest an Anaplan client allows (31,556,926 s). A lifetime
        // shorter than the keep-signed-in schedule's period cannot be kept alive by it.
        let lifetime = ranged(&get, "ANAPLAN_REFRESH_TOKEN_LIFETIME", 4..=31_556_926, 43_200, "whole seconds", "")?;
        let auth = AuthSettings { method, secrets, refresh_token_lifetime: std::time::Duration::from_secs(lifetime) };
        let app_storage = BlobAccount::from_app_settings(get).map_err(storage_setting("AzureWebJobsStorage"))?;
        let export_storage = match get("EXPORT_STORAGE_URL") {
            Some(v) => Some(BlobAccount::from_export_setting(&v).map_err(storage_setting("EXPORT_STORAGE_URL"))?),
            None => None,
        };
        if method == AuthMethod::OAuth && matches!(auth.secrets, SecretsFrom::Vault(_)) && app_storage.is_none() {
            return Err(err(
                "AzureWebJobsStorage",
                "with KEY_VAULT_URI and oauth, refreshes are serialised across instances with a blob lease in the app's storage account: set AzureWebJobsStorage (or AzureWebJobsStorage__accountName)",
            ));
        }
        let (blob_containers, blob_containers_ignored) =
            AllowedContainers::from_setting(get(crate::storage::containers::SETTING).as_deref())
                .map_err(storage_setting(crate::storage::containers::SETTING))?;
        let cloudworks = CloudWorksSettings::from_lookup(&get)?;
        let transfers = TransferSettings::from_lookup(&get)?;
        Ok(Settings {
            auth,
            api_url,
            auth_url,
            oauth_url,
            poll_seconds,
            forwarded_hosts,
            app_storage,
            export_storage,
            blob_containers,
            blob_containers_ignored,
            cloudworks,
            scim_url,
            scim_url_set,
            audit_url,
            transfers,
        })
    }
}

fn env_secrets(get: &impl Fn(&str) -> Option<String>, method: AuthMethod) -> Result<SecretsFrom, ConfigError> {
    let mut values = HashMap::new();
    for (kind, needed) in method.secrets() {
        let name = setting_name(*kind).expect("every method secret has a setting");
        match get(name) {
            Some(v) => {
                values.insert(*kind, Secret::new(v));
            }
            None if *needed => return Err(err(name, "missing (or set KEY_VAULT_URI to read secrets from Key Vault)")),
            None => {}
        }
    }
    // Optional with every method: a SCIM API key (SCIM calls use the Anaplan token without it).
    if let Some(key) = get("ANAPLAN_SCIM_API_KEY") {
        values.insert(SecretKind::ScimApiKey, Secret::new(key));
    }
    if let Some(id) = values.get(&SecretKind::ClientId) {
        let id = id.expose();
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err(
                "ANAPLAN_CLIENT_ID",
                "expected the OAuth client id Anaplan shows: 32 hexadecimal characters",
            ));
        }
    }
    if let Some(pem) = values.get(&SecretKind::Certificate) {
        // Checked now, with a throwaway signature, so a bad PEM stops `serve` at start.
        sign_nonce(pem.expose()).map_err(|e| err("ANAPLAN_CERTIFICATE", e))?;
    }
    let token_file = match method {
        AuthMethod::OAuth => Some(match get("ANAPLAN_TOKEN_FILE") {
            Some(p) => PathBuf::from(p),
            None => token_file::default_path().ok_or_else(|| {
                err(
                    "ANAPLAN_TOKEN_FILE",
                    "no default location: neither XDG_CONFIG_HOME nor HOME is set; set ANAPLAN_TOKEN_FILE",
                )
            })?,
        }),
        _ => None,
    };
    Ok(SecretsFrom::Env { values, token_file })
}

/// `KEY_VAULT_URI`: an https URL (the Key Vault client sends tokens only over TLS).
fn vault_uri(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| err("KEY_VAULT_URI", format!("not a URL ({e}): {raw:?}")))?;
    if url.scheme() != "https" {
        return Err(err("KEY_VAULT_URI", format!("expected https://<vault>.vault.azure.net/, got {raw:?}")));
    }
    if url.host_str().is_none() || url.query().is_some() || !url.username().is_empty() {
        return Err(err("KEY_VAULT_URI", "give the vault's URI only, e.g. https://myvault.vault.azure.net/"));
    }
    Ok(url)
}

/// A storage setting's error, named by the setting the storage layer names (or `default`).
fn storage_setting(default: &'static str) -> impl Fn(StorageError) -> ConfigError {
    move |e| match e {
        StorageError::Setting { name, problem } => ConfigError { name, problem },
        other => ConfigError { name: default, problem: other.to_string() },
    }
}

/// The default Anaplan hosts: those of `ANAPLAN_REGION` when set, else the global ones (us1).
pub(crate) fn region_hosts(get: &impl Fn(&str) -> Option<String>) -> Result<RegionHosts, ConfigError> {
    let name = get("ANAPLAN_REGION").unwrap_or_else(|| "us1".to_owned());
    regions::hosts(&name).ok_or_else(|| {
        err(
            "ANAPLAN_REGION",
            format!("unknown Anaplan region {name:?}; expected one of {}", regions::names().join(", ")),
        )
    })
}

/// An Anaplan base URL: https, or http only to a loopback host (tests, local fakes).
pub(crate) fn anaplan_url(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Url, ConfigError> {
    let raw = get(name).unwrap_or_else(|| default.to_owned());
    let url = Url::parse(&raw).map_err(|e| err(name, format!("not a URL ({e}): {raw:?}")))?;
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(err(name, "give only scheme, host, port and path (no credentials, query or fragment)"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(err(name, format!("http:// is only accepted for loopback hosts; use https:// ({raw:?})")));
        }
        other => return Err(err(name, format!("expected an https:// URL, got scheme {other:?}"))),
    }
    // A trailing slash makes `join` keep any path prefix.
    let mut url = url;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// The app setting that holds `kind` when secrets come from the environment (none for the
/// shared access token, which is only ever kept in a vault).
pub fn setting_name(kind: SecretKind) -> Option<&'static str> {
    Some(match kind {
        SecretKind::ClientId => "ANAPLAN_CLIENT_ID",
        SecretKind::ClientSecret => "ANAPLAN_CLIENT_SECRET",
        SecretKind::RefreshToken => "ANAPLAN_REFRESH_TOKEN",
        SecretKind::AccessToken => return None,
        SecretKind::Certificate => "ANAPLAN_CERTIFICATE",
        SecretKind::Username => "ANAPLAN_USERNAME",
        SecretKind::Password => "ANAPLAN_PASSWORD",
        SecretKind::ScimApiKey => "ANAPLAN_SCIM_API_KEY",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const OAUTH: [(&str, &str); 4] = [
        ("ANAPLAN_CLIENT_ID", "0123456789abcdef0123456789abcdef"),
        ("ANAPLAN_CLIENT_SECRET", "s3cret"),
        ("ANAPLAN_REFRESH_TOKEN", "rt-1"),
        ("ANAPLAN_TOKEN_FILE", "/tmp/x/refresh-token"),
    ];

    #[test]
    fn defaults_are_anaplans_public_hosts() {
        let s = settings(&OAUTH).unwrap();
        assert_eq!(s.api_url.as_str(), "https://api.anaplan.com/");
        assert_eq!(s.oauth_url.as_str(), "https://us1a.app.anaplan.com/");
        assert_eq!(s.auth_url.as_str(), "https://auth.anaplan.com/");
        assert!(s.forwarded_hosts.is_empty());
        assert_eq!(s.poll_seconds, 5);
        assert_eq!(s.auth.method, AuthMethod::OAuth);
        assert!(matches!(s.auth.secrets, SecretsFrom::Env { token_file: Some(_), .. }));
    }

    #[test]
    fn forwarded_hosts_are_bare_host_names() {
        let mut pairs = OAUTH.to_vec();
        pairs.push(("FORWARDED_HOSTS", " API.contoso.com, front.example.net:8443 ,"));
        let s = settings(&pairs).unwrap();
        assert_eq!(s.forwarded_hosts, ["api.contoso.com", "front.example.net:8443"]);
        for bad in ["evil.com/path", "user@evil.com", "a b", "https://x.com"] {
            let mut pairs = OAUTH.to_vec();
            pairs.push(("FORWARDED_HOSTS", bad));
            assert_eq!(settings(&pairs).unwrap_err().name, "FORWARDED_HOSTS", "{bad}");
        }
    }

    #[test]
    fn blob_containers_default_to_anaplan_exports_and_are_checked_at_start() {
        assert_eq!(settings(&OAUTH).unwrap().blob_containers.names(), ["anaplan-exports"]);
        let mut pairs = OAUTH.to_vec();
        pairs.push(("BLOB_CONTAINERS", "finance, scm-releases ,finance"));
        let s = settings(&pairs).unwrap();
        assert_eq!(s.blob_containers.names(), ["finance"]);
        assert_eq!(s.blob_containers_ignored, ["scm-releases"]);
        let mut pairs = OAUTH.to_vec();
        pairs.push(("BLOB_CONTAINERS", "finance,Not_A_Container"));
        let e = settings(&pairs).unwrap_err();
        assert_eq!(e.name, "BLOB_CONTAINERS");
        assert!(e.problem.contains("Not_A_Container"), "{e}");
    }

    #[test]
    fn cloudworks_settings_have_defaults_and_bounds() {
        let s = settings(&OAUTH).unwrap();
        assert_eq!(s.cloudworks.url.as_str(), "https://api.cloudworks.anaplan.com/");
        assert_eq!(s.cloudworks.sas_days, 7);
        assert!(s.cloudworks.sas_connections.is_empty());
        let mut p = OAUTH.to_vec();
        p.push(("CLOUDWORKS_SAS_CONNECTIONS", " Sales Blob , c0aa0000000000000000000000000002,,Sales Blob"));
        p.push(("CLOUDWORKS_SAS_DAYS", "3"));
        let s = settings(&p).unwrap();
        assert_eq!(s.cloudworks.sas_connections, ["Sales Blob", "c0aa0000000000000000000000000002"]);
        assert_eq!(s.cloudworks.sas_days, 3);
        for (name, bad) in [
            ("CLOUDWORKS_SAS_DAYS", "8"),
            ("CLOUDWORKS_SAS_DAYS", "0"),
            ("CLOUDWORKS_SAS_SCHEDULE", "0 3 * * *"),
            ("ANAPLAN_CLOUDWORKS_URL", "http://cloudworks.example.com"),
        ] {
            let mut p = OAUTH.to_vec();
            p.push((name, bad));
            assert_eq!(settings(&p).unwrap_err().name, name, "{bad}");
        }
    }

    #[test]
    fn missing_secret_is_named() {
        let e = settings(&OAUTH[..1]).unwrap_err();
        assert_eq!(e.name, "ANAPLAN_REFRESH_TOKEN");
        assert!(e.to_string().starts_with("setting ANAPLAN_REFRESH_TOKEN: missing"), "{e}");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        let mut p = OAUTH.to_vec();
        p.push(("ANAPLAN_API_URL", "http://127.0.0.1:9999"));
        assert!(settings(&p).is_ok());
        p.push(("ANAPLAN_OAUTH_URL", "http://anaplan.example.com"));
        assert_eq!(settings(&p).unwrap_err().name, "ANAPLAN_OAUTH_URL");
    }

    #[test]
    fn bad_values_are_named_without_echoing_secrets() {
        let mut p = OAUTH.to_vec();
        p.push(("ANAPLAN_POLL_SECONDS", "0"));
        assert_eq!(settings(&p).unwrap_err().name, "ANAPLAN_POLL_SECONDS");
        let e = settings(&[("ANAPLAN_CLIENT_ID", "not-an-id"), ("ANAPLAN_REFRESH_TOKEN", "rt-9")]).unwrap_err();
        assert_eq!(e.name, "ANAPLAN_CLIENT_ID");
        assert!(!e.to_string().contains("rt-9"));
        assert_eq!(settings(&[("ANAPLAN_AUTH_METHOD", "kerberos")]).unwrap_err().name, "ANAPLAN_AUTH_METHOD");
    }

    #[test]
    fn caller_needs_no_secrets_and_basic_needs_both() {
        assert_eq!(settings(&[("ANAPLAN_AUTH_METHOD", "caller")]).unwrap().auth.method, AuthMethod::Caller);
        let e = settings(&[("ANAPLAN_AUTH_METHOD", "basic"), ("ANAPLAN_USERNAME", "u@example.com")]).unwrap_err();
        assert_eq!(e.name, "ANAPLAN_PASSWORD");
    }

    #[test]
    fn with_a_vault_no_secret_is_read_at_start_but_oauth_needs_storage() {
        let vault = [("KEY_VAULT_URI", "https://myvault.vault.azure.net/")];
        let e = settings(&vault).unwrap_err();
        assert_eq!(e.name, "AzureWebJobsStorage");
        let mut p = vault.to_vec();
        p.push(("AzureWebJobsStorage", "UseDevelopmentStorage=true"));
        assert!(matches!(settings(&p).unwrap().auth.secrets, SecretsFrom::Vault(_)));
        assert_eq!(settings(&[("KEY_VAULT_URI", "http://myvault")]).unwrap_err().name, "KEY_VAULT_URI");
        let basic = [("KEY_VAULT_URI", "https://v.vault.azure.net"), ("ANAPLAN_AUTH_METHOD", "basic")];
        assert!(settings(&basic).is_ok());
    }

    #[test]
    fn scim_follows_the_api_url_and_audit_has_its_own_host() {
        let s = settings(&OAUTH).unwrap();
        assert_eq!(s.scim_url.as_str(), "https://api.anaplan.com/");
        assert_eq!(s.audit_url.as_str(), "https://audit.anaplan.com/");
        let mut p = OAUTH.to_vec();
        p.push(("ANAPLAN_API_URL", "https://eu3.api.anaplan.com"));
        p.push(("ANAPLAN_SCIM_API_KEY", "scim-key-1"));
        let s = settings(&p).unwrap();
        assert_eq!(s.scim_url.as_str(), "https://eu3.api.anaplan.com/");
        let SecretsFrom::Env { values, .. } = &s.auth.secrets else { panic!("env secrets") };
        assert_eq!(values.get(&SecretKind::ScimApiKey).map(Secret::expose), Some("scim-key-1"));
        p.push(("ANAPLAN_AUDIT_URL", "http://audit.example.com"));
        assert_eq!(settings(&p).unwrap_err().name, "ANAPLAN_AUDIT_URL");
        let p = [("ANAPLAN_AUTH_METHOD", "caller"), ("ANAPLAN_SCIM_URL", "http://127.0.0.1:9")];
        assert_eq!(settings(&p).unwrap().scim_url.as_str(), "http://127.0.0.1:9/");
    }

    #[test]
    fn a_region_sets_every_host_and_each_url_still_overrides_its_own() {
        let mut p = OAUTH.to_vec();
        p.push(("ANAPLAN_REGION", "eu3"));
        let s = settings(&p).unwrap();
        assert_eq!(s.api_url.as_str(), "https://eu3.api.anaplan.com/");
        assert_eq!(s.auth_url.as_str(), "https://eu3.auth.anaplan.com/");
        assert_eq!(s.oauth_url.as_str(), "https://eu3.app.anaplan.com/");
        assert_eq!(s.scim_url.as_str(), "https://eu3.api.anaplan.com/");
        assert_eq!(s.cloudworks.url.as_str(), "https://eu3.api.anaplan.com/cloudworks/");
        assert_eq!(s.audit_url.as_str(), "https://audit.anaplan.com/");

        p.push(("ANAPLAN_OAUTH_URL", "https://oauth.example.com"));
        p.push(("ANAPLAN_CLOUDWORKS_URL", "https://api.cloudworks.anaplan.com"));
        let s = settings(&p).unwrap();
        assert_eq!(s.oauth_url.as_str(), "https://oauth.example.com/");
        assert_eq!(s.cloudworks.url.as_str(), "https://api.cloudworks.anaplan.com/");
        assert_eq!(s.api_url.as_str(), "https://eu3.api.anaplan.com/", "the others keep the region's");

        // No region: the global hosts, as before.
        let s = settings(&OAUTH).unwrap();
        assert_eq!(s.oauth_url.as_str(), "https://us1a.app.anaplan.com/");
        assert_eq!(s.cloudworks.url.as_str(), "https://api.cloudworks.anaplan.com/");
    }

    #[test]
    fn an_unknown_region_names_the_setting_and_the_known_ones() {
        let mut p = OAUTH.to_vec();
        p.push(("ANAPLAN_REGION", "mars1"));
        let e = settings(&p).unwrap_err();
        assert_eq!(e.name, "ANAPLAN_REGION");
        assert!(
            e.problem.contains("mars1") && e.problem.contains("eu3") && e.problem.contains("au1a"),
            "{}",
            e.problem
        );
    }

    #[test]
    fn a_certificate_without_a_key_stops_start() {
        let p = [
            ("ANAPLAN_AUTH_METHOD", "certificate"),
            ("ANAPLAN_CERTIFICATE", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
        ];
        let e = settings(&p).unwrap_err();
        assert_eq!(e.name, "ANAPLAN_CERTIFICATE");
        assert!(e.problem.contains("PRIVATE KEY"));
    }

    #[test]
    fn transfer_memory_is_whole_mib_from_16_to_4096() {
        let memory = |v: Option<&str>| {
            let v = v.map(str::to_owned);
            TransferSettings::from_lookup(&|k: &str| if k == "TRANSFER_MEMORY_MB" { v.clone() } else { None })
                .map(|t| t.memory)
        };
        assert_eq!(memory(None).unwrap(), 256 << 20);
        assert_eq!(memory(Some("16")).unwrap(), 16 << 20);
        assert_eq!(memory(Some("4096")).unwrap(), 4096 << 20);
        for bad in ["8", "4097", "1.5", "lots"] {
            assert_eq!(memory(Some(bad)).unwrap_err().name, "TRANSFER_MEMORY_MB", "{bad}");
        }
    }
}
