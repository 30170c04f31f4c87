//! The local cloud: starts moto server and localstripe, provisions them from
//! `infra/template.yaml`, runs every function's real binary behind a local Lambda Runtime API,
//! serves the HTTP APIs with their JWT authorizers, and plays the event source mappings the
//! way Lambda does.
//!
//! # Layout
//!
//! - [`cloud`]: the emulators' processes (moto server, localstripe) and the layers we put in
//!   front of them (IAM, AWS's limits, faults), whose Python lives in `infra/local/python/`.
//! - [`stack`]: the template read and resolved, provisioned into the cloud, each function's
//!   IAM role, the demo catalog seeded.
//! - [`lambda`]: Lambda's side: the Runtime API and its sandboxes, the event source mappings
//!   (streams, queues, schedules) and their filters.
//! - [`apigw`]: API Gateway's side: routes, the JWT authorizers, the HTTP server, a client.
//! - [`observe`]: what the runner shows: the journal, the outbox of sent messages, previews.
//! - [`partners`], [`runner`]: the warehouse, carriers and payment provider played locally,
//!   and the runner that starts it all; `demo` tells the demo's story.

pub mod apigw;
pub mod cloud;
pub mod lambda;
pub mod observe;
pub mod partners;
pub mod runner;
mod serve;
pub mod stack;
pub use cloud::{LocalStripe, MotoServer, sdk_config};
pub use lambda::streams::{StreamReader, lambda_event};
pub use runner::{CallCount, Runner, RunnerOptions};
pub use stack::provision::{Physical, Stack, provision};
pub use stack::template::Template;
