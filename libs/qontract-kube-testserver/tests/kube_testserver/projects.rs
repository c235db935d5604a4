//! OpenShift's `project.openshift.io/v1`, opt-in per server instance.

use crate::common::*;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use kube::discovery::Discovery;
use qontract_kube_testserver::KubeTestServer;
use serde_json::json;

async fn openshift() -> KubeTestServer {
    KubeTestServer::builder()
        .https(false)
        .token(TOKEN)
        .openshift_projects(true)
        .start()
        .await
        .expect("start server")
}

fn project_request(name: &str) -> DynamicObject {
    dynobj(json!({
        "apiVersion": "project.openshift.io/v1",
        "kind": "ProjectRequest",
        "metadata": {"name": name},
        "displayName": "App A",
    }))
}

#[tokio::test]
async fn project_group_is_served_only_when_asked_for() {
    let plain = http_server().await;
    let d = Discovery::new(client(&plain).await)
        .run()
        .await
        .expect("discovery");
    assert!(!d.has_group("project.openshift.io"));

    let s = openshift().await;
    let d = Discovery::new(client(&s).await)
        .run()
        .await
        .expect("discovery");
    assert!(d.has_group("project.openshift.io"));
    let group = d.get("project.openshift.io").expect("group");
    let (requests, caps) = group
        .recommended_kind("ProjectRequest")
        .expect("ProjectRequest");
    assert_eq!(requests.plural, "projectrequests");
    assert!(caps.supports_operation(kube::discovery::verbs::CREATE));
    assert!(!caps.supports_operation(kube::discovery::verbs::GET));
}

#[tokio::test]
async fn project_request_creates_the_namespace_from_the_template() {
    let s = openshift().await;
    let c = client(&s).await;
    let requests: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ar(
            "project.openshift.io",
            "v1",
            "ProjectRequest",
            "projectrequests",
        ),
    );
    let project = requests
        .create(&PostParams::default(), &project_request("app-a"))
        .await
        .expect("project request");
    assert_eq!(
        project.types.as_ref().map(|t| t.kind.as_str()),
        Some("Project")
    );

    let namespace = s
        .get_object("v1", "Namespace", None, "app-a")
        .expect("namespace created");
    assert_eq!(
        namespace["metadata"]["annotations"]["openshift.io/requester"],
        "admin"
    );
    assert_eq!(
        namespace["metadata"]["annotations"]["openshift.io/display-name"],
        "App A"
    );
    let binding = s
        .get_object(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some("app-a"),
            "admin",
        )
        .expect("admin RoleBinding from the project template");
    assert_eq!(binding["subjects"][0]["name"], "admin");

    // A second request: AlreadyExists, as OpenShift answers.
    let again = api_err(
        requests
            .create(&PostParams::default(), &project_request("app-a"))
            .await,
    );
    assert_eq!((again.code, again.reason.as_str()), (409, "AlreadyExists"));

    // Reserved names are refused.
    let reserved = api_err(
        requests
            .create(&PostParams::default(), &project_request("openshift-foo"))
            .await,
    );
    assert_eq!(reserved.code, 403);
    assert!(
        s.get_object("v1", "Namespace", None, "openshift-foo")
            .is_none()
    );

    // Projects are the namespaces; deleting one deletes the namespace.
    let projects: Api<DynamicObject> =
        Api::all_with(c, &ar("project.openshift.io", "v1", "Project", "projects"));
    let listed = projects.list(&Default::default()).await.expect("list");
    assert!(
        listed
            .items
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some("app-a"))
    );
    projects.get("app-a").await.expect("get project");
    projects
        .delete("app-a", &DeleteParams::default())
        .await
        .expect("delete project");
    assert!(s.get_object("v1", "Namespace", None, "app-a").is_none());
    let gone = api_err(projects.get("app-a").await);
    assert_eq!(gone.code, 404);
}
