//! `orderctl`: the operators' command line. See `orderctl --help` and `orderctl COMMAND --help`.

use std::{io::Write as _, path::PathBuf};

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};
use orderctl::{Orderctl, Resources, text};
use serde_json::Value;

/// The operators' command line: the desk's queue, search, calls and decisions through the
/// operators' API (as the operator the token names, within their storefronts and role), and the
/// on-call's tools (dead-letter queues, replays, dispute evidence) with AWS credentials.
#[derive(Debug, Parser)]
#[command(name = "orderctl", version, after_help = AFTER_HELP)]
struct Cli {
    /// Logical id → physical id of the stack's resources; the local runner writes the default.
    #[arg(long, global = true, value_name = "FILE", default_value = ".orderflow/resources.json")]
    resources: PathBuf,
    /// How answers are written: for people, or as the API's JSON.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// The operator's access token (a file holding it): what the identity provider's login
    /// gave, or `.orderflow/agent.jwt` from the local runner. Also ORDERCTL_TOKEN_FILE.
    #[arg(long, global = true, value_name = "FILE", env = "ORDERCTL_TOKEN_FILE")]
    token: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
The desk's commands (order, orders, queue, claim, outcome, history, review, apologise) go through the
operators' API as the token's operator. The resources file names the stack (the local runner writes
.orderflow/resources.json; for a deployed stack see the README's runbook); AWS credentials and
region come from the usual places for dlq, replay and dispute.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// An order as operators see it: every reason, who did each step, the desk's claims and calls.
    Order { id: String },
    /// Find orders.
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Held orders waiting for the desk, oldest first, with their wait against the SLA.
    Queue {
        /// Only this storefront's (one you serve).
        #[arg(long)]
        storefront: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Claim a held order: nobody else calls the customer while the claim lasts.
    Claim { id: String },
    /// Record what came of calling the customer about a held order you claimed.
    Outcome {
        id: String,
        #[arg(value_enum)]
        outcome: Outcome,
        /// When to call again (RFC 3339); no-answer only, and required there.
        #[arg(long, value_name = "TIME")]
        retry_at: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// One customer's orders across your storefronts, by e-mail address or phone number.
    History {
        #[command(flatten)]
        customer: Customer,
        #[command(flatten)]
        page: Page,
    },
    /// Approve or deny a held order.
    Review {
        id: String,
        #[arg(value_enum)]
        decision: Decision,
        #[arg(long)]
        note: Option<String>,
    },
    /// Tell the customer, once and in their language, what went wrong and what was done.
    Apologise {
        id: String,
        #[arg(long, value_enum)]
        remedy: Remedy,
        /// What went wrong, in the customer's language (see the order's `locale`).
        #[arg(long, value_name = "TEXT")]
        what: String,
    },
    /// Publish the order's current event again (AWS credentials).
    Replay { id: String },
    /// Dead-letter queues (AWS credentials).
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// The evidence a dispute about the order needs (AWS credentials); --submit sends it.
    Dispute {
        id: String,
        /// Submit the evidence to the payment provider for the dispute awaiting a response.
        #[arg(long, requires = "key")]
        submit: bool,
        /// A file holding the payment provider's secret key, for --submit.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
    /// Print a shell completion script: `orderctl completions bash > /etc/bash_completion.d/orderctl`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum OrdersCommand {
    /// Search your storefronts' orders, newest first: summaries, a page at a time.
    Search {
        /// An order status, such as ON_HOLD.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        customer: OptionalCustomer,
        #[arg(long)]
        tracking_number: Option<String>,
        #[arg(long)]
        storefront: Option<String>,
        /// Placed at or after (RFC 3339).
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// Placed before (RFC 3339).
        #[arg(long, value_name = "TIME")]
        before: Option<String>,
        /// Oldest first.
        #[arg(long)]
        oldest_first: bool,
        #[command(flatten)]
        page: Page,
    },
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Customer {
    #[arg(long)]
    email: Option<String>,
    /// E.164, such as +31612345678.
    #[arg(long)]
    phone: Option<String>,
}

#[derive(Debug, clap::Args)]
#[group(required = false, multiple = false)]
struct OptionalCustomer {
    #[arg(long)]
    email: Option<String>,
    /// E.164, such as +31612345678.
    #[arg(long)]
    phone: Option<String>,
}

#[derive(Debug, clap::Args)]
struct Page {
    /// Orders a page, 1 to 100.
    #[arg(long)]
    limit: Option<u8>,
    /// Where the page starts: the `next` the page before printed.
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// A dead-letter queue's messages with why they failed, left where they are (JSON lines).
    List {
        /// A logical id of the template, such as FulfillmentDeadLetterQueue.
        queue: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Move a dead-letter queue's messages back to their queue.
    Redrive { queue: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Outcome {
    ReachedConfirmed,
    ReachedChanged,
    NoAnswer,
    WrongNumber,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Decision {
    Approve,
    Deny,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Remedy {
    Refund,
    Amendment,
    ExpeditedShipment,
    Other,
}

/// The wire name of a value-enum choice (`no-answer` → `no_answer`).
fn wire(value: impl ValueEnum) -> String {
    value.to_possible_value().map(|value| value.get_name().replace('-', "_")).unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "orderctl", &mut out);
        return answer(&String::from_utf8_lossy(&out));
    }
    let resources = Resources::load(&cli.resources)?;
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
    let token = || -> anyhow::Result<String> {
        let file = cli.token.as_ref().context("this command acts as an operator: give --token FILE")?;
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    };
    let (value, as_text): (Value, fn(&Value) -> String) = match &cli.command {
        Command::Order { id } => (orderctl.order(id, &token()?).await?, text::order),
        Command::Orders(OrdersCommand::Search {
            status,
            customer,
            tracking_number,
            storefront,
            from,
            before,
            oldest_first,
            page,
        }) => {
            let mut filters = page.filters();
            let named = [
                ("status", status),
                ("email", &customer.email),
                ("phone", &customer.phone),
                ("tracking_number", tracking_number),
                ("storefront", storefront),
                ("from", from),
                ("before", before),
            ];
            filters.extend(named.into_iter().filter_map(|(name, value)| Some((name, value.clone()?))));
            if *oldest_first {
                filters.push(("sort", "oldest".to_owned()));
            }
            (orderctl.search(&filters, &token()?).await?, text::page)
        }
        Command::Queue { storefront, page } => {
            let mut filters = page.filters();
            filters.extend(storefront.clone().map(|storefront| ("storefront", storefront)));
            (orderctl.queue(&filters, &token()?).await?, text::page)
        }
        Command::Claim { id } => (orderctl.claim(id, &token()?).await?, text::claim),
        Command::Outcome { id, outcome, retry_at, note } => {
            let recorded =
                orderctl.outcome(id, &wire(*outcome), retry_at.as_deref(), note.as_deref(), &token()?).await?;
            (recorded, text::order)
        }
        Command::History { customer, page } => {
            let mut filters = page.filters();
            filters.extend(customer.email.clone().map(|email| ("email", email)));
            filters.extend(customer.phone.clone().map(|phone| ("phone", phone)));
            (orderctl.history(&filters, &token()?).await?, text::history)
        }
        Command::Review { id, decision, note } => {
            (orderctl.review(id, &wire(*decision), note.as_deref(), &token()?).await?, text::order)
        }
        Command::Apologise { id, remedy, what } => {
            (orderctl.apologise(id, &wire(*remedy), what, &token()?).await?, text::order)
        }
        Command::Replay { id } => (Value::from(orderctl.replay(id).await?), text::plain),
        Command::Dlq(DlqCommand::List { queue, limit }) => {
            (serde_json::to_value(orderctl.dead_letters(queue, *limit).await?)?, text::json_lines)
        }
        Command::Dlq(DlqCommand::Redrive { queue }) => {
            let said = match orderctl.redrive(queue).await? {
                Some(moved) => format!("moved {moved} messages back from {queue}"),
                None => format!("SQS is moving {queue}'s messages back"),
            };
            (Value::from(said), text::plain)
        }
        Command::Dispute { id, submit: false, .. } => {
            let evidence = orderctl.dispute(id).await?;
            if cli.output == Output::Text {
                return answer(&evidence.text());
            }
            (serde_json::to_value(&evidence)?, text::plain)
        }
        Command::Dispute { id, submit: true, key } => {
            let key_file = key.as_ref().context("--submit needs --key FILE")?;
            let key = std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
            (orderctl.answer_dispute(id, &key).await?, text::dispute)
        }
        // Written before the stack was read.
        Command::Completions { .. } => return Ok(()),
    };
    match cli.output {
        Output::Json => answer(&serde_json::to_string_pretty(&value)?),
        Output::Text => answer(&as_text(&value)),
    }
}

impl Page {
    fn filters(&self) -> Vec<(&'static str, String)> {
        let mut filters = Vec::new();
        filters.extend(self.limit.map(|limit| ("limit", limit.to_string())));
        filters.extend(self.cursor.clone().map(|cursor| ("cursor", cursor)));
        filters
    }
}

/// Writes the answer; a reader that stopped early (`| head`) is not an error.
fn answer(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", text.trim_end()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}
