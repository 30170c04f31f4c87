//! A client of the template's HTTP API as a storefront, an operator or a tool calls it: a bearer
//! token, JSON in and out, over HTTP (the local runner) or HTTPS (a deployed stack, trusting the
//! system's roots). The demo's and the benches' customers all speak through it.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct ApiClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    pub api_url: String,
}

impl ApiClient {
    /// For the API at `api_url` (no trailing slash needed).
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_native_roots()?.https_or_http().enable_http1().build();
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).pool_max_idle_per_host(256).build(connector);
        Ok(Self { client, api_url: api_url.trim_end_matches('/').to_owned() })
    }

    /// One request, a JSON body with it when given: the status (0 when no answer came) and the
    /// JSON answer (null when there was none, or it was not JSON).
    pub async fn call(
        &self,
        (method, path): (&str, &str),
        token: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.api_url))
            .header("Authorization", format!("Bearer {token}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let Ok(request) = request.body(Full::new(Bytes::from(body.map(Value::to_string).unwrap_or_default()))) else {
            return (0, Value::Null);
        };
        match self.client.request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let bytes = response.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
                (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }
}
