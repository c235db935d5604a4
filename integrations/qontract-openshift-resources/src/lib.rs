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

use std::sync::Arc;

use qontract_gql_bindings::openshift_resources_namespaces::{
    NamespaceV1, OpenshiftResourcesNamespaces,
};
use qontract_realize::{DesiredInventory, NamespaceFilter, RealizeOptions};
use qontract_runtime::{
    ArgsOf, DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs, Query, QueryData,
    RunContext,
};
use serde::Deserialize as _;

/// CLI name (and `integrations_v1` entry).
pub const NAME: &str = "openshift-resources";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftResources;

/// What a run of openshift-resources (or -prometheus-rules) queries up front: the clusters of
/// the declared namespaces, a small answer. The namespaces themselves, with every resource's
/// content, are queried per cluster when that cluster's desired state is built
/// ([`NamespacesQuery::namespaces_of`]), so that a run holds one cluster's answer at a time.
#[derive(Debug)]
pub struct NamespacesQuery {
    /// The cluster of every declared namespace.
    pub clusters: Vec<String>,
}

/// The clusters of the declared namespaces (the units of a run streamed cluster by cluster).
const NAMESPACE_CLUSTERS_QUERY: &str = "query OpenshiftResourcesClusters {\n  namespaces: namespaces_v1 {\n    cluster {\n      name\n    }\n  }\n}\n";

impl Query for NamespacesQuery {
    async fn fetch(ctx: &RunContext) -> anyhow::Result<Self> {
        let data = ctx
            .gql
            .query(&qontract_gql::GqlRequest::new(NAMESPACE_CLUSTERS_QUERY))
            .await?;
        let clusters = raw_namespaces(&data)
            .iter()
            .filter_map(|ns| ns.pointer("/cluster/name")?.as_str().map(str::to_owned))
            .collect();
        Ok(Self { clusters })
    }
}

impl QueryData for NamespacesQuery {
    fn namespace_clusters(&self) -> Option<Vec<&str>> {
        Some(self.clusters.iter().map(String::as_str).collect())
    }
}

/// The namespaces of one run's scope as queried, with what their templates are rendered with.
#[derive(Debug)]
pub struct ScopeNamespaces {
    /// The settings' `repoUrl` (base of PrometheusRule `html_url` annotations).
    pub repo_url: Option<String>,
    /// The queried namespaces.
    pub namespaces: Arc<Vec<NamespaceV1>>,
    /// The namespaces as queried and the renderer of the run's templates.
    pub templates: desired::TemplateInputs,
}

impl NamespacesQuery {
    /// The namespaces of `scope`: of its cluster only when it names one (a streamed run's
    /// cluster, or `--cluster-name`), narrowed by qontract-server itself (the `filter`
    /// argument, `{cluster: {filter: {name: ...}}}`); every namespace otherwise.
    pub async fn namespaces_of(
        &self,
        ctx: &RunContext,
        scope: &NamespaceFilter,
    ) -> anyhow::Result<ScopeNamespaces> {
        let (mut data, templates) = query_namespaces(ctx, scope.cluster_name.as_deref()).await?;
        Ok(ScopeNamespaces {
            repo_url: desired::repo_url(data.settings.as_deref()),
            namespaces: Arc::new(data.namespaces.take().unwrap_or_default()),
            templates,
        })
    }
}

/// `query` with its root `namespaces_v1` listing narrowed to the namespaces of `cluster`
/// (qontract-server's `filter` argument on datafile listings; the answer is the namespaces
/// whose `cluster.name` is `cluster`, as the client-side `--cluster-name` check keeps).
pub fn narrowed_to_cluster(query: &str, cluster: &str) -> anyhow::Result<String> {
    const ROOT: &str = "namespaces_v1 {";
    let mut found = query.match_indices(ROOT);
    let (Some((at, _)), None) = (found.next(), found.next()) else {
        anyhow::bail!("the namespaces query has no single `{ROOT}` listing to narrow to a cluster");
    };
    // A JSON string is a GraphQL string literal (same escapes).
    let name = serde_json::to_string(cluster)?;
    let at = at + "namespaces_v1".len();
    Ok(format!(
        "{}(filter: {{cluster: {{filter: {{name: {name}}}}}}}){}",
        &query[..at],
        &query[at..]
    ))
}

/// The namespaces query of a run, typed, with what its templates are rendered with: the
/// namespaces as JSON (the `resource` variable) and a renderer whose `vault()` reads through
/// the run's secret reader (built on first use) and whose `query()` goes through the run's
/// GraphQL client. Build the desired state on a blocking thread
/// (`tokio::task::spawn_blocking`): template helpers block on the runtime.
pub async fn query_namespaces(
    ctx: &RunContext,
    cluster: Option<&str>,
) -> anyhow::Result<(OpenshiftResourcesNamespaces, desired::TemplateInputs)> {
    use cynic::QueryBuilder;
    let narrow = |query: String| match cluster {
        Some(cluster) => narrowed_to_cluster(&query, cluster),
        None => Ok(query),
    };
    // The typed operation's own document, so that the JSON decodes into the typed bindings.
    let operation = OpenshiftResourcesNamespaces::build(());
    let request = qontract_gql::GqlRequest {
        query: narrow(operation.query)?,
        variables: None,
        operation_name: operation.operation_name.map(|n| n.into_owned()),
    };
    let data = ctx.gql.query(&request).await?;
    let typed = OpenshiftResourcesNamespaces::deserialize(&data)
        .map_err(|e| anyhow::anyhow!("decoding the namespaces query: {e}"))?;
    // Templates see the namespace as upstream queries it. Only asked when there are templates;
    // a schema without some of upstream's fields (this project's example) leaves ours. Without
    // templates nothing reads the namespaces as JSON, so none are kept.
    let has_templates = typed
        .namespaces
        .iter()
        .flatten()
        .flat_map(desired::namespace_resources)
        .any(|r| matches!(r.provider.as_str(), "resource-template" | "prometheus-rule"));
    let namespaces = if has_templates {
        // Upstream's answer replaces ours namespace by namespace, and each is as large as the
        // estate's resources: ours is dropped first and read again only when the schema refuses
        // upstream's query.
        let paths: Vec<&str> = typed
            .namespaces
            .iter()
            .flatten()
            .map(|ns| ns.path.as_str())
            .collect();
        drop(data);
        match ctx
            .gql
            .query(&qontract_gql::GqlRequest::new(narrow(
                UPSTREAM_NAMESPACES_QUERY.to_owned(),
            )?))
            .await
        {
            Ok(mut upstream) => in_order_of(&paths, take_raw_namespaces(&mut upstream)),
            Err(e) => {
                tracing::info!(
                    "templates see this tool's namespace fields only: the GraphQL schema lacks \
                     some fields of upstream's namespaces query"
                );
                tracing::debug!("upstream's namespaces query: {e}");
                let mut data = ctx.gql.query(&request).await?;
                take_raw_namespaces(&mut data)
                    .iter()
                    .map(upstream_shape)
                    .collect()
            }
        }
    } else {
        drop(data);
        Vec::new()
    };
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

/// The namespaces of a namespaces query's `data`: `namespaces_v1` as the typed document asks
/// for it (no alias), `namespaces` as upstream's query aliases it.
pub fn raw_namespaces(data: &serde_json::Value) -> &[serde_json::Value] {
    data.get("namespaces_v1")
        .or_else(|| data.get("namespaces"))
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Upstream's `NAMESPACES_QUERY` (`openshift_resources_base.py`), verbatim.
pub const UPSTREAM_NAMESPACES_QUERY: &str = include_str!("upstream_namespaces.graphql");

/// The namespaces of a namespaces query's `data`, moved out of it ([`raw_namespaces`]).
fn take_raw_namespaces(data: &mut serde_json::Value) -> Vec<serde_json::Value> {
    let list = match data.get_mut("namespaces_v1") {
        Some(list) => Some(list),
        None => data.get_mut("namespaces"),
    };
    match list.map(serde_json::Value::take) {
        Some(serde_json::Value::Array(list)) => list,
        _ => Vec::new(),
    }
}

/// Upstream's namespaces in the order of `paths` (ours: the typed namespaces'), found by their
/// `path`; a namespace upstream's answer lacks is `null` (templates then see only its name,
/// path and cluster, as in unit tests).
fn in_order_of(paths: &[&str], upstream: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let mut by_path: std::collections::HashMap<String, serde_json::Value> = upstream
        .into_iter()
        .filter_map(|ns| Some((ns.get("path")?.as_str()?.to_owned(), ns)))
        .collect();
    paths
        .iter()
        .map(|path| by_path.remove(*path).unwrap_or(serde_json::Value::Null))
        .collect()
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
    namespaces: Arc<Vec<NamespaceV1>>,
    filter: desired::Filter,
    integration: &'static str,
    version: &'static str,
) -> anyhow::Result<DesiredInventory> {
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

impl InventoryIntegration for OpenshiftResources {
    type Args = NoArgs;
    type Query = NamespacesQuery;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Apply the openshiftResources declared on namespaces (resource, resource-template)",
        annotation_name: desired::ANNOTATION_NAME,
        // The desired state of a namespace depends on its own data only.
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, desired::INTEGRATION_VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        let queried = input.data.namespaces_of(input.ctx, input.scope).await?;
        let filter = desired::Filter {
            repo_url: queried.repo_url,
            templates: queried.templates,
            scope: input.scope.clone(),
            ..Default::default()
        };
        desired_state_blocking(
            queried.namespaces,
            filter,
            Self::INFO.annotation_name,
            Self::INFO.version,
        )
        .await
    }

    fn realize_options(_: &ArgsOf<Self>) -> RealizeOptions {
        desired::realize_options()
    }

    /// Upstream `openshift_resources.run` calls `check_unused_resource_types` after
    /// `realize_data`, and only when the run had no error (it exits 1 before); only clusters
    /// this run reaches (`--internal` / `--external`), as upstream's inventory.
    fn warnings_after_clean_run(desired: &DesiredInventory, args: &ArgsOf<Self>) -> Vec<String> {
        let internal = args.target.scope.internal();
        desired::unused_resource_types(&desired.inventory)
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
            .collect()
    }

    /// The namespaces data the desired state is built from (resources' content included).
    async fn early_exit_desired_state(
        ctx: &RunContext,
        _: &ArgsOf<Self>,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let request = qontract_gql::GqlRequest::new(
            qontract_gql_bindings::openshift_resources_namespaces::QUERY,
        );
        let data = ctx.gql.query(&request).await?;
        Ok(Some(shard_by_cluster(&data)))
    }
}

#[cfg(test)]
mod template_input_tests {
    use serde_json::json;

    #[test]
    fn templates_see_files_under_resource_as_upstreams_query_returns_them() {
        let ours = json!({
            "path": "/ns.yml",
            "openshiftResources": [
                {"provider": "resource-template", "__typename": "NamespaceOpenshiftResourceResourceTemplate_v1",
                 "path": {"path": "/a.yml", "content": "x"}, "type": null, "variables": null},
                {"provider": "vault-secret", "__typename": "NamespaceOpenshiftResourceVaultSecret_v1",
                 "path": "app-sre/x", "version": 1},
            ],
            "sharedResources": [{"path": "/shared.yml", "openshiftResources": [
                {"provider": "resource", "__typename": "NamespaceOpenshiftResourceResource_v1",
                 "path": {"path": "/b.yml", "content": "y"}, "validate_json": null},
            ]}],
        });
        assert_eq!(
            super::upstream_shape(&ours),
            json!({
                "path": "/ns.yml",
                "openshiftResources": [
                    {"provider": "resource-template", "type": null, "variables": null,
                     "resource": {"path": "/a.yml", "content": "x"}},
                    {"provider": "vault-secret", "path": "app-sre/x", "version": 1},
                ],
                "sharedResources": [{"path": "/shared.yml", "openshiftResources": [
                    {"provider": "resource", "validate_json": null,
                     "resource": {"path": "/b.yml", "content": "y"}},
                ]}],
            })
        );
    }

    #[test]
    fn the_typed_documents_namespaces_are_found() {
        use cynic::QueryBuilder;
        // The typed operation asks for `namespaces_v1` without alias: that key must be read,
        // or every template sees an empty namespace.
        let query = super::OpenshiftResourcesNamespaces::build(()).query;
        assert!(query.contains("namespaces_v1 {"), "{query}");
        let data = json!({"namespaces_v1": [{"name": "a"}]});
        assert_eq!(super::raw_namespaces(&data), &[json!({"name": "a"})]);
        let data = json!({"namespaces": [{"name": "b"}]});
        assert_eq!(super::raw_namespaces(&data), &[json!({"name": "b"})]);
    }

    #[test]
    fn a_cluster_narrows_the_root_namespaces_listing_of_both_queries() {
        use cynic::QueryBuilder;
        let ours = super::OpenshiftResourcesNamespaces::build(()).query;
        for query in [ours.as_str(), super::UPSTREAM_NAMESPACES_QUERY] {
            let narrowed = super::narrowed_to_cluster(query, "app-sre-prod-01").expect("narrows");
            assert!(
                narrowed.contains(
                    r#"namespaces_v1(filter: {cluster: {filter: {name: "app-sre-prod-01"}}}) {"#
                ),
                "{narrowed}"
            );
            assert_eq!(
                narrowed.len(),
                query.len() + 56,
                "only the argument is added"
            );
        }
        let quoted = super::narrowed_to_cluster("{ namespaces_v1 { name } }", "a\"b").unwrap();
        assert!(quoted.contains(r#"{name: "a\"b"}"#), "{quoted}");
        assert!(super::narrowed_to_cluster("{ clusters_v1 { name } }", "c").is_err());
    }

    #[test]
    fn upstreams_namespaces_follow_ours_by_path() {
        let upstream = vec![
            json!({"path": "/b.yml", "name": "b", "cluster": {"spec": {"region": "us-east-1"}}}),
            json!({"path": "/a.yml", "name": "a"}),
        ];
        let ordered = super::in_order_of(&["/a.yml", "/b.yml", "/c.yml"], upstream.clone());
        // A namespace upstream's answer lacks is null: templates then see the fallback.
        assert_eq!(
            ordered,
            vec![upstream[1].clone(), upstream[0].clone(), json!(null)]
        );
    }

    #[test]
    fn the_upstream_query_is_upstreams() {
        // Fields templates commonly reach that this tool's own query does not ask for.
        for field in [
            "spec {",
            "network {",
            "labels",
            "enable_query_support",
            "sharedResources {",
        ] {
            assert!(super::UPSTREAM_NAMESPACES_QUERY.contains(field), "{field}");
        }
    }
}
