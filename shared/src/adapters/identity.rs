//! The operators' identity provider over HTTPS (Cognito's user pool, or the runner playing it):
//! the keys it signs access tokens with, published at `{issuer}/.well-known/jwks.json`, and its
//! hosted login's token endpoint, where the desk turns a sign-in's code into an access token.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};

use crate::adapters::https::{self, HttpsClient, carries_secrets_safely};
use crate::web::{
    session::PendingLogin,
    tokens::{Jwks, KeySource},
};

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

/// The hosted login's token endpoint for one public app client (PKCE, no secret).
#[derive(Clone)]
pub struct HostedLogin {
    client: HttpsClient,
    /// The hosted login's base URL: `https://{domain}.auth.{region}.amazoncognito.com`.
    pub base_url: String,
    pub client_id: String,
    /// Where it sends the browser back with the code: the desk's `/desk/callback`.
    pub callback_url: String,
}

impl std::fmt::Debug for HostedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedLogin").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// Why a sign-in's code brought no token.
#[derive(Debug, thiserror::Error)]
pub enum CodeRefused {
    /// Spent, expired, or not made for this verifier, client or callback: sign in again.
    #[error("the identity provider refused the code: {0}")]
    Refused(String),
    #[error("the identity provider could not be reached: {0}")]
    Unavailable(String),
}

impl HostedLogin {
    pub fn new(base_url: &str, client_id: &str, callback_url: &str) -> Result<Self, std::io::Error> {
        if !carries_secrets_safely(base_url) {
            let refusal = "the operators' hosted login must be https (plain http only on loopback)";
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, refusal));
        }
        Ok(Self {
            client: https::client()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            callback_url: callback_url.to_owned(),
        })
    }

    /// The access token for the code the hosted login sent back to `login`'s callback.
    pub async fn access_token(&self, code: &str, login: &PendingLogin) -> Result<String, CodeRefused> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.callback_url)
            .append_pair("code_verifier", &login.verifier)
            .finish();
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/oauth2/token", self.base_url))
            .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .map_err(|error| CodeRefused::Unavailable(error.to_string()))?;
        let (status, body) = https::exchange(&self.client, request, TIMEOUT)
            .await
            .map_err(|error| CodeRefused::Unavailable(error.to_string()))?;
        #[derive(serde::Deserialize)]
        struct Granted {
            access_token: String,
        }
        #[derive(serde::Deserialize)]
        struct Refusal {
            error: String,
        }
        match status {
            StatusCode::OK => serde_json::from_slice::<Granted>(&body)
                .map(|granted| granted.access_token)
                .map_err(|error| CodeRefused::Unavailable(format!("the token endpoint's answer: {error}"))),
            status if status.is_client_error() => Err(CodeRefused::Refused(
                serde_json::from_slice::<Refusal>(&body).map_or_else(|_| status.to_string(), |refusal| refusal.error),
            )),
            status => Err(CodeRefused::Unavailable(format!("the token endpoint answered {status}"))),
        }
    }
}
