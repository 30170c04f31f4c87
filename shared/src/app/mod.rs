//! The use cases: each reads the order through the domain's ports, lets the domain decide, and
//! writes the outcome back. No AWS type appears here; `crate::adapters` provides the ports.

pub mod changes;
pub mod delivery;
pub mod fulfillment;
pub mod inventory;
pub mod notifier;
pub mod payments;
pub mod watchdog;
