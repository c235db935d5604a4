//! Native rendering of the objects that run the integrations (what upstream gets from
//! `helm template helm/qontract-reconcile` + `oc process`): per non-cron integration and per
//! shard a `Deployment` (a `StatefulSet` with a cache volume when `spec.cache`), per cron
//! integration a `CronJob`, and one `Service` in front of every integration's metrics port.
//!
//! The container runs the image's entrypoint, `qontract-reconcile run-integration`, configured
//! by environment variables (`INTEGRATION_NAME`, `INTEGRATION_EXTRA_ARGS`, `DRY_RUN`,
//! `SHARDS`/`SHARD_ID`/`SHARD_KEY`, `SLEEP_DURATION_SECS`, `CONFIG`, `RUN_ONCE`...). Our binary
//! is one multi-call executable that writes its logs to stderr, so unlike upstream there is no
//! fluentd sidecar nor its init container.

use std::collections::BTreeMap;

use qontract_sharding::ShardSpec;
use serde_json::{Map, Value, json};

/// Label shared by every pod, selected by the [`SERVICE_NAME`] Service.
pub const COMPONENT: &str = "qontract-reconcile";
/// Name of the metrics Service.
pub const SERVICE_NAME: &str = "qontract-reconcile";
/// Secret holding `config.toml`, mounted at [`CONFIG_DIR`].
pub const CONFIG_SECRET: &str = "qontract-reconcile-toml";
/// Where `config.toml` is mounted.
pub const CONFIG_DIR: &str = "/config";
/// Secret holding the state bucket settings (keys `aws.s3.bucket`, `aws.region`,
/// `aws.access.key.id`, `aws.secret.access.key`), read when `spec.state`.
pub const STATE_SECRET: &str = "app-interface";
/// Secret holding the Pushgateway settings (keys `server`, `username`, `password`), read by
/// cron integrations with `enablePushgateway`.
pub const PUSHGATEWAY_SECRET: &str = "push-gateway-auth";
/// Metrics port of the container (`PROMETHEUS_PORT` of `run-integration`).
pub const METRICS_PORT: u16 = 9090;
/// Size of the cache volume when `spec.storage` is not set.
pub const DEFAULT_CACHE_STORAGE: &str = "1Gi";
/// Storage class of the cache volume when `spec.storageClassName` is not set (upstream's).
pub const DEFAULT_STORAGE_CLASS: &str = "gp2";
/// `DRY_RUN` of the deployed integrations when the environment has no `DRY_RUN` parameter:
/// the safe choice.
pub const DEFAULT_DRY_RUN: &str = "--dry-run";
/// `SLEEP_DURATION_SECS` when neither the spec nor the environment sets it (upstream
/// helm `templates/template.yaml` parameter default).
pub const DEFAULT_SLEEP_DURATION_SECS: &str = "300";

/// Why an integration's objects cannot be rendered. Every message names the integration and
/// the namespace it is deployed to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No `imageRef` and no `IMAGE` parameter.
    #[error(
        "integration {integration} in namespace {namespace}: no image: set spec.imageRef, or the \
         IMAGE and IMAGE_TAG parameters of environment {environment} (IMAGE may also come \
         from --image)"
    )]
    MissingImage {
        /// Integration name.
        integration: String,
        /// Namespace path.
        namespace: String,
        /// Environment name.
        environment: String,
    },
    /// An `extraEnv` entry that is neither a secret reference nor a literal.
    #[error(
        "integration {integration} in namespace {namespace}: extraEnv[{index}] needs either \
         secretName and secretKey, or name and value"
    )]
    InvalidExtraEnv {
        /// Integration name.
        integration: String,
        /// Namespace path.
        namespace: String,
        /// Position in `extraEnv`.
        index: usize,
    },
}

/// One `extraEnv` entry: a secret reference (`secretName` + `secretKey`, exposed under the
/// key's name, as upstream) or a literal (`name` + `value`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraEnv {
    /// Secret name.
    pub secret_name: Option<String>,
    /// Key in the secret (also the variable name).
    pub secret_key: Option<String>,
    /// Literal variable name.
    pub name: Option<String>,
    /// Literal value.
    pub value: Option<String>,
}

/// What to deploy for one integration in one namespace (upstream `HelmIntegrationSpec`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrationDeployment {
    /// Integration name (`INTEGRATION_NAME`).
    pub name: String,
    /// `spec.cache`: a StatefulSet with a cache volume at `/.cache`.
    pub cache: bool,
    /// `spec.command`: `COMMAND_NAME`.
    pub command: Option<String>,
    /// `spec.environmentAware`: the image parameters are passed to the container.
    pub environment_aware: bool,
    /// `spec.extraArgs` (the shards carry their own, derived from it).
    pub extra_args: Option<String>,
    /// `spec.extraEnv`.
    pub extra_env: Vec<ExtraEnv>,
    /// `spec.resources` as a Kubernetes `ResourceRequirements` object.
    pub resources: Option<Value>,
    /// `spec.sleepDurationSecs`.
    pub sleep_duration_secs: Option<String>,
    /// `spec.state`: the state bucket settings are passed to the container.
    pub state: bool,
    /// `spec.storage`: size of the cache volume.
    pub storage: Option<String>,
    /// `spec.storageClassName`.
    pub storage_class_name: Option<String>,
    /// `spec.cron`: deployed as a CronJob with this schedule.
    pub cron: Option<String>,
    /// `spec.concurrencyPolicy` (CronJob).
    pub concurrency_policy: Option<String>,
    /// `spec.restartPolicy` (CronJob).
    pub restart_policy: Option<String>,
    /// `spec.successfulJobHistoryLimit` (CronJob).
    pub successful_job_history_limit: Option<i64>,
    /// `spec.failedJobHistoryLimit` (CronJob).
    pub failed_job_history_limit: Option<i64>,
    /// `spec.imageRef`.
    pub image_ref: Option<String>,
    /// `spec.enablePushgateway` (CronJob).
    pub enable_pushgateway: bool,
    /// The shards (one Deployment / StatefulSet each).
    pub shards: Vec<ShardSpec>,
}

/// Where objects are rendered and with which parameters (the environment's `parameters`
/// after the manager's overrides).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderContext {
    /// Namespace path, for error messages.
    pub namespace: String,
    /// Environment name, for error messages.
    pub environment: String,
    /// Parameters, e.g. `IMAGE`, `IMAGE_TAG`, `DRY_RUN`, `SLEEP_DURATION_SECS`.
    pub parameters: BTreeMap<String, String>,
}

impl RenderContext {
    fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `IMAGE:IMAGE_TAG`, `@IMAGE_DIGEST` appended when set. Both are required: a floating
    /// default tag would deploy whatever it points to.
    fn default_image(&self) -> Option<String> {
        let image = self.parameter("IMAGE")?;
        let tag = self.parameter("IMAGE_TAG")?;
        Some(match self.parameter("IMAGE_DIGEST") {
            Some(digest) => format!("{image}:{tag}@{digest}"),
            None => format!("{image}:{tag}"),
        })
    }
}

/// Name of the objects of an integration (plus the shard suffix for Deployments).
pub fn object_name(integration: &str) -> String {
    format!("qontract-reconcile-{integration}")
}

/// Every object of a namespace: the integrations' workloads in the given order, then the
/// Service. Integrations that fail to render are reported and left out.
pub fn render_namespace(
    integrations: &[IntegrationDeployment],
    ctx: &RenderContext,
) -> (Vec<Value>, Vec<RenderError>) {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for integration in integrations {
        match render_integration(integration, ctx) {
            Ok(rendered) => objects.extend(rendered),
            Err(e) => errors.push(e),
        }
    }
    objects.push(service());
    (objects, errors)
}

/// The workloads of one integration: a CronJob when `cron` is set, else one Deployment or
/// StatefulSet per shard.
pub fn render_integration(
    integration: &IntegrationDeployment,
    ctx: &RenderContext,
) -> Result<Vec<Value>, RenderError> {
    if let Some(schedule) = &integration.cron {
        return Ok(vec![cron_job(integration, schedule, ctx)?]);
    }
    integration
        .shards
        .iter()
        .map(|shard| workload(integration, shard, ctx))
        .collect()
}

fn labels(integration: &str) -> Value {
    json!({"app": object_name(integration), "component": COMPONENT})
}

fn literal(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn secret_ref(name: &str, secret: &str, key: &str) -> Value {
    json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
}

fn image(
    integration: &IntegrationDeployment,
    shard: Option<&ShardSpec>,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    shard
        .and_then(|s| s.shard_spec_overrides.as_ref())
        .and_then(|o| o.image_ref.clone())
        .or_else(|| integration.image_ref.clone())
        .or_else(|| ctx.default_image())
        .ok_or_else(|| RenderError::MissingImage {
            integration: integration.name.clone(),
            namespace: ctx.namespace.clone(),
            environment: ctx.environment.clone(),
        })
}

/// The prefix of an integration's template parameters: the name upper-cased, `-` → `_`
/// (helm `upper | replace "-" "_"`).
pub fn parameter_prefix(integration: &str) -> String {
    integration.to_uppercase().replace('-', "_")
}

/// Resources: the shard override; else `spec.resources`, each field it sets read from the
/// template parameter `<NAME>_{CPU,MEMORY}_{REQUEST,LIMIT}` whose default is that field (as
/// upstream's template, so the environment parameters and the manager's environment override
/// it); else those parameters when the environment sets them; else none.
fn resources(
    integration: &IntegrationDeployment,
    shard: Option<&ShardSpec>,
    ctx: &RenderContext,
) -> Option<Value> {
    if let Some(r) = shard
        .and_then(|s| s.shard_spec_overrides.as_ref())
        .and_then(|o| o.resources.clone())
    {
        return Some(r);
    }
    let prefix = parameter_prefix(&integration.name);
    if let Some(mut r) = integration.resources.clone() {
        for (section, suffix) in [("requests", "REQUEST"), ("limits", "LIMIT")] {
            if let Some(Value::Object(values)) = r.get_mut(section) {
                for (resource, value) in values.iter_mut() {
                    let key = format!("{prefix}_{}_{suffix}", resource.to_uppercase());
                    if let (Some(v), true) = (ctx.parameter(&key), value.is_string()) {
                        *value = Value::String(v.to_owned());
                    }
                }
            }
        }
        return Some(r);
    }
    let mut out = Map::new();
    for (section, suffix) in [("requests", "REQUEST"), ("limits", "LIMIT")] {
        let mut values = Map::new();
        for resource in ["cpu", "memory"] {
            let key = format!("{prefix}_{}_{suffix}", resource.to_uppercase());
            if let Some(v) = ctx.parameter(&key) {
                values.insert(resource.to_owned(), Value::String(v.to_owned()));
            }
        }
        if !values.is_empty() {
            out.insert(section.to_owned(), Value::Object(values));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The environment of the `int` container.
fn env(
    integration: &IntegrationDeployment,
    shard: Option<&ShardSpec>,
    ctx: &RenderContext,
) -> Result<Vec<Value>, RenderError> {
    let mut env = Vec::new();
    if let Some(shard) = shard {
        if !shard.shard_id.is_empty() {
            env.push(literal("SHARDS", shard.shards.clone()));
            env.push(literal("SHARD_ID", shard.shard_id.clone()));
        }
        if !shard.shard_key.is_empty() {
            env.push(literal("SHARD_KEY", shard.shard_key.clone()));
        }
    }
    env.push(literal(
        "DRY_RUN",
        ctx.parameter("DRY_RUN").unwrap_or(DEFAULT_DRY_RUN),
    ));
    if let Some(command) = &integration.command {
        env.push(literal("COMMAND_NAME", command.clone()));
    }
    env.push(literal("INTEGRATION_NAME", integration.name.clone()));
    let extra_args = match shard {
        Some(shard) => shard.extra_args.clone(),
        None => integration.extra_args.clone().unwrap_or_default(),
    };
    env.push(literal("INTEGRATION_EXTRA_ARGS", extra_args.trim()));
    // Upstream's template: `${<NAME>_SLEEP_DURATION_SECS}` (default `sleepDurationSecs`) when
    // the spec sets it, else `${SLEEP_DURATION_SECS}`.
    let sleep = match integration.sleep_duration_secs.as_deref() {
        Some(own) => ctx
            .parameter(&format!(
                "{}_SLEEP_DURATION_SECS",
                parameter_prefix(&integration.name)
            ))
            .unwrap_or(own),
        None => ctx
            .parameter("SLEEP_DURATION_SECS")
            .unwrap_or(DEFAULT_SLEEP_DURATION_SECS),
    };
    env.push(literal("SLEEP_DURATION_SECS", sleep));
    env.push(literal("CONFIG", format!("{CONFIG_DIR}/config.toml")));
    env.push(literal("PROMETHEUS_PORT", METRICS_PORT.to_string()));
    if let Some(level) = ctx.parameter("LOG_LEVEL") {
        env.push(literal("LOG_LEVEL", level));
    }
    if integration.state {
        for (name, key) in [
            ("APP_INTERFACE_STATE_BUCKET", "aws.s3.bucket"),
            ("APP_INTERFACE_STATE_BUCKET_REGION", "aws.region"),
            (
                "APP_INTERFACE_STATE_BUCKET_ACCESS_KEY_ID",
                "aws.access.key.id",
            ),
            (
                "APP_INTERFACE_STATE_BUCKET_SECRET_ACCESS_KEY",
                "aws.secret.access.key",
            ),
        ] {
            env.push(secret_ref(name, STATE_SECRET, key));
        }
    }
    if integration.environment_aware {
        for name in ["IMAGE", "IMAGE_TAG"] {
            if let Some(v) = ctx.parameter(name) {
                env.push(literal(name, v));
            }
        }
    }
    for (index, extra) in integration.extra_env.iter().enumerate() {
        let entry = match extra {
            ExtraEnv {
                secret_name: Some(secret),
                secret_key: Some(key),
                ..
            } => secret_ref(key, secret, key),
            ExtraEnv {
                secret_name: None,
                secret_key: None,
                name: Some(name),
                value: Some(value),
            } => literal(name, value.clone()),
            _ => {
                return Err(RenderError::InvalidExtraEnv {
                    integration: integration.name.clone(),
                    namespace: ctx.namespace.clone(),
                    index,
                });
            }
        };
        env.push(entry);
    }
    Ok(env)
}

fn container(
    integration: &IntegrationDeployment,
    shard: Option<&ShardSpec>,
    ctx: &RenderContext,
    extra_env: &[Value],
) -> Result<Value, RenderError> {
    let mut env = env(integration, shard, ctx)?;
    env.extend(extra_env.iter().cloned());
    let mut container = json!({
        "name": "int",
        "image": image(integration, shard, ctx)?,
        "ports": [{"name": "http", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "env": env,
        "volumeMounts": [{"name": "qontract-reconcile-toml", "mountPath": CONFIG_DIR, "readOnly": true}],
    });
    if let Some(resources) = resources(integration, shard, ctx) {
        container["resources"] = resources;
    }
    Ok(container)
}

fn config_volume() -> Value {
    json!({"name": "qontract-reconcile-toml", "secret": {"secretName": CONFIG_SECRET}})
}

/// A Deployment, or a StatefulSet with a cache volume when `spec.cache`, for one shard.
fn workload(
    integration: &IntegrationDeployment,
    shard: &ShardSpec,
    ctx: &RenderContext,
) -> Result<Value, RenderError> {
    let name = format!(
        "{}{}",
        object_name(&integration.name),
        shard.shard_name_suffix
    );
    let disabled = shard
        .shard_spec_overrides
        .as_ref()
        .and_then(|o| o.disabled)
        .unwrap_or(false);
    let mut container = container(integration, Some(shard), ctx, &[])?;
    if integration.cache
        && let Some(mounts) = container["volumeMounts"].as_array_mut()
    {
        mounts.push(json!({"name": "cache", "mountPath": "/.cache"}));
    }
    let mut spec = json!({
        "replicas": if disabled { 0 } else { 1 },
        "selector": {"matchLabels": {"app": object_name(&integration.name)}},
        "template": {
            "metadata": {"labels": labels(&integration.name)},
            "spec": {
                "containers": [container],
                "volumes": [config_volume()],
            },
        },
    });
    let kind = if integration.cache {
        spec["serviceName"] = Value::String(name.clone());
        spec["volumeClaimTemplates"] = json!([{
            "metadata": {"name": "cache"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": integration
                    .storage_class_name
                    .as_deref()
                    .unwrap_or(DEFAULT_STORAGE_CLASS),
                "resources": {"requests": {"storage": integration
                    .storage
                    .as_deref()
                    .unwrap_or(DEFAULT_CACHE_STORAGE)}},
            },
        }]);
        "StatefulSet"
    } else {
        "Deployment"
    };
    Ok(json!({
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "labels": labels(&integration.name)},
        "spec": spec,
    }))
}

/// The CronJob of a cron integration (not sharded: it runs with `spec.extraArgs`).
fn cron_job(
    integration: &IntegrationDeployment,
    schedule: &str,
    ctx: &RenderContext,
) -> Result<Value, RenderError> {
    let mut extra = vec![literal("RUN_ONCE", "true")];
    if integration.enable_pushgateway {
        extra.push(literal("PUSHGATEWAY_ENABLED", "true"));
        for (name, key) in [
            ("PUSHGATEWAY_URL", "server"),
            ("PUSHGATEWAY_USERNAME", "username"),
            ("PUSHGATEWAY_PASSWORD", "password"),
        ] {
            extra.push(secret_ref(name, PUSHGATEWAY_SECRET, key));
        }
    }
    let container = container(integration, None, ctx, &extra)?;
    Ok(json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": object_name(&integration.name), "labels": labels(&integration.name)},
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": integration.concurrency_policy.as_deref().unwrap_or("Allow"),
            "successfulJobsHistoryLimit": integration.successful_job_history_limit.unwrap_or(3),
            "failedJobsHistoryLimit": integration.failed_job_history_limit.unwrap_or(1),
            "jobTemplate": {"spec": {"template": {
                "metadata": {"labels": labels(&integration.name)},
                "spec": {
                    "restartPolicy": integration.restart_policy.as_deref().unwrap_or("OnFailure"),
                    "containers": [container],
                    "volumes": [config_volume()],
                },
            }}},
        },
    }))
}

/// The Service in front of every integration's metrics port.
pub fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": SERVICE_NAME, "labels": {"app": SERVICE_NAME}},
        "spec": {
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": METRICS_PORT}],
            "selector": {"component": COMPONENT},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_sharding::{
        IntegrationCliMeta, Sharding, ShardingInputs, ShardingTarget, build_integration_shards,
    };

    fn ctx() -> RenderContext {
        RenderContext {
            namespace: "/services/app-sre/namespaces/app-sre-integrations.yml".into(),
            environment: "production".into(),
            parameters: BTreeMap::from([
                (
                    "IMAGE".into(),
                    "quay.io/app-sre/qontract-reconcile-rs".into(),
                ),
                ("IMAGE_TAG".into(), "abc1234".into()),
                ("DRY_RUN".into(), "--no-dry-run".into()),
            ]),
        }
    }

    fn integration(name: &str, sharding: Option<&Sharding>) -> IntegrationDeployment {
        let meta = IntegrationCliMeta {
            args: vec!["--cluster-name".into()],
        };
        let inputs = ShardingInputs {
            clusters: ["appsres01", "appsrep01"]
                .map(|c| ShardingTarget {
                    name: c.into(),
                    disabled_integrations: vec![],
                })
                .to_vec(),
            ..ShardingInputs::default()
        };
        IntegrationDeployment {
            name: name.into(),
            extra_args: Some("--no-use-jump-host".into()),
            resources: Some(json!({
                "requests": {"cpu": "100m", "memory": "200Mi"},
                "limits": {"memory": "400Mi"},
            })),
            shards: build_integration_shards(
                name,
                Some(&meta),
                Some("--no-use-jump-host"),
                sharding,
                &inputs,
            )
            .unwrap(),
            ..IntegrationDeployment::default()
        }
    }

    #[test]
    fn one_deployment() {
        let mut i = integration("openshift-namespaces", None);
        i.extra_env = vec![
            ExtraEnv {
                name: Some("GITHUB_API".into()),
                value: Some("http://github-mirror".into()),
                ..ExtraEnv::default()
            },
            ExtraEnv {
                secret_name: Some("unleash".into()),
                secret_key: Some("UNLEASH_API_URL".into()),
                ..ExtraEnv::default()
            },
        ];
        i.sleep_duration_secs = Some("120".into());
        let objects = render_integration(&i, &ctx()).unwrap();
        assert_eq!(objects.len(), 1);
        insta::assert_yaml_snapshot!(objects[0]);
    }

    #[test]
    fn a_statically_sharded_integration_has_one_deployment_per_shard() {
        let sharding = Sharding {
            strategy: "static".into(),
            shards: Some(3),
            shard_spec_overrides: None,
        };
        let objects =
            render_integration(&integration("openshift-resources", Some(&sharding)), &ctx())
                .unwrap();
        let names: Vec<_> = objects
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "qontract-reconcile-openshift-resources-0",
                "qontract-reconcile-openshift-resources-1",
                "qontract-reconcile-openshift-resources-2"
            ]
        );
        insta::assert_yaml_snapshot!(objects);
    }

    #[test]
    fn per_cluster_shards_use_their_overrides() {
        let sharding: Sharding = serde_json::from_value(json!({
            "strategy": "per-openshift-cluster",
            "shardSpecOverrides": [
                {"shard": {"name": "appsres01"}, "disabled": true},
                {"shard": {"name": "appsrep01"}, "imageRef": "quay.io/x/y:pinned",
                 "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}},
            ],
        }))
        .unwrap();
        let objects =
            render_integration(&integration("openshift-resources", Some(&sharding)), &ctx())
                .unwrap();
        assert_eq!(objects.len(), 2);
        insta::assert_yaml_snapshot!(objects);
    }

    #[test]
    fn a_cron_integration_is_one_cron_job() {
        let mut i = integration("aws-iam-keys", None);
        i.cron = Some("*/10 * * * *".into());
        i.enable_pushgateway = true;
        i.concurrency_policy = Some("Forbid".into());
        let objects = render_integration(&i, &ctx()).unwrap();
        assert_eq!(objects.len(), 1);
        insta::assert_yaml_snapshot!(objects[0]);
    }

    #[test]
    fn a_cached_integration_is_a_stateful_set_with_its_volume() {
        let mut i = integration("gitlab-housekeeping", None);
        i.cache = true;
        i.state = true;
        i.image_ref = Some("quay.io/app-sre/qontract-reconcile-rs:pinned".into());
        i.resources = None;
        let mut ctx = ctx();
        ctx.parameters
            .insert("GITLAB_HOUSEKEEPING_MEMORY_LIMIT".into(), "1Gi".into());
        ctx.parameters
            .insert("GITLAB_HOUSEKEEPING_CPU_REQUEST".into(), "50m".into());
        let objects = render_integration(&i, &ctx).unwrap();
        assert_eq!(objects.len(), 1);
        insta::assert_yaml_snapshot!(objects[0]);
    }

    #[test]
    fn the_namespace_gets_one_service_and_errors_name_the_integration() {
        let mut broken = integration("broken", None);
        broken.extra_env = vec![ExtraEnv {
            name: Some("X".into()),
            ..ExtraEnv::default()
        }];
        let mut no_image = integration("no-image", None);
        no_image.image_ref = None;
        let mut ctx_without_image = ctx();
        ctx_without_image.parameters.remove("IMAGE");
        let (objects, errors) = render_namespace(
            &[integration("a", None), broken, no_image],
            &ctx_without_image,
        );
        // "a" has no image either: every integration without one is reported.
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0]["kind"], "Service");
        assert_eq!(errors.len(), 3, "{errors:?}");
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(messages[1].contains("broken") && messages[1].contains("extraEnv[0]"));
        assert!(messages[2].contains("no-image") && messages[2].contains("IMAGE"));
        assert!(
            messages
                .iter()
                .all(|m| m.contains("app-sre-integrations.yml"))
        );
        insta::assert_yaml_snapshot!(objects[0]);
    }

    #[test]
    fn an_image_without_a_tag_is_an_error_not_latest() {
        let mut ctx = ctx();
        ctx.parameters.remove("IMAGE_TAG");
        let err = render_integration(&integration("a", None), &ctx).unwrap_err();
        assert!(
            matches!(&err, RenderError::MissingImage { integration, .. } if integration == "a"),
            "{err}"
        );
        ctx.parameters.insert("IMAGE_TAG".into(), "v1".into());
        ctx.parameters
            .insert("IMAGE_DIGEST".into(), "sha256:0a1b".into());
        let objects = render_integration(&integration("a", None), &ctx).unwrap();
        assert_eq!(
            objects[0]["spec"]["template"]["spec"]["containers"][0]["image"],
            "quay.io/app-sre/qontract-reconcile-rs:v1@sha256:0a1b"
        );
    }
}
