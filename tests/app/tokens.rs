//! Access and refresh tokens end to end: expiry, rotation, restarts, refused credentials,
//! and the other auth methods.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use anaplan_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

fn query() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}")
}

/// The refresh log is one chain: each refresh presents the token the previous one issued,
/// and no token is presented twice.
fn assert_one_chain(fake: &Emulator) {
    let log = fake.refresh_log();
    let mut expected = fake.initial_refresh_token();
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r.error, None, "refresh {i} failed");
        assert_eq!(r.presented, expected, "refresh {i} did not present the newest token");
        expected = r.issued.clone().expect("a rotating client issues a new token");
    }
}

#[tokio::test]
async fn expired_access_tokens_are_refreshed_and_the_chain_never_breaks() {
    let app = App::start().await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(app.fake.refresh_log().len(), 1, "one refresh serves many requests");
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(app.fake.refresh_log().len(), 1);

    // Anaplan expires the token early: the 401 leads to one refresh and one retry.
    app.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(app.fake.refresh_log().len(), 2);
    assert_one_chain(&app.fake);

    // The newest refresh token is in the token file, never the first one in clear.
    let file = std::fs::read_to_string(app.state_dir.path().join("refresh-token")).unwrap();
    let newest = app.fake.refresh_log().last().unwrap().issued.clone().unwrap();
    assert!(file.contains(&newest));
    assert!(!file.contains(&app.fake.initial_refresh_token()));
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh() {
    let app = App::start().await;
    let url = format!("{}?{}", app.url("get-view-data"), query());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let req = app.http.get(&url).header("x-functions-key", app.host.function_key());
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(app.fake.refresh_log().len(), 1, "twenty concurrent first requests cause one refresh");
    assert_one_chain(&app.fake);
}

#[tokio::test]
async fn a_restarted_app_continues_the_chain_from_the_token_file() {
    let fake = Emulator::start().await;
    let state_dir = tempfile::tempdir().unwrap();
    let token_file = state_dir.path().join("refresh-token").display().to_string();
    for round in 0..3 {
        let tf = token_file.clone();
        let app = App::start_against(fake.clone(), move |env| {
            env.retain(|(k, _)| k != "ANAPLAN_TOKEN_FILE");
            env.push(("ANAPLAN_TOKEN_FILE".into(), tf));
        })
        .await;
        assert_eq!(app.get("get-view-data", &query()).await.status(), 200, "round {round}");
        app.host.terminate().await.unwrap();
    }
    assert_eq!(fake.refresh_log().len(), 3);
    assert_one_chain(&fake);
}

#[tokio::test]
async fn a_refused_refresh_token_is_a_401_that_says_what_to_do() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, |env| {
        env.retain(|(k, _)| k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_REFRESH_TOKEN".into(), "rt-not-a-real-token".into()));
    })
    .await;
    let body = problem(app.get("get-view-data", &query()).await, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("invalid_grant"), "{body}");
    assert!(!body.to_string().contains("rt-not-a-real-token"));
    assert!(!app.host.output().contains("rt-not-a-real-token"));
}

#[tokio::test]
async fn caller_mode_uses_the_callers_token_and_needs_one() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, |env| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "caller".into()));
    })
    .await;
    problem(app.get("get-view-data", &query()).await, 401).await;
    assert!(app.fake.requests().is_empty(), "no token, no call to Anaplan");

    // A token the caller got from Anaplan's OAuth service (as a custom connector would).
    let grant: Value = app
        .http
        .post(format!("{}/oauth/token", app.fake.base_url()))
        .json(&serde_json::json!({
            "grant_type": "refresh_token",
            "client_id": app.fake.client_id(),
            "client_secret": app.fake.client_secret(),
            "refresh_token": app.fake.initial_refresh_token(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = grant["access_token"].as_str().unwrap();
    let as_caller = || {
        app.http
            .get(format!("{}?{}", app.url("get-view-data"), query()))
            .header("x-functions-key", app.host.function_key())
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    let resp = as_caller().await.unwrap();
    assert_eq!(resp.status(), 200);
    let schemes: Vec<Option<String>> = app
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/2/0/"))
        .map(|r| r.authorization_scheme)
        .collect();
    assert!(!schemes.is_empty());
    assert!(schemes.iter().all(|s| s.as_deref() == Some("AnaplanAuthToken")), "{schemes:?}");

    // An expired caller token is the caller's 401, not a refresh.
    app.fake.expire_access_tokens();
    let resp = as_caller().await.unwrap();
    problem(resp, 401).await;
    assert_eq!(app.fake.refresh_log().len(), 1, "only the test's own grant");
}

#[tokio::test]
async fn basic_auth_logs_in_with_the_legacy_token_service() {
    let fake = Emulator::start_with(EmulatorConfig::default()).await;
    fake.set_basic_user("integration@example.com", "pa55 word:with colon");
    let app = App::start_against(fake, |env| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "basic".into()));
        env.push(("ANAPLAN_USERNAME".into(), "integration@example.com".into()));
        env.push(("ANAPLAN_PASSWORD".into(), "pa55 word:with colon".into()));
    })
    .await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    app.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200, "an expired token leads to a new login");
    assert!(!app.host.output().contains("pa55 word"));
}

#[tokio::test]
async fn a_client_that_needs_its_secret_and_has_none_says_which_setting_to_set() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, |env| env.retain(|(k, _)| k != "ANAPLAN_CLIENT_SECRET")).await;
    // A refusal, not a 503: retrying cannot add a setting, so Logic Apps must not retry it.
    let resp = app.get("get-view-data", &query()).await;
    assert!(resp.headers().get("retry-after").is_none(), "nothing to wait for");
    let body = problem(resp, 401).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("ANAPLAN_CLIENT_SECRET") && detail.contains("client secret"), "{body}");
    assert!(
        !detail.contains("refresh token") && !detail.contains("auth login"),
        "the refresh token is not blamed: {body}"
    );
    // Nothing was spent: the refused request never reached the chain.
    let log = app.fake.refresh_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].error.as_deref(), Some("invalid_client"));
    assert_eq!(app.fake.refresh_log()[0].presented, app.fake.initial_refresh_token());
}
