//! The operators' review of held orders: `POST /orders/{id}/review` with
//! `{"decision": "approve" | "deny", "note": "…"}`.

use serde_json::Value;

use super::Problem;
use crate::{
    app::payments::{PaymentError, ReviewError, Verdict},
    domain::GatewayError,
};

const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequest {
    pub verdict: Verdict,
    pub note: Option<String>,
}

/// Parses a review body; a bad one is a problem naming the field, and changes nothing.
pub fn parse_review(body: &[u8]) -> Result<ReviewRequest, Problem> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| Problem::bad_request("malformed_json", "the body is not a JSON object"))?;
    let Value::Object(fields) = value else {
        return Err(Problem::bad_request("malformed_json", "the body is not a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|key| !["decision", "note"].contains(&key.as_str())) {
        return Err(Problem::unprocessable("unknown_field", "is not a field of a review").at(format!("/{unknown}")));
    }
    let verdict = match fields.get("decision") {
        None => return Err(Problem::unprocessable("missing_field", "is required").at("/decision")),
        Some(decision) => serde_json::from_value::<Verdict>(decision.clone()).map_err(|_| {
            Problem::unprocessable("invalid_decision", "must be \"approve\" or \"deny\"").at("/decision")
        })?,
    };
    let note = match fields.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(note)) if note.chars().count() <= MAX_NOTE_CHARS => Some(note.trim().to_owned()),
        Some(_) => {
            return Err(Problem::unprocessable(
                "invalid_note",
                format!("must be text of at most {MAX_NOTE_CHARS} characters"),
            )
            .at("/note"));
        }
    };
    Ok(ReviewRequest { verdict, note: note.filter(|note| !note.is_empty()) })
}

/// What the operator is told when a review cannot be done.
pub fn review_problem(error: &ReviewError) -> Problem {
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
        let cases: [(&[u8], u16, &str, Option<&str>); 6] = [
            (b"not json", 400, "malformed_json", None),
            (b"[]", 400, "malformed_json", None),
            (br#"{}"#, 422, "missing_field", Some("/decision")),
            (br#"{"decision": "maybe"}"#, 422, "invalid_decision", Some("/decision")),
            (br#"{"decision": "deny", "note": 5}"#, 422, "invalid_note", Some("/note")),
            (br#"{"decision": "deny", "by": "me"}"#, 422, "unknown_field", Some("/by")),
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
