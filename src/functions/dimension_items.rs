//! `dimension-items`: the items of a dimension (a list, Time, Versions, Users, a subset) as
//! `[{"id", "name", "code"}]`, and (POST `action=lookup`) which of a set of names and codes
//! are its items. Which Anaplan call serves it follows from what is given:
//!
//! - a view: the view-level call, only the items the view shows (hidden and filtered items
//!   and selective access left out);
//! - a line item: the items of that line item's dimension (any dimension type);
//! - neither: the model-level call, every item. It takes lists, subsets and Users only:
//!   Time and Versions (ids `20000000003` and `20000000020`) are refused here, before
//!   Anaplan is asked, with a 400 that says to give a line item or a view.
//!
//! Anaplan refuses a dimension above 1,000,000 items with a 400 that differs from its other
//! 400s only in wording, so a list's `itemCount` is read from its metadata first (as
//! `list-items` does) and a larger list is a 400 saying to use `list-items`, without asking.
//! A lookup without a view or line item is Anaplan's lookup (`POST …/dimensions/{d}/items`);
//! with one (Anaplan has no lookup there) the items at that level are read and matched
//! here, the same way: names and codes compared without regard to case.

use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem, ProblemType, json_answer, strict_json};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with, schema_ref};
use anaplan::ids::{DimensionId, LineItemId, ListId, ModelId, ModuleId, ViewId, WorkspaceId};
use anaplan::model_data::{DIRECT_READ_ITEMS, DimensionItem};
use anaplan::names::MAX_NAME_CHARS;
use anaplan::untrusted::quote;
use anaplan::{AnaplanError, Client, Listing, Named};

/// Time's id, as the description's examples give it (`…/lineItems/{id}/dimensions`).
pub const TIME_ID: &str = "20000000003";
/// Versions' id, as the description's examples give it.
pub const VERSIONS_ID: &str = "20000000020";

/// `action` of a POST.
pub const ACTION: Param = Param::choice(
    "action",
    &["lookup"],
    "Action",
    "lookup: which of the body's names and codes are items of the dimension (compared without regard to case).",
);

const VIEW: Param = Param::text(
    "viewId",
    "View",
    "Optional: only the items this view shows (hidden and filtered items and selective access left out). Not \
     together with a line item.",
)
.dropdown("views", &[("workspaceId", "workspaceId"), ("modelId", "modelId")]);

const MODULE: Param = Param::text(
    "moduleId",
    "Module",
    "Optional: the module of the line item (needed when the line item is named by its name).",
)
.dropdown("modules", &[("workspaceId", "workspaceId"), ("modelId", "modelId")]);

const LINE_ITEM: Param = Param::text(
    "lineItemId",
    "Line item",
    "Optional: the items of the dimension as this line item has it (Time and Versions need a line item or a view).",
)
.dropdown("lineItems", &[("workspaceId", "workspaceId"), ("modelId", "modelId"), ("moduleId", "moduleId")]);

const DIMENSION: Param = Param::text(
    "dimensionId",
    "Dimension",
    "The dimension: a list, Time (20000000003), Versions (20000000020), Users or a subset. Pick it from the list (the \
     line item's dimensions, or without one the model's lists), or give its name in 'Dimension name' instead; \
     exactly one of the two.",
)
.dropdown("dimensions", &[("workspaceId", "workspaceId"), ("modelId", "modelId"), ("lineItemId", "lineItemId")]);

const DIMENSION_NAME: Param = Param::text(
    "dimensionName",
    "Dimension name",
    "The dimension's name, e.g. Regions: one of the model's lists, or of the line item's or view's dimensions.",
)
.advanced();

/// The inputs both operations take, in the connector's order.
const INPUTS: &[Input] = &[
    Input::Object(Object::Workspace),
    Input::Object(Object::Model),
    Input::Param(VIEW),
    Input::ObjectName(Object::View),
    Input::Param(MODULE),
    Input::ObjectName(Object::Module),
    Input::Param(LINE_ITEM),
    Input::ObjectName(Object::LineItem),
    Input::Param(DIMENSION),
    Input::Param(DIMENSION_NAME),
];

/// `dimension-items`.
pub const FUNCTION: Function = Function {
    name: "dimension-items",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: INPUTS,
    long_running: None,
    operation: Some(Operation {
        id: "GetDimensionItems",
        summary: "Read a dimension's items",
        description: "The items of a dimension (a list, Time, Versions, Users or a subset) as id, name and code: every \
                      item, only those a view shows, or those of a line item's dimension. Time and Versions need a \
                      line item or a view. A dimension above 1,000,000 items is refused: read it with list-items.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "The dimension's items.", schema: "DimensionItem", array: true },
    }),
    more_operations: &[LOOKUP_OPERATION],
    schemas: &[
        Schema { name: "DimensionItem", build: item_schema },
        Schema { name: "DimensionItemsLookup", build: lookup_schema },
        Schema { name: "DimensionItemsFound", build: found_schema },
    ],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `dimension-items`' POST in the connector: the lookup.
pub const LOOKUP_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Param(VIEW),
        Input::ObjectName(Object::View),
        Input::Param(MODULE),
        Input::ObjectName(Object::Module),
        Input::Param(LINE_ITEM),
        Input::ObjectName(Object::LineItem),
        Input::Param(DIMENSION),
        Input::Param(DIMENSION_NAME),
        Input::Param(ACTION.required()),
    ],
    body: Some("DimensionItemsLookup"),
    operation: Operation {
        id: "LookupDimensionItems",
        summary: "Look up dimension items by name or code",
        description: "Which of the given names and codes are items of the dimension (compared without regard to \
                      case): the items found, and the names and codes that matched none, in the order asked. Use \
                      it to check a file's codes before an import, or to turn names into ids.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer {
            description: "The items found and what was missing.",
            schema: "DimensionItemsFound",
            array: false,
        },
    },
    accepted: None,
};

/// `#/definitions/DimensionItem`: one item.
fn item_schema() -> Value {
    json!({
        "type": "object",
        "description": "An item of a dimension.",
        "properties": {
            "id": prop("string", "Item ID", "The item's id."),
            "name": prop("string", "Item name", "The item's name."),
            "code": prop("string", "Item code", "The item's code (null when it has none; Anaplan leaves the key out)."),
        },
    })
}

/// `#/definitions/DimensionItemsLookup`: the body of a lookup.
fn lookup_schema() -> Value {
    let strings = |summary: &str, description: &str| {
        prop_with("array", summary, description, "items", json!({ "type": "string" }))
    };
    json!({
        "type": "object",
        "description": "The names and codes to look up; at least one of the two holds a value.",
        "properties": {
            "names": strings("Names", "Item names to look up (any case)."),
            "codes": strings("Codes", "Item codes to look up (any case)."),
        },
    })
}

/// `#/definitions/DimensionItemsFound`: what a lookup answers.
fn found_schema() -> Value {
    let strings = |summary: &str, description: &str| {
        prop_with("array", summary, description, "items", json!({ "type": "string" }))
    };
    json!({
        "type": "object",
        "description": "The items found, and the names and codes that matched none.",
        "properties": {
            "found": prop_with("array", "Found", "The items whose name or code was asked for.", "items", schema_ref("DimensionItem")),
            "missing": prop_with("object", "Missing", "What matched no item, in the order asked.", "properties", json!({
                "names": strings("Missing names", "The names asked for that no item has."),
                "codes": strings("Missing codes", "The codes asked for that no item has."),
            })),
        },
    })
}

/// A line item: by id alone (ids are unique in a model), or by id or name within a module.
enum LineItemRef {
    ById(LineItemId),
    InModule(ObjectRef<ModuleId>, ObjectRef<LineItemId>),
}

/// Which Anaplan call serves the request.
enum Scope {
    Model,
    View(ObjectRef<ViewId>),
    LineItem(LineItemRef),
}

/// A checked request.
struct Request {
    model: ModelRef,
    scope: Scope,
    dimension: ObjectRef<DimensionId>,
    /// A lookup's names and codes (POST).
    lookup: Option<(Vec<String>, Vec<String>)>,
}

impl Request {
    fn parse(params: &Params, lookup: Option<(Vec<String>, Vec<String>)>) -> Result<Request, Problem> {
        let has =
            |name: &str| params.get(&format!("{name}Id")).is_some() || params.get(&format!("{name}Name")).is_some();
        let scope = match (has("view"), has("lineItem"), has("module")) {
            (true, false, false) => Scope::View(params.object("view")?),
            (true, _, _) => {
                return Err(Problem::bad_parameter(
                    "give a view or a line item (with its module), not both: the view-level and line-item-level \
                     reads are different calls",
                ));
            }
            (false, false, false) => Scope::Model,
            (false, false, true) => {
                return Err(Problem::bad_parameter(
                    "a module is taken only with a lineItemName (the line item whose dimension to read)",
                ));
            }
            (false, true, true) => {
                Scope::LineItem(LineItemRef::InModule(params.object("module")?, params.object("lineItem")?))
            }
            (false, true, false) => match params.object("lineItem")? {
                ObjectRef::Id(id) => Scope::LineItem(LineItemRef::ById(id)),
                ObjectRef::Name(_) => {
                    return Err(Problem::bad_parameter(
                        "a lineItemName needs the module it belongs to (moduleId or moduleName)",
                    ));
                }
            },
        };
        Ok(Request { model: ModelRef::parse(params)?, scope, dimension: params.object("dimension")?, lookup })
    }
}

/// The JSON body of a lookup.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupBody {
    action: Option<String>,
    names: Option<Vec<String>>,
    codes: Option<Vec<String>>,
}

/// The parameters (query string) and the names and codes (body) of a POST, checked.
fn parse_lookup(call: &Call) -> Result<(Params, Vec<String>, Vec<String>), Problem> {
    // The query string carries the objects and `action`; the body is a JSON object of
    // names and codes (arrays, which a body of parameters cannot carry).
    let params = Params::collect(&Method::GET, call.query.as_deref(), &call.headers, &[], &call.accepted)?;
    let body: LookupBody = if call.body.iter().all(u8::is_ascii_whitespace) {
        LookupBody::default()
    } else {
        if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(Problem::bad_parameter(format!(
                    "the body must be a JSON object (Content-Type: application/json), got {}",
                    quote(&essence)
                )));
            }
        }
        serde_json::from_value(strict_json::from_slice(&call.body)?)
            .map_err(|e| Problem::bad_parameter(format!("the body: {e}")))?
    };
    match (params.get(ACTION.name), body.action.as_deref().map(str::trim)) {
        (Some(a), Some(b)) if a != b => {
            return Err(Problem::bad_parameter(
                "parameter action is given twice with different values (the second in the body)",
            ));
        }
        (Some("lookup"), _) | (None, Some("lookup")) => {}
        (None, None | Some("")) => return Err(Problem::bad_parameter("action is required: lookup")),
        (Some(other), _) | (None, Some(other)) => {
            return Err(Problem::bad_parameter(format!("action must be lookup; got {}", quote(other))));
        }
    }
    let checked = |values: Option<Vec<String>>, what: &str| -> Result<Vec<String>, Problem> {
        let values = values.unwrap_or_default();
        for (i, v) in values.iter().enumerate() {
            if v.trim().is_empty() {
                return Err(Problem::bad_parameter(format!("{what}[{i}] is empty")));
            }
            let chars = v.chars().count();
            if chars > MAX_NAME_CHARS {
                return Err(Problem::bad_parameter(format!(
                    "{what}[{i}] is {chars} characters long; an Anaplan name or code has at most {MAX_NAME_CHARS}"
                )));
            }
        }
        Ok(values)
    };
    let names = checked(body.names, "names")?;
    let codes = checked(body.codes, "codes")?;
    if names.is_empty() && codes.is_empty() {
        return Err(Problem::bad_parameter(
            "the body needs names or codes to look up, e.g. {\"names\": [\"North\"], \"codes\": [\"R02\"]}",
        ));
    }
    Ok((params, names, codes))
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let req = if call.method == Method::POST {
        let (params, names, codes) = parse_lookup(&call)?;
        Request::parse(&params, Some((names, codes)))?
    } else {
        let params = call.params()?;
        if params.get(ACTION.name).is_some() {
            return Err(Problem::bad_parameter("action is for POST; GET reads the dimension's items"));
        }
        Request::parse(&params, None)?
    };
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, req.model).await?;
    let at = match req.scope {
        Scope::Model => At::Model,
        Scope::View(v) => At::View(state.find(&client, &Listing::Views(model.clone()), v).await?.id),
        Scope::LineItem(LineItemRef::ById(id)) => At::LineItem(id),
        Scope::LineItem(LineItemRef::InModule(module, line_item)) => {
            let module = state.find(&client, &Listing::Modules(model.clone()), module).await?.id;
            At::LineItem(state.find(&client, &Listing::LineItems(model.clone(), module), line_item).await?.id)
        }
    };
    let dimension = match req.dimension {
        ObjectRef::Id(id) => id,
        ObjectRef::Name(name) => dimension_by_name(state, &client, &model, &at, &name).await?,
    };
    if matches!(at, At::Model) && [TIME_ID, VERSIONS_ID].contains(&dimension.as_str()) {
        let which = if dimension.as_str() == TIME_ID { "Time" } else { "Versions" };
        return Err(Problem::bad_parameter(format!(
            "{which} ({dimension}) is not read at model level: Anaplan's model-level call takes lists, list subsets, \
             line item subsets and Users. Give a line item that has {which} (lineItemId, or lineItemName with its \
             module) or a view (viewId or viewName)"
        )));
    }
    let scope = Read { client: &client, ws: &ws, model: &model, dimension: &dimension };
    match req.lookup {
        None => {
            let items = scope.items(&at).await?;
            tracing::info!(items = items.len(), "dimension items read");
            Ok(json_answer(StatusCode::OK, &Value::Array(items.iter().map(item_json).collect())))
        }
        Some((names, codes)) => {
            let found = match at {
                At::Model => client
                    .lookup_dimension_items(&ws, &model, &dimension, &names, &codes)
                    .await
                    .map_err(|e| lookup_refused(e, &dimension, !codes.is_empty()))?,
                _ => matching(scope.items(&at).await?, &names, &codes),
            };
            tracing::info!(asked = names.len() + codes.len(), found = found.len(), "dimension items looked up");
            Ok(json_answer(StatusCode::OK, &lookup_answer(&found, &names, &codes)))
        }
    }
}

/// The call that serves a request, its objects resolved.
enum At {
    Model,
    View(ViewId),
    LineItem(LineItemId),
}

/// The dimension named `name`: among the view's axes or the line item's dimensions, when
/// given, and the model's lists (Anaplan lists no model's dimensions in one call). Time and
/// Versions by name without a line item or view are a 400 saying what to give.
async fn dimension_by_name(
    state: &AppState,
    client: &Client,
    model: &ModelId,
    at: &At,
    name: &str,
) -> Result<DimensionId, Problem> {
    let mut candidates: Vec<Named> = match at {
        At::Model => Vec::new(),
        At::View(view) => {
            let meta = client.view_metadata(model, view).await?;
            meta.rows.into_iter().chain(meta.columns).chain(meta.pages).collect()
        }
        At::LineItem(line_item) => client.line_item_dimensions(model, line_item).await?,
    };
    for list in state.catalog.list(client, &Listing::Lists(model.clone())).await?.iter() {
        if !candidates.iter().any(|c| c.id == list.id) {
            candidates.push(list.clone());
        }
    }
    match anaplan::catalog::pick("dimension", &candidates, name) {
        Ok(found) => DimensionId::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()).into()),
        Err(AnaplanError::UnknownName { .. }) if matches!(at, At::Model) && ["Time", "Versions"].contains(&name) => {
            Err(Problem::bad_parameter(format!(
                "{name} is not one of the model's lists, and Anaplan's model-level call does not read it: give a line \
                 item that has {name} (lineItemId, or lineItemName with its module) or a view (viewId or viewName), \
                 or its id ({}) with one of them",
                if name == "Time" { TIME_ID } else { VERSIONS_ID }
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// One dimension's items, read at one level.
struct Read<'a> {
    client: &'a Client,
    ws: &'a WorkspaceId,
    model: &'a ModelId,
    dimension: &'a DimensionId,
}

impl Read<'_> {
    async fn items(&self, at: &At) -> Result<Vec<DimensionItem>, Problem> {
        let (client, model, dimension) = (self.client, self.model, self.dimension);
        match at {
            At::View(view) => client.view_dimension_items(model, view, dimension.as_str()).await.map_err(|e| match e {
                // The description's only 400 for this call: the view is above 1,000,000 cells.
                AnaplanError::Api { status: 400, message, .. } => Problem::new(
                    ProblemType::DimensionTooLarge,
                    format!(
                        "Anaplan reads a view's dimension items only for a view of at most 1,000,000 cells, and \
                         refused this one (400): read the dimension through a smaller view or a line item, or a \
                         list with list-items ({})",
                        quote(&message)
                    ),
                )
                .with("anaplan", json!({ "status": 400, "message": message })),
                e => e.into(),
            }),
            At::LineItem(line_item) => {
                self.check_size().await?;
                Ok(client.line_item_dimension_items(model, line_item, dimension.as_str()).await?)
            }
            At::Model => {
                let counted = self.check_size().await?;
                client.dimension_items(self.ws, model, dimension).await.map_err(|e| match e {
                    // Time and a list too large were ruled out above (when the list gave its
                    // count); the wording of Anaplan's 400 is not read.
                    AnaplanError::Api { status: 400, message, .. } => Problem::new(
                        ProblemType::AnaplanBadRequest,
                        format!(
                            "Anaplan refused to read dimension {dimension} at model level (400){}: the model-level \
                             call takes lists, list subsets, line item subsets and Users of at most 1,000,000 items. \
                             For another dimension give a line item or a view that has it; for a larger list use \
                             list-items ({})",
                            if counted { "" } else { ", and its size is not known" },
                            quote(&message)
                        ),
                    )
                    .with("anaplan", json!({ "status": 400, "message": message })),
                    e => e.into(),
                })
            }
        }
    }

    /// A list above 1,000,000 items is refused, from its metadata's `itemCount` (which
    /// counts the top level item, as the items do) before its items are asked for. Whether
    /// the count was known: a dimension that is not a list (a subset, Users) has no
    /// metadata here.
    async fn check_size(&self) -> Result<bool, Problem> {
        let Ok(list) = ListId::parse(self.dimension.as_str()) else { return Ok(false) };
        let count = match self.client.list_size(self.model, &list).await {
            Ok(size) => size.item_count,
            Err(AnaplanError::Api { status: 400 | 404, .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(n) = count.filter(|n| *n > DIRECT_READ_ITEMS) {
            return Err(Problem::new(
                ProblemType::DimensionTooLarge,
                format!(
                    "the list {} holds {n} items; Anaplan reads a dimension's items in one call only up to \
                     1,000,000: read it with list-items, which reads large lists through a large list read",
                    self.dimension
                ),
            )
            .with("itemCount", json!(n)));
        }
        Ok(count.is_some())
    }
}

/// Anaplan's 400 to a lookup: the description's two, codes on a dimension without codes and
/// a body without names or codes (never sent), told apart by what was sent, not by wording.
fn lookup_refused(e: AnaplanError, dimension: &DimensionId, codes: bool) -> Problem {
    match e {
        AnaplanError::Api { status: 400, message, .. } => Problem::new(
            ProblemType::AnaplanBadRequest,
            format!(
                "Anaplan refused the lookup in dimension {dimension} (400){}: {}",
                if codes {
                    ", which it does for codes on a dimension without codes (look up by names there)"
                } else {
                    ""
                },
                quote(&message)
            ),
        )
        .with("anaplan", json!({ "status": 400, "message": message })),
        e => e.into(),
    }
}

/// The items whose name is one of `names` or whose code is one of `codes`, compared as
/// Anaplan's lookup compares them (without regard to case), in the dimension's order.
fn matching(items: Vec<DimensionItem>, names: &[String], codes: &[String]) -> Vec<DimensionItem> {
    let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let codes: Vec<String> = codes.iter().map(|c| c.to_lowercase()).collect();
    items
        .into_iter()
        .filter(|i| {
            names.contains(&i.name.to_lowercase())
                || i.code.as_deref().is_some_and(|c| !c.is_empty() && codes.contains(&c.to_lowercase()))
        })
        .collect()
}

/// `{"found", "missing": {"names", "codes"}}`: missing are the names and codes asked for
/// that no found item has (without regard to case), each once, in the order asked.
fn lookup_answer(found: &[DimensionItem], names: &[String], codes: &[String]) -> Value {
    let have_names: Vec<String> = found.iter().map(|i| i.name.to_lowercase()).collect();
    let have_codes: Vec<String> = found.iter().filter_map(|i| i.code.as_deref()).map(str::to_lowercase).collect();
    let missing = |asked: &[String], have: &[String]| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for a in asked {
            let key = a.to_lowercase();
            if !have.contains(&key) && !seen.contains(&key) {
                out.push(a.clone());
            }
            seen.push(key);
        }
        out
    };
    json!({
        "found": found.iter().map(item_json).collect::<Vec<_>>(),
        "missing": { "names": missing(names, &have_names), "codes": missing(codes, &have_codes) },
    })
}

/// `{"id", "name", "code"}`, as the contract has it: `code` is `null` for an item without
/// one (Anaplan leaves the key out), so every item has the same fields in a Logic App.
fn item_json(i: &DimensionItem) -> Value {
    json!({ "id": i.id, "name": i.name, "code": i.code.as_deref().filter(|c| !c.is_empty()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, name: &str, code: Option<&str>) -> DimensionItem {
        DimensionItem { id: id.into(), name: name.into(), code: code.map(str::to_owned) }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn matching_ignores_case_and_missing_keeps_the_order_asked_once() {
        let items = vec![item("1", "North", Some("R01")), item("2", "South", Some("R02")), item("0", "All", None)];
        let (names, codes) = (strings(&["south", "Nowhere", "NOWHERE", "east"]), strings(&["r01", "R09"]));
        let found = matching(items, &names, &codes);
        assert_eq!(found.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
        let answer = lookup_answer(&found, &names, &codes);
        assert_eq!(answer["missing"], json!({ "names": ["Nowhere", "east"], "codes": ["R09"] }));
        assert_eq!(answer["found"][0], json!({ "id": "1", "name": "North", "code": "R01" }));
        let all = lookup_answer(&[item("0", "All", None)], &strings(&["all"]), &[]);
        assert_eq!(all["found"], json!([{ "id": "0", "name": "All", "code": null }]), "no code: null");
        assert_eq!(all["missing"], json!({ "names": [], "codes": [] }));
    }

    #[test]
    fn the_connector_has_a_read_and_a_lookup_with_a_dimension_dropdown() {
        let doc = crate::machinery::openapi::swagger(crate::functions::FUNCTIONS);
        let path = &doc["paths"]["/dimension-items"];
        assert_eq!(path["get"]["operationId"], "GetDimensionItems");
        assert_eq!(path["post"]["operationId"], "LookupDimensionItems");
        for method in ["get", "post"] {
            let params = path[method]["parameters"].as_array().unwrap();
            let dim = params.iter().find(|p| p["name"] == "dimensionId").unwrap();
            let values = &dim["x-ms-dynamic-values"];
            assert_eq!(values["operationId"], "ListObjects");
            assert_eq!(values["parameters"]["kind"], "dimensions");
            assert_eq!(values["parameters"]["lineItemId"], json!({ "parameter": "lineItemId" }));
        }
        let params = path["post"]["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "action" && p["required"] == true && p["in"] == "query"));
        let body = params.iter().find(|p| p["in"] == "body").unwrap();
        assert_eq!(body["schema"]["$ref"], "#/definitions/DimensionItemsLookup");
    }
}
