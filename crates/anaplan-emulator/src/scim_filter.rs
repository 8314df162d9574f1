//! Anaplan's SCIM filter grammar, as the emulator enforces it: comparisons `eq ne gt ge lt
//! le` and presence `pr` on `userName active id externalId name.givenName name.familyName`,
//! joined by `and` / `or` (and binds tighter) with parentheses. Anything else (`co sw ew
//! not`, `[...]` value paths, other attributes) is refused, as Anaplan refuses it.

use serde_json::Value;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Present(&'static str),
    Compare(&'static str, Op, Value),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

const ATTRIBUTES: [&str; 6] = ["userName", "active", "id", "externalId", "name.givenName", "name.familyName"];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '[' | ']' => return Err("value paths ([...]) are not supported in filters".into()),
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '/')) => s.push(e),
                            _ => return Err("bad escape in string".into()),
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                out.push(Token::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if matches!(ch, ' ' | '\t' | '(' | ')' | '"' | '[' | ']') {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Token::Word(w));
            }
        }
    }
    Ok(out)
}

/// Parses `text`; the error says why it is refused.
pub fn parse(text: &str) -> Result<Filter, String> {
    let toks = tokens(text)?;
    if toks.is_empty() {
        return Err("empty filter".into());
    }
    let mut p = Parser { toks, at: 0, depth: 0, terms: 0 };
    let f = p.or()?;
    if p.at != p.toks.len() {
        return Err(format!("unexpected {:?}", p.toks[p.at]));
    }
    Ok(f)
}

/// Nesting and length bounds, so no filter can exhaust the stack: the parser recurses on
/// parentheses, and `and`/`or` chains build a tree that matching and dropping walk
/// recursively. Anaplan documents no bound; these are far beyond any real filter.
const MAX_DEPTH: usize = 32;
const MAX_TERMS: usize = 200;

struct Parser {
    toks: Vec<Token>,
    at: usize,
    depth: usize,
    terms: usize,
}

impl Parser {
    fn keyword(&self, k: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.atom()?;
        while self.keyword("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Filter, String> {
        match self.toks.get(self.at).cloned() {
            Some(Token::Open) => {
                if self.depth == MAX_DEPTH {
                    return Err("parentheses nest too deep".into());
                }
                self.at += 1;
                self.depth += 1;
                let f = self.or()?;
                self.depth -= 1;
                if self.toks.get(self.at) != Some(&Token::Close) {
                    return Err("missing )".into());
                }
                self.at += 1;
                Ok(f)
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => Err("not is not supported".into()),
            Some(Token::Word(w)) => {
                self.terms += 1;
                if self.terms > MAX_TERMS {
                    return Err("too many comparisons".into());
                }
                let attr = ATTRIBUTES
                    .iter()
                    .copied()
                    .find(|a| a.eq_ignore_ascii_case(&w))
                    .ok_or_else(|| format!("attribute {w} cannot be filtered on"))?;
                self.at += 1;
                let op = match self.toks.get(self.at) {
                    Some(Token::Word(o)) => o.to_ascii_lowercase(),
                    _ => return Err(format!("operator expected after {attr}")),
                };
                self.at += 1;
                let op = match op.as_str() {
                    "pr" => return Ok(Filter::Present(attr)),
                    "eq" => Op::Eq,
                    "ne" => Op::Ne,
                    "gt" => Op::Gt,
                    "ge" => Op::Ge,
                    "lt" => Op::Lt,
                    "le" => Op::Le,
                    other => return Err(format!("operator {other} is not supported")),
                };
                let value = match self.toks.get(self.at).cloned() {
                    Some(Token::Str(s)) => Value::String(s),
                    Some(Token::Word(v)) if v == "true" => Value::Bool(true),
                    Some(Token::Word(v)) if v == "false" => Value::Bool(false),
                    Some(Token::Word(v)) if v == "null" => Value::Null,
                    Some(Token::Word(v)) => match v.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                        Some(n) => Value::Number(n),
                        None => return Err(format!("bad value {v}")),
                    },
                    _ => return Err(format!("value expected after {attr} {op:?}")),
                };
                self.at += 1;
                Ok(Filter::Compare(attr, op, value))
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("filter ends too early".into()),
        }
    }
}

/// The attribute's value in a SCIM user resource.
fn attribute<'a>(user: &'a Value, attr: &str) -> Option<&'a Value> {
    match attr {
        "name.givenName" => user.pointer("/name/givenName"),
        "name.familyName" => user.pointer("/name/familyName"),
        other => user.get(other),
    }
    .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

/// Whether `user` matches. Strings compare case-insensitively (userName and names are not
/// case-exact in SCIM's core schema); ordering a boolean is an error.
pub fn matches(f: &Filter, user: &Value) -> Result<bool, String> {
    Ok(match f {
        Filter::Or(a, b) => matches(a, user)? || matches(b, user)?,
        Filter::And(a, b) => matches(a, user)? && matches(b, user)?,
        Filter::Present(attr) => attribute(user, attr).is_some(),
        Filter::Compare(attr, op, want) => {
            let have = attribute(user, attr);
            match (have, want) {
                (Some(Value::Bool(h)), Value::Bool(w)) => match op {
                    Op::Eq => h == w,
                    Op::Ne => h != w,
                    _ => return Err(format!("{attr} is a boolean: only eq and ne apply")),
                },
                (_, Value::Bool(_)) | (Some(Value::Bool(_)), _) => {
                    return Err(format!("{attr} compared with a value of the wrong type"));
                }
                (h, Value::Null) => match op {
                    Op::Eq => h.is_none(),
                    Op::Ne => h.is_some(),
                    _ => return Err("null can only be compared with eq or ne".into()),
                },
                (None, _) => *op == Op::Ne,
                (Some(h), w) => {
                    let h = h.as_str().map(str::to_lowercase).unwrap_or_default();
                    let w = w.as_str().map(str::to_lowercase).ok_or_else(|| format!("{attr} is a string"))?;
                    match op {
                        Op::Eq => h == w,
                        Op::Ne => h != w,
                        Op::Gt => h > w,
                        Op::Ge => h >= w,
                        Op::Lt => h < w,
                        Op::Le => h <= w,
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn anaplans_grammar_is_accepted_and_the_rest_refused() {
        let u = json!({"userName": "Ada@Example.com", "active": true, "name": {"givenName": "Ada"}});
        for (f, want) in [
            (r#"userName eq "ada@example.com""#, true),
            (r#"active eq true and (name.givenName eq "Bob" or userName pr)"#, true),
            (r#"externalId pr"#, false),
            (r#"userName gt "a" and active ne false"#, true),
        ] {
            assert_eq!(matches(&parse(f).unwrap(), &u).unwrap(), want, "{f}");
        }
        for bad in [
            r#"userName co "ada""#,
            r#"userName sw "a""#,
            r#"not (active eq true)"#,
            r#"emails[type eq "work"]"#,
            r#"title eq "x""#,
            r#"(userName eq "a""#,
            r#"userName eq"#,
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deep_or_long_filters_are_refused_before_they_can_overflow_the_stack() {
        let nested = |n: usize| format!("{}active pr{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nested(MAX_DEPTH)).is_ok());
        assert!(parse(&nested(MAX_DEPTH + 1)).is_err());
        assert!(parse(&nested(1_000_000)).is_err());
        let chain = |n: usize| vec!["active pr"; n].join(" or ");
        assert!(parse(&chain(MAX_TERMS)).is_ok());
        assert!(parse(&chain(MAX_TERMS + 1)).is_err());
    }
}
