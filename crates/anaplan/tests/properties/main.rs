//! Property tests of the client: an id never changes a URL ([`ids`]); picking by name and
//! suggesting the closest names stay within their bounds ([`names`]).

mod ids;
mod names;
