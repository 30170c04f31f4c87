//! The pure part of changing an order, timed per call: parsing an amendment, planning the stock
//! difference (every line one unit more, or every line swapped for another SKU), and working
//! out a return's refund. Run: `cargo bench -p shared --bench order_changes`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::HashMap, hint::black_box};

use shared::{
    api::{MAX_LINES, parse_edit},
    domain::{
        Allocation, Counter, OrderLine, Quantity, ReturnPolicy, ShippingRefund, Sku, StockLevel, plan_adjustment,
        requested_units,
    },
};
use support::{measure, placed_order};

fn main() {
    for lines in [1, 10, MAX_LINES] {
        let order = placed_order(lines);
        let edit = serde_json::json!({"lines": (0..lines).map(|i| serde_json::json!({"sku": format!("SKU-{i}"), "quantity": 2})).collect::<Vec<_>>()})
            .to_string();
        measure(&format!("parse a {lines}-line amendment"), || {
            black_box(parse_edit(black_box(edit.as_bytes())).unwrap());
        });
        let held: Vec<Allocation> = requested_units(&order.lines)
            .into_iter()
            .map(|(sku, quantity)| Allocation { sku, counter: Counter::Item, quantity })
            .collect();
        let grown: Vec<OrderLine> = order
            .lines
            .iter()
            .map(|line| OrderLine {
                quantity: Quantity::try_from(u64::from(line.quantity.get()) + 1).unwrap(),
                ..line.clone()
            })
            .collect();
        let swapped: Vec<OrderLine> = order
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| OrderLine { sku: Sku::parse(&format!("OTHER-{i}")).unwrap(), ..line.clone() })
            .collect();
        let levels: HashMap<Sku, StockLevel> = grown
            .iter()
            .chain(&swapped)
            .map(|line| (line.sku.clone(), StockLevel { counters: vec![(Counter::Item, 1_000)] }))
            .collect();
        measure(&format!("plan a {lines}-line order one unit more a line"), || {
            black_box(plan_adjustment(&order.id, &held, black_box(&grown), &levels));
        });
        measure(&format!("plan a {lines}-line order with every line swapped"), || {
            black_box(plan_adjustment(&order.id, &held, black_box(&swapped), &levels));
        });
        let policy = ReturnPolicy { window_days: 30, refund_shipping: ShippingRefund::WholeOrder };
        let half: Vec<(Sku, u32)> =
            order.lines.iter().step_by(2).map(|line| (line.sku.clone(), u32::from(line.quantity.get()))).collect();
        measure(&format!("refund for half the lines of a {lines}-line order"), || {
            black_box(order.refund_for(black_box(&half), &policy));
        });
    }
}
