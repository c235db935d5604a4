//! Desired state from data shaped like the upstream schemas: `/openshift/namespace-1.yml`
//! `openshiftServiceAccountTokens` (`name`, `namespace` crossref, `serviceAccountName`) and
//! `/openshift/shared-resources-1.yml` `openshiftServiceAccountTokens`.

use super::*;
use qontract_gql_bindings::serviceaccount_tokens_namespaces::ServiceAccountTokensNamespaces;

fn cluster(name: &str, disabled: &[&str]) -> Value {
    json!({
        "name": name, "serverUrl": format!("https://api.{name}:6443"),
        "insecureSkipTLSVerify": null, "internal": null,
        "automationToken": {"path": format!("creds/{name}"), "field": "token", "version": null, "format": null},
        "clusterAdminAutomationToken": null,
        "disable": {"integrations": disabled},
    })
}

fn sat(name: Option<&str>, cluster_: &str, ns: &str, sa: &str) -> Value {
    json!({
        "name": name, "serviceAccountName": sa,
        "namespace": {"name": ns, "delete": null, "cluster": cluster(cluster_, &[])},
    })
}

fn data() -> Vec<NamespaceV1> {
    let doc = json!({"namespaces_v1": [
        // consumes a token of its own and one through a sharedResources file
        {"name": "app", "delete": null, "cluster": cluster("c1", &[]),
         "openshiftServiceAccountTokens": [sat(Some("app-deployer"), "c2", "ci", "deployer")],
         "sharedResources": [{"openshiftServiceAccountTokens": [sat(None, "c2", "ci", "pusher")]}]},
        // only sharedResources
        {"name": "other", "delete": null, "cluster": cluster("c1", &[]),
         "openshiftServiceAccountTokens": null,
         "sharedResources": [{"openshiftServiceAccountTokens": [sat(None, "c2", "ci", "pusher")]}]},
        // not managed: being deleted, integration disabled, nothing declared
        {"name": "gone", "delete": true, "cluster": cluster("c1", &[]),
         "openshiftServiceAccountTokens": [sat(None, "c2", "ci", "deployer")], "sharedResources": null},
        {"name": "off", "delete": null, "cluster": cluster("c3", &["openshift-serviceaccount-tokens"]),
         "openshiftServiceAccountTokens": [sat(None, "c2", "ci", "deployer")], "sharedResources": null},
        {"name": "ci", "delete": null, "cluster": cluster("c2", &[]),
         "openshiftServiceAccountTokens": null, "sharedResources": null},
    ]});
    let data: ServiceAccountTokensNamespaces = serde_json::from_value(doc).expect("data");
    data.namespaces.unwrap_or_default()
}

fn scope() -> NamespaceFilter {
    NamespaceFilter {
        integration: NAME,
        ..NamespaceFilter::default()
    }
}

fn token_secret(name: &str, sa: &str, token: Option<&str>) -> Value {
    let mut s = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": name, "namespace": "ci",
                     "annotations": {"kubernetes.io/service-account.name": sa}},
    });
    if let Some(t) = token {
        s["data"] = json!({"token": t, "ca.crt": "Y2E=", "namespace": "Y2k="});
    }
    s
}

fn summary(d: &DesiredInventory) -> Vec<String> {
    let mut out = Vec::new();
    for (c, ns, t, state) in d.inventory.iter() {
        for (name, e) in state.desired() {
            let body = e.resource.body();
            out.push(format!(
                "{c}/{ns} {t} {name} type={} integration={} token={}",
                body["type"].as_str().unwrap_or_default(),
                e.resource.integration(),
                body.pointer("/data/token")
                    .and_then(Value::as_str)
                    .unwrap_or("-"),
            ));
        }
    }
    out
}

#[test]
fn consumers_then_service_account_namespaces_shared_resources_appended() {
    let c = canonicalize(&data(), &scope());
    let got: Vec<String> = c
        .iter()
        .map(|n| {
            let t: Vec<String> = n.tokens.iter().map(TokenRef::secret_name).collect();
            format!("{}/{} {t:?}", n.cluster.name, n.namespace)
        })
        .collect();
    assert_eq!(
        got,
        [
            r#"c1/app ["app-deployer", "c2-ci-pusher"]"#,
            r#"c1/other ["c2-ci-pusher"]"#,
            r#"c2/ci []"#,
        ]
    );
}

#[test]
fn copies_the_first_token_by_name_and_requests_one_where_none_exists() {
    let c = canonicalize(&data(), &scope());
    let secrets: SecretsByNamespace = [(
        ("c2".to_owned(), "ci".to_owned()),
        Ok(vec![
            token_secret("deployer-token-b", "deployer", Some("QkJC")),
            token_secret("deployer-token-a", "deployer", Some("QUFB")),
            // an Opaque Secret with the annotation is not a token
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": "aaa", "annotations": {"kubernetes.io/service-account.name": "pusher"}},
                   "data": {"token": "eA=="}}),
        ]),
    )]
    .into_iter()
    .collect();
    let d = desired_state(&c, None, &secrets, &mut || 42);
    assert_eq!(
        summary(&d),
        [
            "c1/app Secret app-deployer type=Opaque integration=openshift-serviceaccount-tokens token=QUFB",
            "c2/ci Secret pusher-token-00042 type=kubernetes.io/service-account-token integration=openshift-serviceaccount-tokens-unmanaged token=-",
        ],
        "one token request for pusher although two namespaces consume it"
    );
    let managed: Vec<_> = d.namespaces.iter().cloned().collect();
    assert_eq!(
        managed,
        [
            ("c1".to_owned(), "app".to_owned()),
            ("c1".to_owned(), "other".to_owned()),
            ("c2".to_owned(), "ci".to_owned()),
        ]
    );
    assert!(d.inventory.errors().is_empty());
}

#[test]
fn a_token_secret_without_a_token_or_an_unreadable_namespace_is_an_error() {
    let c = canonicalize(&data(), &scope());
    let secrets: SecretsByNamespace = [(
        ("c2".to_owned(), "ci".to_owned()),
        Ok(vec![
            token_secret("deployer-token-a", "deployer", None),
            token_secret("pusher-token-a", "pusher", Some("UFVTSA==")),
        ]),
    )]
    .into_iter()
    .collect();
    let d = desired_state(&c, None, &secrets, &mut || 1);
    assert_eq!(
        d.inventory
            .errors()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .len(),
        1
    );
    assert!(
        d.inventory.errors()[0]
            .to_string()
            .contains("[c2/ci] Token not found for service account: deployer"),
        "{:?}",
        d.inventory.errors()
    );
    assert_eq!(summary(&d).len(), 2, "both pusher copies still desired");

    let failed: SecretsByNamespace = [(
        ("c2".to_owned(), "ci".to_owned()),
        Err(ReadSecretsError::List {
            cluster: "c2".into(),
            namespace: "ci".into(),
            reason: "forbidden".into(),
        }),
    )]
    .into_iter()
    .collect();
    let d = desired_state(&c, None, &failed, &mut || 1);
    assert!(summary(&d).is_empty());
    assert!(!d.inventory.errors().is_empty());
    assert_eq!(
        d.inventory.errors()[0].to_string(),
        "[c2/ci] cannot list Secrets: forbidden"
    );
}

#[test]
fn a_skipped_service_account_cluster_desires_nothing_and_is_no_error() {
    let c = canonicalize(&data(), &scope());
    let d = desired_state(&c, None, &SecretsByNamespace::new(), &mut || 1);
    assert!(summary(&d).is_empty());
    assert!(d.inventory.errors().is_empty());
}

#[test]
fn the_copied_secret_hashes_as_the_python_tool_applied_it() {
    // The value `construct_sa_token_oc_resource("app-deployer", TOKEN).sha256sum()` of the
    // Python tool 0.10.1: a Secret it applied shows as unchanged.
    const TOKEN: &str = "ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlKemRXSWlPaUp6ZVhOMFpXMDZjMlZ5ZG1salpXRmpZMjkxYm5RNlkyazZaR1Z3Ykc5NVpYSWlmUS5zaWc=";
    let c = canonicalize(&data(), &scope());
    let secrets: SecretsByNamespace = [(
        ("c2".to_owned(), "ci".to_owned()),
        Ok(vec![
            token_secret("deployer-token-a", "deployer", Some(TOKEN)),
            token_secret("pusher-token-a", "pusher", Some("UFVTSA==")),
        ]),
    )]
    .into_iter()
    .collect();
    let d = desired_state(&c, None, &secrets, &mut || 1);
    let (_, _, _, state) = d
        .inventory
        .iter()
        .find(|(c, ns, _, _)| *c == "c1" && *ns == "app")
        .expect("c1/app");
    let copy = &state.desired()["app-deployer"].resource;
    assert_eq!(
        copy.sha256sum(),
        "381415974b8fd82464d176ec74be63d24dfb129fbe6c0c1a96902ec7097ce6f9"
    );
    assert_eq!(copy.integration(), "openshift-serviceaccount-tokens");
    assert_eq!(copy.integration_version(), "0.1.0");
}
