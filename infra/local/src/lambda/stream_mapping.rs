//! Plays a DynamoDB stream event source mapping as Lambda does, per shard and in order: filter
//! the records, gather up to `BatchSize` (waiting up to `MaximumBatchingWindowInSeconds`),
//! invoke, and hold the shard until the batch is done with:
//!
//! - a reported failure (`ReportBatchItemFailures`) retries from the reported record on;
//! - a function error splits the batch in two (`BisectBatchOnFunctionError`), each half retried
//!   on its own; splitting does not use up retries;
//! - after `MaximumRetryAttempts` retries, or once records are older than
//!   `MaximumRecordAgeInSeconds`, the batch is described to the on-failure destination and the
//!   shard moves past it.

use std::{
    collections::{BTreeMap, VecDeque},
    time::{Duration, Instant},
};

use aws_sdk_dynamodbstreams::Client as StreamsClient;
use aws_sdk_sqs::Client as SqsClient;
use serde_json::{Value, json};

use crate::{
    lambda::sources::{Invoker, StartingPosition, StreamSource, reported_failures},
    lambda::streams::StreamReader,
    observe::journal::Busy,
};

const IDLE_POLL: Duration = Duration::from_millis(200);

/// How the player waits between retries of a failing batch.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub longest_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { first_delay: Duration::from_millis(200), longest_delay: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    fn delay(&self, retry: u32) -> Duration {
        self.first_delay.saturating_mul(1 << retry.min(10)).min(self.longest_delay)
    }
}

/// Why a batch went to the on-failure destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GiveUp {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

#[derive(Debug)]
pub struct StreamPlayer {
    pub source: StreamSource,
    pub streams: StreamsClient,
    pub sqs: SqsClient,
    pub invoker: Invoker,
    pub retry: RetryPolicy,
    /// The URL of the on-failure destination queue, if the mapping names one.
    pub on_failure_url: Option<String>,
}

impl StreamPlayer {
    pub async fn play(mut self) {
        let mut reader = StreamReader::new(self.streams.clone(), self.source.stream_arn.clone());
        if self.source.starting_position == StartingPosition::Latest {
            reader = reader.from_latest();
        }
        let journal = self.invoker.journal.clone();
        let reader_id = journal.add_reader();
        let mut waiting: BTreeMap<String, (Instant, Vec<Value>)> = BTreeMap::new();
        // Records held back to fill a batch are work the pipeline has not done yet.
        let mut holding: Option<Busy> = None;
        loop {
            let began = Instant::now();
            match reader.next_records_by_shard(1_000).await {
                Ok(by_shard) if by_shard.is_empty() && waiting.is_empty() => journal.caught_up(reader_id, began),
                Ok(by_shard) => {
                    for (shard, records) in by_shard {
                        let accepted = records.into_iter().filter(|record| self.source.filters.accepts(record));
                        let entry = waiting.entry(shard).or_insert_with(|| (Instant::now(), Vec::new()));
                        entry.1.extend(accepted);
                    }
                }
                Err(error) => {
                    self.invoker.journal.note(format!("{}: reading the stream failed: {error}", self.invoker.trigger))
                }
            }
            let mut delivered_any = false;
            for (shard, (since, records)) in &mut waiting {
                let full = records.len() >= self.source.batch_size;
                if records.is_empty() || (!full && since.elapsed() < self.source.batching_window) {
                    continue;
                }
                let batch: Vec<Value> = records.drain(..records.len().min(self.source.batch_size)).collect();
                *since = Instant::now();
                delivered_any = true;
                self.deliver(shard, batch).await;
            }
            waiting.retain(|_, (_, records)| !records.is_empty());
            if waiting.is_empty() {
                holding = None;
            } else if holding.is_none() {
                holding = Some(journal.begin());
            }
            if !delivered_any {
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }

    /// Delivers one batch until it succeeds or is given up on.
    async fn deliver(&mut self, shard: &str, batch: Vec<Value>) {
        let _busy = self.invoker.journal.begin();
        let mut work = VecDeque::from([(batch, 0u32)]);
        while let Some((batch, retries)) = work.pop_front() {
            let (expired, batch) = self.split_expired(batch);
            if !expired.is_empty() {
                self.give_up(shard, &expired, GiveUp::RecordAgeExceeded, retries).await;
            }
            if batch.is_empty() {
                continue;
            }
            let sequence_numbers: Vec<String> = batch.iter().map(sequence_number).collect();
            let retry_from = match self.invoker.invoke(&batch).await {
                Ok(answer) if self.source.report_item_failures => match reported_failures(&answer, &sequence_numbers) {
                    // The earliest reported record: everything before it is done.
                    Some(failed) => {
                        failed.iter().filter_map(|id| sequence_numbers.iter().position(|known| known == id)).min()
                    }
                    None => Some(0),
                },
                Ok(_) => None,
                Err(_) if self.source.bisect_on_error && batch.len() > 1 => {
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    work.push_front((second, retries));
                    work.push_front((first, retries));
                    continue;
                }
                Err(_) => Some(0),
            };
            let Some(from) = retry_from else { continue };
            let remaining = batch[from..].to_vec();
            if self.source.maximum_retry_attempts.is_some_and(|maximum| retries >= maximum) {
                self.give_up(shard, &remaining, GiveUp::RetryAttemptsExhausted, retries + 1).await;
            } else {
                tokio::time::sleep(self.retry.delay(retries)).await;
                work.push_front((remaining, retries + 1));
            }
        }
    }

    fn split_expired(&self, batch: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
        let Some(age) = self.source.maximum_record_age else { return (Vec::new(), batch) };
        let oldest_allowed = chrono::Utc::now().timestamp() - i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        batch.into_iter().partition(|record| arrival(record).is_some_and(|arrival| (arrival as i64) < oldest_allowed))
    }

    /// Describes the batch to the on-failure destination, in Lambda's shape, and moves on.
    async fn give_up(&self, shard: &str, records: &[Value], why: GiveUp, invocations: u32) {
        let (Some(first), Some(last)) = (records.first(), records.last()) else { return };
        let condition = match why {
            GiveUp::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            GiveUp::RecordAgeExceeded => "RecordAgeExceeded",
        };
        let timestamp = |record: &Value| {
            arrival(record)
                .and_then(|seconds| chrono::DateTime::from_timestamp(seconds as i64, 0))
                .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        };
        let report = json!({
            "requestContext": {
                "requestId": format!("{:x}", fastrand::u128(..)),
                "functionArn": self.invoker.host.spec().arn,
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
            "version": "1.0",
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": sequence_number(first),
                "endSequenceNumber": sequence_number(last),
                "approximateArrivalOfFirstRecord": timestamp(first),
                "approximateArrivalOfLastRecord": timestamp(last),
                "batchSize": records.len(),
                "streamArn": self.source.stream_arn,
            }
        });
        let journal = &self.invoker.journal;
        let Some(destination) = &self.on_failure_url else {
            journal.note(format!(
                "{}: {condition}; {} record(s) skipped (no destination)",
                self.invoker.trigger,
                records.len()
            ));
            return;
        };
        let sent = self.sqs.send_message().queue_url(destination).message_body(report.to_string()).send().await.is_ok();
        journal.note(format!(
            "{}: {condition}; {} record(s) {} the on-failure destination",
            self.invoker.trigger,
            records.len(),
            if sent { "described to" } else { "COULD NOT be described to" }
        ));
    }
}

fn sequence_number(record: &Value) -> String {
    record.pointer("/dynamodb/SequenceNumber").and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn arrival(record: &Value) -> Option<f64> {
    record.pointer("/dynamodb/ApproximateCreationDateTime").and_then(Value::as_f64)
}
