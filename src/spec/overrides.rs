//! Values given as command-line flags, by spec key. They are not written into
//! the parsed spec: `ir::resolve` reads a key from here first, then the spec.

use super::keys;
use super::model::Value;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Overrides {
    values: BTreeMap<&'static str, Value>,
}

impl Overrides {
    /// Set the key at `path` (a path of [`keys::KEYS`]; anything else is a bug).
    pub fn set(&mut self, path: &str, value: Value) {
        let key = keys::key(path).unwrap_or_else(|| panic!("no spec key `{path}`"));
        self.values.insert(key.path, value);
    }

    /// The flag's value for `path`, located nowhere (errors then name the flag).
    pub fn get(&self, path: &str) -> Option<Spanned<Value>> {
        let v = self.values.get(path)?.clone();
        Some(Spanned::new(v, Location::UNKNOWN, Location::UNKNOWN))
    }
}

impl Value {
    /// A list value from flag text (its items located nowhere).
    pub fn list(items: impl IntoIterator<Item = String>) -> Value {
        Value::List(
            items
                .into_iter()
                .map(|s| Spanned::new(s, Location::UNKNOWN, Location::UNKNOWN))
                .collect(),
        )
    }
}
