//! End to end over HTTP only: the runner serves the template's API with the real functions'
//! binaries, enforces the JWT authorizers, plays the Orders stream and the queues, and talks to
//! localstripe.

use std::time::Duration;

use local::{Runner, RunnerOptions, apigw::auth::LocalIssuer};
use serde_json::{Value, json};

use crate::harness::{
    Reply, eventually, function_binaries, http, largest_catalog, largest_order_body, moto_endpoint, order_body, outbox,
    stripe_endpoint, unique_name,
};

pub(crate) const AUTHORIZER: &str = "StorefrontJwt";

pub(crate) async fn pipeline() -> Runner {
    pipeline_named("e2e", false).await
}

/// A stack named after `prefix` on the shared moto, with the shared localstripe, or with one of
/// its own (`own_provider`): then the provider's calls and events are this stack's alone.
pub(crate) async fn pipeline_named(prefix: &str, own_provider: bool) -> Runner {
    let name = unique_name(prefix);
    let mut options = RunnerOptions::new(&name);
    options.parameters.insert("SenderEmailAddress".to_owned(), format!("orders@{name}.orderflow.invalid"));
    options.binaries = function_binaries();
    options.moto_endpoint = Some(moto_endpoint().to_owned());
    options.stripe_endpoint = (!own_provider).then(|| stripe_endpoint().to_owned());
    Runner::start(options).await.unwrap()
}

pub(crate) async fn post_order(runner: &Runner, token: Option<&str>, key: &str) -> Reply {
    post_body(runner, token, key, &order_body()).await
}

pub(crate) async fn post_body(runner: &Runner, token: Option<&str>, key: &str, body: &Value) -> Reply {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("Content-Type", "application/json"), ("Idempotency-Key", key)];
    headers.extend(bearer.as_deref().map(|value| ("Authorization", value)));
    http("POST", &format!("{}/orders", runner.api_url()), &headers, &body.to_string()).await
}

async fn get_order(runner: &Runner, token: &str, id: &str) -> Reply {
    http("GET", &format!("{}/orders/{id}", runner.api_url()), &[("Authorization", &format!("Bearer {token}"))], "")
        .await
}

/// Waits until the order reaches `status`, as its storefront reads it.
pub(crate) async fn reaches(runner: &Runner, token: &str, id: &str, status: &str) -> Value {
    eventually(Duration::from_secs(30), || async {
        let read = get_order(runner, token, id).await;
        (read.json["status"] == status).then_some(read.json)
    })
    .await
}

/// The metrics of an Embedded Metric Format document, checked against the format's schema: a
/// millisecond timestamp, a namespace, dimension sets naming string members of the document,
/// metrics with a CloudWatch unit whose values are numbers in the document.
fn emf_metric_names(document: &Value) -> Vec<String> {
    const UNITS: [&str; 4] = ["Count", "Milliseconds", "Seconds", "None"];
    let aws = &document["_aws"];
    assert!(aws["Timestamp"].is_u64(), "{document}");
    let directives = aws["CloudWatchMetrics"].as_array().unwrap();
    assert!(!directives.is_empty(), "{document}");
    let mut names = Vec::new();
    for directive in directives {
        assert_eq!(directive["Namespace"], "Orderflow", "{document}");
        for set in directive["Dimensions"].as_array().unwrap() {
            let set = set.as_array().unwrap();
            assert!((1..=30).contains(&set.len()), "{document}");
            for dimension in set {
                assert!(document[dimension.as_str().unwrap()].is_string(), "{dimension} in {document}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(UNITS.contains(&metric["Unit"].as_str().unwrap()), "{document}");
            assert!(document[name].is_number(), "{name} in {document}");
            names.push(name.to_owned());
        }
    }
    names
}

/// The card numbers a storefront tries to slip in, and how.
const CARD_ATTEMPTS: [(&str, &str); 3] = [
    ("/payment_method", "4242 4242 4242 4242"),
    ("/customer/name", "Grace 5555-5555-5555-4444"),
    ("/shipping_address/line1", "card 4000056655665556 exp 12/30"),
];

/// Each attempt is refused naming its field, and the answer does not repeat the number; a body
/// that is not UTF-8 reaches intake as its bytes (the runner sends them base64-encoded) and is
/// refused too.
async fn card_numbers_are_refused(runner: &Runner, token: &str) {
    for (index, (pointer, value)) in CARD_ATTEMPTS.iter().enumerate() {
        let mut body = order_body();
        *body.pointer_mut(pointer).unwrap() = json!(value);
        let refused = post_body(runner, Some(token), &format!("card-{index}"), &body).await;
        let refusal = (refused.status, refused.json["code"].as_str(), refused.json["field"].as_str());
        assert_eq!(refusal, (422, Some("card_number_refused"), Some(*pointer)), "{value}");
        assert!(!digits(&refused.json.to_string()).contains(&digits(value)[..12]), "{}", refused.json);
    }
    let text = order_body().to_string();
    let at = text.find("Grace").unwrap();
    let not_utf8 = [&text.as_bytes()[..at], b"Gr\xffce", &text.as_bytes()[at + 5..]].concat();
    let headers = [("Content-Type", "application/json"), ("Authorization", &format!("Bearer {token}"))];
    let refused = http("POST", &format!("{}/orders", runner.api_url()), &headers, &not_utf8).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some("malformed_json")));
}

/// `text` without the spaces and dashes a card number may be grouped with.
fn digits(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}

/// No table, queue, message sent, function log line or journal line holds a number of
/// [`CARD_ATTEMPTS`], however grouped.
async fn no_card_number_anywhere(runner: &Runner) {
    let numbers: Vec<String> = CARD_ATTEMPTS
        .iter()
        .map(|(_, value)| digits(value))
        .map(|text| text.chars().filter(char::is_ascii_digit).take(16).collect())
        .collect();
    let mut texts: Vec<(String, String)> = Vec::new();
    let dynamodb = aws_sdk_dynamodb::Client::new(&runner.sdk);
    for (table, _) in runner.stack.template.of_type("AWS::DynamoDB::Table") {
        let name = runner.stack.reference_of(table).unwrap();
        let items = dynamodb.scan().table_name(name).into_paginator().items().send().collect::<Vec<_>>().await;
        assert!(!items.is_empty() || table != "OrdersTable");
        texts.extend(items.into_iter().map(|item| (table.clone(), format!("{:?}", item.unwrap()))));
    }
    let sqs = aws_sdk_sqs::Client::new(&runner.sdk);
    for (queue, _) in runner.stack.template.of_type("AWS::SQS::Queue") {
        let url = runner.stack.reference_of(queue).unwrap();
        let peek = sqs.receive_message().queue_url(url).max_number_of_messages(10).visibility_timeout(0).send();
        let messages = peek.await.unwrap().messages.unwrap_or_default();
        texts.extend(messages.into_iter().map(|message| (queue.clone(), message.body.unwrap_or_default())));
    }
    let sent = outbox(runner.moto_endpoint()).await;
    for mail in sent.mail.values().flatten() {
        texts.push(("e-mail".to_owned(), format!("{} {} {}", mail.subject, mail.text, mail.html)));
    }
    texts.extend(sent.sms.values().flatten().map(|sms| ("SMS".to_owned(), sms.clone())));
    texts.extend(runner.journal.function_logs());
    texts.extend(runner.journal.notes().into_iter().map(|note| ("journal".to_owned(), note)));
    for (place, text) in &texts {
        let text = digits(text);
        for number in &numbers {
            assert!(!text.contains(number.as_str()), "{place} holds a card number: {text}");
        }
    }
}

fn intake_invocations(runner: &Runner) -> usize {
    runner.journal.invocations().iter().filter(|record| record.function == "intake").count()
}

#[tokio::test]
async fn an_order_posted_over_http_is_stored_and_its_event_reaches_the_consumers_queues() {
    let runner = pipeline().await;
    let token = runner.token(AUTHORIZER, "shop-e2e", Duration::from_secs(300)).unwrap();

    let placed = post_order(&runner, Some(&token), "e2e-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = placed.json["id"].as_str().unwrap().to_owned();
    assert_eq!(placed.headers["location"], format!("/orders/{id}"));

    let read =
        http("GET", &format!("{}/orders/{id}", runner.api_url()), &[("Authorization", &format!("Bearer {token}"))], "")
            .await;
    assert_eq!((read.status, read.json["status"].as_str()), (200, Some("PLACED")));
    let stranger = runner.token(AUTHORIZER, "another-shop", Duration::from_secs(300)).unwrap();
    let hidden = http(
        "GET",
        &format!("{}/orders/{id}", runner.api_url()),
        &[("Authorization", &format!("Bearer {stranger}"))],
        "",
    )
    .await;
    assert_eq!(hidden.status, 404, "the verified sub claim reaches intake as the storefront");

    // Fulfillment takes an authorised order on at once: it is FULFILLING when next read.
    let authorized = reaches(&runner, &token, &id, "FULFILLING").await;
    let steps: Vec<&str> =
        authorized["timeline"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(steps, ["order.placed", "order.reserved", "order.payment_authorized", "order.fulfilling"]);

    // The notifier tells the customer it is confirmed, by e-mail and text message; "received"
    // waited for that decision, which said it instead.
    let subject_and_texts = || async {
        let outbox = outbox(runner.moto_endpoint()).await;
        let mut subjects: Vec<String> =
            outbox.mail.get("grace@example.com")?.iter().map(|mail| mail.subject.clone()).collect();
        subjects.retain(|subject| subject.contains(&id));
        let texts: Vec<String> =
            outbox.sms.get("+4915112345678")?.iter().filter(|text| text.contains(&id)).cloned().collect();
        (!subjects.is_empty() && !texts.is_empty()).then_some((subjects, texts))
    };
    eventually(Duration::from_secs(30), subject_and_texts).await;
    assert!(runner.settle(Duration::from_secs(2), Duration::from_secs(60)).await);
    let (subjects, texts) = subject_and_texts().await.unwrap();
    assert_eq!(subjects, [format!("Order {id} is confirmed")]);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("is confirmed"), "{texts:?}");
    let functions: std::collections::BTreeSet<String> = runner
        .journal
        .invocations()
        .into_iter()
        .map(|record| format!("{} <- {}", record.function, record.trigger))
        .collect();
    for expected in [
        "stream-router <- dynamodb OrdersStream",
        "inventory <- sqs InventoryQueue",
        "payment <- sqs PaymentQueue",
        "fulfillment <- sqs FulfillmentQueue",
        "notifier <- sqs NotificationsQueue",
    ] {
        assert!(functions.contains(expected), "{expected} in {functions:?}");
    }
}

#[tokio::test]
async fn operators_approve_and_deny_held_orders_through_their_own_route() {
    let runner = pipeline().await;
    let storefront = runner.token(AUTHORIZER, "shop-review", Duration::from_secs(300)).unwrap();
    let operator = runner.operator_token("ops-ada", &["agent"], "shop-review", Duration::from_secs(300)).unwrap();
    let mut suspicious = order_body();
    suspicious["customer"]["email"] = json!("burner@mailinator.com");
    suspicious["billing_address"] = json!({"name": "G H", "line1": "1 Main St", "city": "Lagos", "country": "NG"});
    let review = |id: String, token: String, body: Value| {
        let url = format!("{}/orders/{id}/review", runner.api_url());
        async move {
            let bearer = format!("Bearer {token}");
            http("POST", &url, &[("Authorization", &bearer), ("Content-Type", "application/json")], &body.to_string())
                .await
        }
    };

    let mut held = Vec::new();
    for key in ["review-approve", "review-deny"] {
        let placed = post_body(&runner, Some(&storefront), key, &suspicious).await;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        let id = placed.json["id"].as_str().unwrap().to_owned();
        let seen = reaches(&runner, &storefront, &id, "ON_HOLD").await;
        assert!(seen.get("status_reason").is_none(), "the storefront never sees why: {seen}");
        held.push(id);
    }

    let read = http(
        "GET",
        &format!("{}/orders/{}/review", runner.api_url(), held[0]),
        &[("Authorization", &format!("Bearer {operator}"))],
        "",
    )
    .await;
    assert_eq!(
        (read.status, read.json["status_reason"]["kind"].as_str()),
        (200, Some("fraud_review")),
        "{:?}",
        read.json
    );
    assert_eq!(read.json["status_reason"]["assessment"]["score"], 55);
    let refused = review(held[0].clone(), storefront.clone(), json!({"decision": "approve"})).await;
    assert_eq!(refused.status, 401, "a storefront's token does not open an operator route");
    let invalid = review(held[0].clone(), operator.clone(), json!({"decision": "perhaps"})).await;
    assert_eq!(
        (invalid.status, invalid.json["code"].as_str(), invalid.json["field"].as_str()),
        (422, Some("invalid_decision"), Some("/decision"))
    );

    let approved =
        review(held[0].clone(), operator.clone(), json!({"decision": "approve", "note": "known customer"})).await;
    assert_eq!(
        (approved.status, approved.json["status"].as_str()),
        (200, Some("PAYMENT_AUTHORIZED")),
        "{:?}",
        approved.json
    );
    let timeline = approved.json["timeline"].as_array().unwrap();
    assert_eq!(timeline[2]["reason"]["kind"], "fraud_review", "operators see the screening");
    let decision = &timeline[3]["reason"]["decision"];
    assert_eq!(
        (&decision["operator"], &decision["role"], &decision["note"]),
        (&json!("ops-ada"), &json!("agent"), &json!("known customer"))
    );
    assert!(decision["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{decision}");
    let again = review(held[0].clone(), operator.clone(), json!({"decision": "deny"})).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("not_on_hold")));

    // The other one an operator denies from the command line, through the same route.
    let orderctl = orderctl::Orderctl::new(&runner.sdk, serde_json::from_value(runner.resources()).unwrap()).unwrap();
    let denied = orderctl.review(&held[1], "deny", Some("card testing"), &operator).await.unwrap();
    assert_eq!(denied["status"], "CANCELLED", "{denied}");
    assert_eq!(denied["timeline"].as_array().unwrap().last().unwrap()["reason"]["decision"]["operator"], "ops-ada");
    // Denial releases the stock: the demo catalog's mugs come back.
    let store = shared::adapters::dynamodb::DynamoStore::from_env(
        aws_sdk_dynamodb::Client::new(&runner.sdk),
        &shared::config::Env::Map(runner.stack.function_environment("InventoryFunction").unwrap()),
    )
    .unwrap();
    let mug = shared::domain::Sku::parse("MUG-CLASSIC").unwrap();
    let reserved_mugs = || async {
        let levels = shared::domain::StockLedger::stock_levels(&store, std::slice::from_ref(&mug)).await.unwrap();
        levels[&mug].available()
    };
    let initial =
        local::stack::catalog::demo_catalog().unwrap().into_iter().find(|entry| entry.sku == mug).unwrap().available;
    eventually(Duration::from_secs(30), || async { (reserved_mugs().await == initial - 2).then_some(()) }).await;
    let denials = runner.denials().await.unwrap();
    assert!(denials.is_empty(), "the operators' route ran within its role: {denials:#?}");
}

#[tokio::test]
async fn the_authorizer_answers_401_before_any_function_runs() {
    let runner = pipeline().await;
    let authorizer = &runner.authorizers()[AUTHORIZER];
    let now = chrono::Utc::now().timestamp();
    let claims = |changes: Value| {
        let mut claims = json!({ "iss": authorizer.issuer, "aud": authorizer.audiences[0], "sub": "shop", "iat": now, "exp": now + 300 });
        claims.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
        claims
    };
    let expired = runner.issuer().sign(&claims(json!({ "exp": now - 5 }))).unwrap();
    let wrong_audience = runner.issuer().sign(&claims(json!({ "aud": "someone-else" }))).unwrap();
    let foreign = LocalIssuer::new().unwrap().sign(&claims(json!({}))).unwrap();

    for (case, token) in [
        ("missing", None),
        ("expired", Some(&expired)),
        ("wrong audience", Some(&wrong_audience)),
        ("wrongly signed", Some(&foreign)),
        ("garbage", Some(&"abc.def.ghi".to_owned())),
    ] {
        let refused = post_order(&runner, token.map(String::as_str), case).await;
        assert_eq!(refused.status, 401, "{case}");
        assert_eq!(refused.json, json!({ "message": "Unauthorized" }), "{case}");
        assert!(refused.headers["www-authenticate"].starts_with("Bearer"), "{case}");
    }
    assert_eq!(intake_invocations(&runner), 0, "no function ran");
    let orders = aws_sdk_dynamodb::Client::new(&runner.sdk)
        .scan()
        .table_name(runner.stack.reference_of("OrdersTable").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(orders.count, 0, "nothing was written");

    let good = runner.issuer().sign(&claims(json!({}))).unwrap();
    assert_eq!(post_order(&runner, Some(&good), "good").await.status, 201);
    let unknown = http("GET", &format!("{}/nowhere", runner.api_url()), &[], "").await;
    assert_eq!((unknown.status, unknown.json["message"].as_str()), (404, Some("Not Found")));
}

/// A carrier event of the AfterShip fixture, for this parcel, at this time.
fn aftership_event(tracking_number: &str, event_id: &str, checkpoint_time: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../fixtures/carriers/aftership-out-for-delivery.json")).unwrap();
    event["event_id"] = json!(event_id);
    event["ts"] = json!(chrono::Utc::now().timestamp());
    event["msg"]["tracking_number"] = json!(tracking_number);
    event["msg"]["checkpoints"].as_array_mut().unwrap().retain(|checkpoint| checkpoint["tag"] == "OutForDelivery");
    event["msg"]["checkpoints"][0]["checkpoint_time"] = json!(checkpoint_time);
    event
}

/// The local warehouse, reading and reporting on the runner's stack's queues.
fn local_warehouse(runner: &Runner) -> local::partners::LocalWarehouse {
    local::partners::LocalWarehouse::of(runner).unwrap()
}

/// What the warehouse ships at `shipped_at`, once pick requests are waiting.
async fn ships(
    warehouse: &local::partners::LocalWarehouse,
    shipped_at: chrono::DateTime<chrono::Utc>,
) -> Vec<shared::domain::ShipmentReport> {
    eventually(Duration::from_secs(30), || async {
        let reports = warehouse.ship_waiting(shipped_at).await.unwrap();
        (!reports.is_empty()).then_some(reports)
    })
    .await
}

#[tokio::test]
async fn an_order_travels_from_the_warehouse_to_the_customer_s_door() {
    use local::partners::LocalCarrier;
    use local::runner::LOCAL_CARRIER_SECRETS;

    let runner = pipeline().await;
    let token = runner.token(AUTHORIZER, "shop-door", Duration::from_secs(300)).unwrap();
    let placed = post_order(&runner, Some(&token), "door-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = placed.json["id"].as_str().unwrap().to_owned();
    card_numbers_are_refused(&runner, &token).await;
    let promised = placed.json["shipping_quote"]["estimated_delivery"].as_str().unwrap().to_owned();
    reaches(&runner, &token, &id, "FULFILLING").await;

    // The warehouse ships the mugs and the notebook in two parcels.
    let warehouse = local_warehouse(&runner);
    let shipped_at = chrono::Utc::now();
    let parcels = ships(&warehouse, shipped_at).await;
    assert_eq!(parcels.len(), 2);
    let shipped = reaches(&runner, &token, &id, "SHIPPED").await;
    assert_eq!(shipped["shipments"].as_array().unwrap().len(), 2);

    let easypost = LocalCarrier {
        api_url: runner.api_url(),
        carrier: LOCAL_CARRIER_SECRETS[0].0.to_owned(),
        secret: LOCAL_CARRIER_SECRETS[0].1.to_owned(),
    };
    let aftership = LocalCarrier {
        api_url: runner.api_url(),
        carrier: LOCAL_CARRIER_SECRETS[1].0.to_owned(),
        secret: LOCAL_CARRIER_SECRETS[1].1.to_owned(),
    };
    let hours = |h: i64| shipped_at + chrono::Duration::hours(h);
    let (first, second) = (&parcels[0].tracking_number, &parcels[1].tracking_number);
    let events = [
        (&easypost, LocalCarrier::event("evt_a1", first, "in_transit", hours(4), None)),
        (&easypost, LocalCarrier::event("evt_b1", second, "in_transit", hours(5), None)),
        (&aftership, aftership_event(first.as_str(), "as-a2", &hours(20).to_rfc3339())),
        (&easypost, LocalCarrier::event("evt_a3", first, "delivered", hours(24), None)),
        // The same event again, as carriers retry.
        (&easypost, LocalCarrier::event("evt_a3", first, "delivered", hours(24), None)),
    ];
    for (carrier, event) in &events {
        assert_eq!(carrier.post(event).await.unwrap(), 202);
    }
    // The consumer applies a batch's events in any order. Had the second parcel's delivery been
    // applied before the first's, the order would rightly have been out for delivery (the first
    // parcel's last word) for a moment; this journey wants the first parcel home first.
    eventually(Duration::from_secs(30), || async {
        let read = get_order(&runner, &token, &id).await;
        read.json["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|parcel| parcel["tracking_number"] == first.as_str() && parcel["status"] == "DELIVERED")
            .then_some(())
    })
    .await;
    let later_events = [
        LocalCarrier::event("evt_b3", second, "delivered", hours(26), None),
        // A late scan after delivery.
        LocalCarrier::event("evt_b0", second, "in_transit", hours(2), None),
    ];
    for event in &later_events {
        assert_eq!(easypost.post(event).await.unwrap(), 202);
    }
    reaches(&runner, &token, &id, "DELIVERED").await;
    let carrier_events = |order: &Value| -> Vec<(String, String)> {
        order["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["tracking"].is_object())
            .map(|entry| {
                let tracking = &entry["tracking"];
                (tracking["event_id"].as_str().unwrap().to_owned(), tracking["status"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    // Events the queue hands over after "delivered" still land in the timeline: wait for all six.
    let delivered = eventually(Duration::from_secs(30), || async {
        let read = get_order(&runner, &token, &id).await;
        (carrier_events(&read.json).len() >= 6).then_some(read.json)
    })
    .await;
    assert_eq!(delivered["status"], "DELIVERED");
    let carrier_events = carrier_events(&delivered);
    assert_eq!(
        carrier_events,
        [
            ("evt_b0", "IN_TRANSIT"),
            ("evt_a1", "IN_TRANSIT"),
            ("evt_b1", "IN_TRANSIT"),
            ("as-a2", "OUT_FOR_DELIVERY"),
            ("evt_a3", "DELIVERED"),
            ("evt_b3", "DELIVERED"),
        ]
        .map(|(id, status)| (id.to_owned(), status.to_owned())),
        "each carrier event once, in the carrier's order"
    );
    let shipments = delivered["shipments"].as_array().unwrap();
    assert!(shipments.iter().all(|parcel| parcel["status"] == "DELIVERED"), "{shipments:?}");
    assert_eq!(shipments[0]["events"].as_array().unwrap().len(), 3);
    assert_eq!(delivered["estimated_delivery"], promised.as_str());
    let statuses: Vec<&str> = delivered["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"].as_str().unwrap().starts_with("order.") && entry["tracking"].is_null())
        .map(|entry| entry["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["PLACED", "RESERVED", "PAYMENT_AUTHORIZED", "FULFILLING", "FULFILLING", "SHIPPED"]);

    // The customer heard of every step, by e-mail and, for the urgent ones, text message.
    let told = |fragments: &'static [&'static str]| {
        let id = id.clone();
        let runner = &runner;
        async move {
            let outbox = outbox(runner.moto_endpoint()).await;
            let subjects: Vec<String> = outbox
                .mail
                .get("grace@example.com")
                .into_iter()
                .flatten()
                .filter(|mail| mail.subject.contains(&id))
                .map(|mail| mail.subject.clone())
                .collect();
            fragments
                .iter()
                .all(|fragment| subjects.iter().filter(|subject| subject.contains(fragment)).count() == 1)
                .then_some((subjects, outbox.sms.get("+4915112345678").cloned().unwrap_or_default()))
        }
    };
    // No "out for delivery": the order follows its slowest parcel, which was never out alone; no
    // "received": the confirmation came within seconds and said it.
    const STEPS: [&str; 3] = ["is confirmed", "has shipped", "has been delivered"];
    // A notice's text message follows its e-mail: wait for both.
    let (subjects, texts) = eventually(Duration::from_secs(30), || async {
        let (subjects, texts) = told(&STEPS).await?;
        (texts.iter().filter(|text| text.contains(&id)).count() >= 3).then_some((subjects, texts))
    })
    .await;
    assert_eq!(subjects.len(), STEPS.len(), "{subjects:?}");
    let texts: Vec<&String> = texts.iter().filter(|text| text.contains(&id)).collect();
    assert_eq!(texts.len(), 3, "confirmed, shipped, delivered: {texts:?}");

    // A week after delivery the daily sweep asks for feedback, once however often it runs.
    let delivered_at = delivered["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "order.delivered")
        .map(|entry| entry["at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap())
        .max()
        .unwrap();
    let sweep = |n: u32| {
        json!({"version": "0", "id": format!("sweep-{n}"), "detail-type": "Scheduled Event",
        "source": "aws.events", "time": (delivered_at + chrono::Duration::days(7)).to_rfc3339(), "detail": {}})
    };
    let early =
        json!({"detail-type": "Scheduled Event", "time": (delivered_at + chrono::Duration::days(6)).to_rfc3339()});
    assert_eq!(runner.invoke("NotifierFunction", &early).await.unwrap()["requested"], 0, "not due yet");
    assert_eq!(runner.invoke("NotifierFunction", &sweep(1)).await.unwrap()["requested"], 1);
    let again = runner.invoke("NotifierFunction", &sweep(2)).await.unwrap();
    assert_eq!((again["requested"].as_u64(), again["already_sent"].as_u64()), (Some(0), Some(1)));
    eventually(Duration::from_secs(10), || told(&["How was order"])).await;

    // The notebook goes back: returned, received by the warehouse (twice), refunded once.
    let bearer = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", bearer.as_str())];
    let body = json!({"lines": [{"sku": "NOTEBOOK-A5", "quantity": 1}], "reason": "wrong ruling"}).to_string();
    let requested = http("POST", &format!("{}/orders/{id}/returns", runner.api_url()), &headers, &body).await;
    assert_eq!(requested.status, 201, "{:?}", requested.json);
    let rma: shared::domain::Rma = requested.json["return_request"]["rma"].as_str().unwrap().parse().unwrap();
    let order_id = shared::domain::OrderId::parse(&id).unwrap();
    let notebook: shared::domain::ShippedLine =
        serde_json::from_value(json!({"sku": "NOTEBOOK-A5", "quantity": 1})).unwrap();
    for _ in 0..2 {
        warehouse.receive_return(&order_id, &rma, &[(notebook.clone(), 0)], chrono::Utc::now()).await.unwrap();
    }
    let refunded = reaches(&runner, &token, &id, "REFUNDED").await;
    let refund = &refunded["return_request"]["refund"]["minor_units"];
    let intent =
        refunded["timeline"].as_array().unwrap().iter().filter(|entry| entry["type"] == "order.refunded").count();
    assert_eq!(intent, 1);
    assert_eq!(refund.as_i64(), Some(1_070), "8.99 and 19 % tax; shipping stays, the mugs were kept");
    eventually(Duration::from_secs(30), || told(&["Your return for order", "Refund issued for order"])).await;

    // Every function's every output line is one flat JSON object naming the function, a log
    // line or an EMF metric, and none holds the customer's e-mail, phone, name or street.
    let logs = runner.journal.function_logs();
    let mut metrics = std::collections::BTreeSet::new();
    for (function, line) in &logs {
        let json: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("{function}: not JSON: {line}"));
        assert!(json["function"].is_string(), "{function}: {line}");
        match json.get("_aws") {
            Some(_) => metrics.extend(emf_metric_names(&json)),
            None => assert!(json["level"].is_string(), "{function}: {line}"),
        }
        for raw in ["grace@example.com", "+4915112345678", "Grace", "Hopper", "Friedrichstr"] {
            assert!(!line.contains(raw), "{function} logged {raw:?}: {line}");
        }
    }
    for expected in [
        "ColdStarts",
        "OrdersPlaced",
        "StageLatency",
        "OrdersShipped",
        "OrdersDelivered",
        "MessagesSent",
        "ReturnsRequested",
        "OrdersRefunded",
    ] {
        assert!(metrics.contains(expected), "{expected} in {metrics:?}");
    }
    // A line written while a message is handled says which invocation, order and event.
    let handled = logs.iter().find(|(function, line)| function == "payment" && line.contains("order.reserved"));
    let handled: Value = serde_json::from_str(&handled.expect("payment logged the reserved order").1).unwrap();
    for field in ["request_id", "trace_id", "order_id", "event_id", "event_type"] {
        assert!(handled[field].is_string(), "{field} in {handled}");
    }
    // Each function ran as its own role and needed nothing its role does not grant.
    let denials = runner.denials().await.unwrap();
    assert!(denials.is_empty(), "{denials:#?}");
    no_card_number_anywhere(&runner).await;
}

#[tokio::test]
async fn a_cancelled_order_is_not_shipped_and_its_customer_is_told() {
    let runner = pipeline().await;
    let token = runner.token(AUTHORIZER, "shop-cancel", Duration::from_secs(300)).unwrap();
    let placed = post_order(&runner, Some(&token), "cancel-1").await;
    let id = placed.json["id"].as_str().unwrap().to_owned();
    reaches(&runner, &token, &id, "FULFILLING").await;
    let bearer = format!("Bearer {token}");
    let cancel = |reason: &'static str| {
        let url = format!("{}/orders/{id}/cancel", runner.api_url());
        let bearer = bearer.clone();
        async move {
            let headers = [("Content-Type", "application/json"), ("Authorization", bearer.as_str())];
            http("POST", &url, &headers, &json!({"reason": reason}).to_string()).await
        }
    };
    let cancelled = cancel("found it cheaper").await;
    assert_eq!((cancelled.status, cancelled.json["status"].as_str()), (200, Some("CANCELLED")), "{:?}", cancelled.json);
    assert_eq!(cancel("again").await.json["version"], cancelled.json["version"]);

    // The pick request and the stop both wait for the warehouse, which ships nothing.
    let warehouse = local_warehouse(&runner);
    eventually(Duration::from_secs(30), || async {
        let intents = crate::harness::intents_of(&id).await;
        (intents.len() == 1 && intents[0]["status"] == "canceled").then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), || async {
        let waiting = warehouse
            .sqs
            .get_queue_attributes()
            .queue_url(&warehouse.pick_requests_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let count = waiting
            .attributes()
            .and_then(|attributes| attributes.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|count| count.parse::<u32>().ok());
        (count >= Some(2)).then_some(())
    })
    .await;
    assert!(warehouse.ship_waiting(chrono::Utc::now()).await.unwrap().is_empty());
    eventually(Duration::from_secs(30), || async {
        let outbox = outbox(runner.moto_endpoint()).await;
        let mails = outbox.mail.get("grace@example.com")?;
        mails.iter().any(|mail| mail.subject == format!("Order {id} is cancelled")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_largest_order_the_api_accepts_travels_to_the_door() {
    use local::partners::LocalCarrier;
    use local::runner::LOCAL_CARRIER_SECRETS;

    let runner = pipeline().await;
    let catalog = largest_catalog(5);
    let environment = shared::config::Env::Map(runner.stack.function_environment("IntakeFunction").unwrap());
    let store =
        shared::adapters::dynamodb::DynamoStore::from_env(aws_sdk_dynamodb::Client::new(&runner.sdk), &environment)
            .unwrap();
    local::stack::catalog::seed(&store, &catalog).await.unwrap();
    let token = runner.token(AUTHORIZER, "shop-big", Duration::from_secs(300)).unwrap();
    let body = largest_order_body(&catalog, "door");
    let placed = post_body(&runner, Some(&token), "big-1", &body).await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = placed.json["id"].as_str().unwrap().to_owned();
    reaches(&runner, &token, &id, "FULFILLING").await;

    let warehouse = local_warehouse(&runner);
    let shipped_at = chrono::Utc::now();
    let parcels = ships(&warehouse, shipped_at).await;
    reaches(&runner, &token, &id, "SHIPPED").await;
    // The parcels arrive once the customer has heard they left: a delivery that overtook it
    // would rightly skip "has shipped" (a stale notice).
    let email = body["customer"]["email"].as_str().unwrap().to_owned();
    let told = |step: &'static str| {
        let (runner, email) = (&runner, &email);
        move || async move {
            let outbox = outbox(runner.moto_endpoint()).await;
            let subjects: Vec<String> = outbox.mail.get(email)?.iter().map(|mail| mail.subject.clone()).collect();
            subjects.iter().any(|subject| subject.contains(step)).then_some(subjects)
        }
    };
    eventually(Duration::from_secs(30), told("has shipped")).await;
    let carrier = LocalCarrier {
        api_url: runner.api_url(),
        carrier: LOCAL_CARRIER_SECRETS[0].0.to_owned(),
        secret: LOCAL_CARRIER_SECRETS[0].1.to_owned(),
    };
    for (index, parcel) in parcels.iter().enumerate() {
        let at = shipped_at + chrono::Duration::hours(24);
        let event = LocalCarrier::event(&format!("evt_big{index}"), &parcel.tracking_number, "delivered", at, None);
        assert_eq!(carrier.post(&event).await.unwrap(), 202);
    }
    let delivered = reaches(&runner, &token, &id, "DELIVERED").await;
    assert_eq!(delivered["lines"].as_array().unwrap().len(), shared::api::MAX_LINES);

    // The customer heard of every step, however long the order ("received" said by the
    // confirmation that came within seconds).
    let subjects = eventually(Duration::from_secs(30), told("has been delivered")).await;
    for step in ["is confirmed", "has shipped", "has been delivered"] {
        assert_eq!(subjects.iter().filter(|subject| subject.contains(step)).count(), 1, "{step}: {subjects:?}");
    }
    let denials = runner.denials().await.unwrap();
    assert!(denials.is_empty(), "{denials:#?}");
    for dead_letters in runner.stack.template.resources.keys().filter(|name| name.ends_with("DeadLetterQueue")) {
        let url = runner.stack.reference_of(dead_letters).unwrap();
        let waiting = aws_sdk_sqs::Client::new(&runner.sdk)
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let attributes = waiting.attributes.unwrap_or_default();
        let count = &attributes[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages];
        assert_eq!(count, "0", "{dead_letters} holds a message");
    }
}
