//! Text that came from outside (a caller's parameter or body, an Anaplan or storage answer)
//! is quoted, never echoed whole, in a problem's `detail` or a log line: a caller must not be
//! able to make the app repeat megabytes, and a log must stay readable.

/// Characters of untrusted text shown.
pub const SHOWN_CHARS: usize = 200;

/// `text` in double quotes (Rust's escaping, so control characters cannot forge log lines),
/// cut to its first [`SHOWN_CHARS`] characters; a cut one says how long it was.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}… ({} characters)", &text[..end], text.chars().count()),
    }
}

/// `text` cut to its first [`SHOWN_CHARS`] characters (no quotes), saying how long it was
/// when cut: for a message kept as a field (Anaplan's `status.message`).
pub fn cut(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}… ({} characters)", &text[..end], text.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_quoted_whole_and_long_text_is_cut_with_its_length() {
        assert_eq!(quote("eu3"), "\"eu3\"");
        assert_eq!(quote("a\nb"), "\"a\\nb\"", "no raw line break reaches a log line");
        let exact = "é".repeat(SHOWN_CHARS);
        assert_eq!(quote(&exact), format!("{exact:?}"));
        let long = "x".repeat(1_000_000);
        let q = quote(&long);
        assert!(q.len() < SHOWN_CHARS + 40, "{}", q.len());
        assert!(q.ends_with("… (1000000 characters)"), "{q}");
        assert_eq!(cut("short"), "short");
        assert_eq!(cut(&long), format!("{}… (1000000 characters)", "x".repeat(SHOWN_CHARS)));
    }
}
