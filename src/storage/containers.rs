//! `BLOB_CONTAINERS`: the containers `export-file` and `import-file` may use through Blob.
//!
//! A function key is the app's Anaplan identity, not a key to the app's storage account:
//! without this list, `destination=blob` / `source=blob` could overwrite the deployment
//! package, read the host's key store or forge the app's own state. The host's, the
//! deployment's and the state containers are refused even when an admin lists them.

use super::{ContainerName, StorageError};

/// The setting's name.
pub const SETTING: &str = "BLOB_CONTAINERS";
/// Its value when unset.
pub const DEFAULT: &str = "anaplan-exports";

/// Families of containers that belong to the platform or to the app itself: the name, or
/// the name followed by `-` and anything (`azure-webjobs-hosts`, `app-package-myapp-1f2e`).
const RESERVED_FAMILIES: &[(&str, &str)] = &[
    ("azure-webjobs", "the Functions host's keys, leases and timer state"),
    ("app-package", "the deployment package"),
    ("scm", "the deployment service"),
];
/// Exact names that belong to the app itself.
const RESERVED_NAMES: &[(&str, &str)] = &[("anaplan-functions-state", "this app's shared state")];

/// Why a container is never usable for transfers, if it is one of the reserved ones.
pub fn reserved(name: &str) -> Option<&'static str> {
    let family = RESERVED_FAMILIES
        .iter()
        .find(|(prefix, _)| name == *prefix || name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('-')));
    family.or_else(|| RESERVED_NAMES.iter().find(|(exact, _)| name == *exact)).map(|(_, why)| *why)
}

/// The containers transfers may use, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedContainers {
    names: Vec<String>,
}

impl Default for AllowedContainers {
    fn default() -> Self {
        AllowedContainers { names: vec![DEFAULT.to_owned()] }
    }
}

/// A container a request may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not a valid container name.
    #[error("{0}")]
    Invalid(String),
    /// A reserved container.
    #[error(
        "container {name:?} holds {why} and is never used by export-file or import-file (even when {SETTING} lists it)"
    )]
    Reserved {
        /// The name asked for.
        name: String,
        /// What it holds.
        why: &'static str,
    },
    /// Not in the list.
    #[error("container {name:?} is not one of the containers {SETTING} allows ({allowed}); an admin can add it there")]
    NotAllowed {
        /// The name asked for.
        name: String,
        /// The allowed names, comma-separated.
        allowed: String,
    },
}

impl AllowedContainers {
    /// Parses the setting (unset or empty: [`DEFAULT`]). A name that breaks Azure's naming
    /// rules is a setting error; a reserved name is kept out of the list, and returned in
    /// the second value so that start-up can warn about it.
    pub fn from_setting(value: Option<&str>) -> Result<(AllowedContainers, Vec<String>), StorageError> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok((AllowedContainers::default(), Vec::new()));
        };
        let mut names: Vec<String> = Vec::new();
        let mut ignored = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let name = ContainerName::parse(item)
                .map_err(|e| StorageError::Setting { name: SETTING, problem: e.to_string() })?;
            let name = name.as_str().to_owned();
            if reserved(&name).is_some() {
                ignored.push(name);
            } else if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok((AllowedContainers { names }, ignored))
    }

    /// The allowed names, in the setting's order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Checks that a request may use container `name`.
    pub fn check(&self, name: &str) -> Result<(), Refused> {
        ContainerName::parse(name).map_err(|e| Refused::Invalid(e.to_string()))?;
        if let Some(why) = reserved(name) {
            return Err(Refused::Reserved { name: name.to_owned(), why });
        }
        if self.names.iter().any(|n| n == name) {
            return Ok(());
        }
        let allowed = if self.names.is_empty() { "none".to_owned() } else { self.names.join(", ") };
        Err(Refused::NotAllowed { name: name.to_owned(), allowed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_allows_only_the_default() {
        let (a, ignored) = AllowedContainers::from_setting(None).unwrap();
        assert!(ignored.is_empty());
        assert_eq!(a.names(), ["anaplan-exports"]);
        assert!(a.check("anaplan-exports").is_ok());
        assert!(matches!(a.check("other"), Err(Refused::NotAllowed { .. })));
        assert_eq!(AllowedContainers::from_setting(Some("  ")).unwrap().0, a);
    }

    #[test]
    fn the_host_deployment_and_state_containers_are_refused_even_when_listed() {
        let (a, ignored) = AllowedContainers::from_setting(Some(
            "finance, azure-webjobs-secrets,app-package,app-package-myapp-1a2b, scm-releases,anaplan-functions-state,finance",
        ))
        .unwrap();
        assert_eq!(a.names(), ["finance"]);
        assert_eq!(
            ignored,
            [
                "azure-webjobs-secrets",
                "app-package",
                "app-package-myapp-1a2b",
                "scm-releases",
                "anaplan-functions-state"
            ]
        );
        for name in ["azure-webjobs-hosts", "azure-webjobs-secrets", "app-package", "scm", "anaplan-functions-state"] {
            let e = a.check(name).unwrap_err();
            assert!(matches!(e, Refused::Reserved { .. }), "{name}: {e}");
            assert!(e.to_string().contains("BLOB_CONTAINERS"), "{e}");
        }
        // A family is the name or the name and a hyphen: look-alikes are ordinary names.
        assert_eq!(reserved("scmdata"), None);
        assert_eq!(reserved("app-packages"), None);
        assert_eq!(reserved("anaplan-functions-state2"), None);
    }

    #[test]
    fn a_malformed_name_in_the_setting_is_a_setting_error() {
        let e = AllowedContainers::from_setting(Some("good,Bad_Name")).unwrap_err();
        assert!(e.to_string().contains("BLOB_CONTAINERS"), "{e}");
        assert!(matches!(AllowedContainers::default().check("a/b"), Err(Refused::Invalid(_))));
        assert!(matches!(AllowedContainers::default().check("$logs"), Err(Refused::Invalid(_))));
    }

    #[test]
    fn the_refusal_names_the_setting_and_what_is_allowed() {
        let (a, _) = AllowedContainers::from_setting(Some("one,two")).unwrap();
        let e = a.check("three").unwrap_err().to_string();
        assert!(e.contains("BLOB_CONTAINERS") && e.contains("one, two"), "{e}");
        let (none, _) = AllowedContainers::from_setting(Some("anaplan-functions-state")).unwrap();
        assert!(none.check("anaplan-exports").unwrap_err().to_string().contains("(none)"));
    }
}
