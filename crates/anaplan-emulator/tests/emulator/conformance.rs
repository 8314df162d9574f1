//! The emulator answers as the live-tested description of Anaplan's APIs documents it (the
//! handler's half, that it asks only what the description documents, is the app's
//! `tests/app/conformance.rs`).
//!
//! - Every operation the emulator serves is called and its answer checked field by field
//!   against a hand-written table (`support/operations.rs`, shapes in `support/shapes.rs`):
//!   status, media type, required fields, types, fields Anaplan omits absent (not null),
//!   enum values in the documented set.
//! - The table covers every route the emulator registers ([`Emulator::route_table`]): a
//!   route added without a documented shape fails here, and so does a table entry for a
//!   route that is gone.
//! - A model in each state answers as the description (or, where it is silent, the
//!   emulator's documented choice) says.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::operations::{self, CONTROLS, Op, fill, media_of, operations};
use crate::support::shapes;
use anaplan_emulator::seed::*;
use anaplan_emulator::seed_cloudworks::*;
use anaplan_emulator::{DEMO_REDIRECT_URI, Emulator};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

/// Calls operations, checks each answer against the table, and keeps what was covered.
struct Tour {
    fake: Emulator,
    http: reqwest::Client,
    token: String,
    ops: Vec<Op>,
    /// (method, template) of every operation whose answer was checked.
    covered: BTreeSet<(String, String)>,
    errs: Vec<String>,
}

impl Tour {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.fake.base_url())
    }

    /// A request with the Integration API's token scheme.
    fn anaplan(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path)).header("authorization", format!("AnaplanAuthToken {}", self.token))
    }

    /// A request without credentials.
    fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// Sends `req` for operation (`method`, `template`), expects `want`, checks the answer
    /// against the table, and returns the body as JSON (a JSON string for text).
    async fn check(&mut self, method: &str, template: &str, want: u16, req: RequestBuilder) -> Value {
        let what = format!("{method} {template} ({want})");
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = resp.status().as_u16();
        let media = media_of(resp.headers().get("content-type").and_then(|v| v.to_str().ok()));
        let bytes = resp.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if status != want {
            self.errs.push(format!("{what}: answered {status}: {}", text.chars().take(300).collect::<String>()));
            return Value::Null;
        }
        let Some(op) = self.ops.iter().find(|o| (o.method == method || o.method == "*") && o.template == template)
        else {
            self.errs.push(format!("{what}: no such operation in the table"));
            return Value::Null;
        };
        let candidates: Vec<&operations::Answer> = op.answers.iter().filter(|a| a.status == status).collect();
        let Some(answer) = candidates.iter().find(|a| a.media.map(str::to_owned) == media) else {
            self.errs.push(format!("{what}: media type {media:?} is not a documented answer for {status}"));
            return Value::Null;
        };
        let body =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::String(text)) };
        if let Some(shape) = &answer.body {
            shapes::check(&format!("{what} $"), &body, shape, &mut self.errs);
        } else if answer.media.is_none() && !bytes.is_empty() {
            self.errs.push(format!("{what}: a body where the description has none"));
        }
        self.covered.insert((op.method.to_owned(), template.to_owned()));
        body
    }

    /// Waits until the task at `path` is terminal and returns its answer.
    async fn until_done(&mut self, template: &str, path: &str) -> Value {
        for _ in 0..100 {
            let body = self.check("GET", template, 200, self.anaplan(Method::GET, path)).await;
            let state = body["task"]["taskState"].as_str().unwrap_or("");
            if matches!(state, "COMPLETE" | "CANCELLED") || body.is_null() {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} never finished");
    }
}

/// A user import of `csv`, as `multipart/form-data` part `file`.
fn users_file(t: &Tour, csv: &str) -> RequestBuilder {
    let body = format!(
        "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"users.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--b0--\r\n"
    );
    t.anaplan(Method::PUT, "/admin/1/0/users/import")
        .header("content-type", "multipart/form-data; boundary=b0")
        .body(body)
}

/// A PATCH with a token that is not live.
fn dead_patch(t: &Tour, path: &str) -> RequestBuilder {
    t.bare(Method::PATCH, path).header("authorization", "AnaplanAuthToken no-such-token")
}

const M: &str = "/2/0/workspaces/{ws}/models/{m}";

/// Starts the task of `action` in `family` and returns its id.
async fn start_task(t: &mut Tour, family: &str, action: &str) -> String {
    let template = format!("{M}/{family}/{{id}}/tasks");
    let path = fill(&template, &[WS_FPA_ID, MODEL_REVENUE_ID, action]);
    let req = t.anaplan(Method::POST, &path).json(&json!({ "localeName": "en_US" }));
    let body = t.check("POST", &template, 200, req).await;
    body["task"]["taskId"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_operation_answers_as_documented() {
    let fake = Emulator::start().await;
    for id in [
        PROCESS_NIGHTLY_ID,
        PROCESS_BROKEN_ID,
        EXPORT_PRICE_ID,
        IMPORT_PRODUCTS_ID,
        IMPORT_REGIONS_ID,
        ACTION_DELETE_CLOSED_ID,
        ACTION_DELETE_LOCKED_ID,
    ] {
        fake.set_action_timing(id, Duration::ZERO, Duration::ZERO);
    }
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut t = Tour {
        fake: fake.clone(),
        http,
        token: String::new(),
        ops: operations(),
        covered: BTreeSet::new(),
        errs: Vec::new(),
    };

    // ------------------------------------------------------------ token services
    let creds = fake.credentials();
    let grant = json!({
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    });
    let body = t.check("POST", "/oauth/token", 200, t.bare(Method::POST, "/oauth/token").json(&grant)).await;
    t.token = body["access_token"].as_str().expect("an access token").to_owned();
    let spent = t.bare(Method::POST, "/oauth/token").json(&grant);
    t.check("POST", "/oauth/token", 400, spent).await;
    let device = json!({ "client_id": fake.device_client_id(), "scope": "openid profile email offline_access" });
    let body =
        t.check("POST", "/oauth/device/code", 200, t.bare(Method::POST, "/oauth/device/code").json(&device)).await;
    let user_code = body["user_code"].as_str().unwrap_or_default().to_owned();
    let activate = format!("/activate?user_code={user_code}");
    t.check("GET", "/activate", 200, t.bare(Method::GET, &activate)).await;
    let sign_in = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &creds.client_id)
        .append_pair("redirect_uri", DEMO_REDIRECT_URI)
        .append_pair("scope", "openid profile email offline_access")
        .append_pair("state", "conformance")
        .finish();
    for page in ["/auth/authorize", "/auth/prelogin"] {
        t.check("GET", page, 302, t.bare(Method::GET, &format!("{page}?{sign_in}"))).await;
    }
    fake.set_basic_user("legacy@example.com", "conformance-password");
    let login =
        t.bare(Method::POST, "/token/authenticate").basic_auth("legacy@example.com", Some("conformance-password"));
    let body = t.check("POST", "/token/authenticate", 201, login).await;
    let legacy = format!("AnaplanAuthToken {}", body["tokenInfo"]["tokenValue"].as_str().unwrap_or_default());
    let wrong = t.bare(Method::POST, "/token/authenticate").basic_auth("legacy@example.com", Some("wrong"));
    t.check("POST", "/token/authenticate", 401, wrong).await;
    t.check("POST", "/token/refresh", 200, t.bare(Method::POST, "/token/refresh").header("authorization", &legacy))
        .await;
    t.check("GET", "/token/validate", 200, t.bare(Method::GET, "/token/validate").header("authorization", &legacy))
        .await;
    t.check("POST", "/token/logout", 204, t.bare(Method::POST, "/token/logout").header("authorization", &legacy)).await;
    t.check("GET", "/token/validate", 401, t.bare(Method::GET, "/token/validate").header("authorization", &legacy))
        .await;

    // ------------------------------------------------------------ discovery
    t.check("GET", "/2/0/users/me", 200, t.anaplan(Method::GET, "/2/0/users/me")).await;
    t.check("GET", "/2/0/users/me", 401, t.bare(Method::GET, "/2/0/users/me")).await;
    t.check("GET", "/2/0/users", 200, t.anaplan(Method::GET, "/2/0/users?offset=0&limit=10")).await;
    let ada = format!("/2/0/users/{}", scim_user(3).id);
    t.check("GET", "/2/0/users/{id}", 200, t.anaplan(Method::GET, &ada)).await;
    t.check("GET", "/2/0/users/{id}", 404, t.anaplan(Method::GET, "/2/0/users/0123456789abcdef0123456789abcdef")).await;
    for who in ["admins", "visitors"] {
        let template = format!("/2/0/workspaces/{{ws}}/{who}");
        let p = format!("/2/0/workspaces/{WS_FPA_ID}/{who}");
        t.check("GET", &template, 200, t.anaplan(Method::GET, &format!("{p}?offset=0&limit=50"))).await;
        let unknown = format!("/2/0/workspaces/0123456789abcdef0123456789abcdef/{who}");
        t.check("GET", &template, 404, t.anaplan(Method::GET, &unknown)).await;
        let not_admin = fake.access_token_for("user005@example.com");
        let theirs = t.bare(Method::GET, &p).header("authorization", format!("AnaplanAuthToken {not_admin}"));
        t.check("GET", &template, 500, theirs).await;
    }
    t.check("GET", "/2/0/workspaces", 200, t.anaplan(Method::GET, "/2/0/workspaces?tenantDetails=true")).await;
    let p = fill("/2/0/workspaces/{ws}/models", &[WS_FPA_ID]);
    t.check("GET", "/2/0/workspaces/{ws}/models", 200, t.anaplan(Method::GET, &format!("{p}?limit=10"))).await;
    let p = fill("/2/0/workspaces/{ws}/models", &["0123456789abcdef0123456789abcdef"]);
    t.check("GET", "/2/0/workspaces/{ws}/models", 404, t.anaplan(Method::GET, &p)).await;
    let p = fill("/2/0/workspaces/{ws}/models/{m}", &[WS_FPA_ID, MODEL_REVENUE_ID]);
    t.check("*", "/2/0/workspaces/{ws}/models/{m}", 405, t.anaplan(Method::GET, &p)).await;
    t.check("GET", "/2/0/models", 200, t.anaplan(Method::GET, "/2/0/models?modelDetails=true&limit=10")).await;
    let model = format!("/2/0/models/{MODEL_REVENUE_ID}");
    t.check("GET", "/2/0/models/{m}", 200, t.anaplan(Method::GET, &format!("{model}?modelDetails=true"))).await;
    t.check("GET", "/2/0/models/{m}", 404, t.anaplan(Method::GET, "/2/0/models/0123456789ABCDEF0123456789ABCDEF"))
        .await;
    t.check("GET", "/2/0/models/{m}/modules", 200, t.anaplan(Method::GET, &format!("{model}/modules?limit=100"))).await;
    for module in [VIEW_PRICE_BOOK_ID, MODULE_SALES_INPUT_ID] {
        let p = format!("{model}/modules/{module}/views?limit=100");
        let body = t.check("GET", "/2/0/models/{m}/modules/{module}/views", 200, t.anaplan(Method::GET, &p)).await;
        let ids: Vec<&str> = body["views"].as_array().into_iter().flatten().filter_map(|v| v["id"].as_str()).collect();
        if !ids.contains(&module) {
            t.errs.push(format!("module {module}'s default view (id = module id) is not listed: {ids:?}"));
        }
    }
    let p = format!("{model}/views?includesubsidiaryviews=true&limit=100");
    t.check("GET", "/2/0/models/{m}/views", 200, t.anaplan(Method::GET, &p)).await;
    for v in [VIEW_PRICE_BOOK_ID, MODULE_SALES_INPUT_ID] {
        t.check("GET", "/2/0/models/{m}/views/{v}", 200, t.anaplan(Method::GET, &format!("{model}/views/{v}"))).await;
        let data = format!("{model}/views/{v}/data");
        let csv = t.anaplan(Method::GET, &data).header("accept", "text/csv");
        t.check("GET", "/2/0/models/{m}/views/{v}/data", 200, csv).await;
        let v1 = t.anaplan(Method::GET, &format!("{data}?format=v1")).header("accept", "application/json");
        t.check("GET", "/2/0/models/{m}/views/{v}/data", 200, v1).await;
    }
    let no_accept = t.anaplan(Method::GET, &format!("{model}/views/{VIEW_PRICE_BOOK_ID}/data?format=v1"));
    t.check("GET", "/2/0/models/{m}/views/{v}/data", 406, no_accept).await;
    let rr = format!("{M}/views/{{v}}/readRequests");
    let p = fill(&rr, &[WS_FPA_ID, MODEL_REVENUE_ID, VIEW_PRICE_BOOK_ID]);
    let body =
        t.check("POST", &rr, 200, t.anaplan(Method::POST, &p).json(&json!({ "exportType": "GRID_ALL_PAGES" }))).await;
    let id = body["viewReadRequest"]["requestId"].as_str().unwrap_or_default().to_owned();
    for _ in 0..2 {
        t.check("GET", &format!("{rr}/{{id}}"), 200, t.anaplan(Method::GET, &format!("{p}/{id}"))).await;
    }
    let page = t.anaplan(Method::GET, &format!("{p}/{id}/pages/0")).header("accept", "text/csv");
    t.check("GET", &format!("{rr}/{{id}}/pages/{{n}}"), 200, page).await;
    t.check("DELETE", &format!("{rr}/{{id}}"), 200, t.anaplan(Method::DELETE, &format!("{p}/{id}"))).await;
    t.check("GET", &format!("{rr}/{{id}}"), 404, t.anaplan(Method::GET, &format!("{p}/{id}"))).await;

    // ------------------------------------------------------------ bulk actions
    let scope = fill(M, &[WS_FPA_ID, MODEL_REVENUE_ID]);
    for kind in ["processes", "exports", "imports", "files", "actions", "dashboards"] {
        let p = format!("{scope}/{kind}?limit=100");
        t.check("GET", &format!("{M}/{kind}"), 200, t.anaplan(Method::GET, &p)).await;
    }
    for (kind, id) in [("processes", PROCESS_BROKEN_ID), ("exports", EXPORT_PRICE_ID), ("imports", IMPORT_REGIONS_ID)] {
        let p = format!("{scope}/{kind}/{id}");
        t.check("GET", &format!("{M}/{kind}/{{id}}"), 200, t.anaplan(Method::GET, &p)).await;
    }
    t.check(
        "GET",
        &format!("{M}/exports/{{id}}"),
        404,
        t.anaplan(Method::GET, &format!("{scope}/exports/116999999999")),
    )
    .await;

    // An upload with a failing row, then the import that reads it and its dump.
    let file = format!("{M}/files/{{f}}");
    let p = format!("{scope}/files/{FILE_REGIONS_ID}");
    let whole = t
        .anaplan(Method::PUT, &p)
        .header("content-type", "application/octet-stream")
        .body("Code,Name\nR01,North\nX9,FAIL here\n");
    t.check("PUT", &file, 204, whole).await;
    let task = start_task(&mut t, "imports", IMPORT_REGIONS_ID).await;
    let one = format!("{M}/imports/{{id}}/tasks/{{t}}");
    let done = t.until_done(&one, &format!("{scope}/imports/{IMPORT_REGIONS_ID}/tasks/{task}")).await;
    assert_eq!(done["task"]["result"]["failureDumpAvailable"], json!(true), "{done}");
    let dump = format!("{scope}/imports/{IMPORT_REGIONS_ID}/tasks/{task}/dump");
    t.check("GET", &format!("{one}/dump"), 200, t.anaplan(Method::GET, &dump).header("accept", "text/plain")).await;
    t.check("GET", &format!("{one}/dump/chunks"), 200, t.anaplan(Method::GET, &format!("{dump}/chunks"))).await;
    let chunk = t.anaplan(Method::GET, &format!("{dump}/chunks/0")).header("accept", "text/plain");
    t.check("GET", &format!("{one}/dump/chunks/{{n}}"), 200, chunk).await;
    let tasks = format!("{M}/imports/{{id}}/tasks");
    let p = format!("{scope}/imports/{IMPORT_REGIONS_ID}/tasks?sort=-creationDate");
    t.check("GET", &tasks, 200, t.anaplan(Method::GET, &p)).await;

    // A process whose import step fails, and its dump.
    let task = start_task(&mut t, "processes", PROCESS_BROKEN_ID).await;
    let one = format!("{M}/processes/{{id}}/tasks/{{t}}");
    t.until_done(&one, &format!("{scope}/processes/{PROCESS_BROKEN_ID}/tasks/{task}")).await;
    let dumps = format!("{scope}/processes/{PROCESS_BROKEN_ID}/tasks/{task}/dumps/{IMPORT_REGIONS_ID}");
    t.check("GET", &format!("{one}/dumps/{{o}}"), 200, t.anaplan(Method::GET, &dumps).header("accept", "text/plain"))
        .await;
    t.check("GET", &format!("{one}/dumps/{{o}}/chunks"), 200, t.anaplan(Method::GET, &format!("{dumps}/chunks"))).await;
    let chunk = t.anaplan(Method::GET, &format!("{dumps}/chunks/0")).header("accept", "text/plain");
    t.check("GET", &format!("{one}/dumps/{{o}}/chunks/{{n}}"), 200, chunk).await;
    t.check(
        "GET",
        &format!("{M}/processes/{{id}}/tasks"),
        200,
        t.anaplan(Method::GET, &format!("{scope}/processes/{PROCESS_BROKEN_ID}/tasks")),
    )
    .await;

    // An export, then its file: listed, in chunks and whole.
    let task = start_task(&mut t, "exports", EXPORT_PRICE_ID).await;
    let one = format!("{M}/exports/{{id}}/tasks/{{t}}");
    t.until_done(&one, &format!("{scope}/exports/{EXPORT_PRICE_ID}/tasks/{task}")).await;
    t.check(
        "GET",
        &format!("{M}/exports/{{id}}/tasks"),
        200,
        t.anaplan(Method::GET, &format!("{scope}/exports/{EXPORT_PRICE_ID}/tasks")),
    )
    .await;
    let p = format!("{scope}/files/{EXPORT_PRICE_ID}");
    t.check("GET", &format!("{file}/chunks"), 200, t.anaplan(Method::GET, &format!("{p}/chunks"))).await;
    let chunk = t.anaplan(Method::GET, &format!("{p}/chunks/0")).header("accept", "application/octet-stream");
    t.check("GET", &format!("{file}/chunks/{{n}}"), 200, chunk).await;
    t.check(
        "GET",
        &format!("{file}/chunks/{{n}}"),
        406,
        t.anaplan(Method::GET, &format!("{p}/chunks/0")).header("accept", "text/csv"),
    )
    .await;
    t.check("GET", &file, 200, t.anaplan(Method::GET, &p).header("accept", "application/octet-stream")).await;

    // A chunked upload: open, one chunk, complete.
    let p = format!("{scope}/files/{FILE_PRODUCTS_ID}");
    t.check("POST", &file, 200, t.anaplan(Method::POST, &p).json(&json!({ "chunkCount": -1 }))).await;
    let put = t
        .anaplan(Method::PUT, &format!("{p}/chunks/0"))
        .header("content-type", "application/octet-stream")
        .body("Code,Name\nP001,Widget\n");
    t.check("PUT", &format!("{file}/chunks/{{n}}"), 204, put).await;
    let complete = t.anaplan(Method::POST, &format!("{p}/complete")).json(&json!({ "id": FILE_PRODUCTS_ID }));
    t.check("POST", &format!("{file}/complete"), 200, complete).await;

    // Other actions: one that succeeds, one that fails; their tasks listed.
    for id in [ACTION_DELETE_CLOSED_ID, ACTION_DELETE_LOCKED_ID] {
        let task = start_task(&mut t, "actions", id).await;
        let one = format!("{M}/actions/{{id}}/tasks/{{t}}");
        let done = t.until_done(&one, &format!("{scope}/actions/{id}/tasks/{task}")).await;
        let ok = id == ACTION_DELETE_CLOSED_ID;
        assert_eq!(done["task"]["result"]["successful"], json!(ok), "{done}");
        assert_eq!(done["task"]["result"]["objectId"], json!(id), "{done}");
        t.check(
            "GET",
            &format!("{M}/actions/{{id}}/tasks"),
            200,
            t.anaplan(Method::GET, &format!("{scope}/actions/{id}/tasks")),
        )
        .await;
    }

    // A process whose Optimizer step finds no solution, and the solver's log of its task:
    // read by a workspace administrator, refused (403) to anyone else before the ids are
    // read, 404 for the process's own id or a task that did not run the Optimizer.
    fake.set_action_timing(PROCESS_OPTIMIZE_ID, Duration::ZERO, Duration::ZERO);
    let task = start_task(&mut t, "processes", PROCESS_OPTIMIZE_ID).await;
    let one = format!("{M}/processes/{{id}}/tasks/{{t}}");
    let done = t.until_done(&one, &format!("{scope}/processes/{PROCESS_OPTIMIZE_ID}/tasks/{task}")).await;
    assert_eq!(done["task"]["result"]["successful"], json!(false), "{done}");
    let logs = format!("{M}/optimizeActions/{{id}}/tasks/{{t}}/solutionLogs");
    let log = |action: &str, task: &str| format!("{scope}/optimizeActions/{action}/tasks/{task}/solutionLogs");
    let body = t
        .check(
            "GET",
            &logs,
            200,
            t.anaplan(Method::GET, &log(ACTION_OPTIMIZER_ID, &task)).header("accept", "text/plain"),
        )
        .await;
    assert_eq!(body, json!(SUPPLY_PLAN_SOLVER_LOG));
    let not_admin = fake.access_token_for("user005@example.com");
    let theirs = t
        .bare(Method::GET, &log("117000000099", &task))
        .header("authorization", format!("AnaplanAuthToken {not_admin}"));
    t.check("GET", &logs, 403, theirs).await;
    t.check("GET", &logs, 404, t.anaplan(Method::GET, &log(PROCESS_OPTIMIZE_ID, &task))).await;
    let other = start_task(&mut t, "processes", PROCESS_NIGHTLY_ID).await;
    t.until_done(&one, &format!("{scope}/processes/{PROCESS_NIGHTLY_ID}/tasks/{other}")).await;
    t.check("GET", &logs, 404, t.anaplan(Method::GET, &log(ACTION_OPTIMIZER_ID, &other))).await;

    // Cancelling: a task of each family that runs long.
    for (family, id) in
        [("processes", PROCESS_NIGHTLY_ID), ("exports", EXPORT_PRICE_ID), ("imports", IMPORT_PRODUCTS_ID)]
    {
        fake.set_action_timing(id, Duration::ZERO, Duration::from_secs(60));
        let task = start_task(&mut t, family, id).await;
        let one = format!("{M}/{family}/{{id}}/tasks/{{t}}");
        let p = format!("{scope}/{family}/{id}/tasks/{task}");
        t.check("DELETE", &one, 200, t.anaplan(Method::DELETE, &p)).await;
        t.check("GET", &one, 200, t.anaplan(Method::GET, &p)).await;
        t.check("DELETE", &one, 400, t.anaplan(Method::DELETE, &p)).await;
    }
    let bad_locale = t
        .anaplan(Method::POST, &format!("{scope}/processes/{PROCESS_NIGHTLY_ID}/tasks"))
        .json(&json!({ "localeName": "fr_FR" }));
    t.check("POST", &format!("{M}/processes/{{id}}/tasks"), 400, bad_locale).await;
    t.check("GET", "/2/0/models/{m}/status", 200, t.anaplan(Method::GET, &format!("{model}/status"))).await;
    fake.make_model_busy(MODEL_HEADCOUNT_ID, Duration::from_secs(30));
    let busy = format!("/2/0/models/{MODEL_HEADCOUNT_ID}/status");
    t.check("GET", "/2/0/models/{m}/status", 200, t.anaplan(Method::GET, &busy)).await;

    // ------------------------------------------------------------ model state
    let other_user = fake.access_token_for("user005@example.com");
    let m2 = format!("/2/0/models/{MODEL_FORECAST_2_ID}");
    let text = |t: &Tour, what: &str| {
        t.anaplan(Method::POST, &format!("{m2}/{what}")).header("content-type", "application/text")
    };
    t.check("POST", "/2/0/models/{m}/close", 204, text(&t, "close")).await;
    t.check("GET", "/2/0/models/{m}/status", 200, t.anaplan(Method::GET, &format!("{m2}/status"))).await;
    t.check("POST", "/2/0/models/{m}/open", 202, text(&t, "open")).await;
    t.check("GET", "/2/0/models/{m}/status", 200, t.anaplan(Method::GET, &format!("{m2}/status"))).await;
    t.check("POST", "/2/0/models/{m}/open", 400, text(&t, "open").body("x")).await;
    let json_open = t.anaplan(Method::POST, &format!("{m2}/open")).json(&json!({}));
    t.check("POST", "/2/0/models/{m}/open", 415, json_open).await;
    let archived = format!("/2/0/models/{MODEL_ARCHIVED_ID}/close");
    let r = t.anaplan(Method::POST, &archived).header("content-type", "application/text");
    t.check("POST", "/2/0/models/{m}/close", 422, r).await;
    let unknown = "/2/0/models/0123456789ABCDEF0123456789ABCDEF/open";
    let r = t.anaplan(Method::POST, unknown).header("content-type", "application/text");
    t.check("POST", "/2/0/models/{m}/open", 404, r).await;
    let theirs = t
        .bare(Method::POST, &format!("{m2}/close"))
        .header("authorization", format!("AnaplanAuthToken {other_user}"))
        .header("content-type", "application/text");
    t.check("POST", "/2/0/models/{m}/close", 403, theirs).await;
    let online = "/2/0/models/{m}/onlineStatus";
    let set = |t: &Tour, m: &str, method: Method, status: &str| {
        t.anaplan(method, &format!("/2/0/models/{m}/onlineStatus")).json(&json!({ "status": status }))
    };
    t.check("POST", online, 204, set(&t, MODEL_FORECAST_2_ID, Method::POST, "offline")).await;
    t.check("PUT", online, 204, set(&t, MODEL_FORECAST_2_ID, Method::PUT, "online")).await;
    t.check("POST", online, 400, set(&t, MODEL_FORECAST_2_ID, Method::POST, "asleep")).await;
    t.check("PUT", online, 400, set(&t, MODEL_LOCKED_ID, Method::PUT, "offline")).await;
    t.check("POST", online, 422, set(&t, MODEL_ARCHIVED_ID, Method::POST, "offline")).await;
    t.check("POST", online, 404, set(&t, "0123456789ABCDEF0123456789ABCDEF", Method::POST, "offline")).await;
    let r = t.anaplan(Method::PUT, &format!("{m2}/onlineStatus")).header("content-type", "text/plain").body("online");
    t.check("PUT", online, 415, r).await;
    let theirs = t
        .bare(Method::POST, &format!("{m2}/onlineStatus"))
        .header("authorization", format!("AnaplanAuthToken {other_user}"))
        .json(&json!({ "status": "offline" }));
    t.check("POST", online, 403, theirs).await;
    let theirs = t
        .bare(Method::PUT, &format!("{m2}/onlineStatus"))
        .header("authorization", format!("AnaplanAuthToken {other_user}"))
        .json(&json!({ "status": "offline" }));
    t.check("PUT", online, 403, theirs).await;

    // ------------------------------------------------------------ ALM
    let dev = format!("/2/0/models/{MODEL_DEV_ID}/alm");
    let prod = format!("/2/0/models/{MODEL_PROD_ID}/alm");
    let revs = "/2/0/models/{m}/alm/revisions";
    t.check("GET", revs, 200, t.anaplan(Method::GET, &format!("{dev}/revisions?offset=0&limit=1"))).await;
    let theirs = t
        .bare(Method::GET, &format!("{dev}/revisions"))
        .header("authorization", format!("AnaplanAuthToken {other_user}"));
    t.check("GET", revs, 403, theirs).await;
    t.check("GET", revs, 404, t.anaplan(Method::GET, "/2/0/models/0123456789ABCDEF0123456789ABCDEF/alm/revisions"))
        .await;
    let archived = format!("/2/0/models/{MODEL_ARCHIVED_ID}/alm/revisions");
    t.check("GET", revs, 422, t.anaplan(Method::GET, &archived)).await;
    let latest = "/2/0/models/{m}/alm/latestRevision";
    t.check("GET", latest, 200, t.anaplan(Method::GET, &format!("{prod}/latestRevision"))).await;
    let none = format!("/2/0/models/{MODEL_REVENUE_ID}/alm/latestRevision");
    t.check("GET", latest, 200, t.anaplan(Method::GET, &none)).await;
    let syncable = "/2/0/models/{m}/alm/syncableRevisions";
    let q = format!("{prod}/syncableRevisions?sourceModelId={MODEL_DEV_ID}");
    t.check("GET", syncable, 200, t.anaplan(Method::GET, &q)).await;
    t.check("GET", syncable, 400, t.anaplan(Method::GET, &format!("{prod}/syncableRevisions"))).await;
    let applied = "/2/0/models/{m}/alm/revisions/{r}/appliedToModels";
    let r = t.anaplan(Method::GET, &format!("{prod}/revisions/{REVISION_LAUNCH_ID}/appliedToModels"));
    t.check("GET", applied, 200, r).await;
    let r = t.anaplan(Method::GET, &format!("{prod}/revisions/{REVISION_TERRITORIES_ID}/appliedToModels"));
    t.check("GET", applied, 404, r).await;
    let r = t.anaplan(Method::POST, &format!("{prod}/revisions")).json(&json!({ "name": "Hotfix" }));
    t.check("POST", revs, 422, r).await;
    let r = t.anaplan(Method::POST, &format!("{dev}/revisions")).json(&json!({ "description": "no name" }));
    t.check("POST", revs, 400, r).await;
    let locked = format!("/2/0/models/{MODEL_LOCKED_ID}/alm/revisions");
    t.check("POST", revs, 423, t.anaplan(Method::POST, &locked).json(&json!({ "name": "x" }))).await;
    let body = json!({
        "sourceRevisionId": REVISION_TERRITORIES_ID,
        "sourceModelId": MODEL_DEV_ID,
        "targetRevisionId": REVISION_LAUNCH_ID,
    });
    for (kind, report) in [("comparison", "comparisonReports"), ("summary", "summaryReports")] {
        let start = format!("/2/0/models/{{m}}/alm/{kind}ReportTasks");
        let task = t
            .check("POST", &start, 201, t.anaplan(Method::POST, &format!("{prod}/{kind}ReportTasks")).json(&body))
            .await;
        let id = task["task"]["taskId"].as_str().unwrap_or_default().to_owned();
        t.until_done(&format!("{start}/{{t}}"), &format!("{prod}/{kind}ReportTasks/{id}")).await;
        let at = format!("{prod}/{report}/{REVISION_LAUNCH_ID}/{REVISION_TERRITORIES_ID}");
        let template = format!("/2/0/models/{{m}}/alm/{report}/{{tr}}/{{sr}}");
        let accept = if kind == "comparison" { "application/octet-stream" } else { "application/json" };
        t.check("GET", &template, 200, t.anaplan(Method::GET, &at).header("accept", accept)).await;
        let r = t.anaplan(Method::GET, &format!("{prod}/{report}/{REVISION_TERRITORIES_ID}/{REVISION_LAUNCH_ID}"));
        t.check("GET", &template, 404, r.header("accept", accept)).await;
        t.check("POST", &start, 400, t.anaplan(Method::POST, &format!("{prod}/{kind}ReportTasks")).json(&json!({})))
            .await;
    }
    let at = format!("{prod}/comparisonReports/{REVISION_LAUNCH_ID}/{REVISION_TERRITORIES_ID}");
    let r = t.anaplan(Method::GET, &at).header("accept", "application/json");
    t.check("GET", "/2/0/models/{m}/alm/comparisonReports/{tr}/{sr}", 406, r).await;
    let sync = "/2/0/models/{m}/alm/syncTasks";
    t.check("POST", sync, 400, t.anaplan(Method::POST, &format!("{prod}/syncTasks")).json(&json!({}))).await;
    t.check("GET", sync, 200, t.anaplan(Method::GET, &format!("{prod}/syncTasks"))).await;
    let task = t.check("POST", sync, 201, t.anaplan(Method::POST, &format!("{prod}/syncTasks")).json(&body)).await;
    let id = task["task"]["taskId"].as_str().unwrap_or_default().to_owned();
    let done = t.until_done("/2/0/models/{m}/alm/syncTasks/{t}", &format!("{prod}/syncTasks/{id}")).await;
    assert_eq!(done["task"]["result"]["successful"], true, "{done}");
    t.check("GET", sync, 200, t.anaplan(Method::GET, &format!("{prod}/syncTasks"))).await;
    let r = t.anaplan(Method::GET, &format!("{prod}/syncTasks/0123456789ABCDEF0123456789ABCDEF"));
    t.check("GET", "/2/0/models/{m}/alm/syncTasks/{t}", 404, r).await;
    let r = t.anaplan(Method::POST, &format!("{dev}/revisions")).json(&json!({ "name": "2026.3", "description": "d" }));
    t.check("POST", revs, 201, r).await;

    // ------------------------------------------------------------ versions
    t.check("GET", "/2/0/models/{m}/versions", 200, t.anaplan(Method::GET, &format!("{model}/versions"))).await;
    let in_ws = "/2/0/workspaces/{ws}/models/{m}/versions";
    t.check("GET", in_ws, 200, t.anaplan(Method::GET, &format!("{scope}/versions?offset=1&limit=1"))).await;
    let elsewhere = format!("/2/0/workspaces/{WS_SALES_ID}/models/{MODEL_REVENUE_ID}/versions");
    t.check("GET", in_ws, 404, t.anaplan(Method::GET, &elsewhere)).await;
    let other_user = fake.access_token_for("user005@example.com");
    let theirs = t
        .bare(Method::GET, &format!("{model}/versions"))
        .header("authorization", format!("AnaplanAuthToken {other_user}"));
    t.check("GET", "/2/0/models/{m}/versions", 403, theirs).await;
    let switchover = "/2/0/models/{m}/versions/{v}/switchover";
    let to = |v: &str| format!("{model}/versions/{v}/switchover");
    let put = |t: &Tour, v: &str, date: &str| t.anaplan(Method::PUT, &to(v)).json(&json!({ "date": date }));
    let r = put(&t, VERSION_FORECAST_ID, "2026-05-13");
    t.check("PUT", switchover, 200, r).await;
    let r = put(&t, VERSION_FORECAST_ID, "2026-04-01");
    t.check("PUT", switchover, 400, r).await;
    let r = put(&t, VERSION_ACTUAL_ID, "2026-06-01");
    t.check("PUT", switchover, 400, r).await;
    let r = put(&t, "107000000099", "2026-06-01");
    t.check("PUT", switchover, 404, r).await;
    let r = put(&t, VERSION_FORECAST_ID, "");
    t.check("PUT", switchover, 200, r).await;
    let locked = format!("/2/0/models/{MODEL_LOCKED_ID}/versions/{VERSION_FORECAST_ID}/switchover");
    t.check("PUT", switchover, 423, t.anaplan(Method::PUT, &locked).json(&json!({ "date": "2026-06-01" }))).await;
    let archived = format!("/2/0/models/{MODEL_ARCHIVED_ID}/versions/{VERSION_FORECAST_ID}/switchover");
    t.check("PUT", switchover, 422, t.anaplan(Method::PUT, &archived).json(&json!({ "date": "2026-06-01" }))).await;
    let theirs =
        t.bare(Method::PUT, &to(VERSION_FORECAST_ID)).header("authorization", format!("AnaplanAuthToken {other_user}"));
    t.check("PUT", switchover, 403, theirs.json(&json!({ "date": "2026-06-01" }))).await;

    // ------------------------------------------------------------ calendar
    let user005 = fake.access_token_for("user005@example.com");
    for (form, path) in [("/2/0/workspaces/{ws}/models/{m}", scope.clone()), ("/2/0/models/{m}", model.clone())] {
        let period = format!("{form}/currentPeriod");
        t.check("GET", &period, 200, t.anaplan(Method::GET, &format!("{path}/currentPeriod"))).await;
        for (want, date) in [(200, "2026-06-15"), (400, "2031-01-01"), (400, "15/06/2026")] {
            let set = t.anaplan(Method::PUT, &format!("{path}/currentPeriod")).json(&json!({ "date": date }));
            t.check("PUT", &period, want, set).await;
        }
        t.check("PUT", &period, 200, t.anaplan(Method::PUT, &format!("{path}/currentPeriod?date="))).await;
        let theirs = t
            .bare(Method::GET, &format!("{path}/currentPeriod"))
            .header("authorization", format!("AnaplanAuthToken {user005}"));
        t.check("GET", &period, 403, theirs).await;
        let calendar = format!("{form}/modelCalendar");
        t.check("GET", &calendar, 200, t.anaplan(Method::GET, &format!("{path}/modelCalendar"))).await;
    }
    let ws_calendar = "/2/0/workspaces/{ws}/models/{m}/modelCalendar";
    let weeks = fill(M, &[WS_SALES_ID, MODEL_FORECAST_1_ID]);
    t.check("GET", ws_calendar, 200, t.anaplan(Method::GET, &format!("{weeks}/modelCalendar"))).await;
    let elsewhere = fill(M, &[WS_SALES_ID, MODEL_REVENUE_ID]);
    t.check("GET", ws_calendar, 404, t.anaplan(Method::GET, &format!("{elsewhere}/modelCalendar"))).await;
    let archived = fill(M, &[WS_FPA_ID, MODEL_ARCHIVED_ID]);
    t.check("GET", ws_calendar, 422, t.anaplan(Method::GET, &format!("{archived}/modelCalendar"))).await;
    let fiscal = "/2/0/models/{m}/modelCalendar/fiscalYear";
    t.check(
        "PUT",
        fiscal,
        200,
        t.anaplan(Method::PUT, &format!("/2/0/models/{}/modelCalendar/fiscalYear", MODEL_HEADCOUNT_ID))
            .json(&json!({ "year": "FY28" })),
    )
    .await;
    t.check(
        "PUT",
        fiscal,
        400,
        t.anaplan(Method::PUT, &format!("/2/0/models/{}/modelCalendar/fiscalYear", MODEL_HEADCOUNT_ID))
            .json(&json!({ "year": "FY99" })),
    )
    .await;
    t.check(
        "PUT",
        fiscal,
        404,
        t.anaplan(Method::PUT, &format!("/2/0/models/{}/modelCalendar/fiscalYear", "75A40874E6B64FA3AE07432789968599"))
            .json(&json!({ "year": "FY28" })),
    )
    .await;
    t.check(
        "PUT",
        fiscal,
        423,
        t.anaplan(Method::PUT, &format!("/2/0/models/{}/modelCalendar/fiscalYear", MODEL_LOCKED_ID))
            .json(&json!({ "year": "FY28" })),
    )
    .await;
    let locked_period = format!("/2/0/models/{MODEL_LOCKED_ID}/currentPeriod");
    let locked = t.anaplan(Method::PUT, &locked_period).json(&json!({ "date": "2026-06-15" }));
    t.check("PUT", "/2/0/models/{m}/currentPeriod", 423, locked).await;
    let theirs = t
        .bare(Method::PUT, &format!("/2/0/models/{MODEL_HEADCOUNT_ID}/modelCalendar/fiscalYear"))
        .header("authorization", format!("AnaplanAuthToken {user005}"));
    t.check("PUT", fiscal, 403, theirs.json(&json!({ "year": "FY28" }))).await;
    let archived_set =
        t.anaplan(Method::PUT, &format!("{archived}/currentPeriod")).json(&json!({ "date": "2026-06-15" }));
    t.check("PUT", "/2/0/workspaces/{ws}/models/{m}/currentPeriod", 422, archived_set).await;
    let archived_read = format!("/2/0/models/{MODEL_ARCHIVED_ID}/currentPeriod");
    t.check("GET", "/2/0/models/{m}/currentPeriod", 422, t.anaplan(Method::GET, &archived_read)).await;
    t.check(
        "GET",
        "/2/0/models/{m}/currentPeriod",
        404,
        t.anaplan(Method::GET, "/2/0/models/75A40874E6B64FA3AE07432789968599/currentPeriod"),
    )
    .await;
    t.check(
        "PUT",
        "/2/0/models/{m}/currentPeriod",
        404,
        t.anaplan(Method::PUT, "/2/0/models/75A40874E6B64FA3AE07432789968599/currentPeriod?date="),
    )
    .await;
    t.check(
        "PUT",
        "/2/0/models/{m}/currentPeriod",
        403,
        t.bare(Method::PUT, &format!("{model}/currentPeriod?date="))
            .header("authorization", format!("AnaplanAuthToken {user005}")),
    )
    .await;
    let ws_period = "/2/0/workspaces/{ws}/models/{m}/currentPeriod";
    t.check("GET", ws_period, 404, t.anaplan(Method::GET, &format!("{elsewhere}/currentPeriod"))).await;
    t.check("GET", ws_period, 422, t.anaplan(Method::GET, &format!("{archived}/currentPeriod"))).await;
    t.check("PUT", ws_period, 404, t.anaplan(Method::PUT, &format!("{elsewhere}/currentPeriod?date="))).await;
    t.check(
        "PUT",
        ws_period,
        403,
        t.bare(Method::PUT, &format!("{scope}/currentPeriod?date="))
            .header("authorization", format!("AnaplanAuthToken {user005}")),
    )
    .await;
    let locked_ws = fill(M, &[WS_FPA_ID, MODEL_LOCKED_ID]);
    t.check("PUT", ws_period, 423, t.anaplan(Method::PUT, &format!("{locked_ws}/currentPeriod?date="))).await;
    t.check(
        "GET",
        ws_calendar,
        403,
        t.bare(Method::GET, &format!("{scope}/modelCalendar"))
            .header("authorization", format!("AnaplanAuthToken {user005}")),
    )
    .await;
    let m_calendar = "/2/0/models/{m}/modelCalendar";
    t.check(
        "GET",
        m_calendar,
        404,
        t.anaplan(Method::GET, "/2/0/models/75A40874E6B64FA3AE07432789968599/modelCalendar"),
    )
    .await;
    t.check("GET", m_calendar, 422, t.anaplan(Method::GET, &format!("/2/0/models/{MODEL_ARCHIVED_ID}/modelCalendar")))
        .await;
    t.check(
        "GET",
        m_calendar,
        403,
        t.bare(Method::GET, &format!("{model}/modelCalendar"))
            .header("authorization", format!("AnaplanAuthToken {user005}")),
    )
    .await;
    t.check(
        "PUT",
        fiscal,
        422,
        t.anaplan(Method::PUT, &format!("/2/0/models/{}/modelCalendar/fiscalYear", MODEL_ARCHIVED_ID))
            .json(&json!({ "year": "FY28" })),
    )
    .await;

    // ------------------------------------------------------------ lists and modules
    t.check("GET", "/2/0/models/{m}/lists", 200, t.anaplan(Method::GET, &format!("{model}/lists"))).await;
    for list in [LIST_COST_CENTRES_ID, LIST_TRANSACTIONS_ID] {
        t.check("GET", "/2/0/models/{m}/lists/{l}", 200, t.anaplan(Method::GET, &format!("{model}/lists/{list}")))
            .await;
    }
    let items = format!("{M}/lists/{{l}}/items");
    let p = format!("{scope}/lists/{LIST_COST_CENTRES_ID}/items");
    t.check(
        "GET",
        &items,
        200,
        t.anaplan(Method::GET, &format!("{p}?includeAll=true")).header("accept", "application/json"),
    )
    .await;
    t.check("GET", &items, 200, t.anaplan(Method::GET, &format!("{p}?includeAll=true")).header("accept", "text/csv"))
        .await;
    let add = json!({ "items": [{ "name": "Conformance", "code": "CC900", "properties": { "Owner": "Ada" } }] });
    t.check("POST", &items, 200, t.anaplan(Method::POST, &format!("{p}?action=add")).json(&add)).await;
    let update = json!({ "items": [{ "code": "CC900", "properties": { "Owner": "Grace" } }] });
    t.check("PUT", &items, 200, t.anaplan(Method::PUT, &p).json(&update)).await;
    let delete = json!({ "items": [{ "code": "CC900" }, { "code": "NOPE" }] });
    t.check("POST", &items, 200, t.anaplan(Method::POST, &format!("{p}?action=delete")).json(&delete)).await;
    let reset = format!("{M}/lists/{{l}}/resetIndex");
    let p = format!("{scope}/lists/{LIST_RETIRED_CODES_ID}/resetIndex");
    t.check("POST", &reset, 200, t.anaplan(Method::POST, &p)).await;
    let not_admin = fake.access_token_for("user005@example.com");
    let theirs = t.bare(Method::POST, &p).header("authorization", format!("AnaplanAuthToken {not_admin}"));
    t.check("POST", &reset, 403, theirs).await;
    let holding = format!("{scope}/lists/{LIST_COST_CENTRES_ID}/resetIndex");
    t.check("POST", &reset, 400, t.anaplan(Method::POST, &holding)).await;
    let unknown = format!("{scope}/lists/101000000099/resetIndex");
    t.check("POST", &reset, 404, t.anaplan(Method::POST, &unknown)).await;
    let big = format!("{scope}/lists/{LIST_TRANSACTIONS_ID}/items");
    t.check("GET", &items, 400, t.anaplan(Method::GET, &big).header("accept", "application/json")).await;
    let lr = format!("{M}/lists/{{l}}/readRequests");
    let p = format!("{scope}/lists/{LIST_TRANSACTIONS_ID}/readRequests");
    let body = t.check("POST", &lr, 200, t.anaplan(Method::POST, &p)).await;
    let id = body["listReadRequest"]["requestId"].as_str().unwrap_or_default().to_owned();
    for _ in 0..2 {
        t.check("GET", &format!("{lr}/{{id}}"), 200, t.anaplan(Method::GET, &format!("{p}/{id}"))).await;
    }
    let page = t.anaplan(Method::GET, &format!("{p}/{id}/pages/0")).header("accept", "text/csv");
    t.check("GET", &format!("{lr}/{{id}}/pages/{{n}}"), 200, page).await;
    t.check("DELETE", &format!("{lr}/{{id}}"), 200, t.anaplan(Method::DELETE, &format!("{p}/{id}"))).await;
    let module = format!("{model}/modules/{MODULE_SALES_INPUT_ID}");
    t.check(
        "GET",
        "/2/0/models/{m}/modules/{module}/lineItems",
        200,
        t.anaplan(Method::GET, &format!("{module}/lineItems?includeAll=true")),
    )
    .await;
    let cells = json!([{
        "lineItemId": LINE_UNITS_ID,
        "dimensions": [
            { "dimensionId": DIM_PRODUCTS_ID, "itemCode": "P001" },
            { "dimensionId": DIM_REGIONS_ID, "itemCode": "R01" },
            { "dimensionName": DIM_TIME_NAME, "itemName": "Jan 26" },
            { "dimensionId": DIM_VERSIONS_ID, "itemName": VERSION_ACTUAL_NAME },
        ],
        "value": 7,
    }, { "lineItemName": "Nothing", "dimensions": [], "value": 1 }]);
    t.check(
        "POST",
        "/2/0/models/{m}/modules/{module}/data",
        200,
        t.anaplan(Method::POST, &format!("{module}/data")).json(&cells),
    )
    .await;
    let all = format!("{model}/lineItems?limit=100");
    let body = t.check("GET", "/2/0/models/{m}/lineItems", 200, t.anaplan(Method::GET, &all)).await;
    if body["meta"]["paging"]["totalSize"] != json!(SALES_INPUT_LINE_ITEMS.len()) {
        t.errs.push(format!("model line items: {body}"));
    }
    let nowhere = format!("/2/0/models/{MODEL_PROD_ID}/lineItems");
    let body = t.check("GET", "/2/0/models/{m}/lineItems", 200, t.anaplan(Method::GET, &nowhere)).await;
    if body.get("items").is_some() {
        t.errs.push(format!("a model without line items leaves items out: {body}"));
    }
    let li = format!("{model}/lineItems/{LINE_UNITS_ID}/dimensions");
    t.check("GET", "/2/0/models/{m}/lineItems/{li}/dimensions", 200, t.anaplan(Method::GET, &li)).await;
    let p = format!("{li}/{DIM_PRODUCTS_ID}/items");
    t.check("GET", "/2/0/models/{m}/lineItems/{li}/dimensions/{d}/items", 200, t.anaplan(Method::GET, &p)).await;
    let p = format!("{model}/dimensions/{DIM_REGIONS_ID}/items");
    t.check("GET", "/2/0/models/{m}/dimensions/{d}/items", 200, t.anaplan(Method::GET, &p)).await;
    let p = format!("{model}/dimensions/{DIM_TIME_ID}/items");
    t.check("GET", "/2/0/models/{m}/dimensions/{d}/items", 400, t.anaplan(Method::GET, &p)).await;
    let p = format!("{model}/dimensions/101000000099/items");
    t.check("GET", "/2/0/models/{m}/dimensions/{d}/items", 404, t.anaplan(Method::GET, &p)).await;
    let ws_items = "/2/0/workspaces/{ws}/models/{m}/dimensions/{d}/items";
    let in_ws = format!("/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/dimensions");
    let p = format!("{in_ws}/{DIM_PRODUCTS_ID}/items");
    t.check("GET", ws_items, 200, t.anaplan(Method::GET, &p)).await;
    let p = format!("{in_ws}/{LIST_TRANSACTIONS_ID}/items");
    t.check("GET", ws_items, 400, t.anaplan(Method::GET, &p)).await;
    let p = format!("/2/0/workspaces/{WS_SALES_ID}/models/{MODEL_REVENUE_ID}/dimensions/{DIM_PRODUCTS_ID}/items");
    t.check("GET", ws_items, 404, t.anaplan(Method::GET, &p)).await;
    let lookup = json!({ "names": ["north", "Nowhere"], "codes": ["r02"] });
    let p = format!("{model}/dimensions/{DIM_REGIONS_ID}/items");
    let body =
        t.check("POST", "/2/0/models/{m}/dimensions/{d}/items", 200, t.anaplan(Method::POST, &p).json(&lookup)).await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2), "{body}");
    let none = json!({ "names": ["Nowhere"] });
    let body =
        t.check("POST", "/2/0/models/{m}/dimensions/{d}/items", 200, t.anaplan(Method::POST, &p).json(&none)).await;
    assert!(body.get("items").is_none(), "no match omits items: {body}");
    let p = format!("{model}/dimensions/{DIM_TIME_ID}/items");
    let codes = json!({ "codes": ["X"] });
    t.check("POST", "/2/0/models/{m}/dimensions/{d}/items", 400, t.anaplan(Method::POST, &p).json(&codes)).await;
    let p = format!("{in_ws}/{LIST_COST_CENTRES_ID}/items");
    t.check("POST", ws_items, 200, t.anaplan(Method::POST, &p).json(&json!({ "codes": ["cc100"] }))).await;
    t.check("POST", ws_items, 400, t.anaplan(Method::POST, &p).json(&json!({ "names": [], "codes": [] }))).await;
    let p = format!("{in_ws}/101000000099/items");
    t.check("POST", ws_items, 404, t.anaplan(Method::POST, &p).json(&lookup)).await;
    let view_items = "/2/0/models/{m}/views/{v}/dimensions/{d}/items";
    let p = format!("{model}/views/{VIEW_PRICE_BOOK_ID}/dimensions/{DIM_REGIONS_ID}/items");
    t.check("GET", view_items, 200, t.anaplan(Method::GET, &p)).await;
    let p = format!("{model}/views/{VIEW_PRICE_BOOK_ID}/dimensions/{DIM_CUSTOMERS_ID}/items");
    t.check("GET", view_items, 404, t.anaplan(Method::GET, &p)).await;
    let p = format!("{model}/views/{VIEW_BIG_GRID_ID}/dimensions/{DIM_CUSTOMERS_ID}/items");
    t.check("GET", view_items, 400, t.anaplan(Method::GET, &p)).await;

    // ------------------------------------------------------------ CloudWorks
    t.check("GET", "/2/0/integrations", 200, t.anaplan(Method::GET, "/2/0/integrations?offset=0&limit=50")).await;
    t.check("GET", "/2/0/integrationflows", 200, t.anaplan(Method::GET, "/2/0/integrationflows?offset=0&limit=50"))
        .await;
    for id in [INTEGRATION_IMPORT_ID, INTEGRATION_EXPORT_ID, INTEGRATION_PROCESS_ID, INTEGRATION_BROKEN_ID] {
        t.check("GET", "/2/0/integrations/{id}", 200, t.anaplan(Method::GET, &format!("/2/0/integrations/{id}"))).await;
    }
    t.check(
        "GET",
        "/2/0/integrations/{id}",
        404,
        t.anaplan(Method::GET, "/2/0/integrations/0123456789abcdef0123456789abcdef"),
    )
    .await;
    // Schedules: the seed's is replaced, disabled, enabled, deleted and created again.
    let sched = format!("/2/0/integrations/{SCHEDULED_INTEGRATION_ID}/schedule");
    let body = json!({ "integrationId": SCHEDULED_INTEGRATION_ID, "schedule": {
        "name": SCHEDULE_NIGHTLY_NAME, "type": "daily", "time": "03:30", "startDate": "2026-01-01",
        "endDate": "2026-12-31", "timezone": "Europe/Paris",
    }});
    t.check("PUT", "/2/0/integrations/{id}/schedule", 200, t.anaplan(Method::PUT, &sched).json(&body)).await;
    let mut bad = body.clone();
    bad["schedule"]["time"] = json!("3.30pm");
    t.check("PUT", "/2/0/integrations/{id}/schedule", 400, t.anaplan(Method::PUT, &sched).json(&bad)).await;
    t.check("POST", "/2/0/integrations/{id}/schedule", 400, t.anaplan(Method::POST, &sched).json(&body)).await;
    for status in ["disabled", "enabled"] {
        let p = format!("{sched}/status/{status}");
        t.check("POST", "/2/0/integrations/{id}/schedule/status/{status}", 200, t.anaplan(Method::POST, &p)).await;
    }
    t.check("DELETE", "/2/0/integrations/{id}/schedule", 200, t.anaplan(Method::DELETE, &sched)).await;
    t.check("DELETE", "/2/0/integrations/{id}/schedule", 404, t.anaplan(Method::DELETE, &sched)).await;
    let p = format!("{sched}/status/enabled");
    t.check("POST", "/2/0/integrations/{id}/schedule/status/{status}", 404, t.anaplan(Method::POST, &p)).await;
    t.check("PUT", "/2/0/integrations/{id}/schedule", 404, t.anaplan(Method::PUT, &sched).json(&body)).await;
    t.check("POST", "/2/0/integrations/{id}/schedule", 200, t.anaplan(Method::POST, &sched).json(&body)).await;
    let p = "/2/0/integrations/0123456789abcdef0123456789abcdef/schedule";
    t.check("POST", "/2/0/integrations/{id}/schedule", 404, t.anaplan(Method::POST, p).json(&body)).await;
    for id in [FLOW_NIGHTLY_ID, FLOW_BROKEN_ID] {
        t.check(
            "GET",
            "/2/0/integrationflows/{id}",
            200,
            t.anaplan(Method::GET, &format!("/2/0/integrationflows/{id}")),
        )
        .await;
    }
    fake.set_cloudworks_run_time(Duration::from_secs(60));
    for (kind, id) in [("integrations", INTEGRATION_EXPORT_ID), ("integrationflows", FLOW_NIGHTLY_ID)] {
        let run = t.anaplan(Method::POST, &format!("/2/0/{kind}/{id}/run")).json(&json!({}));
        let body = t.check("POST", &format!("/2/0/{kind}/{{id}}/run"), 200, run).await;
        let run_id = body["run"]["id"].as_str().unwrap_or_default().to_owned();
        let again = t.anaplan(Method::POST, &format!("/2/0/{kind}/{id}/run")).json(&json!({}));
        t.check("POST", &format!("/2/0/{kind}/{{id}}/run"), 409, again).await;
        let running = t
            .check(
                "GET",
                "/2/0/integrations/run/{run}",
                200,
                t.anaplan(Method::GET, &format!("/2/0/integrations/run/{run_id}")),
            )
            .await;
        if running["run"].get("endDate").is_some() || running["run"]["success"] != json!(false) {
            t.errs.push(format!("a running run has no endDate and success false: {running}"));
        }
        t.check("GET", "/2/0/integrations", 200, t.anaplan(Method::GET, "/2/0/integrations?offset=0&limit=50")).await;
        t.check("GET", "/2/0/integrationflows", 200, t.anaplan(Method::GET, "/2/0/integrationflows?offset=0&limit=50"))
            .await;
        t.check(
            "POST",
            &format!("/2/0/{kind}/{{id}}/cancel"),
            200,
            t.anaplan(Method::POST, &format!("/2/0/{kind}/{id}/cancel")),
        )
        .await;
        t.check(
            "POST",
            &format!("/2/0/{kind}/{{id}}/cancel"),
            409,
            t.anaplan(Method::POST, &format!("/2/0/{kind}/{id}/cancel")),
        )
        .await;
    }
    fake.set_cloudworks_run_time(Duration::ZERO);
    let run = t.anaplan(Method::POST, &format!("/2/0/integrations/{INTEGRATION_BROKEN_ID}/run")).json(&json!({}));
    let body = t.check("POST", "/2/0/integrations/{id}/run", 200, run).await;
    let broken = body["run"]["id"].as_str().unwrap_or_default().to_owned();
    let run = t.anaplan(Method::POST, &format!("/2/0/integrations/{INTEGRATION_IMPORT_ID}/run")).json(&json!({}));
    let body = t.check("POST", "/2/0/integrations/{id}/run", 200, run).await;
    let fine = body["run"]["id"].as_str().unwrap_or_default().to_owned();
    for run in [&broken, &fine] {
        t.check(
            "GET",
            "/2/0/integrations/run/{run}",
            200,
            t.anaplan(Method::GET, &format!("/2/0/integrations/run/{run}")),
        )
        .await;
        t.check(
            "GET",
            "/2/0/integrations/runerror/{run}",
            200,
            t.anaplan(Method::GET, &format!("/2/0/integrations/runerror/{run}")),
        )
        .await;
    }
    let detail: Value = t
        .anaplan(Method::GET, &format!("/2/0/integrations/{INTEGRATION_BROKEN_ID}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let notification = detail["integration"]["notificationId"].as_str().unwrap_or_default().to_owned();
    let n = "/2/0/integrations/notification/{id}";
    let body =
        t.check("GET", n, 200, t.anaplan(Method::GET, &format!("/2/0/integrations/notification/{notification}"))).await;
    if body["notifications"]["integrationIds"] != json!([INTEGRATION_BROKEN_ID]) {
        t.errs.push(format!("notification of another integration: {body}"));
    }
    let nobody = "/2/0/integrations/notification/0123456789abcdef0123456789abcdef";
    t.check("GET", n, 404, t.anaplan(Method::GET, nobody)).await;
    let history = format!("/2/0/integrations/runs/{INTEGRATION_BROKEN_ID}");
    t.check("GET", "/2/0/integrations/runs/{id}", 200, t.anaplan(Method::GET, &format!("{history}?offset=0&limit=10")))
        .await;
    t.check("GET", "/2/0/integrations/runs/{id}", 400, t.anaplan(Method::GET, &history)).await;
    t.check("GET", "/2/0/integrations", 200, t.anaplan(Method::GET, "/2/0/integrations?offset=0&limit=50")).await;
    let p = format!("/2/0/integrations/run/{broken}/process/import/{BROKEN_ACTION_ID}/dumps");
    t.check(
        "GET",
        "/2/0/integrations/run/{run}/process/import/{action}/dumps",
        200,
        t.anaplan(Method::GET, &p).header("accept", "text/csv"),
    )
    .await;
    let p = format!("/2/0/integrations/run/{fine}/dumps");
    t.check("GET", "/2/0/integrations/run/{run}/dumps", 404, t.anaplan(Method::GET, &p).header("accept", "text/csv"))
        .await;
    t.check(
        "GET",
        "/2/0/integrations/run/{run}",
        404,
        t.anaplan(Method::GET, "/2/0/integrations/run/0123456789abcdef0123456789abcdef"),
    )
    .await;
    t.check(
        "GET",
        "/2/0/integrations/connections",
        200,
        t.anaplan(Method::GET, "/2/0/integrations/connections?offset=0&limit=50"),
    )
    .await;
    let p = format!("/2/0/integrations/connections/{CONNECTION_PARTNER_ID}");
    t.check("GET", "/2/0/integrations/connections/{id}", 200, t.anaplan(Method::GET, &p)).await;
    let sas = "sv=2025-01-05&ss=b&srt=sco&sp=rwl&se=2099-01-01T00:00:00Z&sig=AAAA";
    let conn = json!({ "type": "AzureBlob", "body": {
        "name": CONNECTION_PARTNER_NAME, "storageAccountName": PARTNER_ACCOUNT, "containerName": "partner-drop",
        "sasToken": sas, "auth_method": "SAS-based",
    }});
    t.check("PUT", "/2/0/integrations/connections/{id}", 200, t.anaplan(Method::PUT, &p).json(&conn)).await;
    let mut weak = conn.clone();
    weak["body"]["sasToken"] = json!(sas.replace("sp=rwl", "sp=r"));
    t.check("PUT", "/2/0/integrations/connections/{id}", 400, t.anaplan(Method::PUT, &p).json(&weak)).await;

    // ------------------------------------------------------------ SCIM
    let users = "/scim/1/0/v2/Users";
    let body = t.check("GET", users, 200, t.anaplan(Method::GET, &format!("{users}?startIndex=1&count=3"))).await;
    let someone = body["Resources"][1]["id"].as_str().unwrap_or_default().to_owned();
    t.check("GET", users, 400, t.anaplan(Method::GET, &format!("{users}?filter=displayName%20co%20%22x%22"))).await;
    t.check("GET", users, 401, t.bare(Method::GET, users)).await;
    // SCIM takes HTTP Basic too (the basic-auth user set above).
    let basic =
        t.bare(Method::GET, &format!("{users}?count=1")).basic_auth("legacy@example.com", Some("conformance-password"));
    t.check("GET", users, 200, basic).await;
    let one = format!("{users}/{{id}}");
    t.check("GET", &one, 200, t.anaplan(Method::GET, &format!("{users}/{someone}"))).await;
    t.check("GET", &one, 404, t.anaplan(Method::GET, &format!("{users}/0123456789abcdef0123456789abcdef"))).await;
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "conformance@example.com",
        "name": { "givenName": "Con", "familyName": "Formance" },
        "entitlements": [{ "value": WS_FPA_ID, "type": "WORKSPACE" }],
    });
    let scim = |b: RequestBuilder, v: &Value| b.header("content-type", "application/scim+json").body(v.to_string());
    let body = t.check("POST", users, 201, scim(t.anaplan(Method::POST, users), &user)).await;
    let new_id = body["id"].as_str().unwrap_or_default().to_owned();
    t.check("POST", users, 409, scim(t.anaplan(Method::POST, users), &user)).await;
    let mut replaced = user.clone();
    replaced["name"]["familyName"] = json!("Replaced");
    t.check("PUT", &one, 200, scim(t.anaplan(Method::PUT, &format!("{users}/{new_id}")), &replaced)).await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "path": "active", "value": false }],
    });
    t.check("PATCH", &one, 200, scim(t.anaplan(Method::PATCH, &format!("{users}/{new_id}")), &patch)).await;
    t.check("DELETE", &one, 501, t.anaplan(Method::DELETE, &format!("{users}/{new_id}"))).await;

    // ------------------------------------------------------------ Audit
    let events = "/audit/api/1/events";
    t.check("GET", events, 200, t.anaplan(Method::GET, &format!("{events}?type=all&limit=5"))).await;
    t.check("GET", events, 200, t.anaplan(Method::GET, &format!("{events}?type=int&offset=5&limit=5"))).await;
    t.check("GET", events, 200, t.anaplan(Method::GET, &format!("{events}?type=no_such_type&limit=1"))).await;
    let cef =
        t.anaplan(Method::GET, &format!("{events}?type=conn_mgmt&intervalInHours=24")).header("accept", "text/plain");
    let lines = t.check("GET", events, 200, cef).await;
    if !lines.as_str().is_some_and(|l| l.lines().all(|l| l.contains("  CEF:0|Anaplan, Inc.||null|CONN-"))) {
        t.errs.push(format!("CEF lines: {lines}"));
    }
    t.check("GET", events, 400, t.anaplan(Method::GET, &format!("{events}?intervalInHours=721"))).await;
    let bearer = t.bare(Method::GET, events).bearer_auth(&t.token);
    t.check("GET", events, 401, bearer).await;
    let search = "/audit/api/1/events/search";
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let window = json!({ "from": now - 3 * 86_400_000, "to": now });
    let body = t
        .check(
            "POST",
            search,
            200,
            t.anaplan(Method::POST, &format!("{search}?type=user_activity&limit=5")).json(&window),
        )
        .await;
    if body["meta"]["paging"]["currentPageSize"] != json!(5) {
        t.errs.push(format!("audit search paging: {}", body["meta"]));
    }
    let hours = t.anaplan(Method::POST, search).json(&json!({ "interval": 24 })).header("accept", "text/plain");
    t.check("POST", search, 200, hours).await;
    t.check("POST", search, 200, t.anaplan(Method::POST, search)).await;
    t.check("POST", search, 400, t.anaplan(Method::POST, search).json(&json!({ "interval": 721 }))).await;
    let both = json!({ "from": now - 86_400_000, "interval": 2 });
    t.check("POST", search, 400, t.anaplan(Method::POST, search).json(&both)).await;
    let wide = json!({ "from": now - 31 * 86_400_000, "to": now });
    t.check("POST", search, 400, t.anaplan(Method::POST, search).json(&wide)).await;
    t.check("POST", search, 400, t.anaplan(Method::POST, search).json(&json!({ "dateFrom": now }))).await;
    t.check("POST", search, 401, t.bare(Method::POST, search).bearer_auth(&t.token).json(&window)).await;

    // ------------------------------------------------------------ Exception Users
    let search = "/admin/1/0/permissions/exception-users/search";
    t.check("POST", search, 200, t.anaplan(Method::POST, search).json(&json!({ "workspaceGuid": WS_FPA_ID }))).await;
    let by_user = json!({ "userGuid": scim_user(EXCEPTION_USER_SEED).id });
    t.check("POST", search, 200, t.anaplan(Method::POST, search).json(&by_user)).await;
    t.check("POST", search, 400, t.anaplan(Method::POST, search).json(&json!({}))).await;
    t.check("POST", search, 400, t.bare(Method::POST, search).bearer_auth(&t.token).json(&by_user)).await;
    let dead = t.bare(Method::POST, search).header("authorization", "AnaplanAuthToken no-such-token");
    t.check("POST", search, 401, dead.json(&by_user)).await;
    let unknown = json!({ "workspaceGuid": "0123456789abcdef0123456789abcdef" });
    t.check("POST", search, 404, t.anaplan(Method::POST, search).json(&unknown)).await;
    let users = "/admin/1/0/permissions/exception-users/users/{user}";
    let target = fill(users, &[&scim_user(6).id]);
    let assign = json!({ "op": "assign", "workspaceGuid": WS_FPA_ID });
    t.check("PATCH", users, 204, t.anaplan(Method::PATCH, &target).json(&assign)).await;
    t.check("PATCH", users, 400, t.anaplan(Method::PATCH, &target).json(&json!({ "op": "grant" }))).await;
    let own = fill(users, &[USER_ID]);
    t.check("PATCH", users, 403, t.anaplan(Method::PATCH, &own).json(&assign)).await;
    let nobody = fill(users, &["0123456789abcdef0123456789abcdef"]);
    t.check("PATCH", users, 404, t.anaplan(Method::PATCH, &nobody).json(&assign)).await;
    t.check("PATCH", users, 401, dead_patch(&t, &target).json(&assign)).await;

    // ------------------------------------------------------------ Administration
    let export = "/admin/1/0/users/export";
    let csv = t.anaplan(Method::GET, &format!("{export}?Limit=10&Offset=1")).header("accept", "text/csv");
    let text = t.check("GET", export, 200, csv).await;
    if !text
        .as_str()
        .is_some_and(|c| c.starts_with("username,first_name,last_name,licenses") && c.lines().count() == 11)
    {
        t.errs.push(format!("users export: {text}"));
    }
    t.check("GET", export, 401, t.bare(Method::GET, export).bearer_auth(&t.token)).await;
    let import = "/admin/1/0/users/import";
    let body = t
        .check(
            "PUT",
            import,
            207,
            users_file(&t, "username,first_name,last_name,licenses\nnew.hire@example.com,New,Hire,Standard\nbad,No,Email,Standard\n"),
        )
        .await;
    if body["created"] != json!(1) || body["errors"][0]["line"] != json!(2) {
        t.errs.push(format!("users import: {body}"));
    }
    t.check("PUT", import, 400, users_file(&t, "username,first_name,last_name,licenses\n")).await;
    fake.set_admin_roles(true, false);
    t.check("PUT", import, 403, users_file(&t, "username,first_name,last_name,licenses\na@example.com,A,B,Standard\n"))
        .await;
    t.check("GET", export, 403, t.anaplan(Method::GET, export)).await;
    fake.set_admin_roles(true, true);
    let dead = t.bare(Method::GET, export).header("authorization", "AnaplanAuthToken no-such-token");
    t.check("GET", export, 401, dead).await;
    t.check("PUT", import, 401, t.bare(Method::PUT, import).bearer_auth(&t.token)).await;
    let dead = t.bare(Method::PUT, import).header("authorization", "AnaplanAuthToken no-such-token");
    t.check("PUT", import, 401, dead).await;

    // ------------------------------------------------------------ coverage
    let uncovered: Vec<String> = t
        .ops
        .iter()
        .filter(|o| !t.covered.contains(&(o.method.to_owned(), o.template.to_owned())))
        .map(|o| format!("{} {}", o.method, o.template))
        .collect();
    assert!(uncovered.is_empty(), "operations the tour never checked: {uncovered:#?}");
    assert!(t.errs.is_empty(), "answers that disagree with the description:\n{}", t.errs.join("\n"));
}

#[test]
fn every_route_has_a_documented_shape_and_every_shape_a_route() {
    let routes = Emulator::route_table();
    assert!(routes.len() > 50, "the route table reads the router: {routes:?}");
    let ops = operations();
    let documented: BTreeSet<(String, String)> =
        ops.iter().map(|o| (o.method.to_owned(), o.template.to_owned())).collect();
    let mut served: BTreeSet<(String, String)> = BTreeSet::new();
    let mut controls = BTreeSet::new();
    for (methods, path) in &routes {
        if path.starts_with("/_emulator/") {
            controls.insert(path.as_str());
            continue;
        }
        for m in methods.iter().filter(|m| *m != "HEAD") {
            served.insert((m.clone(), path.clone()));
        }
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes without a shape in crates/anaplan-emulator/tests/support/operations.rs: {undocumented:#?}"
    );
    let gone: Vec<_> = documented.difference(&served).collect();
    assert!(gone.is_empty(), "shapes of routes the emulator no longer serves: {gone:#?}");
    let known: BTreeSet<&str> = CONTROLS.iter().copied().collect();
    assert_eq!(controls, known, "the emulator's controls changed: document the new one here and in control.rs");
}

// ---------------------------------------------------------------------- model states

#[tokio::test]
async fn a_model_in_each_state_answers_as_that_state() {
    let api = crate::support::emulator_api::EmulatorApi::start().await;
    let fake = &api.fake;
    fake.set_action_timing(PROCESS_NIGHTLY_ID, Duration::ZERO, Duration::ZERO);
    let start = |s: &crate::support::emulator_api::EmulatorApi| {
        s.req(
            Method::POST,
            &format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/processes/{PROCESS_NIGHTLY_ID}/tasks"),
        )
        .json(&json!({ "localeName": "en_US" }))
    };
    let read = |s: &crate::support::emulator_api::EmulatorApi| {
        s.req(Method::GET, &format!("models/{MODEL_REVENUE_ID}/views/{VIEW_REGIONS_ID}/data"))
            .header("accept", "text/csv")
    };
    // (state, task start, view data read): the emulator's choices where the description is
    // silent (README, "The emulator and live Anaplan").
    let cases = [
        ("UNLOCKED", 200, 200),
        ("PRODUCTION", 200, 200),
        ("MAINTENANCE", 200, 200),
        ("PRODUCTION_MAINTENANCE", 200, 200),
        ("OFFLINE", 200, 200),
        ("LOCKED", 423, 200),
        ("ARCHIVED", 422, 422),
        ("SOME_NEW_STATE", 200, 200),
    ];
    for (state, want_start, want_read) in cases {
        fake.set_model_state(MODEL_REVENUE_ID, state);
        let (status, model) = api.send(api.req(Method::GET, &format!("models/{MODEL_REVENUE_ID}"))).await;
        assert_eq!((status, model["model"]["activeState"].as_str()), (200, Some(state)), "{model}");
        let (status, body) = api.send(start(&api)).await;
        assert_eq!(status, want_start, "task start in {state}: {body}");
        if status != 200 {
            assert_eq!(body["status"]["code"], json!(want_start), "Anaplan's error shape: {body}");
        }
        let (status, body) = api.send(read(&api)).await;
        assert_eq!(status, want_read, "view read in {state}: {body}");
        // Let the started task end before the next state's start (the model is not busy).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The HTTP control does the same, and refuses what is not a state or a model.
    let control =
        |q: String| reqwest::Client::new().post(format!("{}/_emulator/model-state?{q}", fake.base_url())).send();
    assert_eq!(control(format!("modelId={MODEL_REVENUE_ID}&activeState=LOCKED")).await.unwrap().status(), 204);
    assert_eq!(api.send(start(&api)).await.0, 423);
    assert_eq!(control(format!("modelId={MODEL_REVENUE_ID}&activeState=not%20a%20state")).await.unwrap().status(), 400);
    assert_eq!(
        control("modelId=0123456789ABCDEF0123456789ABCDEF&activeState=LOCKED".into()).await.unwrap().status(),
        404
    );
}
