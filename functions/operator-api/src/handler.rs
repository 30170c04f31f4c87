//! The `operator-api` Lambda: the desk's routes, behind the operators' own authorizer. Every
//! route reads the operator from the token (who, their role, their storefronts), answers 404 for
//! another shop's order and 403 for what the role does not allow, and leaves one audit line.
//! The desk's pages (`/desk/...`) carry the token in a session cookie instead, checked here by
//! the authorizer's rules (`shared::web::desk`).

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::identity::IssuerKeys,
    adapters::secrets::{StoredSecret, lookup_key_from_env},
    adapters::stripe::StripeGateway,
    api::{Answer, Caller, ChangeApi, DeskApi, IF_MATCH_HEADER, OperatorChange, Problem, parse_refund},
    app::changes::OrderChanges,
    config::{ConfigError, Env},
    domain::{Action, LookupKey, Money},
    lambda::http::{body, failure, header_text, raw_query, require_json, route_and_caller, success},
    lambda::wiring::{LivePayments, payments_from_env},
    web::desk::{DeskPages, DeskWeb, WebAnswer, WebRequest, answer_json},
};

#[derive(Debug, Clone)]
pub struct OperatorApi {
    payments: LivePayments,
    changes: ChangeApi<DynamoStore, StripeGateway>,
    desk: DeskApi<DynamoStore, StoredSecret<LookupKey>>,
    /// Shared by the clones: one process, one cache of the issuer's keys.
    web: std::sync::Arc<DeskWeb<IssuerKeys>>,
}

impl OperatorApi {
    /// The store's tables, `DESK_POLICY`, `LOOKUP_KEY_SECRET_ID`, `FRAUD_POLICY`,
    /// `PRICING_POLICY`, `SHIPPING_POLICY`, `RETURN_POLICY`, `PAYMENT_PROVIDER_*` and `DESK_*`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let orders = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(aws), env)?;
        // One gateway, so the provider's key is read once per process.
        let gateway = StripeGateway::from_env(aws, env)?;
        let changes = OrderChanges::new(orders.clone(), gateway.clone());
        let payments = payments_from_env(gateway, orders.clone(), env)?;
        let keys = lookup_key_from_env(aws_sdk_secretsmanager::Client::new(aws), env)?;
        Ok(Self {
            payments,
            changes: ChangeApi::from_env(changes, env)?,
            desk: DeskApi::from_env(orders, keys, env)?,
            web: std::sync::Arc::new(DeskWeb::from_env(IssuerKeys::for_issuer, env)?),
        })
    }

    /// One request; every failure is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        let path = request.uri().path();
        if path == "/desk" || path.starts_with("/desk/") {
            return Ok(self.page(&request).await);
        }
        let (route, caller) = match route_and_caller(&request) {
            Ok(identified) => identified,
            Err(problem) => return Ok(failure(&problem)),
        };
        let raw_id = request.path_parameters_ref().and_then(|params| params.first("id")).unwrap_or_default();
        let answer = self.route(&request, route, &caller, raw_id, Utc::now()).await;
        audit(&caller, route, raw_id, status_of(&answer));
        Ok(match answer {
            Ok(answer) => success(answer),
            Err(problem) => failure(&problem),
        })
    }

    async fn route(
        &self,
        request: &Request,
        route: &str,
        caller: &Caller,
        raw_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let body = body(request)?;
        let desk = &self.desk;
        match route {
            "GET /orders" => desk.search(caller, raw_query(request)).await,
            "GET /review-queue" => desk.queue(caller, raw_query(request), now).await,
            "GET /customer-history" => desk.history(caller, raw_query(request)).await,
            "GET /orders/{id}/review" => desk.order_page(caller, raw_id).await,
            "POST /orders/{id}/review" => {
                require_json(request)?;
                desk.review(&self.payments, caller, raw_id, body, now).await
            }
            "POST /orders/{id}/claim" => desk.claim(caller, raw_id, now).await,
            "POST /orders/{id}/contact-outcomes" => {
                require_json(request)?;
                desk.record_contact(&self.payments, caller, raw_id, body, now).await
            }
            "POST /orders/{id}/operator-cancel" => {
                desk.admit(caller, raw_id, |_| Action::Cancel).await?;
                self.changes.operator_cancel(caller, raw_id, body, now).await
            }
            "POST /orders/{id}/operator-amend" => {
                require_json(request)?;
                let order = desk.admit(caller, raw_id, |_| Action::Amend).await?;
                let change = change_at_if_match(request, caller, raw_id, body)?;
                self.changes.operator_amend(change, &order.storefront, now).await
            }
            "POST /orders/{id}/refunds" => {
                require_json(request)?;
                let (amount, _) = parse_refund(body)?;
                desk.admit(caller, raw_id, |order| Action::Refund(Money::new(amount, order.currency))).await?;
                self.changes.goodwill_refund(change_at_if_match(request, caller, raw_id, body)?, now).await
            }
            "POST /orders/{id}/apology" => {
                require_json(request)?;
                desk.admit(caller, raw_id, |_| Action::Apologise).await?;
                self.changes.apologise(change_at_if_match(request, caller, raw_id, body)?, now).await
            }
            _ => Err(Problem::new(404, "route_not_found", "no such route")),
        }
    }
}

impl OperatorApi {
    /// A page or form of the desk.
    async fn page(&self, request: &Request) -> Response<Body> {
        let cookies: Vec<&str> = request
            .headers()
            .get_all(lambda_http::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let request_id = match request.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            _ => None,
        }
        .unwrap_or_default();
        let body = match body(request) {
            Ok(body) => body,
            Err(problem) => return failure(&problem),
        };
        let web_request = WebRequest {
            method: request.method().as_str(),
            path: request.uri().path(),
            query: raw_query(request),
            cookies: &cookies,
            body,
            request_id: &request_id,
        };
        web_response(self.web.handle(self, &web_request, Utc::now()).await)
    }
}

/// The desk's pages call the routes' own code, and its changes leave the routes' audit line.
impl DeskPages for OperatorApi {
    async fn queue(&self, caller: &Caller, now: DateTime<Utc>) -> Result<serde_json::Value, Problem> {
        answer_json(&self.desk.queue(caller, "", now).await?)
    }

    async fn order(&self, caller: &Caller, raw_id: &str) -> Result<serde_json::Value, Problem> {
        answer_json(&self.desk.order_page(caller, raw_id).await?)
    }

    async fn claim(&self, caller: &Caller, raw_id: &str, now: DateTime<Utc>) -> Result<(), Problem> {
        let answer = self.desk.claim(caller, raw_id, now).await;
        audit(caller, "desk POST /orders/{id}/claim", raw_id, status_of(&answer));
        answer.map(|_| ())
    }

    async fn review(&self, caller: &Caller, raw_id: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), Problem> {
        let answer = self.desk.review(&self.payments, caller, raw_id, body, now).await;
        audit(caller, "desk POST /orders/{id}/review", raw_id, status_of(&answer));
        answer.map(|_| ())
    }
}

fn status_of(answer: &Result<Answer, Problem>) -> u16 {
    answer.as_ref().map_or_else(|problem| problem.status, |answer| answer.response.status)
}

fn web_response(answer: WebAnswer) -> Response<Body> {
    let mut response = Response::builder().status(answer.status);
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    response
        .body(Body::Text(answer.body))
        .unwrap_or_else(|_| failure(&Problem::new(500, "page_unsendable", "the page could not be sent")))
}

/// One line per operator request, whatever its outcome: who, in what role, which request,
/// what, on which order, and the answer's status.
fn audit(caller: &Caller, route: &str, raw_id: &str, status: u16) {
    tracing::info!(
        target: "audit",
        operator = %caller.operator.id,
        role = caller.operator.role.as_str(),
        request_id = %caller.request_id,
        route,
        order_id = shared::domain::OrderId::parse(raw_id).ok().map(tracing::field::display),
        status,
        "operator request"
    );
}

/// An operator's change at the version the request's `If-Match` names.
fn change_at_if_match<'a>(
    request: &'a Request,
    caller: &'a Caller,
    raw_id: &'a str,
    body: &'a [u8],
) -> Result<OperatorChange<'a>, Problem> {
    let if_match = header_text(request, IF_MATCH_HEADER, "invalid_if_match")?;
    Ok(OperatorChange { caller, raw_id, if_match, body })
}
