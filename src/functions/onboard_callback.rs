//! `onboard-callback` (GET, anonymous: Anaplan's redirect carries no function key): where
//! Anaplan sends the browser back after the sign-in `onboard` started. It accepts only a
//! `state` this app minted in the last 10 minutes for this browser (whose cookie holds the
//! nonce the state carries the hash of), once (see
//! [`crate::onboard`]); then exchanges the code with the client secret, stores the new
//! refresh token where `serve` reads it as the start of a new chain (under the same locks
//! as any refresh), and names the Anaplan user now signed in. Anything else is a 400 page
//! that says why and writes nothing. No page or log shows a token, code, key or cookie.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use oauth2::TokenResponse;
use serde_json::json;

use crate::auth_commands::{code_client, exchange_code};
use crate::config::AuthMethod;
use crate::http::{AppState, Call, Problem};
use crate::machinery::declare::{AuthLevel, Function, Trigger};
use crate::onboard::{BadState, USED_FOLDER, clear_cookie, cookie_values, escape, html, page, shown, unix_now};
use crate::storage::{Created, record_name};
use anaplan::Credentials;
use anaplan::auth::SecretKind;
use anaplan::secret::Secret;

/// `onboard-callback`: Anaplan's redirect target, not an action, so outside the connector.
pub const FUNCTION: Function =
    Function::outside_connector("onboard-callback", Trigger::Page { auth: AuthLevel::Anonymous }, |state, call| {
        Box::pin(handle(state, call))
    });

/// How long the code exchange may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// A page that says why nothing was signed in.
struct Refusal {
    status: StatusCode,
    /// Plain text (escaped when shown).
    why: String,
    /// Whether the state was spent (the cookie is then cleared).
    spent: bool,
}

fn refuse(why: impl Into<String>) -> Refusal {
    Refusal { status: StatusCode::BAD_REQUEST, why: why.into(), spent: false }
}

/// Serves the callback.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    match sign_in(state, &call).await {
        Ok(who) => {
            tracing::info!("onboard-callback: the app was signed in to Anaplan (a new refresh-token chain is stored)");
            let body = format!(
                r#"<div class="card"><p class="ok"><strong>Signed in to Anaplan as {who}.</strong></p>
<p>The app stored the new sign-in where it reads it, and uses it from now on. You can close this page.</p></div>"#
            );
            Ok(html(StatusCode::OK, page("Anaplan sign-in", &body), Some(clear_cookie())))
        }
        Err(r) => {
            tracing::info!(
                status = r.status.as_u16(),
                "onboard-callback: refused: {}",
                anaplan::untrusted::quote(&r.why)
            );
            let body = format!(
                r#"<div class="card"><p class="bad"><strong>The app was not signed in to Anaplan.</strong></p>
<p>{}</p><p>Nothing was changed. Start again from the onboard page.</p></div>"#,
                shown(&r.why)
            );
            let cookie = r.spent.then(clear_cookie);
            Ok(html(r.status, page("Anaplan sign-in", &body), cookie))
        }
    }
}

/// The whole check and exchange: the user now signed in (escaped HTML), or why not.
async fn sign_in(state: &AppState, call: &Call) -> Result<String, Refusal> {
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(call.query.as_deref().unwrap_or("").as_bytes()) {
        if query.iter().any(|(seen, _)| *seen == k) {
            return Err(refuse(format!("the parameter {} is repeated", anaplan::untrusted::quote(&k))));
        }
        query.push((k.into_owned(), v.into_owned()));
    }
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());

    let (AuthMethod::OAuth, Credentials::OAuth(session), Some(secrets), Some(oauth_url)) =
        (state.sign_in.method, state.anaplan.credentials(), &state.sign_in.secrets, &state.sign_in.oauth_url)
    else {
        return Err(refuse(format!(
            "ANAPLAN_AUTH_METHOD={}: signing in from a browser is for oauth",
            state.sign_in.method.as_str()
        )));
    };
    let unavailable = |e: String| Refusal { status: StatusCode::SERVICE_UNAVAILABLE, why: e, spent: false };
    let client_id = secrets.get(SecretKind::ClientId).await.map_err(|e| unavailable(e.to_string()))?;
    let client_secret = secrets.get(SecretKind::ClientSecret).await.map_err(|e| unavailable(e.to_string()))?;
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return Err(refuse("the app has no OAuth client id and secret, which signing in from a browser needs"));
    };

    // The state: this app's, fresh, this browser's, unused.
    let Some(state_value) = get("state") else {
        return Err(refuse("the request has no state: it was not started from this app's onboard page"));
    };
    let bound = crate::onboard::verify_state(&client_secret, state_value, unix_now()).map_err(|e| match e {
        BadState::Expired => refuse(format!("{}: start again from the onboard page", e.explain())),
        other => refuse(other.explain()),
    })?;
    let cookies = cookie_values(&call.headers);
    if cookies.is_empty() {
        return Err(refuse(
            "this browser did not send the sign-in's cookie: the sign-in was started in another browser, or \
             cookies are blocked; open the onboard page in this browser and sign in from there",
        ));
    }
    let Some(nonce) =
        cookies.iter().find(|c| constant_time_eq(crate::onboard::binding(c).as_bytes(), bound.as_bytes()))
    else {
        return Err(refuse(
            "the sign-in was started in another browser (this browser's cookie belongs to another sign-in)",
        ));
    };
    let records = state.records().await.map_err(|p| {
        unavailable(p.body()["detail"].as_str().unwrap_or("the app's storage account could not be used").to_owned())
    })?;
    let record = record_name(USED_FOLDER, &[nonce]);
    match records.create(&record, &json!({ "usedAt": crate::auth_commands::utc(std::time::SystemTime::now()) })).await {
        Ok(Created::Created(_)) => {}
        Ok(Created::Exists) => {
            return Err(Refusal {
                why: "this sign-in was already used (a state works once)".to_owned(),
                spent: true,
                status: StatusCode::BAD_REQUEST,
            });
        }
        Err(e) => {
            return Err(unavailable(format!(
                "the app's storage account (AzureWebJobsStorage) could not record the sign-in: {e}"
            )));
        }
    }
    // From here on the state is spent.
    let spent = |status: StatusCode, why: String| Refusal { status, why, spent: true };
    if let Some(error) = get("error") {
        let description = get("error_description").map(|d| format!(": {d}")).unwrap_or_default();
        return Err(spent(StatusCode::BAD_REQUEST, format!("Anaplan answered {error}{description}")));
    }
    let Some(code) = get("code") else {
        return Err(spent(StatusCode::BAD_REQUEST, "Anaplan's answer has no code".to_owned()));
    };
    let code = Secret::new(code);
    let callback = crate::onboard::callback_url(&call.headers, &call.forwarded_hosts)
        .map_err(|e| spent(StatusCode::BAD_REQUEST, format!("the callback address cannot be built: {e}")))?;
    let client = code_client(oauth_url, &client_id, &client_secret, callback)
        .map_err(|e| spent(StatusCode::INTERNAL_SERVER_ERROR, format!("ANAPLAN_OAUTH_URL: {e}")))?;
    let http = anaplan::client::http_client(Some(TOKEN_TIMEOUT));
    let token = exchange_code(&client, &http, &code).await.map_err(|e| spent(StatusCode::BAD_GATEWAY, e))?;
    let Some(refresh) = token.refresh_token() else {
        return Err(spent(
            StatusCode::BAD_GATEWAY,
            "Anaplan returned no refresh token (does the OAuth client allow offline_access?)".to_owned(),
        ));
    };
    let access = Secret::new(token.access_token().secret().clone());
    session
        .start_chain(Secret::new(refresh.secret().clone()), access.clone(), token.expires_in())
        .await
        .map_err(|e| spent(StatusCode::SERVICE_UNAVAILABLE, format!("the new sign-in could not be stored: {e}")))?;
    Ok(match state.sign_in.user(&access).await {
        Ok((name, email)) => format!("{} &lt;{}&gt;", shown(&name), shown(&email)),
        Err(e) => format!("a user Anaplan did not name ({})", escape(&e)),
    })
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
