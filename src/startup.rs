//! Builds the app from validated [`Settings`] and serves it until SIGINT or SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::config::{AuthMethod, ConfigError, SecretsFrom, Settings};
use crate::http::{self, AppState};
use crate::secrets::azure_credential;
use crate::secrets::env::{EnvSecrets, FileLock, NoLock};
use crate::secrets::lease::BlobLease;
use crate::secrets::vault::VaultSecrets;
use anaplan::audit::AuditApi;
use anaplan::auth::{ChainLock, LegacyLogin, LegacySession, OAuthSession, SecretKind, SecretSource};
use anaplan::client::http_client;
use anaplan::scim::ScimApi;
use anaplan::token_file::TokenFile;
use anaplan::{Catalog, Client, Credentials, RetryPolicy};

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Token requests get their own timeout: a refresh holds the chain's lock meanwhile.
const TOKEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The blob whose lease serialises refresh-token rotation across the instances that
/// share a vault (named after the vault, so apps sharing a storage account do not
/// serialise each other).
pub fn refresh_lock_blob(vault: &url::Url) -> String {
    format!("locks/refresh-token-{}", &anaplan::secret::Secret::new(vault.as_str()).fingerprint()[..16])
}

/// The credentials from settings. Nothing slow happens here: secrets and tokens are read
/// on first use, after the port is bound (the host gives a handler seconds to answer
/// `GET /`).
pub fn credentials(settings: &Settings) -> Result<Credentials, ConfigError> {
    Ok(credentials_and_store(settings)?.0)
}

/// [`credentials`], and the store they are read from (for the sign-in checks).
fn credentials_and_store(settings: &Settings) -> Result<(Credentials, Arc<dyn SecretSource>), ConfigError> {
    let token_http = http_client(Some(TOKEN_TIMEOUT));
    let (secrets, lock): (Arc<dyn SecretSource>, Arc<dyn ChainLock>) = match &settings.auth.secrets {
        SecretsFrom::Env { values, token_file } => {
            let chain = match (token_file, values.get(&SecretKind::RefreshToken)) {
                (Some(path), Some(origin)) => {
                    let chain = TokenFile::new(path.clone(), origin.clone());
                    chain.check_writable().map_err(|e| ConfigError {
                        name: "ANAPLAN_TOKEN_FILE",
                        problem: format!(
                            "{} is not writable ({e}); rotated refresh tokens must be saved there",
                            path.display()
                        ),
                    })?;
                    Some(chain)
                }
                _ => None,
            };
            let lock: Arc<dyn ChainLock> = match &chain {
                Some(c) => Arc::new(FileLock(c.clone())),
                None => Arc::new(NoLock),
            };
            (Arc::new(EnvSecrets::new(values.clone(), chain)), lock)
        }
        SecretsFrom::Vault(uri) => {
            let problem = |problem: String| ConfigError { name: "KEY_VAULT_URI", problem };
            let vault = VaultSecrets::new(uri, azure_credential().map_err(problem)?).map_err(problem)?;
            let lock: Arc<dyn ChainLock> = match &settings.app_storage {
                Some(account) => {
                    Arc::new(BlobLease::new(account.clone(), http::STATE_CONTAINER, &refresh_lock_blob(uri)))
                }
                None => Arc::new(NoLock),
            };
            (Arc::new(vault), lock)
        }
    };
    let store = Arc::clone(&secrets);
    let credentials = match settings.auth.method {
        AuthMethod::OAuth => {
            Credentials::OAuth(Arc::new(OAuthSession::new(&settings.oauth_url, secrets, lock, token_http)))
        }
        AuthMethod::Basic => Credentials::Legacy(Arc::new(LegacySession::new(
            &settings.auth_url,
            LegacyLogin::Basic,
            secrets,
            token_http,
        ))),
        AuthMethod::Certificate => Credentials::Legacy(Arc::new(LegacySession::new(
            &settings.auth_url,
            LegacyLogin::Certificate,
            secrets,
            token_http,
        ))),
        AuthMethod::Caller => Credentials::CallerRequired,
    };
    Ok((credentials, store))
}

/// The app's state from settings.
pub fn app_state(settings: &Settings) -> Result<AppState, ConfigError> {
    let http = http_client(None);
    let (credentials, store) = credentials_and_store(settings)?;
    let sign_in = crate::sign_in::SignIn::new(
        settings.auth.method,
        (settings.auth.method != AuthMethod::Caller).then_some(store),
        matches!(settings.auth.secrets, SecretsFrom::Vault(_)),
        settings.auth.refresh_token_lifetime,
        &settings.api_url,
    )
    .with_oauth_url(&settings.oauth_url);
    let anaplan = Client::new(http, &settings.api_url, credentials, RetryPolicy::default());
    if !settings.blob_containers_ignored.is_empty() {
        tracing::warn!(
            containers = %settings.blob_containers_ignored.join(","),
            "BLOB_CONTAINERS lists containers of the host, the deployment or this app's state; they are refused anyway"
        );
    }
    Ok(AppState {
        cloudworks: anaplan.at(&settings.cloudworks.url),
        cloudworks_settings: settings.cloudworks.clone(),
        anaplan,
        catalog: Catalog::default(),
        caller_auth: settings.auth.method == AuthMethod::Caller,
        caller_users: Arc::default(),
        poll_seconds: settings.poll_seconds,
        forwarded_hosts: settings.forwarded_hosts.clone().into(),
        app_storage: settings.app_storage.clone().map(Arc::new),
        export_storage: settings.export_storage.clone().map(Arc::new),
        blob_containers: Arc::new(settings.blob_containers.clone()),
        state_store: Arc::default(),
        scim: ScimApi::new(&settings.scim_url, scim_key_source(settings)?).with_url_set(settings.scim_url_set),
        audit: AuditApi::new(&settings.audit_url),
        admin: anaplan::admin::AdminApi::new(&settings.api_url),
        transfers: settings.transfers.clone(),
        budget: Arc::new(crate::machinery::budget::TransferBudget::new(settings.transfers.memory)),
        instance: azure_core::Uuid::new_v4().to_string().into(),
        local_records: Arc::default(),
        sign_in: Arc::new(sign_in),
    })
}

/// Where the optional SCIM API key is: the environment (`ANAPLAN_SCIM_API_KEY`, read at
/// start) or the vault (`anaplan-scim-api-key`, read on use and cached like every secret).
fn scim_key_source(settings: &Settings) -> Result<Option<Arc<dyn SecretSource>>, ConfigError> {
    Ok(match &settings.auth.secrets {
        SecretsFrom::Env { values, .. } => values.get(&SecretKind::ScimApiKey).map(|key| {
            let only_key = std::collections::HashMap::from([(SecretKind::ScimApiKey, key.clone())]);
            Arc::new(EnvSecrets::new(only_key, None)) as Arc<dyn SecretSource>
        }),
        SecretsFrom::Vault(uri) => {
            let problem = |problem: String| ConfigError { name: "KEY_VAULT_URI", problem };
            Some(Arc::new(VaultSecrets::new(uri, azure_credential().map_err(problem)?).map_err(problem)?))
        }
    })
}

/// Serves until a shutdown signal, then finishes in-flight requests and returns.
pub async fn serve(settings: Settings, bind: IpAddr, port: u16) -> Result<(), StartError> {
    // Settings are checked before the port is taken: a bad one is the clearer failure.
    let state = app_state(&settings)?;
    let addr = SocketAddr::new(bind, port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
    serve_state(&settings, state, listener, crate::shutdown::signal()).await
}

/// Serves on an already bound `listener` until `shutdown` completes (`demo` runs it beside
/// the emulator), then finishes in-flight requests and returns.
pub async fn serve_on(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let state = app_state(&settings)?;
    serve_state(&settings, state, listener, shutdown).await
}

async fn serve_state(
    settings: &Settings,
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let secrets = match &settings.auth.secrets {
        SecretsFrom::Env { .. } => "environment".to_owned(),
        SecretsFrom::Vault(uri) => format!("Key Vault {uri}"),
    };
    tracing::info!(%addr, auth = settings.auth.method.as_str(), %secrets, api = %settings.api_url, "anaplan-functions is listening");
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(());
    };
    let server = axum::serve(crate::listener::ProblemListener(listener), crate::functions::router(state))
        .with_graceful_shutdown(signal)
        .into_future();
    // In-flight requests may finish for DRAIN_BOUND after the signal, no longer: a held
    // answer can take up to the answer deadline, and its task lives on in Anaplan (any
    // instance answers its status URL), so nothing is lost by cutting it.
    let bound = async move {
        if stopped.await.is_ok() {
            tokio::time::sleep(DRAIN_BOUND).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.map_err(StartError::Serve)?,
        () = bound => tracing::warn!(
            seconds = DRAIN_BOUND.as_secs(),
            "requests were still in flight when the drain bound ran out; stopping without them"
        ),
    }
    tracing::info!("anaplan-functions stopped");
    Ok(())
}

/// How long in-flight requests may run on after a shutdown signal.
pub const DRAIN_BOUND: std::time::Duration = std::time::Duration::from_secs(10);
