//! What the notifier needs from the world: a ledger of what was sent, the suppression list,
//! the catalog's relations, delivered orders by day, the two channels, and its own queue to put
//! a message back on.

use std::{collections::HashMap, future::Future, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};

use super::{MessageKey, SuppressionReason};
use crate::domain::{EmailAddress, OrderId, PhoneNumber, Sku, StoreError};

/// The answer to "may I send this?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Yes: send, then mark it sent with this token (or release it if the send failed).
    Granted { token: String },
    /// It went out already, or an earlier delivery decided not to send it.
    AlreadySent,
    /// Another delivery of the same event is sending it right now (or crashed doing so, and
    /// its lease has not run out): try again later.
    InFlight,
    /// A delivery handed it to the provider and never said how that went (it crashed, or could
    /// not record it), and its lease ran out: it may have gone, so it is not sent again.
    MayHaveGone,
}

/// One row per (order, event, channel), written before sending and marked after.
pub trait NotificationLedger {
    fn claim(&self, message: &MessageKey, now: DateTime<Utc>)
    -> impl Future<Output = Result<Claim, StoreError>> + Send;

    fn mark_sent(
        &self,
        message: &MessageKey,
        token: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that the message is not sent, and why, unless it was sent, is being sent or was
    /// skipped already; whether this call recorded it.
    fn skip(
        &self,
        message: &MessageKey,
        reason: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that the claim's holder is handing the message to the provider now; false if the
    /// claim is no longer this token's (its lease ran out and another delivery took it).
    fn dispatch(&self, message: &MessageKey, token: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives a claim back after a failed send, so that the retry need not wait for its lease.
    fn release_claim(&self, message: &MessageKey, token: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Addresses that bounced for good or complained: no more e-mail to them.
pub trait SuppressionList {
    fn is_suppressed(&self, address: &EmailAddress) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn suppress(
        &self,
        address: &EmailAddress,
        reason: SuppressionReason,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The catalog's "goes well with" relations.
pub trait ProductRelations {
    fn related(&self, skus: &[Sku]) -> impl Future<Output = Result<HashMap<Sku, Vec<Sku>>, StoreError>> + Send;
}

/// Orders by the day they were delivered (UTC).
pub trait DeliveredOrders {
    fn delivered_on(&self, day: NaiveDate) -> impl Future<Output = Result<Vec<OrderId>, StoreError>> + Send;
}

/// A provider refused or could not be reached; the queue retries the message. It carries the
/// provider's error code, never its message: those may quote the recipient's address.
#[derive(Debug, thiserror::Error)]
#[error("{channel} provider: {detail}")]
pub struct ChannelError {
    pub channel: &'static str,
    pub detail: String,
    /// The provider may have sent it all the same (it failed, or did not answer in time, once
    /// the request was out): sending it again could tell the customer twice.
    pub may_have_gone: bool,
    /// The provider asked us to slow down (SES's sending rate, SNS's): it did not send.
    pub throttled: bool,
}

/// What SES v2 and SNS answer when a sending rate is exceeded.
const THROTTLED: [&str; 4] = ["TooManyRequestsException", "Throttling", "Throttled", "ThrottlingException"];

impl ChannelError {
    /// From an SDK error: its service error code if the provider answered, else what kept us
    /// from reaching it (a timeout, a connection refused).
    pub fn from_provider(channel: &'static str, code: Option<&str>, error: &dyn std::error::Error) -> Self {
        let detail = match code {
            Some(code) => format!("refused: {code}"),
            None => {
                format!("unreachable: {}", error.source().map_or_else(|| "no detail".to_owned(), ToString::to_string))
            }
        };
        Self { channel, detail, may_have_gone: false, throttled: code.is_some_and(|code| THROTTLED.contains(&code)) }
    }

    /// The same error, saying whether the message may have gone out.
    pub fn may_have_gone(self, may_have_gone: bool) -> Self {
        Self { may_have_gone, ..self }
    }

    /// A request the SDK would not build: a bug of ours, retried and then dead-lettered.
    pub fn unbuildable(channel: &'static str, error: &dyn std::error::Error) -> Self {
        Self { channel, detail: format!("request not built: {error}"), may_have_gone: false, throttled: false }
    }
}

/// Sends one MIME message; the provider's message id.
pub trait Mailer {
    fn send(&self, to: &EmailAddress, mime: Vec<u8>) -> impl Future<Output = Result<String, ChannelError>> + Send;
}

pub trait TextMessages {
    /// Whether the number replied STOP (or was otherwise opted out) with the provider.
    fn opted_out(&self, phone: &PhoneNumber) -> impl Future<Output = Result<bool, ChannelError>> + Send;

    /// Sends a transactional text message; the provider's message id.
    fn send(&self, phone: &PhoneNumber, text: &str) -> impl Future<Output = Result<String, ChannelError>> + Send;
}

/// The longest a queue holds a message back before delivering it again (SQS: 15 minutes).
pub(crate) const LONGEST_DELAY: Duration = Duration::from_secs(900);

/// An order event's message as its queue delivered it: the body to put back, and how many times
/// a provider's throttle put it back before.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub body: &'a str,
    pub throttled: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("the queue did not take the message back")]
pub struct PutBackFailed(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The notifications queue, where a message waits to come again.
pub trait Redelivery {
    /// Puts the message back, to be delivered again after `delay` (at most [`LONGEST_DELAY`]),
    /// carrying `throttled` as the number of throttles it has waited out.
    fn put_back(
        &self,
        body: &str,
        delay: Duration,
        throttled: u32,
    ) -> impl Future<Output = Result<(), PutBackFailed>> + Send;
}
