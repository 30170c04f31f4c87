//! `orderctl`: the operators' command line. See `orderctl --help`.

use std::{fmt::Write as _, io::Write as _, path::PathBuf};

use anyhow::{Context as _, bail};
use orderctl::{Orderctl, Resources};

const USAGE: &str = "\
usage: orderctl [--resources FILE] COMMAND

  order ID                       the order and its timeline, every reason included (JSON)
  dlq list QUEUE [--limit N]     a dead-letter queue's messages with why they failed (JSON lines)
  dlq redrive QUEUE              move a dead-letter queue's messages back to their queue
  review ID approve|deny [--note TEXT] --token FILE
                                 decide a held order through the operators' route
  replay ID                      publish the order's current event again
  apologise ID --remedy R --what TEXT --token FILE
                                 tell the customer what went wrong and what was done (R: refund,
                                 amendment, expedited_shipment, other), once, by e-mail in their
                                 language: write TEXT in it (the order's `locale`, `order ID`)
  dispute ID [--json]            the evidence a dispute about the order needs: the order, the
                                 charge, the parcels and their scans, the messages sent, refunds
  dispute ID --submit --key FILE submit that evidence to the payment provider for the order's
                                 dispute awaiting a response (FILE holds the provider's key)

QUEUE is a logical id of the template (FulfillmentDeadLetterQueue, ...). FILE maps logical ids to
physical ids: the local runner writes .orderflow/resources.json (the default); for a deployed
stack, see the README's runbook. AWS credentials and region come from the usual places.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|arg| arg == "--help" || arg == "-h") {
        return answer(USAGE);
    }
    let resources_path =
        take_option(&mut args, "--resources").map_or_else(|| PathBuf::from(".orderflow/resources.json"), PathBuf::from);
    let resources = Resources::load(&resources_path)?;
    let mut loader = shared::config::aws_loader()?;
    if let Some(endpoint) = &resources.endpoint {
        // The local cloud takes any credentials; AWS's come from the usual places.
        let region = resources.region.clone().unwrap_or_else(|| "us-east-1".to_owned());
        loader = loader
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new("local", "local", None, None, "orderctl"));
    }
    let orderctl = Orderctl::new(&loader.load().await, resources)?;
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut out = String::new();
    match words.as_slice() {
        ["order", id] => out = serde_json::to_string_pretty(&orderctl.order(id).await?)?,
        ["dlq", "list", queue, rest @ ..] => {
            let mut rest: Vec<String> = rest.iter().map(|word| (*word).to_owned()).collect();
            let limit = take_option(&mut rest, "--limit").map(|limit| limit.parse()).transpose()?.unwrap_or(100);
            for letter in orderctl.dead_letters(queue, limit).await? {
                writeln!(out, "{}", serde_json::to_string(&letter)?)?;
            }
        }
        ["dlq", "redrive", queue] => match orderctl.redrive(queue).await? {
            Some(moved) => out = format!("moved {moved} messages back from {queue}"),
            None => out = format!("SQS is moving {queue}'s messages back"),
        },
        ["review", id, decision, rest @ ..] if ["approve", "deny"].contains(decision) => {
            let mut rest: Vec<String> = rest.iter().map(|word| (*word).to_owned()).collect();
            let note = take_option(&mut rest, "--note");
            let token_file = take_option(&mut rest, "--token").context("review needs --token FILE")?;
            let token = std::fs::read_to_string(&token_file).with_context(|| format!("reading {token_file}"))?;
            let order = orderctl.review(id, decision, note.as_deref(), &token).await?;
            out = format!("{} {}", order["id"].as_str().unwrap_or(id), order["status"].as_str().unwrap_or("?"));
        }
        ["replay", id] => out = format!("published {}", orderctl.replay(id).await?),
        ["apologise", id, rest @ ..] => {
            let mut rest: Vec<String> = rest.iter().map(|word| (*word).to_owned()).collect();
            let remedy = take_option(&mut rest, "--remedy").context("apologise needs --remedy R")?;
            let what = take_option(&mut rest, "--what").context("apologise needs --what TEXT")?;
            let token_file = take_option(&mut rest, "--token").context("apologise needs --token FILE")?;
            let token = std::fs::read_to_string(&token_file).with_context(|| format!("reading {token_file}"))?;
            let order = orderctl.apologise(id, &remedy, &what, &token).await?;
            out = format!(
                "{} apology recorded at version {}; it goes out in {}",
                order["id"].as_str().unwrap_or(id),
                order["version"],
                order["locale"].as_str().unwrap_or("the storefront's language")
            );
        }
        ["dispute", id] => out = orderctl.dispute(id).await?.text(),
        ["dispute", id, "--json"] => out = serde_json::to_string_pretty(&orderctl.dispute(id).await?)?,
        ["dispute", id, rest @ ..] if rest.contains(&"--submit") => {
            let mut rest: Vec<String> = rest.iter().map(|word| (*word).to_owned()).collect();
            let key_file = take_option(&mut rest, "--key").context("dispute --submit needs --key FILE")?;
            let key = std::fs::read_to_string(&key_file).with_context(|| format!("reading {key_file}"))?;
            let dispute = orderctl.answer_dispute(id, &key).await?;
            out = format!("{} {}", dispute["id"].as_str().unwrap_or("?"), dispute["status"].as_str().unwrap_or("?"));
        }
        _ => bail!("{USAGE}"),
    }
    answer(&out)
}

/// Writes the answer; a reader that stopped early (`| head`) is not an error.
fn answer(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", text.trim_end()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// Removes `--name VALUE` from the arguments and gives the value.
fn take_option(args: &mut Vec<String>, name: &str) -> Option<String> {
    let at = args.iter().position(|arg| arg == name)?;
    let value = args.get(at + 1).cloned();
    args.drain(at..(at + 2).min(args.len()));
    value
}
