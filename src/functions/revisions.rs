//! `revisions`: a model's ALM revision tags. GET lists them: `kind=all` (the default) every
//! revision, `latest` the latest one (an object; a model without revisions is a 404),
//! `syncable` the revisions of a source model (`sourceModelId` | `sourceModelName`, in the
//! same workspace unless `sourceWorkspaceId` | `sourceWorkspaceName` says another) that can
//! be synced into this model, newest first, and `appliedTo` the models revision `revisionId`
//! was applied to, the model it was created in first. POST `action=add` (body `{"name",
//! "description"}`) adds a revision tag and answers it with 201.
//!
//! Every field Anaplan sends is passed on as sent. Checked before Anaplan is called: the
//! parameters, the body (name 1 to 60 characters, description at most 250, as the description
//! documents), and the model's state: Anaplan adds a revision only to a model in standard
//! mode, so a deployed (`PRODUCTION`) model is a 409 and an archived one a 422 without asking.
//! A refusal Anaplan alone can make (no structural changes since the last revision) comes
//! back as `revision-refused` with Anaplan's message.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, ModelRef, Params, Problem, ProblemType, strict_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::prop;
use anaplan::AnaplanError;
use anaplan::alm::RevisionId;
use anaplan::ids::{ModelId, WorkspaceId};
use anaplan::untrusted::quote;

/// `kind` of a GET.
pub const KIND: Param = Param::choice(
    "kind",
    &["all", "latest", "syncable", "appliedTo"],
    "Kind",
    "all (the default): every revision; latest: the latest one; syncable: the source model's revisions that can be \
     synced into this model (needs a source model); appliedTo: the models a revision was applied to (needs \
     revisionId).",
)
.default("all");

/// `action` of a POST.
pub const ACTION: Param =
    Param::choice("action", &["add"], "Action", "add: adds a revision tag to the model (in standard mode only).");

const SOURCE_MODEL_ID: Param = Param::text(
    "sourceModelId",
    "Source model",
    "For kind=syncable: the source model's id (32 uppercase hexadecimal characters), or its name in sourceModelName.",
);
const SOURCE_MODEL_NAME: Param =
    Param::text("sourceModelName", "Source model name", "For kind=syncable: the source model's exact name.").advanced();
const SOURCE_WORKSPACE_ID: Param = Param::text(
    "sourceWorkspaceId",
    "Source workspace",
    "The source model's workspace, when it is not this model's (32 lowercase hexadecimal characters).",
)
.advanced();
const SOURCE_WORKSPACE_NAME: Param =
    Param::text("sourceWorkspaceName", "Source workspace name", "The source model's workspace, by exact name.")
        .advanced();
const REVISION_ID: Param = Param::text(
    "revisionId",
    "Revision",
    "For kind=appliedTo: the revision's id (32 uppercase hexadecimal characters; list-objects kind=revisions).",
)
.dropdown("revisions", &[("workspaceId", "workspaceId"), ("modelId", "modelId")]);

/// `revisions`.
pub const FUNCTION: Function = Function {
    name: "revisions",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Param(KIND),
        Input::Param(SOURCE_MODEL_ID),
        Input::Param(SOURCE_MODEL_NAME),
        Input::Param(SOURCE_WORKSPACE_ID),
        Input::Param(SOURCE_WORKSPACE_NAME),
        Input::Param(REVISION_ID),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "ListRevisions",
        summary: "List a model's ALM revisions",
        description: "Lists the model's revision tags as Anaplan reports them; kind=latest answers the latest one, \
                      kind=syncable a source model's revisions that can be synced into this model (newest first), \
                      kind=appliedTo the models a revision was applied to. Needs the Workspace Administrator role \
                      in Anaplan.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The revisions (kind=latest: one).", schema: "Revision", array: true },
    }),
    more_operations: &[ADD_OPERATION],
    schemas: &[Schema { name: "Revision", build: revision_schema }, Schema { name: "NewRevision", build: new_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `revisions`' POST in the connector: add a revision tag.
pub const ADD_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Object(Object::Workspace), Input::Object(Object::Model), Input::Param(ACTION.required())],
    body: Some("NewRevision"),
    operation: Operation {
        id: "AddRevision",
        summary: "Add an ALM revision tag",
        description: "Adds a revision tag to a model in standard mode that has structural changes since its last \
                      revision (Anaplan refuses it otherwise). Answers the new revision (201).",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The new revision.", schema: "Revision", array: false },
    },
    accepted: None,
};

/// `#/definitions/Revision`.
fn revision_schema() -> Value {
    json!({
        "type": "object",
        "description": "A revision tag as Anaplan reports it (kind=appliedTo: a model it was applied to).",
        "properties": {
            "id": prop("string", "Revision ID", "The revision's id."),
            "name": prop("string", "Name", "The revision's name."),
            "description": prop("string", "Description", "Its description."),
            "createdOn": prop("string", "Created on", "When it was created (ISO 8601)."),
            "createdBy": prop("string", "Created by", "Who created it."),
            "creationMethod": prop("string", "Creation method", "How it was created."),
            "appliedOn": prop("string", "Applied on", "When it was applied to this model."),
            "appliedBy": prop("string", "Applied by", "Who applied it."),
            "modelId": prop("string", "Model ID", "kind=appliedTo: the model's id."),
            "modelName": prop("string", "Model name", "kind=appliedTo: the model's name."),
            "workspaceId": prop("string", "Workspace ID", "kind=appliedTo: the model's workspace."),
            "modelDeleted": prop("boolean", "Model deleted", "kind=appliedTo: whether the model was deleted."),
        },
    })
}

/// `#/definitions/NewRevision`: the body of a POST.
fn new_schema() -> Value {
    json!({
        "type": "object",
        "description": "The new revision tag.",
        "required": ["name"],
        "properties": {
            "name": prop("string", "Name", "The revision's name, at most 60 characters."),
            "description": prop("string", "Description", "Its description, at most 250 characters."),
        },
    })
}

/// What a GET asks for.
#[derive(Debug)]
enum Listing {
    All,
    Latest,
    Syncable(ModelRef),
    AppliedTo(RevisionId),
}

impl Listing {
    fn parse(params: &Params, target: &ModelRef) -> Result<Self, Problem> {
        let kind = params.choice(&KIND)?.unwrap_or("all");
        let has = |p: &Param| params.get(p.name).is_some();
        let source = [SOURCE_MODEL_ID, SOURCE_MODEL_NAME, SOURCE_WORKSPACE_ID, SOURCE_WORKSPACE_NAME];
        if kind != "syncable"
            && let Some(p) = source.iter().find(|p| has(p))
        {
            return Err(Problem::bad_parameter(format!("{} is for kind=syncable", p.name)));
        }
        if kind != "appliedTo" && has(&REVISION_ID) {
            return Err(Problem::bad_parameter("revisionId is for kind=appliedTo"));
        }
        Ok(match kind {
            "latest" => Listing::Latest,
            "syncable" => {
                if !has(&SOURCE_MODEL_ID) && !has(&SOURCE_MODEL_NAME) {
                    return Err(Problem::bad_parameter(
                        "kind=syncable needs the source model: sourceModelId or sourceModelName",
                    ));
                }
                let workspace = if has(&SOURCE_WORKSPACE_ID) || has(&SOURCE_WORKSPACE_NAME) {
                    params.object("sourceWorkspace")?
                } else {
                    target.workspace.clone()
                };
                Listing::Syncable(ModelRef { workspace, model: params.object("sourceModel")? })
            }
            "appliedTo" => {
                let id = params
                    .get(REVISION_ID.name)
                    .ok_or_else(|| Problem::bad_parameter("kind=appliedTo needs revisionId"))?;
                Listing::AppliedTo(RevisionId::parse(id).map_err(|e| Problem::bad_parameter(e.to_string()))?)
            }
            _ => Listing::All,
        })
    }
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    if call.method == Method::POST {
        return add(state, call).await;
    }
    let params = call.params()?;
    if params.get(ACTION.name).is_some() {
        return Err(Problem::bad_parameter("action is for POST (action=add); GET lists the model's revisions"));
    }
    let m = ModelRef::parse(&params)?;
    let listing = Listing::parse(&params, &m)?;
    let client = call.client(state)?;
    let (_, model) = state.model(&client, m).await?;
    let answer = match listing {
        Listing::All => serde_json::to_value(client.revisions(&model).await?),
        Listing::Latest => match client.latest_revision(&model).await? {
            Some(r) => serde_json::to_value(r),
            None => {
                return Err(Problem::new(ProblemType::NotFound, "the model has no revision yet: add one first"));
            }
        },
        Listing::Syncable(source) => {
            let (_, source) = state.model(&client, source).await?;
            serde_json::to_value(client.syncable_revisions(&model, &source).await?)
        }
        Listing::AppliedTo(revision) => match client.applied_to_models(&model, &revision).await {
            Ok(models) => serde_json::to_value(models),
            Err(AnaplanError::Api { status: 404, .. }) => {
                return Err(Problem::new(
                    ProblemType::NotFound,
                    format!("revision {revision} is not a revision of this model (or this identity cannot see it)"),
                ));
            }
            Err(e) => return Err(e.into()),
        },
    };
    Ok(json_answer(StatusCode::OK, &answer.unwrap_or_default()))
}

/// The JSON body of a POST.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    name: Option<String>,
    description: Option<String>,
}

/// A checked POST.
#[derive(Debug)]
struct AddRequest {
    model: ModelRef,
    name: String,
    description: Option<String>,
}

impl AddRequest {
    fn parse(call: &Call) -> Result<Self, Problem> {
        // The query string carries the ids and `action`; the body is the revision.
        let query = Params::collect(&Method::GET, call.query.as_deref(), &call.headers, &[], &call.accepted)?;
        query.choice(&ACTION.required())?;
        for p in [KIND, SOURCE_MODEL_ID, SOURCE_MODEL_NAME, SOURCE_WORKSPACE_ID, SOURCE_WORKSPACE_NAME, REVISION_ID] {
            if query.get(p.name).is_some() {
                return Err(Problem::bad_parameter(format!("{} is for GET; action=add takes a body", p.name)));
            }
        }
        let model = ModelRef::parse(&query)?;
        let shape = "the body must be {\"name\": \"...\", \"description\": \"...\"}";
        if call.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Problem::bad_parameter(format!("{shape} (the body is required)")));
        }
        if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(Problem::bad_parameter(format!(
                    "{shape} (Content-Type: application/json), got {}",
                    quote(&essence)
                )));
            }
        }
        let body: AddBody = serde_json::from_value(strict_json::from_slice(&call.body)?)
            .map_err(|e| Problem::bad_parameter(format!("{shape}: {e}")))?;
        let name = body.name.map(|n| n.trim().to_owned()).unwrap_or_default();
        if name.is_empty() {
            return Err(Problem::bad_parameter("the body's name is required"));
        }
        if name.chars().count() > 60 {
            return Err(Problem::bad_parameter(format!(
                "a revision name has at most 60 characters; this one has {}",
                name.chars().count()
            )));
        }
        let description = body.description.filter(|d| !d.trim().is_empty());
        if let Some(d) = &description
            && d.chars().count() > 250
        {
            return Err(Problem::bad_parameter(format!(
                "a revision description has at most 250 characters; this one has {}",
                d.chars().count()
            )));
        }
        Ok(AddRequest { model, name, description })
    }
}

async fn add(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = AddRequest::parse(&call)?;
    let client = call.client(state)?;
    let (_, model) = state.model(&client, req.model).await?;
    refuse_by_state(&client, &model).await?;
    match client.create_revision(&model, &req.name, req.description.as_deref()).await {
        Ok(revision) => {
            tracing::info!(revision = %revision.id, "revision tag added");
            Ok(json_answer(StatusCode::CREATED, &serde_json::to_value(revision).unwrap_or_default()))
        }
        // The description documents 422 for an archived model (checked above) and states the
        // other rules without a status: whatever Anaplan refuses with, its message says why.
        Err(AnaplanError::Api { status: status @ (409 | 422), message, .. }) => Err(Problem::new(
            ProblemType::RevisionRefused,
            format!(
                "Anaplan refused the revision tag {}: {} (a revision needs structural changes since the model's last \
                 revision)",
                quote(&req.name),
                quote(&message)
            ),
        )
        .with("anaplan", json!({ "status": status, "message": message }))),
        Err(e) => Err(e.into()),
    }
}

/// Anaplan adds a revision only to a model in standard mode, and reads nothing of an
/// archived one: both refused here, before the change is asked for.
async fn refuse_by_state(client: &anaplan::Client, model: &ModelId) -> Result<(), Problem> {
    let info = client.model_info(model).await?;
    match info.active_state.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("ARCHIVED") => Err(Problem::new(
            ProblemType::ModelArchived,
            format!("model {} is archived: Anaplan adds no revision to it", quote(&info.name)),
        )),
        Some(s @ ("PRODUCTION" | "PRODUCTION_MAINTENANCE")) => Err(Problem::new(
            ProblemType::RevisionRefused,
            format!(
                "model {} is in deployed mode ({s}): Anaplan adds revision tags to models in standard mode only; add \
                 it in the development model and sync it here with sync-model",
                quote(&info.name)
            ),
        )
        .with("activeState", json!(s))),
        _ => Ok(()),
    }
}

/// The revisions of a model as `[{"id", "name"}]` (list-objects kind=revisions).
pub async fn named(state: &AppState, client: &anaplan::Client, m: ModelRef) -> Result<Vec<anaplan::Named>, Problem> {
    let (_, model): (WorkspaceId, ModelId) = state.model(client, m).await?;
    let revisions = client.revisions(&model).await?;
    Ok(revisions.into_iter().map(|r| anaplan::Named { id: r.id, name: r.name }).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_connector_lists_and_adds_revisions() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/revisions"];
        assert_eq!(path["get"]["operationId"], "ListRevisions");
        let post = &path["post"];
        assert_eq!(post["operationId"], "AddRevision");
        let params = post["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true));
        assert!(params.iter().any(|p| p["in"] == "body" && p["schema"]["$ref"] == "#/definitions/NewRevision"));
    }
}
