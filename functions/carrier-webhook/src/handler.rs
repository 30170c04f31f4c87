//! The `carrier-webhook` Lambda: a carrier's signed event in, checked, normalised and queued
//! for `delivery`; 202 as soon as it is queued, so the carrier never waits on our database.

use chrono::{Duration, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    adapters::carriers::{
        CarrierWebhooks, EventWindows, SIGNATURE_HEADER, SignedRequest, TIMESTAMP_HEADER, Vocabulary, WebhookRefusal,
    },
    adapters::secrets::StoredSecret,
    adapters::sqs::SqsQueue,
    api::Problem,
    config::{ConfigError, Env},
    lambda::http::{failure, header_text, respond},
};

#[derive(Debug, Clone)]
pub struct CarrierWebhook {
    carriers: StoredSecret<CarrierWebhooks>,
    delivery_updates: SqsQueue,
}

impl CarrierWebhook {
    /// `CARRIER_WEBHOOK_SECRET_ID` (the Secrets Manager secret of the signing secrets by
    /// carrier, read on the first request), `WEBHOOK_TOLERANCE_SECONDS`,
    /// `CARRIER_EVENT_MAX_AGE_SECONDS` and `DELIVERY_UPDATES_QUEUE_URL`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let windows = EventWindows {
            tolerance: Duration::seconds(env.parse("WEBHOOK_TOLERANCE_SECONDS")?),
            max_age: Duration::seconds(env.parse("CARRIER_EVENT_MAX_AGE_SECONDS")?),
        };
        let carriers = StoredSecret::new(
            aws_sdk_secretsmanager::Client::new(aws),
            env.get("CARRIER_WEBHOOK_SECRET_ID")?,
            move |text| CarrierWebhooks::from_secret(text, windows),
        );
        let delivery_updates = SqsQueue::new(aws_sdk_sqs::Client::new(aws), env.get("DELIVERY_UPDATES_QUEUE_URL")?);
        Ok(Self { carriers, delivery_updates })
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(match self.receive(&request).await {
            Ok(()) => respond(202, "application/json", r#"{"status":"accepted"}"#.to_owned()),
            Err(problem) => failure(&problem),
        })
    }

    async fn receive(&self, request: &Request) -> Result<(), Problem> {
        let carrier = request.path_parameters_ref().and_then(|params| params.first("carrier")).unwrap_or_default();
        let carrier_signature = match Vocabulary::of(carrier) {
            Some(vocabulary) => header_text(request, vocabulary.signature_header(), "invalid_signature")?,
            None => None,
        };
        let signed = SignedRequest {
            timestamp: header_text(request, TIMESTAMP_HEADER, "invalid_timestamp")?,
            signature: header_text(request, SIGNATURE_HEADER, "invalid_signature")?,
            carrier_signature,
            body: request.body().as_ref(),
        };
        let update = self.check(carrier, signed).await?.map_err(|refusal| {
            Problem::new(refusal.status(), refusal.code(), refusal.to_string()).at(refusal.field())
        })?;
        self.delivery_updates.send_json(&update).await.map_err(|error| {
            tracing::error!(error = %error, "could not queue a carrier event");
            Problem::new(503, "service_unavailable", "the event could not be queued; send it again")
        })?;
        tracing::info!(carrier, carrier_event_id = %update.event_id, status = ?update.status, "carrier event queued");
        Ok(())
    }

    /// The signature checked with the carriers' secrets, and once more with their new values
    /// if it does not match and they have been rotated.
    async fn check(
        &self,
        carrier: &str,
        signed: SignedRequest<'_>,
    ) -> Result<Result<shared::domain::DeliveryUpdate, WebhookRefusal>, Problem> {
        let checked = self
            .carriers
            .check_rotating(
                |carriers| carriers.receive(carrier, signed, Utc::now()),
                |refusal| matches!(refusal, WebhookRefusal::InvalidSignature(_)),
            )
            .await;
        checked.map_err(|error| {
            tracing::error!(error = %error, "the carriers' signing secrets cannot be read");
            Problem::new(503, "service_unavailable", "the event cannot be checked now; send it again")
        })
    }
}
