//! What the payment provider tells us of its own accord: a card holder's dispute (a chargeback)
//! opened, moving and closed; an authorisation that ended at the provider (it expired, or was
//! cancelled there); a refund that failed. Each is recorded on the order as a status-keeping
//! change, so the order says it, the operators are alerted, and a capture or a refund that would
//! fail later is known now.

use chrono::{DateTime, Utc};

use super::{
    event::EventType,
    ids::{AuthorizationId, DisputeId, OrderId, ProviderEventId, RefundId},
    money::Money,
    order::{Order, Revision, StatusReason},
    status::OrderStatus,
};

/// One provider event, in our words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProviderEvent {
    pub id: ProviderEventId,
    /// When the provider created the event: a later event about the same thing wins.
    pub at: DateTime<Utc>,
    /// The authorisation (PaymentIntent) it concerns.
    pub authorization: AuthorizationId,
    /// The order, where the provider's object names it (our metadata on the authorisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderId>,
    pub news: ProviderNews,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderNews {
    Dispute(Dispute),
    /// The authorisation ended without a capture: `reason` as the provider gives it
    /// (`automatic` when it expired, `fraudulent`, `requested_by_customer`, …).
    AuthorizationEnded {
        reason: String,
    },
    /// A refund the provider had accepted could not be paid out (the card was closed, say).
    RefundFailed {
        refund: RefundId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// A chargeback as it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dispute {
    pub id: DisputeId,
    pub amount: Money,
    /// The provider's reason code: `fraudulent`, `product_not_received`, …
    pub reason: String,
    pub status: DisputeStatus,
    /// When the evidence must be in, while a response is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_due_by: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    /// The provider's time of the event that told us this.
    pub as_of: DateTime<Utc>,
}

/// Stripe's dispute statuses; an inquiry (`warning_…`) may become a chargeback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    WarningNeedsResponse,
    WarningUnderReview,
    WarningClosed,
    NeedsResponse,
    UnderReview,
    Won,
    Lost,
}

impl DisputeStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WarningNeedsResponse => "warning_needs_response",
            Self::WarningUnderReview => "warning_under_review",
            Self::WarningClosed => "warning_closed",
            Self::NeedsResponse => "needs_response",
            Self::UnderReview => "under_review",
            Self::Won => "won",
            Self::Lost => "lost",
        }
    }

    /// Evidence is due from us.
    pub fn needs_response(self) -> bool {
        matches!(self, Self::WarningNeedsResponse | Self::NeedsResponse)
    }
}

/// Why provider news cannot be recorded on the order it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewsRefusal {
    /// The order's authorisation is another one: the news is not about this order.
    #[error("the order's payment is not {0}")]
    NotThisOrdersPayment(AuthorizationId),
    #[error("the order has no refund {0}")]
    UnknownRefund(RefundId),
}

impl Order {
    /// The change that records what the provider said; `None` if the order knows it already
    /// (a redelivery, an older event after a newer one) or it asks nothing of the order (the
    /// end of an authorisation we voided ourselves, or one captured before it ended).
    pub(crate) fn provider_news(
        &self,
        event: &ProviderEvent,
        now: DateTime<Utc>,
    ) -> Result<Option<Revision>, NewsRefusal> {
        if self.payment.authorization.as_ref().map(|authorization| &authorization.id) != Some(&event.authorization) {
            return Err(NewsRefusal::NotThisOrdersPayment(event.authorization.clone()));
        }
        let mut payment = self.payment.clone();
        let (event_type, reason) = match &event.news {
            ProviderNews::Dispute(dispute) => {
                match payment.disputes.iter_mut().find(|known| known.id == dispute.id) {
                    Some(known) if known.as_of >= dispute.as_of => return Ok(None),
                    Some(known) => *known = dispute.clone(),
                    None => payment.disputes.push(dispute.clone()),
                }
                (EventType::DisputeUpdated, StatusReason::Disputed { dispute: dispute.clone() })
            }
            ProviderNews::AuthorizationEnded { reason } => {
                use OrderStatus::*;
                let over = matches!(self.status(), Rejected | PaymentFailed | Cancelled);
                if over || payment.captured.is_some() || payment.authorization_ended.is_some() {
                    return Ok(None);
                }
                payment.authorization_ended = Some(reason.clone());
                (EventType::AuthorizationEnded, StatusReason::AuthorizationEnded { reason: reason.clone() })
            }
            ProviderNews::RefundFailed { refund, reason } => {
                let known = payment
                    .refunds
                    .iter_mut()
                    .find(|known| &known.id == refund)
                    .ok_or_else(|| NewsRefusal::UnknownRefund(refund.clone()))?;
                if known.failed.is_some() {
                    return Ok(None);
                }
                known.failed = Some(reason.clone().unwrap_or_else(|| "failed".to_owned()));
                let amount = known.amount;
                (EventType::RefundFailed, StatusReason::RefundFailed { refund: refund.clone(), amount })
            }
        };
        Ok(Some(self.update(event_type, now).because(reason).with_payment(payment)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Authorization, Currency, Refund};

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    fn at(hour: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-30T{hour:02}:00:00Z")).unwrap().to_utc()
    }

    /// Authorised for 46.34 and, unless `captured` is false, captured.
    fn order_at(statuses: &[OrderStatus], captured: bool) -> Order {
        let mut order = crate::domain::returns::tests::walked(statuses);
        order.payment.authorization =
            Some(Authorization { id: "pi_1".parse().unwrap(), amount: eur(4_634), authorized_at: None });
        order.payment.captured = captured.then(|| eur(4_634));
        order
    }

    fn captured_order() -> Order {
        use OrderStatus::*;
        order_at(&[Reserved, PaymentAuthorized, Fulfilling, Shipped], true)
    }

    fn event(news: ProviderNews, hour: u32) -> ProviderEvent {
        ProviderEvent {
            id: format!("evt_{hour}").parse().unwrap(),
            at: at(hour),
            authorization: "pi_1".parse().unwrap(),
            order: None,
            news,
        }
    }

    fn dispute(status: DisputeStatus, hour: u32) -> ProviderNews {
        ProviderNews::Dispute(Dispute {
            id: "dp_1".parse().unwrap(),
            amount: eur(4_634),
            reason: "fraudulent".to_owned(),
            status,
            evidence_due_by: status.needs_response().then(|| at(23)),
            opened_at: at(1),
            as_of: at(hour),
        })
    }

    fn apply(order: &Order, event: &ProviderEvent) -> Option<Order> {
        order.provider_news(event, at(12)).unwrap().map(|change| order.clone().with_change(&change))
    }

    #[test]
    fn a_dispute_is_recorded_updated_and_closed_and_a_lost_one_is_money_returned() {
        let order = captured_order();
        let opened = apply(&order, &event(dispute(DisputeStatus::NeedsResponse, 1), 1)).unwrap();
        assert_eq!((opened.status(), opened.last_event()), (order.status(), EventType::DisputeUpdated));
        assert_eq!(opened.payment.disputes[0].status, DisputeStatus::NeedsResponse);
        assert_eq!(opened.refundable().unwrap(), eur(4_634), "an open dispute has returned nothing yet");
        // The same event again, or an older one after a newer: nothing to record.
        assert!(apply(&opened, &event(dispute(DisputeStatus::NeedsResponse, 1), 1)).is_none());
        let lost = apply(&opened, &event(dispute(DisputeStatus::Lost, 5), 5)).unwrap();
        assert!(apply(&lost, &event(dispute(DisputeStatus::UnderReview, 3), 3)).is_none());
        assert_eq!(lost.payment.disputes.len(), 1);
        assert_eq!(lost.payment.disputes[0].status, DisputeStatus::Lost);
        assert_eq!(lost.refundable().unwrap(), eur(0), "the bank took the money back");
    }

    #[test]
    fn an_ended_authorisation_is_news_only_for_an_order_still_waiting_to_capture_it() {
        use OrderStatus::*;
        let waiting = order_at(&[Reserved, PaymentAuthorized, Fulfilling], false);
        let ended = ProviderNews::AuthorizationEnded { reason: "automatic".to_owned() };
        let recorded = apply(&waiting, &event(ended.clone(), 2)).unwrap();
        assert_eq!(recorded.last_event(), EventType::AuthorizationEnded);
        assert_eq!(recorded.payment.authorization_ended.as_deref(), Some("automatic"));
        assert!(apply(&recorded, &event(ended.clone(), 2)).is_none(), "recorded once");
        assert!(apply(&captured_order(), &event(ended.clone(), 2)).is_none(), "captured before it ended");
        let voided = order_at(&[Reserved, PaymentAuthorized, Cancelled], false);
        assert!(apply(&voided, &event(ended, 2)).is_none(), "we cancelled it ourselves");
    }

    #[test]
    fn a_failed_refund_is_marked_and_counts_as_not_returned() {
        let mut order = captured_order();
        order.payment.refunds.push(Refund { id: "re_1".parse().unwrap(), amount: eur(1_000), failed: None });
        assert_eq!(order.refundable().unwrap(), eur(3_634));
        let failed = ProviderNews::RefundFailed {
            refund: "re_1".parse().unwrap(),
            reason: Some("expired_or_canceled_card".into()),
        };
        let recorded = apply(&order, &event(failed.clone(), 2)).unwrap();
        assert_eq!(recorded.last_event(), EventType::RefundFailed);
        assert_eq!(recorded.payment.refunds[0].failed.as_deref(), Some("expired_or_canceled_card"));
        assert_eq!(recorded.refundable().unwrap(), eur(4_634), "the money is still ours to return");
        assert!(apply(&recorded, &event(failed, 2)).is_none());
        let unknown = ProviderNews::RefundFailed { refund: "re_9".parse().unwrap(), reason: None };
        assert_eq!(
            order.provider_news(&event(unknown, 2), at(12)).unwrap_err(),
            NewsRefusal::UnknownRefund("re_9".parse().unwrap())
        );
    }

    #[test]
    fn news_about_another_payment_is_refused() {
        let mut other = event(dispute(DisputeStatus::NeedsResponse, 1), 1);
        other.authorization = "pi_2".parse().unwrap();
        assert!(matches!(captured_order().provider_news(&other, at(12)), Err(NewsRefusal::NotThisOrdersPayment(_))));
    }
}
