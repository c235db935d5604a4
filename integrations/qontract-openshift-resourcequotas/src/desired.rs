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
    let disabled = ns
        .cluster
        .disable
        .as_ref()
        .and_then(|d| d.integrations.as_deref());
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
    use qontract_gql_bindings::resourcequotas_namespaces::{
        ClusterConnection, DisableClusterAutomationsV1, ResourceQuotaItemResourcesV1,
        ResourceQuotaV1, VaultSecret,
    };

    fn cluster(name: &str) -> ClusterConnection {
        ClusterConnection {
            name: name.to_owned(),
            server_url: format!("https://api.{name}.example:6443"),
            insecure_skip_tlsverify: None,
            automation_token: Some(VaultSecret {
                path: format!("creds/{name}"),
                field: "token".to_owned(),
                version: None,
                format: None,
            }),
            cluster_admin_automation_token: None,
            internal: None,
            disable: None,
        }
    }

    fn values(cpu: Option<&str>, memory: Option<&str>) -> Option<ResourceValuesV1> {
        Some(ResourceValuesV1 {
            cpu: cpu.map(str::to_owned),
            memory: memory.map(str::to_owned),
        })
    }

    fn quota() -> ResourceQuotaV1 {
        ResourceQuotaV1 {
            name: "shop-quota".to_owned(),
            quotas: vec![
                ResourceQuotaItemV1 {
                    name: "compute".to_owned(),
                    resources: ResourceQuotaItemResourcesV1 {
                        limits: values(Some("4"), Some("8Gi")),
                        requests: values(Some("2"), None),
                        pods: Some(20),
                    },
                    scopes: Some(vec![]),
                },
                ResourceQuotaItemV1 {
                    name: "best-effort".to_owned(),
                    resources: ResourceQuotaItemResourcesV1 {
                        limits: None,
                        requests: None,
                        pods: Some(5),
                    },
                    scopes: Some(vec!["BestEffort".to_owned()]),
                },
            ],
        }
    }

    fn namespace(cluster_name: &str, name: &str, declared: Option<ResourceQuotaV1>) -> NamespaceV1 {
        NamespaceV1 {
            name: name.to_owned(),
            delete: None,
            cluster_admin: None,
            quota: declared,
            cluster: cluster(cluster_name),
        }
    }

    fn filter() -> Filter {
        Filter {
            integration: NAME,
            ..Filter::default()
        }
    }

    fn desired_names(state: &DesiredState) -> Vec<String> {
        state
            .inventory
            .iter()
            .flat_map(|(c, n, t, data)| {
                data.desired()
                    .keys()
                    .map(move |name| format!("{c}/{n}/{t}/{name}"))
            })
            .collect()
    }

    #[test]
    fn one_quota_per_entry_flattened_with_string_values() {
        let namespaces = vec![
            namespace("sandbox", "shop-production", Some(quota())),
            namespace("sandbox", "shop-stage", None),
        ];
        let state = desired_state(&namespaces, &filter());
        assert!(state.inventory.errors().is_empty());
        assert_eq!(
            desired_names(&state),
            [
                "sandbox/shop-production/ResourceQuota/best-effort",
                "sandbox/shop-production/ResourceQuota/compute",
            ]
        );
        assert_eq!(
            state.namespaces.iter().collect::<Vec<_>>(),
            [&("sandbox".to_owned(), "shop-production".to_owned())]
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
        declared.quotas[1].name = "compute".to_owned();
        let state = desired_state(
            &[namespace("sandbox", "shop-production", Some(declared))],
            &filter(),
        );
        let errors: Vec<String> = state
            .inventory
            .errors()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("sandbox/shop-production quota shop-quota entry compute"),
            "{errors:?}"
        );
        assert!(state.inventory.has_cluster_error("sandbox"));
    }

    #[test]
    fn deleted_disabled_filtered_and_other_shard_namespaces_are_not_managed() {
        let mut deleted = namespace("sandbox", "gone", Some(quota()));
        deleted.delete = Some(true);
        let mut disabled = namespace("off", "ns", Some(quota()));
        disabled.cluster.disable = Some(DisableClusterAutomationsV1 {
            integrations: Some(vec![NAME.to_owned()]),
        });
        let mut admin = namespace("sandbox", "admin", Some(quota()));
        admin.cluster_admin = Some(true);
        let namespaces = vec![
            deleted,
            disabled,
            admin,
            namespace("other", "elsewhere", Some(quota())),
        ];
        let state = desired_state(
            &namespaces,
            &Filter {
                namespace_name: Some("admin".to_owned()),
                ..filter()
            },
        );
        assert_eq!(
            desired_names(&state),
            [
                "sandbox/admin/ResourceQuota/best-effort",
                "sandbox/admin/ResourceQuota/compute",
            ]
        );
        assert_eq!(state.clusters.keys().collect::<Vec<_>>(), ["sandbox"]);
        assert!(
            state
                .privileged
                .contains(&("sandbox".to_owned(), "admin".to_owned()))
        );

        let many: Vec<NamespaceV1> = (0..20)
            .map(|i| namespace("sandbox", &format!("ns-{i}"), Some(quota())))
            .collect();
        let shard = |id| {
            desired_state(
                &many,
                &Filter {
                    shard: qontract_sharding::ShardConfig {
                        shards: 2,
                        shard_id: id,
                    },
                    ..filter()
                },
            )
            .namespaces
        };
        let (zero, one) = (shard(0), shard(1));
        assert!(!zero.is_empty() && !one.is_empty());
        assert!(zero.is_disjoint(&one));
        assert_eq!(zero.len() + one.len(), 20);
    }

    #[test]
    fn early_exit_state_is_keyed_by_cluster() {
        let namespaces = vec![
            namespace("sandbox", "shop-production", Some(quota())),
            namespace("other", "web", Some(quota())),
        ];
        let state = desired_state(&namespaces, &filter());
        insta::assert_json_snapshot!(state.early_exit_state());
    }
}
