//! The `payment-webhook` Lambda: the payment provider's signed event in, checked, read and, if
//! it is news for an order (a dispute, an ended authorisation, a failed refund), queued for
//! `payment`; 200 as soon as it is queued or known to need nothing, so Stripe never waits on
//! our database and never retries what we acknowledged.

use chrono::{Duration, Utc};
use lambda_http::{Body, Request, Response};
use shared::{
    adapters::secrets::StoredSecret,
    adapters::sqs::SqsQueue,
    adapters::stripe_webhooks::{Received, SIGNATURE_HEADER, StripeRefusal, StripeWebhooks},
    api::Problem,
    config::{ConfigError, Env},
    lambda::http::{failure, header_text, respond},
};

#[derive(Debug, Clone)]
pub struct PaymentWebhook {
    secrets: StoredSecret<StripeWebhooks>,
    provider_events: SqsQueue,
}

impl PaymentWebhook {
    /// `PAYMENT_WEBHOOK_SECRET_ID` (the Secrets Manager secret of the endpoint's signing
    /// secrets, read on the first request), `WEBHOOK_TOLERANCE_SECONDS` and
    /// `PROVIDER_EVENTS_QUEUE_URL`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let tolerance = Duration::seconds(env.parse("WEBHOOK_TOLERANCE_SECONDS")?);
        let secrets = StoredSecret::new(
            aws_sdk_secretsmanager::Client::new(aws),
            env.get("PAYMENT_WEBHOOK_SECRET_ID")?,
            move |text| StripeWebhooks::from_secret(text, tolerance),
        );
        let provider_events = SqsQueue::new(aws_sdk_sqs::Client::new(aws), env.get("PROVIDER_EVENTS_QUEUE_URL")?);
        Ok(Self { secrets, provider_events })
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(match self.receive(&request).await {
            Ok(status) => respond(200, "application/json", format!(r#"{{"status":"{status}"}}"#)),
            Err(problem) => failure(&problem),
        })
    }

    async fn receive(&self, request: &Request) -> Result<&'static str, Problem> {
        let signature = header_text(request, SIGNATURE_HEADER, "invalid_signature")?;
        let received = self.check(signature, request.body().as_ref()).await?.map_err(|refusal| {
            Problem::new(refusal.status(), refusal.code(), refusal.to_string()).at(refusal.field())
        })?;
        let event = match received {
            Received::News(event) => event,
            Received::Ignored(event_type) => {
                tracing::info!(event_type, "provider event acknowledged, nothing to do");
                return Ok("ignored");
            }
        };
        self.provider_events.send_json(&event).await.map_err(|error| {
            tracing::error!(error = %error, "could not queue a provider event");
            Problem::new(503, "service_unavailable", "the event could not be queued; send it again")
        })?;
        tracing::info!(provider_event_id = %event.id, authorization = %event.authorization, "provider event queued");
        Ok("accepted")
    }

    /// The signature checked with the endpoint's secrets, and once more with their new values
    /// if it does not match and they have been rolled.
    async fn check(&self, signature: Option<&str>, body: &[u8]) -> Result<Result<Received, StripeRefusal>, Problem> {
        let checked = self
            .secrets
            .check_rotating(
                |secrets| secrets.receive(signature, body, Utc::now()),
                |refusal| *refusal == StripeRefusal::InvalidSignature,
            )
            .await;
        checked.map_err(|error| {
            tracing::error!(error = %error, "the payment webhook's signing secrets cannot be read");
            Problem::new(503, "service_unavailable", "the event cannot be checked now; send it again")
        })
    }
}
