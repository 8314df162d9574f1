//! `anaplan-functions demo` as a newcomer runs it: the built binary on a free port, each
//! printed curl line called for real (method, URL, headers and body parsed out of the
//! line), then SIGTERM leaves no process and no port behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// One curl line, parsed: `[printf 'BODY' |] curl -sS [-X M] 'URL' [-H 'K: V'] [-d 'BODY' | --data-binary @-]`.
#[derive(Debug)]
struct Call {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// Splits a shell line into words: single quotes group, nothing else is special.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for ch in line.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

fn parse(line: &str) -> Call {
    let (piped, command) = match line.split_once(" | ") {
        Some((printf, curl)) => {
            let w = words(printf);
            assert_eq!(w[0], "printf", "{line}");
            (Some(w[1].replace("\\n", "\n").into_bytes()), curl)
        }
        None => (None, line),
    };
    let w = words(command);
    assert_eq!(w[0], "curl", "{line}");
    let mut call = Call { method: "GET".into(), url: String::new(), headers: Vec::new(), body: None };
    let mut i = 1;
    while i < w.len() {
        match w[i].as_str() {
            "-sS" => {}
            "-X" => {
                i += 1;
                call.method = w[i].clone();
            }
            "-H" => {
                i += 1;
                let (k, v) = w[i].split_once(": ").unwrap_or_else(|| panic!("header {}", w[i]));
                call.headers.push((k.into(), v.into()));
            }
            "-d" => {
                i += 1;
                call.body = Some(w[i].clone().into_bytes());
            }
            "--data-binary" => {
                i += 1;
                assert_eq!(w[i], "@-", "{line}");
                call.body = Some(piped.clone().expect("a piped body"));
            }
            url if url.starts_with("http://") => call.url = url.into(),
            other => panic!("unexpected curl word {other:?} in {line}"),
        }
        i += 1;
    }
    assert!(!call.url.is_empty(), "{line}");
    call
}

/// The demo process, killed when the test ends, passed or not.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A demo started with `args`, its intro read up to the "Ctrl-C" line.
struct Started {
    demo: Running,
    port: u16,
    emulator_port: Option<u16>,
    /// Every intro line.
    intro: Vec<String>,
    /// The function of each curl line, in order.
    functions: Vec<String>,
    calls: Vec<Call>,
}

fn start_demo(args: &[&str]) -> Started {
    let port = free_port();
    let mut demo = Running(
        Command::new(env!("CARGO_BIN_EXE_anaplan-functions"))
            .args(["demo", "--port", &port.to_string()])
            .args(args)
            .env_remove("AzureWebJobsStorage")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(demo.0.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("a first line").unwrap();
    assert_eq!(ready, format!("READY http://127.0.0.1:{port}"));
    let mut started =
        Started { demo, port, emulator_port: None, intro: Vec::new(), functions: Vec::new(), calls: Vec::new() };
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("emulator") {
            let url = rest.split_whitespace().next().unwrap();
            started.emulator_port = Some(url.rsplit(':').next().unwrap().parse::<u16>().unwrap());
        }
        if let Some(comment) = line.strip_prefix("# ") {
            started.functions.push(comment.split(':').next().unwrap().to_owned());
        }
        if line.starts_with("curl ") || line.starts_with("printf ") {
            started.calls.push(parse(&line));
        }
        let end = line.starts_with("Ctrl-C");
        started.intro.push(line);
        if end {
            break;
        }
    }
    started
}

/// Each call made for real; every one must answer 200. (content type, body) of each.
async fn call_each(calls: &[Call]) -> Vec<(String, bytes::Bytes)> {
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for call in calls {
        let mut req = http.request(call.method.parse().unwrap(), &call.url).timeout(Duration::from_secs(60));
        for (k, v) in &call.headers {
            req = req.header(k, v);
        }
        if let Some(b) = &call.body {
            req = req.body(b.clone());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = resp.bytes().await.unwrap();
        assert_eq!(status, 200, "{call:?} answered {status}: {}", String::from_utf8_lossy(&body));
        answers.push((content_type, body));
    }
    answers
}

#[tokio::test]
async fn demo_answers_every_curl_line_for_real_and_stops_on_sigterm() {
    let Started { mut demo, port, emulator_port, intro, functions, calls } = start_demo(&[]);
    let child = &mut demo.0;
    assert!(intro.iter().any(|l| l.contains("OAuth, rotating refresh tokens")), "{intro:?}");
    assert_eq!(
        functions,
        [
            "get-view-data",
            "run-process",
            "export-file",
            "import-file",
            "list-objects",
            "write-cells",
            "list-items",
            "run-integration",
            "users",
            "audit-events",
            "model-state",
            "model-calendar",
            "versions",
            "run-action",
            "cloudworks",
            "revisions",
            "sync-model",
            "exception-users",
            "tenant-users",
            "access-review",
            "describe",
            "dimension-items",
            "health"
        ]
    );
    assert_eq!(sorted(&functions), http_functions(), "demo prints one curl line per HTTP function");
    assert_eq!(calls.len(), functions.len(), "one curl line per function");

    let http = reqwest::Client::new();
    let answers = call_each(&calls).await;
    let json = |i: usize| -> Value { serde_json::from_slice(&answers[i].1).unwrap() };
    let view = json(0);
    assert_eq!(view["view"]["name"], "REV01 Price Book");
    assert_eq!(view["rows"][0]["Jan 26 | Price"], 64.6, "{view}");
    let process = json(1);
    assert_eq!((process["taskState"].as_str(), process["successful"].as_bool()), (Some("COMPLETE"), Some(true)));
    assert!(answers[2].0.starts_with("text/csv"), "{}", answers[2].0);
    let csv = String::from_utf8(answers[2].1.to_vec()).unwrap();
    assert!(csv.starts_with("Product,Region,Month,Price\n") && csv.contains("Widget,North,Jan 26,64.6"), "{csv}");
    let import = json(3);
    assert_eq!(import["rows"]["processed"], 2, "{import}");
    assert_eq!(import["rows"]["failed"], 0, "{import}");
    let models = json(4);
    assert!(models.as_array().unwrap().iter().any(|m| m["name"] == "Revenue Plan"), "{models}");
    let written = json(5);
    assert_eq!((written["cellsChanged"].as_u64(), written["batches"].as_u64()), (Some(2), Some(1)), "{written}");
    let items = json(6);
    assert_eq!(items["list"]["name"], "Cost Centres", "{items}");
    assert!(items["items"].as_array().is_some_and(|i| !i.is_empty()), "{items}");
    let run = json(7);
    assert_eq!(run["success"], true, "{run}");
    assert!(run["runId"].as_str().is_some_and(|id| id.len() == 32), "{run}");
    let users = json(8);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    assert_eq!(users[0]["userName"], "user001@example.com", "{users}");
    let audit = json(9);
    assert!(audit["events"].as_array().is_some_and(|e| !e.is_empty()), "{audit}");
    let state = json(10);
    assert_eq!((state["model"]["name"].as_str(), state["online"].as_bool()), (Some("Revenue Plan"), Some(true)));
    let calendar = json(11);
    assert!(calendar["currentPeriod"]["periodText"].is_string(), "{calendar}");
    let versions = json(12);
    assert!(versions.as_array().is_some_and(|v| v.iter().any(|v| v["name"] == "Actual")), "{versions}");
    let action = json(13);
    assert_eq!((action["taskState"].as_str(), action["successful"].as_bool()), (Some("COMPLETE"), Some(true)));
    let schedule = json(14);
    assert_eq!(
        (schedule["type"].as_str(), schedule["status"].as_str()),
        (Some("weekly"), Some("Active")),
        "{schedule}"
    );
    let syncable = json(15);
    assert_eq!(
        syncable.as_array().map(|r| r.iter().map(|r| r["name"].as_str().unwrap_or("")).collect::<Vec<_>>()),
        Some(vec!["2026.2 Territories"]),
        "{syncable}"
    );
    let synced = json(16);
    assert_eq!(
        (synced["taskState"].as_str(), synced["successful"].as_bool()),
        (Some("COMPLETE"), Some(true)),
        "{synced}"
    );
    let exception = json(17);
    assert_eq!(
        exception.as_array().map(|r| r.iter().map(|r| r["email"].as_str().unwrap_or("")).collect::<Vec<_>>()),
        Some(vec!["user003@example.com"]),
        "{exception}"
    );
    assert!(answers[18].0.starts_with("text/csv"), "{}", answers[18].0);
    assert!(answers[18].1.starts_with(b"username,first_name,last_name,licenses"));
    let access = json(functions.iter().position(|f| f == "access-review").unwrap());
    assert_eq!(
        access.as_array().map(|r| r.iter().map(|r| (r["email"].as_str(), r["role"].as_str())).collect::<Vec<_>>()),
        Some(vec![
            (Some("integration@example.com"), Some("admin")),
            (Some("user001@example.com"), Some("admin")),
            (Some("user004@example.com"), Some("admin")),
            (Some("user003@example.com"), Some("visitor")),
            (Some("user005@example.com"), Some("visitor")),
            (Some("user009@example.com"), Some("visitor")),
        ]),
        "{access}"
    );

    let schema = json(functions.iter().position(|f| f == "describe").unwrap());
    assert_eq!(schema["properties"]["Units"]["type"], "number", "{schema}");
    assert_eq!(schema["additionalProperties"], false, "{schema}");
    let lookup = json(functions.iter().position(|f| f == "dimension-items").unwrap());
    assert_eq!(
        lookup,
        serde_json::json!({
            "found": [{"id": "203000000001", "name": "North", "code": "R01"}, {"id": "203000000002", "name": "South", "code": "R02"}],
            "missing": {"names": ["Atlantis"], "codes": []},
        }),
        "{lookup}"
    );
    // The demo's own sign-in is healthy; it has no vault and no storage account.
    let health = json(functions.iter().position(|f| f == "health").unwrap());
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["auth"]["method"], "oauth", "{health}");
    assert!(health["auth"]["lastRefresh"].is_string(), "the demo's calls refreshed the chain: {health}");
    assert_eq!(
        (&health["keyVault"], &health["storage"]),
        (&serde_json::json!("not configured"), &serde_json::json!("not configured"))
    );

    // The onboard line: a browser signs the demo in to its emulator (cookie sent by hand),
    // which starts a new chain, and the functions go on working with it.
    let onboard = intro.iter().find_map(|l| l.trim().strip_prefix("onboard")).expect("an onboard line").trim();
    let (onboard_url, what) = onboard.split_once("  ").unwrap();
    assert_eq!(onboard_url, format!("http://127.0.0.1:{port}/api/onboard"));
    assert!(what.contains("sign the app in to Anaplan in a browser"), "{what}");
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(onboard_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let link = html.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let to_anaplan = browser.get(&link).send().await.unwrap();
    assert_eq!(to_anaplan.status(), 302, "{}", to_anaplan.text().await.unwrap());
    let back = to_anaplan.headers()["location"].to_str().unwrap().to_owned();
    let done = browser.get(&back).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Signed in to Anaplan as"));
    call_each(&calls[..1]).await;

    // Without a storage account, Idempotency-Key says how to add one.
    let resp = http
        .post(&calls[1].url)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "demo-1")
        .body(calls[1].body.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value = resp.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("AzureWebJobsStorage"), "{problem}");

    // A query string over 64 KB is refused before any handler runs, still as problem+json.
    // (Raw HTTP: client libraries refuse to send such a URI at all.)
    let answer = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let target = format!("/api/get-view-data?x={}", "a".repeat(70 * 1024));
        write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(head.starts_with("HTTP/1.1 414 "), "{head}");
    assert!(head.contains("content-type: application/problem+json"), "{head}");
    assert_eq!(serde_json::from_str::<Value>(body).unwrap()["status"], 414, "{body}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = exited else {
        panic!("demo did not stop within 5 s of SIGTERM");
    };
    assert!(status.success(), "demo exits cleanly: {status}");
    let emulator_port = emulator_port.expect("the emulator's address is printed");
    for p in [port, emulator_port] {
        assert!(std::net::TcpStream::connect(("127.0.0.1", p)).is_err(), "port {p} still accepts connections");
    }
}

/// The HTTP functions, sorted (the timer has no curl line).
fn http_functions() -> Vec<String> {
    // Timers and browser pages (onboard: its own intro line) have no curl line.
    let timer = |f: &&&anaplan_functions::machinery::declare::Function| {
        !matches!(f.trigger, anaplan_functions::machinery::declare::Trigger::Http { .. })
    };
    sorted(
        &anaplan_functions::functions::FUNCTIONS
            .iter()
            .filter(|f| !timer(f))
            .map(|f| f.name.to_owned())
            .collect::<Vec<_>>(),
    )
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut names = names.to_vec();
    names.sort();
    names
}

/// `demo --auth certificate`: the functions log in as the emulator's demo certificate user,
/// and every printed line still answers.
#[tokio::test]
async fn demo_with_certificate_auth_answers_every_curl_line() {
    let started = start_demo(&["--auth", "certificate"]);
    let intro = &started.intro;
    assert!(intro.iter().any(|l| l.contains("certificate login (v2)")), "{intro:?}");
    assert_eq!(sorted(&started.functions), http_functions(), "{intro:?}");
    assert_eq!(started.calls.len(), started.functions.len(), "{intro:?}");
    let answers = call_each(&started.calls).await;
    let view: Value = serde_json::from_slice(&answers[0].1).unwrap();
    assert_eq!(view["view"]["name"], "REV01 Price Book", "{view}");
    let users: Value = serde_json::from_slice(&answers[8].1).unwrap();
    assert_eq!(users[0]["userName"], "user001@example.com", "{users}");
}

#[test]
fn the_curl_parser_reads_what_demo_prints() {
    let call = parse(
        "printf 'a,b\\n1,2\\n' | curl -sS -X POST 'http://127.0.0.1:1/api/import-file?x=1' -H 'Content-Type: text/csv' --data-binary @-",
    );
    assert_eq!(call.method, "POST");
    assert_eq!(call.url, "http://127.0.0.1:1/api/import-file?x=1");
    assert_eq!(call.headers, [("Content-Type".to_owned(), "text/csv".to_owned())]);
    assert_eq!(call.body.as_deref(), Some(&b"a,b\n1,2\n"[..]));
    let call = parse("curl -sS -X POST 'http://h/api/run-process' -d '{\"a\":\"FP&A Planning\"}'");
    assert_eq!(call.body.as_deref(), Some(&b"{\"a\":\"FP&A Planning\"}"[..]));
}
