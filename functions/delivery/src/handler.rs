//! The `delivery` Lambda: each normalised carrier event from the delivery-updates queue onto
//! its parcel and order.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use shared::{
    adapters::dynamodb::DynamoStore,
    app::delivery::{DeliveryError, Tracking},
    config::{ConfigError, Env},
    domain::DeliveryUpdate,
    lambda::consumer::consume,
};

#[derive(Debug, Clone)]
pub struct DeliveryHandler {
    tracking: Tracking<DynamoStore>,
}

impl DeliveryHandler {
    /// The store's tables.
    pub fn from_env(client: aws_sdk_dynamodb::Client, env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { tracking: Tracking::new(DynamoStore::from_env(client, env)?) })
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(consume(event.payload, |update| self.on_update(update)).await)
    }

    async fn on_update(&self, update: DeliveryUpdate) -> Result<(), DeliveryError> {
        let outcome = self.tracking.on_update(&update, Utc::now()).await?;
        tracing::info!(?outcome, status = ?update.status, "carrier event handled");
        Ok(())
    }
}
