//! The `Inventory` table as the catalog: names and prices by SKU.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::{DynamoStore, Item, from_item, number, string, to_item, unavailable};
use crate::domain::{Catalog, CatalogItem, Line, Money, Sku, StoreError};

/// BatchGetItem takes at most 100 keys a call.
const BATCH_GET_LIMIT: usize = 100;
/// Unprocessed keys are throttling: retry them a few times, then report the store unavailable.
const UNPROCESSED_RETRIES: u32 = 5;

pub(super) fn sku_partition_key(sku: &Sku) -> String {
    format!("SKU#{sku}")
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CatalogRecord {
    sku: Sku,
    name: Line,
    unit_price: Money,
}

impl DynamoStore {
    /// Puts a SKU into the catalog with `available` units in stock, replacing what was there:
    /// for seeding a demo shop or a test, not for running one.
    pub async fn put_catalog_item(&self, item: &CatalogItem, available: u32) -> Result<(), StoreError> {
        let record = CatalogRecord { sku: item.sku.clone(), name: item.name.clone(), unit_price: item.unit_price };
        let item = to_item(&record, [("pk", string(sku_partition_key(&item.sku))), ("available", number(available))])?;
        self.client
            .put_item()
            .table_name(&self.tables.inventory)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

impl Catalog for DynamoStore {
    async fn items(&self, skus: &[Sku]) -> Result<HashMap<Sku, CatalogItem>, StoreError> {
        let keys = skus.iter().map(sku_partition_key);
        let items = self
            .batch_get(&self.tables.inventory, keys, "sku, #name, unit_price", Some(("#name", "name")), false)
            .await?;
        items
            .into_iter()
            .map(|item| {
                let record: CatalogRecord = from_item(item)?;
                Ok((
                    record.sku.clone(),
                    CatalogItem { sku: record.sku, name: record.name, unit_price: record.unit_price },
                ))
            })
            .collect()
    }
}

impl DynamoStore {
    /// Every item of `table` with one of these partition keys (duplicates read once), in
    /// `BatchGetItem`'s chunks, retrying the keys DynamoDB leaves unprocessed when throttled.
    pub(super) async fn batch_get(
        &self,
        table: &str,
        partition_keys: impl Iterator<Item = String>,
        projection: &str,
        name: Option<(&str, &str)>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let unique: Vec<String> = partition_keys.collect::<HashSet<_>>().into_iter().collect();
        let mut found = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_LIMIT) {
            let keys: Vec<Item> = chunk.iter().map(|pk| Item::from([("pk".to_owned(), string(pk))])).collect();
            let mut request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression(projection)
                .consistent_read(consistent)
                .set_expression_attribute_names(
                    name.map(|(alias, real)| HashMap::from([(alias.to_owned(), real.to_owned())])),
                )
                .build()
                .map_err(unavailable)?;
            for attempt in 0..=UNPROCESSED_RETRIES {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(table, request.clone())
                    .send()
                    .await
                    .map_err(unavailable)?;
                found.extend(output.responses.and_then(|mut tables| tables.remove(table)).unwrap_or_default());
                match output.unprocessed_keys.and_then(|mut tables| tables.remove(table)) {
                    Some(rest) if !rest.keys.is_empty() => {
                        if attempt == UNPROCESSED_RETRIES {
                            return Err(StoreError::Unavailable("batch reads stayed throttled".into()));
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                        request = rest;
                    }
                    _ => break,
                }
            }
        }
        Ok(found)
    }
}
