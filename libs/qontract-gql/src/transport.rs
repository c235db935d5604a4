//! The transport seam between the GraphQL client and whatever executes queries.
//!
//! Two implementations exist: [`crate::http::HttpTransport`] talks to a qontract-server over
//! HTTP, and the embedded executor of `qontract-graphql-executor` runs the query in-process
//! against a loaded bundle. Integrations only ever see [`crate::GqlClient`], so switching
//! between the two never touches integration code.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One GraphQL request as sent to `/graphql` or `/graphqlsha/<sha>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GqlRequest {
    /// The query document.
    pub query: String,
    /// Variables, `null` when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Value>,
    /// Operation to run when the document holds several.
    #[serde(
        default,
        rename = "operationName",
        skip_serializing_if = "Option::is_none"
    )]
    pub operation_name: Option<String>,
}

impl GqlRequest {
    /// A request without variables.
    pub fn new(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            variables: None,
            operation_name: None,
        }
    }

    /// Attach variables.
    pub fn with_variables(mut self, variables: Value) -> Self {
        self.variables = Some(variables);
        self
    }
}

/// One error entry of a GraphQL response (`errors[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GqlResponseError {
    /// Human-readable message.
    pub message: String,
    /// Response path of the failing field, when the server gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Value>,
    /// Server extensions such as `{"code": "BAD_FILTER_FIELD"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// A GraphQL response body as qontract-server returns it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GqlResponse {
    /// The `data` member (may be absent or `null` on errors).
    #[serde(default)]
    pub data: Option<Value>,
    /// The `errors` member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GqlResponseError>,
    /// `extensions.schemas`: the `$schema` of every datafile the query touched, first-touch order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<GqlExtensions>,
}

/// The `extensions` member of a qontract-server response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GqlExtensions {
    /// Schemas (`/openshift/cluster-1.yml`, ...) of the datafiles the query touched.
    #[serde(default)]
    pub schemas: Vec<String>,
}

impl GqlResponse {
    /// The touched schemas, empty when the server sent none.
    pub fn schemas(&self) -> &[String] {
        self.extensions
            .as_ref()
            .map(|e| e.schemas.as_slice())
            .unwrap_or(&[])
    }
}

/// Identity of the bundle a transport serves (`/sha256` + `/git-commit-info/<sha>`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BundleInfo {
    /// sha256 of the bundle file: its identity.
    pub sha: String,
    /// Git commit the bundle was built from.
    pub commit: String,
    /// Commit timestamp (seconds since the epoch, as a string, like qontract-server).
    pub timestamp: String,
}

/// Why a transport could not produce a response. `Transient` errors are retried.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Connection refused/reset, timeout, or an HTTP 5xx: worth retrying.
    #[error("{endpoint}: {message}")]
    Transient {
        /// URL or name of the endpoint.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// Anything that will not get better by retrying (4xx, undecodable body, bad bundle...).
    #[error("{endpoint}: {message}")]
    Permanent {
        /// URL or name of the endpoint.
        endpoint: String,
        /// What happened.
        message: String,
    },
}

impl TransportError {
    /// Whether a retry may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, TransportError::Transient { .. })
    }
}

/// Something that executes GraphQL requests against one app-interface bundle.
///
/// Implementations must be cheap to share (`Arc`) and safe to call concurrently.
pub trait GqlTransport: Send + Sync {
    /// Human-readable description of where queries go (URL or bundle path), for logs and errors.
    fn describe(&self) -> String;

    /// Find out which bundle is current (`GET /sha256` + `/git-commit-info/<sha>`).
    fn bundle_info(&self) -> BoxFuture<'_, Result<BundleInfo, TransportError>>;

    /// Execute `request`. When `pin_sha` is set, the request must run against exactly that
    /// bundle (`/graphqlsha/<sha>`), and fail if it is no longer available.
    fn execute<'a>(
        &'a self,
        request: &'a GqlRequest,
        pin_sha: Option<&'a str>,
    ) -> BoxFuture<'a, Result<GqlResponse, TransportError>>;
}
