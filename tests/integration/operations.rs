//! `orderctl` against the local runner: an order's timeline, a dead-letter queue listed with
//! why, redriven once the cause is fixed, and an event replayed without a second effect.

use std::time::Duration;

use chrono::Utc;
use local::partners::{LocalCarrier, LocalWarehouse};
use orderctl::{Orderctl, Resources};
use shared::domain::{DeliveryUpdate, TrackingNumber, TrackingStatus};

use crate::harness::{eventually, outbox};
use crate::pipeline::{AUTHORIZER, pipeline, post_order, reaches};

#[tokio::test]
async fn a_dead_lettered_carrier_update_is_redriven_once_its_parcel_is_known_and_the_order_completes() {
    let runner = pipeline().await;
    let resources: Resources = serde_json::from_value(runner.resources()).unwrap();
    let orderctl = Orderctl::new(&runner.sdk, resources).unwrap();
    let token = runner.token(AUTHORIZER, "shop-ops", Duration::from_secs(300)).unwrap();
    let placed = post_order(&runner, Some(&token), "ops-1").await;
    let id = placed.json["id"].as_str().unwrap().to_owned();
    reaches(&runner, &token, &id, "FULFILLING").await;

    // The carrier's first scan came before the warehouse's report, kept failing (no such
    // parcel yet) and was dead-lettered.
    let tail = &id[id.len() - 12..];
    let first = TrackingNumber::parse(&format!("EZ{tail}1")).unwrap();
    let shipped_at = Utc::now();
    let early = DeliveryUpdate {
        source: "easypost".to_owned(),
        event_id: "evt_early".to_owned(),
        carrier: Some("DHLExpress".to_owned()),
        tracking_number: first.clone(),
        status: TrackingStatus::InTransit,
        carrier_status: "in_transit".to_owned(),
        description: None,
        location: None,
        occurred_at: shipped_at + chrono::Duration::hours(2),
        estimated_delivery: None,
    };
    let sqs = aws_sdk_sqs::Client::new(&runner.sdk);
    let dead_letters = runner.stack.reference_of("DeliveryUpdatesDeadLetterQueue").unwrap();
    sqs.send_message()
        .queue_url(&dead_letters)
        .message_body(serde_json::to_string(&early).unwrap())
        .send()
        .await
        .unwrap();
    let listed = orderctl.dead_letters("DeliveryUpdatesDeadLetterQueue", 10).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].body.contains("evt_early"));
    assert_eq!(
        orderctl.dead_letters("DeliveryUpdatesDeadLetterQueue", 10).await.unwrap().len(),
        1,
        "listing leaves it"
    );

    // The fix: the warehouse ships; then the update goes back and is applied.
    let warehouse = LocalWarehouse {
        sqs: sqs.clone(),
        pick_requests_url: runner.stack.reference_of("PickRequestsQueue").unwrap(),
        shipments_url: runner.stack.reference_of("ShipmentsQueue").unwrap(),
    };
    let parcels = eventually(Duration::from_secs(30), || async {
        let reports = warehouse.ship_waiting(shipped_at).await.unwrap();
        (!reports.is_empty()).then_some(reports)
    })
    .await;
    assert_eq!(parcels[0].tracking_number, first);
    reaches(&runner, &token, &id, "SHIPPED").await;
    assert_eq!(orderctl.redrive("DeliveryUpdatesDeadLetterQueue").await.unwrap(), Some(1));
    let moved = eventually(Duration::from_secs(30), || async {
        let order = orderctl.order(&id).await.unwrap();
        let timeline = order["timeline"].as_array().unwrap().clone();
        timeline.iter().any(|entry| entry["tracking"]["event_id"] == "evt_early").then_some(order)
    })
    .await;
    // The first parcel is on its way; the order follows its slowest parcel, still at the warehouse's door.
    let parcel =
        moved["shipments"].as_array().unwrap().iter().find(|parcel| parcel["tracking_number"] == first.as_str());
    assert_eq!(parcel.unwrap()["status"], "IN_TRANSIT");
    assert_eq!(moved["status"], "SHIPPED");
    assert!(orderctl.dead_letters("DeliveryUpdatesDeadLetterQueue", 10).await.unwrap().is_empty());

    let (carrier, secret) = local::runner::LOCAL_CARRIER_SECRETS[0];
    let carrier = LocalCarrier { api_url: runner.api_url(), carrier: carrier.to_owned(), secret: secret.to_owned() };
    for (n, parcel) in parcels.iter().enumerate() {
        let event = LocalCarrier::event(
            &format!("evt_done_{n}"),
            &parcel.tracking_number,
            "delivered",
            shipped_at + chrono::Duration::hours(30),
            None,
        );
        assert_eq!(carrier.post(&event).await.unwrap(), 202);
    }
    reaches(&runner, &token, &id, "DELIVERED").await;

    // Replaying the last event publishes it again; every consumer knows it: one message only.
    let delivered_mails = || async {
        let outbox = outbox(runner.moto_endpoint()).await;
        let mails = outbox.mail.get("grace@example.com").cloned().unwrap_or_default();
        mails.iter().filter(|mail| mail.subject == format!("Order {id} has been delivered")).count()
    };
    eventually(Duration::from_secs(30), || async { (delivered_mails().await == 1).then_some(()) }).await;
    let replayed = orderctl.replay(&id).await.unwrap();
    assert!(replayed.ends_with("order.delivered"), "{replayed}");
    assert!(runner.settle(Duration::from_secs(2), Duration::from_secs(30)).await);
    assert_eq!(delivered_mails().await, 1);
}
