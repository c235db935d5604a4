//! What the I/O helpers of a template (`vault`, `query`, `url`) need from the run, as a
//! synchronous trait (templates render synchronously), and its tokio adapter.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use qontract_secrets::{SecretError, SecretReader};
use tokio::sync::OnceCell;

/// The run's services, as the template helpers use them. Errors are messages naming what
/// failed (never a secret value).
pub trait TemplateContext: Send + Sync {
    /// All fields of the secret at `path` (`version` `None` = latest); `Ok(None)` when no
    /// secret exists there (upstream `SecretNotFoundError`).
    fn read_secret(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<BTreeMap<String, String>>, String>;

    /// The content of the app-interface resource file at `path` (upstream
    /// `gqlapi.get_resource(path)["content"]`).
    fn resource_content(&self, path: &str) -> Result<String, String>;

    /// Run a GraphQL query and return its `data`.
    fn graphql(&self, query: &str) -> Result<serde_json::Value, String>;

    /// Upstream `checkpoint.url_makes_sense`: whether a GET of `url` answers with a status
    /// below 404 (a connection error is `false`).
    fn url_makes_sense(&self, url: &str) -> Result<bool, String>;

    /// Upstream `lookup_s3_object`: the content (UTF-8) of `key` in `bucket` of the AWS account
    /// `account` (`region` `None`: the account's `resourcesDefaultRegion`).
    fn s3_object(
        &self,
        account: &str,
        _bucket: &str,
        _key: &str,
        _region: Option<&str>,
    ) -> Result<String, String> {
        Err(format!("no S3 client is available (account {account})"))
    }

    /// Upstream `list_s3_objects`: the keys directly under `prefix` (delimiter `/`), newest
    /// first.
    fn s3_list(
        &self,
        account: &str,
        _bucket: &str,
        _prefix: &str,
        _region: Option<&str>,
    ) -> Result<Vec<String>, String> {
        Err(format!("no S3 client is available (account {account})"))
    }
}

/// A context without services: every I/O helper is an error naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContext;

impl TemplateContext for NoContext {
    fn read_secret(
        &self,
        path: &str,
        _version: Option<u64>,
    ) -> Result<Option<BTreeMap<String, String>>, String> {
        Err(format!(
            "vault(): no secret reader is available to read {path}"
        ))
    }

    fn resource_content(&self, path: &str) -> Result<String, String> {
        Err(format!(
            "query(): no GraphQL client is available to read {path}"
        ))
    }

    fn graphql(&self, _query: &str) -> Result<serde_json::Value, String> {
        Err("query(): no GraphQL client is available".to_owned())
    }

    fn url_makes_sense(&self, url: &str) -> Result<bool, String> {
        Err(format!("url(): no HTTP client is available to probe {url}"))
    }
}

type ReaderFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn SecretReader>, String>> + Send>>;

/// Where [`TokioContext`] gets its secret reader: a ready one, or a factory called on the first
/// `vault()` (so that runs whose templates read no secret need no Vault).
#[derive(Clone)]
pub enum SecretSource {
    /// No secret reader: `vault()` fails.
    None,
    /// A ready reader.
    Reader(Arc<dyn SecretReader>),
    /// Built on first use.
    Lazy(Arc<dyn Fn() -> ReaderFuture + Send + Sync>),
}

impl SecretSource {
    /// A reader built by `factory` on the first `vault()` call.
    pub fn lazy<F, Fut>(factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<dyn SecretReader>, String>> + Send + 'static,
    {
        Self::Lazy(Arc::new(move || -> ReaderFuture { Box::pin(factory()) }))
    }
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretSource::None => "SecretSource::None",
            SecretSource::Reader(_) => "SecretSource::Reader",
            SecretSource::Lazy(_) => "SecretSource::Lazy",
        })
    }
}

/// [`TemplateContext`] on the run's async services: each call runs on the tokio runtime of
/// `handle` and blocks until it is done. Render on a blocking thread
/// (`tokio::task::spawn_blocking`): blocking a runtime thread stalls that thread's other tasks.
pub struct TokioContext {
    handle: tokio::runtime::Handle,
    s3_endpoint: Option<String>,
    secrets: SecretSource,
    reader: OnceCell<Arc<dyn SecretReader>>,
    gql: Option<Arc<qontract_gql::GqlClient>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for TokioContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioContext")
            .field("secrets", &self.secrets)
            .field("gql", &self.gql.is_some())
            .finish_non_exhaustive()
    }
}

impl TokioContext {
    /// A context on `handle`'s runtime with these services.
    pub fn new(
        handle: tokio::runtime::Handle,
        secrets: SecretSource,
        gql: Option<Arc<qontract_gql::GqlClient>>,
    ) -> Self {
        // Upstream: requests.get(url, verify=False, timeout=60).
        let http = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        // boto3 honours these too (a local S3 such as moto).
        let s3_endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok()
            .filter(|e| !e.is_empty());
        Self {
            handle,
            s3_endpoint,
            secrets,
            reader: OnceCell::new(),
            gql,
            http,
        }
    }

    /// Run `future` on the runtime from a scoped helper thread, so that it works from a
    /// blocking thread and does not panic on a runtime thread.
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        std::thread::scope(
            |scope| match scope.spawn(|| self.handle.block_on(future)).join() {
                Ok(output) => output,
                Err(panic) => std::panic::resume_unwind(panic),
            },
        )
    }

    /// Use this S3 endpoint instead of AWS's (default: `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL`, as boto3).
    #[must_use]
    pub fn with_s3_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.s3_endpoint = endpoint;
        self
    }

    /// An S3 client for `bucket` with the credentials of AWS account `account` (upstream
    /// `AWSApi`: `awsaccounts_v1(name:)`, its `automationToken` secret's
    /// `aws_access_key_id` / `aws_secret_access_key`, region `resourcesDefaultRegion`).
    async fn s3_store(
        &self,
        account: &str,
        bucket: &str,
        region: Option<&str>,
    ) -> Result<object_store::aws::AmazonS3, String> {
        #[derive(serde::Deserialize)]
        struct Token {
            path: String,
            version: Option<u64>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Account {
            name: String,
            resources_default_region: Option<String>,
            automation_token: Option<Token>,
        }
        #[derive(serde::Deserialize)]
        struct Data {
            accounts: Option<Vec<Account>>,
        }
        let gql = self.gql("s3()")?;
        let request = qontract_gql::GqlRequest::new(
            "query AwsAccount($name: String) { accounts: awsaccounts_v1(name: $name) { name resourcesDefaultRegion automationToken { path field version format } } }",
        )
        .with_variables(serde_json::json!({ "name": account }));
        let data: Data = gql
            .query_json(&request)
            .await
            .map_err(|e| format!("reading AWS account {account}: {e}"))?;
        let found = data
            .accounts
            .into_iter()
            .flatten()
            .find(|a| a.name == account)
            .ok_or_else(|| format!("aws account not found: {account}"))?;
        let token = found
            .automation_token
            .ok_or_else(|| format!("AWS account {account} has no automationToken"))?;
        let reader = self.reader().await?;
        let secret = reader
            .read_all(&token.path, token.version)
            .await
            .map_err(|e| format!("AWS account {account} credentials: {e}"))?;
        let field = |name: &str| {
            secret
                .get(name)
                .map(|s| s.expose().to_owned())
                .ok_or_else(|| format!("AWS account {account} credentials lack {name}"))
        };
        let region = region
            .map(str::to_owned)
            .or(found.resources_default_region)
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(field("aws_access_key_id")?)
            .with_secret_access_key(field("aws_secret_access_key")?);
        if let Some(endpoint) = &self.s3_endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        builder
            .build()
            .map_err(|e| format!("S3 client for account {account}: {e}"))
    }

    async fn reader(&self) -> Result<Arc<dyn SecretReader>, String> {
        let source = self.secrets.clone();
        self.reader
            .get_or_try_init(|| async move {
                match source {
                    SecretSource::None => Err("no secret reader is configured".to_owned()),
                    SecretSource::Reader(reader) => Ok(reader),
                    SecretSource::Lazy(factory) => factory().await,
                }
            })
            .await
            .cloned()
    }

    fn gql(&self, helper: &str) -> Result<&Arc<qontract_gql::GqlClient>, String> {
        self.gql
            .as_ref()
            .ok_or_else(|| format!("{helper}: no GraphQL client is available"))
    }
}

impl TemplateContext for TokioContext {
    fn read_secret(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<BTreeMap<String, String>>, String> {
        self.block_on(async {
            let reader = self.reader().await?;
            match reader.read_all(path, version).await {
                Ok(data) => Ok(Some(
                    data.fields
                        .into_iter()
                        .map(|(k, v)| (k, v.into_exposed()))
                        .collect(),
                )),
                Err(SecretError::SecretNotFound { .. }) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn resource_content(&self, path: &str) -> Result<String, String> {
        let gql = self.gql("query()")?;
        self.block_on(async {
            #[derive(serde::Deserialize)]
            struct Resource {
                content: String,
            }
            #[derive(serde::Deserialize)]
            struct Data {
                resources: Option<Vec<Resource>>,
            }
            let request = qontract_gql::GqlRequest::new(
                "query Resource($path: String) { resources: resources_v1(path: $path) { path content sha256sum } }",
            )
            .with_variables(serde_json::json!({ "path": path }));
            let data: Data = gql
                .query_json_unchecked(&request)
                .await
                .map_err(|e| format!("reading resource {path}: {e}"))?;
            data.resources
                .into_iter()
                .flatten()
                .next()
                .map(|r| r.content)
                .ok_or_else(|| format!("resource {path} not found"))
        })
    }

    fn graphql(&self, query: &str) -> Result<serde_json::Value, String> {
        let gql = self.gql("query()")?;
        self.block_on(async {
            gql.query(&qontract_gql::GqlRequest::new(query.to_owned()))
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn s3_object(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        region: Option<&str>,
    ) -> Result<String, String> {
        use object_store::ObjectStoreExt as _;
        self.block_on(async {
            let store = self.s3_store(account, bucket, region).await?;
            let object = store
                .get(&object_store::path::Path::from(key))
                .await
                .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?;
            let bytes = object
                .bytes()
                .await
                .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?;
            String::from_utf8(bytes.to_vec())
                .map_err(|_| format!("s3://{bucket}/{key} is not UTF-8"))
        })
    }

    fn s3_list(
        &self,
        account: &str,
        bucket: &str,
        prefix: &str,
        region: Option<&str>,
    ) -> Result<Vec<String>, String> {
        use object_store::ObjectStore as _;
        self.block_on(async {
            let store = self.s3_store(account, bucket, region).await?;
            // S3's `Prefix` + `Delimiter="/"`: the keys of the prefix's "directory" that start
            // with the prefix.
            let parent = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
            let parent_path = (!parent.is_empty()).then(|| object_store::path::Path::from(parent));
            let listed = store
                .list_with_delimiter(parent_path.as_ref())
                .await
                .map_err(|e| format!("s3://{bucket}/{prefix}: {e}"))?;
            let mut objects: Vec<_> = listed
                .objects
                .into_iter()
                .filter(|o| o.location.as_ref().starts_with(prefix))
                .collect();
            if objects.is_empty() {
                // upstream: `list_objects_v2(...)["Contents"]` raises KeyError.
                return Err(format!("s3://{bucket}/{prefix}: no objects ('Contents')"));
            }
            objects.sort_by_key(|o| std::cmp::Reverse(o.last_modified));
            Ok(objects
                .into_iter()
                .map(|o| o.location.to_string())
                .collect())
        })
    }

    fn url_makes_sense(&self, url: &str) -> Result<bool, String> {
        self.block_on(async {
            match self.http.get(url).send().await {
                Ok(response) => Ok(response.status().as_u16() < 404),
                Err(e) if e.is_connect() => Ok(false),
                Err(e) if e.is_builder() => Err(format!("invalid URL: {e}")),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
