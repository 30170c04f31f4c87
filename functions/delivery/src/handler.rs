//! The `delivery` Lambda: each normalised carrier event from the delivery-updates queue onto
//! its parcel and order.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::secrets::{StoredSecret, lookup_key_from_env},
    app::delivery::{DeliveryError, Tracking},
    config::{ConfigError, Env},
    domain::{DeliveryUpdate, LookupKey},
    lambda::consumer::consume,
};

#[derive(Debug, Clone)]
pub struct DeliveryHandler {
    tracking: Tracking<DynamoStore, StoredSecret<LookupKey>>,
}

impl DeliveryHandler {
    /// The store's tables and `LOOKUP_KEY_SECRET_ID` (parcels are found by a keyed hash of
    /// their tracking number).
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let orders = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(aws), env)?;
        let keys = lookup_key_from_env(aws_sdk_secretsmanager::Client::new(aws), env)?;
        Ok(Self { tracking: Tracking::new(orders, keys) })
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
