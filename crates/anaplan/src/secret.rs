//! A string that must never be printed: client secrets, refresh and access tokens,
//! passwords. `Debug` prints a redaction and there is no `Display`, so a secret can only
//! reach a log line, an error body or a panic message through an explicit `expose()`.

use sha2::{Digest, Sha256};

/// A secret value. Compare and hash it through its methods; read it with [`Secret::expose`]
/// only where it is put on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hex SHA-256 of the value: a stable, non-reversible name for it (cache keys,
    /// "which token does this descend from").
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("rt-very-secret");
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn fingerprint_is_stable_and_hides_the_value() {
        let a = Secret::new("abc").fingerprint();
        assert_eq!(a, Secret::new("abc").fingerprint());
        assert_ne!(a, Secret::new("abd").fingerprint());
        assert_eq!(a.len(), 64);
        assert!(!a.contains("abc"));
    }
}
