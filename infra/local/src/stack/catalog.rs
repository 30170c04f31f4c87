//! The demo catalog the local runner and the tests seed into `Inventory`.

use serde::Deserialize;
use shared::{
    adapters::dynamodb::DynamoStore,
    domain::{CatalogItem, Line, Money, Sku, StoreError},
};

const DEMO_CATALOG: &str = include_str!("../../catalog.json");

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogEntry {
    pub sku: Sku,
    pub name: Line,
    pub unit_price: Money,
    pub available: u32,
    /// What the confirmation e-mail may recommend with it.
    #[serde(default)]
    pub related: Vec<Sku>,
}

impl CatalogEntry {
    pub fn item(&self) -> CatalogItem {
        CatalogItem { sku: self.sku.clone(), name: self.name.clone(), unit_price: self.unit_price }
    }
}

/// The entries of `infra/local/catalog.json`.
pub fn demo_catalog() -> Result<Vec<CatalogEntry>, serde_json::Error> {
    serde_json::from_str(DEMO_CATALOG)
}

/// Puts every entry into the store's catalog.
pub async fn seed(store: &DynamoStore, entries: &[CatalogEntry]) -> Result<(), StoreError> {
    for entry in entries {
        store.put_catalog_item(&entry.item(), entry.available).await?;
        if !entry.related.is_empty() {
            store.set_related(&entry.sku, &entry.related).await?;
        }
    }
    Ok(())
}
