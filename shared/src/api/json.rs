//! Walks a JSON request body field by field, so every refusal names its field as a JSON pointer.

use serde_json::{Map, Value};

use super::problem::Problem;
use crate::domain::InvalidValue;

/// The longest note an operator or a customer may leave (a reason, a review's note).
pub(crate) const MAX_NOTE_CHARS: usize = 500;

/// The request body as JSON.
pub(crate) fn json(body: &[u8]) -> Result<Value, Problem> {
    serde_json::from_slice(body)
        .map_err(|error| Problem::bad_request("malformed_json", format!("the body is not JSON: {error}")).at("/"))
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
            Some(unknown) => Err(Problem::bad_request("unknown_field", "is not a field of this request").at(format!(
                "{}/{}",
                self.pointer,
                escape(unknown)
            ))),
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
        if text.chars().count() > MAX_NOTE_CHARS || text.chars().any(char::is_control) {
            return Err(Problem::unprocessable(
                "invalid_note",
                format!("must be one line of at most {MAX_NOTE_CHARS} characters"),
            )
            .at(field.pointer()));
        }
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
    fn null_is_missing() {
        let body = json!({"a": null});
        let root = Field::root(&body).object().unwrap();
        assert!(root.optional("a").is_none());
        assert_eq!(root.required("a").unwrap_err().code, "missing_field");
    }
}
