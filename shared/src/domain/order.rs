//! The order aggregate: what was bought, by whom, for how much, and where it stands.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    amendment::Amendment,
    cancellation::Requester,
    contact::{Address, Customer},
    event::{Envelope, EventId, EventType},
    fraud::FraudAssessment,
    ids::{OrderId, PaymentMethodId, RefundId, StorefrontId},
    locale::Locale,
    money::{Currency, Money},
    parcels::{Shipment, TrackingEvent, TrackingNumber},
    payment::{Authorization, Decline, Refund},
    pricing::{OrderLine, RequestedLine, ShippingOption, Totals},
    returns::ReturnRequest,
    shipping::{PricedOrder, ShippingQuote},
    status::{IllegalTransition, OrderStatus},
    stock::Shortage,
};

/// A storefront's request for an order, parsed and checked but not yet priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub customer: Customer,
    pub currency: Currency,
    pub lines: Vec<RequestedLine>,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub shipping_option: ShippingOption,
    pub payment_method: PaymentMethodId,
    /// The customer's language as the storefront sent it; `None` takes the storefront's own.
    pub locale: Option<Locale>,
}

/// How the order is paid, and what the provider has done so far.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payment {
    pub method: PaymentMethodId,
    /// The provider's fingerprint of the card: counts distinct cards per customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<Money>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// Chargebacks the card holder opened, as the provider last reported them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disputes: Vec<super::Dispute>,
    /// Why the authorisation ended at the provider before it was captured, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_ended: Option<String>,
}

/// What an order's shipment asks of its payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture<'a> {
    /// Capture `amount` of this hold.
    Due { authorization: &'a Authorization, amount: Money },
    /// Nothing is held, so nothing is captured.
    NothingHeld,
    /// Captured already.
    Done,
}

impl Payment {
    pub fn new(method: PaymentMethodId) -> Self {
        Self {
            method,
            card_fingerprint: None,
            authorization: None,
            captured: None,
            refunds: Vec::new(),
            disputes: Vec::new(),
            authorization_ended: None,
        }
    }

    /// What capturing takes once the order has shipped: what the order costs now (`total`),
    /// never more than is held; an amended order may have shrunk below its hold, and the
    /// provider releases the rest.
    pub(crate) fn capture_due(&self, total: Money) -> Capture<'_> {
        match (&self.authorization, self.captured) {
            (None, _) => Capture::NothingHeld,
            (Some(_), Some(_)) => Capture::Done,
            (Some(authorization), None) => {
                let amount =
                    if total.minor_units() < authorization.amount.minor_units() { total } else { authorization.amount };
                Capture::Due { authorization, amount }
            }
        }
    }

    /// What went back to the customer: refunds paid out and disputes lost.
    pub fn returned(&self) -> i128 {
        let refunded = self.refunds.iter().filter(|refund| refund.failed.is_none()).map(|refund| refund.amount);
        let lost = self.disputes.iter().filter(|dispute| dispute.status == super::DisputeStatus::Lost);
        refunded.chain(lost.map(|dispute| dispute.amount)).map(|amount| i128::from(amount.minor_units())).sum()
    }
}

/// A decision an operator took, and who took it, in what role and which request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperatorDecision {
    #[serde(flatten)]
    pub by: super::desk::Acting,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why an order reached its status, where the status alone does not say. Kept on the head (the
/// event carries it to the notifier) and in the timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusReason {
    OutOfStock {
        shortages: Vec<Shortage>,
    },
    FraudReview {
        assessment: FraudAssessment,
    },
    FraudBlocked {
        assessment: FraudAssessment,
    },
    PaymentDeclined {
        decline: Decline,
    },
    PaymentMethodUnusable,
    /// The provider authorised another amount than the order's total; the hold was released.
    AuthorizedAmountMismatch {
        expected: Money,
        authorized: Money,
    },
    ReviewApproved {
        decision: OperatorDecision,
    },
    ReviewDenied {
        decision: OperatorDecision,
    },
    /// A carrier reported a problem with a parcel: a failed attempt, an address issue, customs.
    DeliveryException {
        tracking_number: TrackingNumber,
        carrier_status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// When the carrier now expects to deliver, if it said and it is later than promised.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<NaiveDate>,
    },
    /// The carrier is taking a parcel back to the warehouse.
    ReturnedToSender {
        tracking_number: TrackingNumber,
    },
    /// Cancelled at someone's request; `was` is where the order stood, which tells whether the
    /// warehouse may have been picking it.
    Cancelled {
        requested_by: Requester,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        was: OrderStatus,
    },
    /// An operator refunded part of the payment as a gesture of goodwill.
    GoodwillRefund {
        decision: OperatorDecision,
        amount: Money,
    },
    /// The card holder disputed the payment with their bank; the dispute as it now stands.
    Disputed {
        dispute: super::Dispute,
    },
    /// The authorisation ended at the provider before it was captured (it expired, say).
    AuthorizationEnded {
        reason: String,
    },
    /// A refund the provider had accepted failed: the money was not returned.
    RefundFailed {
        refund: RefundId,
        amount: Money,
    },
    /// An operator apologised to the customer: what went wrong and what was done about it.
    Apologised {
        decision: OperatorDecision,
        remedy: super::Remedy,
        what_went_wrong: String,
    },
}

impl StatusReason {
    /// The reason's kind as stored (its `kind` tag): `out_of_stock`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::OutOfStock { .. } => "out_of_stock",
            Self::FraudReview { .. } => "fraud_review",
            Self::FraudBlocked { .. } => "fraud_blocked",
            Self::PaymentDeclined { .. } => "payment_declined",
            Self::PaymentMethodUnusable => "payment_method_unusable",
            Self::AuthorizedAmountMismatch { .. } => "authorized_amount_mismatch",
            Self::ReviewApproved { .. } => "review_approved",
            Self::ReviewDenied { .. } => "review_denied",
            Self::DeliveryException { .. } => "delivery_exception",
            Self::ReturnedToSender { .. } => "returned_to_sender",
            Self::Cancelled { .. } => "cancelled",
            Self::GoodwillRefund { .. } => "goodwill_refund",
            Self::Disputed { .. } => "disputed",
            Self::AuthorizationEnded { .. } => "authorization_ended",
            Self::RefundFailed { .. } => "refund_failed",
            Self::Apologised { .. } => "apologised",
        }
    }

    /// The reason as a storefront may see it: fraud screening's reasons not at all (they would
    /// teach a fraudster what to change), a lost-or-stolen decline as a generic one.
    pub(crate) fn for_storefront(&self) -> Option<Self> {
        match self {
            // Between the shop, its provider and the bank: not the storefront's to show.
            Self::FraudReview { .. }
            | Self::FraudBlocked { .. }
            | Self::Disputed { .. }
            | Self::AuthorizationEnded { .. }
            | Self::RefundFailed { .. } => None,
            Self::PaymentDeclined { decline } => Some(Self::PaymentDeclined { decline: decline.for_payer() }),
            Self::OutOfStock { .. }
            | Self::PaymentMethodUnusable
            | Self::AuthorizedAmountMismatch { .. }
            | Self::ReviewApproved { .. }
            | Self::ReviewDenied { .. }
            | Self::DeliveryException { .. }
            | Self::ReturnedToSender { .. }
            | Self::Cancelled { .. }
            | Self::GoodwillRefund { .. }
            | Self::Apologised { .. } => Some(self.clone()),
        }
    }
}

/// The order head. `status`, `version` and `last_event` change only through [`Order::transition`],
/// so the state machine is the one writer of statuses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub storefront: StorefrontId,
    status: OrderStatus,
    version: u64,
    last_event: EventType,
    pub customer: Customer,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    pub shipping_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    pub shipping_option: ShippingOption,
    /// The option as quoted when the order was placed: its price and the delivery promised.
    pub shipping_quote: ShippingQuote,
    /// The parcels the warehouse has shipped, each tracked on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    pub payment: Payment,
    /// The return the customer asked for, once they have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_request: Option<ReturnRequest>,
    /// Why the order reached its current status, when that needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    /// The language the customer is written to in. `None` only for orders placed before orders
    /// carried one: their storefront's first locale applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The keyed hashes that find the order by its customer's e-mail address and phone number
    /// (see [`super::LookupKey`]); written with the order, never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_key: Option<String>,
    /// The agent calling the customer about the held order, while their claim lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_claim: Option<super::ReviewClaim>,
    /// Calls about the held order that did not reach the customer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_contacts: u8,
}

fn is_zero(count: &u8) -> bool {
    *count == 0
}

/// One step in the order's history, shown to the customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub version: u64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
    /// The carrier event this entry records; `at` is then when the carrier saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<TrackingEvent>,
    /// The parcel that left the warehouse, for the entry that records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel: Option<Shipment>,
    /// Who asked for the change, when someone did and its reason does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Requester>,
}

impl TimelineEntry {
    /// The operator who made this change, if one did.
    pub fn operator(&self) -> Option<&super::Acting> {
        if let Some(Requester::Operator(acting)) = &self.by {
            return Some(acting);
        }
        match self.reason.as_ref()? {
            StatusReason::ReviewApproved { decision }
            | StatusReason::ReviewDenied { decision }
            | StatusReason::GoodwillRefund { decision, .. }
            | StatusReason::Apologised { decision, .. } => Some(&decision.by),
            StatusReason::Cancelled { requested_by: Requester::Operator(acting), .. } => Some(acting),
            _ => None,
        }
    }
}

/// An order's head with its timeline, as a read returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: Order,
    pub timeline: Vec<TimelineEntry>,
}

/// The next version of the order head, ready for the repository to write if the order is still
/// at `expected_version`: a legal status move, or an update that keeps the status but publishes
/// its own event (a parcel shipped, a delay). Every write of a head is one; the stream publishes
/// each as one event. Building one is pure; losing the race to write it is a `Conflict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub order_id: OrderId,
    /// The order's storefront, which the store's per-storefront indexes are keyed by.
    pub storefront: StorefrontId,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub event_type: EventType,
    pub expected_version: u64,
    pub at: DateTime<Utc>,
    pub reason: Option<StatusReason>,
    /// The payment as it stands after the change, when the change alters it.
    pub payment: Option<Payment>,
    /// The parcels as they stand after the change, when the change alters them.
    pub shipments: Option<Vec<Shipment>>,
    /// The carrier event behind the change, and when the carrier saw it.
    pub tracking: Option<(TrackingEvent, DateTime<Utc>)>,
    /// The parcel whose shipment the change records.
    pub parcel: Option<Box<Shipment>>,
    /// New lines, money and delivery, when the change amends the order.
    pub amendment: Option<Box<Amendment>>,
    /// The return as it stands after the change, when the change alters it.
    pub return_request: Option<Box<ReturnRequest>>,
    /// Who asked for the change, when its reason does not say (an amendment).
    pub by: Option<Requester>,
}

impl Revision {
    pub fn because(mut self, reason: StatusReason) -> Self {
        self.reason = Some(reason);
        self
    }

    pub(crate) fn with_payment(mut self, payment: Payment) -> Self {
        self.payment = Some(payment);
        self
    }

    pub(crate) fn with_shipments(mut self, shipments: Vec<Shipment>) -> Self {
        self.shipments = Some(shipments);
        self
    }

    pub(crate) fn with_tracking(mut self, event: TrackingEvent, occurred_at: DateTime<Utc>) -> Self {
        self.tracking = Some((event, occurred_at));
        self
    }

    pub(crate) fn new_version(&self) -> u64 {
        self.expected_version + 1
    }

    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    pub(crate) fn timeline_entry(&self) -> TimelineEntry {
        TimelineEntry {
            at: self.tracking.as_ref().map_or(self.at, |(_, occurred_at)| *occurred_at),
            version: self.new_version(),
            event_type: self.event_type,
            status: self.to,
            reason: self.reason.clone(),
            tracking: self.tracking.as_ref().map(|(event, _)| event.clone()),
            parcel: self.parcel.as_deref().cloned(),
            by: self.by.clone(),
        }
    }
}

impl Order {
    /// A new order, PLACED at version 1.
    pub fn place(
        id: OrderId,
        storefront: StorefrontId,
        request: NewOrder,
        priced: PricedOrder,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            storefront,
            status: OrderStatus::Placed,
            version: 1,
            last_event: EventType::Reached(OrderStatus::Placed),
            customer: request.customer,
            currency: request.currency,
            lines: priced.lines,
            totals: priced.totals,
            shipping_address: request.shipping_address,
            billing_address: request.billing_address,
            shipping_option: request.shipping_option,
            shipping_quote: priced.quote,
            shipments: Vec::new(),
            payment: Payment::new(request.payment_method),
            return_request: None,
            status_reason: None,
            locale: request.locale,
            created_at: now,
            updated_at: now,
            customer_key: None,
            phone_key: None,
            review_claim: None,
            failed_contacts: 0,
        }
    }

    pub fn status(&self) -> OrderStatus {
        self.status
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn last_event(&self) -> EventType {
        self.last_event
    }

    /// The id of the event this version of the order publishes.
    pub fn event_id(&self) -> EventId {
        EventId { order_id: self.id.clone(), version: self.version }
    }

    /// The event this version of the order publishes: what it reached, with the order as it
    /// now stands.
    pub fn envelope(&self) -> Envelope<&Self> {
        Envelope {
            id: self.event_id(),
            event_type: self.last_event,
            order_id: self.id.clone(),
            version: self.version,
            occurred_at: self.updated_at,
            data: self,
        }
    }

    /// The first timeline entry of a new order.
    pub(crate) fn placed_entry(&self) -> TimelineEntry {
        TimelineEntry {
            at: self.created_at,
            version: 1,
            event_type: self.last_event,
            status: self.status,
            reason: None,
            tracking: None,
            parcel: None,
            by: None,
        }
    }

    /// Checks a move against the state machine and describes the write that makes it.
    pub fn transition(&self, to: OrderStatus, at: DateTime<Utc>) -> Result<Revision, IllegalTransition> {
        self.status.transition_to(to)?;
        Ok(self.change(to, EventType::Reached(to), at))
    }

    /// An update that keeps the status, and the reason for it, and publishes `event_type`.
    pub fn update(&self, event_type: EventType, at: DateTime<Utc>) -> Revision {
        let mut change = self.change(self.status, event_type, at);
        change.reason = self.status_reason.clone();
        change
    }

    fn change(&self, to: OrderStatus, event_type: EventType, at: DateTime<Utc>) -> Revision {
        Revision {
            order_id: self.id.clone(),
            storefront: self.storefront.clone(),
            from: self.status,
            to,
            event_type,
            expected_version: self.version,
            // A writer that lost a race and read the order again may hold an older clock
            // reading than the winner's: versions never go back in time.
            at: at.max(self.updated_at),
            reason: None,
            payment: None,
            shipments: None,
            tracking: None,
            parcel: None,
            amendment: None,
            return_request: None,
            by: None,
        }
    }

    /// The order as it stands once `change` is written.
    pub fn with_change(mut self, change: &Revision) -> Self {
        self.status = change.to;
        self.version = change.new_version();
        self.last_event = change.event_type();
        self.updated_at = change.at;
        self.status_reason = change.reason.clone();
        if let Some(payment) = &change.payment {
            self.payment = payment.clone();
        }
        if let Some(shipments) = &change.shipments {
            self.shipments = shipments.clone();
        }
        if let Some(amendment) = &change.amendment {
            self.lines = amendment.lines.clone();
            self.totals = amendment.totals;
            self.shipping_address = amendment.shipping_address.clone();
            self.shipping_option = amendment.shipping_option;
            self.shipping_quote = amendment.shipping_quote.clone();
        }
        if let Some(request) = &change.return_request {
            self.return_request = Some(request.as_ref().clone());
        }
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{EmailAddress, contact::CountryCode, ids::Quantity, ids::Sku, money::Money, text::Line};

    pub(crate) fn sample_order() -> Order {
        let eur = Currency::parse("EUR").unwrap();
        let text = |raw: &str| Line::parse(raw).unwrap();
        let address = Address {
            name: text("Ada Lovelace"),
            line1: text("12 Analytical Row"),
            line2: None,
            city: text("London"),
            region: None,
            postal_code: Some(text("N1 9GU")),
            country: CountryCode::parse("GB").unwrap(),
        };
        let request = NewOrder {
            customer: Customer {
                name: text("Ada Lovelace"),
                email: EmailAddress::parse("ada@example.com").unwrap(),
                phone: None,
                sms_opt_in: false,
            },
            currency: eur,
            lines: vec![RequestedLine { sku: Sku::parse("MUG").unwrap(), quantity: Quantity::try_from(2).unwrap() }],
            shipping_address: address,
            billing_address: None,
            shipping_option: ShippingOption::Standard,
            payment_method: PaymentMethodId::parse("pm_card_visa").unwrap(),
            locale: Some(Locale::parse("en-GB").unwrap()),
        };
        let lines = vec![OrderLine {
            sku: Sku::parse("MUG").unwrap(),
            name: text("Mug"),
            quantity: Quantity::try_from(2).unwrap(),
            unit_price: Money::new(1_250, eur),
            line_total: Money::new(2_500, eur),
        }];
        let totals = Totals {
            subtotal: Money::new(2_500, eur),
            shipping: Money::new(495, eur),
            tax: Money::zero(eur),
            total: Money::new(2_995, eur),
        };
        let id = OrderId::parse("ord_0123456789abcdefghjkmnpqrs").unwrap();
        let storefront = StorefrontId::parse("shop-1").unwrap();
        let quote = ShippingQuote {
            option: ShippingOption::Standard,
            price: Money::new(495, eur),
            zone: "europe".to_owned(),
            dispatch_date: "1970-01-01".parse().unwrap(),
            estimated_delivery: "1970-01-06".parse().unwrap(),
        };
        Order::place(
            id,
            storefront,
            request,
            PricedOrder { lines, totals, quote: quote.clone(), options: vec![quote] },
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_shipped_order_captures_what_it_costs_now_never_more_than_the_hold() {
        let order = sample_order();
        let total = order.totals.total;
        let hold = |minor_units: i64| Authorization {
            id: crate::domain::AuthorizationId::parse("pi_1").unwrap(),
            amount: Money::new(minor_units, total.currency()),
            authorized_at: None,
        };
        let mut payment = order.payment.clone();
        assert_eq!(payment.capture_due(total), Capture::NothingHeld);
        payment.authorization = Some(hold(total.minor_units() + 500));
        assert_eq!(
            payment.capture_due(total),
            Capture::Due { authorization: &hold(total.minor_units() + 500), amount: total }
        );
        payment.authorization = Some(hold(total.minor_units() - 1));
        let shrunk = payment.capture_due(total);
        assert_eq!(
            shrunk,
            Capture::Due {
                authorization: &hold(total.minor_units() - 1),
                amount: hold(total.minor_units() - 1).amount
            }
        );
        payment.captured = Some(total);
        assert_eq!(payment.capture_due(total), Capture::Done);
    }

    #[test]
    fn a_reason_s_kind_is_its_stored_tag() {
        let money = Money::new(100, Currency::parse("EUR").unwrap());
        let reasons = [
            StatusReason::OutOfStock { shortages: Vec::new() },
            StatusReason::PaymentMethodUnusable,
            StatusReason::AuthorizedAmountMismatch { expected: money, authorized: money },
            StatusReason::AuthorizationEnded { reason: "expired".to_owned() },
            StatusReason::RefundFailed { refund: RefundId::parse("re_1").unwrap(), amount: money },
            StatusReason::PaymentDeclined {
                decline: Decline { code: "generic_decline".to_owned(), message: String::new() },
            },
        ];
        for reason in reasons {
            assert_eq!(serde_json::to_value(&reason).unwrap()["kind"], reason.kind(), "{reason:?}");
        }
    }

    #[test]
    fn a_new_order_is_placed_at_version_one() {
        let order = sample_order();
        assert_eq!((order.status(), order.version()), (OrderStatus::Placed, 1));
        assert_eq!(order.last_event().name(), "order.placed");
        assert_eq!(order.event_id().to_string(), "ord_0123456789abcdefghjkmnpqrs:1");
        assert_eq!(order.placed_entry().status, OrderStatus::Placed);
    }

    #[test]
    fn a_legal_transition_bumps_the_version_and_names_the_event() {
        let order = sample_order();
        let later = DateTime::UNIX_EPOCH + chrono::Duration::seconds(5);
        let change = order.transition(OrderStatus::Reserved, later).unwrap();
        assert_eq!((change.expected_version, change.new_version()), (1, 2));
        let order = order.with_change(&change);
        assert_eq!((order.status(), order.version(), order.updated_at), (OrderStatus::Reserved, 2, later));
        assert_eq!(order.last_event().name(), "order.reserved");
        assert_eq!(change.timeline_entry().version, 2);
    }

    #[test]
    fn an_illegal_transition_describes_no_write() {
        let order = sample_order();
        let refused = order.transition(OrderStatus::Shipped, DateTime::UNIX_EPOCH).unwrap_err();
        assert_eq!((refused.from, refused.to), (OrderStatus::Placed, OrderStatus::Shipped));
    }

    #[test]
    fn an_order_round_trips_through_serde() {
        let order = sample_order();
        let json = serde_json::to_value(&order).unwrap();
        assert_eq!(json["status"], "PLACED");
        assert_eq!(json["last_event"], "order.placed");
        assert_eq!(serde_json::from_value::<Order>(json).unwrap(), order);
    }
}
