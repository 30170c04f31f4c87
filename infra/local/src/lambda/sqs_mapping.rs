//! Plays an SQS event source mapping as Lambda does: receive up to `BatchSize` messages
//! (waiting up to `MaximumBatchingWindowInSeconds` to fill the batch), drop what the filters
//! refuse, invoke, then delete what succeeded. With `ReportBatchItemFailures` only the reported
//! messages stay; without it, or when the function fails, the whole batch stays. What stays
//! comes back after the queue's visibility timeout, and the queue's redrive policy moves it to
//! the dead-letter queue after `maxReceiveCount` receives.

use std::time::{Duration, Instant};

use aws_sdk_sqs::{
    Client,
    types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName},
};
use serde_json::{Map, Value, json};

use crate::lambda::sources::{Invoker, QueueSource, reported_failures};

const IDLE_POLL: Duration = Duration::from_millis(200);

/// One poller of a queue mapping; poller `index` waits `index + 1` idle polls when the queue is
/// empty, so the extra pollers cost moto little while nothing happens.
pub async fn play_queue(source: QueueSource, sqs: Client, mut invoker: Invoker, index: usize) {
    let idle_poll = IDLE_POLL * u32::try_from(index + 1).unwrap_or(1);
    loop {
        let messages = match receive_batch(&sqs, &source).await {
            Ok(messages) => messages,
            Err(error) => {
                invoker.journal.note(format!("{}: receiving failed: {error}", invoker.trigger));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            tokio::time::sleep(idle_poll).await;
            continue;
        }
        let _busy = invoker.journal.begin();
        let records: Vec<Value> = messages.iter().map(|message| lambda_record(message, &source.queue_arn)).collect();
        let (delivered, refused): (Vec<_>, Vec<_>) =
            messages.iter().zip(records).partition(|(_, record)| source.filters.accepts(&filterable(record)));
        // Lambda deletes the messages its filters refuse.
        delete(&sqs, &source, refused.iter().map(|(message, _)| *message)).await;
        if delivered.is_empty() {
            continue;
        }
        let ids: Vec<String> =
            delivered.iter().map(|(message, _)| message.message_id().unwrap_or_default().to_owned()).collect();
        let batch: Vec<Value> = delivered.iter().map(|(_, record)| record.clone()).collect();
        let failed = match invoker.invoke(&batch).await {
            Err(_) => ids.clone(),
            Ok(answer) if source.report_item_failures => {
                reported_failures(&answer, &ids).unwrap_or_else(|| ids.clone())
            }
            Ok(_) => Vec::new(),
        };
        let succeeded = delivered
            .iter()
            .map(|(message, _)| *message)
            .filter(|message| !failed.iter().any(|id| Some(id.as_str()) == message.message_id()));
        delete(&sqs, &source, succeeded).await;
    }
}

/// Up to `BatchSize` messages; short polls only, because the local cloud serves one request at
/// a time and a long poll would hold everyone else up.
async fn receive_batch(sqs: &Client, source: &QueueSource) -> Result<Vec<Message>, aws_sdk_sqs::Error> {
    let started = Instant::now();
    let mut batch: Vec<Message> = Vec::new();
    loop {
        let wanted = (source.batch_size - batch.len()).min(10);
        let output = sqs
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(i32::try_from(wanted).unwrap_or(10))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        let received = output.messages.unwrap_or_default();
        let got_none = received.is_empty();
        // A message whose visibility ran out while the batch filled is in it already.
        for message in received {
            if !batch.iter().any(|known| known.message_id() == message.message_id()) {
                batch.push(message);
            }
        }
        if batch.is_empty() || batch.len() >= source.batch_size || started.elapsed() >= source.batching_window {
            return Ok(batch);
        }
        if got_none {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn delete<'m>(sqs: &Client, source: &QueueSource, messages: impl Iterator<Item = &'m Message>) {
    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
        .enumerate()
        .filter_map(|(index, message)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(message.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    for chunk in entries.chunks(10) {
        let _ = sqs.delete_message_batch().queue_url(&source.queue_url).set_entries(Some(chunk.to_vec())).send().await;
    }
}

/// What filter patterns see: the record with a JSON body parsed.
fn filterable(record: &Value) -> Value {
    let mut view = record.clone();
    if let Some(body) = record.get("body").and_then(Value::as_str).and_then(|body| serde_json::from_str(body).ok()) {
        view["body"] = body;
    }
    view
}

/// One message as Lambda delivers it.
pub fn lambda_record(message: &Message, queue_arn: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes()
        .map(|attributes| {
            attributes.iter().map(|(name, value)| (name.as_str().to_owned(), Value::from(value.clone()))).collect()
        })
        .unwrap_or_default();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| {
                    (
                        name.clone(),
                        json!({
                            "stringValue": value.string_value(),
                            "stringListValues": value.string_list_values(),
                            "binaryListValues": [],
                            "dataType": value.data_type(),
                        }),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body().unwrap_or_default(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": crate::cloud::REGION,
    })
}
