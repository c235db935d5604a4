//! The runtime every integration shares: the common flags (each with an environment
//! variable), `config.toml`, logging in the Python tool's format, the GraphQL client set-up
//! (bundle pinning, schema allow-list, `--dump-schemas`), exit codes, the multi-call
//! dispatcher and the `run-integration` daemon loop with its Prometheus metrics.
//!
//! An integration crate implements [`Integration`] (or [`InventoryIntegration`], which brings
//! `Integration` with it); a binary lists the integrations it links
//! in a [`Cli`] and calls [`Cli::main`]; a per-integration binary is
//! `fn main() -> ExitCode { qontract_runtime::main_single::<MyIntegration>() }` ([`single`]).
//!
//! Early exits: [`early_exit`] (`--early-exit-compare-sha`, merge-request checks) and
//! [`extended_early_exit`] (`--enable-extended-early-exit`, a TTL result cache in the state
//! store).

pub mod cli;
pub mod daemon;
pub mod early_exit;
pub mod exit;
pub mod extended_early_exit;
pub mod integration;
pub mod inventory;
pub mod logging;
pub mod metrics;
pub mod runner;
pub mod secrets;
pub mod single;
pub mod unleash;

pub use cli::{CommonArgs, DEFAULT_THREAD_POOL_SIZE, OutputFormat};
pub use exit::ExitStatus;
pub use integration::{
    DesiredStateShardConfig, Integration, IntegrationSpec, PlanOutput, RunContext, RunOutcome,
};
pub use inventory::{
    ArgsOf, ClusterScope, DesiredInput, IntegrationInfo, InventoryArgs, InventoryIntegration,
    NamespaceFilter, NoArgs, Query, Realizable, RealizeTarget, TargetArgs,
};
pub use qontract_gql_bindings::QueryData;
pub use runner::{Cli, DAEMON_COMMAND, EmbeddedTransportFactory, ToolSpec};
pub use secrets::SecretsProvider;
pub use single::main_single;
