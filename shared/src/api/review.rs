//! The body of an operator's review of a held order (`POST /orders/{id}/review`:
//! `{"decision": "approve" | "deny", "note": "…"}`), and what a review that cannot be done answers.

use super::{
    Problem,
    json::{json, object},
};
use crate::{
    app::payments::{PaymentError, ReviewError, Verdict},
    domain::{GatewayError, InvalidValue},
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

/// What the operator is told when a review cannot be done.
pub(crate) fn review_problem(error: &ReviewError) -> Problem {
    match error {
        ReviewError::NotFound => Problem::not_found(),
        ReviewError::NotOnHold(status) => super::desk::not_on_hold(*status),
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
