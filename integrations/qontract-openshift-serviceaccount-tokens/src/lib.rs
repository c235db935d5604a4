//! `openshift-serviceaccount-tokens`: for every entry of a namespace's
//! `openshiftServiceAccountTokens` (and of its `sharedResources`' ones), an `Opaque` Secret in
//! that namespace holding the token of the named service account, which lives in another
//! namespace (possibly on another cluster); with `--vault-output-path`, the copied tokens are
//! also written to Vault.
//!
//! As upstream `reconcile/openshift_serviceaccount_tokens.py` today:
//! * the copied Secret is named after the entry's `name`, else
//!   `<sa cluster>-<sa namespace>-<service account>`, and holds `data.token`, the
//!   `data.token` of the first (by name) `kubernetes.io/service-account-token` Secret of the
//!   service account in its namespace (`fetch_desired_state`, `get_tokens_for_service_account`);
//! * when the service account has no such Secret (OpenShift 4.16+ creates none), one is
//!   requested instead: a `kubernetes.io/service-account-token` Secret named
//!   `<service account>-token-<5 random digits>` in the service account's namespace, annotated
//!   for `openshift-serviceaccount-tokens-unmanaged` so that it is never read back as ours nor
//!   deleted (`service_account_token_request`); the copy follows on the next run;
//! * only `Secret` is managed, in the consuming namespaces and in the service accounts'
//!   namespaces (`canonicalize_namespaces`, `override_managed_types=["Secret"]`); a namespace
//!   that declares no token any more is not managed, so its last copied Secret stays;
//! * namespaces with `delete: true` or on clusters that disable the integration are skipped;
//!   no sharding and no early exit (upstream has neither);
//! * wet runs with `--vault-output-path P` write each desired Secret's data, base64-decoded, to
//!   `P/openshift-serviceaccount-tokens/<cluster>/<namespace>/<name>` and
//!   `P/openshift-serviceaccount-tokens/shared-resources/<name>` (`write_outputs_to_vault`; on
//!   KV v2 an unchanged value writes no new version, as `VaultClient.write`).

pub mod desired;
mod vault;

use std::collections::BTreeMap;

use clap::Args;
use qontract_cluster_client::{ClusterMap, ClusterMapOptions};
use qontract_gql_bindings::serviceaccount_tokens_namespaces::ServiceAccountTokensNamespaces;
use qontract_realize::{DesiredInventory, RealizeOptions};
use qontract_runtime::{
    DesiredInput, IntegrationInfo, InventoryIntegration, Realizable, RealizeTarget, RunContext,
    RunOutcome,
};

pub use desired::{ReadSecretsError, SecretsByNamespace, desired_state};

/// CLI name, also the `qontract.integration` annotation of the copied Secrets.
pub const NAME: &str = "openshift-serviceaccount-tokens";

/// Version recorded in `qontract.integration_version` (upstream `make_semver(0, 1, 0)`).
pub const VERSION: &str = "0.1.0";

/// The annotation of the token Secrets requested for a service account: not this
/// integration's, so they are never part of its current state (upstream
/// `f"{QONTRACT_INTEGRATION}-unmanaged"`).
pub const UNMANAGED: &str = "openshift-serviceaccount-tokens-unmanaged";

/// The managed type.
pub const MANAGED_TYPE: &str = "Secret";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftServiceAccountTokens;

/// Arguments of `openshift-serviceaccount-tokens` (beyond the common target arguments).
#[derive(Debug, Clone, Default, Args)]
pub struct ServiceAccountTokensArgs {
    /// Path in Vault to store output resources (the copied tokens; wet runs only)
    #[arg(long, default_value = "")]
    pub vault_output_path: String,
}

/// The desired state and where its tokens go after the run.
#[derive(Debug)]
pub struct TokensDesired {
    /// The desired Secrets (copies and token requests).
    pub inventory: DesiredInventory,
    /// `--vault-output-path` (empty: no output).
    pub vault_output_path: String,
}

impl Realizable for TokensDesired {
    type Options = RealizeOptions;

    /// Not used (the integration has no early exit): the desired state holds tokens.
    fn early_exit_state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    async fn realize(
        self,
        ctx: &RunContext,
        target: RealizeTarget,
        options: RealizeOptions,
    ) -> anyhow::Result<RunOutcome> {
        let outputs = vault::outputs(&self.inventory.inventory);
        let mut outcome = self.inventory.realize(ctx, target, options).await?;
        if !ctx.dry_run && !self.vault_output_path.is_empty() {
            outcome
                .errors
                .extend(vault::write_outputs(ctx, &self.vault_output_path, &outputs).await?);
        }
        Ok(outcome)
    }
}

impl InventoryIntegration for OpenshiftServiceAccountTokens {
    type Args = ServiceAccountTokensArgs;
    type Query = ServiceAccountTokensNamespaces;
    type Desired = TokensDesired;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Use OpenShift ServiceAccount tokens across namespaces/clusters",
        managed_types: &[MANAGED_TYPE],
        early_exit: false,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<TokensDesired> {
        let internal = input.args.target.scope.internal();
        let namespaces = desired::canonicalize(input.data.namespaces(), input.scope);
        let secrets = read_service_account_secrets(input.ctx, &namespaces, internal).await?;
        let inventory = desired_state(&namespaces, internal, &secrets, &mut random_suffix);
        Ok(TokensDesired {
            inventory,
            vault_output_path: input.args.extra.vault_output_path.clone(),
        })
    }
}

/// Five random digits (upstream `random.randrange(99999):05d`).
fn random_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    u32::try_from(hasher.finish() % 99_999).unwrap_or_default()
}

/// The Secrets of every service account's namespace, read live (upstream
/// `oc.get_items(kind="Secret", namespace=...)`, in dry runs too): `Ok(items)`, the error
/// that prevented the read, or no entry when the cluster is skipped (integration disabled
/// there, other `--internal`/`--external` side).
async fn read_service_account_secrets(
    ctx: &RunContext,
    namespaces: &[desired::Consumer],
    internal: Option<bool>,
) -> anyhow::Result<SecretsByNamespace> {
    let mut specs = BTreeMap::new();
    for consumer in namespaces {
        for token in &consumer.tokens {
            specs
                .entry(token.cluster.name.clone())
                .or_insert_with(|| token.cluster.clone());
        }
    }
    let mut out = SecretsByNamespace::new();
    if specs.is_empty() {
        return Ok(out);
    }
    let options = ClusterMapOptions {
        integration: NAME.to_owned(),
        internal,
        concurrency: ctx.thread_pool_size,
        ..ClusterMapOptions::default()
    };
    let secrets = ctx.secrets.reader().await?;
    let clusters = ClusterMap::build(specs.into_values().collect(), secrets, &options).await;
    for consumer in namespaces {
        for token in &consumer.tokens {
            let key = (token.cluster.name.clone(), token.namespace.clone());
            if out.contains_key(&key) {
                continue;
            }
            let read = match clusters.get(&token.cluster.name, false) {
                None => continue,
                Some(Err(e)) => Err(ReadSecretsError::Client {
                    cluster: token.cluster.name.clone(),
                    namespace: token.namespace.clone(),
                    reason: e.to_string(),
                }),
                Some(Ok(client)) => {
                    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
                        client.client.clone(),
                        &token.namespace,
                        &kube::api::ApiResource::from_gvk_with_plural(
                            &kube::api::GroupVersionKind::gvk("", "v1", "Secret"),
                            "secrets",
                        ),
                    );
                    match api.list(&kube::api::ListParams::default()).await {
                        Ok(list) => Ok(list
                            .items
                            .into_iter()
                            .filter_map(|o| serde_json::to_value(o).ok())
                            .collect()),
                        Err(e) => Err(ReadSecretsError::List {
                            cluster: token.cluster.name.clone(),
                            namespace: token.namespace.clone(),
                            reason: e.to_string(),
                        }),
                    }
                }
            };
            out.insert(key, read);
        }
    }
    Ok(out)
}
