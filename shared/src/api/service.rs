//! The storefront API's use cases: place an order (idempotently) and read one back.

use chrono::{DateTime, Duration, Utc};

use super::{
    problem::Problem,
    request::parse_new_order,
    view::{OrderView, order_location},
};
use crate::config::{ConfigError, Env};
use crate::digest::sha256_hex;
use crate::domain::{
    Catalog, IdempotencyKey, IdempotencyRecord, LookupKeys, Order, OrderId, OrderRecord, OrderRepository, PricingError,
    PricingPolicy, ShippingPolicy, ShippingRefusal, Sku, StoreError, StoredResponse, StorefrontId,
};
use crate::storefront::NotificationPolicy;

/// A request to place an order, as the HTTP adapter hands it over.
#[derive(Debug, Clone, Copy)]
pub struct PlaceOrder<'a> {
    pub storefront: &'a StorefrontId,
    pub idempotency_key: Option<&'a str>,
    pub body: &'a [u8],
}

/// A successful answer: a status, a JSON body, maybe a `Location`, whether it is a replay, and
/// the order version it shows (its `ETag`, for a later `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub response: StoredResponse,
    pub replayed: bool,
    pub etag: Option<u64>,
}

impl Answer {
    /// 200 with the view of an order.
    pub fn order(view: &OrderView<'_>) -> Result<Self, Problem> {
        let body = to_json(view)?;
        Ok(Self {
            response: StoredResponse { status: 200, body, location: None },
            replayed: false,
            etag: Some(view.version),
        })
    }
}

pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The storefront API over any store, catalog and lookup key.
#[derive(Debug, Clone)]
pub struct OrderApi<R, C, K> {
    pub orders: R,
    pub catalog: C,
    /// Makes the keys that find an order by its customer's e-mail address and phone number.
    pub keys: K,
    pub pricing: PricingPolicy,
    pub shipping: ShippingPolicy,
    /// How long a key protects against a retried request.
    pub idempotency_ttl: Duration,
    /// Which locales each storefront's customers may be written to in.
    pub notification: NotificationPolicy,
}

impl<R, C, K> OrderApi<R, C, K> {
    /// Over these ports, with `PRICING_POLICY`, `SHIPPING_POLICY`, `IDEMPOTENCY_TTL_HOURS` and
    /// `NOTIFICATION_POLICY` (the storefronts' locales) from `env`.
    pub fn from_env(orders: R, catalog: C, keys: K, env: &Env) -> Result<Self, ConfigError> {
        let idempotency_ttl = Duration::hours(env.parse("IDEMPOTENCY_TTL_HOURS")?);
        let (pricing, shipping) = policies(env)?;
        let notification = NotificationPolicy::from_env(env)?;
        Ok(Self { orders, catalog, keys, pricing, shipping, idempotency_ttl, notification })
    }
}

/// `PRICING_POLICY` and `SHIPPING_POLICY`: what an order costs and where it may go.
pub(super) fn policies(env: &Env) -> Result<(PricingPolicy, ShippingPolicy), ConfigError> {
    let shipping = env
        .json::<ShippingPolicy>("SHIPPING_POLICY")?
        .validated()
        .map_err(|error| ConfigError::Malformed { name: "SHIPPING_POLICY", source: Box::new(error) })?;
    Ok((env.json("PRICING_POLICY")?, shipping))
}

impl<R: OrderRepository + Sync, C: Catalog + Sync, K: LookupKeys + Sync> OrderApi<R, C, K> {
    /// Places an order. With an idempotency key, the same request gets the same answer however
    /// often and however concurrently it is sent, and places one order.
    #[tracing::instrument(skip_all, fields(storefront = %request.storefront, order_id = tracing::field::Empty))]
    pub async fn place_order(&self, request: PlaceOrder<'_>, now: DateTime<Utc>) -> Result<Answer, Problem> {
        let key = request
            .idempotency_key
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(|invalid| Problem::bad_request(invalid.code, invalid.reason).at(IDEMPOTENCY_KEY_HEADER))?;
        let mut new_order = parse_new_order(request.body)?;
        let locale = self.notification.storefront(request.storefront).locale_for(new_order.locale.as_ref());
        new_order.locale = Some(
            locale
                .map_err(|refusal| Problem::unprocessable("unsupported_locale", refusal.to_string()).at("/locale"))?,
        );
        new_order.shipping_address = self
            .shipping
            .check(&new_order.shipping_address, new_order.shipping_option, &new_order.lines)
            .map_err(|refusal| shipping_problem(&refusal))?;
        let request_hash = sha256_hex(request.body);
        if let Some(key) = &key
            && let Some(answer) = self.replay(request.storefront, key, &request_hash, now).await?
        {
            return Ok(answer);
        }

        let skus: Vec<Sku> = new_order.lines.iter().map(|line| line.sku.clone()).collect();
        let catalog = self.catalog.items(&skus).await.map_err(server_problem)?;
        let priced = self
            .shipping
            .price_order(
                &self.pricing,
                &new_order.lines,
                &catalog,
                new_order.currency,
                new_order.shipping_option,
                &new_order.shipping_address.country,
                now,
            )
            .map_err(pricing_problem)?;

        let id = OrderId::random().map_err(|error| {
            tracing::error!(%error, "no randomness for an order id");
            Problem::unavailable()
        })?;
        tracing::Span::current().record("order_id", tracing::field::display(&id));
        let options = priced.options.clone();
        let lookup = self.keys.lookup_key().await.map_err(server_problem)?;
        let mut order = Order::place(id, request.storefront.clone(), new_order, priced, now);
        order.customer_key = Some(lookup.customer(&order.storefront, &order.customer.email));
        order.phone_key = order.customer.phone.as_ref().map(|phone| lookup.phone(&order.storefront, phone));
        let timeline = [order.placed_entry()];
        let response = StoredResponse {
            status: 201,
            body: to_json(&OrderView::for_storefront(&order, &timeline).offering(&options))?,
            location: Some(order_location(&order.id)),
        };
        let claim = key.map(|key| IdempotencyRecord {
            storefront: request.storefront.clone(),
            key,
            request_hash: request_hash.clone(),
            response: response.clone(),
            expires_at: now + self.idempotency_ttl,
        });
        match self.orders.create(&order, claim.as_ref()).await {
            Ok(()) => {
                tracing::info!(total = %order.totals.total, lines = order.lines.len(), "order placed");
                Ok(Answer { response, replayed: false, etag: Some(order.version()) })
            }
            // A concurrent request with the same key won the race: answer what it answered.
            Err(StoreError::IdempotencyKeyTaken) => match claim {
                Some(claim) => {
                    self.replay(request.storefront, &claim.key, &request_hash, now).await?.ok_or_else(|| {
                        Problem::new(409, "idempotency_key_in_use", "a request with this key is in progress; retry it")
                            .at(IDEMPOTENCY_KEY_HEADER)
                    })
                }
                None => Err(Problem::internal()),
            },
            Err(error) => Err(server_problem(error)),
        }
    }

    /// The earlier answer to this key, if there is one and the request is the same.
    async fn replay(
        &self,
        storefront: &StorefrontId,
        key: &IdempotencyKey,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Answer>, Problem> {
        let Some(record) = self.orders.idempotency_record(storefront, key, now).await.map_err(server_problem)? else {
            return Ok(None);
        };
        if record.request_hash != request_hash {
            return Err(Problem::unprocessable(
                "idempotency_key_reused",
                "this idempotency key was used for a different request",
            )
            .at(IDEMPOTENCY_KEY_HEADER));
        }
        crate::metrics::emit(&[crate::metrics::Measurement::count(crate::metrics::Metric::IdempotentReplays)]);
        Ok(Some(Answer { response: record.response, replayed: true, etag: None }))
    }

    /// An order with its timeline, for the storefront that placed it and nobody else.
    #[tracing::instrument(skip_all, fields(storefront = %storefront, order_id = raw_id))]
    pub async fn get_order(&self, storefront: &StorefrontId, raw_id: &str) -> Result<Answer, Problem> {
        // An unparseable id cannot name an order: the same 404 as a missing one.
        let id = super::ids::order_id(raw_id)?;
        let OrderRecord { order, timeline } = self
            .orders
            .get(&id)
            .await
            .map_err(server_problem)?
            .filter(|record| &record.order.storefront == storefront)
            .ok_or_else(Problem::not_found)?;
        Answer::order(&OrderView::for_storefront(&order, &timeline))
    }
}

pub(super) fn to_json(view: &impl serde::Serialize) -> Result<String, Problem> {
    serde_json::to_string(view).map_err(|error| {
        tracing::error!(%error, "a view did not serialise");
        Problem::internal()
    })
}

pub(super) fn shipping_problem(refusal: &ShippingRefusal) -> Problem {
    let problem = Problem::unprocessable(refusal.code(), refusal.to_string());
    match refusal {
        ShippingRefusal::Address { field, .. } => problem.at(format!("/shipping_address/{}", field.name())),
        ShippingRefusal::SkuNotShippable { line, .. } => problem.at(format!("/lines/{line}/sku")),
        ShippingRefusal::OptionNotOffered { .. } => problem.at("/shipping_option"),
    }
}

pub(super) fn pricing_problem(error: PricingError) -> Problem {
    let detail = error.to_string();
    match error {
        PricingError::UnknownSku { line } => {
            Problem::unprocessable("unknown_sku", detail).at(format!("/lines/{line}/sku"))
        }
        PricingError::CurrencyNotOffered { line } => {
            Problem::unprocessable("currency_not_offered", detail).at(format!("/lines/{line}/sku"))
        }
        PricingError::CurrencyNotSupported => Problem::unprocessable("currency_not_supported", detail).at("/currency"),
        PricingError::Overflow => Problem::unprocessable("total_out_of_range", detail).at("/lines"),
        PricingError::OptionNotQuoted => {
            tracing::error!(error = %detail, "the shipping policy let an order through that it cannot quote");
            Problem::internal()
        }
    }
}

/// Logs what went wrong on our side, with its causes, and tells the client only whether a retry
/// can help: an outage passes, a malformed stored item does not.
pub(super) fn server_problem(error: StoreError) -> Problem {
    let problem = match error {
        StoreError::Malformed(_) => Problem::internal(),
        StoreError::Conflict
        | StoreError::IdempotencyKeyTaken
        | StoreError::AlreadyRecorded
        | StoreError::TrackingNumberTaken
        | StoreError::Unavailable(_) => Problem::unavailable(),
    };
    let error: &dyn std::error::Error = &error;
    let mut causes = String::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    tracing::error!(error = %error, causes = %causes, "store call failed");
    problem
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Mutex};

    use super::*;
    use crate::{
        api::request::tests::valid_body,
        domain::{CatalogItem, Currency, Line, Money, RecentOrder, Revision, TimelineEntry},
    };

    /// The ports in memory, with a switch that makes every call fail as an outage would.
    #[derive(Default)]
    struct Memory {
        orders: Mutex<HashMap<OrderId, Order>>,
        claims: Mutex<HashMap<(StorefrontId, IdempotencyKey), IdempotencyRecord>>,
        down: bool,
    }

    impl Memory {
        fn check(&self) -> Result<(), StoreError> {
            if self.down { Err(StoreError::Unavailable("the test switched the store off".into())) } else { Ok(()) }
        }
    }

    impl Catalog for &Memory {
        async fn items(&self, skus: &[Sku]) -> Result<HashMap<Sku, CatalogItem>, StoreError> {
            self.check()?;
            let eur = Currency::parse("EUR").unwrap();
            Ok(skus
                .iter()
                .filter(|sku| ["MUG", "TEE"].contains(&sku.as_str()))
                .map(|sku| {
                    let name = Line::parse(sku.as_str()).unwrap();
                    (sku.clone(), CatalogItem { sku: sku.clone(), name, unit_price: Money::new(1_000, eur) })
                })
                .collect())
        }
    }

    impl OrderRepository for &Memory {
        async fn create(&self, order: &Order, claim: Option<&IdempotencyRecord>) -> Result<(), StoreError> {
            self.check()?;
            if let Some(claim) = claim {
                let mut claims = self.claims.lock().unwrap();
                let key = (claim.storefront.clone(), claim.key.clone());
                // As the DynamoDB condition does: an expired claim no longer holds the key.
                if claims.get(&key).is_some_and(|held| held.expires_at >= order.created_at) {
                    return Err(StoreError::IdempotencyKeyTaken);
                }
                claims.insert(key, claim.clone());
            }
            self.orders.lock().unwrap().insert(order.id.clone(), order.clone());
            Ok(())
        }

        async fn get(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
            self.check()?;
            let orders = self.orders.lock().unwrap();
            Ok(orders.get(id).map(|order| OrderRecord { order: order.clone(), timeline: vec![order.placed_entry()] }))
        }

        async fn head(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
            self.check()?;
            Ok(self.orders.lock().unwrap().get(id).cloned())
        }

        async fn apply(&self, _change: &Revision) -> Result<(), StoreError> {
            self.check()
        }

        async fn append_timeline(&self, _id: &OrderId, _entry: &TimelineEntry) -> Result<(), StoreError> {
            self.check()
        }

        async fn record_capture(&self, _id: &OrderId, _amount: Money) -> Result<(), StoreError> {
            self.check()
        }

        async fn customer_orders(&self, _order: &Order) -> Result<Vec<RecentOrder>, StoreError> {
            self.check().map(|()| Vec::new())
        }

        async fn idempotency_record(
            &self,
            storefront: &StorefrontId,
            key: &IdempotencyKey,
            now: DateTime<Utc>,
        ) -> Result<Option<IdempotencyRecord>, StoreError> {
            self.check()?;
            let claims = self.claims.lock().unwrap();
            Ok(claims.get(&(storefront.clone(), key.clone())).filter(|claim| claim.expires_at > now).cloned())
        }
    }

    fn api(memory: &Memory) -> OrderApi<&Memory, &Memory, std::sync::Arc<crate::domain::LookupKey>> {
        let pricing =
            serde_json::from_value(serde_json::json!({"shipping_fees": {"EUR": {"standard": 500, "express": 900}}}))
                .unwrap_or_default();
        let shipping = crate::domain::tests::shipping_policy();
        let notification = NotificationPolicy::parse(
            r#"{"storefronts": {"*": {"name": "Shop", "support_email": "help@shop.example",
                "website": "https://shop.example", "locales": ["en-GB", "de-DE", "nl"]}}}"#,
        )
        .unwrap();
        OrderApi {
            orders: memory,
            catalog: memory,
            keys: std::sync::Arc::new(crate::domain::LookupKey::new(&[3; 32]).unwrap()),
            pricing,
            shipping,
            idempotency_ttl: Duration::hours(24),
            notification,
        }
    }

    fn storefront() -> StorefrontId {
        StorefrontId::parse("shop").unwrap()
    }

    async fn place(
        api: &OrderApi<&Memory, &Memory, std::sync::Arc<crate::domain::LookupKey>>,
        key: Option<&str>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Answer, Problem> {
        let storefront = storefront();
        api.place_order(PlaceOrder { storefront: &storefront, idempotency_key: key, body: body.as_bytes() }, now).await
    }

    #[tokio::test]
    async fn a_key_replays_its_answer_until_it_expires() {
        let memory = Memory::default();
        let api = api(&memory);
        let body = valid_body().to_string();
        let now = Utc::now();
        let first = place(&api, Some("k1"), &body, now).await.unwrap();
        let again = place(&api, Some("k1"), &body, now + Duration::hours(23)).await.unwrap();
        assert_eq!((first.replayed, again.replayed), (false, true));
        assert_eq!(first.response, again.response);
        assert_eq!(memory.orders.lock().unwrap().len(), 1);
        let after_expiry = place(&api, Some("k1"), &body, now + Duration::hours(25)).await.unwrap();
        assert!(!after_expiry.replayed);
        assert_ne!(after_expiry.response.location, first.response.location);
        assert_eq!(memory.orders.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_key_reused_for_another_body_is_refused() {
        let memory = Memory::default();
        let api = api(&memory);
        place(&api, Some("k2"), &valid_body().to_string(), Utc::now()).await.unwrap();
        let mut other = valid_body();
        other["shipping_option"] = serde_json::json!("express");
        let refusal = place(&api, Some("k2"), &other.to_string(), Utc::now()).await.unwrap_err();
        assert_eq!((refusal.status, refusal.code), (422, "idempotency_key_reused"));
    }

    #[tokio::test]
    async fn an_outage_is_a_retryable_503_that_says_nothing_of_the_cause() {
        let memory = Memory { down: true, ..Memory::default() };
        let refusal = place(&api(&memory), None, &valid_body().to_string(), Utc::now()).await.unwrap_err();
        assert_eq!((refusal.status, refusal.code), (503, "service_unavailable"));
        assert!(!refusal.to_json().contains("switched"));
    }

    #[tokio::test]
    async fn an_order_is_written_in_a_locale_its_storefront_offers_and_in_the_storefront_s_by_default() {
        let memory = Memory::default();
        let api = api(&memory);
        let locale_of = |answer: &Answer| -> String {
            let view: serde_json::Value = serde_json::from_str(&answer.response.body).unwrap();
            view["locale"].as_str().unwrap_or_default().to_owned()
        };
        let mut body = valid_body();
        assert_eq!(locale_of(&place(&api, None, &body.to_string(), Utc::now()).await.unwrap()), "en-GB");
        body["locale"] = serde_json::json!("DE-de");
        assert_eq!(locale_of(&place(&api, None, &body.to_string(), Utc::now()).await.unwrap()), "de-DE");
        for (refused, code) in
            [("de-AT", "unsupported_locale"), ("fr", "unsupported_locale"), ("de_DE", "invalid_locale")]
        {
            body["locale"] = serde_json::json!(refused);
            let problem = place(&api, None, &body.to_string(), Utc::now()).await.unwrap_err();
            assert_eq!(
                (problem.status, problem.code, problem.field.as_deref()),
                (422, code, Some("/locale")),
                "{refused}"
            );
        }
        assert_eq!(memory.orders.lock().unwrap().len(), 2, "a refused locale places nothing");
    }

    #[tokio::test]
    async fn an_order_is_read_back_only_by_its_storefront() {
        let memory = Memory::default();
        let api = api(&memory);
        let placed = place(&api, None, &valid_body().to_string(), Utc::now()).await.unwrap();
        let id = placed.response.location.unwrap_or_default().trim_start_matches("/orders/").to_owned();
        assert_eq!(api.get_order(&storefront(), &id).await.unwrap().response.status, 200);
        let stranger = StorefrontId::parse("other-shop").unwrap();
        assert_eq!(api.get_order(&stranger, &id).await.unwrap_err().status, 404);
    }
}
