//! The notifier's use cases: tell the customer what an order event means, on each channel they
//! chose, once; honour bounces, complaints and opt-outs; ask for feedback after delivery.
//!
//! Once per (order, event, channel): the ledger is claimed before sending and marked after. A
//! duplicate finds it sent; a failed send releases the claim and the queue retries. The one gap
//! left is a crash between the provider's answer and the mark: after the claim's lease runs out
//! the retry sends again (at least once beats at most once for an order confirmation).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    domain::{Catalog, EmailAddress, Envelope, Order, OrderRepository, OrderStatus, StockLedger, StoreError},
    metrics::{Dimension, Measurement, Metric},
    notification::{
        Channel, ChannelError, Claim, DeliveredOrders, Delivery, LONGEST_DELAY, MailFeedback, Mailer, MessageKey,
        Notice, NotificationLedger, ProductRelations, Redelivery, RenderError, SuppressionList, TextMessages,
        feedback_due_days, mime, occasion, recommendations, render_email, render_sms,
    },
    storefront::NotificationPolicy,
};

/// At most this many "you may also like" items.
const RECOMMENDATIONS: usize = 3;

/// What happened on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Sent {
        message_id: String,
    },
    AlreadySent,
    /// The address bounced or complained before.
    Suppressed,
    /// The number replied STOP.
    OptedOut,
    /// No number, or nothing to text for this notice.
    NoTextMessage,
    /// The provider failed, or did not answer, once the message was out: it may have gone.
    /// Recorded as sent, never sent again (SES and SNS take no idempotency key, so a second try
    /// may tell the customer twice); counted, for operators to check with the provider.
    Unconfirmed,
    /// Not sent: the order has moved past what it announces (it is now at this status).
    Overtaken {
        by: OrderStatus,
    },
}

/// The provider's message id the ledger records for a message that may have gone out.
pub(crate) const UNCONFIRMED: &str = "unconfirmed";

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("another delivery of this event is sending its {0} right now")]
    InFlight(&'static str),
    #[error("not an SES event: {0}")]
    MalformedFeedback(#[source] serde_json::Error),
}

impl NotifyError {
    /// The provider refused to send for now because we send too fast: better tried again later
    /// than at once.
    pub fn throttled(&self) -> bool {
        matches!(self, Self::Channel(error) if error.throttled)
    }
}

/// What one feedback sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub requested: usize,
    pub already_sent: usize,
    /// Delivered orders that are no longer DELIVERED (returned, refunded): not asked.
    pub skipped: usize,
    pub failed: usize,
}

#[derive(Debug, Clone)]
pub struct Notifier<S, X, M, T, Q> {
    store: S,
    suppressions: X,
    channels: Channels<M, T>,
    /// Where a message goes back to wait: for the order's first decision, or out a throttle.
    later: Q,
    policy: NotificationPolicy,
}

/// The two ways to reach a customer, and the address e-mail goes out from.
#[derive(Debug, Clone)]
pub struct Channels<M, T> {
    pub mail: M,
    pub texts: T,
    pub sender: EmailAddress,
}

/// How long a message waits after its provider throttled it for the `throttled`th time: 2 s,
/// doubling up to the queue's longest delay, for 12 throttles (about an hour and a half); after
/// that it takes the queue's ordinary retries, and its dead-letter queue.
fn throttle_backoff(throttled: u32) -> Option<Duration> {
    (throttled < 12).then(|| Duration::from_secs(2u64.saturating_pow(throttled + 1)).min(LONGEST_DELAY))
}

impl<S, X, M, T, Q> Notifier<S, X, M, T, Q>
where
    S: OrderRepository + Catalog + StockLedger + ProductRelations + DeliveredOrders + NotificationLedger + Sync,
    X: SuppressionList + Sync,
    M: Mailer + Sync,
    T: TextMessages + Sync,
    Q: Redelivery + Sync,
{
    pub fn new(store: S, suppressions: X, channels: Channels<M, T>, later: Q, policy: NotificationPolicy) -> Self {
        Self { store, suppressions, channels, later, policy }
    }

    /// An order event's message as its queue delivered it: told now, or put back to wait for
    /// the order's first decision; put back again, longer each time, while a provider throttles
    /// us, so that a long throttle spends none of the deliveries the queue allows before its
    /// dead-letter queue. What was sent stays sent: the ledger says so.
    pub async fn on_delivery(
        &self,
        event: &Envelope<Order>,
        delivery: Delivery<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), NotifyError> {
        if let Some(delay) = self.wait_before(event, now) {
            match self.later.put_back(delivery.body, delay, delivery.throttled).await {
                Ok(()) => {
                    tracing::info!(delay_seconds = delay.as_secs(), "the message waits for the order's first decision");
                    return Ok(());
                }
                Err(error) => tracing::warn!(error = %error, "the message could not wait; decided now"),
            }
        }
        match self.on_event(event, now).await {
            Err(error) if error.throttled() => self.wait_out_throttle(delivery, error).await,
            outcome => outcome.map(|_| ()),
        }
    }

    /// Puts a message a throttled provider refused back on its queue after a back-off; the
    /// throttle's error if it has waited long enough, or cannot wait, for the queue to retry it.
    async fn wait_out_throttle(&self, delivery: Delivery<'_>, throttled: NotifyError) -> Result<(), NotifyError> {
        let Some(delay) = throttle_backoff(delivery.throttled) else { return Err(throttled) };
        match self.later.put_back(delivery.body, delay, delivery.throttled + 1).await {
            Ok(()) => {
                tracing::warn!(error = %throttled, attempts = delivery.throttled, "throttled; the message waits on its queue");
                crate::metrics::emit(&[Measurement::count(Metric::MessagesThrottled)]);
                Ok(())
            }
            Err(error) => {
                tracing::error!(error = %error, "a throttled message could not be put back; the queue retries it");
                Err(throttled)
            }
        }
    }

    /// How much longer the event's message should wait before it is decided: "received" waits
    /// for the order's first decision (the policy's `received_waits_seconds` from placement),
    /// which says more and makes it overtaken. `None`: decide now.
    fn wait_before(&self, event: &Envelope<Order>, now: DateTime<Utc>) -> Option<Duration> {
        if Notice::for_event(event.event_type) != Some(Notice::Received) {
            return None;
        }
        let window = chrono::Duration::seconds(i64::from(self.policy.received_waits_seconds));
        let left = (event.data.created_at + window - now).to_std().ok()?;
        // In whole seconds, as SQS delays, rounded up so that it comes back decided.
        let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        (seconds > 0).then(|| Duration::from_secs(seconds))
    }

    /// The messages an order event calls for, on each of the customer's channels. Channels
    /// are independent: one that fails is retried with the event, the others are not resent.
    pub async fn on_event(
        &self,
        event: &Envelope<Order>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Channel, Sent)>, NotifyError> {
        let Some(notice) = Notice::for_event(event.event_type) else {
            return Ok(Vec::new());
        };
        let occasion = occasion(notice, &event.id, &event.data);
        if let Some(status) = self.overtaken(notice, &event.data).await? {
            return self.skip(notice, &event.data, &occasion, status, now).await;
        }
        self.notify(notice, &event.data, &occasion, now).await
    }

    /// The status that has overtaken this message, read from the order as it stands: events
    /// reach the notifier late (a retry, a backlog) and in any order.
    async fn overtaken(&self, notice: Notice, order: &Order) -> Result<Option<OrderStatus>, NotifyError> {
        if !notice.may_be_overtaken() {
            return Ok(None);
        }
        let current = self.store.head(&order.id).await?;
        Ok(current
            .filter(|current| current.version() > order.version() && notice.overtaken_by(current.status()))
            .map(|current| current.status()))
    }

    /// Records on each channel that the message is not sent, and why.
    async fn skip(
        &self,
        notice: Notice,
        order: &Order,
        occasion: &str,
        status: OrderStatus,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Channel, Sent)>, NotifyError> {
        let reason = format!("overtaken by {}", status.as_str());
        let mut outcomes = Vec::new();
        for channel in notice.channels(order) {
            let message = MessageKey { order_id: order.id.clone(), occasion: occasion.to_owned(), channel };
            let sent = if self.store.skip(&message, &reason, now).await? {
                Sent::Overtaken { by: status }
            } else {
                Sent::AlreadySent
            };
            tracing::info!(notice = notice.name(), channel = channel.as_str(), outcome = ?sent, "customer message");
            crate::metrics::emit(&message_metric(notice, channel, &sent));
            outcomes.push((channel, sent));
        }
        Ok(outcomes)
    }

    async fn notify(
        &self,
        notice: Notice,
        order: &Order,
        occasion: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Channel, Sent)>, NotifyError> {
        let mut outcomes = Vec::new();
        let mut first_error = None;
        for channel in notice.channels(order) {
            let message = MessageKey { order_id: order.id.clone(), occasion: occasion.to_owned(), channel };
            let outcome = match channel {
                Channel::Email => self.email(&message, notice, order, now).await,
                Channel::Sms => self.text(&message, notice, order, now).await,
            };
            match outcome {
                Ok(sent) => {
                    tracing::info!(notice = notice.name(), channel = channel.as_str(), outcome = ?sent, "customer message");
                    crate::metrics::emit(&message_metric(notice, channel, &sent));
                    outcomes.push((channel, sent));
                }
                Err(error) => {
                    tracing::warn!(notice = notice.name(), channel = channel.as_str(), error = %error, "customer message not sent yet");
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(outcomes), Err)
    }

    /// The e-mail, rendered (with the catalog reads of its recommendations) only once the
    /// ledger grants it: a duplicate costs the suppression read and a refused put.
    async fn email(
        &self,
        message: &MessageKey,
        notice: Notice,
        order: &Order,
        now: DateTime<Utc>,
    ) -> Result<Sent, NotifyError> {
        let customer = &order.customer;
        if self.suppressions.is_suppressed(&customer.email).await? {
            return Ok(Sent::Suppressed);
        }
        let send = async {
            let shop = self.policy.storefront(&order.storefront);
            let recommended =
                if notice.may_recommend() && shop.recommendations { self.recommend(order).await } else { Vec::new() };
            let email = render_email(notice, order, &self.policy, &recommended)?;
            let raw = mime(&email, shop, &self.channels.sender, customer.name.as_str(), &customer.email);
            Ok(self.channels.mail.send(&customer.email, raw).await?)
        };
        self.once(message, now, send).await
    }

    async fn text(
        &self,
        message: &MessageKey,
        notice: Notice,
        order: &Order,
        now: DateTime<Utc>,
    ) -> Result<Sent, NotifyError> {
        // `Notice::channels` asks for a text only with a number and a texted notice.
        let (Some(phone), Some(sms)) = (&order.customer.phone, render_sms(notice, order, &self.policy)) else {
            return Ok(Sent::NoTextMessage);
        };
        if self.channels.texts.opted_out(phone).await? {
            return Ok(Sent::OptedOut);
        }
        if sms.segments > 1 {
            tracing::warn!(segments = sms.segments, encoding = ?sms.encoding, "text message sent in several parts");
        }
        self.once(message, now, async { Ok(self.channels.texts.send(phone, &sms.text).await?) }).await
    }

    /// Up to three related SKUs in stock. Optional: a catalog that cannot be read costs the
    /// block, never the confirmation.
    async fn recommend(&self, order: &Order) -> Vec<crate::domain::CatalogItem> {
        let chosen = async {
            let skus: Vec<_> = order.lines.iter().map(|line| line.sku.clone()).collect();
            let related = self.store.related(&skus).await?;
            let mut candidates: Vec<_> = related.values().flatten().cloned().collect();
            candidates.sort();
            candidates.dedup();
            let (items, levels) = (self.store.items(&candidates).await?, self.store.stock_levels(&candidates).await?);
            let offered = items
                .into_iter()
                .map(|(sku, item)| {
                    let available = levels.get(&sku).map_or(0, |level| level.available());
                    (sku, (item, available))
                })
                .collect();
            Ok::<_, StoreError>(recommendations(order, &related, &offered, RECOMMENDATIONS))
        };
        chosen.await.unwrap_or_else(|error| {
            tracing::warn!(error = %error, "no recommendations: the catalog could not be read");
            Vec::new()
        })
    }

    /// Runs `send` (not started until awaited) if the ledger grants the claim, and records the
    /// outcome: marked sent, or released for the queue's retry.
    async fn once(
        &self,
        message: &MessageKey,
        now: DateTime<Utc>,
        send: impl Future<Output = Result<String, NotifyError>>,
    ) -> Result<Sent, NotifyError> {
        let token = match self.store.claim(message, now).await? {
            Claim::Granted { token } => token,
            Claim::AlreadySent => return Ok(Sent::AlreadySent),
            Claim::InFlight => return Err(NotifyError::InFlight(message.channel.as_str())),
            Claim::MayHaveGone => {
                tracing::warn!(
                    "an earlier delivery handed it to the provider and stopped; recorded as sent, not sent again"
                );
                self.store.mark_sent(message, "", UNCONFIRMED, now).await?;
                return Ok(Sent::Unconfirmed);
            }
        };
        if !self.store.dispatch(message, &token).await? {
            return Err(NotifyError::InFlight(message.channel.as_str()));
        }
        match send.await {
            Ok(message_id) => {
                self.store.mark_sent(message, &token, &message_id, now).await?;
                Ok(Sent::Sent { message_id })
            }
            Err(NotifyError::Channel(error)) if error.may_have_gone => {
                tracing::warn!(error = %error, "the provider may have sent it; recorded as sent, not sent again");
                self.store.mark_sent(message, &token, UNCONFIRMED, now).await?;
                Ok(Sent::Unconfirmed)
            }
            Err(error) => {
                if let Err(release) = self.store.release_claim(message, &token).await {
                    tracing::warn!(error = %release, "claim not released; it lapses with its lease");
                }
                Err(error)
            }
        }
    }

    /// An SES bounce or complaint: its addresses go on the suppression list. How many.
    pub async fn on_mail_feedback(&self, feedback: &MailFeedback, now: DateTime<Utc>) -> Result<usize, NotifyError> {
        for address in &feedback.recipients {
            self.suppressions.suppress(address, feedback.reason, now).await?;
        }
        tracing::info!(
            reason = feedback.reason.as_str(),
            addresses = feedback.recipients.len(),
            "addresses suppressed"
        );
        Ok(feedback.recipients.len())
    }

    /// Asks for feedback on orders delivered `feedback_after_days` ago (and the two days before,
    /// should a sweep have been missed), once each. Errors on single orders are counted and the
    /// sweep goes on; the next day's sweep still covers them.
    pub async fn sweep_feedback(&self, today: NaiveDate, now: DateTime<Utc>) -> Result<SweepReport, NotifyError> {
        let mut report = SweepReport::default();
        for day in feedback_due_days(today, self.policy.feedback_after_days) {
            for order_id in self.store.delivered_on(day).await? {
                let outcome = match self.store.head(&order_id).await {
                    Ok(Some(order)) if order.status() == OrderStatus::Delivered => self
                        .notify(Notice::FeedbackRequest, &order, Notice::FeedbackRequest.name(), now)
                        .await
                        .map(|outcomes| outcomes.into_iter().any(|(_, sent)| matches!(sent, Sent::Sent { .. }))),
                    Ok(_) => {
                        report.skipped += 1;
                        continue;
                    }
                    Err(error) => Err(error.into()),
                };
                match outcome {
                    Ok(true) => report.requested += 1,
                    Ok(false) => report.already_sent += 1,
                    Err(error) => {
                        tracing::warn!(order_id = %order_id, error = %error, "feedback request not sent");
                        report.failed += 1;
                    }
                }
            }
        }
        Ok(report)
    }
}
/// What a message's outcome counts for: sent by channel and template, suppressed (bounced,
/// complained, opted out) by channel, a duplicate as an idempotent replay.
fn message_metric(notice: Notice, channel: Channel, sent: &Sent) -> Vec<Measurement> {
    let measurement = match sent {
        Sent::Sent { .. } => Measurement::count(Metric::MessagesSent)
            .by(Dimension::Channel, channel.as_str())
            .by(Dimension::Template, notice.name()),
        Sent::Suppressed | Sent::OptedOut => {
            Measurement::count(Metric::NotificationsSuppressed).by(Dimension::Channel, channel.as_str())
        }
        Sent::AlreadySent => Measurement::count(Metric::IdempotentReplays).by(Dimension::Channel, channel.as_str()),
        Sent::Unconfirmed => Measurement::count(Metric::MessagesUnconfirmed)
            .by(Dimension::Channel, channel.as_str())
            .by(Dimension::Template, notice.name()),
        Sent::Overtaken { .. } => Measurement::count(Metric::MessagesOvertaken)
            .by(Dimension::Channel, channel.as_str())
            .by(Dimension::Template, notice.name()),
        Sent::NoTextMessage => return Vec::new(),
    };
    vec![measurement]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_message_waits_longer_each_time_then_takes_the_queues_retries() {
        let waits: Vec<u64> = (0..14).map_while(throttle_backoff).map(|wait| wait.as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert!(waits.iter().sum::<u64>() > 3600, "an hour's throttle costs no delivery");
    }
}
