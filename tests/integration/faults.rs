//! The fault layers (`--faults`) and the crash switch (`--crash`): AWS's and the payment
//! provider's failures as they answer them, applied or not, only to the stack asked for, and
//! processes killed part-way.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use local::{
    LocalStripe, Runner,
    cloud::faults::{self, Faults},
    lambda::runtime::InvokeError,
};
use serde_json::json;

use crate::harness::{TestStack, http, moto_endpoint};

#[tokio::test]
async fn a_faulted_stack_s_functions_see_aws_s_failures_some_applied_and_no_one_else_does() {
    let _turn = crate::harness::fault_layer_turn().await;
    let stack = TestStack::new().await;
    let bystander = TestStack::new().await;
    let faults = Faults { rate: 1.0, crash: 0.0, seed: 7 };
    faults::inject(moto_endpoint(), None, &stack.stack.name, faults, Duration::ZERO).await.unwrap();

    let put = |stack: &TestStack, key: String| {
        let request = stack
            .dynamodb_as("IntakeFunction")
            .put_item()
            .table_name(stack.table("OrdersTable"))
            .item("pk", AttributeValue::S(key))
            .item("sk", AttributeValue::S("FAULT".to_owned()));
        async move { request.send().await.map_err(|error| aws_sdk_dynamodb::Error::from(error).to_string()) }
    };
    let keys: Vec<String> = (0..12).map(|n| format!("FAULT#{n}")).collect();
    let answers = join_all(keys.iter().map(|key| put(&stack, key.clone()))).await;
    let injected = faults::injected(moto_endpoint(), None).await.unwrap();
    faults::inject(moto_endpoint(), None, &stack.stack.name, Faults::default(), Duration::ZERO).await.unwrap();

    assert!(answers.iter().all(Result::is_err), "every call failed: {answers:?}");
    let stored = stack.items("OrdersTable").await.len();
    assert!(stored > 0 && stored < keys.len(), "some were applied, their answers lost ({stored} of {})", keys.len());
    assert!(injected.aws.keys().any(|kind| kind.starts_with("applied")), "{injected:?}");
    assert!(injected.aws.contains_key("throttled"), "{injected:?}");

    assert!(put(&bystander, "FAULT#other".to_owned()).await.is_ok(), "another stack is never faulted");
    assert!(put(&stack, "FAULT#after".to_owned()).await.is_ok(), "rate 0 switches it off");
}

#[tokio::test]
async fn the_payment_provider_fails_as_stripe_does_and_an_applied_call_is_replayed_by_its_key() {
    let stripe = tokio::task::spawn_blocking(|| LocalStripe::start(0)).await.unwrap().unwrap();
    let endpoint = stripe.endpoint().to_owned();
    let address = endpoint.trim_start_matches("http://").to_owned();
    crate::harness::eventually(Duration::from_secs(10), || {
        let address = address.clone();
        async move { tokio::net::TcpStream::connect(address).await.ok().map(drop) }
    })
    .await;
    let settings = json!({"rate": 1.0, "seed": 3, "timeout_seconds": 0.1}).to_string();
    let control = format!("{endpoint}/orderflow/faults");
    let json_type = [("Content-Type", "application/json")];
    assert_eq!(http("POST", &control, &json_type, settings).await.status, 200);
    let create = |key: String| {
        let url = format!("{endpoint}/v1/customers");
        async move {
            let headers = [
                ("Authorization", "Bearer sk_test_orderflow_local"),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Idempotency-Key", key.as_str()),
            ];
            http("POST", &url, &headers, "description=fault").await
        }
    };
    let keys: Vec<String> = (0..16).map(|n| format!("fault-{n}")).collect();
    let faulted = join_all(keys.iter().map(|key| create(key.clone()))).await;
    assert!(
        faulted.iter().all(|reply| [429, 500].contains(&reply.status)),
        "{:?}",
        faulted.iter().map(|r| r.status).collect::<Vec<_>>()
    );

    http("POST", &control, &json_type, json!({"rate": 0}).to_string()).await;
    let retried = join_all(keys.iter().map(|key| create(key.clone()))).await;
    assert!(retried.iter().all(|reply| reply.status == 200));
    let replayed = retried.iter().filter(|reply| reply.headers.contains_key("idempotent-replayed")).count();
    assert!(replayed > 0 && replayed < keys.len(), "applied calls are replayed, the others made now ({replayed})");
}

#[tokio::test]
async fn crash_kills_an_invocation_s_process_part_way_and_the_function_comes_back() {
    let mut options = crate::runner::bench_options();
    options.faults = Faults { rate: 0.0, crash: 1.0, seed: 1 };
    let runner = Runner::start(options).await.unwrap();
    let slow = json!({"Records": [{"eventSource": "aws:sqs", "body": "{\"sleep_ms\": 1500}",
        "attributes": {"ApproximateReceiveCount": "1"}}]});
    let answer = runner.invoke("ProbeFunction", &slow).await;
    assert!(matches!(answer, Err(InvokeError::Crashed(_))), "{answer:?}");
    let (_, stats) = &runner.function_stats()["ProbeFunction"];
    assert_eq!(stats.crashes_injected, 1);
    crate::harness::eventually(Duration::from_secs(10), || async {
        (runner.function_stats()["ProbeFunction"].1.ready_after.len() == 2).then_some(())
    })
    .await;
}
