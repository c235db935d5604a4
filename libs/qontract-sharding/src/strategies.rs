//! Deployment-time sharding strategies (`reconcile/utils/runtime/sharding.py`), used by the
//! integrations-manager to turn an integration's `sharding` block into one deployment per
//! shard.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why shards could not be built. Every message names the integration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardingError {
    /// The `strategy` is not one of the known ids.
    #[error("integration {integration}: unknown sharding strategy {strategy:?}")]
    UnknownStrategy {
        /// Integration name.
        integration: String,
        /// The strategy given.
        strategy: String,
    },
    /// `static` sharding or sub-sharding without a positive `shards` count.
    #[error("integration {integration}: static sharding needs shards >= 1, got {shards:?}")]
    InvalidShardCount {
        /// Integration name.
        integration: String,
        /// The count given.
        shards: Option<i64>,
    },
    /// A key strategy needs a CLI option the integration does not have.
    #[error(
        "integration {integration} does not support the provided argument. {option} is required by the '{strategy}' sharding strategy."
    )]
    MissingCliOption {
        /// Integration name.
        integration: String,
        /// The option, e.g. `--cluster-name`.
        option: &'static str,
        /// The strategy id.
        strategy: &'static str,
    },
    /// A sub-sharding strategy other than `static`.
    #[error(
        "integration {integration}: sub-sharding strategy {strategy:?} of shard {shard} is not allowed by per-openshift-cluster (only static)"
    )]
    SubShardingNotAllowed {
        /// Integration name.
        integration: String,
        /// The shard (cluster) name.
        shard: String,
        /// The strategy given.
        strategy: String,
    },
    /// Static sub-sharding of a shard that is itself static.
    #[error(
        "integration {integration}: static sub_sharding can only be applied to key based sharding (shard {shard})"
    )]
    SubShardingOfStaticShard {
        /// Integration name.
        integration: String,
        /// The shard name.
        shard: String,
    },
}

/// `subSharding` of a shard spec override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubSharding {
    /// Strategy id; only `static` is allowed.
    pub strategy: String,
    /// Number of sub-shards.
    #[serde(default)]
    pub shards: Option<i64>,
}

/// Reference to the shard an override applies to (a cluster, AWS account or OCM org).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRef {
    /// Name of the cluster / account / organization.
    pub name: String,
}

/// `shardSpecOverrides[]`: per-shard deployment tweaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardSpecOverride {
    /// The shard it applies to.
    pub shard: ShardRef,
    /// Image used by this shard.
    #[serde(default)]
    pub image_ref: Option<String>,
    /// Deploy resources (requests/limits) of this shard.
    #[serde(default)]
    pub resources: Option<Value>,
    /// `true` → the shard is deployed with 0 replicas.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Sub-sharding (per-openshift-cluster only).
    #[serde(default)]
    pub sub_sharding: Option<SubSharding>,
}

/// An integration's `sharding` block as found in app-interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sharding {
    /// `static`, `per-openshift-cluster`, `per-aws-account` or `per-ocm-organization`.
    pub strategy: String,
    /// Number of shards for `static`.
    #[serde(default)]
    pub shards: Option<i64>,
    /// Per-shard overrides for the key strategies.
    #[serde(default)]
    pub shard_spec_overrides: Option<Vec<ShardSpecOverride>>,
}

/// A cluster or AWS account that shards can be built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardingTarget {
    /// Cluster / account name.
    pub name: String,
    /// Integrations listed in its `disable.integrations`.
    #[serde(default)]
    pub disabled_integrations: Vec<String>,
}

/// An OCM organization (`per-ocm-organization` has no disable filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcmOrganization {
    /// Organization name (overrides are matched by it).
    pub name: String,
    /// OCM org id (the shard key).
    pub org_id: String,
}

/// What the key strategies shard over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardingInputs {
    /// Clusters (`clusters_minimal`).
    pub clusters: Vec<ShardingTarget>,
    /// AWS accounts.
    pub aws_accounts: Vec<ShardingTarget>,
    /// OCM organizations.
    pub ocm_organizations: Vec<OcmOrganization>,
}

/// The CLI options of an integration (the first option string of every parameter). Unknown
/// integrations (e.g. Go ones) have none, so key strategies fail for them, as upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationCliMeta {
    /// Options such as `--cluster-name`.
    pub args: Vec<String>,
}

/// One shard of an integration deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardSpec {
    /// `SHARDS` value (`""` for key shards without sub-sharding).
    pub shards: String,
    /// `SHARD_ID` value (`""` for key shards without sub-sharding).
    pub shard_id: String,
    /// `SHARD_KEY` value (`""` for static shards).
    pub shard_key: String,
    /// Suffix of the deployment name, e.g. `-1` or `-cluster-a`.
    pub shard_name_suffix: String,
    /// Extra CLI arguments of this shard.
    pub extra_args: String,
    /// The override matched to this shard.
    pub shard_spec_overrides: Option<ShardSpecOverride>,
}

const STATIC: &str = "static";
const PER_OPENSHIFT_CLUSTER: &str = "per-openshift-cluster";
const PER_AWS_ACCOUNT: &str = "per-aws-account";
const PER_OCM_ORGANIZATION: &str = "per-ocm-organization";

/// `IntegrationShardManager.build_integration_shards`: the shards of `integration`.
/// No `sharding` block means `static` with one shard; `extra_args` is the integration spec's
/// `extraArgs`.
pub fn build_integration_shards(
    integration: &str,
    cli_meta: Option<&IntegrationCliMeta>,
    extra_args: Option<&str>,
    sharding: Option<&Sharding>,
    inputs: &ShardingInputs,
) -> Result<Vec<ShardSpec>, ShardingError> {
    let default_sharding = Sharding {
        strategy: STATIC.to_owned(),
        shards: Some(1),
        shard_spec_overrides: None,
    };
    let sharding = sharding.unwrap_or(&default_sharding);
    let no_args = IntegrationCliMeta::default();
    let cli_meta = cli_meta.unwrap_or(&no_args);
    let extra_args = extra_args.unwrap_or_default();
    let overrides: BTreeMap<&str, &ShardSpecOverride> = sharding
        .shard_spec_overrides
        .iter()
        .flatten()
        .map(|spec_override| (spec_override.shard.name.as_str(), spec_override))
        .collect();
    let require = |option: &'static str, strategy: &'static str| {
        if cli_meta.args.iter().any(|arg| arg == option) {
            Ok(())
        } else {
            Err(ShardingError::MissingCliOption {
                integration: integration.to_owned(),
                option,
                strategy,
            })
        }
    };
    let key_shard = |key: &str, suffix: String, option: &str, name: &str| ShardSpec {
        shards: String::new(),
        shard_id: String::new(),
        shard_key: key.to_owned(),
        shard_name_suffix: suffix,
        extra_args: format!("{extra_args} {option} {key}"),
        shard_spec_overrides: overrides.get(name).map(|spec| (*spec).clone()),
    };
    let enabled = |target: &&ShardingTarget| {
        !target
            .disabled_integrations
            .iter()
            .any(|disabled| disabled == integration)
    };

    match sharding.strategy.as_str() {
        STATIC => {
            let shards = sharding
                .shards
                .and_then(|shards| u64::try_from(shards).ok())
                .filter(|shards| *shards >= 1)
                .ok_or_else(|| ShardingError::InvalidShardCount {
                    integration: integration.to_owned(),
                    shards: sharding.shards,
                })?;
            Ok((0..shards)
                .map(|shard| ShardSpec {
                    shards: shards.to_string(),
                    shard_id: shard.to_string(),
                    shard_key: String::new(),
                    shard_name_suffix: if shards > 1 {
                        format!("-{shard}")
                    } else {
                        String::new()
                    },
                    extra_args: extra_args.to_owned(),
                    shard_spec_overrides: None,
                })
                .collect())
        }
        PER_OPENSHIFT_CLUSTER => {
            require("--cluster-name", PER_OPENSHIFT_CLUSTER)?;
            let mut shards = Vec::new();
            for cluster in inputs.clusters.iter().filter(enabled) {
                let base = key_shard(
                    &cluster.name,
                    format!("-{}", cluster.name),
                    "--cluster-name",
                    &cluster.name,
                );
                let sub_sharding = base
                    .shard_spec_overrides
                    .as_ref()
                    .and_then(|spec| spec.sub_sharding.as_ref())
                    .filter(|sub| !sub.strategy.is_empty())
                    .cloned();
                match sub_sharding {
                    Some(sub) => {
                        shards.extend(static_sub_shards(integration, &cluster.name, base, &sub)?)
                    }
                    None => shards.push(base),
                }
            }
            Ok(shards)
        }
        PER_AWS_ACCOUNT => {
            require("--account-name", PER_AWS_ACCOUNT)?;
            Ok(inputs
                .aws_accounts
                .iter()
                .filter(enabled)
                .map(|account| {
                    key_shard(
                        &account.name,
                        format!("-{}", account.name),
                        "--account-name",
                        &account.name,
                    )
                })
                .collect())
        }
        PER_OCM_ORGANIZATION => {
            require("--org-id", PER_OCM_ORGANIZATION)?;
            Ok(inputs
                .ocm_organizations
                .iter()
                .map(|org| {
                    key_shard(
                        &org.org_id,
                        format!("-{}", org.org_id.to_lowercase()),
                        "--org-id",
                        &org.name,
                    )
                })
                .collect())
        }
        other => Err(ShardingError::UnknownStrategy {
            integration: integration.to_owned(),
            strategy: other.to_owned(),
        }),
    }
}

/// `StaticShardingStrategy.create_sub_shards`: splits a key shard into `shards` static shards.
fn static_sub_shards(
    integration: &str,
    shard_name: &str,
    base: ShardSpec,
    sub_sharding: &SubSharding,
) -> Result<Vec<ShardSpec>, ShardingError> {
    if sub_sharding.strategy != STATIC {
        return Err(ShardingError::SubShardingNotAllowed {
            integration: integration.to_owned(),
            shard: shard_name.to_owned(),
            strategy: sub_sharding.strategy.clone(),
        });
    }
    if !base.shard_id.is_empty() || !base.shards.is_empty() {
        return Err(ShardingError::SubShardingOfStaticShard {
            integration: integration.to_owned(),
            shard: shard_name.to_owned(),
        });
    }
    let count = sub_sharding
        .shards
        .and_then(|shards| u64::try_from(shards).ok())
        .filter(|shards| *shards >= 1)
        .ok_or_else(|| ShardingError::InvalidShardCount {
            integration: integration.to_owned(),
            shards: sub_sharding.shards,
        })?;
    Ok((0..count)
        .map(|sub_shard| {
            let mut shard = base.clone();
            if let Some(spec) = &mut shard.shard_spec_overrides {
                spec.sub_sharding = None;
            }
            shard.shard_id = sub_shard.to_string();
            shard.shards = count.to_string();
            shard.shard_name_suffix.push_str(&format!("-{sub_shard}"));
            shard
        })
        .collect())
}
