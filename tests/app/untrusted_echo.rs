//! No input is echoed whole (issue 21, item 4): every parameter of every HTTP function, given
//! a long value alone or beside valid workspace and model ids (so that checks after the first
//! Anaplan calls run too), is answered without a long run of that value, in the answer and
//! in the handler's log. A class-level check: a new function or parameter is covered by
//! being declared.

use crate::support::app::App;
use anaplan_emulator::seed::*;
use anaplan_functions::functions::FUNCTIONS;
use anaplan_functions::machinery::declare::Trigger;
use axum::http::Method;

/// The longest run of the filler that may show (the quoting cuts at 200 characters).
const SHOWN: usize = 200;

/// A run of `c` longer than any quote may show.
fn too_long_run(c: char) -> String {
    c.to_string().repeat(SHOWN + 1)
}

#[tokio::test]
async fn no_parameter_value_comes_back_whole_in_an_answer_or_a_log_line() {
    let app = App::start().await;
    // 1,000 characters is within the name bound (so names reach the closest-names check);
    // 20,000 is far above it.
    let fillers = [('Q', 1_000usize), ('W', 20_000)];
    let mut tried = 0;
    let mut echoed: Vec<String> = Vec::new();
    for f in FUNCTIONS.iter().filter(|f| matches!(f.trigger, Trigger::Http { .. })) {
        for param in f.accepted() {
            for (c, len) in fillers {
                let value = c.to_string().repeat(len);
                for with_model in [false, true] {
                    let mut query = format!("{param}={value}");
                    if with_model && !param.starts_with("workspace") && !param.starts_with("model") {
                        query.push_str(&format!("&workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}"));
                    }
                    for method in f.methods() {
                        let resp = if *method == Method::GET {
                            app.get(f.name, &query).await
                        } else if *method == Method::POST {
                            app.post_bytes(f.name, &query, Some("application/json"), b"{}".to_vec()).await
                        } else {
                            continue;
                        };
                        let status = resp.status();
                        let body = resp.text().await.unwrap();
                        if body.contains(&too_long_run(c)) {
                            let at = body.find(&too_long_run(c)).unwrap_or(0);
                            echoed.push(format!(
                                "{} {method} {param} ({len} characters): {status}: {}",
                                f.name,
                                &body[at.saturating_sub(120)..at]
                            ));
                        }
                        tried += 1;
                    }
                }
            }
        }
    }
    assert!(echoed.is_empty(), "answers that echoed a value whole:\n{}", echoed.join("\n"));
    assert!(tried > 100, "every function's parameters were tried ({tried})");
    let log = app.host.output();
    for (c, _) in fillers {
        assert!(!log.contains(&too_long_run(c)), "a log line echoed a parameter value whole");
    }
}
