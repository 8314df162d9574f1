//! tenant-users: the tenant's users exported and imported as CSV end to end, through the host
//! against the emulator's Administration API: batches of 500, refused rows a 422 and never a
//! 200, the whole file checked before Anaplan is called, Tenant Administrator only.

use crate::support::app::{App, problem};
use anaplan_emulator::RecordedRequest;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

const HEADER: &str = "username,first_name,last_name,licenses";

fn admin_requests(app: &App) -> Vec<RecordedRequest> {
    app.fake.requests().into_iter().filter(|r| r.path.starts_with("/admin/")).collect()
}

fn users_csv(from: usize, n: usize) -> String {
    let mut csv = format!("{HEADER}\n");
    for i in from..from + n {
        csv.push_str(&format!("new{i:04}@example.com,New,User {i},\"Standard,Workflow\"\n"));
    }
    csv
}

async fn import(app: &App, csv: &str) -> reqwest::Response {
    app.post_bytes("tenant-users", "", Some("text/csv"), csv.as_bytes().to_vec()).await
}

#[tokio::test]
async fn the_export_is_anaplans_csv() {
    let app = App::start().await;
    let resp = app.get("tenant-users", "").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(lines.len(), SCIM_USER_COUNT + 1);
    assert!(lines.contains(&"user003@example.com,Edsger,Lovelace,Standard"), "{}", lines[4]);
    let sent = admin_requests(&app);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].method.as_str(), sent[0].path.as_str()), ("GET", "/admin/1/0/users/export"));
    assert_eq!(sent[0].authorization_scheme.as_deref(), Some("AnaplanAuthToken"));
    assert_eq!(sent[0].accept.as_deref(), Some("text/csv"));
}

#[tokio::test]
async fn an_import_goes_in_files_of_500_rows_and_repeating_it_updates() {
    let app = App::start().await;
    let csv = users_csv(0, 1201);
    let resp = import(&app, &csv).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"rows": 1201, "created": 1201, "updated": 0, "failures": []}));
    assert_eq!(app.fake.user_imports(), vec![500, 500, 201]);
    assert_eq!(app.fake.user_licenses("new1200@example.com"), "Standard,Workflow");
    let sent = admin_requests(&app);
    assert!(sent.iter().all(|r| r.method == "PUT"
        && r.path == "/admin/1/0/users/import"
        && r.content_type.as_deref().is_some_and(|c| c.starts_with("multipart/form-data; boundary="))
        && r.authorization_scheme.as_deref() == Some("AnaplanAuthToken")));
    let body: Value = import(&app, &csv).await.json().await.unwrap();
    assert_eq!(body, json!({"rows": 1201, "created": 0, "updated": 1201, "failures": []}));
    let export = app.get("tenant-users", "").await.text().await.unwrap();
    assert!(export.contains("new0600@example.com,New,User 600,\"Standard,Workflow\""));
}

#[tokio::test]
async fn refused_rows_make_a_422_that_lists_them() {
    let app = App::start().await;
    let mut csv = users_csv(0, 600);
    csv = csv.replace("new0001@example.com", "new0001-at-example.com");
    csv =
        csv.replace("new0550@example.com,New,User 550,\"Standard,Workflow\"", "new0550@example.com,New,User 550,Gold");
    let body = problem(import(&app, &csv).await, 422).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:users-refused");
    assert_eq!((&body["rows"], &body["created"], &body["updated"]), (&json!(600), &json!(598), &json!(0)));
    let failures = body["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2, "{body}");
    assert_eq!(failures[0]["row"], 2);
    assert_eq!(failures[0]["email"], "new0001-at-example.com");
    assert_eq!(failures[1]["row"], 551, "counted across the files");
    assert_eq!(failures[1]["email"], "new0550@example.com");
    assert!(failures[1]["reason"].as_str().unwrap().contains("Gold"));
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_before_anaplan_is_called() {
    let app = App::start().await;
    for (csv, says) in [
        ("email,first_name,last_name,licenses\na@example.com,A,B,Standard\n".to_owned(), "header"),
        (format!("{HEADER}\n"), "no user"),
        (format!("{HEADER}\na@example.com,A,,Standard\n"), "no last_name"),
        (format!("{HEADER}\na@example.com,A,B,Standard\nA@Example.com,A,B,Standard\n"), "both have the username"),
        (format!("{HEADER}\na@example.com,A,B\n"), "3 values"),
    ] {
        let body = problem(import(&app, &csv).await, 400).await;
        assert!(body["detail"].as_str().unwrap().contains(says), "{says}: {body}");
    }
    let resp = app.post_bytes("tenant-users", "", Some("application/json"), b"{}".to_vec()).await;
    problem(resp, 415).await;
    problem(app.get("tenant-users", "format=csv").await, 400).await;
    assert!(admin_requests(&app).is_empty());
}

#[tokio::test]
async fn only_a_tenant_administrator_exports_or_imports() {
    let app = App::start().await;
    app.fake.set_admin_roles(true, false);
    let body = problem(app.get("tenant-users", "").await, 403).await;
    assert_eq!(body["anaplan"]["status"], 403);
    assert!(body["detail"].as_str().unwrap().contains("Tenant Administrator"), "{body}");
    problem(import(&app, &users_csv(0, 3)).await, 403).await;
    assert!(app.fake.user_imports().is_empty());
}
