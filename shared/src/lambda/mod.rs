//! What runs the use cases on Lambda: the SQS batch loop, the HTTP edge, the log format, and
//! the payments wiring that `payment` and `operator-api` share (every other function wires its
//! use case in its handler's `from_env`).

#[cfg(feature = "lambda")]
pub mod consumer;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "telemetry")]
pub mod telemetry;
#[cfg(all(feature = "stripe", feature = "dynamodb"))]
pub mod wiring;
