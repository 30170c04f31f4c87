//! The narrow traits the domain needs from storage. Adapters live in `crate::adapters::dynamodb`.

use std::{collections::HashMap, error::Error as StdError, future::Future};

use chrono::{DateTime, Utc};

use super::{
    ids::{IdempotencyKey, OrderId, Sku, StorefrontId},
    money::Money,
    order::{Order, OrderRecord, Revision, TimelineEntry},
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

/// One of a customer's orders, as fraud screening counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentOrder {
    pub id: OrderId,
    /// The card's fingerprint, or the payment method where the card is not known yet.
    pub card: String,
    pub created_at: DateTime<Utc>,
    /// Delivered, and never disputed.
    pub settled: bool,
    /// A dispute about it was lost.
    pub lost_dispute: bool,
}

/// How many of a customer's latest orders screening reads: more than any velocity limit.
pub const CUSTOMER_ORDERS_READ: usize = 50;

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

    /// The same customer's latest orders at the storefront, newest first, at most
    /// [`CUSTOMER_ORDERS_READ`] (this one included, once stored): what the velocity rules count
    /// and the record an established customer has.
    fn customer_orders(&self, order: &Order) -> impl Future<Output = Result<Vec<RecentOrder>, StoreError>> + Send;

    /// The live claim on an idempotency key, if any.
    fn idempotency_record(
        &self,
        storefront: &StorefrontId,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;
}

/// Parcels by the lookup key of their tracking number: how a carrier's event finds its order.
pub trait ParcelIndex {
    /// Writes a change that adds a parcel, with the parcel's key indexed, all or nothing.
    /// `Conflict` if the order moved on, `TrackingNumberTaken` if another order's parcel has the
    /// number.
    fn record_shipment(
        &self,
        change: &Revision,
        parcel: &super::ParcelKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The order whose parcel has this key.
    fn order_for_parcel(
        &self,
        parcel: &super::ParcelKey,
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

    /// When the order that has been in `status` longest got there, if any order is in it.
    fn oldest(&self, status: OrderStatus) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;
}

/// One index partition a search reads: never a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderIndex {
    /// A storefront's orders.
    Storefront(StorefrontId),
    /// A storefront's orders in one status.
    Status(StorefrontId, OrderStatus),
    /// One customer's orders, by the lookup key of their e-mail address.
    Customer(String),
    /// One customer's orders, by the lookup key of their phone number.
    Phone(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    NewestFirst,
    OldestFirst,
}

/// Where a page of orders ended: the last order it showed, by when it was placed. The next
/// page starts after it, so orders placed meanwhile never shift a page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub id: OrderId,
}

/// A search: the partitions it reads (a storefront each, for an operator who serves several),
/// what it keeps of them, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub partitions: Vec<OrderIndex>,
    /// Kept where the partition does not already say it.
    pub status: Option<OrderStatus>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub order: SortOrder,
    pub limit: usize,
    pub after: Option<Position>,
}

/// An order as a list shows it; the order page has the rest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderSummary {
    pub id: OrderId,
    pub storefront: StorefrontId,
    pub status: OrderStatus,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    /// Disputes the card holder opened, and whether any was lost.
    pub disputes: u32,
    pub disputes_lost: u32,
    /// Whether a return was asked for.
    pub returned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_claim: Option<super::ReviewClaim>,
    pub failed_contacts: u8,
}

impl OrderSummary {
    pub fn of(order: &Order) -> Self {
        let disputes = &order.payment.disputes;
        Self {
            id: order.id.clone(),
            storefront: order.storefront.clone(),
            status: order.status(),
            total: order.totals.total,
            created_at: order.created_at,
            disputes: u32::try_from(disputes.len()).unwrap_or(u32::MAX),
            disputes_lost: u32::try_from(
                disputes.iter().filter(|dispute| dispute.status == super::DisputeStatus::Lost).count(),
            )
            .unwrap_or(u32::MAX),
            returned: order.return_request.is_some(),
            review_claim: order.review_claim.clone(),
            failed_contacts: order.failed_contacts,
        }
    }
}

/// A page of summaries, and where the next one starts if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    pub next: Option<Position>,
}

/// The desk's reads and writes: searches over the order indexes, and the desk's own work on an
/// order beside its timeline.
pub trait DeskStore {
    /// One page of the orders the query finds, merged over its partitions.
    fn search(&self, query: &OrderQuery) -> impl Future<Output = Result<OrderPage, StoreError>> + Send;

    /// The order with its timeline and the desk's work on it, in one read.
    fn read_at_desk(
        &self,
        id: &OrderId,
    ) -> impl Future<Output = Result<Option<(OrderRecord, Vec<super::DeskEntry>)>, StoreError>> + Send;

    /// Claims the held order for `entry`'s operator until `claim.until`, with the entry, if the
    /// order is still held and nobody else's claim is live at `entry.at`; `Conflict` otherwise.
    fn claim(
        &self,
        order: &OrderId,
        claim: &super::ReviewClaim,
        entry: &super::DeskEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a call's outcome with the entry, if the order is still held, `entry`'s operator
    /// holds a live claim and the failed calls are still `failed_before`; a failed call counts
    /// one more, and a call that ends the attempt releases the claim. `Conflict` otherwise.
    fn record_contact(
        &self,
        order: &OrderId,
        failed_before: u8,
        entry: &super::DeskEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The key lookup keys are made with, wherever it is kept.
pub trait LookupKeys {
    fn lookup_key(&self) -> impl Future<Output = Result<std::sync::Arc<super::LookupKey>, StoreError>> + Send;
}

impl LookupKeys for std::sync::Arc<super::LookupKey> {
    async fn lookup_key(&self) -> Result<std::sync::Arc<super::LookupKey>, StoreError> {
        Ok(self.clone())
    }
}
