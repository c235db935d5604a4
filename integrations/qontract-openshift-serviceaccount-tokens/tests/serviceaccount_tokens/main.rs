//! openshift-serviceaccount-tokens end to end through its own binary, on an app-interface shaped
//! like the upstream schemas (`/openshift/namespace-1.yml` with `openshiftServiceAccountTokens`,
//! `/openshift/shared-resources-1.yml` with its own), against the loopback API server and its
//! token controller: the dry run writes nothing and prints no token, the wet run copies the
//! existing token and requests one for the service account without, the next run copies that
//! one, the run after converges, a removed declaration deletes its copy, and Secrets that are
//! not ours (hand-made, the requested token) are left alone. With `--vault-output-path`, a real
//! OpenBao dev server receives the decoded tokens (as upstream `write_outputs_to_vault`).

#[path = "../../../qontract-openshift-rolebindings/tests/support/runs.rs"]
mod runs;
#[path = "../../../../libs/qontract-secrets/tests/support/services.rs"]
mod services;

use std::process::Command;

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{TestAppInterface, output_text as text};
use serde_json::{Value, json};
use services::Bao;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-serviceaccount-tokens");

fn app_interface(sandbox: &KubeTestServer, vault: Option<&str>) -> TestAppInterface {
    let vault = vault
        .map(|url| {
            format!(
                "\n[vault]\nserver = {url:?}\ntoken = {:?}\n",
                Bao::ROOT_TOKEN
            )
        })
        .unwrap_or_default();
    let app = TestAppInterface::new(BIN, &format!("{}{vault}", runs::SANDBOX_CREDS));
    runs::write_integration(
        &app,
        "openshift-serviceaccount-tokens",
        "service account tokens",
        &[
            "/openshift/cluster-1.yml",
            "/openshift/namespace-1.yml",
            "/openshift/shared-resources-1.yml",
        ],
    );
    app.write(
        "openshift/sandbox/cluster.yml",
        &runs::cluster_yaml("sandbox", &sandbox.url(), ""),
    );
    app.write(
        "services/ci/namespaces/ci.yml",
        "---\n$schema: /openshift/namespace-1.yml\n\nlabels: {}\nname: ci\n\
             description: where the service accounts live\n\
             cluster:\n  $ref: /openshift/sandbox/cluster.yml\n",
    );
    app.write(
            "services/shop/shared-resources/ci-tokens.yml",
            "---\n$schema: /openshift/shared-resources-1.yml\n\nlabels: {}\nname: ci-tokens\n\
             description: the pusher token for every shop namespace\nopenshiftResources: []\n\
             openshiftServiceAccountTokens:\n\
             - namespace:\n    $ref: /services/ci/namespaces/ci.yml\n  serviceAccountName: pusher\n",
        );
    app.write(
        "services/shop/namespaces/app.yml",
        "---\n$schema: /openshift/namespace-1.yml\n\nlabels: {}\nname: app\n\
             description: the shop\ncluster:\n  $ref: /openshift/sandbox/cluster.yml\n\
             sharedResources:\n- $ref: /services/shop/shared-resources/ci-tokens.yml\n\
             openshiftServiceAccountTokens:\n\
             - name: app-deployer\n  namespace:\n    $ref: /services/ci/namespaces/ci.yml\n  \
             serviceAccountName: deployer\n",
    );
    app
}

fn secret(server: &KubeTestServer, ns: &str, name: &str) -> Option<Value> {
    server.get_object("v1", "Secret", Some(ns), name)
}

/// The Secrets of `ns` by name (type, qontract.integration annotation).
fn secrets(server: &KubeTestServer, ns: &str) -> Vec<String> {
    server
        .list_objects("v1", "Secret", Some(ns))
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["metadata"]["name"].as_str().unwrap_or_default(),
                s["type"].as_str().unwrap_or_default(),
                s.pointer("/metadata/annotations/qontract.integration")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
            )
        })
        .collect()
}

fn token_of(server: &KubeTestServer, ns: &str, name: &str) -> String {
    secret(server, ns, name)
        .unwrap_or_else(|| panic!("Secret {ns}/{name}"))
        .pointer("/data/token")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{ns}/{name} has no data.token"))
        .to_owned()
}

/// The name of the token Secret the run requested for `sa` in `ci`.
fn requested(server: &KubeTestServer, sa: &str) -> String {
    let prefix = format!("{sa}-token-");
    let names: Vec<String> = server
        .list_objects("v1", "Secret", Some("ci"))
        .iter()
        .filter_map(|s| s["metadata"]["name"].as_str().map(str::to_owned))
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names[0].clone()
}

async fn sandbox() -> KubeTestServer {
    runs::sandbox()
        .seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}))
        .seed(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": "deployer", "namespace": "ci"}}))
        .seed(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": "pusher", "namespace": "ci"}}))
        // deployer has its token Secret (as before OpenShift 4.16); pusher has none
        .seed(json!({"apiVersion": "v1", "kind": "Secret",
                     "type": "kubernetes.io/service-account-token",
                     "metadata": {"name": "deployer-token-abcde", "namespace": "ci",
                                  "annotations": {"kubernetes.io/service-account.name": "deployer"}}}))
        .seed(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                     "metadata": {"name": "made-by-hand", "namespace": "app"},
                     "data": {"token": "aGFuZA=="}}))
        .start()
        .await
        .expect("sandbox")
}

fn decode(b64: &str) -> String {
    use std::process::Stdio;
    let mut child = Command::new("base64")
        .arg("-d")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("base64");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), b64.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("base64 -d");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_copied_requested_converge_and_removed_declarations_deleted() {
    let sandbox = sandbox().await;
    let app = app_interface(&sandbox, None);
    let deployer_token = token_of(&sandbox, "ci", "deployer-token-abcde");

    // Dry run: the plan, no writes, no token.
    let out = runs::dry_run_plans_changes(&app, &sandbox);
    runs::assert_contains_all(
        &out,
        &[
            "app-deployer",
            "pusher-token-",
            "Creating token for service account: pusher",
        ],
    );
    let all = text(&out);
    assert!(
        !all.contains(&deployer_token),
        "the dry run printed a token"
    );
    assert!(
        !all.contains(&decode(&deployer_token)),
        "the dry run printed a token"
    );
    let out = runs::run_ok(&app, &["--dry-run", "--output", "json"]);
    let all = text(&out);
    assert!(all.contains("app-deployer"), "{all}");
    assert!(
        !all.contains(&deployer_token),
        "the JSON plan printed a token"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");
    assert!(secret(&sandbox, "app", "app-deployer").is_none());

    // Wet run: deployer's token copied, a token requested for pusher (filled by the
    // token controller).
    let out = runs::run_ok(&app, &[]);
    assert!(
        !text(&out).contains(&deployer_token),
        "the run printed a token"
    );
    assert_eq!(token_of(&sandbox, "app", "app-deployer"), deployer_token);
    let pusher = requested(&sandbox, "pusher");
    let annotations =
        secret(&sandbox, "ci", &pusher).expect("requested")["metadata"]["annotations"].clone();
    assert_eq!(
        annotations["qontract.integration"],
        "openshift-serviceaccount-tokens-unmanaged"
    );
    assert_eq!(annotations["kubernetes.io/service-account.name"], "pusher");
    let pusher_token = token_of(&sandbox, "ci", &pusher);

    // Next run: pusher's token copied under the default name <cluster>-<namespace>-<sa>.
    runs::run_ok(&app, &[]);
    assert_eq!(token_of(&sandbox, "app", "sandbox-ci-pusher"), pusher_token);
    assert_eq!(requested(&sandbox, "pusher"), pusher, "no second request");

    // Converged.
    let before = sandbox.writes().len();
    runs::assert_converged(&app);
    runs::run_ok(&app, &[]);
    assert_eq!(sandbox.writes().len(), before, "a converged run wrote");

    // A removed declaration deletes its copy; the hand-made Secret and the requested token
    // (not ours) stay.
    app.edit(
        "services/shop/namespaces/app.yml",
        "openshiftServiceAccountTokens:\n\
         - name: app-deployer\n  namespace:\n    $ref: /services/ci/namespaces/ci.yml\n  \
         serviceAccountName: deployer\n",
        "",
    );
    runs::run_ok(&app, &[]);
    assert_eq!(
        secrets(&sandbox, "app"),
        [
            "made-by-hand Opaque -",
            "sandbox-ci-pusher Opaque openshift-serviceaccount-tokens",
        ]
    );
    assert!(
        secrets(&sandbox, "ci").contains(&format!(
            "{pusher} kubernetes.io/service-account-token openshift-serviceaccount-tokens-unmanaged"
        )),
        "{:?}",
        secrets(&sandbox, "ci")
    );
    assert!(secret(&sandbox, "ci", "deployer-token-abcde").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn vault_output_receives_the_decoded_tokens_only_on_wet_runs() {
    let bao = Bao::start().await;
    let sandbox = sandbox().await;
    let app = app_interface(&sandbox, Some(&bao.url));
    let http = reqwest::Client::new();
    let read = |path: String| {
        let http = http.clone();
        let url = format!("{}/v1/{path}", bao.url);
        async move {
            let response = http
                .get(url)
                .header("X-Vault-Token", Bao::ROOT_TOKEN)
                .send()
                .await
                .expect("vault");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let per_namespace = "secret/data/out/openshift-serviceaccount-tokens/sandbox/app/app-deployer";
    let shared = "secret/data/out/openshift-serviceaccount-tokens/shared-resources/app-deployer";
    let args = ["--vault-output-path", "secret/out"];

    runs::run_ok(&app, &["--dry-run", "--vault-output-path", "secret/out"]);
    assert_eq!(
        read(per_namespace.to_owned()).await.0,
        404,
        "the dry run wrote to Vault"
    );

    let out = runs::run_ok(&app, &args);
    let token = decode(&token_of(&sandbox, "ci", "deployer-token-abcde"));
    assert!(!text(&out).contains(&token), "the run printed a token");
    for path in [per_namespace, shared] {
        let (status, body) = read(path.to_owned()).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["data"]["data"], json!({"token": token}), "{path}");
        assert_eq!(body["data"]["metadata"]["version"], 1, "{path}");
    }
    // The token request has no data: nothing written for it.
    let (_, list) = read(
        "secret/metadata/out/openshift-serviceaccount-tokens/shared-resources?list=true".to_owned(),
    )
    .await;
    assert_eq!(list["data"]["keys"], json!(["app-deployer"]));

    // Unchanged data writes no new version (upstream VaultClient.write without force).
    runs::run_ok(&app, &args);
    for path in [per_namespace, shared] {
        let (_, body) = read(path.to_owned()).await;
        assert_eq!(body["data"]["metadata"]["version"], 1, "{path}");
    }
    // The second run copied pusher's token too.
    let (status, _) = read(
        "secret/data/out/openshift-serviceaccount-tokens/sandbox/app/sandbox-ci-pusher".to_owned(),
    )
    .await;
    assert_eq!(status, 200);
}
