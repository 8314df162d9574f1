//! The deployment contract, checked without Azure: the custom connector definition
//! (infra/connector) against Microsoft's custom-connector rules and the function folders,
//! and host.json / function.json against what the Functions host needs from a custom
//! handler on every hosting plan. (scripts/check-infra.sh validates the Bicep side.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn swagger_path() -> PathBuf {
    root().join("infra/connector/apiDefinition.swagger.json")
}

fn swagger() -> Value {
    read_json(&swagger_path())
}

/// HTTP functions that are not actions for flows, so not in the connector: `health` is for
/// an availability test, `onboard` and `onboard-callback` are pages for an admin's browser.
const OUTSIDE_CONNECTOR: &[&str] = &["health", "onboard", "onboard-callback"];

/// The HTTP-triggered function folders of the connector (timers are checked by
/// [`timer_functions`]), by name.
fn functions() -> BTreeMap<String, Value> {
    let mut out = all_functions();
    out.retain(|name, fj| !is_timer(fj) && !OUTSIDE_CONNECTOR.contains(&name.as_str()));
    assert!(!out.is_empty(), "no function folders under functions/");
    out
}

#[test]
fn functions_outside_the_connector_exist_and_stay_out_of_it() {
    let all = all_functions();
    let doc = swagger();
    for name in OUTSIDE_CONNECTOR {
        assert!(all.contains_key(*name), "functions/{name} is missing");
        assert!(doc["paths"].get(format!("/{name}")).is_none(), "/{name} is in the connector");
    }
}

fn all_functions() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(root().join("functions")).expect("functions/") {
        let entry = entry.expect("dir entry");
        let json = entry.path().join("function.json");
        if json.is_file() {
            out.insert(entry.file_name().to_string_lossy().into_owned(), read_json(&json));
        }
    }
    out
}

fn is_timer(fj: &Value) -> bool {
    fj["bindings"].as_array().into_iter().flatten().any(|b| b["type"] == "timerTrigger")
}

#[test]
fn timer_functions_are_one_timer_trigger_on_a_setting_and_stay_out_of_the_connector() {
    let doc = swagger();
    let bicep = fs::read_to_string(root().join("infra/main.bicep")).expect("main.bicep");
    let local = read_json(&root().join("local.settings.json"));
    let mut timers = 0;
    for (name, fj) in all_functions().into_iter().filter(|(_, fj)| is_timer(fj)) {
        timers += 1;
        let bindings = fj["bindings"].as_array().unwrap();
        assert_eq!(bindings.len(), 1, "{name}: a timer with no other binding");
        assert_eq!(bindings[0]["direction"], "in", "{name}");
        let schedule = bindings[0]["schedule"].as_str().unwrap_or_else(|| panic!("{name}: no schedule"));
        // A %SETTING% schedule: the host cannot index the timer unless every deployment sets it.
        if let Some(setting) = schedule.strip_prefix('%').and_then(|s| s.strip_suffix('%')) {
            assert!(bicep.contains(&format!("{setting}:")), "{name}: main.bicep does not set {setting}");
            assert!(local["Values"][setting].is_string(), "{name}: local.settings.json does not set {setting}");
        }
        assert!(doc["paths"].get(format!("/{name}")).is_none(), "{name}: a timer is not a connector operation");
    }
    assert!(timers >= 1, "refresh-cloudworks-sas is a timer");
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Every operation: (path, method, operation object).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    out
}

/// An operation's parameters, with `$ref`s to `#/parameters/...` resolved.
fn parameters(doc: &Value, op: &Value) -> Vec<Value> {
    op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| match p["$ref"].as_str() {
                    Some(r) => {
                        let name = r.strip_prefix("#/parameters/").unwrap_or_else(|| panic!("unsupported $ref {r}"));
                        doc["parameters"][name].clone()
                    }
                    None => p.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_pascal_case(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

fn non_empty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.trim().is_empty())
}

#[test]
fn connector_is_swagger_2_with_a_fixed_https_host_under_api() {
    let doc = swagger();
    assert_eq!(doc["swagger"], "2.0", "custom connectors take OpenAPI 2.0 only");
    assert_eq!(doc["basePath"], "/api");
    assert_eq!(doc["schemes"], serde_json::json!(["https"]));
    let host = doc["host"].as_str().expect("host");
    assert!(!host.is_empty() && !host.contains('/') && !host.contains('{'), "host must be one fixed name: {host}");
    assert!(non_empty(&doc["info"]["title"]) && non_empty(&doc["info"]["version"]));
}

#[test]
fn connector_file_is_formatted_as_the_openapi_command_prints_it() {
    // `anaplan-functions openapi` prints the file byte for byte; keep it in the one canonical
    // form (2-space indentation, keys in file order, trailing newline) so that edits show as
    // clean diffs and the two never drift.
    let text = fs::read_to_string(swagger_path()).expect("swagger");
    let value: Value = serde_json::from_str(&text).expect("json");
    let canonical = serde_json::to_string_pretty(&value).expect("pretty") + "\n";
    assert!(
        text == canonical,
        "apiDefinition.swagger.json is not in canonical form: run cargo run -q -- openapi > infra/connector/apiDefinition.swagger.json"
    );
}

#[test]
fn every_operation_has_pascal_case_id_summary_and_description() {
    let doc = swagger();
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(is_pascal_case(id), "{method} {path}: operationId {id} is not PascalCase");
        assert!(ids.insert(id.to_owned()), "operationId {id} used twice");
        assert!(non_empty(&op["summary"]), "{id}: no summary");
        assert!(non_empty(&op["description"]), "{id}: no description");
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{id}: no responses"));
        assert!(responses.keys().any(|k| k.starts_with('2')), "{id}: no 2xx response");
        if let Some(v) = op.get("x-ms-visibility") {
            assert!(
                ["important", "advanced", "internal"].contains(&v.as_str().unwrap_or("")),
                "{id}: x-ms-visibility {v}"
            );
        }
    }
}

#[test]
fn every_parameter_has_an_x_ms_summary() {
    let doc = swagger();
    for (path, method, op) in operations(&doc) {
        for p in parameters(&doc, &op) {
            let name = p["name"].as_str().unwrap_or("?");
            assert!(non_empty(&p["x-ms-summary"]), "{method} {path}: parameter {name} has no x-ms-summary");
            assert!(non_empty(&p["description"]), "{method} {path}: parameter {name} has no description");
            if p["x-ms-visibility"] == "internal" && p["required"] == true {
                assert!(
                    p.get("default").is_some(),
                    "{method} {path}: {name} is internal and required without a default"
                );
            }
        }
    }
}

#[test]
fn function_key_is_an_api_key_header_applied_to_every_operation() {
    let doc = swagger();
    let key = &doc["securityDefinitions"]["api_key"];
    assert_eq!(key["type"], "apiKey");
    assert_eq!(key["in"], "header");
    assert_eq!(key["name"], "x-functions-key", "the Functions host reads the key from x-functions-key");
    let applied = |sec: &Value| sec.as_array().is_some_and(|a| a.iter().any(|r| r.get("api_key").is_some()));
    let global = applied(&doc["security"]);
    for (path, method, op) in operations(&doc) {
        let own = op.get("security");
        assert!(
            match own {
                Some(s) => applied(s),
                None => global,
            },
            "{method} {path}: the api_key security requirement does not apply"
        );
    }
    // The connection asks for exactly that key.
    let props = read_json(&root().join("infra/connector/apiProperties.json"));
    assert_eq!(props["properties"]["connectionParameters"]["api_key"]["type"], "securestring");
}

#[test]
fn every_function_folder_has_an_operation_with_methods_it_accepts() {
    let doc = swagger();
    let functions = functions();
    let paths = doc["paths"].as_object().expect("paths");
    for (name, fj) in &functions {
        let item = paths
            .get(&format!("/{name}"))
            .unwrap_or_else(|| panic!("functions/{name} has no /{name} in the connector"));
        let allowed: BTreeSet<String> = fj["bindings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "httpTrigger")
            .flat_map(|b| b["methods"].as_array().cloned().unwrap_or_default())
            .filter_map(|m| m.as_str().map(str::to_ascii_lowercase))
            .collect();
        let used: Vec<&String> = item.as_object().unwrap().keys().filter(|m| METHODS.contains(&m.as_str())).collect();
        assert!(!used.is_empty(), "/{name} has no operation");
        for m in used {
            assert!(allowed.contains(m), "/{name}: {m} is in the connector but not in functions/{name}/function.json");
        }
    }
    for path in paths.keys() {
        let name = path.trim_start_matches('/');
        assert!(functions.contains_key(name), "connector path {path} has no function folder");
    }
}

#[test]
fn connector_sends_only_parameters_the_handlers_accept() {
    // A handler answers 400 to a parameter it does not know, so a connector parameter the
    // Rust side lacks would break the action.
    let doc = swagger();
    let mut checked = 0;
    for name in functions().keys() {
        let Some(declared) = anaplan_functions::functions::FUNCTIONS.iter().find(|f| f.name == name) else {
            eprintln!("note: no declaration of {name}; parameters of /{name} not compared");
            continue;
        };
        let accepted: BTreeSet<String> = declared.accepted().into_iter().collect();
        for (method, op) in doc["paths"][format!("/{name}")].as_object().expect("path item") {
            for p in parameters(&doc, op) {
                if p["in"] == "query" {
                    let pname = p["name"].as_str().expect("name");
                    assert!(
                        accepted.contains(pname),
                        "{method} /{name}: {pname} is not a parameter the declaration of {name} accepts"
                    );
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 4, "compared only {checked} functions with their handlers");
}

#[test]
fn dropdowns_come_from_list_objects_with_existing_parameters() {
    let doc = swagger();
    let ops = operations(&doc);
    let list = ops.iter().find(|(_, _, op)| op["operationId"] == "ListObjects").expect("a ListObjects operation");
    assert_eq!((list.0.as_str(), list.1.as_str()), ("/list-objects", "get"));
    let list_params: BTreeSet<String> =
        parameters(&doc, &list.2).iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect();
    let kinds: BTreeSet<String> = parameters(&doc, &list.2)
        .iter()
        .find(|p| p["name"] == "kind")
        .and_then(|p| p["enum"].as_array().cloned())
        .expect("kind enum")
        .iter()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    // value-path / value-title must be properties of the listed items.
    let item_ref = list.2["responses"]["200"]["schema"]["items"]["$ref"].as_str().expect("ListObjects 200 items $ref");
    let item = &doc["definitions"][item_ref.trim_start_matches("#/definitions/")]["properties"];

    let mut dropdowns = 0;
    for (path, method, op) in &ops {
        let names: BTreeSet<String> =
            parameters(&doc, op).iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect();
        for p in parameters(&doc, op) {
            let Some(dv) = p.get("x-ms-dynamic-values") else { continue };
            dropdowns += 1;
            let here = format!("{method} {path} {}", p["name"]);
            assert_eq!(dv["operationId"], "ListObjects", "{here}: dropdown not backed by ListObjects");
            for key in ["value-path", "value-title"] {
                let field = dv[key].as_str().unwrap_or_else(|| panic!("{here}: no {key}"));
                assert!(item.get(field).is_some(), "{here}: {key} {field} is not a property of ListObjects items");
            }
            let args = dv["parameters"].as_object().unwrap_or_else(|| panic!("{here}: no parameters"));
            let kind = args.get("kind").and_then(Value::as_str).unwrap_or_else(|| panic!("{here}: no static kind"));
            assert!(kinds.contains(kind), "{here}: kind {kind} is not one ListObjects knows");
            for (arg, value) in args {
                assert!(list_params.contains(arg), "{here}: ListObjects has no parameter {arg}");
                if let Some(source) = value.get("parameter") {
                    let source = source.as_str().expect("parameter name");
                    assert!(
                        names.contains(source),
                        "{here}: passes {{\"parameter\": \"{source}\"}}, which this operation lacks"
                    );
                }
            }
            // The parents each kind needs (list-objects refuses the ones it does not take).
            let needs: &[&str] = match kind {
                "workspaces" | "integrations" | "flows" => &[],
                "models" => &["workspaceId"],
                // A module's line items; a line item's dimensions (the model's lists without one).
                "lineItems" => &["workspaceId", "modelId", "moduleId"],
                "dimensions" => &["workspaceId", "modelId", "lineItemId"],
                _ => &["workspaceId", "modelId"],
            };
            let given: BTreeSet<&str> = args.keys().map(String::as_str).filter(|k| *k != "kind").collect();
            assert_eq!(given, needs.iter().copied().collect(), "{here}: kind {kind} takes exactly {needs:?}");
        }
    }
    assert!(dropdowns >= 4, "expected workspace/model/action dropdowns, found {dropdowns}");
}

#[test]
fn start_operations_declare_the_asynchronous_pattern() {
    let doc = swagger();
    for function in ["run-process", "export-file", "import-file", "run-integration"] {
        let op = &doc["paths"][format!("/{function}")]["post"];
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("POST /{function} missing"));
        let accepted = &op["responses"]["202"];
        assert!(accepted.is_object(), "{id}: no 202 response");
        for header in ["Location", "Retry-After"] {
            assert!(accepted["headers"][header].is_object(), "{id}: 202 does not declare {header}");
        }
        assert!(op["responses"]["200"].is_object(), "{id}: no 200 (final answer)");
        let names: BTreeSet<String> =
            parameters(&doc, op).iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect();
        for p in ["Idempotency-Key", "wait"] {
            assert!(names.contains(p), "{id}: no {p} parameter");
        }
        // The status URL answers GET and DELETE on the same function.
        assert!(doc["paths"][format!("/{function}")]["get"].is_object(), "/{function}: no status (GET) operation");
        assert!(
            doc["paths"][format!("/{function}")]["delete"].is_object(),
            "/{function}: no cancel (DELETE) operation"
        );
    }
}

/// `hh:mm:ss` as seconds.
fn parse_timeout(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n: Vec<u64> = parts.iter().map(|p| p.parse().unwrap()).collect();
    (n[1] < 60 && n[2] < 60).then(|| n[0] * 3600 + n[1] * 60 + n[2])
}

#[test]
fn timeout_format_is_understood() {
    assert_eq!(parse_timeout("00:10:00"), Some(600));
    assert_eq!(parse_timeout("01:00:30"), Some(3630));
    assert_eq!(parse_timeout("00:60:00"), None);
    assert_eq!(parse_timeout("10:00"), None);
    assert_eq!(parse_timeout("-1"), None);
}

#[test]
fn host_json_runs_the_custom_handler_on_every_plan() {
    let host = read_json(&root().join("host.json"));
    assert_eq!(host["version"], "2.0");
    let ch = &host["customHandler"];
    assert_eq!(ch["description"]["defaultExecutablePath"], "anaplan-functions");
    assert_eq!(ch["description"]["arguments"], serde_json::json!(["serve"]));
    assert_eq!(
        ch["enableForwardingHttpRequest"], true,
        "forwarding keeps the handler's status codes and Location headers"
    );
    let bundle = &host["extensionBundle"];
    assert_eq!(bundle["id"], "Microsoft.Azure.Functions.ExtensionBundle");
    let version = bundle["version"].as_str().expect("bundle version");
    assert!(version.starts_with("[4."), "Flex Consumption needs extension bundle 4.x or later, got {version}");
    let timeout = host["functionTimeout"].as_str().expect("functionTimeout");
    let secs = parse_timeout(timeout).unwrap_or_else(|| panic!("functionTimeout {timeout} is not hh:mm:ss"));
    // 10 minutes is the Consumption maximum; Flex and Premium accept it too, so the same
    // package runs on every plan. (Requests end long before: 230 s front-end limit.)
    assert!(secs > 0 && secs <= 600, "functionTimeout {timeout} must be at most 00:10:00");
}

#[test]
fn every_function_json_is_one_http_trigger_and_one_http_output() {
    for (name, fj) in functions() {
        assert!(
            name.len() <= 128
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
                && name != "host",
            "function folder name {name} is not one the host accepts"
        );
        let bindings = fj["bindings"].as_array().unwrap_or_else(|| panic!("{name}: no bindings"));
        assert_eq!(bindings.len(), 2, "{name}: forwarding needs exactly one httpTrigger and one http output");
        let trigger =
            bindings.iter().find(|b| b["type"] == "httpTrigger").unwrap_or_else(|| panic!("{name}: no httpTrigger"));
        assert_eq!(trigger["direction"], "in", "{name}");
        assert_eq!(trigger["name"], "req", "{name}");
        assert_eq!(trigger["authLevel"], "function", "{name}: every function requires a key");
        let methods = trigger["methods"].as_array().unwrap_or_else(|| panic!("{name}: no methods"));
        assert!(!methods.is_empty(), "{name}: empty methods");
        for m in methods {
            let m = m.as_str().unwrap_or("");
            assert!(METHODS.contains(&m), "{name}: method {m:?} (lowercase HTTP methods)");
        }
        assert!(trigger.get("route").is_none(), "{name}: a route would move it off /api/{name}");
        let output = bindings.iter().find(|b| b["type"] == "http").unwrap_or_else(|| panic!("{name}: no http output"));
        assert_eq!(output["direction"], "out", "{name}");
        assert_eq!(output["name"], "res", "{name}");
    }
}

#[test]
fn the_storage_lifecycle_rule_expires_exactly_the_idempotency_records() {
    use anaplan_functions::http::{STATE_CONTAINER, idempotency};
    let bicep = fs::read_to_string(root().join("infra/modules/storage.bicep")).expect("storage.bicep");
    let record = idempotency::record_name("oauth:x|run-process", "k");
    let (folder, _) = record.split_once('/').expect("records live in a folder");
    let prefix = format!("'{STATE_CONTAINER}/{folder}/'");
    assert!(bicep.contains(&prefix), "storage.bicep must expire {prefix}");
    assert!(bicep.contains("daysAfterModificationGreaterThan: 2"), "kept longer than the 24-hour window, not forever");
    assert!(idempotency::RETENTION.as_secs() < 2 * 86_400);
    // Transfer records and data-source locks expire the same way.
    use anaplan_functions::machinery::transfers::record_name;
    for record in [record_name("transfers/export", &["x"]), record_name("locks/data-source", &["x"])] {
        let (folder, _) = record.rsplit_once('/').expect("records live in a folder");
        let folder = folder.strip_prefix("transfers/").map_or(folder, |_| "transfers");
        let prefix = format!("'{STATE_CONTAINER}/{folder}/'");
        assert!(bicep.contains(&prefix), "storage.bicep must expire {prefix}");
    }
}

/// Every `$ref` to `#/definitions/<name>` under `node`, transitively through definitions.
fn definitions_used(doc: &Value, node: &Value, out: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/"))
                && out.insert(name.to_owned())
            {
                definitions_used(doc, &doc["definitions"][name], out);
            }
            map.values().for_each(|v| definitions_used(doc, v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| definitions_used(doc, v, out)),
        _ => {}
    }
}

/// Every `x-ms-dynamic-schema` object under `node`.
fn dynamic_schemas<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    match node {
        Value::Object(map) => {
            if let Some(d) = map.get("x-ms-dynamic-schema") {
                out.push(d);
            }
            map.values().for_each(|v| dynamic_schemas(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| dynamic_schemas(v, out)),
        _ => {}
    }
}

/// The rules the Power Platform tooling applies to `x-ms-dynamic-schema`: `operationId`
/// names an operation of the connector (a GET, so the designer may call it freely),
/// `parameters` is an object whose keys are that operation's parameters and covers its
/// required ones, each value is a literal the parameter takes or `{"parameter": name}`
/// naming a parameter of every operation that uses the schema, and `value-path`, when given,
/// is a string.
#[test]
fn dynamic_schemas_name_an_operation_and_parameters_that_exist() {
    let doc = swagger();
    let ops = operations(&doc);
    let by_id: BTreeMap<String, (String, String, Value)> = ops
        .iter()
        .filter_map(|(p, m, op)| Some((op["operationId"].as_str()?.to_owned(), (p.clone(), m.clone(), op.clone()))))
        .collect();
    let mut found = 0;
    for (path, method, op) in &ops {
        let here_params: BTreeSet<String> =
            parameters(&doc, op).iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect();
        // The operation's own schemas and every definition they reach.
        let mut used = BTreeSet::new();
        definitions_used(&doc, op, &mut used);
        let mut nodes = vec![op];
        nodes.extend(used.iter().map(|name| &doc["definitions"][name]));
        let mut dynamic = Vec::new();
        for n in nodes {
            dynamic_schemas(n, &mut dynamic);
        }
        for d in dynamic {
            found += 1;
            let here = format!("{method} {path}");
            let target_id = d["operationId"].as_str().unwrap_or_else(|| panic!("{here}: no operationId"));
            let (_, target_method, target) =
                by_id.get(target_id).unwrap_or_else(|| panic!("{here}: no operation {target_id}"));
            assert_eq!(target_method, "get", "{here}: {target_id} is not a GET");
            let target_params = parameters(&doc, target);
            let args = d["parameters"].as_object().unwrap_or_else(|| panic!("{here}: parameters is not an object"));
            for (arg, value) in args {
                let declared = target_params
                    .iter()
                    .find(|p| p["name"] == *arg)
                    .unwrap_or_else(|| panic!("{here}: {target_id} has no parameter {arg}"));
                match value.get("parameter").and_then(Value::as_str) {
                    Some(source) => assert!(
                        here_params.contains(source),
                        "{here}: passes {{\"parameter\": \"{source}\"}} to {target_id}, which this operation lacks"
                    ),
                    None => {
                        let literal = value.as_str().unwrap_or_else(|| panic!("{here}: {arg} is neither"));
                        if let Some(choices) = declared["enum"].as_array() {
                            assert!(
                                choices.contains(&Value::from(literal)),
                                "{here}: {arg}={literal} not in {choices:?}"
                            );
                        }
                    }
                }
            }
            for p in &target_params {
                if p["required"] == true {
                    let name = p["name"].as_str().unwrap_or_default();
                    assert!(args.contains_key(name), "{here}: {target_id} needs {name}");
                }
            }
            if let Some(vp) = d.get("value-path") {
                assert!(vp.is_string(), "{here}: value-path is not a string");
            }
        }
    }
    // write-cells' rows, get-view-data's records, list-items' items (GET and POST).
    assert!(found >= 4, "expected at least four dynamic schemas, found {found}");
}

#[test]
fn an_availability_test_watches_health_with_a_key_that_opens_health_alone() {
    let read = |p: &str| fs::read_to_string(root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let main = read("infra/main.bicep");
    let availability = read("infra/modules/availability.bicep");
    let keys = read("infra/connector-keys.bicep");
    let key = read("infra/modules/health-key.bicep");
    // The deployment creates the key once, in the vault, and hands it to the test by reference.
    assert!(main.contains("module healthKey 'modules/health-key.bicep' = if (healthAlerts)"), "main.bicep");
    assert!(main.contains("healthKey: keyVault.getSecret('function-key-health')"), "main.bicep: a Key Vault reference");
    assert!(key.contains("@onlyIfNotExists()") && key.contains("name: 'function-key-health'"), "health-key.bicep");
    // The test calls health with that key, expects 200, and alerts when two regions fail.
    assert!(availability.contains("RequestUrl: 'https://${hostName}/api/health'"), "availability.bicep");
    assert!(availability.contains("key: 'x-functions-key'") && availability.contains("value: healthKey"));
    assert!(availability.contains("ExpectedHttpStatusCode: 200"));
    assert!(availability.contains("failedLocationCount: 2"));
    assert!(availability.contains("@secure()\nparam healthKey string"), "the key is a secure parameter");
    // A failed keep-signed-in run alerts too, whatever health says.
    assert!(availability.contains(r#"requests | where name == "keep-signed-in" and success == false"#));
    // After the code deployment the key is set on health and nothing else, never as a host key.
    assert!(keys.contains("keyValue: vault.getSecret('function-key-health')"), "connector-keys.bicep");
    let health_paths = keys.split("module healthKey").nth(1).expect("a healthKey module").split("}\n}").next().unwrap();
    assert!(health_paths.contains("'/health': {}"), "{health_paths}");
    assert_eq!(health_paths.matches("': {}").count(), 1, "health only: {health_paths}");
    assert!(!keys.contains("host/default") && !keys.contains("functionKeys"), "never a host key");
    // The azd hook sets it when the test is deployed.
    assert!(main.contains("output ANAPLAN_HEALTH_TEST bool = healthAlerts"));
    assert!(read("scripts/connector-keys.sh").contains("healthTest=\"$health\""));
}

#[test]
fn onboard_needs_a_key_and_its_callback_none_and_the_deployment_names_both_urls() {
    let all = all_functions();
    let auth_level = |name: &str| {
        let bindings = all[name]["bindings"].as_array().unwrap_or_else(|| panic!("{name}: no bindings")).clone();
        assert_eq!(bindings.len(), 2, "{name}");
        let trigger = bindings.iter().find(|b| b["type"] == "httpTrigger").expect("an httpTrigger").clone();
        assert_eq!(trigger["methods"], serde_json::json!(["get"]), "{name}");
        trigger["authLevel"].as_str().unwrap().to_owned()
    };
    assert_eq!(auth_level("onboard"), "function", "the page shows the sign-in's state: key only");
    assert_eq!(auth_level("onboard-callback"), "anonymous", "Anaplan's redirect carries no key");
    let main = fs::read_to_string(root().join("infra/main.bicep")).expect("main.bicep");
    assert!(
        main.contains("output onboardUrl string = 'https://${app.outputs.defaultHostName}/api/onboard'"),
        "main.bicep"
    );
    assert!(
        main.contains(
            "output onboardCallbackUrl string = 'https://${app.outputs.defaultHostName}/api/onboard-callback'"
        ),
        "main.bicep"
    );
    // Used nonces expire like the other short-lived records.
    let storage = fs::read_to_string(root().join("infra/modules/storage.bicep")).expect("storage.bicep");
    let record = anaplan_functions::storage::record_name(anaplan_functions::onboard::USED_FOLDER, &["x"]);
    let (folder, _) = record.rsplit_once('/').unwrap();
    assert!(storage.contains(&format!("'{}/{folder}/'", anaplan_functions::http::STATE_CONTAINER)), "storage.bicep");
}
