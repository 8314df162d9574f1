//! health, called as an Azure Monitor availability test would: 200 when the app can serve
//! its next flow, 503 with Retry-After before a flow would fail; it never spends a refresh
//! token, looks at Anaplan at most once a minute, and shows no secret.

use std::time::Duration;

use serde_json::Value;

use crate::support::app::{App, certificate_app, use_auth};
use anaplan_emulator::Emulator;

async fn health(app: &App) -> (u16, Option<String>, Value) {
    let resp = app.get("health", "").await;
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let ctype = resp.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert_eq!(ctype, "application/json");
    let body: Value = resp.json().await.unwrap();
    for secret in app.fake.issued_secrets() {
        assert!(!body.to_string().contains(&secret), "a secret in the health answer: {body}");
    }
    (status, retry_after, body)
}

fn uses_of_users_me(fake: &Emulator) -> usize {
    fake.requests().iter().filter(|r| r.path == "/2/0/users/me").count()
}

#[tokio::test]
async fn a_working_app_is_ok_and_health_spends_no_refresh_token() {
    let app = App::start().await;
    let (status, retry_after, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(retry_after, None);
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["auth"]["method"], "oauth");
    assert_eq!(body["auth"]["status"], "ok");
    // Nothing has refreshed the chain yet, and health does not: its age is unknown.
    assert_eq!(body["auth"]["lastRefresh"], Value::Null, "{body}");
    assert_eq!(body["keyVault"], "not configured");
    assert_eq!(body["storage"], "ok", "Azurite answers: {body}");
    assert_eq!(body["anaplan"], "ok");
    assert!(app.fake.refresh_log().is_empty(), "health never refreshes a token");

    // After a flow, the chain's last refresh and its estimated death are reported.
    assert_eq!(app.get("users", "").await.status(), 200);
    let (status, _, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    let last = body["auth"]["lastRefresh"].as_str().expect("a date");
    let dies = body["auth"]["refreshTokenExpiresAt"].as_str().expect("a date");
    assert!(last.ends_with('Z') && dies > last, "{body}");
    assert_eq!(body["auth"]["certificateNotAfter"], Value::Null);
    assert_eq!(app.fake.refresh_log().len(), 1, "only the flow refreshed");
}

#[tokio::test]
async fn anaplan_is_looked_at_no_more_than_once_a_minute() {
    let app = App::start().await;
    for _ in 0..3 {
        let (status, _, body) = health(&app).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(uses_of_users_me(&app.fake), 1, "one look at Anaplan for three checks");
}

#[tokio::test]
async fn anaplan_failing_turns_health_red_with_retry_after() {
    let app = App::start().await;
    // With the access token a flow got, health's look passes Anaplan's sign-in check.
    assert_eq!(app.get("users", "").await.status(), 200);
    app.fake.fail_next(10, 503);
    let (status, retry_after, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(retry_after.as_deref(), Some("60"));
    assert!(body["anaplan"].as_str().unwrap().contains("503"), "{body}");
    assert_eq!(body["auth"]["status"], "ok", "the sign-in itself is fine: {body}");
}

#[tokio::test]
async fn a_chain_near_the_end_of_its_life_is_red_before_a_flow_fails() {
    let fake = Emulator::start().await;
    fake.set_refresh_token_lifetime(Some(Duration::from_secs(8)));
    let app = App::start_against(fake, |env| env.push(("ANAPLAN_REFRESH_TOKEN_LIFETIME".into(), "8".into()))).await;
    assert_eq!(app.get("users", "").await.status(), 200);
    assert_eq!(health(&app).await.0, 200);
    // Less than a quarter of the lifetime left, and still alive: red now, a flow still works.
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    let (status, _, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["auth"]["status"].as_str().unwrap().contains("keep-signed-in"), "{body}");
    app.fake.expire_access_tokens();
    assert_eq!(app.get("users", "").await.status(), 200, "a flow still works");
    // That flow refreshed the chain: green again.
    let (status, _, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_chain_anaplan_refused_is_red_and_says_to_sign_in_again() {
    let app = App::start().await;
    assert_eq!(app.get("users", "").await.status(), 200);
    app.fake.set_refresh_token_lifetime(Some(Duration::ZERO));
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.fake.expire_access_tokens();
    assert_eq!(app.get("users", "").await.status(), 401);
    let (status, _, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    let why = body["auth"]["status"].as_str().unwrap();
    assert!(why.contains("invalid_grant") && why.contains("sign the app in again"), "{body}");
}

#[tokio::test]
async fn a_certificate_reports_its_expiry_and_caller_mode_needs_no_token() {
    let app = certificate_app().await;
    let (status, _, body) = health(&app).await;
    // The emulator's demo certificate lives a year (the 30-day warning is a unit test).
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["method"], "certificate");
    assert!(body["auth"]["certificateNotAfter"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");
    let run = app.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert!(run.logs[0].contains("valid until"), "{run:?}");

    let app = App::start_against(Emulator::start().await, |env| use_auth(env, "caller", &[])).await;
    let (status, _, body) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["method"], "caller");
}

#[tokio::test]
async fn health_takes_no_parameters_and_no_other_method() {
    let app = App::start().await;
    let resp = app.get("health", "verbose=true").await;
    assert_eq!(resp.status(), 400);
    let resp = app.post("health", "", &serde_json::json!({})).await;
    assert!(resp.status() == 404 || resp.status() == 405, "{}", resp.status());
}
