//! The shape of the template context: which fields exist under which path.
//! Built from the Rust types of the context ([`super::context`]), it is what
//! [`super::check`] holds every path a template reads against.

use std::collections::BTreeMap;

/// The shape of one value of the template context.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A string, number or boolean: it has no fields.
    Scalar,
    /// A string that is always one of these (an enum such as `server.kind`).
    OneOf(Vec<&'static str>),
    /// A list; subscripts and `for` loops yield its element.
    List(Box<Shape>),
    /// A map with these fields (an `Option<T>` field has the shape of `T`).
    Fields(BTreeMap<String, Shape>),
    /// Not described (a loop over a map, say): anything below is accepted.
    Any,
}

impl Shape {
    /// A [`Shape::Fields`] from (name, shape) pairs.
    pub fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, Shape)>) -> Shape {
        Shape::Fields(
            pairs
                .into_iter()
                .map(|(name, shape)| (name.to_string(), shape))
                .collect(),
        )
    }

    /// The shape of field `name`, if this shape has it (`Any` has them all).
    pub fn field(&self, name: &str) -> Option<&Shape> {
        match self {
            Shape::Fields(fields) => fields.get(name),
            Shape::Any => Some(&Shape::Any),
            _ => None,
        }
    }

    /// The shape an index or a `for` loop yields.
    pub fn element(&self) -> Option<&Shape> {
        match self {
            Shape::List(element) => Some(element),
            Shape::Any => Some(&Shape::Any),
            _ => None,
        }
    }

    /// What this shape offers, for an error message.
    pub fn describe(&self) -> String {
        match self {
            Shape::Scalar => "is a plain value, without fields".into(),
            Shape::OneOf(values) => format!("is one of: {}", values.join(", ")),
            Shape::List(_) => "is a list (index it or loop over it)".into(),
            Shape::Fields(fields) => {
                let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                format!("has: {}", names.join(", "))
            }
            Shape::Any => "is not described".into(),
        }
    }
}

/// A type whose serialized form the template context holds.
pub trait Described {
    fn shape() -> Shape;
}

macro_rules! scalar {
    ($($t:ty),*) => { $(impl Described for $t { fn shape() -> Shape { Shape::Scalar } })* };
}
scalar!(bool, u8, u16, u32, u64, usize, i64, String, &str);

impl<T: Described> Described for Option<T> {
    fn shape() -> Shape {
        T::shape()
    }
}

impl<T: Described> Described for Vec<T> {
    fn shape() -> Shape {
        Shape::List(Box::new(T::shape()))
    }
}

impl<T: Described> Described for &T {
    fn shape() -> Shape {
        T::shape()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_the_shape_of_their_value_and_lists_of_their_element() {
        assert_eq!(Option::<u64>::shape(), Shape::Scalar);
        assert_eq!(Vec::<String>::shape().element(), Some(&Shape::Scalar));
        let s = Shape::fields([("a", Shape::Scalar), ("b", Shape::Any)]);
        assert_eq!(s.describe(), "has: a, b");
        assert!(s.field("c").is_none());
        assert_eq!(s.field("b").and_then(|b| b.field("x")), Some(&Shape::Any));
    }
}
