//! Which storage account, and how to authenticate to it; hands out the official SDK's
//! clients, all sharing one connection pool and one SAS policy. Reading the settings that
//! describe an account is in `settings.rs`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, HttpClientOptions, RetryOptions, Transport};
use azure_core::time::Duration;
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use azure_storage_blob::models::BlobContainerClientCreateOptions;
use azure_storage_blob::{BlobClient, BlobClientOptions, BlobContainerClient, BlobContainerClientOptions};
use url::Url;

use super::names::{BlobName, ContainerName};
use super::sas::{AccountKeySas, SasPolicy, SasSource};
use super::settings::setting;
use super::{StorageError, redact};
use anaplan::secret::Secret;

/// Where blobs live and how to authenticate: a blob service endpoint and either a SAS
/// (given, or signed here from an account key) or the app's managed identity.
///
/// Cheap to clone; clones share the HTTP connection pool and the cached SAS. Building one
/// only reads and checks settings: the HTTP client is made on first use, so `serve` binds
/// its port as fast with storage settings as without.
#[derive(Clone)]
pub struct BlobAccount {
    /// The blob service URL, e.g. `https://acct.blob.core.windows.net/`; no query.
    endpoint: Url,
    auth: Auth,
    /// One HTTP client for every SDK client this account hands out, so they share
    /// connections instead of each opening its own pool; made when first needed (setting
    /// up an HTTP client with TLS costs milliseconds the start should not wait for).
    transport: Arc<OnceLock<Transport>>,
}

#[derive(Clone)]
enum Auth {
    Sas(Arc<SasPolicy>),
    Identity(Arc<dyn TokenCredential>),
}

impl std::fmt::Debug for BlobAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobAccount")
            .field("endpoint", &self.endpoint.as_str())
            .field("auth", &self.auth_kind())
            .finish()
    }
}
impl BlobAccount {
    /// A client for container `name` (checked against Azure's rules).
    pub fn container(&self, name: &str) -> Result<BlobContainerClient, StorageError> {
        let name = ContainerName::parse(name)?;
        let url = self.url_for(&name, None);
        let options = BlobContainerClientOptions { client_options: self.client_options(), ..Default::default() };
        BlobContainerClient::new(url, self.credential(), Some(options))
            .map_err(|e| StorageError::from_sdk(e, &format!("container {}", name.as_str())))
    }

    /// A client for blob `blob` in container `container` (both names checked). `/` in a
    /// blob name separates "directories" and stays a `/` in the URL.
    pub fn blob(&self, container: &str, blob: &str) -> Result<BlobClient, StorageError> {
        let container = ContainerName::parse(container)?;
        let blob = BlobName::parse(blob)?;
        let url = self.url_for(&container, Some(&blob));
        let options = BlobClientOptions { client_options: self.client_options(), ..Default::default() };
        BlobClient::new(url, self.credential(), Some(options))
            .map_err(|e| StorageError::from_sdk(e, &format!("blob {}/{}", container.as_str(), blob.as_str())))
    }

    /// The blob's URL without any SAS: safe to return to a caller or to log. Meant for
    /// names [`BlobAccount::blob`] accepts; each character of the names is percent-encoded
    /// as a path segment needs, so no name can change the host or the query.
    pub fn public_url(&self, container: &str, blob: &str) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(container).extend(blob.split('/'));
        }
        url
    }

    /// Creates container `name` unless it exists. Two instances racing to create it both
    /// succeed.
    pub async fn ensure_container(&self, name: &str) -> Result<(), StorageError> {
        let client = self.container(name)?;
        match client.create(Some(BlobContainerClientCreateOptions::default())).await {
            Ok(_) => Ok(()),
            Err(e) => match StorageError::from_sdk(e, &format!("container {name}")) {
                // 409 ContainerAlreadyExists (or being deleted, which the next write reports).
                StorageError::Conflict => Ok(()),
                other => Err(other),
            },
        }
    }

    /// The blob service endpoint (no secrets).
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The account-key signer, when this account signs its own SAS from a key.
    pub(super) fn key_signer(&self) -> Option<&AccountKeySas> {
        match &self.auth {
            Auth::Sas(policy) => match &policy.0 {
                SasSource::AccountKey(signer) => Some(signer),
                SasSource::Fixed(_) => None,
            },
            Auth::Identity(_) => None,
        }
    }

    /// The managed identity, when this account is used with one.
    pub(super) fn identity(&self) -> Option<Arc<dyn TokenCredential>> {
        self.credential()
    }

    /// The HTTP transport its clients share, made on first use.
    pub(super) fn transport(&self) -> Transport {
        self.transport.get_or_init(new_transport).clone()
    }

    /// Whether the HTTP transport has been made yet.
    #[cfg(test)]
    fn has_transport(&self) -> bool {
        self.transport.get().is_some()
    }

    /// The same account over another HTTP transport (tests: a recording fake).
    #[cfg(test)]
    fn with_transport(mut self, transport: Transport) -> BlobAccount {
        self.transport = Arc::new(OnceLock::from(transport));
        self
    }

    pub(super) fn auth_kind(&self) -> &'static str {
        match &self.auth {
            Auth::Sas(policy) => match policy.0 {
                SasSource::Fixed(_) => "shared access signature",
                SasSource::AccountKey(_) => "account key (signed short-lived SAS)",
            },
            Auth::Identity(_) => "managed identity",
        }
    }

    fn url_for(&self, container: &ContainerName, blob: Option<&BlobName>) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(container.as_str());
            if let Some(blob) = blob {
                segments.extend(blob.segments());
            }
        }
        url
    }

    fn credential(&self) -> Option<Arc<dyn TokenCredential>> {
        match &self.auth {
            Auth::Identity(credential) => Some(credential.clone()),
            Auth::Sas(_) => None,
        }
    }

    fn client_options(&self) -> ClientOptions {
        let per_try_policies: Vec<Arc<dyn azure_core::http::policies::Policy>> = match &self.auth {
            Auth::Sas(policy) => vec![policy.clone()],
            Auth::Identity(_) => Vec::new(),
        };
        ClientOptions {
            per_try_policies,
            transport: Some(self.transport()),
            // Every storage call sits inside an HTTP request with a time budget: retry
            // briefly and let the caller answer 503, rather than the SDK's minute of retries.
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: Duration::milliseconds(200),
                max_retries: 4,
                max_total_elapsed: Duration::seconds(15),
                max_delay: Duration::seconds(4),
            }),
            ..Default::default()
        }
    }
}

fn new_account(endpoint: Url, auth: Auth) -> BlobAccount {
    BlobAccount { endpoint, auth, transport: Arc::default() }
}

fn new_transport() -> Transport {
    // Partitioned downloads need the raw bytes, as the SDK's own default transport does.
    Transport::new(azure_core::http::new_http_client(Some(HttpClientOptions { automatic_decompression: false })))
}

pub(super) fn with_identity(
    endpoint: Url,
    user_assigned_id: Option<UserAssignedId>,
    name: &'static str,
) -> Result<BlobAccount, StorageError> {
    if endpoint.query().is_some() {
        return Err(setting(name, "the service URL must not have a query string (a SAS URL needs sig=)"));
    }
    if endpoint.scheme() != "https" {
        return Err(setting(
            name,
            format!(
                "{endpoint} is http://; managed identity tokens are only sent over https, so give an https:// URL (or a connection string or SAS for a local emulator)"
            ),
        ));
    }
    let credential = Arc::new(LazyIdentity { user_assigned_id, made: OnceLock::new() });
    Ok(new_account(endpoint, Auth::Identity(credential)))
}

/// The managed identity, made on its first token request: making it sets up an HTTP
/// client, which the start should not wait for. What could make it fail is the machine
/// (an identity source the SDK does not support), not a setting (the settings give only a
/// client id), so nothing checkable at start is lost; such a failure is the token
/// request's error.
#[derive(Debug)]
struct LazyIdentity {
    user_assigned_id: Option<UserAssignedId>,
    made: OnceLock<Result<Arc<ManagedIdentityCredential>, String>>,
}

#[async_trait::async_trait]
impl TokenCredential for LazyIdentity {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let made = self.made.get_or_init(|| {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: self.user_assigned_id.clone(),
                ..Default::default()
            };
            ManagedIdentityCredential::new(Some(options))
                .map_err(|e| format!("the managed identity cannot be used: {}", redact(&e.to_string())))
        });
        match made {
            Ok(credential) => credential.get_token(scopes, options).await,
            Err(message) => {
                let message = message.clone();
                Err(azure_core::Error::with_message_fn(azure_core::error::ErrorKind::Credential, move || message))
            }
        }
    }
}

pub(super) fn with_sas(endpoint: Url, sas: &str, name: &'static str) -> Result<BlobAccount, StorageError> {
    let sas = sas.trim().trim_start_matches('?');
    let pairs: HashMap<String, String> = url::form_urlencoded::parse(sas.as_bytes()).into_owned().collect();
    if !pairs.contains_key("sig") {
        return Err(setting(name, "the SAS has no sig= parameter"));
    }
    // A service SAS for one container or blob (sr=...) signs a different resource than
    // the URLs built here; only an account SAS (ss + srt) works for every container.
    if pairs.contains_key("sr") || !pairs.contains_key("ss") {
        return Err(setting(
            name,
            "the SAS is not an account SAS (it has sr= or lacks ss=); give an account SAS for the blob service with resource types sco",
        ));
    }
    if let Some(spr) = pairs.get("spr")
        && spr == "https"
        && endpoint.scheme() == "http"
    {
        return Err(setting(name, "the SAS allows https only but the endpoint is http://"));
    }
    Ok(new_account(endpoint, Auth::Sas(Arc::new(SasPolicy(SasSource::Fixed(Secret::new(sas)))))))
}

pub(super) fn with_key(
    endpoint: Url,
    account: &str,
    key: Secret,
    name: &'static str,
) -> Result<BlobAccount, StorageError> {
    let signer = AccountKeySas::new(account, key, endpoint.scheme() == "http").map_err(|p| setting(name, p))?;
    Ok(new_account(endpoint, Auth::Sas(Arc::new(SasPolicy(SasSource::AccountKey(signer))))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0LWtleS1ieXRlcy1mb3ItdGVzdHMtb25seQ==";

    fn conn(value: &str) -> Result<BlobAccount, StorageError> {
        BlobAccount::from_export_setting(value)
    }

    #[test]
    fn debug_shows_endpoint_and_auth_kind_only() {
        let a = conn(&format!("AccountName=myacct;AccountKey={KEY}")).unwrap();
        let shown = format!("{a:?}");
        assert_eq!(
            shown,
            r#"BlobAccount { endpoint: "https://myacct.blob.core.windows.net/", auth: "account key (signed short-lived SAS)" }"#
        );
        let a =
            conn("BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&ss=b&srt=sco&sig=TOPSECRET")
                .unwrap();
        assert!(!format!("{a:?}").contains("TOPSECRET"));
    }

    #[test]
    fn the_http_client_is_made_on_first_use_and_shared_by_clones() {
        let a = conn("UseDevelopmentStorage=true").unwrap();
        let b = a.clone();
        assert!(!a.has_transport(), "reading the setting makes no HTTP client");
        a.container("exports").unwrap();
        assert!(a.has_transport() && b.has_transport(), "one transport, shared by clones");
    }

    #[test]
    fn clients_have_no_secret_in_their_url() {
        let a = conn(&format!("AccountName=myacct;AccountKey={KEY}")).unwrap();
        let b = a.blob("exports", "dir/report 1.csv").unwrap();
        assert_eq!(b.url().as_str(), "https://myacct.blob.core.windows.net/exports/dir/report%201.csv");
        assert_eq!(b.url().as_str(), a.public_url("exports", "dir/report 1.csv").as_str());
        let c = a.container("exports").unwrap();
        assert_eq!(c.url().as_str(), "https://myacct.blob.core.windows.net/exports");
    }

    /// Answers 503 to the first request and 201 to the rest, recording each URL.
    #[derive(Debug, Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl azure_core::http::HttpClient for Recorder {
        async fn execute_request(
            &self,
            request: &azure_core::http::Request,
        ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
            let mut seen = self.0.lock().unwrap();
            seen.push(request.url().to_string());
            let status = if seen.len() == 1 { 503 } else { 201 };
            Ok(azure_core::http::AsyncRawResponse::from_bytes(
                azure_core::http::StatusCode::from(status),
                azure_core::http::headers::Headers::new(),
                Vec::<u8>::new(),
            ))
        }
    }

    #[tokio::test]
    async fn every_try_carries_one_fresh_sas_and_the_client_url_none() {
        let recorder = Arc::new(Recorder::default());
        let a = conn(&format!("AccountName=myacct;AccountKey={KEY}"))
            .unwrap()
            .with_transport(Transport::new(recorder.clone()));
        a.ensure_container("exports").await.unwrap();
        let seen = recorder.0.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "one retry after the 503: {seen:?}");
        for url in &seen {
            let url = Url::parse(url).unwrap();
            assert_eq!(url.path(), "/exports");
            let sigs = url.query_pairs().filter(|(k, _)| k == "sig").count();
            assert_eq!(sigs, 1, "exactly one SAS per try: {url}");
            assert!(url.query_pairs().any(|(k, v)| k == "restype" && v == "container"));
            assert!(url.query_pairs().any(|(k, v)| k == "srt" && v == "sco"));
        }
        assert!(a.container("exports").unwrap().url().query().is_none());
    }

    #[test]
    fn names_cannot_change_the_url() {
        let a = conn("UseDevelopmentStorage=true").unwrap();
        let b = a.blob("c0c", "a?b#c%d").unwrap();
        assert_eq!(b.url().as_str(), "http://127.0.0.1:10000/devstoreaccount1/c0c/a%3Fb%23c%25d");
        assert!(b.url().query().is_none());
        assert!(matches!(a.blob("c0c", "../other/x"), Err(StorageError::InvalidName(_))));
        assert!(matches!(a.container("../x"), Err(StorageError::InvalidName(_))));
    }
}
