//! `vault-replication`: copies KV secrets from a Vault instance to the instances it replicates
//! to, version by version (upstream `reconcile/vault_replication.py`).
//!
//! Desired state: every `vault_instances_v1` entry with `replication`; the instance is the
//! source, `replication.vaultInstance` the destination, each logged in to with the AppRole
//! credentials of `sourceAuth` / `destAuth` (read through the run's secret reader). The secrets
//! replicated come from `replication.paths`:
//!
//! * `policy`: the `path "..."` lines of the policy; a folder (`a/b/` or `a/b/*`) means every
//!   secret under it on the source, listed recursively.
//! * `jenkins`: the `secret-path:` lines of the Jenkins configs of that instance (a `{...}`
//!   template matched against a listing of the source); with a `policy`, every path must lie
//!   inside one of its paths, otherwise the entry is an error.
//!
//! Each secret is planned ([`plan::plan_secret`]), printed, and written unless `--dry-run`.
//! Secrets that exist only on the destination are never touched: nothing is deleted. No early
//! exit and no sharding, as upstream.

pub mod paths;
pub mod plan;

use std::collections::BTreeSet;

use anyhow::Context as _;
use clap::Args;
use qontract_gql_bindings::vault_replication_instances::{
    VaultInstanceAuthV13, VaultInstanceAuthV14, VaultInstanceV1, VaultReplicationConfigV1,
    VaultReplicationPathsV12, VaultSecret as GqlVaultSecret,
};
use qontract_gql_bindings::vault_replication_jenkins_configs::{
    JenkinsConfigV1, VaultReplicationJenkinsConfigs,
};
use qontract_runtime::{Integration, OutputFormat, RunContext, RunOutcome};
use qontract_secrets::{Secret, SecretReader, VaultAuth, VaultSecretReader, VaultSettings};
use serde::Serialize;

use crate::paths::{JenkinsSecretPath, PathError, PolicySelection};
use crate::plan::{Planned, SecretPlan};

/// Integration name (also the `integrations_v1` entry).
pub const NAME: &str = "vault-replication";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct VaultReplication;

/// Arguments of `vault-replication` (none besides the common flags, as upstream).
#[derive(Debug, Clone, Args)]
pub struct VaultReplicationArgs {}

impl Integration for VaultReplication {
    type Args = VaultReplicationArgs;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Allow vault to replicate secrets to other instances.";

    async fn run(ctx: RunContext, _args: Self::Args) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        let data = ctx
            .gql
            .run(
                qontract_gql_bindings::vault_replication_instances::VaultReplicationInstances::build(
                    (),
                ),
            )
            .await
            .context("querying vault_instances_v1")?;
        let instances = data.vault_instances.unwrap_or_default();
        let mut run = Run {
            ctx: &ctx,
            jenkins: None,
            outcome: RunOutcome::default(),
            report: Vec::new(),
        };
        for instance in &instances {
            for replication in instance.replication.iter().flatten() {
                run.replication(instance, replication).await;
            }
        }
        print_report(&ctx, &run.report, &run.outcome)?;
        Ok(run.outcome)
    }
}

/// The plan of one replication (source instance → destination instance).
#[derive(Debug, Serialize)]
pub struct ReplicationReport {
    /// Source instance name.
    pub source: String,
    /// Destination instance name.
    pub destination: String,
    /// Secrets replicated (or to replicate, in a dry run).
    pub secrets: Vec<SecretReport>,
}

/// One secret of a [`ReplicationReport`] (never its values).
#[derive(Debug, Serialize)]
pub struct SecretReport {
    /// Secret path.
    pub path: String,
    /// `copy`, `copy versions 3..5 (dummy: 4)`.
    pub action: String,
    /// Why.
    pub reason: plan::Reason,
}

struct Run<'a> {
    ctx: &'a RunContext,
    jenkins: Option<Vec<JenkinsConfigV1>>,
    outcome: RunOutcome,
    report: Vec<ReplicationReport>,
}

impl Run<'_> {
    fn error(&mut self, message: String) {
        tracing::error!("{message}");
        self.outcome.errors.push(message);
    }

    async fn replication(
        &mut self,
        instance: &VaultInstanceV1,
        replication: &VaultReplicationConfigV1,
    ) {
        let label = format!(
            "replication {} -> {}",
            instance.name, replication.vault_instance.name
        );
        let (source, dest) = match self.connect(instance, replication).await {
            Ok(pair) => pair,
            Err(e) => return self.error(format!("{label}: {e:#}")),
        };
        let mut selected = BTreeSet::new();
        for (index, entry) in replication.paths.iter().flatten().enumerate() {
            match self
                .select(&source, &entry.vault_replication_paths_v12)
                .await
            {
                Ok(paths) => selected.extend(paths),
                Err(e) => self.error(format!(
                    "{label}: paths[{index}] (provider {}): {e:#}",
                    entry.provider
                )),
            }
        }
        let mut report = ReplicationReport {
            source: instance.name.clone(),
            destination: replication.vault_instance.name.clone(),
            secrets: Vec::new(),
        };
        for path in &selected {
            let planned = match plan::plan_secret(&source, &dest, path).await {
                Ok(p) => p,
                Err(e) => {
                    self.error(format!("{label}: secret {path}: {e}"));
                    continue;
                }
            };
            let secret_plan: SecretPlan = match planned {
                Planned::Replicate(p) => p,
                Planned::UpToDate => continue,
                Planned::SourceMissing => {
                    // Upstream logs this and carries on (exit code unaffected).
                    tracing::error!(
                        "['replicate_vault_secret', 'no versions found for secret', '{path}'] ({label})"
                    );
                    continue;
                }
            };
            match plan::apply(&dest, &secret_plan, self.ctx.dry_run).await {
                Ok(()) => {
                    self.outcome.changes += 1;
                    report.secrets.push(SecretReport {
                        action: secret_plan.action(),
                        path: secret_plan.path.clone(),
                        reason: secret_plan.reason.clone(),
                    });
                }
                Err(e) => self.error(format!("{label}: writing secret {path}: {e}")),
            }
        }
        self.report.push(report);
    }

    /// Logs in to both instances with the replication's AppRole credentials (upstream
    /// `get_vault_credentials`: only `approle` is supported).
    async fn connect(
        &self,
        instance: &VaultInstanceV1,
        replication: &VaultReplicationConfigV1,
    ) -> anyhow::Result<(VaultSecretReader, VaultSecretReader)> {
        let reader = self.ctx.secrets.reader().await?;
        let source_auth = match &replication.source_auth.vault_instance_auth_v14 {
            VaultInstanceAuthV14::VaultInstanceAuthApproleV12(a) => (&a.role_id, &a.secret_id),
            VaultInstanceAuthV14::Unknown => anyhow::bail!(
                "sourceAuth provider {:?} is not supported (only approle)",
                replication.source_auth.provider
            ),
        };
        let dest_auth = match &replication.dest_auth.vault_instance_auth_v13 {
            VaultInstanceAuthV13::VaultInstanceAuthApproleV1(a) => (&a.role_id, &a.secret_id),
            VaultInstanceAuthV13::Unknown => anyhow::bail!(
                "destAuth provider {:?} is not supported (only approle)",
                replication.dest_auth.provider
            ),
        };
        let source = approle_login(reader.as_ref(), &instance.address, source_auth)
            .await
            .with_context(|| format!("source {} ({})", instance.name, instance.address))?;
        let dest = approle_login(
            reader.as_ref(),
            &replication.vault_instance.address,
            dest_auth,
        )
        .await
        .with_context(|| {
            format!(
                "destination {} ({})",
                replication.vault_instance.name, replication.vault_instance.address
            )
        })?;
        Ok((source, dest))
    }

    /// The secret paths one `paths` entry selects, listed on the source.
    async fn select(
        &mut self,
        source: &VaultSecretReader,
        entry: &VaultReplicationPathsV12,
    ) -> anyhow::Result<Vec<String>> {
        match entry {
            VaultReplicationPathsV12::VaultReplicationPolicyV1(p) => {
                let policy = p
                    .policy
                    .as_ref()
                    .context("policy is required when using the policy provider")?;
                let mut selected = Vec::new();
                for path in paths::policy_paths(&policy.rules) {
                    match paths::policy_selection(&path)
                        .with_context(|| format!("policy {}", policy.name))?
                    {
                        PolicySelection::Secret(s) => selected.push(s),
                        PolicySelection::Folder(folder) => selected.extend(
                            source
                                .list_all(&folder)
                                .await
                                .with_context(|| format!("policy {}", policy.name))?,
                        ),
                    }
                }
                Ok(selected)
            }
            VaultReplicationPathsV12::VaultReplicationJenkinsV1(j) => {
                let configs = self.jenkins_configs().await?;
                let mut selected = Vec::new();
                for config in configs
                    .iter()
                    .filter(|c| c.instance.name == j.jenkins_instance.name)
                {
                    let Some(resource) = &config.config_path else {
                        continue;
                    };
                    for secret_path in paths::jenkins_secret_paths(&resource.content) {
                        match secret_path {
                            JenkinsSecretPath::Literal(p) => selected.push(p),
                            JenkinsSecretPath::Template { path, list_folder } => {
                                let listed = source
                                    .list_all(&list_folder)
                                    .await
                                    .with_context(|| format!("jenkins config {}", config.name))?;
                                selected.extend(
                                    paths::expand_template(&path, &listed).with_context(|| {
                                        format!("jenkins config {}", config.name)
                                    })?,
                                );
                            }
                        }
                    }
                }
                if let Some(policy) = &j.policy {
                    let invalid =
                        paths::invalid_paths(&selected, &paths::policy_paths(&policy.rules));
                    if !invalid.is_empty() {
                        return Err(PathError::NotInPolicy {
                            policy: policy.name.clone(),
                            paths: invalid,
                        }
                        .into());
                    }
                }
                Ok(selected)
            }
            VaultReplicationPathsV12::Unknown => Ok(Vec::new()),
        }
    }

    async fn jenkins_configs(&mut self) -> anyhow::Result<&[JenkinsConfigV1]> {
        use cynic::QueryBuilder;
        if self.jenkins.is_none() {
            let data = self
                .ctx
                .gql
                .run(VaultReplicationJenkinsConfigs::build(()))
                .await
                .context("querying jenkins_configs_v1")?;
            self.jenkins = Some(data.jenkins_configs.unwrap_or_default());
        }
        Ok(self.jenkins.as_deref().unwrap_or_default())
    }
}

fn secret_ref(s: &GqlVaultSecret) -> qontract_secrets::VaultSecret {
    qontract_secrets::VaultSecret {
        path: s.path.clone(),
        field: s.field.clone(),
        version: s.version.and_then(|v| u64::try_from(v).ok()),
        format: s.format.clone(),
    }
}

async fn approle_login(
    reader: &dyn SecretReader,
    address: &str,
    (role_id, secret_id): (&GqlVaultSecret, &GqlVaultSecret),
) -> anyhow::Result<VaultSecretReader> {
    let role = reader
        .read(&secret_ref(role_id))
        .await
        .context("reading the AppRole roleID")?;
    let secret = reader
        .read(&secret_ref(secret_id))
        .await
        .context("reading the AppRole secretID")?;
    let settings = VaultSettings::new(
        address,
        VaultAuth::AppRole {
            mount: "approle".to_owned(),
            role_id: role.expose().to_owned(),
            secret_id: Secret::new(secret.expose()),
        },
    );
    Ok(VaultSecretReader::connect(settings).await?)
}

fn print_report(
    ctx: &RunContext,
    report: &[ReplicationReport],
    outcome: &RunOutcome,
) -> anyhow::Result<()> {
    match ctx.output {
        OutputFormat::Text => print!("{}", render_text(report, ctx.dry_run)),
        OutputFormat::Json => {
            let document = serde_json::json!({
                "dry_run": ctx.dry_run,
                "replications": report,
                "summary": {"secrets": outcome.changes, "errors": outcome.errors.len()},
            });
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(())
}

/// The text plan: one row per secret to replicate.
pub fn render_text(report: &[ReplicationReport], dry_run: bool) -> String {
    let mut rows = vec![[
        "SOURCE".to_owned(),
        "DESTINATION".to_owned(),
        "PATH".to_owned(),
        "ACTION".to_owned(),
        "REASON".to_owned(),
    ]];
    for replication in report {
        for secret in &replication.secrets {
            rows.push([
                replication.source.clone(),
                replication.destination.clone(),
                secret.path.clone(),
                secret.action.clone(),
                secret.reason.to_string(),
            ]);
        }
    }
    let count = rows.len() - 1;
    let mut text = String::new();
    if count > 0 {
        let widths: Vec<usize> = (0..5)
            .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            text.push_str(line.join("  ").trim_end());
            text.push('\n');
        }
    }
    let verb = if dry_run {
        "to replicate"
    } else {
        "replicated"
    };
    text.push_str(&format!("{count} secret(s) {verb}\n"));
    text
}
