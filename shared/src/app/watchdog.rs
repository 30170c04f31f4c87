//! Orders that stopped moving: each status that waits on the pipeline (or a partner) has a
//! limit, and a scheduled check counts the orders that have sat in it longer. Every such order
//! is an operator's job: a lost event (`orderctl replay`), a warehouse that never answered, a
//! review nobody took.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::{
    domain::{BusinessHours, OrderId, OrderStatus, StalledOrders, StoreError},
    metrics::{Dimension, Measurement, Metric},
};

/// How long an order may wait in each status before it counts as stuck, in minutes. Statuses
/// it does not name never count (terminal ones, DELIVERED).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct StuckPolicy(BTreeMap<OrderStatus, u32>);

#[derive(Debug, thiserror::Error)]
#[error("{0} is not an order status that waits on anything")]
pub struct InvalidStuckPolicy(OrderStatus);

impl StuckPolicy {
    /// The limits by status, refusing statuses that never move on (a name that is no status
    /// does not parse).
    pub fn limits(&self) -> Result<Vec<(OrderStatus, Duration)>, InvalidStuckPolicy> {
        self.0
            .iter()
            .map(|(status, minutes)| {
                if !status.awaits_progress() {
                    return Err(InvalidStuckPolicy(*status));
                }
                Ok((*status, Duration::minutes(i64::from(*minutes))))
            })
            .collect()
    }
}

/// What one check found: per status, how many orders are past the limit, and a few of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StuckReport {
    pub stuck: BTreeMap<OrderStatus, usize>,
    pub examples: BTreeMap<OrderStatus, Vec<OrderId>>,
}

impl StuckReport {
    /// `OrdersStuck` in all (what the alarm watches) and per status.
    pub fn metrics(&self) -> Vec<Measurement> {
        let total = self.stuck.values().sum::<usize>();
        let mut measurements = vec![Measurement { value: total as f64, ..Measurement::count(Metric::OrdersStuck) }];
        measurements.extend(self.stuck.iter().map(|(status, count)| Measurement {
            value: *count as f64,
            ..Measurement::count(Metric::OrdersStuck).by(Dimension::Stage, status.as_str())
        }));
        measurements
    }
}

/// Counts the orders past each limit at `now`.
pub async fn check(
    orders: &impl StalledOrders,
    limits: &[(OrderStatus, Duration)],
    now: DateTime<Utc>,
) -> Result<StuckReport, StoreError> {
    const EXAMPLES: usize = 10;
    let mut report = StuckReport::default();
    for (status, limit) in limits {
        let (count, examples) = orders.stalled(*status, now - *limit, EXAMPLES).await?;
        if count > 0 {
            report.stuck.insert(*status, count);
            report.examples.insert(*status, examples);
        }
    }
    Ok(report)
}

/// How long the oldest held order has waited for the desk, in the desk's business hours: what
/// the review SLA alarm watches (zero when nothing is held, so the alarm sees data).
pub async fn review_wait(
    orders: &impl StalledOrders,
    hours: &BusinessHours,
    now: DateTime<Utc>,
) -> Result<Measurement, StoreError> {
    let waited = match orders.oldest(OrderStatus::OnHold).await? {
        Some(since) => hours.open_between(since, now).num_seconds(),
        None => 0,
    };
    Ok(Measurement { value: waited as f64, ..Measurement::count(Metric::ReviewOldestWait) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_names_only_statuses_that_wait_on_something() {
        let policy: StuckPolicy = serde_json::from_str(r#"{"PLACED": 5, "FULFILLING": 2880}"#).unwrap();
        assert_eq!(
            policy.limits().unwrap(),
            [(OrderStatus::Placed, Duration::minutes(5)), (OrderStatus::Fulfilling, Duration::days(2))]
        );
        for bad in [r#"{"DELIVERED": 5}"#, r#"{"CANCELLED": 1}"#] {
            assert!(serde_json::from_str::<StuckPolicy>(bad).unwrap().limits().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<StuckPolicy>(r#"{"PLACED_": 5}"#).is_err(), "no such status");
        let terminal: Vec<_> = OrderStatus::ALL.into_iter().filter(|status| status.is_terminal()).collect();
        assert!(terminal.iter().all(|status| !status.awaits_progress()));
    }

    #[test]
    fn a_report_counts_in_all_and_per_status() {
        let report = StuckReport {
            stuck: BTreeMap::from([(OrderStatus::Placed, 2), (OrderStatus::Fulfilling, 1)]),
            examples: BTreeMap::new(),
        };
        let metrics = report.metrics();
        assert_eq!(metrics[0].value, 3.0);
        assert!(metrics[0].dimensions.is_empty());
        assert_eq!(metrics.len(), 3);
        assert!(StuckReport::default().metrics()[0].value == 0.0, "a quiet check reports zero, so the alarm sees data");
    }
}
