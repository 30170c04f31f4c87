//! What the runner shows. As a story (the default): one line in words for each step an order
//! takes, the runner's and the demo's notes, and whatever failed or warned; the functions' own
//! JSON lines go to a file. Verbose: every invocation and every function line, as they come.
//! Everything is also kept, so that tests can read what happened and the runner can tell when
//! the pipeline has gone quiet.

use std::{
    io::{IsTerminal, Write},
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;
use shared::domain::{EventType, OrderStatus};

/// What the journal prints as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Nothing (tests read the journal instead).
    Off,
    /// One readable line per step; failures and warnings; the functions' lines only in the file.
    Story,
    /// Every invocation and every line every function writes.
    Verbose,
}

/// How an invocation ended, as the line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The function answered, but reported these items as failed.
    PartialFailure(usize),
    Failed(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::PartialFailure(count) => write!(f, "{count} item(s) failed"),
            Self::Failed(reason) => write!(f, "FAILED: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationRecord {
    pub function: String,
    /// `http POST /orders`, `sqs InventoryQueue`, `dynamodb OrdersTable`, `schedule ...`.
    pub trigger: String,
    pub batch_size: usize,
    pub duration: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
struct Entries {
    invocations: Vec<InvocationRecord>,
    function_logs: Vec<(String, String)>,
    notes: Vec<String>,
    busy: usize,
    last_activity: Option<Instant>,
    /// Per stream reader, when it last began a read that found nothing new and nothing held
    /// back: what was written before then has reached it.
    readers_caught_up: Vec<Option<Instant>>,
}

/// Shared by every part of the runner; cheap to clone.
#[derive(Debug, Clone)]
pub struct Journal {
    echo: Echo,
    colour: bool,
    started: Instant,
    entries: Arc<Mutex<Entries>>,
    /// Where the functions' own lines are written, each after its time and function.
    function_log: Option<Arc<Mutex<std::fs::File>>>,
}

impl Journal {
    /// `function_log`: a file for the functions' own lines (created, or emptied).
    pub fn new(echo: Echo, function_log: Option<&Path>) -> std::io::Result<Self> {
        let function_log = match function_log {
            Some(path) => {
                if let Some(folder) = path.parent() {
                    std::fs::create_dir_all(folder)?;
                }
                Some(Arc::new(Mutex::new(std::fs::File::create(path)?)))
            }
            None => None,
        };
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Ok(Self { echo, colour, started: Instant::now(), entries: Arc::default(), function_log })
    }

    fn with<T>(&self, change: impl FnOnce(&mut Entries) -> T) -> T {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.last_activity = Some(Instant::now());
        change(&mut entries)
    }

    #[allow(clippy::print_stdout)] // the developer's view of the pipeline is stdout
    fn show(&self, line: &str) {
        if self.echo != Echo::Off {
            println!("{} {line}", self.paint(DIM, &self.elapsed()));
        }
    }

    fn elapsed(&self) -> String {
        let elapsed = self.started.elapsed();
        format!("{:>4}.{:03}", elapsed.as_secs(), elapsed.subsec_millis())
    }

    /// `text` in an ANSI colour, where the terminal shows colour and `NO_COLOR` is not set.
    fn paint(&self, colour: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{colour}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// Marks the start of work that must finish before the pipeline counts as quiet.
    pub fn begin(&self) -> Busy {
        self.with(|entries| entries.busy += 1);
        Busy { journal: self.clone() }
    }

    pub fn invocation(&self, record: InvocationRecord) {
        let line = format!(
            "{:<16} <- {:<34} batch {:>3}  {:>6} ms  {}",
            record.function,
            record.trigger,
            record.batch_size,
            record.duration.as_millis(),
            record.outcome
        );
        match (self.echo, &record.outcome) {
            (Echo::Verbose, _) => self.show(&line),
            (Echo::Story, Outcome::Failed(_) | Outcome::PartialFailure(_)) => self.show(&self.paint(RED, &line)),
            _ => {}
        }
        self.with(|entries| entries.invocations.push(record));
    }

    pub fn function_log(&self, function: &str, line: &str) {
        if let Some(file) = &self.function_log {
            let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = writeln!(file, "{} {function:>16} | {line}", self.elapsed());
        }
        match self.echo {
            Echo::Verbose => self.show(&format!("{function:>16} | {line}")),
            Echo::Story => {
                if let Some(step) = self.story_line(function, line) {
                    self.show(&step);
                }
            }
            Echo::Off => {}
        }
        self.with(|entries| entries.function_logs.push((function.to_owned(), line.to_owned())));
    }

    /// A function's JSON line as the story tells it: an order's step in words (from the stream
    /// router's published events), or a warning or error; nothing for the rest.
    fn story_line(&self, function: &str, line: &str) -> Option<String> {
        let json: Value = serde_json::from_str(line).ok()?;
        let text = |name: &str| json[name].as_str().unwrap_or_default().to_owned();
        if json["message"] == "event published" {
            let event_id = text("event_id");
            let (order, _) = event_id.split_once(':')?;
            let event_type = EventType::parse(&text("event_type"))?;
            let colour = if step_went_wrong(event_type) { RED } else { GREEN };
            return Some(format!(
                "{:<16} {} {}",
                "order",
                self.paint(CYAN, order),
                self.paint(colour, &in_words(event_type))
            ));
        }
        match json["level"].as_str()? {
            level @ ("WARN" | "ERROR") => {
                let error = json["error"].as_str().map(|error| format!(": {error}")).unwrap_or_default();
                Some(
                    self.paint(
                        RED,
                        &format!("{function:<16} {} {}{error}", level.to_ascii_lowercase(), text("message")),
                    ),
                )
            }
            _ => None,
        }
    }

    /// The runner's (and the demo's) own lines: always shown.
    pub fn note(&self, line: impl Into<String>) {
        let line = line.into();
        self.show(&format!("{:<16} {line}", "runner"));
        self.with(|entries| entries.notes.push(line));
    }

    pub fn invocations(&self) -> Vec<InvocationRecord> {
        self.with(|entries| entries.invocations.clone())
    }

    pub fn function_logs(&self) -> Vec<(String, String)> {
        self.with(|entries| entries.function_logs.clone())
    }

    pub fn notes(&self) -> Vec<String> {
        self.with(|entries| entries.notes.clone())
    }

    /// A stream reader the pipeline's quiet waits for: a record a function wrote is not in
    /// any queue, and no work has begun on it, until the reader has read it.
    pub fn add_reader(&self) -> ReaderId {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.readers_caught_up.push(None);
        ReaderId(entries.readers_caught_up.len() - 1)
    }

    /// `reader`'s read begun at `began` found nothing new, and it holds nothing back. Not
    /// itself activity: an idle reader reads all the time.
    pub fn caught_up(&self, reader: ReaderId, began: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(caught_up) = entries.readers_caught_up.get_mut(reader.0) {
            *caught_up = Some(began);
        }
    }

    /// True when nothing is in progress, nothing has happened for `quiet`, and every stream
    /// reader has read past the last thing that happened.
    pub fn is_quiet(&self, quiet: Duration) -> bool {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let read_past = |caught_up: &Option<Instant>| {
            caught_up.is_some_and(|began| entries.last_activity.is_none_or(|last| began >= last))
        };
        entries.busy == 0
            && entries.last_activity.is_none_or(|last| last.elapsed() >= quiet)
            && entries.readers_caught_up.iter().all(read_past)
    }
}

const DIM: &str = "2";
const RED: &str = "31";
const GREEN: &str = "32";
const CYAN: &str = "36";

/// An order's step in a few words.
fn in_words(event_type: EventType) -> String {
    use OrderStatus::*;
    match event_type {
        EventType::Reached(Placed) => "placed".to_owned(),
        EventType::Reached(Reserved) => "stock reserved".to_owned(),
        EventType::Reached(OnHold) => "held for an operator's review".to_owned(),
        EventType::Reached(PaymentAuthorized) => "payment authorised".to_owned(),
        EventType::Reached(Fulfilling) => "sent to the warehouse".to_owned(),
        EventType::Reached(Returned) => "return received by the warehouse".to_owned(),
        EventType::Reached(status) => status.as_str().to_ascii_lowercase().replace('_', " "),
        EventType::Modified => "changed by its customer".to_owned(),
        EventType::TrackingUpdated => "carrier update".to_owned(),
        EventType::DeliveryDelayed => "delivery delayed".to_owned(),
        EventType::RefundIssued => "refund issued".to_owned(),
        EventType::DisputeUpdated => "payment disputed by the card holder".to_owned(),
        EventType::AuthorizationEnded => "authorisation ended at the provider".to_owned(),
        EventType::RefundFailed => "refund failed at the provider".to_owned(),
        EventType::ApologySent => "an operator apologised to the customer".to_owned(),
    }
}

fn step_went_wrong(event_type: EventType) -> bool {
    use OrderStatus::*;
    matches!(
        event_type,
        EventType::Reached(Rejected | PaymentFailed | Cancelled | DeliveryException) | EventType::DeliveryDelayed
    )
}

/// Work in progress; the pipeline is not quiet until it is dropped.
#[derive(Debug)]
pub struct Busy {
    journal: Journal,
}

/// A stream reader's place in the journal, from [`Journal::add_reader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderId(usize);

impl Drop for Busy {
    fn drop(&mut self) {
        self.journal.with(|entries| entries.busy = entries.busy.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_tells_each_step_in_words_and_every_warning_and_leaves_the_rest_to_the_file() {
        let journal = Journal { colour: false, ..Journal::new(Echo::Story, None).unwrap() };
        let published = |event_type: &str| {
            format!(
                r#"{{"level":"INFO","message":"event published","event_id":"ord_1:2","event_type":"{event_type}"}}"#
            )
        };
        let told = |line: &str| journal.story_line("stream-router", line);
        assert_eq!(told(&published("order.reserved")).as_deref(), Some("order            ord_1 stock reserved"));
        assert_eq!(
            told(&published("order.out_for_delivery")).as_deref(),
            Some("order            ord_1 out for delivery")
        );
        assert_eq!(told(&published("order.refund_issued")).as_deref(), Some("order            ord_1 refund issued"));
        let warned = told(r#"{"level":"WARN","message":"message not handled yet","error":"the store is unavailable"}"#);
        assert_eq!(warned.as_deref(), Some("stream-router    warn message not handled yet: the store is unavailable"));
        assert_eq!(told(r#"{"level":"INFO","message":"order placed"}"#), None);
        assert_eq!(told(r#"{"ColdStarts":1.0,"_aws":{}}"#), None, "metrics are not steps");
        assert_eq!(told("not json"), None);
    }

    #[test]
    fn quiet_waits_for_every_stream_reader_to_read_past_the_last_activity() {
        let journal = Journal::new(Echo::Off, None).unwrap();
        assert!(journal.is_quiet(Duration::ZERO));
        let reader = journal.add_reader();
        assert!(!journal.is_quiet(Duration::ZERO), "a reader that has not read yet may have records to find");

        journal.caught_up(reader, Instant::now());
        assert!(journal.is_quiet(Duration::ZERO));

        let read_began = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        drop(journal.begin());
        journal.caught_up(reader, read_began);
        assert!(!journal.is_quiet(Duration::ZERO), "a read begun before the last work may have missed its records");

        journal.caught_up(reader, Instant::now());
        assert!(journal.is_quiet(Duration::ZERO));
        assert!(!journal.is_quiet(Duration::from_secs(60)));
    }
}
