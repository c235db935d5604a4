//! Fixture builders shared by the test modules.

use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::{
    Plan, PlanOptions, ResourceInventory, TableOptions, compute_plan, render_table,
};
use serde_json::{Value, json};

pub(crate) const INTEGRATION: &str = "openshift_resources";
pub(crate) const VERSION: &str = "1.9.3";
pub(crate) const TIMESTAMP: &str = "2024-12-01T00:00:00";
pub(crate) const CLUSTER: &str = "cluster-1";
pub(crate) const NAMESPACE: &str = "app-stage";

/// A desired object of this integration, validated like app-interface input.
pub(crate) fn desired(body: Value) -> OpenshiftResource {
    let details = format!(
        "/services/app/{}.yml",
        body["metadata"]["name"].as_str().unwrap_or("x")
    );
    OpenshiftResource::new(body, INTEGRATION, VERSION, details, None).expect("valid fixture")
}

/// A desired object applied by `caller`.
pub(crate) fn desired_with_caller(body: Value, caller: &str) -> OpenshiftResource {
    OpenshiftResource::new(
        body,
        INTEGRATION,
        VERSION,
        "/saas/app.yml",
        Some(caller.into()),
    )
    .expect("valid fixture")
}

/// What the cluster returns after this integration applied `body`: the annotated object plus
/// fields the API server adds.
pub(crate) fn applied(body: &Value) -> Value {
    applied_by(&desired(body.clone()))
}

/// What the cluster returns after `resource` was applied.
pub(crate) fn applied_by(resource: &OpenshiftResource) -> Value {
    let mut body = resource.annotate(TIMESTAMP).into_body();
    server_side_fields(&mut body);
    body
}

/// Adds what the API server adds: uid, resourceVersion, managedFields, status, defaults.
pub(crate) fn server_side_fields(body: &mut Value) {
    let metadata = body["metadata"].as_object_mut().expect("metadata");
    metadata.insert("namespace".into(), json!(NAMESPACE));
    metadata.insert("uid".into(), json!("6f1c1d9e-0000-4000-8000-000000000001"));
    metadata.insert("resourceVersion".into(), json!("4711"));
    metadata.insert("creationTimestamp".into(), json!("2024-12-01T00:00:00Z"));
    metadata.insert(
        "managedFields".into(),
        json!([{"manager": "kubectl-client-side-apply"}]),
    );
    if body["kind"] == "Secret"
        && let Some(Value::Object(string_data)) =
            body.as_object_mut().and_then(|b| b.remove("stringData"))
    {
        for (key, value) in string_data {
            let encoded = qontract_openshift_resource::canonical::base64_encode_secret_value(
                value.as_str().unwrap_or_default(),
            );
            body["data"][key] = json!(encoded);
        }
    }
    if body["kind"] == "Deployment" {
        body["spec"]["progressDeadlineSeconds"] = json!(600);
        body["status"] = json!({"replicas": 1});
    }
}

/// A cluster object as read back, wrapped for the inventory.
pub(crate) fn current(body: Value) -> OpenshiftResource {
    OpenshiftResource::from_cluster(body, INTEGRATION, VERSION, format!("{CLUSTER}/{NAMESPACE}"))
        .expect("valid cluster object")
}

/// Sets an annotation on a body.
pub(crate) fn with_annotation(mut body: Value, key: &str, value: &str) -> Value {
    body["metadata"]["annotations"][key] = json!(value);
    body
}

pub(crate) fn configmap(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "app"}},
        "data": {"setting": value},
    })
}

pub(crate) fn secret(name: &str, password: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name},
        "stringData": {"password": password, "user": "admin"},
    })
}

pub(crate) fn deployment(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": image,
                    "env": [{"name": "MODE", "value": "prod"}, {"name": "EMPTY", "value": ""}],
                    "resources": {"requests": {"cpu": 0.5, "memory": "256Mi"}},
                }]},
            },
        },
    })
}

/// One namespace of one cluster with `resource_type` managed, holding the given objects.
pub(crate) fn inventory(
    resource_type: &str,
    desired_objects: Vec<OpenshiftResource>,
    current_objects: Vec<OpenshiftResource>,
) -> ResourceInventory {
    let mut inventory = ResourceInventory::new();
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, resource_type, None);
    for resource in desired_objects {
        inventory
            .add_desired(CLUSTER, NAMESPACE, resource_type, resource, false)
            .expect("desired fixture fits the inventory");
    }
    for resource in current_objects {
        inventory
            .add_current(CLUSTER, NAMESPACE, resource_type, resource)
            .expect("current fixture fits the inventory");
    }
    inventory
}

/// Plans and renders the full table (including unchanged objects) for a snapshot.
pub(crate) fn plan_and_table(
    inventory: &mut ResourceInventory,
    options: &PlanOptions,
) -> (Plan, String) {
    let plan = compute_plan(inventory, options);
    let table = render_table(
        &plan,
        TableOptions {
            include_unchanged: true,
        },
    );
    (plan, table)
}
