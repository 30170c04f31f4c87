//! Messages rendered from the templates in `shared/templates/`, compiled into the binary by
//! askama: every e-mail as HTML and plain text (one single-column layout, no remote images or
//! scripts), every text message as short GSM-7 copy.

use askama::Template;

use super::{
    Notice, NotificationPolicy, StorefrontProfile,
    format::{long_date, money, short_date},
    sms::SmsText,
};
use crate::domain::{Address, CatalogItem, Order, ParcelStatus, Remedy, Shipment, ShippingOption, StatusReason};

/// One e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What a notice renders to: always an e-mail; a text message for the texted ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub email: Email,
    pub sms: Option<SmsText>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {template} failed to render")]
pub struct RenderError {
    template: &'static str,
    #[source]
    source: askama::Error,
}

pub fn subject(notice: Notice, order: &Order) -> String {
    let id = &order.id;
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

fn headline(notice: Notice) -> &'static str {
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

struct LineView {
    name: String,
    quantity: u16,
    unit_price: String,
    total: String,
}

struct ParcelView {
    carrier: String,
    tracking_number: String,
    tracking_url: Option<String>,
    estimate: String,
    delivered: bool,
}

struct DelayView {
    carrier: String,
    tracking_number: String,
    description: Option<String>,
    promised: String,
    expected: Option<String>,
    expected_short: Option<String>,
    returned_to_sender: bool,
}

struct ShortageView {
    name: String,
    requested: u32,
    available: u32,
}

struct RecommendationView {
    name: String,
    price: String,
    url: String,
}

/// Everything a template may show, formatted.
struct View<'a> {
    notice: Notice,
    subject: String,
    headline: &'static str,
    shop: &'a StorefrontProfile,
    first_name: String,
    order_id: String,
    order_url: String,
    placed_on: String,
    lines: Vec<LineView>,
    subtotal: String,
    shipping: String,
    tax: String,
    total: String,
    address: Vec<String>,
    shipping_option: &'static str,
    estimated_delivery: String,
    estimated_delivery_short: String,
    parcels: Vec<ParcelView>,
    delay: Option<DelayView>,
    shortages: Vec<ShortageView>,
    decline: Option<String>,
    refunded: Option<String>,
    apology: Option<ApologyView>,
    return_request: Option<ReturnView>,
    recommendations: Vec<RecommendationView>,
    feedback_url: String,
}

#[derive(Template)]
#[template(path = "email.html")]
struct HtmlPart<'a> {
    v: &'a View<'a>,
}

#[derive(Template)]
#[template(path = "email.txt")]
struct TextPart<'a> {
    v: &'a View<'a>,
}

/// The texted notices' copy; `link` adds the tracking page where there is one.
#[derive(Template)]
#[template(path = "sms.txt")]
struct SmsPart<'a> {
    v: &'a View<'a>,
    link: bool,
}

/// The e-mail (and text message, for texted notices) of `notice` about `order`.
/// `recommendations` are shown only where the notice and the storefront allow them.
pub fn render(
    notice: Notice,
    order: &Order,
    policy: &NotificationPolicy,
    recommendations: &[CatalogItem],
) -> Result<Rendered, RenderError> {
    Ok(Rendered {
        email: render_email(notice, order, policy, recommendations)?,
        sms: render_sms(notice, order, policy)?,
    })
}

fn failed(template: &'static str) -> impl Fn(askama::Error) -> RenderError {
    move |source| RenderError { template, source }
}

/// The e-mail alone: HTML and plain text.
pub fn render_email(
    notice: Notice,
    order: &Order,
    policy: &NotificationPolicy,
    recommendations: &[CatalogItem],
) -> Result<Email, RenderError> {
    let view = View::new(notice, order, policy, recommendations);
    let html = HtmlPart { v: &view }.render().map_err(failed("email.html"))?;
    let text = TextPart { v: &view }.render().map_err(failed("email.txt"))?;
    Ok(Email { subject: view.subject, html, text })
}

/// The text message alone; `None` for notices that are not texted.
pub fn render_sms(notice: Notice, order: &Order, policy: &NotificationPolicy) -> Result<Option<SmsText>, RenderError> {
    if !notice.is_texted() {
        return Ok(None);
    }
    let view = View::new(notice, order, policy, &[]);
    let with_link = SmsPart { v: &view, link: true }.render().map_err(failed("sms.txt"))?;
    let without = SmsPart { v: &view, link: false }.render().map_err(failed("sms.txt"))?;
    Ok(SmsText::fit([with_link.trim().to_owned(), without.trim().to_owned()]))
}

impl<'a> View<'a> {
    fn new(notice: Notice, order: &Order, policy: &'a NotificationPolicy, recommendations: &[CatalogItem]) -> Self {
        let shop = policy.storefront(&order.storefront);
        let website = shop.website.trim_end_matches('/');
        let parcel = |shipment: &Shipment| ParcelView {
            carrier: shipment.carrier.to_string(),
            tracking_number: shipment.tracking_number.to_string(),
            tracking_url: policy.tracking_url(shipment.carrier.as_str(), shipment.tracking_number.as_str()),
            estimate: long_date(
                shipment.delay.as_ref().and_then(|delay| delay.expected).unwrap_or(shipment.estimated_delivery),
            ),
            delivered: shipment.status == ParcelStatus::Delivered,
        };
        let mut parcels: Vec<ParcelView> = order.shipments.iter().map(parcel).collect();
        // Out for delivery: the parcel that is, first, for the text message's link.
        if notice == Notice::OutForDelivery {
            if let Some(at) =
                order.shipments.iter().position(|shipment| shipment.status == ParcelStatus::OutForDelivery)
            {
                let out = parcels.remove(at);
                parcels.insert(0, out);
            }
        } else {
            parcels.reverse();
        }
        let show_recommendations = notice.may_recommend() && shop.recommendations;
        Self {
            notice,
            subject: subject(notice, order),
            headline: headline(notice),
            shop,
            first_name: order.customer.name.as_str().split_whitespace().next().unwrap_or_default().to_owned(),
            order_id: order.id.to_string(),
            order_url: format!("{website}/orders/{}", order.id),
            placed_on: long_date(order.created_at.date_naive()),
            lines: order
                .lines
                .iter()
                .map(|line| LineView {
                    name: line.name.to_string(),
                    quantity: line.quantity.get(),
                    unit_price: money(line.unit_price),
                    total: money(line.line_total),
                })
                .collect(),
            subtotal: money(order.totals.subtotal),
            shipping: money(order.totals.shipping),
            tax: money(order.totals.tax),
            total: money(order.totals.total),
            address: address_lines(&order.shipping_address),
            shipping_option: match order.shipping_option {
                ShippingOption::Standard => "Standard",
                ShippingOption::Express => "Express",
            },
            estimated_delivery: long_date(order.current_estimate()),
            estimated_delivery_short: short_date(order.current_estimate()),
            parcels,
            delay: delay(order),
            shortages: shortages(order),
            decline: match &order.status_reason {
                Some(StatusReason::PaymentDeclined { decline }) => Some(decline.for_payer().message),
                Some(StatusReason::PaymentMethodUnusable) => Some("The payment method could not be used.".to_owned()),
                _ => None,
            },
            refunded: refunded(order),
            apology: apology(order),
            return_request: order.return_request.as_ref().map(|request| ReturnView {
                rma: request.rma.to_string(),
                refund: money(request.refund),
                lines: request
                    .lines
                    .iter()
                    .map(|line| {
                        let name = order
                            .lines
                            .iter()
                            .find(|ordered| ordered.sku == line.sku)
                            .map(|ordered| ordered.name.to_string());
                        format!("{} x {}", line.quantity.get(), name.unwrap_or_else(|| line.sku.to_string()))
                    })
                    .collect(),
            }),
            recommendations: if show_recommendations {
                recommendations
                    .iter()
                    .map(|item| RecommendationView {
                        name: item.name.to_string(),
                        price: money(item.unit_price),
                        url: format!("{website}/products/{}", item.sku),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            feedback_url: format!("{website}/orders/{}/feedback", order.id),
        }
    }

    /// The parcel a text message is about.
    fn focus(&self) -> Option<&ParcelView> {
        self.parcels.first()
    }

    /// The focus parcel's tracking page, in the text message's longer version.
    fn sms_link(&self, link: &bool) -> Option<&str> {
        self.focus().filter(|_| *link).and_then(|parcel| parcel.tracking_url.as_deref())
    }

    fn delay_expected_short(&self) -> Option<&str> {
        self.delay.as_ref().and_then(|delay| delay.expected_short.as_deref())
    }
}

fn address_lines(address: &Address) -> Vec<String> {
    let mut lines = vec![address.name.to_string(), address.line1.to_string()];
    lines.extend(address.line2.as_ref().map(ToString::to_string));
    let place: Vec<String> = [address.postal_code.as_ref(), Some(&address.city), address.region.as_ref()]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
    lines.push(place.join(" "));
    lines.push(address.country.to_string());
    lines
}

fn delay(order: &Order) -> Option<DelayView> {
    let (shipment, delay) = super::latest_delay(order)?;
    let (description, returned_to_sender) = match &order.status_reason {
        Some(StatusReason::DeliveryException { tracking_number, description, .. })
            if *tracking_number == shipment.tracking_number =>
        {
            (description.clone(), false)
        }
        Some(StatusReason::ReturnedToSender { tracking_number }) if *tracking_number == shipment.tracking_number => {
            (None, true)
        }
        _ => (None, false),
    };
    Some(DelayView {
        carrier: shipment.carrier.to_string(),
        tracking_number: shipment.tracking_number.to_string(),
        description,
        promised: long_date(delay.promised),
        expected: delay.expected.map(long_date),
        expected_short: delay.expected.map(short_date),
        returned_to_sender,
    })
}

fn shortages(order: &Order) -> Vec<ShortageView> {
    let Some(StatusReason::OutOfStock { shortages }) = &order.status_reason else {
        return Vec::new();
    };
    shortages
        .iter()
        .map(|shortage| ShortageView {
            name: order
                .lines
                .iter()
                .find(|line| line.sku == shortage.sku)
                .map_or_else(|| shortage.sku.to_string(), |line| line.name.to_string()),
            requested: shortage.requested,
            available: shortage.available,
        })
        .collect()
}

/// An operator's apology as the customer reads it.
struct ApologyView {
    what_went_wrong: String,
    /// What was done, in a sentence.
    remedy: &'static str,
}

fn apology(order: &Order) -> Option<ApologyView> {
    let Some(StatusReason::Apologised { remedy, what_went_wrong, .. }) = &order.status_reason else { return None };
    let remedy = match remedy {
        Remedy::Refund => {
            "We have refunded you to your original payment method; it can take 5 to 10 business days to appear."
        }
        Remedy::Amendment => "We have corrected your order: the summary below is how it stands now.",
        Remedy::ExpeditedShipment => "We are sending it by express delivery, at no cost to you.",
        Remedy::Other => "We have put it right as described above.",
    };
    Some(ApologyView { what_went_wrong: what_went_wrong.clone(), remedy })
}

/// The refund this message announces: the latest.
fn refunded(order: &Order) -> Option<String> {
    order.payment.refunds.last().map(|refund| money(refund.amount))
}

/// A return as the customer needs it: the number for the parcel, what goes in it, what comes back.
struct ReturnView {
    rma: String,
    refund: String,
    lines: Vec<String>,
}
