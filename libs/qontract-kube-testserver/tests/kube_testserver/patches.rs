use crate::common::*;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

#[tokio::test]
async fn strategic_merge_and_json_patch() {
    let s = server().await;
    let c = client(&s).await;
    let deps = ns_api(
        &c,
        &ar("apps", "v1", "Deployment", "deployments"),
        "default",
    );
    deps.create(
        &PostParams::default(),
        &dynobj(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1", "env": [{"name": "X", "value": "1"}]}]}}}})),
    )
    .await
    .unwrap();
    // strategic merge: containers merge by name, env by name, $patch: delete removes an item
    let d = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "b", "image": "b:2", "env": [{"name": "Y", "value": "2"}]},
                {"name": "a", "$patch": "delete"}
            ]}}}})),
        )
        .await
        .unwrap();
    let cs = d.data["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0]["image"], "b:2");
    assert_eq!(
        cs[0]["env"],
        json!([{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}])
    );

    // JSON patch through the raw client (kube's Patch::Json needs an extra feature)
    let jp = |ops: Value| {
        http::Request::patch("/apis/apps/v1/namespaces/default/deployments/web")
            .header("content-type", "application/json-patch+json")
            .body(serde_json::to_vec(&ops).unwrap())
            .unwrap()
    };
    let out: Value = c
        .request(jp(json!([{"op": "replace", "path": "/spec/replicas", "value": 4}, {"op": "add", "path": "/metadata/labels", "value": {"k": "v"}}])))
        .await
        .unwrap();
    assert_eq!(out["spec"]["replicas"], 4);
    assert_eq!(out["metadata"]["labels"]["k"], "v");
    let e = match c
        .request::<Value>(jp(
            json!([{"op": "test", "path": "/spec/replicas", "value": 9}]),
        ))
        .await
    {
        Err(kube::Error::Api(s)) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.code, 422);

    // strategic merge on a custom resource is refused like the real server does
    let widgets = ns_api(&c, &ar("example.com", "v1", "Widget", "widgets"), "default");
    widgets.create(&PostParams::default(), &dynobj(json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"a": 1}}))).await.unwrap();
    let e = api_err(
        widgets
            .patch(
                "w",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"a": 2}})),
            )
            .await,
    );
    assert_eq!(e.code, 415);
    let w = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"b": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(w.data["spec"], json!({"a": 1, "b": 2}));
    assert_eq!(w.metadata.generation, Some(2));
}
