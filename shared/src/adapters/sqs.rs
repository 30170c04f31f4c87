//! SQS as an outbox to other systems: the warehouse's pick requests, the delivery updates the
//! carrier webhook queues, and messages parked in a dead-letter queue with the reason why.

use std::time::Duration;

use aws_sdk_sqs::{Client, types::MessageAttributeValue};

use crate::{
    domain::{DeadLetterUnavailable, DeadLetters, Warehouse, WarehouseInstruction, WarehouseUnavailable},
    notification::{LONGEST_DELAY, PutBackFailed, Redelivery},
};

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

    /// The same, delivered after `delay` (SQS holds it up to 15 minutes: [`LONGEST_DELAY`]).
    pub(crate) async fn send_after(
        &self,
        body: &str,
        attributes: &[(&str, &str)],
        delay: Duration,
    ) -> Result<(), QueueError> {
        let delay_seconds = i32::try_from(delay.as_secs().min(LONGEST_DELAY.as_secs())).unwrap_or(0);
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

/// How many times a message was put back because its provider throttled us.
pub const THROTTLED_ATTRIBUTE: &str = "throttled_attempts";

/// The notifications queue: a message comes again after its delay, saying how often it was
/// throttled (no attribute before the first throttle).
impl Redelivery for SqsQueue {
    async fn put_back(&self, body: &str, delay: Duration, throttled: u32) -> Result<(), PutBackFailed> {
        let count = throttled.to_string();
        let attributes: &[(&str, &str)] = if throttled == 0 { &[] } else { &[(THROTTLED_ATTRIBUTE, &count)] };
        self.send_after(body, attributes, delay).await.map_err(|error| PutBackFailed(Box::new(error)))
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
