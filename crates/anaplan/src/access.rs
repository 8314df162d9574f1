//! Who may use what, as the Integration API tells it: the tenant's users (`GET /users`,
//! minimum role Standard User) and each workspace's administrators and visitors
//! (`GET /workspaces/{workspaceId}/admins` and `.../visitors`, minimum role User
//! Administrator: "requires tenant admin privilege"). Every page is followed.
//!
//! The description's `Admin` and `Visitor` carry no user id and no last login: only
//! `firstName`, `lastName`, `email`, `active` and `otherWorkspaces`, each optional. Joining
//! them with the tenant's users (by email) is the caller's business.

use serde::Deserialize;

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::WorkspaceId;

/// A user of the tenant, as `GET /users` lists them (every field optional but the id;
/// unknown fields ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantUser {
    /// Anaplan's user id (32 hex characters).
    pub id: String,
    /// The login, an email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Whether the user may sign in.
    #[serde(default)]
    pub active: Option<bool>,
    /// When the user last signed in (absent: never, or not told).
    #[serde(default)]
    pub last_login_date: Option<String>,
}

/// A workspace administrator or visitor, as the description's `Admin` and `Visitor` have
/// them: no id, every field optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceMember {
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The login, an email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the user may sign in.
    #[serde(default)]
    pub active: Option<bool>,
    /// Names of the other workspaces where the user has this role.
    #[serde(default)]
    pub other_workspaces: Vec<String>,
}

impl Client {
    /// Every user of the tenant (`GET /users`, every page).
    pub async fn tenant_users(&self) -> Result<Vec<TenantUser>, AnaplanError> {
        self.list(ApiRequest::get(["users"]), "users").await
    }

    /// Every administrator of workspace `ws` (`GET /workspaces/{ws}/admins`, every page).
    pub async fn workspace_admins(&self, ws: &WorkspaceId) -> Result<Vec<WorkspaceMember>, AnaplanError> {
        self.list(ApiRequest::get(["workspaces", ws.as_str(), "admins"]), "admins").await
    }

    /// Every visitor of workspace `ws` (`GET /workspaces/{ws}/visitors`, every page).
    pub async fn workspace_visitors(&self, ws: &WorkspaceId) -> Result<Vec<WorkspaceMember>, AnaplanError> {
        self.list(ApiRequest::get(["workspaces", ws.as_str(), "visitors"]), "visitors").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_users_read_with_fields_left_out() {
        // The description's own example: no email.
        let m: WorkspaceMember = serde_json::from_value(serde_json::json!({
            "firstName": "Jane", "lastName": "Smith", "active": true, "otherWorkspaces": ["Sales Planning Workspace"],
        }))
        .unwrap();
        assert_eq!(m.email, None);
        assert_eq!(m.other_workspaces, ["Sales Planning Workspace"]);
        let u: TenantUser = serde_json::from_value(serde_json::json!({
            "id": "8a80da9a5fbe1c80015fc1d8d2f10c2f", "email": "a@example.com", "emailOptIn": false,
        }))
        .unwrap();
        assert_eq!((u.active, u.last_login_date), (None, None));
    }
}
