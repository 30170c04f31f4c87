//! Starts the `fulfillment` Lambda.
// The SDK's nested futures, inside the batch loop, inside the runtime, run deep.
#![recursion_limit = "256"]

use lambda_runtime::{Error, service_fn};
use shared::config::{self, Env};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::telemetry::init();
    let aws = config::aws(&Env::Process)?;
    let handler = fulfillment::FulfillmentHandler::from_env(&aws, &Env::Process)?;
    lambda_runtime::run(service_fn(|event| handler.handle(event))).await
}
