//! Anaplan's administration APIs under `<API URL>/admin/1/0` (the regional API host, as the
//! descriptions' `servers` have it; no setting of its own): Exception Users (the users who
//! may bypass SSO, per workspace) and Administration (the tenant's users as CSV, export and
//! import). Both take only `AnaplanAuthToken` (Bearer is refused), which is what [`Client`]
//! sends for every identity, a caller's own token included.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{InvalidId, WorkspaceId};

/// Anaplan's largest user import: at most 500 data rows per file.
pub const MAX_IMPORT_ROWS: usize = 500;

/// The columns of Anaplan's user CSV, export and import, in order.
pub const USER_CSV_COLUMNS: [&str; 4] = ["username", "first_name", "last_name", "licenses"];

/// Where the administration APIs are; built once and shared.
#[derive(Clone, Debug)]
pub struct AdminApi {
    /// `<API URL>/admin/1/0/`.
    base: Url,
}

impl AdminApi {
    /// The administration APIs on the host of `api_url` (`/admin/1/0` is appended).
    pub fn new(api_url: &Url) -> Self {
        let mut base = api_url.clone();
        base.path_segments_mut().expect("http(s) URLs have paths").pop_if_empty().extend(["admin", "1", "0", ""]);
        AdminApi { base }
    }

    /// A client of them for `anaplan`'s identity.
    pub fn client(&self, anaplan: &Client) -> Admin {
        Admin { client: anaplan.for_base(self.base.clone()) }
    }
}

/// The administration APIs for one identity.
#[derive(Clone, Debug)]
pub struct Admin {
    client: Client,
}

/// A user GUID (the Anaplan user id): 32 hexadecimal characters, kept in lowercase as the
/// description's pattern has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserGuid(String);

impl UserGuid {
    /// Parses a user GUID (either case; kept in lowercase).
    pub fn parse(s: &str) -> Result<UserGuid, InvalidId> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(UserGuid(s.to_ascii_lowercase()))
        } else {
            let shown: String = s.chars().take(64).collect();
            Err(InvalidId {
                kind: "userGuid",
                expected: "32 hexadecimal characters (the Anaplan user id, e.g. 8a80da9a5fbe1c80015fc1d8d2f10c2f)",
                got: shown,
            })
        }
    }

    /// The GUID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserGuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One workspace of an exception-user search, as Anaplan answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionWorkspace {
    /// The workspace's GUID.
    pub workspace_guid: String,
    /// Its name.
    #[serde(default)]
    pub workspace_name: Option<String>,
    /// Its exception users (by-user searches: the one user).
    #[serde(default)]
    pub users: Vec<ExceptionUser>,
}

/// An exception user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionUser {
    /// The user's GUID.
    pub user_guid: String,
    /// Their email address.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    response: Option<Vec<ExceptionWorkspace>>,
}

/// What one user import did, read from Anaplan's 207 (or 200) answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// `accepted`: data rows Anaplan found in the file, when it says.
    pub accepted: Option<u64>,
    /// `created`: users created.
    pub created: u64,
    /// `updated`: users updated.
    pub updated: u64,
    /// Refused rows: (1-based data row of the file, Anaplan's message).
    pub errors: Vec<(usize, String)>,
}

impl Admin {
    /// Every exception user of workspace `ws` (visitors included), as Anaplan answers.
    pub async fn exception_users_in(&self, ws: &WorkspaceId) -> Result<Vec<ExceptionWorkspace>, AnaplanError> {
        self.search(json!({ "workspaceGuid": ws.as_str() })).await
    }

    /// Every workspace where `user` is an exception user (visitors' workspaces excluded).
    pub async fn exception_workspaces_of(&self, user: &UserGuid) -> Result<Vec<ExceptionWorkspace>, AnaplanError> {
        self.search(json!({ "userGuid": user.as_str() })).await
    }

    async fn search(&self, body: Value) -> Result<Vec<ExceptionWorkspace>, AnaplanError> {
        // A search changes nothing: safe to send again after a timeout or a 5xx.
        let req =
            ApiRequest::get(["permissions", "exception-users", "search"]).method(Method::POST).replayable().json(body);
        let answer: SearchAnswer = self.client.json(req).await?;
        Ok(answer.response.unwrap_or_default())
    }

    /// Makes `user` an exception user of `ws` (`assign: true`) or not (`false`). Anaplan
    /// answers 204; the workspace must be SSO-enabled, and nobody changes their own status.
    pub async fn set_exception_user(
        &self,
        user: &UserGuid,
        ws: &WorkspaceId,
        assign: bool,
    ) -> Result<(), AnaplanError> {
        let op = if assign { "assign" } else { "unassign" };
        let req = ApiRequest::get(["permissions", "exception-users", "users", user.as_str()])
            .method(Method::PATCH)
            .json(json!({ "op": op, "workspaceGuid": ws.as_str() }));
        self.client.bytes(req).await?;
        Ok(())
    }

    /// The tenant's users as Anaplan's CSV (`username,first_name,last_name,licenses`),
    /// unchanged.
    pub async fn export_users(&self) -> Result<String, AnaplanError> {
        self.client.text(ApiRequest::get(["users", "export"]).accept("text/csv")).await
    }

    /// Imports one CSV file of at most [`MAX_IMPORT_ROWS`] data rows (header included), sent
    /// as the description's `multipart/form-data` part `file`. Anaplan answers 207 with
    /// `accepted`, `created`, `updated` and `errors: [{line, message}]`; the field names of
    /// the errors are not live-confirmed, so `row`/`lineNumber` and `reason`/`error` are read
    /// too, and a 200 is read the same way.
    pub async fn import_users(&self, csv: &[u8]) -> Result<ImportOutcome, AnaplanError> {
        let boundary = boundary_for(csv);
        let mut body = Vec::with_capacity(csv.len() + 256);
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"users.csv\"\r\n");
        body.extend_from_slice(b"Content-Type: text/csv\r\n\r\n");
        body.extend_from_slice(csv);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = ApiRequest::get(["users", "import"])
            .method(Method::PUT)
            .body_as(bytes::Bytes::from(body), format!("multipart/form-data; boundary={boundary}"));
        let answer: Value = self.client.json(req).await?;
        read_import_outcome(&answer)
    }
}

/// A multipart boundary that does not occur in `content`.
fn boundary_for(content: &[u8]) -> String {
    let mut n: u64 = 0x0005_eed0_fa11;
    loop {
        let candidate = format!("anaplan-functions-{n:016x}");
        if !content.windows(candidate.len()).any(|w| w == candidate.as_bytes()) {
            return candidate;
        }
        n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    }
}

/// Reads an import's answer (see [`Admin::import_users`]).
pub fn read_import_outcome(answer: &Value) -> Result<ImportOutcome, AnaplanError> {
    let count = |k: &str| answer.get(k).and_then(Value::as_u64);
    let errors = match answer.get("errors").or_else(|| answer.get("failures")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|e| {
                let line = ["line", "row", "lineNumber"]
                    .iter()
                    .find_map(|k| e.get(*k).and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())))
                    .unwrap_or(0) as usize;
                let message = ["message", "reason", "error"]
                    .iter()
                    .find_map(|k| e.get(*k).and_then(Value::as_str))
                    .map(crate::untrusted::cut)
                    .unwrap_or_else(|| crate::untrusted::cut(&e.to_string()));
                (line, message)
            })
            .collect(),
        Some(other) => {
            return Err(AnaplanError::Protocol(format!(
                "PUT users/import: errors is {}",
                crate::untrusted::cut(&other.to_string())
            )));
        }
    };
    Ok(ImportOutcome {
        accepted: count("accepted"),
        created: count("created").unwrap_or(0),
        updated: count("updated").unwrap_or(0),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_admin_1_0_on_the_api_host() {
        let api = AdminApi::new(&Url::parse("https://eu3.api.anaplan.com").unwrap());
        assert_eq!(api.base.as_str(), "https://eu3.api.anaplan.com/admin/1/0/");
        let api = AdminApi::new(&Url::parse("http://127.0.0.1:9/").unwrap());
        assert_eq!(api.base.as_str(), "http://127.0.0.1:9/admin/1/0/");
    }

    #[test]
    fn user_guids_are_32_hex_characters_kept_in_lowercase() {
        assert_eq!(
            UserGuid::parse("8A80DA9A5FBE1C80015FC1D8D2F10C2F").unwrap().as_str(),
            "8a80da9a5fbe1c80015fc1d8d2f10c2f"
        );
        for bad in ["", "8a80da9a", "8a80da9a5fbe1c80015fc1d8d2f10c2g", "../8a80da9a5fbe1c80015fc1d8d2f10c"] {
            assert!(UserGuid::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn import_answers_are_read_in_either_spelling() {
        let documented =
            json!({"accepted": 3, "created": 2, "updated": 0, "errors": [{"line": 3, "message": "Unknown license"}]});
        assert_eq!(
            read_import_outcome(&documented).unwrap(),
            ImportOutcome { accepted: Some(3), created: 2, updated: 0, errors: vec![(3, "Unknown license".into())] }
        );
        let other = json!({"created": 1, "updated": 1, "failures": [{"row": "2", "reason": "Bad email"}]});
        assert_eq!(
            read_import_outcome(&other).unwrap(),
            ImportOutcome { accepted: None, created: 1, updated: 1, errors: vec![(2, "Bad email".into())] }
        );
        assert!(read_import_outcome(&json!({"errors": "x"})).is_err());
        assert_eq!(read_import_outcome(&json!({"accepted": 1, "created": 1})).unwrap().errors, vec![]);
    }

    #[test]
    fn the_boundary_is_not_in_the_content() {
        let b = boundary_for(b"username\n");
        let content = format!("x{b}y");
        assert_ne!(boundary_for(content.as_bytes()), b);
    }
}
