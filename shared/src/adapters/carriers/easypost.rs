//! EasyPost's vocabulary: `tracker.updated` / `tracker.created` events, in our words.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{WebhookRefusal, estimate, event, tracking_number, words};
use crate::domain::{CarrierEventId, DeliveryUpdate, TrackingStatus, WebhookSource};

#[derive(Deserialize)]
struct EasyPostEvent {
    id: CarrierEventId,
    description: String,
    created_at: DateTime<Utc>,
    result: EasyPostTracker,
}

#[derive(Deserialize)]
struct EasyPostTracker {
    tracking_code: String,
    status: String,
    #[serde(default)]
    status_detail: Option<String>,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    est_delivery_date: Option<String>,
    #[serde(default)]
    tracking_details: Vec<EasyPostDetail>,
}

#[derive(Deserialize)]
struct EasyPostDetail {
    #[serde(default)]
    message: Option<String>,
    datetime: DateTime<Utc>,
    #[serde(default)]
    tracking_location: Option<EasyPostLocation>,
}

#[derive(Deserialize)]
struct EasyPostLocation {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

/// EasyPost's tracker statuses in our words.
pub(super) fn easypost_status(status: &str) -> TrackingStatus {
    match status {
        "pre_transit" => TrackingStatus::InfoReceived,
        "in_transit" => TrackingStatus::InTransit,
        "out_for_delivery" => TrackingStatus::OutForDelivery,
        "delivered" => TrackingStatus::Delivered,
        "return_to_sender" => TrackingStatus::ReturnedToSender,
        // The customer must act (collect, or answer the carrier): told like an exception.
        "available_for_pickup" | "failure" | "cancelled" | "error" => TrackingStatus::DeliveryException,
        _ => TrackingStatus::Unrecognised,
    }
}

/// The update, and when the carrier sent the event (its own time, not the scan's).
pub(super) fn read(
    source: &WebhookSource,
    body: &[u8],
) -> Result<(DeliveryUpdate, Option<DateTime<Utc>>), WebhookRefusal> {
    let event: EasyPostEvent = event(body)?;
    if !event.description.starts_with("tracker.") {
        return Err(WebhookRefusal::UnsupportedEvent(event.description));
    }
    let tracker = event.result;
    let latest = tracker.tracking_details.into_iter().max_by_key(|detail| detail.datetime);
    let location = latest.as_ref().and_then(|detail| detail.tracking_location.as_ref()).map(|place| {
        [&place.city, &place.state, &place.country].into_iter().flatten().cloned().collect::<Vec<_>>().join(", ")
    });
    let update = DeliveryUpdate {
        source: source.clone(),
        event_id: event.id,
        carrier: tracker.carrier,
        tracking_number: tracking_number(&tracker.tracking_code)?,
        status: easypost_status(&tracker.status),
        carrier_status: match tracker.status_detail {
            Some(detail) => format!("{}/{detail}", tracker.status),
            None => tracker.status,
        },
        occurred_at: latest.as_ref().map_or(event.created_at, |detail| detail.datetime),
        description: words(latest.and_then(|detail| detail.message)),
        location: words(location),
        estimated_delivery: estimate(tracker.est_delivery_date.as_deref()),
    };
    Ok((update, Some(event.created_at)))
}
