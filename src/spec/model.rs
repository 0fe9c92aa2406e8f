//! A spec as written: the value of every key of [`super::keys::KEYS`] that
//! was given, with its location. The table decides which keys exist and how
//! each value is read; a key not in it is kept aside as an [`UnknownKey`] so
//! it is reported together with the semantic errors.

use super::keys::{self, Key, Ty};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;
use std::fmt;

/// A value of one key, typed by the key's [`Ty`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Spanned<String>>),
}

impl Value {
    pub fn into_bool(self) -> Option<bool> {
        if let Value::Bool(b) = self {
            Some(b)
        } else {
            None
        }
    }
    pub fn into_int(self) -> Option<i64> {
        if let Value::Int(i) = self {
            Some(i)
        } else {
            None
        }
    }
    pub fn into_str(self) -> Option<String> {
        if let Value::Str(s) = self {
            Some(s)
        } else {
            None
        }
    }
    pub fn into_list(self) -> Option<Vec<Spanned<String>>> {
        if let Value::List(l) = self {
            Some(l)
        } else {
            None
        }
    }
}

/// A key the table does not know, and the section it was written in.
#[derive(Debug, Clone)]
pub struct UnknownKey {
    pub key: Spanned<String>,
    pub section: &'static str,
}

/// A value of the wrong type for its key (`port: "abc"`): kept aside, like
/// an unknown key, so it is reported with every other problem of the spec.
#[derive(Debug, Clone)]
pub struct WrongType {
    pub at: Location,
    pub message: String,
}

/// A parsed spec. Absent keys get their defaults in the IR.
#[derive(Debug, Default)]
pub struct Spec {
    values: BTreeMap<&'static str, Spanned<Value>>,
    /// Sections given (`compression`, `history`), at their first key.
    sections: BTreeMap<&'static str, Location>,
    pub unknown: Vec<UnknownKey>,
    pub wrong_type: Vec<WrongType>,
}

impl Spec {
    /// The value of the key at `path` (`compression.threshold`), if given.
    pub fn get(&self, path: &str) -> Option<&Spanned<Value>> {
        self.values.get(path)
    }

    /// Where the section at `path` was given, if it was.
    pub fn section(&self, path: &str) -> Option<Location> {
        self.sections.get(path).copied()
    }
}

impl<'de> Deserialize<'de> for Spec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut spec = Spec::default();
        d.deserialize_map(SectionReader {
            section: "",
            shorthand: None,
            expecting: "a map of spec keys",
            at: Location::UNKNOWN,
            spec: &mut spec,
        })?;
        Ok(spec)
    }
}

/// Reads one map of keys (the top level or a section) into the spec.
struct SectionReader<'s> {
    section: &'static str,
    shorthand: Option<&'static str>,
    expecting: &'static str,
    /// The section's own key, for a shorthand `true`/`false`.
    at: Location,
    spec: &'s mut Spec,
}

impl<'de> DeserializeSeed<'de> for SectionReader<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.shorthand.is_some() {
            d.deserialize_any(self)
        } else {
            d.deserialize_map(self)
        }
    }
}

impl<'de> Visitor<'de> for SectionReader<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        match self.shorthand {
            Some(path) => {
                let key = keys::key(path).expect("shorthand names a key");
                let at = self.at;
                self.spec.sections.insert(self.section, at);
                self.spec
                    .values
                    .insert(key.path, Spanned::new(Value::Bool(v), at, at));
                Ok(())
            }
            None => Err(E::invalid_type(de::Unexpected::Bool(v), &self)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !self.section.is_empty() {
            // Given even when empty (`compression: {}` turns compression on).
            self.spec.sections.insert(self.section, self.at);
        }
        let mut first = !self.section.is_empty();
        while let Some(name) = map.next_key::<Spanned<String>>()? {
            if first {
                // A block map is located at its first key, like `Spanned`.
                self.spec.sections.insert(self.section, name.referenced);
                first = false;
            }
            let Some(key) = keys::child(self.section, &name.value) else {
                self.spec.unknown.push(UnknownKey {
                    key: name,
                    section: self.section,
                });
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            read_value(key, &name, &mut map, self.spec)?;
        }
        Ok(())
    }
}

/// Read the value of a known key with the type the table gives it. A null
/// value (`port:` or `port: ~`) counts as not given, as serde's `Option` does.
fn read_value<'de, A: MapAccess<'de>>(
    key: &'static Key,
    name: &Spanned<String>,
    map: &mut A,
    spec: &mut Spec,
) -> Result<(), A::Error> {
    let value = match key.ty {
        Ty::Bool | Ty::Int { .. } => {
            let Some(v) = map.next_value::<Option<Spanned<Scalar>>>()? else {
                return Ok(());
            };
            let (expected, value) = match (key.ty, &v.value) {
                (Ty::Bool, Scalar::Bool(b)) => ("", Some(Value::Bool(*b))),
                (Ty::Int { .. }, Scalar::Int(i)) => ("", Some(Value::Int(*i))),
                (Ty::Bool, _) => ("expected true or false", None),
                _ => ("expected an integer", None),
            };
            match value {
                Some(value) => Some(Spanned::new(value, v.referenced, v.defined)),
                None => {
                    spec.wrong_type.push(WrongType {
                        at: v.referenced,
                        message: format!("`{}`: {expected}, got {}", key.path, v.value.describe()),
                    });
                    None
                }
            }
        }
        Ty::Str { .. } | Ty::Enum(_) => map
            .next_value::<Option<Spanned<String>>>()?
            .map(|v| retag(v, Value::Str)),
        Ty::List(_) => map
            .next_value::<Option<Spanned<Vec<Spanned<String>>>>>()?
            .map(|v| retag(v, Value::List)),
        Ty::Section {
            shorthand,
            expecting,
            ..
        } => {
            return map.next_value_seed(Optional(SectionReader {
                section: key.path,
                shorthand,
                expecting,
                at: name.referenced,
                spec,
            }));
        }
    };
    if let Some(v) = value {
        spec.values.insert(key.path, v);
    }
    Ok(())
}

/// The value of a boolean or integer key as written, whatever its type, so
/// a wrong one is reported without stopping the reading of the spec.
enum Scalar {
    Bool(bool),
    Int(i64),
    /// Anything else, described for the message (`string "abc"`).
    Other(String),
}

impl Scalar {
    fn describe(&self) -> String {
        match self {
            Scalar::Bool(b) => format!("boolean `{b}`"),
            Scalar::Int(i) => format!("integer {i}"),
            Scalar::Other(d) => d.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean or an integer")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v)
            .map(Scalar::Int)
            .unwrap_or_else(|_| Scalar::Other(format!("integer {v}, which is too large"))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other(format!("number {v}")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Other(format!("string {v:?}")))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("a list".into()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("a map".into()))
    }
}

/// A section that may be null (not given).
struct Optional<'s>(SectionReader<'s>);

impl<'de> DeserializeSeed<'de> for Optional<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Optional<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0.expecting)
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}

fn retag<T>(s: Spanned<T>, f: impl FnOnce(T) -> Value) -> Spanned<Value> {
    Spanned::new(f(s.value), s.referenced, s.defined)
}
