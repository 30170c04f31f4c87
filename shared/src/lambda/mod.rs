//! What runs the use cases on Lambda: the SQS batch loop, the HTTP edge, the log format, and
//! the wiring of use cases to their adapters.

#[cfg(feature = "lambda")]
pub mod consumer;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "telemetry")]
pub mod telemetry;
#[cfg(all(feature = "stripe", feature = "dynamodb"))]
pub mod wiring;
