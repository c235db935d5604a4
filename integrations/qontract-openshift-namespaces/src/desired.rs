//! Desired state of `openshift-namespaces`: which namespace should exist (or be absent) where.

use std::collections::{BTreeMap, BTreeSet};

use qontract_cluster_client::ClusterSpec;
use qontract_gql_bindings::namespaces_minimal::{ClusterV1, NamespaceV1, VaultSecret};
use serde::Serialize;

/// What narrows a run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Integration name, checked against `cluster.disable.integrations`.
    pub integration: &'static str,
    /// `--cluster-name`.
    pub cluster_name: Option<String>,
    /// `--namespace-name`.
    pub namespace_name: Option<String>,
    /// `--internal` (Some(true)) / `--external` (Some(false)).
    pub internal: Option<bool>,
    /// This process's shard: namespaces are sharded by `"<cluster>/<namespace>"`, as upstream.
    pub shard: qontract_sharding::ShardConfig,
}

/// One namespace and whether it must exist.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DesiredNamespace {
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub namespace: String,
    /// `true`: must be absent.
    pub delete: bool,
    /// Use the cluster-admin client (`clusterAdmin: true` on a declaration).
    pub privileged: bool,
    /// Datafile(s) declaring it.
    pub paths: Vec<String>,
}

/// The desired state: namespaces to act on, and declarations that contradict each other.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DesiredState {
    /// Namespaces, sorted by cluster then name.
    pub namespaces: Vec<DesiredNamespace>,
    /// Contradicting declarations (never acted upon).
    pub errors: Vec<String>,
    /// Connection data of every cluster involved.
    #[serde(skip)]
    pub clusters: BTreeMap<String, ClusterSpec>,
}

impl DesiredState {
    /// The clusters involved.
    pub fn cluster_names(&self) -> BTreeSet<&str> {
        self.namespaces.iter().map(|n| n.cluster.as_str()).collect()
    }
}

fn vault_secret(s: &VaultSecret) -> qontract_secrets::VaultSecret {
    qontract_secrets::VaultSecret {
        path: s.path.clone(),
        field: s.field.clone(),
        version: s.version.and_then(|v| u64::try_from(v).ok()),
        format: s.format.clone(),
    }
}

/// The connection data of a namespace's cluster.
pub fn cluster_spec(cluster: &ClusterV1) -> ClusterSpec {
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

/// Compute the desired state from the namespaces of app-interface.
pub fn desired_state(namespaces: &[NamespaceV1], filter: &Filter) -> DesiredState {
    /// (delete, clusterAdmin, datafile path) of one declaration.
    type Declaration = (bool, bool, String);
    let mut by_key: BTreeMap<(String, String), Vec<Declaration>> = BTreeMap::new();
    let mut clusters = BTreeMap::new();
    for ns in namespaces {
        let cluster = &ns.cluster;
        let disabled = cluster
            .disable
            .as_ref()
            .and_then(|d| d.integrations.as_ref())
            .is_some_and(|list| list.iter().any(|i| i == filter.integration));
        if disabled {
            continue;
        }
        if ns.managed_by_external.unwrap_or(false) {
            continue;
        }
        if filter
            .cluster_name
            .as_ref()
            .is_some_and(|c| c != &cluster.name)
        {
            continue;
        }
        if filter
            .namespace_name
            .as_ref()
            .is_some_and(|n| n != &ns.name)
        {
            continue;
        }
        if filter
            .internal
            .is_some_and(|internal| cluster.internal.unwrap_or(false) != internal)
        {
            continue;
        }
        if !filter
            .shard
            .is_in_shard(&format!("{}/{}", cluster.name, ns.name))
        {
            continue;
        }
        clusters
            .entry(cluster.name.clone())
            .or_insert_with(|| cluster_spec(cluster));
        by_key
            .entry((cluster.name.clone(), ns.name.clone()))
            .or_default()
            .push((
                ns.delete.unwrap_or(false),
                ns.cluster_admin.unwrap_or(false),
                ns.path.clone(),
            ));
    }
    let mut state = DesiredState {
        clusters,
        ..DesiredState::default()
    };
    for ((cluster, namespace), decls) in by_key {
        let deletes: BTreeSet<bool> = decls.iter().map(|(d, _, _)| *d).collect();
        let privileged = decls.iter().any(|(_, admin, _)| *admin);
        let mut paths: Vec<String> = decls.into_iter().map(|(_, _, p)| p).collect();
        paths.sort();
        if deletes.len() > 1 {
            state.errors.push(format!(
                "cluster {cluster}: namespace {namespace} is declared both with and without \
                 delete: true ({}); it is left untouched",
                paths.join(", ")
            ));
            continue;
        }
        let delete = deletes.into_iter().next().unwrap_or(false);
        state.namespaces.push(DesiredNamespace {
            cluster,
            namespace,
            delete,
            privileged,
            paths,
        });
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_gql_bindings::namespaces_minimal::{
        ClusterV1, DisableClusterAutomationsV1, NamespaceV1,
    };

    fn ns(cluster: &str, name: &str, delete: Option<bool>, path: &str) -> NamespaceV1 {
        NamespaceV1 {
            name: name.into(),
            path: path.into(),
            delete,
            labels: None,
            cluster_admin: None,
            managed_by_external: None,
            cluster: ClusterV1 {
                name: cluster.into(),
                server_url: format!("https://api.{cluster}:6443"),
                insecure_skip_tlsverify: None,
                automation_token: None,
                cluster_admin_automation_token: None,
                internal: Some(cluster == "internal"),
                disable: (cluster == "disabled").then(|| DisableClusterAutomationsV1 {
                    integrations: Some(vec!["openshift-namespaces".into()]),
                }),
            },
        }
    }

    fn filter() -> Filter {
        Filter {
            integration: "openshift-namespaces",
            ..Filter::default()
        }
    }

    #[test]
    fn disabled_clusters_are_skipped_and_duplicates_merge() {
        let state = desired_state(
            &[
                ns("c1", "a", None, "/a.yml"),
                ns("c1", "a", Some(false), "/a2.yml"),
                ns("disabled", "b", None, "/b.yml"),
                ns("c2", "old", Some(true), "/old.yml"),
            ],
            &filter(),
        );
        assert!(state.errors.is_empty());
        let got: Vec<(&str, &str, bool)> = state
            .namespaces
            .iter()
            .map(|n| (n.cluster.as_str(), n.namespace.as_str(), n.delete))
            .collect();
        assert_eq!(got, [("c1", "a", false), ("c2", "old", true)]);
        assert_eq!(state.namespaces[0].paths, ["/a.yml", "/a2.yml"]);
    }

    #[test]
    fn contradicting_declarations_are_errors_not_actions() {
        let state = desired_state(
            &[
                ns("c1", "a", None, "/a.yml"),
                ns("c1", "a", Some(true), "/a-del.yml"),
            ],
            &filter(),
        );
        assert!(state.namespaces.is_empty());
        assert_eq!(state.errors.len(), 1);
        assert!(
            state.errors[0].contains("cluster c1: namespace a"),
            "{}",
            state.errors[0]
        );
        assert!(
            state.errors[0].contains("/a-del.yml"),
            "{}",
            state.errors[0]
        );
    }

    #[test]
    fn filters_narrow_the_run() {
        let all = vec![
            ns("c1", "a", None, "/a.yml"),
            ns("c2", "a", None, "/a.yml"),
            ns("internal", "b", None, "/b.yml"),
        ];
        let f = Filter {
            cluster_name: Some("c2".into()),
            ..filter()
        };
        assert_eq!(
            desired_state(&all, &f).cluster_names(),
            BTreeSet::from(["c2"])
        );
        let f = Filter {
            internal: Some(true),
            ..filter()
        };
        assert_eq!(
            desired_state(&all, &f).cluster_names(),
            BTreeSet::from(["internal"])
        );
        let f = Filter {
            namespace_name: Some("b".into()),
            ..filter()
        };
        assert_eq!(desired_state(&all, &f).namespaces.len(), 1);
    }
}
