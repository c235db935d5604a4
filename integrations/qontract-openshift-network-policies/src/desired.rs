//! Desired state of `openshift-network-policies`: the managed namespaces, with
//! `NetworkPolicy.networking.k8s.io` initialised in each, and one `allow-from-<source>-namespace`
//! policy per entry of their `networkPoliciesAllow`.
//!
//! A source namespace on another cluster is an error for that entry only, as upstream
//! `fetch_desired_state` (`ri.register_error()` without a cluster, then `continue`): the
//! other entries, on that cluster too, are still applied, but no object is deleted anywhere
//! in this run and the run exits 1.

use qontract_gql_bindings::network_policies_namespaces::NamespaceV1;
use qontract_realize::{Declared, cluster_spec};
use serde_json::{Value, json};

use crate::{MANAGED_TYPE, NAME, VERSION};

/// What narrows a run.
pub type Filter = qontract_realize::NamespaceFilter;

/// The desired state of a run (see `qontract_realize::DesiredInventory`).
pub type DesiredState = qontract_realize::DesiredInventory;

/// Whether a namespace is managed by this run.
fn in_scope(ns: &NamespaceV1, filter: &Filter) -> bool {
    let disable = ns.cluster.disable.as_ref();
    let disabled = disable.and_then(|d| d.integrations.as_deref());
    ns.network_policies_allow
        .as_ref()
        .is_some_and(|l| !l.is_empty())
        && filter.selects(&ns.cluster.name, &ns.name, disabled, ns.delete)
}

/// The name of the policy admitting ingress from `source`.
pub fn policy_name(source: &str) -> String {
    format!("allow-from-{source}-namespace")
}

/// The NetworkPolicy admitting ingress from every pod of namespace `source` (upstream
/// `construct_oc_resource`).
pub fn network_policy(source: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": policy_name(source)},
        "spec": {
            "ingress": [{
                "from": [{
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": source}
                    }
                }]
            }],
            "podSelector": {},
            "policyTypes": ["Ingress"],
        },
    })
}

/// Build the desired state from the `NetworkPoliciesNamespaces` query.
pub fn desired_state(namespaces: &[NamespaceV1], filter: &Filter) -> DesiredState {
    let mut state = DesiredState::default();
    for ns in namespaces.iter().filter(|ns| in_scope(ns, filter)) {
        let cluster = &ns.cluster.name;
        let privileged = ns.cluster_admin.unwrap_or(false);
        state.manage_namespace(cluster, &ns.name, privileged, &[MANAGED_TYPE], || {
            cluster_spec(&ns.cluster)
        });
        for source in ns.network_policies_allow.iter().flatten() {
            if &source.cluster.name != cluster {
                // Not a cluster error: upstream registers a run-wide error (deletes disabled,
                // exit 1) and keeps planning the cluster's other entries.
                state.inventory.register_error(
                    None,
                    format!(
                        "namespace {cluster}/{} allows network traffic from namespace {}/{}, \
                         which is on another cluster: networkPoliciesAllow only works within \
                         one cluster",
                        ns.name, source.cluster.name, source.name
                    ),
                );
                continue;
            }
            let origin = format!("{cluster}/{} networkPoliciesAllow {}", ns.name, source.name);
            let at = Declared {
                cluster,
                namespace: &ns.name,
                privileged,
                origin: &origin,
            };
            let policy = network_policy(&source.name);
            state.add_or_register(at, MANAGED_TYPE, policy, NAME, VERSION);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_openshift_resource::OpenshiftResource;
    use qontract_test_support::fixtures::{self, desired_paths, typed_all};

    /// `networkPoliciesAllow` as the query returns it: each source's name and cluster name.
    fn allowing(allow: &[(&str, &str)]) -> Value {
        allow
            .iter()
            .map(|(c, n)| json!({"name": n, "cluster": {"name": c}}))
            .collect()
    }

    /// Allows namespace `a` of the namespace's own cluster.
    fn allows_a(ns: fixtures::Namespace) -> fixtures::Namespace {
        let cluster = ns.cluster_name().to_owned();
        ns.set("networkPoliciesAllow", allowing(&[(&cluster, "a")]))
    }

    fn namespace(cluster: &str, name: &str, allow: &[(&str, &str)]) -> NamespaceV1 {
        fixtures::namespace(cluster, name)
            .set("networkPoliciesAllow", allowing(allow))
            .typed()
    }

    fn filter() -> Filter {
        Filter {
            integration: NAME,
            ..Filter::default()
        }
    }

    #[test]
    fn one_policy_per_allowed_source_namespace() {
        let namespaces = vec![
            namespace(
                "sandbox",
                "shop-production",
                &[("sandbox", "shop-stage"), ("sandbox", "monitoring")],
            ),
            namespace("sandbox", "shop-stage", &[]),
        ];
        let state = desired_state(&namespaces, &filter());
        // shop-stage allows nothing: it is not managed at all (its policies are left alone).
        fixtures::assert_only_production_is_managed(
            &state.inventory,
            &state.namespaces,
            &[
                "sandbox/shop-production/NetworkPolicy.networking.k8s.io/allow-from-monitoring-namespace",
                "sandbox/shop-production/NetworkPolicy.networking.k8s.io/allow-from-shop-stage-namespace",
            ],
        );
        let policy = state
            .inventory
            .get_desired(
                "sandbox",
                "shop-production",
                MANAGED_TYPE,
                "allow-from-shop-stage-namespace",
            )
            .expect("desired");
        insta::assert_json_snapshot!(policy.resource.body());
    }

    #[test]
    fn a_source_on_another_cluster_is_an_error_naming_both_namespaces() {
        let namespaces = vec![namespace(
            "sandbox",
            "shop-production",
            &[("other", "shop-stage"), ("sandbox", "monitoring")],
        )];
        let state = desired_state(&namespaces, &filter());
        let errors = fixtures::error_messages(&state.inventory);
        insta::assert_json_snapshot!(errors);
        assert!(state.inventory.has_error_registered());
        assert!(!state.inventory.has_cluster_error("sandbox"));
    }

    #[test]
    fn a_source_on_another_cluster_blocks_only_its_entry() {
        use qontract_resource_inventory::{Action, PlanOptions, Reason, compute_plan};
        let namespaces = vec![
            namespace(
                "sandbox",
                "shop-production",
                &[("other", "shop-stage"), ("sandbox", "monitoring")],
            ),
            namespace("sandbox", "shop-stage", &[("sandbox", "monitoring")]),
        ];
        let mut state = desired_state(&namespaces, &filter());
        // A policy this integration applied earlier that is no longer declared: not deleted
        // while an error is registered.
        let stale = OpenshiftResource::new(network_policy("old"), NAME, VERSION, "stale", None)
            .expect("valid")
            .annotate("2026-12-01T00:00:00");
        state
            .inventory
            .add_current("sandbox", "shop-production", MANAGED_TYPE, stale)
            .expect("initialized");
        let plan = compute_plan(&mut state.inventory, &PlanOptions::default());
        let actions: Vec<(Action, &str, &str)> = plan
            .actions
            .iter()
            .map(|a| (a.action, a.namespace.as_str(), a.name.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                (
                    Action::Create,
                    "shop-production",
                    "allow-from-monitoring-namespace"
                ),
                (
                    Action::Create,
                    "shop-stage",
                    "allow-from-monitoring-namespace"
                ),
                (Action::Skip, "shop-production", "allow-from-old-namespace"),
            ]
        );
        assert!(matches!(
            plan.actions[2].reason,
            Reason::DeletionDisabledByErrors(_)
        ));
        assert!(plan.has_errors());
    }

    #[test]
    fn deleted_disabled_filtered_and_other_shard_namespaces_are_not_managed() {
        let namespaces: Vec<NamespaceV1> = typed_all(fixtures::scope_cases(NAME, allows_a));
        let sandbox = Filter {
            cluster_name: Some("sandbox".to_owned()),
            ..filter()
        };
        let state = desired_state(&namespaces, &sandbox);
        assert_eq!(
            desired_paths(&state.inventory),
            ["sandbox/admin/NetworkPolicy.networking.k8s.io/allow-from-a-namespace"]
        );
        fixtures::assert_only_admin_is_managed(
            &state.namespaces,
            &state.privileged,
            state.clusters.keys(),
        );

        // Two shards split the namespaces between them, by "<cluster>/<namespace>".
        let many: Vec<NamespaceV1> = typed_all(fixtures::many_namespaces(20, allows_a));
        fixtures::assert_two_shards_split(many.len(), |shard| {
            desired_state(&many, &Filter { shard, ..filter() }).namespaces
        });
    }

    #[test]
    fn early_exit_state_is_keyed_by_cluster() {
        let namespaces = vec![
            namespace("sandbox", "shop-production", &[("sandbox", "shop-stage")]),
            namespace("other", "web", &[("other", "edge")]),
        ];
        let state = desired_state(&namespaces, &filter());
        insta::assert_json_snapshot!(state.early_exit_state());
    }
}
