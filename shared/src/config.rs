//! Settings read once at init from the environment the template declares, and the one place
//! AWS clients get their configuration (and their HTTP client) from.

use std::error::Error as StdError;

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

/// A required variable.
pub fn env(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).ok().filter(|value| !value.is_empty()).ok_or(ConfigError::Missing(name))
}

/// A required variable holding JSON.
pub fn env_json<T: DeserializeOwned>(name: &'static str) -> Result<T, ConfigError> {
    serde_json::from_str(&env(name)?).map_err(|source| ConfigError::Malformed { name, source: Box::new(source) })
}

/// A required variable holding a number or anything else `FromStr`.
pub fn env_parse<T>(name: &'static str) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: StdError + Send + Sync + 'static,
{
    env(name)?.parse().map_err(|source| ConfigError::Malformed { name, source: Box::new(source) })
}

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL` for the
/// local cloud), with the one HTTPS client the workspace builds: rustls on ring. The SDK crates'
/// default HTTP stack is switched off to halve build times, so every client must come from here.
pub async fn aws() -> aws_config::SdkConfig {
    aws_loader().load().await
}

/// The same loader, for callers that set more (the local cloud's endpoint and credentials).
pub fn aws_loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::{
        Builder,
        tls::{Provider, rustls_provider::CryptoMode},
    };
    let http_client = Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client)
}
