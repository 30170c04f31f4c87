//! An operator's apology: what went wrong with an order and what was done about it, recorded
//! on the order (a status-keeping change) so that the notifier tells the customer once.

use chrono::{DateTime, Utc};

use super::{
    event::EventType,
    order::{OperatorDecision, Order, Revision, StatusReason},
};

/// What was done to put it right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Money went back (a goodwill refund, or one for what went wrong).
    Refund,
    /// The order was corrected (an address, a line).
    Amendment,
    /// It goes, or went, by express at the shop's cost.
    ExpeditedShipment,
    /// Something else, which `what_went_wrong` says.
    Other,
}

impl Remedy {
    pub const ALL: [Remedy; 4] = [Self::Refund, Self::Amendment, Self::ExpeditedShipment, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refund => "refund",
            Self::Amendment => "amendment",
            Self::ExpeditedShipment => "expedited_shipment",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|remedy| remedy.as_str() == raw)
    }
}

impl Order {
    /// The change that records an operator's apology; the notifier tells the customer from it,
    /// once (the event's id keys its ledger).
    pub fn apology(
        &self,
        remedy: Remedy,
        what_went_wrong: String,
        decision: OperatorDecision,
        now: DateTime<Utc>,
    ) -> Revision {
        self.update(EventType::ApologySent, now).because(StatusReason::Apologised { decision, remedy, what_went_wrong })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apology_keeps_the_status_and_says_what_went_wrong_and_what_was_done() {
        let order = crate::domain::order::tests::sample_order();
        let decision = OperatorDecision { by: crate::domain::tests::acting(), note: None };
        let change = order.apology(Remedy::ExpeditedShipment, "It was packed late.".to_owned(), decision, Utc::now());
        let apologised = order.clone().with_change(&change);
        assert_eq!((apologised.status(), apologised.last_event()), (order.status(), EventType::ApologySent));
        assert!(matches!(
            apologised.status_reason,
            Some(StatusReason::Apologised { remedy: Remedy::ExpeditedShipment, ref what_went_wrong, .. })
                if what_went_wrong == "It was packed late."
        ));
        for remedy in Remedy::ALL {
            assert_eq!(Remedy::parse(remedy.as_str()), Some(remedy));
        }
        assert_eq!(Remedy::parse("free_gift"), None);
    }
}
