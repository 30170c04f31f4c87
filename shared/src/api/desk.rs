//! The operators' desk: the gate every operator route passes (another shop's order does not
//! exist; the role must allow the action), the order page with the desk's work, the review
//! queue, claims and call outcomes, search, and a customer's history.

use std::collections::BTreeMap;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::review::review_problem;
use super::{
    Answer, OrderView, Problem,
    ids::{operator_id, order_id},
    json::{json, object},
    service::{server_problem, to_json},
};
use crate::app::payments::{Payments, Verdict};
use crate::config::{ConfigError, Env};
use crate::domain::{
    Acting, Action, AfterContact, ContactOutcome, DeskEntry, DeskPolicy, DeskStore, DeskWork, EmailAddress, Forbidden,
    GROUPS_CLAIM, InvalidValue, LookupKeys, Operator, OperatorDecision, Order, OrderId, OrderIndex, OrderPage,
    OrderQuery, OrderRecord, OrderRepository, OrderStatus, OrderSummary, ParcelIndex, PaymentGateway, PhoneNumber,
    Position, RequestId, ReviewClaim, Role, STOREFRONTS_CLAIM, SortOrder, StoreError, StorefrontId, TrackingNumber,
};
use crate::metrics::{self, Measurement, Metric};

/// The most summaries one page holds.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 25;

/// Who calls an operator route: the operator as their token says, in which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub operator: Operator,
    pub request_id: RequestId,
}

impl Caller {
    /// From the claims API Gateway's JWT authorizer verified (each a string) and the request's
    /// id: `sub`, the role from `cognito:groups`, the storefronts from `storefronts`.
    pub fn from_claims(claims: &impl Fn(&str) -> Option<String>, request_id: &str) -> Result<Self, Problem> {
        let id = operator_id(&claims("sub").unwrap_or_default())?;
        let groups = claims(GROUPS_CLAIM).unwrap_or_default();
        let groups = groups.trim_start_matches('[').trim_end_matches(']');
        let role = Role::from_groups(groups.split([' ', ','])).ok_or_else(|| {
            Problem::new(403, "no_role", "the token names no operator role (agent or supervisor)").at("Authorization")
        })?;
        let storefronts = claims(STOREFRONTS_CLAIM).unwrap_or_default();
        let storefronts = storefronts.split_whitespace().filter_map(|name| StorefrontId::parse(name).ok());
        let request_id = RequestId::parse(request_id).map_err(|_| Problem::internal())?;
        Ok(Self { operator: Operator::new(id, role, storefronts), request_id })
    }

    pub fn acting(&self) -> Acting {
        self.operator.acting(self.request_id.clone())
    }
}

/// What an operator is told when their role does not allow what they asked.
pub(crate) fn forbidden(refusal: Forbidden) -> Problem {
    match refusal {
        Forbidden::NeedsRole { .. } => Problem::new(403, "role_forbidden", refusal.to_string()),
        Forbidden::RefundAboveLimit { .. } => {
            Problem::new(403, "refund_above_limit", refusal.to_string()).at("/amount")
        }
        Forbidden::EscalatedToSupervisor { .. } => Problem::new(403, "supervisor_required", refusal.to_string()),
    }
}

/// The desk's routes over any store and lookup key.
#[derive(Debug, Clone)]
pub struct DeskApi<S, K> {
    pub orders: S,
    pub keys: K,
    pub policy: DeskPolicy,
    /// How long a held order may wait, in business minutes, before it is overdue.
    pub review_sla_minutes: u32,
}

impl<S, K> DeskApi<S, K> {
    /// With `DESK_POLICY` and `REVIEW_SLA_MINUTES` from `env`.
    pub fn from_env(orders: S, keys: K, env: &Env) -> Result<Self, ConfigError> {
        let policy: DeskPolicy = env.json("DESK_POLICY")?;
        let policy =
            policy.check().map_err(|error| ConfigError::Malformed { name: "DESK_POLICY", source: Box::new(error) })?;
        Ok(Self { orders, keys, policy, review_sla_minutes: env.parse("REVIEW_SLA_MINUTES")? })
    }
}

impl<S, K> DeskApi<S, K>
where
    S: OrderRepository + DeskStore + ParcelIndex + Sync,
    K: LookupKeys + Sync,
{
    /// The order the path names, if the caller's storefronts include its own: to anyone else
    /// it does not exist (404, as a storefront is answered for another's order).
    pub async fn visible(&self, caller: &Caller, raw_id: &str) -> Result<Order, Problem> {
        let id = order_id(raw_id)?;
        let order = self.orders.head(&id).await.map_err(server_problem)?;
        order.filter(|order| caller.operator.serves(&order.storefront)).ok_or_else(Problem::not_found)
    }

    /// [`Self::visible`], and the caller's role allows `action` on it (403 otherwise).
    pub async fn admit(
        &self,
        caller: &Caller,
        raw_id: &str,
        action: impl FnOnce(&Order) -> Action,
    ) -> Result<Order, Problem> {
        let order = self.visible(caller, raw_id).await?;
        let action = action(&order);
        self.policy.allows(&caller.operator, action, &order.storefront, order.failed_contacts).map_err(forbidden)?;
        Ok(order)
    }

    /// `GET /orders/{id}/review`: the order as operators see it, its timeline with who did
    /// what, and the desk's claims and calls. Reading a customer's details is audited.
    pub async fn order_page(&self, caller: &Caller, raw_id: &str) -> Result<Answer, Problem> {
        let id = order_id(raw_id)?;
        let read = self.orders.read_at_desk(&id).await.map_err(server_problem)?;
        let (OrderRecord { order, timeline }, desk) = read
            .filter(|(record, _)| caller.operator.serves(&record.order.storefront))
            .ok_or_else(Problem::not_found)?;
        audit_read(caller, &order.id);
        let allowed =
            [Action::Claim, Action::RecordContact, Action::Review, Action::Amend, Action::Cancel, Action::Apologise]
                .into_iter()
                .filter(|action| {
                    self.policy.allows(&caller.operator, *action, &order.storefront, order.failed_contacts).is_ok()
                })
                .map(Action::as_str)
                .collect();
        Answer::order(&OrderView::for_operator(&order, &timeline).with_desk(&desk, allowed))
    }

    /// `POST /orders/{id}/claim`: the held order is the caller's to call about until the lease
    /// ends; a live claim of someone else's is a 409 naming them.
    pub async fn claim(&self, caller: &Caller, raw_id: &str, now: DateTime<Utc>) -> Result<Answer, Problem> {
        let order = self.admit(caller, raw_id, |_| Action::Claim).await?;
        held(&order)?;
        if let Some(claim) = order.review_claim.as_ref().filter(|claim| claim.held_against(&caller.operator.id, now)) {
            return Err(claimed_by_another(claim));
        }
        let claim = ReviewClaim { by: caller.operator.id.clone(), until: now + self.policy.claim_lease() };
        let entry = DeskEntry { at: now, by: caller.acting(), work: DeskWork::Claimed { until: claim.until } };
        match self.orders.claim(&order.id, &claim, &entry).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(self.claim_lost(&order.id, now).await),
            Err(error) => return Err(server_problem(error)),
        }
        tracing::info!(order_id = %order.id, until = %claim.until, "review claimed");
        answer_json(200, &serde_json::json!({ "order_id": order.id, "claim": claim }))
    }

    /// Why a claim's write lost: someone else's claim, or the order left the queue.
    async fn claim_lost(&self, id: &OrderId, now: DateTime<Utc>) -> Problem {
        match self.orders.head(id).await {
            Ok(Some(order)) if order.status() != OrderStatus::OnHold => not_on_hold(order.status()),
            Ok(Some(order)) => match order.review_claim.as_ref().filter(|claim| claim.until > now) {
                Some(claim) => claimed_by_another(claim),
                None => Problem::new(409, "claim_conflict", "the order changed during the claim; claim it again"),
            },
            Ok(None) => Problem::not_found(),
            Err(error) => server_problem(error),
        }
    }

    /// `POST /orders/{id}/review`: the caller's verdict on a held order they may decide.
    pub async fn review<G>(
        &self,
        payments: &Payments<G, S>,
        caller: &Caller,
        raw_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem>
    where
        G: PaymentGateway + Sync,
    {
        let order = self.admit(caller, raw_id, |_| Action::Review).await?;
        let request = super::review::parse_review(body)?;
        let decision = OperatorDecision { by: caller.acting(), note: request.note };
        let OrderRecord { order: reviewed, timeline } =
            payments.review(&order.id, request.verdict, decision, now).await.map_err(|error| {
                tracing::info!(error = %error, order_id = %order.id, "review refused");
                review_problem(&error)
            })?;
        tracing::info!(order_id = %order.id, verdict = ?request.verdict, "order reviewed");
        decision_time(&order, now);
        Answer::order(&OrderView::for_operator(&reviewed, &timeline))
    }

    /// `POST /orders/{id}/contact-outcomes`: what came of the caller's call, under their claim;
    /// once the storefront's limit of failed calls is reached, its rule decides the order (in
    /// the caller's name) or leaves it to a supervisor. Answers the order page.
    pub async fn record_contact<G>(
        &self,
        payments: &Payments<G, S>,
        caller: &Caller,
        raw_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem>
    where
        G: PaymentGateway + Sync,
    {
        let (outcome, note) = parse_contact(body, now)?;
        let order = self.admit(caller, raw_id, |_| Action::RecordContact).await?;
        held(&order)?;
        let holds_claim =
            order.review_claim.as_ref().is_some_and(|claim| claim.by == caller.operator.id && claim.until > now);
        if !holds_claim {
            return Err(Problem::new(409, "claim_required", "claim the order before recording a call"));
        }
        let failed_contacts = order.failed_contacts.saturating_add(u8::from(outcome.failed()));
        let after = self.policy.rules(&order.storefront).after_contact(&outcome, failed_contacts);
        let entry =
            DeskEntry { at: now, by: caller.acting(), work: DeskWork::Contacted { outcome, note, failed_contacts } };
        match self.orders.record_contact(&order.id, order.failed_contacts, &entry).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(Problem::new(409, "claim_conflict", "the order or its claim changed; read it again"));
            }
            Err(error) => return Err(server_problem(error)),
        }
        tracing::info!(order_id = %order.id, failed_contacts, after = ?after, "call recorded");
        let verdict = match after {
            AfterContact::Continue | AfterContact::Escalate => None,
            AfterContact::Deny => Some(Verdict::Deny),
            AfterContact::Approve => Some(Verdict::Approve),
        };
        if let Some(verdict) = verdict {
            let note = format!("the storefront's rule after {failed_contacts} failed calls");
            let decision = OperatorDecision { by: caller.acting(), note: Some(note) };
            payments.review(&order.id, verdict, decision, now).await.map_err(|error| review_problem(&error))?;
            decision_time(&order, now);
        }
        self.order_page(caller, raw_id).await
    }

    /// `GET /orders`: the caller's storefronts' orders by status, customer e-mail or phone,
    /// tracking number and time placed, a page at a time.
    pub async fn search(&self, caller: &Caller, raw_query: &str) -> Result<Answer, Problem> {
        let params = QueryParams::parse(
            raw_query,
            &["status", "email", "phone", "tracking_number", "storefront", "from", "before", "sort", "limit", "cursor"],
        )?;
        let storefronts = params.storefronts(caller.operator.storefronts())?;
        if let Some(tracking) = params.parsed("tracking_number", TrackingNumber::parse)? {
            return self.by_tracking_number(&storefronts, &tracking).await;
        }
        let status = params.parsed("status", status)?;
        let partitions =
            match (params.parsed("email", EmailAddress::parse)?, params.parsed("phone", PhoneNumber::parse)?) {
                (Some(_), Some(_)) => {
                    return Err(
                        Problem::bad_request("one_customer_key", "search by email or by phone, not both").at("?phone")
                    );
                }
                (Some(email), None) => {
                    let key = self.keys.lookup_key().await.map_err(server_problem)?;
                    storefronts
                        .iter()
                        .map(|storefront| OrderIndex::Customer(key.customer(storefront, &email)))
                        .collect()
                }
                (None, Some(phone)) => {
                    let key = self.keys.lookup_key().await.map_err(server_problem)?;
                    storefronts.iter().map(|storefront| OrderIndex::Phone(key.phone(storefront, &phone))).collect()
                }
                (None, None) => storefronts
                    .iter()
                    .map(|storefront| match status {
                        Some(status) => OrderIndex::Status(storefront.clone(), status),
                        None => OrderIndex::Storefront(storefront.clone()),
                    })
                    .collect(),
            };
        let query = params.query(partitions, status, SortOrder::NewestFirst)?;
        let page = self.orders.search(&query).await.map_err(server_problem)?;
        answer_json(200, &PageView::of(page, |summary| summary))
    }

    async fn by_tracking_number(
        &self,
        storefronts: &[StorefrontId],
        tracking: &TrackingNumber,
    ) -> Result<Answer, Problem> {
        let parcel = self.keys.lookup_key().await.map_err(server_problem)?.parcel(tracking);
        let id = self.orders.order_for_parcel(&parcel).await.map_err(server_problem)?;
        let order = match id {
            Some(id) => self.orders.head(&id).await.map_err(server_problem)?,
            None => None,
        };
        let found = order.filter(|order| storefronts.contains(&order.storefront)).map(|order| OrderSummary::of(&order));
        answer_json(200, &PageView::of(OrderPage { orders: found.into_iter().collect(), next: None }, |s| s))
    }

    /// `GET /review-queue`: the held orders of the caller's storefronts, oldest first, with
    /// how long each has waited in business hours against the SLA, and who holds its claim.
    pub async fn queue(&self, caller: &Caller, raw_query: &str, now: DateTime<Utc>) -> Result<Answer, Problem> {
        let params = QueryParams::parse(raw_query, &["storefront", "limit", "cursor"])?;
        let storefronts = params.storefronts(caller.operator.storefronts())?;
        let partitions =
            storefronts.iter().map(|storefront| OrderIndex::Status(storefront.clone(), OrderStatus::OnHold)).collect();
        let query = params.query(partitions, None, SortOrder::OldestFirst)?;
        let page = self.orders.search(&query).await.map_err(server_problem)?;
        let sla = self.review_sla_minutes;
        answer_json(
            200,
            &PageView::of(page, |summary| {
                let waiting = self.policy.business_hours.open_between(summary.created_at, now).num_minutes();
                let claim = summary.review_claim.clone().filter(|claim| claim.until > now);
                QueueItem {
                    summary,
                    waiting_minutes: waiting,
                    sla_minutes: sla,
                    overdue: waiting > i64::from(sla),
                    claim,
                }
            }),
        )
    }

    /// `GET /customer-history`: one customer's orders across the caller's storefronts, by the
    /// e-mail address or phone number they give, newest first, with what stands out.
    pub async fn history(&self, caller: &Caller, raw_query: &str) -> Result<Answer, Problem> {
        let params = QueryParams::parse(raw_query, &["email", "phone", "storefront", "limit", "cursor"])?;
        let storefronts = params.storefronts(caller.operator.storefronts())?;
        let page = customer_orders(&self.orders, &self.keys, &storefronts, &params).await?;
        audit_history(caller, page.orders.len());
        answer_json(200, &HistoryView::of(page))
    }
}

/// One customer's orders within `storefronts`, by `email` or `phone`.
async fn customer_orders(
    orders: &impl DeskStore,
    keys: &impl LookupKeys,
    storefronts: &[StorefrontId],
    params: &QueryParams,
) -> Result<OrderPage, Problem> {
    let email = params.parsed("email", EmailAddress::parse)?;
    let phone = params.parsed("phone", PhoneNumber::parse)?;
    let key = keys.lookup_key().await.map_err(server_problem)?;
    let partitions = match (email, phone) {
        (Some(email), None) => {
            storefronts.iter().map(|storefront| OrderIndex::Customer(key.customer(storefront, &email))).collect()
        }
        (None, Some(phone)) => {
            storefronts.iter().map(|storefront| OrderIndex::Phone(key.phone(storefront, &phone))).collect()
        }
        _ => {
            return Err(
                Problem::bad_request("one_customer_key", "name the customer by email or by phone, once").at("?email")
            );
        }
    };
    let query = params.query(partitions, None, SortOrder::NewestFirst)?;
    orders.search(&query).await.map_err(server_problem)
}

/// `GET /customer-orders` for a storefront: its own customer's orders (a shop's "my orders"
/// page), by the e-mail address or phone number the shop knows them by.
pub async fn storefront_customer_orders(
    orders: &impl DeskStore,
    keys: &impl LookupKeys,
    storefront: &StorefrontId,
    raw_query: &str,
) -> Result<Answer, Problem> {
    let params = QueryParams::parse(raw_query, &["email", "phone", "limit", "cursor"])?;
    let page = customer_orders(orders, keys, std::slice::from_ref(storefront), &params).await?;
    answer_json(200, &PageView::of(page, StorefrontSummary::of))
}

/// How long the order waited from its placement for an operator's decision.
fn decision_time(order: &Order, now: DateTime<Utc>) {
    let waited = (now - order.created_at).num_seconds().max(0);
    metrics::emit(&[Measurement { value: waited as f64, ..Measurement::count(Metric::ReviewDecisionTime) }]);
}

fn held(order: &Order) -> Result<(), Problem> {
    match order.status() {
        OrderStatus::OnHold => Ok(()),
        status => Err(not_on_hold(status)),
    }
}

pub(super) fn not_on_hold(status: OrderStatus) -> Problem {
    Problem::new(409, "not_on_hold", format!("the order is {status}; only held orders are reviewed"))
}

fn claimed_by_another(claim: &ReviewClaim) -> Problem {
    let until = claim.until.to_rfc3339_opts(SecondsFormat::Secs, true);
    Problem::new(409, "claimed", format!("{} is calling this customer until {until}", claim.by))
}

fn audit_read(caller: &Caller, order: &OrderId) {
    tracing::info!(
        target: "audit",
        operator = %caller.operator.id,
        role = caller.operator.role.as_str(),
        request_id = %caller.request_id,
        action = "read_customer_details",
        order_id = %order,
        "operator read an order"
    );
}

fn audit_history(caller: &Caller, orders: usize) {
    tracing::info!(
        target: "audit",
        operator = %caller.operator.id,
        role = caller.operator.role.as_str(),
        request_id = %caller.request_id,
        action = "read_customer_history",
        orders,
        "operator read a customer's history"
    );
}

fn answer_json(status: u16, value: &impl Serialize) -> Result<Answer, Problem> {
    Ok(Answer {
        response: crate::domain::StoredResponse { status, body: to_json(value)?, location: None },
        replayed: false,
        etag: None,
    })
}

fn status(raw: &str) -> Result<OrderStatus, InvalidValue> {
    OrderStatus::parse(raw).ok_or(InvalidValue::new("invalid_status", "is not an order status, such as ON_HOLD"))
}

/// `{"outcome": "reached_confirmed" | "reached_changed" | "no_answer" | "wrong_number",
/// "retry_at": "…" (no_answer only, in the future), "note": "…"}`.
pub(crate) fn parse_contact(body: &[u8], now: DateTime<Utc>) -> Result<(ContactOutcome, Option<String>), Problem> {
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&["outcome", "retry_at", "note"])?;
    let field = root.required("outcome")?;
    let kind = field.parse(|raw| match raw {
        "reached_confirmed" | "reached_changed" | "no_answer" | "wrong_number" => Ok(raw.to_owned()),
        _ => Err(InvalidValue::new(
            "invalid_outcome",
            "must be one of reached_confirmed, reached_changed, no_answer, wrong_number",
        )),
    })?;
    let retry_at = root
        .optional("retry_at")
        .map(|field| {
            field.parse(|raw| {
                DateTime::parse_from_rfc3339(raw)
                    .map(|at| at.with_timezone(&Utc))
                    .ok()
                    .filter(|at| *at > now && *at < now + chrono::Duration::days(30))
                    .ok_or(InvalidValue::new("invalid_retry_at", "must be a time within the next 30 days (RFC 3339)"))
            })
        })
        .transpose()?;
    let outcome = match (kind.as_str(), retry_at) {
        ("no_answer", Some(retry_at)) => ContactOutcome::NoAnswer { retry_at },
        ("no_answer", None) => {
            return Err(Problem::unprocessable("retry_at_required", "say when to call again").at("/retry_at"));
        }
        (_, Some(_)) => {
            return Err(
                Problem::unprocessable("unexpected_retry_at", "only an unanswered call is retried").at("/retry_at")
            );
        }
        ("reached_confirmed", None) => ContactOutcome::ReachedConfirmed,
        ("reached_changed", None) => ContactOutcome::ReachedChanged,
        _ => ContactOutcome::WrongNumber,
    };
    Ok((outcome, root.note("note")?))
}

/// A query string read strictly: each parameter known, sent once, in UTF-8 without hidden
/// characters; a value that does not parse names its parameter (`?email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryParams(BTreeMap<String, String>);

impl QueryParams {
    pub(crate) fn parse(raw: &str, known: &[&str]) -> Result<Self, Problem> {
        let invalid = || Problem::bad_request("invalid_query", "the query string is not form-encoded UTF-8");
        let mut params = BTreeMap::new();
        for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (form_decoded(name).ok_or_else(invalid)?, form_decoded(value).ok_or_else(invalid)?);
            let at = format!("?{name}");
            if !known.contains(&name.as_str()) {
                return Err(Problem::bad_request("unknown_parameter", format!("known: {}", known.join(", "))).at(at));
            }
            if value.chars().any(crate::domain::is_hidden_or_control) {
                return Err(Problem::bad_request("invalid_characters", "must not hold control characters").at(at));
            }
            if params.insert(name, value).is_some() {
                return Err(Problem::bad_request("duplicate_parameter", "send each parameter once").at(at));
            }
        }
        Ok(Self(params))
    }

    fn parsed<T>(&self, name: &str, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Result<Option<T>, Problem> {
        self.0
            .get(name)
            .map(|raw| {
                parse(raw).map_err(|invalid| Problem::bad_request(invalid.code, invalid.reason).at(format!("?{name}")))
            })
            .transpose()
    }

    /// The storefronts to read: the caller's, or the one `storefront` names if they serve it
    /// (one they do not serve has, for them, no orders).
    fn storefronts<'a>(&self, served: impl Iterator<Item = &'a StorefrontId>) -> Result<Vec<StorefrontId>, Problem> {
        let served: Vec<StorefrontId> = served.cloned().collect();
        Ok(match self.parsed("storefront", StorefrontId::parse)? {
            Some(one) => served.into_iter().filter(|storefront| *storefront == one).collect(),
            None => served,
        })
    }

    fn query(
        &self,
        partitions: Vec<OrderIndex>,
        status: Option<OrderStatus>,
        default: SortOrder,
    ) -> Result<OrderQuery, Problem> {
        let time = |raw: &str| {
            DateTime::parse_from_rfc3339(raw)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| InvalidValue::new("invalid_time", "must be an RFC 3339 time such as 2026-12-07T09:00:00Z"))
        };
        let order = self.parsed("sort", |raw| match raw {
            "newest" => Ok(SortOrder::NewestFirst),
            "oldest" => Ok(SortOrder::OldestFirst),
            _ => Err(InvalidValue::new("invalid_sort", "must be newest or oldest")),
        })?;
        let limit = self.parsed("limit", |raw| {
            raw.parse::<usize>()
                .ok()
                .filter(|limit| (1..=MAX_PAGE).contains(limit))
                .ok_or(InvalidValue::new("invalid_limit", "must be a whole number from 1 to 100"))
        })?;
        let created_from = self.parsed("from", time)?;
        let created_before = self.parsed("before", time)?;
        if let (Some(from), Some(before)) = (created_from, created_before)
            && from >= before
        {
            return Err(Problem::bad_request("invalid_time_range", "from must be before before").at("?from"));
        }
        Ok(OrderQuery {
            partitions,
            status,
            created_from,
            created_before,
            order: order.unwrap_or(default),
            limit: limit.unwrap_or(DEFAULT_PAGE),
            after: self.parsed("cursor", parse_cursor)?,
        })
    }
}

/// A form-encoded component decoded (`+` is a space, `%XX` a byte), or `None` when it is not
/// well formed or not UTF-8: never repaired with replacement characters.
fn form_decoded(raw: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.bytes();
    while let Some(byte) = rest.next() {
        bytes.push(match byte {
            b'+' => b' ',
            b'%' => {
                // Two hex digits exactly: `from_str_radix` alone would take `%+5` for 0x05.
                let hex = [rest.next()?, rest.next()?];
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
            }
            other => other,
        });
    }
    String::from_utf8(bytes).ok()
}

/// The opaque cursor of a page's end: the last order's placement time and id.
pub(crate) fn cursor(position: &Position) -> String {
    let text = format!("{}|{}", position.created_at.to_rfc3339_opts(SecondsFormat::Millis, true), position.id);
    URL_SAFE_NO_PAD.encode(text)
}

fn parse_cursor(raw: &str) -> Result<Position, InvalidValue> {
    let invalid = InvalidValue::new("invalid_cursor", "is not a cursor this API gave");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid)?;
    let (at, id) = text.split_once('|').ok_or(invalid)?;
    let created_at = DateTime::parse_from_rfc3339(at).map_err(|_| invalid)?.with_timezone(&Utc);
    Ok(Position { created_at, id: OrderId::parse(id).map_err(|_| invalid)? })
}

/// A page as the API answers it.
#[derive(Debug, Serialize)]
struct PageView<T> {
    orders: Vec<T>,
    /// Give it back as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl<T> PageView<T> {
    fn of(page: OrderPage, view: impl FnMut(OrderSummary) -> T) -> Self {
        Self { orders: page.orders.into_iter().map(view).collect(), next_cursor: page.next.as_ref().map(cursor) }
    }
}

/// A held order in the queue.
#[derive(Debug, Serialize)]
struct QueueItem {
    #[serde(flatten)]
    summary: OrderSummary,
    waiting_minutes: i64,
    sla_minutes: u32,
    overdue: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    claim: Option<ReviewClaim>,
}

/// What a storefront sees of its customer's order in a list: no desk work.
#[derive(Debug, Serialize)]
struct StorefrontSummary {
    id: OrderId,
    status: OrderStatus,
    total: crate::domain::Money,
    created_at: DateTime<Utc>,
}

impl StorefrontSummary {
    fn of(summary: OrderSummary) -> Self {
        Self { id: summary.id, status: summary.status, total: summary.total, created_at: summary.created_at }
    }
}

/// A customer's history: their orders and what stands out.
#[derive(Debug, Serialize)]
struct HistoryView {
    /// Orders on this page by status.
    by_status: BTreeMap<OrderStatus, u32>,
    returns: u32,
    disputes: u32,
    disputes_lost: u32,
    orders: Vec<OrderSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl HistoryView {
    fn of(page: OrderPage) -> Self {
        let mut by_status = BTreeMap::new();
        for summary in &page.orders {
            *by_status.entry(summary.status).or_insert(0) += 1;
        }
        let count = |f: fn(&OrderSummary) -> u32| page.orders.iter().map(f).sum();
        Self {
            by_status,
            returns: count(|summary| u32::from(summary.returned)),
            disputes: count(|summary| summary.disputes),
            disputes_lost: count(|summary| summary.disputes_lost),
            next_cursor: page.next.as_ref().map(cursor),
            orders: page.orders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_caller_is_read_from_the_verified_claims() {
        let claims = |sub: &'static str, groups: &'static str| {
            move |name: &str| match name {
                "sub" => Some(sub.to_owned()),
                GROUPS_CLAIM => Some(groups.to_owned()),
                STOREFRONTS_CLAIM => Some("shop-a shop#b shop-c".to_owned()),
                _ => None,
            }
        };
        let caller = Caller::from_claims(&claims("ana", "[agent supervisor]"), "req-1").unwrap();
        assert_eq!(caller.operator.role, Role::Supervisor);
        let storefronts: Vec<&str> = caller.operator.storefronts().map(StorefrontId::as_str).collect();
        assert_eq!(storefronts, ["shop-a", "shop-c"], "a name that is no storefront id serves nothing");
        assert_eq!(Caller::from_claims(&claims("ana", "agent"), "req-1").unwrap().operator.role, Role::Agent);
        let problem = Caller::from_claims(&claims("ana", "[staff]"), "req-1").unwrap_err();
        assert_eq!((problem.status, problem.code), (403, "no_role"));
        assert_eq!(Caller::from_claims(&claims("", "[agent]"), "req-1").unwrap_err().status, 403);
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let position = Position { created_at: at("2026-12-07T09:00:00.123Z"), id: OrderId::random().unwrap() };
        assert_eq!(parse_cursor(&cursor(&position)).unwrap(), position);
        for forged in ["", "!!", "bm90IGEgY3Vyc29y", &URL_SAFE_NO_PAD.encode("2026-12-07T09:00:00Z|ord_x")] {
            assert_eq!(parse_cursor(forged).unwrap_err().code, "invalid_cursor", "{forged}");
        }
    }

    #[test]
    fn query_strings_are_read_strictly() {
        let known = ["email", "limit", "from", "before", "cursor", "sort"];
        let params = QueryParams::parse("email=ana%40example.com&limit=10", &known).unwrap();
        assert_eq!(params.parsed("email", EmailAddress::parse).unwrap().unwrap().as_str(), "ana@example.com");
        let refused = [
            ("email=a%40b.c&email=d%40e.f", "duplicate_parameter", "?email"),
            ("mail=x", "unknown_parameter", "?mail"),
            ("email=a%E2%80%AE%40b.c", "invalid_characters", "?email"),
        ];
        for (raw, code, field) in refused {
            let problem = QueryParams::parse(raw, &known).unwrap_err();
            assert_eq!((problem.status, problem.code, problem.field.as_deref()), (400, code, Some(field)), "{raw}");
        }
        for malformed in ["email=%FF", "email=%E2%80", "email=%G1", "email=%4", "email=%+5", "email=%-1"] {
            assert_eq!(QueryParams::parse(malformed, &known).unwrap_err().code, "invalid_query", "{malformed}");
        }
        let bad_values = [
            ("limit=0", "invalid_limit", "?limit"),
            ("limit=101", "invalid_limit", "?limit"),
            ("from=yesterday", "invalid_time", "?from"),
            ("from=2026-12-07T10:00:00Z&before=2026-12-07T09:00:00Z", "invalid_time_range", "?from"),
            ("sort=random", "invalid_sort", "?sort"),
            ("cursor=abc", "invalid_cursor", "?cursor"),
        ];
        for (raw, code, field) in bad_values {
            let params = QueryParams::parse(raw, &known).unwrap();
            let problem = params.query(Vec::new(), None, SortOrder::NewestFirst).unwrap_err();
            assert_eq!((problem.status, problem.code, problem.field.as_deref()), (400, code, Some(field)), "{raw}");
        }
        let query = QueryParams::parse("", &known).unwrap().query(Vec::new(), None, SortOrder::OldestFirst).unwrap();
        assert_eq!((query.limit, query.order), (DEFAULT_PAGE, SortOrder::OldestFirst));
    }

    #[test]
    fn a_call_s_outcome_names_its_kind_and_only_an_unanswered_one_a_retry() {
        let now = at("2026-12-07T09:00:00Z");
        let (outcome, note) = parse_contact(br#"{"outcome": "reached_confirmed", "note": "ok"}"#, now).unwrap();
        assert_eq!((outcome, note.as_deref()), (ContactOutcome::ReachedConfirmed, Some("ok")));
        let (outcome, _) =
            parse_contact(br#"{"outcome": "no_answer", "retry_at": "2026-12-07T11:00:00+01:00"}"#, now).unwrap();
        assert_eq!(outcome, ContactOutcome::NoAnswer { retry_at: at("2026-12-07T10:00:00Z") });
        let refused: [(&[u8], &str, &str); 5] = [
            (br#"{"outcome": "maybe"}"#, "invalid_outcome", "/outcome"),
            (br#"{"outcome": "no_answer"}"#, "retry_at_required", "/retry_at"),
            (br#"{"outcome": "no_answer", "retry_at": "2026-12-06T09:00:00Z"}"#, "invalid_retry_at", "/retry_at"),
            (br#"{"outcome": "wrong_number", "retry_at": "2026-12-07T10:00:00Z"}"#, "unexpected_retry_at", "/retry_at"),
            (br#"{"outcome": "wrong_number", "by": "me"}"#, "unknown_field", "/by"),
        ];
        for (body, code, field) in refused {
            let problem = parse_contact(body, now).unwrap_err();
            assert_eq!((problem.code, problem.field.as_deref()), (code, Some(field)));
            assert!(problem.status < 500);
        }
    }

    #[test]
    fn role_refusals_are_403_with_stable_codes() {
        let limit = crate::domain::Money::new(5000, crate::domain::Currency::parse("EUR").unwrap());
        let problem = forbidden(Forbidden::RefundAboveLimit { limit });
        assert_eq!(
            (problem.status, problem.code, problem.field.as_deref()),
            (403, "refund_above_limit", Some("/amount"))
        );
        assert!(problem.detail.contains("50.00 EUR"));
        assert_eq!(forbidden(Forbidden::EscalatedToSupervisor { attempts: 3 }).code, "supervisor_required");
    }
}
