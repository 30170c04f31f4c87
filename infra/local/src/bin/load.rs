//! `load`: a peak day's traffic against the HTTP API, local or deployed, and what it did to it.
//!
//! ```text
//! load [--orders N] [--rate PER_SECOND | --concurrency N] [--functions DIR]
//! load --api URL --token FILE [--operator-token FILE] [--carrier NAME --carrier-secret SECRET] ...
//! ```
//!
//! Each order is a customer's story: placed with an `Idempotency-Key`, read back a few times
//! while it is checked, sometimes amended (`PATCH` with `If-Match`) or cancelled, as a shop's
//! mix goes; operators read some (with `--operator-token`); the carrier's signed tracking
//! webhooks follow each parcel the warehouse ships. `--rate` starts that many orders a second
//! whatever the API's pace (open loop, as customers arrive); `--concurrency` keeps that many
//! stories going (closed loop). Without `--api` it starts the local cloud itself (functions from
//! `--functions`, default `target/release`) and plays the warehouse and the carrier too; against
//! a deployed stack the warehouse is yours, and webhooks go out with `--carrier-secret` for the
//! parcels the orders show. At the end: p50/p95/p99 latency per request kind, answers by status
//! and problem code, and how many orders settled (reached a final state) within `--settle`
//! seconds (the tool's own reads to find parcels and final states show as `poll`).
//! `scripts/bench/load` builds and runs it.

// This binary's job is to report what it measured.
#![allow(clippy::print_stdout)]

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use chrono::Utc;
use local::{
    Runner, RunnerOptions,
    apigw::client::ApiClient,
    partners::{LocalCarrier, LocalWarehouse},
};
use serde_json::{Value, json};

const FINAL: [&str; 6] = ["DELIVERED", "CANCELLED", "REJECTED", "PAYMENT_FAILED", "REFUNDED", "RETURNED"];
const SKUS: [&str; 3] = ["MUG-CLASSIC", "NOTEBOOK-A5", "TEE-ORGANIC-M"];

#[derive(Debug)]
struct Settings {
    api: Option<String>,
    token: Option<PathBuf>,
    operator_token: Option<PathBuf>,
    carrier: Option<(String, String)>,
    functions: PathBuf,
    orders: usize,
    rate: Option<f64>,
    concurrency: usize,
    settle: Duration,
}

fn settings() -> anyhow::Result<Settings> {
    let mut settings = Settings {
        api: None,
        token: None,
        operator_token: None,
        carrier: None,
        functions: PathBuf::from("target/release"),
        orders: 200,
        rate: None,
        concurrency: 8,
        settle: Duration::from_secs(180),
    };
    let mut carrier_name = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} takes a value"));
        match arg.as_str() {
            "--api" => settings.api = Some(value()?.trim_end_matches('/').to_owned()),
            "--token" => settings.token = Some(PathBuf::from(value()?)),
            "--operator-token" => settings.operator_token = Some(PathBuf::from(value()?)),
            "--carrier" => carrier_name = Some(value()?),
            "--carrier-secret" => {
                let secret = value()?;
                settings.carrier = Some((carrier_name.clone().unwrap_or_else(|| "easypost".to_owned()), secret));
            }
            "--functions" => settings.functions = PathBuf::from(value()?),
            "--orders" => settings.orders = value()?.parse()?,
            "--rate" => settings.rate = Some(value()?.parse()?),
            "--concurrency" => settings.concurrency = value()?.parse()?,
            "--settle" => settings.settle = Duration::from_secs(value()?.parse()?),
            other => bail!("unknown argument {other:?} (see the top of infra/local/src/bin/load.rs)"),
        }
    }
    anyhow::ensure!(settings.api.is_none() || settings.token.is_some(), "--api needs --token");
    Ok(settings)
}

/// Every answer: its kind, how long it took, and its status and problem code.
#[derive(Debug, Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    answers: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
struct Traffic {
    api: ApiClient,
    storefront: String,
    operator: Option<String>,
    tally: Arc<Mutex<Tally>>,
}

impl Traffic {
    async fn send(
        &self,
        kind: &'static str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let operator = kind.starts_with("operator");
        let token = if operator { self.operator.as_deref().unwrap_or_default() } else { &self.storefront };
        let started = Instant::now();
        let (status, answer) = self.api.call((method, path), token, headers, body).await;
        self.record(kind, started.elapsed(), status, &answer);
        (status, answer)
    }

    fn record(&self, kind: &'static str, took: Duration, status: u16, answer: &Value) {
        let code = answer["code"].as_str().map(|code| format!(" {code}")).unwrap_or_default();
        let answer = if status == 0 { "no answer".to_owned() } else { format!("{kind} {status}{code}") };
        let mut tally = self.tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tally.latencies.entry(kind).or_default().push(took);
        *tally.answers.entry(answer).or_default() += 1;
    }

    /// One customer's order, from checkout to what they do while it is checked; its id.
    async fn story(&self, index: usize) -> Option<String> {
        let roll = fastrand::u8(..100);
        let lines: Vec<Value> = (0..1 + index % 2)
            .map(|line| json!({"sku": SKUS[(index + line) % SKUS.len()], "quantity": 1 + fastrand::u32(..2)}))
            .collect();
        let body = json!({
            "customer": {"name": "Peak Shopper", "email": format!("peak-{index}@example.com"),
                         "phone": format!("+4915{index:09}"), "sms_opt_in": index.is_multiple_of(3)},
            "currency": "EUR",
            "lines": lines,
            "shipping_address": {"name": "Peak Shopper", "line1": "Friedrichstr. 1", "city": "Berlin",
                                 "postal_code": "10117", "country": "DE"},
            "shipping_option": if roll < 80 { "standard" } else { "express" },
            "payment_method": if roll < 3 { "pm_card_visa_chargeDeclined" } else { "pm_card_visa" },
        });
        let key = format!("load-{}-{index}", std::process::id());
        let mut placed = (0, Value::Null);
        // A storefront retries what failed on the server's side with the same key.
        for _ in 0..5 {
            placed = self.send("place", "POST", "/orders", &[("Idempotency-Key", &key)], Some(&body)).await;
            if placed.0 != 0 && placed.0 < 500 && placed.1["code"] != "idempotency_key_in_use" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let id = placed.1["id"].as_str()?.to_owned();
        let path = format!("/orders/{id}");
        for _ in 0..1 + fastrand::usize(..3) {
            tokio::time::sleep(Duration::from_millis(fastrand::u64(200..800))).await;
            let (_, order) = self.send("read", "GET", &path, &[], None).await;
            if (90..95).contains(&roll) && order["version"].is_number() {
                let version = format!("\"{}\"", order["version"]);
                let edit = json!({"lines": [{"sku": "NOTEBOOK-A5", "quantity": 2}]});
                self.send("amend", "PATCH", &path, &[("If-Match", &version)], Some(&edit)).await;
            }
        }
        if roll >= 95 {
            self.send("cancel", "POST", &format!("{path}/cancel"), &[], Some(&json!({"reason": "changed my mind"})))
                .await;
        }
        if self.operator.is_some() && index.is_multiple_of(10) {
            self.send("operator read", "GET", &format!("{path}/review"), &[], None).await;
        }
        Some(id)
    }
}

/// Plays the carrier for every parcel the orders show, and (locally) the warehouse, until the
/// orders have settled or `until` passes.
async fn partners(
    traffic: &Traffic,
    warehouse: Option<&LocalWarehouse>,
    carrier: Option<&LocalCarrier>,
    ids: &Mutex<Vec<String>>,
    done: &tokio::sync::Notify,
) {
    let mut scanned: BTreeSet<String> = BTreeSet::new();
    loop {
        if let Some(warehouse) = warehouse {
            let _ = warehouse.ship_waiting(Utc::now()).await;
        }
        if let Some(carrier) = carrier {
            let ids: Vec<String> = ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            for id in ids {
                let (_, order) = traffic.send("poll", "GET", &format!("/orders/{id}"), &[], None).await;
                for shipment in order["shipments"].as_array().into_iter().flatten() {
                    let Some(tracking) =
                        shipment["tracking_number"].as_str().filter(|tracking| !scanned.contains(*tracking))
                    else {
                        continue;
                    };
                    let Ok(tracking_number) = tracking.parse() else { continue };
                    for status in ["in_transit", "delivered"] {
                        let event = LocalCarrier::event(
                            &format!("evt_load_{tracking}_{status}"),
                            &tracking_number,
                            status,
                            Utc::now(),
                            None,
                        );
                        let started = Instant::now();
                        let answer = carrier.post(&event).await.unwrap_or(0);
                        traffic.record("webhook", started.elapsed(), answer, &Value::Null);
                    }
                    scanned.insert(tracking.to_owned());
                }
            }
        }
        tokio::select! {
            () = done.notified() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(at).map_or(f64::NAN, |took| took.as_secs_f64() * 1000.0)
}

fn progress(done: usize, of: usize, started: Instant, tally: &Mutex<Tally>) {
    const WIDTH: usize = 30;
    let filled = WIDTH * done / of.max(1);
    let requests: usize =
        tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner).latencies.values().map(Vec::len).sum();
    print!(
        "\r[{}{}] {done}/{of} orders, {requests} requests, {:.0} req/s ",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        requests as f64 / started.elapsed().as_secs_f64().max(0.001)
    );
    let _ = std::io::stdout().flush();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings()?;
    let runner = match settings.api {
        Some(_) => None,
        None => {
            let mut options = RunnerOptions::new(format!("load-{}", std::process::id()));
            options.binaries.clone_from(&settings.functions);
            println!("starting the local cloud with the functions of {}…", settings.functions.display());
            Some(Runner::start(options).await?)
        }
    };
    let read_token = |path: &PathBuf| std::fs::read_to_string(path).map(|token| token.trim().to_owned());
    let (api, storefront, operator) = match &runner {
        Some(runner) => (
            runner.api_url(),
            runner.token("StorefrontJwt", "load-shop", Duration::from_secs(6 * 3600))?,
            Some(runner.operator_token(
                "load-operator",
                &["supervisor"],
                "load-shop",
                Duration::from_secs(6 * 3600),
            )?),
        ),
        None => (
            settings.api.clone().unwrap_or_default(),
            read_token(settings.token.as_ref().context("--token")?)?,
            settings.operator_token.as_ref().map(read_token).transpose()?,
        ),
    };
    let traffic = Traffic { api: ApiClient::new(&api)?, storefront, operator, tally: Arc::default() };
    let warehouse = runner.as_ref().map(LocalWarehouse::of).transpose()?;
    let carrier = match (&runner, &settings.carrier) {
        (Some(runner), _) => Some(LocalCarrier::of(runner)),
        (None, Some((carrier, secret))) => {
            Some(LocalCarrier { api_url: api.clone(), carrier: carrier.clone(), secret: secret.clone() })
        }
        (None, None) => None,
    };
    let mode =
        settings.rate.map_or_else(|| format!("{} at a time", settings.concurrency), |rate| format!("{rate} a second"));
    println!("{} orders to {api}, {mode}", settings.orders);

    let ids = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(tokio::sync::Notify::new());
    let partners_task = {
        let (traffic, ids, done) = (traffic.clone(), Arc::clone(&ids), Arc::clone(&done));
        let (warehouse, carrier) = (warehouse.clone(), carrier.clone());
        tokio::spawn(async move { partners(&traffic, warehouse.as_ref(), carrier.as_ref(), &ids, &done).await })
    };
    let started = Instant::now();
    let mut stories = tokio::task::JoinSet::new();
    let mut finished = 0;
    for index in 0..settings.orders {
        match settings.rate {
            Some(rate) => {
                let due = started + Duration::from_secs_f64(index as f64 / rate.max(0.001));
                tokio::time::sleep_until(due.into()).await;
            }
            None => {
                while stories.len() >= settings.concurrency.max(1) {
                    if let Some(Ok(Some(id))) = stories.join_next().await {
                        ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id);
                    }
                    finished += 1;
                }
            }
        }
        let customer = traffic.clone();
        stories.spawn(async move { customer.story(index).await });
        while let Some(joined) = stories.try_join_next() {
            if let Ok(Some(id)) = joined {
                ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id);
            }
            finished += 1;
        }
        progress(finished, settings.orders, started, &traffic.tally);
    }
    while let Some(joined) = stories.join_next().await {
        if let Ok(Some(id)) = joined {
            ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id);
        }
        finished += 1;
        progress(finished, settings.orders, started, &traffic.tally);
    }
    let sent_in = started.elapsed();
    println!();

    // Settled: every order in a final state, or as far as it got when time ran out.
    let placed: Vec<String> = ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let deadline = Instant::now() + settings.settle;
    let mut statuses: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let open: Vec<&String> = placed
            .iter()
            .filter(|id| statuses.get(*id).is_none_or(|status| !FINAL.contains(&status.as_str())))
            .collect();
        for id in open {
            let (_, order) = traffic.send("poll", "GET", &format!("/orders/{id}"), &[], None).await;
            statuses.insert(id.clone(), order["status"].as_str().unwrap_or("?").to_owned());
        }
        let settled = statuses.values().filter(|status| FINAL.contains(&status.as_str())).count();
        print!("\rsettled {settled}/{} ", placed.len());
        let _ = std::io::stdout().flush();
        if settled == placed.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let settled_in = started.elapsed();
    done.notify_one();
    let _ = partners_task.await;
    println!();

    let tally = traffic.tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    println!(
        "orders sent in {:.1} s ({:.1} orders/s); settled after {:.1} s",
        sent_in.as_secs_f64(),
        placed.len() as f64 / sent_in.as_secs_f64(),
        settled_in.as_secs_f64()
    );
    println!("| request | count | p50 ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    for (kind, latencies) in &tally.latencies {
        let mut sorted = latencies.clone();
        sorted.sort();
        println!(
            "| {kind} | {} | {:.0} | {:.0} | {:.0} |",
            sorted.len(),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.95),
            percentile(&sorted, 0.99)
        );
    }
    println!("| answer | count |");
    println!("|---|---|");
    for (answer, count) in &tally.answers {
        println!("| {answer} | {count} |");
    }
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for status in statuses.values() {
        *by_status.entry(status).or_default() += 1;
    }
    println!("orders by status: {by_status:?}");
    let unsettled = placed.len() - statuses.values().filter(|status| FINAL.contains(&status.as_str())).count();
    println!("placed {}, settled {}, not settled {unsettled}", placed.len(), placed.len() - unsettled);
    if let Some(runner) = &runner {
        // What Lambda would bill, per order: invocations and their duration, function by function.
        let mut by_function: BTreeMap<String, (usize, Duration)> = BTreeMap::new();
        for invocation in runner.journal.invocations() {
            let entry = by_function.entry(invocation.function).or_default();
            entry.0 += 1;
            entry.1 += invocation.duration;
        }
        let orders = placed.len().max(1) as f64;
        let logged: usize = runner.journal.function_logs().iter().map(|(_, line)| line.len() + 1).sum();
        println!(
            "the functions logged {:.1} kB per order (CloudWatch Logs ingests it)",
            logged as f64 / orders / 1000.0
        );
        println!("| function | invocations | mean ms | invocations per order | ms per order |");
        println!("|---|---|---|---|---|");
        for (function, (invocations, total)) in &by_function {
            let total_ms = total.as_secs_f64() * 1000.0;
            println!(
                "| {function} | {invocations} | {:.1} | {:.2} | {:.1} |",
                total_ms / *invocations as f64,
                *invocations as f64 / orders,
                total_ms / orders
            );
        }
    }
    Ok(())
}
