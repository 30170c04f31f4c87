//! Logs as one JSON object a line, for CloudWatch Logs Insights.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber. The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// logging configuration), else `RUST_LOG`, else `info`.
pub fn init() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| EnvFilter::new(level.to_ascii_lowercase()))
        .unwrap_or_else(|| EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .flatten_event(true)
        .init();
}
