//! The template's event sources (`Events` of each function), read the way SAM turns them into
//! event source mappings and rules, and what every player of them shares: invoking a function
//! with a batch, logging it, and the chaos switch that delivers every batch more than once.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    lambda::filter::{FilterError, Filters},
    lambda::runtime::{FunctionHost, InvokeError},
    observe::journal::{InvocationRecord, Journal, Outcome},
    stack::provision::Stack,
    stack::template::{TemplateError, resolve, scalar_text},
};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{function}.{event}: {source}")]
    Filter {
        function: String,
        event: String,
        #[source]
        source: FilterError,
    },
    #[error("{function}.{event}: {problem}")]
    Invalid { function: String, event: String, problem: String },
}

/// `StartingPosition` of a stream mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamSource {
    pub stream_arn: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub starting_position: StartingPosition,
    pub filters: Filters,
    pub report_item_failures: bool,
    pub bisect_on_error: bool,
    /// `None`: retry until the records expire, as Lambda does with -1.
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_record_age: Option<Duration>,
    /// The ARN of the on-failure destination.
    pub on_failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueSource {
    pub queue_arn: String,
    pub queue_url: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub filters: Filters,
    pub report_item_failures: bool,
    /// Batches in flight at once: `ScalingConfig.MaximumConcurrency`, else [`QUEUE_POLLERS`].
    pub pollers: usize,
}

/// Batches an SQS mapping without `MaximumConcurrency` keeps in flight locally. Lambda starts
/// with five and scales out with the backlog; two are enough for a queue's messages to race,
/// without a laptop's moto answering five pollers per queue.
pub const QUEUE_POLLERS: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSource {
    /// `rate(5 minutes)` or `cron(...)`.
    pub expression: String,
    pub input: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Stream(StreamSource),
    Queue(QueueSource),
    Schedule(ScheduleSource),
}

/// One event of one function: `StreamRouterFunction.OrdersStream`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSource {
    pub function: String,
    pub event: String,
    pub source: Source,
}

impl EventSource {
    /// How the invocation log names this trigger.
    pub fn trigger(&self) -> String {
        match &self.source {
            Source::Stream(_) => format!("dynamodb {}", self.event),
            Source::Queue(_) => format!("sqs {}", self.event),
            Source::Schedule(schedule) => format!("schedule {}", schedule.expression),
        }
    }
}

/// Every DynamoDB, SQS and Schedule event of every function of the stack (HttpApi events are
/// routes: see `apigw`). Disabled ones (`Enabled: false`) are left out.
pub fn event_sources(stack: &Stack) -> Result<Vec<EventSource>, SourceError> {
    let mut sources = Vec::new();
    for (function, resource) in stack.template.of_type("AWS::Serverless::Function") {
        let Some(events) = resource.properties.get("Events").and_then(Value::as_object) else { continue };
        for (event, definition) in events {
            let properties = resolve(definition.get("Properties").unwrap_or(&Value::Null), stack)?;
            if properties.get("Enabled").map(scalar_text).as_deref() == Some("false") {
                continue;
            }
            let invalid = |problem: &str| SourceError::Invalid {
                function: function.clone(),
                event: event.clone(),
                problem: problem.to_owned(),
            };
            let filters = || {
                Filters::from_criteria(properties.get("FilterCriteria")).map_err(|source| SourceError::Filter {
                    function: function.clone(),
                    event: event.clone(),
                    source,
                })
            };
            let number = |name: &str| properties.get(name).map(scalar_text).and_then(|text| text.parse::<i64>().ok());
            let seconds = |name: &str| Duration::from_secs(number(name).unwrap_or(0).max(0).unsigned_abs());
            let report_item_failures = properties
                .get("FunctionResponseTypes")
                .and_then(Value::as_array)
                .is_some_and(|types| types.iter().any(|kind| kind == "ReportBatchItemFailures"));
            let source = match definition.get("Type").and_then(Value::as_str) {
                Some("DynamoDB") => Source::Stream(StreamSource {
                    stream_arn: text(&properties, "Stream").ok_or_else(|| invalid("Stream is missing"))?,
                    batch_size: number("BatchSize").unwrap_or(100).clamp(1, 10_000).unsigned_abs() as usize,
                    batching_window: seconds("MaximumBatchingWindowInSeconds"),
                    starting_position: match text(&properties, "StartingPosition").as_deref() {
                        Some("LATEST") => StartingPosition::Latest,
                        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
                        _ => return Err(invalid("StartingPosition must be TRIM_HORIZON or LATEST")),
                    },
                    filters: filters()?,
                    report_item_failures,
                    bisect_on_error: text(&properties, "BisectBatchOnFunctionError").as_deref() == Some("true"),
                    maximum_retry_attempts: number("MaximumRetryAttempts")
                        .filter(|attempts| *attempts >= 0)
                        .map(|attempts| u32::try_from(attempts).unwrap_or(u32::MAX)),
                    maximum_record_age: number("MaximumRecordAgeInSeconds")
                        .filter(|age| *age > 0)
                        .map(|age| Duration::from_secs(age.unsigned_abs())),
                    on_failure: properties
                        .pointer("/DestinationConfig/OnFailure/Destination")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                }),
                Some("SQS") => {
                    let queue_arn = text(&properties, "Queue").ok_or_else(|| invalid("Queue is missing"))?;
                    let queue_url = stack
                        .queue_url_by_arn(&queue_arn)
                        .ok_or_else(|| invalid(&format!("{queue_arn} is not a queue of this stack")))?;
                    Source::Queue(QueueSource {
                        queue_arn,
                        queue_url,
                        batch_size: number("BatchSize").unwrap_or(10).clamp(1, 10_000).unsigned_abs() as usize,
                        batching_window: seconds("MaximumBatchingWindowInSeconds"),
                        filters: filters()?,
                        report_item_failures,
                        pollers: properties
                            .pointer("/ScalingConfig/MaximumConcurrency")
                            .map(scalar_text)
                            .and_then(|text| text.parse::<usize>().ok())
                            .unwrap_or(QUEUE_POLLERS)
                            .max(1),
                    })
                }
                Some("Schedule" | "ScheduleV2") => Source::Schedule(ScheduleSource {
                    expression: text(&properties, "Schedule")
                        .or_else(|| text(&properties, "ScheduleExpression"))
                        .ok_or_else(|| invalid("Schedule is missing"))?,
                    input: text(&properties, "Input").and_then(|input| serde_json::from_str(&input).ok()),
                }),
                _ => continue,
            };
            sources.push(EventSource { function: function.clone(), event: event.clone(), source });
        }
    }
    Ok(sources)
}

fn text(properties: &Value, name: &str) -> Option<String> {
    properties.get(name).map(scalar_text)
}

/// The chaos switch: every batch is delivered `copies` times, each time in a shuffled order.
/// Only the last delivery's answer counts, as when a duplicate's answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chaos {
    pub copies: u32,
    pub seed: u64,
}

impl Default for Chaos {
    fn default() -> Self {
        Self { copies: 1, seed: 0 }
    }
}

impl Chaos {
    pub fn is_on(&self) -> bool {
        self.copies > 1
    }
}

/// Invokes `host` with one batch of `records`, as the player of `trigger` does, logging every
/// delivery; under chaos, delivers duplicates first.
#[derive(Debug)]
pub struct Invoker {
    pub host: std::sync::Arc<FunctionHost>,
    pub journal: Journal,
    pub trigger: String,
    pub chaos: Chaos,
    random: fastrand::Rng,
}

impl Invoker {
    pub fn new(host: std::sync::Arc<FunctionHost>, journal: Journal, trigger: String, chaos: Chaos) -> Self {
        let random = fastrand::Rng::with_seed(
            chaos.seed ^ trigger.bytes().fold(0u64, |hash, byte| hash.wrapping_mul(31).wrapping_add(u64::from(byte))),
        );
        Self { host, journal, trigger, chaos, random }
    }

    pub async fn invoke(&mut self, records: &[Value]) -> Result<Value, InvokeError> {
        let mut answer = Err(InvokeError::Stopped);
        for _ in 0..self.chaos.copies.max(1) {
            let mut batch = records.to_vec();
            if self.chaos.is_on() {
                self.random.shuffle(&mut batch);
            }
            answer = self.invoke_once(json!({ "Records": batch }), batch.len()).await;
        }
        answer
    }

    /// One invocation with `payload`, logged.
    pub async fn invoke_once(&self, payload: Value, batch_size: usize) -> Result<Value, InvokeError> {
        let started = Instant::now();
        let answer = self.host.invoke(&payload).await;
        let outcome = match &answer {
            Ok(value) => match value.get("batchItemFailures").and_then(Value::as_array) {
                Some(failures) if !failures.is_empty() => Outcome::PartialFailure(failures.len()),
                _ => Outcome::Ok,
            },
            Err(error) => Outcome::Failed(error.to_string()),
        };
        self.journal.invocation(InvocationRecord {
            function: self.host.spec().name.clone(),
            trigger: self.trigger.clone(),
            batch_size,
            duration: started.elapsed(),
            outcome,
        });
        answer
    }
}

/// The item identifiers a function reported as failed; `None` when the answer is not a valid
/// batch response (Lambda then counts the whole batch as failed).
pub fn reported_failures(answer: &Value, known: &[String]) -> Option<Vec<String>> {
    let failures = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(failures)) => failures,
        Some(_) => return None,
    };
    failures
        .iter()
        .map(|failure| {
            let id = failure.get("itemIdentifier").and_then(Value::as_str).filter(|id| !id.is_empty())?;
            known.iter().any(|known| known == id).then(|| id.to_owned())
        })
        .collect()
}

/// Plays a `Schedule` event: `rate(...)` expressions fire on time; `cron(...)` ones are named
/// in the log and can be fired by hand with `Runner::invoke`.
pub async fn play_schedule(source: ScheduleSource, invoker: Invoker, rule_arn: String) {
    let Some(period) = rate_period(&source.expression) else {
        invoker.journal.note(format!("{}: only rate() schedules are played; fire it by hand", invoker.trigger));
        return;
    };
    loop {
        tokio::time::sleep(period).await;
        let payload = source.input.clone().unwrap_or_else(|| {
            json!({
                "version": "0",
                "id": format!("{:x}", fastrand::u128(..)),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": crate::stack::provision::ACCOUNT_ID,
                "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "region": crate::cloud::REGION,
                "resources": [rule_arn],
                "detail": {}
            })
        });
        let _busy = invoker.journal.begin();
        let _ = invoker.invoke_once(payload, 1).await;
    }
}

/// `rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)`.
pub fn rate_period(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: u64 = count.parse().ok().filter(|count| *count > 0)?;
    let unit_seconds = match unit.trim().trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3_600,
        "day" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(count * unit_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_responses_are_checked_against_the_batch() {
        let known = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(reported_failures(&json!({}), &known), Some(vec![]));
        assert_eq!(reported_failures(&json!({ "batchItemFailures": [] }), &known), Some(vec![]));
        let one = json!({ "batchItemFailures": [{ "itemIdentifier": "b" }] });
        assert_eq!(reported_failures(&one, &known), Some(vec!["b".to_owned()]));
        assert_eq!(reported_failures(&json!({ "batchItemFailures": [{ "itemIdentifier": "z" }] }), &known), None);
        assert_eq!(reported_failures(&json!({ "batchItemFailures": [{}] }), &known), None);
        assert_eq!(reported_failures(&json!({ "batchItemFailures": "b" }), &known), None);
    }

    #[test]
    fn rates_are_read_and_crons_are_not() {
        assert_eq!(rate_period("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(rate_period("rate(2 hours)"), Some(Duration::from_secs(7_200)));
        assert_eq!(rate_period("rate(1 day)"), Some(Duration::from_secs(86_400)));
        assert_eq!(rate_period("rate(0 days)"), None);
        assert_eq!(rate_period("cron(0 9 * * ? *)"), None);
    }
}
