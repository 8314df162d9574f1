//! Timer triggers, invoked as the Functions host does for a custom handler: the JSON
//! payload format (shared/reference/azure-platform.md §1.4 C), whatever
//! `enableForwardingHttpRequest` says, since a timer has no HTTP request to forward.
//!
//! - The schedule is resolved first: `%NAME%` from the app settings (a missing setting means
//!   the host cannot index the function), then checked as NCRONTAB (5 or 6 fields).
//! - `POST http://127.0.0.1:<port>/<function>` with `Content-Type: application/json`, the
//!   host headers, and `{"Data": {"<binding>": <TimerInfo>}, "Metadata": {"sys": {...}}}`.
//! - A 2xx answer must be JSON `{"Outputs", "Logs", "ReturnValue"}` (keys bind
//!   case-insensitively); a non-2xx answer fails the invocation and its Logs are dropped.

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Value, json};

use super::FunctionsHost;
use super::front::HOST_VERSION;

/// What one timer invocation came to.
#[derive(Debug, Clone)]
pub struct TimerRun {
    /// The invocation succeeded (2xx with a valid invocation result).
    pub succeeded: bool,
    /// The handler's status.
    pub status: u16,
    /// `Logs` of the result (empty when the invocation failed: the host drops them).
    pub logs: Vec<String>,
    /// `ReturnValue` of the result.
    pub return_value: Value,
    /// The body as received.
    pub body: String,
}

fn key_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn resolve(schedule: &str, settings: &[(String, String)]) -> Result<String> {
    let value = match schedule.strip_prefix('%').and_then(|s| s.strip_suffix('%')) {
        Some(name) => settings
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| anyhow!("'%{name}%' does not resolve to a value: the host cannot index this function"))?,
        None => schedule.to_owned(),
    };
    let fields: Vec<&str> = value.split_whitespace().collect();
    ensure!(
        (5..=6).contains(&fields.len())
            && fields.iter().all(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))),
        "{value:?} is not a valid NCRONTAB expression"
    );
    Ok(value)
}

impl FunctionsHost {
    /// Fires timer `function` once, as its schedule would.
    pub async fn fire_timer(&self, function: &str) -> Result<TimerRun> {
        let timer = self
            .timers
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(function))
            .ok_or_else(|| anyhow!("no timer-triggered function {function}"))?;
        resolve(&timer.schedule, &self.settings).with_context(|| format!("function {function}"))?;
        let now = "2026-12-02T03:00:00.0000000+00:00";
        let payload = json!({
            "Data": {
                timer.binding.clone(): {
                    "Schedule": { "AdjustForDST": true },
                    "ScheduleStatus": { "Last": "2026-12-01T03:00:00+00:00", "Next": "2026-12-03T03:00:00+00:00", "LastUpdated": "2026-12-01T03:00:00+00:00" },
                    "IsPastDue": false,
                }
            },
            "Metadata": { "sys": { "MethodName": timer.name, "UtcNow": now, "RandGuid": uuid::Uuid::new_v4().to_string() } },
        });
        let resp = reqwest::Client::new()
            .post(format!("{}/{}", self.handler_url(), timer.name))
            .header("content-type", "application/json")
            .header("x-azure-functions-hostversion", HOST_VERSION)
            .header("x-azure-functions-invocationid", uuid::Uuid::new_v4().to_string())
            .header("user-agent", format!("Azure-Functions-Host/{HOST_VERSION}"))
            .body(payload.to_string())
            .send()
            .await
            .context("calling the handler")?;
        let status = resp.status().as_u16();
        let body = resp.text().await?;
        if !(200..300).contains(&status) {
            return Ok(TimerRun { succeeded: false, status, logs: Vec::new(), return_value: Value::Null, body });
        }
        let result: Value = serde_json::from_str(&body)
            .map_err(|e| anyhow!("a 2xx answer must be a JSON invocation result ({e}): {body}"))?;
        let Some(logs) = key_ci(&result, "Logs") else { bail!("the invocation result has no Logs: {body}") };
        let logs: Vec<String> = match logs {
            Value::Null => Vec::new(),
            Value::Array(items) => {
                items.iter().map(|l| l.as_str().map(str::to_owned).unwrap_or_else(|| l.to_string())).collect()
            }
            other => bail!("Logs must be an array of strings, got {other}"),
        };
        ensure!(key_ci(&result, "Outputs").is_none_or(Value::is_object), "Outputs must be an object: {body}");
        let return_value = key_ci(&result, "ReturnValue").cloned().unwrap_or(Value::Null);
        Ok(TimerRun { succeeded: true, status, logs, return_value, body })
    }
}
