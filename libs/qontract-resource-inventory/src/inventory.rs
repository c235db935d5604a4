//! The ResourceInventory: desired and current objects per cluster, namespace and resource type.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use qontract_openshift_resource::OpenshiftResource;
use qontract_openshift_resource::annotations::LAST_APPLIED_CONFIGURATION;
use serde::Serialize;
use serde_json::Value;

/// Pseudo namespace used by integrations that manage cluster-scoped objects.
pub const CLUSTER_SCOPE_NAMESPACE: &str = "cluster";

/// The object an [`InventoryError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub namespace: String,
    /// Resource type (kind or `Kind.group`).
    pub resource_type: String,
    /// Object name.
    pub name: String,
}

impl ObjectRef {
    fn boxed(cluster: &str, namespace: &str, resource_type: &str, name: &str) -> Box<Self> {
        Box::new(Self {
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// Why an object could not be added to the inventory. Each message names the cluster,
/// namespace, resource type and object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// The cluster was never initialised (it is not managed by this run).
    #[error("[{}/{}] cluster {} is not initialised in the inventory; cannot add {} {}", .object.cluster, .object.namespace, .object.cluster, .object.resource_type, .object.name)]
    ClusterNotInitialized {
        /// The object.
        object: Box<ObjectRef>,
    },
    /// The resource type is not initialised for the namespace (upstream `KeyError`).
    #[error("[{}/{}] unknown kind: {}. hint: is it missing from managedResourceTypes? (object {}, from {details})", .object.cluster, .object.namespace, .object.resource_type, .object.name)]
    UnknownKind {
        /// The object.
        object: Box<ObjectRef>,
        /// Where the object came from.
        details: String,
    },
    /// `managedResourceNames` is set for the type and does not list the name.
    #[error("[{}/{}] desired item is not managed: {} {} is not listed in managedResourceNames (from {details})", .object.cluster, .object.namespace, .object.resource_type, .object.name)]
    NotManaged {
        /// The object.
        object: Box<ObjectRef>,
        /// Where the object came from.
        details: String,
    },
    /// The same object is declared twice in one run; the first declaration is kept.
    #[error("[{}/{}] desired item already exists: {} {} is declared by {first} and again by {second}", .object.cluster, .object.namespace, .object.resource_type, .object.name)]
    DuplicateDesired {
        /// The object.
        object: Box<ObjectRef>,
        /// Where the kept declaration came from.
        first: String,
        /// Where the rejected declaration came from.
        second: String,
    },
}

impl InventoryError {
    /// The object the error is about.
    pub fn object(&self) -> &ObjectRef {
        match self {
            InventoryError::ClusterNotInitialized { object }
            | InventoryError::UnknownKind { object, .. }
            | InventoryError::NotManaged { object, .. }
            | InventoryError::DuplicateDesired { object, .. } => object,
        }
    }
}

/// An error registered during the run. Any registered error disables deletions; an error with
/// a cluster additionally stops all changes to that cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredError {
    /// The cluster the error is about, if it is cluster-wide.
    pub cluster: Option<String>,
    /// Human-readable message naming what the error is about.
    pub message: String,
}

impl fmt::Display for RegisteredError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages that already name their cluster (`[c] ...`, `[c/ns] ...`) are not prefixed
        // twice.
        match &self.cluster {
            Some(cluster) if !names_cluster(&self.message, cluster) => {
                write!(formatter, "[{cluster}] {}", self.message)
            }
            _ => formatter.write_str(&self.message),
        }
    }
}

/// Whether `message` starts with `[cluster]` or `[cluster/...]`.
fn names_cluster(message: &str, cluster: &str) -> bool {
    message
        .strip_prefix('[')
        .and_then(|rest| rest.strip_prefix(cluster))
        .is_some_and(|rest| rest.starts_with(']') || rest.starts_with('/'))
}

/// A desired object and whether it is applied with the cluster-admin token.
#[derive(Debug, Clone)]
pub struct DesiredEntry {
    /// The desired object.
    pub resource: OpenshiftResource,
    /// Apply with the privileged (cluster-admin) client.
    pub privileged: bool,
}

/// Desired and current objects of one resource type in one namespace of one cluster.
#[derive(Debug, Clone, Default)]
pub struct ResourceTypeState {
    // Boxed: most maps hold one or two objects, and a B-tree node has room for eleven values.
    pub(crate) current: BTreeMap<String, Box<OpenshiftResource>>,
    pub(crate) desired: BTreeMap<String, Box<DesiredEntry>>,
    managed_names: Option<BTreeSet<String>>,
}

impl ResourceTypeState {
    /// Current (cluster) objects by name.
    pub fn current(&self) -> &BTreeMap<String, Box<OpenshiftResource>> {
        &self.current
    }

    /// Desired objects by name.
    pub fn desired(&self) -> &BTreeMap<String, Box<DesiredEntry>> {
        &self.desired
    }

    /// The names filter (`managedResourceNames`), if any.
    pub fn managed_names(&self) -> Option<&BTreeSet<String>> {
        self.managed_names.as_ref()
    }
}

type Namespaces = BTreeMap<String, BTreeMap<String, ResourceTypeState>>;

/// The Python `ResourceInventory`: `cluster → namespace → resource type → {current, desired,
/// privileged, managed names}` plus the errors registered during the run.
///
/// Iteration is ordered by cluster, namespace and resource type, so everything computed from
/// an inventory is deterministic.
#[derive(Debug, Clone, Default)]
pub struct ResourceInventory {
    clusters: BTreeMap<String, Namespaces>,
    errors: Vec<RegisteredError>,
    clusters_with_errors: BTreeSet<String>,
}

impl ResourceInventory {
    /// Drop every cluster for which `keep` is false (e.g. `--internal` / `--external`), with
    /// its desired objects; errors already registered stay.
    pub fn retain_clusters(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.clusters.retain(|cluster, _| keep(cluster));
    }

    /// Drop one namespace with its desired and current objects (upstream `init_specs_to_fetch`
    /// skips a namespace that fails validation); errors already registered stay.
    pub fn remove_namespace(&mut self, cluster: &str, namespace: &str) {
        if let Some(namespaces) = self.clusters.get_mut(cluster) {
            namespaces.remove(namespace);
        }
    }

    /// The clusters holding at least one managed namespace, in order.
    pub fn cluster_names(&self) -> Vec<String> {
        self.clusters.keys().cloned().collect()
    }

    /// Moves `cluster` out into an inventory of its own, with the errors registered for it
    /// (a unit of a streamed run: planned and applied on its own, then dropped); errors of
    /// other clusters and of no cluster stay here.
    pub fn take_cluster(&mut self, cluster: &str) -> ResourceInventory {
        let mut unit = ResourceInventory::new();
        if let Some(namespaces) = self.clusters.remove(cluster) {
            unit.clusters.insert(cluster.to_owned(), namespaces);
        }
        if self.clusters_with_errors.remove(cluster) {
            let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.errors)
                .into_iter()
                .partition(|error| error.cluster.as_deref() == Some(cluster));
            self.errors = others;
            unit.errors = mine;
            unit.clusters_with_errors.insert(cluster.to_owned());
        }
        unit
    }

    /// Moves the clusters and errors of `other` (e.g. a [`Self::take_cluster`] unit) into this
    /// inventory; a cluster present in both keeps this inventory's namespaces.
    pub fn absorb_cluster(&mut self, other: ResourceInventory) {
        for (cluster, namespaces) in other.clusters {
            self.clusters.entry(cluster).or_insert(namespaces);
        }
        self.errors.extend(other.errors);
        self.clusters_with_errors.extend(other.clusters_with_errors);
    }

    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares that `resource_type` is managed in `cluster`/`namespace`. A second call keeps
    /// the first `managed_names` (upstream `setdefault`).
    pub fn initialize_resource_type(
        &mut self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
        managed_names: Option<Vec<String>>,
    ) {
        self.clusters
            .entry(cluster.to_owned())
            .or_default()
            .entry(namespace.to_owned())
            .or_default()
            .entry(resource_type.to_owned())
            .or_insert_with(|| ResourceTypeState {
                managed_names: managed_names.map(|names| names.into_iter().collect()),
                ..ResourceTypeState::default()
            });
    }

    /// True if any resource type was initialised for the cluster.
    pub fn is_cluster_present(&self, cluster: &str) -> bool {
        self.clusters.contains_key(cluster)
    }

    /// True if `resource_type` was initialised for the namespace.
    pub fn is_initialized(&self, cluster: &str, namespace: &str, resource_type: &str) -> bool {
        self.state(cluster, namespace, resource_type).is_some()
    }

    /// Adds a desired object under `resource_type` (upstream `add_desired`): the type must be
    /// initialised, the name must pass the names filter and must not be declared yet.
    pub fn add_desired(
        &mut self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
        resource: OpenshiftResource,
        privileged: bool,
    ) -> Result<(), InventoryError> {
        let name = resource.name().to_owned();
        let Some(namespaces) = self.clusters.get_mut(cluster) else {
            return Err(InventoryError::ClusterNotInitialized {
                object: ObjectRef::boxed(cluster, namespace, resource_type, &name),
            });
        };
        let Some(state) = namespaces
            .get_mut(namespace)
            .and_then(|types| types.get_mut(resource_type))
        else {
            return Err(InventoryError::UnknownKind {
                object: ObjectRef::boxed(cluster, namespace, resource_type, &name),
                details: resource.error_details().to_owned(),
            });
        };
        if let Some(managed_names) = &state.managed_names
            && !managed_names.contains(&name)
        {
            return Err(InventoryError::NotManaged {
                object: ObjectRef::boxed(cluster, namespace, resource_type, &name),
                details: resource.error_details().to_owned(),
            });
        }
        if let Some(existing) = state.desired.get(&name) {
            return Err(InventoryError::DuplicateDesired {
                object: ObjectRef::boxed(cluster, namespace, resource_type, &name),
                first: existing.resource.error_details().to_owned(),
                second: resource.error_details().to_owned(),
            });
        }
        state.desired.insert(
            name,
            Box::new(DesiredEntry {
                resource,
                privileged,
            }),
        );
        Ok(())
    }

    /// Adds a desired object under its `Kind.group` if that type was initialised, else under
    /// its plain kind (upstream `add_desired_resource`).
    pub fn add_desired_resource(
        &mut self,
        cluster: &str,
        namespace: &str,
        resource: OpenshiftResource,
        privileged: bool,
    ) -> Result<(), InventoryError> {
        let kind_and_group = resource.kind_and_group();
        let resource_type = if self.is_initialized(cluster, namespace, &kind_and_group) {
            kind_and_group
        } else {
            resource.kind().to_owned()
        };
        self.add_desired(cluster, namespace, &resource_type, resource, privileged)
    }

    /// [`Self::add_desired_resource`], registering a failure as a run error (as
    /// openshift-resources does) instead of returning it. Returns whether the object was added.
    ///
    /// As upstream, an object for a cluster that was never initialised (e.g. a cluster that
    /// disables this integration) is dropped without registering an error; the error is
    /// returned so the caller can log it.
    pub fn add_desired_resource_or_register(
        &mut self,
        cluster: &str,
        namespace: &str,
        resource: OpenshiftResource,
        privileged: bool,
    ) -> Result<(), InventoryError> {
        match self.add_desired_resource(cluster, namespace, resource, privileged) {
            Ok(()) => Ok(()),
            Err(error @ InventoryError::ClusterNotInitialized { .. }) => Err(error),
            Err(error) => {
                self.register_error(None, &error);
                Err(error)
            }
        }
    }

    /// Adds an object read from the cluster. The fields no decision ever reads (`status`,
    /// `metadata.managedFields` and the last-applied-configuration annotation, together often
    /// more than half of an object) are dropped to keep large inventories small.
    pub fn add_current(
        &mut self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
        mut resource: OpenshiftResource,
    ) -> Result<(), InventoryError> {
        let name = resource.name().to_owned();
        let Some(state) = self.state_mut(cluster, namespace, resource_type) else {
            return Err(InventoryError::UnknownKind {
                object: ObjectRef::boxed(cluster, namespace, resource_type, &name),
                details: resource.error_details().to_owned(),
            });
        };
        prune_current(resource.body_mut());
        state.current.insert(name, Box::new(resource));
        Ok(())
    }

    /// A desired object.
    pub fn get_desired(
        &self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
        name: &str,
    ) -> Option<&DesiredEntry> {
        self.state(cluster, namespace, resource_type)?
            .desired
            .get(name)
            .map(|entry| &**entry)
    }

    /// The desired object a planned create or update applies.
    pub fn desired_for(&self, action: &crate::plan::PlannedAction) -> Option<&DesiredEntry> {
        self.get_desired(
            &action.cluster,
            &action.namespace,
            &action.resource_type,
            &action.name,
        )
    }

    /// A current object.
    pub fn get_current(
        &self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
        name: &str,
    ) -> Option<&OpenshiftResource> {
        self.state(cluster, namespace, resource_type)?
            .current
            .get(name)
            .map(|resource| &**resource)
    }

    /// All desired objects of one type in one namespace.
    pub fn get_desired_by_type(
        &self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
    ) -> Option<&BTreeMap<String, Box<DesiredEntry>>> {
        Some(&self.state(cluster, namespace, resource_type)?.desired)
    }

    /// The state of one `(cluster, namespace, resource type)`.
    pub fn state(
        &self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
    ) -> Option<&ResourceTypeState> {
        self.clusters
            .get(cluster)?
            .get(namespace)?
            .get(resource_type)
    }

    fn state_mut(
        &mut self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
    ) -> Option<&mut ResourceTypeState> {
        self.clusters
            .get_mut(cluster)?
            .get_mut(namespace)?
            .get_mut(resource_type)
    }

    /// Iterates `(cluster, namespace, resource type, state)` in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &str, &ResourceTypeState)> {
        self.clusters.iter().flat_map(|(cluster, namespaces)| {
            namespaces.iter().flat_map(move |(namespace, types)| {
                types.iter().map(move |(resource_type, state)| {
                    (
                        cluster.as_str(),
                        namespace.as_str(),
                        resource_type.as_str(),
                        state,
                    )
                })
            })
        })
    }

    pub(crate) fn iter_mut(
        &mut self,
    ) -> impl Iterator<Item = (&str, &str, &str, &mut ResourceTypeState)> {
        self.clusters.iter_mut().flat_map(|(cluster, namespaces)| {
            namespaces.iter_mut().flat_map(move |(namespace, types)| {
                types.iter_mut().map(move |(resource_type, state)| {
                    (
                        cluster.as_str(),
                        namespace.as_str(),
                        resource_type.as_str(),
                        state,
                    )
                })
            })
        })
    }

    /// Registers an error: it disables deletions for the whole run and, with a cluster, stops
    /// every change to that cluster. `error` is any typed error (or a message): its `Display`
    /// text is what the run reports.
    pub fn register_error(&mut self, cluster: Option<&str>, error: impl std::fmt::Display) {
        if let Some(cluster) = cluster {
            self.clusters_with_errors.insert(cluster.to_owned());
        }
        self.errors.push(RegisteredError {
            cluster: cluster.map(str::to_owned),
            message: error.to_string(),
        });
    }

    /// True if any error was registered.
    pub fn has_error_registered(&self) -> bool {
        !self.errors.is_empty()
    }

    /// True if an error was registered for `cluster`.
    pub fn has_cluster_error(&self, cluster: &str) -> bool {
        self.clusters_with_errors.contains(cluster)
    }

    /// All registered errors, in registration order.
    pub fn errors(&self) -> &[RegisteredError] {
        &self.errors
    }

    /// Number of `(desired, current)` objects.
    pub fn len(&self) -> (usize, usize) {
        self.iter()
            .fold((0, 0), |(desired, current), (_, _, _, state)| {
                (desired + state.desired.len(), current + state.current.len())
            })
    }

    /// True if the inventory holds no objects.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

/// Drops what no decision reads from a cluster object (`status`, `metadata.managedFields`, the
/// last-applied-configuration annotation): the engine calls it as soon as an object is read.
pub fn prune_current(body: &mut Value) {
    if let Value::Object(root) = body {
        root.shift_remove("status");
    }
    if let Some(Value::Object(metadata)) = body.get_mut("metadata") {
        metadata.shift_remove("managedFields");
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.shift_remove(LAST_APPLIED_CONFIGURATION);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_its_cluster_once() {
        let shown = |cluster: Option<&str>, message: &str| {
            RegisteredError {
                cluster: cluster.map(str::to_owned),
                message: message.to_owned(),
            }
            .to_string()
        };
        assert_eq!(shown(Some("c1"), "unreachable"), "[c1] unreachable");
        assert_eq!(shown(Some("c1"), "[c1] unreachable"), "[c1] unreachable");
        assert_eq!(shown(Some("c1"), "[c1/ns] bad file"), "[c1/ns] bad file");
        // Another cluster's name, or a longer one with the same start, is still prefixed.
        assert_eq!(shown(Some("c1"), "[c10] x"), "[c1] [c10] x");
        assert_eq!(shown(None, "[c1] x"), "[c1] x");
    }

    #[test]
    fn a_typed_error_is_registered_with_its_message() {
        let mut inventory = ResourceInventory::new();
        let error = InventoryError::ClusterNotInitialized {
            object: Box::new(ObjectRef {
                cluster: "c1".into(),
                namespace: "ns".into(),
                resource_type: "ConfigMap".into(),
                name: "cm".into(),
            }),
        };
        inventory.register_error(Some("c1"), &error);
        inventory.register_error(None, "a message");
        let messages: Vec<&str> = inventory
            .errors()
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "[c1/ns] cluster c1 is not initialised in the inventory; cannot add ConfigMap cm",
                "a message"
            ]
        );
        assert!(inventory.has_cluster_error("c1"));
    }
}
