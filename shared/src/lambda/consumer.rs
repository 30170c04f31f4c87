//! The loop every SQS-triggered function shares: each message to a handler, and only the
//! messages that failed reported back (`ReportBatchItemFailures`), so one bad message never
//! makes its batch's good ones run again.

use std::{error::Error as StdError, fmt::Debug, future::Future};

use aws_lambda_events::{
    event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent},
    sqs::SqsMessage,
};
use futures_util::future::Either;
use serde::de::DeserializeOwned;
use tracing::{Instrument, Span};

use crate::domain::{DeliveryUpdate, Envelope, Order, ProviderEvent};
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

impl Message for ProviderEvent {
    fn span(&self) -> Span {
        tracing::info_span!("provider_event", provider_event_id = %self.id, authorization = %self.authorization)
    }
}

/// What became of one message of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Done with: the queue may delete it.
    Done,
    /// Not yet: the queue delivers it again after its visibility timeout, and parks it in its
    /// dead-letter queue after `maxReceiveCount` tries.
    Retry,
}

/// Handles the batch's messages concurrently, so that a batch takes as long as its slowest
/// message rather than their sum (a slow payment provider must not make the batch overrun the
/// function's timeout). Messages of one order may race: every write is conditional, so that is
/// as safe as the queue delivering them out of order.
async fn consume_messages<'m, F, Fut>(event: &'m SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(&'m SqsMessage) -> Fut,
    Fut: Future<Output = Handled>,
{
    let outcomes = futures_util::future::join_all(event.records.iter().map(&handle)).await;
    let mut response = SqsBatchResponse::default();
    for (message, handled) in event.records.iter().zip(outcomes) {
        if handled == Handled::Retry {
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

/// For a function with two queues: messages from the queue `queue_arn` go to `from_queue`, all
/// others to `from_others`.
pub async fn consume_by_source<'m, A, FutA, B, FutB>(
    event: &'m SqsEvent,
    queue_arn: &str,
    from_queue: A,
    from_others: B,
) -> SqsBatchResponse
where
    A: Fn(&'m SqsMessage) -> FutA,
    FutA: Future<Output = Handled>,
    B: Fn(&'m SqsMessage) -> FutB,
    FutB: Future<Output = Handled>,
{
    consume_messages(event, |message| {
        if message.event_source_arn.as_deref() == Some(queue_arn) {
            Either::Left(from_queue(message))
        } else {
            Either::Right(from_others(message))
        }
    })
    .await
}

/// Reads one message and hands it over. A body that does not parse is retried too: the queue
/// then parks it in its dead-letter queue, where an operator sees it.
pub async fn dispatch<M, F, Fut, E>(message: &SqsMessage, handle: F) -> Handled
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
                Ok(()) => Handled::Done,
                Err(error) => {
                    span.in_scope(|| tracing::error!(error = %error, cause = error.source().map(tracing::field::display), message_id, "message failed; the queue will retry it"));
                    Handled::Retry
                }
            }
        }
        Err(error) => {
            tracing::error!(error = %error, message_id, "message body does not parse");
            Handled::Retry
        }
    }
}

/// Hands one message's body over as it came, to a use case that reads it itself (and may park
/// it verbatim in a dead-letter queue); what the use case did is logged.
pub async fn dispatch_body<'m, F, Fut, T, E>(message: &'m SqsMessage, handle: F) -> Handled
where
    F: Fn(&'m str) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    T: Debug,
    E: StdError,
{
    let message_id = message.message_id.as_deref().unwrap_or_default();
    match handle(message.body.as_deref().unwrap_or_default()).await {
        Ok(outcome) => {
            tracing::info!(?outcome, message_id, "message handled");
            Handled::Done
        }
        Err(error) => {
            tracing::warn!(error = %error, cause = error.source().map(tracing::field::display), message_id, "message not handled yet; the queue will retry it");
            Handled::Retry
        }
    }
}
