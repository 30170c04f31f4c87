//! The body of `POST /orders`, parsed into a [`NewOrder`] or refused with the field at fault.

use std::collections::HashSet;

use super::{
    json::{Field, Object},
    problem::Problem,
};
use crate::domain::{
    Address, CountryCode, Currency, Customer, EmailAddress, InvalidValue, Line, Locale, MAX_WRITE_ITEMS, NewOrder,
    PaymentMethodId, PhoneNumber, Quantity, RequestedLine, STOCK_WRITE_OVERHEAD, ShippingOption, Sku,
};

pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A reservation writes a stock counter per line beside the order in one write, which holds at
/// most `MAX_WRITE_ITEMS`; a line's stock may span counters, hence the margin.
pub const MAX_LINES: usize = 90;
const _: () = assert!(MAX_LINES + STOCK_WRITE_OVERHEAD <= MAX_WRITE_ITEMS);

/// Refuses (413) a body over [`MAX_BODY_BYTES`]: every route checks this before reading one.
pub fn within_body_limit(body: &[u8]) -> Result<&[u8], Problem> {
    if body.len() > MAX_BODY_BYTES {
        let problem = Problem::new(413, "body_too_large", format!("the body must be at most {MAX_BODY_BYTES} bytes"));
        return Err(problem.at("/"));
    }
    Ok(body)
}

/// Parses and checks a whole order request. Pure: nothing is looked up or written.
pub fn parse_new_order(body: &[u8]) -> Result<NewOrder, Problem> {
    let value = super::json::json(within_body_limit(body)?)?;
    let root = Field::root(&value).object()?;
    root.allow_only(&[
        "customer",
        "currency",
        "lines",
        "shipping_address",
        "billing_address",
        "shipping_option",
        "payment_method",
        "locale",
    ])?;
    Ok(NewOrder {
        customer: customer(&root.required("customer")?.object()?)?,
        currency: root.required("currency")?.parse(Currency::parse)?,
        lines: lines(&root.required("lines")?)?,
        shipping_address: address(&root.required("shipping_address")?.object()?)?,
        billing_address: root.optional("billing_address").map(|field| address(&field.object()?)).transpose()?,
        shipping_option: root.required("shipping_option")?.parse(shipping_option)?,
        payment_method: root.required("payment_method")?.parse(PaymentMethodId::parse)?,
        locale: root.optional("locale").map(|field| field.parse(Locale::parse)).transpose()?,
    })
}

fn customer(object: &Object<'_>) -> Result<Customer, Problem> {
    object.allow_only(&["name", "email", "phone", "sms_opt_in"])?;
    let phone_field = object.optional("phone");
    let phone = phone_field.as_ref().map(|field| field.parse(PhoneNumber::parse)).transpose()?;
    let sms_opt_in = object.optional("sms_opt_in").map(|field| field.boolean()).transpose()?.unwrap_or(false);
    if sms_opt_in && phone.is_none() {
        return Err(Problem::unprocessable("phone_required", "text messages need a phone number").at("/customer/phone"));
    }
    Ok(Customer {
        name: object.required("name")?.parse(Line::parse)?,
        email: object.required("email")?.parse(EmailAddress::parse)?,
        phone,
        sms_opt_in,
    })
}

pub(super) fn lines(field: &Field<'_>) -> Result<Vec<RequestedLine>, Problem> {
    let items = field.array()?;
    if items.is_empty() {
        return Err(Problem::unprocessable("no_lines", "an order needs at least one line").at(field.pointer()));
    }
    if items.len() > MAX_LINES {
        return Err(Problem::unprocessable("too_many_lines", format!("an order has at most {MAX_LINES} lines"))
            .at(field.pointer()));
    }
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .map(|item| {
            let object = item.object()?;
            object.allow_only(&["sku", "quantity"])?;
            let sku_field = object.required("sku")?;
            let sku = sku_field.parse(Sku::parse)?;
            if !seen.insert(sku.clone()) {
                return Err(
                    sku_field.invalid(InvalidValue::new("duplicate_sku", "this SKU is already on another line"))
                );
            }
            let quantity_field = object.required("quantity")?;
            let rule = InvalidValue::new("invalid_quantity", "must be a whole number from 1 to 999");
            let quantity =
                Quantity::try_from(quantity_field.whole_number(rule)?).map_err(|e| quantity_field.invalid(e))?;
            Ok(RequestedLine { sku, quantity })
        })
        .collect()
}

pub(super) fn address(object: &Object<'_>) -> Result<Address, Problem> {
    object.allow_only(&["name", "line1", "line2", "city", "region", "postal_code", "country"])?;
    let optional_line = |name: &str| object.optional(name).map(|field| field.parse(Line::parse)).transpose();
    Ok(Address {
        name: object.required("name")?.parse(Line::parse)?,
        line1: object.required("line1")?.parse(Line::parse)?,
        line2: optional_line("line2")?,
        city: object.required("city")?.parse(Line::parse)?,
        region: optional_line("region")?,
        postal_code: optional_line("postal_code")?,
        country: object.required("country")?.parse(CountryCode::parse)?,
    })
}

pub(super) fn shipping_option(raw: &str) -> Result<ShippingOption, InvalidValue> {
    match raw {
        "standard" => Ok(ShippingOption::Standard),
        "express" => Ok(ShippingOption::Express),
        _ => Err(InvalidValue::new("invalid_shipping_option", "must be \"standard\" or \"express\"")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    pub(crate) fn valid_body() -> Value {
        json!({
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+447911123456", "sms_opt_in": true},
            "currency": "EUR",
            "lines": [{"sku": "MUG", "quantity": 2}, {"sku": "TEE", "quantity": 1}],
            "shipping_address": {"name": "Ada Lovelace", "line1": "12 Analytical Row", "city": "London",
                                 "postal_code": "N1 9GU", "country": "GB"},
            "shipping_option": "standard",
            "payment_method": "pm_card_visa"
        })
    }

    type Mutation = fn(&mut Value);

    fn refusal(body: &Value) -> Problem {
        parse_new_order(body.to_string().as_bytes()).unwrap_err()
    }

    #[test]
    fn a_valid_body_becomes_a_new_order() {
        let order = parse_new_order(valid_body().to_string().as_bytes()).unwrap();
        assert_eq!(order.lines.len(), 2);
        assert_eq!(order.currency.code(), "EUR");
        assert!(order.customer.sms_opt_in);
        assert_eq!(order.shipping_address.line2, None);
    }

    #[test]
    fn each_refusal_names_its_code_and_field() {
        let cases: [(&str, Mutation, u16, &str, &str); 21] = [
            (
                "missing currency",
                |b| drop(b.as_object_mut().unwrap().remove("currency")),
                400,
                "missing_field",
                "/currency",
            ),
            ("null customer", |b| b["customer"] = Value::Null, 400, "missing_field", "/customer"),
            (
                "quantity as string",
                |b| b["lines"][0]["quantity"] = json!("2"),
                400,
                "invalid_type",
                "/lines/0/quantity",
            ),
            ("quantity zero", |b| b["lines"][1]["quantity"] = json!(0), 422, "invalid_quantity", "/lines/1/quantity"),
            (
                "quantity 1000",
                |b| b["lines"][0]["quantity"] = json!(1000),
                422,
                "invalid_quantity",
                "/lines/0/quantity",
            ),
            (
                "quantity fractional",
                |b| b["lines"][0]["quantity"] = json!(1.5),
                422,
                "invalid_quantity",
                "/lines/0/quantity",
            ),
            (
                "unknown field",
                |b| b["shipping_address"]["zip"] = json!("1"),
                400,
                "unknown_field",
                "/shipping_address/zip",
            ),
            ("no lines", |b| b["lines"] = json!([]), 422, "no_lines", "/lines"),
            ("lines not an array", |b| b["lines"] = json!({}), 400, "invalid_type", "/lines"),
            ("duplicate sku", |b| b["lines"][1]["sku"] = json!("MUG"), 422, "duplicate_sku", "/lines/1/sku"),
            ("bad currency", |b| b["currency"] = json!("EURO"), 422, "invalid_currency", "/currency"),
            ("bad email", |b| b["customer"]["email"] = json!("ada@"), 422, "invalid_email", "/customer/email"),
            ("bad phone", |b| b["customer"]["phone"] = json!("07911"), 422, "invalid_phone", "/customer/phone"),
            (
                "sms without phone",
                |b| drop(b["customer"].as_object_mut().unwrap().remove("phone")),
                422,
                "phone_required",
                "/customer/phone",
            ),
            ("empty name", |b| b["customer"]["name"] = json!("  "), 422, "empty_value", "/customer/name"),
            (
                "bad country",
                |b| b["shipping_address"]["country"] = json!("UK"),
                422,
                "invalid_country",
                "/shipping_address/country",
            ),
            (
                "bad option",
                |b| b["shipping_option"] = json!("teleport"),
                422,
                "invalid_shipping_option",
                "/shipping_option",
            ),
            (
                "bad payment",
                |b| b["payment_method"] = json!("4242 4242"),
                422,
                "invalid_payment_method",
                "/payment_method",
            ),
            ("bad billing", |b| b["billing_address"] = json!("same"), 400, "invalid_type", "/billing_address"),
            ("bad locale", |b| b["locale"] = json!("en_GB"), 422, "invalid_locale", "/locale"),
            ("empty locale", |b| b["locale"] = json!(""), 422, "invalid_locale", "/locale"),
        ];
        for (name, mutate, status, code, field) in cases {
            let mut body = valid_body();
            mutate(&mut body);
            let problem = refusal(&body);
            assert_eq!((problem.status, problem.code, problem.field.as_deref()), (status, code, Some(field)), "{name}");
        }
    }

    #[test]
    fn too_many_lines_and_oversized_bodies_are_refused() {
        let mut body = valid_body();
        body["lines"] = (0..=MAX_LINES).map(|i| json!({"sku": format!("SKU-{i}"), "quantity": 1})).collect();
        assert_eq!(refusal(&body).code, "too_many_lines");
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_new_order(&huge).unwrap_err().status, 413);
        assert_eq!(parse_new_order(b"{\"customer\":").unwrap_err().code, "malformed_json");
        assert_eq!(parse_new_order(b"[]").unwrap_err().code, "invalid_type");
    }
}
