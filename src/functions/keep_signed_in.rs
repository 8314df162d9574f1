//! `keep-signed-in`: a timer that keeps the app's own Anaplan sign-in alive. A rotatable
//! OAuth client's refresh token dies when it goes unused for the client's lifetime (12 hours
//! by default), so an app whose flows run once a month would find its chain dead. On
//! `KEEP_SIGNED_IN_SCHEDULE` (every 4 hours by default) this:
//!
//! - with `oauth`, refreshes the chain when its last refresh (as the credential store
//!   records it, whoever made it) is older than a quarter of
//!   `ANAPLAN_REFRESH_TOKEN_LIFETIME`, through the same locks as every refresh, so it never
//!   spends a token another instance is spending; a chain refreshed more recently is left
//!   alone;
//! - with `certificate`, fails the invocation within 30 days of the certificate's expiry
//!   (an alert on failed invocations then tells an admin in time);
//! - with `basic` or `caller`, has nothing to do.
//!
//! One log line, never a token. The host calls it in the JSON invocation format
//! (`{"Data": {"timer": ...}, "Metadata": ...}`); a non-2xx answer fails the invocation.

use std::time::SystemTime;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::auth_commands::utc;
use crate::config::AuthMethod;
use crate::http::{AppState, Call, Problem};
use crate::machinery::declare::{Function, Trigger};
use crate::machinery::timer;
use anaplan::auth::KeepAlive;
use anaplan::{AuthError, Credentials};

/// `keep-signed-in`.
pub const FUNCTION: Function = Function::outside_connector(
    "keep-signed-in",
    Trigger::Timer { schedule: "%KEEP_SIGNED_IN_SCHEDULE%" },
    |state, call| Box::pin(handle(state, call)),
);

/// Handles one invocation.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    timer::invocation(&call.body)?;
    let sign_in = &state.sign_in;
    let (ok, line, value) = match (sign_in.method, state.anaplan.credentials()) {
        (AuthMethod::OAuth, Credentials::OAuth(session)) => {
            let window = sign_in.keep_alive_window();
            match session.keep_alive(window).await {
                Ok(KeepAlive::Fresh(last)) => {
                    let dies = sign_in.chain_dies(last);
                    let line = format!(
                        "the Anaplan sign-in was refreshed at {} (less than a quarter of ANAPLAN_REFRESH_TOKEN_LIFETIME \
                         ago): nothing to do; unused, it lives until {}",
                        utc(last),
                        utc(dies)
                    );
                    (
                        true,
                        line,
                        json!({ "refreshed": false, "lastRefresh": utc(last), "refreshTokenExpiresAt": utc(dies) }),
                    )
                }
                Ok(KeepAlive::Refreshed) => {
                    let now = SystemTime::now();
                    let dies = sign_in.chain_dies(now);
                    let line = format!("the Anaplan sign-in was refreshed; unused, it lives until {}", utc(dies));
                    (
                        true,
                        line,
                        json!({ "refreshed": true, "lastRefresh": utc(now), "refreshTokenExpiresAt": utc(dies) }),
                    )
                }
                Err(e) => {
                    let advice = match &e {
                        AuthError::Rejected { .. } => {
                            " (the refresh token is dead: sign the app in again, with onboard or `auth login`)"
                        }
                        _ => " (the next run tries again)",
                    };
                    (
                        false,
                        format!("the Anaplan sign-in could NOT be refreshed: {e}{advice}"),
                        json!({ "refreshed": false }),
                    )
                }
            }
        }
        (AuthMethod::Certificate, _) => {
            let state = sign_in.state(state.anaplan.credentials()).await;
            let not_after = state.certificate_not_after.map(utc);
            match state.problem {
                Some(problem) => (false, problem, json!({ "certificateNotAfter": not_after })),
                None => {
                    let line = format!(
                        "the Anaplan certificate is valid until {}",
                        not_after.as_deref().unwrap_or("an unknown date")
                    );
                    (true, line, json!({ "certificateNotAfter": not_after }))
                }
            }
        }
        (method, _) => {
            let line = format!("ANAPLAN_AUTH_METHOD={}: nothing to keep signed in", method.as_str());
            (true, line, json!({}))
        }
    };
    if ok {
        tracing::info!("keep-signed-in: {line}");
    } else {
        tracing::error!("keep-signed-in: {line}");
    }
    let status = if ok { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    Ok(timer::result(status, vec![line], value))
}
