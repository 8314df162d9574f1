//! `health`: whether the app can serve its next flow, for an Azure Monitor availability test.
//! GET answers 200 `{"status": "ok", "auth": {...}, "keyVault", "storage", "anaplan"}`, or
//! 503 with `Retry-After` and the same body (`"status": "unhealthy"`) when any part is not
//! ok, so an alert fires before a flow fails:
//!
//! - `auth`: the method, and with `oauth` when the refresh-token chain was last refreshed
//!   and when it dies unused (`lastRefresh` + `ANAPLAN_REFRESH_TOKEN_LIFETIME`), with
//!   `certificate` when the certificate expires; its `status` is `ok` or what is wrong (no
//!   refresh token, a chain Anaplan refused, less than a quarter of its lifetime left, a
//!   certificate within 30 days of its expiry);
//! - `keyVault`: whether the credentials could be read from it (`not configured` without
//!   `KEY_VAULT_URI`);
//! - `storage`: whether the app's storage account answers (`not configured` without one);
//! - `anaplan`: whether Anaplan answers, looked at most once a minute, with the access token
//!   the app holds (never refreshing one) or without one.
//!
//! Parts the app is not configured to use are `not configured` and do not make it red.
//! Nothing here spends a refresh token, and no answer or log shows a secret.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::auth_commands::utc;
use crate::http::{AppState, Call, Problem, json_answer};
use crate::machinery::declare::{Function, RequestBody, Trigger};

/// `Retry-After` of a 503: when the availability test should look again.
pub const RETRY_AFTER_SECONDS: u64 = 60;
/// What a part the app does not use says.
pub const NOT_CONFIGURED: &str = "not configured";

/// `health`: for monitoring, not for flows, so outside the connector.
pub const FUNCTION: Function = Function::outside_connector(
    "health",
    Trigger::Http { methods: &[Method::GET], body: RequestBody::Parameters },
    |state, call| Box::pin(handle(state, call)),
);

/// Handles one check.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    call.params()?;
    let report = report(state).await;
    let ok = report["status"] == "ok";
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut resp = json_answer(status, &report);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if !ok {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        tracing::warn!(report = %report, "health: not ok");
    }
    Ok(resp)
}

/// The report, parts checked at once.
pub async fn report(state: &AppState) -> Value {
    let sign_in = &state.sign_in;
    let credentials = state.anaplan.credentials();
    let (auth, storage, anaplan) =
        tokio::join!(sign_in.state(credentials), storage(state), sign_in.anaplan(credentials));
    let key_vault = if !sign_in.key_vault {
        NOT_CONFIGURED.to_owned()
    } else if sign_in.secrets.is_none() {
        // `caller` mode reads nothing from the vault.
        NOT_CONFIGURED.to_owned()
    } else {
        auth.vault_problem.clone().unwrap_or_else(|| "ok".to_owned())
    };
    let time = |t: Option<std::time::SystemTime>| t.map(utc).map(Value::String).unwrap_or(Value::Null);
    let auth_status = auth.problem.clone().unwrap_or_else(|| "ok".to_owned());
    let anaplan = match anaplan {
        Ok(()) => "ok".to_owned(),
        Err(e) => e,
    };
    let parts_ok = [&auth_status, &key_vault, &storage, &anaplan].iter().all(|p| *p == "ok" || *p == NOT_CONFIGURED);
    json!({
        "status": if parts_ok { "ok" } else { "unhealthy" },
        "auth": {
            "method": sign_in.method.as_str(),
            "status": auth_status,
            "lastRefresh": time(auth.last_refresh),
            "refreshTokenExpiresAt": time(auth.refresh_token_expires_at),
            "certificateNotAfter": time(auth.certificate_not_after),
        },
        "keyVault": key_vault,
        "storage": storage,
        "anaplan": anaplan,
    })
}

/// Whether the app's storage account answers: a read of a record that need not exist.
async fn storage(state: &AppState) -> String {
    if state.app_storage.is_none() {
        return NOT_CONFIGURED.to_owned();
    }
    let store = match state.state_store().await {
        Ok(s) => s,
        Err(p) => {
            return p.body()["detail"].as_str().unwrap_or("the app's storage account could not be used").to_owned();
        }
    };
    match store.read("health").await {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("the app's storage account (AzureWebJobsStorage) could not be read: {e}"),
    }
}
