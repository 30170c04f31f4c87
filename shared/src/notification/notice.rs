//! The messages a customer may receive: which one an order event calls for, on which channels,
//! what overtakes it, and what makes two deliveries the same message.

use crate::domain::{Delay, EventId, EventType, Order, OrderStatus, Shipment};

/// A message the customer may receive; its template, subject and channels follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    Received,
    Confirmed,
    Rejected,
    PaymentFailed,
    Shipped,
    OutForDelivery,
    Delivered,
    /// A parcel is held up or will arrive later than promised (exception or a later estimate).
    Delayed,
    Cancelled,
    Modified,
    ReturnAccepted,
    Refunded,
    /// Sent by the daily sweep some days after delivery, not by an event.
    FeedbackRequest,
    /// An operator's apology: what went wrong, and what was done about it.
    Apology,
}

/// The notices that also go by text message: every language writes a text for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Texted {
    Confirmed,
    Shipped,
    OutForDelivery,
    Delivered,
    Delayed,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

impl Notice {
    pub const ALL: [Notice; 14] = [
        Self::Received,
        Self::Confirmed,
        Self::Rejected,
        Self::PaymentFailed,
        Self::Shipped,
        Self::OutForDelivery,
        Self::Delivered,
        Self::Delayed,
        Self::Cancelled,
        Self::Modified,
        Self::ReturnAccepted,
        Self::Refunded,
        Self::FeedbackRequest,
        Self::Apology,
    ];

    /// The message an event calls for; `None` for events the customer is not told about
    /// (internal steps, fraud review, each carrier scan).
    pub fn for_event(event_type: EventType) -> Option<Self> {
        let notice = match event_type {
            EventType::Reached(status) => match status {
                OrderStatus::Placed => Self::Received,
                OrderStatus::PaymentAuthorized => Self::Confirmed,
                OrderStatus::Rejected => Self::Rejected,
                OrderStatus::PaymentFailed => Self::PaymentFailed,
                OrderStatus::Shipped => Self::Shipped,
                OrderStatus::OutForDelivery => Self::OutForDelivery,
                OrderStatus::Delivered => Self::Delivered,
                OrderStatus::DeliveryException => Self::Delayed,
                OrderStatus::Cancelled => Self::Cancelled,
                OrderStatus::ReturnRequested => Self::ReturnAccepted,
                OrderStatus::Refunded => Self::Refunded,
                OrderStatus::Reserved
                | OrderStatus::OnHold
                | OrderStatus::Fulfilling
                | OrderStatus::InTransit
                | OrderStatus::Returned => return None,
            },
            EventType::DeliveryDelayed => Self::Delayed,
            EventType::Modified => Self::Modified,
            EventType::RefundIssued => Self::Refunded,
            EventType::ApologySent => Self::Apology,
            // The operators' business, not the customer's.
            EventType::TrackingUpdated
            | EventType::DisputeUpdated
            | EventType::AuthorizationEnded
            | EventType::RefundFailed => return None,
        };
        Some(notice)
    }

    /// Snake case, for the ledger, logs and preview file names: `order_confirmed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "order_received",
            Self::Confirmed => "order_confirmed",
            Self::Rejected => "order_rejected",
            Self::PaymentFailed => "payment_failed",
            Self::Shipped => "shipped",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Delayed => "delivery_delayed",
            Self::Cancelled => "cancelled",
            Self::Modified => "order_modified",
            Self::ReturnAccepted => "return_accepted",
            Self::Refunded => "refunded",
            Self::FeedbackRequest => "feedback_request",
            Self::Apology => "apology",
        }
    }

    /// Whether the order, now at `status`, has moved past what this message announces: told
    /// then, it would contradict what the customer already heard or is about to ("out for
    /// delivery" once delivered, "confirmed" once cancelled). Outcomes are never overtaken.
    pub(crate) fn overtaken_by(self, status: OrderStatus) -> bool {
        use OrderStatus::*;
        match self {
            // "Received" says only that the order is being looked at: any decision tells more.
            Self::Received => !matches!(status, Placed | Reserved | OnHold),
            Self::Confirmed | Self::Modified => matches!(status, Rejected | PaymentFailed | Cancelled),
            Self::Shipped | Self::OutForDelivery | Self::Delayed => {
                matches!(status, Delivered | ReturnRequested | Returned | Refunded)
            }
            Self::Delivered => matches!(status, ReturnRequested | Returned | Refunded),
            Self::Rejected
            | Self::PaymentFailed
            | Self::Cancelled
            | Self::ReturnAccepted
            | Self::Refunded
            | Self::FeedbackRequest
            | Self::Apology => false,
        }
    }

    /// Whether any status overtakes this message: only then is the order worth reading first.
    pub(crate) fn may_be_overtaken(self) -> bool {
        OrderStatus::ALL.into_iter().any(|status| self.overtaken_by(status))
    }

    /// The short, time-sensitive messages also go by text message.
    pub fn texted(self) -> Option<Texted> {
        match self {
            Self::Confirmed => Some(Texted::Confirmed),
            Self::Shipped => Some(Texted::Shipped),
            Self::OutForDelivery => Some(Texted::OutForDelivery),
            Self::Delivered => Some(Texted::Delivered),
            Self::Delayed => Some(Texted::Delayed),
            Self::Received
            | Self::Rejected
            | Self::PaymentFailed
            | Self::Cancelled
            | Self::Modified
            | Self::ReturnAccepted
            | Self::Refunded
            | Self::FeedbackRequest
            | Self::Apology => None,
        }
    }

    pub(crate) fn is_texted(self) -> bool {
        self.texted().is_some()
    }

    /// Only the confirmation may carry "you may also like": never a service message.
    pub(crate) fn may_recommend(self) -> bool {
        self == Self::Confirmed
    }

    /// The channels this message goes out on for this order: e-mail always (the notifier still
    /// honours the suppression list), a text message only to a customer who gave a number and
    /// opted in.
    pub(crate) fn channels(self, order: &Order) -> Vec<Channel> {
        let mut channels = vec![Channel::Email];
        if self.is_texted() && order.customer.sms_opt_in && order.customer.phone.is_some() {
            channels.push(Channel::Sms);
        }
        channels
    }
}

/// The parcel whose delay was noted last, with its delay.
pub(crate) fn latest_delay(order: &Order) -> Option<(&Shipment, &Delay)> {
    order
        .shipments
        .iter()
        .filter_map(|shipment| shipment.delay.as_ref().map(|delay| (shipment, delay)))
        .max_by_key(|(_, delay)| delay.noted_at)
}

/// What makes two messages the same message to the customer, for the ledger: the event, but
/// a delay is told once per parcel and new date, however many carrier events report it (an
/// exception and a later estimate may both say "Friday").
pub fn occasion(notice: Notice, event_id: &EventId, order: &Order) -> String {
    match (notice, latest_delay(order)) {
        (Notice::Delayed, Some((parcel, delay))) => {
            let expected = delay.expected.map_or_else(|| "unknown".to_owned(), |day| day.to_string());
            format!("delay:{}:{expected}", parcel.tracking_number)
        }
        // Every other message is one per event.
        _ => event_id.to_string(),
    }
}
