//! The use cases two functions share, wired to their adapters: payments on Stripe and DynamoDB,
//! as the payment function and the operator API run them.

use crate::{
    adapters::{dynamodb::DynamoStore, stripe::StripeGateway},
    app::payments::Payments,
    config::{ConfigError, Env},
};

/// The payment use cases on Stripe and DynamoDB.
pub type LivePayments = Payments<StripeGateway, DynamoStore>;

/// The payment use cases on this gateway and store, screening by `FRAUD_POLICY`.
pub fn payments_from_env(gateway: StripeGateway, store: DynamoStore, env: &Env) -> Result<LivePayments, ConfigError> {
    Ok(Payments::new(gateway, store, env.json("FRAUD_POLICY")?))
}
