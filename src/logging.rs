//! The service's log: readable text on a terminal, plain lines with syslog priorities for
//! journald, or JSON, through `tracing`.
//!
//! What is logged is decided where it happens (file decisions, batches, incidents by id and
//! rule); it never holds chat text or an identity number: paths are shown redacted, and
//! incidents by their id, rule and severity only. As a last guard, every line passes the
//! identity-number redaction on its way to stderr ([`RedactedStderr`]), so a message that
//! quotes a value from outside (a config error, a file name) cannot carry a number. The level is `info` unless
//! `MOTESVAKT_LOG` says otherwise (`debug`, `warn`, or a `tracing` filter).

use std::fmt;
use std::io::{IsTerminal, Write};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// journald's when `JOURNAL_STREAM` says stderr goes to the journal, else text.
    Auto,
    /// A time (Swedish local time), the level and the message; in colour on a terminal.
    Text,
    /// `<6>message`: a syslog priority and the message; journald adds the time.
    Journal,
    /// One JSON object per line.
    Json,
}

/// The environment variable that sets the level.
pub const LEVEL_VAR: &str = "MOTESVAKT_LOG";

/// Writes each event as `<priority>message fields`, as journald reads stderr.
struct JournalLines;

impl<S, N> FormatEvent<S, N> for JournalLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let priority = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            Level::DEBUG | Level::TRACE => 7,
        };
        write!(writer, "<{priority}>")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Times in Swedish local time, to the millisecond.
struct SwedishTime;

impl tracing_subscriber::fmt::time::FormatTime for SwedishTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let now = jiff::Timestamp::now().to_zoned(crate::config::profile::swedish_tz());
        write!(w, "{}", now.strftime("%Y-%m-%d %H:%M:%S%.3f"))
    }
}

/// Starts the log on stderr. Safe to call more than once (later calls do nothing).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env(LEVEL_VAR)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let format = match format {
        LogFormat::Auto if std::env::var_os("JOURNAL_STREAM").is_some() => LogFormat::Journal,
        LogFormat::Auto => LogFormat::Text,
        f => f,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactedStderr(Vec::new()));
    let _ = match format {
        LogFormat::Journal => builder
            .with_ansi(false)
            .event_format(JournalLines)
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_timer(tracing_subscriber::fmt::time::SystemTime)
            .with_current_span(false)
            .try_init(),
        _ => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .with_timer(SwedishTime)
            .try_init(),
    };
}

/// A log line on its way to stderr: collected, then written whole with every identity number
/// redacted ([`crate::report::redact_ids`]). `tracing` makes one writer per line.
struct RedactedStderr(Vec<u8>);

impl Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.0);
        let line = crate::report::redact_ids(&text);
        let out = line.as_deref().map_or(&self.0[..], str::as_bytes);
        let written = std::io::stderr().lock().write_all(out);
        self.0.clear();
        written
    }
}

impl Drop for RedactedStderr {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
