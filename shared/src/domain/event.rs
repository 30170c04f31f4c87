//! What the pipeline tells itself: event types, deterministic event ids, and the envelope.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ids::OrderId, status::OrderStatus};

/// What happened to an order. Mostly the status it reached (`order.payment_authorized`); a few
/// changes keep the status but still matter to a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Reached(OrderStatus),
    Modified,
    TrackingUpdated,
    /// A parcel will arrive later than promised; the status may stay as it was.
    DeliveryDelayed,
    /// An operator refunded part of the payment; the order stays where it was.
    RefundIssued,
    /// The payment provider reported a dispute (chargeback) opened, moved on or closed.
    DisputeUpdated,
    /// The payment provider ended the authorisation before it was captured.
    AuthorizationEnded,
    /// The payment provider could not pay out a refund.
    RefundFailed,
    /// An operator apologised to the customer for something that went wrong.
    ApologySent,
}

impl EventType {
    pub fn name(self) -> String {
        match self {
            Self::Reached(status) => format!("order.{}", status.as_str().to_ascii_lowercase()),
            Self::Modified => "order.modified".to_owned(),
            Self::TrackingUpdated => "order.tracking_updated".to_owned(),
            Self::DeliveryDelayed => "order.delivery_delayed".to_owned(),
            Self::RefundIssued => "order.refund_issued".to_owned(),
            Self::DisputeUpdated => "order.dispute_updated".to_owned(),
            Self::AuthorizationEnded => "order.authorization_ended".to_owned(),
            Self::RefundFailed => "order.refund_failed".to_owned(),
            Self::ApologySent => "order.apology_sent".to_owned(),
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.strip_prefix("order.")? {
            "modified" => Some(Self::Modified),
            "tracking_updated" => Some(Self::TrackingUpdated),
            "delivery_delayed" => Some(Self::DeliveryDelayed),
            "refund_issued" => Some(Self::RefundIssued),
            "dispute_updated" => Some(Self::DisputeUpdated),
            "authorization_ended" => Some(Self::AuthorizationEnded),
            "refund_failed" => Some(Self::RefundFailed),
            "apology_sent" => Some(Self::ApologySent),
            status if status.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
                OrderStatus::parse(&status.to_ascii_uppercase()).map(Self::Reached)
            }
            _ => None,
        }
    }

    /// Every type a consumer may subscribe to: one per status, and the status-keeping changes.
    pub fn all() -> impl Iterator<Item = EventType> {
        OrderStatus::ALL.into_iter().map(Self::Reached).chain([
            Self::Modified,
            Self::TrackingUpdated,
            Self::DeliveryDelayed,
            Self::RefundIssued,
            Self::DisputeUpdated,
            Self::AuthorizationEnded,
            Self::RefundFailed,
            Self::ApologySent,
        ])
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("unknown event type {raw:?}")))
    }
}

/// `{order_id}:{version}`: the same write always yields the same id, so a consumer recognises a
/// redelivery by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId {
    pub order_id: OrderId,
    pub version: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.order_id, self.version)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let invalid = || serde::de::Error::custom(format!("{raw:?} is not an event id"));
        let (order_id, version) = raw.rsplit_once(':').ok_or_else(invalid)?;
        Ok(EventId {
            order_id: OrderId::parse(order_id).map_err(|_| invalid())?,
            version: version.parse().map_err(|_| invalid())?,
        })
    }
}

/// The SNS message body. `data` is the order as it stood after the change, so most consumers
/// need no read to act; they still write conditionally on `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<D> {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub order_id: OrderId,
    pub version: u64,
    pub occurred_at: DateTime<Utc>,
    pub data: D,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_the_snake_case_statuses() {
        assert_eq!(EventType::Reached(OrderStatus::PaymentAuthorized).name(), "order.payment_authorized");
        assert_eq!(EventType::Reached(OrderStatus::OnHold).name(), "order.on_hold");
        assert_eq!(EventType::TrackingUpdated.name(), "order.tracking_updated");
        let names: Vec<String> = EventType::all().map(EventType::name).collect();
        assert_eq!(names.len(), 24);
        for name in &names {
            assert_eq!(EventType::parse(name).map(EventType::name).as_deref(), Some(name.as_str()));
        }
        for bad in ["order.PLACED", "placed", "order.", "order.shipped_now", "order.Modified"] {
            assert_eq!(EventType::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn event_ids_are_order_and_version() {
        let id = EventId { order_id: OrderId::parse("ord_0123456789abcdefghjkmnpqrs").unwrap(), version: 7 };
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json, "ord_0123456789abcdefghjkmnpqrs:7");
        assert_eq!(serde_json::from_value::<EventId>(json).unwrap(), id);
        assert!(serde_json::from_value::<EventId>("ord_0123456789abcdefghjkmnpqrs".into()).is_err());
    }
}
