//! The spec: the YAML a user writes, read key by key as declared in
//! [`keys::KEYS`] with serde-saphyr so every value keeps its location, then
//! checked semantically. Every error is a [`SpecError`] naming file, line and column.

mod diag;
pub mod keys;
mod model;
mod overrides;
mod parse;
mod schema;
pub mod task;

pub use diag::{SpecError, SpecErrors};
pub use keys::KEYS;
pub use model::{Spec, UnknownKey, Value};
pub use overrides::Overrides;
pub use parse::{Source, did_you_mean, load_file, parse_str, unknown_key_errors};
pub use schema::{json_schema, starter};
