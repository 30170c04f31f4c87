//! The pure part of the inventory and payment functions, per event, timed: reading the event,
//! planning the reservation (one counter per SKU, or a hot SKU split eight ways), screening for
//! fraud. Run: `cargo bench -p shared --bench stock_and_payment`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::HashMap, hint::black_box};

use shared::{
    api::MAX_LINES,
    domain::{
        CardChecks, CheckResult, Counter, CustomerHistory, Envelope, FraudPolicy, FraudSignals, Order, StockLevel,
        plan_reservation, requested_units,
    },
};
use support::{measure, placed_order};

fn main() {
    let policy: FraudPolicy = serde_json::from_str(
        r#"{"review_threshold": 50, "block_threshold": 90, "high_value": {"EUR": 100000},
            "velocity": {"window_minutes": 60, "max_orders": 5, "max_cards": 2},
            "disposable_email_domains": ["mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com"]}"#,
    )
    .unwrap();
    let card = CardChecks {
        fingerprint: Some("fp".to_owned()),
        country: None,
        cvc: CheckResult::Pass,
        postal_code: CheckResult::Unchecked,
    };
    for lines in [1, 10, MAX_LINES] {
        let order = placed_order(lines);
        let event = serde_json::to_string(&order.envelope()).unwrap();
        measure(&format!("read the event of a {lines}-line order ({} B)", event.len()), || {
            black_box(serde_json::from_str::<Envelope<Order>>(black_box(&event)).unwrap());
        });
        let simple: HashMap<_, _> = requested_units(&order.lines)
            .into_keys()
            .map(|sku| (sku, StockLevel { counters: vec![(Counter::Item, 1_000)] }))
            .collect();
        measure(&format!("plan the reservation of a {lines}-line order"), || {
            black_box(plan_reservation(&order.id, &order.lines, black_box(&simple)));
        });
        measure(&format!("screen a {lines}-line order for fraud"), || {
            let signals = FraudSignals {
                order: &order,
                card: &card,
                history: CustomerHistory { orders: 2, distinct_cards: 1, ..CustomerHistory::default() },
            };
            let assessment = policy.assess(black_box(&signals));
            black_box(policy.decide(&assessment));
        });
    }
    let order = placed_order(1);
    let split: HashMap<_, _> = requested_units(&order.lines)
        .into_keys()
        .map(|sku| (sku, StockLevel { counters: (0..8).map(|shard| (Counter::Shard(shard), 1)).collect() }))
        .collect();
    measure("plan a 1-line order on a SKU split 8 ways", || {
        black_box(plan_reservation(&order.id, &order.lines, black_box(&split)));
    });
}
