//! `integrations-manager`: deploys the integrations themselves. Every integration's
//! `managed[]` entries (namespace, deployment `spec`, `sharding`) become, in that namespace,
//! one `Deployment` per shard (a `StatefulSet` with a cache volume when `spec.cache`), a
//! `CronJob` for cron integrations, and one `Service` for the metrics port — rendered natively
//! ([`render`]; no helm, no oc) and reconciled with the shared OpenShift engine.
//!
//! The loop: desired state ([`desired`]: sharding by `qontract-sharding`, as upstream's
//! `IntegrationShardManager`) → current state of Deployment, StatefulSet, CronJob and Service in
//! each target namespace, restricted to the objects whose `qontract.caller_name` is the
//! `--upstream` when one is given → the plan of `qontract-resource-inventory` (no take-over:
//! objects of other integrations or callers are never touched) → printed (`--dry-run`, zero
//! writes) or applied by `qontract-openshift-engine`.
//!
//! The containers run the image's entrypoint, `qontract-reconcile run-integration`: one
//! multi-call binary logging to stderr, so there is no fluentd sidecar (upstream's template
//! has one). Differences from upstream: `--image-tag-from-ref` and the
//! `INTEGRATION_UPSTREAM_REPOS` parameter need GitHub to resolve a ref and are not supported
//! (the first is refused, the second ignored with a warning); the `static`,
//! `per-openshift-cluster` and `per-aws-account` sharding strategies are queried
//! (`per-ocm-organization` is reported as an error).

pub mod desired;
pub mod registry;
pub mod render;

use clap::{Args, Command};
use qontract_gql_bindings::integrations_managed::IntegrationsManaged;
use qontract_runtime::{Integration, RunContext, RunOutcome};
use qontract_sharding::IntegrationCliMeta;

/// CLI name (and `integrations_v1` entry).
pub const NAME: &str = "integrations-manager";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntegrationsManager;

/// Arguments of `integrations-manager`.
#[derive(Debug, Clone, Args)]
pub struct IntegrationsManagerArgs {
    /// Only deploy to namespaces of this environment
    #[arg(long, env = "INTEGRATIONS_MANAGER_ENVIRONMENT_NAME")]
    pub environment_name: Option<String>,
    /// Only namespaces on clusters marked internal
    #[arg(long, env = "QONTRACT_INTERNAL", overrides_with = "external")]
    pub internal: bool,
    /// Only namespaces on clusters not marked internal
    #[arg(long, env = "QONTRACT_EXTERNAL", overrides_with = "internal")]
    pub external: bool,
    /// ENV=REF: take IMAGE_TAG of environment ENV from a git ref (not supported: needs GitHub)
    #[arg(
        short = 'r',
        long,
        env = "INTEGRATIONS_MANAGER_IMAGE_TAG_FROM_REF",
        value_delimiter = ','
    )]
    pub image_tag_from_ref: Vec<String>,
    /// Only deploy the integrations of this upstream repository; the objects are recorded with
    /// it as caller and objects of other callers are left alone
    #[arg(short = 'u', long, env = "INTEGRATIONS_MANAGER_UPSTREAM")]
    pub upstream: Option<String>,
    /// Image of the integrations (the IMAGE parameter)
    #[arg(short = 'i', long, env = "INTEGRATIONS_MANAGER_IMAGE")]
    pub image: Option<String>,
    /// List unchanged objects in the plan too
    #[arg(long, env = "QONTRACT_SHOW_UNCHANGED")]
    pub show_unchanged: bool,
}

/// The CLI options (`--long` names) of an integration of the [`registry`] (upstream
/// `get_integration_cli_meta`). Integrations not implemented here (e.g. Go or Python-only ones)
/// have none, so key strategies fail for them, as upstream does for integrations unknown to
/// its CLI.
pub fn cli_meta(integration: &str) -> Option<IntegrationCliMeta> {
    let spec = registry::integrations()
        .into_iter()
        .find(|s| s.name == integration)?;
    let command = spec.augment_args(Command::new(spec.name));
    Some(IntegrationCliMeta {
        args: command
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect(),
    })
}

impl Integration for IntegrationsManager {
    type Args = IntegrationsManagerArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Deploy the integrations (Deployments / StatefulSets per shard, CronJobs) declared in integrations' managed sections";

    /// The integrations' managed data the desired state is built from.
    async fn early_exit_desired_state(
        ctx: RunContext,
        _args: Self::Args,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let request =
            qontract_gql::GqlRequest::new(qontract_gql_bindings::integrations_managed::QUERY);
        Ok(Some(ctx.gql.query(&request).await?))
    }

    async fn run(ctx: RunContext, args: Self::Args) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        if !args.image_tag_from_ref.is_empty() {
            anyhow::bail!(
                "--image-tag-from-ref ({}) is not supported: resolving a git ref needs GitHub; \
                 set IMAGE_TAG in the environment parameters or pass --image",
                args.image_tag_from_ref.join(", ")
            );
        }
        let data = ctx.gql.run(IntegrationsManaged::build(())).await?;
        let options = desired::Options {
            integration: NAME,
            environment_name: args.environment_name,
            upstream: args.upstream,
            image: args.image,
            internal: match (args.internal, args.external) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            parameter_overrides: std::env::vars()
                .filter(|(name, _)| desired::may_be_template_parameter(name))
                .collect(),
        };
        let desired = desired::desired_state(&data, &options, &cli_meta);
        let (desired_objects, _) = desired.inventory.len();
        tracing::info!(
            "desired state: {desired_objects} object(s) for {} integration deployment(s) in {} \
             namespace(s), {} error(s)",
            desired.deployments,
            desired.namespaces,
            desired.inventory.errors().len()
        );
        qontract_realize::realize(
            &ctx,
            qontract_realize::Realize {
                integration: NAME,
                annotation_name: desired::ANNOTATION_NAME,
                version: desired::INTEGRATION_VERSION,
                inventory: desired.inventory,
                clusters: desired.clusters,
                privileged: Default::default(),
                show_unchanged: args.show_unchanged,
                caller: options.upstream.clone(),
                internal: options.internal,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_integration_has_its_cli_meta() {
        // All ten, not only the three the manager used to know: per-openshift-cluster
        // sharding works for every integration with --cluster-name.
        let names: Vec<&str> = registry::integrations().iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 15, "{names:?}");
        for name in names {
            let meta = cli_meta(name).unwrap_or_else(|| panic!("{name}: no cli meta"));
            // vault-replication has no cluster to shard on (upstream: no sharding either).
            // openshift-groups (sharded by cluster name, with no flag) and openshift-users (not
            // sharded) neither, as upstream.
            if name != NAME
                && name != qontract_vault_replication::NAME
                && name != qontract_openshift_groups::NAME
                && name != qontract_openshift_users::NAME
            {
                assert!(
                    meta.args.iter().any(|a| a == "--cluster-name"),
                    "{name}: {meta:?}"
                );
            }
        }
    }

    #[test]
    fn cli_meta_lists_the_long_options_of_known_integrations() {
        let meta = cli_meta("openshift-resources").unwrap();
        assert!(meta.args.iter().any(|a| a == "--cluster-name"), "{meta:?}");
        let meta = cli_meta(NAME).unwrap();
        assert!(meta.args.iter().any(|a| a == "--upstream"), "{meta:?}");
        assert!(cli_meta("some-go-integration").is_none());
    }
}
