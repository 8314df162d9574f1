//! `access-review`: who has access to which workspace, one row per user and workspace, for
//! a periodic access review. It joins what the Integration API tells (the tenant's users,
//! `GET /users`; each workspace's administrators and visitors, `GET /workspaces/{id}/admins`
//! and `.../visitors`) with SCIM's workspace entitlements when SCIM is configured
//! (`ANAPLAN_SCIM_URL` or `ANAPLAN_SCIM_API_KEY`). Every page of every listing is read.
//!
//! - **Rows.** `admin` from the administrators list, `visitor` from the visitors list, `user`
//!   from a SCIM workspace entitlement: the Integration API has no per-workspace user list
//!   (its description says so: `/users` is tenant-wide), so without SCIM there are no `user`
//!   rows, only administrators and visitors.
//! - **One row per user and workspace**, with the strongest role: admin > user > visitor.
//! - **Joining.** Administrators and visitors carry no user id (the description's `Admin` and
//!   `Visitor`): each is matched with a tenant user by email (case-insensitive), else by first
//!   and last name when exactly one tenant user has them; a member matched with none keeps
//!   `userId` and `lastLoginDate` null. SCIM users are matched by id. `active` is the
//!   listing's own (the administrators or visitors list, SCIM), else the tenant user's.
//! - **Order.** Workspaces as Anaplan lists them; in each, administrators, then users, then
//!   visitors, each by email.
//! - `format=csv`: the same rows and columns, with a header row.
//!
//! Listing administrators and visitors needs the User Administrator role ("tenant admin
//! privilege"); live Anaplan answers a caller without it with a 500 (the description's
//! README), which this function passes on as a 502 saying so.

use std::collections::HashMap;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, ObjectRef, Problem, ProblemType};
use crate::machinery::declare::{
    Answer, Function, Group, Input, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::prop;
use anaplan::access::{TenantUser, WorkspaceMember};
use anaplan::catalog::pick;
use anaplan::ids::WorkspaceId;
use anaplan::scim::ScimUser;
use anaplan::{AnaplanError, Listing, Named};

const FORMAT: Param = Param::choice(
    "format",
    &["json", "csv"],
    "Format",
    "json (the default) or csv: the same rows and columns, with a header row.",
)
.default("json")
.advanced();

/// The columns, in the order of every row (JSON keys and CSV columns alike).
pub const COLUMNS: [&str; 9] =
    ["userId", "email", "firstName", "lastName", "workspaceId", "workspaceName", "role", "active", "lastLoginDate"];

/// `access-review`.
pub const FUNCTION: Function = Function {
    name: "access-review",
    trigger: Trigger::Http { methods: &[Method::GET], body: RequestBody::Parameters },
    inputs: &[Input::Object(Object::Workspace), Input::Param(FORMAT)],
    long_running: None,
    operation: Some(Operation {
        id: "ReviewAccess",
        summary: "Review who has access to workspaces",
        description: "One row per user and workspace with the strongest role (admin, user, visitor), the user's \
                      email, names, whether active and their last login, for one workspace or (leave the workspace \
                      empty) every workspace the connection's identity sees. Administrators and visitors come from \
                      Anaplan's workspace lists; users from SCIM workspace entitlements when SCIM is configured \
                      (ANAPLAN_SCIM_URL or ANAPLAN_SCIM_API_KEY), else there are no user rows. Needs the User \
                      Administrator role in Anaplan.",
        important: true,
        consumes: &[],
        produces: &["application/json", "text/csv", "application/problem+json"],
        ok: Answer { description: "The access rows.", schema: "AccessRow", array: true },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "AccessRow", build: row_schema }],
    group: Some(Group::Users),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `#/definitions/AccessRow`: one user's access to one workspace.
fn row_schema() -> Value {
    json!({
        "type": "object",
        "description": "A user's access to a workspace, with the strongest role they have there.",
        "properties": {
            "userId": prop("string", "User ID", "Anaplan's user id (null for an administrator or visitor no tenant user matches)."),
            "email": prop("string", "Email", "The user's login, an email address."),
            "firstName": prop("string", "First name", "Given name."),
            "lastName": prop("string", "Last name", "Family name."),
            "workspaceId": prop("string", "Workspace ID", "The workspace's id."),
            "workspaceName": prop("string", "Workspace", "The workspace's name."),
            "role": {
                "type": "string",
                "enum": ["admin", "user", "visitor"],
                "x-ms-summary": "Role",
                "description": "admin (workspace administrator), user (a SCIM workspace entitlement) or visitor; the strongest when several apply.",
            },
            "active": prop("boolean", "Active", "Whether the user may sign in."),
            "lastLoginDate": prop("string", "Last login", "When the user last signed in, as Anaplan reports it (null: never, or not known)."),
        },
    })
}

/// A role, weakest first (the derived order is the strength).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Visitor,
    User,
    Admin,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
            Role::Visitor => "visitor",
        }
    }
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    user_id: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    workspace: usize,
    role: Role,
    active: Option<bool>,
    last_login_date: Option<String>,
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params()?;
    let only = match (params.get("workspaceId"), params.get("workspaceName")) {
        (None, None) => None,
        _ => Some(params.object::<WorkspaceId>("workspace")?),
    };
    let csv = params.choice(&FORMAT)? == Some("csv");
    let client = call.client(state)?;
    let listing = state.catalog.list(&client, &Listing::Workspaces).await?;
    let workspaces: Vec<Named> = match only {
        None => listing.to_vec(),
        Some(ObjectRef::Name(name)) => vec![pick("workspace", &listing, &name)?],
        Some(ObjectRef::Id(id)) => {
            vec![listing.iter().find(|w| w.id == id.as_str()).cloned().ok_or_else(|| {
                Problem::new(
                    ProblemType::NotFound,
                    format!("no workspace with id {id} is among the {} this identity sees", listing.len()),
                )
            })?]
        }
    };
    let users = client.tenant_users().await?;
    let scim_users =
        if state.scim.configured().await? { Some(state.scim.client(&client).await?.users(None).await?) } else { None };
    let mut members = Vec::with_capacity(workspaces.len());
    for w in &workspaces {
        let id = WorkspaceId::parse(&w.id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
        let admins = client.workspace_admins(&id).await.map_err(|e| role_hint(e, "administrators"))?;
        let visitors = client.workspace_visitors(&id).await.map_err(|e| role_hint(e, "visitors"))?;
        members.push((admins, visitors));
    }
    let rows = review(&workspaces, &members, &users, scim_users.as_deref());
    tracing::info!(workspaces = workspaces.len(), rows = rows.len(), scim = scim_users.is_some(), "access reviewed");
    if csv { csv_answer(&rows, &workspaces) } else { Ok(json_answer(StatusCode::OK, &json_rows(&rows, &workspaces))) }
}

/// Live Anaplan answers the administrators and visitors lists with a 500 when the identity
/// lacks the User Administrator role: the problem says so (still a 502, since a 500 may as
/// well be Anaplan failing).
fn role_hint(e: AnaplanError, what: &str) -> Problem {
    match e {
        AnaplanError::Api { status: 500, message, retry_after } => {
            let p = Problem::new(
                ProblemType::AnaplanUnavailable,
                format!(
                    "Anaplan answered 500 to the list of the workspace's {what}: {message}. Live Anaplan answers 500 \
                     there when the identity does not have the User Administrator role (tenant admin privilege; \
                     workspace administrator is not enough): check the identity's role"
                ),
            )
            .with("anaplan", json!({ "status": 500, "message": message }));
            match retry_after {
                Some(s) => p.retry_after(s),
                None => p,
            }
        }
        other => Problem::from(other),
    }
}

/// Tenant users by lowercase email, by id, and by (first, last) name when only one has it.
struct Directory<'a> {
    by_email: HashMap<String, &'a TenantUser>,
    by_id: HashMap<&'a str, &'a TenantUser>,
    by_name: HashMap<(String, String), Option<&'a TenantUser>>,
}

impl<'a> Directory<'a> {
    fn new(users: &'a [TenantUser]) -> Self {
        let mut d = Directory { by_email: HashMap::new(), by_id: HashMap::new(), by_name: HashMap::new() };
        for u in users {
            if let Some(e) = &u.email {
                d.by_email.entry(e.to_lowercase()).or_insert(u);
            }
            d.by_id.entry(u.id.as_str()).or_insert(u);
            if let (Some(f), Some(l)) = (&u.first_name, &u.last_name) {
                d.by_name.entry((f.clone(), l.clone())).and_modify(|found| *found = None).or_insert(Some(u));
            }
        }
        d
    }

    fn member(&self, m: &WorkspaceMember) -> Option<&'a TenantUser> {
        if let Some(u) = m.email.as_deref().and_then(|e| self.by_email.get(&e.to_lowercase())) {
            return Some(u);
        }
        match (&m.first_name, &m.last_name) {
            (Some(f), Some(l)) => self.by_name.get(&(f.clone(), l.clone())).copied().flatten(),
            _ => None,
        }
    }

    fn scim(&self, u: &ScimUser) -> Option<&'a TenantUser> {
        self.by_id.get(u.id.as_str()).or_else(|| self.by_email.get(&u.user_name.to_lowercase())).copied()
    }
}

/// The rows: one per user and workspace (workspaces by index into `workspaces`), the
/// strongest role kept, in the answer's order.
fn review(
    workspaces: &[Named],
    members: &[(Vec<WorkspaceMember>, Vec<WorkspaceMember>)],
    users: &[TenantUser],
    scim: Option<&[ScimUser]>,
) -> Vec<Row> {
    let directory = Directory::new(users);
    let mut rows: Vec<Row> = Vec::new();
    // (workspace, person) → index in rows.
    let mut seen: HashMap<(usize, String), usize> = HashMap::new();
    let mut put = |row: Row| {
        let person = match (&row.user_id, &row.email) {
            (Some(id), _) => format!("id:{id}"),
            (None, Some(e)) => format!("email:{}", e.to_lowercase()),
            (None, None) => format!(
                "name:{}\u{0}{}",
                row.first_name.as_deref().unwrap_or(""),
                row.last_name.as_deref().unwrap_or("")
            ),
        };
        match seen.get(&(row.workspace, person.clone())) {
            Some(&i) if rows[i].role >= row.role => {}
            Some(&i) => rows[i] = row,
            None => {
                seen.insert((row.workspace, person), rows.len());
                rows.push(row);
            }
        }
    };
    let text = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    for (w, (admins, visitors)) in members.iter().enumerate() {
        for (list, role) in [(admins, Role::Admin), (visitors, Role::Visitor)] {
            for m in list {
                let u = directory.member(m);
                put(Row {
                    user_id: u.map(|u| u.id.clone()),
                    email: text(&m.email).or_else(|| u.and_then(|u| text(&u.email))),
                    first_name: text(&m.first_name).or_else(|| u.and_then(|u| text(&u.first_name))),
                    last_name: text(&m.last_name).or_else(|| u.and_then(|u| text(&u.last_name))),
                    workspace: w,
                    role,
                    active: m.active.or_else(|| u.and_then(|u| u.active)),
                    last_login_date: u.and_then(|u| u.last_login_date.clone()),
                });
            }
        }
    }
    let index: HashMap<&str, usize> = workspaces.iter().enumerate().map(|(i, w)| (w.id.as_str(), i)).collect();
    for s in scim.unwrap_or_default() {
        let u = directory.scim(s);
        for e in s.workspaces() {
            let Some(&w) = index.get(e.value.as_str()) else { continue };
            put(Row {
                user_id: Some(s.id.clone()),
                email: Some(s.user_name.clone()),
                first_name: Some(s.given_name().to_owned()).filter(|n| !n.is_empty()),
                last_name: Some(s.family_name().to_owned()).filter(|n| !n.is_empty()),
                workspace: w,
                role: Role::User,
                active: Some(s.active),
                last_login_date: u.and_then(|u| u.last_login_date.clone()),
            });
        }
    }
    rows.sort_by(|a, b| {
        let email = |r: &Row| r.email.as_deref().unwrap_or("").to_lowercase();
        (a.workspace, std::cmp::Reverse(a.role), email(a), &a.user_id).cmp(&(
            b.workspace,
            std::cmp::Reverse(b.role),
            email(b),
            &b.user_id,
        ))
    });
    rows
}

fn json_rows(rows: &[Row], workspaces: &[Named]) -> Value {
    rows.iter()
        .map(|r| {
            let w = &workspaces[r.workspace];
            json!({
                "userId": r.user_id,
                "email": r.email,
                "firstName": r.first_name,
                "lastName": r.last_name,
                "workspaceId": w.id,
                "workspaceName": w.name,
                "role": r.role.as_str(),
                "active": r.active,
                "lastLoginDate": r.last_login_date,
            })
        })
        .collect()
}

/// The rows as CSV ([`COLUMNS`] first; null is an empty field).
fn csv_answer(rows: &[Row], workspaces: &[Named]) -> Result<Response, Problem> {
    let failed = |e: csv::Error| {
        tracing::error!(error = %e, "access-review: the CSV could not be written");
        Problem::new(ProblemType::InternalError, "the CSV could not be written")
    };
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    out.write_record(COLUMNS).map_err(failed)?;
    for r in rows {
        let w = &workspaces[r.workspace];
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        out.write_record([
            opt(&r.user_id),
            opt(&r.email),
            opt(&r.first_name),
            opt(&r.last_name),
            w.id.clone(),
            w.name.clone(),
            r.role.as_str().to_owned(),
            r.active.map(|a| a.to_string()).unwrap_or_default(),
            opt(&r.last_login_date),
        ])
        .map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| failed(e.into_error().into()))?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anaplan::scim::{Entitlement, ScimName};

    fn ws(n: usize) -> Named {
        Named { id: format!("{n:032x}"), name: format!("WS {n}") }
    }

    fn tenant(id: &str, email: &str, first: &str, last: &str) -> TenantUser {
        TenantUser {
            id: id.into(),
            email: Some(email.into()),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            active: Some(true),
            last_login_date: Some(format!("login of {id}")),
        }
    }

    fn member(email: Option<&str>, first: &str, last: &str) -> WorkspaceMember {
        WorkspaceMember {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: email.map(Into::into),
            active: Some(true),
            other_workspaces: Vec::new(),
        }
    }

    fn scim(id: &str, email: &str, workspaces: &[&Named]) -> ScimUser {
        ScimUser {
            id: id.into(),
            user_name: email.into(),
            external_id: None,
            name: Some(ScimName { given_name: Some("S".into()), family_name: Some("Cim".into()) }),
            active: true,
            entitlements: workspaces
                .iter()
                .map(|w| Entitlement { value: w.id.clone(), display: None, kind: Some("WORKSPACE".into()) })
                .collect(),
        }
    }

    #[test]
    fn one_row_per_user_and_workspace_with_the_strongest_role() {
        let (a, b) = (ws(1), ws(2));
        let users = [tenant("u1", "ada@example.com", "Ada", "Lovelace"), tenant("u2", "bob@example.com", "Bob", "B")];
        let members = vec![
            // Ada administers A and visits it too (the email's case differs); Bob visits A.
            (
                vec![member(Some("Ada@Example.com"), "Ada", "Lovelace")],
                vec![member(Some("ada@example.com"), "Ada", "Lovelace"), member(Some("bob@example.com"), "Bob", "B")],
            ),
            (vec![], vec![member(Some("bob@example.com"), "Bob", "B")]),
        ];
        // SCIM: Ada has A (admin stays), Bob has B (user beats visitor).
        let scim_users = [scim("u1", "ada@example.com", &[&a]), scim("u2", "bob@example.com", &[&b])];
        let rows = review(&[a.clone(), b.clone()], &members, &users, Some(&scim_users));
        let got: Vec<(usize, Option<&str>, Role)> =
            rows.iter().map(|r| (r.workspace, r.user_id.as_deref(), r.role)).collect();
        assert_eq!(got, [(0, Some("u1"), Role::Admin), (0, Some("u2"), Role::Visitor), (1, Some("u2"), Role::User)]);
        assert_eq!(rows[0].last_login_date.as_deref(), Some("login of u1"));
        // Without SCIM: no user rows.
        let rows = review(&[a, b], &members, &users, None);
        assert!(rows.iter().all(|r| r.role != Role::User));
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn a_member_without_email_is_matched_by_a_unique_name_only() {
        let a = ws(1);
        let users = [
            tenant("u1", "jane@example.com", "Jane", "Smith"),
            tenant("u2", "j1@example.com", "John", "Doe"),
            tenant("u3", "j2@example.com", "John", "Doe"),
        ];
        // The description's own example: an admin without email.
        let members = vec![(vec![member(None, "Jane", "Smith"), member(None, "John", "Doe")], vec![])];
        let rows = review(std::slice::from_ref(&a), &members, &users, None);
        assert_eq!(rows.len(), 2);
        let jane = rows.iter().find(|r| r.first_name.as_deref() == Some("Jane")).unwrap();
        assert_eq!((jane.user_id.as_deref(), jane.email.as_deref()), (Some("u1"), Some("jane@example.com")));
        let john = rows.iter().find(|r| r.first_name.as_deref() == Some("John")).unwrap();
        assert_eq!((john.user_id.as_deref(), john.email.as_deref(), &john.last_login_date), (None, None, &None));
    }

    #[test]
    fn the_csv_has_the_json_columns_in_order_and_quotes_what_needs_it() {
        let a = Named { id: "8a81b09d599f3c6e0159f605560c2630".into(), name: "FP&A, \"Planning\"".into() };
        let rows = [Row {
            user_id: None,
            email: Some("x@example.com".into()),
            first_name: Some("X".into()),
            last_name: None,
            workspace: 0,
            role: Role::Visitor,
            active: Some(false),
            last_login_date: None,
        }];
        let resp = csv_answer(&rows, std::slice::from_ref(&a)).unwrap();
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        let json = json_rows(&rows, std::slice::from_ref(&a));
        let keys: Vec<&String> = json[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, COLUMNS);
    }
}
