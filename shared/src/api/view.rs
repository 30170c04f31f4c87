//! What the storefront API shows of an order.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{
    Address, Currency, Customer, DeskEntry, Locale, Order, OrderId, OrderLine, OrderStatus, ReturnRequest, Shipment,
    ShippingOption, ShippingQuote, StatusReason, TimelineEntry, Totals, TrackingEvent,
};

/// A carrier event of one parcel, when the carrier saw it.
#[derive(Debug, Serialize)]
pub struct CarrierEventView<'a> {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: &'a TrackingEvent,
}

/// A parcel with its carrier events, oldest first.
#[derive(Debug, Serialize)]
pub struct ShipmentView<'a> {
    #[serde(flatten)]
    pub shipment: &'a Shipment,
    pub events: Vec<CarrierEventView<'a>>,
}

#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub id: &'a OrderId,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    pub version: u64,
    pub currency: Currency,
    pub customer: &'a Customer,
    pub lines: &'a [OrderLine],
    pub totals: &'a Totals,
    pub shipping_address: &'a Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<&'a Address>,
    pub shipping_option: ShippingOption,
    pub shipping_quote: &'a ShippingQuote,
    /// The language the customer is written to in; absent for orders placed before orders had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<&'a Locale>,
    /// When the last parcel still on its way should arrive (the promise until one ships).
    pub estimated_delivery: NaiveDate,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<ShipmentView<'a>>,
    /// Every option the destination offered, with its price and estimate: only in the answer
    /// to the order's placement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_options: Option<&'a [ShippingQuote]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_request: Option<&'a ReturnRequest>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub timeline: Vec<TimelineEntry>,
    /// The desk's claims and calls, oldest first: operators only.
    #[serde(skip_serializing_if = "<[DeskEntry]>::is_empty")]
    pub desk: &'a [DeskEntry],
    /// What the calling operator's role allows on this order, whatever its status: operators
    /// only, so that a client offers nothing the API would refuse them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_actions: Vec<&'static str>,
}

impl<'a> OrderView<'a> {
    /// The order as its storefront sees it: operators' reasons (fraud screening) left out.
    pub(crate) fn for_storefront(order: &'a Order, timeline: &'a [TimelineEntry]) -> Self {
        let mut view = Self::for_operator(order, timeline);
        view.status_reason = view.status_reason.and_then(|reason| reason.for_storefront());
        for entry in &mut view.timeline {
            entry.reason = entry.reason.take().and_then(|reason| reason.for_storefront());
        }
        view
    }

    /// Everything, reasons included.
    pub fn for_operator(order: &'a Order, timeline: &'a [TimelineEntry]) -> Self {
        Self {
            id: &order.id,
            status: order.status(),
            status_reason: order.status_reason.clone(),
            version: order.version(),
            currency: order.currency,
            customer: &order.customer,
            lines: &order.lines,
            totals: &order.totals,
            shipping_address: &order.shipping_address,
            locale: order.locale.as_ref(),
            billing_address: order.billing_address.as_ref(),
            shipping_option: order.shipping_option,
            shipping_quote: &order.shipping_quote,
            estimated_delivery: order.current_estimate(),
            shipments: order
                .shipments
                .iter()
                .map(|shipment| ShipmentView {
                    shipment,
                    events: timeline
                        .iter()
                        .filter_map(|entry| Some((entry.at, entry.tracking.as_ref()?)))
                        .filter(|(_, event)| event.tracking_number == shipment.tracking_number)
                        .map(|(at, event)| CarrierEventView { at, event })
                        .collect(),
                })
                .collect(),
            shipping_options: None,
            return_request: order.return_request.as_ref(),
            created_at: order.created_at,
            updated_at: order.updated_at,
            timeline: timeline.to_vec(),
            desk: &[],
            allowed_actions: Vec::new(),
        }
    }
}

impl<'a> OrderView<'a> {
    /// The view with the desk's work on the order, and what the caller may do to it.
    pub(crate) fn with_desk(mut self, desk: &'a [DeskEntry], allowed_actions: Vec<&'static str>) -> Self {
        self.desk = desk;
        self.allowed_actions = allowed_actions;
        self
    }

    /// The view with the options the order was offered.
    pub(crate) fn offering(mut self, options: &'a [ShippingQuote]) -> Self {
        self.shipping_options = Some(options);
        self
    }
}

/// Where a client finds an order.
pub(crate) fn order_location(id: &OrderId) -> String {
    format!("/orders/{id}")
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::{Decline, FraudAssessment, tests::sample_order};

    #[test]
    fn storefronts_see_no_screening_reasons_and_only_generic_lost_or_stolen_declines() {
        let order = sample_order();
        let reserved = order.transition(OrderStatus::Reserved, DateTime::UNIX_EPOCH).unwrap();
        let order = order.with_change(&reserved);
        let held = order
            .transition(OrderStatus::OnHold, DateTime::UNIX_EPOCH)
            .unwrap()
            .because(StatusReason::FraudReview { assessment: FraudAssessment::default() });
        let order = order.with_change(&held);
        let declined = order
            .transition(OrderStatus::PaymentFailed, DateTime::UNIX_EPOCH)
            .unwrap()
            .because(StatusReason::PaymentDeclined { decline: Decline::from_code("stolen_card") });
        let timeline =
            [order.placed_entry(), reserved.timeline_entry(), held.timeline_entry(), declined.timeline_entry()];
        let order = order.with_change(&declined);

        let operator = serde_json::to_value(OrderView::for_operator(&order, &timeline)).unwrap();
        assert_eq!(operator["timeline"][2]["reason"]["kind"], "fraud_review");
        assert_eq!(operator["status_reason"]["decline"]["code"], "stolen_card");

        let storefront = serde_json::to_value(OrderView::for_storefront(&order, &timeline)).unwrap();
        assert!(storefront["timeline"][2].get("reason").is_none());
        assert_eq!(storefront["status_reason"]["decline"]["code"], "generic_decline");
        assert_eq!(storefront["timeline"][3]["reason"]["decline"]["message"], "Your card was declined.");
    }
}
