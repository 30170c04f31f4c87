//! The people who run the shop: who an operator is (a role and the storefronts they serve), what
//! each role may do, and the desk's own work on a held order (a claim, the outcome of a call).
//! Pure: the operator API reads the token into an [`Operator`] and asks.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, Offset, Utc, Weekday};

use super::{
    ids::{OperatorId, RequestId, StorefrontId},
    money::{Currency, Money},
};

/// What an operator is trusted with. Ordered: a supervisor may do all an agent may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads, reviews, calls customers, amends, cancels, apologises, refunds up to a limit.
    Agent,
    /// All an agent does, refunds above the limit, dispute evidence.
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Agent, Role::Supervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
        }
    }

    /// The role a token's groups grant: the highest one named, if any.
    pub fn from_groups<'a>(groups: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        groups.into_iter().filter_map(|group| Self::ALL.into_iter().find(|role| role.as_str() == group)).max()
    }

    /// The OAuth scopes the role's access token carries; the template's operator routes name
    /// them in `AuthorizationScopes`, so API Gateway refuses a route the role may never use.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Self::Agent => &[scope::READ, scope::WORK],
            Self::Supervisor => &[scope::READ, scope::WORK, scope::SUPERVISE],
        }
    }
}

/// The operators' OAuth scopes: the resource server `orderflow` of the operators' user pool.
pub mod scope {
    /// Reading orders, the queue, search and a customer's history.
    pub const READ: &str = "orderflow/orders.read";
    /// Changing orders: reviews, claims, contact outcomes, amendments, cancellations, apologies,
    /// refunds (their size is checked by the function).
    pub const WORK: &str = "orderflow/orders.write";
    /// What only supervisors do: dispute evidence.
    pub const SUPERVISE: &str = "orderflow/supervise";
}

/// The claim Cognito puts a user's groups in; API Gateway hands a list on as `[a b]`.
pub const GROUPS_CLAIM: &str = "cognito:groups";

/// The claims an operator's access token carries beyond Cognito's own, as the pre-token
/// trigger adds them: `storefronts`, space-separated.
pub const STOREFRONTS_CLAIM: &str = "storefronts";
/// The user pool attribute the storefronts come from.
pub const STOREFRONTS_ATTRIBUTE: &str = "custom:storefronts";

/// What the pre-token trigger adds to an operator's access token: their role's scopes and the
/// storefronts they serve. A user in no role's group gets no scope, so every route refuses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub scopes: Vec<&'static str>,
    pub storefronts: String,
}

impl TokenGrant {
    /// From the user's groups and the `custom:storefronts` attribute (comma or space separated;
    /// names that are no storefront id are dropped).
    pub fn for_user<'a>(groups: impl IntoIterator<Item = &'a str>, storefronts: Option<&str>) -> Self {
        let scopes = Role::from_groups(groups).map(|role| role.scopes().to_vec()).unwrap_or_default();
        let storefronts: BTreeSet<StorefrontId> = storefronts
            .unwrap_or_default()
            .split([',', ' '])
            .filter_map(|name| StorefrontId::parse(name.trim()).ok())
            .collect();
        let storefronts = storefronts.iter().map(StorefrontId::as_str).collect::<Vec<_>>().join(" ");
        Self { scopes, storefronts }
    }
}

/// An operator as their token says: who, their role, the storefronts they serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    pub role: Role,
    storefronts: BTreeSet<StorefrontId>,
}

impl Operator {
    pub fn new(id: OperatorId, role: Role, storefronts: impl IntoIterator<Item = StorefrontId>) -> Self {
        Self { id, role, storefronts: storefronts.into_iter().collect() }
    }

    /// Whether the operator may see `storefront`'s orders at all. Another shop's order is, to
    /// them, an order that does not exist.
    pub fn serves(&self, storefront: &StorefrontId) -> bool {
        self.storefronts.contains(storefront)
    }

    pub fn storefronts(&self) -> impl Iterator<Item = &StorefrontId> {
        self.storefronts.iter()
    }

    /// The record of this operator acting in the request `request_id`.
    pub fn acting(&self, request_id: RequestId) -> Acting {
        Acting { operator: self.id.clone(), role: self.role, request_id }
    }
}

/// Who did something, in what role, in which API request: kept with every operator change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Acting {
    /// The `sub` of their token.
    pub operator: OperatorId,
    pub role: Role,
    /// API Gateway's request id: what joins the order's record to the access and audit logs.
    pub request_id: RequestId,
}

/// What an operator asks to do with one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Review,
    Claim,
    RecordContact,
    Amend,
    Cancel,
    Apologise,
    Refund(Money),
    SubmitDispute,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Review => "review",
            Self::Claim => "claim",
            Self::RecordContact => "record_contact",
            Self::Amend => "amend",
            Self::Cancel => "cancel",
            Self::Apologise => "apologise",
            Self::Refund(_) => "refund",
            Self::SubmitDispute => "submit_dispute",
        }
    }
}

/// Why an operator may not do what they asked, though they may see the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("{action} needs a {needs}")]
    NeedsRole { action: &'static str, needs: &'static str },
    #[error("a refund above {limit} needs a supervisor")]
    RefundAboveLimit { limit: Money },
    #[error("after {attempts} failed calls this order is a supervisor's to decide")]
    EscalatedToSupervisor { attempts: u8 },
}

/// What happens to a held order once the customer could not be reached `max_contact_attempts`
/// times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterFailedContacts {
    /// The order is denied (cancelled, the hold released) in the name of the agent who
    /// recorded the last attempt.
    Deny,
    /// The order is approved as it is.
    Approve,
    /// Only a supervisor may decide it from then on.
    Supervisor,
}

/// One storefront's rules for its desk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorefrontRules {
    /// The largest refund an agent may make alone, per currency, in minor units. A currency
    /// it does not name has a limit of zero.
    pub agent_refund_limit: BTreeMap<Currency, i64>,
    pub max_contact_attempts: u8,
    pub after_failed_contacts: AfterFailedContacts,
}

/// The desk's rules: `DESK_POLICY`, the template's `DeskPolicy` parameter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskPolicy {
    /// Every storefront's rules unless `storefronts` names it.
    pub default: StorefrontRules,
    #[serde(default)]
    pub storefronts: BTreeMap<StorefrontId, StorefrontRules>,
    /// How long a claim on a held order lasts before another agent may take it.
    pub claim_minutes: u16,
    pub business_hours: BusinessHours,
}

#[derive(Debug, thiserror::Error)]
#[error("the desk policy is not usable: {0}")]
pub struct InvalidDeskPolicy(&'static str);

impl DeskPolicy {
    pub fn check(self) -> Result<Self, InvalidDeskPolicy> {
        let all_rules = std::iter::once(&self.default).chain(self.storefronts.values());
        for rules in all_rules {
            if rules.max_contact_attempts == 0 {
                return Err(InvalidDeskPolicy("max_contact_attempts must be at least 1"));
            }
            if rules.agent_refund_limit.values().any(|limit| *limit < 0) {
                return Err(InvalidDeskPolicy("an agent_refund_limit must not be negative"));
            }
        }
        if !(1..=24 * 60).contains(&self.claim_minutes) {
            return Err(InvalidDeskPolicy("claim_minutes must be from 1 to 1440"));
        }
        self.business_hours.check()?;
        Ok(self)
    }

    pub fn rules(&self, storefront: &StorefrontId) -> &StorefrontRules {
        self.storefronts.get(storefront).unwrap_or(&self.default)
    }

    pub fn claim_lease(&self) -> Duration {
        Duration::minutes(i64::from(self.claim_minutes))
    }

    /// Whether `operator` may do `action` on an order of `storefront`, which they serve, that
    /// has had `failed_contacts` calls go unanswered.
    pub fn allows(
        &self,
        operator: &Operator,
        action: Action,
        storefront: &StorefrontId,
        failed_contacts: u8,
    ) -> Result<(), Forbidden> {
        if operator.role == Role::Supervisor {
            return Ok(());
        }
        let rules = self.rules(storefront);
        match action {
            Action::Read | Action::Amend | Action::Cancel | Action::Apologise => Ok(()),
            Action::Review | Action::Claim | Action::RecordContact => {
                let escalated = rules.after_failed_contacts == AfterFailedContacts::Supervisor
                    && failed_contacts >= rules.max_contact_attempts;
                if escalated { Err(Forbidden::EscalatedToSupervisor { attempts: failed_contacts }) } else { Ok(()) }
            }
            Action::Refund(amount) => {
                let limit = rules.agent_refund_limit.get(&amount.currency()).copied().unwrap_or(0);
                if amount.minor_units() <= limit {
                    Ok(())
                } else {
                    Err(Forbidden::RefundAboveLimit { limit: Money::new(limit, amount.currency()) })
                }
            }
            Action::SubmitDispute => Err(Forbidden::NeedsRole { action: "dispute evidence", needs: "supervisor" }),
        }
    }
}

/// When the desk is staffed: the SLA clock runs only then.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub utc_offset_minutes: i32,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    /// Days the desk works, `mon` to `sun`.
    pub days: BTreeSet<DayName>,
}

/// A weekday as the policy writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayName {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<Weekday> for DayName {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Mon => Self::Mon,
            Weekday::Tue => Self::Tue,
            Weekday::Wed => Self::Wed,
            Weekday::Thu => Self::Thu,
            Weekday::Fri => Self::Fri,
            Weekday::Sat => Self::Sat,
            Weekday::Sun => Self::Sun,
        }
    }
}

impl BusinessHours {
    fn check(&self) -> Result<(), InvalidDeskPolicy> {
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(InvalidDeskPolicy("business_hours.utc_offset_minutes must be within ±14 hours"));
        }
        if self.opens >= self.closes {
            return Err(InvalidDeskPolicy("business_hours.opens must be before closes"));
        }
        if self.days.is_empty() {
            return Err(InvalidDeskPolicy("business_hours.days must name at least one day"));
        }
        Ok(())
    }

    /// How much of the time from `start` to `end` the desk was open.
    pub fn open_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        if end <= start {
            return Duration::zero();
        }
        let zone = FixedOffset::east_opt(self.utc_offset_minutes * 60).unwrap_or(Utc.fix());
        let (start, end) = (start.with_timezone(&zone), end.with_timezone(&zone));
        // Day by day; a wait longer than a year counts as a year, which no SLA reaches.
        let mut total = Duration::zero();
        let mut day = start.date_naive();
        let last = end.date_naive().min(day + Duration::days(366));
        while day <= last {
            if self.days.contains(&DayName::from(day.weekday())) {
                let opens = day.and_time(self.opens).and_local_timezone(zone).single();
                let closes = day.and_time(self.closes).and_local_timezone(zone).single();
                if let (Some(opens), Some(closes)) = (opens, closes) {
                    let (from, to) = (opens.max(start), closes.min(end));
                    if to > from {
                        total += to - from;
                    }
                }
            }
            day += Duration::days(1);
        }
        total
    }
}

/// An agent's claim on a held order: while it lasts, nobody else calls the customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReviewClaim {
    pub by: OperatorId,
    pub until: DateTime<Utc>,
}

impl ReviewClaim {
    /// Whether someone other than `operator` holds it at `now`.
    pub fn held_against(&self, operator: &OperatorId, now: DateTime<Utc>) -> bool {
        &self.by != operator && self.until > now
    }
}

/// What came of calling the customer about a held order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ContactOutcome {
    /// Reached; they confirmed the order as it is.
    ReachedConfirmed,
    /// Reached; they asked for a change (made with an amendment).
    ReachedChanged,
    /// Nobody answered; try again from `retry_at`.
    NoAnswer { retry_at: DateTime<Utc> },
    /// The number is not the customer's.
    WrongNumber,
}

impl ContactOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReachedConfirmed => "reached_confirmed",
            Self::ReachedChanged => "reached_changed",
            Self::NoAnswer { .. } => "no_answer",
            Self::WrongNumber => "wrong_number",
        }
    }

    /// Whether the call failed to reach the customer, counting towards the storefront's limit.
    pub fn failed(&self) -> bool {
        matches!(self, Self::NoAnswer { .. } | Self::WrongNumber)
    }
}

/// What the desk did with an order, besides changing it: kept on the order's timeline beside
/// its own history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeskWork {
    Claimed {
        until: DateTime<Utc>,
    },
    Contacted {
        #[serde(flatten)]
        outcome: ContactOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// Failed calls so far, this one included.
        failed_contacts: u8,
    },
}

/// One entry of the desk's work on an order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeskEntry {
    pub at: DateTime<Utc>,
    pub by: Acting,
    pub work: DeskWork,
}

/// What recording a contact outcome leads to, by the storefront's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterContact {
    /// The agent goes on: approves or denies, or calls again later.
    Continue,
    /// The limit of failed calls is reached and the storefront denies the order now.
    Deny,
    /// The limit of failed calls is reached and the storefront approves the order now.
    Approve,
    /// The limit is reached and the order waits for a supervisor.
    Escalate,
}

impl StorefrontRules {
    /// What follows a contact outcome that brings the failed calls to `failed_contacts`.
    pub fn after_contact(&self, outcome: &ContactOutcome, failed_contacts: u8) -> AfterContact {
        if !outcome.failed() || failed_contacts < self.max_contact_attempts {
            return AfterContact::Continue;
        }
        match self.after_failed_contacts {
            AfterFailedContacts::Deny => AfterContact::Deny,
            AfterFailedContacts::Approve => AfterContact::Approve,
            AfterFailedContacts::Supervisor => AfterContact::Escalate,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    fn policy() -> DeskPolicy {
        serde_json::from_str::<DeskPolicy>(
            r#"{"default": {"agent_refund_limit": {"EUR": 5000}, "max_contact_attempts": 3,
                            "after_failed_contacts": "supervisor"},
                "storefronts": {"shop-b": {"agent_refund_limit": {"EUR": 20000}, "max_contact_attempts": 2,
                                           "after_failed_contacts": "deny"}},
                "claim_minutes": 15,
                "business_hours": {"utc_offset_minutes": 60, "opens": "09:00:00", "closes": "17:00:00",
                                   "days": ["mon", "tue", "wed", "thu", "fri"]}}"#,
        )
        .unwrap()
        .check()
        .unwrap()
    }

    /// An agent acting in a request, for tests of what operators decide.
    pub(crate) fn acting() -> Acting {
        Acting { operator: "ops@shop".parse().unwrap(), role: Role::Agent, request_id: "req-1".parse().unwrap() }
    }

    fn operator(role: Role) -> Operator {
        Operator::new("ana".parse().unwrap(), role, ["shop-a".parse().unwrap()])
    }

    #[test]
    fn a_token_s_groups_name_the_highest_role_and_its_scopes() {
        assert_eq!(Role::from_groups(["staff", "agent"]), Some(Role::Agent));
        assert_eq!(Role::from_groups(["supervisor", "agent"]), Some(Role::Supervisor));
        assert_eq!(Role::from_groups(["Supervisor", "admins"]), None, "group names are exact");
        let grant = TokenGrant::for_user(["agent"], Some("shop-b, shop-a,,bad#shop"));
        assert_eq!(grant.scopes, vec![scope::READ, scope::WORK]);
        assert_eq!(grant.storefronts, "shop-a shop-b");
        let nobody = TokenGrant::for_user(["staff"], Some("shop-a"));
        assert!(nobody.scopes.is_empty(), "no role, no scope: every route refuses");
        assert!(TokenGrant::for_user(["supervisor"], None).scopes.contains(&scope::SUPERVISE));
    }

    #[test]
    fn agents_work_orders_and_refund_up_to_their_storefront_s_limit() {
        let policy = policy();
        let agent = operator(Role::Agent);
        let shop_a: StorefrontId = "shop-a".parse().unwrap();
        let shop_b: StorefrontId = "shop-b".parse().unwrap();
        for action in [Action::Read, Action::Review, Action::Claim, Action::Amend, Action::Cancel, Action::Apologise] {
            assert_eq!(policy.allows(&agent, action, &shop_a, 0), Ok(()), "{action:?}");
        }
        assert_eq!(policy.allows(&agent, Action::Refund(eur(5000)), &shop_a, 0), Ok(()));
        assert_eq!(
            policy.allows(&agent, Action::Refund(eur(5001)), &shop_a, 0),
            Err(Forbidden::RefundAboveLimit { limit: eur(5000) })
        );
        assert_eq!(policy.allows(&agent, Action::Refund(eur(20000)), &shop_b, 0), Ok(()), "shop-b's own limit");
        let pounds = Money::new(1, Currency::parse("GBP").unwrap());
        assert!(policy.allows(&agent, Action::Refund(pounds), &shop_a, 0).is_err(), "no limit named is zero");
        assert!(policy.allows(&agent, Action::SubmitDispute, &shop_a, 0).is_err());
        let supervisor = operator(Role::Supervisor);
        assert_eq!(policy.allows(&supervisor, Action::Refund(eur(1_000_000)), &shop_a, 0), Ok(()));
        assert_eq!(policy.allows(&supervisor, Action::SubmitDispute, &shop_a, 0), Ok(()));
    }

    #[test]
    fn after_the_storefront_s_failed_calls_its_policy_decides() {
        let policy = policy();
        let shop_a = policy.rules(&"shop-a".parse().unwrap()).clone();
        let shop_b = policy.rules(&"shop-b".parse().unwrap()).clone();
        let no_answer = ContactOutcome::NoAnswer { retry_at: DateTime::UNIX_EPOCH };
        assert_eq!(shop_a.after_contact(&no_answer, 2), AfterContact::Continue);
        assert_eq!(shop_a.after_contact(&no_answer, 3), AfterContact::Escalate);
        assert_eq!(shop_a.after_contact(&ContactOutcome::ReachedConfirmed, 3), AfterContact::Continue);
        assert_eq!(shop_b.after_contact(&ContactOutcome::WrongNumber, 2), AfterContact::Deny);
        let agent = operator(Role::Agent);
        let shop: StorefrontId = "shop-a".parse().unwrap();
        assert_eq!(
            policy.allows(&agent, Action::Review, &shop, 3),
            Err(Forbidden::EscalatedToSupervisor { attempts: 3 })
        );
        assert_eq!(policy.allows(&operator(Role::Supervisor), Action::Review, &shop, 3), Ok(()));
    }

    #[test]
    fn the_sla_clock_runs_in_business_hours_only() {
        let hours = policy().business_hours;
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        // Friday 2026-12-04, 16:30 local (15:30Z) to Monday 09:30 local: 30 + 30 minutes.
        assert_eq!(hours.open_between(at("2026-12-04T15:30:00Z"), at("2026-12-07T08:30:00Z")), Duration::minutes(60));
        // Within one day.
        assert_eq!(hours.open_between(at("2026-12-07T09:00:00Z"), at("2026-12-07T10:15:00Z")), Duration::minutes(75));
        // Before opening to after closing: the whole day, 8 hours.
        assert_eq!(hours.open_between(at("2026-12-08T00:00:00Z"), at("2026-12-08T23:00:00Z")), Duration::hours(8));
        // A weekend only.
        assert_eq!(hours.open_between(at("2026-12-05T10:00:00Z"), at("2026-12-06T20:00:00Z")), Duration::zero());
        assert_eq!(hours.open_between(at("2026-12-08T10:00:00Z"), at("2026-12-08T09:00:00Z")), Duration::zero());
    }

    #[test]
    fn a_policy_that_cannot_work_is_refused() {
        let mut broken = policy();
        broken.claim_minutes = 0;
        assert!(broken.check().is_err());
        let mut broken = policy();
        broken.default.max_contact_attempts = 0;
        assert!(broken.check().is_err());
        let mut broken = policy();
        broken.business_hours.closes = broken.business_hours.opens;
        assert!(broken.check().is_err());
    }

    #[test]
    fn a_claim_holds_against_others_until_it_expires() {
        let claim = ReviewClaim { by: "ana".parse().unwrap(), until: DateTime::UNIX_EPOCH + Duration::minutes(15) };
        let ben: OperatorId = "ben".parse().unwrap();
        assert!(claim.held_against(&ben, DateTime::UNIX_EPOCH));
        assert!(!claim.held_against(&"ana".parse().unwrap(), DateTime::UNIX_EPOCH), "its holder renews it");
        assert!(!claim.held_against(&ben, DateTime::UNIX_EPOCH + Duration::minutes(15)), "expired");
    }
}
