//! `config.toml` as qontract-reconcile reads it.
//!
//! ```toml
//! [graphql]
//! server = "https://qontract-server.example.com/graphql"  # or `bundle = "data.json"` for embedded mode
//! token = "Basic ..."                                      # optional, sent verbatim as Authorization
//!
//! [vault]                    # AppRole, Kubernetes auth, or a token
//! server = "https://vault.example.com"
//! role_id = "..."
//! secret_id = "..."
//! ```
//!
//! Every table is also kept verbatim in [`Config::tables`], because the config-file secret
//! reader treats the tables as a local secret store (`[path.to.secret] field = "value"`). So
//! unknown top-level tables are allowed, except near-misses of the tables read here
//! (`[grapql]`, `[vualt]`, `[Vault]`), which are refused with a "did you mean" error; unknown
//! keys inside `[graphql]` and `[vault]` are refused too.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors while loading `config.toml`. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has wrong types.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// Parser message (with line and column).
        message: String,
    },
    /// A required setting is missing.
    #[error("invalid config file {path}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// `[graphql]`: where the desired state comes from.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GraphqlConfig {
    /// URL of qontract-server's GraphQL endpoint, e.g. `http://localhost:4000/graphql`.
    #[serde(default)]
    pub server: Option<String>,
    /// Sent verbatim as the `Authorization` header.
    #[serde(default)]
    pub token: Option<String>,
    /// Embedded mode: a bundle JSON file executed in-process (no server).
    #[serde(default)]
    pub bundle: Option<PathBuf>,
    /// Embedded mode: an app-interface checkout (`data/`, `resources/`) bundled in memory.
    #[serde(default)]
    pub app_interface: Option<PathBuf>,
    /// The conf-format GraphQL schema for `app_interface` (default:
    /// `<app_interface>/graphql-schemas/schema.yml`).
    #[serde(default)]
    pub schema: Option<PathBuf>,
}

impl std::fmt::Debug for GraphqlConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphqlConfig")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("bundle", &self.bundle)
            .field("app_interface", &self.app_interface)
            .field("schema", &self.schema)
            .finish()
    }
}

/// `[vault]`: how to reach and log in to Vault (the keys upstream `VaultClient` reads, and
/// `token`); any other key is an error.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// Vault address, e.g. `https://vault.example.com`.
    pub server: String,
    /// AppRole role id.
    #[serde(default)]
    pub role_id: Option<String>,
    /// AppRole secret id.
    #[serde(default)]
    pub secret_id: Option<String>,
    /// Kubernetes auth role.
    #[serde(default)]
    pub kube_auth_role: Option<String>,
    /// Kubernetes auth mount (default `kubernetes`).
    #[serde(default)]
    pub kube_auth_mount: Option<String>,
    /// A Vault token (our addition; `VAULT_TOKEN` also works).
    #[serde(default)]
    pub token: Option<String>,
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("VaultConfig")
            .field("server", &self.server)
            .field("role_id", &self.role_id)
            .field("secret_id", &redact(&self.secret_id))
            .field("kube_auth_role", &self.kube_auth_role)
            .field("kube_auth_mount", &self.kube_auth_mount)
            .field("token", &redact(&self.token))
            .finish()
    }
}

/// The parsed `config.toml`.
#[derive(Clone, Default)]
pub struct Config {
    /// File it was read from (for error messages).
    pub path: PathBuf,
    /// `[graphql]`.
    pub graphql: GraphqlConfig,
    /// `[vault]`, when present.
    pub vault: Option<VaultConfig>,
    /// Every table of the file, verbatim (the config-file secret store).
    pub tables: toml::Table,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("graphql", &self.graphql)
            .field("vault", &self.vault)
            .field("tables", &self.tables.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Config {
    /// Read and parse `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse `text`; `path` is only used in messages and to resolve relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let parse_err = |e: toml::de::Error| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        };
        let tables: toml::Table = toml::from_str(text).map_err(parse_err)?;
        if let Some((table, known)) = tables.keys().find_map(|t| Some((t, near_miss(t)?))) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: format!("unknown table [{table}]: did you mean [{known}]?"),
            });
        }
        let section = |name: &str| -> Result<Option<toml::Value>, ConfigError> {
            match tables.get(name) {
                None => Ok(None),
                Some(v @ toml::Value::Table(_)) => Ok(Some(v.clone())),
                Some(_) => Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    message: format!("[{name}] must be a table"),
                }),
            }
        };
        let graphql: GraphqlConfig = match section("graphql")? {
            Some(v) => v
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: format!("[graphql]: {}", e.to_string().trim_end()),
                })?,
            None => GraphqlConfig::default(),
        };
        let vault: Option<VaultConfig> = match section("vault")? {
            Some(v) => Some(
                v.try_into()
                    .map_err(|e: toml::de::Error| ConfigError::Parse {
                        path: path.to_owned(),
                        message: format!("[vault]: {}", e.to_string().trim_end()),
                    })?,
            ),
            None => None,
        };
        let mut config = Config {
            path: path.to_owned(),
            graphql,
            vault,
            tables,
        };
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        for field in [
            &mut config.graphql.bundle,
            &mut config.graphql.app_interface,
            &mut config.graphql.schema,
        ] {
            if let Some(p) = field.as_ref()
                && p.is_relative()
            {
                *field = Some(base.join(p));
            }
        }
        Ok(config)
    }

    /// Look up a dotted path (`a.b.c`) in the config tables, as the config-file secret reader does.
    pub fn table_at(&self, dotted: &str) -> Option<&toml::Table> {
        let mut current = &self.tables;
        for part in dotted.split('.').filter(|p| !p.is_empty()) {
            current = current.get(part)?.as_table()?;
        }
        Some(current)
    }
}

/// The tables this crate reads.
const KNOWN_TABLES: [&str; 2] = ["graphql", "vault"];

/// The known table `table` is probably a misspelling of: not equal to it, but equal ignoring
/// case or within a third of its length in edits (at least one; a swap of two neighbouring
/// letters is one edit).
fn near_miss(table: &str) -> Option<&'static str> {
    KNOWN_TABLES.into_iter().find(|known| {
        table != *known
            && (table.eq_ignore_ascii_case(known)
                || edit_distance(&table.to_ascii_lowercase(), known) <= (known.len() / 3).max(1))
    })
}

/// Optimal string alignment distance (Levenshtein plus transpositions of neighbours).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_graphql_vault_and_keeps_other_tables() {
        let text = r#"
[graphql]
server = "http://localhost:4000/graphql"
token = "Basic abc"

[vault]
server = "https://vault.example.com"
role_id = "role"
secret_id = "very-secret"

[app-sre.creds.slack]
token = "xoxb"
"#;
        let c = Config::parse(text, Path::new("/etc/qr/config.toml")).unwrap();
        assert_eq!(
            c.graphql.server.as_deref(),
            Some("http://localhost:4000/graphql")
        );
        assert_eq!(c.graphql.token.as_deref(), Some("Basic abc"));
        let vault = c.vault.as_ref().unwrap();
        assert_eq!(vault.role_id.as_deref(), Some("role"));
        let slack = c.table_at("app-sre.creds.slack").unwrap();
        assert_eq!(slack.get("token").and_then(|v| v.as_str()), Some("xoxb"));
        let debug = format!("{c:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(!debug.contains("Basic abc"), "{debug}");
    }

    #[test]
    fn relative_bundle_is_resolved_against_the_config_dir() {
        let c = Config::parse(
            "[graphql]\nbundle = \"b.json\"\n",
            Path::new("/etc/qr/config.toml"),
        )
        .unwrap();
        assert_eq!(
            c.graphql.bundle.as_deref(),
            Some(Path::new("/etc/qr/b.json"))
        );
    }

    #[test]
    fn errors_name_the_file() {
        let err = Config::parse("[graphql\n", Path::new("/x/c.toml")).unwrap_err();
        assert!(err.to_string().contains("/x/c.toml"), "{err}");
        let err = Config::parse("[graphql]\nserver = 3\n", Path::new("/x/c.toml")).unwrap_err();
        assert!(err.to_string().contains("[graphql]"), "{err}");
        let err = Config::load(Path::new("/nonexistent/c.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/c.toml"), "{err}");
    }

    #[test]
    fn unknown_vault_key_is_rejected() {
        let err = Config::parse(
            "[vault]\nserver = \"https://vault.example.com\"\nrole = \"r\"\n",
            Path::new("/x/c.toml"),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("[vault]")
                && message.contains("role")
                && message.contains("/x/c.toml"),
            "{message}"
        );
        // Every key upstream reads is accepted.
        Config::parse(
            "[vault]\nserver = \"s\"\nrole_id = \"r\"\nsecret_id = \"s\"\n\
             kube_auth_role = \"k\"\nkube_auth_mount = \"m\"\ntoken = \"t\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
    }

    #[test]
    fn a_misspelled_known_table_gets_a_did_you_mean_error() {
        for (text, table, known) in [
            ("[grapql]\nserver = \"x\"\n", "grapql", "graphql"),
            ("[vualt]\nserver = \"x\"\n", "vualt", "vault"),
            ("[Vault]\nserver = \"x\"\n", "Vault", "vault"),
            ("[graphq]\nserver = \"x\"\n", "graphq", "graphql"),
        ] {
            let err = Config::parse(text, Path::new("/x/c.toml")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid config file /x/c.toml: unknown table [{table}]: \
                     did you mean [{known}]?"
                )
            );
        }
    }

    #[test]
    fn other_unknown_tables_are_allowed_for_the_secret_store() {
        // Tables of upstream config.toml files and secret paths of the config-file reader.
        let text = "[graphql]\nserver = \"x\"\n[smtp]\nsecret_path = \"p\"\n\
                    [github]\ntoken = \"t\"\n[app-sre.creds]\na = \"b\"\n\
                    [jenkins]\nx = 1\n[aws]\ny = 2\n[vault-creds]\nz = 3\n";
        let c = Config::parse(text, Path::new("c.toml")).unwrap();
        assert!(c.table_at("smtp").is_some() && c.table_at("vault-creds").is_some());
    }

    #[test]
    fn unknown_graphql_key_is_rejected() {
        let err = Config::parse("[graphql]\nsever = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("sever"), "{err}");
    }
}
