//! The pure part of placing an order, timed: parsing and checking the body, pricing it, and
//! building the event a new order publishes. Run: `cargo bench -p shared --bench intake_path`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::HashMap, hint::black_box};

use serde_json::json;
use shared::{
    api::{MAX_LINES, parse_new_order},
    domain::{CatalogItem, Currency, Line, Money, OrderId, PricingPolicy, Sku},
};
use support::{body, measure, placed_order};

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

    for lines in [1, 10, MAX_LINES] {
        let body = body(lines);
        measure(&format!("parse + check a {lines}-line order ({} B)", body.len()), || {
            black_box(parse_new_order(black_box(&body)).unwrap());
        });
        let request = parse_new_order(&body).unwrap();
        measure(&format!("price a {lines}-line order"), || {
            let destination = &request.shipping_address.country;
            black_box(policy.price(&request.lines, &catalog, eur, request.shipping_option, destination).unwrap());
        });
        let order = placed_order(lines);
        measure(&format!("serialise the event of a {lines}-line order"), || {
            black_box(serde_json::to_string(&order.envelope()).unwrap());
        });
    }
    measure("generate an order id", || {
        black_box(OrderId::random().unwrap());
    });
}
