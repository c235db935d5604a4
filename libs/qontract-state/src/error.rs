//! Errors of the state store. Each names the key and the store (`s3://bucket/state/<integration>`
//! or `fs:<dir>/state/<integration>`).

/// An error of the state store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// `get`/`rm` of a key that does not exist.
    #[error("state key {key} not found in {store}")]
    KeyNotFound {
        /// The key.
        key: String,
        /// The store.
        store: String,
    },
    /// `add` without `force` of a key that exists.
    #[error("state key {key} already exists in {store} (use force to overwrite)")]
    KeyExists {
        /// The key.
        key: String,
        /// The store.
        store: String,
    },
    /// A transaction lost a race: the key changed (or appeared / disappeared) since it was read.
    #[error(
        "state key {key} in {store} was changed by another writer since the transaction read it; \
         nothing was written"
    )]
    Conflict {
        /// The key.
        key: String,
        /// The store.
        store: String,
    },
    /// The key cannot be used as an object name.
    #[error("invalid state key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The stored object is not valid JSON or not of the requested type.
    #[error("state key {key} in {store} holds an unreadable value: {reason}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The store.
        store: String,
        /// The parse error.
        reason: String,
    },
    /// The value to store cannot be serialized to JSON.
    #[error("cannot serialize the value for state key {key}: {reason}")]
    Serialize {
        /// The key.
        key: String,
        /// The serde error.
        reason: String,
    },
    /// The store failed (unreachable, bad credentials, missing bucket, I/O error).
    #[error("state store {store} inaccessible while {action}: {reason}")]
    Inaccessible {
        /// The store.
        store: String,
        /// What was being done (names the key).
        action: String,
        /// The underlying error.
        reason: String,
    },
    /// No usable state settings.
    #[error("state store not configured: {reason}; settings tried: {}", tried.join("; "))]
    NotConfigured {
        /// What is wrong.
        reason: String,
        /// Every option that was looked at, in order.
        tried: Vec<String>,
    },
}
