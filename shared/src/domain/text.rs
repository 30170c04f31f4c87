//! Validated text values: every constructor checks, so a value that exists is valid.

use std::fmt;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Why a value was refused. `code` is stable and reaches API clients; `reason` is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidValue {
    pub code: &'static str,
    pub reason: &'static str,
}

impl InvalidValue {
    pub const fn new(code: &'static str, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

/// Defines a string newtype whose only ways in are `parse`, `TryFrom<String>` and `Deserialize`,
/// all through the same check.
macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, $crate::domain::InvalidValue> {
                $check(raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::InvalidValue;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::InvalidValue;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }
    };
}
pub(crate) use checked_string;

/// Implements `Display` and `Debug` as the plain value, for values that are not personal data.
macro_rules! show_plainly {
    ($($name:ident),+) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    )+};
}
pub(crate) use show_plainly;

const MAX_LINE_CHARS: usize = 200;

/// Text that hides or reorders what a reader sees.
pub(crate) const HIDDEN_CHARACTERS: InvalidValue =
    InvalidValue::new("invalid_characters", "must not contain control or invisible formatting characters");

/// Text that holds a card number: card data goes to the payment provider, never to us.
pub(crate) const CARD_NUMBER: InvalidValue = InvalidValue::new(
    "card_number_refused",
    "must not hold a card number: the storefront sends card details to the payment provider only",
);

/// Whether `c` changes how the text around it displays, or does not display at all: a control
/// (Cc), a format character (Cf: bidirectional overrides and isolates, zero-width spaces and
/// joiners, the soft hyphen, …) or a line or paragraph separator (Zl, Zp). A name or a note that
/// holds one can read differently to the customer, the operator and the warehouse's label.
pub(crate) fn is_hidden_or_control(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Whether `text` holds what looks like a card's primary account number: 12 to 19 digits in a
/// run, grouped or not by spaces or dashes, that pass the Luhn check; not after a `+`, which
/// starts a phone number. Full-width digits (as a Japanese keyboard types them) count.
pub fn holds_card_number(text: &str) -> bool {
    let mut run = Vec::with_capacity(19);
    // A run written after `+` is a phone number in international form, which no card is.
    let mut phone = false;
    let mut previous = None;
    for c in text.chars() {
        if let Some(digit) = decimal_digit(c) {
            phone |= run.is_empty() && matches!(previous, Some('+' | '\u{ff0b}'));
            run.push(digit);
        } else if run.is_empty() || !matches!(c, ' ' | '-' | '\u{a0}' | '\u{3000}' | '\u{ff0d}') {
            if !phone && is_card_number(&run) {
                return true;
            }
            run.clear();
            phone = false;
        }
        previous = Some(c);
    }
    !phone && is_card_number(&run)
}

fn decimal_digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{ff10}'..='\u{ff19}' => u8::try_from(u32::from(c) - 0xff10).ok(),
        _ => None,
    }
}

fn is_card_number(digits: &[u8]) -> bool {
    let luhn_sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 1 { (digit * 2).div_euclid(10) + (digit * 2) % 10 } else { digit }
        })
        .sum();
    (12..=19).contains(&digits.len()) && luhn_sum.is_multiple_of(10)
}

/// Free text a person will read (a name, an address line, a note): nothing hidden, no card number.
pub(crate) fn check_readable(text: &str) -> Result<(), InvalidValue> {
    if text.chars().any(is_hidden_or_control) {
        return Err(HIDDEN_CHARACTERS);
    }
    if holds_card_number(text) {
        return Err(CARD_NUMBER);
    }
    Ok(())
}

fn check_line(raw: &str) -> Result<String, InvalidValue> {
    if raw.trim().is_empty() {
        return Err(InvalidValue::new("empty_value", "must not be empty"));
    }
    if raw.chars().count() > MAX_LINE_CHARS {
        return Err(InvalidValue::new("too_long", "must be at most 200 characters"));
    }
    check_readable(raw)?;
    Ok(raw.trim().to_owned())
}

checked_string!(
    /// One line of human text: a name, a street, a city. Trimmed, 1 to 200 characters,
    /// [readable](check_readable). Personal data: `Debug` hides it.
    Line,
    check_line
);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Line(<{} chars>)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_and_bounded() {
        assert_eq!(Line::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(Line::parse("   ").unwrap_err().code, "empty_value");
        assert_eq!(Line::parse(&"x".repeat(201)).unwrap_err().code, "too_long");
        assert_eq!(Line::parse("a\u{0}b").unwrap_err().code, "invalid_characters");
        assert!(Line::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn text_that_hides_or_reorders_itself_is_refused() {
        // Bidirectional override and isolate, zero-width space and joiner, soft hyphen, BOM,
        // line separator, a tag character, DEL, a C1 control.
        for hidden in [
            '\u{202e}',
            '\u{2066}',
            '\u{200b}',
            '\u{200d}',
            '\u{ad}',
            '\u{feff}',
            '\u{2028}',
            '\u{e0041}',
            '\u{7f}',
            '\u{85}',
        ] {
            assert_eq!(Line::parse(&format!("Ada{hidden}Lovelace")).unwrap_err(), HIDDEN_CHARACTERS, "{hidden:?}");
        }
        for shown in ["Zoë Ñúñez", "Łódź", "東京都", "مرحبا", "Ōsaka 🚚", "O'Brien-Smith"] {
            assert!(Line::parse(shown).is_ok(), "{shown}");
        }
    }

    #[test]
    fn card_numbers_are_found_however_they_are_grouped() {
        for card in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
            "pay with 5555555555554444 please",
            "378282246310005",
            "６０１１１１１１１１１１１１１７",
            "4000 0566 5566 5556",
            "4242  4242 - 4242 4242.",
        ] {
            assert!(holds_card_number(card), "{card}");
            assert_eq!(Line::parse(card).unwrap_err(), CARD_NUMBER, "{card}");
        }
        for not_a_card in [
            "4242424242424241",
            "4242 4242 4242 4242 4",
            "12 Analytical Row",
            "call +44 7911 123456",
            "+4242424242424242",
            "424242424242424242424",
            "42424242424",
        ] {
            assert!(!holds_card_number(not_a_card), "{not_a_card}");
        }
    }

    #[test]
    fn a_line_does_not_show_itself_in_debug_output() {
        let line = Line::parse("10 Downing Street").unwrap();
        assert_eq!(format!("{line:?}"), "Line(<17 chars>)");
    }

    #[test]
    fn deserialising_runs_the_same_check() {
        assert!(serde_json::from_str::<Line>("\"\"").is_err());
        assert_eq!(serde_json::from_str::<Line>("\"Paris\"").unwrap().as_str(), "Paris");
    }
}
