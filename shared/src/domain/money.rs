//! Money in integer minor units of an ISO 4217 currency. No floating point anywhere.

use std::fmt;

use super::text::InvalidValue;

/// Active ISO 4217 currency codes with their minor-unit exponents, sorted for binary search.
/// Fund codes and precious metals are left out: a shop does not sell in them.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency, stored as its index into the table: `Copy`, and valid by construction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(u8);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        ISO_4217
            .binary_search_by(|(code, _)| code.cmp(&raw))
            .ok()
            .and_then(|index| u8::try_from(index).ok())
            .map(Self)
            .ok_or(InvalidValue::new("invalid_currency", "is not an ISO 4217 currency code"))
    }

    pub fn code(self) -> &'static str {
        ISO_4217[usize::from(self.0)].0
    }

    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(self) -> u8 {
        ISO_4217[usize::from(self.0)].1
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, InvalidValue> {
        Self::parse(&raw)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

/// An amount of one currency in its minor units (cents for EUR, yen for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    minor_units: i64,
    currency: Currency,
}

impl Money {
    pub const fn new(minor_units: i64, currency: Currency) -> Self {
        Self { minor_units, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    pub fn minor_units(self) -> i64 {
        self.minor_units
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The sum of two amounts of the same currency; `None` for different currencies.
    pub(crate) fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor_units.checked_add(other.minor_units))
            .flatten()
            .map(|sum| Money::new(sum, self.currency))
    }

    pub(crate) fn checked_mul(self, factor: u16) -> Option<Money> {
        self.minor_units.checked_mul(i64::from(factor)).map(|product| Money::new(product, self.currency))
    }

    /// `rate` in basis points (1/100 of a percent), rounded half away from zero.
    pub(crate) fn checked_percentage(self, basis_points: u32) -> Option<Money> {
        let scaled = i128::from(self.minor_units) * i128::from(basis_points);
        let rounded = (scaled + scaled.signum() * 5_000) / 10_000;
        i64::try_from(rounded).ok().map(|units| Money::new(units, self.currency))
    }
}

impl Money {
    /// The amount split as its currency writes it: the sign, the whole units, and the minor
    /// units zero-padded to the currency's exponent (empty for a currency without them), e.g.
    /// `("-", 1234, "50")` for -1234.50 EUR. Every way we write an amount starts here.
    pub(crate) fn decimal_parts(self) -> (&'static str, u64, String) {
        let exponent = u32::from(self.currency.exponent());
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let units = self.minor_units.unsigned_abs();
        let scale = 10u64.pow(exponent);
        let fraction =
            if exponent == 0 { String::new() } else { format!("{:0width$}", units % scale, width = exponent as usize) };
        (sign, units / scale, fraction)
    }
}

impl fmt::Display for Money {
    /// `12.34 EUR`, `1500 JPY`, `-0.050 KWD`: how operators read an amount, in logs, problems,
    /// the demo and dispute evidence alike.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, whole, fraction) = self.decimal_parts();
        let point = if fraction.is_empty() { "" } else { "." };
        write!(f, "{sign}{whole}{point}{fraction} {}", self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn the_currency_table_is_sorted_and_unique() {
        assert!(ISO_4217.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert!(ISO_4217.len() < usize::from(u8::MAX));
    }

    #[test]
    fn currencies_are_iso_4217_codes() {
        assert_eq!(eur().code(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        for bad in ["eur", "EURO", "", "XXX", "ABC"] {
            assert_eq!(Currency::parse(bad).unwrap_err().code, "invalid_currency", "{bad}");
        }
    }

    #[test]
    fn money_adds_only_within_one_currency() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(Money::new(150, eur()).checked_add(Money::new(50, eur())), Some(Money::new(200, eur())));
        assert_eq!(Money::new(150, eur()).checked_add(Money::new(50, usd)), None);
        assert_eq!(Money::new(i64::MAX, eur()).checked_add(Money::new(1, eur())), None);
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        assert_eq!(Money::new(1_000, eur()).checked_percentage(1_900).unwrap().minor_units(), 190);
        assert_eq!(Money::new(5, eur()).checked_percentage(1_000).unwrap().minor_units(), 1); // 0.5 → 1
        assert_eq!(Money::new(4, eur()).checked_percentage(1_000).unwrap().minor_units(), 0); // 0.4 → 0
        assert_eq!(Money::new(-5, eur()).checked_percentage(1_000).unwrap().minor_units(), -1);
    }

    #[test]
    fn money_displays_in_its_currency_s_units() {
        assert_eq!(Money::new(1_234, eur()).to_string(), "12.34 EUR");
        assert_eq!(Money::new(5, eur()).to_string(), "0.05 EUR");
        assert_eq!(Money::new(1_500, Currency::parse("JPY").unwrap()).to_string(), "1500 JPY");
        assert_eq!(Money::new(-50, Currency::parse("KWD").unwrap()).to_string(), "-0.050 KWD");
    }

    #[test]
    fn money_serialises_as_minor_units_and_code() {
        let json = serde_json::to_value(Money::new(1_999, eur())).unwrap();
        assert_eq!(json, serde_json::json!({"minor_units": 1999, "currency": "EUR"}));
        assert!(serde_json::from_value::<Money>(serde_json::json!({"minor_units": 1, "currency": "EURO"})).is_err());
    }

    proptest! {
        #[test]
        fn every_currency_round_trips_through_its_code(index in 0..ISO_4217.len()) {
            let code = ISO_4217[index].0;
            prop_assert_eq!(Currency::parse(code).unwrap().code(), code);
        }
    }
}
