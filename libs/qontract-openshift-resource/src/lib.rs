//! OpenShift/Kubernetes resource model of qontract-reconcile-rs.
//!
//! [`OpenshiftResource`] is the Rust counterpart of the Python tool's `OpenshiftResource`: an
//! object body (`serde_json::Value`) plus the integration, integration version, error details
//! and caller that manage it. It provides
//!
//! * validation of desired objects (name and kind present, DNS-1123 names as upstream),
//! * `kind_and_group`, caller and ownership (`has_qontract_annotations`) queries,
//! * [`OpenshiftResource::annotate`] writing the `qontract.*` annotations with an injected
//!   timestamp,
//! * the `qontract.sha256sum`, **byte-identical** to the Python tool: the same canonicalisation
//!   ([`canonical`]) serialised exactly like Python's `json.dumps(sort_keys=True)` ([`pyjson`]),
//! * drift detection: upstream's three-way comparison (`three_way_diff_using_hash`, with a port
//!   of Python jsonpatch's diff) ([`compare`]),
//! * redacted rendering so Secret values never reach logs or plans ([`redact`]).
//!
//! The crate does no I/O.

pub mod annotations;
pub mod canonical;
pub mod compare;
pub use qontract_pyjson as pyjson;
pub mod redact;
mod resource;

pub use compare::{Drift, DriftKind, ThreeWayDiff, find_declared_drift, three_way_diff};
pub use redact::RedactedBody;
pub use resource::{
    OpenshiftResource, Ownership, ResourceError, fully_qualified_kind, is_dns1123_label,
    is_dns1123_subdomain, iso_seconds_from_unix, utc_now_iso_seconds,
};
