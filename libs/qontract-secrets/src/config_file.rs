//! Config-file backend: secrets are the tables of `config.toml`.

use std::collections::BTreeMap;

use crate::{
    Secret, SecretData, SecretError, SecretFuture, SecretReader, VaultSecret, apply_format,
};

/// Reads secrets from the tables of `config.toml`: the path `a/b/c` is looked up as the table
/// `[a.b.c]` (each `/`-separated part indexes one level) and `field` as a key of that table.
/// `version` is ignored; `format: base64` is decoded (the Python tool ignores it here).
#[derive(Clone, Default)]
pub struct ConfigSecretReader {
    tables: toml::Table,
}

impl std::fmt::Debug for ConfigSecretReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSecretReader")
            .field("top_level_tables", &self.tables.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ConfigSecretReader {
    /// Uses `tables` (the whole parsed config.toml) as the secret store.
    pub fn new(tables: toml::Table) -> Self {
        Self { tables }
    }

    /// Parses `text` (TOML) and uses it as the secret store; the error names `origin`.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, SecretError> {
        let tables = text
            .parse::<toml::Table>()
            .map_err(|e| SecretError::ConfigFile {
                origin: origin.to_owned(),
                reason: e.message().to_owned(),
            })?;
        Ok(Self::new(tables))
    }

    fn table(&self, path: &str) -> Result<&toml::Table, SecretError> {
        let not_found = |detail: String| SecretError::SecretNotFound {
            path: path.to_owned(),
            backend: format!("config file: {detail}"),
        };
        let mut current = &self.tables;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            current = match current.get(part) {
                Some(toml::Value::Table(t)) => t,
                Some(_) => return Err(not_found(format!("key {part} is not a table"))),
                None => return Err(not_found(format!("key {part} not found"))),
            };
        }
        Ok(current)
    }

    fn all(&self, path: &str) -> Result<SecretData, SecretError> {
        let table = self.table(path)?;
        let fields: BTreeMap<String, Secret> = table
            .iter()
            .filter(|(_, v)| !v.is_table())
            .map(|(k, v)| (k.clone(), value_to_secret(v)))
            .collect();
        Ok(SecretData {
            version: None,
            fields,
        })
    }

    fn one(&self, secret: &VaultSecret) -> Result<Secret, SecretError> {
        let table = self.table(&secret.path)?;
        let raw = match table.get(&secret.field) {
            Some(v) if !v.is_table() => value_to_secret(v),
            _ => {
                return Err(SecretError::FieldNotFound {
                    path: secret.path.clone(),
                    field: secret.field.clone(),
                    version: None,
                });
            }
        };
        apply_format(&raw, secret, None)
    }
}

fn value_to_secret(value: &toml::Value) -> Secret {
    match value {
        toml::Value::String(s) => Secret::new(s.clone()),
        toml::Value::Datetime(d) => Secret::new(d.to_string()),
        // Numbers, booleans, dates and arrays: their JSON text (like Vault's non-string values).
        other => Secret::new(serde_json::to_string(other).unwrap_or_default()),
    }
}

impl SecretReader for ConfigSecretReader {
    fn read<'a>(&'a self, secret: &'a VaultSecret) -> SecretFuture<'a, Secret> {
        Box::pin(async move { self.one(secret) })
    }

    fn read_all<'a>(
        &'a self,
        path: &'a str,
        _version: Option<u64>,
    ) -> SecretFuture<'a, SecretData> {
        Box::pin(async move { self.all(path) })
    }
}
