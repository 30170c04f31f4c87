//! What a message shows about an order, composed in the customer's language: the order's facts
//! formatted by its phrasebook into the [`View`] the templates lay out.

use super::{
    Notice,
    copy::{Phrasebook, country_name, questions, words},
    view::{ApologyView, DelayView, LineView, ParcelView, RecommendationView, ReturnView, ShortageView, View},
};
use crate::{
    domain::{Address, CatalogItem, Language, Locale, Order, ParcelStatus, Shipment, ShippingOption, StatusReason},
    storefront::{NotificationPolicy, StorefrontProfile},
};

/// The locale an order's messages are written for: its own, else (an order placed before
/// orders carried one) its storefront's first.
fn locale_of(order: &Order, shop: &StorefrontProfile) -> Locale {
    order.locale.clone().unwrap_or_else(|| shop.default_locale())
}

impl<'a> View<'a> {
    pub(super) fn new(
        notice: Notice,
        order: &Order,
        policy: &'a NotificationPolicy,
        recommendations: &[CatalogItem],
    ) -> Self {
        let shop = policy.storefront(&order.storefront);
        let locale = locale_of(order, shop);
        // The policy admits only locales we write; an order's was checked against it.
        let language = Language::of(&locale).unwrap_or(Language::English);
        let words = words(language);
        let region = locale.region();
        let region = region.as_deref();
        let long_date = |day| words.long_date(day, region);
        let labels = words.labels();
        let website = shop.website.trim_end_matches('/');
        let parcel = |shipment: &Shipment| ParcelView {
            carrier: shipment.carrier.to_string(),
            heading: format!(
                "{}{}",
                shipment.carrier,
                labels.tracking_number.around(shipment.tracking_number.as_str())
            ),
            tracking_url: policy.tracking_url(shipment.carrier.as_str(), shipment.tracking_number.as_str()),
            state: if shipment.status == ParcelStatus::Delivered {
                labels.delivered.to_owned()
            } else {
                let estimate = shipment.delay.as_ref().and_then(|delay| delay.expected);
                labels.arriving.around(&long_date(estimate.unwrap_or(shipment.estimated_delivery)))
            },
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
        let money = |amount| words.money(amount);
        let mut view = Self {
            notice,
            lang: locale.to_string(),
            language,
            labels,
            subject: words.subject(notice, order.id.as_str()),
            headline: words.headline(notice),
            greeting: labels
                .greeting
                .around(order.customer.name.as_str().split_whitespace().next().unwrap_or_default()),
            body: Vec::new(),
            questions: questions(labels, &shop.support_email, shop.support_phone.as_deref()),
            shop,
            order_id: order.id.to_string(),
            order_url: format!("{website}/orders/{}", order.id),
            order_heading: labels.order_heading.around(order.id.as_str()),
            placed: labels.placed.around(&long_date(order.created_at.date_naive())),
            lines: order
                .lines
                .iter()
                .map(|line| LineView {
                    name: line.name.to_string(),
                    quantity: line.quantity.get(),
                    each: labels.each.around(&money(line.unit_price)),
                    total: money(line.line_total),
                })
                .collect(),
            subtotal: money(order.totals.subtotal),
            shipping: money(order.totals.shipping),
            tax: money(order.totals.tax),
            total: money(order.totals.total),
            address: address_lines(&order.shipping_address, language),
            shipping_option: match order.shipping_option {
                ShippingOption::Standard => labels.standard,
                ShippingOption::Express => labels.express,
            },
            estimated_delivery: long_date(order.current_estimate()),
            estimated_delivery_short: words.short_date(order.current_estimate(), region),
            parcels,
            delay: delay(order, words, region),
            shortages: shortages(order),
            decline: match &order.status_reason {
                Some(StatusReason::PaymentDeclined { decline }) => Some(words.decline(decline.kind())),
                Some(StatusReason::PaymentMethodUnusable) => Some(labels.payment_method_unusable),
                // A pick of the two reasons a decline is told by: every other reason tells none.
                _ => None,
            },
            refunded: order.payment.refunds.last().map(|refund| money(refund.amount)),
            apology: match &order.status_reason {
                Some(StatusReason::Apologised { remedy, what_went_wrong, .. }) => {
                    Some(ApologyView { what_went_wrong: what_went_wrong.clone(), remedy: words.remedy(*remedy) })
                }
                // Only an apology carries one.
                _ => None,
            },
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
                        format!("{} × {}", line.quantity.get(), name.unwrap_or_else(|| line.sku.to_string()))
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
        };
        view.body = words.body(notice, &view);
        view
    }
}

/// The address as the destination's post writes it (`10117 Berlin`, `Portland, OR 97201`,
/// `London` over `N1 9GU`), the country named in the customer's language.
fn address_lines(address: &Address, language: Language) -> Vec<String> {
    let mut lines = vec![address.name.to_string(), address.line1.to_string()];
    lines.extend(address.line2.as_ref().map(ToString::to_string));
    let city = address.city.as_str();
    let postal = address.postal_code.as_ref().map(|code| code.as_str());
    let region = address.region.as_ref().map(|region| region.as_str());
    let joined = |parts: &[Option<&str>]| parts.iter().flatten().copied().collect::<Vec<_>>().join(" ");
    match address.country.as_str() {
        "US" => lines.push(format!("{city}, {}", joined(&[region, postal]))),
        "CA" | "AU" => lines.push(joined(&[Some(city), region, postal])),
        "GB" | "IE" => {
            lines.push(city.to_owned());
            lines.extend(postal.map(str::to_owned));
        }
        "JP" => lines.push(joined(&[postal.map(|code| format!("〒{code}")).as_deref(), region, Some(city)])),
        _ => lines.push(joined(&[postal, Some(city), region])),
    }
    lines.push(country_name(&address.country, language));
    lines
}

fn delay(order: &Order, words: &dyn Phrasebook, region: Option<&str>) -> Option<DelayView> {
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
        // Any other reason, or one about another parcel, says nothing of this delay.
        _ => (None, false),
    };
    Some(DelayView {
        carrier: shipment.carrier.to_string(),
        tracking_number: shipment.tracking_number.to_string(),
        description,
        promised: words.long_date(delay.promised, region),
        expected: delay.expected.map(|day| words.long_date(day, region)),
        expected_short: delay.expected.map(|day| words.short_date(day, region)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CountryCode, Line};

    fn address(country: &str, city: &str, region: Option<&str>, postal: Option<&str>) -> Address {
        let line = |text: &str| Line::parse(text).unwrap();
        Address {
            name: line("Ada Lovelace"),
            line1: line("1 Main Street"),
            line2: None,
            city: line(city),
            region: region.map(line),
            postal_code: postal.map(line),
            country: CountryCode::parse(country).unwrap(),
        }
    }

    #[test]
    fn addresses_are_written_as_the_destination_s_post_writes_them() {
        let place = |country, city, region, postal, language| {
            address_lines(&address(country, city, region, postal), language)[2..].join(" / ")
        };
        assert_eq!(place("GB", "London", None, Some("N1 9GU"), Language::French), "London / N1 9GU / Royaume-Uni");
        assert_eq!(place("CA", "Ottawa", Some("ON"), Some("K1A 0B1"), Language::English), "Ottawa ON K1A 0B1 / Canada");
        assert_eq!(
            place("JP", "Chiyoda", Some("Tokyo"), Some("100-0001"), Language::Dutch),
            "〒100-0001 Tokyo Chiyoda / Japan"
        );
        assert_eq!(
            place("NL", "Amsterdam", None, Some("1015 CJ"), Language::German),
            "1015 CJ Amsterdam / Niederlande"
        );
        assert_eq!(place("BR", "Recife", None, None, Language::English), "Recife / BR");
    }
}
