//! The `intake` Lambda: HTTP API requests in, `shared::api` use cases called, HTTP responses out.

use chrono::Utc;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    api::{Answer, IDEMPOTENCY_KEY_HEADER, OrderApi, PlaceOrder, Problem},
    config::{ConfigError, Env},
    domain::StorefrontId,
    http::{failure, header_text, require_json, route_and_claim, success},
    store::DynamoStore,
};

/// The token claim that names the calling storefront (the client id of its credentials).
pub const STOREFRONT_CLAIM: &str = "sub";

/// Everything `intake` builds once at init and shares across invocations.
#[derive(Debug, Clone)]
pub struct Intake {
    api: OrderApi<DynamoStore, DynamoStore>,
}

impl Intake {
    /// Reads the store's tables, `PRICING_POLICY` and `IDEMPOTENCY_TTL_HOURS` from `env`.
    pub fn from_env(client: aws_sdk_dynamodb::Client, env: &Env) -> Result<Self, ConfigError> {
        let store = DynamoStore::from_env(client, env)?;
        Ok(Self { api: OrderApi::from_env(store.clone(), store, env)? })
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
        let storefront = StorefrontId::parse(claim)
            .map_err(|_| Problem::new(401, "unauthenticated", "the request carries no storefront identity"))?;
        match route {
            "POST /orders" => {
                require_json(request)?;
                let place = PlaceOrder {
                    storefront: &storefront,
                    idempotency_key: header_text(request, IDEMPOTENCY_KEY_HEADER)?,
                    body: request.body().as_ref(),
                };
                self.api.place_order(place, Utc::now()).await
            }
            "GET /orders/{id}" => {
                let id = request.path_parameters_ref().and_then(|params| params.first("id")).unwrap_or_default();
                self.api.get_order(&storefront, id).await
            }
            _ => Err(Problem::new(404, "route_not_found", "no such route")),
        }
    }
}
