//! The warehouse: what it is asked to pick (or to stop picking) on its queue, what it reports
//! it shipped, and how a report becomes a parcel on the order.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    contact::Address,
    event::{EventId, EventType},
    ids::{OrderId, Quantity, Sku},
    order::{Order, Revision},
    parcels::{CarrierName, ParcelStatus, Shipment, ShipmentId, ShippedLine, TrackingNumber},
    pricing::ShippingOption,
    returns::ReturnReceipt,
    status::OrderStatus,
    text::Line,
};

/// The warehouse's report that a parcel left: the body of a message on the shipments queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentReport {
    pub shipment_id: ShipmentId,
    pub order_id: OrderId,
    pub carrier: CarrierName,
    pub tracking_number: TrackingNumber,
    pub lines: Vec<ShippedLine>,
    pub shipped_at: DateTime<Utc>,
}

/// A message on the shipments queue: a parcel that left, or a returned parcel that arrived
/// (a receipt names its `rma`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseReport {
    Shipped(ShipmentReport),
    Returned(ReturnReceipt),
}

impl WarehouseReport {
    pub fn from_json(value: serde_json::Value) -> Result<Self, serde_json::Error> {
        if value.get("rma").is_some() {
            serde_json::from_value(value).map(Self::Returned)
        } else {
            serde_json::from_value(value).map(Self::Shipped)
        }
    }
}

/// One line of a pick request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PickLine {
    pub sku: Sku,
    pub name: Line,
    pub quantity: Quantity,
}

/// What the warehouse is told on its pick-requests queue, told apart by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarehouseInstruction {
    Pick(Box<PickRequest>),
    Cancel(PickCancellation),
}

/// Stop picking an order and put its units back on the shelf: it was cancelled. Sent whenever
/// a pick may have been requested; a warehouse that has no pick for the order ignores it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PickCancellation {
    /// The cancellation's event id: the same for every delivery.
    pub request_id: EventId,
    pub order_id: OrderId,
}

/// What the warehouse needs to pick, pack and ship an order. `request_id` is the same for every
/// delivery of one request, so the warehouse picks once however often it is sent; a request
/// for an order it already has a request for replaces that one (the order was amended
/// before the pick began).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PickRequest {
    pub request_id: EventId,
    pub order_id: OrderId,
    pub lines: Vec<PickLine>,
    pub ship_to: Address,
    pub shipping_option: ShippingOption,
    /// The day the parcel must leave to keep the promise made to the customer.
    pub dispatch_by: NaiveDate,
    pub estimated_delivery: NaiveDate,
}

impl PickRequest {
    pub(crate) fn for_order(order: &Order) -> Self {
        Self {
            request_id: order.event_id(),
            order_id: order.id.clone(),
            lines: order
                .lines
                .iter()
                .map(|line| PickLine { sku: line.sku.clone(), name: line.name.clone(), quantity: line.quantity })
                .collect(),
            ship_to: order.shipping_address.clone(),
            shipping_option: order.shipping_option,
            dispatch_by: order.shipping_quote.dispatch_date,
            estimated_delivery: order.shipping_quote.estimated_delivery,
        }
    }
}

/// Why a shipment report cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentRejection {
    /// Not fulfilling yet: the pick request may have been answered before our write of
    /// FULFILLING landed. Worth retrying.
    #[error("the order is {0}, not FULFILLING yet")]
    NotYetFulfilling(OrderStatus),
    /// Cancelled, shipped in full, or otherwise past taking parcels: a person must look.
    #[error("the order is {0} and takes no more parcels")]
    NotFulfilling(OrderStatus),
    #[error("the order has no line for SKU {0}")]
    UnknownLine(Sku),
    #[error("SKU {sku}: {shipped} shipped in all, but the order has {ordered}")]
    OverShipped { sku: Sku, ordered: u64, shipped: u64 },
    #[error("the report ships no units")]
    Empty,
}

impl ShipmentRejection {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotYetFulfilling(_) => "order_not_yet_fulfilling",
            Self::NotFulfilling(_) => "order_not_fulfilling",
            Self::UnknownLine(_) => "unknown_line",
            Self::OverShipped { .. } => "over_shipped",
            Self::Empty => "empty_shipment",
        }
    }
}

impl Order {
    /// Units shipped so far, per SKU.
    fn shipped_units(&self) -> HashMap<&Sku, u64> {
        let mut shipped = HashMap::new();
        for line in self.shipments.iter().flat_map(|shipment| &shipment.lines) {
            *shipped.entry(&line.sku).or_default() += u64::from(line.quantity.get());
        }
        shipped
    }

    /// Records a parcel: SHIPPED once every unit has shipped, otherwise the order stays
    /// FULFILLING and the parcel is a tracking update. `Ok(None)` if the parcel is already on
    /// the order (a redelivered report).
    pub fn record_shipment(
        &self,
        report: &ShipmentReport,
        at: DateTime<Utc>,
    ) -> Result<Option<Revision>, ShipmentRejection> {
        if self.shipments.iter().any(|shipment| shipment.id == report.shipment_id) {
            return Ok(None);
        }
        use OrderStatus::*;
        match self.status() {
            Fulfilling => {}
            early @ (PaymentAuthorized | OnHold | Reserved | Placed) => {
                return Err(ShipmentRejection::NotYetFulfilling(early));
            }
            past @ (Rejected | PaymentFailed | Shipped | InTransit | OutForDelivery | DeliveryException | Delivered
            | Cancelled | ReturnRequested | Returned | Refunded) => {
                return Err(ShipmentRejection::NotFulfilling(past));
            }
        }
        if report.lines.is_empty() {
            return Err(ShipmentRejection::Empty);
        }
        let mut shipped = self.shipped_units();
        for line in &report.lines {
            let ordered: u64 = self
                .lines
                .iter()
                .find(|ordered| ordered.sku == line.sku)
                .ok_or_else(|| ShipmentRejection::UnknownLine(line.sku.clone()))?
                .quantity
                .get()
                .into();
            let total = shipped.entry(&line.sku).or_default();
            *total += u64::from(line.quantity.get());
            if *total > ordered {
                return Err(ShipmentRejection::OverShipped { sku: line.sku.clone(), ordered, shipped: *total });
            }
        }
        let complete =
            self.lines.iter().all(|line| shipped.get(&line.sku).copied() == Some(line.quantity.get().into()));
        let parcel = Shipment {
            id: report.shipment_id.clone(),
            carrier: report.carrier.clone(),
            tracking_number: report.tracking_number.clone(),
            lines: report.lines.clone(),
            shipped_at: report.shipped_at,
            status: ParcelStatus::Shipped,
            status_at: Some(report.shipped_at),
            estimated_delivery: self.shipping_quote.estimated_delivery,
            delay: None,
        };
        let mut shipments = self.shipments.clone();
        shipments.push(parcel.clone());
        let change = if complete {
            self.transition(OrderStatus::Shipped, at).map_err(|_| ShipmentRejection::NotFulfilling(self.status()))?
        } else {
            self.update(EventType::TrackingUpdated, at)
        };
        let mut change = change.with_shipments(shipments);
        change.parcel = Some(Box::new(parcel));
        Ok(Some(change))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::{OrderLine, tests::sample_order};

    pub(crate) fn time(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    /// The sample order (2 × MUG) with a second line (3 × TEE), FULFILLING.
    pub(crate) fn fulfilling() -> Order {
        let mut order = sample_order();
        let mut tee = order.lines[0].clone();
        tee.sku = Sku::parse("TEE").unwrap();
        tee.quantity = Quantity::try_from(3).unwrap();
        order.lines.push(OrderLine { ..tee });
        [OrderStatus::Reserved, OrderStatus::PaymentAuthorized, OrderStatus::Fulfilling].into_iter().fold(
            order,
            |order, status| {
                let change = order.transition(status, time(0)).unwrap();
                order.with_change(&change)
            },
        )
    }

    pub(crate) fn report(id: &str, tracking: &str, lines: &[(&str, u16)]) -> ShipmentReport {
        ShipmentReport {
            shipment_id: ShipmentId::parse(id).unwrap(),
            order_id: fulfilling().id,
            carrier: CarrierName::parse("DHL").unwrap(),
            tracking_number: TrackingNumber::parse(tracking).unwrap(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| ShippedLine {
                    sku: Sku::parse(sku).unwrap(),
                    quantity: Quantity::try_from(u64::from(*quantity)).unwrap(),
                })
                .collect(),
            shipped_at: time(10),
        }
    }

    pub(crate) fn ship(order: Order, report: &ShipmentReport) -> Order {
        let change = order.record_shipment(report, time(10)).unwrap().unwrap();
        order.with_change(&change)
    }

    #[test]
    fn an_order_is_shipped_once_every_unit_has_left_in_one_or_more_parcels() {
        let order = fulfilling();
        let first = report("S1", "JD0001", &[("MUG", 2), ("TEE", 1)]);
        let change = order.record_shipment(&first, time(10)).unwrap().unwrap();
        assert_eq!((change.to, change.event_type), (OrderStatus::Fulfilling, EventType::TrackingUpdated));
        let order = order.with_change(&change);
        assert_eq!(order.record_shipment(&first, time(11)), Ok(None), "a redelivered report changes nothing");
        let order = ship(order, &report("S2", "JD0002", &[("TEE", 2)]));
        assert_eq!(order.status(), OrderStatus::Shipped);
        assert_eq!(order.shipments.len(), 2);
        assert_eq!(order.shipments[1].estimated_delivery, order.shipping_quote.estimated_delivery);
        let entry = change.timeline_entry();
        let parcel = entry.parcel.expect("the shipped parcel is in the timeline");
        assert_eq!((parcel.id.as_str(), parcel.tracking_number.as_str()), ("S1", "JD0001"));
    }

    #[test]
    fn reports_for_lines_the_order_lacks_or_more_than_it_holds_are_rejected() {
        let order = fulfilling();
        let codes =
            |lines: &[(&str, u16)]| order.record_shipment(&report("S9", "JD0009", lines), time(10)).unwrap_err().code();
        assert_eq!(codes(&[("HAT", 1)]), "unknown_line");
        assert_eq!(codes(&[("MUG", 3)]), "over_shipped");
        assert_eq!(codes(&[]), "empty_shipment");
        let order = ship(order, &report("S1", "JD0001", &[("MUG", 2)]));
        let again = order.record_shipment(&report("S2", "JD0002", &[("MUG", 1)]), time(10));
        assert_eq!(again.unwrap_err().code(), "over_shipped");
        let early = sample_order().record_shipment(&report("S1", "JD0001", &[("MUG", 2)]), time(10));
        assert_eq!(early.unwrap_err().code(), "order_not_yet_fulfilling");
    }
}
