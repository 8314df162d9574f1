//! Faults around authentication, tried as an unlucky operator would meet them: a request cut
//! at each step of a refresh, a busy token service, absurd values from outside, a refresh
//! lease held longer than its length, and `Idempotency-Key` across a caller's token refresh.

mod support;

// ------------------------------------------------------------------ the emulator's side

use anaplan_functions::emulator::Emulator;
use anaplan_functions::emulator::seed::*;
use serde_json::{Value, json};

/// A refresh grant against the emulator's OAuth service: (access token, next refresh token).
async fn grant(fake: &Emulator, refresh: &str) -> (String, String) {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.base_url()))
        .json(&json!({
            "grant_type": "refresh_token",
            "client_id": fake.client_id(),
            "client_secret": fake.client_secret(),
            "refresh_token": refresh,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (v["access_token"].as_str().unwrap().to_owned(), v["refresh_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_emulator_knows_whose_token_it_is_and_can_be_told_to_be_busy() {
    let fake = Emulator::start().await;
    let http = reqwest::Client::new();
    let me = |token: String| {
        http.get(format!("{}/2/0/users/me", fake.base_url()))
            .header("authorization", format!("AnaplanAuthToken {token}"))
            .send()
    };
    let (ours, _) = grant(&fake, &fake.initial_refresh_token()).await;
    let body: Value = me(ours).await.unwrap().json().await.unwrap();
    assert_eq!(body["user"]["id"], USER_ID);
    let theirs = fake.access_token_for("user005@example.com");
    let body: Value = me(theirs.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(body["user"]["id"], scim_user(5).id.as_str());
    assert_eq!(body["user"]["email"], "user005@example.com");
    fake.expire_access_tokens();
    assert_eq!(me(theirs).await.unwrap().status(), 401);

    // The control surface: the next token request is a 429 with Retry-After, in OAuth's shape.
    let control = http
        .post(format!("{}/_emulator/token-fail?count=1&status=429&retryAfter=7", fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(control.status(), 204);
    let busy = http
        .post(format!("{}/oauth/token", fake.base_url()))
        .json(&json!({"grant_type": "refresh_token", "client_id": fake.client_id(), "refresh_token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 429);
    assert_eq!(busy.headers()["retry-after"], "7");
    let body: Value = busy.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(fake.refresh_log().len() == 1, "a refused request is no refresh attempt");
    let bad = http.post(format!("{}/_emulator/token-fail?status=abc", fake.base_url())).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

// ------------------------------------------------------------------ absurd values

use support::app::{App, problem};

fn query() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}")
}

#[tokio::test]
async fn an_absurd_retry_after_from_anaplan_is_clamped_and_never_crashes_the_handler() {
    let app = App::start().await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    for retry_after in [u64::MAX, 99_999_999_999_999] {
        app.fake.throttle_next(1, retry_after);
        let resp = app.get("get-view-data", &query()).await;
        let secs: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert_eq!(secs, 3600, "Retry-After {retry_after} is passed on as an hour");
        problem(resp, 429).await;
    }
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200, "the handler still serves");
}

// ------------------------------------------------------------------ busy token services

fn basic_env(env: &mut Vec<(String, String)>) {
    env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
    env.push(("ANAPLAN_AUTH_METHOD".into(), "basic".into()));
    env.push(("ANAPLAN_USERNAME".into(), USER_EMAIL.into()));
    env.push(("ANAPLAN_PASSWORD".into(), "pa55word".into()));
}

fn token_calls(fake: &Emulator, path: &str) -> usize {
    fake.requests().iter().filter(|r| r.path == path).count()
}

#[tokio::test]
async fn a_legacy_token_service_that_throttles_or_times_out_is_retried_not_refused() {
    let fake = Emulator::start().await;
    fake.set_basic_user(USER_EMAIL, "pa55word");
    let app = App::start_against(fake.clone(), basic_env).await;
    // A 429 and then a 408: both retried, the login succeeds.
    fake.fail_token_requests(1, 429, Some(0));
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(token_calls(&fake, "/token/authenticate"), 2);
    fake.expire_access_tokens();
    fake.fail_token_requests(2, 408, None);
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);

    // Throttled for longer than the budget: 429 with Retry-After, never a 401.
    fake.expire_access_tokens();
    fake.fail_token_requests(100, 429, Some(1));
    let body = problem(app.get("get-view-data", &query()).await, 429).await;
    assert!(body["detail"].as_str().unwrap().contains("429"), "{body}");
    // Timing out for longer: 503 with Retry-After.
    fake.fail_token_requests(100, 408, None);
    problem(app.get("get-view-data", &query()).await, 503).await;
    fake.fail_token_requests(0, 429, None);
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200, "and it recovers");
    assert!(!app.host.output().contains("pa55word"));
}
