//! `openshift-resources`: the `openshiftResources` of every managed namespace (providers
//! `resource` and `resource-template`, as upstream; other providers have their own
//! integrations) are applied with server-side apply; objects this integration applied that are
//! no longer declared are deleted — unless any error was registered in the run.
//!
//! The loop: desired state from GraphQL ([`desired`]) → current state of every managed
//! (cluster, namespace, type) → the plan of `qontract-resource-inventory` (create / update /
//! delete / no-op / skip with reasons) → printed (`--dry-run`, zero writes) or applied by
//! `qontract-openshift-engine`.

pub mod desired;

use clap::Args;
use qontract_cluster_client::{ClusterMap, ClusterMapOptions};
use qontract_gql_bindings::openshift_resources_namespaces::OpenshiftResourcesNamespaces;
use qontract_openshift_engine::{Engine, EngineOptions};
use qontract_resource_inventory::{
    PlanOptions, TableOptions, compute_plan, render_json, render_table,
};
use qontract_runtime::{Integration, OutputFormat, RunContext, RunOutcome};

/// CLI name (and `integrations_v1` entry).
pub const NAME: &str = "openshift-resources";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftResources;

/// Arguments of `openshift-resources`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftResourcesArgs {
    /// Only reconcile namespaces on this cluster
    #[arg(long, env = "CLUSTER_NAME")]
    pub cluster_name: Option<String>,
    /// Only reconcile the namespace with this name
    #[arg(long, env = "NAMESPACE_NAME")]
    pub namespace_name: Option<String>,
    /// List unchanged objects in the plan too
    #[arg(long, env = "QONTRACT_SHOW_UNCHANGED")]
    pub show_unchanged: bool,
}

impl Integration for OpenshiftResources {
    type Args = OpenshiftResourcesArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str =
        "Apply the openshiftResources declared on namespaces (resource, resource-template)";

    /// The namespaces data the desired state is built from (resources' content included).
    async fn early_exit_desired_state(
        ctx: RunContext,
        _args: Self::Args,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let request = qontract_gql::GqlRequest::new(
            qontract_gql_bindings::openshift_resources_namespaces::QUERY,
        );
        Ok(Some(ctx.gql.query(&request).await?))
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        let data = ctx.gql.run(OpenshiftResourcesNamespaces::build(())).await?;
        let filter = desired::Filter {
            integration: NAME,
            cluster_name: args.cluster_name,
            namespace_name: args.namespace_name,
            shard: ctx.shard,
        };
        let mut desired = desired::desired_state(&data.namespaces.unwrap_or_default(), &filter);
        let (desired_objects, _) = desired.inventory.len();
        tracing::info!(
            "desired state: {desired_objects} object(s) in {} namespace(s), {} error(s)",
            desired.namespaces,
            desired.inventory.errors().len()
        );
        let clusters = if desired.clusters.is_empty() {
            ClusterMap::default()
        } else {
            let options = ClusterMapOptions {
                integration: NAME.to_owned(),
                privileged: desired.privileged.iter().map(|(c, _)| c.clone()).collect(),
                concurrency: ctx.thread_pool_size,
                ..ClusterMapOptions::default()
            };
            let secrets = ctx.secrets.reader().await?;
            ClusterMap::build(
                desired.clusters.values().cloned().collect(),
                secrets,
                &options,
            )
            .await
        };
        for error in clusters.errors() {
            desired
                .inventory
                .register_error(Some(error.cluster()), error.to_string());
        }
        let mut options =
            EngineOptions::new(desired::ANNOTATION_NAME, desired::INTEGRATION_VERSION);
        options.concurrency = ctx.thread_pool_size;
        options.privileged_namespaces = desired.privileged.clone();
        let view = View {
            dry_run: ctx.dry_run,
            output: ctx.output,
            show_unchanged: args.show_unchanged,
        };
        reconcile(clusters, desired.inventory, options, view).await
    }
}

/// How the plan is shown and whether it is applied.
#[derive(Debug, Clone, Copy)]
struct View {
    dry_run: bool,
    output: OutputFormat,
    show_unchanged: bool,
}

/// Fetch the current state, plan, print, and apply (wet run) or not (dry run).
async fn reconcile(
    clusters: ClusterMap,
    mut inventory: qontract_resource_inventory::ResourceInventory,
    options: EngineOptions,
    view: View,
) -> anyhow::Result<RunOutcome> {
    let engine = Engine::new(&clusters, options);
    let fetched = engine.fetch_current_state(&mut inventory).await;
    for warning in &fetched.warnings {
        tracing::warn!("{warning}");
    }
    let plan = compute_plan(
        &mut inventory,
        &PlanOptions {
            dry_run: view.dry_run,
            ..PlanOptions::default()
        },
    );
    match view.output {
        OutputFormat::Text => print!(
            "{}",
            render_table(
                &plan,
                TableOptions {
                    include_unchanged: view.show_unchanged
                }
            )
        ),
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&render_json(&plan, None))?
            )
        }
    }
    for action in plan.changes() {
        if let Some(line) = action.upstream_log_line() {
            tracing::info!("{line}");
        }
    }
    let report = engine
        .apply_plan(&plan, &mut inventory, &fetched, view.dry_run)
        .await;
    let mut errors: Vec<String> = plan.errors.iter().map(|e| e.to_string()).collect();
    for e in &report.errors {
        if !errors.contains(e) {
            errors.push(e.clone());
        }
    }
    let changes = if view.dry_run {
        plan.changes().count()
    } else {
        report.outcomes.len()
    };
    Ok(RunOutcome { changes, errors })
}
