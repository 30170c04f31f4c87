//! The routes that change an order after it was placed. Storefront: `POST /orders/{id}/cancel`,
//! `PATCH /orders/{id}` (with `If-Match`), `POST /orders/{id}/returns`. Operators:
//! `POST /orders/{id}/operator-cancel` and `POST /orders/{id}/refunds` (with `If-Match`).

use chrono::{DateTime, Utc};

use super::{
    Answer, OrderView, Problem,
    desk::Caller,
    ids::order_id,
    json::{json, object},
    request::{address, lines, shipping_option},
    service::server_problem,
};
use crate::app::changes::{ChangeError, OrderChanges, OrderEdit};
use crate::config::{ConfigError, Env};
use crate::domain::{
    AmendRefusal, CancelRefusal, Catalog, GatewayError, OperatorDecision, OrderId, OrderRecord, OrderRepository,
    PaymentGateway, PricingPolicy, RefundRefusal, Requester, ReturnLine, ReturnPolicy, ReturnRefusal, ShippingPolicy,
    StockLedger, StorefrontId,
};

pub const IF_MATCH_HEADER: &str = "If-Match";

/// The change routes over any store and payment provider.
#[derive(Debug, Clone)]
pub struct ChangeApi<S, G> {
    pub changes: OrderChanges<S, G>,
    pub pricing: PricingPolicy,
    pub shipping: ShippingPolicy,
    pub returns: ReturnPolicy,
}

impl<S, G> ChangeApi<S, G> {
    /// With `PRICING_POLICY`, `SHIPPING_POLICY` and `RETURN_POLICY` from `env`.
    pub fn from_env(changes: OrderChanges<S, G>, env: &Env) -> Result<Self, ConfigError> {
        let (pricing, shipping) = super::service::policies(env)?;
        Ok(Self { changes, pricing, shipping, returns: env.json("RETURN_POLICY")? })
    }
}

impl<S, G> ChangeApi<S, G>
where
    S: OrderRepository + StockLedger + Catalog + Sync,
    G: PaymentGateway + Sync,
{
    /// Cancels an order for its storefront; an already cancelled one is answered as it is.
    pub async fn cancel(
        &self,
        storefront: &StorefrontId,
        raw_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let note = parse_note(body, "reason")?;
        let requester = Requester::Storefront { storefront: storefront.clone() };
        let OrderRecord { order, timeline } = self.cancel_for(requester, Some(storefront), raw_id, note, now).await?;
        Answer::order(&OrderView::for_storefront(&order, &timeline))
    }

    /// Amends an order for its storefront at the version its `If-Match` names.
    pub async fn amend(
        &self,
        storefront: &StorefrontId,
        raw_id: &str,
        if_match: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let requester = Requester::Storefront { storefront: storefront.clone() };
        let OrderRecord { order, timeline } =
            self.amend_for(requester, storefront, raw_id, if_match, body, now).await?;
        Answer::order(&OrderView::for_storefront(&order, &timeline))
    }

    /// An operator amends an order of `storefront` (one they serve) on the customer's behalf.
    pub async fn operator_amend(
        &self,
        change: OperatorChange<'_>,
        storefront: &StorefrontId,
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let requester = Requester::Operator(change.caller.acting());
        for_operator(&self.amend_for(requester, storefront, change.raw_id, change.if_match, change.body, now).await?)
    }

    async fn amend_for(
        &self,
        requester: Requester,
        storefront: &StorefrontId,
        raw_id: &str,
        if_match: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<OrderRecord, Problem> {
        let (id, version) = versioned(raw_id, if_match)?;
        let edit = parse_edit(body)?;
        let amended = self
            .changes
            .amend(&id, storefront, requester, version, edit, &self.pricing, &self.shipping, now)
            .await
            .map_err(change_problem)?;
        tracing::info!(order_id = %id, version = amended.order.version(), "order amended");
        Ok(amended)
    }

    /// Opens a return on a delivered order.
    pub async fn request_return(
        &self,
        storefront: &StorefrontId,
        raw_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let id = order_id(raw_id)?;
        let (lines, reason) = parse_return(body)?;
        let OrderRecord { order, timeline } = self
            .changes
            .request_return(&id, storefront, lines, reason, &self.returns, now)
            .await
            .map_err(change_problem)?;
        tracing::info!(order_id = %id, "return requested");
        let mut answer = Answer::order(&OrderView::for_storefront(&order, &timeline))?;
        answer.response.status = 201;
        Ok(answer)
    }

    /// An operator cancels an order on the customer's behalf.
    pub async fn operator_cancel(
        &self,
        caller: &Caller,
        raw_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let note = parse_note(body, "note")?;
        let requester = Requester::Operator(caller.acting());
        for_operator(&self.cancel_for(requester, None, raw_id, note, now).await?)
    }

    async fn cancel_for(
        &self,
        requester: Requester,
        scope: Option<&StorefrontId>,
        raw_id: &str,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::OrderRecord, Problem> {
        let id = order_id(raw_id)?;
        let by = match &requester {
            Requester::Storefront { .. } => "storefront",
            Requester::Operator { .. } => "operator",
        };
        let changed = self.changes.cancel(&id, scope, requester, note, now).await.map_err(change_problem)?;
        tracing::info!(order_id = %id, by, "order cancelled");
        Ok(changed)
    }

    /// An operator apologises to the order's customer at the version its `If-Match` names.
    pub async fn apologise(&self, change: OperatorChange<'_>, now: DateTime<Utc>) -> Result<Answer, Problem> {
        let (id, version) = versioned(change.raw_id, change.if_match)?;
        let (remedy, what_went_wrong, note) = parse_apology(change.body)?;
        let decision = OperatorDecision { by: change.caller.acting(), note };
        let apologised = self
            .changes
            .apologise(&id, version, remedy, what_went_wrong, decision, now)
            .await
            .map_err(change_problem)?;
        tracing::info!(order_id = %id, remedy = remedy.as_str(), "apology recorded");
        for_operator(&apologised)
    }

    /// An operator refunds some goodwill on an order at the version its `If-Match` names.
    pub async fn goodwill_refund(&self, change: OperatorChange<'_>, now: DateTime<Utc>) -> Result<Answer, Problem> {
        let (id, version) = versioned(change.raw_id, change.if_match)?;
        let (amount, note) = parse_refund(change.body)?;
        let decision = OperatorDecision { by: change.caller.acting(), note };
        let refunded =
            self.changes.goodwill_refund(&id, version, amount, decision, now).await.map_err(change_problem)?;
        tracing::info!(order_id = %id, amount, "goodwill refunded");
        for_operator(&refunded)
    }
}

/// An operator's change to an order at the version its `If-Match` names, as the route gives it.
#[derive(Debug, Clone, Copy)]
pub struct OperatorChange<'a> {
    pub caller: &'a Caller,
    /// The order id from the path, not yet checked.
    pub raw_id: &'a str,
    pub if_match: Option<&'a str>,
    pub body: &'a [u8],
}

/// The order the path names, at the version its `If-Match` names: a change applies there only.
fn versioned(raw_id: &str, if_match: Option<&str>) -> Result<(OrderId, u64), Problem> {
    Ok((order_id(raw_id)?, parse_if_match(if_match)?))
}

/// An operator's change answered with the order as it now stands, as operators see it.
fn for_operator(changed: &OrderRecord) -> Result<Answer, Problem> {
    Answer::order(&OrderView::for_operator(&changed.order, &changed.timeline))
}

/// `{"what_went_wrong": "...", "remedy": "refund" | "amendment" | "expedited_shipment" |
/// "other", "note": "..."}`: what the customer is told, and the operator's own note.
pub(crate) fn parse_apology(body: &[u8]) -> Result<(crate::domain::Remedy, String, Option<String>), Problem> {
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&["what_went_wrong", "remedy", "note"])?;
    let field = root.required("remedy")?;
    let rule = crate::domain::InvalidValue::new(
        "invalid_remedy",
        "must be one of refund, amendment, expedited_shipment, other",
    );
    let remedy = crate::domain::Remedy::parse(field.string()?).ok_or_else(|| field.invalid(rule))?;
    root.required("what_went_wrong")?;
    let what_went_wrong = root
        .note("what_went_wrong")?
        .ok_or_else(|| Problem::unprocessable("invalid_note", "must say what went wrong").at("/what_went_wrong"))?;
    Ok((remedy, what_went_wrong, root.note("note")?))
}

/// A body that is empty or carries one optional note field.
pub fn parse_note(body: &[u8], name: &str) -> Result<Option<String>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&[name])?;
    root.note(name)
}

/// `If-Match: "3"` (or `W/"3"`, or `3`): the version the caller read.
pub fn parse_if_match(header: Option<&str>) -> Result<u64, Problem> {
    let Some(raw) = header else {
        return Err(Problem::new(428, "if_match_required", "send If-Match with the order's version (its ETag)")
            .at(IF_MATCH_HEADER));
    };
    raw.trim().trim_start_matches("W/").trim_matches('"').parse().map_err(|_| {
        Problem::bad_request("invalid_if_match", "must be the order's ETag, such as \"3\"").at(IF_MATCH_HEADER)
    })
}

/// `PATCH /orders/{id}`: any of `lines` (all of them, as they should be), `shipping_address`,
/// `shipping_option`.
pub fn parse_edit(body: &[u8]) -> Result<OrderEdit, Problem> {
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&["lines", "shipping_address", "shipping_option"])?;
    let edit = OrderEdit {
        lines: root.optional("lines").map(|field| lines(&field)).transpose()?,
        shipping_address: root.optional("shipping_address").map(|field| address(&field.object()?)).transpose()?,
        shipping_option: root.optional("shipping_option").map(|field| field.parse(shipping_option)).transpose()?,
    };
    if edit == OrderEdit::default() {
        return Err(Problem::unprocessable("empty_change", "change lines, shipping_address or shipping_option").at("/"));
    }
    Ok(edit)
}

/// `POST /orders/{id}/returns`: `lines` of `sku` and `quantity`, and an optional `reason`.
pub fn parse_return(body: &[u8]) -> Result<(Vec<ReturnLine>, Option<String>), Problem> {
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&["lines", "reason"])?;
    let returned = lines(&root.required("lines")?)?
        .into_iter()
        .map(|line| ReturnLine { sku: line.sku, quantity: line.quantity })
        .collect();
    Ok((returned, root.note("reason")?))
}

/// `POST /orders/{id}/refunds`: `amount` in the order currency's minor units, and a `note`.
pub fn parse_refund(body: &[u8]) -> Result<(i64, Option<String>), Problem> {
    let value = json(body)?;
    let root = object(&value)?;
    root.allow_only(&["amount", "note"])?;
    let field = root.required("amount")?;
    let rule = crate::domain::InvalidValue::new("invalid_amount", "must be a whole number of minor units above zero");
    let amount = i64::try_from(field.whole_number(rule)?).ok().filter(|amount| *amount > 0);
    let amount = amount.ok_or_else(|| field.invalid(rule))?;
    Ok((amount, root.note("note")?))
}

/// What the caller is told when a change cannot be made. Nothing was changed in any case.
pub(crate) fn change_problem(error: ChangeError) -> Problem {
    match error {
        ChangeError::NotFound => Problem::not_found(),
        ChangeError::VersionMismatch { current } => Problem::new(
            412,
            "version_mismatch",
            format!("the order changed; it is at version {current}: read it again and retry"),
        )
        .at(IF_MATCH_HEADER),
        ChangeError::Cancel(refusal @ CancelRefusal::AlreadyShipped) => {
            Problem::new(409, "already_shipped", format!("{refusal}: POST /orders/{{id}}/returns"))
        }
        ChangeError::Cancel(refusal) => Problem::new(409, "not_cancellable", refusal.to_string()),
        ChangeError::Amend(refusal @ AmendRefusal::TooLate(_)) => {
            Problem::new(409, "too_late_to_change", refusal.to_string())
        }
        ChangeError::Amend(refusal @ AmendRefusal::BeingChecked(_)) => {
            Problem::new(409, "order_being_checked", refusal.to_string())
        }
        ChangeError::Return(refusal) => {
            let (status, field) = match refusal {
                ReturnRefusal::NotDelivered(_) | ReturnRefusal::AlreadyRequested => (409, None),
                ReturnRefusal::WindowClosed { .. } => (422, None),
                ReturnRefusal::UnknownLine { line } | ReturnRefusal::DuplicateLine { line } => {
                    (422, Some(format!("/lines/{line}/sku")))
                }
                ReturnRefusal::MoreThanOrdered { line } => (422, Some(format!("/lines/{line}/quantity"))),
                ReturnRefusal::NoLines => (422, Some("/lines".to_owned())),
            };
            let problem = Problem::new(status, refusal.code(), refusal.to_string());
            match field {
                Some(field) => problem.at(field),
                None => problem,
            }
        }
        ChangeError::Refund(refusal @ RefundRefusal::NothingCaptured) => {
            Problem::new(409, "nothing_captured", refusal.to_string())
        }
        ChangeError::Refund(refusal) => Problem::unprocessable("invalid_amount", refusal.to_string()).at("/amount"),
        ChangeError::Shipping(refusal) => super::service::shipping_problem(&refusal),
        ChangeError::Pricing(error) => super::service::pricing_problem(error),
        ChangeError::OutOfStock(shortages) => {
            let short: Vec<String> = shortages
                .iter()
                .map(|shortage| {
                    format!("{} ({} asked, {} available)", shortage.sku, shortage.requested, shortage.available)
                })
                .collect();
            Problem::new(409, "insufficient_stock", format!("not enough stock: {}", short.join(", "))).at("/lines")
        }
        ChangeError::TooManyChanges(writes) => Problem::unprocessable(
            "too_many_changes",
            format!("the change moves stock on {writes} counters; change fewer lines at once"),
        )
        .at("/lines"),
        ChangeError::PaymentDeclined(decline) => {
            Problem::new(402, "payment_declined", format!("the new total was declined: {}", decline.message))
        }
        ChangeError::PaymentMethodUnusable => {
            Problem::new(402, "payment_method_unusable", "the order's payment method cannot pay the new total")
        }
        ChangeError::Busy | ChangeError::Gateway(GatewayError::Unavailable(_)) => Problem::unavailable(),
        ChangeError::Gateway(error) => {
            tracing::error!(error = %error, "the payment provider refused a change");
            Problem::internal()
        }
        ChangeError::Store(error) => server_problem(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_the_etag_in_any_usual_spelling() {
        for raw in ["\"3\"", "W/\"3\"", "3", " \"3\" "] {
            assert_eq!(parse_if_match(Some(raw)).unwrap(), 3, "{raw}");
        }
        assert_eq!(parse_if_match(None).unwrap_err().status, 428);
        assert_eq!(parse_if_match(Some("\"v3\"")).unwrap_err().code, "invalid_if_match");
    }

    #[test]
    fn an_edit_names_what_changes_and_bad_ones_name_the_field() {
        let edit = parse_edit(br#"{"shipping_option": "express"}"#).unwrap();
        assert_eq!((edit.lines, edit.shipping_option), (None, Some(crate::domain::ShippingOption::Express)));
        let edit = parse_edit(br#"{"lines": [{"sku": "MUG", "quantity": 3}]}"#).unwrap();
        assert_eq!(edit.lines.unwrap()[0].quantity.get(), 3);
        let cases: [(&[u8], &str, &str); 5] = [
            (b"{}", "empty_change", "/"),
            (br#"{"lines": []}"#, "no_lines", "/lines"),
            (br#"{"lines": [{"sku": "MUG", "quantity": 0}]}"#, "invalid_quantity", "/lines/0/quantity"),
            (br#"{"shipping_option": "drone"}"#, "invalid_shipping_option", "/shipping_option"),
            (br#"{"customer": {}}"#, "unknown_field", "/customer"),
        ];
        for (body, code, field) in cases {
            let problem = parse_edit(body).unwrap_err();
            assert_eq!((problem.code, problem.field.as_deref()), (code, Some(field)));
        }
    }

    #[test]
    fn cancellations_returns_and_refunds_parse_their_few_fields() {
        assert_eq!(parse_note(b"", "reason").unwrap(), None);
        assert_eq!(parse_note(br#"{"reason": " too slow "}"#, "reason").unwrap().as_deref(), Some("too slow"));
        assert_eq!(parse_note(br#"{"why": "x"}"#, "reason").unwrap_err().code, "unknown_field");
        assert_eq!(parse_note(b"[1]", "reason").unwrap_err().code, "malformed_json");
        let (returned, reason) =
            parse_return(br#"{"lines": [{"sku": "MUG", "quantity": 1}], "reason": "too big"}"#).unwrap();
        assert_eq!((returned.len(), reason.as_deref()), (1, Some("too big")));
        assert_eq!(parse_return(br#"{"reason": "x"}"#).unwrap_err().field.as_deref(), Some("/lines"));
        assert_eq!(parse_refund(br#"{"amount": 500, "note": "late"}"#).unwrap(), (500, Some("late".to_owned())));
        for body in [&br#"{"amount": 0}"#[..], br#"{"amount": -5}"#, br#"{"amount": 1.5}"#] {
            assert_eq!(parse_refund(body).unwrap_err().code, "invalid_amount");
        }
    }

    #[test]
    fn an_apology_says_what_went_wrong_in_readable_words_and_names_a_known_remedy() {
        let (remedy, what, note) =
            parse_apology(br#"{"remedy": "amendment", "what_went_wrong": " We sent the wrong size. ", "note": "RMA"}"#)
                .unwrap();
        assert_eq!(
            (remedy, what.as_str(), note.as_deref()),
            (crate::domain::Remedy::Amendment, "We sent the wrong size.", Some("RMA"))
        );
        let long = format!(r#"{{"remedy": "other", "what_went_wrong": "{}"}}"#, "x".repeat(501));
        let refused = [
            (r#"{"remedy": "other"}"#.to_owned(), "missing_field", "/what_went_wrong"),
            (r#"{"remedy": "other", "what_went_wrong": "  "}"#.to_owned(), "invalid_note", "/what_went_wrong"),
            (r#"{"remedy": "free_gift", "what_went_wrong": "late"}"#.to_owned(), "invalid_remedy", "/remedy"),
            (
                r#"{"remedy": "other", "what_went_wrong": "late\u202e"}"#.to_owned(),
                "invalid_characters",
                "/what_went_wrong",
            ),
            (
                r#"{"remedy": "other", "what_went_wrong": "card 4242 4242 4242 4242"}"#.to_owned(),
                "card_number_refused",
                "/what_went_wrong",
            ),
            (r#"{"remedy": "other", "what_went_wrong": "late", "gift": true}"#.to_owned(), "unknown_field", "/gift"),
            (
                r#"{"remedy": "other", "remedy": "refund", "what_went_wrong": "late"}"#.to_owned(),
                "duplicate_member",
                "/remedy",
            ),
            (long, "invalid_note", "/what_went_wrong"),
        ];
        for (body, code, field) in refused {
            let problem = parse_apology(body.as_bytes()).unwrap_err();
            assert_eq!((problem.code, problem.field.as_deref()), (code, Some(field)), "{body}");
            assert!(problem.status < 500);
        }
    }

    #[test]
    fn refusals_are_client_errors_with_stable_codes() {
        use crate::domain::OrderStatus;
        let shipped = change_problem(ChangeError::Cancel(CancelRefusal::AlreadyShipped));
        assert_eq!((shipped.status, shipped.code), (409, "already_shipped"));
        assert!(shipped.detail.contains("returns"));
        let stale = change_problem(ChangeError::VersionMismatch { current: 7 });
        assert_eq!((stale.status, stale.code), (412, "version_mismatch"));
        let late = change_problem(ChangeError::Return(ReturnRefusal::WindowClosed { deadline: DateTime::UNIX_EPOCH }));
        assert_eq!((late.status, late.code), (422, "return_window_closed"));
        let checking = change_problem(ChangeError::Amend(AmendRefusal::BeingChecked(OrderStatus::Reserved)));
        assert_eq!((checking.status, checking.code), (409, "order_being_checked"));
        assert_eq!(change_problem(ChangeError::Busy).status, 503);
    }
}
