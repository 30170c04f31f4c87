//! What the bench binaries share: a realistic order body and a timing loop.

use std::time::{Duration, Instant};

use serde_json::json;

pub fn body(lines: usize) -> Vec<u8> {
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
pub fn measure(name: &str, mut work: impl FnMut()) {
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

/// A placed order of `lines` lines, priced from a catalog of 100 SKUs at 19.99 EUR.
#[allow(dead_code)] // not every bench binary uses it
pub fn placed_order(lines: usize) -> shared::domain::Order {
    use shared::domain::{CatalogItem, Currency, Line, Money, Order, OrderId, PricingPolicy, Sku, StorefrontId};
    let eur = Currency::parse("EUR").unwrap();
    let policy: PricingPolicy = serde_json::from_value(json!({
        "shipping_fees": {"EUR": {"standard": 495, "express": 1495}}, "tax_basis_points": {"DE": 1900}
    }))
    .unwrap();
    let catalog: std::collections::HashMap<Sku, CatalogItem> = (0..100)
        .map(|i| {
            let sku = Sku::parse(&format!("SKU-{i}")).unwrap();
            (sku.clone(), CatalogItem { sku, name: Line::parse("Thing").unwrap(), unit_price: Money::new(1_999, eur) })
        })
        .collect();
    let request = shared::api::parse_new_order(&body(lines)).unwrap();
    let storefront = StorefrontId::parse("shop").unwrap();
    let now = chrono::Utc::now();
    let priced = shipping_policy()
        .price_order(
            &policy,
            &request.lines,
            &catalog,
            eur,
            request.shipping_option,
            &request.shipping_address.country,
            now,
        )
        .unwrap();
    Order::place(OrderId::random().unwrap(), storefront, request, priced, now)
}

/// The template's default shipping policy.
#[allow(dead_code)] // not every bench binary uses it
pub fn shipping_policy() -> shared::domain::ShippingPolicy {
    let template: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../../infra/template.yaml")).unwrap_or(serde_yaml::Value::Null);
    let text = template["Parameters"]["ShippingPolicy"]["Default"].as_str().unwrap();
    serde_json::from_str::<shared::domain::ShippingPolicy>(text).unwrap().validated().unwrap()
}
