//! The storefront API's rules, free of HTTP and Lambda types: request parsing, problems, views,
//! and the use cases. `functions/intake` maps them to and from API Gateway.

mod changes;
mod ids;
mod json;
mod problem;
mod request;
mod review;
mod service;
mod view;

pub use changes::{
    ChangeApi, IF_MATCH_HEADER, change_problem, parse_apology, parse_edit, parse_if_match, parse_note, parse_refund,
    parse_return,
};
pub use problem::{PROBLEM_CONTENT_TYPE, Problem};
pub use request::{MAX_BODY_BYTES, MAX_LINES, parse_new_order, within_body_limit};
pub use review::{ReviewRequest, order_for_review, parse_review, review, review_problem};
pub use service::{Answer, IDEMPOTENCY_KEY_HEADER, OrderApi, PlaceOrder};
pub use view::{OrderView, order_location};
