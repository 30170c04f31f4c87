//! Shipping checks at intake, over the storefront API: addresses per country, restrictions,
//! and the options offered with their prices and delivery estimates.

use serde_json::{Value, json};

use crate::harness::{TestStack, order_body};

#[tokio::test]
async fn an_order_is_answered_with_its_options_and_keeps_the_one_chosen() {
    let stack = TestStack::new().await;
    let mut body = order_body();
    body["shipping_address"] = json!({"name": "Grace Hopper", "line1": "Keizersgracht 1", "city": "Amsterdam",
                                      "postal_code": "1015cj", "country": "NL"});
    body["shipping_option"] = json!("express");
    let placed = stack.post_order(&body, None).await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    assert_eq!(placed.json["shipping_address"]["postal_code"], "1015 CJ", "written as the post writes it");
    let options = placed.json["shipping_options"].as_array().unwrap();
    let offered: Vec<&str> = options.iter().map(|option| option["option"].as_str().unwrap()).collect();
    assert_eq!(offered, ["standard", "express"]);
    assert_eq!(options[1]["price"], placed.json["totals"]["shipping"]);
    assert_eq!(placed.json["shipping_quote"], options[1]);
    assert_eq!(placed.json["shipping_quote"]["zone"], "domestic");
    let dispatch: chrono::NaiveDate = placed.json["shipping_quote"]["dispatch_date"].as_str().unwrap().parse().unwrap();
    let estimate: chrono::NaiveDate = placed.json["estimated_delivery"].as_str().unwrap().parse().unwrap();
    assert!(estimate > dispatch);

    let read = stack.get_order(placed.json["id"].as_str().unwrap(), crate::harness::STOREFRONT).await;
    assert_eq!(read.json["shipping_quote"], placed.json["shipping_quote"]);
    assert!(read.json.get("shipping_options").is_none(), "options are offered once, when the order is placed");
}

#[tokio::test]
async fn addresses_the_shop_cannot_serve_are_refused_naming_the_field_and_nothing_is_written() {
    let stack = TestStack::new().await;
    type Mutation = fn(&mut Value);
    let cases: [(&str, Mutation, &str, &str); 7] = [
        (
            "DE postcode",
            |b| b["shipping_address"]["postal_code"] = json!("1011"),
            "invalid_postal_code",
            "/shipping_address/postal_code",
        ),
        (
            "no postcode",
            |b| drop(b["shipping_address"].as_object_mut().unwrap().remove("postal_code")),
            "postal_code_required",
            "/shipping_address/postal_code",
        ),
        (
            "US without a state",
            |b| {
                b["shipping_address"] = json!({"name": "G", "line1": "1 Main St", "city": "Austin", "postal_code": "73301", "country": "US"})
            },
            "region_required",
            "/shipping_address/region",
        ),
        (
            "Puerto Rico",
            |b| b["shipping_address"] = json!({"name": "G", "line1": "1 Calle Luna", "city": "San Juan", "region": "PR", "postal_code": "00901", "country": "US"}),
            "region_not_served",
            "/shipping_address/region",
        ),
        (
            "Brazil",
            |b| b["shipping_address"]["country"] = json!("BR"),
            "country_not_served",
            "/shipping_address/country",
        ),
        (
            "PO box by express",
            |b| {
                b["shipping_address"]["line1"] = json!("Postfach 10 11 12");
                b["shipping_option"] = json!("express");
            },
            "po_box_not_allowed",
            "/shipping_address/line1",
        ),
        (
            "GB postcode",
            |b| b["shipping_address"] = json!({"name": "G", "line1": "1 High St", "city": "London", "postal_code": "SW1A 1A1", "country": "GB"}),
            "invalid_postal_code",
            "/shipping_address/postal_code",
        ),
    ];
    for (name, mutate, code, field) in cases {
        let mut body = order_body();
        mutate(&mut body);
        let refused = stack.post_order(&body, Some(&name.replace(" ", "-"))).await;
        assert_eq!(
            (refused.status, refused.json["code"].as_str(), refused.json["field"].as_str()),
            (422, Some(code), Some(field)),
            "{name}"
        );
    }
    let mut standard_po_box = order_body();
    standard_po_box["shipping_address"]["line1"] = json!("Postfach 10 11 12");
    assert_eq!(stack.post_order(&standard_po_box, None).await.status, 201, "a PO box takes standard parcels");
    let orders = stack.items("OrdersTable").await;
    assert_eq!(orders.len(), 2, "one order (head and timeline entry) and nothing for the refusals");
}
