//! Logs as one flat JSON object a line, for CloudWatch Logs Insights: the event's fields beside
//! every field of the spans it happened in (the invocation's `request_id` and `trace_id`, the
//! message's `order_id`, `event_id`, `event_type`), and the `function` that wrote it. Customer
//! contact details, addresses and card data are never logged; the end-to-end tests scan every
//! line for them.

use std::fmt;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    Layer,
    filter::{LevelFilter, Targets},
    fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, format::JsonFields, format::Writer},
    layer::SubscriberExt,
    registry::LookupSpan,
    util::SubscriberInitExt,
};

/// The libraries whose logs stay at warnings whatever the level asked for.
const LIBRARIES_AT_WARN: [&str; 8] =
    ["aws_config", "aws_smithy_runtime", "aws_smithy_runtime_api", "aws_sigv4", "hyper", "hyper_util", "h2", "rustls"];

/// Installs the JSON subscriber. The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// logging configuration), else `RUST_LOG` (`level` or `target=level`, comma-separated), else
/// `info`; the function's name from `AWS_LAMBDA_FUNCTION_NAME`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| level.to_ascii_lowercase())
        .or_else(|| std::env::var("RUST_LOG").ok());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(FlatJson { function: std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok() })
                .with_filter(filter(level.as_deref())),
        )
        .init();
    // Every function calls this once, as its process starts: a cold start.
    crate::metrics::emit(&[crate::metrics::Measurement::count(crate::metrics::Metric::ColdStarts)]);
}

/// The levels asked for (`info` when nothing or nothing readable is asked), with the SDK's and
/// the HTTP stack's at warnings: their debug lines quote whole requests and responses (order
/// items, addresses), and DEBUG for our code must not turn them on. Target prefixes, not
/// `EnvFilter`'s patterns: those bring a regex engine into every binary.
fn filter(asked: Option<&str>) -> Targets {
    let asked = asked.and_then(|asked| asked.parse::<Targets>().ok());
    let mut filter =
        Targets::new().with_default(asked.as_ref().and_then(Targets::default_level).unwrap_or(LevelFilter::INFO));
    for (target, level) in asked.iter().flat_map(Targets::iter) {
        if !LIBRARIES_AT_WARN.iter().any(|library| target.starts_with(library)) {
            filter = filter.with_target(target, level);
        }
    }
    filter.with_targets(LIBRARIES_AT_WARN.map(|library| (library, LevelFilter::WARN)))
}

/// Writes each event as one JSON object: time, level, function, the fields of its spans from
/// the outermost in, then its own fields.
#[derive(Debug, Clone)]
pub struct FlatJson {
    pub function: Option<String>,
}

/// The runtime's span names its fields in camel case; Logs Insights queries use ours.
fn field_name(name: &str) -> &str {
    match name {
        "requestId" => "request_id",
        "xrayTraceId" => "trace_id",
        name => name,
    }
}

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, context: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::from(Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)));
        line.insert("level".into(), Value::from(event.metadata().level().as_str()));
        if let Some(function) = &self.function {
            line.insert("function".into(), Value::from(function.as_str()));
        }
        for span in context.event_scope().into_iter().flat_map(|scope| scope.from_root()) {
            let extensions = span.extensions();
            let Some(fields) = extensions.get::<FormattedFields<N>>() else { continue };
            if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                for (name, value) in fields {
                    line.insert(field_name(&name).to_owned(), value);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        let json = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{json}")
    }
}

/// Collects an event's fields into the line.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field_name(field.name()).to_owned(), Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn the_level_asked_for_never_opens_the_sdks_and_the_http_stacks_debug_lines() {
        use tracing::Level;
        let asked = super::filter(Some("debug,aws_smithy_runtime=trace,hyper_util::client=debug,shared=trace"));
        assert!(asked.would_enable("notifier", &Level::DEBUG));
        assert!(asked.would_enable("shared::app", &Level::TRACE));
        for target in ["aws_smithy_runtime::client", "hyper_util::client", "rustls", "aws_sigv4"] {
            assert!(!asked.would_enable(target, &Level::INFO), "{target}");
            assert!(asked.would_enable(target, &Level::WARN), "{target}");
        }
        let unreadable = super::filter(Some("loud!"));
        assert!(unreadable.would_enable("notifier", &Level::INFO));
        assert!(!unreadable.would_enable("notifier", &Level::DEBUG));
        assert!(!super::filter(None).would_enable("notifier", &Level::DEBUG));
    }

    #[test]
    fn a_line_carries_the_function_and_the_fields_of_every_span_it_is_in() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(FlatJson { function: Some("payment".to_owned()) })
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let invoke = tracing::info_span!("Lambda runtime invoke", requestId = "r-1", xrayTraceId = "Root=1-abc");
            let _invoke = invoke.enter();
            let event =
                tracing::info_span!("event", order_id = "ord_1", event_id = "ord_1:3", event_type = "order.reserved");
            let _event = event.enter();
            tracing::info!(outcome = ?Some(3), attempts = 2_u64, "payment event handled");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: Value = serde_json::from_str(&text).unwrap();
        for (name, value) in [
            ("function", "payment"),
            ("level", "INFO"),
            ("request_id", "r-1"),
            ("trace_id", "Root=1-abc"),
            ("order_id", "ord_1"),
            ("event_id", "ord_1:3"),
            ("event_type", "order.reserved"),
            ("message", "payment event handled"),
            ("outcome", "Some(3)"),
        ] {
            assert_eq!(line[name], value, "{name} in {line}");
        }
        assert_eq!(line["attempts"], 2);
    }
}
