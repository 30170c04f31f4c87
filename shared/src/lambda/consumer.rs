//! The loop every SQS-triggered function shares: each message to a handler, and only the
//! messages that failed reported back (`ReportBatchItemFailures`), so one bad message never
//! makes its batch's good ones run again.

use std::{error::Error as StdError, future::Future};

use aws_lambda_events::{
    event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent},
    sqs::SqsMessage,
};
use serde::de::DeserializeOwned;
use tracing::{Instrument, Span};

use crate::domain::{DeliveryUpdate, Envelope, Order};
use crate::metrics::{Measurement, Metric};

/// A message body a consumer reads, and the span its handling is logged in.
pub trait Message: DeserializeOwned {
    fn span(&self) -> Span;
}

impl Message for Envelope<Order> {
    fn span(&self) -> Span {
        tracing::info_span!("event", event_id = %self.id, event_type = %self.event_type, order_id = %self.order_id)
    }
}

impl Message for DeliveryUpdate {
    fn span(&self) -> Span {
        tracing::info_span!("carrier_event", source = %self.source, carrier_event_id = %self.event_id, order_id = tracing::field::Empty)
    }
}

/// Handles the batch's messages concurrently, so that a batch takes as long as its slowest
/// message rather than their sum (a slow payment provider must not make the batch overrun the
/// function's timeout). Messages of one order may race: every write is conditional, so that is
/// as safe as the queue delivering them out of order. `handle` says whether a message failed.
pub async fn consume_messages<'m, F, Fut>(event: &'m SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(&'m SqsMessage) -> Fut,
    Fut: Future<Output = bool>,
{
    let outcomes = futures_util::future::join_all(event.records.iter().map(&handle)).await;
    let mut response = SqsBatchResponse::default();
    for (message, failed) in event.records.iter().zip(outcomes) {
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    if !response.batch_item_failures.is_empty() {
        let mut failures = Measurement::count(Metric::BatchItemFailures);
        failures.value = response.batch_item_failures.len() as f64;
        crate::metrics::emit(&[failures]);
    }
    response
}

/// [`consume_messages`] for queues that carry one kind of message.
pub async fn consume<M, F, Fut, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    M: Message,
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: StdError,
{
    consume_messages(&event, |message| dispatch(message, &handle)).await
}

/// Reads one message and hands it over; whether it failed. A body that does not parse fails
/// too: the queue retries it and then parks it in its dead-letter queue, where an operator
/// sees it.
pub async fn dispatch<M, F, Fut, E>(message: &SqsMessage, handle: &F) -> bool
where
    M: Message,
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: StdError,
{
    let message_id = message.message_id.as_deref().unwrap_or_default();
    match serde_json::from_str::<M>(message.body.as_deref().unwrap_or_default()) {
        Ok(parsed) => {
            let span = parsed.span();
            match handle(parsed).instrument(span.clone()).await {
                Ok(()) => false,
                Err(error) => {
                    span.in_scope(|| tracing::error!(error = %error, cause = ?error.source(), message_id, "message failed; the queue will retry it"));
                    true
                }
            }
        }
        Err(error) => {
            tracing::error!(error = %error, message_id, "message body does not parse");
            true
        }
    }
}
