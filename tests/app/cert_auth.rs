//! Certificate login as Anaplan takes it since 19 June 2026 ("API updates"): the client
//! sends a fresh `v2` payload (an 8-byte big-endian timestamp in seconds, then random
//! bytes) for every login; the emulator refuses `v1` unless told otherwise, a stale or
//! future timestamp, a replay and a bad signature; its demo certificate user works for
//! `auth check` and for the functions; token answers carry an optional `refreshToken`.

use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use anaplan::auth::legacy::certificate::{self, sign_payload};
use anaplan_emulator::seed::*;
use anaplan_emulator::{CREDENTIALS_FILE, DemoCredentials, Emulator, EmulatorConfig, Launch};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_anaplan-functions");
/// The emulator's freshness window, in seconds.
const WINDOW: u64 = 300;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// `timestamp` (8 bytes, big-endian) then `random` random bytes.
fn payload(timestamp: u64, random: usize) -> Vec<u8> {
    let mut data = timestamp.to_be_bytes().to_vec();
    let mut rest = vec![0u8; random];
    getrandom::getrandom(&mut rest).unwrap();
    data.extend(rest);
    data
}

/// The body of a login: `format` (`None`: no `encodedDataFormat`, a v1 login), `data` and
/// `signature`.
fn body(format: Option<&str>, data: &[u8], signature: &[u8]) -> Value {
    let mut b = json!({
        "encodedData": STANDARD.encode(data),
        "encodedSignedData": STANDARD.encode(signature),
    });
    if let Some(f) = format {
        b["encodedDataFormat"] = json!(f);
    }
    b
}

/// `POST /token/authenticate` with `CACertificate <header>` and `body`.
async fn login(fake: &Emulator, header: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/token/authenticate", fake.base_url()))
        .header("Authorization", format!("CACertificate {header}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// Signs `data` with the demo certificate user's key and logs in with `format`.
async fn demo_login(fake: &Emulator, format: Option<&str>, data: Vec<u8>) -> (u16, Value) {
    let signed = sign_payload(&fake.credentials().certificate, data).unwrap();
    login(fake, &signed.header, &body(format, &signed.nonce, &signed.signature)).await
}

/// A refusal in the legacy token service's shape.
fn assert_refused(answer: &(u16, Value), what: &str) {
    assert_eq!(answer.0, 401, "{what}: {}", answer.1);
    assert_eq!(answer.1["status"], "FAILURE_BAD_CREDENTIAL", "{what}: {}", answer.1);
    assert!(answer.1["statusMessage"].is_string(), "{what}: {}", answer.1);
    assert!(answer.1.get("tokenInfo").is_none(), "{what}: {}", answer.1);
}

#[tokio::test]
async fn a_fresh_v2_login_with_the_demo_certificate_gets_a_token_and_an_optional_refresh_token() {
    let fake = Emulator::start().await;
    let (status, answer) = demo_login(&fake, Some("v2"), payload(now(), 100)).await;
    assert_eq!(status, 201, "{answer}");
    let info = &answer["tokenInfo"];
    assert!(info["refreshToken"].as_str().is_some_and(|t| !t.is_empty()), "{answer}");
    assert!(fake.issued_secrets().iter().any(|s| Some(s.as_str()) == info["refreshToken"].as_str()));
    let token = info["tokenValue"].as_str().unwrap();
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{}/2/0/users/me", fake.base_url()))
        .header("Authorization", format!("AnaplanAuthToken {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // The refresh answer carries one too.
    let refreshed: Value = http
        .post(format!("{}/token/refresh", fake.base_url()))
        .header("Authorization", format!("AnaplanAuthToken {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["tokenInfo"]["tokenValue"], token, "{refreshed}");
    assert!(refreshed["tokenInfo"]["refreshToken"].is_string(), "{refreshed}");
    // 8 + 92 bytes (100 in all, as some clients send) is enough; a timestamp in
    // milliseconds is read as such.
    assert_eq!(demo_login(&fake, Some("v2"), payload(now(), 92)).await.0, 201);
    assert_eq!(demo_login(&fake, Some("v2"), payload(now() * 1000, 100)).await.0, 201);
    let logins = fake.certificate_logins();
    assert_eq!(logins.iter().map(|l| l.status).collect::<Vec<_>>(), [201, 201, 201]);
    assert!(logins.iter().all(|l| l.format.as_deref() == Some("v2")), "{logins:?}");
}

#[tokio::test]
async fn stale_future_short_replayed_forged_and_unknown_format_logins_are_refused() {
    let fake = Emulator::start().await;
    let t = now();
    assert_refused(&demo_login(&fake, Some("v2"), payload(t - 2 * WINDOW, 100)).await, "stale");
    assert_refused(&demo_login(&fake, Some("v2"), payload(t + 2 * WINDOW, 100)).await, "future");
    assert_refused(&demo_login(&fake, Some("v2"), payload((t - 2 * WINDOW) * 1000, 100)).await, "stale ms");
    assert_refused(&demo_login(&fake, Some("v2"), payload(t, 50)).await, "58 bytes");
    assert_refused(&demo_login(&fake, Some("v3"), payload(t, 100)).await, "unknown format");
    assert_refused(&demo_login(&fake, Some("V2"), payload(t, 100)).await, "format is case-sensitive");

    // The same signed payload twice: the second is a replay.
    let signed = sign_payload(&fake.credentials().certificate, payload(now(), 100)).unwrap();
    let once = body(Some("v2"), &signed.nonce, &signed.signature);
    assert_eq!(login(&fake, &signed.header, &once).await.0, 201);
    assert_refused(&login(&fake, &signed.header, &once).await, "replay");

    // A good signature over other bytes; a signature by another key.
    let signed = sign_payload(&fake.credentials().certificate, payload(now(), 100)).unwrap();
    let mut other = signed.nonce.clone();
    other[20] ^= 1;
    assert_refused(&login(&fake, &signed.header, &body(Some("v2"), &other, &signed.signature)).await, "tampered");
    let c = fake.credentials().certificate;
    let cert_only = &c[..c.find("-----BEGIN PRIVATE KEY-----").unwrap()];
    let other_key =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap().serialize_pem();
    let forged = sign_payload(&format!("{cert_only}{other_key}"), payload(now(), 100)).unwrap();
    assert_refused(
        &login(&fake, &forged.header, &body(Some("v2"), &forged.nonce, &forged.signature)).await,
        "another key",
    );

    // A certificate registered to nobody.
    let (cert, key) = crate::support::certs::test_certificate();
    let stranger = sign_payload(&format!("{cert}{key}"), payload(now(), 100)).unwrap();
    assert_refused(
        &login(&fake, &stranger.header, &body(Some("v2"), &stranger.nonce, &stranger.signature)).await,
        "unregistered",
    );
    let statuses: Vec<u16> = fake.certificate_logins().iter().map(|l| l.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
}

#[tokio::test]
async fn v1_is_refused_until_a_control_allows_it() {
    let fake = Emulator::start().await;
    let v1 = |fake: Emulator| async move { demo_login(&fake, None, payload(now(), 100)).await };
    assert_refused(&v1(fake.clone()).await, "v1 by default");
    fake.accept_v1_certificate_logins(true);
    assert_eq!(v1(fake.clone()).await.0, 201, "v1 once allowed");
    assert_eq!(demo_login(&fake, Some("v2"), payload(now(), 100)).await.0, 201, "v2 still");
    // A v1 payload has no timestamp: an old one passes, but not twice.
    let signed = sign_payload(&fake.credentials().certificate, payload(0, 100)).unwrap();
    let old = body(None, &signed.nonce, &signed.signature);
    assert_eq!(login(&fake, &signed.header, &old).await.0, 201);
    assert_refused(&login(&fake, &signed.header, &old).await, "v1 replay");
    fake.accept_v1_certificate_logins(false);
    assert_refused(&v1(fake.clone()).await, "v1 refused again");

    // The same over HTTP.
    let http = reqwest::Client::new();
    let control = |accept: &str| http.post(format!("{}/_emulator/cert-format?accept={accept}", fake.base_url())).send();
    assert_eq!(control("v1").await.unwrap().status(), 204);
    assert_eq!(v1(fake.clone()).await.0, 201, "v1 allowed over HTTP");
    assert_eq!(control("v2").await.unwrap().status(), 204);
    assert_refused(&v1(fake.clone()).await, "v1 refused over HTTP");
    let bad = control("v3").await.unwrap();
    assert_eq!(bad.status(), 400);
    let problem: Value = bad.json().await.unwrap();
    assert!(problem["status"]["message"].as_str().unwrap().contains("accept"), "{problem}");
}

#[tokio::test]
async fn the_certificate_may_come_as_base64_of_its_der() {
    let fake = Emulator::start().await;
    let signed = sign_payload(&fake.credentials().certificate, payload(now(), 100)).unwrap();
    let pem = String::from_utf8(STANDARD.decode(&signed.header).unwrap()).unwrap();
    let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let answer = login(&fake, &der_b64, &body(Some("v2"), &signed.nonce, &signed.signature)).await;
    assert_eq!(answer.0, 201, "{}", answer.1);
    let answer = login(&fake, "bm90IGEgY2VydGlmaWNhdGU=", &body(Some("v2"), &signed.nonce, &signed.signature)).await;
    assert_eq!((answer.0, answer.1["status"].as_str()), (400, Some("FAILURE_BAD_HEADER")));
}

/// The handler wired as `demo --auth certificate` wires it, in-process: it logs in with a
/// fresh v2 payload each time, and never touches OAuth.
#[tokio::test]
async fn the_functions_log_in_with_a_fresh_v2_payload_each_time() {
    use anaplan_functions::demo::{DemoAuth, settings_for};
    let fake = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let values = settings_for(&fake, &dir.path().join("unused"), DemoAuth::Certificate);
    let settings = anaplan_functions::config::Settings::from_lookup(|k| values.get(k).cloned()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(anaplan_functions::startup::serve_on(settings, listener, std::future::pending()));
    let url =
        format!("{base}/api/get-view-data?workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}");
    let http = reqwest::Client::new();
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    fake.expire_access_tokens();
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let logins = fake.certificate_logins();
    assert_eq!(logins.len(), 2, "one login, then another after the token expired: {logins:?}");
    let t = now();
    for l in &logins {
        assert_eq!((l.format.as_deref(), l.status), (Some("v2"), 201), "{l:?}");
        assert_eq!(l.encoded_data.len(), certificate::TIMESTAMP_BYTES + certificate::RANDOM_BYTES);
        let stamp = u64::from_be_bytes(l.encoded_data[..8].try_into().unwrap());
        assert!(stamp.abs_diff(t) <= WINDOW, "seconds since the epoch, big-endian: {stamp} vs {t}");
    }
    assert_ne!(logins[0].encoded_data, logins[1].encoded_data, "a new payload for every login");
    let requests = fake.requests();
    assert!(requests.iter().all(|r| !r.path.starts_with("/oauth/")), "no OAuth: {requests:?}");
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/token/authenticate" && r.authorization_scheme.as_deref() == Some("CACertificate"))
    );
}

/// `auth check` with the certificate and key from the emulator's `credentials.json`.
#[tokio::test]
async fn auth_check_works_with_the_demo_certificate_from_credentials_json() {
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch { port: 0, state_dir: Some(dir.path().to_owned()) };
    let fake = Emulator::launch(EmulatorConfig::default(), &launch).await.unwrap();
    let creds: DemoCredentials =
        serde_json::from_slice(&std::fs::read(dir.path().join(CREDENTIALS_FILE)).unwrap()).unwrap();
    assert!(creds.certificate.starts_with("-----BEGIN CERTIFICATE-----"), "certificate first");
    assert!(creds.certificate.contains("-----BEGIN PRIVATE KEY-----"), "then its key");
    let out = tokio::process::Command::new(BIN)
        .args(["auth", "check"])
        .env_clear()
        .env("ANAPLAN_AUTH_METHOD", "certificate")
        .env("ANAPLAN_CERTIFICATE", &creds.certificate)
        .env("ANAPLAN_AUTH_URL", fake.base_url())
        .env("ANAPLAN_API_URL", fake.base_url())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("(certificate,") && stdout.contains(USER_EMAIL), "{stdout}");
    let said = format!("{stdout}{stderr}");
    assert!(!said.contains("PRIVATE KEY"), "the key was printed");
    assert!(fake.issued_secrets().iter().all(|s| !said.contains(s.as_str())), "a secret was printed");
    let logins = fake.certificate_logins();
    assert_eq!(logins.iter().map(|l| (l.format.as_deref(), l.status)).collect::<Vec<_>>(), [(Some("v2"), 201)]);
}

/// A restart with the same state directory keeps the demo certificate (and
/// `credentials.json`), and the kept certificate still logs in.
#[tokio::test]
async fn the_demo_certificate_survives_a_restart_with_the_same_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch { port: 0, state_dir: Some(dir.path().to_owned()) };
    let first = Emulator::launch(EmulatorConfig::default(), &launch).await.unwrap();
    let second = Emulator::launch(EmulatorConfig::default(), &launch).await.unwrap();
    assert_eq!(second.credentials().certificate, first.credentials().certificate);
    assert_eq!(demo_login(&second, Some("v2"), payload(now(), 100)).await.0, 201);
    // Another state directory, another certificate; neither works at the other's emulator.
    let elsewhere = Emulator::start().await;
    assert_ne!(elsewhere.credentials().certificate, first.credentials().certificate);
    let signed = sign_payload(&elsewhere.credentials().certificate, payload(now(), 100)).unwrap();
    assert_refused(
        &login(&first, &signed.header, &body(Some("v2"), &signed.nonce, &signed.signature)).await,
        "another emulator's certificate",
    );
}
