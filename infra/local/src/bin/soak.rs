//! `soak [ORDERS] [--faults RATE] [--crash RATE] [--chaos N] [--seed S]`: takes a few hundred
//! mixed orders (delivered, returned, out of stock, declined, held then approved or denied,
//! cancelled, amended) to the door through the local cloud while it fails (by default 10 % of
//! calls, 2 % of invocations crashed, every message delivered three times), as a storefront, an
//! operator, the warehouse and a carrier who retry what fails. Then it checks that nothing was
//! lost or doubled: every order in the state its story says, no customer told anything twice, no
//! charge or refund made twice, stock conserved per SKU; lists every dead-lettered message with
//! its reason, redrives it with the faults off, and checks again. Exit status 1 if anything is
//! wrong. `scripts/soak` builds and runs it.

// This binary's job is to report what it found.
#![allow(clippy::print_stdout)]

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use local::{
    Runner, RunnerOptions,
    apigw::client::ApiClient,
    cloud::faults::Faults,
    lambda::sources::Chaos,
    partners::{LocalCarrier, LocalWarehouse},
};
use serde_json::{Value, json};
use shared::domain::{OrderId, Rma, ShippedLine};

type Client = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// What happens to an order, and so where it must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Story {
    Delivered,
    Returned,
    OutOfStock,
    Declined,
    HeldApproved,
    HeldDenied,
    Cancelled,
    Amended,
}

impl Story {
    fn of(index: usize) -> Self {
        match index % 10 {
            0..=3 => Self::Delivered,
            4 => Self::Returned,
            5 => Self::OutOfStock,
            6 => Self::Declined,
            7 if index % 20 == 7 => Self::HeldApproved,
            7 => Self::HeldDenied,
            8 => Self::Cancelled,
            _ => Self::Amended,
        }
    }

    fn final_status(self) -> &'static str {
        match self {
            Self::Delivered | Self::HeldApproved | Self::Amended => "DELIVERED",
            Self::Returned => "REFUNDED",
            Self::OutOfStock => "REJECTED",
            Self::Declined => "PAYMENT_FAILED",
            Self::HeldDenied | Self::Cancelled => "CANCELLED",
        }
    }

    fn held(self) -> bool {
        matches!(self, Self::HeldApproved | Self::HeldDenied | Self::Amended)
    }

    fn body(self, index: usize) -> Value {
        let mut lines = vec![json!({"sku": "NOTEBOOK-A5", "quantity": 1})];
        match self {
            Self::Returned => lines.push(json!({"sku": "MUG-CLASSIC", "quantity": 1})),
            // More than the 8 on hand: refused whatever else happens.
            Self::OutOfStock => lines = vec![json!({"sku": "BOTTLE-STEEL", "quantity": 9})],
            _ => {}
        }
        let mut body = json!({
            "customer": {"name": "Soak Tester", "email": format!("soak-{index}@example.com"),
                         "phone": format!("+49151{index:08}"), "sms_opt_in": true},
            "currency": "EUR",
            "lines": lines,
            "shipping_address": {"name": "Soak Tester", "line1": "Friedrichstr. 1", "city": "Berlin",
                                 "postal_code": "10117", "country": "DE"},
            "shipping_option": "standard",
            "payment_method": if self == Self::Declined { "pm_card_visa_chargeDeclined" } else { "pm_card_visa" },
        });
        if self.held() {
            body["customer"]["email"] = json!(format!("soak-{index}@mailinator.com"));
            body["billing_address"] = json!({"name": "G H", "line1": "1 Main St", "city": "Lagos", "country": "NG"});
        }
        body
    }
}

struct Order {
    id: String,
    story: Story,
    email: String,
    phone: String,
}

struct Soak {
    runner: Runner,
    /// The runner's API, as the storefront and the operators call it.
    api: ApiClient,
    /// Everything else the soak reads (localstripe's lists, the outbox).
    client: Client,
    storefront: String,
    operator: String,
    /// What went wrong, for the report.
    problems: Vec<String>,
}

struct Settings {
    orders: usize,
    faults: Faults,
    chaos: u32,
}

fn settings() -> anyhow::Result<Settings> {
    let mut settings = Settings { orders: 300, faults: Faults { rate: 0.1, crash: 0.02, seed: 1 }, chaos: 3 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--faults" => settings.faults.rate = value()?.parse()?,
            "--crash" => settings.faults.crash = value()?.parse()?,
            "--chaos" => settings.chaos = value()?.parse()?,
            "--seed" => settings.faults.seed = value()?.parse()?,
            number => settings.orders = number.parse().with_context(|| format!("unknown argument {number:?}"))?,
        }
    }
    Ok(settings)
}

impl Soak {
    /// One API call, as a client that retries what failed on our side (5xx, or no answer) and
    /// what the API says to retry (409 `idempotency_key_in_use`, `order_being_checked`) with the
    /// same request; the answer it finally got.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        for attempt in 0..30u32 {
            let (status, answer) = self.api.call((method, path), token, headers, body).await;
            let retry_later =
                ["idempotency_key_in_use", "order_being_checked"].contains(&answer["code"].as_str().unwrap_or(""));
            if status != 0 && status < 500 && !retry_later {
                return (status, answer);
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt.min(10) + 1))).await;
        }
        (599, Value::Null)
    }

    async fn read(&self, id: &str) -> Value {
        self.call("GET", &format!("/orders/{id}"), &self.storefront, &[], None).await.1
    }

    /// Waits for the order to reach one of `statuses`; the order as last read.
    async fn reaches(&self, id: &str, statuses: &[&str], limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let order = self.read(id).await;
            if statuses.iter().any(|status| order["status"] == *status) || Instant::now() > deadline {
                return order;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn place(&self, index: usize) -> anyhow::Result<Order> {
        let story = Story::of(index);
        let body = story.body(index);
        let key = format!("soak-{index}");
        let (status, answer) =
            self.call("POST", "/orders", &self.storefront, &[("Idempotency-Key", &key)], Some(&body)).await;
        anyhow::ensure!(status == 201, "order {index} ({story:?}) was answered {status}: {answer}");
        Ok(Order {
            id: answer["id"].as_str().context("an id")?.to_owned(),
            story,
            email: body["customer"]["email"].as_str().unwrap_or_default().to_owned(),
            phone: body["customer"]["phone"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// What the storefront and the operators do to the order before it ships.
    async fn act(&self, order: &Order) -> Result<(), String> {
        let id = &order.id;
        match order.story {
            Story::Cancelled => {
                let (status, answer) =
                    self.call("POST", &format!("/orders/{id}/cancel"), &self.storefront, &[], None).await;
                (status == 200).then_some(()).ok_or(format!("{id}: cancel answered {status}: {answer}"))
            }
            story if story.held() => {
                let held = self.reaches(id, &["ON_HOLD"], Duration::from_secs(120)).await;
                if held["status"] != "ON_HOLD" {
                    return Err(format!("{id}: never held ({})", held["status"]));
                }
                if story == Story::Amended {
                    let version = format!("\"{}\"", held["version"]);
                    let edit = json!({"lines": [{"sku": "NOTEBOOK-A5", "quantity": 2}]});
                    let path = format!("/orders/{id}");
                    let (status, _) =
                        self.call("PATCH", &path, &self.storefront, &[("If-Match", &version)], Some(&edit)).await;
                    // A 412 after a lost answer: the amendment was made; the order says so.
                    let amended = self.read(id).await["lines"][0]["quantity"] == 2;
                    if status != 200 && !amended {
                        return Err(format!("{id}: the amendment was answered {status} and not made"));
                    }
                }
                let decision = if story == Story::HeldDenied { "deny" } else { "approve" };
                let path = format!("/orders/{id}/review");
                let (status, answer) =
                    self.call("POST", &path, &self.operator, &[], Some(&json!({"decision": decision}))).await;
                // 409 not_on_hold after a lost answer: the decision was taken.
                let decided = self.read(id).await["status"] != "ON_HOLD";
                (status == 200 || decided).then_some(()).ok_or(format!("{id}: review answered {status}: {answer}"))
            }
            _ => Ok(()),
        }
    }
}

/// One line of progress, rewritten in place.
fn progress(line: String) {
    use std::io::Write as _;
    print!("{line}");
    let _ = std::io::stdout().flush();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings()?;
    let started = Instant::now();
    let mut options = RunnerOptions::new(format!("soak-{}", std::process::id()));
    options.faults = settings.faults;
    options.chaos = Chaos { copies: settings.chaos, seed: settings.faults.seed };
    options.function_log = Some(std::path::PathBuf::from("target/soak-functions.log"));
    println!(
        "soak: {} orders, {:.0} % of calls failing, {:.0} % of invocations crashed, every message {} times (seed {})",
        settings.orders,
        settings.faults.rate * 100.0,
        settings.faults.crash * 100.0,
        settings.chaos,
        settings.faults.seed
    );
    let runner = Runner::start(options).await?;
    let storefront = runner.token("StorefrontJwt", "soak-shop", Duration::from_secs(6 * 3600))?;
    let operator =
        runner.operator_token("soak-operator", &["supervisor"], "soak-shop", Duration::from_secs(6 * 3600))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let api = ApiClient::new(&runner.api_url())?;
    let mut soak = Soak { runner, api, client, storefront, operator, problems: Vec::new() };

    // Placed ten at a time, as a busy shop's customers check out.
    let mut orders = Vec::new();
    for chunk in (0..settings.orders).collect::<Vec<_>>().chunks(10) {
        for placed in futures_util::future::join_all(chunk.iter().map(|index| soak.place(*index))).await {
            match placed {
                Ok(order) => orders.push(order),
                Err(error) => soak.problems.push(error.to_string()),
            }
        }
        progress(format!("\rplaced {}/{}", orders.len(), settings.orders));
    }
    println!();
    for chunk in orders.chunks(10) {
        let acted = futures_util::future::join_all(chunk.iter().map(|order| soak.act(order))).await;
        soak.problems.extend(acted.into_iter().filter_map(Result::err));
    }
    println!("storefront and operators done ({:.0?})", started.elapsed());

    ship_and_deliver(&soak, &orders).await?;
    returns(&mut soak, &orders).await?;
    settle(&soak, &orders, "settled").await;
    let injected = soak.runner.faults_injected().await?;
    println!("injected: AWS {:?}; payment provider {:?}", injected.aws, injected.payment_provider);
    let crashes: u64 = soak.runner.function_stats().values().map(|(_, stats)| stats.crashes_injected).sum();
    println!("crashed invocations: {crashes}");

    soak.runner.stop_faults().await?;
    redrive_dead_letters(&mut soak).await?;
    settle(&soak, &orders, "settled after the redrive").await;
    check(&mut soak, &orders).await?;

    println!("soak took {:.0?}", started.elapsed());
    if soak.problems.is_empty() {
        println!("nothing lost, nothing doubled: {} orders in the state their story says", orders.len());
        Ok(())
    } else {
        println!("{} problems:", soak.problems.len());
        for problem in &soak.problems {
            println!("  - {problem}");
        }
        std::process::exit(1);
    }
}

/// The warehouse ships whatever it is asked to pick; the carrier takes each parcel to the door,
/// retrying a webhook until it is accepted. Rounds continue until every order that should be
/// delivered is.
async fn ship_and_deliver(soak: &Soak, orders: &[Order]) -> anyhow::Result<()> {
    let runner = &soak.runner;
    let warehouse = LocalWarehouse::of(runner)?;
    let carrier = LocalCarrier::of(runner);
    let to_deliver: Vec<&Order> =
        orders.iter().filter(|order| ["DELIVERED", "REFUNDED"].contains(&order.story.final_status())).collect();
    let mut delivered = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(1800);
    while delivered.len() < to_deliver.len() && Instant::now() < deadline {
        // Each parcel's scans in order, the parcels side by side, as a carrier's depots work.
        let parcels = warehouse.ship_waiting(Utc::now()).await?;
        futures_util::future::join_all(parcels.iter().map(|parcel| scan_to_the_door(&carrier, parcel))).await;
        let waiting: Vec<&&Order> = to_deliver.iter().filter(|order| !delivered.contains(&order.id)).collect();
        for chunk in waiting.chunks(20) {
            let reads = futures_util::future::join_all(chunk.iter().map(|order| soak.read(&order.id))).await;
            for (order, read) in chunk.iter().zip(reads) {
                if read["status"] == "DELIVERED" {
                    delivered.insert(order.id.clone());
                }
            }
        }
        progress(format!("\rdelivered {}/{}", delivered.len(), to_deliver.len()));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    println!();
    Ok(())
}

/// The carrier's three scans of a parcel, each webhook sent again until it is accepted.
async fn scan_to_the_door(carrier: &LocalCarrier, parcel: &shared::domain::ShipmentReport) {
    for (step, status) in ["in_transit", "out_for_delivery", "delivered"].iter().enumerate() {
        let event_id = format!("evt_{}_{step}", parcel.tracking_number);
        let event = LocalCarrier::event(&event_id, &parcel.tracking_number, status, Utc::now(), None);
        for _ in 0..30 {
            if carrier.post(&event).await.is_ok_and(|status| status == 202) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Each returned order's customer sends the mug back, and the warehouse receives it (twice, as
/// a warehouse's report may be).
async fn returns(soak: &mut Soak, orders: &[Order]) -> anyhow::Result<()> {
    let runner = &soak.runner;
    let warehouse = LocalWarehouse::of(runner)?;
    let mug: ShippedLine = serde_json::from_value(json!({"sku": "MUG-CLASSIC", "quantity": 1}))?;
    let mut problems = Vec::new();
    for order in orders.iter().filter(|order| order.story == Story::Returned) {
        let body = json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "reason": "too small"});
        let (status, answer) =
            soak.call("POST", &format!("/orders/{}/returns", order.id), &soak.storefront, &[], Some(&body)).await;
        let requested = soak.read(&order.id).await;
        let Some(rma) = requested["return_request"]["rma"].as_str() else {
            problems.push(format!("{}: the return was answered {status}: {answer}", order.id));
            continue;
        };
        let (id, rma) = (
            OrderId::parse(&order.id).map_err(|e| anyhow::anyhow!(e.reason))?,
            Rma::parse(rma).map_err(|e| anyhow::anyhow!(e.reason))?,
        );
        for _ in 0..2 {
            warehouse.receive_return(&id, &rma, &[(mug.clone(), 0)], Utc::now()).await?;
        }
    }
    soak.problems.extend(problems);
    Ok(())
}

/// Waits until every order is where its story ends, or the pipeline has been quiet a while.
async fn settle(soak: &Soak, orders: &[Order], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let mut waiting = 0;
        for chunk in orders.chunks(20) {
            let reads = futures_util::future::join_all(chunk.iter().map(|order| soak.read(&order.id))).await;
            waiting +=
                chunk.iter().zip(reads).filter(|(order, read)| read["status"] != order.story.final_status()).count();
        }
        progress(format!("\rorders not yet where their story ends: {waiting}   "));
        if waiting == 0 || Instant::now() > deadline {
            println!("\n{what}");
            return;
        }
        soak.runner.settle(Duration::from_secs(3), Duration::from_secs(30)).await;
    }
}

/// Every dead-letter queue's messages, with why they failed, moved back to their queues.
async fn redrive_dead_letters(soak: &mut Soak) -> anyhow::Result<()> {
    let resources: orderctl::Resources = serde_json::from_value(soak.runner.resources())?;
    let sdk = soak.runner.sdk.clone();
    let orderctl = orderctl::Orderctl::new(&sdk, resources)?;
    let queues: Vec<String> = soak
        .runner
        .stack
        .template
        .of_type("AWS::SQS::Queue")
        .map(|(logical, _)| logical.clone())
        .filter(|logical| logical.ends_with("DeadLetterQueue"))
        .collect();
    for queue in queues {
        let letters = orderctl.dead_letters(&queue, 1_000).await?;
        if letters.is_empty() {
            continue;
        }
        println!("{queue}: {} dead-lettered", letters.len());
        for letter in &letters {
            println!(
                "  {} {} {} receives={:?} {}",
                letter.order_id.as_deref().unwrap_or("-"),
                letter.event_type.as_deref().unwrap_or("-"),
                letter.error_code.as_deref().unwrap_or("(moved by the queue's redrive policy)"),
                letter.receive_count,
                letter.error_detail.as_deref().unwrap_or("")
            );
        }
        match orderctl.redrive(&queue).await? {
            Some(moved) => println!("  redriven: {moved}"),
            None => soak.problems.push(format!("{queue}: no source queue to redrive to")),
        }
    }
    Ok(())
}

/// Nothing lost, nothing doubled.
async fn check(soak: &mut Soak, orders: &[Order]) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let mut consumed: BTreeMap<String, i64> = BTreeMap::new();
    for order in orders {
        let read = soak.read(&order.id).await;
        if read["status"] != order.story.final_status() {
            problems.push(format!(
                "{} ({:?}) is {}, not {}",
                order.id,
                order.story,
                read["status"],
                order.story.final_status()
            ));
        }
        if order.story == Story::Amended && read["lines"][0]["quantity"] != 2 {
            problems.push(format!("{}: the amendment is not in the order: {}", order.id, read["lines"]));
        }
        if ["DELIVERED", "REFUNDED"].contains(&read["status"].as_str().unwrap_or_default()) {
            for line in read["lines"].as_array().into_iter().flatten() {
                let sku = line["sku"].as_str().unwrap_or_default().to_owned();
                *consumed.entry(sku).or_default() += line["quantity"].as_i64().unwrap_or_default();
            }
        }
        if order.story == Story::Returned {
            // The mug came back resellable.
            *consumed.entry("MUG-CLASSIC".to_owned()).or_default() -= 1;
        }
    }

    // No customer told anything twice.
    let outbox = format!("{}{}", soak.runner.moto_endpoint(), local::observe::outbox::OUTBOX_PATH);
    let sent = soak.call_url(&outbox).await?;
    let mut told: BTreeMap<(String, String), u32> = BTreeMap::new();
    for (_, recipient, text) in local::observe::outbox::summaries(&sent) {
        *told.entry((recipient, text)).or_default() += 1;
    }
    let ours: BTreeSet<&str> = orders.iter().flat_map(|order| [order.email.as_str(), order.phone.as_str()]).collect();
    let twice: Vec<_> = told.iter().filter(|((to, _), count)| **count > 1 && ours.contains(to.as_str())).collect();
    for ((to, text), count) in &twice {
        problems.push(format!("{to} was told {count} times: {text}"));
    }
    println!("messages sent: {}, any told twice: {}", told.values().sum::<u32>(), twice.len());

    // No charge, void or refund made twice.
    let stripe = soak.runner.stripe_endpoint().context("the soak's localstripe")?.to_owned();
    let intents = soak.stripe_list(&stripe, "payment_intents").await?;
    let refunds = soak.stripe_list(&stripe, "refunds").await?;
    let ids: BTreeSet<&str> = orders.iter().map(|order| order.id.as_str()).collect();
    let mut captured: BTreeMap<String, u32> = BTreeMap::new();
    let mut intent_order: BTreeMap<String, String> = BTreeMap::new();
    for intent in &intents {
        let order = intent["metadata"]["order_id"].as_str().unwrap_or_default().to_owned();
        if !ids.contains(order.as_str()) {
            continue;
        }
        intent_order.insert(intent["id"].as_str().unwrap_or_default().to_owned(), order.clone());
        if intent["status"] == "succeeded" {
            *captured.entry(order).or_default() += 1;
        }
    }
    for (order, count) in captured.iter().filter(|(_, count)| **count > 1) {
        problems.push(format!("{order} was charged {count} times"));
    }
    let mut refunded: BTreeMap<String, u32> = BTreeMap::new();
    for refund in &refunds {
        if let Some(order) = refund["payment_intent"].as_str().and_then(|intent| intent_order.get(intent)) {
            *refunded.entry(order.clone()).or_default() += 1;
        }
    }
    for (order, count) in refunded.iter().filter(|(_, count)| **count > 1) {
        problems.push(format!("{order} was refunded {count} times"));
    }
    println!("charges captured: {}, refunds: {}", captured.values().sum::<u32>(), refunded.values().sum::<u32>());

    // Stock conserved: what is on hand is the seed less what left and did not come back.
    let store = shared::adapters::dynamodb::DynamoStore::from_env(
        aws_sdk_dynamodb::Client::new(&soak.runner.sdk),
        &shared::config::Env::Map(soak.runner.stack.global_environment()?),
    )?;
    let catalog = local::stack::catalog::demo_catalog()?;
    let skus: Vec<_> = catalog.iter().map(|entry| entry.sku.clone()).collect();
    let levels = shared::domain::StockLedger::stock_levels(&store, &skus).await?;
    for entry in &catalog {
        let on_hand = i64::from(levels.get(&entry.sku).map_or(0, shared::domain::StockLevel::available));
        let expected = i64::from(entry.available) - consumed.get(entry.sku.as_str()).copied().unwrap_or_default();
        if on_hand != expected {
            problems.push(format!("{}: {on_hand} on hand, {expected} expected", entry.sku));
        }
    }
    println!("stock checked for {} SKUs", catalog.len());
    soak.problems.extend(problems);
    Ok(())
}

impl Soak {
    async fn call_url(&self, url: &str) -> anyhow::Result<Value> {
        let request = hyper::Request::get(url).body(Full::new(Bytes::new()))?;
        let response = self.client.request(request).await?;
        Ok(serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?)
    }

    /// Every object of a localstripe list, page by page.
    async fn stripe_list(&self, stripe: &str, kind: &str) -> anyhow::Result<Vec<Value>> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let after = all.last().and_then(|last| last["id"].as_str()).map(|id| format!("&starting_after={id}"));
            let url = format!("{stripe}/v1/{kind}?limit=100{}", after.unwrap_or_default());
            let request = hyper::Request::get(url)
                .header("Authorization", "Bearer sk_test_orderflow_local")
                .body(Full::new(Bytes::new()))?;
            let response = self.client.request(request).await?;
            let page: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            let more = page["has_more"] == true && !data.is_empty();
            all.extend(data);
            if !more {
                return Ok(all);
            }
        }
    }
}
