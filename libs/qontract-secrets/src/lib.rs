//! Secret reader for qontract-reconcile: reads the `VaultSecret_v1` references found in
//! app-interface either from Vault (KV v1 and v2 mounts, token / AppRole / Kubernetes auth) or
//! from the tables of `config.toml` (for local use without Vault).
//!
//! Everything goes through the [`SecretReader`] trait:
//!
//! * [`VaultSecretReader`] talks to Vault through `vaultrs`. The KV version is detected per mount
//!   (`sys/internal/ui/mounts/<path>`, like the Python hvac client) and cached. Reads are cached
//!   per `(path, version)`; pinned versions never expire, unpinned reads expire after a
//!   configurable TTL (daemon mode); concurrent reads of one secret share one request. The token
//!   is refreshed at two thirds of its TTL (new AppRole/Kubernetes login, or renewal of a static
//!   token), and a token Vault no longer accepts (revoked, expired) triggers one new login.
//!   Those deadlines read an injectable [`Clock`] ([`VaultSecretReader::connect_with_clock`]).
//!   Transient failures (connection errors, 5xx, 429) are retried with bounded backoff; 404 and
//!   403 never are. Auth settings come from [`VaultSettings::from_config`] (`[vault]` table +
//!   environment).
//! * [`ConfigSecretReader`] walks the `config.toml` tables (`[path.to.secret] field = "value"`).
//!
//! Differences from the Python tool (on purpose):
//!
//! * `read` of a field on a KV v2 mount with no version reads the latest version (Python raises
//!   `SecretVersionIsNoneError`).
//! * The config-file backend honours `format: base64` like Vault does (Python ignores it there).
//! * Cached unpinned reads can expire (Python caches them for the life of the process).
//! * Missing secrets/fields/versions fail at once (Python retries every error three times).
//! * The KV version comes from `sys/internal/ui/mounts/<path>`, so mounts deeper than the first
//!   path segment work (Python assumes the mount is the first segment).
//!
//! Secret values are wrapped in [`Secret`], whose `Debug`/`Display` never show the value; no
//! log event or error message of this crate contains a secret value.

mod clock;
mod config_file;
mod error;
mod secret;
mod vault;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config_file::ConfigSecretReader;
pub use error::{SecretError, error_chain};
pub use secret::Secret;
pub use vault::{
    DEFAULT_KUBE_SA_TOKEN_PATH, KvEngine, RetryPolicy, VaultAuth, VaultConfigFields,
    VaultSecretReader, VaultSettings,
};

/// A reference to a secret, the shape of GraphQL `VaultSecret_v1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct VaultSecret {
    /// Path of the secret, starting with the mount (`app-sre/creds/foo`).
    pub path: String,
    /// Field of the secret to read (`"all"` is used by callers of `read_all`, where it is ignored).
    pub field: String,
    /// Pinned KV v2 version; `None` means the latest version.
    #[serde(default)]
    pub version: Option<u64>,
    /// `plain` (default) or `base64` (the value is base64-decoded after reading).
    #[serde(default)]
    pub format: Option<String>,
}

impl VaultSecret {
    /// Builds a reference to `path`/`field`, latest version, plain format.
    pub fn new(path: impl Into<String>, field: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            field: field.into(),
            version: None,
            format: None,
        }
    }

    /// The same reference pinned to `version`.
    #[must_use]
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// The same reference with `format` (`plain` or `base64`).
    #[must_use]
    pub fn with_format(mut self, format: impl Into<String>) -> Self {
        self.format = Some(format.into());
        self
    }
}

/// All fields of one secret, as returned by [`SecretReader::read_all`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretData {
    /// The KV v2 version that was read (`None` on KV v1 and in the config file).
    pub version: Option<u64>,
    /// Field name to value.
    pub fields: BTreeMap<String, Secret>,
}

impl SecretData {
    /// The value of `field`, if present.
    pub fn get(&self, field: &str) -> Option<&Secret> {
        self.fields.get(field)
    }
}

/// A boxed future returned by [`SecretReader`] methods (keeps the trait object-safe).
pub type SecretFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SecretError>> + Send + 'a>>;

/// Reads secrets referenced by app-interface. Implemented by [`VaultSecretReader`] and
/// [`ConfigSecretReader`]; use `&dyn SecretReader` / `Arc<dyn SecretReader>` in callers.
pub trait SecretReader: Send + Sync + std::fmt::Debug {
    /// Reads one field (`secret.field`) at `secret.version`, decoded per `secret.format`.
    fn read<'a>(&'a self, secret: &'a VaultSecret) -> SecretFuture<'a, Secret>;

    /// Reads every field of the secret at `path` (`version` `None` = latest). Values are returned
    /// as stored (no `format` decoding).
    fn read_all<'a>(&'a self, path: &'a str, version: Option<u64>) -> SecretFuture<'a, SecretData>;
}

/// Which backend secrets are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretBackendKind {
    /// Vault (`[vault]` of config.toml).
    Vault,
    /// The tables of config.toml.
    ConfigFile,
}

impl SecretBackendKind {
    /// Chooses the backend like the Python tool: app-interface settings `vault: true|false`,
    /// unless `override_use_vault` (from config / command line) says otherwise.
    pub fn choose(app_interface_vault: bool, override_use_vault: Option<bool>) -> Self {
        if override_use_vault.unwrap_or(app_interface_vault) {
            Self::Vault
        } else {
            Self::ConfigFile
        }
    }
}

/// Builds the secret reader for `kind`: Vault (logs in now, so bad credentials fail early) or
/// the config-file tables.
pub async fn create_secret_reader(
    kind: SecretBackendKind,
    vault: Option<VaultSettings>,
    config_tables: toml::Table,
) -> Result<Arc<dyn SecretReader>, SecretError> {
    match kind {
        SecretBackendKind::Vault => {
            let settings = vault.ok_or_else(|| {
                SecretError::VaultConfig(
                    "app-interface settings select Vault (vault: true) but config.toml has no \
                     [vault] section with server and credentials"
                        .to_owned(),
                )
            })?;
            Ok(Arc::new(VaultSecretReader::connect(settings).await?))
        }
        SecretBackendKind::ConfigFile => Ok(Arc::new(ConfigSecretReader::new(config_tables))),
    }
}

/// Applies `format` to a raw value read from `path`/`field`.
pub(crate) fn apply_format(
    raw: &Secret,
    secret: &VaultSecret,
    version: Option<u64>,
) -> Result<Secret, SecretError> {
    match secret.format.as_deref() {
        None | Some("plain") | Some("") => Ok(raw.clone()),
        Some("base64") => {
            use base64::Engine as _;
            let compact: String = raw
                .expose()
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| SecretError::Decode {
                    path: secret.path.clone(),
                    field: secret.field.clone(),
                    version,
                    reason: "value is not valid base64",
                })?;
            let text = String::from_utf8(bytes).map_err(|_| SecretError::Decode {
                path: secret.path.clone(),
                field: secret.field.clone(),
                version,
                reason: "base64-decoded value is not UTF-8",
            })?;
            Ok(Secret::new(text))
        }
        Some(other) => Err(SecretError::UnsupportedFormat {
            path: secret.path.clone(),
            field: secret.field.clone(),
            format: other.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_choice_follows_settings_unless_overridden() {
        assert_eq!(
            SecretBackendKind::choose(true, None),
            SecretBackendKind::Vault
        );
        assert_eq!(
            SecretBackendKind::choose(false, None),
            SecretBackendKind::ConfigFile
        );
        assert_eq!(
            SecretBackendKind::choose(true, Some(false)),
            SecretBackendKind::ConfigFile
        );
        assert_eq!(
            SecretBackendKind::choose(false, Some(true)),
            SecretBackendKind::Vault
        );
    }

    #[test]
    fn base64_format_is_decoded_and_bad_input_is_an_error() {
        let secret = VaultSecret::new("a/b", "f").with_format("base64");
        let decoded = apply_format(&Secret::new("aGVsbG8g\nd29ybGQ="), &secret, Some(2)).unwrap();
        assert_eq!(decoded.expose(), "hello world");
        let err = apply_format(&Secret::new("not base64!"), &secret, Some(2)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot decode field f of secret a/b (version 2): value is not valid base64"
        );
        let plain = apply_format(&Secret::new("x"), &VaultSecret::new("a", "f"), None).unwrap();
        assert_eq!(plain.expose(), "x");
        let err = apply_format(
            &Secret::new("x"),
            &VaultSecret::new("a", "f").with_format("hex"),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, SecretError::UnsupportedFormat { .. }),
            "{err}"
        );
    }
}
