//! ResourceInventory and reconcile plan of qontract-reconcile-rs (no I/O).
//!
//! [`ResourceInventory`] holds, per `(cluster, namespace, resource type)`, the desired objects
//! (from app-interface) and the current objects (read from the cluster by the caller, as
//! `serde_json::Value`s wrapped in [`OpenshiftResource`]), the names filter, the privileged
//! flag and the errors registered during the run — the Python `ResourceInventory`.
//!
//! [`compute_plan`] runs the decision procedure of the Python `realize_data` on it and returns
//! a deterministic [`Plan`] of create / update / delete / no-op / skip actions, each with a
//! reason. On top of upstream it detects drift in every field the desired object declares.
//! Any registered error disables all deletes. [`render_table`] and [`render_json`] present a
//! plan without ever showing Secret values.
//!
//! [`OpenshiftResource`]: qontract_openshift_resource::OpenshiftResource

mod inventory;
mod metrics;
mod namespaces;
mod plan;
mod render;

pub use inventory::{
    CLUSTER_SCOPE_NAMESPACE, DesiredEntry, InventoryError, ObjectRef, RegisteredError,
    ResourceInventory, ResourceTypeState, prune_current,
};
pub use metrics::{INVENTORY_GAUGE_NAME, InventoryGaugeSample};
pub use namespaces::{
    DesiredNamespace, NAMESPACE_TYPE, ObservedNamespace, RESERVED_NAMESPACE_PREFIX,
    namespace_gauge_samples, plan_namespaces,
};
pub use plan::{
    Action, Phase, Plan, PlanOptions, PlanSummary, PlannedAction, Planner, Reason, compute_plan,
    kind_rank,
};
pub use render::{TableOptions, render_json, render_table, write_json};
