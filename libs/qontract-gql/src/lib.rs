//! GraphQL client for qontract-server, with the run-consistency and safety rules of the
//! Python tool's `reconcile/utils/gql.py`:
//!
//! * **bundle pinning**: at start the client asks which bundle is current (`GET /sha256`,
//!   `GET /git-commit-info/<sha>`) and sends every later query to `/graphqlsha/<sha>`, so a
//!   whole run sees one consistent bundle even if the server reloads meanwhile;
//! * **retries** with linear backoff on connection errors and HTTP 5xx only — never on a
//!   GraphQL error, which would fail the same way again;
//! * **schema allow-list**: the integration's `integrations_v1 { name schemas }` entry is read
//!   once; every response's `extensions.schemas` must be in it ([`GqlError::ForbiddenSchemas`],
//!   exit code 5), and an integration without an entry is refused
//!   ([`GqlError::IntegrationNotFound`], exit code 4);
//! * every schema queried is remembered for `--dump-schemas`.
//!
//! Where queries execute is a [`GqlTransport`]: [`HttpTransport`] for a qontract-server, or
//! the embedded executor over a bundle file.

pub mod http;
pub mod transport;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use http::HttpTransport;
pub use transport::{
    BundleInfo, GqlExtensions, GqlRequest, GqlResponse, GqlResponseError, GqlTransport,
    TransportError,
};

/// The query the schema allow-list is read with (validation skipped, like upstream).
pub const INTEGRATIONS_SCHEMAS_QUERY: &str =
    "{ integrations: integrations_v1 { name description schemas } }";

/// Errors of the GraphQL client.
#[derive(Debug, thiserror::Error)]
pub enum GqlError {
    /// The transport failed (after retries when the failure was transient).
    #[error("GraphQL request to {endpoint} failed after {attempts} attempt(s): {source}")]
    Transport {
        /// Where the request went.
        endpoint: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: TransportError,
    },
    /// The server answered with GraphQL `errors`.
    #[error("GraphQL errors from {endpoint}: {}", .messages.join("; "))]
    Graphql {
        /// Where the request went.
        endpoint: String,
        /// The error messages (with their codes when given).
        messages: Vec<String>,
    },
    /// The response has no `data`.
    #[error("GraphQL response from {endpoint} has no data")]
    NoData {
        /// Where the request went.
        endpoint: String,
    },
    /// `data` does not have the shape the typed query expects.
    #[error("cannot decode GraphQL response from {endpoint}: {message}")]
    Decode {
        /// Where the request went.
        endpoint: String,
        /// serde's message, with the JSON path.
        message: String,
    },
    /// Schema validation is on and the integration has no `integrations_v1` entry (or an empty
    /// `schemas` list). Exit code 4.
    #[error(
        "integration {integration:?} not found in app-interface (no integrations_v1 entry with a \
         schemas list); it is needed while schema validation is on (--no-validate-schemas skips it)"
    )]
    IntegrationNotFound {
        /// Integration name.
        integration: String,
    },
    /// A query touched schemas the integration does not declare. Exit code 5.
    #[error(
        "integration {integration:?} queried schemas not listed in its integrations_v1 entry: {}",
        .schemas.join(", ")
    )]
    ForbiddenSchemas {
        /// Integration name.
        integration: String,
        /// The forbidden schemas.
        schemas: Vec<String>,
    },
}

/// How transient failures are retried: `attempts` in total, sleeping `backoff * n` after the
/// n-th failure (linear, like sretoolbox's `@retry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts (at least 1).
    pub attempts: u32,
    /// Backoff unit.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_secs(1),
        }
    }
}

/// Options of a [`GqlClient`].
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Integration name (as in `integrations_v1.name`), used for the schema allow-list.
    pub integration: Option<String>,
    /// Enforce the schema allow-list (`--validate-schemas`, on by default in the CLI).
    pub validate_schemas: bool,
    /// Pin the run to the current bundle sha (`--gql-sha-url`, on by default in the CLI).
    pub pin_sha: bool,
    /// Pin to this bundle sha instead of the current one (early-exit comparison runs).
    pub fixed_sha: Option<String>,
    /// Retry policy for transient failures.
    pub retry: RetryPolicy,
}

/// A GraphQL client for one integration run.
pub struct GqlClient {
    transport: Arc<dyn GqlTransport>,
    options: ClientOptions,
    bundle: Option<BundleInfo>,
    allowed_schemas: Option<Vec<String>>,
    queried_schemas: Mutex<Vec<String>>,
}

impl std::fmt::Debug for GqlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GqlClient")
            .field("transport", &self.transport.describe())
            .field("options", &self.options)
            .field("bundle", &self.bundle)
            .finish()
    }
}

impl GqlClient {
    /// Connect: detect and pin the bundle sha (if asked), then read the integration's schema
    /// allow-list (if an integration is named).
    pub async fn connect(
        transport: Arc<dyn GqlTransport>,
        options: ClientOptions,
    ) -> Result<Self, GqlError> {
        let mut client = GqlClient {
            transport,
            options,
            bundle: None,
            allowed_schemas: None,
            queried_schemas: Mutex::new(Vec::new()),
        };
        if let Some(sha) = client.options.fixed_sha.clone() {
            client.bundle = Some(BundleInfo {
                sha,
                ..BundleInfo::default()
            });
        } else if client.options.pin_sha {
            let info = client.with_retries(|t| t.bundle_info()).await?;
            tracing::debug!(sha = %info.sha, commit = %info.commit, "pinned GraphQL bundle");
            client.bundle = Some(info);
        }
        if let Some(integration) = client.options.integration.clone() {
            client.allowed_schemas = client.load_allowed_schemas(&integration).await?;
        }
        Ok(client)
    }

    /// The pinned bundle, when pinning is on.
    pub fn bundle(&self) -> Option<&BundleInfo> {
        self.bundle.as_ref()
    }

    /// Where queries go (for logs).
    pub fn endpoint(&self) -> String {
        match &self.bundle {
            Some(b) => format!("{} (bundle {})", self.transport.describe(), b.sha),
            None => self.transport.describe(),
        }
    }

    /// The schemas every query so far touched, first-touch order (`--dump-schemas`).
    pub fn queried_schemas(&self) -> Vec<String> {
        self.queried_schemas
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The integration's allowed schemas, when loaded.
    pub fn allowed_schemas(&self) -> Option<&[String]> {
        self.allowed_schemas.as_deref()
    }

    async fn load_allowed_schemas(
        &self,
        integration: &str,
    ) -> Result<Option<Vec<String>>, GqlError> {
        #[derive(serde::Deserialize)]
        struct Entry {
            name: String,
            #[serde(default)]
            schemas: Option<Vec<String>>,
        }
        #[derive(serde::Deserialize)]
        struct Data {
            #[serde(default)]
            integrations: Option<Vec<Entry>>,
        }
        let data: Data = self
            .query_json_unchecked(&GqlRequest::new(INTEGRATIONS_SCHEMAS_QUERY))
            .await?;
        let schemas = data
            .integrations
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.name == integration)
            .and_then(|e| e.schemas)
            .filter(|s| !s.is_empty());
        if schemas.is_none() && self.options.validate_schemas {
            return Err(GqlError::IntegrationNotFound {
                integration: integration.to_owned(),
            });
        }
        Ok(schemas)
    }

    async fn with_retries<'s, T, F>(&'s self, mut call: F) -> Result<T, GqlError>
    where
        F: FnMut(&'s dyn GqlTransport) -> futures::future::BoxFuture<'s, Result<T, TransportError>>,
    {
        let policy = self.options.retry;
        let attempts = policy.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call(self.transport.as_ref()).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() && attempt < attempts => {
                    let sleep = policy.backoff * attempt;
                    tracing::warn!(
                        endpoint = %self.transport.describe(),
                        attempt,
                        error = %e,
                        "GraphQL request failed, retrying in {sleep:?}"
                    );
                    tokio::time::sleep(sleep).await;
                }
                Err(source) => {
                    return Err(GqlError::Transport {
                        endpoint: self.transport.describe(),
                        attempts: attempt,
                        source,
                    });
                }
            }
        }
    }

    async fn execute_raw(&self, request: &GqlRequest) -> Result<GqlResponse, GqlError> {
        let pin = self.bundle.as_ref().map(|b| b.sha.clone());
        let response = self
            .with_retries(|t| t.execute(request, pin.as_deref()))
            .await?;
        {
            let mut seen = self
                .queried_schemas
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for schema in response.schemas() {
                if !seen.contains(schema) {
                    tracing::debug!(schema = %schema, "queried schema");
                    seen.push(schema.clone());
                }
            }
        }
        if !response.errors.is_empty() {
            let messages = response
                .errors
                .iter()
                .map(|e| {
                    match e
                        .extensions
                        .as_ref()
                        .and_then(|x| x.get("code"))
                        .and_then(Value::as_str)
                    {
                        Some(code) => format!("{} ({code})", e.message),
                        None => e.message.clone(),
                    }
                })
                .collect();
            return Err(GqlError::Graphql {
                endpoint: self.endpoint(),
                messages,
            });
        }
        Ok(response)
    }

    fn check_schemas(&self, response: &GqlResponse) -> Result<(), GqlError> {
        if !self.options.validate_schemas {
            return Ok(());
        }
        let Some(integration) = &self.options.integration else {
            return Ok(());
        };
        let allowed = self.allowed_schemas.as_deref().unwrap_or(&[]);
        let forbidden: Vec<String> = response
            .schemas()
            .iter()
            .filter(|s| !allowed.contains(s))
            .cloned()
            .collect();
        if forbidden.is_empty() {
            Ok(())
        } else {
            Err(GqlError::ForbiddenSchemas {
                integration: integration.clone(),
                schemas: forbidden,
            })
        }
    }

    /// Run `request` and return `data` (schema allow-list enforced).
    pub async fn query(&self, request: &GqlRequest) -> Result<Value, GqlError> {
        let response = self.execute_raw(request).await?;
        self.check_schemas(&response)?;
        response.data.ok_or_else(|| GqlError::NoData {
            endpoint: self.endpoint(),
        })
    }

    /// Run `request` and decode `data` into `T` (schema allow-list enforced).
    pub async fn query_json<T: DeserializeOwned>(
        &self,
        request: &GqlRequest,
    ) -> Result<T, GqlError> {
        let data = self.query(request).await?;
        self.decode(data)
    }

    /// Run `request` without the schema allow-list (used for the allow-list itself and for
    /// framework queries such as `resources_v1`).
    pub async fn query_json_unchecked<T: DeserializeOwned>(
        &self,
        request: &GqlRequest,
    ) -> Result<T, GqlError> {
        let response = self.execute_raw(request).await?;
        let data = response.data.ok_or_else(|| GqlError::NoData {
            endpoint: self.endpoint(),
        })?;
        self.decode(data)
    }

    /// Run a typed cynic operation (from `qontract-gql-bindings`).
    pub async fn run<Q, V>(&self, operation: cynic::Operation<Q, V>) -> Result<Q, GqlError>
    where
        Q: DeserializeOwned,
        V: Serialize,
    {
        let variables =
            serde_json::to_value(&operation.variables).map_err(|e| GqlError::Decode {
                endpoint: self.endpoint(),
                message: format!("variables: {e}"),
            })?;
        let variables = match variables {
            Value::Object(m) if m.is_empty() => None,
            Value::Null => None,
            v => Some(v),
        };
        let request = GqlRequest {
            query: operation.query,
            variables,
            operation_name: operation.operation_name.map(|n| n.into_owned()),
        };
        self.query_json(&request).await
    }

    fn decode<T: DeserializeOwned>(&self, data: Value) -> Result<T, GqlError> {
        serde_json::from_value(data).map_err(|e| GqlError::Decode {
            endpoint: self.endpoint(),
            message: e.to_string(),
        })
    }
}
