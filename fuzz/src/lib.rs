//! Fuzz targets: every parser of untrusted bytes, with the properties each must keep whatever
//! it is fed. [`check`] runs one input through one target and panics when a property breaks;
//! two engines drive it: libFuzzer through cargo-fuzz (`fuzz/libfuzzer`, `scripts/fuzz`, a
//! million inputs per target) and [`Mutator`], a stable, seeded mutator the test suite runs as a
//! smoke test over each target's seeds and every input kept in `fuzz/regressions`.
//!
//! The properties: no panic; every refusal of a client's body is a 4xx problem with a code and a
//! field, never a 5xx, and never repeats a card number; what is accepted reads the same after
//! being written back out (request bodies re-serialised as JSON, messages serialised as their
//! producer writes them, order images written back as DynamoDB items).

// A broken property is a panic: that is how a fuzz engine sees a finding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use aws_lambda_events::dynamodb::Event as StreamEvent;
use chrono::{DateTime, Duration, Utc};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use shared::{
    adapters::{
        carriers::{
            CarrierWebhooks, EventWindows, SIGNATURE_HEADER, SignedRequest, TIMESTAMP_HEADER, Vocabulary,
            WebhookRefusal, sign,
        },
        dynamodb::published_version,
        ses_feedback::mail_feedback,
    },
    api::{self, Problem},
    domain::{DeliveryUpdate, Envelope, Order, WarehouseReport, holds_card_number},
    notification::{Notice, Sample},
    strict_json,
};

/// The fuzz targets, by name: one per untrusted parser.
pub const TARGETS: [&str; 14] = [
    "order",
    "amendment",
    "return",
    "review",
    "refund",
    "cancel",
    "if_match",
    "easypost",
    "aftership",
    "order_event",
    "delivery_update",
    "warehouse_report",
    "mail_feedback",
    "stream_image",
];

/// Runs `data` through `target`; panics if a property breaks (or the target is unknown).
pub fn check(target: &str, data: &[u8]) {
    match target {
        "order" => request(data, api::parse_new_order),
        "amendment" => request(data, api::parse_edit),
        "return" => request(data, api::parse_return),
        "review" => request(data, api::parse_review),
        "refund" => request(data, api::parse_refund),
        "cancel" => request(data, |body| api::parse_note(body, "reason")),
        "if_match" => if_match(data),
        "easypost" | "aftership" => carrier(target, data),
        "order_event" => message::<Envelope<Order>>(data),
        "delivery_update" => message::<DeliveryUpdate>(data),
        "warehouse_report" => warehouse_report(data),
        "mail_feedback" => drop(std::str::from_utf8(data).map(mail_feedback)),
        "stream_image" => stream_image(data),
        other => panic!("no fuzz target {other:?}"),
    }
}

/// A request body: refused as a client's mistake, or accepted the same way once re-serialised.
fn request<T: PartialEq + std::fmt::Debug>(data: &[u8], parse: impl Fn(&[u8]) -> Result<T, Problem>) {
    match parse(data) {
        Ok(accepted) => match strict_json::parse(data) {
            Ok(value) => {
                let canonical = serde_json::to_vec(&value).expect("a JSON value serialises");
                assert_eq!(parse(&canonical).as_ref(), Ok(&accepted), "re-serialised, the body reads differently");
            }
            // Only a cancellation takes no body at all.
            Err(_) => assert!(data.iter().all(u8::is_ascii_whitespace), "accepted a body that is not strict JSON"),
        },
        Err(problem) => refusal(&problem),
    }
}

/// A client's mistake, said as one: 4xx, a code, the field, no card number repeated.
fn refusal(problem: &Problem) {
    assert!((400..500).contains(&problem.status), "a client's body answered {problem:?}");
    assert!(!problem.code.is_empty() && problem.field.is_some(), "{problem:?}");
    assert!(!holds_card_number(&problem.to_json()), "the refusal repeats a card number: {problem:?}");
}

fn if_match(data: &[u8]) {
    if let Ok(header) = std::str::from_utf8(data)
        && let Err(problem) = api::parse_if_match(Some(header))
    {
        refusal(&problem);
    }
}

/// The fuzzed carrier routes' signing secrets.
const SECRETS: [(&str, &str); 2] =
    [("easypost", "whsec_fuzz_easypost_0001"), ("aftership", "whsec_fuzz_aftership_001")];

fn webhooks() -> &'static CarrierWebhooks {
    static WEBHOOKS: std::sync::OnceLock<CarrierWebhooks> = std::sync::OnceLock::new();
    WEBHOOKS.get_or_init(|| {
        let secrets = SECRETS.iter().map(|(carrier, secret)| ((*carrier).to_owned(), (*secret).to_owned()));
        let windows = EventWindows { tolerance: Duration::minutes(5), max_age: Duration::days(3) };
        CarrierWebhooks::new(BTreeMap::from_iter(secrets), windows).expect("valid secrets")
    })
}

/// `carrier`'s call with `body`, signed now in our relay scheme, or in the carrier's own.
fn receive_signed(carrier: &str, body: &[u8], own_scheme: bool) -> Result<DeliveryUpdate, WebhookRefusal> {
    let now = fuzz_clock();
    let secret = SECRETS.iter().find(|(name, _)| *name == carrier).map_or("", |(_, secret)| *secret);
    let timestamp = now.timestamp().to_string();
    let (relayed, own) = match Vocabulary::of(carrier).filter(|_| own_scheme) {
        Some(vocabulary) => (None, Some(vocabulary.sign(secret, body))),
        None => (Some(sign(secret, now.timestamp(), body)), None),
    };
    let request = SignedRequest {
        timestamp: relayed.as_ref().map(|_| timestamp.as_str()),
        signature: relayed.as_deref(),
        carrier_signature: own.as_deref(),
        body,
    };
    webhooks().receive(carrier, request, now)
}

fn fuzz_clock() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_000_000, 0).expect("a valid time")
}

/// A carrier's call. The first byte chooses: 0 or 1 (mod 3), the body is signed in our relay
/// scheme or the carrier's own (so the vocabulary is reached); 2, the headers are the input's
/// first line (`timestamp signature carrier-signature`, empty for absent) and the body the rest
/// (so the signature checks are fuzzed).
fn carrier(carrier: &str, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let received = if mode % 3 < 2 {
        receive_signed(carrier, rest, mode % 3 == 1)
    } else {
        let split = rest.iter().position(|byte| *byte == b'\n').unwrap_or(rest.len());
        let line = String::from_utf8_lossy(&rest[..split]).into_owned();
        let mut headers = line.splitn(3, ' ').map(|header| Some(header).filter(|header| !header.is_empty()));
        let (timestamp, signature, carrier_signature) =
            (headers.next().flatten(), headers.next().flatten(), headers.next().flatten());
        let body = rest.get(split + 1..).unwrap_or_default();
        let request = SignedRequest { timestamp, signature, carrier_signature, body };
        webhooks().receive(carrier, request, fuzz_clock())
    };
    match received {
        Ok(update) => round_trip(&update),
        Err(refusal) => {
            assert!((400..500).contains(&refusal.status()), "{refusal:?}");
            assert!(!refusal.code().is_empty(), "{refusal:?}");
            let own = Vocabulary::of(carrier).map(Vocabulary::signature_header);
            let fields = [TIMESTAMP_HEADER, SIGNATURE_HEADER, "/", "carrier", "/created_at", "/ts"];
            assert!(fields.contains(&refusal.field()) || own == Some(refusal.field()), "{refusal:?}");
        }
    }
}

/// What its producer writes reads back as itself.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let written = serde_json::to_string(value).expect("it serialises");
    let read: T = serde_json::from_str(&written).expect("what we write, we read");
    assert_eq!(&read, value, "written and read back: {written}");
}

/// An SQS message body a consumer reads with `serde_json` (bodies are text).
fn message<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Some(parsed) = std::str::from_utf8(data).ok().and_then(|body| serde_json::from_str::<T>(body).ok()) {
        round_trip(&parsed);
    }
}

fn warehouse_report(data: &[u8]) {
    let Ok(report) = strict_json::parse(data).map(WarehouseReport::from_json) else { return };
    let written = match report {
        Ok(WarehouseReport::Shipped(report)) => (serde_json::to_value(&report), WarehouseReport::Shipped(report)),
        Ok(WarehouseReport::Returned(receipt)) => (serde_json::to_value(&receipt), WarehouseReport::Returned(receipt)),
        Err(_) => return,
    };
    let read = WarehouseReport::from_json(written.0.expect("it serialises")).expect("what we write, we read");
    assert_eq!(read, written.1);
}

/// A batch of the Orders table's stream, as `stream-router` reads it.
fn stream_image(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<StreamEvent>(data) else { return };
    for record in &event.records {
        let change = &record.change;
        let removed = record.event_name == "REMOVE";
        if let Ok(Some(order)) = published_version(removed, &change.keys, &change.new_image, &change.old_image) {
            let item: serde_dynamo::Item = serde_dynamo::to_item(&order).expect("an order is an item");
            let read: Order = serde_dynamo::from_item(item).expect("what we write, we read");
            assert_eq!(read, order);
        }
    }
}

/// Inputs each target starts from: valid bodies and messages of every shape the target reads.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let json = |value: Value| value.to_string().into_bytes();
    let address = serde_json::json!({"name": "Ada Lovelace", "line1": "Friedrichstr. 1", "line2": "Hinterhaus",
        "city": "Berlin", "region": "BE", "postal_code": "10117", "country": "DE"});
    let lines = serde_json::json!([{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "NOTEBOOK-A5", "quantity": 1}]);
    match target {
        "order" => {
            let mut full: Value = serde_json::from_slice(DEMO_ORDER).expect("the demo order is JSON");
            full["billing_address"] = address.clone();
            full["locale"] = serde_json::json!("de-DE");
            vec![DEMO_ORDER.to_vec(), json(full)]
        }
        "amendment" => vec![
            json(serde_json::json!({"lines": lines, "shipping_address": address, "shipping_option": "express"})),
            json(serde_json::json!({"shipping_option": "standard"})),
        ],
        "return" => vec![json(serde_json::json!({"lines": lines, "reason": "too small"}))],
        "review" => vec![
            json(serde_json::json!({"decision": "approve", "note": "called the customer"})),
            json(serde_json::json!({"decision": "deny"})),
        ],
        "refund" => vec![json(serde_json::json!({"amount": 500, "note": "late parcel"}))],
        "cancel" => vec![json(serde_json::json!({"reason": "changed my mind"})), Vec::new()],
        "if_match" => vec![b"\"3\"".to_vec(), b"W/\"12\"".to_vec(), b"7".to_vec()],
        "easypost" => [EASYPOST_IN_TRANSIT, EASYPOST_DELIVERED].iter().map(|body| signed(body)).collect(),
        "aftership" => [AFTERSHIP_OUT_FOR_DELIVERY, AFTERSHIP_ATTEMPT_FAILED].iter().map(|body| signed(body)).collect(),
        "order_event" => {
            sample_orders().map(|order| json(serde_json::to_value(order.envelope()).unwrap_or_default())).collect()
        }
        "delivery_update" => {
            delivery_updates().iter().map(|update| serde_json::to_vec(update).unwrap_or_default()).collect()
        }
        "warehouse_report" => vec![
            json(serde_json::json!({"shipment_id": "SHP-1", "order_id": SAMPLE_ORDER_ID, "carrier": "DHL",
                "tracking_number": "JD014600006281230704", "lines": lines, "shipped_at": "2026-11-24T08:57:00Z"})),
            json(serde_json::json!({"rma": "RMA-7FE5D49VKA", "order_id": SAMPLE_ORDER_ID,
                "lines": [{"sku": "MUG-CLASSIC", "quantity": 1, "resellable": 1}], "received_at": "2026-12-01T10:00:00Z"})),
        ],
        "mail_feedback" => vec![
            json(serde_json::json!({"eventType": "Bounce", "mail": {"messageId": "0100"}, "bounce": {"bounceType":
                "Permanent", "bouncedRecipients": [{"emailAddress": "\"Ada\" <ada@example.com>"}]}})),
            json(serde_json::json!({"notificationType": "Complaint", "complaint": {"complainedRecipients":
                [{"emailAddress": "ada@example.com"}]}})),
        ],
        "stream_image" => sample_orders().map(|order| json(stream_batch(&order))).collect(),
        _ => Vec::new(),
    }
}

const DEMO_ORDER: &[u8] = include_bytes!("../../infra/local/demo-order.json");
const EASYPOST_IN_TRANSIT: &[u8] = include_bytes!("../../tests/fixtures/carriers/easypost-in-transit.json");
const EASYPOST_DELIVERED: &[u8] = include_bytes!("../../tests/fixtures/carriers/easypost-delivered.json");
const AFTERSHIP_OUT_FOR_DELIVERY: &[u8] =
    include_bytes!("../../tests/fixtures/carriers/aftership-out-for-delivery.json");
const AFTERSHIP_ATTEMPT_FAILED: &[u8] = include_bytes!("../../tests/fixtures/carriers/aftership-attempt-failed.json");
const SAMPLE_ORDER_ID: &str = "ord_0123456789abcdefghjkmnpqrs";

/// A carrier seed: the "sign it" mode byte, then the body.
fn signed(body: &[u8]) -> Vec<u8> {
    [&[0_u8][..], body].concat()
}

fn sample_orders() -> impl Iterator<Item = Order> {
    [Notice::Received, Notice::Shipped, Notice::Delayed, Notice::Refunded, Notice::Rejected]
        .into_iter()
        .zip(Sample::LOCALES.into_iter().cycle())
        .filter_map(|(notice, locale)| Sample::order_in(notice, locale))
}

fn delivery_updates() -> Vec<DeliveryUpdate> {
    [("easypost", EASYPOST_IN_TRANSIT), ("aftership", AFTERSHIP_OUT_FOR_DELIVERY)]
        .into_iter()
        .filter_map(|(carrier, body)| receive_signed(carrier, body, false).ok())
        .collect()
}

/// The stream record that writing `order`'s head produces, as Lambda hands it to stream-router.
fn stream_batch(order: &Order) -> Value {
    let keys = serde_json::json!({"pk": {"S": format!("ORDER#{}", order.id)}, "sk": {"S": "ORDER"}});
    let mut image: serde_dynamo::Item = serde_dynamo::to_item(order).unwrap_or_default();
    image.insert("pk".to_owned(), serde_dynamo::AttributeValue::S(format!("ORDER#{}", order.id)));
    image.insert("sk".to_owned(), serde_dynamo::AttributeValue::S("ORDER".to_owned()));
    serde_json::json!({"Records": [{
        "eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {"Keys": keys, "NewImage": image, "OldImage": {"version": {"N": "1"}},
            "SequenceNumber": "100", "SizeBytes": 1000, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:000000000000:table/orders/stream/2026"
    }]})
}

/// Tokens a mutation splices in: what breaks parsers, and what our rules exist to refuse.
pub const DICTIONARY: [&str; 28] = [
    "\"\\u202e\"",
    "\"\\u200b\"",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\u{2066}",
    "\u{feff}",
    "\u{ad}",
    "\"4242 4242 4242 4242\"",
    "\"pm_4242424242424242\"",
    "\"tok_visa\"",
    "1e999",
    "-0",
    "18446744073709551616",
    "-9223372036854775809",
    "0.1",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
    "\"ORDER\"",
    "{\"S\": \"ORDER\"}",
    "{\"N\": \"99999999999999999999\"}",
    "\"2026-02-30T25:61:00Z\"",
    "\"+999999999999999\"",
    "\"v1=00\"",
    "\"a\":1,\"a\":2",
    "\u{1F69A}",
];

/// A small seeded mutator (xorshift): byte flips, inserts, deletions, repeated ranges (which
/// name members twice), splices of [`DICTIONARY`] tokens and of other seeds. Not coverage
/// guided: libFuzzer is, through `scripts/fuzz`; this one keeps every target exercised on stable.
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    pub fn new(seed: u64) -> Self {
        Self { state: seed.max(1) }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(bound.max(1)).unwrap_or(u64::MAX)).unwrap_or_default()
    }

    /// A mutant of one of `seeds`: one to four mutations stacked.
    pub fn mutant(&mut self, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut data = seeds.get(self.below(seeds.len())).cloned().unwrap_or_default();
        for _ in 0..=self.below(4) {
            let at = self.below(data.len() + 1);
            match self.below(6) {
                0 if !data.is_empty() => {
                    let (bit, last) = (self.below(8), data.len() - 1);
                    data[at.min(last)] ^= 1 << bit;
                }
                1 => {
                    let interesting = [0x00, 0xff, 0xc0, 0x80, b'"', b'{', b'}', b'[', b']', b',', b':', b'\\', b'0'];
                    data.insert(at, interesting[self.below(interesting.len())]);
                }
                2 => {
                    let end = (at + self.below(16)).min(data.len());
                    data.drain(at..end);
                }
                3 => {
                    let end = (at + self.below(64)).min(data.len());
                    let repeated = data[at..end].to_vec();
                    data.splice(at..at, repeated);
                }
                4 => {
                    let token = DICTIONARY[self.below(DICTIONARY.len())].as_bytes();
                    let end = (at + self.below(12)).min(data.len());
                    data.splice(at..end, token.iter().copied());
                }
                _ => {
                    let other = seeds.get(self.below(seeds.len())).cloned().unwrap_or_default();
                    let from = self.below(other.len() + 1);
                    let to = (from + self.below(128)).min(other.len());
                    data.splice(at..at, other[from..to].iter().copied());
                }
            }
        }
        data
    }
}
