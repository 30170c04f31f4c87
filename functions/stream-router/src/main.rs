//! Starts the `stream-router` Lambda.

use lambda_runtime::{Error, service_fn};
use shared::{config, publish::EventPublisher};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let publisher = EventPublisher::new(aws_sdk_sns::Client::new(&aws), config::env("ORDER_EVENTS_TOPIC_ARN")?);
    let router = stream_router::StreamRouter::new(publisher);
    lambda_runtime::run(service_fn(|event| router.handle(event))).await
}
