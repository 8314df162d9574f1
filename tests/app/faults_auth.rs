//! Faults around authentication, tried as an unlucky operator would meet them: a request cut
//! at each step of a refresh, a busy token service, absurd values from outside, a refresh
//! lease held longer than its length, and `Idempotency-Key` across a caller's token refresh.

// ------------------------------------------------------------------ the emulator's side

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

/// A refresh grant against the emulator's OAuth service: (access token, next refresh token).
async fn grant(fake: &Emulator, refresh: &str) -> (String, String) {
    crate::support::emulator_api::refresh_grant(fake, refresh).await
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

use crate::support::app::{App, problem};

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

#[tokio::test]
async fn an_oauth_token_endpoint_that_throttles_or_fails_is_retried_not_refused() {
    let app = App::start().await;
    app.fake.fail_token_requests(2, 503, Some(0));
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    // The refused attempts spent nothing: one refresh, the first token of the chain.
    let log = app.fake.refresh_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].presented, app.fake.initial_refresh_token());

    app.fake.expire_access_tokens();
    app.fake.fail_token_requests(100, 429, Some(1));
    let resp = app.get("get-view-data", &query()).await;
    assert_eq!(resp.headers()["retry-after"], "1");
    let body = problem(resp, 429).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:anaplan-auth-throttled", "{body}");
    app.fake.fail_token_requests(100, 500, None);
    problem(app.get("get-view-data", &query()).await, 503).await;
    app.fake.fail_token_requests(0, 429, None);
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(app.fake.refresh_log().len(), 2, "no refresh token was spent by the refused attempts");
}

// ------------------------------------------------------------------ a refresh cut short

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anaplan::auth::retry::TokenRetry;
use anaplan::auth::{ChainLock, OAuthSession, SecretKind, SecretSource};
use anaplan::client::http_client;
use anaplan::secret::Secret;
use anaplan::{AuthError, Credentials};
use anaplan_functions::secrets::env::NoLock;
use async_trait::async_trait;
use tokio::sync::Notify;

/// The steps of a refresh where a request can be cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Reading the newest refresh token: nothing is spent yet.
    ReadRefresh,
    /// Writing the rotated refresh token: Anaplan has spent the old one.
    WriteRefresh,
    /// Sharing the new access token: the successor is stored.
    WriteAccess,
}

/// A step that stops until the test lets it go on (or forever, for a store that hangs).
struct Gate {
    step: Step,
    reached: Arc<Notify>,
    open: Arc<Notify>,
    hang: bool,
}

/// A credential store in memory whose calls can be held at one step. A write lands only
/// when it completes, as with a slow vault.
#[derive(Default)]
struct SlowStore {
    values: Mutex<HashMap<SecretKind, Vec<Secret>>>,
    gate: Mutex<Option<Gate>>,
}

impl std::fmt::Debug for SlowStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlowStore")
    }
}

impl SlowStore {
    fn for_emulator(fake: &Emulator) -> Arc<SlowStore> {
        let store = SlowStore::default();
        {
            let mut v = store.values.lock().unwrap();
            v.insert(SecretKind::ClientId, vec![Secret::new(fake.client_id())]);
            v.insert(SecretKind::ClientSecret, vec![Secret::new(fake.client_secret())]);
            v.insert(SecretKind::RefreshToken, vec![Secret::new(fake.initial_refresh_token())]);
        }
        Arc::new(store)
    }

    /// Holds the next call at `step`: returns (reached, open).
    fn hold(&self, step: Step, hang: bool) -> (Arc<Notify>, Arc<Notify>) {
        let (reached, open) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        *self.gate.lock().unwrap() = Some(Gate { step, reached: reached.clone(), open: open.clone(), hang });
        (reached, open)
    }

    async fn pass(&self, step: Step) {
        let gate = {
            let mut g = self.gate.lock().unwrap();
            if g.as_ref().is_some_and(|g| g.step == step) { g.take() } else { None }
        };
        if let Some(g) = gate {
            g.reached.notify_one();
            if g.hang {
                std::future::pending::<()>().await;
            }
            g.open.notified().await;
        }
    }

    fn refresh_tokens(&self) -> Vec<String> {
        let v = self.values.lock().unwrap();
        v.get(&SecretKind::RefreshToken).map(|t| t.iter().map(|s| s.expose().to_owned()).collect()).unwrap_or_default()
    }
}

#[async_trait]
impl SecretSource for SlowStore {
    async fn get(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        Ok(self.values.lock().unwrap().get(&kind).and_then(|v| v.last().cloned()))
    }

    async fn get_fresh(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        match kind {
            SecretKind::RefreshToken => self.pass(Step::ReadRefresh).await,
            // No shared access token: each refresh in these tests is a real one.
            SecretKind::AccessToken => return Ok(None),
            _ => {}
        }
        self.get(kind).await
    }

    async fn set(&self, kind: SecretKind, value: &Secret) -> Result<(), AuthError> {
        match kind {
            SecretKind::RefreshToken => self.pass(Step::WriteRefresh).await,
            SecretKind::AccessToken => self.pass(Step::WriteAccess).await,
            _ => {}
        }
        self.values.lock().unwrap().entry(kind).or_default().push(value.clone());
        Ok(())
    }

    fn describe(&self) -> String {
        "a slow test store".into()
    }
}

/// Credentials against `fake` with `store` and no cross-instance lock; store calls are
/// bounded at 2 s.
fn session(fake: &Emulator, store: Arc<SlowStore>) -> Credentials {
    let url = url::Url::parse(&fake.base_url()).unwrap();
    let lock: Arc<dyn ChainLock> = Arc::new(NoLock);
    let s = OAuthSession::new(&url, store, lock, http_client(Some(Duration::from_secs(15))))
        .with_store_timeout(Duration::from_secs(2));
    Credentials::OAuth(Arc::new(s))
}

/// The emulator's refresh log is one chain: each refresh presented the token the previous
/// one issued, none failed, none was presented twice; the store's newest is the newest
/// issued.
fn assert_chain_intact(fake: &Emulator, store: &SlowStore) {
    let log = fake.refresh_log();
    let mut expected = fake.initial_refresh_token();
    let mut seen = HashSet::new();
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r.error, None, "refresh {i} failed: {log:?}");
        assert!(seen.insert(r.presented.clone()), "refresh {i} presented a token twice");
        assert_eq!(r.presented, expected, "refresh {i} did not present the newest token");
        expected = r.issued.clone().expect("a rotating client issues a new token");
    }
    assert_eq!(store.refresh_tokens().last(), Some(&expected), "the store holds the newest token");
}

/// A token Anaplan accepts.
async fn works(fake: &Emulator, token: &Secret) {
    let resp = reqwest::Client::new()
        .get(format!("{}/2/0/users/me", fake.base_url()))
        .header("authorization", format!("AnaplanAuthToken {}", token.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// After the cut: the next request gets a working token, and a forced refresh after it
/// continues the chain from what was kept.
async fn chain_continues(fake: &Emulator, store: &SlowStore, creds: &Credentials) {
    let token = creds.access_token().await.expect("the next request gets a token");
    works(fake, &token).await;
    assert!(creds.rejected(&token).await);
    let next = creds.access_token().await.expect("the chain goes on");
    works(fake, &next).await;
    assert_chain_intact(fake, store);
}

#[tokio::test]
async fn a_request_cut_at_each_store_step_of_a_refresh_breaks_nothing() {
    for step in [Step::ReadRefresh, Step::WriteRefresh, Step::WriteAccess] {
        let fake = Emulator::start().await;
        let store = SlowStore::for_emulator(&fake);
        let creds = session(&fake, store.clone());
        let (reached, open) = store.hold(step, false);
        let c = creds.clone();
        let request = tokio::spawn(async move { c.access_token().await });
        tokio::time::timeout(Duration::from_secs(5), reached.notified()).await.expect("the refresh reached the step");
        // The request is dropped there (its deadline passed, its client went away)...
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        // ... and the slow step completes afterwards.
        open.notify_one();
        tokio::time::sleep(Duration::from_millis(300)).await;
        if step != Step::ReadRefresh {
            assert_eq!(store.refresh_tokens().len(), 2, "{step:?}: the successor was stored although no one waited");
        }
        chain_continues(&fake, &store, &creds).await;
    }
}

#[tokio::test]
async fn a_request_cut_while_anaplans_answer_is_on_its_way_loses_nothing() {
    let fake = Emulator::start().await;
    let store = SlowStore::for_emulator(&fake);
    let creds = session(&fake, store.clone());
    // Anaplan rotates the chain, then its answer takes a second to arrive.
    fake.delay_token_answers(1, Duration::from_secs(1));
    let c = creds.clone();
    let request = tokio::spawn(async move { c.access_token().await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while fake.refresh_log().is_empty() {
        assert!(Instant::now() < deadline, "the refresh never reached Anaplan");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    request.abort();
    let _ = request.await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(store.refresh_tokens().len(), 2, "the successor was stored after the answer arrived");
    chain_continues(&fake, &store, &creds).await;
}

#[tokio::test]
async fn a_store_whose_write_hangs_keeps_the_successor_in_memory() {
    let fake = Emulator::start().await;
    let store = SlowStore::for_emulator(&fake);
    let creds = session(&fake, store.clone());
    store.hold(Step::WriteRefresh, true);
    let started = Instant::now();
    let e = creds.access_token().await.expect_err("the write never finishes");
    assert!(started.elapsed() < Duration::from_secs(5), "the write was bounded");
    assert!(matches!(e, AuthError::Store(_)), "{e:?}");
    assert_eq!(store.refresh_tokens().len(), 1, "nothing reached the store");
    // The store works again: the next refresh spends the successor kept in memory.
    let token = creds.access_token().await.expect("the next request gets a token");
    works(&fake, &token).await;
    let log = fake.refresh_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].presented, log[0].issued.clone().unwrap(), "the kept successor was spent next");
    assert_eq!(store.refresh_tokens().last(), log[1].issued.as_ref(), "its successor is stored");
    assert!(log.iter().all(|r| r.error.is_none()), "{log:?}");
}

#[tokio::test]
async fn a_token_service_busy_retry_policy_is_bounded() {
    // In process: a token service answering 429 with Retry-After far beyond the budget
    // ends the retries at once, with the (clamped) Retry-After passed on.
    let fake = Emulator::start().await;
    let store = SlowStore::for_emulator(&fake);
    let url = url::Url::parse(&fake.base_url()).unwrap();
    let retry = TokenRetry { max_retries: 5, budget: Duration::from_secs(3), base_delay: Duration::from_millis(50) };
    let s = OAuthSession::new(&url, store, Arc::new(NoLock), http_client(None)).with_token_retry(retry);
    let creds = Credentials::OAuth(Arc::new(s));
    fake.fail_token_requests(100, 429, Some(u64::MAX));
    let started = Instant::now();
    let e = creds.access_token().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(e, AuthError::Busy { status: 429, retry_after: Some(3600), .. }), "{e:?}");
}

// ------------------------------------------------------------------ the refresh lease

use anaplan_functions::secrets::lease::{BlobLease, LEASE_SECONDS};

#[tokio::test]
async fn the_refresh_lease_is_renewed_while_held_and_runs_out_once_dropped() {
    let (account, container) = crate::support::app::azurite_container().await;
    let lease = BlobLease::new(account.clone(), &container, "locks/refresh-token-test");
    let other = account.blob(&container, "locks/refresh-token-test").unwrap();
    let guard = lease.lock().await.unwrap();
    // Held past its length: without renewal another instance could take the chain now.
    tokio::time::sleep(Duration::from_secs(LEASE_SECONDS as u64 + 4)).await;
    let taken = other.acquire_lease(15, None).await;
    assert_eq!(
        taken.err().and_then(|e| e.http_status()),
        Some(azure_core::http::StatusCode::Conflict),
        "the lease is still held"
    );
    guard.release().await;
    let again = tokio::time::timeout(Duration::from_secs(5), lease.lock()).await.expect("released at once").unwrap();

    // A holder that stops without releasing (its task ended) stops renewing: the lease runs
    // out by itself.
    drop(again);
    let dropped = Instant::now();
    loop {
        match other.acquire_lease(15, None).await {
            Ok(_) => break,
            Err(e) if e.http_status() == Some(azure_core::http::StatusCode::Conflict) => {
                assert!(dropped.elapsed() < Duration::from_secs(LEASE_SECONDS as u64 + 5), "the lease never ran out");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

// ------------------------------------------------------------------ caller mode

use anaplan_emulator::{BusyPolicy, EmulatorConfig};

#[tokio::test]
async fn an_idempotency_key_in_caller_mode_survives_the_callers_token_refresh() {
    let fake =
        Emulator::start_with(EmulatorConfig { busy_policy: BusyPolicy::Queue, ..EmulatorConfig::default() }).await;
    let app = App::start_against(fake.clone(), |env| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "caller".into()));
    })
    .await;
    // The caller's token, then the one its refresh gave it: the same Anaplan user.
    let (token_a, next) = grant(&fake, &fake.initial_refresh_token()).await;
    let (token_b, _) = grant(&fake, &next).await;
    let other_user = fake.access_token_for("user005@example.com");
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&processId={PROCESS_NIGHTLY_ID}");
    let key = format!("order-{}", uuid::Uuid::new_v4());
    let start = |token: String| {
        app.http
            .post(format!("{}?{q}", app.url("run-process")))
            .header("x-functions-key", app.host.function_key())
            .header("authorization", format!("Bearer {token}"))
            .header("Idempotency-Key", key.clone())
            .json(&json!({}))
            .send()
    };
    let task_of = |resp: reqwest::Response| async move {
        assert!(matches!(resp.status().as_u16(), 200 | 202), "{}", resp.status());
        let body: Value = resp.json().await.unwrap();
        body["taskId"].as_str().unwrap().to_owned()
    };
    let first = task_of(start(token_a.clone()).await.unwrap()).await;
    let after_refresh = task_of(start(token_b).await.unwrap()).await;
    assert_eq!(first, after_refresh, "the caller's retry after its token refresh is the same task");
    assert_eq!(fake.task_starts().len(), 1, "no second task in Anaplan");

    // Another user with the same key is another scope: its own task.
    let theirs = task_of(start(other_user).await.unwrap()).await;
    assert_ne!(theirs, first);
    assert_eq!(fake.task_starts().len(), 2);

    // Who a token belongs to is asked once per token.
    let _ = task_of(start(token_a).await.unwrap()).await;
    let asked = fake.requests().iter().filter(|r| r.path == "/2/0/users/me").count();
    assert_eq!(asked, 3, "users/me once for each of the three tokens");
    let mut secrets = fake.issued_secrets();
    secrets.retain(|s| s.starts_with("at-") || s.starts_with("rt-"));
    let out = app.host.output();
    assert!(!secrets.iter().any(|s| out.contains(s.as_str())), "a token reached the log");
}
