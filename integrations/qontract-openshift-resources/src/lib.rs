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

#[cfg(test)]
mod tests;

use clap::Args;
use qontract_gql_bindings::openshift_resources_namespaces::OpenshiftResourcesNamespaces;
use qontract_runtime::{Integration, RunContext, RunOutcome};

/// CLI name (and `integrations_v1` entry).
pub const NAME: &str = "openshift-resources";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftResources;

/// Arguments of `openshift-resources`.
#[derive(Debug, Clone, Args)]
pub struct OpenshiftResourcesArgs {
    /// Which namespaces and clusters, and how the plan is shown
    #[command(flatten)]
    pub target: qontract_realize::TargetArgs,
}

/// The namespaces query of a run, typed, with what its templates are rendered with: the
/// namespaces as JSON (the `resource` variable) and a renderer whose `vault()` reads through
/// the run's secret reader (built on first use) and whose `query()` goes through the run's
/// GraphQL client. Build the desired state on a blocking thread
/// (`tokio::task::spawn_blocking`): template helpers block on the runtime.
pub async fn query_namespaces(
    ctx: &RunContext,
) -> anyhow::Result<(OpenshiftResourcesNamespaces, desired::TemplateInputs)> {
    use cynic::QueryBuilder;
    // The typed operation's own document, so that the JSON decodes into the typed bindings.
    let operation = OpenshiftResourcesNamespaces::build(());
    let request = qontract_gql::GqlRequest {
        query: operation.query,
        variables: None,
        operation_name: operation.operation_name.map(|n| n.into_owned()),
    };
    let data = ctx.gql.query(&request).await?;
    let namespaces = data
        .get("namespaces")
        .and_then(serde_json::Value::as_array)
        .map(|list| list.iter().map(upstream_shape).collect())
        .unwrap_or_default();
    let typed: OpenshiftResourcesNamespaces = serde_json::from_value(data)
        .map_err(|e| anyhow::anyhow!("decoding the namespaces query: {e}"))?;
    let secrets = ctx.secrets.clone();
    let secrets = qontract_templates::SecretSource::lazy(move || {
        let provider = secrets.clone();
        async move { provider.reader().await.map_err(|e| format!("{e:#}")) }
    });
    let context = qontract_templates::TokioContext::new(
        tokio::runtime::Handle::current(),
        secrets,
        Some(ctx.gql.clone()),
    );
    let templates = desired::TemplateInputs {
        renderer: qontract_templates::Renderer::new(std::sync::Arc::new(context)),
        namespaces: std::sync::Arc::new(namespaces),
    };
    Ok((typed, templates))
}

/// A namespace as upstream's NAMESPACES_QUERY returns it to templates: the file of an
/// openshiftResource under `resource` (upstream queries `resource: path { ... }`; the typed
/// document asks for `path`), without `__typename`.
pub fn upstream_shape(namespace: &serde_json::Value) -> serde_json::Value {
    fn entry(value: &mut serde_json::Value) {
        if let serde_json::Value::Object(map) = value {
            map.remove("__typename");
            let is_secret = map.get("provider").and_then(|p| p.as_str()) == Some("vault-secret");
            if !is_secret && let Some(file) = map.shift_remove("path") {
                map.insert("resource".to_owned(), file);
            }
        }
    }
    let mut ns = namespace.clone();
    if let Some(list) = ns
        .get_mut("openshiftResources")
        .and_then(serde_json::Value::as_array_mut)
    {
        list.iter_mut().for_each(entry);
    }
    if let Some(shared) = ns
        .get_mut("sharedResources")
        .and_then(serde_json::Value::as_array_mut)
    {
        for file in shared {
            if let Some(list) = file
                .get_mut("openshiftResources")
                .and_then(serde_json::Value::as_array_mut)
            {
                list.iter_mut().for_each(entry);
            }
        }
    }
    ns
}

/// [`desired::desired_state_for`] on a blocking thread (template helpers block on the runtime).
pub async fn desired_state_blocking(
    namespaces: Vec<qontract_gql_bindings::openshift_resources_namespaces::NamespaceV1>,
    filter: desired::Filter,
    integration: &'static str,
    version: &'static str,
) -> anyhow::Result<desired::DesiredState> {
    tokio::task::spawn_blocking(move || {
        desired::desired_state_for(&namespaces, &filter, integration, version)
    })
    .await
    .map_err(|e| anyhow::anyhow!("building the desired state: {e}"))
}

/// The namespaces data as `{"state": {<cluster>: [namespaces]}}` (one shard per cluster).
pub fn shard_by_cluster(data: &serde_json::Value) -> serde_json::Value {
    let mut state = serde_json::Map::new();
    let namespaces = data.get("namespaces").and_then(|n| n.as_array());
    for ns in namespaces.into_iter().flatten() {
        let cluster = ns
            .pointer("/cluster/name")
            .and_then(|c| c.as_str())
            .unwrap_or_default()
            .to_owned();
        let entry = state
            .entry(cluster)
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = entry {
            list.push(ns.clone());
        }
    }
    serde_json::json!({ "state": state })
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
        let data = ctx.gql.query(&request).await?;
        Ok(Some(shard_by_cluster(&data)))
    }

    fn desired_state_shard_config() -> Option<qontract_runtime::DesiredStateShardConfig> {
        // Upstream's sharded_run_review accepts at most two shards.
        Some(qontract_runtime::DesiredStateShardConfig { max_shards: 2 })
    }

    fn args_for_shard(mut args: Self::Args, shard: &str) -> Self::Args {
        args.target.cluster_name = Some(shard.to_owned());
        args
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        let (data, templates) = query_namespaces(&ctx).await?;
        let filter = desired::Filter {
            integration: NAME,
            cluster_name: args.target.cluster_name,
            namespace_name: args.target.namespace_name,
            shard: ctx.shard,
            repo_url: desired::repo_url(data.settings.as_deref()),
            templates,
            ..Default::default()
        };
        let desired = desired_state_blocking(
            data.namespaces.unwrap_or_default(),
            filter,
            desired::ANNOTATION_NAME,
            desired::INTEGRATION_VERSION,
        )
        .await?;
        // Only clusters this run reaches (`--internal` / `--external`), as upstream's inventory.
        let internal = args.target.scope.internal();
        let unused: Vec<String> = desired::unused_resource_types(&desired.inventory)
            .into_iter()
            .filter(|(cluster, _)| {
                internal.is_none_or(|want| {
                    desired
                        .clusters
                        .get(cluster)
                        .is_some_and(|c| c.internal.unwrap_or(false) == want)
                })
            })
            .map(|(_, warning)| warning)
            .collect();
        let (desired_objects, _) = desired.inventory.len();
        tracing::info!(
            "desired state: {desired_objects} object(s) in {} namespace(s), {} error(s)",
            desired.namespaces,
            desired.inventory.errors().len()
        );
        let outcome = qontract_realize::realize_with(
            &ctx,
            qontract_realize::Realize {
                integration: NAME,
                annotation_name: desired::ANNOTATION_NAME,
                version: desired::INTEGRATION_VERSION,
                inventory: desired.inventory,
                clusters: desired.clusters,
                privileged: desired.privileged,
                show_unchanged: args.target.show_unchanged,
                caller: None,
                internal: args.target.scope.internal(),
            },
            desired::realize_options(),
        )
        .await?;
        // Upstream `openshift_resources.run` calls `check_unused_resource_types` after
        // `realize_data`, and only when the run had no error (it exits 1 before).
        if outcome.errors.is_empty() {
            for warning in &unused {
                tracing::warn!("{warning}");
            }
        }
        Ok(outcome)
    }
}
