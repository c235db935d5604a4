//! Resolving managed resource types (`Kind` or `Kind.group`) and object apiVersions with a
//! cluster's cached discovery.

use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope};
use qontract_cluster_client::{ClusterClient, DiscoveryError};

/// A resource type the cluster serves.
#[derive(Debug, Clone)]
pub struct ResolvedType {
    /// Group, version, kind and plural.
    pub resource: ApiResource,
    /// Whether the kind is namespaced.
    pub namespaced: bool,
}

impl ResolvedType {
    fn new(resource: ApiResource, capabilities: &ApiCapabilities) -> Self {
        Self {
            resource,
            namespaced: capabilities.scope == Scope::Namespaced,
        }
    }
}

/// What a resource type means on one cluster.
#[derive(Debug, Clone)]
pub enum ResourceTypeResolution {
    /// The cluster serves it.
    Found(ResolvedType),
    /// The cluster does not serve it (yet: the CRD may arrive with the same change).
    Unknown,
    /// A plain kind served by several non-core groups; it must be qualified (`Kind.group`).
    Ambiguous(Vec<String>),
}

/// Resolves `Kind` (core group preferred, else the only group serving it) or `Kind.group`
/// (the group's preferred version) on the cluster.
pub async fn resolve_resource_type(
    client: &ClusterClient,
    resource_type: &str,
) -> Result<ResourceTypeResolution, DiscoveryError> {
    let discovery = client.discovery().await?;
    if let Some((kind, group)) = resource_type.split_once('.') {
        return Ok(discovery
            .get(group)
            .and_then(|api_group| api_group.recommended_kind(kind))
            .map(|(resource, caps)| {
                ResourceTypeResolution::Found(ResolvedType::new(resource, &caps))
            })
            .unwrap_or(ResourceTypeResolution::Unknown));
    }
    let mut matches: Vec<(ApiResource, ApiCapabilities)> = discovery
        .groups()
        .filter_map(|api_group| api_group.recommended_kind(resource_type))
        .collect();
    if let Some(core) = matches
        .iter()
        .position(|(resource, _)| resource.group.is_empty())
    {
        let (resource, caps) = matches.swap_remove(core);
        return Ok(ResourceTypeResolution::Found(ResolvedType::new(
            resource, &caps,
        )));
    }
    match matches.len() {
        0 => Ok(ResourceTypeResolution::Unknown),
        1 => {
            let (resource, caps) = matches.remove(0);
            Ok(ResourceTypeResolution::Found(ResolvedType::new(
                resource, &caps,
            )))
        }
        _ => {
            let mut groups: Vec<String> = matches.into_iter().map(|(r, _)| r.group).collect();
            groups.sort();
            Ok(ResourceTypeResolution::Ambiguous(groups))
        }
    }
}

/// Resolves an object's exact `apiVersion` and `kind`; `None` if the cluster does not serve it.
///
/// The cached discovery is asked first. On a miss the API group is discovered again, since a
/// CustomResourceDefinition applied earlier in the same run may have added the kind.
pub(crate) async fn resolve_object_kind(
    client: &ClusterClient,
    api_version: &str,
    kind: &str,
) -> Result<Option<ResolvedType>, DiscoveryError> {
    let discovery = client.discovery().await?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    if let Some((resource, caps)) = discovery.resolve_gvk(&gvk) {
        return Ok(Some(ResolvedType::new(resource, &caps)));
    }
    match kube::discovery::oneshot::pinned_kind(&client.client, &gvk).await {
        Ok((resource, caps)) => Ok(Some(ResolvedType::new(resource, &caps))),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(kube::Error::Discovery(_)) => Ok(None),
        Err(source) => Err(DiscoveryError {
            cluster: client.cluster.clone(),
            source,
        }),
    }
}

/// The REST path of one object (or of the collection when `name` is `None`).
pub(crate) fn object_path(
    resource: &ApiResource,
    namespace: Option<&str>,
    name: Option<&str>,
) -> String {
    let mut path = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    if let Some(namespace) = namespace {
        path.push_str("/namespaces/");
        path.push_str(namespace);
    }
    path.push('/');
    path.push_str(&resource.plural);
    if let Some(name) = name {
        path.push('/');
        path.push_str(name);
    }
    path
}
