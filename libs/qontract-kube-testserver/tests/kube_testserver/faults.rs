use crate::common::*;
use kube::api::{ListParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn injected_failures_and_throttling() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");

    s.fail_next("/api/v1/namespaces/*/configmaps", 500);
    let e = api_err(api.list(&ListParams::default()).await);
    assert_eq!((e.code, e.reason.as_str()), (500, "InternalError"));
    api.list(&ListParams::default())
        .await
        .expect("only the next request fails");

    // kube-rs retries 503/504/429 by itself: two injected 503s are absorbed, the log shows all three attempts
    s.clear_requests();
    s.fail_next_n("configmaps", 503, 2);
    api.list(&ListParams::default())
        .await
        .expect("retried past the 503s");
    let codes: Vec<u16> = s.requests().iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![503, 503, 200]);

    // a pattern with a method only hits that method
    s.fail_next("POST /api/v1/namespaces/default/configmaps", 409);
    api.list(&ListParams::default()).await.unwrap();
    let e = api_err(
        api.create(
            &PostParams::default(),
            &dynobj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
        )
        .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(
        s.get_object("v1", "ConfigMap", Some("default"), "x")
            .is_none()
    );

    // 429 with Retry-After: 0 is retried by the client too
    s.clear_requests();
    s.throttle_next("configmaps", 0, 1);
    api.list(&ListParams::default())
        .await
        .expect("retried past the 429");
    let codes: Vec<u16> = s.requests().iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![429, 200]);

    s.set_error_rate(1.0, 500);
    assert_eq!(api_err(api.list(&ListParams::default()).await).code, 500);
    s.set_error_rate(0.0, 500);
    api.list(&ListParams::default()).await.unwrap();
}

#[tokio::test]
async fn throttling_sends_retry_after() {
    let s = http_server().await;
    s.throttle_next("/api/v1/namespaces", 7, 1);
    let (code, headers, body) = raw(&s, "GET", "/api/v1/namespaces", Some(TOKEN), None, None).await;
    assert_eq!(code, 429);
    assert!(
        headers.contains(&("retry-after".to_string(), "7".to_string())),
        "{headers:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["reason"], "TooManyRequests");
    assert_eq!(v["details"]["retryAfterSeconds"], 7);
    let (code, _, _) = raw(&s, "GET", "/api/v1/namespaces", Some(TOKEN), None, None).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn latency_and_unreachable() {
    let s = server().await;
    let c = client(&s).await;
    let api = ns_api(&c, &cm_ar(), "default");
    s.set_latency(Duration::from_millis(150));
    let t = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    s.set_latency(Duration::ZERO);

    s.set_unreachable(true);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = api.list(&ListParams::default()).await;
    assert!(
        !matches!(r, Ok(_) | Err(kube::Error::Api(_))),
        "expected a transport error, got {r:?}"
    );
    assert!(
        tokio::net::TcpStream::connect(s.addr()).await.is_err(),
        "connections are refused while unreachable"
    );

    s.set_unreachable(false);
    let mut ok = false;
    for _ in 0..50 {
        if api.list(&ListParams::default()).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "server is reachable again");
}
