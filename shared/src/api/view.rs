//! What the storefront API shows of an order.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    Address, Currency, Customer, Order, OrderId, OrderLine, OrderStatus, ShippingOption, StatusReason, TimelineEntry,
    Totals,
};

#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub id: &'a OrderId,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<&'a StatusReason>,
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
    pub timeline: Vec<TimelineEntry>,
}

impl<'a> OrderView<'a> {
    /// The order as its storefront sees it: operators' reasons (fraud screening) left out.
    pub fn for_storefront(order: &'a Order, timeline: &'a [TimelineEntry]) -> Self {
        let mut view = Self::for_operator(order, timeline);
        view.status_reason = view.status_reason.filter(|reason| !reason.is_internal());
        for entry in &mut view.timeline {
            entry.reason = entry.reason.take().filter(|reason| !reason.is_internal());
        }
        view
    }

    /// Everything, reasons included.
    pub fn for_operator(order: &'a Order, timeline: &'a [TimelineEntry]) -> Self {
        Self {
            id: &order.id,
            status: order.status(),
            status_reason: order.status_reason.as_ref(),
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
            timeline: timeline.to_vec(),
        }
    }
}

/// Where a client finds an order.
pub fn order_location(id: &OrderId) -> String {
    format!("/orders/{id}")
}
