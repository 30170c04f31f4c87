//! Lambda's side of the local cloud: each function's real binary behind a local Runtime API
//! (`runtime`), and the event source mappings that invoke it as Lambda does (`sources`,
//! `stream_mapping` over `streams`, `sqs_mapping`, with `filter`'s `FilterCriteria`).

pub mod filter;
pub mod runtime;
pub mod sources;
pub mod sqs_mapping;
pub mod stream_mapping;
pub mod streams;
