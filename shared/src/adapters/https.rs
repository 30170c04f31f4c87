//! One HTTPS client per process for the services we call outside AWS's SDKs (the payment
//! provider; the operators' identity provider): one TLS configuration on Mozilla's roots, one
//! connection pool, every exchange within a timeout.

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

pub(crate) type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

static CLIENT: LazyLock<Result<HttpsClient, rustls::Error>> = LazyLock::new(|| {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(crate::trust::public_roots())
        .with_no_client_auth();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
});

/// The process's client.
pub(crate) fn client() -> Result<HttpsClient, std::io::Error> {
    CLIENT.clone().map_err(std::io::Error::other)
}

/// Why an exchange brought no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    #[error("the request could not be sent or its answer read")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// One request and its whole answer, within `timeout`.
pub(crate) async fn exchange(
    client: &HttpsClient,
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), ExchangeError> {
    let exchange = async {
        let response = client.request(request).await.map_err(|error| ExchangeError::Failed(Box::new(error)))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|error| ExchangeError::Failed(Box::new(error)))?;
        Ok((status, body.to_bytes()))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| ExchangeError::TimedOut(timeout))?
}

/// Whether secrets may be sent to `endpoint`: over TLS, or in the clear only to this machine
/// (the local cloud).
pub(crate) fn carries_secrets_safely(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else { return endpoint.starts_with("https://") };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_only_over_tls_or_to_this_machine() {
        for safe in ["https://api.stripe.com", "http://127.0.0.1:8420", "http://localhost:1/v1", "http://[::1]:9"] {
            assert!(carries_secrets_safely(safe), "{safe}");
        }
        for unsafe_endpoint in ["http://api.stripe.com", "http://127.0.0.1.evil.test", "ftp://x", "api.stripe.com"] {
            assert!(!carries_secrets_safely(unsafe_endpoint), "{unsafe_endpoint}");
        }
    }
}
