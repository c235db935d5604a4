//! Writes and listings on KV mounts, for integrations that manage Vault content (upstream
//! `VaultClient.write`, `list`, `list_all` of `reconcile/utils/vault.py`), plus uncached reads.
//!
//! These are methods of [`VaultSecretReader`] so they share its login, token refresh, mount
//! detection and retries. A write drops the cached latest-version read of its path, so a later
//! read through the [`crate::SecretReader`] trait sees the new data.

use std::collections::BTreeMap;

use super::{KvVersion, VaultSecretReader, classify, lock, retry};
use crate::{Secret, SecretData, SecretError};

/// The KV engine version of a mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvEngine {
    /// KV v1: one unversioned value per path.
    V1,
    /// KV v2: versioned values.
    V2,
}

impl VaultSecretReader {
    /// The KV engine version of the mount holding `path` (detected once per mount).
    pub async fn kv_engine(&self, path: &str) -> Result<KvEngine, SecretError> {
        Ok(match self.mount_for(path).await?.version {
            KvVersion::V1 => KvEngine::V1,
            KvVersion::V2 => KvEngine::V2,
        })
    }

    /// Reads every field of `path` at `version` (`None` = latest) from Vault, bypassing the
    /// cache. Errors as [`crate::SecretReader::read_all`]: [`SecretError::SecretNotFound`] when
    /// nothing is stored at the path, [`SecretError::VersionNotFound`] when a KV v2 secret exists
    /// but not at that version (deleted, destroyed or pruned).
    pub async fn read_all_uncached(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<SecretData, SecretError> {
        self.fetch(path, version).await
    }

    /// Writes `fields` as the whole content of `path`: on KV v1 it replaces the value, on KV v2
    /// it always creates a new version, even when the data equals the latest one (upstream
    /// `VaultClient.write(..., force=True)`). Returns the version created (`None` on KV v1).
    pub async fn write_all(
        &self,
        path: &str,
        fields: &BTreeMap<String, Secret>,
    ) -> Result<Option<u64>, SecretError> {
        let mount = self.mount_for(path).await?;
        let relative = relative_path(path, &mount.path);
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
        let data: BTreeMap<&str, &str> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        let action = format!("writing secret {path}");
        tracing::debug!(path, kv_version = ?mount.version, "writing secret to Vault");
        let result = match mount.version {
            KvVersion::V1 => {
                let data: std::collections::HashMap<&str, &str> =
                    data.iter().map(|(k, v)| (*k, *v)).collect();
                retry(&self.settings.retry, || async {
                    vaultrs::kv1::set(client.as_ref(), mount.name(), &relative, &data)
                        .await
                        .map_err(|e| classify(&e))
                })
                .await
                .map(|()| None)
            }
            KvVersion::V2 => retry(&self.settings.retry, || async {
                vaultrs::kv2::set(client.as_ref(), mount.name(), &relative, &data)
                    .await
                    .map_err(|e| classify(&e))
            })
            .await
            .map(|metadata| Some(metadata.version)),
        };
        lock(&self.cache).remove(&(path.to_owned(), None));
        result.map_err(|(failure, attempts)| self.failure_error(failure, attempts, path, action))
    }

    /// The keys directly under the folder `path` (sub-folders end with `/`); empty when the
    /// folder does not exist (upstream `VaultClient.list`).
    pub async fn list(&self, path: &str) -> Result<Vec<String>, SecretError> {
        let mount = self.mount_for(path).await?;
        let relative = relative_path(path, &mount.path);
        let client = self.client().await?;
        let action = format!("listing {path}");
        let result = match mount.version {
            KvVersion::V1 => {
                retry(&self.settings.retry, || async {
                    vaultrs::kv1::list(client.as_ref(), mount.name(), &relative)
                        .await
                        .map(|r| r.data.keys)
                        .map_err(|e| classify(&e))
                })
                .await
            }
            KvVersion::V2 => {
                retry(&self.settings.retry, || async {
                    vaultrs::kv2::list(client.as_ref(), mount.name(), &relative)
                        .await
                        .map_err(|e| classify(&e))
                })
                .await
            }
        };
        match result {
            Ok(keys) => Ok(keys),
            Err((failure, _)) if failure.status() == Some(404) => Ok(Vec::new()),
            Err((failure, attempts)) => Err(self.failure_error(failure, attempts, path, action)),
        }
    }

    /// Every secret under the folder `path` and its sub-folders, as full paths
    /// (`<path><key>`, so `path` should end with `/`), like upstream `VaultClient.list_all`.
    pub async fn list_all(&self, path: &str) -> Result<Vec<String>, SecretError> {
        let mut secrets = Vec::new();
        let mut folders = vec![path.to_owned()];
        while let Some(folder) = folders.pop() {
            for key in self.list(&folder).await? {
                let full = format!("{folder}{key}");
                if key.ends_with('/') {
                    folders.push(full);
                } else {
                    secrets.push(full);
                }
            }
        }
        secrets.sort();
        Ok(secrets)
    }
}

/// `path` relative to its mount, without surrounding slashes (empty for the mount itself).
fn relative_path(path: &str, mount: &str) -> String {
    path.strip_prefix(mount)
        .unwrap_or("")
        .trim_matches('/')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_drop_the_mount_and_slashes() {
        assert_eq!(relative_path("secret/a/b", "secret/"), "a/b");
        assert_eq!(relative_path("secret/a/", "secret/"), "a");
        assert_eq!(relative_path("secret/", "secret/"), "");
        assert_eq!(relative_path("team/kv/x", "team/kv/"), "x");
    }
}
