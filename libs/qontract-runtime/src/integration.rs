//! What an integration is, to the runtime.

use std::future::Future;
use std::sync::Arc;

use clap::{ArgMatches, Args, Command, FromArgMatches};
use futures::future::BoxFuture;
use qontract_config::Config;
use qontract_gql::GqlClient;
use serde::Serialize;

use crate::cli::OutputFormat;

/// An integration: a name, its own clap arguments, and a `run`.
///
/// Integration crates implement this on a unit struct and expose it; the runtime does
/// everything else (flags, config, GraphQL client, logging, exit codes, the daemon loop).
pub trait Integration: Send + Sync + 'static {
    /// Integration-specific arguments.
    type Args: Args + FromArgMatches + Send + 'static;

    /// CLI name, e.g. `openshift-namespaces`; also the `integrations_v1` entry name.
    const NAME: &'static str;

    /// One-line description for `--help`.
    const ABOUT: &'static str;

    /// Version of the integration's logic, part of the extended early exit cache key: bump it
    /// when a change makes earlier cached results invalid.
    const VERSION: &'static str = "0.1.0";

    /// Run once: fetch desired and current state, compute the plan, print it (dry-run) or
    /// apply it.
    fn run(
        ctx: RunContext,
        args: Self::Args,
    ) -> impl Future<Output = anyhow::Result<RunOutcome>> + Send;

    /// The desired state that `--early-exit-compare-sha` compares between two bundles (list
    /// order does not matter). `None` (the default): the integration does not support early
    /// exit and always runs.
    fn early_exit_desired_state(
        ctx: RunContext,
        args: Self::Args,
    ) -> impl Future<Output = anyhow::Result<Option<serde_json::Value>>> + Send {
        let _ = (ctx, args);
        async { Ok(None) }
    }

    /// `--check-only-affected-shards` support: `Some` when the early-exit desired state is
    /// `{"state": {<shard>: ...}}` and one shard can be run alone with [`Self::args_for_shard`].
    fn desired_state_shard_config() -> Option<DesiredStateShardConfig> {
        None
    }

    /// The arguments that restrict a run to `shard` (e.g. `--cluster-name <shard>`).
    fn args_for_shard(args: Self::Args, shard: &str) -> Self::Args {
        let _ = shard;
        args
    }
}

/// How an integration's dry-run is split into shards for `--check-only-affected-shards`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesiredStateShardConfig {
    /// Above this many affected shards, run in full (upstream's `sharded_run_review`).
    pub max_shards: usize,
}

/// Type-erased [`Integration`], for the multi-call binary's registry.
#[derive(Clone, Copy)]
pub struct IntegrationSpec {
    /// CLI name.
    pub name: &'static str,
    /// One-line description.
    pub about: &'static str,
    /// Version ([`Integration::VERSION`]).
    pub version: &'static str,
    augment: fn(Command) -> Command,
    run: fn(RunContext, &ArgMatches) -> BoxFuture<'static, anyhow::Result<RunOutcome>>,
    early_exit: fn(
        RunContext,
        &ArgMatches,
    ) -> BoxFuture<'static, anyhow::Result<Option<serde_json::Value>>>,
    shard_config: fn() -> Option<DesiredStateShardConfig>,
    run_shard:
        fn(RunContext, &ArgMatches, String) -> BoxFuture<'static, anyhow::Result<RunOutcome>>,
}

impl std::fmt::Debug for IntegrationSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationSpec")
            .field("name", &self.name)
            .finish()
    }
}

impl IntegrationSpec {
    /// The spec of integration `I`.
    pub fn of<I: Integration>() -> Self {
        fn augment<I: Integration>(cmd: Command) -> Command {
            I::Args::augment_args(cmd)
        }
        fn run<I: Integration>(
            ctx: RunContext,
            matches: &ArgMatches,
        ) -> BoxFuture<'static, anyhow::Result<RunOutcome>> {
            match I::Args::from_arg_matches(matches) {
                Ok(args) => Box::pin(I::run(ctx, args)),
                Err(e) => Box::pin(async move { Err(anyhow::Error::new(e)) }),
            }
        }
        fn early_exit<I: Integration>(
            ctx: RunContext,
            matches: &ArgMatches,
        ) -> BoxFuture<'static, anyhow::Result<Option<serde_json::Value>>> {
            match I::Args::from_arg_matches(matches) {
                Ok(args) => Box::pin(I::early_exit_desired_state(ctx, args)),
                Err(e) => Box::pin(async move { Err(anyhow::Error::new(e)) }),
            }
        }
        fn run_shard<I: Integration>(
            ctx: RunContext,
            matches: &ArgMatches,
            shard: String,
        ) -> BoxFuture<'static, anyhow::Result<RunOutcome>> {
            match I::Args::from_arg_matches(matches) {
                Ok(args) => Box::pin(I::run(ctx, I::args_for_shard(args, &shard))),
                Err(e) => Box::pin(async move { Err(anyhow::Error::new(e)) }),
            }
        }
        IntegrationSpec {
            name: I::NAME,
            about: I::ABOUT,
            version: I::VERSION,
            augment: augment::<I>,
            run: run::<I>,
            early_exit: early_exit::<I>,
            shard_config: I::desired_state_shard_config,
            run_shard: run_shard::<I>,
        }
    }

    /// The integration's own arguments added to `cmd`.
    pub fn augment_args(&self, cmd: Command) -> Command {
        (self.augment)(cmd)
    }

    /// The integration's early-exit desired state (see
    /// [`Integration::early_exit_desired_state`]).
    pub fn early_exit_state(
        &self,
        ctx: RunContext,
        matches: &ArgMatches,
    ) -> BoxFuture<'static, anyhow::Result<Option<serde_json::Value>>> {
        (self.early_exit)(ctx, matches)
    }

    /// The integration's shard config for `--check-only-affected-shards`.
    pub fn shard_config(&self) -> Option<DesiredStateShardConfig> {
        (self.shard_config)()
    }

    /// Run the integration restricted to `shard`.
    pub fn run_shard(
        &self,
        ctx: RunContext,
        matches: &ArgMatches,
        shard: String,
    ) -> BoxFuture<'static, anyhow::Result<RunOutcome>> {
        (self.run_shard)(ctx, matches, shard)
    }

    /// Parse the integration's arguments from `matches` and run it.
    pub fn run(
        &self,
        ctx: RunContext,
        matches: &ArgMatches,
    ) -> BoxFuture<'static, anyhow::Result<RunOutcome>> {
        (self.run)(ctx, matches)
    }
}

/// Everything an integration run gets from the runtime.
#[derive(Clone)]
pub struct RunContext {
    /// Integration name.
    pub integration: &'static str,
    /// Plan only, no writes.
    pub dry_run: bool,
    /// Concurrency bound for calls to external systems.
    pub thread_pool_size: usize,
    /// How to print the plan on stdout.
    pub output: OutputFormat,
    /// The loaded config.toml.
    pub config: Arc<Config>,
    /// GraphQL client, pinned to one bundle, enforcing the schema allow-list.
    pub gql: Arc<GqlClient>,
    /// The secret reader (Vault or config file), built on first use.
    pub secrets: Arc<crate::secrets::SecretsProvider>,
    /// This process's shard (`SHARDS` / `SHARD_ID`); integrations keep the keys
    /// `ShardConfig::is_in_shard` accepts (e.g. `"<cluster>/<namespace>"`).
    pub shard: qontract_sharding::ShardConfig,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("integration", &self.integration)
            .field("dry_run", &self.dry_run)
            .field("thread_pool_size", &self.thread_pool_size)
            .field("output", &self.output)
            .finish()
    }
}

/// A plan as a run prints it on stdout: a text table or a JSON document (`--output`).
pub trait PlanOutput {
    /// The text table.
    fn table(&self) -> String;
    /// The JSON document.
    fn json(&self) -> serde_json::Value;

    /// Writes the JSON document (pretty-printed) to `out`. Default: [`PlanOutput::json`]; a
    /// large plan serializes itself straight to `out` instead of building the document.
    fn write_json(&self, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.json())?;
        Ok(())
    }
}

impl RunContext {
    /// Print `plan` on stdout in this run's `--output` format: the one place a plan is
    /// printed, so libraries compute plans and the runtime decides where they go.
    pub fn print_plan(&self, plan: &dyn PlanOutput) -> anyhow::Result<()> {
        match self.output {
            OutputFormat::Text => print!("{}", plan.table()),
            OutputFormat::Json => {
                use std::io::Write as _;
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                plan.write_json(&mut out)?;
                writeln!(out)?;
                out.flush()?;
            }
        }
        Ok(())
    }
}

/// What a run did, as the runtime needs it for the exit code and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    /// Number of actions planned (dry-run) or carried out (wet run), no-ops excluded.
    pub changes: usize,
    /// Errors the integration registered and continued past (each names its object); any
    /// error makes the exit code 1.
    pub errors: Vec<String>,
}

impl RunOutcome {
    /// An outcome with `changes` actions and no error.
    pub fn with_changes(changes: usize) -> Self {
        Self {
            changes,
            errors: Vec::new(),
        }
    }
}
