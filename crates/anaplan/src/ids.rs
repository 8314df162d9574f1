//! Typed Anaplan ids. Each is parsed once at the edge and can then only hold characters
//! that cannot change the URL it is put into (no `/`, `?`, `#`, `%`, `..`, spaces).
//! Formats follow Anaplan's: workspace ids are 32 lowercase hex characters, model and task
//! ids 32 uppercase hex characters (they are case-sensitive), and object ids (views,
//! processes, exports, imports, files, dimensions, items) are decimal digits.

use std::fmt;

/// Why a string is not a valid id; the message names the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be {expected}; got {got:?}")]
pub struct InvalidId {
    /// What was being parsed ("workspaceId", ...).
    pub kind: &'static str,
    /// The format that was expected.
    pub expected: &'static str,
    /// What was given, shortened so an error body never echoes a huge value.
    pub got: String,
}

/// An id type: parsed from text once, then only ever shown as it was given.
pub trait Id: Sized + Clone {
    /// Parses an id in Anaplan's format.
    fn parse(s: &str) -> Result<Self, InvalidId>;
    /// The id as text (for URLs and messages).
    fn as_str(&self) -> &str;
}

/// An Anaplan object named by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef<T> {
    /// By id (already validated).
    Id(T),
    /// By name, to be resolved.
    Name(String),
}

fn invalid(kind: &'static str, expected: &'static str, got: &str) -> InvalidId {
    let mut shown: String = got.chars().take(64).collect();
    if got.chars().count() > 64 {
        shown.push('…');
    }
    InvalidId { kind, expected, got: shown }
}

/// What every id type has besides its own `parse`: `as_str`, `Display`, [`Id`].
macro_rules! id_text {
    ($name:ident) => {
        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Id for $name {
            fn parse(s: &str) -> Result<Self, InvalidId> {
                $name::parse(s)
            }
            fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $expected:literal, $upper:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id in Anaplan's format.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let ok = s.len() == 32
                    && s.bytes().all(|b| {
                        b.is_ascii_digit()
                            || if $upper { (b'A'..=b'F').contains(&b) } else { (b'a'..=b'f').contains(&b) }
                    });
                if ok { Ok($name(s.to_owned())) } else { Err(invalid($kind, $expected, s)) }
            }

        }

        id_text!($name);
    };
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id made of 1 to 20 decimal digits.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(invalid($kind, "1 to 20 decimal digits (e.g. 102000000001)", s))
                }
            }

        }

        id_text!($name);
    };
}

hex_id!(
    /// A workspace id: 32 lowercase hex characters.
    WorkspaceId, "workspaceId", "32 lowercase hexadecimal characters (e.g. 8a81b09d599f3c6e0159f605560c2630)", false
);
hex_id!(
    /// A model id: 32 uppercase hex characters.
    ModelId, "modelId", "32 uppercase hexadecimal characters (e.g. 75A40874E6B64FA3AE0743278996850F)", true
);
hex_id!(
    /// A task or large-read-request id: 32 uppercase hex characters.
    TaskId, "taskId", "32 uppercase hexadecimal characters", true
);
hex_id!(
    /// A CloudWorks integration id: 32 lowercase hex characters.
    IntegrationId, "integrationId", "32 lowercase hexadecimal characters (a CloudWorks integration id)", false
);
hex_id!(
    /// A CloudWorks integration flow id: 32 lowercase hex characters.
    FlowId, "flowId", "32 lowercase hexadecimal characters (a CloudWorks integration flow id)", false
);
hex_id!(
    /// A CloudWorks run id: 32 lowercase hex characters.
    RunId, "runId", "32 lowercase hexadecimal characters (a CloudWorks run id)", false
);
numeric_id!(
    /// A view (or line item) id.
    ViewId, "viewId"
);
numeric_id!(
    /// A process definition id.
    ProcessId, "processId"
);
numeric_id!(
    /// An export definition id (also the id of its output file: [`ExportId::output_file`]).
    ExportId, "exportId"
);

impl ExportId {
    /// The file an export writes: it has the export's id.
    pub fn output_file(&self) -> FileId {
        FileId(self.0.clone())
    }
}
numeric_id!(
    /// An import definition id.
    ImportId, "importId"
);
numeric_id!(
    /// A file id (an import's data source, an export's output).
    FileId, "fileId"
);
numeric_id!(
    /// The id of any other Anaplan object (e.g. the failed step a dump belongs to).
    ObjectId, "objectId"
);
numeric_id!(
    /// A chunk of a file or dump (numbered from 0).
    ChunkId, "chunkId"
);
numeric_id!(
    /// A dimension id, as used in page selectors.
    DimensionId, "dimensionId"
);
numeric_id!(
    /// A dimension item id, as used in page selectors.
    ItemId, "itemId"
);

/// Ids of a fixed kind: 12 decimal digits with the kind's prefix (Anaplan's numbering).
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $prefix:literal, $expected:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id in Anaplan's format.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if s.len() == 12 && s.starts_with($prefix) && s.bytes().all(|b| b.is_ascii_digit()) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(invalid($kind, $expected, s))
                }
            }
        }

        id_text!($name);
    };
}

prefixed_id!(
    /// A module id: 12 digits starting with 102 (a module's default view has the same id).
    ModuleId, "moduleId", "102", "12 decimal digits starting with 102 (e.g. 102000000020)"
);
prefixed_id!(
    /// A list id: 12 digits starting with 101.
    ListId, "listId", "101", "12 decimal digits starting with 101 (e.g. 101000000050)"
);
prefixed_id!(
    /// A line item id: 12 digits starting with 2.
    LineItemId, "lineItemId", "2", "12 decimal digits starting with 2 (e.g. 206000000001)"
);
prefixed_id!(
    /// An "other action" id (a delete from a list using a selection, an optimizer action...):
    /// 12 digits starting with 117.
    ActionId, "actionId", "117", "12 decimal digits starting with 117 (e.g. 117000000001)"
);

/// A page selection for view reads: `dimensionId:itemId` pairs, at most one per dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSelection(Vec<(DimensionId, ItemId)>);

/// Page selectors one read may give: a view has far fewer page dimensions (a module has
/// a few dozen dimensions at most in practice; Anaplan documents no limit).
pub const MAX_PAGE_SELECTORS: usize = 100;

impl PageSelection {
    /// Parses `dimensionId:itemId[,dimensionId:itemId...]`. Empty input is no selection;
    /// more than [`MAX_PAGE_SELECTORS`] pairs are refused before any is parsed.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if s.split(',').filter(|p| !p.trim().is_empty()).nth(MAX_PAGE_SELECTORS).is_some() {
            return Err(invalid("pages", "at most 100 dimensionId:itemId pairs", s));
        }
        let mut pairs: Vec<(DimensionId, ItemId)> = Vec::new();
        let mut dims = std::collections::HashSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((dim, item)) = part.split_once(':') else {
                return Err(invalid("pages", "dimensionId:itemId pairs separated by commas", part));
            };
            let dim = DimensionId::parse(dim.trim())?;
            let item = ItemId::parse(item.trim())?;
            if !dims.insert(dim.clone()) {
                return Err(invalid("pages", "at most one item per dimension", part));
            }
            pairs.push((dim, item));
        }
        Ok(PageSelection(pairs))
    }

    /// True when nothing is selected (Anaplan then shows each page dimension's default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The selection in Anaplan's query form, `dim:item,dim:item`.
    pub fn to_query(&self) -> String {
        self.0.iter().map(|(d, i)| format!("{d}:{i}")).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_ids_are_lowercase_hex() {
        assert!(WorkspaceId::parse("8a81b09d599f3c6e0159f605560c2630").is_ok());
        assert!(WorkspaceId::parse("8A81B09D599F3C6E0159F605560C2630").is_err());
        assert!(WorkspaceId::parse("8a81b09d599f3c6e0159f605560c263").is_err());
    }

    #[test]
    fn model_ids_are_uppercase_hex() {
        assert!(ModelId::parse("75A40874E6B64FA3AE0743278996850F").is_ok());
        assert!(ModelId::parse("75a40874e6b64fa3ae0743278996850f").is_err());
    }

    #[test]
    fn nothing_that_changes_a_url_gets_through() {
        for bad in ["", "../118000000001", "118000000001/tasks", "1180?x=1", "118%2F", "11 8", "１２"] {
            assert!(ProcessId::parse(bad).is_err(), "{bad}");
            assert!(ViewId::parse(bad).is_err(), "{bad}");
        }
        let ws = "8a81b09d599f3c6e0159f605560c263/";
        assert!(WorkspaceId::parse(ws).is_err());
    }

    #[test]
    fn module_list_and_line_item_ids_have_their_prefixes() {
        assert!(ModuleId::parse("102000000020").is_ok());
        assert!(ModuleId::parse("101000000020").is_err());
        assert!(ModuleId::parse("1020000000201").is_err());
        assert!(ListId::parse("101000000050").is_ok());
        assert!(ListId::parse("102000000050").is_err());
        assert!(LineItemId::parse("206000000001").is_ok());
        assert!(LineItemId::parse("106000000001").is_err());
        assert!(LineItemId::parse("20600000000x").is_err());
        assert!(ActionId::parse("117000000019").is_ok());
        assert!(ActionId::parse("118000000019").is_err());
        assert!(ActionId::parse("1170000000191").is_err());
        assert!(ActionId::parse("11700000001/").is_err());
    }

    #[test]
    fn error_names_the_parameter_and_format() {
        let e = ViewId::parse("abc").unwrap_err().to_string();
        assert!(e.contains("viewId") && e.contains("digits"), "{e}");
    }

    #[test]
    fn long_bad_values_are_shortened_in_errors() {
        let e = ViewId::parse(&"x".repeat(10_000)).unwrap_err();
        assert!(e.got.chars().count() <= 65);
    }

    #[test]
    fn page_selection_round_trips_and_rejects_junk() {
        let p = PageSelection::parse("20000000020:107000000002, 101000000003:3").unwrap();
        assert_eq!(p.to_query(), "20000000020:107000000002,101000000003:3");
        assert!(PageSelection::parse("").unwrap().is_empty());
        assert!(PageSelection::parse("20000000020").is_err());
        assert!(PageSelection::parse("2000:abc").is_err());
        assert!(PageSelection::parse("1:2,1:3").is_err());
        assert!(PageSelection::parse("1:2&x=1").is_err());
    }

    #[test]
    fn page_selection_is_bounded_before_it_is_parsed() {
        let pairs = |n: usize| (0..n).map(|i| format!("{}:1", 100 + i)).collect::<Vec<_>>().join(",");
        assert_eq!(PageSelection::parse(&pairs(MAX_PAGE_SELECTORS)).unwrap().0.len(), MAX_PAGE_SELECTORS);
        let e = PageSelection::parse(&pairs(MAX_PAGE_SELECTORS + 1)).unwrap_err();
        assert!(e.to_string().contains("at most 100"), "{e}");
        // Even when every pair is malformed: counted first, so no work is done on them.
        let e = PageSelection::parse(&"x,".repeat(1_000_000)).unwrap_err();
        assert!(e.to_string().contains("at most 100") && e.got.chars().count() <= 65, "{e}");
    }
}
