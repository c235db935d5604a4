//! Desired state of `openshift-routes`: the declared `route` resources, parsed, with their TLS
//! fields read through the secret reader, turned into Routes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use qontract_cluster_client::ClusterSpec;
use qontract_gql_bindings::openshift_resources_namespaces::{
    NamespaceOpenshiftResourceV12 as Provider, NamespaceV1,
};
use qontract_openshift_resource::{OpenshiftResource, ResourceError};
use qontract_openshift_resources::desired::{build_resource_for, managed_names, selects};
use qontract_realize::cluster_spec;
use qontract_resource_inventory::ResourceInventory;
use qontract_secrets::{SecretData, SecretError, SecretReader};
use serde_json::{Map, Value};

use crate::{MANAGED_TYPE, NAME, VERSION};

/// The fields of a TLS secret copied into `spec.tls` (upstream `valid_keys`).
pub const TLS_KEYS: [&str; 6] = [
    "termination",
    "insecureEdgeTerminationPolicy",
    "certificate",
    "key",
    "caCertificate",
    "destinationCACertificate",
];

/// What narrows a run.
pub type Filter = qontract_realize::NamespaceFilter;

/// Where a route's TLS fields are read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TlsSecret {
    /// `vault_tls_secret_path`.
    pub path: String,
    /// `vault_tls_secret_version`.
    pub version: u64,
}

/// One declared `route` resource.
#[derive(Debug, Clone)]
pub struct DeclaredRoute {
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub namespace: String,
    /// `[<cluster>/<namespace>] <resource path>`, used in every error about this route.
    pub origin: String,
    /// The parsed resource file, before the TLS fields are added.
    pub body: Value,
    /// The TLS secret, when both its path and version are set.
    pub tls: Option<TlsSecret>,
    /// Use the cluster-admin client.
    pub privileged: bool,
}

/// The declarations of a run, with the managed (cluster, namespace) entries.
#[derive(Debug, Default)]
pub struct Declared {
    /// The Routes to build.
    pub routes: Vec<DeclaredRoute>,
    /// The inventory with `Route` initialised in every managed namespace, and the errors of
    /// resources that could not be parsed.
    pub inventory: ResourceInventory,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// (cluster, namespace) pairs that use the cluster-admin client.
    pub privileged: BTreeSet<(String, String)>,
    /// The managed (cluster, namespace) pairs.
    pub namespaces: BTreeSet<(String, String)>,
}

/// The declared `route` resources of the namespaces in scope (namespaces without any are not
/// managed by this integration at all). A resource file that does not parse is an error on
/// its cluster.
pub fn declared_routes(namespaces: &[NamespaceV1], filter: &Filter) -> Declared {
    let mut out = Declared::default();
    for ns in namespaces.iter().filter(|ns| selects(filter, ns)) {
        let routes: Vec<_> = qontract_openshift_resources::desired::namespace_resources(ns)
            .filter_map(|r| match &r.namespace_openshift_resource_v12 {
                Provider::NamespaceOpenshiftResourceRouteV12(route) => Some(route),
                _ => None,
            })
            .collect();
        if routes.is_empty() {
            continue;
        }
        let cluster = &ns.cluster.name;
        out.namespaces.insert((cluster.clone(), ns.name.clone()));
        out.clusters
            .entry(cluster.clone())
            .or_insert_with(|| cluster_spec(&ns.cluster));
        let privileged = ns.cluster_admin.unwrap_or(false);
        if privileged {
            out.privileged.insert((cluster.clone(), ns.name.clone()));
        }
        let managed = managed_names(ns, "Route");
        out.inventory
            .initialize_resource_type(cluster, &ns.name, MANAGED_TYPE, managed);
        for route in routes {
            let Some(resource) = &route.resource else {
                out.inventory.register_error(
                    Some(cluster),
                    format!("[{cluster}/{}] a route resource has no file", ns.name),
                );
                continue;
            };
            let origin = format!("[{cluster}/{}] {}", ns.name, resource.path);
            let tls = match (&route.vault_tls_secret_path, route.vault_tls_secret_version) {
                (Some(path), Some(version)) => match u64::try_from(version) {
                    Ok(version) => Some(TlsSecret {
                        path: path.clone(),
                        version,
                    }),
                    Err(_) => {
                        out.inventory.register_error(
                            Some(cluster),
                            format!("{origin}: vault_tls_secret_version {version} is negative"),
                        );
                        continue;
                    }
                },
                (Some(path), None) => {
                    tracing::warn!(
                        "{origin}: vault_tls_secret_path {path} is set without \
                         vault_tls_secret_version: its TLS fields are not used (as upstream)"
                    );
                    None
                }
                (None, _) => None,
            };
            match build_resource_for(&resource.content, None, &origin, NAME, VERSION) {
                Ok(parsed) => out.routes.push(DeclaredRoute {
                    cluster: cluster.clone(),
                    namespace: ns.name.clone(),
                    origin,
                    body: parsed.body().clone(),
                    tls,
                    privileged,
                }),
                Err(error) => out.inventory.register_error(Some(cluster), error),
            }
        }
    }
    out
}

/// Why a declared route is not desired. Every variant names the resource file (and the TLS
/// secret's path and version); none carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The TLS secret could not be read.
    #[error("{what}: {error}")]
    ReadSecret {
        /// `<origin>: TLS secret <path> (version <n>)`.
        what: String,
        /// The secret reader's error.
        #[source]
        error: Arc<SecretError>,
    },
    /// The TLS secret was not among those read (a bug, never expected).
    #[error("{what}: was not read")]
    NotRead {
        /// `<origin>: TLS secret <path> (version <n>)`.
        what: String,
    },
    /// The Route has no `spec` mapping to put the TLS fields in.
    #[error("{origin}: the Route has no spec mapping")]
    NoSpec {
        /// `[<cluster>/<namespace>] <resource path>`.
        origin: String,
    },
    /// `spec.tls` is not a mapping.
    #[error("{origin}: spec.tls is not a mapping")]
    TlsNotMapping {
        /// `[<cluster>/<namespace>] <resource path>`.
        origin: String,
    },
    /// The certificate of the TLS secret could not be read.
    #[error("{what}: {error}")]
    Certificate {
        /// `<origin>: TLS secret <path> (version <n>)`.
        what: String,
        /// What is wrong with it.
        #[source]
        error: CertificateError,
    },
    /// The Route's host does not end with the certificate's common name (upstream
    /// `certificate_matches_host`).
    #[error(
        "{origin}: Route host {host} does not match CN (common name) {common_name} of the certificate in {path} (version {version})"
    )]
    HostMismatch {
        /// `[<cluster>/<namespace>] <resource path>`.
        origin: String,
        /// `spec.host`.
        host: String,
        /// The certificate's subject common name.
        common_name: String,
        /// The TLS secret's path.
        path: String,
        /// The TLS secret's version.
        version: u64,
    },
    /// The Route is not a valid object.
    #[error("{origin}: {error}")]
    Resource {
        /// `[<cluster>/<namespace>] <resource path>`.
        origin: String,
        /// Why.
        #[source]
        error: ResourceError,
    },
}

/// Why a TLS certificate yields no common name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Not a PEM text.
    #[error("the certificate is not PEM: {0}")]
    NotPem(String),
    /// Not an X.509 certificate.
    #[error("the certificate is not X.509: {0}")]
    NotX509(String),
    /// No subject common name.
    #[error("the certificate has no subject common name")]
    NoCommonName,
}

/// The desired state handed to `qontract-realize`.
pub type DesiredState = qontract_realize::DesiredInventory;

/// Read every TLS secret once (bounded concurrency) and build the inventory. A secret that
/// cannot be read, or a certificate that does not match the host, is an error naming the
/// cluster, namespace, resource file and secret path (never a value).
pub async fn desired_state(
    declared: Declared,
    reader: &dyn SecretReader,
    concurrency: usize,
) -> DesiredState {
    let Declared {
        routes,
        mut inventory,
        clusters,
        privileged,
        namespaces,
    } = declared;
    let wanted: BTreeSet<TlsSecret> = routes.iter().filter_map(|r| r.tls.clone()).collect();
    let secrets: BTreeMap<TlsSecret, Result<SecretData, Arc<SecretError>>> =
        futures::stream::iter(wanted)
            .map(|tls| async move {
                let data = reader
                    .read_all(&tls.path, Some(tls.version))
                    .await
                    .map_err(Arc::new);
                (tls, data)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    for route in routes {
        let built = route_body(&route, &secrets).and_then(|body| {
            OpenshiftResource::new(body, NAME, VERSION, route.origin.as_str(), None).map_err(
                |error| RouteError::Resource {
                    origin: route.origin.clone(),
                    error,
                },
            )
        });
        match built {
            Ok(or) => {
                if let Err(e) = inventory.add_desired_resource_or_register(
                    &route.cluster,
                    &route.namespace,
                    or,
                    route.privileged,
                ) {
                    tracing::debug!("{e}");
                }
            }
            Err(error) => inventory.register_error(Some(&route.cluster), error.to_string()),
        }
    }
    DesiredState {
        inventory,
        clusters,
        privileged,
        namespaces,
    }
}

/// The Route of a declaration, with the TLS fields of its secret (upstream
/// `fetch_provider_route`).
fn route_body(
    route: &DeclaredRoute,
    secrets: &BTreeMap<TlsSecret, Result<SecretData, Arc<SecretError>>>,
) -> Result<Value, RouteError> {
    let mut body = route.body.clone();
    let Some(tls_secret) = &route.tls else {
        return Ok(body);
    };
    let what = format!(
        "{}: TLS secret {} (version {})",
        route.origin, tls_secret.path, tls_secret.version
    );
    let data = match secrets.get(tls_secret) {
        Some(Ok(data)) => data,
        Some(Err(error)) => {
            return Err(RouteError::ReadSecret {
                what,
                error: error.clone(),
            });
        }
        None => return Err(RouteError::NotRead { what }),
    };
    let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) else {
        return Err(RouteError::NoSpec {
            origin: route.origin.clone(),
        });
    };
    let tls = spec
        .entry("tls")
        .or_insert_with(|| Value::Object(Map::new()));
    if tls.is_null() {
        *tls = Value::Object(Map::new());
    }
    let Some(tls) = tls.as_object_mut() else {
        return Err(RouteError::TlsNotMapping {
            origin: route.origin.clone(),
        });
    };
    for (key, value) in &data.fields {
        if TLS_KEYS.contains(&key.as_str()) {
            tls.insert(key.clone(), Value::String(value.expose().to_owned()));
        } else {
            tracing::info!(
                "Route secret '{}' key '{key}' not in valid keys {TLS_KEYS:?}",
                tls_secret.path
            );
        }
    }
    let host = spec.get("host").and_then(Value::as_str).unwrap_or_default();
    let certificate = spec
        .get("tls")
        .and_then(|t| t.get("certificate"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !host.is_empty() && !certificate.is_empty() {
        let common_name = certificate_common_name(certificate)
            .map_err(|error| RouteError::Certificate { what, error })?;
        if !certificate_matches_host(&common_name, host) {
            return Err(RouteError::HostMismatch {
                origin: route.origin.clone(),
                host: host.to_owned(),
                common_name,
                path: tls_secret.path.clone(),
                version: tls_secret.version,
            });
        }
    }
    Ok(body)
}

/// The subject common name of the first certificate of a PEM text.
pub fn certificate_common_name(pem: &str) -> Result<String, CertificateError> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| CertificateError::NotPem(e.to_string()))?;
    let certificate = parsed
        .parse_x509()
        .map_err(|e| CertificateError::NotX509(e.to_string()))?;
    certificate
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .ok_or(CertificateError::NoCommonName)
}

/// Upstream `certificate_matches_host`: the host ends with the common name, a `*.` removed.
pub fn certificate_matches_host(common_name: &str, host: &str) -> bool {
    host.ends_with(&common_name.replace("*.", ""))
}
