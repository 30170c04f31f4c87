//! The pure order domain: no AWS, no Lambda, no I/O. Everything here is unit-tested in place.

mod changes;
mod contact;
mod event;
mod fraud;
mod ids;
mod money;
mod order;
mod payment;
mod ports;
mod pricing;
mod shipment;
mod shipping;
mod status;
mod stock;
mod text;

pub use changes::{
    AmendRefusal, Amendment, CancelRefusal, ReceiptRejection, ReceivedLine, ReceivedReturn, RefundRefusal, Requester,
    ReturnLine, ReturnPolicy, ReturnReceipt, ReturnRefusal, ReturnRequest, ShippingRefund,
};
pub use contact::{Address, CountryCode, Customer, EmailAddress, PhoneNumber};
pub use event::{Envelope, EventId, EventType};
pub use fraud::{
    CustomerHistory, FraudAssessment, FraudDecision, FraudPolicy, FraudReason, FraudRule, FraudSignals,
    InvalidFraudPolicy, Velocity,
};
pub use ids::{IdempotencyKey, OrderId, PaymentMethodId, Quantity, Sku, StorefrontId};
pub use money::{Currency, Money};
pub use order::{NewOrder, OperatorDecision, Order, OrderChange, Payment, StatusReason, TimelineEntry};
pub use payment::{Authorization, CardChecks, CheckResult, Decline, GatewayError, PaymentGateway, Refund};
pub use ports::{
    Catalog, IdempotencyRecord, OrderRepository, ParcelIndex, RecentOrder, Release, ReserveError, StalledOrders,
    StockLedger, StoreError, StoredResponse, Warehouse, WarehouseUnavailable,
};
pub use pricing::{
    CatalogItem, OrderLine, PricingError, PricingPolicy, RequestedLine, ShippingFees, ShippingOption, Totals,
};
pub use shipment::{
    CarrierName, Delay, DelayCause, DeliveryUpdate, ParcelStatus, PickCancellation, PickLine, PickRequest, Shipment,
    ShipmentId, ShipmentRejection, ShipmentReport, ShippedLine, Tracked, TrackingEvent, TrackingNumber, TrackingStatus,
    WarehouseInstruction,
};
pub use shipping::{
    AddressField, InvalidShippingPolicy, ShippingPolicy, ShippingQuote, ShippingRefusal, TransitDays, Zone,
    check_address, is_po_box,
};
pub use status::{IllegalTransition, OrderStatus};
pub use stock::{
    AdjustmentPlan, Allocation, Counter, ReservationPlan, Shortage, StockLevel, plan_adjustment, plan_reservation,
    requested_units,
};
pub use text::{InvalidValue, Line};

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) use super::order::tests::sample_order;
    pub(crate) use super::shipping::tests::policy as shipping_policy;
}
