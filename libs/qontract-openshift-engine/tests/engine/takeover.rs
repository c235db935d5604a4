//! Takeover of objects the Python tool applied client-side.

use serde_json::{Value, json};

use crate::support::{
    MANAGER, Scenario, cluster_map, kube_client, namespace, options, reconcile, server,
};

fn legacy_config_map() -> Value {
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "app"}, "data": {"a": "1", "b": "2"}});
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "app", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": applied.to_string(),
        }},
        "data": {"a": "1", "b": "2"}
    })
}

fn scenario() -> Scenario {
    Scenario::default().manage("c1", "app", &["ConfigMap"]).desire(
        "c1",
        "app",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}),
    )
}

fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            (
                entry["manager"].as_str().unwrap_or("").to_owned(),
                entry["operation"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn client_side_applied_object_is_taken_over_and_removed_fields_disappear() {
    let server = server(vec![namespace("app")]).await;
    server
        .seed_as(legacy_config_map(), "kubectl-client-side-apply")
        .expect("seed");
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);

    let run = reconcile(&clusters, options(), &scenario(), false).await;

    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    assert!(run.apply.outcomes[0].took_over);
    insta::assert_snapshot!(
        "takeover_plan",
        qontract_resource_inventory::render_table(&run.plan, Default::default())
    );
    let object = server
        .get_object("v1", "ConfigMap", Some("app"), "settings")
        .expect("object");
    assert_eq!(object["data"], json!({"a": "1"}));
    assert_eq!(
        managers(&object),
        vec![(MANAGER.to_owned(), "Apply".to_owned())]
    );
    assert!(
        object["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_none()
    );
    // The migration is one JSON patch guarded by the resourceVersion, before the apply.
    let writes: Vec<(String, Option<String>)> = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.path.clone(), r.content_type.clone()))
        .collect();
    assert_eq!(
        writes,
        vec![
            (
                "/api/v1/namespaces/app/configmaps/settings".to_owned(),
                Some("application/json-patch+json".to_owned())
            ),
            (
                "/api/v1/namespaces/app/configmaps/settings".to_owned(),
                Some("application/apply-patch+yaml".to_owned())
            ),
        ]
    );

    // Converged: the next run changes nothing.
    let again = reconcile(&clusters, options(), &scenario(), false).await;
    assert_eq!(again.plan.changes().count(), 0);
}

#[tokio::test]
async fn without_the_takeover_a_removed_field_would_stay() {
    let server = server(vec![namespace("app")]).await;
    server
        .seed_as(legacy_config_map(), "kubectl-client-side-apply")
        .expect("seed");
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    let mut no_takeover = options();
    no_takeover.client_side_managers.clear();

    let run = reconcile(&clusters, no_takeover, &scenario(), false).await;

    assert!(!run.apply.has_errors(), "{:?}", run.apply.errors);
    let object = server
        .get_object("v1", "ConfigMap", Some("app"), "settings")
        .expect("object");
    assert_eq!(object["data"], json!({"a": "1", "b": "2"}));
}

#[tokio::test]
async fn stale_resource_version_is_read_again_before_the_takeover() {
    let server = server(vec![namespace("app")]).await;
    server
        .seed_as(legacy_config_map(), "kubectl-client-side-apply")
        .expect("seed");
    let clusters = cluster_map(vec![("c1", kube_client(&server, true))]);
    let engine = qontract_openshift_engine::Engine::new(&clusters, options());
    let mut inventory = scenario().inventory();
    let fetched = engine.fetch_current_state(&mut inventory).await;
    // Someone else touches the object between our read and our apply.
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        kube_client(&server, true),
        "app",
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("", "v1", "ConfigMap"),
            "configmaps",
        ),
    );
    let params = kube::api::PatchParams {
        field_manager: Some("kubectl-client-side-apply".to_owned()),
        ..Default::default()
    };
    let touch = json!({"metadata": {"labels": {"touched": "yes"}}});
    api.patch("settings", &params, &kube::api::Patch::Merge(&touch))
        .await
        .expect("touch");
    let plan = qontract_resource_inventory::compute_plan(&mut inventory, &Default::default());
    let report = engine
        .apply_plan(&plan, &mut inventory, &fetched, false)
        .await;

    assert!(!report.has_errors(), "{:?}", report.errors);
    assert!(report.outcomes[0].took_over);
    let object = server
        .get_object("v1", "ConfigMap", Some("app"), "settings")
        .expect("object");
    assert_eq!(object["data"], json!({"a": "1"}));
}

#[test]
fn client_side_entries_are_merged_into_our_apply_entry() {
    let managers = vec!["kubectl-client-side-apply".to_owned(), "oc".to_owned()];
    let fields = vec![
        json!({"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
            "time": "2025-01-01T00:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:a": {}, "f:b": {}}}}),
        json!({"manager": MANAGER, "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:c": {}}, "f:metadata": {"f:annotations": {"f:qontract.sha256sum": {}}}}}),
        json!({"manager": "oc", "operation": "Update", "apiVersion": "v1", "subresource": "status",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}),
        json!({"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:ownerReferences": {}}}}),
    ];
    let body = json!({"metadata": {"resourceVersion": "42", "managedFields": fields}});
    let ownership =
        qontract_openshift_engine::takeover::detect(&body, &managers).expect("detected");
    assert_eq!(ownership.resource_version, "42");

    let migrated = qontract_openshift_engine::takeover::migrated_managed_fields(
        &ownership.managed_fields,
        &managers,
        MANAGER,
    )
    .expect("something to migrate");
    insta::assert_json_snapshot!("migrated_managed_fields", migrated);
    let patch = qontract_openshift_engine::takeover::migration_patch("42", migrated);
    assert_eq!(
        patch[0],
        json!({"op": "test", "path": "/metadata/resourceVersion", "value": "42"})
    );

    // Nothing client-side: nothing to do.
    let ours_only =
        json!({"metadata": {"resourceVersion": "1", "managedFields": [fields[1].clone()]}});
    assert!(qontract_openshift_engine::takeover::detect(&ours_only, &managers).is_none());
}
