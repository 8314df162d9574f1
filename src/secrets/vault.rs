//! Secrets in Key Vault, cached briefly: an admin's change is picked up within the TTL
//! without a restart, and during a vault outage the last values read keep working (then
//! requests that need a fresh read answer 503).
//!
//! Retention: Key Vault keeps every version of a secret and cannot delete one, and each
//! rotation writes one version of `anaplan-refresh-token` and each refresh one of
//! `anaplan-access-token`. So every access-token version is written with its token's expiry
//! (`exp`), and after a rotation the refresh-token version whose token was just spent is
//! disabled: only the newest version of each is live, and a spent token is never readable
//! again. The versions themselves stay until the secret is deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, StatusCode};
use azure_security_keyvault_secrets::models::{
    SecretAttributes, SecretClientUpdateSecretPropertiesOptions, SetSecretParameters, UpdateSecretPropertiesParameters,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use url::Url;

use crate::loopback::is_loopback;
use anaplan::AuthError;
use anaplan::auth::{SecretKind, SecretSource};
use anaplan::secret::Secret;

/// How long a secret read from the vault is reused.
pub const SECRET_TTL: Duration = Duration::from_secs(300);

/// A vault.
pub struct VaultSecrets {
    uri: Url,
    client: Arc<SecretClient>,
    cache: Mutex<HashMap<SecretKind, (Instant, Option<Secret>)>>,
    /// The version (and its value) last read or written for each kind: what a rotation
    /// supersedes.
    versions: Mutex<HashMap<SecretKind, (String, Secret)>>,
}

impl std::fmt::Debug for VaultSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSecrets").field("uri", &self.uri.as_str()).finish_non_exhaustive()
    }
}

impl VaultSecrets {
    /// A client for the vault at `uri`. Nothing is fetched here.
    pub fn new(uri: &Url, credential: Arc<dyn TokenCredential>) -> Result<Self, String> {
        let options = SecretClientOptions {
            // The vault's challenge must name a resource whose host the vault's host ends
            // with (*.vault.azure.net). A vault on this machine (a local emulator) cannot,
            // and sending a token to loopback leaks it nowhere, so only there is it off.
            verify_challenge_resource: Some(!is_loopback(uri)),
            client_options: ClientOptions {
                // Inside a request's time budget: retry briefly, then answer 503.
                retry: RetryOptions::exponential(ExponentialRetryOptions {
                    initial_delay: azure_core::time::Duration::milliseconds(200),
                    max_retries: 3,
                    max_total_elapsed: azure_core::time::Duration::seconds(10),
                    max_delay: azure_core::time::Duration::seconds(3),
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let client = SecretClient::new(uri.as_str(), credential, Some(options)).map_err(|e| e.to_string())?;
        Ok(VaultSecrets {
            uri: uri.clone(),
            client: Arc::new(client),
            cache: Mutex::new(HashMap::new()),
            versions: Mutex::new(HashMap::new()),
        })
    }

    fn seen(&self, kind: SecretKind, id: Option<&str>, value: &Secret) {
        let version = id.and_then(|id| id.parse::<azure_security_keyvault_secrets::ResourceId>().ok()?.version);
        let mut versions = self.versions.lock().expect("versions lock");
        match version {
            Some(v) => versions.insert(kind, (v, value.clone())),
            None => versions.remove(&kind),
        };
    }

    async fn fetch(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        let name = secret_name(kind);
        match self.client.get_secret(name, None).await {
            Ok(resp) => {
                let secret = resp.into_model().map_err(|e| unavailable(&self.uri, name, &e))?;
                let value = secret.value.as_deref().filter(|v| !v.is_empty()).map(Secret::new);
                if let Some(v) = &value {
                    self.seen(kind, secret.id.as_deref(), v);
                }
                Ok(value)
            }
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(None),
            Err(e) if matches!(e.http_status(), Some(StatusCode::Forbidden)) => Err(AuthError::Store(format!(
                "Key Vault {} refused to read {name}: the app's identity needs the Key Vault Secrets User role",
                self.uri
            ))),
            Err(e) => Err(unavailable(&self.uri, name, &e)),
        }
    }
}

/// The Key Vault secret that holds `kind`.
pub fn secret_name(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::ClientId => "anaplan-client-id",
        SecretKind::ClientSecret => "anaplan-client-secret",
        SecretKind::RefreshToken => "anaplan-refresh-token",
        SecretKind::AccessToken => "anaplan-access-token",
        SecretKind::Certificate => "anaplan-certificate",
        SecretKind::Username => "anaplan-username",
        SecretKind::Password => "anaplan-password",
        SecretKind::ScimApiKey => "anaplan-scim-api-key",
    }
}

fn unavailable(uri: &Url, name: &str, e: &azure_core::Error) -> AuthError {
    // The SDK's error text names the request, never a secret value.
    AuthError::StoreUnreachable {
        store: "Key Vault",
        detail: format!("Key Vault {uri} ({name}): {}", crate::storage::redact(&e.to_string())),
    }
}

#[async_trait]
impl SecretSource for VaultSecrets {
    async fn get(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        if let Some((at, v)) = self.cache.lock().expect("cache lock").get(&kind)
            && at.elapsed() < SECRET_TTL
        {
            return Ok(v.clone());
        }
        match self.get_fresh(kind).await {
            Ok(v) => Ok(v),
            Err(e) => {
                // An outage is bridged with the last value read, however old.
                if let Some((_, v)) = self.cache.lock().expect("cache lock").get(&kind) {
                    tracing::warn!(error = %e, secret = secret_name(kind), "Key Vault unavailable; using the last value read");
                    return Ok(v.clone());
                }
                Err(e)
            }
        }
    }

    async fn get_fresh(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        let v = self.fetch(kind).await?;
        self.cache.lock().expect("cache lock").insert(kind, (Instant::now(), v.clone()));
        Ok(v)
    }

    async fn set(&self, kind: SecretKind, value: &Secret) -> Result<(), AuthError> {
        self.write(kind, value, None).await
    }

    async fn rotate(&self, kind: SecretKind, spent: &Secret, next: &Secret) -> Result<(), AuthError> {
        let superseded = self.versions.lock().expect("versions lock").get(&kind).cloned();
        self.write(kind, next, None).await?;
        // Only the version this instance read the spent token from, and never the one just
        // written: a version someone else wrote meanwhile (an admin's `auth login`) stays.
        let written = self.versions.lock().expect("versions lock").get(&kind).map(|(v, _)| v.clone());
        if let Some((version, value)) = superseded
            && value == *spent
            && written.as_ref() != Some(&version)
        {
            // Housekeeping, in the background: it must not hold the chain's lock, and its
            // failure is no request's.
            let (client, uri) = (self.client.clone(), self.uri.clone());
            tokio::spawn(async move { disable(&client, &uri, secret_name(kind), version).await });
        }
        Ok(())
    }

    async fn set_until(&self, kind: SecretKind, value: &Secret, expires: SystemTime) -> Result<(), AuthError> {
        self.write(kind, value, Some(expires)).await
    }

    async fn written_at(&self, kind: SecretKind) -> Result<Option<SystemTime>, AuthError> {
        let name = secret_name(kind);
        match self.client.get_secret(name, None).await {
            Ok(resp) => {
                let secret = resp.into_model().map_err(|e| unavailable(&self.uri, name, &e))?;
                let updated = secret.attributes.and_then(|a| a.updated);
                Ok(updated.and_then(|t| {
                    let secs = u64::try_from(t.unix_timestamp()).ok()?;
                    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
                }))
            }
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(None),
            Err(e) => Err(unavailable(&self.uri, name, &e)),
        }
    }

    fn describe(&self) -> String {
        format!("Key Vault {}", self.uri)
    }

    fn locate(&self, kind: SecretKind) -> String {
        format!("the secret {} in Key Vault {}", secret_name(kind), self.uri)
    }
}

impl VaultSecrets {
    /// A new version of `kind`'s secret, marked to expire at `expires` when given.
    async fn write(&self, kind: SecretKind, value: &Secret, expires: Option<SystemTime>) -> Result<(), AuthError> {
        let name = secret_name(kind);
        let secret_attributes = expires.map(|at| SecretAttributes { expires: offset(at), ..Default::default() });
        let params = SetSecretParameters {
            value: Some(value.expose().to_owned()),
            content_type: Some(match kind {
                SecretKind::AccessToken => "application/json".to_owned(),
                _ => "text/plain".to_owned(),
            }),
            secret_attributes,
            ..Default::default()
        };
        let body = params.try_into().map_err(|e: azure_core::Error| AuthError::Store(e.to_string()))?;
        match self.client.set_secret(name, body, None).await {
            Ok(resp) => {
                let id = resp.into_model().ok().and_then(|s| s.id);
                self.seen(kind, id.as_deref(), value);
                self.cache.lock().expect("cache lock").insert(kind, (Instant::now(), Some(value.clone())));
                Ok(())
            }
            Err(e) if matches!(e.http_status(), Some(StatusCode::Forbidden)) => Err(AuthError::Store(format!(
                "Key Vault {} refused to write {name}: the app's identity needs the Key Vault Secrets Officer role on it",
                self.uri
            ))),
            Err(e) => Err(unavailable(&self.uri, name, &e)),
        }
    }
}

/// `t` as the SDK's time (whole seconds, as Key Vault keeps them).
fn offset(t: SystemTime) -> Option<azure_core::time::OffsetDateTime> {
    let secs = i64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    azure_core::time::OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// Disables one version of a secret (its token is spent): the newest stays the only live one.
async fn disable(client: &SecretClient, uri: &Url, name: &'static str, version: String) {
    let params = UpdateSecretPropertiesParameters {
        secret_attributes: Some(SecretAttributes { enabled: Some(false), ..Default::default() }),
        ..Default::default()
    };
    let body = match params.try_into() {
        Ok(b) => b,
        Err(e) => {
            let e: azure_core::Error = e;
            tracing::warn!(error = %e, secret = name, "could not build the request that retires a spent version");
            return;
        }
    };
    let options = SecretClientUpdateSecretPropertiesOptions { secret_version: Some(version), ..Default::default() };
    match client.update_secret_properties(name, body, Some(options)).await {
        Ok(_) => tracing::info!(secret = name, "the spent version was disabled"),
        Err(e) => tracing::warn!(
            error = %crate::storage::redact(&e.to_string()),
            vault = %uri,
            secret = name,
            "could not disable the spent version (it stays readable; nothing else is affected)"
        ),
    }
}
