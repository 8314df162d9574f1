//! The emulator's versions are strict: the listing is the seed's Versions dimension with
//! Anaplan's fields, and a switchover is refused wherever the description says Anaplan
//! refuses it (bad dates, the Actual version, dates before the switchover or outside the
//! model year), with the model's versions unchanged after every refusal.

use anaplan_emulator::seed::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::emulator_api::EmulatorApi as Api;

fn switchover(model: &str, version: &str) -> String {
    format!("models/{model}/versions/{version}/switchover")
}

/// Every version of Revenue Plan, all pages read.
async fn versions(api: &Api) -> Vec<Value> {
    let (s, body) = api
        .send(api.req(Method::GET, &format!("workspaces/{WS_FPA_ID}/models/{MODEL_REVENUE_ID}/versions?limit=10")))
        .await;
    assert_eq!(s, 200, "{body}");
    body["versionMetadata"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_listing_is_the_versions_dimension_with_anaplans_fields_in_both_path_forms() {
    let api = Api::start().await;
    let listed = versions(&api).await;
    let ids: Vec<&str> = listed.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [VERSION_ACTUAL_ID, VERSION_FORECAST_ID]);
    let (actual, forecast) = (&listed[0], &listed[1]);
    assert_eq!((actual["name"].as_str(), actual["isActual"].as_bool()), (Some(VERSION_ACTUAL_NAME), Some(true)));
    assert!(actual.get("switchover").is_none(), "a field that is not set is absent: {actual}");
    assert_eq!(forecast["isCurrent"], true);
    assert_eq!(forecast["switchover"], json!({"periodText": "Mar 26", "date": "2026-03-01"}));
    // The model-direct form answers the same, paged like every listing.
    let (s, page) =
        api.send(api.req(Method::GET, &format!("models/{MODEL_REVENUE_ID}/versions?offset=1&limit=1"))).await;
    assert_eq!(s, 200);
    assert_eq!(page["versionMetadata"], json!([forecast]));
    assert_eq!(page["meta"]["paging"]["totalSize"], 2);
    // Unknown model, a model under another workspace: 404.
    for path in [
        "models/0123456789ABCDEF0123456789ABCDEF/versions".to_owned(),
        format!("workspaces/{WS_SALES_ID}/models/{MODEL_REVENUE_ID}/versions"),
    ] {
        let (s, body) = api.send(api.req(Method::GET, &path)).await;
        assert_eq!(s, 404, "{path}: {body}");
        assert_eq!(body["status"]["code"], 404);
    }
}

#[tokio::test]
async fn a_switchover_moves_forward_by_month_and_an_empty_date_resets_it() {
    let api = Api::start().await;
    let put = |date: &str| {
        api.req(Method::PUT, &switchover(MODEL_REVENUE_ID, VERSION_FORECAST_ID)).json(&json!({ "date": date }))
    };
    let (s, body) = api.send(put("2026-05-13")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["versionSwitchover"],
        json!({"periodText": "May 26", "date": "2026-05-01", "calendarType": "Calendar Months/Quarters/Years"})
    );
    assert_eq!(versions(&api).await[1]["switchover"], json!({"periodText": "May 26", "date": "2026-05-01"}));
    // The same month again is not earlier: accepted.
    assert_eq!(api.send(put("2026-05-31")).await.0, 200);
    let (s, body) = api.send(put("")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.get("versionSwitchover").is_none(), "{body}");
    assert!(versions(&api).await[1].get("switchover").is_none());
    // From blank, any date of the model year.
    assert_eq!(api.send(put("2026-01-01")).await.0, 200);
    // Other models keep their own.
    let (_, other) = api.send(api.req(Method::GET, &format!("models/{MODEL_HEADCOUNT_ID}/versions?limit=10"))).await;
    assert_eq!(other["versionMetadata"][1]["switchover"]["date"], "2026-03-01");
}

#[tokio::test]
async fn every_refusal_leaves_the_versions_as_they_were() {
    let api = Api::start().await;
    let before = versions(&api).await;
    let forecast = switchover(MODEL_REVENUE_ID, VERSION_FORECAST_ID);
    let json_put = |path: &str, body: Value| api.req(Method::PUT, path).json(&body);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        ("not a date", json_put(&forecast, json!({"date": "13/05/2026"})), 400, "Invalid ISO date format '13/05/2026'"),
        ("no such day", json_put(&forecast, json!({"date": "2026-02-30"})), 400, "Invalid ISO date format"),
        ("before the switchover", json_put(&forecast, json!({"date": "2026-02-01"})), 400, "earlier"),
        ("outside the model year", json_put(&forecast, json!({"date": "2027-01-01"})), 400, "model year"),
        (
            "the Actual version",
            json_put(&switchover(MODEL_REVENUE_ID, VERSION_ACTUAL_ID), json!({"date": "2026-06-01"})),
            400,
            "forecast or variance",
        ),
        ("no date", json_put(&forecast, json!({})), 400, "'date'"),
        (
            "another field",
            json_put(&forecast, json!({"date": "2026-06-01", "dates": "x"})),
            400,
            "unrecognized 'dates'",
        ),
        ("a date that is no string", json_put(&forecast, json!({"date": 20260601})), 400, "Malformed"),
        (
            "malformed JSON",
            api.req(Method::PUT, &forecast).header("content-type", "application/json").body("{\"date\":"),
            400,
            "Malformed",
        ),
        (
            "not JSON",
            api.req(Method::PUT, &forecast).header("content-type", "text/plain").body("2026-06-01"),
            400,
            "Content-Type",
        ),
        (
            "unknown version",
            json_put(&switchover(MODEL_REVENUE_ID, "107000000099"), json!({"date": "2026-06-01"})),
            404,
            "Not Found",
        ),
        (
            "unknown model",
            json_put(
                &switchover("0123456789ABCDEF0123456789ABCDEF", VERSION_FORECAST_ID),
                json!({"date": "2026-06-01"}),
            ),
            404,
            "Not Found",
        ),
        (
            "a locked model",
            json_put(&switchover(MODEL_LOCKED_ID, VERSION_FORECAST_ID), json!({"date": "2026-06-01"})),
            423,
            "Model locked",
        ),
        (
            "an archived model",
            json_put(&switchover(MODEL_ARCHIVED_ID, VERSION_FORECAST_ID), json!({"date": "2026-06-01"})),
            422,
            "Model archived",
        ),
    ];
    for (what, req, want, says) in cases {
        let (s, body) = api.send(req).await;
        assert_eq!(s, want, "{what}: {body}");
        let message = body["status"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {body}");
    }
    assert_eq!(versions(&api).await, before);
}

#[tokio::test]
async fn only_a_workspace_administrator_reads_or_sets_versions() {
    let api = Api::start().await;
    let theirs = api.fake.access_token_for("user005@example.com");
    let as_them = |method: Method, path: &str| {
        api.http
            .request(method, format!("{}/2/0/{path}", api.fake.base_url()))
            .header("authorization", format!("AnaplanAuthToken {theirs}"))
    };
    let (s, _) = api.send(as_them(Method::GET, &format!("models/{MODEL_REVENUE_ID}/versions"))).await;
    assert_eq!(s, 403);
    // Refused before any id is looked at: an unknown version draws the same 403.
    for version in [VERSION_FORECAST_ID, "107000000099"] {
        let req = as_them(Method::PUT, &switchover(MODEL_REVENUE_ID, version)).json(&json!({"date": "2026-06-01"}));
        assert_eq!(api.send(req).await.0, 403, "{version}");
    }
    assert_eq!(versions(&api).await[1]["switchover"]["date"], "2026-03-01");
}
