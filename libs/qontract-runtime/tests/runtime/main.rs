//! The runtime end to end: flags, config, GraphQL client set-up, exit codes, --dump-schemas,
//! --detailed-exitcode, the daemon loop and its metrics, the extended early exit cache.

#[path = "../../../qontract-secrets/tests/support/services.rs"]
mod services;

mod extended_early_exit;
mod unleash;

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use clap::Args;
use qontract_gql::{GqlRequest, RetryPolicy};
use qontract_runtime::{Cli, ExitStatus, Integration, IntegrationSpec, RunContext, RunOutcome};
use qontract_test_support::FakeQontractServer;
use serde_json::{Value, json};

/// A test integration: queries clusters, then reports what its flags say.
struct Probe;

#[derive(Debug, Clone, Args)]
struct ProbeArgs {
    /// Changes to report
    #[arg(long, default_value_t = 0)]
    changes: usize,
    /// Errors to report
    #[arg(long)]
    error: Vec<String>,
}

impl Integration for Probe {
    type Args = ProbeArgs;
    const NAME: &'static str = "probe";
    const ABOUT: &'static str = "test integration";

    async fn run(ctx: RunContext, args: ProbeArgs) -> anyhow::Result<RunOutcome> {
        ctx.gql
            .query(&GqlRequest::new("{ clusters_v1 { name } }"))
            .await?;
        Ok(RunOutcome {
            changes: args.changes,
            errors: args.error,
        })
    }
}

const SHA: &str = "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70";

async fn server(
    allowed: &'static [&'static str],
    touched: &'static [&'static str],
) -> FakeQontractServer {
    FakeQontractServer::start(SHA, move |req: &Value| {
        if req["query"].as_str().unwrap_or_default().contains("integrations_v1") {
            (200, json!({"data": {"integrations": [{"name": "probe", "description": "", "schemas": allowed}]},
                         "extensions": {"schemas": ["/app-sre/integration-1.yml"]}}))
        } else {
            (200, json!({"data": {"clusters_v1": [{"name": "c1"}]}, "extensions": {"schemas": touched}}))
        }
    })
    .await
}

fn cli() -> Cli {
    let mut cli = Cli::new("qontract-reconcile", vec![IntegrationSpec::of::<Probe>()]);
    cli.retry = RetryPolicy {
        attempts: 2,
        backoff: Duration::from_millis(5),
    };
    cli
}

fn config(dir: &Path, url: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, format!("[graphql]\nserver = \"{url}\"\n")).unwrap();
    path.display().to_string()
}

async fn run(args: &[&str]) -> ExitStatus {
    let mut argv: Vec<OsString> = vec!["qontract-reconcile".into()];
    argv.extend(args.iter().map(OsString::from));
    cli().run_multi(argv).await
}

#[tokio::test]
async fn success_changes_and_errors_map_to_exit_codes() {
    let srv = server(&["/openshift/cluster-1.yml"], &["/openshift/cluster-1.yml"]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &srv.graphql_url());
    assert_eq!(run(&["--config", &cfg, "probe"]).await, ExitStatus::Success);
    assert_eq!(
        run(&["--config", &cfg, "--dry-run", "probe", "--changes", "3"]).await,
        ExitStatus::Success
    );
    assert_eq!(
        run(&[
            "--config",
            &cfg,
            "--dry-run",
            "--detailed-exitcode",
            "probe",
            "--changes",
            "3"
        ])
        .await,
        ExitStatus::ChangesPlanned
    );
    assert_eq!(
        run(&["--config", &cfg, "probe", "--detailed-exitcode"]).await,
        ExitStatus::Success
    );
    assert_eq!(
        run(&[
            "--config",
            &cfg,
            "--detailed-exitcode",
            "probe",
            "--changes",
            "1",
            "--error",
            "c1/ns/ConfigMap/x: boom"
        ])
        .await,
        ExitStatus::Error
    );
    assert_eq!(ExitStatus::ChangesPlanned.code(), 2);
}

#[tokio::test]
async fn integration_missing_from_app_interface_exits_4_unless_validation_is_off() {
    let srv = server(&[], &["/openshift/cluster-1.yml"]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &srv.graphql_url());
    let status = run(&["--config", &cfg, "probe"]).await;
    assert_eq!(status, ExitStatus::IntegrationNotFound);
    assert_eq!(status.code(), 4);
    assert_eq!(
        run(&["--config", &cfg, "--no-validate-schemas", "probe"]).await,
        ExitStatus::Success
    );
}

#[tokio::test]
async fn forbidden_schema_exits_5_and_dump_schemas_is_written_anyway() {
    let srv = server(
        &["/openshift/cluster-1.yml"],
        &["/openshift/cluster-1.yml", "/access/user-1.yml"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &srv.graphql_url());
    let dump = dir.path().join("schemas.json");
    let status = run(&[
        "--config",
        &cfg,
        "probe",
        "--dump-schemas",
        dump.to_str().unwrap(),
    ])
    .await;
    assert_eq!(status, ExitStatus::ForbiddenSchema);
    assert_eq!(status.code(), 5);
    let dumped: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    assert_eq!(
        dumped,
        [
            "/app-sre/integration-1.yml",
            "/openshift/cluster-1.yml",
            "/access/user-1.yml"
        ]
    );
    // The global flag may also come before the integration name.
    assert_eq!(
        run(&["--config", &cfg, "--no-validate-schemas", "probe"]).await,
        ExitStatus::Success
    );
}

#[tokio::test]
async fn pinned_run_queries_one_bundle_and_no_gql_sha_url_does_not() {
    let srv = server(&["/openshift/cluster-1.yml"], &["/openshift/cluster-1.yml"]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &srv.graphql_url());
    assert_eq!(run(&["--config", &cfg, "probe"]).await, ExitStatus::Success);
    assert!(
        srv.request_lines().iter().all(|l| l != "POST /graphql"),
        "{:?}",
        srv.request_lines()
    );
    let before = srv.request_lines().len();
    assert_eq!(
        run(&["--config", &cfg, "--no-gql-sha-url", "probe"]).await,
        ExitStatus::Success
    );
    let lines = srv.request_lines()[before..].to_vec();
    assert_eq!(lines, ["POST /graphql", "POST /graphql"]);
}

#[tokio::test]
async fn bad_config_and_usage_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(&["probe"]).await, ExitStatus::Error, "no config");
    let missing = dir.path().join("missing.toml");
    assert_eq!(
        run(&["--config", missing.to_str().unwrap(), "probe"]).await,
        ExitStatus::Error
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[graphql\n").unwrap();
    assert_eq!(
        run(&["--config", bad.to_str().unwrap(), "probe"]).await,
        ExitStatus::Error
    );
    // Nothing reached a server: a bad config fails before any query.
    let srv = server(&["/openshift/cluster-1.yml"], &[]).await;
    let cfg = config(dir.path(), &srv.graphql_url());
    // Usage errors exit 1, never 2 (which means "changes" with --detailed-exitcode).
    assert_eq!(
        run(&["--config", &cfg, "probe", "--no-such-flag"]).await,
        ExitStatus::Error
    );
    assert_eq!(
        run(&["--thread-pool-size", "0", "probe"]).await,
        ExitStatus::Error
    );
}

#[test]
fn help_lists_every_common_flag_with_its_env_var() {
    let help = cli().multi_command().render_long_help().to_string();
    for (flag, env) in [
        ("--config", "QONTRACT_CONFIG"),
        ("--dry-run", "QONTRACT_DRY_RUN"),
        ("--log-level", "QONTRACT_LOG_LEVEL"),
        ("--thread-pool-size", "QONTRACT_THREAD_POOL_SIZE"),
        ("--no-validate-schemas", "QONTRACT_NO_VALIDATE_SCHEMAS"),
        ("--no-gql-sha-url", "QONTRACT_NO_GQL_SHA_URL"),
        ("--dump-schemas", "QONTRACT_DUMP_SCHEMAS"),
        ("--early-exit-compare-sha", "EARLY_EXIT_COMPARE_SHA"),
        ("--check-only-affected-shards", "CHECK_ONLY_AFFECTED_SHARDS"),
        (
            "--enable-extended-early-exit",
            "QONTRACT_ENABLE_EXTENDED_EARLY_EXIT",
        ),
        (
            "--extended-early-exit-cache-ttl-seconds",
            "QONTRACT_EXTENDED_EARLY_EXIT_CACHE_TTL_SECONDS",
        ),
        ("--log-cached-log-output", "QONTRACT_LOG_CACHED_LOG_OUTPUT"),
        ("--state-dir", "QONTRACT_STATE_DIR"),
        ("--output", "QONTRACT_OUTPUT"),
        ("--detailed-exitcode", "QONTRACT_DETAILED_EXITCODE"),
        ("--log-format", "QONTRACT_LOG_FORMAT"),
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
        assert!(
            help.contains(&format!("[env: {env}=")),
            "{env} missing from --help"
        );
    }
    assert!(help.contains("probe"));
    assert!(help.contains("run-integration"));
    // The integration's own flags are listed in its help, next to the common ones.
    let mut cmd = cli().multi_command();
    cmd.build();
    let sub = cmd
        .find_subcommand_mut("probe")
        .unwrap()
        .render_long_help()
        .to_string();
    assert!(
        sub.contains("--changes") && sub.contains("--config"),
        "{sub}"
    );
}

#[tokio::test]
async fn daemon_runs_once_and_serves_metrics() {
    use qontract_runtime::daemon::{DaemonSettings, serve_metrics_on};
    use qontract_runtime::metrics::RunMetrics;
    let srv = server(&["/openshift/cluster-1.yml"], &["/openshift/cluster-1.yml"]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &srv.graphql_url());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env = |k: &str| -> Option<String> {
        match k {
            "INTEGRATION_NAME" => Some("probe".into()),
            "INTEGRATION_EXTRA_ARGS" => Some("--changes 2".into()),
            "CONFIG" => Some(cfg.clone()),
            "DRY_RUN" => Some("--dry-run".into()),
            "RUN_ONCE" => Some("1".into()),
            "PROMETHEUS_PORT" => Some(port.to_string()),
            "SHARDS" => Some("2".into()),
            "SHARD_ID" => Some("1".into()),
            _ => None,
        }
    };
    let settings = DaemonSettings::from_env(env).unwrap();
    let status = qontract_runtime::daemon::run(&cli(), settings).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(
        srv.request_lines()
            .iter()
            .any(|l| l.starts_with("POST /graphqlsha/"))
    );

    // Metrics exposition: names and labels of the Python tool.
    let metrics = RunMetrics::new();
    let labels = qontract_runtime::metrics::RunLabels {
        integration: "probe".into(),
        shards: "2".into(),
        shard_id: "1".into(),
    };
    metrics.execution_counter.get_or_create(&labels).inc();
    metrics.last_run_status.get_or_create(&labels).set(1);
    metrics.last_run_seconds.get_or_create(&labels).set(1.5);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(serve_metrics_on(metrics, listener));
    let body = reqwest_get(&format!("http://{addr}/metrics")).await;
    task.abort();
    for needle in [
        "qontract_reconcile_execution_counter_total{integration=\"probe\",shards=\"2\",shard_id=\"1\"} 1",
        "qontract_reconcile_last_run_status{integration=\"probe\",shards=\"2\",shard_id=\"1\"} 1",
        "qontract_reconcile_last_run_seconds{integration=\"probe\",shards=\"2\",shard_id=\"1\"} 1.5",
    ] {
        assert!(body.contains(needle), "missing {needle} in\n{body}");
    }
}

async fn reqwest_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_else(|| "/".into());
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

/// The last-run gauges are accepted by a real Prometheus Pushgateway, under the Python tool's
/// grouping key.
#[tokio::test]
async fn pushgateway_accepts_the_last_run_gauges() {
    use qontract_runtime::daemon::push_to;
    use qontract_runtime::metrics::{RunLabels, RunMetrics};
    let binary = "prometheus-pushgateway";
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = std::process::Command::new(binary)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{binary} not found ({e}); install it with `bash scripts/install-system-packages.sh`")
        });
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(child);
    let url = format!("http://127.0.0.1:{port}");
    // Wait until it listens (bounded).
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = RunMetrics::new();
    let labels = RunLabels {
        integration: "probe".into(),
        shards: "3".into(),
        shard_id: "2".into(),
    };
    metrics.last_run_status.get_or_create(&labels).set(1);
    metrics.last_run_seconds.get_or_create(&labels).set(2.5);
    push_to(&url, Some(("user", "password")), &metrics, &labels)
        .await
        .unwrap();
    let body = reqwest_get(&format!("{url}/metrics")).await;
    let line = body
        .lines()
        .find(|l| l.starts_with("qontract_reconcile_last_run_status{"))
        .unwrap_or_else(|| panic!("no last_run_status in\n{body}"));
    for label in [
        "integration=\"probe\"",
        "job=\"qontract-reconcile\"",
        "shard_id=\"2\"",
        "shards=\"3\"",
    ] {
        assert!(line.contains(label), "{label} missing: {line}");
    }
    assert!(line.ends_with(" 1"), "{line}");
    assert!(
        body.contains("qontract_reconcile_last_run_seconds{"),
        "{body}"
    );
    // The execution counter is not pushed (only the last-run gauges are, like upstream).
    assert!(
        !body.contains("qontract_reconcile_execution_counter"),
        "{body}"
    );
}

/// Metrics registered by libraries in the process registry (e.g. the OpenShift engine's
/// inventory gauge) are served by `/metrics` next to the run metrics, in one valid exposition.
#[test]
fn process_registry_metrics_are_served_with_the_run_metrics() {
    use prometheus_client::metrics::gauge::Gauge;
    let gauge = Gauge::<i64>::default();
    qontract_runtime::metrics::process_registry()
        .lock()
        .unwrap()
        .register(
            "qontract_reconcile_test_process_metric",
            "a library metric",
            gauge.clone(),
        );
    gauge.set(7);
    let metrics = qontract_runtime::metrics::RunMetrics::new();
    let labels = qontract_runtime::metrics::RunLabels {
        integration: "probe".into(),
        shards: "1".into(),
        shard_id: "0".into(),
    };
    metrics.last_run_seconds.get_or_create(&labels).set(0.5);
    let text = metrics.encode();
    assert!(
        text.contains("qontract_reconcile_test_process_metric 7"),
        "{text}"
    );
    assert!(
        text.contains("qontract_reconcile_last_run_seconds"),
        "{text}"
    );
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}
