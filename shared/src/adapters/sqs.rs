//! SQS as an outbox to other systems: the warehouse's pick requests, the delivery updates the
//! carrier webhook queues, and messages parked in a dead-letter queue with the reason why.

use std::time::Duration;

use aws_sdk_sqs::{Client, types::MessageAttributeValue};

use crate::domain::{DeadLetterUnavailable, DeadLetters, Warehouse, WarehouseInstruction, WarehouseUnavailable};

/// The attribute that says why a message was dead-lettered by our code rather than by the
/// queue's redrive policy, and a person-readable detail.
pub const ERROR_CODE_ATTRIBUTE: &str = "error_code";
pub const ERROR_DETAIL_ATTRIBUTE: &str = "error_detail";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the message does not serialise")]
    Serialise(#[from] serde_json::Error),
    #[error("SQS refused the message")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One queue, by URL.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    pub async fn send_json(&self, message: &impl serde::Serialize) -> Result<(), QueueError> {
        self.send(&serde_json::to_string(message)?, &[]).await
    }

    /// Sends a body with string attributes.
    pub async fn send(&self, body: &str, attributes: &[(&str, &str)]) -> Result<(), QueueError> {
        self.send_after(body, attributes, Duration::ZERO).await
    }

    /// The same, delivered after `delay` (SQS holds it up to 15 minutes).
    pub async fn send_after(&self, body: &str, attributes: &[(&str, &str)], delay: Duration) -> Result<(), QueueError> {
        let delay_seconds = i32::try_from(delay.as_secs().min(MAX_DELAY.as_secs())).unwrap_or(0);
        let mut request =
            self.client.send_message().queue_url(&self.url).message_body(body).delay_seconds(delay_seconds);
        for (name, value) in attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .map_err(|error| QueueError::Send(Box::new(error)))?;
            request = request.message_attributes(*name, value);
        }
        request.send().await.map(|_| ()).map_err(|error| QueueError::Send(Box::new(error)))
    }
}

/// The longest SQS holds a message back.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// How many times a message was put back because its provider throttled us.
pub const THROTTLED_ATTRIBUTE: &str = "throttled_attempts";

/// How long a message waits after its provider throttled it for the `attempts`th time: 2 s,
/// doubling up to SQS's 15 minutes, for 12 attempts (about an hour and a half); after that it
/// takes the queue's ordinary retries, and its dead-letter queue.
pub fn throttle_backoff(attempts: u32) -> Option<Duration> {
    (attempts < 12).then(|| Duration::from_secs(2u64.saturating_pow(attempts + 1)).min(MAX_DELAY))
}

impl SqsQueue {
    /// Puts a message a throttled provider refused (`attempts` times before) back on this queue
    /// after a backoff, so that a long throttle spends none of the deliveries the queue allows
    /// before its dead-letter queue; false when it has waited long enough (the caller lets the
    /// queue retry it).
    pub async fn put_back_throttled(&self, body: &str, attempts: u32) -> Result<bool, QueueError> {
        let Some(delay) = throttle_backoff(attempts) else { return Ok(false) };
        let attempts = (attempts + 1).to_string();
        self.send_after(body, &[(THROTTLED_ATTRIBUTE, &attempts)], delay).await.map(|()| true)
    }
}

/// This (dead-letter) queue takes a message that can never succeed, with why in its attributes.
impl DeadLetters for SqsQueue {
    async fn park(&self, body: &str, code: &str, detail: &str) -> Result<(), DeadLetterUnavailable> {
        self.send(body, &[(ERROR_CODE_ATTRIBUTE, code), (ERROR_DETAIL_ATTRIBUTE, detail)])
            .await
            .map_err(|error| DeadLetterUnavailable(Box::new(error)))
    }
}

impl Warehouse for SqsQueue {
    async fn instruct(&self, instruction: &WarehouseInstruction) -> Result<(), WarehouseUnavailable> {
        self.send_json(instruction).await.map_err(|error| WarehouseUnavailable(Box::new(error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_message_waits_longer_each_time_then_takes_the_queues_retries() {
        let waits: Vec<u64> = (0..14).map_while(throttle_backoff).map(|wait| wait.as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert!(waits.iter().sum::<u64>() > 3600, "an hour's throttle costs no delivery");
    }
}
