//! The notifier against moto: what each event sends on which channel, read back from moto's
//! record of what SES and SNS sent; duplicates; suppression, opt-outs; SES's bounce feed.

use std::time::Duration;

use tokio::sync::MutexGuard;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};
use notifier::NotifierHandler;
use serde_json::{Value, json};
use shared::{
    adapters::dynamodb::SuppressionStore,
    domain::{EmailAddress, Order, OrderId, OrderRepository, OrderStatus},
    notification::{Notice, Sample, SuppressionList},
};

use crate::harness::{TestStack, eventually, outbox};

/// A phone number no other test uses (and not ending in 99, which moto reports opted out).
fn unique_phone(stack: &TestStack, n: u32) -> String {
    let digits: String = stack.stack.name.chars().filter(char::is_ascii_digit).collect();
    format!("+49151{:0>5}{n:02}1", &digits[digits.len().saturating_sub(5)..])
}

/// The sample order as `notice` finds it, at `status` after `event_type`, for this customer.
fn order(notice: Notice, status: &str, event_type: &str, email: &str, phone: Option<&str>) -> Order {
    let mut value = serde_json::to_value(Sample::order(notice).unwrap()).unwrap();
    value["id"] = json!(OrderId::random().unwrap().to_string());
    value["status"] = json!(status);
    value["last_event"] = json!(event_type);
    value["version"] = json!(4);
    value["customer"]["email"] = json!(email);
    value["customer"]["phone"] = phone.map_or(Value::Null, |phone| json!(phone));
    if phone.is_none() {
        value["customer"].as_object_mut().unwrap().remove("phone");
    }
    serde_json::from_value(value).unwrap()
}

fn handler(stack: &TestStack) -> NotifierHandler {
    NotifierHandler::from_env(stack.sdk_as("NotifierFunction"), &stack.environment("NotifierFunction")).unwrap()
}

/// Hands the handler one batch; the ids of the messages it reports failed.
async fn deliver(handler: &NotifierHandler, messages: Vec<SqsMessage>) -> Vec<String> {
    let mut event = SqsEvent::default();
    event.records = messages;
    let response = handler.handle(LambdaEvent::new(serde_json::to_value(event).unwrap(), Context::default())).await;
    let failures = response.unwrap()["batchItemFailures"].as_array().cloned().unwrap_or_default();
    failures.iter().map(|failure| failure["itemIdentifier"].as_str().unwrap().to_owned()).collect()
}

fn message(id: String, body: String, source_arn: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id);
    message.body = Some(body);
    message.event_source_arn = Some(source_arn.to_owned());
    message
}

fn event_message(stack: &TestStack, id: String, order: &Order) -> SqsMessage {
    let arn = stack.stack.attribute_of("NotificationsQueue", "Arn").unwrap();
    message(id, serde_json::to_string(&order.envelope()).unwrap(), &arn)
}

/// Makes every call of this stack's `actions` (X-Amz-Target's operation, the query `Action`, or
/// SES v2's path) fail as `kind` (the fault layer's kinds) until [`stop_failing`].
async fn fail_every(stack: &TestStack, kind: &str, actions: &[&str]) -> MutexGuard<'static, ()> {
    let turn = crate::harness::fault_layer_turn().await;
    let faults = json!({"stack": stack.stack.name, "rate": 1.0, "seed": 1, "kinds": [kind], "actions": actions});
    assert_eq!(fault_control(faults).await, 200);
    turn
}

async fn stop_failing(turn: MutexGuard<'static, ()>) {
    assert_eq!(fault_control(json!({"rate": 0})).await, 200);
    drop(turn);
}

async fn fault_control(settings: Value) -> u16 {
    let control = format!("{}/orderflow/faults", crate::harness::moto_endpoint());
    crate::harness::http("POST", &control, &[("Content-Type", "application/json")], settings.to_string()).await.status
}

/// Delivers until nothing fails, as the queue would; how many rounds it took.
async fn deliver_until_done(handler: &NotifierHandler, mut pending: Vec<SqsMessage>) -> usize {
    for round in 1..=10 {
        let failed = deliver(handler, pending.clone()).await;
        pending.retain(|message| failed.contains(message.message_id.as_ref().unwrap()));
        if pending.is_empty() {
            return round;
        }
    }
    panic!("messages kept failing: {pending:?}");
}

#[tokio::test]
async fn each_event_sends_its_messages_on_the_customer_s_channels() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    // (event, status, sample, subject, text message)
    let cases = [
        ("order.placed", "PLACED", Notice::Received, "We've received your order", None),
        (
            "order.payment_authorized",
            "PAYMENT_AUTHORIZED",
            Notice::Confirmed,
            "is confirmed",
            Some("is confirmed. Estimated delivery Thu 26 Nov."),
        ),
        ("order.rejected", "REJECTED", Notice::Rejected, "We couldn't take order", None),
        ("order.payment_failed", "PAYMENT_FAILED", Notice::PaymentFailed, "Payment failed for order", None),
        ("order.shipped", "SHIPPED", Notice::Shipped, "has shipped", Some("has shipped with DHLExpress.")),
        (
            "order.out_for_delivery",
            "OUT_FOR_DELIVERY",
            Notice::OutForDelivery,
            "is out for delivery",
            Some("is out for delivery today with DHLExpress"),
        ),
        ("order.delivered", "DELIVERED", Notice::Delivered, "has been delivered", Some("has been delivered. Enjoy!")),
        (
            "order.delivery_exception",
            "DELIVERY_EXCEPTION",
            Notice::Delayed,
            "is delayed",
            Some("is delayed. New estimate: Fri 27 Nov."),
        ),
        (
            "order.delivery_delayed",
            "SHIPPED",
            Notice::Delayed,
            "is delayed",
            Some("is delayed. New estimate: Fri 27 Nov."),
        ),
        ("order.cancelled", "CANCELLED", Notice::Cancelled, "is cancelled", None),
        ("order.modified", "RESERVED", Notice::Modified, "has been updated", None),
        ("order.return_requested", "RETURN_REQUESTED", Notice::ReturnAccepted, "Your return for order", None),
        ("order.refunded", "REFUNDED", Notice::Refunded, "Refund issued for order", None),
        // An operator's goodwill refund keeps the status and is told as a refund.
        ("order.refund_issued", "DELIVERED", Notice::Refunded, "Refund issued for order", None),
        ("order.apology_sent", "IN_TRANSIT", Notice::Apology, "We're sorry about order", None),
        // Not the customer's business: nothing at all.
        ("order.reserved", "RESERVED", Notice::Received, "", None),
        ("order.in_transit", "IN_TRANSIT", Notice::Shipped, "", None),
        ("order.tracking_updated", "FULFILLING", Notice::Shipped, "", None),
    ];
    let mut expected = Vec::new();
    let mut messages = Vec::new();
    for (n, (event_type, status, sample, subject, sms)) in cases.iter().enumerate() {
        let email = format!("event{n}-{}@example.com", stack.stack.name);
        let phone = unique_phone(&stack, n as u32);
        let order = order(*sample, status, event_type, &email, Some(&phone));
        messages.push(event_message(&stack, format!("m{n}"), &order));
        expected.push((order.id.to_string(), email, phone, *subject, *sms));
    }
    for batch in messages.chunks(10) {
        assert_eq!(deliver(&handler, batch.to_vec()).await, Vec::<String>::new());
    }

    let outbox = outbox(crate::harness::moto_endpoint()).await;
    let sender = format!("orders@{}.orderflow.invalid", stack.stack.name);
    for (order_id, email, phone, subject, sms) in expected {
        let mails = outbox.mail.get(&email).cloned().unwrap_or_default();
        if subject.is_empty() {
            assert!(mails.is_empty(), "{email}: {mails:?}");
            assert!(!outbox.sms.contains_key(&phone));
            continue;
        }
        assert_eq!(mails.len(), 1, "{email}: {mails:?}");
        let mail = &mails[0];
        assert!(mail.subject.contains(subject) && mail.subject.contains(&order_id), "{}", mail.subject);
        assert!(mail.from.contains("Orderflow Demo Shop") && mail.from.contains(&sender), "{}", mail.from);
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("Hi Grace,") && part.contains("€46.34") && part.contains("Classic mug, 350 ml"));
            assert!(part.contains("10117 Berlin") && part.contains("help@orderflow.invalid"), "{part}");
        }
        assert!(mail.html.contains("<!DOCTYPE html>") && !mail.text.contains('<'), "{subject}");
        let texts = outbox.sms.get(&phone).cloned().unwrap_or_default();
        match sms {
            Some(fragment) => {
                assert_eq!(texts.len(), 1, "{phone}: {texts:?}");
                assert!(
                    texts[0].starts_with("Orderflow Demo Shop: order ord_") && texts[0].contains(fragment),
                    "{texts:?}"
                );
                assert!(texts[0].chars().count() <= 160, "{}", texts[0]);
            }
            None => assert!(texts.is_empty(), "{subject}: {texts:?}"),
        }
    }
    // The return's message gives the number for the parcel and what will be refunded.
    let returned = &outbox.mail[&format!("event11-{}@example.com", stack.stack.name)][0];
    for part in [&returned.text, &returned.html] {
        assert!(part.contains("RMA-7FE5D49VKA") && part.contains("€14.88"), "{part}");
    }
    // The confirmation recommends related SKUs in stock, in the order's currency, not in it.
    let confirmed = &outbox.mail[&format!("event1-{}@example.com", stack.stack.name)][0];
    for part in [&confirmed.text, &confirmed.html] {
        assert!(part.contains("You may also like"));
        for name in ["Steel bottle, 750 ml", "Organic cotton tee, M", "Organic cotton tee, L"] {
            assert!(part.contains(name), "{name} in {part}");
        }
        assert!(!part.contains("Baseball cap"), "a USD item in a EUR order");
    }
}

#[tokio::test]
async fn every_message_delivered_three_times_shuffled_is_sent_once() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    let email = format!("dup-{}@example.com", stack.stack.name);
    let phone = unique_phone(&stack, 1);
    let events = [
        (Notice::Received, "PLACED", "order.placed"),
        (Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized"),
        (Notice::Shipped, "SHIPPED", "order.shipped"),
        (Notice::Delayed, "SHIPPED", "order.delivery_delayed"),
        // The same delay reported again by another event: told once.
        (Notice::Delayed, "DELIVERY_EXCEPTION", "order.delivery_exception"),
        (Notice::Delivered, "DELIVERED", "order.delivered"),
    ];
    let id = OrderId::random().unwrap();
    let mut messages = Vec::new();
    for (version, (notice, status, event_type)) in events.iter().enumerate() {
        let mut value = serde_json::to_value(order(*notice, status, event_type, &email, Some(&phone))).unwrap();
        value["id"] = json!(id.to_string());
        value["version"] = json!(version + 1);
        let order: Order = serde_json::from_value(value).unwrap();
        for copy in 0..3 {
            messages.push(event_message(&stack, format!("{event_type}-{copy}"), &order));
        }
    }
    // A fixed shuffle, so a failure replays the same way.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for index in (1..messages.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        messages.swap(index, (state % (index as u64 + 1)) as usize);
    }
    // Two batches delivered at once: duplicates race inside a batch and across them.
    let (first, second) = messages.split_at(8);
    let (a, b) =
        tokio::join!(deliver_until_done(&handler, first.to_vec()), deliver_until_done(&handler, second.to_vec()));
    assert!(a >= 1 && b >= 1);

    let outbox = outbox(crate::harness::moto_endpoint()).await;
    let mut subjects: Vec<String> = outbox.mail[&email].iter().map(|mail| mail.subject.clone()).collect();
    subjects.sort();
    let expected = ["has been delivered", "has shipped", "is confirmed", "is delayed", "We've received your order"];
    assert_eq!(subjects.len(), expected.len(), "{subjects:?}");
    for fragment in expected {
        assert_eq!(subjects.iter().filter(|subject| subject.contains(fragment)).count(), 1, "{fragment}: {subjects:?}");
    }
    let texts = &outbox.sms[&phone];
    assert_eq!(texts.len(), 4, "confirmed, shipped, delayed, delivered: {texts:?}");
    for fragment in ["is confirmed", "has shipped", "is delayed", "has been delivered"] {
        assert_eq!(texts.iter().filter(|text| text.contains(fragment)).count(), 1, "{fragment}: {texts:?}");
    }
}

/// The same order at an earlier step: the event a late delivery brings.
fn earlier(order: &Order, notice: Notice, status: &str, event_type: &str, version: u64) -> Order {
    let customer = &order.customer;
    let phone = customer.phone.as_ref().map(|phone| phone.as_str());
    let mut value =
        serde_json::to_value(self::order(notice, status, event_type, customer.email.as_str(), phone)).unwrap();
    value["id"] = json!(order.id.to_string());
    value["version"] = json!(version);
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn a_message_the_order_has_moved_past_is_skipped_on_every_channel_and_recorded_as_such() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    let store = stack.store_as("IntakeFunction");
    let name = stack.stack.name.clone();
    let (delivered_email, delivered_phone) = (format!("late-{name}@example.com"), unique_phone(&stack, 1));
    let (cancelled_email, cancelled_phone) = (format!("cancelled-{name}@example.com"), unique_phone(&stack, 2));
    let delivered = order(Notice::Delivered, "DELIVERED", "order.delivered", &delivered_email, Some(&delivered_phone));
    let cancelled = order(Notice::Cancelled, "CANCELLED", "order.cancelled", &cancelled_email, Some(&cancelled_phone));
    for order in [&delivered, &cancelled] {
        store.create(order, None).await.unwrap();
    }
    // Late, newest first, each twice: what the order has passed arrives after it passed it.
    let late = [
        earlier(&delivered, Notice::OutForDelivery, "OUT_FOR_DELIVERY", "order.out_for_delivery", 3),
        earlier(&delivered, Notice::Delayed, "DELIVERY_EXCEPTION", "order.delivery_exception", 2),
        earlier(&delivered, Notice::Shipped, "SHIPPED", "order.shipped", 1),
        earlier(&cancelled, Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", 2),
        earlier(&cancelled, Notice::Received, "PLACED", "order.placed", 1),
    ];
    let mut messages: Vec<_> =
        late.iter().enumerate().map(|(n, order)| event_message(&stack, format!("late{n}"), order)).collect();
    messages.extend(messages.clone().into_iter().rev());
    messages.push(event_message(&stack, "delivered".into(), &delivered));
    messages.push(event_message(&stack, "cancelled".into(), &cancelled));
    assert!(deliver(&handler, messages[..6].to_vec()).await.is_empty());
    assert!(deliver(&handler, messages[6..].to_vec()).await.is_empty());

    let outbox = outbox(crate::harness::moto_endpoint()).await;
    let subjects =
        |email: &str| -> Vec<String> { outbox.mail[email].iter().map(|mail| mail.subject.clone()).collect() };
    let delivered_subjects = subjects(&delivered_email);
    assert!(matches!(&delivered_subjects[..], [only] if only.contains("has been delivered")), "{delivered_subjects:?}");
    let cancelled_subjects = subjects(&cancelled_email);
    assert!(matches!(&cancelled_subjects[..], [only] if only.contains("is cancelled")), "{cancelled_subjects:?}");
    let texts = &outbox.sms[&delivered_phone];
    assert!(matches!(&texts[..], [only] if only.contains("has been delivered")), "{texts:?}");
    assert!(!outbox.sms.contains_key(&cancelled_phone), "a cancellation is not texted, nor what it overtook");

    // The ledger says what was skipped, on which channel, and why.
    let mut skipped: Vec<(String, String)> = stack
        .items("IdempotencyTable")
        .await
        .into_iter()
        .filter(|item| item["state"].as_s().is_ok_and(|state| state == "skipped"))
        .filter_map(|item| {
            let key = item["pk"].as_s().ok()?;
            let order = [&delivered, &cancelled].into_iter().find(|order| key.contains(order.id.as_str()))?;
            let channel = key.rsplit('#').next()?.to_owned();
            Some((format!("{}:{channel}", order.customer.email.as_str()), item["reason"].as_s().ok()?.clone()))
        })
        .collect();
    skipped.sort();
    let by =
        |email: &str, channel: &str, status: &str| (format!("{email}:{channel}"), format!("overtaken by {status}"));
    let mut expected = vec![by(&cancelled_email, "email", "CANCELLED"), by(&cancelled_email, "email", "CANCELLED")];
    expected.push(by(&cancelled_email, "sms", "CANCELLED"));
    for _ in 0..3 {
        expected.push(by(&delivered_email, "email", "DELIVERED"));
        expected.push(by(&delivered_email, "sms", "DELIVERED"));
    }
    expected.sort();
    assert_eq!(skipped, expected);
}

#[tokio::test]
async fn received_waits_for_the_order_s_first_decision_and_is_told_only_if_none_came() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    let name = stack.stack.name.clone();
    let placed = |email: &str, age_seconds: i64| {
        let mut value = serde_json::to_value(order(Notice::Received, "PLACED", "order.placed", email, None)).unwrap();
        value["version"] = json!(1);
        value["created_at"] = json!(chrono::Utc::now() - chrono::Duration::seconds(age_seconds));
        serde_json::from_value::<Order>(value).unwrap()
    };
    let (fresh, waited, decided) = (
        format!("fresh-{name}@example.com"),
        format!("waited-{name}@example.com"),
        format!("decided-{name}@example.com"),
    );
    let orders = [placed(&fresh, 0), placed(&waited, 21), placed(&decided, 21)];
    for order in &orders {
        stack.store.create(order, None).await.unwrap();
    }
    // The third was confirmed meanwhile.
    let mut confirmed = orders[2].clone();
    for status in [OrderStatus::Reserved, OrderStatus::PaymentAuthorized] {
        let change = confirmed.transition(status, chrono::Utc::now()).unwrap();
        stack.store.apply(&change).await.unwrap();
        confirmed = confirmed.with_change(&change);
    }
    let messages = orders.iter().enumerate().map(|(n, order)| event_message(&stack, format!("r{n}"), order)).collect();
    assert!(deliver(&handler, messages).await.is_empty());

    let outbox = outbox(crate::harness::moto_endpoint()).await;
    assert!(!outbox.mail.contains_key(&fresh), "a fresh order's \"received\" waits");
    assert!(outbox.mail[&waited][0].subject.contains("We've received your order"), "no decision came: told");
    assert!(!outbox.mail.contains_key(&decided), "the confirmation says it instead");
    let url = stack.stack.reference_of("NotificationsQueue").unwrap();
    let delayed = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed;
    let attributes =
        stack.sqs_as("NotifierFunction").get_queue_attributes().queue_url(&url).attribute_names(delayed.clone());
    let attributes = attributes.send().await.unwrap();
    assert_eq!(attributes.attributes().unwrap()[&delayed], "1", "the fresh one is back on its queue, waiting");
}

#[tokio::test]
async fn suppressed_addresses_opted_out_numbers_and_missing_numbers_are_skipped_without_error() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    let name = stack.stack.name.clone();
    let feedback_arn = stack.stack.attribute_of("EmailFeedbackQueue", "Arn").unwrap();

    // A permanent bounce, as the configuration set's event destination publishes it.
    let bounced = format!("bounced-{name}@example.com");
    let bounce = json!({"eventType": "Bounce", "mail": {"messageId": "0100"},
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": bounced}]}});
    assert!(deliver(&handler, vec![message("fb1".into(), bounce.to_string(), &feedback_arn)]).await.is_empty());
    let suppressions =
        SuppressionStore::from_env(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.environment("NotifierFunction"))
            .unwrap();
    assert!(suppressions.is_suppressed(&EmailAddress::parse(&bounced.to_uppercase()).unwrap()).await.unwrap());

    let bounced_phone = unique_phone(&stack, 1);
    let opted_out = format!("optedout-{name}@example.com");
    let opted_out_phone = "+4915112345699"; // moto: numbers ending in 99 have opted out
    let no_phone = format!("nophone-{name}@example.com");
    let orders = [
        order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", &bounced, Some(&bounced_phone)),
        order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", &opted_out, Some(opted_out_phone)),
        order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", &no_phone, None),
    ];
    let messages = orders.iter().enumerate().map(|(n, order)| event_message(&stack, format!("m{n}"), order)).collect();
    assert!(deliver(&handler, messages).await.is_empty(), "nothing fails");

    let outbox = outbox(crate::harness::moto_endpoint()).await;
    assert!(!outbox.mail.contains_key(&bounced), "no e-mail to a suppressed address");
    assert_eq!(outbox.sms[&bounced_phone].len(), 1, "but the text message still goes");
    assert_eq!(outbox.mail[&opted_out].len(), 1);
    assert!(!outbox.sms.contains_key(opted_out_phone), "no text to a number that replied STOP");
    assert_eq!(outbox.mail[&no_phone].len(), 1);
}

#[tokio::test]
async fn ses_bounce_feed_reaches_the_suppression_list_through_the_template_s_topic_and_queue() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    // SES's mailbox simulator: mail to it bounces, and SES publishes the bounce to the
    // configuration set's topic, subscribed by the e-mail feedback queue.
    let order = order(Notice::Received, "PLACED", "order.placed", "bounce@simulator.amazonses.com", None);
    assert!(deliver(&handler, vec![event_message(&stack, "m0".into(), &order)]).await.is_empty());

    let feedback = stack.drain("EmailFeedbackQueue").await;
    assert_eq!(feedback.len(), 1, "{feedback:?}");
    assert!(feedback[0]["bounce"]["bounceType"] == "Permanent", "{:?}", feedback[0]);
    let arn = stack.stack.attribute_of("EmailFeedbackQueue", "Arn").unwrap();
    let records = vec![message("fb".into(), feedback[0].to_string(), &arn)];
    assert!(deliver(&handler, records.clone()).await.is_empty());
    assert!(deliver(&handler, records).await.is_empty(), "a redelivered bounce changes nothing");

    let suppressions =
        SuppressionStore::from_env(aws_sdk_dynamodb::Client::new(&stack.sdk), &stack.environment("NotifierFunction"))
            .unwrap();
    let simulator = EmailAddress::parse("bounce@simulator.amazonses.com").unwrap();
    assert!(suppressions.is_suppressed(&simulator).await.unwrap());
    assert!(!suppressions.is_suppressed(&EmailAddress::parse("grace@example.com").unwrap()).await.unwrap());

    // The next message to the bounced address is not sent.
    let before = outbox(crate::harness::moto_endpoint()).await.mail.get(simulator.as_str()).map_or(0, Vec::len);
    let later =
        self::order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", simulator.as_str(), None);
    assert!(deliver(&handler, vec![event_message(&stack, "m1".into(), &later)]).await.is_empty());
    assert_eq!(outbox(crate::harness::moto_endpoint()).await.mail.get(simulator.as_str()).map_or(0, Vec::len), before);
}

#[tokio::test]
async fn a_send_the_provider_refuses_is_retried_by_the_queue_and_then_sent_once() {
    let stack = TestStack::new().await;
    // SES refuses every send until the sender's identity is verified again.
    let ses = aws_sdk_sesv2::Client::new(&stack.sdk);
    let sender = stack.stack.function_environment("NotifierFunction").unwrap()["SENDER_EMAIL_ADDRESS"].clone();
    let domain = sender.rsplit('@').next().unwrap().to_owned();
    for identity in [&sender, &domain] {
        ses.delete_email_identity().email_identity(identity).send().await.unwrap();
    }
    let handler = handler(&stack);
    let email = format!("retry-{}@example.com", stack.stack.name);
    let phone = unique_phone(&stack, 7);
    let order = order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", &email, Some(&phone));
    let messages = vec![event_message(&stack, "m0".into(), &order)];

    assert_eq!(deliver(&handler, messages.clone()).await, ["m0"], "refused: the queue keeps the message");
    let refused = outbox(crate::harness::moto_endpoint()).await;
    assert!(!refused.mail.contains_key(&email));
    assert_eq!(refused.sms[&phone].len(), 1, "the text message went out all the same");

    ses.create_email_identity().email_identity(&sender).send().await.unwrap();
    assert!(deliver(&handler, messages.clone()).await.is_empty(), "the retry is sent");
    assert!(deliver(&handler, messages).await.is_empty(), "and a redelivery after that is not");
    let sent = outbox(crate::harness::moto_endpoint()).await;
    assert_eq!(sent.mail[&email].len(), 1);
    assert_eq!(sent.sms[&phone].len(), 1, "the text message was not sent again");
}

#[tokio::test]
async fn a_message_whose_answer_was_lost_is_recorded_as_sent_and_never_sent_twice() {
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    let email = format!("lost-{}@example.com", stack.stack.name);
    let phone = unique_phone(&stack, 8);
    let order = order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", &email, Some(&phone));
    let messages = vec![event_message(&stack, "m0".into(), &order)];
    // SES and SNS send the message, and the answer is lost (a 500 after the send).
    let turn = fail_every(&stack, "applied_then_error", &["/v2/email/outbound-emails", "Publish"]).await;
    let first = deliver(&handler, messages.clone()).await;
    stop_failing(turn).await;

    assert!(first.is_empty(), "a message that may have gone is done with, not retried");
    assert!(deliver(&handler, messages).await.is_empty());
    let sent = outbox(crate::harness::moto_endpoint()).await;
    assert_eq!(sent.mail[&email].len(), 1, "the e-mail went out once");
    assert_eq!(sent.sms[&phone].len(), 1, "the text message went out once");
}

#[tokio::test]
async fn a_claim_whose_holder_stopped_is_taken_over_only_if_it_never_reached_the_provider() {
    use shared::notification::{Channel, Claim, MessageKey, NotificationLedger};
    let stack = TestStack::new().await;
    let ledger = stack.store_as("NotifierFunction");
    let key = |occasion: &str| MessageKey {
        order_id: OrderId::random().unwrap(),
        occasion: occasion.to_owned(),
        channel: Channel::Email,
    };
    let now = chrono::Utc::now();
    let lapsed = now + chrono::Duration::minutes(3);
    let granted = |claim: Claim| match claim {
        Claim::Granted { token } => token,
        other => panic!("{other:?}"),
    };

    // Handed to the provider, then nothing: after its lease, not sent again.
    let dispatched = key("dispatched");
    let token = granted(ledger.claim(&dispatched, now).await.unwrap());
    assert!(ledger.dispatch(&dispatched, &token).await.unwrap());
    assert!(ledger.dispatch(&dispatched, &token).await.unwrap(), "a retried dispatch is still the holder's");
    assert_eq!(ledger.claim(&dispatched, now).await.unwrap(), Claim::InFlight);
    assert_eq!(ledger.claim(&dispatched, lapsed).await.unwrap(), Claim::MayHaveGone);

    // Claimed and never handed over: taken over after its lease; the old holder cannot dispatch.
    let stalled = key("stalled");
    let old = granted(ledger.claim(&stalled, now).await.unwrap());
    let new = granted(ledger.claim(&stalled, lapsed).await.unwrap());
    assert!(!ledger.dispatch(&stalled, &old).await.unwrap());
    assert!(ledger.dispatch(&stalled, &new).await.unwrap());

    // Refused by the provider after dispatch: released, and the retry is granted at once.
    let refused = key("refused");
    let token = granted(ledger.claim(&refused, now).await.unwrap());
    assert!(ledger.dispatch(&refused, &token).await.unwrap());
    ledger.release_claim(&refused, &token).await.unwrap();
    granted(ledger.claim(&refused, now).await.unwrap());
}

#[tokio::test]
async fn a_throttled_message_waits_on_its_queue_without_spending_its_retries() {
    use aws_lambda_events::sqs::SqsMessageAttribute;
    use shared::adapters::sqs::THROTTLED_ATTRIBUTE;
    let stack = TestStack::new().await;
    let handler = handler(&stack);
    let email = format!("throttled-{}@example.com", stack.stack.name);
    let phone = unique_phone(&stack, 9);
    let order = order(Notice::Confirmed, "PAYMENT_AUTHORIZED", "order.payment_authorized", &email, Some(&phone));
    // SES refuses every send for our sending rate; SNS sends.
    let turn = fail_every(&stack, "throttled", &["/v2/email/outbound-emails"]).await;
    let failed = deliver(&handler, vec![event_message(&stack, "m0".into(), &order)]).await;

    assert!(failed.is_empty(), "put back to wait, not left for the queue's retries");
    let sqs = &stack.sqs;
    let queue = stack.stack.reference_of("NotificationsQueue").unwrap();
    let waiting = eventually(Duration::from_secs(10), || async {
        let received =
            sqs.receive_message().queue_url(&queue).message_attribute_names("All").wait_time_seconds(1).send().await;
        received.unwrap().messages.unwrap_or_default().into_iter().next()
    })
    .await;
    let attempts = waiting.message_attributes().and_then(|attributes| attributes.get(THROTTLED_ATTRIBUTE));
    assert_eq!(attempts.and_then(|attempt| attempt.string_value()), Some("1"));
    assert_eq!(waiting.body(), Some(serde_json::to_string(&order.envelope()).unwrap().as_str()));

    // Still throttled after the last wait: the queue's own retries take over.
    let mut last = event_message(&stack, "m1".into(), &order);
    let mut attribute = SqsMessageAttribute::default();
    attribute.string_value = Some("12".to_owned());
    attribute.data_type = Some("String".to_owned());
    last.message_attributes.insert(THROTTLED_ATTRIBUTE.to_owned(), attribute);
    assert_eq!(deliver(&handler, vec![last]).await, ["m1"]);

    stop_failing(turn).await;
    let mut again = event_message(&stack, "m2".into(), &order);
    again.body = waiting.body().map(ToOwned::to_owned);
    assert!(deliver(&handler, vec![again]).await.is_empty());
    let sent = outbox(crate::harness::moto_endpoint()).await;
    assert_eq!(sent.mail[&email].len(), 1, "the e-mail went out once the throttle passed");
    assert_eq!(sent.sms[&phone].len(), 1, "the text message went out once");
}
