//! Starts the `payment-webhook` Lambda.

use lambda_http::{Error, service_fn};
use shared::config::{self, Env};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::telemetry::init();
    let aws = config::aws(&Env::Process)?;
    let webhook = payment_webhook::PaymentWebhook::from_env(&aws, &Env::Process)?;
    lambda_http::run(service_fn(|request| webhook.handle(request))).await
}
