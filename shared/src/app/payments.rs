//! The payment use cases: screen and authorise a reserved order, let an operator decide a held
//! one, and capture, void or refund as the order moves on. The provider sits behind the
//! domain's `PaymentGateway`; `crate::adapters::stripe` is one.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{Retries, Subscription};
use crate::domain::{
    Authorization, Capture, CustomerHistory, EventType, FraudDecision, FraudPolicy, FraudSignals, GatewayError,
    IllegalTransition, NewsRefusal, OperatorDecision, Order, OrderId, OrderRecord, OrderRepository, OrderStatus,
    PaymentGateway, ProviderEvent, RecentOrder, Revision, StatusReason, StoreError,
};

/// What an order event asks of the payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentWork {
    /// Screen the reserved order and authorise its total.
    Authorize,
    /// Capture what was authorised, once the order has shipped.
    Capture,
    /// Release the hold, or refund what was captured, of a cancelled order.
    Release,
    /// Refund what the returned goods are worth.
    RefundReturn,
}

/// The order events payment acts on.
pub const SUBSCRIPTION: Subscription<PaymentWork> = Subscription::new(&[
    (EventType::Reached(OrderStatus::Reserved), PaymentWork::Authorize),
    (EventType::Reached(OrderStatus::Shipped), PaymentWork::Capture),
    (EventType::Reached(OrderStatus::Cancelled), PaymentWork::Release),
    (EventType::Reached(OrderStatus::Returned), PaymentWork::RefundReturn),
]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    Authorized,
    OnHold,
    Failed,
    Captured,
    Voided,
    Refunded,
    /// The provider's news is recorded on the order.
    Recorded,
    /// A redelivery, or the order moved on: nothing was done.
    AlreadyHandled,
    /// The event asks nothing of payments for this order (no authorisation to void, say).
    NothingToDo,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The provider's news names an order that does not take it: parked for an operator.
    #[error(transparent)]
    News(#[from] NewsRefusal),
    #[error("the provider's event names no order of ours (authorisation {0})")]
    UnknownOrder(crate::domain::AuthorizationId),
}

/// An operator's verdict on a held order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such order")]
    NotFound,
    #[error("the order is {0}, not ON_HOLD")]
    NotOnHold(OrderStatus),
    /// Someone else decided, or the order changed, between our read and our write.
    #[error("the order changed during the review")]
    Conflict,
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

#[derive(Debug, Clone)]
pub struct Payments<G, R> {
    gateway: G,
    orders: R,
    policy: FraudPolicy,
}

impl<G, R> Payments<G, R>
where
    G: PaymentGateway + Sync,
    R: OrderRepository + Sync,
{
    pub fn new(gateway: G, orders: R, policy: FraudPolicy) -> Self {
        Self { gateway, orders, policy }
    }

    /// `order.reserved`: screen for fraud, then authorise the total. Acts only while the order is
    /// still at the event's version, so a redelivery calls the provider at most once more, and
    /// then with the same idempotency key.
    pub async fn on_reserved(&self, event: &Order, now: DateTime<Utc>) -> Result<PaymentOutcome, PaymentError> {
        let Some(order) = self.current(event, OrderStatus::Reserved).await? else {
            return Ok(PaymentOutcome::AlreadyHandled);
        };
        let card = match self.gateway.card_checks(&order.payment.method).await {
            Ok(card) => card,
            Err(GatewayError::UnusableMethod(_)) => {
                let change =
                    transition(&order, OrderStatus::PaymentFailed, now)?.because(StatusReason::PaymentMethodUnusable);
                return self.write((change, PaymentOutcome::Failed)).await;
            }
            Err(error) => return Err(error.into()),
        };
        let recent = self.orders.customer_orders(&order).await?;
        let mut payment = order.payment.clone();
        payment.card_fingerprint = card.fingerprint.clone();
        let since = now - self.policy.velocity_window();
        let history = customer_history(&order, card_identity(&order, card.fingerprint.as_deref()), &recent, since);
        let assessment = self.policy.assess(&FraudSignals { order: &order, card: &card, history });
        let decided = match self.policy.decide(&assessment) {
            FraudDecision::Block => (
                transition(&order, OrderStatus::PaymentFailed, now)?
                    .because(StatusReason::FraudBlocked { assessment })
                    .with_payment(payment),
                PaymentOutcome::Failed,
            ),
            FraudDecision::Review => (
                transition(&order, OrderStatus::OnHold, now)?
                    .because(StatusReason::FraudReview { assessment })
                    .with_payment(payment),
                PaymentOutcome::OnHold,
            ),
            FraudDecision::Accept => {
                let mut order = order;
                order.payment = payment;
                self.authorization(&order, &order.event_id().to_string(), None, now).await?
            }
        };
        self.write(decided).await
    }

    /// An operator's decision on a held order: approve authorises the payment (and may still
    /// fail on a decline), deny cancels the order (and `inventory` releases its stock). Returns
    /// the order and its timeline as they stand after the decision, from the one read it makes.
    pub async fn review(
        &self,
        id: &OrderId,
        verdict: Verdict,
        decision: OperatorDecision,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, ReviewError> {
        let OrderRecord { order, mut timeline } =
            self.orders.get(id).await.map_err(PaymentError::from)?.ok_or(ReviewError::NotFound)?;
        if order.status() != OrderStatus::OnHold {
            return Err(ReviewError::NotOnHold(order.status()));
        }
        let change = match verdict {
            Verdict::Approve => {
                let key = format!("{}:approve", order.event_id());
                self.authorization(&order, &key, Some(decision), now).await?.0
            }
            Verdict::Deny => transition(&order, OrderStatus::Cancelled, now)
                .map_err(PaymentError::from)?
                .because(StatusReason::ReviewDenied { decision }),
        };
        match self.orders.apply(&change).await {
            Ok(()) => {
                timeline.push(change.timeline_entry());
                Ok(OrderRecord { order: order.with_change(&change), timeline })
            }
            Err(StoreError::Conflict) => {
                self.release_unrecorded(&change).await?;
                Err(ReviewError::Conflict)
            }
            Err(error) => Err(PaymentError::from(error).into()),
        }
    }

    /// The provider's own news (a dispute, an ended authorisation, a failed refund), recorded on
    /// its order once: a redelivery or an older event finds it recorded. Another writer may move
    /// the order between our read and our write: read again and record on top.
    pub async fn on_provider_event(
        &self,
        event: &ProviderEvent,
        now: DateTime<Utc>,
    ) -> Result<PaymentOutcome, PaymentError> {
        let order_id = match &event.order {
            Some(order) => order.clone(),
            None => self
                .gateway
                .order_of(&event.authorization)
                .await?
                .ok_or_else(|| PaymentError::UnknownOrder(event.authorization.clone()))?,
        };
        let mut retries = Retries::for_order(&order_id);
        while retries.another().await {
            let order = self
                .orders
                .head(&order_id)
                .await?
                .ok_or_else(|| PaymentError::UnknownOrder(event.authorization.clone()))?;
            let Some(change) = order.provider_news(event, now)? else {
                return Ok(PaymentOutcome::AlreadyHandled);
            };
            match self.orders.apply(&change).await {
                Ok(()) => return Ok(PaymentOutcome::Recorded),
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// `order.shipped`: capture what was authorised.
    pub async fn on_shipped(&self, event: &Order) -> Result<PaymentOutcome, PaymentError> {
        let Some(order) = self.orders.head(&event.id).await? else {
            return Ok(PaymentOutcome::NothingToDo);
        };
        let (authorization, amount) = match order.payment.capture_due(order.totals.total) {
            Capture::Due { authorization, amount } => (authorization, amount),
            Capture::NothingHeld => return Ok(PaymentOutcome::NothingToDo),
            Capture::Done => return Ok(PaymentOutcome::AlreadyHandled),
        };
        let captured = self.gateway.capture(authorization, amount, &event.event_id().to_string()).await?;
        self.orders.record_capture(&order.id, captured).await?;
        Ok(PaymentOutcome::Captured)
    }

    /// `order.cancelled`: release the hold on the customer's funds, if there is one, or refund
    /// what was captured. The key is the event's, so a redelivery does it once.
    pub async fn on_cancelled(&self, event: &Order) -> Result<PaymentOutcome, PaymentError> {
        let Some(authorization) = &event.payment.authorization else {
            return Ok(PaymentOutcome::NothingToDo);
        };
        let key = event.event_id().to_string();
        match event.refundable() {
            Ok(due) if due.minor_units() > 0 => {
                self.gateway.refund(authorization, due, &key).await?;
                Ok(PaymentOutcome::Refunded)
            }
            Ok(_) => Ok(PaymentOutcome::NothingToDo),
            Err(_) => {
                self.gateway.void(authorization, &key).await?;
                Ok(PaymentOutcome::Voided)
            }
        }
    }

    /// `order.returned`: refund what the returned goods are worth (never more than is left of
    /// the capture) → REFUNDED.
    pub async fn on_returned(&self, event: &Order, now: DateTime<Utc>) -> Result<PaymentOutcome, PaymentError> {
        let Some(order) = self.current(event, OrderStatus::Returned).await? else {
            return Ok(PaymentOutcome::AlreadyHandled);
        };
        let (Some(authorization), Ok(due)) = (&order.payment.authorization, order.return_refund_due()) else {
            return Ok(PaymentOutcome::NothingToDo);
        };
        let mut payment = order.payment.clone();
        if due.minor_units() > 0 {
            payment.refunds.push(self.gateway.refund(authorization, due, &order.event_id().to_string()).await?);
        }
        self.write((transition(&order, OrderStatus::Refunded, now)?.with_payment(payment), PaymentOutcome::Refunded))
            .await
    }

    /// The head, if it is still at the event's version and the expected status.
    async fn current(&self, event: &Order, expected: OrderStatus) -> Result<Option<Order>, StoreError> {
        let head = self.orders.head(&event.id).await?;
        Ok(head.filter(|order| order.version() == event.version() && order.status() == expected))
    }

    /// Authorises the order's total: PAYMENT_AUTHORIZED with the hold recorded, or
    /// PAYMENT_FAILED saying why, with the outcome each is. A hold for another amount than the
    /// total is released at once.
    async fn authorization(
        &self,
        order: &Order,
        key: &str,
        approved: Option<OperatorDecision>,
        now: DateTime<Utc>,
    ) -> Result<(Revision, PaymentOutcome), PaymentError> {
        let total = order.totals.total;
        let failed = |reason| {
            let change = transition(order, OrderStatus::PaymentFailed, now)?;
            Ok((change.because(reason).with_payment(order.payment.clone()), PaymentOutcome::Failed))
        };
        match self.gateway.authorize(&order.id, &order.payment.method, total, key).await {
            Ok(authorization) if authorization.amount == total => {
                let mut payment = order.payment.clone();
                payment.authorization = Some(Authorization { authorized_at: Some(now), ..authorization });
                let change = transition(order, OrderStatus::PaymentAuthorized, now)?.with_payment(payment);
                let change = match approved {
                    Some(decision) => change.because(StatusReason::ReviewApproved { decision }),
                    None => change,
                };
                Ok((change, PaymentOutcome::Authorized))
            }
            Ok(authorization) => {
                self.gateway.void(&authorization, &format!("{key}:void")).await?;
                failed(StatusReason::AuthorizedAmountMismatch { expected: total, authorized: authorization.amount })
            }
            Err(GatewayError::Declined(decline)) => failed(StatusReason::PaymentDeclined { decline }),
            Err(GatewayError::UnusableMethod(_)) => failed(StatusReason::PaymentMethodUnusable),
            Err(error) => Err(error.into()),
        }
    }

    /// Writes the change; `done` if it was written.
    async fn write(&self, (change, done): (Revision, PaymentOutcome)) -> Result<PaymentOutcome, PaymentError> {
        match self.orders.apply(&change).await {
            Ok(()) => Ok(done),
            Err(StoreError::Conflict) => {
                self.release_unrecorded(&change).await?;
                Ok(PaymentOutcome::AlreadyHandled)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A hold made for a change that lost its race (the order was cancelled or amended while
    /// the provider answered) is recorded nowhere: release it, unless the winner recorded it
    /// (a redelivery of the same authorisation).
    async fn release_unrecorded(&self, change: &Revision) -> Result<(), PaymentError> {
        let Some(authorization) = change.payment.as_ref().and_then(|payment| payment.authorization.as_ref()) else {
            return Ok(());
        };
        let recorded = self.orders.head(&change.order_id).await?.and_then(|order| order.payment.authorization);
        if recorded.as_ref().is_some_and(|recorded| recorded.id == authorization.id) {
            return Ok(());
        }
        self.gateway.void(authorization, &format!("{}:{}:unrecorded", change.order_id, authorization.id)).await?;
        Ok(())
    }
}

fn transition(order: &Order, to: OrderStatus, now: DateTime<Utc>) -> Result<Revision, StoreError> {
    // Callers check the status first; an illegal move here means the stored order is inconsistent.
    order.transition(to, now).map_err(|illegal: IllegalTransition| StoreError::Malformed(Box::new(illegal)))
}

fn card_identity(order: &Order, fingerprint: Option<&str>) -> String {
    fingerprint.map_or_else(|| order.payment.method.to_string(), str::to_owned)
}

/// The customer's orders and distinct cards since `since` (the velocity window), counting this
/// order once whether or not the (eventually consistent) index shows it yet, and the record of
/// their other orders.
fn customer_history(order: &Order, card: String, orders: &[RecentOrder], since: DateTime<Utc>) -> CustomerHistory {
    let others = orders.iter().filter(|recent| recent.id != order.id);
    let recent = others.clone().filter(|recent| recent.created_at >= since);
    let mut cards: BTreeSet<&str> = recent.clone().map(|recent| recent.card.as_str()).collect();
    cards.insert(&card);
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    CustomerHistory {
        orders: count(recent.count() + 1),
        distinct_cards: count(cards.len()),
        settled_orders: count(others.clone().filter(|other| other.settled).count()),
        lost_disputes: count(others.filter(|other| other.lost_dispute).count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderId;

    #[test]
    fn history_counts_this_order_once_each_card_once_and_the_record_of_the_others() {
        let order = crate::domain::tests::sample_order();
        let now = order.created_at;
        let since = now - chrono::Duration::hours(1);
        let other = |card: &str, hours_ago: i64, settled: bool| RecentOrder {
            id: OrderId::random().unwrap(),
            card: card.to_owned(),
            created_at: now - chrono::Duration::hours(hours_ago),
            settled,
            lost_dispute: false,
        };
        let this = RecentOrder { id: order.id.clone(), ..other("pm_card_visa", 0, false) };
        let orders =
            [this, other("fp1", 0, false), other("fp1", 0, false), other("fp2", 0, false), other("fp3", 48, true)];
        let history = customer_history(&order, "fp1".to_owned(), &orders, since);
        assert_eq!(history, CustomerHistory { orders: 4, distinct_cards: 2, settled_orders: 1, lost_disputes: 0 });
        let alone = customer_history(&order, "fp9".to_owned(), &[], since);
        assert_eq!(alone, CustomerHistory { orders: 1, distinct_cards: 1, ..CustomerHistory::default() });
    }
}
