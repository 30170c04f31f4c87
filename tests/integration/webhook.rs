//! `carrier-webhook` against moto: signed events are queued for `delivery`; everything else is
//! refused with nothing queued.

use carrier_webhook::CarrierWebhook;
use chrono::Utc;
use local::{apigw, runner::LOCAL_CARRIER_SECRETS};
use serde_json::Map;
use shared::{
    adapters::carriers::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Vocabulary, sign},
    config::Env,
};

use crate::harness::{Reply, TestStack};

const EASYPOST: &str = include_str!("../fixtures/carriers/easypost-in-transit.json");
const AFTERSHIP: &str = include_str!("../fixtures/carriers/aftership-attempt-failed.json");

fn secret(carrier: &str) -> &'static str {
    LOCAL_CARRIER_SECRETS.iter().find(|(name, _)| *name == carrier).map(|(_, secret)| *secret).unwrap()
}

fn webhook(stack: &TestStack) -> CarrierWebhook {
    CarrierWebhook::from_env(stack.sdk_as("CarrierWebhookFunction"), &stack.environment("CarrierWebhookFunction"))
        .unwrap()
}

/// Posts `body` to the carrier's route through the template's routes, as API Gateway would,
/// to a newly started function.
async fn post(stack: &TestStack, carrier: &str, headers: &[(&str, String)], body: impl AsRef<[u8]>) -> Reply {
    post_to(&webhook(stack), stack, carrier, headers, body).await
}

/// The same, to a function already running.
async fn post_to(
    webhook: &CarrierWebhook,
    stack: &TestStack,
    carrier: &str,
    headers: &[(&str, String)],
    body: impl AsRef<[u8]>,
) -> Reply {
    let request = apigw::HttpRequest {
        method: "POST".to_owned(),
        path: format!("/webhooks/carriers/{carrier}"),
        headers: apigw::joined_headers(headers.iter().map(|(name, value)| (*name, value))),
        body: body.as_ref().to_vec(),
        ..apigw::HttpRequest::default()
    };
    let routes = apigw::routes(&stack.stack.template);
    let (route, event) = apigw::event_for(&routes, &request, &Map::new()).expect("the webhook route");
    assert_eq!(route.function, "CarrierWebhookFunction");
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    crate::harness::reply(webhook.handle(request).await.unwrap())
}

/// The headers a carrier signs `body` with, `age_seconds` ago, under `secret`.
fn signed(secret: &str, age_seconds: i64, body: impl AsRef<[u8]>) -> Vec<(&'static str, String)> {
    let timestamp = Utc::now().timestamp() - age_seconds;
    vec![(TIMESTAMP_HEADER, timestamp.to_string()), (SIGNATURE_HEADER, sign(secret, timestamp, body.as_ref()))]
}

#[tokio::test]
async fn signed_events_of_both_vocabularies_are_queued_in_our_words() {
    let stack = TestStack::new().await;
    let easypost = post(&stack, "easypost", &signed(secret("easypost"), 0, EASYPOST), EASYPOST).await;
    assert_eq!(easypost.status, 202, "{:?}", easypost.json);
    let aftership = post(&stack, "aftership", &signed(secret("aftership"), 10, AFTERSHIP), AFTERSHIP).await;
    assert_eq!(aftership.status, 202, "{:?}", aftership.json);
    let mut queued = stack.drain("DeliveryUpdatesQueue").await;
    queued.sort_by_key(|update| update["source"].as_str().unwrap().to_owned());
    assert_eq!(queued.len(), 2);
    assert_eq!(
        (queued[0]["source"].as_str(), queued[0]["event_id"].as_str(), queued[0]["status"].as_str()),
        (Some("aftership"), Some("0d7e1c52-6f3a-4b9e-a2c4-7e5f9b8d1a23"), Some("DELIVERY_EXCEPTION"))
    );
    assert_eq!(
        (queued[1]["tracking_number"].as_str(), queued[1]["status"].as_str()),
        (Some("EZ4000000004"), Some("IN_TRANSIT"))
    );
}

/// A carrier's published example as the carrier would send it now: its own time `age` ago.
fn sent(carrier: &str, age: chrono::Duration) -> String {
    let mut event: serde_json::Value =
        serde_json::from_str(if carrier == "easypost" { EASYPOST } else { AFTERSHIP }).unwrap();
    let at = Utc::now() - age;
    match carrier {
        "easypost" => event["created_at"] = serde_json::json!(at),
        _ => event["ts"] = serde_json::json!(at.timestamp()),
    }
    event.to_string()
}

/// The carrier's own signature header for `body`.
fn carrier_signed(carrier: &str, secret: &str, body: &str) -> Vec<(&'static str, String)> {
    let vocabulary = Vocabulary::of(carrier).unwrap();
    vec![(vocabulary.signature_header(), vocabulary.sign(secret, body.as_bytes()))]
}

#[tokio::test]
async fn events_signed_in_each_carrier_s_own_scheme_are_queued_and_old_or_forged_ones_refused() {
    let stack = TestStack::new().await;
    for carrier in ["easypost", "aftership"] {
        let body = sent(carrier, chrono::Duration::minutes(2));
        let accepted = post(&stack, carrier, &carrier_signed(carrier, secret(carrier), &body), &body).await;
        assert_eq!(accepted.status, 202, "{carrier}: {:?}", accepted.json);

        let header = Vocabulary::of(carrier).unwrap().signature_header();
        let time_field = if carrier == "easypost" { "/created_at" } else { "/ts" };
        let old = sent(carrier, chrono::Duration::days(4));
        let early = sent(carrier, chrono::Duration::minutes(-10));
        let mut both = carrier_signed(carrier, secret(carrier), &body);
        both.extend(signed(secret(carrier), 0, &body));
        let cases = [
            (
                "forged",
                carrier_signed(carrier, "whsec_guess_0000000", &body),
                body.clone(),
                "invalid_signature",
                header,
            ),
            ("replayed after days", carrier_signed(carrier, secret(carrier), &old), old, "stale_event", time_field),
            ("from the future", carrier_signed(carrier, secret(carrier), &early), early, "stale_event", time_field),
            ("two schemes", both, body.clone(), "conflicting_signatures", header),
            ("unsigned", Vec::new(), body.clone(), "missing_signature", header),
        ];
        for (name, headers, body, code, field) in cases {
            let reply = post(&stack, carrier, &headers, &body).await;
            let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
            assert_eq!(refusal, (401, Some(code), Some(field)), "{carrier}: {name}: {:?}", reply.json);
        }
    }
    let queued = stack.drain("DeliveryUpdatesQueue").await;
    let mut sources: Vec<_> = queued.iter().map(|update| update["source"].as_str().unwrap().to_owned()).collect();
    sources.sort();
    assert_eq!(sources, ["aftership", "easypost"], "only the two genuine events");
}

#[tokio::test]
async fn forged_tampered_unsigned_replayed_and_oversized_events_are_refused_naming_what_is_at_fault() {
    let stack = TestStack::new().await;
    let good = signed(secret("easypost"), 0, EASYPOST);
    let tampered = EASYPOST.replacen("in_transit", "delivered", 1);
    type Headers = Vec<(&'static str, String)>;
    let mut not_a_time = good.clone();
    not_a_time[0].1 = "yesterday".to_owned();
    let mut three = good.clone();
    three[1].1 = format!("v1={0}, v1={0}, {1}", "00".repeat(32), good[1].1);
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(256 * 1024));
    let cases: [(&str, Headers, &str, u16, &str, &str); 11] = [
        (
            "wrong secret",
            signed("whsec_guess_000000", 0, EASYPOST),
            EASYPOST,
            401,
            "invalid_signature",
            SIGNATURE_HEADER,
        ),
        (
            "another carrier's secret",
            signed(secret("aftership"), 0, EASYPOST),
            EASYPOST,
            401,
            "invalid_signature",
            SIGNATURE_HEADER,
        ),
        ("tampered body", good.clone(), &tampered, 401, "invalid_signature", SIGNATURE_HEADER),
        ("a pile of signatures", three, EASYPOST, 401, "too_many_signatures", SIGNATURE_HEADER),
        ("no signature", vec![good[0].clone()], EASYPOST, 401, "missing_signature", SIGNATURE_HEADER),
        ("no timestamp", vec![good[1].clone()], EASYPOST, 401, "missing_timestamp", TIMESTAMP_HEADER),
        ("not a time", not_a_time, EASYPOST, 401, "invalid_timestamp", TIMESTAMP_HEADER),
        ("stale", signed(secret("easypost"), 600, EASYPOST), EASYPOST, 401, "stale_timestamp", TIMESTAMP_HEADER),
        (
            "from the future",
            signed(secret("easypost"), -600, EASYPOST),
            EASYPOST,
            401,
            "stale_timestamp",
            TIMESTAMP_HEADER,
        ),
        ("malformed", signed(secret("easypost"), 0, "{\"id\": 1}"), "{\"id\": 1}", 400, "malformed_event", "/"),
        ("oversized", signed(secret("easypost"), 0, &huge), &huge, 413, "payload_too_large", "/"),
    ];
    for (name, headers, body, status, code, field) in cases {
        let reply = post(&stack, "easypost", &headers, body).await;
        let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
        assert_eq!(refusal, (status, Some(code), Some(field)), "{name}: {:?}", reply.json);
    }
    let unknown = post(&stack, "pigeon-post", &good, EASYPOST).await;
    let refusal = (unknown.status, unknown.json["code"].as_str(), unknown.json["field"].as_str());
    assert_eq!(refusal, (404, Some("carrier_not_found"), Some("carrier")));
    assert!(stack.drain("DeliveryUpdatesQueue").await.is_empty(), "nothing was queued");
}

#[tokio::test]
async fn signed_events_that_are_not_utf8_or_name_a_member_twice_are_refused() {
    let stack = TestStack::new().await;
    for (carrier, event) in [("easypost", EASYPOST), ("aftership", AFTERSHIP)] {
        let first: serde_json::Value = serde_json::from_str(event).unwrap();
        let first = first.as_object().unwrap().keys().next().unwrap().clone();
        let twice = format!("{{\"{first}\": null, {}", &event[1..]).into_bytes();
        let not_utf8 = [&b"{\"x\xff\": 1, "[..], &event.as_bytes()[1..]].concat();
        for (name, body) in [("not UTF-8", not_utf8), ("a member twice", twice)] {
            let reply = post(&stack, carrier, &signed(secret(carrier), 0, &body), &body).await;
            let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
            assert_eq!(refusal, (400, Some("malformed_event"), Some("/")), "{carrier}: {name}: {:?}", reply.json);
        }
    }
    assert!(stack.drain("DeliveryUpdatesQueue").await.is_empty(), "nothing was queued");
}

#[tokio::test]
async fn a_rotated_signing_secret_reaches_the_running_function_and_the_old_one_stops_working() {
    let stack = TestStack::new().await;
    let webhook = webhook(&stack);
    let accepted = post_to(&webhook, &stack, "easypost", &signed(secret("easypost"), 0, EASYPOST), EASYPOST).await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.json);

    let Env::Map(environment) = stack.environment("CarrierWebhookFunction") else { unreachable!() };
    let rotated = "whsec_rotated_easypost_0001";
    let secrets = serde_json::json!({"easypost": rotated, "aftership": secret("aftership")});
    aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .put_secret_value()
        .secret_id(&environment["CARRIER_WEBHOOK_SECRET_ID"])
        .secret_string(secrets.to_string())
        .send()
        .await
        .unwrap();
    let with_new = post_to(&webhook, &stack, "easypost", &signed(rotated, 0, EASYPOST), EASYPOST).await;
    assert_eq!(with_new.status, 202, "read again on its first refusal: {:?}", with_new.json);
    let with_old = post_to(&webhook, &stack, "easypost", &signed(secret("easypost"), 0, EASYPOST), EASYPOST).await;
    assert_eq!(with_old.status, 401);
    assert_eq!(stack.drain("DeliveryUpdatesQueue").await.len(), 2);
}
