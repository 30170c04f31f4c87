//! Reads a DynamoDB stream through the Streams API and hands its records over exactly as
//! Lambda's event source mapping would: `{"Records": [...]}` in Lambda's JSON shape.

use std::collections::BTreeMap;

use aws_lambda_events::dynamodb::Event;
use aws_sdk_dynamodbstreams::{
    Client,
    types::{Record, ShardIteratorType},
};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the Streams API call failed")]
    Api(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stream record did not convert to Lambda's event shape")]
    Shape(#[from] serde_json::Error),
}

fn api(error: impl std::error::Error + Send + Sync + 'static) -> StreamError {
    StreamError::Api(Box::new(error))
}

/// A reader that remembers, per shard, where it got to.
#[derive(Debug)]
pub struct StreamReader {
    client: Client,
    stream_arn: String,
    /// Shard id → the iterator to read next; `None` once a closed shard is read to its end.
    positions: BTreeMap<String, Option<String>>,
    /// Where a shard seen for the first time is read from.
    start: ShardIteratorType,
}

impl StreamReader {
    pub fn new(client: Client, stream_arn: impl Into<String>) -> Self {
        Self {
            client,
            stream_arn: stream_arn.into(),
            positions: BTreeMap::new(),
            start: ShardIteratorType::TrimHorizon,
        }
    }

    /// Reads new shards from their end (`LATEST`) instead of their start.
    pub fn from_latest(mut self) -> Self {
        self.start = ShardIteratorType::Latest;
        self
    }

    /// The records written since the last call, oldest first, up to `limit` per shard, in
    /// Lambda's JSON shape.
    pub async fn next_records(&mut self, limit: i32) -> Result<Vec<Value>, StreamError> {
        Ok(self.next_records_by_shard(limit).await?.into_values().flatten().collect())
    }

    /// As `next_records`, kept apart per shard id: Lambda never mixes shards in one batch.
    pub async fn next_records_by_shard(&mut self, limit: i32) -> Result<BTreeMap<String, Vec<Value>>, StreamError> {
        self.discover_shards().await?;
        let mut by_shard = BTreeMap::new();
        for (shard, position) in self.positions.iter_mut() {
            let Some(iterator) = position.clone() else { continue };
            let output = self.client.get_records().shard_iterator(iterator).limit(limit).send().await.map_err(api)?;
            *position = output.next_shard_iterator;
            let mut records = Vec::new();
            for record in output.records.unwrap_or_default() {
                let converted = lambda_record(&record, &self.stream_arn)
                    .inspect_err(|_| tracing::error!(%shard, "unconvertible stream record"))?;
                records.push(converted);
            }
            if !records.is_empty() {
                by_shard.insert(shard.clone(), records);
            }
        }
        Ok(by_shard)
    }

    /// Finds shards not seen before and starts reading each where the reader starts.
    async fn discover_shards(&mut self) -> Result<(), StreamError> {
        let description = self.client.describe_stream().stream_arn(&self.stream_arn).send().await.map_err(api)?;
        let shards = description.stream_description.and_then(|d| d.shards).unwrap_or_default();
        for shard_id in shards.into_iter().filter_map(|shard| shard.shard_id) {
            if self.positions.contains_key(&shard_id) {
                continue;
            }
            let output = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(&shard_id)
                .shard_iterator_type(self.start.clone())
                .send()
                .await
                .map_err(api)?;
            self.positions.insert(shard_id, output.shard_iterator);
        }
        Ok(())
    }
}

/// One record as Lambda delivers it to a function.
pub fn lambda_record(record: &Record, stream_arn: &str) -> Result<Value, serde_json::Error> {
    let change = record.dynamodb.as_ref();
    let image = |map: Option<&std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        serde_json::to_value(serde_dynamo::Item::from(map.cloned().unwrap_or_default()))
    };
    Ok(json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|name| name.as_str()),
        "eventVersion": record.event_version,
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region,
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time).map(|t| t.secs()),
            "Keys": image(change.and_then(|c| c.keys.as_ref()))?,
            "NewImage": image(change.and_then(|c| c.new_image.as_ref()))?,
            "OldImage": image(change.and_then(|c| c.old_image.as_ref()))?,
            "SequenceNumber": change.and_then(|c| c.sequence_number.as_deref()),
            "SizeBytes": change.and_then(|c| c.size_bytes),
            "StreamViewType": change.and_then(|c| c.stream_view_type.as_ref()).map(|view| view.as_str()),
        }
    }))
}

/// A batch of records as the `aws_lambda_events` DynamoDB event a function receives.
pub fn lambda_event(records: &[Value]) -> Result<Event, serde_json::Error> {
    serde_json::from_value(json!({ "Records": records }))
}
