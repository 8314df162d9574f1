//! SCIM 2.0 users (`/scim/1/0/v2/Users`), as Anaplan serves them: `ListResponse` paging
//! (`startIndex` from 1, `count` at most 100), Anaplan's filter grammar ([`scim_filter`]),
//! create (201; at most 50 workspace entitlements per call), full replace (PUT), PATCH
//! (`add`/`remove`/`replace` on `entitlements`, `entitlements[type eq "WORKSPACE"]`,
//! `active`, `name.givenName`, `name.familyName`, `externalId`), and no DELETE (501).
//! Entitlements must name the seed's workspaces. Errors use SCIM's error shape
//! (`{"schemas": [...Error], "status": "400", "scimType", "detail"}`).
//!
//! Auth (checked by the gate, see [`auth_ok`]): a live Anaplan access token as
//! `AnaplanAuthToken` or `Bearer`, the tenant's SCIM API key as `Bearer`, or the basic-auth
//! user as HTTP `Basic` (all three live-confirmed).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::scim_filter;
use super::seed_users::{SCIM_MAX_COUNT, SCIM_MAX_ENTITLEMENTS_PER_CALL, SCIM_USER_COUNT, scim_user};
use super::util::{Ids, iso_timestamp_now, query_pairs};
use super::{Emulator, Inner};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const BASE: &str = "/scim/1/0/v2/Users";

/// The tenant's SCIM users and its SCIM API key.
pub struct ScimState {
    /// Users in creation order (the listing order).
    users: Vec<User>,
    /// The SCIM API key (a User Admin would make it in Administration).
    pub api_key: String,
    /// Requests authenticated with the API key.
    key_requests: usize,
    /// The media type of each accepted write body, in order.
    write_media: Vec<String>,
}

#[derive(Clone, Debug)]
struct User {
    id: String,
    user_name: String,
    given_name: String,
    family_name: String,
    external_id: Option<String>,
    active: bool,
    /// Workspace ids, in assignment order.
    workspaces: Vec<String>,
    created: String,
    last_modified: String,
}

impl Default for ScimState {
    fn default() -> Self {
        let created = "2025-01-06T09:00:00.000Z".to_owned();
        let users = (0..SCIM_USER_COUNT)
            .map(|n| {
                let s = scim_user(n);
                User {
                    id: s.id,
                    user_name: s.user_name,
                    given_name: s.given_name,
                    family_name: s.family_name,
                    external_id: s.external_id,
                    active: s.active,
                    workspaces: s.workspaces.into_iter().map(str::to_owned).collect(),
                    created: created.clone(),
                    last_modified: created.clone(),
                }
            })
            .collect();
        ScimState {
            users,
            api_key: format!("scim-{}", uuid::Uuid::new_v4().simple()),
            key_requests: 0,
            write_media: Vec::new(),
        }
    }
}

/// A tenant user as the administration APIs see it (`admin.rs`): the SCIM users are the
/// tenant's users.
#[derive(Clone, Debug)]
pub(super) struct TenantUser {
    pub id: String,
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    /// Workspace ids.
    pub workspaces: Vec<String>,
}

impl ScimState {
    /// Every tenant user, in listing order.
    pub(super) fn tenant_users(&self) -> Vec<TenantUser> {
        self.users.iter().map(tenant_user).collect()
    }

    /// The user with this id (case-insensitive, as SCIM compares ids).
    pub(super) fn tenant_user_by_id(&self, id: &str) -> Option<TenantUser> {
        self.users.iter().find(|u| u.id.eq_ignore_ascii_case(id)).map(tenant_user)
    }

    /// Creates the user `user_name` (active, no workspace) or renames the one there is;
    /// true when it was created.
    pub(super) fn upsert_tenant_user(&mut self, user_name: &str, given_name: &str, family_name: &str) -> bool {
        let now = iso_timestamp_now();
        if let Some(u) = self.users.iter_mut().find(|u| u.user_name.eq_ignore_ascii_case(user_name)) {
            u.given_name = given_name.to_owned();
            u.family_name = family_name.to_owned();
            u.last_modified = now;
            return false;
        }
        self.users.push(User {
            id: uuid::Uuid::new_v4().simple().to_string(),
            user_name: user_name.to_owned(),
            given_name: given_name.to_owned(),
            family_name: family_name.to_owned(),
            external_id: None,
            active: true,
            workspaces: Vec::new(),
            created: now.clone(),
            last_modified: now,
        });
        true
    }
}

fn tenant_user(u: &User) -> TenantUser {
    TenantUser {
        id: u.id.clone(),
        user_name: u.user_name.clone(),
        given_name: u.given_name.clone(),
        family_name: u.family_name.clone(),
        workspaces: u.workspaces.clone(),
    }
}

impl Emulator {
    /// The tenant's SCIM API key (also in `credentials.json` as `scimApiKey`).
    pub fn scim_api_key(&self) -> String {
        self.inner.state().scim.api_key.clone()
    }

    /// How many SCIM requests were authenticated with the API key.
    pub fn scim_key_requests(&self) -> usize {
        self.inner.state().scim.key_requests
    }

    /// The `Content-Type` media type of each SCIM write (POST, PUT, PATCH) the emulator
    /// took, in order: `application/scim+json` or `application/json`.
    pub fn scim_write_media_types(&self) -> Vec<String> {
        self.inner.state().scim.write_media.clone()
    }

    /// A SCIM user as the API shows it, by userName (case-insensitive).
    pub fn scim_user_by_name(&self, user_name: &str) -> Option<Value> {
        let st = self.inner.state();
        st.scim.users.iter().find(|u| u.user_name.eq_ignore_ascii_case(user_name)).map(|u| render(&self.inner, u))
    }
}

/// The SCIM routes.
pub fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route(&format!("{BASE}/{{id}}"), get(read).put(replace).patch(patch).delete(delete))
}

/// True when the request carries a live Anaplan access token (`AnaplanAuthToken` or
/// `Bearer`), the SCIM API key (`Bearer`) or the basic-auth user (`Basic`); counts API-key
/// uses.
pub fn auth_ok(inner: &Inner, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return false;
    };
    let token = token.trim();
    let mut st = inner.state();
    let live = st.access_tokens.get(token).is_some_and(|t| Instant::now() < t.expires_at);
    match scheme {
        "AnaplanAuthToken" => live,
        "Bearer" if live => true,
        // SCIM takes HTTP Basic too (live-confirmed): the basic-auth user's credentials.
        "Basic" => super::util::base64_decode(token)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|d| d.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())))
            .is_some_and(|(u, p)| st.basic_user.as_ref().is_some_and(|(bu, bp)| *bu == u && *bp == p)),
        "Bearer" if !token.is_empty() && token == st.scim.api_key => {
            st.scim.key_requests += 1;
            true
        }
        _ => false,
    }
}

/// SCIM's error answer.
pub fn error(status: StatusCode, scim_type: Option<&str>, detail: impl Into<String>) -> Response {
    let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": status.as_u16().to_string(), "detail": detail.into() });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    scim_json(status, &body)
}

fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/scim+json"));
    resp
}

fn render(inner: &Inner, u: &User) -> Value {
    let entitlements: Vec<Value> = u
        .workspaces
        .iter()
        .map(|w| {
            let name = inner.catalog.workspace(w).map(|ws| ws.name).unwrap_or_default();
            json!({ "value": w, "display": name, "type": "WORKSPACE" })
        })
        .collect();
    // Live answers add the same set twice more: ids and names, comma-delimited.
    let mut entitlements = entitlements;
    if !u.workspaces.is_empty() {
        let names: Vec<String> = u
            .workspaces
            .iter()
            .map(|w| format!("\"{}\"", inner.catalog.workspace(w).map(|ws| ws.name).unwrap_or_default()))
            .collect();
        entitlements.push(json!({ "value": u.workspaces.join(","), "type": "WORKSPACE_IDS" }));
        entitlements.push(json!({ "value": names.join(","), "type": "WORKSPACE_NAMES" }));
    }
    let mut v = json!({
        "schemas": [USER_SCHEMA],
        "id": u.id,
        "userName": u.user_name,
        "name": { "givenName": u.given_name, "familyName": u.family_name },
        "displayName": format!("{} {}", u.given_name, u.family_name),
        "active": u.active,
        "entitlements": entitlements,
        "meta": {
            "resourceType": "User",
            "created": u.created,
            "lastModified": u.last_modified,
            "location": format!("{}{BASE}/{}", inner.base_url, u.id),
        },
    });
    if let Some(e) = &u.external_id {
        v["externalId"] = json!(e);
    }
    v
}

fn int_param(pairs: &[(String, String)], key: &str, default: i64) -> Result<i64, Response> {
    match super::util::query_get(pairs, key) {
        None => Ok(default),
        Some(v) => v.trim().parse::<i64>().map_err(|_| {
            error(StatusCode::BAD_REQUEST, Some("invalidValue"), format!("{key} must be an integer, got {v:?}"))
        }),
    }
}

async fn list(State(inner): State<Arc<Inner>>, uri: axum::http::Uri) -> Response {
    let pairs = query_pairs(uri.query());
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !["filter", "startIndex", "count"].contains(&k.as_str())) {
        return error(StatusCode::BAD_REQUEST, Some("invalidValue"), format!("unsupported query parameter {k}"));
    }
    let filter = match super::util::query_get(&pairs, "filter") {
        None => None,
        Some(f) => match scim_filter::parse(f) {
            Ok(f) => Some(f),
            Err(e) => return error(StatusCode::BAD_REQUEST, Some("invalidFilter"), format!("Invalid filter: {e}")),
        },
    };
    let start = match int_param(&pairs, "startIndex", 1) {
        Ok(s) => s.max(1) as usize,
        Err(r) => return r,
    };
    let count = match int_param(&pairs, "count", SCIM_MAX_COUNT as i64) {
        Ok(c) => c.clamp(0, SCIM_MAX_COUNT as i64) as usize,
        Err(r) => return r,
    };
    let st = inner.state();
    let mut matched = Vec::new();
    for u in &st.scim.users {
        let v = render(&inner, u);
        let keep = match &filter {
            None => true,
            Some(f) => match scim_filter::matches(f, &v) {
                Ok(k) => k,
                Err(e) => {
                    return error(StatusCode::BAD_REQUEST, Some("invalidFilter"), format!("Invalid filter: {e}"));
                }
            },
        };
        if keep {
            matched.push(v);
        }
    }
    let total = matched.len();
    let page: Vec<Value> = matched.into_iter().skip(start - 1).take(count).collect();
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": page.len(),
            "Resources": page,
        }),
    )
}

fn unknown_user(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, None, format!("User {id} not found"))
}

async fn read(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>) -> Response {
    let st = inner.state();
    match st.scim.users.iter().find(|u| u.id == id) {
        Some(u) => scim_json(StatusCode::OK, &render(&inner, u)),
        None => unknown_user(&id),
    }
}

async fn delete(Ids(_id): Ids<String>) -> Response {
    error(StatusCode::NOT_IMPLEMENTED, None, "Deleting users is not supported; set active to false instead")
}

fn bad(detail: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
}

/// The JSON body of a SCIM write. The description documents `application/scim+json` for
/// every SCIM request body; whether live Anaplan also takes `application/json` is not
/// verified, so both are taken (and recorded, so tests can tell which came). Any other
/// media type is SCIM's 400.
fn body_json(inner: &Inner, headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media != "application/scim+json" && media != "application/json" {
        return Err(error(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "Content-Type must be application/scim+json",
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), format!("Malformed JSON: {e}")))?;
    if !v.is_object() {
        return Err(error(StatusCode::BAD_REQUEST, Some("invalidSyntax"), "the body must be a JSON object"));
    }
    inner.state().scim.write_media.push(media);
    Ok(v)
}

fn has_schema(v: &Value, schema: &str) -> bool {
    v.get("schemas").and_then(Value::as_array).is_some_and(|a| a.iter().any(|s| s.as_str() == Some(schema)))
}

/// Workspace ids from an entitlement list, checked against the seed's workspaces (each
/// entry counts towards the per-call limit, repeated or not).
fn entitlements(inner: &Inner, v: &Value) -> Result<Vec<String>, Response> {
    let Some(items) = v.as_array() else {
        return Err(bad("entitlements must be an array"));
    };
    let mut out: Vec<String> = Vec::new();
    for e in items {
        let Some(value) = e.get("value").and_then(Value::as_str) else {
            return Err(bad("each entitlement needs a value (the workspace id)"));
        };
        if let Some(t) = e.get("type")
            && t.as_str() != Some("WORKSPACE")
        {
            return Err(bad(format!("entitlement type must be WORKSPACE, got {t}")));
        }
        if inner.catalog.workspace(value).is_none() {
            return Err(bad(format!("Workspace {value} not found")));
        }
        if !out.iter().any(|w| w == value) {
            out.push(value.to_owned());
        }
    }
    Ok(out)
}

fn too_many(n: usize) -> Option<Response> {
    (n > SCIM_MAX_ENTITLEMENTS_PER_CALL).then(|| {
        bad(format!("At most {SCIM_MAX_ENTITLEMENTS_PER_CALL} workspaces can be assigned in one request, got {n}"))
    })
}

fn string_field(v: &Value, key: &str) -> Result<Option<String>, Response> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

/// A whole user from a POST or PUT body.
fn user_from(inner: &Inner, v: &Value, id: String, created: String) -> Result<User, Response> {
    if !has_schema(v, USER_SCHEMA) {
        return Err(bad(format!("schemas must include {USER_SCHEMA}")));
    }
    let user_name =
        string_field(v, "userName")?.filter(|s| !s.trim().is_empty()).ok_or_else(|| bad("userName is required"))?;
    let name = v.get("name").cloned().unwrap_or(Value::Null);
    let given_name = string_field(&name, "givenName")?.unwrap_or_default();
    let family_name = string_field(&name, "familyName")?.unwrap_or_default();
    let active = match v.get("active") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("active must be a boolean")),
    };
    let workspaces = match v.get("entitlements") {
        None | Some(Value::Null) => Vec::new(),
        Some(e) => {
            if let Some(r) = too_many(e.as_array().map_or(0, Vec::len)) {
                return Err(r);
            }
            entitlements(inner, e)?
        }
    };
    let now = iso_timestamp_now();
    Ok(User {
        id,
        user_name,
        given_name,
        family_name,
        external_id: string_field(v, "externalId")?,
        active,
        workspaces,
        created,
        last_modified: now,
    })
}

async fn create(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let v = match body_json(&inner, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let user = match user_from(&inner, &v, id, iso_timestamp_now()) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut st = inner.state();
    if st.scim.users.iter().any(|u| u.user_name.eq_ignore_ascii_case(&user.user_name)) {
        return error(StatusCode::CONFLICT, Some("uniqueness"), format!("User {} already exists", user.user_name));
    }
    let out = render(&inner, &user);
    st.scim.users.push(user);
    let mut resp = scim_json(StatusCode::CREATED, &out);
    if let Some(Ok(loc)) = out.pointer("/meta/location").and_then(Value::as_str).map(HeaderValue::from_str) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

async fn replace(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, headers: HeaderMap, body: Bytes) -> Response {
    let v = match body_json(&inner, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut st = inner.state();
    let Some(pos) = st.scim.users.iter().position(|u| u.id == id) else {
        return unknown_user(&id);
    };
    let created = st.scim.users[pos].created.clone();
    let user = match user_from(&inner, &v, id, created) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if st.scim.users.iter().enumerate().any(|(i, u)| i != pos && u.user_name.eq_ignore_ascii_case(&user.user_name)) {
        return error(StatusCode::CONFLICT, Some("uniqueness"), format!("User {} already exists", user.user_name));
    }
    let out = render(&inner, &user);
    st.scim.users[pos] = user;
    scim_json(StatusCode::OK, &out)
}

async fn patch(State(inner): State<Arc<Inner>>, Ids(id): Ids<String>, headers: HeaderMap, body: Bytes) -> Response {
    let v = match body_json(&inner, &headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !has_schema(&v, PATCH_SCHEMA) {
        return bad(format!("schemas must include {PATCH_SCHEMA}"));
    }
    let Some(ops) = v.get("Operations").and_then(Value::as_array).filter(|o| !o.is_empty()) else {
        return bad("Operations must be a non-empty array");
    };
    let mut st = inner.state();
    let Some(pos) = st.scim.users.iter().position(|u| u.id == id) else {
        return unknown_user(&id);
    };
    // Applied to a copy: one bad operation changes nothing.
    let mut user = st.scim.users[pos].clone();
    let mut assigned = 0usize;
    for op in ops {
        if let Err(r) = apply(&inner, &mut user, op, &mut assigned) {
            return r;
        }
    }
    if let Some(r) = too_many(assigned) {
        return r;
    }
    user.last_modified = iso_timestamp_now();
    let out = render(&inner, &user);
    st.scim.users[pos] = user;
    scim_json(StatusCode::OK, &out)
}

fn apply(inner: &Inner, user: &mut User, op: &Value, assigned: &mut usize) -> Result<(), Response> {
    let kind = op.get("op").and_then(Value::as_str).map(str::to_ascii_lowercase).unwrap_or_default();
    if !["add", "remove", "replace"].contains(&kind.as_str()) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            format!("op must be add, remove or replace, got {}", op["op"]),
        ));
    }
    let Some(path) = op.get("path").and_then(Value::as_str) else {
        return Err(error(StatusCode::BAD_REQUEST, Some("noTarget"), "each operation needs a path"));
    };
    let value = op.get("value");
    let path_key = path.replace(' ', "").to_ascii_lowercase();
    let invalid_path =
        || error(StatusCode::BAD_REQUEST, Some("invalidPath"), format!("path {path:?} is not supported"));
    match path_key.as_str() {
        "entitlements" | "entitlements[typeeq\"workspace\"]" => {
            let given = match value {
                None | Some(Value::Null) => None,
                Some(v) => {
                    if kind != "remove" {
                        *assigned += v.as_array().map_or(0, Vec::len);
                    }
                    Some(entitlements(inner, v)?)
                }
            };
            match (kind.as_str(), given) {
                ("remove", None) => user.workspaces.clear(),
                ("remove", Some(ws)) => user.workspaces.retain(|w| !ws.contains(w)),
                ("add", Some(ws)) => {
                    for w in ws {
                        if !user.workspaces.contains(&w) {
                            user.workspaces.push(w);
                        }
                    }
                }
                ("replace", Some(ws)) => user.workspaces = ws,
                _ => return Err(bad(format!("{kind} of {path} needs a value"))),
            }
        }
        "active" => match (kind.as_str(), value) {
            ("add" | "replace", Some(Value::Bool(b))) => user.active = *b,
            ("remove", _) => {
                return Err(error(StatusCode::BAD_REQUEST, Some("mutability"), "active cannot be removed"));
            }
            _ => return Err(bad("active must be a boolean")),
        },
        "name.givenname" | "name.familyname" | "externalid" => {
            let text = match (kind.as_str(), value) {
                ("add" | "replace", Some(Value::String(s))) => Some(s.clone()),
                ("remove", _) if path_key == "externalid" => None,
                ("remove", _) => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        Some("mutability"),
                        format!("{path} cannot be removed"),
                    ));
                }
                _ => return Err(bad(format!("{path} must be a string"))),
            };
            match path_key.as_str() {
                "name.givenname" => user.given_name = text.unwrap_or_default(),
                "name.familyname" => user.family_name = text.unwrap_or_default(),
                _ => user.external_id = text,
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

/// A user as the Integration API's `GET /2/0/users` shows it (`workspace_access.rs`): the
/// SCIM users are the tenant's users.
pub(super) struct ApiUser {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub active: bool,
}

impl ScimState {
    /// Every user, in listing order, as the Integration API shows them.
    pub(super) fn api_users(&self) -> Vec<ApiUser> {
        self.users
            .iter()
            .map(|u| ApiUser {
                id: u.id.clone(),
                email: u.user_name.clone(),
                first_name: u.given_name.clone(),
                last_name: u.family_name.clone(),
                active: u.active,
            })
            .collect()
    }
}
