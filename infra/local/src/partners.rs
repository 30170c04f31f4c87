//! The partners the pipeline talks to but does not own, played locally: a warehouse that ships
//! what it is asked to pick (and not what was cancelled), and receives returns; and a carrier
//! that posts signed tracking webhooks.

use chrono::{DateTime, NaiveDate, Utc};
use http_body_util::{BodyExt, Full};
use hyper::{Request, body::Bytes};
use serde_json::{Value, json};
use shared::{
    adapters::carriers::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Vocabulary, sign},
    domain::{
        CarrierName, OrderId, PickRequest, ReceivedLine, ReturnReceipt, Rma, ShipmentId, ShipmentReport, ShippedLine,
        TrackingNumber, WarehouseInstruction,
    },
};

/// A warehouse that reads pick requests and ships each order, in two parcels when it has more
/// than one line (so partial shipments happen locally too).
#[derive(Debug, Clone)]
pub struct LocalWarehouse {
    pub sqs: aws_sdk_sqs::Client,
    pub pick_requests_url: String,
    pub shipments_url: String,
}

impl LocalWarehouse {
    /// The warehouse of the runner's stack, on its pick-requests and shipments queues.
    pub fn of(runner: &crate::runner::Runner) -> anyhow::Result<Self> {
        Ok(Self {
            sqs: aws_sdk_sqs::Client::new(&runner.sdk),
            pick_requests_url: runner.stack.reference_of("PickRequestsQueue")?,
            shipments_url: runner.stack.reference_of("ShipmentsQueue")?,
        })
    }
}

/// A tracking number of the local carrier, the same for the same parcel every time: the
/// order id's last twelve characters and the parcel's number.
pub fn tracking_number_for(request: &PickRequest, parcel: usize) -> anyhow::Result<TrackingNumber> {
    let id = request.order_id.as_str();
    let tail = &id[id.len().saturating_sub(12)..];
    Ok(TrackingNumber::parse(&format!("EZ{tail}{parcel}"))?)
}

impl LocalWarehouse {
    /// Takes every instruction waiting now and reports the parcels of each order still to pick
    /// shipped, as its latest request says; an order cancelled in any instruction waiting is not
    /// shipped (a real warehouse holds its picks; one cancelled after it shipped is a race the
    /// pipeline parks for operators). The reports sent.
    pub async fn ship_waiting(&self, at: DateTime<Utc>) -> anyhow::Result<Vec<ShipmentReport>> {
        let mut picks: Vec<PickRequest> = Vec::new();
        let mut cancelled: Vec<OrderId> = Vec::new();
        let mut wait = 1;
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.pick_requests_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait)
                .send()
                .await?;
            if received.messages().is_empty() {
                break;
            }
            wait = 0;
            for message in received.messages() {
                match serde_json::from_str(message.body().unwrap_or_default())? {
                    WarehouseInstruction::Pick(request) => {
                        // An amended order's newer request replaces the older one.
                        picks.retain(|pick| {
                            pick.order_id != request.order_id || pick.request_id.version > request.request_id.version
                        });
                        if !picks.iter().any(|pick| pick.order_id == request.order_id) {
                            picks.push(*request);
                        }
                    }
                    WarehouseInstruction::Cancel(cancellation) => cancelled.push(cancellation.order_id),
                }
                if let Some(handle) = message.receipt_handle() {
                    self.sqs.delete_message().queue_url(&self.pick_requests_url).receipt_handle(handle).send().await?;
                }
            }
        }
        let mut reports = Vec::new();
        for request in picks.iter().filter(|pick| !cancelled.contains(&pick.order_id)) {
            for report in parcels(request, at)? {
                self.report(&report).await?;
                reports.push(report);
            }
        }
        Ok(reports)
    }

    /// Reports a returned parcel received, every unit resellable but `damaged` of each line.
    pub async fn receive_return(
        &self,
        order_id: &OrderId,
        rma: &Rma,
        lines: &[(ShippedLine, u16)],
        at: DateTime<Utc>,
    ) -> anyhow::Result<ReturnReceipt> {
        let receipt = ReturnReceipt {
            rma: rma.clone(),
            order_id: order_id.clone(),
            lines: lines
                .iter()
                .map(|(line, damaged)| ReceivedLine {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    resellable: line.quantity.get().saturating_sub(*damaged),
                })
                .collect(),
            received_at: at,
        };
        self.report(&receipt).await?;
        Ok(receipt)
    }

    async fn report(&self, report: &impl serde::Serialize) -> anyhow::Result<()> {
        let body = serde_json::to_string(report)?;
        self.sqs.send_message().queue_url(&self.shipments_url).message_body(body).send().await?;
        Ok(())
    }
}

/// The parcels a pick request leaves in: the first line alone, the rest together.
pub fn parcels(request: &PickRequest, at: DateTime<Utc>) -> anyhow::Result<Vec<ShipmentReport>> {
    let lines: Vec<ShippedLine> =
        request.lines.iter().map(|line| ShippedLine { sku: line.sku.clone(), quantity: line.quantity }).collect();
    let (first, rest) = lines.split_at(1.min(lines.len()));
    let groups = [first.to_vec(), rest.to_vec()].into_iter().filter(|group| !group.is_empty());
    groups
        .enumerate()
        .map(|(index, lines)| {
            Ok(ShipmentReport {
                shipment_id: ShipmentId::parse(&format!("{}-P{}", request.order_id, index + 1))?,
                tracking_number: tracking_number_for(request, index + 1)?,
                order_id: request.order_id.clone(),
                carrier: CarrierName::parse("DHLExpress")?,
                lines,
                shipped_at: at,
            })
        })
        .collect()
}

/// A carrier that posts tracking events signed with its webhook secret as the real carrier
/// signs them (EasyPost's `X-Hmac-Signature`, AfterShip's `aftership-hmac-sha256`), or in our
/// relay scheme for a carrier we know no scheme of.
#[derive(Debug, Clone)]
pub struct LocalCarrier {
    pub api_url: String,
    pub carrier: String,
    pub secret: String,
}

impl LocalCarrier {
    /// The local EasyPost, posting to the runner's API with its signing secret.
    pub fn of(runner: &crate::runner::Runner) -> Self {
        let (carrier, secret) = crate::runner::LOCAL_CARRIER_SECRETS[0];
        Self { api_url: runner.api_url(), carrier: carrier.to_owned(), secret: secret.to_owned() }
    }

    /// The EasyPost body of one tracker event: a scan at `at`, sent now.
    pub fn event(
        event_id: &str,
        tracking_number: &TrackingNumber,
        status: &str,
        at: DateTime<Utc>,
        estimated_delivery: Option<NaiveDate>,
    ) -> Value {
        json!({
            "id": event_id,
            "object": "Event",
            "description": "tracker.updated",
            "created_at": Utc::now(),
            "result": {
                "object": "Tracker",
                "tracking_code": tracking_number.as_str(),
                "status": status,
                "carrier": "DHLExpress",
                "est_delivery_date": estimated_delivery.map(|date| format!("{date}T00:00:00Z")),
                "tracking_details": [{
                    "object": "TrackingDetail",
                    "message": format!("{} (local carrier)", status.replace('_', " ")),
                    "status": status,
                    "datetime": at,
                    "tracking_location": {"city": "Utrecht", "country": "NL"}
                }]
            }
        })
    }

    /// Posts a body, signed; the HTTP status the webhook answered.
    pub async fn post(&self, body: &Value) -> anyhow::Result<u16> {
        let body = body.to_string();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let request = Request::post(format!("{}/webhooks/carriers/{}", self.api_url, self.carrier))
            .header("Content-Type", "application/json");
        let request = match Vocabulary::of(&self.carrier) {
            Some(vocabulary) => {
                request.header(vocabulary.signature_header(), vocabulary.sign(&self.secret, body.as_bytes()))
            }
            None => {
                let timestamp = Utc::now().timestamp();
                request
                    .header(TIMESTAMP_HEADER, timestamp.to_string())
                    .header(SIGNATURE_HEADER, sign(&self.secret, timestamp, body.as_bytes()))
            }
        }
        .body(Full::new(Bytes::from(body)))?;
        let response = client.request(request).await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        Ok(status)
    }
}

/// The local payment provider (localstripe), as a customer's browser and the provider's own
/// processes reach it: a card tokenised into a payment method, an authorisation that lapses, a
/// refund that bounces.
#[derive(Debug, Clone)]
pub struct LocalProvider {
    pub endpoint: String,
}

impl LocalProvider {
    /// The payment method for a test card number, as Stripe.js would make it in the browser.
    pub async fn card(&self, number: &str) -> anyhow::Result<String> {
        let form = format!("type=card&card[number]={number}&card[exp_month]=12&card[exp_year]=2030&card[cvc]=123");
        let method = self.post("/v1/payment_methods", form).await?;
        method["id"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("no payment method id: {method}"))
    }

    /// The authorisation lapses, as Stripe's do after seven days uncaptured.
    pub async fn expire(&self, authorization: &str) -> anyhow::Result<Value> {
        self.post(&format!("/orderflow/payment_intents/{authorization}/expire"), String::new()).await
    }

    /// The refund bounces, as one to a closed card account does.
    pub async fn fail_refund(&self, refund: &str) -> anyhow::Result<Value> {
        self.post(&format!("/orderflow/refunds/{refund}/fail"), String::new()).await
    }

    /// A dispute as the provider holds it.
    pub async fn dispute(&self, dispute: &str) -> anyhow::Result<Value> {
        self.request(hyper::Method::GET, &format!("/v1/disputes/{dispute}"), String::new()).await
    }

    async fn post(&self, path: &str, form: String) -> anyhow::Result<Value> {
        self.request(hyper::Method::POST, path, form).await
    }

    async fn request(&self, method: hyper::Method, path: &str, form: String) -> anyhow::Result<Value> {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header("Authorization", "Bearer sk_test_orderflow_local")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))?;
        let response = client.request(request).await?;
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }
}
