//! `probe-function`: a Lambda function for testing the local runner's event source mappings.
//! It logs one JSON line per record it is given and misbehaves on request:
//!
//! - SQS body `{"id": .., "fail": true}`: reported as a batch item failure;
//! - SQS body `{"crash_on_receive": N}`: the process exits when the message's receive count is N;
//! - SQS body `{"sleep_ms": N}`: the invocation takes N ms (only on receive M with
//!   `"sleep_on_receive": M`);
//! - any record with `"error"` (SQS body) or `behaviour = error` (stream image): the whole
//!   invocation fails;
//! - stream image `behaviour = fail`: reported as a batch item failure (by sequence number).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[allow(clippy::print_stdout)] // what the probe saw is its output; the runner keeps the lines
fn seen(line: Value) {
    println!("{line}");
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let mut failures = Vec::new();
    let mut error = false;
    for record in event.payload["Records"].as_array().into_iter().flatten() {
        if record["eventSource"] == "aws:sqs" {
            let body: Value = serde_json::from_str(record["body"].as_str().unwrap_or("null")).unwrap_or_default();
            let receive: u64 = record["attributes"]["ApproximateReceiveCount"].as_str().unwrap_or("0").parse()?;
            seen(json!({ "probe": "sqs", "id": body["id"], "receive": receive }));
            if body["crash_on_receive"].as_u64() == Some(receive) {
                std::process::exit(3);
            }
            let sleep_now = body["sleep_on_receive"].as_u64().is_none_or(|on| on == receive);
            if let Some(pause) = body["sleep_ms"].as_u64().filter(|_| sleep_now) {
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            if body["fail"] == true {
                failures.push(json!({ "itemIdentifier": record["messageId"] }));
            }
            error |= body["error"] == true;
        } else {
            let image = &record["dynamodb"]["NewImage"];
            let sequence = &record["dynamodb"]["SequenceNumber"];
            seen(json!({ "probe": "stream", "id": image["pk"]["S"], "seq": sequence }));
            match image["behaviour"]["S"].as_str() {
                Some("fail") => failures.push(json!({ "itemIdentifier": sequence })),
                Some("error") => error = true,
                _ => {}
            }
        }
    }
    if error {
        return Err("the probe was asked to fail".into());
    }
    // Which process served it: concurrent invocations are served by different sandboxes.
    Ok(json!({ "batchItemFailures": failures, "pid": std::process::id() }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
