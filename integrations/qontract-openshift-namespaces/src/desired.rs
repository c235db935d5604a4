//! Desired state of `openshift-namespaces`: which namespace should exist (or be absent) where
//! (upstream `openshift_namespaces.get_namespaces` and `build_desired_state`).

use std::collections::BTreeMap;

use qontract_gql_bindings::namespaces_minimal::NamespaceV1;
use qontract_resource_inventory::DesiredNamespace;

/// What narrows a run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The integration (checked against `cluster.disable.integrations`), `--cluster-name`,
    /// `--namespace-name` and this process's shard (by `"<cluster>/<namespace>"`, as upstream).
    pub scope: qontract_realize::NamespaceFilter,
    /// `--internal` (Some(true)) / `--external` (Some(false)).
    pub internal: Option<bool>,
}

/// The desired state: the namespaces to act on and the duplicate declarations.
pub type DesiredState = qontract_realize::DesiredNamespaces;

/// Compute the desired state from the namespaces of app-interface, as upstream
/// `get_namespaces`: the namespaces of this shard are grouped by `"<cluster>/<namespace>"`; a
/// key declared more than once is an error ("Found multiple definitions for the namespace
/// ...") and is not acted upon; namespaces with `managedByExternal: true` are skipped; then
/// `--cluster-name` / `--namespace-name` narrow the run. On top of upstream (where the cluster
/// client is simply missing), clusters that disable this integration and clusters outside
/// `--internal` / `--external` are dropped here.
pub fn desired_state(namespaces: &[NamespaceV1], filter: &Filter) -> DesiredState {
    let mut by_key: BTreeMap<(String, String), Vec<&NamespaceV1>> = BTreeMap::new();
    for ns in namespaces {
        if filter
            .scope
            .shard
            .is_in_shard(&format!("{}/{}", ns.cluster.name, ns.name))
        {
            by_key
                .entry((ns.cluster.name.clone(), ns.name.clone()))
                .or_default()
                .push(ns);
        }
    }
    let mut state = DesiredState::default();
    for ((cluster, name), declarations) in by_key {
        let [ns] = declarations.as_slice() else {
            let mut paths: Vec<&str> = declarations.iter().map(|d| d.path.as_str()).collect();
            paths.sort_unstable();
            let message = format!(
                "Found multiple definitions for the namespace {cluster}/{name} ({}); it is left untouched",
                paths.join(", ")
            );
            tracing::error!("{message}");
            state.errors.push(message);
            continue;
        };
        if ns.managed_by_external.unwrap_or(false) {
            continue;
        }
        if !filter.scope.targets(&cluster, &name) {
            continue;
        }
        let disable = ns.cluster.disable.as_ref();
        let disabled = filter
            .scope
            .disabled_on(disable.and_then(|d| d.integrations.as_deref()));
        let out_of_scope = filter
            .internal
            .is_some_and(|internal| ns.cluster.internal.unwrap_or(false) != internal);
        if disabled || out_of_scope {
            continue;
        }
        state
            .clusters
            .entry(cluster.clone())
            .or_insert_with(|| qontract_realize::cluster_spec(&ns.cluster));
        state.namespaces.push(DesiredNamespace {
            cluster,
            name,
            delete: ns.delete.unwrap_or(false),
            privileged: ns.cluster_admin.unwrap_or(false),
        });
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_gql_bindings::namespaces_minimal::NamespaceV1;
    use qontract_realize::NamespaceFilter;
    use qontract_test_support::fixtures;

    /// Namespace `name` declared in `path`; cluster `internal` is internal and cluster
    /// `disabled` disables this integration.
    fn ns(cluster: &str, name: &str, delete: Option<bool>, path: &str) -> NamespaceV1 {
        let ns = fixtures::namespace(cluster, name)
            .set("path", path)
            .set("delete", delete)
            .set_cluster("internal", cluster == "internal");
        match cluster {
            "disabled" => ns.disabled_for("openshift-namespaces"),
            _ => ns,
        }
        .typed()
    }

    fn filter() -> Filter {
        Filter {
            scope: NamespaceFilter {
                integration: "openshift-namespaces",
                ..NamespaceFilter::default()
            },
            internal: None,
        }
    }

    fn keys(state: &DesiredState) -> Vec<(&str, &str, bool)> {
        state
            .namespaces
            .iter()
            .map(|n| (n.cluster.as_str(), n.name.as_str(), n.delete))
            .collect()
    }

    #[test]
    fn disabled_clusters_and_external_namespaces_are_skipped() {
        let mut external = ns("c1", "ext", None, "/ext.yml");
        external.managed_by_external = Some(true);
        let state = desired_state(
            &[
                ns("c1", "a", None, "/a.yml"),
                ns("disabled", "b", None, "/b.yml"),
                ns("c2", "old", Some(true), "/old.yml"),
                external,
            ],
            &filter(),
        );
        assert!(state.errors.is_empty());
        assert_eq!(keys(&state), [("c1", "a", false), ("c2", "old", true)]);
    }

    /// Upstream `get_namespaces`: any key declared twice is an error, whatever the flags.
    #[test]
    fn every_duplicate_declaration_is_an_error_and_not_acted_upon() {
        for second in [None, Some(false), Some(true)] {
            let state = desired_state(
                &[
                    ns("c1", "a", None, "/a.yml"),
                    ns("c1", "a", second, "/a2.yml"),
                    ns("c1", "b", None, "/b.yml"),
                ],
                &filter(),
            );
            assert_eq!(keys(&state), [("c1", "b", false)], "{second:?}");
            assert_eq!(state.errors.len(), 1);
            assert!(
                state.errors[0].starts_with(
                    "Found multiple definitions for the namespace c1/a (/a.yml, /a2.yml)"
                ),
                "{}",
                state.errors[0]
            );
        }
    }

    /// As upstream, duplicates are found before `--cluster-name` narrows the run.
    #[test]
    fn duplicates_are_found_before_the_cluster_filter() {
        let mut f = filter();
        f.scope.cluster_name = Some("c2".into());
        let state = desired_state(
            &[
                ns("c1", "a", None, "/a.yml"),
                ns("c1", "a", None, "/a2.yml"),
                ns("c2", "b", None, "/b.yml"),
            ],
            &f,
        );
        assert_eq!(keys(&state), [("c2", "b", false)]);
        assert_eq!(state.errors.len(), 1);
    }

    #[test]
    fn filters_narrow_the_run() {
        let all = vec![
            ns("c1", "a", None, "/a.yml"),
            ns("c2", "a", None, "/a.yml"),
            ns("internal", "b", None, "/b.yml"),
        ];
        let clusters =
            |f: &Filter| -> Vec<String> { desired_state(&all, f).clusters.into_keys().collect() };
        let mut f = filter();
        f.scope.cluster_name = Some("c2".into());
        assert_eq!(clusters(&f), ["c2"]);
        let mut f = filter();
        f.internal = Some(true);
        assert_eq!(clusters(&f), ["internal"]);
        let mut f = filter();
        f.scope.namespace_name = Some("b".into());
        assert_eq!(desired_state(&all, &f).namespaces.len(), 1);
    }
}
