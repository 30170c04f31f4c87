//! The fulfillment use cases: hand an authorised order to the warehouse, and record the parcels
//! the warehouse reports shipped.

use chrono::{DateTime, Utc};

use crate::domain::{
    Order, OrderRepository, OrderStatus, ParcelIndex, PickRequest, ShipmentRejection, ShipmentReport, StoreError,
    Warehouse, WarehouseUnavailable,
};

/// Two reports of one order racing for its head settle within a few re-reads.
const RECORD_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentOutcome {
    PickRequested,
    /// A parcel is recorded; the order is SHIPPED if it was the last.
    ParcelRecorded {
        order_shipped: bool,
    },
    /// A redelivery, or the order moved on.
    AlreadyHandled,
}

#[derive(Debug, thiserror::Error)]
pub enum FulfillmentError {
    /// The report can never be recorded: it belongs in the dead-letter queue, with this code.
    #[error("{code}: {detail}")]
    Rejected { code: &'static str, detail: String },
    /// Worth retrying: the order is not there yet, the warehouse or the store is unreachable.
    #[error("not yet: {0}")]
    NotYet(String),
    #[error(transparent)]
    Warehouse(#[from] WarehouseUnavailable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Fulfillment<R, W> {
    orders: R,
    warehouse: W,
}

impl<R: OrderRepository + ParcelIndex + Sync, W: Warehouse + Sync> Fulfillment<R, W> {
    pub fn new(orders: R, warehouse: W) -> Self {
        Self { orders, warehouse }
    }

    /// On `order.payment_authorized`: asks the warehouse to pick, then moves the order to
    /// FULFILLING. In that order, so that a crash between the two repeats the request (which
    /// the warehouse recognises by its id) rather than losing it.
    pub async fn on_authorized(
        &self,
        event: &Order,
        now: DateTime<Utc>,
    ) -> Result<FulfillmentOutcome, FulfillmentError> {
        let Some(order) = self.orders.head(&event.id).await? else {
            return Err(FulfillmentError::NotYet(format!("order {} is not stored", event.id)));
        };
        if order.status() != OrderStatus::PaymentAuthorized || order.version() != event.version() {
            return Ok(FulfillmentOutcome::AlreadyHandled);
        }
        self.warehouse.request_pick(&PickRequest::for_order(&order)).await?;
        let change = order
            .transition(OrderStatus::Fulfilling, now)
            .map_err(|illegal| StoreError::Malformed(Box::new(illegal)))?;
        match self.orders.apply(&change).await {
            Ok(()) => Ok(FulfillmentOutcome::PickRequested),
            Err(StoreError::Conflict) => Ok(FulfillmentOutcome::AlreadyHandled),
            Err(error) => Err(error.into()),
        }
    }

    /// Records a parcel the warehouse shipped, once however often the report comes.
    pub async fn on_shipment(
        &self,
        report: &ShipmentReport,
        now: DateTime<Utc>,
    ) -> Result<FulfillmentOutcome, FulfillmentError> {
        for _ in 0..RECORD_ATTEMPTS {
            let order = self.orders.head(&report.order_id).await?.ok_or_else(|| FulfillmentError::Rejected {
                code: "unknown_order",
                detail: format!("no order {}", report.order_id),
            })?;
            let change = match order.record_shipment(report, now) {
                Ok(Some(change)) => change,
                Ok(None) => return Ok(FulfillmentOutcome::AlreadyHandled),
                Err(rejection @ ShipmentRejection::NotYetFulfilling(_)) => {
                    return Err(FulfillmentError::NotYet(rejection.to_string()));
                }
                Err(rejection) => {
                    return Err(FulfillmentError::Rejected { code: rejection.code(), detail: rejection.to_string() });
                }
            };
            match self.orders.record_shipment(&change, &report.tracking_number).await {
                Ok(()) => {
                    return Ok(FulfillmentOutcome::ParcelRecorded { order_shipped: change.to == OrderStatus::Shipped });
                }
                // Another parcel of the order was recorded meanwhile: read again.
                Err(StoreError::Conflict) => continue,
                Err(StoreError::TrackingNumberTaken) => {
                    return Err(FulfillmentError::Rejected {
                        code: "tracking_number_taken",
                        detail: format!("tracking number {} belongs to another order", report.tracking_number),
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(FulfillmentError::NotYet("the order kept changing while its parcel was recorded".into()))
    }
}
