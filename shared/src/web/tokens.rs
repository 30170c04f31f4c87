//! The operator's access token, from the desk's session cookie, checked as API Gateway's JWT
//! authorizer checks the same token on the JSON routes: RS256 by a key of the issuer's JWKS (by
//! `kid`), `iss` the operators' issuer, `client_id` (Cognito's access tokens carry no `aud`)
//! the desk's app client, `token_use` `access`, `exp` in the future and `nbf` in the past, and
//! the route's scope in `scope`. The verified claims are handed on as API Gateway hands them to
//! the JSON routes, every value a string, so that one `Caller::from_claims` reads both.

use std::{
    collections::HashMap,
    future::Future,
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use serde_json::{Map, Value};

/// How soon after a fetch an unknown `kid` may fetch the keys again: a token naming a key the
/// issuer never had must not make every request a JWKS download, and a rotated key must not
/// keep its holders out for long.
const REFETCH_AFTER: Duration = Duration::from_secs(15);

/// Why a session's token is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    #[error("the token is not an RS256 JWT")]
    Malformed,
    #[error("the token's kid names no key of the issuer")]
    UnknownKey,
    #[error("the token's signature does not hold")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token names another issuer")]
    WrongIssuer,
    #[error("the token was issued to another client")]
    WrongClient,
    #[error("the token is not an access token")]
    NotAnAccessToken,
    #[error("the token lacks the scope this needs")]
    MissingScope,
    #[error("the issuer's keys could not be read")]
    KeysUnavailable,
}

impl TokenRefused {
    /// Whether signing in again would help: not for a missing scope (the role lacks it) or
    /// keys that could not be read (the issuer is unreachable).
    pub fn signing_in_helps(self) -> bool {
        !matches!(self, Self::MissingScope | Self::KeysUnavailable)
    }
}

/// An issuer's published keys (`jwks_uri`), as far as RS256 needs them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    #[serde(default)]
    pub n: String,
    #[serde(default)]
    pub e: String,
}

/// Where the issuer's keys are read from.
pub trait KeySource {
    fn keys(&self) -> impl Future<Output = Result<Jwks, String>> + Send;
}

/// Which tokens the desk takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    pub issuer: String,
    pub client_id: String,
}

#[derive(Default)]
struct KnownKeys {
    by_kid: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Checks tokens against the issuer's keys, read on first need and again when a token names a
/// key not seen yet (the issuer rotated), at most once every [`REFETCH_AFTER`].
pub struct TokenVerifier<S> {
    policy: TokenPolicy,
    source: S,
    known: tokio::sync::Mutex<KnownKeys>,
}

impl<S> std::fmt::Debug for TokenVerifier<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl<S> TokenVerifier<S> {
    pub fn new(policy: TokenPolicy, source: S) -> Self {
        Self { policy, source, known: tokio::sync::Mutex::default() }
    }
}

impl<S: KeySource + Sync> TokenVerifier<S> {
    /// The token's claims, every value a string as API Gateway hands them on, if it is one of
    /// the desk's access tokens holding `scope`.
    pub async fn verify(&self, token: &str, scope: &str) -> Result<Map<String, Value>, TokenRefused> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRefused::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenRefused::Malformed);
        }
        let key = self.key(header.kid.as_deref().ok_or(TokenRefused::UnknownKey)?).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.policy.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => TokenRefused::Expired,
                ErrorKind::ImmatureSignature => TokenRefused::NotYetValid,
                ErrorKind::InvalidIssuer => TokenRefused::WrongIssuer,
                ErrorKind::InvalidSignature => TokenRefused::BadSignature,
                _ => TokenRefused::Malformed,
            })?
            .claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("client_id") != Some(self.policy.client_id.as_str()) {
            return Err(TokenRefused::WrongClient);
        }
        if text("token_use") != Some("access") {
            return Err(TokenRefused::NotAnAccessToken);
        }
        if !text("scope").unwrap_or_default().split(' ').any(|held| held == scope) {
            return Err(TokenRefused::MissingScope);
        }
        Ok(claims.into_iter().map(|(name, value)| (name, Value::String(as_api_gateway_text(&value)))).collect())
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenRefused> {
        let mut known = self.known.lock().await;
        if let Some(key) = known.by_kid.get(kid) {
            return Ok(key.clone());
        }
        if known.fetched_at.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
            return Err(TokenRefused::UnknownKey);
        }
        let jwks = self.source.keys().await.map_err(|reason| {
            tracing::warn!(%reason, "the operators' issuer's keys could not be read");
            TokenRefused::KeysUnavailable
        })?;
        known.fetched_at = Some(Instant::now());
        known.by_kid = jwks
            .keys
            .into_iter()
            .filter(|jwk| jwk.kty == "RSA")
            .filter_map(|jwk| Some((jwk.kid, DecodingKey::from_rsa_components(&jwk.n, &jwk.e).ok()?)))
            .collect();
        known.by_kid.get(kid).cloned().ok_or(TokenRefused::UnknownKey)
    }
}

/// A claim as API Gateway's JWT authorizer passes it to the function: strings as they are,
/// arrays as `[a b]`, anything else as its JSON.
fn as_api_gateway_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(as_api_gateway_text).collect();
            format!("[{}]", items.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::{RsaPrivateKey, pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool";
    const READ: &str = "orderflow/orders.read";

    struct Signer {
        kid: String,
        key: EncodingKey,
        jwk: Jwk,
    }

    impl Signer {
        fn new(kid: &str) -> Self {
            let private = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
            let jwk = Jwk {
                kid: kid.to_owned(),
                kty: "RSA".to_owned(),
                n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
                e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
            };
            let key = EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes());
            Self { kid: kid.to_owned(), key, jwk }
        }

        fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.key).unwrap()
        }
    }

    /// The issuer's keys as a list that can change, counting how often it is read.
    #[derive(Clone, Default)]
    struct Published {
        keys: Arc<std::sync::Mutex<Vec<Jwk>>>,
        reads: Arc<AtomicUsize>,
    }

    impl KeySource for Published {
        async fn keys(&self) -> Result<Jwks, String> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Jwks { keys: self.keys.lock().unwrap().clone() })
        }
    }

    fn claims() -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": ISSUER, "sub": "ana", "client_id": "desk", "token_use": "access",
            "iat": now, "exp": now + 600, "scope": "orderflow/orders.read orderflow/orders.write",
            "cognito:groups": ["agent"], "storefronts": "shop-a shop-b",
        })
    }

    fn verifier(published: &Published) -> TokenVerifier<Published> {
        let policy = TokenPolicy { issuer: ISSUER.to_owned(), client_id: "desk".to_owned() };
        TokenVerifier::new(policy, published.clone())
    }

    #[tokio::test]
    async fn a_desk_access_token_is_taken_and_its_claims_read_as_api_gateway_hands_them_on() {
        let signer = Signer::new("k1");
        let published = Published::default();
        published.keys.lock().unwrap().push(signer.jwk.clone());
        let claims = verifier(&published).verify(&signer.sign(&claims()), READ).await.unwrap();
        assert_eq!(claims["sub"], "ana");
        assert_eq!(claims["cognito:groups"], "[agent]");
        assert_eq!(claims["storefronts"], "shop-a shop-b");
    }

    #[tokio::test]
    async fn each_way_a_token_can_be_wrong_is_refused_by_name() {
        let signer = Signer::new("k1");
        let stranger = Signer::new("k1");
        let published = Published::default();
        published.keys.lock().unwrap().push(signer.jwk.clone());
        let verifier = verifier(&published);
        let with = |name: &str, value: Value| {
            let mut claims = claims();
            claims[name] = value;
            claims
        };
        let now = chrono::Utc::now().timestamp();
        let cases = [
            (signer.sign(&with("exp", json!(now - 1))), READ, TokenRefused::Expired),
            (signer.sign(&with("nbf", json!(now + 600))), READ, TokenRefused::NotYetValid),
            (signer.sign(&with("iss", json!("https://evil.example"))), READ, TokenRefused::WrongIssuer),
            (signer.sign(&with("client_id", json!("orderctl"))), READ, TokenRefused::WrongClient),
            (signer.sign(&with("token_use", json!("id"))), READ, TokenRefused::NotAnAccessToken),
            (signer.sign(&claims()), "orderflow/supervise", TokenRefused::MissingScope),
            (signer.sign(&with("scope", json!("orderflow/orders.readx"))), READ, TokenRefused::MissingScope),
            (stranger.sign(&claims()), READ, TokenRefused::BadSignature),
            ("not.a.token".to_owned(), READ, TokenRefused::Malformed),
        ];
        for (token, scope, refusal) in cases {
            assert_eq!(verifier.verify(&token, scope).await, Err(refusal));
        }
        // Signed with the key's secret as an HMAC key: the algorithm confusion attack.
        let hmac = jsonwebtoken::encode(
            &Header { kid: Some("k1".to_owned()), ..Header::new(Algorithm::HS256) },
            &claims(),
            &EncodingKey::from_secret(signer.jwk.n.as_bytes()),
        )
        .unwrap();
        assert_eq!(verifier.verify(&hmac, READ).await, Err(TokenRefused::Malformed));
    }

    #[tokio::test]
    async fn a_rotated_key_is_fetched_once_and_an_unknown_kid_does_not_fetch_on_every_request() {
        let old = Signer::new("old");
        let new = Signer::new("new");
        let published = Published::default();
        published.keys.lock().unwrap().push(old.jwk.clone());
        let verifier = verifier(&published);
        assert!(verifier.verify(&old.sign(&claims()), READ).await.is_ok());
        assert_eq!(published.reads.load(Ordering::SeqCst), 1);

        // Rotated just after the read: the new key's first token is refused until a read is
        // due again; a made-up kid in between reads nothing.
        published.keys.lock().unwrap().push(new.jwk.clone());
        assert_eq!(verifier.verify(&new.sign(&claims()), READ).await, Err(TokenRefused::UnknownKey));
        let unknown = Signer::new("made-up");
        for _ in 0..5 {
            assert_eq!(verifier.verify(&unknown.sign(&claims()), READ).await, Err(TokenRefused::UnknownKey));
        }
        assert_eq!(published.reads.load(Ordering::SeqCst), 1);
        verifier.known.lock().await.fetched_at = Instant::now().checked_sub(REFETCH_AFTER);
        assert!(verifier.verify(&new.sign(&claims()), READ).await.is_ok());
        assert!(verifier.verify(&old.sign(&claims()), READ).await.is_ok());
        assert_eq!(published.reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn only_the_issuer_s_reach_makes_signing_in_again_useless() {
        assert!(TokenRefused::Expired.signing_in_helps());
        assert!(TokenRefused::BadSignature.signing_in_helps());
        assert!(!TokenRefused::MissingScope.signing_in_helps());
        assert!(!TokenRefused::KeysUnavailable.signing_in_helps());
    }
}
