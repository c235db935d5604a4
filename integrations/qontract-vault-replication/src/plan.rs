//! The plan of one secret: what to write on the destination so that it matches the source
//! (upstream `copy_vault_secret`, `deep_copy_versions`, `write_dummy_versions`), and applying it.

use std::collections::BTreeMap;

use qontract_secrets::{KvEngine, Secret, SecretData, SecretError, VaultSecretReader};
use serde::Serialize;

/// Why a secret is replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Nothing is stored at the path on the destination.
    MissingOnDestination,
    /// The destination secret exists (KV v2 metadata) but its latest version is deleted.
    DestinationLatestDeleted,
    /// The destination's latest version is older than the source's.
    DestinationBehind {
        /// Latest version on the destination.
        destination: u64,
        /// Latest version on the source.
        source: u64,
    },
    /// KV v1 on either side and the data differ.
    DataDiffers,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingOnDestination => f.write_str("missing on destination"),
            Self::DestinationLatestDeleted => f.write_str("latest version deleted on destination"),
            Self::DestinationBehind {
                destination,
                source,
            } => write!(
                f,
                "destination at version {destination}, source at version {source}"
            ),
            Self::DataDiffers => f.write_str("data differs (KV v1)"),
        }
    }
}

/// What one write puts on the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteData {
    /// The source's data (of [`PlannedWrite::source_version`]).
    Source(BTreeMap<String, Secret>),
    /// `{"dummy": "data"}`: the source no longer has this version (deleted, destroyed or pruned
    /// beyond `max_versions`), written so that version numbers stay aligned (upstream
    /// `write_dummy_versions`).
    Dummy,
}

/// One write on the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWrite {
    /// The source version replicated (`None`: KV v1 source).
    pub source_version: Option<u64>,
    /// The data written.
    pub data: WriteData,
}

/// The writes that bring one destination secret in line with the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPlan {
    /// Secret path (the same on both Vaults).
    pub path: String,
    /// Why.
    pub reason: Reason,
    /// In order; on a KV v2 destination each creates the next version.
    pub writes: Vec<PlannedWrite>,
}

impl SecretPlan {
    /// A one-line description of the writes (`copy`, `copy versions 3..5 (dummy: 4)`).
    pub fn action(&self) -> String {
        let versions: Vec<u64> = self
            .writes
            .iter()
            .filter_map(|w| w.source_version)
            .collect();
        let dummies: Vec<String> = self
            .writes
            .iter()
            .filter(|w| w.data == WriteData::Dummy)
            .filter_map(|w| w.source_version.map(|v| v.to_string()))
            .collect();
        let mut text = match (versions.first(), versions.last()) {
            (Some(first), Some(last)) if first == last => format!("copy version {first}"),
            (Some(first), Some(last)) => format!("copy versions {first}..{last}"),
            _ => "copy".to_owned(),
        };
        if !dummies.is_empty() {
            text.push_str(&format!(" (dummy: {})", dummies.join(", ")));
        }
        text
    }
}

/// Planning one secret.
#[derive(Debug)]
pub enum Planned {
    /// Writes are needed.
    Replicate(SecretPlan),
    /// Already replicated.
    UpToDate,
    /// Nothing to copy: no secret at the path of a KV v1 source. Upstream logs an error and
    /// carries on without failing the run (on a KV v2 source the same case is an error, as
    /// upstream, where hvac's 404 becomes an uncaught `SecretVersionNotFoundError`).
    SourceMissing,
}

/// Compares `path` on both Vaults (upstream `copy_vault_secret`).
///
/// * Destination missing (or its latest KV v2 version deleted): KV v1 source → one copy; KV v2
///   source → every version from 1 to the source's latest.
/// * KV v1 on either side: one copy when the data differ.
/// * Both KV v2: the versions after the destination's latest, when it is behind; a destination
///   at or ahead of the source is left alone (the data are not compared, as upstream).
pub async fn plan_secret(
    source: &VaultSecretReader,
    dest: &VaultSecretReader,
    path: &str,
) -> Result<Planned, SecretError> {
    let latest = match source.read_all_uncached(path, None).await {
        Ok(data) => data,
        Err(e @ SecretError::SecretNotFound { .. }) => {
            return match source.kv_engine(path).await? {
                KvEngine::V1 => Ok(Planned::SourceMissing),
                KvEngine::V2 => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let (reason, from) = match dest.read_all_uncached(path, None).await {
        Err(SecretError::SecretNotFound { .. }) => (Reason::MissingOnDestination, 1),
        Err(SecretError::VersionNotFound { .. }) => (Reason::DestinationLatestDeleted, 1),
        Err(e) => return Err(e),
        Ok(current) => match (current.version, latest.version) {
            (Some(dv), Some(sv)) if dv < sv => (
                Reason::DestinationBehind {
                    destination: dv,
                    source: sv,
                },
                dv + 1,
            ),
            (Some(_), Some(_)) => return Ok(Planned::UpToDate),
            _ if current.fields == latest.fields => return Ok(Planned::UpToDate),
            _ => {
                return Ok(Planned::Replicate(SecretPlan {
                    path: path.to_owned(),
                    reason: Reason::DataDiffers,
                    writes: vec![source_write(latest)],
                }));
            }
        },
    };
    let writes = match latest.version {
        None => vec![source_write(latest)],
        Some(_) => deep_copy(source, path, from, latest).await?,
    };
    Ok(Planned::Replicate(SecretPlan {
        path: path.to_owned(),
        reason,
        writes,
    }))
}

fn source_write(data: SecretData) -> PlannedWrite {
    PlannedWrite {
        source_version: data.version,
        data: WriteData::Source(data.fields),
    }
}

/// Versions `from..=latest` of a KV v2 source secret; a version the source cannot return any
/// more becomes a dummy write (upstream `deep_copy_versions`).
async fn deep_copy(
    source: &VaultSecretReader,
    path: &str,
    from: u64,
    latest: SecretData,
) -> Result<Vec<PlannedWrite>, SecretError> {
    let last = latest.version.unwrap_or(0);
    let mut writes = Vec::new();
    for version in from..last {
        let data = match source.read_all_uncached(path, Some(version)).await {
            Ok(data) => WriteData::Source(data.fields),
            Err(SecretError::SecretNotFound { .. } | SecretError::VersionNotFound { .. }) => {
                WriteData::Dummy
            }
            Err(e) => return Err(e),
        };
        writes.push(PlannedWrite {
            source_version: Some(version),
            data,
        });
    }
    if from <= last {
        writes.push(source_write(latest));
    }
    Ok(writes)
}

/// Logs each write like upstream (`['replicate_vault_secret', <version>, <path>]`) and, unless
/// `dry_run`, performs it on `dest`.
pub async fn apply(
    dest: &VaultSecretReader,
    plan: &SecretPlan,
    dry_run: bool,
) -> Result<(), SecretError> {
    static DUMMY: std::sync::LazyLock<BTreeMap<String, Secret>> =
        std::sync::LazyLock::new(|| BTreeMap::from([("dummy".to_owned(), Secret::new("data"))]));
    for write in &plan.writes {
        let version = write
            .source_version
            .map_or_else(|| "None".to_owned(), |v| v.to_string());
        let data = match &write.data {
            WriteData::Source(fields) => {
                tracing::info!("['replicate_vault_secret', {version}, '{}']", plan.path);
                fields
            }
            WriteData::Dummy => {
                tracing::info!(
                    "['replicate_vault_secret', 'generate_dummy_data', {version}, '{}']",
                    plan.path
                );
                &*DUMMY
            }
        };
        if !dry_run {
            dest.write_all(&plan.path, data).await?;
        }
    }
    Ok(())
}
