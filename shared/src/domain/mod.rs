//! The pure order domain: no AWS, no Lambda, no I/O. Everything here is unit-tested in place.

mod address;
mod amendment;
mod apology;
mod cancellation;
mod contact;
mod disputes;
mod event;
mod fraud;
mod ids;
mod locale;
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

pub use address::{AddressField, ShippingRefusal, check_address, is_po_box};
pub use amendment::{AmendRefusal, Amendment};
pub use apology::Remedy;
pub use cancellation::{CancelRefusal, Requester};
pub use contact::{Address, CountryCode, Customer, EmailAddress, PhoneNumber};
pub use disputes::{Dispute, DisputeStatus, NewsRefusal, ProviderEvent, ProviderNews};
pub use event::{Envelope, EventId, EventType};
pub use fraud::{
    CustomerHistory, FraudAssessment, FraudDecision, FraudPolicy, FraudReason, FraudRule, FraudSignals,
    InvalidFraudPolicy, Velocity,
};
pub use ids::{
    AuthorizationId, CarrierEventId, DisputeId, IdempotencyKey, OperatorId, OrderId, PaymentMethodId, ProviderEventId,
    Quantity, RefundId, Rma, Sku, StorefrontId, WebhookSource,
};
pub use locale::{Language, Locale};
pub use money::{Currency, Money};
pub use order::{
    Capture, NewOrder, OperatorDecision, Order, OrderRecord, Payment, Revision, StatusReason, TimelineEntry,
};
pub use parcels::{
    CarrierName, Delay, DelayCause, DeliveryUpdate, ParcelStatus, Shipment, ShipmentId, ShippedLine, Tracked,
    TrackingEvent, TrackingNumber, TrackingStatus,
};
pub use payment::{Authorization, CardChecks, CheckResult, Decline, DeclineKind, GatewayError, PaymentGateway, Refund};
pub use ports::{
    Catalog, DeadLetterUnavailable, DeadLetters, IdempotencyRecord, MAX_WRITE_ITEMS, OrderRepository, ParcelIndex,
    RecentOrder, Release, ReserveError, STOCK_WRITE_OVERHEAD, StalledOrders, StockLedger, StoreError, StoredResponse,
    Warehouse, WarehouseUnavailable,
};
pub use pricing::{
    CatalogItem, OrderLine, PricingError, PricingPolicy, RequestedLine, ShippingFees, ShippingOption, Totals,
};
pub use returns::{
    ReceiptRejection, ReceivedLine, ReceivedReturn, RefundRefusal, ReturnLine, ReturnPolicy, ReturnReceipt,
    ReturnRefusal, ReturnRequest, ShippingRefund,
};
pub use shipping::{InvalidShippingPolicy, PricedOrder, ShippingPolicy, ShippingQuote, TransitDays, Zone};
pub use status::{IllegalTransition, OrderStatus};
pub use stock::{
    AdjustmentPlan, Allocation, Counter, ReservationPlan, Shortage, StockAdjustment, StockLevel, plan_adjustment,
    plan_reservation, requested_units,
};
pub use text::{
    CARD_NUMBER, HIDDEN_CHARACTERS, InvalidValue, Line, check_readable, holds_card_number, is_hidden_or_control,
};
pub use warehouse::{
    PickCancellation, PickLine, PickRequest, ShipmentRejection, ShipmentReport, WarehouseInstruction, WarehouseReport,
};

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) use super::order::tests::sample_order;
    pub(crate) use super::shipping::tests::policy as shipping_policy;
}
