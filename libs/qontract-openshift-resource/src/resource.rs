//! The resource model: a Kubernetes object body plus the integration that manages it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::annotations::{
    QONTRACT_CALLER_NAME, QONTRACT_INTEGRATION, QONTRACT_INTEGRATION_VERSION, QONTRACT_RECYCLE,
    QONTRACT_SHA256SUM, QONTRACT_UPDATE,
};
use crate::canonical;
use crate::redact::RedactedBody;

const DNS_SUBDOMAIN_MAX_LENGTH: usize = 253;
const DNS_LABEL_MAX_LENGTH: usize = 63;
const DNS_NAMES_URL: &str =
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/";
/// Kinds whose names are exempt from the DNS-1123 check (RBAC names may contain `:`).
const NAME_CHECK_EXEMPT_KINDS: [&str; 4] =
    ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"];

/// Why a body cannot be turned into an [`OpenshiftResource`]. Every message names the object
/// and the `error_details` (usually the app-interface path it came from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    /// The body is not a JSON object.
    #[error(
        "error constructing openshift resource: resource invalid data (body is not an object). details: {details}"
    )]
    NotAnObject {
        /// Where the body came from.
        details: String,
    },
    /// `kind`, `metadata` or `metadata.name` is missing or not a string.
    #[error(
        "error constructing openshift resource: resource invalid data (missing or invalid {field}). details: {details}"
    )]
    MissingField {
        /// The missing field, e.g. `metadata.name`.
        field: &'static str,
        /// Where the body came from.
        details: String,
    },
    /// `metadata.name` is not a DNS-1123 subdomain of at most 253 characters.
    #[error(
        "error constructing openshift resource: The {kind} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\". This field must adhere to DNS-1123 subdomain names spec. More info can be found at {DNS_NAMES_URL}. details: {details}"
    )]
    InvalidName {
        /// Kind of the object.
        kind: String,
        /// The rejected name.
        name: String,
        /// Where the body came from.
        details: String,
    },
    /// `spec.template.spec.containers` is present but not a list.
    #[error(
        "error constructing openshift resource: The {kind} \"{name}\" is invalid: spec.template.spec.containers is not a list. details: {details}"
    )]
    ContainersNotAList {
        /// Kind of the object.
        kind: String,
        /// Name of the object.
        name: String,
        /// Where the body came from.
        details: String,
    },
    /// A container has no `name`.
    #[error(
        "error constructing openshift resource: The {kind} \"{name}\" is invalid: an item in spec.template.spec.containers was found without a required name field. details: {details}"
    )]
    ContainerWithoutName {
        /// Kind of the object.
        kind: String,
        /// Name of the object.
        name: String,
        /// Where the body came from.
        details: String,
    },
    /// A container name is not a DNS-1123 label of at most 63 characters.
    #[error(
        "error constructing openshift resource: The {kind} \"{name}\" is invalid: an container in spec.template.spec.containers was found with an invalid name ({container}). More info at {DNS_NAMES_URL}. details: {details}"
    )]
    InvalidContainerName {
        /// Kind of the object.
        kind: String,
        /// Name of the object.
        name: String,
        /// The rejected container name.
        container: String,
        /// Where the body came from.
        details: String,
    },
}

/// A Kubernetes object together with the integration that manages it (the Python
/// `OpenshiftResource`).
///
/// The body is kept as a `serde_json::Value`. The desired `qontract.sha256sum` is computed at
/// most once per object and cached; mutating the body through [`OpenshiftResource::body_mut`]
/// clears the cache. `Debug` and `Display` never print Secret values.
#[derive(Clone)]
pub struct OpenshiftResource {
    body: Value,
    integration: Arc<str>,
    integration_version: Arc<str>,
    error_details: Arc<str>,
    caller_name: Option<Arc<str>>,
    sha256sum: OnceLock<String>,
}

impl OpenshiftResource {
    /// Wraps and validates a desired body: `kind` and `metadata.name` must be present, the
    /// name must be a DNS-1123 subdomain (except for RBAC kinds), and every
    /// `spec.template.spec.containers[]` must have a DNS-1123 label as its name.
    pub fn new(
        body: Value,
        integration: impl Into<Arc<str>>,
        integration_version: impl Into<Arc<str>>,
        error_details: impl Into<Arc<str>>,
        caller_name: Option<Arc<str>>,
    ) -> Result<Self, ResourceError> {
        let resource = Self::new_unvalidated(
            body,
            integration,
            integration_version,
            error_details,
            caller_name,
        );
        resource.validate()?;
        Ok(resource)
    }

    /// Wraps an object read from a cluster. Only `kind` and `metadata.name` are required; the
    /// cluster already enforced its own naming rules.
    pub fn from_cluster(
        body: Value,
        integration: impl Into<Arc<str>>,
        integration_version: impl Into<Arc<str>>,
        error_details: impl Into<Arc<str>>,
    ) -> Result<Self, ResourceError> {
        let resource =
            Self::new_unvalidated(body, integration, integration_version, error_details, None);
        resource.identity()?;
        Ok(resource)
    }

    /// Wraps a body without any validation (Python `validate_k8s_object=False`).
    pub fn new_unvalidated(
        body: Value,
        integration: impl Into<Arc<str>>,
        integration_version: impl Into<Arc<str>>,
        error_details: impl Into<Arc<str>>,
        caller_name: Option<Arc<str>>,
    ) -> Self {
        Self {
            body,
            integration: integration.into(),
            integration_version: integration_version.into(),
            error_details: error_details.into(),
            caller_name,
            sha256sum: OnceLock::new(),
        }
    }

    /// The object body.
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// Mutable access to the body; clears the cached sha256sum.
    pub fn body_mut(&mut self) -> &mut Value {
        self.sha256sum = OnceLock::new();
        &mut self.body
    }

    /// Consumes the resource and returns its body.
    pub fn into_body(self) -> Value {
        self.body
    }

    /// Name of the integration managing this object.
    pub fn integration(&self) -> &str {
        &self.integration
    }

    /// Semver of the integration managing this object.
    pub fn integration_version(&self) -> &str {
        &self.integration_version
    }

    /// Where the object came from (usually an app-interface path), for error messages.
    pub fn error_details(&self) -> &str {
        &self.error_details
    }

    /// The explicit caller name given at construction.
    pub fn caller_name(&self) -> Option<&str> {
        self.caller_name.as_deref()
    }

    /// `kind` of the body (empty if missing).
    pub fn kind(&self) -> &str {
        self.body
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `apiVersion` of the body (empty if missing).
    pub fn api_version(&self) -> &str {
        self.body
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `metadata.name`, or for a `PipelineRun` without a name its `generateName` minus the last
    /// character. Empty if neither is present.
    pub fn name(&self) -> &str {
        self.identity().map(|(_, name)| name).unwrap_or_default()
    }

    /// `Kind.group` when the apiVersion has a group (`Deployment.apps`), else the plain kind.
    pub fn kind_and_group(&self) -> String {
        fully_qualified_kind(self.kind(), self.api_version())
    }

    /// The caller: the explicit caller name, else the `qontract.caller_name` annotation.
    pub fn caller(&self) -> Option<&str> {
        self.caller_name()
            .or_else(|| self.annotation(QONTRACT_CALLER_NAME))
    }

    /// `metadata.annotations` as a map, if present.
    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        self.body
            .get("metadata")
            .and_then(|metadata| metadata.get("annotations"))
            .and_then(Value::as_object)
    }

    /// A string annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations()
            .and_then(|annotations| annotations.get(key))
            .and_then(Value::as_str)
    }

    /// True if `metadata.ownerReferences` is a non-empty list.
    pub fn has_owner_references(&self) -> bool {
        self.body
            .get("metadata")
            .and_then(|metadata| metadata.get("ownerReferences"))
            .and_then(Value::as_array)
            .is_some_and(|references| !references.is_empty())
    }

    /// True for a ConfigMap or Secret annotated `qontract.recycle: "true"`.
    pub fn wants_pod_recycling(&self) -> bool {
        matches!(self.kind(), "ConfigMap" | "Secret")
            && self.annotation(QONTRACT_RECYCLE) == Some("true")
    }

    /// True iff the object carries this integration's annotations: `qontract.integration`
    /// equals this integration, `qontract.integration_version` has the same semver major, and
    /// `qontract.sha256sum` exists. A version that is not valid semver counts as false.
    pub fn has_qontract_annotations(&self) -> bool {
        self.ownership() == Ownership::ThisIntegration
    }

    /// Who owns the object according to its qontract annotations, relative to this resource's
    /// integration and version.
    pub fn ownership(&self) -> Ownership {
        let Some(annotations) = self.annotations() else {
            return Ownership::Unannotated;
        };
        let Some(owner) = annotations
            .get(QONTRACT_INTEGRATION)
            .and_then(Value::as_str)
        else {
            return Ownership::Unannotated;
        };
        if owner != &*self.integration {
            return Ownership::OtherIntegration(owner.to_owned());
        }
        let stored_version = annotations
            .get(QONTRACT_INTEGRATION_VERSION)
            .and_then(Value::as_str);
        let Some(stored_version) = stored_version else {
            return Ownership::UnparsableVersion(String::new());
        };
        let (Ok(stored), Ok(own)) = (
            semver::Version::parse(stored_version),
            semver::Version::parse(&self.integration_version),
        ) else {
            return Ownership::UnparsableVersion(stored_version.to_owned());
        };
        if stored.major != own.major {
            return Ownership::OtherMajorVersion(stored_version.to_owned());
        }
        if annotations
            .get(QONTRACT_SHA256SUM)
            .is_none_or(Value::is_null)
        {
            return Ownership::MissingSha256sum;
        }
        Ownership::ThisIntegration
    }

    /// The canonical sha256sum of the body (cached).
    pub fn sha256sum(&self) -> &str {
        self.sha256sum
            .get_or_init(|| canonical::sha256sum(&self.body))
    }

    /// The `qontract.sha256sum` annotation stored on the object, if any.
    pub fn stored_sha256sum(&self) -> Option<&str> {
        self.annotation(QONTRACT_SHA256SUM)
    }

    /// True if the stored `qontract.sha256sum` equals the sha256sum recomputed from the body.
    pub fn has_valid_sha256sum(&self) -> bool {
        self.stored_sha256sum()
            .is_some_and(|stored| stored == self.sha256sum())
    }

    /// Returns a copy with the qontract annotations written: integration, version, sha256sum,
    /// `qontract.update` = `update_timestamp` (pass [`utc_now_iso_seconds`] in production and a
    /// fixed value in tests) and, if set, the caller name.
    pub fn annotate(&self, update_timestamp: &str) -> OpenshiftResource {
        let sha256sum = self.sha256sum().to_owned();
        let mut body = self.body.clone();
        if let Value::Object(root) = &mut body {
            let metadata = root
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if !metadata.is_object() {
                *metadata = Value::Object(Map::new());
            }
            if let Value::Object(metadata) = metadata {
                let annotations = metadata
                    .entry("annotations")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !annotations.is_object() {
                    *annotations = Value::Object(Map::new());
                }
                if let Value::Object(annotations) = annotations {
                    let mut set = |key: &str, value: &str| {
                        annotations.insert(key.to_owned(), Value::String(value.to_owned()));
                    };
                    set(QONTRACT_INTEGRATION, &self.integration);
                    set(QONTRACT_INTEGRATION_VERSION, &self.integration_version);
                    set(QONTRACT_SHA256SUM, &sha256sum);
                    set(QONTRACT_UPDATE, update_timestamp);
                    if let Some(caller) = &self.caller_name {
                        set(QONTRACT_CALLER_NAME, caller);
                    }
                }
            }
        }
        let annotated = OpenshiftResource::new_unvalidated(
            body,
            Arc::clone(&self.integration),
            Arc::clone(&self.integration_version),
            Arc::clone(&self.error_details),
            self.caller_name.clone(),
        );
        // The qontract annotations are not part of the hash, so it carries over.
        let _ = annotated.sha256sum.set(sha256sum);
        annotated
    }

    /// The body wrapped so that `Display`/`Serialize` never show Secret values.
    pub fn redacted(&self) -> RedactedBody<'_> {
        RedactedBody::new(&self.body)
    }

    /// `(kind, name)` or the reason the body lacks them.
    fn identity(&self) -> Result<(&str, &str), ResourceError> {
        let details = || self.error_details.to_string();
        let Value::Object(root) = &self.body else {
            return Err(ResourceError::NotAnObject { details: details() });
        };
        let missing = |field| ResourceError::MissingField {
            field,
            details: details(),
        };
        let kind = root
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(missing("kind"))?;
        let metadata = root
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or(missing("metadata"))?;
        let name = match metadata.get("name").and_then(Value::as_str) {
            Some(name) => name,
            None if kind == "PipelineRun" => {
                let generate_name = metadata
                    .get("generateName")
                    .and_then(Value::as_str)
                    .ok_or(missing("metadata.generateName"))?;
                // Python: generateName[:-1]
                match generate_name.char_indices().last() {
                    Some((last, _)) => &generate_name[..last],
                    None => generate_name,
                }
            }
            None => return Err(missing("metadata.name")),
        };
        Ok((kind, name))
    }

    fn validate(&self) -> Result<(), ResourceError> {
        let (kind, name) = self.identity()?;
        let details = || self.error_details.to_string();
        if !NAME_CHECK_EXEMPT_KINDS.contains(&kind)
            && (!is_dns1123_subdomain(name) || name.len() > DNS_SUBDOMAIN_MAX_LENGTH)
        {
            return Err(ResourceError::InvalidName {
                kind: kind.to_owned(),
                name: name.to_owned(),
                details: details(),
            });
        }
        let containers = self
            .body
            .get("spec")
            .and_then(|spec| spec.get("template"))
            .and_then(|template| template.get("spec"))
            .and_then(|spec| spec.get("containers"));
        let Some(containers) = containers else {
            return Ok(());
        };
        let Value::Array(containers) = containers else {
            return Err(ResourceError::ContainersNotAList {
                kind: kind.to_owned(),
                name: name.to_owned(),
                details: details(),
            });
        };
        for container in containers {
            let container_name = container.get("name").filter(|name| !name.is_null());
            let Some(container_name) = container_name else {
                return Err(ResourceError::ContainerWithoutName {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    details: details(),
                });
            };
            let valid = container_name.as_str().is_some_and(|cname| {
                is_dns1123_label(cname) && cname.len() <= DNS_LABEL_MAX_LENGTH
            });
            if !valid {
                return Err(ResourceError::InvalidContainerName {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    container: match container_name {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    },
                    details: details(),
                });
            }
        }
        Ok(())
    }
}

/// Who owns a cluster object, judged from its qontract annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// This integration, same semver major, sha256sum present.
    ThisIntegration,
    /// No `qontract.integration` annotation.
    Unannotated,
    /// Another integration (its name).
    OtherIntegration(String),
    /// This integration, but another semver major (the stored version).
    OtherMajorVersion(String),
    /// This integration, but the stored or own version is not valid semver (the stored version).
    UnparsableVersion(String),
    /// This integration and major, but no `qontract.sha256sum`.
    MissingSha256sum,
}

impl fmt::Display for Ownership {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ownership::ThisIntegration => formatter.write_str("owned by this integration"),
            Ownership::Unannotated => formatter.write_str("not annotated by any integration"),
            Ownership::OtherIntegration(owner) => write!(formatter, "owned by integration {owner}"),
            Ownership::OtherMajorVersion(version) => {
                write!(formatter, "applied by another major version ({version})")
            }
            Ownership::UnparsableVersion(version) => {
                write!(
                    formatter,
                    "integration version {version:?} is not valid semver"
                )
            }
            Ownership::MissingSha256sum => {
                formatter.write_str("annotated by this integration but without a sha256sum")
            }
        }
    }
}

impl fmt::Debug for OpenshiftResource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OpenshiftResource")
            .field("kind", &self.kind())
            .field("name", &self.name())
            .field("integration", &&*self.integration)
            .field("integration_version", &&*self.integration_version)
            .field("error_details", &&*self.error_details)
            .field("caller_name", &self.caller_name.as_deref())
            .field("body", &format_args!("{}", self.redacted()))
            .finish()
    }
}

impl fmt::Display for OpenshiftResource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.kind(), self.name())
    }
}

/// `Kind.group` when `api_version` contains a `/`, else `kind`.
pub fn fully_qualified_kind(kind: &str, api_version: &str) -> String {
    match api_version.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind.to_owned(),
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
pub fn is_dns1123_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
pub fn is_dns1123_subdomain(text: &str) -> bool {
    text.split('.').all(is_dns1123_label)
}

/// The current UTC time as Python's `datetime.utcnow().replace(microsecond=0).isoformat()`,
/// e.g. `2024-12-01T00:00:00`.
pub fn utc_now_iso_seconds() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    iso_seconds_from_unix(seconds)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS` (UTC).
pub fn iso_seconds_from_unix(unix_seconds: u64) -> String {
    let days = i64::try_from(unix_seconds / 86_400).unwrap_or_default();
    let second_of_day = unix_seconds % 86_400;
    // Howard Hinnant's days_from_civil inverse.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}
