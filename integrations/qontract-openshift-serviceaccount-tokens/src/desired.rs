//! The desired state: which namespaces are managed, and the Secrets wanted in them, from the
//! query's data and the Secrets read from the service accounts' namespaces.

use std::collections::{BTreeMap, BTreeSet};

use qontract_gql_bindings::serviceaccount_tokens_namespaces::NamespaceV1;
use qontract_realize::{ClusterSpec, Declared, DesiredInventory, NamespaceFilter, cluster_spec};
use serde_json::{Value, json};

use crate::{MANAGED_TYPE, NAME, UNMANAGED, VERSION};

/// Secrets of a service account's namespace by `(cluster, namespace)`: the listed items, or
/// why they could not be listed. No entry: the cluster is skipped in this run.
pub type SecretsByNamespace = BTreeMap<(String, String), Result<Vec<Value>, ReadSecretsError>>;

/// Why the Secrets of a service account's namespace could not be read (upstream
/// `oc.get_items(kind="Secret", namespace=...)` raises); an error on the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadSecretsError {
    /// The cluster has no working client (no token, bad serverUrl...).
    #[error("[{cluster}/{namespace}] cannot read Secrets: {reason}")]
    Client {
        /// The service account's cluster.
        cluster: String,
        /// The service account's namespace.
        namespace: String,
        /// Why the cluster has no client.
        reason: String,
    },
    /// The API server refused or failed the list.
    #[error("[{cluster}/{namespace}] cannot list Secrets: {reason}")]
    List {
        /// The service account's cluster.
        cluster: String,
        /// The service account's namespace.
        namespace: String,
        /// The API error.
        reason: String,
    },
}

/// One `openshiftServiceAccountTokens` entry.
#[derive(Debug, Clone)]
pub struct TokenRef {
    /// The service account's cluster.
    pub cluster: ClusterSpec,
    /// The service account's namespace.
    pub namespace: String,
    /// The service account.
    pub service_account: String,
    /// The entry's `name` (the copied Secret's name), if given.
    pub name: Option<String>,
}

impl TokenRef {
    /// The copied Secret's name: the entry's `name`, else
    /// `<cluster>-<namespace>-<service account>` (upstream `fetch_desired_state`).
    pub fn secret_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-{}",
                self.cluster.name, self.namespace, self.service_account
            )
        })
    }
}

/// A managed namespace and the tokens it consumes (none for a namespace managed only because
/// a service account lives there).
#[derive(Debug, Clone)]
pub struct Consumer {
    /// Its cluster.
    pub cluster: ClusterSpec,
    /// Its name.
    pub namespace: String,
    /// Its own tokens followed by its sharedResources' ones.
    pub tokens: Vec<TokenRef>,
}

/// The managed namespaces, as upstream `get_namespaces_with_serviceaccount_tokens` and
/// `canonicalize_namespaces`: namespaces on clusters that do not disable the integration, not
/// `delete: true`, with tokens of their own or from their sharedResources (those appended to
/// their own, `aggregate_shared_resources_typed`), one per `cluster/namespace` (the last
/// declaration wins, as upstream's dict); then the service accounts' namespaces that are not
/// managed yet, without tokens. `--cluster-name`/`--namespace-name` narrow the consumers.
pub fn canonicalize(namespaces: &[NamespaceV1], scope: &NamespaceFilter) -> Vec<Consumer> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut by_key: BTreeMap<(String, String), Consumer> = BTreeMap::new();
    for ns in namespaces {
        let disabled = ns
            .cluster
            .disable
            .as_ref()
            .and_then(|d| d.integrations.as_deref());
        if scope.disabled_on(disabled) || ns.delete.unwrap_or(false) {
            continue;
        }
        if scope
            .cluster_name
            .as_deref()
            .is_some_and(|c| c != ns.cluster.name)
            || scope
                .namespace_name
                .as_deref()
                .is_some_and(|n| n != ns.name)
        {
            continue;
        }
        let mut tokens: Vec<TokenRef> = Vec::new();
        let shared = ns
            .shared_resources
            .iter()
            .flatten()
            .flat_map(|sr| sr.openshift_service_account_tokens.iter().flatten());
        for sat in ns
            .openshift_service_account_tokens
            .iter()
            .flatten()
            .chain(shared)
        {
            tokens.push(TokenRef {
                cluster: cluster_spec(&sat.namespace.cluster),
                namespace: sat.namespace.name.clone(),
                service_account: sat.service_account_name.clone(),
                name: sat.name.clone(),
            });
        }
        if tokens.is_empty() {
            continue;
        }
        let key = (ns.cluster.name.clone(), ns.name.clone());
        if !by_key.contains_key(&key) {
            order.push(key.clone());
        }
        by_key.insert(
            key,
            Consumer {
                cluster: cluster_spec(&ns.cluster),
                namespace: ns.name.clone(),
                tokens,
            },
        );
    }
    let mut out: Vec<Consumer> = order
        .iter()
        .filter_map(|k| by_key.get(k).cloned())
        .collect();
    let mut seen: BTreeSet<(String, String)> = order.into_iter().collect();
    let providers: Vec<Consumer> = out
        .iter()
        .flat_map(|c| c.tokens.iter())
        .filter(|t| seen.insert((t.cluster.name.clone(), t.namespace.clone())))
        .map(|t| Consumer {
            cluster: t.cluster.clone(),
            namespace: t.namespace.clone(),
            tokens: Vec::new(),
        })
        .collect();
    out.extend(providers);
    out
}

/// Whether `cluster` is on the `--internal`/`--external` side of this run.
fn in_scope(cluster: &ClusterSpec, internal: Option<bool>) -> bool {
    internal.is_none_or(|want| cluster.internal.unwrap_or(false) == want)
}

/// The token Secrets of `service_account` among `secrets`, sorted by name (upstream
/// `get_tokens_for_service_account`, then `sa_tokens.sort(...)`).
fn tokens_of<'a>(service_account: &str, secrets: &'a [Value]) -> Vec<&'a Value> {
    let mut tokens: Vec<&Value> = secrets
        .iter()
        .filter(|s| {
            s.pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                == Some(service_account)
                && s.get("type").and_then(Value::as_str)
                    == Some("kubernetes.io/service-account-token")
        })
        .collect();
    tokens.sort_by_key(|s| {
        s.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    });
    tokens
}

/// The desired Secrets (upstream `fetch_desired_state`): in each consuming namespace, a copy
/// of each consumed service account's token; for a service account without a token Secret, a
/// token request in its namespace instead (`suffix` gives its five digits). Every managed
/// namespace manages `Secret`.
///
/// Differences from upstream, each an error on the run instead of an exception that stops
/// it: a token Secret without `data.token` (upstream `KeyError`), a Secret list that failed,
/// two entries copying to the same name (upstream `ResourceKeyExistsError`). A service
/// account consumed by several namespaces gets one token request per run (upstream: one per
/// consumer).
pub fn desired_state(
    namespaces: &[Consumer],
    internal: Option<bool>,
    secrets: &SecretsByNamespace,
    suffix: &mut dyn FnMut() -> u32,
) -> DesiredInventory {
    let mut desired = DesiredInventory::default();
    for ns in namespaces {
        if !in_scope(&ns.cluster, internal) {
            continue;
        }
        desired.manage_namespace(
            &ns.cluster.name,
            &ns.namespace,
            false,
            &[MANAGED_TYPE],
            || ns.cluster.clone(),
        );
    }
    let mut requested: BTreeSet<(String, String, String)> = BTreeSet::new();
    for ns in namespaces {
        if ns.tokens.is_empty() || !in_scope(&ns.cluster, internal) {
            continue;
        }
        for token in &ns.tokens {
            let where_ = format!("[{}/{}]", token.cluster.name, token.namespace);
            let items = match secrets.get(&(token.cluster.name.clone(), token.namespace.clone())) {
                None => {
                    tracing::debug!(
                        "{where_} skipped: {NAME} does not run on cluster {}",
                        token.cluster.name
                    );
                    continue;
                }
                Some(Err(error)) => {
                    tracing::error!("{error}");
                    desired.inventory.register_error(None, error);
                    continue;
                }
                Some(Ok(items)) => items,
            };
            let found = tokens_of(&token.service_account, items);
            let Some(first) = found.first() else {
                let key = (
                    token.cluster.name.clone(),
                    token.namespace.clone(),
                    token.service_account.clone(),
                );
                if !requested.insert(key) {
                    continue;
                }
                tracing::info!(
                    "{where_} Creating token for service account: {}",
                    token.service_account
                );
                let body = json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "kubernetes.io/service-account-token",
                    "metadata": {
                        "name": format!("{}-token-{:05}", token.service_account, suffix() % 100_000),
                        "annotations": {
                            "kubernetes.io/service-account.name": token.service_account,
                        },
                    },
                });
                let origin = format!(
                    "{where_} token request for service account {}",
                    token.service_account
                );
                desired.add_or_register(
                    Declared {
                        cluster: &token.cluster.name,
                        namespace: &token.namespace,
                        privileged: false,
                        origin: &origin,
                    },
                    MANAGED_TYPE,
                    body,
                    UNMANAGED,
                    VERSION,
                );
                continue;
            };
            let Some(value) = first.pointer("/data/token").and_then(Value::as_str) else {
                let message = format!(
                    "{where_} Token not found for service account: {}",
                    token.service_account
                );
                tracing::error!("{message}");
                desired
                    .inventory
                    .register_error(Some(&ns.cluster.name), message);
                continue;
            };
            let name = token.secret_name();
            let body = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": name},
                "data": {"token": value},
            });
            let origin = format!(
                "[{}/{}] openshiftServiceAccountTokens {name}",
                ns.cluster.name, ns.namespace
            );
            desired.add_or_register(
                Declared {
                    cluster: &ns.cluster.name,
                    namespace: &ns.namespace,
                    privileged: false,
                    origin: &origin,
                },
                MANAGED_TYPE,
                body,
                NAME,
                VERSION,
            );
        }
    }
    desired
}

#[cfg(test)]
mod tests;
