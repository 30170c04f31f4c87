//! The `Orders` table (head and timeline items) and the API's idempotency claims.

use aws_sdk_dynamodb::{
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    types::{Put, TransactWriteItem, Update},
};
use chrono::{DateTime, SecondsFormat, Utc};

use super::{DynamoStore, Item, from_item, malformed, number, order_partition_key, string, to_item, unavailable};
use crate::digest::sha256_hex;
use crate::domain::OrderStatus;
use crate::domain::{
    CUSTOMER_ORDERS_READ, DeskEntry, IdempotencyKey, IdempotencyRecord, Money, Order, OrderId, OrderRecord,
    OrderRepository, ParcelIndex, ParcelKey, Payment, RecentOrder, Revision, StalledOrders, StoreError, StoredResponse,
    StorefrontId, TimelineEntry,
};

/// The index of a customer's orders, newest last.
const CUSTOMER_INDEX: &str = "by-customer";
/// The sparse index of orders in a status that waits on something, by when they got there.
const STATUS_AGE_INDEX: &str = "by-status-age";
/// Each status's orders spread over this many index partitions, so a busy status never makes
/// one hot partition.
const STATUS_SHARDS: usize = 8;

/// The status index key of an order in `status`, or `None` when nothing waits on it (the
/// attribute is removed and the order leaves the sparse index).
fn status_key(order_id: &OrderId, status: OrderStatus) -> Option<String> {
    status.awaits_progress().then(|| format!("{}#{}", status.as_str(), order_id.slot(STATUS_SHARDS)))
}

/// The sort key of an order's head item; timeline items sort under `EVENT#`.
pub const HEAD_SORT_KEY: &str = "ORDER";
const TIMELINE_PREFIX: &str = "EVENT#";
/// The sort key of the item that leads from a tracking number to its order.
const PARCEL_SORT_KEY: &str = "PARCEL";

fn timeline_sort_key(entry: &TimelineEntry) -> String {
    // Time first, for the customer's view. The version makes two entries in one millisecond
    // distinct; a carrier event's own id makes its entry's key the same however often and from
    // whichever version it is written, so the timeline holds it once.
    let at = entry.at.to_rfc3339_opts(SecondsFormat::Millis, true);
    match &entry.tracking {
        Some(event) => format!("{TIMELINE_PREFIX}{at}#TRACKING#{}", &sha256_hex(event.key())[..32]),
        None => format!("{TIMELINE_PREFIX}{at}#{:010}", entry.version),
    }
}

/// The item that leads from a parcel (by the keyed hash of its tracking number) to its order.
fn parcel_partition_key(parcel: &ParcelKey) -> String {
    format!("PARCEL#{}", parcel.as_str())
}

fn idempotency_partition_key(storefront: &StorefrontId, key: &IdempotencyKey) -> String {
    format!("IDEMPOTENCY#API#{storefront}#{key}")
}

/// The outbox rule: the order a stream record of the `Orders` table publishes, if the record
/// wrote a new version of an order head. Timeline and index items, removals (TTL or by hand)
/// and writes that leave the version alone publish nothing.
pub fn published_version(
    removed: bool,
    keys: &serde_dynamo::Item,
    new_image: &serde_dynamo::Item,
    old_image: &serde_dynamo::Item,
) -> Result<Option<Order>, StoreError> {
    let is_head =
        matches!(keys.get("sk"), Some(serde_dynamo::AttributeValue::S(sort_key)) if sort_key == HEAD_SORT_KEY);
    if removed || !is_head {
        return Ok(None);
    }
    let order: Order =
        serde_dynamo::from_item(new_image.clone()).map_err(|error| StoreError::Malformed(Box::new(error)))?;
    let old_version = match old_image.get("version") {
        Some(serde_dynamo::AttributeValue::N(version)) => version.parse::<u64>().ok(),
        _ => None,
    };
    Ok(old_version.is_none_or(|old| order.version() > old).then_some(order))
}

/// The order head as written when the order is placed. Besides the order itself (whose
/// `customer_key` and `phone_key` are index keys already): the keys of the storefront's
/// indexes, all orders by time placed and by status.
fn head_item(order: &Order) -> Result<Item, StoreError> {
    let mut item = to_item(
        order,
        [
            ("pk", string(order_partition_key(&order.id))),
            ("sk", string(HEAD_SORT_KEY)),
            ("created_id", string(created_id(order.created_at, &order.id))),
            ("shop_key", string(order.storefront.as_str())),
            ("shop_status", string(shop_status(&order.storefront, order.status()))),
        ],
    )?;
    if let Some(key) = status_key(&order.id, order.status()) {
        item.insert("status_key".to_owned(), string(key));
    }
    Ok(item)
}

/// The sort key of every index that lists orders by when they were placed: the time to the
/// millisecond, then the id, so that no two orders share a position and a page ends exactly.
pub(super) fn created_id(at: DateTime<Utc>, id: &OrderId) -> String {
    format!("{}#{id}", created_time(at))
}

fn created_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The status index's partition: one storefront's orders in one status.
pub(super) fn shop_status(storefront: &StorefrontId, status: OrderStatus) -> String {
    format!("{storefront}#{}", status.as_str())
}

/// The conditional update of the order head a status change makes: status, version, the event
/// it publishes, why, and the payment when the change alters it.
pub(super) fn head_update(table: &str, change: &Revision) -> Result<TransactWriteItem, StoreError> {
    let mut set = vec![
        "#status = :to",
        "#version = :new",
        "last_event = :event",
        "updated_at = :at",
        "shop_status = :shop_status",
    ];
    let mut update = Update::builder()
        .table_name(table)
        .key("pk", string(order_partition_key(&change.order_id)))
        .key("sk", string(HEAD_SORT_KEY))
        .condition_expression("#status = :from AND #version = :expected")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#version", "version")
        .expression_attribute_values(":to", string(change.to.as_str()))
        .expression_attribute_values(":from", string(change.from.as_str()))
        .expression_attribute_values(":new", number(change.new_version()))
        .expression_attribute_values(":expected", number(change.expected_version))
        .expression_attribute_values(":event", string(change.event_type().name()))
        .expression_attribute_values(":at", string(change.at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
        .expression_attribute_values(":shop_status", string(shop_status(&change.storefront, change.to)));
    if let Some(payment) = &change.payment {
        set.push("payment = :payment");
        update = update.expression_attribute_values(":payment", attribute::<Payment>(payment)?);
    }
    // The feedback sweep finds orders by the day the carrier delivered them.
    if change.to == OrderStatus::Delivered && change.from != OrderStatus::Delivered {
        let delivered_at = change.tracking.as_ref().map_or(change.at, |(_, seen_at)| *seen_at);
        set.push("delivered_on = :day");
        update = update.expression_attribute_values(":day", string(delivered_at.date_naive().to_string()));
    }
    if let Some(shipments) = &change.shipments {
        set.push("shipments = :shipments");
        update = update.expression_attribute_values(":shipments", attribute(shipments)?);
    }
    if let Some(amendment) = &change.amendment {
        set.extend([
            "#lines = :lines",
            "totals = :totals",
            "shipping_address = :address",
            "shipping_option = :option",
            "shipping_quote = :quote",
        ]);
        update = update
            .expression_attribute_names("#lines", "lines")
            .expression_attribute_values(":lines", attribute(&amendment.lines)?)
            .expression_attribute_values(":totals", attribute(&amendment.totals)?)
            .expression_attribute_values(":address", attribute(&amendment.shipping_address)?)
            .expression_attribute_values(":option", attribute(&amendment.shipping_option)?)
            .expression_attribute_values(":quote", attribute(&amendment.shipping_quote)?);
    }
    if let Some(request) = &change.return_request {
        set.push("return_request = :return");
        update = update.expression_attribute_values(":return", attribute(request)?);
    }
    let mut remove = Vec::new();
    match status_key(&change.order_id, change.to) {
        Some(key) => {
            set.push("status_key = :status_key");
            update = update.expression_attribute_values(":status_key", string(key));
        }
        None => remove.push("status_key"),
    }
    match &change.reason {
        Some(reason) => {
            set.push("status_reason = :reason");
            update = update.expression_attribute_values(":reason", attribute(reason)?);
        }
        None => remove.push("status_reason"),
    }
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    let update = update.update_expression(expression).build().map_err(unavailable)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn attribute<T: serde::Serialize + ?Sized>(value: &T) -> Result<aws_sdk_dynamodb::types::AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(malformed)
}

fn timeline_item(order_id: &OrderId, entry: &TimelineEntry) -> Result<Item, StoreError> {
    to_item(entry, [("pk", string(order_partition_key(order_id))), ("sk", string(timeline_sort_key(entry)))])
}

/// The first two items of every transaction that changes an order: the conditional head
/// update and its timeline entry (in that order: callers read cancellation reasons by position).
pub(super) fn change_writes(table: &str, change: &Revision) -> Result<Vec<TransactWriteItem>, StoreError> {
    Ok(vec![head_update(table, change)?, timeline_put(table, &change.order_id, &change.timeline_entry())?])
}

/// A timeline entry for a transaction, written only if the timeline does not hold it yet.
pub(super) fn timeline_put(
    table: &str,
    order_id: &OrderId,
    entry: &TimelineEntry,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(timeline_item(order_id, entry)?))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(unavailable)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The item that leads from a parcel's tracking number to its order.
#[derive(serde::Serialize, serde::Deserialize)]
struct ParcelItem {
    order_id: OrderId,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IdempotencyItem {
    request_hash: String,
    response: StoredResponse,
    /// Epoch seconds: the table's TTL attribute.
    expires_at: i64,
}

/// Why each item of a cancelled transaction was refused, by position (`None` for items that
/// were fine); empty if the transaction was not cancelled.
pub(super) fn cancellation_reasons(
    error: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
) -> Vec<Option<String>> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .map(|reason| reason.code().filter(|code| *code != "None").map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) const CONDITION_FAILED: &str = "ConditionalCheckFailed";
/// Another transaction was writing the same item at that moment; it may or may not commit.
pub(super) const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// The desk's work on an order sorts under `DESK#`, beside its timeline.
pub(super) const DESK_PREFIX: &str = "DESK#";

impl DynamoStore {
    /// Everything the order's partition holds that a reader shows, in one strongly consistent
    /// query: the head, its timeline, and the desk's work.
    pub(super) async fn read_partition(
        &self,
        id: &OrderId,
    ) -> Result<Option<(OrderRecord, Vec<DeskEntry>)>, StoreError> {
        let mut head = None;
        let mut timeline = Vec::new();
        let mut desk = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", string(order_partition_key(id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(unavailable)?;
            match item.get("sk").and_then(|sk| sk.as_s().ok()).map(String::as_str) {
                Some(HEAD_SORT_KEY) => head = Some(from_item::<Order>(item)?),
                Some(sk) if sk.starts_with(TIMELINE_PREFIX) => timeline.push(from_item::<TimelineEntry>(item)?),
                Some(sk) if sk.starts_with(DESK_PREFIX) => desk.push(from_item::<DeskEntry>(item)?),
                _ => {}
            }
        }
        Ok(head.map(|order| (OrderRecord { order, timeline }, desk)))
    }

    /// Writes a change's transaction: the head update first, its timeline entry second.
    async fn write_change(&self, change: &Revision, writes: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let Err(error) = self.client.transact_write_items().set_transact_items(Some(writes)).send().await else {
            return Ok(());
        };
        let reasons = cancellation_reasons(&error);
        let failed = |index: usize| reasons.get(index).and_then(Option::as_deref) == Some(CONDITION_FAILED);
        // Only a failed condition means another writer won; a transaction conflict may yet come
        // to nothing, so it is retried like an outage.
        if change.tracking.is_some() && failed(1) {
            Err(StoreError::AlreadyRecorded)
        } else if failed(0) {
            Err(StoreError::Conflict)
        } else if failed(2) {
            Err(StoreError::TrackingNumberTaken)
        } else {
            Err(unavailable(error))
        }
    }
}

impl StalledOrders for DynamoStore {
    async fn stalled(
        &self,
        status: OrderStatus,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<(usize, Vec<OrderId>), StoreError> {
        let mut count = 0;
        let mut examples = Vec::new();
        for shard in 0..STATUS_SHARDS {
            let mut pages = self
                .client
                .query()
                .table_name(&self.tables.orders)
                .index_name(STATUS_AGE_INDEX)
                .key_condition_expression("status_key = :key AND updated_at < :before")
                .expression_attribute_values(":key", string(format!("{}#{shard}", status.as_str())))
                .expression_attribute_values(":before", string(before.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
                .into_paginator()
                .items()
                .send();
            while let Some(item) = pages.next().await {
                let item = item.map_err(unavailable)?;
                count += 1;
                let id = item.get("pk").and_then(|pk| pk.as_s().ok()).and_then(|pk| pk.strip_prefix("ORDER#"));
                if examples.len() < limit
                    && let Some(id) = id.and_then(|id| OrderId::parse(id).ok())
                {
                    examples.push(id);
                }
            }
        }
        Ok((count, examples))
    }

    async fn oldest(&self, status: OrderStatus) -> Result<Option<DateTime<Utc>>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Since {
            updated_at: DateTime<Utc>,
        }
        let mut oldest: Option<DateTime<Utc>> = None;
        for shard in 0..STATUS_SHARDS {
            let output = self
                .client
                .query()
                .table_name(&self.tables.orders)
                .index_name(STATUS_AGE_INDEX)
                .key_condition_expression("status_key = :key")
                .expression_attribute_values(":key", string(format!("{}#{shard}", status.as_str())))
                .limit(1)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                let since = from_item::<Since>(item)?.updated_at;
                oldest = Some(oldest.map_or(since, |oldest| oldest.min(since)));
            }
        }
        Ok(oldest)
    }
}

impl ParcelIndex for DynamoStore {
    async fn record_shipment(&self, change: &Revision, parcel: &ParcelKey) -> Result<(), StoreError> {
        let item = to_item(
            &ParcelItem { order_id: change.order_id.clone() },
            [("pk", string(parcel_partition_key(parcel))), ("sk", string(PARCEL_SORT_KEY))],
        )?;
        // A parcel's number leads to one order; the same order may write it again.
        let index = Put::builder()
            .table_name(&self.tables.orders)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR order_id = :order")
            .expression_attribute_values(":order", string(change.order_id.as_str()))
            .build()
            .map_err(unavailable)?;
        let mut writes = change_writes(&self.tables.orders, change)?;
        writes.push(TransactWriteItem::builder().put(index).build());
        self.write_change(change, writes).await
    }

    async fn order_for_parcel(&self, parcel: &ParcelKey) -> Result<Option<OrderId>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.orders)
            .key("pk", string(parcel_partition_key(parcel)))
            .key("sk", string(PARCEL_SORT_KEY))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item.map(from_item::<ParcelItem>).transpose()?.map(|item| item.order_id))
    }
}

impl OrderRepository for DynamoStore {
    async fn create(&self, order: &Order, claim: Option<&IdempotencyRecord>) -> Result<(), StoreError> {
        let head = Put::builder()
            .table_name(&self.tables.orders)
            .set_item(Some(head_item(order)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let mut writes = vec![
            TransactWriteItem::builder().put(head).build(),
            timeline_put(&self.tables.orders, &order.id, &order.placed_entry())?,
        ];
        if let Some(claim) = claim {
            let record = IdempotencyItem {
                request_hash: claim.request_hash.clone(),
                response: claim.response.clone(),
                expires_at: claim.expires_at.timestamp(),
            };
            let item = to_item(&record, [("pk", string(idempotency_partition_key(&claim.storefront, &claim.key)))])?;
            // An expired claim may linger until DynamoDB's TTL sweep removes it: it no longer counts.
            let put = Put::builder()
                .table_name(&self.tables.idempotency)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
                .expression_attribute_values(":now", number(order.created_at.timestamp()))
                .build()
                .map_err(unavailable)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let Err(error) = self.client.transact_write_items().set_transact_items(Some(writes)).send().await else {
            return Ok(());
        };
        let reasons = cancellation_reasons(&error);
        let claim_refused = reasons.get(2).and_then(Option::as_deref) == Some(CONDITION_FAILED);
        let racing = reasons.iter().flatten().any(|code| code == TRANSACTION_CONFLICT);
        if claim.is_some() && (claim_refused || racing) {
            // A concurrent request with the same key is being or has been served.
            Err(StoreError::IdempotencyKeyTaken)
        } else if reasons.first().and_then(Option::as_deref) == Some(CONDITION_FAILED) {
            Err(StoreError::Conflict)
        } else {
            Err(unavailable(error))
        }
    }

    async fn get(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        Ok(self.read_partition(id).await?.map(|(record, _)| record))
    }

    async fn head(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.orders)
            .key("pk", string(order_partition_key(id)))
            .key("sk", string(HEAD_SORT_KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(from_item).transpose()
    }

    async fn apply(&self, change: &Revision) -> Result<(), StoreError> {
        let writes = change_writes(&self.tables.orders, change)?;
        self.write_change(change, writes).await
    }

    async fn append_timeline(&self, order_id: &OrderId, entry: &TimelineEntry) -> Result<(), StoreError> {
        // One item: a conditional put, not a transaction (which would cost twice the writes).
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.orders)
            .set_item(Some(timeline_item(order_id, entry)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::AlreadyRecorded)
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn record_capture(&self, id: &OrderId, amount: Money) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.orders)
            .key("pk", string(order_partition_key(id)))
            .key("sk", string(HEAD_SORT_KEY))
            .update_expression("SET payment.captured = :amount")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":amount", attribute(&amount)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn customer_orders(&self, order: &Order) -> Result<Vec<RecentOrder>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Projected {
            id: OrderId,
            payment: Payment,
            status: OrderStatus,
            created_at: DateTime<Utc>,
        }
        // An order placed before orders carried lookup keys has no history to count.
        let Some(customer) = &order.customer_key else { return Ok(Vec::new()) };
        let output = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .index_name(CUSTOMER_INDEX)
            .key_condition_expression("customer_key = :customer")
            .expression_attribute_values(":customer", string(customer.as_str()))
            .expression_attribute_names("#status", "status")
            .projection_expression("id, payment, #status, created_at")
            .scan_index_forward(false)
            .limit(i32::try_from(CUSTOMER_ORDERS_READ).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let projected: Projected = from_item(item)?;
                let disputes = &projected.payment.disputes;
                let lost_dispute = disputes.iter().any(|dispute| dispute.status == crate::domain::DisputeStatus::Lost);
                let settled = projected.status == OrderStatus::Delivered && disputes.is_empty();
                let card = projected.payment.card_fingerprint.unwrap_or_else(|| projected.payment.method.to_string());
                Ok(RecentOrder { id: projected.id, card, created_at: projected.created_at, settled, lost_dispute })
            })
            .collect()
    }

    async fn idempotency_record(
        &self,
        storefront: &StorefrontId,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.idempotency)
            .key("pk", string(idempotency_partition_key(storefront, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let record: IdempotencyItem = from_item(item)?;
        if record.expires_at < now.timestamp() {
            return Ok(None);
        }
        Ok(Some(IdempotencyRecord {
            storefront: storefront.clone(),
            key: key.clone(),
            request_hash: record.request_hash,
            response: record.response,
            expires_at: DateTime::from_timestamp(record.expires_at, 0).unwrap_or(now),
        }))
    }
}
