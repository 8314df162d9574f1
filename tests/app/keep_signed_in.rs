//! keep-signed-in, fired as the Functions host fires a timer: an app left idle for longer
//! than its refresh token's lifetime finds a dead chain without the timer, and a live one
//! with it; a chain refreshed recently is left alone; a certificate near its expiry fails
//! the invocation. (The lifetimes are seconds here, the schedule is the test's loop.)

use std::time::Duration;

use crate::support::app::{App, use_auth};
use anaplan_emulator::Emulator;

/// An app whose Anaplan client lets a refresh token live `lifetime` seconds unused, and
/// which knows it.
async fn app_with_lifetime(lifetime: u64) -> App {
    let fake = Emulator::start().await;
    fake.set_refresh_token_lifetime(Some(Duration::from_secs(lifetime)));
    App::start_against(fake, |env| {
        env.push(("ANAPLAN_REFRESH_TOKEN_LIFETIME".into(), lifetime.to_string()));
    })
    .await
}

/// A flow's call: lists the workspaces.
async fn flow(app: &App) -> reqwest::Response {
    app.get("users", "").await
}

#[tokio::test]
async fn an_idle_app_loses_its_sign_in_without_the_timer_and_keeps_it_with_it() {
    const LIFETIME: u64 = 8;
    let (without, with) = tokio::join!(app_with_lifetime(LIFETIME), app_with_lifetime(LIFETIME));
    assert_eq!(flow(&without).await.status(), 200);
    assert_eq!(flow(&with).await.status(), 200);

    // Idle for longer than the lifetime; one app's timer runs meanwhile, more often than a
    // quarter of it.
    let timer = async {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(2_500)).await;
            let run = with.host.fire_timer("keep-signed-in").await.unwrap();
            assert!(run.succeeded, "{run:?}");
            assert_eq!(run.return_value["refreshed"], true, "older than a quarter of the lifetime: {run:?}");
            assert_eq!(run.logs.len(), 1, "one line: {run:?}");
        }
    };
    tokio::join!(timer, tokio::time::sleep(Duration::from_secs(LIFETIME + 2)));

    // The next flow needs a new access token (the one from before has expired by then).
    without.fake.expire_access_tokens();
    with.fake.expire_access_tokens();
    let dead = flow(&without).await;
    assert_eq!(dead.status(), 401, "the chain died of disuse");
    let problem: serde_json::Value = dead.json().await.unwrap();
    assert_eq!(problem["type"].as_str().map(|t| t.ends_with("anaplan-credentials-rejected")), Some(true), "{problem}");
    assert_eq!(flow(&with).await.status(), 200, "the timer kept the chain alive");

    // The timer spent each token once, and never a spent one.
    let log = with.fake.refresh_log();
    assert!(log.iter().all(|r| r.error.is_none()), "no refresh failed: {log:?}");
    assert!(log.len() >= 5, "the first flow, four timer runs and the last flow: {log:?}");
}

#[tokio::test]
async fn a_chain_refreshed_recently_is_left_alone_and_an_unknown_age_is_refreshed() {
    let app = App::start().await;
    // Nothing has refreshed the chain yet: its age is unknown, so the timer refreshes it.
    let run = app.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert_eq!(run.return_value["refreshed"], true, "{run:?}");
    assert_eq!(app.fake.refresh_log().len(), 1);

    // Refreshed a moment ago: nothing to do, nothing spent.
    let run = app.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert_eq!(run.return_value["refreshed"], false, "{run:?}");
    assert!(run.logs[0].contains("nothing to do"), "{run:?}");
    assert!(run.return_value["refreshTokenExpiresAt"].is_string(), "{run:?}");
    assert_eq!(app.fake.refresh_log().len(), 1, "no token was spent");

    // A flow after it uses the access token the timer got.
    assert_eq!(flow(&app).await.status(), 200);
    assert_eq!(app.fake.refresh_log().len(), 1);
    for token in app.fake.issued_secrets() {
        assert!(!run.logs.iter().any(|l| l.contains(&token)), "a secret was logged");
    }
}

#[tokio::test]
async fn a_dead_chain_fails_the_invocation_and_says_to_sign_in_again() {
    let app = app_with_lifetime(4).await;
    assert_eq!(flow(&app).await.status(), 200);
    // The OAuth client's lifetime shrinks to nothing: the chain is dead.
    app.fake.set_refresh_token_lifetime(Some(Duration::ZERO));
    // Older than a quarter of 4 s, so the timer tries.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let run = app.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(!run.succeeded && run.status == 500, "{run:?}");
    // The host drops a failed invocation's logs; the line is in the handler's own log.
    let output = app.host.output();
    let line = output.lines().find(|l| l.contains("could NOT be refreshed")).expect("the failure is logged");
    assert!(line.contains("invalid_grant") && line.contains("sign the app in again"), "{line}");
}

#[tokio::test]
async fn basic_sign_in_has_nothing_to_keep_alive() {
    let fake = Emulator::start().await;
    let user = fake.credentials();
    let app = App::start_against(fake, |env| {
        use_auth(env, "basic", &[("ANAPLAN_USERNAME", &user.username), ("ANAPLAN_PASSWORD", &user.password)]);
    })
    .await;
    let run = app.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert!(run.logs[0].contains("nothing to keep signed in"), "{run:?}");
}
