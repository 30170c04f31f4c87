//! The emulators: moto server and localstripe on loopback ports, each wrapped in our layers
//! (AWS's limits, IAM, faults: `infra/local/python/`), and SDK configuration pointed at moto;
//! `faults` injects failures where AWS and the payment provider would.

pub mod faults;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
};

use aws_config::{Region, SdkConfig, retry::RetryConfig};
use aws_sdk_sqs::config::Credentials;
use shared::config::ConfigError;

// The layers first (limits, then IAM, which uses them): the sidecar wraps moto in them.
const MOTO_SIDECAR: &str = concat!(
    include_str!("../../python/limits_layer.py"),
    "\n",
    include_str!("../../python/iam_layer.py"),
    "\n",
    include_str!("../../python/faults_layer.py"),
    "\n",
    include_str!("../../python/moto_sidecar.py")
);
const LOCALSTRIPE_SIDECAR: &str = include_str!("../../python/localstripe_sidecar.py");
pub const REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error(
        "no Python with moto found at {0}: run `scripts/test` once (it installs the pinned tools into \
         .tools/venv), or set ORDERFLOW_PYTHON to a Python that has `moto[server]`"
    )]
    NoPython(PathBuf),
    #[error("a local cloud service did not start")]
    Start(#[source] std::io::Error),
    #[error("a local cloud service did not report its port (it printed {0:?})")]
    NoPort(String),
}

/// The Python that runs the local cloud's tools: `ORDERFLOW_PYTHON`, else the checkout's
/// `.tools/venv` that `scripts/test` installs.
pub fn python() -> Result<PathBuf, CloudError> {
    let path = std::env::var_os("ORDERFLOW_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python"));
    if path.exists() { Ok(path) } else { Err(CloudError::NoPython(path)) }
}

/// A Python service of the local cloud, run by one of our sidecar scripts: it serves on
/// loopback, prints its port first, and exits when its standard input closes, so it never
/// outlives this process, even when this process is killed.
#[derive(Debug)]
pub struct Sidecar {
    endpoint: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Sidecar {
    fn start(script: &str, port: u16) -> Result<Self, CloudError> {
        let mut child = Command::new(python()?)
            .arg("-c")
            .arg(script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(CloudError::Start)?;
        let stdin = child.stdin.take();
        let mut first_line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut first_line).map_err(CloudError::Start)?;
        }
        let port: u16 = first_line.trim().parse().map_err(|_| CloudError::NoPort(first_line.clone()))?;
        Ok(Self { endpoint: format!("http://127.0.0.1:{port}"), child, stdin })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.wait().is_err() {
            let _ = self.child.kill();
        }
    }
}

/// moto server: DynamoDB, Streams, SQS, SNS and SES on one port.
#[derive(Debug)]
pub struct MotoServer(Sidecar);

impl MotoServer {
    /// Starts moto on `port`, or on a free port with 0.
    pub fn start(port: u16) -> Result<Self, CloudError> {
        Sidecar::start(MOTO_SIDECAR, port).map(Self)
    }

    pub fn endpoint(&self) -> &str {
        self.0.endpoint()
    }
}

/// localstripe: a stateful fake of Stripe's API.
#[derive(Debug)]
pub struct LocalStripe(Sidecar);

impl LocalStripe {
    /// Starts localstripe on `port`, or on a free port with 0.
    pub fn start(port: u16) -> Result<Self, CloudError> {
        Sidecar::start(LOCALSTRIPE_SIDECAR, port).map(Self)
    }

    pub fn endpoint(&self) -> &str {
        self.0.endpoint()
    }
}

/// The access key of the local cloud's administrator: the runner and the tests provision and
/// inspect with it, and the IAM layer lets it do anything.
pub const ADMINISTRATOR: &str = "test";

/// SDK configuration for the local cloud at `endpoint` as its administrator: one region, and
/// few retries so that a failing call fails fast.
pub async fn sdk_config(endpoint: &str) -> Result<SdkConfig, ConfigError> {
    sdk_config_signed_as(endpoint, ADMINISTRATOR).await
}

/// The same, signing with `access_key`, which the IAM layer maps to a function's role.
pub async fn sdk_config_signed_as(endpoint: &str, access_key: &str) -> Result<SdkConfig, ConfigError> {
    Ok(shared::config::aws_loader()?
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(access_key, "local", None, None, "orderflow-local"))
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await)
}

/// One JSON request to an administration route our layers add to the local cloud (`url` is
/// the whole address): the answer's body, or what went wrong, in words.
pub(crate) async fn layer_request(method: &str, url: &str, body: String) -> Result<hyper::body::Bytes, String> {
    use http_body_util::BodyExt as _;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .map_err(|error| error.to_string())?;
    let response = client.request(request).await.map_err(|error| error.to_string())?;
    let status = response.status();
    let bytes = response.into_body().collect().await.map_err(|error| error.to_string())?.to_bytes();
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    Ok(bytes)
}
