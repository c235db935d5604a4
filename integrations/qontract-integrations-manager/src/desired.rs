//! Desired state of `integrations-manager`: the `managed` entries of every integration,
//! grouped by namespace, turned into shards (`qontract-sharding`), rendered ([`crate::render`])
//! and added to a [`ResourceInventory`] with the managed types Deployment, StatefulSet,
//! CronJob and Service.
//!
//! Problems of one integration (an unknown sharding strategy, a key strategy the integration
//! has no option for, an `extraEnv` entry that is neither secret nor literal, no image) are
//! registered as run-wide inventory errors naming the integration and namespace: that
//! integration is left out, the others are still deployed, the run fails and nothing is
//! deleted anywhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use qontract_cluster_client::ClusterSpec;
use qontract_gql_bindings::integrations_managed::{
    ClusterV13, DeployResourcesV1, IntegrationManagedV1, IntegrationShardingV12, IntegrationSpecV1,
    IntegrationsManaged, SubShardingV12,
};
use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::ResourceInventory;
use qontract_sharding::{
    IntegrationCliMeta, ShardSpecOverride, Sharding, ShardingInputs, ShardingTarget, SubSharding,
    build_integration_shards,
};
use serde_json::{Value, json};

use crate::render::{self, ExtraEnv, IntegrationDeployment, RenderContext};

/// Name recorded in the `qontract.integration` annotation (upstream's).
pub const ANNOTATION_NAME: &str = "integrations-manager";
/// Version recorded in `qontract.integration_version` (upstream's).
pub const INTEGRATION_VERSION: &str = "0.1.0";
/// Caller recorded on the objects when no `--upstream` is given.
pub const DEFAULT_UPSTREAM: &str = "https://github.com/app-sre/qontract-reconcile";
/// The kinds this integration manages in each namespace.
pub const MANAGED_TYPES: [&str; 4] = ["Deployment", "StatefulSet", "CronJob", "Service"];
/// Environment parameters that the manager process's own environment overrides (upstream:
/// every template parameter that is an environment variable of the manager). `DRY_RUN` is not
/// one of them: `run-integration` reads `DRY_RUN` for the manager itself (upstream reads
/// `MANAGER_DRY_RUN` for it), so the deployed integrations' mode comes only from the
/// environment's `DRY_RUN` parameter (default `--dry-run`).
pub const OVERRIDABLE_PARAMETERS: [&str; 5] = [
    "IMAGE",
    "IMAGE_TAG",
    "IMAGE_DIGEST",
    "SLEEP_DURATION_SECS",
    "LOG_LEVEL",
];

/// What narrows and parameterises a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// CLI name of this integration, checked against `cluster.disable.integrations`.
    pub integration: &'static str,
    /// `--environment-name`: only namespaces of this environment.
    pub environment_name: Option<String>,
    /// `--upstream`: only integrations with this `upstream`; also the caller of the objects.
    pub upstream: Option<String>,
    /// `--image`: the `IMAGE` parameter.
    pub image: Option<String>,
    /// `--internal` (Some(true)) / `--external` (Some(false)) / all (None).
    pub internal: Option<bool>,
    /// Values of [`OVERRIDABLE_PARAMETERS`] from the manager's environment.
    pub parameter_overrides: BTreeMap<String, String>,
}

impl Options {
    /// The caller recorded on every object: the upstream, or [`DEFAULT_UPSTREAM`].
    pub fn caller(&self) -> &str {
        self.upstream.as_deref().unwrap_or(DEFAULT_UPSTREAM)
    }
}

/// The desired state of a run.
#[derive(Debug, Default)]
pub struct DesiredState {
    /// Desired objects and managed types per (cluster, namespace).
    pub inventory: ResourceInventory,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// Number of namespaces deployed to.
    pub namespaces: usize,
    /// Number of integration deployments (integration × namespace).
    pub deployments: usize,
}

fn disabled_integrations(disable: Option<&Vec<String>>) -> Vec<String> {
    disable.cloned().unwrap_or_default()
}

fn cluster_spec(cluster: &ClusterV13) -> ClusterSpec {
    qontract_realize::cluster_spec!(cluster)
}

fn resources(r: &DeployResourcesV1) -> Value {
    let r = &r.deploy_resources;
    let mut limits = json!({"memory": r.limits.memory});
    if let Some(cpu) = &r.limits.cpu {
        limits["cpu"] = Value::String(cpu.clone());
    }
    json!({
        "requests": {"cpu": r.requests.cpu, "memory": r.requests.memory},
        "limits": limits,
    })
}

/// The `sharding` block in the form of `qontract-sharding`, or the strategy name it does not
/// support.
fn sharding(managed: &IntegrationManagedV1) -> Result<Option<Sharding>, String> {
    let Some(block) = &managed.sharding else {
        return Ok(None);
    };
    let mut sharding = Sharding {
        strategy: block.strategy.clone(),
        shards: None,
        shard_spec_overrides: None,
    };
    match &block.integration_sharding_v12 {
        IntegrationShardingV12::StaticShardingV1(s) => sharding.shards = Some(i64::from(s.shards)),
        IntegrationShardingV12::OpenshiftClusterShardingV1(s) => {
            sharding.shard_spec_overrides = s.shard_spec_overrides.as_ref().map(|overrides| {
                overrides
                    .iter()
                    .map(|o| ShardSpecOverride {
                        shard: qontract_sharding::strategies::ShardRef {
                            name: o.shard.name.clone(),
                        },
                        image_ref: o.image_ref.clone(),
                        resources: o.resources.as_ref().map(resources),
                        disabled: o.disabled,
                        sub_sharding: o.sub_sharding.as_ref().map(|sub| SubSharding {
                            strategy: sub.strategy.clone(),
                            shards: match &sub.sub_sharding_v12 {
                                SubShardingV12::StaticSubShardingV1(s) => Some(i64::from(s.shards)),
                                SubShardingV12::Unknown => None,
                            },
                        }),
                    })
                    .collect()
            });
        }
        IntegrationShardingV12::Unknown => return Err(block.strategy.clone()),
    }
    Ok(Some(sharding))
}

fn deployment_spec(name: &str, spec: &IntegrationSpecV1) -> IntegrationDeployment {
    IntegrationDeployment {
        name: name.to_owned(),
        cache: spec.cache.unwrap_or(false),
        command: spec.command.clone(),
        environment_aware: spec.environment_aware.unwrap_or(false),
        extra_args: spec.extra_args.clone(),
        extra_env: spec
            .extra_env
            .iter()
            .flatten()
            .map(|e| ExtraEnv {
                secret_name: e.secret_name.clone(),
                secret_key: e.secret_key.clone(),
                name: e.name.clone(),
                value: e.value.clone(),
            })
            .collect(),
        resources: spec.resources.as_ref().map(resources),
        sleep_duration_secs: spec.sleep_duration_secs.clone(),
        state: spec.state.unwrap_or(false),
        storage: spec.storage.clone(),
        storage_class_name: spec.storage_class_name.clone(),
        cron: spec.cron.clone(),
        concurrency_policy: spec.concurrency_policy.clone(),
        restart_policy: spec.restart_policy.clone(),
        successful_job_history_limit: spec.successful_job_history_limit.map(i64::from),
        failed_job_history_limit: spec.failed_job_history_limit.map(i64::from),
        image_ref: spec.image_ref.clone(),
        enable_pushgateway: spec.enable_pushgateway.unwrap_or(false),
        shards: Vec::new(),
    }
}

/// The environment's `parameters` (a JSON object) as strings, then the manager's overrides,
/// then `--image`.
pub fn parameters(
    raw: Option<&str>,
    environment: &str,
    options: &Options,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if let Some(raw) = raw {
        let parsed: Value = serde_json::from_str(raw).map_err(|e| {
            format!("environment {environment}: parameters are not a JSON object: {e}")
        })?;
        // app-interface stores `parameters` as a string holding a JSON object.
        let parsed = match parsed {
            Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                format!("environment {environment}: parameters are not a JSON object: {e}")
            })?,
            other => other,
        };
        let Value::Object(map) = parsed else {
            return Err(format!(
                "environment {environment}: parameters are not a JSON object"
            ));
        };
        for (key, value) in map {
            let text = match value {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.insert(key, text);
        }
    }
    if out.contains_key("INTEGRATION_UPSTREAM_REPOS") {
        tracing::warn!(
            "environment {environment}: INTEGRATION_UPSTREAM_REPOS is ignored (resolving git refs \
             on GitHub is not supported); IMAGE_TAG comes from the parameters"
        );
    }
    for (key, value) in &options.parameter_overrides {
        out.insert(key.clone(), value.clone());
    }
    if let Some(image) = &options.image {
        out.insert("IMAGE".to_owned(), image.clone());
    }
    Ok(out)
}

/// The CLI options of an integration, by name (see [`crate::cli_meta`]).
pub type CliMetaLookup<'a> = &'a dyn Fn(&str) -> Option<IntegrationCliMeta>;

/// Build the desired state.
pub fn desired_state(
    data: &IntegrationsManaged,
    options: &Options,
    cli_meta: CliMetaLookup<'_>,
) -> DesiredState {
    let mut state = DesiredState::default();
    let inputs = ShardingInputs {
        clusters: data
            .clusters
            .iter()
            .flatten()
            .map(|c| ShardingTarget {
                name: c.name.clone(),
                disabled_integrations: disabled_integrations(
                    c.disable.as_ref().and_then(|d| d.integrations.as_ref()),
                ),
            })
            .collect(),
        ..ShardingInputs::default()
    };
    // namespace path -> (namespace data, integrations in data order)
    let mut by_namespace: BTreeMap<String, (&IntegrationManagedV1, Vec<IntegrationDeployment>)> =
        BTreeMap::new();
    for integration in data.integrations.iter().flatten() {
        if options
            .upstream
            .as_ref()
            .is_some_and(|u| integration.upstream.as_ref() != Some(u))
        {
            continue;
        }
        for managed in integration.managed.iter().flatten() {
            let ns = &managed.namespace;
            if options
                .environment_name
                .as_ref()
                .is_some_and(|e| e != &ns.environment.name)
                || options
                    .internal
                    .is_some_and(|i| ns.cluster.internal.unwrap_or(false) != i)
                || ns
                    .cluster
                    .disable
                    .as_ref()
                    .and_then(|d| d.integrations.as_ref())
                    .is_some_and(|l| l.iter().any(|i| i == options.integration))
            {
                continue;
            }
            let cluster = ns.cluster.name.clone();
            let entry = by_namespace
                .entry(ns.path.clone())
                .or_insert_with(|| (managed, Vec::new()));
            let origin = format!("[{cluster}/{}] integration {}", ns.name, integration.name);
            let sharding = match sharding(managed) {
                Ok(s) => s,
                Err(strategy) => {
                    state.inventory.register_error(
                        None,
                        format!("{origin}: sharding strategy {strategy:?} is not supported"),
                    );
                    continue;
                }
            };
            let mut deployment = deployment_spec(&integration.name, &managed.spec);
            match build_integration_shards(
                &integration.name,
                cli_meta(&integration.name).as_ref(),
                managed.spec.extra_args.as_deref(),
                sharding.as_ref(),
                &inputs,
            ) {
                Ok(shards) => deployment.shards = shards,
                Err(e) => {
                    state
                        .inventory
                        .register_error(None, format!("{origin}: {e}"));
                    continue;
                }
            }
            entry.1.push(deployment);
        }
    }
    let caller: Arc<str> = Arc::from(options.caller());
    for (path, (managed, deployments)) in by_namespace {
        let ns = &managed.namespace;
        let cluster = &ns.cluster.name;
        state.namespaces += 1;
        state.deployments += deployments.len();
        state
            .clusters
            .entry(cluster.clone())
            .or_insert_with(|| cluster_spec(&ns.cluster));
        for kind in MANAGED_TYPES {
            state
                .inventory
                .initialize_resource_type(cluster, &ns.name, kind, None);
        }
        let parameters = match parameters(
            ns.environment.parameters.as_ref().map(|j| j.0.as_str()),
            &ns.environment.name,
            options,
        ) {
            Ok(p) => p,
            Err(e) => {
                state
                    .inventory
                    .register_error(None, format!("[{cluster}/{}] {e}", ns.name));
                continue;
            }
        };
        let ctx = RenderContext {
            namespace: path.clone(),
            environment: ns.environment.name.clone(),
            parameters,
        };
        let (objects, errors) = render::render_namespace(&deployments, &ctx);
        for e in errors {
            state
                .inventory
                .register_error(None, format!("[{cluster}/{}] {e}", ns.name));
        }
        for body in objects {
            let origin = format!(
                "[{cluster}/{}] {} {}",
                ns.name,
                body["kind"].as_str().unwrap_or_default(),
                body["metadata"]["name"].as_str().unwrap_or_default()
            );
            match OpenshiftResource::new(
                body,
                ANNOTATION_NAME,
                INTEGRATION_VERSION,
                origin.clone(),
                Some(caller.clone()),
            ) {
                Ok(or) => {
                    if let Err(e) = state
                        .inventory
                        .add_desired_resource_or_register(cluster, &ns.name, or, false)
                    {
                        tracing::debug!("{e}");
                    }
                }
                Err(e) => state
                    .inventory
                    .register_error(None, format!("{origin}: {e}")),
            }
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_from_the_json_string_then_overridden() {
        let options = Options {
            image: Some("quay.io/me/image".into()),
            parameter_overrides: BTreeMap::from([("IMAGE_TAG".into(), "from-env".into())]),
            ..Options::default()
        };
        let raw =
            r#""{\"IMAGE\": \"quay.io/x\", \"IMAGE_TAG\": \"abc\", \"REPLICAS\": 2, \"X\": null}""#;
        let p = parameters(Some(raw), "prod", &options).unwrap();
        assert_eq!(p["IMAGE"], "quay.io/me/image");
        assert_eq!(p["IMAGE_TAG"], "from-env");
        assert_eq!(p["REPLICAS"], "2");
        assert_eq!(p["X"], "");
        let plain = parameters(Some(r#"{"A": "b"}"#), "prod", &Options::default()).unwrap();
        assert_eq!(plain["A"], "b");
        for bad in ["[1]", "\"not json\"", "{"] {
            let e = parameters(Some(bad), "prod", &Options::default()).unwrap_err();
            assert!(
                e.contains("environment prod") && e.contains("JSON object"),
                "{e}"
            );
        }
        assert!(
            parameters(None, "prod", &Options::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_caller_defaults_to_the_upstream_repository() {
        assert_eq!(Options::default().caller(), DEFAULT_UPSTREAM);
        let options = Options {
            upstream: Some("https://example.com/repo".into()),
            ..Options::default()
        };
        assert_eq!(options.caller(), "https://example.com/repo");
    }
}
