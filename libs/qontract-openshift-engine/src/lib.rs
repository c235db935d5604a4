//! The I/O half of the OpenShift engine of qontract-reconcile-rs (the Python
//! `openshift_base`): it reads the current state of every managed
//! `(cluster, namespace, resource type)` into a [`ResourceInventory`] and carries out a
//! [`Plan`] on the clusters.
//!
//! * [`Engine::fetch_current_state`]: concurrently (bounded by `--thread-pool-size`) lists
//!   the objects of each managed type, or GETs each of its `managedResourceNames`. Types may
//!   be `Kind` or `Kind.group` and are resolved with the cluster's discovery. A missing
//!   namespace is empty, a kind the cluster does not serve is tolerated with a warning, and a
//!   cluster that cannot be read (unreachable, 401/403, discovery failure) becomes a
//!   per-cluster error while every other cluster proceeds.
//! * [`Engine::apply_plan`]: server-side apply (`fieldManager=qontract-reconcile/<integration>`,
//!   `force=true`) of the annotated desired objects and deletes, in plan order, with the
//!   Python tool's fallbacks (delete + create on immutable fields of Service, Route, Secret and
//!   Job; orphan-delete + create of StatefulSets), takeover of objects applied client-side by
//!   the Python tool ([`takeover`]), pod recycling, bounded retries of 429 and 5xx answers.
//!   A dry run makes no write request at all.
//! * [`Engine::read_namespaces`] / [`Engine::apply_namespace_plan`]: openshift-namespaces'
//!   reads and changes, through `Project` / `ProjectRequest` on OpenShift clusters and plain
//!   Namespaces elsewhere.
//! * [`explain()`]: the canonical JSON and `qontract.sha256sum` of a manifest and, given the
//!   cluster object, why the plan would apply or skip it.
//! * [`EngineMetrics`]: the `qontract_reconcile_openshift_resource_inventory` gauge and
//!   per-action counters in a caller-supplied prometheus `Registry`.
//!
//! The decisions themselves are made by the pure planner of `qontract-resource-inventory`;
//! this crate only adds the cluster I/O around it.
//!
//! [`ResourceInventory`]: qontract_resource_inventory::ResourceInventory
//! [`Plan`]: qontract_resource_inventory::Plan

mod apply;
mod error;
mod explain;
mod fetch;
mod kinds;
mod metrics;
mod namespaces;
mod recycle;
mod retry;
pub mod takeover;

use std::collections::BTreeSet;

use qontract_cluster_client::ClusterMap;

pub use apply::{ActionOutcome, ApplyReport, ClusterSummary, OutcomeKind};
pub use error::{EngineError, ObjectId};
pub use explain::{Decision, ExplainError, Explanation, explain};
pub use fetch::{FetchReport, ObjectKey};
pub use kinds::{ResolvedType, ResourceTypeResolution, resolve_resource_type};
pub use metrics::{ACTIONS_COUNTER_NAME, EngineMetrics};
pub use namespaces::NamespaceReadReport;
pub use retry::RetryPolicy;

/// Field-manager prefix of every write; the full manager is `qontract-reconcile/<integration>`.
pub const FIELD_MANAGER_PREFIX: &str = "qontract-reconcile/";

/// Managers whose `Update` entries are migrated to our field manager on first apply: the
/// client-side apply of `oc apply` / `kubectl apply` and plain `oc` / `kubectl` updates.
pub const DEFAULT_CLIENT_SIDE_MANAGERS: [&str; 3] = ["kubectl-client-side-apply", "kubectl", "oc"];

/// How the engine reads and writes.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Integration name, exactly as the annotations carry it (e.g. `openshift_resources`).
    pub integration: String,
    /// Integration version (semver).
    pub integration_version: String,
    /// Maximum number of concurrent API requests (`--thread-pool-size`).
    pub concurrency: usize,
    /// Namespaces `(cluster, namespace)` read and written with the cluster-admin client.
    pub privileged_namespaces: BTreeSet<(String, String)>,
    /// When set, current objects whose `qontract.caller_name` differs are not read into the
    /// inventory (upstream `caller`).
    pub caller_filter: Option<String>,
    /// Field managers whose client-side ownership is migrated to ours on first apply.
    pub client_side_managers: Vec<String>,
    /// Retries of throttled (429) and failed (5xx, transport) requests.
    pub retry: RetryPolicy,
    /// `qontract.update` timestamp written on apply (`None`: the current UTC time). Tests pin it.
    pub update_timestamp: Option<String>,
    /// Restart workloads using applied ConfigMaps/Secrets annotated `qontract.recycle: "true"`.
    pub recycle_pods: bool,
    /// Leave objects labelled `app.kubernetes.io/part-of: argocd` (managed by the ArgoCD
    /// Operator) out of the current state, as upstream `openshift_resources_base
    /// .fetch_current_state` does for the integrations built on openshiftResources.
    pub skip_argocd_managed: bool,
}

impl EngineOptions {
    /// Options for `integration` at `integration_version` with the defaults: 10 concurrent
    /// requests, no caller filter, the default client-side managers, pod recycling on.
    pub fn new(integration: impl Into<String>, integration_version: impl Into<String>) -> Self {
        Self {
            integration: integration.into(),
            integration_version: integration_version.into(),
            concurrency: 10,
            privileged_namespaces: BTreeSet::new(),
            caller_filter: None,
            client_side_managers: DEFAULT_CLIENT_SIDE_MANAGERS
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
            retry: RetryPolicy::default(),
            update_timestamp: None,
            recycle_pods: true,
            skip_argocd_managed: false,
        }
    }

    /// The field manager of every write: `qontract-reconcile/<integration>`.
    pub fn field_manager(&self) -> String {
        format!("{FIELD_MANAGER_PREFIX}{}", self.integration)
    }

    fn is_privileged(&self, cluster: &str, namespace: &str) -> bool {
        self.privileged_namespaces
            .contains(&(cluster.to_owned(), namespace.to_owned()))
    }
}

/// Reads and writes clusters for one integration run.
#[derive(Debug)]
pub struct Engine<'a> {
    clusters: &'a ClusterMap,
    options: EngineOptions,
}

impl<'a> Engine<'a> {
    /// An engine over the clients of `clusters`.
    pub fn new(clusters: &'a ClusterMap, options: EngineOptions) -> Self {
        Self { clusters, options }
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }
}
