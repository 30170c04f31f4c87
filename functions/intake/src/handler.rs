//! The `intake` Lambda: HTTP API requests in, `shared::api` use cases called, HTTP responses out.

use chrono::Utc;
use lambda_http::{
    Body, Request, RequestExt, Response,
    http::{HeaderValue, StatusCode, header},
    request::RequestContext,
};
use shared::{
    api::{Answer, IDEMPOTENCY_KEY_HEADER, OrderApi, PROBLEM_CONTENT_TYPE, PlaceOrder, Problem},
    config::{ConfigError, Env},
    domain::StorefrontId,
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
        let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
            return Err(Problem::internal());
        };
        let storefront = context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .and_then(|jwt| jwt.claims.get(STOREFRONT_CLAIM))
            .and_then(|claim| StorefrontId::parse(claim).ok())
            .ok_or_else(|| Problem::new(401, "unauthenticated", "the request carries no storefront identity"))?;
        match context.route_key.as_deref().unwrap_or_default() {
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

fn require_json(request: &Request) -> Result<(), Problem> {
    let media_type = header_text(request, header::CONTENT_TYPE.as_str())?
        .and_then(|value| value.split(';').next())
        .map(|media_type| media_type.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some("application/json") => Ok(()),
        _ => Err(Problem::new(415, "unsupported_media_type", "send the order as application/json")
            .at(header::CONTENT_TYPE.as_str())),
    }
}

fn header_text<'r>(request: &'r Request, name: &str) -> Result<Option<&'r str>, Problem> {
    request
        .headers()
        .get(name)
        .map(|value| value.to_str().map_err(|_| Problem::bad_request("invalid_header", "must be ASCII").at(name)))
        .transpose()
}

fn success(answer: Answer) -> Response<Body> {
    let mut response = respond(answer.response.status, "application/json", answer.response.body);
    let headers = response.headers_mut();
    if let Some(location) = answer.response.location.and_then(|location| HeaderValue::from_str(&location).ok()) {
        headers.insert(header::LOCATION, location);
    }
    if answer.replayed {
        headers.insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    }
    response
}

fn failure(problem: &Problem) -> Response<Body> {
    if problem.is_server_error() {
        tracing::warn!(code = problem.code, status = problem.status, "request failed on our side");
    } else {
        tracing::info!(
            code = problem.code,
            status = problem.status,
            field = problem.field.as_deref(),
            "request refused"
        );
    }
    let mut response = respond(problem.status, PROBLEM_CONTENT_TYPE, problem.to_json());
    if problem.status == 503 {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn respond(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
