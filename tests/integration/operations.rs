//! `orderctl` against the local runner: an order's timeline, a dead-letter queue listed with
//! why, redriven once the cause is fixed, an event replayed without a second effect, and an
//! apology told to the customer once.

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
    let operator = runner.operator_token("ops-ana", &["agent"], "shop-ops", Duration::from_secs(300)).unwrap();
    let placed = post_order(&runner, Some(&token), "ops-1").await;
    let id = placed.json["id"].as_str().unwrap().to_owned();
    reaches(&runner, &token, &id, "FULFILLING").await;

    // The carrier's first scan came before the warehouse's report, kept failing (no such
    // parcel yet) and was dead-lettered.
    let tail = &id[id.len() - 12..];
    let first = TrackingNumber::parse(&format!("EZ{tail}1")).unwrap();
    let shipped_at = Utc::now();
    let early = DeliveryUpdate {
        source: "easypost".parse().unwrap(),
        event_id: "evt_early".parse().unwrap(),
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
        let order = orderctl.order(&id, &operator).await.unwrap();
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

#[tokio::test]
async fn the_watchdog_counts_orders_stuck_past_their_status_s_limit() {
    use shared::{
        api::PlaceOrder,
        domain::{OrderId, OrderRepository, OrderStatus, Requester, StorefrontId},
    };

    let stack = crate::harness::TestStack::new().await;
    let api = stack.order_api();
    let storefront = StorefrontId::parse(crate::harness::STOREFRONT).unwrap();
    let body = crate::harness::order_body().to_string();
    let now = Utc::now();
    let place = |at: chrono::DateTime<Utc>| {
        let api = &api;
        let storefront = &storefront;
        let body = &body;
        async move {
            let request = PlaceOrder { storefront, idempotency_key: None, body: body.as_bytes() };
            let answer = api.place_order(request, at).await.unwrap();
            let id = answer.response.location.unwrap().trim_start_matches("/orders/").to_owned();
            OrderId::parse(&id).unwrap()
        }
    };
    // Placed two hours ago and never reserved: its event was lost.
    let lost = place(now - chrono::Duration::hours(2)).await;
    // Placed just now: not late yet.
    place(now - chrono::Duration::minutes(1)).await;
    // Reserved an hour ago and never authorised.
    let waiting = place(now - chrono::Duration::hours(2)).await;
    let order = stack.store.head(&waiting).await.unwrap().unwrap();
    stack
        .store
        .apply(&order.transition(OrderStatus::Reserved, now - chrono::Duration::hours(1)).unwrap())
        .await
        .unwrap();
    // Cancelled long ago: nothing waits on it any more.
    let cancelled = place(now - chrono::Duration::hours(3)).await;
    let order = stack.store.head(&cancelled).await.unwrap().unwrap();
    let requester = Requester::Storefront { storefront: storefront.clone() };
    stack.store.apply(&order.cancel(requester, None, now - chrono::Duration::hours(3)).unwrap()).await.unwrap();

    let handler = watchdog::WatchdogHandler::from_env(
        stack.dynamodb_as("WatchdogFunction"),
        &stack.environment("WatchdogFunction"),
    )
    .unwrap();
    let event = lambda_runtime::LambdaEvent::new(
        serde_json::json!({"detail-type": "Scheduled Event", "time": now.to_rfc3339()}),
        lambda_runtime::Context::default(),
    );
    let report = handler.handle(event).await.unwrap();
    use shared::domain::OrderStatus::{Placed, Reserved};
    assert_eq!(report.stuck, std::collections::BTreeMap::from([(Placed, 1), (Reserved, 1)]));
    assert_eq!(report.examples[&Placed], [lost]);
    assert_eq!(report.examples[&Reserved], [waiting]);
}

#[tokio::test]
async fn an_operator_s_apology_is_recorded_and_told_to_the_customer_once_in_their_language_and_a_bad_one_refused() {
    let runner = pipeline().await;
    let resources: Resources = serde_json::from_value(runner.resources()).unwrap();
    let orderctl = Orderctl::new(&runner.sdk, resources).unwrap();
    let token = runner.token(AUTHORIZER, "shop-sorry", Duration::from_secs(300)).unwrap();
    let operator = runner.operator_token("ops-sorry", &["agent"], "shop-sorry", Duration::from_secs(300)).unwrap();
    // A German-speaking customer: everything she is told is in German.
    let mut body = crate::harness::order_body();
    body["locale"] = serde_json::json!("de-de");
    let placed = crate::pipeline::post_body(&runner, Some(&token), "sorry-1", &body).await;
    assert_eq!(placed.json["locale"], "de-DE", "written canonically");
    let id = placed.json["id"].as_str().unwrap().to_owned();
    let order = reaches(&runner, &token, &id, "FULFILLING").await;

    let url = format!("{}/orders/{id}/apology", runner.api_url());
    let bearer = format!("Bearer {operator}");
    let if_match = format!("\"{}\"", order["version"]);
    let post = |body: serde_json::Value| {
        let (url, bearer, if_match) = (url.clone(), bearer.clone(), if_match.clone());
        async move {
            let headers = [
                ("Content-Type", "application/json"),
                ("Authorization", bearer.as_str()),
                ("If-Match", if_match.as_str()),
            ];
            crate::harness::http("POST", &url, &headers, body.to_string()).await
        }
    };
    let refused = [
        (serde_json::json!({"remedy": "refund"}), 400, "/what_went_wrong"),
        (serde_json::json!({"remedy": "free_gift", "what_went_wrong": "late"}), 422, "/remedy"),
        (serde_json::json!({"remedy": "refund", "what_went_wrong": "late\u{202e}", "extra": 1}), 400, "/extra"),
    ];
    for (body, status, field) in refused {
        let reply = post(body.clone()).await;
        assert_eq!((reply.status, reply.json["field"].as_str()), (status, Some(field)), "{body}: {:?}", reply.json);
    }
    let what = "Ihr Paket hat unser Lager zwei Tage zu spät verlassen.";
    let body = serde_json::json!({"remedy": "expedited_shipment", "what_went_wrong": what, "note": "DC backlog"});
    let first = post(body.clone()).await;
    assert_eq!(
        (first.status, first.json["status_reason"]["kind"].as_str()),
        (200, Some("apologised")),
        "{:?}",
        first.json
    );
    // The same request again: the order moved on, nothing is sent twice.
    assert_eq!(post(body).await.status, 412);
    // A storefront's token is not an operator's.
    let storefront = crate::harness::http(
        "POST",
        &url,
        &[("Content-Type", "application/json"), ("Authorization", &format!("Bearer {token}")), ("If-Match", &if_match)],
        "{}",
    )
    .await;
    assert_eq!(storefront.status, 401);

    assert!(runner.settle(Duration::from_secs(2), Duration::from_secs(60)).await);
    let outbox = outbox(runner.moto_endpoint()).await;
    let subjects: Vec<&str> = outbox.mail["grace@example.com"].iter().map(|mail| mail.subject.as_str()).collect();
    assert!(subjects.contains(&format!("Bestellung {id} ist bestätigt").as_str()), "{subjects:?}");
    let texts = &outbox.sms["+4915112345678"];
    assert!(texts.iter().any(|text| text.contains(&format!("Bestellung {id} ist bestätigt"))), "{texts:?}");
    let apologies: Vec<_> = outbox.mail["grace@example.com"]
        .iter()
        .filter(|mail| mail.subject == format!("Entschuldigung wegen Bestellung {id}"))
        .collect();
    assert_eq!(apologies.len(), 1, "told once");
    assert!(apologies[0].text.contains(what) && apologies[0].text.contains("Expressversand, ohne Kosten"));
    assert!(apologies[0].text.contains("Gesamt: ") && apologies[0].html.contains("lang=\"de-DE\""));
    assert!(!apologies[0].text.contains("DC backlog"), "the operator's note stays with the operators");
    let timeline = orderctl.order(&id, &operator).await.unwrap()["timeline"].clone();
    let recorded = timeline.as_array().unwrap().iter().find(|entry| entry["type"] == "order.apology_sent").unwrap();
    assert_eq!(recorded["reason"]["decision"]["operator"], "ops-sorry");
}

/// `orderctl` as an operator runs it: its help, then the desk's day on a held order, in text and
/// in JSON, as the agent the token file names.
#[tokio::test]
async fn an_agent_works_a_held_order_from_the_command_line() {
    let runner = pipeline().await;
    let folder = std::env::temp_dir().join(crate::harness::unique_name("orderctl"));
    std::fs::create_dir_all(&folder).unwrap();
    let resources = folder.join("resources.json");
    std::fs::write(&resources, serde_json::to_string(&runner.resources()).unwrap()).unwrap();
    let token = folder.join("agent.jwt");
    let agent = runner.operator_token("cli-ana", &["agent"], "shop-cli", Duration::from_secs(300)).unwrap();
    std::fs::write(&token, agent).unwrap();
    // Run beside the runner, which serves the API on this test's runtime.
    let orderctl = |args: &[&str]| {
        let mut command = std::process::Command::new(crate::harness::function_binaries().join("orderctl"));
        command.arg("--resources").arg(&resources).arg("--token").arg(&token).args(args);
        command.env_remove("ORDERCTL_TOKEN_FILE");
        async move {
            let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
    };

    // Help for the whole and for each command, with what each takes.
    let (ok, help, _) = orderctl(&["--help"]).await;
    assert!(ok && help.contains("--output <OUTPUT>"), "{help}");
    for (command, mentions) in [
        (&["queue"][..], "--storefront"),
        (&["orders", "search"], "--tracking-number"),
        (&["claim"], "<ID>"),
        (&["outcome"], "no-answer"),
        (&["history"], "--phone"),
        (&["completions"], "bash"),
    ] {
        let (ok, help, _) = orderctl(&[command, &["--help"]].concat()).await;
        assert!(ok && help.contains(mentions), "{command:?}: {help}");
    }
    let (ok, _, refused) = orderctl(&["history"]).await;
    assert!(!ok && refused.contains("--email"), "{refused}");
    let (ok, script, _) = orderctl(&["completions", "bash"]).await;
    assert!(ok && script.contains("orderctl"), "a completion script");

    let storefront = runner.token(AUTHORIZER, "shop-cli", Duration::from_secs(300)).unwrap();
    let mut suspicious = crate::harness::order_body();
    suspicious["customer"]["email"] = serde_json::json!("cli@mailinator.com");
    suspicious["billing_address"] =
        serde_json::json!({"name": "G H", "line1": "1 Main St", "city": "Lagos", "country": "NG"});
    let placed = crate::pipeline::post_body(&runner, Some(&storefront), "cli-1", &suspicious).await;
    let id = placed.json["id"].as_str().unwrap().to_owned();
    reaches(&runner, &storefront, &id, "ON_HOLD").await;

    let (ok, queue, said) = orderctl(&["queue"]).await;
    assert!(ok && queue.contains(&id) && queue.contains("ON_HOLD") && queue.contains("waiting"), "{queue}{said}");
    let (ok, claimed, said) = orderctl(&["claim", &id]).await;
    assert!(ok && claimed.contains("claimed by cli-ana until"), "{claimed}{said}");
    let (ok, called, said) = orderctl(&["outcome", &id, "reached-confirmed", "--note", "she placed it"]).await;
    assert!(ok && called.contains("called: reached_confirmed  by cli-ana"), "{called}{said}");
    let (ok, approved, said) = orderctl(&["review", &id, "approve", "--note", "confirmed by phone"]).await;
    assert!(ok && approved.contains("PAYMENT_AUTHORIZED") && approved.contains("by cli-ana"), "{approved}{said}");
    let (ok, found, said) = orderctl(&["--output", "json", "orders", "search", "--email", "cli@mailinator.com"]).await;
    let found: serde_json::Value = serde_json::from_str(&found).unwrap_or_default();
    assert!(ok && found["orders"][0]["id"] == id.as_str(), "{found}{said}");
    let (ok, history, said) = orderctl(&["history", "--email", "cli@mailinator.com"]).await;
    assert!(ok && history.starts_with("1 ") && history.contains(&id), "{history}{said}");
    let (ok, _, refused) = orderctl(&["claim", "ord_00000000000000000000000000"]).await;
    assert!(!ok && refused.contains("404"), "another shop's or no order: {refused}");
}
