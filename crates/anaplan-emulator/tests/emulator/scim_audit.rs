//! The emulator's SCIM and Audit APIs are strict: they page like Anaplan, refuse what
//! Anaplan refuses (filters outside its grammar, too many workspaces, DELETE, windows over
//! 30 days) in Anaplan's shapes, and need valid auth.

use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

use crate::support::emulator_api::access_token as token;

struct Scim {
    fake: Emulator,
    http: reqwest::Client,
    auth: String,
}

impl Scim {
    async fn new() -> Scim {
        let fake = Emulator::start().await;
        let auth = format!("AnaplanAuthToken {}", token(&fake).await);
        Scim { fake, http: reqwest::Client::new(), auth }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/scim/1/0/v2/Users{rest}", self.fake.base_url())
    }

    async fn send(&self, method: reqwest::Method, rest: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(rest)).header("authorization", &self.auth);
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn scim_error(body: &Value, status: u16) {
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{body}");
    assert_eq!(body["status"], json!(status.to_string()), "{body}");
    assert!(body["detail"].is_string(), "{body}");
}

#[tokio::test]
async fn users_page_by_at_most_100_in_a_list_response() {
    let s = Scim::new().await;
    let (status, first) = s.send(reqwest::Method::GET, "?startIndex=1&count=500", None).await;
    assert_eq!(status, 200);
    assert_eq!(first["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    assert_eq!(first["totalResults"], json!(SCIM_USER_COUNT));
    assert_eq!(first["itemsPerPage"], json!(100), "count is capped at 100");
    assert_eq!(first["Resources"].as_array().unwrap().len(), 100);
    let (_, second) = s.send(reqwest::Method::GET, "?startIndex=101&count=100", None).await;
    assert_eq!(second["startIndex"], json!(101));
    assert_eq!(second["Resources"].as_array().unwrap().len(), SCIM_USER_COUNT - 100);
    let u = &first["Resources"][1];
    let seed = scim_user(1);
    assert_eq!(u["userName"], json!(seed.user_name));
    assert_eq!(u["entitlements"][0]["type"], json!("WORKSPACE"));
    let (status, body) = s.send(reqwest::Method::GET, "?count=ten", None).await;
    assert_eq!(status, 400);
    scim_error(&body, 400);
}

#[tokio::test]
async fn filters_follow_anaplans_grammar_and_nothing_else() {
    let s = Scim::new().await;
    let q = |f: &str| format!("?filter={}", url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>());
    let (status, body) = s.send(reqwest::Method::GET, &q(r#"userName eq "USER011@example.com""#), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["totalResults"], json!(1), "userName compares case-insensitively");
    let (_, body) = s.send(reqwest::Method::GET, &q("active eq false and (externalId pr or id pr)"), None).await;
    let inactive = (1..SCIM_USER_COUNT).filter(|n| n % 10 == 0).count();
    assert_eq!(body["totalResults"], json!(inactive));
    for bad in [r#"userName co "user""#, r#"not (active eq true)"#, r#"emails[type eq "work"]"#, r#"title eq "x""#] {
        let (status, body) = s.send(reqwest::Method::GET, &q(bad), None).await;
        assert_eq!(status, 400, "{bad}");
        scim_error(&body, 400);
        assert_eq!(body["scimType"], json!("invalidFilter"));
    }
}

#[tokio::test]
async fn writes_are_checked_whole_and_delete_is_refused() {
    let s = Scim::new().await;
    let schemas = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
    let ws = |id: &str| json!({"value": id, "type": "WORKSPACE"});
    // Unknown workspace: nothing is created.
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "",
            Some(json!({"schemas": schemas, "userName": "new@example.com",
                "entitlements": [ws("8a81b09d599f3c6e0159f605560c2699")]})),
        )
        .await;
    assert_eq!(status, 400);
    scim_error(&body, 400);
    assert!(s.fake.scim_user_by_name("new@example.com").is_none());
    // More than 50 workspaces in one call.
    let many: Vec<Value> = (0..51).map(|_| ws(WS_FPA_ID)).collect();
    let (status, _) = s
        .send(
            reqwest::Method::POST,
            "",
            Some(json!({"schemas": schemas, "userName": "new@example.com", "entitlements": many})),
        )
        .await;
    assert_eq!(status, 400, "at most 50 entitlements per call");
    assert!(s.fake.scim_user_by_name("new@example.com").is_none());
    let (status, _) = s
        .send(
            reqwest::Method::POST,
            "",
            Some(json!({"schemas": schemas, "userName": "new@example.com",
            "entitlements": [ws(WS_FPA_ID)]})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, created) =
        s.send(reqwest::Method::POST, "", Some(json!({"schemas": schemas, "userName": "NEW@example.com"}))).await;
    assert_eq!(status, 409, "userName is unique: {created}");
    let id = s.fake.scim_user_by_name("new@example.com").unwrap()["id"].as_str().unwrap().to_owned();

    // PATCH: one bad operation changes nothing.
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let (status, _) = s
        .send(
            reqwest::Method::PATCH,
            &format!("/{id}"),
            Some(patch(json!([
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "path": "emails", "value": "x"},
            ]))),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(s.fake.scim_user_by_name("new@example.com").unwrap()["active"], json!(true));
    let (status, user) = s
        .send(
            reqwest::Method::PATCH,
            &format!("/{id}"),
            Some(patch(json!([
                {"op": "add", "path": "entitlements", "value": [ws(WS_SALES_ID)]},
                {"op": "remove", "path": "entitlements", "value": [ws(WS_FPA_ID)]},
                {"op": "replace", "path": "name.familyName", "value": "Hopper"},
            ]))),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        user["entitlements"],
        json!([
            {"value": WS_SALES_ID, "display": WS_SALES_NAME, "type": "WORKSPACE"},
            {"value": WS_SALES_ID, "type": "WORKSPACE_IDS"},
            {"value": format!("\"{WS_SALES_NAME}\""), "type": "WORKSPACE_NAMES"},
        ]),
        "the workspaces, then the same set as ids and as names (as live answers)"
    );
    assert_eq!(user["name"]["familyName"], json!("Hopper"));
    let (_, user) = s
        .send(
            reqwest::Method::PATCH,
            &format!("/{id}"),
            Some(patch(json!([{"op": "remove", "path": "entitlements[type eq \"WORKSPACE\"]"}]))),
        )
        .await;
    assert_eq!(user["entitlements"], json!([]));

    // PUT replaces everything: omitted entitlements are removed.
    let (status, user) = s
        .send(
            reqwest::Method::PUT,
            &format!("/{id}"),
            Some(json!({"schemas": schemas, "userName": "new@example.com", "active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(user["active"], json!(false));

    let (status, body) = s.send(reqwest::Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(status, 501);
    scim_error(&body, 501);
    let (status, body) = s.send(reqwest::Method::GET, "/0123456789abcdef0123456789abcdef", None).await;
    assert_eq!(status, 404);
    scim_error(&body, 404);
}

#[tokio::test]
async fn scim_takes_a_token_or_the_api_key_and_audit_only_a_token() {
    let fake = Emulator::start().await;
    let http = reqwest::Client::new();
    let users = format!("{}/scim/1/0/v2/Users?count=1", fake.base_url());
    let events = format!("{}/audit/api/1/events", fake.base_url());
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(http.get(&users).send().await.unwrap()), 401);
    assert_eq!(status(http.get(&users).bearer_auth("scim-wrong").send().await.unwrap()), 401);
    assert_eq!(status(http.get(&users).bearer_auth(fake.scim_api_key()).send().await.unwrap()), 200);
    assert_eq!(fake.scim_key_requests(), 1);
    assert_eq!(fake.credentials().scim_api_key, fake.scim_api_key(), "credentials.json carries the key");
    assert_eq!(status(http.get(&events).bearer_auth(fake.scim_api_key()).send().await.unwrap()), 401);
    let t = token(&fake).await;
    assert_eq!(status(http.get(&users).bearer_auth(&t).send().await.unwrap()), 200);
    // The audit host refuses the Bearer scheme (live-confirmed): AnaplanAuthToken only.
    assert_eq!(status(http.get(&events).bearer_auth(&t).send().await.unwrap()), 401);
    let anaplan = format!("AnaplanAuthToken {t}");
    assert_eq!(status(http.get(&events).header("authorization", &anaplan).send().await.unwrap()), 200);
    fake.expire_access_tokens();
    assert_eq!(status(http.get(&users).bearer_auth(&t).send().await.unwrap()), 401);
}

#[tokio::test]
async fn audit_events_page_and_refuse_windows_over_30_days() {
    let fake = Emulator::start().await;
    let http = reqwest::Client::new();
    let auth = format!("AnaplanAuthToken {}", token(&fake).await);
    let all = fake.audit_events();
    let newest = all[0]["eventDate"].as_u64().unwrap();
    let oldest = all.last().unwrap()["eventDate"].as_u64().unwrap();
    assert!(newest - oldest > 30 * 24 * 3600 * 1000, "the seed spans more than 30 days");
    let get = |q: String| {
        let req = http.get(format!("{}/audit/api/1/events?{q}", fake.base_url())).header("authorization", &auth);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let day = 24 * 3600 * 1000u64;
    let (from, to) = (newest - 2 * day, newest - day);
    let (status, page) = get(format!("type=all&dateFrom={from}&dateTo={to}&limit=1000&offset=0")).await;
    assert_eq!(status, 200, "{page}");
    let paging = &page["meta"]["paging"];
    assert_eq!(paging["totalSize"], json!(97), "both ends inclusive: {paging}");
    assert_eq!(paging["currentPageSize"], json!(AUDIT_PAGE_CAP));
    assert_eq!(paging["nextOffset"], json!(AUDIT_PAGE_CAP));
    assert!(paging["nextUrl"].as_str().unwrap().contains(&format!("offset={AUDIT_PAGE_CAP}")));
    let (_, last) = get(format!("type=all&dateFrom={from}&dateTo={to}&offset=50")).await;
    assert_eq!(last["response"].as_array().unwrap().len(), 47);
    assert!(last["meta"]["paging"].get("nextOffset").is_none());
    let (_, logins) = get(format!("type=access_control&dateFrom={from}&dateTo={to}")).await;
    let access = logins["response"].as_array().unwrap();
    assert!(!access.is_empty() && access.iter().all(|e| e["eventTypeId"].as_str().unwrap().starts_with("AUTHZ-")));

    let (status, body) = get(format!("type=all&dateFrom={}&dateTo={newest}", newest - 31 * day)).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], json!("FAILURE_BAD_REQUEST"), "the Audit API's error shape: {body}");
    let (status, _) = get(format!("type=all&dateFrom={to}&dateTo={from}")).await;
    assert_eq!(status, 400);
    // An unknown type is `all`, as live.
    let (status, everything) = get("type=everything".into()).await;
    assert_eq!(status, 200);
    let (_, every) = get("type=all".into()).await;
    assert_eq!(everything["meta"]["paging"]["totalSize"], every["meta"]["paging"]["totalSize"]);
    let (status, _) = get("type=all&dateFrom=yesterday".into()).await;
    assert_eq!(status, 400);
}
