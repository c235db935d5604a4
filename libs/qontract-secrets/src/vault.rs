//! Vault backend: login (token, AppRole, Kubernetes), KV v1/v2 detection per mount, cached reads
//! with bounded retries of transient failures.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use vaultrs::client::{Client as _, VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;

use crate::clock::{Clock, SystemClock};
use crate::error::VersionLabel;
use crate::error::error_chain;

mod kv_write;
use crate::{
    Secret, SecretData, SecretError, SecretFuture, SecretReader, VaultSecret, apply_format,
};
pub use kv_write::KvEngine;

/// Where the Kubernetes service-account JWT is read from unless `KUBE_SA_TOKEN_PATH` says otherwise.
pub const DEFAULT_KUBE_SA_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// How to authenticate to Vault.
#[derive(Clone, Debug)]
pub enum VaultAuth {
    /// A ready token (`[vault] token` or `VAULT_TOKEN`). Renewed (if renewable) before it expires.
    Token(Secret),
    /// AppRole login (`[vault] role_id` + `secret_id`).
    AppRole {
        /// Mount of the AppRole auth method (`approle`).
        mount: String,
        /// Role id.
        role_id: String,
        /// Secret id.
        secret_id: Secret,
    },
    /// Kubernetes login (`[vault] kube_auth_role` + `kube_auth_mount`), JWT re-read at each login.
    Kubernetes {
        /// Mount of the Kubernetes auth method.
        mount: String,
        /// Vault role.
        role: String,
        /// File holding the service-account JWT.
        jwt_path: PathBuf,
    },
}

impl VaultAuth {
    fn describe(&self) -> String {
        match self {
            Self::Token(_) => "token".to_owned(),
            Self::AppRole { mount, .. } => format!("approle (mount {mount})"),
            Self::Kubernetes {
                mount,
                role,
                jwt_path,
            } => format!(
                "kubernetes (mount {mount}, role {role}, jwt {})",
                jwt_path.display()
            ),
        }
    }
}

/// Retries of transient Vault failures (connection errors, HTTP 5xx and 429). 403/404 and other
/// client errors are never retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts (at least 1).
    pub attempts: u32,
    /// Sleep before the second attempt; doubled after each further failure.
    pub initial_backoff: Duration,
    /// Upper bound of the sleep between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(4),
        }
    }
}

/// The `[vault]` table of config.toml, as read by the config crate.
#[derive(Clone, Default, Deserialize)]
pub struct VaultConfigFields {
    /// Vault address (`https://vault.example.com`).
    pub server: Option<String>,
    /// Static token.
    pub token: Option<String>,
    /// AppRole role id.
    pub role_id: Option<String>,
    /// AppRole secret id.
    pub secret_id: Option<String>,
    /// Kubernetes auth role.
    pub kube_auth_role: Option<String>,
    /// Kubernetes auth mount.
    pub kube_auth_mount: Option<String>,
}

impl std::fmt::Debug for VaultConfigFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("VaultConfigFields")
            .field("server", &self.server)
            .field("token", &hidden(&self.token))
            .field("role_id", &self.role_id)
            .field("secret_id", &hidden(&self.secret_id))
            .field("kube_auth_role", &self.kube_auth_role)
            .field("kube_auth_mount", &self.kube_auth_mount)
            .finish()
    }
}

/// Everything needed to talk to Vault.
#[derive(Clone, Debug)]
pub struct VaultSettings {
    /// Vault address.
    pub server: String,
    /// Authentication.
    pub auth: VaultAuth,
    /// Timeout of each HTTP request.
    pub request_timeout: Duration,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// How long an unpinned (latest-version) read stays cached; `None` = for the life of the
    /// reader (one run). Set it in daemon mode. Pinned versions are immutable and never expire.
    pub unpinned_cache_ttl: Option<Duration>,
}

impl VaultSettings {
    /// Settings for `server` with `auth` and default timeout, retries and caching.
    pub fn new(server: impl Into<String>, auth: VaultAuth) -> Self {
        Self {
            server: server.into(),
            auth,
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            unpinned_cache_ttl: None,
        }
    }

    /// Resolves the settings from the `[vault]` table and the environment (`env` looks a variable
    /// up; pass `|k| std::env::var(k).ok()`).
    ///
    /// Server: `server`, else `VAULT_ADDR`. Auth, first match wins: `token`; AppRole when
    /// `role_id` is set (then `secret_id` is required); Kubernetes when `kube_auth_role` is set
    /// (`kube_auth_mount` defaults to `kubernetes`, JWT from `KUBE_SA_TOKEN_PATH` or
    /// [`DEFAULT_KUBE_SA_TOKEN_PATH`]); `VAULT_TOKEN`.
    pub fn from_config(
        fields: &VaultConfigFields,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SecretError> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let server = nonempty(&fields.server)
            .or_else(|| env("VAULT_ADDR").filter(|s| !s.is_empty()))
            .ok_or_else(|| {
                SecretError::VaultConfig(
                    "no Vault address: set [vault] server in config.toml or VAULT_ADDR".to_owned(),
                )
            })?;
        let auth = if let Some(token) = nonempty(&fields.token) {
            VaultAuth::Token(Secret::new(token))
        } else if let Some(role_id) = nonempty(&fields.role_id) {
            let secret_id = nonempty(&fields.secret_id).ok_or_else(|| {
                SecretError::VaultConfig(
                    "[vault] role_id is set but secret_id is missing (AppRole login needs both)"
                        .to_owned(),
                )
            })?;
            VaultAuth::AppRole {
                mount: "approle".to_owned(),
                role_id,
                secret_id: Secret::new(secret_id),
            }
        } else if let Some(role) = nonempty(&fields.kube_auth_role) {
            VaultAuth::Kubernetes {
                mount: nonempty(&fields.kube_auth_mount).unwrap_or_else(|| "kubernetes".to_owned()),
                role,
                jwt_path: env("KUBE_SA_TOKEN_PATH")
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| DEFAULT_KUBE_SA_TOKEN_PATH.to_owned())
                    .into(),
            }
        } else if let Some(token) = env("VAULT_TOKEN").filter(|s| !s.is_empty()) {
            VaultAuth::Token(Secret::new(token))
        } else {
            return Err(SecretError::VaultConfig(format!(
                "no Vault credentials for {server}: tried [vault] token, [vault] role_id + \
                 secret_id (AppRole), [vault] kube_auth_role + kube_auth_mount (Kubernetes) and \
                 the VAULT_TOKEN environment variable"
            )));
        };
        Ok(Self::new(server, auth))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KvVersion {
    V1,
    V2,
}

#[derive(Clone, Debug)]
struct KvMount {
    /// Mount path with trailing slash (`app-sre/`).
    path: String,
    version: KvVersion,
}

impl KvMount {
    fn name(&self) -> &str {
        self.path.trim_end_matches('/')
    }
}

struct Session {
    client: Arc<VaultClient>,
    /// When to log in again / renew (two thirds of the token TTL); `None` = never.
    refresh_at: Option<Instant>,
}

/// Secret path and requested version.
type CacheKey = (String, Option<u64>);

struct CacheEntry {
    data: SecretData,
    fetched: Instant,
}

/// A failed Vault call, classified for retry and error mapping. Never carries a response body.
enum Failure {
    /// HTTP error status with Vault's `errors` messages.
    Status { code: u16, messages: Vec<String> },
    /// The request did not get a response (connection refused, timeout, TLS, broken body).
    Transport(String),
    /// Anything else (unexpected response shape...).
    Other(String),
}

impl Failure {
    fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status { code, .. } => *code >= 500 || *code == 429,
            Self::Other(_) => false,
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Self::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

fn classify(error: &ClientError) -> Failure {
    use vaultrs::error::ClientError as C;
    match error {
        C::APIError { code, errors } => Failure::Status {
            code: *code,
            messages: errors.clone(),
        },
        C::RestClientError { source } => {
            use rustify::errors::ClientError as R;
            match source {
                R::ServerResponseError { code, .. } => Failure::Status {
                    code: *code,
                    messages: Vec::new(),
                },
                R::RequestError { .. } | R::ResponseError { .. } => {
                    Failure::Transport(error_chain(source))
                }
                other => Failure::Other(error_chain(other)),
            }
        }
        other => Failure::Other(error_chain(other)),
    }
}

#[derive(Deserialize)]
struct UiMountsResponse {
    data: UiMount,
}

#[derive(Deserialize)]
struct UiMount {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    options: Option<HashMap<String, String>>,
}

#[derive(Deserialize, Default)]
struct VaultErrors {
    #[serde(default)]
    errors: Vec<String>,
}

/// Reads secrets from Vault. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct VaultSecretReader {
    settings: VaultSettings,
    session: tokio::sync::RwLock<Session>,
    login_lock: tokio::sync::Mutex<()>,
    mounts: std::sync::Mutex<Vec<KvMount>>,
    cache: std::sync::Mutex<HashMap<CacheKey, CacheEntry>>,
    /// One lock per (path, version): concurrent reads of the same secret wait for one fetch.
    in_flight: std::sync::Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>,
    logins: AtomicU64,
    vault_reads: AtomicU64,
    /// "Now" for the token refresh deadline and the unpinned-cache TTL.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for VaultSecretReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSecretReader")
            .field("server", &self.settings.server)
            .field("auth", &self.settings.auth.describe())
            .finish_non_exhaustive()
    }
}

impl VaultSecretReader {
    /// Logs in to Vault (or validates the token) and returns the reader. Fails with
    /// [`SecretError::Login`] / [`SecretError::Unreachable`] if Vault rejects the credentials or
    /// cannot be reached.
    pub async fn connect(settings: VaultSettings) -> Result<Self, SecretError> {
        Self::connect_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Self::connect`] with the clock that decides when the token is refreshed (two thirds
    /// of its TTL after the login) and when unpinned cache entries expire: tests drive a
    /// [`crate::ManualClock`] past those deadlines instead of sleeping.
    pub async fn connect_with_clock(
        settings: VaultSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SecretError> {
        let session = new_session(&settings, clock.as_ref()).await?;
        Ok(Self {
            settings,
            session: tokio::sync::RwLock::new(session),
            login_lock: tokio::sync::Mutex::new(()),
            mounts: std::sync::Mutex::new(Vec::new()),
            cache: std::sync::Mutex::new(HashMap::new()),
            in_flight: std::sync::Mutex::new(HashMap::new()),
            logins: AtomicU64::new(1),
            vault_reads: AtomicU64::new(0),
            clock,
        })
    }

    /// The settings this reader was built with.
    pub fn settings(&self) -> &VaultSettings {
        &self.settings
    }

    /// How many times this reader logged in (or renewed its token), the first login included.
    pub fn login_count(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// How many secret reads went to Vault (cache misses).
    pub fn vault_read_count(&self) -> u64 {
        self.vault_reads.load(Ordering::Relaxed)
    }

    /// Drops every cached secret (mount detection stays cached).
    pub fn clear_cache(&self) {
        lock(&self.cache).clear();
    }

    /// The client to use now, logging in again first when the token is about to expire.
    async fn client(&self) -> Result<Arc<VaultClient>, SecretError> {
        {
            let session = self.session.read().await;
            if session.refresh_at.is_none_or(|at| self.clock.now() < at) {
                return Ok(session.client.clone());
            }
        }
        let _login = self.login_lock.lock().await;
        {
            let session = self.session.read().await;
            if session.refresh_at.is_none_or(|at| self.clock.now() < at) {
                return Ok(session.client.clone());
            }
        }
        let refreshed = match &self.settings.auth {
            VaultAuth::Token(_) => {
                let current = self.session.read().await.client.clone();
                renew_token(&self.settings, current, self.clock.as_ref()).await
            }
            _ => new_session(&self.settings, self.clock.as_ref()).await?,
        };
        tracing::info!(server = %self.settings.server, auth = %self.settings.auth.describe(),
            "renewed Vault token before expiry");
        self.logins.fetch_add(1, Ordering::Relaxed);
        let client = refreshed.client.clone();
        *self.session.write().await = refreshed;
        Ok(client)
    }

    /// Whether Vault rejects the current token itself (as opposed to a policy denying a path).
    async fn token_revoked(&self) -> bool {
        let client = self.session.read().await.client.clone();
        match vaultrs::token::lookup_self(client.as_ref()).await {
            Ok(_) => false,
            Err(e) => classify(&e).status() == Some(403),
        }
    }

    /// Logs in again now (unless another task just did).
    async fn relogin(&self) -> Result<(), SecretError> {
        let before = self.session.read().await.client.clone();
        let _login = self.login_lock.lock().await;
        if !Arc::ptr_eq(&before, &self.session.read().await.client) {
            return Ok(());
        }
        let session = new_session(&self.settings, self.clock.as_ref()).await?;
        tracing::info!(server = %self.settings.server, auth = %self.settings.auth.describe(),
            "Vault token no longer valid; logged in again");
        self.logins.fetch_add(1, Ordering::Relaxed);
        *self.session.write().await = session;
        Ok(())
    }

    fn failure_error(
        &self,
        failure: Failure,
        attempts: u32,
        path: &str,
        action: String,
    ) -> SecretError {
        let server = self.settings.server.clone();
        match failure {
            Failure::Status {
                code: 403,
                messages,
            } => SecretError::Forbidden {
                path: path.to_owned(),
                server,
                detail: if messages.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": {}",
                        messages
                            .join("; ")
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                },
            },
            Failure::Status { code, messages } => SecretError::Vault {
                server,
                action,
                status: code,
                reason: if messages.is_empty() {
                    "no error message".to_owned()
                } else {
                    messages.join("; ")
                },
            },
            Failure::Transport(reason) => SecretError::Unreachable {
                server,
                action,
                attempts,
                reason,
            },
            Failure::Other(reason) => SecretError::Vault {
                server,
                action,
                status: 0,
                reason,
            },
        }
    }

    /// The KV mount holding `path`, detected once per mount via `sys/internal/ui/mounts`.
    async fn mount_for(&self, path: &str) -> Result<KvMount, SecretError> {
        if let Some(mount) = lock(&self.mounts)
            .iter()
            .find(|m| path.starts_with(&m.path) || format!("{path}/") == m.path)
        {
            return Ok(mount.clone());
        }
        let client = self.client().await?;
        let url = format!(
            "{}/v1/sys/internal/ui/mounts/{}",
            self.settings.server.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let token = client.settings().token.clone();
        let http = client.http().http.clone();
        let result = retry(&self.settings.retry, || {
            let request = http
                .get(&url)
                .header("X-Vault-Token", token.as_str())
                .header("X-Vault-Request", "true");
            async move {
                let response = request
                    .send()
                    .await
                    .map_err(|e| Failure::Transport(error_chain(&e)))?;
                let status = response.status().as_u16();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| Failure::Transport(error_chain(&e)))?;
                if !(200..300).contains(&status) {
                    let errors: VaultErrors = serde_json::from_slice(&body).unwrap_or_default();
                    return Err(Failure::Status {
                        code: status,
                        messages: errors.errors,
                    });
                }
                serde_json::from_slice::<UiMountsResponse>(&body).map_err(|e| {
                    Failure::Other(format!("unexpected sys/internal/ui/mounts response: {e}"))
                })
            }
        })
        .await;
        let action = format!("detecting the KV mount of secret {path}");
        let response = match result {
            Ok(r) => r.data,
            Err((failure, _)) if matches!(failure.status(), Some(400 | 404)) => {
                return Err(SecretError::NotKv {
                    path: path.to_owned(),
                    server: self.settings.server.clone(),
                    detail: "no secrets engine is mounted there".to_owned(),
                });
            }
            Err((failure, attempts)) => {
                return Err(self.failure_error(failure, attempts, path, action));
            }
        };
        let version = match response.kind.as_str() {
            "kv" | "generic" => {
                match response
                    .options
                    .as_ref()
                    .and_then(|o| o.get("version"))
                    .map(String::as_str)
                {
                    Some("2") => KvVersion::V2,
                    _ => KvVersion::V1,
                }
            }
            other => {
                return Err(SecretError::NotKv {
                    path: path.to_owned(),
                    server: self.settings.server.clone(),
                    detail: format!("mount {} is of type {other}", response.path),
                });
            }
        };
        let mount = KvMount {
            path: if response.path.ends_with('/') {
                response.path
            } else {
                format!("{}/", response.path)
            },
            version,
        };
        tracing::debug!(mount = %mount.path, kv_version = ?mount.version, "detected Vault KV mount");
        lock(&self.mounts).push(mount.clone());
        Ok(mount)
    }

    fn cached(&self, path: &str, version: Option<u64>) -> Option<SecretData> {
        let cache = lock(&self.cache);
        let entry = cache.get(&(path.to_owned(), version))?;
        if version.is_none()
            && self
                .settings
                .unpinned_cache_ttl
                .is_some_and(|ttl| self.clock.now().saturating_duration_since(entry.fetched) >= ttl)
        {
            return None;
        }
        Some(entry.data.clone())
    }

    async fn read_all_cached(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<SecretData, SecretError> {
        if let Some(data) = self.cached(path, version) {
            tracing::trace!(path, version, "secret served from cache");
            return Ok(data);
        }
        let key_lock = lock(&self.in_flight)
            .entry((path.to_owned(), version))
            .or_default()
            .clone();
        let _fetching = key_lock.lock().await;
        // Another task may have fetched it while this one waited.
        if let Some(data) = self.cached(path, version) {
            tracing::trace!(path, version, "secret served from cache");
            return Ok(data);
        }
        let data = match self.fetch(path, version).await {
            Err(SecretError::Forbidden { .. })
                if !matches!(self.settings.auth, VaultAuth::Token(_))
                    && self.token_revoked().await =>
            {
                // The token was revoked or expired behind our back (Vault restarted, leases
                // revoked, machine slept past the TTL): log in again once and retry.
                self.relogin().await?;
                self.fetch(path, version).await?
            }
            other => other?,
        };
        let now = self.clock.now();
        let mut cache = lock(&self.cache);
        cache.insert(
            (path.to_owned(), version),
            CacheEntry {
                data: data.clone(),
                fetched: now,
            },
        );
        if version.is_none()
            && let Some(v) = data.version
        {
            cache.insert(
                (path.to_owned(), Some(v)),
                CacheEntry {
                    data: data.clone(),
                    fetched: now,
                },
            );
        }
        Ok(data)
    }

    async fn fetch(&self, path: &str, version: Option<u64>) -> Result<SecretData, SecretError> {
        let mount = self.mount_for(path).await?;
        let relative = path
            .strip_prefix(&mount.path)
            .unwrap_or("")
            .trim_matches('/')
            .to_owned();
        if relative.is_empty() {
            return Err(SecretError::SecretNotFound {
                path: path.to_owned(),
                backend: format!(
                    "vault {}: the path is a mount, not a secret",
                    self.settings.server
                ),
            });
        }
        let client = self.client().await?;
        self.vault_reads.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(path, version, kv_version = ?mount.version, "reading secret from Vault");
        let action = format!("reading secret {path} ({})", VersionLabel(version));
        match mount.version {
            KvVersion::V1 => {
                if version.is_some() {
                    tracing::debug!(path, "KV v1 mount: the requested version is ignored");
                }
                let result = retry(&self.settings.retry, || async {
                    vaultrs::kv1::get::<serde_json::Map<String, serde_json::Value>>(
                        client.as_ref(),
                        mount.name(),
                        &relative,
                    )
                    .await
                    .map_err(|e| classify(&e))
                })
                .await;
                match result {
                    Ok(map) => Ok(SecretData {
                        version: None,
                        fields: to_fields(map),
                    }),
                    Err((failure, _)) if failure.status() == Some(404) => Err(self.not_found(path)),
                    Err((failure, attempts)) => {
                        Err(self.failure_error(failure, attempts, path, action))
                    }
                }
            }
            KvVersion::V2 => {
                let result = retry(&self.settings.retry, || async {
                    let endpoint = vaultrs::api::kv2::requests::ReadSecretRequest::builder()
                        .mount(mount.name())
                        .path(relative.as_str())
                        .version(version)
                        .build()
                        .map_err(|e| Failure::Other(e.to_string()))?;
                    vaultrs::api::exec_with_result(client.as_ref(), endpoint)
                        .await
                        .map_err(|e| classify(&e))
                })
                .await;
                match result {
                    Ok(response) => {
                        let fields = match response.data {
                            serde_json::Value::Object(map) => to_fields(map),
                            _ => BTreeMap::new(),
                        };
                        Ok(SecretData {
                            version: Some(response.metadata.version),
                            fields,
                        })
                    }
                    Err((failure, _)) if failure.status() == Some(404) => Err(self
                        .missing_v2(&client, &mount, &relative, path, version)
                        .await),
                    Err((failure, attempts)) => {
                        Err(self.failure_error(failure, attempts, path, action))
                    }
                }
            }
        }
    }

    fn not_found(&self, path: &str) -> SecretError {
        SecretError::SecretNotFound {
            path: path.to_owned(),
            backend: format!("vault {}", self.settings.server),
        }
    }

    /// Tells "no such secret" from "no such version" after a KV v2 404 by reading the metadata.
    async fn missing_v2(
        &self,
        client: &VaultClient,
        mount: &KvMount,
        relative: &str,
        path: &str,
        version: Option<u64>,
    ) -> SecretError {
        let metadata = match vaultrs::kv2::read_metadata(client, mount.name(), relative).await {
            Ok(m) => m,
            Err(_) => return self.not_found(path),
        };
        let wanted = version.unwrap_or(metadata.current_version);
        let detail = match metadata.versions.get(&wanted.to_string()) {
            Some(v) if v.destroyed => {
                format!("destroyed; current version is {}", metadata.current_version)
            }
            Some(v) if !v.deletion_time.is_empty() => {
                format!("deleted; current version is {}", metadata.current_version)
            }
            _ => format!(
                "versions {}..={} exist, current is {}",
                metadata.oldest_version.max(1),
                metadata.current_version,
                metadata.current_version
            ),
        };
        SecretError::VersionNotFound {
            path: path.to_owned(),
            version: wanted,
            detail,
        }
    }
}

fn to_fields(map: serde_json::Map<String, serde_json::Value>) -> BTreeMap<String, Secret> {
    map.into_iter()
        .map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, Secret::new(value))
        })
        .collect()
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `op` until it succeeds, fails permanently, or `policy.attempts` are used up. Returns the
/// last failure and the number of attempts made.
async fn retry<T, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, (Failure, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let attempts = policy.attempts.max(1);
    let mut backoff = policy.initial_backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Ok(value) => return Ok(value),
            Err(failure) if failure.is_transient() && attempt < attempts => {
                tracing::warn!(
                    attempt,
                    attempts,
                    status = failure.status(),
                    "transient Vault failure, retrying in {backoff:?}"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(policy.max_backoff);
            }
            Err(failure) => return Err((failure, attempt)),
        }
    }
}

fn build_client(settings: &VaultSettings, token: &str) -> Result<VaultClient, SecretError> {
    let config = VaultClientSettingsBuilder::default()
        .address(settings.server.as_str())
        .token(token)
        .timeout(Some(settings.request_timeout))
        .build()
        .map_err(|e| {
            SecretError::VaultConfig(format!("invalid Vault address {}: {e}", settings.server))
        })?;
    VaultClient::new(config).map_err(|e| {
        SecretError::VaultConfig(format!(
            "cannot build the HTTP client for Vault {}: {}",
            settings.server,
            error_chain(&e)
        ))
    })
}

/// Two thirds of the TTL from `now`; `None` for non-expiring tokens.
fn refresh_deadline(now: Instant, ttl_seconds: u64) -> Option<Instant> {
    (ttl_seconds > 0).then(|| now + Duration::from_millis(ttl_seconds * 2000 / 3))
}

async fn new_session(settings: &VaultSettings, clock: &dyn Clock) -> Result<Session, SecretError> {
    let method = settings.auth.describe();
    let login_error = |failure: Failure, attempts: u32| match failure {
        Failure::Transport(reason) => SecretError::Unreachable {
            server: settings.server.clone(),
            action: format!("logging in with {method}"),
            attempts,
            reason,
        },
        Failure::Status { code, messages } => SecretError::Login {
            server: settings.server.clone(),
            method: method.clone(),
            reason: if messages.is_empty() {
                format!("HTTP {code}")
            } else {
                format!("HTTP {code}: {}", messages.join("; "))
            },
        },
        Failure::Other(reason) => SecretError::Login {
            server: settings.server.clone(),
            method: method.clone(),
            reason,
        },
    };
    match &settings.auth {
        VaultAuth::Token(token) => {
            let client = build_client(settings, token.expose())?;
            let lookup = retry(&settings.retry, || async {
                vaultrs::token::lookup_self(&client)
                    .await
                    .map_err(|e| classify(&e))
            })
            .await
            .map_err(|(f, n)| login_error(f, n))?;
            let refresh_at = if lookup.renewable.unwrap_or(false) {
                refresh_deadline(clock.now(), lookup.ttl)
            } else {
                None
            };
            tracing::debug!(server = %settings.server, ttl = lookup.ttl, "Vault token accepted");
            Ok(Session {
                client: Arc::new(client),
                refresh_at,
            })
        }
        VaultAuth::AppRole {
            mount,
            role_id,
            secret_id,
        } => {
            let mut client = build_client(settings, "")?;
            let auth = retry(&settings.retry, || async {
                vaultrs::auth::approle::login(&client, mount, role_id, secret_id.expose())
                    .await
                    .map_err(|e| classify(&e))
            })
            .await
            .map_err(|(f, n)| login_error(f, n))?;
            client.set_token(&auth.client_token);
            tracing::debug!(server = %settings.server, ttl = auth.lease_duration, "Vault AppRole login succeeded");
            Ok(Session {
                client: Arc::new(client),
                refresh_at: refresh_deadline(clock.now(), auth.lease_duration),
            })
        }
        VaultAuth::Kubernetes {
            mount,
            role,
            jwt_path,
        } => {
            let jwt =
                tokio::fs::read_to_string(jwt_path)
                    .await
                    .map_err(|e| SecretError::Login {
                        server: settings.server.clone(),
                        method: method.clone(),
                        reason: format!(
                            "cannot read the service-account token {}: {e}",
                            jwt_path.display()
                        ),
                    })?;
            let mut client = build_client(settings, "")?;
            let auth = retry(&settings.retry, || async {
                vaultrs::auth::kubernetes::login(&client, mount, role, jwt.trim())
                    .await
                    .map_err(|e| classify(&e))
            })
            .await
            .map_err(|(f, n)| login_error(f, n))?;
            client.set_token(&auth.client_token);
            tracing::debug!(server = %settings.server, ttl = auth.lease_duration, "Vault Kubernetes login succeeded");
            Ok(Session {
                client: Arc::new(client),
                refresh_at: refresh_deadline(clock.now(), auth.lease_duration),
            })
        }
    }
}

/// Renews a static token; on failure keeps using it (and stops trying) with a warning.
async fn renew_token(
    settings: &VaultSettings,
    client: Arc<VaultClient>,
    clock: &dyn Clock,
) -> Session {
    match vaultrs::token::renew_self(client.as_ref(), None).await {
        Ok(auth) => Session {
            client,
            refresh_at: refresh_deadline(clock.now(), auth.lease_duration),
        },
        Err(e) => {
            tracing::warn!(server = %settings.server, error = %error_chain(&e),
                "cannot renew the Vault token; it will expire");
            Session {
                client,
                refresh_at: None,
            }
        }
    }
}

impl SecretReader for VaultSecretReader {
    fn read<'a>(&'a self, secret: &'a VaultSecret) -> SecretFuture<'a, Secret> {
        Box::pin(async move {
            let data = self.read_all_cached(&secret.path, secret.version).await?;
            let raw = data
                .get(&secret.field)
                .ok_or_else(|| SecretError::FieldNotFound {
                    path: secret.path.clone(),
                    field: secret.field.clone(),
                    version: data.version.or(secret.version),
                })?;
            apply_format(raw, secret, data.version)
        })
    }

    fn read_all<'a>(&'a self, path: &'a str, version: Option<u64>) -> SecretFuture<'a, SecretData> {
        Box::pin(self.read_all_cached(path, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn settings_pick_auth_in_documented_order() {
        let fields = VaultConfigFields {
            server: Some("https://vault.example".into()),
            role_id: Some("role".into()),
            secret_id: Some("sid".into()),
            kube_auth_role: Some("kr".into()),
            ..Default::default()
        };
        let s = VaultSettings::from_config(&fields, env_of(&[("VAULT_TOKEN", "t")])).unwrap();
        assert!(matches!(s.auth, VaultAuth::AppRole { ref role_id, .. } if role_id == "role"));

        let kube = VaultConfigFields {
            server: Some("https://vault.example".into()),
            kube_auth_role: Some("kr".into()),
            ..Default::default()
        };
        let s = VaultSettings::from_config(&kube, env_of(&[("KUBE_SA_TOKEN_PATH", "/tmp/jwt")]))
            .unwrap();
        match s.auth {
            VaultAuth::Kubernetes {
                mount,
                role,
                jwt_path,
            } => {
                assert_eq!((mount.as_str(), role.as_str()), ("kubernetes", "kr"));
                assert_eq!(jwt_path, PathBuf::from("/tmp/jwt"));
            }
            other => panic!("expected kubernetes auth, got {other:?}"),
        }

        let env_token = VaultConfigFields::default();
        let s = VaultSettings::from_config(
            &env_token,
            env_of(&[
                ("VAULT_ADDR", "http://127.0.0.1:8200"),
                ("VAULT_TOKEN", "t"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server, "http://127.0.0.1:8200");
        assert!(matches!(s.auth, VaultAuth::Token(ref t) if t.expose() == "t"));
    }

    #[test]
    fn settings_errors_say_what_was_tried() {
        let err =
            VaultSettings::from_config(&VaultConfigFields::default(), env_of(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Vault settings: no Vault address: set [vault] server in config.toml or VAULT_ADDR"
        );
        let fields = VaultConfigFields {
            server: Some("https://vault.example".into()),
            ..Default::default()
        };
        let err = VaultSettings::from_config(&fields, env_of(&[])).unwrap_err();
        assert!(
            err.to_string()
                .contains("tried [vault] token, [vault] role_id + secret_id"),
            "{err}"
        );
        let fields = VaultConfigFields {
            server: Some("https://vault.example".into()),
            role_id: Some("r".into()),
            ..Default::default()
        };
        let err = VaultSettings::from_config(&fields, env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("secret_id is missing"), "{err}");
    }

    #[test]
    fn debug_output_hides_credentials() {
        let fields = VaultConfigFields {
            server: Some("https://vault.example".into()),
            token: Some("tok-value".into()),
            role_id: Some("role".into()),
            secret_id: Some("sid-value".into()),
            ..Default::default()
        };
        let text = format!("{fields:?}");
        assert!(
            !text.contains("tok-value") && !text.contains("sid-value"),
            "{text}"
        );
        let settings = VaultSettings::from_config(&fields, |_| None).unwrap();
        let text = format!("{settings:?}");
        assert!(!text.contains("tok-value"), "{text}");
    }
}
