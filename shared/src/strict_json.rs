//! JSON from outside (a storefront's request, a carrier's or a warehouse's message), read
//! strictly: UTF-8 or nothing, and each member name at most once per object. Parsers disagree
//! about a repeated name (the first wins, the last wins, both are kept), so a body that two of
//! them read differently is how a request gets smuggled past a check; we refuse it instead.

use std::{cell::RefCell, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a body is not strict JSON.
#[derive(Debug, thiserror::Error)]
pub enum StrictJsonError {
    #[error("the body is not UTF-8 (byte {valid_up_to} starts an invalid sequence)")]
    NotUtf8 { valid_up_to: usize },
    /// The JSON pointer of the second occurrence of a member name.
    #[error("the member {0} appears more than once")]
    DuplicateMember(String),
    #[error("the body is not JSON: {0}")]
    Malformed(serde_json::Error),
}

/// The body as JSON, refused if it is not UTF-8, not JSON, or names a member twice anywhere.
pub fn parse(body: &[u8]) -> Result<Value, StrictJsonError> {
    let text =
        std::str::from_utf8(body).map_err(|error| StrictJsonError::NotUtf8 { valid_up_to: error.valid_up_to() })?;
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict { at: &Path::Root, duplicate: &duplicate }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    value.map_err(|error| match duplicate.into_inner() {
        Some(pointer) => StrictJsonError::DuplicateMember(pointer),
        None => StrictJsonError::Malformed(error),
    })
}

/// Where a value sits, rendered as a JSON pointer only when a duplicate is found.
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Item(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Member(parent, name) => write!(f, "{parent}/{}", name.replace('~', "~0").replace('/', "~1")),
            Self::Item(parent, index) => write!(f, "{parent}/{index}"),
        }
    }
}

/// Builds a [`Value`] as `serde_json` does, but fails at a repeated member name.
#[derive(Clone, Copy)]
struct Strict<'a> {
    at: &'a Path<'a>,
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0));
        while let Some(value) = items.next_element_seed(Strict { at: &Path::Item(self.at, values.len()), ..self })? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = members.next_key::<String>()? {
            let at = Path::Member(self.at, &name);
            if object.contains_key(&name) {
                *self.duplicate.borrow_mut() = Some(at.to_string());
                return Err(de::Error::custom("a member name appears twice"));
            }
            let value = members.next_value_seed(Strict { at: &at, ..self })?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate_at(body: &str) -> Option<String> {
        match parse(body.as_bytes()) {
            Err(StrictJsonError::DuplicateMember(pointer)) => Some(pointer),
            _ => None,
        }
    }

    #[test]
    fn a_repeated_member_name_is_refused_at_any_depth() {
        assert_eq!(duplicate_at(r#"{"a": 1, "a": 2}"#).as_deref(), Some("/a"));
        assert_eq!(duplicate_at(r#"{"x": [{"b": 1}, {"b": 1, "b": 1}]}"#).as_deref(), Some("/x/1/b"));
        // The same name written two ways is the same name once unescaped.
        assert_eq!(duplicate_at(r#"{"a/~": 1, "a\/\u007e": 2}"#).as_deref(), Some("/a~1~0"));
        assert_eq!(duplicate_at(r#"{"a": {"a": 1}, "b": {"a": 1}}"#), None);
    }

    #[test]
    fn it_reads_what_serde_json_reads_otherwise() {
        for body in [r#"{"a": [1, -2, 3.5, "é", true, null, {}], "b": {"c": 18446744073709551615}}"#, "[]", "\"x\""] {
            let strict = parse(body.as_bytes()).unwrap();
            assert_eq!(strict, serde_json::from_str::<Value>(body).unwrap(), "{body}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_or_json_are_refused() {
        assert!(matches!(parse(b"{\"a\": \"\xff\"}"), Err(StrictJsonError::NotUtf8 { valid_up_to: 7 })));
        assert!(matches!(parse(b"{\"a\": 1} x"), Err(StrictJsonError::Malformed(_))));
        assert!(matches!(parse(br#"{"a": "\ud800"}"#), Err(StrictJsonError::Malformed(_))));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(parse(deep.as_bytes()), Err(StrictJsonError::Malformed(_))));
    }
}
