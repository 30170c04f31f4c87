//! `coldstart --functions DIR [--before DIR] [--probe BIN] [--rounds N] [--runs N] [--warm N]`:
//! every function's cold start, first and warm invocations, peak RSS and zip size, measured by
//! `../shared/bench/coldstart.py` side by side with the naive Rust probe, in interleaved rounds.
//!
//! Each function runs its real work against a real local cloud: the bench starts moto and
//! localstripe, runs one order to the door and one cancelled by an operator through the runner
//! (release builds from `--functions`), keeping each function's environment and the first event
//! it received, stops the runner but not the cloud, then replays that event to fresh processes:
//! the first invocation does what a cold process does with a message it already saw (a read or a
//! conditional write that finds the work done), the warm ones repeat it. Functions the story
//! does not reach (the scheduled ones) get a scheduled event. `--before` measures a second build
//! of the same functions in the same rounds. `scripts/bench/coldstart` builds and runs it.

// This binary's job is to report what it measured.
#![allow(clippy::print_stdout)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use chrono::Utc;
use local::{
    LocalStripe, MotoServer, Runner, RunnerOptions,
    apigw::client::ApiClient,
    partners::{LocalCarrier, LocalWarehouse},
};
use serde_json::{Value, json};

const HARNESS: &str = "../shared/bench/coldstart.py";
const PROBE_EVENT: &str = "../shared/bench/peers/python-powertools/sqs10.json";
/// The variables the harness sets itself, the same for every process it measures.
const HARNESS_SETS: [&str; 6] = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "LAMBDA_TASK_ROOT",
];

#[derive(Debug)]
struct Settings {
    functions: PathBuf,
    before: Option<PathBuf>,
    probe: Option<PathBuf>,
    rounds: usize,
    runs: usize,
    warm: usize,
}

fn settings() -> anyhow::Result<Settings> {
    let mut settings = Settings {
        functions: PathBuf::from("target/release"),
        before: None,
        probe: None,
        rounds: 3,
        runs: 7,
        warm: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} takes a value"));
        match arg.as_str() {
            "--functions" => settings.functions = PathBuf::from(value()?),
            "--before" => settings.before = Some(PathBuf::from(value()?)),
            "--probe" => settings.probe = Some(PathBuf::from(value()?)),
            "--rounds" => settings.rounds = value()?.parse()?,
            "--runs" => settings.runs = value()?.parse()?,
            "--warm" => settings.warm = value()?.parse()?,
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(settings)
}

/// One `coldstart.py` run's medians.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    init_ms: f64,
    first_ms: f64,
    warm_ms: f64,
    rss_kb: f64,
    errors: f64,
}

fn measure(
    python: &Path,
    binary: &Path,
    event: &Path,
    environment: &BTreeMap<String, String>,
    settings: &Settings,
) -> anyhow::Result<Sample> {
    let mut command = Command::new(python);
    command.arg(HARNESS).arg("--event").arg(event);
    command.args(["--runs", &settings.runs.to_string(), "--warm", &settings.warm.to_string()]);
    for (name, value) in environment.iter().filter(|(name, _)| !HARNESS_SETS.contains(&name.as_str())) {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    let output = command.arg("--").arg(binary).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        text.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')?.parse::<f64>().ok())
            .with_context(|| format!("{} gave no {name}: {text}", binary.display()))
    };
    Ok(Sample {
        init_ms: field("init_ms")?,
        first_ms: field("first_invoke_ms")?,
        warm_ms: field("warm_ms")?,
        rss_kb: field("peak_rss_kb")?,
        errors: field("errors")?,
    })
}

/// The size of `binary` zipped as `sam deploy` uploads it (a `bootstrap` at the root), in MB.
fn zipped_mb(binary: &Path) -> anyhow::Result<f64> {
    let folder = std::env::temp_dir().join(format!("orderflow-zip-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    std::fs::copy(binary, folder.join("bootstrap"))?;
    let zip = folder.join("bootstrap.zip");
    let _ = std::fs::remove_file(&zip);
    let status = Command::new("zip").arg("-q9").arg(&zip).arg("bootstrap").current_dir(&folder).status()?;
    anyhow::ensure!(status.success(), "zip failed");
    Ok(std::fs::metadata(&zip)?.len() as f64 / 1_000_000.0)
}

/// One order to the door and one cancelled by an operator, so that every function on the
/// order's path receives its event.
async fn story(runner: &Runner) -> anyhow::Result<()> {
    let storefront = runner.token("StorefrontJwt", "coldstart-shop", Duration::from_secs(3600))?;
    let operator =
        runner.operator_token("coldstart-operator", &["supervisor"], "coldstart-shop", Duration::from_secs(3600))?;
    let api = &ApiClient::new(&runner.api_url())?;
    let storefront = storefront.as_str();
    let place = |body: Value| async move {
        let key = format!("coldstart-{}", fastrand::u64(..));
        let (_, placed) = api.call(("POST", "/orders"), storefront, &[("Idempotency-Key", &key)], Some(&body)).await;
        placed["id"].as_str().map(ToOwned::to_owned).context("an order was not placed")
    };
    let order: Value = serde_json::from_str(&std::fs::read_to_string("infra/local/demo-order.json")?)?;
    let delivered = place(order.clone()).await?;
    let mut cancelled = order;
    cancelled["customer"]["email"] = json!("grace@example.com");
    let cancelled = place(cancelled).await?;
    let cancel = format!("/orders/{cancelled}/operator-cancel");
    api.call(("POST", &cancel), &operator, &[], Some(&json!({"reason": "fraud suspected"}))).await;
    let warehouse = LocalWarehouse::of(runner)?;
    let carrier = LocalCarrier::of(runner);
    let deadline = Instant::now() + Duration::from_secs(120);
    let parcels = loop {
        let parcels = warehouse.ship_waiting(Utc::now()).await?;
        if !parcels.is_empty() || Instant::now() > deadline {
            break parcels;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for parcel in &parcels {
        for status in ["in_transit", "delivered"] {
            let tracking = &parcel.tracking_number;
            let event =
                LocalCarrier::event(&format!("evt_cold_{status}_{tracking}"), tracking, status, Utc::now(), None);
            carrier.post(&event).await?;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while api.call(("GET", &format!("/orders/{delivered}")), storefront, &[], None).await.1["status"] != "DELIVERED" {
        anyhow::ensure!(Instant::now() < deadline, "order {delivered} was not delivered in time");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The notifier's last messages.
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(())
}

/// What EventBridge sends a function on its schedule.
fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": Utc::now().to_rfc3339(), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/coldstart"], "detail": {}
    })
}

fn ratio(ours: f64, probe: f64) -> String {
    format!("{:.2}", ours / probe)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings()?;
    let python = local::cloud::python()?;
    let probe = settings
        .probe
        .clone()
        .unwrap_or_else(|| PathBuf::from("../shared/bench/peers/rust-probe/target/release/bootstrap"));
    anyhow::ensure!(
        probe.is_file(),
        "build the probe first: cargo build --release in its folder ({})",
        probe.display()
    );
    let moto = MotoServer::start(0)?;
    let stripe = LocalStripe::start(0)?;
    let capture = std::env::temp_dir().join(format!("orderflow-coldstart-{}", std::process::id()));
    let mut options = RunnerOptions::new(format!("cold-{}", std::process::id()));
    options.moto_endpoint = Some(moto.endpoint().to_owned());
    options.stripe_endpoint = Some(stripe.endpoint().to_owned());
    options.binaries.clone_from(&settings.functions);
    options.capture = Some(capture.clone());
    println!("running one order to the door through the local cloud…");
    let runner = Runner::start(options).await?;
    story(&runner).await?;
    drop(runner);

    let mut functions = Vec::new();
    for entry in std::fs::read_dir(&capture)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()?.strip_suffix(".env.json")) else { continue };
        let environment: BTreeMap<String, String> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let event = capture.join(format!("{name}.event.json"));
        if !event.is_file() {
            std::fs::write(&event, scheduled_event().to_string())?;
        }
        functions.push((name.to_owned(), environment, event));
    }
    functions.sort();

    let builds: Vec<(&str, &Path)> = [("after", settings.functions.as_path())]
        .into_iter()
        .chain(settings.before.as_deref().map(|before| ("before", before)))
        .collect();
    let mut samples: BTreeMap<(String, &str), Vec<Sample>> = BTreeMap::new();
    let no_environment = BTreeMap::from([
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "probe".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "probe".to_owned()),
    ]);
    for round in 1..=settings.rounds {
        for (name, environment, event) in &functions {
            print!("\rround {round}/{}: {name:<16}", settings.rounds);
            let probe_sample = measure(&python, &probe, Path::new(PROBE_EVENT), &no_environment, &settings)?;
            samples.entry((name.clone(), "probe")).or_default().push(probe_sample);
            for (build, folder) in &builds {
                let sample = measure(&python, &folder.join(name), event, environment, &settings)?;
                samples.entry((name.clone(), build)).or_default().push(sample);
            }
        }
    }
    println!();
    drop((moto, stripe));

    let median = |values: Vec<f64>| {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let of = |name: &str, build: &str, pick: fn(&Sample) -> f64| {
        median(samples[&(name.to_owned(), build)].iter().map(pick).collect())
    };
    println!(
        "medians of {} rounds × {} cold starts × {} warm invocations; ratios against the probe measured beside each",
        settings.rounds, settings.runs, settings.warm
    );
    let before_columns =
        if settings.before.is_some() { " before init ms | before first ms | before RSS kB |" } else { "" };
    println!(
        "| function | probe init ms | init ms | init × probe | first ms | warm ms | probe RSS kB | RSS kB | RSS × probe | zip MB (x86_64) |{before_columns} errors |"
    );
    println!(
        "|---|---|---|---|---|---|---|---|---|---|{}---|",
        if settings.before.is_some() { "---|---|---|" } else { "" }
    );
    for (name, _, _) in &functions {
        let probe_init = of(name, "probe", |sample| sample.init_ms);
        let probe_rss = of(name, "probe", |sample| sample.rss_kb);
        let init = of(name, "after", |sample| sample.init_ms);
        let rss = of(name, "after", |sample| sample.rss_kb);
        let before = match settings.before {
            Some(_) => format!(
                " {:.1} | {:.2} | {:.0} |",
                of(name, "before", |sample| sample.init_ms),
                of(name, "before", |sample| sample.first_ms),
                of(name, "before", |sample| sample.rss_kb)
            ),
            None => String::new(),
        };
        println!(
            "| {name} | {probe_init:.1} | {init:.1} | {} | {:.2} | {:.3} | {probe_rss:.0} | {rss:.0} | {} | {:.2} |{before} {:.0} |",
            ratio(init, probe_init),
            of(name, "after", |sample| sample.first_ms),
            of(name, "after", |sample| sample.warm_ms),
            ratio(rss, probe_rss),
            zipped_mb(&settings.functions.join(name))?,
            of(name, "after", |sample| sample.errors),
        );
    }
    Ok(())
}
