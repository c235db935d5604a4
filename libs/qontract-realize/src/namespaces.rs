//! The shared tail of openshift-namespaces: cluster clients → which declared namespaces exist
//! → plan (in the shared [`Plan`](qontract_resource_inventory::Plan) format) → print → create /
//! delete (upstream `openshift_namespaces.run` after its desired state).

use std::collections::{BTreeMap, BTreeSet};

use qontract_cluster_client::{ClusterMap, ClusterMapOptions, ClusterSpec};
use qontract_openshift_engine::{Engine, EngineOptions};
use qontract_resource_inventory::{
    DesiredNamespace, RegisteredError, namespace_gauge_samples, plan_namespaces,
};
use qontract_runtime::{Realizable, RealizeTarget, RunContext, RunOutcome};

use crate::{PrintedPlan, engine_metrics};

/// The desired state of openshift-namespaces: the namespaces to act on and the duplicate
/// declarations.
#[derive(Debug, Clone, Default)]
pub struct DesiredNamespaces {
    /// Namespaces, sorted by cluster then name.
    pub namespaces: Vec<DesiredNamespace>,
    /// Duplicate declarations (never acted upon; each is a run error).
    pub errors: Vec<String>,
    /// Connection data of every cluster involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
}

impl Realizable for DesiredNamespaces {
    type Options = ();

    /// `{"state": {<cluster>: [namespaces]}, "errors": [...]}`, one shard per cluster so that
    /// `--check-only-affected-shards` dry-runs only the clusters that changed.
    fn early_exit_state(&self) -> serde_json::Value {
        let mut state = serde_json::Map::new();
        for namespace in &self.namespaces {
            let entry = state
                .entry(namespace.cluster.clone())
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(list) = entry {
                list.push(serde_json::json!({
                    "namespace": namespace.name,
                    "delete": namespace.delete,
                    "privileged": namespace.privileged,
                }));
            }
        }
        serde_json::json!({ "state": state, "errors": self.errors })
    }

    async fn realize(
        self,
        ctx: &RunContext,
        target: RealizeTarget,
        (): (),
    ) -> anyhow::Result<RunOutcome> {
        tracing::info!(
            "desired state: {} namespace(s) on {} cluster(s), {} error(s)",
            self.namespaces.len(),
            self.clusters.len(),
            self.errors.len()
        );
        let run = RealizeNamespaces {
            integration: target.integration,
            desired: self.namespaces,
            clusters: self.clusters,
            errors: self.errors,
            show_unchanged: target.show_unchanged,
            internal: target.internal,
        };
        realize_namespaces(ctx, run).await
    }
}

/// What openshift-namespaces hands over after building its desired state.
#[derive(Debug, Default)]
pub struct RealizeNamespaces {
    /// CLI name (matched against `disable.integrations`, used in metrics).
    pub integration: &'static str,
    /// The declared namespaces of this run.
    pub desired: Vec<DesiredNamespace>,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// Errors found while building the desired state (e.g. duplicate declarations); each
    /// disables deletes and makes the run exit 1.
    pub errors: Vec<String>,
    /// List unchanged namespaces in the text plan too.
    pub show_unchanged: bool,
    /// `--internal` (Some(true)) / `--external` (Some(false)) / all clusters (None).
    pub internal: Option<bool>,
}

/// Build the clients, read which declared namespaces exist, plan, print and (wet run) create
/// and delete. The engine's metrics are published as for every other integration: the
/// inventory gauge with the declared namespaces per cluster (upstream
/// `publish_cluster_desired_metrics_from_state`) and the action counters.
pub async fn realize_namespaces(
    ctx: &RunContext,
    mut run: RealizeNamespaces,
) -> anyhow::Result<RunOutcome> {
    if let Some(want) = run.internal {
        let out_of_scope: BTreeSet<String> = run
            .clusters
            .values()
            .filter(|c| c.internal.unwrap_or(false) != want)
            .map(|c| c.name.clone())
            .collect();
        run.desired.retain(|n| !out_of_scope.contains(&n.cluster));
        run.clusters.retain(|name, _| !out_of_scope.contains(name));
    }
    let involved: BTreeSet<&str> = run.desired.iter().map(|n| n.cluster.as_str()).collect();
    let clusters = if involved.is_empty() {
        ClusterMap::default()
    } else {
        let options = ClusterMapOptions {
            integration: run.integration.to_owned(),
            privileged: run
                .desired
                .iter()
                .filter(|n| n.privileged)
                .map(|n| n.cluster.clone())
                .collect(),
            internal: run.internal,
            concurrency: ctx.thread_pool_size,
            ..ClusterMapOptions::default()
        };
        let specs: Vec<ClusterSpec> = run
            .clusters
            .values()
            .filter(|c| involved.contains(c.name.as_str()))
            .cloned()
            .collect();
        let secrets = ctx.secrets.reader().await?;
        ClusterMap::build(specs, secrets, &options).await
    };
    let mut errors: Vec<RegisteredError> = run
        .errors
        .iter()
        .map(|message| RegisteredError {
            cluster: None,
            message: message.clone(),
        })
        .collect();
    for error in clusters.errors() {
        let registered = RegisteredError {
            cluster: Some(error.cluster().to_owned()),
            message: error.to_string(),
        };
        if !errors.contains(&registered) {
            errors.push(registered);
        }
    }
    let mut options = EngineOptions::new(run.integration, env!("CARGO_PKG_VERSION"));
    options.concurrency = ctx.thread_pool_size;
    let engine = Engine::new(&clusters, options);
    let read = engine.read_namespaces(&run.desired).await;
    for error in &read.errors {
        tracing::error!("{error}");
    }
    errors.extend(read.errors.iter().cloned());
    let plan = plan_namespaces(&run.desired, &read.observed, errors);
    ctx.print_plan(&PrintedPlan {
        plan: &plan,
        include_unchanged: run.show_unchanged,
    })?;
    let metrics = engine_metrics();
    metrics.publish_samples(namespace_gauge_samples(&run.desired, run.integration));
    let report = engine.apply_namespace_plan(&plan, &read, ctx.dry_run).await;
    metrics.record_apply(&report, run.integration);
    let mut errors: Vec<String> = plan.errors.iter().map(ToString::to_string).collect();
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
