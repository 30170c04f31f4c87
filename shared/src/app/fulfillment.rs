//! The fulfillment use cases: hand an authorised order to the warehouse (again when it is
//! amended, with a stop when it is cancelled), record the parcels the warehouse reports
//! shipped, and the returns it reports received; a report that can never be recorded is parked
//! in the dead-letter queue with its error.

use chrono::{DateTime, Utc};

use super::{Retries, Subscription};
use tracing::Instrument;

use crate::domain::{
    Allocation, Counter, DeadLetterUnavailable, DeadLetters, EventType, LookupKeys, Order, OrderId, OrderRepository,
    OrderStatus, ParcelIndex, PickCancellation, PickRequest, ReceivedReturn, ReturnPolicy, ReturnReceipt,
    ShipmentRejection, ShipmentReport, StatusReason, StockLedger, StoreError, Warehouse, WarehouseInstruction,
    WarehouseReport, WarehouseUnavailable,
};

/// What an order event asks of the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarehouseWork {
    /// Pick the order, or pick it again as amended.
    Pick,
    /// Stop picking it.
    Stop,
}

/// The order events fulfillment acts on.
pub const SUBSCRIPTION: Subscription<WarehouseWork> = Subscription::new(&[
    (EventType::Reached(OrderStatus::PaymentAuthorized), WarehouseWork::Pick),
    (EventType::Modified, WarehouseWork::Pick),
    (EventType::Reached(OrderStatus::Cancelled), WarehouseWork::Stop),
]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentOutcome {
    PickRequested,
    /// A parcel is recorded; the order is SHIPPED if it was the last.
    ParcelRecorded {
        order_shipped: bool,
    },
    /// The warehouse was told to stop picking a cancelled order.
    PickCancelled,
    /// A returned parcel is recorded and its resellable units are back on sale.
    ReturnReceived,
    /// The report can never be recorded: it is in the dead-letter queue with this code.
    Parked {
        code: &'static str,
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
    DeadLetters(#[from] DeadLetterUnavailable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Fulfillment<R, W, D, K> {
    orders: R,
    warehouse: W,
    dead_letters: D,
    /// Makes the key a parcel is indexed by from its tracking number.
    keys: K,
}

impl<R, W, D, K> Fulfillment<R, W, D, K>
where
    R: OrderRepository + ParcelIndex + StockLedger + Sync,
    W: Warehouse + Sync,
    D: DeadLetters + Sync,
    K: LookupKeys + Sync,
{
    pub fn new(orders: R, warehouse: W, dead_letters: D, keys: K) -> Self {
        Self { orders, warehouse, dead_letters, keys }
    }

    /// A message from the shipments queue, recorded. One that can never be recorded (unreadable,
    /// an unknown order or line, over-shipped, another order's tracking number) is parked in the
    /// dead-letter queue with its code, never dropped; an error is worth retrying.
    pub async fn on_warehouse_report(
        &self,
        body: &str,
        returns: &ReturnPolicy,
        now: DateTime<Utc>,
    ) -> Result<FulfillmentOutcome, FulfillmentError> {
        let report = crate::strict_json::parse(body.as_bytes())
            .map_err(|error| error.to_string())
            .and_then(|value| WarehouseReport::from_json(value).map_err(|error| error.to_string()));
        let recorded = match report {
            Ok(WarehouseReport::Shipped(report)) => {
                let span =
                    tracing::info_span!("shipment", order_id = %report.order_id, shipment_id = %report.shipment_id);
                self.on_shipment(&report, now).instrument(span).await
            }
            Ok(WarehouseReport::Returned(receipt)) => {
                let span = tracing::info_span!("return", order_id = %receipt.order_id, rma = %receipt.rma);
                self.on_return(&receipt, returns, now).instrument(span).await
            }
            Err(detail) => Err(FulfillmentError::Rejected { code: "malformed_report", detail }),
        };
        match recorded {
            Err(FulfillmentError::Rejected { code, detail }) => {
                tracing::error!(code, detail = %detail, "warehouse report rejected; parking it in the dead-letter queue");
                self.dead_letters.park(body, code, &detail).await?;
                Ok(FulfillmentOutcome::Parked { code })
            }
            // Recorded, or worth a retry: the queue's business, passed through.
            other => other,
        }
    }

    /// On `order.payment_authorized`, or `order.modified` of an authorised order: asks the
    /// warehouse to pick, then moves the order to FULFILLING. In that order, so that a crash
    /// between the two repeats the request (which the warehouse recognises by its id) rather
    /// than losing it; an amendment's request replaces an earlier one at the warehouse.
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
        self.warehouse.instruct(&WarehouseInstruction::Pick(Box::new(PickRequest::for_order(&order)))).await?;
        let change = order
            .transition(OrderStatus::Fulfilling, now)
            .map_err(|illegal| StoreError::Malformed(Box::new(illegal)))?;
        match self.orders.apply(&change).await {
            Ok(()) => Ok(FulfillmentOutcome::PickRequested),
            Err(StoreError::Conflict) => Ok(FulfillmentOutcome::AlreadyHandled),
            Err(error) => Err(error.into()),
        }
    }

    /// On `order.cancelled`: if the order was authorised when it was cancelled, the warehouse
    /// may be picking it (a pick request may even have raced the cancellation): tell it to stop.
    pub async fn on_cancelled(&self, event: &Order) -> Result<FulfillmentOutcome, FulfillmentError> {
        let picking = matches!(
            event.status_reason,
            Some(StatusReason::Cancelled { was: OrderStatus::PaymentAuthorized | OrderStatus::Fulfilling, .. })
        );
        if !picking {
            return Ok(FulfillmentOutcome::AlreadyHandled);
        }
        let cancellation = PickCancellation { request_id: event.event_id(), order_id: event.id.clone() };
        self.warehouse.instruct(&WarehouseInstruction::Cancel(cancellation)).await?;
        Ok(FulfillmentOutcome::PickCancelled)
    }

    /// Records a returned parcel's arrival (→ RETURNED, which `payment` refunds) and puts its
    /// resellable units back on the counters they were sold from, in one write, once however
    /// often the receipt comes.
    pub(crate) async fn on_return(
        &self,
        receipt: &ReturnReceipt,
        policy: &ReturnPolicy,
        now: DateTime<Utc>,
    ) -> Result<FulfillmentOutcome, FulfillmentError> {
        let mut retries = Retries::for_order(&receipt.order_id);
        while retries.another().await {
            let order = self.reported_order(&receipt.order_id).await?;
            let ReceivedReturn { change, restock: units } = match order.receive_return(receipt, policy, now) {
                Ok(Some(received)) => received,
                Ok(None) => return Ok(FulfillmentOutcome::AlreadyHandled),
                Err(rejection) => {
                    return Err(FulfillmentError::Rejected { code: rejection.code(), detail: rejection.to_string() });
                }
            };
            let sold_from = self.orders.reservation(&order.id).await?.unwrap_or_default();
            let restock: Vec<Allocation> = units
                .into_iter()
                .map(|(sku, quantity)| {
                    let counter = sold_from
                        .iter()
                        .find(|allocation| allocation.sku == sku)
                        .map_or(Counter::Item, |allocation| allocation.counter);
                    Allocation { sku, counter, quantity }
                })
                .collect();
            match self.orders.restock(&change, &restock).await {
                Ok(()) => return Ok(FulfillmentOutcome::ReturnReceived),
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(FulfillmentError::NotYet("the order kept changing while its return was recorded".into()))
    }

    /// The order a warehouse report names; a report for no order can never be recorded.
    async fn reported_order(&self, id: &OrderId) -> Result<Order, FulfillmentError> {
        self.orders
            .head(id)
            .await?
            .ok_or_else(|| FulfillmentError::Rejected { code: "unknown_order", detail: format!("no order {id}") })
    }

    /// Records a parcel the warehouse shipped, once however often the report comes.
    pub(crate) async fn on_shipment(
        &self,
        report: &ShipmentReport,
        now: DateTime<Utc>,
    ) -> Result<FulfillmentOutcome, FulfillmentError> {
        let mut retries = Retries::for_order(&report.order_id);
        while retries.another().await {
            let order = self.reported_order(&report.order_id).await?;
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
            let parcel = self.keys.lookup_key().await?.parcel(&report.tracking_number);
            match self.orders.record_shipment(&change, &parcel).await {
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
