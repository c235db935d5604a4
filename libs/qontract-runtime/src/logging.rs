//! Logging: the Python tool's console format, or JSON lines.
//!
//! Human format (like `reconcile/cli.py`):
//! `[2026-11-28 12:00:00] [INFO] [DRY-RUN] [openshift_namespaces:lib.rs:42] - message key=value`
//! — the `[DRY-RUN]` segment only appears in dry-run. JSON format: one object per line with
//! `timestamp`, `level`, `target`, `fields`, and `dry_run`.
//!
//! [`LogCapture`] records the lines of one run (for the extended early exit cache).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use clap::ValueEnum;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// `--log-level`, spelled like Python's logging levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum LogLevel {
    /// Everything, including every queried schema.
    Debug,
    /// Actions and progress (default).
    Info,
    /// Warnings and errors.
    Warning,
    /// Errors only.
    Error,
    /// Errors only (Python's CRITICAL).
    Critical,
}

impl LogLevel {
    fn directive(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warn",
            LogLevel::Error | LogLevel::Critical => "error",
        }
    }

    /// Parse Python-style level names (`INFO`, `warning`, ...), as in `LOG_LEVEL`.
    pub fn parse(s: &str) -> Option<Self> {
        <Self as ValueEnum>::from_str(s, true)
            .ok()
            .or(match s.to_ascii_uppercase().as_str() {
                "WARN" => Some(LogLevel::Warning),
                _ => None,
            })
    }
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// The Python tool's console format.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Install the global subscriber. Logs go to stderr; stdout is kept for plans and output.
/// `RUST_LOG` (if set) overrides the level for fine-grained filtering. Calling it twice is
/// harmless (the second call is ignored), which the daemon loop relies on.
pub fn init(level: LogLevel, format: LogFormat, dry_run: bool) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| {
            // Our crates at the chosen level; chatty dependencies one notch quieter. kube's
            // per-connection "Server cert bypassed" is said once per cluster by
            // qontract-cluster-client instead. vaultrs/rustify log every non-2xx answer at
            // ERROR without context (an expected 404 included); qontract-secrets reports the
            // failures that matter, naming the path.
            EnvFilter::new(format!(
                "{lvl},hyper=warn,hyper_util=warn,reqwest=warn,rustls=warn,h2=warn,tower=warn,kube_client=warn,kube_client::client::tls=error,rustify=off,vaultrs=off",
                lvl = level.directive()
            ))
        });
    // The filter is global: the capture layer records exactly the lines that are printed.
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(CaptureLayer);
    let result = match format {
        LogFormat::Human => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .event_format(HumanFormat::new(dry_run)),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    let _ = result;
}

/// Name of the span that marks the events a [`LogCapture`] records.
const CAPTURE_SPAN: &str = "qontract_log_capture";

type CaptureBuffer = Arc<Mutex<Vec<String>>>;

/// Buffers of the live captures, by capture id (the span field `capture_id`).
static CAPTURES: LazyLock<Mutex<HashMap<u64, CaptureBuffer>>> = LazyLock::new(Default::default);
static NEXT_CAPTURE_ID: AtomicU64 = AtomicU64::new(1);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records the log lines of one piece of work (like the Python tool's `StreamHandler` on the
/// root logger during an extended-early-exit run): every event emitted inside
/// [`LogCapture::span`] that passes the log filter, as its message followed by its fields
/// (`message key="value"`), without the timestamp/level prefix. Nested captures each get the
/// line. Works only with the subscriber installed by [`init`]; with any other subscriber
/// nothing is recorded.
///
/// Futures run inside the span (`.instrument(capture.span())`) are covered, including work
/// they poll concurrently; tasks spawned with `tokio::spawn` are not, unless instrumented
/// with `Span::current()`.
#[derive(Debug)]
pub struct LogCapture {
    id: u64,
    buffer: CaptureBuffer,
    span: tracing::Span,
}

impl Default for LogCapture {
    fn default() -> Self {
        Self::new()
    }
}

impl LogCapture {
    /// Starts an empty capture.
    pub fn new() -> Self {
        let id = NEXT_CAPTURE_ID.fetch_add(1, Ordering::Relaxed);
        let buffer = CaptureBuffer::default();
        lock(&CAPTURES).insert(id, buffer.clone());
        // ERROR level so that the span exists whatever the chosen log level.
        let span = tracing::error_span!(CAPTURE_SPAN, capture_id = id);
        Self { id, buffer, span }
    }

    /// The span to run the captured work in.
    pub fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// The lines recorded so far.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.buffer).clone()
    }

    /// The lines recorded so far, each ended by a newline.
    pub fn text(&self) -> String {
        lock(&self.buffer)
            .iter()
            .map(|line| format!("{line}\n"))
            .collect()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        lock(&CAPTURES).remove(&self.id);
    }
}

/// The layer behind [`LogCapture`].
struct CaptureLayer;

/// Reads the `capture_id` field of a capture span.
#[derive(Default)]
struct CaptureIdVisitor(Option<u64>);

impl Visit for CaptureIdVisitor {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "capture_id" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

/// Renders an event as `message key=value ...` (the text after ` - ` in [`HumanFormat`]).
#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        use std::fmt::Write as _;
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl<S> Layer<S> for CaptureLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != CAPTURE_SPAN {
            return;
        }
        let mut visitor = CaptureIdVisitor::default();
        attrs.record(&mut visitor);
        let buffer = visitor
            .0
            .and_then(|capture_id| lock(&CAPTURES).get(&capture_id).cloned());
        if let (Some(buffer), Some(span)) = (buffer, ctx.span(id)) {
            span.extensions_mut().insert(buffer);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let buffers: Vec<CaptureBuffer> = scope
            .filter_map(|span| span.extensions().get::<CaptureBuffer>().cloned())
            .collect();
        if buffers.is_empty() {
            return;
        }
        let mut visitor = LineVisitor::default();
        event.record(&mut visitor);
        let line = format!("{}{}", visitor.message, visitor.fields)
            .trim_start()
            .to_owned();
        for buffer in buffers {
            lock(&buffer).push(line.clone());
        }
    }
}

/// The Python tool's console format.
#[derive(Debug, Clone, Copy)]
pub struct HumanFormat {
    /// Print the `[DRY-RUN]` marker.
    pub dry_run: bool,
}

impl HumanFormat {
    /// A formatter with or without the dry-run marker.
    pub fn new(dry_run: bool) -> Self {
        Self { dry_run }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

impl<S, N> FormatEvent<S, N> for HumanFormat
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
        let meta = event.metadata();
        let now = time_now();
        write!(writer, "[{now}] [{}] ", level_name(meta.level()))?;
        if self.dry_run {
            write!(writer, "[DRY-RUN] ")?;
        }
        let file = meta
            .file()
            .map(|f| f.rsplit('/').next().unwrap_or(f))
            .unwrap_or("?");
        write!(
            writer,
            "[{}:{}:{}] - ",
            meta.target(),
            file,
            meta.line().unwrap_or(0)
        )?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC without pulling a date crate.
fn time_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

/// Format seconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_798_000_000), "2026-12-23 04:26:40");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn capture_records_the_lines_of_its_span_only() {
        use tracing::Instrument as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(CaptureLayer);
        let (outer, inner, separate) = tracing::subscriber::with_default(subscriber, || {
            let outer = LogCapture::new();
            let separate = LogCapture::new();
            tracing::info!("outside every capture");
            let inner = outer.span().in_scope(|| {
                tracing::info!(cluster = "c1", count = 2, "['apply', 'c1']");
                // A capture started inside another one is nested in it.
                let inner = LogCapture::new();
                inner.span().in_scope(|| tracing::warn!("nested {}", 1));
                tracing::debug!("filtered out");
                inner
            });
            separate.span().in_scope(|| tracing::info!("separate"));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(
                async { tracing::error!(kind = %"Secret", "in a future") }.instrument(inner.span()),
            );
            (outer, inner, separate)
        });
        assert_eq!(
            outer.lines(),
            [
                "['apply', 'c1'] cluster=\"c1\" count=2",
                "nested 1",
                "in a future kind=Secret"
            ]
        );
        assert_eq!(inner.text(), "nested 1\nin a future kind=Secret\n");
        assert_eq!(separate.lines(), ["separate"]);
    }

    #[test]
    fn python_level_names_parse() {
        assert_eq!(LogLevel::parse("INFO"), Some(LogLevel::Info));
        assert_eq!(LogLevel::parse("warning"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("WARN"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("nope"), None);
    }

    #[test]
    fn human_format_has_dry_run_marker() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for (dry_run, expect) in [(true, true), (false, false)] {
            let buf = Buf::default();
            let writer = buf.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .event_format(HumanFormat::new(dry_run))
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                tracing::info!(cluster = "c1", "['apply', 'c1', 'ns', 'ConfigMap', 'x']");
            });
            let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            assert!(out.contains("[INFO] "), "{out}");
            assert_eq!(out.contains("[DRY-RUN] "), expect, "{out}");
            assert!(
                out.contains(" - ['apply', 'c1', 'ns', 'ConfigMap', 'x'] cluster=\"c1\""),
                "{out}"
            );
        }
    }
}
