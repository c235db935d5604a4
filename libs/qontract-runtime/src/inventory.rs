//! Integrations that are a typed query and a desired-state function: the namespace-scoped
//! integrations (openshift-resources, -vault-secrets, -routes, -namespaces, ...).
//!
//! Such an integration implements [`InventoryIntegration`] (its query, its desired state, its
//! constants) and gets [`Integration`] from the blanket impl here: the arguments every
//! namespace-scoped integration takes ([`TargetArgs`]), the query, the [`NamespaceFilter`] of
//! the run, the desired state, the early-exit desired state, one shard per cluster for
//! `--check-only-affected-shards`, and the realization of the plan, which the desired-state
//! type brings ([`Realizable`], implemented by `qontract-realize`).

use std::future::Future;

use clap::{Args, FromArgMatches};
use serde::de::DeserializeOwned;

use crate::integration::{DesiredStateShardConfig, Integration, RunContext, RunOutcome};

/// The arguments every namespace-scoped integration takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// Only reconcile namespaces on this cluster
    #[arg(long, env = "CLUSTER_NAME")]
    pub cluster_name: Option<String>,
    /// Only reconcile the namespace with this name
    #[arg(long, env = "NAMESPACE_NAME")]
    pub namespace_name: Option<String>,
    /// List unchanged objects in the plan too
    #[arg(long, env = "QONTRACT_SHOW_UNCHANGED")]
    pub show_unchanged: bool,
    /// Which clusters (--internal / --external)
    #[command(flatten)]
    pub scope: ClusterScope,
}

/// `--internal` / `--external`: only clusters marked (or not marked) internal.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ClusterScope {
    /// Only clusters marked internal
    #[arg(long, env = "QONTRACT_INTERNAL", overrides_with = "external")]
    pub internal: bool,
    /// Only clusters not marked internal
    #[arg(long, env = "QONTRACT_EXTERNAL", overrides_with = "internal")]
    pub external: bool,
}

impl ClusterScope {
    /// `Some(true)` for `--internal`, `Some(false)` for `--external`, `None` for all.
    pub fn internal(&self) -> Option<bool> {
        match (self.internal, self.external) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

/// The arguments of an [`InventoryIntegration`]: [`TargetArgs`], then its own.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InventoryArgs<A: Args + FromArgMatches> {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: TargetArgs,
    /// The integration's own arguments
    #[command(flatten)]
    pub extra: A,
}

/// No arguments beyond [`TargetArgs`].
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct NoArgs {}

/// What narrows a namespace-scoped run: the integration (matched against the cluster's
/// `disable.integrations`), `--cluster-name`, `--namespace-name` and this process's shard
/// (namespaces are sharded by `"<cluster>/<namespace>"`, as upstream).
#[derive(Debug, Clone, Default)]
pub struct NamespaceFilter {
    /// CLI integration name, checked against `cluster.disable.integrations`.
    pub integration: &'static str,
    /// `--cluster-name`.
    pub cluster_name: Option<String>,
    /// `--namespace-name`.
    pub namespace_name: Option<String>,
    /// This process's shard.
    pub shard: qontract_sharding::ShardConfig,
}

impl NamespaceFilter {
    /// The filter of a run of `integration` with `target` in `shard`.
    pub fn new(
        integration: &'static str,
        target: &TargetArgs,
        shard: qontract_sharding::ShardConfig,
    ) -> Self {
        Self {
            integration,
            cluster_name: target.cluster_name.clone(),
            namespace_name: target.namespace_name.clone(),
            shard,
        }
    }

    /// This filter narrowed to one cluster (a unit of a run streamed cluster by cluster).
    pub fn for_cluster(&self, cluster: &str) -> Self {
        Self {
            cluster_name: Some(cluster.to_owned()),
            ..self.clone()
        }
    }

    /// The clusters among `clusters` this run may reach (`--cluster-name`), sorted, once
    /// each: the units of a run streamed cluster by cluster
    /// ([`InventoryIntegration::clusters`]).
    pub fn clusters<'a>(&self, clusters: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = clusters
            .into_iter()
            .filter(|c| self.cluster_name.as_deref().is_none_or(|want| want == *c))
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// Whether the integration is listed in a cluster's `disable.integrations`.
    pub fn disabled_on(&self, disabled_integrations: Option<&[String]>) -> bool {
        disabled_integrations.is_some_and(|list| list.iter().any(|i| i == self.integration))
    }

    /// Whether `cluster/namespace` passes `--cluster-name`, `--namespace-name` and the shard.
    pub fn targets(&self, cluster: &str, namespace: &str) -> bool {
        self.cluster_name.as_deref().is_none_or(|c| c == cluster)
            && self
                .namespace_name
                .as_deref()
                .is_none_or(|n| n == namespace)
            && self.shard.is_in_shard(&format!("{cluster}/{namespace}"))
    }

    /// Whether the namespace `cluster/namespace` is in this run: the integration is not
    /// disabled on its cluster, the namespace is not being deleted (`delete: true`), and it
    /// passes the cluster/namespace filters and the shard (upstream `openshift_base`'s
    /// namespace selection; `managedByExternal` is not looked at: upstream skips those
    /// namespaces only in openshift-namespaces).
    pub fn selects(
        &self,
        cluster: &str,
        namespace: &str,
        disabled_integrations: Option<&[String]>,
        delete: Option<bool>,
    ) -> bool {
        !self.disabled_on(disabled_integrations)
            && !delete.unwrap_or(false)
            && self.targets(cluster, namespace)
    }
}

/// A query an integration's desired state is built from. Every generated query operation
/// (`qontract-gql-bindings`, a cynic `QueryBuilder<()>`) is one; an integration that needs
/// more than the typed data (e.g. the raw JSON its templates see) implements it itself.
pub trait Query: Sized + Send + 'static {
    /// Run the query of this run.
    fn fetch(ctx: &RunContext) -> impl Future<Output = anyhow::Result<Self>> + Send;
}

impl<Q> Query for Q
where
    Q: cynic::QueryBuilder<()> + DeserializeOwned + Send + 'static,
{
    async fn fetch(ctx: &RunContext) -> anyhow::Result<Self> {
        Ok(ctx.gql.run(Q::build(())).await?)
    }
}

/// What an [`InventoryIntegration`] tells the realization of its desired state.
#[derive(Debug, Clone, Copy)]
pub struct RealizeTarget {
    /// CLI name (matched against `disable.integrations`, used in metrics).
    pub integration: &'static str,
    /// Name written in the `qontract.integration` annotation.
    pub annotation_name: &'static str,
    /// Version written in `qontract.integration_version`.
    pub version: &'static str,
    /// The managed types, when the integration fixes them (named in the summary log line).
    pub managed_types: &'static [&'static str],
    /// List unchanged objects in the text plan too.
    pub show_unchanged: bool,
    /// `--internal` (Some(true)) / `--external` (Some(false)) / all clusters (None).
    pub internal: Option<bool>,
}

/// A desired state that knows how it is realized: plan against the current state, print,
/// apply (`qontract-realize` implements it for its desired-state types).
pub trait Realizable: Send + Sized + 'static {
    /// How the plan is made beyond the [`RealizeTarget`] (e.g. `take_over`).
    type Options: Default + Send;

    /// The early-exit desired state (see [`Integration::early_exit_desired_state`]), one
    /// shard per cluster under `"state"`.
    fn early_exit_state(&self) -> serde_json::Value;

    /// Log the desired state's summary, build the clients, read the current state, plan,
    /// print and (wet run) apply.
    fn realize(
        self,
        ctx: &RunContext,
        target: RealizeTarget,
        options: Self::Options,
    ) -> impl Future<Output = anyhow::Result<RunOutcome>> + Send;

    /// [`Realizable::realize`] of a run streamed cluster by cluster: `build` gives the desired
    /// state of one of `clusters` (each called once, in order, a few clusters in flight), so
    /// that memory is bounded by the clusters in flight rather than by the estate. Deletes are
    /// decided over the whole run. The default refuses: only desired states that implement it
    /// may be streamed (see [`InventoryIntegration::clusters`]).
    fn realize_streamed<B, F>(
        ctx: &RunContext,
        target: RealizeTarget,
        options: Self::Options,
        clusters: Vec<String>,
        build: B,
    ) -> impl Future<Output = anyhow::Result<RunOutcome>> + Send
    where
        B: FnMut(String) -> F + Send,
        F: Future<Output = anyhow::Result<Self>> + Send,
    {
        let _ = (ctx, options, clusters, build);
        async move {
            anyhow::bail!(
                "{}: this desired state cannot be realized one cluster at a time",
                target.integration
            )
        }
    }
}

/// The arguments of an inventory integration `T`.
pub type ArgsOf<T> = InventoryArgs<<T as InventoryIntegration>::Args>;

/// An integration that is its query, its desired-state function and its constants; the
/// blanket [`Integration`] impl does the rest (see the module documentation).
pub trait InventoryIntegration: Send + Sync + 'static {
    /// The integration's own arguments ([`NoArgs`] for none); [`TargetArgs`] come first.
    type Args: Args + FromArgMatches + Clone + Send + Sync + 'static;
    /// The query the desired state is built from.
    type Query: Query + Sync;
    /// The desired state, which knows how it is realized.
    type Desired: Realizable;

    /// CLI name, e.g. `openshift-limitranges`; also the `integrations_v1` entry name.
    const NAME: &'static str;
    /// One-line description for `--help`.
    const ABOUT: &'static str;
    /// Version recorded in `qontract.integration_version` (only the major is compared) and
    /// part of the extended early exit cache key, as upstream's `QONTRACT_INTEGRATION_VERSION`.
    const VERSION: &'static str = "0.1.0";
    /// Name written in the `qontract.integration` annotation (upstream's may differ from the
    /// CLI name, e.g. `openshift_resources`).
    const ANNOTATION_NAME: &'static str = Self::NAME;
    /// The types managed in every managed namespace, when fixed (empty: from the data).
    const MANAGED_TYPES: &'static [&'static str] = &[];
    /// Whether `--early-exit-compare-sha` compares the desired state (and
    /// `--check-only-affected-shards` runs one cluster at a time); `false`: always run.
    const EARLY_EXIT: bool = true;

    /// The desired state of `scope` from the query's data. Async so that an integration can
    /// read secrets or render templates on a blocking thread; most only call a pure function.
    /// Called once per cluster (scope narrowed to it) when [`Self::clusters`] says so.
    fn desired(
        ctx: &RunContext,
        data: &Self::Query,
        scope: &NamespaceFilter,
        args: &ArgsOf<Self>,
    ) -> impl Future<Output = anyhow::Result<Self::Desired>> + Send;

    /// The clusters of this run, when its desired state can be built and realized one cluster
    /// at a time (the run is then streamed: [`Self::desired`] is called with the scope narrowed
    /// to each cluster in turn and [`Realizable::realize_streamed`] realizes them, so memory is
    /// bounded by the clusters in flight, not by the estate). `None` (the default): one
    /// desired state for the whole run. Only for integrations whose desired state of a
    /// cluster does not depend on other clusters' data.
    fn clusters(data: &Self::Query, scope: &NamespaceFilter) -> Option<Vec<String>> {
        let _ = (data, scope);
        None
    }

    /// How the plan is made (default: the desired state's defaults).
    fn realize_options(args: &ArgsOf<Self>) -> <Self::Desired as Realizable>::Options {
        let _ = args;
        Default::default()
    }

    /// Warnings logged after the run when it registered no error (computed before the
    /// desired state is realized; for a streamed run, of each cluster's desired state).
    fn warnings_after_clean_run(desired: &Self::Desired, args: &ArgsOf<Self>) -> Vec<String> {
        let _ = (desired, args);
        Vec::new()
    }

    /// The early-exit desired state. Default: the desired state's
    /// [`Realizable::early_exit_state`] when [`Self::EARLY_EXIT`], else `None`.
    fn early_exit_desired_state(
        ctx: &RunContext,
        args: &ArgsOf<Self>,
    ) -> impl Future<Output = anyhow::Result<Option<serde_json::Value>>> + Send {
        async move {
            if !Self::EARLY_EXIT {
                return Ok(None);
            }
            let data = Self::Query::fetch(ctx).await?;
            let scope = NamespaceFilter::new(Self::NAME, &args.target, ctx.shard);
            let desired = Self::desired(ctx, &data, &scope, args).await?;
            Ok(Some(desired.early_exit_state()))
        }
    }
}

impl<T: InventoryIntegration> Integration for T {
    type Args = ArgsOf<T>;
    const NAME: &'static str = T::NAME;
    const ABOUT: &'static str = T::ABOUT;
    const VERSION: &'static str = T::VERSION;

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let data = T::Query::fetch(&ctx).await?;
        let scope = NamespaceFilter::new(T::NAME, &args.target, ctx.shard);
        let target = RealizeTarget {
            integration: T::NAME,
            annotation_name: T::ANNOTATION_NAME,
            version: T::VERSION,
            managed_types: T::MANAGED_TYPES,
            show_unchanged: args.target.show_unchanged,
            internal: args.target.scope.internal(),
        };
        let (outcome, warnings) = match T::clusters(&data, &scope) {
            None => {
                let desired = T::desired(&ctx, &data, &scope, &args).await?;
                let warnings = T::warnings_after_clean_run(&desired, &args);
                let outcome = desired
                    .realize(&ctx, target, T::realize_options(&args))
                    .await?;
                (outcome, warnings)
            }
            Some(clusters) => {
                // Each cluster's warnings, in cluster order as a whole run's (clusters finish
                // in any order).
                let warnings = std::sync::Mutex::new(std::collections::BTreeMap::new());
                let (ctx, data, scope, args, warnings_ref) =
                    (&ctx, &data, &scope, &args, &warnings);
                let build = move |cluster: String| async move {
                    let desired = T::desired(ctx, data, &scope.for_cluster(&cluster), args).await?;
                    let unit_warnings = T::warnings_after_clean_run(&desired, args);
                    if let Ok(mut all) = warnings_ref.lock() {
                        all.insert(cluster, unit_warnings);
                    }
                    Ok(desired)
                };
                let outcome = T::Desired::realize_streamed(
                    ctx,
                    target,
                    T::realize_options(args),
                    clusters,
                    build,
                )
                .await?;
                let warnings = warnings.into_inner().unwrap_or_default();
                (outcome, warnings.into_values().flatten().collect())
            }
        };
        if outcome.errors.is_empty() {
            for warning in &warnings {
                tracing::warn!("{warning}");
            }
        }
        Ok(outcome)
    }

    async fn early_exit_desired_state(
        ctx: RunContext,
        args: Self::Args,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        T::early_exit_desired_state(&ctx, &args).await
    }

    fn desired_state_shard_config() -> Option<DesiredStateShardConfig> {
        // One shard per cluster; upstream's sharded_run_review accepts at most two.
        T::EARLY_EXIT.then_some(DesiredStateShardConfig { max_shards: 2 })
    }

    fn args_for_shard(mut args: Self::Args, shard: &str) -> Self::Args {
        args.target.cluster_name = Some(shard.to_owned());
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{FromArgMatches, Parser};

    #[derive(Debug, Clone, Default, clap::Args)]
    struct ExtraArgs {
        /// An integration's own flag
        #[arg(long)]
        take_over: bool,
    }

    struct Data;

    impl Query for Data {
        async fn fetch(_: &RunContext) -> anyhow::Result<Self> {
            Ok(Data)
        }
    }

    struct Desired;

    impl Realizable for Desired {
        type Options = ();
        fn early_exit_state(&self) -> serde_json::Value {
            serde_json::json!({"state": {}})
        }
        async fn realize(
            self,
            _: &RunContext,
            _: RealizeTarget,
            (): (),
        ) -> anyhow::Result<RunOutcome> {
            Ok(RunOutcome::default())
        }
    }

    struct Sharded;

    impl InventoryIntegration for Sharded {
        type Args = ExtraArgs;
        type Query = Data;
        type Desired = Desired;
        const NAME: &'static str = "sharded";
        const ABOUT: &'static str = "test";
        const VERSION: &'static str = "1.9.3";
        const ANNOTATION_NAME: &'static str = "sharded_annotation";

        async fn desired(
            _: &RunContext,
            _: &Data,
            _: &NamespaceFilter,
            _: &ArgsOf<Self>,
        ) -> anyhow::Result<Desired> {
            Ok(Desired)
        }
    }

    struct AlwaysRuns;

    impl InventoryIntegration for AlwaysRuns {
        type Args = NoArgs;
        type Query = Data;
        type Desired = Desired;
        const NAME: &'static str = "always-runs";
        const ABOUT: &'static str = "test";
        const EARLY_EXIT: bool = false;

        async fn desired(
            _: &RunContext,
            _: &Data,
            _: &NamespaceFilter,
            _: &ArgsOf<Self>,
        ) -> anyhow::Result<Desired> {
            Ok(Desired)
        }
    }

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ArgsOf<Sharded>,
    }

    #[test]
    fn the_blanket_integration_has_the_inventory_integrations_constants() {
        let spec = crate::IntegrationSpec::of::<Sharded>();
        assert_eq!((spec.name, spec.version), ("sharded", "1.9.3"));
        assert_eq!(
            spec.shard_config(),
            Some(DesiredStateShardConfig { max_shards: 2 })
        );
        let spec = crate::IntegrationSpec::of::<AlwaysRuns>();
        assert_eq!((spec.name, spec.version), ("always-runs", "0.1.0"));
        assert_eq!(spec.shard_config(), None);
        assert_eq!(AlwaysRuns::ANNOTATION_NAME, "always-runs");
    }

    #[test]
    fn target_arguments_come_with_the_integrations_own() {
        let cli = Cli::try_parse_from([
            "x",
            "--cluster-name",
            "c1",
            "--namespace-name",
            "ns",
            "--external",
            "--take-over",
        ])
        .expect("parses");
        assert_eq!(cli.args.target.cluster_name.as_deref(), Some("c1"));
        assert_eq!(cli.args.target.scope.internal(), Some(false));
        assert!(cli.args.extra.take_over);
        let sharded = <Sharded as Integration>::args_for_shard(cli.args, "c2");
        assert_eq!(sharded.target.cluster_name.as_deref(), Some("c2"));
        assert_eq!(sharded.target.namespace_name.as_deref(), Some("ns"));
        // Through the type-erased spec, as the multi-call binary parses them.
        let spec = crate::IntegrationSpec::of::<Sharded>();
        let matches = spec
            .augment_args(clap::Command::new("sharded"))
            .try_get_matches_from(["sharded", "--internal"])
            .expect("parses");
        let args = ArgsOf::<Sharded>::from_arg_matches(&matches).expect("args");
        assert_eq!(args.target.scope.internal(), Some(true));
        assert!(!args.extra.take_over);
    }

    #[test]
    fn the_namespace_filter_is_the_one_scope_check() {
        let filter = NamespaceFilter {
            integration: "sharded",
            cluster_name: Some("c1".into()),
            ..NamespaceFilter::default()
        };
        let disabled = vec!["sharded".to_owned()];
        assert!(filter.selects("c1", "ns", None, None));
        assert!(!filter.selects("c2", "ns", None, None));
        assert!(!filter.selects("c1", "ns", Some(&disabled), None));
        assert!(!filter.selects("c1", "ns", None, Some(true)));
        assert!(filter.selects("c1", "ns", Some(&["other".to_owned()]), Some(false)));
    }
}
