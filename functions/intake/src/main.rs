//! Starts the `intake` Lambda: configuration and clients once, then one handler per request.

use chrono::Duration;
use lambda_http::{Error, service_fn};
use shared::{config, store::DynamoStore};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let store = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(&aws))?;
    let pricing = config::env_json("PRICING_POLICY")?;
    let ttl = Duration::hours(config::env_parse("IDEMPOTENCY_TTL_HOURS")?);
    let intake = intake::Intake::new(store, pricing, ttl);
    lambda_http::run(service_fn(|request| intake.handle(request))).await
}
