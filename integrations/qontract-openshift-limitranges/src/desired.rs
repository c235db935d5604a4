//! Desired state of `openshift-limitranges`: the namespaces with `limitRanges`, with
//! `LimitRange` initialised in each and the one declared LimitRange desired.

use qontract_gql_bindings::limitranges_namespaces::{
    LimitRangeItemV1, LimitRangeV1, NamespaceV1, ResourceValuesV1,
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
    ns.limit_ranges.is_some() && filter.selects(&ns.cluster.name, &ns.name, disabled, ns.delete)
}

/// `{cpu, memory}` as GraphQL returns it: a field left empty is `null`, not dropped, and a
/// sub-map with both empty is still there (upstream `construct_resources` copies the query's
/// dict; the nulls are part of the `qontract.sha256sum`). `None` when the sub-map is absent.
fn resource_values(values: Option<&ResourceValuesV1>) -> Option<Value> {
    let values = values?;
    Some(json!({"cpu": values.cpu, "memory": values.memory}))
}

/// One entry of `spec.limits`: the declared sub-maps only (upstream `construct_resources`
/// skips a key whose value is null).
fn limit_item(item: &LimitRangeItemV1) -> Value {
    let mut out = Map::new();
    for (key, values) in [
        ("default", &item.default),
        ("defaultRequest", &item.default_request),
        ("max", &item.max),
        ("maxLimitRequestRatio", &item.max_limit_request_ratio),
        ("min", &item.min),
    ] {
        if let Some(value) = resource_values(values.as_ref()) {
            out.insert(key.to_owned(), value);
        }
    }
    if let Some(kind) = &item.type_ {
        out.insert("type".to_owned(), Value::String(kind.clone()));
    }
    Value::Object(out)
}

/// The LimitRange of a `limitRanges` datafile (upstream `construct_resources`; an empty
/// `limits` list becomes `null`, as the API server stores it).
pub fn limit_range(limit_range: &LimitRangeV1) -> Value {
    let limits: Vec<Value> = limit_range.limits.iter().map(limit_item).collect();
    json!({
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": limit_range.name},
        "spec": {"limits": if limits.is_empty() { Value::Null } else { Value::Array(limits) }},
    })
}

/// Build the desired state from the `LimitRangesNamespaces` query.
pub fn desired_state(namespaces: &[NamespaceV1], filter: &Filter) -> DesiredState {
    let mut state = DesiredState::default();
    for ns in namespaces.iter().filter(|ns| in_scope(ns, filter)) {
        let Some(declared) = &ns.limit_ranges else {
            continue;
        };
        let cluster = &ns.cluster.name;
        let privileged = ns.cluster_admin.unwrap_or(false);
        state.manage_namespace(cluster, &ns.name, privileged, &[MANAGED_TYPE], || {
            cluster_spec(&ns.cluster)
        });
        let origin = format!("{cluster}/{} limitRanges {}", ns.name, declared.name);
        let at = Declared {
            cluster,
            namespace: &ns.name,
            privileged,
            origin: &origin,
        };
        state.add_or_register(at, MANAGED_TYPE, limit_range(declared), NAME, VERSION);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_openshift_resource::OpenshiftResource;
    use qontract_test_support::fixtures::{self, cpu_memory, desired_paths, typed_all};

    /// A `limitRanges` datafile (`/openshift/limitrange-1.yml`) as the query returns it.
    fn limits() -> Value {
        json!({"name": "shop-limits", "limits": [
            {"default": cpu_memory(Some("500m"), Some("512Mi")),
             "defaultRequest": cpu_memory(Some("100m"), None), "max": null,
             "maxLimitRequestRatio": cpu_memory(None, None), "min": null, "type": "Container"},
            {"default": null, "defaultRequest": null, "max": cpu_memory(Some("2"), Some("4Gi")),
             "maxLimitRequestRatio": null, "min": cpu_memory(None, Some("16Mi")), "type": "Pod"},
        ]})
    }

    /// Sub-maps with one or both fields empty (what the Python tool applied, see below).
    fn half_filled() -> Value {
        json!({"name": "shop-limits", "limits": [
            {"default": cpu_memory(Some("500m"), None),
             "defaultRequest": cpu_memory(None, Some("256Mi")), "max": null,
             "maxLimitRequestRatio": null, "min": cpu_memory(None, None), "type": "Container"},
            {"default": null, "defaultRequest": null, "max": cpu_memory(Some("2"), Some("1Gi")),
             "maxLimitRequestRatio": null, "min": null, "type": "Pod"},
        ]})
    }

    fn declares_limits(ns: fixtures::Namespace) -> fixtures::Namespace {
        ns.set("limitRanges", limits())
    }

    fn filter() -> Filter {
        Filter {
            integration: NAME,
            ..Filter::default()
        }
    }

    #[test]
    fn the_declared_limit_range() {
        let namespaces: Vec<NamespaceV1> =
            typed_all(fixtures::production_and_stage(declares_limits));
        let state = desired_state(&namespaces, &filter());
        // shop-stage declares no limitRanges: it is not managed (its LimitRanges are left alone).
        fixtures::assert_only_production_is_managed(
            &state.inventory,
            &state.namespaces,
            &["sandbox/shop-production/LimitRange/shop-limits"],
        );
        let desired = state
            .inventory
            .get_desired("sandbox", "shop-production", MANAGED_TYPE, "shop-limits")
            .expect("desired");
        insta::assert_json_snapshot!(desired.resource.body());
    }

    #[test]
    fn the_python_applied_half_filled_limit_range_is_reapplied_as_upstream_does() {
        // The sha256sum matches, but upstream's three-way comparison (jsonpatch from the
        // cluster's object to the desired one) sees `add .../memory: null` and applies again,
        // every run: `three_way_diff_using_hash(current, desired)` is False for exactly this
        // pair in the 0.10.1 venv (current upstream's is the same). Same verdict here.
        use qontract_resource_inventory::{Action, PlanOptions, compute_plan};
        let ns =
            fixtures::namespace("sandbox", "shop-production").set("limitRanges", half_filled());
        let mut state = desired_state(&[ns.typed()], &filter());
        // As the API server stores what the Python tool applied: the nulls are gone, the
        // annotations carry the sha256sum of the body with them (see the test below).
        let applied = json!({
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {
                "name": "shop-limits",
                "namespace": "shop-production",
                "annotations": {
                    "qontract.integration": "openshift-limitranges",
                    "qontract.integration_version": "0.1.0",
                    "qontract.sha256sum":
                        "741fabe7dc7f86dd7bca538da4ada8a60663e07a55390f838f6cbc82fd4af814",
                    "qontract.update": "2026-12-06T19:58:00",
                },
                "resourceVersion": "42",
                "uid": "6f1f2c1e-0000-4000-8000-000000000002",
            },
            "spec": {"limits": [
                {"default": {"cpu": "500m"}, "defaultRequest": {"memory": "256Mi"},
                 "type": "Container"},
                {"max": {"cpu": "2", "memory": "1Gi"}, "type": "Pod"},
            ]},
        });
        let current =
            OpenshiftResource::from_cluster(applied, NAME, VERSION, "current").expect("valid");
        state
            .inventory
            .add_current("sandbox", "shop-production", MANAGED_TYPE, current)
            .expect("initialized");
        let plan = compute_plan(&mut state.inventory, &PlanOptions::default());
        let actions = qontract_test_support::fixtures::plan_actions(&plan);
        assert_eq!(actions, [(Action::Update, "shop-limits")]);
        // Not because of the sha256sum (that one matches the Python tool's) but the nulls.
        let reason = plan.actions[0].reason.to_string();
        assert!(reason.starts_with("drift: /spec/limits/0/"), "{reason}");
    }

    #[test]
    fn half_filled_sub_maps_keep_their_nulls_as_upstream() {
        // Expected body and sha256sum computed with upstream's own code in the 0.10.1 venv
        // (current upstream's `construct_resources` is the same):
        //   from reconcile import openshift_limitranges as olr
        //   [ns] = olr.construct_resources([{"name": "shop-production",
        //       "cluster": {"name": "sandbox"}, "limitRanges": {"name": "shop-limits",
        //       "limits": [{"default": {"cpu": "500m", "memory": None},
        //                   "defaultRequest": {"cpu": None, "memory": "256Mi"}, "max": None,
        //                   "maxLimitRequestRatio": None, "min": {"cpu": None, "memory": None},
        //                   "type": "Container"},
        //                  {"default": None, "defaultRequest": None,
        //                   "max": {"cpu": "2", "memory": "1Gi"}, "maxLimitRequestRatio": None,
        //                   "min": None, "type": "Pod"}]}}])
        //   ns["resources"][0].body, ns["resources"][0].sha256sum()
        let body = limit_range(&fixtures::typed(half_filled()));
        assert_eq!(
            body,
            json!({"apiVersion": "v1", "kind": "LimitRange",
                   "metadata": {"name": "shop-limits"},
                   "spec": {"limits": [
                       {"default": {"cpu": "500m", "memory": null},
                        "defaultRequest": {"cpu": null, "memory": "256Mi"},
                        "min": {"cpu": null, "memory": null}, "type": "Container"},
                       {"max": {"cpu": "2", "memory": "1Gi"}, "type": "Pod"}]}})
        );
        let or = OpenshiftResource::new(body, NAME, VERSION, "test", None).expect("valid");
        assert_eq!(
            or.sha256sum(),
            "741fabe7dc7f86dd7bca538da4ada8a60663e07a55390f838f6cbc82fd4af814"
        );

        // No limits at all: `spec.limits: null` (same venv, `"limits": []`).
        let empty = fixtures::typed(json!({"name": "empty", "limits": []}));
        let or = OpenshiftResource::new(limit_range(&empty), NAME, VERSION, "test", None)
            .expect("valid");
        assert_eq!(or.body()["spec"], json!({"limits": null}));
        assert_eq!(
            or.sha256sum(),
            "8593a2460c2403f1aa8961304f10805dcaf8b39b7294d7498992f0146cc16745"
        );
    }

    #[test]
    fn deleted_disabled_filtered_and_other_shard_namespaces_are_not_managed() {
        let namespaces: Vec<NamespaceV1> = typed_all(fixtures::scope_cases(NAME, declares_limits));
        let sandbox = Filter {
            cluster_name: Some("sandbox".to_owned()),
            ..filter()
        };
        let state = desired_state(&namespaces, &sandbox);
        assert_eq!(
            desired_paths(&state.inventory),
            ["sandbox/admin/LimitRange/shop-limits"]
        );
        fixtures::assert_only_admin_is_managed(
            &state.namespaces,
            &state.privileged,
            state.clusters.keys(),
        );

        let many: Vec<NamespaceV1> = typed_all(fixtures::many_namespaces(20, declares_limits));
        fixtures::assert_two_shards_split(many.len(), |shard| {
            desired_state(&many, &Filter { shard, ..filter() }).namespaces
        });
    }

    #[test]
    fn early_exit_state_is_keyed_by_cluster() {
        let namespaces: Vec<NamespaceV1> = typed_all(fixtures::on_two_clusters(declares_limits));
        let state = desired_state(&namespaces, &filter());
        insta::assert_json_snapshot!(state.early_exit_state());
    }
}
