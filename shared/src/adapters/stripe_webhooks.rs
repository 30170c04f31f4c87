//! Stripe's webhooks: the `Stripe-Signature` check (HMAC-SHA256 of `{t}.{raw body}` under each
//! of our signing secrets, any `v1=` matching, in constant time, `t` within a tolerance) and the
//! events we act on, in our words ([`ProviderEvent`]). Every other event type is acknowledged and
//! left alone, as Stripe advises.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::domain::{
    AuthorizationId, Currency, Dispute, DisputeId, DisputeStatus, Money, OrderId, ProviderEvent, ProviderEventId,
    ProviderNews, RefundId,
};

pub const SIGNATURE_HEADER: &str = "Stripe-Signature";
/// The largest event we read (a dispute or a PaymentIntent is a few KiB); anything larger is
/// refused before any HMAC is computed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Items in one `Stripe-Signature` (`t=` and the `v1=`, `v0=` signatures): Stripe sends one
/// `v1` per active secret, two while a secret rolls.
pub(crate) const MAX_SIGNATURE_ITEMS: usize = 8;
/// Secrets we verify with at once: the current one and those still rolling over.
pub(crate) const MAX_SECRETS: usize = 3;
/// The shortest signing secret we take (Stripe's `whsec_…` are far longer).
pub(crate) const MIN_SECRET_CHARS: usize = 16;

/// Why a webhook call is refused; nothing is queued for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeRefusal {
    #[error("the Stripe-Signature header is missing")]
    MissingSignature,
    #[error("the Stripe-Signature header is not t=…,v1=…")]
    MalformedSignature,
    #[error("the signed timestamp is outside the accepted window")]
    StaleTimestamp,
    #[error("no signature matches")]
    InvalidSignature,
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is not a Stripe event: {0}")]
    Malformed(String),
}

impl StripeRefusal {
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingSignature | Self::MalformedSignature | Self::StaleTimestamp | Self::InvalidSignature => 401,
            Self::TooLarge => 413,
            Self::Malformed(_) => 400,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature => "invalid_signature",
            Self::StaleTimestamp => "stale_timestamp",
            Self::InvalidSignature => "invalid_signature",
            Self::TooLarge => "payload_too_large",
            Self::Malformed(_) => "malformed_event",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            Self::MissingSignature | Self::MalformedSignature | Self::StaleTimestamp | Self::InvalidSignature => {
                SIGNATURE_HEADER
            }
            Self::TooLarge | Self::Malformed(_) => "/",
        }
    }
}

/// What to do with a verified event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// News for an order: queue it.
    News(Box<ProviderEvent>),
    /// An event type we do not act on (or a refund update that is not a failure): acknowledged.
    Ignored(String),
}

/// The signing secrets of our Stripe webhook endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeWebhooks {
    secrets: Vec<String>,
    tolerance: Duration,
}

impl std::fmt::Debug for StripeWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeWebhooks")
            .field("secrets", &self.secrets.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl StripeWebhooks {
    /// From the secret's text: `{"signing_secrets": ["whsec_…", …]}`, newest first. The error
    /// never quotes the text.
    pub fn from_secret(text: &str, tolerance: Duration) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Stored {
            signing_secrets: Vec<String>,
        }
        let stored: Stored = serde_json::from_str(text)
            .map_err(|_| "it is not JSON of the form {\"signing_secrets\": [\"whsec_…\"]}".to_owned())?;
        Self::new(stored.signing_secrets, tolerance)
    }

    pub fn new(secrets: Vec<String>, tolerance: Duration) -> Result<Self, String> {
        if secrets.is_empty() || secrets.len() > MAX_SECRETS {
            return Err(format!("between 1 and {MAX_SECRETS} signing secrets are needed"));
        }
        if secrets.iter().any(|secret| secret.chars().count() < MIN_SECRET_CHARS) {
            return Err(format!("a signing secret is shorter than {MIN_SECRET_CHARS} characters"));
        }
        Ok(Self { secrets, tolerance })
    }

    /// Checks the signature and reads the event.
    pub fn receive(&self, signature: Option<&str>, body: &[u8], now: DateTime<Utc>) -> Result<Received, StripeRefusal> {
        if body.len() > MAX_BODY_BYTES {
            return Err(StripeRefusal::TooLarge);
        }
        let header = signature.ok_or(StripeRefusal::MissingSignature)?;
        let (timestamp, candidates) = parse_header(header)?;
        let signed_at = timestamp
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .ok_or(StripeRefusal::MalformedSignature)?;
        if (now - signed_at).abs() > self.tolerance {
            return Err(StripeRefusal::StaleTimestamp);
        }
        // One MAC per secret, whatever the number of candidates.
        let verified = self.secrets.iter().any(|secret| {
            let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else { return false };
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            candidates.iter().any(|candidate| mac.clone().verify_slice(candidate).is_ok())
        });
        if !verified {
            return Err(StripeRefusal::InvalidSignature);
        }
        read(body)
    }
}

/// `t=…` (exactly one) and the decoded `v1=` signatures; other schemes (`v0=`) are skipped.
fn parse_header(header: &str) -> Result<(&str, Vec<Vec<u8>>), StripeRefusal> {
    let items: Vec<&str> = header.split(',').map(str::trim).collect();
    if items.len() > MAX_SIGNATURE_ITEMS {
        return Err(StripeRefusal::MalformedSignature);
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for item in items {
        let (key, value) = item.split_once('=').ok_or(StripeRefusal::MalformedSignature)?;
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(StripeRefusal::MalformedSignature),
            "v1" => candidates.push(hex_decode(value).ok_or(StripeRefusal::MalformedSignature)?),
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !candidates.is_empty() => Ok((timestamp, candidates)),
        _ => Err(StripeRefusal::MalformedSignature),
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok()).collect()
}

/// The `Stripe-Signature` value Stripe would send for `body` at `timestamp`, one `v1` per secret:
/// what the local provider (and a test) sends.
pub fn sign(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        if let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) {
            mac.update(format!("{timestamp}.").as_bytes());
            mac.update(body);
            let digest = mac.finalize().into_bytes();
            header.push_str(",v1=");
            header.extend(digest.iter().map(|byte| format!("{byte:02x}")));
        }
    }
    header
}

#[derive(Deserialize)]
struct StripeEvent {
    id: ProviderEventId,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct StripeDispute {
    id: DisputeId,
    amount: i64,
    currency: String,
    reason: String,
    status: String,
    payment_intent: AuthorizationId,
    #[serde(default)]
    evidence_details: Option<EvidenceDetails>,
    created: i64,
}

#[derive(Deserialize)]
struct EvidenceDetails {
    #[serde(default)]
    due_by: Option<i64>,
}

#[derive(Deserialize)]
struct StripePaymentIntent {
    id: AuthorizationId,
    #[serde(default)]
    cancellation_reason: Option<String>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize)]
struct StripeCharge {
    payment_intent: AuthorizationId,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize)]
struct StripeRefund {
    id: RefundId,
    status: String,
    #[serde(default)]
    failure_reason: Option<String>,
    payment_intent: AuthorizationId,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    order_id: Option<String>,
}

impl Metadata {
    /// Our order id, if the object carries it and it is one.
    fn order(&self) -> Option<OrderId> {
        self.order_id.as_deref().and_then(|id| OrderId::parse(id).ok())
    }
}

/// The event read strictly (UTF-8, no member named twice), in our words.
fn read(body: &[u8]) -> Result<Received, StripeRefusal> {
    let value = crate::strict_json::parse(body).map_err(malformed)?;
    let event: StripeEvent = serde_json::from_value(value).map_err(malformed)?;
    let at = time(event.created)?;
    let object = event.data.object;
    let (authorization, order, news) = match event.event_type.as_str() {
        "charge.dispute.created"
        | "charge.dispute.updated"
        | "charge.dispute.closed"
        | "charge.dispute.funds_withdrawn"
        | "charge.dispute.funds_reinstated" => {
            let dispute: StripeDispute = serde_json::from_value(object).map_err(malformed)?;
            let currency = Currency::parse(&dispute.currency.to_ascii_uppercase()).map_err(malformed)?;
            let status = DisputeStatus::parse(&dispute.status)
                .ok_or_else(|| malformed(format!("unknown dispute status {:?}", dispute.status)))?;
            let news = ProviderNews::Dispute(Dispute {
                id: dispute.id,
                amount: Money::new(dispute.amount, currency),
                reason: words(dispute.reason)?,
                status,
                evidence_due_by: dispute.evidence_details.and_then(|details| details.due_by).map(time).transpose()?,
                opened_at: time(dispute.created)?,
                as_of: at,
            });
            (dispute.payment_intent, None, news)
        }
        "payment_intent.canceled" => {
            let intent: StripePaymentIntent = serde_json::from_value(object).map_err(malformed)?;
            let reason = words(intent.cancellation_reason.unwrap_or_else(|| "canceled".to_owned()))?;
            (intent.id, intent.metadata.order(), ProviderNews::AuthorizationEnded { reason })
        }
        "charge.expired" => {
            let charge: StripeCharge = serde_json::from_value(object).map_err(malformed)?;
            let news = ProviderNews::AuthorizationEnded { reason: "expired".to_owned() };
            (charge.payment_intent, charge.metadata.order(), news)
        }
        "charge.refund.updated" | "refund.updated" | "refund.failed" => {
            let refund: StripeRefund = serde_json::from_value(object).map_err(malformed)?;
            if refund.status != "failed" {
                return Ok(Received::Ignored(format!("{} ({})", event.event_type, words(refund.status)?)));
            }
            let reason = refund.failure_reason.map(words).transpose()?;
            (refund.payment_intent, None, ProviderNews::RefundFailed { refund: refund.id, reason })
        }
        _ => return Ok(Received::Ignored(words(event.event_type)?)),
    };
    Ok(Received::News(Box::new(ProviderEvent { id: event.id, at, authorization, order, news })))
}

fn time(seconds: i64) -> Result<DateTime<Utc>, StripeRefusal> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| malformed("a time out of range"))
}

/// A provider's code (`fraudulent`, `automatic`): short, lower-case ASCII words, nothing else.
fn words(code: String) -> Result<String, StripeRefusal> {
    let plain = (1..=64).contains(&code.len())
        && code.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"_.() ".contains(&byte));
    if plain { Ok(code) } else { Err(malformed("a code that is not a provider's code")) }
}

fn malformed(error: impl std::fmt::Display) -> StripeRefusal {
    StripeRefusal::Malformed(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISPUTE_CREATED: &[u8] = include_bytes!("../../../tests/fixtures/stripe/charge.dispute.created.json");
    const SECRET: &str = "whsec_test_orderflow_0001";

    fn webhooks() -> StripeWebhooks {
        StripeWebhooks::new(vec![SECRET.to_owned(), "whsec_test_orderflow_old".to_owned()], Duration::minutes(5))
            .unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_100_000, 0).unwrap()
    }

    fn refusal(result: Result<Received, StripeRefusal>) -> (u16, &'static str) {
        let refusal = result.unwrap_err();
        (refusal.status(), refusal.code())
    }

    /// The timestamp of Stripe's documented header example; the signature as its libraries
    /// compute it (HMAC-SHA256 of `{t}.{body}`), computed apart from this code (Python's `hmac`).
    #[test]
    fn the_signature_is_stripe_s_and_any_of_our_secrets_may_match_any_v1() {
        let header = sign(&[SECRET], 1_492_774_577, b"{}");
        assert_eq!(header, "t=1492774577,v1=3c966a6bd95690842f20b99ce325414e0c69e49b9fd163e9e6d35a625f98db25");
    }

    #[test]
    fn a_dispute_event_signed_by_either_secret_is_read_in_our_words() {
        let t = now().timestamp();
        for secrets in [vec![SECRET], vec!["whsec_test_orderflow_old"], vec!["whsec_unknown_000000000", SECRET]] {
            let header = sign(&secrets, t, DISPUTE_CREATED);
            let Received::News(event) = webhooks().receive(Some(&header), DISPUTE_CREATED, now()).unwrap() else {
                panic!("a dispute is news")
            };
            assert_eq!(event.authorization.as_str(), "pi_3QdisputeOrderflow01");
            let ProviderNews::Dispute(dispute) = &event.news else { panic!("{:?}", event.news) };
            assert_eq!((dispute.id.as_str(), dispute.reason.as_str()), ("dp_1QdisputeOrderflow01", "fraudulent"));
            assert_eq!((dispute.status, dispute.amount.minor_units()), (DisputeStatus::NeedsResponse, 4_634));
            assert!(dispute.evidence_due_by.is_some());
        }
    }

    #[test]
    fn forged_stale_tampered_piled_up_and_oversized_calls_are_refused() {
        let t = now().timestamp();
        let good = sign(&[SECRET], t, DISPUTE_CREATED);
        let receive = |header: Option<&str>, body: &[u8]| webhooks().receive(header, body, now());
        assert_eq!(refusal(receive(None, DISPUTE_CREATED)), (401, "missing_signature"));
        let forged = sign(&["whsec_guess_0000000000"], t, DISPUTE_CREATED);
        assert_eq!(refusal(receive(Some(&forged), DISPUTE_CREATED)), (401, "invalid_signature"));
        let mut tampered = DISPUTE_CREATED.to_vec();
        tampered[40] ^= 1;
        assert_eq!(refusal(receive(Some(&good), &tampered)), (401, "invalid_signature"));
        for stale in [t - 301, t + 301] {
            let header = sign(&[SECRET], stale, DISPUTE_CREATED);
            assert_eq!(refusal(receive(Some(&header), DISPUTE_CREATED)), (401, "stale_timestamp"));
        }
        let v1 = good.split_once(",v1=").unwrap().1;
        let odd = [
            format!("v1={v1}"),
            format!("t={t}"),
            format!("t={t},t={t},v1={v1}"),
            format!("t=yesterday,v1={v1}"),
            format!("t={t},v1={}", &v1[..62]),
            format!("t={t},{}", vec![format!("v1={v1}"); 8].join(",")),
        ];
        for header in &odd {
            assert_eq!(refusal(receive(Some(header), DISPUTE_CREATED)), (401, "invalid_signature"), "{header}");
        }
        let mut huge = DISPUTE_CREATED.to_vec();
        huge.resize(MAX_BODY_BYTES + 1, b' ');
        assert_eq!(refusal(receive(Some(&good), &huge)), (413, "payload_too_large"));
    }

    #[test]
    fn events_we_do_not_act_on_are_acknowledged_and_bad_ones_refused() {
        let t = now().timestamp();
        let receive =
            |body: &str| webhooks().receive(Some(&sign(&[SECRET], t, body.as_bytes())), body.as_bytes(), now());
        let other = r#"{"id":"evt_1","type":"customer.created","created":1796100000,"data":{"object":{}}}"#;
        assert_eq!(receive(other).unwrap(), Received::Ignored("customer.created".to_owned()));
        let refunded = r#"{"id":"evt_2","type":"charge.refund.updated","created":1796100000,"data":{"object":{"id":"re_1","status":"succeeded","payment_intent":"pi_1"}}}"#;
        assert!(matches!(receive(refunded).unwrap(), Received::Ignored(_)));
        let failed = refunded.replace("succeeded", "failed");
        let Received::News(event) = receive(&failed).unwrap() else { panic!("a failed refund is news") };
        assert_eq!(event.news, ProviderNews::RefundFailed { refund: "re_1".parse().unwrap(), reason: None });
        let expired = r#"{"id":"evt_3","type":"payment_intent.canceled","created":1796100000,"data":{"object":{"id":"pi_1","cancellation_reason":"automatic","metadata":{"order_id":"ord_01jd8m2kq4x7h9vtr3bq6wz5ce"}}}}"#;
        let Received::News(event) = receive(expired).unwrap() else { panic!("an ended authorisation is news") };
        assert_eq!(event.order.map(|order| order.to_string()).as_deref(), Some("ord_01jd8m2kq4x7h9vtr3bq6wz5ce"));
        for bad in [
            "{",
            r#"{"id":"evt_4","id":"evt_5","type":"customer.created","created":1,"data":{"object":{}}}"#,
            &expired.replace("automatic", "<script>"),
            &failed.replace("\"pi_1\"", "17"),
        ] {
            assert_eq!(refusal(receive(bad)), (400, "malformed_event"), "{bad}");
        }
    }

    #[test]
    fn secrets_must_be_present_long_and_few() {
        assert!(StripeWebhooks::from_secret(r#"{"signing_secrets": []}"#, Duration::minutes(5)).is_err());
        assert!(StripeWebhooks::from_secret(r#"{"signing_secrets": ["short"]}"#, Duration::minutes(5)).is_err());
        assert!(StripeWebhooks::from_secret("whsec_plain_text_secret", Duration::minutes(5)).is_err());
        let four = r#"{"signing_secrets": ["whsec_aaaaaaaaaaaaaa", "whsec_bbbbbbbbbbbbbb", "whsec_cccccccccccccc", "whsec_dddddddddddddd"]}"#;
        assert!(StripeWebhooks::from_secret(four, Duration::minutes(5)).is_err());
    }
}
