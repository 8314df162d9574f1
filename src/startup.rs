//! Builds the app from validated [`Settings`] and serves it until SIGINT or SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::anaplan::auth::{BasicSession, OAuthSession};
use crate::anaplan::token_file::TokenFile;
use crate::anaplan::{Catalog, Client, Credentials, RetryPolicy};
use crate::config::{AuthSettings, ConfigError, Settings};
use crate::http::{self, AppState};

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

/// The shared HTTP client for Anaplan: no redirects (a redirect would carry the token to
/// another host), a clear user agent.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("anaplan-functions/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("the TLS backend initialises")
}

/// The app's state from settings. Nothing slow happens here: tokens are obtained on first
/// use, after the port is bound (the host gives a handler seconds to answer `GET /`).
pub fn app_state(settings: &Settings) -> Result<AppState, ConfigError> {
    let http = http_client();
    let credentials = match &settings.auth {
        AuthSettings::OAuth { client_id, client_secret, refresh_token, token_file } => {
            let store = TokenFile::new(token_file.clone(), refresh_token.clone());
            store.check_writable().map_err(|e| ConfigError {
                name: "ANAPLAN_TOKEN_FILE",
                problem: format!(
                    "{} is not writable ({e}); rotated refresh tokens must be saved there",
                    token_file.display()
                ),
            })?;
            Credentials::OAuth(Arc::new(OAuthSession::new(
                &settings.oauth_url,
                client_id.clone(),
                client_secret.clone(),
                store,
                http.clone(),
            )))
        }
        AuthSettings::Basic { username, password } => Credentials::Basic(Arc::new(BasicSession::new(
            &settings.auth_url,
            username.clone(),
            password.clone(),
            http.clone(),
        ))),
        AuthSettings::Caller => Credentials::CallerRequired,
    };
    Ok(AppState {
        anaplan: Client::new(http, &settings.api_url, credentials, RetryPolicy::default()),
        catalog: Catalog::default(),
        caller_auth: matches!(settings.auth, AuthSettings::Caller),
        poll_seconds: settings.poll_seconds,
        app_storage: settings.app_storage.clone().map(Arc::new),
        export_storage: settings.export_storage.clone().map(Arc::new),
        state_store: Arc::default(),
    })
}

/// Serves until a shutdown signal, then finishes in-flight requests and returns.
pub async fn serve(settings: Settings, bind: IpAddr, port: u16) -> Result<(), StartError> {
    let state = app_state(&settings)?;
    let addr = SocketAddr::new(bind, port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(%addr, auth = auth_name(&settings.auth), api = %settings.api_url, "anaplan-functions is listening");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(crate::shutdown::signal())
        .await
        .map_err(StartError::Serve)?;
    tracing::info!("anaplan-functions stopped");
    Ok(())
}

fn auth_name(a: &AuthSettings) -> &'static str {
    match a {
        AuthSettings::OAuth { .. } => "oauth",
        AuthSettings::Basic { .. } => "basic",
        AuthSettings::Caller => "caller",
    }
}
