//! Plan computation: the decision procedure of the Python `openshift_base.realize_data`,
//! without any I/O.
//!
//! For every `(cluster, namespace, resource type)` of the inventory, desired and current
//! objects are matched by name and each gets one [`PlannedAction`] with a [`Reason`]:
//!
//! | situation | action |
//! |---|---|
//! | desired only | create |
//! | both, current has no `qontract.sha256sum` | update |
//! | both, current has no `qontract.integration` (upstream crashes) | update |
//! | both, current annotated by another integration | update (switching integration) |
//! | both, stored sha256sum ≠ desired sha256sum | update |
//! | both, the patch from the cluster object to the desired one has a counted `add`/`replace` (upstream's three-way diff, see `qontract_openshift_resource::compare`) | update (reason `drift`) |
//! | both, unchanged, caller differs, `take_over` or old caller unknown | update (adoption) |
//! | both, caller differs and the other caller is known, no `take_over` | skip + error |
//! | both, unchanged | no-op |
//! | current only, this integration's annotations, same caller | delete |
//! | current only, this integration's annotations, other caller | skip |
//! | current only, not ours, no `take_over` | skip |
//! | current only, not ours, `take_over`, has ownerReferences | skip |
//! | current only, not ours, `take_over` | delete |
//!
//! Then: **any registered error disables every delete** (recorded as a skip with the reason),
//! `override_enable_deletion: Some(false)` does the same, and a cluster with a registered
//! cluster error gets no changes at all. Unlike upstream, where the errors found while
//! realizing race with the deletes of other threads, all apply decisions (and the errors they
//! register) are made before any delete is decided, so the outcome is deterministic.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

use qontract_openshift_resource::annotations::RESTARTED_AT_ANNOTATIONS;
use qontract_openshift_resource::compare::{ThreeWayDiff, three_way_diff};
use qontract_openshift_resource::{Drift, OpenshiftResource, Ownership};
use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::inventory::{RegisteredError, ResourceInventory, ResourceTypeState};

/// Workload kinds whose pod-template `restartedAt` annotations are carried over.
const RESTARTABLE_KINDS: [&str; 4] = ["DaemonSet", "Deployment", "DeploymentConfig", "StatefulSet"];

/// Below this many objects the plan is computed on the calling thread.
const PARALLEL_THRESHOLD: usize = 2_000;

/// The knobs of upstream `realize_data`.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Adopt and delete objects this integration did not create (upstream `take_over`).
    pub take_over: bool,
    /// The caller (e.g. saas file) of this run; objects of other callers are protected.
    pub caller: Option<String>,
    /// Every caller known to app-interface; an object of an unknown caller may be adopted.
    pub all_callers: BTreeSet<String>,
    /// `Some(false)` disables deletes; `Some(true)` cannot enable them despite errors.
    pub override_enable_deletion: Option<bool>,
    /// Flag applied ConfigMaps/Secrets annotated `qontract.recycle: "true"` for pod recycling.
    pub recycle_pods: bool,
    /// Dry run. Only matters together with `no_dry_run_skip_compare`.
    pub dry_run: bool,
    /// In a wet run, apply changed objects without the caller check (upstream flag).
    pub no_dry_run_skip_compare: bool,
    /// A registered error disables every delete of the run (upstream `realize_data`). Off only
    /// where deletes are declared one by one rather than derived from ownership: upstream
    /// `openshift_namespaces` deletes each namespace declared with `delete: true` on its own and
    /// raises the errors at the end.
    pub errors_disable_deletes: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            take_over: false,
            caller: None,
            all_callers: BTreeSet::new(),
            override_enable_deletion: None,
            recycle_pods: true,
            dry_run: true,
            no_dry_run_skip_compare: false,
            errors_disable_deletes: true,
        }
    }
}

/// What the plan does with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Apply an object that does not exist on the cluster.
    Create,
    /// Apply an object that exists on the cluster.
    Update,
    /// Delete an object from the cluster.
    Delete,
    /// Nothing to do: the cluster matches.
    NoOp,
    /// Deliberately left alone (see the reason).
    Skip,
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
            Action::Skip => "skip",
        })
    }
}

/// Whether the object is desired (apply phase) or only on the cluster (delete phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A desired object: created, updated or left as is.
    Apply,
    /// An object only on the cluster: deleted or left alone.
    Delete,
}

/// Why an action was chosen. `Display` gives the human sentence, [`Reason::code`] a stable
/// machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The object does not exist on the cluster.
    NotOnCluster,
    /// The cluster object has no `qontract.sha256sum` annotation.
    MissingSha256sum,
    /// The cluster object has a sha256sum but no `qontract.integration` annotation.
    MissingIntegrationAnnotation,
    /// The cluster object was applied by another integration; it is taken over.
    SwitchingIntegration {
        /// Integration that applied it.
        from: String,
        /// This integration.
        to: String,
    },
    /// The desired object changed since the last apply (stored sha256sum differs).
    DesiredChanged {
        /// `qontract.sha256sum` on the cluster.
        stored: String,
        /// sha256sum of the desired object.
        desired: String,
    },
    /// The sums match, but upstream's three-way comparison counts a change: a declared field
    /// (or list item) is missing on the cluster or has another value there.
    Drift(Drift),
    /// Unchanged, but applied by another caller that this run may adopt.
    CallerAdoption {
        /// The caller recorded on the object, if any.
        from: Option<String>,
        /// This run's caller.
        to: String,
    },
    /// The cluster matches the desired object.
    UpToDate,
    /// Applied by another known caller and `take_over` is off: error registered.
    ManagedByOtherCaller {
        /// The other caller.
        owner: String,
    },
    /// This integration's object, no longer desired.
    OwnedNotDesired,
    /// Not desired; deleted because `take_over` is on and nothing owns it.
    TakeOverNotDesired,
    /// Not desired, but this integration's object of another caller.
    OwnedByOtherCaller {
        /// The caller recorded on the object, if any.
        owner: Option<String>,
    },
    /// Not desired and not this integration's object.
    NotOwned(Ownership),
    /// Not desired, `take_over` is on, but the object has ownerReferences.
    HasOwnerReferences,
    /// Would delete, but errors were registered in this run.
    DeletionDisabledByErrors(Box<Reason>),
    /// Would delete, but deletion is disabled by configuration.
    DeletionDisabledByOverride(Box<Reason>),
    /// A namespace declared with `delete: true` that exists (openshift-namespaces).
    DeclaredDelete,
    /// Refused on purpose (e.g. a namespace name reserved by OpenShift); an error is registered.
    Refused(String),
    /// The current state could not be read; nothing is done (an error is registered).
    CurrentStateUnknown(String),
    /// Would change, but the cluster had errors; nothing is done on it.
    ClusterHasErrors {
        /// The action that was not taken.
        would: Action,
        /// Why it would have been taken.
        because: Box<Reason>,
    },
}

impl Reason {
    /// Stable machine-readable code, e.g. `desired_changed`.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NotOnCluster => "not_on_cluster",
            Reason::MissingSha256sum => "missing_sha256sum",
            Reason::MissingIntegrationAnnotation => "missing_integration_annotation",
            Reason::SwitchingIntegration { .. } => "switching_integration",
            Reason::DesiredChanged { .. } => "desired_changed",
            Reason::Drift(_) => "drift",
            Reason::CallerAdoption { .. } => "caller_adoption",
            Reason::UpToDate => "up_to_date",
            Reason::ManagedByOtherCaller { .. } => "managed_by_other_caller",
            Reason::OwnedNotDesired => "owned_not_desired",
            Reason::TakeOverNotDesired => "take_over_not_desired",
            Reason::OwnedByOtherCaller { .. } => "owned_by_other_caller",
            Reason::NotOwned(_) => "not_owned",
            Reason::HasOwnerReferences => "has_owner_references",
            Reason::DeletionDisabledByErrors(_) => "deletion_disabled_by_errors",
            Reason::DeletionDisabledByOverride(_) => "deletion_disabled_by_override",
            Reason::ClusterHasErrors { .. } => "cluster_has_errors",
            Reason::DeclaredDelete => "declared_delete",
            Reason::Refused(_) => "refused",
            Reason::CurrentStateUnknown(_) => "current_state_unknown",
        }
    }

    /// False for reasons that need no attention (unchanged objects, objects of others).
    pub fn is_notable(&self) -> bool {
        !matches!(
            self,
            Reason::UpToDate
                | Reason::NotOwned(_)
                | Reason::OwnedByOtherCaller { .. }
                | Reason::HasOwnerReferences
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotOnCluster => formatter.write_str("not on the cluster"),
            Reason::MissingSha256sum => {
                formatter.write_str("cluster object has no qontract.sha256sum annotation")
            }
            Reason::MissingIntegrationAnnotation => {
                formatter.write_str("cluster object has no qontract.integration annotation")
            }
            Reason::SwitchingIntegration { from, to } => {
                write!(formatter, "switching integration from {from} to {to}")
            }
            Reason::DesiredChanged { stored, desired } => write!(
                formatter,
                "desired object changed since the last apply (sha256sum {} -> {})",
                short_sha(stored),
                short_sha(desired)
            ),
            Reason::Drift(drift) => write!(formatter, "drift: {drift}"),
            Reason::CallerAdoption {
                from: Some(from),
                to,
            } => {
                write!(formatter, "adopting from caller {from} to {to}")
            }
            Reason::CallerAdoption { from: None, to } => {
                write!(formatter, "adopting object without caller for {to}")
            }
            Reason::UpToDate => formatter.write_str("up to date"),
            Reason::ManagedByOtherCaller { owner } => {
                write!(formatter, "present and managed by another caller: {owner}")
            }
            Reason::OwnedNotDesired => {
                formatter.write_str("owned by this integration and no longer desired")
            }
            Reason::TakeOverNotDesired => {
                formatter.write_str("not desired; take_over deletes unowned objects")
            }
            Reason::OwnedByOtherCaller { owner: Some(owner) } => {
                write!(formatter, "not desired, but belongs to caller {owner}")
            }
            Reason::OwnedByOtherCaller { owner: None } => {
                formatter.write_str("not desired, but has no caller while this run has one")
            }
            Reason::NotOwned(ownership) => write!(formatter, "not desired; {ownership}"),
            Reason::HasOwnerReferences => {
                formatter.write_str("not desired; has ownerReferences (managed by its owner)")
            }
            Reason::DeletionDisabledByErrors(would) => write!(
                formatter,
                "'delete' action is disabled due to previous errors (would delete: {would})"
            ),
            Reason::DeletionDisabledByOverride(would) => write!(
                formatter,
                "'delete' action is disabled by configuration (would delete: {would})"
            ),
            Reason::ClusterHasErrors { would, because } => write!(
                formatter,
                "skipping cluster with errors (would {would}: {because})"
            ),
            Reason::DeclaredDelete => formatter.write_str("declared with delete: true"),
            Reason::Refused(why) => write!(formatter, "refused: {why}"),
            Reason::CurrentStateUnknown(why) => {
                write!(formatter, "current state unknown: {why}")
            }
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("message", &self.to_string())?;
        if let Reason::Drift(drift) = self {
            map.serialize_entry("path", &drift.path)?;
        }
        map.end()
    }
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// One object's entry in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedAction {
    /// What is done.
    pub action: Action,
    /// Apply phase (desired objects) or delete phase (objects only on the cluster).
    pub phase: Phase,
    /// Cluster name.
    pub cluster: String,
    /// Namespace (`cluster` for cluster-scoped integrations).
    pub namespace: String,
    /// Resource type as managed (kind or `Kind.group`).
    pub resource_type: String,
    /// Object name.
    pub name: String,
    /// Applied with the cluster-admin client.
    pub privileged: bool,
    /// Pods using this ConfigMap/Secret are to be recycled after the apply.
    pub recycle_pods: bool,
    /// Why.
    pub reason: Reason,
}

impl PlannedAction {
    /// True for create, update and delete.
    pub fn is_change(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update | Action::Delete
        )
    }

    /// The upstream dry-run log line for changes, e.g.
    /// `['apply', 'privileged=False', 'c', 'ns', 'ConfigMap', 'name']`.
    pub fn upstream_log_line(&self) -> Option<String> {
        let verb = match self.action {
            Action::Create | Action::Update => "apply",
            Action::Delete => "delete",
            Action::NoOp | Action::Skip => return None,
        };
        let privileged = if self.privileged { "True" } else { "False" };
        Some(format!(
            "['{verb}', 'privileged={privileged}', {}, {}, {}, {}]",
            py_quote(&self.cluster),
            py_quote(&self.namespace),
            py_quote(&self.resource_type),
            py_quote(&self.name)
        ))
    }
}

fn py_quote(text: &str) -> String {
    if text.contains('\'') && !text.contains('"') {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// Counts per action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    /// Objects to create.
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects to delete.
    pub delete: usize,
    /// Unchanged objects.
    pub no_op: usize,
    /// Skipped objects.
    pub skip: usize,
}

/// The outcome of [`compute_plan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Every object, in execution order: applies by kind order (Namespaces, CRDs, RBAC,
    /// ServiceAccounts, ConfigMaps/Secrets, workloads, the rest), then deletes in reverse kind
    /// order; ties by cluster, namespace, resource type and name.
    pub actions: Vec<PlannedAction>,
    /// Whether deletes are carried out.
    pub deletion_enabled: bool,
    /// Why deletes are disabled, if they are.
    pub deletion_disabled_reason: Option<String>,
    /// All errors registered in the inventory, including those found while planning.
    pub errors: Vec<RegisteredError>,
}

impl Plan {
    /// Counts per action.
    pub fn summary(&self) -> PlanSummary {
        let mut summary = PlanSummary::default();
        for action in &self.actions {
            match action.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Delete => summary.delete += 1,
                Action::NoOp => summary.no_op += 1,
                Action::Skip => summary.skip += 1,
            }
        }
        summary
    }

    /// The create, update and delete actions.
    pub fn changes(&self) -> impl Iterator<Item = &PlannedAction> {
        self.actions.iter().filter(|action| action.is_change())
    }

    /// True if errors were registered (the run must exit 1).
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Rank of a resource type in the apply order (deletes use the reverse).
pub fn kind_rank(resource_type: &str) -> u8 {
    let kind = resource_type.split('.').next().unwrap_or(resource_type);
    match kind {
        "Namespace" | "Project" => 0,
        "CustomResourceDefinition" => 1,
        "ClusterRole" | "Role" => 2,
        "ClusterRoleBinding" | "RoleBinding" => 3,
        "ServiceAccount" => 4,
        "ConfigMap" | "Secret" => 5,
        "Deployment"
        | "DeploymentConfig"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "CronJob"
        | "Pod" => 6,
        _ => 7,
    }
}

fn execution_order(left: &PlannedAction, right: &PlannedAction) -> Ordering {
    let phase = |action: &PlannedAction| matches!(action.phase, Phase::Delete);
    phase(left)
        .cmp(&phase(right))
        .then_with(|| {
            let (left_rank, right_rank) = (
                kind_rank(&left.resource_type),
                kind_rank(&right.resource_type),
            );
            match left.phase {
                Phase::Apply => left_rank.cmp(&right_rank),
                Phase::Delete => right_rank.cmp(&left_rank),
            }
        })
        .then_with(|| left.cluster.cmp(&right.cluster))
        .then_with(|| left.namespace.cmp(&right.namespace))
        .then_with(|| left.resource_type.cmp(&right.resource_type))
        .then_with(|| left.name.cmp(&right.name))
}

/// Computes the plan for `inventory`. Mutates the inventory the way upstream does: the
/// `restartedAt` pod-template annotations of current workloads are copied into the desired
/// objects, and caller conflicts are registered as errors.
///
/// CPU-bound and synchronous: inventories of more than a few thousand objects are split over
/// up to 8 scoped threads. From async code, call it inside `spawn_blocking`.
pub fn compute_plan(inventory: &mut ResourceInventory, options: &PlanOptions) -> Plan {
    let mut planner = Planner::new(options.clone());
    let known_errors = inventory.errors().len();
    planner.decide(inventory);
    let plan = planner.finish();
    // Errors found while planning (caller conflicts) go back into the inventory, so that
    // `has_error_registered()` decides the exit code as upstream.
    for error in plan.errors.iter().skip(known_errors) {
        inventory.register_error(error.cluster.as_deref(), &error.message);
    }
    plan
}

/// Builds a [`Plan`] from one or many inventories.
///
/// [`compute_plan`] is `Planner` over a single inventory. For very large runs an integration can
/// instead fill a small inventory per namespace (or cluster), hand it to [`Planner::absorb`]
/// and drop the objects right away: only the compact actions are kept. The run-wide rules are
/// applied by [`Planner::finish`] — deletes stay disabled if any error was registered anywhere,
/// and clusters with errors get no changes — so the result equals planning everything at once.
#[derive(Debug)]
pub struct Planner {
    options: PlanOptions,
    actions: Vec<PlannedAction>,
    errors: Vec<RegisteredError>,
    /// Caller conflicts `(cluster, message)`; dropped for clusters that turn out to have errors.
    conflicts: Vec<(String, String)>,
}

impl Planner {
    /// A planner with no objects yet.
    pub fn new(options: PlanOptions) -> Self {
        Self {
            options,
            actions: Vec::new(),
            errors: Vec::new(),
            conflicts: Vec::new(),
        }
    }

    /// Decides every object of `inventory` and takes over its registered errors; the objects
    /// themselves are dropped.
    pub fn absorb(&mut self, mut inventory: ResourceInventory) {
        self.decide(&mut inventory);
    }

    /// Adds an action decided outside the `realize_data` procedure (e.g. by openshift-namespaces,
    /// whose deletes come from declarations rather than ownership); [`Planner::finish`] applies
    /// the run-wide rules to it like to every other action.
    pub fn push_action(&mut self, action: PlannedAction) {
        self.actions.push(action);
    }

    /// Registers a run error (e.g. a cluster that could not be read): any typed error (or a
    /// message), reported by its `Display` text.
    pub fn register_error(&mut self, cluster: Option<&str>, error: impl std::fmt::Display) {
        self.errors.push(RegisteredError {
            cluster: cluster.map(str::to_owned),
            message: error.to_string(),
        });
    }

    /// Number of actions decided so far.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// True if nothing was decided yet.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn decide(&mut self, inventory: &mut ResourceInventory) {
        carry_over_restarted_at(inventory);
        self.errors.extend(inventory.errors().iter().cloned());
        let options = &self.options;
        let entries: Vec<(&str, &str, &str, &ResourceTypeState)> = inventory.iter().collect();
        let object_count: usize = entries
            .iter()
            .map(|(_, _, _, state)| state.desired.len() + state.current.len())
            .sum();
        let decide = |chunk: &[(&str, &str, &str, &ResourceTypeState)]| {
            let mut output = Decisions::default();
            for (cluster, namespace, resource_type, state) in chunk {
                decide_entry(
                    cluster,
                    namespace,
                    resource_type,
                    state,
                    options,
                    &mut output,
                );
            }
            output
        };
        let threads = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .min(8);
        let decisions = if object_count < PARALLEL_THRESHOLD || threads < 2 || entries.len() < 2 {
            decide(&entries)
        } else {
            let chunk_size = entries.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = entries
                    .chunks(chunk_size)
                    .map(|chunk| scope.spawn(move || decide(chunk)))
                    .collect();
                let mut merged = Decisions::default();
                for handle in handles {
                    match handle.join() {
                        Ok(part) => merged.extend(part),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                merged
            })
        };
        self.actions.extend(decisions.actions);
        self.conflicts.extend(decisions.errors);
    }

    /// Applies the run-wide rules and returns the ordered plan.
    pub fn finish(self) -> Plan {
        let Planner {
            options,
            mut actions,
            mut errors,
            conflicts,
        } = self;
        let clusters_with_errors: BTreeSet<String> = errors
            .iter()
            .filter_map(|error| error.cluster.clone())
            .collect();

        // Upstream skips clusters with errors entirely: no changes, no caller checks.
        for action in &mut actions {
            if clusters_with_errors.contains(&action.cluster) {
                block_for_cluster_errors(action);
            }
        }
        // Upstream registers caller conflicts as global errors (no cluster).
        errors.extend(
            conflicts
                .into_iter()
                .filter(|(cluster, _)| !clusters_with_errors.contains(cluster))
                .map(|(_, message)| RegisteredError {
                    cluster: None,
                    message,
                }),
        );

        let deletion_disabled_reason = if !errors.is_empty() && options.errors_disable_deletes {
            Some(format!("{} error(s) registered in this run", errors.len()))
        } else if options.override_enable_deletion == Some(false) {
            Some("deletion disabled by configuration (override_enable_deletion)".to_owned())
        } else {
            None
        };
        if deletion_disabled_reason.is_some() {
            let by_errors = !errors.is_empty() && options.errors_disable_deletes;
            for action in &mut actions {
                if action.action == Action::Delete {
                    let would = Box::new(std::mem::replace(&mut action.reason, Reason::UpToDate));
                    action.action = Action::Skip;
                    action.reason = if by_errors {
                        Reason::DeletionDisabledByErrors(would)
                    } else {
                        Reason::DeletionDisabledByOverride(would)
                    };
                }
            }
        }

        actions.sort_unstable_by(execution_order);
        Plan {
            actions,
            deletion_enabled: deletion_disabled_reason.is_none(),
            deletion_disabled_reason,
            errors,
        }
    }
}

#[derive(Default)]
struct Decisions {
    actions: Vec<PlannedAction>,
    /// Caller conflicts `(cluster, message)` found while deciding.
    errors: Vec<(String, String)>,
}

impl Decisions {
    fn extend(&mut self, other: Decisions) {
        self.actions.extend(other.actions);
        self.errors.extend(other.errors);
    }
}

fn decide_entry(
    cluster: &str,
    namespace: &str,
    resource_type: &str,
    state: &ResourceTypeState,
    options: &PlanOptions,
    output: &mut Decisions,
) {
    let make = |name: &str, phase: Phase, action: Action, reason: Reason, privileged: bool| {
        PlannedAction {
            action,
            phase,
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            privileged,
            recycle_pods: false,
            reason,
        }
    };
    for (name, entry) in &state.desired {
        let desired = &entry.resource;
        let (action, reason, error) = match state.current.get(name) {
            None => (Action::Create, Reason::NotOnCluster, None),
            Some(current) => decide_pair(current, desired, options),
        };
        let mut planned = make(name, Phase::Apply, action, reason, entry.privileged);
        planned.recycle_pods = matches!(action, Action::Create | Action::Update)
            && options.recycle_pods
            && desired.wants_pod_recycling();
        if let Some(error) = error {
            output.errors.push((
                cluster.to_owned(),
                format!("[{cluster}/{namespace}] resource '{resource_type}/{name}' {error}"),
            ));
        }
        output.actions.push(planned);
    }
    for (name, current) in &state.current {
        if state.desired.contains_key(name) {
            continue;
        }
        let (action, reason) = decide_delete(current, options);
        output
            .actions
            .push(make(name, Phase::Delete, action, reason, false));
    }
}

fn block_for_cluster_errors(planned: &mut PlannedAction) {
    let caller_conflict = matches!(planned.reason, Reason::ManagedByOtherCaller { .. });
    if planned.is_change() || caller_conflict {
        let because = Box::new(std::mem::replace(&mut planned.reason, Reason::UpToDate));
        planned.reason = Reason::ClusterHasErrors {
            would: planned.action,
            because,
        };
        planned.action = Action::Skip;
        planned.recycle_pods = false;
    }
}

/// Object present on both sides: `three_way_diff_using_hash`, then the identical/changed
/// branches of `realize_data`. Returns the action, its reason and an error to register.
fn decide_pair(
    current: &OpenshiftResource,
    desired: &OpenshiftResource,
    options: &PlanOptions,
) -> (Action, Reason, Option<String>) {
    let current_caller = current.caller();
    let caller_differs = options
        .caller
        .as_deref()
        .is_some_and(|caller| current_caller != Some(caller));
    let other_caller_is_known =
        current_caller.is_some_and(|owner| options.all_callers.contains(owner));

    match change_reason(current, desired) {
        None => {
            // Identical.
            if !caller_differs {
                return (Action::NoOp, Reason::UpToDate, None);
            }
            let to = options.caller.clone().unwrap_or_default();
            if options.take_over || !other_caller_is_known {
                let from = current_caller.map(str::to_owned);
                return (Action::Update, Reason::CallerAdoption { from, to }, None);
            }
            conflict(current_caller)
        }
        Some(reason) => {
            let skip_compare = !options.dry_run && options.no_dry_run_skip_compare;
            if !skip_compare && !options.take_over && caller_differs && other_caller_is_known {
                return conflict(current_caller);
            }
            (Action::Update, reason, None)
        }
    }
}

fn conflict(current_caller: Option<&str>) -> (Action, Reason, Option<String>) {
    let owner = current_caller.unwrap_or_default().to_owned();
    let message = format!("present and managed by another caller: {owner}");
    (
        Action::Skip,
        Reason::ManagedByOtherCaller { owner },
        Some(message),
    )
}

/// Upstream `three_way_diff_using_hash` ([`three_way_diff`]): `None` if equal, else why not.
fn change_reason(current: &OpenshiftResource, desired: &OpenshiftResource) -> Option<Reason> {
    Some(match three_way_diff(current, desired) {
        ThreeWayDiff::Equal => return None,
        ThreeWayDiff::MissingSha256sum => Reason::MissingSha256sum,
        ThreeWayDiff::MissingIntegrationAnnotation => Reason::MissingIntegrationAnnotation,
        ThreeWayDiff::SwitchingIntegration { from, to } => {
            Reason::SwitchingIntegration { from, to }
        }
        ThreeWayDiff::DesiredChanged { stored, desired } => {
            Reason::DesiredChanged { stored, desired }
        }
        ThreeWayDiff::Drift(drift) => Reason::Drift(drift),
    })
}

/// `should_delete` of upstream `realize_data`.
fn decide_delete(current: &OpenshiftResource, options: &PlanOptions) -> (Action, Reason) {
    match current.ownership() {
        Ownership::ThisIntegration => {
            let current_caller = current.caller();
            match options.caller.as_deref() {
                Some(caller) if current_caller != Some(caller) => (
                    Action::Skip,
                    Reason::OwnedByOtherCaller {
                        owner: current_caller.map(str::to_owned),
                    },
                ),
                _ => (Action::Delete, Reason::OwnedNotDesired),
            }
        }
        ownership if !options.take_over => (Action::Skip, Reason::NotOwned(ownership)),
        _ if current.has_owner_references() => (Action::Skip, Reason::HasOwnerReferences),
        _ => (Action::Delete, Reason::TakeOverNotDesired),
    }
}

/// Copies `kubectl.kubernetes.io/restartedAt` and `openshift.openshift.io/restartedAt` from
/// current workload pod templates into the desired ones (the desired value wins), so earlier
/// `oc rollout restart`s are not undone.
fn carry_over_restarted_at(inventory: &mut ResourceInventory) {
    for (_, _, _, state) in inventory.iter_mut() {
        let ResourceTypeState {
            current, desired, ..
        } = state;
        for (name, entry) in desired.iter_mut() {
            if !RESTARTABLE_KINDS.contains(&entry.resource.kind()) {
                continue;
            }
            let Some(current) = current.get(name) else {
                continue;
            };
            if !RESTARTABLE_KINDS.contains(&current.kind()) {
                continue;
            }
            let Some(current_annotations) = current
                .body()
                .get("spec")
                .and_then(|spec| spec.get("template"))
                .and_then(|template| template.get("metadata"))
                .and_then(|metadata| metadata.get("annotations"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            let carried: Vec<(&str, &Value)> = RESTARTED_AT_ANNOTATIONS
                .iter()
                // `if (value := current_annotations.get(k))`: only truthy values.
                .filter_map(|key| current_annotations.get(*key).map(|value| (*key, value)))
                .filter(|(_, value)| py_truthy(value))
                .collect();
            if carried.is_empty() {
                continue;
            }
            let already_set = entry
                .resource
                .body()
                .pointer("/spec/template/metadata/annotations")
                .and_then(Value::as_object)
                .is_some_and(|annotations| {
                    carried
                        .iter()
                        .all(|(key, _)| annotations.contains_key(*key))
                });
            if already_set {
                continue;
            }
            let Some(template) = entry
                .resource
                .body_mut()
                .pointer_mut("/spec/template")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let annotations = object_at(object_at(template, "metadata"), "annotations");
            for (key, value) in carried {
                annotations
                    .entry(key.to_owned())
                    .or_insert_with(|| value.clone());
            }
        }
    }
}

/// Python truthiness of a JSON value.
fn py_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(object) => object,
        _ => unreachable!("entry was just made an object"),
    }
}
