//! Fraud screening: named rules add points; the score against the configured thresholds says
//! whether an order goes on, waits for an operator, or is refused.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    money::Currency,
    order::Order,
    payment::{CardChecks, CheckResult},
};

/// One rule of the screening. The names are stable: operators and dashboards read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FraudRule {
    HighValue,
    CountryMismatch,
    CustomerVelocity,
    ManyCards,
    DisposableEmail,
    CvcCheckFailed,
    PostalCheckFailed,
    /// The customer has had orders delivered and never disputed: it lowers the score.
    EstablishedCustomer,
}

impl FraudRule {
    /// Whether the rule's points come off the score rather than add to it.
    pub fn lowers_risk(self) -> bool {
        matches!(self, Self::EstablishedCustomer)
    }
}

/// A rule that fired, with its points and what it saw (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FraudReason {
    pub rule: FraudRule,
    pub points: u32,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FraudAssessment {
    pub score: u32,
    pub reasons: Vec<FraudReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FraudDecision {
    Accept,
    Review,
    Block,
}

/// The customer's orders in the velocity window (this one included) and their record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerHistory {
    pub orders: u32,
    pub distinct_cards: u32,
    /// Earlier orders delivered and never disputed.
    pub settled_orders: u32,
    /// Earlier orders whose dispute the shop lost.
    pub lost_disputes: u32,
}

/// What screening looks at besides the order.
#[derive(Debug, Clone, Copy)]
pub struct FraudSignals<'a> {
    pub order: &'a Order,
    pub card: &'a CardChecks,
    pub history: CustomerHistory,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Velocity {
    pub window_minutes: u32,
    /// More orders than this from one customer in the window fires `customer_velocity`.
    pub max_orders: u32,
    /// More distinct cards than this from one customer in the window fires `many_cards`.
    pub max_cards: u32,
}

/// The screening's settings (`FRAUD_POLICY`, JSON). Points per rule default to values that put
/// any two strong signals over the review threshold, and CVC plus a disposable address or high
/// value over the block threshold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawPolicy")]
pub struct FraudPolicy {
    review_threshold: u32,
    block_threshold: u32,
    high_value: BTreeMap<Currency, i64>,
    velocity: Velocity,
    disposable_email_domains: BTreeSet<String>,
    points: BTreeMap<FraudRule, u32>,
    established_after: u32,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    review_threshold: u32,
    block_threshold: u32,
    /// Minor units per currency at and above which an order is high value.
    high_value: BTreeMap<Currency, i64>,
    velocity: Velocity,
    disposable_email_domains: BTreeSet<String>,
    #[serde(default)]
    points: BTreeMap<FraudRule, u32>,
    /// Settled orders (delivered, never disputed) that make an established customer.
    #[serde(default = "default_established_after")]
    established_after: u32,
}

fn default_established_after() -> u32 {
    2
}

#[derive(Debug, thiserror::Error)]
#[error("the fraud policy's block threshold must be above its review threshold, and its velocity window positive")]
pub(crate) struct InvalidFraudPolicy;

impl TryFrom<RawPolicy> for FraudPolicy {
    type Error = InvalidFraudPolicy;
    fn try_from(raw: RawPolicy) -> Result<Self, InvalidFraudPolicy> {
        if raw.block_threshold <= raw.review_threshold || raw.velocity.window_minutes == 0 {
            return Err(InvalidFraudPolicy);
        }
        let mut points = default_points();
        points.extend(raw.points);
        Ok(Self {
            review_threshold: raw.review_threshold,
            block_threshold: raw.block_threshold,
            high_value: raw.high_value,
            velocity: raw.velocity,
            disposable_email_domains: raw
                .disposable_email_domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            points,
            established_after: raw.established_after,
        })
    }
}

fn default_points() -> BTreeMap<FraudRule, u32> {
    use FraudRule::*;
    BTreeMap::from([
        (HighValue, 30),
        (CountryMismatch, 25),
        (CustomerVelocity, 35),
        (ManyCards, 40),
        (DisposableEmail, 30),
        (CvcCheckFailed, 60),
        (PostalCheckFailed, 25),
        (EstablishedCustomer, 20),
    ])
}

impl FraudPolicy {
    pub(crate) fn velocity_window(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.velocity.window_minutes))
    }

    /// Runs every rule; the score is the sum of the points of those that fired.
    pub fn assess(&self, signals: &FraudSignals<'_>) -> FraudAssessment {
        let order = signals.order;
        let mut fired: Vec<(FraudRule, String)> = Vec::new();
        let total = order.totals.total;
        if let Some(limit) = self.high_value.get(&total.currency()).filter(|limit| total.minor_units() >= **limit) {
            fired.push((
                FraudRule::HighValue,
                format!("total {} {} at or over {limit}", total.minor_units(), total.currency().code()),
            ));
        }
        if let Some(billing) = &order.billing_address
            && billing.country != order.shipping_address.country
        {
            fired.push((
                FraudRule::CountryMismatch,
                format!("billing {} / shipping {}", billing.country.as_str(), order.shipping_address.country.as_str()),
            ));
        }
        let history = signals.history;
        if history.orders > self.velocity.max_orders {
            fired.push((
                FraudRule::CustomerVelocity,
                format!("{} orders in {} minutes", history.orders, self.velocity.window_minutes),
            ));
        }
        if history.distinct_cards > self.velocity.max_cards {
            fired.push((
                FraudRule::ManyCards,
                format!("{} cards in {} minutes", history.distinct_cards, self.velocity.window_minutes),
            ));
        }
        if self.disposable_email_domains.contains(order.customer.email.domain()) {
            fired.push((FraudRule::DisposableEmail, "disposable e-mail domain".to_owned()));
        }
        if signals.card.cvc == CheckResult::Fail {
            fired.push((FraudRule::CvcCheckFailed, "the card's CVC check failed".to_owned()));
        }
        if signals.card.postal_code == CheckResult::Fail {
            fired.push((FraudRule::PostalCheckFailed, "the card's postal code check failed".to_owned()));
        }
        let established = history.settled_orders >= self.established_after.max(1) && history.lost_disputes == 0;
        if established {
            fired.push((
                FraudRule::EstablishedCustomer,
                format!("{} earlier orders delivered, none disputed", history.settled_orders),
            ));
        }
        let reasons: Vec<FraudReason> = fired
            .into_iter()
            .map(|(rule, detail)| FraudReason { rule, points: self.points.get(&rule).copied().unwrap_or(0), detail })
            .collect();
        let points = |lowers: bool| -> u32 {
            reasons.iter().filter(|reason| reason.rule.lowers_risk() == lowers).map(|reason| reason.points).sum()
        };
        FraudAssessment { score: points(false).saturating_sub(points(true)), reasons }
    }

    pub fn decide(&self, assessment: &FraudAssessment) -> FraudDecision {
        if assessment.score >= self.block_threshold {
            FraudDecision::Block
        } else if assessment.score >= self.review_threshold {
            FraudDecision::Review
        } else {
            FraudDecision::Accept
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{CountryCode, EmailAddress, Money, order::tests::sample_order};

    pub(crate) fn policy() -> FraudPolicy {
        serde_json::from_str(
            r#"{"review_threshold": 50, "block_threshold": 90,
                "high_value": {"EUR": 100000},
                "velocity": {"window_minutes": 60, "max_orders": 3, "max_cards": 2},
                "disposable_email_domains": ["Mailinator.com"]}"#,
        )
        .unwrap()
    }

    fn clean_card() -> CardChecks {
        CardChecks {
            fingerprint: Some("fp".to_owned()),
            country: None,
            cvc: CheckResult::Pass,
            postal_code: CheckResult::Unchecked,
        }
    }

    fn rules(order: &Order, card: &CardChecks, history: CustomerHistory) -> Vec<FraudRule> {
        policy().assess(&FraudSignals { order, card, history }).reasons.iter().map(|r| r.rule).collect()
    }

    const ONE_ORDER: CustomerHistory =
        CustomerHistory { orders: 1, distinct_cards: 1, settled_orders: 0, lost_disputes: 0 };

    #[test]
    fn a_plain_order_fires_nothing_and_is_accepted() {
        let order = sample_order();
        let assessment = policy().assess(&FraudSignals { order: &order, card: &clean_card(), history: ONE_ORDER });
        assert_eq!(assessment, FraudAssessment::default());
        assert_eq!(policy().decide(&assessment), FraudDecision::Accept);
    }

    #[test]
    fn high_value_fires_at_the_threshold_of_the_order_currency() {
        let mut order = sample_order();
        order.totals.total = Money::new(99_999, order.currency);
        assert!(rules(&order, &clean_card(), ONE_ORDER).is_empty());
        order.totals.total = Money::new(100_000, order.currency);
        assert_eq!(rules(&order, &clean_card(), ONE_ORDER), [FraudRule::HighValue]);
    }

    #[test]
    fn billing_in_another_country_than_shipping_is_a_mismatch() {
        let mut order = sample_order();
        let mut billing = order.shipping_address.clone();
        order.billing_address = Some(billing.clone());
        assert!(rules(&order, &clean_card(), ONE_ORDER).is_empty());
        billing.country = CountryCode::parse("NG").unwrap();
        order.billing_address = Some(billing);
        assert_eq!(rules(&order, &clean_card(), ONE_ORDER), [FraudRule::CountryMismatch]);
    }

    #[test]
    fn many_orders_from_one_customer_in_the_window_is_velocity() {
        let order = sample_order();
        assert!(rules(&order, &clean_card(), CustomerHistory { orders: 3, ..ONE_ORDER }).is_empty());
        let history = CustomerHistory { orders: 4, ..ONE_ORDER };
        assert_eq!(rules(&order, &clean_card(), history), [FraudRule::CustomerVelocity]);
    }

    #[test]
    fn many_distinct_cards_from_one_customer_fires() {
        let order = sample_order();
        let history = CustomerHistory { orders: 3, distinct_cards: 3, ..ONE_ORDER };
        assert_eq!(rules(&order, &clean_card(), history), [FraudRule::ManyCards]);
    }

    #[test]
    fn an_established_customer_s_record_lowers_the_score_and_a_lost_dispute_forfeits_it() {
        let mut order = sample_order();
        order.customer.email = EmailAddress::parse("someone@mailinator.com").unwrap();
        let score =
            |history: CustomerHistory| policy().assess(&FraudSignals { order: &order, card: &clean_card(), history });
        assert_eq!(score(ONE_ORDER).score, 30, "a disposable address alone");
        let settled = CustomerHistory { settled_orders: 2, ..ONE_ORDER };
        let assessment = score(settled);
        assert_eq!(assessment.score, 10, "two delivered, undisputed orders take 20 points off");
        assert!(assessment.reasons.iter().any(|reason| reason.rule == FraudRule::EstablishedCustomer));
        assert_eq!(score(CustomerHistory { settled_orders: 1, ..ONE_ORDER }).score, 30, "one is not yet a record");
        assert_eq!(score(CustomerHistory { lost_disputes: 1, ..settled }).score, 30, "a lost dispute forfeits it");
        let plain = sample_order();
        let clean = policy().assess(&FraudSignals { order: &plain, card: &clean_card(), history: settled });
        assert_eq!(clean.score, 0, "never below zero");
    }

    #[test]
    fn a_disposable_domain_fires_case_insensitively() {
        let mut order = sample_order();
        order.customer.email = EmailAddress::parse("someone@MAILINATOR.com").unwrap();
        assert_eq!(rules(&order, &clean_card(), ONE_ORDER), [FraudRule::DisposableEmail]);
    }

    #[test]
    fn failed_cvc_and_postal_checks_fire_but_unavailable_ones_do_not() {
        let order = sample_order();
        let mut card = clean_card();
        card.cvc = CheckResult::Unavailable;
        card.postal_code = CheckResult::Unchecked;
        assert!(rules(&order, &card, ONE_ORDER).is_empty());
        card.cvc = CheckResult::Fail;
        card.postal_code = CheckResult::Fail;
        assert_eq!(rules(&order, &card, ONE_ORDER), [FraudRule::CvcCheckFailed, FraudRule::PostalCheckFailed]);
    }

    #[test]
    fn the_score_sums_the_points_and_meets_the_thresholds() {
        let mut order = sample_order();
        order.customer.email = EmailAddress::parse("x@mailinator.com").unwrap();
        let card = CardChecks { postal_code: CheckResult::Fail, ..clean_card() };
        let assessment = policy().assess(&FraudSignals { order: &order, card: &card, history: ONE_ORDER });
        assert_eq!(assessment.score, 55);
        assert_eq!(policy().decide(&assessment), FraudDecision::Review);
        let card = CardChecks { cvc: CheckResult::Fail, ..card };
        let assessment = policy().assess(&FraudSignals { order: &order, card: &card, history: ONE_ORDER });
        assert_eq!((assessment.score, policy().decide(&assessment)), (115, FraudDecision::Block));
    }

    #[test]
    fn points_can_be_configured_and_thresholds_must_make_sense() {
        let custom: FraudPolicy = serde_json::from_str(
            r#"{"review_threshold": 10, "block_threshold": 20, "high_value": {},
                "velocity": {"window_minutes": 5, "max_orders": 1, "max_cards": 1},
                "disposable_email_domains": [], "points": {"customer_velocity": 20}}"#,
        )
        .unwrap();
        let order = sample_order();
        let assessment = custom.assess(&FraudSignals {
            order: &order,
            card: &clean_card(),
            history: CustomerHistory { orders: 2, ..ONE_ORDER },
        });
        assert_eq!((assessment.score, custom.decide(&assessment)), (20, FraudDecision::Block));
        let inverted = r#"{"review_threshold": 50, "block_threshold": 50, "high_value": {},
            "velocity": {"window_minutes": 5, "max_orders": 1, "max_cards": 1}, "disposable_email_domains": []}"#;
        assert!(serde_json::from_str::<FraudPolicy>(inverted).is_err());
    }
}
