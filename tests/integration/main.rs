//! Integration tests against the local cloud: moto server over HTTP, no SDK mocks.

mod harness;
mod intake;
mod store;
mod stream_router;
mod template;
