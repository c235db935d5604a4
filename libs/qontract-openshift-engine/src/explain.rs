//! `explain`: what the tool would set on a manifest and why the plan would apply or skip it.

use qontract_openshift_resource::canonical::canonical_text;
use qontract_openshift_resource::{OpenshiftResource, ResourceError};
use qontract_resource_inventory::{Action, PlanOptions, Reason, ResourceInventory, compute_plan};
use serde::Serialize;
use serde_json::Value;

/// Why a manifest cannot be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The text is neither JSON nor YAML of one object.
    #[error("{what} is neither valid JSON nor valid YAML: {message}")]
    Parse {
        /// `manifest` or `cluster object`.
        what: &'static str,
        /// The YAML parser's message.
        message: String,
    },
    /// The object is not a valid resource (no kind or name, invalid name...).
    #[error("{what}: {source}")]
    Resource {
        /// `manifest` or `cluster object`.
        what: &'static str,
        /// The resource model's error.
        #[source]
        source: ResourceError,
    },
    /// The cluster object is not the manifest's object.
    #[error("the cluster object ({cluster_object}) is not the manifest's object ({manifest})")]
    Mismatch {
        /// Kind and name of the manifest.
        manifest: String,
        /// Kind and name of the cluster object.
        cluster_object: String,
    },
    /// The objects could not be put into an inventory.
    #[error("{0}")]
    Inventory(String),
}

/// The plan's decision for a manifest given the cluster object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// What the plan does.
    pub action: Action,
    /// Why.
    pub reason: Reason,
}

/// The result of [`explain`]. Serialises to `{"canonical": ..., "sha256sum": ...}` plus
/// `"decision"` when a cluster object was given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The canonical form the sha256sum is computed from (keys sorted).
    pub canonical: Value,
    /// The `qontract.sha256sum` the tool sets.
    pub sha256sum: String,
    /// The decision against the cluster object, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

fn parse(text: &str, what: &'static str) -> Result<Value, ExplainError> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Ok(value);
    }
    // Manifests are read like app-interface reads resources: YAML 1.1 (PyYAML) rules, so
    // `yes` is a boolean and `0755` an octal number, exactly as the hash the tool sets.
    match qontract_yaml::load(text) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(ExplainError::Parse {
            what,
            message: "the document is empty".to_owned(),
        }),
        Err(error) => Err(ExplainError::Parse {
            what,
            message: error.to_string(),
        }),
    }
}

/// Explains `manifest` (YAML or JSON) as `integration` at `integration_version` would apply
/// it: its canonical JSON and `qontract.sha256sum` and, given the object as read from the
/// cluster (`cluster_object`, YAML or JSON), the plan's action and reason for it.
pub fn explain(
    manifest: &str,
    integration: &str,
    integration_version: &str,
    cluster_object: Option<&str>,
) -> Result<Explanation, ExplainError> {
    let body = parse(manifest, "manifest")?;
    let desired = OpenshiftResource::new(body, integration, integration_version, "manifest", None)
        .map_err(|source| ExplainError::Resource {
            what: "manifest",
            source,
        })?;
    let canonical_json = canonical_text(desired.body());
    let canonical = serde_json::from_str(&canonical_json).unwrap_or(Value::Null);
    let sha256sum = desired.sha256sum().to_owned();

    let decision = match cluster_object {
        None => None,
        Some(text) => {
            let current_body = parse(text, "cluster object")?;
            let current = OpenshiftResource::from_cluster(
                current_body,
                integration,
                integration_version,
                "cluster object",
            )
            .map_err(|source| ExplainError::Resource {
                what: "cluster object",
                source,
            })?;
            const CLUSTER: &str = "explain";
            const NAMESPACE: &str = "explain";
            let resource_type = desired.kind_and_group();
            let name = desired.name().to_owned();
            let mut inventory = ResourceInventory::new();
            inventory.initialize_resource_type(CLUSTER, NAMESPACE, &resource_type, None);
            if current.name() != name || current.kind() != desired.kind() {
                return Err(ExplainError::Mismatch {
                    manifest: format!("{} {}", desired.kind(), name),
                    cluster_object: format!("{} {}", current.kind(), current.name()),
                });
            }
            inventory
                .add_desired(CLUSTER, NAMESPACE, &resource_type, desired, false)
                .and_then(|()| inventory.add_current(CLUSTER, NAMESPACE, &resource_type, current))
                .map_err(|error| ExplainError::Inventory(error.to_string()))?;
            let options = PlanOptions::default();
            let plan = compute_plan(&mut inventory, &options);
            plan.actions
                .into_iter()
                .find(|action| action.name == name)
                .map(|action| Decision {
                    action: action.action,
                    reason: action.reason,
                })
        }
    };
    Ok(Explanation {
        canonical,
        sha256sum,
        decision,
    })
}
