//! Returns and refunds: the window after delivery, what a return refunds (`Order::refund_for`),
//! what came back, and how much is left to refund. Pure: `crate::app::changes` and
//! `crate::app::payments` read, call the provider and write.

use chrono::{DateTime, Duration, Utc};

use super::{
    event::EventType,
    ids::{OrderId, Quantity, Rma, Sku},
    money::Money,
    order::{OperatorDecision, Order, Revision, StatusReason},
    parcels::ParcelStatus,
    status::OrderStatus,
};

/// What a shop refunds for returned goods, and for how long after delivery it takes them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnPolicy {
    pub window_days: u16,
    #[serde(default)]
    pub refund_shipping: ShippingRefund,
}

/// Whether a return refunds what the customer paid for shipping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingRefund {
    /// Only when everything comes back.
    #[default]
    WholeOrder,
    Always,
    Never,
}

/// Units of one SKU the customer sends back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReturnLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// A return the customer asked for: what, why, and what it refunds once it is back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReturnRequest {
    /// The number the customer writes on the parcel and the warehouse reports back.
    pub rma: Rma,
    pub lines: Vec<ReturnLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// What the refund will be: the lines' value with their share of tax, and shipping if the
    /// policy says so. Set again from what the warehouse received.
    pub refund: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<ReturnReceipt>,
}

/// Units of one SKU the warehouse received back, and how many of them it can sell again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    pub sku: Sku,
    pub quantity: Quantity,
    #[serde(default)]
    pub resellable: u16,
}

/// The warehouse's report that a returned parcel arrived: a message on the shipments queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnReceipt {
    pub rma: Rma,
    pub order_id: super::ids::OrderId,
    pub lines: Vec<ReceivedLine>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefusal {
    #[error("the order is {0}; only delivered orders can be returned")]
    NotDelivered(OrderStatus),
    #[error("a return is already requested for this order")]
    AlreadyRequested,
    #[error("returns closed on {deadline}")]
    WindowClosed { deadline: DateTime<Utc> },
    #[error("line {line}: this SKU is not on the order")]
    UnknownLine { line: usize },
    #[error("line {line}: more units than were ordered")]
    MoreThanOrdered { line: usize },
    #[error("line {line}: this SKU is already on another line")]
    DuplicateLine { line: usize },
    #[error("a return needs at least one line")]
    NoLines,
}

impl ReturnRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotDelivered(_) => "not_delivered",
            Self::AlreadyRequested => "return_already_requested",
            Self::WindowClosed { .. } => "return_window_closed",
            Self::UnknownLine { .. } => "unknown_line",
            Self::MoreThanOrdered { .. } => "more_than_ordered",
            Self::DuplicateLine { .. } => "duplicate_sku",
            Self::NoLines => "no_lines",
        }
    }
}

/// A returned parcel's arrival: the order's change, and the units to put back on sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedReturn {
    pub change: Revision,
    pub restock: Vec<(Sku, u32)>,
}

/// A receipt that can never be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRejection {
    #[error("order {order} awaits no return {rma}")]
    UnknownReturn { order: OrderId, rma: Rma },
    #[error("the receipt lists {sku}, which the return does not")]
    UnexpectedLine { sku: Sku },
    #[error("the receipt lists {sku} on more than one line")]
    DuplicateLine { sku: Sku },
}

impl ReceiptRejection {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownReturn { .. } => "unknown_return",
            Self::UnexpectedLine { .. } => "unexpected_line",
            Self::DuplicateLine { .. } => "duplicate_line",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefusal {
    #[error("nothing has been captured yet; cancel the order instead")]
    NothingCaptured,
    #[error("at most {0} is left to refund")]
    MoreThanLeft(Money),
    #[error("a refund must be more than zero, in the order's currency")]
    InvalidAmount,
}

impl Order {
    /// When the last parcel arrived, if all have.
    pub fn delivered_at(&self) -> Option<DateTime<Utc>> {
        let delivered = self.shipments.iter().all(|parcel| parcel.status == ParcelStatus::Delivered);
        if !delivered || self.shipments.is_empty() {
            return None;
        }
        self.shipments.iter().filter_map(|parcel| parcel.status_at).max()
    }

    /// The change that opens a return of these lines, within the policy's window.
    pub fn request_return(
        &self,
        lines: Vec<ReturnLine>,
        reason: Option<String>,
        policy: &ReturnPolicy,
        now: DateTime<Utc>,
    ) -> Result<Revision, ReturnRefusal> {
        use OrderStatus::*;
        match self.status() {
            Delivered => {}
            ReturnRequested | Returned | Refunded => return Err(ReturnRefusal::AlreadyRequested),
            status @ (Placed | Reserved | Rejected | OnHold | PaymentAuthorized | PaymentFailed | Fulfilling
            | Shipped | InTransit | OutForDelivery | DeliveryException | Cancelled) => {
                return Err(ReturnRefusal::NotDelivered(status));
            }
        }
        let delivered_at = self.delivered_at().unwrap_or(self.updated_at);
        let deadline = delivered_at + Duration::days(i64::from(policy.window_days));
        if now > deadline {
            return Err(ReturnRefusal::WindowClosed { deadline });
        }
        if lines.is_empty() {
            return Err(ReturnRefusal::NoLines);
        }
        for (index, line) in lines.iter().enumerate() {
            if lines[..index].iter().any(|earlier| earlier.sku == line.sku) {
                return Err(ReturnRefusal::DuplicateLine { line: index });
            }
            let ordered = self.ordered_units(&line.sku);
            if ordered == 0 {
                return Err(ReturnRefusal::UnknownLine { line: index });
            }
            if u32::from(line.quantity.get()) > ordered {
                return Err(ReturnRefusal::MoreThanOrdered { line: index });
            }
        }
        let units: Vec<(Sku, u32)> =
            lines.iter().map(|line| (line.sku.clone(), u32::from(line.quantity.get()))).collect();
        let request = ReturnRequest {
            rma: Rma::for_order(&self.id),
            refund: self.refund_for(&units, policy),
            lines,
            reason,
            requested_at: now,
            received: None,
        };
        let mut change =
            self.transition(OrderStatus::ReturnRequested, now).map_err(|_| ReturnRefusal::AlreadyRequested)?;
        change.return_request = Some(Box::new(request));
        Ok(change)
    }

    /// The change that records the returned parcel's arrival, and the units to put back on
    /// sale; `None` if it is recorded already.
    pub fn receive_return(
        &self,
        receipt: &ReturnReceipt,
        policy: &ReturnPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<ReceivedReturn>, ReceiptRejection> {
        let unknown = || ReceiptRejection::UnknownReturn { order: self.id.clone(), rma: receipt.rma.clone() };
        let request = self.return_request.as_ref().filter(|request| request.rma == receipt.rma).ok_or_else(unknown)?;
        use OrderStatus::*;
        match self.status() {
            ReturnRequested => {}
            Returned | Refunded => return Ok(None),
            Placed | Reserved | Rejected | OnHold | PaymentAuthorized | PaymentFailed | Fulfilling | Shipped
            | InTransit | OutForDelivery | DeliveryException | Delivered | Cancelled => return Err(unknown()),
        }
        let mut units = Vec::new();
        let mut resellable = Vec::new();
        for (index, line) in receipt.lines.iter().enumerate() {
            let Some(asked) = request.lines.iter().find(|asked| asked.sku == line.sku) else {
                return Err(ReceiptRejection::UnexpectedLine { sku: line.sku.clone() });
            };
            // Each line counts up to what was asked: the same SKU twice would count it twice.
            if receipt.lines[..index].iter().any(|earlier| earlier.sku == line.sku) {
                return Err(ReceiptRejection::DuplicateLine { sku: line.sku.clone() });
            }
            // More than was asked back is the warehouse's to sort out; it is refunded as asked.
            let received = line.quantity.get().min(asked.quantity.get());
            units.push((line.sku.clone(), u32::from(received)));
            let sellable = line.resellable.min(received);
            if sellable > 0 {
                resellable.push((line.sku.clone(), u32::from(sellable)));
            }
        }
        let mut received = request.clone();
        received.refund = self.refund_for(&units, policy);
        received.received = Some(receipt.clone());
        let mut change = self.transition(OrderStatus::Returned, now.max(receipt.received_at)).map_err(|_| unknown())?;
        change.return_request = Some(Box::new(received));
        Ok(Some(ReceivedReturn { change, restock: resellable }))
    }

    /// The change that records an operator's goodwill refund, once the provider made it.
    pub fn goodwill_refund(&self, refund: super::Refund, decision: OperatorDecision, now: DateTime<Utc>) -> Revision {
        let mut payment = self.payment.clone();
        let amount = refund.amount;
        payment.refunds.push(refund);
        self.update(EventType::RefundIssued, now)
            .because(StatusReason::GoodwillRefund { decision, amount })
            .with_payment(payment)
    }

    /// What may still be refunded: captured and not refunded yet.
    pub fn refundable(&self) -> Result<Money, RefundRefusal> {
        let captured = self.payment.captured.ok_or(RefundRefusal::NothingCaptured)?;
        // In i128, which no sum of i64 amounts overflows; what is left is at most the capture.
        let refunded = self.payment.returned();
        let left = (i128::from(captured.minor_units()) - refunded).clamp(0, i128::from(captured.minor_units()));
        Ok(Money::new(i64::try_from(left).unwrap_or(0), captured.currency()))
    }

    /// What a received return refunds now: what the goods that came back are worth, never more
    /// than is left of the capture.
    pub(crate) fn return_refund_due(&self) -> Result<Money, RefundRefusal> {
        let left = self.refundable()?;
        let worth = self.return_request.as_ref().map_or(left, |request| request.refund);
        Ok(if worth.minor_units() < left.minor_units() { worth } else { left })
    }

    /// Checks an operator's refund of `amount` against what is left.
    pub(crate) fn check_refund(&self, amount: Money) -> Result<Money, RefundRefusal> {
        let left = self.refundable()?;
        if amount.currency() != left.currency() || amount.minor_units() <= 0 {
            return Err(RefundRefusal::InvalidAmount);
        }
        if amount.minor_units() > left.minor_units() {
            return Err(RefundRefusal::MoreThanLeft(left));
        }
        Ok(amount)
    }

    fn ordered_units(&self, sku: &Sku) -> u32 {
        self.lines.iter().filter(|line| &line.sku == sku).map(|line| u32::from(line.quantity.get())).sum()
    }

    /// The refund for these units: their value, shipping if the policy refunds it, and the
    /// tax on both at the rate the order was charged. A whole return refunds the whole total.
    pub fn refund_for(&self, units: &[(Sku, u32)], policy: &ReturnPolicy) -> Money {
        let currency = self.totals.total.currency();
        // In i128, which these products and sums cannot overflow; the result is capped by the
        // order's total, an i64.
        let value: i128 = units
            .iter()
            .map(|(sku, quantity)| {
                let unit =
                    self.lines.iter().find(|line| &line.sku == sku).map_or(0, |line| line.unit_price.minor_units());
                i128::from(unit) * i128::from(*quantity)
            })
            .sum();
        let whole = self.lines.iter().all(|line| {
            units.iter().any(|(sku, quantity)| sku == &line.sku && *quantity >= u32::from(line.quantity.get()))
        });
        let shipping = match policy.refund_shipping {
            ShippingRefund::Always => i128::from(self.totals.shipping.minor_units()),
            ShippingRefund::WholeOrder if whole => i128::from(self.totals.shipping.minor_units()),
            ShippingRefund::WholeOrder | ShippingRefund::Never => 0,
        };
        let base = value + shipping;
        let taxed_base =
            i128::from(self.totals.subtotal.minor_units()) + i128::from(self.totals.shipping.minor_units());
        // Rounded half up, as the tax was.
        let tax = match taxed_base {
            0 => 0,
            _ => (2 * i128::from(self.totals.tax.minor_units()) * base + taxed_base) / (2 * taxed_base),
        };
        let total = self.totals.total.minor_units();
        Money::new(i64::try_from((base + tax).min(i128::from(total))).unwrap_or(total), currency)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{
        Authorization, CarrierName, Currency, Line, OrderLine, Refund, Shipment, ShipmentId, Totals, TrackingNumber,
        tests::sample_order,
    };

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    pub(crate) fn at(day: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(day)
    }

    /// The sample order moved through `statuses`.
    pub(crate) fn walked(statuses: &[OrderStatus]) -> Order {
        let mut order = sample_order();
        for status in statuses {
            let change = order.transition(*status, DateTime::UNIX_EPOCH).unwrap();
            order = order.with_change(&change);
        }
        order
    }

    /// Two mugs and a tee (10.00 + 5.00 shipping + 19 % tax), delivered on day 1.
    pub(crate) fn delivered() -> Order {
        use OrderStatus::*;
        let mut order = walked(&[Reserved, PaymentAuthorized, Fulfilling]);
        let line = |sku: &str, quantity: u16, unit: i64| OrderLine {
            sku: Sku::parse(sku).unwrap(),
            name: Line::parse(sku).unwrap(),
            quantity: Quantity::try_from(u64::from(quantity)).unwrap(),
            unit_price: eur(unit),
            line_total: eur(unit * i64::from(quantity)),
        };
        order.lines = vec![line("MUG", 2, 1_250), line("TEE", 1, 1_000)];
        order.totals = Totals { subtotal: eur(3_500), shipping: eur(500), tax: eur(760), total: eur(4_760) };
        order.payment.authorization =
            Some(Authorization { id: "pi_1".parse().unwrap(), amount: eur(4_760), authorized_at: None });
        order.payment.captured = Some(eur(4_760));
        order.shipments = vec![Shipment {
            id: ShipmentId::parse("S1").unwrap(),
            carrier: CarrierName::parse("DHL").unwrap(),
            tracking_number: TrackingNumber::parse("JD0001").unwrap(),
            lines: Vec::new(),
            shipped_at: at(0),
            status: ParcelStatus::Delivered,
            status_at: Some(at(1)),
            estimated_delivery: at(1).date_naive(),
            delay: None,
        }];
        for status in [Shipped, Delivered] {
            let change = order.transition(status, at(1)).unwrap();
            order = order.with_change(&change);
        }
        order
    }

    fn policy(refund_shipping: ShippingRefund) -> ReturnPolicy {
        ReturnPolicy { window_days: 30, refund_shipping }
    }

    fn returning(sku: &str, quantity: u16) -> ReturnLine {
        ReturnLine { sku: Sku::parse(sku).unwrap(), quantity: Quantity::try_from(u64::from(quantity)).unwrap() }
    }

    #[test]
    fn a_return_refunds_its_lines_with_their_tax_and_shipping_only_as_the_policy_says() {
        let order = delivered();
        let mug = [(Sku::parse("MUG").unwrap(), 1)];
        // 12.50 and 19 % of it.
        assert_eq!(order.refund_for(&mug, &policy(ShippingRefund::WholeOrder)), eur(1_488));
        // 12.50 + 5.00 and 19 % of both.
        assert_eq!(order.refund_for(&mug, &policy(ShippingRefund::Always)), eur(2_083));
        let everything = [(Sku::parse("MUG").unwrap(), 2), (Sku::parse("TEE").unwrap(), 1)];
        assert_eq!(order.refund_for(&everything, &policy(ShippingRefund::WholeOrder)), eur(4_760));
        assert_eq!(order.refund_for(&everything, &policy(ShippingRefund::Never)), eur(4_165));
    }

    #[test]
    fn a_return_is_requested_within_the_window_for_lines_of_the_order() {
        let order = delivered();
        let policy = policy(ShippingRefund::WholeOrder);
        let change = order.request_return(vec![returning("MUG", 1)], Some("too big".into()), &policy, at(31)).unwrap();
        assert_eq!(change.to, OrderStatus::ReturnRequested);
        let request = change.return_request.clone().unwrap();
        assert_eq!((request.refund, request.rma.as_str().len()), (eur(1_488), 14));
        let refused = |lines: Vec<ReturnLine>, now| order.request_return(lines, None, &policy, now).unwrap_err();
        assert!(matches!(
            refused(vec![returning("MUG", 1)], at(31) + Duration::seconds(1)),
            ReturnRefusal::WindowClosed { .. }
        ));
        assert_eq!(refused(vec![returning("CAP", 1)], at(2)), ReturnRefusal::UnknownLine { line: 0 });
        assert_eq!(refused(vec![returning("MUG", 3)], at(2)), ReturnRefusal::MoreThanOrdered { line: 0 });
        assert_eq!(
            refused(vec![returning("MUG", 1), returning("MUG", 1)], at(2)),
            ReturnRefusal::DuplicateLine { line: 1 }
        );
        let requested = order.with_change(&change);
        assert_eq!(refused_again(&requested, &policy), ReturnRefusal::AlreadyRequested);
        assert_eq!(
            walked(&[OrderStatus::Reserved]).request_return(vec![returning("MUG", 1)], None, &policy, at(1)),
            Err(ReturnRefusal::NotDelivered(OrderStatus::Reserved))
        );
    }

    fn refused_again(order: &Order, policy: &ReturnPolicy) -> ReturnRefusal {
        order.request_return(vec![returning("MUG", 1)], None, policy, at(2)).unwrap_err()
    }

    #[test]
    fn a_receipt_refunds_what_came_back_restocks_what_sells_and_counts_once() {
        let policy = policy(ShippingRefund::WholeOrder);
        let order = delivered();
        let change = order.request_return(vec![returning("MUG", 2)], None, &policy, at(2)).unwrap();
        let order = order.with_change(&change);
        let receipt = |quantity: u16, resellable: u16, rma: &Rma| ReturnReceipt {
            rma: rma.clone(),
            order_id: order.id.clone(),
            lines: vec![ReceivedLine {
                sku: Sku::parse("MUG").unwrap(),
                quantity: Quantity::try_from(u64::from(quantity)).unwrap(),
                resellable,
            }],
            received_at: at(5),
        };
        let rma = order.return_request.as_ref().unwrap().rma.clone();
        let ReceivedReturn { change, restock } =
            order.receive_return(&receipt(1, 1, &rma), &policy, at(5)).unwrap().unwrap();
        assert_eq!(change.to, OrderStatus::Returned);
        assert_eq!(change.return_request.as_ref().unwrap().refund, eur(1_488), "one mug came back");
        assert_eq!(restock, [(Sku::parse("MUG").unwrap(), 1)]);
        let returned = order.clone().with_change(&change);
        assert_eq!(returned.receive_return(&receipt(1, 1, &rma), &policy, at(6)), Ok(None));
        assert!(matches!(
            order.receive_return(&receipt(1, 0, &Rma::parse("RMA-OTHER").unwrap()), &policy, at(5)),
            Err(ReceiptRejection::UnknownReturn { .. })
        ));
        let ReceivedReturn { restock, .. } =
            order.receive_return(&receipt(2, 0, &rma), &policy, at(5)).unwrap().unwrap();
        assert!(restock.is_empty(), "damaged units are not put back on sale");
        // One mug on two lines would count as two: the receipt is refused.
        let mut twice = receipt(1, 1, &rma);
        twice.lines.push(twice.lines[0].clone());
        assert_eq!(
            order.receive_return(&twice, &policy, at(5)).unwrap_err().code(),
            ReceiptRejection::DuplicateLine { sku: Sku::parse("MUG").unwrap() }.code()
        );
    }

    #[test]
    fn goodwill_is_refunded_only_from_what_was_captured_and_not_refunded() {
        let order = delivered();
        assert_eq!(order.check_refund(eur(1_000)), Ok(eur(1_000)));
        assert_eq!(order.check_refund(eur(0)), Err(RefundRefusal::InvalidAmount));
        let change = order.goodwill_refund(
            Refund { id: "re_1".parse().unwrap(), amount: eur(4_000), failed: None },
            OperatorDecision { by: crate::domain::tests::acting(), note: None },
            at(2),
        );
        assert_eq!((change.to, change.event_type()), (OrderStatus::Delivered, EventType::RefundIssued));
        let order = order.with_change(&change);
        assert_eq!(order.check_refund(eur(1_000)), Err(RefundRefusal::MoreThanLeft(eur(760))));
        assert_eq!(walked(&[OrderStatus::Reserved]).check_refund(eur(1)), Err(RefundRefusal::NothingCaptured));
    }

    #[test]
    fn a_return_refunds_what_came_back_but_never_more_than_is_left() {
        let policy = policy(ShippingRefund::WholeOrder);
        let order = delivered();
        let change = order.request_return(vec![returning("MUG", 1)], None, &policy, at(2)).unwrap();
        let returning_one_mug = order.with_change(&change);
        assert_eq!(returning_one_mug.return_refund_due(), Ok(eur(1_488)));
        let goodwill = returning_one_mug.goodwill_refund(
            Refund { id: "re_1".parse().unwrap(), amount: eur(4_000), failed: None },
            OperatorDecision { by: crate::domain::tests::acting(), note: None },
            at(3),
        );
        let after_goodwill = returning_one_mug.with_change(&goodwill);
        assert_eq!(after_goodwill.return_refund_due(), Ok(eur(760)), "only what is left of the capture");
        assert_eq!(walked(&[OrderStatus::Reserved]).return_refund_due(), Err(RefundRefusal::NothingCaptured));
    }
}
