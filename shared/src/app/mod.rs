//! The use cases: each reads the order through the domain's ports, lets the domain decide, and
//! writes the outcome back. No AWS type appears here; `crate::adapters` provides the ports.

pub mod changes;
pub mod delivery;
pub mod fulfillment;
pub mod inventory;
pub mod notifier;
pub mod payments;
pub mod watchdog;

use std::time::Duration;

use crate::domain::{EventType, OrderId};

/// The one retry policy of every read-decide-write in the use cases: after a write that lost its
/// race (another writer changed the order or its stock first), wait a little, longer each time
/// and jittered by the order so that racing orders spread out, and read again; give up (with a
/// retryable error) after `ATTEMPTS` tries.
///
/// ```ignore
/// let mut retries = Retries::for_order(&order.id);
/// while retries.another().await {
///     // read, decide, write; `continue` on a lost race
/// }
/// Err(Busy)
/// ```
pub(crate) struct Retries<'a> {
    order: &'a OrderId,
    tried: u32,
}

impl<'a> Retries<'a> {
    const ATTEMPTS: u32 = 8;

    pub(crate) fn for_order(order: &'a OrderId) -> Self {
        Self { order, tried: 0 }
    }

    /// Whether to try (again), after the back-off a retry waits.
    pub(crate) async fn another(&mut self) -> bool {
        if self.tried >= Self::ATTEMPTS {
            return false;
        }
        if self.tried > 0 {
            let jitter = u64::try_from(self.order.slot(20)).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis((5 << self.tried.min(6)) + jitter)).await;
        }
        self.tried += 1;
        true
    }
}

/// The order events a consumer acts on, each with the work it asks for: the one list its handler
/// dispatches by, and the one its queue's SNS filter policy must name (a template test holds the
/// two equal). A handler matches exhaustively on the work, so a new kind of work does not compile
/// until it is handled, and a new event type is only acted on once it is listed here.
#[derive(Debug)]
pub struct Subscription<W: 'static> {
    routes: &'static [(EventType, W)],
}

impl<W: Copy> Subscription<W> {
    pub const fn new(routes: &'static [(EventType, W)]) -> Self {
        Self { routes }
    }

    /// The work this event asks for; `None` for an event the filter policy should have kept away.
    pub fn work(&self, event_type: EventType) -> Option<W> {
        self.routes.iter().find(|(listed, _)| *listed == event_type).map(|(_, work)| *work)
    }

    /// The event types, as the filter policy names them.
    pub fn event_types(&self) -> impl Iterator<Item = EventType> + '_ {
        self.routes.iter().map(|(event_type, _)| *event_type)
    }
}
