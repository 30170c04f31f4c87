//! SES v2 as the e-mail channel. Messages go as raw MIME (HTML and plain text), through the
//! configuration set whose bounce and complaint events feed the suppression list.

use aws_sdk_sesv2::{
    Client,
    primitives::Blob,
    types::{Destination, EmailContent, RawMessage},
};

use aws_sdk_sesv2::{config::retry::RetryConfig, error::ProvideErrorMetadata};

use super::messages::hand_over;

use crate::{
    config::{ConfigError, Env},
    domain::EmailAddress,
    notification::{ChannelError, Mailer},
};

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    sender: EmailAddress,
    configuration_set: String,
}

impl SesMailer {
    /// `SENDER_EMAIL_ADDRESS` (the verified identity) and `SES_CONFIGURATION_SET`. The client's
    /// own retries are turned off: see [`hand_over`].
    pub fn from_env(client: Client, env: &Env) -> Result<Self, ConfigError> {
        let client = Client::from_conf(client.config().to_builder().retry_config(RetryConfig::disabled()).build());
        let name = "SENDER_EMAIL_ADDRESS";
        let sender = EmailAddress::parse(&env.get(name)?)
            .map_err(|error| ConfigError::Malformed { name, source: Box::new(error) })?;
        Ok(Self { client, sender, configuration_set: env.get("SES_CONFIGURATION_SET")? })
    }

    pub fn sender(&self) -> &EmailAddress {
        &self.sender
    }
}

fn failed<E: ProvideErrorMetadata + std::error::Error>(error: E) -> ChannelError {
    ChannelError::from_provider("email", error.code(), &error)
}

impl Mailer for SesMailer {
    async fn send(&self, to: &EmailAddress, mime: Vec<u8>) -> Result<String, ChannelError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mime))
            .build()
            .map_err(|error| ChannelError::unbuildable("email", &error))?;
        let send = || {
            self.client
                .send_email()
                .from_email_address(self.sender.as_str())
                .destination(Destination::builder().to_addresses(to.as_str()).build())
                .content(EmailContent::builder().raw(raw.clone()).build())
                .configuration_set_name(&self.configuration_set)
                .send()
        };
        hand_over(send, failed, |output| output.message_id).await
    }
}
