//! The subset of ASP.NET route templates that function.json `route` uses: literal segments,
//! `{name}`, `{name?}`, `{*rest}`, and the constraints int, long, bool, guid and alpha.
//! Anything else (defaults, complex segments, other constraints) is rejected at load time so a
//! test never silently routes differently from the real host.

use anyhow::{Result, bail, ensure};

#[derive(Clone, Debug)]
pub(super) struct RouteTemplate {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug)]
enum Segment {
    Literal(String),
    Param { optional: bool, constraints: Vec<Constraint> },
    CatchAll,
}

#[derive(Clone, Copy, Debug)]
enum Constraint {
    Int,
    Long,
    Bool,
    Guid,
    Alpha,
}

impl RouteTemplate {
    /// Parses a template without leading or trailing '/' ("api/views/{id:int}").
    pub(super) fn parse(template: &str) -> Result<Self> {
        ensure!(!template.starts_with('~') && !template.contains('\\'), "unsupported route template {template:?}");
        let mut segments = Vec::new();
        if !template.is_empty() {
            for raw in template.split('/') {
                segments.push(parse_segment(raw, template)?);
            }
        }
        // ASP.NET requires a catch-all to be last and optional parameters to be trailing.
        for (i, seg) in segments.iter().enumerate() {
            let rest = &segments[i + 1..];
            match seg {
                Segment::CatchAll => {
                    ensure!(rest.is_empty(), "catch-all must be last in {template:?}")
                }
                Segment::Param { optional: true, .. } => ensure!(
                    rest.iter().all(|s| matches!(s, Segment::Param { optional: true, .. })),
                    "optional parameters must be trailing in {template:?}"
                ),
                _ => {}
            }
        }
        Ok(Self { segments })
    }

    /// Whether the decoded path segments match. Literals compare case-insensitively.
    pub(super) fn matches(&self, path: &[String]) -> bool {
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::CatchAll => return true,
                Segment::Literal(lit) => {
                    if path.get(i).is_none_or(|p| p.to_lowercase() != lit.to_lowercase()) {
                        return false;
                    }
                    i += 1;
                }
                Segment::Param { optional, constraints } => match path.get(i) {
                    None => return *optional,
                    Some(p) if p.is_empty() => return false,
                    Some(p) => {
                        if !constraints.iter().all(|c| c.accepts(p)) {
                            return false;
                        }
                        i += 1;
                    }
                },
            }
        }
        i == path.len()
    }

    /// Sort key: lower is more specific (literal < constrained < plain < optional < catch-all),
    /// so `views/latest` wins over `views/{id}` as in ASP.NET routing.
    pub(super) fn precedence(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param { optional: false, constraints } if !constraints.is_empty() => 1,
                Segment::Param { optional: false, .. } => 2,
                Segment::Param { .. } => 3,
                Segment::CatchAll => 4,
            })
            .collect()
    }
}

fn parse_segment(raw: &str, template: &str) -> Result<Segment> {
    if !raw.contains(['{', '}']) {
        ensure!(!raw.is_empty(), "empty segment in route {template:?}");
        return Ok(Segment::Literal(raw.to_owned()));
    }
    let Some(inner) =
        raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')).filter(|inner| !inner.contains(['{', '}']))
    else {
        bail!("harness does not support complex segment {raw:?} in route {template:?}");
    };
    ensure!(!inner.contains('='), "harness does not support default values ({raw:?}) in route {template:?}");
    if let Some(name) = inner.strip_prefix('*') {
        let name = name.trim_start_matches('*');
        ensure!(valid_param(name), "bad catch-all {raw:?} in route {template:?}");
        return Ok(Segment::CatchAll);
    }
    let (body, optional) = match inner.strip_suffix('?') {
        Some(b) => (b, true),
        None => (inner, false),
    };
    let mut parts = body.split(':');
    let name = parts.next().unwrap_or_default();
    ensure!(valid_param(name), "bad parameter {raw:?} in route {template:?}");
    let mut constraints = Vec::new();
    for c in parts {
        constraints.push(match c.to_ascii_lowercase().as_str() {
            "int" => Constraint::Int,
            "long" => Constraint::Long,
            "bool" => Constraint::Bool,
            "guid" => Constraint::Guid,
            "alpha" => Constraint::Alpha,
            other => bail!("harness does not support route constraint {other:?} in {template:?}"),
        });
    }
    Ok(Segment::Param { optional, constraints })
}

fn valid_param(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

impl Constraint {
    fn accepts(self, v: &str) -> bool {
        match self {
            Constraint::Int => v.parse::<i32>().is_ok(),
            Constraint::Long => v.parse::<i64>().is_ok(),
            Constraint::Bool => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
            Constraint::Guid => uuid::Uuid::parse_str(v).is_ok(),
            Constraint::Alpha => v.chars().all(|c| c.is_ascii_alphabetic()),
        }
    }
}

/// Splits a raw request path into percent-decoded segments, ignoring one trailing '/'.
pub(super) fn path_segments(path: &str) -> Vec<String> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(percent_decode).collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
