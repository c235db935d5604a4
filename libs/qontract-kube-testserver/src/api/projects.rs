//! OpenShift's `project.openshift.io/v1` (opt-in, [`crate::KubeTestServerBuilder::openshift_projects`]):
//! `Project` is a view of a Namespace, and `ProjectRequest` is the create-only virtual resource
//! that `oc new-project` posts. A project request creates the Namespace from the default project
//! template (the `openshift.io/{description,display-name,requester}` annotations and an `admin`
//! RoleBinding for the requesting user) and answers with the `Project`.

use serde_json::{Value, json};

use super::{ApiRequest, ApiResponse, State};
use crate::registry::ResourceDef;
use crate::status::ApiError;
use crate::util::{canonical_order, get_str};

/// The API group.
pub(crate) const GROUP: &str = "project.openshift.io";

impl State {
    fn namespace_def(&self) -> ResourceDef {
        self.registry
            .find_plural("", "v1", "namespaces")
            .cloned()
            .expect("namespaces are always served")
    }

    /// A Namespace as the `Project` OpenShift serves for it.
    fn as_project(namespace: &Value) -> Value {
        let mut project = json!({
            "kind": "Project",
            "apiVersion": format!("{GROUP}/v1"),
            "metadata": namespace.get("metadata").cloned().unwrap_or_else(|| json!({})),
            "spec": namespace.get("spec").cloned().unwrap_or_else(|| json!({"finalizers": ["kubernetes"]})),
            "status": namespace.get("status").cloned().unwrap_or_else(|| json!({"phase": "Active"})),
        });
        if let Some(meta) = project.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.shift_remove("managedFields");
        }
        canonical_order(&mut project);
        project
    }

    /// Requests to `project.openshift.io/v1`.
    pub(super) fn project_api(
        &mut self,
        def: &ResourceDef,
        verb: &str,
        name: Option<&str>,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let namespaces = self.namespace_def();
        match (def.kind.as_str(), verb, name) {
            ("Project", "get", Some(name)) => {
                let namespace = self
                    .get(&namespaces, None, name, None)
                    .map_err(|_| ApiError::not_found(def, name))?;
                Ok(ApiResponse::ok(200, Self::as_project(&namespace.body)))
            }
            ("Project", "list", None) => {
                let mut list = self.list(&namespaces, None, req)?;
                list.body["kind"] = json!("ProjectList");
                list.body["apiVersion"] = json!(format!("{GROUP}/v1"));
                if let Some(items) = list.body.get_mut("items").and_then(Value::as_array_mut) {
                    for item in items.iter_mut() {
                        *item = Self::as_project(item);
                    }
                }
                Ok(list)
            }
            ("Project", "delete", Some(name)) => {
                if self.stored(&namespaces, None, name).is_none() {
                    return Err(ApiError::not_found(def, name));
                }
                self.delete(&namespaces, None, name, req, dry_run)?;
                Ok(ApiResponse::ok(
                    200,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
                ))
            }
            // `oc` lists project requests to learn whether the user may self-provision.
            ("ProjectRequest", "list", None) => Ok(ApiResponse::ok(
                200,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
            )),
            ("ProjectRequest", "create", None) => self.project_request(def, req, dry_run),
            _ => Err(ApiError::method_not_allowed(req.method)),
        }
    }

    fn project_request(
        &mut self,
        def: &ResourceDef,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let request = self.parse_body(req)?;
        self.check_type(def, &request, false)?;
        let name = get_str(&request, &["metadata", "name"])
            .unwrap_or("")
            .to_owned();
        if name.starts_with("openshift-") {
            return Err(
                ApiError::forbidden(&req.caller.name, "create", def, None, Some(&name))
                    .with_message("cannot request a project starting with \"openshift-\""),
            );
        }
        let namespaces = self.namespace_def();
        if self.stored(&namespaces, None, &name).is_some() {
            let project = self
                .registry
                .find_kind(GROUP, "v1", "Project")
                .cloned()
                .unwrap_or_else(|| def.clone());
            return Err(ApiError::already_exists(&project, &name)
                .with_message(&format!("project.{GROUP} \"{name}\" already exists")));
        }
        let text = |field: &str| get_str(&request, &[field]).unwrap_or("").to_owned();
        let requester = req.caller.name.clone();
        let namespace = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "annotations": {
                    "openshift.io/description": text("description"),
                    "openshift.io/display-name": text("displayName"),
                    "openshift.io/requester": requester,
                },
            },
        });
        let created = self.create_as(&namespaces, None, &namespace, req, dry_run)?;
        if !dry_run
            && let Some(bindings) = self
                .registry
                .find_kind("rbac.authorization.k8s.io", "v1", "RoleBinding")
                .cloned()
        {
            let admin = json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "admin", "namespace": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": requester}],
            });
            self.create_as(&bindings, Some(&name), &admin, req, false)?;
        }
        Ok(ApiResponse::ok(201, Self::as_project(&created.body)))
    }

    /// Creates `object` as part of handling `req` (same caller, field manager and dry-run).
    fn create_as(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        object: &Value,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let body = serde_json::to_vec(object).unwrap_or_default();
        let inner = ApiRequest {
            method: "POST",
            path: req.path,
            query: req.query.clone(),
            content_type: Some("application/json"),
            accept: None,
            user_agent: req.user_agent,
            body: &body,
            caller: req.caller,
        };
        self.create(def, ns, &inner, dry_run)
    }
}
