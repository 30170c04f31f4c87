//! The inventory function against moto: reservations under contention (simple and split
//! counters), rejections that say what was short, and redelivered, reordered events.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::SqsMessage;
use chrono::Utc;
use inventory::InventoryHandler;
use serde_json::json;
use shared::{
    adapters::dynamodb::DynamoStore,
    app::inventory::{Inventory, ReserveOutcome},
    domain::{CatalogItem, Line, Money, Order, OrderId, OrderRepository, OrderStatus, Sku, StatusReason, StockLedger},
};

use crate::harness::{TestStack, order_body, sqs_event};

const HOT: &str = "HOT-DROP";

async fn stock_hot_sku(stack: &TestStack, units: u32, shards: Option<u16>) {
    let item = CatalogItem {
        sku: Sku::parse(HOT).unwrap(),
        name: Line::parse("Limited drop").unwrap(),
        unit_price: Money::new(1_000, shared::domain::Currency::parse("EUR").unwrap()),
    };
    stack.store.put_catalog_item(&item, units).await.unwrap();
    if let Some(shards) = shards {
        stack.store.put_split_stock(&item.sku, shards, units).await.unwrap();
    }
}

/// Places an order through intake and returns it as stored (PLACED, version 1).
async fn place(stack: &TestStack, lines: serde_json::Value) -> Order {
    let mut body = order_body();
    body["lines"] = lines;
    let placed = stack.post_order(&body, None).await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    stack.store.head(&id).await.unwrap().unwrap()
}

async fn counters(store: &DynamoStore, sku: &str) -> Vec<u32> {
    let sku = Sku::parse(sku).unwrap();
    let levels = store.stock_levels(std::slice::from_ref(&sku)).await.unwrap();
    levels[&sku].counters.iter().map(|(_, units)| *units).collect()
}

async fn contention(shards: Option<u16>) {
    let stack = TestStack::new().await;
    stock_hot_sku(&stack, 50, shards).await;
    let mut orders = Vec::new();
    for _ in 0..200 {
        orders.push(place(&stack, json!([{"sku": HOT, "quantity": 1}])).await);
    }
    let inventory = Inventory::new(stack.store.clone());
    let mut racing = tokio::task::JoinSet::new();
    for order in orders {
        let inventory = inventory.clone();
        racing.spawn(async move { inventory.reserve(&order, Utc::now()).await.unwrap() });
    }
    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    while let Some(outcome) = racing.join_next().await {
        let kind = match outcome.unwrap() {
            ReserveOutcome::Reserved => "reserved",
            ReserveOutcome::Rejected(shortages) => {
                assert_eq!((shortages[0].requested, shortages.len()), (1, 1));
                "rejected"
            }
            ReserveOutcome::AlreadyHandled => "already handled",
        };
        *outcomes.entry(kind).or_default() += 1;
    }
    assert_eq!(outcomes, HashMap::from([("reserved", 50), ("rejected", 150)]), "shards: {shards:?}");
    let left = counters(&stack.store, HOT).await;
    assert_eq!(left.iter().sum::<u32>(), 0, "every unit sold, none twice: {left:?}");
    assert_eq!(left.len(), shards.map_or(1, usize::from));
}

#[tokio::test]
async fn two_hundred_orders_for_fifty_units_reserve_exactly_fifty() {
    contention(None).await;
}

#[tokio::test]
async fn a_hot_sku_split_across_counters_is_as_oversell_proof() {
    contention(Some(4)).await;
}

#[tokio::test]
async fn a_split_sku_serves_an_order_bigger_than_any_one_counter() {
    let stack = TestStack::new().await;
    stock_hot_sku(&stack, 10, Some(4)).await;
    let order = place(&stack, json!([{"sku": HOT, "quantity": 9}])).await;
    let outcome = Inventory::new(stack.store.clone()).reserve(&order, Utc::now()).await.unwrap();
    assert_eq!(outcome, ReserveOutcome::Reserved);
    assert_eq!(counters(&stack.store, HOT).await.iter().sum::<u32>(), 1);
}

#[tokio::test]
async fn a_short_line_rejects_the_order_naming_what_was_asked_and_available_and_reserves_nothing() {
    let stack = TestStack::new().await;
    stock_hot_sku(&stack, 2, None).await;
    let before = counters(&stack.store, "MUG-CLASSIC").await;
    let order = place(&stack, json!([{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": HOT, "quantity": 3}])).await;
    let handler =
        InventoryHandler::from_env(stack.dynamodb_as("InventoryFunction"), &stack.environment("InventoryFunction"))
            .unwrap();
    let response = handler.handle(sqs_event(&[&order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());

    let shared::domain::OrderRecord { order: rejected, timeline } = stack.store.get(&order.id).await.unwrap().unwrap();
    assert_eq!(rejected.status(), OrderStatus::Rejected);
    let Some(StatusReason::OutOfStock { shortages }) = &rejected.status_reason else {
        panic!("no shortage recorded: {:?}", rejected.status_reason)
    };
    assert_eq!(shortages.iter().map(|s| (s.sku.as_str(), s.requested, s.available)).collect::<Vec<_>>(), [(HOT, 3, 2)]);
    assert_eq!(timeline.last().unwrap().reason, rejected.status_reason);
    assert_eq!(counters(&stack.store, "MUG-CLASSIC").await, before);
    assert_eq!(counters(&stack.store, HOT).await, [2]);
}

#[tokio::test]
async fn redelivered_and_reordered_events_reserve_once_and_release_once() {
    let stack = TestStack::new().await;
    stock_hot_sku(&stack, 5, Some(2)).await;
    let placed = place(&stack, json!([{"sku": HOT, "quantity": 3}])).await;
    let handler =
        InventoryHandler::from_env(stack.dynamodb_as("InventoryFunction"), &stack.environment("InventoryFunction"))
            .unwrap();

    let response = handler.handle(sqs_event(&[&placed, &placed])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(counters(&stack.store, HOT).await.iter().sum::<u32>(), 2, "reserved once");
    let reserved = stack.store.head(&placed.id).await.unwrap().unwrap();
    assert_eq!((reserved.status(), reserved.version()), (OrderStatus::Reserved, 2));

    // Payment fails; its event arrives three times, around a late copy of `order.placed`.
    let change = reserved.transition(OrderStatus::PaymentFailed, Utc::now()).unwrap();
    stack.store.apply(&change).await.unwrap();
    let failed = reserved.with_change(&change);
    let response = handler.handle(sqs_event(&[&failed, &placed, &failed, &failed])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(counters(&stack.store, HOT).await.iter().sum::<u32>(), 5, "released once, never reserved again");
    assert_eq!(stack.store.head(&placed.id).await.unwrap().unwrap().status(), OrderStatus::PaymentFailed);
}

#[tokio::test]
async fn a_message_that_is_not_an_order_event_fails_alone() {
    let stack = TestStack::new().await;
    let order = place(&stack, order_body()["lines"].clone()).await;
    let handler =
        InventoryHandler::from_env(stack.dynamodb_as("InventoryFunction"), &stack.environment("InventoryFunction"))
            .unwrap();
    let mut event = sqs_event(&[&order]);
    let mut poison = SqsMessage::default();
    poison.message_id = Some("poison".to_owned());
    poison.body = Some("{\"not\": \"an event\"}".to_owned());
    event.payload.records.insert(0, poison);
    let response = handler.handle(event).await.unwrap();
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["poison"]);
    assert_eq!(stack.store.head(&order.id).await.unwrap().unwrap().status(), OrderStatus::Reserved);
}
