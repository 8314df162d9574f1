//! refresh-cloudworks-sas, fired the way the Functions host fires a timer (JSON invocation
//! format): each configured CloudWorks connection ends up holding a fresh, valid,
//! least-privilege SAS (the emulator checks the signature with the account's key); one that
//! cannot be renewed fails the invocation after the others were renewed; no SAS is logged.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::app::App;
use anaplan_emulator::Emulator;
use anaplan_emulator::seed_cloudworks::*;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn app_with(connections: &str, days: Option<&str>) -> App {
    let fake = Emulator::start().await;
    let (connections, days) = (connections.to_owned(), days.map(str::to_owned));
    App::start_against(fake, move |env| {
        env.push(("CLOUDWORKS_SAS_CONNECTIONS".into(), connections));
        env.push(("CLOUDWORKS_SAS_SCHEDULE".into(), "0 0 3 * * *".into()));
        env.push(("CLOUDWORKS_SAS_CONTAINERS".into(), SAS_CONTAINERS.into()));
        if let Some(d) = days {
            env.push(("CLOUDWORKS_SAS_DAYS".into(), d));
        }
    })
    .await
}

/// The containers of the seeded connections, which the timer may grant.
const SAS_CONTAINERS: &str = "cloudworks-sales,cloudworks-finance,partner-drop";

fn sas_fields(sas: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(sas.as_bytes()).into_owned().collect()
}

/// Every SAS the emulator holds: none may appear in anything logged.
fn assert_no_sas_in(text: &str, app: &App) {
    for id in [CONNECTION_SALES_ID, CONNECTION_FINANCE_ID, CONNECTION_PARTNER_ID] {
        let sas = app.fake.cloudworks_connection(id).unwrap().sas;
        if sas.is_empty() {
            continue;
        }
        let sig = &sas_fields(&sas)["sig"];
        assert!(!text.contains(&sas) && !text.contains(sig.as_str()), "a SAS was logged");
        let encoded: String = url::form_urlencoded::byte_serialize(sig.as_bytes()).collect();
        assert!(!text.contains(&encoded), "a SAS signature was logged");
    }
}

#[tokio::test]
async fn the_timer_writes_a_fresh_least_privilege_sas_into_each_connection() {
    let app = app_with(&format!("{CONNECTION_SALES_NAME}, {CONNECTION_FINANCE_ID}"), Some("3")).await;
    let before = now();
    let run = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap();
    assert!(run.succeeded, "{run:?}");
    assert_eq!(run.return_value["renewed"], 2, "{run:?}");
    assert_eq!(run.logs.len(), 2, "one line per connection: {:?}", run.logs);
    assert!(run.logs[0].contains(CONNECTION_SALES_NAME) && run.logs[0].contains("renewed"), "{:?}", run.logs);
    assert!(run.logs[1].contains(CONNECTION_FINANCE_ID), "{:?}", run.logs);
    for id in [CONNECTION_SALES_ID, CONNECTION_FINANCE_ID] {
        let c = app.fake.cloudworks_connection(id).unwrap();
        assert_eq!(c.updates, 1, "{id}");
        // The emulator accepted it, so it is unexpired and signed with the account's key; it
        // also carries no more than CloudWorks needs.
        let f = sas_fields(&c.sas);
        assert_eq!((f["ss"].as_str(), f["srt"].as_str(), f["sp"].as_str()), ("b", "sco", "rwl"), "{id}");
        let three_days = 3 * 86_400;
        assert!(c.sas_expiry >= before + three_days - 5 && c.sas_expiry <= now() + three_days + 5, "{id}");
    }
    let untouched = app.fake.cloudworks_connection(CONNECTION_PARTNER_ID).unwrap();
    assert_eq!(untouched.updates, 0, "only the configured connections change");
    assert_no_sas_in(&run.logs.join("\n"), &app);
    assert_no_sas_in(&app.host.output(), &app);
}

#[tokio::test]
async fn a_connection_that_cannot_be_renewed_fails_the_invocation_after_the_others() {
    let app = app_with(&format!("{CONNECTION_PARTNER_NAME},{CONNECTION_SALES_ID},No Such Blob"), None).await;
    let run = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap();
    assert!(!run.succeeded, "a partial failure is never a success: {run:?}");
    assert_eq!(run.status, 500);
    // The one after the failure was still renewed, for the default 7 days.
    let sales = app.fake.cloudworks_connection(CONNECTION_SALES_ID).unwrap();
    assert_eq!(sales.updates, 1);
    assert!(sales.sas_expiry >= now() + 7 * 86_400 - 60);
    assert_eq!(app.fake.cloudworks_connection(CONNECTION_PARTNER_ID).unwrap().updates, 0);
    // The host drops Logs of a failed invocation; the handler's own output has a line each.
    let output = app.host.output();
    assert!(output.contains(PARTNER_ACCOUNT) && output.contains("NOT renewed"), "{output}");
    assert!(output.contains("No Such Blob"), "{output}");
    assert!(output.contains(CONNECTION_SALES_ID) && output.contains("renewed with"), "{output}");
    assert_no_sas_in(&output, &app);
}

#[tokio::test]
async fn without_its_schedule_setting_the_host_cannot_index_the_timer() {
    let fake = Emulator::start().await;
    let app = App::start_against(fake, |_| {}).await;
    let err = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap_err();
    assert!(format!("{err:#}").contains("CLOUDWORKS_SAS_SCHEDULE"), "{err:#}");
    // The HTTP functions are unaffected, and the timer is not reachable over HTTP.
    let resp = app.get("refresh-cloudworks-sas", "").await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn an_update_cloudworks_keeps_refusing_fails_the_invocation_without_the_sas() {
    let fake = Emulator::start().await;
    // More 500s than the client's retries: CloudWorks is down for this connection.
    fake.fail_cloudworks_connection_updates(CONNECTION_FINANCE_ID, 10);
    let app = App::start_against(fake, |env| {
        env.push(("CLOUDWORKS_SAS_CONNECTIONS".into(), format!("{CONNECTION_FINANCE_NAME},{CONNECTION_SALES_NAME}")));
        env.push(("CLOUDWORKS_SAS_SCHEDULE".into(), "0 0 3 * * *".into()));
        env.push(("CLOUDWORKS_SAS_CONTAINERS".into(), SAS_CONTAINERS.into()));
    })
    .await;
    let run = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap();
    assert!(!run.succeeded && run.status == 500, "{run:?}");
    assert_eq!(app.fake.cloudworks_connection(CONNECTION_FINANCE_ID).unwrap().updates, 0);
    assert_eq!(app.fake.cloudworks_connection(CONNECTION_SALES_ID).unwrap().updates, 1, "the next one was renewed");
    let output = app.host.output();
    assert!(output.contains("CloudWorks refused the update"), "{output}");
    assert_no_sas_in(&output, &app);
    assert!(!run.body.contains("sig="), "no SAS in the invocation answer");
}

#[tokio::test]
async fn the_timer_grants_only_allowed_containers_and_never_a_reserved_one() {
    // The deployment package's container: a CloudWorks user pointed the connection at it.
    let fake = Emulator::start().await;
    fake.repoint_cloudworks_connection(CONNECTION_FINANCE_ID, "app-package-anaplan-1f2e");
    let app = App::start_against(fake, |env| {
        env.push(("CLOUDWORKS_SAS_CONNECTIONS".into(), format!("{CONNECTION_FINANCE_NAME},{CONNECTION_SALES_NAME}")));
        env.push(("CLOUDWORKS_SAS_SCHEDULE".into(), "0 0 3 * * *".into()));
        // Even listed, a reserved container is never granted.
        env.push(("CLOUDWORKS_SAS_CONTAINERS".into(), "cloudworks-sales,app-package-anaplan-1f2e".into()));
    })
    .await;
    let run = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap();
    assert!(!run.succeeded && run.status == 500, "{run:?}");
    assert_eq!(app.fake.cloudworks_connection(CONNECTION_FINANCE_ID).unwrap().updates, 0, "nothing written for it");
    assert_eq!(app.fake.cloudworks_connection(CONNECTION_SALES_ID).unwrap().updates, 1, "the others still renewed");
    let output = app.host.output();
    assert!(output.contains("the deployment package") && output.contains("NOT renewed"), "{output}");

    // Without its own setting the timer follows BLOB_CONTAINERS (the harness's test containers).
    let fake = Emulator::start().await;
    let app = App::start_against(fake, |env| {
        env.push(("CLOUDWORKS_SAS_CONNECTIONS".into(), CONNECTION_SALES_ID.into()));
        env.push(("CLOUDWORKS_SAS_SCHEDULE".into(), "0 0 3 * * *".into()));
    })
    .await;
    let run = app.host.fire_timer("refresh-cloudworks-sas").await.unwrap();
    assert!(!run.succeeded, "{run:?}");
    assert_eq!(app.fake.cloudworks_connection(CONNECTION_SALES_ID).unwrap().updates, 0);
    let output = app.host.output();
    assert!(output.contains("cloudworks-sales\\\" is not one BLOB_CONTAINERS allows"), "{output}");
}
