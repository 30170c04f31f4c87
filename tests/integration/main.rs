//! Integration tests against the local cloud: moto server over HTTP, no SDK mocks.

// A failed expectation in the harness is a failed test, and should read like one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod calls;
mod changes;
mod desk;
mod faults;
mod fulfillment;
mod harness;
mod hostile;
mod iam;
mod intake;
mod notifications;
mod operations;
mod payments;
mod pipeline;
mod previews;
mod provider_events;
mod races;
mod runner;
mod shipping;
mod stock;
mod store;
mod stream_router;
mod template;
mod webhook;
