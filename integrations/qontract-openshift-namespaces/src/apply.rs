//! Reading namespaces from the clusters and carrying out the plan.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use qontract_cluster_client::ClusterMap;

use crate::desired::DesiredNamespace;
use crate::plan::{NamespaceAction, NamespacePlan, Observed, PlannedNamespace};

fn api(clusters: &ClusterMap, cluster: &str, privileged: bool) -> Result<Api<Namespace>, String> {
    match clusters.get(cluster, privileged) {
        Some(Ok(c)) => Ok(Api::all(c.client.clone())),
        Some(Err(e)) => Err(e.to_string()),
        None => Err(format!(
            "[{cluster}] has no client (cluster skipped or unknown)"
        )),
    }
}

/// Look up every desired namespace on its cluster (GETs only), at most `concurrency` at a time.
pub async fn observe(
    clusters: &ClusterMap,
    desired: &[DesiredNamespace],
    concurrency: usize,
) -> Vec<Observed> {
    futures::stream::iter(desired.iter().cloned())
        .map(|d: DesiredNamespace| async move {
            let api = match api(clusters, &d.cluster, d.privileged) {
                Ok(api) => api,
                Err(e) => return Observed::Unknown(e),
            };
            match api.get_opt(&d.namespace).await {
                Ok(Some(_)) => Observed::Present,
                Ok(None) => Observed::Absent,
                Err(e) => Observed::Unknown(format!(
                    "[{}] cannot read namespace {}: {e}",
                    d.cluster, d.namespace
                )),
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// The Python tool's action log line, e.g. `['create', 'cluster-1', 'app-a-stage']`.
pub fn log_line(a: &PlannedNamespace) -> String {
    let verb = match a.action {
        NamespaceAction::Create => "create",
        NamespaceAction::Delete => "delete",
        NamespaceAction::NoOp => "no-op",
        NamespaceAction::Skip => "skip",
    };
    format!(
        "['{verb}', '{}', '{}'] {}",
        a.cluster, a.namespace, a.reason
    )
}

/// What the wet run did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Changes carried out.
    pub done: usize,
    /// Failed changes (each names cluster and namespace).
    pub errors: Vec<String>,
}

/// Carry out the creates and deletes of `plan`; a failure is registered and the rest goes on.
pub async fn apply(clusters: &ClusterMap, plan: &NamespacePlan, concurrency: usize) -> Applied {
    let changes: Vec<PlannedNamespace> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.action, NamespaceAction::Create | NamespaceAction::Delete))
        .cloned()
        .collect();
    let results: Vec<Result<(), String>> = futures::stream::iter(changes)
        .map(|a: PlannedNamespace| async move {
            tracing::info!("{}", log_line(&a));
            let api = api(clusters, &a.cluster, a.privileged)?;
            let result = match a.action {
                NamespaceAction::Create => {
                    let ns = Namespace {
                        metadata: ObjectMeta {
                            name: Some(a.namespace.clone()),
                            ..ObjectMeta::default()
                        },
                        ..Namespace::default()
                    };
                    api.create(&PostParams::default(), &ns).await.map(|_| ())
                }
                NamespaceAction::Delete => api
                    .delete(&a.namespace, &DeleteParams::default())
                    .await
                    .map(|_| ()),
                NamespaceAction::NoOp | NamespaceAction::Skip => Ok(()),
            };
            result.map_err(|e| {
                format!(
                    "[{}] cannot {} namespace {}: {e}",
                    a.cluster,
                    a.action_label(),
                    a.namespace
                )
            })
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut applied = Applied::default();
    for r in results {
        match r {
            Ok(()) => applied.done += 1,
            Err(e) => applied.errors.push(e),
        }
    }
    applied
}
