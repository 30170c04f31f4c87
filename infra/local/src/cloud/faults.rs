//! Faults where AWS and the payment provider inject them (`--faults RATE`), and functions
//! killed mid-invocation (`--crash RATE`): the layers in front of moto (`faults_layer.py`) and in
//! localstripe answer a fraction of calls with the failures the real services return, the
//! hardest being a call applied whose answer is lost; the runtime kills a fraction of
//! invocations' processes at a random point. Each is seeded, so a run can be repeated.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// How much goes wrong, and the seed it goes wrong by.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// The fraction of calls to the local cloud and the payment provider that fail.
    pub rate: f64,
    /// The fraction of invocations whose process is killed before it answers.
    pub crash: f64,
    pub seed: u64,
}

/// What the layers injected, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injected {
    pub aws: BTreeMap<String, u64>,
    pub payment_provider: BTreeMap<String, u64>,
}

#[derive(Debug, thiserror::Error)]
#[error("the fault layer at {url} could not be reached: {detail}")]
pub struct FaultLayerError {
    url: String,
    detail: String,
}

/// Switches the faults on for `stack`'s functions at moto (its keys only: other stacks sharing
/// the server, the administrator and Lambda's own pollers are never faulted) and, if given, at
/// the payment provider (all its callers: pass only one the runner started). A silence lasts
/// `payment_timeout` and a second, longer than the provider's client waits.
pub async fn inject(
    moto: &str,
    payment_provider: Option<&str>,
    stack: &str,
    faults: Faults,
    payment_timeout: std::time::Duration,
) -> Result<(), FaultLayerError> {
    call("POST", moto, Some(json!({"stack": stack, "rate": faults.rate, "seed": faults.seed}))).await?;
    if let Some(endpoint) = payment_provider {
        let timeout_seconds = payment_timeout.as_secs_f64() + 1.0;
        let settings = json!({"rate": faults.rate, "seed": faults.seed, "timeout_seconds": timeout_seconds});
        call("POST", endpoint, Some(settings)).await?;
    }
    Ok(())
}

/// What has been injected so far.
pub async fn injected(moto: &str, payment_provider: Option<&str>) -> Result<Injected, FaultLayerError> {
    let counts = |answer: Value| -> BTreeMap<String, u64> {
        answer["injected"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(kind, count)| (kind.clone(), count.as_u64().unwrap_or_default()))
            .collect()
    };
    let aws = counts(call("GET", moto, None).await?);
    let payment_provider = match payment_provider {
        Some(endpoint) => counts(call("GET", endpoint, None).await?),
        None => BTreeMap::new(),
    };
    Ok(Injected { aws, payment_provider })
}

async fn call(method: &str, endpoint: &str, body: Option<Value>) -> Result<Value, FaultLayerError> {
    let url = format!("{endpoint}/orderflow/faults");
    let failed = |detail: String| FaultLayerError { url: url.clone(), detail };
    let body = body.map(|body| body.to_string()).unwrap_or_default();
    let bytes = crate::cloud::layer_request(method, &url, body).await.map_err(failed)?;
    serde_json::from_slice(&bytes).map_err(|error| failed(error.to_string()))
}
