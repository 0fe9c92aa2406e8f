//! The spec: serde types mirroring the YAML a user writes, parsed with
//! serde-saphyr so every value keeps its location, then checked semantically.
//! Every error is a [`SpecError`] naming file, line and column.

mod diag;
mod model;
mod parse;
mod schema;

pub use diag::{SpecError, SpecErrors};
pub use model::*;
pub use parse::{Source, TOP_LEVEL_KEYS, did_you_mean, load_file, parse_str};
pub use schema::{json_schema, starter};
