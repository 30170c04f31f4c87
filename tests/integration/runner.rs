//! The local runner's trigger semantics, on its test bench (`tests/fixtures/runner-template.yaml`):
//! a probe function behind a queue and a table's stream, with real processes, the real runtime
//! API and moto doing the queueing.

use std::{path::Path, time::Duration};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use local::{
    Runner, RunnerOptions,
    lambda::sources::{Chaos, Source, StartingPosition, event_sources},
    lambda::stream_mapping::RetryPolicy,
    observe::journal::{InvocationRecord, Outcome},
};
use serde_json::{Value, json};

use crate::harness::{TestStack, eventually, moto_endpoint, unique_name};

const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) fn bench_options() -> RunnerOptions {
    let mut options = RunnerOptions::new(unique_name("bench"));
    options.template = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runner-template.yaml");
    options.binaries = Path::new(env!("CARGO_BIN_EXE_probe-function")).parent().unwrap().to_path_buf();
    options.moto_endpoint = Some(moto_endpoint().to_owned());
    options.start_localstripe = false;
    options.retry = RetryPolicy { first_delay: Duration::from_millis(50), longest_delay: Duration::from_millis(200) };
    options
}

async fn bench(chaos: Chaos) -> Runner {
    Runner::start(RunnerOptions { chaos, ..bench_options() }).await.unwrap()
}

/// What the probe saw, in order: its JSON log lines.
fn seen(runner: &Runner) -> Vec<Value> {
    runner
        .journal
        .function_logs()
        .into_iter()
        .filter_map(|(_, line)| serde_json::from_str::<Value>(&line).ok())
        .filter(|line| line.get("probe").is_some())
        .collect()
}

fn seen_ids(runner: &Runner, id: &str) -> Vec<Value> {
    seen(runner).into_iter().filter(|line| line["id"] == id).collect()
}

fn sqs(runner: &Runner) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&runner.sdk)
}

async fn send(runner: &Runner, bodies: &[Value]) {
    let entries = bodies
        .iter()
        .enumerate()
        .map(|(index, body)| {
            SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(body.to_string())
                .build()
                .unwrap()
        })
        .collect();
    let queue = runner.stack.reference_of("ProbeQueue").unwrap();
    sqs(runner).send_message_batch().queue_url(queue).set_entries(Some(entries)).send().await.unwrap();
}

/// Messages in a queue, visible or in flight.
async fn depth(runner: &Runner, queue: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName::{ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible};
    let url = runner.stack.reference_of(queue).unwrap();
    let output = sqs(runner)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(ApproximateNumberOfMessages)
        .attribute_names(ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let attributes = output.attributes.unwrap_or_default();
    [ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]
        .iter()
        .map(|name| attributes.get(name).and_then(|count| count.parse::<u64>().ok()).unwrap_or(0))
        .sum()
}

/// Receives and deletes one message of a queue.
async fn take_one(runner: &Runner, queue: &str) -> Option<Value> {
    let url = runner.stack.reference_of(queue).unwrap();
    let output = sqs(runner).receive_message().queue_url(&url).send().await.unwrap();
    let message = output.messages.unwrap_or_default().into_iter().next()?;
    sqs(runner).delete_message().queue_url(&url).receipt_handle(message.receipt_handle()?).send().await.unwrap();
    Some(serde_json::from_str(message.body()?).unwrap())
}

async fn put_items(runner: &Runner, items: &[(&str, Option<&str>)]) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&runner.sdk);
    let table = runner.stack.reference_of("ProbeTable").unwrap();
    for (key, behaviour) in items {
        let mut put = dynamodb.put_item().table_name(&table).item("pk", AttributeValue::S((*key).to_owned()));
        if let Some(behaviour) = behaviour {
            put = put.item("behaviour", AttributeValue::S((*behaviour).to_owned()));
        }
        put.send().await.unwrap();
    }
}

fn probe_invocations(runner: &Runner, trigger: &str) -> Vec<InvocationRecord> {
    runner.journal.invocations().into_iter().filter(|record| record.trigger == trigger).collect()
}

#[tokio::test]
async fn a_partial_batch_failure_retries_only_the_failed_message_until_it_is_dead_lettered() {
    let runner = bench(Chaos::default()).await;
    send(&runner, &[json!({ "id": "a" }), json!({ "id": "poison", "fail": true }), json!({ "id": "b" })]).await;

    let dead = eventually(PATIENCE, || take_one(&runner, "ProbeDeadLetterQueue")).await;
    assert_eq!(dead["id"], "poison");
    let receives: Vec<u64> = seen_ids(&runner, "poison").iter().map(|line| line["receive"].as_u64().unwrap()).collect();
    assert_eq!(receives, vec![1, 2, 3], "delivered maxReceiveCount times, then dead-lettered");
    for good in ["a", "b"] {
        assert_eq!(seen_ids(&runner, good).len(), 1, "{good} succeeded the first time and was deleted");
    }
    assert_eq!(depth(&runner, "ProbeQueue").await, 0);
    assert_eq!(depth(&runner, "ProbeDeadLetterQueue").await, 0, "only the poison message, once");
    assert_eq!(depth(&runner, "ProbeFailureQueue").await, 0, "and nowhere else");
    let outcomes: Vec<Outcome> =
        probe_invocations(&runner, "sqs Queue").into_iter().map(|record| record.outcome).collect();
    assert_eq!(outcomes, vec![Outcome::PartialFailure(1); 3]);
}

#[tokio::test]
async fn a_crashed_or_timed_out_function_is_restarted_and_its_batch_redelivered() {
    let runner = bench(Chaos::default()).await;
    send(&runner, &[json!({ "id": "crash", "crash_on_receive": 1 })]).await;
    eventually(PATIENCE, || async { (seen_ids(&runner, "crash").len() == 2).then_some(()) }).await;

    send(&runner, &[json!({ "id": "slow", "sleep_ms": 3000, "sleep_on_receive": 1 })]).await;
    eventually(PATIENCE, || async { (seen_ids(&runner, "slow").len() == 2).then_some(()) }).await;
    eventually(PATIENCE, || async { (depth(&runner, "ProbeQueue").await == 0).then_some(()) }).await;

    let outcomes: Vec<Outcome> =
        probe_invocations(&runner, "sqs Queue").into_iter().map(|record| record.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Failed("the process exited during the invocation (exit status: 3)".into()),
            Outcome::Ok,
            Outcome::Failed("timed out after 1s".into()),
            Outcome::Ok,
        ]
    );
    let (_, stats) = &runner.function_stats()["ProbeFunction"];
    assert_eq!(stats.processes_started, 3, "one at start, one after the crash, one after the timeout");
    assert_eq!(stats.ready_after.len(), 3);
    assert!(stats.peak_rss_kib.is_some());
    assert_eq!(depth(&runner, "ProbeDeadLetterQueue").await, 0);
}

/// The sequence number the probe saw for an item.
fn sequence_of(runner: &Runner, id: &str) -> Value {
    seen_ids(runner, id)[0]["seq"].clone()
}

#[tokio::test]
async fn a_failing_stream_batch_is_bisected_retried_and_described_to_the_on_failure_destination() {
    let runner = bench(Chaos::default()).await;
    put_items(&runner, &[("p1", None), ("p2", None), ("p3", Some("error")), ("p4", None)]).await;

    let report = eventually(PATIENCE, || take_one(&runner, "ProbeFailureQueue")).await;
    let batch = &report["DDBStreamBatchInfo"];
    assert_eq!(report["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(report["requestContext"]["approximateInvokeCount"], 3, "the first try and MaximumRetryAttempts: 2");
    assert_eq!(batch["batchSize"], 1, "bisected down to the poison record");
    assert_eq!(batch["startSequenceNumber"], sequence_of(&runner, "p3"));
    assert_eq!(batch["streamArn"], runner.stack.attribute_of("ProbeTable", "StreamArn").unwrap());
    eventually(PATIENCE, || async { (seen_ids(&runner, "p4").len() == 3).then_some(()) }).await;

    let batches: Vec<(usize, bool)> = probe_invocations(&runner, "dynamodb Stream")
        .into_iter()
        .map(|record| (record.batch_size, record.outcome == Outcome::Ok))
        .collect();
    assert_eq!(
        batches,
        vec![(4, false), (2, true), (2, false), (1, false), (1, false), (1, false), (1, true)],
        "all four fail; p1+p2 pass; p3+p4 fail; p3 alone fails three times and is given up; p4 passes"
    );
    assert_eq!(depth(&runner, "ProbeFailureQueue").await, 0, "one report only");
}

#[tokio::test]
async fn a_reported_stream_failure_retries_from_that_record_on() {
    let runner = bench(Chaos::default()).await;
    put_items(&runner, &[("q1", None), ("q2", Some("fail")), ("q3", None)]).await;

    let report = eventually(PATIENCE, || take_one(&runner, "ProbeFailureQueue")).await;
    assert_eq!(report["DDBStreamBatchInfo"]["startSequenceNumber"], sequence_of(&runner, "q2"));
    assert_eq!(report["DDBStreamBatchInfo"]["endSequenceNumber"], sequence_of(&runner, "q3"));
    assert_eq!(report["DDBStreamBatchInfo"]["batchSize"], 2);
    assert_eq!(seen_ids(&runner, "q1").len(), 1, "records before the reported one are done");
    assert_eq!(seen_ids(&runner, "q2").len(), 3);
    let sizes: Vec<usize> =
        probe_invocations(&runner, "dynamodb Stream").into_iter().map(|record| record.batch_size).collect();
    assert_eq!(sizes, vec![3, 2, 2]);
}

#[tokio::test]
async fn concurrent_invocations_run_in_sandboxes_of_their_own_up_to_the_function_s_concurrency() {
    let runner = bench(Chaos::default()).await;
    let slow = json!({"Records": [{"eventSource": "aws:sqs", "body": "{\"sleep_ms\": 500}",
        "attributes": {"ApproximateReceiveCount": "1"}}]});
    let answers = futures_util::future::join_all((0..4).map(|_| runner.invoke("ProbeFunction", &slow))).await;
    let mut pids: Vec<u64> = answers.into_iter().map(|answer| answer.unwrap()["pid"].as_u64().unwrap()).collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 4, "each invocation had a sandbox of its own, as on Lambda");
    let (_, stats) = &runner.function_stats()["ProbeFunction"];
    assert_eq!(stats.processes_started, 4);
    // One after another, they reuse the warm sandboxes.
    for _ in 0..3 {
        runner.invoke("ProbeFunction", &slow).await.unwrap();
    }
    assert_eq!(runner.function_stats()["ProbeFunction"].1.processes_started, 4);

    let stack = TestStack::new().await;
    let spec = |function: &str| {
        let binaries = Path::new("target");
        local::lambda::runtime::FunctionSpec::from_stack(
            &stack.stack,
            function,
            binaries,
            local::stack::iam::Enforcement::Off,
        )
        .unwrap()
        .concurrency
    };
    let reserved: usize = stack.stack.template.parameters["WebhookConcurrency"]["Default"].as_u64().unwrap() as usize;
    assert_eq!(spec("CarrierWebhookFunction"), reserved, "ReservedConcurrentExecutions caps it");
    assert_eq!(spec("IntakeFunction"), local::lambda::runtime::DEFAULT_CONCURRENCY);
}

#[tokio::test]
async fn the_chaos_switch_delivers_every_batch_several_times_in_shuffled_order() {
    let runner = bench(Chaos { copies: 3, seed: 7 }).await;
    send(&runner, &[json!({ "id": "x" }), json!({ "id": "y" }), json!({ "id": "z" })]).await;
    put_items(&runner, &[("s1", None), ("s2", None)]).await;

    eventually(PATIENCE, || async { (seen_ids(&runner, "s2").len() == 3).then_some(()) }).await;
    eventually(PATIENCE, || async { (depth(&runner, "ProbeQueue").await == 0).then_some(()) }).await;
    for id in ["x", "y", "z", "s1", "s2"] {
        assert_eq!(seen_ids(&runner, id).len(), 3, "{id} delivered three times");
    }
    let queue_orders: Vec<Vec<Value>> = seen(&runner)
        .into_iter()
        .filter(|line| line["probe"] == "sqs")
        .map(|line| line["id"].clone())
        .collect::<Vec<_>>()
        .chunks(3)
        .map(<[Value]>::to_vec)
        .collect();
    assert!(queue_orders.windows(2).any(|pair| pair[0] != pair[1]), "shuffled: {queue_orders:?}");
}

#[tokio::test]
async fn the_pipeline_s_stream_mapping_is_read_with_every_setting() {
    let cloud = TestStack::new().await;
    let sources = event_sources(&cloud.stack).unwrap();
    let router = sources.iter().find(|source| source.function == "StreamRouterFunction").unwrap();
    let Source::Stream(stream) = &router.source else { panic!("the router reads a stream") };
    assert_eq!(stream.stream_arn, cloud.stack.attribute_of("OrdersTable", "StreamArn").unwrap());
    assert_eq!((stream.batch_size, stream.batching_window), (100, Duration::from_secs(1)));
    assert_eq!(stream.starting_position, StartingPosition::TrimHorizon);
    assert!(stream.report_item_failures && stream.bisect_on_error);
    assert_eq!(stream.maximum_retry_attempts, Some(10));
    assert_eq!(stream.maximum_record_age, Some(Duration::from_secs(86_400)));
    assert_eq!(
        stream.on_failure.as_deref(),
        Some(cloud.stack.attribute_of("StreamRouterFailureQueue", "Arn").unwrap().as_str())
    );
    let head = json!({ "eventName": "MODIFY", "dynamodb": { "Keys": { "sk": { "S": "ORDER" } } } });
    let timeline = json!({ "eventName": "INSERT", "dynamodb": { "Keys": { "sk": { "S": "EVENT#1" } } } });
    assert!(stream.filters.accepts(&head) && !stream.filters.accepts(&timeline));
}

#[tokio::test]
async fn text_messages_sent_through_the_local_cloud_land_in_the_outbox() {
    let folder = std::env::temp_dir().join(unique_name("outbox"));
    let runner = Runner::start(RunnerOptions { outbox: Some(folder.clone()), ..bench_options() }).await.unwrap();
    let phone = format!("+1555{:07}", std::process::id() % 10_000_000);
    let sns = aws_sdk_sns::Client::new(&runner.sdk);
    sns.publish().phone_number(&phone).message("Your order has shipped").send().await.unwrap();

    let file = eventually(PATIENCE, || async {
        std::fs::read_dir(&folder).ok()?.filter_map(Result::ok).map(|entry| entry.path()).find(|path| {
            path.file_name().is_some_and(|name| name.to_string_lossy().ends_with(&format!("sms-{phone}.txt")))
        })
    })
    .await;
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(&phone) && text.contains("Your order has shipped"), "{text}");
    // Written once: the outbox reads only what is new, from the sidecar's record.
    sns.publish().phone_number(&phone).message("Delivered").send().await.unwrap();
    let mine = format!("sms-{phone}.txt");
    let written = |folder: &std::path::Path| {
        let names = std::fs::read_dir(folder).into_iter().flatten().filter_map(Result::ok);
        names.filter(|entry| entry.file_name().to_string_lossy().ends_with(&mine)).count()
    };
    eventually(PATIENCE, || async { (written(&folder) == 2).then_some(()) }).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(written(&folder), 2, "each message written once");
    let url = format!("{}{}", runner.moto_endpoint(), local::observe::outbox::OUTBOX_PATH);
    let everything = crate::harness::http("GET", &url, &[], "").await.json;
    let next = everything["next"].as_u64().unwrap();
    let nothing_new = crate::harness::http("GET", &format!("{url}?after={next}"), &[], "").await.json;
    assert_eq!(nothing_new, json!({"next": next}));
    let _ = std::fs::remove_dir_all(folder);
}
