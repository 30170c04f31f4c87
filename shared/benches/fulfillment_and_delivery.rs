//! The pure part of shipping at intake, of the carrier webhook and of `fulfillment` and
//! `delivery`, per call, timed: address and restriction checks with the delivery estimates, a
//! webhook's signature check and normalisation, a parcel recorded, a carrier event applied.
//! Run: `cargo bench -p shared --bench fulfillment_and_delivery`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeMap, hint::black_box};

use chrono::{Duration, Utc};
use shared::{
    adapters::carriers::{CarrierWebhooks, EventWindows, SignedRequest, Vocabulary, sign},
    adapters::stripe_webhooks::{self, StripeWebhooks},
    domain::{
        CarrierName, Currency, DeliveryUpdate, OrderStatus, ShipmentId, ShipmentReport, ShippedLine, ShippingFees,
        TrackingNumber, TrackingStatus,
    },
};
use support::{measure, placed_order, shipping_policy};

fn main() {
    let policy = shipping_policy();
    let order = placed_order(5);
    let eur = Currency::parse("EUR").unwrap();
    let fees = ShippingFees { standard: 495, express: 1495 };
    let requested: Vec<_> = order
        .lines
        .iter()
        .map(|line| shared::domain::RequestedLine { sku: line.sku.clone(), quantity: line.quantity })
        .collect();
    measure("intake: address + restrictions check", || {
        black_box(policy.check(&order.shipping_address, order.shipping_option, &requested).unwrap());
    });
    let now = Utc::now();
    measure("intake: shipping options with estimates", || {
        black_box(policy.quotes(&order.shipping_address.country, &fees, eur, now));
    });

    let secrets = BTreeMap::from([
        ("easypost".to_owned(), "whsec_bench_secret_01".to_owned()),
        ("aftership".to_owned(), "whsec_bench_secret_01".to_owned()),
    ]);
    let webhooks =
        CarrierWebhooks::new(secrets, EventWindows { tolerance: Duration::minutes(5), max_age: Duration::days(3) })
            .unwrap();
    for (carrier, body) in [
        ("easypost", include_bytes!("../../tests/fixtures/carriers/easypost-in-transit.json").as_slice()),
        ("aftership", include_bytes!("../../tests/fixtures/carriers/aftership-out-for-delivery.json").as_slice()),
    ] {
        let timestamp = now.timestamp();
        let signature = sign("whsec_bench_secret_01", timestamp, body);
        let timestamp = timestamp.to_string();
        measure(&format!("webhook: verify + normalise {carrier} ({} B)", body.len()), || {
            let request = SignedRequest {
                timestamp: Some(&timestamp),
                signature: Some(&signature),
                carrier_signature: None,
                body,
            };
            black_box(webhooks.receive(carrier, request, now).unwrap());
        });
        // The carrier's own scheme, received when the event was sent.
        let vocabulary = Vocabulary::of(carrier).unwrap();
        let own = vocabulary.sign("whsec_bench_secret_01", body);
        let event: serde_json::Value = serde_json::from_slice(body).unwrap();
        let sent = event["created_at"]
            .as_str()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.to_utc())
            .or_else(|| event["ts"].as_i64().and_then(|ts| chrono::DateTime::from_timestamp(ts, 0)))
            .unwrap();
        measure(&format!("webhook: verify ({carrier}'s own scheme) + normalise {carrier}"), || {
            let request = SignedRequest { timestamp: None, signature: None, carrier_signature: Some(&own), body };
            black_box(webhooks.receive(carrier, request, sent).unwrap());
        });
    }
    let dispute = include_bytes!("../../tests/fixtures/stripe/charge.dispute.created.json").as_slice();
    let stripe = StripeWebhooks::new(
        vec!["whsec_bench_secret_0001".to_owned(), "whsec_bench_secret_0000".to_owned()],
        Duration::minutes(5),
    )
    .unwrap();
    let signature = stripe_webhooks::sign(&["whsec_bench_secret_0001"], now.timestamp(), dispute);
    measure(&format!("payment webhook: verify (2 secrets) + read a dispute ({} B)", dispute.len()), || {
        black_box(stripe.receive(Some(&signature), dispute, now).unwrap());
    });

    let mut fulfilling = order.clone();
    for status in [OrderStatus::Reserved, OrderStatus::PaymentAuthorized, OrderStatus::Fulfilling] {
        let change = fulfilling.transition(status, now).unwrap();
        fulfilling = fulfilling.with_change(&change);
    }
    let report = ShipmentReport {
        shipment_id: ShipmentId::parse("P1").unwrap(),
        order_id: order.id.clone(),
        carrier: CarrierName::parse("DHL").unwrap(),
        tracking_number: TrackingNumber::parse("JD0001234567").unwrap(),
        lines: order.lines.iter().map(|line| ShippedLine { sku: line.sku.clone(), quantity: line.quantity }).collect(),
        shipped_at: now,
    };
    measure("fulfillment: record a parcel (5 lines)", || {
        black_box(fulfilling.record_shipment(&report, now).unwrap());
    });
    let change = fulfilling.record_shipment(&report, now).unwrap().unwrap();
    let shipped = fulfilling.clone().with_change(&change);
    let update = DeliveryUpdate {
        source: "easypost".parse().unwrap(),
        event_id: "evt_1".parse().unwrap(),
        carrier: Some("DHL".into()),
        tracking_number: report.tracking_number.clone(),
        status: TrackingStatus::InTransit,
        carrier_status: "in_transit".into(),
        description: Some("Arrived at sort facility".into()),
        location: Some("Leipzig, DE".into()),
        occurred_at: now + Duration::hours(3),
        estimated_delivery: None,
    };
    measure("delivery: apply a carrier event", || {
        black_box(shipped.track(&update, now).unwrap());
    });
    let body = serde_json::to_string(&update).unwrap();
    measure(&format!("delivery: read the queued update ({} B)", body.len()), || {
        black_box(serde_json::from_str::<DeliveryUpdate>(&body).unwrap());
    });
}
