//! What the customer is told, and how: which message an order event calls for on which channel,
//! the shop's voice per storefront, and the rules of each channel. Pure: the notifier
//! (`crate::app::notifier`) does the reading, the sending and the bookkeeping.

mod copy;
mod ports;
mod render;
#[cfg(any(test, feature = "samples"))]
mod sample;
mod sms;
mod view;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::{
    CatalogItem, Delay, EmailAddress, EventId, EventType, Locale, Order, OrderStatus, Shipment, Sku, StorefrontId,
};

use copy::Language;
pub use copy::money;
pub use ports::{
    ChannelError, Claim, DeliveredOrders, Delivery, LONGEST_DELAY, Mailer, NotificationLedger, ProductRelations,
    PutBackFailed, Redelivery, SuppressionList, TextMessages,
};
pub use render::{Email, RenderError, Rendered, render, render_email, render_sms};
#[cfg(any(test, feature = "samples"))]
pub use sample::Sample;
pub use sms::{SmsEncoding, SmsText};

/// A message the customer may receive; its template, subject and channels follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    Received,
    Confirmed,
    Rejected,
    PaymentFailed,
    Shipped,
    OutForDelivery,
    Delivered,
    /// A parcel is held up or will arrive later than promised (exception or a later estimate).
    Delayed,
    Cancelled,
    Modified,
    ReturnAccepted,
    Refunded,
    /// Sent by the daily sweep some days after delivery, not by an event.
    FeedbackRequest,
    /// An operator's apology: what went wrong, and what was done about it.
    Apology,
}

/// The notices that also go by text message: every language writes a text for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Texted {
    Confirmed,
    Shipped,
    OutForDelivery,
    Delivered,
    Delayed,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

impl Notice {
    pub const ALL: [Notice; 14] = [
        Self::Received,
        Self::Confirmed,
        Self::Rejected,
        Self::PaymentFailed,
        Self::Shipped,
        Self::OutForDelivery,
        Self::Delivered,
        Self::Delayed,
        Self::Cancelled,
        Self::Modified,
        Self::ReturnAccepted,
        Self::Refunded,
        Self::FeedbackRequest,
        Self::Apology,
    ];

    /// The message an event calls for; `None` for events the customer is not told about
    /// (internal steps, fraud review, each carrier scan).
    pub fn for_event(event_type: EventType) -> Option<Self> {
        let notice = match event_type {
            EventType::Reached(status) => match status {
                OrderStatus::Placed => Self::Received,
                OrderStatus::PaymentAuthorized => Self::Confirmed,
                OrderStatus::Rejected => Self::Rejected,
                OrderStatus::PaymentFailed => Self::PaymentFailed,
                OrderStatus::Shipped => Self::Shipped,
                OrderStatus::OutForDelivery => Self::OutForDelivery,
                OrderStatus::Delivered => Self::Delivered,
                OrderStatus::DeliveryException => Self::Delayed,
                OrderStatus::Cancelled => Self::Cancelled,
                OrderStatus::ReturnRequested => Self::ReturnAccepted,
                OrderStatus::Refunded => Self::Refunded,
                OrderStatus::Reserved
                | OrderStatus::OnHold
                | OrderStatus::Fulfilling
                | OrderStatus::InTransit
                | OrderStatus::Returned => return None,
            },
            EventType::DeliveryDelayed => Self::Delayed,
            EventType::Modified => Self::Modified,
            EventType::RefundIssued => Self::Refunded,
            EventType::ApologySent => Self::Apology,
            // The operators' business, not the customer's.
            EventType::TrackingUpdated
            | EventType::DisputeUpdated
            | EventType::AuthorizationEnded
            | EventType::RefundFailed => return None,
        };
        Some(notice)
    }

    /// Snake case, for the ledger, logs and preview file names: `order_confirmed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "order_received",
            Self::Confirmed => "order_confirmed",
            Self::Rejected => "order_rejected",
            Self::PaymentFailed => "payment_failed",
            Self::Shipped => "shipped",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Delayed => "delivery_delayed",
            Self::Cancelled => "cancelled",
            Self::Modified => "order_modified",
            Self::ReturnAccepted => "return_accepted",
            Self::Refunded => "refunded",
            Self::FeedbackRequest => "feedback_request",
            Self::Apology => "apology",
        }
    }

    /// Whether the order, now at `status`, has moved past what this message announces: told
    /// then, it would contradict what the customer already heard or is about to ("out for
    /// delivery" once delivered, "confirmed" once cancelled). Outcomes are never overtaken.
    pub fn overtaken_by(self, status: OrderStatus) -> bool {
        use OrderStatus::*;
        match self {
            // "Received" says only that the order is being looked at: any decision tells more.
            Self::Received => !matches!(status, Placed | Reserved | OnHold),
            Self::Confirmed | Self::Modified => matches!(status, Rejected | PaymentFailed | Cancelled),
            Self::Shipped | Self::OutForDelivery | Self::Delayed => {
                matches!(status, Delivered | ReturnRequested | Returned | Refunded)
            }
            Self::Delivered => matches!(status, ReturnRequested | Returned | Refunded),
            Self::Rejected
            | Self::PaymentFailed
            | Self::Cancelled
            | Self::ReturnAccepted
            | Self::Refunded
            | Self::FeedbackRequest
            | Self::Apology => false,
        }
    }

    /// Whether any status overtakes this message: only then is the order worth reading first.
    pub fn may_be_overtaken(self) -> bool {
        OrderStatus::ALL.into_iter().any(|status| self.overtaken_by(status))
    }

    /// The short, time-sensitive messages also go by text message.
    pub fn texted(self) -> Option<Texted> {
        match self {
            Self::Confirmed => Some(Texted::Confirmed),
            Self::Shipped => Some(Texted::Shipped),
            Self::OutForDelivery => Some(Texted::OutForDelivery),
            Self::Delivered => Some(Texted::Delivered),
            Self::Delayed => Some(Texted::Delayed),
            Self::Received
            | Self::Rejected
            | Self::PaymentFailed
            | Self::Cancelled
            | Self::Modified
            | Self::ReturnAccepted
            | Self::Refunded
            | Self::FeedbackRequest
            | Self::Apology => None,
        }
    }

    pub fn is_texted(self) -> bool {
        self.texted().is_some()
    }

    /// Only the confirmation may carry "you may also like": never a service message.
    pub fn may_recommend(self) -> bool {
        self == Self::Confirmed
    }

    /// The channels this message goes out on for this order: e-mail always (the notifier still
    /// honours the suppression list), a text message only to a customer who gave a number and
    /// opted in.
    pub fn channels(self, order: &Order) -> Vec<Channel> {
        let mut channels = vec![Channel::Email];
        if self.is_texted() && order.customer.sms_opt_in && order.customer.phone.is_some() {
            channels.push(Channel::Sms);
        }
        channels
    }
}

/// The parcel whose delay was noted last, with its delay.
pub(crate) fn latest_delay(order: &Order) -> Option<(&Shipment, &Delay)> {
    order
        .shipments
        .iter()
        .filter_map(|shipment| shipment.delay.as_ref().map(|delay| (shipment, delay)))
        .max_by_key(|(_, delay)| delay.noted_at)
}

/// What makes two messages the same message to the customer, for the ledger: the event, but
/// a delay is told once per parcel and new date, however many carrier events report it (an
/// exception and a later estimate may both say "Friday").
pub fn occasion(notice: Notice, event_id: &EventId, order: &Order) -> String {
    match (notice, latest_delay(order)) {
        (Notice::Delayed, Some((parcel, delay))) => {
            let expected = delay.expected.map_or_else(|| "unknown".to_owned(), |day| day.to_string());
            format!("delay:{}:{expected}", parcel.tracking_number)
        }
        _ => event_id.to_string(),
    }
}

/// The shop as its customers know it, per storefront.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorefrontProfile {
    /// The shop's name, in subjects, greetings and text messages.
    pub name: String,
    pub support_email: String,
    #[serde(default)]
    pub support_phone: Option<String>,
    /// The shop's site; order pages and the feedback form are under it.
    pub website: String,
    /// Whether the confirmation e-mail carries "you may also like".
    #[serde(default = "yes")]
    pub recommendations: bool,
    /// The locales its customers may choose, the storefront's own first: an order without one
    /// is written in that. Each must be in a language we write ([`Language`]).
    #[serde(default = "english")]
    pub locales: Vec<Locale>,
}

fn english() -> Vec<Locale> {
    vec![Locale::english()]
}

/// Why an order's locale is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the storefront writes to its customers in {}", offered.join(", "))]
pub struct UnsupportedLocale {
    pub offered: Vec<String>,
}

impl StorefrontProfile {
    /// The locale orders take when they name none.
    pub fn default_locale(&self) -> Locale {
        // `NotificationPolicy::parse` refuses a storefront without locales.
        self.locales.first().cloned().unwrap_or_else(|| english().remove(0))
    }

    /// The locale an order is written in: the one it asks for if the storefront offers it
    /// (canonical tags compare exactly: `de-AT` is not `de-DE`), else the storefront's own.
    pub fn locale_for(&self, requested: Option<&Locale>) -> Result<Locale, UnsupportedLocale> {
        match requested {
            None => Ok(self.default_locale()),
            Some(locale) if self.locales.contains(locale) => Ok(locale.clone()),
            Some(_) => Err(UnsupportedLocale { offered: self.locales.iter().map(ToString::to_string).collect() }),
        }
    }
}

fn yes() -> bool {
    true
}

fn feedback_days() -> u16 {
    7
}

fn decision_seconds() -> u16 {
    20
}

/// The `NotificationPolicy` template parameter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationPolicy {
    /// Days after delivery before the feedback request goes out.
    #[serde(default = "feedback_days")]
    pub feedback_after_days: u16,
    /// How long "we've received your order" waits for the order's first decision (confirmed,
    /// held, rejected, declined, cancelled): one in that time says all it would have, so the
    /// customer hears one message, in order. 0 sends it at once.
    #[serde(default = "decision_seconds")]
    pub received_waits_seconds: u16,
    /// Profiles by storefront id; `*` is every storefront not named.
    pub storefronts: BTreeMap<String, StorefrontProfile>,
    /// Tracking page by carrier name, `{tracking_number}` in place of the number.
    #[serde(default)]
    pub tracking_urls: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid notification policy: {0}")]
pub struct InvalidNotificationPolicy(String);

/// Storefronts not named in the policy use this profile.
const DEFAULT_STOREFRONT: &str = "*";

impl NotificationPolicy {
    pub fn parse(json: &str) -> Result<Self, InvalidNotificationPolicy> {
        let policy: Self = serde_json::from_str(json).map_err(|error| InvalidNotificationPolicy(error.to_string()))?;
        if !policy.storefronts.contains_key(DEFAULT_STOREFRONT) {
            return Err(InvalidNotificationPolicy(format!("storefronts must have a \"{DEFAULT_STOREFRONT}\" profile")));
        }
        if policy.feedback_after_days == 0 {
            return Err(InvalidNotificationPolicy("feedback_after_days must be at least 1".to_owned()));
        }
        for (id, shop) in &policy.storefronts {
            if shop.locales.is_empty() {
                return Err(InvalidNotificationPolicy(format!("storefront {id} has no locales")));
            }
            if let Some(unwritten) = shop.locales.iter().find(|locale| Language::of(locale).is_none()) {
                return Err(InvalidNotificationPolicy(format!(
                    "storefront {id} offers {unwritten}, a language we have no messages in"
                )));
            }
            if let Some(twice) =
                shop.locales.iter().enumerate().find(|(at, locale)| shop.locales[..*at].contains(locale))
            {
                return Err(InvalidNotificationPolicy(format!("storefront {id} lists {} twice", twice.1)));
            }
        }
        if let Some((carrier, _)) = policy.tracking_urls.iter().find(|(_, url)| !url.contains("{tracking_number}")) {
            return Err(InvalidNotificationPolicy(format!("the tracking URL of {carrier} has no {{tracking_number}}")));
        }
        Ok(policy)
    }

    /// `NOTIFICATION_POLICY`, checked.
    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        let name = "NOTIFICATION_POLICY";
        Self::parse(&env.get(name)?)
            .map_err(|error| crate::config::ConfigError::Malformed { name, source: Box::new(error) })
    }

    pub fn storefront(&self, id: &StorefrontId) -> &StorefrontProfile {
        self.storefronts.get(id.as_str()).or_else(|| self.storefronts.get(DEFAULT_STOREFRONT)).unwrap_or(&FALLBACK)
    }

    /// The carrier's tracking page for this parcel, if the policy knows the carrier.
    pub fn tracking_url(&self, carrier: &str, tracking_number: &str) -> Option<String> {
        let template = self
            .tracking_urls
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(carrier))
            .map(|(_, template)| template)?;
        let encoded: String =
            tracking_number.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
        Some(template.replace("{tracking_number}", &encoded))
    }
}

/// Only reachable for a policy built in code without `*`: `parse` refuses those.
static FALLBACK: StorefrontProfile = StorefrontProfile {
    name: String::new(),
    support_email: String::new(),
    support_phone: None,
    website: String::new(),
    recommendations: false,
    locales: Vec::new(),
};

/// One message to one customer on one channel, at most once: the ledger's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub order_id: crate::domain::OrderId,
    /// The event id, or the name of a message no event sends (`feedback_request`).
    pub occasion: String,
    pub channel: Channel,
}

/// The e-mail as MIME, from the shop's name at the sender identity, replies to its support.
pub fn mime(
    email: &Email,
    shop: &StorefrontProfile,
    sender: &EmailAddress,
    to_name: &str,
    to: &EmailAddress,
) -> Vec<u8> {
    let builder = mail_builder::MessageBuilder::new()
        .from((shop.name.as_str(), sender.as_str()))
        .reply_to(shop.support_email.as_str())
        .to((to_name, to.as_str()))
        .subject(email.subject.as_str())
        .text_body(email.text.as_str())
        .html_body(email.html.as_str());
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    builder.write_to(&mut out).ok();
    out
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

/// Configuration sets name the event in `eventType`, identity notifications in
/// `notificationType`; the `bounce` or `complaint` object is what both always carry, so that
/// decides.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    #[serde(default)]
    bounce: Option<SesBounce>,
    #[serde(default)]
    complaint: Option<SesComplaint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesBounce {
    bounce_type: String,
    bounced_recipients: Vec<SesRecipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesComplaint {
    complained_recipients: Vec<SesRecipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesRecipient {
    email_address: String,
}

impl MailFeedback {
    /// `Ok(None)` for events that suppress nothing: deliveries, opens, and transient bounces
    /// (a full mailbox may take mail tomorrow).
    pub fn parse(body: &str) -> Result<Option<Self>, serde_json::Error> {
        let event: SesEvent = serde_json::from_str(body)?;
        let (reason, recipients) = match (event.bounce, event.complaint) {
            (Some(bounce), _) if bounce.bounce_type == "Permanent" => {
                (SuppressionReason::Bounce, bounce.bounced_recipients)
            }
            (None, Some(complaint)) => (SuppressionReason::Complaint, complaint.complained_recipients),
            _ => return Ok(None),
        };
        // SES may give `"Name" <address>`; the address is what we suppress.
        let recipients = recipients
            .iter()
            .filter_map(|recipient| {
                let raw = recipient.email_address.trim();
                let bare = raw.rsplit_once('<').map_or(raw, |(_, rest)| rest.trim_end_matches('>'));
                EmailAddress::parse(bare).ok()
            })
            .collect();
        Ok(Some(Self { reason, recipients }))
    }
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
pub fn feedback_due_days(today: NaiveDate, after_days: u16) -> Vec<NaiveDate> {
    let due = today - chrono::Days::new(u64::from(after_days));
    (0..3u64).map(|back| due - chrono::Days::new(back)).collect()
}

#[cfg(test)]
mod tests;
