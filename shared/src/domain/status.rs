//! The order state machine: one enum, and one function that says which moves are legal.

use std::fmt;

/// Where an order stands. Every write of a status goes through [`OrderStatus::transition_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Placed,
    Reserved,
    Rejected,
    OnHold,
    PaymentAuthorized,
    PaymentFailed,
    Fulfilling,
    Shipped,
    InTransit,
    OutForDelivery,
    DeliveryException,
    Delivered,
    Cancelled,
    ReturnRequested,
    Returned,
    Refunded,
}

/// A move the state machine does not allow; the caller decides whether that is a redelivery to
/// acknowledge or a client error to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 16] = [
        Self::Placed,
        Self::Reserved,
        Self::Rejected,
        Self::OnHold,
        Self::PaymentAuthorized,
        Self::PaymentFailed,
        Self::Fulfilling,
        Self::Shipped,
        Self::InTransit,
        Self::OutForDelivery,
        Self::DeliveryException,
        Self::Delivered,
        Self::Cancelled,
        Self::ReturnRequested,
        Self::Returned,
        Self::Refunded,
    ];

    /// The status as stored and shown: `PAYMENT_AUTHORIZED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "PLACED",
            Self::Reserved => "RESERVED",
            Self::Rejected => "REJECTED",
            Self::OnHold => "ON_HOLD",
            Self::PaymentAuthorized => "PAYMENT_AUTHORIZED",
            Self::PaymentFailed => "PAYMENT_FAILED",
            Self::Fulfilling => "FULFILLING",
            Self::Shipped => "SHIPPED",
            Self::InTransit => "IN_TRANSIT",
            Self::OutForDelivery => "OUT_FOR_DELIVERY",
            Self::DeliveryException => "DELIVERY_EXCEPTION",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
            Self::ReturnRequested => "RETURN_REQUESTED",
            Self::Returned => "RETURNED",
            Self::Refunded => "REFUNDED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// The statuses an order may move to from this one. Exhaustive on purpose: a new status does
    /// not compile until it says where it leads.
    pub(crate) fn successors(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            // An order is created PLACED; nothing moves back to it.
            Placed => &[Reserved, Rejected, Cancelled],
            Reserved => &[PaymentAuthorized, OnHold, PaymentFailed, Cancelled],
            // An operator may approve a held order whose card is then declined.
            OnHold => &[PaymentAuthorized, PaymentFailed, Cancelled],
            PaymentAuthorized => &[Fulfilling, Cancelled],
            // Before it ships an order can be called back; after, only returned.
            Fulfilling => &[Shipped, Cancelled],
            // Carriers skip scans, so a parcel may move forward by more than one step, and
            // recovers from an exception to wherever the carrier next sees it.
            Shipped => &[InTransit, OutForDelivery, DeliveryException, Delivered],
            InTransit => &[OutForDelivery, DeliveryException, Delivered],
            OutForDelivery => &[DeliveryException, Delivered],
            DeliveryException => &[InTransit, OutForDelivery, Delivered],
            Delivered => &[ReturnRequested],
            ReturnRequested => &[Returned],
            Returned => &[Refunded],
            Rejected | PaymentFailed | Cancelled | Refunded => &[],
        }
    }

    /// The status this order may move to next, or why not.
    pub(crate) fn transition_to(self, to: OrderStatus) -> Result<OrderStatus, IllegalTransition> {
        if self.successors().contains(&to) { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }

    /// No move leads out of a terminal status.
    pub fn is_terminal(self) -> bool {
        self.successors().is_empty()
    }

    /// Whether a carrier's news that moves the order from this status to `to` is progress:
    /// into or out of an exception, or forward on the way to the door, in the order the statuses
    /// are declared (SHIPPED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED).
    pub(crate) fn moves_forward_to(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        let on_the_way = |status: OrderStatus| matches!(status, Shipped | InTransit | OutForDelivery | Delivered);
        match (self, to) {
            (_, DeliveryException) | (DeliveryException, _) => true,
            (from, to) => on_the_way(from) && on_the_way(to) && to > from,
        }
    }

    /// True for the statuses an order leaves on its own as the pipeline, the warehouse or the
    /// carrier moves it: the ones it can be stuck in. DELIVERED waits on nobody.
    pub(crate) fn awaits_progress(self) -> bool {
        use OrderStatus::*;
        match self {
            Placed | Reserved | OnHold | PaymentAuthorized | Fulfilling | Shipped | InTransit | OutForDelivery
            | DeliveryException | ReturnRequested | Returned => true,
            Rejected | PaymentFailed | Delivered | Cancelled | Refunded => false,
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};
    use proptest::prelude::*;

    /// Every legal move, written out once more by hand from DESIGN.md's diagram.
    const LEGAL: &[(OrderStatus, OrderStatus)] = &[
        (Placed, Reserved),
        (Placed, Rejected),
        (Placed, Cancelled),
        (Reserved, PaymentAuthorized),
        (Reserved, OnHold),
        (Reserved, PaymentFailed),
        (Reserved, Cancelled),
        (OnHold, PaymentAuthorized),
        (OnHold, PaymentFailed),
        (OnHold, Cancelled),
        (PaymentAuthorized, Fulfilling),
        (PaymentAuthorized, Cancelled),
        (Fulfilling, Shipped),
        (Fulfilling, Cancelled),
        (Shipped, InTransit),
        (Shipped, OutForDelivery),
        (Shipped, DeliveryException),
        (Shipped, Delivered),
        (InTransit, OutForDelivery),
        (InTransit, DeliveryException),
        (InTransit, Delivered),
        (OutForDelivery, DeliveryException),
        (OutForDelivery, Delivered),
        (DeliveryException, InTransit),
        (DeliveryException, OutForDelivery),
        (DeliveryException, Delivered),
        (Delivered, ReturnRequested),
        (ReturnRequested, Returned),
        (Returned, Refunded),
    ];

    #[test]
    fn every_pair_of_statuses_is_legal_exactly_when_the_table_says_so() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let expected = LEGAL.contains(&(from, to));
                assert_eq!(from.transition_to(to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_terminal_statuses_are_the_ends_of_the_diagram() {
        let terminal: Vec<_> = OrderStatus::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Rejected, PaymentFailed, Cancelled, Refunded]);
    }

    #[test]
    fn carrier_news_moves_forward_on_the_way_or_into_and_out_of_an_exception() {
        let on_the_way = [Shipped, InTransit, OutForDelivery, Delivered];
        for (at, from) in on_the_way.into_iter().enumerate() {
            for (to_at, to) in on_the_way.into_iter().enumerate() {
                assert_eq!(from.moves_forward_to(to), to_at > at, "{from} -> {to}");
            }
            assert!(from.moves_forward_to(DeliveryException) && DeliveryException.moves_forward_to(from), "{from}");
        }
        assert!(!Fulfilling.moves_forward_to(Shipped), "shipping is the warehouse's news, not the carrier's");
        assert!(!Delivered.moves_forward_to(ReturnRequested));
    }

    #[test]
    fn nothing_can_be_cancelled_once_it_has_shipped() {
        for from in [Shipped, InTransit, OutForDelivery, DeliveryException, Delivered] {
            assert!(from.transition_to(Cancelled).is_err(), "{from}");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names_and_serde() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(OrderStatus::parse("placed"), None);
    }

    proptest! {
        /// A walk of legal moves from PLACED never revisits PLACED and never leaves a terminal status.
        #[test]
        fn random_walks_respect_the_machine(choices in proptest::collection::vec(0usize..16, 0..40)) {
            let mut status = Placed;
            for choice in choices {
                let next = OrderStatus::ALL.into_iter().filter(|to| status.transition_to(*to).is_ok()).collect::<Vec<_>>();
                if next.is_empty() {
                    prop_assert!(status.is_terminal());
                    break;
                }
                status = next[choice % next.len()];
                prop_assert_ne!(status, Placed);
            }
        }
    }
}
