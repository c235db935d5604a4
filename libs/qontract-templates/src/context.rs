//! What the I/O helpers of a template (`vault`, `query`, `url`) need from the run, as a
//! synchronous trait (templates render synchronously), and its tokio adapter.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use qontract_secrets::{SecretError, SecretReader};
use tokio::sync::OnceCell;

/// Why a service of a [`TemplateContext`] failed. Every message names what was asked for (the
/// helper, secret path, resource, AWS account, `s3://` object or URL), never a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The run has no client for this service (e.g. a [`NoContext`]).
    #[error("{}no {service} is available{}", prefixed(*.helper), for_target(.target.as_deref()))]
    Unavailable {
        /// The helper that needed it (`vault()`, `query()`, `url()`), where known.
        helper: Option<&'static str>,
        /// The missing client (`secret reader`, `GraphQL client`, `HTTP client`, `S3 client`).
        service: &'static str,
        /// What it was to read (a secret path, a resource, a URL, an AWS account).
        target: Option<String>,
    },
    /// The secret reader could not be built (the message of the [`SecretSource::lazy`]
    /// factory).
    #[error("{0}")]
    SecretReader(String),
    /// Reading a secret failed (the error names the path).
    #[error(transparent)]
    Secret(SecretError),
    /// A GraphQL request failed (`what`: e.g. `reading resource /q.gql`).
    #[error("{}{source}", prefixed(.what.as_deref()))]
    Gql {
        /// What the request was for, when it is not a template's own query.
        what: Option<String>,
        /// The GraphQL error.
        source: qontract_gql::GqlError,
    },
    /// The app-interface resource file does not exist (`resources_v1`).
    #[error("resource {path} not found")]
    ResourceNotFound {
        /// The resource path.
        path: String,
    },
    /// The AWS account of `s3()` / `s3_ls()` cannot give S3 credentials.
    #[error("{problem}")]
    AwsAccount {
        /// The account name.
        account: String,
        /// Why.
        problem: Box<AwsAccountProblem>,
    },
    /// An S3 request failed.
    #[error("{uri}: {source}")]
    S3 {
        /// `s3://bucket/key`.
        uri: String,
        /// The object store error.
        source: Box<object_store::Error>,
    },
    /// The S3 object is not UTF-8 text.
    #[error("{uri} is not UTF-8")]
    S3NotUtf8 {
        /// `s3://bucket/key`.
        uri: String,
    },
    /// Nothing is listed under the prefix (upstream: `KeyError: 'Contents'`).
    #[error("{uri}: no objects ('Contents')")]
    S3NoObjects {
        /// `s3://bucket/prefix`.
        uri: String,
    },
    /// `url()`: the URL cannot be requested.
    #[error("invalid URL: {source}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// `url()`: the request failed other than by a connection error.
    #[error("{source}")]
    Http {
        /// The URL.
        url: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// Any other failure of a [`TemplateContext`] implementation.
    #[error("{0}")]
    Other(String),
}

/// Why an AWS account gives no S3 client (upstream `AWSApi` setup).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsAccountProblem {
    /// The `awsaccounts_v1` query failed.
    #[error("reading AWS account {account}: {source}")]
    Query {
        /// The account name.
        account: String,
        /// The GraphQL error.
        source: qontract_gql::GqlError,
    },
    /// No such account in app-interface.
    #[error("aws account not found: {account}")]
    NotFound {
        /// The account name.
        account: String,
    },
    /// The account has no `automationToken`.
    #[error("AWS account {account} has no automationToken")]
    NoAutomationToken {
        /// The account name.
        account: String,
    },
    /// Its `automationToken` secret cannot be read.
    #[error("AWS account {account} credentials: {source}")]
    Credentials {
        /// The account name.
        account: String,
        /// The secret store's error.
        source: SecretError,
    },
    /// Its `automationToken` secret lacks a field.
    #[error("AWS account {account} credentials lack {field}")]
    MissingField {
        /// The account name.
        account: String,
        /// `aws_access_key_id` or `aws_secret_access_key`.
        field: &'static str,
    },
    /// The S3 client cannot be built.
    #[error("S3 client for account {account}: {source}")]
    Client {
        /// The account name.
        account: String,
        /// The object store error.
        source: object_store::Error,
    },
}

fn for_target(target: Option<&str>) -> String {
    target.map(|t| format!(" for {t}")).unwrap_or_default()
}

fn prefixed(what: Option<&str>) -> String {
    what.map(|w| format!("{w}: ")).unwrap_or_default()
}

impl ContextError {
    fn unavailable(helper: &'static str, service: &'static str, target: Option<&str>) -> Self {
        Self::Unavailable {
            helper: Some(helper),
            service,
            target: target.map(str::to_owned),
        }
    }

    fn aws(account: &str, problem: AwsAccountProblem) -> Self {
        Self::AwsAccount {
            account: account.to_owned(),
            problem: Box::new(problem),
        }
    }
}

impl From<String> for ContextError {
    fn from(message: String) -> Self {
        Self::Other(message)
    }
}

impl From<&str> for ContextError {
    fn from(message: &str) -> Self {
        Self::Other(message.to_owned())
    }
}

impl From<ContextError> for String {
    fn from(error: ContextError) -> Self {
        error.to_string()
    }
}

/// The run's services, as the template helpers use them. Errors name what failed (never a
/// secret value); an implementation's own messages fit [`ContextError::Other`] (`.into()` from
/// a `String`).
pub trait TemplateContext: Send + Sync {
    /// All fields of the secret at `path` (`version` `None` = latest); `Ok(None)` when no
    /// secret exists there (upstream `SecretNotFoundError`).
    fn read_secret(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<BTreeMap<String, String>>, ContextError>;

    /// The content of the app-interface resource file at `path` (upstream
    /// `gqlapi.get_resource(path)["content"]`).
    fn resource_content(&self, path: &str) -> Result<String, ContextError>;

    /// Run a GraphQL query and return its `data`.
    fn graphql(&self, query: &str) -> Result<serde_json::Value, ContextError>;

    /// Upstream `checkpoint.url_makes_sense`: whether a GET of `url` answers with a status
    /// below 404 (a connection error is `false`).
    fn url_makes_sense(&self, url: &str) -> Result<bool, ContextError>;

    /// Upstream `lookup_s3_object`: the content (UTF-8) of `key` in `bucket` of the AWS account
    /// `account` (`region` `None`: the account's `resourcesDefaultRegion`).
    fn s3_object(
        &self,
        account: &str,
        _bucket: &str,
        _key: &str,
        _region: Option<&str>,
    ) -> Result<String, ContextError> {
        Err(ContextError::Unavailable {
            helper: None,
            service: "S3 client",
            target: Some(format!("account {account}")),
        })
    }

    /// Upstream `list_s3_objects`: the keys directly under `prefix` (delimiter `/`), newest
    /// first.
    fn s3_list(
        &self,
        account: &str,
        _bucket: &str,
        _prefix: &str,
        _region: Option<&str>,
    ) -> Result<Vec<String>, ContextError> {
        Err(ContextError::Unavailable {
            helper: None,
            service: "S3 client",
            target: Some(format!("account {account}")),
        })
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
    ) -> Result<Option<BTreeMap<String, String>>, ContextError> {
        Err(ContextError::unavailable(
            "vault()",
            "secret reader",
            Some(path),
        ))
    }

    fn resource_content(&self, path: &str) -> Result<String, ContextError> {
        Err(ContextError::unavailable(
            "query()",
            "GraphQL client",
            Some(path),
        ))
    }

    fn graphql(&self, _query: &str) -> Result<serde_json::Value, ContextError> {
        Err(ContextError::unavailable("query()", "GraphQL client", None))
    }

    fn url_makes_sense(&self, url: &str) -> Result<bool, ContextError> {
        Err(ContextError::unavailable("url()", "HTTP client", Some(url)))
    }
}

type ReaderFuture =
    Pin<Box<dyn Future<Output = Result<Arc<dyn SecretReader>, ContextError>> + Send>>;

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
    /// A reader built by `factory` on the first `vault()` call; its error (any `Display`, e.g.
    /// a `String`) becomes [`ContextError::SecretReader`].
    pub fn lazy<F, Fut, E>(factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<dyn SecretReader>, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        Self::Lazy(Arc::new(move || -> ReaderFuture {
            let future = factory();
            Box::pin(async move {
                future
                    .await
                    .map_err(|e| ContextError::SecretReader(e.to_string()))
            })
        }))
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
    ) -> Result<object_store::aws::AmazonS3, ContextError> {
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
        let aws = |problem| ContextError::aws(account, problem);
        let account_name = || account.to_owned();
        let gql = self.gql("s3()", Some(account))?;
        let request = qontract_gql::GqlRequest::new(
            "query AwsAccount($name: String) { accounts: awsaccounts_v1(name: $name) { name resourcesDefaultRegion automationToken { path field version format } } }",
        )
        .with_variables(serde_json::json!({ "name": account }));
        let data: Data = gql.query_json(&request).await.map_err(|source| {
            aws(AwsAccountProblem::Query {
                account: account_name(),
                source,
            })
        })?;
        let found = data
            .accounts
            .into_iter()
            .flatten()
            .find(|a| a.name == account)
            .ok_or_else(|| {
                aws(AwsAccountProblem::NotFound {
                    account: account_name(),
                })
            })?;
        let token = found.automation_token.ok_or_else(|| {
            aws(AwsAccountProblem::NoAutomationToken {
                account: account_name(),
            })
        })?;
        let reader = self.reader("s3()", &format!("account {account}")).await?;
        let secret = reader
            .read_all(&token.path, token.version)
            .await
            .map_err(|source| {
                aws(AwsAccountProblem::Credentials {
                    account: account_name(),
                    source,
                })
            })?;
        let field = |field: &'static str| {
            secret
                .get(field)
                .map(|s| s.expose().to_owned())
                .ok_or_else(|| {
                    aws(AwsAccountProblem::MissingField {
                        account: account_name(),
                        field,
                    })
                })
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
        builder.build().map_err(|source| {
            aws(AwsAccountProblem::Client {
                account: account_name(),
                source,
            })
        })
    }

    /// The secret reader, built on first use; `helper` and `target` name what needed it.
    async fn reader(
        &self,
        helper: &'static str,
        target: &str,
    ) -> Result<Arc<dyn SecretReader>, ContextError> {
        let source = self.secrets.clone();
        self.reader
            .get_or_try_init(|| async move {
                match source {
                    SecretSource::None => Err(ContextError::unavailable(
                        helper,
                        "secret reader",
                        Some(target),
                    )),
                    SecretSource::Reader(reader) => Ok(reader),
                    SecretSource::Lazy(factory) => factory().await,
                }
            })
            .await
            .cloned()
    }

    fn gql(
        &self,
        helper: &'static str,
        target: Option<&str>,
    ) -> Result<&Arc<qontract_gql::GqlClient>, ContextError> {
        self.gql
            .as_ref()
            .ok_or_else(|| ContextError::unavailable(helper, "GraphQL client", target))
    }
}

impl TemplateContext for TokioContext {
    fn read_secret(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<Option<BTreeMap<String, String>>, ContextError> {
        self.block_on(async {
            let reader = self.reader("vault()", path).await?;
            match reader.read_all(path, version).await {
                Ok(data) => Ok(Some(
                    data.fields
                        .into_iter()
                        .map(|(k, v)| (k, v.into_exposed()))
                        .collect(),
                )),
                Err(SecretError::SecretNotFound { .. }) => Ok(None),
                Err(e) => Err(ContextError::Secret(e)),
            }
        })
    }

    fn resource_content(&self, path: &str) -> Result<String, ContextError> {
        let gql = self.gql("query()", Some(path))?;
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
                .map_err(|source| ContextError::Gql {
                    what: Some(format!("reading resource {path}")),
                    source,
                })?;
            data.resources
                .into_iter()
                .flatten()
                .next()
                .map(|r| r.content)
                .ok_or_else(|| ContextError::ResourceNotFound {
                    path: path.to_owned(),
                })
        })
    }

    fn graphql(&self, query: &str) -> Result<serde_json::Value, ContextError> {
        let gql = self.gql("query()", None)?;
        self.block_on(async {
            gql.query(&qontract_gql::GqlRequest::new(query.to_owned()))
                .await
                .map_err(|source| ContextError::Gql { what: None, source })
        })
    }

    fn s3_object(
        &self,
        account: &str,
        bucket: &str,
        key: &str,
        region: Option<&str>,
    ) -> Result<String, ContextError> {
        use object_store::ObjectStoreExt as _;
        let uri = || format!("s3://{bucket}/{key}");
        self.block_on(async {
            let store = self.s3_store(account, bucket, region).await?;
            let object = store
                .get(&object_store::path::Path::from(key))
                .await
                .map_err(|source| ContextError::S3 {
                    uri: uri(),
                    source: Box::new(source),
                })?;
            let bytes = object.bytes().await.map_err(|source| ContextError::S3 {
                uri: uri(),
                source: Box::new(source),
            })?;
            String::from_utf8(bytes.to_vec()).map_err(|_| ContextError::S3NotUtf8 { uri: uri() })
        })
    }

    fn s3_list(
        &self,
        account: &str,
        bucket: &str,
        prefix: &str,
        region: Option<&str>,
    ) -> Result<Vec<String>, ContextError> {
        use object_store::ObjectStore as _;
        let uri = || format!("s3://{bucket}/{prefix}");
        self.block_on(async {
            let store = self.s3_store(account, bucket, region).await?;
            // S3's `Prefix` + `Delimiter="/"`: the keys of the prefix's "directory" that start
            // with the prefix.
            let parent = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
            let parent_path = (!parent.is_empty()).then(|| object_store::path::Path::from(parent));
            let listed = store
                .list_with_delimiter(parent_path.as_ref())
                .await
                .map_err(|source| ContextError::S3 {
                    uri: uri(),
                    source: Box::new(source),
                })?;
            let mut objects: Vec<_> = listed
                .objects
                .into_iter()
                .filter(|o| o.location.as_ref().starts_with(prefix))
                .collect();
            if objects.is_empty() {
                // upstream: `list_objects_v2(...)["Contents"]` raises KeyError.
                return Err(ContextError::S3NoObjects { uri: uri() });
            }
            objects.sort_by_key(|o| std::cmp::Reverse(o.last_modified));
            Ok(objects
                .into_iter()
                .map(|o| o.location.to_string())
                .collect())
        })
    }

    fn url_makes_sense(&self, url: &str) -> Result<bool, ContextError> {
        self.block_on(async {
            match self.http.get(url).send().await {
                Ok(response) => Ok(response.status().as_u16() < 404),
                Err(e) if e.is_connect() => Ok(false),
                Err(source) if source.is_builder() => Err(ContextError::InvalidUrl {
                    url: url.to_owned(),
                    source,
                }),
                Err(source) => Err(ContextError::Http {
                    url: url.to_owned(),
                    source,
                }),
            }
        })
    }
}
