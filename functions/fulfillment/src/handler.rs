//! The `fulfillment` Lambda. From the fulfillment queue, `order.payment_authorized` (or
//! `order.modified` of an authorised order) becomes a pick request to the warehouse and the
//! order FULFILLING, and `order.cancelled` a stop. From the shipments queue, each warehouse
//! report becomes a parcel on the order (SHIPPED once all has left), and each return receipt
//! makes the order RETURNED (`shared::app::fulfillment`).

use aws_lambda_events::{
    event::sqs::{SqsBatchResponse, SqsEvent},
    sqs::SqsMessage,
};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use shared::{
    adapters::secrets::{StoredSecret, lookup_key_from_env},
    adapters::{dynamodb::DynamoStore, sqs::SqsQueue},
    app::fulfillment::{Fulfillment, FulfillmentError, FulfillmentOutcome, SUBSCRIPTION, WarehouseWork},
    config::{ConfigError, Env},
    domain::{Envelope, LookupKey, Order, ReturnPolicy},
    lambda::consumer::{Handled, consume_by_source, dispatch, dispatch_body},
};

#[derive(Debug, Clone)]
pub struct FulfillmentHandler {
    fulfillment: Fulfillment<DynamoStore, SqsQueue, SqsQueue, StoredSecret<LookupKey>>,
    shipments_queue_arn: String,
    returns: ReturnPolicy,
}

impl FulfillmentHandler {
    /// The store's tables, `PICK_REQUESTS_QUEUE_URL`, `SHIPMENTS_QUEUE_ARN`, `SHIPMENTS_DLQ_URL`,
    /// `RETURN_POLICY` and `LOOKUP_KEY_SECRET_ID` (parcels are indexed by a keyed hash of their
    /// tracking number).
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let sqs = aws_sdk_sqs::Client::new(aws);
        let warehouse = SqsQueue::new(sqs.clone(), env.get("PICK_REQUESTS_QUEUE_URL")?);
        let dead_letters = SqsQueue::new(sqs, env.get("SHIPMENTS_DLQ_URL")?);
        let orders = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(aws), env)?;
        let keys = lookup_key_from_env(aws_sdk_secretsmanager::Client::new(aws), env)?;
        Ok(Self {
            fulfillment: Fulfillment::new(orders, warehouse, dead_letters, keys),
            shipments_queue_arn: env.get("SHIPMENTS_QUEUE_ARN")?,
            returns: env.json("RETURN_POLICY")?,
        })
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(consume_by_source(
            &event.payload,
            &self.shipments_queue_arn,
            |message| self.on_report(message),
            |message| dispatch(message, |event| self.on_event(event)),
        )
        .await)
    }

    async fn on_event(&self, event: Envelope<Order>) -> Result<(), FulfillmentError> {
        let outcome = match SUBSCRIPTION.work(event.event_type) {
            Some(WarehouseWork::Pick) => self.fulfillment.on_authorized(&event.data, Utc::now()).await?,
            Some(WarehouseWork::Stop) => self.fulfillment.on_cancelled(&event.data).await?,
            None => FulfillmentOutcome::AlreadyHandled,
        };
        tracing::info!(?outcome, "order event handled");
        Ok(())
    }

    async fn on_report(&self, message: &SqsMessage) -> Handled {
        dispatch_body(message, |body| self.fulfillment.on_warehouse_report(body, &self.returns, Utc::now())).await
    }
}
