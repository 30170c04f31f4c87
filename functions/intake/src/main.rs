//! Starts the `intake` Lambda: configuration and clients once, then one handler per request.

use lambda_http::{Error, service_fn};
use shared::config::{self, Env};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::telemetry::init();
    let aws = config::aws(&Env::Process)?;
    let intake = intake::Intake::from_env(&aws, &Env::Process)?;
    lambda_http::run(service_fn(|request| intake.handle(request))).await
}
