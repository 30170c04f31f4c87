//! Conditional writes against DynamoDB in moto: a lost race is a typed `Conflict`.

use chrono::Utc;
use shared::domain::{OrderId, OrderRepository, OrderStatus, StoreError};

use crate::harness::{TestStack, order_body};

#[tokio::test]
async fn a_transition_that_loses_a_version_race_is_a_conflict_and_changes_nothing() {
    let cloud = TestStack::new().await;
    let placed = cloud.post_order(&order_body(), None).await;
    let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    let shared::domain::OrderRecord { order, timeline: _ } = cloud.store.get(&id).await.unwrap().unwrap();

    // Two workers read version 1 and decide differently.
    let reserve = order.transition(OrderStatus::Reserved, Utc::now()).unwrap();
    let reject = order.transition(OrderStatus::Rejected, Utc::now()).unwrap();
    cloud.store.apply(&reserve).await.unwrap();
    assert!(matches!(cloud.store.apply(&reject).await, Err(StoreError::Conflict)));
    // The winner's own redelivery loses too: the order has moved on.
    assert!(matches!(cloud.store.apply(&reserve).await, Err(StoreError::Conflict)));

    let shared::domain::OrderRecord { order, timeline } = cloud.store.get(&id).await.unwrap().unwrap();
    assert_eq!((order.status(), order.version()), (OrderStatus::Reserved, 2));
    assert_eq!(order.last_event().name(), "order.reserved");
    let statuses: Vec<_> = timeline.iter().map(|entry| entry.status).collect();
    assert_eq!(statuses, [OrderStatus::Placed, OrderStatus::Reserved]);
}
