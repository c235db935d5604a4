//! Sharding of qontract-reconcile-rs, compatible with the Python tool.
//!
//! * [`membership`]: runtime shard membership. `is_in_shard(value)` is true when the full
//!   128-bit MD5 of the value modulo `SHARDS` equals `SHARD_ID` (env vars, defaults 1/0), so a
//!   mixed Python/Rust deployment assigns every key to the same shard.
//! * [`strategies`]: the deployment-time strategies of the integrations-manager (`static`,
//!   `per-openshift-cluster` with static sub-sharding, `per-aws-account`,
//!   `per-ocm-organization`) that turn an integration's `sharding` block into shard specs.
//!
//! The crate does no I/O besides reading the two environment variables on request.

pub mod membership;
pub mod strategies;

pub use membership::{ShardConfig, ShardingEnvError, is_in_shard, shard_of};
pub use strategies::{
    IntegrationCliMeta, OcmOrganization, ShardSpec, ShardSpecOverride, Sharding, ShardingError,
    ShardingInputs, ShardingTarget, SubSharding, build_integration_shards,
};
