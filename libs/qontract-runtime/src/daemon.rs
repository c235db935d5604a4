//! `run-integration`: the container entrypoint of the Python tool (`reconcile/run_integration.py`),
//! configured by environment variables, running the integration in-process in a loop.
//!
//! | env | default | meaning |
//! |---|---|---|
//! | `INTEGRATION_NAME` | required | integration to run |
//! | `INTEGRATION_EXTRA_ARGS` | none | shell-split and appended |
//! | `CONFIG` | `/config/config.toml` | `--config` |
//! | `DRY_RUN` | none | literally `--dry-run` or `--no-dry-run` (`MANAGER_DRY_RUN` for integrations-manager) |
//! | `RUN_ONCE` | unset | non-empty: exit with the run's code after one run |
//! | `SLEEP_DURATION_SECS` | 600 | sleep after a run |
//! | `SLEEP_ON_ERROR` | 10 | sleep after a failed run (exit code 1) |
//! | `PROMETHEUS_PORT` | 9090 | `/metrics` is served on this port |
//! | `SHARDS`, `SHARD_ID` | 1, 0 | metric labels |
//! | `PUSHGATEWAY_ENABLED` | unset | non-empty: push the last-run gauges to `PUSHGATEWAY_URL` with basic auth `PUSHGATEWAY_USERNAME`/`PUSHGATEWAY_PASSWORD` |
//! | `UNLEASH_API_URL`, `UNLEASH_CLIENT_ACCESS_TOKEN` | unset | the kill switch: before each run the integration's Unleash toggle is read; off means the run is skipped (exit status 0, so the loop sleeps `SLEEP_DURATION_SECS`) — see [`crate::unleash`] |

use std::ffi::OsString;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::exit::ExitStatus;
use crate::metrics::{RunLabels, RunMetrics};
use crate::runner::Cli;

/// The daemon settings, read from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonSettings {
    /// `INTEGRATION_NAME`.
    pub integration: String,
    /// `INTEGRATION_EXTRA_ARGS`, split.
    pub extra_args: Vec<String>,
    /// `CONFIG`.
    pub config: String,
    /// `DRY_RUN`.
    pub dry_run: Option<String>,
    /// `RUN_ONCE`.
    pub run_once: bool,
    /// `SLEEP_DURATION_SECS`.
    pub sleep: Duration,
    /// `SLEEP_ON_ERROR`.
    pub sleep_on_error: Duration,
    /// `PROMETHEUS_PORT`.
    pub prometheus_port: u16,
    /// `SHARDS`.
    pub shards: String,
    /// `SHARD_ID`.
    pub shard_id: String,
    /// `PUSHGATEWAY_ENABLED`.
    pub pushgateway: bool,
}

impl DaemonSettings {
    /// Read the settings through `get` (the process environment in production).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
        let integration = non_empty("INTEGRATION_NAME").context("INTEGRATION_NAME is not set")?;
        let extra_args = match non_empty("INTEGRATION_EXTRA_ARGS") {
            Some(s) => shlex::split(&s)
                .with_context(|| format!("INTEGRATION_EXTRA_ARGS has unbalanced quotes: {s}"))?,
            None => Vec::new(),
        };
        // integrations-manager passes DRY_RUN through to the integrations it deploys, so its
        // own mode comes from MANAGER_DRY_RUN (as upstream).
        let dry_run_var = if integration == "integrations-manager" {
            "MANAGER_DRY_RUN"
        } else {
            "DRY_RUN"
        };
        let dry_run = non_empty(dry_run_var);
        if let Some(d) = &dry_run {
            anyhow::ensure!(
                d == "--dry-run" || d == "--no-dry-run",
                "{dry_run_var} must be --dry-run or --no-dry-run, not {d:?}"
            );
        }
        let secs = |k: &str, default: u64| -> anyhow::Result<Duration> {
            match non_empty(k) {
                Some(v) => v
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .with_context(|| format!("{k} must be a number of seconds, not {v:?}")),
                None => Ok(Duration::from_secs(default)),
            }
        };
        let prometheus_port = match non_empty("PROMETHEUS_PORT") {
            Some(v) => v
                .parse()
                .with_context(|| format!("PROMETHEUS_PORT is not a port: {v:?}"))?,
            None => 9090,
        };
        Ok(Self {
            integration,
            extra_args,
            config: non_empty("CONFIG").unwrap_or_else(|| "/config/config.toml".to_owned()),
            dry_run,
            run_once: non_empty("RUN_ONCE").is_some(),
            sleep: secs("SLEEP_DURATION_SECS", 600)?,
            sleep_on_error: secs("SLEEP_ON_ERROR", 10)?,
            prometheus_port,
            shards: non_empty("SHARDS").unwrap_or_else(|| "1".to_owned()),
            shard_id: non_empty("SHARD_ID").unwrap_or_else(|| "0".to_owned()),
            pushgateway: non_empty("PUSHGATEWAY_ENABLED").is_some(),
        })
    }

    /// The argv of one run: `qontract-reconcile --config C [DRY_RUN] NAME [EXTRA...]`.
    pub fn argv(&self, bin: &str) -> Vec<OsString> {
        let mut argv: Vec<OsString> =
            vec![bin.into(), "--config".into(), self.config.clone().into()];
        if let Some(d) = &self.dry_run {
            argv.push(d.into());
        }
        argv.push(self.integration.clone().into());
        argv.extend(self.extra_args.iter().map(OsString::from));
        argv
    }
}

/// Run the daemon loop with settings from the process environment.
pub async fn run_from_env(cli: &Cli) -> ExitStatus {
    let settings = match DaemonSettings::from_env(|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("run-integration: {e:#}");
            return ExitStatus::Error;
        }
    };
    run(cli, settings).await
}

/// Run the daemon loop.
pub async fn run(cli: &Cli, settings: DaemonSettings) -> ExitStatus {
    if !cli
        .integrations
        .iter()
        .any(|s| s.name == settings.integration)
    {
        eprintln!(
            "run-integration: unknown integration {:?}",
            settings.integration
        );
        return ExitStatus::Error;
    }
    let metrics = RunMetrics::new();
    let server = match serve_metrics(metrics.clone(), settings.prometheus_port).await {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("run-integration: {e:#}");
            return ExitStatus::Error;
        }
    };
    let labels = RunLabels {
        integration: settings.integration.clone(),
        shards: settings.shards.clone(),
        shard_id: settings.shard_id.clone(),
    };
    let status = loop {
        metrics.execution_counter.get_or_create(&labels).inc();
        let started = Instant::now();
        let mut status = cli.run_multi(settings.argv(cli.bin_name)).await;
        metrics
            .last_run_seconds
            .get_or_create(&labels)
            .set(started.elapsed().as_secs_f64());
        metrics
            .last_run_status
            .get_or_create(&labels)
            .set(i64::from(status.code()));
        if settings.pushgateway
            && let Err(e) = push(&metrics, &labels).await
        {
            tracing::error!("pushgateway: {e:#}");
            status = ExitStatus::Error;
        }
        if settings.run_once {
            break status;
        }
        let pause = if status == ExitStatus::Error {
            settings.sleep_on_error
        } else {
            settings.sleep
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown_signal() => {
                tracing::info!("run-integration: terminating on signal");
                break status;
            }
        }
    };
    server.abort();
    status
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serve `/metrics` on `0.0.0.0:port` (port 0 picks a free one; see the returned handle).
pub async fn serve_metrics(
    metrics: RunMetrics,
    port: u16,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("cannot listen on PROMETHEUS_PORT {port}"))?;
    tracing::debug!("serving /metrics on {}", listener.local_addr()?);
    Ok(tokio::spawn(serve_metrics_on(metrics, listener)))
}

/// Serve `/metrics` on an existing listener.
pub async fn serve_metrics_on(metrics: RunMetrics, listener: tokio::net::TcpListener) {
    use axum::http::header::CONTENT_TYPE;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.encode(),
                )
            }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("metrics server stopped: {e}");
    }
}

async fn push(metrics: &RunMetrics, labels: &RunLabels) -> anyhow::Result<()> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let missing: Vec<&str> = [
        "PUSHGATEWAY_URL",
        "PUSHGATEWAY_USERNAME",
        "PUSHGATEWAY_PASSWORD",
    ]
    .into_iter()
    .filter(|k| get(k).is_none())
    .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "PUSHGATEWAY_ENABLED is set but {} missing",
        missing.join(", ")
    );
    let url = get("PUSHGATEWAY_URL").unwrap_or_default();
    let user = get("PUSHGATEWAY_USERNAME").unwrap_or_default();
    let password = get("PUSHGATEWAY_PASSWORD").unwrap_or_default();
    push_to(&url, Some((&user, &password)), metrics, labels).await
}

/// PUT the last-run gauges to `<url>/metrics/job/qontract-reconcile/integration/<i>/shards/<s>/shard_id/<id>`.
pub async fn push_to(
    url: &str,
    basic_auth: Option<(&str, &str)>,
    metrics: &RunMetrics,
    labels: &RunLabels,
) -> anyhow::Result<()> {
    let target = format!(
        "{}/metrics/job/qontract-reconcile/integration/{}/shards/{}/shard_id/{}",
        url.trim_end_matches('/'),
        labels.integration,
        labels.shards,
        labels.shard_id
    );
    let body = metrics.encode_for_push();
    // The Pushgateway reads the classic text format; OpenMetrics' `# EOF` is a comment there.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut req = client
        .put(&target)
        .header(reqwest::header::CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(body);
    if let Some((u, p)) = basic_auth {
        req = req.basic_auth(u, Some(p));
    }
    let resp = req.send().await.with_context(|| format!("PUT {target}"))?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        anyhow::bail!("PUT {target}: HTTP {status}: {}", text.trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn settings_defaults_and_argv() {
        let s = DaemonSettings::from_env(env(&[
            ("INTEGRATION_NAME", "openshift-namespaces"),
            (
                "INTEGRATION_EXTRA_ARGS",
                "--cluster-name 'cluster 1' --thread-pool-size 3",
            ),
            ("DRY_RUN", "--dry-run"),
        ]))
        .unwrap();
        assert_eq!(s.config, "/config/config.toml");
        assert_eq!(s.sleep, Duration::from_secs(600));
        assert_eq!(s.sleep_on_error, Duration::from_secs(10));
        assert_eq!(s.prometheus_port, 9090);
        assert!(!s.run_once);
        let argv: Vec<String> = s
            .argv("qontract-reconcile")
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            argv,
            [
                "qontract-reconcile",
                "--config",
                "/config/config.toml",
                "--dry-run",
                "openshift-namespaces",
                "--cluster-name",
                "cluster 1",
                "--thread-pool-size",
                "3"
            ]
        );
    }

    #[test]
    fn integrations_manager_reads_manager_dry_run() {
        let s = DaemonSettings::from_env(env(&[
            ("INTEGRATION_NAME", "integrations-manager"),
            ("DRY_RUN", "--dry-run"),
            ("MANAGER_DRY_RUN", "--no-dry-run"),
        ]))
        .unwrap();
        assert_eq!(s.dry_run.as_deref(), Some("--no-dry-run"));
        let s = DaemonSettings::from_env(env(&[
            ("INTEGRATION_NAME", "openshift-resources"),
            ("DRY_RUN", "--dry-run"),
            ("MANAGER_DRY_RUN", "--no-dry-run"),
        ]))
        .unwrap();
        assert_eq!(s.dry_run.as_deref(), Some("--dry-run"));
    }

    #[test]
    fn settings_errors_are_explicit() {
        let e = DaemonSettings::from_env(env(&[])).unwrap_err();
        assert!(e.to_string().contains("INTEGRATION_NAME"));
        let e = DaemonSettings::from_env(env(&[("INTEGRATION_NAME", "x"), ("DRY_RUN", "yes")]))
            .unwrap_err();
        assert!(e.to_string().contains("DRY_RUN"), "{e}");
        let e = DaemonSettings::from_env(env(&[
            ("INTEGRATION_NAME", "x"),
            ("SLEEP_DURATION_SECS", "ten"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("SLEEP_DURATION_SECS"), "{e}");
        let e = DaemonSettings::from_env(env(&[
            ("INTEGRATION_NAME", "x"),
            ("INTEGRATION_EXTRA_ARGS", "--a 'b"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("INTEGRATION_EXTRA_ARGS"), "{e}");
    }
}
