//! The pure order domain: no AWS, no Lambda, no I/O. Everything here is unit-tested in place.

mod contact;
mod event;
mod ids;
mod money;
mod order;
mod ports;
mod pricing;
mod status;
mod text;

pub use contact::{Address, CountryCode, Customer, EmailAddress, PhoneNumber};
pub use event::{Envelope, EventId, EventType};
pub use ids::{IdempotencyKey, OrderId, PaymentMethodId, Quantity, Sku, StorefrontId};
pub use money::{Currency, Money};
pub use order::{NewOrder, Order, Payment, StatusChange, TimelineEntry};
pub use ports::{Catalog, IdempotencyRecord, OrderRepository, StoreError, StoredResponse};
pub use pricing::{
    CatalogItem, OrderLine, PricingError, PricingPolicy, RequestedLine, ShippingFees, ShippingOption, Totals,
};
pub use status::{IllegalTransition, OrderStatus};
pub use text::{InvalidValue, Line};
