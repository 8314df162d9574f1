//! Production credentials end to end: secrets from a Key Vault (over TLS, through the
//! official client and a managed identity), rotation that never breaks the chain across
//! instances, outages, killed instances, certificate auth, and `auth login`.

use std::time::{Duration, Instant};

use crate::support::app::App;
use crate::support::certs::*;
use crate::support::fake_identity::FakeIdentity;
use crate::support::fake_key_vault::FakeKeyVault;
use anaplan_emulator::seed::*;
use anaplan_emulator::{Emulator, EmulatorConfig};

const REFRESH: &str = "anaplan-refresh-token";
const BIN: &str = env!("CARGO_BIN_EXE_anaplan-functions");

/// An Anaplan emulator, a managed identity and a vault holding the OAuth client and the first
/// refresh token.
struct Azure {
    fake: Emulator,
    identity: FakeIdentity,
    vault: FakeKeyVault,
}

impl Azure {
    async fn start(cfg: EmulatorConfig) -> Azure {
        let fake = Emulator::start_with(cfg).await;
        let identity = FakeIdentity::start().await;
        let vault = FakeKeyVault::start(&identity).await;
        vault.set_secret("anaplan-client-id", &fake.client_id());
        vault.set_secret("anaplan-client-secret", &fake.client_secret());
        vault.set_secret(REFRESH, &fake.initial_refresh_token());
        Azure { fake, identity, vault }
    }

    /// The app's settings with secrets from the vault: none in the environment.
    fn env(&self, env: &mut Vec<(String, String)>) {
        crate::support::app::use_vault(env, &self.vault, &self.identity);
    }

    async fn app(&self) -> App {
        App::start_against(self.fake.clone(), |env| self.env(env)).await
    }

    /// Every refresh presented the token the previous one issued, none failed, none was
    /// presented twice, and the vault holds every link of the chain, newest last.
    fn assert_one_chain(&self) {
        let log = self.fake.refresh_log();
        let mut expected = self.fake.initial_refresh_token();
        let mut seen = std::collections::HashSet::new();
        for (i, r) in log.iter().enumerate() {
            assert_eq!(r.error, None, "refresh {i} failed");
            assert!(seen.insert(r.presented.clone()), "refresh {i} reused a token");
            assert_eq!(r.presented, expected, "refresh {i} did not present the newest token");
            expected = r.issued.clone().expect("a rotating client issues a new token");
        }
        let versions = self.vault.versions(REFRESH);
        assert_eq!(versions.len(), log.len() + 1, "one vault version per rotation");
        assert_eq!(versions.last(), Some(&expected), "the vault holds the newest token");
    }
}

fn query() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}&format=grid")
}

fn leaked(az: &Azure, text: &str) -> bool {
    let mut secrets = az.fake.issued_secrets();
    secrets.extend(az.identity.issued_secrets());
    secrets.iter().any(|s| text.contains(s.as_str()))
}

#[tokio::test]
async fn secrets_come_from_key_vault_and_the_rotated_token_goes_back_first() {
    let az = Azure::start(EmulatorConfig::default()).await;
    let app = az.app().await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    az.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(az.fake.refresh_log().len(), 2);
    az.assert_one_chain();
    assert!(az.vault.secret("anaplan-access-token").is_some(), "the access token is shared");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!leaked(&az, &app.host.output()), "a token reached the log");
}

#[tokio::test]
async fn a_vault_outage_is_bridged_by_cached_values_then_503_then_recovers() {
    let az = Azure::start(EmulatorConfig::default()).await;
    let app = az.app().await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    az.vault.set_available(false);
    // A valid access token needs no vault.
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    // A refresh does: the chain's newest token must be read fresh, so 503, never a panic.
    az.fake.expire_access_tokens();
    let resp = app.get("get-view-data", &query()).await;
    let body = crate::support::app::problem(resp, 503).await;
    assert!(body["detail"].as_str().unwrap().contains("Key Vault"), "{body}");
    az.vault.set_available(true);
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    az.assert_one_chain();
}

/// Four instances, a rotating client, access tokens that live two seconds, a few hundred
/// requests over a minute: every request succeeds, the chain never breaks, and shared
/// access tokens keep the refreshes near one per token lifetime, not one per instance.
#[tokio::test]
async fn rotation_under_fire_keeps_one_unbroken_chain() {
    let az =
        Azure::start(EmulatorConfig { access_token_ttl: Duration::from_secs(2), ..EmulatorConfig::default() }).await;
    let mut apps = Vec::new();
    for _ in 0..4 {
        apps.push(az.app().await);
    }
    let run_for = Duration::from_secs(60);
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut round = 0u64;
    while started.elapsed() < run_for {
        for app in &apps {
            let req = app
                .http
                .get(format!("{}?{}", app.url("get-view-data"), query()))
                .header("x-functions-key", app.host.function_key());
            tasks.push(tokio::spawn(async move { req.send().await.map(|r| r.status().as_u16()) }));
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap().unwrap_or(0)).or_insert(0) += 1;
    }
    assert_eq!(statuses.keys().copied().collect::<Vec<u16>>(), vec![200], "every request succeeds: {statuses:?}");
    assert!(round * 4 >= 300, "a few hundred requests");
    az.assert_one_chain();
    let refreshes = az.fake.refresh_log().len();
    let per_lifetime = run_for.as_secs_f64() / 1.6;
    assert!(refreshes as f64 <= per_lifetime * 1.5 + 4.0, "{refreshes} refreshes: instances did not share tokens");
    assert!(refreshes as f64 >= per_lifetime * 0.5, "{refreshes} refreshes for {per_lifetime} token lifetimes");
    for app in &apps {
        assert!(!leaked(&az, &app.host.output()));
    }
}

/// An instance killed while it holds the refresh lock (after storing the new refresh
/// token, before sharing the access token; or before spending anything) loses nothing: the
/// lease runs out and another instance carries on with the newest stored token.
#[tokio::test]
async fn killing_an_instance_in_the_middle_of_a_refresh_loses_nothing() {
    for (method, secret, links_before_kill) in [("PUT", "anaplan-access-token", 1), ("GET", REFRESH, 0)] {
        let az = Azure::start(EmulatorConfig { access_token_ttl: Duration::from_secs(2), ..EmulatorConfig::default() })
            .await;
        let mut a = az.app().await;
        let b = az.app().await;
        assert_eq!(a.get("get-view-data", &query()).await.status(), 200);
        let versions = az.vault.versions(REFRESH).len();
        az.vault.stall_next(method, secret, Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let (url, key) = (format!("{}?{}", a.url("get-view-data"), query()), a.host.function_key());
        let http = a.http.clone();
        let pending = tokio::spawn(async move { http.get(url).header("x-functions-key", key).send().await });
        // Wait until A is inside its refresh, at the stalled step.
        let deadline = Instant::now() + Duration::from_secs(10);
        while az.vault.versions(REFRESH).len() < versions + links_before_kill
            || az.vault.requests().iter().filter(|(m, p)| m == method && p.contains(secret)).count() == 0
        {
            assert!(Instant::now() < deadline, "instance A never reached the stalled step");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.host.kill();
        let _ = pending.await;
        let resp = b.get("get-view-data", &query()).await;
        assert_eq!(resp.status(), 200, "{method} {secret}: {}", resp.text().await.unwrap_or_default());
        az.assert_one_chain();
    }
}

#[tokio::test]
async fn certificate_auth_from_the_vault_and_from_the_environment() {
    let az = Azure::start(EmulatorConfig::default()).await;
    let (cert, key) = test_certificate();
    az.fake.set_certificate_user(&cert);
    az.vault.set_secret("anaplan-certificate", &format!("{cert}{key}"));
    let app = App::start_against(az.fake.clone(), |env| {
        az.env(env);
        env.push(("ANAPLAN_AUTH_METHOD".into(), "certificate".into()));
    })
    .await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    az.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200, "a new login after expiry");
    assert!(!app.host.output().contains("PRIVATE KEY"));

    let env_app = App::start_against(az.fake.clone(), |env| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "certificate".into()));
        env.push(("ANAPLAN_CERTIFICATE".into(), format!("{cert}{key}")));
    })
    .await;
    assert_eq!(env_app.get("get-view-data", &query()).await.status(), 200);

    // An expired certificate is Anaplan's refusal: 401, with what to do.
    let (old_cert, old_key) = expired_certificate();
    az.fake.set_certificate_user(&old_cert);
    let expired = App::start_against(az.fake.clone(), |env| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "certificate".into()));
        env.push(("ANAPLAN_CERTIFICATE".into(), format!("{old_cert}{old_key}")));
    })
    .await;
    crate::support::app::problem(expired.get("get-view-data", &query()).await, 401).await;
}

fn login(az: &Azure, args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .env("ANAPLAN_OAUTH_URL", az.fake.base_url())
        .env("KEY_VAULT_URI", az.vault.uri())
        .env("IDENTITY_ENDPOINT", az.identity.endpoint())
        .env("IDENTITY_HEADER", az.identity.header())
        .env("SSL_CERT_FILE", az.vault.ca_pem_path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn auth_login_with_the_device_grant_stores_a_new_chain_in_the_vault() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let az = Azure::start(EmulatorConfig::default()).await;
    let mut child = login(&az, &["auth", "login", "--device", "--client-id", &az.fake.device_client_id()]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let mut code = None;
    while let Some(l) = lines.next_line().await.unwrap() {
        printed.push_str(&l);
        if let Some(rest) = l.split("confirm the code ").nth(1) {
            code = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    az.fake.approve_device(&code.expect("a user code is printed")).unwrap();
    while let Some(l) = lines.next_line().await.unwrap() {
        printed.push_str(&l);
    }
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(az.vault.secret(REFRESH), az.fake.chain_starts().last().cloned());
    assert!(!leaked(&az, &printed), "login printed a token although it stored it");
}

#[tokio::test]
async fn auth_login_with_a_pasted_redirect_stores_the_token_and_the_app_uses_it() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let az = Azure::start(EmulatorConfig::default()).await;
    az.fake.allow_redirect_uri("https://example.com/anaplan-callback");
    let mut child = login(&az, &["auth", "login", "--redirect-uri", "https://example.com/anaplan-callback"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    while let Some(l) = lines.next_line().await.unwrap() {
        if l.starts_with(&az.fake.base_url()) {
            url = Some(l);
            break;
        }
    }
    let redirected = az.fake.authorize(&url.expect("an authorize URL is printed")).unwrap();
    stdin.write_all(format!("{redirected}\n").as_bytes()).await.unwrap();
    drop(stdin);
    while lines.next_line().await.unwrap().is_some() {}
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stored = az.vault.secret(REFRESH).unwrap();
    assert_eq!(Some(&stored), az.fake.chain_starts().last());
    assert_ne!(stored, az.fake.initial_refresh_token());

    // The app picks up the new chain.
    let app = az.app().await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(az.fake.refresh_log()[0].presented, stored);
}

#[tokio::test]
async fn a_pasted_address_from_another_login_is_refused() {
    use tokio::io::AsyncWriteExt;
    let az = Azure::start(EmulatorConfig::default()).await;
    az.fake.allow_redirect_uri("https://example.com/cb");
    let mut child = login(&az, &["auth", "login", "--redirect-uri", "https://example.com/cb"]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"https://example.com/cb?code=stolen&state=not-ours\n").await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("state"));
    assert_eq!(az.vault.versions(REFRESH).len(), 1, "nothing stored");
}

/// The emulator checks certificate logins for real: the payload must be signed by the
/// certificate's own key, and our signer (ring, RSASSA-PKCS1-v1_5 SHA-512) passes.
#[tokio::test]
async fn certificate_logins_need_a_signature_by_the_certificates_key() {
    use anaplan::auth::legacy::certificate::sign_nonce;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let fake = Emulator::start().await;
    let (cert, key) = test_certificate();
    fake.set_certificate_user(&cert);
    let other_key =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap().serialize_pem();
    let login = |signed: anaplan::auth::legacy::certificate::Signed, nonce: Vec<u8>| {
        let url = format!("{}/token/authenticate", fake.base_url());
        async move {
            reqwest::Client::new()
                .post(url)
                .header("authorization", format!("CACertificate {}", signed.header))
                .json(&serde_json::json!({
                    "encodedDataFormat": "v2",
                    "encodedData": STANDARD.encode(&nonce),
                    "encodedSignedData": STANDARD.encode(&signed.signature),
                }))
                .send()
                .await
                .unwrap()
        }
    };
    let good = sign_nonce(&format!("{cert}{key}")).unwrap();
    let nonce = good.nonce.clone();
    assert_eq!(login(good, nonce).await.status(), 201);
    // The same certificate, but the nonce signed by another key.
    let forged = sign_nonce(&format!("{cert}{other_key}")).unwrap();
    let nonce = forged.nonce.clone();
    let resp = login(forged, nonce).await;
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("Signature verification failed"));
    // A good signature over other bytes.
    let good = sign_nonce(&format!("{cert}{key}")).unwrap();
    let mut nonce = good.nonce.clone();
    nonce[0] ^= 1;
    assert_eq!(login(good, nonce).await.status(), 401);
}

/// Every refresh presented the token the previous one issued, none failed, none was
/// presented twice, and the vault's newest version is the newest token (a write that never
/// finished may have left a link out of the vault).
fn assert_chain_intact(az: &Azure) {
    let log = az.fake.refresh_log();
    let mut expected = az.fake.initial_refresh_token();
    let mut seen = std::collections::HashSet::new();
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r.error, None, "refresh {i} failed: {log:?}");
        assert!(seen.insert(r.presented.clone()), "refresh {i} reused a token");
        assert_eq!(r.presented, expected, "refresh {i} did not present the newest token");
        expected = r.issued.clone().expect("a rotating client issues a new token");
    }
    assert_eq!(az.vault.secret(REFRESH), Some(expected), "the vault holds the newest token");
}

#[tokio::test]
async fn a_caller_gone_while_the_rotated_token_is_written_loses_nothing() {
    let az = Azure::start(EmulatorConfig::default()).await;
    let app = az.app().await;
    // The vault takes three seconds to store the rotated refresh token; the caller gives up
    // after half a second, with Anaplan's old token already spent.
    az.vault.stall_next("PUT", REFRESH, Duration::from_secs(3));
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let cut = impatient.get(format!("{}/api/get-view-data?{}", app.host.handler_url(), query())).send().await;
    assert!(cut.is_err_and(|e| e.is_timeout()), "the caller gave up");
    assert_eq!(az.fake.refresh_log().len(), 1, "Anaplan rotated the chain");
    let deadline = Instant::now() + Duration::from_secs(10);
    while az.vault.versions(REFRESH).len() < 2 {
        assert!(Instant::now() < deadline, "the rotated token never reached the vault");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    az.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200, "the chain goes on");
    az.assert_one_chain();
}

#[tokio::test]
async fn a_vault_whose_write_hangs_costs_one_503_and_never_the_chain() {
    let az = Azure::start(EmulatorConfig::default()).await;
    let app = az.app().await;
    az.vault.hang_next("PUT", REFRESH);
    let started = Instant::now();
    let body = crate::support::app::problem(app.get("get-view-data", &query()).await, 503).await;
    assert!(started.elapsed() < Duration::from_secs(30), "the write was bounded");
    assert!(body["detail"].as_str().unwrap().contains("could not be saved"), "{body}");
    assert_eq!(az.vault.versions(REFRESH).len(), 1, "the hung write stored nothing");
    // The next request spends the successor the handler kept, and stores the one after.
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_eq!(az.fake.refresh_log().len(), 2);
    assert_chain_intact(&az);
    az.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    assert_chain_intact(&az);
    assert!(!leaked(&az, &app.host.output()), "a token reached the log");
}

#[tokio::test]
async fn spent_refresh_token_versions_are_disabled_and_access_tokens_expire() {
    let az = Azure::start(EmulatorConfig::default()).await;
    let app = az.app().await;
    for _ in 0..3 {
        assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
        az.fake.expire_access_tokens();
    }
    az.assert_one_chain();
    // Retiring runs in the background: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    let expected = vec![false, false, false, true];
    let mut enabled: Vec<bool> = Vec::new();
    while Instant::now() < deadline {
        enabled = az.vault.version_attributes(REFRESH).iter().map(|(e, _)| *e).collect();
        if enabled == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(enabled, expected, "every spent version is disabled, the newest is live");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let access = az.vault.version_attributes("anaplan-access-token");
    assert_eq!(access.len(), 3);
    for (on, exp) in access {
        let exp = exp.expect("each shared access token carries its expiry");
        assert!(on && exp > now && exp <= now + 2100, "{exp} vs {now}");
    }
    // The newest version is what the app reads: it still works.
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    az.assert_one_chain();
}

#[tokio::test]
async fn a_client_secret_missing_from_the_vault_is_named() {
    let fake = Emulator::start().await;
    let identity = FakeIdentity::start().await;
    let vault = FakeKeyVault::start(&identity).await;
    vault.set_secret("anaplan-client-id", &fake.client_id());
    vault.set_secret(REFRESH, &fake.initial_refresh_token());
    let az = Azure { fake, identity, vault };
    let app = az.app().await;
    // A refused credential (401), not a passing outage: no retry makes the secret appear.
    let body = crate::support::app::problem(app.get("get-view-data", &query()).await, 401).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("anaplan-client-secret") && detail.contains(&az.vault.uri()), "{body}");
    assert!(!detail.contains("refresh token"), "{body}");
    assert_eq!(az.vault.versions(REFRESH).len(), 1, "nothing was spent");
}

/// keep-signed-in and health with the chain in the vault: one instance's refresh is every
/// instance's (the vault dates it), and a vault that cannot be read turns health red.
#[tokio::test]
async fn instances_share_the_last_refresh_through_the_vault() {
    let az = Azure::start(EmulatorConfig::default()).await;
    // An 8-second lifetime: a chain older than 2 s is refreshed (Key Vault dates its
    // writes in whole seconds).
    let app = || {
        App::start_against(az.fake.clone(), |env| {
            az.env(env);
            env.push(("ANAPLAN_REFRESH_TOKEN_LIFETIME".into(), "8".into()));
        })
    };
    let (one, two) = (app().await, app().await);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let run = one.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert_eq!(run.return_value["refreshed"], true, "{run:?}");
    let run = two.host.fire_timer("keep-signed-in").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert_eq!(run.return_value["refreshed"], false, "the other instance refreshed a moment ago: {run:?}");
    assert_eq!(az.fake.refresh_log().len(), 1, "one refresh for both");
    az.assert_one_chain();

    let health = two.get("health", "").await;
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["keyVault"], "ok", "{body}");
    assert!(body["auth"]["lastRefresh"].is_string(), "the vault dates the refresh: {body}");

    az.vault.set_available(false);
    let health = two.get("health", "").await;
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.unwrap();
    assert!(body["keyVault"].as_str().unwrap().contains("Key Vault"), "{body}");
    assert!(!leaked(&az, &body.to_string()), "a secret in the health answer");
}
