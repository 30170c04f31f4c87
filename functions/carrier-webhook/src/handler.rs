//! The `carrier-webhook` Lambda: a carrier's signed event in, checked, normalised and queued
//! for `delivery`; 202 as soon as it is queued, so the carrier never waits on our database.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    adapters::carriers::{CarrierWebhooks, SIGNATURE_HEADER, SignedRequest, TIMESTAMP_HEADER},
    adapters::sqs::SqsQueue,
    api::Problem,
    config::{ConfigError, Env},
    lambda::http::{failure, header_text, respond},
};

#[derive(Debug, Clone)]
pub struct CarrierWebhook {
    carriers: CarrierWebhooks,
    delivery_updates: SqsQueue,
}

impl CarrierWebhook {
    /// `CARRIER_WEBHOOK_SECRETS` (JSON: secret by carrier), `WEBHOOK_TOLERANCE_SECONDS` and
    /// `DELIVERY_UPDATES_QUEUE_URL`.
    pub fn from_env(client: aws_sdk_sqs::Client, env: &Env) -> Result<Self, ConfigError> {
        let secrets: BTreeMap<String, String> = env.json("CARRIER_WEBHOOK_SECRETS")?;
        let tolerance = Duration::seconds(env.parse("WEBHOOK_TOLERANCE_SECONDS")?);
        let carriers = CarrierWebhooks::new(secrets, tolerance)
            .map_err(|error| ConfigError::Malformed { name: "CARRIER_WEBHOOK_SECRETS", source: Box::new(error) })?;
        Ok(Self { carriers, delivery_updates: SqsQueue::new(client, env.get("DELIVERY_UPDATES_QUEUE_URL")?) })
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(match self.receive(&request).await {
            Ok(()) => respond(202, "application/json", r#"{"status":"accepted"}"#.to_owned()),
            Err(problem) => failure(&problem),
        })
    }

    async fn receive(&self, request: &Request) -> Result<(), Problem> {
        let carrier = request.path_parameters_ref().and_then(|params| params.first("carrier")).unwrap_or_default();
        let signed = SignedRequest {
            timestamp: header_text(request, TIMESTAMP_HEADER)?,
            signature: header_text(request, SIGNATURE_HEADER)?,
            body: request.body().as_ref(),
        };
        let update = self.carriers.receive(carrier, signed, Utc::now()).map_err(|refusal| {
            let problem = Problem::new(refusal.status(), refusal.code(), refusal.to_string());
            match refusal.status() {
                401 => problem.at(SIGNATURE_HEADER),
                404 => problem.at("carrier"),
                _ => problem.at("/"),
            }
        })?;
        self.delivery_updates.send_json(&update).await.map_err(|error| {
            tracing::error!(error = %error, "could not queue a carrier event");
            Problem::new(503, "service_unavailable", "the event could not be queued; send it again")
        })?;
        tracing::info!(carrier, carrier_event_id = %update.event_id, status = ?update.status, "carrier event queued");
        Ok(())
    }
}
