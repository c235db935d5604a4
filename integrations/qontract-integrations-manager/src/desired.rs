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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use qontract_cluster_client::ClusterSpec;
use qontract_gql_bindings::integrations_managed::{
    DeployResourcesV1, IntegrationManagedV1, IntegrationShardingV12, IntegrationSpecV1,
    IntegrationsManaged, SubShardingV12,
};
use qontract_openshift_resource::OpenshiftResource;
use qontract_realize::cluster_spec;
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
/// The parameters of upstream's template (`helm/qontract-reconcile/templates/template.yaml`)
/// that every rendering has. With the per-integration ones of [`template_parameters`], they are
/// the parameters the manager's own environment overrides (upstream `collect_parameters`:
/// every template parameter that is an environment variable of the manager). `DRY_RUN` is one
/// of them: the manager's own mode comes from `MANAGER_DRY_RUN`, as upstream.
pub const TEMPLATE_PARAMETERS: [&str; 40] = [
    "IMAGE",
    "IMAGE_TAG",
    "IMAGE_DIGEST",
    "BUSYBOX_IMAGE",
    "BUSYBOX_IMAGE_TAG",
    "BUSYBOX_IMAGE_DIGEST",
    "BUSYBOX_IMAGE_PULL_POLICY",
    "FLUENTD_IMAGE",
    "FLUENTD_IMAGE_TAG",
    "FLUENTD_IMAGE_DIGEST",
    "FLUENTD_IMAGE_PULL_POLICY",
    "ENVIRONMENT_NAME",
    "DRY_RUN",
    "MANAGER_DRY_RUN",
    "SLEEP_DURATION_SECS",
    "QONTRACT_RECONCILE_TOML_SECRET_NAME",
    "APP_INTERFACE_SQS_SECRET_NAME",
    "APP_INTERFACE_STATE_BUCKET_ACCOUNT",
    "AWS_CONFIG_SECRET_NAME",
    "APP_INTERFACE_PROJECT_ID",
    "USER_ID",
    "KUBE_SA_TOKEN_MOUNT_PATH",
    "KUBE_SA_TOKEN_FILENAME",
    "LOG_FILE",
    "SLACK_CHANNEL",
    "SLACK_CHANNEL_TRIGGER",
    "SLACK_ICON_EMOJI",
    "GITHUB_API",
    "CLOUDWATCH_SECRET",
    "SENTRY_DSN",
    "SLOW_OC_RECONCILE_THRESHOLD",
    "LOG_SLOW_OC_RECONCILE",
    "USE_NATIVE_CLIENT",
    "INTERNAL_CERTIFICATES_IMAGE",
    "INTERNAL_CERTIFICATES_IMAGE_TAG",
    "INTERNAL_CERTIFICATES_IMAGE_PULL_POLICY",
    "INTEGRATIONS_MANAGER_UPSTREAM",
    "INTEGRATIONS_MANAGER_IMAGE",
    "INTEGRATIONS_MANAGER_IMAGE_TAG_FROM_REF",
    "PUSHGATEWAY_SECRET_NAME",
];

/// The suffixes of the per-integration template parameters (`<NAME>_SLEEP_DURATION_SECS`,
/// `<NAME>_CPU_LIMIT`...; NAME upper-cased, `-` → `_`).
const PER_INTEGRATION_SUFFIXES: [&str; 5] = [
    "_SLEEP_DURATION_SECS",
    "_CPU_LIMIT",
    "_MEMORY_LIMIT",
    "_CPU_REQUEST",
    "_MEMORY_REQUEST",
];

/// Whether an environment variable of the manager may be a template parameter of some
/// rendering (the manager keeps only these from its environment; [`template_parameters`]
/// decides per namespace).
pub fn may_be_template_parameter(name: &str) -> bool {
    TEMPLATE_PARAMETERS.contains(&name)
        || name == "USED_FOR_SECURITY"
        || PER_INTEGRATION_SUFFIXES
            .iter()
            .any(|suffix| name.len() > suffix.len() && name.ends_with(suffix))
}

/// The parameters of the template upstream renders for these integrations: the fixed ones,
/// `<NAME>_SLEEP_DURATION_SECS` for a (non-cron) integration with `sleepDurationSecs`, and
/// `<NAME>_{CPU,MEMORY}_{LIMIT,REQUEST}` for each field its `resources` set (helm template
/// `parameters:`).
pub fn template_parameters(deployments: &[IntegrationDeployment]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = TEMPLATE_PARAMETERS
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    out.insert("USED_FOR_SECURITY".to_owned());
    for deployment in deployments {
        let prefix = render::parameter_prefix(&deployment.name);
        if deployment.cron.is_none() && deployment.sleep_duration_secs.is_some() {
            out.insert(format!("{prefix}_SLEEP_DURATION_SECS"));
        }
        let Some(resources) = &deployment.resources else {
            continue;
        };
        for (section, suffix) in [("limits", "LIMIT"), ("requests", "REQUEST")] {
            for resource in ["cpu", "memory"] {
                if resources[section][resource]
                    .as_str()
                    .is_some_and(|v| !v.is_empty())
                {
                    out.insert(format!("{prefix}_{}_{suffix}", resource.to_uppercase()));
                }
            }
        }
    }
    out
}

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
    /// The manager's environment variables that may be template parameters
    /// ([`may_be_template_parameter`]); each namespace takes those of its template.
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

/// One `shardSpecOverrides` entry without sub-sharding (the fields every strategy's override
/// has).
fn shard_override(
    shard: &str,
    image_ref: Option<&str>,
    resources: Option<&DeployResourcesV1>,
    disabled: Option<bool>,
) -> ShardSpecOverride {
    ShardSpecOverride {
        shard: qontract_sharding::strategies::ShardRef {
            name: shard.to_owned(),
        },
        image_ref: image_ref.map(str::to_owned),
        resources: resources.map(self::resources),
        disabled,
        sub_sharding: None,
    }
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
        IntegrationShardingV12::AwsaccountShardingV1(s) => {
            sharding.shard_spec_overrides = s.shard_spec_overrides.as_ref().map(|overrides| {
                overrides
                    .iter()
                    .map(|o| {
                        shard_override(
                            &o.shard.name,
                            o.image_ref.as_deref(),
                            o.resources.as_ref(),
                            o.disabled,
                        )
                    })
                    .collect()
            });
        }
        IntegrationShardingV12::OpenshiftClusterShardingV1(s) => {
            sharding.shard_spec_overrides = s.shard_spec_overrides.as_ref().map(|overrides| {
                overrides
                    .iter()
                    .map(|o| ShardSpecOverride {
                        sub_sharding: o.sub_sharding.as_ref().map(|sub| SubSharding {
                            strategy: sub.strategy.clone(),
                            shards: match &sub.sub_sharding_v12 {
                                SubShardingV12::StaticSubShardingV1(s) => Some(i64::from(s.shards)),
                                SubShardingV12::Unknown => None,
                            },
                        }),
                        ..shard_override(
                            &o.shard.name,
                            o.image_ref.as_deref(),
                            o.resources.as_ref(),
                            o.disabled,
                        )
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

/// An environment's `parameters` that are not a JSON object.
#[derive(Debug, thiserror::Error)]
pub enum ParametersError {
    /// Not JSON (or a string that is not JSON).
    #[error("environment {environment}: parameters are not a JSON object: {source}")]
    NotJson {
        /// The environment's name.
        environment: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// JSON, but not an object.
    #[error("environment {environment}: parameters are not a JSON object")]
    NotAnObject {
        /// The environment's name.
        environment: String,
    },
}

/// The environment's `parameters` (a JSON object) as strings, then the manager's overrides,
/// then `--image`.
pub fn parameters(
    raw: Option<&str>,
    environment: &str,
    options: &Options,
) -> Result<BTreeMap<String, String>, ParametersError> {
    let mut out = BTreeMap::new();
    let not_json = |source| ParametersError::NotJson {
        environment: environment.to_owned(),
        source,
    };
    if let Some(raw) = raw {
        let parsed: Value = serde_json::from_str(raw).map_err(not_json)?;
        // app-interface stores `parameters` as a string holding a JSON object.
        let parsed = match parsed {
            Value::String(text) => serde_json::from_str(&text).map_err(not_json)?,
            other => other,
        };
        let Value::Object(map) = parsed else {
            return Err(ParametersError::NotAnObject {
                environment: environment.to_owned(),
            });
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
        aws_accounts: data
            .aws_accounts
            .iter()
            .flatten()
            .map(|a| ShardingTarget {
                name: a.name.clone(),
                disabled_integrations: disabled_integrations(
                    a.disable.as_ref().and_then(|d| d.integrations.as_ref()),
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
        // Upstream `collect_parameters`: only the parameters of this namespace's template are
        // taken from the manager's environment.
        let names = template_parameters(&deployments);
        let namespace_options = Options {
            parameter_overrides: options
                .parameter_overrides
                .iter()
                .filter(|(name, _)| names.contains(*name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            ..options.clone()
        };
        let parameters = match parameters(
            ns.environment.parameters.as_ref().map(|j| j.0.as_str()),
            &ns.environment.name,
            &namespace_options,
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
            let e = parameters(Some(bad), "prod", &Options::default())
                .unwrap_err()
                .to_string();
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

    /// A namespace of the integrations query (shape of upstream `integrations.gql`).
    fn managed(integration: &str, spec: Value, sharding: Value) -> Value {
        let mut cluster = qontract_test_support::fixtures::cluster("appsres09ue1");
        cluster["internal"] = json!(false);
        json!({
            "namespace": {
                "path": "/services/app-interface/namespaces/app-interface-production.yml",
                "name": "app-interface-production",
                "environment": {"name": "production", "parameters": null},
                "cluster": cluster,
            },
            "spec": spec,
            "sharding": sharding,
            "_integration": integration,
        })
    }

    fn data(entries: Vec<Value>) -> IntegrationsManaged {
        let integrations: Vec<Value> = entries
            .into_iter()
            .map(|mut m| {
                let name = m["_integration"].take();
                m.as_object_mut().expect("object").remove("_integration");
                json!({"name": name, "upstream": null, "managed": [m]})
            })
            .collect();
        serde_json::from_value(json!({
            "integrations_v1": integrations,
            "clusters_v1": [
                {"name": "appsres09ue1", "disable": null},
                {"name": "app-sre-prod-01",
                 "disable": {"integrations": ["openshift-rolebindings"]}},
                {"name": "hive-stage-01", "disable": null},
            ],
            "awsaccounts_v1": [
                {"name": "app-sre", "disable": null},
                {"name": "app-sre-stage", "disable": {"integrations": ["terraform-resources"]}},
                {"name": "osio", "disable": {"integrations": ["other"]}},
            ],
        }))
        .expect("query data")
    }

    fn spec() -> Value {
        json!({
            "cache": null, "command": null, "environmentAware": null, "extraArgs": "--light",
            "extraEnv": null,
            "resources": {"requests": {"cpu": "100m", "memory": "200Mi"},
                          "limits": {"cpu": null, "memory": "400Mi"}},
            "sleepDurationSecs": null, "state": null, "storage": null,
            "storageClassName": null, "cron": null, "concurrencyPolicy": null,
            "restartPolicy": null, "successfulJobHistoryLimit": null,
            "failedJobHistoryLimit": null, "imageRef": null, "enablePushgateway": null,
        })
    }

    fn options() -> Options {
        Options {
            integration: crate::NAME,
            parameter_overrides: BTreeMap::from([
                (
                    "IMAGE".into(),
                    "quay.io/app-sre/qontract-reconcile-rs".into(),
                ),
                ("IMAGE_TAG".into(), "0.1.0".into()),
            ]),
            ..Options::default()
        }
    }

    fn deployments(state: &DesiredState) -> BTreeMap<String, Value> {
        state
            .inventory
            .iter()
            .flat_map(|(_, _, kind, types)| {
                types
                    .desired()
                    .iter()
                    .filter(move |_| kind == "Deployment")
                    .map(|(name, entry)| (name.clone(), entry.resource.body().clone()))
            })
            .collect()
    }

    fn env_of(deployment: &Value, name: &str) -> Option<String> {
        deployment["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()?
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str().map(str::to_owned))
    }

    fn errors(state: &DesiredState) -> Vec<String> {
        qontract_test_support::fixtures::error_messages(&state.inventory)
    }

    #[test]
    fn shard_spec_overrides_of_both_strategies_keep_every_field() {
        // The override fields every strategy's schema has (`imageRef`, `disabled`,
        // `resources`), and `subSharding` only for per-openshift-cluster.
        let resources = json!({"requests": {"cpu": "1", "memory": "1Gi"},
                               "limits": {"cpu": null, "memory": "2Gi"}});
        let aws = json!({
            "strategy": "per-aws-account", "__typename": "AWSAccountSharding_v1",
            "shardSpecOverrides": [{"shard": {"name": "osio", "disable": null},
                "imageRef": "quay.io/x/y:pinned", "disabled": true, "resources": resources}],
        });
        let clusters = json!({
            "strategy": "per-openshift-cluster", "__typename": "OpenshiftClusterSharding_v1",
            "shardSpecOverrides": [{"shard": {"name": "appsres09ue1"},
                "imageRef": "quay.io/x/y:pinned", "disabled": true, "resources": resources,
                "subSharding": {"strategy": "static", "__typename": "StaticSubSharding_v1",
                                "shards": 3}}],
        });
        let data = data(vec![
            managed("terraform-resources", spec(), aws),
            managed("openshift-resources", spec(), clusters),
        ]);
        let converted: Vec<Sharding> = data
            .integrations
            .iter()
            .flatten()
            .flat_map(|i| i.managed.iter().flatten())
            .map(|m| sharding(m).expect("supported").expect("sharded"))
            .collect();
        let overrides = |sub: Value| {
            json!([{"shard": {"name": if sub.is_null() { "osio" } else { "appsres09ue1" }},
                    "imageRef": "quay.io/x/y:pinned", "disabled": true,
                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                  "limits": {"memory": "2Gi"}},
                    "subSharding": sub}])
        };
        let expected: Vec<Sharding> = serde_json::from_value(json!([
            {"strategy": "per-aws-account", "shardSpecOverrides": overrides(Value::Null)},
            {"strategy": "per-openshift-cluster",
             "shardSpecOverrides": overrides(json!({"strategy": "static", "shards": 3}))},
        ]))
        .expect("expected sharding");
        assert_eq!(converted, expected);
    }

    #[test]
    fn per_openshift_cluster_works_for_every_registered_integration() {
        // openshift-rolebindings was unknown to the manager: "does not support the provided
        // argument. --cluster-name is required".
        let data = data(vec![managed(
            "openshift-rolebindings",
            spec(),
            json!({"strategy": "per-openshift-cluster", "__typename": "OpenshiftClusterSharding_v1",
                   "shardSpecOverrides": null}),
        )]);
        let state = desired_state(&data, &options(), &crate::cli_meta);
        assert!(errors(&state).is_empty(), "{:?}", errors(&state));
        let names: Vec<String> = deployments(&state).into_keys().collect();
        // app-sre-prod-01 disables the integration.
        assert_eq!(
            names,
            [
                "qontract-reconcile-openshift-rolebindings-appsres09ue1",
                "qontract-reconcile-openshift-rolebindings-hive-stage-01",
            ]
        );
    }

    #[test]
    fn per_aws_account_builds_a_shard_per_enabled_account_with_its_override() {
        // Upstream `AWSAccountShardingStrategy`: one shard per account not disabling the
        // integration, `--account-name <account>` appended to extraArgs, overrides by name.
        let sharding = json!({
            "strategy": "per-aws-account",
            "__typename": "AWSAccountSharding_v1",
            "shardSpecOverrides": [{
                "shard": {"name": "osio", "disable": null},
                "imageRef": "quay.io/app-sre/qontract-reconcile-rs:pinned",
                "disabled": null,
                "resources": null,
            }],
        });
        let data = data(vec![managed("terraform-resources", spec(), sharding)]);
        let meta = |name: &str| {
            (name == "terraform-resources").then(|| IntegrationCliMeta {
                args: vec!["--account-name".to_owned()],
            })
        };
        let state = desired_state(&data, &options(), &meta);
        assert!(errors(&state).is_empty(), "{:?}", errors(&state));
        let deployments = deployments(&state);
        assert_eq!(
            deployments.keys().collect::<Vec<_>>(),
            [
                "qontract-reconcile-terraform-resources-app-sre",
                "qontract-reconcile-terraform-resources-osio",
            ]
        );
        let osio = &deployments["qontract-reconcile-terraform-resources-osio"];
        assert_eq!(
            env_of(osio, "INTEGRATION_EXTRA_ARGS").as_deref(),
            Some("--light --account-name osio")
        );
        assert_eq!(env_of(osio, "SHARD_KEY").as_deref(), Some("osio"));
        assert_eq!(
            osio["spec"]["template"]["spec"]["containers"][0]["image"],
            "quay.io/app-sre/qontract-reconcile-rs:pinned"
        );

        // An integration without --account-name: an error naming it, as upstream.
        let state = desired_state(&data, &options(), &crate::cli_meta);
        let errors = errors(&state);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("terraform-resources") && errors[0].contains("--account-name"),
            "{errors:?}"
        );
    }

    #[test]
    fn any_template_parameter_is_overridable_from_the_environment() {
        // Upstream `collect_parameters`: every parameter of the rendered template that is an
        // environment variable of the manager overrides the environment's parameters.
        let mut with_sleep = spec();
        with_sleep["sleepDurationSecs"] = json!("120");
        let data = data(vec![
            managed("openshift-rolebindings", spec(), Value::Null),
            managed("openshift-routes", with_sleep, Value::Null),
        ]);
        let mut options = options();
        options.parameter_overrides.extend([
            ("DRY_RUN".to_owned(), "--no-dry-run".to_owned()),
            (
                "OPENSHIFT_ROLEBINDINGS_MEMORY_LIMIT".to_owned(),
                "1Gi".to_owned(),
            ),
            (
                "OPENSHIFT_ROUTES_SLEEP_DURATION_SECS".to_owned(),
                "30".to_owned(),
            ),
            // Not parameters of this template: limits.cpu is not set by the spec, and
            // openshift-rolebindings has no sleepDurationSecs.
            (
                "OPENSHIFT_ROLEBINDINGS_CPU_LIMIT".to_owned(),
                "2".to_owned(),
            ),
            (
                "OPENSHIFT_ROLEBINDINGS_SLEEP_DURATION_SECS".to_owned(),
                "5".to_owned(),
            ),
        ]);
        let state = desired_state(&data, &options, &crate::cli_meta);
        assert!(errors(&state).is_empty(), "{:?}", errors(&state));
        let deployments = deployments(&state);
        let rolebindings = &deployments["qontract-reconcile-openshift-rolebindings"];
        let routes = &deployments["qontract-reconcile-openshift-routes"];
        assert_eq!(
            env_of(rolebindings, "DRY_RUN").as_deref(),
            Some("--no-dry-run")
        );
        assert_eq!(
            rolebindings["spec"]["template"]["spec"]["containers"][0]["resources"],
            json!({"requests": {"cpu": "100m", "memory": "200Mi"},
                   "limits": {"memory": "1Gi"}})
        );
        assert_eq!(env_of(routes, "SLEEP_DURATION_SECS").as_deref(), Some("30"));
        assert_ne!(
            env_of(rolebindings, "SLEEP_DURATION_SECS").as_deref(),
            Some("5")
        );

        let names = template_parameters(&[deployment_spec(
            "openshift-rolebindings",
            &data.integrations.as_ref().expect("integrations")[0]
                .managed
                .as_ref()
                .expect("managed")[0]
                .spec,
        )]);
        assert!(names.contains("OPENSHIFT_ROLEBINDINGS_MEMORY_REQUEST"));
        assert!(!names.contains("OPENSHIFT_ROLEBINDINGS_CPU_LIMIT"));
        assert!(may_be_template_parameter(
            "OPENSHIFT_ROLEBINDINGS_CPU_LIMIT"
        ));
        assert!(!may_be_template_parameter("VAULT_TOKEN"));
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
