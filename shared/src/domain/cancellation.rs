//! Cancelling an order: any time before a parcel leaves, by its storefront or an operator. The
//! order remembers who asked and where it stood, so that the warehouse is told to stop only when
//! it may be picking.

use chrono::{DateTime, Utc};

use super::{
    desk::Acting,
    ids::StorefrontId,
    order::{Order, Revision, StatusReason},
    status::OrderStatus,
};

/// Who asked for a change: a storefront on its customer's behalf, or an operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Requester {
    Storefront { storefront: StorefrontId },
    Operator(Acting),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefusal {
    /// A parcel has left: the order can only be returned now.
    #[error("the order has shipped; request a return once it arrives")]
    AlreadyShipped,
    #[error("the order is already cancelled")]
    AlreadyCancelled,
    /// Rejected or failed: there is nothing left to cancel.
    #[error("the order is {0}; there is nothing to cancel")]
    NotCancellable(OrderStatus),
}

impl Order {
    /// The change that cancels the order, remembering who asked and where the order stood (so
    /// that `fulfillment` knows whether the warehouse may be picking it).
    pub fn cancel(
        &self,
        requested_by: Requester,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Revision, CancelRefusal> {
        use OrderStatus::*;
        let status = self.status();
        match status {
            Cancelled => return Err(CancelRefusal::AlreadyCancelled),
            Shipped | InTransit | OutForDelivery | DeliveryException | Delivered | ReturnRequested | Returned
            | Refunded => return Err(CancelRefusal::AlreadyShipped),
            // Some parcels have left already: what is on its way cannot be called back.
            Fulfilling if !self.shipments.is_empty() => return Err(CancelRefusal::AlreadyShipped),
            Placed | Reserved | Rejected | OnHold | PaymentAuthorized | PaymentFailed | Fulfilling => {}
        }
        let change = self.transition(Cancelled, now).map_err(|_| CancelRefusal::NotCancellable(status))?;
        Ok(change.because(StatusReason::Cancelled { requested_by, note, was: status }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::returns::tests::{at, delivered, walked};

    fn storefront() -> Requester {
        Requester::Storefront { storefront: StorefrontId::parse("shop-1").unwrap() }
    }

    #[test]
    fn an_order_is_cancelled_before_it_ships_and_remembers_where_it_stood() {
        use OrderStatus::*;
        for path in [
            &[][..],
            &[Reserved],
            &[Reserved, OnHold],
            &[Reserved, PaymentAuthorized],
            &[Reserved, PaymentAuthorized, Fulfilling],
        ] {
            let order = walked(path);
            let change = order.cancel(storefront(), Some("changed my mind".into()), at(1)).unwrap();
            assert_eq!(change.to, Cancelled);
            let Some(StatusReason::Cancelled { was, requested_by, .. }) = &change.reason else { panic!() };
            assert_eq!((*was, requested_by), (order.status(), &storefront()));
        }
        assert_eq!(walked(&[Cancelled]).cancel(storefront(), None, at(1)), Err(CancelRefusal::AlreadyCancelled));
        assert_eq!(walked(&[Rejected]).cancel(storefront(), None, at(1)), Err(CancelRefusal::NotCancellable(Rejected)));
        assert_eq!(delivered().cancel(storefront(), None, at(1)), Err(CancelRefusal::AlreadyShipped));
        let mut partly_shipped = walked(&[Reserved, PaymentAuthorized, Fulfilling]);
        partly_shipped.shipments = delivered().shipments;
        assert_eq!(partly_shipped.cancel(storefront(), None, at(1)), Err(CancelRefusal::AlreadyShipped));
    }
}
