//! Raw HTTP against the emulator with a real access token, for the tests of the emulator's
//! own strictness (what it refuses and how): no handler in between.

use anaplan_emulator::{DemoCredentials, Emulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An access token from the emulator's OAuth service, by the refresh grant with the demo
/// client and the first refresh token of its chain.
pub async fn access_token(fake: &Emulator) -> String {
    refresh_grant(fake, &fake.initial_refresh_token()).await.0
}

/// The refresh grant with the demo client and `refresh`: (access token, next refresh token).
pub async fn refresh_grant(fake: &Emulator, refresh: &str) -> (String, String) {
    let grant: Value = reqwest::Client::new()
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
    (grant["access_token"].as_str().unwrap().to_owned(), grant["refresh_token"].as_str().unwrap().to_owned())
}

/// A fresh emulator and a token for its Integration API.
pub struct EmulatorApi {
    pub fake: Emulator,
    pub http: reqwest::Client,
    pub token: String,
}

impl EmulatorApi {
    /// Starts an emulator with the default configuration and signs in.
    pub async fn start() -> EmulatorApi {
        let fake = Emulator::start().await;
        let token = access_token(&fake).await;
        EmulatorApi { fake, http: reqwest::Client::new(), token }
    }

    /// A request to `/2/0/<path>` with the token.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/2/0/{path}", self.fake.base_url()))
            .header("authorization", format!("AnaplanAuthToken {}", self.token))
    }

    /// Sends `b`: the status and the body as JSON (or as a JSON string when it is not JSON).
    pub async fn send(&self, b: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = b.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// An access token from the OAuth refresh grant, and the refresh token that replaced
/// the one presented.
pub async fn refresh_at(http: &reqwest::Client, base: &str, c: &DemoCredentials, token: &str) -> (StatusCode, Value) {
    let body = json!({
        "grant_type": "refresh_token",
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "refresh_token": token,
    });
    let resp = http.post(format!("{base}/oauth/token")).json(&body).send().await.unwrap();
    (resp.status(), resp.json().await.unwrap())
}
