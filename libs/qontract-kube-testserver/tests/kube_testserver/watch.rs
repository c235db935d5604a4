use crate::common::*;
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::json;
use std::time::Duration;

fn cm(name: &str, labels: serde_json::Value) -> kube::api::DynamicObject {
    dynobj(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}}),
    )
}

async fn next<S>(s: &mut S) -> (String, String)
where
    S: futures::Stream<Item = Result<WatchEvent<kube::api::DynamicObject>, kube::Error>> + Unpin,
{
    let ev = tokio::time::timeout(Duration::from_secs(5), s.try_next())
        .await
        .expect("event in time")
        .expect("stream ok")
        .expect("stream open");
    match ev {
        WatchEvent::Added(o) => ("ADDED".into(), o.metadata.name.unwrap()),
        WatchEvent::Modified(o) => ("MODIFIED".into(), o.metadata.name.unwrap()),
        WatchEvent::Deleted(o) => ("DELETED".into(), o.metadata.name.unwrap()),
        WatchEvent::Bookmark(_) => ("BOOKMARK".into(), String::new()),
        WatchEvent::Error(e) => panic!("watch error {e:?}"),
    }
}

#[tokio::test]
async fn watch_streams_changes_from_now_or_from_a_resource_version() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    api.create(&PostParams::default(), &cm("before", json!({})))
        .await
        .unwrap();

    // resourceVersion "0": synthetic ADDED for what exists, then live changes
    let mut w = api
        .watch(&WatchParams::default().timeout(10), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(next(&mut w).await, ("ADDED".into(), "before".into()));
    api.create(&PostParams::default(), &cm("live", json!({})))
        .await
        .unwrap();
    assert_eq!(next(&mut w).await, ("ADDED".into(), "live".into()));
    api.patch(
        "live",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "1"}})),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut w).await, ("MODIFIED".into(), "live".into()));
    api.delete("live", &DeleteParams::default()).await.unwrap();
    assert_eq!(next(&mut w).await, ("DELETED".into(), "live".into()));

    // list-then-watch from the list's resourceVersion replays only later changes
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    api.create(&PostParams::default(), &cm("after", json!({})))
        .await
        .unwrap();
    let mut w2 = api
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .unwrap()
        .boxed();
    assert_eq!(next(&mut w2).await, ("ADDED".into(), "after".into()));
}

#[tokio::test]
async fn watch_with_label_selector_sees_objects_leave_the_selection() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    let mut w = api
        .watch(&WatchParams::default().labels("app=x").timeout(10), "0")
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("other", json!({"app": "y"})))
        .await
        .unwrap();
    api.create(&PostParams::default(), &cm("mine", json!({"app": "x"})))
        .await
        .unwrap();
    assert_eq!(next(&mut w).await, ("ADDED".into(), "mine".into()));
    api.patch(
        "mine",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "z"}}})),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut w).await, ("DELETED".into(), "mine".into()));
}

#[tokio::test]
async fn watch_ends_at_timeout_and_namespace_deletion_emits_deletes() {
    let s = server().await;
    let c = client(&s).await;
    create_ns(&c, "w").await;
    let api = ns_api(&c, &cm_ar(), "w");
    api.create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    let all: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(c.clone(), &cm_ar());
    let rv = all
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut w = all
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap()
        .boxed();
    let nss: kube::Api<kube::api::DynamicObject> =
        kube::Api::all_with(c.clone(), &ar("", "v1", "Namespace", "namespaces"));
    nss.delete("w", &DeleteParams::default()).await.unwrap();
    assert_eq!(next(&mut w).await, ("DELETED".into(), "a".into()));
    let end = tokio::time::timeout(Duration::from_secs(5), w.try_next())
        .await
        .expect("stream ends after timeoutSeconds");
    assert!(matches!(end, Ok(None)), "{end:?}");
}
