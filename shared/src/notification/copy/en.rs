//! English: the shop's voice as it was first written.

use chrono::NaiveDate;

use super::{NumberStyle, Phrasebook, digits, link, para, strong, symbol};
use crate::domain::{DeclineKind, Money, Remedy};
use crate::notification::{
    Notice, Texted,
    view::{Block, Frame, Labels, View},
};

pub(super) struct English;

const LABELS: Labels = Labels {
    greeting: Frame("Hi ", ","),
    order_heading: Frame("Order ", ""),
    placed: Frame("Placed ", ""),
    each: Frame("", " each"),
    tracking_number: Frame(", tracking number ", ""),
    arriving: Frame("Arriving ", ""),
    write_to: "Questions? Reply to this e-mail or write to ",
    or_call: Frame(", or call ", "."),
    parcels: "Parcels",
    delivered: "Delivered",
    track_this_parcel: "Track this parcel",
    subtotal: "Subtotal",
    shipping: "Shipping",
    tax: "Tax",
    total: "Total",
    delivery: "Delivery",
    standard: "Standard",
    express: "Express",
    you_may_also_like: "You may also like",
    see_your_order: "See your order",
    rate_your_order: "Rate your order",
    colon: ": ",
    payment_method_unusable: "The payment method could not be used.",
};

impl Phrasebook for English {
    fn labels(&self) -> &'static Labels {
        &LABELS
    }

    fn long_date(&self, day: NaiveDate, region: Option<&str>) -> String {
        match region {
            Some("US") => day.format("%A, %B %-d, %Y").to_string(),
            _ => day.format("%A %-d %B %Y").to_string(),
        }
    }

    fn short_date(&self, day: NaiveDate, region: Option<&str>) -> String {
        match region {
            Some("US") => day.format("%a, %b %-d").to_string(),
            _ => day.format("%a %-d %b").to_string(),
        }
    }

    /// `€1,234.50`, `-£3.99`, `12.50 CHF`.
    fn money(&self, amount: Money) -> String {
        let (sign, number) = digits(amount, &NumberStyle { group: ',', decimal: '.' });
        match symbol(amount) {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {}", amount.currency()),
        }
    }

    fn decline(&self, kind: DeclineKind) -> &'static str {
        match kind {
            DeclineKind::InsufficientFunds => "your card has insufficient funds.",
            DeclineKind::Expired => "your card has expired.",
            DeclineKind::SecurityCode => "your card's security code is incorrect.",
            DeclineKind::CardNumber => "your card number is incorrect.",
            DeclineKind::Limit => "your card has reached its limit. Please try another card.",
            DeclineKind::Declined => "your card was declined.",
        }
    }

    fn remedy(&self, remedy: Remedy) -> &'static str {
        match remedy {
            Remedy::Refund => {
                "We have refunded you to your original payment method; it can take 5 to 10 business days to appear."
            }
            Remedy::Amendment => "We have corrected your order: the summary below is how it stands now.",
            Remedy::ExpeditedShipment => "We are sending it by express delivery, at no cost to you.",
            Remedy::Other => "We have put it right as described above.",
        }
    }

    fn subject(&self, notice: Notice, id: &str) -> String {
        match notice {
            Notice::Received => format!("We've received your order {id}"),
            Notice::Confirmed => format!("Order {id} is confirmed"),
            Notice::Rejected => format!("We couldn't take order {id}"),
            Notice::PaymentFailed => format!("Payment failed for order {id}"),
            Notice::Shipped => format!("Order {id} has shipped"),
            Notice::OutForDelivery => format!("Order {id} is out for delivery"),
            Notice::Delivered => format!("Order {id} has been delivered"),
            Notice::Delayed => format!("Order {id} is delayed"),
            Notice::Cancelled => format!("Order {id} is cancelled"),
            Notice::Modified => format!("Order {id} has been updated"),
            Notice::ReturnAccepted => format!("Your return for order {id} is accepted"),
            Notice::Refunded => format!("Refund issued for order {id}"),
            Notice::FeedbackRequest => format!("How was order {id}?"),
            Notice::Apology => format!("We're sorry about order {id}"),
        }
    }

    fn headline(&self, notice: Notice) -> &'static str {
        match notice {
            Notice::Received => "We've got your order",
            Notice::Confirmed => "Your order is confirmed",
            Notice::Rejected => "We couldn't take your order",
            Notice::PaymentFailed => "Your payment didn't go through",
            Notice::Shipped => "Your order is on its way",
            Notice::OutForDelivery => "Arriving today",
            Notice::Delivered => "Delivered",
            Notice::Delayed => "Your delivery is delayed",
            Notice::Cancelled => "Your order is cancelled",
            Notice::Modified => "Your order has been updated",
            Notice::ReturnAccepted => "Your return is accepted",
            Notice::Refunded => "Your refund is on its way",
            Notice::FeedbackRequest => "How did we do?",
            Notice::Apology => "We're sorry",
        }
    }

    fn body(&self, notice: Notice, v: &View) -> Vec<Block> {
        let id = v.order_id.as_str();
        let site = v.shop.website.as_str();
        match notice {
            Notice::Received => vec![para![
                "Thank you for your order! We have received order ",
                strong(id),
                " and are checking stock and payment now. We'll write again as soon as it is confirmed, usually \
                 within minutes. There is nothing you need to do."
            ]],
            Notice::Confirmed => vec![
                para![
                    "Good news: everything is in stock and your payment is authorised. Order ",
                    strong(id),
                    " is on its way to our warehouse. Estimated delivery: ",
                    strong(&v.estimated_delivery),
                    format!(" ({}).", v.shipping_option)
                ],
                para![
                    strong("Next:"),
                    " we'll send you the tracking details as soon as it ships. Your card is charged only when the \
                     order leaves our warehouse."
                ],
            ],
            Notice::Rejected => vec![
                para![
                    "We're sorry: we couldn't reserve everything in order ",
                    strong(id),
                    ", so we could not take it."
                ],
                Block::List(
                    v.shortages
                        .iter()
                        .map(|s| format!("{}: you asked for {}, we have {} left", s.name, s.requested, s.available))
                        .collect(),
                ),
                para!["Nothing has been charged. You're welcome to order what is in stock at ", link(site), "."],
            ],
            Notice::PaymentFailed => vec![
                para![
                    "Your payment for order ",
                    strong(id),
                    v.decline
                        .map_or_else(|| " didn't go through.".to_owned(), |why| format!(" didn't go through: {why}"))
                ],
                para![
                    "Nothing has been charged and the items are no longer reserved. Please order again with another \
                     payment method at ",
                    link(site),
                    ", or contact us if you think this is a mistake."
                ],
            ],
            Notice::Shipped => vec![para!["Order ", strong(id), " has left our warehouse."]],
            Notice::OutForDelivery => {
                vec![para!["A parcel of order ", strong(id), " is out for delivery and should reach you today."]]
            }
            Notice::Delivered => vec![para![
                "Order ",
                strong(id),
                " has been delivered. We hope you enjoy it! If anything is missing or damaged, reply to this e-mail \
                 and we'll put it right."
            ]],
            Notice::Delayed => match &v.delay {
                Some(delay) if delay.returned_to_sender => vec![para![
                    format!("{} is returning parcel {} of order ", delay.carrier, delay.tracking_number),
                    strong(id),
                    " to us. We'll contact you about sending it again or refunding it; there is nothing you need to do."
                ]],
                Some(delay) => vec![
                    para![
                        format!("Parcel {} of order ", delay.tracking_number),
                        strong(id),
                        " is running late",
                        delay
                            .description
                            .as_ref()
                            .map_or_else(String::new, |said| format!(" ({} reports: {said})", delay.carrier)),
                        format!(". We promised it for {}; ", delay.promised),
                        match &delay.expected {
                            Some(expected) => format!("{} now expects to deliver on {expected}.", delay.carrier),
                            None => format!("{} hasn't given a new date yet.", delay.carrier),
                        }
                    ],
                    para![
                        strong("What to do:"),
                        " if the carrier left a card, follow its instructions; otherwise nothing - it will try again. \
                         You can follow the parcel on the tracking page below."
                    ],
                ],
                None => vec![para!["Order ", strong(id), " is running late. We'll keep you posted."]],
            },
            Notice::Cancelled => vec![para![
                "Order ",
                strong(id),
                " has been cancelled. Any hold on your card is released; if you were charged, the refund follows \
                 automatically."
            ]],
            Notice::Modified => {
                vec![para!["We've updated order ", strong(id), " as you asked. Here is the new summary."]]
            }
            Notice::ReturnAccepted => match &v.return_request {
                Some(r) => vec![
                    para![
                        "We've accepted your return for order ",
                        strong(id),
                        ". Your return number is ",
                        strong(&r.rma),
                        ": please write it on the parcel."
                    ],
                    para!["Returning:"],
                    Block::List(r.lines.clone()),
                    para![
                        "Pack the items securely and send them back; once they reach us we'll refund ",
                        strong(&r.refund),
                        " to your original payment method."
                    ],
                ],
                None => vec![para![
                    "We've accepted your return for order ",
                    strong(id),
                    ". Please pack the items securely and send them back; we'll refund you as soon as they reach us."
                ]],
            },
            Notice::Refunded => vec![para![
                "We've refunded ",
                strong(v.refunded.as_deref().unwrap_or("your payment")),
                " for order ",
                strong(id),
                " to your original payment method. It can take 5 to 10 business days to appear on your statement."
            ]],
            Notice::FeedbackRequest => vec![
                para![
                    "Your order ",
                    strong(id),
                    " arrived a few days ago. Would you tell us how it went? It takes a minute."
                ],
                Block::Button { label: LABELS.rate_your_order, url: v.feedback_url.clone() },
            ],
            Notice::Apology => {
                let mut blocks = vec![para!["Something went wrong with order ", strong(id), ", and we're sorry."]];
                if let Some(apology) = &v.apology {
                    blocks.push(para![strong("What happened:"), format!(" {}", apology.what_went_wrong)]);
                    blocks.push(para![strong("What we've done:"), format!(" {}", apology.remedy)]);
                }
                blocks.push(para!["If anything is still not right, reply to this e-mail and we'll sort it out."]);
                blocks
            }
        }
    }

    fn sms(&self, texted: Texted, v: &View, link: Option<&str>) -> String {
        let (shop, id) = (&v.shop.name, &v.order_id);
        let carrier = v.focus().map_or_else(String::new, |parcel| format!(" with {}", parcel.carrier));
        let track = link.map_or_else(|| ".".to_owned(), |url| format!(". Track: {url}"));
        match texted {
            Texted::Confirmed => {
                format!("{shop}: order {id} is confirmed. Estimated delivery {}.", v.estimated_delivery_short)
            }
            Texted::Shipped => format!("{shop}: order {id} has shipped{carrier}{track}"),
            Texted::OutForDelivery => format!("{shop}: order {id} is out for delivery today{carrier}{track}"),
            Texted::Delivered => format!("{shop}: order {id} has been delivered. Enjoy!"),
            Texted::Delayed => {
                let estimate =
                    v.delay_expected_short().map_or_else(String::new, |day| format!(" New estimate: {day}."));
                format!("{shop}: order {id} is delayed.{estimate} Details by e-mail.")
            }
        }
    }
}
