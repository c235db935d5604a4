//! The served API resources: built-in kinds, the fixed extra groups and CRD-defined kinds.

use serde_json::{Value, json};

/// Why a CustomResourceDefinition is refused; the text is the message of the 422 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CrdError {
    /// A required field is absent.
    #[error("{0} is required")]
    Missing(&'static str),
    /// `metadata.name` is not `<plural>.<group>` (the expected name).
    #[error("metadata.name: must be spec.names.plural+\".\"+spec.group ({0})")]
    NameMismatch(String),
}

/// One served resource (a group/version/plural).
#[derive(Debug, Clone)]
pub(crate) struct ResourceDef {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) kind: String,
    pub(crate) namespaced: bool,
    pub(crate) short_names: Vec<String>,
    pub(crate) categories: Vec<String>,
    /// `status` and/or `scale`
    pub(crate) subresources: Vec<String>,
    /// Built-in (typed, schema hints apply) vs custom resource.
    pub(crate) builtin: bool,
    /// Owned by this CRD name (for CRD-defined kinds).
    pub(crate) crd: Option<String>,
    pub(crate) storage_version_hash: String,
    /// `openAPIV3Schema` for CRD-defined kinds.
    pub(crate) schema: Option<std::sync::Arc<Value>>,
}

impl ResourceDef {
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `configmaps` or `deployments.apps`: the qualified resource used in messages.
    pub(crate) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub(crate) fn verbs(&self) -> Vec<&'static str> {
        if self.group == "project.openshift.io" {
            // As OpenShift serves them: projects are a view of namespaces, project requests are
            // create-only (list answers whether the user may self-provision).
            return if self.kind == "ProjectRequest" {
                vec!["create", "list"]
            } else {
                vec![
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ]
            };
        }
        if self.kind == "Namespace" {
            vec![
                "create", "delete", "get", "list", "patch", "update", "watch",
            ]
        } else {
            vec![
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        }
    }

    pub(crate) fn has_status_subresource(&self) -> bool {
        self.subresources.iter().any(|s| s == "status")
    }

    /// Whether `metadata.generation` is maintained for this kind.
    pub(crate) fn has_generation(&self) -> bool {
        if !self.builtin {
            return true;
        }
        !matches!(
            self.kind.as_str(),
            "ConfigMap"
                | "Secret"
                | "Namespace"
                | "ServiceAccount"
                | "Service"
                | "Endpoints"
                | "Event"
                | "Role"
                | "ClusterRole"
                | "RoleBinding"
                | "ClusterRoleBinding"
                | "LimitRange"
                | "ResourceQuota"
                | "PersistentVolumeClaim"
                | "PersistentVolume"
                | "Node"
                | "ControllerRevision"
        )
    }

    fn discovery_entry(&self) -> Value {
        let mut e = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs(),
        });
        let m = e.as_object_mut().expect("object");
        if !self.short_names.is_empty() {
            m.insert("shortNames".into(), json!(self.short_names));
        }
        if !self.categories.is_empty() {
            m.insert("categories".into(), json!(self.categories));
        }
        m.insert(
            "storageVersionHash".into(),
            json!(self.storage_version_hash),
        );
        e
    }

    fn subresource_entries(&self) -> Vec<Value> {
        self.subresources
            .iter()
            .map(|s| {
                if s == "scale" {
                    json!({
                        "name": format!("{}/scale", self.plural),
                        "singularName": "",
                        "namespaced": self.namespaced,
                        "group": "autoscaling",
                        "version": "v1",
                        "kind": "Scale",
                        "verbs": ["get", "patch", "update"],
                    })
                } else {
                    json!({
                        "name": format!("{}/{}", self.plural, s),
                        "singularName": "",
                        "namespaced": self.namespaced,
                        "kind": self.kind,
                        "verbs": ["get", "patch", "update"],
                    })
                }
            })
            .collect()
    }

    fn aggregated_entry(&self) -> Value {
        let mut e = json!({
            "resource": self.plural,
            "responseKind": {"group": self.group, "version": self.version, "kind": self.kind},
            "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": self.singular,
            "verbs": self.verbs(),
        });
        let m = e.as_object_mut().expect("object");
        if !self.short_names.is_empty() {
            m.insert("shortNames".into(), json!(self.short_names));
        }
        if !self.categories.is_empty() {
            m.insert("categories".into(), json!(self.categories));
        }
        if !self.subresources.is_empty() {
            let subs: Vec<Value> = self
                .subresources
                .iter()
                .map(|s| {
                    let (g, v, k) = if s == "scale" {
                        (
                            "autoscaling".to_string(),
                            "v1".to_string(),
                            "Scale".to_string(),
                        )
                    } else {
                        (self.group.clone(), self.version.clone(), self.kind.clone())
                    };
                    json!({
                        "subresource": s,
                        "responseKind": {"group": g, "version": v, "kind": k},
                        "verbs": ["get", "patch", "update"],
                    })
                })
                .collect();
            m.insert("subresources".into(), Value::Array(subs));
        }
        e
    }
}

/// Storage version hashes captured from a real apiserver (others are synthesised).
fn known_hash(group: &str, kind: &str) -> Option<&'static str> {
    Some(match (group, kind) {
        ("", "ConfigMap") => "qFsyl6wFWjQ=",
        ("", "Namespace") => "Q3oi5N2YM8M=",
        ("", "Pod") => "xPOwRZ+Yhw8=",
        ("", "Secret") => "S6u1pOWzb84=",
        ("", "ServiceAccount") => "pbx9ZvyFpBE=",
        ("", "Service") => "0/CO1lhkEBI=",
        ("apps", "Deployment") => "8aSe+NMegvE=",
        ("apps", "StatefulSet") => "H+vl74LkKdo=",
        _ => return None,
    })
}

fn synth_hash(s: &str) -> String {
    // FNV-1a 64 → base64 of the 8 bytes, the same shape as the real hash.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    base64(&h.to_be_bytes())
}

pub(crate) fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn def(
    group: &str,
    version: &str,
    plural: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
    cats: &[&str],
    subs: &[&str],
    builtin: bool,
) -> ResourceDef {
    ResourceDef {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: singular.into(),
        kind: kind.into(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: cats.iter().map(|s| s.to_string()).collect(),
        subresources: subs.iter().map(|s| s.to_string()).collect(),
        builtin,
        crd: None,
        storage_version_hash: known_hash(group, kind)
            .map(str::to_string)
            .unwrap_or_else(|| synth_hash(&format!("{group}/{version}/{kind}"))),
        schema: None,
    }
}

/// The group order of `/apis` (built-in groups first, in apiserver priority order).
pub(crate) const BUILTIN_GROUP_ORDER: &[&str] = &[
    "apps",
    "batch",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "apiextensions.k8s.io",
    "monitoring.coreos.com",
    "route.openshift.io",
];

pub(crate) fn builtin_resources() -> Vec<ResourceDef> {
    let all: &[&str] = &["all"];
    let st: &[&str] = &["status"];
    let ss: &[&str] = &["status", "scale"];
    let po: &[&str] = &["prometheus-operator"];
    vec![
        def(
            "",
            "v1",
            "configmaps",
            "configmap",
            "ConfigMap",
            true,
            &["cm"],
            &[],
            &[],
            true,
        ),
        def(
            "",
            "v1",
            "endpoints",
            "endpoints",
            "Endpoints",
            true,
            &["ep"],
            &[],
            &[],
            true,
        ),
        def(
            "",
            "v1",
            "events",
            "event",
            "Event",
            true,
            &["ev"],
            &[],
            &[],
            true,
        ),
        def(
            "",
            "v1",
            "limitranges",
            "limitrange",
            "LimitRange",
            true,
            &["limits"],
            &[],
            &[],
            true,
        ),
        def(
            "",
            "v1",
            "namespaces",
            "namespace",
            "Namespace",
            false,
            &["ns"],
            &[],
            &["status"],
            true,
        ),
        def(
            "",
            "v1",
            "nodes",
            "node",
            "Node",
            false,
            &["no"],
            &[],
            st,
            true,
        ),
        def(
            "",
            "v1",
            "persistentvolumeclaims",
            "persistentvolumeclaim",
            "PersistentVolumeClaim",
            true,
            &["pvc"],
            &[],
            st,
            true,
        ),
        def(
            "",
            "v1",
            "persistentvolumes",
            "persistentvolume",
            "PersistentVolume",
            false,
            &["pv"],
            &[],
            st,
            true,
        ),
        def("", "v1", "pods", "pod", "Pod", true, &["po"], all, st, true),
        def(
            "",
            "v1",
            "replicationcontrollers",
            "replicationcontroller",
            "ReplicationController",
            true,
            &["rc"],
            all,
            ss,
            true,
        ),
        def(
            "",
            "v1",
            "resourcequotas",
            "resourcequota",
            "ResourceQuota",
            true,
            &["quota"],
            &[],
            st,
            true,
        ),
        def(
            "",
            "v1",
            "secrets",
            "secret",
            "Secret",
            true,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "",
            "v1",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
            &["sa"],
            &[],
            &[],
            true,
        ),
        def(
            "",
            "v1",
            "services",
            "service",
            "Service",
            true,
            &["svc"],
            all,
            st,
            true,
        ),
        def(
            "apps",
            "v1",
            "controllerrevisions",
            "controllerrevision",
            "ControllerRevision",
            true,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "apps",
            "v1",
            "daemonsets",
            "daemonset",
            "DaemonSet",
            true,
            &["ds"],
            all,
            st,
            true,
        ),
        def(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            true,
            &["deploy"],
            all,
            ss,
            true,
        ),
        def(
            "apps",
            "v1",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            true,
            &["rs"],
            all,
            ss,
            true,
        ),
        def(
            "apps",
            "v1",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            true,
            &["sts"],
            all,
            ss,
            true,
        ),
        def(
            "batch",
            "v1",
            "cronjobs",
            "cronjob",
            "CronJob",
            true,
            &["cj"],
            all,
            st,
            true,
        ),
        def(
            "batch",
            "v1",
            "jobs",
            "job",
            "Job",
            true,
            &[],
            all,
            st,
            true,
        ),
        def(
            "networking.k8s.io",
            "v1",
            "ingressclasses",
            "ingressclass",
            "IngressClass",
            false,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "ingress",
            "Ingress",
            true,
            &["ing"],
            &[],
            st,
            true,
        ),
        def(
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "networkpolicy",
            "NetworkPolicy",
            true,
            &["netpol"],
            &[],
            &[],
            true,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "clusterrolebinding",
            "ClusterRoleBinding",
            false,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "clusterrole",
            "ClusterRole",
            false,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            "rolebinding",
            "RoleBinding",
            true,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "roles",
            "role",
            "Role",
            true,
            &[],
            &[],
            &[],
            true,
        ),
        def(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "customresourcedefinition",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            &["api-extensions"],
            st,
            true,
        ),
        // CRD-backed on a real cluster; served as fixed groups here (custom-resource semantics).
        def(
            "monitoring.coreos.com",
            "v1",
            "alertmanagers",
            "alertmanager",
            "Alertmanager",
            true,
            &["am"],
            po,
            ss,
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "podmonitors",
            "podmonitor",
            "PodMonitor",
            true,
            &["pmon"],
            po,
            &[],
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "probes",
            "probe",
            "Probe",
            true,
            &["prb"],
            po,
            &[],
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "prometheuses",
            "prometheus",
            "Prometheus",
            true,
            &["prom"],
            po,
            ss,
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "prometheusrules",
            "prometheusrule",
            "PrometheusRule",
            true,
            &["promrule"],
            po,
            &[],
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "servicemonitors",
            "servicemonitor",
            "ServiceMonitor",
            true,
            &["smon"],
            po,
            &[],
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "thanosrulers",
            "thanosruler",
            "ThanosRuler",
            true,
            &["ruler"],
            po,
            ss,
            false,
        ),
        def(
            "route.openshift.io",
            "v1",
            "routes",
            "route",
            "Route",
            true,
            &[],
            &[],
            st,
            false,
        ),
    ]
}

/// OpenShift's `project.openshift.io/v1` (served only when the server is built with
/// `openshift_projects(true)`): `projects` and the create-only `projectrequests`.
pub(crate) fn openshift_project_resources() -> Vec<ResourceDef> {
    vec![
        def(
            "project.openshift.io",
            "v1",
            "projectrequests",
            "projectrequest",
            "ProjectRequest",
            false,
            &[],
            &[],
            &[],
            false,
        ),
        def(
            "project.openshift.io",
            "v1",
            "projects",
            "project",
            "Project",
            false,
            &[],
            &[],
            &[],
            false,
        ),
    ]
}

/// OpenShift's `user.openshift.io/v1` (served only when the server is built with
/// `openshift_users(true)`), all cluster-scoped: `groups` (`Group`: top-level `users`, no
/// `spec`), `identities` and `users` (`User`: `fullName`, `identities`, `groups`).
pub(crate) fn openshift_user_resources() -> Vec<ResourceDef> {
    [
        ("groups", "group", "Group"),
        ("identities", "identity", "Identity"),
        ("users", "user", "User"),
    ]
    .into_iter()
    .map(|(plural, singular, kind)| {
        def(
            "user.openshift.io",
            "v1",
            plural,
            singular,
            kind,
            false,
            &[],
            &[],
            &[],
            false,
        )
    })
    .collect()
}

/// The served resources.
#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) resources: Vec<ResourceDef>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            resources: builtin_resources(),
        }
    }

    pub(crate) fn find_plural(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<&ResourceDef> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    pub(crate) fn find_kind(&self, group: &str, version: &str, kind: &str) -> Option<&ResourceDef> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
    }

    pub(crate) fn group_versions(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.resources {
            if r.group == group && !out.contains(&r.version) {
                out.push(r.version.clone());
            }
        }
        out
    }

    /// Non-core groups in `/apis` order.
    pub(crate) fn groups(&self) -> Vec<String> {
        let mut out: Vec<String> = BUILTIN_GROUP_ORDER
            .iter()
            .filter(|g| self.resources.iter().any(|r| r.group == **g))
            .map(|g| g.to_string())
            .collect();
        let mut extra: Vec<String> = self
            .resources
            .iter()
            .filter(|r| !r.group.is_empty() && !out.contains(&r.group))
            .map(|r| r.group.clone())
            .collect();
        extra.sort();
        extra.dedup();
        out.extend(extra);
        out
    }

    pub(crate) fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.resources
            .iter()
            .any(|r| r.group == group && r.version == version)
    }

    /// Registers (or re-registers) the kinds defined by a CRD object; an error when invalid.
    pub(crate) fn apply_crd(&mut self, crd: &Value) -> Result<(), CrdError> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or(CrdError::Missing("metadata.name"))?
            .to_string();
        let spec = crd.get("spec").ok_or(CrdError::Missing("spec"))?;
        let group = spec
            .get("group")
            .and_then(Value::as_str)
            .ok_or(CrdError::Missing("spec.group"))?;
        let names = spec.get("names").ok_or(CrdError::Missing("spec.names"))?;
        let plural = names
            .get("plural")
            .and_then(Value::as_str)
            .ok_or(CrdError::Missing("spec.names.plural"))?;
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(CrdError::Missing("spec.names.kind"))?;
        let singular = names
            .get("singular")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase());
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let short = strs(names.get("shortNames"));
        let cats = strs(names.get("categories"));
        let namespaced = spec
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("Namespaced")
            == "Namespaced";
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or(CrdError::Missing("spec.versions"))?;
        if format!("{plural}.{group}") != name {
            return Err(CrdError::NameMismatch(format!("{plural}.{group}")));
        }
        self.resources
            .retain(|r| r.crd.as_deref() != Some(name.as_str()));
        for v in versions {
            if v.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let Some(vname) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            let mut subs = Vec::new();
            if let Some(s) = v.get("subresources") {
                if s.get("status").is_some() {
                    subs.push("status".to_string());
                }
                if s.get("scale").is_some() {
                    subs.push("scale".to_string());
                }
            }
            let mut d = def(
                group,
                vname,
                plural,
                &singular,
                kind,
                namespaced,
                &[],
                &[],
                &[],
                false,
            );
            d.short_names = short.clone();
            d.categories = cats.clone();
            d.subresources = subs;
            d.crd = Some(name.clone());
            d.schema = v
                .pointer("/schema/openAPIV3Schema")
                .cloned()
                .map(std::sync::Arc::new);
            self.resources
                .retain(|r| !(r.group == group && r.version == vname && r.plural == plural));
            self.resources.push(d);
        }
        Ok(())
    }

    pub(crate) fn remove_crd(&mut self, name: &str) -> Vec<ResourceDef> {
        let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.resources)
            .into_iter()
            .partition(|r| r.crd.as_deref() == Some(name));
        self.resources = keep;
        gone
    }

    // ---- discovery documents ----

    pub(crate) fn api_versions(&self, server_address: &str) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        })
    }

    pub(crate) fn resource_list(&self, group: &str, version: &str) -> Value {
        let mut rs: Vec<&ResourceDef> = self
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        rs.sort_by(|a, b| a.plural.cmp(&b.plural));
        let mut resources = Vec::new();
        for r in rs {
            resources.push(r.discovery_entry());
            resources.extend(r.subresource_entries());
        }
        if group.is_empty() {
            // the real core list carries no apiVersion
            json!({"kind": "APIResourceList", "groupVersion": version, "resources": resources})
        } else {
            json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": format!("{group}/{version}"),
                "resources": resources,
            })
        }
    }

    fn group_doc(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .group_versions(group)
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        let preferred = versions.first().cloned().unwrap_or(Value::Null);
        json!({"name": group, "versions": versions, "preferredVersion": preferred})
    }

    pub(crate) fn group_list(&self) -> Value {
        let groups: Vec<Value> = self.groups().iter().map(|g| self.group_doc(g)).collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    pub(crate) fn group(&self, group: &str) -> Value {
        let mut d = self.group_doc(group);
        let m = d.as_object_mut().expect("object");
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), json!("APIGroup"));
        out.insert("apiVersion".into(), json!("v1"));
        out.append(m);
        Value::Object(out)
    }

    fn aggregated_group(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .group_versions(group)
            .iter()
            .map(|v| {
                let mut rs: Vec<&ResourceDef> = self
                    .resources
                    .iter()
                    .filter(|r| r.group == group && &r.version == v)
                    .collect();
                rs.sort_by(|a, b| a.plural.cmp(&b.plural));
                json!({
                    "version": v,
                    "resources": rs.iter().map(|r| r.aggregated_entry()).collect::<Vec<_>>(),
                    "freshness": "Current",
                })
            })
            .collect();
        let mut meta = json!({});
        if !group.is_empty() {
            meta = json!({"name": group});
        }
        json!({"metadata": meta, "versions": versions})
    }

    /// `APIGroupDiscoveryList` (apidiscovery.k8s.io/v2) for `/api` (core) or `/apis`.
    pub(crate) fn aggregated(&self, core: bool) -> Value {
        let items: Vec<Value> = if core {
            vec![self.aggregated_group("")]
        } else {
            self.groups()
                .iter()
                .map(|g| self.aggregated_group(g))
                .collect()
        };
        json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        })
    }
}
