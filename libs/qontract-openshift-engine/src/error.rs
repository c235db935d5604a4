//! Errors of single API operations. Every message names the cluster, namespace, kind and
//! object it is about.

/// The object an [`EngineError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectId {
    /// Cluster name.
    pub cluster: String,
    /// Namespace (`cluster` for cluster-scoped objects).
    pub namespace: String,
    /// Kind.
    pub kind: String,
    /// Object name.
    pub name: String,
}

/// Why one read or write on a cluster failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The run has no usable client for the cluster.
    #[error("[{cluster}] no client: {message}")]
    NoClient {
        /// Cluster name.
        cluster: String,
        /// Why.
        message: String,
    },
    /// The cluster does not serve the object's apiVersion and kind.
    #[error(
        "[{}/{}] {} {}: apiVersion {api_version} kind {} is not served by the cluster",
        .object.cluster, .object.namespace, .object.kind, .object.name, .object.kind
    )]
    KindNotServed {
        /// The object.
        object: Box<ObjectId>,
        /// apiVersion of the object.
        api_version: String,
    },
    /// The object names a namespace other than the one it is applied to.
    #[error(
        "[{}/{}] {} {}: metadata.namespace {declared:?} differs from the target namespace",
        .object.cluster, .object.namespace, .object.kind, .object.name
    )]
    NamespaceMismatch {
        /// The object.
        object: Box<ObjectId>,
        /// Namespace in the manifest.
        declared: String,
    },
    /// A namespaced object managed by a cluster-scoped integration names no namespace.
    #[error(
        "[{}/{}] {} {}: the kind is namespaced but the manifest has no metadata.namespace",
        .object.cluster, .object.namespace, .object.kind, .object.name
    )]
    NoNamespace {
        /// The object.
        object: Box<ObjectId>,
    },
    /// The API call failed.
    #[error(
        "[{}/{}] error {operation} {} {}: {message}",
        .object.cluster, .object.namespace, .object.kind, .object.name
    )]
    Api {
        /// The object.
        object: Box<ObjectId>,
        /// What was being done (`applying`, `deleting`, ...).
        operation: &'static str,
        /// The API's message (redacted for Secrets).
        message: String,
    },
}

impl ObjectId {
    pub(crate) fn boxed(cluster: &str, namespace: &str, kind: &str, name: &str) -> Box<Self> {
        Box::new(Self {
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// A short, single-line description of a kube error. For Secrets, the server message (which
/// can quote field values) is replaced by its status code and reason.
pub(crate) fn describe_kube_error(error: &kube::Error, redact: bool) -> String {
    match error {
        kube::Error::Api(status) if redact => {
            format!("{} {} (message redacted)", status.code, status.reason)
        }
        kube::Error::Api(status) => {
            format!("{} {}: {}", status.code, status.reason, status.message)
        }
        other => error_chain(other),
    }
}

pub(crate) use qontract_secrets::error_chain;

/// The HTTP status code of an API error.
pub(crate) fn status_code(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}
