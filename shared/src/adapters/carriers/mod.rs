//! Carrier webhooks: the signature check, per carrier secret and compared in constant time, in
//! the carrier's own scheme (EasyPost's `X-Hmac-Signature`, AfterShip's `aftership-hmac-sha256`:
//! HMAC-SHA256 of the raw body, no timestamp, so the event's own time must be recent) or in ours
//! for carriers that sign through a relay (HMAC-SHA256 of the timestamp and the body, with a
//! replay window), and the carriers' payload vocabularies (one file each beside this one),
//! normalised into [`DeliveryUpdate`]s.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::{DeliveryUpdate, TrackingNumber, WebhookSource};

mod aftership;
mod easypost;

/// The unix time, in seconds, at which the carrier signed the request.
pub const TIMESTAMP_HEADER: &str = "X-Webhook-Timestamp";
/// `v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`; several comma-separated while a secret is
/// being rotated.
pub const SIGNATURE_HEADER: &str = "X-Webhook-Signature";

/// The largest body a carrier may send (a tracking event is a few KiB); anything larger is
/// refused before any HMAC is computed, so an anonymous caller cannot buy hashing by the MB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Signatures accepted per request: the current secret's and, while it rotates, the old one's.
pub(crate) const MAX_SIGNATURES: usize = 2;
/// The shortest secret we take: a shorter (or empty) one would make signatures guessable.
pub(crate) const MIN_SECRET_CHARS: usize = 16;

/// The payload vocabularies we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// EasyPost's `tracker.updated` / `tracker.created` events.
    EasyPost,
    /// AfterShip's `tracking_update` webhooks.
    AfterShip,
}

impl Vocabulary {
    /// The vocabulary a carrier path segment speaks.
    pub fn of(carrier: &str) -> Option<Self> {
        match carrier {
            "easypost" => Some(Self::EasyPost),
            "aftership" => Some(Self::AfterShip),
            _ => None,
        }
    }

    /// The header the carrier signs its webhooks in.
    pub fn signature_header(self) -> &'static str {
        match self {
            Self::EasyPost => "X-Hmac-Signature",
            Self::AfterShip => "aftership-hmac-sha256",
        }
    }

    /// Where the event says when it was sent: what stands in for a signed timestamp.
    fn time_field(self) -> &'static str {
        match self {
            Self::EasyPost => "/created_at",
            Self::AfterShip => "/ts",
        }
    }

    /// The signature header's value for `body`, as the carrier computes it: EasyPost's
    /// `hmac-sha256-hex=<hex>` under the secret in Unicode NFKD (as its client libraries
    /// normalise it), AfterShip's base64.
    pub fn sign(self, secret: &str, body: &[u8]) -> String {
        let digest = self.mac(secret, body).map(|mac| mac.finalize().into_bytes()).unwrap_or_default();
        match self {
            Self::EasyPost => format!("hmac-sha256-hex={}", hex_encode(&digest)),
            Self::AfterShip => base64::engine::general_purpose::STANDARD.encode(digest),
        }
    }

    fn mac(self, secret: &str, body: &[u8]) -> Option<HmacSha256> {
        let key = match self {
            Self::EasyPost => icu_normalizer::DecomposingNormalizerBorrowed::new_nfkd().normalize(secret),
            Self::AfterShip => secret.into(),
        };
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).ok()?;
        mac.update(body);
        Some(mac)
    }

    /// Whether `value` is the carrier's signature of `body`, compared in constant time.
    fn verifies(self, secret: &str, value: &str, body: &[u8]) -> bool {
        let value = value.trim();
        let expected = match self {
            Self::EasyPost => value.strip_prefix("hmac-sha256-hex=").and_then(hex_decode),
            Self::AfterShip => base64::engine::general_purpose::STANDARD.decode(value).ok(),
        };
        let mac = self.mac(secret, body);
        expected.zip(mac).is_some_and(|(expected, mac)| mac.verify_slice(&expected).is_ok())
    }
}

/// Why a webhook call is refused. Nothing is queued for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("no such carrier")]
    UnknownCarrier,
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("the timestamp is not a unix time in seconds")]
    InvalidTimestamp,
    #[error("the timestamp is outside the accepted window")]
    StaleTimestamp,
    #[error("the signature does not match")]
    InvalidSignature(&'static str),
    #[error("the request is signed in two schemes; send one")]
    ConflictingSignatures(&'static str),
    #[error("the event's own time is older than the accepted window or in the future")]
    StaleEvent(&'static str),
    #[error("at most {MAX_SIGNATURES} signatures may be sent")]
    TooManySignatures,
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is not a tracking event: {0}")]
    Malformed(String),
    #[error("the event is not about tracking: {0}")]
    UnsupportedEvent(String),
}

impl WebhookRefusal {
    /// What is at fault: the header, the carrier in the path, or the body (`/`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownCarrier => "carrier",
            Self::MissingHeader(header) => header,
            Self::InvalidTimestamp | Self::StaleTimestamp => TIMESTAMP_HEADER,
            Self::InvalidSignature(header) | Self::ConflictingSignatures(header) => header,
            Self::StaleEvent(field) => field,
            Self::TooManySignatures => SIGNATURE_HEADER,
            Self::TooLarge | Self::Malformed(_) | Self::UnsupportedEvent(_) => "/",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::UnknownCarrier => 404,
            Self::MissingHeader(_)
            | Self::InvalidTimestamp
            | Self::StaleTimestamp
            | Self::InvalidSignature(_)
            | Self::ConflictingSignatures(_)
            | Self::StaleEvent(_)
            | Self::TooManySignatures => 401,
            Self::TooLarge => 413,
            Self::Malformed(_) | Self::UnsupportedEvent(_) => 400,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownCarrier => "carrier_not_found",
            Self::MissingHeader(TIMESTAMP_HEADER) => "missing_timestamp",
            Self::MissingHeader(_) => "missing_signature",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::StaleTimestamp => "stale_timestamp",
            Self::InvalidSignature(_) => "invalid_signature",
            Self::ConflictingSignatures(_) => "conflicting_signatures",
            Self::StaleEvent(_) => "stale_event",
            Self::TooManySignatures => "too_many_signatures",
            Self::TooLarge => "payload_too_large",
            Self::Malformed(_) => "malformed_event",
            Self::UnsupportedEvent(_) => "unsupported_event",
        }
    }
}

/// The carriers we take webhooks from, each with its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct CarrierWebhooks {
    secrets: BTreeMap<String, String>,
    windows: EventWindows,
}

/// How recent a signed request must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventWindows {
    /// How far our scheme's signed timestamp may be from our clock, either way; and how far in
    /// the future a carrier-signed event's own time may be (clocks differ).
    pub tolerance: Duration,
    /// How old a carrier-signed event may be: longer than the carrier retries a delivery, so
    /// that no genuine retry is refused. Within it, the event's id stops a replay.
    pub max_age: Duration,
}

impl std::fmt::Debug for CarrierWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarrierWebhooks")
            .field("carriers", &self.secrets.keys().collect::<Vec<_>>())
            .field("windows", &self.windows)
            .finish()
    }
}

/// The request's parts the check needs.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// Our scheme's headers.
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// The carrier's own scheme's header ([`Vocabulary::signature_header`]).
    pub carrier_signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// The carrier secrets cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierSecretsError {
    #[error("no payload vocabulary is known for carrier {0:?}")]
    UnknownVocabulary(String),
    #[error("the secret of carrier {0:?} is shorter than {MIN_SECRET_CHARS} characters")]
    WeakSecret(String),
}

impl CarrierWebhooks {
    /// `secrets` by carrier path segment; every carrier must speak a known vocabulary and have
    /// a secret of at least [`MIN_SECRET_CHARS`].
    pub fn new(secrets: BTreeMap<String, String>, windows: EventWindows) -> Result<Self, CarrierSecretsError> {
        if let Some(unknown) = secrets.keys().find(|carrier| Vocabulary::of(carrier).is_none()) {
            return Err(CarrierSecretsError::UnknownVocabulary(unknown.clone()));
        }
        if let Some((weak, _)) = secrets.iter().find(|(_, secret)| secret.chars().count() < MIN_SECRET_CHARS) {
            return Err(CarrierSecretsError::WeakSecret(weak.clone()));
        }
        Ok(Self { secrets, windows })
    }

    /// From the secret's text: JSON of the signing secret by carrier path segment. The error
    /// never quotes the text.
    pub fn from_secret(text: &str, windows: EventWindows) -> Result<Self, String> {
        let secrets: BTreeMap<String, String> =
            serde_json::from_str(text).map_err(|_| "it is not JSON of a signing secret by carrier".to_owned())?;
        Self::new(secrets, windows).map_err(|error| error.to_string())
    }

    /// Checks the signature and reads the event: the update to queue, or why not.
    pub fn receive(
        &self,
        carrier: &str,
        request: SignedRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryUpdate, WebhookRefusal> {
        if request.body.len() > MAX_BODY_BYTES {
            return Err(WebhookRefusal::TooLarge);
        }
        let (secret, vocabulary) =
            self.secrets.get(carrier).zip(Vocabulary::of(carrier)).ok_or(WebhookRefusal::UnknownCarrier)?;
        let source = WebhookSource::parse(carrier).map_err(|_| WebhookRefusal::UnknownCarrier)?;
        let carrier_header = vocabulary.signature_header();
        let carrier_signed = match (request.carrier_signature, request.signature) {
            (Some(_), Some(_)) => return Err(WebhookRefusal::ConflictingSignatures(carrier_header)),
            (Some(signature), None) => {
                if !vocabulary.verifies(secret, signature, request.body) {
                    return Err(WebhookRefusal::InvalidSignature(carrier_header));
                }
                true
            }
            (None, Some(signatures)) => {
                self.check_relayed(secret, request.timestamp, signatures, request.body, now)?;
                false
            }
            (None, None) if request.timestamp.is_some() => return Err(WebhookRefusal::MissingHeader(SIGNATURE_HEADER)),
            (None, None) => return Err(WebhookRefusal::MissingHeader(carrier_header)),
        };
        let (update, sent_at) = match vocabulary {
            Vocabulary::EasyPost => easypost::read(&source, request.body)?,
            Vocabulary::AfterShip => aftership::read(&source, request.body)?,
        };
        if carrier_signed {
            // Nothing signed says when it was sent but the event itself.
            let sent_at = sent_at.ok_or_else(|| malformed("the event does not say when it was sent"))?;
            if now - sent_at > self.windows.max_age || sent_at - now > self.windows.tolerance {
                return Err(WebhookRefusal::StaleEvent(vocabulary.time_field()));
            }
        }
        Ok(update)
    }

    /// Our scheme: `v1=` signatures of `{timestamp}.{body}`, the timestamp within the window.
    fn check_relayed(
        &self,
        secret: &str,
        timestamp: Option<&str>,
        signatures: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), WebhookRefusal> {
        let timestamp = timestamp.ok_or(WebhookRefusal::MissingHeader(TIMESTAMP_HEADER))?;
        let seconds: i64 = timestamp.trim().parse().map_err(|_| WebhookRefusal::InvalidTimestamp)?;
        let signed_at = DateTime::from_timestamp(seconds, 0).ok_or(WebhookRefusal::InvalidTimestamp)?;
        if (now - signed_at).abs() > self.windows.tolerance {
            return Err(WebhookRefusal::StaleTimestamp);
        }
        let candidates: Vec<&str> = signatures.split(',').map(str::trim).collect();
        if candidates.len() > MAX_SIGNATURES {
            return Err(WebhookRefusal::TooManySignatures);
        }
        // The body is hashed once, whatever the number of candidates.
        let signed = mac(secret, timestamp.trim(), body).ok_or(WebhookRefusal::InvalidSignature(SIGNATURE_HEADER))?;
        if !candidates.iter().any(|candidate| verifies(&signed, candidate)) {
            return Err(WebhookRefusal::InvalidSignature(SIGNATURE_HEADER));
        }
        Ok(())
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The MAC of `timestamp.body`; `None` only if HMAC refused the key, which it never does.
fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// Whether `candidate` (`v1=<hex>`) is the signature `signed` computes; the comparison takes
/// the same time however many bytes match.
fn verifies(signed: &HmacSha256, candidate: &str) -> bool {
    let Some(expected) = candidate.strip_prefix("v1=").and_then(hex_decode) else {
        return false;
    };
    signed.clone().verify_slice(&expected).is_ok()
}

/// The `X-Webhook-Signature` value for a body: what a carrier (or a test) sends.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, &timestamp.to_string(), body).map(|mac| mac.finalize().into_bytes()).unwrap_or_default();
    format!("v1={}", hex_encode(&digest))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok()).collect()
}

/// A carrier's event read strictly: UTF-8, and no member named twice (which two readers of one
/// body could take differently).
fn event<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookRefusal> {
    serde_json::from_value(crate::strict_json::parse(body).map_err(malformed)?).map_err(malformed)
}

fn malformed(error: impl std::fmt::Display) -> WebhookRefusal {
    WebhookRefusal::Malformed(error.to_string())
}

fn tracking_number(raw: &str) -> Result<TrackingNumber, WebhookRefusal> {
    TrackingNumber::parse(raw).map_err(malformed)
}

/// A date from a date or a date-time: carriers write estimates both ways.
fn estimate(raw: Option<&str>) -> Option<NaiveDate> {
    raw.and_then(|raw| raw.get(..10)).and_then(|date| date.parse().ok())
}

/// A time with an offset, or without one (then taken as UTC, which AfterShip's local times are
/// not always; the order of one parcel's events is what matters here).
fn instant(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| raw.parse::<NaiveDateTime>().ok().map(|at| at.and_utc()))
}

/// A carrier's words for a customer or an operator to read, without the characters that would
/// hide or reorder them: a partner's tracking event is not refused (and lost) for its wording.
fn words(text: Option<String>) -> Option<String> {
    let text: String = text?.chars().filter(|c| !crate::domain::is_hidden_or_control(*c)).collect();
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{aftership::aftership_status, easypost::easypost_status, *};
    use crate::domain::TrackingStatus;

    const EASYPOST_IN_TRANSIT: &[u8] = include_bytes!("../../../../tests/fixtures/carriers/easypost-in-transit.json");
    const EASYPOST_DELIVERED: &[u8] = include_bytes!("../../../../tests/fixtures/carriers/easypost-delivered.json");
    const AFTERSHIP_OUT_FOR_DELIVERY: &[u8] =
        include_bytes!("../../../../tests/fixtures/carriers/aftership-out-for-delivery.json");
    const AFTERSHIP_ATTEMPT_FAILED: &[u8] =
        include_bytes!("../../../../tests/fixtures/carriers/aftership-attempt-failed.json");

    fn webhooks() -> CarrierWebhooks {
        let secrets = BTreeMap::from([
            ("easypost".to_owned(), "whsec_easypost_test".to_owned()),
            ("aftership".to_owned(), "whsec_aftership_test".to_owned()),
        ]);
        CarrierWebhooks::new(secrets, windows()).unwrap()
    }

    fn windows() -> EventWindows {
        EventWindows { tolerance: Duration::minutes(5), max_age: Duration::days(3) }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_600_000, 0).unwrap()
    }

    fn receive(carrier: &str, secret: &str, signed_at: i64, body: &[u8]) -> Result<DeliveryUpdate, WebhookRefusal> {
        let signature = sign(secret, signed_at, body);
        let timestamp = signed_at.to_string();
        let request =
            SignedRequest { timestamp: Some(&timestamp), signature: Some(&signature), carrier_signature: None, body };
        webhooks().receive(carrier, request, now())
    }

    #[test]
    fn an_easypost_tracker_event_is_read_in_our_words() {
        let update = receive("easypost", "whsec_easypost_test", now().timestamp(), EASYPOST_IN_TRANSIT).unwrap();
        assert_eq!(update.event_id.as_str(), "evt_0f6a3b7c2d1e4f5a");
        assert_eq!(update.tracking_number.as_str(), "EZ4000000004");
        assert_eq!(update.status, TrackingStatus::InTransit);
        assert_eq!(update.carrier_status, "in_transit/arrived_at_facility");
        assert_eq!(update.occurred_at.to_rfc3339(), "2026-11-24T08:57:00+00:00");
        assert_eq!(update.location.as_deref(), Some("Leipzig, DE"));
        assert_eq!(update.description.as_deref(), Some("Arrived at sort facility"));
        assert_eq!(update.estimated_delivery, "2026-11-26".parse().ok());
        let delivered = receive("easypost", "whsec_easypost_test", now().timestamp(), EASYPOST_DELIVERED).unwrap();
        assert_eq!((delivered.status, delivered.carrier.as_deref()), (TrackingStatus::Delivered, Some("DHLExpress")));
    }

    #[test]
    fn an_aftership_tracking_update_is_read_in_our_words() {
        let update =
            receive("aftership", "whsec_aftership_test", now().timestamp(), AFTERSHIP_OUT_FOR_DELIVERY).unwrap();
        assert_eq!(update.event_id.as_str(), "5b2f7b1e-8c1d-4a8e-9f61-3a9c2d7e4b10");
        assert_eq!(
            (update.status, update.carrier_status.as_str()),
            (TrackingStatus::OutForDelivery, "OutForDelivery_001")
        );
        assert_eq!(update.occurred_at.to_rfc3339(), "2026-11-25T07:04:00+00:00");
        assert_eq!(update.location.as_deref(), Some("Amsterdam, NLD"));
        let failed = receive("aftership", "whsec_aftership_test", now().timestamp(), AFTERSHIP_ATTEMPT_FAILED).unwrap();
        assert_eq!(failed.status, TrackingStatus::DeliveryException);
        assert_eq!(failed.estimated_delivery, "2026-11-27".parse().ok());
    }

    #[test]
    fn carrier_vocabularies_map_to_our_statuses() {
        for (easypost, ours) in [
            ("pre_transit", TrackingStatus::InfoReceived),
            ("out_for_delivery", TrackingStatus::OutForDelivery),
            ("return_to_sender", TrackingStatus::ReturnedToSender),
            ("failure", TrackingStatus::DeliveryException),
            ("available_for_pickup", TrackingStatus::DeliveryException),
            ("unknown", TrackingStatus::Unrecognised),
        ] {
            assert_eq!(easypost_status(easypost), ours, "{easypost}");
        }
        for (tag, subtag, ours) in [
            ("InfoReceived", None, TrackingStatus::InfoReceived),
            ("InTransit", Some("InTransit_003"), TrackingStatus::InTransit),
            ("Delivered", Some("Delivered_001"), TrackingStatus::Delivered),
            ("Exception", Some("Exception_011"), TrackingStatus::ReturnedToSender),
            ("Exception", Some("Exception_004"), TrackingStatus::DeliveryException),
            ("Expired", None, TrackingStatus::DeliveryException),
            ("Teleported", None, TrackingStatus::Unrecognised),
        ] {
            assert_eq!(aftership_status(tag, subtag), ours, "{tag} {subtag:?}");
        }
    }

    #[test]
    fn wrong_secrets_tampered_bodies_and_odd_timestamps_are_refused() {
        let fresh = now().timestamp();
        let code = |result: Result<DeliveryUpdate, WebhookRefusal>| result.unwrap_err().code();
        assert_eq!(code(receive("easypost", "whsec_other", fresh, EASYPOST_IN_TRANSIT)), "invalid_signature");
        assert_eq!(code(receive("easypost", "whsec_aftership_test", fresh, EASYPOST_IN_TRANSIT)), "invalid_signature");
        assert_eq!(
            code(receive("easypost", "whsec_easypost_test", fresh - 301, EASYPOST_IN_TRANSIT)),
            "stale_timestamp"
        );
        assert_eq!(
            code(receive("easypost", "whsec_easypost_test", fresh + 301, EASYPOST_IN_TRANSIT)),
            "stale_timestamp"
        );
        assert!(receive("easypost", "whsec_easypost_test", fresh - 299, EASYPOST_IN_TRANSIT).is_ok());
        assert_eq!(code(receive("ups", "whsec_easypost_test", fresh, EASYPOST_IN_TRANSIT)), "carrier_not_found");

        let signature = sign("whsec_easypost_test", fresh, EASYPOST_IN_TRANSIT);
        let timestamp = fresh.to_string();
        let mut tampered = EASYPOST_IN_TRANSIT.to_vec();
        tampered[200] ^= 1;
        let webhooks = webhooks();
        let check = |timestamp: Option<&str>, signature: Option<&str>, body: &[u8]| {
            let request = SignedRequest { timestamp, signature, carrier_signature: None, body };
            webhooks.receive("easypost", request, now()).unwrap_err().code()
        };
        assert_eq!(check(Some(&timestamp), Some(&signature), &tampered), "invalid_signature");
        assert_eq!(check(None, Some(&signature), EASYPOST_IN_TRANSIT), "missing_timestamp");
        assert_eq!(check(Some(&timestamp), None, EASYPOST_IN_TRANSIT), "missing_signature");
        assert_eq!(check(Some("yesterday"), Some(&signature), EASYPOST_IN_TRANSIT), "invalid_timestamp");
        assert_eq!(check(Some(&timestamp), Some("v1=zz"), EASYPOST_IN_TRANSIT), "invalid_signature");
        assert_eq!(
            check(Some(&timestamp), Some(signature.trim_start_matches("v1=")), EASYPOST_IN_TRANSIT),
            "invalid_signature"
        );
        // While a secret is rotated the carrier may send both signatures.
        let both = format!("v1={}, {signature}", "00".repeat(32));
        assert!(
            webhooks
                .receive(
                    "easypost",
                    SignedRequest {
                        timestamp: Some(&timestamp),
                        signature: Some(&both),
                        carrier_signature: None,
                        body: EASYPOST_IN_TRANSIT
                    },
                    now()
                )
                .is_ok()
        );
    }

    #[test]
    fn a_carriers_words_lose_what_would_hide_or_reorder_them() {
        let body = std::str::from_utf8(EASYPOST_IN_TRANSIT)
            .unwrap()
            .replace("Arrived at sort facility", "Arrived at\\u202e sort\\u200b facility\\u0007");
        let update = receive("easypost", "whsec_easypost_test", now().timestamp(), body.as_bytes()).unwrap();
        assert_eq!(update.description.as_deref(), Some("Arrived at sort facility"));
    }

    #[test]
    fn bodies_that_are_not_tracking_events_are_bad_requests() {
        let fresh = now().timestamp();
        let refuse =
            |carrier: &str, secret: &str, body: &str| receive(carrier, secret, fresh, body.as_bytes()).unwrap_err();
        assert_eq!(refuse("easypost", "whsec_easypost_test", "{\"id\":").code(), "malformed_event");
        let twice = std::str::from_utf8(EASYPOST_IN_TRANSIT).unwrap().replacen(
            "\"status\": \"in_transit\"",
            "\"status\": \"delivered\", \"status\": \"in_transit\"",
            1,
        );
        let refusal = refuse("easypost", "whsec_easypost_test", &twice);
        assert_eq!((refusal.code(), refusal.to_string().contains("/result/status")), ("malformed_event", true));
        assert_eq!(refuse("easypost", "whsec_easypost_test", "[]").status(), 400);
        let refund = r#"{"id":"evt_1","description":"refund.successful","created_at":"2026-11-24T09:12:41Z","result":{"tracking_code":"EZ4000000004","status":"x"}}"#;
        assert_eq!(refuse("easypost", "whsec_easypost_test", refund).code(), "unsupported_event");
        let no_number =
            r#"{"event":"tracking_update","event_id":"e","msg":{"tracking_number":"?","tag":"InTransit"},"ts":1}"#;
        assert_eq!(refuse("aftership", "whsec_aftership_test", no_number).code(), "malformed_event");
    }

    #[test]
    fn an_oversized_body_or_a_pile_of_signatures_is_refused_before_anything_is_hashed() {
        let fresh = now().timestamp();
        let mut huge = EASYPOST_IN_TRANSIT.to_vec();
        huge.resize(MAX_BODY_BYTES + 1, b' ');
        let refused = receive("easypost", "whsec_easypost_test", fresh, &huge).unwrap_err();
        assert_eq!((refused.status(), refused.code()), (413, "payload_too_large"));

        let signature = sign("whsec_easypost_test", fresh, EASYPOST_IN_TRANSIT);
        let timestamp = fresh.to_string();
        let three = format!("v1={0}, v1={0}, {signature}", "00".repeat(32));
        let request = SignedRequest {
            timestamp: Some(&timestamp),
            signature: Some(&three),
            carrier_signature: None,
            body: EASYPOST_IN_TRANSIT,
        };
        let refused = webhooks().receive("easypost", request, now()).unwrap_err();
        assert_eq!((refused.status(), refused.code()), (401, "too_many_signatures"));
    }

    #[test]
    fn an_empty_or_short_secret_is_a_configuration_error() {
        for weak in ["", "short-secret"] {
            let secrets = BTreeMap::from([("easypost".to_owned(), weak.to_owned())]);
            assert_eq!(
                CarrierWebhooks::new(secrets, windows()).unwrap_err(),
                CarrierSecretsError::WeakSecret("easypost".into())
            );
        }
    }

    #[test]
    fn a_carrier_without_a_vocabulary_is_a_configuration_error() {
        let secrets = BTreeMap::from([("pigeon".to_owned(), "whsec_long_enough_pigeon".to_owned())]);
        assert_eq!(
            CarrierWebhooks::new(secrets, windows()).unwrap_err(),
            CarrierSecretsError::UnknownVocabulary("pigeon".into())
        );
    }

    /// A request signed in the carrier's own scheme only, received at `now`.
    fn carrier_signed(
        carrier: &str,
        signature: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<DeliveryUpdate, WebhookRefusal> {
        let request = SignedRequest { timestamp: None, signature: None, carrier_signature: Some(signature), body };
        webhooks().receive(carrier, request, now)
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    /// Vectors computed apart from this code (Python's `hmac`, and `unicodedata.normalize("NFKD")`
    /// as EasyPost's Python client does): the secret in full-width letters signs as its NFKD form.
    #[test]
    fn each_carrier_s_own_signature_is_computed_as_the_carrier_computes_it() {
        let full_width = "ｗｈｓｅｃ＿ｅａｓｙｐｏｓｔ＿ｔｅｓｔ";
        let easypost = "hmac-sha256-hex=4bb39b4eb7efc960f6ee116a5557145851193ce00157a88faba52e9fe7fbeac6";
        assert_eq!(Vocabulary::EasyPost.sign(full_width, EASYPOST_IN_TRANSIT), easypost);
        assert_eq!(Vocabulary::EasyPost.sign("whsec_easypost_test", EASYPOST_IN_TRANSIT), easypost);
        let aftership = "0dzy3xFjw8f+vOMYAFxyGqz7b+F0p4koGn1qaawW5Ik=";
        assert_eq!(Vocabulary::AfterShip.sign("whsec_aftership_test", AFTERSHIP_OUT_FOR_DELIVERY), aftership);

        let sent = at("2026-11-24T09:13:00Z");
        let update = carrier_signed("easypost", easypost, EASYPOST_IN_TRANSIT, sent).unwrap();
        assert_eq!(update.tracking_number.as_str(), "EZ4000000004");
        let ts = DateTime::from_timestamp(1_795_590_603, 0).unwrap();
        let update = carrier_signed("aftership", aftership, AFTERSHIP_OUT_FOR_DELIVERY, ts).unwrap();
        assert_eq!(update.status, TrackingStatus::OutForDelivery);
    }

    #[test]
    fn a_carrier_signed_event_is_refused_if_forged_tampered_old_early_or_signed_twice() {
        let sent = at("2026-11-24T09:12:41Z");
        let signature = Vocabulary::EasyPost.sign("whsec_easypost_test", EASYPOST_IN_TRANSIT);
        let refusal = |result: Result<DeliveryUpdate, WebhookRefusal>| {
            let refusal = result.unwrap_err();
            (refusal.status(), refusal.code(), refusal.field())
        };
        let forged = Vocabulary::EasyPost.sign("whsec_guess_000000", EASYPOST_IN_TRANSIT);
        assert_eq!(
            refusal(carrier_signed("easypost", &forged, EASYPOST_IN_TRANSIT, sent)),
            (401, "invalid_signature", "X-Hmac-Signature")
        );
        let mut tampered = EASYPOST_IN_TRANSIT.to_vec();
        tampered[200] ^= 1;
        assert_eq!(refusal(carrier_signed("easypost", &signature, &tampered, sent)).1, "invalid_signature");
        // Another carrier's scheme, a bare hex digest, upper-case prefix: not EasyPost's.
        let bare = signature.trim_start_matches("hmac-sha256-hex=");
        let upper = signature.replace("hmac-sha256-hex=", "HMAC-SHA256-HEX=");
        let theirs = Vocabulary::AfterShip.sign("whsec_easypost_test", EASYPOST_IN_TRANSIT);
        for wrong in [bare, upper.as_str(), theirs.as_str(), "", "hmac-sha256-hex="] {
            assert_eq!(refusal(carrier_signed("easypost", wrong, EASYPOST_IN_TRANSIT, sent)).1, "invalid_signature");
        }
        // The event's own time stands in for a signed timestamp: three days back, five minutes on.
        assert!(carrier_signed("easypost", &signature, EASYPOST_IN_TRANSIT, sent + Duration::days(3)).is_ok());
        assert_eq!(
            refusal(carrier_signed(
                "easypost",
                &signature,
                EASYPOST_IN_TRANSIT,
                sent + Duration::days(3) + Duration::seconds(1)
            )),
            (401, "stale_event", "/created_at")
        );
        assert!(carrier_signed("easypost", &signature, EASYPOST_IN_TRANSIT, sent - Duration::minutes(5)).is_ok());
        assert_eq!(
            refusal(carrier_signed("easypost", &signature, EASYPOST_IN_TRANSIT, sent - Duration::minutes(6))),
            (401, "stale_event", "/created_at")
        );
        // An AfterShip event without `ts` says nothing of when it was sent.
        let body =
            std::str::from_utf8(AFTERSHIP_OUT_FOR_DELIVERY).unwrap().replace("\"ts\": 1795590603", "\"ts\": null");
        let signed = Vocabulary::AfterShip.sign("whsec_aftership_test", body.as_bytes());
        assert_eq!(refusal(carrier_signed("aftership", &signed, body.as_bytes(), sent)).1, "malformed_event");
        // Both schemes at once: which one counts would be the attacker's choice.
        let timestamp = sent.timestamp().to_string();
        let ours = sign("whsec_easypost_test", sent.timestamp(), EASYPOST_IN_TRANSIT);
        let both = SignedRequest {
            timestamp: Some(&timestamp),
            signature: Some(&ours),
            carrier_signature: Some(&signature),
            body: EASYPOST_IN_TRANSIT,
        };
        assert_eq!(
            refusal(webhooks().receive("easypost", both, sent)),
            (401, "conflicting_signatures", "X-Hmac-Signature")
        );
        let neither =
            SignedRequest { timestamp: None, signature: None, carrier_signature: None, body: EASYPOST_IN_TRANSIT };
        assert_eq!(
            refusal(webhooks().receive("aftership", neither, sent)),
            (401, "missing_signature", "aftership-hmac-sha256")
        );
    }
}
