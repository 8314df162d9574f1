//! The emulator's Exception Users and Administration APIs are strict: `AnaplanAuthToken`
//! only (Bearer is Exception Users' 400 FAILURE_BAD_HEADER and Administration's empty 401),
//! their role gates (searching is for anyone, bounded by the workspaces they see; changes
//! need Tenant Security Admin, checked after the body; Administration needs Tenant
//! Administrator), and the import's whole-file refusals and per-row errors.

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::emulator_api::access_token;

struct Admin {
    fake: Emulator,
    http: reqwest::Client,
    token: String,
}

const SEARCH: &str = "/admin/1/0/permissions/exception-users/search";
const HEADER: &str = "username,first_name,last_name,licenses";

impl Admin {
    async fn start() -> Admin {
        let fake = Emulator::start().await;
        let token = access_token(&fake).await;
        Admin { fake, http: reqwest::Client::new(), token }
    }

    fn req(&self, method: Method, path: &str, auth: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.fake.base_url())).header("authorization", auth)
    }

    fn mine(&self) -> String {
        format!("AnaplanAuthToken {}", self.token)
    }

    fn theirs(&self, user_name: &str) -> String {
        format!("AnaplanAuthToken {}", self.fake.access_token_for(user_name))
    }

    async fn send(&self, b: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = b.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn search(&self, auth: &str, body: Value) -> (u16, Value) {
        self.send(self.req(Method::POST, SEARCH, auth).json(&body)).await
    }

    async fn patch(&self, auth: &str, user: &str, body: Value) -> (u16, Value) {
        let path = format!("/admin/1/0/permissions/exception-users/users/{user}");
        self.send(self.req(Method::PATCH, &path, auth).json(&body)).await
    }

    async fn import(&self, auth: &str, csv: &str) -> (u16, Value) {
        let body = format!(
            "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--xyz--\r\n"
        );
        let req = self
            .req(Method::PUT, "/admin/1/0/users/import", auth)
            .header("content-type", "multipart/form-data; boundary=xyz")
            .body(body);
        self.send(req).await
    }

    async fn export(&self, query: &str) -> (u16, String) {
        let resp =
            self.req(Method::GET, &format!("/admin/1/0/users/export{query}"), &self.mine()).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

#[tokio::test]
async fn exception_users_take_only_anaplan_auth_token() {
    let a = Admin::start().await;
    let bearer = format!("Bearer {}", a.token);
    let (s, body) = a.search(&bearer, json!({ "workspaceGuid": WS_FPA_ID })).await;
    assert_eq!((s, body["status"].as_str()), (400, Some("FAILURE_BAD_HEADER")), "{body}");
    assert!(body["statusMessage"].as_str().unwrap().contains("token or apikey"), "{body}");
    let (s, body) = a.patch(&bearer, &scim_user(6).id, json!({ "op": "assign", "workspaceGuid": WS_FPA_ID })).await;
    assert_eq!((s, body["status"].as_str()), (400, Some("FAILURE_BAD_HEADER")));
    let (s, body) = a.search("AnaplanAuthToken stale", json!({ "workspaceGuid": WS_FPA_ID })).await;
    assert_eq!((s, body["status"].as_str()), (401, Some("FAILURE_INVALID_TOKEN")));
    assert!(a.fake.exception_users().len() == 1, "nothing changed");
}

#[tokio::test]
async fn searches_take_exactly_one_criterion_and_see_only_the_callers_workspaces() {
    let a = Admin::start().await;
    let seeded = scim_user(EXCEPTION_USER_SEED);
    let (s, body) = a.search(&a.mine(), json!({ "workspaceGuid": WS_FPA_ID })).await;
    assert_eq!(s, 200);
    assert_eq!(
        body,
        json!({"response": [{"workspaceGuid": WS_FPA_ID, "workspaceName": WS_FPA_NAME,
            "users": [{"userGuid": seeded.id, "email": seeded.user_name}]}]})
    );
    let (s, body) = a.search(&a.mine(), json!({ "userGuid": seeded.id })).await;
    assert_eq!((s, body["response"].as_array().map(Vec::len)), (200, Some(1)));
    let (s, body) = a.search(&a.mine(), json!({ "workspaceGuid": WS_SALES_ID })).await;
    assert_eq!((s, &body["response"][0]["users"]), (200, &json!([])));
    for bad in [
        json!({}),
        json!({ "workspaceGuid": WS_FPA_ID, "userGuid": seeded.id }),
        json!({ "workspaceGuid": "FP&A" }),
        json!({ "userGuid": seeded.id.to_uppercase() }),
        json!({ "email": seeded.user_name }),
    ] {
        let (s, body) = a.search(&a.mine(), bad.clone()).await;
        assert_eq!((s, body["status"].as_str()), (400, Some("FAILURE_BAD_REQUEST")), "{bad}: {body}");
    }
    let (s, _) = a.search(&a.mine(), json!({ "userGuid": "0123456789abcdef0123456789abcdef" })).await;
    assert_eq!(s, 404);
    // A Standard User searches too, bounded by their workspaces: user004 is in Sales Ops only.
    let sales_only = a.theirs("user004@example.com");
    let (s, _) = a.search(&sales_only, json!({ "workspaceGuid": WS_FPA_ID })).await;
    assert_eq!(s, 404, "a workspace the caller does not see");
    let (s, body) = a.search(&sales_only, json!({ "userGuid": seeded.id })).await;
    assert_eq!((s, body), (200, json!({"response": []})));
    let (s, _) = a.search(&sales_only, json!({ "workspaceGuid": WS_SALES_ID })).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn changes_check_the_body_then_the_role_then_the_user_and_workspace() {
    let a = Admin::start().await;
    let user6 = scim_user(6).id; // FP&A Planning
    let assign = json!({ "op": "assign", "workspaceGuid": WS_FPA_ID });
    // The body first, whoever asks.
    let standard = a.theirs("user005@example.com");
    for bad in [json!({ "op": "grant", "workspaceGuid": WS_FPA_ID }), json!({ "op": "assign" }), json!({})] {
        let (s, body) = a.patch(&standard, &user6, bad.clone()).await;
        assert_eq!((s, body["status"].as_str()), (400, Some("FAILURE_BAD_REQUEST")), "{bad}");
    }
    let (s, body) = a.patch(&standard, &user6, assign.clone()).await;
    assert_eq!((s, body["status"].as_str()), (403, Some("FAILURE_UNAUTHORIZED_USER_ACTION")));
    a.fake.set_admin_roles(false, true);
    assert_eq!(a.patch(&a.mine(), &user6, assign.clone()).await.0, 403, "the role dropped");
    let control = format!("{}/_emulator/admin-roles?tenantSecurityAdmin=true", a.fake.base_url());
    assert_eq!(a.http.post(&control).send().await.unwrap().status(), 204);
    let bad_control = format!("{}/_emulator/admin-roles?tenantSecurityAdmin=maybe", a.fake.base_url());
    assert_eq!(a.http.post(&bad_control).send().await.unwrap().status(), 400);
    assert_eq!(a.patch(&a.mine(), USER_ID, assign.clone()).await.0, 403, "not one's own status");
    assert_eq!(a.patch(&a.mine(), "0123456789abcdef0123456789abcdef", assign.clone()).await.0, 404);
    let unknown_ws = json!({ "op": "assign", "workspaceGuid": "0123456789abcdef0123456789abcdef" });
    assert_eq!(a.patch(&a.mine(), &user6, unknown_ws).await.0, 404);
    let (s, body) = a.patch(&a.mine(), &user6, json!({ "op": "assign", "workspaceGuid": WS_SALES_ID })).await;
    assert_eq!(s, 400, "Sales Ops is not SSO-enabled: {body}");
    let (s, body) = a.patch(&a.mine(), &scim_user(4).id, assign.clone()).await;
    assert_eq!(s, 400, "user004 is not in FP&A Planning: {body}");
    assert_eq!(a.fake.exception_users().len(), 1, "nothing changed yet");
    for _ in 0..2 {
        let (s, body) = a.patch(&a.mine(), &user6, assign.clone()).await;
        assert_eq!((s, body), (204, Value::String(String::new())));
    }
    assert!(a.fake.exception_users().contains(&(WS_FPA_ID.to_owned(), user6.clone())));
    assert_eq!(a.fake.exception_users().len(), 2, "assigned once");
    let unassign = json!({ "op": "unassign", "workspaceGuid": WS_FPA_ID });
    assert_eq!(a.patch(&a.mine(), &user6, unassign).await.0, 204);
    assert_eq!(a.fake.exception_users().len(), 1);
}

#[tokio::test]
async fn administration_takes_only_anaplan_auth_token_and_tenant_administrators() {
    let a = Admin::start().await;
    let resp = a.req(Method::GET, "/admin/1/0/users/export", &format!("Bearer {}", a.token)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.text().await.unwrap(), "", "Bearer: an empty 401, as live");
    let (s, body) =
        a.import(&a.theirs("user005@example.com"), &format!("{HEADER}\na@example.com,A,B,Standard\n")).await;
    assert_eq!((s, body["status"].as_str()), (403, Some("ACCESS_CONTROL_DENIED")), "{body}");
    a.fake.set_admin_roles(true, false);
    assert_eq!(a.export("").await.0, 403);
    a.fake.set_admin_roles(true, true);
    assert!(a.fake.user_imports().is_empty());
}

#[tokio::test]
async fn the_export_is_the_tenants_users_as_csv_with_limit_and_offset() {
    let a = Admin::start().await;
    let (s, csv) = a.export("").await;
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(lines.len(), SCIM_USER_COUNT + 1);
    assert_eq!(lines[1], format!("{USER_EMAIL},{USER_FIRST_NAME},{USER_LAST_NAME},\"Standard,Workflow\""));
    let (_, page) = a.export("?Limit=2&Offset=3").await;
    let page: Vec<&str> = page.lines().collect();
    assert_eq!(page, vec![HEADER, lines[4], lines[5]]);
    assert_eq!(a.export("?Limit=two").await.0, 400);
}

#[tokio::test]
async fn imports_refuse_bad_files_whole_and_report_bad_rows() {
    let a = Admin::start().await;
    let rows = |n: usize| (0..n).map(|i| format!("bulk{i}@example.com,Bulk,User{i},Standard\n")).collect::<String>();
    for (what, csv) in [
        ("no data row", format!("{HEADER}\n")),
        ("501 rows", format!("{HEADER}\n{}", rows(USER_IMPORT_MAX_ROWS + 1))),
        ("duplicate", format!("{HEADER}\na@example.com,A,B,Standard\nA@example.com,A,B,Standard\n")),
        ("empty cell", format!("{HEADER}\na@example.com,,B,Standard\n")),
        ("other columns", "email,first_name,last_name,licenses\na@example.com,A,B,Standard\n".to_owned()),
    ] {
        let (s, body) = a.import(&a.mine(), &csv).await;
        assert_eq!((s, body["status"].as_str()), (400, Some("FAILURE_BAD_REQUEST")), "{what}: {body}");
    }
    let no_file = a
        .req(Method::PUT, "/admin/1/0/users/import", &a.mine())
        .header("content-type", "text/csv")
        .body(format!("{HEADER}\na@example.com,A,B,Standard\n"));
    assert_eq!(a.send(no_file).await.0, 400, "the CSV goes as multipart part file");
    assert!(a.fake.user_imports().is_empty());

    let (s, body) = a.import(&a.mine(), &format!("{HEADER}\n{}", rows(USER_IMPORT_MAX_ROWS))).await;
    assert_eq!((s, &body["created"], &body["errors"]), (207, &json!(500), &json!([])));
    let csv = format!(
        "{HEADER}\nuser003@example.com,Grace,Renamed,\"Standard,PlanIQ\"\nnot-an-email,A,B,Standard\nc@example.com,C,D,Gold\n"
    );
    let (s, body) = a.import(&a.mine(), &csv).await;
    assert_eq!(s, 207);
    assert_eq!(body["accepted"], 3);
    assert_eq!((&body["created"], &body["updated"]), (&json!(0), &json!(1)));
    let lines: Vec<u64> = body["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 3], "{body}");
    assert_eq!(a.fake.user_licenses("user003@example.com"), "Standard,PlanIQ");
    assert_eq!(a.fake.scim_user_by_name("user003@example.com").unwrap()["name"]["familyName"], "Renamed");
    assert!(a.fake.scim_user_by_name("c@example.com").is_none());
    assert_eq!(a.fake.user_imports(), vec![500, 3]);
}
