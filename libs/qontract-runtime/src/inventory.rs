//! Integrations that are a typed query and a desired-state function: the namespace-scoped
//! integrations (openshift-resources, -vault-secrets, -routes, -namespaces, ...).
//!
//! Such an integration implements [`InventoryIntegration`] (its query, its desired-state
//! function, its [`IntegrationInfo`]) and gets [`Integration`] from the blanket impl here: the
//! arguments every namespace-scoped integration takes ([`TargetArgs`]), the query, the
//! [`NamespaceFilter`] of the run, the desired state (of each cluster in turn when the run is
//! streamed cluster by cluster), the early-exit desired state, one shard per cluster for
//! `--check-only-affected-shards`, and the realization of the plan, which the desired-state
//! type brings ([`Realizable`], implemented by `qontract-realize`).

use std::future::Future;

use anyhow::Context as _;
use clap::{Args, FromArgMatches};
use qontract_gql_bindings::QueryData;
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
    /// ([`IntegrationInfo::streamed_by_cluster`]).
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
/// more than the typed data (e.g. the raw JSON its templates see) implements it itself, and
/// [`QueryData`] (whose `namespace_clusters` gives the clusters of a streamed run).
pub trait Query: QueryData + Sized + Send + 'static {
    /// Run the query of this run.
    fn fetch(ctx: &RunContext) -> impl Future<Output = anyhow::Result<Self>> + Send;
}

impl<Q> Query for Q
where
    Q: cynic::QueryBuilder<()> + QueryData + DeserializeOwned + Send + 'static,
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
    /// may be streamed (see [`IntegrationInfo::streamed_by_cluster`]).
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

/// What an [`InventoryIntegration`] is called and how it runs: its constants, written as
/// `IntegrationInfo { about: "...", managed_types: &[...], ..IntegrationInfo::new(NAME,
/// VERSION) }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrationInfo {
    /// CLI name, e.g. `openshift-limitranges`; also the `integrations_v1` entry name.
    pub name: &'static str,
    /// One-line description for `--help` (required: an integration without one does not
    /// compile).
    pub about: &'static str,
    /// Version recorded in `qontract.integration_version` (only the major is compared) and
    /// part of the extended early exit cache key, as upstream's `QONTRACT_INTEGRATION_VERSION`.
    pub version: &'static str,
    /// Name written in the `qontract.integration` annotation (default: the CLI name;
    /// upstream's may differ, e.g. `openshift_resources`).
    pub annotation_name: &'static str,
    /// The types managed in every managed namespace, when fixed (default empty: from the data).
    pub managed_types: &'static [&'static str],
    /// Whether `--early-exit-compare-sha` compares the desired state (and
    /// `--check-only-affected-shards` runs one cluster at a time); `false`: always run
    /// (default `true`).
    pub early_exit: bool,
    /// Whether the run is streamed cluster by cluster (default `false`: one desired state for
    /// the whole run). When set, [`InventoryIntegration::desired`] is called with the scope
    /// narrowed to each cluster of the query's namespaces in turn
    /// ([`QueryData::namespace_clusters`]) and [`Realizable::realize_streamed`] realizes them,
    /// so that memory is bounded by the clusters in flight, not by the estate. Only for
    /// integrations whose desired state of a cluster does not depend on other clusters' data.
    pub streamed_by_cluster: bool,
}

impl IntegrationInfo {
    /// The integration `name` at `version`, with every other field at its default.
    pub const fn new(name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            about: "",
            version,
            annotation_name: name,
            managed_types: &[],
            early_exit: true,
            streamed_by_cluster: false,
        }
    }
}

/// What [`InventoryIntegration::desired`] builds a desired state from.
pub struct DesiredInput<'a, T: InventoryIntegration + ?Sized> {
    /// The run's context (GraphQL client, secrets, thread pool size, ...).
    pub ctx: &'a RunContext,
    /// The query's data.
    pub data: &'a T::Query,
    /// The namespaces the desired state is of (narrowed to one cluster in a streamed run).
    pub scope: &'a NamespaceFilter,
    /// The run's arguments.
    pub args: &'a ArgsOf<T>,
}

impl<T: InventoryIntegration + ?Sized> Clone for DesiredInput<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: InventoryIntegration + ?Sized> Copy for DesiredInput<'_, T> {}

/// An integration that is its query, its desired-state function and its [`IntegrationInfo`];
/// the blanket [`Integration`] impl does the rest (see the module documentation).
pub trait InventoryIntegration: Send + Sync + 'static {
    /// The integration's own arguments ([`NoArgs`] for none); [`TargetArgs`] come first.
    type Args: Args + FromArgMatches + Clone + Send + Sync + 'static;
    /// The query the desired state is built from.
    type Query: Query + Sync;
    /// The desired state, which knows how it is realized.
    type Desired: Realizable;

    /// Name, description, version, annotation, managed types and how it runs.
    const INFO: IntegrationInfo;

    /// The desired state of `input.scope` from the query's data. Async so that an integration
    /// can read secrets or render templates on a blocking thread; most only call a pure
    /// function. Called once per cluster (scope narrowed to it) when
    /// [`IntegrationInfo::streamed_by_cluster`].
    fn desired(
        input: DesiredInput<'_, Self>,
    ) -> impl Future<Output = anyhow::Result<Self::Desired>> + Send;

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
    /// [`Realizable::early_exit_state`] when [`IntegrationInfo::early_exit`], else `None`.
    fn early_exit_desired_state(
        ctx: &RunContext,
        args: &ArgsOf<Self>,
    ) -> impl Future<Output = anyhow::Result<Option<serde_json::Value>>> + Send {
        async move {
            if !Self::INFO.early_exit {
                return Ok(None);
            }
            let data = Self::Query::fetch(ctx).await?;
            let scope = NamespaceFilter::new(Self::INFO.name, &args.target, ctx.shard);
            let input = DesiredInput {
                ctx,
                data: &data,
                scope: &scope,
                args,
            };
            let desired = Self::desired(input).await?;
            Ok(Some(desired.early_exit_state()))
        }
    }
}

/// The clusters of a run streamed cluster by cluster ([`IntegrationInfo::streamed_by_cluster`]):
/// those of the query's namespaces that `scope` reaches; `None` for a run in one piece.
fn streamed_clusters<T: InventoryIntegration>(
    data: &T::Query,
    scope: &NamespaceFilter,
) -> anyhow::Result<Option<Vec<String>>> {
    if !T::INFO.streamed_by_cluster {
        return Ok(None);
    }
    let clusters = data.namespace_clusters().with_context(|| {
        format!(
            "{}: streamed cluster by cluster, but its query does not select namespaces with \
             their cluster",
            T::INFO.name
        )
    })?;
    Ok(Some(scope.clusters(clusters)))
}

impl<T: InventoryIntegration> Integration for T {
    type Args = ArgsOf<T>;
    const NAME: &'static str = T::INFO.name;
    const ABOUT: &'static str = {
        assert!(
            !T::INFO.about.is_empty(),
            "IntegrationInfo::about is the one-line description of --help"
        );
        T::INFO.about
    };
    const VERSION: &'static str = T::INFO.version;

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let data = T::Query::fetch(&ctx).await?;
        let scope = NamespaceFilter::new(T::INFO.name, &args.target, ctx.shard);
        let target = RealizeTarget {
            integration: T::INFO.name,
            annotation_name: T::INFO.annotation_name,
            version: T::INFO.version,
            managed_types: T::INFO.managed_types,
            show_unchanged: args.target.show_unchanged,
            internal: args.target.scope.internal(),
        };
        let input = DesiredInput {
            ctx: &ctx,
            data: &data,
            scope: &scope,
            args: &args,
        };
        let (outcome, warnings) = match streamed_clusters::<T>(&data, &scope)? {
            None => {
                let desired = T::desired(input).await?;
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
                let warnings_ref = &warnings;
                let build = move |cluster: String| async move {
                    let scope = input.scope.for_cluster(&cluster);
                    let desired = T::desired(DesiredInput {
                        scope: &scope,
                        ..input
                    })
                    .await?;
                    let unit_warnings = T::warnings_after_clean_run(&desired, input.args);
                    if let Ok(mut all) = warnings_ref.lock() {
                        all.insert(cluster, unit_warnings);
                    }
                    Ok(desired)
                };
                let outcome = T::Desired::realize_streamed(
                    &ctx,
                    target,
                    T::realize_options(&args),
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
        T::INFO
            .early_exit
            .then_some(DesiredStateShardConfig { max_shards: 2 })
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

    impl QueryData for Data {}

    /// Namespaces, by the name of their cluster.
    struct Namespaces(Vec<&'static str>);

    impl Query for Namespaces {
        async fn fetch(_: &RunContext) -> anyhow::Result<Self> {
            Ok(Namespaces(Vec::new()))
        }
    }

    impl QueryData for Namespaces {
        fn namespace_clusters(&self) -> Option<Vec<&str>> {
            Some(self.0.clone())
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
        const INFO: IntegrationInfo = IntegrationInfo {
            about: "test",
            annotation_name: "sharded_annotation",
            ..IntegrationInfo::new("sharded", "1.9.3")
        };

        async fn desired(_: DesiredInput<'_, Self>) -> anyhow::Result<Desired> {
            Ok(Desired)
        }
    }

    struct AlwaysRuns;

    impl InventoryIntegration for AlwaysRuns {
        type Args = NoArgs;
        type Query = Data;
        type Desired = Desired;
        const INFO: IntegrationInfo = IntegrationInfo {
            about: "test",
            early_exit: false,
            ..IntegrationInfo::new("always-runs", "0.1.0")
        };

        async fn desired(_: DesiredInput<'_, Self>) -> anyhow::Result<Desired> {
            Ok(Desired)
        }
    }

    /// Streamed cluster by cluster, over the clusters of `Q`'s namespaces.
    struct Streamed<Q>(std::marker::PhantomData<Q>);

    impl<Q: Query + Sync> InventoryIntegration for Streamed<Q> {
        type Args = NoArgs;
        type Query = Q;
        type Desired = Desired;
        const INFO: IntegrationInfo = IntegrationInfo {
            about: "test",
            streamed_by_cluster: true,
            ..IntegrationInfo::new("streamed", "0.1.0")
        };

        async fn desired(_: DesiredInput<'_, Self>) -> anyhow::Result<Desired> {
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
        assert_eq!(AlwaysRuns::INFO.annotation_name, "always-runs");
    }

    #[test]
    fn a_streamed_run_is_one_unit_per_cluster_of_the_querys_namespaces() {
        let scope = NamespaceFilter::default();
        let data = Namespaces(vec!["c2", "c1", "c2"]);
        let clusters = streamed_clusters::<Streamed<Namespaces>>(&data, &scope).expect("listed");
        assert_eq!(clusters, Some(vec!["c1".to_owned(), "c2".to_owned()]));
        // --cluster-name narrows the units.
        let one = NamespaceFilter {
            cluster_name: Some("c2".into()),
            ..scope.clone()
        };
        let clusters = streamed_clusters::<Streamed<Namespaces>>(&data, &one).expect("listed");
        assert_eq!(clusters, Some(vec!["c2".to_owned()]));
        // Not streamed: one unit, whatever the query.
        assert_eq!(
            streamed_clusters::<Sharded>(&Data, &scope).expect("one"),
            None
        );
        // Streamed over a query that does not select namespaces: an error, not a silent
        // whole-estate run.
        let err = streamed_clusters::<Streamed<Data>>(&Data, &scope).unwrap_err();
        assert!(err.to_string().starts_with("streamed: "), "{err}");
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
