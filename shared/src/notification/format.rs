//! Money and dates as a customer reads them.

use chrono::NaiveDate;

use crate::domain::Money;

/// Currencies written with a symbol before the amount; the rest as `12.50 CHF`.
const SYMBOLS: &[(&str, &str)] =
    &[("AUD", "A$"), ("CAD", "C$"), ("EUR", "€"), ("GBP", "£"), ("JPY", "¥"), ("NZD", "NZ$"), ("USD", "$")];

/// `€1,234.50`, `¥1,500`, `-£3.99`, `12.50 CHF`: grouped thousands and the currency's own
/// number of decimals.
pub fn money(amount: Money) -> String {
    let currency = amount.currency();
    let exponent = u32::from(currency.exponent());
    let units = amount.minor_units().unsigned_abs();
    let scale = 10u64.pow(exponent);
    let mut number = grouped(units / scale);
    if exponent > 0 {
        number.push_str(&format!(".{:0width$}", units % scale, width = exponent as usize));
    }
    let sign = if amount.minor_units() < 0 { "-" } else { "" };
    match SYMBOLS.iter().find(|(code, _)| *code == currency.code()) {
        Some((_, symbol)) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{number} {currency}"),
    }
}

fn grouped(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `Thursday 26 November 2026`.
pub fn long_date(day: NaiveDate) -> String {
    day.format("%A %-d %B %Y").to_string()
}

/// `Thu 26 Nov`, for text messages.
pub(super) fn short_date(day: NaiveDate) -> String {
    day.format("%a %-d %b").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn amount(units: i64, code: &str) -> Money {
        Money::new(units, Currency::parse(code).unwrap())
    }

    #[test]
    fn money_has_its_currency_s_symbol_decimals_and_grouping() {
        assert_eq!(money(amount(123_450, "EUR")), "€1,234.50");
        assert_eq!(money(amount(5, "EUR")), "€0.05");
        assert_eq!(money(amount(1_500, "JPY")), "¥1,500");
        assert_eq!(money(amount(-399, "GBP")), "-£3.99");
        assert_eq!(money(amount(1_250, "CHF")), "12.50 CHF");
        assert_eq!(money(amount(1_234_567, "KWD")), "1,234.567 KWD");
        assert_eq!(money(amount(100_000_000, "USD")), "$1,000,000.00");
        assert_eq!(money(amount(0, "USD")), "$0.00");
    }

    #[test]
    fn dates_are_spelled_out() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(long_date(day), "Thursday 26 November 2026");
        assert_eq!(short_date(day), "Thu 26 Nov");
    }
}
