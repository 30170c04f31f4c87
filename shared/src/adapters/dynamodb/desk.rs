//! The desk's reads and writes on the `Orders` table: searches over its per-storefront indexes
//! (a `Query` per storefront, merged; never a `Scan`), and claims and call outcomes written with
//! the head's conditions beside the order's timeline.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, SecondsFormat, Utc};

use super::{
    DynamoStore, Item, from_item, number, order_partition_key,
    orders::{DESK_PREFIX, HEAD_SORT_KEY, cancellation_reasons, created_id, shop_status},
    string, to_item, unavailable,
};
use crate::domain::{
    ContactOutcome, DeskEntry, DeskStore, DeskWork, OrderId, OrderIndex, OrderPage, OrderQuery, OrderRecord,
    OrderStatus, OrderSummary, Payment, Position, ReviewClaim, SortOrder, StoreError, StorefrontId, Totals,
};

/// A search reads at most this many pages of one partition per request: a filter that keeps
/// little (one status of a customer's many orders) ends the page early rather than read on.
const MAX_PAGES_PER_PARTITION: usize = 10;
/// Below every `created_id` and above every one: the bounds of an open time range.
const EARLIEST: &str = "0";
const LATEST: &str = "~";

/// The index a partition lives in, its partition key's attribute and value.
fn index_of(partition: &OrderIndex) -> (&'static str, &'static str, String) {
    match partition {
        OrderIndex::Storefront(storefront) => ("by-storefront", "shop_key", storefront.as_str().to_owned()),
        OrderIndex::Status(storefront, status) => ("by-shop-status", "shop_status", shop_status(storefront, *status)),
        OrderIndex::Customer(key) => ("by-customer", "customer_key", key.clone()),
        OrderIndex::Phone(key) => ("by-phone", "phone_key", key.clone()),
    }
}

/// What every listing index projects: an order's summary.
#[derive(serde::Deserialize)]
struct SummaryItem {
    id: OrderId,
    storefront: StorefrontId,
    status: OrderStatus,
    totals: Totals,
    created_at: DateTime<Utc>,
    payment: Payment,
    #[serde(default)]
    return_request: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    review_claim: Option<ReviewClaim>,
    #[serde(default)]
    failed_contacts: u8,
}

impl SummaryItem {
    fn summary(self) -> OrderSummary {
        let lost = self.payment.disputes.iter().filter(|d| d.status == crate::domain::DisputeStatus::Lost).count();
        OrderSummary {
            id: self.id,
            storefront: self.storefront,
            status: self.status,
            total: self.totals.total,
            created_at: self.created_at,
            disputes: u32::try_from(self.payment.disputes.len()).unwrap_or(u32::MAX),
            disputes_lost: u32::try_from(lost).unwrap_or(u32::MAX),
            returned: self.return_request.is_some(),
            review_claim: self.review_claim,
            failed_contacts: self.failed_contacts,
        }
    }
}

/// What one partition gave: its matches by position, and how far it was read if it has more.
struct PartitionRead {
    matches: Vec<(String, OrderSummary)>,
    frontier: Option<String>,
}

fn position_of(created: &str) -> Result<Position, StoreError> {
    let malformed = || StoreError::Malformed(format!("{created:?} is not an index position").into());
    let (at, id) = created.split_once('#').ok_or_else(malformed)?;
    let created_at = DateTime::parse_from_rfc3339(at).map_err(|_| malformed())?.with_timezone(&Utc);
    Ok(Position { created_at, id: OrderId::parse(id).map_err(|_| malformed())? })
}

impl DynamoStore {
    async fn read_partition_page(
        &self,
        partition: &OrderIndex,
        query: &OrderQuery,
        after: Option<&str>,
    ) -> Result<PartitionRead, StoreError> {
        let (index, key_attribute, key) = index_of(partition);
        let from = query.created_from.map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true));
        let before = query.created_before.map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true));
        let (mut low, mut high) =
            (from.unwrap_or_else(|| EARLIEST.to_owned()), before.unwrap_or_else(|| LATEST.to_owned()));
        // The cursor's own order is read again (BETWEEN is inclusive) and dropped below.
        match (after, query.order) {
            (Some(after), SortOrder::NewestFirst) if after < high.as_str() => high = after.to_owned(),
            (Some(after), SortOrder::OldestFirst) if after > low.as_str() => low = after.to_owned(),
            _ => {}
        }
        if low > high {
            return Ok(PartitionRead { matches: Vec::new(), frontier: None });
        }
        let keep_status = query.status.filter(|_| !matches!(partition, OrderIndex::Status(..)));
        let wanted = query.limit + 1;
        let mut matches = Vec::new();
        let mut start = None;
        // The cursor's own order comes first and is not a match: one more to read for it.
        let mut cursor_ahead = after.is_some();
        for _ in 0..MAX_PAGES_PER_PARTITION {
            let mut request = self
                .client
                .query()
                .table_name(&self.tables.orders)
                .index_name(index)
                .key_condition_expression("#key = :key AND created_id BETWEEN :low AND :high")
                .expression_attribute_names("#key", key_attribute)
                .expression_attribute_values(":key", string(key.clone()))
                .expression_attribute_values(":low", string(low.clone()))
                .expression_attribute_values(":high", string(high.clone()))
                .scan_index_forward(query.order == SortOrder::OldestFirst)
                .limit(i32::try_from(wanted - matches.len() + usize::from(cursor_ahead)).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if let Some(status) = keep_status {
                request = request
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", string(status.as_str()));
            }
            let output = request.send().await.map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                let created = created_of(&item)?;
                if Some(created.as_str()) == after {
                    cursor_ahead = false;
                    continue;
                }
                matches.push((created, from_item::<SummaryItem>(item)?.summary()));
            }
            start = output.last_evaluated_key;
            if start.is_none() || matches.len() >= wanted {
                break;
            }
        }
        let frontier = start.as_ref().map(created_of).transpose()?;
        Ok(PartitionRead { matches, frontier })
    }
}

fn created_of(item: &Item) -> Result<String, StoreError> {
    item.get("created_id")
        .and_then(|value| value.as_s().ok())
        .cloned()
        .ok_or_else(|| StoreError::Malformed("an index item without created_id".into()))
}

/// Merges the partitions' reads into one page: in the query's order, never past the point one
/// partition with more was read to (an order beyond it could belong before the page's end).
fn merge(reads: Vec<PartitionRead>, order: SortOrder, limit: usize) -> Result<OrderPage, StoreError> {
    let before = |a: &str, b: &str| match order {
        SortOrder::NewestFirst => a > b,
        SortOrder::OldestFirst => a < b,
    };
    let cut = reads
        .iter()
        .filter_map(|read| read.frontier.clone())
        .reduce(|cut, frontier| if before(&frontier, &cut) { frontier } else { cut });
    let mut matches: Vec<(String, OrderSummary)> = reads.into_iter().flat_map(|read| read.matches).collect();
    matches.sort_by(|(a, _), (b, _)| match order {
        SortOrder::NewestFirst => b.cmp(a),
        SortOrder::OldestFirst => a.cmp(b),
    });
    let within: Vec<(String, OrderSummary)> =
        matches.into_iter().filter(|(created, _)| cut.as_deref().is_none_or(|cut| !before(cut, created))).collect();
    let more_beyond = within.len() > limit || cut.is_some();
    let shown: Vec<(String, OrderSummary)> = within.into_iter().take(limit).collect();
    let next = match (shown.last(), more_beyond, &cut) {
        (Some((last, _)), true, _) => Some(position_of(last)?),
        (None, true, Some(cut)) => Some(position_of(cut)?),
        _ => None,
    };
    Ok(OrderPage { orders: shown.into_iter().map(|(_, summary)| summary).collect(), next })
}

fn desk_item(order: &OrderId, entry: &DeskEntry) -> Result<Item, StoreError> {
    let sort_key =
        format!("{DESK_PREFIX}{}#{}", entry.at.to_rfc3339_opts(SecondsFormat::Millis, true), entry.by.request_id);
    to_item(entry, [("pk", string(order_partition_key(order))), ("sk", string(sort_key))])
}

impl DynamoStore {
    /// The head update and the desk entry in one transaction; `Conflict` if the head's
    /// condition failed.
    async fn write_desk(&self, order: &OrderId, head: Update, entry: &DeskEntry) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.tables.orders)
            .set_item(Some(desk_item(order, entry)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let writes =
            vec![TransactWriteItem::builder().update(head).build(), TransactWriteItem::builder().put(put).build()];
        let Err(error) = self.client.transact_write_items().set_transact_items(Some(writes)).send().await else {
            return Ok(());
        };
        let reasons = cancellation_reasons(&error);
        if reasons.iter().flatten().any(|code| code == super::orders::CONDITION_FAILED) {
            Err(StoreError::Conflict)
        } else {
            Err(unavailable(error))
        }
    }

    fn head_update(&self, order: &OrderId) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.tables.orders)
            .key("pk", string(order_partition_key(order)))
            .key("sk", string(HEAD_SORT_KEY))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":on_hold", string(OrderStatus::OnHold.as_str()))
    }
}

impl DeskStore for DynamoStore {
    async fn search(&self, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        let after = query.after.as_ref().map(|position| created_id(position.created_at, &position.id));
        let mut reads = Vec::with_capacity(query.partitions.len());
        for partition in &query.partitions {
            reads.push(self.read_partition_page(partition, query, after.as_deref()).await?);
        }
        merge(reads, query.order, query.limit)
    }

    async fn read_at_desk(&self, id: &OrderId) -> Result<Option<(OrderRecord, Vec<DeskEntry>)>, StoreError> {
        self.read_partition(id).await
    }

    async fn claim(&self, order: &OrderId, claim: &ReviewClaim, entry: &DeskEntry) -> Result<(), StoreError> {
        let claim_value =
            serde_dynamo::to_attribute_value(claim).map_err(|error| StoreError::Malformed(Box::new(error)))?;
        let head = self
            .head_update(order)
            .update_expression("SET review_claim = :claim, claim_expires = :until")
            .condition_expression(
                "#status = :on_hold AND (attribute_not_exists(claim_expires) OR claim_expires <= :now OR review_claim.#by = :me)",
            )
            .expression_attribute_names("#by", "by")
            .expression_attribute_values(":claim", claim_value)
            .expression_attribute_values(":until", number(claim.until.timestamp()))
            .expression_attribute_values(":now", number(entry.at.timestamp()))
            .expression_attribute_values(":me", string(claim.by.as_str()))
            .build()
            .map_err(unavailable)?;
        self.write_desk(order, head, entry).await
    }

    async fn record_contact(&self, order: &OrderId, failed_before: u8, entry: &DeskEntry) -> Result<(), StoreError> {
        let DeskWork::Contacted { outcome, failed_contacts, .. } = &entry.work else {
            return Err(StoreError::Malformed("a call's record that is no call".into()));
        };
        // An unanswered call ends this attempt: the claim goes, and whoever calls back claims anew.
        let update = match outcome {
            ContactOutcome::NoAnswer { .. } => "SET failed_contacts = :failed REMOVE review_claim, claim_expires",
            _ => "SET failed_contacts = :failed",
        };
        let unchanged = if failed_before == 0 {
            "(attribute_not_exists(failed_contacts) OR failed_contacts = :before)"
        } else {
            "failed_contacts = :before"
        };
        let head = self
            .head_update(order)
            .update_expression(update)
            .condition_expression(format!(
                "#status = :on_hold AND review_claim.#by = :me AND claim_expires > :now AND {unchanged}"
            ))
            .expression_attribute_names("#by", "by")
            .expression_attribute_values(":failed", number(failed_contacts))
            .expression_attribute_values(":before", number(failed_before))
            .expression_attribute_values(":now", number(entry.at.timestamp()))
            .expression_attribute_values(":me", string(entry.by.operator.as_str()))
            .build()
            .map_err(unavailable)?;
        self.write_desk(order, head, entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &OrderId) -> OrderSummary {
        OrderSummary {
            id: id.clone(),
            storefront: "shop".parse().unwrap(),
            status: OrderStatus::OnHold,
            total: crate::domain::Money::new(100, crate::domain::Currency::parse("EUR").unwrap()),
            created_at: DateTime::UNIX_EPOCH,
            disputes: 0,
            disputes_lost: 0,
            returned: false,
            review_claim: None,
            failed_contacts: 0,
        }
    }

    fn read(minutes: &[u32], frontier: Option<u32>, ids: &[OrderId]) -> PartitionRead {
        let created = |minute: u32, id: &OrderId| format!("2026-12-07T10:{minute:02}:00.000Z#{id}");
        PartitionRead {
            matches: minutes.iter().zip(ids).map(|(minute, id)| (created(*minute, id), summary(id))).collect(),
            // A partition read partly was read up to one of its own items.
            frontier: frontier.map(|minute| {
                let at = minutes.iter().position(|read| *read == minute).unwrap();
                created(minute, &ids[at])
            }),
        }
    }

    #[test]
    fn a_merged_page_never_reaches_past_a_partition_read_only_partly() {
        let ids: Vec<OrderId> = (0..6).map(|_| OrderId::random().unwrap()).collect();
        // Newest first: shop A read to 10:40 and has more; shop B read completely.
        let a = read(&[50, 40], Some(40), &ids[0..2]);
        let b = read(&[45, 30, 20], None, &ids[2..5]);
        let page = merge(vec![a, b], SortOrder::NewestFirst, 10).unwrap();
        let shown: Vec<&OrderId> = page.orders.iter().map(|summary| &summary.id).collect();
        assert_eq!(shown, [&ids[0], &ids[2], &ids[1]], "10:30 and 10:20 wait until shop A is read past 10:40");
        assert_eq!(page.next.unwrap().id, ids[1]);

        let done = merge(vec![read(&[50], None, &ids[0..1]), read(&[45], None, &ids[2..3])], SortOrder::NewestFirst, 2);
        assert_eq!(done.unwrap().next, None, "everything read and shown: the last page");
        let full = merge(vec![read(&[10, 20, 30], None, &ids[0..3])], SortOrder::OldestFirst, 2).unwrap();
        assert_eq!((full.orders.len(), full.next.map(|p| p.id)), (2, Some(ids[1].clone())));
    }
}
