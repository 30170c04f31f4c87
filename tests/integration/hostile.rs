//! Hostile requests on every route that reads a body, sent as API Gateway would hand them over:
//! bytes that are not UTF-8, a member named twice, text that hides or reorders itself, a card
//! number where a token or a person's words belong, headers sent twice or beyond ASCII, bodies
//! over the limit; and on every route that reads a query string, escapes that are not two hex
//! digits, parameters unknown or sent twice, hidden characters, limits and cursors out of
//! range. Each is refused with its code and field, echoes nothing it was sent, and changes
//! nothing.

use base64::Engine as _;
use operator_api::OperatorApi;
use serde_json::{Value, json};

use crate::harness::{Reply, STOREFRONT, TestStack, order_body, reply};
use intake::STOREFRONT_CLAIM;

/// A route, a body it accepts, and a field of that body a person will read.
struct BodyRoute {
    method: &'static str,
    path: String,
    body: Value,
    text_field: &'static str,
}

fn routes(id: &str) -> Vec<BodyRoute> {
    let address = order_body()["shipping_address"].clone();
    let route = |method, path: String, body, text_field| BodyRoute { method, path, body, text_field };
    vec![
        route("POST", "/orders".to_owned(), order_body(), "/customer/name"),
        route("PATCH", format!("/orders/{id}"), json!({"shipping_address": address}), "/shipping_address/line1"),
        route("POST", format!("/orders/{id}/cancel"), json!({"reason": "changed my mind"}), "/reason"),
        route(
            "POST",
            format!("/orders/{id}/returns"),
            json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "reason": "too small"}),
            "/reason",
        ),
        route("POST", format!("/orders/{id}/review"), json!({"decision": "deny", "note": "stolen card"}), "/note"),
        route("POST", format!("/orders/{id}/operator-cancel"), json!({"note": "customer called"}), "/note"),
        route("POST", format!("/orders/{id}/refunds"), json!({"amount": 100, "note": "late parcel"}), "/note"),
    ]
}

/// The body with the value at `pointer` replaced.
fn with(body: &Value, pointer: &str, value: &str) -> Value {
    let mut body = body.clone();
    *body.pointer_mut(pointer).unwrap() = json!(value);
    body
}

struct Api {
    cloud: TestStack,
    operators: OperatorApi,
}

impl Api {
    async fn new() -> Self {
        let cloud = TestStack::new().await;
        let function = "OperatorApiFunction";
        let operators = OperatorApi::from_env(cloud.sdk_as(function), &cloud.environment(function)).unwrap();
        Self { cloud, operators }
    }

    /// The request through the template's route to whichever function serves it, as a
    /// storefront (or, on the operators' routes, an operator) whose token was verified.
    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let (function, _) = self.cloud.event(method, path, headers, body, None);
        match function.as_str() {
            "IntakeFunction" => {
                let (_, request) =
                    self.cloud.request(method, path, headers, body, Some((STOREFRONT_CLAIM, STOREFRONT)));
                reply(self.cloud.intake.handle(request).await.unwrap())
            }
            "OperatorApiFunction" => {
                let request =
                    self.cloud.operator_request(method, path, headers, body, ("op-ana", "supervisor", STOREFRONT));
                reply(self.operators.handle(request).await.unwrap())
            }
            other => panic!("{other} serves {method} {path}"),
        }
    }

    async fn refusal(&self, route: &BodyRoute, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
        let mut all = vec![("Content-Type", "application/json"), ("If-Match", "\"1\"")];
        all.extend_from_slice(headers);
        let reply = self.send(route.method, &route.path, &all, body).await;
        let text = |name: &str| reply.json[name].as_str().unwrap_or_default().to_owned();
        (reply.status, text("code"), text("field"))
    }

    /// The stored rows of the stack's order and idempotency tables.
    async fn rows(&self) -> (usize, usize) {
        (self.cloud.items("OrdersTable").await.len(), self.cloud.items("IdempotencyTable").await.len())
    }
}

#[tokio::test]
async fn every_route_refuses_each_class_of_hostile_body_and_changes_nothing() {
    let api = Api::new().await;
    let placed = api.cloud.post_order(&order_body(), None).await;
    let id = placed.json["id"].as_str().unwrap().to_owned();
    let before = api.rows().await;
    for route in routes(&id) {
        let name = format!("{} {}", route.method, route.path);
        let valid = route.body.to_string();

        // An invalid byte, an overlong '/', a UTF-16 surrogate written as UTF-8.
        for bad in [&b"\xff\xfe"[..], b"\xc0\xaf", b"\xed\xa0\x80"] {
            let marked = with(&route.body, route.text_field, "Ad@@a").to_string().into_bytes();
            let at = marked.windows(2).position(|window| window == b"@@").unwrap();
            let body = [&marked[..at], bad, &marked[at + 2..]].concat();
            let expected = (400, "malformed_json".into(), "/".into());
            assert_eq!(api.refusal(&route, &[], &body).await, expected, "{name}: {bad:?}");
        }

        let first = route.body.as_object().unwrap().keys().next().unwrap().clone();
        let twice = format!("{{\"{first}\": null, {}", &valid[1..]);
        let expected = (400, "duplicate_member".into(), format!("/{first}"));
        assert_eq!(api.refusal(&route, &[], twice.as_bytes()).await, expected, "{name}");

        for hidden in
            ["Ada\u{202e}ecalevoL", "Ada\u{200b}", "Ada\u{2067}x\u{2069}", "Ada\u{00ad}", "Ada\u{7}", "Ada\nB"]
        {
            let body = with(&route.body, route.text_field, hidden).to_string();
            let expected = (422, "invalid_characters".into(), route.text_field.into());
            assert_eq!(api.refusal(&route, &[], body.as_bytes()).await, expected, "{name}: {hidden:?}");
        }

        for card in ["4242 4242 4242 4242", "my card is 5555-5555-5555-4444, cvc 123"] {
            let body = with(&route.body, route.text_field, card).to_string();
            let reply = api
                .send(
                    route.method,
                    &route.path,
                    &[("Content-Type", "application/json"), ("If-Match", "\"1\"")],
                    body.as_bytes(),
                )
                .await;
            let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
            assert_eq!(refusal, (422, Some("card_number_refused"), Some(route.text_field)), "{name}: {card}");
            assert!(
                !reply.json.to_string().contains("4242") && !reply.json.to_string().contains("4444"),
                "{name} echoed it"
            );
        }

        let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(shared::api::MAX_BODY_BYTES));
        assert_eq!(
            api.refusal(&route, &[], huge.as_bytes()).await,
            (413, "body_too_large".into(), "/".into()),
            "{name}"
        );
    }
    assert_eq!(api.rows().await, before, "nothing was written");
    assert_eq!(api.cloud.get_order(&id, STOREFRONT).await.json["version"], 1, "nothing changed");
}

#[tokio::test]
async fn a_card_number_is_refused_as_a_payment_method_and_only_the_provider_s_tokens_are_taken() {
    let api = Api::new().await;
    let post = |method: &str| {
        let body = with(&order_body(), "/payment_method", method).to_string();
        let api = &api;
        async move {
            let reply = api
                .cloud
                .call("POST", "/orders", &[("Content-Type", "application/json")], body, Some(STOREFRONT))
                .await;
            (reply.status, reply.json["code"].as_str().unwrap_or_default().to_owned(), reply.json.to_string())
        }
    };
    for card in ["4242424242424242", "4242 4242 4242 4242", "pm_4000056655665556", "３７８２８２２４６３１０００５"]
    {
        let (status, code, answer) = post(card).await;
        assert_eq!((status, code.as_str()), (422, "card_number_refused"), "{card}");
        assert!(!answer.contains("4242") && !answer.contains("5556") && !answer.contains("０００５"), "{answer}");
    }
    for not_a_token in ["visa", "pm_", "cus_123", "pm_card visa", "4242 4242"] {
        assert_eq!(post(not_a_token).await.1, "invalid_payment_method", "{not_a_token}");
    }
    assert_eq!(api.rows().await, (0, 0));
    for token in ["pm_card_visa", "tok_visa", "card_1MqLiJLkdIwHu7ix", "src_1N3lxdLkdIwHu7ixjNdy"] {
        assert_eq!(post(token).await.0, 201, "{token}");
    }
}

#[tokio::test]
async fn an_idempotency_key_sent_twice_or_beyond_ascii_is_refused_not_ignored() {
    let api = Api::new().await;
    let body = order_body().to_string();
    let json_type = ("Content-Type", "application/json");
    for headers in [
        vec![json_type, ("Idempotency-Key", "checkout-1"), ("Idempotency-Key", "checkout-2")],
        vec![json_type, ("Idempotency-Key", "checkout-1"), ("Idempotency-Key", "checkout-1")],
        vec![json_type, ("Idempotency-Key", "clé-1")],
        vec![json_type, ("Idempotency-Key", "a,b")],
    ] {
        let reply = api.cloud.call("POST", "/orders", &headers, &body, Some(STOREFRONT)).await;
        let refusal = (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str());
        assert_eq!(refusal, (400, Some("invalid_idempotency_key"), Some("Idempotency-Key")), "{headers:?}");
    }
    assert_eq!(api.rows().await, (0, 0));
    let placed = api.cloud.post_order(&order_body(), None).await;
    let id = placed.json["id"].as_str().unwrap();
    let patch = json!({"shipping_option": "express"}).to_string();
    let twice = [json_type, ("If-Match", "\"1\""), ("If-Match", "\"1\"")];
    let reply = api.cloud.call("PATCH", &format!("/orders/{id}"), &twice, &patch, Some(STOREFRONT)).await;
    assert_eq!((reply.status, reply.json["code"].as_str()), (400, Some("invalid_if_match")));
}

#[tokio::test]
async fn a_body_sent_base64_encoded_is_read_as_its_bytes() {
    let api = Api::new().await;
    let headers = [("Content-Type", "application/json")];
    let claim = Some((STOREFRONT_CLAIM, STOREFRONT));
    let (_, mut event) = api.cloud.event("POST", "/orders", &headers, order_body().to_string().as_bytes(), claim);
    // The same request as API Gateway sends a body it takes for binary.
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(order_body().to_string()));
    event["isBase64Encoded"] = json!(true);
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    assert_eq!(reply(api.cloud.intake.handle(request).await.unwrap()).status, 201);

    let mut bad = order_body().to_string().into_bytes();
    let at = bad.windows(5).position(|window| window == b"Grace").unwrap();
    bad[at + 1] = 0xff;
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&bad));
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let before = api.rows().await;
    let refused = reply(api.cloud.intake.handle(request).await.unwrap());
    assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some("malformed_json")));
    assert_eq!(api.rows().await, before);
}

#[tokio::test]
async fn every_query_route_refuses_each_class_of_hostile_query_string() {
    let api = Api::new().await;
    // Each route, the parameters it knows, and what it needs besides (a customer's history
    // names the customer).
    let routes: [(&str, &[&str], &str); 4] = [
        ("/orders", &["email", "limit", "cursor", "from"], ""),
        ("/review-queue", &["limit", "cursor"], ""),
        ("/customer-history", &["email", "limit", "cursor"], "email=grace%40example.com&"),
        ("/customer-orders", &["email", "limit", "cursor"], "email=grace%40example.com&"),
    ];
    // A query, the parameter it hostilely sets, and the code and field the refusal names.
    let cases: [(&str, &str, &str, Option<&str>); 17] = [
        ("limit=%ff", "limit", "invalid_query", None),
        ("limit=%+5", "limit", "invalid_query", None),
        ("limit=%4", "limit", "invalid_query", None),
        ("sneaky=1", "limit", "unknown_parameter", Some("?sneaky")),
        ("limit=5&limit=6", "limit", "duplicate_parameter", Some("?limit")),
        ("limit=0", "limit", "invalid_limit", Some("?limit")),
        ("limit=101", "limit", "invalid_limit", Some("?limit")),
        ("limit=-1", "limit", "invalid_limit", Some("?limit")),
        ("limit=99999999999999999999999", "limit", "invalid_limit", Some("?limit")),
        ("limit=1%00", "limit", "invalid_characters", Some("?limit")),
        ("cursor=QUFBQQ", "cursor", "invalid_cursor", Some("?cursor")),
        ("cursor=MjAyNi0xMi0wN1QwMDowMDowMC4wMDBafDxzY3JpcHQ-", "cursor", "invalid_cursor", Some("?cursor")),
        ("email=a%E2%80%AEb%40example.com", "email", "invalid_characters", Some("?email")),
        ("email=%E2%80%8Bgrace%40example.com", "email", "invalid_characters", Some("?email")),
        ("email=4242424242424242", "email", "invalid_email", Some("?email")),
        ("from=2038-01-19", "from", "invalid_time", Some("?from")),
        ("from=2026-12-07T10:00:00Z&before=2026-12-07T09:00:00Z", "from", "invalid_time_range", Some("?from")),
    ];
    let before = api.rows().await;
    for (path, known, needed) in routes {
        for (query, parameter, code, field) in cases.iter().filter(|case| known.contains(&case.1)) {
            let needed = if *parameter == "email" { "" } else { needed };
            let reply = api.send("GET", &format!("{path}?{needed}{query}"), &[], b"").await;
            let said = reply.json.to_string();
            assert_eq!(
                (reply.status, reply.json["code"].as_str(), reply.json["field"].as_str()),
                (400, Some(*code), *field),
                "GET {path}?{query} ({parameter}): {said}"
            );
            assert!(!said.contains("4242424242424242") && !said.contains("script"), "echoed: {said}");
        }
    }
    assert_eq!(api.rows().await, before);
}
