//! Flags every integration accepts (the Python tool's group options plus the common
//! per-command options), each with an environment variable.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::logging::{LogFormat, LogLevel};

/// Default of `--thread-pool-size`, like the Python tool.
pub const DEFAULT_THREAD_POOL_SIZE: usize = 10;

/// `--output`: how plans and results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// A human-readable table.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Flags shared by every integration. In the multi-call binary they are global: they may be
/// given before or after the integration name.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// config.toml to read ([graphql], [vault], secret tables)
    #[arg(long, env = "QONTRACT_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Embedded mode: bundle this app-interface checkout (data/, resources/) in memory and
    /// run queries in-process, without a qontract-server
    #[arg(
        long,
        env = "QONTRACT_APP_INTERFACE",
        value_name = "DIR",
        global = true
    )]
    pub app_interface: Option<PathBuf>,

    /// Conf-format GraphQL schema for --app-interface (default:
    /// DIR/graphql-schemas/schema.yml)
    #[arg(
        long,
        env = "QONTRACT_GRAPHQL_SCHEMA",
        value_name = "FILE",
        global = true
    )]
    pub graphql_schema: Option<PathBuf>,

    /// Plan only: print what would change and make no writes
    #[arg(
        long,
        env = "QONTRACT_DRY_RUN",
        global = true,
        overrides_with = "no_dry_run"
    )]
    pub dry_run: bool,

    /// Apply changes (the default; overrides an earlier --dry-run)
    #[arg(
        long,
        global = true,
        overrides_with = "dry_run",
        hide_short_help = true
    )]
    pub no_dry_run: bool,

    /// Log level
    #[arg(
        long,
        env = "QONTRACT_LOG_LEVEL",
        value_enum,
        ignore_case = true,
        global = true
    )]
    pub log_level: Option<LogLevel>,

    /// Log format on stderr
    #[arg(
        long,
        env = "QONTRACT_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub log_format: LogFormat,

    /// Maximum number of concurrent requests to external systems
    #[arg(
        long,
        env = "QONTRACT_THREAD_POOL_SIZE",
        default_value_t = DEFAULT_THREAD_POOL_SIZE,
        value_parser = parse_pool_size,
        global = true
    )]
    pub thread_pool_size: usize,

    /// Do not check that queries only touch the schemas listed in the integration's
    /// app-interface entry (checked by default; exit code 5 on violation)
    #[arg(
        long,
        env = "QONTRACT_NO_VALIDATE_SCHEMAS",
        global = true,
        overrides_with = "validate_schemas"
    )]
    pub no_validate_schemas: bool,

    /// Check queried schemas against the integration's allow-list (the default)
    #[arg(
        long,
        global = true,
        overrides_with = "no_validate_schemas",
        hide_short_help = true
    )]
    pub validate_schemas: bool,

    /// Query the configured /graphql URL instead of pinning the run to the current bundle
    /// (/graphqlsha/<sha>, the default)
    #[arg(
        long,
        env = "QONTRACT_NO_GQL_SHA_URL",
        global = true,
        overrides_with = "gql_sha_url"
    )]
    pub no_gql_sha_url: bool,

    /// Pin every query of the run to the bundle current at start (the default)
    #[arg(
        long,
        global = true,
        overrides_with = "no_gql_sha_url",
        hide_short_help = true
    )]
    pub gql_sha_url: bool,

    /// On exit, write the JSON list of every schema the run queried to FILE
    #[arg(
        long,
        env = "QONTRACT_DUMP_SCHEMAS",
        value_name = "FILE",
        global = true
    )]
    pub dump_schemas: Option<PathBuf>,

    /// Dry-run only: exit early (0) when the integration's desired state in the current bundle
    /// equals the one in bundle SHA (merge-request checks)
    #[arg(
        long,
        env = "EARLY_EXIT_COMPARE_SHA",
        value_name = "SHA",
        global = true
    )]
    pub early_exit_compare_sha: Option<String>,

    /// Dry-run only, with --early-exit-compare-sha: dry-run only the shards (clusters) whose
    /// desired state changed, when the integration supports it and few enough are affected
    #[arg(long, env = "CHECK_ONLY_AFFECTED_SHARDS", global = true)]
    pub check_only_affected_shards: bool,

    /// Skip the run when its inputs (the integration's early-exit desired state) are unchanged
    /// and the cached result is younger than the TTL; the cache lives in the state store
    /// (APP_INTERFACE_STATE_BUCKET..., else the --state-dir directory)
    #[arg(long, env = "QONTRACT_ENABLE_EXTENDED_EARLY_EXIT", global = true)]
    pub enable_extended_early_exit: bool,

    /// TTL of the extended early exit cache (a run that planned or made changes is cached
    /// with TTL 0)
    #[arg(
        long,
        env = "QONTRACT_EXTENDED_EARLY_EXIT_CACHE_TTL_SECONDS",
        default_value_t = 3600,
        value_name = "SECONDS",
        global = true
    )]
    pub extended_early_exit_cache_ttl_seconds: u64,

    /// On an extended early exit cache hit, replay the cached run's log output
    #[arg(long, env = "QONTRACT_LOG_CACHED_LOG_OUTPUT", global = true)]
    pub log_cached_log_output: bool,

    /// Directory of the filesystem state store, used when no state bucket is configured
    /// (APP_INTERFACE_STATE_BUCKET unset); default .qontract-state
    #[arg(long, env = "QONTRACT_STATE_DIR", value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,

    /// Format of the plan printed on stdout
    #[arg(
        long,
        env = "QONTRACT_OUTPUT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub output: OutputFormat,

    /// Exit 2 when the run planned (or made) changes, 0 when there was nothing to do, 1 on error
    #[arg(long, env = "QONTRACT_DETAILED_EXITCODE", global = true)]
    pub detailed_exitcode: bool,
}

impl CommonArgs {
    /// Whether schema validation is on.
    pub fn validate_schemas(&self) -> bool {
        !self.no_validate_schemas
    }

    /// Whether the run is pinned to one bundle sha.
    pub fn gql_sha_url(&self) -> bool {
        !self.no_gql_sha_url
    }

    /// Flags given where they have no effect (as upstream, they are ignored there — but said
    /// so, never silently): the runner logs each of these as a warning.
    pub fn ineffective_flags(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.early_exit_compare_sha.is_some() && !self.dry_run {
            out.push("--early-exit-compare-sha only applies to --dry-run runs; ignored");
        }
        if self.check_only_affected_shards && self.early_exit_compare_sha.is_none() {
            out.push("--check-only-affected-shards needs --early-exit-compare-sha; ignored");
        }
        out
    }
}

fn parse_pool_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}
