//! Listing Anaplan objects and resolving names to ids. Listings are cached briefly per
//! identity, so a flow that names its model on every call does not list models every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};

use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{Id, ModelId, ModuleId, ObjectRef, WorkspaceId};
use super::names;

/// How long a listing is reused for name lookups.
pub const LISTING_TTL: Duration = Duration::from_secs(60);

/// An object's id and name, as every Anaplan listing has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// The id; Anaplan sends most ids as strings and a few as numbers.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// The display name.
    pub name: String,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

/// The kinds of objects that can be listed and named.
#[derive(Debug, Clone)]
pub enum Listing {
    /// Workspaces the identity can see.
    Workspaces,
    /// Models of a workspace.
    Models(WorkspaceId),
    /// Models of every workspace the identity sees.
    AllModels,
    /// Views of a model, including subsidiary views.
    Views(ModelId),
    /// Processes of a model.
    Processes(WorkspaceId, ModelId),
    /// Exports of a model.
    Exports(WorkspaceId, ModelId),
    /// Imports of a model.
    Imports(WorkspaceId, ModelId),
    /// Other actions of a model (deletes using a selection, optimizer actions...).
    Actions(WorkspaceId, ModelId),
    /// Modules of a model.
    Modules(ModelId),
    /// Dashboards of a model.
    Dashboards(WorkspaceId, ModelId),
    /// Lists of a model.
    Lists(ModelId),
    /// Line items of a module.
    LineItems(ModelId, ModuleId),
    /// Line items of every module of a model.
    ModelLineItems(ModelId),
    /// Views of one module, saved views included.
    ModuleViews(ModelId, ModuleId),
}

impl Listing {
    /// The object kind in the user's words ("model").
    pub fn kind(&self) -> &'static str {
        match self {
            Listing::Workspaces => "workspace",
            Listing::Models(_) | Listing::AllModels => "model",
            Listing::Views(_) => "view",
            Listing::Processes(..) => "process",
            Listing::Exports(..) => "export",
            Listing::Imports(..) => "import",
            Listing::Actions(..) => "action",
            Listing::Modules(_) => "module",
            Listing::Dashboards(..) => "dashboard",
            Listing::Lists(_) => "list",
            Listing::LineItems(..) | Listing::ModelLineItems(_) => "line item",
            Listing::ModuleViews(..) => "view",
        }
    }

    fn request(&self) -> (ApiRequest, &'static str) {
        match self {
            Listing::Workspaces => (ApiRequest::get(["workspaces"]), "workspaces"),
            Listing::Models(ws) => (ApiRequest::get(["workspaces", ws.as_str(), "models"]), "models"),
            Listing::AllModels => (ApiRequest::get(["models"]), "models"),
            Listing::Views(m) => {
                (ApiRequest::get(["models", m.as_str(), "views"]).query("includesubsidiaryviews", "true"), "views")
            }
            Listing::Processes(ws, m) => (action_list(ws, m, "processes"), "processes"),
            Listing::Exports(ws, m) => (action_list(ws, m, "exports"), "exports"),
            Listing::Imports(ws, m) => (action_list(ws, m, "imports"), "imports"),
            Listing::Actions(ws, m) => (action_list(ws, m, "actions"), "actions"),
            Listing::Dashboards(ws, m) => (action_list(ws, m, "dashboards"), "dashboards"),
            Listing::Modules(m) => (ApiRequest::get(["models", m.as_str(), "modules"]), "modules"),
            Listing::Lists(m) => (ApiRequest::get(["models", m.as_str(), "lists"]), "lists"),
            Listing::LineItems(m, module) => (
                ApiRequest::get(["models", m.as_str(), "modules", module.as_str(), "lineItems"])
                    .query("includeAll", "true"),
                "items",
            ),
            Listing::ModelLineItems(m) => (ApiRequest::get(["models", m.as_str(), "lineItems"]), "items"),
            Listing::ModuleViews(m, module) => (
                ApiRequest::get(["models", m.as_str(), "modules", module.as_str(), "views"])
                    .query("includesubsidiaryviews", "true"),
                "views",
            ),
        }
    }

    fn cache_key(&self) -> String {
        match self {
            Listing::Workspaces => "workspaces".to_owned(),
            Listing::Models(ws) => format!("models/{ws}"),
            Listing::AllModels => "models".to_owned(),
            Listing::Views(m) => format!("views/{m}"),
            Listing::Processes(ws, m) => format!("processes/{ws}/{m}"),
            Listing::Exports(ws, m) => format!("exports/{ws}/{m}"),
            Listing::Imports(ws, m) => format!("imports/{ws}/{m}"),
            Listing::Actions(ws, m) => format!("actions/{ws}/{m}"),
            Listing::Modules(m) => format!("modules/{m}"),
            Listing::Dashboards(ws, m) => format!("dashboards/{ws}/{m}"),
            Listing::Lists(m) => format!("lists/{m}"),
            Listing::LineItems(m, module) => format!("lineItems/{m}/{module}"),
            Listing::ModelLineItems(m) => format!("lineItems/{m}"),
            Listing::ModuleViews(m, module) => format!("views/{m}/{module}"),
        }
    }
}

fn action_list(ws: &WorkspaceId, m: &ModelId, kind: &str) -> ApiRequest {
    ApiRequest::get(["workspaces".to_owned(), ws.to_string(), "models".to_owned(), m.to_string(), kind.to_owned()])
}

/// When a listing was fetched, and its items.
type CachedListing = (Instant, Arc<Vec<Named>>);

/// Listings with a short-lived cache, shared by all requests.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    cache: Arc<Mutex<HashMap<String, CachedListing>>>,
}

impl Catalog {
    /// Lists `what` as `client`'s identity sees it (cached for [`LISTING_TTL`]).
    pub async fn list(&self, client: &Client, what: &Listing) -> Result<Arc<Vec<Named>>, AnaplanError> {
        let key = format!("{}|{}", client.credentials().identity(), what.cache_key());
        if let Some((at, items)) = self.cache.lock().expect("cache lock").get(&key)
            && at.elapsed() < LISTING_TTL
        {
            return Ok(items.clone());
        }
        let (req, field) = what.request();
        let items = Arc::new(client.list::<Named>(req, field).await?);
        let mut cache = self.cache.lock().expect("cache lock");
        cache.retain(|_, (at, _)| at.elapsed() < LISTING_TTL);
        cache.insert(key, (Instant::now(), items.clone()));
        Ok(items)
    }

    /// The one object of `what` named exactly `name`.
    pub async fn resolve(&self, client: &Client, what: &Listing, name: &str) -> Result<Named, AnaplanError> {
        let items = self.list(client, what).await?;
        pick(what.kind(), &items, name)
    }
}

/// An object named by id or name, resolved: its id, and its name when it was looked up.
#[derive(Debug, Clone)]
pub struct Found<T> {
    /// The id.
    pub id: T,
    /// The name, when the object was named by it.
    pub name: Option<String>,
}

impl Catalog {
    /// The object `r` names in `what`: an id as given (Anaplan checks it when used), a name
    /// looked up in the cached listing (none or several is an error naming the closest
    /// names or the matching ids).
    pub async fn find<T: Id>(
        &self,
        client: &Client,
        what: &Listing,
        r: ObjectRef<T>,
    ) -> Result<Found<T>, AnaplanError> {
        match r {
            ObjectRef::Id(id) => Ok(Found { id, name: None }),
            ObjectRef::Name(name) => {
                let found = self.resolve(client, what, &name).await?;
                let id = T::parse(&found.id).map_err(|e| AnaplanError::Protocol(e.to_string()))?;
                Ok(Found { id, name: Some(found.name) })
            }
        }
    }

    /// The name of the object with id `id` in `what`.
    pub async fn name_of<T: Id>(
        &self,
        client: &Client,
        what: &Listing,
        id: &T,
    ) -> Result<Option<String>, AnaplanError> {
        let items = self.list(client, what).await?;
        Ok(items.iter().find(|n| n.id == id.as_str()).map(|n| n.name.clone()))
    }
}

/// Picks the object named exactly `name`: none is an error listing the closest names (see
/// [`names::closest`]: cheap whatever the name's length), several is an error listing their
/// ids.
pub fn pick(kind: &'static str, items: &[Named], name: &str) -> Result<Named, AnaplanError> {
    let matches: Vec<&Named> = items.iter().filter(|n| n.name == name).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(AnaplanError::UnknownName {
            kind,
            name: name.to_owned(),
            closest: names::closest(items.iter().map(|n| n.name.as_str()), name),
            listed: items.len(),
        }),
        many => Err(AnaplanError::AmbiguousName {
            kind,
            name: name.to_owned(),
            ids: many.iter().map(|n| n.id.clone()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: &str, name: &str) -> Named {
        Named { id: id.into(), name: name.into() }
    }

    #[test]
    fn exact_name_wins() {
        let items = [named("1", "Revenue Plan"), named("2", "Revenue Plan v2")];
        assert_eq!(pick("model", &items, "Revenue Plan").unwrap().id, "1");
    }

    #[test]
    fn unknown_name_lists_the_closest_first() {
        let items = [named("1", "Headcount"), named("2", "Revenue Plan"), named("3", "Capex")];
        match pick("model", &items, "revenue plan") {
            Err(AnaplanError::UnknownName { closest, .. }) => assert_eq!(closest[0], "Revenue Plan"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duplicate_names_are_ambiguous() {
        let items = [named("A1", "Forecast"), named("A2", "Forecast")];
        match pick("model", &items, "Forecast") {
            Err(AnaplanError::AmbiguousName { ids, .. }) => assert_eq!(ids, vec!["A1", "A2"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_model_in_any_state_is_listed_by_id_and_name() {
        // activeState is not read: a state Anaplan adds (or "offline") never fails a listing.
        for state in ["UNLOCKED", "PRODUCTION_MAINTENANCE", "offline", "SOMETHING_NEW", ""] {
            let model = serde_json::json!({
                "id": "75A40874E6B64FA3AE0743278996850F", "name": "Revenue Plan", "activeState": state,
                "currentWorkspaceId": "8a81b09d599f3c6e0159f605560c2630", "categoryValues": [],
            });
            let n: Named = serde_json::from_value(model).unwrap();
            assert_eq!((n.id.as_str(), n.name.as_str()), ("75A40874E6B64FA3AE0743278996850F", "Revenue Plan"));
        }
    }

    #[test]
    fn ids_may_be_numbers() {
        let n: Named = serde_json::from_str(r#"{"id": 101000000014, "name": "x"}"#).unwrap();
        assert_eq!(n.id, "101000000014");
    }
}
