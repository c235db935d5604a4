use crate::common::*;
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope, verbs};
use qontract_kube_testserver::custom_resource_definition;

#[tokio::test]
async fn kube_discovery_run_sees_builtin_extra_and_crd_groups() {
    let s = server().await;
    let c = client(&s).await;
    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    for g in [
        "",
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "route.openshift.io",
        "monitoring.coreos.com",
        "apiextensions.k8s.io",
        "example.com",
    ] {
        assert!(d.has_group(g), "group {g:?} missing");
    }
    let (cm, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
        .expect("configmap");
    assert_eq!(cm.plural, "configmaps");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(caps.supports_operation(verbs::PATCH));
    let (ns, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
        .expect("namespace");
    assert_eq!(ns.plural, "namespaces");
    assert_eq!(caps.scope, Scope::Cluster);
    let (dep, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("deployment");
    assert_eq!(dep.plural, "deployments");
    assert!(
        caps.subresources
            .iter()
            .any(|(r, _)| r.plural == "deployments/status" || r.plural == "status"),
        "{:?}",
        caps.subresources
    );
    let (w, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
        .expect("crd kind");
    assert_eq!(w.plural, "widgets");
    assert_eq!(caps.scope, Scope::Namespaced);
    let (route, _) = d
        .resolve_gvk(&GroupVersionKind::gvk("route.openshift.io", "v1", "Route"))
        .expect("route");
    assert_eq!(route.plural, "routes");
    let (sm, _) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "monitoring.coreos.com",
            "v1",
            "ServiceMonitor",
        ))
        .expect("servicemonitor");
    assert_eq!(sm.plural, "servicemonitors");

    let paths: Vec<String> = s.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.contains(&"/apis".to_string())
            && paths.contains(&"/api".to_string())
            && paths.contains(&"/api/v1".to_string()),
        "{paths:?}"
    );
    assert!(paths.contains(&"/apis/apps/v1".to_string()));
}

#[tokio::test]
async fn aggregated_discovery_works_too() {
    let s = server().await;
    let c = client(&s).await;
    let d = Discovery::new(c)
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    assert!(d.has_group("apps") && d.has_group("") && d.has_group("example.com"));
    let (cm, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
        .expect("configmap");
    assert_eq!(cm.plural, "configmaps");
    assert_eq!(caps.scope, Scope::Namespaced);
    // one request each for /apis and /api
    assert_eq!(s.requests().len(), 2, "{:?}", s.requests());
}

#[tokio::test]
async fn crd_created_through_the_api_appears_in_discovery_and_deleting_it_removes_its_objects() {
    let s = server().await;
    let c = client(&s).await;
    let crds: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ar(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
        ),
    );
    let crd = crds
        .create(
            &PostParams::default(),
            &dynobj(custom_resource_definition(
                "stable.example.org",
                "v1beta1",
                "Gadget",
                "gadgets",
                false,
            )),
        )
        .await
        .expect("create crd");
    let conditions = crd.data["status"]["conditions"]
        .as_array()
        .expect("conditions");
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    );

    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    let (g, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "stable.example.org",
            "v1beta1",
            "Gadget",
        ))
        .expect("new kind discovered");
    assert_eq!(caps.scope, Scope::Cluster);
    let gadgets: Api<DynamicObject> = Api::all_with(c.clone(), &g);
    gadgets
        .create(&PostParams::default(), &dynobj(serde_json::json!({"apiVersion": "stable.example.org/v1beta1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 3}})))
        .await
        .expect("create CR");
    let got = gadgets.get("g1").await.expect("get CR");
    assert_eq!(got.data["spec"]["size"], 3);
    assert_eq!(got.metadata.generation, Some(1));

    crds.delete("gadgets.stable.example.org", &Default::default())
        .await
        .expect("delete crd");
    assert!(
        s.get_object("stable.example.org/v1beta1", "Gadget", None, "g1")
            .is_none()
    );
    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    assert!(!d.has_group("stable.example.org"));
}
