//! The pure order domain: no AWS, no Lambda, no I/O. Everything here is unit-tested in place.

mod contact;
mod event;
mod fraud;
mod ids;
mod money;
mod order;
mod payment;
mod ports;
mod pricing;
mod status;
mod stock;
mod text;

pub use contact::{Address, CountryCode, Customer, EmailAddress, PhoneNumber};
pub use event::{Envelope, EventId, EventType};
pub use fraud::{
    CustomerHistory, FraudAssessment, FraudDecision, FraudPolicy, FraudReason, FraudRule, FraudSignals,
    InvalidFraudPolicy, Velocity,
};
pub use ids::{IdempotencyKey, OrderId, PaymentMethodId, Quantity, Sku, StorefrontId};
pub use money::{Currency, Money};
pub use order::{NewOrder, OperatorDecision, Order, Payment, StatusChange, StatusReason, TimelineEntry};
pub use payment::{Authorization, CardChecks, CheckResult, Decline, GatewayError, PaymentGateway, Refund};
pub use ports::{
    Catalog, IdempotencyRecord, OrderRepository, RecentOrder, Release, ReserveError, StockLedger, StoreError,
    StoredResponse,
};
pub use pricing::{
    CatalogItem, OrderLine, PricingError, PricingPolicy, RequestedLine, ShippingFees, ShippingOption, Totals,
};
pub use status::{IllegalTransition, OrderStatus};
pub use stock::{Allocation, Counter, ReservationPlan, Shortage, StockLevel, plan_reservation, requested_units};
pub use text::{InvalidValue, Line};

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) use super::order::tests::sample_order;
}
