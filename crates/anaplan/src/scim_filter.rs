//! SCIM filters as Anaplan supports them, checked here before Anaplan is called: comparisons
//! `eq ne gt ge lt le` and presence `pr` on `userName active id externalId name.givenName
//! name.familyName`, joined by `and` / `or` with parentheses. Anything else (`co sw ew not`,
//! `[...]` value paths, other attributes) is refused with a reason.

use std::fmt;

/// A filter in Anaplan's SCIM grammar (its text, checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(String);

/// Why a filter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported SCIM filter: {0}")]
pub struct FilterError(pub String);

/// Parentheses nest at most this deep. The parser is recursive, and a request must never
/// be able to exhaust a thread's stack (that would end every request of the instance).
pub const MAX_DEPTH: usize = 32;

/// At most this many comparisons in one filter: far beyond any real filter, and it keeps
/// the work one filter asks for small.
pub const MAX_TERMS: usize = 200;

/// The attributes Anaplan filters on.
pub const ATTRIBUTES: [&str; 6] = ["userName", "active", "id", "externalId", "name.givenName", "name.familyName"];

impl Filter {
    /// Checks `text` against Anaplan's grammar.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let toks = tokens(text)?;
        if toks.is_empty() {
            return Err(FilterError("the filter is empty".into()));
        }
        let mut p = Parser { toks: &toks, at: 0, depth: 0, terms: 0 };
        p.or()?;
        if let Some(t) = toks.get(p.at) {
            return Err(FilterError(format!("unexpected {t}")));
        }
        Ok(Filter(text.trim().to_owned()))
    }

    /// `userName eq "<name>"`, quoted safely.
    pub fn user_name_eq(user_name: &str) -> Filter {
        Filter(format!("userName eq {}", quote(user_name)))
    }

    /// `active eq true|false`.
    pub fn active_eq(active: bool) -> Filter {
        Filter(format!("active eq {active}"))
    }

    /// Both filters.
    pub fn and(&self, other: &Filter) -> Filter {
        Filter(format!("({}) and ({})", self.0, other.0))
    }

    /// The text, for the `filter` query parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str,
    Open,
    Close,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => f.write_str(&crate::untrusted::quote(w)),
            Token::Str => f.write_str("a string"),
            Token::Open => f.write_str("\"(\""),
            Token::Close => f.write_str("\")\""),
        }
    }
}

fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
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
            '[' | ']' => {
                return Err(FilterError("value paths ([...]) are not supported by Anaplan".into()));
            }
            '"' => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(FilterError("a string is not closed".into())),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('"' | '\\' | '/') => {}
                            _ => return Err(FilterError("bad escape in a string".into())),
                        },
                        Some(_) => {}
                    }
                }
                out.push(Token::Str);
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

struct Parser<'a> {
    toks: &'a [Token],
    at: usize,
    /// Open parentheses around the current position.
    depth: usize,
    /// Comparisons read so far.
    terms: usize,
}

impl Parser<'_> {
    fn keyword(&self, k: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<(), FilterError> {
        self.and()?;
        while self.keyword("or") {
            self.at += 1;
            self.and()?;
        }
        Ok(())
    }

    fn and(&mut self) -> Result<(), FilterError> {
        self.atom()?;
        while self.keyword("and") {
            self.at += 1;
            self.atom()?;
        }
        Ok(())
    }

    fn atom(&mut self) -> Result<(), FilterError> {
        let err = |m: String| Err(FilterError(m));
        match self.toks.get(self.at) {
            Some(Token::Open) => {
                if self.depth == MAX_DEPTH {
                    return err(format!("parentheses nest more than {MAX_DEPTH} deep"));
                }
                self.at += 1;
                self.depth += 1;
                self.or()?;
                self.depth -= 1;
                if self.toks.get(self.at) != Some(&Token::Close) {
                    return err("a \"(\" is not closed".into());
                }
                self.at += 1;
                Ok(())
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => err("not is not supported by Anaplan".into()),
            Some(Token::Word(w)) => {
                self.terms += 1;
                if self.terms > MAX_TERMS {
                    return err(format!("more than {MAX_TERMS} comparisons"));
                }
                let Some(attr) = ATTRIBUTES.iter().find(|a| a.eq_ignore_ascii_case(w)) else {
                    return err(format!(
                        "Anaplan filters on {} only, not on {}",
                        ATTRIBUTES.join(", "),
                        crate::untrusted::quote(w)
                    ));
                };
                self.at += 1;
                let op = match self.toks.get(self.at) {
                    Some(Token::Word(o)) => o.to_ascii_lowercase(),
                    _ => return err(format!("an operator must follow {attr}")),
                };
                self.at += 1;
                match op.as_str() {
                    "pr" => return Ok(()),
                    "eq" | "ne" | "gt" | "ge" | "lt" | "le" => {}
                    "co" | "sw" | "ew" => return err(format!("{op} is not supported by Anaplan")),
                    other => return err(format!("unknown operator {}", crate::untrusted::quote(other))),
                }
                match self.toks.get(self.at) {
                    Some(Token::Str) => {}
                    Some(Token::Word(v)) if v == "true" || v == "false" || v == "null" || v.parse::<f64>().is_ok() => {}
                    Some(t) => return err(format!("{t} is not a value")),
                    None => return err(format!("a value must follow {attr} {op}")),
                }
                self.at += 1;
                Ok(())
            }
            Some(t) => err(format!("unexpected {t}")),
            None => err("the filter ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anaplans_grammar_passes_and_the_rest_is_refused_with_a_reason() {
        for ok in [
            r#"userName eq "ada@example.com""#,
            r#"active eq true and (name.givenName eq "Ada" or externalId pr)"#,
            r#"USERNAME Eq "x" or id ne "y""#,
            r#"name.familyName ge "M" and name.familyName lt "N""#,
        ] {
            assert!(Filter::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            (r#"userName co "ada""#, "co is not supported"),
            (r#"userName sw "a""#, "sw is not supported"),
            (r#"not (active eq true)"#, "not is not supported"),
            (r#"emails[type eq "work"]"#, "value paths"),
            (r#"title eq "x""#, "not on \"title\""),
            (r#"(userName eq "a""#, "not closed"),
            (r#"userName eq"#, "a value must follow"),
            (r#"userName eq "a" active eq true"#, "unexpected"),
            ("  ", "empty"),
        ] {
            let e = Filter::parse(bad).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn deep_or_long_filters_are_refused_not_a_stack_overflow() {
        let nested = |n: usize| format!("{}active pr{}", "(".repeat(n), ")".repeat(n));
        assert!(Filter::parse(&nested(MAX_DEPTH)).is_ok());
        let e = Filter::parse(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.to_string().contains("nest more than"), "{e}");
        // Far deeper than any stack holds: refused at the limit, never recursed into.
        assert!(Filter::parse(&nested(1_000_000)).is_err());

        let chain = |n: usize| vec!["active pr"; n].join(" and ");
        assert!(Filter::parse(&chain(MAX_TERMS)).is_ok());
        let e = Filter::parse(&chain(MAX_TERMS + 1)).unwrap_err();
        assert!(e.to_string().contains("comparisons"), "{e}");
    }

    #[test]
    fn built_filters_are_quoted_and_parse() {
        let f = Filter::user_name_eq(r#"a"b\c@example.com"#);
        assert_eq!(f.as_str(), r#"userName eq "a\"b\\c@example.com""#);
        assert!(Filter::parse(f.and(&Filter::active_eq(false)).as_str()).is_ok());
    }
}
