//! Stock in the `Inventory` table: the counters (on the SKU's catalog item, or split across
//! `SKU#{sku}#STOCK#{n}` items for a hot SKU) and one `RESERVATION#{order}` item per order that
//! holds stock, which makes a release exact and idempotent.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::{
    DynamoStore,
    catalog::sku_partition_key,
    from_item, number,
    orders::{CONDITION_FAILED, TRANSACTION_CONFLICT, cancellation_reasons, change_writes},
    string, to_item, unavailable,
};
use crate::domain::{
    Allocation, Counter, MAX_WRITE_ITEMS, OrderId, Release, ReserveError, Revision, STOCK_WRITE_OVERHEAD, Sku,
    StockAdjustment, StockLedger, StockLevel, StoreError,
};

const SHARD_INFIX: &str = "#STOCK#";

fn counter_key(sku: &Sku, counter: Counter) -> String {
    match counter {
        Counter::Item => sku_partition_key(sku),
        Counter::Shard(shard) => format!("{}{SHARD_INFIX}{shard}", sku_partition_key(sku)),
    }
}

fn reservation_key(order: &OrderId) -> String {
    format!("RESERVATION#{order}")
}

#[derive(serde::Deserialize)]
struct CounterRecord {
    pk: String,
    #[serde(default)]
    available: Option<u32>,
    /// On a SKU's item: its stock is split across this many counters instead.
    #[serde(default)]
    stock_shards: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum ReservationState {
    Reserved,
    Released,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ReservationRecord {
    order_id: OrderId,
    state: ReservationState,
    allocations: Vec<Allocation>,
    reserved_at: DateTime<Utc>,
}

impl DynamoStore {
    /// Splits a SKU's stock across `shards` counters holding `available` units between them
    /// (for a hot SKU), replacing what was there. For seeding and tests; moving live stock
    /// between layouts is an operator's job.
    pub async fn put_split_stock(&self, sku: &Sku, shards: u16, available: u32) -> Result<(), StoreError> {
        let shards = shards.max(1);
        self.client
            .update_item()
            .table_name(&self.tables.inventory)
            .key("pk", string(sku_partition_key(sku)))
            .update_expression("SET stock_shards = :shards REMOVE available")
            .expression_attribute_values(":shards", number(shards))
            .send()
            .await
            .map_err(unavailable)?;
        for shard in 0..shards {
            let units = available / u32::from(shards) + u32::from(u32::from(shard) < available % u32::from(shards));
            self.client
                .put_item()
                .table_name(&self.tables.inventory)
                .item("pk", string(counter_key(sku, Counter::Shard(shard))))
                .item("available", number(units))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }
}

impl DynamoStore {
    async fn reservation_record(&self, order: &OrderId) -> Result<Option<ReservationRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.inventory)
            .key("pk", string(reservation_key(order)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(from_item).transpose()
    }

    /// Takes units from a counter, on condition that it still has them.
    fn take(&self, allocation: &Allocation) -> Result<TransactWriteItem, StoreError> {
        let take = Update::builder()
            .table_name(&self.tables.inventory)
            .key("pk", string(counter_key(&allocation.sku, allocation.counter)))
            .update_expression("SET available = available - :units")
            .condition_expression("available >= :units")
            .expression_attribute_values(":units", number(allocation.quantity))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(take).build())
    }

    fn give_back(&self, allocation: &Allocation) -> Result<TransactWriteItem, StoreError> {
        let give_back = Update::builder()
            .table_name(&self.tables.inventory)
            .key("pk", string(counter_key(&allocation.sku, allocation.counter)))
            .update_expression("ADD available :units")
            .expression_attribute_values(":units", number(allocation.quantity))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(give_back).build())
    }

    /// Writes a transaction whose first item is the order's head, whose third (if any) is the
    /// reservation, and whose counters start at `first_counter`.
    async fn write_stock(&self, writes: Vec<TransactWriteItem>, first_counter: usize) -> Result<(), ReserveError> {
        let Err(error) = self.client.transact_write_items().set_transact_items(Some(writes)).send().await else {
            return Ok(());
        };
        let reasons = cancellation_reasons(&error);
        let failed = |index: usize| reasons.get(index).and_then(Option::as_deref) == Some(CONDITION_FAILED);
        if failed(0) || (first_counter > 2 && failed(2)) {
            Err(ReserveError::OrderMoved)
        } else if (first_counter..reasons.len()).any(failed)
            || reasons.iter().flatten().any(|code| code == TRANSACTION_CONFLICT)
        {
            Err(ReserveError::StockMoved)
        } else {
            Err(unavailable(error).into())
        }
    }
}

impl StockLedger for DynamoStore {
    async fn stock_levels(&self, skus: &[Sku]) -> Result<HashMap<Sku, StockLevel>, StoreError> {
        let table = &self.tables.inventory;
        let heads = self
            .batch_get(table, skus.iter().map(sku_partition_key), "pk, available, stock_shards", None, true)
            .await?;
        let mut levels = HashMap::new();
        let mut shard_keys = Vec::new();
        for head in heads {
            let record: CounterRecord = from_item(head)?;
            let Some(sku) = record.pk.strip_prefix("SKU#").and_then(|sku| Sku::parse(sku).ok()) else { continue };
            match record.stock_shards {
                Some(shards) => shard_keys.extend((0..shards).map(|shard| counter_key(&sku, Counter::Shard(shard)))),
                None => {
                    levels.insert(sku, StockLevel { counters: vec![(Counter::Item, record.available.unwrap_or(0))] });
                }
            }
        }
        if !shard_keys.is_empty() {
            for item in self.batch_get(table, shard_keys.into_iter(), "pk, available", None, true).await? {
                let record: CounterRecord = from_item(item)?;
                let parsed = record.pk.strip_prefix("SKU#").and_then(|rest| rest.split_once(SHARD_INFIX));
                let Some((sku, shard)) =
                    parsed.and_then(|(sku, shard)| Some((Sku::parse(sku).ok()?, shard.parse().ok()?)))
                else {
                    continue;
                };
                let level = levels.entry(sku).or_insert_with(|| StockLevel { counters: Vec::new() });
                level.counters.push((Counter::Shard(shard), record.available.unwrap_or(0)));
            }
            for level in levels.values_mut() {
                level.counters.sort();
            }
        }
        Ok(levels)
    }

    async fn reservation(&self, order: &OrderId) -> Result<Option<Vec<Allocation>>, StoreError> {
        Ok(self
            .reservation_record(order)
            .await?
            .filter(|record| record.state == ReservationState::Reserved)
            .map(|record| record.allocations))
    }

    async fn adjust(&self, change: &Revision, adjustment: &StockAdjustment) -> Result<(), ReserveError> {
        let StockAdjustment { take, give_back, reservation } = adjustment;
        const FIRST_COUNTER: usize = STOCK_WRITE_OVERHEAD;
        if take.len() + give_back.len() + FIRST_COUNTER > MAX_WRITE_ITEMS {
            return Err(StoreError::Unavailable("the adjustment needs more than one transaction".into()).into());
        }
        let record = Update::builder()
            .table_name(&self.tables.inventory)
            .key("pk", string(reservation_key(&change.order_id)))
            .update_expression("SET allocations = :allocations")
            .condition_expression("#state = :reserved")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":reserved", string("RESERVED"))
            .expression_attribute_values(
                ":allocations",
                serde_dynamo::to_attribute_value(reservation)
                    .map_err(|error| StoreError::Malformed(Box::new(error)))?,
            )
            .build()
            .map_err(unavailable)?;
        let mut writes = change_writes(&self.tables.orders, change)?;
        writes.push(TransactWriteItem::builder().update(record).build());
        for allocation in take {
            writes.push(self.take(allocation)?);
        }
        for allocation in give_back {
            writes.push(self.give_back(allocation)?);
        }
        self.write_stock(writes, FIRST_COUNTER).await
    }

    async fn restock(&self, change: &Revision, units: &[Allocation]) -> Result<(), StoreError> {
        // A restock writes the head and its timeline entry; no reservation record changes.
        const FIRST_COUNTER: usize = STOCK_WRITE_OVERHEAD - 1;
        let mut writes = change_writes(&self.tables.orders, change)?;
        for allocation in units {
            writes.push(self.give_back(allocation)?);
        }
        match self.write_stock(writes, FIRST_COUNTER).await {
            Ok(()) => Ok(()),
            Err(ReserveError::OrderMoved) => Err(StoreError::Conflict),
            Err(ReserveError::StockMoved) => Err(StoreError::Unavailable("a counter was busy".into())),
            Err(ReserveError::Store(error)) => Err(error),
        }
    }

    async fn reserve(&self, change: &Revision, allocations: &[Allocation]) -> Result<(), ReserveError> {
        const FIRST_COUNTER: usize = STOCK_WRITE_OVERHEAD;
        if allocations.len() + FIRST_COUNTER > MAX_WRITE_ITEMS {
            return Err(StoreError::Unavailable("the reservation needs more than one transaction".into()).into());
        }
        let record = ReservationRecord {
            order_id: change.order_id.clone(),
            state: ReservationState::Reserved,
            allocations: allocations.to_vec(),
            reserved_at: change.at,
        };
        let reservation = Put::builder()
            .table_name(&self.tables.inventory)
            .set_item(Some(to_item(&record, [("pk", string(reservation_key(&change.order_id)))])?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let mut writes = change_writes(&self.tables.orders, change)?;
        writes.push(TransactWriteItem::builder().put(reservation).build());
        for allocation in allocations {
            writes.push(self.take(allocation)?);
        }
        self.write_stock(writes, FIRST_COUNTER).await
    }

    async fn release(&self, order: &OrderId, at: DateTime<Utc>) -> Result<Release, StoreError> {
        let key = reservation_key(order);
        let Some(record) = self.reservation_record(order).await? else {
            return Ok(Release::NothingReserved);
        };
        if record.state == ReservationState::Released {
            return Ok(Release::AlreadyReleased);
        }
        let close = Update::builder()
            .table_name(&self.tables.inventory)
            .key("pk", string(&key))
            .update_expression("SET #state = :released, released_at = :at")
            .condition_expression("#state = :reserved")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":released", string("RELEASED"))
            .expression_attribute_values(":reserved", string("RESERVED"))
            .expression_attribute_values(":at", string(at.to_rfc3339()))
            .build()
            .map_err(unavailable)?;
        let mut writes = vec![TransactWriteItem::builder().update(close).build()];
        for allocation in &record.allocations {
            writes.push(self.give_back(allocation)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(Release::Released),
            Err(error) if cancellation_reasons(&error).first().and_then(Option::as_deref) == Some(CONDITION_FAILED) => {
                Ok(Release::AlreadyReleased)
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}
