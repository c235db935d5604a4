//! The plan against a binding as the Python tool applied it, shared by the unit tests of
//! openshift-rolebindings and openshift-clusterrolebindings (each includes this file with
//! `#[path]`).

#![allow(dead_code, unreachable_pub)]

use qontract_openshift_resource::OpenshiftResource;
use qontract_realize::DesiredInventory;
use qontract_resource_inventory::{Action, PlanOptions, compute_plan};
use serde_json::Value;

/// Where the applied object is current, and the integration that applied it.
pub struct Applied<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// Namespace (the inventory's cluster-scope namespace for cluster-scoped objects).
    pub namespace: &'a str,
    /// Managed type.
    pub resource_type: &'a str,
    /// The integration's name and version.
    pub integration: (&'a str, &'a str),
}

/// The `(action, name)` pairs of the plan of `state` once `applied` (an object as the Python
/// tool 0.10.1 applied it, plus what the API server adds) is the current object `at`; the
/// plan has no error.
pub fn plan_with_applied(
    state: &mut DesiredInventory,
    at: &Applied<'_>,
    applied: Value,
) -> Vec<(Action, String)> {
    let (integration, version) = at.integration;
    let current =
        OpenshiftResource::from_cluster(applied, integration, version, "current").expect("valid");
    state
        .inventory
        .add_current(at.cluster, at.namespace, at.resource_type, current)
        .expect("initialised");
    let plan = compute_plan(&mut state.inventory, &PlanOptions::default());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    plan.actions
        .iter()
        .map(|a| (a.action, a.name.clone()))
        .collect()
}
