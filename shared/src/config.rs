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
    #[error("the TLS trust store cannot be built")]
    TrustStore(#[source] Box<dyn StdError + Send + Sync>),
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

/// The SDK configuration a function runs with, from what Lambda puts in its environment: the
/// region, the execution role's session credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) and, in the local cloud, `AWS_ENDPOINT_URL`. Lambda's environment is the
/// only place a function's credentials come from, so the default chain (profile files, SSO, web
/// identity through STS, the container and instance endpoints) is not built: it cost half of
/// a cold start, most of it parsing the system's trust store for an STS client never used.
#[cfg(feature = "aws")]
pub fn aws(env: &Env) -> Result<aws_types::SdkConfig, ConfigError> {
    use aws_credential_types::{Credentials, provider::SharedCredentialsProvider};
    let credentials = Credentials::new(
        env.get("AWS_ACCESS_KEY_ID")?,
        env.get("AWS_SECRET_ACCESS_KEY")?,
        env.get("AWS_SESSION_TOKEN").ok(),
        None,
        "lambda-environment",
    );
    let mut config = aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new(env.get("AWS_REGION")?))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(https_client()?)
        .timeout_config(timeouts());
    if let Ok(endpoint) = env.get("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

/// The default chain's loader, for the tools that run on an operator's machine (profiles, SSO)
/// and the local cloud, which sets its own endpoint and credentials.
#[cfg(feature = "aws")]
pub fn aws_loader() -> Result<aws_config::ConfigLoader, ConfigError> {
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client()?)
        .timeout_config(timeouts()))
}

/// The one HTTPS client the AWS SDK is given: rustls on ring, trusting only the roots AWS's
/// endpoints chain to (see [`crate::trust::AWS_ROOTS`]). The SDK crates' default HTTP stack is switched
/// off to halve build times, so every client must come from here.
#[cfg(feature = "aws")]
fn https_client() -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient, ConfigError> {
    use aws_smithy_http_client::{
        Builder,
        tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode},
    };
    let roots =
        crate::trust::AWS_ROOTS.iter().fold(TrustStore::empty(), |store, root| store.with_pem_certificate(*root));
    let tls = TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .map_err(|source| ConfigError::TrustStore(Box::new(source)))?;
    Ok(Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).tls_context(tls).build_https())
}

#[cfg(feature = "aws")]
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
        .operation_timeout(AWS_OPERATION_TIMEOUT)
        .build()
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

    #[cfg(feature = "aws")]
    #[tokio::test]
    async fn a_function_signs_with_the_session_lambda_put_in_its_environment_and_nothing_else() {
        use aws_credential_types::provider::ProvideCredentials;
        let lambda = |without: &str| {
            Env::Map(
                [
                    ("AWS_REGION", "eu-west-1"),
                    ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
                    ("AWS_SECRET_ACCESS_KEY", "secret"),
                    ("AWS_SESSION_TOKEN", "session"),
                ]
                .into_iter()
                .filter(|(name, _)| *name != without)
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            )
        };
        let config = aws(&lambda("")).unwrap();
        assert_eq!(config.region().map(ToString::to_string).as_deref(), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), None);
        let credentials = config.credentials_provider().unwrap().provide_credentials().await.unwrap();
        assert_eq!(
            (credentials.access_key_id(), credentials.secret_access_key(), credentials.session_token()),
            ("ASIAEXAMPLE", "secret", Some("session"))
        );
        assert!(aws(&lambda("AWS_SESSION_TOKEN")).is_ok(), "the local cloud signs without a session");
        for required in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            assert!(matches!(aws(&lambda(required)), Err(ConfigError::Missing(name)) if name == required));
        }
    }
}
