//! The storefront API against DynamoDB in moto: placing, replaying, refusing, reading.

use serde_json::{Value, json};

use shared::api::PlaceOrder;

use crate::harness::{STOREFRONT, TestStack, order_body};

fn money(minor_units: i64) -> Value {
    json!({"minor_units": minor_units, "currency": "EUR"})
}

#[tokio::test]
async fn an_order_is_stored_placed_with_totals_computed_on_the_server() {
    let cloud = TestStack::new().await;
    let reply = cloud.post_order(&order_body(), None).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    let id = reply.json["id"].as_str().unwrap().to_owned();
    assert_eq!(reply.headers["location"], format!("/orders/{id}"));
    assert_eq!(reply.json["status"], "PLACED");
    assert_eq!(reply.json["lines"][0]["unit_price"], money(1_250));
    assert_eq!(reply.json["lines"][0]["line_total"], money(2_500));
    assert_eq!(reply.json["lines"][1]["name"], "Dotted notebook, A5");
    // 33.99 goods + 4.95 shipping, 19 % German VAT on both: 7.3986 → 7.40.
    assert_eq!(
        reply.json["totals"],
        json!({"subtotal": money(3_399), "shipping": money(495), "tax": money(740), "total": money(4_634)})
    );

    let read = cloud.get_order(&id, STOREFRONT).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json["totals"], reply.json["totals"]);
    assert_eq!(read.json["timeline"].as_array().unwrap().len(), 1);
    assert_eq!(read.json["timeline"][0]["type"], "order.placed");

    let items = cloud.items("OrdersTable").await;
    let head = items.iter().find(|item| item["sk"].as_s().unwrap() == "ORDER").unwrap();
    assert_eq!(head["pk"].as_s().unwrap(), &format!("ORDER#{id}"));
    assert_eq!(head["status"].as_s().unwrap(), "PLACED");
    assert_eq!(head["version"].as_n().unwrap(), "1");
    assert_eq!(head["last_event"].as_s().unwrap(), "order.placed");
    // The listing indexes' keys: a keyed hash of the address (never the address), the
    // storefront, its status, and the time placed with the id.
    let customer_key = head["customer_key"].as_s().unwrap();
    assert!(customer_key.starts_with("storefront-a#email#") && !customer_key.contains("grace"), "{customer_key}");
    assert_eq!(head["shop_key"].as_s().unwrap(), "storefront-a");
    assert_eq!(head["shop_status"].as_s().unwrap(), "storefront-a#PLACED");
    assert!(head["created_id"].as_s().unwrap().ends_with(&format!("Z#{id}")));
}

#[tokio::test]
async fn the_client_cannot_set_prices() {
    let cloud = TestStack::new().await;
    let mut body = order_body();
    body["lines"][0]["unit_price"] = json!(1);
    let reply = cloud.post_order(&body, None).await;
    assert_eq!((reply.status, reply.json["code"].as_str()), (400, Some("unknown_field")));
    assert_eq!(reply.json["field"], "/lines/0/unit_price");
}

#[tokio::test]
async fn a_replay_with_the_same_key_returns_the_same_order_and_places_no_second() {
    let cloud = TestStack::new().await;
    let first = cloud.post_order(&order_body(), Some("checkout-42")).await;
    let second = cloud.post_order(&order_body(), Some("checkout-42")).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.json, second.json);
    assert_eq!(second.headers.get("idempotent-replayed").map(String::as_str), Some("true"));
    assert!(!first.headers.contains_key("idempotent-replayed"));
    let heads =
        cloud.items("OrdersTable").await.into_iter().filter(|item| item["sk"].as_s().unwrap() == "ORDER").count();
    assert_eq!(heads, 1);

    let other_key = cloud.post_order(&order_body(), Some("checkout-43")).await;
    assert_ne!(other_key.json["id"], first.json["id"]);
}

#[tokio::test]
async fn an_expired_key_places_a_new_order_even_before_the_ttl_sweep() {
    let cloud = TestStack::new().await;
    let api = cloud.order_api();
    let storefront = shared::domain::StorefrontId::parse(STOREFRONT).unwrap();
    let body = order_body().to_string();
    let request = PlaceOrder { storefront: &storefront, idempotency_key: Some("cart-9"), body: body.as_bytes() };
    let now = chrono::Utc::now();
    let first = api.place_order(request, now).await.unwrap();
    let within = api.place_order(request, now + chrono::Duration::hours(23)).await.unwrap();
    assert!(within.replayed);
    // DynamoDB deletes expired items up to days late (moto never does): the condition on
    // `expires_at` must let the key be claimed again all the same.
    let after = api.place_order(request, now + chrono::Duration::hours(25)).await.unwrap();
    assert!(!after.replayed);
    assert_ne!(after.response.location, first.response.location);
    let heads =
        cloud.items("OrdersTable").await.into_iter().filter(|item| item["sk"].as_s().unwrap() == "ORDER").count();
    assert_eq!(heads, 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_and_writes_nothing() {
    let cloud = TestStack::new().await;
    cloud.post_order(&order_body(), Some("checkout-7")).await;
    let before = cloud.items("OrdersTable").await.len();
    let mut changed = order_body();
    changed["lines"][0]["quantity"] = json!(3);
    let reply = cloud.post_order(&changed, Some("checkout-7")).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json["code"], "idempotency_key_reused");
    assert_eq!(reply.json["field"], "Idempotency-Key");
    assert_eq!(cloud.items("OrdersTable").await.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_place_exactly_one_order() {
    let cloud = std::sync::Arc::new(TestStack::new().await);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let cloud = cloud.clone();
        requests.spawn(async move { cloud.post_order(&order_body(), Some("double-click")).await });
    }
    let replies = requests.join_all().await;
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.json);
    }
    let ids: std::collections::BTreeSet<_> = replies.iter().map(|reply| reply.json["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let heads =
        cloud.items("OrdersTable").await.into_iter().filter(|item| item["sk"].as_s().unwrap() == "ORDER").count();
    assert_eq!(heads, 1);
    assert_eq!(cloud.items("IdempotencyTable").await.len(), 1);
}

type Mutation = fn(&mut Value);

/// Each case: what to break, and the status, code and field the refusal must name.
const BAD_ORDERS: &[(&str, Mutation, u16, &str, &str)] = &[
    ("no customer", |b| drop(b.as_object_mut().unwrap().remove("customer")), 400, "missing_field", "/customer"),
    ("no lines", |b| drop(b.as_object_mut().unwrap().remove("lines")), 400, "missing_field", "/lines"),
    ("empty lines", |b| b["lines"] = json!([]), 422, "no_lines", "/lines"),
    ("lines not a list", |b| b["lines"] = json!("MUG"), 400, "invalid_type", "/lines"),
    ("quantity as text", |b| b["lines"][0]["quantity"] = json!("2"), 400, "invalid_type", "/lines/0/quantity"),
    ("quantity zero", |b| b["lines"][0]["quantity"] = json!(0), 422, "invalid_quantity", "/lines/0/quantity"),
    ("quantity negative", |b| b["lines"][1]["quantity"] = json!(-1), 422, "invalid_quantity", "/lines/1/quantity"),
    ("quantity 1000", |b| b["lines"][1]["quantity"] = json!(1000), 422, "invalid_quantity", "/lines/1/quantity"),
    ("unknown sku", |b| b["lines"][1]["sku"] = json!("NOPE-1"), 422, "unknown_sku", "/lines/1/sku"),
    ("malformed sku", |b| b["lines"][0]["sku"] = json!("mug classic"), 422, "invalid_sku", "/lines/0/sku"),
    ("empty sku", |b| b["lines"][0]["sku"] = json!(""), 422, "empty_value", "/lines/0/sku"),
    ("duplicate sku", |b| b["lines"][1]["sku"] = json!("MUG-CLASSIC"), 422, "duplicate_sku", "/lines/1/sku"),
    (
        "sku priced in another currency",
        |b| b["lines"][1]["sku"] = json!("CAP-US"),
        422,
        "currency_not_offered",
        "/lines/1/sku",
    ),
    ("unknown currency", |b| b["currency"] = json!("EUX"), 422, "invalid_currency", "/currency"),
    ("lower-case currency", |b| b["currency"] = json!("eur"), 422, "invalid_currency", "/currency"),
    (
        "currency the shop does not sell in",
        |b| b["currency"] = json!("JPY"),
        422,
        "currency_not_supported",
        "/currency",
    ),
    ("currency as number", |b| b["currency"] = json!(978), 400, "invalid_type", "/currency"),
    (
        "invalid e-mail",
        |b| b["customer"]["email"] = json!("grace.example.com"),
        422,
        "invalid_email",
        "/customer/email",
    ),
    ("invalid phone", |b| b["customer"]["phone"] = json!("0151 12345678"), 422, "invalid_phone", "/customer/phone"),
    (
        "sms without phone",
        |b| drop(b["customer"].as_object_mut().unwrap().remove("phone")),
        422,
        "phone_required",
        "/customer/phone",
    ),
    (
        "opt-in not a boolean",
        |b| b["customer"]["sms_opt_in"] = json!("yes"),
        400,
        "invalid_type",
        "/customer/sms_opt_in",
    ),
    ("empty name", |b| b["customer"]["name"] = json!(""), 422, "empty_value", "/customer/name"),
    ("blank city", |b| b["shipping_address"]["city"] = json!("   "), 422, "empty_value", "/shipping_address/city"),
    (
        "missing street",
        |b| drop(b["shipping_address"].as_object_mut().unwrap().remove("line1")),
        400,
        "missing_field",
        "/shipping_address/line1",
    ),
    (
        "invalid country",
        |b| b["shipping_address"]["country"] = json!("Germany"),
        422,
        "invalid_country",
        "/shipping_address/country",
    ),
    (
        "unknown shipping option",
        |b| b["shipping_option"] = json!("drone"),
        422,
        "invalid_shipping_option",
        "/shipping_option",
    ),
    (
        "card number as payment method",
        |b| b["payment_method"] = json!("4242 4242 4242 4242"),
        422,
        "card_number_refused",
        "/payment_method",
    ),
    ("POSIX locale", |b| b["locale"] = json!("de_DE"), 422, "invalid_locale", "/locale"),
    ("locale with a hidden character", |b| b["locale"] = json!("de\u{200b}-DE"), 422, "invalid_locale", "/locale"),
    ("locale not a string", |b| b["locale"] = json!(["de-DE"]), 400, "invalid_type", "/locale"),
    ("locale the storefront does not offer", |b| b["locale"] = json!("de-AT"), 422, "unsupported_locale", "/locale"),
    ("locale in a language not written", |b| b["locale"] = json!("es-ES"), 422, "unsupported_locale", "/locale"),
    ("unknown field", |b| b["coupon"] = json!("FREE"), 400, "unknown_field", "/coupon"),
    ("name too long", |b| b["customer"]["name"] = json!("x".repeat(201)), 422, "too_long", "/customer/name"),
    ("body not an object", |b| *b = json!([1, 2]), 400, "invalid_type", "/"),
];

#[tokio::test]
async fn bad_orders_are_refused_with_code_and_field_and_write_nothing() {
    let cloud = TestStack::new().await;
    for (index, (case, mutate, status, code, field)) in BAD_ORDERS.iter().enumerate() {
        let mut body = order_body();
        mutate(&mut body);
        let reply = cloud.post_order(&body, Some(&format!("bad-{index}"))).await;
        assert_eq!(reply.status, *status, "{case}: {}", reply.json);
        assert_eq!(reply.headers["content-type"], "application/problem+json", "{case}");
        assert_eq!(reply.json["code"], *code, "{case}");
        assert_eq!(reply.json["field"], *field, "{case}");
        assert_eq!(reply.json["status"], *status, "{case}");
    }
    assert!(cloud.items("OrdersTable").await.is_empty());
    assert!(cloud.items("IdempotencyTable").await.is_empty());
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_requests_are_refused_and_write_nothing() {
    let cloud = TestStack::new().await;
    let json_header = [("Content-Type", "application/json")];
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("malformed JSON", json_header.to_vec(), "{\"customer\": ".to_owned(), 400, "malformed_json", "/"),
        ("empty body", json_header.to_vec(), String::new(), 400, "malformed_json", "/"),
        (
            "oversized body",
            json_header.to_vec(),
            format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024)),
            413,
            "body_too_large",
            "/",
        ),
        (
            "form post",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "a=1".to_owned(),
            415,
            "unsupported_media_type",
            "content-type",
        ),
        ("no content type", vec![], order_body().to_string(), 415, "unsupported_media_type", "content-type"),
        (
            "invalid idempotency key",
            vec![("Content-Type", "application/json"), ("Idempotency-Key", "has spaces in it")],
            order_body().to_string(),
            400,
            "invalid_idempotency_key",
            "Idempotency-Key",
        ),
    ];
    for (case, headers, body, status, code, field) in cases {
        let reply = cloud.call("POST", "/orders", &headers, &body, Some(STOREFRONT)).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (status, Some(code)), "{case}: {}", reply.json);
        assert_eq!(reply.json["field"].as_str().unwrap_or_default(), field, "{case}");
    }
    assert!(cloud.items("OrdersTable").await.is_empty());
    assert!(cloud.items("IdempotencyTable").await.is_empty());
}

#[tokio::test]
async fn too_many_lines_are_refused() {
    let cloud = TestStack::new().await;
    let mut body = order_body();
    body["lines"] = (0..101).map(|i| json!({"sku": format!("SKU-{i}"), "quantity": 1})).collect();
    let reply = cloud.post_order(&body, None).await;
    assert_eq!(
        (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str()),
        (422, Some("too_many_lines"), Some("/lines"))
    );
    assert!(cloud.items("OrdersTable").await.is_empty());
}

#[tokio::test]
async fn an_order_is_invisible_to_other_storefronts_and_unknown_ids_are_not_found() {
    let cloud = TestStack::new().await;
    let placed = cloud.post_order(&order_body(), None).await;
    let id = placed.json["id"].as_str().unwrap();
    for (who, path_id) in
        [("storefront-b", id), (STOREFRONT, "ord_0000000000000000000000000a"), (STOREFRONT, "not-an-id")]
    {
        let reply = cloud.get_order(path_id, who).await;
        let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
        assert_eq!(refusal, (404, Some("order_not_found"), Some("id")), "{who} {path_id}");
    }
}

#[tokio::test]
async fn a_request_without_a_storefront_identity_is_unauthenticated() {
    let cloud = TestStack::new().await;
    let reply =
        cloud.call("POST", "/orders", &[("Content-Type", "application/json")], &order_body().to_string(), None).await;
    let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
    assert_eq!(refusal, (401, Some("unauthenticated"), Some("Authorization")));
    assert!(cloud.items("OrdersTable").await.is_empty());
}

#[tokio::test]
async fn every_route_refuses_an_oversized_body_before_reading_it() {
    let cloud = TestStack::new().await;
    let placed = cloud.post_order(&order_body(), None).await;
    let id = placed.json["id"].as_str().unwrap();
    let huge = format!("{{\"lines\": [], \"pad\": \"{}\"}}", "x".repeat(shared::api::MAX_BODY_BYTES));
    let headers = [("Content-Type", "application/json"), ("If-Match", "\"1\"")];
    for (method, path) in [
        ("PATCH", format!("/orders/{id}")),
        ("POST", format!("/orders/{id}/cancel")),
        ("POST", format!("/orders/{id}/returns")),
    ] {
        let refused = cloud.call(method, &path, &headers, &huge, Some(STOREFRONT)).await;
        let refusal = (refused.status, refused.json["code"].as_str(), refused.json["field"].as_str());
        assert_eq!(refusal, (413, Some("body_too_large"), Some("/")), "{method} {path}");
    }
    assert_eq!(cloud.get_order(id, STOREFRONT).await.json["version"], 1, "nothing changed");
}
