use std::path::PathBuf;

use super::*;
use crate::domain::{Line, Money, OrderStatus};

fn rendered(notice: Notice) -> Rendered {
    rendered_in(notice, "en-GB")
}

fn rendered_in(notice: Notice, locale: &str) -> Rendered {
    let order = Sample::order_in(notice, locale).unwrap();
    render(notice, &order, &Sample::policy(), &Sample::recommendations()).unwrap()
}

/// The plain-text part (and text message) of every notice in every language against
/// `snapshots/{locale}/{name}.txt`; `UPDATE_SNAPSHOTS=1` rewrites them, for a reviewer (and a
/// native speaker) to read in the diff.
#[test]
fn text_parts_match_their_snapshots_in_every_language() {
    let snapshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/notification/snapshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for locale in Sample::LOCALES {
        let folder = snapshots.join(locale);
        for notice in Notice::ALL {
            let out = rendered_in(notice, locale);
            let mut snapshot = format!("Subject: {}\n\n{}", out.email.subject, out.email.text);
            if let Some(sms) = &out.sms {
                snapshot.push_str(&format!("\n--- SMS ({:?}, {} segment)\n{}\n", sms.encoding, sms.segments, sms.text));
            }
            let path = folder.join(format!("{}.txt", notice.name()));
            if update {
                std::fs::create_dir_all(&folder).unwrap();
                std::fs::write(&path, &snapshot).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(snapshot.as_str()) {
                stale.push(format!("{}:\n{snapshot}", path.display()));
            }
        }
    }
    assert!(stale.is_empty(), "snapshots differ (UPDATE_SNAPSHOTS=1 to accept):\n{}", stale.join("\n"));
}

/// What the sample order's summary looks like in each language: its total, the destination's
/// postal line and the country in the reader's words, the day it was placed.
const SUMMARIES: [(&str, &str, &str, &str); 4] = [
    ("en-GB", "€46.34", "Germany", "Monday 23 November 2026"),
    ("de-DE", "46,34\u{a0}€", "Deutschland", "Montag, 23. November 2026"),
    ("fr-FR", "46,34\u{a0}€", "Allemagne", "lundi 23 novembre 2026"),
    ("nl-NL", "€\u{a0}46,34", "Duitsland", "maandag 23 november 2026"),
];

#[test]
fn every_email_in_every_language_names_the_order_and_shows_its_summary_in_that_language() {
    for (locale, total, country, placed) in SUMMARIES {
        for notice in Notice::ALL {
            let out = rendered_in(notice, locale);
            let order = Sample::order(notice).unwrap();
            assert!(out.email.subject.contains(order.id.as_str()), "{locale} {notice:?}");
            for part in [&out.email.text, &out.email.html] {
                assert!(part.contains("Grace"), "{locale} {notice:?}: the customer's name");
                assert!(part.contains(total) && part.contains("Classic mug, 350 ml"), "{locale} {notice:?}");
                assert!(part.contains("10117 Berlin") && part.contains(country), "{locale} {notice:?}: {part}");
                assert!(part.contains(placed) && part.contains("help@northwind.example"), "{locale} {notice:?}");
            }
            assert!(out.email.html.starts_with("<!DOCTYPE html>") && out.email.html.contains("width=device-width"));
            assert!(out.email.html.contains(&format!("<html lang=\"{locale}\">")), "{locale}");
            assert!(!out.email.html.contains("<img") && !out.email.html.contains("<script"), "{notice:?}");
        }
    }
}

/// Each language's own words: the subject, headline and the body's paragraphs (not lists of
/// products, which are the shop's words).
fn copy_of(notice: Notice, locale: &str) -> Vec<String> {
    let order = Sample::order_in(notice, locale).unwrap();
    let policy = Sample::policy();
    let view = view::View::new(notice, &order, &policy, &[]);
    let mut copy = vec![view.subject.clone(), view.headline.to_owned()];
    copy.extend(view.body.iter().filter(|block| matches!(block, view::Block::Paragraph(_))).map(view::Block::plain));
    copy
}

#[test]
fn no_language_borrows_another_s_sentences() {
    for notice in Notice::ALL {
        for (at, locale) in Sample::LOCALES.iter().enumerate() {
            let copy = copy_of(notice, locale);
            for other_locale in &Sample::LOCALES[at + 1..] {
                let other = copy_of(notice, other_locale);
                let shared: Vec<&String> =
                    copy.iter().filter(|sentence| sentence.len() > 12 && other.contains(sentence)).collect();
                assert!(shared.is_empty(), "{notice:?}: {locale} and {other_locale} both say {shared:?}");
            }
        }
    }
}

#[test]
fn an_order_without_a_locale_is_written_in_its_storefront_s_first() {
    let order = Sample::order(Notice::Shipped).unwrap();
    assert_eq!(order.locale, None);
    let mut policy = Sample::policy();
    policy.storefronts.get_mut("*").unwrap().locales.reverse();
    let out = render(Notice::Shipped, &order, &policy, &[]).unwrap();
    assert!(out.email.text.contains("Bestelling") && out.email.html.contains("lang=\"nl-NL\""), "{}", out.email.text);
}

#[test]
fn american_customers_read_the_month_first() {
    let mut order = Sample::order_in(Notice::Confirmed, "en-US").unwrap();
    order.shipping_address.country = crate::domain::CountryCode::parse("US").unwrap();
    order.shipping_address.region = Some(Line::parse("OR").unwrap());
    order.shipping_address.postal_code = Some(Line::parse("97201").unwrap());
    order.shipping_address.city = Line::parse("Portland").unwrap();
    let mut policy = Sample::policy();
    policy.storefronts.get_mut("*").unwrap().locales.push(crate::domain::Locale::parse("en-US").unwrap());
    let out = render(Notice::Confirmed, &order, &policy, &[]).unwrap();
    assert!(out.email.text.contains("Thursday, November 26, 2026"), "{}", out.email.text);
    assert!(out.email.text.contains("Portland, OR 97201\nUnited States"), "{}", out.email.text);
    assert!(out.sms.unwrap().text.contains("Thu, Nov 26"));
}

#[test]
fn texted_notices_fit_one_gsm7_message_in_every_language_and_others_have_none() {
    for locale in Sample::LOCALES {
        for notice in Notice::ALL {
            let out = rendered_in(notice, locale);
            match (notice.is_texted(), &out.sms) {
                (true, Some(sms)) => {
                    assert_eq!(
                        (sms.encoding, sms.segments),
                        (SmsEncoding::Gsm7, 1),
                        "{locale} {notice:?}: {}",
                        sms.text
                    );
                    assert!(sms.text.starts_with("Northwind Goods") && sms.text.contains("ord_"), "{}", sms.text);
                }
                (false, None) => {}
                other => panic!("{locale} {notice:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_text_that_only_fits_once_folded_into_gsm7_is_sent_folded_and_one_that_never_fits_is_counted_honestly() {
    let mut policy = Sample::policy();
    policy.storefronts.get_mut("*").unwrap().name = "La Crêperie".to_owned();
    let mut order = Sample::order_in(Notice::Delayed, "fr-FR").unwrap();
    order.shipments[0].delay.as_mut().unwrap().expected = NaiveDate::from_ymd_opt(2027, 8, 2);
    let sms = render(Notice::Delayed, &order, &policy, &[]).unwrap().sms.unwrap();
    assert_eq!((sms.encoding, sms.segments), (SmsEncoding::Gsm7, 1), "{}", sms.text);
    assert!(sms.text.starts_with("La Creperie : commande") && sms.text.contains("lun. 2 aout."), "{}", sms.text);
    // The e-mail keeps every accent.
    assert!(render(Notice::Delayed, &order, &policy, &[]).unwrap().email.text.contains("lundi 2 août 2027"));

    policy.storefronts.get_mut("*").unwrap().name = "Łódź ".repeat(8);
    let sms = render(Notice::Delivered, &order, &policy, &[]).unwrap().sms.unwrap();
    assert_eq!((sms.encoding, sms.segments), (SmsEncoding::Ucs2, 2), "{}", sms.text);
}

#[test]
fn html_escapes_what_customers_typed() {
    let mut order = Sample::order(Notice::Received).unwrap();
    order.customer.name = Line::parse("<b>Bobby</b> Tables").unwrap();
    let out = render(Notice::Received, &order, &Sample::policy(), &[]).unwrap();
    assert!(out.email.html.contains("&#60;b&#62;Bobby") || out.email.html.contains("&lt;b&gt;Bobby"));
    assert!(out.email.text.contains("Hi <b>Bobby</b>,"), "plain text is not HTML");
}

#[test]
fn a_text_message_too_long_with_its_link_drops_the_link_and_a_long_shop_name_splits_knowingly() {
    let mut policy = Sample::policy();
    policy.storefronts.get_mut("*").unwrap().name = "The Very Long Name of a Shop on the High Street".to_owned();
    let order = Sample::order(Notice::Shipped).unwrap();
    let sms = render(Notice::Shipped, &order, &policy, &[]).unwrap().sms.unwrap();
    assert!(!sms.text.contains("https://") && sms.text.ends_with("with DHLExpress."), "{}", sms.text);
    assert_eq!(sms.segments, 1);
    policy.storefronts.get_mut("*").unwrap().name = "Łódź ".repeat(12);
    let sms = render(Notice::Delivered, &order, &policy, &[]).unwrap().sms.unwrap();
    assert_eq!((sms.encoding, sms.segments), (SmsEncoding::Ucs2, 2));
}

#[test]
fn recommendations_only_in_the_confirmation_and_only_where_the_storefront_wants_them() {
    let with = rendered(Notice::Confirmed);
    assert!(with.email.text.contains("You may also like") && with.email.html.contains("You may also like"));
    assert!(!with.sms.unwrap().text.contains("like"));
    for notice in [Notice::Delayed, Notice::Refunded, Notice::Shipped] {
        assert!(!rendered(notice).email.text.contains("You may also like"), "{notice:?}");
    }
    let mut policy = Sample::policy();
    policy.storefronts.get_mut("*").unwrap().recommendations = false;
    let order = Sample::order(Notice::Confirmed).unwrap();
    let without = render(Notice::Confirmed, &order, &policy, &Sample::recommendations()).unwrap();
    assert!(!without.email.text.contains("You may also like"));
}

#[test]
fn events_map_to_notices_and_channels_follow_the_customer_s_choice() {
    use crate::domain::{EventType, OrderStatus};
    let of = |status| Notice::for_event(EventType::Reached(status));
    assert_eq!(of(OrderStatus::Placed), Some(Notice::Received));
    assert_eq!(of(OrderStatus::PaymentAuthorized), Some(Notice::Confirmed));
    assert_eq!(of(OrderStatus::DeliveryException), Some(Notice::Delayed));
    assert_eq!(Notice::for_event(EventType::DeliveryDelayed), Some(Notice::Delayed));
    for quiet in [OrderStatus::Reserved, OrderStatus::OnHold, OrderStatus::Fulfilling, OrderStatus::InTransit] {
        assert_eq!(of(quiet), None, "{quiet:?}");
    }
    assert_eq!(Notice::for_event(EventType::TrackingUpdated), None);

    let mut order = Sample::order(Notice::Shipped).unwrap();
    assert_eq!(Notice::Shipped.channels(&order), vec![Channel::Email, Channel::Sms]);
    assert_eq!(Notice::Cancelled.channels(&order), vec![Channel::Email]);
    order.customer.sms_opt_in = false;
    assert_eq!(Notice::Shipped.channels(&order), vec![Channel::Email]);
    order.customer.sms_opt_in = true;
    order.customer.phone = None;
    assert_eq!(Notice::Shipped.channels(&order), vec![Channel::Email]);
}

#[test]
fn recommendations_are_related_in_stock_in_the_order_s_currency_and_not_already_ordered() {
    let order = Sample::order(Notice::Confirmed).unwrap();
    let sku = |raw: &str| Sku::parse(raw).unwrap();
    let item = |raw: &str, currency: &str| CatalogItem {
        sku: sku(raw),
        name: Line::parse(raw).unwrap(),
        unit_price: Money::new(100, crate::domain::Currency::parse(currency).unwrap()),
    };
    let related = HashMap::from([
        (sku("MUG-CLASSIC"), vec![sku("NOTEBOOK-A5"), sku("SAUCER"), sku("CAP-US"), sku("SPOON"), sku("SAUCER")]),
        (sku("NOTEBOOK-A5"), vec![sku("PEN"), sku("GONE"), sku("PENCIL")]),
    ]);
    let candidates = HashMap::from([
        (sku("SAUCER"), (item("SAUCER", "EUR"), 3)),
        (sku("CAP-US"), (item("CAP-US", "USD"), 9)),
        (sku("SPOON"), (item("SPOON", "EUR"), 1)),
        (sku("PEN"), (item("PEN", "EUR"), 40)),
        (sku("GONE"), (item("GONE", "EUR"), 0)),
        (sku("PENCIL"), (item("PENCIL", "EUR"), 5)),
    ]);
    let chosen: Vec<String> =
        recommendations(&order, &related, &candidates, 3).into_iter().map(|item| item.sku.to_string()).collect();
    assert_eq!(chosen, ["SAUCER", "SPOON", "PEN"]);
    assert!(recommendations(&order, &HashMap::new(), &candidates, 3).is_empty());
}

#[test]
fn feedback_is_due_for_deliveries_after_days_ago_and_the_two_days_before() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let days: Vec<String> = feedback_due_days(today, 7).iter().map(ToString::to_string).collect();
    assert_eq!(days, ["2026-11-26", "2026-11-25", "2026-11-24"]);
}

#[test]
fn a_delay_is_one_occasion_per_parcel_and_date_other_notices_one_per_event() {
    use crate::domain::{EventId, OrderId};
    let order = Sample::order(Notice::Delayed).unwrap();
    let event = |version| EventId { order_id: OrderId::parse(order.id.as_str()).unwrap(), version };
    let first = occasion(Notice::Delayed, &event(8), &order);
    assert_eq!(first, "delay:JJD000390007891234567:2026-11-27");
    assert_eq!(occasion(Notice::Delayed, &event(9), &order), first, "another event, the same delay");
    let mut later = order.clone();
    later.shipments[0].delay.as_mut().unwrap().expected = chrono::NaiveDate::from_ymd_opt(2026, 11, 30);
    assert_ne!(occasion(Notice::Delayed, &event(10), &later), first, "a new date is news");
    assert_eq!(occasion(Notice::Shipped, &event(6), &order), format!("{}:6", order.id));
}

#[test]
fn a_message_is_overtaken_only_by_a_status_that_contradicts_it() {
    use OrderStatus::*;
    let overtaken = |notice: Notice| -> Vec<OrderStatus> {
        OrderStatus::ALL.into_iter().filter(|status| notice.overtaken_by(*status)).collect()
    };
    for notice in [Notice::Confirmed, Notice::Modified] {
        assert_eq!(overtaken(notice), [Rejected, PaymentFailed, Cancelled], "{notice:?}");
    }
    let undecided: Vec<OrderStatus> =
        OrderStatus::ALL.into_iter().filter(|status| !Notice::Received.overtaken_by(*status)).collect();
    assert_eq!(undecided, [Placed, Reserved, OnHold], "any decision says more than \"received\"");
    for notice in [Notice::Shipped, Notice::OutForDelivery, Notice::Delayed] {
        assert_eq!(overtaken(notice), [Delivered, ReturnRequested, Returned, Refunded], "{notice:?}");
    }
    assert_eq!(overtaken(Notice::Delivered), [ReturnRequested, Returned, Refunded]);
    // An outcome is what the customer must hear, whatever came after.
    for notice in [Notice::Rejected, Notice::PaymentFailed, Notice::Cancelled, Notice::ReturnAccepted, Notice::Refunded]
    {
        assert!(overtaken(notice).is_empty() && !notice.may_be_overtaken(), "{notice:?}");
    }
    // Nothing a message announces is overtaken by the status it announces.
    for status in OrderStatus::ALL {
        let event = crate::domain::EventType::Reached(status);
        if let Some(notice) = Notice::for_event(event) {
            assert!(!notice.overtaken_by(status), "{notice:?} at {status:?}");
        }
    }
}
