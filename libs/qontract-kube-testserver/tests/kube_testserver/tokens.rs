//! The service-account token controller: a `kubernetes.io/service-account-token` Secret of an
//! existing ServiceAccount gets `token`, `ca.crt` and `namespace`, written by
//! `kube-controller-manager`; the create response is the Secret before the controller ran.

use crate::common::*;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::json;

fn token_request(name: &str, sa: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": name, "namespace": "ci",
                     "annotations": {"kubernetes.io/service-account.name": sa}},
    }))
    .expect("secret")
}

fn decode(v: &serde_json::Value) -> String {
    // standard base64, as the server stores Secret data
    let s = v.as_str().expect("string");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.chars().filter(|c| *c != '=') {
        bits = (bits << 6) | u32::try_from(alphabet.find(c).expect("base64")).expect("6 bits");
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((bits >> n) & 0xff).expect("byte"));
        }
    }
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test]
async fn token_secrets_of_existing_service_accounts_are_filled() {
    let s = http_server().await;
    let c = client(&s).await;
    let secrets: Api<DynamicObject> =
        Api::namespaced_with(c.clone(), "ci", &ar("", "v1", "Secret", "secrets"));
    let sas: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "ci",
        &ar("", "v1", "ServiceAccount", "serviceaccounts"),
    );
    s.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ci"}}))
        .expect("namespace");
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                                       "metadata": {"name": "deployer", "namespace": "ci"}}))
        .expect("sa"),
    )
    .await
    .expect("create sa");

    let created = secrets
        .create(
            &PostParams::default(),
            &token_request("deployer-token-1", "deployer"),
        )
        .await
        .expect("create");
    assert!(
        created.data.get("data").is_none(),
        "the response precedes the controller"
    );

    let stored = secrets.get("deployer-token-1").await.expect("get");
    let data = &stored.data["data"];
    let token = decode(&data["token"]);
    assert_eq!(token.split('.').count(), 3, "JWT-shaped");
    assert_eq!(decode(&data["namespace"]), "ci");
    assert!(decode(&data["ca.crt"]).starts_with("-----BEGIN CERTIFICATE-----"));
    let sa = sas.get("deployer").await.expect("sa");
    assert_eq!(
        stored.metadata.annotations.as_ref().expect("annotations")["kubernetes.io/service-account.uid"],
        sa.metadata.uid.expect("uid")
    );
    let managers: Vec<_> = stored
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.iter().any(|m| m == "kube-controller-manager"),
        "{managers:?}"
    );

    // No ServiceAccount: no token, until it is created.
    secrets
        .create(
            &PostParams::default(),
            &token_request("pusher-token-1", "pusher"),
        )
        .await
        .expect("create");
    let waiting = secrets.get("pusher-token-1").await.expect("get");
    assert!(waiting.data.get("data").is_none());
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                                       "metadata": {"name": "pusher", "namespace": "ci"}}))
        .expect("sa"),
    )
    .await
    .expect("create sa");
    let filled = secrets.get("pusher-token-1").await.expect("get");
    assert!(filled.data["data"]["token"].is_string());

    // An Opaque Secret with the annotation is no token Secret.
    let mut opaque = token_request("opaque", "deployer");
    opaque.data["type"] = json!("Opaque");
    secrets
        .create(&PostParams::default(), &opaque)
        .await
        .expect("create");
    assert!(
        secrets
            .get("opaque")
            .await
            .expect("get")
            .data
            .get("data")
            .is_none()
    );
}
