//! What the customer is told, and how: which message an order event calls for on which channel
//! (`notice`), in which words (`copy`, `view`), rendered how (`render`, `sms`), and what the
//! notifier needs from the world (`ports`). Pure: the notifier (`crate::app::notifier`) does the
//! reading, the sending and the bookkeeping; the shop's voice is `crate::storefront`'s.

mod compose;
mod copy;
mod notice;
mod ports;
mod render;
#[cfg(any(test, feature = "samples"))]
mod sample;
mod sms;
mod view;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::domain::{CatalogItem, EmailAddress, Order, Sku};

pub(crate) use notice::Texted;
pub(crate) use notice::latest_delay;
pub use notice::{Channel, Notice, occasion};
pub(crate) use ports::LONGEST_DELAY;
pub use ports::PutBackFailed;
pub use ports::{ChannelError, DeliveredOrders, Mailer, ProductRelations, Redelivery, TextMessages};
pub use ports::{Claim, Delivery, NotificationLedger, SuppressionList};
pub use render::Rendered;
pub use render::{Email, RenderError, mime, render};
pub(crate) use render::{render_email, render_sms};
#[cfg(any(test, feature = "samples"))]
pub use sample::Sample;
pub use sms::SmsEncoding;
pub use sms::SmsText;

/// One message to one customer on one channel, at most once: the ledger's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub order_id: crate::domain::OrderId,
    /// The event id, or the name of a message no event sends (`feedback_request`).
    pub occasion: String,
    pub channel: Channel,
}

/// Why an address no longer gets e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionReason {
    /// A permanent bounce: the mailbox does not exist.
    Bounce,
    /// The recipient marked a message as spam.
    Complaint,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bounce => "bounce",
            Self::Complaint => "complaint",
        }
    }
}

/// An SES bounce or complaint as its configuration set's event destination (or an identity's
/// notification topic) publishes it: which addresses to stop writing to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFeedback {
    pub reason: SuppressionReason,
    pub recipients: Vec<EmailAddress>,
}

/// Up to `limit` SKUs related to the order's (in the order of its lines, then of each SKU's
/// relations) that are not in the order, sell in its currency and are in stock.
pub fn recommendations(
    order: &Order,
    related: &HashMap<Sku, Vec<Sku>>,
    candidates: &HashMap<Sku, (CatalogItem, u32)>,
    limit: usize,
) -> Vec<CatalogItem> {
    let ordered: HashSet<&Sku> = order.lines.iter().map(|line| &line.sku).collect();
    let mut seen = HashSet::new();
    order
        .lines
        .iter()
        .filter_map(|line| related.get(&line.sku))
        .flatten()
        .filter(|sku| !ordered.contains(sku) && seen.insert(*sku))
        .filter_map(|sku| candidates.get(sku))
        .filter(|(item, available)| *available > 0 && item.unit_price.currency() == order.currency)
        .map(|(item, _)| item.clone())
        .take(limit)
        .collect()
}

/// The days whose deliveries are due a feedback request at `today`: the due day and, so that
/// a sweep that did not run catches up, the two before it.
pub(crate) fn feedback_due_days(today: NaiveDate, after_days: u16) -> Vec<NaiveDate> {
    let due = today - chrono::Days::new(u64::from(after_days));
    (0..3u64).map(|back| due - chrono::Days::new(back)).collect()
}

#[cfg(test)]
mod tests;
