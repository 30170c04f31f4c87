//! The `stream-router` Lambda: the Orders table's stream is the outbox, and each new version of
//! an order head becomes one event on the `order-events` topic.

use aws_lambda_events::{
    dynamodb::Event,
    streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse},
};
use lambda_runtime::LambdaEvent;
use shared::{adapters::dynamodb::published_version, adapters::sns_events::EventPublisher, metrics};

#[derive(Debug, Clone)]
pub struct StreamRouter {
    publisher: EventPublisher,
}

impl StreamRouter {
    pub fn new(publisher: EventPublisher) -> Self {
        Self { publisher }
    }

    /// Publishes the batch's events in stream order, and on the first failure reports that
    /// record's sequence number: Lambda retries from there, so nothing is skipped and order is
    /// kept. Records after it that were published will be published again, with the same id.
    pub async fn handle(&self, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
        let mut publishable = Vec::new();
        let mut failed_at = None;
        for (index, record) in event.payload.records.iter().enumerate() {
            let change = &record.change;
            match published_version(record.event_name == "REMOVE", &change.keys, &change.new_image, &change.old_image) {
                Ok(Some(order)) => publishable.push((index, order)),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(error = %error, cause = std::error::Error::source(&error).map(tracing::field::display), event_id = record.event_id, "unreadable order image");
                    failed_at = Some(index);
                    break;
                }
            }
        }
        let envelopes: Vec<_> = publishable.iter().map(|(_, order)| order.envelope()).collect();
        let published = match self.publisher.publish(&envelopes).await {
            Ok(count) => count,
            Err((accepted, error)) => {
                tracing::error!(error = %error, cause = std::error::Error::source(&error).map(tracing::field::display), "publishing order events failed");
                failed_at = publishable.get(accepted).map(|(index, _)| *index).or(failed_at);
                accepted
            }
        };
        for envelope in &envelopes[..published] {
            tracing::info!(event_id = %envelope.id, event_type = %envelope.event_type, "event published");
            // A failed batch is retried from its first unpublished record, so the funnel counts
            // each order's step once, unless Lambda itself delivers the batch again.
            metrics::emit(&metrics::for_order_version(envelope.data));
        }
        let mut response = DynamoDbEventResponse::default();
        if let Some(index) = failed_at {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = event.payload.records[index].change.sequence_number.clone();
            response.batch_item_failures.push(failure);
        }
        Ok(response)
    }
}
