//! German: "Sie", as German shops write to customers they do not know.

use chrono::{Datelike, NaiveDate};

use super::{Calendar, NumberStyle, Phrasebook, amount_then_currency, ended, link, para, strong};
use crate::domain::{DeclineKind, Money, Remedy};
use crate::notification::{
    Notice, Texted,
    view::{Block, Frame, Labels, View},
};

pub(super) struct German;

const LABELS: Labels = Labels {
    greeting: Frame("Hallo ", ","),
    order_heading: Frame("Bestellung ", ""),
    placed: Frame("Aufgegeben am ", ""),
    each: Frame("je ", ""),
    tracking_number: Frame(", Sendungsnummer ", ""),
    arriving: Frame("Voraussichtlich am ", ""),
    write_to: "Fragen? Antworten Sie einfach auf diese E-Mail oder schreiben Sie an ",
    or_call: Frame(", oder rufen Sie uns an: ", "."),
    parcels: "Pakete",
    delivered: "Zugestellt",
    track_this_parcel: "Sendung verfolgen",
    subtotal: "Zwischensumme",
    shipping: "Versand",
    tax: "MwSt.",
    total: "Gesamt",
    delivery: "Lieferung",
    standard: "Standard",
    express: "Express",
    you_may_also_like: "Das könnte Ihnen auch gefallen",
    see_your_order: "Ihre Bestellung ansehen",
    rate_your_order: "Bestellung bewerten",
    colon: ": ",
    payment_method_unusable: "die Zahlungsart konnte nicht verwendet werden.",
};

const CALENDAR: Calendar = Calendar {
    weekdays: ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    weekdays_short: ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
    months: [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    months_short: ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."],
};

impl Phrasebook for German {
    fn labels(&self) -> &'static Labels {
        &LABELS
    }

    /// `Donnerstag, 26. November 2026`.
    fn long_date(&self, day: NaiveDate, _region: Option<&str>) -> String {
        format!("{}, {}. {} {}", CALENDAR.weekday(day), day.day(), CALENDAR.month(day), day.year())
    }

    /// `Do., 26.11.`
    fn short_date(&self, day: NaiveDate, _region: Option<&str>) -> String {
        format!("{} {}.{}.", CALENDAR.weekday_short(day), day.day(), day.month())
    }

    /// `1.234,50 €`, `-3,99 £`, `12,50 CHF`.
    fn money(&self, amount: Money) -> String {
        amount_then_currency(amount, &NumberStyle { group: '.', decimal: ',' })
    }

    fn decline(&self, kind: DeclineKind) -> &'static str {
        match kind {
            DeclineKind::InsufficientFunds => "Ihre Karte ist nicht ausreichend gedeckt.",
            DeclineKind::Expired => "Ihre Karte ist abgelaufen.",
            DeclineKind::SecurityCode => "der Sicherheitscode Ihrer Karte ist falsch.",
            DeclineKind::CardNumber => "die Kartennummer ist falsch.",
            DeclineKind::Limit => "Ihre Karte hat ihr Limit erreicht. Bitte verwenden Sie eine andere Karte.",
            DeclineKind::Declined => "Ihre Karte wurde abgelehnt.",
        }
    }

    fn remedy(&self, remedy: Remedy) -> &'static str {
        match remedy {
            Remedy::Refund => {
                "Wir haben Ihnen den Betrag auf Ihr ursprüngliches Zahlungsmittel erstattet; es kann 5 bis 10 \
                 Werktage dauern, bis er dort erscheint."
            }
            Remedy::Amendment => "Wir haben Ihre Bestellung korrigiert: Die Übersicht unten zeigt den aktuellen Stand.",
            Remedy::ExpeditedShipment => "Wir schicken sie Ihnen per Expressversand, ohne Kosten für Sie.",
            Remedy::Other => "Wir haben es wie oben beschrieben in Ordnung gebracht.",
        }
    }

    fn subject(&self, notice: Notice, id: &str) -> String {
        match notice {
            Notice::Received => format!("Wir haben Ihre Bestellung {id} erhalten"),
            Notice::Confirmed => format!("Bestellung {id} ist bestätigt"),
            Notice::Rejected => format!("Wir konnten Bestellung {id} nicht annehmen"),
            Notice::PaymentFailed => format!("Zahlung für Bestellung {id} fehlgeschlagen"),
            Notice::Shipped => format!("Bestellung {id} ist versandt"),
            Notice::OutForDelivery => format!("Bestellung {id} ist in der Zustellung"),
            Notice::Delivered => format!("Bestellung {id} wurde zugestellt"),
            Notice::Delayed => format!("Bestellung {id} verspätet sich"),
            Notice::Cancelled => format!("Bestellung {id} ist storniert"),
            Notice::Modified => format!("Bestellung {id} wurde geändert"),
            Notice::ReturnAccepted => format!("Ihre Rücksendung zu Bestellung {id} ist angenommen"),
            Notice::Refunded => format!("Erstattung zu Bestellung {id}"),
            Notice::FeedbackRequest => format!("Wie war Bestellung {id}?"),
            Notice::Apology => format!("Entschuldigung wegen Bestellung {id}"),
        }
    }

    fn headline(&self, notice: Notice) -> &'static str {
        match notice {
            Notice::Received => "Ihre Bestellung ist da",
            Notice::Confirmed => "Ihre Bestellung ist bestätigt",
            Notice::Rejected => "Wir konnten Ihre Bestellung nicht annehmen",
            Notice::PaymentFailed => "Ihre Zahlung ist nicht durchgegangen",
            Notice::Shipped => "Ihre Bestellung ist unterwegs",
            Notice::OutForDelivery => "Kommt heute",
            Notice::Delivered => "Zugestellt",
            Notice::Delayed => "Ihre Lieferung verspätet sich",
            Notice::Cancelled => "Ihre Bestellung ist storniert",
            Notice::Modified => "Ihre Bestellung wurde geändert",
            Notice::ReturnAccepted => "Ihre Rücksendung ist angenommen",
            Notice::Refunded => "Ihre Erstattung ist unterwegs",
            Notice::FeedbackRequest => "Wie waren wir?",
            Notice::Apology => "Es tut uns leid",
        }
    }

    fn body(&self, notice: Notice, v: &View) -> Vec<Block> {
        let id = v.order_id.as_str();
        let site = v.shop.website.as_str();
        match notice {
            Notice::Received => vec![para![
                "Vielen Dank für Ihre Bestellung! Wir haben Bestellung ",
                strong(id),
                " erhalten und prüfen jetzt Bestand und Zahlung. Sobald sie bestätigt ist, schreiben wir Ihnen \
                 wieder, meist innerhalb weniger Minuten. Sie müssen nichts weiter tun."
            ]],
            Notice::Confirmed => vec![
                para![
                    "Gute Nachricht: Alles ist vorrätig und Ihre Zahlung ist autorisiert. Bestellung ",
                    strong(id),
                    " ist auf dem Weg in unser Lager. Voraussichtliche Lieferung: ",
                    strong(&v.estimated_delivery),
                    format!(" ({}).", v.shipping_option)
                ],
                para![
                    strong("Als Nächstes:"),
                    " Sobald die Bestellung versandt ist, schicken wir Ihnen die Sendungsdaten. Ihre Karte wird erst \
                     belastet, wenn die Bestellung unser Lager verlässt."
                ],
            ],
            Notice::Rejected => vec![
                para![
                    "Es tut uns leid: Wir konnten nicht alles aus Bestellung ",
                    strong(id),
                    " reservieren und sie daher nicht annehmen."
                ],
                Block::List(
                    v.shortages
                        .iter()
                        .map(|s| format!("{}: bestellt {}, vorrätig noch {}", s.name, s.requested, s.available))
                        .collect(),
                ),
                para!["Es wurde nichts berechnet. Was vorrätig ist, können Sie gern unter ", link(site), " bestellen."],
            ],
            Notice::PaymentFailed => vec![
                para![
                    "Ihre Zahlung für Bestellung ",
                    strong(id),
                    v.decline.map_or_else(
                        || " ist nicht durchgegangen.".to_owned(),
                        |why| format!(" ist nicht durchgegangen: {why}")
                    )
                ],
                para![
                    "Es wurde nichts berechnet, und die Artikel sind nicht mehr reserviert. Bitte bestellen Sie mit \
                     einer anderen Zahlungsart erneut unter ",
                    link(site),
                    ", oder melden Sie sich bei uns, wenn Sie einen Fehler vermuten."
                ],
            ],
            Notice::Shipped => vec![para!["Bestellung ", strong(id), " hat unser Lager verlassen."]],
            Notice::OutForDelivery => vec![para![
                "Ein Paket aus Bestellung ",
                strong(id),
                " ist in der Zustellung und sollte heute bei Ihnen ankommen."
            ]],
            Notice::Delivered => vec![para![
                "Bestellung ",
                strong(id),
                " wurde zugestellt. Wir wünschen viel Freude damit! Fehlt etwas oder ist etwas beschädigt, antworten \
                 Sie auf diese E-Mail, und wir kümmern uns darum."
            ]],
            Notice::Delayed => match &v.delay {
                Some(delay) if delay.returned_to_sender => vec![para![
                    format!("{} schickt Paket {} aus Bestellung ", delay.carrier, delay.tracking_number),
                    strong(id),
                    " an uns zurück. Wir melden uns wegen eines erneuten Versands oder einer Erstattung; Sie müssen \
                     nichts tun."
                ]],
                Some(delay) => vec![
                    para![
                        format!("Paket {} aus Bestellung ", delay.tracking_number),
                        strong(id),
                        " verspätet sich",
                        delay
                            .description
                            .as_ref()
                            .map_or_else(String::new, |said| format!(" ({} meldet: {said})", delay.carrier)),
                        format!(". Zugesagt war {}; ", delay.promised),
                        match &delay.expected {
                            Some(expected) =>
                                format!("{} rechnet jetzt mit der Zustellung am {expected}.", delay.carrier),
                            None => format!("{} hat noch keinen neuen Termin genannt.", delay.carrier),
                        }
                    ],
                    para![
                        strong("Was tun?"),
                        " Hat der Zusteller eine Karte hinterlassen, folgen Sie bitte den Hinweisen darauf; sonst \
                         nichts - er versucht es erneut. Die Sendung können Sie unten verfolgen."
                    ],
                ],
                None => vec![para!["Bestellung ", strong(id), " verspätet sich. Wir halten Sie auf dem Laufenden."]],
            },
            Notice::Cancelled => vec![para![
                "Bestellung ",
                strong(id),
                " wurde storniert. Eine Reservierung auf Ihrer Karte wird freigegeben; wurde schon abgebucht, folgt \
                 die Erstattung automatisch."
            ]],
            Notice::Modified => vec![para![
                "Wir haben Bestellung ",
                strong(id),
                " wie gewünscht geändert. Hier ist die neue Übersicht."
            ]],
            Notice::ReturnAccepted => match &v.return_request {
                Some(r) => vec![
                    para![
                        "Wir haben Ihre Rücksendung zu Bestellung ",
                        strong(id),
                        " angenommen. Ihre Rücksendenummer ist ",
                        strong(&r.rma),
                        ": Bitte schreiben Sie sie auf das Paket."
                    ],
                    para!["Zurück gehen:"],
                    Block::List(r.lines.clone()),
                    para![
                        "Verpacken Sie die Artikel sicher und schicken Sie sie zurück; sobald sie bei uns sind, \
                         erstatten wir ",
                        strong(&r.refund),
                        " auf Ihr ursprüngliches Zahlungsmittel."
                    ],
                ],
                None => vec![para![
                    "Wir haben Ihre Rücksendung zu Bestellung ",
                    strong(id),
                    " angenommen. Bitte verpacken Sie die Artikel sicher und schicken Sie sie zurück; wir erstatten, \
                     sobald sie bei uns sind."
                ]],
            },
            Notice::Refunded => vec![para![
                "Wir haben ",
                strong(v.refunded.as_deref().unwrap_or("Ihre Zahlung")),
                " für Bestellung ",
                strong(id),
                " auf Ihr ursprüngliches Zahlungsmittel erstattet. Es kann 5 bis 10 Werktage dauern, bis der Betrag \
                 auf Ihrer Abrechnung erscheint."
            ]],
            Notice::FeedbackRequest => vec![
                para![
                    "Ihre Bestellung ",
                    strong(id),
                    " ist vor ein paar Tagen angekommen. Verraten Sie uns, wie es gelaufen ist? Es dauert nur eine \
                     Minute."
                ],
                Block::Button { label: LABELS.rate_your_order, url: v.feedback_url.clone() },
            ],
            Notice::Apology => {
                let mut blocks =
                    vec![para!["Bei Bestellung ", strong(id), " ist etwas schiefgegangen, und das tut uns leid."]];
                if let Some(apology) = &v.apology {
                    blocks.push(para![strong("Was passiert ist:"), format!(" {}", apology.what_went_wrong)]);
                    blocks.push(para![strong("Was wir getan haben:"), format!(" {}", apology.remedy)]);
                }
                blocks.push(para![
                    "Wenn noch etwas nicht stimmt, antworten Sie auf diese E-Mail, und wir bringen es in Ordnung."
                ]);
                blocks
            }
        }
    }

    fn sms(&self, texted: Texted, v: &View, link: Option<&str>) -> String {
        let (shop, id) = (&v.shop.name, &v.order_id);
        let carrier = v.focus().map_or_else(String::new, |parcel| format!(" mit {}", parcel.carrier));
        let track = link.map_or_else(|| ".".to_owned(), |url| format!(". Verfolgen: {url}"));
        match texted {
            Texted::Confirmed => {
                format!(
                    "{shop}: Bestellung {id} ist bestätigt. Lieferung voraussichtlich {}",
                    ended(&v.estimated_delivery_short)
                )
            }
            Texted::Shipped => format!("{shop}: Bestellung {id} ist{carrier} versandt{track}"),
            Texted::OutForDelivery => format!("{shop}: Bestellung {id} wird heute{carrier} zugestellt{track}"),
            Texted::Delivered => format!("{shop}: Bestellung {id} wurde zugestellt. Viel Freude damit!"),
            Texted::Delayed => {
                let estimate =
                    v.delay_expected_short().map_or_else(String::new, |day| format!(" Neuer Termin: {}", ended(day)));
                format!("{shop}: Bestellung {id} verspätet sich.{estimate} Details per E-Mail.")
            }
        }
    }
}
