//! Payments as the domain sees them: the `PaymentGateway` port, what it answers, and how a
//! decline is told to the customer. Card data never reaches Orderflow; the provider holds it.

use std::{error::Error as StdError, future::Future};

use super::{
    contact::CountryCode,
    ids::{AuthorizationId, OrderId, PaymentMethodId, RefundId},
    money::Money,
};

/// A card verification result as the provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    Pass,
    Fail,
    Unavailable,
    Unchecked,
}

/// What the provider knows of the card behind a payment method, without the card itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CardChecks {
    /// The provider's fingerprint: the same card tokenised twice has the same one.
    pub fingerprint: Option<String>,
    pub country: Option<CountryCode>,
    pub cvc: CheckResult,
    pub postal_code: CheckResult,
}

/// A hold on the customer's funds, to be captured when the order ships.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Authorization {
    pub id: AuthorizationId,
    pub amount: Money,
    /// When the order recorded it: where the wait for shipment starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub amount: Money,
    /// Why the provider could not pay it out, if it failed after accepting it: the money was
    /// not returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// Why the provider refused a card, with what the customer may be told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decline {
    /// The provider's code (`insufficient_funds`, `generic_decline`, …), for operators.
    pub code: String,
    /// Safe to show the customer: never says the card looked stolen.
    pub message: String,
}

/// Codes that say the card looked lost, stolen or fraudulent: Stripe advises telling the payer
/// no more than a generic decline.
const SENSITIVE_DECLINES: &[&str] = &[
    "fraudulent",
    "lost_card",
    "stolen_card",
    "pickup_card",
    "restricted_card",
    "merchant_blacklist",
    "security_violation",
];

impl Decline {
    /// The decline as the payer's side (the storefront, the customer) may see it.
    pub(crate) fn for_payer(&self) -> Self {
        if SENSITIVE_DECLINES.contains(&self.code.as_str()) { Self::from_code("generic_decline") } else { self.clone() }
    }

    pub(crate) fn from_code(code: &str) -> Self {
        let message = match DeclineKind::of(code) {
            DeclineKind::InsufficientFunds => "Your card has insufficient funds.",
            DeclineKind::Expired => "Your card has expired.",
            DeclineKind::SecurityCode => "Your card's security code is incorrect.",
            DeclineKind::CardNumber => "Your card number is incorrect.",
            DeclineKind::Limit => "Your card has reached its limit. Please try another card.",
            DeclineKind::Declined => "Your card was declined.",
        };
        Self { code: code.to_owned(), message: message.to_owned() }
    }

    /// What the payer may be told, for messages in their own language.
    pub fn kind(&self) -> DeclineKind {
        DeclineKind::of(&self.for_payer().code)
    }
}

/// The declines a payer is told apart: each has its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineKind {
    InsufficientFunds,
    Expired,
    SecurityCode,
    CardNumber,
    Limit,
    /// Lost, stolen, fraudulent, pickup and the rest: say no more than this.
    Declined,
}

impl DeclineKind {
    fn of(code: &str) -> Self {
        match code {
            "insufficient_funds" => Self::InsufficientFunds,
            "expired_card" => Self::Expired,
            "incorrect_cvc" | "invalid_cvc" => Self::SecurityCode,
            "incorrect_number" | "invalid_number" => Self::CardNumber,
            "card_velocity_exceeded" | "withdrawal_count_limit_exceeded" => Self::Limit,
            _ => Self::Declined,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The provider refused the payment: final for this order.
    #[error("the payment was declined ({})", .0.code)]
    Declined(Decline),
    /// The payment method cannot be charged as given (unknown, detached, wrong type): final.
    #[error("the payment method is not usable")]
    UnusableMethod(#[source] Box<dyn StdError + Send + Sync>),
    /// Timeout, 5xx, rate limit, network: try again later with the same idempotency key.
    #[error("the payment provider is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// The provider says our request is wrong: a bug or a misconfiguration, not the customer's.
    #[error("the payment provider refused the request")]
    Refused(#[source] Box<dyn StdError + Send + Sync>),
}

/// A payment provider. Every call that changes money carries an idempotency key derived from the
/// event that caused it, so a redelivered event never charges, captures or refunds twice.
pub trait PaymentGateway {
    fn card_checks(&self, method: &PaymentMethodId) -> impl Future<Output = Result<CardChecks, GatewayError>> + Send;

    /// Authorises `amount` on `method` for later capture.
    fn authorize(
        &self,
        order: &OrderId,
        method: &PaymentMethodId,
        amount: Money,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Authorization, GatewayError>> + Send;

    /// Captures `amount` (at most what was authorised) of an authorisation.
    fn capture(
        &self,
        authorization: &Authorization,
        amount: Money,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Money, GatewayError>> + Send;

    /// Releases an uncaptured authorisation.
    fn void(
        &self,
        authorization: &Authorization,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send;

    /// The order an authorisation was made for, as we told the provider (its metadata).
    fn order_of(
        &self,
        authorization: &AuthorizationId,
    ) -> impl Future<Output = Result<Option<OrderId>, GatewayError>> + Send;

    /// Refunds `amount` of a captured payment; several partial refunds may follow each other.
    fn refund(
        &self,
        authorization: &Authorization,
        amount: Money,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Refund, GatewayError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declines_tell_the_customer_what_helps_and_nothing_more() {
        assert_eq!(Decline::from_code("insufficient_funds").message, "Your card has insufficient funds.");
        for code in ["stolen_card", "fraudulent", "lost_card", "generic_decline", "pickup_card", "anything"] {
            assert_eq!(Decline::from_code(code).message, "Your card was declined.", "{code}");
        }
        assert_eq!(Decline::from_code("stolen_card").code, "stolen_card");
        assert_eq!(Decline::from_code("stolen_card").for_payer().code, "generic_decline");
        assert_eq!(Decline::from_code("insufficient_funds").for_payer().code, "insufficient_funds");
    }
}
