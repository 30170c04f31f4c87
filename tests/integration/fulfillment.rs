//! `fulfillment` and `delivery` against moto: pick requests, partial shipments, reports that can
//! never be recorded, and carrier events delivered twice and out of order.

use chrono::{Duration, Utc};
use delivery::DeliveryHandler;
use fulfillment::FulfillmentHandler;
use serde_json::{Value, json};
use shared::{
    adapters::sqs::ERROR_CODE_ATTRIBUTE,
    domain::{
        DeliveryUpdate, Order, OrderId, OrderRepository, OrderStatus, ParcelIndex, ShipmentReport, TrackingNumber,
        TrackingStatus,
    },
};

use crate::harness::{TestStack, batch, order_body, sqs_event};

/// An order placed and moved on to `status` along the happy path, as the pipeline would.
async fn order_at(stack: &TestStack, status: OrderStatus) -> Order {
    let placed = stack.post_order(&order_body(), None).await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    let mut order = stack.store.head(&id).await.unwrap().unwrap();
    for next in [OrderStatus::Reserved, OrderStatus::PaymentAuthorized, OrderStatus::Fulfilling] {
        if order.status() == status {
            break;
        }
        let change = order.transition(next, Utc::now()).unwrap();
        stack.store.apply(&change).await.unwrap();
        order = order.with_change(&change);
    }
    order
}

fn fulfillment(stack: &TestStack) -> FulfillmentHandler {
    FulfillmentHandler::from_env(stack.sdk_as("FulfillmentFunction"), &stack.environment("FulfillmentFunction"))
        .unwrap()
}

fn delivery(stack: &TestStack) -> DeliveryHandler {
    DeliveryHandler::from_env(stack.sdk_as("DeliveryFunction"), &stack.environment("DeliveryFunction")).unwrap()
}

fn report(order: &Order, shipment: &str, tracking: &str, lines: Value) -> String {
    json!({
        "shipment_id": shipment,
        "order_id": order.id,
        "carrier": "DHL",
        "tracking_number": tracking,
        "lines": lines,
        "shipped_at": Utc::now(),
    })
    .to_string()
}

async fn head(stack: &TestStack, order: &Order) -> Order {
    stack.store.head(&order.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_authorised_order_is_sent_to_the_warehouse_once_however_often_the_event_comes() {
    let stack = TestStack::new().await;
    let order = order_at(&stack, OrderStatus::PaymentAuthorized).await;
    let response = fulfillment(&stack).handle(sqs_event(&[&order, &order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let response = fulfillment(&stack).handle(sqs_event(&[&order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());

    let fulfilling = head(&stack, &order).await;
    assert_eq!((fulfilling.status(), fulfilling.version()), (OrderStatus::Fulfilling, order.version() + 1));
    let requests = stack.drain("PickRequestsQueue").await;
    // Racing deliveries may both ask before one wins the move to FULFILLING; the warehouse
    // recognises the repeat by its request id.
    assert!((1..=2).contains(&requests.len()), "{requests:?}");
    assert!(requests.iter().all(|request| request["request_id"] == format!("{}:{}", order.id, order.version())));
    let request = &requests[0];
    assert_eq!(request["lines"][0]["sku"], "MUG-CLASSIC");
    assert_eq!(request["ship_to"]["postal_code"], "10117");
    assert_eq!(request["dispatch_by"], json!(order.shipping_quote.dispatch_date));
}

#[tokio::test]
async fn an_order_ships_in_two_parcels_each_recorded_once_and_is_shipped_when_the_last_leaves() {
    let stack = TestStack::new().await;
    let order = order_at(&stack, OrderStatus::Fulfilling).await;
    let first = report(&order, "P1", "JD000111", json!([{"sku": "MUG-CLASSIC", "quantity": 2}]));
    let second = report(&order, "P2", "JD000222", json!([{"sku": "NOTEBOOK-A5", "quantity": 1}]));
    let handler = fulfillment(&stack);
    let response = handler.handle(batch(&stack, "ShipmentsQueue", std::slice::from_ref(&first))).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(head(&stack, &order).await.status(), OrderStatus::Fulfilling);
    let response = handler.handle(batch(&stack, "ShipmentsQueue", &[second.clone(), first, second])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());

    let shared::domain::OrderRecord { order: shipped, timeline } = stack.store.get(&order.id).await.unwrap().unwrap();
    assert_eq!(shipped.status(), OrderStatus::Shipped);
    let mut parcels: Vec<&str> = shipped.shipments.iter().map(|parcel| parcel.id.as_str()).collect();
    parcels.sort();
    assert_eq!(parcels, ["P1", "P2"]);
    let types: Vec<String> = timeline.iter().map(|entry| entry.event_type.name()).collect();
    assert_eq!(types.iter().filter(|name| *name == "order.shipped").count(), 1);
    assert_eq!(types.iter().filter(|name| *name == "order.tracking_updated").count(), 1);
    for number in ["JD000111", "JD000222"] {
        let parcel = stack.parcel(&TrackingNumber::parse(number).unwrap()).await;
        let found = stack.store.order_for_parcel(&parcel).await.unwrap();
        assert_eq!(found.as_ref(), Some(&order.id), "{number}");
    }
    assert!(stack.drain("ShipmentsDeadLetterQueue").await.is_empty());
}

/// Every message in a queue with its `error_code` attribute.
async fn parked(stack: &TestStack, logical_id: &str) -> Vec<(String, Value)> {
    let url = stack.stack.reference_of(logical_id).unwrap();
    let output = stack
        .sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    output
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|message| {
            let code = message.message_attributes.unwrap_or_default()[ERROR_CODE_ATTRIBUTE]
                .string_value
                .clone()
                .unwrap_or_default();
            (code, serde_json::from_str(message.body.as_deref().unwrap()).unwrap_or(Value::Null))
        })
        .collect()
}

#[tokio::test]
async fn reports_for_unknown_orders_or_lines_are_parked_in_the_dead_letter_queue_with_their_error() {
    let stack = TestStack::new().await;
    let order = order_at(&stack, OrderStatus::Fulfilling).await;
    let mut stranger = order.clone();
    stranger.id = OrderId::random().unwrap();
    let bodies = [
        report(&stranger, "X1", "JD000901", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])),
        report(&order, "X2", "JD000902", json!([{"sku": "HAT", "quantity": 1}])),
        report(&order, "X3", "JD000903", json!([{"sku": "MUG-CLASSIC", "quantity": 5}])),
        "{\"shipment_id\": \"X4\"}".to_owned(),
    ];
    let response = fulfillment(&stack).handle(batch(&stack, "ShipmentsQueue", &bodies)).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "parked, not retried");
    let mut codes: Vec<String> =
        parked(&stack, "ShipmentsDeadLetterQueue").await.into_iter().map(|(code, _)| code).collect();
    codes.sort();
    assert_eq!(codes, ["malformed_report", "over_shipped", "unknown_line", "unknown_order"]);
    let untouched = head(&stack, &order).await;
    assert_eq!((untouched.status(), untouched.shipments.len()), (OrderStatus::Fulfilling, 0));
}

#[tokio::test]
async fn a_report_that_beats_the_move_to_fulfilling_is_retried_not_parked() {
    let stack = TestStack::new().await;
    let order = order_at(&stack, OrderStatus::PaymentAuthorized).await;
    let early = report(&order, "E1", "JD000777", json!([{"sku": "MUG-CLASSIC", "quantity": 2}]));
    let response = fulfillment(&stack).handle(batch(&stack, "ShipmentsQueue", &[early])).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
    assert!(parked(&stack, "ShipmentsDeadLetterQueue").await.is_empty());
}

/// An order shipped in one parcel with this tracking number.
async fn shipped(stack: &TestStack, tracking: &str) -> Order {
    let order = order_at(stack, OrderStatus::Fulfilling).await;
    let lines = json!([{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "NOTEBOOK-A5", "quantity": 1}]);
    let body = report(&order, "S1", tracking, lines);
    let report: ShipmentReport = serde_json::from_str(&body).unwrap();
    let change = head(stack, &order).await.record_shipment(&report, Utc::now()).unwrap().unwrap();
    stack.store.record_shipment(&change, &stack.parcel(&report.tracking_number).await).await.unwrap();
    head(stack, &order).await
}

fn update(tracking: &str, event_id: &str, status: TrackingStatus, at: chrono::DateTime<Utc>) -> String {
    let update = DeliveryUpdate {
        source: "easypost".parse().unwrap(),
        event_id: event_id.parse().unwrap(),
        carrier: Some("DHL".into()),
        tracking_number: TrackingNumber::parse(tracking).unwrap(),
        status,
        carrier_status: format!("{status:?}"),
        description: None,
        location: None,
        occurred_at: at,
        estimated_delivery: None,
    };
    serde_json::to_string(&update).unwrap()
}

async fn tracking_entries(stack: &TestStack, order: &Order) -> Vec<String> {
    let shared::domain::OrderRecord { order: _, timeline } = stack.store.get(&order.id).await.unwrap().unwrap();
    timeline.into_iter().filter_map(|entry| entry.tracking).map(|event| event.event_id.to_string()).collect()
}

#[tokio::test]
async fn the_same_carrier_event_twice_is_one_timeline_entry() {
    let stack = TestStack::new().await;
    let order = shipped(&stack, "JD100001").await;
    let in_transit = update("JD100001", "evt-1", TrackingStatus::InTransit, Utc::now());
    let label = update("JD100001", "evt-0", TrackingStatus::InfoReceived, Utc::now() - Duration::hours(1));
    let handler = delivery(&stack);
    let response = handler
        .handle(batch(&stack, "DeliveryUpdatesQueue", &[in_transit.clone(), label.clone(), in_transit.clone()]))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let response = handler.handle(batch(&stack, "DeliveryUpdatesQueue", &[label, in_transit])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(tracking_entries(&stack, &order).await, ["evt-0", "evt-1"]);
    let order = head(&stack, &order).await;
    assert_eq!((order.status(), order.version()), (OrderStatus::InTransit, 6));
}

#[tokio::test]
async fn delivered_before_in_transit_leaves_the_order_delivered() {
    let stack = TestStack::new().await;
    let order = shipped(&stack, "JD200002").await;
    let now = Utc::now();
    let handler = delivery(&stack);
    let delivered = update("JD200002", "evt-delivered", TrackingStatus::Delivered, now);
    let in_transit = update("JD200002", "evt-in-transit", TrackingStatus::InTransit, now - Duration::hours(5));
    for body in [delivered, in_transit] {
        let response = handler.handle(batch(&stack, "DeliveryUpdatesQueue", &[body])).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
    let after = head(&stack, &order).await;
    assert_eq!(after.status(), OrderStatus::Delivered);
    assert_eq!(tracking_entries(&stack, &order).await, ["evt-in-transit", "evt-delivered"], "in the carrier's order");
}

#[tokio::test]
async fn an_event_for_a_parcel_not_yet_recorded_is_retried() {
    let stack = TestStack::new().await;
    let body = update("JD999999", "evt-early", TrackingStatus::InTransit, Utc::now());
    let response = delivery(&stack).handle(batch(&stack, "DeliveryUpdatesQueue", &[body])).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
}
