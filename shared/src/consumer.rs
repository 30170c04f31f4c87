//! The loop every SQS-triggered function shares: each message's order event to a handler, and
//! only the messages that failed reported back (`ReportBatchItemFailures`), so one bad message
//! never makes its batch's good ones run again.

use std::{error::Error as StdError, future::Future};

use aws_lambda_events::{
    event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent},
    sqs::SqsMessage,
};
use tracing::Instrument;

use crate::domain::{Envelope, Order};

/// Handles the batch's messages concurrently, so that a batch takes as long as its slowest
/// message rather than their sum (a slow payment provider must not make the batch overrun the
/// function's timeout). Events of one order may race: every write is conditional, so that is
/// as safe as the queue delivering them out of order. A body that is not an order event fails
/// too: the queue retries it and then parks it in its dead-letter queue, where an operator
/// sees it.
pub async fn consume<F, Fut, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Envelope<Order>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: StdError,
{
    let outcomes =
        futures_util::future::join_all(event.records.iter().map(|message| handle_one(message, &handle))).await;
    let mut response = SqsBatchResponse::default();
    for (message, failed) in event.records.iter().zip(outcomes) {
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Whether the message failed.
async fn handle_one<F, Fut, E>(message: &SqsMessage, handle: &F) -> bool
where
    F: Fn(Envelope<Order>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: StdError,
{
    let message_id = message.message_id.as_deref().unwrap_or_default();
    match parse(message) {
        Ok(envelope) => {
            let span = tracing::info_span!(
                "event",
                event_id = %envelope.id,
                event_type = %envelope.event_type,
                order_id = %envelope.order_id,
            );
            match handle(envelope).instrument(span.clone()).await {
                Ok(()) => false,
                Err(error) => {
                    span.in_scope(|| tracing::error!(error = %error, cause = ?error.source(), message_id, "event failed; the queue will retry it"));
                    true
                }
            }
        }
        Err(error) => {
            tracing::error!(error = %error, message_id, "message is not an order event");
            true
        }
    }
}

fn parse(message: &SqsMessage) -> Result<Envelope<Order>, serde_json::Error> {
    serde_json::from_str(message.body.as_deref().unwrap_or_default())
}
