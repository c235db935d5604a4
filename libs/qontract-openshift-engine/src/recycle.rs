//! Pod recycling: after a ConfigMap or Secret annotated `qontract.recycle: "true"` was
//! applied, the Deployments, StatefulSets and DaemonSets of its namespace whose pod template
//! uses it (volumes, projected volumes, `env[].valueFrom`, `envFrom`) get a rollout restart
//! (`spec.template.metadata.annotations."kubectl.kubernetes.io/restartedAt"`), as
//! `oc rollout restart` does.

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::{Value, json};

use crate::retry::RetryPolicy;

/// Workload kinds restarted, with their plurals (all `apps/v1`).
const WORKLOAD_KINDS: [(&str, &str); 3] = [
    ("Deployment", "deployments"),
    ("StatefulSet", "statefulsets"),
    ("DaemonSet", "daemonsets"),
];

/// The restart annotation `oc rollout restart` writes.
pub(crate) const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// A workload whose pods use a recycled ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workload {
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    resource: ApiResource,
}

impl Workload {
    /// `Kind/name`.
    pub(crate) fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// The workloads of `namespace` whose pod template uses the ConfigMap/Secret `name`.
pub(crate) async fn workloads_using(
    client: &kube::Client,
    retry: &RetryPolicy,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<Vec<Workload>, kube::Error> {
    let mut found = Vec::new();
    for (workload_kind, plural) in WORKLOAD_KINDS {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apps", "v1", workload_kind),
            plural,
        );
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let params = ListParams::default();
        let (result, _) = retry.run(|| api.list(&params)).await;
        let list = match result {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if status.code == 404 => continue,
            Err(error) => return Err(error),
        };
        for item in list.items {
            let Some(item_name) = item.metadata.name.clone() else {
                continue;
            };
            let spec = item
                .data
                .pointer("/spec/template/spec")
                .cloned()
                .unwrap_or(Value::Null);
            if pod_spec_uses(&spec, kind, name) {
                found.push(Workload {
                    kind: workload_kind,
                    name: item_name,
                    resource: resource.clone(),
                });
            }
        }
    }
    found.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(found)
}

/// Rollout restart of one workload.
pub(crate) async fn restart(
    client: &kube::Client,
    retry: &RetryPolicy,
    namespace: &str,
    workload: &Workload,
    field_manager: &str,
    restarted_at: &str,
) -> Result<(), kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &workload.resource);
    let patch = json!({
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}
    });
    let params = PatchParams {
        field_manager: Some(field_manager.to_owned()),
        ..PatchParams::default()
    };
    let patch = Patch::Merge(&patch);
    let (result, _) = retry
        .run(|| api.patch(&workload.name, &params, &patch))
        .await;
    result.map(|_| ())
}

/// Whether a pod spec references the ConfigMap or Secret `name`.
pub(crate) fn pod_spec_uses(spec: &Value, kind: &str, name: &str) -> bool {
    let is_secret = kind == "Secret";
    let matches = |value: Option<&Value>| value.and_then(Value::as_str) == Some(name);
    let volumes = spec.get("volumes").and_then(Value::as_array);
    for volume in volumes.into_iter().flatten() {
        let direct = if is_secret {
            matches(volume.pointer("/secret/secretName"))
        } else {
            matches(volume.pointer("/configMap/name"))
        };
        if direct {
            return true;
        }
        let sources = volume
            .pointer("/projected/sources")
            .and_then(Value::as_array);
        for source in sources.into_iter().flatten() {
            let pointer = if is_secret {
                "/secret/name"
            } else {
                "/configMap/name"
            };
            if matches(source.pointer(pointer)) {
                return true;
            }
        }
    }
    for list in ["containers", "initContainers"] {
        let containers = spec.get(list).and_then(Value::as_array);
        for container in containers.into_iter().flatten() {
            let env = container.get("env").and_then(Value::as_array);
            for entry in env.into_iter().flatten() {
                let pointer = if is_secret {
                    "/valueFrom/secretKeyRef/name"
                } else {
                    "/valueFrom/configMapKeyRef/name"
                };
                if matches(entry.pointer(pointer)) {
                    return true;
                }
            }
            let env_from = container.get("envFrom").and_then(Value::as_array);
            for entry in env_from.into_iter().flatten() {
                let pointer = if is_secret {
                    "/secretRef/name"
                } else {
                    "/configMapRef/name"
                };
                if matches(entry.pointer(pointer)) {
                    return true;
                }
            }
        }
    }
    false
}
