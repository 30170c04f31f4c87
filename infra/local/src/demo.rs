//! The demo's story: orders placed, changed, shipped, delivered, returned and refunded through
//! the runner's HTTP API, then each order's timeline, messages and the functions' costs printed.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use http_body_util::{BodyExt, Full};
use hyper::{Request, body::Bytes};
use local::{
    Runner,
    partners::{LocalCarrier, LocalProvider, LocalWarehouse},
};
use serde_json::Value;

type DemoClient = hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn get_json(client: &DemoClient, url: &str, token: &str) -> anyhow::Result<Value> {
    let request = Request::get(url).header("Authorization", format!("Bearer {token}")).body(Full::new(Bytes::new()))?;
    let response = client.request(request).await?;
    Ok(serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?)
}

/// Sends a JSON change (`PATCH` or `POST`) to the API, with `If-Match: "{version}"` when given,
/// and notes what came back in the journal.
async fn change(
    runner: &Runner,
    client: &DemoClient,
    token: &str,
    (method, path): (&str, &str),
    version: Option<u64>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}{path}", runner.api_url()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {token}"));
    if let Some(version) = version {
        request = request.header("If-Match", format!("\"{version}\""));
    }
    let response = client.request(request.body(Full::new(Bytes::from(body.to_string())))?).await?;
    let status = response.status();
    let answer: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes()).unwrap_or_default();
    let outcome = answer["status"].as_str().or(answer["code"].as_str()).unwrap_or("");
    runner.journal.note(format!("demo: {method} {path} -> {status} {outcome}"));
    Ok(answer)
}

async fn settle(runner: &Runner) {
    if !runner.settle(Duration::from_secs(2), Duration::from_secs(60)).await {
        runner.journal.note("demo: the pipeline did not settle within a minute");
    }
}

/// The warehouse ships what it was asked to pick, and the carrier takes each parcel to the
/// door: one parcel is delayed by a failed attempt, one webhook is sent twice, and one late
/// "in transit" arrives after "delivered". The carrier's days pass in seconds: each scan is
/// dated when it is sent, so no carrier time is ever ahead of the pipeline's own clock (the
/// late scan carries the time the carrier picked the parcels up).
async fn deliver(runner: &Runner, client: &DemoClient, token: &str) -> anyhow::Result<()> {
    let warehouse = LocalWarehouse::of(runner)?;
    let carrier = LocalCarrier::of(runner);
    let shipped_at = Utc::now();
    let mut parcels = Vec::new();
    for _ in 0..3 {
        parcels.extend(warehouse.ship_waiting(shipped_at).await?);
    }
    runner.journal.note(format!("demo: the warehouse shipped {} parcels", parcels.len()));
    settle(runner).await;
    // When the carrier first scans the parcels: what the late scan says.
    let picked_up = Utc::now();
    for (index, parcel) in parcels.iter().enumerate() {
        let order = get_json(client, &format!("{}/orders/{}", runner.api_url(), parcel.order_id), token).await?;
        let promised: Option<NaiveDate> =
            order["shipping_quote"]["estimated_delivery"].as_str().and_then(|d| d.parse().ok());
        let number = &parcel.tracking_number;
        // (event id, status, estimate, when): each scan is dated as it is sent, but for the one
        // the carrier sends again (the same event, as carriers retry) and the late one.
        let mut scans = vec![(1, "in_transit", promised, Dated::Now), (2, "out_for_delivery", promised, Dated::Now)];
        if index == 0 {
            let later = promised.map(|date| date + chrono::Duration::days(1));
            scans.extend([(3, "failure", later, Dated::Now), (4, "out_for_delivery", later, Dated::Now)]);
        }
        scans.extend([
            (5, "delivered", None, Dated::Now),
            (5, "delivered", None, Dated::Again),
            (0, "in_transit", promised, Dated::PickedUp),
        ]);
        let mut sent: Option<Value> = None;
        for (id, status, estimate, dated) in scans {
            let at = match dated {
                Dated::PickedUp => picked_up,
                Dated::Now | Dated::Again => Utc::now(),
            };
            let event = match (dated, sent.take()) {
                (Dated::Again, Some(again)) => again,
                _ => LocalCarrier::event(&format!("evt_{number}_{id}"), number, status, at, estimate),
            };
            let event = &*sent.insert(event);
            let status = carrier.post(event).await?;
            runner.journal.note(format!(
                "demo: carrier {:<18} {:<16} -> {status}",
                number.as_str(),
                event["result"]["status"].as_str().unwrap_or("")
            ));
            // One event at a time, so the timeline reads in the order the carrier sent them.
            settle_briefly(runner).await;
        }
    }
    settle(runner).await;
    Ok(())
}

async fn settle_briefly(runner: &Runner) {
    runner.settle(Duration::from_millis(300), Duration::from_secs(20)).await;
}

/// An amount as the API gives it (`{"minor_units", "currency"}`), written in its currency's
/// units: `46.34 EUR`, `1500 JPY`.
fn money(amount: &Value) -> String {
    serde_json::from_value::<shared::domain::Money>(amount.clone())
        .map_or_else(|_| amount.to_string(), |money| money.to_string())
}

/// When a carrier scan is dated.
#[derive(Clone, Copy)]
enum Dated {
    Now,
    /// The previous event, sent again as it was.
    Again,
    /// When the carrier picked the parcels up: a scan that arrives late.
    PickedUp,
}

/// A timeline entry's reason in a few words.
fn reason_text(reason: &Value) -> String {
    match reason["kind"].as_str() {
        Some("out_of_stock") => {
            let short: Vec<String> = reason["shortages"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| format!("{} asked {} of {}", s["sku"].as_str().unwrap_or("?"), s["requested"], s["available"]))
                .collect();
            format!("out of stock: {}", short.join(", "))
        }
        Some("payment_declined") => format!("declined: {}", reason["decline"]["message"].as_str().unwrap_or("")),
        Some("review_approved" | "review_denied") => {
            format!(
                "{} by {}",
                reason["kind"].as_str().unwrap_or(""),
                reason["decision"]["operator"].as_str().unwrap_or("?")
            )
        }
        Some("cancelled") => {
            let by = &reason["requested_by"];
            let who = by["storefront"].as_str().or(by["operator"].as_str()).unwrap_or("?");
            format!("cancelled by {who}: {}", reason["note"].as_str().unwrap_or("no reason given"))
        }
        Some("goodwill_refund") => format!(
            "goodwill refund of {} by {}",
            money(&reason["amount"]),
            reason["decision"]["operator"].as_str().unwrap_or("?")
        ),
        Some("delivery_exception") => {
            format!("exception: {}", reason["description"].as_str().or(reason["carrier_status"].as_str()).unwrap_or(""))
        }
        Some(kind) => kind.to_owned(),
        None => String::new(),
    }
}

/// The first delivered order's notebook comes back (one of two arrives damaged, so one is put
/// back on sale) and is refunded; an operator refunds the second delivered order's customer
/// some goodwill for the wait, and apologises.
async fn after_delivery(
    runner: &Runner,
    client: &DemoClient,
    token: &str,
    operator: Option<&str>,
    placed: &[String],
) -> anyhow::Result<()> {
    let mut delivered = Vec::new();
    for id in placed {
        let order = get_json(client, &format!("{}/orders/{id}", runner.api_url()), token).await?;
        if order["status"] == "DELIVERED" {
            delivered.push(order);
        }
    }
    let warehouse = LocalWarehouse::of(runner)?;
    if let Some(order) = delivered.first() {
        let id = order["id"].as_str().unwrap_or_default();
        let line = order["lines"].as_array().and_then(|lines| lines.last()).cloned().unwrap_or_default();
        let body = serde_json::json!({"lines": [{"sku": line["sku"], "quantity": line["quantity"]}], "reason": "not as pictured"});
        let requested = change(runner, client, token, ("POST", &format!("/orders/{id}/returns")), None, body).await?;
        if let (Some(Ok(rma)), Ok(order_id), Ok(returned)) = (
            requested["return_request"]["rma"].as_str().map(shared::domain::Rma::parse),
            shared::domain::OrderId::parse(id),
            serde_json::from_value::<shared::domain::ShippedLine>(
                serde_json::json!({"sku": line["sku"], "quantity": line["quantity"]}),
            ),
        ) {
            settle(runner).await;
            warehouse.receive_return(&order_id, &rma, &[(returned, 1)], Utc::now()).await?;
            runner.journal.note(format!("demo: the warehouse receives return {rma} of {id}"));
        }
    }
    if let (Some(operator), Some(order)) = (operator, delivered.get(1)) {
        let id = order["id"].as_str().unwrap_or_default();
        let body = serde_json::json!({"amount": 500, "note": "sorry for the late parcel"});
        let refunded = change(
            runner,
            client,
            operator,
            ("POST", &format!("/orders/{id}/refunds")),
            order["version"].as_u64(),
            body,
        )
        .await?;
        // And tells the customer, in her language, what went wrong and what was done about it.
        let what_went_wrong = if order["locale"] == "de-DE" {
            "Ein Paket kam nach einem gescheiterten Zustellversuch einen Tag später als zugesagt."
        } else {
            "One parcel arrived a day later than we promised, after a failed delivery attempt."
        };
        let body = serde_json::json!({"remedy": "refund", "what_went_wrong": what_went_wrong});
        change(
            runner,
            client,
            operator,
            ("POST", &format!("/orders/{id}/apology")),
            refunded["version"].as_u64(),
            body,
        )
        .await?;
    }
    settle(runner).await;
    Ok(())
}

/// Each order whose card holder disputed the charge: the operator prints the evidence with
/// `orderctl dispute` and submits it to the provider, whose answer comes back by webhook.
async fn answer_disputes(runner: &Runner, placed: &[String]) -> anyhow::Result<()> {
    let orderctl = orderctl::Orderctl::new(&runner.sdk, serde_json::from_value(runner.resources())?)?;
    for id in placed {
        let evidence = orderctl.dispute(id).await?;
        if !evidence.disputes.iter().any(|dispute| dispute.status.needs_response()) {
            continue;
        }
        println!("\n$ orderctl dispute {id}\n{}", evidence.text());
        let answered = orderctl.answer_dispute(id, "sk_test_orderflow_local").await?;
        runner.journal.note(format!(
            "demo: operator submits the evidence: orderctl dispute {id} --submit -> {} {}",
            answered["id"].as_str().unwrap_or("?"),
            answered["status"].as_str().unwrap_or("?")
        ));
    }
    settle(runner).await;
    Ok(())
}

/// A request the demo makes, and what it shows.
struct Step {
    label: &'static str,
    body: Value,
    idempotency_key: String,
    token: Option<String>,
}

pub(crate) async fn demo(runner: &Runner, token: &str, operator: Option<&str>) -> anyhow::Result<()> {
    let first: Value = serde_json::from_str(include_str!("../demo-order.json"))?;
    let placed_body = first.clone();
    let mut express = first.clone();
    express["lines"] =
        serde_json::json!([{ "sku": "TEE-ORGANIC-M", "quantity": 3 }, { "sku": "BOTTLE-STEEL", "quantity": 1 }]);
    express["shipping_option"] = Value::from("express");
    express["shipping_address"] = serde_json::json!({
        "name": "Grace Hopper", "line1": "Keizersgracht 1", "city": "Amsterdam", "postal_code": "1015 CJ", "country": "NL"
    });
    // A German-speaking customer in Amsterdam: every message to her is in German.
    express["customer"] = serde_json::json!({ "name": "Lena Schneider", "email": "lena@example.com",
        "phone": "+4915112345678", "sms_opt_in": true });
    express["locale"] = Value::from("de-DE");
    let mut unknown = first.clone();
    unknown["lines"] = serde_json::json!([{ "sku": "NO-SUCH-SKU", "quantity": 1 }]);
    let mut sold_out = first.clone();
    sold_out["lines"] =
        serde_json::json!([{ "sku": "MUG-CLASSIC", "quantity": 1 }, { "sku": "BOTTLE-STEEL", "quantity": 9 }]);
    let mut declined = first.clone();
    declined["payment_method"] = Value::from("pm_card_visa_chargeDeclined");
    // A throwaway address and billing abroad: fraud screening holds it for an operator.
    let mut suspicious = first.clone();
    suspicious["customer"]["email"] = Value::from("someone@mailinator.com");
    suspicious["billing_address"] =
        serde_json::json!({ "name": "G. Hopper", "line1": "1 Marina Rd", "city": "Lagos", "country": "NG" });
    // Another like it, left held for whoever runs the demo to decide in the desk.
    let left_for_the_reader = suspicious.clone();
    // A card its holder disputes with their bank once it is charged (Stripe's test card).
    let mut disputed = placed_body.clone();
    if let Some(endpoint) = runner.stripe_endpoint() {
        let provider = LocalProvider { endpoint: endpoint.to_owned() };
        disputed["payment_method"] = Value::from(provider.card("4000000000000259").await?);
    }
    let run = std::process::id();
    let with_token = Some(token.to_owned());
    let steps = [
        ("no token", first.clone(), 0, None),
        ("an order", first.clone(), 1, with_token.clone()),
        ("the same, retried", first, 1, with_token.clone()),
        ("express, in German", express, 2, with_token.clone()),
        ("unknown SKU", unknown, 3, with_token.clone()),
        ("out of stock", sold_out, 4, with_token.clone()),
        ("card declined", declined, 5, with_token.clone()),
        ("held for review", suspicious, 6, with_token.clone()),
        ("disputed later", disputed, 7, with_token),
    ]
    .map(|(label, body, key, token)| Step { label, body, idempotency_key: format!("demo-{run}-{key}"), token });
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut placed = Vec::new();
    for step in steps {
        let mut request = Request::post(format!("{}/orders", runner.api_url()))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &step.idempotency_key);
        if let Some(token) = &step.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = client.request(request.body(Full::new(Bytes::from(step.body.to_string())))?).await?;
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let body: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes()).unwrap_or_default();
        let detail = match body["id"].as_str() {
            Some(id) => {
                if !placed.iter().any(|known| known == id) {
                    placed.push(id.to_owned());
                }
                format!("{id}{}", if replayed { " (replayed)" } else { "" })
            }
            None => format!(
                "{} {}",
                body["code"].as_str().or(body["message"].as_str()).unwrap_or(""),
                body["field"].as_str().unwrap_or("")
            ),
        };
        runner.journal.note(format!("demo: {:<18} POST /orders -> {status} {detail}", step.label));
    }
    // A customer changes their mind at once: cancelled before the warehouse gets it.
    let regret = change(runner, &client, token, ("POST", "/orders"), None, placed_body).await?;
    if let Some(id) = regret["id"].as_str() {
        placed.push(id.to_owned());
        let cancel = format!("/orders/{id}/cancel");
        change(runner, &client, token, ("POST", &cancel), None, serde_json::json!({"reason": "ordered twice"})).await?;
    }
    settle(runner).await;
    if let Some(operator) = operator {
        for id in &placed {
            let order = get_json(&client, &format!("{}/orders/{id}", runner.api_url()), token).await?;
            if order["status"] != "ON_HOLD" {
                continue;
            }
            // While it waits for review, the customer adds a notebook.
            let body = serde_json::json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "NOTEBOOK-A5", "quantity": 2}]});
            change(runner, &client, token, ("PATCH", &format!("/orders/{id}")), order["version"].as_u64(), body)
                .await?;
            let request = Request::post(format!("{}/orders/{id}/review", runner.api_url()))
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Bearer {operator}"))
                .body(Full::new(Bytes::from(r#"{"decision": "approve", "note": "checked by phone"}"#)))?;
            let response = client.request(request).await?;
            runner.journal.note(format!("demo: operator approves  POST /orders/{id}/review -> {}", response.status()));
        }
        settle(runner).await;
    }

    deliver(runner, &client, token).await?;
    after_delivery(runner, &client, token, operator, &placed).await?;
    answer_disputes(runner, &placed).await?;
    let waiting = change(runner, &client, token, ("POST", "/orders"), None, left_for_the_reader).await?;
    let waiting = waiting["id"].as_str().map(str::to_owned);
    placed.extend(waiting.clone());
    settle(runner).await;

    println!();
    let dump =
        get_json(&client, &format!("{}{}", runner.moto_endpoint(), local::observe::outbox::OUTBOX_PATH), token).await?;
    let told = local::observe::outbox::summaries(&dump);
    println!("Timelines, and what each customer was told");
    for id in &placed {
        let order = get_json(&client, &format!("{}/orders/{id}", runner.api_url()), token).await?;
        println!("  {id}  {}  total {}", order["status"].as_str().unwrap_or("?"), money(&order["totals"]["total"]));
        for entry in order["timeline"].as_array().into_iter().flatten() {
            let tracking = &entry["tracking"];
            let detail = if tracking.is_object() {
                format!(
                    "{} {} {}",
                    tracking["tracking_number"].as_str().unwrap_or(""),
                    tracking["carrier_status"].as_str().unwrap_or(""),
                    tracking["location"].as_str().unwrap_or("")
                )
            } else {
                reason_text(&entry["reason"])
            };
            println!(
                "      {}  v{}  {:<28} {:<20} {}",
                entry["at"].as_str().unwrap_or(""),
                entry["version"],
                entry["type"].as_str().unwrap_or(""),
                entry["status"].as_str().unwrap_or(""),
                detail
            );
        }
        for parcel in order["shipments"].as_array().into_iter().flatten() {
            println!(
                "      parcel {} {} {}  {}  expected {}{}",
                parcel["id"].as_str().unwrap_or(""),
                parcel["carrier"].as_str().unwrap_or(""),
                parcel["tracking_number"].as_str().unwrap_or(""),
                parcel["status"].as_str().unwrap_or(""),
                parcel["estimated_delivery"].as_str().unwrap_or(""),
                if parcel["delay"].is_object() { " (delayed)" } else { "" }
            );
        }
        if ![Value::from("REJECTED"), Value::from("PAYMENT_FAILED"), Value::from("CANCELLED")]
            .contains(&order["status"])
        {
            println!("      estimated delivery {}", order["estimated_delivery"].as_str().unwrap_or("?"));
        }
        for (channel, to, summary) in told.iter().filter(|(_, _, summary)| summary.contains(id.as_str())) {
            println!("      {channel:<5} {to:<28} {summary}");
        }
    }
    if let Some(id) = waiting {
        println!();
        println!("One order waits for an operator: approve or deny it in the desk (with --serve the runner stays up)");
        println!("  {}/desk/orders/{id}", runner.api_url());
    }
    println!();
    println!("Functions (start-up is spawn to first poll for work; memory is peak RSS)");
    for (logical, (name, stats)) in runner.function_stats() {
        let ready: Vec<String> =
            stats.ready_after.iter().map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0)).collect();
        println!(
            "  {name:<16} {logical:<24} processes {}  start-up {}  peak RSS {}",
            stats.processes_started,
            ready.join(", "),
            stats.peak_rss_kib.map_or("?".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
        );
    }
    Ok(())
}
