//! AfterShip's vocabulary: `tracking_update` webhooks, tags and subtags in our words.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{WebhookRefusal, estimate, event, instant, malformed, tracking_number, words};
use crate::domain::{CarrierEventId, DeliveryUpdate, TrackingStatus, WebhookSource};

#[derive(Deserialize)]
struct AfterShipEvent {
    event_id: CarrierEventId,
    event: String,
    #[serde(default)]
    ts: Option<i64>,
    msg: AfterShipTracking,
}

#[derive(Deserialize)]
struct AfterShipTracking {
    tracking_number: String,
    #[serde(default)]
    slug: Option<String>,
    tag: String,
    #[serde(default)]
    subtag: Option<String>,
    #[serde(default)]
    subtag_message: Option<String>,
    #[serde(default)]
    expected_delivery: Option<String>,
    #[serde(default)]
    checkpoints: Vec<AfterShipCheckpoint>,
}

#[derive(Deserialize)]
struct AfterShipCheckpoint {
    checkpoint_time: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    location: Option<String>,
}

/// AfterShip's tags (and the subtags that matter) in our words.
pub(super) fn aftership_status(tag: &str, subtag: Option<&str>) -> TrackingStatus {
    match (tag, subtag) {
        ("Pending" | "InfoReceived", _) => TrackingStatus::InfoReceived,
        ("InTransit", _) => TrackingStatus::InTransit,
        ("OutForDelivery", _) => TrackingStatus::OutForDelivery,
        ("Delivered", _) => TrackingStatus::Delivered,
        // Exception_010 "returning to sender", Exception_011 "returned to sender".
        ("Exception", Some("Exception_010" | "Exception_011")) => TrackingStatus::ReturnedToSender,
        ("Exception" | "AttemptFail" | "AvailableForPickup" | "Expired", _) => TrackingStatus::DeliveryException,
        _ => TrackingStatus::Unrecognised,
    }
}

/// The update, and when the carrier sent the event (its own time, not the scan's).
pub(super) fn read(
    source: &WebhookSource,
    body: &[u8],
) -> Result<(DeliveryUpdate, Option<DateTime<Utc>>), WebhookRefusal> {
    let event: AfterShipEvent = event(body)?;
    if event.event != "tracking_update" {
        return Err(WebhookRefusal::UnsupportedEvent(event.event));
    }
    let tracking = event.msg;
    let mut checkpoints: Vec<(DateTime<Utc>, AfterShipCheckpoint)> = tracking
        .checkpoints
        .into_iter()
        .map(|checkpoint| {
            Ok((instant(&checkpoint.checkpoint_time).ok_or_else(|| malformed("bad checkpoint_time"))?, checkpoint))
        })
        .collect::<Result<_, WebhookRefusal>>()?;
    checkpoints.sort_by_key(|(at, _)| *at);
    let latest = checkpoints.pop();
    let sent_at = event.ts.and_then(|ts| DateTime::from_timestamp(ts, 0));
    let occurred_at = latest
        .as_ref()
        .map(|(at, _)| *at)
        .or(sent_at)
        .ok_or_else(|| malformed("no checkpoint and no ts: the event has no time"))?;
    let update = DeliveryUpdate {
        source: source.clone(),
        event_id: event.event_id,
        carrier: tracking.slug,
        tracking_number: tracking_number(&tracking.tracking_number)?,
        status: aftership_status(&tracking.tag, tracking.subtag.as_deref()),
        carrier_status: tracking.subtag.unwrap_or(tracking.tag),
        occurred_at,
        description: words(
            latest.as_ref().and_then(|(_, checkpoint)| checkpoint.message.clone()).or(tracking.subtag_message),
        ),
        location: words(latest.and_then(|(_, checkpoint)| checkpoint.location)),
        estimated_delivery: estimate(tracking.expected_delivery.as_deref()),
    };
    Ok((update, sent_at))
}
