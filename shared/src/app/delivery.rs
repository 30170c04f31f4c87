//! The delivery use case: a carrier's event onto its parcel, its order and the timeline, once
//! per carrier event, forward only.

use chrono::{DateTime, Utc};

use super::Retries;

use crate::domain::{DeliveryUpdate, LookupKeys, OrderRepository, ParcelIndex, StoreError, Tracked, TrackingNumber};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The order (its status, a parcel, a delay) changed, and the event is in the timeline.
    OrderUpdated,
    /// The event is in the timeline; it changed nothing else (older, or no news).
    TimelineOnly,
    /// The timeline already holds this carrier event.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// No parcel has this number yet: the carrier may be faster than the warehouse's report.
    /// Retried by the queue, then parked in its dead-letter queue.
    #[error("no parcel has tracking number {0}")]
    UnknownParcel(TrackingNumber),
    #[error("the order kept changing while the event was recorded")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Tracking<R, K> {
    orders: R,
    /// Makes the key a parcel is found by from its tracking number.
    keys: K,
}

impl<R: OrderRepository + ParcelIndex + Sync, K: LookupKeys + Sync> Tracking<R, K> {
    pub fn new(orders: R, keys: K) -> Self {
        Self { orders, keys }
    }

    pub async fn on_update(
        &self,
        update: &DeliveryUpdate,
        now: DateTime<Utc>,
    ) -> Result<DeliveryOutcome, DeliveryError> {
        let unknown = || DeliveryError::UnknownParcel(update.tracking_number.clone());
        let parcel = self.keys.lookup_key().await?.parcel(&update.tracking_number);
        let order_id = self.orders.order_for_parcel(&parcel).await?.ok_or_else(unknown)?;
        tracing::Span::current().record("order_id", tracing::field::display(&order_id));
        let mut retries = Retries::for_order(&order_id);
        while retries.another().await {
            let order = self.orders.head(&order_id).await?.ok_or_else(unknown)?;
            let result = match order.track(update, now).ok_or_else(unknown)? {
                Tracked::Change(change) => self.orders.apply(&change).await.map(|()| DeliveryOutcome::OrderUpdated),
                Tracked::TimelineOnly(entry) => {
                    self.orders.append_timeline(&order_id, &entry).await.map(|()| DeliveryOutcome::TimelineOnly)
                }
            };
            match result {
                Ok(outcome) => return Ok(outcome),
                Err(StoreError::AlreadyRecorded) => return Ok(DeliveryOutcome::Duplicate),
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(DeliveryError::Contended)
    }
}
