//! The Logic Apps asynchronous pattern: a start request answers 202 Accepted with an
//! absolute `Location` (the status check on the same function, carrying everything needed
//! to find the task, so any instance can answer it) and `Retry-After`; polls answer 202
//! until the task is done, then the final answer.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use url::Url;

use super::{Call, Problem, ProblemType, ROUTE_PREFIX};
use anaplan::tasks::{Task, TaskState};

/// Longest `wait` a caller may ask for, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 100;

/// The status URL of a task: `<scheme>://<public host>/api/<function>?<params>&code=<key>`.
/// The scheme comes from `X-Forwarded-Proto` when present (else `https`, or `http` for a
/// loopback host); the host from `Host`, or from `X-Forwarded-Host` only when its value is
/// listed in `FORWARDED_HOSTS` (a front end the admin trusts), so a caller cannot make the
/// URL that carries its function key point at another host. The caller's function key is
/// carried as `code` when the call had one, so the poll passes the host's key check.
pub fn status_url(call: &Call, function: &str, params: &[(&str, &str)]) -> Result<String, Problem> {
    let (scheme, host) = public_origin(&call.headers, &call.forwarded_hosts)?;
    let mut url = Url::parse(&format!("{scheme}://{host}{ROUTE_PREFIX}{function}"))
        .map_err(|e| Problem::bad_parameter(format!("the Host header does not make a URL: {e}")))?;
    let key = function_key(call);
    if !params.is_empty() || key.is_some() {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(key) = key {
            q.append_pair("code", &key);
        }
    }
    Ok(url.to_string())
}

fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The public scheme and host of a request (see [`status_url`]).
pub(crate) fn public_origin(headers: &HeaderMap, forwarded_hosts: &[String]) -> Result<(String, String), Problem> {
    let host = first_value(headers, "x-forwarded-host")
        .filter(|h| forwarded_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(h)))
        .or_else(|| first_value(headers, header::HOST.as_str()))
        .ok_or_else(|| Problem::bad_parameter("the request has no Host header, so no status URL can be built"))?;
    // Only a bare host[:port] may go into the URL: anything else could redirect a poll.
    let parsed = Url::parse(&format!("http://{host}/"))
        .ok()
        .filter(|u| u.username().is_empty() && u.password().is_none() && u.path() == "/" && u.host_str().is_some())
        .filter(|_| !host.contains(['/', '?', '#', '@', '\\']))
        .ok_or_else(|| {
            Problem::bad_parameter(format!("the Host header {} is not a host name", anaplan::untrusted::quote(&host)))
        })?;
    let loopback = crate::loopback::is_loopback(&parsed);
    let scheme = match first_value(headers, "x-forwarded-proto").map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == "http" || s == "https" => s,
        _ if loopback => "http".to_owned(),
        _ => "https".to_owned(),
    };
    Ok((scheme, host))
}

/// The caller's function key (query `code` or header `x-functions-key`).
fn function_key(call: &Call) -> Option<String> {
    let from_query = url::form_urlencoded::parse(call.query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned());
    from_query
        .or_else(|| call.headers.get("x-functions-key").and_then(|v| v.to_str().ok()).map(str::to_owned))
        .filter(|k| !k.is_empty())
}

/// 202 Accepted for a task that is still running.
pub fn accepted(status_url: &str, retry_after: u64, task: &Task) -> Response {
    let body = json!({ "taskId": task.id.as_str(), "taskState": task.state.as_str(), "statusUrl": status_url });
    accepted_with(status_url, retry_after, body)
}

/// 202 Accepted with `body`, `Location: status_url` and `Retry-After`: every 202 of the
/// asynchronous pattern.
pub fn accepted_with(status_url: &str, retry_after: u64, body: serde_json::Value) -> Response {
    let mut resp = (StatusCode::ACCEPTED, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    match HeaderValue::from_str(status_url) {
        Ok(v) => {
            h.insert(header::LOCATION, v);
        }
        Err(_) => tracing::warn!("status URL is not a valid header value"),
    }
    resp
}

/// 202 Accepted for a task whose status Anaplan did not tell in this answer's time: the
/// same Location, `taskState` `UNKNOWN`, so the caller polls again.
pub fn accepted_unknown(status_url: &str, retry_after: u64, task: &anaplan::ids::TaskId) -> Response {
    let body = json!({ "taskId": task.as_str(), "taskState": "UNKNOWN", "statusUrl": status_url });
    accepted_with(status_url, retry_after, body)
}

/// 202 Accepted for a task that has finished but whose file is still being moved (or an
/// import whose file is still being uploaded): `transfer` says how far it got.
pub fn accepted_transfer(
    status_url: &str,
    retry_after: u64,
    task: Option<&Task>,
    transfer: serde_json::Value,
) -> Response {
    let body = json!({
        "taskId": task.map(|t| t.id.as_str()),
        "taskState": task.map(|t| t.state.as_str()).unwrap_or(TaskState::NotStarted.as_str()),
        "statusUrl": status_url,
        "transfer": transfer,
    });
    accepted_with(status_url, retry_after, body)
}

/// The `wait` parameter: seconds to hold a start or poll for the final answer.
pub fn wait_param(value: Option<&str>) -> Result<Duration, Problem> {
    match value {
        None => Ok(Duration::ZERO),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n <= MAX_WAIT_SECONDS => Ok(Duration::from_secs(n)),
            _ => Err(Problem::bad_parameter(format!(
                "wait must be whole seconds from 0 to {MAX_WAIT_SECONDS}; got {}",
                anaplan::untrusted::quote(v)
            ))),
        },
    }
}

/// How long before the answer deadline a held answer is given at the latest: room for the
/// last status check and the answer itself.
pub const HOLD_MARGIN: Duration = Duration::from_secs(10);

/// When a request holding for `wait` must answer: `wait` after the request ARRIVED (so
/// the time a start already took counts), and never later than [`HOLD_MARGIN`] before
/// the answer deadline, so a start never ends in a 504 without its task id.
pub fn hold_until(call: &Call, wait: Duration) -> Instant {
    let latest = call.deadline.checked_sub(HOLD_MARGIN).unwrap_or(call.received).max(call.received);
    (call.received + wait).min(latest)
}

/// The first pause of a hold: short, so that work which finishes within a second (a small
/// export, a copy that is nearly done) is answered then, not a whole interval later.
const FIRST_PAUSE: Duration = Duration::from_millis(250);

/// Polls `refresh` until `done` or `until`, pausing [`FIRST_PAUSE`] first and twice as long
/// each time after, up to `interval`; returns the last state seen. A status check that
/// fails transiently (429, 5xx) or does not finish by `until` ends the hold with the last
/// state: the task is running, and its status URL still works, which
/// is worth more to the caller than an error that loses the task id.
pub async fn hold<T, F, Fut>(
    mut item: T,
    until: Instant,
    interval: Duration,
    done: impl Fn(&T) -> bool,
    mut refresh: F,
) -> Result<T, Problem>
where
    F: FnMut(&T) -> Fut,
    Fut: Future<Output = Result<T, Problem>>,
{
    let mut pause = FIRST_PAUSE.min(interval);
    while !done(&item) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        tokio::time::sleep(pause.min(until - now)).await;
        pause = (pause * 2).min(interval);
        match tokio::time::timeout_at(until + HOLD_MARGIN / 2, refresh(&item)).await {
            Ok(Ok(next)) => item = next,
            Ok(Err(p)) if p.status() == StatusCode::TOO_MANY_REQUESTS || p.status().is_server_error() => {
                tracing::info!(
                    status = p.status().as_u16(),
                    "a status check failed while holding; answering with the last state"
                );
                break;
            }
            Ok(Err(p)) => return Err(p),
            Err(_) => break,
        }
    }
    Ok(item)
}

/// The 409 answer for a cancelled task.
pub fn cancelled(task: &Task) -> Problem {
    Problem::new(ProblemType::TaskCancelled, format!("Anaplan task {} was cancelled", task.id))
        .with("taskId", json!(task.id.as_str()))
        .with("taskState", json!(TaskState::Cancelled.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ANSWER_DEADLINE;
    use axum::body::Bytes;
    use axum::http::Method;

    fn call(headers: &[(&str, &str)], query: Option<&str>) -> Call {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        Call {
            function: "run-process",
            accepted: Vec::new(),
            body_is_file: false,
            method: Method::POST,
            headers: h,
            query: query.map(str::to_owned),
            body: Bytes::new(),
            forwarded_hosts: vec!["myapp.azurewebsites.net".to_owned()].into(),
            received: Instant::now(),
            deadline: Instant::now() + ANSWER_DEADLINE,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_counts_from_arrival_and_never_reaches_the_answer_deadline() {
        let c = call(&[], None);
        assert_eq!(hold_until(&c, Duration::from_secs(30)), c.received + Duration::from_secs(30));
        // A start that took 60 s of a wait=100: the hold ends well before the deadline.
        tokio::time::advance(Duration::from_secs(60)).await;
        let until = hold_until(&c, Duration::from_secs(MAX_WAIT_SECONDS));
        assert_eq!(until, c.received + ANSWER_DEADLINE - HOLD_MARGIN);
        let polls = std::cell::Cell::new(0u32);
        let last = hold(
            0u32,
            until,
            Duration::from_secs(5),
            |_| false,
            |n| {
                polls.set(polls.get() + 1);
                let n = *n + 1;
                async move { Ok(n) }
            },
        )
        .await
        .unwrap();
        assert!(Instant::now() <= c.received + ANSWER_DEADLINE - HOLD_MARGIN / 2);
        assert_eq!(last, polls.get());
        // 35 s left: pauses of 0.25, 0.5, 1, 2 and 4 s (7.75 s), then every 5 s (25 s),
        // then the 2.25 s that remain.
        assert_eq!(polls.get(), 11, "35 s left, pauses doubling up to 5 s");
    }

    #[tokio::test(start_paused = true)]
    async fn work_done_within_a_second_is_answered_within_a_second() {
        let c = call(&[], None);
        let started = Instant::now();
        let finish_at = started + Duration::from_millis(600);
        let state = hold(
            "running",
            hold_until(&c, Duration::from_secs(60)),
            Duration::from_secs(5),
            |s| *s == "done",
            |_| async move { Ok(if Instant::now() >= finish_at { "done" } else { "running" }) },
        )
        .await
        .unwrap();
        assert_eq!(state, "done");
        // Looked at 0.25 s and 0.75 s after the start (virtual time): not 5 s later.
        assert_eq!(Instant::now() - started, Duration::from_millis(750));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_or_hanging_status_check_ends_the_hold_with_the_last_state() {
        let c = call(&[], None);
        let until = hold_until(&c, Duration::from_secs(20));
        let unavailable = hold(
            "running",
            until,
            Duration::from_secs(1),
            |_| false,
            |_| async { Err(Problem::new(ProblemType::AnaplanUnavailable, "down")) },
        )
        .await;
        assert_eq!(unavailable.unwrap(), "running");
        let hanging = hold(
            "running",
            hold_until(&c, Duration::from_secs(40)),
            Duration::from_secs(1),
            |_| false,
            |_| std::future::pending::<Result<&str, Problem>>(),
        )
        .await;
        assert_eq!(hanging.unwrap(), "running");
        assert!(Instant::now() <= c.received + Duration::from_secs(40) + HOLD_MARGIN);
        let until = hold_until(&c, Duration::from_secs(MAX_WAIT_SECONDS));
        let refused = hold(
            "running",
            until,
            Duration::from_secs(1),
            |_| false,
            |_| async { Err::<&str, _>(Problem::bad_parameter("no")) },
        )
        .await;
        assert_eq!(refused.unwrap_err().status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn forwarded_headers_win_and_the_key_is_carried() {
        let c = call(
            &[
                ("host", "internal:7071"),
                ("x-forwarded-host", "myapp.azurewebsites.net"),
                ("x-forwarded-proto", "https"),
            ],
            Some("code=abc%2F%3D%3D&x=1"),
        );
        let url = status_url(&c, "run-process", &[("taskId", "ABC"), ("processName", "a b&c")]).unwrap();
        assert_eq!(
            url,
            "https://myapp.azurewebsites.net/api/run-process?taskId=ABC&processName=a+b%26c&code=abc%2F%3D%3D"
        );
    }

    #[test]
    fn an_x_forwarded_host_not_in_forwarded_hosts_is_ignored() {
        for evil in [
            "evil.example.com",
            "myapp.azurewebsites.net.evil.example.com",
            "evil.example.com, myapp.azurewebsites.net",
        ] {
            let c = call(&[("host", "myapp.example.com"), ("x-forwarded-host", evil), ("x-functions-key", "k")], None);
            let url = status_url(&c, "run-process", &[]).unwrap();
            assert_eq!(url, "https://myapp.example.com/api/run-process?code=k", "{evil}");
        }
        let listed = call(&[("host", "internal:7071"), ("x-forwarded-host", "MyApp.AzureWebsites.net")], None);
        assert_eq!(status_url(&listed, "x", &[]).unwrap(), "https://myapp.azurewebsites.net/api/x");
    }

    #[test]
    fn host_alone_gives_https_except_for_loopback() {
        let url = status_url(&call(&[("host", "myapp.example.com")], None), "export-file", &[]).unwrap();
        assert_eq!(url, "https://myapp.example.com/api/export-file");
        let local = status_url(&call(&[("host", "127.0.0.1:7071"), ("x-functions-key", "k")], None), "x", &[]).unwrap();
        assert_eq!(local, "http://127.0.0.1:7071/api/x?code=k");
    }

    #[test]
    fn a_host_that_is_not_a_host_is_refused() {
        for bad in ["evil.com/path", "user@evil.com", "evil.com?x", ""] {
            assert!(status_url(&call(&[("host", bad)], None), "x", &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn wait_is_bounded() {
        assert_eq!(wait_param(Some("100")).unwrap(), Duration::from_secs(100));
        assert!(wait_param(Some("101")).is_err());
        assert!(wait_param(Some("-1")).is_err());
        assert_eq!(wait_param(None).unwrap(), Duration::ZERO);
    }
}
