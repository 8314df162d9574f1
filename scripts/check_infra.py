#!/usr/bin/env python3
"""Offline checks of the deployment and connector files; run by scripts/check-infra.sh.

    check_infra.py files     JSON parses; the connector definition is what
                             scripts/connector_swagger.py writes, formatted as shipped, and
                             valid Swagger 2.0; apiProperties.json, azure.yaml and
                             main.bicepparam hang together; every checkov skip has a reason.
                             (Needs openapi-spec-validator and PyYAML: the checkov venv.)
    check_infra.py bicep     Every .bicep file parses (pycep 0.7), and what the compiler would
                             catch across files: module paths, module parameters (unknown,
                             missing required), module outputs used, loadJsonContent files and
                             JSON paths. (Needs pycep-parser 0.7: the pycep venv.)
    check_infra.py checkov OUT_JSON
                             checkov's Bicep checks over a copy of infra/ in which the
                             `@onlyIfNotExists()` decorator lines are removed (checkov 3.3
                             parses with pycep 0.5, which does not know the decorator); fails on
                             any failed check or any file checkov could not parse.

Each prints what it checked and exits 1 with one line per problem.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
SWAGGER = INFRA / "connector" / "apiDefinition.swagger.json"
API_PROPERTIES = INFRA / "connector" / "apiProperties.json"

problems = []


def problem(msg):
    problems.append(msg)
    print(f"  FAIL {msg}")


def ok(msg):
    print(f"  ok   {msg}")


def rel(p):
    return str(Path(p).resolve().relative_to(ROOT))


def finish():
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------- files


def check_files():
    json_files = sorted(INFRA.rglob("*.json")) + [ROOT / "host.json"] + sorted((ROOT / "functions").glob("*/function.json"))
    for f in json_files:
        try:
            json.loads(f.read_text(encoding="utf-8"))
        except Exception as e:  # noqa: BLE001
            problem(f"{rel(f)}: not JSON: {e}")
    ok(f"{len(json_files)} JSON files parse")

    # The shipped definition: generated, formatted byte for byte as `anaplan-functions openapi` prints it.
    sys.path.insert(0, str(ROOT / "scripts"))
    import connector_swagger  # noqa: E402

    text = SWAGGER.read_text(encoding="utf-8")
    if text != connector_swagger.render():
        problem(f"{rel(SWAGGER)} differs from what scripts/connector_swagger.py writes (run it; edit the script, not the JSON)")
    else:
        ok(f"{rel(SWAGGER)} is what scripts/connector_swagger.py writes")
    spec = json.loads(text)
    if text != json.dumps(spec, indent=2, ensure_ascii=False) + "\n":
        problem(f"{rel(SWAGGER)}: not 2-space-indented JSON with a trailing newline")
    else:
        ok("definition formatted with 2-space indentation and a trailing newline")

    from openapi_spec_validator import OpenAPIV2SpecValidator, validate

    try:
        validate(spec, cls=OpenAPIV2SpecValidator)
        ok("definition is valid Swagger 2.0 (openapi-spec-validator)")
    except Exception as e:  # noqa: BLE001
        problem(f"{rel(SWAGGER)}: not valid Swagger 2.0: {str(e).splitlines()[0]}")

    check_api_properties(spec)
    check_azure_yaml()
    check_bicepparam()
    check_skip_reasons()


def check_api_properties(spec):
    # The paconn apiProperties schema: {"properties": {iconBrandColor (required), capabilities,
    # connectionParameters, policyTemplateInstances}}, nothing else.
    props = json.loads(API_PROPERTIES.read_text(encoding="utf-8"))
    before = len(problems)
    if set(props) - {"properties", "$schema"}:
        problem(f"{rel(API_PROPERTIES)}: unexpected top-level keys {sorted(set(props) - {'properties', '$schema'})}")
    p = props.get("properties", {})
    extra = set(p) - {"iconBrandColor", "capabilities", "connectionParameters", "policyTemplateInstances"}
    if extra:
        problem(f"{rel(API_PROPERTIES)}: properties has keys the schema does not allow: {sorted(extra)}")
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", str(p.get("iconBrandColor", ""))):
        problem(f"{rel(API_PROPERTIES)}: iconBrandColor must be a #rrggbb colour")
    key = p.get("connectionParameters", {}).get("api_key", {})
    if key.get("type") != "securestring":
        problem(f"{rel(API_PROPERTIES)}: connectionParameters.api_key must be a securestring")
    for name in p.get("connectionParameters", {}):
        if name not in spec.get("securityDefinitions", {}):
            problem(f"{rel(API_PROPERTIES)}: connection parameter {name} has no security definition in the Swagger")
    if len(problems) == before:
        ok(f"{rel(API_PROPERTIES)}: connector properties (api_key securestring) match the definition")


def check_azure_yaml():
    import yaml

    path = ROOT / "azure.yaml"
    before = len(problems)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        problem(f"azure.yaml: not YAML: {e}")
        return
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(doc.get("name", ""))):
        problem("azure.yaml: name must be lowercase letters, digits and hyphens")
    infra = doc.get("infra", {})
    module = ROOT / infra.get("path", "infra") / f"{infra.get('module', 'main')}.bicep"
    if not module.exists():
        problem(f"azure.yaml: infra module {rel(module)} does not exist")
    services = doc.get("services", {})
    if not services:
        problem("azure.yaml: no services")
    for name, svc in services.items():
        if svc.get("host") != "function":
            problem(f"azure.yaml: service {name}: host must be function")
        if svc.get("language") == "custom" and not svc.get("dist"):
            problem(f"azure.yaml: service {name}: language custom needs dist")
        if not (ROOT / svc.get("project", ".")).is_dir():
            problem(f"azure.yaml: service {name}: project folder missing")
        for hook_name, hook in (svc.get("hooks") or {}).items():
            for variant in [hook] + [hook.get(k) for k in ("posix", "windows") if hook.get(k)]:
                if "run" in variant and variant.get("shell", "sh") not in ("sh", "pwsh"):
                    problem(f"azure.yaml: {name}.{hook_name}: shell must be sh or pwsh")
        tag = f"'azd-service-name': azdServiceName"
        if tag not in (INFRA / "modules" / "functionapp.bicep").read_text(encoding="utf-8"):
            problem("azure.yaml: the function app no longer carries the azd-service-name tag")
        if "param azdServiceName string = '" + name + "'" not in (INFRA / "modules" / "functionapp.bicep").read_text(encoding="utf-8"):
            problem(f"azure.yaml: service {name} is not the azd-service-name the function app is tagged with")
    if len(problems) == before:
        ok("azure.yaml: infra module exists; service is a function app tagged for azd; dist set")


PARAM_RE = re.compile(r"^param\s+(\w+)\s+(\w+)(\s*=.*)?$", re.M)


def bicep_params(path):
    """{name: has_default} for the `param` lines of a Bicep file."""
    return {m.group(1): bool(m.group(3)) for m in PARAM_RE.finditer(path.read_text(encoding="utf-8"))}


def check_bicepparam():
    path = INFRA / "main.bicepparam"
    text = path.read_text(encoding="utf-8")
    before = len(problems)
    lines = [l for l in text.splitlines() if l.strip() and not l.strip().startswith("//")]
    if not lines or lines[0].strip() != "using './main.bicep'":
        problem(f"{rel(path)}: must start with using './main.bicep'")
    declared = bicep_params(INFRA / "main.bicep")
    given = re.findall(r"^param\s+(\w+)\s*=", text, re.M)
    for name in given:
        if name not in declared:
            problem(f"{rel(path)}: param {name} is not a parameter of main.bicep")
    for name in {g for g in given if given.count(g) > 1}:
        problem(f"{rel(path)}: param {name} given twice")
    for name, has_default in declared.items():
        if not has_default and name not in given:
            problem(f"{rel(path)}: required parameter {name} of main.bicep is not given")
    if len(problems) == before:
        ok(f"{rel(path)}: {len(given)} parameters, all declared in main.bicep, none required missing")


def check_skip_reasons():
    count = 0
    for f in sorted(INFRA.rglob("*.bicep")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = re.search(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", line)
            if m:
                count += 1
                if len((m.group(2) or "").strip()) < 20:
                    problem(f"{rel(f)}:{n}: checkov skip {m.group(1)} without a reason")
    ok(f"{count} checkov skips, each with a reason")


# ---------------------------------------------------------------------------- bicep


def walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def accessor_chain(node):
    """`a.b.c` as ['a', 'b', 'c'] when node is a chain of property accessors, else None."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict) and "operator" in node and node["operator"].get("type") == "property_accessor":
        ops = node["operator"]["operands"]
        left = accessor_chain(ops.get("operand_1"))
        right = accessor_chain(ops.get("operand_2"))
        if left and right:
            return left + right
    return None


def json_path(doc, path):
    cur = doc
    for part in path.lstrip("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(cur, dict) or part not in cur:
            return False
        cur = cur[part]
    return True


def check_bicep():
    from pycep import BicepParser

    parser = BicepParser()
    files = sorted(INFRA.rglob("*.bicep"))
    asts = {}
    for f in files:
        try:
            asts[f] = parser.parse(text=f.read_text(encoding="utf-8"))
        except Exception as e:  # noqa: BLE001
            problem(f"{rel(f)}: does not parse: {str(e).splitlines()[0]}")
    ok(f"{len(asts)}/{len(files)} .bicep files parse (pycep)")

    before = len(problems)
    n_modules = 0
    for f, ast in asts.items():
        for sym, mod in (ast.get("modules") or {}).items():
            n_modules += 1
            target = (f.parent / mod["detail"]["path"]).resolve()
            if not target.exists():
                problem(f"{rel(f)}: module {sym}: {mod['detail']['path']} does not exist")
                continue
            body = mod["config"]
            body = body.get("config", body) if "condition" in body else body
            passed = set((body.get("params") or {}).keys())
            target_ast = asts.get(target)
            if target_ast is None:
                continue
            declared = target_ast.get("parameters") or {}
            for p in sorted(passed - set(declared)):
                problem(f"{rel(f)}: module {sym} passes {p}, which {rel(target)} does not declare")
            for p, spec in declared.items():
                if "default" not in spec and p not in passed:
                    problem(f"{rel(f)}: module {sym} does not pass required parameter {p} of {rel(target)}")
            outputs = set((target_ast.get("outputs") or {}).keys())
            for node in walk(ast):
                chain = accessor_chain(node)
                if chain and len(chain) >= 3 and chain[0] == sym and chain[1] == "outputs" and chain[2] not in outputs:
                    problem(f"{rel(f)}: {sym}.outputs.{chain[2]} is not an output of {rel(target)}")
    if len(problems) == before:
        ok(f"{n_modules} module references: files exist, parameters known and complete, outputs exist")

    before = len(problems)
    n_loads = 0
    for f, ast in asts.items():
        for node in walk(ast):
            if isinstance(node, dict) and isinstance(node.get("function"), dict) and node["function"].get("type") == "load_json_content":
                n_loads += 1
                params = node["function"]["parameters"]
                target = f.parent / params["file_path"]
                if not target.exists():
                    problem(f"{rel(f)}: loadJsonContent('{params['file_path']}'): no such file")
                    continue
                if params.get("json_path") and not json_path(json.loads(target.read_text(encoding="utf-8")), params["json_path"]):
                    problem(f"{rel(f)}: loadJsonContent('{params['file_path']}', '{params['json_path']}'): no such path")
    if len(problems) == before:
        ok(f"{n_loads} loadJsonContent calls: files and JSON paths exist")

    check_contract(asts)


# What the issue and interface section 5 require of the resources, checked on the parsed
# templates (checkov does not look at all of these). (resource type, property path, value)
REQUIRED = [
    ("Microsoft.Storage/storageAccounts", "properties.allowSharedKeyAccess", False),
    ("Microsoft.Storage/storageAccounts", "properties.allowBlobPublicAccess", False),
    ("Microsoft.Storage/storageAccounts", "properties.minimumTlsVersion", "TLS1_2"),
    ("Microsoft.Storage/storageAccounts", "properties.supportsHttpsTrafficOnly", True),
    ("Microsoft.KeyVault/vaults", "properties.enableRbacAuthorization", True),
    ("Microsoft.KeyVault/vaults", "properties.enableSoftDelete", True),
    ("Microsoft.Web/sites", "identity.type", "SystemAssigned"),
    ("Microsoft.Web/sites", "kind", "functionapp,linux"),
    ("Microsoft.Web/sites", "properties.httpsOnly", True),
    ("Microsoft.Web/sites", "properties.siteConfig.minTlsVersion", "1.2"),
    ("Microsoft.Web/sites", "properties.siteConfig.ftpsState", "Disabled"),
    ("Microsoft.Web/customApis", "properties.apiType", "Rest"),
]

ROLE_IDS = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}

# Interface section 3 (+ the host's own), as app settings main.bicep / functionapp.bicep write.
APP_SETTINGS = [
    "ANAPLAN_AUTH_METHOD", "KEY_VAULT_URI", "ANAPLAN_API_URL", "ANAPLAN_AUTH_URL", "ANAPLAN_OAUTH_URL",
    "ANAPLAN_POLL_SECONDS", "EXPORT_STORAGE_URL", "AzureWebJobsStorage__accountName",
    "APPLICATIONINSIGHTS_CONNECTION_STRING", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
]

MAIN_OUTPUTS = ["appName", "baseUrl", "keyVaultUri", "principalId", "storageAccountName"]


def get_path(config, path):
    cur = config
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return KeyError
        cur = cur[part]
    return cur


def check_contract(asts):
    before = len(problems)
    resources = []  # (file, symbol, resource)
    for f, ast in asts.items():
        for sym, res in (ast.get("resources") or {}).items():
            resources.append((f, sym, res))

    def body(res):
        cfg = res.get("config", {})
        return cfg.get("config", cfg) if "condition" in cfg else cfg

    for typ, path, want in REQUIRED:
        found = [(f, s, r) for f, s, r in resources if r.get("type") == typ and not r.get("existing")]
        if not found:
            problem(f"no {typ} resource in infra/")
        for f, sym, res in found:
            got = get_path(body(res), path)
            if got is KeyError or got != want or type(got) is not type(want):
                problem(f"{rel(f)}: {typ} {sym}: {path} must be {json.dumps(want)}, is {json.dumps(got if got is not KeyError else None)}")

    # Key Vault Secrets Officer for the app only on secrets (never the vault), for both
    # secrets it writes.
    secret_syms = {(f, s): get_path(body(r), "name") for f, s, r in resources if r.get("type") == "Microsoft.KeyVault/vaults/secrets"}
    officer_scopes = []
    for f, sym, res in resources:
        if res.get("type") != "Microsoft.Authorization/roleAssignments":
            continue
        b = body(res)
        role = json.dumps(get_path(b, "properties.roleDefinitionId"))
        if "keyVaultSecretsOfficer" in role and get_path(b, "properties.principalId") == "principalId":
            scope = get_path(b, "scope")
            if (f, scope) not in secret_syms:
                problem(f"{rel(f)}: {sym}: the app's Key Vault Secrets Officer must be scoped to a secret, not {scope}")
            else:
                officer_scopes.append(secret_syms[(f, scope)])
    if len(officer_scopes) != 2:
        problem(f"expected the app's Key Vault Secrets Officer on exactly 2 secrets, found {len(officer_scopes)}")
    roles_text = (INFRA / "modules" / "roles.bicep").read_text(encoding="utf-8")
    for role, guid in ROLE_IDS.items():
        if guid not in roles_text:
            problem(f"infra/modules/roles.bicep: no {role} ({guid})")
    writable = (INFRA / "modules" / "writable-secrets.bicep").read_text(encoding="utf-8")
    for secret in ("anaplan-refresh-token", "anaplan-access-token"):
        if f"name: '{secret}'" not in writable:
            problem(f"infra/modules/writable-secrets.bicep: secret {secret} is not created")

    settings_text = (INFRA / "main.bicep").read_text(encoding="utf-8") + (INFRA / "modules" / "functionapp.bicep").read_text(encoding="utf-8")
    for name in APP_SETTINGS:
        if not re.search(rf"(\b{name}:|name: '{name}')", settings_text):
            problem(f"app setting {name} is not written by main.bicep or modules/functionapp.bicep")
    if "name: 'custom'" not in settings_text:
        problem("modules/functionapp.bicep: Flex runtime name must be custom")
    main_outputs = set((asts.get(INFRA / "main.bicep") or {}).get("outputs", {}))
    for out in MAIN_OUTPUTS:
        if out not in main_outputs:
            problem(f"infra/main.bicep: output {out} missing")
    if len(problems) == before:
        ok(f"{len(REQUIRED)} required properties, the 4 role ids, Secrets Officer scoped to the 2 writable secrets, "
           f"{len(APP_SETTINGS)} app settings, {len(MAIN_OUTPUTS)} outputs")


# ---------------------------------------------------------------------------- checkov


def check_checkov(out_json):
    work = Path(tempfile.mkdtemp(prefix="check-infra-"))
    try:
        copy = work / "infra"
        shutil.copytree(INFRA, copy)
        stripped = 0
        for f in copy.rglob("*.bicep"):
            text = f.read_text(encoding="utf-8")
            new = re.sub(r"^@onlyIfNotExists\(\)\n", "", text, flags=re.M)
            if new != text:
                stripped += 1
                f.write_text(new, encoding="utf-8")
        print(f"  ..   scanning a copy of infra/ ({stripped} file(s) without their @onlyIfNotExists() lines)")
        checkov = Path(sys.executable).parent / "checkov"
        cmd = [str(checkov), "-d", str(copy), "--framework", "bicep", "--skip-download", "--compact",
               "--output", "cli", "--output", "json", "--output-file-path", f"console,{work / 'results.json'}"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        report_file = work / "results.json"
        if not report_file.exists():
            problem(f"checkov wrote no report (exit {run.returncode}): {run.stderr.strip()[-500:]}")
            return
        report = json.loads(report_file.read_text(encoding="utf-8"))
        report = report[0] if isinstance(report, list) else report
        Path(out_json).write_text(json.dumps(report, indent=2), encoding="utf-8")
        summary = report.get("summary", {})
        results = report.get("results", {})
        for c in results.get("failed_checks", []):
            problem(f"checkov {c['check_id']} ({c['check_name']}): {c['resource']} in infra{c['file_path']}:{c['file_line_range'][0]}")
        if summary.get("parsing_errors"):
            problem(f"checkov could not parse {summary['parsing_errors']} file(s): {', '.join(results.get('parsing_errors', []))}")
        if not summary.get("passed"):
            problem("checkov passed no check at all: it scanned nothing")
        for c in results.get("skipped_checks", []):
            print(f"  skip {c['check_id']} on {c['resource']} (infra{c['file_path']})")
        if not problems:
            ok(f"checkov {summary.get('checkov_version')}: {summary.get('passed')} passed, 0 failed, "
               f"{summary.get('skipped')} skipped with reasons, 0 parsing errors")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "files":
        check_files()
    elif argv[0] == "bicep":
        check_bicep()
    elif argv[0] == "checkov" and len(argv) == 2:
        check_checkov(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
