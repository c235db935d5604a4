//! Desired state of `openshift-resourcequotas`: the namespaces with a `quota`, with
//! `ResourceQuota` initialised in each and one ResourceQuota per declared entry.

use qontract_gql_bindings::resourcequotas_namespaces::{
    NamespaceV1, ResourceQuotaItemV1, ResourceValuesV1,
};
use qontract_realize::{Declared, cluster_spec};
use serde_json::{Map, Value, json};

use crate::{MANAGED_TYPE, NAME, VERSION};

/// What narrows a run.
pub type Filter = qontract_realize::NamespaceFilter;

/// The desired state of a run (see `qontract_realize::DesiredInventory`).
pub type DesiredState = qontract_realize::DesiredInventory;

/// Whether a namespace is managed by this run.
fn in_scope(ns: &NamespaceV1, filter: &Filter) -> bool {
    let disable = ns.cluster.disable.as_ref();
    let disabled = disable.and_then(|d| d.integrations.as_deref());
    ns.quota.is_some() && filter.selects(&ns.cluster.name, &ns.name, disabled, ns.delete)
}

/// Add `<prefix>.cpu` and `<prefix>.memory` for the declared values.
fn flatten_values(hard: &mut Map<String, Value>, prefix: &str, values: Option<&ResourceValuesV1>) {
    let Some(values) = values else {
        return;
    };
    for (key, value) in [("cpu", &values.cpu), ("memory", &values.memory)] {
        if let Some(value) = value {
            hard.insert(format!("{prefix}.{key}"), Value::String(value.clone()));
        }
    }
}

/// The ResourceQuota of one `quotas` entry (upstream `construct_resource`: `spec.hard` is
/// `flatten(resources)` with every value a string; `scopes` only when not empty).
pub fn resource_quota(quota: &ResourceQuotaItemV1) -> Value {
    let mut hard = Map::new();
    flatten_values(&mut hard, "limits", quota.resources.limits.as_ref());
    flatten_values(&mut hard, "requests", quota.resources.requests.as_ref());
    if let Some(pods) = quota.resources.pods {
        hard.insert("pods".to_owned(), Value::String(pods.to_string()));
    }
    let mut spec = json!({ "hard": hard });
    if let Some(scopes) = quota.scopes.as_ref().filter(|s| !s.is_empty()) {
        spec["scopes"] = json!(scopes);
    }
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": quota.name},
        "spec": spec,
    })
}

/// Build the desired state from the `ResourceQuotasNamespaces` query.
pub fn desired_state(namespaces: &[NamespaceV1], filter: &Filter) -> DesiredState {
    let mut state = DesiredState::default();
    for ns in namespaces.iter().filter(|ns| in_scope(ns, filter)) {
        let Some(declared) = &ns.quota else {
            continue;
        };
        let cluster = &ns.cluster.name;
        let privileged = ns.cluster_admin.unwrap_or(false);
        state.manage_namespace(cluster, &ns.name, privileged, &[MANAGED_TYPE], || {
            cluster_spec(&ns.cluster)
        });
        for quota in &declared.quotas {
            let origin = format!(
                "{cluster}/{} quota {} entry {}",
                ns.name, declared.name, quota.name
            );
            let at = Declared {
                cluster,
                namespace: &ns.name,
                privileged,
                origin: &origin,
            };
            state.add_or_register(at, MANAGED_TYPE, resource_quota(quota), NAME, VERSION);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_test_support::fixtures::{self, cpu_memory, desired_paths, typed_all};

    /// A `quota` datafile (`/openshift/quota-1.yml`) as the query returns it.
    fn quota() -> Value {
        json!({"name": "shop-quota", "quotas": [
            {"name": "compute", "scopes": [], "resources": {
                "limits": cpu_memory(Some("4"), Some("8Gi")),
                "requests": cpu_memory(Some("2"), None), "pods": 20}},
            {"name": "best-effort", "scopes": ["BestEffort"], "resources": {
                "limits": null, "requests": null, "pods": 5}},
        ]})
    }

    fn declares_quota(ns: fixtures::Namespace) -> fixtures::Namespace {
        ns.set("quota", quota())
    }

    fn filter() -> Filter {
        Filter {
            integration: NAME,
            ..Filter::default()
        }
    }

    #[test]
    fn one_quota_per_entry_flattened_with_string_values() {
        let namespaces: Vec<NamespaceV1> =
            typed_all(fixtures::production_and_stage(declares_quota));
        let state = desired_state(&namespaces, &filter());
        fixtures::assert_only_production_is_managed(
            &state.inventory,
            &state.namespaces,
            &[
                "sandbox/shop-production/ResourceQuota/best-effort",
                "sandbox/shop-production/ResourceQuota/compute",
            ],
        );
        let bodies: Vec<&Value> = ["compute", "best-effort"]
            .iter()
            .map(|name| {
                state
                    .inventory
                    .get_desired("sandbox", "shop-production", MANAGED_TYPE, name)
                    .expect("desired")
                    .resource
                    .body()
            })
            .collect();
        insta::assert_json_snapshot!(bodies);
    }

    #[test]
    fn a_duplicate_entry_is_an_error_naming_the_namespace_and_entry() {
        let mut declared = quota();
        declared["quotas"][1]["name"] = json!("compute");
        let ns = fixtures::namespace("sandbox", "shop-production").set("quota", declared);
        let state = desired_state(&[ns.typed()], &filter());
        let errors = fixtures::error_messages(&state.inventory);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("sandbox/shop-production quota shop-quota entry compute"),
            "{errors:?}"
        );
        assert!(state.inventory.has_cluster_error("sandbox"));
    }

    #[test]
    fn deleted_disabled_filtered_and_other_shard_namespaces_are_not_managed() {
        let namespaces: Vec<NamespaceV1> = typed_all(fixtures::scope_cases(NAME, declares_quota));
        let admin = Filter {
            namespace_name: Some("admin".to_owned()),
            ..filter()
        };
        let state = desired_state(&namespaces, &admin);
        assert_eq!(
            desired_paths(&state.inventory),
            [
                "sandbox/admin/ResourceQuota/best-effort",
                "sandbox/admin/ResourceQuota/compute",
            ]
        );
        fixtures::assert_only_admin_is_managed(
            &state.namespaces,
            &state.privileged,
            state.clusters.keys(),
        );

        let many: Vec<NamespaceV1> = typed_all(fixtures::many_namespaces(20, declares_quota));
        fixtures::assert_two_shards_split(many.len(), |shard| {
            desired_state(&many, &Filter { shard, ..filter() }).namespaces
        });
    }

    #[test]
    fn early_exit_state_is_keyed_by_cluster() {
        let namespaces: Vec<NamespaceV1> = typed_all(fixtures::on_two_clusters(declares_quota));
        let state = desired_state(&namespaces, &filter());
        insta::assert_json_snapshot!(state.early_exit_state());
    }
}
