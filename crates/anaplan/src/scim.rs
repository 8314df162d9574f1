//! Anaplan's SCIM API (`<SCIM URL>/scim/1/0/v2/Users`): listing users page by page,
//! creating them and patching them, and the plan that turns "this user, these workspaces"
//! into the fewest calls (at most 50 workspace entitlements per call). Authentication is the
//! identity's Anaplan token, or a SCIM API key sent as `Bearer` (SCIM only).

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::auth::{SecretKind, SecretSource};
use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
pub use super::scim_filter::{Filter, FilterError};

/// Anaplan's largest SCIM page.
pub const PAGE_SIZE: usize = 100;
/// Anaplan's limit of workspace entitlements in one create or patch.
pub const MAX_WORKSPACES_PER_CALL: usize = 50;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ALL_WORKSPACES: &str = "entitlements[type eq \"WORKSPACE\"]";
/// SCIM answers `application/scim+json`; plain JSON is accepted too.
const ACCEPT: &str = "application/scim+json, application/json";
/// SCIM's media type (RFC 7644 §3.1), the one the description documents for every SCIM
/// request body: POST, PUT and PATCH bodies go as this, never as `application/json`.
const SCIM_JSON: &str = "application/scim+json";

/// Where SCIM is and how to authenticate to it; built once and shared.
#[derive(Clone, Debug)]
pub struct ScimApi {
    /// `<SCIM URL>/scim/1/0/v2/`.
    base: Url,
    /// Where an optional SCIM API key is kept.
    key: Option<Arc<dyn SecretSource>>,
    /// Whether SCIM's URL was set explicitly (see [`ScimApi::configured`]).
    url_set: bool,
}

impl ScimApi {
    /// SCIM at `scim_url` (`/scim/1/0/v2` is appended), with the API key from `key` when it
    /// holds one.
    pub fn new(scim_url: &Url, key: Option<Arc<dyn SecretSource>>) -> Self {
        let mut base = scim_url.clone();
        base.path_segments_mut().expect("http(s) URLs have paths").pop_if_empty().extend(["scim", "1", "0", "v2", ""]);
        ScimApi { base, key, url_set: false }
    }

    /// The same, noting whether SCIM's URL was set explicitly rather than defaulted.
    pub fn with_url_set(mut self, url_set: bool) -> Self {
        self.url_set = url_set;
        self
    }

    /// Whether SCIM is configured on purpose: its URL set explicitly, or a SCIM API key
    /// stored (read from its store: a vault may hold none). Without either, SCIM is only
    /// reachable through its defaults, which a caller may choose not to rely on.
    pub async fn configured(&self) -> Result<bool, AnaplanError> {
        if self.url_set {
            return Ok(true);
        }
        Ok(match &self.key {
            Some(source) => source.get(SecretKind::ScimApiKey).await?.is_some(),
            None => false,
        })
    }

    /// A SCIM client for `anaplan`'s identity: with the SCIM API key when one is stored,
    /// else with `anaplan`'s own Anaplan token.
    pub async fn client(&self, anaplan: &Client) -> Result<Scim, AnaplanError> {
        let client = anaplan.for_base(self.base.clone());
        let key = match &self.key {
            Some(source) => source.get(SecretKind::ScimApiKey).await?,
            None => None,
        };
        Ok(Scim {
            client: match key {
                Some(k) => client.with_api_key(k),
                None => client,
            },
        })
    }
}

/// A SCIM user, as Anaplan shows it (unknown fields ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    /// Anaplan's user id.
    pub id: String,
    /// The login (an email address).
    pub user_name: String,
    /// The identity provider's id for the user.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Given and family name.
    #[serde(default)]
    pub name: Option<ScimName>,
    /// Whether the user may sign in (SCIM's default is true).
    #[serde(default = "yes")]
    pub active: bool,
    /// Workspace entitlements (and any other kind, ignored by [`ScimUser::workspaces`]).
    #[serde(default)]
    pub entitlements: Vec<Entitlement>,
}

fn yes() -> bool {
    true
}

/// `name` of a SCIM user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimName {
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family_name: Option<String>,
}

/// One entitlement: for a workspace, its id (`value`) and name (`display`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entitlement {
    /// The workspace id.
    pub value: String,
    /// The workspace name, when Anaplan sends it.
    #[serde(default)]
    pub display: Option<String>,
    /// `WORKSPACE` (absent counts as a workspace too).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl ScimUser {
    /// Given name ("" when absent).
    pub fn given_name(&self) -> &str {
        self.name.as_ref().and_then(|n| n.given_name.as_deref()).unwrap_or("")
    }

    /// Family name ("" when absent).
    pub fn family_name(&self) -> &str {
        self.name.as_ref().and_then(|n| n.family_name.as_deref()).unwrap_or("")
    }

    /// The workspace entitlements.
    pub fn workspaces(&self) -> impl Iterator<Item = &Entitlement> {
        self.entitlements.iter().filter(|e| e.kind.as_deref().is_none_or(|k| k.eq_ignore_ascii_case("WORKSPACE")))
    }
}

/// A workspace to assign: its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Id (32 lowercase hex).
    pub id: String,
    /// Name.
    pub name: String,
}

/// What a provisioned user must look like.
#[derive(Debug, Clone)]
pub struct DesiredUser {
    /// Login.
    pub user_name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// External id; `None` leaves an existing one alone.
    pub external_id: Option<String>,
    /// Exactly these workspaces.
    pub workspaces: Vec<Workspace>,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOp {
    /// `replace active`.
    Active(bool),
    /// `replace name.givenName`.
    GivenName(String),
    /// `replace name.familyName`.
    FamilyName(String),
    /// `replace externalId`.
    ExternalId(String),
    /// `add entitlements` with these workspaces.
    AddWorkspaces(Vec<Workspace>),
    /// `remove entitlements` with these workspaces.
    RemoveWorkspaces(Vec<Workspace>),
    /// `remove entitlements[type eq "WORKSPACE"]`: every workspace.
    RemoveAllWorkspaces,
}

impl PatchOp {
    /// Workspaces it names (what the per-call limit counts).
    pub fn workspaces(&self) -> usize {
        match self {
            PatchOp::AddWorkspaces(w) | PatchOp::RemoveWorkspaces(w) => w.len(),
            _ => 0,
        }
    }

    fn to_json(&self) -> Value {
        let ws = |w: &[Workspace]| -> Value {
            w.iter().map(|w| json!({"value": w.id, "display": w.name, "type": "WORKSPACE"})).collect()
        };
        match self {
            PatchOp::Active(b) => json!({"op": "replace", "path": "active", "value": b}),
            PatchOp::GivenName(s) => json!({"op": "replace", "path": "name.givenName", "value": s}),
            PatchOp::FamilyName(s) => json!({"op": "replace", "path": "name.familyName", "value": s}),
            PatchOp::ExternalId(s) => json!({"op": "replace", "path": "externalId", "value": s}),
            PatchOp::AddWorkspaces(w) => json!({"op": "add", "path": "entitlements", "value": ws(w)}),
            PatchOp::RemoveWorkspaces(w) => json!({"op": "remove", "path": "entitlements", "value": ws(w)}),
            PatchOp::RemoveAllWorkspaces => json!({"op": "remove", "path": ALL_WORKSPACES}),
        }
    }
}

/// The calls that make a user what [`DesiredUser`] says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Create the user with these workspaces first (at most 50).
    pub create: Option<Vec<Workspace>>,
    /// Then these PATCH calls, in order (each with at most 50 workspaces).
    pub patches: Vec<Vec<PatchOp>>,
}

impl Plan {
    /// True when nothing needs to change.
    pub fn is_empty(&self) -> bool {
        self.create.is_none() && self.patches.is_empty()
    }
}

/// What to call so that the user (`current`, `None` when it does not exist) becomes
/// active with exactly `want`'s names and workspaces: only what differs.
pub fn plan(current: Option<&ScimUser>, want: &DesiredUser) -> Plan {
    let mut plan = Plan::default();
    let mut attributes = Vec::new();
    let to_add: Vec<Workspace> = match current {
        None => {
            let (first, rest) = want.workspaces.split_at(want.workspaces.len().min(MAX_WORKSPACES_PER_CALL));
            plan.create = Some(first.to_vec());
            rest.to_vec()
        }
        Some(u) => {
            if !u.active {
                attributes.push(PatchOp::Active(true));
            }
            if u.given_name() != want.given_name {
                attributes.push(PatchOp::GivenName(want.given_name.clone()));
            }
            if u.family_name() != want.family_name {
                attributes.push(PatchOp::FamilyName(want.family_name.clone()));
            }
            if let Some(e) = &want.external_id
                && u.external_id.as_deref() != Some(e.as_str())
            {
                attributes.push(PatchOp::ExternalId(e.clone()));
            }
            let have: HashSet<&str> = u.workspaces().map(|e| e.value.as_str()).collect();
            want.workspaces.iter().filter(|w| !have.contains(w.id.as_str())).cloned().collect()
        }
    };
    // Sets, not scans: both lists come from outside and may be long.
    let wanted: HashSet<&str> = want.workspaces.iter().map(|w| w.id.as_str()).collect();
    let to_remove: Vec<Workspace> = match current {
        None => Vec::new(),
        Some(u) => u
            .workspaces()
            .filter(|e| !wanted.contains(e.value.as_str()))
            .map(|e| Workspace { id: e.value.clone(), name: e.display.clone().unwrap_or_default() })
            .collect(),
    };
    // Adds first, then removals; calls are filled up to 50 workspaces each, and attribute
    // changes ride on the first one.
    let mut call: Vec<PatchOp> = attributes;
    let mut used = 0usize;
    let steps = to_add.into_iter().map(|w| (true, w)).chain(to_remove.into_iter().map(|w| (false, w)));
    for (add, w) in steps {
        if used == MAX_WORKSPACES_PER_CALL {
            plan.patches.push(std::mem::take(&mut call));
            used = 0;
        }
        match (call.last_mut(), add) {
            (Some(PatchOp::AddWorkspaces(ws)), true) | (Some(PatchOp::RemoveWorkspaces(ws)), false) => ws.push(w),
            (_, true) => call.push(PatchOp::AddWorkspaces(vec![w])),
            (_, false) => call.push(PatchOp::RemoveWorkspaces(vec![w])),
        }
        used += 1;
    }
    if !call.is_empty() {
        plan.patches.push(call);
    }
    plan
}

/// What makes `current` inactive with no workspace (empty when it already is).
pub fn deactivation(current: &ScimUser) -> Vec<PatchOp> {
    let mut ops = Vec::new();
    if current.active {
        ops.push(PatchOp::Active(false));
    }
    if current.workspaces().next().is_some() {
        ops.push(PatchOp::RemoveAllWorkspaces);
    }
    ops
}

/// A SCIM client for one identity (see [`ScimApi::client`]).
#[derive(Clone, Debug)]
pub struct Scim {
    client: Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default)]
    total_results: usize,
    #[serde(default, rename = "Resources")]
    resources: Vec<ScimUser>,
}

impl Scim {
    /// Every user `filter` matches (all users without one), following every page.
    pub async fn users(&self, filter: Option<&Filter>) -> Result<Vec<ScimUser>, AnaplanError> {
        let mut out = Vec::new();
        let mut start = 1usize;
        loop {
            let mut req = ApiRequest::get(["Users"])
                .accept(ACCEPT)
                .query("startIndex", start.to_string())
                .query("count", PAGE_SIZE.to_string());
            if let Some(f) = filter {
                req = req.query("filter", f.as_str());
            }
            let page: ListResponse = self.client.json(req).await.map_err(scim_error)?;
            let got = page.resources.len();
            out.extend(page.resources);
            start += got;
            // Anaplan may serve fewer than asked: follow totalResults, stop on an empty page.
            if got == 0 || out.len() >= page.total_results {
                return Ok(out);
            }
        }
    }

    /// The user whose userName is `user_name` (compared case-insensitively, as SCIM does).
    pub async fn user_named(&self, user_name: &str) -> Result<Option<ScimUser>, AnaplanError> {
        let users = self.users(Some(&Filter::user_name_eq(user_name))).await?;
        Ok(users.into_iter().find(|u| u.user_name.eq_ignore_ascii_case(user_name)))
    }

    /// Creates an active user with `workspaces` (at most 50).
    pub async fn create(&self, want: &DesiredUser, workspaces: &[Workspace]) -> Result<ScimUser, AnaplanError> {
        let mut body = json!({
            "schemas": [USER_SCHEMA],
            "userName": want.user_name,
            "active": true,
            "name": {"givenName": want.given_name, "familyName": want.family_name},
            "entitlements": workspaces.iter()
                .map(|w| json!({"value": w.id, "display": w.name, "type": "WORKSPACE"}))
                .collect::<Vec<_>>(),
        });
        if let Some(e) = &want.external_id {
            body["externalId"] = json!(e);
        }
        let req = ApiRequest::get(["Users"]).method(Method::POST).accept(ACCEPT).json_as(body, SCIM_JSON);
        self.client.json(req).await.map_err(scim_error)
    }

    /// Applies `ops` to user `id` in one PATCH.
    pub async fn patch(&self, id: &UserId, ops: &[PatchOp]) -> Result<ScimUser, AnaplanError> {
        let body = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": ops.iter().map(PatchOp::to_json).collect::<Vec<_>>(),
        });
        let req = ApiRequest::get(["Users", id.as_str()]).method(Method::PATCH).accept(ACCEPT).json_as(body, SCIM_JSON);
        let resp = self.client.send(req).await.map_err(scim_error)?;
        let status = resp.status().as_u16();
        let text =
            resp.text().await.map_err(|e| AnaplanError::Unreachable(format!("PATCH Users: {}", e.without_url())))?;
        if status == 207 {
            // Multi-status: some operations were not applied. Never a success.
            return Err(AnaplanError::Failed(format!(
                "Anaplan applied the change to user {} only in part (207): {}",
                id.as_str(),
                text.chars().take(300).collect::<String>()
            )));
        }
        serde_json::from_str(&text).map_err(|e| AnaplanError::Protocol(format!("PATCH Users/{}: {e}", id.as_str())))
    }
}

/// A SCIM user id, checked before it goes into a URL (letters, digits and dashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    /// Checks `s`.
    pub fn parse(s: &str) -> Result<UserId, AnaplanError> {
        if (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Ok(UserId(s.to_owned()))
        } else {
            Err(AnaplanError::Protocol(format!("SCIM answered a user id that is not one: {s:?}")))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SCIM's errors carry their text in `detail` (`{"schemas", "status", "scimType",
/// "detail"}`): that becomes the message.
fn scim_error(e: AnaplanError) -> AnaplanError {
    match e {
        AnaplanError::Api { status, message, retry_after } => {
            let detail = serde_json::from_str::<Value>(&message)
                .ok()
                .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned));
            AnaplanError::Api { status, message: detail.unwrap_or(message), retry_after }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(n: usize) -> Workspace {
        Workspace { id: format!("{n:032x}"), name: format!("WS {n}") }
    }

    fn user(active: bool, workspaces: &[Workspace]) -> ScimUser {
        ScimUser {
            id: "u1".into(),
            user_name: "ada@example.com".into(),
            external_id: Some("E1".into()),
            name: Some(ScimName { given_name: Some("Ada".into()), family_name: Some("Lovelace".into()) }),
            active,
            entitlements: workspaces
                .iter()
                .map(|w| Entitlement {
                    value: w.id.clone(),
                    display: Some(w.name.clone()),
                    kind: Some("WORKSPACE".into()),
                })
                .collect(),
        }
    }

    fn want(workspaces: Vec<Workspace>) -> DesiredUser {
        DesiredUser {
            user_name: "ada@example.com".into(),
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            external_id: Some("E1".into()),
            workspaces,
        }
    }

    #[test]
    fn an_unchanged_user_needs_no_call() {
        let u = user(true, &[ws(1), ws(2)]);
        assert!(plan(Some(&u), &want(vec![ws(2), ws(1)])).is_empty());
        assert!(deactivation(&user(false, &[])).is_empty());
    }

    #[test]
    fn more_than_50_workspaces_go_in_several_calls() {
        let many: Vec<Workspace> = (0..120).map(ws).collect();
        let p = plan(None, &want(many.clone()));
        assert_eq!(p.create.as_ref().map(Vec::len), Some(50));
        assert_eq!(p.patches.len(), 2);
        assert_eq!(p.patches[0], vec![PatchOp::AddWorkspaces(many[50..100].to_vec())]);
        assert_eq!(p.patches[1], vec![PatchOp::AddWorkspaces(many[100..].to_vec())]);

        // A mover between two large sets: 60 added, 70 removed, an attribute on the first call.
        let u = user(false, &(0..70).map(ws).collect::<Vec<_>>());
        let p = plan(Some(&u), &want((100..160).map(ws).collect()));
        assert!(p.create.is_none());
        for call in &p.patches {
            assert!(call.iter().map(PatchOp::workspaces).sum::<usize>() <= 50, "{call:?}");
        }
        assert_eq!(p.patches[0][0], PatchOp::Active(true));
        let added: usize = p
            .patches
            .iter()
            .flatten()
            .filter(|o| matches!(o, PatchOp::AddWorkspaces(_)))
            .map(PatchOp::workspaces)
            .sum();
        let removed: usize = p
            .patches
            .iter()
            .flatten()
            .filter(|o| matches!(o, PatchOp::RemoveWorkspaces(_)))
            .map(PatchOp::workspaces)
            .sum();
        assert_eq!((added, removed), (60, 70));
        assert_eq!(p.patches.len(), 3, "130 workspaces, 50 a call");
    }

    #[test]
    fn a_mover_changes_only_what_differs() {
        let u = user(true, &[ws(1), ws(2)]);
        let mut w = want(vec![ws(2), ws(3)]);
        w.family_name = "King".into();
        w.external_id = None;
        let p = plan(Some(&u), &w);
        assert_eq!(
            p.patches,
            vec![vec![
                PatchOp::FamilyName("King".into()),
                PatchOp::AddWorkspaces(vec![ws(3)]),
                PatchOp::RemoveWorkspaces(vec![ws(1)]),
            ]]
        );
        assert_eq!(deactivation(&u), vec![PatchOp::Active(false), PatchOp::RemoveAllWorkspaces]);
    }
}
