//! Runtime shard membership (`reconcile/utils/sharding.py`).

use md5::{Digest as _, Md5};

/// Name of the env var holding the number of shards.
pub const SHARDS_ENV: &str = "SHARDS";
/// Name of the env var holding this process's shard id.
pub const SHARD_ID_ENV: &str = "SHARD_ID";

/// Invalid `SHARDS` / `SHARD_ID` values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardingEnvError {
    /// Not a non-negative integer.
    #[error("environment variable {variable}={value:?} is not a non-negative integer")]
    NotAnInteger {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// `SHARDS` is zero.
    #[error("environment variable SHARDS must be at least 1, got 0")]
    ZeroShards,
    /// `SHARD_ID` is not below `SHARDS`.
    #[error("environment variable SHARD_ID={shard_id} must be lower than SHARDS={shards}")]
    ShardIdOutOfRange {
        /// Number of shards.
        shards: u64,
        /// The shard id.
        shard_id: u64,
    },
}

/// The shard this process is: `SHARDS` shards, this one is `SHARD_ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardConfig {
    /// Number of shards (at least 1).
    pub shards: u64,
    /// This shard (`0..shards`).
    pub shard_id: u64,
}

impl Default for ShardConfig {
    fn default() -> Self {
        Self {
            shards: 1,
            shard_id: 0,
        }
    }
}

impl ShardConfig {
    /// Reads `SHARDS` and `SHARD_ID` (defaults 1 and 0).
    pub fn from_env() -> Result<Self, ShardingEnvError> {
        let shards = std::env::var(SHARDS_ENV).ok();
        let shard_id = std::env::var(SHARD_ID_ENV).ok();
        Self::from_values(shards.as_deref(), shard_id.as_deref())
    }

    /// Builds the config from the raw env values (`None` = unset), with the checks of
    /// [`ShardConfig::from_env`].
    pub fn from_values(
        shards: Option<&str>,
        shard_id: Option<&str>,
    ) -> Result<Self, ShardingEnvError> {
        let parse = |variable: &'static str, value: Option<&str>, default: u64| match value {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|_| ShardingEnvError::NotAnInteger {
                    variable,
                    value: text.to_owned(),
                }),
        };
        let shards = parse(SHARDS_ENV, shards, 1)?;
        let shard_id = parse(SHARD_ID_ENV, shard_id, 0)?;
        if shards == 0 {
            return Err(ShardingEnvError::ZeroShards);
        }
        if shard_id >= shards {
            return Err(ShardingEnvError::ShardIdOutOfRange { shards, shard_id });
        }
        Ok(Self { shards, shard_id })
    }

    /// True if `value` belongs to this shard (always true with one shard).
    pub fn is_in_shard(&self, value: &str) -> bool {
        is_in_shard(value, self.shards, self.shard_id)
    }
}

/// The shard of `value` among `shards`: `int(md5(value.encode()).hexdigest(), 16) % shards`.
/// `shards` of 0 is treated as 1.
pub fn shard_of(value: &str, shards: u64) -> u64 {
    if shards <= 1 {
        return 0;
    }
    let digest = Md5::digest(value.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.as_slice());
    let remainder = u128::from_be_bytes(bytes) % u128::from(shards);
    // The remainder is below `shards`, which is a u64.
    u64::try_from(remainder).unwrap_or_default()
}

/// True if `value` belongs to shard `shard_id` of `shards` (always true with one shard).
pub fn is_in_shard(value: &str, shards: u64, shard_id: u64) -> bool {
    shards <= 1 || shard_of(value, shards) == shard_id
}
