//! Orderflow's shared library: the pure order domain, the use cases, and the adapters to AWS
//! and the payment provider, each adapter behind a cargo feature so that a function compiles only
//! what it uses.
//!
//! # Layout
//!
//! The folders are the layers of a hexagon; each depends only on the ones listed before it.
//!
//! - [`domain`]: the order and its rules, pure (no AWS, no Lambda, no I/O), and the ports (narrow
//!   traits) the use cases need from the world.
//! - [`config`], [`metrics`], [`strict_json`]: typed settings from the environment, CloudWatch
//!   EMF lines and JSON from outside read strictly, used by every layer above the domain.
//! - [`storefront`]: the shops behind the storefronts (name, support, the locales they offer)
//!   and the policy that holds them: intake takes an order's locale from it, the notifier its
//!   shop's voice.
//! - [`notification`]: which message each event sends, on which channel, and how it reads.
//! - [`evidence`]: what a dispute needs from an order's record and its messages, for operators.
//! - [`app`]: the use cases (inventory, payments, changes, fulfillment, delivery, notifier,
//!   watchdog): read through a port, let the domain decide, write through a port.
//! - [`api`]: the HTTP API's rules, free of HTTP types: request parsing, problems, views.
//! - [`adapters`]: the ports on real services (DynamoDB, SQS, SNS events and SMS, SES, Stripe)
//!   and the carriers', Stripe's and SES's feedback vocabularies. Use cases and adapters never import
//!   each other.
//! - [`web`]: the operators' desk in a browser: its login and session cookies.
//! - [`lambda`]: what the function crates share on Lambda: the SQS batch loop, the HTTP edge,
//!   the log format, and the one wiring two functions share (payments). Every other function
//!   wires its use case to its adapters in its handler's `from_env`.

#![warn(unreachable_pub)]

pub mod adapters;
pub mod api;
pub mod app;
pub mod config;
mod digest;
pub mod domain;
pub mod evidence;
pub mod lambda;
pub mod metrics;
pub mod notification;
pub mod storefront;
pub mod strict_json;
pub mod trust;
pub mod web;
