//! The narrow traits the domain needs from storage. Adapters live in `crate::adapters::dynamodb`.

use std::{collections::HashMap, error::Error as StdError, future::Future};

use chrono::{DateTime, Utc};

use super::{
    ids::{IdempotencyKey, OrderId, Sku, StorefrontId},
    money::Money,
    order::{Order, OrderRecord, Revision, TimelineEntry},
    parcels::TrackingNumber,
    pricing::CatalogItem,
    status::OrderStatus,
    stock::{Allocation, StockAdjustment, StockLevel},
    warehouse::WarehouseInstruction,
};

/// The most items one repository write may hold (DynamoDB's transaction limit): a use case that
/// writes an item per line or per stock counter checks it before it asks.
pub(crate) const MAX_WRITE_ITEMS: usize = 100;
/// What a write that moves stock holds besides its counters: the order head, its timeline entry
/// and the reservation record.
pub(crate) const STOCK_WRITE_OVERHEAD: usize = 3;

/// What can go wrong in storage, as the domain sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found the item not as expected: another writer got there first. For
    /// a status change this usually means the work is already done.
    #[error("the item changed under us")]
    Conflict,
    /// Another request already used this idempotency key.
    #[error("the idempotency key is taken")]
    IdempotencyKeyTaken,
    /// The timeline already holds this carrier event: an earlier delivery recorded it.
    #[error("the event is already recorded")]
    AlreadyRecorded,
    /// Another order's parcel has this tracking number.
    #[error("the tracking number belongs to another order")]
    TrackingNumberTaken,
    /// Stored data that no longer parses: a bug or a manual edit, never the client's fault.
    #[error("a stored item is malformed")]
    Malformed(#[source] Box<dyn StdError + Send + Sync>),
    /// The store could not be reached or refused the call; worth a retry.
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
}

/// The response a storefront got for an idempotency key, to give again on a replay.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// An idempotency key's claim: which request it named, and what that request was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub storefront: StorefrontId,
    pub key: IdempotencyKey,
    /// SHA-256 of the request body: the same key with another body is a client bug.
    pub request_hash: String,
    pub response: StoredResponse,
    pub expires_at: DateTime<Utc>,
}

/// One of a customer's recent orders, as fraud screening counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentOrder {
    pub id: OrderId,
    /// The card's fingerprint, or the payment method where the card is not known yet.
    pub card: String,
}

/// Why a reservation was not written.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The order is no longer where the reservation expected it, or is reserved already.
    #[error("the order moved on")]
    OrderMoved,
    /// A counter no longer holds the units the plan took from it: read again and re-plan.
    #[error("the stock changed while reserving")]
    StockMoved,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a release found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The units went back to stock now.
    Released,
    /// An earlier delivery released them already.
    AlreadyReleased,
    /// The order never held stock (rejected, or not reserved yet).
    NothingReserved,
}

/// The stock counters and each order's reservation.
pub trait StockLedger {
    /// What each SKU has left, per counter, read consistently. Unknown SKUs are absent.
    fn stock_levels(&self, skus: &[Sku]) -> impl Future<Output = Result<HashMap<Sku, StockLevel>, StoreError>> + Send;

    /// Takes the allocations from their counters, records them as the order's reservation and
    /// writes the order's status change, all or nothing; no counter ever goes below zero.
    fn reserve(
        &self,
        change: &Revision,
        allocations: &[Allocation],
    ) -> impl Future<Output = Result<(), ReserveError>> + Send;

    /// Gives back exactly what the order's reservation took, once however often it is called.
    fn release(&self, order: &OrderId, at: DateTime<Utc>) -> impl Future<Output = Result<Release, StoreError>> + Send;

    /// What the order holds, while it holds stock.
    fn reservation(&self, order: &OrderId) -> impl Future<Output = Result<Option<Vec<Allocation>>, StoreError>> + Send;

    /// Takes the adjustment's `take` from its counters, gives `give_back` back to theirs, records
    /// `reservation` as what the order now holds and writes the order's change, all or nothing.
    fn adjust(
        &self,
        change: &Revision,
        adjustment: &StockAdjustment,
    ) -> impl Future<Output = Result<(), ReserveError>> + Send;

    /// Writes the order's change and puts `units` back on their counters, all or nothing:
    /// `Conflict` if the order moved, so units come back once.
    fn restock(&self, change: &Revision, units: &[Allocation]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Reads prices and names from the catalog.
pub trait Catalog {
    /// The catalog items for these SKUs; SKUs the catalog does not have are simply absent.
    fn items(&self, skus: &[Sku]) -> impl Future<Output = Result<HashMap<Sku, CatalogItem>, StoreError>> + Send;
}

/// Stores orders. Every write is conditional, so two writers never both win.
pub trait OrderRepository {
    /// Creates the order with its first timeline entry, and the idempotency claim if there is one,
    /// all or nothing. `IdempotencyKeyTaken` if the key's claim exists and has not expired.
    fn create(
        &self,
        order: &Order,
        claim: Option<&IdempotencyRecord>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The order head and its timeline, oldest first.
    fn get(&self, id: &OrderId) -> impl Future<Output = Result<Option<OrderRecord>, StoreError>> + Send;

    /// The order head alone, read consistently.
    fn head(&self, id: &OrderId) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;

    /// Writes a status change if the order is still at the expected status and version;
    /// `Conflict` otherwise.
    fn apply(&self, change: &Revision) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds an entry to the timeline without touching the head; `AlreadyRecorded` if the
    /// timeline holds it already (entries of carrier events have a key of their own).
    fn append_timeline(
        &self,
        order_id: &OrderId,
        entry: &TimelineEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a capture on the order without a new version: it is a fact about the payment,
    /// not a step of the order, so it publishes no event.
    fn record_capture(&self, id: &OrderId, amount: Money) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The same customer's orders placed since `since` (this one included, once it is stored),
    /// with the card each was paid with where known: what the velocity rules count.
    fn recent_orders(
        &self,
        order: &Order,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<RecentOrder>, StoreError>> + Send;

    /// The live claim on an idempotency key, if any.
    fn idempotency_record(
        &self,
        storefront: &StorefrontId,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;
}

/// Parcels by tracking number: how a carrier's event finds its order.
pub trait ParcelIndex {
    /// Writes a change that adds a parcel, with the parcel's tracking number indexed, all or
    /// nothing. `Conflict` if the order moved on, `TrackingNumberTaken` if another order's
    /// parcel has the number.
    fn record_shipment(
        &self,
        change: &Revision,
        tracking_number: &TrackingNumber,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The order whose parcel has this tracking number.
    fn order_for_parcel(
        &self,
        tracking_number: &TrackingNumber,
    ) -> impl Future<Output = Result<Option<OrderId>, StoreError>> + Send;
}

/// The warehouse could not be told.
#[derive(Debug, thiserror::Error)]
#[error("the warehouse could not be reached")]
pub struct WarehouseUnavailable(#[source] pub Box<dyn StdError + Send + Sync>);

/// The warehouse's inbox.
pub trait Warehouse {
    /// Asks the warehouse to pick, pack and ship, or to stop. At least once: the warehouse
    /// recognises a repeated instruction by its `request_id`.
    fn instruct(
        &self,
        instruction: &WarehouseInstruction,
    ) -> impl Future<Output = Result<(), WarehouseUnavailable>> + Send;
}

/// A message could not be parked.
#[derive(Debug, thiserror::Error)]
#[error("the dead-letter queue could not be reached")]
pub struct DeadLetterUnavailable(#[source] pub Box<dyn StdError + Send + Sync>);

/// Where a message that can never be handled is parked for an operator, with why: never
/// dropped.
pub trait DeadLetters {
    fn park(
        &self,
        body: &str,
        code: &str,
        detail: &str,
    ) -> impl Future<Output = Result<(), DeadLetterUnavailable>> + Send;
}

/// Finds orders by how long they have been in a status.
pub trait StalledOrders {
    /// Orders in `status` whose last change is older than `before`, at most `limit` of them,
    /// and how many there are in all.
    fn stalled(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<(usize, Vec<OrderId>), StoreError>> + Send;
}
