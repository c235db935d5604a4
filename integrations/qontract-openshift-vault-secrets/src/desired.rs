//! Desired state of `openshift-vault-secrets`: the declared `vault-secret` resources, read
//! through the secret reader and turned into Secrets.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use futures::StreamExt;
use qontract_cluster_client::ClusterSpec;
use qontract_gql_bindings::openshift_resources_namespaces::{
    NamespaceOpenshiftResourceV12 as Provider, NamespaceV1,
};
use qontract_openshift_resource::OpenshiftResource;
use qontract_openshift_resources::desired::{managed_names, namespace_resources, selects};
use qontract_realize::{NamespaceFilter, cluster_spec};
use qontract_resource_inventory::ResourceInventory;
use qontract_secrets::{SecretData, SecretError, SecretReader};
use serde_json::{Map, Value, json};

/// Keys whose values are already base64 (the suffix is dropped; matched case-insensitively).
pub const BASE64_SUFFIX: &str = "_qb64";

/// Keys of a Vault secret that never land in the Secret (upstream
/// `VAULT_SECRETS_EXCLUDED_KEYS`: the timestamp external-resources writes next to the data).
pub const EXCLUDED_KEYS: &[&str] = &[qontract_openshift_resource::annotations::SECRET_UPDATED_AT];

/// One declared `vault-secret` resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredSecret {
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub namespace: String,
    /// Vault path.
    pub path: String,
    /// Pinned version.
    pub version: u64,
    /// Secret name (default: last path segment).
    pub name: String,
    /// `labels` (JSON text).
    pub labels: Option<String>,
    /// `annotations` (JSON text).
    pub annotations: Option<String>,
    /// `type` (default `Opaque`).
    pub secret_type: Option<String>,
    /// Use the cluster-admin client.
    pub privileged: bool,
}

/// The declarations of a run, with the managed (cluster, namespace) entries.
#[derive(Debug, Default)]
pub struct Declared {
    /// The Secrets to build.
    pub secrets: Vec<DeclaredSecret>,
    /// Managed Secret names per (cluster, namespace), `None` = all.
    pub namespaces: BTreeMap<(String, String), Option<Vec<String>>>,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// (cluster, namespace) pairs that use the cluster-admin client.
    pub privileged: BTreeSet<(String, String)>,
}

/// The declared `vault-secret` resources of the namespaces in scope (namespaces without any
/// are not managed by this integration at all).
pub fn declared_secrets(namespaces: &[NamespaceV1], filter: &NamespaceFilter) -> Declared {
    let mut out = Declared::default();
    for ns in namespaces.iter().filter(|ns| selects(filter, ns)) {
        let privileged = ns.cluster_admin.unwrap_or(false);
        let mut any = false;
        for resource in namespace_resources(ns) {
            let Provider::NamespaceOpenshiftResourceVaultSecretV12(v) =
                &resource.namespace_openshift_resource_v12
            else {
                continue;
            };
            any = true;
            let name = v
                .name
                .clone()
                .unwrap_or_else(|| v.path.rsplit('/').next().unwrap_or(&v.path).to_owned());
            out.secrets.push(DeclaredSecret {
                cluster: ns.cluster.name.clone(),
                namespace: ns.name.clone(),
                path: v.path.clone(),
                version: u64::try_from(v.version).unwrap_or(0),
                name,
                labels: v.labels.as_ref().map(|j| j.0.clone()),
                annotations: v.annotations.as_ref().map(|j| j.0.clone()),
                secret_type: v.type_.clone(),
                privileged,
            });
        }
        if !any {
            continue;
        }
        let managed = managed_names(ns, "Secret");
        out.namespaces
            .insert((ns.cluster.name.clone(), ns.name.clone()), managed);
        out.clusters
            .entry(ns.cluster.name.clone())
            .or_insert_with(|| cluster_spec(&ns.cluster));
        if privileged {
            out.privileged
                .insert((ns.cluster.name.clone(), ns.name.clone()));
        }
    }
    out
}

/// The desired state handed to `qontract-realize`.
pub type DesiredState = qontract_realize::DesiredInventory;

/// Read every declared secret (bounded concurrency) and build the inventory. A secret that
/// cannot be read or built is an error naming cluster/namespace/path (never a value).
pub async fn desired_state(
    declared: Declared,
    reader: &dyn SecretReader,
    concurrency: usize,
) -> DesiredState {
    let mut inventory = ResourceInventory::new();
    for ((cluster, namespace), managed) in &declared.namespaces {
        inventory.initialize_resource_type(cluster, namespace, "Secret", managed.clone());
    }
    let results: Vec<(DeclaredSecret, Result<SecretData, SecretError>)> =
        futures::stream::iter(declared.secrets)
            .map(|d| async move {
                let data = reader.read_all(&d.path, Some(d.version)).await;
                (d, data)
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
    for (d, data) in results {
        let origin = format!(
            "[{}/{}] vault-secret {} (version {})",
            d.cluster, d.namespace, d.path, d.version
        );
        let built = data
            .map_err(|e| format!("{origin}: {e}"))
            .and_then(|data| secret_body(&d, &data).map_err(|e| format!("{origin}: {e}")))
            .and_then(|body| {
                OpenshiftResource::new(body, crate::NAME, crate::VERSION, origin.as_str(), None)
                    .map_err(|e| format!("{origin}: {e}"))
            });
        match built {
            Ok(or) => {
                let _ = inventory.add_desired_resource_or_register(
                    &d.cluster,
                    &d.namespace,
                    or,
                    d.privileged,
                );
            }
            Err(message) => inventory.register_error(Some(&d.cluster), message),
        }
    }
    DesiredState {
        inventory,
        namespaces: declared.namespaces.keys().cloned().collect(),
        clusters: declared.clusters,
        privileged: declared.privileged,
    }
}

/// `key` without a `_qb64` suffix in any case (upstream
/// `k.lower().endswith(QONTRACT_BASE64_SUFFIX)`), or `None` when it has none.
fn strip_base64_suffix(key: &str) -> Option<&str> {
    let cut = key.len().checked_sub(BASE64_SUFFIX.len())?;
    let suffix = key.get(cut..)?;
    suffix
        .eq_ignore_ascii_case(BASE64_SUFFIX)
        .then(|| &key[..cut])
}

/// Why a declared `vault-secret` cannot become a Secret (the caller prefixes the
/// cluster/namespace/path; no message shows a secret value).
#[derive(Debug, thiserror::Error)]
pub enum SecretBodyError {
    /// `annotations` or `labels` is JSON but not a mapping.
    #[error("{what} must be a mapping")]
    NotAMapping {
        /// `annotations` or `labels`.
        what: &'static str,
    },
    /// `annotations` or `labels` is not JSON.
    #[error("{what} is not JSON: {source}")]
    NotJson {
        /// `annotations` or `labels`.
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A key of the Vault secret is not a valid Secret key (upstream
    /// `assert_valid_secret_keys`).
    #[error("invalid key {key:?} (allowed: letters, digits, '-', '.', '_')")]
    InvalidKey {
        /// The key (never the value).
        key: String,
    },
}

fn json_object(text: Option<&str>, what: &'static str) -> Result<Option<Value>, SecretBodyError> {
    match text {
        None => Ok(None),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            Ok(Value::Null) => Ok(None),
            Ok(_) => Err(SecretBodyError::NotAMapping { what }),
            Err(source) => Err(SecretBodyError::NotJson { what, source }),
        },
    }
}

/// The Secret for one declaration, exactly as upstream `fetch_provider_vault_secret` builds
/// it: the excluded keys are dropped first; `labels` only when not empty; every other key is
/// kept, an empty value too (as `""`); a key ending in `_qb64` in any case loses the suffix
/// and its value (already base64) loses its newlines; other values are base64-encoded.
pub fn secret_body(d: &DeclaredSecret, data: &SecretData) -> Result<Value, SecretBodyError> {
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(d.name.clone()));
    // Upstream writes `annotations: None` when none are declared; the canonical form turns that
    // into `{}`, so omitting the key gives the same sha256sum (and the three-way comparison
    // normalises both to `{}`).
    if let Some(annotations) = json_object(d.annotations.as_deref(), "annotations")? {
        metadata.insert("annotations".into(), annotations);
    }
    // `if labels:` upstream: an empty mapping is no labels.
    if let Some(labels) = json_object(d.labels.as_deref(), "labels")?
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
    {
        metadata.insert("labels".into(), labels);
    }
    let mut body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": d.secret_type.clone().unwrap_or_else(|| "Opaque".to_owned()),
        "metadata": Value::Object(metadata),
    });
    let fields: Vec<(&String, &str)> = data
        .fields
        .iter()
        .filter(|(key, _)| !EXCLUDED_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key, value.expose()))
        .collect();
    // Upstream `assert_valid_secret_keys` checks every key before any value is used.
    for (key, _) in &fields {
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(SecretBodyError::InvalidKey {
                key: (*key).clone(),
            });
        }
    }
    let mut encoded = Map::new();
    for (key, value) in fields {
        let (key, value) = match strip_base64_suffix(key) {
            Some(stripped) => (stripped.to_owned(), value.replace('\n', "")),
            None => (
                key.clone(),
                base64::engine::general_purpose::STANDARD.encode(value),
            ),
        };
        encoded.insert(key, Value::String(value));
    }
    // `body.setdefault("data", {})` upstream: no `data` key without any field.
    if !encoded.is_empty() {
        body["data"] = Value::Object(encoded);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use qontract_secrets::Secret;
    use qontract_test_support::fixtures::{self, typed_all};

    use super::*;

    #[test]
    fn only_selected_namespaces_with_vault_secrets_are_declared() {
        // Upstream `openshift_resources_base` via `get_namespaces` / `canonicalize_namespaces`:
        // deleted namespaces, clusters disabling the integration and other clusters are left
        // out; `managedResourceNames` of `Secret` narrows what is managed.
        let entry = fixtures::openshift_resource(
            "vault-secret",
            json!({"path": "app-sre/shop/db", "version": 2, "name": null, "labels": null,
                   "annotations": null, "type": null}),
        );
        let names = json!([{"resource": "Secret", "resourceNames": ["db"]}]);
        let mut namespaces = fixtures::scope_cases(crate::NAME, |ns| {
            ns.set("openshiftResources", json!([entry]))
                .set("managedResourceNames", names.clone())
        });
        namespaces.push(fixtures::namespace("sandbox", "no-secrets"));
        let namespaces: Vec<NamespaceV1> = typed_all(namespaces);
        let scope = NamespaceFilter {
            integration: crate::NAME,
            cluster_name: Some("sandbox".to_owned()),
            ..NamespaceFilter::default()
        };
        let declared = declared_secrets(&namespaces, &scope);
        let at: Vec<(&str, &str, &str, u64, bool)> = declared
            .secrets
            .iter()
            .map(|s| {
                (
                    s.cluster.as_str(),
                    s.namespace.as_str(),
                    s.name.as_str(),
                    s.version,
                    s.privileged,
                )
            })
            .collect();
        assert_eq!(at, [("sandbox", "admin", "db", 2, true)]);
        let admin = ("sandbox".to_owned(), "admin".to_owned());
        assert_eq!(
            declared.namespaces,
            BTreeMap::from([(admin.clone(), Some(vec!["db".to_owned()]))])
        );
        fixtures::assert_only_admin_is_managed(
            &declared.namespaces.keys().cloned().collect(),
            &declared.privileged,
            declared.clusters.keys(),
        );
    }

    fn declared() -> DeclaredSecret {
        DeclaredSecret {
            cluster: "c".into(),
            namespace: "ns".into(),
            path: "shop/production/db".into(),
            version: 1,
            name: "db".into(),
            labels: Some(r#"{"app":"shop"}"#.into()),
            annotations: None,
            secret_type: None,
            privileged: false,
        }
    }

    fn data(pairs: &[(&str, &str)]) -> SecretData {
        SecretData {
            version: Some(1),
            fields: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
                .collect(),
        }
    }

    /// The secret of the case computed with upstream's code (see the test below).
    fn upstream_declared() -> DeclaredSecret {
        DeclaredSecret {
            path: "app-sre/shop/db".into(),
            version: 3,
            ..declared()
        }
    }

    /// Its data: empty values, `_qb64` keys in both cases, the `updated_at` key.
    fn upstream_data() -> SecretData {
        data(&[
            ("password", "s3cret"),
            ("empty", ""),
            ("cert_QB64", "QUJD\nREVG\n"),
            ("ca_qb64", ""),
            ("external-resources/updated_at", "2026-12-06T10:00:00Z"),
        ])
    }

    #[test]
    fn the_secret_is_what_upstream_builds_for_empty_values_and_qb64_keys() {
        // Expected body and sha256sum computed with upstream's own code in the 0.10.1 venv
        // (`fetch_provider_vault_secret` is the same in current upstream but for its
        // `secret_reader` parameter), with `SecretReader` replaced by a stub returning the data
        // below:
        //   orb.fetch_provider_vault_secret("app-sre/shop/db", 3, "db", {}, {}, "Opaque",
        //       integration="openshift-vault-secrets",
        //       integration_version=openshift_vault_secrets.QONTRACT_INTEGRATION_VERSION,
        //       settings=...)  -> .body, .sha256sum()
        // (labels `{}` and annotations `{}` are what upstream passes for undeclared ones).
        let mut d = upstream_declared();
        d.labels = Some("{}".into());
        let body = secret_body(&d, &upstream_data()).unwrap();
        // Upstream's body has `annotations: {}`, which we leave out (same canonical form).
        assert_eq!(
            body,
            json!({"apiVersion": "v1",
                   "data": {"ca": "", "cert": "QUJDREVG", "empty": "", "password": "czNjcmV0"},
                   "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque"})
        );
        let or =
            OpenshiftResource::new(body, crate::NAME, crate::VERSION, "test", None).expect("valid");
        assert_eq!(
            or.sha256sum(),
            "bdfb7f4d0a81aa2d072c78804ccf53700bf8a7d448b188991e3c701896b2bba3"
        );
        assert_eq!(crate::VERSION, "1.9.3");
    }

    #[test]
    fn the_python_applied_secret_is_unchanged() {
        use qontract_resource_inventory::{Action, PlanOptions, compute_plan};
        let mut d = upstream_declared();
        d.namespace = "shop".into();
        d.labels = None;
        let body = secret_body(&d, &upstream_data()).unwrap();
        let desired =
            OpenshiftResource::new(body, crate::NAME, crate::VERSION, "test", None).expect("valid");
        let mut inventory = ResourceInventory::new();
        inventory.initialize_resource_type(&d.cluster, &d.namespace, "Secret", None);
        inventory
            .add_desired_resource(&d.cluster, &d.namespace, desired, false)
            .expect("added");
        // `fetch_provider_vault_secret(...).annotate().body` in the 0.10.1 venv (see above),
        // as the API server returns it; upstream's `three_way_diff_using_hash` says equal.
        let applied = json!({
            "apiVersion": "v1",
            "data": {"ca": "", "cert": "QUJDREVG", "empty": "", "password": "czNjcmV0"},
            "kind": "Secret",
            "metadata": {
                "annotations": {
                    "qontract.integration": "openshift-vault-secrets",
                    "qontract.integration_version": "1.9.3",
                    "qontract.sha256sum":
                        "bdfb7f4d0a81aa2d072c78804ccf53700bf8a7d448b188991e3c701896b2bba3",
                    "qontract.update": "2026-12-06T20:14:44",
                },
                "name": "db",
                "namespace": "shop",
                "resourceVersion": "7",
                "uid": "0b3f4c1e-0000-4000-8000-000000000003",
            },
            "type": "Opaque",
        });
        let current = OpenshiftResource::from_cluster(applied, crate::NAME, crate::VERSION, "c")
            .expect("valid");
        inventory
            .add_current(&d.cluster, &d.namespace, "Secret", current)
            .expect("initialized");
        let plan = compute_plan(&mut inventory, &PlanOptions::default());
        let actions = qontract_test_support::fixtures::plan_actions(&plan);
        assert_eq!(actions, [(Action::NoOp, "db")], "{:?}", plan.actions);
    }

    #[test]
    fn only_the_updated_at_key_is_excluded_and_no_data_without_fields() {
        let body = secret_body(
            &declared(),
            &data(&[("external-resources/updated_at", "2026-12-06T10:00:00Z")]),
        )
        .unwrap();
        assert!(body.get("data").is_none());
        // Other keys with a '/' are still invalid (upstream `assert_valid_secret_keys`).
        let err = secret_body(&declared(), &data(&[("external-resources/other", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("external-resources/other"), "{err}");
    }

    #[test]
    fn values_are_base64_except_qb64_keys_and_empty_values_are_kept() {
        let body = secret_body(
            &declared(),
            &data(&[("password", "s3cret"), ("cert_qb64", "QUJD"), ("empty", "")]),
        )
        .unwrap();
        assert_eq!(
            body["data"],
            json!({"password": "czNjcmV0", "cert": "QUJD", "empty": ""})
        );
        assert_eq!(body["type"], "Opaque");
        assert_eq!(body["metadata"]["labels"], json!({"app": "shop"}));
        assert!(body["metadata"].get("annotations").is_none());
    }

    #[test]
    fn invalid_keys_and_labels_are_errors_that_do_not_show_values() {
        let err = secret_body(&declared(), &data(&[("bad key", "v4lue")])).unwrap_err();
        assert!(matches!(&err, SecretBodyError::InvalidKey { key } if key == "bad key"));
        let err = err.to_string();
        assert_eq!(
            err,
            "invalid key \"bad key\" (allowed: letters, digits, '-', '.', '_')"
        );
        assert!(!err.contains("v4lue"), "{err}");
        let mut d = declared();
        d.labels = Some("[1]".into());
        assert_eq!(
            secret_body(&d, &data(&[])).unwrap_err().to_string(),
            "labels must be a mapping"
        );
        d.labels = Some("{".into());
        assert!(matches!(
            secret_body(&d, &data(&[])).unwrap_err(),
            SecretBodyError::NotJson { what: "labels", .. }
        ));
    }
}
