//! run-process end to end, as a Logic App calls it: 202 + Location + Retry-After, polls,
//! the final answer; failures with dumps, cancellation, busy/locked/archived models,
//! `wait`, and Idempotency-Key across two instances.

use std::time::Duration;

use crate::support::app::{App, follow, problem};
use anaplan_emulator::seed::*;
use anaplan_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

fn by_ids(model: &str, process: &str) -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={model}&processId={process}")
}

#[tokio::test]
async fn a_process_runs_to_completion_through_the_async_pattern() {
    let app = App::start().await;
    let resp = app
        .post("run-process", "", &json!({"workspaceName": WS_FPA_NAME, "modelName": MODEL_REVENUE_NAME, "processName": PROCESS_NIGHTLY_NAME}))
        .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.headers()["retry-after"], "1");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    for part in [
        format!("workspaceId={WS_FPA_ID}"),
        format!("modelId={MODEL_REVENUE_ID}"),
        format!("processId={PROCESS_NIGHTLY_ID}"),
        format!("code={}", app.host.function_key()),
    ] {
        assert!(location.contains(&part), "{location} lacks {part}");
    }
    assert!(location.starts_with(&format!("{}/api/run-process?", app.host.base_url())), "{location}");
    let (done, polls) = follow(&app.http, resp).await;
    assert!(polls >= 1);
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["successful"], true);
    assert_eq!(body["taskState"], "COMPLETE");
    assert_eq!(body["result"]["nestedResults"].as_array().unwrap().len(), 2);
    let starts = app.fake.task_starts();
    assert_eq!(starts, vec![(PROCESS_NIGHTLY_ID.to_owned(), body["taskId"].as_str().unwrap().to_owned())]);
}

#[tokio::test]
async fn a_failed_process_is_a_422_with_the_failed_step_and_its_dump() {
    let app = App::start().await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_BROKEN_ID), &json!({})).await;
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    assert_eq!(body["successful"], false);
    assert_eq!(body["taskState"], "COMPLETE");
    assert!(body["result"]["nestedResults"].is_array());
    let failures = body["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "only the import step failed: {body}");
    let f = &failures[0];
    assert_eq!(f["objectId"], IMPORT_REGIONS_ID);
    let dump = broken_load_dump();
    let head: Vec<&str> = dump.lines().take(10).collect();
    assert_eq!(f["dumpHead"], json!(head));
    let url = f["dumpUrl"].as_str().unwrap();
    let whole = app.http.get(url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert!(whole.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(whole.text().await.unwrap(), dump);
    assert_eq!(dump.lines().count(), 1 + BROKEN_LOAD_FAILED_ROWS);
}

#[tokio::test]
async fn the_dump_head_has_whole_lines_across_small_chunks_and_reads_no_further() {
    // 16-byte chunks: every line of the dump is cut by a chunk boundary.
    let cfg = EmulatorConfig { dump_chunk_size: 16, ..EmulatorConfig::default() };
    let app = App::start_against(Emulator::start_with(cfg).await, |_| {}).await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_BROKEN_ID), &json!({})).await;
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    let dump = broken_load_dump();
    let head: Vec<&str> = dump.lines().take(10).collect();
    assert_eq!(body["failures"][0]["dumpHead"], json!(head), "{body}");
    let chunk_reads =
        app.fake.requests().iter().filter(|r| r.path.contains(&format!("/dumps/{IMPORT_REGIONS_ID}/chunks/"))).count();
    let needed = head.iter().map(|l| l.len() + 1).sum::<usize>().div_ceil(16);
    assert_eq!(chunk_reads, needed, "reads only the chunks that hold the first ten lines");
    assert!(chunk_reads < dump.len().div_ceil(16));
}

#[tokio::test]
async fn an_expired_dump_is_reported_as_expired_without_a_url() {
    let app = App::start().await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_STALE_DUMP_ID), &json!({})).await;
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    let f = &body["failures"][0];
    assert!(f["details"].as_str().unwrap().contains("expired"), "{body}");
    assert!(f.get("dumpUrl").is_none() && f.get("dumpHead").is_none(), "{body}");
}

#[tokio::test]
async fn delete_on_the_location_cancels_and_polling_ends_in_409() {
    let app = App::start().await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_SLOW_ID), &json!({})).await;
    assert_eq!(resp.status(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let cancel = app.http.delete(&location).send().await.unwrap();
    assert_eq!(cancel.status(), 202);
    assert_eq!(cancel.headers()["location"].to_str().unwrap(), location);
    let (done, _) = follow(&app.http, cancel).await;
    let body = problem(done, 409).await;
    assert_eq!(body["taskState"], "CANCELLED");
    assert_eq!(app.fake.cancel_requests(), 1);
}

#[tokio::test]
async fn wait_holds_the_start_until_the_final_answer() {
    let app = App::start().await;
    let resp =
        app.post("run-process", &format!("{}&wait=20", by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID)), &json!({})).await;
    assert_eq!(resp.status(), 200, "the process finishes within the wait");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["successful"], true);
    // A wait shorter than the task still answers 202.
    let resp =
        app.post("run-process", &format!("{}&wait=1", by_ids(MODEL_REVENUE_ID, PROCESS_SLOW_ID)), &json!({})).await;
    assert_eq!(resp.status(), 202);
    problem(
        app.post("run-process", &format!("{}&wait=101", by_ids(MODEL_REVENUE_ID, PROCESS_SLOW_ID)), &json!({})).await,
        400,
    )
    .await;
}

#[tokio::test]
async fn a_busy_model_is_retried_and_a_model_that_stays_busy_is_503() {
    let app = App::start().await;
    app.fake.make_model_busy(MODEL_REVENUE_ID, Duration::from_secs(2));
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID), &json!({})).await;
    assert_eq!(resp.status(), 202, "the start waited out a short busy spell");

    app.fake.make_model_busy(MODEL_REVENUE_ID, Duration::from_secs(600));
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID), &json!({})).await;
    let body = problem(resp, 503).await;
    assert!(body["detail"].as_str().unwrap().contains("busy"), "{body}");
    assert_eq!(app.fake.task_starts().len(), 1);
}

#[tokio::test]
async fn locked_and_archived_models_say_so() {
    let app = App::start().await;
    let body =
        problem(app.post("run-process", &by_ids(MODEL_LOCKED_ID, PROCESS_NIGHTLY_ID), &json!({})).await, 423).await;
    assert_eq!(body["anaplan"]["status"], 423);
    let body =
        problem(app.post("run-process", &by_ids(MODEL_ARCHIVED_ID, PROCESS_NIGHTLY_ID), &json!({})).await, 422).await;
    assert_eq!(body["anaplan"]["status"], 422);
}

#[tokio::test]
async fn status_and_cancel_need_a_task_id_and_bad_ones_are_400() {
    let app = App::start().await;
    let q = by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID);
    problem(app.get("run-process", &q).await, 400).await;
    problem(app.post("run-process", &format!("{q}&taskId=1B1D84DDD53847BAA621810B593C3FC1"), &json!({})).await, 400)
        .await;
    problem(app.get("run-process", &format!("{q}&taskId=../../x")).await, 400).await;
    let unknown = app.get("run-process", &format!("{q}&taskId=1B1D84DDD53847BAA621810B593C3FC1")).await;
    problem(unknown, 404).await;
    assert!(app.fake.task_starts().is_empty());
}

fn with_key(req: reqwest::RequestBuilder, key: &str, fkey: &str) -> reqwest::RequestBuilder {
    req.header("Idempotency-Key", key).header("x-functions-key", fkey).json(&json!({}))
}

#[tokio::test]
async fn an_idempotency_key_starts_the_task_once_even_across_instances() {
    let fake = Emulator::start().await;
    // Two instances of one app share its refresh-token chain (here: one token file, which
    // its lock serialises; in Azure the vault plays that role).
    let shared = tempfile::tempdir().unwrap();
    let token_file = shared.path().join("refresh-token").display().to_string();
    let share = |env: &mut Vec<(String, String)>| {
        env.retain(|(k, _)| k != "ANAPLAN_TOKEN_FILE");
        env.push(("ANAPLAN_TOKEN_FILE".into(), token_file.clone()));
    };
    let a = App::start_against(fake.clone(), share).await;
    let b = App::start_against(fake.clone(), share).await;
    let key = format!("order-{}", uuid::Uuid::new_v4());
    let q = by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID);
    let (ra, rb) = tokio::join!(
        with_key(a.http.post(format!("{}?{q}", a.url("run-process"))), &key, &a.host.function_key()).send(),
        with_key(b.http.post(format!("{}?{q}", b.url("run-process"))), &key, &b.host.function_key()).send(),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (202, 202));
    let ta: Value = ra.json().await.unwrap();
    let tb: Value = rb.json().await.unwrap();
    assert_eq!(ta["taskId"], tb["taskId"], "both instances answer for one task");
    assert_eq!(fake.task_starts().len(), 1, "the Anaplan task started exactly once");

    // Later, a repeat gets what a poll would answer now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = with_key(a.http.post(format!("{}?{q}", a.url("run-process"))), &key, &a.host.function_key())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["taskId"], ta["taskId"]);
    assert_eq!(fake.task_starts().len(), 1);

    // The same key for another request is refused.
    let other = by_ids(MODEL_REVENUE_ID, PROCESS_BROKEN_ID);
    let clash = with_key(a.http.post(format!("{}?{other}", a.url("run-process"))), &key, &a.host.function_key())
        .send()
        .await
        .unwrap();
    problem(clash, 409).await;
    assert_eq!(fake.task_starts().len(), 1);
}

#[tokio::test]
async fn a_start_whose_answer_is_lost_is_answered_for_the_task_it_made_and_never_sent_again() {
    let app = App::start().await;
    // Anaplan starts the task, but the answer never arrives (a gateway's 504): the handler
    // finds the task among the process's tasks and answers as the start would have.
    app.fake.fail_next_after_acting(1, 504);
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID), &json!({})).await;
    assert_eq!(resp.status(), 202, "not a status Logic Apps would retry");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let starts = app.fake.task_starts();
    assert_eq!(starts.len(), 1, "one start reached Anaplan, and it was not repeated");
    assert!(location.contains(&format!("taskId={}", starts[0].1)), "{location} is the task it made");
    let (done, _) = follow(&app.http, resp).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["taskId"], starts[0].1.as_str());

    // A start that failed before Anaplan acted, with the same kind of answer: no task
    // appears, and the handler cannot know that none will, so it says so with a 409 (a
    // status Logic Apps does not retry) instead of a 5xx that would invite a second start.
    app.fake.fail_next_posts(1, 503);
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID), &json!({})).await;
    let body = problem(resp, 409).await;
    assert!(body["type"].as_str().unwrap().ends_with("start-uncertain"), "{body}");
    assert_eq!(body["notRepeated"], true, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("Check the action's tasks") && detail.contains("Idempotency-Key"), "{body}");
    assert_eq!(app.fake.task_starts().len(), 1);

    // A 429 means Anaplan did nothing: that start is retried, and starts once.
    app.fake.throttle_next(1, 1);
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID), &json!({})).await;
    assert_eq!(resp.status(), 202);
    assert_eq!(app.fake.task_starts().len(), 2);

    // A status check (a GET) that fails is simply asked again.
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    app.fake.fail_next(1, 503);
    let poll = app.http.get(&location).send().await.unwrap();
    assert!(poll.status() == 200 || poll.status() == 202, "{}", poll.status());
    assert_eq!(app.fake.task_starts().len(), 2);
}

#[tokio::test]
async fn with_an_idempotency_key_a_lost_answer_is_recorded_as_the_task_it_made() {
    let app = App::start().await;
    let q = by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID);
    let send = |key: String| {
        with_key(app.http.post(format!("{}?{q}", app.url("run-process"))), &key, &app.host.function_key()).send()
    };
    // The start reaches Anaplan, its answer is lost: the task is found at once, and the
    // key remembers it; Logic Apps' retry with the same key answers for it.
    let key = format!("lost-{}", uuid::Uuid::new_v4());
    app.fake.fail_next_after_acting(1, 504);
    let first = send(key.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let retry = send(key.clone()).await.unwrap();
    assert_eq!(retry.status(), 202);
    let retried: Value = retry.json().await.unwrap();
    let starts = app.fake.task_starts();
    assert_eq!(starts.len(), 1, "one key, one task");
    assert_eq!(first["taskId"], starts[0].1.as_str());
    assert_eq!(retried["taskId"], starts[0].1.as_str());

    // The start never reached Anaplan's task (a 503 before it acted): a 409 that says it
    // may have happened; the retry with the key looks again, finds nothing, and starts it.
    let key = format!("refused-{}", uuid::Uuid::new_v4());
    tokio::time::sleep(Duration::from_secs(3)).await; // the first task is done
    app.fake.fail_next_posts(1, 503);
    let body = problem(send(key.clone()).await.unwrap(), 409).await;
    assert_eq!(body["notRepeated"], true, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("same Idempotency-Key"), "{body}");
    assert_eq!(app.fake.task_starts().len(), 1);
    let retry = send(key.clone()).await.unwrap();
    assert_eq!(retry.status(), 202);
    assert_eq!(app.fake.task_starts().len(), 2, "nothing had started, so the retry started it");
    let again = send(key.clone()).await.unwrap();
    assert!(again.status() == 202 || again.status() == 200, "{}", again.status());
    assert_eq!(app.fake.task_starts().len(), 2);
}

#[tokio::test]
async fn a_status_url_cannot_point_at_another_actions_task() {
    let app = App::start().await;
    // Whether Anaplan itself refuses a task under another action's path is not
    // documented: the emulator here takes the lenient reading, so the handler's own check
    // is what stands.
    app.fake.find_tasks_by_id_alone(true);
    // One finished task (the model runs one at a time), then one still running.
    let broken =
        app.post("run-process", &format!("{}&wait=20", by_ids(MODEL_REVENUE_ID, PROCESS_BROKEN_ID)), &json!({})).await;
    let broken = problem(broken, 422).await;
    let broken_task = broken["taskId"].as_str().unwrap().to_owned();
    let slow = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_SLOW_ID), &json!({})).await;
    assert_eq!(slow.status(), 202);
    let slow_task = slow.json::<Value>().await.unwrap()["taskId"].as_str().unwrap().to_owned();

    // The nightly process's status URL with the slow process's running task, and with the
    // broken one's finished task: GET, a dump, and DELETE are 404s.
    let nightly = by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID);
    for task in [&slow_task, &broken_task] {
        let body = problem(app.get("run-process", &format!("{nightly}&taskId={task}")).await, 404).await;
        assert!(body["detail"].as_str().unwrap().contains(PROCESS_NIGHTLY_ID), "{body}");
        let dump = format!("{nightly}&taskId={task}&dump={IMPORT_REGIONS_ID}");
        problem(app.get("run-process", &dump).await, 404).await;
        let url = format!("{}?{nightly}&taskId={task}", app.url("run-process"));
        let cancel = app.http.delete(url).header("x-functions-key", app.host.function_key()).send().await.unwrap();
        problem(cancel, 404).await;
    }
    assert_eq!(app.fake.cancel_requests(), 0, "nothing was cancelled through another action's URL");
    // Under their own action they answer as ever.
    let own =
        app.get("run-process", &format!("{}&taskId={slow_task}", by_ids(MODEL_REVENUE_ID, PROCESS_SLOW_ID))).await;
    assert_eq!(own.status(), 202);
    let own =
        app.get("run-process", &format!("{}&taskId={broken_task}", by_ids(MODEL_REVENUE_ID, PROCESS_BROKEN_ID))).await;
    problem(own, 422).await;
    let q = format!("{}&taskId={slow_task}", by_ids(MODEL_REVENUE_ID, PROCESS_SLOW_ID));
    let cancel = app
        .http
        .delete(format!("{}?{q}", app.url("run-process")))
        .header("x-functions-key", app.host.function_key())
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 202);
    assert_eq!(app.fake.cancel_requests(), 1);
}

#[tokio::test]
async fn a_parameter_given_twice_in_the_body_is_a_400_and_starts_nothing() {
    let app = App::start().await;
    for body in [
        r#"{"workspaceName": "FP&A Planning", "modelName": "Revenue Plan", "processName": "Nightly Load", "processName": "Broken Load"}"#,
        // Even with the same value: a body must not repeat a key.
        r#"{"workspaceName": "FP&A Planning", "modelName": "Revenue Plan", "modelName": "Revenue Plan", "processName": "Nightly Load"}"#,
    ] {
        let p = problem(app.post_json_text("run-process", "wait=5", body).await, 400).await;
        let key = p["duplicateKey"].as_str().unwrap().to_owned();
        assert!(["processName", "modelName"].contains(&key.as_str()), "{p}");
        assert!(p["detail"].as_str().unwrap().contains(&format!("{key:?} twice")), "{p}");
    }
    assert!(app.fake.task_starts().is_empty());
    assert!(app.fake.requests().is_empty(), "refused before Anaplan is called: {:?}", app.fake.requests());
}

// ---------------------------------------------------------------------- Optimizer steps

/// The requests the emulator saw for process `process`'s metadata.
fn metadata_reads(app: &App, process: &str) -> usize {
    let path = format!("/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/processes/{process}");
    app.fake.requests().iter().filter(|r| r.method == "GET" && r.path == path).count()
}

#[tokio::test]
async fn a_failed_optimizer_step_links_its_solution_log_which_the_status_url_answers_as_text() {
    let app = App::start().await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID), &json!({})).await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    assert_eq!(body["type"], "urn:anaplan-functions:problem:task-failed");
    let failures = body["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "only the Optimizer step failed: {body}");
    let f = &failures[0];
    assert_eq!(f["objectId"], ACTION_OPTIMIZER_ID);
    assert_eq!(f["name"], ACTION_OPTIMIZER_ID, "the nested result carries no objectName");
    assert_eq!(f["details"], ACTION_OPTIMIZER_MESSAGE, "Anaplan's message alone: {body}");
    assert!(f.get("dumpUrl").is_none() && f.get("dumpHead").is_none(), "no dump: {body}");
    let url = f["solutionLogUrl"].as_str().unwrap();
    assert_eq!(url, format!("{location}&solutionLog={ACTION_OPTIMIZER_ID}"), "the status URL and the step");
    assert_eq!(metadata_reads(&app, PROCESS_OPTIMIZE_ID), 1, "the metadata is read once, for the failed step");

    // The Location as Logic Apps has it (the key rides in `code`): the log, as text.
    let log = app.http.get(url).send().await.unwrap();
    assert_eq!(log.status(), 200);
    assert_eq!(log.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(log.text().await.unwrap(), SUPPLY_PLAN_SOLVER_LOG);
    let asked: Vec<_> = app.fake.requests().into_iter().filter(|r| r.path.ends_with("/solutionLogs")).collect();
    let want = format!(
        "/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/optimizeActions/{ACTION_OPTIMIZER_ID}/tasks/{}/solutionLogs",
        body["taskId"].as_str().unwrap()
    );
    assert_eq!(asked.len(), 2, "checked once for the 422, read once for the download");
    assert!(asked.iter().all(|r| r.path == want && r.accept.as_deref() == Some("text/plain")), "{asked:?}");
}

#[tokio::test]
async fn a_failed_step_that_is_no_other_action_costs_no_metadata_read() {
    let app = App::start().await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_BROKEN_ID), &json!({})).await;
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    assert!(body["failures"][0].get("solutionLogUrl").is_none(), "{body}");
    assert_eq!(metadata_reads(&app, PROCESS_BROKEN_ID), 0, "an import step cannot be an Optimizer action");
    assert!(!app.fake.requests().iter().any(|r| r.path.ends_with("/solutionLogs")));
}

#[tokio::test]
async fn an_optimizer_step_without_a_log_has_no_url_and_its_status_check_is_a_404() {
    let app = App::start().await;
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID), &json!({})).await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    app.fake.forget_solution_logs();
    let (done, _) = follow(&app.http, resp).await;
    let body = problem(done, 422).await;
    let f = &body["failures"][0];
    assert!(f.get("solutionLogUrl").is_none(), "{body}");
    assert_eq!(f["details"], ACTION_OPTIMIZER_MESSAGE, "no log is not an error: {body}");
    let asked = app.fake.requests().iter().filter(|r| r.path.ends_with("/solutionLogs")).count();
    assert_eq!(asked, 1, "Anaplan was asked, and answered 404");
    let gone = app.http.get(format!("{location}&solutionLog={ACTION_OPTIMIZER_ID}")).send().await.unwrap();
    let p = problem(gone, 404).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:solution-log-not-found", "{p}");
}

#[tokio::test]
async fn solution_log_is_for_an_optimizer_step_of_the_process_on_a_status_check() {
    let app = App::start().await;
    app.fake.set_action_timing(PROCESS_OPTIMIZE_ID, std::time::Duration::ZERO, std::time::Duration::ZERO);
    let resp = app.post("run-process", &by_ids(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID), &json!({})).await;
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (done, _) = follow(&app.http, resp).await;
    let task = problem(done, 422).await["taskId"].as_str().unwrap().to_owned();
    let q = by_ids(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID);
    let bad = [
        (app.post("run-process", &format!("{q}&solutionLog={ACTION_OPTIMIZER_ID}"), &json!({})).await, "GET"),
        (app.get("run-process", &format!("{q}&solutionLog={ACTION_OPTIMIZER_ID}")).await, "GET"),
        (app.get("run-process", &format!("{q}&taskId={task}&solutionLog={IMPORT_PRODUCTS_ID}")).await, "117"),
        (
            app.get(
                "run-process",
                &format!("{q}&taskId={task}&solutionLog={ACTION_OPTIMIZER_ID}&dump={ACTION_OPTIMIZER_ID}"),
            )
            .await,
            "not both",
        ),
    ];
    for (resp, says) in bad {
        let p = problem(resp, 400).await;
        assert!(p["detail"].as_str().unwrap().contains(says), "{p}");
    }
    // An other action that is not an Optimizer step of this process: 404, Anaplan not asked.
    let other = app.http.get(format!("{location}&solutionLog={ACTION_DELETE_LOCKED_ID}")).send().await.unwrap();
    let p = problem(other, 404).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:solution-log-not-found", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("not an Optimizer step"), "{p}");
    // Another process's task under this status URL: the task is not this process's.
    let nightly =
        app.post("run-process", &format!("{}&wait=20", by_ids(MODEL_REVENUE_ID, PROCESS_NIGHTLY_ID)), &json!({})).await;
    let nightly: Value = nightly.json().await.unwrap();
    let resp = app
        .get(
            "run-process",
            &format!("{q}&taskId={}&solutionLog={ACTION_OPTIMIZER_ID}", nightly["taskId"].as_str().unwrap()),
        )
        .await;
    problem(resp, 404).await;
    let asked = app.fake.requests().iter().filter(|r| r.path.ends_with("/solutionLogs")).count();
    assert_eq!(asked, 1, "only the 422's check reached Anaplan's solutionLogs");
}

#[tokio::test]
async fn a_caller_below_workspace_administrator_is_told_why_there_is_no_log() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake.clone(), |env| env.push(("ANAPLAN_AUTH_METHOD".into(), "caller".into()))).await;
    let theirs = fake.access_token_for("user005@example.com");
    let q = format!("{}&wait=30", by_ids(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID));
    let resp = app
        .http
        .post(format!("{}?{q}", app.url("run-process")))
        .header("x-functions-key", app.host.function_key())
        .header("authorization", format!("Bearer {theirs}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = problem(resp, 422).await;
    let f = &body["failures"][0];
    assert!(f.get("solutionLogUrl").is_none(), "{body}");
    let details = f["details"].as_str().unwrap();
    assert!(details.starts_with(ACTION_OPTIMIZER_MESSAGE) && details.contains("Workspace Administrator"), "{body}");
    // Asking for it anyway: Anaplan's 403, said plainly.
    let task = body["taskId"].as_str().unwrap();
    let q =
        format!("{}&taskId={task}&solutionLog={ACTION_OPTIMIZER_ID}", by_ids(MODEL_REVENUE_ID, PROCESS_OPTIMIZE_ID));
    let resp = app
        .http
        .get(format!("{}?{q}", app.url("run-process")))
        .header("x-functions-key", app.host.function_key())
        .header("authorization", format!("Bearer {theirs}"))
        .send()
        .await
        .unwrap();
    let p = problem(resp, 403).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:anaplan-forbidden");
    assert!(p["detail"].as_str().unwrap().contains("Workspace Administrator"), "{p}");
    assert_eq!(p["anaplan"]["status"], 403);
}
