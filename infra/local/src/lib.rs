//! The local cloud: starts moto server and localstripe, provisions them from
//! `infra/template.yaml`, runs every function's real binary behind a local Lambda Runtime API,
//! serves the HTTP APIs with their JWT authorizers, and plays the event source mappings the
//! way Lambda does.

pub mod api;
pub mod apigw;
pub mod auth;
pub mod catalog;
pub mod client;
pub mod cloud;
pub mod faults;
pub mod filter;
pub mod iam;
pub mod journal;
pub mod outbox;
pub mod partners;
pub mod previews;
pub mod provision;
pub mod runner;
pub mod runtime;
mod serve;
pub mod sources;
pub mod sqs_mapping;
pub mod stream_mapping;
pub mod streams;
pub mod template;

pub use cloud::{LocalStripe, MotoServer, sdk_config};
pub use provision::{Physical, Stack, provision};
pub use runner::{CallCount, Runner, RunnerOptions};
pub use streams::{StreamReader, lambda_event};
pub use template::Template;
