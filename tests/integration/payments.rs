//! The payment function against moto and localstripe: test cards, fraud holds, redeliveries,
//! a provider that fails or hangs, and capture, void and refund.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use payment::PaymentHandler;
use serde_json::json;
use shared::{
    config::Env,
    domain::{Order, OrderId, OrderRepository, OrderStatus, StatusReason},
};
use tokio::{io::AsyncWriteExt, net::TcpListener};

use crate::harness::{TestStack, card, http, intents_of, order_body, sqs_event, stripe_endpoint};

/// Places an order paid with `method`, and moves it to RESERVED as `inventory` would.
pub(crate) async fn reserved_order(
    stack: &TestStack,
    method: &str,
    customize: impl FnOnce(&mut serde_json::Value),
) -> Order {
    let mut body = order_body();
    body["payment_method"] = json!(method);
    body["customer"]["email"] = json!(format!("{}@example.com", crate::harness::unique_name("buyer")));
    customize(&mut body);
    let placed = stack.post_order(&body, None).await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    let order = stack.store.head(&id).await.unwrap().unwrap();
    let change = order.transition(OrderStatus::Reserved, Utc::now()).unwrap();
    stack.store.apply(&change).await.unwrap();
    order.with_change(&change)
}

pub(crate) fn handler(stack: &TestStack) -> PaymentHandler {
    PaymentHandler::from_env(stack.sdk_as("PaymentFunction"), &stack.environment("PaymentFunction")).unwrap()
}

async fn head(stack: &TestStack, order: &Order) -> Order {
    stack.store.head(&order.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_good_card_is_authorised_for_the_total_once_however_often_the_event_comes() {
    let stack = TestStack::new().await;
    let order = reserved_order(&stack, &card("4242424242424242").await, |_| {}).await;
    let response = handler(&stack).handle(sqs_event(&[&order, &order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let response = handler(&stack).handle(sqs_event(&[&order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());

    let authorized = head(&stack, &order).await;
    assert_eq!((authorized.status(), authorized.version()), (OrderStatus::PaymentAuthorized, 3));
    let authorization = authorized.payment.authorization.clone().unwrap();
    assert_eq!(authorization.amount, order.totals.total);
    assert!(authorized.payment.card_fingerprint.is_some());
    let intents = intents_of(order.id.as_str()).await;
    assert_eq!(intents.len(), 1, "one authorisation: {intents:?}");
    assert_eq!(intents[0]["status"], "requires_capture");
    assert_eq!(intents[0]["amount"], order.totals.total.minor_units());
}

async fn declined_with(number: &str, code: &str, message: &str) {
    let stack = TestStack::new().await;
    let order = reserved_order(&stack, &card(number).await, |_| {}).await;
    let response = handler(&stack).handle(sqs_event(&[&order, &order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "a decline is an answer, not a failure");
    let failed = head(&stack, &order).await;
    assert_eq!(failed.status(), OrderStatus::PaymentFailed);
    let Some(StatusReason::PaymentDeclined { decline }) = &failed.status_reason else {
        panic!("no decline recorded: {:?}", failed.status_reason)
    };
    assert_eq!((decline.code.as_str(), decline.message.as_str()), (code, message));
    assert!(failed.payment.authorization.is_none());
}

#[tokio::test]
async fn a_generic_decline_fails_the_payment_with_a_customer_safe_reason() {
    declined_with("4000000000000002", "generic_decline", "Your card was declined.").await;
}

#[tokio::test]
async fn insufficient_funds_fails_the_payment_and_says_so() {
    declined_with("4000000000009995", "insufficient_funds", "Your card has insufficient funds.").await;
}

#[tokio::test]
async fn an_unknown_payment_method_fails_the_payment() {
    let stack = TestStack::new().await;
    let order = reserved_order(&stack, "pm_doesnotexist", |_| {}).await;
    let response = handler(&stack).handle(sqs_event(&[&order])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let failed = head(&stack, &order).await;
    assert_eq!(
        (failed.status(), failed.status_reason),
        (OrderStatus::PaymentFailed, Some(StatusReason::PaymentMethodUnusable))
    );
}

#[tokio::test]
async fn suspicious_orders_are_held_with_their_reasons_and_the_worst_are_refused() {
    let stack = TestStack::new().await;
    // A disposable address (30) and billing abroad (25): 55, over the review threshold of 50.
    let held = reserved_order(&stack, &card("4242424242424242").await, |body| {
        body["customer"]["email"] = json!("someone@mailinator.com");
        body["billing_address"] = json!({"name": "G H", "line1": "1 Main St", "city": "Lagos", "country": "NG"});
    })
    .await;
    // A failed CVC check (60) and a disposable address (30): 90, the block threshold.
    let blocked = reserved_order(&stack, &card("4000000000000101").await, |body| {
        body["customer"]["email"] = json!("other@mailinator.com");
    })
    .await;
    let response = handler(&stack).handle(sqs_event(&[&held, &blocked])).await.unwrap();
    assert!(response.batch_item_failures.is_empty());

    let on_hold = head(&stack, &held).await;
    assert_eq!(on_hold.status(), OrderStatus::OnHold);
    let Some(StatusReason::FraudReview { assessment }) = &on_hold.status_reason else {
        panic!("{:?}", on_hold.status_reason)
    };
    let rules: Vec<_> = assessment.reasons.iter().map(|reason| serde_json::to_value(reason.rule).unwrap()).collect();
    assert_eq!((assessment.score, rules), (55, vec![json!("country_mismatch"), json!("disposable_email")]));
    assert!(intents_of(held.id.as_str()).await.is_empty(), "nothing authorised before review");

    let refused = head(&stack, &blocked).await;
    assert_eq!(refused.status(), OrderStatus::PaymentFailed);
    assert!(
        matches!(&refused.status_reason, Some(StatusReason::FraudBlocked { assessment }) if assessment.score == 90)
    );

    let seen = stack.get_order(held.id.as_str(), crate::harness::STOREFRONT).await;
    assert_eq!(seen.json["status"], "ON_HOLD");
    assert!(seen.json.get("status_reason").is_none(), "screening reasons are for operators only: {}", seen.json);
}

/// A payment provider that answers every request with `status`, or never answers.
async fn broken_provider(status: Option<u16>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buffer).await;
                match status {
                    Some(status) => {
                        let body = r#"{"error": {"type": "api_error", "message": "try again"}}"#;
                        let reply = format!(
                            "HTTP/1.1 {status} Oops\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(reply.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    format!("http://{address}")
}

/// localstripe behind a door that refuses the keys in `revoked` (401), as the provider does
/// once a key is rolled.
async fn revoking_provider(revoked: Arc<Mutex<HashSet<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let revoked = revoked.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                let (head, body) = loop {
                    let Ok(read @ 1..) = tokio::io::AsyncReadExt::read(&mut socket, &mut buffer).await else { return };
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let length = head
                        .lines()
                        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break (head.to_owned(), body.to_owned());
                    }
                };
                let mut lines = head.lines();
                let mut start = lines.next().unwrap_or_default().split(' ');
                let (method, path) = (start.next().unwrap_or_default(), start.next().unwrap_or_default());
                let headers: Vec<(String, String)> = lines
                    .filter_map(|line| line.split_once(':'))
                    .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                    .filter(|(name, _)| ["authorization", "content-type", "idempotency-key"].contains(&name.as_str()))
                    .collect();
                let key = headers.iter().find(|(name, _)| name == "authorization").map(|(_, value)| value.as_str());
                let refused = key
                    .and_then(|value| value.strip_prefix("Bearer "))
                    .is_some_and(|key| revoked.lock().unwrap().contains(key));
                let (status, answer) = if refused {
                    (401, json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}))
                } else {
                    let headers: Vec<(&str, &str)> =
                        headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
                    let reply = http(method, &format!("{}{path}", stripe_endpoint()), &headers, &body).await;
                    (reply.status, reply.json)
                };
                let answer = answer.to_string();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_rotated_provider_key_reaches_the_running_function_without_a_redeploy() {
    let stack = TestStack::new().await;
    let revoked = Arc::new(Mutex::new(HashSet::new()));
    let Env::Map(mut variables) = stack.environment("PaymentFunction") else { unreachable!() };
    variables.insert("PAYMENT_PROVIDER_ENDPOINT".to_owned(), revoking_provider(revoked.clone()).await);
    let secret_id = variables["PAYMENT_PROVIDER_SECRET_ID"].clone();
    let handler = PaymentHandler::from_env(stack.sdk_as("PaymentFunction"), &Env::Map(variables)).unwrap();
    let first = reserved_order(&stack, "pm_card_visa", |_| {}).await;
    assert!(handler.handle(sqs_event(&[&first])).await.unwrap().batch_item_failures.is_empty());

    // The key is rolled: the provider refuses the old one, Secrets Manager holds the new one.
    revoked.lock().unwrap().insert("sk_test_orderflow_local".to_owned());
    aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(json!({"api_key": "sk_test_orderflow_rolled"}).to_string())
        .send()
        .await
        .unwrap();
    let second = reserved_order(&stack, "pm_card_visa", |_| {}).await;
    let response = handler.handle(sqs_event(&[&second])).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "the new key is read on the old one's first refusal");
    assert_eq!(head(&stack, &second).await.status(), OrderStatus::PaymentAuthorized);
}

async fn retried_when_the_provider(status: Option<u16>) {
    let stack = TestStack::new().await;
    let order = reserved_order(&stack, "pm_card_visa", |_| {}).await;
    let Env::Map(mut variables) = stack.environment("PaymentFunction") else { unreachable!() };
    variables.insert("PAYMENT_PROVIDER_ENDPOINT".to_owned(), broken_provider(status).await);
    variables.insert("PAYMENT_PROVIDER_TIMEOUT_MS".to_owned(), "500".to_owned());
    let handler = PaymentHandler::from_env(stack.sdk_as("PaymentFunction"), &Env::Map(variables)).unwrap();
    let response = handler.handle(sqs_event(&[&order, &order, &order])).await.unwrap();
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["m0", "m1", "m2"], "the messages go back to the queue");
    let unchanged = head(&stack, &order).await;
    assert_eq!((unchanged.status(), unchanged.version()), (OrderStatus::Reserved, 2));
}

#[tokio::test]
async fn a_provider_answering_5xx_leaves_the_message_to_be_retried() {
    retried_when_the_provider(Some(503)).await;
}

#[tokio::test]
async fn a_provider_that_times_out_leaves_the_message_to_be_retried() {
    retried_when_the_provider(None).await;
}

#[tokio::test]
async fn shipping_captures_cancelling_voids_and_a_return_refunds_each_once() {
    let stack = TestStack::new().await;
    let payments = handler(&stack);
    let method = card("4242424242424242").await;

    let shipped = reserved_order(&stack, &method, |_| {}).await;
    payments.handle(sqs_event(&[&shipped])).await.unwrap();
    let mut order = head(&stack, &shipped).await;
    for status in [OrderStatus::Fulfilling, OrderStatus::Shipped] {
        let change = order.transition(status, Utc::now()).unwrap();
        stack.store.apply(&change).await.unwrap();
        order = order.with_change(&change);
    }
    assert!(payments.handle(sqs_event(&[&order, &order])).await.unwrap().batch_item_failures.is_empty());
    let captured = head(&stack, &order).await;
    assert_eq!(captured.payment.captured, Some(order.totals.total));
    assert_eq!(intents_of(order.id.as_str()).await[0]["status"], "succeeded");

    for status in [OrderStatus::Delivered, OrderStatus::ReturnRequested, OrderStatus::Returned] {
        let change = order.transition(status, Utc::now()).unwrap();
        stack.store.apply(&change).await.unwrap();
        order = order.with_change(&change);
    }
    order.payment = captured.payment.clone();
    assert!(payments.handle(sqs_event(&[&order, &order])).await.unwrap().batch_item_failures.is_empty());
    let refunded = head(&stack, &order).await;
    assert_eq!(refunded.status(), OrderStatus::Refunded);
    assert_eq!(refunded.payment.refunds.len(), 1);
    assert_eq!(refunded.payment.refunds[0].amount, order.totals.total);

    let cancelled = reserved_order(&stack, &method, |_| {}).await;
    payments.handle(sqs_event(&[&cancelled])).await.unwrap();
    let authorized = head(&stack, &cancelled).await;
    let change = authorized.transition(OrderStatus::Cancelled, Utc::now()).unwrap();
    stack.store.apply(&change).await.unwrap();
    let cancelled = authorized.with_change(&change);
    assert!(payments.handle(sqs_event(&[&cancelled, &cancelled])).await.unwrap().batch_item_failures.is_empty());
    assert_eq!(intents_of(cancelled.id.as_str()).await[0]["status"], "canceled");
}
