//! The pure part of the notifier, per message, timed: a notice's e-mail rendered from the
//! templates (HTML and text) with its text message, the MIME message built, an SES event read.
//! Run: `cargo bench -p shared --features samples --bench notifications`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::hint::black_box;

use shared::{
    adapters::ses_feedback::mail_feedback,
    domain::EmailAddress,
    notification::{Notice, Sample, mime, render},
};
use support::measure;

fn main() {
    let policy = Sample::policy();
    let recommendations = Sample::recommendations();
    for notice in [Notice::Received, Notice::Confirmed, Notice::Shipped, Notice::Delayed] {
        let order = Sample::order(notice).unwrap();
        measure(&format!("render {} (html + text + sms)", notice.name()), || {
            black_box(render(notice, &order, &policy, &recommendations).unwrap());
        });
    }
    // The same messages in each language: the words differ, the work should not.
    for locale in Sample::LOCALES {
        for notice in [Notice::Confirmed, Notice::Delayed] {
            let order = Sample::order_in(notice, locale).unwrap();
            measure(&format!("render {} in {locale}", notice.name()), || {
                black_box(render(notice, &order, &policy, &recommendations).unwrap());
            });
        }
    }
    let order = Sample::order(Notice::Confirmed).unwrap();
    let rendered = render(Notice::Confirmed, &order, &policy, &recommendations).unwrap();
    let shop = policy.storefront(&order.storefront);
    let sender = EmailAddress::parse("orders@northwind.example").unwrap();
    let raw = mime(&rendered.email, shop, &sender, order.customer.name.as_str(), &order.customer.email);
    println!(
        "confirmation e-mail: {} bytes of MIME ({} html, {} text)",
        raw.len(),
        rendered.email.html.len(),
        rendered.email.text.len()
    );
    measure("MIME message (multipart/alternative)", || {
        black_box(mime(&rendered.email, shop, &sender, order.customer.name.as_str(), &order.customer.email));
    });
    let bounce = r#"{"eventType": "Bounce", "mail": {"messageId": "0100"}, "bounce": {"bounceType": "Permanent",
        "bouncedRecipients": [{"emailAddress": "Grace <grace@example.com>", "status": "5.1.1"}]}}"#;
    measure("read an SES bounce event", || {
        black_box(mail_feedback(bounce).unwrap());
    });
}
