//! Settings read once at init from the environment the template declares, and the one place
//! AWS clients get their configuration (and their HTTP client) from.

use std::{collections::BTreeMap, error::Error as StdError};

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is malformed")]
    Malformed {
        name: &'static str,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Where a function's settings come from: the process environment in Lambda, or the template's
/// resolved environment for the function in the local cloud and in tests. Either way the names
/// are the template's, so a setting the template does not declare fails at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Env {
    Process,
    Map(BTreeMap<String, String>),
}

impl Env {
    /// A required setting.
    pub fn get(&self, name: &'static str) -> Result<String, ConfigError> {
        let value = match self {
            Self::Process => std::env::var(name).ok(),
            Self::Map(variables) => variables.get(name).cloned(),
        };
        value.filter(|value| !value.is_empty()).ok_or(ConfigError::Missing(name))
    }

    /// A required setting holding JSON.
    pub fn json<T: DeserializeOwned>(&self, name: &'static str) -> Result<T, ConfigError> {
        serde_json::from_str(&self.get(name)?)
            .map_err(|source| ConfigError::Malformed { name, source: Box::new(source) })
    }

    /// A required setting holding a number or anything else `FromStr`.
    pub fn parse<T>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: StdError + Send + Sync + 'static,
    {
        self.get(name)?.parse().map_err(|source| ConfigError::Malformed { name, source: Box::new(source) })
    }
}

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL` for the
/// local cloud), with the one HTTPS client the workspace builds: rustls on ring. The SDK crates'
/// default HTTP stack is switched off to halve build times, so every client must come from here.
#[cfg(feature = "aws")]
pub async fn aws() -> aws_config::SdkConfig {
    aws_loader().load().await
}

/// The same loader, for callers that set more (the local cloud's endpoint and credentials).
#[cfg(feature = "aws")]
pub fn aws_loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::{
        Builder,
        tls::{Provider, rustls_provider::CryptoMode},
    };
    let http_client = Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client).timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
            .operation_timeout(AWS_OPERATION_TIMEOUT)
            .build(),
    )
}

/// How long one attempt of an AWS call may hang before the SDK gives up on it and retries: a
/// call that hangs must not eat the whole invocation (DynamoDB and SQS answer in milliseconds;
/// the margin is for a large transaction). The operation, retries included, stops well inside
/// the functions' 10 s timeout.
pub const AWS_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
pub const AWS_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_required_and_parsed() {
        let env = Env::Map(BTreeMap::from([
            ("TTL".to_owned(), "24".to_owned()),
            ("EMPTY".to_owned(), String::new()),
            ("JSON".to_owned(), "{\"a\": 1}".to_owned()),
        ]));
        assert_eq!(env.parse::<i64>("TTL").unwrap(), 24);
        assert!(matches!(env.get("EMPTY"), Err(ConfigError::Missing("EMPTY"))));
        assert!(matches!(env.get("NOPE"), Err(ConfigError::Missing("NOPE"))));
        assert!(matches!(env.parse::<u8>("JSON"), Err(ConfigError::Malformed { name: "JSON", .. })));
        assert_eq!(env.json::<serde_json::Value>("JSON").unwrap()["a"], 1);
    }
}
