//! The run's secret reader, built on first use: Vault or the config-file tables, chosen like
//! the Python tool from app-interface's settings (`app_interface_settings_v1 { vault }`).
//! When app-interface has no settings, `[vault]` in config.toml selects Vault and its absence
//! the config-file reader (friendlier for local runs than the Python tool's error).

use std::sync::Arc;

use anyhow::Context as _;
use qontract_config::Config;
use qontract_gql::GqlClient;
use qontract_secrets::{SecretBackendKind, SecretReader, VaultConfigFields, VaultSettings};
use tokio::sync::OnceCell;

/// Lazily builds and then shares the secret reader of a run.
pub struct SecretsProvider {
    config: Arc<Config>,
    gql: Option<Arc<GqlClient>>,
    cell: OnceCell<Arc<dyn SecretReader>>,
}

impl std::fmt::Debug for SecretsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsProvider")
            .field("ready", &self.cell.initialized())
            .finish()
    }
}

impl SecretsProvider {
    /// A provider that decides the backend on first use.
    pub fn new(config: Arc<Config>, gql: Arc<GqlClient>) -> Self {
        Self {
            config,
            gql: Some(gql),
            cell: OnceCell::new(),
        }
    }

    /// A provider around an existing reader (tests, embedding).
    pub fn with_reader(reader: Arc<dyn SecretReader>) -> Self {
        let cell = OnceCell::new_with(Some(reader));
        Self {
            config: Arc::new(Config::default()),
            gql: None,
            cell,
        }
    }

    /// The secret reader (built on the first call).
    pub async fn reader(&self) -> anyhow::Result<Arc<dyn SecretReader>> {
        self.cell.get_or_try_init(|| self.build()).await.cloned()
    }

    async fn build(&self) -> anyhow::Result<Arc<dyn SecretReader>> {
        let app_interface_vault = match &self.gql {
            Some(gql) => {
                use cynic::QueryBuilder;
                use qontract_gql_bindings::app_interface_settings::AppInterfaceSettings;
                let data = gql
                    .run(AppInterfaceSettings::build(()))
                    .await
                    .context("reading app-interface settings (vault: true|false)")?;
                data.settings.unwrap_or_default().first().map(|s| s.vault)
            }
            None => None,
        };
        let kind = match app_interface_vault {
            Some(vault) => SecretBackendKind::choose(vault, None),
            None if self.config.vault.is_some() => SecretBackendKind::Vault,
            None => SecretBackendKind::ConfigFile,
        };
        let vault = match (&self.config.vault, kind) {
            (Some(v), SecretBackendKind::Vault) => {
                let fields = VaultConfigFields {
                    server: Some(v.server.clone()),
                    token: v.token.clone(),
                    role_id: v.role_id.clone(),
                    secret_id: v.secret_id.clone(),
                    kube_auth_role: v.kube_auth_role.clone(),
                    kube_auth_mount: v.kube_auth_mount.clone(),
                };
                Some(
                    VaultSettings::from_config(&fields, |k| std::env::var(k).ok())
                        .with_context(|| format!("{}: [vault]", self.config.path.display()))?,
                )
            }
            _ => None,
        };
        tracing::debug!(backend = ?kind, "secret reader");
        qontract_secrets::create_secret_reader(kind, vault, self.config.tables.clone())
            .await
            .with_context(|| format!("cannot set up the secret reader ({kind:?})"))
    }
}
