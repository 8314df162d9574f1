//! The handler asks only what the live-tested description of Anaplan's APIs documents: it
//! is driven through its functions against the emulator, and every request it sent must
//! match a documented operation (the emulator's table, `crates/anaplan-emulator/tests/support/operations.rs`):
//! method, path template, query parameter names, Content-Type, Accept and auth scheme.
//! Known disagreements are listed in [`KNOWN_CLIENT_DISAGREEMENTS`], each once: one that no
//! longer happens fails too. And the client lists models in any state, by name.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::support::operations::{Op, media_of, operations, template_of};
use anaplan_emulator::seed::*;
use anaplan_emulator::seed_cloudworks::*;
use anaplan_emulator::{Emulator, RecordedRequest};
use serde_json::{Value, json};

#[tokio::test]
async fn list_objects_lists_models_in_any_state() {
    let app = crate::support::app::App::start().await;
    app.fake.set_model_state(MODEL_REVENUE_ID, "OFFLINE");
    app.fake.set_model_state(MODEL_HEADCOUNT_ID, "SOME_NEW_STATE");
    let resp = app.get("list-objects", &format!("kind=models&workspaceId={WS_FPA_ID}")).await;
    assert_eq!(resp.status(), 200);
    let models: Vec<Value> = resp.json().await.unwrap();
    for id in [MODEL_REVENUE_ID, MODEL_HEADCOUNT_ID, MODEL_LOCKED_ID, MODEL_ARCHIVED_ID] {
        assert!(models.iter().any(|m| m["id"] == id), "{id} is listed whatever its state: {models:?}");
    }
}

// ---------------------------------------------------------------------- requests

/// Client requests that disagree with the description, tolerated here and reported (each
/// must still happen, or its entry goes): (method, template, what disagrees).
const KNOWN_CLIENT_DISAGREEMENTS: &[(&str, &str, &str)] = &[];

/// What one recorded request does that the documented operation does not allow.
fn request_problems(r: &RecordedRequest, op: &Op) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<String> =
        url::form_urlencoded::parse(r.query.as_bytes()).map(|(k, _)| k.into_owned()).collect();
    for n in &names {
        if !op.query.contains(&n.as_str()) {
            out.push(format!("query parameter {n}"));
        }
    }
    let ct = media_of(r.content_type.as_deref());
    match (&ct, op.content_types.is_empty()) {
        (Some(c), true) => out.push(format!("a body ({c}) where the description has none")),
        (Some(c), false) if !op.content_types.contains(&c.as_str()) => out.push(format!("Content-Type {c}")),
        (None, false) if r.method != "GET" && !op.body_optional => out.push("no Content-Type".to_owned()),
        _ => {}
    }
    if !op.accept.is_empty()
        && let Some(accept) = &r.accept
    {
        for range in accept.split(',') {
            let m = media_of(Some(range)).unwrap_or_default();
            if !op.accept.contains(&m.as_str()) {
                out.push(format!("Accept {m}"));
            }
        }
    }
    match (&r.authorization_scheme, op.auth.is_empty()) {
        (Some(s), false) if !op.auth.contains(&s.as_str()) => out.push(format!("auth scheme {s}")),
        (None, false) => out.push("no Authorization".to_owned()),
        (Some(s), true) => out.push(format!("auth scheme {s} where the operation takes none")),
        _ => {}
    }
    out
}

#[tokio::test]
async fn the_handler_sends_only_documented_requests() {
    let fake = Emulator::start().await;
    fake.set_cloudworks_run_time(Duration::ZERO);
    for id in [PROCESS_NIGHTLY_ID, PROCESS_BROKEN_ID, PROCESS_OPTIMIZE_ID, EXPORT_PRICE_ID, IMPORT_PRODUCTS_ID] {
        fake.set_action_timing(id, Duration::ZERO, Duration::ZERO);
    }
    let audit = fake.base_url();
    let app = crate::support::app::App::start_against(fake.clone(), move |env| {
        env.push(("ANAPLAN_AUDIT_URL".into(), audit));
        env.push(("CLOUDWORKS_SAS_CONNECTIONS".into(), CONNECTION_SALES_NAME.into()));
        env.push(("CLOUDWORKS_SAS_SCHEDULE".into(), "0 0 3 * * *".into()));
        env.push(("CLOUDWORKS_SAS_CONTAINERS".into(), "cloudworks-sales".into()));
    })
    .await;
    tour_the_handler(&app).await;
    // An app that signs in with a user name and password (Anaplan's token service).
    fake.set_basic_user("integration@example.com", "tour password");
    let basic = crate::support::app::App::start_against(fake.clone(), |env| {
        env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN");
        env.push(("ANAPLAN_AUTH_METHOD".into(), "basic".into()));
        env.push(("ANAPLAN_USERNAME".into(), "integration@example.com".into()));
        env.push(("ANAPLAN_PASSWORD".into(), "tour password".into()));
    })
    .await;
    let resp = basic.get("list-objects", "kind=workspaces").await;
    assert_eq!(resp.status(), 200, "basic sign-in");

    let templates: Vec<String> = Emulator::route_table().into_iter().map(|(_, p)| p).collect();
    let ops = operations();
    let mut problems: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen_known = BTreeSet::new();
    let mut reached = BTreeSet::new();
    for r in fake.requests() {
        let what = match template_of(&templates, &r.path) {
            None => {
                problems.entry(format!("{} {}", r.method, r.path)).or_default().insert("no such operation".into());
                continue;
            }
            Some(t) => t.to_owned(),
        };
        if what.starts_with("/_emulator/") {
            continue;
        }
        let Some(op) = ops.iter().find(|o| (o.method == r.method || o.method == "*") && o.template == what) else {
            problems.entry(format!("{} {what}", r.method)).or_default().insert("not a documented operation".into());
            continue;
        };
        reached.insert(format!("{} {what}", r.method));
        for p in request_problems(&r, op) {
            let known = KNOWN_CLIENT_DISAGREEMENTS.iter().find(|(m, t, w)| *m == r.method && *t == what && *w == p);
            match known {
                Some(k) => {
                    seen_known.insert(*k);
                }
                None => {
                    problems.entry(format!("{} {what}", r.method)).or_default().insert(p);
                }
            }
        }
    }
    assert!(problems.is_empty(), "requests the description does not document: {problems:#?}");
    check_reached(&reached);
    let stale: Vec<_> = KNOWN_CLIENT_DISAGREEMENTS.iter().filter(|k| !seen_known.contains(*k)).collect();
    assert!(stale.is_empty(), "known disagreements that no longer happen (remove them): {stale:#?}");
}

/// The operations the tour reaches, committed in `tests/app/reached_operations.txt`, from
/// which `scripts/api_coverage.py` counts how much of Anaplan's API the functions reach. An
/// operation the tour no longer reaches fails here, so the figure cannot fall silently; the
/// tour's current set is written to `target/tmp/reached_operations.txt` to refresh the file
/// when it grows.
fn check_reached(reached: &BTreeSet<String>) {
    let committed = include_str!("reached_operations.txt");
    let committed: BTreeSet<String> =
        committed.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reached_operations.txt");
    let text: String = reached.iter().map(|l| format!("{l}\n")).collect();
    let _ = std::fs::write(&out, format!("{REACHED_HEADER}{text}"));
    let lost: Vec<_> = committed.difference(reached).collect();
    assert!(lost.is_empty(), "operations the functions no longer reach: {lost:#?} (the tour's set: {})", out.display());
    let new: Vec<_> = reached.difference(&committed).collect();
    assert!(
        new.is_empty(),
        "the tour reaches operations tests/app/reached_operations.txt does not list: {new:#?}; copy {} there",
        out.display()
    );
}

const REACHED_HEADER: &str = "\
# The Anaplan operations the functions reach, as (method, emulator route template), one per
# line: what the tour of tests/app/conformance.rs sends. That test keeps this file equal to
# what the tour reaches; scripts/api_coverage.py maps it onto the live-tested description.
";

/// A failed task's 422 links each failed step's whole dump (and an Optimizer step's
/// solution log): a flow that reads them sends these requests too.
async fn fetch_failure_links(http: &reqwest::Client, resp: reqwest::Response) {
    if resp.status() != 422 {
        return;
    }
    let body: Value = resp.json().await.unwrap();
    // Task failures are `failures`, CloudWorks run failures `errors`.
    let steps = ["failures", "errors"].into_iter().filter_map(|k| body[k].as_array()).flatten();
    for failure in steps {
        for link in ["dumpUrl", "solutionLogUrl"] {
            if let Some(url) = failure[link].as_str() {
                let got = http.get(url).send().await.unwrap();
                assert_eq!(got.status(), 200, "{link} {url}");
            }
        }
    }
}

/// Calls every function of the handler once or more, the way a Logic App would.
async fn tour_the_handler(app: &crate::support::app::App) {
    use crate::support::app::follow;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    let ok = |what: &str, resp: &reqwest::Response| {
        assert!(resp.status().is_success() || resp.status() == 422, "{what}: {}", resp.status())
    };
    let get = |f: &'static str, q: String| async move {
        let resp = app.get(f, &q).await;
        ok(&format!("{f}?{q}"), &resp);
    };
    let post = |f: &'static str, q: String, body: Value| async move {
        let (resp, _) = follow(&app.http, app.post(f, &q, &body).await).await;
        ok(&format!("{f}?{q}"), &resp);
        fetch_failure_links(&app.http, resp).await;
    };
    get("list-objects", "kind=workspaces".into()).await;
    get("list-objects", format!("kind=models&workspaceId={WS_FPA_ID}")).await;
    get("list-objects", "kind=models".into()).await;
    for kind in ["processes", "exports", "imports", "views", "modules", "lists", "versions", "actions", "dashboards"] {
        get("list-objects", format!("kind={kind}&{scope}")).await;
    }
    get("list-objects", format!("kind=lineItems&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await;
    get("list-objects", format!("kind=lineItems&{scope}")).await;
    get("list-objects", format!("kind=views&{scope}&moduleId={MODULE_SALES_INPUT_ID}")).await;
    get("list-objects", format!("kind=dimensions&{scope}&lineItemId={LINE_UNITS_ID}")).await;
    for kind in ["integrations", "flows"] {
        get("list-objects", format!("kind={kind}")).await;
    }
    // Views: small and large, JSON, grid and CSV, with a page selector.
    get("get-view-data", format!("{scope}&viewId={VIEW_REGIONS_ID}")).await;
    let pages = format!("&pages={DIM_VERSIONS_ID}:{VERSION_FORECAST_ID}");
    get("get-view-data", format!("{scope}&viewId={VIEW_PRICE_BOOK_ID}&format=grid{pages}")).await;
    get("get-view-data", format!("{scope}&viewId={VIEW_PRICE_BOOK_ID}&format=csv{pages}")).await;
    get("get-view-data", format!("{scope}&viewId={VIEW_BIG_GRID_ID}&format=csv")).await;
    // Bulk actions: an export, an import of a body, processes that succeed and fail.
    post("export-file", format!("{scope}&exportId={EXPORT_PRICE_ID}"), json!({})).await;
    let csv = "Code,Name\nP010,Sprocket\nX1,FAIL\n";
    let q = format!("{scope}&importId={IMPORT_PRODUCTS_ID}");
    let (resp, _) = follow(&app.http, app.post_bytes("import-file", &q, Some("text/csv"), csv.into()).await).await;
    ok("import-file", &resp);
    fetch_failure_links(&app.http, resp).await;
    // Processes that succeed and fail: a failed import step (its dump), a failed Optimizer
    // step (its metadata, its solution log).
    for process in [PROCESS_NIGHTLY_ID, PROCESS_BROKEN_ID, PROCESS_OPTIMIZE_ID] {
        post("run-process", format!("{scope}&processId={process}"), json!({})).await;
    }
    // Other actions: one that succeeds and one that fails, by id and by name.
    post("run-action", format!("{scope}&actionId={ACTION_DELETE_CLOSED_ID}"), json!({})).await;
    post("run-action", scope.clone(), json!({ "actionName": ACTION_DELETE_LOCKED_NAME })).await;
    // CloudWorks: a failing integration (errors, dumps) and a flow.
    post("run-integration", format!("integrationId={INTEGRATION_BROKEN_ID}"), json!({})).await;
    post("run-integration", "wait=20".into(), json!({ "flowId": FLOW_NIGHTLY_ID })).await;
    // Module and list writes and reads.
    let rows = json!({ "rows": [{ "Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual", "Units": 5 }] });
    let q = format!("{scope}&moduleId={MODULE_SALES_INPUT_ID}");
    let resp = app.post("write-cells", &q, &rows).await;
    ok("write-cells", &resp);
    let list = format!("{scope}&listId={LIST_COST_CENTRES_ID}");
    get("list-items", list.clone()).await;
    get("list-items", format!("{list}&format=csv")).await;
    get("list-items", format!("{scope}&listId={LIST_TRANSACTIONS_ID}&format=csv")).await;
    for (action, body) in [
        ("add", json!({ "items": [{ "code": "CC700", "name": "Tour" }] })),
        ("update", json!({ "items": [{ "code": "CC700", "name": "Tour Two" }] })),
        ("delete", json!({ "items": [{ "code": "CC700" }] })),
    ] {
        let resp = app.post("list-items", &format!("{list}&action={action}"), &body).await;
        ok(action, &resp);
    }
    // A list index reset (the seed's empty list), and who has access to what.
    let retired = format!("{scope}&listId={LIST_RETIRED_CODES_ID}&action=resetIndex");
    ok("list-items resetIndex", &app.post_bytes("list-items", &retired, None, Vec::new()).await);
    get("access-review", String::new()).await;
    get("access-review", format!("workspaceName={}&format=csv", "Sales%20Ops")).await;
    // Metadata and the row schemas behind the connector's dynamic schemas.
    for target in [
        format!("moduleId={MODULE_SALES_INPUT_ID}"),
        format!("viewId={VIEW_PRICE_BOOK_ID}"),
        format!("listId={LIST_COST_CENTRES_ID}"),
    ] {
        get("describe", format!("{scope}&{target}")).await;
        get("describe", format!("{scope}&{target}&schema=true")).await;
    }
    get("describe", format!("{scope}&importId={IMPORT_PRODUCTS_ID}")).await;
    // Dimension items at each level, and lookups (Anaplan's at model level, matched here for a line item).
    for q in [
        format!("dimensionId={DIM_REGIONS_ID}"),
        format!("lineItemId={LINE_UNITS_ID}&dimensionName={DIM_TIME_NAME}"),
        format!("viewId={VIEW_PRICE_BOOK_ID}&dimensionId={DIM_TIME_ID}"),
    ] {
        get("dimension-items", format!("{scope}&{q}")).await;
    }
    let lookup = json!({ "names": ["north"], "codes": ["R09"] });
    for q in
        [format!("dimensionName={DIM_REGIONS_NAME}"), format!("lineItemId={LINE_UNITS_ID}&dimensionId={DIM_TIME_ID}")]
    {
        let resp = app.post("dimension-items", &format!("{scope}&{q}&action=lookup"), &lookup).await;
        ok("dimension-items lookup", &resp);
    }
    // The model calendar: read, set the current period, clear it, set the fiscal year.
    get("model-calendar", scope.clone()).await;
    for (action, body) in [
        ("setCurrentPeriod", json!({ "date": "2026-06-15" })),
        ("setCurrentPeriod", json!({ "date": "" })),
        ("setFiscalYear", json!({ "year": "FY27" })),
    ] {
        let resp = app.post("model-calendar", &format!("{scope}&action={action}"), &body).await;
        ok(action, &resp);
    }
    // Versions: the listing, a switchover by name, its reset.
    get("versions", scope.clone()).await;
    for date in ["2026-06-01", ""] {
        let q = format!("{scope}&action=switchover&versionName={VERSION_FORECAST_NAME}");
        let resp = app.post("versions", &q, &json!({ "date": date })).await;
        ok("versions switchover", &resp);
    }
    // ALM revisions: each kind, the dropdown, and a tag added in DEV.
    let prod = format!("workspaceId={WS_SALES_ID}&modelId={MODEL_PROD_ID}");
    let dev = format!("workspaceId={WS_SALES_ID}&modelId={MODEL_DEV_ID}");
    get("list-objects", format!("kind=revisions&{dev}")).await;
    for kind in [
        "all".to_owned(),
        "latest".to_owned(),
        format!("syncable&sourceModelId={MODEL_DEV_ID}"),
        format!("appliedTo&revisionId={REVISION_LAUNCH_ID}"),
    ] {
        get("revisions", format!("{prod}&kind={kind}")).await;
    }
    let resp =
        app.post("revisions", &format!("{dev}&action=add"), &json!({ "name": "Tour", "description": "d" })).await;
    ok("revisions add", &resp);
    // ALM dry runs (both reports), then the sync: DEV's latest into PROD, held until it ends.
    for report in ["comparison", "summary"] {
        post("sync-model", format!("{prod}&sourceModelId={MODEL_DEV_ID}&report={report}&wait=30"), json!({})).await;
    }
    // The sync, once per Idempotency-Key, its start's answer lost on the way back (a gateway's
    // 504 after Anaplan acted): the first call fails, and its retry with the same key (as
    // Logic Apps retries a 5xx) finds the task among the model's sync tasks.
    app.fake.fail_next_after_acting(1, 504);
    let key = format!("tour-{}", uuid::Uuid::new_v4());
    let send = || {
        app.http
            .post(format!("{}?{prod}&sourceModelId={MODEL_DEV_ID}&wait=30", app.url("sync-model")))
            .header("Idempotency-Key", &key)
            .header("x-functions-key", app.host.function_key())
            .json(&json!({}))
            .send()
    };
    let first = send().await.unwrap();
    assert!(first.status().is_server_error(), "the lost answer: {}", first.status());
    let (resp, _) = follow(&app.http, send().await.unwrap()).await;
    ok("sync-model with a lost start, retried", &resp);
    // Model state: read, close, open (held until loaded), offline, online; on a model the
    // rest of the tour does not use.
    let other = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_FORECAST_2_ID}");
    app.fake.set_model_load_times(Duration::from_millis(300), Duration::ZERO);
    get("model-state", other.clone()).await;
    for action in ["close", "open&wait=20", "offline", "online"] {
        let resp = app.post("model-state", &format!("{other}&action={action}"), &json!({})).await;
        ok(action, &resp);
    }
    // CloudWorks beyond runs: each kind, and a schedule created, replaced, disabled,
    // enabled and deleted.
    for kind in ["integrations", "connections", "flows"] {
        get("cloudworks", format!("kind={kind}")).await;
    }
    for kind in ["integration", "schedule"] {
        get("cloudworks", format!("kind={kind}&integrationId={SCHEDULED_INTEGRATION_ID}")).await;
    }
    get("cloudworks", format!("kind=runs&integrationId={INTEGRATION_BROKEN_ID}")).await;
    get("cloudworks", format!("kind=notifications&integrationId={INTEGRATION_BROKEN_ID}")).await;
    let schedule = json!({ "name": "Tour", "type": "hourly", "fromTime": "08:00", "toTime": "18:00",
        "daysOfWeek": [1, 3], "repeatEvery": 2, "startDate": "2026-01-01", "endDate": "2026-12-31", "timezone": "UTC" });
    let integration = format!("integrationId={INTEGRATION_EXPORT_ID}");
    for action in ["setSchedule", "setSchedule", "disableSchedule", "enableSchedule", "deleteSchedule"] {
        let q = format!("{integration}&action={action}");
        let resp = if action == "setSchedule" {
            app.post("cloudworks", &q, &schedule).await
        } else {
            app.post_bytes("cloudworks", &q, None, Vec::new()).await
        };
        ok(action, &resp);
    }
    // SCIM and Audit.
    get("users", String::new()).await;
    let joiner =
        json!({ "userName": "tour@example.com", "givenName": "T", "familyName": "Our", "workspaces": [WS_FPA_ID] });
    let resp = app.post("users", "action=provision", &joiner).await;
    ok("users provision", &resp);
    // A mover (the same user, other workspaces) and a leaver.
    let mover =
        json!({ "userName": "tour@example.com", "givenName": "T", "familyName": "Our", "workspaces": [WS_SALES_ID] });
    ok("users move", &app.post("users", "action=provision", &mover).await);
    ok("users deactivate", &app.post("users", "action=deactivate", &json!({ "userName": "tour@example.com" })).await);
    get("audit-events", String::new()).await;
    let resp = app.post("audit-events", "type=user_activity", &json!({ "interval": 12 })).await;
    ok("audit-events search", &resp);
    // Exception Users and Administration.
    get("exception-users", String::new()).await;
    get("exception-users", "email=user003%40example.com".to_owned()).await;
    let grant = format!("action=grant&workspaceId={WS_FPA_ID}");
    post("exception-users", grant, json!({"email": "user006@example.com"})).await;
    get("tenant-users", String::new()).await;
    let users = b"username,first_name,last_name,licenses\ntour.admin@example.com,Tour,Admin,Standard\n".to_vec();
    ok("tenant-users import", &app.post_bytes("tenant-users", "", Some("text/csv"), users).await);
    // The timer.
    let run = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    // Cancelling, by DELETE on the status URL: a CloudWorks run and a task.
    app.fake.set_cloudworks_run_time(Duration::from_secs(60));
    let started = [
        app.post("run-integration", &format!("integrationId={INTEGRATION_EXPORT_ID}"), &json!({})).await,
        app.post("run-process", &format!("{scope}&processId={PROCESS_SLOW_ID}"), &json!({})).await,
    ];
    for resp in started {
        assert_eq!(resp.status(), 202, "a run that takes a while");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let cancel = app.http.delete(&location).send().await.unwrap();
        assert_eq!(cancel.status(), 202, "{location}");
    }
    app.fake.set_cloudworks_run_time(Duration::ZERO);
}
