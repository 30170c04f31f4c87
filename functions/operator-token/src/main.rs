//! Starts the `operator-token` Lambda.

use lambda_runtime::{Error, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::telemetry::init();
    lambda_runtime::run(service_fn(operator_token::handle)).await
}
