//! list-items: read every item (a list above 1,000,000 items through a large list read
//! that is deleted afterwards), and add, update, upsert and delete in batches, with
//! refused items a 422.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listName=Cost%20Centres")
}

#[tokio::test]
async fn every_item_comes_with_code_parent_properties_and_subsets() {
    let app = App::start().await;
    let resp = app.get("list-items", &scope()).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["list"], json!({"id": LIST_COST_CENTRES_ID, "name": LIST_COST_CENTRES_NAME}));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), COST_CENTRES.len());
    assert_eq!(
        items[0],
        json!({"id": "209000000001", "name": "Finance Ops", "code": "CC100", "parent": COST_CENTRES_TOP_NAME,
               "properties": {"Owner": "Ada"}, "subsets": {"Active": true}})
    );
    let resp = app.get("list-items", &format!("{}&format=csv", scope())).await;
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let text = resp.text().await.unwrap();
    // Anaplan's own CSV, every column it gives: parentId, listId, listName, subsets, properties.
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,name,code,parent,parentId,listId,listName,Active,Owner"), "{text}");
    assert_eq!(
        lines.next(),
        Some("209000000001,Finance Ops,CC100,All Cost Centres,209000000000,101000000050,Cost Centres,true,Ada")
    );
    assert_eq!(lines.count(), COST_CENTRES.len() - 1);
    // Asked of Anaplan as CSV (one items read, with includeAll), not rebuilt from JSON.
    let items_path =
        format!("/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/lists/{LIST_COST_CENTRES_ID}/items");
    let reads: Vec<String> =
        app.fake.requests().into_iter().filter(|r| r.path == items_path).map(|r| r.query).collect();
    assert_eq!(reads, ["includeAll=true", "includeAll=true"], "one JSON read, one CSV read");

    let by_id = app
        .get("list-items", &format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId={LIST_COST_CENTRES_ID}"))
        .await;
    let by_id: Value = by_id.json().await.unwrap();
    assert_eq!(by_id["list"]["name"], LIST_COST_CENTRES_NAME, "the name is looked up");
    let p = problem(
        app.get("list-items", &format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listName=Cost%20Centers"))
            .await,
        404,
    )
    .await;
    assert_eq!(p["closestNames"][0], LIST_COST_CENTRES_NAME);
    problem(
        app.get("list-items", &format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId=102000000050")).await,
        400,
    )
    .await;
}

#[tokio::test]
async fn a_list_above_a_million_items_is_read_through_a_large_read_deleted_afterwards() {
    let app = App::start().await;
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId={LIST_TRANSACTIONS_ID}&format=csv");
    let resp = app.get("list-items", &q).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,name,code,parent"), "one header");
    assert_eq!(lines.clone().count(), TRANSACTIONS_COUNT);
    assert_eq!(lines.next(), Some("250000000001,T0000001,T0000001,"));
    assert_eq!(app.fake.list_reads(), (0, 1), "created once and deleted");
    // Decided from the list's itemCount: no direct read was tried (the emulator's refusal
    // of one is worded unlike anything the client could look for).
    let list_path = format!("/2/0/models/{MODEL_REVENUE_ID}/lists/{LIST_TRANSACTIONS_ID}");
    let requests = app.fake.requests();
    assert!(requests.iter().any(|r| r.method == "GET" && r.path == list_path), "the metadata was read");
    assert!(
        !requests.iter().any(|r| r.path.ends_with(&format!("/lists/{LIST_TRANSACTIONS_ID}/items"))),
        "no direct read"
    );

    let pages = app
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/readRequests/") && r.path.contains("/pages/"))
        .count();
    assert_eq!(pages, TRANSACTIONS_COUNT.div_ceil(LIST_READ_PAGE_ITEMS));
}

#[tokio::test]
async fn add_update_and_delete_change_the_list() {
    let app = App::start().await;
    let add = json!({"items": [
        {"code": "CC400", "name": "Legal", "properties": {"Owner": "Edsger"}, "subsets": {"Active": false}},
        {"code": "CC410", "name": "Tax", "parent": "CC400"},
    ]});
    let resp = app.post("list-items", &format!("{}&action=add", scope()), &add).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"added": 2, "updated": 0, "deleted": 0, "ignored": 0, "total": 2, "failures": []}));
    let items = app.fake.list_items(LIST_COST_CENTRES_ID);
    let tax = items.iter().find(|i| i.code == "CC410").unwrap();
    assert_eq!(tax.parent, "Legal");

    let update = json!({"items": [{"code": "CC410", "name": "Tax & Treasury", "properties": {"Owner": "Barbara"}}]});
    let body: Value =
        app.post("list-items", &format!("{}&action=update", scope()), &update).await.json().await.unwrap();
    assert_eq!(body["updated"], 1);
    let items = app.fake.list_items(LIST_COST_CENTRES_ID);
    let tax = items.iter().find(|i| i.code == "CC410").unwrap();
    assert_eq!((tax.name.as_str(), tax.properties["Owner"].as_str()), ("Tax & Treasury", "Barbara"));

    let body: Value = app
        .post(
            "list-items",
            &format!("{}&action=delete", scope()),
            &json!({"items": [{"code": "CC410"}, {"code": "CC400"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["deleted"], 2);
    assert_eq!(app.fake.list_items(LIST_COST_CENTRES_ID).len(), COST_CENTRES.len());
}

#[tokio::test]
async fn upsert_adds_new_codes_updates_the_rest_and_twice_is_stable() {
    let app = App::start().await;
    let items = json!({"items": [
        {"code": "CC100", "name": "Finance Operations", "properties": {"Owner": "Ada L."}},
        {"code": "CC500", "name": "Marketing", "subsets": {"Active": true}},
        {"code": "CC500", "name": "Marketing", "properties": {"Owner": "Hedy"}},
    ]});
    let q = format!("{}&action=upsert", scope());
    let body: Value = app.post("list-items", &q, &items).await.json().await.unwrap();
    assert_eq!(body, json!({"added": 1, "updated": 2, "deleted": 0, "ignored": 0, "total": 3, "failures": []}));
    let after_first = app.fake.list_items(LIST_COST_CENTRES_ID);
    assert_eq!(after_first.len(), COST_CENTRES.len() + 1);
    let body: Value = app.post("list-items", &q, &items).await.json().await.unwrap();
    assert_eq!(body, json!({"added": 0, "updated": 3, "deleted": 0, "ignored": 0, "total": 3, "failures": []}));
    assert_eq!(app.fake.list_items(LIST_COST_CENTRES_ID), after_first, "upsert twice is stable");
    let mkt = after_first.iter().find(|i| i.code == "CC500").unwrap();
    assert_eq!(mkt.properties["Owner"], "Hedy");
}

#[tokio::test]
async fn changes_go_in_batches_of_at_most_100000_in_order() {
    let app = App::start().await;
    let items: Vec<Value> =
        (0..150_001).map(|i| json!({"code": format!("N{i:06}"), "name": format!("New {i}")})).collect();
    let resp = app.post("list-items", &format!("{}&action=add", scope()), &json!({ "items": items })).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["added"], 150_001);
    assert_eq!(app.fake.list_changes(), [("add".to_owned(), 100_000), ("add".to_owned(), 50_001)]);
    let listed = app.fake.list_items(LIST_COST_CENTRES_ID);
    assert_eq!(listed[COST_CENTRES.len()].code, "N000000", "in order");
    assert_eq!(listed.last().unwrap().code, "N150000");
}

#[tokio::test]
async fn refused_items_are_a_422_and_malformed_requests_change_nothing() {
    let app = App::start().await;
    let add = json!({"items": [
        {"code": "CC600", "name": "Facilities"},
        {"code": "CC700", "name": "Finance Ops"},
        {"code": "CC800", "name": "Ops", "properties": {"Colour": "red"}},
    ]});
    let p = problem(app.post("list-items", &format!("{}&action=add", scope()), &add).await, 422).await;
    assert_eq!(p["added"], 1);
    let failed: Vec<(u64, &str)> = p["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["index"].as_u64().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(failed, [(1, "CC700"), (2, "CC800")]);

    let before = app.fake.list_items(LIST_COST_CENTRES_ID);
    let changes = app.fake.list_changes().len();
    let cases = [
        ("update", json!({"items": [{"code": "CC100", "name": "x"}, {"name": "no code"}]}), "code"),
        ("add", json!({"items": [{"code": "CC900"}]}), "name"),
        ("upsert", json!({"items": [{"code": "CC100", "colour": "red"}]}), "unknown field"),
        (
            "upsert",
            json!({"items": [{"code": "CC100", "properties": {"Owner": "x"}}, {"code": "CC999"}]}),
            "needs a name",
        ),
        ("delete", json!({"items": [{"code": "CC100", "subsets": {"Active": "yes"}}]}), "subsets"),
        ("delete", json!({"items": {"code": "CC100"}}), "array"),
        ("rename", json!({"items": []}), "action"),
    ];
    for (action, body, says) in cases {
        let p = problem(app.post("list-items", &format!("{}&action={action}", scope()), &body).await, 400).await;
        assert!(p["detail"].as_str().unwrap().contains(says), "{action}: {p}");
    }
    problem(app.post("list-items", &scope(), &json!({"items": []})).await, 400).await;
    assert_eq!(app.fake.list_items(LIST_COST_CENTRES_ID), before);
    assert_eq!(app.fake.list_changes().len(), changes, "nothing was sent");
}

#[tokio::test]
async fn a_key_given_twice_in_an_item_is_a_400_naming_it_and_changes_nothing() {
    let app = App::start().await;
    let cases = [
        (
            "add",
            r#"{"items": [{"code": "CC900", "name": "A"}, {"code": "CC901", "name": "B", "name": "C"}]}"#,
            "name",
            "items[1]",
        ),
        (
            "upsert",
            r#"{"items": [{"code": "CC100", "properties": {"Owner": "x", "Owner": "y"}}]}"#,
            "Owner",
            "items[0].properties",
        ),
        ("delete", r#"{"items": [{"code": "CC100", "code": "CC200"}]}"#, "code", "items[0]"),
        ("add", r#"{"items": [], "items": [{"code": "CC900", "name": "A"}]}"#, "items", ""),
    ];
    for (action, body, key, at) in cases {
        let p =
            problem(app.post_json_text("list-items", &format!("{}&action={action}", scope()), body).await, 400).await;
        assert_eq!((p["duplicateKey"].as_str(), p["at"].as_str()), (Some(key), Some(at)), "{action}: {p}");
    }
    assert!(app.fake.list_changes().is_empty(), "nothing was sent");
    assert_eq!(app.fake.list_items(LIST_COST_CENTRES_ID).len(), COST_CENTRES.len());
    assert!(app.fake.requests().is_empty(), "refused before Anaplan is called: {:?}", app.fake.requests());
}

#[tokio::test]
async fn the_emulator_answers_list_items_as_csv_for_text_csv_and_refuses_what_it_does_not_serve() {
    let api = crate::support::emulator_api::EmulatorApi::start().await;
    let path = format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/lists/{LIST_COST_CENTRES_ID}/items");
    let get = |query: &str, accept: &'static str| {
        api.req(reqwest::Method::GET, &format!("{path}{query}")).header("accept", accept).send()
    };
    // Without includeAll: the default fields only.
    let resp = get("", "text/csv").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv");
    let text = resp.text().await.unwrap();
    assert_eq!(text.lines().next(), Some("id,name,code,parent,parentId,listId,listName"), "{text}");
    assert_eq!(text.lines().count(), 1 + COST_CENTRES.len());
    // With includeAll: subsets, then properties.
    let text = get("?includeAll=true", "text/csv").await.unwrap().text().await.unwrap();
    assert_eq!(text.lines().next(), Some("id,name,code,parent,parentId,listId,listName,Active,Owner"), "{text}");
    // JSON for application/json or */*; 406 in Anaplan's shape for what it does not serve.
    for accept in ["application/json", "*/*"] {
        let resp = get("", accept).await.unwrap();
        assert_eq!(resp.status(), 200, "{accept}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["listItems"].as_array().unwrap().len(), COST_CENTRES.len(), "{accept}");
    }
    let resp = get("", "application/xml").await.unwrap();
    assert_eq!(resp.status(), 406);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"]["code"], 406, "{body}");
}

#[tokio::test]
async fn id_null_means_no_id_in_every_action() {
    let app = App::start().await;
    // delete names the item by its code when its id is null (it used to send `{}`).
    let body: Value = app
        .post(
            "list-items",
            &format!("{}&action=delete", scope()),
            &json!({"items": [{"id": null, "code": "CC100", "name": null}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["deleted"], 1, "{body}");
    assert!(!app.fake.list_items(LIST_COST_CENTRES_ID).iter().any(|i| i.code == "CC100"));
    // upsert adds an item with a new code and a null id (it used to be an update).
    let upsert = json!({"items": [{"id": null, "code": "CC900", "name": "Legal", "parent": null}]});
    let body: Value =
        app.post("list-items", &format!("{}&action=upsert", scope()), &upsert).await.json().await.unwrap();
    assert_eq!((body["added"].as_u64(), body["updated"].as_u64()), (Some(1), Some(0)), "{body}");
    // add with a null id is an add.
    let add = json!({"items": [{"id": null, "code": "CC910", "name": "Tax", "properties": null}]});
    let body: Value = app.post("list-items", &format!("{}&action=add", scope()), &add).await.json().await.unwrap();
    assert_eq!(body["added"], 1, "{body}");
    let items = app.fake.list_items(LIST_COST_CENTRES_ID);
    assert!(items.iter().any(|i| i.code == "CC900") && items.iter().any(|i| i.code == "CC910"));
}

#[tokio::test]
async fn a_lost_answer_to_an_add_or_a_delete_is_read_from_the_list_never_retried_by_the_caller() {
    let app = App::start().await;
    let add = |items: Value| {
        let q = format!("{}&action=add", scope());
        let app = &app;
        async move { app.post("list-items", &q, &json!({ "items": items })).await }
    };
    // The add takes effect, its answer is lost: the list shows both items, so the answer
    // is the add's own, and nothing is sent twice.
    app.fake.fail_next_after_acting(1, 504);
    let resp =
        add(json!([{"code": "CC400", "name": "Legal"}, {"code": "CC410", "name": "Tax", "parent": "CC400"}])).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"added": 2, "updated": 0, "deleted": 0, "ignored": 0, "total": 2, "failures": []}));
    assert_eq!(app.fake.list_changes(), [("add".to_owned(), 2)], "sent once");
    let items = app.fake.list_items(LIST_COST_CENTRES_ID);
    assert_eq!(items.iter().filter(|i| i.code == "CC400" || i.code == "CC410").count(), 2);

    // The same for a delete.
    app.fake.fail_next_after_acting(1, 502);
    let q = format!("{}&action=delete", scope());
    let resp = app.post("list-items", &q, &json!({"items": [{"code": "CC410"}, {"code": "CC400"}]})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["deleted"], 2, "{body}");
    assert_eq!(app.fake.list_changes().len(), 2, "one delete call");
    assert_eq!(app.fake.list_items(LIST_COST_CENTRES_ID).len(), COST_CENTRES.len());

    // A failure before Anaplan acted: the list shows nothing added, so the items are sent
    // again (once), which is safe.
    app.fake.fail_next_posts(1, 503);
    let resp = add(json!([{"code": "CC500", "name": "Marketing"}])).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["added"], 1);
    assert_eq!(app.fake.list_changes().last().unwrap(), &("add".to_owned(), 1));

    // Anaplan refused one item and the answer was lost: the list shows the other added;
    // the refused one is sent again alone, and Anaplan's reason comes back as a 422.
    app.fake.fail_next_after_acting(1, 504);
    let resp = add(json!([{"code": "CC600", "name": "Facilities"}, {"code": "CC700", "name": "Finance Ops"}])).await;
    let p = problem(resp, 422).await;
    assert_eq!(p["added"], 1, "{p}");
    assert_eq!(p["failures"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!((p["failures"][0]["index"].as_u64(), p["failures"][0]["code"].as_str()), (Some(1), Some("CC700")));
    assert!(p["failures"][0]["reason"].as_str().unwrap().contains("already exists"), "{p}");
    let n = app.fake.list_changes().len();
    assert_eq!(app.fake.list_changes()[n - 2..], [("add".to_owned(), 2), ("add".to_owned(), 1)]);

    // upsert's adds likewise.
    app.fake.fail_next_after_acting(1, 504);
    let upsert = json!({"items": [{"code": "CC800", "name": "Ops"}, {"code": "CC100", "name": "Finance Ops"}]});
    let body: Value =
        app.post("list-items", &format!("{}&action=upsert", scope()), &upsert).await.json().await.unwrap();
    assert_eq!((body["added"].as_u64(), body["updated"].as_u64()), (Some(1), Some(1)), "{body}");
    let items = app.fake.list_items(LIST_COST_CENTRES_ID);
    assert_eq!(items.iter().filter(|i| i.code == "CC800").count(), 1);
}

#[tokio::test]
async fn more_items_than_the_bound_are_a_400_naming_it_before_anything_is_sent() {
    let app = App::start().await;
    // 1,000,001 items: refused while the body is read, before any is checked or sent.
    let body = format!(r#"{{"items": [{}{{"code": "a"}}]}}"#, r#"{"code": "a"},"#.repeat(1_000_000));
    let p = problem(app.post_json_text("list-items", &format!("{}&action=add", scope()), &body).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("more than 1000000 entries"), "{p}");
    assert!(app.fake.requests().is_empty(), "nothing reached Anaplan");
}

#[tokio::test]
async fn a_large_list_read_is_deleted_when_its_request_is_dropped() {
    use tokio::io::AsyncWriteExt;
    let app = App::start().await;
    let path = format!(
        "/api/list-items?workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId={LIST_TRANSACTIONS_ID}&format=csv"
    );
    // Straight to the handler, so that dropping the connection drops the request.
    let addr = app.host.handler_url().trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.unwrap();
    // The read request is created, then polled until it completes: drop the caller then.
    for _ in 0..3000 {
        if app.fake.list_reads().1 == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(app.fake.list_reads(), (1, 1), "the read request is under way");
    drop(conn);
    for _ in 0..600 {
        if app.fake.list_reads().0 == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.fake.list_reads(), (0, 1), "the abandoned read request is deleted");
    still_serving(&app).await;
}

async fn still_serving(app: &App) {
    assert_eq!(app.get("list-items", &scope()).await.status(), 200, "the handler still serves");
}

/// POST list-items `action=resetIndex` on a list of Revenue Plan, with no body.
async fn reset_index(app: &App, list_name: &str) -> reqwest::Response {
    let q = format!(
        "workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listName={}&action=resetIndex",
        url::form_urlencoded::byte_serialize(list_name.as_bytes()).collect::<String>()
    );
    app.post_bytes("list-items", &q, None, Vec::new()).await
}

fn resets(app: &App) -> usize {
    app.fake.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/resetIndex")).count()
}

#[tokio::test]
async fn reset_index_resets_an_empty_list_and_refuses_one_with_items_naming_how_many() {
    let app = App::start().await;
    // Retired Codes holds only its top level item (itemCount 1): empty, so it resets.
    let resp = reset_index(&app, LIST_RETIRED_CODES_NAME).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["indexReset"], true, "{body}");
    assert_eq!((&body["total"], &body["failures"]), (&json!(0), &json!([])));
    assert_eq!(resets(&app), 1);
    // The index counts from 1 again: the next item added gets the list's first id.
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId={LIST_RETIRED_CODES_ID}&action=add");
    let resp = app.post("list-items", &q, &json!({"items": [{"code": "R1", "name": "Retired One"}]})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.fake.list_items(LIST_RETIRED_CODES_ID)[0].id, "211000000001");

    // Cost Centres holds 3 items: a 409 saying so, and Anaplan is not asked to reset.
    let body = problem(reset_index(&app, LIST_COST_CENTRES_NAME).await, 409).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:list-not-empty");
    assert_eq!(body["items"], COST_CENTRES.len());
    assert!(body["detail"].as_str().unwrap().contains("holds 3 items"), "{body}");
    // So does Retired Codes now, with its one item.
    let body = problem(reset_index(&app, LIST_RETIRED_CODES_NAME).await, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("holds 1 item:"), "{body}");
    assert_eq!(resets(&app), 1, "the refusals were decided from the list's itemCount");
    assert_eq!(app.fake.list_items(LIST_COST_CENTRES_ID).len(), COST_CENTRES.len());
}

#[tokio::test]
async fn reset_index_takes_no_items_and_passes_anaplans_other_refusal_on() {
    let app = App::start().await;
    let q =
        format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&listId={LIST_RETIRED_CODES_ID}&action=resetIndex");
    let body = problem(app.post("list-items", &q, &json!({"items": [{"code": "X"}]})).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("no items"), "{body}");
    let body = problem(app.post("list-items", &format!("{q}&format=csv"), &json!({})).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("format"), "{body}");
    assert!(!app.fake.requests().iter().any(|r| r.path.starts_with("/2/0/")), "nothing reached Anaplan");
    // In a deployed model a list that is not production data cannot be reset: Anaplan's 400,
    // passed on as it is (the list is empty, so it is not the list-not-empty refusal).
    app.fake.set_model_state(MODEL_REVENUE_ID, "PRODUCTION");
    let body = problem(reset_index(&app, LIST_RETIRED_CODES_NAME).await, 400).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:anaplan-bad-request");
    assert_eq!(body["anaplan"]["status"], 400);
    assert_eq!(resets(&app), 1);
}
