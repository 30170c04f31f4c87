//! The `watchdog` Lambda: on its schedule, counts the orders that have sat in one status longer
//! than `STUCK_POLICY` allows, emits `OrdersStuck` (in all, and per status) and logs a few of
//! them for the operator.

use chrono::{DateTime, Duration, Utc};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::{
    adapters::dynamodb::DynamoStore,
    app::watchdog::{StuckPolicy, StuckReport, check, review_wait},
    config::{ConfigError, Env},
    domain::{BusinessHours, DeskPolicy, OrderStatus},
    metrics,
};

#[derive(Debug, Clone)]
pub struct WatchdogHandler {
    orders: DynamoStore,
    limits: Vec<(OrderStatus, Duration)>,
    /// When the review SLA's clock runs.
    desk_hours: BusinessHours,
}

impl WatchdogHandler {
    /// The store's tables, `STUCK_POLICY` and `DESK_POLICY`.
    pub fn from_env(client: aws_sdk_dynamodb::Client, env: &Env) -> Result<Self, ConfigError> {
        let limits = env
            .json::<StuckPolicy>("STUCK_POLICY")?
            .limits()
            .map_err(|error| ConfigError::Malformed { name: "STUCK_POLICY", source: Box::new(error) })?;
        let desk = env
            .json::<DeskPolicy>("DESK_POLICY")?
            .check()
            .map_err(|error| ConfigError::Malformed { name: "DESK_POLICY", source: Box::new(error) })?;
        Ok(Self { orders: DynamoStore::from_env(client, env)?, limits, desk_hours: desk.business_hours })
    }

    /// One scheduled check, as of the event's `time` (now if it has none). The report is the
    /// invocation's answer.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<StuckReport, lambda_runtime::Error> {
        let now =
            event.payload["time"].as_str().and_then(|time| time.parse::<DateTime<Utc>>().ok()).unwrap_or_else(Utc::now);
        let report = check(&self.orders, &self.limits, now).await?;
        for (status, count) in &report.stuck {
            let examples: Vec<String> =
                report.examples.get(status).into_iter().flatten().map(ToString::to_string).collect();
            tracing::warn!(%status, count, examples = ?examples, "orders stuck past their status's limit");
        }
        metrics::emit(&report.metrics());
        metrics::emit(&[review_wait(&self.orders, &self.desk_hours, now).await?]);
        Ok(report)
    }
}
