//! The per-namespace index (a namespaced list, watch or namespace deletion touches only that
//! namespace's objects), the fixed latency option and the request/connection counters.

use crate::common::*;
use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, WatchEvent, WatchParams};
use qontract_kube_testserver::{KubeTestServer, STATS_PATH};
use serde_json::{Value, json};
use std::time::Duration;

/// Namespaces whose names are prefixes of one another, each with two ConfigMaps.
const NAMESPACES: &[&str] = &["a", "a-b", "ab", "b"];

fn seed(s: &KubeTestServer) {
    for ns in NAMESPACES {
        for name in ["one", "two"] {
            s.seed(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns, "labels": {"ns": ns}}}))
                .expect("seed");
        }
    }
}

fn names(l: &kube::core::ObjectList<kube::api::DynamicObject>) -> Vec<String> {
    l.items
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o.metadata.namespace.clone().unwrap_or_default(),
                o.metadata.name.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn namespaced_lists_pages_and_watches_see_only_their_namespace() {
    let s = server().await;
    seed(&s);
    let c = client(&s).await;
    for ns in NAMESPACES {
        let api = ns_api(&c, &cm_ar(), ns);
        let l = api.list(&ListParams::default()).await.expect("list");
        assert_eq!(names(&l), vec![format!("{ns}/one"), format!("{ns}/two")]);
        // paging by one: the continue token resumes within the namespace
        let first = api
            .list(&ListParams::default().limit(1))
            .await
            .expect("page 1");
        assert_eq!(names(&first), vec![format!("{ns}/one")]);
        assert_eq!(first.metadata.remaining_item_count, Some(1));
        let token = first.metadata.continue_.clone().expect("continue token");
        let second = api
            .list(&ListParams::default().limit(1).continue_token(&token))
            .await
            .expect("page 2");
        assert_eq!(names(&second), vec![format!("{ns}/two")]);
        assert_eq!(second.metadata.continue_, None);
        assert_eq!(
            s.list_objects("v1", "ConfigMap", Some(ns)).len(),
            2,
            "list_objects({ns})"
        );
    }
    // the cluster-wide list still sees every namespace, in (namespace, name) order
    let all = kube::Api::<kube::api::DynamicObject>::all_with(c.clone(), &cm_ar())
        .list(&ListParams::default().labels("ns"))
        .await
        .expect("list all");
    assert_eq!(all.items.len(), 8);
    assert_eq!(names(&all)[..3], ["a/one", "a/two", "a-b/one"]);

    // a watch from "now" sends the namespace's objects as ADDED, nothing else
    let api = ns_api(&c, &cm_ar(), "a");
    let mut w = api
        .watch(&WatchParams::default().timeout(2), "0")
        .await
        .expect("watch")
        .boxed();
    let mut added = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), w.try_next())
        .await
        .expect("event in time")
    {
        if let WatchEvent::Added(o) = ev {
            added.push(format!(
                "{}/{}",
                o.metadata.namespace.unwrap_or_default(),
                o.metadata.name.unwrap_or_default()
            ));
        }
    }
    assert_eq!(added, vec!["a/one", "a/two"]);
}

#[tokio::test]
async fn deleting_a_namespace_removes_only_its_objects() {
    let s = server().await;
    seed(&s);
    let c = client(&s).await;
    let nss = kube::Api::<kube::api::DynamicObject>::all_with(
        c.clone(),
        &ar("", "v1", "Namespace", "namespaces"),
    );
    nss.delete("a", &Default::default())
        .await
        .expect("delete namespace");
    assert!(s.list_objects("v1", "ConfigMap", Some("a")).is_empty());
    for ns in ["a-b", "ab", "b"] {
        assert_eq!(
            s.list_objects("v1", "ConfigMap", Some(ns)).len(),
            2,
            "{ns} kept"
        );
    }
}

#[tokio::test]
async fn owner_references_cascade_within_the_namespace() {
    let s = server().await;
    let owner = s
        .seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": "x"}}))
        .expect("owner");
    let uid = owner["metadata"]["uid"].as_str().expect("uid").to_string();
    let owned = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]);
    s.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dep", "namespace": "x", "ownerReferences": owned}}))
        .expect("dependent");
    s.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other", "namespace": "x"}}))
        .expect("unrelated");
    let c = client(&s).await;
    ns_api(&c, &cm_ar(), "x")
        .delete("owner", &Default::default())
        .await
        .expect("delete owner");
    let left: Vec<Value> = s.list_objects("v1", "Secret", Some("x"));
    let left: Vec<&str> = left
        .iter()
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    assert_eq!(left, vec!["other"]);
}

#[tokio::test]
async fn stats_count_requests_and_connections() {
    let s = http_server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    for _ in 0..3 {
        api.list(&ListParams::default()).await.expect("list");
    }
    // one pooled client: sequential requests share one connection
    assert_eq!(s.connections(), 1);
    let (code, _, body) = raw(&s, "GET", STATS_PATH, None, None, None).await;
    assert_eq!(code, 200, "no auth needed: {body}");
    let stats: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(stats["requests"], json!(s.requests().len()));
    assert_eq!(stats["verbs"]["list"], json!(3));
    // the raw exchange was a second connection; the stats request itself is not logged
    assert_eq!(stats["connections"], json!(2));
    assert_eq!(s.requests().len(), 3);
}

#[tokio::test]
async fn latency_option_applies_from_the_start() {
    let s = KubeTestServer::builder()
        .https(false)
        .latency(Duration::from_millis(50))
        .start()
        .await
        .expect("start");
    let t = std::time::Instant::now();
    let (code, _, _) = raw(&s, "GET", "/api/v1/namespaces", None, None, None).await;
    assert_eq!(code, 200);
    // a lower bound only: the request cannot have been answered before the delay
    assert!(t.elapsed() >= Duration::from_millis(50));
}
