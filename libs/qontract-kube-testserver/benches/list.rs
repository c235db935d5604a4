//! Lists 1,000 ConfigMaps through kube-rs against the loopback server and prints timings.
//! Target: < 50 ms per list (not asserted).

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use qontract_kube_testserver::KubeTestServer;
use serde_json::json;
use std::time::{Duration, Instant};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = KubeTestServer::builder().https(true).token("bench").start().await.expect("server");
        for i in 0..1000 {
            server
                .seed(json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{i:04}"), "namespace": "bench", "labels": {"app": "bench", "shard": (i % 10).to_string()}},
                    "data": {"key": "value", "index": i.to_string()}
                }))
                .expect("seed");
        }
        let client = server.client().await.expect("client");
        let raw_client = client.clone();
        let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "ConfigMap"), "configmaps");
        let api: Api<DynamicObject> = Api::namespaced_with(client, "bench", &ar);
        let warm = api.list(&ListParams::default()).await.expect("list");
        assert_eq!(warm.items.len(), 1000);

        for (label, params) in [
            ("list 1000 (all)", ListParams::default()),
            ("list 100 (labelSelector shard=3)", ListParams::default().labels("shard=3")),
            ("list 1000 (labelSelector app=bench)", ListParams::default().labels("app=bench")),
        ] {
            let mut times: Vec<Duration> = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                let l = api.list(&params).await.expect("list");
                times.push(t.elapsed());
                std::hint::black_box(l);
            }
            times.sort();
            let mean = times.iter().sum::<Duration>() / times.len() as u32;
            println!(
                "{label}: min {:.2} ms, median {:.2} ms, mean {:.2} ms, max {:.2} ms (target < 50 ms)",
                times[0].as_secs_f64() * 1e3,
                times[times.len() / 2].as_secs_f64() * 1e3,
                mean.as_secs_f64() * 1e3,
                times[times.len() - 1].as_secs_f64() * 1e3
            );
        }
        // the same list without deserialising into DynamicObjects (server + transport only)
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..20 {
            let req = http::Request::get("/api/v1/namespaces/bench/configmaps").body(Vec::new()).expect("request");
            let t = Instant::now();
            let text = raw_client.request_text(req).await.expect("raw list");
            times.push(t.elapsed());
            std::hint::black_box(text);
        }
        times.sort();
        println!(
            "list 1000 as raw text (no client-side decoding): min {:.2} ms, median {:.2} ms",
            times[0].as_secs_f64() * 1e3,
            times[times.len() / 2].as_secs_f64() * 1e3
        );
        server.shutdown().await;
    });
}
