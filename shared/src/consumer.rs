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

/// Handles each message of the batch in turn. A body that is not an order event fails too: the
/// queue retries it and then parks it in its dead-letter queue, where an operator sees it.
pub async fn consume<F, Fut, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Envelope<Order>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: StdError,
{
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let failed = match parse(&message) {
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
        };
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

fn parse(message: &SqsMessage) -> Result<Envelope<Order>, serde_json::Error> {
    serde_json::from_str(message.body.as_deref().unwrap_or_default())
}
