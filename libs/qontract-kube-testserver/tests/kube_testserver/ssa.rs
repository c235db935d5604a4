use crate::common::*;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

fn cm_apply(name: &str, data: Value) -> Patch<Value> {
    Patch::Apply(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}),
    )
}

fn managers(o: &kube::api::DynamicObject) -> Vec<(String, String, Value)> {
    o.metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            (
                e.manager.unwrap_or_default(),
                e.operation.unwrap_or_default(),
                e.fields_v1.map(|f| f.0).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[tokio::test]
async fn apply_creates_then_conflicts_between_managers_and_force_moves_ownership() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");

    let a = api
        .patch(
            "ssa",
            &PatchParams::apply("a"),
            &cm_apply("ssa", json!({"x": "1"})),
        )
        .await
        .expect("apply a");
    assert_eq!(a.data["data"], json!({"x": "1"}));
    assert_eq!(
        managers(&a),
        vec![("a".into(), "Apply".into(), json!({"f:data": {"f:x": {}}}))]
    );
    assert_eq!(
        s.requests().last().unwrap().status,
        201,
        "apply that creates answers 201"
    );

    // same value from another manager: shared ownership, no conflict
    let shared = api
        .patch(
            "ssa",
            &PatchParams::apply("c"),
            &cm_apply("ssa", json!({"x": "1"})),
        )
        .await
        .expect("same value");
    assert_eq!(managers(&shared).len(), 2);
    assert_eq!(s.requests().last().unwrap().status, 200);

    // different value: conflict with both owners
    let e = api_err(
        api.patch(
            "ssa",
            &PatchParams::apply("b"),
            &cm_apply("ssa", json!({"x": "2"})),
        )
        .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .data.x\nconflicts with \"c\":\n- .data.x"
    );
    let causes = e.details.unwrap().causes;
    assert_eq!(causes.len(), 2);
    assert_eq!(
        (
            causes[0].reason.as_str(),
            causes[0].message.as_str(),
            causes[0].field.as_str()
        ),
        ("FieldManagerConflict", "conflict with \"a\"", ".data.x")
    );
    assert_eq!(
        s.get_object("v1", "ConfigMap", Some("default"), "ssa")
            .unwrap()["data"]["x"],
        "1"
    );

    // force: b takes the field, a and c lose it (and their now-empty entries)
    let forced = api
        .patch(
            "ssa",
            &PatchParams::apply("b").force(),
            &cm_apply("ssa", json!({"x": "2"})),
        )
        .await
        .expect("forced");
    assert_eq!(forced.data["data"]["x"], "2");
    assert_eq!(
        managers(&forced),
        vec![("b".into(), "Apply".into(), json!({"f:data": {"f:x": {}}}))]
    );
}

#[tokio::test]
async fn reapply_removes_fields_no_longer_applied_unless_someone_else_owns_them() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    api.patch(
        "r",
        &PatchParams::apply("me"),
        &cm_apply("r", json!({"a": "1", "b": "2", "c": "3"})),
    )
    .await
    .unwrap();
    // another manager co-owns c
    api.patch(
        "r",
        &PatchParams::apply("other"),
        &cm_apply("r", json!({"c": "3"})),
    )
    .await
    .unwrap();
    let o = api
        .patch(
            "r",
            &PatchParams::apply("me"),
            &cm_apply("r", json!({"a": "1"})),
        )
        .await
        .unwrap();
    assert_eq!(
        o.data["data"],
        json!({"a": "1", "c": "3"}),
        "b removed, c kept (owned by other)"
    );
    let ms = managers(&o);
    assert!(
        ms.contains(&("me".into(), "Apply".into(), json!({"f:data": {"f:a": {}}}))),
        "{ms:?}"
    );

    // labels and list items behave the same way
    let deps = ns_api(
        &c,
        &ar("apps", "v1", "Deployment", "deployments"),
        "default",
    );
    let dep = |containers: Value, labels: Value| {
        Patch::Apply(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": labels},
            "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": containers}}}}),
        )
    };
    let d1 = deps
        .patch(
            "d",
            &PatchParams::apply("me"),
            &dep(
                json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]),
                json!({"l1": "x", "l2": "y"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        d1.data["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mf = &managers(&d1)[0].2;
    assert!(
        mf["f:spec"]["f:template"]["f:spec"]["f:containers"]
            .get("k:{\"name\":\"a\"}")
            .is_some(),
        "{mf}"
    );
    assert_eq!(mf["f:spec"]["f:selector"], json!({}), "selector is atomic");
    let d2 = deps
        .patch(
            "d",
            &PatchParams::apply("me"),
            &dep(json!([{"name": "a", "image": "a:2"}]), json!({"l1": "x"})),
        )
        .await
        .unwrap();
    let cs = d2.data["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0]["image"], "a:2");
    assert_eq!(
        cs[0]["terminationMessagePath"], "/dev/termination-log",
        "defaults stay"
    );
    assert_eq!(d2.metadata.labels.unwrap().len(), 1);
    assert_eq!(d2.metadata.generation, Some(2));
}

#[tokio::test]
async fn update_managers_are_recorded_and_ownership_migrates_from_client_side_apply() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    // kubectl apply (client-side): create with last-applied annotation under kubectl-client-side-apply
    let last_applied = r#"{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"csa","namespace":"default"}}"#;
    let created = s
        .seed_as(
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "csa", "namespace": "default", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
                "data": {"a": "1", "b": "2"}}),
            "kubectl-client-side-apply",
        )
        .unwrap();
    let mf = &created["metadata"]["managedFields"];
    assert_eq!(mf[0]["manager"], "kubectl-client-side-apply");
    assert_eq!(mf[0]["operation"], "Update");
    assert_eq!(
        mf[0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}, "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}})
    );

    // Applying a different value for a field an Update manager owns conflicts with it.
    let e = api_err(
        api.patch(
            "csa",
            &PatchParams::apply("qontract"),
            &cm_apply("csa", json!({"b": "changed"})),
        )
        .await,
    );
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.b"
    );

    // Without migration, our apply of a only leaves b alone (still owned by the CSA manager).
    let o = api
        .patch(
            "csa",
            &PatchParams::apply("qontract"),
            &cm_apply("csa", json!({"a": "1"})),
        )
        .await
        .unwrap();
    assert_eq!(o.data["data"], json!({"a": "1", "b": "2"}));

    // csaupgrade-style migration: rewrite the CSA Update entry as our Apply entry (JSON patch on managedFields)
    let current = api.get("csa").await.unwrap();
    let mut entries: Vec<Value> = serde_json::to_value(current.metadata.managed_fields.unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let csa_set = entries
        .iter()
        .find(|e| e["manager"] == "kubectl-client-side-apply")
        .unwrap()["fieldsV1"]
        .clone();
    entries.retain(|e| e["manager"] != "kubectl-client-side-apply" && e["manager"] != "qontract");
    let mut merged_set = csa_set.clone();
    merged_set["f:data"]["f:a"] = json!({});
    entries.push(json!({"manager": "qontract", "operation": "Apply", "apiVersion": "v1", "time": "2026-11-28T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": merged_set}));
    let body = serde_json::to_vec(&json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": current.metadata.resource_version.unwrap()},
        {"op": "replace", "path": "/metadata/managedFields", "value": entries}
    ]))
    .unwrap();
    let req = http::Request::patch("/api/v1/namespaces/default/configmaps/csa")
        .header("content-type", "application/json-patch+json")
        .body(body)
        .unwrap();
    let migrated: Value = c.request(req).await.expect("json patch on managedFields");
    let ms: Vec<&str> = migrated["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(ms, vec!["qontract"]);

    // Now apply of a only: b (and the last-applied annotation) go away.
    let o = api
        .patch(
            "csa",
            &PatchParams::apply("qontract"),
            &cm_apply("csa", json!({"a": "1"})),
        )
        .await
        .unwrap();
    assert_eq!(o.data["data"], json!({"a": "1"}));
    assert!(
        o.metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        managers(&o),
        vec![(
            "qontract".into(),
            "Apply".into(),
            json!({"f:data": {"f:a": {}}})
        )]
    );

    // an Update by another manager takes ownership without conflicts
    let u = api
        .patch(
            "csa",
            &PatchParams {
                field_manager: Some("editor".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"data": {"a": "9"}})),
        )
        .await
        .unwrap();
    let ms = managers(&u);
    assert!(
        ms.iter().any(|(m, op, f)| m == "editor"
            && op == "Update"
            && f == &json!({"f:data": {"f:a": {}}})),
        "{ms:?}"
    );
    assert!(!ms.iter().any(|(m, _, _)| m == "qontract"), "{ms:?}");
}

#[tokio::test]
async fn apply_requires_field_manager_and_type_and_honours_resource_version() {
    let s = http_server().await;
    let (code, _, body) = raw(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x",
        Some(TOKEN),
        Some("application/apply-patch+yaml"),
        Some(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let (code, _, _) = raw(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x?fieldManager=m",
        Some(TOKEN),
        Some("application/apply-patch+yaml"),
        Some(r#"{"metadata":{"name":"x"}}"#),
    )
    .await;
    assert_eq!(code, 400);
    // YAML bodies are accepted
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: v\n";
    let (code, _, body) = raw(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x?fieldManager=m",
        Some(TOKEN),
        Some("application/apply-patch+yaml"),
        Some(yaml),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, _, _) = raw(&s, "PATCH", "/api/v1/namespaces/default/configmaps/x?fieldManager=m", Some(TOKEN), Some("application/apply-patch+yaml"), Some(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","resourceVersion":"1"}}"#)).await;
    assert_eq!(code, 409);
    let (code, _, _) = raw(
        &s,
        "PATCH",
        "/api/v1/namespaces/missing/configmaps/x?fieldManager=m",
        Some(TOKEN),
        Some("application/apply-patch+yaml"),
        Some(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#),
    )
    .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn crd_list_map_extensions_drive_apply_merging() {
    let mut crd = qontract_kube_testserver::custom_resource_definition(
        "example.org",
        "v1",
        "Pool",
        "pools",
        true,
    );
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "members": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "properties": {"name": {"type": "string"}, "weight": {"type": "integer"}}}
                    },
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "selector": {"type": "object", "x-kubernetes-map-type": "atomic", "additionalProperties": {"type": "string"}}
                }
            }
        }
    });
    let s = qontract_kube_testserver::KubeTestServer::builder()
        .crd(crd)
        .start()
        .await
        .unwrap();
    let c = s.client().await.unwrap();
    let api = ns_api(&c, &ar("example.org", "v1", "Pool", "pools"), "default");
    let pool = |spec: Value| {
        Patch::Apply(
            json!({"apiVersion": "example.org/v1", "kind": "Pool", "metadata": {"name": "p"}, "spec": spec}),
        )
    };
    api.patch(
        "p",
        &PatchParams::apply("one"),
        &pool(json!({"members": [{"name": "a", "weight": 1}], "tags": ["x"]})),
    )
    .await
    .unwrap();
    // a second manager adds its own member: merged by key, no conflict
    let o = api
        .patch(
            "p",
            &PatchParams::apply("two"),
            &pool(json!({"members": [{"name": "b", "weight": 2}]})),
        )
        .await
        .unwrap();
    let names: Vec<&str> = o.data["spec"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["a", "b"],
        "live-only items keep their place, new ones follow"
    );
    let mf = managers(&o);
    let one = mf.iter().find(|(m, _, _)| m == "one").unwrap();
    assert!(
        one.2["f:spec"]["f:members"]
            .get("k:{\"name\":\"a\"}")
            .is_some(),
        "{}",
        one.2
    );
    assert_eq!(
        one.2["f:spec"]["f:tags"],
        json!({}),
        "plain lists stay atomic"
    );
    // an atomic list is replaced whole and conflicts on change
    let e = api_err(
        api.patch(
            "p",
            &PatchParams::apply("two"),
            &pool(json!({"members": [{"name": "b", "weight": 2}], "tags": ["y"]})),
        )
        .await,
    );
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"one\": .spec.tags"
    );
}

/// As kube-apiserver: a write that changes nothing but the managedFields timestamps is a no-op
/// (same resourceVersion, the stored object kept, no watch event); any other difference, in the
/// object or in who owns what, is a new resourceVersion.
#[tokio::test]
async fn no_op_writes_keep_the_resource_version_and_ownership_changes_do_not() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    let rv = |o: &kube::api::DynamicObject| o.metadata.resource_version.clone().unwrap();

    let first = api
        .patch(
            "noop",
            &PatchParams::apply("a"),
            &cm_apply("noop", json!({"x": "1"})),
        )
        .await
        .expect("create");
    let again = api
        .patch(
            "noop",
            &PatchParams::apply("a"),
            &cm_apply("noop", json!({"x": "1"})),
        )
        .await
        .expect("same apply");
    assert_eq!(rv(&again), rv(&first), "an identical apply is a no-op");
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&first).unwrap(),
        "a no-op keeps the stored object, managedFields included"
    );
    let replaced = api
        .replace("noop", &Default::default(), &again)
        .await
        .expect("same update");
    assert_eq!(rv(&replaced), rv(&first), "an identical update is a no-op");

    // the same value from a second manager changes only managedFields: a real change
    let shared = api
        .patch(
            "noop",
            &PatchParams::apply("b"),
            &cm_apply("noop", json!({"x": "1"})),
        )
        .await
        .expect("shared");
    assert_eq!(managers(&shared).len(), 2);
    assert_ne!(rv(&shared), rv(&first), "new co-owner: new resourceVersion");

    // a metadata change (a label) and a data change
    let mut labelled = cm_apply("noop", json!({"x": "1"}));
    if let Patch::Apply(body) = &mut labelled {
        body["metadata"]["labels"] = json!({"l": "v"});
    }
    let with_label = api
        .patch("noop", &PatchParams::apply("b"), &labelled)
        .await
        .expect("label");
    assert_ne!(
        rv(&with_label),
        rv(&shared),
        "label added: new resourceVersion"
    );
    let changed = api
        .patch(
            "noop",
            &PatchParams::apply("b").force(),
            &cm_apply("noop", json!({"x": "2"})),
        )
        .await
        .expect("data change");
    assert_ne!(
        rv(&changed),
        rv(&with_label),
        "data changed: new resourceVersion"
    );
}
