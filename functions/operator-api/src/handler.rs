//! The `operator-api` Lambda: the operators' routes, behind their own authorizer. An operator
//! reads an order as operators see it (fraud screening's reasons included), and approves or
//! denies a held one; the decision and who took it go into the timeline.

use chrono::Utc;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::stripe::StripeGateway,
    api::{Answer, ChangeApi, IF_MATCH_HEADER, OperatorChange, Problem, order_for_review, review},
    app::changes::OrderChanges,
    config::{ConfigError, Env},
    lambda::http::{body, failure, header_text, require_json, route_and_claim, success},
    lambda::wiring::{LivePayments, payments_from_env},
};

/// The token claim that names the operator.
pub const OPERATOR_CLAIM: &str = "sub";

#[derive(Debug, Clone)]
pub struct OperatorApi {
    payments: LivePayments,
    orders: DynamoStore,
    changes: ChangeApi<DynamoStore, StripeGateway>,
}

impl OperatorApi {
    /// The store's tables, `FRAUD_POLICY`, `PRICING_POLICY`, `SHIPPING_POLICY`, `RETURN_POLICY`
    /// and `PAYMENT_PROVIDER_*`.
    pub fn from_env(aws: &aws_config::SdkConfig, env: &Env) -> Result<Self, ConfigError> {
        let orders = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(aws), env)?;
        // One gateway, so the provider's key is read once per process.
        let gateway = StripeGateway::from_env(aws, env)?;
        let changes = OrderChanges::new(orders.clone(), gateway.clone());
        let payments = payments_from_env(gateway, orders.clone(), env)?;
        Ok(Self { orders, payments, changes: ChangeApi::from_env(changes, env)? })
    }

    /// One request; every failure is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(match self.route(&request).await {
            Ok(answer) => success(answer),
            Err(problem) => failure(&problem),
        })
    }

    async fn route(&self, request: &Request) -> Result<Answer, Problem> {
        let (route, operator) = route_and_claim(request, OPERATOR_CLAIM, "operator")?;
        let raw_id = request.path_parameters_ref().and_then(|params| params.first("id")).unwrap_or_default();
        let body = body(request)?;
        match route {
            "GET /orders/{id}/review" => order_for_review(&self.orders, raw_id).await,
            "POST /orders/{id}/review" => {
                require_json(request)?;
                review(&self.payments, operator, raw_id, body, Utc::now()).await
            }
            "POST /orders/{id}/operator-cancel" => {
                self.changes.operator_cancel(operator, raw_id, body, Utc::now()).await
            }
            "POST /orders/{id}/refunds" => {
                require_json(request)?;
                self.changes.goodwill_refund(change_at_if_match(request, operator, raw_id, body)?, Utc::now()).await
            }
            "POST /orders/{id}/apology" => {
                require_json(request)?;
                self.changes.apologise(change_at_if_match(request, operator, raw_id, body)?, Utc::now()).await
            }
            _ => Err(Problem::new(404, "route_not_found", "no such route")),
        }
    }
}

/// An operator's change at the version the request's `If-Match` names.
fn change_at_if_match<'a>(
    request: &'a Request,
    operator: &'a str,
    raw_id: &'a str,
    body: &'a [u8],
) -> Result<OperatorChange<'a>, Problem> {
    let if_match = header_text(request, IF_MATCH_HEADER, "invalid_if_match")?;
    Ok(OperatorChange { operator, raw_id, if_match, body })
}
