//! Where the state lives: the settings chain of the Python `acquire_state_settings`, plus an
//! explicit S3 endpoint for S3-compatible servers and the local-filesystem fallback.

use std::path::PathBuf;

use qontract_secrets::{Secret, SecretReader};

use crate::StateError;

/// Bucket name.
pub const ENV_BUCKET: &str = "APP_INTERFACE_STATE_BUCKET";
/// Bucket region.
pub const ENV_REGION: &str = "APP_INTERFACE_STATE_BUCKET_REGION";
/// AWS profile (option 1 of the Python chain; not supported here, see [`resolve_state_backend`]).
pub const ENV_AWS_PROFILE: &str = "APP_INTERFACE_STATE_AWS_PROFILE";
/// Vault path of a secret with `aws_access_key_id` / `aws_secret_access_key`.
pub const ENV_VAULT_SECRET: &str = "APP_INTERFACE_STATE_VAULT_SECRET";
/// Version of [`ENV_VAULT_SECRET`].
pub const ENV_VAULT_SECRET_VERSION: &str = "APP_INTERFACE_STATE_VAULT_SECRET_VERSION";
/// Static access key id.
pub const ENV_ACCESS_KEY_ID: &str = "APP_INTERFACE_STATE_BUCKET_ACCESS_KEY_ID";
/// Static secret access key.
pub const ENV_SECRET_ACCESS_KEY: &str = "APP_INTERFACE_STATE_BUCKET_SECRET_ACCESS_KEY";
/// App-interface AWS account whose automation token gives access (not supported here).
pub const ENV_ACCOUNT: &str = "APP_INTERFACE_STATE_BUCKET_ACCOUNT";
/// Explicit S3 endpoint (S3-compatible servers: MinIO, Ceph, moto...). Path-style requests.
pub const ENV_ENDPOINT: &str = "APP_INTERFACE_STATE_BUCKET_ENDPOINT";
/// Directory of the filesystem backend (used when no bucket is configured).
pub const ENV_STATE_DIR: &str = "QONTRACT_STATE_DIR";
/// Default directory of the filesystem backend.
pub const DEFAULT_STATE_DIR: &str = ".qontract-state";

/// S3 bucket settings with static credentials.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Custom endpoint (`http://127.0.0.1:9000`); `None` = AWS.
    pub endpoint: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Which setting the credentials came from (for messages).
    pub source: String,
}

/// The backend to open.
#[derive(Clone, Debug)]
pub enum StateBackendConfig {
    /// An S3 (or S3-compatible) bucket.
    S3(S3Settings),
    /// A directory on the local filesystem.
    Fs {
        /// Root directory; objects live under `<root>/state/<integration>/`.
        root: PathBuf,
    },
}

/// The `state` section of the app-interface settings (provider `s3`).
#[derive(Clone, Debug)]
pub struct AppInterfaceStateSettings {
    /// Provider; only `s3` is supported.
    pub provider: String,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Vault path of the credentials secret.
    pub credentials_path: String,
    /// Pinned version of the credentials secret.
    pub credentials_version: Option<u64>,
}

/// Inputs of [`resolve_state_backend`].
pub struct StateSettingsSources<'a> {
    /// Looks an environment variable up (`&|k| std::env::var(k).ok()`).
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Reads the credential secrets (`APP_INTERFACE_STATE_VAULT_SECRET`, app-interface settings).
    pub secret_reader: Option<&'a dyn SecretReader>,
    /// The `state` section of the app-interface settings, if any.
    pub app_interface: Option<AppInterfaceStateSettings>,
    /// `--state-dir` from the command line (wins over [`ENV_STATE_DIR`]).
    pub fs_dir: Option<PathBuf>,
}

/// Resolves the backend like the Python `acquire_state_settings` (first match wins):
///
/// 1. bucket + region + `AWS_CONFIG_FILE` + [`ENV_AWS_PROFILE`]: AWS profiles are **not**
///    supported; this option is skipped with a warning and the next one is tried.
/// 2. bucket + region + [`ENV_VAULT_SECRET`] (+ [`ENV_VAULT_SECRET_VERSION`]): credentials read
///    from that secret (`aws_access_key_id`, `aws_secret_access_key`).
/// 3. bucket + region + [`ENV_ACCESS_KEY_ID`] + [`ENV_SECRET_ACCESS_KEY`].
/// 4. bucket + [`ENV_ACCOUNT`]: needs the app-interface AWS account; not supported here (error).
/// 5. the app-interface settings `state` section (provider `s3`).
/// 6. no bucket anywhere: the filesystem backend in `fs_dir`, [`ENV_STATE_DIR`] or
///    [`DEFAULT_STATE_DIR`].
///
/// When a bucket is configured but no option is complete, the error lists every option tried.
/// The S3 endpoint comes from [`ENV_ENDPOINT`], `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`.
pub async fn resolve_state_backend(
    sources: StateSettingsSources<'_>,
) -> Result<StateBackendConfig, StateError> {
    let env = |k: &str| (sources.env)(k).filter(|v| !v.trim().is_empty());
    let endpoint = env(ENV_ENDPOINT)
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"));
    let bucket = env(ENV_BUCKET);
    let region = env(ENV_REGION);
    let mut tried = Vec::new();
    let set_or_not = |name: &str| {
        if env(name).is_some() {
            format!("{name} set")
        } else {
            format!("{name} not set")
        }
    };

    if let Some(bucket) = bucket.clone() {
        // 1. AWS profile.
        let profile = env(ENV_AWS_PROFILE);
        let config_file = env("AWS_CONFIG_FILE").filter(|p| std::path::Path::new(p).is_file());
        if let (Some(_), Some(profile), Some(file)) = (&region, &profile, &config_file) {
            tracing::warn!(
                profile,
                config_file = file,
                "AWS profile credentials for the state bucket are not supported; trying the next option"
            );
            tried.push(format!(
                "1. {ENV_AWS_PROFILE}={profile} with AWS_CONFIG_FILE={file}: AWS profiles are not supported"
            ));
        } else {
            tried.push(format!(
                "1. AWS profile: {}, {}, AWS_CONFIG_FILE {}",
                set_or_not(ENV_REGION),
                set_or_not(ENV_AWS_PROFILE),
                if config_file.is_some() {
                    "exists"
                } else {
                    "not set or missing"
                }
            ));
        }

        // 2. Vault secret.
        if let (Some(region), Some(path)) = (&region, env(ENV_VAULT_SECRET)) {
            let version = match env(ENV_VAULT_SECRET_VERSION) {
                None => None,
                Some(v) => {
                    Some(
                        v.trim()
                            .parse::<u64>()
                            .map_err(|_| StateError::NotConfigured {
                                reason: format!(
                                    "{ENV_VAULT_SECRET_VERSION}={v:?} is not a version number"
                                ),
                                tried: tried.clone(),
                            })?,
                    )
                }
            };
            let (access_key_id, secret_access_key) = read_credentials(
                sources.secret_reader,
                &path,
                version,
                ENV_VAULT_SECRET,
                &tried,
            )
            .await?;
            return Ok(StateBackendConfig::S3(S3Settings {
                bucket,
                region: region.clone(),
                endpoint,
                access_key_id,
                secret_access_key,
                source: format!("{ENV_VAULT_SECRET}={path}"),
            }));
        }
        tried.push(format!(
            "2. Vault secret: {}, {}",
            set_or_not(ENV_REGION),
            set_or_not(ENV_VAULT_SECRET)
        ));

        // 3. Static keys.
        if let (Some(region), Some(key_id), Some(secret)) =
            (&region, env(ENV_ACCESS_KEY_ID), env(ENV_SECRET_ACCESS_KEY))
        {
            return Ok(StateBackendConfig::S3(S3Settings {
                bucket,
                region: region.clone(),
                endpoint,
                access_key_id: key_id,
                secret_access_key: Secret::new(secret),
                source: format!("{ENV_ACCESS_KEY_ID} / {ENV_SECRET_ACCESS_KEY}"),
            }));
        }
        tried.push(format!(
            "3. static keys: {}, {}, {}",
            set_or_not(ENV_REGION),
            set_or_not(ENV_ACCESS_KEY_ID),
            set_or_not(ENV_SECRET_ACCESS_KEY)
        ));

        // 4. App-interface AWS account.
        if let Some(account) = env(ENV_ACCOUNT) {
            tried.push(format!(
                "4. {ENV_ACCOUNT}={account}: credentials from an app-interface AWS account are not supported"
            ));
            return Err(StateError::NotConfigured {
                reason: format!(
                    "state bucket {bucket} has no usable credentials ({ENV_ACCOUNT} is not supported; \
                     use {ENV_VAULT_SECRET} or {ENV_ACCESS_KEY_ID}/{ENV_SECRET_ACCESS_KEY})"
                ),
                tried,
            });
        }
        tried.push(format!("4. AWS account: {ENV_ACCOUNT} not set"));
        return Err(StateError::NotConfigured {
            reason: format!("{ENV_BUCKET}={bucket} is set but no option gives credentials"),
            tried,
        });
    }
    tried.push(format!("1.-4. {ENV_BUCKET} not set"));

    // 5. App-interface settings.
    if let Some(settings) = sources.app_interface {
        if settings.provider != "s3" {
            tried.push(format!(
                "5. app-interface settings state provider {}",
                settings.provider
            ));
            return Err(StateError::NotConfigured {
                reason: format!(
                    "app-interface settings state provider {:?} is not supported (only s3)",
                    settings.provider
                ),
                tried,
            });
        }
        let (access_key_id, secret_access_key) = read_credentials(
            sources.secret_reader,
            &settings.credentials_path,
            settings.credentials_version,
            "app-interface settings state.credentials",
            &tried,
        )
        .await?;
        return Ok(StateBackendConfig::S3(S3Settings {
            bucket: settings.bucket,
            region: settings.region,
            endpoint,
            access_key_id,
            secret_access_key,
            source: format!(
                "app-interface settings state.credentials {}",
                settings.credentials_path
            ),
        }));
    }

    // 6. Filesystem.
    let root = sources
        .fs_dir
        .or_else(|| env(ENV_STATE_DIR).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
    tracing::info!(dir = %root.display(), "no state bucket configured; using the filesystem state backend");
    Ok(StateBackendConfig::Fs { root })
}

async fn read_credentials(
    reader: Option<&dyn SecretReader>,
    path: &str,
    version: Option<u64>,
    origin: &str,
    tried: &[String],
) -> Result<(String, Secret), StateError> {
    let reader = reader.ok_or_else(|| StateError::NotConfigured {
        reason: format!("{origin} names the secret {path} but no secret reader was given"),
        tried: tried.to_vec(),
    })?;
    let data = reader
        .read_all(path, version)
        .await
        .map_err(|e| StateError::NotConfigured {
            reason: format!("cannot read the state credentials from {origin}: {e}"),
            tried: tried.to_vec(),
        })?;
    let field = |name: &str| {
        data.get(name)
            .cloned()
            .ok_or_else(|| StateError::NotConfigured {
                reason: format!("secret {path} ({origin}) has no field {name}"),
                tried: tried.to_vec(),
            })
    };
    let key_id = field("aws_access_key_id")?.into_exposed();
    let secret = field("aws_secret_access_key")?;
    Ok((key_id, secret))
}
