//! ResourceInventory bookkeeping and its errors (upstream-behaviour §7.2).

use qontract_resource_inventory::{
    Action, InventoryError, PlanOptions, ResourceInventory, compute_plan,
};

use crate::support::*;

#[test]
fn unknown_kind_is_reported_with_the_upstream_hint() {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "ConfigMap", None);
    let error = inventory
        .add_desired_resource(CLUSTER, NAMESPACE, desired(secret("db", "x")), false)
        .expect_err("Secret is not managed");
    assert!(matches!(error, InventoryError::UnknownKind { .. }));
    let message = error.to_string();
    assert!(
        message.contains("unknown kind: Secret. hint: is it missing from managedResourceTypes?"),
        "{message}"
    );
    assert!(
        message.contains("[cluster-1/app-stage]") && message.contains("/services/app/db.yml"),
        "{message}"
    );
}

#[test]
fn uninitialised_cluster_is_an_error_naming_the_cluster() {
    let mut inventory = ResourceInventory::new();
    let error = inventory
        .add_desired_resource(
            "cluster-9",
            NAMESPACE,
            desired(configmap("cfg", "a")),
            false,
        )
        .expect_err("cluster not initialised");
    assert!(
        matches!(error, InventoryError::ClusterNotInitialized { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("cluster-9"));
}

#[test]
fn names_outside_managed_resource_names_are_rejected() {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(
        CLUSTER,
        NAMESPACE,
        "ConfigMap",
        Some(vec!["allowed".into()]),
    );
    inventory
        .add_desired(
            CLUSTER,
            NAMESPACE,
            "ConfigMap",
            desired(configmap("allowed", "a")),
            false,
        )
        .expect("listed name is accepted");
    let error = inventory
        .add_desired(
            CLUSTER,
            NAMESPACE,
            "ConfigMap",
            desired(configmap("other", "a")),
            false,
        )
        .expect_err("unlisted name is rejected");
    assert!(matches!(error, InventoryError::NotManaged { .. }));
    assert!(error.to_string().contains("desired item is not managed"));
}

#[test]
fn second_initialisation_keeps_the_first_names_filter() {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "ConfigMap", Some(vec!["a".into()]));
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "ConfigMap", None);
    let names = inventory
        .state(CLUSTER, NAMESPACE, "ConfigMap")
        .and_then(|state| state.managed_names())
        .cloned();
    assert_eq!(
        names.map(|n| n.into_iter().collect::<Vec<_>>()),
        Some(vec!["a".to_owned()])
    );
}

#[test]
fn duplicate_declaration_keeps_the_first_and_names_both_sources() {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "ConfigMap", None);
    let first = qontract_openshift_resource::OpenshiftResource::new(
        configmap("cfg", "first"),
        INTEGRATION,
        VERSION,
        "/a.yml",
        None,
    )
    .expect("valid");
    let second = qontract_openshift_resource::OpenshiftResource::new(
        configmap("cfg", "second"),
        INTEGRATION,
        VERSION,
        "/b.yml",
        None,
    )
    .expect("valid");
    inventory
        .add_desired(CLUSTER, NAMESPACE, "ConfigMap", first, false)
        .expect("first wins");
    let error = inventory
        .add_desired(CLUSTER, NAMESPACE, "ConfigMap", second, false)
        .expect_err("duplicate");
    let message = error.to_string();
    assert!(message.contains("desired item already exists"), "{message}");
    assert!(
        message.contains("/a.yml") && message.contains("/b.yml"),
        "{message}"
    );
    let kept = inventory
        .get_desired(CLUSTER, NAMESPACE, "ConfigMap", "cfg")
        .expect("kept");
    assert_eq!(kept.resource.body()["data"]["setting"], "first");
}

#[test]
fn kind_and_group_is_used_when_initialised() {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "Deployment.apps", None);
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "Deployment", None);
    inventory
        .add_desired_resource(CLUSTER, NAMESPACE, desired(deployment("web", "i")), true)
        .expect("added");
    assert!(
        inventory
            .get_desired(CLUSTER, NAMESPACE, "Deployment.apps", "web")
            .is_some()
    );
    assert!(
        inventory
            .get_desired(CLUSTER, NAMESPACE, "Deployment", "web")
            .is_none()
    );
}

#[test]
fn registering_a_failed_add_disables_deletes_everywhere_but_keeps_applying() {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "ConfigMap", None);
    inventory.initialize_resource_type("cluster-2", NAMESPACE, "ConfigMap", None);
    let added = inventory.add_desired_resource_or_register(
        CLUSTER,
        NAMESPACE,
        desired(configmap("cfg", "a")),
        false,
    );
    assert!(added.is_ok());
    let rejected = inventory.add_desired_resource_or_register(
        CLUSTER,
        NAMESPACE,
        desired(secret("db", "x")),
        false,
    );
    assert!(matches!(rejected, Err(InventoryError::UnknownKind { .. })));
    // A cluster that is not managed (e.g. it disables the integration) is skipped silently.
    let skipped = inventory.add_desired_resource_or_register(
        "cluster-disabled",
        NAMESPACE,
        desired(configmap("x", "a")),
        false,
    );
    assert!(matches!(
        skipped,
        Err(InventoryError::ClusterNotInitialized { .. })
    ));
    inventory
        .add_current(
            "cluster-2",
            NAMESPACE,
            "ConfigMap",
            current(applied(&configmap("old", "a"))),
        )
        .expect("current added");
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let summary = plan.summary();
    assert_eq!((summary.create, summary.delete, summary.skip), (1, 0, 1));
    let skipped = plan
        .actions
        .iter()
        .find(|a| a.action == Action::Skip)
        .expect("skip");
    assert_eq!(
        (skipped.cluster.as_str(), skipped.name.as_str()),
        ("cluster-2", "old")
    );
    assert_eq!(skipped.reason.code(), "deletion_disabled_by_errors");
    assert_eq!(plan.errors.len(), 1);
    assert!(
        plan.errors[0].cluster.is_none(),
        "unknown kind is a global error"
    );
    assert!(!inventory.has_cluster_error(CLUSTER));
}

#[test]
fn current_objects_are_pruned_of_fields_no_decision_reads() {
    let mut body = with_annotation(
        applied(&configmap("cfg", "a")),
        "kubectl.kubernetes.io/last-applied-configuration",
        "{\"big\": true}",
    );
    body["metadata"]["managedFields"] = serde_json::json!([{"manager": "x"}]);
    let inventory = inventory("ConfigMap", vec![], vec![current(body)]);
    let kept = inventory
        .get_current(CLUSTER, NAMESPACE, "ConfigMap", "cfg")
        .expect("current");
    assert!(kept.body()["metadata"].get("managedFields").is_none());
    assert!(
        kept.annotation("kubectl.kubernetes.io/last-applied-configuration")
            .is_none()
    );
    assert!(
        kept.has_qontract_annotations(),
        "ownership annotations are kept"
    );
    assert_eq!(inventory.len(), (0, 1));
}
