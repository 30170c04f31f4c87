//! The `PaymentGateway` on Stripe's API (and on anything that speaks it, such as localstripe):
//! PaymentIntents with manual capture, an `Idempotency-Key` on every call that moves money.

use std::{error::Error as StdError, fmt, time::Duration};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode, header};
use serde::Deserialize;

use crate::{
    adapters::https::{self, HttpsClient, carries_secrets_safely},
    adapters::secrets::StoredSecret,
    config::{ConfigError, Env},
    domain::{
        Authorization, AuthorizationId, CardChecks, CheckResult, CountryCode, Currency, Decline, GatewayError, Money,
        OrderId, PaymentGateway, PaymentMethodId, Refund, RefundId,
    },
};

/// Give up on a call after some seconds and retry it later with the same key: an event makes
/// two calls, and both must fit in the function's timeout.
const DEFAULT_TIMEOUT_MS: u64 = 3_000;
/// The API version our requests and the answers we read are written for, whatever the
/// account's default becomes.
const STRIPE_VERSION: &str = "2024-06-20";

#[derive(Clone)]
pub struct StripeGateway {
    client: HttpsClient,
    endpoint: String,
    api_key: StoredSecret<ApiKey>,
    timeout: Duration,
}

/// The provider's secret key, from the secret's `api_key`.
#[derive(PartialEq, Eq)]
struct ApiKey(String);

impl ApiKey {
    /// The secret's text: JSON with the key under `api_key`. Errors never quote the text.
    fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Stored {
            api_key: String,
        }
        match serde_json::from_str::<Stored>(text) {
            Ok(Stored { api_key }) if !api_key.trim().is_empty() => Ok(Self(api_key)),
            _ => Err("it is not JSON with a non-empty \"api_key\"".to_owned()),
        }
    }
}

impl fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeGateway").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the payment provider answered {status}: {message}")]
struct ProviderError {
    status: u16,
    message: String,
}

impl StripeGateway {
    fn new(endpoint: &str, api_key: StoredSecret<ApiKey>, timeout: Duration) -> Result<Self, std::io::Error> {
        if !carries_secrets_safely(endpoint) {
            let refusal = "the payment provider's endpoint must be https (plain http only on loopback)";
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, refusal));
        }
        let client = https::client()?;
        Ok(Self { client, endpoint: endpoint.trim_end_matches('/').to_owned(), api_key, timeout })
    }

    /// `PAYMENT_PROVIDER_ENDPOINT`, `PAYMENT_PROVIDER_SECRET_ID` (the Secrets Manager secret
    /// holding the key, read on the first call) and, optionally, `PAYMENT_PROVIDER_TIMEOUT_MS`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let timeout = match env.get("PAYMENT_PROVIDER_TIMEOUT_MS") {
            Ok(_) => env.parse("PAYMENT_PROVIDER_TIMEOUT_MS")?,
            Err(_) => DEFAULT_TIMEOUT_MS,
        };
        let endpoint = env.get("PAYMENT_PROVIDER_ENDPOINT")?;
        let secrets = aws_sdk_secretsmanager::Client::new(aws);
        let api_key = StoredSecret::new(secrets, env.get("PAYMENT_PROVIDER_SECRET_ID")?, ApiKey::parse);
        Self::new(&endpoint, api_key, Duration::from_millis(timeout))
            .map_err(|source| ConfigError::Malformed { name: "PAYMENT_PROVIDER_ENDPOINT", source: Box::new(source) })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: Option<&str>,
    ) -> Result<T, GatewayError> {
        let body = serde_urlencoded::to_string(form).map_err(|error| GatewayError::Refused(Box::new(error)))?;
        let key = self.api_key.current().await.map_err(unavailable)?;
        let (status, answer) = self.exchange(&key, &method, path, &body, idempotency_key).await?;
        // A key refused as unknown may have been rotated: try the secret's new value once.
        let (status, answer) = match status {
            StatusCode::UNAUTHORIZED => match self.api_key.after_refusal(&key).await.map_err(unavailable)? {
                Some(rotated) => self.exchange(&rotated, &method, path, &body, idempotency_key).await?,
                None => (status, answer),
            },
            _ => (status, answer),
        };
        if status.is_success() {
            return serde_json::from_slice(&answer).map_err(|error| GatewayError::Refused(Box::new(error)));
        }
        Err(error_from(status, &answer))
    }

    /// One request and its answer, within the timeout.
    async fn exchange(
        &self,
        key: &ApiKey,
        method: &Method,
        path: &str,
        body: &str,
        idempotency_key: Option<&str>,
    ) -> Result<(StatusCode, Bytes), GatewayError> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.endpoint))
            .header(header::AUTHORIZATION, format!("Bearer {}", key.0))
            .header("Stripe-Version", STRIPE_VERSION)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|error| GatewayError::Refused(Box::new(error)))?;
        https::exchange(&self.client, request, self.timeout).await.map_err(unavailable)
    }

    async fn intent(&self, id: &str) -> Result<Intent, GatewayError> {
        self.call(Method::GET, &format!("/v1/payment_intents/{id}"), &[], None).await
    }
}

fn unavailable(error: impl StdError + Send + Sync + 'static) -> GatewayError {
    GatewayError::Unavailable(Box::new(error))
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: StripeError,
}

#[derive(Deserialize, Default)]
struct StripeError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Stripe's status codes and error types, as retry-or-not.
fn error_from(status: StatusCode, body: &[u8]) -> GatewayError {
    let error = serde_json::from_slice::<ErrorBody>(body).unwrap_or_default().error;
    let provider = || {
        Box::new(ProviderError { status: status.as_u16(), message: error.message.clone().unwrap_or_default() })
            as Box<dyn StdError + Send + Sync>
    };
    let declined = status == StatusCode::PAYMENT_REQUIRED || error.kind.as_deref() == Some("card_error");
    if declined {
        let code = error.decline_code.as_deref().or(error.code.as_deref()).unwrap_or("generic_decline");
        return GatewayError::Declined(Decline::from_code(code));
    }
    match status {
        // 409: the same idempotency key is in flight; 429: rate limited.
        StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
            GatewayError::Unavailable(provider())
        }
        // Our key is refused (revoked, or rotated and not yet read): our fault, never the
        // customer's; retried until the key is fixed, and the queue's alarm tells operators.
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => GatewayError::Unavailable(provider()),
        status if status.is_server_error() => GatewayError::Unavailable(provider()),
        StatusCode::NOT_FOUND => GatewayError::UnusableMethod(provider()),
        _ if error.code.as_deref() == Some("resource_missing") => GatewayError::UnusableMethod(provider()),
        _ => GatewayError::Refused(provider()),
    }
}

#[derive(Deserialize)]
struct PaymentMethod {
    #[serde(default)]
    card: Option<Card>,
}

#[derive(Deserialize)]
struct Card {
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    checks: Option<Checks>,
}

#[derive(Deserialize, Default)]
struct Checks {
    #[serde(default)]
    cvc_check: Option<String>,
    #[serde(default)]
    address_postal_code_check: Option<String>,
}

fn check(result: Option<&str>) -> CheckResult {
    match result {
        Some("pass") => CheckResult::Pass,
        Some("fail") => CheckResult::Fail,
        Some("unavailable") => CheckResult::Unavailable,
        _ => CheckResult::Unchecked,
    }
}

#[derive(Deserialize)]
struct Intent {
    id: AuthorizationId,
    status: String,
    amount: i64,
    #[serde(default)]
    amount_capturable: i64,
    #[serde(default)]
    amount_received: i64,
    currency: String,
    #[serde(default)]
    last_payment_error: Option<StripeError>,
}

impl Intent {
    fn money(&self, minor_units: i64) -> Result<Money, GatewayError> {
        let currency = Currency::parse(&self.currency.to_ascii_uppercase())
            .map_err(|invalid| GatewayError::Refused(format!("currency {:?}: {invalid}", self.currency).into()))?;
        Ok(Money::new(minor_units, currency))
    }
}

#[derive(Deserialize)]
struct StripeRefund {
    id: RefundId,
    amount: i64,
}

impl PaymentGateway for StripeGateway {
    async fn card_checks(&self, method: &PaymentMethodId) -> Result<CardChecks, GatewayError> {
        let found: PaymentMethod = self.call(Method::GET, &format!("/v1/payment_methods/{method}"), &[], None).await?;
        let Some(card) = found.card else {
            return Ok(CardChecks {
                fingerprint: None,
                country: None,
                cvc: CheckResult::Unavailable,
                postal_code: CheckResult::Unavailable,
            });
        };
        let checks = card.checks.unwrap_or_default();
        Ok(CardChecks {
            fingerprint: card.fingerprint,
            country: card.country.and_then(|country| CountryCode::parse(&country).ok()),
            cvc: check(checks.cvc_check.as_deref()),
            postal_code: check(checks.address_postal_code_check.as_deref()),
        })
    }

    async fn order_of(&self, authorization: &AuthorizationId) -> Result<Option<OrderId>, GatewayError> {
        #[derive(Deserialize)]
        struct Described {
            #[serde(default)]
            metadata: std::collections::HashMap<String, String>,
        }
        let found: Described =
            self.call(Method::GET, &format!("/v1/payment_intents/{authorization}"), &[], None).await?;
        Ok(found.metadata.get("order_id").and_then(|id| OrderId::parse(id).ok()))
    }

    async fn authorize(
        &self,
        order: &OrderId,
        method: &PaymentMethodId,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Authorization, GatewayError> {
        let form = [
            ("amount", amount.minor_units().to_string()),
            ("currency", amount.currency().code().to_ascii_lowercase()),
            ("payment_method", method.to_string()),
            ("capture_method", "manual".to_owned()),
            ("confirm", "true".to_owned()),
            ("metadata[order_id]", order.to_string()),
        ];
        let intent: Intent = self.call(Method::POST, "/v1/payment_intents", &form, Some(idempotency_key)).await?;
        match intent.status.as_str() {
            "requires_capture" => {
                let held = if intent.amount_capturable > 0 { intent.amount_capturable } else { intent.amount };
                Ok(Authorization { amount: intent.money(held)?, id: intent.id, authorized_at: None })
            }
            // Off-session, nobody can answer a 3-D Secure challenge: the customer must pay again.
            "requires_action" => Err(GatewayError::Declined(Decline::from_code("authentication_required"))),
            _ => {
                let error = intent.last_payment_error.unwrap_or_default();
                let code = error.decline_code.or(error.code).unwrap_or_else(|| "generic_decline".to_owned());
                Err(GatewayError::Declined(Decline::from_code(&code)))
            }
        }
    }

    async fn capture(
        &self,
        authorization: &Authorization,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Money, GatewayError> {
        let path = format!("/v1/payment_intents/{}/capture", authorization.id);
        let form = [("amount_to_capture", amount.minor_units().to_string())];
        let intent: Intent = self.call(Method::POST, &path, &form, Some(idempotency_key)).await?;
        let received = if intent.amount_received > 0 { intent.amount_received } else { amount.minor_units() };
        intent.money(received)
    }

    async fn void(&self, authorization: &Authorization, idempotency_key: &str) -> Result<(), GatewayError> {
        let path = format!("/v1/payment_intents/{}/cancel", authorization.id);
        match self.call::<Intent>(Method::POST, &path, &[], Some(idempotency_key)).await {
            Ok(_) => Ok(()),
            // Cancelling a cancelled intent is refused: the hold is gone either way.
            Err(GatewayError::Refused(error)) => match self.intent(authorization.id.as_str()).await {
                Ok(intent) if intent.status == "canceled" => Ok(()),
                _ => Err(GatewayError::Refused(error)),
            },
            Err(error) => Err(error),
        }
    }

    async fn refund(
        &self,
        authorization: &Authorization,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Refund, GatewayError> {
        let form = [("payment_intent", authorization.id.to_string()), ("amount", amount.minor_units().to_string())];
        let refund: StripeRefund = self.call(Method::POST, "/v1/refunds", &form, Some(idempotency_key)).await?;
        Ok(Refund { id: refund.id, amount: Money::new(refund.amount, amount.currency()), failed: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_answers_map_to_retry_or_not() {
        let declined = error_from(
            StatusCode::PAYMENT_REQUIRED,
            br#"{"error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"}}"#,
        );
        assert!(matches!(declined, GatewayError::Declined(ref d) if d.code == "insufficient_funds"));
        let generic = error_from(StatusCode::PAYMENT_REQUIRED, br#"{"error": {"code": "card_declined"}}"#);
        assert!(matches!(generic, GatewayError::Declined(ref d) if d.message == "Your card was declined."));
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::CONFLICT,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
        ] {
            assert!(matches!(error_from(status, b"<html>"), GatewayError::Unavailable(_)), "{status}");
        }
        assert!(matches!(error_from(StatusCode::NOT_FOUND, b"{}"), GatewayError::UnusableMethod(_)));
        assert!(matches!(error_from(StatusCode::BAD_REQUEST, b"{}"), GatewayError::Refused(_)));
    }

    #[test]
    fn card_checks_read_stripe_vocabulary() {
        assert_eq!(check(Some("pass")), CheckResult::Pass);
        assert_eq!(check(Some("fail")), CheckResult::Fail);
        assert_eq!(check(Some("unavailable")), CheckResult::Unavailable);
        assert_eq!(check(None), CheckResult::Unchecked);
    }
}
