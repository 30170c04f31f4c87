//! Calls per order as a regression guard: every AWS and payment-provider request each function
//! makes for one order, counted at the emulators (the IAM layer in front of moto, localstripe's
//! counter), from POST to its last state, for a delivered, a rejected, a declined and a
//! cancelled order. The budget is `tests/fixtures/calls-per-order.json`; BENCHMARKS.md ("Calls
//! per order") sets each count beside the minimum the state machine needs, with the reasoning,
//! and prices them. A change that adds a call fails here; one that saves a call lowers the
//! budget in the same commit.

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use local::{
    CallCount, Runner,
    partners::{LocalCarrier, LocalWarehouse},
};
use serde_json::{Value, json};

use shared::{
    adapters::dynamodb::DynamoStore,
    config::Env,
    domain::{OrderId, OrderRepository},
};

use crate::harness::{eventually, http, order_body, unique_name};

/// Scenario → function (logical id) → operation → calls.
type Counts = BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>;

/// What Lambda's event source mappings call with the function's role (receiving and deleting
/// queue messages, reading the stream): as many as the time the test takes, not the order.
const EVENT_SOURCE_CALLS: [&str; 7] = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessageBatch",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];

/// What a function reads once per process and keeps (a secret): as many as the sandboxes
/// Lambda started for it, not the orders. Held to at most one per process started, below.
const ONCE_PER_PROCESS: [&str; 1] = ["secretsmanager:GetSecretValue"];

/// Counted in messages, not requests: how many requests carry them depends on how the stream's
/// records fall into batches.
const COUNTED_IN_MESSAGES: [&str; 2] = ["sns:PublishBatch", "sqs:SendMessageBatch"];

const BUDGET: &str = include_str!("../fixtures/calls-per-order.json");

/// The calls made since `before`, per function and operation; the payment provider's under
/// `PaymentProvider`.
fn made_since(before: &CallCount, after: &CallCount) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut made: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let count = |operation: &str, counted: &local::stack::iam::Counted| {
        if COUNTED_IN_MESSAGES.contains(&operation) { counted.items } else { counted.calls }
    };
    for (function, operations) in &after.aws {
        for (operation, counted) in operations.iter().filter(|(operation, _)| {
            !EVENT_SOURCE_CALLS.contains(&operation.as_str()) && !ONCE_PER_PROCESS.contains(&operation.as_str())
        }) {
            let earlier =
                before.aws.get(function).and_then(|earlier| earlier.get(operation)).map_or(0, |c| count(operation, c));
            if count(operation, counted) > earlier {
                made.entry(function.clone())
                    .or_default()
                    .insert(operation.clone(), count(operation, counted) - earlier);
            }
        }
    }
    for (operation, calls) in &after.payment_provider {
        let earlier = before.payment_provider.get(operation).copied().unwrap_or(0);
        if *calls > earlier {
            made.entry("PaymentProvider".to_owned()).or_default().insert(operation.clone(), calls - earlier);
        }
    }
    made
}

async fn post(runner: &Runner, token: &str, path: &str, body: &Value) -> Value {
    let url = format!("{}{path}", runner.api_url());
    let bearer = format!("Bearer {token}");
    let key = unique_name("calls");
    let headers = [("Content-Type", "application/json"), ("Authorization", bearer.as_str()), ("Idempotency-Key", &key)];
    let reply = http("POST", &url, &headers, body.to_string()).await;
    assert!(reply.status < 300, "{path}: {} {}", reply.status, reply.json);
    reply.json
}

/// Waits for the order to reach `status`, reading the table as the administrator: a read
/// through the API would be counted as the storefront's.
async fn reaches(runner: &Runner, id: &str, status: &str) {
    let store = DynamoStore::from_env(
        aws_sdk_dynamodb::Client::new(&runner.sdk),
        &Env::Map(runner.stack.function_environment("IntakeFunction").unwrap()),
    )
    .unwrap();
    let id = OrderId::parse(id).unwrap();
    eventually(Duration::from_secs(30), || async {
        let order = store.head(&id).await.unwrap()?;
        (order.status().as_str() == status).then_some(())
    })
    .await;
}

/// Waits for everything the last step set off to finish.
async fn settle(runner: &Runner) {
    assert!(runner.settle(Duration::from_secs(3), Duration::from_secs(60)).await, "the pipeline did not go quiet");
}

/// Places `body`, waits for `status`, and for everything the order sets off to finish.
async fn place(runner: &Runner, token: &str, body: &Value, status: &str) -> String {
    let id = post(runner, token, "/orders", body).await["id"].as_str().unwrap().to_owned();
    reaches(runner, &id, status).await;
    settle(runner).await;
    id
}

async fn deliver(runner: &Runner, id: &str) {
    let warehouse = LocalWarehouse::of(runner).unwrap();
    let carrier = LocalCarrier::of(runner);
    let parcels = eventually(Duration::from_secs(30), || async {
        Some(warehouse.ship_waiting(Utc::now()).await.unwrap()).filter(|parcels| !parcels.is_empty())
    })
    .await;
    reaches(runner, id, "SHIPPED").await;
    settle(runner).await;
    // One scan at a time: two parcels' scans recorded at once contend for the order, and the
    // retried write that costs is the races tests' business, not this one's.
    for status in ["in_transit", "out_for_delivery", "delivered"] {
        for parcel in &parcels {
            let tracking = &parcel.tracking_number;
            let event =
                LocalCarrier::event(&format!("evt_calls_{status}_{tracking}"), tracking, status, Utc::now(), None);
            assert_eq!(carrier.post(&event).await.unwrap(), 202);
            settle(runner).await;
        }
    }
    reaches(runner, id, "DELIVERED").await;
    settle(runner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_order_costs_no_more_calls_than_its_budget() {
    let _turn = crate::harness::heavy_load_turn().await;
    // Its own localstripe, so that the payment provider's counts are this test's alone.
    let runner = crate::pipeline::pipeline_named("calls", true).await;
    let token = runner.token("StorefrontJwt", "calls-shop", Duration::from_secs(600)).unwrap();

    let mut measured = Counts::new();
    let mut before = runner.calls().await.unwrap();
    let mut scenario = |name: &str, after: CallCount, before: &mut CallCount| {
        measured.insert(name.to_owned(), made_since(before, &after));
        *before = after;
    };

    let delivered = place(&runner, &token, &order_body(), "FULFILLING").await;
    deliver(&runner, &delivered).await;
    scenario("delivered", runner.calls().await.unwrap(), &mut before);

    let mut out_of_stock = order_body();
    out_of_stock["lines"] = json!([{"sku": "BOTTLE-STEEL", "quantity": 9}]);
    place(&runner, &token, &out_of_stock, "REJECTED").await;
    scenario("rejected", runner.calls().await.unwrap(), &mut before);

    let mut declined = order_body();
    declined["payment_method"] = json!("pm_card_visa_chargeDeclined");
    place(&runner, &token, &declined, "PAYMENT_FAILED").await;
    scenario("declined", runner.calls().await.unwrap(), &mut before);

    let cancelled = place(&runner, &token, &order_body(), "FULFILLING").await;
    post(&runner, &token, &format!("/orders/{cancelled}/cancel"), &json!({})).await;
    reaches(&runner, &cancelled, "CANCELLED").await;
    settle(&runner).await;
    scenario("cancelled", runner.calls().await.unwrap(), &mut before);

    assert!(runner.denials().await.unwrap().is_empty());
    let processes = runner.function_stats();
    for (function, operations) in &runner.calls().await.unwrap().aws {
        for operation in ONCE_PER_PROCESS {
            let calls = operations.get(operation).map_or(0, |counted| counted.calls);
            let started = processes.get(function).map_or(0, |(_, stats)| stats.processes_started);
            assert!(calls <= started, "{function} {operation}: {calls} calls from {started} processes");
        }
    }
    let budget: Counts = serde_json::from_str(BUDGET).unwrap();
    let mut over = Vec::new();
    let mut under = Vec::new();
    for (scenario, functions) in &measured {
        for (function, operations) in functions {
            for (operation, calls) in operations {
                let allowed = budget.get(scenario).and_then(|f| f.get(function)).and_then(|o| o.get(operation));
                match allowed {
                    Some(allowed) if calls <= allowed => {}
                    _ => over.push(format!("{scenario}: {function} {operation}: {calls} > {allowed:?}")),
                }
            }
        }
    }
    for (scenario, functions) in &budget {
        for (function, operations) in functions {
            for (operation, allowed) in operations {
                let calls = measured.get(scenario).and_then(|f| f.get(function)).and_then(|o| o.get(operation));
                if calls.copied().unwrap_or(0) < *allowed {
                    under.push(format!("{scenario}: {function} {operation}: {calls:?} < {allowed}"));
                }
            }
        }
    }
    let table = serde_json::to_string_pretty(&measured).unwrap();
    assert!(over.is_empty(), "calls beyond the budget:\n{}\nmeasured:\n{table}", over.join("\n"));
    assert!(under.is_empty(), "fewer calls than budgeted: lower the budget\n{}\nmeasured:\n{table}", under.join("\n"));
}
