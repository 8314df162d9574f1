//! Bodies are refused early by method and size: straight to the handler over raw HTTP (the
//! host harness buffers bodies, as the real host does), a body that is too large, or that
//! comes with a method that takes none, is answered from its `Content-Length` before a byte
//! of it is sent, and a chunked one as soon as it passes the limit.

use std::time::Duration;

use crate::support::app::App;
use anaplan_emulator::seed::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long an answer may take: the body never arrives, so only an early answer comes.
const PROMPT: Duration = Duration::from_secs(20);

async fn connect(app: &App) -> TcpStream {
    let addr = app.host.handler_url().trim_start_matches("http://").to_owned();
    TcpStream::connect(addr).await.unwrap()
}

/// Reads one answer: its status, its head and its body (by its Content-Length).
async fn answer(stream: &mut (impl AsyncReadExt + Unpin)) -> (u16, String, Value) {
    let read = async {
        let mut got: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    let status = head[9..12].parse().unwrap();
                    let body = serde_json::from_slice(&got[end + 4..end + 4 + length]).unwrap();
                    return (status, head, body);
                }
            }
            let n = stream.read(&mut buf).await.expect("the answer arrives before the connection closes");
            assert!(n > 0, "the connection closed before a whole answer: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(PROMPT, read).await.expect("answered without waiting for the body")
}

fn assert_problem(head: &str, body: &Value, status: u16) {
    assert!(head.contains("content-type: application/problem+json"), "{head}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["detail"].is_string(), "{body}");
}

#[tokio::test]
async fn a_declared_length_above_the_limit_is_a_413_before_the_body_is_sent() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    for (path, length, expect) in [
        // write-cells reads up to the host's 100 MB.
        (format!("/api/write-cells?{scope}&moduleId={MODULE_SALES_INPUT_ID}"), 200 * 1024 * 1024, false),
        // run-process takes a small JSON body of parameters: at most 1 MiB. With
        // `Expect: 100-continue` the 413 comes instead of the `100 Continue`.
        (format!("/api/run-process?{scope}&processId={PROCESS_NIGHTLY_ID}"), 2 * 1024 * 1024, true),
    ] {
        let mut s = connect(&app).await;
        let expect = if expect { "Expect: 100-continue\r\n" } else { "" };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{expect}\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(b"{\"rows\": [").await.unwrap();
        let (status, head, body) = answer(&mut s).await;
        assert_eq!(status, 413, "{head}");
        assert_problem(&head, &body, 413);
        assert!(body["detail"].as_str().unwrap().contains(&length.to_string()), "{body}");
    }
    assert!(app.fake.requests().is_empty(), "nothing reached Anaplan");
}

#[tokio::test]
async fn a_body_on_get_or_delete_is_a_400_before_it_is_sent() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}");
    for (method, path) in [
        ("GET", format!("/api/list-items?{scope}&listId={LIST_COST_CENTRES_ID}")),
        // import-file's body is a file, so its GET (the status URL) used to ignore one.
        (
            "GET",
            format!("/api/import-file?{scope}&importId={IMPORT_PRODUCTS_ID}&taskId=1B1D84DDD53847BAA621810B593C3FC1"),
        ),
        (
            "DELETE",
            format!("/api/run-process?{scope}&processId={PROCESS_NIGHTLY_ID}&taskId=1B1D84DDD53847BAA621810B593C3FC1"),
        ),
    ] {
        let mut s = connect(&app).await;
        let head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        let (status, head, body) = answer(&mut s).await;
        assert_eq!(status, 400, "{method} {path}: {head}");
        assert_problem(&head, &body, 400);
        assert!(body["detail"].as_str().unwrap().contains(&format!("{method} takes no body")), "{body}");
    }
    assert!(app.fake.requests().is_empty(), "nothing reached Anaplan");
}

#[tokio::test]
async fn a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() {
    let app = App::start().await;
    let path =
        format!("/api/run-process?workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&processId={PROCESS_NIGHTLY_ID}");
    let cases = [("POST", 413, "at most 1048576 bytes"), ("GET", 400, "GET takes no body")];
    for (method, want, says) in cases {
        let s = connect(&app).await;
        let (mut read, mut write) = s.into_split();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        write.write_all(head.as_bytes()).await.unwrap();
        // Up to 4 MiB in 64 KiB chunks, never the terminating chunk; the writer stops when
        // the handler has answered and closed.
        let writer = tokio::spawn(async move {
            let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
            for _ in 0..64 {
                if write.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
            }
            write
        });
        let (status, head, body) = answer(&mut read).await;
        assert_eq!(status, want, "{head}");
        assert_problem(&head, &body, want);
        assert!(body["detail"].as_str().unwrap().contains(says), "{body}");
        writer.abort();
    }
    assert!(app.fake.requests().is_empty(), "nothing reached Anaplan");
}

#[tokio::test]
async fn page_selectors_are_bounded_before_any_work() {
    let app = App::start().await;
    let scope = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_PRICE_BOOK_ID}");
    let pairs = |n: usize| (0..n).map(|i| format!("{}:{}", 101000000000u64 + i as u64, 1)).collect::<Vec<_>>();
    // 101 pairs in the query string, and a million malformed ones in a POST body (1 MiB
    // at most): a 400 naming the bound, before Anaplan is asked anything.
    let resp = app.get("get-view-data", &format!("{scope}&pages={}", pairs(101).join(","))).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("at most 100"), "{body}");
    let many = ",".repeat(500_000) + &"x,".repeat(250_000);
    let resp = app.post("get-view-data", &scope, &serde_json::json!({ "pages": many })).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 400, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("at most 100") && detail.len() < 400, "{detail}");
    assert!(app.fake.requests().is_empty(), "nothing reached Anaplan");
}
