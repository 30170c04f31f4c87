//! What observability costs per line: an EMF metric document, the metrics of an order's new
//! version, and one flat JSON log line inside two spans (written to a sink).
//! Run: `cargo bench -p shared --bench telemetry --features telemetry`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::hint::black_box;

use chrono::Utc;
use shared::{
    lambda::telemetry::FlatJson,
    metrics::{Dimension, Measurement, Metric, emf, for_order_version},
};
use support::{measure, placed_order};
use tracing_subscriber::fmt::format::JsonFields;

fn main() {
    let measurement =
        Measurement::count(Metric::MessagesSent).by(Dimension::Channel, "email").by(Dimension::Template, "shipped");
    let now = Utc::now();
    measure("an EMF document, serialised", || {
        black_box(emf("notifier", black_box(&measurement), now).to_string());
    });
    let order = placed_order(10);
    measure("the metrics of an order's new version", || {
        black_box(for_order_version(black_box(&order)));
    });
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson { function: Some("payment".to_owned()) })
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let invoke = tracing::info_span!("Lambda runtime invoke", requestId = "r-1", xrayTraceId = "Root=1-abc");
        let _invoke = invoke.enter();
        let event =
            tracing::info_span!("event", order_id = "ord_1", event_id = "ord_1:3", event_type = "order.reserved");
        let _event = event.enter();
        measure("a log line in two spans, flat JSON", || {
            tracing::info!(outcome = "Authorized", "payment event handled");
        });
    });
}
