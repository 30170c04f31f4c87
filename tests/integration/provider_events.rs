//! The payment provider's own events against moto and localstripe: `payment-webhook` checks
//! Stripe's signature and queues what is news; `payment` records it on its order once, however
//! often and in whatever order it comes.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use lambda_runtime::{Context, LambdaEvent};
use local::partners::{LocalCarrier, LocalProvider, LocalWarehouse};
use payment_webhook::PaymentWebhook;
use serde_json::{Value, json};
use shared::{
    adapters::{
        dynamodb::DynamoStore,
        stripe_webhooks::{SIGNATURE_HEADER, sign},
    },
    config::Env,
    domain::{DisputeStatus, EventType, Order, OrderId, OrderRepository, OrderStatus},
};

use crate::{
    harness::{Reply, TestStack, card, eventually, order_body, reply},
    payments::{handler, reserved_order},
    pipeline::{AUTHORIZER, post_body, reaches},
};

const DISPUTE_CREATED: &str = include_str!("../fixtures/stripe/charge.dispute.created.json");

fn webhook(stack: &TestStack) -> PaymentWebhook {
    PaymentWebhook::from_env(stack.sdk_as("PaymentWebhookFunction"), &stack.environment("PaymentWebhookFunction"))
        .unwrap()
}

/// Posts `body` to the Stripe route through the template's routes, as API Gateway would.
async fn post(webhook: &PaymentWebhook, stack: &TestStack, signature: Option<&str>, body: &str) -> Reply {
    let headers: Vec<(&str, &str)> = signature.map(|value| (SIGNATURE_HEADER, value)).into_iter().collect();
    let (function, request) = stack.request("POST", "/webhooks/payments/stripe", &headers, body.as_bytes(), None);
    assert_eq!(function, "PaymentWebhookFunction");
    reply(webhook.handle(request).await.unwrap())
}

/// An order captured on a good card, as `payment` leaves it when the order ships.
async fn captured_order(stack: &TestStack) -> Order {
    let payments = handler(stack);
    let reserved = reserved_order(stack, &card("4242424242424242").await, |_| {}).await;
    assert!(payments.handle(crate::harness::sqs_event(&[&reserved])).await.unwrap().batch_item_failures.is_empty());
    let mut order = stack.store.head(&reserved.id).await.unwrap().unwrap();
    for status in [OrderStatus::Fulfilling, OrderStatus::Shipped] {
        let change = order.transition(status, Utc::now()).unwrap();
        stack.store.apply(&change).await.unwrap();
        order = order.with_change(&change);
    }
    assert!(payments.handle(crate::harness::sqs_event(&[&order])).await.unwrap().batch_item_failures.is_empty());
    stack.store.head(&order.id).await.unwrap().unwrap()
}

/// Stripe's dispute event for `order`'s payment, created `seconds` from now, at `status`.
fn dispute_event(order: &Order, id: &str, status: &str, seconds: i64) -> String {
    let mut event: Value = serde_json::from_str(DISPUTE_CREATED).unwrap();
    let created = Utc::now().timestamp() + seconds;
    event["id"] = json!(id);
    event["created"] = json!(created);
    event["type"] = json!(if status == "needs_response" { "charge.dispute.created" } else { "charge.dispute.closed" });
    let dispute = &mut event["data"]["object"];
    dispute["payment_intent"] = json!(order.payment.authorization.as_ref().unwrap().id.as_str());
    dispute["amount"] = json!(order.totals.total.minor_units());
    dispute["status"] = json!(status);
    event.to_string()
}

/// What `payment` makes of the queued events, delivered as the queue would.
async fn consume(stack: &TestStack, bodies: &[Value]) -> usize {
    let arn = stack.stack.attribute_of("ProviderEventsQueue", "Arn").unwrap();
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .enumerate()
        .map(|(index, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("p{index}"));
            message.body = Some(body.to_string());
            message.event_source_arn = Some(arn.clone());
            message
        })
        .collect();
    let response = handler(stack).handle(LambdaEvent::new(event, Context::default())).await.unwrap();
    response.batch_item_failures.len()
}

#[tokio::test]
async fn a_dispute_signed_by_stripe_is_queued_and_recorded_on_its_order_once_whatever_the_order_of_delivery() {
    let stack = TestStack::new().await;
    let webhook = webhook(&stack);
    let order = captured_order(&stack).await;
    let secret = local::runner::LOCAL_PAYMENT_WEBHOOK_SECRET;
    let opened = dispute_event(&order, "evt_opened", "needs_response", -60);
    let lost = dispute_event(&order, "evt_lost", "lost", -10);
    for body in [&opened, &lost, &opened] {
        let signature = sign(&[secret], Utc::now().timestamp(), body.as_bytes());
        let accepted = post(&webhook, &stack, Some(&signature), body).await;
        assert_eq!((accepted.status, accepted.json["status"].as_str()), (200, Some("accepted")), "{:?}", accepted.json);
    }
    let queued = stack.drain("ProviderEventsQueue").await;
    assert_eq!(queued.len(), 3);
    // The lost dispute first, then the opening twice: the newer word stands.
    let reordered = [queued[1].clone(), queued[0].clone(), queued[2].clone()];
    assert_eq!(consume(&stack, &reordered).await, 0);
    assert_eq!(consume(&stack, &reordered).await, 0);

    let record = stack.store.get(&order.id).await.unwrap().unwrap();
    let disputes = &record.order.payment.disputes;
    assert_eq!(disputes.len(), 1, "{disputes:?}");
    assert_eq!((disputes[0].status, disputes[0].amount), (DisputeStatus::Lost, order.totals.total));
    assert_eq!(record.order.status(), OrderStatus::Shipped, "a dispute keeps the order's status");
    assert_eq!(record.order.refundable().unwrap().minor_units(), 0, "a lost dispute returned the money");
    let recorded = record.timeline.iter().filter(|entry| entry.event_type == EventType::DisputeUpdated).count();
    assert!((1..=2).contains(&recorded), "each newer word once: {recorded}");
}

#[tokio::test]
async fn unsigned_forged_stale_and_malformed_calls_are_refused_and_other_events_acknowledged_queueing_nothing() {
    let stack = TestStack::new().await;
    let webhook = webhook(&stack);
    let secret = local::runner::LOCAL_PAYMENT_WEBHOOK_SECRET;
    let now = Utc::now().timestamp();
    let body = DISPUTE_CREATED;
    let card_number = "{\"4242424242424242\": 1}";
    let cases: [(&str, Option<String>, &str, u16, &str); 4] = [
        ("unsigned", None, body, 401, "missing_signature"),
        ("forged", Some(sign(&["whsec_guess_0000000000000"], now, body.as_bytes())), body, 401, "invalid_signature"),
        ("stale", Some(sign(&[secret], now - 3_600, body.as_bytes())), body, 401, "stale_timestamp"),
        ("a card number", Some(sign(&[secret], now, card_number.as_bytes())), card_number, 400, "malformed_event"),
    ];
    for (name, signature, body, status, code) in &cases {
        let refused = post(&webhook, &stack, signature.as_deref(), body).await;
        let refusal = (refused.status, refused.json["code"].as_str(), refused.json["field"].as_str());
        let field = if *status == 401 { SIGNATURE_HEADER } else { "/" };
        assert_eq!(refusal, (*status, Some(*code), Some(field)), "{name}: {:?}", refused.json);
        assert!(!refused.json.to_string().contains("4242424242424242"), "{name}: a card number is never echoed");
    }
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(256 * 1024));
    let refused = post(&webhook, &stack, Some(&sign(&[secret], now, huge.as_bytes())), &huge).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (413, Some("payload_too_large")));
    let other = r#"{"id":"evt_x","type":"customer.created","created":1796100000,"data":{"object":{}}}"#;
    let acknowledged = post(&webhook, &stack, Some(&sign(&[secret], now, other.as_bytes())), other).await;
    assert_eq!((acknowledged.status, acknowledged.json["status"].as_str()), (200, Some("ignored")));
    assert!(stack.drain("ProviderEventsQueue").await.is_empty(), "nothing was queued");
}

#[tokio::test]
async fn a_rolled_signing_secret_is_taken_by_the_running_function_with_the_old_one_while_both_are_listed() {
    let stack = TestStack::new().await;
    let webhook = webhook(&stack);
    let Env::Map(environment) = stack.environment("PaymentWebhookFunction") else { unreachable!() };
    let old = local::runner::LOCAL_PAYMENT_WEBHOOK_SECRET;
    let new = "whsec_rolled_orderflow_0002";
    let other = r#"{"id":"evt_y","type":"customer.created","created":1796100000,"data":{"object":{}}}"#;
    let now = Utc::now().timestamp();
    let before = post(&webhook, &stack, Some(&sign(&[old], now, other.as_bytes())), other).await;
    assert_eq!(before.status, 200, "{:?}", before.json);
    aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .put_secret_value()
        .secret_id(&environment["PAYMENT_WEBHOOK_SECRET_ID"])
        .secret_string(json!({"signing_secrets": [new, old]}).to_string())
        .send()
        .await
        .unwrap();
    // Stripe signs with both while the old one rolls over; either alone also passes.
    for secrets in [vec![new], vec![new, old], vec![old]] {
        let reply = post(&webhook, &stack, Some(&sign(&secrets, now, other.as_bytes())), other).await;
        assert_eq!(reply.status, 200, "{secrets:?}: {:?}", reply.json);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstripe_s_dispute_and_lapsed_authorisation_reach_their_orders_through_the_signed_webhook() {
    // Its own localstripe, which sends its events to this runner's webhook route.
    let runner = crate::pipeline::pipeline_named("provider", true).await;
    let provider = LocalProvider { endpoint: runner.stripe_endpoint().unwrap().to_owned() };
    let token = runner.token(AUTHORIZER, "provider-shop", Duration::from_secs(600)).unwrap();
    let environment = Env::Map(runner.stack.function_environment("PaymentFunction").unwrap());
    let store = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(&runner.sdk), &environment).unwrap();
    let place = |card: String, key: &'static str| {
        let (runner, token) = (&runner, &token);
        async move {
            let mut body = order_body();
            body["payment_method"] = json!(card);
            let placed = post_body(runner, Some(token), key, &body).await;
            assert_eq!(placed.status, 201, "{:?}", placed.json);
            let id = placed.json["id"].as_str().unwrap().to_owned();
            reaches(runner, token, &id, "FULFILLING").await;
            OrderId::parse(&id).unwrap()
        }
    };
    let head_when = |id: OrderId, done: fn(&Order) -> bool| {
        let store = &store;
        async move { eventually(Duration::from_secs(30), || async { store.head(&id).await.unwrap().filter(done) }).await }
    };

    // A card the bank disputes once it is charged: charged when the order ships.
    let disputed = place(provider.card("4000000000000259").await.unwrap(), "disputed").await;
    let warehouse = LocalWarehouse::of(&runner).unwrap();
    let parcels = eventually(Duration::from_secs(30), || async {
        Some(warehouse.ship_waiting(Utc::now()).await.unwrap()).filter(|parcels| !parcels.is_empty())
    })
    .await;
    // The carrier's scans once the parcels are known, as a carrier's come after the label's.
    head_when(disputed.clone(), |order| order.status() == OrderStatus::Shipped).await;
    let carrier = LocalCarrier::of(&runner);
    for (n, parcel) in parcels.iter().enumerate() {
        let scan =
            LocalCarrier::event(&format!("evt_disputed_{n}"), &parcel.tracking_number, "delivered", Utc::now(), None);
        assert_eq!(carrier.post(&scan).await.unwrap(), 202);
    }
    head_when(disputed.clone(), |order| order.status() == OrderStatus::Delivered).await;
    let order = head_when(disputed.clone(), |order| !order.payment.disputes.is_empty()).await;
    let dispute = &order.payment.disputes[0];
    assert_eq!((dispute.status, dispute.reason.as_str()), (DisputeStatus::NeedsResponse, "fraudulent"));
    assert_eq!((dispute.amount, order.status()), (order.totals.total, OrderStatus::Delivered));
    assert!(dispute.evidence_due_by.is_some_and(|due| due > Utc::now()));
    assert_eq!(
        provider.dispute(dispute.id.as_str()).await.unwrap()["payment_intent"],
        json!(order.payment.authorization.as_ref().unwrap().id.as_str())
    );

    // The operator gathers the evidence and answers with it; the provider's word comes back.
    let resources = serde_json::from_value(runner.resources()).unwrap();
    let orderctl = orderctl::Orderctl::new(&runner.sdk, resources).unwrap();
    let evidence = orderctl.dispute(disputed.as_str()).await.unwrap();
    let text = evidence.text();
    for fact in
        ["captured when it shipped", "10117 Berlin", "Delivered (delivered)", "order_confirmed by email: sent", "none"]
    {
        assert!(text.contains(fact), "{fact} in:\n{text}");
    }
    assert_eq!(evidence.parcels.len(), parcels.len());
    assert!(evidence.parcels.iter().all(|parcel| parcel.delivered_at.is_some()));
    let answered = orderctl.answer_dispute(disputed.as_str(), "sk_test_orderflow_local").await.unwrap();
    assert_eq!(answered["status"], "under_review");
    assert!(answered["evidence"]["shipping_tracking_number"].as_str().is_some_and(|number| number.starts_with("EZ")));
    let reviewed =
        head_when(disputed.clone(), |order| order.payment.disputes[0].status == DisputeStatus::UnderReview).await;
    assert_eq!(reviewed.payment.disputes.len(), 1);
    assert!(orderctl.answer_dispute(disputed.as_str(), "sk_test_orderflow_local").await.is_err(), "answered once");

    // An authorisation that lapses before the order ships.
    let lapsing = place(provider.card("4242424242424242").await.unwrap(), "lapsing").await;
    let authorized = store.head(&lapsing).await.unwrap().unwrap();
    provider.expire(authorized.payment.authorization.as_ref().unwrap().id.as_str()).await.unwrap();
    let lapsed = head_when(lapsing, |order| order.payment.authorization_ended.is_some()).await;
    assert_eq!(lapsed.payment.authorization_ended.as_deref(), Some("automatic"));
    assert_eq!((lapsed.status(), lapsed.last_event()), (OrderStatus::Fulfilling, EventType::AuthorizationEnded));

    // An order cancelled here: the provider's word that the hold ended is ours, and no news.
    let cancelled = place(provider.card("4242424242424242").await.unwrap(), "cancelled").await;
    let url = format!("{}/orders/{cancelled}/cancel", runner.api_url());
    let bearer = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", bearer.as_str())];
    assert_eq!(crate::harness::http("POST", &url, &headers, "{}").await.status, 200);
    assert!(runner.settle(Duration::from_secs(3), Duration::from_secs(60)).await);
    let cancelled = store.head(&cancelled).await.unwrap().unwrap();
    assert_eq!((cancelled.status(), cancelled.payment.authorization_ended.as_deref()), (OrderStatus::Cancelled, None));

    assert!(runner.denials().await.unwrap().is_empty(), "every call within its function's role");
    assert!(orderctl.dead_letters("ProviderEventsDeadLetterQueue", 10).await.unwrap().is_empty(), "none parked");
}
