//! Dutch: "je", as Dutch shops write to their customers.

use chrono::{Datelike, NaiveDate};

use super::{Calendar, NumberStyle, Phrasebook, digits, link, para, strong, symbol};
use crate::domain::{DeclineKind, Money, Remedy};
use crate::notification::{
    Notice, Texted,
    view::{Block, Frame, Labels, View},
};

pub(super) struct Dutch;

const LABELS: Labels = Labels {
    greeting: Frame("Hoi ", ","),
    order_heading: Frame("Bestelling ", ""),
    placed: Frame("Geplaatst op ", ""),
    each: Frame("", " per stuk"),
    tracking_number: Frame(", trackingnummer ", ""),
    arriving: Frame("Verwacht op ", ""),
    write_to: "Vragen? Beantwoord deze e-mail of schrijf naar ",
    or_call: Frame(", of bel ", "."),
    parcels: "Pakketten",
    delivered: "Bezorgd",
    track_this_parcel: "Volg dit pakket",
    subtotal: "Subtotaal",
    shipping: "Verzending",
    tax: "Btw",
    total: "Totaal",
    delivery: "Bezorging",
    standard: "Standaard",
    express: "Express",
    you_may_also_like: "Misschien vind je dit ook leuk",
    see_your_order: "Bekijk je bestelling",
    rate_your_order: "Beoordeel je bestelling",
    colon: ": ",
    payment_method_unusable: "de betaalmethode kon niet worden gebruikt.",
};

const CALENDAR: Calendar = Calendar {
    weekdays: ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
    weekdays_short: ["ma", "di", "wo", "do", "vr", "za", "zo"],
    months: [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    months_short: ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
};

impl Phrasebook for Dutch {
    fn labels(&self) -> &'static Labels {
        &LABELS
    }

    /// `donderdag 26 november 2026`.
    fn long_date(&self, day: NaiveDate, _region: Option<&str>) -> String {
        format!("{} {} {} {}", CALENDAR.weekday(day), day.day(), CALENDAR.month(day), day.year())
    }

    /// `do 26 nov`.
    fn short_date(&self, day: NaiveDate, _region: Option<&str>) -> String {
        format!("{} {} {}", CALENDAR.weekday_short(day), day.day(), CALENDAR.month_short(day))
    }

    /// `€ 1.234,50`, `€ -3,99`, `CHF 12,50`.
    fn money(&self, amount: Money) -> String {
        let (sign, number) = digits(amount, &NumberStyle { group: '.', decimal: ',' });
        let currency = symbol(amount).map_or_else(|| amount.currency().to_string(), str::to_owned);
        format!("{currency}\u{a0}{sign}{number}")
    }

    fn decline(&self, kind: DeclineKind) -> &'static str {
        match kind {
            DeclineKind::InsufficientFunds => "er staat niet genoeg saldo op je kaart.",
            DeclineKind::Expired => "je kaart is verlopen.",
            DeclineKind::SecurityCode => "de beveiligingscode van je kaart klopt niet.",
            DeclineKind::CardNumber => "het kaartnummer klopt niet.",
            DeclineKind::Limit => "je kaart heeft haar limiet bereikt. Probeer een andere kaart.",
            DeclineKind::Declined => "je kaart is geweigerd.",
        }
    }

    fn remedy(&self, remedy: Remedy) -> &'static str {
        match remedy {
            Remedy::Refund => {
                "We hebben het bedrag teruggestort op je oorspronkelijke betaalmethode; het kan 5 tot 10 werkdagen \
                 duren voor je het ziet."
            }
            Remedy::Amendment => "We hebben je bestelling aangepast: het overzicht hieronder is hoe ze nu is.",
            Remedy::ExpeditedShipment => "We sturen hem met spoedbezorging, zonder kosten voor jou.",
            Remedy::Other => "We hebben het rechtgezet zoals hierboven beschreven.",
        }
    }

    fn subject(&self, notice: Notice, id: &str) -> String {
        match notice {
            Notice::Received => format!("We hebben je bestelling {id} ontvangen"),
            Notice::Confirmed => format!("Bestelling {id} is bevestigd"),
            Notice::Rejected => format!("We konden bestelling {id} niet aannemen"),
            Notice::PaymentFailed => format!("Betaling voor bestelling {id} mislukt"),
            Notice::Shipped => format!("Bestelling {id} is verzonden"),
            Notice::OutForDelivery => format!("Bestelling {id} wordt vandaag bezorgd"),
            Notice::Delivered => format!("Bestelling {id} is bezorgd"),
            Notice::Delayed => format!("Bestelling {id} heeft vertraging"),
            Notice::Cancelled => format!("Bestelling {id} is geannuleerd"),
            Notice::Modified => format!("Bestelling {id} is aangepast"),
            Notice::ReturnAccepted => format!("Je retour voor bestelling {id} is geaccepteerd"),
            Notice::Refunded => format!("Terugbetaling voor bestelling {id}"),
            Notice::FeedbackRequest => format!("Hoe was bestelling {id}?"),
            Notice::Apology => format!("Onze excuses voor bestelling {id}"),
        }
    }

    fn headline(&self, notice: Notice) -> &'static str {
        match notice {
            Notice::Received => "We hebben je bestelling",
            Notice::Confirmed => "Je bestelling is bevestigd",
            Notice::Rejected => "We konden je bestelling niet aannemen",
            Notice::PaymentFailed => "Je betaling is niet gelukt",
            Notice::Shipped => "Je bestelling is onderweg",
            Notice::OutForDelivery => "Vandaag in huis",
            Notice::Delivered => "Bezorgd",
            Notice::Delayed => "Je bezorging heeft vertraging",
            Notice::Cancelled => "Je bestelling is geannuleerd",
            Notice::Modified => "Je bestelling is aangepast",
            Notice::ReturnAccepted => "Je retour is geaccepteerd",
            Notice::Refunded => "Je terugbetaling is onderweg",
            Notice::FeedbackRequest => "Hoe hebben we het gedaan?",
            Notice::Apology => "Het spijt ons",
        }
    }

    fn body(&self, notice: Notice, v: &View) -> Vec<Block> {
        let id = v.order_id.as_str();
        let site = v.shop.website.as_str();
        match notice {
            Notice::Received => vec![para![
                "Bedankt voor je bestelling! We hebben bestelling ",
                strong(id),
                " ontvangen en controleren nu voorraad en betaling. We mailen je zodra ze bevestigd is, meestal \
                 binnen een paar minuten. Je hoeft niets te doen."
            ]],
            Notice::Confirmed => vec![
                para![
                    "Goed nieuws: alles is op voorraad en je betaling is goedgekeurd. Bestelling ",
                    strong(id),
                    " gaat naar ons magazijn. Verwachte bezorging: ",
                    strong(&v.estimated_delivery),
                    format!(" ({}).", v.shipping_option)
                ],
                para![
                    strong("Hierna:"),
                    " we sturen je de trackinggegevens zodra ze verzonden is. Je kaart wordt pas belast als de \
                     bestelling ons magazijn verlaat."
                ],
            ],
            Notice::Rejected => vec![
                para![
                    "Sorry: we konden niet alles uit bestelling ",
                    strong(id),
                    " reserveren, dus we konden haar niet aannemen."
                ],
                Block::List(
                    v.shortages
                        .iter()
                        .map(|s| format!("{}: je vroeg er {}, we hebben er nog {}", s.name, s.requested, s.available))
                        .collect(),
                ),
                para!["Er is niets afgeschreven. Bestel gerust wat op voorraad is op ", link(site), "."],
            ],
            Notice::PaymentFailed => vec![
                para![
                    "Je betaling voor bestelling ",
                    strong(id),
                    v.decline.map_or_else(|| " is niet gelukt.".to_owned(), |why| format!(" is niet gelukt: {why}"))
                ],
                para![
                    "Er is niets afgeschreven en de artikelen zijn niet meer gereserveerd. Bestel opnieuw met een \
                     andere betaalmethode op ",
                    link(site),
                    ", of neem contact op als je denkt dat dit een vergissing is."
                ],
            ],
            Notice::Shipped => vec![para!["Bestelling ", strong(id), " heeft ons magazijn verlaten."]],
            Notice::OutForDelivery => {
                vec![para!["Een pakket van bestelling ", strong(id), " is onderweg naar je en wordt vandaag bezorgd."]]
            }
            Notice::Delivered => vec![para![
                "Bestelling ",
                strong(id),
                " is bezorgd. Veel plezier ermee! Ontbreekt er iets of is er iets beschadigd, beantwoord dan deze \
                 e-mail en we lossen het op."
            ]],
            Notice::Delayed => match &v.delay {
                Some(delay) if delay.returned_to_sender => vec![para![
                    format!("{} stuurt pakket {} van bestelling ", delay.carrier, delay.tracking_number),
                    strong(id),
                    " naar ons terug. We nemen contact op over opnieuw versturen of terugbetalen; je hoeft niets te doen."
                ]],
                Some(delay) => vec![
                    para![
                        format!("Pakket {} van bestelling ", delay.tracking_number),
                        strong(id),
                        " heeft vertraging",
                        delay
                            .description
                            .as_ref()
                            .map_or_else(String::new, |said| format!(" ({} meldt: {said})", delay.carrier)),
                        format!(". We beloofden het voor {}; ", delay.promised),
                        match &delay.expected {
                            Some(expected) => format!("{} verwacht het nu te bezorgen op {expected}.", delay.carrier),
                            None => format!("{} heeft nog geen nieuwe datum gegeven.", delay.carrier),
                        }
                    ],
                    para![
                        strong("Wat te doen:"),
                        " heeft de bezorger een kaartje achtergelaten, volg dan de instructies; anders niets - hij \
                         probeert het opnieuw. Je kunt het pakket volgen via de trackingpagina hieronder."
                    ],
                ],
                None => vec![para!["Bestelling ", strong(id), " heeft vertraging. We houden je op de hoogte."]],
            },
            Notice::Cancelled => vec![para![
                "Bestelling ",
                strong(id),
                " is geannuleerd. Een reservering op je kaart vervalt; als er al is afgeschreven, volgt de \
                 terugbetaling vanzelf."
            ]],
            Notice::Modified => vec![para![
                "We hebben bestelling ",
                strong(id),
                " aangepast zoals je vroeg. Hier is het nieuwe overzicht."
            ]],
            Notice::ReturnAccepted => match &v.return_request {
                Some(r) => vec![
                    para![
                        "We hebben je retour voor bestelling ",
                        strong(id),
                        " geaccepteerd. Je retournummer is ",
                        strong(&r.rma),
                        ": schrijf het op het pakket."
                    ],
                    para!["Je stuurt terug:"],
                    Block::List(r.lines.clone()),
                    para![
                        "Verpak de artikelen goed en stuur ze terug; zodra ze bij ons zijn, storten we ",
                        strong(&r.refund),
                        " terug op je oorspronkelijke betaalmethode."
                    ],
                ],
                None => vec![para![
                    "We hebben je retour voor bestelling ",
                    strong(id),
                    " geaccepteerd. Verpak de artikelen goed en stuur ze terug; we betalen je terug zodra ze bij ons \
                     zijn."
                ]],
            },
            Notice::Refunded => vec![para![
                "We hebben ",
                strong(v.refunded.as_deref().unwrap_or("je betaling")),
                " voor bestelling ",
                strong(id),
                " teruggestort op je oorspronkelijke betaalmethode. Het kan 5 tot 10 werkdagen duren voor het op je \
                 afschrift staat."
            ]],
            Notice::FeedbackRequest => vec![
                para![
                    "Je bestelling ",
                    strong(id),
                    " is een paar dagen geleden aangekomen. Wil je ons vertellen hoe het ging? Het kost een minuut."
                ],
                Block::Button { label: LABELS.rate_your_order, url: v.feedback_url.clone() },
            ],
            Notice::Apology => {
                let mut blocks = vec![para!["Er ging iets mis met bestelling ", strong(id), ", en dat spijt ons."]];
                if let Some(apology) = &v.apology {
                    blocks.push(para![strong("Wat er gebeurde:"), format!(" {}", apology.what_went_wrong)]);
                    blocks.push(para![strong("Wat we hebben gedaan:"), format!(" {}", apology.remedy)]);
                }
                blocks.push(para!["Is er nog iets niet in orde, beantwoord dan deze e-mail en we lossen het op."]);
                blocks
            }
        }
    }

    fn sms(&self, texted: Texted, v: &View, link: Option<&str>) -> String {
        let (shop, id) = (&v.shop.name, &v.order_id);
        let carrier = v.focus().map_or_else(String::new, |parcel| format!(" met {}", parcel.carrier));
        let track = link.map_or_else(|| ".".to_owned(), |url| format!(". Volgen: {url}"));
        match texted {
            Texted::Confirmed => {
                format!("{shop}: bestelling {id} is bevestigd. Verwachte bezorging {}.", v.estimated_delivery_short)
            }
            Texted::Shipped => format!("{shop}: bestelling {id} is verzonden{carrier}{track}"),
            Texted::OutForDelivery => format!("{shop}: bestelling {id} wordt vandaag bezorgd{carrier}{track}"),
            Texted::Delivered => format!("{shop}: bestelling {id} is bezorgd. Veel plezier!"),
            Texted::Delayed => {
                let estimate =
                    v.delay_expected_short().map_or_else(String::new, |day| format!(" Nieuwe datum: {day}."));
                format!("{shop}: bestelling {id} heeft vertraging.{estimate} Details per e-mail.")
            }
        }
    }
}
