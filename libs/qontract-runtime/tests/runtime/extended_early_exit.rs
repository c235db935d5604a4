//! Extended early exit (`--enable-extended-early-exit`): the TTL result cache in the state
//! store, on the filesystem backend (a temporary `--state-dir` per test) and on a real S3
//! server (moto).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use qontract_gql::RetryPolicy;
use qontract_runtime::extended_early_exit::{
    CacheKey, CacheValue, EarlyExitCache, STATE_INTEGRATION, resolve_backend,
};
use qontract_runtime::logging::{LogCapture, LogFormat, LogLevel};
use qontract_runtime::{
    Cli, ExitStatus, Integration, IntegrationSpec, RunContext, RunOutcome, SecretsProvider,
};
use qontract_state::{State, StateBackendConfig};
use qontract_test_support::FakeQontractServer;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::services::Moto;

/// A test integration with a cache source: counts its runs in `--counter`, logs one line, and
/// reports what its flags say.
struct CachedProbe;

#[derive(Debug, Clone, Args)]
struct CachedProbeArgs {
    /// File that gets one line per run
    #[arg(long)]
    counter: PathBuf,
    /// The desired state (cache source)
    #[arg(long, default_value = "a")]
    source: String,
    /// No cache source at all
    #[arg(long)]
    no_source: bool,
    /// Changes to report
    #[arg(long, default_value_t = 0)]
    changes: usize,
    /// Fail the run
    #[arg(long)]
    fail: bool,
    /// Errors to report
    #[arg(long)]
    error: Vec<String>,
}

impl Integration for CachedProbe {
    type Args = CachedProbeArgs;
    const NAME: &'static str = "cached_probe";
    const ABOUT: &'static str = "test integration with an early-exit desired state";
    const VERSION: &'static str = "1.2.3";

    async fn run(_ctx: RunContext, args: CachedProbeArgs) -> anyhow::Result<RunOutcome> {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.counter)?;
        writeln!(file, "run")?;
        tracing::info!(source = %args.source, "['apply', 'c1', 'ns', 'ConfigMap', 'x']");
        tracing::warn!("probe warning {}", args.changes);
        tracing::debug!("below the log level: never captured");
        anyhow::ensure!(!args.fail, "probe failed on purpose");
        Ok(RunOutcome {
            changes: args.changes,
            errors: args.error,
        })
    }

    async fn early_exit_desired_state(
        _ctx: RunContext,
        args: CachedProbeArgs,
    ) -> anyhow::Result<Option<Value>> {
        Ok((!args.no_source).then(|| json!({"namespaces": [args.source, "fixed"]})))
    }
}

const SHA: &str = "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70";

/// One test's world: a fake qontract-server, a config, a state directory, a run counter.
struct World {
    _server: FakeQontractServer,
    dir: tempfile::TempDir,
    config: String,
    cli: Cli,
}

impl World {
    async fn new() -> Self {
        let server = FakeQontractServer::start(SHA, |_req: &Value| {
            (
                200,
                json!({"data": {"clusters_v1": []}, "extensions": {"schemas": []}}),
            )
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!("[graphql]\nserver = \"{}\"\n", server.graphql_url()),
        )
        .unwrap();
        let mut cli = Cli::new(
            "qontract-reconcile",
            vec![IntegrationSpec::of::<CachedProbe>()],
        );
        cli.retry = RetryPolicy {
            attempts: 2,
            backoff: Duration::from_millis(5),
        };
        Self {
            _server: server,
            config: config.display().to_string(),
            dir,
            cli,
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn counter(&self) -> PathBuf {
        self.dir.path().join("runs.txt")
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.counter())
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }

    /// Runs `cached_probe` with the cache on: `common` go before the integration name, `args`
    /// after. Returns the exit status and every log line of the run.
    async fn run(&self, common: &[&str], args: &[&str]) -> (ExitStatus, Vec<String>) {
        let state_dir = self.state_dir().display().to_string();
        let counter = self.counter().display().to_string();
        let mut argv: Vec<OsString> = [
            "qontract-reconcile",
            "--config",
            self.config.as_str(),
            "--no-validate-schemas",
            "--enable-extended-early-exit",
            "--state-dir",
            state_dir.as_str(),
        ]
        .iter()
        .chain(common)
        .chain(&["cached_probe", "--counter", counter.as_str()])
        .chain(args)
        .map(OsString::from)
        .collect();
        argv.retain(|a| !a.is_empty());
        run_captured(&self.cli, argv).await
    }

    async fn state(&self) -> State {
        State::open(
            STATE_INTEGRATION,
            &StateBackendConfig::Fs {
                root: self.state_dir(),
            },
        )
        .await
        .unwrap()
    }
}

/// Runs `argv` inside a log capture (installing the runtime's subscriber first, so that the
/// capture span is live).
async fn run_captured(cli: &Cli, argv: Vec<OsString>) -> (ExitStatus, Vec<String>) {
    qontract_runtime::logging::init(LogLevel::Info, LogFormat::Human, false);
    let capture = LogCapture::new();
    let status = cli.run_multi(argv).instrument(capture.span()).await;
    (status, capture.lines())
}

fn key(dry_run: bool, source: &str) -> CacheKey {
    CacheKey::new(
        "cached_probe",
        "1.2.3",
        dry_run,
        &json!({"namespaces": ["fixed", source]}),
        "",
    )
}

fn status_line(lines: &[String]) -> String {
    lines
        .iter()
        .find(|l| l.starts_with("extended early exit: cache "))
        .cloned()
        .unwrap_or_else(|| panic!("no cache status line in {lines:#?}"))
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn metadata(state: &State, key: &str) -> BTreeMap<String, String> {
    state
        .head(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no cache entry {key}"))
        .metadata
}

#[tokio::test]
async fn miss_runs_and_caches_then_hit_skips_the_run() {
    let world = World::new().await;
    let key = key(true, "a");

    let (status, lines) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 1);
    assert_eq!(
        status_line(&lines),
        format!("extended early exit: cache MISS for {key}; running cached_probe")
    );

    // The stored entry: Python key layout, value and metadata.
    let state = world.state().await;
    assert_eq!(state.ls().await.unwrap(), [format!("/{}", key.path())]);
    let value: CacheValue = state.get(&key.path()).await.unwrap();
    let meta = metadata(&state, &key.path()).await;
    let expire_at: u64 = meta["expire-at"].parse().unwrap();
    let now = epoch_now();
    assert!(
        expire_at > now && expire_at <= now + 3600,
        "default TTL 3600 s: expire-at {expire_at}, now {now}"
    );
    insta::assert_json_snapshot!(
        "miss_entry",
        json!({"key": key.path(), "value": value, "metadata": meta}),
        {".metadata[\"expire-at\"]" => "[epoch]"}
    );

    // Written as the Python tool's json_dumps writes it (sorted keys, ", " / ": ").
    let raw = std::fs::read_to_string(
        world
            .state_dir()
            .join(format!("state/{STATE_INTEGRATION}/{}", key.path())),
    )
    .unwrap();
    assert_eq!(
        raw,
        r#"{"applied_count": 0, "log_output": "['apply', 'c1', 'ns', 'ConfigMap', 'x'] source=a\nprobe warning 0\n", "payload": null}"#
    );

    // HIT: the run is skipped, exit 0, and the cached log output is not replayed.
    let (status, lines) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 1, "a hit must not run the integration");
    assert!(
        lines.contains(&format!(
            "extended early exit: cache HIT for {key}; skipping the run of cached_probe"
        )),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("['apply'")),
        "replayed without --log-cached-log-output: {lines:#?}"
    );

    // Metrics: the daemon's registry exposes the counter and gauge with the Python labels.
    let exposition = qontract_runtime::metrics::RunMetrics::new().encode();
    for prefix in [
        "qontract_reconcile_extended_early_exit_total{integration=\"cached-probe\",integration_version=\"1.2.3\",dry_run=\"true\",cache_status=\"HIT\",shard=\"\"} ",
        "qontract_reconcile_extended_early_exit_applied_count{integration=\"cached-probe\",integration_version=\"1.2.3\",dry_run=\"true\",cache_status=\"MISS\",shard=\"\"} 0",
    ] {
        assert!(
            exposition.lines().any(|l| l.starts_with(prefix)),
            "missing {prefix} in\n{exposition}"
        );
    }
}

#[tokio::test]
async fn cached_log_output_is_replayed_only_when_asked() {
    let world = World::new().await;
    let key = key(true, "a");
    let (status, first) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    let run_lines: Vec<&String> = first
        .iter()
        .filter(|l| l.starts_with("['apply'") || l.starts_with("probe warning"))
        .collect();
    assert_eq!(
        run_lines,
        [
            "['apply', 'c1', 'ns', 'ConfigMap', 'x'] source=a",
            "probe warning 0"
        ]
    );

    let (status, plain) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(
        !plain.iter().any(|l| l.starts_with("['apply'")),
        "{plain:#?}"
    );

    let (status, replayed) = world
        .run(&["--dry-run", "--log-cached-log-output"], &[])
        .await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 1, "replaying must not run the integration");
    let hint = replayed
        .iter()
        .find(|l| l.starts_with("showing the cached log output"))
        .unwrap_or_else(|| panic!("no explanatory line in {replayed:#?}"));
    assert!(hint.contains(&key.delete_args()), "{hint}");
    let position = |needle: &str| replayed.iter().position(|l| l == needle);
    let apply = position("['apply', 'c1', 'ns', 'ConfigMap', 'x'] source=a")
        .unwrap_or_else(|| panic!("cached line not replayed: {replayed:#?}"));
    let warning = position("probe warning 0")
        .unwrap_or_else(|| panic!("cached line not replayed: {replayed:#?}"));
    assert!(apply < warning, "replayed in order: {replayed:#?}");
    assert!(
        !replayed.iter().any(|l| l.contains("never captured")),
        "{replayed:#?}"
    );
}

#[tokio::test]
async fn changes_are_cached_with_ttl_0_so_the_next_run_executes() {
    let world = World::new().await;
    let key = key(false, "a");
    let (status, lines) = world
        .run(&["--detailed-exitcode"], &["--changes", "2"])
        .await;
    assert_eq!(status, ExitStatus::ChangesPlanned);
    assert_eq!(world.runs(), 1);
    assert!(status_line(&lines).contains(" MISS "), "{lines:#?}");
    let state = world.state().await;
    let value: CacheValue = state.get(&key.path()).await.unwrap();
    assert_eq!(value.applied_count, 2);
    assert_eq!(value.payload, Value::Null);
    let meta = metadata(&state, &key.path()).await;
    let expire_at: u64 = meta["expire-at"].parse().unwrap();
    assert!(expire_at <= epoch_now(), "TTL 0 after changes: {meta:?}");
    assert_eq!(meta["cache-source-digest"], key.cache_source_digest);

    let (status, lines) = world
        .run(&["--detailed-exitcode"], &["--changes", "2"])
        .await;
    assert_eq!(status, ExitStatus::ChangesPlanned);
    assert_eq!(world.runs(), 2, "a result with changes is never a hit");
    assert!(status_line(&lines).contains(" EXPIRED "), "{lines:#?}");

    // Converged: cached with the TTL, the next run is skipped.
    assert_eq!(world.run(&[], &[]).await.0, ExitStatus::Success);
    assert_eq!(world.runs(), 3);
    let (status, lines) = world.run(&["--detailed-exitcode"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 3);
    assert!(status_line(&lines).contains(" HIT "), "{lines:#?}");
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let world = World::new().await;
    let key = key(true, "a");
    let ttl = ["--dry-run", "--extended-early-exit-cache-ttl-seconds", "1"];
    assert_eq!(world.run(&ttl, &[]).await.0, ExitStatus::Success);
    assert_eq!(world.runs(), 1);
    let state = world.state().await;
    let expire_at: u64 = metadata(&state, &key.path()).await["expire-at"]
        .parse()
        .unwrap();
    // Wait (bounded) until the entry's expiry has passed.
    for _ in 0..50 {
        if epoch_now() >= expire_at {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(epoch_now() >= expire_at);
    let (status, lines) = world.run(&ttl, &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 2, "an expired entry runs again");
    assert_eq!(
        status_line(&lines),
        format!("extended early exit: cache EXPIRED for {key}; running cached_probe")
    );
}

#[tokio::test]
async fn dry_run_entries_become_stale_after_a_wet_run_of_another_source() {
    let world = World::new().await;
    let dry_a = key(true, "a");
    let dry = ["--dry-run"];
    let source_b = ["--source", "b"];

    assert_eq!(world.run(&dry, &[]).await.0, ExitStatus::Success);
    assert_eq!(world.run(&dry, &[]).await.0, ExitStatus::Success);
    assert_eq!(world.runs(), 1, "MISS then HIT");

    // Production applies another desired state (b).
    let (status, lines) = world.run(&[], &source_b).await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 2);
    assert!(status_line(&lines).contains(" MISS "), "{lines:#?}");
    let state = world.state().await;
    let wet = metadata(&state, &key(false, "b").path()).await;
    assert_eq!(
        wet["cache-source-digest"],
        key(false, "b").cache_source_digest
    );
    assert_eq!(wet["latest-cache-source-digest"], "");

    // The dry-run entry of a predates it: STALE, runs again, and is re-cached against b.
    let (status, lines) = world.run(&dry, &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert_eq!(world.runs(), 3);
    assert_eq!(
        status_line(&lines),
        format!("extended early exit: cache STALE for {dry_a}; running cached_probe")
    );
    let entry = metadata(&state, &dry_a.path()).await;
    assert_eq!(
        entry["latest-cache-source-digest"],
        key(false, "b").cache_source_digest
    );
    assert_eq!(world.run(&dry, &[]).await.0, ExitStatus::Success);
    assert_eq!(world.runs(), 3, "HIT again");

    // The wet entry of b is a hit for b, a miss for another source.
    let (_, lines) = world.run(&[], &source_b).await;
    assert!(status_line(&lines).contains(" HIT "), "{lines:#?}");
    assert_eq!(world.runs(), 3);
    let (_, lines) = world.run(&[], &[]).await;
    assert!(status_line(&lines).contains(" MISS "), "{lines:#?}");
    assert_eq!(world.runs(), 4);
    let mut keys = state.ls().await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("/{}", dry_a.path()),
            format!("/{}", key(false, "a").no_dry_run_path()),
        ]
    );
}

#[tokio::test]
async fn failing_runs_cache_nothing() {
    let world = World::new().await;
    let (status, _) = world.run(&["--dry-run"], &["--fail"]).await;
    assert_eq!(status, ExitStatus::Error);
    let (status, _) = world
        .run(&["--dry-run"], &["--error", "c1/ns/ConfigMap/x: boom"])
        .await;
    assert_eq!(status, ExitStatus::Error);
    assert_eq!(world.runs(), 2);
    assert!(world.state().await.ls().await.unwrap().is_empty());
    // The next successful run is a MISS (nothing was cached).
    let (status, lines) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(status_line(&lines).contains(" MISS "), "{lines:#?}");
    assert_eq!(world.runs(), 3);
}

#[tokio::test]
async fn integrations_without_a_cache_source_always_run() {
    let world = World::new().await;
    for expected in 1..=2 {
        let (status, lines) = world.run(&["--dry-run"], &["--no-source"]).await;
        assert_eq!(status, ExitStatus::Success);
        assert_eq!(world.runs(), expected);
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("extended early exit: cache ")),
            "{lines:#?}"
        );
    }
    assert!(world.state().await.ls().await.unwrap().is_empty());
}

/// The state backend resolved from the environment, with the credentials read through the run's
/// secret reader, on a real S3 server: MISS, then HIT.
#[tokio::test]
async fn s3_state_store_with_credentials_from_the_secret_reader() {
    let moto = Moto::start().await;
    let bucket = "qontract-early-exit-test";
    moto.create_bucket(bucket).await;
    let env: BTreeMap<&str, String> = BTreeMap::from([
        ("APP_INTERFACE_STATE_BUCKET", bucket.to_owned()),
        ("APP_INTERFACE_STATE_BUCKET_REGION", "us-east-1".to_owned()),
        (
            "APP_INTERFACE_STATE_VAULT_SECRET",
            "app-sre/state/creds".to_owned(),
        ),
        ("APP_INTERFACE_STATE_BUCKET_ENDPOINT", moto.url.clone()),
    ]);
    let lookup = move |k: &str| env.get(k).cloned();
    let reader = qontract_secrets::ConfigSecretReader::from_toml_str(
        "[app-sre.state.creds]\naws_access_key_id = \"testing\"\naws_secret_access_key = \"testing\"\n",
        "test secrets",
    )
    .unwrap();
    let secrets = SecretsProvider::with_reader(Arc::new(reader));
    let backend = resolve_backend(&lookup, &secrets, None).await.unwrap();
    let StateBackendConfig::S3(s3) = &backend else {
        panic!("expected the S3 backend, got {backend:?}");
    };
    assert_eq!(s3.access_key_id, "testing");
    assert_eq!(s3.bucket, bucket);

    let mut world = World::new().await;
    world.cli.state_backend = Some(backend.clone());
    let key = key(true, "a");
    let (status, lines) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(status_line(&lines).contains(" MISS "), "{lines:#?}");
    let (status, lines) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(status_line(&lines).contains(" HIT "), "{lines:#?}");
    assert_eq!(world.runs(), 1);
    assert!(
        !world.state_dir().exists(),
        "the filesystem store must not be used"
    );

    // The entry is in the bucket, with its metadata as S3 user metadata.
    let cache = EarlyExitCache::open(&backend).await.unwrap();
    let meta = metadata(cache.state(), &key.path()).await;
    assert_eq!(meta["cache-source-digest"], key.cache_source_digest);
    assert!(meta.contains_key("expire-at"), "{meta:?}");
    let value = cache.get(&key).await.unwrap().unwrap();
    assert_eq!(value.applied_count, 0);
    assert!(
        value
            .log_output
            .contains("['apply', 'c1', 'ns', 'ConfigMap', 'x'] source=a\n"),
        "{}",
        value.log_output
    );
}

/// A state store that cannot be reached fails the run before the integration runs, naming the
/// store.
#[tokio::test]
async fn unreachable_state_store_fails_the_run() {
    let mut world = World::new().await;
    let closed = format!("http://127.0.0.1:{}", crate::services::free_port());
    world.cli.state_backend = Some(StateBackendConfig::S3(qontract_state::S3Settings {
        bucket: "b".into(),
        region: "us-east-1".into(),
        endpoint: Some(closed),
        access_key_id: "testing".into(),
        secret_access_key: qontract_secrets::Secret::new("testing"),
        source: "test".into(),
    }));
    let (status, lines) = world.run(&["--dry-run"], &[]).await;
    assert_eq!(status, ExitStatus::Error);
    assert_eq!(world.runs(), 0, "nothing runs without the cache");
    assert!(
        lines.iter().any(|l| l.starts_with(
            "cached_probe: extended early exit: cannot open the cache: state store \
             s3://b/state/early-exit-cache (region us-east-1, endpoint http://127.0.0.1:"
        )),
        "{lines:#?}"
    );
}
