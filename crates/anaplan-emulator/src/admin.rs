//! Anaplan's administration APIs under `/admin/1/0`, as their live-tested descriptions have
//! them (state in [`AdminState`]; the tenant's users are the SCIM users of `scim.rs`).
//!
//! Exception Users (the users allowed to bypass SSO, per workspace):
//! - `POST /admin/1/0/permissions/exception-users/search` with exactly one of `workspaceGuid`
//!   (that workspace's exception users) or `userGuid` (the workspaces where that user is one)
//!   → 200 `{"response": [{workspaceGuid, workspaceName, users: [{userGuid, email}]}]}`. Any
//!   user may search (Standard User), bounded by the workspaces they see: a workspace the
//!   caller is not in is a 404 here, and a by-user search lists only the caller's workspaces.
//! - `PATCH /admin/1/0/permissions/exception-users/users/{userGuid}` `{"op": "assign" |
//!   "unassign", "workspaceGuid"}` → 204. The body is checked first (400), then the role:
//!   Tenant Security Admin only (403), and nobody changes their own status (403); then an
//!   unknown workspace or user is a 404, a workspace that is not SSO-enabled or a user who is
//!   not in it a 400. Assigning twice (or unassigning a user who is not one) is a 204 that
//!   changes nothing (the description is silent; the emulator's choice).
//! - Errors are `{"status": "FAILURE_…", "statusMessage"}`. Auth: a live token under
//!   `AnaplanAuthToken` only; `Bearer` (or no header) is the live-confirmed 400
//!   `FAILURE_BAD_HEADER`, a dead token a 401 `FAILURE_INVALID_TOKEN`.
//!
//! Administration (Tenant Administrator only, else 403 `ACCESS_CONTROL_DENIED`):
//! - `GET /admin/1/0/users/export` (`Limit`, `Offset`) → 200 `text/csv`:
//!   `username,first_name,last_name,licenses`, one row per tenant user.
//! - `PUT /admin/1/0/users/import`, `multipart/form-data` with the CSV as part `file` (the
//!   same four columns, in that order): a missing file, no data row, more than 500 rows, a
//!   duplicate username or an empty cell refuse the whole file (400); otherwise 207
//!   `{accepted, created, updated, errors: [{line, message}]}` where a row whose username is
//!   not an email address or that names a license the tenant does not have
//!   ([`LICENSES`]) is an error and the others are created or updated (by username).
//! - Errors are `{"status", "message"}`. Auth: a live token under `AnaplanAuthToken` only;
//!   `Bearer` is the live-confirmed empty 401.
//!
//! Seed: the integration user is Tenant Security Admin and Tenant Administrator
//! ([`Emulator::set_admin_roles`] or `POST /_emulator/admin-roles?tenantSecurityAdmin=false
//! &tenantAdministrator=false` drops either); FP&A Planning is SSO-enabled, Sales Ops is not;
//! user003 is an exception user of FP&A Planning ([`EXCEPTION_USER_SEED`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde_json::{Value, json};

use super::seed::{WS_FPA_ID, scim_user};
use super::util::{api_error, query_get, query_pairs};
use super::{Emulator, Inner};

const SEARCH: &str = "/admin/1/0/permissions/exception-users/search";
const USERS: &str = "/admin/1/0/permissions/exception-users/users/{user}";
const EXPORT: &str = "/admin/1/0/users/export";
const IMPORT: &str = "/admin/1/0/users/import";

/// The licenses the emulated tenant has (Anaplan's license names are not in the
/// description; these are the emulator's).
pub const LICENSES: [&str; 3] = ["Standard", "Workflow", "PlanIQ"];
/// Anaplan's largest user import.
pub const USER_IMPORT_MAX_ROWS: usize = 500;
/// The seed's exception user: user003 (FP&A Planning) in FP&A Planning.
pub const EXCEPTION_USER_SEED: usize = 3;
/// The CSV columns of export and import.
const COLUMNS: [&str; 4] = ["username", "first_name", "last_name", "licenses"];

/// Exception users, SSO workspaces, licenses and the demo identity's roles.
pub struct AdminState {
    /// (workspace id, user GUID) of every exception user.
    exception: BTreeSet<(String, String)>,
    /// Workspaces with SSO enabled.
    sso: HashSet<String>,
    /// Licenses by lowercased username, as a CSV cell (comma-separated).
    licenses: HashMap<String, String>,
    /// The integration user's roles: (Tenant Security Admin, Tenant Administrator).
    roles: (bool, bool),
    /// Data rows of each accepted import file, in order.
    imports: Vec<usize>,
}

impl Default for AdminState {
    fn default() -> Self {
        let mut exception = BTreeSet::new();
        exception.insert((WS_FPA_ID.to_owned(), scim_user(EXCEPTION_USER_SEED).id));
        AdminState {
            exception,
            sso: HashSet::from([WS_FPA_ID.to_owned()]),
            licenses: HashMap::new(),
            roles: (true, true),
            imports: Vec::new(),
        }
    }
}

impl AdminState {
    fn licenses_of(&self, user_name: &str) -> String {
        match self.licenses.get(&user_name.to_ascii_lowercase()) {
            Some(l) => l.clone(),
            None if user_name.starts_with("integration@") => "Standard,Workflow".to_owned(),
            None => "Standard".to_owned(),
        }
    }
}

impl Emulator {
    /// Gives the integration user the Tenant Security Admin role (Exception Users' changes)
    /// and the Tenant Administrator role (Administration) or takes them away; both are held
    /// from the start.
    pub fn set_admin_roles(&self, tenant_security_admin: bool, tenant_administrator: bool) {
        self.inner.state().admin.roles = (tenant_security_admin, tenant_administrator);
    }

    /// Every exception user, as (workspace id, user GUID), sorted.
    pub fn exception_users(&self) -> Vec<(String, String)> {
        self.inner.state().admin.exception.iter().cloned().collect()
    }

    /// The data rows of each user import file the Administration API accepted, in order.
    pub fn user_imports(&self) -> Vec<usize> {
        self.inner.state().admin.imports.clone()
    }

    /// A tenant user's licenses as the export shows them (comma-separated).
    pub fn user_licenses(&self, user_name: &str) -> String {
        self.inner.state().admin.licenses_of(user_name)
    }
}

/// The administration routes and their control.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route(SEARCH, post(search))
        .route(USERS, patch(change))
        .route(EXPORT, get(export))
        .route(IMPORT, put(import))
        .route("/_emulator/admin-roles", post(control))
}

// ------------------------------------------------------------------ auth

/// The seeded user of a live token sent as `Authorization: AnaplanAuthToken <token>`:
/// `Err(true)` when the header is missing or has another scheme, `Err(false)` for a token
/// that is not live.
fn caller(inner: &Inner, headers: &HeaderMap) -> Result<usize, bool> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(true)?;
    let (scheme, token) = value.split_once(' ').ok_or(true)?;
    if scheme != "AnaplanAuthToken" {
        return Err(true);
    }
    let st = inner.state();
    st.access_tokens.get(token.trim()).filter(|t| Instant::now() < t.expires_at).map(|t| t.user).ok_or(false)
}

/// Exception Users' error body.
fn exception_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "status": code, "statusMessage": message }))).into_response()
}

fn exception_caller(inner: &Inner, headers: &HeaderMap) -> Result<usize, Response> {
    caller(inner, headers).map_err(|bad_header| {
        if bad_header {
            exception_error(
                StatusCode::BAD_REQUEST,
                "FAILURE_BAD_HEADER",
                "Request header invalid, token or apikey or Oauth service-to-service token is required",
            )
        } else {
            exception_error(StatusCode::UNAUTHORIZED, "FAILURE_INVALID_TOKEN", "The token is invalid or expired")
        }
    })
}

/// Administration's error body.
fn admin_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "status": code, "message": message }))).into_response()
}

/// The caller, when a Tenant Administrator.
fn administrator(inner: &Inner, headers: &HeaderMap) -> Result<usize, Response> {
    let user = match caller(inner, headers) {
        Ok(u) => u,
        // Bearer (or no header): refused by the auth layer with an empty body, as live.
        Err(true) => return Err(StatusCode::UNAUTHORIZED.into_response()),
        Err(false) => {
            return Err(admin_error(
                StatusCode::UNAUTHORIZED,
                "FAILURE_INVALID_TOKEN",
                "The token is invalid or expired",
            ));
        }
    };
    if user != 0 || !inner.state().admin.roles.1 {
        return Err(admin_error(
            StatusCode::FORBIDDEN,
            "ACCESS_CONTROL_DENIED",
            "The user does not have the Tenant Administrator role",
        ));
    }
    Ok(user)
}

/// The workspaces user `n` sees: the integration user every workspace, others their own.
fn visible_workspaces(inner: &Inner, n: usize) -> Vec<String> {
    if n == 0 {
        return inner.catalog.workspaces.iter().map(|w| w.id.to_owned()).collect();
    }
    let id = scim_user(n).id;
    inner.state().scim.tenant_user_by_id(&id).map(|u| u.workspaces).unwrap_or_default()
}

fn is_guid(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn json_body(headers: &HeaderMap, body: &Bytes) -> Option<serde_json::Map<String, Value>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().unwrap_or("").trim() != "application/json" {
        return None;
    }
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(o) => Some(o),
        _ => None,
    }
}

// ------------------------------------------------------------------ Exception Users

/// `POST /admin/1/0/permissions/exception-users/search`.
async fn search(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let user = match exception_caller(&inner, &headers) {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    let bad = |m: &str| exception_error(StatusCode::BAD_REQUEST, "FAILURE_BAD_REQUEST", m);
    let Some(o) = json_body(&headers, &body) else {
        return bad("The request body must be a JSON object");
    };
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "workspaceGuid" | "userGuid")) {
        return bad(&format!("Unknown field {k}"));
    }
    let text = |k: &str| o.get(k).map(|v| v.as_str().unwrap_or("").to_owned());
    let visible = visible_workspaces(&inner, user);
    let ws_name = |id: &str| inner.catalog.workspace(id).map(|w| w.name.to_owned()).unwrap_or_default();
    let st = inner.state();
    let email_of = |guid: &str| st.scim.tenant_user_by_id(guid).map(|u| u.user_name).unwrap_or_default();
    let response: Vec<Value> = match (text("workspaceGuid"), text("userGuid")) {
        (Some(ws), None) => {
            if !is_guid(&ws) {
                return bad("workspaceGuid is invalid");
            }
            if !visible.contains(&ws) {
                return exception_error(StatusCode::NOT_FOUND, "FAILURE_NOT_FOUND", "Workspace not found");
            }
            let users: Vec<Value> = st
                .admin
                .exception
                .iter()
                .filter(|(w, _)| *w == ws)
                .map(|(_, u)| json!({ "userGuid": u, "email": email_of(u) }))
                .collect();
            vec![json!({ "workspaceGuid": ws, "workspaceName": ws_name(&ws), "users": users })]
        }
        (None, Some(u)) => {
            if !is_guid(&u) {
                return bad("userGuid is invalid");
            }
            if st.scim.tenant_user_by_id(&u).is_none() {
                return exception_error(StatusCode::NOT_FOUND, "FAILURE_NOT_FOUND", "User not found");
            }
            st.admin
                .exception
                .iter()
                .filter(|(w, x)| *x == u && visible.contains(w))
                .map(|(w, _)| {
                    json!({ "workspaceGuid": w, "workspaceName": ws_name(w), "users": [{ "userGuid": u, "email": email_of(&u) }] })
                })
                .collect()
        }
        (None, None) => return bad("No search criteria: give workspaceGuid or userGuid"),
        (Some(_), Some(_)) => return bad("Give exactly one of workspaceGuid and userGuid"),
    };
    Json(json!({ "response": response })).into_response()
}

/// `PATCH /admin/1/0/permissions/exception-users/users/{userGuid}`.
async fn change(
    State(inner): State<Arc<Inner>>,
    Path(target): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match exception_caller(&inner, &headers) {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    let bad = |m: &str| exception_error(StatusCode::BAD_REQUEST, "FAILURE_BAD_REQUEST", m);
    // The body is checked before the role (live-confirmed).
    let Some(o) = json_body(&headers, &body) else {
        return bad("The request body must be a JSON object");
    };
    let assign = match o.get("op").and_then(Value::as_str) {
        Some("assign") => true,
        Some("unassign") => false,
        _ => return bad("op must be assign or unassign"),
    };
    let ws = o.get("workspaceGuid").and_then(Value::as_str).unwrap_or("").to_owned();
    if !is_guid(&ws) {
        return bad("workspaceGuid is missing or invalid");
    }
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "op" | "workspaceGuid")) {
        return bad(&format!("Unknown field {k}"));
    }
    if !is_guid(&target) {
        return bad("userGuid is invalid");
    }
    let denied = |m: &str| exception_error(StatusCode::FORBIDDEN, "FAILURE_UNAUTHORIZED_USER_ACTION", m);
    if user != 0 || !inner.state().admin.roles.0 {
        return denied("The user does not have the Tenant Security Admin role");
    }
    if scim_user(user).id == target {
        return denied("Users cannot change their own exception-user status");
    }
    if inner.catalog.workspace(&ws).is_none() {
        return exception_error(StatusCode::NOT_FOUND, "FAILURE_NOT_FOUND", "Workspace not found");
    }
    let mut st = inner.state();
    let Some(target_user) = st.scim.tenant_user_by_id(&target) else {
        return exception_error(StatusCode::NOT_FOUND, "FAILURE_NOT_FOUND", "User not found");
    };
    if !st.admin.sso.contains(&ws) {
        return bad("The workspace is not SSO-enabled");
    }
    if !target_user.workspaces.contains(&ws) {
        return bad("The requested user is not found in the workspace");
    }
    let key = (ws, target_user.id);
    if assign {
        st.admin.exception.insert(key);
    } else {
        st.admin.exception.remove(&key);
    }
    StatusCode::NO_CONTENT.into_response()
}

// ------------------------------------------------------------------ Administration

fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let _ = w.write_record(fields);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `GET /admin/1/0/users/export`.
async fn export(State(inner): State<Arc<Inner>>, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(resp) = administrator(&inner, &headers) {
        return resp;
    }
    let q = query_pairs(uri.query());
    let number = |k: &str| -> Result<Option<usize>, Response> {
        match query_get(&q, k) {
            None => Ok(None),
            Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
                admin_error(StatusCode::BAD_REQUEST, "FAILURE_BAD_REQUEST", &format!("{k} must be a whole number"))
            }),
        }
    };
    let (limit, offset) = match (number("Limit"), number("Offset")) {
        (Ok(l), Ok(o)) => (l, o.unwrap_or(0)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let st = inner.state();
    let mut out = csv_line(&COLUMNS);
    for u in st.scim.tenant_users().into_iter().skip(offset).take(limit.unwrap_or(usize::MAX)) {
        let licenses = st.admin.licenses_of(&u.user_name);
        out.push_str(&csv_line(&[&u.user_name, &u.given_name, &u.family_name, &licenses]));
    }
    ([(header::CONTENT_TYPE, "text/csv")], out).into_response()
}

/// The part named `file` of a `multipart/form-data` body.
fn file_part<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<&'a [u8]> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (essence, params) = ct.split_once(';')?;
    if !essence.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())?;
    let delimiter = format!("--{boundary}");
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return None;
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
        let content = &rest[head_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes())?;
        let named_file = head
            .lines()
            .any(|l| l.starts_with("content-disposition:") && l.contains("form-data") && l.contains("name=\"file\""));
        if named_file {
            return Some(&content[..end]);
        }
        rest = &content[end + 2 + delimiter.len()..];
    }
}

/// `PUT /admin/1/0/users/import`.
async fn import(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(resp) = administrator(&inner, &headers) {
        return resp;
    }
    let bad = |m: &str| admin_error(StatusCode::BAD_REQUEST, "FAILURE_BAD_REQUEST", m);
    let Some(file) = file_part(&headers, &body) else {
        return bad("A CSV file is required (multipart/form-data, part file)");
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(file);
    let header_ok =
        reader.headers().map(|h| h.iter().map(str::trim).collect::<Vec<_>>() == COLUMNS.to_vec()).unwrap_or(false);
    if !header_ok {
        return bad("The CSV's columns must be username, first_name, last_name, licenses");
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        let Ok(r) = record else {
            return bad("The CSV file is malformed");
        };
        rows.push(r.iter().map(|c| c.trim().to_owned()).collect());
    }
    if rows.is_empty() {
        return bad("The CSV file has no data row");
    }
    if rows.len() > USER_IMPORT_MAX_ROWS {
        return bad(&format!("The CSV file has {} rows; at most {USER_IMPORT_MAX_ROWS} are allowed", rows.len()));
    }
    let mut seen = HashSet::new();
    for (i, r) in rows.iter().enumerate() {
        if r.len() != COLUMNS.len() || r.iter().any(String::is_empty) {
            return bad(&format!("Line {}: every cell must have a value", i + 1));
        }
        if !seen.insert(r[0].to_ascii_lowercase()) {
            return bad(&format!("Line {}: duplicate email address {}", i + 1, r[0]));
        }
    }
    let mut st = inner.state();
    let (mut created, mut updated, mut errors) = (0u64, 0u64, Vec::new());
    for (i, r) in rows.iter().enumerate() {
        let email_ok = r[0].split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
            && !r[0].contains(char::is_whitespace);
        let licenses: Vec<&str> = r[3].split(',').map(str::trim).collect();
        if !email_ok {
            errors.push(json!({ "line": i + 1, "message": format!("{} is not a valid email address", r[0]) }));
            continue;
        }
        if let Some(unknown) = licenses.iter().find(|l| !LICENSES.contains(l)) {
            errors.push(json!({ "line": i + 1, "message": format!("Unknown license {unknown}") }));
            continue;
        }
        if st.scim.upsert_tenant_user(&r[0], &r[1], &r[2]) {
            created += 1;
        } else {
            updated += 1;
        }
        st.admin.licenses.insert(r[0].to_ascii_lowercase(), licenses.join(","));
    }
    st.admin.imports.push(rows.len());
    let answer = json!({ "accepted": rows.len(), "created": created, "updated": updated, "errors": errors });
    (StatusCode::MULTI_STATUS, Json(answer)).into_response()
}

/// `POST /_emulator/admin-roles?tenantSecurityAdmin=true|false&tenantAdministrator=true|false`:
/// the integration user's roles from now on (a parameter left out keeps its role).
async fn control(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let q = query_pairs(uri.query());
    let flag = |k: &str| -> Result<Option<bool>, Response> {
        match query_get(&q, k) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(api_error(StatusCode::BAD_REQUEST, &format!("{k} must be true or false"), uri.path())),
        }
    };
    let (security, administrator) = match (flag("tenantSecurityAdmin"), flag("tenantAdministrator")) {
        (Ok(s), Ok(a)) => (s, a),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut st = inner.state();
    if let Some(s) = security {
        st.admin.roles.0 = s;
    }
    if let Some(a) = administrator {
        st.admin.roles.1 = a;
    }
    StatusCode::NO_CONTENT.into_response()
}
