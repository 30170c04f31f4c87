//! Parcels on their way: what carriers report of each, in our words, forward only, and the
//! delays the customer is told of. An order may leave in several parcels; each is tracked on its
//! own, and the order's status follows the slowest of them.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    event::EventType,
    ids::{CarrierEventId, Quantity, Sku, WebhookSource},
    order::{Order, Revision, StatusReason, TimelineEntry},
    status::OrderStatus,
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
    pub(crate) fn parcel_status(self) -> Option<ParcelStatus> {
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
            // The rest are on the way (shipped, in transit, out for delivery): forward only.
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

/// What a carrier says happened to a parcel, normalised from its webhook: the body of a
/// message on the delivery-updates queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryUpdate {
    /// The webhook's carrier (`easypost`): with `event_id`, what makes the event unique.
    pub source: WebhookSource,
    pub event_id: CarrierEventId,
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
    pub source: WebhookSource,
    pub event_id: CarrierEventId,
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
    Change(Revision),
    /// Nothing to change, but the event belongs in the timeline (an older scan, a label printed).
    TimelineOnly(TimelineEntry),
}

impl Order {
    /// The latest delivery estimate over the parcels still on their way, or the promise.
    pub(crate) fn current_estimate(&self) -> NaiveDate {
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
                Ok(change) if self.status().moves_forward_to(target) => {
                    Some(match delivery_reason(target, &parcel, &event) {
                        Some(reason) => change.because(reason),
                        None => change,
                    })
                }
                // Not a move forward (or not a legal one): the scan is news on the timeline only.
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
                by: None,
            }),
        })
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
    use crate::domain::warehouse::tests::{fulfilling, report, ship, time};

    fn update(tracking: &str, id: &str, status: TrackingStatus, minute: i64) -> DeliveryUpdate {
        DeliveryUpdate {
            source: "easypost".parse().unwrap(),
            event_id: id.parse().unwrap(),
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
