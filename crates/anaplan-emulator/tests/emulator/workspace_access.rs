//! Who may use what, as strictly as the description has it: the tenant's users (the SCIM
//! users, with the seed's last logins), each workspace's administrators and visitors (the
//! description's `Admin` and `Visitor`, no ids), paged like every list, and the User
//! Administrator gate answered as live Anaplan answers it (500). And a list index reset:
//! only for a list without items, the refusal in the description's own words.

use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Api;

/// Every page of a listing, following `meta.paging.next` as a client would.
async fn all_pages(api: &Api, path: &str, key: &str) -> (Vec<Value>, usize) {
    let mut url = format!("{}/2/0/{path}", api.fake.base_url());
    let (mut out, mut pages) = (Vec::new(), 0);
    loop {
        let b = api.http.get(&url).header("authorization", format!("AnaplanAuthToken {}", api.token));
        let (s, body) = api.send(b).await;
        assert_eq!(s, 200, "{url}: {body}");
        pages += 1;
        out.extend(body[key].as_array().cloned().unwrap_or_default());
        match body["meta"]["paging"]["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return (out, pages),
        }
    }
}

#[tokio::test]
async fn the_tenants_users_are_the_scim_users_with_their_last_logins_paged() {
    let api = Api::start().await;
    let (users, pages) = all_pages(&api, "users", "users").await;
    assert_eq!(users.len(), SCIM_USER_COUNT);
    assert!(pages > 1, "the emulator's page cap makes a client page");
    for (n, u) in users.iter().enumerate() {
        let seed = scim_user(n);
        assert_eq!(u["id"], seed.id.as_str());
        assert_eq!(u["email"], seed.user_name.as_str());
        assert_eq!(
            (u["firstName"].as_str(), u["lastName"].as_str()),
            (Some(&*seed.given_name), Some(&*seed.family_name))
        );
        assert_eq!(u["active"], seed.active);
        match last_login_date(n) {
            Some(d) => assert_eq!(u["lastLoginDate"], d.as_str()),
            None => assert!(u.get("lastLoginDate").is_none(), "never signed in: absent, not null: {u}"),
        }
    }
    // One by id; an unknown id is a 404 in Anaplan's shape.
    let (s, body) = api.send(api.req(Method::GET, &format!("users/{}", scim_user(7).id))).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["user"], users[7]);
    let (s, body) = api.send(api.req(Method::GET, "users/0123456789abcdef0123456789abcdef")).await;
    assert_eq!((s, &body["status"]["code"]), (404, &json!(404)));
}

#[tokio::test]
async fn admins_and_visitors_are_the_seeds_without_ids_and_paged() {
    let api = Api::start().await;
    for (ws, admins) in WORKSPACE_ADMINS {
        let (listed, pages) = all_pages(&api, &format!("workspaces/{ws}/admins"), "admins").await;
        assert!(pages > 1, "more admins than one capped page");
        let emails: Vec<&str> = listed.iter().map(|a| a["email"].as_str().unwrap()).collect();
        let want: Vec<String> = admins.iter().map(|&n| scim_user(n).user_name).collect();
        assert_eq!(emails, want);
        for a in &listed {
            assert!(a.get("id").is_none() && a.get("lastLoginDate").is_none(), "the description's Admin: {a}");
        }
    }
    // The integration user administers both workspaces: each names the other.
    let (fpa, _) = all_pages(&api, &format!("workspaces/{WS_FPA_ID}/admins"), "admins").await;
    assert_eq!(fpa[0]["otherWorkspaces"], json!([WS_SALES_NAME]));
    assert_eq!(fpa[1]["otherWorkspaces"], json!([]));
    // User 30 is inactive and still listed.
    assert_eq!(fpa[3]["active"], false);
    let (visitors, _) = all_pages(&api, &format!("workspaces/{WS_SALES_ID}/visitors"), "visitors").await;
    let emails: Vec<&str> = visitors.iter().map(|a| a["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["user003@example.com", "user005@example.com", "user009@example.com"]);
}

#[tokio::test]
async fn without_the_user_administrator_role_admins_and_visitors_answer_500_before_any_404() {
    let api = Api::start().await;
    let theirs = api.fake.access_token_for("user005@example.com");
    for who in ["admins", "visitors"] {
        for ws in [WS_FPA_ID, "0123456789abcdef0123456789abcdef"] {
            let url = format!("{}/2/0/workspaces/{ws}/{who}", api.fake.base_url());
            let (s, body) = api.send(api.http.get(&url).header("authorization", format!("Bearer {theirs}"))).await;
            assert_eq!((s, &body["status"]["code"]), (500, &json!(500)), "{url}: {body}");
        }
        // The User Administrator: an unknown workspace is the description's 404.
        let (s, body) =
            api.send(api.req(Method::GET, &format!("workspaces/0123456789abcdef0123456789abcdef/{who}"))).await;
        assert_eq!(s, 404, "{body}");
        assert_eq!(body["status"]["message"], "Workspace not found");
    }
}

fn list_path(list: &str) -> String {
    format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/lists/{list}")
}

async fn item_count(api: &Api, list: &str) -> Value {
    let (s, body) = api.send(api.req(Method::GET, &format!("models/{MODEL_REVENUE_ID}/lists/{list}"))).await;
    assert_eq!(s, 200, "{body}");
    body["metadata"]["itemCount"].clone()
}

#[tokio::test]
async fn an_empty_list_resets_and_one_with_items_is_refused_unchanged() {
    let api = Api::start().await;
    // The top level item counts (the description): an empty list with one reports 1.
    assert_eq!(item_count(&api, LIST_RETIRED_CODES_ID).await, 1);
    assert_eq!(item_count(&api, LIST_COST_CENTRES_ID).await, COST_CENTRES.len() + 1);

    let reset = |list: &str| api.req(Method::POST, &format!("{}/resetIndex", list_path(list)));
    let resp = reset(LIST_RETIRED_CODES_ID).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("content-length").and_then(|v| v.to_str().ok()), Some("0"));
    assert!(resp.headers().get("content-type").is_none(), "no body, no media type");
    // The index counts from 1 again: the next item gets the list's first id.
    let add = json!({ "items": [{ "name": "R1", "code": "R1" }] });
    let (s, body) = api
        .send(api.req(Method::POST, &format!("{}/items?action=add", list_path(LIST_RETIRED_CODES_ID))).json(&add))
        .await;
    assert_eq!((s, &body["added"]), (200, &json!(1)), "{body}");
    assert_eq!(api.fake.list_items(LIST_RETIRED_CODES_ID)[0].id, "211000000001");

    // A list with items: the description's 400, in its words, and nothing changes.
    for list in [LIST_COST_CENTRES_ID, LIST_RETIRED_CODES_ID] {
        let before = item_count(&api, list).await;
        let (s, body) = api.send(reset(list)).await;
        assert_eq!(s, 400, "{body}");
        assert!(body["status"]["message"].as_str().unwrap().contains("contains data"), "{body}");
        assert_eq!(item_count(&api, list).await, before);
    }

    // Workspace Administrator only (403 before anything is looked at); unknown list 404.
    let theirs = api.fake.access_token_for("user005@example.com");
    let url = format!("{}/2/0/{}/resetIndex", api.fake.base_url(), list_path("101000000099"));
    let (s, _) = api.send(api.http.post(&url).header("authorization", format!("AnaplanAuthToken {theirs}"))).await;
    assert_eq!(s, 403);
    let (s, body) = api.send(reset("101000000099")).await;
    assert_eq!(s, 404, "{body}");
}
