//! The calendar: a model's current period and fiscal year are refused as Anaplan refuses
//! them (the documented 400 messages for dates, a year out of range, both forms of the
//! date at once, the role, unknown ids), and a refused write changes nothing.

use crate::support::emulator_api::EmulatorApi;
use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::json;

fn scope(model: &str) -> String {
    let ws = if model == MODEL_FORECAST_1_ID { WS_SALES_ID } else { WS_FPA_ID };
    format!("workspaces/{ws}/models/{model}")
}

#[tokio::test]
async fn the_current_period_is_the_period_of_the_date_and_a_blank_date_resets_it() {
    let api = EmulatorApi::start().await;
    let period = format!("{}/currentPeriod", scope(MODEL_REVENUE_ID));
    let (status, body) = api.send(api.req(Method::GET, &period)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["currentPeriod"],
        json!({"periodText": "May 26", "lastDay": "2026-05-31", "calendarType": "Calendar Months/Quarters/Years"})
    );
    let (status, body) = api.send(api.req(Method::PUT, &period).json(&json!({"date": "2027-02-03"}))).await;
    assert_eq!(
        (status, &body["currentPeriod"]["periodText"], &body["currentPeriod"]["lastDay"]),
        (200, &json!("Feb 27"), &json!("2027-02-28"))
    );
    assert_eq!(api.fake.calendar_of(MODEL_REVENUE_ID).unwrap().0, ("Feb 27".into(), "2027-02-28".into()));
    // The model-direct form is the same operation.
    let direct = format!("models/{MODEL_REVENUE_ID}/currentPeriod");
    let (status, body) = api.send(api.req(Method::PUT, &format!("{direct}?date=2025-01-01"))).await;
    assert_eq!((status, &body["currentPeriod"]["lastDay"]), (200, &json!("2025-01-31")));
    // Blank, in the query or the body, resets it to empty texts.
    for reset in
        [api.req(Method::PUT, &format!("{period}?date=")), api.req(Method::PUT, &period).json(&json!({"date": ""}))]
    {
        let (status, body) = api.send(reset).await;
        assert_eq!(
            (status, &body["currentPeriod"]["periodText"], &body["currentPeriod"]["lastDay"]),
            (200, &json!(""), &json!(""))
        );
    }
    // Weeks General: the week ending on Sunday.
    let weeks = format!("{}/currentPeriod", scope(MODEL_FORECAST_1_ID));
    let (status, body) = api.send(api.req(Method::PUT, &weeks).json(&json!({"date": "2026-06-03"}))).await;
    assert_eq!((status, &body["currentPeriod"]["periodText"]), (200, &json!("W/E 7 Jun 26")), "{body}");
}

#[tokio::test]
async fn a_refused_date_is_anaplans_documented_400_and_changes_nothing() {
    let api = EmulatorApi::start().await;
    let period = format!("{}/currentPeriod", scope(MODEL_REVENUE_ID));
    let before = api.fake.calendar_of(MODEL_REVENUE_ID);
    let refused = |date: &str| api.req(Method::PUT, &period).json(&json!({ "date": date }));
    let cases = [
        (refused("2026-02-30"), "Invalid ISO date format '2026-02-30'. Date should match format YYYY-MM-DD"),
        (refused("20/05/2026"), "Invalid ISO date format '20/05/2026'. Date should match format YYYY-MM-DD"),
        (refused("2029-01-01"), "Specified date '2029-01-01' is out of timescale range 2025-01-01 - 2028-12-31"),
        (refused("2024-12-31"), "Specified date '2024-12-31' is out of timescale range 2025-01-01 - 2028-12-31"),
        (
            api.req(Method::PUT, &format!("{period}?date=2026-06-01")).json(&json!({"date": "2026-06-01"})),
            "use query parameter or body to set date, not both",
        ),
        (api.req(Method::PUT, &period), "Missing parameter [date]"),
        (
            api.req(Method::PUT, &period).header("content-type", "application/json").body("{\"date\":"),
            "Malformed JSON request body",
        ),
        (
            api.req(Method::PUT, &period).json(&json!({"date": "2026-06-01", "period": "Jun 26"})),
            "Identified an unrecognized 'period'. Amend the content so it only contains applicable fields.",
        ),
        (
            api.req(Method::PUT, &period).header("content-type", "text/plain").body("{\"date\":\"2026-06-01\"}"),
            "Content-Type must be application/json",
        ),
    ];
    for (req, message) in cases {
        let (status, body) = api.send(req).await;
        assert_eq!((status, body["status"]["message"].as_str()), (400, Some(message)), "{body}");
        assert_eq!(api.fake.calendar_of(MODEL_REVENUE_ID), before, "{message}: nothing changed");
    }
}

#[tokio::test]
async fn the_fiscal_year_moves_the_timescale_and_out_of_range_years_are_refused() {
    let api = EmulatorApi::start().await;
    let calendar = format!("{}/modelCalendar", scope(MODEL_HEADCOUNT_ID));
    let (status, body) = api.send(api.req(Method::GET, &calendar)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["modelCalendar"]["fiscalYear"],
        json!({"year": "FY27", "startDate": "2026-04-01", "endDate": "2027-03-31"})
    );
    let fiscal = format!("models/{MODEL_HEADCOUNT_ID}/modelCalendar/fiscalYear");
    let (status, body) = api.send(api.req(Method::PUT, &fiscal).json(&json!({"year": "FY30"}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["modelCalendar"],
        json!({"fiscalYear": {"year": "FY30", "startDate": "2029-04-01", "endDate": "2030-03-31"}})
    );
    // The timescale moved with it: FY30 and FY31 now.
    let period = format!("{}/currentPeriod", scope(MODEL_HEADCOUNT_ID));
    let (status, body) = api.send(api.req(Method::PUT, &period).json(&json!({"date": "2026-06-01"}))).await;
    assert_eq!(
        (status, body["status"]["message"].as_str()),
        (400, Some("Specified date '2026-06-01' is out of timescale range 2029-04-01 - 2031-03-31"))
    );
    for year in [json!("FY41"), json!("FY2030"), json!("fy30"), json!(""), json!(30)] {
        let (status, _) = api.send(api.req(Method::PUT, &fiscal).json(&json!({ "year": year }))).await;
        assert_eq!(status, 400, "{year}");
        assert_eq!(api.fake.calendar_of(MODEL_HEADCOUNT_ID).unwrap().1.as_deref(), Some("FY30"), "{year}: unchanged");
    }
    let (status, _) = api.send(api.req(Method::PUT, &fiscal).json(&json!({}))).await;
    assert_eq!(status, 400);
    // GET on the write's path is a 405, as live.
    let (status, _) = api.send(api.req(Method::GET, &fiscal)).await;
    assert_eq!(status, 405);
    // Weeks General has no fiscal year: an empty modelCalendar, and any year is refused.
    let (status, body) = api.send(api.req(Method::GET, &format!("{}/modelCalendar", scope(MODEL_FORECAST_1_ID)))).await;
    assert_eq!((status, &body["modelCalendar"]), (200, &json!({})));
    let weeks = format!("models/{MODEL_FORECAST_1_ID}/modelCalendar/fiscalYear");
    let (status, _) = api.send(api.req(Method::PUT, &weeks).json(&json!({"year": "FY27"}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn ids_role_and_model_state_are_checked() {
    let api = EmulatorApi::start().await;
    // A model of another workspace, an unknown model: 404.
    let elsewhere = format!("workspaces/{WS_SALES_ID}/models/{MODEL_REVENUE_ID}/currentPeriod");
    assert_eq!(api.send(api.req(Method::GET, &elsewhere)).await.0, 404);
    let unknown = "models/75A40874E6B64FA3AE07432789968599/modelCalendar";
    assert_eq!(api.send(api.req(Method::GET, unknown)).await.0, 404);
    // Not a workspace administrator: 403, and nothing written.
    let other = api.fake.access_token_for("user005@example.com");
    let as_other = |m: Method, p: &str| {
        api.http
            .request(m, format!("{}/2/0/{p}", api.fake.base_url()))
            .header("authorization", format!("AnaplanAuthToken {other}"))
    };
    let period = format!("{}/currentPeriod", scope(MODEL_REVENUE_ID));
    assert_eq!(api.send(as_other(Method::GET, &period)).await.0, 403);
    let before = api.fake.calendar_of(MODEL_REVENUE_ID);
    assert_eq!(api.send(as_other(Method::PUT, &format!("{period}?date="))).await.0, 403);
    assert_eq!(api.fake.calendar_of(MODEL_REVENUE_ID), before);
    // A locked model refuses the writes, an archived one everything.
    let locked = format!("models/{MODEL_LOCKED_ID}/modelCalendar/fiscalYear");
    assert_eq!(api.send(api.req(Method::PUT, &locked).json(&json!({"year": "FY27"}))).await.0, 423);
    assert_eq!(api.send(api.req(Method::GET, &format!("{}/modelCalendar", scope(MODEL_LOCKED_ID)))).await.0, 200);
    assert_eq!(api.send(api.req(Method::GET, &format!("{}/currentPeriod", scope(MODEL_ARCHIVED_ID)))).await.0, 422);
}
