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
    OperatorId::parse(raw).map_err(|invalid| Problem::new(403, invalid.code, "the token does not name an operator"))
}
