//! The template's JWT authorizers, enforced as API Gateway enforces them, and a local token
//! issuer standing in for the identity provider the template names.
//!
//! API Gateway takes the token from the identity source (with or without `Bearer `), checks
//! that its `kid` names a key of the issuer, that it is RSA-signed by that key, and that `iss`
//! is the configured issuer, `aud` (or, without `aud`, `client_id`) one of the configured
//! audiences, `exp` in the future, `nbf` and `iat` in the past, and `scope`/`scp` holds one of
//! the route's scopes when it names any. The issuer signs with a key made when the runner
//! starts, so a token from another run, or another signer, is refused.

use std::{collections::BTreeMap, time::Duration};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rsa::{RsaPrivateKey, pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
use serde_json::{Map, Value, json};

use crate::{
    stack::provision::Stack,
    stack::template::{TemplateError, scalar_text},
};

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("could not make the signing key")]
    Key(#[from] rsa::Error),
    #[error("could not encode the signing key")]
    Encoding(#[from] rsa::pkcs1::Error),
    #[error("could not sign the token")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// Why API Gateway answered 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("no token in the identity source")]
    Missing,
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token's kid names no key of the issuer")]
    UnknownKey,
    #[error("the token is not RSA-signed by the issuer")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInTheFuture,
    #[error("the token names another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token lacks the route's scope")]
    MissingScope,
}

impl Denial {
    /// API Gateway's answer: 403 for a valid token without the route's scope, 401 otherwise.
    pub fn status(self) -> u16 {
        if self == Self::MissingScope { 403 } else { 401 }
    }
}

/// Signs tokens with a key of its own and publishes the public half as a JWKS.
pub struct LocalIssuer {
    kid: String,
    signing: EncodingKey,
    verifying: DecodingKey,
    public: (String, String),
}

impl std::fmt::Debug for LocalIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIssuer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl LocalIssuer {
    /// A fresh 2048-bit RSA key.
    pub fn new() -> Result<Self, IssuerError> {
        let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048)?;
        let modulus = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let exponent = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        Ok(Self {
            kid: format!("local-{:016x}", fastrand::u64(..)),
            signing: EncodingKey::from_rsa_der(key.to_pkcs1_der()?.as_bytes()),
            verifying: DecodingKey::from_rsa_components(&modulus, &exponent)?,
            public: (modulus, exponent),
        })
    }

    /// The issuer's keys as `jwks_uri` serves them.
    pub fn jwks(&self) -> Value {
        let (n, e) = &self.public;
        json!({ "keys": [{ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": n, "e": e }] })
    }

    /// Signs `claims` as they are.
    pub fn sign(&self, claims: &Value) -> Result<String, IssuerError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.signing)?)
    }

    /// A token `authorizer` accepts, for `subject`, valid for `lifetime` from now.
    pub fn token_for(
        &self,
        authorizer: &JwtAuthorizer,
        subject: &str,
        lifetime: Duration,
    ) -> Result<String, IssuerError> {
        let now = chrono::Utc::now().timestamp();
        self.sign(&json!({
            "iss": authorizer.issuer,
            "sub": subject,
            "aud": authorizer.audiences.first(),
            "iat": now,
            "nbf": now,
            "exp": now + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2),
            "token_use": "access",
        }))
    }
}

impl LocalIssuer {
    /// An access token as the operators' user pool issues it, with its pre-token trigger's
    /// claims: see [`crate::runner::Runner::operator_token`].
    pub fn operator_token(
        &self,
        authorizer: &JwtAuthorizer,
        subject: &str,
        groups: &[&str],
        storefronts: &str,
        lifetime: Duration,
    ) -> Result<String, IssuerError> {
        let grant = shared::domain::TokenGrant::for_user(groups.iter().copied(), Some(storefronts));
        let now = chrono::Utc::now().timestamp();
        self.sign(&json!({
            "iss": authorizer.issuer,
            "sub": subject,
            "client_id": authorizer.audiences.first(),
            "token_use": "access",
            "iat": now,
            "auth_time": now,
            "exp": now + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2),
            shared::domain::GROUPS_CLAIM: groups,
            "scope": grant.scopes.join(" "),
            shared::domain::STOREFRONTS_CLAIM: grant.storefronts,
        }))
    }
}

/// One `JwtConfiguration` of an HTTP API's `Auth.Authorizers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthorizer {
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    /// The lower-case header the token is read from (`$request.header.Authorization`).
    pub header: String,
}

impl JwtAuthorizer {
    /// The token's claims as API Gateway hands them on (every value a string), or why not.
    pub fn authorize(
        &self,
        headers: &BTreeMap<String, String>,
        issuer: &LocalIssuer,
        scopes: &[String],
    ) -> Result<Map<String, Value>, Denial> {
        let raw = headers.get(&self.header).map(|value| value.trim()).filter(|value| !value.is_empty());
        let raw = raw.ok_or(Denial::Missing)?;
        let token = raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).unwrap_or(raw).trim();
        let header = jsonwebtoken::decode_header(token).map_err(|_| Denial::Malformed)?;
        if header.kid.as_deref() != Some(issuer.kid.as_str()) {
            return Err(Denial::UnknownKey);
        }
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512) {
            return Err(Denial::BadSignature);
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &issuer.verifying, &validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => Denial::Expired,
                ErrorKind::ImmatureSignature => Denial::NotYetValid,
                ErrorKind::InvalidIssuer => Denial::WrongIssuer,
                ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => Denial::WrongIssuer,
                ErrorKind::MissingRequiredClaim(_) => Denial::Expired,
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm | ErrorKind::InvalidRsaKey(_) => {
                    Denial::BadSignature
                }
                _ => Denial::Malformed,
            })?
            .claims;
        let audiences: Vec<String> = match claims.get("aud").or_else(|| claims.get("client_id")) {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        if !audiences.iter().any(|audience| self.audiences.contains(audience)) {
            return Err(Denial::WrongAudience);
        }
        if claims.get("iat").and_then(Value::as_i64).is_some_and(|iat| iat > chrono::Utc::now().timestamp()) {
            return Err(Denial::IssuedInTheFuture);
        }
        if !scopes.is_empty() {
            let granted = claims.get("scope").or_else(|| claims.get("scp")).map(scalar_text).unwrap_or_default();
            if !granted.split_whitespace().any(|scope| scopes.iter().any(|wanted| wanted == scope)) {
                return Err(Denial::MissingScope);
            }
        }
        Ok(claims.into_iter().map(|(name, value)| (name, Value::from(claim_text(&value)))).collect())
    }
}

/// API Gateway passes every claim on as a string; lists become `[a b]`.
fn claim_text(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(claim_text).collect::<Vec<_>>().join(" ")),
        other => scalar_text(other),
    }
}

/// An HTTP API's authorizers and which one routes use unless they say otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiAuth {
    pub default_authorizer: Option<String>,
    pub authorizers: BTreeMap<String, JwtAuthorizer>,
}

/// The `Auth` of every `AWS::Serverless::HttpApi` of the stack, by logical id.
pub fn api_auth(stack: &Stack) -> Result<BTreeMap<String, ApiAuth>, TemplateError> {
    let mut apis = BTreeMap::new();
    for (logical, _) in stack.template.of_type("AWS::Serverless::HttpApi") {
        let properties = stack.properties(logical)?;
        let auth = properties.get("Auth").cloned().unwrap_or(Value::Null);
        let authorizers = auth
            .get("Authorizers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(name, definition)| {
                let configuration = definition.get("JwtConfiguration")?;
                let header = definition
                    .get("IdentitySource")
                    .and_then(Value::as_str)
                    .unwrap_or("$request.header.Authorization")
                    .trim_start_matches("$request.header.")
                    .to_ascii_lowercase();
                let audiences = match configuration.get("audience") {
                    Some(Value::Array(audiences)) => audiences.iter().map(scalar_text).collect(),
                    Some(one) => vec![scalar_text(one)],
                    None => Vec::new(),
                };
                let issuer = configuration.get("issuer").map(scalar_text)?;
                Some((name.clone(), JwtAuthorizer { name: name.clone(), issuer, audiences, header }))
            })
            .collect();
        let default_authorizer = auth.get("DefaultAuthorizer").and_then(Value::as_str).map(str::to_owned);
        apis.insert(logical.clone(), ApiAuth { default_authorizer, authorizers });
    }
    Ok(apis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer() -> JwtAuthorizer {
        JwtAuthorizer {
            name: "StorefrontJwt".into(),
            issuer: "https://auth.example/".into(),
            audiences: vec!["orders".into()],
            header: "authorization".into(),
        }
    }

    fn bearer(token: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("authorization".to_owned(), format!("Bearer {token}"))])
    }

    #[test]
    fn api_gateway_s_checks_in_order() {
        let issuer = LocalIssuer::new().unwrap();
        let authorizer = authorizer();
        let now = chrono::Utc::now().timestamp();
        let claims = |changes: Value| {
            let mut claims = json!({ "iss": "https://auth.example/", "sub": "shop-1", "aud": "orders", "exp": now + 60, "iat": now });
            for (key, value) in changes.as_object().unwrap() {
                if value.is_null() {
                    claims.as_object_mut().unwrap().remove(key);
                } else {
                    claims[key] = value.clone();
                }
            }
            issuer.sign(&claims).unwrap()
        };
        let check = |token: &str| authorizer.authorize(&bearer(token), &issuer, &[]);

        let granted = check(&claims(json!({}))).unwrap();
        assert_eq!(granted["sub"], "shop-1");
        assert_eq!(granted["exp"], Value::from((now + 60).to_string()), "claims reach the function as strings");
        let bare = BTreeMap::from([("authorization".to_owned(), claims(json!({})))]);
        assert!(authorizer.authorize(&bare, &issuer, &[]).is_ok(), "the Bearer prefix is optional");
        assert!(check(&claims(json!({ "aud": null, "client_id": "orders" }))).is_ok());

        assert_eq!(authorizer.authorize(&BTreeMap::new(), &issuer, &[]), Err(Denial::Missing));
        assert_eq!(check("not-a-jwt"), Err(Denial::Malformed));
        assert_eq!(check(&claims(json!({ "exp": now - 1 }))), Err(Denial::Expired));
        assert_eq!(check(&claims(json!({ "exp": null }))), Err(Denial::Expired));
        assert_eq!(check(&claims(json!({ "nbf": now + 60 }))), Err(Denial::NotYetValid));
        assert_eq!(check(&claims(json!({ "iat": now + 60 }))), Err(Denial::IssuedInTheFuture));
        assert_eq!(check(&claims(json!({ "iss": "https://evil.example/" }))), Err(Denial::WrongIssuer));
        assert_eq!(check(&claims(json!({ "aud": "other" }))), Err(Denial::WrongAudience));
        assert_eq!(check(&claims(json!({ "aud": null }))), Err(Denial::WrongAudience));

        let stranger = LocalIssuer::new().unwrap();
        let forged = stranger.token_for(&authorizer, "shop-1", Duration::from_secs(60)).unwrap();
        assert_eq!(check(&forged), Err(Denial::UnknownKey));
        let (header, rest) = forged.split_once('.').unwrap();
        let own_header = claims(json!({})).split_once('.').unwrap().0.to_owned();
        assert_ne!(header, own_header);
        assert_eq!(check(&format!("{own_header}.{rest}")), Err(Denial::BadSignature), "another key's signature");

        let scoped = claims(json!({ "scope": "orders/read orders/write" }));
        let wanted = |scope: &str| vec![scope.to_owned()];
        assert!(authorizer.authorize(&bearer(&scoped), &issuer, &wanted("orders/write")).is_ok());
        assert_eq!(authorizer.authorize(&bearer(&scoped), &issuer, &wanted("admin")), Err(Denial::MissingScope));
    }

    #[test]
    fn the_template_s_storefront_authorizer_is_read() {
        let template = crate::stack::template::Template::load(&crate::stack::template::default_path()).unwrap();
        let stack = Stack::plan(template, "s", "us-east-1", &BTreeMap::new());
        let apis = api_auth(&stack).unwrap();
        let api = &apis["StorefrontApi"];
        assert_eq!(api.default_authorizer.as_deref(), Some("StorefrontJwt"));
        let jwt = &api.authorizers["StorefrontJwt"];
        assert_eq!(jwt.header, "authorization");
        assert_eq!(jwt.audiences, vec!["orderflow-storefront-api".to_owned()]);
        assert_eq!(jwt.issuer, "https://auth.orderflow.invalid/");
    }
}
