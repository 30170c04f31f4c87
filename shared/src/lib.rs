//! Orderflow's shared library: the pure order domain, the storefront API's rules, and the
//! adapters to AWS, each behind a cargo feature so that a function compiles only what it uses.

pub mod api;
pub mod changes;
pub mod delivery;
mod digest;
pub mod domain;
pub mod fulfillment;

pub mod config;
#[cfg(feature = "lambda")]
pub mod consumer;
#[cfg(feature = "http")]
pub mod http;
pub mod inventory;
#[cfg(feature = "ses")]
pub mod mail;
pub mod metrics;
pub mod notification;
pub mod notifier;
pub mod payments;
#[cfg(feature = "sns")]
pub mod publish;
#[cfg(feature = "sqs")]
pub mod queue;
#[cfg(feature = "dynamodb")]
pub mod store;
#[cfg(feature = "telemetry")]
pub mod telemetry;
#[cfg(feature = "sns")]
pub mod texts;
pub mod watchdog;
pub mod webhook;
