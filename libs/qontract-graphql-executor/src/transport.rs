//! [`qontract_gql::GqlTransport`] over an in-process bundle: integrations run from a bundle file
//! (`[graphql] bundle = "path"`) or an app-interface checkout (`--app-interface DIR`) with no
//! qontract-server.

use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use qontract_gql::{
    BundleInfo, GqlExtensions, GqlRequest, GqlResponse, GqlResponseError, GqlTransport,
    TransportError,
};

use crate::{Bundle, ExecutorError, Request, execute};

/// Executes queries in-process against one loaded bundle.
#[derive(Debug, Clone)]
pub struct EmbeddedTransport {
    bundle: Arc<Bundle>,
    source: String,
}

impl EmbeddedTransport {
    /// Serves `bundle`; `source` describes where it came from (for logs and errors).
    pub fn new(bundle: Arc<Bundle>, source: impl Into<String>) -> Self {
        Self {
            bundle,
            source: source.into(),
        }
    }

    /// Loads a bundle file (the JSON `qontract-bundler` writes).
    pub fn from_bundle_file(path: &Path) -> Result<Self, ExecutorError> {
        let bundle = Bundle::from_file(path)?;
        Ok(Self::new(
            Arc::new(bundle),
            format!("bundle {}", path.display()),
        ))
    }

    /// Bundles an app-interface checkout in memory and serves it. `dir` must hold `data/`,
    /// `resources/`, `schemas/` and `graphql-schemas/schema.yml` (the qontract-schemas layout
    /// next to the data); `commit` and `timestamp` are recorded as the bundle's git commit.
    pub fn from_app_interface_dir(
        dir: &Path,
        commit: &str,
        timestamp: &str,
    ) -> Result<Self, ExecutorError> {
        let inputs = qontract_bundler::BundleInputs {
            schemas_dir: dir.join("schemas"),
            graphql_schema_file: dir.join("graphql-schemas/schema.yml"),
            data_dir: dir.join("data"),
            resources_dir: dir.join("resources"),
            git_commit: commit.to_owned(),
            git_commit_timestamp: timestamp.to_owned(),
        };
        Self::from_bundle_inputs(&inputs)
    }

    /// Bundles the given inputs in memory and serves the result.
    pub fn from_bundle_inputs(
        inputs: &qontract_bundler::BundleInputs,
    ) -> Result<Self, ExecutorError> {
        let dir = inputs.data_dir.display().to_string();
        let value =
            qontract_bundler::build_bundle(inputs).map_err(|source| ExecutorError::Bundler {
                dir: dir.clone(),
                source,
            })?;
        let text = qontract_bundler::bundle_to_json(&value);
        let sha = qontract_bundler::sha256_hex(text.as_bytes());
        let bundle = Bundle::from_value(value, sha, &dir)?;
        Ok(Self::new(Arc::new(bundle), format!("app-interface {dir}")))
    }

    /// The served bundle.
    pub fn bundle(&self) -> &Arc<Bundle> {
        &self.bundle
    }

    fn run(
        &self,
        request: &GqlRequest,
        pin_sha: Option<&str>,
    ) -> Result<GqlResponse, TransportError> {
        if let Some(sha) = pin_sha
            && sha != self.bundle.sha
        {
            return Err(TransportError::Permanent {
                endpoint: self.describe(),
                message: format!(
                    "bundle {sha} is not available (this transport serves {})",
                    self.bundle.sha
                ),
            });
        }
        let execution = execute(
            &self.bundle,
            Request {
                query: &request.query,
                variables: request.variables.as_ref(),
                operation_name: request.operation_name.as_deref(),
            },
        );
        let errors = execution
            .errors
            .iter()
            .map(|e| {
                let v = e.to_value();
                GqlResponseError {
                    message: e.message.clone(),
                    path: v.get("path").cloned(),
                    extensions: v.get("extensions").cloned(),
                }
            })
            .collect();
        Ok(GqlResponse {
            data: execution.data(),
            errors,
            extensions: Some(GqlExtensions {
                schemas: execution.schemas.clone(),
            }),
        })
    }
}

impl GqlTransport for EmbeddedTransport {
    fn describe(&self) -> String {
        self.source.clone()
    }

    fn bundle_info(&self) -> BoxFuture<'_, Result<BundleInfo, TransportError>> {
        let info = BundleInfo {
            sha: self.bundle.sha.clone(),
            commit: self.bundle.git_commit.clone(),
            timestamp: self.bundle.git_commit_timestamp.clone(),
        };
        Box::pin(async move { Ok(info) })
    }

    fn execute<'a>(
        &'a self,
        request: &'a GqlRequest,
        pin_sha: Option<&'a str>,
    ) -> BoxFuture<'a, Result<GqlResponse, TransportError>> {
        let result = self.run(request, pin_sha);
        Box::pin(async move { result })
    }
}
