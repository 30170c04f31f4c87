//! The inventory use cases: reserve an order's stock or reject it, and release it again.

use chrono::{DateTime, Utc};

use super::{Retries, Subscription};

use crate::domain::{
    EventType, Order, OrderId, OrderRepository, OrderStatus, Release, ReservationPlan, ReserveError, Shortage,
    StatusReason, StockLedger, StoreError, plan_reservation, requested_units,
};

/// What an order event asks of the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockWork {
    Reserve,
    Release,
}

/// The order events inventory acts on.
pub const SUBSCRIPTION: Subscription<StockWork> = Subscription::new(&[
    (EventType::Reached(OrderStatus::Placed), StockWork::Reserve),
    (EventType::Reached(OrderStatus::PaymentFailed), StockWork::Release),
    (EventType::Reached(OrderStatus::Cancelled), StockWork::Release),
]);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveOutcome {
    Reserved,
    Rejected(Vec<Shortage>),
    /// The order was no longer PLACED at this version: a redelivery, or it moved on.
    AlreadyHandled,
}

#[derive(Debug, Clone)]
pub struct Inventory<S> {
    store: S,
}

impl<S: StockLedger + OrderRepository + Sync> Inventory<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// Reserves every line of `order` (as the `order.placed` event carried it) in one
    /// transaction with its move to RESERVED, or moves it to REJECTED naming what is short.
    pub async fn reserve(&self, order: &Order, now: DateTime<Utc>) -> Result<ReserveOutcome, StoreError> {
        let Ok(reserved) = order.transition(OrderStatus::Reserved, now) else {
            return Ok(ReserveOutcome::AlreadyHandled);
        };
        let skus: Vec<_> = requested_units(&order.lines).into_keys().collect();
        let mut retries = Retries::for_order(&order.id);
        while retries.another().await {
            let levels = self.store.stock_levels(&skus).await?;
            match plan_reservation(&order.id, &order.lines, &levels) {
                ReservationPlan::Reject(shortages) => {
                    let rejected = order
                        .transition(OrderStatus::Rejected, now)
                        .map_err(|illegal| StoreError::Malformed(Box::new(illegal)))?
                        .because(StatusReason::OutOfStock { shortages: shortages.clone() });
                    return match self.store.apply(&rejected).await {
                        Ok(()) => Ok(ReserveOutcome::Rejected(shortages)),
                        Err(StoreError::Conflict) => Ok(ReserveOutcome::AlreadyHandled),
                        Err(error) => Err(error),
                    };
                }
                ReservationPlan::Reserve(allocations) => match self.store.reserve(&reserved, &allocations).await {
                    Ok(()) => return Ok(ReserveOutcome::Reserved),
                    Err(ReserveError::OrderMoved) => return Ok(ReserveOutcome::AlreadyHandled),
                    Err(ReserveError::StockMoved) => continue,
                    Err(ReserveError::Store(error)) => return Err(error),
                },
            }
        }
        Err(StoreError::Unavailable("the stock kept changing under the reservation".into()))
    }

    /// Gives back what the order holds, once.
    pub async fn release(&self, order: &OrderId, now: DateTime<Utc>) -> Result<Release, StoreError> {
        self.store.release(order, now).await
    }
}
