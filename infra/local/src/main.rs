//! `orderflow-local`: the whole pipeline on one laptop, no AWS account and no Docker.
//!
//! Starts moto server and localstripe, provisions them from `infra/template.yaml`, runs every
//! function's compiled binary behind a local Lambda Runtime API, serves the HTTP API with its
//! JWT authorizer on 127.0.0.1:3000 and plays the stream and queue triggers as Lambda does.
//! `--demo` places sample orders, waits for the pipeline to settle and prints each order's
//! timeline; `--serve` keeps serving until Ctrl-C.

// This binary's job is to talk to the developer on stdout.
#![allow(clippy::print_stdout)]

mod demo;

use std::{path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
use local::{Runner, RunnerOptions, apigw::login::LocalOperator, lambda::sources::Chaos, observe::journal::Echo};

const USAGE: &str = "\
usage: orderflow-local [--demo] [--serve] [options]

  --demo                  place the sample orders, wait for the pipeline to settle, print each
                          order's timeline and the functions' start-up figures
  --serve                 keep serving until Ctrl-C (the default without --demo)
  --port N                the HTTP API's port (default 3000; 0 picks a free one)
  --storefront ID         the storefront the printed token speaks for (default demo-storefront)
  --parameter NAME=VALUE  override a template parameter (repeatable)
  --moto-endpoint URL     use this moto server instead of starting one
  --stripe-endpoint URL   use this Stripe-compatible server instead of starting localstripe
  --bin-dir DIR           where the functions' binaries are (default: next to this one)
  --state-dir DIR         where the tokens, the outbox and the functions' log go (default .orderflow)
  --chaos N               deliver every queue message and stream batch N times, shuffled
  --chaos-seed S          the shuffles' seed (default: random, printed)
  --faults RATE           fail this fraction (0 to 1) of the functions' calls to AWS and the
                          payment provider as those fail: throttled, 500, a transaction
                          conflict, a timeout, or applied with the answer lost
  --crash RATE            kill this fraction of invocations' processes part-way
  --fault-seed S          the faults' and crashes' seed (default: random, printed)
  --verbose               print every invocation and every line every function writes (by
                          default: one line per step in words; the functions' lines go to
                          STATE_DIR/functions.log)
  --no-iam                run every function as the administrator instead of its own role
                          (debugging only: what AWS would refuse then passes)";

struct Options {
    runner: RunnerOptions,
    storefront: String,
    state_dir: PathBuf,
    demo: bool,
    serve: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut runner = RunnerOptions::new(format!("orderflow-{}", std::process::id()));
    runner.api_port = 3000;
    runner.tap_unconsumed_queues = true;
    runner.echo = Echo::Story;
    let mut options = Options {
        runner,
        storefront: "demo-storefront".to_owned(),
        state_dir: PathBuf::from(".orderflow"),
        demo: false,
        serve: false,
    };
    let mut chaos = Chaos { copies: 1, seed: fastrand::u64(..) };
    let mut fault_seed = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{arg} takes {what}"));
        match arg.as_str() {
            "--demo" => options.demo = true,
            "--serve" => options.serve = true,
            "--verbose" => options.runner.echo = Echo::Verbose,
            "--no-iam" => options.runner.iam = local::stack::iam::Enforcement::Off,
            "--port" => options.runner.api_port = value("a port number")?.parse()?,
            "--storefront" => options.storefront = value("an id")?,
            "--parameter" => {
                let pair = value("NAME=VALUE")?;
                let (name, parameter) = pair.split_once('=').context("--parameter takes NAME=VALUE")?;
                options.runner.parameters.insert(name.to_owned(), parameter.to_owned());
            }
            "--moto-endpoint" => options.runner.moto_endpoint = Some(value("a URL")?),
            "--stripe-endpoint" => options.runner.stripe_endpoint = Some(value("a URL")?),
            "--bin-dir" => options.runner.binaries = PathBuf::from(value("a folder")?),
            "--state-dir" => options.state_dir = PathBuf::from(value("a folder")?),
            "--chaos" => chaos.copies = value("a number")?.parse()?,
            "--chaos-seed" => chaos.seed = value("a number")?.parse()?,
            "--faults" => options.runner.faults.rate = fraction(&value("a fraction")?)?,
            "--crash" => options.runner.faults.crash = fraction(&value("a fraction")?)?,
            "--fault-seed" => fault_seed = Some(value("a number")?.parse()?),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    options.runner.chaos = chaos;
    options.runner.faults.seed = fault_seed.unwrap_or_else(|| fastrand::u64(..));
    options.runner.outbox = Some(options.state_dir.join("outbox"));
    options.runner.function_log = Some(options.state_dir.join("functions.log"));
    options.serve |= !options.demo;
    Ok(options)
}

fn fraction(text: &str) -> anyhow::Result<f64> {
    let rate: f64 = text.parse()?;
    anyhow::ensure!((0.0..=1.0).contains(&rate), "a rate is a fraction from 0 to 1, not {text}");
    Ok(rate)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let runner = Runner::start(options.runner.clone()).await?;
    let authorizer = runner
        .default_authorizer()
        .or_else(|| runner.authorizers().keys().next().map(String::as_str))
        .context("the template has no JWT authorizer")?
        .to_owned();
    let token = runner.token(&authorizer, &options.storefront, Duration::from_secs(12 * 3600))?;
    std::fs::create_dir_all(&options.state_dir)?;
    std::fs::write(options.state_dir.join("resources.json"), serde_json::to_string_pretty(&runner.resources())?)?;
    let token_file = options.state_dir.join("storefront.jwt");
    std::fs::write(&token_file, &token)?;
    // The operators' desk: an agent and a supervisor of the demo storefront, each with a token
    // for orderctl and curl and a password for the hosted login, new every run.
    let mut operator_tokens = Vec::new();
    let mut operator_logins = Vec::new();
    for role in ["agent", "supervisor"] {
        let subject = format!("demo-{role}");
        let operator_token =
            runner.operator_token(&subject, &[role], &options.storefront, Duration::from_secs(12 * 3600))?;
        let file = options.state_dir.join(format!("{role}.jwt"));
        std::fs::write(&file, &operator_token)?;
        operator_tokens.push((subject.clone(), file, operator_token));
        let password = format!("{:016x}", fastrand::u64(..));
        runner.add_operator_login(LocalOperator {
            username: role.to_owned(),
            password: password.clone(),
            subject,
            groups: vec![role.to_owned()],
            storefronts: options.storefront.clone(),
        })?;
        operator_logins.push((role, password));
    }

    println!();
    println!("ready in {} ms", runner.ready_after.as_millis());
    println!("  HTTP API     {}   (JWKS at /.well-known/jwks.json)", runner.api_url());
    println!("  moto         {}", runner.moto_endpoint());
    println!("  localstripe  {}", runner.stripe_endpoint().unwrap_or("(none)"));
    println!("  outbox       {}", options.state_dir.join("outbox").display());
    println!(
        "  logs         {} (the functions' own lines; --verbose prints them)",
        options.state_dir.join("functions.log").display()
    );
    if options.runner.chaos.is_on() {
        println!("  chaos        every delivery x{} (seed {})", options.runner.chaos.copies, options.runner.chaos.seed);
    }
    println!("  token        {} (storefront {:?}, {authorizer}, 12 h)", token_file.display(), options.storefront);
    for (subject, file, _) in &operator_tokens {
        println!(
            "  token        {} (operator {subject:?} of storefront {:?}, 12 h)",
            file.display(),
            options.storefront
        );
    }
    println!("  desk         {}/desk/ (the operators' desk in a browser)", runner.api_url());
    for (username, password) in &operator_logins {
        println!("  login        {username} / {password} (the desk's sign-in; the runner plays the hosted login)");
    }
    println!();
    println!("Place an order:");
    println!(
        "  curl -s -X POST {}/orders -H \"Authorization: Bearer $(cat {})\" \\",
        runner.api_url(),
        token_file.display()
    );
    println!("       -H 'Content-Type: application/json' -H 'Idempotency-Key: my-first-order' \\");
    println!("       -d @infra/local/demo-order.json");
    println!();

    if options.demo {
        demo::demo(&runner, &token, operator_tokens.first().map(|(_, _, token)| token.as_str())).await?;
    }
    if options.serve {
        println!("Serving; press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await?;
        println!("stopping");
    }
    Ok(())
}
