//! The storefront API's rules, free of HTTP and Lambda types: request parsing, problems, views,
//! and the use cases. `functions/intake` maps them to and from API Gateway.

mod changes;
mod desk;
mod ids;
mod json;
mod problem;
mod request;
mod review;
mod service;
mod view;

pub use changes::{
    ChangeApi, IF_MATCH_HEADER, OperatorChange, parse_edit, parse_if_match, parse_note, parse_refund, parse_return,
};
pub use desk::{Caller, DeskApi, MAX_PAGE, storefront_customer_orders};
pub use problem::PROBLEM_CONTENT_TYPE;
pub use problem::Problem;
pub use request::within_body_limit;
pub use request::{MAX_BODY_BYTES, MAX_LINES, parse_new_order};
pub use review::ReviewRequest;
pub use review::parse_review;
pub use service::{Answer, IDEMPOTENCY_KEY_HEADER, OrderApi, PlaceOrder};
pub use view::OrderView;
