//! `list-objects`: the workspaces, models, processes, exports, imports, views, modules, lists,
//! line items, dimensions, dashboards, versions, ALM revisions or other actions an identity can
//! see, as `[{"id", "name"}]`. It feeds the custom connector's dropdowns.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem};
use crate::machinery::declare::{Answer, Function, Group, Input, Object, Operation, Param, RequestBody, Trigger};
use anaplan::Listing;
use anaplan::ids::{LineItemId, ModuleId, WorkspaceId};

const KIND: Param = Param::choice(
    "kind",
    &[
        "workspaces",
        "models",
        "processes",
        "exports",
        "imports",
        "views",
        "modules",
        "lineItems",
        "lists",
        "dimensions",
        "dashboards",
        "versions",
        "revisions",
        "actions",
        "integrations",
        "flows",
    ],
    "Kind",
    "What to list. models are a workspace's, or every workspace's without one; processes, exports, imports, views, modules, lists, lineItems, \
     dimensions, dashboards, versions, revisions (ALM) and actions (other actions) need a workspace and a model; \
     with a module, lineItems and views are that module's; dimensions with a line item are that line item's \
     dimensions (Time and Versions included), without one the model's lists; integrations and flows (CloudWorks) \
     need neither.",
)
.required();

/// `list-objects`.
pub const FUNCTION: Function = Function {
    name: "list-objects",
    trigger: Trigger::Http { methods: &[Method::GET], body: RequestBody::Parameters },
    inputs: &[
        Input::Param(KIND),
        Input::Param(Param::text(
            "workspaceId",
            "Workspace",
            "The workspace's id (32 lowercase hexadecimal characters), for every kind but workspaces.",
        )),
        Input::ObjectName(Object::Workspace),
        Input::Param(Param::text(
            "modelId",
            "Model",
            "The model's id (32 uppercase hexadecimal characters), for processes, exports, imports and views.",
        )),
        Input::ObjectName(Object::Model),
        Input::Param(Param::text(
            "moduleId",
            "Module",
            "The module's id (12 digits starting with 102): lineItems and views of that module only, and the \
             module of a line item named by its name for dimensions.",
        )),
        Input::ObjectName(Object::Module),
        Input::Param(Param::text(
            "lineItemId",
            "Line item",
            "For dimensions: the line item whose dimensions to list (12 digits starting with 2).",
        )),
        Input::ObjectName(Object::LineItem),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "ListObjects",
        summary: "List Anaplan objects",
        description: "Lists the workspaces, models, processes, exports, imports, views, modules, lists, line items, \
                      dimensions, dashboards, versions, ALM revisions or other actions \
                      the connection's identity can see, as id and name. It also feeds the dropdowns of the other \
                      actions.",
        important: false,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The objects, as id and name.", schema: "ObjectItem", array: true },
    }),
    more_operations: &[],
    schemas: &[],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// What to list, and in what.
enum ListObjectsRequest {
    Workspaces,
    /// Models of a workspace, or of every workspace the identity sees.
    Models(Option<ObjectRef<WorkspaceId>>),
    /// Processes, exports, imports, other actions, views, modules or lists of a model (`kind` says which).
    OfModel(&'static str, ModelRef),
    /// CloudWorks integrations or flows (`kind` says which).
    CloudWorks(&'static str),
    /// Line items of a module, or of every module of the model.
    LineItems(ModelRef, Option<ObjectRef<ModuleId>>),
    /// Views of one module.
    ModuleViews(ModelRef, ObjectRef<ModuleId>),
    /// Dimensions: a line item's, else the model's lists.
    Dimensions(ModelRef, Option<LineItemRef>),
    /// Versions of a model (not a catalogue listing: read fresh, as `versions` does).
    Versions(ModelRef),
    /// ALM revisions of a model (read fresh, as `revisions` does).
    Revisions(ModelRef),
}

/// A line item: by id alone (ids are unique in a model), or by id or name within a module.
enum LineItemRef {
    ById(LineItemId),
    InModule(ObjectRef<ModuleId>, ObjectRef<LineItemId>),
}

impl ListObjectsRequest {
    fn parse(params: &Params) -> Result<Self, Problem> {
        let kind = params.choice(&KIND)?.unwrap_or("workspaces");
        let has =
            |name: &str| params.get(&format!("{name}Id")).is_some() || params.get(&format!("{name}Name")).is_some();
        let (wants_workspace, wants_model) = match kind {
            "workspaces" | "integrations" | "flows" => (false, false),
            "models" => (true, false),
            _ => (true, true),
        };
        let wants_module = matches!(kind, "lineItems" | "dimensions" | "views");
        let wants_line_item = kind == "dimensions";
        for (name, wanted) in [
            ("workspace", wants_workspace),
            ("model", wants_model),
            ("module", wants_module),
            ("lineItem", wants_line_item),
        ] {
            if has(name) && !wanted {
                return Err(Problem::bad_parameter(format!("kind={kind} takes no {name}Id or {name}Name")));
            }
        }
        Ok(match kind {
            "workspaces" => ListObjectsRequest::Workspaces,
            "models" if has("workspace") => ListObjectsRequest::Models(Some(params.object("workspace")?)),
            "models" => ListObjectsRequest::Models(None),
            "integrations" | "flows" => ListObjectsRequest::CloudWorks(kind),
            "versions" => ListObjectsRequest::Versions(ModelRef::parse(params)?),
            "revisions" => ListObjectsRequest::Revisions(ModelRef::parse(params)?),
            "lineItems" if has("module") => {
                ListObjectsRequest::LineItems(ModelRef::parse(params)?, Some(params.object("module")?))
            }
            "lineItems" => ListObjectsRequest::LineItems(ModelRef::parse(params)?, None),
            "views" if has("module") => {
                ListObjectsRequest::ModuleViews(ModelRef::parse(params)?, params.object("module")?)
            }
            "dimensions" => {
                let line_item = match (has("lineItem"), has("module")) {
                    (false, false) => None,
                    (false, true) => {
                        return Err(Problem::bad_parameter(
                            "kind=dimensions takes a module only with a lineItemName (the line item whose dimensions \
                             to list)",
                        ));
                    }
                    (true, true) => Some(LineItemRef::InModule(params.object("module")?, params.object("lineItem")?)),
                    (true, false) => match params.object("lineItem")? {
                        ObjectRef::Id(id) => Some(LineItemRef::ById(id)),
                        ObjectRef::Name(_) => {
                            return Err(Problem::bad_parameter(
                                "a lineItemName needs the module it belongs to (moduleId or moduleName)",
                            ));
                        }
                    },
                };
                ListObjectsRequest::Dimensions(ModelRef::parse(params)?, line_item)
            }
            _ => ListObjectsRequest::OfModel(kind, ModelRef::parse(params)?),
        })
    }
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = ListObjectsRequest::parse(&call.params()?)?;
    let client = call.client(state)?;
    let listing = match req {
        ListObjectsRequest::CloudWorks(kind) => {
            let cw = super::run_integration::cloudworks_client(state, &call)?;
            let items = match kind {
                "flows" => anaplan::cloudworks::flows(&cw).await?,
                _ => anaplan::cloudworks::integrations(&cw).await?,
            };
            return Ok(json_list(&items));
        }
        ListObjectsRequest::Versions(m) => {
            let (ws, model) = state.model(&client, m).await?;
            let versions = client.versions(&ws, &model).await?;
            let items: Vec<anaplan::Named> =
                versions.into_iter().map(|v| anaplan::Named { id: v.id, name: v.name }).collect();
            return Ok(json_list(&items));
        }
        ListObjectsRequest::Revisions(m) => return Ok(json_list(&super::revisions::named(state, &client, m).await?)),
        ListObjectsRequest::Workspaces => Listing::Workspaces,
        ListObjectsRequest::Models(Some(ws)) => Listing::Models(state.workspace(&client, ws).await?),
        ListObjectsRequest::Models(None) => Listing::AllModels,
        ListObjectsRequest::OfModel(kind, m) => {
            let (ws, model) = state.model(&client, m).await?;
            match kind {
                "processes" => Listing::Processes(ws, model),
                "exports" => Listing::Exports(ws, model),
                "imports" => Listing::Imports(ws, model),
                "actions" => Listing::Actions(ws, model),
                "dashboards" => Listing::Dashboards(ws, model),
                "modules" => Listing::Modules(model),
                "lists" => Listing::Lists(model),
                _ => Listing::Views(model),
            }
        }
        ListObjectsRequest::Dimensions(m, None) => Listing::Lists(state.model(&client, m).await?.1),
        ListObjectsRequest::Dimensions(m, Some(line_item)) => {
            let (_, model) = state.model(&client, m).await?;
            let line_item = match line_item {
                LineItemRef::ById(id) => id,
                LineItemRef::InModule(module, line_item) => {
                    let module = state.find(&client, &Listing::Modules(model.clone()), module).await?.id;
                    state.find(&client, &Listing::LineItems(model.clone(), module), line_item).await?.id
                }
            };
            return Ok(json_list(&client.line_item_dimensions(&model, &line_item).await?));
        }
        ListObjectsRequest::LineItems(m, Some(module)) => {
            let (_, model) = state.model(&client, m).await?;
            let module = state.find(&client, &Listing::Modules(model.clone()), module).await?.id;
            Listing::LineItems(model, module)
        }
        ListObjectsRequest::LineItems(m, None) => Listing::ModelLineItems(state.model(&client, m).await?.1),
        ListObjectsRequest::ModuleViews(m, module) => {
            let (_, model) = state.model(&client, m).await?;
            let module = state.find(&client, &Listing::Modules(model.clone()), module).await?.id;
            Listing::ModuleViews(model, module)
        }
    };
    let items = state.catalog.list(&client, &listing).await?;
    Ok(json_list(&items))
}

fn json_list(items: &[anaplan::Named]) -> Response {
    let mut resp = (StatusCode::OK, serde_json::to_string(items).unwrap_or_else(|_| "[]".into())).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
