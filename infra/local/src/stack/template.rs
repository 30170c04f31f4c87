//! Reads `infra/template.yaml` and resolves the intrinsic functions it uses (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Split`, `Fn::Select`), short form or long.

use std::{collections::BTreeMap, path::Path};

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the template is not valid YAML")]
    Yaml(#[from] serde_yaml::Error),
    #[error("the template has no resource {0}")]
    NoSuchResource(String),
    #[error("{0} cannot be resolved locally")]
    Unresolvable(String),
}

/// One resource as written: its type and its properties with intrinsics still in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub resource_type: String,
    pub properties: Value,
    /// Build settings for SAM (`BuildMethod`, `BuildProperties`), and the like.
    pub metadata: Value,
    /// What CloudFormation does with it when the stack is deleted: `Delete` unless it says.
    pub deletion_policy: Option<String>,
}

/// The template, with short-form tags rewritten to their long form.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parameters: BTreeMap<String, Value>,
    /// The `Conditions` section: each condition's expression (`Fn::Equals`, `Fn::Not`, …).
    pub conditions: BTreeMap<String, Value>,
    pub globals: Value,
    pub resources: BTreeMap<String, Resource>,
    /// The YAML as written, for tools that read the template themselves (SAM's translator).
    pub source: String,
}

/// The path of `infra/template.yaml` in this checkout.
pub fn default_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("template.yaml")
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TemplateError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let yaml: serde_yaml::Value = serde_yaml::from_str(text)?;
        let document = long_form(yaml);
        let section = |name: &str| document.get(name).cloned().unwrap_or(Value::Null);
        let parameters = match section("Parameters") {
            Value::Object(map) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let conditions = match section("Conditions") {
            Value::Object(map) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let resources = match section("Resources") {
            Value::Object(map) => map
                .into_iter()
                .map(|(name, resource)| {
                    let resource_type = resource.get("Type").and_then(Value::as_str).unwrap_or_default().to_owned();
                    let properties = resource.get("Properties").cloned().unwrap_or(Value::Object(Map::new()));
                    let metadata = resource.get("Metadata").cloned().unwrap_or(Value::Null);
                    let deletion_policy = resource.get("DeletionPolicy").and_then(Value::as_str).map(str::to_owned);
                    (name, Resource { resource_type, properties, metadata, deletion_policy })
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        Ok(Self { parameters, conditions, globals: section("Globals"), resources, source: text.to_owned() })
    }

    pub fn resource(&self, logical_id: &str) -> Result<&Resource, TemplateError> {
        self.resources.get(logical_id).ok_or_else(|| TemplateError::NoSuchResource(logical_id.to_owned()))
    }

    /// Logical ids of the resources of one type, in name order.
    pub fn of_type<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, resource)| resource.resource_type == resource_type)
    }

    /// A parameter's default, as CloudFormation would pass it: a string.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        self.parameters.get(name).and_then(|parameter| parameter.get("Default")).map(scalar_text)
    }
}

/// A scalar as CloudFormation sees it: numbers and booleans are strings too.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

const SECRET_REFERENCE: &str = "{{resolve:secretsmanager:";

/// Replaces each `{{resolve:secretsmanager:ID:SecretString:KEY}}` in `text` with the key's value
/// in the local stand-in for secret `ID` (the whole secret when no key is named). Any other
/// dynamic reference, or a secret the runner was not given, cannot be resolved locally.
pub fn resolve_dynamic_references(text: &str, secrets: &BTreeMap<String, Value>) -> Result<String, TemplateError> {
    let mut resolved = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{resolve:") {
        resolved.push_str(&rest[..start]);
        let reference = &rest[start..];
        let end = reference.find("}}").map(|end| end + 2).unwrap_or(reference.len());
        let unresolvable = || TemplateError::Unresolvable(format!("the dynamic reference {}", &reference[..end]));
        let inner = reference[..end].strip_prefix(SECRET_REFERENCE).and_then(|inner| inner.strip_suffix("}}"));
        let (id, selector) = inner.and_then(|inner| inner.split_once(":SecretString")).ok_or_else(unresolvable)?;
        let secret = secrets.get(id).ok_or_else(unresolvable)?;
        let key = selector.strip_prefix(':').and_then(|keys| keys.split(':').next()).filter(|key| !key.is_empty());
        let value = match key {
            Some(key) => secret.get(key).ok_or_else(unresolvable)?,
            None => secret,
        };
        resolved.push_str(&scalar_text(value));
        rest = &reference[end..];
    }
    resolved.push_str(rest);
    Ok(resolved)
}

/// YAML to JSON, with `!Ref x` as `{"Ref": x}`, `!GetAtt a.b` as `{"Fn::GetAtt": [a, b]}` and
/// every other `!Tag` as `{"Fn::Tag": ...}`.
fn long_form(yaml: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => serde_json::to_value(number).unwrap_or(Value::Null),
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let key = match key {
                        Yaml::String(text) => text,
                        other => scalar_text(&long_form(other)),
                    };
                    (key, long_form(value))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let value = long_form(tagged.value);
            let (name, value) = match (tag, value) {
                ("Ref", value) => ("Ref".to_owned(), value),
                ("GetAtt", Value::String(path)) => {
                    let (resource, attribute) = path.split_once('.').unwrap_or((&path, ""));
                    ("Fn::GetAtt".to_owned(), Value::from(vec![resource, attribute]))
                }
                (other, value) => (format!("Fn::{other}"), value),
            };
            Value::Object(Map::from_iter([(name, value)]))
        }
    }
}

/// What `Ref` and `Fn::GetAtt` of each resource and parameter resolve to.
pub trait Names {
    fn reference(&self, name: &str) -> Option<String>;
    fn attribute(&self, resource: &str, attribute: &str) -> Option<String>;
    /// Whether the template's condition `name` holds; `None` if there is no such condition.
    fn condition(&self, _name: &str) -> Option<bool> {
        None
    }
}

/// Replaces every intrinsic function in `value` with what it resolves to.
pub fn resolve(value: &Value, names: &impl Names) -> Result<Value, TemplateError> {
    let Value::Object(map) = value else {
        return match value {
            Value::Array(items) => {
                items.iter().map(|item| resolve(item, names)).collect::<Result<_, _>>().map(Value::Array)
            }
            other => Ok(other.clone()),
        };
    };
    if map.len() == 1
        && let Some((function, argument)) = map.iter().next()
        && (function == "Ref" || function.starts_with("Fn::"))
    {
        return intrinsic(function, argument, names);
    }
    map.iter()
        .map(|(key, value)| Ok((key.clone(), resolve(value, names)?)))
        .collect::<Result<Map<_, _>, _>>()
        .map(Value::Object)
}

fn intrinsic(function: &str, argument: &Value, names: &impl Names) -> Result<Value, TemplateError> {
    let unresolvable = || TemplateError::Unresolvable(format!("{function} {argument}"));
    let text = |value: &Value| -> Result<String, TemplateError> {
        match resolve(value, names)? {
            Value::String(text) => Ok(text),
            other => Ok(scalar_text(&other)),
        }
    };
    match function {
        "Ref" => {
            let name = argument.as_str().ok_or_else(unresolvable)?;
            names.reference(name).map(Value::String).ok_or_else(unresolvable)
        }
        "Fn::GetAtt" => {
            let parts: Vec<String> = match argument {
                Value::Array(parts) => parts.iter().map(&text).collect::<Result<_, _>>()?,
                Value::String(path) => path.splitn(2, '.').map(str::to_owned).collect(),
                _ => return Err(unresolvable()),
            };
            let [resource, attribute] = parts.as_slice() else { return Err(unresolvable()) };
            names.attribute(resource, attribute).map(Value::String).ok_or_else(unresolvable)
        }
        "Fn::Sub" => {
            let (pattern, variables) = match argument {
                Value::String(pattern) => (pattern.clone(), Map::new()),
                Value::Array(parts) => match parts.as_slice() {
                    [Value::String(pattern), Value::Object(variables)] => (pattern.clone(), variables.clone()),
                    _ => return Err(unresolvable()),
                },
                _ => return Err(unresolvable()),
            };
            substitute(&pattern, |name| match variables.get(name) {
                Some(value) => text(value).ok(),
                None => match name.split_once('.') {
                    Some((resource, attribute)) => names.attribute(resource, attribute),
                    None => names.reference(name),
                },
            })
            .map(Value::String)
            .ok_or_else(unresolvable)
        }
        "Fn::If" => match argument {
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(condition), when_true, when_false] => {
                    let holds = names.condition(condition).ok_or_else(unresolvable)?;
                    resolve(if holds { when_true } else { when_false }, names)
                }
                _ => Err(unresolvable()),
            },
            _ => Err(unresolvable()),
        },
        "Fn::Equals" => match argument {
            Value::Array(parts) => match parts.as_slice() {
                [left, right] => Ok(Value::Bool(text(left)? == text(right)?)),
                _ => Err(unresolvable()),
            },
            _ => Err(unresolvable()),
        },
        "Fn::Not" => match argument {
            Value::Array(parts) => match parts.as_slice() {
                [inner] => match resolve(inner, names)? {
                    Value::Bool(holds) => Ok(Value::Bool(!holds)),
                    _ => Err(unresolvable()),
                },
                _ => Err(unresolvable()),
            },
            _ => Err(unresolvable()),
        },
        "Fn::Join" => match argument {
            Value::Array(parts) => match parts.as_slice() {
                [separator, list] => {
                    let separator = text(separator)?;
                    match resolve(list, names)? {
                        Value::Array(items) => {
                            Ok(Value::String(items.iter().map(scalar_text).collect::<Vec<_>>().join(&separator)))
                        }
                        _ => Err(unresolvable()),
                    }
                }
                _ => Err(unresolvable()),
            },
            _ => Err(unresolvable()),
        },
        "Fn::Split" => match argument {
            Value::Array(parts) => match parts.as_slice() {
                [separator, source] => {
                    let separator = text(separator)?;
                    Ok(Value::from(text(source)?.split(separator.as_str()).collect::<Vec<_>>()))
                }
                _ => Err(unresolvable()),
            },
            _ => Err(unresolvable()),
        },
        "Fn::Select" => match argument {
            Value::Array(parts) => match parts.as_slice() {
                [index, list] => {
                    let index: usize = text(index)?.parse().map_err(|_| unresolvable())?;
                    match resolve(list, names)? {
                        Value::Array(items) => items.get(index).cloned().ok_or_else(unresolvable),
                        _ => Err(unresolvable()),
                    }
                }
                _ => Err(unresolvable()),
            },
            _ => Err(unresolvable()),
        },
        _ => Err(unresolvable()),
    }
}

/// `${Name}` and `${Resource.Attribute}` replaced, `${!Literal}` kept as `${Literal}`.
fn substitute(pattern: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name.strip_prefix('!') {
            Some(literal) => {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            }
            None => out.push_str(&lookup(name.trim())?),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed;
    impl Names for Fixed {
        fn reference(&self, name: &str) -> Option<String> {
            Some(format!("ref-{name}"))
        }
        fn attribute(&self, resource: &str, attribute: &str) -> Option<String> {
            Some(format!("{resource}/{attribute}"))
        }
    }

    #[test]
    fn secrets_manager_references_resolve_from_the_local_stand_ins() {
        let secrets = BTreeMap::from([("shop/psp".to_owned(), serde_json::json!({"api_key": "sk_test_1"}))]);
        let text = "Bearer {{resolve:secretsmanager:shop/psp:SecretString:api_key}}!";
        assert_eq!(resolve_dynamic_references(text, &secrets).unwrap(), "Bearer sk_test_1!");
        assert_eq!(resolve_dynamic_references("plain", &secrets).unwrap(), "plain");
        for unknown in [
            "{{resolve:secretsmanager:other:SecretString:api_key}}",
            "{{resolve:secretsmanager:shop/psp:SecretString:password}}",
            "{{resolve:ssm:/shop/key}}",
        ] {
            assert!(resolve_dynamic_references(unknown, &secrets).is_err(), "{unknown}");
        }
    }

    #[test]
    fn short_and_long_forms_resolve_alike() {
        let template = Template::parse(
            r#"
Resources:
  Thing:
    Type: Test::Thing
    Properties:
      A: !Ref Table
      B: { "Fn::GetAtt": [Queue, Arn] }
      C: !GetAtt Queue.Arn
      D: !Sub "arn:${AWS::Region}:${Queue.Arn}:${!Literal}"
      E: !Join [",", [!Ref X, "y"]]
      F: !Select [1, !Split ["/", "a/b/c"]]
      G: !Sub ["${Name}-x", { Name: !Ref Y }]
"#,
        )
        .unwrap();
        let properties = resolve(&template.resource("Thing").unwrap().properties, &Fixed).unwrap();
        assert_eq!(
            properties,
            json!({"A": "ref-Table", "B": "Queue/Arn", "C": "Queue/Arn",
                   "D": "arn:ref-AWS::Region:Queue/Arn:${Literal}", "E": "ref-X,y", "F": "b", "G": "ref-Y-x"})
        );
    }

    #[test]
    fn the_real_template_parses_and_has_its_core_resources() {
        let template = Template::load(&default_path()).unwrap();
        for name in [
            "OrdersTable",
            "InventoryTable",
            "IdempotencyTable",
            "OrderEventsTopic",
            "IntakeFunction",
            "StreamRouterFunction",
        ] {
            assert!(template.resource(name).is_ok(), "{name}");
        }
        assert!(template.parameter_default("PricingPolicy").unwrap().contains("shipping_fees"));
    }
}
