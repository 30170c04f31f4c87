//! SNS as the text-message channel: transactional SMS straight to a phone number, after
//! asking SNS whether the number opted out (replied STOP).

use aws_sdk_sns::{Client, types::MessageAttributeValue};

use aws_sdk_sns::{config::retry::RetryConfig, error::ProvideErrorMetadata};

use super::messages::hand_over;

use crate::{
    domain::PhoneNumber,
    notification::{ChannelError, TextMessages},
};

#[derive(Debug, Clone)]
pub struct SnsTextMessages {
    client: Client,
}

impl SnsTextMessages {
    /// The client's own retries are turned off: see [`hand_over`].
    pub fn new(client: Client) -> Self {
        Self { client: Client::from_conf(client.config().to_builder().retry_config(RetryConfig::disabled()).build()) }
    }
}

fn failed<E: ProvideErrorMetadata + std::error::Error>(error: E) -> ChannelError {
    ChannelError::from_provider("sms", error.code(), &error)
}

impl TextMessages for SnsTextMessages {
    async fn opted_out(&self, phone: &PhoneNumber) -> Result<bool, ChannelError> {
        let output = self
            .client
            .check_if_phone_number_is_opted_out()
            .phone_number(phone.as_str())
            .send()
            .await
            .map_err(failed)?;
        Ok(output.is_opted_out)
    }

    async fn send(&self, phone: &PhoneNumber, text: &str) -> Result<String, ChannelError> {
        // Transactional: delivered with priority, also to numbers on do-not-disturb lists.
        let sms_type = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|error| ChannelError::unbuildable("sms", &error))?;
        let send = || {
            self.client
                .publish()
                .phone_number(phone.as_str())
                .message(text)
                .message_attributes("AWS.SNS.SMS.SMSType", sms_type.clone())
                .send()
        };
        hand_over(send, failed, |output| output.message_id).await
    }
}
