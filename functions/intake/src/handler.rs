//! The `intake` Lambda: the storefront's routes. HTTP API requests in, `shared::api` use cases
//! called, HTTP responses out.

use chrono::Utc;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::secrets::{StoredSecret, lookup_key_from_env},
    adapters::stripe::StripeGateway,
    api::{
        Answer, ChangeApi, IDEMPOTENCY_KEY_HEADER, IF_MATCH_HEADER, OrderApi, PlaceOrder, Problem,
        storefront_customer_orders,
    },
    app::changes::OrderChanges,
    config::{ConfigError, Env},
    domain::{LookupKey, StorefrontId},
    lambda::http::{body, failure, header_text, raw_query, require_json, route_and_claim, success},
};

/// The token claim that names the calling storefront (the client id of its credentials).
pub const STOREFRONT_CLAIM: &str = "sub";

/// Everything `intake` builds once at init and shares across invocations.
#[derive(Debug, Clone)]
pub struct Intake {
    api: OrderApi<DynamoStore, DynamoStore, StoredSecret<LookupKey>>,
    changes: ChangeApi<DynamoStore, StripeGateway>,
}

impl Intake {
    /// Reads the store's tables, `PRICING_POLICY`, `SHIPPING_POLICY`, `RETURN_POLICY`,
    /// `IDEMPOTENCY_TTL_HOURS`, `LOOKUP_KEY_SECRET_ID` and `PAYMENT_PROVIDER_*` (an amendment may
    /// re-authorise) from `env`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let store = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(aws), env)?;
        let changes = OrderChanges::new(store.clone(), StripeGateway::from_env(aws, env)?);
        let keys = lookup_key_from_env(aws_sdk_secretsmanager::Client::new(aws), env)?;
        let api = OrderApi::from_env(store.clone(), store, keys, env)?;
        Ok(Self { api, changes: ChangeApi::from_env(changes, env)? })
    }

    /// One request: route by the API's route key, answer JSON or problem+json. Never an `Err`:
    /// every failure is an HTTP answer, so API Gateway never turns one into a bare 502.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        let answer = match self.route(&request).await {
            Ok(answer) => success(answer),
            Err(problem) => failure(&problem),
        };
        Ok(answer)
    }

    async fn route(&self, request: &Request) -> Result<Answer, Problem> {
        let (route, claim) = route_and_claim(request, STOREFRONT_CLAIM, "storefront")?;
        let storefront = StorefrontId::parse(claim).map_err(|_| {
            Problem::new(401, "unauthenticated", "the request carries no storefront identity").at("Authorization")
        })?;
        let id = request.path_parameters_ref().and_then(|params| params.first("id")).unwrap_or_default();
        let body = body(request)?;
        match route {
            "POST /orders" => {
                require_json(request)?;
                let place = PlaceOrder {
                    storefront: &storefront,
                    idempotency_key: header_text(request, IDEMPOTENCY_KEY_HEADER, "invalid_idempotency_key")?,
                    body,
                };
                self.api.place_order(place, Utc::now()).await
            }
            "GET /orders/{id}" => self.api.get_order(&storefront, id).await,
            "GET /customer-orders" => {
                storefront_customer_orders(&self.api.orders, &self.api.keys, &storefront, raw_query(request)).await
            }
            "PATCH /orders/{id}" => {
                require_json(request)?;
                let if_match = header_text(request, IF_MATCH_HEADER, "invalid_if_match")?;
                self.changes.amend(&storefront, id, if_match, body, Utc::now()).await
            }
            "POST /orders/{id}/cancel" => self.changes.cancel(&storefront, id, body, Utc::now()).await,
            "POST /orders/{id}/returns" => {
                require_json(request)?;
                self.changes.request_return(&storefront, id, body, Utc::now()).await
            }
            _ => Err(Problem::new(404, "route_not_found", "no such route")),
        }
    }
}
