//! Business and health metrics as CloudWatch Embedded Metric Format lines on stdout: Lambda's
//! log stream carries them and CloudWatch extracts the metrics, with no API call on the hot
//! path. One namespace; dimensions are the function and at most one of stage, reason,
//! channel or template, so every metric stays a handful of series.

use std::{io::Write, sync::OnceLock};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::domain::{Order, OrderStatus, ParcelStatus, StatusReason};

pub const NAMESPACE: &str = "Orderflow";

/// The units CloudWatch accepts that these metrics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Seconds => "Seconds",
        }
    }
}

/// Every metric Orderflow emits; the dashboard and alarms name these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    OrdersPlaced,
    OrdersRejected,
    PaymentsFailed,
    OrdersHeldForReview,
    OrdersShipped,
    OrdersDelivered,
    DeliveryExceptions,
    OrdersCancelled,
    OrdersAmended,
    ReturnsRequested,
    OrdersRefunded,
    MessagesSent,
    /// Messages the provider may or may not have sent (it failed once they were out).
    MessagesUnconfirmed,
    /// Messages put back on their queue to wait because SES or SNS throttled us.
    MessagesThrottled,
    /// Messages not sent because the order had moved past them ("out for delivery" once
    /// delivered).
    MessagesOvertaken,
    NotificationsSuppressed,
    IdempotentReplays,
    BatchItemFailures,
    StageLatency,
    ColdStarts,
    /// Orders past their status's limit, counted by the scheduled watchdog.
    OrdersStuck,
    /// Disputes (chargebacks) opened, moved on or closed, by their status.
    PaymentDisputes,
    /// Authorisations the provider ended before we captured them.
    AuthorizationsEnded,
    /// Refunds the provider could not pay out.
    RefundsFailed,
    /// From an order's placement to an operator's decision on holding it (p50/p95).
    ReviewDecisionTime,
    /// How long the oldest held order has waited, in business hours: the review SLA's alarm.
    ReviewOldestWait,
}

impl Metric {
    pub const ALL: [Metric; 26] = [
        Self::OrdersPlaced,
        Self::OrdersRejected,
        Self::PaymentsFailed,
        Self::OrdersHeldForReview,
        Self::OrdersShipped,
        Self::OrdersDelivered,
        Self::DeliveryExceptions,
        Self::OrdersCancelled,
        Self::OrdersAmended,
        Self::ReturnsRequested,
        Self::OrdersRefunded,
        Self::MessagesSent,
        Self::MessagesUnconfirmed,
        Self::MessagesThrottled,
        Self::MessagesOvertaken,
        Self::NotificationsSuppressed,
        Self::IdempotentReplays,
        Self::BatchItemFailures,
        Self::StageLatency,
        Self::ColdStarts,
        Self::OrdersStuck,
        Self::PaymentDisputes,
        Self::AuthorizationsEnded,
        Self::RefundsFailed,
        Self::ReviewDecisionTime,
        Self::ReviewOldestWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::OrdersPlaced => "OrdersPlaced",
            Self::OrdersRejected => "OrdersRejected",
            Self::PaymentsFailed => "PaymentsFailed",
            Self::OrdersHeldForReview => "OrdersHeldForReview",
            Self::OrdersShipped => "OrdersShipped",
            Self::OrdersDelivered => "OrdersDelivered",
            Self::DeliveryExceptions => "DeliveryExceptions",
            Self::OrdersCancelled => "OrdersCancelled",
            Self::OrdersAmended => "OrdersAmended",
            Self::ReturnsRequested => "ReturnsRequested",
            Self::OrdersRefunded => "OrdersRefunded",
            Self::MessagesSent => "MessagesSent",
            Self::MessagesUnconfirmed => "MessagesUnconfirmed",
            Self::MessagesThrottled => "MessagesThrottled",
            Self::MessagesOvertaken => "MessagesOvertaken",
            Self::NotificationsSuppressed => "NotificationsSuppressed",
            Self::IdempotentReplays => "IdempotentReplays",
            Self::BatchItemFailures => "BatchItemFailures",
            Self::StageLatency => "StageLatency",
            Self::ColdStarts => "ColdStarts",
            Self::OrdersStuck => "OrdersStuck",
            Self::PaymentDisputes => "PaymentDisputes",
            Self::AuthorizationsEnded => "AuthorizationsEnded",
            Self::RefundsFailed => "RefundsFailed",
            Self::ReviewDecisionTime => "ReviewDecisionTime",
            Self::ReviewOldestWait => "ReviewOldestWait",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Self::StageLatency => Unit::Milliseconds,
            Self::ReviewDecisionTime | Self::ReviewOldestWait => Unit::Seconds,
            Self::OrdersPlaced
            | Self::OrdersRejected
            | Self::PaymentsFailed
            | Self::OrdersHeldForReview
            | Self::OrdersShipped
            | Self::OrdersDelivered
            | Self::DeliveryExceptions
            | Self::OrdersCancelled
            | Self::OrdersAmended
            | Self::ReturnsRequested
            | Self::OrdersRefunded
            | Self::MessagesSent
            | Self::MessagesUnconfirmed
            | Self::MessagesThrottled
            | Self::MessagesOvertaken
            | Self::NotificationsSuppressed
            | Self::IdempotentReplays
            | Self::BatchItemFailures
            | Self::ColdStarts
            | Self::OrdersStuck
            | Self::PaymentDisputes
            | Self::AuthorizationsEnded
            | Self::RefundsFailed => Unit::Count,
        }
    }
}

/// What a value is broken down by, besides the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// `placed_to_confirmed`, `confirmed_to_shipped`, `shipped_to_delivered`.
    Stage,
    /// Why an order was rejected or its payment failed.
    Reason,
    /// `email` or `sms`.
    Channel,
    /// The message's template: `order_confirmed`, `shipped`, ….
    Template,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stage => "stage",
            Self::Reason => "reason",
            Self::Channel => "channel",
            Self::Template => "template",
        }
    }
}

/// One value of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub metric: Metric,
    pub value: f64,
    pub dimensions: Vec<(Dimension, String)>,
}

impl Measurement {
    pub fn count(metric: Metric) -> Self {
        Self { metric, value: 1.0, dimensions: Vec::new() }
    }

    pub fn by(mut self, dimension: Dimension, value: impl Into<String>) -> Self {
        self.dimensions.push((dimension, value.into()));
        self
    }
}

/// The EMF document of one measurement, as `function` reports it at `at`.
pub fn emf(function: &str, measurement: &Measurement, at: DateTime<Utc>) -> Value {
    let mut dimensions = vec![Value::from("function")];
    let mut root = Map::new();
    root.insert("function".into(), Value::from(function));
    for (dimension, value) in &measurement.dimensions {
        dimensions.push(Value::from(dimension.as_str()));
        root.insert(dimension.as_str().into(), Value::from(value.as_str()));
    }
    let metric = measurement.metric;
    root.insert(metric.name().into(), json!(measurement.value));
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": [{"Name": metric.name(), "Unit": metric.unit().as_str()}]
            }]
        }),
    );
    Value::Object(root)
}

fn function_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned()))
}

/// Writes the measurements to stdout, one EMF line each. A failed write loses a metric, never
/// the work it measures.
pub fn emit(measurements: &[Measurement]) {
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    for measurement in measurements {
        let _ = writeln!(out, "{}", emf(function_name(), measurement, now));
    }
}

/// What an order's new version means to the business, for the stream-router to emit once per
/// version it publishes: the step it reached (with why, for failures) and how long the stage
/// that ended took.
pub fn for_order_version(order: &Order) -> Vec<Measurement> {
    use crate::domain::EventType;
    let metric = match order.last_event() {
        EventType::Reached(status) => match status {
            OrderStatus::Placed => Metric::OrdersPlaced,
            OrderStatus::Rejected => Metric::OrdersRejected,
            OrderStatus::PaymentFailed => Metric::PaymentsFailed,
            OrderStatus::OnHold => Metric::OrdersHeldForReview,
            OrderStatus::Shipped => Metric::OrdersShipped,
            OrderStatus::Delivered => Metric::OrdersDelivered,
            OrderStatus::DeliveryException => Metric::DeliveryExceptions,
            OrderStatus::Cancelled => Metric::OrdersCancelled,
            OrderStatus::ReturnRequested => Metric::ReturnsRequested,
            OrderStatus::Refunded => Metric::OrdersRefunded,
            OrderStatus::PaymentAuthorized => return stage(order, "placed_to_confirmed", Some(order.created_at)),
            OrderStatus::Reserved
            | OrderStatus::Fulfilling
            | OrderStatus::InTransit
            | OrderStatus::OutForDelivery
            | OrderStatus::Returned => return Vec::new(),
        },
        EventType::Modified => Metric::OrdersAmended,
        EventType::DeliveryDelayed => Metric::DeliveryExceptions,
        EventType::RefundIssued => Metric::OrdersRefunded,
        EventType::DisputeUpdated => Metric::PaymentDisputes,
        EventType::AuthorizationEnded => Metric::AuthorizationsEnded,
        EventType::RefundFailed => Metric::RefundsFailed,
        // Counted by the notifier as the message it sends.
        EventType::TrackingUpdated | EventType::ApologySent => return Vec::new(),
    };
    let mut measurement = Measurement::count(metric);
    if let Some(reason) = order.status_reason.as_ref().filter(|_| metric_has_reason(metric)) {
        measurement = measurement.by(Dimension::Reason, reason_name(reason));
    }
    let mut measurements = vec![measurement];
    match metric {
        Metric::OrdersShipped => {
            let authorized = order.payment.authorization.as_ref().and_then(|authorization| authorization.authorized_at);
            measurements.extend(stage(order, "confirmed_to_shipped", authorized));
        }
        Metric::OrdersDelivered => {
            let shipped = order.shipments.iter().map(|parcel| parcel.shipped_at).max();
            let delivered = order
                .shipments
                .iter()
                .filter(|parcel| parcel.status == ParcelStatus::Delivered)
                .filter_map(|parcel| parcel.status_at)
                .max();
            if let (Some(shipped), Some(delivered)) = (shipped, delivered) {
                measurements.push(latency("shipped_to_delivered", delivered - shipped));
            }
        }
        // Only these two metrics end a stage with a latency of their own.
        _ => {}
    }
    measurements
}

fn metric_has_reason(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::OrdersRejected | Metric::PaymentsFailed | Metric::OrdersCancelled | Metric::PaymentDisputes
    )
}

/// The reason's kind, or for a decline its provider code (`insufficient_funds`).
fn reason_name(reason: &StatusReason) -> String {
    match reason {
        StatusReason::PaymentDeclined { decline } => decline.code.clone(),
        StatusReason::Cancelled { requested_by, .. } => match requested_by {
            crate::domain::Requester::Storefront { .. } => "by_storefront".to_owned(),
            crate::domain::Requester::Operator { .. } => "by_operator".to_owned(),
        },
        // Every other reason is named by its kind, which `StatusReason::kind` names exhaustively.
        other => other.kind().to_owned(),
    }
}

/// The stage that ended at the order's last update, if it is known when it began.
fn stage(order: &Order, name: &str, began: Option<DateTime<Utc>>) -> Vec<Measurement> {
    began.map(|began| latency(name, order.updated_at - began)).into_iter().collect()
}

fn latency(stage: &str, took: chrono::Duration) -> Measurement {
    Measurement {
        metric: Metric::StageLatency,
        value: took.num_milliseconds().max(0) as f64,
        dimensions: vec![(Dimension::Stage, stage.to_owned())],
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::{Authorization, Decline, Money, tests::sample_order};

    #[test]
    fn a_measurement_is_one_emf_document_with_its_dimensions_at_the_root() {
        let measurement = Measurement::count(Metric::MessagesSent)
            .by(Dimension::Channel, "email")
            .by(Dimension::Template, "order_confirmed");
        let document = emf("notifier", &measurement, DateTime::UNIX_EPOCH + Duration::seconds(2));
        assert_eq!(
            document,
            json!({
                "function": "notifier", "channel": "email", "template": "order_confirmed", "MessagesSent": 1.0,
                "_aws": {"Timestamp": 2000, "CloudWatchMetrics": [{"Namespace": "Orderflow",
                    "Dimensions": [["function", "channel", "template"]],
                    "Metrics": [{"Name": "MessagesSent", "Unit": "Count"}]}]}
            })
        );
    }

    #[test]
    fn each_business_step_counts_once_with_its_reason_and_the_stage_it_ended() {
        let order = sample_order();
        assert_eq!(for_order_version(&order), [Measurement::count(Metric::OrdersPlaced)]);
        let later = order.created_at + Duration::milliseconds(1_500);
        let reserved = order.clone().with_change(&order.transition(OrderStatus::Reserved, later).unwrap());
        assert!(for_order_version(&reserved).is_empty());
        let mut authorized = reserved.transition(OrderStatus::PaymentAuthorized, later).unwrap();
        let mut payment = reserved.payment.clone();
        let amount = Money::zero(reserved.currency);
        payment.authorization = Some(Authorization { id: "pi".parse().unwrap(), amount, authorized_at: Some(later) });
        authorized = authorized.with_payment(payment);
        let confirmed = reserved.clone().with_change(&authorized);
        assert_eq!(for_order_version(&confirmed), [latency("placed_to_confirmed", Duration::milliseconds(1_500))]);
        let declined = reserved
            .transition(OrderStatus::PaymentFailed, later)
            .unwrap()
            .because(StatusReason::PaymentDeclined { decline: Decline::from_code("insufficient_funds") });
        let failed = reserved.clone().with_change(&declined);
        assert_eq!(
            for_order_version(&failed),
            [Measurement::count(Metric::PaymentsFailed).by(Dimension::Reason, "insufficient_funds")]
        );
    }

    #[test]
    fn every_metric_has_a_cloudwatch_unit() {
        for metric in Metric::ALL {
            assert!(["Count", "Milliseconds", "Seconds"].contains(&metric.unit().as_str()), "{metric:?}");
        }
    }
}
