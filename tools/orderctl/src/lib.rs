//! `orderctl`: what an operator does when an alarm fires, against AWS or the local cloud alike.
//! It reads the stack's resources from a JSON file of logical id → physical id (`Ref`): the
//! local runner writes `.orderflow/resources.json`; for a deployed stack,
//! `aws cloudformation describe-stack-resources` gives the same pairs.

pub mod text;

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::Value;
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::sns_events::EventPublisher,
    adapters::sqs::{ERROR_CODE_ATTRIBUTE, ERROR_DETAIL_ATTRIBUTE},
    config::Env,
    domain::{OrderId, OrderRepository},
    evidence::{DisputeEvidence, message_keys},
};

/// The stack as `orderctl` needs it: physical ids by logical id, and where to reach it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Resources {
    /// The local cloud's endpoint; absent for AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The local cloud's region; absent for AWS, whose region comes from the usual places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The HTTP API's base URL, for the operators' routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The payment provider's API (`https://api.stripe.com`; localstripe locally), for answering
    /// disputes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_provider_url: Option<String>,
    pub resources: BTreeMap<String, String>,
}

impl Resources {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a resources file", path.display()))
    }

    pub fn get(&self, logical_id: &str) -> anyhow::Result<&str> {
        self.resources.get(logical_id).map(String::as_str).with_context(|| format!("the stack has no {logical_id}"))
    }
}

/// The clients and names one command needs.
#[derive(Debug, Clone)]
pub struct Orderctl {
    pub resources: Resources,
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
}

/// One dead-lettered message as an operator needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub receive_count: Option<u32>,
    /// Why our code parked it, if it did; a message the queue's redrive moved has none.
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub order_id: Option<String>,
    pub event_type: Option<String>,
    pub body: String,
}

impl Orderctl {
    pub fn new(sdk: &aws_config::SdkConfig, resources: Resources) -> anyhow::Result<Self> {
        let tables = Env::Map(BTreeMap::from([
            ("ORDERS_TABLE".to_owned(), resources.get("OrdersTable")?.to_owned()),
            ("INVENTORY_TABLE".to_owned(), resources.get("InventoryTable")?.to_owned()),
            ("IDEMPOTENCY_TABLE".to_owned(), resources.get("IdempotencyTable")?.to_owned()),
        ]));
        Ok(Self {
            store: DynamoStore::from_env(aws_sdk_dynamodb::Client::new(sdk), &tables)?,
            sqs: aws_sdk_sqs::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            resources,
        })
    }

    /// The order as the operator the token names sees it, through the operators' route: every
    /// reason, who did each step, the desk's claims and calls. Another shop's order is not found.
    pub async fn order(&self, raw_id: &str, token: &str) -> anyhow::Result<Value> {
        self.api_get(&format!("/orders/{}/review", order_path(raw_id)?), &[], token).await
    }

    /// `GET /orders`: the operator's storefronts' orders matching `filters` (the route's query
    /// parameters: status, email, phone, tracking_number, storefront, from, before, sort, limit,
    /// cursor), one page.
    pub async fn search(&self, filters: &[(&str, String)], token: &str) -> anyhow::Result<Value> {
        self.api_get("/orders", filters, token).await
    }

    /// `GET /review-queue`: held orders oldest first, with their wait against the SLA.
    pub async fn queue(&self, filters: &[(&str, String)], token: &str) -> anyhow::Result<Value> {
        self.api_get("/review-queue", filters, token).await
    }

    /// `GET /customer-history`: one customer's orders by `email` or `phone`.
    pub async fn history(&self, filters: &[(&str, String)], token: &str) -> anyhow::Result<Value> {
        self.api_get("/customer-history", filters, token).await
    }

    /// Claims a held order for the operator the token names.
    pub async fn claim(&self, raw_id: &str, token: &str) -> anyhow::Result<Value> {
        self.api_post(&format!("/orders/{}/claim", order_path(raw_id)?), None, None, token).await
    }

    /// Records what came of calling the customer about a held order (under the operator's claim).
    pub async fn outcome(
        &self,
        raw_id: &str,
        outcome: &str,
        retry_at: Option<&str>,
        note: Option<&str>,
        token: &str,
    ) -> anyhow::Result<Value> {
        let mut body = serde_json::Map::from_iter([("outcome".to_owned(), Value::from(outcome))]);
        body.extend(retry_at.map(|retry_at| ("retry_at".to_owned(), Value::from(retry_at))));
        body.extend(note.map(|note| ("note".to_owned(), Value::from(note))));
        let body = Value::Object(body);
        self.api_post(&format!("/orders/{}/contact-outcomes", order_path(raw_id)?), Some(body), None, token).await
    }

    fn api_url(&self) -> anyhow::Result<&str> {
        self.resources.api_url.as_deref().context("the resources file names no api_url")
    }

    async fn api_get(&self, path: &str, query: &[(&str, String)], token: &str) -> anyhow::Result<Value> {
        let mut url = format!("{}{path}", self.api_url()?);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&serde_urlencoded::to_string(query)?);
        }
        let request = hyper::Request::get(url)
            .header("Authorization", format!("Bearer {}", token.trim()))
            .body(Full::new(Bytes::new()))?;
        send(request).await
    }

    async fn api_post(
        &self,
        path: &str,
        body: Option<Value>,
        version: Option<&Value>,
        token: &str,
    ) -> anyhow::Result<Value> {
        let mut request = hyper::Request::post(format!("{}{path}", self.api_url()?))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {}", token.trim()));
        if let Some(version) = version {
            request = request.header("If-Match", format!("\"{version}\""));
        }
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        send(request.body(Full::new(Bytes::from(body)))?).await
    }

    /// What a dispute about the order needs: the order, the charge, the parcels and their scans,
    /// the messages the customer was sent (from the notification ledger) and the refunds.
    pub async fn dispute(&self, raw_id: &str) -> anyhow::Result<DisputeEvidence> {
        let id = OrderId::parse(raw_id).map_err(|invalid| anyhow::anyhow!("{raw_id}: {}", invalid.reason))?;
        let record = self.store.get(&id).await?.with_context(|| format!("no order {id}"))?;
        let found = self.store.ledger_entries(&message_keys(&record)).await?;
        Ok(DisputeEvidence::gather(&record, &found))
    }

    /// Submits the evidence to the provider for the order's dispute that awaits a response,
    /// with the provider's secret key `key`. The dispute as the provider then holds it.
    pub async fn answer_dispute(&self, raw_id: &str, key: &str) -> anyhow::Result<Value> {
        let provider = self
            .resources
            .payment_provider_url
            .as_deref()
            .context("the resources file names no payment_provider_url")?;
        let evidence = self.dispute(raw_id).await?;
        let open = evidence
            .disputes
            .iter()
            .filter(|dispute| dispute.status.needs_response())
            .max_by_key(|dispute| dispute.as_of)
            .with_context(|| format!("order {raw_id} has no dispute awaiting evidence"))?;
        let mut form = evidence.provider_form();
        form.push(("submit".to_owned(), "true".to_owned()));
        let request = hyper::Request::post(format!("{provider}/v1/disputes/{}", open.id))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", format!("Bearer {}", key.trim()))
            .body(Full::new(Bytes::from(serde_urlencoded::to_string(&form)?)))?;
        send(request).await
    }

    /// Up to `limit` messages of a dead-letter queue, left where they are: each is hidden while
    /// the listing runs (so it is seen once) and visible again after.
    pub async fn dead_letters(&self, queue: &str, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        let url = self.resources.get(queue)?;
        let mut seen: Vec<DeadLetter> = Vec::new();
        let mut handles = Vec::new();
        while seen.len() < limit {
            let output = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await?;
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                handles.extend(message.receipt_handle().map(str::to_owned));
                let letter = describe(&message);
                if !seen.iter().any(|known| known.message_id == letter.message_id) {
                    seen.push(letter);
                }
            }
        }
        for handle in handles {
            self.sqs
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await?;
        }
        seen.truncate(limit);
        Ok(seen)
    }

    /// Moves every message of a dead-letter queue back to the queue whose redrive policy sends
    /// them there: SQS's own move task on AWS, and on the local cloud (which lacks it) received,
    /// sent back and deleted one by one. How many were moved (`None` when SQS moves them in the
    /// background).
    pub async fn redrive(&self, dead_letter_queue: &str) -> anyhow::Result<Option<usize>> {
        let dlq_url = self.resources.get(dead_letter_queue)?;
        let dlq_arn = self.queue_arn(dlq_url).await?;
        let source = self.source_of(&dlq_arn).await?;
        if self.resources.endpoint.is_none() {
            self.sqs
                .start_message_move_task()
                .source_arn(&dlq_arn)
                .destination_arn(self.queue_arn(&source).await?)
                .send()
                .await?;
            return Ok(None);
        }
        // The local cloud has no move tasks: move them one by one.
        let mut moved = 0;
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .message_attribute_names("All")
                .send()
                .await?;
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(Some(moved));
            }
            for message in messages {
                // The error attributes say why it was parked; back on its queue they would only mislead.
                let attributes = message
                    .message_attributes
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(name, _)| name != ERROR_CODE_ATTRIBUTE && name != ERROR_DETAIL_ATTRIBUTE);
                self.sqs
                    .send_message()
                    .queue_url(&source)
                    .message_body(message.body().unwrap_or_default())
                    .set_message_attributes(Some(attributes.collect()))
                    .send()
                    .await?;
                if let Some(handle) = message.receipt_handle() {
                    self.sqs.delete_message().queue_url(dlq_url).receipt_handle(handle).send().await?;
                }
                moved += 1;
            }
        }
    }

    /// Publishes the order's current event again, as the stream router did: every consumer
    /// knows it by its id, so those that handled it drop it and those that did not act on it.
    pub async fn replay(&self, raw_id: &str) -> anyhow::Result<String> {
        let id = OrderId::parse(raw_id).map_err(|invalid| anyhow::anyhow!("{raw_id}: {}", invalid.reason))?;
        let order = self.store.head(&id).await?.with_context(|| format!("no order {id}"))?;
        let publisher = EventPublisher::new(self.sns.clone(), self.resources.get("OrderEventsTopic")?.to_owned());
        publisher.publish(&[order.envelope()]).await.map_err(|(_, error)| error)?;
        Ok(format!("{} {}", order.event_id(), order.last_event()))
    }

    /// Approves or denies a held order through the operators' route, as the operator the
    /// token names: the decision is recorded with who took it. The order as operators see it.
    pub async fn review(&self, raw_id: &str, decision: &str, note: Option<&str>, token: &str) -> anyhow::Result<Value> {
        let body = serde_json::json!({"decision": decision, "note": note});
        self.api_post(&format!("/orders/{}/review", order_path(raw_id)?), Some(body), None, token).await
    }

    /// Tells the order's customer, through the operators' route, what went wrong and what was
    /// done about it, as the operator the token names: recorded once at the version read here
    /// (a second run finds the order moved on). The order as operators see it.
    pub async fn apologise(
        &self,
        raw_id: &str,
        remedy: &str,
        what_went_wrong: &str,
        token: &str,
    ) -> anyhow::Result<Value> {
        let order = self.order(raw_id, token).await?;
        let body = serde_json::json!({"remedy": remedy, "what_went_wrong": what_went_wrong});
        let path = format!("/orders/{}/apology", order_path(raw_id)?);
        self.api_post(&path, Some(body), Some(&order["version"]), token).await
    }

    async fn queue_arn(&self, url: &str) -> anyhow::Result<String> {
        let attributes =
            self.sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send().await?;
        attributes
            .attributes()
            .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn))
            .cloned()
            .with_context(|| format!("{url} has no ARN"))
    }

    /// The stack's queue whose redrive policy names this dead-letter queue.
    async fn source_of(&self, dead_letter_arn: &str) -> anyhow::Result<String> {
        for url in self.resources.resources.values().filter(|value| value.contains("://")) {
            let attributes = self
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await?;
            let policy =
                attributes.attributes().and_then(|attributes| attributes.get(&QueueAttributeName::RedrivePolicy));
            let target = policy
                .and_then(|policy| serde_json::from_str::<Value>(policy).ok())
                .and_then(|policy| policy["deadLetterTargetArn"].as_str().map(str::to_owned));
            if target.as_deref() == Some(dead_letter_arn) {
                return Ok(url.clone());
            }
        }
        bail!("no queue of the stack sends its dead letters to {dead_letter_arn}")
    }
}

/// The order id as it goes into a path: checked, so nothing but an id reaches the URL.
fn order_path(raw_id: &str) -> anyhow::Result<OrderId> {
    OrderId::parse(raw_id).map_err(|invalid| anyhow::anyhow!("{raw_id}: {}", invalid.reason))
}

/// Sends a request over HTTPS (or HTTP, locally); the JSON answer, or why it was refused.
async fn send(request: hyper::Request<Full<Bytes>>) -> anyhow::Result<Value> {
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_native_roots()?.https_or_http().enable_http1().build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let response = client.request(request).await?;
    let status = response.status();
    let answer: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes()).unwrap_or_default();
    if !status.is_success() {
        let problem = [&answer["code"], &answer["detail"], &answer["error"]["message"]];
        let said: Vec<&str> = problem.iter().filter_map(|part| part.as_str()).collect();
        bail!("{status}: {}", said.join(" "));
    }
    Ok(answer)
}

fn describe(message: &aws_sdk_sqs::types::Message) -> DeadLetter {
    let attribute = |name: &str| {
        message
            .message_attributes()
            .and_then(|attributes| attributes.get(name))
            .and_then(|value| value.string_value().map(str::to_owned))
    };
    let body = message.body().unwrap_or_default().to_owned();
    let parsed: Value = serde_json::from_str(&body).unwrap_or_default();
    DeadLetter {
        message_id: message.message_id().unwrap_or_default().to_owned(),
        receive_count: message
            .attributes()
            .and_then(|attributes| attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .and_then(|count| count.parse().ok()),
        error_code: attribute(ERROR_CODE_ATTRIBUTE),
        error_detail: attribute(ERROR_DETAIL_ATTRIBUTE),
        order_id: parsed["order_id"].as_str().map(str::to_owned),
        event_type: parsed["type"].as_str().map(str::to_owned),
        body,
    }
}
