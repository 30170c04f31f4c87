//! Parcels: what the warehouse reports it shipped, and what carriers report of each parcel on
//! its way. An order may leave in several parcels; each is tracked on its own, and the order's
//! status follows the slowest of them, forward only.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    contact::Address,
    event::EventType,
    ids::{OrderId, Quantity, Sku},
    order::{Order, OrderChange, StatusReason, TimelineEntry},
    pricing::ShippingOption,
    status::OrderStatus,
    text::Line,
    text::{InvalidValue, checked_string, show_plainly},
};

fn check_shipment_id(raw: &str) -> Result<String, InvalidValue> {
    let valid = (1..=64).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid { Ok(raw.to_owned()) } else { Err(InvalidValue::new("invalid_shipment_id", "is not a shipment id")) }
}

checked_string!(
    /// The warehouse's id of one parcel: 1 to 64 letters, digits, `-`, `_` or `.`.
    ShipmentId,
    check_shipment_id
);

fn check_tracking_number(raw: &str) -> Result<String, InvalidValue> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    if (4..=40).contains(&compact.len()) && compact.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(compact)
    } else {
        Err(InvalidValue::new("invalid_tracking_number", "is not a tracking number"))
    }
}

checked_string!(
    /// A carrier's tracking number, capitalised and without spaces, as every vocabulary agrees.
    TrackingNumber,
    check_tracking_number
);

fn check_carrier(raw: &str) -> Result<String, InvalidValue> {
    let valid = (1..=40).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || " -_.".contains(c));
    if valid { Ok(raw.trim().to_owned()) } else { Err(InvalidValue::new("invalid_carrier", "is not a carrier name")) }
}

checked_string!(
    /// The carrier carrying a parcel as the sender names it (`DHL`, `PostNL`, `USPS`).
    CarrierName,
    check_carrier
);

show_plainly!(ShipmentId, TrackingNumber, CarrierName);

/// Units of one SKU in one parcel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippedLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

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
    pub request_id: String,
    pub order_id: OrderId,
}

/// What the warehouse needs to pick, pack and ship an order. `request_id` is the same for every
/// delivery of one request, so the warehouse picks once however often it is sent; a request
/// for an order it already has a request for replaces that one (the order was amended
/// before the pick began).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PickRequest {
    pub request_id: String,
    pub order_id: OrderId,
    pub lines: Vec<PickLine>,
    pub ship_to: Address,
    pub shipping_option: ShippingOption,
    /// The day the parcel must leave to keep the promise made to the customer.
    pub dispatch_by: NaiveDate,
    pub estimated_delivery: NaiveDate,
}

impl PickRequest {
    pub fn for_order(order: &Order) -> Self {
        Self {
            request_id: order.event_id().to_string(),
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

/// Where a parcel is, in our words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParcelStatus {
    Shipped,
    InTransit,
    OutForDelivery,
    DeliveryException,
    Delivered,
    ReturnedToSender,
}

/// What a carrier status means to us; `None` of [`TrackingStatus::parcel_status`] for those
/// that say nothing about where the parcel is (a label printed, a status we do not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackingStatus {
    InfoReceived,
    InTransit,
    OutForDelivery,
    DeliveryException,
    Delivered,
    ReturnedToSender,
    Unrecognised,
}

impl TrackingStatus {
    pub fn parcel_status(self) -> Option<ParcelStatus> {
        match self {
            Self::InTransit => Some(ParcelStatus::InTransit),
            Self::OutForDelivery => Some(ParcelStatus::OutForDelivery),
            Self::DeliveryException => Some(ParcelStatus::DeliveryException),
            Self::Delivered => Some(ParcelStatus::Delivered),
            Self::ReturnedToSender => Some(ParcelStatus::ReturnedToSender),
            Self::InfoReceived | Self::Unrecognised => None,
        }
    }
}

impl ParcelStatus {
    /// Whether a parcel at `self` may move to `next`: forward along shipped → in transit → out
    /// for delivery → delivered; into an exception from anywhere short of the end; out of an
    /// exception to wherever the carrier next sees it. Delivered and returned are final.
    fn may_become(self, next: ParcelStatus) -> bool {
        use ParcelStatus::*;
        let rank = |status: ParcelStatus| match status {
            Shipped => 0,
            InTransit => 1,
            OutForDelivery => 2,
            Delivered | ReturnedToSender => 3,
            DeliveryException => 0,
        };
        match (self, next) {
            (Delivered | ReturnedToSender, _) => false,
            (_, DeliveryException) => self != DeliveryException,
            (DeliveryException, _) => true,
            _ => rank(next) > rank(self),
        }
    }
}

/// Why a parcel will arrive later than promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelayCause {
    /// The carrier moved its estimate past the date we promised.
    LaterEstimate,
    /// The carrier reported a problem (failed attempt, address issue, held at customs).
    Exception,
}

/// A delay as the customer is told it: what we promised, what the carrier now expects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delay {
    pub cause: DelayCause,
    pub promised: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<NaiveDate>,
    pub noted_at: DateTime<Utc>,
}

/// One parcel of an order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shipment {
    pub id: ShipmentId,
    pub carrier: CarrierName,
    pub tracking_number: TrackingNumber,
    pub lines: Vec<ShippedLine>,
    pub shipped_at: DateTime<Utc>,
    pub status: ParcelStatus,
    /// When the carrier event that set `status` happened; older events do not move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_at: Option<DateTime<Utc>>,
    pub estimated_delivery: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
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

/// What a carrier says happened to a parcel, normalised from its webhook: the body of a
/// message on the delivery-updates queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryUpdate {
    /// The webhook's carrier (`easypost`): with `event_id`, what makes the event unique.
    pub source: String,
    pub event_id: String,
    /// The carrier that scanned the parcel, when the webhook says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub tracking_number: TrackingNumber,
    pub status: TrackingStatus,
    /// The carrier's own words for it (`in_transit`, `Exception_011`), kept for operators.
    pub carrier_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub occurred_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<NaiveDate>,
}

/// A carrier event as the timeline keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrackingEvent {
    pub tracking_number: TrackingNumber,
    pub source: String,
    pub event_id: String,
    pub status: TrackingStatus,
    pub carrier_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<NaiveDate>,
}

impl TrackingEvent {
    /// `{source}:{event_id}`: the same carrier event always has the same key.
    pub fn key(&self) -> String {
        format!("{}:{}", self.source, self.event_id)
    }
}

impl From<&DeliveryUpdate> for TrackingEvent {
    fn from(update: &DeliveryUpdate) -> Self {
        Self {
            tracking_number: update.tracking_number.clone(),
            source: update.source.clone(),
            event_id: update.event_id.clone(),
            status: update.status,
            carrier_status: update.carrier_status.clone(),
            description: update.description.clone(),
            location: update.location.clone(),
            estimated_delivery: update.estimated_delivery,
        }
    }
}

/// What a carrier event does to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracked {
    /// The order changes (a parcel moved, the order's status moved, a delay); the timeline
    /// entry is written with it.
    Change(OrderChange),
    /// Nothing to change, but the event belongs in the timeline (an older scan, a label printed).
    TimelineOnly(TimelineEntry),
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
    ) -> Result<Option<OrderChange>, ShipmentRejection> {
        if self.shipments.iter().any(|shipment| shipment.id == report.shipment_id) {
            return Ok(None);
        }
        match self.status() {
            OrderStatus::Fulfilling => {}
            early @ (OrderStatus::PaymentAuthorized
            | OrderStatus::OnHold
            | OrderStatus::Reserved
            | OrderStatus::Placed) => {
                return Err(ShipmentRejection::NotYetFulfilling(early));
            }
            other => return Err(ShipmentRejection::NotFulfilling(other)),
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

    /// The latest delivery estimate over the parcels still on their way, or the promise.
    pub fn current_estimate(&self) -> NaiveDate {
        self.shipments
            .iter()
            .filter(|shipment| shipment.status != ParcelStatus::Delivered)
            .map(|shipment| shipment.estimated_delivery)
            .max()
            .unwrap_or(self.shipping_quote.estimated_delivery)
    }

    /// Where the order stands once every parcel is as `shipments` says: delivered when all are,
    /// in exception when one is held up, else as far as the slowest parcel got.
    fn delivery_status(shipments: &[Shipment]) -> OrderStatus {
        let open: Vec<ParcelStatus> = shipments
            .iter()
            .map(|shipment| shipment.status)
            .filter(|status| *status != ParcelStatus::Delivered)
            .collect();
        if open.is_empty() {
            return OrderStatus::Delivered;
        }
        if open.iter().any(|status| matches!(status, ParcelStatus::DeliveryException | ParcelStatus::ReturnedToSender))
        {
            return OrderStatus::DeliveryException;
        }
        if open.contains(&ParcelStatus::Shipped) {
            OrderStatus::Shipped
        } else if open.contains(&ParcelStatus::InTransit) {
            OrderStatus::InTransit
        } else {
            OrderStatus::OutForDelivery
        }
    }

    /// Applies a carrier event. The order only moves forward: an event older than the parcel's
    /// last one, or one that would move it back ("in transit" after "delivered"), still goes
    /// into the timeline but changes nothing. `None` if no parcel of this order has the
    /// event's tracking number.
    pub fn track(&self, update: &DeliveryUpdate, at: DateTime<Utc>) -> Option<Tracked> {
        let index = self.shipments.iter().position(|shipment| shipment.tracking_number == update.tracking_number)?;
        let mut shipments = self.shipments.clone();
        let parcel = &mut shipments[index];
        let event = TrackingEvent::from(update);
        let newer = parcel.status_at.is_none_or(|last| update.occurred_at > last);
        let mut parcel_changed = false;
        let mut delayed = false;
        if newer {
            let promised = self.shipping_quote.estimated_delivery;
            let mut held_up = false;
            if let Some(next) = update.status.parcel_status()
                && parcel.status.may_become(next)
            {
                parcel.status = next;
                parcel.status_at = Some(update.occurred_at);
                parcel_changed = true;
                held_up = next == ParcelStatus::DeliveryException;
            }
            let revised = update
                .estimated_delivery
                .filter(|date| *date != parcel.estimated_delivery && parcel.status != ParcelStatus::Delivered);
            if let Some(date) = revised {
                parcel.estimated_delivery = date;
                parcel_changed = true;
            }
            // A delay is news when the parcel is newly held up, or expected later than we last
            // told the customer.
            let told = parcel.delay.as_ref().and_then(|delay| delay.expected).unwrap_or(promised);
            let later = revised.filter(|date| *date > told);
            let cause = if held_up { Some(DelayCause::Exception) } else { later.map(|_| DelayCause::LaterEstimate) };
            if let Some(cause) = cause {
                let expected = Some(parcel.estimated_delivery).filter(|date| *date > promised);
                parcel.delay = Some(Delay { cause, promised, expected, noted_at: at });
                delayed = true;
            }
        }
        let parcel = parcel.clone();
        let entry_version = self.version();
        let change = if !parcel_changed {
            None
        } else if self.status() == OrderStatus::Fulfilling {
            // Parcels of a partly shipped order travel before the order is SHIPPED.
            Some(self.update(tracking_event_type(delayed), at))
        } else {
            let target = match Self::delivery_status(&shipments) {
                // Out of an exception, a parcel not scanned since it left is on its way.
                OrderStatus::Shipped if self.status() == OrderStatus::DeliveryException => OrderStatus::InTransit,
                target => target,
            };
            match self.transition(target, at) {
                Ok(change) if self.moves_forward_to(target) => Some(match delivery_reason(target, &parcel, &event) {
                    Some(reason) => change.because(reason),
                    None => change,
                }),
                _ => Some(self.update(tracking_event_type(delayed), at)),
            }
        };
        Some(match change {
            Some(change) => Tracked::Change(change.with_shipments(shipments).with_tracking(event, update.occurred_at)),
            None => Tracked::TimelineOnly(TimelineEntry {
                at: update.occurred_at,
                version: entry_version,
                event_type: EventType::TrackingUpdated,
                status: self.status(),
                reason: None,
                tracking: Some(event),
                parcel: None,
            }),
        })
    }

    /// Statuses after SHIPPED are ordered; an exception is left for any of them but DELIVERED.
    fn moves_forward_to(&self, target: OrderStatus) -> bool {
        let rank = |status: OrderStatus| match status {
            OrderStatus::Shipped => Some(0),
            OrderStatus::InTransit => Some(1),
            OrderStatus::OutForDelivery => Some(2),
            OrderStatus::Delivered => Some(4),
            _ => None,
        };
        match (self.status(), target) {
            (_, OrderStatus::DeliveryException) | (OrderStatus::DeliveryException, _) => true,
            (from, to) => matches!((rank(from), rank(to)), (Some(from), Some(to)) if to > from),
        }
    }
}

fn tracking_event_type(delayed: bool) -> EventType {
    if delayed { EventType::DeliveryDelayed } else { EventType::TrackingUpdated }
}

fn delivery_reason(target: OrderStatus, parcel: &Shipment, event: &TrackingEvent) -> Option<StatusReason> {
    if target != OrderStatus::DeliveryException {
        return None;
    }
    Some(if parcel.status == ParcelStatus::ReturnedToSender {
        StatusReason::ReturnedToSender { tracking_number: parcel.tracking_number.clone() }
    } else {
        StatusReason::DeliveryException {
            tracking_number: parcel.tracking_number.clone(),
            carrier_status: event.carrier_status.clone(),
            description: event.description.clone(),
            expected: parcel.delay.as_ref().and_then(|delay| delay.expected),
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::{OrderLine, tests::sample_order};

    fn time(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    /// The sample order (2 × MUG) with a second line (3 × TEE), FULFILLING.
    fn fulfilling() -> Order {
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

    fn report(id: &str, tracking: &str, lines: &[(&str, u16)]) -> ShipmentReport {
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

    fn ship(order: Order, report: &ShipmentReport) -> Order {
        let change = order.record_shipment(report, time(10)).unwrap().unwrap();
        order.with_change(&change)
    }

    fn update(tracking: &str, id: &str, status: TrackingStatus, minute: i64) -> DeliveryUpdate {
        DeliveryUpdate {
            source: "easypost".into(),
            event_id: id.into(),
            carrier: Some("DHL".into()),
            tracking_number: TrackingNumber::parse(tracking).unwrap(),
            status,
            carrier_status: format!("{status:?}"),
            description: None,
            location: None,
            occurred_at: time(minute),
            estimated_delivery: None,
        }
    }

    /// Applies an update; returns the order after it and whether it changed the head.
    fn track(order: Order, update: &DeliveryUpdate) -> (Order, bool) {
        match order.track(update, time(1000)).unwrap() {
            Tracked::Change(change) => (order.with_change(&change), true),
            Tracked::TimelineOnly(entry) => {
                assert_eq!(
                    entry.tracking.as_ref().map(|event| event.event_id.as_str()),
                    Some(update.event_id.as_str())
                );
                (order, false)
            }
        }
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

    fn shipped_in_one_parcel() -> Order {
        ship(fulfilling(), &report("S1", "JD0001", &[("MUG", 2), ("TEE", 3)]))
    }

    #[test]
    fn carrier_events_move_the_order_forward_only() {
        let order = shipped_in_one_parcel();
        let (order, changed) = track(order, &update("JD0001", "e1", TrackingStatus::InTransit, 20));
        assert!(changed);
        assert_eq!(
            (order.status(), order.last_event()),
            (OrderStatus::InTransit, EventType::Reached(OrderStatus::InTransit))
        );
        let (order, _) = track(order, &update("JD0001", "e2", TrackingStatus::Delivered, 40));
        assert_eq!(order.status(), OrderStatus::Delivered);
        // A late scan, newer or older, never takes it back.
        for (id, minute) in [("e3", 50), ("e4", 30)] {
            let (after, changed) = track(order.clone(), &update("JD0001", id, TrackingStatus::InTransit, minute));
            assert!(!changed, "{id}");
            assert_eq!(after.status(), OrderStatus::Delivered);
        }
    }

    #[test]
    fn delivered_before_in_transit_leaves_the_order_delivered() {
        let order = shipped_in_one_parcel();
        let (order, _) = track(order, &update("JD0001", "late-delivered", TrackingStatus::Delivered, 40));
        assert_eq!(order.status(), OrderStatus::Delivered);
        let (order, changed) = track(order, &update("JD0001", "early-transit", TrackingStatus::InTransit, 20));
        assert!(!changed);
        assert_eq!(order.status(), OrderStatus::Delivered);
    }

    #[test]
    fn an_exception_records_the_delay_and_the_order_recovers_from_it() {
        let order = shipped_in_one_parcel();
        let promised = order.shipping_quote.estimated_delivery;
        let mut failed = update("JD0001", "e1", TrackingStatus::DeliveryException, 20);
        failed.estimated_delivery = Some(promised + Duration::days(2));
        failed.description = Some("Recipient not home".into());
        let (order, _) = track(order, &failed);
        assert_eq!(order.status(), OrderStatus::DeliveryException);
        let delay = order.shipments[0].delay.clone().unwrap();
        assert_eq!(
            (delay.cause, delay.promised, delay.expected),
            (DelayCause::Exception, promised, failed.estimated_delivery)
        );
        match order.status_reason.clone().unwrap() {
            StatusReason::DeliveryException { expected, description, .. } => {
                assert_eq!((expected, description.as_deref()), (failed.estimated_delivery, Some("Recipient not home")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(order.current_estimate(), promised + Duration::days(2));
        let (order, _) = track(order, &update("JD0001", "e2", TrackingStatus::OutForDelivery, 30));
        assert_eq!(order.status(), OrderStatus::OutForDelivery);
        assert_eq!(order.status_reason, None);
    }

    #[test]
    fn a_later_estimate_is_a_delay_an_earlier_one_is_not() {
        let order = shipped_in_one_parcel();
        let promised = order.shipping_quote.estimated_delivery;
        let mut later = update("JD0001", "e1", TrackingStatus::InTransit, 20);
        later.estimated_delivery = Some(promised + Duration::days(1));
        let (order, _) = track(order, &later);
        // The status moved, so the event is the status's; the delay is on the parcel.
        assert_eq!(order.shipments[0].delay.as_ref().map(|delay| delay.cause), Some(DelayCause::LaterEstimate));
        let mut even_later = update("JD0001", "e2", TrackingStatus::InTransit, 25);
        even_later.estimated_delivery = Some(promised + Duration::days(3));
        let (order, changed) = track(order, &even_later);
        assert!(changed);
        assert_eq!(order.last_event(), EventType::DeliveryDelayed);
        assert_eq!(
            order.shipments[0].delay.as_ref().and_then(|delay| delay.expected),
            Some(promised + Duration::days(3))
        );
        let mut sooner = update("JD0001", "e3", TrackingStatus::InTransit, 30);
        sooner.estimated_delivery = Some(promised + Duration::days(2));
        let (order, _) = track(order, &sooner);
        assert_eq!(order.last_event(), EventType::TrackingUpdated);
        assert_eq!(order.current_estimate(), promised + Duration::days(2));
    }

    #[test]
    fn with_several_parcels_the_order_follows_the_slowest_and_is_delivered_when_all_are() {
        let order = ship(fulfilling(), &report("S1", "JD0001", &[("MUG", 2)]));
        // The first parcel travels while the order is still being fulfilled.
        let (order, changed) = track(order, &update("JD0001", "a1", TrackingStatus::InTransit, 12));
        assert!(changed);
        assert_eq!((order.status(), order.last_event()), (OrderStatus::Fulfilling, EventType::TrackingUpdated));
        let order = ship(order, &report("S2", "JD0002", &[("TEE", 3)]));
        assert_eq!(order.status(), OrderStatus::Shipped);
        let (order, _) = track(order, &update("JD0001", "a2", TrackingStatus::Delivered, 30));
        assert_eq!(order.status(), OrderStatus::Shipped, "the second parcel has not moved");
        let (order, _) = track(order, &update("JD0002", "b1", TrackingStatus::OutForDelivery, 35));
        assert_eq!(order.status(), OrderStatus::OutForDelivery);
        let (order, _) = track(order, &update("JD0002", "b2", TrackingStatus::Delivered, 40));
        assert_eq!(order.status(), OrderStatus::Delivered);
    }

    #[test]
    fn a_parcel_returned_to_sender_is_an_exception_with_its_reason() {
        let order = shipped_in_one_parcel();
        let (order, _) = track(order, &update("JD0001", "r1", TrackingStatus::ReturnedToSender, 20));
        assert_eq!(order.status(), OrderStatus::DeliveryException);
        assert!(matches!(order.status_reason, Some(StatusReason::ReturnedToSender { .. })));
        let (order, changed) = track(order, &update("JD0001", "r2", TrackingStatus::Delivered, 30));
        assert!(!changed, "a parcel on its way back is not delivered to the customer");
        assert_eq!(order.status(), OrderStatus::DeliveryException);
    }

    #[test]
    fn labels_and_unknown_statuses_go_to_the_timeline_only_and_foreign_parcels_nowhere() {
        let order = shipped_in_one_parcel();
        let (order, changed) = track(order, &update("JD0001", "i1", TrackingStatus::InfoReceived, 20));
        assert!(!changed);
        let (_, changed) = track(order.clone(), &update("JD0001", "u1", TrackingStatus::Unrecognised, 21));
        assert!(!changed);
        assert_eq!(order.track(&update("ZZ9999", "x", TrackingStatus::Delivered, 22), time(1)), None);
    }

    #[test]
    fn tracked_changes_carry_the_carrier_event_into_the_timeline_at_the_carrier_s_time() {
        let order = shipped_in_one_parcel();
        let Some(Tracked::Change(change)) =
            order.track(&update("JD0001", "e1", TrackingStatus::InTransit, 20), time(99))
        else {
            panic!("expected a change");
        };
        let entry = change.timeline_entry();
        assert_eq!((entry.at, entry.status), (time(20), OrderStatus::InTransit));
        assert_eq!(entry.tracking.unwrap().key(), "easypost:e1");
        assert_eq!(change.at, time(99));
    }

    #[test]
    fn tracking_numbers_are_compacted_and_capitalised() {
        assert_eq!(TrackingNumber::parse("1z 999 aa1").unwrap().as_str(), "1Z999AA1");
        assert!(TrackingNumber::parse("abc").is_err());
        assert!(TrackingNumber::parse("12345678901234567890123456789012345678901").is_err());
    }
}
