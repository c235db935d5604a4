//! [`GqlTransport`] over HTTP to a qontract-server.

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::{StatusCode, Url};

use crate::transport::{BundleInfo, GqlRequest, GqlResponse, GqlTransport, TransportError};

/// Timeout of every request, like the Python tool.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Talks to qontract-server: `POST <server>` (or `POST /graphqlsha/<sha>` when pinned),
/// `GET /sha256`, `GET /git-commit-info/<sha>`.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    url: Url,
    token: Option<String>,
}

impl HttpTransport {
    /// `server` is the configured GraphQL URL (`http://host:4000/graphql`); `token` is sent
    /// verbatim as `Authorization`.
    pub fn new(server: &str, token: Option<String>) -> Result<Self, TransportError> {
        Self::with_timeout(server, token, DEFAULT_TIMEOUT)
    }

    /// Like [`HttpTransport::new`] with a custom timeout.
    pub fn with_timeout(
        server: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let url = Url::parse(server).map_err(|e| TransportError::Permanent {
            endpoint: server.to_owned(),
            message: format!("invalid GraphQL server URL: {e}"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TransportError::Permanent {
                endpoint: server.to_owned(),
                message: "GraphQL server URL must be http:// or https://".to_owned(),
            });
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("qontract-reconcile-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Permanent {
                endpoint: server.to_owned(),
                message: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(Self { client, url, token })
    }

    /// `scheme://host[:port]/<path>`: qontract-server's side endpoints live at the root.
    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.url.clone();
        url.set_path(path);
        url.set_query(None);
        url
    }

    fn authorize(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => req.header(reqwest::header::AUTHORIZATION, token),
            None => req,
        }
    }

    async fn get_text(&self, url: Url) -> Result<String, TransportError> {
        let endpoint = url.to_string();
        let resp = self
            .authorize(self.client.get(url))
            .send()
            .await
            .map_err(|e| send_error(&endpoint, e))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| send_error(&endpoint, e))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(status_error(&endpoint, status, &body))
        }
    }

    async fn bundle_info_impl(&self) -> Result<BundleInfo, TransportError> {
        let sha = self
            .get_text(self.endpoint("/sha256"))
            .await?
            .trim()
            .to_owned();
        if sha.is_empty() || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(TransportError::Permanent {
                endpoint: self.endpoint("/sha256").to_string(),
                message: format!("unexpected bundle sha {sha:?}"),
            });
        }
        let info_url = self.endpoint(&format!("/git-commit-info/{sha}"));
        let text = self.get_text(info_url.clone()).await?;
        #[derive(serde::Deserialize)]
        struct CommitInfo {
            #[serde(default)]
            commit: String,
            #[serde(default)]
            timestamp: serde_json::Value,
        }
        let info: CommitInfo =
            serde_json::from_str(&text).map_err(|e| TransportError::Permanent {
                endpoint: info_url.to_string(),
                message: format!("invalid git-commit-info response: {e}"),
            })?;
        let timestamp = match info.timestamp {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        Ok(BundleInfo {
            sha,
            commit: info.commit,
            timestamp,
        })
    }

    async fn execute_impl(
        &self,
        request: &GqlRequest,
        pin_sha: Option<&str>,
    ) -> Result<GqlResponse, TransportError> {
        let url = match pin_sha {
            Some(sha) => self.endpoint(&format!("/graphqlsha/{sha}")),
            None => self.url.clone(),
        };
        let endpoint = url.to_string();
        let resp = self
            .authorize(self.client.post(url))
            .json(request)
            .send()
            .await
            .map_err(|e| send_error(&endpoint, e))?;
        let status = resp.status();
        // Parsed from the bytes: a query's answer can be tens of MiB (every namespace with its
        // resources' contents), so no second copy as a `String`.
        let body = resp.bytes().await.map_err(|e| send_error(&endpoint, e))?;
        let text = || String::from_utf8_lossy(&body);
        if status.is_server_error() {
            return Err(status_error(&endpoint, status, &text()));
        }
        if status == StatusCode::NOT_FOUND && pin_sha.is_some() {
            return Err(TransportError::Permanent {
                endpoint,
                message: format!(
                    "bundle {} is not (or no longer) served by qontract-server (HTTP 404)",
                    pin_sha.unwrap_or_default()
                ),
            });
        }
        // GraphQL validation errors come back as HTTP 400 with a GraphQL body: keep them.
        match serde_json::from_slice::<GqlResponse>(&body) {
            Ok(parsed) if status.is_success() || !parsed.errors.is_empty() => Ok(parsed),
            Ok(_) | Err(_) if !status.is_success() => Err(status_error(&endpoint, status, &text())),
            Ok(parsed) => Ok(parsed),
            Err(e) => Err(TransportError::Permanent {
                endpoint,
                message: format!("response is not a GraphQL JSON body: {e}"),
            }),
        }
    }
}

fn send_error(endpoint: &str, e: reqwest::Error) -> TransportError {
    let message = if e.is_timeout() {
        "request timed out".to_owned()
    } else if e.is_connect() {
        format!("could not connect: {}", source_chain(&e))
    } else {
        source_chain(&e)
    };
    TransportError::Transient {
        endpoint: endpoint.to_owned(),
        message,
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

fn status_error(endpoint: &str, status: StatusCode, body: &str) -> TransportError {
    let snippet: String = body.trim().chars().take(200).collect();
    let message = format!("HTTP {status}: {snippet}");
    if status.is_server_error() {
        TransportError::Transient {
            endpoint: endpoint.to_owned(),
            message,
        }
    } else {
        TransportError::Permanent {
            endpoint: endpoint.to_owned(),
            message,
        }
    }
}

impl GqlTransport for HttpTransport {
    fn describe(&self) -> String {
        self.url.to_string()
    }

    fn bundle_info(&self) -> BoxFuture<'_, Result<BundleInfo, TransportError>> {
        self.bundle_info_impl().boxed()
    }

    fn execute<'a>(
        &'a self,
        request: &'a GqlRequest,
        pin_sha: Option<&'a str>,
    ) -> BoxFuture<'a, Result<GqlResponse, TransportError>> {
        self.execute_impl(request, pin_sha).boxed()
    }
}
