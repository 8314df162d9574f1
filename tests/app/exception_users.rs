//! exception-users: SSO exception users listed, granted and revoked end to end, through the
//! host against the emulator's Exception Users API; refusals before Anaplan is called, and
//! Anaplan's own (role, SSO, not one's own status).

use crate::support::app::{App, problem};
use anaplan_emulator::RecordedRequest;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn admin_requests(app: &App) -> Vec<RecordedRequest> {
    app.fake.requests().into_iter().filter(|r| r.path.starts_with("/admin/")).collect()
}

fn patches(app: &App) -> usize {
    admin_requests(app).iter().filter(|r| r.method == "PATCH").count()
}

async fn ok_json(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn listing_by_workspace_by_user_and_everywhere() {
    let app = App::start().await;
    let seeded = scim_user(EXCEPTION_USER_SEED);
    let fpa = json!({"userGuid": seeded.id, "email": seeded.user_name, "exceptionUser": true,
        "workspaceId": WS_FPA_ID, "workspaceName": WS_FPA_NAME});
    let body = ok_json(app.get("exception-users", &format!("workspaceName={}", enc(WS_FPA_NAME))).await).await;
    assert_eq!(body, json!([fpa]));
    let body = ok_json(app.get("exception-users", &format!("workspaceId={WS_SALES_ID}")).await).await;
    assert_eq!(body, json!([]));
    let body = ok_json(app.get("exception-users", "").await).await;
    assert_eq!(body, json!([fpa]), "every workspace the identity sees");
    let body =
        ok_json(app.get("exception-users", &format!("email={}", enc(&seeded.user_name.to_uppercase()))).await).await;
    assert_eq!(body, json!([fpa]), "by user: the workspaces where they are one");
    let other = scim_user(6);
    let body = ok_json(app.get("exception-users", &format!("email={}", enc(&other.user_name))).await).await;
    assert_eq!(
        body,
        json!([{"userGuid": other.id, "email": other.user_name, "exceptionUser": false, "workspaceId": null, "workspaceName": null}])
    );
    let body =
        ok_json(app.get("exception-users", &format!("userGuid={}&workspaceId={WS_FPA_ID}", other.id)).await).await;
    assert_eq!(
        body,
        json!([{"userGuid": other.id, "email": other.user_name, "exceptionUser": false, "workspaceId": WS_FPA_ID, "workspaceName": WS_FPA_NAME}])
    );
    // Anaplan's side: AnaplanAuthToken on every request, searches by workspace and by user.
    let sent = admin_requests(&app);
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|r| r.authorization_scheme.as_deref() == Some("AnaplanAuthToken")), "{sent:?}");
    assert!(sent.iter().all(|r| r.path == "/admin/1/0/permissions/exception-users/search" && r.method == "POST"));
}

#[tokio::test]
async fn unknown_users_and_workspaces_are_404s() {
    let app = App::start().await;
    let body = problem(app.get("exception-users", "email=nobody%40example.com").await, 404).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:unknown-user");
    assert!(body["detail"].as_str().unwrap().contains("nobody@example.com"), "{body}");
    let body = problem(app.get("exception-users", "userGuid=0123456789abcdef0123456789abcdef").await, 404).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:unknown-user");
    let body = problem(app.get("exception-users", "workspaceName=FP%26A%20Planing").await, 404).await;
    assert_eq!(body["closestNames"][0], WS_FPA_NAME);
    let grant = app
        .post(
            "exception-users",
            &format!("action=grant&workspaceId={WS_FPA_ID}"),
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    problem(grant, 404).await;
    assert_eq!(patches(&app), 0);
}

#[tokio::test]
async fn grant_and_revoke_change_only_what_differs() {
    let app = App::start().await;
    let user = scim_user(6);
    let key = (WS_FPA_ID.to_owned(), user.id.clone());
    let grant = format!("action=grant&workspaceName={}", enc(WS_FPA_NAME));
    let want = |exception: bool, changed: bool| {
        json!({"userGuid": user.id, "email": user.user_name, "exceptionUser": exception, "workspaceId": WS_FPA_ID,
            "workspaceName": WS_FPA_NAME, "changed": changed})
    };
    let body = ok_json(app.post("exception-users", &grant, &json!({"email": user.user_name})).await).await;
    assert_eq!(body, want(true, true));
    assert!(app.fake.exception_users().contains(&key));
    assert_eq!(patches(&app), 1);
    let body = ok_json(app.post("exception-users", &grant, &json!({"userGuid": user.id})).await).await;
    assert_eq!(body, want(true, false), "repeating it changes nothing");
    assert_eq!(patches(&app), 1);
    let listed = ok_json(app.get("exception-users", &format!("workspaceId={WS_FPA_ID}")).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let revoke = format!("action=revoke&workspaceId={WS_FPA_ID}");
    for changed in [true, false] {
        let body =
            ok_json(app.post("exception-users", &revoke, &json!({"userGuid": user.id.to_uppercase()})).await).await;
        assert_eq!(body, want(false, changed));
    }
    assert!(!app.fake.exception_users().contains(&key));
    assert_eq!(patches(&app), 2);
    let sent = admin_requests(&app);
    let patch = sent.iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch.path, format!("/admin/1/0/permissions/exception-users/users/{}", user.id));
    assert_eq!(patch.content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn bad_input_is_refused_before_anaplan_is_called() {
    let app = App::start().await;
    let ws = format!("workspaceId={WS_FPA_ID}");
    let email = json!({"email": "user006@example.com"});
    for (query, body, says) in [
        (ws.clone(), email.clone(), "action is required"),
        (format!("{ws}&action=assign"), email.clone(), "action"),
        ("action=grant".to_owned(), email.clone(), "workspaceId or workspaceName is required"),
        (format!("{ws}&action=grant"), json!({}), "email"),
        (format!("{ws}&action=grant"), json!({"email": "user006@example.com", "userGuid": USER_ID}), "not both"),
        (format!("{ws}&action=grant"), json!({"email": "user006"}), "email address"),
        (format!("{ws}&action=grant"), json!({"userGuid": "user006"}), "userGuid"),
        (format!("{ws}&action=grant"), json!({"email": "user006@example.com", "role": "x"}), "role"),
        ("workspaceId=FPA&action=grant".to_owned(), email.clone(), "workspaceId"),
    ] {
        let body = problem(app.post("exception-users", &query, &body).await, 400).await;
        assert!(body["detail"].as_str().unwrap().contains(says), "{query} {says}: {body}");
    }
    problem(app.get("exception-users", "action=grant").await, 400).await;
    problem(app.get("exception-users", "email=a%40b.com&userGuid=0123456789abcdef0123456789abcdef").await, 400).await;
    let seen = app.fake.requests();
    assert!(seen.iter().all(|r| !r.path.starts_with("/admin/") && !r.path.starts_with("/scim/")), "{seen:?}");
}

#[tokio::test]
async fn anaplans_refusals_come_back_with_its_status_and_message() {
    let app = App::start().await;
    let user = json!({"email": "user005@example.com"}); // FP&A Planning and Sales Ops
    let body =
        problem(app.post("exception-users", &format!("action=grant&workspaceId={WS_SALES_ID}"), &user).await, 400)
            .await;
    assert_eq!(body["anaplan"]["status"], 400);
    assert!(body["detail"].as_str().unwrap().contains("not SSO-enabled"), "{body}");
    let fpa = format!("action=grant&workspaceId={WS_FPA_ID}");
    let body = problem(app.post("exception-users", &fpa, &json!({"email": "user004@example.com"})).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("not found in the workspace"), "{body}");
    let body = problem(app.post("exception-users", &fpa, &json!({"email": USER_EMAIL})).await, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("their own"), "{body}");
    app.fake.set_admin_roles(false, true);
    let body = problem(app.post("exception-users", &fpa, &user).await, 403).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:anaplan-forbidden");
    assert!(body["detail"].as_str().unwrap().contains("Tenant Security Admin"), "{body}");
    // Searching needs no role.
    ok_json(app.get("exception-users", &format!("workspaceId={WS_FPA_ID}")).await).await;
    assert_eq!(app.fake.exception_users().len(), 1, "nothing changed");
}

#[tokio::test]
async fn a_callers_token_goes_as_anaplan_auth_token_and_their_role_decides() {
    let fake = anaplan_emulator::Emulator::start().await;
    let app = App::start_against(fake.clone(), |env| env.push(("ANAPLAN_AUTH_METHOD".into(), "caller".into()))).await;
    let theirs = fake.access_token_for("user004@example.com"); // Sales Ops only, no admin role
    let send = |req: reqwest::RequestBuilder| {
        req.header("x-functions-key", app.host.function_key())
            .header("authorization", format!("Bearer {theirs}"))
            .send()
    };
    let resp = send(app.http.get(format!("{}?workspaceId={WS_SALES_ID}", app.url("exception-users")))).await.unwrap();
    assert_eq!(ok_json(resp).await, json!([]));
    let resp = send(app.http.get(format!("{}?workspaceId={WS_FPA_ID}", app.url("exception-users")))).await.unwrap();
    problem(resp, 404).await;
    let grant = app
        .http
        .post(format!("{}?action=grant&workspaceId={WS_SALES_ID}", app.url("exception-users")))
        .json(&json!({"email": "user005@example.com"}));
    let body = problem(send(grant).await.unwrap(), 403).await;
    assert_eq!(body["anaplan"]["status"], 403);
    let sent = admin_requests(&app);
    assert!(sent.iter().all(|r| r.authorization_scheme.as_deref() == Some("AnaplanAuthToken")), "{sent:?}");
}
