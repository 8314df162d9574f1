//! audit-events: windows of at most 30 days, every page, each event once across windows.

use std::collections::HashSet;

use crate::support::app::{App, problem};
use anaplan::audit::{format_rfc3339, parse_rfc3339};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

const DAY: i64 = 24 * 3600 * 1000;

async fn app() -> App {
    let fake = Emulator::start().await;
    let url = fake.base_url();
    App::start_against(fake, |env| env.push(("ANAPLAN_AUDIT_URL".into(), url))).await
}

fn audit_calls(app: &App) -> usize {
    app.fake.requests().iter().filter(|r| r.path.starts_with("/audit/")).count()
}

fn newest(app: &App) -> i64 {
    app.fake.audit_events()[0]["eventDate"].as_i64().unwrap()
}

/// Seeded event ids with `from <= eventDate < to`, optionally of one category.
fn seeded(app: &App, from: i64, to: i64, category: Option<&str>) -> Vec<String> {
    app.fake
        .audit_events()
        .iter()
        .filter(|e| {
            let at = e["eventDate"].as_i64().unwrap();
            // A category selects an eventTypeId prefix (access_control: AUTHZ-).
            let prefix = match category {
                Some("access_control") => Some("AUTHZ-"),
                Some(other) => panic!("no prefix known for {other}"),
                None => None,
            };
            at >= from && at < to && prefix.is_none_or(|p| e["eventTypeId"].as_str().unwrap().starts_with(p))
        })
        .map(|e| e["id"].to_string())
        .collect()
}

async fn events(app: &App, query: &str) -> Value {
    let resp = app.get("audit-events", query).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn ids(body: &Value) -> Vec<String> {
    // Anaplan's event ids are integers.
    body["events"].as_array().unwrap().iter().map(|e| e["id"].to_string()).collect()
}

fn window(from: i64, to: i64) -> String {
    format!("from={}&to={}", format_rfc3339(from), format_rfc3339(to))
}

#[tokio::test]
async fn the_default_window_is_the_last_24_hours_with_every_page() {
    let app = app().await;
    let body = events(&app, "").await;
    let from = parse_rfc3339(body["from"].as_str().unwrap()).unwrap();
    let to = parse_rfc3339(body["to"].as_str().unwrap()).unwrap();
    assert_eq!(to - from, DAY);
    let got = ids(&body);
    assert_eq!(got, seeded(&app, from, to, None), "all of them, in Anaplan's order");
    assert!(got.len() > AUDIT_PAGE_CAP, "more than one page: {}", got.len());
    assert!(audit_calls(&app) >= 2, "every page was read");
    let first = &body["events"][0];
    for key in ["id", "eventTypeId", "userId", "tenantId", "message", "success", "eventDate", "ipAddress"] {
        assert!(first.get(key).is_some(), "Anaplan's event objects, unchanged: {first}");
    }
}

#[tokio::test]
async fn consecutive_windows_give_each_event_exactly_once() {
    let app = app().await;
    // Window edges fall exactly on events: the emulator, like a server that includes both
    // ends, would repeat them; the function's windows are [from, to).
    let end = newest(&app);
    let (a, b, c) = (end - 2 * DAY, end - DAY, end);
    let first = ids(&events(&app, &window(a, b)).await);
    let second = ids(&events(&app, &window(b, c)).await);
    let whole = ids(&events(&app, &window(a, c)).await);
    let mut joined: Vec<String> = first.iter().chain(second.iter()).cloned().collect();
    let unique: HashSet<&String> = joined.iter().collect();
    assert_eq!(unique.len(), joined.len(), "no event twice");
    joined.sort();
    let mut whole_sorted = whole.clone();
    whole_sorted.sort();
    assert_eq!(joined, whole_sorted, "no gap");
    assert_eq!(whole, seeded(&app, a, c, None));
    assert_eq!(first.len(), 96, "one every 15 minutes");
}

#[tokio::test]
async fn a_type_narrows_the_events() {
    let app = app().await;
    let end = newest(&app);
    let body = events(&app, &format!("{}&type=access_control", window(end - 3 * DAY, end))).await;
    let got = ids(&body);
    assert!(!got.is_empty());
    assert_eq!(got, seeded(&app, end - 3 * DAY, end, Some("access_control")));
    assert!(
        body["events"].as_array().unwrap().iter().all(|e| e["eventTypeId"].as_str().unwrap().starts_with("AUTHZ-"))
    );
}

#[tokio::test]
async fn a_window_over_30_days_and_bad_times_are_400_before_anaplan_is_called() {
    let app = app().await;
    let end = newest(&app);
    let body = problem(app.get("audit-events", &window(end - 31 * DAY, end)).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("30 days"), "{body}");
    problem(app.get("audit-events", &window(end, end - DAY)).await, 400).await;
    problem(app.get("audit-events", "from=yesterday").await, 400).await;
    problem(app.get("audit-events", "type=everything").await, 400).await;
    assert_eq!(audit_calls(&app), 0, "Anaplan was not called");
    assert!(app.fake.requests().is_empty());

    // Exactly 30 days is allowed, and reaches the events of the 30th day back.
    let body = events(&app, &window(end - 30 * DAY, end)).await;
    assert_eq!(ids(&body).len(), 30 * 96);
}

#[tokio::test]
async fn post_sends_anaplans_search_body_and_reads_every_page() {
    let app = app().await;
    let end = newest(&app);
    // Anaplan's own body: epoch milliseconds, the type in the query.
    let body = json!({ "from": end - 2 * DAY, "to": end });
    let resp = app.post("audit-events", "type=access_control", &body).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(ids(&answer), seeded(&app, end - 2 * DAY, end, Some("access_control")), "[from, to), as GET");
    assert_eq!(answer["from"], json!(format_rfc3339(end - 2 * DAY)));
    let searches: Vec<_> = app.fake.requests().into_iter().filter(|r| r.path == "/audit/api/1/events/search").collect();
    assert!(!searches.is_empty() && app.fake.requests().iter().all(|r| r.path != "/audit/api/1/events"));
    assert!(searches.iter().all(|r| r.method == "POST" && r.query.contains("type=access_control")));
    let sent = app.fake.audit_searches();
    assert_eq!(sent[0], json!({ "from": end - 2 * DAY, "to": end }), "the window goes in the body");

    // RFC 3339 works in the body too; more than a page is followed.
    let resp =
        app.post("audit-events", "", &json!({ "from": format_rfc3339(end - DAY), "to": format_rfc3339(end) })).await;
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(ids(&answer), seeded(&app, end - DAY, end, None));
    assert!(ids(&answer).len() > AUDIT_PAGE_CAP);
}

#[tokio::test]
async fn post_with_an_interval_lets_anaplan_choose_the_window() {
    let app = app().await;
    let resp = app.post("audit-events", "", &json!({ "interval": 6 })).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let from = parse_rfc3339(answer["from"].as_str().unwrap()).unwrap();
    let to = parse_rfc3339(answer["to"].as_str().unwrap()).unwrap();
    assert_eq!(to - from, 6 * 3600 * 1000);
    // Events every 15 minutes: 24 or 25 in six hours, depending on where now falls.
    let n = ids(&answer).len();
    assert!((24..=25).contains(&n), "{n}");
    assert_eq!(app.fake.audit_searches(), [json!({ "interval": 6 })], "Anaplan chose the window");
}

#[tokio::test]
async fn bad_search_bodies_are_400_before_anaplan_is_called() {
    let app = app().await;
    let end = newest(&app);
    for body in [
        json!({ "interval": 721 }),
        json!({ "interval": 0 }),
        json!({ "interval": "a day" }),
        json!({ "interval": 2, "from": end - DAY }),
        json!({ "from": end - 31 * DAY, "to": end }),
        json!({ "from": end, "to": end - DAY }),
        json!({ "dateFrom": end - DAY }),
    ] {
        problem(app.post("audit-events", "", &body).await, 400).await;
    }
    assert_eq!(audit_calls(&app), 0, "Anaplan was not called");
}
