//! The notifier's records: the ledger of messages sent (in `Idempotency`), the suppression list
//! (its own table, kept when the stack goes), the catalog's relations, and delivered orders by
//! day (the `by-delivery-day` index of `Orders`).

use std::collections::HashMap;

use aws_sdk_dynamodb::{Client, types::ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::{DynamoStore, catalog::sku_partition_key, number, string, unavailable};
use crate::{
    config::{ConfigError, Env},
    digest::sha256_hex,
    domain::{EmailAddress, OrderId, Sku, StoreError},
    notification::{
        Claim, DeliveredOrders, MessageKey, NotificationLedger, ProductRelations, SuppressionList, SuppressionReason,
    },
};

/// A claim older than this was given up by a notifier that crashed (or could not record what
/// it did): taken over if it never reached the provider, recorded as perhaps sent if it did.
/// Longer than the notifier's timeout, shorter than the queue's retries.
const LEASE_SECONDS: i64 = 120;
/// How long the ledger remembers a message: longer than any queue keeps a message (14 days
/// in a dead-letter queue) and than the feedback sweep looks back.
const LEDGER_DAYS: i64 = 45;
/// Claimed, not yet handed to the provider.
const SENDING: &str = "sending";
/// Handed to the provider: whatever happens next, it is not sent again.
const DISPATCHED: &str = "dispatched";
const SENT: &str = "sent";
/// Not sent: the order had moved past it by the time it came to be sent.
const SKIPPED: &str = "skipped";

fn ledger_key(message: &MessageKey) -> String {
    format!("NOTIFICATION#{}#{}#{}", message.order_id, message.occasion, message.channel.as_str())
}

/// The claim is still this token's, handed to the provider or not.
const HELD_BY: &str = "#token = :token AND (#state = :sending OR #state = :dispatched)";

fn held_by_names() -> HashMap<String, String> {
    HashMap::from([("#state".to_owned(), "state".to_owned()), ("#token".to_owned(), "token".to_owned())])
}

fn held_by_values(token: &str) -> super::Item {
    HashMap::from([
        (":sending".to_owned(), string(SENDING)),
        (":dispatched".to_owned(), string(DISPATCHED)),
        (":token".to_owned(), string(token)),
    ])
}

/// A token unique to one claim: who may mark it sent or release it.
fn claim_token() -> String {
    let mut bytes = [0u8; 12];
    // Falls back to the clock's nanoseconds: the token only tells concurrent claims apart.
    if getrandom::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&Utc::now().timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl NotificationLedger for DynamoStore {
    async fn claim(&self, message: &MessageKey, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        let token = claim_token();
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.idempotency)
            .item("pk", string(ledger_key(message)))
            .item("state", string(SENDING))
            .item("token", string(&token))
            .item("lease_until", number(now.timestamp() + LEASE_SECONDS))
            .item("expires_at", number(now.timestamp() + LEDGER_DAYS * 86_400))
            .condition_expression("attribute_not_exists(pk) OR (#state = :sending AND lease_until < :now)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", string(SENDING))
            .expression_attribute_values(":now", number(now.timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Granted { token }),
            Err(error) => match error.into_service_error() {
                error if error.is_conditional_check_failed_exception() => {
                    let old = match &error {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                            failed,
                        ) => failed.item().cloned().unwrap_or_default(),
                        _ => HashMap::new(),
                    };
                    let state = old.get("state").and_then(|state| state.as_s().ok()).map(String::as_str);
                    let lease_until = old.get("lease_until").and_then(|until| until.as_n().ok()?.parse::<i64>().ok());
                    let lapsed = lease_until.is_some_and(|until| until < now.timestamp());
                    Ok(match state {
                        Some(SENT | SKIPPED) => Claim::AlreadySent,
                        Some(DISPATCHED) if lapsed => Claim::MayHaveGone,
                        _ => Claim::InFlight,
                    })
                }
                error => Err(unavailable(error)),
            },
        }
    }

    async fn mark_sent(
        &self,
        message: &MessageKey,
        token: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("pk", string(ledger_key(message)))
            .update_expression("SET #state = :sent, message_id = :message, sent_at = :at, #token = :token")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":sent", string(SENT))
            .expression_attribute_values(":message", string(message_id))
            .expression_attribute_values(":token", string(token))
            .expression_attribute_values(":at", string(now.to_rfc3339_opts(SecondsFormat::Millis, true)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn skip(&self, message: &MessageKey, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.idempotency)
            .item("pk", string(ledger_key(message)))
            .item("state", string(SKIPPED))
            .item("reason", string(reason))
            .item("skipped_at", string(now.to_rfc3339_opts(SecondsFormat::Millis, true)))
            .item("expires_at", number(now.timestamp() + LEDGER_DAYS * 86_400))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        // Not written: sent, being sent, or skipped by an earlier delivery; that decision stands.
        super::conditionally_written(result)
    }

    async fn dispatch(&self, message: &MessageKey, token: &str) -> Result<bool, StoreError> {
        // Still this token's, sending or (a retried write whose answer was lost) dispatched.
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("pk", string(ledger_key(message)))
            .update_expression("SET #state = :dispatched")
            .condition_expression(HELD_BY)
            .set_expression_attribute_names(Some(held_by_names()))
            .set_expression_attribute_values(Some(held_by_values(token)))
            .send()
            .await;
        super::conditionally_written(result)
    }

    async fn release_claim(&self, message: &MessageKey, token: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.idempotency)
            .key("pk", string(ledger_key(message)))
            .condition_expression(HELD_BY)
            .set_expression_attribute_names(Some(held_by_names()))
            .set_expression_attribute_values(Some(held_by_values(token)))
            .send()
            .await;
        match result {
            // Someone else's claim by now: theirs to finish.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            other => other.map(|_| ()).map_err(unavailable),
        }
    }
}

impl ProductRelations for DynamoStore {
    async fn related(&self, skus: &[Sku]) -> Result<HashMap<Sku, Vec<Sku>>, StoreError> {
        let items = self
            .batch_get(&self.tables.inventory, skus.iter().map(sku_partition_key), "sku, related", None, false)
            .await?;
        #[derive(serde::Deserialize)]
        struct Relations {
            sku: Sku,
            #[serde(default)]
            related: Vec<Sku>,
        }
        items
            .into_iter()
            .map(|item| super::from_item::<Relations>(item).map(|relations| (relations.sku, relations.related)))
            .collect()
    }
}

impl DynamoStore {
    /// What the ledger holds for each of `keys` that it holds at all, in the keys' order.
    pub async fn ledger_entries<T: Clone>(
        &self,
        keys: &[(T, MessageKey)],
    ) -> Result<Vec<(T, MessageKey, crate::evidence::LedgerEntry)>, StoreError> {
        let items = self
            .batch_get(
                &self.tables.idempotency,
                keys.iter().map(|(_, key)| ledger_key(key)),
                "pk, #state, sent_at, skipped_at, reason",
                Some(("#state", "state")),
                true,
            )
            .await?;
        let text = |item: &super::Item, name: &str| item.get(name).and_then(|value| value.as_s().ok()).cloned();
        let mut found = Vec::new();
        for (tag, key) in keys {
            let Some(item) = items.iter().find(|item| text(item, "pk").as_deref() == Some(ledger_key(key).as_str()))
            else {
                continue;
            };
            let entry = crate::evidence::LedgerEntry {
                state: text(item, "state").unwrap_or_default(),
                at: text(item, "sent_at").or_else(|| text(item, "skipped_at")),
                reason: text(item, "reason"),
            };
            found.push((tag.clone(), key.clone(), entry));
        }
        Ok(found)
    }

    /// Sets the SKUs the catalog recommends with `sku`.
    pub async fn set_related(&self, sku: &Sku, related: &[Sku]) -> Result<(), StoreError> {
        let list = related.iter().map(|sku| string(sku.as_str())).collect();
        self.client
            .update_item()
            .table_name(&self.tables.inventory)
            .key("pk", string(sku_partition_key(sku)))
            .update_expression("SET related = :related")
            .expression_attribute_values(":related", aws_sdk_dynamodb::types::AttributeValue::L(list))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// The index that finds delivered orders by day; the head carries `delivered_on` from delivery.
pub(super) const DELIVERY_DAY_INDEX: &str = "by-delivery-day";

impl DeliveredOrders for DynamoStore {
    async fn delivered_on(&self, day: NaiveDate) -> Result<Vec<OrderId>, StoreError> {
        let pages = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .index_name(DELIVERY_DAY_INDEX)
            .key_condition_expression("delivered_on = :day")
            .expression_attribute_values(":day", string(day.to_string()))
            .into_paginator()
            .items()
            .send();
        let items: Vec<_> = pages.collect::<Result<_, _>>().await.map_err(unavailable)?;
        Ok(items
            .iter()
            .filter_map(|item| {
                item.get("pk")?.as_s().ok()?.strip_prefix("ORDER#").and_then(|id| OrderId::parse(id).ok())
            })
            .collect())
    }
}

/// The suppression list: one item per address, keyed by a hash of it, so the table never
/// holds an address in clear.
#[derive(Debug, Clone)]
pub struct SuppressionStore {
    client: Client,
    table: String,
}

impl SuppressionStore {
    /// The table from `SUPPRESSION_TABLE`.
    pub fn from_env(client: Client, env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { client, table: env.get("SUPPRESSION_TABLE")? })
    }
}

fn suppression_key(address: &EmailAddress) -> String {
    format!("EMAIL#{}", sha256_hex(address.as_str().to_lowercase()))
}

impl SuppressionList for SuppressionStore {
    async fn is_suppressed(&self, address: &EmailAddress) -> Result<bool, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", string(suppression_key(address)))
            .projection_expression("pk")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item.is_some())
    }

    async fn suppress(
        &self,
        address: &EmailAddress,
        reason: SuppressionReason,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", string(suppression_key(address)))
            .item("reason", string(reason.as_str()))
            .item("suppressed_at", string(at.to_rfc3339_opts(SecondsFormat::Millis, true)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
