//! model-calendar: a model's current period and fiscal year read and set through the host,
//! against the emulator; every refusal a 400 that names the value, a malformed write
//! sending nothing to Anaplan.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn scope() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}")
}

/// The calendar writes Anaplan has seen so far (`PUT` requests).
fn writes(app: &App) -> usize {
    app.fake.requests().iter().filter(|r| r.method == "PUT").count()
}

#[tokio::test]
async fn the_calendar_is_read_as_anaplan_reports_it_by_ids_or_names() {
    let app = App::start().await;
    let resp = app.get("model-calendar", &scope()).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "currentPeriod": {"periodText": "May 26", "lastDay": "2026-05-31", "calendarType": "Calendar Months/Quarters/Years"},
            "calendar": {
                "calendarType": "Calendar Months/Quarters/Years",
                "fiscalYear": {"year": "FY26", "startDate": "2026-01-01", "endDate": "2026-12-31"},
                "pastYearsCount": 1,
                "futureYearsCount": 2,
            },
            "fiscalYear": {"year": "FY26", "startDate": "2026-01-01", "endDate": "2026-12-31"},
        })
    );
    // Names instead of ids; a Weeks General model has no fiscal year.
    let q = format!("workspaceName=Sales%20Ops&modelId={MODEL_FORECAST_1_ID}");
    let weeks: Value = app.get("model-calendar", &q).await.json().await.unwrap();
    assert_eq!(weeks["calendar"], json!({}));
    assert_eq!(weeks["fiscalYear"], Value::Null);
    assert_eq!(weeks["currentPeriod"]["periodText"], "");
    let by_name: Value = app
        .get("model-calendar", "workspaceName=FP%26A%20Planning&modelName=Headcount%20Plan")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_name["fiscalYear"]["year"], "FY27");
    // What the app asked: the two documented reads, nothing else.
    let asked: Vec<String> = app
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(MODEL_REVENUE_ID))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let base = format!("/2/0/workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}");
    for want in [format!("GET {base}/currentPeriod"), format!("GET {base}/modelCalendar")] {
        assert!(asked.contains(&want), "{asked:?}");
    }
    // action is for POST.
    problem(app.get("model-calendar", &format!("{}&action=setFiscalYear", scope())).await, 400).await;
}

#[tokio::test]
async fn the_current_period_is_set_and_cleared() {
    let app = App::start().await;
    let q = format!("{}&action=setCurrentPeriod", scope());
    let resp = app.post("model-calendar", &q, &json!({"date": "2027-02-03"})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["currentPeriod"]["periodText"], "Feb 27");
    assert_eq!(body["currentPeriod"]["lastDay"], "2027-02-28");
    assert_eq!(body["fiscalYear"]["year"], "FY26", "the new calendar, whole");
    assert_eq!(app.fake.calendar_of(MODEL_REVENUE_ID).unwrap().0.0, "Feb 27");
    // An empty date clears it (sent as Anaplan documents a reset: ?date=).
    let resp = app.post("model-calendar", &q, &json!({"date": ""})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["currentPeriod"]["periodText"], "");
    assert_eq!(app.fake.calendar_of(MODEL_REVENUE_ID).unwrap().0, (String::new(), String::new()));
    let reset = app.fake.requests().into_iter().rfind(|r| r.method == "PUT").unwrap();
    assert_eq!(reset.query, "date=");
    // action in the body works as well.
    let both = json!({"action": "setCurrentPeriod", "date": "2026-07-01"});
    let resp = app.post("model-calendar", &scope(), &both).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn the_fiscal_year_is_set_as_given() {
    let app = App::start().await;
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_HEADCOUNT_ID}&action=setFiscalYear");
    let resp = app.post("model-calendar", &q, &json!({"year": "FY28"})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["fiscalYear"], json!({"year": "FY28", "startDate": "2027-04-01", "endDate": "2028-03-31"}));
    assert_eq!(body["calendar"]["fiscalYear"]["year"], "FY28");
    assert_eq!(app.fake.calendar_of(MODEL_HEADCOUNT_ID).unwrap().1.as_deref(), Some("FY28"));
    let put = app.fake.requests().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.path, format!("/2/0/models/{MODEL_HEADCOUNT_ID}/modelCalendar/fiscalYear"));
}

#[tokio::test]
async fn values_anaplan_refuses_are_400s_that_name_them() {
    let app = App::start().await;
    let q = format!("{}&action=setCurrentPeriod", scope());
    // Out of the model's timescale: Anaplan's 400, its message passed on.
    let p = problem(app.post("model-calendar", &q, &json!({"date": "2031-01-01"})).await, 400).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:anaplan-bad-request");
    assert_eq!(p["value"], "2031-01-01");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("\"2031-01-01\"") && detail.contains("out of timescale range"), "{detail}");
    // A year the model does not have.
    let q = format!("{}&action=setFiscalYear", scope());
    for year in ["FY99", "FY2027"] {
        let p = problem(app.post("model-calendar", &q, &json!({ "year": year })).await, 400).await;
        assert_eq!(p["type"], "urn:anaplan-functions:problem:anaplan-bad-request");
        assert_eq!(p["value"], year);
        assert!(p["detail"].as_str().unwrap().contains(&format!("{year:?}")), "{p}");
    }
    assert_eq!(app.fake.calendar_of(MODEL_REVENUE_ID).unwrap().1.as_deref(), Some("FY26"), "nothing changed");
}

#[tokio::test]
async fn malformed_writes_are_refused_before_anaplan_is_called() {
    let app = App::start().await;
    let set = format!("{}&action=setCurrentPeriod", scope());
    let year = format!("{}&action=setFiscalYear", scope());
    let cases: Vec<(String, Value, &str)> = vec![
        (set.clone(), json!({"date": "2026-02-30"}), "2026-02-30"),
        (set.clone(), json!({"date": "20/05/2026"}), "20/05/2026"),
        (set.clone(), json!({}), "date"),
        (set.clone(), json!({"date": "2026-06-01", "year": "FY27"}), "not year"),
        (set.clone(), json!({"date": 20260601}), "the body"),
        (set.clone(), json!({"date": "2026-06-01", "when": "now"}), "when"),
        (year.clone(), json!({"year": ""}), "year"),
        (year.clone(), json!({"year": "FY\n27"}), "FY\\n27"),
        (year.clone(), json!({"date": "2026-06-01"}), "not date"),
        (format!("{}&action=setPeriod", scope()), json!({"date": "2026-06-01"}), "setPeriod"),
        (scope(), json!({"date": "2026-06-01"}), "action is required"),
        (format!("modelId={MODEL_REVENUE_ID}&action=setCurrentPeriod"), json!({"date": "2026-06-01"}), "workspaceId"),
        (format!("{}&action=setCurrentPeriod&sheet=1", scope()), json!({"date": "2026-06-01"}), "sheet"),
    ];
    for (q, body, named) in cases {
        let p = problem(app.post("model-calendar", &q, &body).await, 400).await;
        assert_eq!(p["type"], "urn:anaplan-functions:problem:bad-parameter", "{q} {body}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(named), "{q} {body}: {p}");
    }
    let p =
        problem(app.post_json_text("model-calendar", &set, r#"{"date": "2026-06-01", "date": ""}"#).await, 400).await;
    assert!(p["detail"].as_str().unwrap().contains("date"), "{p}");
    let p = problem(app.post_json_text("model-calendar", &set, r#"{"date": "#).await, 400).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:bad-parameter");
    assert_eq!(writes(&app), 0, "a malformed write writes nothing");
    assert_eq!(app.fake.calendar_of(MODEL_REVENUE_ID).unwrap().0.0, "May 26");
}

#[tokio::test]
async fn unknown_models_and_names_are_404s() {
    let app = App::start().await;
    let unknown = format!("workspaceId={WS_FPA_ID}&modelId=75A40874E6B64FA3AE07432789968599");
    let p = problem(app.get("model-calendar", &unknown).await, 404).await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:not-found");
    let p = problem(
        app.post("model-calendar", &format!("{unknown}&action=setFiscalYear"), &json!({"year": "FY27"})).await,
        404,
    )
    .await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:not-found");
    let p = problem(app.get("model-calendar", &format!("workspaceId={WS_FPA_ID}&modelName=Revenu%20Plan")).await, 404)
        .await;
    assert_eq!(p["closestNames"][0], MODEL_REVENUE_NAME);
    let p = problem(
        app.post(
            "model-calendar",
            &format!("workspaceId={WS_FPA_ID}&modelName=Revenu%20Plan&action=setCurrentPeriod"),
            &json!({"date": "2026-06-01"}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(p["type"], "urn:anaplan-functions:problem:unknown-name");
    // The unknown id reached Anaplan (which answered 404); the unknown name never did.
    assert_eq!(writes(&app), 1);
    // A locked model refuses the write with Anaplan's 423.
    let locked = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_LOCKED_ID}&action=setFiscalYear");
    problem(app.post("model-calendar", &locked, &json!({"year": "FY27"})).await, 423).await;
}
