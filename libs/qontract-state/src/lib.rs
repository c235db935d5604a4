//! Persistent state of qontract-reconcile integrations, like the Python `State`
//! (`reconcile/utils/state.py`): JSON values under `state/<integration>/<key>` in an S3 bucket
//! (or any S3-compatible server) or, when no bucket is configured, in a local directory.
//!
//! * [`resolve_state_backend`] picks the backend from the same environment chain as the Python
//!   tool (see its docs), reading credential secrets through a
//!   [`qontract_secrets::SecretReader`].
//! * [`State`] offers `exists`, `head`, `ls`, `get`/`get_or`, `add` (refuses to overwrite unless
//!   forced), `set`, `rm`, `get_all` and [`State::transaction`].
//! * Values are written as Python `json_dumps` writes them (sorted keys, `", "`/`": "`).
//!
//! Differences from the Python tool (on purpose):
//!
//! * `add` without `force` is atomic (conditional create), not check-then-put.
//! * A [`Transaction`] commits with a conditional write (S3 `If-Match` / `If-None-Match`, a lock
//!   file on the filesystem backend): when another writer changed the key in between, the commit
//!   fails with [`StateError::Conflict`] instead of silently overwriting.
//! * A stored value that is not valid JSON is an error ([`StateError::InvalidValue`]), also for
//!   `get_or` (Python returns the default, hiding corruption).

mod error;
mod json;
mod settings;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, ClientOptions, ObjectStore, ObjectStoreExt as _,
    PutMode, PutOptions, PutPayload, RetryConfig, UpdateVersion,
};
use qontract_secrets::error_chain;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::StateError;
pub use json::to_python_json;
pub use settings::{
    AppInterfaceStateSettings, DEFAULT_STATE_DIR, ENV_ACCESS_KEY_ID, ENV_ACCOUNT, ENV_AWS_PROFILE,
    ENV_BUCKET, ENV_ENDPOINT, ENV_REGION, ENV_SECRET_ACCESS_KEY, ENV_STATE_DIR, ENV_VAULT_SECRET,
    ENV_VAULT_SECRET_VERSION, S3Settings, StateBackendConfig, StateSettingsSources,
    resolve_state_backend,
};

/// Name of the lock file serializing writers of the filesystem backend (in the root directory).
const FS_LOCK_FILE: &str = ".qontract-state.lock";
/// How many objects `get_all` reads at once.
const GET_ALL_CONCURRENCY: usize = 16;
/// Top-level directory of the filesystem backend holding object metadata (S3 user metadata).
const FS_METADATA_DIR: &str = "metadata";

#[derive(Clone)]
enum Backend {
    S3,
    Fs { root: PathBuf },
}

/// What `head` returns for an existing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// User metadata stored with the value (S3 `x-amz-meta-*`).
    pub metadata: BTreeMap<String, String>,
    /// Size of the stored JSON in bytes.
    pub size: u64,
}

/// The state of one integration.
#[derive(Clone)]
pub struct State {
    integration: String,
    prefix: String,
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    description: String,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("integration", &self.integration)
            .field("store", &self.description)
            .finish()
    }
}

impl State {
    /// Opens the state of `integration` on `backend` and checks that it is accessible (lists the
    /// integration prefix, the equivalent of Python's `head_bucket`).
    pub async fn open(integration: &str, backend: &StateBackendConfig) -> Result<Self, StateError> {
        let prefix = if integration.is_empty() {
            "state".to_owned()
        } else {
            format!("state/{integration}")
        };
        let (store, kind, description): (Arc<dyn ObjectStore>, Backend, String) = match backend {
            StateBackendConfig::S3(s3) => {
                let description = format!(
                    "s3://{}/{prefix} (region {}, endpoint {}, credentials from {})",
                    s3.bucket,
                    s3.region,
                    s3.endpoint.as_deref().unwrap_or("AWS"),
                    s3.source
                );
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(s3.secret_access_key.expose())
                    .with_virtual_hosted_style_request(false)
                    .with_retry(RetryConfig {
                        max_retries: 3,
                        retry_timeout: Duration::from_secs(30),
                        ..RetryConfig::default()
                    })
                    .with_client_options(
                        ClientOptions::new()
                            .with_connect_timeout(Duration::from_secs(5))
                            .with_timeout(Duration::from_secs(60)),
                    );
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let store = builder.build().map_err(|e| StateError::Inaccessible {
                    store: description.clone(),
                    action: "configuring the S3 client".to_owned(),
                    reason: e.to_string(),
                })?;
                (Arc::new(store), Backend::S3, description)
            }
            StateBackendConfig::Fs { root } => {
                let description = format!("fs:{}/{prefix}", root.display());
                std::fs::create_dir_all(root).map_err(|e| StateError::Inaccessible {
                    store: description.clone(),
                    action: format!("creating the state directory {}", root.display()),
                    reason: e.to_string(),
                })?;
                let root = root.canonicalize().map_err(|e| StateError::Inaccessible {
                    store: description.clone(),
                    action: format!("resolving the state directory {}", root.display()),
                    reason: e.to_string(),
                })?;
                let store = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| StateError::Inaccessible {
                        store: description.clone(),
                        action: "opening the state directory".to_owned(),
                        reason: e.to_string(),
                    })?
                    .with_automatic_cleanup(true);
                (Arc::new(store), Backend::Fs { root }, description)
            }
        };
        let state = Self {
            integration: integration.to_owned(),
            prefix,
            store,
            backend: kind,
            description,
        };
        let prefix = ObjectPath::from(state.prefix.as_str());
        state
            .store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| state.inaccessible("checking access to the state store", &e))?;
        tracing::debug!(store = %state.description, "state store opened");
        Ok(state)
    }

    /// The integration this state belongs to.
    pub fn integration(&self) -> &str {
        &self.integration
    }

    /// Human-readable location of the store (used in errors).
    pub fn description(&self) -> &str {
        &self.description
    }

    fn inaccessible(&self, action: &str, error: &object_store::Error) -> StateError {
        StateError::Inaccessible {
            store: self.description.clone(),
            action: action.to_owned(),
            reason: error_chain(error),
        }
    }

    fn location(&self, key: &str) -> Result<ObjectPath, StateError> {
        let trimmed = key.trim_start_matches('/');
        let invalid = |reason: String| StateError::InvalidKey {
            key: key.to_owned(),
            reason,
        };
        if trimmed.is_empty() {
            return Err(invalid("the key is empty".to_owned()));
        }
        ObjectPath::parse(format!("{}/{trimmed}", self.prefix)).map_err(|e| invalid(e.to_string()))
    }

    fn metadata_location(location: &ObjectPath) -> ObjectPath {
        ObjectPath::from_iter(std::iter::once(FS_METADATA_DIR.into()).chain(location.parts()))
    }

    fn key_not_found(&self, key: &str) -> StateError {
        StateError::KeyNotFound {
            key: key.to_owned(),
            store: self.description.clone(),
        }
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, StateError> {
        let location = self.location(key)?;
        match self.store.head(&location).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.inaccessible(&format!("checking whether key {key} exists"), &e)),
        }
    }

    /// Size and user metadata of `key`, `None` if it does not exist.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StateError> {
        let location = self.location(key)?;
        let action = format!("reading metadata of key {key}");
        match &self.backend {
            Backend::S3 => {
                let options = object_store::GetOptions::new().with_head(true);
                match self.store.get_opts(&location, options).await {
                    Ok(result) => {
                        let metadata = result
                            .attributes
                            .iter()
                            .filter_map(|(k, v)| match k {
                                Attribute::Metadata(name) => {
                                    Some((name.to_string(), v.to_string()))
                                }
                                _ => None,
                            })
                            .collect();
                        Ok(Some(ObjectHead {
                            metadata,
                            size: result.meta.size,
                        }))
                    }
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(self.inaccessible(&action, &e)),
                }
            }
            Backend::Fs { .. } => {
                let meta = match self.store.head(&location).await {
                    Ok(meta) => meta,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(self.inaccessible(&action, &e)),
                };
                let metadata = match self.store.get(&Self::metadata_location(&location)).await {
                    Ok(result) => {
                        let bytes = result
                            .bytes()
                            .await
                            .map_err(|e| self.inaccessible(&action, &e))?;
                        serde_json::from_slice(&bytes).map_err(|e| StateError::InvalidValue {
                            key: key.to_owned(),
                            store: self.description.clone(),
                            reason: format!("metadata file is not a JSON string map: {e}"),
                        })?
                    }
                    Err(object_store::Error::NotFound { .. }) => BTreeMap::new(),
                    Err(e) => return Err(self.inaccessible(&action, &e)),
                };
                Ok(Some(ObjectHead {
                    metadata,
                    size: meta.size,
                }))
            }
        }
    }

    /// Every key of this integration, sorted, each starting with `/` (like Python's `ls`).
    pub async fn ls(&self) -> Result<Vec<String>, StateError> {
        let prefix = ObjectPath::from(self.prefix.as_str());
        let objects: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| self.inaccessible("listing keys", &e))?;
        let mut keys: Vec<String> = objects
            .into_iter()
            .filter_map(|o| {
                o.location
                    .as_ref()
                    .strip_prefix(self.prefix.as_str())
                    .filter(|rest| rest.starts_with('/'))
                    .map(str::to_owned)
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn read_raw(&self, key: &str) -> Result<Option<(Value, UpdateVersion)>, StateError> {
        let location = self.location(key)?;
        let action = format!("reading key {key}");
        let result = match self.store.get(&location).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.inaccessible(&action, &e)),
        };
        let version = UpdateVersion {
            e_tag: result.meta.e_tag.clone(),
            version: result.meta.version.clone(),
        };
        let bytes = result
            .bytes()
            .await
            .map_err(|e| self.inaccessible(&action, &e))?;
        let value = serde_json::from_slice(&bytes).map_err(|e| StateError::InvalidValue {
            key: key.to_owned(),
            store: self.description.clone(),
            reason: format!("not valid JSON: {e}"),
        })?;
        Ok(Some((value, version)))
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, value: Value) -> Result<T, StateError> {
        serde_json::from_value(value).map_err(|e| StateError::InvalidValue {
            key: key.to_owned(),
            store: self.description.clone(),
            reason: e.to_string(),
        })
    }

    /// The value of `key`; [`StateError::KeyNotFound`] if absent.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, StateError> {
        match self.read_raw(key).await? {
            Some((value, _)) => self.decode(key, value),
            None => Err(self.key_not_found(key)),
        }
    }

    /// The value of `key`, or `default` if absent.
    pub async fn get_or<T: DeserializeOwned>(
        &self,
        key: &str,
        default: T,
    ) -> Result<T, StateError> {
        match self.read_raw(key).await? {
            Some((value, _)) => self.decode(key, value),
            None => Ok(default),
        }
    }

    /// `{key relative to prefix: value}` for every key under `prefix` (Python `get_all(path)`).
    pub async fn get_all(&self, prefix: &str) -> Result<BTreeMap<String, Value>, StateError> {
        let prefix = prefix.trim_matches('/');
        let start = format!("/{prefix}/");
        let keys: Vec<(String, String)> = self
            .ls()
            .await?
            .into_iter()
            .filter_map(|key| {
                let relative = key.strip_prefix(start.as_str())?.to_owned();
                Some((key, relative))
            })
            .collect();
        futures::stream::iter(keys)
            .map(|(key, relative)| async move {
                Ok::<_, StateError>(
                    self.read_raw(&key)
                        .await?
                        .map(|(value, _)| (relative, value)),
                )
            })
            .buffer_unordered(GET_ALL_CONCURRENCY)
            .try_filter_map(|entry| async move { Ok(entry) })
            .try_collect()
            .await
    }

    fn payload<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<PutPayload, StateError> {
        let value = serde_json::to_value(value).map_err(|e| StateError::Serialize {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(PutPayload::from(to_python_json(&value).into_bytes()))
    }

    /// Writes `value` to `key` (overwriting).
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), StateError> {
        self.write(key, value, &BTreeMap::new(), WriteMode::Overwrite)
            .await
    }

    /// Adds `key`; [`StateError::KeyExists`] if it exists and `force` is false.
    pub async fn add<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        force: bool,
    ) -> Result<(), StateError> {
        self.add_with_metadata(key, value, &BTreeMap::new(), force)
            .await
    }

    /// [`State::add`] with user metadata (see [`State::head`]).
    pub async fn add_with_metadata<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        metadata: &BTreeMap<String, String>,
        force: bool,
    ) -> Result<(), StateError> {
        let mode = if force {
            WriteMode::Overwrite
        } else {
            WriteMode::Create
        };
        self.write(key, value, metadata, mode).await
    }

    /// Deletes `key`; [`StateError::KeyNotFound`] if absent.
    pub async fn rm(&self, key: &str) -> Result<(), StateError> {
        let location = self.location(key)?;
        let action = format!("deleting key {key}");
        let _guard = self.fs_lock().await?;
        match self.store.head(&location).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Err(self.key_not_found(key)),
            Err(e) => return Err(self.inaccessible(&action, &e)),
        }
        self.store
            .delete(&location)
            .await
            .map_err(|e| self.inaccessible(&action, &e))?;
        if let Backend::Fs { .. } = self.backend {
            match self.store.delete(&Self::metadata_location(&location)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.inaccessible(&action, &e)),
            }
        }
        tracing::debug!(key, store = %self.description, "state key deleted");
        Ok(())
    }

    /// Starts a transaction on `key`: reads its current value now; [`Transaction::commit`]
    /// writes only if nobody else changed the key in between.
    pub async fn transaction(&self, key: &str) -> Result<Transaction<'_>, StateError> {
        let current = self.read_raw(key).await?;
        let (stored, version) = match current {
            Some((value, version)) => (Some(value), Some(version)),
            None => (None, None),
        };
        Ok(Transaction {
            state: self,
            key: key.to_owned(),
            value: stored.clone(),
            stored,
            version,
        })
    }

    /// Takes the writer lock of the filesystem backend (no-op on S3).
    async fn fs_lock(&self) -> Result<Option<FsLock>, StateError> {
        let Backend::Fs { root } = &self.backend else {
            return Ok(None);
        };
        let path = root.join(FS_LOCK_FILE);
        let description = self.description.clone();
        tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            file.lock()?;
            Ok::<_, std::io::Error>(FsLock { _file: file })
        })
        .await
        .map_err(|e| StateError::Inaccessible {
            store: description.clone(),
            action: "taking the writer lock".to_owned(),
            reason: e.to_string(),
        })?
        .map(Some)
        .map_err(|e| StateError::Inaccessible {
            store: description,
            action: format!("taking the writer lock {FS_LOCK_FILE}"),
            reason: e.to_string(),
        })
    }

    async fn write<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        metadata: &BTreeMap<String, String>,
        mode: WriteMode,
    ) -> Result<(), StateError> {
        let location = self.location(key)?;
        let payload = Self::payload(key, value)?;
        let action = format!("writing key {key}");
        let conflict = || StateError::Conflict {
            key: key.to_owned(),
            store: self.description.clone(),
        };
        match &self.backend {
            Backend::S3 => {
                let mut attributes = Attributes::new();
                attributes.insert(
                    Attribute::ContentType,
                    AttributeValue::from("application/json"),
                );
                for (k, v) in metadata {
                    attributes.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
                }
                let put_mode = match &mode {
                    WriteMode::Overwrite => PutMode::Overwrite,
                    WriteMode::Create => PutMode::Create,
                    WriteMode::Update(v) => PutMode::Update(v.clone()),
                };
                let options = PutOptions {
                    mode: put_mode,
                    attributes,
                    ..PutOptions::default()
                };
                match self.store.put_opts(&location, payload, options).await {
                    Ok(_) => {}
                    Err(object_store::Error::AlreadyExists { .. }) => {
                        return Err(match mode {
                            WriteMode::Create => StateError::KeyExists {
                                key: key.to_owned(),
                                store: self.description.clone(),
                            },
                            _ => conflict(),
                        });
                    }
                    Err(
                        object_store::Error::Precondition { .. }
                        | object_store::Error::NotFound { .. },
                    ) if matches!(mode, WriteMode::Update(_)) => return Err(conflict()),
                    Err(e) => return Err(self.inaccessible(&action, &e)),
                }
            }
            Backend::Fs { .. } => {
                let _guard = self.fs_lock().await?;
                let current = match self.store.head(&location).await {
                    Ok(meta) => Some(meta),
                    Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => return Err(self.inaccessible(&action, &e)),
                };
                match (&mode, &current) {
                    (WriteMode::Create, Some(_)) => {
                        return Err(StateError::KeyExists {
                            key: key.to_owned(),
                            store: self.description.clone(),
                        });
                    }
                    (WriteMode::Update(expected), Some(meta)) if meta.e_tag != expected.e_tag => {
                        return Err(conflict());
                    }
                    (WriteMode::Update(_), None) => return Err(conflict()),
                    _ => {}
                }
                let metadata_location = Self::metadata_location(&location);
                if metadata.is_empty() {
                    match self.store.delete(&metadata_location).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(self.inaccessible(&action, &e)),
                    }
                } else {
                    let text = serde_json::to_vec(metadata).map_err(|e| StateError::Serialize {
                        key: key.to_owned(),
                        reason: e.to_string(),
                    })?;
                    self.store
                        .put(&metadata_location, PutPayload::from(text))
                        .await
                        .map_err(|e| self.inaccessible(&action, &e))?;
                }
                self.store
                    .put(&location, payload)
                    .await
                    .map_err(|e| self.inaccessible(&action, &e))?;
            }
        }
        tracing::debug!(key, store = %self.description, "state key written");
        Ok(())
    }
}

enum WriteMode {
    Overwrite,
    Create,
    Update(UpdateVersion),
}

/// Holds the exclusive lock on the filesystem backend's lock file until dropped.
struct FsLock {
    _file: std::fs::File,
}

/// A read-modify-write of one key (Python `State.transaction`). Change [`Transaction::value`]
/// (or call [`Transaction::set`]) and [`Transaction::commit`]; dropping it without committing
/// writes nothing (the Python `AbortStateTransactionError`).
#[derive(Debug)]
pub struct Transaction<'a> {
    state: &'a State,
    key: String,
    stored: Option<Value>,
    version: Option<UpdateVersion>,
    /// The value to commit; starts as the stored value (`None` if the key is absent).
    pub value: Option<Value>,
}

impl Transaction<'_> {
    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the key existed when the transaction started.
    pub fn exists(&self) -> bool {
        self.stored.is_some()
    }

    /// The value stored when the transaction started.
    pub fn stored(&self) -> Option<&Value> {
        self.stored.as_ref()
    }

    /// Sets the value to commit.
    pub fn set<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), StateError> {
        self.value = Some(
            serde_json::to_value(value).map_err(|e| StateError::Serialize {
                key: self.key.clone(),
                reason: e.to_string(),
            })?,
        );
        Ok(())
    }

    /// Whether committing would write (the value differs from the stored one).
    pub fn changed(&self) -> bool {
        self.value.is_some() && self.value != self.stored
    }

    /// Writes the value if it changed, only if the key is still as it was read. Returns whether
    /// something was written; [`StateError::Conflict`] if another writer got there first.
    pub async fn commit(self) -> Result<bool, StateError> {
        let Some(value) = self.value.as_ref().filter(|_| self.changed()) else {
            return Ok(false);
        };
        let mode = match self.version.clone() {
            Some(version) => WriteMode::Update(version),
            None => WriteMode::Create,
        };
        match self
            .state
            .write(&self.key, value, &BTreeMap::new(), mode)
            .await
        {
            Ok(()) => Ok(true),
            Err(StateError::KeyExists { key, store }) => Err(StateError::Conflict { key, store }),
            Err(e) => Err(e),
        }
    }
}
