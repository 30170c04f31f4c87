//! Sample data for previews, snapshots and benchmarks (the `samples` feature): kept out of the
//! functions' binaries.

use chrono::{DateTime, Utc};

use super::Notice;
use crate::domain::{CatalogItem, Currency, Money, Order, Shipment, StatusReason};
use crate::storefront::NotificationPolicy;

/// Sample data for previews, snapshots and benchmarks: one order per notice, as it stands when
/// that notice goes out.
#[derive(Debug)]
pub struct Sample;

impl Sample {
    /// A locale of each language the messages are written in, as the sample storefront offers them.
    pub const LOCALES: [&'static str; 4] = ["en-GB", "de-DE", "fr-FR", "nl-NL"];

    /// The sample order as it stands when `notice` goes out, its customer reading `locale`.
    pub fn order_in(notice: Notice, locale: &str) -> Option<Order> {
        let mut order = Self::order(notice)?;
        order.locale = Some(crate::domain::Locale::parse(locale).ok()?);
        Some(order)
    }

    pub fn policy() -> NotificationPolicy {
        let json = r#"{
            "feedback_after_days": 7,
            "storefronts": {"*": {"name": "Northwind Goods", "support_email": "help@northwind.example",
                                  "support_phone": "+31 20 555 0100", "website": "https://northwind.example",
                                  "locales": ["en-GB", "de-DE", "fr-FR", "nl-NL"]}},
            "tracking_urls": {"DHLExpress": "https://www.dhl.com/en/express/tracking.html?AWB={tracking_number}"}
        }"#;
        NotificationPolicy::parse(json).unwrap_or_else(|_| NotificationPolicy {
            feedback_after_days: 7,
            received_waits_seconds: 20,
            storefronts: Default::default(),
            tracking_urls: Default::default(),
        })
    }

    pub fn recommendations() -> Vec<CatalogItem> {
        let eur = Currency::parse("EUR").ok();
        [("BOTTLE-STEEL", "Steel bottle, 750 ml", 2950), ("TEE-ORGANIC-L", "Organic cotton tee, L", 2499)]
            .into_iter()
            .filter_map(|(sku, name, price)| {
                Some(CatalogItem {
                    sku: crate::domain::Sku::parse(sku).ok()?,
                    name: crate::domain::Line::parse(name).ok()?,
                    unit_price: Money::new(price, eur?),
                })
            })
            .collect()
    }

    /// The sample order as it stands when `notice` goes out.
    pub fn order(notice: Notice) -> Option<Order> {
        let json = include_str!("sample_order.json");
        let mut order: Order = serde_json::from_str(json).ok()?;
        let shipped_at: DateTime<Utc> = "2026-11-23T15:10:00Z".parse().ok()?;
        let shipment = |status| -> Option<Shipment> {
            serde_json::from_value(serde_json::json!({
                "id": "SHP-1", "carrier": "DHLExpress", "tracking_number": "JJD000390007891234567",
                "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "NOTEBOOK-A5", "quantity": 1}],
                "shipped_at": shipped_at, "status": status, "estimated_delivery": "2026-11-26"
            }))
            .ok()
        };
        let reason = |value: serde_json::Value| serde_json::from_value::<StatusReason>(value).ok();
        match notice {
            Notice::Rejected => {
                order.status_reason = reason(serde_json::json!({"kind": "out_of_stock",
                    "shortages": [{"sku": "MUG-CLASSIC", "requested": 2, "available": 1}]}));
            }
            Notice::PaymentFailed => {
                order.status_reason = reason(serde_json::json!({"kind": "payment_declined",
                    "decline": {"code": "insufficient_funds", "message": "Your card has insufficient funds."}}));
            }
            Notice::Shipped | Notice::Delivered | Notice::OutForDelivery | Notice::FeedbackRequest => {
                let status = match notice {
                    Notice::Shipped => "SHIPPED",
                    Notice::OutForDelivery => "OUT_FOR_DELIVERY",
                    // Delivered, and the feedback request that follows delivery.
                    _ => "DELIVERED",
                };
                order.shipments = vec![shipment(status)?];
            }
            Notice::Delayed => {
                let mut parcel = shipment("DELIVERY_EXCEPTION")?;
                parcel.delay = serde_json::from_value(serde_json::json!({"cause": "exception",
                    "promised": "2026-11-26", "expected": "2026-11-27", "noted_at": "2026-11-26T09:40:00Z"}))
                .ok();
                order.status_reason = reason(serde_json::json!({"kind": "delivery_exception",
                    "tracking_number": "JJD000390007891234567", "carrier_status": "failure",
                    "description": "Delivery attempted - nobody home", "expected": "2026-11-27"}));
                order.shipments = vec![parcel];
            }
            Notice::Refunded => {
                order.payment.refunds = serde_json::from_value(serde_json::json!([
                    {"id": "re_1", "amount": {"minor_units": 1250, "currency": "EUR"}}]))
                .ok()?;
            }
            Notice::ReturnAccepted => {
                order.return_request = serde_json::from_value(serde_json::json!({"rma": "RMA-7FE5D49VKA",
                    "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "reason": "too big",
                    "requested_at": "2026-11-28T10:00:00Z", "refund": {"minor_units": 1488, "currency": "EUR"}}))
                .ok();
            }
            Notice::Apology => {
                order.shipments = vec![shipment("IN_TRANSIT")?];
                order.status_reason = reason(serde_json::json!({"kind": "apologised",
                    "decision": {"operator": "ops@northwind.example", "role": "agent", "request_id": "req-sample"}, "remedy": "expedited_shipment",
                    "what_went_wrong": "Your parcel left our warehouse two days later than we promised."}));
            }
            Notice::Received | Notice::Confirmed | Notice::Cancelled | Notice::Modified => {}
        }
        Some(order)
    }
}
