//! The operators' review of held orders: `GET /orders/{id}/review`, and `POST` with
//! `{"decision": "approve" | "deny", "note": "…"}`.

use chrono::{DateTime, Utc};

use super::{
    Answer, OrderView, Problem,
    ids::{operator_id, order_id},
    json::{json, object},
    service::server_problem,
};
use crate::{
    app::payments::{PaymentError, Payments, ReviewError, Verdict},
    domain::{GatewayError, InvalidValue, OperatorDecision, OrderRecord, OrderRepository, PaymentGateway},
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequest {
    pub verdict: Verdict,
    pub note: Option<String>,
}

/// Parses a review body; a bad one is a problem naming the field, and changes nothing.
pub fn parse_review(body: &[u8]) -> Result<ReviewRequest, Problem> {
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&["decision", "note"])?;
    let verdict = root.required("decision")?.parse(|raw| match raw {
        "approve" => Ok(Verdict::Approve),
        "deny" => Ok(Verdict::Deny),
        _ => Err(InvalidValue::new("invalid_decision", "must be \"approve\" or \"deny\"")),
    })?;
    Ok(ReviewRequest { verdict, note: root.note("note")? })
}

/// `GET /orders/{id}/review`: the order as operators see it, every reason in its timeline.
pub async fn order_for_review(orders: &impl OrderRepository, raw_id: &str) -> Result<Answer, Problem> {
    let OrderRecord { order, timeline } =
        orders.get(&order_id(raw_id)?).await.map_err(server_problem)?.ok_or_else(Problem::not_found)?;
    Answer::order(&OrderView::for_operator(&order, &timeline))
}

/// `POST /orders/{id}/review`: an operator's verdict on a held order, with who took it.
pub async fn review<G, R>(
    payments: &Payments<G, R>,
    operator: &str,
    raw_id: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Answer, Problem>
where
    G: PaymentGateway + Sync,
    R: OrderRepository + Sync,
{
    let id = order_id(raw_id)?;
    let request = parse_review(body)?;
    let decision = OperatorDecision { operator: operator_id(operator)?, note: request.note };
    let OrderRecord { order, timeline } =
        payments.review(&id, request.verdict, decision, now).await.map_err(|error| {
            tracing::info!(error = %error, order_id = %id, "review refused");
            review_problem(&error)
        })?;
    tracing::info!(order_id = %id, verdict = ?request.verdict, "order reviewed");
    Answer::order(&OrderView::for_operator(&order, &timeline))
}

/// What the operator is told when a review cannot be done.
pub(crate) fn review_problem(error: &ReviewError) -> Problem {
    match error {
        ReviewError::NotFound => Problem::not_found(),
        ReviewError::NotOnHold(status) => {
            Problem::new(409, "not_on_hold", format!("the order is {status}; only held orders are reviewed"))
        }
        ReviewError::Conflict => {
            Problem::new(409, "review_conflict", "the order changed during the review; read it again")
        }
        ReviewError::Payment(PaymentError::Gateway(GatewayError::Unavailable(_))) => Problem::unavailable(),
        ReviewError::Payment(_) => Problem::internal(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_is_a_decision_and_an_optional_note() {
        let approve = parse_review(br#"{"decision": "approve"}"#).unwrap();
        assert_eq!(approve, ReviewRequest { verdict: Verdict::Approve, note: None });
        let deny = parse_review(br#"{"decision": "deny", "note": " card testing pattern "}"#).unwrap();
        assert_eq!(deny, ReviewRequest { verdict: Verdict::Deny, note: Some("card testing pattern".to_owned()) });
    }

    #[test]
    fn bad_reviews_name_the_field() {
        let cases: [(&[u8], u16, &str, Option<&str>); 7] = [
            (b"not json", 400, "malformed_json", Some("/")),
            (b"[]", 400, "malformed_json", Some("/")),
            (br#"{}"#, 400, "missing_field", Some("/decision")),
            (br#"{"decision": "maybe"}"#, 422, "invalid_decision", Some("/decision")),
            (br#"{"decision": "deny", "note": 5}"#, 400, "invalid_type", Some("/note")),
            (br#"{"decision": "deny", "note": "line\nbreak"}"#, 422, "invalid_characters", Some("/note")),
            (br#"{"decision": "deny", "by": "me"}"#, 400, "unknown_field", Some("/by")),
        ];
        for (body, status, code, field) in cases {
            let problem = parse_review(body).unwrap_err();
            assert_eq!((problem.status, problem.code, problem.field.as_deref()), (status, code, field));
        }
    }

    #[test]
    fn review_failures_are_client_conflicts_or_retryable() {
        assert_eq!(review_problem(&ReviewError::NotFound).status, 404);
        assert_eq!(review_problem(&ReviewError::NotOnHold(crate::domain::OrderStatus::Placed)).code, "not_on_hold");
        let down = ReviewError::Payment(PaymentError::Gateway(GatewayError::Unavailable("timeout".into())));
        assert_eq!(review_problem(&down).status, 503);
    }
}
