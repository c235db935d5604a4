//! Extended early exit (`--enable-extended-early-exit`): the Python tool's TTL result cache
//! (`utils/early_exit_cache.py`, `utils/extended_early_exit.py`).
//!
//! Before a run, the integration's early-exit desired state (the *cache source*, see
//! [`crate::Integration::early_exit_desired_state`]) is hashed and looked up in the state store
//! (integration [`STATE_INTEGRATION`]). On a [`CacheStatus::Hit`] the run is skipped (exit 0),
//! optionally replaying the cached log lines (`--log-cached-log-output`). Otherwise the run
//! happens, its log lines are recorded, and its result is cached with a TTL of
//! `--extended-early-exit-cache-ttl-seconds`, or 0 when the run planned or made changes (so
//! the next run always executes and reconcile loops stay visible). A failed run (an error, or
//! errors in its outcome) caches nothing.
//!
//! Keys, below `state/early-exit-cache/`:
//!
//! * dry-run: `<integration>/<version>/dry-run[/<shard>]/<digest>`
//! * wet run: `<integration>/<version>/no-dry-run[/<shard>]/latest`
//!
//! `<integration>` has `_` replaced by `-`. `<shard>` is `<SHARD_ID>-of-<SHARDS>` when the
//! process is one of several static shards (`SHARDS` > 1) and absent otherwise: every shard
//! reconciles a different part of the desired state, so each needs its own entry.
//! The value is `{"applied_count", "log_output", "payload"}` (`payload` is always `null`: the
//! runtime's [`RunOutcome`] has no payload), with the metadata `expire-at` (epoch seconds),
//! `cache-source-digest` and `latest-cache-source-digest`.
//!
//! State store errors fail the run, as in the Python tool: a lookup error before the
//! integration runs, a write error after it (its changes stand; the exit code is 1). The
//! backend is resolved from the environment like `qontract-state` (`APP_INTERFACE_STATE_BUCKET`
//! ..., else the directory `--state-dir` / `QONTRACT_STATE_DIR`); the app-interface settings
//! `state` section is not read.
//!
//! Caveats, as upstream: the key has no place for key-based sharding flags (e.g.
//! `--cluster-name`) besides what the cache source itself contains, and dry-run entries (one
//! per distinct cache source) are never deleted by the runtime (expire them with a bucket
//! lifecycle rule).
//!
//! Differences from the Python tool: the digest is the SHA-256 of the Python JSON text of the
//! source with every list sorted ([`crate::early_exit::order_insensitive`]) rather than
//! deepdiff's `DeepHash`, so entries are not shared with the Python tool (same
//! order-insensitivity, different hex). The captured log output is the message (and
//! `key=value` fields) of every line printed during the run, like Python's default
//! `StreamHandler` format (`%(message)s`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use anyhow::Context as _;
use clap::ArgMatches;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use qontract_sharding::ShardConfig;
use qontract_state::{State, StateBackendConfig, StateError, StateSettingsSources};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use crate::cli::CommonArgs;
use crate::integration::{IntegrationSpec, RunContext, RunOutcome};
use crate::logging::LogCapture;
use crate::secrets::SecretsProvider;

/// State integration (key prefix `state/early-exit-cache/`) holding the cache.
pub const STATE_INTEGRATION: &str = "early-exit-cache";
/// Metadata: when the entry expires (epoch seconds).
pub const EXPIRE_AT_METADATA_KEY: &str = "expire-at";
/// Metadata: digest of the cache source of the entry.
pub const CACHE_SOURCE_DIGEST_METADATA_KEY: &str = "cache-source-digest";
/// Metadata: digest of the latest wet run's cache source when the entry was written.
pub const LATEST_CACHE_SOURCE_DIGEST_METADATA_KEY: &str = "latest-cache-source-digest";

/// What the cache holds for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheStatus {
    /// No entry (or, for a wet run, an entry of another cache source).
    Miss,
    /// A valid entry: the run is skipped.
    Hit,
    /// An entry past its `expire-at`.
    Expired,
    /// A dry-run entry written before the latest wet run of another cache source.
    Stale,
}

impl CacheStatus {
    /// The metric label / log spelling (`MISS`, `HIT`, `EXPIRED`, `STALE`).
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Miss => "MISS",
            CacheStatus::Hit => "HIT",
            CacheStatus::Expired => "EXPIRED",
            CacheStatus::Stale => "STALE",
        }
    }
}

impl std::fmt::Display for CacheStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The digest of a cache source: SHA-256 (hex) of its Python JSON text with every list sorted,
/// so it does not depend on list order or key order.
pub fn cache_source_digest(source: &Value) -> String {
    let text = qontract_pyjson::dumps_sorted(&crate::early_exit::order_insensitive(source));
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The shard part of the cache key: `<SHARD_ID>-of-<SHARDS>` when `SHARDS` > 1, else empty.
pub fn shard_label(shard: &ShardConfig) -> String {
    if shard.shards > 1 {
        format!("{}-of-{}", shard.shard_id, shard.shards)
    } else {
        String::new()
    }
}

/// Identifies one cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// Integration name, `_` replaced by `-`.
    pub integration: String,
    /// Integration version ([`crate::Integration::VERSION`]).
    pub integration_version: String,
    /// Dry-run or wet run.
    pub dry_run: bool,
    /// [`cache_source_digest`] of the cache source.
    pub cache_source_digest: String,
    /// Shard label (empty when unsharded), see [`shard_label`].
    pub shard: String,
}

impl CacheKey {
    /// The key of `integration` at `version` for `cache_source`.
    pub fn new(
        integration: &str,
        version: &str,
        dry_run: bool,
        cache_source: &Value,
        shard: &str,
    ) -> Self {
        Self {
            integration: integration.replace('_', "-"),
            integration_version: version.to_owned(),
            dry_run,
            cache_source_digest: cache_source_digest(cache_source),
            shard: shard.to_owned(),
        }
    }

    fn prefix(&self, mode: &str) -> String {
        let mut parts = vec![
            self.integration.as_str(),
            self.integration_version.as_str(),
            mode,
        ];
        if !self.shard.is_empty() {
            parts.push(self.shard.as_str());
        }
        parts.join("/")
    }

    /// `<integration>/<version>/dry-run[/<shard>]/<digest>`.
    pub fn dry_run_path(&self) -> String {
        format!("{}/{}", self.prefix("dry-run"), self.cache_source_digest)
    }

    /// `<integration>/<version>/no-dry-run[/<shard>]/latest`.
    pub fn no_dry_run_path(&self) -> String {
        format!("{}/latest", self.prefix("no-dry-run"))
    }

    /// The state key of this entry.
    pub fn path(&self) -> String {
        if self.dry_run {
            self.dry_run_path()
        } else {
            self.no_dry_run_path()
        }
    }

    /// The arguments that name this entry for deletion (`qontract-cli early-exit-cache delete`,
    /// the merge-request comment `/cache delete`).
    pub fn delete_args(&self) -> String {
        let mut args = format!(
            "--integration {} --integration-version {} {} --cache-source-digest {}",
            self.integration,
            self.integration_version,
            if self.dry_run {
                "--dry-run"
            } else {
                "--no-dry-run"
            },
            self.cache_source_digest
        );
        if !self.shard.is_empty() {
            args.push_str(&format!(" --shard {}", self.shard));
        }
        args
    }
}

impl std::fmt::Display for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// The cached result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheValue {
    /// Changes planned (dry-run) or made (wet run).
    pub applied_count: u64,
    /// The run's log lines, each ended by a newline.
    pub log_output: String,
    /// Integration-specific payload (always `null` here).
    pub payload: Value,
}

/// The outcome of [`EarlyExitCache::head`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheHead {
    /// The entry's status.
    pub status: CacheStatus,
    /// The cache-source digest of the latest wet run (empty if none), stored with the next
    /// write as `latest-cache-source-digest`.
    pub latest_cache_source_digest: String,
}

/// Status of an entry from its metadata (`None` = absent), at `now` (epoch seconds).
///
/// * wet run: MISS if absent or of another digest, EXPIRED if `now >= expire-at`, else HIT;
/// * dry run: MISS if absent, EXPIRED if `now >= expire-at`, STALE if its
///   `latest-cache-source-digest` differs from `latest_digest` (the wet `latest` entry's
///   digest), else HIT.
///
/// A missing or unreadable `expire-at` counts as expired.
pub fn cache_status(
    key: &CacheKey,
    entry: Option<&BTreeMap<String, String>>,
    latest_digest: &str,
    now: u64,
) -> CacheStatus {
    let Some(metadata) = entry else {
        return CacheStatus::Miss;
    };
    let get = |name: &str| metadata.get(name).map(String::as_str);
    if !key.dry_run && get(CACHE_SOURCE_DIGEST_METADATA_KEY) != Some(&key.cache_source_digest) {
        return CacheStatus::Miss;
    }
    let expire_at = get(EXPIRE_AT_METADATA_KEY).and_then(|v| v.trim().parse::<u64>().ok());
    if expire_at.is_none_or(|expire_at| now >= expire_at) {
        return CacheStatus::Expired;
    }
    if key.dry_run && get(LATEST_CACHE_SOURCE_DIGEST_METADATA_KEY).unwrap_or("") != latest_digest {
        return CacheStatus::Stale;
    }
    CacheStatus::Hit
}

/// The cache, on the state store.
#[derive(Debug, Clone)]
pub struct EarlyExitCache {
    state: State,
}

impl EarlyExitCache {
    /// Opens the cache (state integration [`STATE_INTEGRATION`]) on `backend`.
    pub async fn open(backend: &StateBackendConfig) -> Result<Self, StateError> {
        Ok(Self {
            state: State::open(STATE_INTEGRATION, backend).await?,
        })
    }

    /// The underlying state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The status of `key` at `now` (epoch seconds), see [`cache_status`].
    pub async fn head(&self, key: &CacheKey, now: u64) -> Result<CacheHead, StateError> {
        let latest = self.state.head(&key.no_dry_run_path()).await?;
        let latest_cache_source_digest = latest
            .as_ref()
            .and_then(|h| h.metadata.get(CACHE_SOURCE_DIGEST_METADATA_KEY).cloned())
            .unwrap_or_default();
        let entry = if key.dry_run {
            self.state.head(&key.dry_run_path()).await?
        } else {
            latest
        };
        let status = cache_status(
            key,
            entry.as_ref().map(|h| &h.metadata),
            &latest_cache_source_digest,
            now,
        );
        Ok(CacheHead {
            status,
            latest_cache_source_digest,
        })
    }

    /// The cached value of `key`, `None` if it is gone.
    pub async fn get(&self, key: &CacheKey) -> Result<Option<CacheValue>, StateError> {
        match self.state.get(&key.path()).await {
            Ok(value) => Ok(Some(value)),
            Err(StateError::KeyNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores `value` under `key`, expiring `ttl_seconds` after `now`.
    pub async fn set(
        &self,
        key: &CacheKey,
        value: &CacheValue,
        ttl_seconds: u64,
        latest_cache_source_digest: &str,
        now: u64,
    ) -> Result<(), StateError> {
        let metadata = BTreeMap::from([
            (
                EXPIRE_AT_METADATA_KEY.to_owned(),
                now.saturating_add(ttl_seconds).to_string(),
            ),
            (
                CACHE_SOURCE_DIGEST_METADATA_KEY.to_owned(),
                key.cache_source_digest.clone(),
            ),
            (
                LATEST_CACHE_SOURCE_DIGEST_METADATA_KEY.to_owned(),
                latest_cache_source_digest.to_owned(),
            ),
        ]);
        self.state
            .add_with_metadata(&key.path(), value, &metadata, true)
            .await
    }
}

/// Labels of the extended early exit metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExtendedEarlyExitLabels {
    /// Integration name (`_` replaced by `-`).
    pub integration: String,
    /// Integration version.
    pub integration_version: String,
    /// `"true"` / `"false"`.
    pub dry_run: String,
    /// `MISS`, `HIT`, `EXPIRED` or `STALE`.
    pub cache_status: String,
    /// Shard label (empty when unsharded).
    pub shard: String,
}

impl ExtendedEarlyExitLabels {
    /// The labels of `key` with `status`.
    pub fn new(key: &CacheKey, status: CacheStatus) -> Self {
        Self {
            integration: key.integration.clone(),
            integration_version: key.integration_version.clone(),
            dry_run: key.dry_run.to_string(),
            cache_status: status.as_str().to_owned(),
            shard: key.shard.clone(),
        }
    }
}

/// The process-wide extended early exit metrics; [`crate::metrics::RunMetrics`] registers
/// them, so the daemon serves them on `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct ExtendedEarlyExitMetrics {
    /// `qontract_reconcile_extended_early_exit` (exposed as `..._total`): lookups per status.
    pub counter: Family<ExtendedEarlyExitLabels, Counter>,
    /// `qontract_reconcile_extended_early_exit_applied_count`: changes of the last run
    /// (0 on a hit).
    pub applied_count: Family<ExtendedEarlyExitLabels, Gauge>,
}

impl ExtendedEarlyExitMetrics {
    /// Registers both metrics in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "qontract_reconcile_extended_early_exit",
            "Extended early exit cache lookups by status",
            self.counter.clone(),
        );
        registry.register(
            "qontract_reconcile_extended_early_exit_applied_count",
            "Changes applied (or planned) by the last run behind the extended early exit cache",
            self.applied_count.clone(),
        );
    }

    fn publish(&self, key: &CacheKey, status: CacheStatus, applied_count: u64) {
        let labels = ExtendedEarlyExitLabels::new(key, status);
        self.counter.get_or_create(&labels).inc();
        self.applied_count
            .get_or_create(&labels)
            .set(i64::try_from(applied_count).unwrap_or(i64::MAX));
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static ExtendedEarlyExitMetrics {
    static METRICS: LazyLock<ExtendedEarlyExitMetrics> = LazyLock::new(Default::default);
    &METRICS
}

/// Resolves the state backend of the cache like `qontract-state` does: `env` (the process
/// environment in production) for `APP_INTERFACE_STATE_BUCKET*` (or the filesystem directory
/// `fs_dir` / `QONTRACT_STATE_DIR`), with credential secrets read through the run's secret
/// reader (built only when a secret is named). The app-interface settings `state` section
/// (option 5 of the Python chain) is not read.
pub async fn resolve_backend(
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    secrets: &SecretsProvider,
    fs_dir: Option<PathBuf>,
) -> anyhow::Result<StateBackendConfig> {
    let set = |k: &str| env(k).is_some_and(|v| !v.trim().is_empty());
    let reader = if set(qontract_state::ENV_BUCKET) && set(qontract_state::ENV_VAULT_SECRET) {
        Some(secrets.reader().await.with_context(|| {
            format!(
                "extended early exit: cannot read the state credentials named by {}",
                qontract_state::ENV_VAULT_SECRET
            )
        })?)
    } else {
        None
    };
    qontract_state::resolve_state_backend(StateSettingsSources {
        env,
        secret_reader: reader.as_deref(),
        app_interface: None,
        fs_dir,
    })
    .await
    .context("extended early exit: no usable state store for the cache")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs `spec` behind the cache (the runner calls this with `--enable-extended-early-exit`).
/// `backend` overrides the state backend (tests, embedding); `None` resolves it from the
/// environment ([`resolve_backend`]).
pub(crate) async fn run(
    spec: &IntegrationSpec,
    common: &CommonArgs,
    matches: &ArgMatches,
    ctx: RunContext,
    backend: Option<&StateBackendConfig>,
) -> anyhow::Result<RunOutcome> {
    let source = match spec.early_exit_state(ctx.clone(), matches).await {
        Ok(Some(source)) => source,
        Ok(None) => {
            tracing::debug!(
                "extended early exit: {} has no early-exit desired state; running without the cache",
                spec.name
            );
            return spec.run(ctx, matches).await;
        }
        Err(e) => {
            tracing::warn!(
                "extended early exit: cannot compute the cache source of {}: {e:#}; running \
                 without the cache",
                spec.name
            );
            return spec.run(ctx, matches).await;
        }
    };
    let key = CacheKey::new(
        spec.name,
        spec.version,
        ctx.dry_run,
        &source,
        &shard_label(&ctx.shard),
    );
    let backend = match backend {
        Some(backend) => backend.clone(),
        None => {
            let env = |k: &str| std::env::var(k).ok();
            resolve_backend(&env, &ctx.secrets, common.state_dir.clone()).await?
        }
    };
    let cache = EarlyExitCache::open(&backend)
        .await
        .context("extended early exit: cannot open the cache")?;
    let head = cache
        .head(&key, now())
        .await
        .with_context(|| format!("extended early exit: cannot look up {key}"))?;
    if head.status == CacheStatus::Hit {
        match cache
            .get(&key)
            .await
            .with_context(|| format!("extended early exit: cannot read {key}"))?
        {
            Some(cached) => {
                tracing::info!(
                    "extended early exit: cache HIT for {key}; skipping the run of {}",
                    spec.name
                );
                if common.log_cached_log_output {
                    tracing::info!(
                        "showing the cached log output of {}; to delete this cache entry: \
                         qontract-cli early-exit-cache delete {} (or comment /cache delete on \
                         the merge request)",
                        spec.name,
                        key.delete_args()
                    );
                    for line in cached.log_output.lines() {
                        tracing::info!("{line}");
                    }
                }
                metrics().publish(&key, CacheStatus::Hit, 0);
                return Ok(RunOutcome::default());
            }
            None => tracing::info!(
                "extended early exit: {key} disappeared after its lookup; running {}",
                spec.name
            ),
        }
    }
    let status = match head.status {
        CacheStatus::Hit => CacheStatus::Miss,
        other => other,
    };
    tracing::info!(
        "extended early exit: cache {status} for {key}; running {}",
        spec.name
    );
    let capture = LogCapture::new();
    let result = spec.run(ctx, matches).instrument(capture.span()).await;
    let outcome = result?;
    if !outcome.errors.is_empty() {
        tracing::debug!(
            "extended early exit: {} reported errors; nothing cached for {key}",
            spec.name
        );
        return Ok(outcome);
    }
    let applied_count = outcome.changes as u64;
    let ttl = if applied_count > 0 {
        0
    } else {
        common.extended_early_exit_cache_ttl_seconds
    };
    let value = CacheValue {
        applied_count,
        log_output: capture.text(),
        payload: Value::Null,
    };
    cache
        .set(&key, &value, ttl, &head.latest_cache_source_digest, now())
        .await
        .with_context(|| format!("extended early exit: cannot write the result to {key}"))?;
    tracing::debug!(ttl, "extended early exit: cached the result in {key}");
    metrics().publish(&key, status, applied_count);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn keys_follow_the_python_layout() {
        let source = json!({"b": [2, 1], "a": "x"});
        let key = CacheKey::new("terraform_users", "0.1.0", true, &source, "");
        let digest = cache_source_digest(&json!({"a": "x", "b": [1, 2]}));
        assert_eq!(key.cache_source_digest, digest, "order-insensitive");
        assert_eq!(digest.len(), 64);
        assert_eq!(
            key.path(),
            format!("terraform-users/0.1.0/dry-run/{digest}")
        );
        assert_eq!(
            key.no_dry_run_path(),
            "terraform-users/0.1.0/no-dry-run/latest"
        );
        let wet = CacheKey::new("x", "1.2.3", false, &source, "1-of-3");
        assert_eq!(wet.path(), "x/1.2.3/no-dry-run/1-of-3/latest");
        assert_eq!(
            wet.delete_args(),
            format!(
                "--integration x --integration-version 1.2.3 --no-dry-run \
                 --cache-source-digest {digest} --shard 1-of-3"
            )
        );
        assert_ne!(digest, cache_source_digest(&json!({"a": "x", "b": [1, 3]})));
        assert_eq!(shard_label(&ShardConfig::default()), "");
        assert_eq!(
            shard_label(&ShardConfig {
                shards: 3,
                shard_id: 2
            }),
            "2-of-3"
        );
    }

    #[test]
    fn status_rules() {
        let wet = CacheKey::new("i", "1", false, &json!(1), "");
        let dry = CacheKey::new("i", "1", true, &json!(1), "");
        let d = wet.cache_source_digest.clone();
        let fresh = meta(&[
            ("expire-at", "100"),
            ("cache-source-digest", &d),
            ("latest-cache-source-digest", "L"),
        ]);
        assert_eq!(cache_status(&wet, None, "", 50), CacheStatus::Miss);
        assert_eq!(cache_status(&wet, Some(&fresh), "", 50), CacheStatus::Hit);
        assert_eq!(
            cache_status(&wet, Some(&fresh), "", 100),
            CacheStatus::Expired
        );
        let other = meta(&[("expire-at", "100"), ("cache-source-digest", "other")]);
        assert_eq!(cache_status(&wet, Some(&other), "", 50), CacheStatus::Miss);
        assert_eq!(cache_status(&dry, None, "L", 50), CacheStatus::Miss);
        assert_eq!(cache_status(&dry, Some(&fresh), "L", 50), CacheStatus::Hit);
        assert_eq!(
            cache_status(&dry, Some(&fresh), "M", 50),
            CacheStatus::Stale
        );
        assert_eq!(
            cache_status(&dry, Some(&fresh), "M", 101),
            CacheStatus::Expired
        );
        let broken = meta(&[("expire-at", "soon"), ("cache-source-digest", &d)]);
        assert_eq!(
            cache_status(&wet, Some(&broken), "", 0),
            CacheStatus::Expired
        );
    }
}
