//! The `fulfillment` Lambda. From the fulfillment queue, `order.payment_authorized` (or
//! `order.modified` of an authorised order) becomes a pick request to the warehouse and the
//! order FULFILLING, and `order.cancelled` a stop. From the shipments queue, each warehouse
//! report becomes a parcel on the order (SHIPPED once all has left), and each return receipt
//! makes the order RETURNED; a message that can never be recorded is parked in the shipments
//! dead-letter queue with its error.

use aws_lambda_events::{
    event::sqs::{SqsBatchResponse, SqsEvent},
    sqs::SqsMessage,
};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::sqs::SqsQueue,
    app::fulfillment::{Fulfillment, FulfillmentError, FulfillmentOutcome},
    config::{ConfigError, Env},
    domain::{Envelope, EventType, Order, OrderStatus, ReturnPolicy, ReturnReceipt, ShipmentReport},
    lambda::consumer::{consume_messages, dispatch},
};
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct FulfillmentHandler {
    fulfillment: Fulfillment<DynamoStore, SqsQueue>,
    shipments_queue_arn: String,
    shipments_dead_letters: SqsQueue,
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
        Ok(Self {
            fulfillment: Fulfillment::new(DynamoStore::from_env(dynamodb, env)?, warehouse),
            shipments_queue_arn: env.get("SHIPMENTS_QUEUE_ARN")?,
            shipments_dead_letters: SqsQueue::new(sqs, env.get("SHIPMENTS_DLQ_URL")?),
            returns: env.json("RETURN_POLICY")?,
        })
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(consume_messages(&event.payload, |message| self.on_message(message)).await)
    }

    /// Whether the message failed.
    async fn on_message(&self, message: &SqsMessage) -> bool {
        if message.event_source_arn.as_deref() == Some(self.shipments_queue_arn.as_str()) {
            self.on_report(message).await
        } else {
            dispatch(message, &|event| self.on_event(event)).await
        }
    }

    async fn on_event(&self, event: Envelope<Order>) -> Result<(), FulfillmentError> {
        let outcome = match event.event_type {
            EventType::Reached(OrderStatus::PaymentAuthorized) | EventType::Modified => {
                self.fulfillment.on_authorized(&event.data, Utc::now()).await?
            }
            EventType::Reached(OrderStatus::Cancelled) => self.fulfillment.on_cancelled(&event.data).await?,
            _ => FulfillmentOutcome::AlreadyHandled,
        };
        tracing::info!(?outcome, "order event handled");
        Ok(())
    }

    /// A shipment report or a return receipt (which names its `rma`): recorded, retried, or
    /// parked with its error. Whether it failed.
    async fn on_report(&self, message: &SqsMessage) -> bool {
        let body = message.body.as_deref().unwrap_or_default();
        let message_id = message.message_id.as_deref().unwrap_or_default();
        let is_receipt = serde_json::from_str::<serde_json::Value>(body).is_ok_and(|value| value.get("rma").is_some());
        let malformed = |error: serde_json::Error| FulfillmentError::Rejected {
            code: "malformed_report",
            detail: error.to_string(),
        };
        let outcome = if is_receipt {
            match serde_json::from_str::<ReturnReceipt>(body) {
                Ok(receipt) => {
                    let span = tracing::info_span!("return", order_id = %receipt.order_id, rma = %receipt.rma);
                    self.fulfillment.on_return(&receipt, &self.returns, Utc::now()).instrument(span).await
                }
                Err(error) => Err(malformed(error)),
            }
        } else {
            match serde_json::from_str::<ShipmentReport>(body) {
                Ok(report) => {
                    let span =
                        tracing::info_span!("shipment", order_id = %report.order_id, shipment_id = %report.shipment_id);
                    self.fulfillment.on_shipment(&report, Utc::now()).instrument(span).await
                }
                Err(error) => Err(malformed(error)),
            }
        };
        match outcome {
            Ok(outcome) => {
                tracing::info!(?outcome, message_id, "shipment report handled");
                false
            }
            Err(FulfillmentError::Rejected { code, detail }) => {
                tracing::error!(code, detail = %detail, message_id, "shipment report rejected; parking it in the dead-letter queue");
                match self.shipments_dead_letters.dead_letter(body, code, &detail).await {
                    Ok(()) => false,
                    Err(error) => {
                        tracing::error!(error = %error, message_id, "could not park the report; the queue will retry it");
                        true
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, message_id, "shipment report not recorded yet; the queue will retry it");
                true
            }
        }
    }
}
