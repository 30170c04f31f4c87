//! Amending an order before the warehouse has it: new lines, address or delivery, priced and
//! quoted anew. Stock and payment settle the difference in the same write (`crate::app::changes`).

use chrono::{DateTime, Utc};

use super::{
    contact::Address,
    event::EventType,
    order::{Order, Revision},
    pricing::{OrderLine, ShippingOption, Totals},
    shipping::ShippingQuote,
    status::OrderStatus,
};

/// The order's lines, money and delivery as an amendment leaves them, priced and quoted anew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    pub shipping_address: Address,
    pub shipping_option: ShippingOption,
    pub shipping_quote: ShippingQuote,
}

impl Amendment {
    /// True when the order would stay as it is.
    pub(crate) fn changes_nothing(&self, order: &Order) -> bool {
        self.lines == order.lines
            && self.totals == order.totals
            && self.shipping_address == order.shipping_address
            && self.shipping_option == order.shipping_option
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmendRefusal {
    /// The warehouse has the order, or it is over: too late to change it.
    #[error("the order is {0}; it can no longer be changed")]
    TooLate(OrderStatus),
    /// Stock and payment are being checked this very second; the answer is a moment away.
    #[error("the order is {0} and being checked; retry in a moment")]
    BeingChecked(OrderStatus),
}

impl Order {
    /// The change that amends the order before the warehouse has it. Stock and payment are the
    /// caller's to settle in the same write.
    pub fn amend(&self, amendment: Amendment, now: DateTime<Utc>) -> Result<Revision, AmendRefusal> {
        self.check_amendable()?;
        let mut change = self.update(EventType::Modified, now);
        change.amendment = Some(Box::new(amendment));
        Ok(change)
    }

    /// Whether the order may still be amended: held for review or authorised, not yet picked.
    pub(crate) fn check_amendable(&self) -> Result<(), AmendRefusal> {
        use OrderStatus::*;
        match self.status() {
            OnHold | PaymentAuthorized => Ok(()),
            status @ (Placed | Reserved) => Err(AmendRefusal::BeingChecked(status)),
            status @ (Rejected | PaymentFailed | Fulfilling | Shipped | InTransit | OutForDelivery
            | DeliveryException | Delivered | Cancelled | ReturnRequested | Returned | Refunded) => {
                Err(AmendRefusal::TooLate(status))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::returns::tests::{at, walked};

    #[test]
    fn only_a_held_or_authorised_order_is_amended() {
        use OrderStatus::*;
        let order = walked(&[Reserved, PaymentAuthorized]);
        let amendment = Amendment {
            lines: order.lines.clone(),
            totals: order.totals,
            shipping_address: order.shipping_address.clone(),
            shipping_option: ShippingOption::Express,
            shipping_quote: order.shipping_quote.clone(),
        };
        let change = order.amend(amendment.clone(), at(1)).unwrap();
        assert_eq!((change.to, change.event_type()), (PaymentAuthorized, EventType::Modified));
        assert_eq!(order.with_change(&change).shipping_option, ShippingOption::Express);
        assert!(walked(&[Reserved, OnHold]).amend(amendment.clone(), at(1)).is_ok());
        assert_eq!(walked(&[Reserved]).amend(amendment.clone(), at(1)), Err(AmendRefusal::BeingChecked(Reserved)));
        assert_eq!(
            walked(&[Reserved, PaymentAuthorized, Fulfilling]).amend(amendment, at(1)),
            Err(AmendRefusal::TooLate(Fulfilling))
        );
    }
}
