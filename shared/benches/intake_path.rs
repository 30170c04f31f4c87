//! The pure part of placing an order, timed: parsing and checking the body, pricing it, and
//! building the event a new order publishes. Run: `cargo bench -p shared --bench intake_path`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    hint::black_box,
    time::{Duration, Instant},
};

use chrono::Utc;
use serde_json::json;
use shared::{
    api::parse_new_order,
    domain::{CatalogItem, Currency, Envelope, Line, Money, Order, OrderId, PricingPolicy, Sku, StorefrontId},
};

fn body(lines: usize) -> Vec<u8> {
    json!({
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+447911123456", "sms_opt_in": true},
        "currency": "EUR",
        "lines": (0..lines).map(|i| json!({"sku": format!("SKU-{i}"), "quantity": 1 + i % 5})).collect::<Vec<_>>(),
        "shipping_address": {"name": "Ada Lovelace", "line1": "Friedrichstr. 1", "city": "Berlin",
                             "postal_code": "10117", "country": "DE"},
        "shipping_option": "standard",
        "payment_method": "pm_card_visa"
    })
    .to_string()
    .into_bytes()
}

/// Runs `work` for about a second and reports the mean time per call.
fn measure(name: &str, mut work: impl FnMut()) {
    for _ in 0..100 {
        work();
    }
    let mut calls = 0u32;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            work();
        }
        calls += 100;
    }
    let per_call = start.elapsed() / calls;
    println!("{name:<44} {:>9.2} µs/op  ({calls} calls)", per_call.as_secs_f64() * 1e6);
}

fn main() {
    let eur = Currency::parse("EUR").unwrap();
    let policy: PricingPolicy = serde_json::from_value(json!({
        "shipping_fees": {"EUR": {"standard": 495, "express": 1495}}, "tax_basis_points": {"DE": 1900}
    }))
    .unwrap();
    let catalog: HashMap<Sku, CatalogItem> = (0..100)
        .map(|i| {
            let sku = Sku::parse(&format!("SKU-{i}")).unwrap();
            let item = CatalogItem {
                sku: sku.clone(),
                name: Line::parse("Thing").unwrap(),
                unit_price: Money::new(1_999, eur),
            };
            (sku, item)
        })
        .collect();
    let storefront = StorefrontId::parse("shop").unwrap();

    for lines in [1, 10, 100] {
        let body = body(lines);
        measure(&format!("parse + check a {lines}-line order ({} B)", body.len()), || {
            black_box(parse_new_order(black_box(&body)).unwrap());
        });
        let request = parse_new_order(&body).unwrap();
        measure(&format!("price a {lines}-line order"), || {
            let destination = &request.shipping_address.country;
            black_box(policy.price(&request.lines, &catalog, eur, request.shipping_option, destination).unwrap());
        });
        let (priced, totals) = policy
            .price(&request.lines, &catalog, eur, request.shipping_option, &request.shipping_address.country)
            .unwrap();
        let order = Order::place(OrderId::random().unwrap(), storefront.clone(), request, priced, totals, Utc::now());
        measure(&format!("serialise the event of a {lines}-line order"), || {
            let envelope = Envelope {
                id: order.event_id(),
                event_type: order.last_event(),
                order_id: order.id.clone(),
                version: order.version(),
                occurred_at: order.updated_at,
                data: &order,
            };
            black_box(serde_json::to_string(&envelope).unwrap());
        });
    }
    measure("generate an order id", || {
        black_box(OrderId::random().unwrap());
    });
}
