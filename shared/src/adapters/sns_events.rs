//! Publishes order events to the SNS topic in `PublishBatch` calls of at most ten messages and
//! 256 KiB together, SNS's two limits on a batch.

use aws_sdk_sns::{
    Client,
    types::{MessageAttributeValue, PublishBatchRequestEntry},
};

use crate::{
    config::{ConfigError, Env},
    domain::Envelope,
};

/// The SNS message attribute that subscription filter policies match on.
pub(crate) const TYPE_ATTRIBUTE: &str = "type";
/// Messages per `PublishBatch` call.
const BATCH_ENTRIES: usize = 10;
/// Bytes per `PublishBatch` call, all messages and their attributes together; also the most one
/// message may have.
pub(crate) const BATCH_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("an event did not serialise")]
    Serialise(#[from] serde_json::Error),
    #[error("the SNS call could not be built")]
    Build(#[from] aws_sdk_sns::error::BuildError),
    #[error("SNS refused or could not be reached")]
    Sns(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("an event of {0} bytes is larger than SNS takes")]
    TooLarge(usize),
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
        let mut messages = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let message = serde_json::to_string(event).map_err(|error| (index, error.into()))?;
            let type_name = event.event_type.name();
            let bytes = message.len() + TYPE_ATTRIBUTE.len() + "String".len() + type_name.len();
            if bytes > BATCH_BYTES {
                return Err((index, PublishError::TooLarge(bytes)));
            }
            messages.push((message, type_name, bytes));
        }
        let mut accepted = 0;
        for batch in batches(messages.iter().map(|(_, _, bytes)| *bytes)) {
            let entries = messages[batch.clone()]
                .iter()
                .enumerate()
                .map(|(index, (message, type_name, _))| {
                    let attribute = MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(type_name.as_str())
                        .build()?;
                    Ok(PublishBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message(message)
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
                let index = index.min(batch.len());
                return Err((accepted + index, PublishError::Sns(format!("SNS refused an entry: {code}").into())));
            }
            accepted += batch.len();
        }
        Ok(accepted)
    }
}

/// Consecutive runs of messages, by their sizes in bytes, that each fit one `PublishBatch`
/// call: at most ten, at most [`BATCH_BYTES`] together. Every size is at most `BATCH_BYTES`.
fn batches(sizes: impl IntoIterator<Item = usize>) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    let mut bytes = 0;
    for (index, size) in sizes.into_iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.len() < BATCH_ENTRIES && bytes + size <= BATCH_BYTES => {
                run.end = index + 1;
                bytes += size;
            }
            _ => {
                runs.push(index..index + 1);
                bytes = size;
            }
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_at_most_ten_messages_and_256_kib() {
        assert_eq!(batches([100; 23]), [0..10, 10..20, 20..23]);
        // Seven 40 KB orders: six fit in 256 KiB, the seventh starts the next call.
        assert_eq!(batches([40_000; 7]), [0..6, 6..7]);
        assert_eq!(batches([BATCH_BYTES, 1, BATCH_BYTES - 1, 1]), [0..1, 1..3, 3..4]);
        assert!(batches([]).is_empty());
    }
}
