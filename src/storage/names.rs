//! Container and blob names, checked against Azure's naming rules before they reach a URL.
//! A name that parses here can only ever address the container or blob it spells: URLs
//! are built from path segments, and the segments the URL parser would drop or merge
//! (`.`, `..`, empty ones) are refused.

use super::StorageError;

/// A valid container name: 3 to 63 characters, lowercase letters, digits and single
/// hyphens, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerName(String);

impl ContainerName {
    /// Checks `name` against Azure's rules; the error says which rule it breaks.
    pub fn parse(name: &str) -> Result<ContainerName, StorageError> {
        let bad = |rule: &str| {
            StorageError::InvalidName(format!("container name {}: {rule}", anaplan::untrusted::quote(name)))
        };
        if !(3..=63).contains(&name.len()) {
            return Err(bad("must be 3 to 63 characters long"));
        }
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(bad("may contain only lowercase letters, digits and hyphens"));
        }
        if name.starts_with('-') || name.ends_with('-') {
            return Err(bad("must start and end with a letter or digit"));
        }
        if name.contains("--") {
            return Err(bad("must not contain consecutive hyphens"));
        }
        Ok(ContainerName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A valid blob name: 1 to 1024 characters, no control characters, `/`-separated
/// "directories" (at most 254 segments), none of them empty, `.` or `..`, and not ending
/// in `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobName(String);

/// Azure's limit on a blob name's length, in characters.
const MAX_BLOB_NAME_CHARS: usize = 1024;
/// Azure's limit on the number of `/`-separated segments of a blob name.
const MAX_BLOB_SEGMENTS: usize = 254;

impl BlobName {
    /// Checks `name` against Azure's rules; the error says which rule it breaks.
    pub fn parse(name: &str) -> Result<BlobName, StorageError> {
        // Quote at most the start of a long name, so an error stays one readable line.
        let shown: String = name.chars().take(80).collect();
        let bad = |rule: &str| StorageError::InvalidName(format!("blob name {shown:?}: {rule}"));
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_BLOB_NAME_CHARS {
            return Err(bad("must be 1 to 1024 characters long"));
        }
        if name.chars().any(char::is_control) {
            return Err(bad("must not contain control characters"));
        }
        if name.contains('\\') {
            // Some tools and the portal treat a backslash as a separator; refuse the ambiguity.
            return Err(bad("must not contain backslashes; use '/' to separate directories"));
        }
        let segments: Vec<&str> = name.split('/').collect();
        if segments.len() > MAX_BLOB_SEGMENTS {
            return Err(bad("must have at most 254 '/'-separated segments"));
        }
        if segments.iter().any(|s| s.is_empty()) {
            return Err(bad("must not start or end with '/' or contain '//'"));
        }
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return Err(bad("must not contain '.' or '..' segments"));
        }
        if name.ends_with('.') {
            return Err(bad("must not end with '.'"));
        }
        Ok(BlobName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated segments, each to become one URL path segment.
    pub(crate) fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container_rule(name: &str) -> String {
        ContainerName::parse(name).unwrap_err().to_string()
    }

    fn blob_rule(name: &str) -> String {
        BlobName::parse(name).unwrap_err().to_string()
    }

    #[test]
    fn container_names_follow_azure_rules() {
        for ok in ["abc", "exports", "a-b-c", "x1", "0123456789", &"a".repeat(63)] {
            if ok.len() >= 3 {
                assert!(ContainerName::parse(ok).is_ok(), "{ok}");
            }
        }
        assert!(container_rule("ab").contains("3 to 63"));
        assert!(container_rule(&"a".repeat(64)).contains("3 to 63"));
        assert!(container_rule("Exports").contains("lowercase"));
        assert!(container_rule("ex_ports").contains("lowercase"));
        assert!(container_rule("ex/ports").contains("lowercase"));
        assert!(container_rule("-abc").contains("start and end"));
        assert!(container_rule("abc-").contains("start and end"));
        assert!(container_rule("a--b").contains("consecutive"));
        assert!(container_rule("$root").contains("lowercase"));
    }

    #[test]
    fn blob_names_follow_azure_rules() {
        for ok in ["a", "export.csv", "dir/sub/file.txt", "name with spaces", "ünïcödé.csv", "a?b#c%d"] {
            assert!(BlobName::parse(ok).is_ok(), "{ok}");
        }
        assert!(BlobName::parse(&"x".repeat(1024)).is_ok());
        assert!(blob_rule("").contains("1 to 1024"));
        assert!(blob_rule(&"x".repeat(1025)).contains("1 to 1024"));
        assert!(blob_rule("a\nb").contains("control"));
        assert!(blob_rule("a\u{7f}b").contains("control"));
        assert!(blob_rule("a\\b").contains("backslash"));
        assert!(blob_rule("/a").contains("'//'"));
        assert!(blob_rule("a/").contains("'//'"));
        assert!(blob_rule("a//b").contains("'//'"));
        assert!(blob_rule("a/../b").contains("'..'"));
        assert!(blob_rule("./b").contains("'.'"));
        assert!(blob_rule("file.").contains("end with '.'"));
        assert!(blob_rule(&vec!["d"; 255].join("/")).contains("254"));
        assert!(BlobName::parse(&vec!["d"; 254].join("/")).is_ok());
    }

    #[test]
    fn long_names_are_quoted_briefly() {
        let e = blob_rule(&"x".repeat(2000));
        assert!(e.len() < 200, "{e}");
    }
}
