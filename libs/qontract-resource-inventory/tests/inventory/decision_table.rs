//! One fixture per row of the realize_data decision table (upstream-behaviour §7.5), each
//! checked structurally and as a snapshot of the rendered plan.

use std::collections::BTreeSet;

use qontract_resource_inventory::{Action, Plan, PlanOptions, ResourceInventory};
use serde_json::{Value, json};

use crate::support::*;

/// Plans, asserts the single action and its reason code, and snapshots the table.
fn check(
    snapshot: &str,
    inventory: &mut ResourceInventory,
    options: &PlanOptions,
    expected: Action,
    code: &str,
) -> Plan {
    let (plan, table) = plan_and_table(inventory, options);
    assert_eq!(
        plan.actions.len(),
        1,
        "exactly one object expected:\n{table}"
    );
    assert_eq!(plan.actions[0].action, expected, "{table}");
    assert_eq!(plan.actions[0].reason.code(), code, "{table}");
    insta::assert_snapshot!(snapshot, table);
    plan
}

fn with_caller(caller: &str, all_callers: &[&str]) -> PlanOptions {
    PlanOptions {
        caller: Some(caller.to_owned()),
        all_callers: all_callers
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<BTreeSet<_>>(),
        ..PlanOptions::default()
    }
}

#[test]
fn add_creates_object_missing_on_cluster() {
    let mut inventory = inventory("ConfigMap", vec![desired(configmap("cfg", "a"))], vec![]);
    let plan = check(
        "add_create",
        &mut inventory,
        &PlanOptions::default(),
        Action::Create,
        "not_on_cluster",
    );
    assert!(plan.deletion_enabled);
    assert!(plan.errors.is_empty());
}

#[test]
fn change_when_cluster_object_has_no_sha256sum() {
    let mut cluster_body = configmap("cfg", "a");
    server_side_fields(&mut cluster_body);
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired(configmap("cfg", "a"))],
        vec![current(cluster_body)],
    );
    check(
        "change_missing_sha",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "missing_sha256sum",
    );
}

#[test]
fn change_when_sha_present_but_integration_annotation_missing() {
    let mut cluster_body = applied(&configmap("cfg", "a"));
    cluster_body["metadata"]["annotations"]
        .as_object_mut()
        .expect("annotations")
        .shift_remove("qontract.integration");
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired(configmap("cfg", "a"))],
        vec![current(cluster_body)],
    );
    check(
        "change_missing_integration_annotation",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "missing_integration_annotation",
    );
}

#[test]
fn change_when_another_integration_applied_it() {
    let cluster_body = with_annotation(
        applied(&configmap("cfg", "a")),
        "qontract.integration",
        "openshift-vault-secrets",
    );
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired(configmap("cfg", "a"))],
        vec![current(cluster_body)],
    );
    check(
        "change_switching_integration",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "switching_integration",
    );
}

#[test]
fn change_when_desired_changed_since_last_apply() {
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired(configmap("cfg", "new"))],
        vec![current(applied(&configmap("cfg", "old")))],
    );
    check(
        "change_desired_changed",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "desired_changed",
    );
}

#[test]
fn change_when_a_declared_field_drifted_on_the_cluster() {
    let mut cluster_body = applied(&configmap("cfg", "a"));
    cluster_body["data"]["setting"] = json!("edited by hand");
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired(configmap("cfg", "a"))],
        vec![current(cluster_body)],
    );
    let plan = check(
        "change_drift_value",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "drift",
    );
    assert_eq!(
        serde_json::to_value(&plan.actions[0].reason).expect("reason serialises")["path"],
        json!("/data/setting")
    );
}

/// Upstream's three-way diff only counts `add`/`replace` operations of the patch from the
/// cluster object to the desired one: items a webhook appends to a declared list are `remove`
/// operations, so the object is unchanged (and `--detailed-exitcode` does not exit 2 forever).
#[test]
fn identical_when_a_webhook_appended_list_items() {
    let mut cluster_body = applied(&deployment("web", "quay.io/app/web:1"));
    let pod = &mut cluster_body["spec"]["template"]["spec"];
    pod["containers"][0]["env"]
        .as_array_mut()
        .expect("env")
        .push(json!({"name": "HTTP_PROXY", "value": "http://proxy:3128"}));
    pod["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "istio-proxy", "image": "istio/proxyv2:1.20"}));
    pod["volumes"] = json!([{"name": "ca", "configMap": {"name": "ca"}}]);
    cluster_body["metadata"]["labels"] = json!({"injected-by": "webhook"});
    let mut inventory = inventory(
        "Deployment",
        vec![desired(deployment("web", "quay.io/app/web:1"))],
        vec![current(cluster_body)],
    );
    let plan = check(
        "identical_webhook_appended_items",
        &mut inventory,
        &PlanOptions::default(),
        Action::NoOp,
        "up_to_date",
    );
    assert_eq!(plan.changes().count(), 0);
}

/// A list is compared index by index, as upstream: an item inserted before the declared ones
/// replaces their fields, and that counts.
#[test]
fn change_when_an_item_was_inserted_before_declared_ones() {
    let mut cluster_body = applied(&deployment("web", "quay.io/app/web:1"));
    cluster_body["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .expect("env")
        .insert(0, json!({"name": "DEBUG", "value": "1"}));
    let mut inventory = inventory(
        "Deployment",
        vec![desired(deployment("web", "quay.io/app/web:1"))],
        vec![current(cluster_body)],
    );
    let plan = check(
        "change_drift_item_inserted",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "drift",
    );
    assert_eq!(
        serde_json::to_value(&plan.actions[0].reason).expect("reason serialises")["path"],
        json!("/spec/template/spec/containers/0/env/0/name")
    );
}

#[test]
fn identical_objects_are_left_alone_despite_server_defaults() {
    // The server normalises cpu 0.5 to "500m", drops the empty env value and adds defaults.
    let mut cluster_body = applied(&deployment("web", "quay.io/app/web:1"));
    let container = &mut cluster_body["spec"]["template"]["spec"]["containers"][0];
    container["resources"]["requests"]["cpu"] = json!("500m");
    container["env"][1] = json!({"name": "EMPTY"});
    container["imagePullPolicy"] = json!("IfNotPresent");
    container["terminationMessagePath"] = json!("/dev/termination-log");
    let mut inventory = inventory(
        "Deployment",
        vec![desired(deployment("web", "quay.io/app/web:1"))],
        vec![current(cluster_body)],
    );
    let plan = check(
        "identical_noop",
        &mut inventory,
        &PlanOptions::default(),
        Action::NoOp,
        "up_to_date",
    );
    assert_eq!(plan.changes().count(), 0);
}

#[test]
fn identical_secret_given_as_string_data_matches_base64_data() {
    let mut inventory = inventory(
        "Secret",
        vec![desired(secret("db", "s3cr3t"))],
        vec![current(applied(&secret("db", "s3cr3t")))],
    );
    check(
        "identical_secret_noop",
        &mut inventory,
        &PlanOptions::default(),
        Action::NoOp,
        "up_to_date",
    );
}

#[test]
fn identical_with_other_caller_is_adopted_with_take_over() {
    let cluster_body = applied_by(&desired_with_caller(configmap("cfg", "a"), "saas-old"));
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired_with_caller(configmap("cfg", "a"), "saas-new")],
        vec![current(cluster_body)],
    );
    let options = PlanOptions {
        take_over: true,
        ..with_caller("saas-new", &["saas-old", "saas-new"])
    };
    check(
        "identical_caller_take_over",
        &mut inventory,
        &options,
        Action::Update,
        "caller_adoption",
    );
}

#[test]
fn identical_with_unknown_caller_is_adopted() {
    let cluster_body = applied_by(&desired_with_caller(configmap("cfg", "a"), "saas-renamed"));
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired_with_caller(configmap("cfg", "a"), "saas-new")],
        vec![current(cluster_body)],
    );
    let options = with_caller("saas-new", &["saas-new"]);
    check(
        "identical_caller_unknown",
        &mut inventory,
        &options,
        Action::Update,
        "caller_adoption",
    );
}

#[test]
fn identical_with_other_known_caller_is_an_error() {
    let cluster_body = applied_by(&desired_with_caller(configmap("cfg", "a"), "saas-other"));
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired_with_caller(configmap("cfg", "a"), "saas-new")],
        vec![current(cluster_body)],
    );
    let options = with_caller("saas-new", &["saas-other", "saas-new"]);
    let plan = check(
        "identical_caller_conflict",
        &mut inventory,
        &options,
        Action::Skip,
        "managed_by_other_caller",
    );
    assert_eq!(plan.errors.len(), 1);
    assert!(
        plan.errors[0]
            .message
            .contains("present and managed by another caller: saas-other")
    );
    assert!(inventory.has_error_registered());
    assert!(!plan.deletion_enabled);
}

#[test]
fn changed_with_other_known_caller_is_an_error() {
    let cluster_body = applied_by(&desired_with_caller(configmap("cfg", "old"), "saas-other"));
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired_with_caller(configmap("cfg", "new"), "saas-new")],
        vec![current(cluster_body)],
    );
    let options = with_caller("saas-new", &["saas-other", "saas-new"]);
    let plan = check(
        "changed_caller_conflict",
        &mut inventory,
        &options,
        Action::Skip,
        "managed_by_other_caller",
    );
    assert_eq!(plan.errors.len(), 1);
}

#[test]
fn changed_in_wet_run_with_skip_compare_ignores_the_caller() {
    let cluster_body = applied_by(&desired_with_caller(configmap("cfg", "old"), "saas-other"));
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired_with_caller(configmap("cfg", "new"), "saas-new")],
        vec![current(cluster_body)],
    );
    let options = PlanOptions {
        dry_run: false,
        no_dry_run_skip_compare: true,
        ..with_caller("saas-new", &["saas-other", "saas-new"])
    };
    let plan = check(
        "changed_skip_compare",
        &mut inventory,
        &options,
        Action::Update,
        "desired_changed",
    );
    assert!(plan.errors.is_empty());
}

#[test]
fn delete_owned_object_no_longer_desired() {
    let mut inventory = inventory(
        "ConfigMap",
        vec![],
        vec![current(applied(&configmap("leftover", "a")))],
    );
    let plan = check(
        "delete_owned",
        &mut inventory,
        &PlanOptions::default(),
        Action::Delete,
        "owned_not_desired",
    );
    assert_eq!(
        plan.actions[0].upstream_log_line().as_deref(),
        Some("['delete', 'privileged=False', 'cluster-1', 'app-stage', 'ConfigMap', 'leftover']")
    );
}

#[test]
fn delete_skipped_for_owned_object_of_other_caller() {
    let cluster_body = applied_by(&desired_with_caller(
        configmap("leftover", "a"),
        "saas-other",
    ));
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    let options = with_caller("saas-new", &["saas-other", "saas-new"]);
    check(
        "delete_skip_other_caller",
        &mut inventory,
        &options,
        Action::Skip,
        "owned_by_other_caller",
    );
}

#[test]
fn delete_skipped_for_unannotated_object() {
    let mut cluster_body = configmap("kube-root-ca.crt", "cert");
    server_side_fields(&mut cluster_body);
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    check(
        "delete_skip_unannotated",
        &mut inventory,
        &PlanOptions::default(),
        Action::Skip,
        "not_owned",
    );
}

#[test]
fn delete_skipped_for_object_of_other_integration() {
    let cluster_body = with_annotation(
        applied(&configmap("theirs", "a")),
        "qontract.integration",
        "openshift-vault-secrets",
    );
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    check(
        "delete_skip_other_integration",
        &mut inventory,
        &PlanOptions::default(),
        Action::Skip,
        "not_owned",
    );
}

#[test]
fn delete_skipped_for_object_of_older_major_version() {
    let cluster_body = with_annotation(
        applied(&configmap("old", "a")),
        "qontract.integration_version",
        "0.9.0",
    );
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    check(
        "delete_skip_other_major",
        &mut inventory,
        &PlanOptions::default(),
        Action::Skip,
        "not_owned",
    );
}

#[test]
fn delete_skipped_for_unparsable_version() {
    let cluster_body = with_annotation(
        applied(&configmap("odd", "a")),
        "qontract.integration_version",
        "v1",
    );
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    check(
        "delete_skip_bad_semver",
        &mut inventory,
        &PlanOptions::default(),
        Action::Skip,
        "not_owned",
    );
}

#[test]
fn take_over_skips_objects_with_owner_references() {
    let mut cluster_body = configmap("owned-by-operator", "a");
    server_side_fields(&mut cluster_body);
    cluster_body["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "Foo", "name": "op", "uid": "1"}]);
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    let options = PlanOptions {
        take_over: true,
        ..PlanOptions::default()
    };
    check(
        "take_over_skip_owner_references",
        &mut inventory,
        &options,
        Action::Skip,
        "has_owner_references",
    );
}

#[test]
fn take_over_deletes_unowned_objects() {
    let mut cluster_body = configmap("stray", "a");
    server_side_fields(&mut cluster_body);
    let mut inventory = inventory("ConfigMap", vec![], vec![current(cluster_body)]);
    let options = PlanOptions {
        take_over: true,
        ..PlanOptions::default()
    };
    check(
        "take_over_delete",
        &mut inventory,
        &options,
        Action::Delete,
        "take_over_not_desired",
    );
}

#[test]
fn any_registered_error_disables_all_deletes() {
    let mut inventory = inventory(
        "ConfigMap",
        vec![],
        vec![current(applied(&configmap("leftover", "a")))],
    );
    inventory.register_error(
        None,
        "unknown kind: Foo. hint: is it missing from managedResourceTypes?",
    );
    let plan = check(
        "deletion_disabled_by_errors",
        &mut inventory,
        &PlanOptions::default(),
        Action::Skip,
        "deletion_disabled_by_errors",
    );
    assert!(!plan.deletion_enabled);
    assert_eq!(plan.changes().count(), 0);
}

#[test]
fn override_disables_deletes() {
    let mut inventory = inventory(
        "ConfigMap",
        vec![],
        vec![current(applied(&configmap("leftover", "a")))],
    );
    let options = PlanOptions {
        override_enable_deletion: Some(false),
        ..PlanOptions::default()
    };
    let plan = check(
        "deletion_disabled_by_override",
        &mut inventory,
        &options,
        Action::Skip,
        "deletion_disabled_by_override",
    );
    assert!(!plan.deletion_enabled);
    assert!(plan.errors.is_empty(), "an override is not an error");
}

#[test]
fn override_cannot_enable_deletes_despite_errors() {
    let mut inventory = inventory(
        "ConfigMap",
        vec![],
        vec![current(applied(&configmap("leftover", "a")))],
    );
    inventory.register_error(None, "something failed");
    let options = PlanOptions {
        override_enable_deletion: Some(true),
        ..PlanOptions::default()
    };
    let plan = qontract_resource_inventory::compute_plan(&mut inventory, &options);
    assert_eq!(plan.actions[0].action, Action::Skip);
    assert_eq!(plan.actions[0].reason.code(), "deletion_disabled_by_errors");
}

#[test]
fn cluster_with_errors_gets_no_changes() {
    let mut inventory = inventory("ConfigMap", vec![desired(configmap("cfg", "a"))], vec![]);
    inventory.register_error(Some(CLUSTER), "is unreachable: connection refused");
    let plan = check(
        "cluster_with_errors",
        &mut inventory,
        &PlanOptions::default(),
        Action::Skip,
        "cluster_has_errors",
    );
    assert_eq!(plan.changes().count(), 0);
}

#[test]
fn recycle_flag_set_for_annotated_configmap_and_secret() {
    let body = with_annotation(configmap("cfg", "new"), "qontract.recycle", "true");
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired(body)],
        vec![current(applied(&configmap("cfg", "old")))],
    );
    let plan = check(
        "recycle_pods",
        &mut inventory,
        &PlanOptions::default(),
        Action::Update,
        "desired_changed",
    );
    assert!(plan.actions[0].recycle_pods);

    let body = with_annotation(secret("db", "new"), "qontract.recycle", "true");
    let mut secret_inventory = crate::support::inventory("Secret", vec![desired(body)], vec![]);
    let options = PlanOptions {
        recycle_pods: false,
        ..PlanOptions::default()
    };
    let plan = qontract_resource_inventory::compute_plan(&mut secret_inventory, &options);
    assert!(
        !plan.actions[0].recycle_pods,
        "recycle_pods=false turns recycling off"
    );
}

#[test]
fn rollout_restart_annotation_is_carried_over() {
    let restarted = |mut body: Value| {
        body["spec"]["template"]["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/restartedAt": "2024-12-02T10:00:00Z"});
        body
    };
    // Steady state after a restart: the last apply already carried the annotation over.
    let cluster_body = applied(&restarted(deployment("web", "quay.io/app/web:1")));
    let mut inventory = inventory(
        "Deployment",
        vec![desired(deployment("web", "quay.io/app/web:1"))],
        vec![current(cluster_body)],
    );
    check(
        "restarted_at_carried_over",
        &mut inventory,
        &PlanOptions::default(),
        Action::NoOp,
        "up_to_date",
    );
    let kept = inventory
        .get_desired(CLUSTER, NAMESPACE, "Deployment", "web")
        .expect("desired web")
        .resource
        .body()
        .pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
        .cloned();
    assert_eq!(kept, Some(json!("2024-12-02T10:00:00Z")));
}

/// Upstream `patch_desired_resource_for_recycle_annotations` copies only truthy values
/// (`if (value := current_annotations.get(k))`): an empty `restartedAt` is not carried over,
/// so the desired object (and its sha256sum) stays as declared.
#[test]
fn empty_rollout_restart_annotation_is_not_carried_over() {
    let mut cluster_body = applied(&deployment("web", "quay.io/app/web:1"));
    cluster_body["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": ""});
    let mut inventory = inventory(
        "Deployment",
        vec![desired(deployment("web", "quay.io/app/web:1"))],
        vec![current(cluster_body)],
    );
    let plan = qontract_resource_inventory::compute_plan(&mut inventory, &PlanOptions::default());
    assert_eq!(
        plan.actions[0].action,
        Action::NoOp,
        "{:?}",
        plan.actions[0].reason
    );
    let desired_annotations = inventory
        .get_desired(CLUSTER, NAMESPACE, "Deployment", "web")
        .expect("desired web")
        .resource
        .body()
        .pointer("/spec/template/metadata/annotations")
        .cloned();
    assert_eq!(desired_annotations, None);
}

#[test]
fn caller_conflicts_in_a_cluster_with_errors_are_not_checked() {
    let cluster_body = applied_by(&desired_with_caller(configmap("cfg", "a"), "saas-other"));
    let mut inventory = inventory(
        "ConfigMap",
        vec![desired_with_caller(configmap("cfg", "a"), "saas-new")],
        vec![current(cluster_body)],
    );
    inventory.register_error(Some(CLUSTER), "is unreachable: connection refused");
    let options = with_caller("saas-new", &["saas-other", "saas-new"]);
    let plan = check(
        "caller_conflict_in_cluster_with_errors",
        &mut inventory,
        &options,
        Action::Skip,
        "cluster_has_errors",
    );
    assert_eq!(
        plan.errors.len(),
        1,
        "only the cluster error: {:?}",
        plan.errors
    );
}
