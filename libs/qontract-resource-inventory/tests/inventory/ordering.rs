//! Execution order of the plan: kinds in dependency order, deletes in reverse, ties by
//! cluster, namespace, kind and name.

use qontract_resource_inventory::{
    Action, PlanOptions, ResourceInventory, compute_plan, kind_rank,
};
use serde_json::json;

use crate::support::*;

fn object(kind: &str, api_version: &str, name: &str) -> serde_json::Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}})
}

const TYPES: [(&str, &str, &str); 9] = [
    ("Route", "route.openshift.io/v1", "Route.route.openshift.io"),
    ("Deployment", "apps/v1", "Deployment.apps"),
    ("Secret", "v1", "Secret"),
    ("ConfigMap", "v1", "ConfigMap"),
    ("ServiceAccount", "v1", "ServiceAccount"),
    (
        "RoleBinding",
        "rbac.authorization.k8s.io/v1",
        "RoleBinding.rbac.authorization.k8s.io",
    ),
    (
        "Role",
        "rbac.authorization.k8s.io/v1",
        "Role.rbac.authorization.k8s.io",
    ),
    (
        "CustomResourceDefinition",
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition.apiextensions.k8s.io",
    ),
    ("Namespace", "v1", "Namespace"),
];

fn mixed_inventory() -> ResourceInventory {
    let mut inventory = ResourceInventory::new();
    for cluster in ["cluster-b", "cluster-a"] {
        for namespace in ["ns-2", "ns-1"] {
            for (kind, api_version, resource_type) in TYPES {
                inventory.initialize_resource_type(cluster, namespace, resource_type, None);
                for name in ["zeta", "alpha"] {
                    inventory
                        .add_desired(
                            cluster,
                            namespace,
                            resource_type,
                            desired(object(kind, api_version, &format!("new-{name}"))),
                            false,
                        )
                        .expect("desired");
                    inventory
                        .add_current(
                            cluster,
                            namespace,
                            resource_type,
                            current(applied(&object(kind, api_version, &format!("old-{name}")))),
                        )
                        .expect("current");
                }
            }
        }
    }
    inventory
}

#[test]
fn applies_follow_kind_order_and_deletes_the_reverse() {
    let mut inventory = mixed_inventory();
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let applies: Vec<&str> = plan
        .actions
        .iter()
        .filter(|a| a.action == Action::Create)
        .map(|a| a.resource_type.as_str())
        .collect();
    let deletes: Vec<&str> = plan
        .actions
        .iter()
        .filter(|a| a.action == Action::Delete)
        .map(|a| a.resource_type.as_str())
        .collect();
    assert_eq!(applies.len(), 72);
    assert_eq!(deletes.len(), 72);
    let ranks = |types: &[&str]| types.iter().map(|t| kind_rank(t)).collect::<Vec<u8>>();
    let apply_ranks = ranks(&applies);
    assert!(
        apply_ranks.is_sorted(),
        "applies in kind order: {applies:?}"
    );
    let mut delete_ranks = ranks(&deletes);
    delete_ranks.reverse();
    assert!(
        delete_ranks.is_sorted(),
        "deletes in reverse kind order: {deletes:?}"
    );
    // Namespaces, CRDs, RBAC, ServiceAccounts, ConfigMaps/Secrets, workloads, the rest.
    let mut distinct: Vec<(u8, &str)> = applies.iter().map(|t| (kind_rank(t), *t)).collect();
    distinct.dedup_by_key(|(rank, _)| *rank);
    let first_kinds: Vec<&str> = distinct.iter().map(|(_, t)| *t).collect();
    assert_eq!(
        first_kinds,
        [
            "Namespace",
            "CustomResourceDefinition.apiextensions.k8s.io",
            "Role.rbac.authorization.k8s.io",
            "RoleBinding.rbac.authorization.k8s.io",
            "ServiceAccount",
            "ConfigMap",
            "Deployment.apps",
            "Route.route.openshift.io",
        ]
    );
    // All applies come before all deletes.
    let last_apply = plan
        .actions
        .iter()
        .rposition(|a| a.action == Action::Create);
    let first_delete = plan.actions.iter().position(|a| a.action == Action::Delete);
    assert!(last_apply < first_delete);
}

#[test]
fn ties_are_ordered_by_cluster_namespace_and_name() {
    let mut inventory = mixed_inventory();
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let configmaps: Vec<String> = plan
        .actions
        .iter()
        .filter(|a| a.action == Action::Create && a.resource_type == "ConfigMap")
        .map(|a| format!("{}/{}/{}", a.cluster, a.namespace, a.name))
        .collect();
    insta::assert_snapshot!("ordering_ties", configmaps.join("\n"));
    let mut sorted = configmaps.clone();
    sorted.sort();
    assert_eq!(configmaps, sorted);
}

#[test]
fn plan_is_identical_whatever_the_insertion_order() {
    let mut first = mixed_inventory();
    let mut second = ResourceInventory::new();
    // Same content inserted in reverse.
    let mut entries: Vec<_> = first
        .iter()
        .map(|(c, n, t, s)| {
            let desired: Vec<_> = s.desired().values().map(|d| d.resource.clone()).collect();
            let current: Vec<_> = s.current().values().cloned().collect();
            (c.to_owned(), n.to_owned(), t.to_owned(), desired, current)
        })
        .collect();
    entries.reverse();
    for (cluster, namespace, resource_type, desired, current) in entries {
        second.initialize_resource_type(&cluster, &namespace, &resource_type, None);
        for resource in desired.into_iter().rev() {
            second
                .add_desired(&cluster, &namespace, &resource_type, resource, false)
                .expect("d");
        }
        for resource in current.into_iter().rev() {
            second
                .add_current(&cluster, &namespace, &resource_type, *resource)
                .expect("c");
        }
    }
    let plan_first = compute_plan(&mut first, &PlanOptions::default());
    let plan_second = compute_plan(&mut second, &PlanOptions::default());
    assert_eq!(plan_first, plan_second);
}

#[test]
fn planning_namespace_by_namespace_equals_planning_everything() {
    use qontract_resource_inventory::Planner;

    let mut whole = mixed_inventory();
    whole.register_error(Some("cluster-b"), "is unreachable");
    let expected = compute_plan(&mut whole, &PlanOptions::default());

    let mut planner = Planner::new(PlanOptions::default());
    let source = mixed_inventory();
    let mut batches: Vec<(String, String)> = source
        .iter()
        .map(|(cluster, namespace, _, _)| (cluster.to_owned(), namespace.to_owned()))
        .collect();
    batches.dedup();
    for (cluster, namespace) in batches {
        let mut batch = ResourceInventory::new();
        for (c, n, resource_type, state) in source.iter() {
            if c != cluster || n != namespace {
                continue;
            }
            batch.initialize_resource_type(c, n, resource_type, None);
            for entry in state.desired().values() {
                batch
                    .add_desired(c, n, resource_type, entry.resource.clone(), false)
                    .expect("d");
            }
            for resource in state.current().values() {
                batch
                    .add_current(c, n, resource_type, (**resource).clone())
                    .expect("c");
            }
        }
        planner.absorb(batch);
    }
    // The cluster error arrives after that cluster's objects were already decided.
    planner.register_error(Some("cluster-b"), "is unreachable");
    let streamed = planner.finish();
    assert_eq!(streamed, expected);
    // cluster-a: 2 namespaces x 9 types x 2 new objects; deletes are disabled by the error.
    assert_eq!(streamed.changes().count(), 36);
    assert!(
        streamed
            .changes()
            .all(|a| a.cluster == "cluster-a" && a.action == Action::Create)
    );
}
