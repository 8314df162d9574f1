//! revisions: a model's ALM revision tags (all, the latest, those of a source model that can
//! be synced into it, the models one was applied to) and adding one; what the app can tell is
//! refused before Anaplan is asked to change anything.

use crate::support::app::{App, problem};
use anaplan_emulator::seed::*;
use serde_json::{Value, json};

fn prod() -> String {
    format!("workspaceId={WS_SALES_ID}&modelId={MODEL_PROD_ID}")
}

fn dev() -> String {
    format!("workspaceId={WS_SALES_ID}&modelId={MODEL_DEV_ID}")
}

/// The revision POSTs the emulator received.
fn adds(app: &App) -> usize {
    app.fake.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/alm/revisions")).count()
}

async fn ok(app: &App, query: &str) -> Value {
    let resp = app.get("revisions", query).await;
    assert_eq!(resp.status(), 200, "{query}");
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn get_lists_all_the_latest_the_syncable_and_where_one_was_applied() {
    let app = App::start().await;
    let all = ok(&app, &dev()).await;
    assert_eq!(ids(&all), [REVISION_LAUNCH_ID, REVISION_TERRITORIES_ID]);
    assert_eq!(all[0]["name"], REVISION_LAUNCH_NAME);
    assert_eq!(all[0]["createdBy"], USER_EMAIL);
    assert!(all[0]["appliedOn"].is_string(), "every field Anaplan sends is passed on: {all}");
    let by_name = ok(&app, "workspaceName=Sales%20Ops&modelName=Pipeline%20DEV&kind=all").await;
    assert_eq!(by_name, all);

    let latest = ok(&app, &format!("{}&kind=latest", prod())).await;
    assert_eq!(latest["id"], REVISION_LAUNCH_ID, "one object: {latest}");

    let syncable = ok(&app, &format!("{}&kind=syncable&sourceModelName=Pipeline%20DEV", prod())).await;
    assert_eq!(ids(&syncable), [REVISION_TERRITORIES_ID]);
    let by_id =
        ok(&app, &format!("{}&kind=syncable&sourceModelId={MODEL_DEV_ID}&sourceWorkspaceName=Sales%20Ops", prod()))
            .await;
    assert_eq!(by_id, syncable);

    let applied = ok(&app, &format!("{}&kind=appliedTo&revisionId={REVISION_LAUNCH_ID}", prod())).await;
    let models: Vec<&str> = applied.as_array().unwrap().iter().map(|m| m["modelId"].as_str().unwrap()).collect();
    assert_eq!(models, [MODEL_DEV_ID, MODEL_PROD_ID], "the model it was created in first");
    assert_eq!(applied[0]["modelName"], MODEL_DEV_NAME);
}

#[tokio::test]
async fn get_refuses_what_it_cannot_answer_before_or_as_anaplan_says() {
    let app = App::start().await;
    for (extra, says) in [
        ("kind=syncable", "sourceModelId"),
        ("kind=appliedTo", "revisionId"),
        ("kind=appliedTo&revisionId=abc", "revisionId"),
        (&format!("sourceModelId={MODEL_DEV_ID}") as &str, "kind=syncable"),
        (&format!("revisionId={REVISION_LAUNCH_ID}"), "kind=appliedTo"),
        ("kind=newest", "kind"),
        ("action=add", "POST"),
    ] {
        let body = problem(app.get("revisions", &format!("{}&{extra}", prod())).await, 400).await;
        assert!(body["detail"].as_str().unwrap().contains(says), "{extra}: {body}");
    }
    // No revision yet, a revision of another model, a source model that does not exist.
    let body = problem(
        app.get("revisions", &format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&kind=latest")).await,
        404,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("no revision"), "{body}");
    let other = format!("{}&kind=appliedTo&revisionId={REVISION_TERRITORIES_ID}", prod());
    let body = problem(app.get("revisions", &other).await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains(REVISION_TERRITORIES_ID), "{body}");
    let body =
        problem(app.get("revisions", &format!("{}&kind=syncable&sourceModelName=Pipeline%20DEW", prod())).await, 404)
            .await;
    assert!(body["detail"].as_str().unwrap().contains("Pipeline DEV"), "closest names: {body}");
    // An archived model: Anaplan's 422.
    let archived = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_ARCHIVED_ID}");
    problem(app.get("revisions", &archived).await, 422).await;
}

#[tokio::test]
async fn add_answers_the_new_tag_and_refuses_deployed_models_and_bad_bodies_before_anaplan() {
    let app = App::start().await;
    let resp = app
        .post(
            "revisions",
            &format!("{}&action=add", dev()),
            &json!({"name": "2026.3 Quotas", "description": "Quota module"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    assert_eq!((made["name"].as_str(), made["description"].as_str()), (Some("2026.3 Quotas"), Some("Quota module")));
    let all = ok(&app, &dev()).await;
    assert_eq!(all.as_array().unwrap().last().unwrap()["id"], made["id"]);
    assert_eq!(adds(&app), 1);

    // Anaplan's own refusal: no structural changes since that revision.
    let body =
        problem(app.post("revisions", &format!("{}&action=add", dev()), &json!({"name": "again"})).await, 409).await;
    assert_eq!(body["type"].as_str().unwrap().rsplit(':').next(), Some("revision-refused"), "{body}");
    assert_eq!(body["anaplan"]["status"], 422);
    assert_eq!(adds(&app), 2);

    // Refused without asking Anaplan to change anything.
    let body =
        problem(app.post("revisions", &format!("{}&action=add", prod()), &json!({"name": "Hotfix"})).await, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("deployed mode"), "{body}");
    for bad in [
        json!({}),
        json!({"name": "x".repeat(61)}),
        json!({"name": "ok", "description": "d".repeat(251)}),
        json!({"name": "ok", "tag": "x"}),
    ] {
        problem(app.post("revisions", &format!("{}&action=add", dev()), &bad).await, 400).await;
    }
    problem(app.post("revisions", &format!("{}&action=add&kind=all", dev()), &json!({"name": "x"})).await, 400).await;
    problem(app.post("revisions", &dev(), &json!({"name": "x"})).await, 400).await;
    assert_eq!(adds(&app), 2, "nothing more reached Anaplan");
}
