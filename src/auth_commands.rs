//! `auth login` and `auth check`: onboarding an Anaplan refresh token, and checking that
//! the configured credentials work. Neither ever prints an access token or a secret; `auth
//! login` prints the new refresh token only when there is no vault to store it in, since
//! the admin then has to put it into the app settings.

use std::io::{BufRead, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth2::basic::BasicClient;
use oauth2::basic::BasicTokenResponse;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet,
    EndpointSet, RedirectUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use url::Url;

use crate::config::{SecretsFrom, Settings};
use crate::secrets::azure_credential;
use crate::secrets::vault::VaultSecrets;
use anaplan::auth::{SecretKind, SecretSource};
use anaplan::secret::Secret;
use anaplan::{ApiRequest, AuthError};

/// The scopes that yield a refresh token (`offline_access`).
const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The scopes the browser sign-in (`onboard`) asks for: the three Anaplan keeps
/// (`offline_access` for a refresh token).
pub const BROWSER_SCOPES: [&str; 3] = ["openid", "email", "offline_access"];

/// The authorization-code client of `auth login` and `onboard`: its authorization URL is
/// `/auth/prelogin` on the OAuth host, its token URL `/oauth/token`, and the client id and
/// secret go in the form body, as Anaplan takes them.
pub type CodeClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The [`CodeClient`] of the OAuth service at `base`, for the callback `redirect`.
pub fn code_client(
    base: &Url,
    client_id: &Secret,
    client_secret: &Secret,
    redirect: Url,
) -> Result<CodeClient, String> {
    Ok(BasicClient::new(ClientId::new(client_id.expose().to_owned()))
        .set_client_secret(ClientSecret::new(client_secret.expose().to_owned()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::from_url(base.join("auth/prelogin").map_err(|e| e.to_string())?))
        .set_token_uri(TokenUrl::from_url(base.join("oauth/token").map_err(|e| e.to_string())?))
        .set_redirect_uri(RedirectUrl::from_url(redirect)))
}

/// Exchanges an authorization code at the token URL (with the client secret and the same
/// `redirect_uri` as the authorization request). An error says who failed and never
/// carries the code or a token.
pub async fn exchange_code(
    client: &CodeClient,
    http: &reqwest::Client,
    code: &Secret,
) -> Result<BasicTokenResponse, CommandError> {
    client
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .request_async(http)
        .await
        .map_err(|e| failed("the code", &e))
}

/// How `auth login` obtains consent.
#[derive(Debug, Clone)]
pub enum Grant {
    /// Device grant: the user confirms a code on Anaplan's page (client without secret).
    Device,
    /// Authorization code: the user signs in, then pastes the address the browser was
    /// redirected to (Anaplan refuses localhost callbacks, so nothing listens for it).
    Code {
        /// The redirect URI registered on the Anaplan OAuth client.
        redirect_uri: String,
    },
}

/// What `auth login` needs beyond the settings.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// The grant.
    pub grant: Grant,
    /// The OAuth client id (else `ANAPLAN_CLIENT_ID` or the vault's).
    pub client_id: Option<String>,
}

/// A failure, as one line for the terminal.
pub type CommandError = String;

fn oauth_url() -> Result<Url, CommandError> {
    let get = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let region = crate::config::region_hosts(&get).map_err(|e| e.to_string())?;
    crate::config::anaplan_url(&get, "ANAPLAN_OAUTH_URL", &region.oauth).map_err(|e| e.to_string())
}

fn vault() -> Result<Option<VaultSecrets>, CommandError> {
    match std::env::var("KEY_VAULT_URI").ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(raw) => {
            let uri = Url::parse(raw.trim()).map_err(|e| format!("setting KEY_VAULT_URI: {e}"))?;
            let credential = azure_credential().map_err(|e| format!("setting KEY_VAULT_URI: {e}"))?;
            VaultSecrets::new(&uri, credential).map(Some).map_err(|e| format!("setting KEY_VAULT_URI: {e}"))
        }
    }
}

async fn from_env_or_vault(vault: Option<&VaultSecrets>, kind: SecretKind) -> Result<Option<Secret>, CommandError> {
    if let Some(v) =
        crate::config::setting_name(kind).and_then(|n| std::env::var(n).ok()).filter(|v| !v.trim().is_empty())
    {
        return Ok(Some(Secret::new(v.trim())));
    }
    match vault {
        Some(v) => v.get_fresh(kind).await.map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

fn token_http() -> reqwest::Client {
    anaplan::client::http_client(Some(Duration::from_secs(30)))
}

/// Runs `auth login`: obtains consent, exchanges it for a refresh token, and stores it in
/// Key Vault (`KEY_VAULT_URI`) or prints the setting to use.
pub async fn login(options: LoginOptions, out: &mut dyn Write, input: &mut dyn BufRead) -> Result<(), CommandError> {
    let base = oauth_url()?;
    let vault = vault()?;
    let client_id = match options.client_id.clone() {
        Some(id) => Secret::new(id),
        None => from_env_or_vault(vault.as_ref(), SecretKind::ClientId).await?.ok_or(
            "no OAuth client id: pass --client-id, or set ANAPLAN_CLIENT_ID (or anaplan-client-id in the vault)",
        )?,
    };
    let token_url = TokenUrl::from_url(base.join("oauth/token").map_err(|e| e.to_string())?);
    let http = token_http();
    let refresh = match &options.grant {
        Grant::Device => {
            let client = BasicClient::new(ClientId::new(client_id.expose().to_owned()))
                .set_auth_type(AuthType::RequestBody)
                .set_token_uri(token_url)
                .set_device_authorization_url(DeviceAuthorizationUrl::from_url(
                    base.join("oauth/device/code").map_err(|e| e.to_string())?,
                ));
            let details: StandardDeviceAuthorizationResponse = client
                .exchange_device_code()
                .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
                .request_async(&http)
                .await
                .map_err(|e| failed("the device authorization request", &e))?;
            let link = details
                .verification_uri_complete()
                .map(|u| u.secret().clone())
                .unwrap_or_else(|| details.verification_uri().to_string());
            writeln!(out, "Open {link}").ok();
            writeln!(
                out,
                "and confirm the code {} (it expires in {} s). Waiting…",
                details.user_code().secret(),
                details.expires_in().as_secs()
            )
            .ok();
            out.flush().ok();
            let token = client
                .exchange_device_access_token(&details)
                .request_async(&http, tokio::time::sleep, Some(details.expires_in()))
                .await
                .map_err(|e| format!("the device login did not complete: {}", describe(&e)))?;
            token.refresh_token().map(|r| Secret::new(r.secret().clone()))
        }
        Grant::Code { redirect_uri } => {
            let redirect = Url::parse(redirect_uri).map_err(|e| format!("--redirect-uri: {e}"))?;
            if matches!(redirect.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) {
                return Err("--redirect-uri: Anaplan refuses localhost callbacks; use a redirect URI registered on the OAuth client (any https page you control)".into());
            }
            let client_secret = from_env_or_vault(vault.as_ref(), SecretKind::ClientSecret)
                .await?
                .ok_or("no OAuth client secret: set ANAPLAN_CLIENT_SECRET (or anaplan-client-secret in the vault)")?;
            let client = code_client(&base, &client_id, &client_secret, redirect.clone())?;
            let (authorize, state) = client
                .authorize_url(CsrfToken::new_random)
                .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
                .url();
            writeln!(out, "Open this address, sign in to Anaplan and approve:").ok();
            writeln!(out, "{authorize}").ok();
            writeln!(out, "Then paste the full address your browser was sent to:").ok();
            out.flush().ok();
            let mut line = String::new();
            input.read_line(&mut line).map_err(|e| format!("reading the pasted address: {e}"))?;
            let pasted = Url::parse(line.trim()).map_err(|_| "the pasted text is not an address".to_owned())?;
            let pairs: std::collections::HashMap<String, String> = pasted.query_pairs().into_owned().collect();
            if let Some(error) = pairs.get("error") {
                return Err(format!(
                    "Anaplan answered {error}: {}",
                    pairs.get("error_description").map(String::as_str).unwrap_or("")
                ));
            }
            if pairs.get("state").map(String::as_str) != Some(state.secret().as_str()) {
                return Err("the pasted address does not belong to this login (its state differs); start again".into());
            }
            let code = pairs.get("code").ok_or("the pasted address has no code")?;
            let token = exchange_code(&client, &http, &Secret::new(code.clone())).await?;
            token.refresh_token().map(|r| Secret::new(r.secret().clone()))
        }
    };
    let refresh = refresh.ok_or("Anaplan returned no refresh token (does the client allow offline_access?)")?;
    match &vault {
        Some(v) => {
            v.set(SecretKind::RefreshToken, &refresh).await.map_err(|e| e.to_string())?;
            if options.client_id.is_some() {
                v.set(SecretKind::ClientId, &client_id).await.map_err(|e| e.to_string())?;
            }
            writeln!(
                out,
                "Stored the refresh token in {} as {} (a new version); the app picks it up on its next refresh.",
                v.describe(),
                crate::secrets::vault::secret_name(SecretKind::RefreshToken)
            )
            .ok();
        }
        None => {
            writeln!(out, "No KEY_VAULT_URI: put these in the app settings (or local.settings.json):").ok();
            writeln!(out, "ANAPLAN_CLIENT_ID={}", client_id.expose()).ok();
            writeln!(out, "ANAPLAN_REFRESH_TOKEN={}", refresh.expose()).ok();
            writeln!(out, "A new ANAPLAN_REFRESH_TOKEN starts a new chain; the token file follows it from there.").ok();
        }
    }
    Ok(())
}

fn describe<E: std::error::Error>(e: &E) -> String {
    anaplan::auth::describe_error(e)
}

/// Says who failed: Anaplan refusing `what` is not the same as not reaching Anaplan.
fn failed<RE, T>(what: &str, e: &oauth2::RequestTokenError<RE, T>) -> String
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
{
    match e {
        oauth2::RequestTokenError::ServerResponse(_) => format!("Anaplan refused {what}: {}", describe(e)),
        oauth2::RequestTokenError::Request(_) => {
            format!("could not reach Anaplan's OAuth service (ANAPLAN_OAUTH_URL) for {what}: {}", describe(e))
        }
        _ => format!("Anaplan's answer to {what} is not what OAuth expects: {}", describe(e)),
    }
}

/// Runs `auth check`: obtains an access token with the configured credentials and calls a
/// cheap Anaplan endpoint; reports who it is and when the token expires.
pub async fn check(settings: &Settings, out: &mut dyn Write) -> Result<(), CommandError> {
    let state = crate::startup::app_state(settings).map_err(|e| e.to_string())?;
    if state.caller_auth {
        return Err(
            "ANAPLAN_AUTH_METHOD=caller: every request brings its own token, so there is nothing to check".into()
        );
    }
    let client = &state.anaplan;
    let me: serde_json::Value = client.json(ApiRequest::get(["users", "me"])).await.map_err(|e| match e {
        anaplan::AnaplanError::Auth(AuthError::Rejected { .. }) => {
            format!("{e}: the credentials need renewing (run `anaplan-functions auth login`)")
        }
        other => other.to_string(),
    })?;
    let user = &me["user"];
    let secrets = match &settings.auth.secrets {
        SecretsFrom::Env { .. } => "the environment".to_owned(),
        SecretsFrom::Vault(uri) => format!("Key Vault {uri}"),
    };
    writeln!(out, "Anaplan accepted the credentials ({}, secrets from {secrets}).", settings.auth.method.as_str()).ok();
    writeln!(
        out,
        "user: {} {} <{}> (id {})",
        user["firstName"].as_str().unwrap_or(""),
        user["lastName"].as_str().unwrap_or(""),
        user["email"].as_str().unwrap_or("?"),
        user["id"].as_str().unwrap_or("?")
    )
    .ok();
    if let Some(at) = client.credentials().expires_at().await {
        let left = at.duration_since(SystemTime::now()).unwrap_or_default().as_secs();
        writeln!(out, "access token valid until {} ({} min {} s from now)", utc(at), left / 60, left % 60).ok();
    }
    // The same estimate as `health` and `keep-signed-in`.
    let sign_in = state.sign_in.state(client.credentials()).await;
    if let Some(last) = sign_in.last_refresh {
        let dies = state.sign_in.chain_dies(last);
        writeln!(
            out,
            "refresh-token chain: last refreshed {}; unused, it dies around {} (ANAPLAN_REFRESH_TOKEN_LIFETIME={} s; \
             keep-signed-in refreshes it once it is older than {} s)",
            utc(last),
            utc(dies),
            state.sign_in.lifetime.as_secs(),
            state.sign_in.keep_alive_window().as_secs()
        )
        .ok();
    }
    if let Some(at) = sign_in.certificate_not_after {
        let days = at.duration_since(SystemTime::now()).unwrap_or_default().as_secs() / 86_400;
        writeln!(out, "certificate valid until {} ({days} days from now)", utc(at)).ok();
    }
    if let Some(problem) = sign_in.problem {
        writeln!(out, "warning: {problem}").ok();
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(utc(UNIX_EPOCH + Duration::from_secs(784111777)), "1994-11-06T08:49:37Z");
        assert_eq!(utc(UNIX_EPOCH + Duration::from_secs(1_795_910_400)), "2026-11-29T00:00:00Z");
    }
}
