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
    adapters::{dynamodb::DynamoStore, sqs::SqsQueue},
    app::fulfillment::{Fulfillment, FulfillmentError, FulfillmentOutcome, SUBSCRIPTION, WarehouseWork},
    config::{ConfigError, Env},
    domain::{Envelope, Order, ReturnPolicy},
    lambda::consumer::{Handled, consume_by_source, dispatch, dispatch_body},
};

#[derive(Debug, Clone)]
pub struct FulfillmentHandler {
    fulfillment: Fulfillment<DynamoStore, SqsQueue, SqsQueue>,
    shipments_queue_arn: String,
    returns: ReturnPolicy,
}

impl FulfillmentHandler {
    /// The store's tables, `PICK_REQUESTS_QUEUE_URL`, `SHIPMENTS_QUEUE_ARN`, `SHIPMENTS_DLQ_URL`
    /// and `RETURN_POLICY`.
    pub fn from_env(
        dynamodb: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        env: &Env,
    ) -> Result<Self, ConfigError> {
        let warehouse = SqsQueue::new(sqs.clone(), env.get("PICK_REQUESTS_QUEUE_URL")?);
        let dead_letters = SqsQueue::new(sqs, env.get("SHIPMENTS_DLQ_URL")?);
        Ok(Self {
            fulfillment: Fulfillment::new(DynamoStore::from_env(dynamodb, env)?, warehouse, dead_letters),
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
