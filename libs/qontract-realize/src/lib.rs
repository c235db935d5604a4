//! The shared tail of every integration built on the `ResourceInventory` (the Python tool's
//! `openshift_base.realize_data` and what surrounds it): given the desired objects and the
//! clusters they live on, build the cluster clients, read the current state, compute the plan,
//! have the runtime print it (text table or JSON, [`RunContext::print_plan`]), and apply it
//! unless this is a dry run.
//!
//! Integrations only build their desired [`ResourceInventory`]; everything after that is here,
//! so every such integration plans, prints, applies and reports errors the same way.

mod namespaces;

pub use namespaces::{DesiredNamespaces, RealizeNamespaces, realize_namespaces};
pub use qontract_runtime::{ClusterScope, NamespaceFilter, TargetArgs};

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt as _;
use qontract_cluster_client::{ClusterMap, ClusterMapOptions};
use qontract_openshift_engine::{ApplyReport, Engine, EngineMetrics, EngineOptions, FetchReport};
use qontract_resource_inventory::{
    Action, Phase, Plan, PlanOptions, Planner, ResourceInventory, TableOptions, compute_plan,
    render_json, render_table,
};
use qontract_runtime::{PlanOutput, Realizable, RealizeTarget, RunContext, RunOutcome};

/// What an integration hands over after building its desired state.
#[derive(Debug, Default)]
pub struct Realize {
    /// CLI name (matched against `disable.integrations`).
    pub integration: &'static str,
    /// Name written in the `qontract.integration` annotation (may differ from the CLI name).
    pub annotation_name: &'static str,
    /// Version written in `qontract.integration_version`.
    pub version: &'static str,
    /// Desired objects and the managed (cluster, namespace, type) entries.
    pub inventory: ResourceInventory,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// (cluster, namespace) pairs read and written with the cluster-admin client.
    pub privileged: BTreeSet<(String, String)>,
    /// List unchanged objects in the text plan too.
    pub show_unchanged: bool,
    /// Only objects of this caller are read and may be deleted (upstream `caller`).
    pub caller: Option<String>,
    /// `--internal` (Some(true)) / `--external` (Some(false)) / all clusters (None).
    pub internal: Option<bool>,
}

/// A plan as the runtime prints it ([`RunContext::print_plan`]): the text table (unchanged
/// objects listed with `--show-unchanged`) or the JSON document.
struct PrintedPlan<'a> {
    plan: &'a qontract_resource_inventory::Plan,
    include_unchanged: bool,
}

impl PlanOutput for PrintedPlan<'_> {
    fn table(&self) -> String {
        render_table(
            self.plan,
            TableOptions {
                include_unchanged: self.include_unchanged,
            },
        )
    }

    fn json(&self) -> serde_json::Value {
        render_json(self.plan, None)
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
        Ok(qontract_resource_inventory::write_json(self.plan, out)?)
    }
}

/// The engine's metrics (`qontract_reconcile_openshift_resource_inventory` and the action
/// counters), registered once per process in the runtime's process registry, which the
/// daemon's `/metrics` serves.
fn engine_metrics() -> &'static EngineMetrics {
    static METRICS: std::sync::OnceLock<EngineMetrics> = std::sync::OnceLock::new();
    METRICS.get_or_init(
        || match qontract_runtime::metrics::process_registry().lock() {
            Ok(mut registry) => EngineMetrics::register(&mut registry),
            Err(_) => EngineMetrics::default(),
        },
    )
}

/// The desired state of a namespace-scoped integration: desired objects and the managed
/// (cluster, namespace, type) entries, the clusters involved, the privileged namespaces and
/// the managed namespaces.
#[derive(Debug, Default)]
pub struct DesiredInventory {
    /// Desired objects, with the managed type initialised in every managed namespace.
    pub inventory: ResourceInventory,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// (cluster, namespace) pairs that use the cluster-admin client.
    pub privileged: BTreeSet<(String, String)>,
    /// The managed (cluster, namespace) pairs.
    pub namespaces: BTreeSet<(String, String)>,
}

/// Where a desired object is declared: its namespace, whether that namespace uses the
/// cluster-admin client, and the origin every error about it names (file, entry).
#[derive(Debug, Clone, Copy)]
pub struct Declared<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// Namespace name.
    pub namespace: &'a str,
    /// The namespace uses the cluster-admin client.
    pub privileged: bool,
    /// What the object is declared by (e.g. `cluster/ns limitRanges name`).
    pub origin: &'a str,
}

impl DesiredInventory {
    /// Manage `cluster/namespace` in this run (upstream `openshift_base.init_specs_to_fetch`):
    /// record it, its cluster's connection data (`spec`, built once per cluster), whether it
    /// uses the cluster-admin client, and initialise each of `managed_types` in it, so that
    /// objects of those types that are no longer desired are found and planned.
    pub fn manage_namespace(
        &mut self,
        cluster: &str,
        namespace: &str,
        privileged: bool,
        managed_types: &[&str],
        spec: impl FnOnce() -> ClusterSpec,
    ) {
        let key = (cluster.to_owned(), namespace.to_owned());
        self.namespaces.insert(key.clone());
        self.clusters.entry(cluster.to_owned()).or_insert_with(spec);
        if privileged {
            self.privileged.insert(key);
        }
        for resource_type in managed_types {
            self.inventory
                .initialize_resource_type(cluster, namespace, resource_type, None);
        }
    }

    /// Add `body` as a desired object of `resource_type` where `at` says, annotated for
    /// `integration` at `version`; a body that is not a valid object, or an object already
    /// desired there, is an error on the cluster naming `at.origin` instead (it disables
    /// deletes on that cluster, as upstream `ri.register_error(cluster=...)`).
    pub fn add_or_register(
        &mut self,
        at: Declared<'_>,
        resource_type: &str,
        body: serde_json::Value,
        integration: &str,
        version: &str,
    ) {
        let origin = at.origin;
        let added = qontract_openshift_resource::OpenshiftResource::new(
            body,
            integration,
            version,
            origin,
            None,
        )
        .map_err(|e| format!("{origin}: {e}"))
        .and_then(|resource| {
            self.inventory
                .add_desired(
                    at.cluster,
                    at.namespace,
                    resource_type,
                    resource,
                    at.privileged,
                )
                .map_err(|e| format!("{origin}: {e}"))
        });
        if let Err(message) = added {
            self.inventory.register_error(Some(at.cluster), message);
        }
    }

    /// The early-exit desired state: `{"state": {<cluster>: {"namespaces": [...], "objects":
    /// [...]}}, "errors": [...]}`, one shard per cluster for `--check-only-affected-shards`.
    pub fn early_exit_state(&self) -> serde_json::Value {
        use serde_json::json;
        let mut state = serde_json::Map::new();
        let empty = || json!({"namespaces": [], "objects": []});
        for (cluster, namespace) in &self.namespaces {
            let entry = state.entry(cluster.clone()).or_insert_with(empty);
            if let Some(list) = entry["namespaces"].as_array_mut() {
                list.push(serde_json::Value::String(namespace.clone()));
            }
        }
        for (cluster, namespace, resource_type, data) in self.inventory.iter() {
            let entry = state.entry(cluster.to_owned()).or_insert_with(empty);
            for (name, desired) in data.desired() {
                if let Some(list) = entry["objects"].as_array_mut() {
                    list.push(json!({
                        "namespace": namespace,
                        "type": resource_type,
                        "name": name,
                        "body": desired.resource.body(),
                    }));
                }
            }
        }
        let errors: Vec<String> = self
            .inventory
            .errors()
            .iter()
            .map(|e| e.to_string())
            .collect();
        json!({ "state": state, "errors": errors })
    }
}

/// What the summary log line calls the desired objects: the kind of the managed types when
/// they share one (`LimitRange`, `PrometheusRule`), else `object`.
fn object_label(managed_types: &[&'static str]) -> &'static str {
    let mut kinds = managed_types
        .iter()
        .map(|t| t.split_once('.').map_or(*t, |(kind, _)| kind));
    match kinds.next() {
        Some(first) if kinds.all(|k| k == first) => first,
        _ => "object",
    }
}

impl Realizable for DesiredInventory {
    type Options = RealizeOptions;

    fn early_exit_state(&self) -> serde_json::Value {
        DesiredInventory::early_exit_state(self)
    }

    async fn realize(
        self,
        ctx: &RunContext,
        target: RealizeTarget,
        options: RealizeOptions,
    ) -> anyhow::Result<RunOutcome> {
        tracing::info!(
            "desired state: {} {}(s) in {} namespace(s), {} error(s)",
            self.inventory.len().0,
            object_label(target.managed_types),
            self.namespaces.len(),
            self.inventory.errors().len()
        );
        let run = Realize {
            integration: target.integration,
            annotation_name: target.annotation_name,
            version: target.version,
            inventory: self.inventory,
            clusters: self.clusters,
            privileged: self.privileged,
            show_unchanged: target.show_unchanged,
            caller: None,
            internal: target.internal,
        };
        realize_with(ctx, run, options).await
    }

    async fn realize_streamed<B, F>(
        ctx: &RunContext,
        target: RealizeTarget,
        options: RealizeOptions,
        clusters: Vec<String>,
        mut build: B,
    ) -> anyhow::Result<RunOutcome>
    where
        B: FnMut(String) -> F + Send,
        F: std::future::Future<Output = anyhow::Result<Self>> + Send,
    {
        let run = RunSetup::new(ctx, &target, None, options, clusters.len()).await?;
        let stop = std::sync::atomic::AtomicBool::new(false);
        let run_ref = &run;
        let stop_ref = &stop;
        let units = clusters.into_iter().map(move |cluster| {
            let desired = build(cluster);
            async move {
                if stop_ref.load(std::sync::atomic::Ordering::Relaxed) {
                    return Ok(None);
                }
                match desired.await {
                    Ok(desired) => {
                        let counts = DesiredCounts::of(&desired);
                        let unit = UnitInput::from_desired(desired, run_ref.internal);
                        Ok(Some((run_ref.realize_unit(unit).await, Some(counts))))
                    }
                    Err(error) => {
                        // No further cluster is started; deletes are not made.
                        stop_ref.store(true, std::sync::atomic::Ordering::Relaxed);
                        Err(error)
                    }
                }
            }
        });
        run.drive(ctx, &target, units, Vec::new()).await
    }
}

/// The size of a desired state, for the summary log line.
#[derive(Debug, Clone, Copy, Default)]
struct DesiredCounts {
    objects: usize,
    namespaces: usize,
    errors: usize,
}

impl DesiredCounts {
    fn of(desired: &DesiredInventory) -> Self {
        Self {
            objects: desired.inventory.len().0,
            namespaces: desired.namespaces.len(),
            errors: desired.inventory.errors().len(),
        }
    }

    fn add(&mut self, other: DesiredCounts) {
        self.objects += other.objects;
        self.namespaces += other.namespaces;
        self.errors += other.errors;
    }
}

/// The secret reader's `VaultSecret` of a generated `VaultSecret` fragment (a negative
/// `version` is no version).
pub fn vault_secret(
    secret: &qontract_gql_bindings::fragments::VaultSecret,
) -> qontract_secrets::VaultSecret {
    qontract_secrets::VaultSecret {
        path: secret.path.clone(),
        field: secret.field.clone(),
        version: secret.version.and_then(|v| u64::try_from(v).ok()),
        format: secret.format.clone(),
    }
}

/// The [`ClusterSpec`] of a cluster selected by any query through the shared
/// `ClusterConnection` fragment (`codegen/queries/fragments/cluster_connection.graphql`).
pub fn cluster_spec(cluster: &qontract_gql_bindings::fragments::ClusterConnection) -> ClusterSpec {
    ClusterSpec {
        name: cluster.name.clone(),
        server_url: cluster.server_url.clone(),
        insecure_skip_tls_verify: cluster.insecure_skip_tlsverify.unwrap_or(false),
        automation_token: cluster.automation_token.as_ref().map(vault_secret),
        cluster_admin_automation_token: cluster
            .cluster_admin_automation_token
            .as_ref()
            .map(vault_secret),
        internal: cluster.internal,
        disabled_integrations: cluster
            .disable
            .as_ref()
            .and_then(|d| d.integrations.clone())
            .unwrap_or_default(),
    }
}

pub use qontract_cluster_client::ClusterSpec;

/// How the plan treats objects this integration did not create. The default is upstream
/// `realize_data`'s: `take_over` off.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealizeOptions {
    /// Adopt objects of the managed types that carry no (or another integration's)
    /// annotations and delete those that are not desired, unless they have
    /// `ownerReferences` (upstream `take_over`).
    pub take_over: bool,
    /// Leave objects labelled `app.kubernetes.io/part-of: argocd` out of the current state
    /// (upstream `openshift_resources_base.fetch_current_state`, so the integrations built on
    /// openshiftResources: openshift-resources, -vault-secrets, -routes, -prometheus-rules).
    pub skip_argocd_managed: bool,
}

/// Build the clients, read the current state, plan, print and (wet run) apply.
pub async fn realize(ctx: &RunContext, run: Realize) -> anyhow::Result<RunOutcome> {
    realize_with(ctx, run, RealizeOptions::default()).await
}

/// How many clusters a run reads, plans and applies at the same time. They share
/// `--thread-pool-size` requests in flight; two keep the connections busy while one cluster's
/// clients are built, its desired state built and its plan decided.
const CLUSTERS_IN_FLIGHT: usize = 2;

/// [`realize`] with explicit [`RealizeOptions`] (e.g. `take_over`, as upstream
/// `openshift-limitranges` does).
///
/// The run is streamed one cluster at a time (at most [`CLUSTERS_IN_FLIGHT`] at once): a
/// cluster's clients are built, its current state read, its part of the plan decided and
/// (wet run) its creates and updates applied, then its objects are dropped, so that memory
/// is bounded by the clusters in flight rather than by the estate. Deletes are held until
/// every cluster has been read and planned: any error registered anywhere in the run (desired
/// state, reading, applying) disables all of them, as upstream `realize_data` decides
/// `enable_deletion` after the whole current state is fetched. Then the whole plan is printed
/// (sorted as always, so the output does not depend on which cluster finished first) and the
/// held deletes are made. [`Realizable::realize_streamed`] does the same with each cluster's
/// desired state built just before the cluster is read.
pub async fn realize_with(
    ctx: &RunContext,
    mut run: Realize,
    realize_options: RealizeOptions,
) -> anyhow::Result<RunOutcome> {
    if let Some(want) = run.internal {
        let out_of_scope: std::collections::BTreeSet<String> = run
            .clusters
            .values()
            .filter(|c| c.internal.unwrap_or(false) != want)
            .map(|c| c.name.clone())
            .collect();
        run.inventory.retain_clusters(|c| !out_of_scope.contains(c));
        run.clusters.retain(|name, _| !out_of_scope.contains(name));
        run.privileged.retain(|(c, _)| !out_of_scope.contains(c));
    }
    let target = RealizeTarget {
        integration: run.integration,
        annotation_name: run.annotation_name,
        version: run.version,
        managed_types: &[],
        show_unchanged: run.show_unchanged,
        internal: run.internal,
    };
    let cluster_names = run.inventory.cluster_names();
    let setup = RunSetup::new(
        ctx,
        &target,
        run.caller.clone(),
        realize_options,
        cluster_names.len(),
    )
    .await?;
    let units: Vec<UnitInput> = cluster_names
        .into_iter()
        .map(|cluster| UnitInput {
            specs: run.clusters.get(&cluster).cloned().into_iter().collect(),
            privileged: run
                .privileged
                .iter()
                .filter(|(c, _)| *c == cluster)
                .cloned()
                .collect(),
            inventory: run.inventory.take_cluster(&cluster),
        })
        .collect();
    // What is left: errors of no cluster (or of clusters without managed namespaces).
    let leftover = run.inventory.errors().to_vec();
    let setup_ref = &setup;
    let units = units
        .into_iter()
        .map(|unit| async move { Ok(Some((setup_ref.realize_unit(unit).await, None))) });
    setup.drive(ctx, &target, units, leftover).await
}

/// One cluster of a streamed run: its desired objects, its connection data and which of its
/// namespaces use the cluster-admin client.
struct UnitInput {
    inventory: ResourceInventory,
    specs: Vec<ClusterSpec>,
    privileged: BTreeSet<(String, String)>,
}

impl UnitInput {
    /// The unit of one cluster's desired state; out of scope of `--internal` / `--external`,
    /// it keeps its errors only.
    fn from_desired(desired: DesiredInventory, internal: Option<bool>) -> Self {
        let DesiredInventory {
            mut inventory,
            clusters,
            privileged,
            ..
        } = desired;
        let mut specs: Vec<ClusterSpec> = clusters.into_values().collect();
        if let Some(want) = internal {
            let out_of_scope: BTreeSet<String> = specs
                .iter()
                .filter(|c| c.internal.unwrap_or(false) != want)
                .map(|c| c.name.clone())
                .collect();
            inventory.retain_clusters(|c| !out_of_scope.contains(c));
            specs.retain(|c| !out_of_scope.contains(&c.name));
        }
        Self {
            inventory,
            specs,
            privileged,
        }
    }
}

/// What every cluster of a run shares.
struct RunSetup {
    integration: &'static str,
    show_unchanged: bool,
    internal: Option<bool>,
    engine_options: EngineOptions,
    plan_options: PlanOptions,
    secrets: Option<std::sync::Arc<dyn qontract_secrets::SecretReader>>,
    units_in_flight: usize,
    dry_run: bool,
}

/// One cluster of a streamed run, read, planned and (its creates and updates) applied.
struct UnitDone {
    /// The cluster's part of the plan (deletes not yet decided for the run).
    plan: Plan,
    /// Its creates and updates as applied (or, dry run, logged).
    applied: ApplyReport,
    /// The cluster objects its plan deletes, held until the run decides on deletes.
    deletes: ResourceInventory,
    /// Its clients (for the held deletes).
    clients: ClusterMap,
    warnings: Vec<String>,
    gauge: Vec<qontract_resource_inventory::InventoryGaugeSample>,
}

impl RunSetup {
    async fn new(
        ctx: &RunContext,
        target: &RealizeTarget,
        caller: Option<String>,
        realize_options: RealizeOptions,
        clusters: usize,
    ) -> anyhow::Result<Self> {
        let units_in_flight = CLUSTERS_IN_FLIGHT.min(clusters).max(1);
        let mut engine_options = EngineOptions::new(target.annotation_name, target.version);
        engine_options.concurrency = ctx.thread_pool_size.div_ceil(units_in_flight).max(1);
        engine_options.caller_filter = caller.clone();
        engine_options.skip_argocd_managed = realize_options.skip_argocd_managed;
        let secrets = if clusters == 0 {
            None
        } else {
            Some(ctx.secrets.reader().await?)
        };
        Ok(Self {
            integration: target.integration,
            show_unchanged: target.show_unchanged,
            internal: target.internal,
            engine_options,
            plan_options: PlanOptions {
                dry_run: ctx.dry_run,
                caller,
                take_over: realize_options.take_over,
                ..PlanOptions::default()
            },
            secrets,
            units_in_flight,
            dry_run: ctx.dry_run,
        })
    }

    /// Runs the units (at most `units_in_flight` at once), then decides the deletes over the
    /// whole run, prints the plan and makes the held deletes. A unit that fails (its desired
    /// state could not be built) fails the run once the units in flight are done; no delete
    /// is made then.
    async fn drive<U, F>(
        &self,
        ctx: &RunContext,
        target: &RealizeTarget,
        units: U,
        leftover_errors: Vec<qontract_resource_inventory::RegisteredError>,
    ) -> anyhow::Result<RunOutcome>
    where
        U: IntoIterator<Item = F>,
        F: std::future::Future<Output = anyhow::Result<Option<(UnitDone, Option<DesiredCounts>)>>>,
    {
        let mut planner = Planner::new(self.plan_options.clone());
        for error in &leftover_errors {
            planner.register_error(error.cluster.as_deref(), &error.message);
        }
        let mut held = HeldDeletes::default();
        let mut report = ApplyReport {
            dry_run: self.dry_run,
            ..ApplyReport::default()
        };
        let mut gauge = Vec::new();
        let mut counts: Option<DesiredCounts> = None;
        let mut failure: Option<anyhow::Error> = None;
        let mut done = futures::stream::iter(units).buffer_unordered(self.units_in_flight);
        while let Some(unit) = done.next().await {
            let (unit, unit_counts) = match unit {
                Ok(Some(unit)) => unit,
                Ok(None) => continue,
                Err(error) => {
                    failure.get_or_insert(error);
                    continue;
                }
            };
            if let Some(unit_counts) = unit_counts {
                counts
                    .get_or_insert_with(DesiredCounts::default)
                    .add(unit_counts);
            }
            for warning in &unit.warnings {
                tracing::warn!("{warning}");
            }
            gauge.extend(unit.gauge);
            for error in &unit.plan.errors {
                planner.register_error(error.cluster.as_deref(), &error.message);
            }
            for error in &unit.applied.errors {
                planner.register_error(None, error);
            }
            for action in unit.plan.actions {
                planner.push_action(action);
            }
            merge_report(&mut report, unit.applied);
            held.absorb(unit.deletes, unit.clients);
        }
        drop(done);
        if let Some(error) = failure {
            return Err(error);
        }
        if let Some(counts) = counts {
            tracing::info!(
                "desired state: {} {}(s) in {} namespace(s), {} error(s)",
                counts.objects,
                object_label(target.managed_types),
                counts.namespaces,
                counts.errors
            );
        }
        let plan = planner.finish();
        ctx.print_plan(&PrintedPlan {
            plan: &plan,
            include_unchanged: self.show_unchanged,
        })?;
        let metrics = engine_metrics();
        metrics.publish_samples(gauge);
        // The held deletes, now that the whole run decided whether they are made.
        let deletes = Plan {
            actions: plan
                .actions
                .iter()
                .filter(|action| action.action == Action::Delete)
                .cloned()
                .collect(),
            deletion_enabled: plan.deletion_enabled,
            deletion_disabled_reason: None,
            errors: Vec::new(),
        };
        if !deletes.actions.is_empty() {
            let engine = Engine::new(&held.clients, self.engine_options.clone());
            let deleted = engine
                .apply_plan(
                    &deletes,
                    &mut held.inventory,
                    &FetchReport::default(),
                    self.dry_run,
                )
                .await;
            merge_report(&mut report, deleted);
        }
        let metric_name = self.integration.replace('_', "-");
        metrics.record_apply(&report, &metric_name);
        let mut errors: Vec<String> = plan.errors.iter().map(|e| e.to_string()).collect();
        for e in &report.errors {
            if !errors.contains(e) {
                errors.push(e.clone());
            }
        }
        let changes = if self.dry_run {
            plan.changes().count()
        } else {
            report.outcomes.len()
        };
        Ok(RunOutcome { changes, errors })
    }

    async fn realize_unit(&self, input: UnitInput) -> UnitDone {
        let UnitInput {
            inventory: mut unit,
            specs,
            privileged,
        } = input;
        let clusters = match &self.secrets {
            Some(secrets) if !specs.is_empty() => {
                let options = ClusterMapOptions {
                    integration: self.integration.to_owned(),
                    privileged: privileged.iter().map(|(c, _)| c.clone()).collect(),
                    internal: self.internal,
                    concurrency: self.engine_options.concurrency,
                    ..ClusterMapOptions::default()
                };
                ClusterMap::build(specs, secrets.clone(), &options).await
            }
            _ => ClusterMap::default(),
        };
        for error in clusters.errors() {
            unit.register_error(Some(error.cluster()), error.to_string());
        }
        let mut options = self.engine_options.clone();
        options.privileged_namespaces = privileged;
        let engine = Engine::new(&clusters, options);
        let fetched = engine.fetch_current_state(&mut unit).await;
        let gauge = unit.inventory_gauge_samples(self.integration);
        // Deletes are decided over the whole run (see `realize_with`), not by this cluster's
        // errors alone.
        let unit_options = PlanOptions {
            errors_disable_deletes: false,
            ..self.plan_options.clone()
        };
        let plan = compute_plan(&mut unit, &unit_options);
        // Creates and updates now; deletes wait for the run (see `realize_with`).
        let applies = Plan {
            actions: plan
                .actions
                .iter()
                .filter(|action| action.phase == Phase::Apply && action.is_change())
                .cloned()
                .collect(),
            deletion_enabled: false,
            deletion_disabled_reason: None,
            errors: Vec::new(),
        };
        let applied = engine
            .apply_plan(&applies, &mut unit, &fetched, self.dry_run)
            .await;
        let mut deletes = ResourceInventory::new();
        for action in plan.actions.iter().filter(|a| a.action == Action::Delete) {
            if let Some(current) = unit.get_current(
                &action.cluster,
                &action.namespace,
                &action.resource_type,
                &action.name,
            ) {
                deletes.initialize_resource_type(
                    &action.cluster,
                    &action.namespace,
                    &action.resource_type,
                    None,
                );
                let _ = deletes.add_current(
                    &action.cluster,
                    &action.namespace,
                    &action.resource_type,
                    current.clone(),
                );
            }
        }
        drop(engine);
        UnitDone {
            plan,
            applied,
            deletes,
            clients: clusters,
            warnings: fetched.warnings,
            gauge,
        }
    }
}

/// The cluster objects whose deletes are held until the run decided on deletes, with the
/// clients of their clusters.
#[derive(Default)]
struct HeldDeletes {
    inventory: ResourceInventory,
    clients: ClusterMap,
}

impl HeldDeletes {
    fn absorb(&mut self, deletes: ResourceInventory, clients: ClusterMap) {
        let mut deletes = deletes;
        if deletes.is_empty() {
            return;
        }
        for cluster in deletes.cluster_names() {
            let unit = deletes.take_cluster(&cluster);
            self.inventory.absorb_cluster(unit);
        }
        self.clients.absorb(clients);
    }
}

/// Adds the outcomes of `from` to `into`.
fn merge_report(into: &mut ApplyReport, from: ApplyReport) {
    for (cluster, counts) in from.clusters {
        let summary = into.clusters.entry(cluster).or_default();
        summary.applied += counts.applied;
        summary.recreated += counts.recreated;
        summary.deleted += counts.deleted;
        summary.recycled += counts.recycled;
        summary.dry_run += counts.dry_run;
        summary.skipped += counts.skipped;
        summary.failed += counts.failed;
    }
    into.outcomes.extend(from.outcomes);
    into.errors.extend(from.errors);
    into.writes += from.writes;
}

#[cfg(test)]
mod label_tests {
    #[test]
    fn the_summary_names_the_kind_the_managed_types_share() {
        assert_eq!(super::object_label(&["LimitRange"]), "LimitRange");
        assert_eq!(
            super::object_label(&["NetworkPolicy.networking.k8s.io"]),
            "NetworkPolicy"
        );
        assert_eq!(
            super::object_label(&[
                "PrometheusRule.monitoring.coreos.com",
                "PrometheusRule.monitoring.rhobs"
            ]),
            "PrometheusRule"
        );
        assert_eq!(super::object_label(&[]), "object");
        assert_eq!(super::object_label(&["Secret", "ConfigMap"]), "object");
    }
}

#[cfg(test)]
mod desired_inventory_tests {
    use super::{ClusterSpec, Declared, DesiredInventory};
    use serde_json::json;

    fn spec(name: &str) -> ClusterSpec {
        ClusterSpec {
            name: name.to_owned(),
            server_url: format!("https://api.{name}:6443"),
            insecure_skip_tls_verify: false,
            automation_token: None,
            cluster_admin_automation_token: None,
            internal: None,
            disabled_integrations: Vec::new(),
        }
    }

    #[test]
    fn a_managed_namespace_brings_its_cluster_types_and_client() {
        let mut state = DesiredInventory::default();
        state.manage_namespace("c1", "a", true, &["LimitRange"], || spec("c1"));
        state.manage_namespace("c1", "b", false, &["LimitRange"], || {
            panic!("one spec per cluster")
        });
        assert_eq!(state.namespaces.len(), 2);
        assert_eq!(state.clusters.keys().collect::<Vec<_>>(), ["c1"]);
        assert!(
            state
                .privileged
                .contains(&("c1".to_owned(), "a".to_owned()))
        );
        assert!(
            !state
                .privileged
                .contains(&("c1".to_owned(), "b".to_owned()))
        );
        let managed: Vec<_> = state
            .inventory
            .iter()
            .map(|(c, n, t, _)| format!("{c}/{n}/{t}"))
            .collect();
        assert_eq!(managed, ["c1/a/LimitRange", "c1/b/LimitRange"]);
    }

    #[test]
    fn an_invalid_or_duplicate_object_is_an_error_on_its_cluster_naming_its_origin() {
        let mut state = DesiredInventory::default();
        state.manage_namespace("c1", "a", false, &["LimitRange"], || spec("c1"));
        let at = Declared {
            cluster: "c1",
            namespace: "a",
            privileged: false,
            origin: "c1/a limitRanges default",
        };
        let body = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "x"}});
        state.add_or_register(at, "LimitRange", body.clone(), "it", "0.1.0");
        assert!(state.inventory.errors().is_empty());
        assert_eq!(state.inventory.len().0, 1);
        state.add_or_register(at, "LimitRange", body, "it", "0.1.0");
        let no_name = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {}});
        state.add_or_register(at, "LimitRange", no_name, "it", "0.1.0");
        let errors: Vec<_> = state.inventory.errors().iter().collect();
        assert_eq!(errors.len(), 2);
        for error in errors {
            assert_eq!(error.cluster.as_deref(), Some("c1"));
            assert!(
                error.message.starts_with("c1/a limitRanges default: "),
                "{}",
                error.message
            );
        }
    }
}
