//! DynamoDB adapter for the domain's ports: orders with their timeline, the catalog, and
//! idempotency claims. Items are mapped with `serde_dynamo`; keys follow DESIGN.md.

mod catalog;
mod desk;
mod notifications;
mod orders;
mod stock;

use std::{collections::HashMap, error::Error as StdError, sync::Arc};

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    config::{ConfigError, Env},
    domain::{OrderId, StoreError},
};

pub use notifications::SuppressionStore;
pub use orders::{HEAD_SORT_KEY, published_version};

/// The physical table names, from the template's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub orders: String,
    pub inventory: String,
    pub idempotency: String,
}

/// Orders, catalog and idempotency claims in DynamoDB. Cheap to clone: share one per process.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Arc<Tables>,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables: Arc::new(tables) }
    }

    /// Reads the table names from `ORDERS_TABLE`, `INVENTORY_TABLE` and `IDEMPOTENCY_TABLE`.
    pub fn from_env(client: Client, env: &Env) -> Result<Self, ConfigError> {
        let tables = Tables {
            orders: env.get("ORDERS_TABLE")?,
            inventory: env.get("INVENTORY_TABLE")?,
            idempotency: env.get("IDEMPOTENCY_TABLE")?,
        };
        Ok(Self::new(client, tables))
    }
}

type Item = HashMap<String, AttributeValue>;

fn order_partition_key(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A domain value as an item, with its key attributes added.
fn to_item<T: Serialize>(
    value: &T,
    keys: impl IntoIterator<Item = (&'static str, AttributeValue)>,
) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(malformed)?;
    item.extend(keys.into_iter().map(|(name, value)| (name.to_owned(), value)));
    Ok(item)
}

/// An item as a domain value; key attributes the value does not know are ignored.
fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(malformed)
}

fn malformed(error: serde_dynamo::Error) -> StoreError {
    StoreError::Malformed(Box::new(error))
}

fn unavailable(error: impl StdError + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

/// Whether a conditional write was made: false when its condition did not hold.
fn conditionally_written<T, E, R>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") => {
            Ok(false)
        }
        Err(error) => Err(unavailable(error)),
    }
}
