//! `users`: Anaplan users through SCIM, for joiners, movers and leavers. GET lists users
//! (by userName or a SCIM filter checked before Anaplan is called), POST `action=provision`
//! makes a user exist, active, with exactly the given workspaces, and `action=deactivate`
//! makes one inactive with no workspace. Only what differs is written, so repeating a
//! request changes nothing and says `changed: false`.

use std::collections::{HashMap, HashSet};

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, Params, Problem, ProblemType, strict_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with, schema_ref};
use anaplan::Listing;
use anaplan::catalog::{Named, pick};
use anaplan::names::MAX_NAME_CHARS;
use anaplan::scim::{self, DesiredUser, Filter, Scim, ScimUser, UserId, Workspace};

/// Workspaces one provision may list: far more than a tenant usually has, and a bound on
/// the work a request can ask for before anything is read.
pub const MAX_WORKSPACES: usize = 5_000;

const USER_NAME: Param = Param::text(
    "userName",
    "User name",
    "List only the user with this exact user name (their email address). Not together with a filter.",
);

const FILTER: Param = Param::text(
    "filter",
    "SCIM filter",
    "A SCIM filter in Anaplan's grammar: eq, ne, gt, ge, lt, le, pr, and, or, parentheses, on userName, active, id, \
     externalId, name.givenName, name.familyName; e.g. name.familyName eq \"Lovelace\" and active eq true.",
)
.advanced();

const ACTIVE: Param =
    Param::choice("active", &["true", "false"], "Active", "List only active (true) or inactive (false) users.")
        .advanced();

/// `action` of a POST.
pub const ACTION: Param = Param::choice(
    "action",
    &["provision", "deactivate"],
    "Action",
    "provision: the user exists, is active and has exactly the given workspaces; deactivate: the user is inactive \
     and has no workspace.",
);

/// `users`.
pub const FUNCTION: Function = Function {
    name: "users",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[Input::Param(USER_NAME), Input::Param(FILTER), Input::Param(ACTIVE)],
    long_running: None,
    operation: Some(Operation {
        id: "ListUsers",
        summary: "List Anaplan users",
        description: "Lists Anaplan users through SCIM, with their workspaces: one user by user name, or those a SCIM \
                      filter matches, or all of them; every page is read.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The users.", schema: "User", array: true },
    }),
    more_operations: &[CHANGE_OPERATION],
    schemas: &[
        Schema { name: "User", build: user_schema },
        Schema { name: "UserChange", build: user_change_schema },
        Schema { name: "UserChangeResult", build: user_change_result_schema },
    ],
    group: Some(Group::Users),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `users`' POST in the connector: provision or deactivate, with a workspace dropdown.
pub const CHANGE_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Param(ACTION.required())],
    body: Some("UserChange"),
    operation: Operation {
        id: "ChangeUser",
        summary: "Provision or deactivate an Anaplan user",
        description: "provision: afterwards the user exists, is active and has exactly the given workspaces (only what differs is changed). deactivate: the user is inactive and has no workspace. Repeating a request changes nothing and answers changed: false.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "What was done.", schema: "UserChangeResult", array: false },
    },
    accepted: None,
};

/// `#/definitions/User`: a user, as GET lists them.
fn user_schema() -> Value {
    json!({
        "type": "object",
        "description": "An Anaplan user (SCIM).",
        "properties": {
            "id": prop("string", "User ID", "Anaplan's user id."),
            "userName": prop("string", "User name", "The login (an email address)."),
            "externalId": prop("string", "External ID", "The identity provider's id for the user (may be null)."),
            "givenName": prop("string", "Given name", "Given name."),
            "familyName": prop("string", "Family name", "Family name."),
            "active": prop("boolean", "Active", "Whether the user may sign in."),
            "workspaces": prop_with("array", "Workspaces", "The workspaces the user has.", "items", schema_ref("ObjectItem")),
        },
    })
}

/// `#/definitions/UserChange`: the body of a POST.
fn user_change_schema() -> Value {
    json!({
        "type": "object",
        "description": "The user to provision (action=provision) or deactivate (action=deactivate: userName only).",
        "required": ["userName"],
        "properties": {
            "userName": prop("string", "User name", "The user's login, their email address."),
            "givenName": prop("string", "Given name", "Required to provision."),
            "familyName": prop("string", "Family name", "Required to provision."),
            "externalId": prop("string", "External ID", "The identity provider's id for the user, e.g. the Entra object id (provision; left alone when empty)."),
            "workspaces": prop_with(
                "array",
                "Workspaces",
                "Provision: every workspace the user must have, by id (pick from the list) or name; others are removed. [] for none.",
                "items",
                json!({
                    "type": "string",
                    "x-ms-summary": "Workspace",
                    "x-ms-dynamic-values": {
                        "operationId": "ListObjects",
                        "parameters": { "kind": "workspaces" },
                        "value-path": "id",
                        "value-title": "name",
                    },
                }),
            ),
        },
    })
}

/// `#/definitions/UserChangeResult`: what a POST did.
fn user_change_result_schema() -> Value {
    json!({
        "type": "object",
        "description": "What provision or deactivate did.",
        "properties": {
            "id": prop("string", "User ID", "Anaplan's user id."),
            "userName": prop("string", "User name", "The login."),
            "created": prop("boolean", "Created", "Provision: true when the user was new."),
            "changed": prop("boolean", "Changed", "False when the user already was as asked (nothing was written)."),
            "workspaces": prop_with("array", "Workspaces", "Provision: the user's workspaces now.", "items", schema_ref("ObjectItem")),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    if call.method == Method::POST {
        return change(state, call).await;
    }
    let params = call.params()?;
    if params.get(ACTION.name).is_some() {
        return Err(Problem::bad_parameter("action is for POST; GET lists users"));
    }
    let filter = listing_filter(&params)?;
    let client = call.client(state)?;
    let scim = state.scim.client(&client).await?;
    let users = scim.users(filter.as_ref()).await?;
    let names = WorkspaceNames::new(state, &client, &users).await?;
    let out: Vec<Value> = users.iter().map(|u| user_json(u, &names)).collect();
    Ok(json_answer(StatusCode::OK, &Value::Array(out)))
}

/// The SCIM filter a GET asks for, checked before Anaplan is called.
fn listing_filter(params: &Params) -> Result<Option<Filter>, Problem> {
    let base = match (params.get(USER_NAME.name), params.get(FILTER.name)) {
        (Some(_), Some(_)) => return Err(Problem::bad_parameter("give either userName or filter, not both")),
        (Some(name), None) => Some(Filter::user_name_eq(name)),
        (None, Some(f)) => Some(Filter::parse(f).map_err(|e| Problem::bad_parameter(format!("filter: {e}")))?),
        (None, None) => None,
    };
    let active = params.choice(&ACTIVE)?.map(|a| Filter::active_eq(a == "true"));
    Ok(match (base, active) {
        (Some(b), Some(a)) => Some(b.and(&a)),
        (b, a) => b.or(a),
    })
}

/// Workspace names by id: SCIM's `display`, else the workspace listing.
struct WorkspaceNames(Vec<(String, String)>);

impl WorkspaceNames {
    async fn new(state: &AppState, client: &anaplan::Client, users: &[ScimUser]) -> Result<Self, Problem> {
        let mut known: Vec<(String, String)> = Vec::new();
        let mut missing = false;
        for e in users.iter().flat_map(ScimUser::workspaces) {
            match &e.display {
                Some(d) if !d.is_empty() => known.push((e.value.clone(), d.clone())),
                _ => missing = true,
            }
        }
        if missing {
            let listing = state.catalog.list(client, &Listing::Workspaces).await?;
            known.extend(listing.iter().map(|n| (n.id.clone(), n.name.clone())));
        }
        Ok(WorkspaceNames(known))
    }

    fn of(&self, id: &str) -> &str {
        self.0.iter().find(|(i, _)| i == id).map(|(_, n)| n.as_str()).unwrap_or("")
    }
}

fn user_json(u: &ScimUser, names: &WorkspaceNames) -> Value {
    json!({
        "id": u.id,
        "userName": u.user_name,
        "externalId": u.external_id,
        "givenName": u.given_name(),
        "familyName": u.family_name(),
        "active": u.active,
        "workspaces": workspaces_json(u, names),
    })
}

fn workspaces_json(u: &ScimUser, names: &WorkspaceNames) -> Value {
    u.workspaces()
        .map(|e| json!({"id": e.value, "name": e.display.as_deref().filter(|d| !d.is_empty()).unwrap_or(names.of(&e.value))}))
        .collect()
}

/// The JSON body of a POST.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChangeBody {
    action: Option<String>,
    user_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    external_id: Option<String>,
    workspaces: Option<Vec<String>>,
}

/// A checked POST.
enum ChangeRequest {
    Provision { user: DesiredUser, workspaces: Vec<String> },
    Deactivate { user_name: String },
}

impl ChangeRequest {
    fn parse(call: &Call) -> Result<Self, Problem> {
        // The query string carries `action` (and the host's `code`); the body is a JSON
        // object, read here because `workspaces` is a list.
        let query = Params::collect(&Method::GET, call.query.as_deref(), &call.headers, &[], &[ACTION.name])?;
        let body: ChangeBody = if call.body.iter().all(u8::is_ascii_whitespace) {
            ChangeBody::default()
        } else {
            if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
                let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
                let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
                if essence != "application/json" && !essence.ends_with("+json") {
                    return Err(Problem::bad_parameter(format!(
                        "the body must be a JSON object (Content-Type: application/json), got {essence:?}"
                    )));
                }
            }
            // Strict JSON first: a key given twice is a 400 naming it, as for every body.
            serde_json::from_value(strict_json::from_slice(&call.body)?)
                .map_err(|e| Problem::bad_parameter(format!("the body: {e}")))?
        };
        let action = match (query.get(ACTION.name), body.action.as_deref().map(str::trim)) {
            (Some(a), Some(b)) if a != b => {
                return Err(Problem::bad_parameter(
                    "parameter action is given twice with different values (the second in the body)",
                ));
            }
            (Some(a), _) => a.to_owned(),
            (None, Some(b)) if !b.is_empty() => b.to_owned(),
            _ => return Err(Problem::bad_parameter("action is required: provision or deactivate")),
        };
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let user_name = text(&body.user_name).ok_or_else(|| Problem::bad_parameter("userName is required"))?;
        if user_name.len() > 255 || user_name.chars().any(char::is_control) {
            return Err(Problem::bad_parameter("userName must be at most 255 characters, with no control characters"));
        }
        match action.as_str() {
            "provision" => {
                let required = |v: &Option<String>, name: &str| {
                    text(v).ok_or_else(|| Problem::bad_parameter(format!("{name} is required for action=provision")))
                };
                let given_name = required(&body.given_name, "givenName")?;
                let family_name = required(&body.family_name, "familyName")?;
                let workspaces = body.workspaces.ok_or_else(|| {
                    Problem::bad_parameter(
                        "workspaces is required for action=provision: the names or ids of every workspace the user \
                         must have ([] for none)",
                    )
                })?;
                if workspaces.len() > MAX_WORKSPACES {
                    return Err(Problem::bad_parameter(format!(
                        "workspaces lists {} entries; at most {MAX_WORKSPACES} are taken in one request",
                        workspaces.len()
                    )));
                }
                let mut list: Vec<String> = Vec::new();
                let mut seen: HashSet<String> = HashSet::new();
                for (i, w) in workspaces.into_iter().enumerate() {
                    let w = w.trim().to_owned();
                    if w.is_empty() {
                        return Err(Problem::bad_parameter("workspaces holds an empty name"));
                    }
                    let chars = w.chars().count();
                    if chars > MAX_NAME_CHARS {
                        return Err(Problem::bad_parameter(format!(
                            "workspaces[{i}] is {chars} characters long; an Anaplan name has at most {MAX_NAME_CHARS}"
                        )));
                    }
                    if seen.insert(w.clone()) {
                        list.push(w);
                    }
                }
                Ok(ChangeRequest::Provision {
                    user: DesiredUser {
                        user_name,
                        given_name,
                        family_name,
                        external_id: text(&body.external_id),
                        workspaces: Vec::new(),
                    },
                    workspaces: list,
                })
            }
            "deactivate" => {
                if body.given_name.is_some()
                    || body.family_name.is_some()
                    || body.external_id.is_some()
                    || body.workspaces.is_some()
                {
                    return Err(Problem::bad_parameter("action=deactivate takes userName only"));
                }
                Ok(ChangeRequest::Deactivate { user_name })
            }
            other => Err(Problem::bad_parameter(format!(
                "action must be provision or deactivate; got {}",
                anaplan::untrusted::quote(other)
            ))),
        }
    }
}

async fn change(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = ChangeRequest::parse(&call)?;
    let client = call.client(state)?;
    match req {
        ChangeRequest::Provision { mut user, workspaces } => {
            // Every workspace is resolved before anything is written.
            let listing = state.catalog.list(&client, &Listing::Workspaces).await?;
            // One pass over the listing, then a lookup per workspace asked for: linear
            // whatever the two lengths.
            let mut by_id: HashMap<&str, &Named> = HashMap::new();
            let mut by_name: HashMap<&str, Vec<&Named>> = HashMap::new();
            for n in listing.iter() {
                by_id.insert(n.id.as_str(), n);
                by_name.entry(n.name.as_str()).or_default().push(n);
            }
            let mut added: HashSet<String> = HashSet::new();
            for w in &workspaces {
                let found = match (by_id.get(w.as_str()), by_name.get(w.as_str()).map(Vec::as_slice)) {
                    (Some(n), _) | (None, Some([n])) => (*n).clone(),
                    // None or several by that name: the error names the closest or their ids.
                    _ => pick("workspace", &listing, w)?,
                };
                if added.insert(found.id.clone()) {
                    user.workspaces.push(Workspace { id: found.id, name: found.name });
                }
            }
            let scim = state.scim.client(&client).await?;
            provision(&scim, &user).await
        }
        ChangeRequest::Deactivate { user_name } => {
            let scim = state.scim.client(&client).await?;
            let Some(current) = scim.user_named(&user_name).await? else {
                return Err(unknown_user(&user_name));
            };
            let ops = scim::deactivation(&current);
            if !ops.is_empty() {
                scim.patch(&UserId::parse(&current.id)?, &ops).await?;
            }
            tracing::info!(changed = !ops.is_empty(), "user deactivated");
            Ok(json_answer(
                StatusCode::OK,
                &json!({"id": current.id, "userName": current.user_name, "changed": !ops.is_empty()}),
            ))
        }
    }
}

async fn provision(scim: &Scim, want: &DesiredUser) -> Result<Response, Problem> {
    let current = scim.user_named(&want.user_name).await?;
    let plan = scim::plan(current.as_ref(), want);
    let changed = !plan.is_empty();
    let created = plan.create.is_some();
    let mut user = match current {
        Some(u) => u,
        None => scim.create(want, plan.create.as_deref().unwrap_or(&[])).await?,
    };
    let id = UserId::parse(&user.id)?;
    for (i, ops) in plan.patches.iter().enumerate() {
        user = scim.patch(&id, ops).await.map_err(|e| {
            // A partial change is never a 200: say how far it got (repeating the request finishes it).
            Problem::from(e).with("completedCalls", json!(i + usize::from(created)))
        })?;
    }
    tracing::info!(created, changed, calls = plan.patches.len() + usize::from(created), "user provisioned");
    let names = WorkspaceNames(want.workspaces.iter().map(|w| (w.id.clone(), w.name.clone())).collect());
    Ok(json_answer(
        StatusCode::OK,
        &json!({
            "id": user.id,
            "userName": user.user_name,
            "created": created,
            "changed": changed,
            "workspaces": workspaces_json(&user, &names),
        }),
    ))
}

fn unknown_user(user_name: &str) -> Problem {
    Problem::new(ProblemType::UnknownUser, format!("no Anaplan user has the user name {user_name:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connector_has_a_listing_and_a_change_with_a_workspace_dropdown() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/users"];
        assert_eq!(path["get"]["operationId"], "ListUsers");
        let post = &path["post"];
        assert_eq!(post["operationId"], "ChangeUser");
        let params = post["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true && p["in"] == "query"));
        let body = params.iter().find(|p| p["in"] == "body").unwrap();
        let schema = body["schema"]["$ref"].as_str().unwrap().trim_start_matches("#/definitions/");
        let items = &doc["definitions"][schema]["properties"]["workspaces"]["items"];
        assert_eq!(items["x-ms-dynamic-values"]["operationId"], "ListObjects");
        assert_eq!(items["x-ms-dynamic-values"]["parameters"], json!({"kind": "workspaces"}));
        assert!(FUNCTION.accepted().contains(&"action".to_owned()));
    }
}
