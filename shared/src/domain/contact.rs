//! Customers and where they live: e-mail, phone, country, address. All of it is personal data,
//! so `Debug` masks it and nothing here implements `Display` in clear.

use std::fmt;

use super::text::{InvalidValue, Line, checked_string};

fn check_email(raw: &str) -> Result<String, InvalidValue> {
    let invalid = InvalidValue::new("invalid_email", "is not an e-mail address");
    if raw.len() > 254 || raw.trim() != raw {
        return Err(invalid);
    }
    let (local, domain) = raw.rsplit_once('@').ok_or(invalid)?;
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if local_ok && domain_ok { Ok(format!("{local}@{}", domain.to_ascii_lowercase())) } else { Err(invalid) }
}

checked_string!(
    /// A deliverable-looking e-mail address; the domain is lower-cased.
    EmailAddress,
    check_email
);

impl EmailAddress {
    /// The part after the `@`, lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// `a***@e***.com`: enough to tell two customers apart in a log, not enough to write to one.
    pub(crate) fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
        format!("{}***@{}***.{tld}", first_char(local), first_char(host))
    }
}

fn first_char(text: &str) -> &str {
    text.char_indices().nth(1).map_or(text, |(end, _)| &text[..end])
}

fn check_phone(raw: &str) -> Result<String, InvalidValue> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    let valid =
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(InvalidValue::new("invalid_phone", "must be an E.164 number such as +14155550123"))
    }
}

checked_string!(
    /// A phone number in E.164: `+`, a country code and the number, 8 to 15 digits in all.
    PhoneNumber,
    check_phone
);

impl PhoneNumber {
    /// `+44*******89`: the country and the last two digits only.
    pub(crate) fn masked(&self) -> String {
        let digits = &self.0[1..];
        let shown_tail = &digits[digits.len() - 2..];
        format!("+{}{}{shown_tail}", &digits[..2], "*".repeat(digits.len() - 4))
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// ISO 3166-1 alpha-2, all 249 assigned codes, sorted.
const ISO_3166_ALPHA_2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR \
HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU \
LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU \
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO \
SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU \
WF WS YE YT ZA ZM ZW";

fn check_country(raw: &str) -> Result<String, InvalidValue> {
    let assigned = raw.len() == 2 && ISO_3166_ALPHA_2.split(' ').any(|code| code == raw);
    if assigned {
        Ok(raw.to_owned())
    } else {
        Err(InvalidValue::new("invalid_country", "is not an ISO 3166-1 alpha-2 country code"))
    }
}

checked_string!(
    /// A country, as its ISO 3166-1 alpha-2 code in capitals (`DE`, `US`).
    CountryCode,
    check_country
);

super::text::show_plainly!(CountryCode);

/// A postal address. Which fields a country requires, and postal-code formats, come with the
/// shipping checks; here every present field is a valid [`Line`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub name: Line,
    pub line1: Line,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<Line>,
    pub city: Line,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<Line>,
    pub country: CountryCode,
}

/// Who ordered, and how they may be reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Customer {
    pub name: Line,
    pub email: EmailAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    /// Text messages go only to customers who gave a phone number and said yes.
    #[serde(default)]
    pub sms_opt_in: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_e_mail_addresses_are_accepted_and_the_domain_lower_cased() {
        assert_eq!(
            EmailAddress::parse("Ada.Lovelace+shop@Example.CO.uk").unwrap().as_str(),
            "Ada.Lovelace+shop@example.co.uk"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada @example.com",
            " ada@example.com",
            "ada@exa_mple.com",
            ".ada@example.com",
            "a..b@example.com",
            "ada@example.c0m",
            "ada@-example.com",
        ] {
            assert_eq!(EmailAddress::parse(bad).unwrap_err().code, "invalid_email", "{bad:?}");
        }
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(PhoneNumber::parse("+14155550123").is_ok());
        assert!(PhoneNumber::parse("+447911123456").is_ok());
        for bad in ["", "14155550123", "+0123456789", "+1 415 555 0123", "+1234567", "+1234567890123456", "+44abc"] {
            assert_eq!(PhoneNumber::parse(bad).unwrap_err().code, "invalid_phone", "{bad:?}");
        }
    }

    #[test]
    fn personal_data_is_masked_in_debug_output() {
        let email = EmailAddress::parse("ada@example.com").unwrap();
        let phone = PhoneNumber::parse("+447911123456").unwrap();
        assert_eq!(format!("{email:?}"), "EmailAddress(a***@e***.com)");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(+44********56)");
        let customer = Customer { name: Line::parse("Ada").unwrap(), email, phone: Some(phone), sms_opt_in: true };
        let shown = format!("{customer:?}");
        assert!(
            !shown.contains("ada@example.com") && !shown.contains("7911123456") && !shown.contains("Ada"),
            "{shown}"
        );
    }

    #[test]
    fn countries_are_assigned_iso_codes() {
        let codes: Vec<&str> = ISO_3166_ALPHA_2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(CountryCode::parse("DE").is_ok());
        for bad in ["de", "DEU", "XX", "", "UK"] {
            assert_eq!(CountryCode::parse(bad).unwrap_err().code, "invalid_country", "{bad:?}");
        }
    }
}
