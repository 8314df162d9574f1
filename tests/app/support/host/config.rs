//! Reads host.json and the function folders the way the Functions host v4 does
//! (reference: shared/reference/azure-platform.md §1.1, §1.4, §1.5, §2.1, §2.2).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::Value;

use super::FunctionInfo;
use super::route::RouteTemplate;

/// The app as the host would load it: how to start the handler and which functions exist.
pub(super) struct AppConfig {
    /// `defaultExecutablePath` before `%NAME%` expansion and path resolution.
    pub executable: String,
    /// Directory a relative `defaultExecutablePath` is looked up in (`workerDirectory`).
    pub worker_dir: PathBuf,
    /// `description.arguments`, not yet expanded.
    pub arguments: Vec<String>,
    pub working_dir: PathBuf,
    /// host→handler HTTP timeout: `functionTimeout` + 1 min; `None` = no timeout.
    pub request_timeout: Option<Duration>,
    pub route_prefix: String,
    pub functions: Vec<FunctionDef>,
    /// Timer-triggered functions (invoked in the JSON payload format, never routed).
    pub timers: Vec<TimerDef>,
}

/// A timer-triggered function: its folder name, binding name and `schedule` as written
/// (`%SETTING%` is resolved from the app settings when it fires, as the host does at load).
#[derive(Clone, Debug)]
pub(super) struct TimerDef {
    pub name: String,
    pub binding: String,
    pub schedule: String,
}

/// One HTTP function and what the front end needs to route and authorize it.
pub(super) struct FunctionDef {
    pub info: FunctionInfo,
    /// Upper-case method names; `None` means every method.
    pub methods: Option<Vec<String>>,
    pub auth: AuthLevel,
    /// Route prefix + (route or function name), as one template.
    pub template: RouteTemplate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AuthLevel {
    Anonymous,
    Function,
    Admin,
}

const METHODS: [&str; 8] = ["get", "post", "put", "delete", "patch", "head", "options", "trace"];

/// Loads `<app_root>/host.json` and every immediate subfolder holding a `function.json`.
pub(super) fn load(app_root: &Path) -> Result<AppConfig> {
    let host_path = app_root.join("host.json");
    let text = std::fs::read_to_string(&host_path).with_context(|| format!("reading {}", host_path.display()))?;
    let host: Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", host_path.display()))?;

    // The v4 host refuses to start without `"version": "2.0"`.
    ensure!(get(&host, "version").and_then(Value::as_str) == Some("2.0"), "host.json must have \"version\": \"2.0\"");
    let handler = get(&host, "customHandler").ok_or_else(|| anyhow!("host.json has no customHandler section"))?;
    ensure!(
        flag(handler, "enableForwardingHttpRequest")?,
        "harness only supports forwarding mode (customHandler.enableForwardingHttpRequest: true)"
    );
    ensure!(
        !flag(handler, "enableProxyingHttpRequest")?,
        "harness only supports forwarding mode, not enableProxyingHttpRequest"
    );
    let desc = get(handler, "description").ok_or_else(|| anyhow!("host.json has no customHandler.description"))?;
    let executable = opt_str(desc, "defaultExecutablePath")?.unwrap_or_default();
    ensure!(!executable.is_empty(), "customHandler.description.defaultExecutablePath cannot be empty");
    // The legacy worker path is appended quoted to the command line; not worth emulating.
    ensure!(
        opt_str(desc, "defaultWorkerPath")?.unwrap_or_default().is_empty(),
        "harness does not support customHandler.description.defaultWorkerPath"
    );
    let arguments = match get(desc, "arguments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| anyhow!("customHandler.description.arguments must be strings"))?,
        Some(_) => bail!("customHandler.description.arguments must be an array"),
    };
    let under_root = |key: &str| -> Result<PathBuf> {
        // Empty means the app root; a relative path is relative to the app root.
        Ok(match opt_str(desc, key)?.filter(|s| !s.is_empty()) {
            Some(dir) => app_root.join(dir),
            None => app_root.to_path_buf(),
        })
    };
    let working_dir = under_root("workingDirectory")?;
    let worker_dir = under_root("workerDirectory")?;

    let request_timeout = match get(&host, "functionTimeout") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => parse_timespan(s)?.map(|t| t + Duration::from_secs(60)),
        Some(other) => bail!("functionTimeout must be a \"hh:mm:ss\" string, got {other}"),
    };
    let route_prefix = match get(&host, "extensions").and_then(|e| get(e, "http")).and_then(|h| get(h, "routePrefix")) {
        None | Some(Value::Null) => "api".to_owned(),
        Some(Value::String(s)) => s.trim_matches('/').to_owned(),
        Some(other) => bail!("extensions.http.routePrefix must be a string, got {other}"),
    };

    let functions = load_functions(app_root, &route_prefix)?;
    let has_routes = get(handler, "http").and_then(|h| get(h, "routes")).is_some_and(|r| !r.is_null());
    if has_routes {
        ensure!(
            functions.is_empty(),
            "host.json has customHandler.http.routes and the app has function.json folders: \
             the host rejects having both"
        );
        bail!("harness does not support customHandler.http.routes; use function.json folders");
    }

    let timers = load_timers(app_root)?;
    Ok(AppConfig { executable, worker_dir, arguments, working_dir, request_timeout, route_prefix, functions, timers })
}

/// Immediate subdirectories with a function.json, sorted by name (the host does not recurse).
fn load_functions(app_root: &Path, route_prefix: &str) -> Result<Vec<FunctionDef>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(app_root).with_context(|| format!("listing {}", app_root.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() && entry.path().join("function.json").is_file() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    let mut functions = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| anyhow!("function folder {} is not UTF-8", dir.display()))?
            .to_owned();
        let path = dir.join("function.json");
        let text = std::fs::read_to_string(&path)?;
        let json: Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if is_timer(&json) {
            continue;
        }
        if let Some(f) = load_function(&name, &json, route_prefix)
            .with_context(|| format!("function {name} ({})", path.display()))?
        {
            functions.push(f);
        }
    }
    Ok(functions)
}

/// A function whose trigger is a `timerTrigger`.
fn is_timer(json: &Value) -> bool {
    get(json, "bindings").and_then(Value::as_array).is_some_and(|bs| {
        bs.iter().any(|b| b.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("timerTrigger")))
    })
}

/// The timer functions: exactly one binding, `timerTrigger` in, with a `schedule`.
fn load_timers(app_root: &Path) -> Result<Vec<TimerDef>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(app_root)? {
        let dir = entry?.path();
        let path = dir.join("function.json");
        if !path.is_file() {
            continue;
        }
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        if !is_timer(&json) || flag(&json, "disabled")? {
            continue;
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        ensure!(valid_function_name(&name), "invalid function name {name:?}");
        let bindings = get(&json, "bindings").and_then(Value::as_array).cloned().unwrap_or_default();
        ensure!(bindings.len() == 1, "function {name}: harness supports a timer with no other binding");
        let b = &bindings[0];
        ensure!(
            opt_str(b, "direction")?.is_some_and(|d| d.eq_ignore_ascii_case("in")),
            "function {name}: a timerTrigger binding is direction in"
        );
        let binding = opt_str(b, "name")?.unwrap_or_default();
        ensure!(!binding.is_empty() && binding.chars().all(char::is_alphanumeric), "function {name}: bad binding name");
        let schedule =
            opt_str(b, "schedule")?.ok_or_else(|| anyhow!("function {name}: timerTrigger needs a schedule"))?;
        out.push(TimerDef { name, binding, schedule });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// One function.json; `Ok(None)` for a disabled function (the host does not route to it).
fn load_function(name: &str, json: &Value, route_prefix: &str) -> Result<Option<FunctionDef>> {
    ensure!(
        valid_function_name(name),
        "invalid function name {name:?}: must match ^[a-z][a-z0-9_-]{{0,127}}$ and not be \"host\""
    );
    if flag(json, "disabled")? {
        return Ok(None);
    }
    let bindings = get(json, "bindings")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("function.json needs a \"bindings\" array"))?;
    let mut trigger = None;
    let mut has_output = false;
    for b in bindings {
        let kind = opt_str(b, "type")?.unwrap_or_default().to_ascii_lowercase();
        let dir = opt_str(b, "direction")?.unwrap_or_default().to_ascii_lowercase();
        let bname = opt_str(b, "name")?.unwrap_or_default();
        ensure!(
            bname == "$return" || (!bname.is_empty() && bname.chars().all(char::is_alphanumeric)),
            "binding name {bname:?} must be alphanumeric or $return"
        );
        match (kind.as_str(), dir.as_str()) {
            ("httptrigger", "in") if trigger.is_none() => trigger = Some(b),
            ("http", "out") if !has_output => has_output = true,
            _ => bail!(
                "harness only supports exactly one httpTrigger (in) and one http (out) binding; \
                 binding {bname:?} ({kind}, {dir}) would make the host use JSON payload mode"
            ),
        }
    }
    let (Some(trigger), true) = (trigger, has_output) else {
        bail!("harness needs exactly one httpTrigger (in) and one http (out) binding");
    };

    let auth_level = opt_str(trigger, "authLevel")?.unwrap_or_else(|| "function".to_owned()).to_ascii_lowercase();
    let auth = match auth_level.as_str() {
        "anonymous" => AuthLevel::Anonymous,
        "function" => AuthLevel::Function,
        "admin" => AuthLevel::Admin,
        other => bail!("unsupported authLevel {other:?}"),
    };
    let methods = match get(trigger, "methods") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for m in items {
                let m = m.as_str().ok_or_else(|| anyhow!("methods must be strings"))?.to_ascii_lowercase();
                ensure!(METHODS.contains(&m.as_str()), "unknown method {m:?}");
                out.push(m);
            }
            // "Omitted = all" is the documented form; an empty list is too unclear to guess.
            ensure!(!out.is_empty(), "methods is an empty array; omit it to allow all");
            Some(out)
        }
        Some(_) => bail!("methods must be an array"),
    };
    let route = opt_str(trigger, "route")?;
    let template_text = format!("{route_prefix}/{}", route.as_deref().unwrap_or(name));
    let template = RouteTemplate::parse(template_text.trim_matches('/'))?;

    Ok(Some(FunctionDef {
        methods: methods.as_ref().map(|ms| ms.iter().map(|m| m.to_ascii_uppercase()).collect()),
        info: FunctionInfo { name: name.to_owned(), methods, auth_level, route },
        auth,
        template,
    }))
}

fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.eq_ignore_ascii_case("host")
}

/// Parses a .NET TimeSpan as used in host.json: `[d.]hh:mm:ss[.fraction]`; "-1" is infinite.
fn parse_timespan(s: &str) -> Result<Option<Duration>> {
    let s = s.trim();
    if s == "-1" || s == "-1.00:00:00" {
        return Ok(None);
    }
    let bad = || anyhow!("functionTimeout {s:?} is not hh:mm:ss");
    let parts: Vec<&str> = s.split(':').collect();
    let [h, m, sec] = parts[..] else {
        return Err(bad());
    };
    let (days, hours) = match h.split_once('.') {
        Some((d, h)) => (d.parse::<u64>().map_err(|_| bad())?, h),
        None => (0, h),
    };
    let hours: u64 = hours.parse().map_err(|_| bad())?;
    let minutes: u64 = m.parse().map_err(|_| bad())?;
    let seconds: f64 = sec.parse().map_err(|_| bad())?;
    ensure!(minutes < 60 && (0.0..60.0).contains(&seconds), bad());
    let whole = ((days * 24 + hours) * 60 + minutes) * 60;
    Ok(Some(Duration::from_secs(whole) + Duration::from_secs_f64(seconds)))
}

/// Case-insensitive key lookup: the host binds host.json through .NET configuration, which
/// ignores key case.
fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn opt_str(obj: &Value, key: &str) -> Result<Option<String>> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => bail!("{key} must be a string, got {other}"),
    }
}

/// A boolean setting; .NET configuration also accepts the strings "true"/"false".
fn flag(obj: &Value, key: &str) -> Result<bool> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => bail!("{key} must be a boolean, got {other}"),
    }
}
