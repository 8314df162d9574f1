//! The connector variants (interface section 5): one connector per role (`openapi --group`)
//! and the one whose connections sign in to Anaplan (`--auth anaplanOAuth`, for Logic Apps
//! and, as a `paconn` layout, for Power Platform), checked without Azure: the committed
//! definitions are the generator's output, the connection properties match them, and the
//! Bicep deploys them as the contract says (text checks, as tests/app/infra.rs does; no Bicep
//! compiler exists offline, scripts/check-infra.sh parses the files).
//!
//! Regenerate the definitions with:
//!
//! ```text
//! B="cargo run -q --"
//! $B openapi > infra/connector/apiDefinition.swagger.json
//! $B openapi --auth anaplanOAuth > infra/connector-oauth/apiDefinition.swagger.json
//! $B openapi --auth anaplanOAuth --power-platform > infra/connector-oauth/power-platform/apiDefinition.swagger.json
//! for g in integration users cloudworks; do
//!   $B openapi --group $g > infra/connector/groups/$g.swagger.json
//!   $B openapi --group $g --auth anaplanOAuth > infra/connector-oauth/groups/$g.swagger.json
//! done
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use anaplan_functions::machinery::declare::Group;
use anaplan_functions::machinery::openapi::{
    AUTHORIZATION_PATH, ConnectorAuth, FUNCTION_KEY_PARAMETER, OAUTH_HOST_PLACEHOLDER, OAUTH_SCOPES, OAUTH_SECURITY,
    TOKEN_PATH, Variant,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_anaplan-functions");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: not JSON: {e}"))
}

/// Every committed definition, with the variant that prints it.
fn committed() -> Vec<(String, Variant)> {
    let mut out = Vec::new();
    for auth in [ConnectorAuth::FunctionKey, ConnectorAuth::AnaplanOAuth] {
        let dir = if auth == ConnectorAuth::FunctionKey { "infra/connector" } else { "infra/connector-oauth" };
        out.push((format!("{dir}/apiDefinition.swagger.json"), Variant { auth, ..Variant::default() }));
        for g in Group::ALL {
            out.push((
                format!("{dir}/groups/{}.swagger.json", g.name()),
                Variant { group: Some(g), auth, power_platform: false },
            ));
        }
    }
    out.push((
        "infra/connector-oauth/power-platform/apiDefinition.swagger.json".into(),
        Variant { auth: ConnectorAuth::AnaplanOAuth, power_platform: true, ..Variant::default() },
    ));
    out
}

#[test]
fn every_committed_definition_is_what_the_generator_prints() {
    for (path, variant) in committed() {
        assert!(
            read(&path) == anaplan_functions::functions::connector_definition_for(variant),
            "{path} is not what `openapi` prints for {variant:?}: regenerate it (tests/app/connector_variants.rs says how)"
        );
    }
}

#[tokio::test]
async fn the_command_prints_a_group_and_an_auth_variant() {
    let out = tokio::process::Command::new(BIN)
        .args(["openapi", "--group", "users", "--auth", "anaplanOAuth"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), read("infra/connector-oauth/groups/users.swagger.json"));
    let bad = tokio::process::Command::new(BIN).args(["openapi", "--group", "scim"]).output().await.unwrap();
    assert!(!bad.status.success(), "an unknown group is refused");
}

/// The paths of a definition.
fn paths(doc: &Value) -> BTreeSet<String> {
    doc["paths"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_groups_cover_every_function_and_keep_each_others_operations_out() {
    let all = read_json("infra/connector/apiDefinition.swagger.json");
    let mut covered = BTreeSet::new();
    let mut by_group = Vec::new();
    for g in Group::ALL {
        let doc = read_json(&format!("infra/connector/groups/{}.swagger.json", g.name()));
        let oauth = read_json(&format!("infra/connector-oauth/groups/{}.swagger.json", g.name()));
        assert_eq!(paths(&doc), paths(&oauth), "{g:?}: both kinds of connector have the same functions");
        covered.extend(paths(&doc));
        by_group.push((g, paths(&doc)));
    }
    assert_eq!(covered, paths(&all), "every function is in some connector per role");
    let has = |g: Group, p: &str| by_group.iter().any(|(h, ps)| *h == g && ps.contains(p));
    // A key handed to the users connector cannot run a process, and so on.
    for p in ["/run-process", "/write-cells", "/export-file", "/model-state"] {
        assert!(has(Group::Integration, p) && !has(Group::Users, p) && !has(Group::CloudWorks, p), "{p}");
    }
    for p in ["/users", "/audit-events", "/access-review", "/exception-users", "/tenant-users"] {
        assert!(has(Group::Users, p) && !has(Group::Integration, p) && !has(Group::CloudWorks, p), "{p}");
    }
    for p in ["/run-integration", "/cloudworks"] {
        assert!(has(Group::CloudWorks, p) && !has(Group::Integration, p) && !has(Group::Users, p), "{p}");
    }
    // list-objects, the dropdowns' source, is in every connector (README: "Connectors per role").
    assert!(Group::ALL.iter().all(|g| has(*g, "/list-objects")));
}

/// The authorization, token and refresh URLs of the OAuth definition and its properties.
#[test]
fn the_oauth_connector_signs_in_at_anaplans_authorization_code_urls() {
    let placeholder_auth = format!("{OAUTH_HOST_PLACEHOLDER}{AUTHORIZATION_PATH}");
    let placeholder_token = format!("{OAUTH_HOST_PLACEHOLDER}{TOKEN_PATH}");
    assert_eq!(placeholder_auth, "https://us1a.app.anaplan.com/auth/prelogin");
    assert_eq!(placeholder_token, "https://us1a.app.anaplan.com/oauth/token");
    for (path, variant) in committed() {
        let doc = read_json(&path);
        let sec = &doc["securityDefinitions"];
        if variant.auth == ConnectorAuth::FunctionKey {
            assert_eq!(sec["api_key"]["name"], "x-functions-key", "{path}");
            continue;
        }
        let oauth = &sec[OAUTH_SECURITY];
        assert_eq!((&oauth["type"], &oauth["flow"]), (&json!("oauth2"), &json!("accessCode")), "{path}");
        assert_eq!(oauth["authorizationUrl"], placeholder_auth, "{path}: no trailing ?");
        assert_eq!(oauth["tokenUrl"], placeholder_token, "{path}");
        let scopes: Vec<&str> = oauth["scopes"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(scopes, OAUTH_SCOPES, "{path}");
        // Logic Apps: the key is the internal header every operation carries; Power Platform:
        // the policy sends it.
        let key = &doc["parameters"][FUNCTION_KEY_PARAMETER];
        if variant.power_platform {
            assert!(key.is_null() && !read(&path).contains("#/parameters/"), "{path}");
        } else {
            assert_eq!(key["name"], "x-functions-key", "{path}");
            assert_eq!(key["x-ms-visibility"], "internal", "{path}");
            assert_eq!(key["required"], true, "{path}");
            assert!(key["default"].is_string(), "{path}: an internal required parameter needs a default");
            for item in doc["paths"].as_object().unwrap().values() {
                for op in item.as_object().unwrap().values() {
                    let refs: Vec<&Value> =
                        op["parameters"].as_array().unwrap().iter().filter(|p| p.get("$ref").is_some()).collect();
                    assert_eq!(refs, [&json!({"$ref": "#/parameters/functionKey"})], "{path}: {}", op["operationId"]);
                }
            }
        }
    }

    // Logic Apps: Generic OAuth 2 with the same URLs (token and refresh alike) and scopes.
    let props = read_json("infra/connector-oauth/apiProperties.json");
    let token = &props["properties"]["connectionParameters"]["token"];
    assert_eq!(token["type"], "oauthSetting");
    let settings = &token["oAuthSettings"];
    assert_eq!(settings["identityProvider"], "oauth2generic");
    assert_eq!(settings["scopes"], json!([OAUTH_SCOPES.join(" ")]));
    let custom = &settings["customParameters"];
    assert_eq!(custom["authorizationUrlTemplate"]["value"], placeholder_auth);
    assert_eq!(custom["tokenUrlTemplate"]["value"], placeholder_token);
    assert_eq!(custom["refreshUrlTemplate"]["value"], placeholder_token);
    assert_eq!(settings["redirectUrl"], "https://logic-apis-{region}.consent.azure-apim.net/redirect");
    assert!(settings.get("clientSecret").is_none(), "the secret comes from the deployment's @secure() parameter");
    assert_eq!(props["properties"]["connectionParameters"].as_object().unwrap().len(), 1);
    for text in
        [read("infra/connector-oauth/apiProperties.json"), read("infra/connector-oauth/apiDefinition.swagger.json")]
    {
        assert!(!text.contains("prelogin?"), "no ? after the authorization URL: the connector appends the query");
    }
}

#[test]
fn the_power_platform_layout_follows_the_paconn_schemas() {
    let dir = "infra/connector-oauth/power-platform";
    // paconn-settings.schema.json: no other keys; the files it names exist next to it.
    let settings = read_json(&format!("{dir}/settings.json"));
    let allowed = [
        "connectorId",
        "environment",
        "apiProperties",
        "apiDefinition",
        "icon",
        "script",
        "powerAppsUrl",
        "powerAppsApiVersion",
        "flowUrl",
        "flowApiVersion",
    ];
    for (k, v) in settings.as_object().unwrap() {
        assert!(allowed.contains(&k.as_str()), "settings.json: {k}");
        assert!(v.is_string(), "settings.json: {k}");
    }
    for file in ["apiProperties", "apiDefinition"] {
        let name = settings[file].as_str().unwrap();
        assert!(root().join(dir).join(name).is_file(), "settings.json names {name}");
    }
    // paconn-apiProperties.schema.json: {properties: {iconBrandColor (required), capabilities,
    // connectionParameters, policyTemplateInstances}} and nothing else.
    let props = read_json(&format!("{dir}/apiProperties.json"));
    assert!(props.as_object().unwrap().keys().all(|k| k == "properties" || k == "$schema"));
    let p = &props["properties"];
    for k in p.as_object().unwrap().keys() {
        assert!(
            ["iconBrandColor", "capabilities", "connectionParameters", "policyTemplateInstances"].contains(&k.as_str()),
            "apiProperties.json: {k}"
        );
    }
    assert!(p["iconBrandColor"].as_str().unwrap().starts_with('#'));
    // The OAuth connection: per-connector redirect, and the client secret in the token and
    // refresh bodies (Anaplan wants it for an authorization-code client; Power Platform's
    // default refresh body has none).
    let oauth = &p["connectionParameters"]["token"]["oAuthSettings"];
    assert_eq!(p["connectionParameters"]["token"]["type"], "oauthSetting");
    assert_eq!(oauth["identityProvider"], "oauth2generic");
    assert_eq!(oauth["redirectMode"], "GlobalPerConnector");
    assert_eq!(oauth["scopes"], json!([OAUTH_SCOPES.join(" ")]));
    let custom = &oauth["customParameters"];
    let definition = read_json(&format!("{dir}/apiDefinition.swagger.json"));
    let sec = &definition["securityDefinitions"][OAUTH_SECURITY];
    assert_eq!(custom["authorizationUrlTemplate"]["value"], sec["authorizationUrl"]);
    assert_eq!(custom["tokenUrlTemplate"]["value"], sec["tokenUrl"]);
    assert_eq!(custom["refreshUrlTemplate"]["value"], sec["tokenUrl"]);
    for body in ["tokenBodyTemplate", "refreshBodyTemplate"] {
        let text = custom[body]["value"].as_str().unwrap();
        assert!(text.contains("client_secret={ClientSecret}") && text.contains("client_id={ClientId}"), "{body}");
    }
    // The key: a secure connection parameter the user enters, sent by a setheader policy.
    let key = &p["connectionParameters"]["functionKey"];
    assert_eq!(key["type"], "securestring");
    assert_eq!(key["uiDefinition"]["constraints"]["clearText"], false);
    let policies = p["policyTemplateInstances"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    let policy = &policies[0];
    assert_eq!(policy["templateId"], "setheader");
    let params = policy["parameters"].as_object().unwrap();
    for k in params.keys() {
        assert!(
            ["x-ms-apimTemplate-operationName", "x-ms-apimTemplate-policySection"].contains(&k.as_str())
                || k.starts_with("x-ms-apimTemplateParameter."),
            "setheader: {k}"
        );
    }
    assert_eq!(params["x-ms-apimTemplateParameter.name"], "x-functions-key");
    assert_eq!(params["x-ms-apimTemplateParameter.value"], "@connectionParameters('functionKey')");
    assert_eq!(params["x-ms-apimTemplateParameter.existsAction"], "override");
    assert_eq!(params["x-ms-apimTemplate-policySection"], "Request");
    assert!(params.get("x-ms-apimTemplate-operationName").is_none(), "every operation");
}

// ------------------------------------------------------------------------------- Bicep

/// The decorators and declaration of `param <name>` in `bicep`.
fn param_block(bicep: &str, name: &str) -> String {
    let lines: Vec<&str> = bicep.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("param {name} ")))
        .unwrap_or_else(|| panic!("no param {name}"));
    let mut start = at;
    while start > 0
        && (lines[start - 1].starts_with('@') || lines[start - 1].starts_with("  ") || lines[start - 1] == "])")
    {
        start -= 1;
    }
    lines[start..=at].join("\n")
}

#[test]
fn main_bicep_declares_the_connector_parameters_with_their_allowed_values() {
    let main = read("infra/main.bicep");
    let auth = param_block(&main, "connectorAuth");
    assert!(auth.contains("'functionKey'\n  'anaplanOAuth'\n") && auth.ends_with("= 'functionKey'"), "{auth}");
    let connectors = param_block(&main, "connectors");
    assert!(connectors.contains("'single'\n  'byRole'\n") && connectors.ends_with("= 'single'"), "{connectors}");
    let secret = param_block(&main, "anaplanOAuthClientSecret");
    assert!(secret.contains("@secure()"), "the client secret is a secure parameter: {secret}");
    assert!(param_block(&main, "anaplanOAuthClientId").ends_with("string = ''"));
    // anaplanOAuth runs the app in caller mode.
    assert!(main.contains("var signInWithAnaplan = connectorAuth == 'anaplanOAuth'"));
    assert!(main.contains("ANAPLAN_AUTH_METHOD: signInWithAnaplan ? 'caller' : anaplanAuthMethod"));
    // The connector module gets the secret through a @secure() parameter, never in a plain one.
    let connector = read("infra/modules/connector.bicep");
    assert!(param_block(&connector, "oAuthClientSecret").contains("@secure()"));
    assert!(param_block(&connector, "functionKey").contains("@secure()"));
    assert!(main.contains("oAuthClientSecret: anaplanOAuthClientSecret"));
    // main.bicepparam passes them (the secret from the environment, never written in a file).
    let bicepparam = read("infra/main.bicepparam");
    for p in ["connectorAuth", "connectors", "anaplanOAuthClientId", "anaplanOAuthClientSecret"] {
        assert!(bicepparam.contains(&format!("param {p} = readEnvironmentVariable(")), "main.bicepparam: {p}");
    }
}

#[test]
fn main_bicep_deploys_each_variants_committed_files() {
    let main = read("infra/main.bicep");
    for (path, variant) in committed() {
        if variant.power_platform {
            continue; // paconn's, not the deployment's
        }
        let relative = path.strip_prefix("infra/").unwrap();
        assert!(main.contains(&format!("loadJsonContent('{relative}')")), "main.bicep does not load {relative}");
    }
    for props in ["connector/apiProperties.json", "connector-oauth/apiProperties.json"] {
        assert!(main.contains(&format!("loadJsonContent('{props}', '$.properties.connectionParameters')")), "{props}");
    }
    // byRole: the three groups, each its own connector <name>-<group>.
    for g in Group::ALL {
        assert!(main.contains(&format!("  '{}'\n", g.name())), "{g:?}");
    }
    assert!(main.contains("name: group == 'all' ? names.connector : '${name}-${group}'"));
    assert!(main.contains("swagger: connectorDefinitions[connectorAuth][group]"));
    // The OAuth URLs and the redirect URL are the committed ones, on the region's host.
    let connector = read("infra/modules/connector.bicep");
    assert!(connector.contains(&format!("var oAuthHostPlaceholder = '{OAUTH_HOST_PLACEHOLDER}'")));
    assert!(connector.contains("replace(string(swagger.securityDefinitions), oAuthHostPlaceholder, oAuthBaseUrl)"));
    assert!(connector.contains(
        "json(replace(replace(string(connectionParameters), oAuthHostPlaceholder, oAuthBaseUrl), '{region}', location))"
    ));
    assert!(connector.contains("default: functionKey"), "the internal header's default is the connector's key");
    assert!(connector.contains("clientSecret: oAuthClientSecret"));
    // Outputs: the redirect URL to register in Anaplan, the connectors and their keys.
    for output in [
        "output anaplanOAuthRedirectUrl string = signInWithAnaplan ? anaplanOAuthRedirectUrl : ''",
        "output connectorId string",
        "output connectors array",
        "keyName: 'connector-${group}'",
        "output ANAPLAN_FUNCTION_APP string",
        "output ANAPLAN_KEY_VAULT string",
        "output ANAPLAN_DEPLOYED_CONNECTORS string",
    ] {
        assert!(main.contains(output), "main.bicep: {output}");
    }
    assert!(main.contains(
        "replace(loadJsonContent('connector-oauth/apiProperties.json', \
         '$.properties.connectionParameters.token.oAuthSettings.redirectUrl'), '{region}', region)"
    ));
}

#[test]
fn the_bicep_oauth_host_of_every_region_is_the_apps() {
    let main = read("infra/main.bicep");
    let start = main.find("var anaplanOAuthHosts = {\n").expect("the region map") + "var anaplanOAuthHosts = {\n".len();
    let end = start + main[start..].find("\n}\n").unwrap();
    let mut mapped = BTreeSet::new();
    for line in main[start..end].lines() {
        let (region, host) = line.trim().split_once(": ").unwrap_or_else(|| panic!("{line}"));
        let host = host.trim_matches('\'');
        let hosts = anaplan::regions::hosts(region).unwrap_or_else(|| panic!("{region}: not a region the app knows"));
        assert_eq!(host, hosts.oauth, "{region}: the app's OAuth host");
        mapped.insert(region.to_owned());
    }
    // Every region the app knows, and every value anaplanRegion allows but the empty one (the
    // global hosts, us1's).
    for name in anaplan::regions::names() {
        assert!(mapped.contains(name), "main.bicep maps no OAuth host for {name}");
    }
    let allowed = param_block(&main, "anaplanRegion");
    for region in allowed.lines().filter_map(|l| l.trim().strip_prefix('\'')?.strip_suffix('\'')) {
        assert!(region.is_empty() || mapped.contains(region), "{region}");
    }
    assert!(main.contains("anaplanOAuthHosts[empty(anaplanRegion) ? 'us1' : anaplanRegion]"));
    assert!(main.contains("var anaplanOAuthHost = empty(anaplanOAuthUrl) ?"), "ANAPLAN_OAUTH_URL overrides the region");
}

#[test]
fn each_connectors_key_is_set_on_exactly_its_functions_and_never_as_a_host_key() {
    for file in fs::read_dir(root().join("infra/modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .chain([root().join("infra/main.bicep"), root().join("infra/connector-keys.bicep")])
    {
        let text = fs::read_to_string(&file).unwrap();
        for host_key in ["sites/host/", "/host/default", "functionKeys", "masterKey", "listkeys("] {
            assert!(!text.contains(host_key), "{}: {host_key}: never a host key", file.display());
        }
    }
    // Keys: created once in the vault, random, never overwritten.
    let secrets = read("infra/modules/connector-secrets.bicep");
    assert!(secrets.contains("@onlyIfNotExists()\nresource keys 'Microsoft.KeyVault/vaults/secrets@"));
    assert!(secrets.contains("param seed string = newGuid()"));
    assert!(secrets.contains("name: 'function-key-connector-${group}'"));
    let main = read("infra/main.bicep");
    assert!(main.contains("functionKey: keyVault.getSecret('function-key-connector-${group}')"));
    assert!(main.contains("enabledForTemplateDeployment: deployConnectors"));
    assert!(
        read("infra/modules/keyvault.bicep").contains("enabledForTemplateDeployment: enabledForTemplateDeployment")
    );
    // Set on the functions after the code deployment: each group's definition's paths.
    let keys = read("infra/connector-keys.bicep");
    assert!(keys.contains("all: loadJsonContent('connector/apiDefinition.swagger.json', '$.paths')"));
    for g in Group::ALL {
        let name = g.name();
        assert!(
            keys.contains(&format!("{name}: loadJsonContent('connector/groups/{name}.swagger.json', '$.paths')")),
            "{name}"
        );
    }
    assert!(keys.contains("keyName: 'connector-${group}'"));
    assert!(keys.contains("keyValue: vault.getSecret('function-key-connector-${group}')"));
    let function_keys = read("infra/modules/function-keys.bicep");
    assert!(function_keys.contains("resource keys 'Microsoft.Web/sites/functions/keys@"));
    assert!(function_keys.contains("[for path in items(paths): {"));
    assert!(function_keys.contains("name: '${appName}/${substring(path.key, 1)}/${keyName}'"));
    assert!(param_block(&function_keys, "keyValue").contains("@secure()"));
    // A path of a definition names a function folder (so the key lands on a real function).
    for (path, _) in committed() {
        for p in paths(&read_json(&path)) {
            assert!(root().join("functions").join(&p[1..]).join("function.json").is_file(), "{path}: {p}");
        }
    }
    // azd runs it after the code deployment; the script does nothing without connectors.
    let azure = read("azure.yaml");
    assert!(azure.contains("postdeploy:") && azure.contains("scripts/connector-keys.sh"));
    let script = read("scripts/connector-keys.sh");
    assert!(script.contains("-f infra/connector-keys.bicep") && script.contains("ANAPLAN_DEPLOYED_CONNECTORS"));
}
