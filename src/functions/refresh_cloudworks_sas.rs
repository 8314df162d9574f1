//! `refresh-cloudworks-sas`: a timer that keeps CloudWorks' Azure Blob connections working.
//! A connection holds a SAS that must stay valid for every run, so it breaks silently when
//! the SAS expires; on `CLOUDWORKS_SAS_SCHEDULE` this writes a fresh one into each
//! connection of `CLOUDWORKS_SAS_CONNECTIONS` (ids or names), valid `CLOUDWORKS_SAS_DAYS`,
//! with exactly what CloudWorks needs (Blob service; read, write, list; see
//! [`crate::storage::grant`] for how it is signed). It tries every connection, logs one line
//! each (never a SAS), and fails the invocation when any could not be renewed.
//!
//! The host calls it in the JSON invocation format: `POST /refresh-cloudworks-sas` with
//! `{"Data": {"timer": ...}, "Metadata": ...}`; it answers `{"Outputs": {}, "Logs": [...],
//! "ReturnValue": {...}}` with 200, or a non-2xx status, which fails the invocation.

use axum::http::StatusCode;
use axum::response::Response;
use azure_core::time::Duration;
use serde_json::json;

use crate::config::SAS_CONTAINERS;
use crate::http::{AppState, Call, Problem};
use crate::machinery::declare::{Function, Trigger};
use crate::machinery::timer;
use crate::storage::containers::reserved;
use crate::storage::grant::cloudworks_grant;
use anaplan::catalog::{Named, pick};
use anaplan::cloudworks::{self, BlobConnection};

/// `refresh-cloudworks-sas`.
pub const FUNCTION: Function = Function::outside_connector(
    "refresh-cloudworks-sas",
    Trigger::Timer { schedule: "%CLOUDWORKS_SAS_SCHEDULE%" },
    |state, call| Box::pin(handle(state, call)),
);

/// Handles one invocation.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    timer::invocation(&call.body)?;
    let wanted = &state.cloudworks_settings.sas_connections;
    let days = state.cloudworks_settings.sas_days;
    let mut logs: Vec<String> = Vec::new();
    let mut failed = 0usize;
    if wanted.is_empty() {
        logs.push("CLOUDWORKS_SAS_CONNECTIONS is empty: no CloudWorks connection to renew".to_owned());
        tracing::info!("{}", logs[0]);
        return Ok(timer::result(StatusCode::OK, logs, json!({ "renewed": 0, "failed": 0 })));
    }
    let connections = match cloudworks::blob_connections(&state.cloudworks).await {
        Ok(c) => c,
        Err(e) => {
            let line = format!("CloudWorks connections could not be listed, none renewed: {e}");
            tracing::error!("{line}");
            return Ok(timer::result(
                StatusCode::INTERNAL_SERVER_ERROR,
                vec![line],
                json!({ "renewed": 0, "failed": wanted.len() }),
            ));
        }
    };
    for name in wanted {
        let line = match renew(state, &connections, name, days).await {
            Ok(line) => {
                tracing::info!("{line}");
                line
            }
            Err(line) => {
                failed += 1;
                tracing::error!("{line}");
                line
            }
        };
        logs.push(line);
    }
    let renewed = wanted.len() - failed;
    let status = if failed == 0 { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    Ok(timer::result(status, logs, json!({ "renewed": renewed, "failed": failed })))
}

/// Renews one connection; the log line either way.
async fn renew(state: &AppState, all: &[BlobConnection], wanted: &str, days: u32) -> Result<String, String> {
    let conn = match all.iter().find(|c| c.id.as_str() == wanted) {
        Some(c) => c,
        None => {
            let named: Vec<Named> =
                all.iter().map(|c| Named { id: c.id.as_str().to_owned(), name: c.name.clone() }).collect();
            match pick("connection", &named, wanted) {
                Ok(n) => all
                    .iter()
                    .find(|c| c.id.as_str() == n.id)
                    .ok_or_else(|| format!("connection {wanted:?}: NOT renewed: not found"))?,
                Err(e) => return Err(format!("connection {wanted:?}: NOT renewed: {e}{}", closest(&e))),
            }
        }
    };
    let label = format!("connection {:?} ({})", conn.name, conn.id.as_str());
    grantable(state, &conn.container).map_err(|why| format!("{label}: NOT renewed: {why}"))?;
    let Some(app) = state.app_storage.as_deref() else {
        return Err(format!("{label}: NOT renewed: no storage account to sign with (set AzureWebJobsStorage)"));
    };
    let grant = cloudworks_grant(app, &conn.storage_account, &conn.container, Duration::days(i64::from(days)))
        .await
        .map_err(|e| format!("{label}: NOT renewed: no SAS for {}/{}: {e}", conn.storage_account, conn.container))?;
    cloudworks::set_sas(&state.cloudworks, conn, &grant.sas)
        .await
        .map_err(|e| format!("{label}: NOT renewed: CloudWorks refused the update: {e}"))?;
    Ok(format!(
        "{label}: renewed with a {} for {}/{} (read, write, list), valid until {}",
        grant.kind, conn.storage_account, conn.container, grant.expires
    ))
}

/// Whether the timer may grant CloudWorks `container`: a SAS is signed with the app's own
/// storage credentials, so a connection (which anyone with CloudWorks rights can point at
/// any container) must not turn the timer into a key to the host's, the deployment's or
/// the app's state containers, nor to any container the admin did not list.
fn grantable(state: &AppState, container: &str) -> Result<(), String> {
    let (allowed, setting) = match &state.cloudworks_settings.sas_containers {
        Some(own) => (own, SAS_CONTAINERS),
        None => (state.blob_containers.as_ref(), crate::storage::containers::SETTING),
    };
    let shown = anaplan::untrusted::quote(container);
    if let Some(why) = reserved(container) {
        return Err(format!("its container {shown} holds {why}; no SAS is ever granted for it"));
    }
    allowed.check(container).map_err(|_| {
        format!(
            "its container {shown} is not one {setting} allows ({}); an admin can add it there",
            allowed.names().join(", ")
        )
    })
}

fn closest(e: &anaplan::AnaplanError) -> String {
    match e {
        anaplan::AnaplanError::UnknownName { closest, .. } if !closest.is_empty() => {
            format!(" (closest: {})", closest.join(", "))
        }
        _ => String::new(),
    }
}
