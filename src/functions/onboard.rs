//! `onboard` (GET, function key): the page an admin opens (`/api/onboard?code=<key>`) to
//! see the app's Anaplan sign-in as `health` reports it and to sign the app in from the
//! browser. With `ANAPLAN_AUTH_METHOD=oauth` and an OAuth client id and secret, a "Sign in
//! to Anaplan" button (a plain link) starts Anaplan's authorization code flow at
//! `/auth/prelogin` on the OAuth host, with a `state` minted for this page view and bound to
//! this browser by a cookie (see [`crate::onboard`]); `onboard-callback` finishes it.
//! Other methods get the state and a sentence saying browser sign-in is for `oauth`.

use axum::http::StatusCode;
use axum::response::Response;
use oauth2::{CsrfToken, Scope};
use serde_json::Value;

use crate::auth_commands::{BROWSER_SCOPES, code_client};
use crate::config::AuthMethod;
use crate::functions::health;
use crate::http::{AppState, Call, Problem};
use crate::machinery::declare::{AuthLevel, Function, Trigger};
use crate::onboard::{escape, html, new_nonce, page, set_cookie, state_for, unix_now};
use anaplan::Credentials;
use anaplan::auth::SecretKind;

/// `onboard`: for an admin in a browser, not for flows, so outside the connector.
pub const FUNCTION: Function =
    Function::outside_connector("onboard", Trigger::Page { auth: AuthLevel::Function }, |state, call| {
        Box::pin(handle(state, call))
    });

/// Serves the page.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let report = health::report(state).await;
    let mut body = status_table(state, &report).await;
    let (button, cookie) = sign_in_button(state, &call).await;
    body.push_str(&button);
    Ok(html(StatusCode::OK, page("Anaplan sign-in", &body), cookie))
}

/// The sign-in's state as `health` reports it, and who the app is signed in as when known.
async fn status_table(state: &AppState, report: &Value) -> String {
    let auth = &report["auth"];
    let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| "not known".to_owned());
    let part = |v: &Value| {
        let t = text(v);
        let class = if t == "ok" {
            "ok"
        } else if t == health::NOT_CONFIGURED {
            ""
        } else {
            "bad"
        };
        format!(r#"<span class="{class}">{}</span>"#, escape(&t))
    };
    let mut rows =
        vec![("Method".to_owned(), escape(&text(&auth["method"]))), ("Sign-in".to_owned(), part(&auth["status"]))];
    if state.sign_in.method == AuthMethod::OAuth {
        rows.push(("Signed in as".to_owned(), escape(&user(state).await)));
        rows.push(("Last refresh".to_owned(), escape(&text(&auth["lastRefresh"]))));
        rows.push(("Dies unused at (estimate)".to_owned(), escape(&text(&auth["refreshTokenExpiresAt"]))));
    }
    if state.sign_in.method == AuthMethod::Certificate {
        rows.push(("Certificate valid until".to_owned(), escape(&text(&auth["certificateNotAfter"]))));
    }
    rows.push(("Key Vault".to_owned(), part(&report["keyVault"])));
    rows.push(("Storage".to_owned(), part(&report["storage"])));
    rows.push(("Anaplan".to_owned(), part(&report["anaplan"])));
    let rows: String = rows.iter().map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>\n")).collect();
    format!(r#"<div class="card"><table>{rows}</table></div>"#)
}

/// Who the access token the app holds signs in as (never refreshing one).
async fn user(state: &AppState) -> String {
    let Credentials::OAuth(session) = state.anaplan.credentials() else {
        return "not known".to_owned();
    };
    match session.current_token().await {
        None => "not known (the app holds no access token right now)".to_owned(),
        Some(token) => match state.sign_in.user(&token).await {
            Ok((name, email)) => format!("{name} <{email}>"),
            Err(e) => format!("not known ({e})"),
        },
    }
}

/// The "Sign in to Anaplan" button and its cookie, or why there is none.
async fn sign_in_button(state: &AppState, call: &Call) -> (String, Option<String>) {
    let sentence = |s: &str| (format!(r#"<div class="card"><p>{}</p></div>"#, escape(s)), None);
    if state.sign_in.method != AuthMethod::OAuth {
        return sentence(&format!(
            "ANAPLAN_AUTH_METHOD={}: signing in from a browser is for oauth (an Anaplan OAuth client with a \
             client id and secret), so there is nothing to sign in here.",
            state.sign_in.method.as_str()
        ));
    }
    let (Some(secrets), Some(oauth_url)) = (&state.sign_in.secrets, &state.sign_in.oauth_url) else {
        return sentence("This app reads no credentials, so it cannot be signed in from a browser.");
    };
    let client_id = secrets.get(SecretKind::ClientId).await;
    let client_secret = secrets.get(SecretKind::ClientSecret).await;
    let (client_id, client_secret) = match (client_id, client_secret) {
        (Ok(Some(id)), Ok(Some(secret))) => (id, secret),
        (Err(e), _) | (_, Err(e)) => return sentence(&format!("The OAuth client could not be read: {e}")),
        _ => {
            return sentence(&format!(
                "Signing in from a browser needs the OAuth client's id and secret (an authorization-code client): \
                 set {} and {}.",
                secrets.locate(SecretKind::ClientId),
                secrets.locate(SecretKind::ClientSecret)
            ));
        }
    };
    let callback = match crate::onboard::callback_url(&call.headers, &call.forwarded_hosts) {
        Ok(u) => u,
        Err(e) => return sentence(&format!("The callback address cannot be built: {e}")),
    };
    let nonce = match new_nonce() {
        Ok(n) => n,
        Err(e) => return sentence(&e),
    };
    let state_value = state_for(&client_secret, &nonce, unix_now());
    let client = match code_client(oauth_url, &client_id, &client_secret, callback.clone()) {
        Ok(c) => c,
        Err(e) => return sentence(&format!("ANAPLAN_OAUTH_URL does not make a sign-in address: {e}")),
    };
    let (link, _) = client
        .authorize_url(|| CsrfToken::new(state_value))
        .add_scopes(BROWSER_SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
        .url();
    let button = format!(
        r#"<div class="card">
<p><a class="button" href="{link}" rel="noreferrer">Sign in to Anaplan</a></p>
<p class="small">Anaplan asks you to sign in, then sends you back to this app, which stores the new sign-in where it reads it
(a new refresh-token chain). The app then acts in Anaplan as the user who signs in here. The link works once, in this browser,
for 10 minutes.</p>
<p class="small">The Anaplan OAuth client must list this callback address: <code>{callback}</code></p>
</div>"#,
        link = escape(link.as_str()),
        callback = escape(callback.as_str()),
    );
    (button, Some(set_cookie(&nonce)))
}
