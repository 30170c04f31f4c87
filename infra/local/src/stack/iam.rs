//! Each function as its own IAM role, locally. SAM's translator gives the roles exactly as AWS
//! builds them from the template (`sam_roles.py`); this module resolves them to the stack's
//! ARNs and registers them with the IAM layer in front of moto (`iam_layer.py`), which refuses
//! every call a function's role does not allow. Each function, and each event source that
//! polls for it, signs with its own access key.

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    process::{Command, Stdio},
    sync::{Mutex, OnceLock},
    time::Duration,
};

use aws_config::SdkConfig;
use hyper::body::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::config::ConfigError;

use crate::{
    cloud::{self, ADMINISTRATOR},
    observe::journal::Journal,
    stack::{
        provision::Stack,
        template::{Template, TemplateError, resolve},
    },
};

const SAM_ROLES: &str = include_str!("../../python/sam_roles.py");

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error(transparent)]
    Cloud(#[from] cloud::CloudError),
    #[error("SAM's translator failed: {0}")]
    Translate(String),
    #[error("a role cannot be resolved")]
    Resolve(#[from] TemplateError),
    #[error("the local cloud at {endpoint} has no IAM layer ({detail}); run it with ours, or pass --no-iam")]
    NoLayer { endpoint: String, detail: String },
}

/// Whether the local cloud holds each function to its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Each function signs as its own role: what AWS would refuse is refused.
    Roles,
    /// Everything runs as the administrator (`--no-iam`, for debugging only).
    Off,
}

/// One function's role, as SAM translates it.
#[derive(Debug, Clone, Deserialize)]
struct TranslatedRole {
    role: String,
    policies: Vec<TranslatedPolicy>,
}

#[derive(Debug, Clone, Deserialize)]
struct TranslatedPolicy {
    document: Value,
}

/// The functions' roles in `source` (a SAM template), translated once per template and process:
/// the translator takes about a second to start.
fn translated_roles(source: &str) -> Result<BTreeMap<String, TranslatedRole>, IamError> {
    static TRANSLATED: OnceLock<Mutex<HashMap<String, BTreeMap<String, TranslatedRole>>>> = OnceLock::new();
    let cache = TRANSLATED.get_or_init(Mutex::default);
    if let Some(roles) = cache.lock().ok().and_then(|cache| cache.get(source).cloned()) {
        return Ok(roles);
    }
    let mut child = Command::new(cloud::python()?)
        .args(["-c", SAM_ROLES])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| IamError::Translate(error.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(source.as_bytes()).map_err(|error| IamError::Translate(error.to_string()))?;
    }
    let output = child.wait_with_output().map_err(|error| IamError::Translate(error.to_string()))?;
    if !output.status.success() {
        return Err(IamError::Translate(String::from_utf8_lossy(&output.stderr).trim().to_owned()));
    }
    let roles: BTreeMap<String, TranslatedRole> =
        serde_json::from_slice(&output.stdout).map_err(|error| IamError::Translate(error.to_string()))?;
    if let Ok(mut cache) = cache.lock() {
        cache.insert(source.to_owned(), roles.clone());
    }
    Ok(roles)
}

/// The access key `function` of `stack` signs with. Stacks share a moto in tests, so the key
/// names the stack too.
pub fn access_key(stack: &Stack, function: &str, enforcement: Enforcement) -> String {
    match enforcement {
        Enforcement::Roles => format!("{}-{function}", stack.name),
        Enforcement::Off => ADMINISTRATOR.to_owned(),
    }
}

/// SDK configuration for the local cloud at `endpoint`, signing as `function` of `stack`.
pub async fn sdk_config_as(
    endpoint: &str,
    stack: &Stack,
    function: &str,
    enforcement: Enforcement,
) -> Result<SdkConfig, ConfigError> {
    cloud::sdk_config_signed_as(endpoint, &access_key(stack, function, enforcement)).await
}

/// Every statement of `function`'s role, resolved to this stack's ARNs.
pub fn statements(stack: &Stack, function: &str) -> Result<Vec<Value>, IamError> {
    let roles = translated_roles(&stack.template.source)?;
    let role = roles.get(function).ok_or_else(|| TemplateError::NoSuchResource(format!("{function}Role")))?;
    role_statements(stack, role)
}

fn role_statements(stack: &Stack, role: &TranslatedRole) -> Result<Vec<Value>, IamError> {
    role.statements().iter().map(|statement| Ok(resolve(statement, stack)?)).collect()
}

impl TranslatedRole {
    /// The statements of all its policies, in order.
    fn statements(&self) -> Vec<Value> {
        self.policies
            .iter()
            .flat_map(|policy| match &policy.document["Statement"] {
                Value::Array(list) => list.clone(),
                single => vec![single.clone()],
            })
            .collect()
    }
}

/// Registers each function's role of `stack` with the IAM layer of the local cloud at
/// `endpoint`, so that from now on each function's key may do what its role allows, no more.
pub async fn enforce(endpoint: &str, stack: &Stack) -> Result<(), IamError> {
    let mut principals = serde_json::Map::new();
    for (function, role) in translated_roles(&stack.template.source)? {
        let statements = role_statements(stack, &role)?;
        let key = access_key(stack, &function, Enforcement::Roles);
        principals.insert(key, json!({"function": function, "role": role.role, "statements": statements}));
    }
    layer_call(endpoint, "POST", "principals", Value::Object(principals).to_string()).await.map(drop)
}

/// A call the IAM layer refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Denial {
    /// The access key the call was signed with.
    pub key: String,
    /// The function whose role refused it (absent for a key nobody issued).
    #[serde(default)]
    pub function: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let function = self.function.as_deref().unwrap_or("an unknown key");
        match (&self.action, &self.resource) {
            (Some(action), Some(resource)) => {
                write!(f, "IAM refused {function} {action} on {resource} {}", self.reason)
            }
            _ => write!(f, "IAM refused {function}: {}", self.reason),
        }
    }
}

impl Denial {
    /// Whether a function of `stack` made the refused call.
    pub fn by(&self, stack: &Stack) -> bool {
        self.key.strip_prefix(stack.name.as_str()).is_some_and(|rest| rest.starts_with('-'))
    }
}

/// Every call the IAM layer at `endpoint` has refused since it started, oldest first.
pub async fn denials(endpoint: &str) -> Result<Vec<Denial>, IamError> {
    let body = layer_call(endpoint, "GET", "denials", String::new()).await?;
    serde_json::from_slice(&body)
        .map_err(|error| IamError::NoLayer { endpoint: endpoint.to_owned(), detail: error.to_string() })
}

/// How many calls of each operation (`dynamodb:TransactWriteItems`, `sns:Publish`) one caller
/// has made, and how many items they touched (a transaction's or a batch's items; 1 for the
/// rest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Counted {
    pub calls: u64,
    pub items: u64,
}

/// Every call the IAM layer at `endpoint` has let through since it started, by access key, then
/// operation: the functions' own calls, not the administrator's or the event sources'.
pub async fn calls(endpoint: &str) -> Result<BTreeMap<String, BTreeMap<String, Counted>>, IamError> {
    let body = layer_call(endpoint, "GET", "calls", String::new()).await?;
    serde_json::from_slice(&body)
        .map_err(|error| IamError::NoLayer { endpoint: endpoint.to_owned(), detail: error.to_string() })
}

/// Writes each refusal into the journal as it happens, so that a function failing for want of
/// a grant says which grant.
pub async fn journal_denials(endpoint: String, journal: Journal) {
    let mut seen = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(all) = denials(&endpoint).await else { continue };
        for denial in all.iter().skip(seen) {
            journal.note(denial.to_string());
        }
        seen = seen.max(all.len());
    }
}

async fn layer_call(endpoint: &str, method: &str, route: &str, body: String) -> Result<Bytes, IamError> {
    cloud::layer_request(method, &format!("{endpoint}/orderflow/iam/{route}"), body)
        .await
        .map_err(|detail| IamError::NoLayer { endpoint: endpoint.to_owned(), detail: format!("{route}: {detail}") })
}

/// Every statement of every function's role in `template`, as SAM translates it, intrinsics
/// unresolved: what the template tests read.
pub fn translated_statements(template: &Template) -> Result<BTreeMap<String, Vec<Value>>, IamError> {
    let roles = translated_roles(&template.source)?;
    Ok(roles.into_iter().map(|(function, role)| (function, role.statements())).collect())
}
