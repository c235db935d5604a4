use crate::common::*;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn cm(name: &str, labels: serde_json::Value, data: serde_json::Value) -> DynamicObject {
    dynobj(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": data}),
    )
}

#[tokio::test]
async fn create_get_list_replace_patch_delete_with_resource_versions() {
    let s = server().await;
    let c = client(&s).await;
    create_ns(&c, "app").await;
    let api = ns_api(&c, &cm_ar(), "app");
    let created = api
        .create(
            &PostParams::default(),
            &cm("one", json!({"a": "b"}), json!({"k": "v"})),
        )
        .await
        .expect("create");
    let rv1: u64 = created
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        created
            .metadata
            .uid
            .as_deref()
            .is_some_and(|u| u.len() == 36)
    );
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.namespace.as_deref(), Some("app"));
    assert_eq!(
        created.metadata.generation, None,
        "configmaps carry no generation"
    );
    let mf = created
        .metadata
        .managed_fields
        .as_ref()
        .expect("managedFields");
    assert_eq!(mf[0].operation.as_deref(), Some("Update"));

    let got = api.get("one").await.expect("get");
    assert_eq!(got.data["data"]["k"], "v");

    let list = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    let list_rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    assert!(list_rv >= rv1);

    // replace with the current resourceVersion
    let mut upd = got.clone();
    upd.data["data"]["k"] = json!("v2");
    let replaced = api
        .replace("one", &PostParams::default(), &upd)
        .await
        .expect("replace");
    let rv2: u64 = replaced
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);
    assert_eq!(replaced.metadata.uid, created.metadata.uid);
    assert_eq!(
        replaced.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );

    // merge patch
    let patched = api
        .patch(
            "one",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"extra": "1", "k": null}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(patched.data["data"], json!({"extra": "1"}));
    assert!(
        patched
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv2
    );

    // delete answers a Success Status
    let del = api
        .delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    let status = del.right().expect("Status for configmap delete");
    assert_eq!(
        status.details.as_ref().map(|d| d.name.as_str()),
        Some("one")
    );
    assert!(api.get_opt("one").await.expect("get_opt").is_none());
    assert!(
        s.get_object("v1", "ConfigMap", Some("app"), "one")
            .is_none()
    );
}

#[tokio::test]
async fn selectors_and_pagination() {
    let s = server().await;
    let c = client(&s).await;
    create_ns(&c, "a").await;
    create_ns(&c, "b").await;
    let a = ns_api(&c, &cm_ar(), "a");
    let b = ns_api(&c, &cm_ar(), "b");
    a.create(
        &PostParams::default(),
        &cm("x", json!({"env": "prod", "team": "red"}), json!({})),
    )
    .await
    .unwrap();
    a.create(
        &PostParams::default(),
        &cm("y", json!({"env": "dev"}), json!({})),
    )
    .await
    .unwrap();
    a.create(&PostParams::default(), &cm("z", json!({}), json!({})))
        .await
        .unwrap();
    b.create(
        &PostParams::default(),
        &cm("x", json!({"env": "prod"}), json!({})),
    )
    .await
    .unwrap();
    let names = |l: kube::core::ObjectList<DynamicObject>| -> Vec<String> {
        l.items
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o.metadata.namespace.clone().unwrap(),
                    o.metadata.name.clone().unwrap()
                )
            })
            .collect()
    };
    let all: Api<DynamicObject> = Api::all_with(c.clone(), &cm_ar());
    for (sel, want) in [
        ("env=prod", vec!["a/x", "b/x"]),
        ("env==prod", vec!["a/x", "b/x"]),
        ("env!=prod", vec!["a/y", "a/z"]),
        ("env in (dev,prod)", vec!["a/x", "a/y", "b/x"]),
        ("env notin (prod)", vec!["a/y", "a/z"]),
        ("team", vec!["a/x"]),
        ("!env", vec!["a/z"]),
        ("env=prod,team=red", vec!["a/x"]),
    ] {
        let got = names(all.list(&ListParams::default().labels(sel)).await.unwrap());
        assert_eq!(got, want, "selector {sel}");
    }
    assert_eq!(
        names(
            all.list(&ListParams::default().fields("metadata.name=x"))
                .await
                .unwrap()
        ),
        vec!["a/x", "b/x"]
    );
    assert_eq!(
        names(
            all.list(&ListParams::default().fields("metadata.namespace=b"))
                .await
                .unwrap()
        ),
        vec!["b/x"]
    );
    assert_eq!(
        names(
            all.list(&ListParams::default().fields("metadata.name!=x"))
                .await
                .unwrap()
        ),
        vec!["a/y", "a/z"]
    );
    let bad = api_err(all.list(&ListParams::default().fields("spec.foo=1")).await);
    assert_eq!(bad.code, 400);

    // namespaced list only sees its namespace; limit/continue pages through
    assert_eq!(
        names(a.list(&ListParams::default()).await.unwrap()),
        vec!["a/x", "a/y", "a/z"]
    );
    let p1 = a.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(p1.items.len(), 2);
    let token = p1.metadata.continue_.clone().expect("continue token");
    assert_eq!(p1.metadata.remaining_item_count, Some(1));
    let p2 = a
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(p2), vec!["a/z"]);
}

#[tokio::test]
async fn cluster_scoped_kinds_and_namespace_cascade() {
    let s = server().await;
    let c = client(&s).await;
    let roles: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ar(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
        ),
    );
    roles
        .create(&PostParams::default(), &dynobj(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]})))
        .await
        .expect("create clusterrole");
    let r = roles.get("reader").await.unwrap();
    assert!(r.metadata.namespace.is_none());
    assert_eq!(
        roles
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // namespace defaults
    create_ns(&c, "doomed").await;
    let nss: Api<DynamicObject> =
        Api::all_with(c.clone(), &ar("", "v1", "Namespace", "namespaces"));
    let ns = nss.get("doomed").await.unwrap();
    assert_eq!(ns.data["status"]["phase"], "Active");
    assert_eq!(
        ns.metadata.labels.as_ref().unwrap()["kubernetes.io/metadata.name"],
        "doomed"
    );

    let cms = ns_api(&c, &cm_ar(), "doomed");
    cms.create(
        &PostParams::default(),
        &cm("c1", json!({}), json!({"a": "1"})),
    )
    .await
    .unwrap();
    let secrets = ns_api(&c, &ar("", "v1", "Secret", "secrets"), "doomed");
    let sec = secrets
        .create(&PostParams::default(), &dynobj(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"}, "stringData": {"p": "hi"}})))
        .await
        .unwrap();
    assert_eq!(sec.data["type"], "Opaque");
    assert_eq!(sec.data["data"]["p"], "aGk=");
    let deleted = nss
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let ns_obj = deleted.left().expect("namespace delete returns the object");
    assert_eq!(ns_obj.data["status"]["phase"], "Terminating");
    assert!(s.list_objects("v1", "ConfigMap", Some("doomed")).is_empty());
    assert!(s.list_objects("v1", "Secret", Some("doomed")).is_empty());
    assert!(nss.get_opt("doomed").await.unwrap().is_none());
    let err = api_err(
        cms.create(&PostParams::default(), &cm("c2", json!({}), json!({})))
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (404, "NotFound"));
    assert_eq!(err.message, "namespaces \"doomed\" not found");

    roles
        .delete("reader", &DeleteParams::default())
        .await
        .unwrap();
    assert!(roles.get_opt("reader").await.unwrap().is_none());
}

#[tokio::test]
async fn owner_references_cascade_on_delete() {
    let s = server().await;
    let c = client(&s).await;
    let cms = ns_api(&c, &cm_ar(), "default");
    let owner = cms
        .create(&PostParams::default(), &cm("owner", json!({}), json!({})))
        .await
        .unwrap();
    let uid = owner.metadata.uid.clone().unwrap();
    cms.create(
        &PostParams::default(),
        &dynobj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "child", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}})),
    )
    .await
    .unwrap();
    cms.delete("owner", &DeleteParams::default()).await.unwrap();
    assert!(cms.get_opt("child").await.unwrap().is_none());
}

#[tokio::test]
async fn defaulting_generation_and_status_subresource() {
    let s = server().await;
    let c = client(&s).await;
    let deps = ns_api(
        &c,
        &ar("apps", "v1", "Deployment", "deployments"),
        "default",
    );
    let d = deps
        .create(
            &PostParams::default(),
            &dynobj(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})),
        )
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    assert_eq!(d.data["spec"]["replicas"], 1);
    assert_eq!(
        d.data["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(d.data["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d.data["spec"]["progressDeadlineSeconds"], 600);
    let ctr = &d.data["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(ctr["imagePullPolicy"], "IfNotPresent");
    assert_eq!(ctr["terminationMessagePath"], "/dev/termination-log");

    // label change: no generation bump; spec change: bump
    let d2 = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(d2.metadata.generation, Some(1));
    let d3 = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(d3.metadata.generation, Some(2));

    // status is ignored on the main resource and written through /status
    let d4 = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"readyReplicas": 3}})),
        )
        .await
        .unwrap();
    assert!(d4.data["status"].get("readyReplicas").is_none());
    let d5 = deps
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"readyReplicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(d5.data["status"]["readyReplicas"], 3);
    assert_eq!(d5.metadata.generation, Some(2));
    let mf = d5.metadata.managed_fields.unwrap();
    assert!(
        mf.iter()
            .any(|e| e.subresource.as_deref() == Some("status"))
    );

    // scale subresource
    let scale = c
        .request::<serde_json::Value>(
            http::Request::get("/apis/apps/v1/namespaces/default/deployments/web/scale")
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(scale["spec"]["replicas"], 3);

    // Service defaults
    let svcs = ns_api(&c, &ar("", "v1", "Service", "services"), "default");
    let svc = svcs
        .create(&PostParams::default(), &dynobj(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})))
        .await
        .unwrap();
    let ip = svc.data["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(svc.data["spec"]["clusterIPs"], json!([ip]));
    assert_eq!(svc.data["spec"]["type"], "ClusterIP");
    assert_eq!(svc.data["spec"]["sessionAffinity"], "None");
    assert_eq!(svc.data["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(
        svc.data["spec"]["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    // clusterIP survives an update that omits it
    let mut upd = svc.clone();
    upd.data["spec"]
        .as_object_mut()
        .unwrap()
        .remove("clusterIP");
    upd.data["spec"]
        .as_object_mut()
        .unwrap()
        .remove("clusterIPs");
    let svc2 = svcs
        .replace("web", &PostParams::default(), &upd)
        .await
        .unwrap();
    assert_eq!(svc2.data["spec"]["clusterIP"], ip.as_str());
}

#[tokio::test]
async fn dry_run_never_stores() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let out = api
        .create(&dry, &cm("ghost", json!({}), json!({"a": "1"})))
        .await
        .unwrap();
    assert_eq!(out.metadata.name.as_deref(), Some("ghost"));
    assert!(out.metadata.resource_version.is_none());
    assert!(api.get_opt("ghost").await.unwrap().is_none());

    let real = api
        .create(
            &PostParams::default(),
            &cm("real", json!({}), json!({"a": "1"})),
        )
        .await
        .unwrap();
    let rv = s.resource_version();
    let mut upd = real.clone();
    upd.data["data"]["a"] = json!("2");
    let replaced = api.replace("real", &dry, &upd).await.unwrap();
    assert_eq!(replaced.data["data"]["a"], "2");
    let pp = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    api.patch("real", &pp, &Patch::Merge(json!({"data": {"a": "3"}})))
        .await
        .unwrap();
    let ssa = PatchParams {
        dry_run: true,
        ..PatchParams::apply("mgr")
    };
    let applied = api.patch("real", &ssa, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}, "data": {"b": "4"}}))).await.unwrap();
    assert_eq!(applied.data["data"]["b"], "4");
    api.patch("new-one", &ssa, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new-one"}, "data": {"b": "4"}}))).await.unwrap();
    let dp = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    api.delete("real", &dp).await.unwrap();

    assert_eq!(
        s.resource_version(),
        rv,
        "no dry-run write may bump the resourceVersion"
    );
    let stored = s
        .get_object("v1", "ConfigMap", Some("default"), "real")
        .unwrap();
    assert_eq!(stored["data"], json!({"a": "1"}));
    assert_eq!(
        stored["metadata"]["resourceVersion"],
        real.metadata.resource_version.unwrap().as_str()
    );
    assert!(
        s.get_object("v1", "ConfigMap", Some("default"), "new-one")
            .is_none()
    );
    let dry_flags: Vec<bool> = s
        .requests()
        .iter()
        .filter(|r| r.verb != "get")
        .map(|r| r.dry_run)
        .collect();
    assert!(
        dry_flags.iter().filter(|d| **d).count() >= 6,
        "{:?}",
        s.requests()
    );
}

#[tokio::test]
async fn request_log_records_verbs() {
    let s = server().await;
    let c = client(&s).await;
    s.clear_requests();
    let api = ns_api(&c, &cm_ar(), "default");
    api.create(&PostParams::default(), &cm("r", json!({}), json!({})))
        .await
        .unwrap();
    api.get("r").await.unwrap();
    api.list(&ListParams::default()).await.unwrap();
    api.patch("r", &PatchParams::apply("me"), &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "r"}, "data": {"x": "1"}}))).await.unwrap();
    api.delete("r", &DeleteParams::default()).await.unwrap();
    let log = s.requests();
    let verbs: Vec<&str> = log.iter().map(|r| r.verb.as_str()).collect();
    assert_eq!(verbs, vec!["create", "get", "list", "patch", "delete"]);
    assert_eq!(log[3].field_manager.as_deref(), Some("me"));
    assert_eq!(
        log[3].content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert_eq!(log[0].status, 201);
    assert_eq!(log[0].path, "/api/v1/namespaces/default/configmaps");
    assert_eq!(log[1].user.as_deref(), Some("admin"));
}

#[tokio::test]
async fn delete_collection_honours_selectors() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    for (n, l) in [("a", "x"), ("b", "x"), ("c", "y")] {
        api.create(&PostParams::default(), &cm(n, json!({"g": l}), json!({})))
            .await
            .unwrap();
    }
    let out = api
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("g=x"),
        )
        .await
        .unwrap();
    let deleted = out.left().expect("list of deleted objects");
    assert_eq!(deleted.items.len(), 2);
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| o.metadata.name.unwrap())
        .collect();
    assert_eq!(left, vec!["c"]);
}

/// RoleBindings get the real server's rbac/v1 defaults: `roleRef.apiGroup` and the `apiGroup`
/// of User/Group subjects (not of ServiceAccounts) become `rbac.authorization.k8s.io`
/// (what the Python tool's `oc apply` of a RoleBinding without apiGroup leaves on a cluster).
#[tokio::test]
async fn role_binding_api_groups_are_defaulted() {
    let s = server().await;
    let c = client(&s).await;
    let rbs = ns_api(
        &c,
        &ar(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
        ),
        "default",
    );
    let rb = rbs
        .create(
            &PostParams::default(),
            &dynobj(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "edit-ada"},
                "roleRef": {"kind": "ClusterRole", "name": "edit"},
                "subjects": [{"kind": "User", "name": "ada"},
                             {"kind": "ServiceAccount", "name": "bot", "namespace": "default"}]}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        rb.data["roleRef"],
        json!({"kind": "ClusterRole", "name": "edit", "apiGroup": "rbac.authorization.k8s.io"})
    );
    assert_eq!(
        rb.data["subjects"][0]["apiGroup"],
        "rbac.authorization.k8s.io"
    );
    assert!(rb.data["subjects"][1].get("apiGroup").is_none());
}
