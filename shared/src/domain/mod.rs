//! The pure order domain: no AWS, no Lambda, no I/O. Everything here is unit-tested in place.

mod address;
mod amendment;
mod apology;
mod cancellation;
mod contact;
mod desk;
mod disputes;
mod event;
mod fraud;
mod ids;
mod locale;
mod lookup;
mod money;
mod order;
mod parcels;
mod payment;
mod ports;
mod pricing;
mod returns;
mod shipping;
mod status;
mod stock;
mod text;
mod warehouse;

pub use address::AddressField;
pub use address::ShippingRefusal;
pub use amendment::{AmendRefusal, Amendment};
pub(crate) use apology::Remedy;
pub(crate) use cancellation::CancelRefusal;
pub use cancellation::Requester;
pub use contact::Address;
pub use contact::{CountryCode, Customer, EmailAddress, PhoneNumber};
pub use desk::{Acting, Action, AfterContact, ContactOutcome, DeskEntry, DeskPolicy, DeskWork, Forbidden, Operator};
pub use desk::{BusinessHours, InvalidDeskPolicy, ReviewClaim, Role, StorefrontRules, TokenGrant};
pub use desk::{GROUPS_CLAIM, STOREFRONTS_ATTRIBUTE, STOREFRONTS_CLAIM, scope};
pub use disputes::{Dispute, NewsRefusal, ProviderNews};
pub use disputes::{DisputeStatus, ProviderEvent};
pub(crate) use event::EventId;
pub use event::{Envelope, EventType};
pub use fraud::FraudReason;
pub use fraud::FraudRule;
pub use fraud::{CustomerHistory, FraudPolicy, FraudSignals};
pub use fraud::{FraudAssessment, FraudDecision};
pub use ids::{
    AuthorizationId, CarrierEventId, DisputeId, IdempotencyKey, OperatorId, OrderId, PaymentMethodId, ProviderEventId,
    Quantity, RefundId, RequestId, Rma, Sku, StorefrontId, WebhookSource,
};
pub(crate) use locale::Language;
pub use locale::Locale;
pub use lookup::{LookupKey, MIN_LOOKUP_KEY_BYTES, ParcelKey, ShortLookupKey};
pub use money::{Currency, Money};
pub use order::{Capture, Order, OrderRecord, Payment, StatusReason};
pub use order::{NewOrder, OperatorDecision, Revision, TimelineEntry};
pub use parcels::Delay;
pub use parcels::DelayCause;
pub use parcels::{CarrierName, DeliveryUpdate, ShipmentId, ShippedLine, TrackingNumber, TrackingStatus};
pub use parcels::{ParcelStatus, TrackingEvent};
pub use parcels::{Shipment, Tracked};
pub use payment::DeclineKind;
pub use payment::{Authorization, CardChecks, CheckResult, Refund};
pub use payment::{Decline, GatewayError, PaymentGateway};
pub use ports::CUSTOMER_ORDERS_READ;
pub use ports::{
    Catalog, DeadLetterUnavailable, DeadLetters, IdempotencyRecord, RecentOrder, ReserveError, StalledOrders,
    StoredResponse, Warehouse, WarehouseUnavailable,
};
pub use ports::{DeskStore, LookupKeys, OrderIndex, OrderPage, OrderQuery, OrderSummary, Position, SortOrder};
pub(crate) use ports::{MAX_WRITE_ITEMS, STOCK_WRITE_OVERHEAD};
pub use ports::{OrderRepository, ParcelIndex, Release, StockLedger, StoreError};
pub use pricing::{CatalogItem, OrderLine, PricingPolicy, RequestedLine, ShippingFees};
pub use pricing::{PricingError, ShippingOption, Totals};
pub use returns::{ReceiptRejection, ReceivedReturn, RefundRefusal, ReturnLine, ReturnRefusal, ReturnRequest};
pub use returns::{ReceivedLine, ReturnPolicy, ReturnReceipt, ShippingRefund};
pub use shipping::ShippingPolicy;
pub use shipping::TransitDays;
pub use shipping::{InvalidShippingPolicy, PricedOrder, ShippingQuote, Zone};
pub(crate) use status::IllegalTransition;
pub use status::OrderStatus;
pub use stock::{AdjustmentPlan, ReservationPlan, Shortage, StockAdjustment};
pub use stock::{Allocation, Counter, StockLevel, plan_adjustment, plan_reservation, requested_units};
pub use text::InvalidValue;
pub(crate) use text::{CARD_NUMBER, check_readable, is_hidden_or_control};
pub use text::{Line, holds_card_number};
pub use warehouse::{PickCancellation, PickLine, ShipmentRejection};
pub use warehouse::{PickRequest, ShipmentReport, WarehouseInstruction, WarehouseReport};

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) use super::desk::tests::acting;
    pub(crate) use super::order::tests::sample_order;
    pub(crate) use super::shipping::tests::policy as shipping_policy;
}
