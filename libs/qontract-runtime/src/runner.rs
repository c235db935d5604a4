//! From argv to exit code: parse flags, load config, connect the GraphQL client, run the
//! integration, print the outcome, map it to an exit code.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{ArgMatches, Args, Command, FromArgMatches};
use qontract_config::Config;
use qontract_gql::{ClientOptions, GqlClient, GqlTransport, HttpTransport, RetryPolicy};
use qontract_graphql_executor::EmbeddedTransport;

use crate::cli::CommonArgs;
use crate::exit::ExitStatus;
use crate::integration::{IntegrationSpec, RunContext, RunOutcome};
use crate::logging::{self, LogLevel};

/// Builds the GraphQL transport for embedded mode (`[graphql] bundle = ...`); provided by the
/// binary that links the embedded executor.
pub type EmbeddedTransportFactory = fn(&Config) -> anyhow::Result<Arc<dyn GqlTransport>>;

/// A subcommand of the multi-call binary that is not an integration (e.g. `explain`): it
/// gets its parsed arguments and returns the exit status itself.
#[derive(Clone, Copy)]
pub struct ToolSpec {
    /// Subcommand name.
    pub name: &'static str,
    /// The clap command (name, about, arguments).
    pub command: fn() -> Command,
    /// Run it.
    pub run: fn(ArgMatches) -> futures::future::BoxFuture<'static, ExitStatus>,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .finish()
    }
}

/// The set of integrations a binary links, and how it was invoked.
#[derive(Debug, Clone)]
pub struct Cli {
    /// Binary name for `--help`.
    pub bin_name: &'static str,
    /// Linked integrations.
    pub integrations: Vec<IntegrationSpec>,
    /// Embedded-mode transport, when the binary links the executor.
    pub embedded: Option<EmbeddedTransportFactory>,
    /// Retry policy of the GraphQL client (tests shorten it).
    pub retry: RetryPolicy,
    /// Non-integration subcommands.
    pub tools: Vec<ToolSpec>,
    /// State store of the extended early exit cache; `None` (the default) resolves it from the
    /// environment like `qontract-state` (tests and embedders set it).
    pub state_backend: Option<qontract_state::StateBackendConfig>,
    /// Where the Unleash kill switch is (default: `UNLEASH_API_URL` /
    /// `UNLEASH_CLIENT_ACCESS_TOKEN`); see [`crate::unleash`].
    pub unleash: crate::unleash::UnleashSource,
    /// The Unleash client, with the toggles fetched last (kept across the daemon's runs).
    pub unleash_client: crate::unleash::UnleashClient,
}

/// Result of comparing the desired state of two bundles.
enum Comparison {
    /// Same desired state: exit early.
    Unchanged,
    /// Different desired states (kept to find the affected shards).
    Changed {
        before: serde_json::Value,
        after: serde_json::Value,
    },
    /// Could not compare: full run.
    Unknown,
}

/// Name of the daemon subcommand / link (the Python tool's container entrypoint).
pub const DAEMON_COMMAND: &str = "run-integration";

impl Cli {
    /// A CLI for `integrations`.
    pub fn new(bin_name: &'static str, integrations: Vec<IntegrationSpec>) -> Self {
        Self {
            bin_name,
            integrations,
            embedded: None,
            retry: RetryPolicy::default(),
            tools: Vec::new(),
            state_backend: None,
            unleash: crate::unleash::UnleashSource::default(),
            unleash_client: crate::unleash::UnleashClient::new(),
        }
    }

    /// The clap command of the multi-call binary: one subcommand per integration.
    pub fn multi_command(&self) -> Command {
        let mut cmd = CommonArgs::augment_args(
            Command::new(self.bin_name)
                .about("Reconcile app-interface's desired state with the systems it describes")
                .version(env!("CARGO_PKG_VERSION"))
                .subcommand_required(true)
                .arg_required_else_help(true),
        );
        for spec in &self.integrations {
            // `about` after the args: their derive would set the args struct's doc as the about.
            cmd = cmd.subcommand(spec.augment_args(Command::new(spec.name)).about(spec.about));
        }
        for tool in &self.tools {
            cmd = cmd.subcommand((tool.command)().name(tool.name));
        }
        cmd.subcommand(Command::new(DAEMON_COMMAND).about(
            "Run an integration in a loop as a container entrypoint, configured by environment \
             (INTEGRATION_NAME, INTEGRATION_EXTRA_ARGS, CONFIG, DRY_RUN, RUN_ONCE, \
             SLEEP_DURATION_SECS, SLEEP_ON_ERROR, PROMETHEUS_PORT, PUSHGATEWAY_*, \
             UNLEASH_API_URL, UNLEASH_CLIENT_ACCESS_TOKEN)",
        ))
    }

    /// The clap command of a single-integration binary.
    pub fn single_command(spec: &IntegrationSpec) -> Command {
        // `about` last: `CommonArgs::augment_args` would set its own doc comment as the about.
        CommonArgs::augment_args(
            spec.augment_args(Command::new(spec.name).version(env!("CARGO_PKG_VERSION"))),
        )
        .about(spec.about)
    }

    /// `main` of a binary: dispatch on argv[0] (a link named after an integration, or
    /// `run-integration`), otherwise the multi-call CLI.
    pub fn main(&self) -> ExitCode {
        let argv: Vec<OsString> = std::env::args_os().collect();
        let invoked_as = argv
            .first()
            .and_then(|a| Path::new(a).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("cannot start the async runtime: {e}");
                return ExitStatus::Error.into();
            }
        };
        let status = runtime.block_on(async {
            if invoked_as == DAEMON_COMMAND {
                crate::daemon::run_from_env(self).await
            } else if let Some(spec) = self.integrations.iter().find(|s| s.name == invoked_as) {
                self.run_single(spec, argv).await
            } else {
                self.run_multi(argv).await
            }
        });
        status.into()
    }

    /// Run the multi-call CLI with `argv` (argv\[0\] included) in-process.
    pub async fn run_multi(&self, argv: Vec<OsString>) -> ExitStatus {
        let matches = match self.multi_command().try_get_matches_from(argv) {
            Ok(m) => m,
            Err(e) => return clap_exit(e),
        };
        let Some((name, sub)) = matches.subcommand() else {
            return ExitStatus::Error;
        };
        if name == DAEMON_COMMAND {
            return Box::pin(crate::daemon::run_from_env(self)).await;
        }
        if let Some(tool) = self.tools.iter().find(|t| t.name == name) {
            return (tool.run)(sub.clone()).await;
        }
        let Some(spec) = self.integrations.iter().find(|s| s.name == name) else {
            eprintln!("unknown integration {name:?}");
            return ExitStatus::Error;
        };
        self.run_parsed(spec, sub).await
    }

    /// Run a single-integration CLI with `argv` in-process.
    pub async fn run_single(&self, spec: &IntegrationSpec, argv: Vec<OsString>) -> ExitStatus {
        match Self::single_command(spec).try_get_matches_from(argv) {
            Ok(m) => self.run_parsed(spec, &m).await,
            Err(e) => clap_exit(e),
        }
    }

    async fn run_parsed(&self, spec: &IntegrationSpec, matches: &ArgMatches) -> ExitStatus {
        let common = match CommonArgs::from_arg_matches(matches) {
            Ok(c) => c,
            Err(e) => return clap_exit(e),
        };
        let level = common
            .log_level
            .or_else(|| {
                std::env::var("LOG_LEVEL")
                    .ok()
                    .and_then(|l| LogLevel::parse(&l))
            })
            .unwrap_or(LogLevel::Info);
        logging::init(level, common.log_format, common.dry_run);

        let mut gql_for_dump: Option<Arc<GqlClient>> = None;
        let result = self
            .run_once(spec, &common, matches, &mut gql_for_dump)
            .await;
        if let Some(path) = &common.dump_schemas {
            let schemas = gql_for_dump
                .map(|g| g.queried_schemas())
                .unwrap_or_default();
            if let Err(e) = write_schemas(path, &schemas) {
                tracing::error!("{e:#}");
            }
        }
        match result {
            Ok(outcome) => {
                for error in &outcome.errors {
                    tracing::error!("{error}");
                }
                if !outcome.errors.is_empty() {
                    eprintln!(
                        "{}: {} error(s), {} change(s) {}",
                        spec.name,
                        outcome.errors.len(),
                        outcome.changes,
                        if common.dry_run { "planned" } else { "made" }
                    );
                    ExitStatus::Error
                } else if common.detailed_exitcode && outcome.changes > 0 {
                    ExitStatus::ChangesPlanned
                } else {
                    ExitStatus::Success
                }
            }
            Err(e) => {
                let status = ExitStatus::from_error(&e);
                tracing::error!("{}: {e:#}", spec.name);
                status
            }
        }
    }

    async fn run_once(
        &self,
        spec: &IntegrationSpec,
        common: &CommonArgs,
        matches: &ArgMatches,
        gql_out: &mut Option<Arc<GqlClient>>,
    ) -> anyhow::Result<RunOutcome> {
        for warning in common.ineffective_flags() {
            tracing::warn!("{warning}");
        }
        let shard = qontract_sharding::ShardConfig::from_env()
            .context("invalid sharding environment (SHARDS / SHARD_ID)")?;
        let config = match common.config.as_deref() {
            Some(path) => Arc::new(Config::load(path)?),
            // Embedded runs of a data directory need no config.toml.
            None if common.app_interface.is_some() => Arc::new(Config::default()),
            None => anyhow::bail!(
                "no config file: pass --config FILE or set QONTRACT_CONFIG (see README: config.toml)"
            ),
        };
        // The kill switch, checked before the run touches anything (upstream
        // `run_class_integration` → `get_feature_toggle_state(integration.name)`).
        if !self.integration_enabled(spec.name).await {
            tracing::info!(
                "Integration toggle is disabled, skipping integration. (Unleash feature toggle {:?})",
                spec.name
            );
            return Ok(RunOutcome::default());
        }
        let transport = self.transport(&config, common)?;
        let options = ClientOptions {
            integration: Some(spec.name.to_owned()),
            validate_schemas: common.validate_schemas(),
            pin_sha: common.gql_sha_url(),
            retry: self.retry,
            fixed_sha: None,
        };
        let gql = Arc::new(
            GqlClient::connect(transport.clone(), options)
                .await
                .with_context(|| format!("cannot start {}", spec.name))?,
        );
        *gql_out = Some(gql.clone());
        if !common.dry_run {
            tracing::info!("using gql endpoint {}", gql.endpoint());
        }
        let context = |gql: Arc<GqlClient>| RunContext {
            integration: spec.name,
            dry_run: common.dry_run,
            thread_pool_size: common.thread_pool_size,
            output: common.output,
            secrets: Arc::new(crate::secrets::SecretsProvider::new(
                config.clone(),
                gql.clone(),
            )),
            config: config.clone(),
            gql,
            shard,
        };
        if common.dry_run
            && let Some(compare_sha) = &common.early_exit_compare_sha
        {
            let current = context(gql.clone());
            match self
                .compare_with_bundle(spec, matches, &transport, compare_sha, &current)
                .await
            {
                Comparison::Unchanged => {
                    tracing::info!("No changes in desired state. Exit PR check early.");
                    return Ok(RunOutcome::default());
                }
                Comparison::Changed { before, after } if common.check_only_affected_shards => {
                    if let Some(outcome) = self
                        .run_affected_shards(spec, matches, &current, &before, &after)
                        .await
                    {
                        return outcome;
                    }
                }
                Comparison::Changed { .. } | Comparison::Unknown => {}
            }
        }
        if common.enable_extended_early_exit {
            return crate::extended_early_exit::run(
                spec,
                common,
                matches,
                context(gql),
                self.state_backend.as_ref(),
            )
            .await;
        }
        spec.run(context(gql), matches).await
    }

    /// The integration's Unleash toggle (enabled when no Unleash is configured).
    pub async fn integration_enabled(&self, name: &str) -> bool {
        let settings = self.unleash.settings();
        self.unleash_client
            .feature_toggle_state(
                settings.as_ref(),
                name,
                &crate::unleash::Context::new(),
                true,
            )
            .await
    }

    /// Early exit of merge-request checks: compare the integration's desired state computed
    /// from the bundle `compare_sha` (the target branch) with the one of the current bundle.
    /// Any failure (the bundle is gone, the integration has no early-exit state) means a full
    /// run.
    async fn compare_with_bundle(
        &self,
        spec: &IntegrationSpec,
        matches: &ArgMatches,
        transport: &Arc<dyn GqlTransport>,
        compare_sha: &str,
        current: &RunContext,
    ) -> Comparison {
        let options = ClientOptions {
            integration: Some(spec.name.to_owned()),
            validate_schemas: false,
            pin_sha: false,
            retry: self.retry,
            fixed_sha: Some(compare_sha.to_owned()),
        };
        let previous = match GqlClient::connect(transport.clone(), options).await {
            Ok(gql) => RunContext {
                gql: Arc::new(gql),
                ..current.clone()
            },
            Err(e) => {
                tracing::warn!("early exit: cannot query bundle {compare_sha}: {e}; full run");
                return Comparison::Unknown;
            }
        };
        let before = spec.early_exit_state(previous, matches).await;
        let after = spec.early_exit_state(current.clone(), matches).await;
        match (before, after) {
            (Ok(Some(before)), Ok(Some(after))) => {
                if crate::early_exit::same_desired_state(&before, &after) {
                    Comparison::Unchanged
                } else {
                    tracing::info!("early exit: desired state changed since {compare_sha}");
                    Comparison::Changed { before, after }
                }
            }
            (Ok(None), _) | (_, Ok(None)) => {
                tracing::info!(
                    "early exit: {} has no early-exit desired state; full run",
                    spec.name
                );
                Comparison::Unknown
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("early exit: cannot compute the desired state: {e:#}; full run");
                Comparison::Unknown
            }
        }
    }

    /// `--check-only-affected-shards`: dry-run each affected shard on its own (outcomes
    /// combined), or `None` for a full run (no shard config, no shard or too many affected).
    async fn run_affected_shards(
        &self,
        spec: &IntegrationSpec,
        matches: &ArgMatches,
        ctx: &RunContext,
        before: &serde_json::Value,
        after: &serde_json::Value,
    ) -> Option<anyhow::Result<RunOutcome>> {
        let config = spec.shard_config()?;
        let shards = crate::early_exit::affected_shards(before, after)?;
        if shards.is_empty() || shards.len() > config.max_shards {
            tracing::info!(
                "affected shards: {} (limit {}); full run",
                shards.len(),
                config.max_shards
            );
            return None;
        }
        tracing::info!("affected shards: {}; running only those", shards.join(", "));
        let mut combined = RunOutcome::default();
        for shard in shards {
            match spec.run_shard(ctx.clone(), matches, shard.clone()).await {
                Ok(outcome) => {
                    combined.changes += outcome.changes;
                    combined.errors.extend(
                        outcome
                            .errors
                            .into_iter()
                            .map(|e| format!("shard {shard}: {e}")),
                    );
                }
                Err(e) => return Some(Err(e.context(format!("shard {shard}")))),
            }
        }
        Some(Ok(combined))
    }

    fn transport(
        &self,
        config: &Config,
        common: &CommonArgs,
    ) -> anyhow::Result<Arc<dyn GqlTransport>> {
        let graphql = &config.graphql;
        let app_interface = common
            .app_interface
            .clone()
            .or_else(|| graphql.app_interface.clone());
        if let Some(dir) = app_interface {
            let schema = common
                .graphql_schema
                .clone()
                .or_else(|| graphql.schema.clone())
                .unwrap_or_else(|| dir.join("graphql-schemas/schema.yml"));
            return embedded_from_dir(&dir, &schema);
        }
        match (&graphql.server, &graphql.bundle) {
            (Some(_), Some(_)) => anyhow::bail!(
                "{}: [graphql] has both server and bundle; choose one",
                config.path.display()
            ),
            (Some(server), None) => Ok(Arc::new(
                HttpTransport::new(server, graphql.token.clone())
                    .with_context(|| format!("{}: [graphql] server", config.path.display()))?,
            )),
            (None, Some(bundle)) => {
                let transport = EmbeddedTransport::from_bundle_file(bundle)
                    .with_context(|| format!("{}: [graphql] bundle", config.path.display()))?;
                Ok(Arc::new(transport))
            }
            (None, None) => match self.embedded {
                Some(factory) => factory(config),
                None => anyhow::bail!(
                    "{}: [graphql] needs server (the URL of qontract-server's /graphql), bundle \
                     (a bundle file) or app_interface (a data directory); or pass --app-interface DIR",
                    config.path.display()
                ),
            },
        }
    }
}

/// Bundle an app-interface checkout in memory: `DIR/data`, `DIR/resources`, the conf-format
/// GraphQL `schema`, and the JSON schemas in `DIR/schemas` when present.
fn embedded_from_dir(dir: &Path, schema: &Path) -> anyhow::Result<Arc<dyn GqlTransport>> {
    let schemas_dir = dir.join("schemas");
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let inputs = qontract_bundler::BundleInputs {
        schemas_dir: if schemas_dir.is_dir() {
            schemas_dir
        } else {
            Default::default()
        },
        graphql_schema_file: schema.to_owned(),
        data_dir: dir.join("data"),
        resources_dir: dir.join("resources"),
        git_commit: "0".repeat(40),
        git_commit_timestamp: timestamp.to_string(),
    };
    let transport = EmbeddedTransport::from_bundle_inputs(&inputs)
        .with_context(|| format!("cannot bundle app-interface {}", dir.display()))?;
    tracing::debug!("bundled {} in memory", dir.display());
    Ok(Arc::new(transport))
}

fn write_schemas(path: &Path, schemas: &[String]) -> anyhow::Result<()> {
    let text = serde_json::to_string(schemas)?;
    std::fs::write(path, text)
        .with_context(|| format!("cannot write --dump-schemas file {}", path.display()))
}

/// Print a clap error/help. Help and version exit 0; usage errors exit 1 (not clap's 2, which
/// means "changes planned" with `--detailed-exitcode`).
fn clap_exit(e: clap::Error) -> ExitStatus {
    let _ = e.print();
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            ExitStatus::Success
        }
        _ => ExitStatus::Error,
    }
}
