//! access-review end to end, through the host against the emulator: administrators and
//! visitors of every workspace joined with the tenant's users (every page read), SCIM's
//! workspace entitlements as user rows only when SCIM is configured, one row per user and
//! workspace with the strongest role, the same rows as CSV, and the refusals.

use crate::support::app::{App, problem};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

/// One expected row: (workspace id, seeded user number, role).
type Expected = (&'static str, usize, &'static str);

/// The rows the seed gives, in the answer's order: workspaces as listed (FP&A Planning,
/// Sales Ops); in each, admins, users, visitors, each by email. `scim`: SCIM configured.
fn expected(scim: bool) -> Vec<Expected> {
    let mut out = Vec::new();
    for ws in [WS_FPA_ID, WS_SALES_ID] {
        let admins = workspace_members(ws, true);
        let visitors = workspace_members(ws, false);
        let entitled: Vec<usize> =
            (0..SCIM_USER_COUNT).filter(|&n| scim && scim_user(n).workspaces.contains(&ws)).collect();
        let email = |n: &usize| scim_user(*n).user_name;
        let mut a: Vec<usize> = admins.to_vec();
        let mut u: Vec<usize> = entitled.iter().copied().filter(|n| !admins.contains(n)).collect();
        let mut v: Vec<usize> = visitors.iter().copied().filter(|n| !a.contains(n) && !u.contains(n)).collect();
        for list in [&mut a, &mut u, &mut v] {
            list.sort_by_key(email);
        }
        out.extend(a.into_iter().map(|n| (ws, n, "admin")));
        out.extend(u.into_iter().map(|n| (ws, n, "user")));
        out.extend(v.into_iter().map(|n| (ws, n, "visitor")));
    }
    out
}

fn row(ws: &str, n: usize, role: &str) -> Value {
    let seed = scim_user(n);
    json!({
        "userId": seed.id,
        "email": seed.user_name,
        "firstName": seed.given_name,
        "lastName": seed.family_name,
        "workspaceId": ws,
        "workspaceName": if ws == WS_FPA_ID { WS_FPA_NAME } else { WS_SALES_NAME },
        "role": role,
        "active": seed.active,
        "lastLoginDate": last_login_date(n),
    })
}

async fn ok_json(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn requests_to(app: &App, path_end: &str) -> usize {
    app.fake.requests().iter().filter(|r| r.path.ends_with(path_end)).count()
}

#[tokio::test]
async fn without_scim_the_rows_are_every_workspaces_admins_and_visitors_every_page_read() {
    let app = App::start().await;
    let rows = ok_json(app.get("access-review", "").await).await;
    let want: Vec<Value> = expected(false).into_iter().map(|(ws, n, role)| row(ws, n, role)).collect();
    assert_eq!(rows, Value::Array(want));
    // Inactive admin user 30 is there, inactive; user 3 never signed in (null).
    assert!(rows.as_array().unwrap().iter().any(|r| r["email"] == "user030@example.com" && r["active"] == false));
    assert!(
        rows.as_array().unwrap().iter().any(|r| r["email"] == "user003@example.com" && r["lastLoginDate"].is_null())
    );
    // The emulator pages by 2: every listing took several pages.
    assert!(requests_to(&app, "/2/0/users") > 2, "the tenant's users were read page by page");
    for ws in [WS_FPA_ID, WS_SALES_ID] {
        assert!(requests_to(&app, &format!("{ws}/admins")) > 1);
        assert!(requests_to(&app, &format!("{ws}/visitors")) > 1);
    }
    assert!(!app.fake.requests().iter().any(|r| r.path.starts_with("/scim/")), "SCIM is not configured");
}

#[tokio::test]
async fn with_scim_configured_entitlements_are_user_rows_and_the_strongest_role_wins() {
    let fake = Emulator::start().await;
    let key = fake.scim_api_key();
    let app = App::start_against(fake, |env| env.push(("ANAPLAN_SCIM_API_KEY".into(), key.clone()))).await;
    let rows = ok_json(app.get("access-review", "").await).await;
    let want: Vec<Value> = expected(true).into_iter().map(|(ws, n, role)| row(ws, n, role)).collect();
    assert_eq!(rows.as_array().unwrap().len(), want.len());
    assert_eq!(rows, Value::Array(want));
    let role = |email: &str, ws: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["email"] == email && r["workspaceId"] == ws)
            .map(|r| r["role"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // User 5 visits Sales Ops and has it in SCIM: one row, user. User 3 administers FP&A and
    // has it in SCIM: admin. The integration user administers both.
    assert_eq!(role("user005@example.com", WS_SALES_ID), ["user"]);
    assert_eq!(role("user003@example.com", WS_FPA_ID), ["admin"]);
    assert_eq!(role(USER_EMAIL, WS_SALES_ID), ["admin"]);
    assert!(app.fake.scim_key_requests() > 1, "SCIM's pages were read with the key");

    // One workspace, by name.
    let one = ok_json(app.get("access-review", "workspaceName=Sales%20Ops").await).await;
    let want: Vec<Value> =
        expected(true).into_iter().filter(|(ws, ..)| *ws == WS_SALES_ID).map(|(ws, n, r)| row(ws, n, r)).collect();
    assert_eq!(one, Value::Array(want));
}

#[tokio::test]
async fn the_csv_is_the_same_rows_and_columns_with_a_header() {
    let app = App::start().await;
    let rows = ok_json(app.get("access-review", &format!("workspaceId={WS_FPA_ID}")).await).await;
    let resp = app.get("access-review", &format!("workspaceId={WS_FPA_ID}&format=csv")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let columns =
        ["userId", "email", "firstName", "lastName", "workspaceId", "workspaceName", "role", "active", "lastLoginDate"];
    assert_eq!(header, columns);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let rows = rows.as_array().unwrap();
    assert_eq!(records.len(), rows.len());
    for (record, row) in records.iter().zip(rows) {
        for (field, column) in record.iter().zip(columns) {
            let want = match &row[column] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(field, want, "{column} of {row}");
        }
    }
    // FP&A Planning's name needs no quoting, but the workspace column is there on every line.
    assert!(text.lines().skip(1).all(|l| l.contains(WS_FPA_NAME)));
}

#[tokio::test]
async fn bad_input_is_a_400_before_anaplan_is_called_and_unknown_workspaces_404() {
    let app = App::start().await;
    for query in [
        "workspaceId=not-an-id",
        "workspaceId=8a81b09d599f3c6e0159f605560c2630&workspaceName=Sales%20Ops",
        "format=xml",
        "role=admin",
    ] {
        let body = problem(app.get("access-review", query).await, 400).await;
        assert!(body["detail"].is_string(), "{query}: {body}");
    }
    assert!(app.fake.requests().iter().all(|r| !r.path.starts_with("/2/0/")), "Anaplan was not called");
    let resp = app
        .http
        .post(app.url("access-review"))
        .header("x-functions-key", app.host.function_key())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    // function.json takes GET only: the host answers another method without the handler.
    assert_eq!(resp.status(), 404);

    let body = problem(app.get("access-review", "workspaceName=Sales%20Opz").await, 404).await;
    assert_eq!(body["closestNames"][0], WS_SALES_NAME, "{body}");
    let body = problem(app.get("access-review", "workspaceId=0123456789abcdef0123456789abcdef").await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("0123456789abcdef0123456789abcdef"), "{body}");
    assert!(!app.fake.requests().iter().any(|r| r.path.ends_with("/admins")), "no workspace was listed");
}

#[tokio::test]
async fn a_caller_without_the_user_administrator_role_is_told_what_anaplans_500_means() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake.clone(), |env| env.push(("ANAPLAN_AUTH_METHOD".into(), "caller".into()))).await;
    let theirs = fake.access_token_for("user005@example.com");
    let resp = app
        .http
        .get(format!("{}?workspaceId={WS_SALES_ID}", app.url("access-review")))
        .header("x-functions-key", app.host.function_key())
        .header("authorization", format!("Bearer {theirs}"))
        .send()
        .await
        .unwrap();
    let body = problem(resp, 502).await;
    assert!(body["detail"].as_str().unwrap().contains("User Administrator"), "{body}");
    assert_eq!(body["anaplan"]["status"], 500);
    assert!(!body.to_string().contains(&theirs));
}
