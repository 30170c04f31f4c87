//! What the storefront API shows of an order.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    Address, Currency, Customer, Order, OrderId, OrderLine, OrderStatus, ShippingOption, TimelineEntry, Totals,
};

#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub id: &'a OrderId,
    pub status: OrderStatus,
    pub version: u64,
    pub currency: Currency,
    pub customer: &'a Customer,
    pub lines: &'a [OrderLine],
    pub totals: &'a Totals,
    pub shipping_address: &'a Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<&'a Address>,
    pub shipping_option: ShippingOption,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub timeline: &'a [TimelineEntry],
}

impl<'a> OrderView<'a> {
    pub fn new(order: &'a Order, timeline: &'a [TimelineEntry]) -> Self {
        Self {
            id: &order.id,
            status: order.status(),
            version: order.version(),
            currency: order.currency,
            customer: &order.customer,
            lines: &order.lines,
            totals: &order.totals,
            shipping_address: &order.shipping_address,
            billing_address: order.billing_address.as_ref(),
            shipping_option: order.shipping_option,
            created_at: order.created_at,
            updated_at: order.updated_at,
            timeline,
        }
    }
}

/// Where a client finds an order.
pub fn order_location(id: &OrderId) -> String {
    format!("/orders/{id}")
}
