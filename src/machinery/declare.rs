//! The shape of a function's declaration: everything the router, `functions/*/function.json`,
//! the connector's Swagger and the parameter checks need to know about one function, said
//! once. Each function file declares a `pub const FUNCTION: Function`, its further
//! operations and the schemas they answer with included; `crate::functions::FUNCTIONS` lists
//! them.

use std::future::Future;
use std::pin::Pin;

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

pub use crate::http::params::{Kind, Param, Place};
use crate::http::{AppState, Call, Problem};

/// A boxed, sendable future, as a [`Handler`] returns it.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs one call of a function.
pub type Handler = for<'a> fn(&'a AppState, Call) -> BoxFuture<'a, Result<Response, Problem>>;

/// One function the handler serves.
pub struct Function {
    /// Folder name under `functions/`; for HTTP functions also the route (`/api/<name>`).
    pub name: &'static str,
    /// What starts it.
    pub trigger: Trigger,
    /// Its inputs, in the connector's order. A long-running function's start takes the
    /// workspace, the model and its action first (see [`Function::all_inputs`]): list only
    /// what comes after them.
    pub inputs: &'static [Input],
    /// For a long-running function (the asynchronous pattern): its status and cancel side.
    pub long_running: Option<LongRunning>,
    /// The connector's operation (the start, for a long-running function); `None` keeps the
    /// function out of the connector (e.g. a timer).
    pub operation: Option<Operation>,
    /// Further connector operations on its path, each for a method [`Function::operation`]
    /// does not use (e.g. `users`' POST next to its GET listing).
    pub more_operations: &'static [MethodOperation],
    /// The `#/definitions/<name>` its operations answer with or take as a body, besides the
    /// shared ones [`super::openapi`] keeps (problems, task status, object items).
    pub schemas: &'static [Schema],
    /// The connector per role its operations belong to (`openapi --group`), whose function
    /// key the deployment sets on it; `None` for a function outside the connector (a timer).
    pub group: Option<Group>,
    /// The code.
    pub handler: Handler,
}

/// The connectors per role (interface section 5, "Connectors per role"): each has only its
/// group's operations (and the dropdowns' list-objects, see [`super::openapi::swagger_for`])
/// and a function key of its own, which the deployment sets on exactly those functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Model data and actions: views, processes, actions, files, cells, lists, model
    /// lifecycle, ALM, calendar, versions, metadata.
    Integration,
    /// Users, access review, exception users, tenant users, audit events.
    Users,
    /// CloudWorks integrations: runs and schedules.
    CloudWorks,
}

impl Group {
    /// Every group, in the order the connectors are listed.
    pub const ALL: [Group; 3] = [Group::Integration, Group::Users, Group::CloudWorks];

    /// Its name on the command line (`openapi --group`), in file names
    /// (`infra/connector/groups/<name>.swagger.json`) and in the connector's name
    /// (`<name>-<group>`, e.g. `anaplan-integration`).
    pub fn name(self) -> &'static str {
        match self {
            Group::Integration => "integration",
            Group::Users => "users",
            Group::CloudWorks => "cloudworks",
        }
    }

    /// The group named `name`.
    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }

    /// What its connector is for, in the connector's title.
    pub fn title(self) -> &'static str {
        match self {
            Group::Integration => "model data and actions",
            Group::Users => "users, access and audit",
            Group::CloudWorks => "CloudWorks",
        }
    }

    /// What its connector does, in the connector's description.
    pub fn description(self) -> &'static str {
        match self {
            Group::Integration => {
                "Read and write Anaplan model data (views, cells, lists), run processes, actions, exports and \
                 imports, and manage models (state, ALM sync, revisions, versions, calendar, metadata)"
            }
            Group::Users => {
                "Manage Anaplan users (SCIM), review workspace access, list exception and tenant users, and read \
                 audit events"
            }
            Group::CloudWorks => "Run Anaplan CloudWorks integrations and read their runs, schedules and notifications",
        }
    }
}

/// What starts a function.
pub enum Trigger {
    /// A request the Functions host forwards to `/api/<name>`.
    Http {
        /// The methods function.json allows.
        methods: &'static [Method],
        /// What the request body is.
        body: RequestBody,
    },
    /// The host's timer: it POSTs `/<name>` in the JSON invocation format on `schedule` (an
    /// NCRONTAB expression, or `%SETTING%` to read it from an app setting). The handler
    /// reads the invocation from `call.body` (not `call.params()`) and answers with a JSON
    /// invocation response (`{"Outputs": {}, "Logs": [], "ReturnValue": null}`).
    Timer {
        /// `schedule` of the `timerTrigger` binding.
        schedule: &'static str,
    },
    /// A page for a person in a browser (`onboard`): `GET /api/<name>`, answered with HTML
    /// (never problem+json), taking no connector parameters, outside the connector. Unlike
    /// every [`Trigger::Http`] function it declares how the host checks its requests: a
    /// browser that Anaplan redirects back carries no function key.
    Page {
        /// function.json `authLevel`.
        auth: AuthLevel,
    },
}

/// How the Functions host checks a request before forwarding it (function.json `authLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLevel {
    /// A function key (or the host's master key), as query `code` or header `x-functions-key`.
    Function,
    /// No key: anyone may call it, so the function itself must check what it is given.
    Anonymous,
}

impl AuthLevel {
    /// Its spelling in function.json.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthLevel::Function => "function",
            AuthLevel::Anonymous => "anonymous",
        }
    }
}

/// What the body of an HTTP request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// Parameters as a small JSON object (POST), besides the query string.
    Parameters,
    /// A file (parameters then come from the query string only).
    File,
    /// A JSON object of parameters and data arrays (`rows`, `cells`, `items`), up to the
    /// host's limit; the function reads it with [`super::data_body::split`].
    Data,
}

/// Parameters come as a query string or a small JSON body.
const PARAMETER_BODY: usize = 1024 * 1024;
/// The Functions host's own request body limit (`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` default).
const FILE_BODY: usize = 100 * 1024 * 1024;

impl RequestBody {
    /// The largest body read.
    pub fn max_bytes(self) -> usize {
        match self {
            RequestBody::Parameters => PARAMETER_BODY,
            RequestBody::File | RequestBody::Data => FILE_BODY,
        }
    }
}

/// The Anaplan objects a function's inputs can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// A workspace.
    Workspace,
    /// A model (of a workspace).
    Model,
    /// A process (of a model).
    Process,
    /// An export (of a model).
    Export,
    /// An import (of a model).
    Import,
    /// A view (of a model).
    View,
    /// A CloudWorks integration (of the tenant).
    Integration,
    /// A CloudWorks integration flow (of the tenant).
    Flow,
    /// A module (of a model).
    Module,
    /// A list (of a model).
    List,
    /// A line item (of a module).
    LineItem,
    /// A version (of a model): Actual, Forecast...
    Version,
    /// An "other action" (of a model): a delete from a list using a selection...
    Action,
}

impl Object {
    /// The parameter prefix (`<kind>Id`, `<kind>Name`), and the word in messages.
    pub fn kind(self) -> &'static str {
        match self {
            Object::Workspace => "workspace",
            Object::Model => "model",
            Object::Process => "process",
            Object::Export => "export",
            Object::Import => "import",
            Object::View => "view",
            Object::Integration => "integration",
            Object::Flow => "flow",
            Object::Module => "module",
            Object::List => "list",
            Object::LineItem => "lineItem",
            Object::Version => "version",
            Object::Action => "action",
        }
    }

    /// The name shown in the connector.
    pub fn display(self) -> &'static str {
        match self {
            Object::Workspace => "Workspace",
            Object::Model => "Model",
            Object::Process => "Process",
            Object::Export => "Export",
            Object::Import => "Import",
            Object::View => "View",
            Object::Integration => "Integration",
            Object::Flow => "Integration flow",
            Object::Module => "Module",
            Object::List => "List",
            Object::LineItem => "Line item",
            Object::Version => "Version",
            Object::Action => "Action",
        }
    }

    /// The `kind` of list-objects that lists them.
    pub fn plural(self) -> &'static str {
        match self {
            Object::Workspace => "workspaces",
            Object::Model => "models",
            Object::Process => "processes",
            Object::Export => "exports",
            Object::Import => "imports",
            Object::View => "views",
            Object::Integration => "integrations",
            Object::Flow => "flows",
            Object::Module => "modules",
            Object::List => "lists",
            Object::LineItem => "lineItems",
            Object::Version => "versions",
            Object::Action => "actions",
        }
    }

    /// The id's format, in words.
    pub fn id_format(self) -> &'static str {
        match self {
            Object::Workspace => "32 lowercase hexadecimal characters",
            Object::Model => "32 uppercase hexadecimal characters",
            Object::Process => "digits, e.g. 118000000001",
            Object::Export => "digits, e.g. 116000000001",
            Object::Import => "digits, e.g. 112000000001",
            Object::View => "digits, e.g. 102000000001 (a line item's id also works)",
            Object::Integration | Object::Flow => "32 lowercase hexadecimal characters",
            Object::Module => "12 digits starting with 102, e.g. 102000000020",
            Object::List => "12 digits starting with 101, e.g. 101000000050",
            Object::LineItem => "12 digits starting with 2, e.g. 206000000001",
            Object::Version => "12 digits starting with 107, e.g. 107000000002",
            Object::Action => "12 digits starting with 117, e.g. 117000000001",
        }
    }

    /// The objects it lives in, outermost first.
    pub fn parents(self) -> &'static [Object] {
        match self {
            Object::Workspace | Object::Integration | Object::Flow => &[],
            Object::Model => &[Object::Workspace],
            Object::LineItem => &[Object::Workspace, Object::Model, Object::Module],
            _ => &[Object::Workspace, Object::Model],
        }
    }

    /// Whether Anaplan can cancel its tasks: an other action's have no documented cancel, so
    /// the connector offers none (a `DELETE` on the status URL still answers, with a 409).
    pub fn tasks_cancellable(self) -> bool {
        self != Object::Action
    }

    /// `<kind>Id`.
    pub fn id_param(self) -> String {
        format!("{}Id", self.kind())
    }

    /// `<kind>Name`.
    pub fn name_param(self) -> String {
        format!("{}Name", self.kind())
    }
}

/// One input of a function.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// `<kind>Id` (a dropdown fed by list-objects) or `<kind>Name`: exactly one of the two.
    Object(Object),
    /// `<kind>Name` alone (next to a `<kind>Id` declared as a [`Param`]).
    ObjectName(Object),
    /// Any other parameter.
    Param(Param),
}

/// The status and cancel side of a long-running function (the asynchronous pattern):
/// `GET` with `taskId` checks, `DELETE` with `taskId` cancels, and `taskId`, `wait` and
/// `dump` are accepted besides the start's inputs.
pub struct LongRunning {
    /// The action in the user's words ("process").
    pub noun: &'static str,
    /// The action.
    pub action: Object,
    /// Parameters the status URL carries besides the ids and `taskId`, in the connector's
    /// order (a `dump` here is shown in the connector; it is accepted either way).
    pub status_inputs: &'static [Param],
    /// What the status check answers with; the start's `produces` when `None`.
    pub status_produces: Option<&'static [&'static str]>,
}

/// The connector's view of a function's main operation.
pub struct Operation {
    /// PascalCase `operationId`.
    pub id: &'static str,
    /// The action's title in the designer.
    pub summary: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Shown first in the designer (`important`) or under more (`advanced`).
    pub important: bool,
    /// Request content types, when not JSON.
    pub consumes: &'static [&'static str],
    /// Response content types.
    pub produces: &'static [&'static str],
    /// The 200 answer.
    pub ok: Answer,
}

/// A further connector operation on a function's path, for a method its main operation does
/// not use (e.g. `users`' POST next to its GET listing), in [`Function::more_operations`].
/// The function's handler serves it (its declared methods must include `method`), and the
/// function accepts its query inputs besides its own.
pub struct MethodOperation {
    /// The method.
    pub method: Method,
    /// Its inputs, in the connector's order.
    pub inputs: &'static [Input],
    /// Its JSON body, `#/definitions/<schema>` (required), when it takes one.
    pub body: Option<&'static str>,
    /// The operation.
    pub operation: Operation,
    /// For an operation that follows the asynchronous pattern (e.g. `model-state`'s open):
    /// its 202 while the work goes on (Location and Retry-After come with it).
    pub accepted: Option<Answer>,
}

/// A schema of the connector's `definitions`, as a function declares it.
pub struct Schema {
    /// `#/definitions/<name>`.
    pub name: &'static str,
    /// The schema (built on demand: JSON values are not `const`).
    pub build: fn() -> Value,
}

/// A successful answer.
pub struct Answer {
    /// Its description.
    pub description: &'static str,
    /// `#/definitions/<schema>`.
    pub schema: &'static str,
    /// Whether the body is an array of `schema`.
    pub array: bool,
}

/// What a task's status check answers with: its JSON, a dump's CSV, or a problem.
pub const TASK_RESPONSES: &[&str] = &["application/json", "text/csv", "application/problem+json"];

/// `wait` (seconds to hold an answer).
pub const WAIT: Param = Param {
    kind: Kind::Integer { min: 0, max: crate::http::long_running::MAX_WAIT_SECONDS },
    ..Param::text(
        "wait",
        "Wait (seconds)",
        "Hold the answer up to this many seconds (at most 100) for the task to finish.",
    )
    .advanced()
};

/// `locale` of a task start.
pub const LOCALE: Param =
    Param::text("locale", "Locale", "The locale Anaplan runs the action in, e.g. en_US (the default) or fr_FR.")
        .default("en_US")
        .advanced();

/// `container` (Blob storage).
pub const CONTAINER: Param = Param::text("container", "Blob container", "");

/// `blobName` (Blob storage).
pub const BLOB_NAME: Param = Param::text("blobName", "Blob name", "").advanced();

/// `dump` of a status check (help text per function).
pub const DUMP: Param = Param::text("dump", "Failure dump", "").advanced();

/// `solutionLog` of run-process's status check: the objectId of a failed Optimizer step.
pub const SOLUTION_LOG: Param = Param::text(
    "solutionLog",
    "Optimizer solution log",
    "The objectId of a failed Optimizer step (its solutionLogUrl carries it): answers with the solver's log as text. \
     Anaplan serves it to Workspace Administrators only.",
)
.advanced();

/// `taskId` of a status check or cancellation.
pub const TASK_ID: Param =
    Param::text("taskId", "Task ID", "The Anaplan task's id, from the 'Task ID' of the start action's answer.")
        .required();

/// `Idempotency-Key` of a task start.
pub const IDEMPOTENCY_KEY: Param = Param::text(
    "Idempotency-Key",
    "Idempotency key",
    "Any text up to 255 characters, e.g. the workflow run's name. A request that repeats a key seen in the \
     last 24 hours returns the task that key started instead of starting a second one, so a retried action \
     never runs the task twice.",
)
.header()
.advanced();

impl Function {
    /// A function outside the connector (a timer, or a page or check for people and
    /// monitors rather than flows): no inputs of its own, no operation, no group.
    pub const fn outside_connector(name: &'static str, trigger: Trigger, handler: Handler) -> Function {
        Function {
            name,
            trigger,
            inputs: &[],
            long_running: None,
            operation: None,
            more_operations: &[],
            schemas: &[],
            group: None,
            handler,
        }
    }

    /// The HTTP methods it takes (none for a timer).
    pub fn methods(&self) -> &'static [Method] {
        match self.trigger {
            Trigger::Http { methods, .. } => methods,
            Trigger::Timer { .. } => &[Method::POST],
            Trigger::Page { .. } => &[Method::GET],
        }
    }

    /// The largest request body it reads.
    pub fn max_body(&self) -> usize {
        match self.trigger {
            Trigger::Http { body, .. } => body.max_bytes(),
            Trigger::Timer { .. } | Trigger::Page { .. } => PARAMETER_BODY,
        }
    }

    /// Every input of its (start) operation, in the connector's order.
    pub fn all_inputs(&self) -> Vec<Input> {
        let mut out = Vec::new();
        if let Some(lr) = &self.long_running {
            out.extend([Object::Workspace, Object::Model, lr.action].map(Input::Object));
        }
        out.extend(self.inputs.iter().copied());
        out
    }

    /// The names of the query (and JSON body) parameters it accepts; anything else is a 400.
    pub fn accepted(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |n: String| {
            if !names.contains(&n) {
                names.push(n);
            }
        };
        let query_inputs = |inputs: &[Input]| -> Vec<String> {
            let mut out = Vec::new();
            for input in inputs {
                match input {
                    Input::Object(o) => out.extend([o.id_param(), o.name_param()]),
                    Input::ObjectName(o) => out.push(o.name_param()),
                    Input::Param(p) if p.place == Place::Query => out.push(p.name.to_owned()),
                    Input::Param(_) => {}
                }
            }
            out
        };
        query_inputs(&self.all_inputs()).into_iter().for_each(&mut add);
        if let Some(lr) = &self.long_running {
            for p in [WAIT, TASK_ID, DUMP].iter().chain(lr.status_inputs) {
                add(p.name.to_owned());
            }
        }
        for more in self.more_operations {
            query_inputs(more.inputs).into_iter().for_each(&mut add);
        }
        names
    }

    /// Its `function.json`.
    pub fn function_json(&self) -> Value {
        match self.trigger {
            Trigger::Http { methods, .. } => json!({
                "bindings": [
                    {
                        "type": "httpTrigger",
                        "direction": "in",
                        "name": "req",
                        "authLevel": "function",
                        "methods": methods.iter().map(|m| m.as_str().to_ascii_lowercase()).collect::<Vec<_>>(),
                    },
                    { "type": "http", "direction": "out", "name": "res" },
                ]
            }),
            Trigger::Timer { schedule } => json!({
                "bindings": [
                    { "type": "timerTrigger", "direction": "in", "name": "timer", "schedule": schedule },
                ]
            }),
            Trigger::Page { auth } => json!({
                "bindings": [
                    {
                        "type": "httpTrigger",
                        "direction": "in",
                        "name": "req",
                        "authLevel": auth.as_str(),
                        "methods": ["get"],
                    },
                    { "type": "http", "direction": "out", "name": "res" },
                ]
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing<'a>(_: &'a AppState, _: Call) -> BoxFuture<'a, Result<Response, Problem>> {
        Box::pin(async { Err(Problem::bad_parameter("test")) })
    }

    #[test]
    fn a_timer_is_a_timer_trigger_with_its_schedule() {
        let f = Function {
            name: "refresh-cloudworks-sas",
            trigger: Trigger::Timer { schedule: "%CLOUDWORKS_SAS_SCHEDULE%" },
            inputs: &[],
            long_running: None,
            operation: None,
            more_operations: &[],
            schemas: &[],
            group: None,
            handler: nothing,
        };
        assert_eq!(
            f.function_json(),
            json!({"bindings": [{"type": "timerTrigger", "direction": "in", "name": "timer",
                "schedule": "%CLOUDWORKS_SAS_SCHEDULE%"}]})
        );
        assert!(f.accepted().is_empty());
    }
}
