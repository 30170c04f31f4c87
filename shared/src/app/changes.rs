//! The use cases of changing an order after it was placed: a storefront cancels, amends or
//! returns it for its customer; an operator cancels it or refunds some goodwill. Each reads the
//! order, asks the domain what the change is, settles stock and money, and writes the change
//! conditionally, so a lost race is re-read or refused, never half done.

use chrono::{DateTime, Utc};

use super::Retries;
use crate::domain::{
    Address, AdjustmentPlan, AmendRefusal, Amendment, CancelRefusal, Catalog, Decline, GatewayError, MAX_WRITE_ITEMS,
    Money, OperatorDecision, Order, OrderId, OrderRecord, OrderRepository, OrderStatus, PricedOrder, PricingError,
    PricingPolicy, RefundRefusal, RequestedLine, Requester, ReserveError, ReturnLine, ReturnPolicy, ReturnRefusal,
    Revision, STOCK_WRITE_OVERHEAD, ShippingOption, ShippingPolicy, ShippingRefusal, Shortage, StockAdjustment,
    StockLedger, StoreError, StorefrontId, TimelineEntry, plan_adjustment,
};

/// An amendment writes one item per stock counter beside the order, in one write.
pub(crate) const MAX_COUNTER_WRITES: usize = MAX_WRITE_ITEMS - STOCK_WRITE_OVERHEAD;

/// What a storefront asks to change; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderEdit {
    /// The order's lines as they should be: every line, not a difference.
    pub lines: Option<Vec<RequestedLine>>,
    pub shipping_address: Option<Address>,
    pub shipping_option: Option<ShippingOption>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no such order")]
    NotFound,
    /// The caller's `If-Match` names another version than the order's.
    #[error("the order is at version {current}")]
    VersionMismatch { current: u64 },
    #[error(transparent)]
    Cancel(#[from] CancelRefusal),
    #[error(transparent)]
    Amend(#[from] AmendRefusal),
    #[error(transparent)]
    Return(#[from] ReturnRefusal),
    #[error(transparent)]
    Refund(#[from] RefundRefusal),
    #[error(transparent)]
    Shipping(#[from] ShippingRefusal),
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error("not enough stock")]
    OutOfStock(Vec<Shortage>),
    #[error("the change writes {0} stock counters, more than one transaction holds")]
    TooManyChanges(usize),
    #[error("the payment for the new total was declined")]
    PaymentDeclined(Decline),
    #[error("the payment method cannot pay the new total")]
    PaymentMethodUnusable,
    /// Others kept changing the order or its stock; worth a retry.
    #[error("the order kept changing")]
    Busy,
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct OrderChanges<S, G> {
    store: S,
    gateway: G,
}

impl<S, G> OrderChanges<S, G>
where
    S: OrderRepository + StockLedger + Catalog + Sync,
    G: crate::domain::PaymentGateway + Sync,
{
    pub fn new(store: S, gateway: G) -> Self {
        Self { store, gateway }
    }

    /// Cancels the order. Cancelling a cancelled order answers it as it is and changes nothing,
    /// so a retried request releases and voids once.
    pub async fn cancel(
        &self,
        id: &OrderId,
        scope: Option<&StorefrontId>,
        requested_by: Requester,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, ChangeError> {
        let mut retries = Retries::for_order(id);
        while retries.another().await {
            let OrderRecord { order, timeline } = self.read(id, scope).await?;
            let change = match order.cancel(requested_by.clone(), note.clone(), now) {
                Ok(change) => change,
                Err(CancelRefusal::AlreadyCancelled) => return Ok(OrderRecord { order, timeline }),
                Err(refusal) => return Err(refusal.into()),
            };
            // Payment or inventory moved the order meanwhile: read it again.
            if let Some(changed) = self.write(order, timeline, &change).await? {
                return Ok(changed);
            }
        }
        Err(ChangeError::Busy)
    }

    /// Amends a held or authorised order at version `if_match`: re-priced, re-checked for
    /// delivery, only the stock difference moved, and the payment re-authorised when the total
    /// grows, all or nothing.
    #[allow(clippy::too_many_arguments)]
    pub async fn amend(
        &self,
        id: &OrderId,
        scope: &StorefrontId,
        requester: Requester,
        if_match: u64,
        edit: OrderEdit,
        pricing: &PricingPolicy,
        shipping: &ShippingPolicy,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, ChangeError> {
        let OrderRecord { order, timeline } = self.read_at(id, Some(scope), if_match).await?;
        order.check_amendable()?;
        let amendment = self.reprice(&order, edit, pricing, shipping, now).await?;
        if amendment.changes_nothing(&order) {
            return Ok(OrderRecord { order, timeline });
        }
        let mut change = order.amend(amendment, now)?;
        change.by = Some(requester);
        // Short stock is refused before the provider is asked for a bigger hold.
        let plan = self.plan_stock(&order, &change).await?;
        let (change, old_hold) = self.reauthorize(&order, change).await?;
        let new_hold = old_hold.as_ref().and(change.payment.as_ref()).and_then(|payment| payment.authorization.clone());
        let written = self.adjust_stock(&order, &change, plan).await;
        // Written, the old hold gives way to the new one; refused, the new one goes, unless
        // an identical amendment that won the race recorded that very hold.
        let unused = match &written {
            Ok(()) => old_hold,
            Err(_) => match (new_hold, self.store.head(&order.id).await?) {
                (Some(hold), Some(current))
                    if current.payment.authorization.as_ref().is_some_and(|recorded| recorded.id == hold.id) =>
                {
                    None
                }
                (hold, _) => hold,
            },
        };
        if let Some(authorization) = unused {
            let key = format!("{}:amend:release:{}", order.event_id(), authorization.id);
            if let Err(error) = self.gateway.void(&authorization, &key).await {
                // The provider lets an unused hold lapse on its own within days.
                tracing::warn!(error = %error, "a replaced authorisation was not voided");
            }
        }
        written?;
        let mut timeline = timeline;
        timeline.push(change.timeline_entry());
        Ok(OrderRecord { order: order.with_change(&change), timeline })
    }

    /// Opens a return of `lines` on a delivered order, within the policy's window.
    pub async fn request_return(
        &self,
        id: &OrderId,
        scope: &StorefrontId,
        lines: Vec<ReturnLine>,
        reason: Option<String>,
        policy: &ReturnPolicy,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, ChangeError> {
        let mut retries = Retries::for_order(id);
        while retries.another().await {
            let OrderRecord { order, timeline } = self.read(id, Some(scope)).await?;
            let change = order.request_return(lines.clone(), reason.clone(), policy, now)?;
            if let Some(changed) = self.write(order, timeline, &change).await? {
                return Ok(changed);
            }
        }
        Err(ChangeError::Busy)
    }

    /// Refunds `amount` (minor units of the order's currency) as goodwill on an order at
    /// version `if_match`. The provider's
    /// idempotency key is that version's, so a retry after a crash refunds once, and a retry
    /// after success is told the version moved on.
    pub async fn goodwill_refund(
        &self,
        id: &OrderId,
        if_match: u64,
        amount: i64,
        decision: OperatorDecision,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, ChangeError> {
        let OrderRecord { order, timeline } = self.read_at(id, None, if_match).await?;
        let amount = order.check_refund(Money::new(amount, order.currency))?;
        let authorization = order.payment.authorization.as_ref().ok_or(RefundRefusal::NothingCaptured)?;
        let refund = self.gateway.refund(authorization, amount, &format!("{}:goodwill", order.event_id())).await?;
        let (mut order, mut timeline) = (order, timeline);
        let mut retries = Retries::for_order(id);
        while retries.another().await {
            let change = order.goodwill_refund(refund.clone(), decision.clone(), now);
            if let Some(changed) = self.write(order, timeline, &change).await? {
                return Ok(changed);
            }
            // Another change won the race (a carrier scan, say): record the refund on top of it.
            OrderRecord { order, timeline } = self.read(id, None).await?;
            if order.payment.refunds.iter().any(|recorded| recorded.id == refund.id) {
                return Ok(OrderRecord { order, timeline });
            }
        }
        Err(ChangeError::Busy)
    }

    /// An operator's apology on the order at the version its `If-Match` names: recorded once (a
    /// retried request finds the order moved on), for the notifier to tell the customer.
    pub async fn apologise(
        &self,
        id: &OrderId,
        if_match: u64,
        remedy: crate::domain::Remedy,
        what_went_wrong: String,
        decision: OperatorDecision,
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, ChangeError> {
        let OrderRecord { order, timeline } = self.read_at(id, None, if_match).await?;
        let change = order.apology(remedy, what_went_wrong, decision, now);
        match self.write(order, timeline, &change).await? {
            Some(changed) => Ok(changed),
            None => Err(self.moved(id).await),
        }
    }

    /// The refusal for a caller whose version was overtaken.
    async fn moved(&self, id: &OrderId) -> ChangeError {
        match self.store.head(id).await {
            Ok(Some(order)) => ChangeError::VersionMismatch { current: order.version() },
            Ok(None) => ChangeError::NotFound,
            Err(error) => error.into(),
        }
    }

    /// The order as the caller's `If-Match` names it, or why not: another version is refused.
    async fn read_at(
        &self,
        id: &OrderId,
        scope: Option<&StorefrontId>,
        if_match: u64,
    ) -> Result<OrderRecord, ChangeError> {
        let record = self.read(id, scope).await?;
        match record.order.version() {
            current if current == if_match => Ok(record),
            current => Err(ChangeError::VersionMismatch { current }),
        }
    }

    async fn read(&self, id: &OrderId, scope: Option<&StorefrontId>) -> Result<OrderRecord, ChangeError> {
        self.store
            .get(id)
            .await?
            .filter(|record| scope.is_none_or(|storefront| &record.order.storefront == storefront))
            .ok_or(ChangeError::NotFound)
    }

    /// Writes the change; `None` if the order moved meanwhile.
    async fn write(
        &self,
        order: Order,
        mut timeline: Vec<TimelineEntry>,
        change: &Revision,
    ) -> Result<Option<OrderRecord>, ChangeError> {
        match self.store.apply(change).await {
            Ok(()) => {
                timeline.push(change.timeline_entry());
                Ok(Some(OrderRecord { order: order.with_change(change), timeline }))
            }
            Err(StoreError::Conflict) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The order's new lines, money and delivery: the edit over what the order has, priced
    /// from the catalog and checked against the shipping policy. The delivery promise stays
    /// unless the destination's country or the option changed.
    async fn reprice(
        &self,
        order: &Order,
        edit: OrderEdit,
        pricing: &PricingPolicy,
        shipping: &ShippingPolicy,
        now: DateTime<Utc>,
    ) -> Result<Amendment, ChangeError> {
        let requested = edit.lines.unwrap_or_else(|| {
            order.lines.iter().map(|line| RequestedLine { sku: line.sku.clone(), quantity: line.quantity }).collect()
        });
        let option = edit.shipping_option.unwrap_or(order.shipping_option);
        let address = edit.shipping_address.unwrap_or_else(|| order.shipping_address.clone());
        let address = shipping.check(&address, option, &requested)?;
        let skus: Vec<_> = requested.iter().map(|line| line.sku.clone()).collect();
        let catalog = self.store.items(&skus).await?;
        let PricedOrder { lines, totals, quote, .. } =
            shipping.price_order(pricing, &requested, &catalog, order.currency, option, &address.country, now)?;
        // The delivery promise stands unless the parcel goes elsewhere or another way.
        let quote = if option == order.shipping_option && address.country == order.shipping_address.country {
            order.shipping_quote.clone()
        } else {
            quote
        };
        Ok(Amendment { lines, totals, shipping_address: address, shipping_option: option, shipping_quote: quote })
    }

    /// An authorised order whose total grows needs a hold for the new total: the change then
    /// carries it, and the old hold is returned to be voided once the change is written.
    async fn reauthorize(
        &self,
        order: &Order,
        change: Revision,
    ) -> Result<(Revision, Option<crate::domain::Authorization>), ChangeError> {
        let Some(amendment) = &change.amendment else { return Ok((change, None)) };
        let Some(held) = order.payment.authorization.clone() else { return Ok((change, None)) };
        let total = amendment.totals.total;
        if order.status() != OrderStatus::PaymentAuthorized || total.minor_units() <= held.amount.minor_units() {
            // Capture takes the (smaller) total from the hold that is there.
            return Ok((change, None));
        }
        // Two amendments of one version to different totals are two holds; to the same total, one.
        let key = format!("{}:amend:{}", order.event_id(), total.minor_units());
        match self.gateway.authorize(&order.id, &order.payment.method, total, &key).await {
            Ok(authorization) if authorization.amount == total => {
                let mut payment = order.payment.clone();
                // The order was confirmed when it was first authorised.
                payment.authorization =
                    Some(crate::domain::Authorization { authorized_at: held.authorized_at, ..authorization });
                Ok((change.with_payment(payment), Some(held)))
            }
            Ok(authorization) => {
                self.gateway.void(&authorization, &format!("{key}:void")).await?;
                Err(ChangeError::PaymentMethodUnusable)
            }
            Err(GatewayError::Declined(decline)) => Err(ChangeError::PaymentDeclined(decline.for_payer())),
            Err(GatewayError::UnusableMethod(_)) => Err(ChangeError::PaymentMethodUnusable),
            Err(error) => Err(error.into()),
        }
    }

    /// How the order's reservation would move to the amendment's lines, as the stock stands:
    /// what to take, what to give back, and what the order then holds.
    async fn plan_stock(&self, order: &Order, change: &Revision) -> Result<StockAdjustment, ChangeError> {
        let Some(amendment) = &change.amendment else { return Err(ChangeError::Busy) };
        let Some(held) = self.store.reservation(&order.id).await? else {
            // Released: the order was cancelled or failed since it was read.
            return Err(self.moved(&order.id).await);
        };
        let mut skus: Vec<_> = amendment.lines.iter().map(|line| line.sku.clone()).collect();
        skus.extend(held.iter().map(|allocation| allocation.sku.clone()));
        skus.sort();
        skus.dedup();
        let levels = self.store.stock_levels(&skus).await?;
        match plan_adjustment(&order.id, &held, &amendment.lines, &levels) {
            AdjustmentPlan::Reject(shortages) => Err(ChangeError::OutOfStock(shortages)),
            AdjustmentPlan::Adjust(adjustment) if adjustment.writes() > MAX_COUNTER_WRITES => {
                Err(ChangeError::TooManyChanges(adjustment.writes()))
            }
            AdjustmentPlan::Adjust(adjustment) => Ok(adjustment),
        }
    }

    /// Writes the amendment with the stock difference in one transaction, from `plan` first,
    /// then re-planning while other orders take the same stock.
    async fn adjust_stock(&self, order: &Order, change: &Revision, plan: StockAdjustment) -> Result<(), ChangeError> {
        let mut plan = Some(plan);
        let mut retries = Retries::for_order(&order.id);
        while retries.another().await {
            let adjustment = match plan.take() {
                Some(first) => first,
                None => self.plan_stock(order, change).await?,
            };
            match self.store.adjust(change, &adjustment).await {
                Ok(()) => return Ok(()),
                // Someone else changed the order first: the caller's version is stale.
                Err(ReserveError::OrderMoved) => return Err(self.moved(&order.id).await),
                Err(ReserveError::StockMoved) => continue,
                Err(ReserveError::Store(error)) => return Err(error.into()),
            }
        }
        Err(ChangeError::Busy)
    }
}
