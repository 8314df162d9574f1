//! onboard and onboard-callback over HTTP, as a browser would use them (the cookie sent by
//! hand, the emulator's redirect followed by hand): the page and its headers, a full sign-in
//! that starts a new chain a function call then uses, and every refusal writing nothing.
//! No key, token, code or cookie value shows in a page, a header or the handler's log.

use std::collections::HashMap;

use anaplan::secret::Secret;
use anaplan_emulator::Emulator;
use anaplan_functions::onboard::{STATE_MAX_AGE, state_for, unix_now};

use crate::support::app::{App, certificate_app};
use crate::support::fake_identity::FakeIdentity;
use crate::support::fake_key_vault::FakeKeyVault;

/// A client that follows no redirect, as each hop is checked.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The callback URL the app builds for the harness's host, registered on the emulator.
fn register_callback(app: &App) -> String {
    let callback = format!("{}/api/onboard-callback", app.host.base_url());
    app.fake.allow_loopback_redirect_uri(&callback);
    callback
}

/// The onboard page as the admin opens it (`?code=<key>`).
struct Onboard {
    status: u16,
    headers: reqwest::header::HeaderMap,
    html: String,
    /// The cookie's value, when one was set.
    nonce: Option<String>,
    /// The "Sign in to Anaplan" link, when there is one.
    link: Option<String>,
}

async fn open_onboard(app: &App) -> Onboard {
    let resp = browser().get(format!("{}?code={}", app.url("onboard"), app.host.function_key())).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let html = resp.text().await.unwrap();
    let nonce = headers
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().to_owned())
        .and_then(|c| c.split(';').next().and_then(|p| p.strip_prefix("anaplan-onboard=")).map(str::to_owned));
    let link = html.split("href=\"").nth(1).and_then(|rest| rest.split('"').next()).map(|l| l.replace("&amp;", "&"));
    Onboard { status, headers, html, nonce, link }
}

/// Anaplan's sign-in page (the emulator's): the redirect to the callback with code and state.
async fn sign_in_at_anaplan(link: &str) -> String {
    let resp = browser().get(link).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
    resp.headers()["location"].to_str().unwrap().to_owned()
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    html: String,
}

async fn callback(url: &str, cookie: Option<&str>) -> Page {
    let mut req = browser().get(url);
    if let Some(nonce) = cookie {
        req = req.header("cookie", format!("other=1; anaplan-onboard={nonce}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Page { status, headers, html: resp.text().await.unwrap() }
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// The callback URL with `state` replaced (or removed) and other parameters changed.
fn with_params(url: &str, set: &[(&str, Option<&str>)]) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let mut pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    for (k, v) in set {
        pairs.retain(|(n, _)| n != k);
        if let Some(v) = v {
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

fn assert_security_headers(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'"
    );
}

/// The secrets no page, header or log line may show.
fn secrets(app: &App, nonces: &[&str]) -> Vec<String> {
    let mut s = app.fake.issued_secrets();
    s.push(app.host.function_key());
    s.push(app.fake.client_secret());
    s.extend(nonces.iter().map(|n| (*n).to_owned()));
    s
}

fn assert_nothing_leaks(app: &App, texts: &[&str], nonces: &[&str]) {
    let log = app.host.output();
    for secret in secrets(app, nonces) {
        assert!(!log.contains(&secret), "a secret in the handler's log");
        for t in texts {
            assert!(!t.contains(&secret), "a secret in an answer: {t}");
        }
    }
}

fn headers_text(h: &reqwest::header::HeaderMap) -> String {
    h.iter().map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or(""))).collect()
}

/// The token file's refresh token.
fn token_file(app: &App) -> Option<String> {
    let text = std::fs::read_to_string(app.state_dir.path().join("refresh-token")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["refresh_token"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn the_page_shows_the_sign_in_and_a_button_bound_to_this_browser() {
    let app = App::start().await;
    let callback = register_callback(&app);
    let page = open_onboard(&app).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_security_headers(&page.headers);
    assert!(page.html.contains(r#"<meta name="viewport""#));
    assert!(!page.html.contains("<script"), "no script");
    assert!(page.html.contains("Sign in to Anaplan"));
    assert!(page.html.contains("<th>Method</th><td>oauth</td>"), "{}", page.html);
    assert!(page.html.contains(&callback), "the callback to register is named: {}", page.html);
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    let nonce = page.nonce.clone().unwrap();
    assert_eq!(nonce.len(), 32);
    assert!(cookie.ends_with("; HttpOnly; Secure; SameSite=Lax; Path=/api/onboard-callback; Max-Age=600"), "{cookie}");
    let link = page.link.clone().unwrap();
    assert!(link.starts_with(&format!("{}/auth/prelogin?", app.fake.base_url())), "{link}");
    let q = query(&link);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], app.fake.client_id());
    assert_eq!(q["redirect_uri"], callback);
    assert_eq!(q["scope"], "openid email offline_access");
    assert!(!q["state"].contains(&nonce), "the state never shows the cookie's value");
    // Another view, another state and cookie.
    let again = open_onboard(&app).await;
    assert_ne!(again.nonce, page.nonce);
    assert_ne!(query(again.link.as_deref().unwrap())["state"], q["state"]);
    // The key stays with the page: no Referer goes to Anaplan, and it is nowhere in the page.
    assert_nothing_leaks(&app, &[&page.html, &again.html], &[&nonce]);
    // The page needs the function key; the callback does not.
    let resp = browser().get(app.url("onboard")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = browser().get(app.url("onboard-callback")).send().await.unwrap();
    assert_eq!(resp.status(), 400, "anonymous, and refused for want of a state");
    assert_security_headers(resp.headers());
}

#[tokio::test]
async fn a_browser_sign_in_starts_a_new_chain_that_the_next_call_uses_and_works_once() {
    let app = App::start().await;
    register_callback(&app);
    // An old chain in use.
    assert_eq!(app.get("users", "").await.status(), 200);
    assert_eq!(app.fake.chain_starts().len(), 1);
    let before = token_file(&app);

    let page = open_onboard(&app).await;
    let nonce = page.nonce.clone().unwrap();
    let back = sign_in_at_anaplan(page.link.as_deref().unwrap()).await;
    let done = callback(&back, Some(&nonce)).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert_security_headers(&done.headers);
    assert!(done.html.contains("Signed in to Anaplan as"), "{}", done.html);
    assert!(done.html.contains("&lt;"), "the user's email, escaped: {}", done.html);
    let cleared = done.headers["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("anaplan-onboard=;") && cleared.contains("Max-Age=0"), "{cleared}");

    // A new chain, stored where serve reads it.
    let starts = app.fake.chain_starts();
    assert_eq!(starts.len(), 2, "one new chain");
    assert_ne!(token_file(&app), before);
    assert_eq!(token_file(&app).as_deref(), Some(starts[1].as_str()), "the token file holds the new chain");
    // A function call works with it, and the next refresh presents its token.
    assert_eq!(app.get("users", "").await.status(), 200);
    app.fake.expire_access_tokens();
    assert_eq!(app.get("users", "").await.status(), 200);
    let last = app.fake.refresh_log().last().cloned().expect("a refresh");
    assert_eq!(last.presented, starts[1]);
    assert_eq!(last.error, None);
    // health sees a fresh sign-in.
    let health: serde_json::Value = app.get("health", "").await.json().await.unwrap();
    assert_eq!(health["auth"]["status"], "ok", "{health}");

    // The same callback again (a replay, even from the same browser): refused, nothing written.
    let file = token_file(&app);
    let replay = callback(&back, Some(&nonce)).await;
    assert_eq!(replay.status, 400, "{}", replay.html);
    assert!(replay.html.contains("already used"), "{}", replay.html);
    assert_eq!(app.fake.chain_starts().len(), 2);
    assert_eq!(token_file(&app), file);

    assert_nothing_leaks(
        &app,
        &[&page.html, &done.html, &replay.html, &headers_text(&done.headers), &headers_text(&replay.headers)],
        &[&nonce],
    );
}

/// A refusal: its status, what the page says, and that nothing was written.
async fn refused(app: &App, url: &str, cookie: Option<&str>, says: &str) -> Page {
    let starts = app.fake.chain_starts().len();
    let file = token_file(app);
    let page = callback(url, cookie).await;
    assert_eq!(page.status, 400, "{url}: {}", page.html);
    assert_security_headers(&page.headers);
    assert!(page.html.contains(says), "{url}: expected {says:?} in {}", page.html);
    assert!(page.html.contains("not signed in"), "{}", page.html);
    assert_eq!(app.fake.chain_starts().len(), starts, "no new chain");
    assert_eq!(token_file(app), file, "the token file is unchanged");
    page
}

#[tokio::test]
async fn forged_expired_foreign_and_incomplete_callbacks_write_nothing() {
    let app = App::start().await;
    register_callback(&app);
    let secret = Secret::new(app.fake.client_secret());

    // Forged: a state signed with another key, or changed after signing.
    let page = open_onboard(&app).await;
    let nonce = page.nonce.clone().unwrap();
    let back = sign_in_at_anaplan(page.link.as_deref().unwrap()).await;
    let forged = state_for(&Secret::new("not-the-client-secret"), &nonce, unix_now());
    refused(&app, &with_params(&back, &[("state", Some(&forged))]), Some(&nonce), "not issued by this app").await;
    let state = query(&back)["state"].clone();
    let tampered = state.replacen('.', "0.", 1);
    refused(&app, &with_params(&back, &[("state", Some(&tampered))]), Some(&nonce), "not one this app issues").await;
    refused(&app, &with_params(&back, &[("state", None)]), Some(&nonce), "has no state").await;

    // Foreign: no cookie, or another browser's.
    refused(&app, &back, None, "did not send the sign-in").await;
    let other = open_onboard(&app).await.nonce.unwrap();
    refused(&app, &back, Some(&other), "started in another browser").await;

    // Expired: a state issued 10 minutes and a second ago (signed as the app signs, with the
    // client secret the test knows), for this browser.
    let old = state_for(&secret, &nonce, unix_now() - STATE_MAX_AGE.as_secs() - 1);
    refused(&app, &with_params(&back, &[("state", Some(&old))]), Some(&nonce), "more than 10 minutes old").await;

    // All of that left the real callback usable: none of it spent the state.
    // Missing code: refused, and the state is spent.
    let no_code = with_params(&back, &[("code", None)]);
    let spent = refused(&app, &no_code, Some(&nonce), "has no code").await;
    assert!(spent.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "the cookie is cleared");
    refused(&app, &back, Some(&nonce), "already used").await;

    // Anaplan's error (the user declined), named and escaped.
    let page = open_onboard(&app).await;
    let nonce2 = page.nonce.clone().unwrap();
    let back2 = sign_in_at_anaplan(page.link.as_deref().unwrap()).await;
    let denied = with_params(
        &back2,
        &[("code", None), ("error", Some("access_denied")), ("error_description", Some("<b>User declined</b>"))],
    );
    let shown = refused(&app, &denied, Some(&nonce2), "access_denied").await;
    assert!(shown.html.contains("&lt;b&gt;User declined&lt;/b&gt;"), "{}", shown.html);
    // A repeated parameter is refused too.
    let page = open_onboard(&app).await;
    let back3 = sign_in_at_anaplan(page.link.as_deref().unwrap()).await;
    refused(&app, &format!("{back3}&code=again"), page.nonce.as_deref(), "repeated").await;

    assert_eq!(app.fake.chain_starts().len(), 1, "no chain was started");
    assert_nothing_leaks(&app, &[&shown.html], &[&nonce, &nonce2, &other]);
}

#[tokio::test]
async fn other_methods_get_the_state_and_no_button() {
    let app = certificate_app().await;
    let page = open_onboard(&app).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<th>Method</th><td>certificate</td>"), "{}", page.html);
    assert!(page.html.contains("signing in from a browser is for oauth"), "{}", page.html);
    assert!(page.link.is_none() && page.nonce.is_none(), "no button, no cookie");
    let resp = callback(&format!("{}?state=x&code=y", app.url("onboard-callback")), Some("z")).await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn with_key_vault_the_new_sign_in_is_a_new_vault_version() {
    const REFRESH: &str = "anaplan-refresh-token";
    let fake = Emulator::start().await;
    let identity = FakeIdentity::start().await;
    let vault = FakeKeyVault::start(&identity).await;
    vault.set_secret("anaplan-client-id", &fake.client_id());
    vault.set_secret("anaplan-client-secret", &fake.client_secret());
    vault.set_secret(REFRESH, &fake.initial_refresh_token());
    let app = App::start_against(fake, |env| {
        crate::support::app::use_vault(env, &vault, &identity);
    })
    .await;
    register_callback(&app);
    let page = open_onboard(&app).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<th>Key Vault</th><td><span class=\"ok\">ok</span>"), "{}", page.html);
    let nonce = page.nonce.clone().unwrap();
    let back = sign_in_at_anaplan(page.link.as_deref().unwrap()).await;

    // A forged callback writes no version.
    refused(&app, &back, Some("0".repeat(32).as_str()), "another browser").await;
    assert_eq!(vault.versions(REFRESH).len(), 1);

    let done = callback(&back, Some(&nonce)).await;
    assert_eq!(done.status, 200, "{}", done.html);
    let versions = vault.versions(REFRESH);
    let starts = app.fake.chain_starts();
    assert_eq!(versions.len(), 2, "a new vault version");
    assert_eq!(versions.last(), Some(&starts[1]), "holding the new chain's first token");
    app.fake.expire_access_tokens();
    assert_eq!(app.get("users", "").await.status(), 200);
    assert_eq!(app.fake.refresh_log().last().unwrap().presented, starts[1]);
    let mut leaks = identity.issued_secrets();
    leaks.extend(secrets(&app, &[&nonce]));
    let log = app.host.output();
    for s in leaks {
        assert!(!log.contains(&s) && !done.html.contains(&s), "a secret shows");
    }
}
