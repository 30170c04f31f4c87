//! Prices come from the catalog and totals from the server: what a client sends is never a price.

use std::collections::{BTreeMap, HashMap};

use super::{
    contact::CountryCode,
    ids::{Quantity, Sku},
    money::{Currency, Money},
    text::Line,
};

/// How fast a parcel travels, and so what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingOption {
    Standard,
    Express,
}

/// One SKU as the catalog sells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub sku: Sku,
    pub name: Line,
    pub unit_price: Money,
}

/// One line as the customer asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// One line as priced by the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub name: Line,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub subtotal: Money,
    pub shipping: Money,
    /// Always present, even when zero, so receipts and refunds never guess.
    pub tax: Money,
    pub total: Money,
}

/// Shipping fees in minor units of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct ShippingFees {
    pub standard: i64,
    pub express: i64,
}

/// Why an order could not be priced. `line` is the index in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("line {line}: the catalog has no such SKU")]
    UnknownSku { line: usize },
    #[error("line {line}: the catalog does not sell this SKU in the order's currency")]
    CurrencyNotOffered { line: usize },
    #[error("the shop does not ship orders in this currency")]
    CurrencyNotSupported,
    #[error("the order's total is out of range")]
    Overflow,
    /// The destination's zone quotes no such option: the shipping policy's checks should have
    /// refused the order first.
    #[error("no quote for the order's shipping option")]
    OptionNotQuoted,
}

/// What shipping and tax cost: set per deployment in the template's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PricingPolicy {
    /// The currencies a shop sells in are exactly the ones it has shipping fees for.
    pub shipping_fees: BTreeMap<Currency, ShippingFees>,
    /// Tax on goods and shipping, in basis points, by destination country; absent means none.
    #[serde(default)]
    pub tax_basis_points: BTreeMap<CountryCode, u32>,
}

impl PricingPolicy {
    /// Prices every line from the catalog and computes the totals.
    pub fn price(
        &self,
        requested: &[RequestedLine],
        catalog: &HashMap<Sku, CatalogItem>,
        currency: Currency,
        option: ShippingOption,
        destination: &CountryCode,
    ) -> Result<(Vec<OrderLine>, Totals), PricingError> {
        let fees = self.shipping_fees.get(&currency).ok_or(PricingError::CurrencyNotSupported)?;
        let mut subtotal = Money::zero(currency);
        let mut lines = Vec::with_capacity(requested.len());
        for (index, wanted) in requested.iter().enumerate() {
            let item = catalog.get(&wanted.sku).ok_or(PricingError::UnknownSku { line: index })?;
            if item.unit_price.currency() != currency {
                return Err(PricingError::CurrencyNotOffered { line: index });
            }
            let line_total = item.unit_price.checked_mul(wanted.quantity.get()).ok_or(PricingError::Overflow)?;
            subtotal = subtotal.checked_add(line_total).ok_or(PricingError::Overflow)?;
            lines.push(OrderLine {
                sku: wanted.sku.clone(),
                name: item.name.clone(),
                quantity: wanted.quantity,
                unit_price: item.unit_price,
                line_total,
            });
        }
        let shipping = Money::new(
            match option {
                ShippingOption::Standard => fees.standard,
                ShippingOption::Express => fees.express,
            },
            currency,
        );
        let taxable = subtotal.checked_add(shipping).ok_or(PricingError::Overflow)?;
        let rate = self.tax_basis_points.get(destination).copied().unwrap_or(0);
        let tax = taxable.checked_percentage(rate).ok_or(PricingError::Overflow)?;
        let total = taxable.checked_add(tax).ok_or(PricingError::Overflow)?;
        Ok((lines, Totals { subtotal, shipping, tax, total }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn policy() -> PricingPolicy {
        serde_json::from_value(serde_json::json!({
            "shipping_fees": {"EUR": {"standard": 495, "express": 1495}},
            "tax_basis_points": {"DE": 1900}
        }))
        .unwrap()
    }

    fn catalog(items: &[(&str, i64, &str)]) -> HashMap<Sku, CatalogItem> {
        items
            .iter()
            .map(|(sku, price, currency)| {
                let sku = Sku::parse(sku).unwrap();
                let item = CatalogItem {
                    sku: sku.clone(),
                    name: Line::parse("Thing").unwrap(),
                    unit_price: Money::new(*price, Currency::parse(currency).unwrap()),
                };
                (sku, item)
            })
            .collect()
    }

    fn line(sku: &str, quantity: u64) -> RequestedLine {
        RequestedLine { sku: Sku::parse(sku).unwrap(), quantity: Quantity::try_from(quantity).unwrap() }
    }

    fn country(code: &str) -> CountryCode {
        CountryCode::parse(code).unwrap()
    }

    #[test]
    fn totals_are_computed_from_catalog_prices() {
        let catalog = catalog(&[("MUG", 1_250, "EUR"), ("TEE", 1_999, "EUR")]);
        let (lines, totals) = policy()
            .price(&[line("MUG", 2), line("TEE", 1)], &catalog, eur(), ShippingOption::Standard, &country("DE"))
            .unwrap();
        assert_eq!(lines[0].line_total, Money::new(2_500, eur()));
        assert_eq!(totals.subtotal, Money::new(4_499, eur()));
        assert_eq!(totals.shipping, Money::new(495, eur()));
        assert_eq!(totals.tax, Money::new(949, eur())); // 19 % of 49.94 = 9.4886
        assert_eq!(totals.total, Money::new(5_943, eur()));
    }

    #[test]
    fn a_destination_without_a_rate_has_a_zero_tax_line() {
        let catalog = catalog(&[("MUG", 1_250, "EUR")]);
        let (_, totals) =
            policy().price(&[line("MUG", 1)], &catalog, eur(), ShippingOption::Express, &country("US")).unwrap();
        assert_eq!(totals.tax, Money::zero(eur()));
        assert_eq!(totals.total, Money::new(2_745, eur()));
    }

    #[test]
    fn unknown_skus_foreign_prices_and_unsold_currencies_are_refused() {
        let catalog = catalog(&[("MUG", 1_250, "EUR"), ("CAP", 900, "USD")]);
        let price = |lines: &[RequestedLine], currency: &str| {
            policy().price(
                lines,
                &catalog,
                Currency::parse(currency).unwrap(),
                ShippingOption::Standard,
                &country("DE"),
            )
        };
        assert_eq!(price(&[line("MUG", 1), line("NOPE", 1)], "EUR"), Err(PricingError::UnknownSku { line: 1 }));
        assert_eq!(price(&[line("CAP", 1)], "EUR"), Err(PricingError::CurrencyNotOffered { line: 0 }));
        assert_eq!(price(&[line("CAP", 1)], "USD"), Err(PricingError::CurrencyNotSupported));
    }

    #[test]
    fn absurd_prices_overflow_into_an_error_not_a_wrap() {
        let catalog = catalog(&[("GOLD", i64::MAX / 2, "EUR")]);
        let result = policy().price(&[line("GOLD", 3)], &catalog, eur(), ShippingOption::Standard, &country("DE"));
        assert_eq!(result, Err(PricingError::Overflow));
    }
}
