//! onboard in a real browser: headless Chromium, driven through chromedriver (WebDriver),
//! opens onboard with the function key, clicks "Sign in to Anaplan", goes through the
//! emulator's sign-in (a 302 back to the callback) and lands on the callback page, its
//! cookie set and sent by the browser itself; then a function call works with the new chain.
//! With `ONBOARD_SCREENSHOTS=<dir>` both pages are saved as `onboard.png` and
//! `onboard-callback.png` (the README's screenshots).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them
//! the test says how to install them and passes, except in CI (`CI=true`), where it fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::support::app::App;

/// `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// chromedriver and the Chromium binary, or why they are missing.
fn browser_tools() -> Result<(PathBuf, PathBuf), String> {
    let driver = std::env::var_os("CHROMEDRIVER").map(PathBuf::from).or_else(|| on_path("chromedriver"));
    let chromium = std::env::var_os("CHROME_BIN")
        .map(PathBuf::from)
        .or_else(|| on_path("chromium"))
        .or_else(|| on_path("chromium-browser"))
        .or_else(|| on_path("google-chrome"));
    match (driver, chromium) {
        (Some(d), Some(c)) => Ok((d, c)),
        _ => Err("chromium and chromedriver are not installed: apt-get install -y --no-install-recommends \
                  chromium chromium-driver (or set CHROME_BIN and CHROMEDRIVER)"
            .to_owned()),
    }
}

/// A running chromedriver, killed on drop.
struct Driver {
    _child: tokio::process::Child,
    url: String,
}

async fn start_driver(driver: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", driver.display()));
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(resp) = reqwest::get(format!("{url}/status")).await
            && resp.status() == 200
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not answer within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { _child: child, url }
}

fn screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("ONBOARD_SCREENSHOTS").filter(|d| !d.is_empty()).map(PathBuf::from)
}

#[tokio::test]
async fn an_admin_signs_the_app_in_with_headless_chromium() {
    let (driver, chromium) = match browser_tools() {
        Ok(tools) => tools,
        Err(why) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true: the browser test cannot be skipped: {why}");
            eprintln!("SKIPPED onboard_browser: {why}");
            return;
        }
    };
    let app = App::start().await;
    let callback = format!("{}/api/onboard-callback", app.host.base_url());
    app.fake.allow_loopback_redirect_uri(&callback);
    // A flow has run: the page shows who the app acts as.
    assert_eq!(app.get("users", "").await.status(), 200);

    let driver = start_driver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=640,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }
    });
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities.as_object().unwrap().clone())
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with headless Chromium");
    let outcome = async {
        client.goto(&format!("{}?code={}", app.url("onboard"), app.host.function_key())).await?;
        let text = client.find(Locator::Css("body")).await?.text().await?;
        assert!(text.contains("Anaplan sign-in") && text.contains("oauth"), "{text}");
        if let Some(dir) = screenshot_dir() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("onboard.png"), client.screenshot().await?).unwrap();
        }
        client.find(Locator::LinkText("Sign in to Anaplan")).await?.click().await?;
        client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("p.ok, p.bad")).await?;
        let landed = client.current_url().await?;
        let text = client.find(Locator::Css("body")).await?.text().await?;
        if let Some(dir) = screenshot_dir() {
            std::fs::write(dir.join("onboard-callback.png"), client.screenshot().await?).unwrap();
        }
        Ok::<_, fantoccini::error::CmdError>((landed, text))
    }
    .await;
    let _ = client.close().await;
    let (landed, text) = outcome.expect("the browser went through the sign-in");
    assert!(landed.as_str().starts_with(&callback), "{landed}");
    assert!(text.contains("Signed in to Anaplan as"), "{text}");

    // The new chain is where serve reads it, and the next refresh presents its token.
    let starts = app.fake.chain_starts();
    assert_eq!(starts.len(), 2, "one new chain");
    app.fake.expire_access_tokens();
    assert_eq!(app.get("users", "").await.status(), 200);
    assert_eq!(app.fake.refresh_log().last().unwrap().presented, starts[1]);
    let log = app.host.output();
    for secret in app.fake.issued_secrets().into_iter().chain([app.host.function_key()]) {
        assert!(!log.contains(&secret) && !text.contains(&secret), "a secret shows");
    }
}
