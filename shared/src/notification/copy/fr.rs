//! French: "vous", and French typography's spaces inside amounts.

use chrono::{Datelike, NaiveDate};

use super::{Calendar, NumberStyle, Phrasebook, amount_then_currency, ended, link, para, strong};
use crate::domain::{DeclineKind, Money, Remedy};
use crate::notification::{
    Notice, Texted,
    view::{Block, Frame, Labels, View},
};

pub(super) struct French;

const LABELS: Labels = Labels {
    greeting: Frame("Bonjour ", ","),
    order_heading: Frame("Commande ", ""),
    placed: Frame("Passée le ", ""),
    each: Frame("", " l'unité"),
    tracking_number: Frame(", numéro de suivi ", ""),
    arriving: Frame("Livraison prévue le ", ""),
    write_to: "Une question ? Répondez à cet e-mail ou écrivez à ",
    or_call: Frame(", ou appelez le ", "."),
    parcels: "Colis",
    delivered: "Livré",
    track_this_parcel: "Suivre ce colis",
    subtotal: "Sous-total",
    shipping: "Frais de port",
    tax: "TVA",
    total: "Total",
    delivery: "Livraison",
    standard: "Standard",
    express: "Express",
    you_may_also_like: "Vous aimerez aussi",
    see_your_order: "Voir votre commande",
    rate_your_order: "Noter votre commande",
    colon: " : ",
    payment_method_unusable: "le moyen de paiement n'a pas pu être utilisé.",
};

const CALENDAR: Calendar = Calendar {
    weekdays: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    weekdays_short: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    months_short: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
};

impl Phrasebook for French {
    fn labels(&self) -> &'static Labels {
        &LABELS
    }

    /// `jeudi 26 novembre 2026`; the first of the month is `1er`.
    fn long_date(&self, day: NaiveDate, _region: Option<&str>) -> String {
        let date = if day.day() == 1 { "1er".to_owned() } else { day.day().to_string() };
        format!("{} {date} {} {}", CALENDAR.weekday(day), CALENDAR.month(day), day.year())
    }

    /// `jeu. 26 nov.`
    fn short_date(&self, day: NaiveDate, _region: Option<&str>) -> String {
        format!("{} {} {}", CALENDAR.weekday_short(day), day.day(), CALENDAR.month_short(day))
    }

    /// `1 234,50 €` with a narrow no-break space between thousands and a no-break space before
    /// the currency.
    fn money(&self, amount: Money) -> String {
        amount_then_currency(amount, &NumberStyle { group: '\u{202f}', decimal: ',' })
    }

    fn decline(&self, kind: DeclineKind) -> &'static str {
        match kind {
            DeclineKind::InsufficientFunds => "le solde de votre carte est insuffisant.",
            DeclineKind::Expired => "votre carte a expiré.",
            DeclineKind::SecurityCode => "le cryptogramme de votre carte est incorrect.",
            DeclineKind::CardNumber => "le numéro de votre carte est incorrect.",
            DeclineKind::Limit => "votre carte a atteint son plafond. Veuillez essayer une autre carte.",
            DeclineKind::Declined => "votre carte a été refusée.",
        }
    }

    fn remedy(&self, remedy: Remedy) -> &'static str {
        match remedy {
            Remedy::Refund => {
                "Nous vous avons remboursé sur votre moyen de paiement d'origine ; le montant peut mettre 5 à 10 \
                 jours ouvrés à apparaître."
            }
            Remedy::Amendment => {
                "Nous avons corrigé votre commande : le récapitulatif ci-dessous la montre telle qu'elle est."
            }
            Remedy::ExpeditedShipment => "Nous vous l'envoyons en livraison express, sans frais pour vous.",
            Remedy::Other => "Nous avons réglé le problème comme décrit ci-dessus.",
        }
    }

    fn subject(&self, notice: Notice, id: &str) -> String {
        match notice {
            Notice::Received => format!("Nous avons bien reçu votre commande {id}"),
            Notice::Confirmed => format!("Commande {id} confirmée"),
            Notice::Rejected => format!("Nous n'avons pas pu accepter la commande {id}"),
            Notice::PaymentFailed => format!("Échec du paiement de la commande {id}"),
            Notice::Shipped => format!("Commande {id} expédiée"),
            Notice::OutForDelivery => format!("Commande {id} en cours de livraison"),
            Notice::Delivered => format!("Commande {id} livrée"),
            Notice::Delayed => format!("Commande {id} retardée"),
            Notice::Cancelled => format!("Commande {id} annulée"),
            Notice::Modified => format!("Commande {id} modifiée"),
            Notice::ReturnAccepted => format!("Votre retour pour la commande {id} est accepté"),
            Notice::Refunded => format!("Remboursement de la commande {id}"),
            Notice::FeedbackRequest => format!("Comment s'est passée la commande {id} ?"),
            Notice::Apology => format!("Toutes nos excuses pour la commande {id}"),
        }
    }

    fn headline(&self, notice: Notice) -> &'static str {
        match notice {
            Notice::Received => "Nous avons reçu votre commande",
            Notice::Confirmed => "Votre commande est confirmée",
            Notice::Rejected => "Nous n'avons pas pu accepter votre commande",
            Notice::PaymentFailed => "Votre paiement n'est pas passé",
            Notice::Shipped => "Votre commande est en route",
            Notice::OutForDelivery => "Livraison aujourd'hui",
            Notice::Delivered => "Livrée",
            Notice::Delayed => "Votre livraison est retardée",
            Notice::Cancelled => "Votre commande est annulée",
            Notice::Modified => "Votre commande a été modifiée",
            Notice::ReturnAccepted => "Votre retour est accepté",
            Notice::Refunded => "Votre remboursement est en route",
            Notice::FeedbackRequest => "Votre avis nous intéresse",
            Notice::Apology => "Toutes nos excuses",
        }
    }

    fn body(&self, notice: Notice, v: &View) -> Vec<Block> {
        let id = v.order_id.as_str();
        let site = v.shop.website.as_str();
        match notice {
            Notice::Received => vec![para![
                "Merci pour votre commande ! Nous avons bien reçu la commande ",
                strong(id),
                " et vérifions maintenant le stock et le paiement. Nous vous écrirons dès qu'elle sera confirmée, en \
                 général en quelques minutes. Vous n'avez rien à faire."
            ]],
            Notice::Confirmed => vec![
                para![
                    "Bonne nouvelle : tout est en stock et votre paiement est autorisé. La commande ",
                    strong(id),
                    " part vers notre entrepôt. Livraison prévue : ",
                    strong(&v.estimated_delivery),
                    format!(" ({}).", v.shipping_option)
                ],
                para![
                    strong("Ensuite :"),
                    " nous vous enverrons le suivi dès l'expédition. Votre carte n'est débitée qu'au départ de \
                     notre entrepôt."
                ],
            ],
            Notice::Rejected => vec![
                para![
                    "Désolés : nous n'avons pas pu réserver tous les articles de la commande ",
                    strong(id),
                    ", nous n'avons donc pas pu l'accepter."
                ],
                Block::List(
                    v.shortages
                        .iter()
                        .map(|s| {
                            format!("{} : vous en avez demandé {}, il en reste {}", s.name, s.requested, s.available)
                        })
                        .collect(),
                ),
                para!["Rien n'a été débité. Vous pouvez commander ce qui est en stock sur ", link(site), "."],
            ],
            Notice::PaymentFailed => vec![
                para![
                    "Votre paiement pour la commande ",
                    strong(id),
                    v.decline.map_or_else(|| " n'est pas passé.".to_owned(), |why| format!(" n'est pas passé : {why}"))
                ],
                para![
                    "Rien n'a été débité et les articles ne sont plus réservés. Merci de commander à nouveau avec un \
                     autre moyen de paiement sur ",
                    link(site),
                    ", ou de nous contacter si vous pensez qu'il s'agit d'une erreur."
                ],
            ],
            Notice::Shipped => vec![para!["La commande ", strong(id), " a quitté notre entrepôt."]],
            Notice::OutForDelivery => vec![para![
                "Un colis de la commande ",
                strong(id),
                " est en cours de livraison et devrait vous parvenir aujourd'hui."
            ]],
            Notice::Delivered => vec![para![
                "La commande ",
                strong(id),
                " a été livrée. Nous espérons qu'elle vous plaira ! S'il manque quelque chose ou si un article est \
                 abîmé, répondez à cet e-mail et nous arrangerons cela."
            ]],
            Notice::Delayed => match &v.delay {
                Some(delay) if delay.returned_to_sender => vec![para![
                    format!("{} nous renvoie le colis {} de la commande ", delay.carrier, delay.tracking_number),
                    strong(id),
                    ". Nous vous contacterons pour le renvoyer ou vous rembourser ; vous n'avez rien à faire."
                ]],
                Some(delay) => vec![
                    para![
                        format!("Le colis {} de la commande ", delay.tracking_number),
                        strong(id),
                        " a du retard",
                        delay
                            .description
                            .as_ref()
                            .map_or_else(String::new, |said| format!(" ({} signale : {said})", delay.carrier)),
                        format!(". Nous l'avions promis pour le {} ; ", delay.promised),
                        match &delay.expected {
                            Some(expected) =>
                                format!("{} prévoit maintenant de le livrer le {expected}.", delay.carrier),
                            None => format!("{} n'a pas encore donné de nouvelle date.", delay.carrier),
                        }
                    ],
                    para![
                        strong("Que faire ?"),
                        " Si le transporteur a laissé un avis de passage, suivez ses instructions ; sinon rien, il \
                         repassera. Vous pouvez suivre le colis sur la page de suivi ci-dessous."
                    ],
                ],
                None => vec![para!["La commande ", strong(id), " a du retard. Nous vous tiendrons au courant."]],
            },
            Notice::Cancelled => vec![para![
                "La commande ",
                strong(id),
                " a été annulée. Toute réservation sur votre carte est levée ; si vous avez été débité, le \
                 remboursement suit automatiquement."
            ]],
            Notice::Modified => vec![para![
                "Nous avons modifié la commande ",
                strong(id),
                " comme vous l'avez demandé. Voici le nouveau récapitulatif."
            ]],
            Notice::ReturnAccepted => match &v.return_request {
                Some(r) => vec![
                    para![
                        "Nous avons accepté votre retour pour la commande ",
                        strong(id),
                        ". Votre numéro de retour est ",
                        strong(&r.rma),
                        " : merci de l'inscrire sur le colis."
                    ],
                    para!["Articles retournés :"],
                    Block::List(r.lines.clone()),
                    para![
                        "Emballez les articles avec soin et renvoyez-les ; dès leur arrivée, nous rembourserons ",
                        strong(&r.refund),
                        " sur votre moyen de paiement d'origine."
                    ],
                ],
                None => vec![para![
                    "Nous avons accepté votre retour pour la commande ",
                    strong(id),
                    ". Emballez les articles avec soin et renvoyez-les ; nous vous rembourserons dès leur arrivée."
                ]],
            },
            Notice::Refunded => vec![para![
                "Nous avons remboursé ",
                strong(v.refunded.as_deref().unwrap_or("votre paiement")),
                " pour la commande ",
                strong(id),
                " sur votre moyen de paiement d'origine. Le montant peut mettre 5 à 10 jours ouvrés à apparaître sur \
                 votre relevé."
            ]],
            Notice::FeedbackRequest => vec![
                para![
                    "Votre commande ",
                    strong(id),
                    " est arrivée il y a quelques jours. Pouvez-vous nous dire comment cela s'est passé ? Cela prend \
                     une minute."
                ],
                Block::Button { label: LABELS.rate_your_order, url: v.feedback_url.clone() },
            ],
            Notice::Apology => {
                let mut blocks = vec![para![
                    "Un problème est survenu avec la commande ",
                    strong(id),
                    ", et nous en sommes désolés."
                ]];
                if let Some(apology) = &v.apology {
                    blocks.push(para![strong("Ce qui s'est passé :"), format!(" {}", apology.what_went_wrong)]);
                    blocks.push(para![strong("Ce que nous avons fait :"), format!(" {}", apology.remedy)]);
                }
                blocks.push(para![
                    "Si quelque chose ne va toujours pas, répondez à cet e-mail et nous arrangerons cela."
                ]);
                blocks
            }
        }
    }

    /// Written in GSM-7: no ç, â, ê, î, ô or û of our own.
    fn sms(&self, texted: Texted, v: &View, link: Option<&str>) -> String {
        let (shop, id) = (&v.shop.name, &v.order_id);
        let carrier = v.focus().map_or_else(String::new, |parcel| format!(" avec {}", parcel.carrier));
        let track = link.map_or_else(|| ".".to_owned(), |url| format!(". Suivi : {url}"));
        match texted {
            Texted::Confirmed => {
                format!("{shop} : commande {id} confirmée. Livraison prévue {}", ended(&v.estimated_delivery_short))
            }
            Texted::Shipped => format!("{shop} : commande {id} expédiée{carrier}{track}"),
            Texted::OutForDelivery => format!("{shop} : commande {id} en livraison aujourd'hui{carrier}{track}"),
            Texted::Delivered => format!("{shop} : commande {id} livrée. Bonne journée !"),
            Texted::Delayed => {
                let estimate =
                    v.delay_expected_short().map_or_else(String::new, |day| format!(" Nouvelle date : {}", ended(day)));
                format!("{shop} : commande {id} retardée.{estimate} Détails par e-mail.")
            }
        }
    }
}
