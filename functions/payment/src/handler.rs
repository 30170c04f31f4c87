//! The `payment` Lambda: `order.reserved` is screened and authorised; `order.shipped` captured,
//! `order.cancelled` voided, `order.returned` refunded. From its second queue, the payment
//! provider's own news (disputes, ended authorisations, failed refunds) is recorded on the order.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use shared::{
    adapters::{dynamodb::DynamoStore, stripe::StripeGateway},
    app::payments::{PaymentError, PaymentOutcome, PaymentWork, SUBSCRIPTION},
    config::{ConfigError, Env},
    domain::{Envelope, Order, ProviderEvent},
    lambda::consumer::{consume_by_source, dispatch},
    lambda::wiring::{LivePayments, payments_from_env},
};

#[derive(Debug, Clone)]
pub struct PaymentHandler {
    payments: LivePayments,
    provider_events_queue_arn: String,
}

impl PaymentHandler {
    /// The store's tables, `FRAUD_POLICY`, `PAYMENT_PROVIDER_*` and
    /// `PROVIDER_EVENTS_QUEUE_ARN`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let store = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(aws), env)?;
        Ok(Self {
            payments: payments_from_env(StripeGateway::from_env(aws, env)?, store, env)?,
            provider_events_queue_arn: env.get("PROVIDER_EVENTS_QUEUE_ARN")?,
        })
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let batch = &event.payload;
        Ok(consume_by_source(
            batch,
            &self.provider_events_queue_arn,
            |message| dispatch(message, |news: ProviderEvent| self.on_provider_event(news)),
            |message| dispatch(message, |envelope| self.on_event(envelope)),
        )
        .await)
    }

    async fn on_provider_event(&self, event: ProviderEvent) -> Result<(), PaymentError> {
        let outcome = self.payments.on_provider_event(&event, Utc::now()).await?;
        tracing::info!(?outcome, "provider event handled");
        Ok(())
    }

    async fn on_event(&self, event: Envelope<Order>) -> Result<(), PaymentError> {
        let order = &event.data;
        let outcome = match SUBSCRIPTION.work(event.event_type) {
            Some(PaymentWork::Authorize) => self.payments.on_reserved(order, Utc::now()).await?,
            Some(PaymentWork::Capture) => self.payments.on_shipped(order).await?,
            Some(PaymentWork::Release) => self.payments.on_cancelled(order).await?,
            Some(PaymentWork::RefundReturn) => self.payments.on_returned(order, Utc::now()).await?,
            None => PaymentOutcome::NothingToDo,
        };
        tracing::info!(?outcome, "payment event handled");
        Ok(())
    }
}
