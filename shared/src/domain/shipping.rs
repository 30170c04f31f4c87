//! Where the shop ships and when a parcel gets there: zones, restrictions by region and item,
//! and delivery estimates from business days, a daily cut-off and the zone. Address rules per
//! country are `address.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Offset, Utc, Weekday};

use super::{
    address::{AddressField, ShippingRefusal, check_address},
    contact::{Address, CountryCode},
    ids::Sku,
    money::{Currency, Money},
    pricing::{
        CatalogItem, OrderLine, PricingError, PricingPolicy, RequestedLine, ShippingFees, ShippingOption, Totals,
    },
};

/// Business days in transit from the warehouse to a zone, per option; `None` where the option
/// is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitDays {
    pub standard: u32,
    #[serde(default)]
    pub express: Option<u32>,
}

/// Countries that share transit times.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub name: String,
    pub countries: BTreeSet<CountryCode>,
    pub transit_days: TransitDays,
}

/// Where and how fast the shop ships: set per deployment in the template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingPolicy {
    /// The warehouse's offset from UTC: its clock decides the cut-off and the working day.
    pub warehouse_utc_offset_minutes: i32,
    /// Orders placed by this time on a business day leave the same day.
    pub cutoff: NaiveTime,
    /// Days the warehouse and carriers do not work, besides weekends.
    #[serde(default)]
    pub holidays: BTreeSet<NaiveDate>,
    /// The countries served are exactly those in a zone.
    pub zones: Vec<Zone>,
    /// Regions (as the address writes them, e.g. US `AK`) a served country's parcels cannot reach.
    #[serde(default)]
    pub closed_regions: BTreeMap<CountryCode, BTreeSet<String>>,
    /// Items that may not go to some countries (batteries, liquids, licensed goods).
    #[serde(default)]
    pub sku_restrictions: BTreeMap<Sku, BTreeSet<CountryCode>>,
}

/// The shipping policy in the template does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shipping policy: {0}")]
pub struct InvalidShippingPolicy(String);

/// What an order costs and when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    /// The chosen option's quote.
    pub quote: ShippingQuote,
    /// Every option the destination's zone offers, the chosen one among them.
    pub options: Vec<ShippingQuote>,
}

/// An option as offered for one order: its price and when the parcel should arrive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShippingQuote {
    pub option: ShippingOption,
    pub price: Money,
    pub zone: String,
    /// The day the parcel leaves the warehouse.
    pub dispatch_date: NaiveDate,
    pub estimated_delivery: NaiveDate,
}

impl ShippingPolicy {
    /// Checks what a JSON policy cannot say by its shape: each country in one zone only, a sane
    /// offset, transit of at least one day.
    pub fn validated(self) -> Result<Self, InvalidShippingPolicy> {
        if self.warehouse_utc_offset_minutes.abs() > 14 * 60 {
            return Err(InvalidShippingPolicy("warehouse_utc_offset_minutes must be within ±14 hours".into()));
        }
        let mut seen = BTreeSet::new();
        for zone in &self.zones {
            if zone.transit_days.standard == 0 || zone.transit_days.express == Some(0) {
                return Err(InvalidShippingPolicy(format!("zone {}: transit takes at least one day", zone.name)));
            }
            if let Some(twice) = zone.countries.iter().find(|country| !seen.insert(*country)) {
                return Err(InvalidShippingPolicy(format!("{twice} is in more than one zone")));
            }
        }
        Ok(self)
    }

    fn zone(&self, country: &CountryCode) -> Option<&Zone> {
        self.zones.iter().find(|zone| zone.countries.contains(country))
    }

    /// Refuses an order the shop cannot ship: a country no zone serves, a closed region, an
    /// item barred from the destination, an option the zone does not offer. Returns the address
    /// written canonically.
    pub fn check(
        &self,
        address: &Address,
        option: ShippingOption,
        lines: &[RequestedLine],
    ) -> Result<Address, ShippingRefusal> {
        let country = &address.country;
        let zone = self.zone(country).ok_or_else(|| {
            ShippingRefusal::address(
                AddressField::Country,
                "country_not_served",
                format!("we do not ship to {country}"),
            )
        })?;
        let address = check_address(address, option)?;
        let closed = self.closed_regions.get(country);
        if let (Some(closed), Some(region)) = (closed, &address.region)
            && closed.contains(&region.as_str().to_ascii_uppercase())
        {
            return Err(ShippingRefusal::address(
                AddressField::Region,
                "region_not_served",
                format!("we do not ship to this region of {country}"),
            ));
        }
        if let Some(line) = lines
            .iter()
            .position(|line| self.sku_restrictions.get(&line.sku).is_some_and(|barred| barred.contains(country)))
        {
            return Err(ShippingRefusal::SkuNotShippable { line, country: country.clone() });
        }
        if option == ShippingOption::Express && zone.transit_days.express.is_none() {
            return Err(ShippingRefusal::OptionNotOffered { option, country: country.clone() });
        }
        Ok(address)
    }

    fn is_business_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    fn next_business_day(&self, mut day: NaiveDate) -> NaiveDate {
        // A year of holidays cannot hold more than 366 days in a row; the bound keeps a
        // misconfigured policy from looping.
        for _ in 0..=366 {
            day += Duration::days(1);
            if self.is_business_day(day) {
                break;
            }
        }
        day
    }

    /// The day an order placed at `now` leaves the warehouse: today if it is a business day and
    /// the cut-off has not passed, else the next business day.
    pub fn dispatch_date(&self, now: DateTime<Utc>) -> NaiveDate {
        // `validated` keeps the offset within ±14 hours, which `FixedOffset` always takes.
        let offset = FixedOffset::east_opt(self.warehouse_utc_offset_minutes * 60).unwrap_or(Utc.fix());
        let local = now.with_timezone(&offset);
        let today = local.date_naive();
        if self.is_business_day(today) && local.time() < self.cutoff { today } else { self.next_business_day(today) }
    }

    /// `days` business days after `from`.
    pub(crate) fn add_business_days(&self, from: NaiveDate, days: u32) -> NaiveDate {
        (0..days).fold(from, |day, _| self.next_business_day(day))
    }

    /// An order's lines priced from the catalog, its totals, and the quote of its shipping option:
    /// how placing and amending an order both price it.
    #[allow(clippy::too_many_arguments)]
    pub fn price_order(
        &self,
        pricing: &PricingPolicy,
        requested: &[RequestedLine],
        catalog: &HashMap<Sku, CatalogItem>,
        currency: Currency,
        option: ShippingOption,
        destination: &CountryCode,
        now: DateTime<Utc>,
    ) -> Result<PricedOrder, PricingError> {
        let (lines, totals) = pricing.price(requested, catalog, currency, option, destination)?;
        let fees = pricing.shipping_fees.get(&currency).ok_or(PricingError::CurrencyNotSupported)?;
        let options = self.quotes(destination, fees, currency, now);
        let quote =
            options.iter().find(|quote| quote.option == option).cloned().ok_or(PricingError::OptionNotQuoted)?;
        Ok(PricedOrder { lines, totals, quote, options })
    }

    /// Every option the destination's zone offers, priced from `fees`, with its delivery estimate.
    pub fn quotes(
        &self,
        country: &CountryCode,
        fees: &ShippingFees,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Vec<ShippingQuote> {
        let Some(zone) = self.zone(country) else {
            return Vec::new();
        };
        let dispatch_date = self.dispatch_date(now);
        [
            (ShippingOption::Standard, Some(zone.transit_days.standard), fees.standard),
            (ShippingOption::Express, zone.transit_days.express, fees.express),
        ]
        .into_iter()
        .filter_map(|(option, transit, fee)| {
            Some(ShippingQuote {
                option,
                price: Money::new(fee, currency),
                zone: zone.name.clone(),
                dispatch_date,
                estimated_delivery: self.add_business_days(dispatch_date, transit?),
            })
        })
        .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::address::tests::{address, refusal_code};
    use serde_json::json;

    pub(crate) fn policy() -> ShippingPolicy {
        serde_json::from_value::<ShippingPolicy>(json!({
            "warehouse_utc_offset_minutes": 60,
            "cutoff": "14:00:00",
            "holidays": ["2026-12-25", "2026-12-28"],
            "zones": [
                {"name": "domestic", "countries": ["NL"], "transit_days": {"standard": 1, "express": 1}},
                {"name": "europe", "countries": ["DE", "FR", "GB"], "transit_days": {"standard": 3, "express": 1}},
                {"name": "world", "countries": ["US", "CA", "AU", "JP"], "transit_days": {"standard": 7, "express": 3}},
                {"name": "far", "countries": ["NZ"], "transit_days": {"standard": 12}}
            ],
            "closed_regions": {"US": ["AK", "HI", "PR"]},
            "sku_restrictions": {"LIION-PACK": ["AU", "JP"]}
        }))
        .unwrap()
        .validated()
        .unwrap()
    }

    #[test]
    fn restrictions_refuse_countries_regions_items_and_options() {
        let policy = policy();
        let lines = |sku: &str| vec![RequestedLine { sku: Sku::parse(sku).unwrap(), quantity: 1.try_into().unwrap() }];
        let check = |country, postal, region, option, sku: &str| {
            refusal_code(policy.check(&address(country, postal, region), option, &lines(sku)))
        };
        assert_eq!(check("DE", Some("10115"), None, ShippingOption::Standard, "MUG"), "ok");
        assert_eq!(check("BR", Some("01000-000"), None, ShippingOption::Standard, "MUG"), "country_not_served");
        assert_eq!(check("US", Some("99501"), Some("AK"), ShippingOption::Standard, "MUG"), "region_not_served");
        assert_eq!(check("US", Some("99501"), Some("ak"), ShippingOption::Standard, "MUG"), "region_not_served");
        assert_eq!(check("US", Some("94103"), Some("CA"), ShippingOption::Express, "LIION-PACK"), "ok");
        assert_eq!(
            check("JP", Some("100-0001"), Some("Tokyo"), ShippingOption::Standard, "LIION-PACK"),
            "sku_not_shippable"
        );
        assert_eq!(check("NZ", None, None, ShippingOption::Express, "MUG"), "shipping_option_not_offered");
        assert_eq!(check("NZ", None, None, ShippingOption::Standard, "MUG"), "ok");
    }

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
    }

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn orders_leave_today_before_the_cut_off_on_a_business_day_and_next_business_day_after() {
        let policy = policy();
        // The warehouse is at UTC+1 with a 14:00 cut-off: 12:59 UTC is 13:59 there.
        assert_eq!(policy.dispatch_date(at("2026-11-18T12:59:00Z")), date("2026-11-18")); // Wednesday
        assert_eq!(policy.dispatch_date(at("2026-11-18T13:00:00Z")), date("2026-11-19"));
        // Friday after the cut-off, and the weekend, wait for Monday.
        assert_eq!(policy.dispatch_date(at("2026-11-20T15:00:00Z")), date("2026-11-23"));
        assert_eq!(policy.dispatch_date(at("2026-11-21T09:00:00Z")), date("2026-11-23"));
        // 23:30 UTC on Sunday is already Monday 00:30 at the warehouse.
        assert_eq!(policy.dispatch_date(at("2026-11-22T23:30:00Z")), date("2026-11-23"));
        // Christmas Eve after the cut-off skips Christmas, the weekend and the holiday Monday.
        assert_eq!(policy.dispatch_date(at("2026-12-24T16:00:00Z")), date("2026-12-29"));
    }

    #[test]
    fn estimates_count_business_days_in_transit_by_zone() {
        let policy = policy();
        let eur = Currency::parse("EUR").unwrap();
        let fees = ShippingFees { standard: 495, express: 1495 };
        let quotes = policy.quotes(&CountryCode::parse("DE").unwrap(), &fees, eur, at("2026-11-19T10:00:00Z"));
        // Thursday dispatch; 3 business days → Tuesday, 1 → Friday.
        assert_eq!(quotes.len(), 2);
        assert_eq!((quotes[0].option, quotes[0].estimated_delivery), (ShippingOption::Standard, date("2026-11-24")));
        assert_eq!((quotes[1].option, quotes[1].estimated_delivery), (ShippingOption::Express, date("2026-11-20")));
        assert_eq!(quotes[1].price, Money::new(1495, eur));
        assert_eq!(quotes[0].zone, "europe");
        let far = policy.quotes(&CountryCode::parse("NZ").unwrap(), &fees, eur, at("2026-11-19T10:00:00Z"));
        assert_eq!(far.iter().map(|quote| quote.option).collect::<Vec<_>>(), [ShippingOption::Standard]);
        assert!(policy.quotes(&CountryCode::parse("BR").unwrap(), &fees, eur, at("2026-11-19T10:00:00Z")).is_empty());
        // Two business days from 23 December skip Christmas, the weekend and the holiday Monday.
        assert_eq!(policy.add_business_days(date("2026-12-23"), 2), date("2026-12-29"));
    }

    #[test]
    fn an_inconsistent_policy_is_refused_at_start() {
        let mut twice = policy();
        twice.zones[1].countries.insert(CountryCode::parse("NL").unwrap());
        assert!(twice.validated().is_err());
        let mut instant = policy();
        instant.zones[0].transit_days.standard = 0;
        assert!(instant.validated().is_err());
    }
}
