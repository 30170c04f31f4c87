//! The `notifier` Lambda. Three triggers: order events from the notifications queue (the
//! customer's messages), SES bounces and complaints from the e-mail feedback queue (the
//! suppression list), and a daily schedule (feedback requests after delivery).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::Value;
use shared::{
    adapters::dynamodb::{DynamoStore, SuppressionStore},
    adapters::ses::SesMailer,
    adapters::ses_feedback::mail_feedback,
    adapters::sns_sms::SnsTextMessages,
    adapters::sqs::{SqsQueue, THROTTLED_ATTRIBUTE},
    app::notifier::{Channels, Notifier, NotifyError, SweepReport},
    config::{ConfigError, Env},
    domain::{Envelope, Order},
    lambda::consumer::{consume_by_source, dispatch, dispatch_body},
    notification::Delivery,
    storefront::NotificationPolicy,
};

type LiveNotifier = Notifier<DynamoStore, SuppressionStore, SesMailer, SnsTextMessages, SqsQueue>;

#[derive(Debug, Clone)]
pub struct NotifierHandler {
    notifier: LiveNotifier,
    feedback_queue_arn: String,
}

/// An EventBridge scheduled event: only its time matters.
#[derive(Debug, Deserialize)]
struct ScheduledEvent {
    time: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("neither an SQS batch nor a scheduled event: {0}")]
    UnknownTrigger(#[source] serde_json::Error),
    #[error("the feedback sweep could not read delivered orders")]
    Sweep(#[source] NotifyError),
    #[error("the feedback sweep failed for {0} orders; tomorrow's sweep covers them")]
    SweepIncomplete(usize),
}

impl NotifierHandler {
    /// The store's tables, `SUPPRESSION_TABLE`, `NOTIFICATION_POLICY`, `SENDER_EMAIL_ADDRESS`,
    /// `SES_CONFIGURATION_SET`, `EMAIL_FEEDBACK_QUEUE_ARN` and `NOTIFICATIONS_QUEUE_URL`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        let policy = NotificationPolicy::from_env(env)?;
        let mail = SesMailer::from_env(aws_sdk_sesv2::Client::new(aws), env)?;
        let sender = mail.sender().clone();
        Ok(Self {
            notifier: Notifier::new(
                DynamoStore::from_env(dynamodb.clone(), env)?,
                SuppressionStore::from_env(dynamodb, env)?,
                Channels { mail, texts: SnsTextMessages::new(aws_sdk_sns::Client::new(aws)), sender },
                SqsQueue::new(aws_sdk_sqs::Client::new(aws), env.get("NOTIFICATIONS_QUEUE_URL")?),
                policy,
            ),
            feedback_queue_arn: env.get("EMAIL_FEEDBACK_QUEUE_ARN")?,
        })
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        let payload = event.payload;
        if payload.get("Records").is_some() {
            let batch: SqsEvent = serde_json::from_value(payload).map_err(HandlerError::UnknownTrigger)?;
            let response: SqsBatchResponse = consume_by_source(
                &batch,
                &self.feedback_queue_arn,
                |message| dispatch_body(message, |body| self.on_mail_feedback(body)),
                |message| {
                    dispatch(message, move |event: Envelope<Order>| async move {
                        self.notifier.on_delivery(&event, delivery(message), Utc::now()).await
                    })
                },
            )
            .await;
            return Ok(serde_json::to_value(response)?);
        }
        let scheduled: ScheduledEvent = serde_json::from_value(payload).map_err(HandlerError::UnknownTrigger)?;
        let report = self.sweep(scheduled.time).await?;
        Ok(serde_json::json!({
            "requested": report.requested, "already_sent": report.already_sent,
            "skipped": report.skipped, "failed": report.failed,
        }))
    }

    /// An SES bounce or complaint: its addresses go on the suppression list. How many.
    async fn on_mail_feedback(&self, body: &str) -> Result<usize, NotifyError> {
        match mail_feedback(body).map_err(NotifyError::MalformedFeedback)? {
            Some(feedback) => self.notifier.on_mail_feedback(&feedback, Utc::now()).await,
            None => Ok(0),
        }
    }

    /// The daily sweep, as of `now`.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<SweepReport, HandlerError> {
        let report = self.notifier.sweep_feedback(now.date_naive(), now).await.map_err(HandlerError::Sweep)?;
        tracing::info!(?report, "feedback sweep");
        if report.failed > 0 {
            // Failing the invocation makes EventBridge retry it; what was sent stays sent.
            return Err(HandlerError::SweepIncomplete(report.failed));
        }
        Ok(report)
    }
}

/// The message as the notifications queue delivered it, with the throttles it has waited out.
fn delivery(message: &SqsMessage) -> Delivery<'_> {
    let throttled = message
        .message_attributes
        .get(THROTTLED_ATTRIBUTE)
        .and_then(|attribute| attribute.string_value.as_deref()?.parse().ok())
        .unwrap_or(0);
    Delivery { body: message.body.as_deref().unwrap_or_default(), throttled }
}
