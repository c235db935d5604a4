//! Annotation and label names the qontract tools read and write.

/// Name of the integration that last applied the object (e.g. `openshift_resources`).
pub const QONTRACT_INTEGRATION: &str = "qontract.integration";
/// Semver of the integration that last applied the object.
pub const QONTRACT_INTEGRATION_VERSION: &str = "qontract.integration_version";
/// SHA-256 of the canonical desired body at the time of the last apply.
pub const QONTRACT_SHA256SUM: &str = "qontract.sha256sum";
/// UTC time of the last apply, ISO 8601 to the second, no zone suffix.
pub const QONTRACT_UPDATE: &str = "qontract.update";
/// Caller (for example a saas file) that applied the object.
pub const QONTRACT_CALLER_NAME: &str = "qontract.caller_name";
/// `"true"` on a ConfigMap or Secret: pods using it are restarted when it changes.
pub const QONTRACT_RECYCLE: &str = "qontract.recycle";
/// `"true"`: the object is left out of the reconcile-time metric.
pub const QONTRACT_IGNORE_RECONCILE_TIME: &str = "qontract.ignore_reconcile_time";

/// The five annotations `annotate()` writes; all are removed before hashing.
pub const QONTRACT_ANNOTATIONS: [&str; 5] = [
    QONTRACT_INTEGRATION,
    QONTRACT_INTEGRATION_VERSION,
    QONTRACT_SHA256SUM,
    QONTRACT_UPDATE,
    QONTRACT_CALLER_NAME,
];

/// kubectl's client-side-apply record; never part of the hash or of comparisons.
pub const LAST_APPLIED_CONFIGURATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// `SECRET_UPDATED_AT` of the external-resources integration; removed before hashing.
pub const SECRET_UPDATED_AT: &str = "external-resources/updated_at";

/// Pod-template annotations written by `oc rollout restart`; carried over from the current object.
pub const RESTARTED_AT_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/restartedAt",
    "openshift.openshift.io/restartedAt",
];

/// `(kind, label)` pairs whose value a controller manages.
pub(crate) const CONTROLLER_MANAGED_LABELS: [(&str, &str); 3] = [
    ("ManagedCluster", "clusterID"),
    ("ManagedCluster", "managed-by"),
    ("ManagedCluster", "openshiftVersion"),
];

/// `(kind, pattern)` pairs whose value a controller manages, matched like Python's `re.search`
/// of `feature.open-cluster-management.io/.*` (the `.` matches any character).
pub(crate) const CONTROLLER_MANAGED_LABEL_PREFIXES: [(&str, &str); 1] =
    [("ManagedCluster", "feature.open-cluster-management.io/")];
