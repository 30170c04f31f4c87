//! The outbox: real stream records from moto's DynamoDB Streams API, in the event Lambda would
//! deliver, drive `stream-router`, and events arrive through SNS in the subscribed queues.

use aws_lambda_events::streams::DynamoDbEventResponse;
use chrono::Utc;
use lambda_runtime::{Context, LambdaEvent};
use local::{StreamReader, lambda_event};
use serde_json::Value;
use shared::{
    adapters::sns_events::EventPublisher,
    config::Env,
    domain::{OrderId, OrderRepository, OrderStatus},
};
use stream_router::StreamRouter;

use crate::harness::{TestStack, largest_catalog, largest_order_body, order_body};

const CONSUMER_QUEUES: [&str; 4] = ["FulfillmentQueue", "InventoryQueue", "NotificationsQueue", "PaymentQueue"];

fn router(cloud: &TestStack, topic_arn: Option<&str>) -> StreamRouter {
    let sns = aws_sdk_sns::Client::new(cloud.sdk_as("StreamRouterFunction"));
    let publisher = match topic_arn {
        Some(topic_arn) => EventPublisher::new(sns, topic_arn.to_owned()),
        None => {
            let environment = Env::Map(cloud.stack.function_environment("StreamRouterFunction").unwrap());
            EventPublisher::from_env(sns, &environment).unwrap()
        }
    };
    StreamRouter::new(publisher)
}

fn stream_reader(cloud: &TestStack) -> StreamReader {
    let stream_arn = cloud.stack.attribute_of("OrdersTable", "StreamArn").unwrap();
    // Lambda reads the stream with the function's role.
    StreamReader::new(aws_sdk_dynamodbstreams::Client::new(cloud.sdk_as("StreamRouterFunction")), stream_arn)
}

async fn deliver(router: &StreamRouter, records: &[Value]) -> DynamoDbEventResponse {
    let event = lambda_event(records).expect("stream records deserialise into Lambda's DynamoDB event");
    router.handle(LambdaEvent::new(event, Context::default())).await.unwrap()
}

async fn place_and_advance(cloud: &TestStack, to: &[OrderStatus]) -> OrderId {
    let placed = cloud.post_order(&order_body(), None).await;
    let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    for status in to {
        let shared::domain::OrderRecord { order, timeline: _ } = cloud.store.get(&id).await.unwrap().unwrap();
        cloud.store.apply(&order.transition(*status, Utc::now()).unwrap()).await.unwrap();
    }
    id
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|event| event["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn each_new_order_version_reaches_exactly_the_queues_whose_filter_matches() {
    let cloud = TestStack::new().await;
    let id = place_and_advance(&cloud, &[OrderStatus::Reserved, OrderStatus::PaymentAuthorized]).await;

    let records = stream_reader(&cloud).next_records(100).await.unwrap();
    // Three head versions and three timeline entries.
    assert_eq!(records.len(), 6);
    let response = deliver(&router(&cloud, None), &records).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let inventory = cloud.drain("InventoryQueue").await;
    let payment = cloud.drain("PaymentQueue").await;
    let fulfillment = cloud.drain("FulfillmentQueue").await;
    let notifications = cloud.drain("NotificationsQueue").await;
    assert_eq!(types(&inventory), ["order.placed"]);
    assert_eq!(types(&payment), ["order.reserved"]);
    assert_eq!(types(&fulfillment), ["order.payment_authorized"]);
    assert_eq!(types(&notifications), ["order.placed", "order.payment_authorized"]);

    let confirmed = &notifications[1];
    assert_eq!(confirmed["id"], format!("{id}:3"));
    assert_eq!(confirmed["order_id"], id.as_str());
    assert_eq!(confirmed["version"], 3);
    assert_eq!(confirmed["data"]["status"], "PAYMENT_AUTHORIZED");
    assert_eq!(confirmed["data"]["totals"]["total"]["minor_units"], 4_634);
    for dead_letters in ["InventoryDeadLetterQueue", "PaymentDeadLetterQueue", "NotificationsDeadLetterQueue"] {
        assert!(cloud.drain(dead_letters).await.is_empty());
    }
}

#[tokio::test]
async fn a_redelivered_batch_publishes_the_same_event_ids_again() {
    let cloud = TestStack::new().await;
    let id = place_and_advance(&cloud, &[]).await;
    let records = stream_reader(&cloud).next_records(100).await.unwrap();
    let router = router(&cloud, None);
    for _ in 0..2 {
        assert!(deliver(&router, &records).await.batch_item_failures.is_empty());
    }
    let notifications = cloud.drain("NotificationsQueue").await;
    let ids: Vec<&str> = notifications.iter().map(|event| event["id"].as_str().unwrap()).collect();
    // At least once: the duplicate carries the same id, which is how consumers drop it.
    assert_eq!(ids, [format!("{id}:1"), format!("{id}:1")]);
}

#[tokio::test]
async fn timeline_items_and_unversioned_writes_publish_nothing() {
    let cloud = TestStack::new().await;
    place_and_advance(&cloud, &[]).await;
    let mut reader = stream_reader(&cloud);
    reader.next_records(100).await.unwrap();
    // A write to the head that leaves the version alone (an operator's note, say) is no event.
    let table = cloud.table("OrdersTable");
    let head = cloud.items("OrdersTable").await.into_iter().find(|item| item["sk"].as_s().unwrap() == "ORDER").unwrap();
    cloud
        .dynamodb
        .update_item()
        .table_name(table)
        .key("pk", head["pk"].clone())
        .key("sk", head["sk"].clone())
        .update_expression("SET note = :note")
        .expression_attribute_values(":note", aws_sdk_dynamodb::types::AttributeValue::S("checked".into()))
        .send()
        .await
        .unwrap();
    let records = reader.next_records(100).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(deliver(&router(&cloud, None), &records).await.batch_item_failures.is_empty());
    let mut subscribed = cloud.stack.subscribed_queues();
    subscribed.retain(|queue| queue != "EmailFeedbackQueue");
    assert_eq!(subscribed, CONSUMER_QUEUES, "the order events' subscribers");
    for queue in CONSUMER_QUEUES {
        assert!(cloud.drain(queue).await.is_empty(), "{queue}");
    }
}

#[tokio::test]
async fn a_failed_publish_reports_the_first_unpublished_record_for_retry() {
    let cloud = TestStack::new().await;
    place_and_advance(&cloud, &[OrderStatus::Reserved]).await;
    let records = stream_reader(&cloud).next_records(100).await.unwrap();
    let missing_topic = format!("arn:aws:sns:us-east-1:123456789012:{}-gone", cloud.stack.name);
    let response = deliver(&router(&cloud, Some(&missing_topic)), &records).await;
    let first_head = records.iter().find(|record| record["dynamodb"]["Keys"]["sk"]["S"] == "ORDER").unwrap();
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect();
    assert_eq!(failed, [first_head["dynamodb"]["SequenceNumber"].as_str().unwrap()]);
}

#[tokio::test]
async fn an_unreadable_order_image_is_reported_not_skipped() {
    let cloud = TestStack::new().await;
    place_and_advance(&cloud, &[]).await;
    let mut records = stream_reader(&cloud).next_records(100).await.unwrap();
    let head = records.iter_mut().find(|record| record["dynamodb"]["Keys"]["sk"]["S"] == "ORDER").unwrap();
    head["dynamodb"]["NewImage"]["status"] = serde_json::json!({"S": "TELEPORTED"});
    let sequence_number = head["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned();
    let response = deliver(&router(&cloud, None), &records).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier.as_deref(), Some(sequence_number.as_str()));
}

#[tokio::test]
async fn ten_of_the_largest_orders_in_one_stream_batch_are_all_published() {
    let cloud = TestStack::new().await;
    let catalog = largest_catalog(10);
    local::stack::catalog::seed(&cloud.store, &catalog).await.unwrap();
    for n in 0..10 {
        let placed = cloud.post_order(&largest_order_body(&catalog, &format!("big{n}")), None).await;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
    }
    let records = stream_reader(&cloud).next_records(100).await.unwrap();
    assert_eq!(records.len(), 20, "ten heads, ten timeline entries");
    // Ten such events are well over SNS's 256 KiB for one PublishBatch call.
    let response = deliver(&router(&cloud, None), &records).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let placed = cloud.drain("InventoryQueue").await;
    assert_eq!(types(&placed), ["order.placed"; 10]);
    let bytes: usize = placed.iter().map(|event| event.to_string().len()).sum();
    assert!(bytes > 2 * 256 * 1024, "{bytes} bytes of events");
}
