//! Starts the `stream-router` Lambda.

use lambda_runtime::{Error, service_fn};
use shared::{
    adapters::sns_events::EventPublisher,
    config::{self, Env},
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::telemetry::init();
    let aws = config::aws(&Env::Process)?;
    let publisher = EventPublisher::from_env(aws_sdk_sns::Client::new(&aws), &Env::Process)?;
    let router = stream_router::StreamRouter::new(publisher);
    lambda_runtime::run(service_fn(|event| router.handle(event))).await
}
