//! What openshift-groups and openshift-users share (upstream `openshift_users` imports
//! `openshift_groups`): the clients of the clusters, OpenShift's `user.openshift.io/v1` API,
//! and a plan of per-cluster actions printed, logged as upstream logs it, and carried out.

use std::collections::BTreeMap;
use std::ops::Deref;

use kube::api::ApiResource;
use qontract_cluster_client::{ClusterMap, ClusterMapOptions};
use qontract_gql_bindings::fragments::ClusterConnection;
use qontract_runtime::{ClusterScope, OutputFormat, RunContext, RunOutcome};
use serde_json::Value;

/// The resource `kind` (`plural`) of `user.openshift.io/v1`: `Group`, `User`, `Identity`.
pub fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: "user.openshift.io".into(),
        version: "v1".into(),
        api_version: "user.openshift.io/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// The automation-token clients of `clusters` that have a working one, by cluster name
/// (upstream `init_oc_map_from_clusters`: a cluster without one is logged and skipped), on the
/// `--internal` / `--external` side `scope` selects.
pub async fn cluster_clients<'a, C>(
    ctx: &RunContext,
    scope: &ClusterScope,
    clusters: impl IntoIterator<Item = &'a C>,
) -> anyhow::Result<BTreeMap<String, kube::Client>>
where
    C: Deref<Target = ClusterConnection> + 'a,
{
    let options = ClusterMapOptions {
        integration: ctx.integration.to_owned(),
        internal: scope.internal(),
        concurrency: ctx.thread_pool_size,
        ..ClusterMapOptions::default()
    };
    let specs: Vec<_> = clusters
        .into_iter()
        .map(|cluster| qontract_realize::cluster_spec(cluster))
        .collect();
    let names: Vec<String> = specs.iter().map(|spec| spec.name.clone()).collect();
    let secrets = ctx.secrets.reader().await?;
    let map = ClusterMap::build(specs, secrets, &options).await;
    Ok(names
        .into_iter()
        .filter_map(|name| match map.get(&name, false) {
            Some(Ok(client)) => Some((name, client.client.clone())),
            _ => None,
        })
        .collect())
}

/// The outcome of a run that fails before any change with `errors` (upstream raises; the
/// runner logs each one).
pub fn refused(errors: &[impl ToString]) -> RunOutcome {
    RunOutcome {
        changes: 0,
        errors: errors.iter().map(ToString::to_string).collect(),
    }
}

/// One action of a plan on one cluster.
pub trait PlannedAction {
    /// The cluster it acts on.
    fn cluster(&self) -> &str;
    /// Its entry in the `--output json` plan.
    fn to_json(&self) -> Value;
    /// Its line in the text plan (fields separated by two spaces).
    fn text_line(&self) -> String;
    /// The line upstream logs for it (`['del_user', 'c1', 'ada']`).
    fn log_line(&self) -> String;
}

/// Print `plan` in the run's output format, then log each action as upstream does and, unless
/// this is a dry run, carry it out with `act` on its cluster's client (clusters without one
/// are skipped). The error messages of the actions that failed; the others are still tried.
pub async fn print_and_carry_out<T: PlannedAction>(
    ctx: &RunContext,
    clients: &BTreeMap<String, kube::Client>,
    plan: &[T],
    act: impl AsyncFn(&kube::Client, &T) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<String>> {
    match ctx.output {
        OutputFormat::Json => {
            let entries: Vec<Value> = plan.iter().map(PlannedAction::to_json).collect();
            println!("{}", serde_json::to_string_pretty(&entries)?);
        }
        OutputFormat::Text => {
            for action in plan {
                println!("{}", action.text_line());
            }
        }
    }
    let mut errors = Vec::new();
    for action in plan {
        tracing::info!("{}", action.log_line());
        if ctx.dry_run {
            continue;
        }
        let Some(client) = clients.get(action.cluster()) else {
            continue;
        };
        if let Err(e) = act(client, action).await {
            let message = format!("{e:#}");
            tracing::error!("{message}");
            errors.push(message);
        }
    }
    Ok(errors)
}
