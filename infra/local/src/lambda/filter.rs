//! Lambda's event filtering (`FilterCriteria`): a record is delivered when any one pattern
//! matches it. A pattern names fields; a field's value is either a nested pattern or a list of
//! rules, any of which may match: a literal, `prefix`, `suffix`, `anything-but`, `exists`,
//! `numeric` or `equals-ignore-case`.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    patterns: Vec<Map<String, Value>>,
}

#[derive(Debug, thiserror::Error)]
#[error("FilterCriteria: {0}")]
pub struct FilterError(String);

impl Filters {
    /// From a mapping's resolved `FilterCriteria` property (`{"Filters": [{"Pattern": "..."}]}`).
    pub fn from_criteria(criteria: Option<&Value>) -> Result<Self, FilterError> {
        let Some(filters) = criteria.and_then(|criteria| criteria.get("Filters")).and_then(Value::as_array) else {
            return Ok(Self::default());
        };
        let patterns = filters
            .iter()
            .map(|filter| {
                let text =
                    filter.get("Pattern").and_then(Value::as_str).ok_or_else(|| FilterError("no Pattern".into()))?;
                match serde_json::from_str(text) {
                    Ok(Value::Object(pattern)) => Ok(pattern),
                    Ok(_) => Err(FilterError(format!("{text:?} is not a JSON object"))),
                    Err(error) => Err(FilterError(format!("{text:?}: {error}"))),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    pub fn accepts(&self, record: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|pattern| matches(pattern, record))
    }
}

fn matches(pattern: &Map<String, Value>, record: &Value) -> bool {
    pattern.iter().all(|(field, expected)| {
        let actual = record.get(field);
        match expected {
            Value::Object(nested) => actual.is_some_and(|actual| matches(nested, actual)),
            Value::Array(rules) => rules.iter().any(|rule| rule_matches(rule, actual)),
            _ => false,
        }
    })
}

fn rule_matches(rule: &Value, actual: Option<&Value>) -> bool {
    // A list in the record matches when any of its elements does.
    if let Some(Value::Array(values)) = actual {
        return values.iter().any(|value| rule_matches(rule, Some(value)));
    }
    let Value::Object(operator) = rule else { return actual == Some(rule) };
    let Some((name, operand)) = operator.iter().next() else { return false };
    let text = actual.and_then(Value::as_str);
    match (name.as_str(), operand) {
        ("exists", Value::Bool(wanted)) => actual.is_some() == *wanted,
        ("prefix", Value::String(prefix)) => text.is_some_and(|text| text.starts_with(prefix.as_str())),
        ("suffix", Value::String(suffix)) => text.is_some_and(|text| text.ends_with(suffix.as_str())),
        ("equals-ignore-case", Value::String(other)) => text.is_some_and(|text| text.eq_ignore_ascii_case(other)),
        ("anything-but", Value::Array(excluded)) => actual.is_some_and(|actual| !excluded.contains(actual)),
        ("anything-but", excluded) => actual.is_some_and(|actual| actual != excluded),
        ("numeric", Value::Array(conditions)) => {
            actual.and_then(Value::as_f64).is_some_and(|number| numeric_matches(number, conditions))
        }
        _ => false,
    }
}

fn numeric_matches(number: f64, conditions: &[Value]) -> bool {
    conditions.chunks(2).all(|pair| match pair {
        [Value::String(operator), bound] => bound.as_f64().is_some_and(|bound| match operator.as_str() {
            "<" => number < bound,
            "<=" => number <= bound,
            "=" => number == bound,
            ">=" => number >= bound,
            ">" => number > bound,
            _ => false,
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filters(patterns: &[&str]) -> Filters {
        let criteria = json!({ "Filters": patterns.iter().map(|p| json!({ "Pattern": p })).collect::<Vec<_>>() });
        Filters::from_criteria(Some(&criteria)).unwrap()
    }

    #[test]
    fn the_stream_router_pattern_keeps_head_writes_only() {
        let router =
            filters(&[r#"{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["ORDER"]}}}}"#]);
        let record = |name: &str, sk: &str| json!({ "eventName": name, "dynamodb": { "Keys": { "sk": { "S": sk } } } });
        assert!(router.accepts(&record("INSERT", "ORDER")));
        assert!(router.accepts(&record("MODIFY", "ORDER")));
        assert!(!router.accepts(&record("REMOVE", "ORDER")));
        assert!(!router.accepts(&record("INSERT", "EVENT#2026")));
        assert!(!router.accepts(&json!({ "eventName": "INSERT" })));
    }

    #[test]
    fn operators_and_alternatives() {
        let any = filters(&[
            r#"{"body": {"type": [{"prefix": "order."}]}}"#,
            r#"{"body": {"n": [{"numeric": [">", 5, "<=", 10]}]}}"#,
        ]);
        assert!(any.accepts(&json!({ "body": { "type": "order.placed" } })));
        assert!(any.accepts(&json!({ "body": { "n": 10 } })));
        assert!(!any.accepts(&json!({ "body": { "n": 5, "type": "refund" } })));
        let but = filters(&[r#"{"a": [{"anything-but": ["x", "y"]}], "b": [{"exists": false}]}"#]);
        assert!(but.accepts(&json!({ "a": "z" })));
        assert!(!but.accepts(&json!({ "a": "x" })));
        assert!(!but.accepts(&json!({ "a": "z", "b": 1 })));
        assert!(filters(&[r#"{"tags": ["red"]}"#]).accepts(&json!({ "tags": ["blue", "red"] })));
        assert!(Filters::default().accepts(&json!(null)));
        assert!(Filters::from_criteria(Some(&json!({ "Filters": [{ "Pattern": "[1]" }] }))).is_err());
    }
}
