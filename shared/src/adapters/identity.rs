//! The operators' identity provider over HTTPS (Cognito's user pool, or the runner playing it):
//! the keys it signs access tokens with, published at `{issuer}/.well-known/jwks.json`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};

use crate::adapters::https::{self, HttpsClient, carries_secrets_safely};
use crate::web::tokens::{Jwks, KeySource};

/// A JWKS is a few keys: anything much larger is not one.
const MAX_JWKS_BYTES: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(3);

/// The issuer's published keys, read over TLS (in the clear only from this machine).
#[derive(Clone)]
pub struct IssuerKeys {
    client: HttpsClient,
    url: String,
}

impl std::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKeys").field("url", &self.url).finish_non_exhaustive()
    }
}

impl IssuerKeys {
    /// The keys of `issuer` (a token's `iss`, as Cognito's `ProviderURL`).
    pub fn for_issuer(issuer: &str) -> Result<Self, std::io::Error> {
        if !carries_secrets_safely(issuer) {
            let refusal = "the operators' issuer must be https (plain http only on loopback)";
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, refusal));
        }
        let url = format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'));
        Ok(Self { client: https::client()?, url })
    }
}

impl KeySource for IssuerKeys {
    async fn keys(&self) -> Result<Jwks, String> {
        let request = Request::builder()
            .method(Method::GET)
            .uri(&self.url)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|error| error.to_string())?;
        let (status, body) =
            https::exchange(&self.client, request, TIMEOUT).await.map_err(|error| error.to_string())?;
        if status != StatusCode::OK {
            return Err(format!("{} answered {status}", self.url));
        }
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("{} answered {} bytes, more than a JWKS", self.url, body.len()));
        }
        serde_json::from_slice(&body).map_err(|error| format!("{} is not a JWKS: {error}", self.url))
    }
}
