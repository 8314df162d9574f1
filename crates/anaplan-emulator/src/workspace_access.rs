//! Who may use what (integration description, "User Data" and "General Workspace & Model
//! Metadata"): the tenant's users and each workspace's administrators and visitors.
//!
//! - `GET /2/0/users` → `users[{id, email, firstName, lastName, active, emailOptIn,
//!   customerId, lastLoginDate?}]`, paged like every list (`offset`/`limit`, capped at the
//!   emulator's page size). Minimum role Standard User: every live token. The users are the
//!   SCIM users ([`super::scim`]), so a user provisioned or deactivated there shows here;
//!   `lastLoginDate` is the seed's ([`last_login_date`]), absent for a user who never signed
//!   in (and for every user made since the start).
//! - `GET /2/0/users/{userId}` → `user`, the same object; an unknown id → 404.
//! - `GET /2/0/workspaces/{ws}/admins` → `admins[{firstName, lastName, email, active,
//!   otherWorkspaces}]` and `.../visitors` → `visitors[...]` (the description's `Admin` and
//!   `Visitor`: no id, no last login), paged; the seed's [`WORKSPACE_ADMINS`] and
//!   [`WORKSPACE_VISITORS`]; `otherWorkspaces` names the other workspaces where that user has
//!   the same role. An unknown workspace → 404 ("Workspace not found", documented).
//!
//! The role gate: the description's minimum role is User Administrator ("requires tenant
//! admin privilege; workspace admin access alone is insufficient") and documents no status
//! for a caller without it; the description's README records that live Anaplan answers
//! **500** then. The emulator does the same, before the workspace is looked at: every caller
//! but the integration user (the tenant's User Administrator) gets a 500 in Anaplan's error
//! shape.

use super::Inner;
use super::api::paged;
use super::seed::{
    CUSTOMER_ID, SCIM_USER_COUNT, WORKSPACE_ADMINS, WORKSPACE_VISITORS, last_login_date, scim_user, workspace_members,
};
use super::util::{Ids, api_status, envelope};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The routes.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/2/0/users", get(users))
        .route("/2/0/users/{id}", get(user))
        .route("/2/0/workspaces/{ws}/admins", get(admins))
        .route("/2/0/workspaces/{ws}/visitors", get(visitors))
}

/// Seed user number by id, for the seed's last logins.
fn seed_numbers() -> HashMap<String, usize> {
    (0..SCIM_USER_COUNT).map(|n| (scim_user(n).id, n)).collect()
}

/// Every user as `GET /users` lists them.
fn all_users(inner: &Inner) -> Vec<Value> {
    let numbers = seed_numbers();
    let users = inner.state().scim.api_users();
    users
        .into_iter()
        .map(|u| {
            let mut o = json!({
                "id": u.id,
                "email": u.email,
                "firstName": u.first_name,
                "lastName": u.last_name,
                "active": u.active,
                "emailOptIn": false,
                "customerId": CUSTOMER_ID,
            });
            if let Some(date) = numbers.get(&u.id).copied().and_then(last_login_date) {
                o["lastLoginDate"] = json!(date);
            }
            o
        })
        .collect()
}

/// `GET /2/0/users`.
async fn users(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let items = all_users(&inner);
    paged(&inner, &uri, "users", "objects/user", items)
}

/// `GET /2/0/users/{userId}`.
async fn user(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, uri: Uri) -> Response {
    let Some(found) = all_users(&inner).into_iter().find(|u| u["id"] == id.as_str()) else {
        return api_status(StatusCode::NOT_FOUND, uri.path());
    };
    let mut body = envelope("objects/user");
    body.insert("user".into(), found);
    Json(Value::Object(body)).into_response()
}

/// `GET /2/0/workspaces/{ws}/admins`.
async fn admins(State(inner): State<Arc<Inner>>, Ids(ws): Ids<String>, uri: Uri, headers: HeaderMap) -> Response {
    members(&inner, &ws, &uri, &headers, true)
}

/// `GET /2/0/workspaces/{ws}/visitors`.
async fn visitors(State(inner): State<Arc<Inner>>, Ids(ws): Ids<String>, uri: Uri, headers: HeaderMap) -> Response {
    members(&inner, &ws, &uri, &headers, false)
}

fn members(inner: &Inner, ws: &str, uri: &Uri, headers: &HeaderMap, admins: bool) -> Response {
    let path = uri.path();
    // The role first (see the module): 500, as live Anaplan answers a caller without it.
    if super::auth::token_user(inner, headers) != Some(0) {
        return api_status(StatusCode::INTERNAL_SERVER_ERROR, path);
    }
    if inner.catalog.workspace(ws).is_none() {
        return super::util::api_error(StatusCode::NOT_FOUND, "Workspace not found", path);
    }
    let users = inner.state().scim.api_users();
    let table = if admins { &WORKSPACE_ADMINS } else { &WORKSPACE_VISITORS };
    let items = workspace_members(ws, admins)
        .iter()
        .map(|&n| {
            let id = scim_user(n).id;
            let u = users.iter().find(|u| u.id == id);
            let others: Vec<&str> = table
                .iter()
                .filter(|(other, members)| *other != ws && members.contains(&n))
                .filter_map(|(other, _)| inner.catalog.workspace(other).map(|w| w.name))
                .collect();
            json!({
                "firstName": u.map(|u| u.first_name.as_str()).unwrap_or_default(),
                "lastName": u.map(|u| u.last_name.as_str()).unwrap_or_default(),
                "email": u.map(|u| u.email.as_str()).unwrap_or_default(),
                "active": u.is_some_and(|u| u.active),
                "otherWorkspaces": others,
            })
        })
        .collect();
    let (key, schema) = if admins { ("admins", "objects/admin") } else { ("visitors", "objects/visitor") };
    paged(inner, uri, key, schema, items)
}
