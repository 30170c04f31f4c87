//! The `inventory` Lambda: `order.placed` reserves the order's stock (or rejects the order),
//! `order.payment_failed` and `order.cancelled` give it back.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use shared::{
    adapters::dynamodb::DynamoStore,
    app::inventory::{Inventory, ReserveOutcome, SUBSCRIPTION, StockWork},
    config::{ConfigError, Env},
    domain::{Envelope, Order, StoreError},
    lambda::consumer::consume,
};

#[derive(Debug, Clone)]
pub struct InventoryHandler {
    inventory: Inventory<DynamoStore>,
}

impl InventoryHandler {
    pub fn from_env(client: aws_sdk_dynamodb::Client, env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { inventory: Inventory::new(DynamoStore::from_env(client, env)?) })
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(consume(event.payload, |envelope| self.on_event(envelope)).await)
    }

    async fn on_event(&self, event: Envelope<Order>) -> Result<(), StoreError> {
        match SUBSCRIPTION.work(event.event_type) {
            Some(StockWork::Reserve) => match self.inventory.reserve(&event.data, Utc::now()).await? {
                ReserveOutcome::Reserved => tracing::info!("stock reserved"),
                ReserveOutcome::Rejected(shortages) => {
                    let skus: Vec<&str> = shortages.iter().map(|shortage| shortage.sku.as_str()).collect();
                    tracing::info!(?skus, "order rejected: out of stock");
                }
                ReserveOutcome::AlreadyHandled => {
                    tracing::info!("order no longer placed at this version; acknowledged")
                }
            },
            Some(StockWork::Release) => {
                let release = self.inventory.release(&event.order_id, Utc::now()).await?;
                tracing::info!(?release, "stock release");
            }
            None => tracing::warn!(event_type = %event.event_type, "not an inventory event; acknowledged"),
        }
        Ok(())
    }
}
