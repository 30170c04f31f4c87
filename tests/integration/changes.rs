//! Order changes against moto and localstripe: cancellations in every state before shipment,
//! amendments that move only the stock difference and re-authorise, returns refunded by what
//! came back, operators' cancellations and goodwill refunds; every event delivered twice.

use chrono::{Duration, Utc};
use fulfillment::FulfillmentHandler;
use inventory::InventoryHandler;
use payment::PaymentHandler;
use serde_json::{Value, json};
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::stripe::StripeGateway,
    api::ChangeApi,
    app::changes::OrderChanges,
    app::inventory::Inventory,
    domain::{Order, OrderId, OrderRepository, OrderStatus, Sku, StockLedger},
};

use crate::harness::{STOREFRONT, TestStack, batch, card, http, intents_of, order_body, sqs_event, stripe_endpoint};

const SKUS: [&str; 3] = ["MUG-CLASSIC", "NOTEBOOK-A5", "TEE-ORGANIC-M"];

struct Shop {
    stack: TestStack,
    inventory: InventoryHandler,
    payment: PaymentHandler,
    fulfillment: FulfillmentHandler,
}

impl Shop {
    async fn new() -> Self {
        let stack = TestStack::new().await;
        let env = |function: &str| stack.environment(function);
        Self {
            inventory: InventoryHandler::from_env(stack.dynamodb_as("InventoryFunction"), &env("InventoryFunction"))
                .unwrap(),
            payment: PaymentHandler::from_env(stack.sdk_as("PaymentFunction"), &env("PaymentFunction")).unwrap(),
            fulfillment: FulfillmentHandler::from_env(stack.sdk_as("FulfillmentFunction"), &env("FulfillmentFunction"))
                .unwrap(),
            stack,
        }
    }

    /// The change routes' use cases, for tests that set the clock or act as an operator.
    fn changes(&self) -> ChangeApi<DynamoStore, StripeGateway> {
        let env = self.stack.environment("OperatorApiFunction");
        let store = self.stack.store_as("OperatorApiFunction");
        let changes =
            OrderChanges::new(store, StripeGateway::from_env(self.stack.sdk_as("OperatorApiFunction"), &env).unwrap());
        ChangeApi::from_env(changes, &env).unwrap()
    }

    async fn head(&self, id: &OrderId) -> Order {
        self.stack.store.head(id).await.unwrap().unwrap()
    }

    /// Units on hand per SKU of `SKUS`.
    async fn stock(&self) -> Vec<u32> {
        let skus: Vec<Sku> = SKUS.iter().map(|sku| Sku::parse(sku).unwrap()).collect();
        let levels = self.stack.store.stock_levels(&skus).await.unwrap();
        skus.iter().map(|sku| levels[sku].available()).collect()
    }

    /// Every consumer handles the order's current event twice, as at-least-once delivery may.
    async fn deliver_twice(&self, order: &Order) {
        for response in [
            self.inventory.handle(sqs_event(&[order, order])).await.unwrap(),
            self.payment.handle(sqs_event(&[order, order])).await.unwrap(),
            self.fulfillment.handle(sqs_event(&[order, order])).await.unwrap(),
        ] {
            assert!(response.batch_item_failures.is_empty(), "{response:?}");
        }
    }

    /// An order paid with a good card, moved to `status` by the pipeline's own steps.
    async fn order_in(&self, status: OrderStatus) -> Order {
        let mut body = order_body();
        body["payment_method"] = json!(card("4242424242424242").await);
        body["customer"]["email"] = json!(format!("{}@example.com", crate::harness::unique_name("changer")));
        let placed = self.stack.post_order(&body, None).await;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        let id = OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
        let mut order = self.head(&id).await;
        const HAPPY: [OrderStatus; 5] = [
            OrderStatus::Reserved,
            OrderStatus::PaymentAuthorized,
            OrderStatus::Fulfilling,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
        ];
        let steps = match status {
            OrderStatus::OnHold => vec![OrderStatus::Reserved, OrderStatus::OnHold],
            _ => HAPPY
                .iter()
                .copied()
                .take(HAPPY.iter().position(|step| *step == status).map_or(0, |at| at + 1))
                .collect(),
        };
        for step in steps {
            match step {
                OrderStatus::Reserved => {
                    Inventory::new(self.stack.store.clone()).reserve(&order, Utc::now()).await.unwrap();
                }
                OrderStatus::PaymentAuthorized | OrderStatus::Fulfilling => self.deliver_twice(&order).await,
                OrderStatus::Shipped => {
                    let lines: Vec<Value> = order
                        .lines
                        .iter()
                        .map(|line| json!({"sku": line.sku, "quantity": line.quantity.get()}))
                        .collect();
                    let report = json!({"shipment_id": format!("{}-P1", order.id), "order_id": order.id,
                        "carrier": "DHL", "tracking_number": format!("JD{}", &order.id.as_str()[4..16]),
                        "lines": lines, "shipped_at": Utc::now()});
                    let response =
                        self.fulfillment.handle(batch(&self.stack, "ShipmentsQueue", &[report.to_string()])).await;
                    assert!(response.unwrap().batch_item_failures.is_empty());
                    self.deliver_twice(&self.head(&id).await).await;
                }
                _ => {
                    let change = order.transition(step, Utc::now()).unwrap();
                    self.stack.store.apply(&change).await.unwrap();
                }
            }
            order = self.head(&id).await;
        }
        assert_eq!(order.status(), status);
        order
    }

    async fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> crate::harness::Reply {
        self.stack.call(method, path, headers, body, Some(STOREFRONT)).await
    }

    async fn patch(&self, order: &OrderId, version: u64, body: Value) -> crate::harness::Reply {
        let etag = format!("\"{version}\"");
        let headers = [("Content-Type", "application/json"), ("If-Match", etag.as_str())];
        self.call("PATCH", &format!("/orders/{order}"), &headers, &body.to_string()).await
    }
}

async fn refunds_of(intent: &str) -> Vec<i64> {
    let headers = [("Authorization", "Bearer sk_test_orderflow_local")];
    let url = format!("{}/v1/refunds?payment_intent={intent}&limit=100", stripe_endpoint());
    let reply = http("GET", &url, &headers, "").await;
    reply.json["data"].as_array().unwrap().iter().map(|refund| refund["amount"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn cancelling_in_each_state_before_shipment_puts_stock_and_payment_back_exactly_once() {
    let shop = Shop::new().await;
    for status in [
        OrderStatus::Placed,
        OrderStatus::Reserved,
        OrderStatus::OnHold,
        OrderStatus::PaymentAuthorized,
        OrderStatus::Fulfilling,
    ] {
        let before = shop.stock().await;
        let order = shop.order_in(status).await;
        shop.stack.drain("PickRequestsQueue").await;
        let path = format!("/orders/{}/cancel", order.id);
        let cancelled = shop.call("POST", &path, &[], r#"{"reason": "ordered twice"}"#).await;
        assert_eq!(cancelled.status, 200, "{status}: {:?}", cancelled.json);
        assert_eq!(cancelled.json["status"], "CANCELLED");
        assert_eq!(cancelled.json["status_reason"]["was"], status.as_str());
        assert_eq!(cancelled.json["status_reason"]["requested_by"]["storefront"], STOREFRONT);
        // Asked again: the same answer, no second event.
        let again = shop.call("POST", &path, &[], "").await;
        assert_eq!((again.status, &again.json["version"]), (200, &cancelled.json["version"]));

        shop.deliver_twice(&shop.head(&order.id).await).await;
        assert_eq!(shop.stock().await, before, "{status}: the stock is back, once");
        let intents = intents_of(order.id.as_str()).await;
        let authorised = matches!(status, OrderStatus::PaymentAuthorized | OrderStatus::Fulfilling);
        assert_eq!(intents.len(), usize::from(authorised), "{status}: {intents:?}");
        assert!(intents.iter().all(|intent| intent["status"] == "canceled"), "{status}: the hold is voided");
        let instructions = shop.stack.drain("PickRequestsQueue").await;
        let stops: Vec<&Value> = instructions.iter().filter(|message| message["kind"] == "cancel").collect();
        assert_eq!(!stops.is_empty(), authorised, "{status}: the warehouse is told to stop: {instructions:?}");
        assert!(stops.iter().all(|stop| stop["request_id"] == stops[0]["request_id"]), "one stop, delivered twice");
    }
}

#[tokio::test]
async fn a_shipped_order_is_not_cancelled_but_pointed_to_returns() {
    let shop = Shop::new().await;
    let order = shop.order_in(OrderStatus::Shipped).await;
    let refused = shop.call("POST", &format!("/orders/{}/cancel", order.id), &[], "").await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (409, Some("already_shipped")));
    assert!(refused.json["detail"].as_str().unwrap().contains("returns"));
    assert_eq!(shop.head(&order.id).await, order, "nothing changed");
}

#[tokio::test]
async fn amendments_grow_shrink_and_swap_lines_moving_only_the_stock_difference() {
    let shop = Shop::new().await;
    let before = shop.stock().await;
    let order = shop.order_in(OrderStatus::PaymentAuthorized).await;
    let read = shop.stack.get_order(order.id.as_str(), STOREFRONT).await;
    assert_eq!(read.headers["etag"], format!("\"{}\"", order.version()));
    let first_hold = order.payment.authorization.clone().unwrap();

    // Grow: one more mug, a dearer total, a new hold for it and the old one released.
    let grown = shop
        .patch(
            &order.id,
            order.version(),
            json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 3}, {"sku": "NOTEBOOK-A5", "quantity": 1}]}),
        )
        .await;
    assert_eq!(grown.status, 200, "{:?}", grown.json);
    assert_eq!(grown.headers["etag"], format!("\"{}\"", order.version() + 1));
    assert_eq!(shop.stock().await, [before[0] - 3, before[1] - 1, before[2]]);
    let grown_order = shop.head(&order.id).await;
    assert_eq!(grown_order.last_event().name(), "order.modified");
    assert!(grown_order.totals.total.minor_units() > order.totals.total.minor_units());
    let hold = grown_order.payment.authorization.clone().unwrap();
    assert_eq!(hold.amount, grown_order.totals.total);
    let intents = intents_of(order.id.as_str()).await;
    let status_of = |id: &str| intents.iter().find(|intent| intent["id"] == id).unwrap()["status"].clone();
    assert_eq!(
        (status_of(first_hold.id.as_str()), status_of(hold.id.as_str())),
        (json!("canceled"), json!("requires_capture"))
    );

    // Shrink: the hold stays (capture will take less), two mugs go back.
    let shrunk = shop
        .patch(
            &order.id,
            grown_order.version(),
            json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": "NOTEBOOK-A5", "quantity": 1}]}),
        )
        .await;
    assert_eq!(shrunk.status, 200, "{:?}", shrunk.json);
    assert_eq!(shop.stock().await, [before[0] - 1, before[1] - 1, before[2]]);
    assert_eq!(shop.head(&order.id).await.payment.authorization, Some(hold.clone()));

    // Swap: the mug for a tee, and express shipping.
    let version = shrunk.json["version"].as_u64().unwrap();
    let body = json!({"lines": [{"sku": "TEE-ORGANIC-M", "quantity": 1}, {"sku": "NOTEBOOK-A5", "quantity": 1}],
                      "shipping_option": "express"});
    let swapped = shop.patch(&order.id, version, body).await;
    assert_eq!(swapped.status, 200, "{:?}", swapped.json);
    assert_eq!(shop.stock().await, [before[0], before[1] - 1, before[2] - 1]);
    assert_eq!(swapped.json["shipping_option"], "express");
    let modified =
        swapped.json["timeline"].as_array().unwrap().iter().filter(|entry| entry["type"] == "order.modified");
    assert_eq!(modified.count(), 3);

    // The warehouse hears of the amended order; then a cancellation gives back exactly what it holds.
    let amended = shop.head(&order.id).await;
    shop.deliver_twice(&amended).await;
    let picks = shop.stack.drain("PickRequestsQueue").await;
    assert!(picks.iter().all(|pick| pick["lines"][0]["sku"] == "TEE-ORGANIC-M"), "{picks:?}");
    let fulfilling = shop.head(&order.id).await;
    assert_eq!(fulfilling.status(), OrderStatus::Fulfilling);
    let late = shop.patch(&order.id, fulfilling.version(), json!({"shipping_option": "standard"})).await;
    assert_eq!((late.status, late.json["code"].as_str()), (409, Some("too_late_to_change")));
    assert_eq!(shop.call("POST", &format!("/orders/{}/cancel", order.id), &[], "").await.status, 200);
    shop.deliver_twice(&shop.head(&order.id).await).await;
    assert_eq!(shop.stock().await, before);
}

#[tokio::test]
async fn a_refused_amendment_leaves_the_order_as_it_was() {
    let shop = Shop::new().await;
    let order = shop.order_in(OrderStatus::PaymentAuthorized).await;
    let stock = shop.stock().await;
    let version = order.version();
    let mut address = order_body()["shipping_address"].clone();
    address["country"] = json!("BR");
    let cases = [
        (json!({"shipping_address": address}), 422, "country_not_served", Some("/shipping_address/country")),
        (json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 999}]}), 409, "insufficient_stock", Some("/lines")),
        (json!({"lines": [{"sku": "NO-SUCH", "quantity": 1}]}), 422, "unknown_sku", Some("/lines/0/sku")),
        (json!({}), 422, "empty_change", Some("/")),
    ];
    for (body, status, code, field) in cases {
        let refused = shop.patch(&order.id, version, body).await;
        assert_eq!((refused.status, refused.json["code"].as_str()), (status, Some(code)), "{:?}", refused.json);
        assert_eq!(refused.json["field"].as_str(), field);
    }
    let stale = shop.patch(&order.id, version - 1, json!({"shipping_option": "express"})).await;
    assert_eq!((stale.status, stale.json["code"].as_str()), (412, Some("version_mismatch")));
    let path = format!("/orders/{}", order.id);
    let unguarded =
        shop.call("PATCH", &path, &[("Content-Type", "application/json")], r#"{"shipping_option": "express"}"#).await;
    assert_eq!((unguarded.status, unguarded.json["code"].as_str()), (428, Some("if_match_required")));
    assert_eq!(shop.head(&order.id).await, order);
    assert_eq!(shop.stock().await, stock);
    assert_eq!(intents_of(order.id.as_str()).await.len(), 1);
}

#[tokio::test]
async fn of_two_amendments_from_the_same_version_one_wins_and_one_is_told_412() {
    let shop = Shop::new().await;
    let before = shop.stock().await;
    let order = shop.order_in(OrderStatus::PaymentAuthorized).await;
    let grow =
        |mugs: u16| json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": mugs}, {"sku": "NOTEBOOK-A5", "quantity": 1}]});
    let (a, b) =
        tokio::join!(shop.patch(&order.id, order.version(), grow(4)), shop.patch(&order.id, order.version(), grow(5)));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{:?} {:?}", a.json, b.json);
    let winner = if a.status == 200 { 4 } else { 5 };
    let amended = shop.head(&order.id).await;
    assert_eq!(amended.lines[0].quantity.get(), winner);
    assert_eq!(shop.stock().await[0], before[0] - u32::from(winner));
    // The loser's new hold is released: one hold stands, for the winner's total.
    let holding: Vec<Value> = intents_of(order.id.as_str())
        .await
        .into_iter()
        .filter(|intent| intent["status"] == "requires_capture")
        .collect();
    assert_eq!(holding.len(), 1, "{holding:?}");
    assert_eq!(holding[0]["amount"], amended.totals.total.minor_units());
}

#[tokio::test]
async fn a_partial_return_refunds_the_returned_lines_once_and_restocks_what_sells() {
    let shop = Shop::new().await;
    let order = shop.order_in(OrderStatus::Delivered).await;
    let stock = shop.stock().await;
    let path = format!("/orders/{}/returns", order.id);
    let headers = [("Content-Type", "application/json")];
    let body = json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 2}], "reason": "chipped"}).to_string();
    let requested = shop.call("POST", &path, &headers, &body).await;
    assert_eq!(requested.status, 201, "{:?}", requested.json);
    assert_eq!(requested.json["status"], "RETURN_REQUESTED");
    let rma = requested.json["return_request"]["rma"].as_str().unwrap().to_owned();
    // Two mugs of 12.50 and 19 % German tax on them; shipping stays (not everything came back).
    assert_eq!(requested.json["return_request"]["refund"]["minor_units"], 2_975);
    let again = shop.call("POST", &path, &headers, &body).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("return_already_requested")));

    // The warehouse receives both mugs, one of them broken, and reports it twice.
    let receipt = json!({"rma": rma, "order_id": order.id, "received_at": Utc::now(),
                         "lines": [{"sku": "MUG-CLASSIC", "quantity": 2, "resellable": 1}]})
    .to_string();
    let response = shop.fulfillment.handle(batch(&shop.stack, "ShipmentsQueue", &[receipt.clone(), receipt])).await;
    assert!(response.unwrap().batch_item_failures.is_empty());
    let returned = shop.head(&order.id).await;
    assert_eq!(returned.status(), OrderStatus::Returned);
    assert_eq!(shop.stock().await, [stock[0] + 1, stock[1], stock[2]], "the sound mug is back on sale, once");

    shop.deliver_twice(&returned).await;
    let refunded = shop.head(&order.id).await;
    assert_eq!(refunded.status(), OrderStatus::Refunded);
    let intent = order.payment.authorization.as_ref().unwrap().id.as_str();
    assert_eq!(refunds_of(intent).await, [2_975], "one partial refund, in the provider");
}

#[tokio::test]
async fn a_return_outside_the_window_or_of_what_was_not_bought_is_refused() {
    let shop = Shop::new().await;
    let order = shop.order_in(OrderStatus::Delivered).await;
    let api = shop.changes();
    let storefront = shared::domain::StorefrontId::parse(STOREFRONT).unwrap();
    let body = br#"{"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}]}"#;
    let late = api.request_return(&storefront, order.id.as_str(), body, Utc::now() + Duration::days(31)).await;
    let late = late.unwrap_err();
    assert_eq!((late.status, late.code), (422, "return_window_closed"));
    let more = br#"{"lines": [{"sku": "MUG-CLASSIC", "quantity": 3}]}"#;
    let refused = api.request_return(&storefront, order.id.as_str(), more, Utc::now()).await.unwrap_err();
    assert_eq!(
        (refused.status, refused.code, refused.field.as_deref()),
        (422, "more_than_ordered", Some("/lines/0/quantity"))
    );
    assert_eq!(shop.head(&order.id).await, order);
}

#[tokio::test]
async fn operators_cancel_and_refund_goodwill_in_their_own_name() {
    let shop = Shop::new().await;
    let api = shop.changes();
    let held = shop.order_in(OrderStatus::OnHold).await;
    let caller = |name: &str| shared::api::Caller {
        operator: shared::domain::Operator::new(name.parse().unwrap(), shared::domain::Role::Agent, []),
        request_id: "req-1".parse().unwrap(),
    };
    let ana = caller("op-ana");
    let cancelled = api.operator_cancel(&ana, held.id.as_str(), br#"{"note": "customer called"}"#, Utc::now()).await;
    let cancelled: Value = serde_json::from_str(&cancelled.unwrap().response.body).unwrap();
    let reason = &cancelled["status_reason"];
    assert_eq!(
        (reason["requested_by"]["operator"].as_str(), reason["note"].as_str()),
        (Some("op-ana"), Some("customer called"))
    );

    let delivered = shop.order_in(OrderStatus::Delivered).await;
    let version = delivered.version().to_string();
    let refund = |amount: i64, version: &str| {
        let body = json!({"amount": amount, "note": "late parcel"}).to_string();
        let api = &api;
        let ben = caller("op-ben");
        let id = delivered.id.clone();
        let version = version.to_owned();
        async move {
            api.goodwill_refund(
                shared::api::OperatorChange {
                    caller: &ben,
                    raw_id: id.as_str(),
                    if_match: Some(&version),
                    body: body.as_bytes(),
                },
                Utc::now(),
            )
            .await
        }
    };
    let too_much = refund(delivered.totals.total.minor_units() + 1, &version).await.unwrap_err();
    assert_eq!((too_much.status, too_much.code), (422, "invalid_amount"));
    let refunded = refund(500, &version).await.unwrap();
    let view: Value = serde_json::from_str(&refunded.response.body).unwrap();
    assert_eq!(view["status"], "DELIVERED");
    let last = view["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["type"].as_str(), last["reason"]["decision"]["operator"].as_str()),
        (Some("order.refund_issued"), Some("op-ben"))
    );
    // The same request again is stale: no second refund.
    assert_eq!(refund(500, &version).await.unwrap_err().code, "version_mismatch");
    let intent = delivered.payment.authorization.as_ref().unwrap().id.as_str();
    assert_eq!(refunds_of(intent).await, [500]);
}
