//! The `operator-api` Lambda: the operators' routes, behind their own authorizer. An operator
//! reads an order as operators see it (fraud screening's reasons included), and approves or
//! denies a held one; the decision and who took it go into the timeline.

use chrono::Utc;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{
    api::{Answer, OrderView, Problem, parse_review, review_problem},
    config::{ConfigError, Env},
    domain::{OperatorDecision, Order, OrderId, OrderRepository, StoredResponse, TimelineEntry},
    http::{failure, require_json, route_and_claim, success},
    payments::{self, LivePayments},
    store::DynamoStore,
};

/// The token claim that names the operator.
pub const OPERATOR_CLAIM: &str = "sub";

#[derive(Debug, Clone)]
pub struct OperatorApi {
    payments: LivePayments,
    orders: DynamoStore,
}

impl OperatorApi {
    /// The store's tables, `FRAUD_POLICY` and `PAYMENT_PROVIDER_*`.
    pub fn from_env(client: aws_sdk_dynamodb::Client, env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { orders: DynamoStore::from_env(client.clone(), env)?, payments: payments::from_env(client, env)? })
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
        let id = OrderId::parse(raw_id).map_err(|_| Problem::not_found());
        match route {
            "GET /orders/{id}/review" => {
                let (order, timeline) =
                    self.orders.get(&id?).await.map_err(|_| Problem::unavailable())?.ok_or_else(Problem::not_found)?;
                operator_view(&order, &timeline)
            }
            "POST /orders/{id}/review" => {
                require_json(request)?;
                let id = id?;
                let review = parse_review(request.body().as_ref())?;
                let decision = OperatorDecision { operator: operator.to_owned(), note: review.note };
                let (order, timeline) =
                    self.payments.review(&id, review.verdict, decision, Utc::now()).await.map_err(|error| {
                        tracing::info!(error = %error, order_id = %id, "review refused");
                        review_problem(&error)
                    })?;
                tracing::info!(order_id = %id, verdict = ?review.verdict, "order reviewed");
                operator_view(&order, &timeline)
            }
            _ => Err(Problem::new(404, "route_not_found", "no such route")),
        }
    }
}

fn operator_view(order: &Order, timeline: &[TimelineEntry]) -> Result<Answer, Problem> {
    let body = serde_json::to_string(&OrderView::for_operator(order, timeline)).map_err(|_| Problem::internal())?;
    Ok(Answer { response: StoredResponse { status: 200, body, location: None }, replayed: false })
}
