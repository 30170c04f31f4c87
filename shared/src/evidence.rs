//! What a dispute needs from us, from the order as recorded: who ordered what and when, what
//! was charged and when, where it went, the carrier's scans up to delivery, the messages the
//! customer was sent, and every refund. `orderctl dispute` prints it for the operator and can
//! hand it to the provider as the dispute's evidence.

use chrono::{DateTime, Utc};

use crate::{
    domain::{Address, Dispute, EventId, EventType, OrderRecord, OrderStatus, TrackingStatus},
    notification::{Channel, MessageKey, Notice, occasion},
};

/// What the notification ledger holds for one message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerEntry {
    /// `sent`, `skipped`, `dispatched`, `sending`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One message as the evidence lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageSent {
    pub message: &'static str,
    pub channel: &'static str,
    pub entry: LedgerEntry,
}

/// One parcel: who carried it, and the scans that say where it went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParcelEvidence {
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// `when: status (carrier's words) at place`, oldest first.
    pub scans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DisputeEvidence {
    pub order_id: String,
    pub storefront: String,
    pub placed_at: DateTime<Utc>,
    pub customer_name: String,
    pub customer_email: String,
    pub lines: Vec<String>,
    pub total: String,
    pub authorized: Option<String>,
    /// What was captured, and when (the order's shipment triggers the capture).
    pub charged: Option<String>,
    pub shipping_address: Vec<String>,
    pub parcels: Vec<ParcelEvidence>,
    pub messages: Vec<MessageSent>,
    pub refunds: Vec<String>,
    pub disputes: Vec<Dispute>,
}

/// The ledger keys of every message the order's events may have sent, on both channels.
pub fn message_keys(record: &OrderRecord) -> Vec<(Notice, MessageKey)> {
    let order = &record.order;
    let mut keys = Vec::new();
    for entry in &record.timeline {
        let Some(notice) = Notice::for_event(entry.event_type) else { continue };
        let event = EventId { order_id: order.id.clone(), version: entry.version };
        let occasion = occasion(notice, &event, order);
        for channel in [Channel::Email, Channel::Sms] {
            let key = MessageKey { order_id: order.id.clone(), occasion: occasion.clone(), channel };
            if !keys.iter().any(|(_, known): &(Notice, MessageKey)| known == &key) {
                keys.push((notice, key));
            }
        }
    }
    for channel in [Channel::Email, Channel::Sms] {
        let occasion = Notice::FeedbackRequest.name().to_owned();
        keys.push((Notice::FeedbackRequest, MessageKey { order_id: order.id.clone(), occasion, channel }));
    }
    keys
}

fn address_lines(address: &Address) -> Vec<String> {
    let mut lines = vec![address.name.to_string(), address.line1.to_string()];
    lines.extend(address.line2.iter().map(ToString::to_string));
    let postal = address.postal_code.as_ref().map_or(String::new(), |code| format!("{code} "));
    lines.push(format!("{postal}{}", address.city));
    lines.extend(address.region.iter().map(ToString::to_string));
    lines.push(address.country.to_string());
    lines
}

fn at(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl DisputeEvidence {
    /// From the order's record and what the ledger holds for its messages (`found`, by the keys
    /// [`message_keys`] gave).
    pub fn gather(record: &OrderRecord, found: &[(Notice, MessageKey, LedgerEntry)]) -> Self {
        let order = &record.order;
        let shipped_at = record
            .timeline
            .iter()
            .find(|entry| entry.event_type == EventType::Reached(OrderStatus::Shipped))
            .map(|entry| entry.at);
        let parcels = order
            .shipments
            .iter()
            .map(|parcel| {
                let scans: Vec<_> = record
                    .timeline
                    .iter()
                    .filter_map(|entry| Some((entry.at, entry.tracking.as_ref()?)))
                    .filter(|(_, scan)| scan.tracking_number == parcel.tracking_number)
                    .collect();
                let delivered_at =
                    scans.iter().find(|(_, scan)| scan.status == TrackingStatus::Delivered).map(|(when, _)| *when);
                let scans = scans
                    .iter()
                    .map(|(when, scan)| {
                        let place = scan.location.as_ref().map_or(String::new(), |place| format!(" at {place}"));
                        format!("{}: {:?} ({}){place}", at(*when), scan.status, scan.carrier_status)
                    })
                    .collect();
                ParcelEvidence {
                    carrier: parcel.carrier.to_string(),
                    tracking_number: parcel.tracking_number.to_string(),
                    shipped_at: parcel.shipped_at,
                    delivered_at,
                    scans,
                }
            })
            .collect();
        let mut refunds: Vec<String> = order
            .payment
            .refunds
            .iter()
            .map(|paid| match &paid.failed {
                None => format!("{} refunded ({})", paid.amount, paid.id),
                Some(why) => format!("{} refund FAILED: {why} ({})", paid.amount, paid.id),
            })
            .collect();
        refunds.extend(
            order
                .payment
                .disputes
                .iter()
                .filter(|dispute| dispute.status == crate::domain::DisputeStatus::Lost)
                .map(|lost| format!("{} returned by the card holder's bank: dispute {} lost", lost.amount, lost.id)),
        );
        Self {
            order_id: order.id.to_string(),
            storefront: order.storefront.to_string(),
            placed_at: order.created_at,
            customer_name: order.customer.name.to_string(),
            customer_email: order.customer.email.as_str().to_owned(),
            lines: order
                .lines
                .iter()
                .map(|line| format!("{} x {} ({}) at {}", line.quantity.get(), line.name, line.sku, line.unit_price))
                .collect(),
            total: order.totals.total.to_string(),
            authorized: order.payment.authorization.as_ref().map(|hold| {
                let when = hold.authorized_at.map_or(String::new(), |when| format!(" on {}", at(when)));
                format!("{} authorised{when} ({})", hold.amount, hold.id)
            }),
            charged: order.payment.captured.map(|captured| {
                let when = shipped_at.map_or(String::new(), |when| format!(" when it shipped, {}", at(when)));
                format!("{captured} captured{when}")
            }),
            shipping_address: address_lines(&order.shipping_address),
            parcels,
            messages: found
                .iter()
                .map(|(notice, key, entry)| MessageSent {
                    message: notice.name(),
                    channel: key.channel.as_str(),
                    entry: entry.clone(),
                })
                .collect(),
            refunds,
            disputes: order.payment.disputes.clone(),
        }
    }

    /// For the operator's terminal.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Order {} ({}), placed {} by {} <{}>\n",
            self.order_id,
            self.storefront,
            at(self.placed_at),
            self.customer_name,
            self.customer_email
        );
        for line in &self.lines {
            out.push_str(&format!("  {line}\n"));
        }
        out.push_str(&format!("  total {}\n\nPayment\n", self.total));
        for fact in self.authorized.iter().chain(&self.charged) {
            out.push_str(&format!("  {fact}\n"));
        }
        out.push_str("\nShipped to\n");
        for line in &self.shipping_address {
            out.push_str(&format!("  {line}\n"));
        }
        for parcel in &self.parcels {
            let delivered =
                parcel.delivered_at.map_or("not delivered yet".to_owned(), |when| format!("delivered {}", at(when)));
            out.push_str(&format!(
                "\nParcel {} with {}, shipped {}, {delivered}\n",
                parcel.tracking_number,
                parcel.carrier,
                at(parcel.shipped_at)
            ));
            for scan in &parcel.scans {
                out.push_str(&format!("  {scan}\n"));
            }
        }
        out.push_str("\nMessages to the customer\n");
        for sent in &self.messages {
            let when = sent.entry.at.as_deref().unwrap_or("");
            let why = sent.entry.reason.as_ref().map_or(String::new(), |reason| format!(" ({reason})"));
            out.push_str(&format!("  {when} {} by {}: {}{why}\n", sent.message, sent.channel, sent.entry.state));
        }
        out.push_str("\nRefunds\n");
        if self.refunds.is_empty() {
            out.push_str("  none\n");
        }
        for refund in &self.refunds {
            out.push_str(&format!("  {refund}\n"));
        }
        out.push_str("\nDisputes\n");
        for dispute in &self.disputes {
            let due = dispute.evidence_due_by.map_or(String::new(), |due| format!(", evidence due by {}", at(due)));
            out.push_str(&format!(
                "  {} {}: {} for {}, opened {}{due}\n",
                dispute.id,
                dispute.status.as_str(),
                dispute.reason,
                dispute.amount,
                at(dispute.opened_at)
            ));
        }
        out
    }

    /// The evidence as Stripe's dispute update takes it (`evidence[…]` form fields).
    pub fn provider_form(&self) -> Vec<(String, String)> {
        let parcel = self.parcels.first();
        let mut log = format!("Order {} placed {}; {}.\n", self.order_id, at(self.placed_at), self.lines.join("; "));
        for fact in self.authorized.iter().chain(&self.charged) {
            log.push_str(&format!("{fact}.\n"));
        }
        for parcel in &self.parcels {
            log.push_str(&format!(
                "Parcel {} ({}): {}.\n",
                parcel.tracking_number,
                parcel.carrier,
                parcel.scans.join("; ")
            ));
        }
        let sent: Vec<String> = self
            .messages
            .iter()
            .filter(|sent| sent.entry.state == "sent")
            .map(|sent| format!("{} by {} {}", sent.message, sent.channel, sent.entry.at.as_deref().unwrap_or("")))
            .collect();
        log.push_str(&format!("Messages sent: {}.\n", sent.join("; ")));
        log.push_str(&format!(
            "Refunds: {}.",
            if self.refunds.is_empty() { "none".to_owned() } else { self.refunds.join("; ") }
        ));
        let mut fields = vec![
            ("customer_name", self.customer_name.clone()),
            ("customer_email_address", self.customer_email.clone()),
            ("shipping_address", self.shipping_address.join(", ")),
            ("product_description", self.lines.join("; ")),
            ("uncategorized_text", log),
        ];
        if let Some(parcel) = parcel {
            fields.push(("shipping_carrier", parcel.carrier.clone()));
            fields.push(("shipping_tracking_number", parcel.tracking_number.clone()));
            fields.push(("shipping_date", parcel.shipped_at.format("%Y-%m-%d").to_string()));
        }
        fields.into_iter().map(|(name, value)| (format!("evidence[{name}]"), value)).collect()
    }
}
