//! Takeover of objects applied client-side (`oc apply` / `kubectl apply`) by the Python tool.
//!
//! Such objects carry the `kubectl.kubernetes.io/last-applied-configuration` annotation and
//! `metadata.managedFields` entries of the manager `kubectl-client-side-apply` with operation
//! `Update` (possibly also `kubectl` / `oc`). A server-side apply by a new manager would share
//! those fields instead of owning them, so a field later removed from app-interface would stay
//! on the cluster forever. As kubectl's `csaupgrade` does, the first apply therefore rewrites
//! `metadata.managedFields` with a JSON patch, guarded by a `test` of `resourceVersion`: the
//! entries of those managers are merged into our manager's entry with operation `Apply`.

use serde_json::{Map, Value, json};

/// Client-side ownership found on a cluster object, migrated before its first apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSideOwnership {
    /// `metadata.resourceVersion` the managed fields were read at.
    pub resource_version: String,
    /// `metadata.managedFields` as read.
    pub managed_fields: Vec<Value>,
}

fn is_client_side_entry(entry: &Value, managers: &[String]) -> bool {
    let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("");
    let operation = entry.get("operation").and_then(Value::as_str).unwrap_or("");
    let subresource = entry
        .get("subresource")
        .and_then(Value::as_str)
        .unwrap_or("");
    operation == "Update" && subresource.is_empty() && managers.iter().any(|m| m == manager)
}

/// The client-side ownership of a cluster object, if it has any entry of `managers` to migrate.
pub fn detect(body: &Value, managers: &[String]) -> Option<ClientSideOwnership> {
    let metadata = body.get("metadata")?;
    let managed_fields = metadata.get("managedFields")?.as_array()?;
    if !managed_fields
        .iter()
        .any(|entry| is_client_side_entry(entry, managers))
    {
        return None;
    }
    Some(ClientSideOwnership {
        resource_version: metadata
            .get("resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        managed_fields: managed_fields.clone(),
    })
}

/// Merges the field set `from` into `into` (both `fieldsV1` trees).
pub fn merge_field_sets(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge_field_sets(existing, incoming);
            }
            (Some(_), _) => {}
            (None, _) => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The managed fields after migration: the entries of `managers` (operation `Update`, main
/// resource) are removed and their field sets merged into the `Apply` entry of `our_manager`
/// with the same apiVersion (created if missing). `None` if there is nothing to migrate.
pub fn migrated_managed_fields(
    managed_fields: &[Value],
    managers: &[String],
    our_manager: &str,
) -> Option<Vec<Value>> {
    let (migrated, mut kept): (Vec<&Value>, Vec<&Value>) = managed_fields
        .iter()
        .partition(|entry| is_client_side_entry(entry, managers));
    if migrated.is_empty() {
        return None;
    }
    let mut result: Vec<Value> = kept.drain(..).cloned().collect();
    for entry in migrated {
        let api_version = entry.get("apiVersion").cloned().unwrap_or(Value::Null);
        let fields = entry
            .get("fieldsV1")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let ours = result.iter_mut().find(|candidate| {
            candidate.get("manager").and_then(Value::as_str) == Some(our_manager)
                && candidate.get("operation").and_then(Value::as_str) == Some("Apply")
                && candidate.get("apiVersion") == Some(&api_version)
                && candidate
                    .get("subresource")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
        });
        match ours {
            Some(Value::Object(ours)) => {
                let target = ours
                    .entry("fieldsV1")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !target.is_object() {
                    *target = Value::Object(Map::new());
                }
                if let Value::Object(target) = target {
                    merge_field_sets(target, &fields);
                }
                if let Some(time) = entry.get("time") {
                    ours.insert("time".to_owned(), time.clone());
                }
            }
            _ => {
                let mut new_entry = json!({
                    "manager": our_manager,
                    "operation": "Apply",
                    "apiVersion": api_version,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": Value::Object(fields),
                });
                if let Some(time) = entry.get("time") {
                    new_entry["time"] = time.clone();
                }
                result.push(new_entry);
            }
        }
    }
    Some(result)
}

/// The JSON patch (RFC 6902) that installs `managed_fields` if the object is still at
/// `resource_version`.
pub fn migration_patch(resource_version: &str, managed_fields: Vec<Value>) -> Value {
    json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version},
        {"op": "replace", "path": "/metadata/managedFields", "value": managed_fields},
    ])
}
