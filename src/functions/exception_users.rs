//! `exception-users`: the users allowed to bypass SSO, through Anaplan's Exception Users API.
//! Anaplan keeps them per workspace, so every row names its workspace.
//!
//! GET (any user may search; Anaplan bounds the answer by the workspaces the identity sees):
//! - with `workspace*` and without `email`/`userGuid`: that workspace's exception users;
//! - with `workspace*` and `email` or `userGuid`: one row saying whether that user is one there;
//! - without `workspace*`, with `email` or `userGuid`: a row per workspace where the user is
//!   one, or a single row with `exceptionUser: false` (and no workspace) where they are none;
//! - with neither: every exception user of every workspace the identity sees.
//!
//! POST `action=grant|revoke` with `workspace*` and a body `{"email"}` or `{"userGuid"}`:
//! afterwards the user is (grant) or is not (revoke) an exception user of that workspace;
//! nothing is written when it already is so (`changed: false`). Anaplan's change needs the
//! Tenant Security Admin role, an SSO-enabled workspace the user is in, and a user other than
//! the identity itself: its refusals come back as 403 or 400 with its message.
//!
//! Users are named by email or by GUID. Either is looked up in SCIM (`userName eq`, `id eq`):
//! one exact request whatever the tenant's size, and a 404 for a user who does not exist; the
//! SCIM id is the Anaplan user GUID (SCIM's description says so).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, Params, Problem, ProblemType};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::prop;
use anaplan::Listing;
use anaplan::admin::{Admin, ExceptionWorkspace, UserGuid};
use anaplan::ids::{ObjectRef, WorkspaceId};
use anaplan::scim::Filter;
use anaplan::untrusted::quote;

const EMAIL: Param = Param::text(
    "email",
    "Email",
    "The user's email address (their Anaplan user name), exactly. GET: only this user; POST: the user to grant or \
     revoke. Or give userGuid instead.",
);

const USER_GUID: Param =
    Param::text("userGuid", "User GUID", "The user's Anaplan id (32 hexadecimal characters), instead of email.")
        .advanced();

/// `action` of a POST.
pub const ACTION: Param = Param::choice(
    "action",
    &["grant", "revoke"],
    "Action",
    "grant: the user may bypass SSO in the workspace (an exception user); revoke: no longer.",
);

/// `exception-users`.
pub const FUNCTION: Function = Function {
    name: "exception-users",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Object(Object::Workspace), Input::Param(EMAIL), Input::Param(USER_GUID)],
    long_running: None,
    operation: Some(Operation {
        id: "ListExceptionUsers",
        summary: "List SSO exception users",
        description: "Lists the users allowed to bypass SSO (exception users), per workspace: a workspace's, or with \
                      an email the workspaces where that user is one (exceptionUser: false when none), or without \
                      either every exception user of every workspace the identity sees. The workspace is optional \
                      here.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer {
            description: "The exception users, one row per user and workspace.",
            schema: "ExceptionUser",
            array: true,
        },
    }),
    more_operations: &[CHANGE_OPERATION],
    schemas: &[
        Schema { name: "ExceptionUser", build: exception_user_schema },
        Schema { name: "ExceptionUserChange", build: change_schema },
        Schema { name: "ExceptionUserChangeResult", build: change_result_schema },
    ],
    group: Some(Group::Users),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `exception-users`' POST in the connector: grant or revoke.
pub const CHANGE_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Object(Object::Workspace), Input::Param(ACTION.required())],
    body: Some("ExceptionUserChange"),
    operation: Operation {
        id: "ChangeExceptionUser",
        summary: "Grant or revoke an SSO exception",
        description: "grant: the user may sign in to the workspace without SSO (an exception user); revoke: no \
                      longer. The workspace must be SSO-enabled and the user in it; needs the Tenant Security Admin \
                      role in Anaplan. Repeating a request changes nothing and answers changed: false.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The user's status afterwards.", schema: "ExceptionUserChangeResult", array: false },
    },
    accepted: None,
};

fn row_properties() -> serde_json::Map<String, Value> {
    let v = json!({
        "userGuid": prop("string", "User GUID", "The user's Anaplan id."),
        "email": prop("string", "Email", "The user's email address."),
        "exceptionUser": prop("boolean", "Exception user", "Whether the user may bypass SSO in the workspace."),
        "workspaceId": prop("string", "Workspace ID", "The workspace (null on a row saying the user is an exception user nowhere)."),
        "workspaceName": prop("string", "Workspace name", "The workspace's name."),
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// `#/definitions/ExceptionUser`.
fn exception_user_schema() -> Value {
    json!({ "type": "object", "description": "A user and whether they may bypass SSO in a workspace.", "properties": row_properties() })
}

/// `#/definitions/ExceptionUserChange`: the body of a POST.
fn change_schema() -> Value {
    json!({
        "type": "object",
        "description": "The user to grant or revoke: email or userGuid.",
        "properties": {
            "email": prop("string", "Email", "The user's email address (their Anaplan user name)."),
            "userGuid": prop("string", "User GUID", "Or the user's Anaplan id (32 hexadecimal characters)."),
        },
    })
}

/// `#/definitions/ExceptionUserChangeResult`.
fn change_result_schema() -> Value {
    let mut props = row_properties();
    props.insert(
        "changed".into(),
        prop("boolean", "Changed", "False when the user already was as asked (nothing was written)."),
    );
    json!({ "type": "object", "description": "The user's status afterwards.", "properties": props })
}

/// A user named by email or GUID.
#[derive(Debug, Clone)]
enum UserRef {
    Email(String),
    Guid(UserGuid),
}

/// A user as SCIM knows them.
struct User {
    guid: UserGuid,
    email: String,
}

/// The user a request names, if any: exactly one of `email` and `userGuid`, checked.
fn user_ref(params: &Params) -> Result<Option<UserRef>, Problem> {
    match (params.get(EMAIL.name), params.get(USER_GUID.name)) {
        (Some(_), Some(_)) => Err(Problem::bad_parameter("give either email or userGuid, not both")),
        (Some(email), None) => {
            let ok = email.chars().count() <= 255
                && !email.chars().any(|c| c.is_control() || c.is_whitespace())
                && email.split_once('@').is_some_and(|(a, d)| !a.is_empty() && !d.is_empty());
            if ok {
                Ok(Some(UserRef::Email(email.to_owned())))
            } else {
                Err(Problem::bad_parameter(format!("email must be an email address; got {}", quote(email))))
            }
        }
        (None, Some(guid)) => {
            UserGuid::parse(guid).map(|g| Some(UserRef::Guid(g))).map_err(|e| Problem::bad_parameter(e.to_string()))
        }
        (None, None) => Ok(None),
    }
}

/// The workspace a request names, if any.
fn workspace_ref(params: &Params) -> Result<Option<ObjectRef<WorkspaceId>>, Problem> {
    if params.get("workspaceId").is_none() && params.get("workspaceName").is_none() {
        return Ok(None);
    }
    params.object("workspace").map(Some)
}

/// Looks the user up in SCIM: a 404 when nobody has that email or GUID.
async fn resolve(state: &AppState, client: &anaplan::Client, user: &UserRef) -> Result<User, Problem> {
    let scim = state.scim.client(client).await?;
    let found = match user {
        UserRef::Email(email) => scim.user_named(email).await?,
        UserRef::Guid(guid) => {
            // A checked GUID (hex digits only) needs no escaping in the filter.
            let filter =
                Filter::parse(&format!("id eq \"{guid}\"")).map_err(|e| Problem::bad_parameter(e.to_string()))?;
            scim.users(Some(&filter)).await?.into_iter().find(|u| u.id.eq_ignore_ascii_case(guid.as_str()))
        }
    };
    let Some(u) = found else {
        let what = match user {
            UserRef::Email(e) => format!("the email {}", quote(e)),
            UserRef::Guid(g) => format!("the id {g}"),
        };
        return Err(Problem::new(ProblemType::UnknownUser, format!("no Anaplan user has {what}")));
    };
    let guid = UserGuid::parse(&u.id).map_err(|_| {
        Problem::from(anaplan::AnaplanError::Protocol(format!(
            "SCIM answered a user id that is not a GUID: {}",
            quote(&u.id)
        )))
    })?;
    Ok(User { guid, email: u.user_name })
}

fn row(guid: &str, email: &str, exception: bool, ws: Option<(&str, &str)>) -> Value {
    json!({
        "userGuid": guid,
        "email": email,
        "exceptionUser": exception,
        "workspaceId": ws.map(|w| w.0),
        "workspaceName": ws.map(|w| w.1),
    })
}

/// The workspace's name: Anaplan's answer's, else the listing's.
fn name_of<'a>(found: &'a [ExceptionWorkspace], id: &str, listed: &'a str) -> &'a str {
    found
        .iter()
        .find(|w| w.workspace_guid == id)
        .and_then(|w| w.workspace_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or(listed)
}

/// Whether `user` is among the exception users `found` lists for workspace `ws`.
fn listed(found: &[ExceptionWorkspace], ws: &str, user: &UserGuid) -> bool {
    found
        .iter()
        .filter(|w| w.workspace_guid.eq_ignore_ascii_case(ws))
        .flat_map(|w| &w.users)
        .any(|u| u.user_guid.eq_ignore_ascii_case(user.as_str()))
}

/// The workspace's name from the listing (cached), for rows Anaplan's answer does not name.
async fn listed_name(state: &AppState, client: &anaplan::Client, ws: &WorkspaceId) -> Result<String, Problem> {
    let listing = state.catalog.list(client, &Listing::Workspaces).await?;
    Ok(listing.iter().find(|n| n.id == ws.as_str()).map(|n| n.name.clone()).unwrap_or_default())
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let params = call.params()?;
    if call.method == Method::POST {
        return change(state, &call, &params).await;
    }
    if params.get(ACTION.name).is_some() {
        return Err(Problem::bad_parameter("action is for POST (grant or revoke); GET lists exception users"));
    }
    let user = user_ref(&params)?;
    let workspace = workspace_ref(&params)?;
    let client = call.client(state)?;
    let admin = state.admin.client(&client);
    let user = match &user {
        Some(u) => Some(resolve(state, &client, u).await?),
        None => None,
    };
    let rows: Vec<Value> = match (workspace, user) {
        (Some(w), user) => {
            let ws = state.workspace(&client, w).await?;
            let found = admin.exception_users_in(&ws).await?;
            let listed_as = listed_name(state, &client, &ws).await?;
            let name = name_of(&found, ws.as_str(), &listed_as).to_owned();
            match user {
                Some(u) => {
                    let yes = listed(&found, ws.as_str(), &u.guid);
                    vec![row(u.guid.as_str(), &u.email, yes, Some((ws.as_str(), &name)))]
                }
                None => workspace_rows(&found, ws.as_str(), &name),
            }
        }
        (None, Some(u)) => {
            let found = admin.exception_workspaces_of(&u.guid).await?;
            let mut rows = Vec::new();
            for w in &found {
                if w.users.is_empty() || w.users.iter().any(|x| x.user_guid.eq_ignore_ascii_case(u.guid.as_str())) {
                    let name = w.workspace_name.clone().unwrap_or_default();
                    rows.push(row(u.guid.as_str(), &u.email, true, Some((&w.workspace_guid, &name))));
                }
            }
            if rows.is_empty() {
                rows.push(row(u.guid.as_str(), &u.email, false, None));
            }
            rows
        }
        (None, None) => every_workspace(state, &client, &admin).await?,
    };
    tracing::info!(rows = rows.len(), "exception users listed");
    Ok(json_answer(StatusCode::OK, &Value::Array(rows)))
}

fn workspace_rows(found: &[ExceptionWorkspace], ws: &str, name: &str) -> Vec<Value> {
    found
        .iter()
        .filter(|w| w.workspace_guid.eq_ignore_ascii_case(ws))
        .flat_map(|w| &w.users)
        .map(|u| row(&u.user_guid, u.email.as_deref().unwrap_or(""), true, Some((ws, name))))
        .collect()
}

/// Every exception user of every workspace the identity sees, one search per workspace.
async fn every_workspace(state: &AppState, client: &anaplan::Client, admin: &Admin) -> Result<Vec<Value>, Problem> {
    let listing = state.catalog.list(client, &Listing::Workspaces).await?;
    let mut rows = Vec::new();
    for n in listing.iter() {
        let ws =
            WorkspaceId::parse(&n.id).map_err(|e| Problem::from(anaplan::AnaplanError::Protocol(e.to_string())))?;
        let found = admin.exception_users_in(&ws).await?;
        let name = name_of(&found, ws.as_str(), &n.name).to_owned();
        rows.extend(workspace_rows(&found, ws.as_str(), &name));
    }
    Ok(rows)
}

/// A POST: grant or revoke, writing only when the user is not already as asked.
async fn change(state: &AppState, call: &Call, params: &Params) -> Result<Response, Problem> {
    let grant = params.choice(&ACTION.required())? == Some("grant");
    let Some(workspace) = workspace_ref(params)? else {
        return Err(Problem::bad_parameter(
            "workspaceId or workspaceName is required: Anaplan grants and revokes SSO exceptions per workspace",
        ));
    };
    let Some(user) = user_ref(params)? else {
        return Err(Problem::bad_parameter("the body needs the user: {\"email\": \"...\"} or {\"userGuid\": \"...\"}"));
    };
    let client = call.client(state)?;
    let ws = state.workspace(&client, workspace).await?;
    let user = resolve(state, &client, &user).await?;
    let admin = state.admin.client(&client);
    let found = admin.exception_users_in(&ws).await?;
    let listed_as = listed_name(state, &client, &ws).await?;
    let name = name_of(&found, ws.as_str(), &listed_as).to_owned();
    let changed = listed(&found, ws.as_str(), &user.guid) != grant;
    if changed {
        admin.set_exception_user(&user.guid, &ws, grant).await?;
    }
    tracing::info!(grant, changed, "exception user changed");
    let mut answer = row(user.guid.as_str(), &user.email, grant, Some((ws.as_str(), &name)));
    answer["changed"] = json!(changed);
    Ok(json_answer(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connector_lists_and_changes_exception_users() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/exception-users"];
        assert_eq!(path["get"]["operationId"], "ListExceptionUsers");
        let post = &path["post"];
        assert_eq!(post["operationId"], "ChangeExceptionUser");
        let params = post["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true));
        assert!(params.iter().any(|p| p["in"] == "body" && p["schema"]["$ref"] == "#/definitions/ExceptionUserChange"));
        let accepted = FUNCTION.accepted();
        for name in ["workspaceId", "workspaceName", "email", "userGuid", "action"] {
            assert!(accepted.contains(&name.to_owned()), "{name}");
        }
    }

    #[test]
    fn a_user_is_one_of_email_or_guid() {
        let params =
            |q: &str| Params::collect(&Method::GET, Some(q), &Default::default(), &[], &FUNCTION.accepted()).unwrap();
        assert!(user_ref(&params("email=a%40b.com&userGuid=8a80da9a5fbe1c80015fc1d8d2f10c2f")).is_err());
        assert!(user_ref(&params("email=not-an-email")).is_err());
        assert!(user_ref(&params("userGuid=xyz")).is_err());
        assert!(matches!(user_ref(&params("email=a%40b.com")), Ok(Some(UserRef::Email(_)))));
        assert!(matches!(user_ref(&params("")), Ok(None)));
    }
}
