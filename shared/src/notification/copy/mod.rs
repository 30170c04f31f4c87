//! Every word a customer reads, per language. Each language is a [`Phrasebook`] whose methods
//! all have to be written and whose matches over [`Notice`] are exhaustive: a notice, label or
//! remedy without its sentence in one language fails the build, never a send.

mod de;
mod en;
mod fr;
mod nl;

use chrono::{Datelike, NaiveDate};

use super::{
    Notice, Texted,
    view::{Block, Labels, Span, View},
};
use crate::domain::{CountryCode, DeclineKind, Language, Money, Remedy};

/// The phrasebook a language's messages are written from.
pub(super) fn words(language: Language) -> &'static dyn Phrasebook {
    match language {
        Language::English => &en::English,
        Language::German => &de::German,
        Language::French => &fr::French,
        Language::Dutch => &nl::Dutch,
    }
}

/// The language's column in the tables of names below.
fn column(language: Language) -> usize {
    match language {
        Language::English => 0,
        Language::German => 1,
        Language::French => 2,
        Language::Dutch => 3,
    }
}

/// Emphasised text: an order number, a date, an amount.
pub(super) fn strong(text: &str) -> Span {
    Span::Strong(text.to_owned())
}

/// A link that shows its own address.
pub(super) fn link(url: &str) -> Span {
    Span::Link { text: url.to_owned(), url: url.to_owned() }
}

/// `text` ending a sentence: a full stop, unless it ends with one (`Do. 26.11.`).
pub(super) fn ended(text: &str) -> String {
    if text.ends_with('.') { text.to_owned() } else { format!("{text}.") }
}

/// The shop's support address, to write to.
pub(super) fn email_link(address: &str) -> Span {
    Span::Link { text: address.to_owned(), url: format!("mailto:{address}") }
}

/// `para!["Order ", strong(id), " has shipped."]`: a paragraph of spans and plain strings.
macro_rules! para {
    ($($span:expr),+ $(,)?) => {
        $crate::notification::view::Block::Paragraph(vec![$($crate::notification::view::Span::from($span)),+])
    };
}
pub(super) use para;

/// One language's copy and conventions. No method has a default: a new language writes them all.
pub(super) trait Phrasebook: Sync {
    fn labels(&self) -> &'static Labels;
    /// A day written out in full; `region` is the locale's (`US` puts the month first).
    fn long_date(&self, day: NaiveDate, region: Option<&str>) -> String;
    /// A day in a few characters, for text messages.
    fn short_date(&self, day: NaiveDate, region: Option<&str>) -> String;
    fn money(&self, amount: Money) -> String;
    fn decline(&self, kind: DeclineKind) -> &'static str;
    fn remedy(&self, remedy: Remedy) -> &'static str;
    fn subject(&self, notice: Notice, order_id: &str) -> String;
    fn headline(&self, notice: Notice) -> &'static str;
    fn body(&self, notice: Notice, v: &View) -> Vec<Block>;
    /// The text message; `link` is the tracking page when it fits.
    fn sms(&self, texted: Texted, v: &View, link: Option<&str>) -> String;
}

/// "Questions? Write to …, or call …." in the language of `labels`.
pub(super) fn questions(labels: &Labels, support_email: &str, support_phone: Option<&str>) -> Vec<Span> {
    let end = support_phone.map_or_else(|| labels.or_call.1.to_owned(), |phone| labels.or_call.around(phone));
    vec![labels.write_to.into(), email_link(support_email), end.into()]
}

/// How a language writes numbers and where the currency goes.
pub(super) struct NumberStyle {
    pub group: char,
    pub decimal: char,
}

/// The amount's sign and digits: `("-", "1.234,50")`.
pub(super) fn digits(amount: Money, style: &NumberStyle) -> (&'static str, String) {
    let (sign, whole, fraction) = amount.decimal_parts();
    let whole = whole.to_string();
    let mut number = String::with_capacity(whole.len() + whole.len() / 3 + fraction.len() + 1);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            number.push(style.group);
        }
        number.push(digit);
    }
    if !fraction.is_empty() {
        number.push(style.decimal);
        number.push_str(&fraction);
    }
    (sign, number)
}

/// `1.234,50 €`: the amount, a no-break space, the currency's symbol or code.
pub(super) fn amount_then_currency(amount: Money, style: &NumberStyle) -> String {
    let (sign, number) = digits(amount, style);
    let currency = symbol(amount).map_or_else(|| amount.currency().to_string(), str::to_owned);
    format!("{sign}{number}\u{a0}{currency}")
}

/// Currencies written with a symbol; the rest by their code.
pub(super) fn symbol(amount: Money) -> Option<&'static str> {
    const SYMBOLS: &[(&str, &str)] =
        &[("AUD", "A$"), ("CAD", "C$"), ("EUR", "€"), ("GBP", "£"), ("JPY", "¥"), ("NZD", "NZ$"), ("USD", "$")];
    SYMBOLS.iter().find(|(code, _)| *code == amount.currency().code()).map(|(_, symbol)| *symbol)
}

/// A language's names of the days and months, Monday and January first.
pub(super) struct Calendar {
    pub weekdays: [&'static str; 7],
    pub weekdays_short: [&'static str; 7],
    pub months: [&'static str; 12],
    pub months_short: [&'static str; 12],
}

impl Calendar {
    pub(super) fn weekday(&self, day: NaiveDate) -> &'static str {
        self.weekdays[day.weekday().num_days_from_monday() as usize]
    }

    pub(super) fn weekday_short(&self, day: NaiveDate) -> &'static str {
        self.weekdays_short[day.weekday().num_days_from_monday() as usize]
    }

    pub(super) fn month(&self, day: NaiveDate) -> &'static str {
        self.months[day.month0() as usize]
    }

    pub(super) fn month_short(&self, day: NaiveDate) -> &'static str {
        self.months_short[day.month0() as usize]
    }
}

/// Country names by language (English, German, French, Dutch): the countries whose addresses
/// we check and where shops here sell. Others are written as their ISO code, which every post
/// reads.
const COUNTRIES: &[(&str, [&str; 4])] = &[
    ("AT", ["Austria", "Österreich", "Autriche", "Oostenrijk"]),
    ("AU", ["Australia", "Australien", "Australie", "Australië"]),
    ("BE", ["Belgium", "Belgien", "Belgique", "België"]),
    ("CA", ["Canada", "Kanada", "Canada", "Canada"]),
    ("CH", ["Switzerland", "Schweiz", "Suisse", "Zwitserland"]),
    ("CZ", ["Czechia", "Tschechien", "Tchéquie", "Tsjechië"]),
    ("DE", ["Germany", "Deutschland", "Allemagne", "Duitsland"]),
    ("DK", ["Denmark", "Dänemark", "Danemark", "Denemarken"]),
    ("ES", ["Spain", "Spanien", "Espagne", "Spanje"]),
    ("FI", ["Finland", "Finnland", "Finlande", "Finland"]),
    ("FR", ["France", "Frankreich", "France", "Frankrijk"]),
    ("GB", ["United Kingdom", "Vereinigtes Königreich", "Royaume-Uni", "Verenigd Koninkrijk"]),
    ("IE", ["Ireland", "Irland", "Irlande", "Ierland"]),
    ("IT", ["Italy", "Italien", "Italie", "Italië"]),
    ("JP", ["Japan", "Japan", "Japon", "Japan"]),
    ("LU", ["Luxembourg", "Luxemburg", "Luxembourg", "Luxemburg"]),
    ("NL", ["Netherlands", "Niederlande", "Pays-Bas", "Nederland"]),
    ("NO", ["Norway", "Norwegen", "Norvège", "Noorwegen"]),
    ("NZ", ["New Zealand", "Neuseeland", "Nouvelle-Zélande", "Nieuw-Zeeland"]),
    ("PL", ["Poland", "Polen", "Pologne", "Polen"]),
    ("PT", ["Portugal", "Portugal", "Portugal", "Portugal"]),
    ("SE", ["Sweden", "Schweden", "Suède", "Zweden"]),
    ("US", ["United States", "Vereinigte Staaten", "États-Unis", "Verenigde Staten"]),
];

/// The country's name in `language`, or its code for a country not in the table.
pub(super) fn country_name(country: &CountryCode, language: Language) -> String {
    COUNTRIES
        .iter()
        .find(|(code, _)| *code == country.as_str())
        .map_or_else(|| country.to_string(), |(_, names)| names[column(language)].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_country_with_address_rules_has_a_name_in_every_language() {
        for code in ["US", "CA", "GB", "DE", "FR", "NL", "AU", "JP", "NZ"] {
            let country = CountryCode::parse(code).unwrap();
            for language in Language::ALL {
                assert_ne!(country_name(&country, language), code, "{code} in {language:?}");
            }
        }
        assert_eq!(country_name(&CountryCode::parse("DE").unwrap(), Language::French), "Allemagne");
        assert_eq!(country_name(&CountryCode::parse("BR").unwrap(), Language::German), "BR");
    }

    #[test]
    fn each_language_writes_amounts_its_own_way() {
        let amount = |units, code| Money::new(units, crate::domain::Currency::parse(code).unwrap());
        let cases = [
            (amount(123_450, "EUR"), ["€1,234.50", "1.234,50\u{a0}€", "1\u{202f}234,50\u{a0}€", "€\u{a0}1.234,50"]),
            (amount(-399, "GBP"), ["-£3.99", "-3,99\u{a0}£", "-3,99\u{a0}£", "£\u{a0}-3,99"]),
            (amount(1_500, "JPY"), ["¥1,500", "1.500\u{a0}¥", "1\u{202f}500\u{a0}¥", "¥\u{a0}1.500"]),
            (amount(1_250, "CHF"), ["12.50 CHF", "12,50\u{a0}CHF", "12,50\u{a0}CHF", "CHF\u{a0}12,50"]),
            (amount(5, "EUR"), ["€0.05", "0,05\u{a0}€", "0,05\u{a0}€", "€\u{a0}0,05"]),
        ];
        for (money, written) in cases {
            for (language, expected) in Language::ALL.into_iter().zip(written) {
                assert_eq!(words(language).money(money), expected, "{language:?}");
            }
        }
        assert_eq!(amount(100_000_000, "USD").to_string(), "1000000.00 USD", "operators read the amount and its code");
    }

    #[test]
    fn each_language_writes_days_its_own_way() {
        let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let written: Vec<(String, String)> = Language::ALL
            .into_iter()
            .map(|language| (words(language).long_date(day, None), words(language).short_date(day, None)))
            .collect();
        let expected = [
            ("Saturday 1 August 2026", "Sat 1 Aug"),
            ("Samstag, 1. August 2026", "Sa. 1.8."),
            ("samedi 1er août 2026", "sam. 1 août"),
            ("zaterdag 1 augustus 2026", "za 1 aug"),
        ];
        for ((long, short), (expected_long, expected_short)) in written.iter().zip(expected) {
            assert_eq!((long.as_str(), short.as_str()), (expected_long, expected_short));
        }
    }
}
