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
    Action, Phase, Plan, PlanOptions, Planner, Reason, ResourceInventory, TableOptions,
    compute_plan, render_json, render_table,
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

/// How many clusters a run reads, plans and applies at the same time. Each has its share of
/// `--thread-pool-size` requests in flight; two keep the connections busy while one cluster's
/// clients are built and its plan is decided.
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
/// held deletes are made.
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
    let plan_options = PlanOptions {
        dry_run: ctx.dry_run,
        caller: run.caller.clone(),
        take_over: realize_options.take_over,
        ..PlanOptions::default()
    };
    let units_in_flight = CLUSTERS_IN_FLIGHT
        .min(run.inventory.cluster_names().len())
        .max(1);
    let mut engine_options = EngineOptions::new(run.annotation_name, run.version);
    engine_options.concurrency = ctx.thread_pool_size.div_ceil(units_in_flight).max(1);
    engine_options.caller_filter = run.caller.clone();
    engine_options.skip_argocd_managed = realize_options.skip_argocd_managed;
    let secrets = if run.clusters.is_empty() {
        None
    } else {
        Some(ctx.secrets.reader().await?)
    };
    let stream = UnitStream {
        ctx,
        integration: run.integration,
        privileged: &run.privileged,
        engine_options: &engine_options,
        plan_options: &plan_options,
        secrets: secrets.as_ref(),
        internal: run.internal,
    };
    let units: Vec<(ResourceInventory, Option<ClusterSpec>)> = run
        .inventory
        .cluster_names()
        .into_iter()
        .map(|cluster| {
            let spec = run.clusters.get(&cluster).cloned();
            (run.inventory.take_cluster(&cluster), spec)
        })
        .collect();
    // What is left: errors of no cluster (or of clusters without managed namespaces).
    let mut planner = Planner::new(plan_options.clone());
    for error in run.inventory.errors() {
        planner.register_error(error.cluster.as_deref(), &error.message);
    }
    let mut held = HeldDeletes::default();
    let mut report = ApplyReport {
        dry_run: ctx.dry_run,
        ..ApplyReport::default()
    };
    let mut gauge = Vec::new();
    let metric_name = run.integration.replace('_', "-");
    let mut done = futures::stream::iter(units)
        .map(|(unit, spec)| stream.realize_unit(unit, spec))
        .buffer_unordered(units_in_flight);
    while let Some(unit) = done.next().await {
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
    let plan = planner.finish();
    ctx.print_plan(&PrintedPlan {
        plan: &plan,
        include_unchanged: run.show_unchanged,
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
        let engine = Engine::new(&held.clients, engine_options.clone());
        let deleted = engine
            .apply_plan(
                &deletes,
                &mut held.inventory,
                &FetchReport::default(),
                ctx.dry_run,
            )
            .await;
        merge_report(&mut report, deleted);
    }
    metrics.record_apply(&report, &metric_name);
    let mut errors: Vec<String> = plan.errors.iter().map(|e| e.to_string()).collect();
    for e in &report.errors {
        if !errors.contains(e) {
            errors.push(e.clone());
        }
    }
    let changes = if ctx.dry_run {
        plan.changes().count()
    } else {
        report.outcomes.len()
    };
    Ok(RunOutcome { changes, errors })
}

/// What the clusters of a streamed run share.
struct UnitStream<'a> {
    ctx: &'a RunContext,
    integration: &'static str,
    privileged: &'a BTreeSet<(String, String)>,
    engine_options: &'a EngineOptions,
    plan_options: &'a PlanOptions,
    secrets: Option<&'a std::sync::Arc<dyn qontract_secrets::SecretReader>>,
    internal: Option<bool>,
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

impl UnitStream<'_> {
    async fn realize_unit(
        &self,
        mut unit: ResourceInventory,
        spec: Option<ClusterSpec>,
    ) -> UnitDone {
        let clusters = match (spec, self.secrets) {
            (Some(spec), Some(secrets)) => {
                let privileged = self
                    .privileged
                    .iter()
                    .filter(|(c, _)| *c == spec.name)
                    .map(|(c, _)| c.clone())
                    .collect();
                let options = ClusterMapOptions {
                    integration: self.integration.to_owned(),
                    privileged,
                    internal: self.internal,
                    concurrency: self.engine_options.concurrency,
                    ..ClusterMapOptions::default()
                };
                ClusterMap::build(vec![spec], secrets.clone(), &options).await
            }
            _ => ClusterMap::default(),
        };
        for error in clusters.errors() {
            unit.register_error(Some(error.cluster()), error.to_string());
        }
        let mut options = self.engine_options.clone();
        options.privileged_namespaces = self.privileged.clone();
        let engine = Engine::new(&clusters, options);
        let fetched = engine.fetch_current_state(&mut unit).await;
        let gauge = unit.inventory_gauge_samples(self.integration);
        let mut plan = compute_plan(&mut unit, self.plan_options);
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
            .apply_plan(&applies, &mut unit, &fetched, self.ctx.dry_run)
            .await;
        // Deletes the unit's own errors disabled are decided again over the whole run.
        for action in &mut plan.actions {
            if let Reason::DeletionDisabledByErrors(would) = &mut action.reason {
                let would = std::mem::replace(would.as_mut(), Reason::UpToDate);
                action.reason = would;
                action.action = Action::Delete;
            }
        }
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
