//! What the runner shows: one line per invocation, the functions' own log lines prefixed by
//! their name, and the runner's own notes. Everything is also kept, so that tests can read what
//! happened and the runner can tell when the pipeline has gone quiet.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

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
}

/// Shared by every part of the runner; cheap to clone.
#[derive(Debug, Clone)]
pub struct Journal {
    echo: bool,
    echo_function_logs: bool,
    started: Instant,
    entries: Arc<Mutex<Entries>>,
}

impl Journal {
    /// `echo` prints every entry to stdout as it arrives (the developer's view; tests keep it
    /// quiet), the functions' own lines only with `echo_function_logs`.
    pub fn new(echo: bool, echo_function_logs: bool) -> Self {
        Self { echo, echo_function_logs, started: Instant::now(), entries: Arc::default() }
    }

    fn with<T>(&self, change: impl FnOnce(&mut Entries) -> T) -> T {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.last_activity = Some(Instant::now());
        change(&mut entries)
    }

    #[allow(clippy::print_stdout)] // the developer's view of the pipeline is stdout
    fn show(&self, line: &str) {
        if self.echo {
            let elapsed = self.started.elapsed();
            println!("{:>4}.{:03} {line}", elapsed.as_secs(), elapsed.subsec_millis());
        }
    }

    /// Marks the start of work that must finish before the pipeline counts as quiet.
    pub fn begin(&self) -> Busy {
        self.with(|entries| entries.busy += 1);
        Busy { journal: self.clone() }
    }

    pub fn invocation(&self, record: InvocationRecord) {
        self.show(&format!(
            "{:<16} <- {:<34} batch {:>3}  {:>6} ms  {}",
            record.function,
            record.trigger,
            record.batch_size,
            record.duration.as_millis(),
            record.outcome
        ));
        self.with(|entries| entries.invocations.push(record));
    }

    pub fn function_log(&self, function: &str, line: &str) {
        if self.echo_function_logs {
            self.show(&format!("{function:>16} | {line}"));
        }
        self.with(|entries| entries.function_logs.push((function.to_owned(), line.to_owned())));
    }

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

    /// True when nothing is in progress and nothing has happened for `quiet`.
    pub fn is_quiet(&self, quiet: Duration) -> bool {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.busy == 0 && entries.last_activity.is_none_or(|last| last.elapsed() >= quiet)
    }
}

/// Work in progress; the pipeline is not quiet until it is dropped.
#[derive(Debug)]
pub struct Busy {
    journal: Journal,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.journal.with(|entries| entries.busy = entries.busy.saturating_sub(1));
    }
}
