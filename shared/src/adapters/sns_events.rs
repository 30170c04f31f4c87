//! Publishes order events to the SNS topic, ten to a `PublishBatch` call.

use aws_sdk_sns::{
    Client,
    types::{MessageAttributeValue, PublishBatchRequestEntry},
};

use crate::{
    config::{ConfigError, Env},
    domain::Envelope,
};

/// The SNS message attribute that subscription filter policies match on.
pub const TYPE_ATTRIBUTE: &str = "type";
const BATCH_LIMIT: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("an event did not serialise")]
    Serialise(#[from] serde_json::Error),
    #[error("the SNS call could not be built")]
    Build(#[from] aws_sdk_sns::error::BuildError),
    #[error("SNS refused or could not be reached")]
    Sns(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The `order-events` topic.
#[derive(Debug, Clone)]
pub struct EventPublisher {
    client: Client,
    topic_arn: String,
}

impl EventPublisher {
    pub fn new(client: Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }

    /// The topic named by `ORDER_EVENTS_TOPIC_ARN`.
    pub fn from_env(client: Client, env: &Env) -> Result<Self, ConfigError> {
        Ok(Self::new(client, env.get("ORDER_EVENTS_TOPIC_ARN")?))
    }

    /// Publishes the events in order. Returns how many of them, from the front, were accepted:
    /// the caller retries from the first one that was not, so order is kept per shard.
    pub async fn publish<T: serde::Serialize>(&self, events: &[Envelope<T>]) -> Result<usize, (usize, PublishError)> {
        let mut accepted = 0;
        for batch in events.chunks(BATCH_LIMIT) {
            let entries = batch
                .iter()
                .enumerate()
                .map(|(index, event)| {
                    let attribute = MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(event.event_type.name())
                        .build()?;
                    Ok(PublishBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message(serde_json::to_string(event)?)
                        .message_attributes(TYPE_ATTRIBUTE, attribute)
                        .build()?)
                })
                .collect::<Result<Vec<_>, PublishError>>()
                .map_err(|error| (accepted, error))?;
            let output = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
                .map_err(|error| (accepted, PublishError::Sns(Box::new(error))))?;
            let first_failed = output
                .failed
                .unwrap_or_default()
                .into_iter()
                .filter_map(|failure| failure.id.parse::<usize>().ok().map(|index| (index, failure.code)))
                .min_by_key(|(index, _)| *index);
            if let Some((index, code)) = first_failed {
                return Err((accepted + index, PublishError::Sns(format!("SNS refused an entry: {code}").into())));
            }
            accepted += batch.len();
        }
        Ok(accepted)
    }
}
