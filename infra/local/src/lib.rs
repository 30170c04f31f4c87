//! The local cloud: starts moto server, provisions it from `infra/template.yaml`, reads
//! DynamoDB streams the way Lambda does, and seeds a demo catalog.

pub mod apigw;
pub mod catalog;
pub mod cloud;
pub mod provision;
pub mod streams;
pub mod template;

pub use cloud::{MotoServer, sdk_config};
pub use provision::{Physical, Stack, provision};
pub use streams::{StreamReader, lambda_event};
pub use template::Template;
