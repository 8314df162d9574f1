//! The per-user sign-in connector, end to end: this test plays the connector's part (Logic
//! Apps' Generic OAuth 2, and Power Platform's templates) with the committed definition's own
//! OAuth settings against the emulator, and calls the app in `caller` mode with the token it
//! got, one function per Anaplan API family, the function key travelling as the definition's
//! internal header.

use std::collections::HashMap;

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use anaplan_functions::machinery::openapi::{FUNCTION_KEY_PARAMETER, OAUTH_HOST_PLACEHOLDER, OAUTH_SECURITY};
use serde_json::Value;

use crate::support::app::{App, problem, use_auth};

/// The connector's region: its redirect URL is Logic Apps' consent service there.
const REGION: &str = "westeurope";

/// `path` of the repository, with the OAuth host and the region put in place as
/// infra/modules/connector.bicep does (a text replacement in the JSON).
fn deployed(path: &str, oauth_host: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text.replace(OAUTH_HOST_PLACEHOLDER, oauth_host).replace("{region}", REGION)).unwrap()
}

/// The app in caller mode: no Anaplan credentials of its own.
async fn caller_app() -> App {
    let fake = Emulator::start().await;
    App::start_against(fake, |env| {
        use_auth(env, "caller", &[]);
        let api = env.iter().find(|(k, _)| k == "ANAPLAN_API_URL").map(|(_, v)| v.clone()).unwrap();
        env.push(("ANAPLAN_AUDIT_URL".into(), api));
    })
    .await
}

/// A form body.
fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// POST a form to the token URL, as Generic OAuth 2 does; the token answer.
async fn token(http: &reqwest::Client, url: &str, body: String) -> Value {
    let resp =
        http.post(url).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer["access_token"].is_string() && answer["refresh_token"].is_string(), "{answer}");
    answer
}

/// Signs in as a connection does: the authorization URL from the definition's OAuth settings,
/// the emulator's sign-in (the demo user approves at once), the code exchanged at the token
/// URL. Returns the token answer and the OAuth settings used.
async fn sign_in(app: &App) -> (Value, Value) {
    let host = app.fake.base_url();
    let props = deployed("infra/connector-oauth/apiProperties.json", &host);
    let swagger = deployed("infra/connector-oauth/apiDefinition.swagger.json", &host);
    let settings = props["properties"]["connectionParameters"]["token"]["oAuthSettings"].clone();
    let custom = &settings["customParameters"];
    let authorize = custom["authorizationUrlTemplate"]["value"].as_str().unwrap();
    let sec = &swagger["securityDefinitions"][OAUTH_SECURITY];
    assert_eq!(sec["authorizationUrl"], authorize, "the definition and the connection agree");
    assert_eq!(sec["tokenUrl"], custom["tokenUrlTemplate"]["value"]);
    assert!(!authorize.contains('?'), "the connector appends the query itself");

    // The Anaplan OAuth client allows the connector's redirect URL (the deployment's output).
    let redirect = settings["redirectUrl"].as_str().unwrap();
    assert_eq!(redirect, format!("https://logic-apis-{REGION}.consent.azure-apim.net/redirect"));
    app.fake.allow_redirect_uri(redirect);

    let client_id = app.fake.client_id();
    let scope = settings["scopes"][0].as_str().unwrap();
    let state = "connection-state-1234";
    let url = format!(
        "{authorize}?{}",
        form(&[
            ("client_id", &client_id),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", state),
        ])
    );
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = browser.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap_or_default());
    let back = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(redirect), "{back}");
    let q: HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state);
    let code = &q["code"];

    let token_url = custom["tokenUrlTemplate"]["value"].as_str().unwrap();
    let secret = app.fake.client_secret();
    let answer = token(
        &app.http,
        token_url,
        form(&[
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("code", code),
            ("redirect_uri", redirect),
            ("grant_type", "authorization_code"),
        ]),
    )
    .await;
    (answer, settings)
}

/// The function key as the definition's internal header carries it: its default, which the
/// deployment sets to the connector's key (here the host's function key).
fn key_header(app: &App) -> (String, String) {
    let swagger = deployed("infra/connector-oauth/apiDefinition.swagger.json", &app.fake.base_url());
    let p = &swagger["parameters"][FUNCTION_KEY_PARAMETER];
    assert_eq!(p["x-ms-visibility"], "internal");
    (p["name"].as_str().unwrap().to_owned(), app.host.function_key())
}

async fn call(app: &App, function: &str, query: &str, bearer: Option<&str>) -> reqwest::Response {
    let (name, key) = key_header(app);
    let mut req = app.http.get(format!("{}?{query}", app.url(function))).header(name, key);
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap()
}

/// The schemes the app sent to the Anaplan paths starting with `prefix` since `from`.
fn schemes(app: &App, from: usize, prefix: &str) -> Vec<Option<String>> {
    app.fake.requests()[from..]
        .iter()
        .filter(|r| r.path.starts_with(prefix))
        .map(|r| r.authorization_scheme.clone())
        .collect()
}

#[tokio::test]
async fn a_connection_signs_in_with_the_definitions_oauth_settings_and_calls_every_api_family() {
    let app = caller_app().await;
    let (signed_in, settings) = sign_in(&app).await;

    // Logic Apps refreshes at the refresh URL (client_secret in the body: an
    // authorization-code client needs it).
    let custom = &settings["customParameters"];
    let refreshed = token(
        &app.http,
        custom["refreshUrlTemplate"]["value"].as_str().unwrap(),
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", signed_in["refresh_token"].as_str().unwrap()),
            ("client_id", &app.fake.client_id()),
            ("client_secret", &app.fake.client_secret()),
        ]),
    )
    .await;
    let access = refreshed["access_token"].as_str().unwrap();
    assert_ne!(access, signed_in["access_token"].as_str().unwrap());

    // One call per Anaplan API family, each answered with the connection's own token; the
    // app passes it on as AnaplanAuthToken, which Audit and the exception-user API insist on
    // (the emulator refuses Bearer there, as Anaplan does).
    let families: [(&str, String, &str); 5] = [
        (
            "get-view-data",
            format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}"),
            "/2/0/",
        ),
        ("users", String::new(), "/scim/"),
        ("cloudworks", "kind=integrations".into(), "/2/0/integrations"),
        ("audit-events", String::new(), "/audit/"),
        ("exception-users", format!("workspaceId={WS_FPA_ID}"), "/admin/"),
    ];
    for (function, query, prefix) in &families {
        let from = app.fake.requests().len();
        let resp = call(&app, function, query, Some(access)).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "{function}: {body}");
        let sent = schemes(&app, from, prefix);
        assert!(!sent.is_empty(), "{function}: nothing sent to {prefix}");
        assert!(sent.iter().all(|s| s.as_deref() == Some("AnaplanAuthToken")), "{function}: {sent:?}");
    }
    // The app refreshed nothing: the connection's tokens are the only ones issued.
    assert!(app.fake.refresh_log().iter().all(|r| r.presented == signed_in["refresh_token"].as_str().unwrap()));

    // The connection's token expired: a 401 (Logic Apps refreshes the connection), not a 5xx.
    app.fake.expire_access_tokens();
    for (function, query, _) in &families {
        let resp = call(&app, function, query, Some(access)).await;
        let body = problem(resp, 401).await;
        assert!(!body.to_string().contains(access), "{function}: the token never comes back");
    }
    // After the connection's refresh, the same calls work again.
    let again = token(
        &app.http,
        custom["refreshUrlTemplate"]["value"].as_str().unwrap(),
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refreshed["refresh_token"].as_str().unwrap()),
            ("client_id", &app.fake.client_id()),
            ("client_secret", &app.fake.client_secret()),
        ]),
    )
    .await;
    let (function, query, _) = &families[0];
    assert_eq!(call(&app, function, query, again["access_token"].as_str()).await.status(), 200);
    assert!(!app.host.output().contains(access), "no token in the log");
}

#[tokio::test]
async fn without_the_connections_token_the_app_answers_401_and_never_calls_anaplan() {
    let app = caller_app().await;
    let from = app.fake.requests().len();
    for function in ["list-objects", "users", "audit-events"] {
        let query = if function == "list-objects" { "kind=workspaces" } else { "" };
        problem(call(&app, function, query, None).await, 401).await;
    }
    assert_eq!(app.fake.requests().len(), from, "Anaplan is not called");
    // And without the function key, the host refuses before the app runs.
    let resp = app.http.get(format!("{}?kind=workspaces", app.url("list-objects"))).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn the_power_platform_templates_exchange_and_refresh_with_the_client_secret() {
    let app = caller_app().await;
    let host = app.fake.base_url();
    let props = deployed("infra/connector-oauth/power-platform/apiProperties.json", &host);
    let oauth = &props["properties"]["connectionParameters"]["token"]["oAuthSettings"];
    let custom = &oauth["customParameters"];
    // Power Platform's redirect URL (per connector); registered in the Anaplan OAuth client.
    let redirect = "https://global.consent.azure-apim.net/redirect/anaplan-5fanaplan-20functions";
    app.fake.allow_redirect_uri(redirect);
    let client_id = app.fake.client_id();
    let secret = app.fake.client_secret();
    let scopes = oauth["scopes"][0].as_str().unwrap();
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let fill = |template: &str, code: &str, refresh: &str| {
        template
            .replace("{ClientId}", &encode(&client_id))
            .replace("{ClientSecret}", &encode(&secret))
            .replace("{RedirectUrl}", &encode(redirect))
            .replace("{Scopes}", &encode(scopes))
            .replace("{State}", "pp-state")
            .replace("{Code}", &encode(code))
            .replace("{RefreshToken}", &encode(refresh))
    };
    let url = format!(
        "{}{}",
        custom["authorizationUrlTemplate"]["value"].as_str().unwrap(),
        fill(custom["authorizationUrlQueryStringTemplate"]["value"].as_str().unwrap(), "", "")
    );
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = browser.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap_or_default());
    let back = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "pp-state");
    let token_url = custom["tokenUrlTemplate"]["value"].as_str().unwrap();
    let signed_in =
        token(&app.http, token_url, fill(custom["tokenBodyTemplate"]["value"].as_str().unwrap(), &q["code"], "")).await;
    let refresh_url = custom["refreshUrlTemplate"]["value"].as_str().unwrap();
    let refresh_body = fill(
        custom["refreshBodyTemplate"]["value"].as_str().unwrap(),
        "",
        signed_in["refresh_token"].as_str().unwrap(),
    );
    let refreshed = token(&app.http, refresh_url, refresh_body).await;
    // The policy sends the key the user entered as x-functions-key: here, as the host's key.
    let policy = &props["properties"]["policyTemplateInstances"][0]["parameters"];
    let resp = app
        .http
        .get(format!("{}?kind=workspaces", app.url("list-objects")))
        .header(policy["x-ms-apimTemplateParameter.name"].as_str().unwrap(), app.host.function_key())
        .header("authorization", format!("Bearer {}", refreshed["access_token"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
