//! `--vault-output-path`: the desired Secrets' data written to Vault after a wet run (upstream
//! `write_outputs_to_vault` with `VaultClient.write`).

use std::collections::BTreeMap;

use anyhow::Context as _;
use base64::Engine as _;
use qontract_resource_inventory::ResourceInventory;
use qontract_runtime::RunContext;
use qontract_secrets::{
    KvEngine, Secret, SecretError, VaultConfigFields, VaultSecretReader, VaultSettings,
};

use crate::NAME;

/// One desired Secret's data: where it goes, and its base64 values.
#[derive(Clone)]
pub(crate) struct Output {
    cluster: String,
    namespace: String,
    name: String,
    data: BTreeMap<String, String>,
}

/// The desired objects with `data` (upstream skips those without, e.g. token requests).
pub(crate) fn outputs(inventory: &ResourceInventory) -> Vec<Output> {
    let mut out = Vec::new();
    for (cluster, namespace, _, state) in inventory.iter() {
        for (name, entry) in state.desired() {
            let Some(data) = entry
                .resource
                .body()
                .get("data")
                .and_then(serde_json::Value::as_object)
                .filter(|d| !d.is_empty())
            else {
                continue;
            };
            out.push(Output {
                cluster: cluster.to_owned(),
                namespace: namespace.to_owned(),
                name: name.clone(),
                data: data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            });
        }
    }
    out
}

/// The Vault client of `[vault]` in config.toml (upstream `VaultClient.get_instance()`).
async fn client(ctx: &RunContext) -> anyhow::Result<VaultSecretReader> {
    let v = ctx
        .config
        .vault
        .as_ref()
        .context("--vault-output-path needs [vault] in config.toml")?;
    let fields = VaultConfigFields {
        server: Some(v.server.clone()),
        token: v.token.clone(),
        role_id: v.role_id.clone(),
        secret_id: v.secret_id.clone(),
        kube_auth_role: v.kube_auth_role.clone(),
        kube_auth_mount: v.kube_auth_mount.clone(),
    };
    let settings = VaultSettings::from_config(&fields, |k| std::env::var(k).ok())
        .with_context(|| format!("{}: [vault]", ctx.config.path.display()))?;
    Ok(VaultSecretReader::connect(settings).await?)
}

/// Write one secret as `VaultClient.write(secret)` (base64-decoded values): on KV v2 only when
/// it differs from the latest version.
async fn write(
    vault: &VaultSecretReader,
    path: &str,
    fields: &BTreeMap<String, Secret>,
) -> Result<bool, SecretError> {
    if vault.kv_engine(path).await? == KvEngine::V2 {
        match vault.read_all_uncached(path, None).await {
            Ok(current) if &current.fields == fields => return Ok(false),
            Ok(_)
            | Err(SecretError::SecretNotFound { .. } | SecretError::VersionNotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    vault.write_all(path, fields).await?;
    Ok(true)
}

/// Write every output to its per-namespace and its shared-resources path; the returned
/// messages are the writes that failed (each names its path, never a value).
pub(crate) async fn write_outputs(
    ctx: &RunContext,
    vault_path: &str,
    outputs: &[Output],
) -> anyhow::Result<Vec<String>> {
    if outputs.is_empty() {
        return Ok(Vec::new());
    }
    let vault = client(ctx).await?;
    let integration = NAME.replace('_', "-");
    let mut errors = Vec::new();
    for output in outputs {
        let mut fields = BTreeMap::new();
        for (key, b64) in &output.data {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let Some(value) = decoded else {
                errors.push(format!(
                    "[{}/{}] Secret {} data.{key} is not base64 of UTF-8 text",
                    output.cluster, output.namespace, output.name
                ));
                continue;
            };
            fields.insert(key.clone(), Secret::new(value));
        }
        for path in [
            format!(
                "{vault_path}/{integration}/{}/{}/{}",
                output.cluster, output.namespace, output.name
            ),
            format!(
                "{vault_path}/{integration}/shared-resources/{}",
                output.name
            ),
        ] {
            match write(&vault, &path, &fields).await {
                Ok(true) => tracing::info!("wrote the token Secret's data to Vault: {path}"),
                Ok(false) => tracing::debug!("current data is up-to-date, skipping {path}"),
                Err(e) => {
                    let message = format!("writing {path}: {e}");
                    tracing::error!("{message}");
                    errors.push(message);
                }
            }
        }
    }
    Ok(errors)
}
