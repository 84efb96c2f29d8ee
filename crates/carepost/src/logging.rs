//! Diagnostic logs: JSON lines (or pretty) for `serve`, warnings only for the other
//! commands so that their output stays readable. PHI cannot reach a log line: it is
//! wrapped in `Phi`, whose formatting hides it.

use carepost_config::{LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;

use crate::cli::Command;

pub fn init(command: &Command, config: &LogConfig) {
    let serving = matches!(command, Command::Serve(_));
    let level = if serving {
        config.level.as_str()
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_env("CAREPOST_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match (serving, config.format) {
        (true, LogFormat::Json) => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        _ => builder.compact().try_init(),
    };
}
