//! The ids a request names outside its body: the order in its path, the operator in its token.

use super::Problem;
use crate::domain::{OperatorId, OrderId};

/// The order a path's `{id}` names. An unparseable id cannot name an order: the same 404 as a
/// missing one.
pub(crate) fn order_id(raw: &str) -> Result<OrderId, Problem> {
    OrderId::parse(raw).map_err(|_| Problem::not_found())
}

/// The operator a token's subject names.
pub(crate) fn operator_id(raw: &str) -> Result<OperatorId, Problem> {
    OperatorId::parse(raw)
        .map_err(|invalid| Problem::new(403, invalid.code, "the token does not name an operator").at("Authorization"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_order_id_is_not_found_and_a_strange_operator_is_forbidden() {
        assert_eq!(order_id("not-an-order").unwrap_err().status, 404);
        assert_eq!(operator_id("ops@example.com").unwrap().as_str(), "ops@example.com");
        for strange in ["", "op\u{0}erator", "line\nbreak", &"o".repeat(256)] {
            let problem = operator_id(strange).unwrap_err();
            assert_eq!(
                (problem.status, problem.code, problem.field.as_deref()),
                (403, "invalid_operator", Some("Authorization")),
                "{strange:?}"
            );
        }
    }
}
