//! The use cases two functions share, wired to their adapters: payments on Stripe and DynamoDB,
//! as the payment function and the operator API run them.

use crate::{
    adapters::{dynamodb::DynamoStore, stripe::StripeGateway},
    app::payments::Payments,
    config::{ConfigError, Env},
};

/// The payment use cases on Stripe and DynamoDB.
pub type LivePayments = Payments<StripeGateway, DynamoStore>;

/// Reads the provider's settings, the store's tables and `FRAUD_POLICY`.
pub fn payments_from_env(client: aws_sdk_dynamodb::Client, env: &Env) -> Result<LivePayments, ConfigError> {
    Ok(Payments::new(StripeGateway::from_env(env)?, DynamoStore::from_env(client, env)?, env.json("FRAUD_POLICY")?))
}
