//! Walks a JSON request body field by field, so every refusal names its field as a JSON pointer.

use serde_json::{Map, Value};

use super::problem::Problem;
use crate::domain::{InvalidValue, check_readable, holds_card_number};
use crate::strict_json::{self, StrictJsonError};

/// The longest note an operator or a customer may leave (a reason, a review's note).
pub(crate) const MAX_NOTE_CHARS: usize = 500;

/// The request body as JSON: UTF-8, and no member named twice in one object.
pub(crate) fn json(body: &[u8]) -> Result<Value, Problem> {
    strict_json::parse(body).map_err(|error| match error {
        StrictJsonError::DuplicateMember(pointer) => Problem::bad_request(
            "duplicate_member",
            "this member appears more than once in its object; send each member once",
        )
        .at(redacted(pointer)),
        other => Problem::bad_request("malformed_json", other.to_string()).at("/"),
    })
}

/// The request body's top-level object.
pub(crate) fn object(value: &Value) -> Result<Object<'_>, Problem> {
    Field::root(value)
        .object()
        .map_err(|_| Problem::bad_request("malformed_json", "the body is not a JSON object").at("/"))
}

/// A value in the request body and where it sits.
#[derive(Debug, Clone)]
pub(crate) struct Field<'a> {
    value: &'a Value,
    pointer: String,
}

/// An object in the request body and where it sits.
#[derive(Debug, Clone)]
pub(crate) struct Object<'a> {
    map: &'a Map<String, Value>,
    pointer: String,
}

/// A pointer as a refusal may echo and log it: cut before the first member name that holds a
/// card number, as a client's member names are the client's text too.
fn redacted(pointer: String) -> String {
    match pointer.split('/').position(holds_card_number) {
        Some(1) => "/".to_owned(),
        Some(segment) => pointer.split('/').take(segment).collect::<Vec<_>>().join("/"),
        None => pointer,
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl<'a> Field<'a> {
    pub(crate) fn root(value: &'a Value) -> Self {
        Self { value, pointer: String::new() }
    }

    pub(crate) fn pointer(&self) -> &str {
        if self.pointer.is_empty() { "/" } else { &self.pointer }
    }

    fn wrong_type(&self, expected: &str) -> Problem {
        Problem::bad_request("invalid_type", format!("must be {expected}")).at(self.pointer())
    }

    /// A rule broken by a well-typed value: 422 with the rule's code.
    pub(crate) fn invalid(&self, invalid: InvalidValue) -> Problem {
        Problem::unprocessable(invalid.code, invalid.reason).at(self.pointer())
    }

    pub(crate) fn object(&self) -> Result<Object<'a>, Problem> {
        match self.value {
            Value::Object(map) => Ok(Object { map, pointer: self.pointer.clone() }),
            _ => Err(self.wrong_type("an object")),
        }
    }

    pub(crate) fn array(&self) -> Result<Vec<Field<'a>>, Problem> {
        match self.value {
            Value::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(index, value)| Field { value, pointer: format!("{}/{index}", self.pointer) })
                .collect()),
            _ => Err(self.wrong_type("an array")),
        }
    }

    pub(crate) fn string(&self) -> Result<&'a str, Problem> {
        self.value.as_str().ok_or_else(|| self.wrong_type("a string"))
    }

    pub(crate) fn boolean(&self) -> Result<bool, Problem> {
        self.value.as_bool().ok_or_else(|| self.wrong_type("true or false"))
    }

    /// A whole number; a negative or fractional one breaks `rule` rather than the type.
    pub(crate) fn whole_number(&self, rule: InvalidValue) -> Result<u64, Problem> {
        match self.value {
            Value::Number(number) => number.as_u64().ok_or_else(|| self.invalid(rule)),
            _ => Err(self.wrong_type("a number")),
        }
    }

    /// A string parsed by a domain type's own check.
    pub(crate) fn parse<T>(&self, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Result<T, Problem> {
        parse(self.string()?).map_err(|invalid| self.invalid(invalid))
    }
}

impl<'a> Object<'a> {
    /// Refuses members the API does not know, so a misspelt optional field is not silently lost.
    pub(crate) fn allow_only(&self, known: &[&str]) -> Result<(), Problem> {
        match self.map.keys().find(|name| !known.contains(&name.as_str())) {
            Some(unknown) => Err(Problem::bad_request("unknown_field", "is not a field of this request")
                .at(redacted(format!("{}/{}", self.pointer, escape(unknown))))),
            None => Ok(()),
        }
    }

    /// A member that must be there; `null` counts as missing.
    pub(crate) fn required(&self, name: &str) -> Result<Field<'a>, Problem> {
        self.optional(name).ok_or_else(|| {
            Problem::bad_request("missing_field", "is required").at(format!("{}/{}", self.pointer, escape(name)))
        })
    }

    pub(crate) fn optional(&self, name: &str) -> Option<Field<'a>> {
        self.map
            .get(name)
            .filter(|value| !value.is_null())
            .map(|value| Field { value, pointer: format!("{}/{}", self.pointer, escape(name)) })
    }

    /// An optional free-text note (an operator's note, a customer's reason): one line of at most
    /// [`MAX_NOTE_CHARS`] characters, trimmed; blank is none.
    pub(crate) fn note(&self, name: &str) -> Result<Option<String>, Problem> {
        let Some(field) = self.optional(name) else { return Ok(None) };
        let text = field.string()?.trim();
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(Problem::unprocessable("invalid_note", format!("must be at most {MAX_NOTE_CHARS} characters"))
                .at(field.pointer()));
        }
        check_readable(text).map_err(|invalid| field.invalid(invalid))?;
        Ok(Some(text.to_owned()).filter(|text| !text.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_point_at_the_field() {
        let body = json!({"a": {"b": [1, "x"]}, "c~/d": 1});
        let root = Field::root(&body).object().unwrap();
        let items = root.required("a").unwrap().object().unwrap().required("b").unwrap().array().unwrap();
        assert_eq!(items[1].boolean().unwrap_err().field.as_deref(), Some("/a/b/1"));
        assert_eq!(root.required("zz").unwrap_err().field.as_deref(), Some("/zz"));
        assert_eq!(root.allow_only(&["a"]).unwrap_err().field.as_deref(), Some("/c~0~1d"));
        let rule = InvalidValue::new("bad_count", "must be positive");
        let negative = json!(-1);
        assert_eq!(Field::root(&negative).whole_number(rule).unwrap_err().code, "bad_count");
        assert_eq!(Field::root(&json!("1")).whole_number(rule).unwrap_err().code, "invalid_type");
    }

    #[test]
    fn a_member_named_twice_is_refused_where_it_repeats() {
        let problem = json(br#"{"customer": {"name": "A", "name": "B"}}"#).unwrap_err();
        assert_eq!(
            (problem.status, problem.code, problem.field.as_deref()),
            (400, "duplicate_member", Some("/customer/name"))
        );
        let problem = json(b"{\"a\": \"\xc3\"}").unwrap_err();
        assert_eq!((problem.code, problem.field.as_deref()), ("malformed_json", Some("/")));
    }

    #[test]
    fn a_card_number_in_a_member_name_is_never_echoed() {
        let body = json!({"a": {"4242 4242 4242 4242": 1}});
        let root = Field::root(&body).object().unwrap();
        let inner = root.required("a").unwrap().object().unwrap();
        assert_eq!(inner.allow_only(&[]).unwrap_err().field.as_deref(), Some("/a"));
        let problem = json(br#"{"4242424242424242": 1, "4242424242424242": 2}"#).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("/"));
        assert!(!problem.to_json().contains("4242"));
    }

    #[test]
    fn null_is_missing() {
        let body = json!({"a": null});
        let root = Field::root(&body).object().unwrap();
        assert!(root.optional("a").is_none());
        assert_eq!(root.required("a").unwrap_err().code, "missing_field");
    }
}
