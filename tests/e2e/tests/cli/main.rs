//! The shipped binary, as users run it: `--help`, argv[0] dispatch, and the README demo
//! (the example app-interface, bundled in-process, against a loopback sandbox cluster).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::copy_dir;

use qontract_e2e::workspace;

mod binaries;
mod daemon;
mod demo_access;

/// The multi-call binary.
fn bin() -> PathBuf {
    qontract_e2e::bin("qontract-reconcile")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn help_lists_flags_with_env_vars_for_the_binary_and_each_integration() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out);
    for needle in [
        "openshift-namespaces",
        "run-integration",
        "[env: QONTRACT_CONFIG=]",
        "[env: QONTRACT_DRY_RUN=]",
    ] {
        assert!(help.contains(needle), "{needle} missing:\n{help}");
    }
    let out = Command::new(bin())
        .args(["openshift-namespaces", "--help"])
        .output()
        .unwrap();
    let help = text(&out);
    for needle in [
        "--cluster-name",
        "[env: CLUSTER_NAME=]",
        "--thread-pool-size",
        "[env: QONTRACT_THREAD_POOL_SIZE=]",
    ] {
        assert!(help.contains(needle), "{needle} missing:\n{help}");
    }
}

#[test]
fn a_link_named_after_an_integration_is_that_integration() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("openshift-namespaces");
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    let out = Command::new(&link).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out);
    assert!(help.contains("Usage: openshift-namespaces"), "{help}");
    assert!(help.contains("--namespace-name"), "{help}");
}

fn replace_in_tree(dir: &Path, from: &str, to: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            replace_in_tree(&path, from, to);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            std::fs::write(&path, text.replace(from, to)).unwrap();
        }
    }
}

/// The README demo, with the sandbox on a free port instead of 16443.
#[tokio::test(flavor = "multi_thread")]
async fn readme_demo_plans_applies_and_converges() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .seed(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop-legacy"}}))
        .start()
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
    copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
    replace_in_tree(
        &tmp.path().join("examples"),
        "http://127.0.0.1:16443",
        &sandbox.url(),
    );
    let config = tmp.path().join("examples/config.toml");
    let run = |args: &[&str]| run_with(&config, args);

    let out = run(&["--dry-run", "--detailed-exitcode", "openshift-namespaces"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(plan.contains("create  sandbox  shop-stage"), "{plan}");
    assert!(plan.contains("delete  sandbox  shop-legacy"), "{plan}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("[DRY-RUN]"));
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "dry-run wrote"
    );

    let out = run(&["openshift-namespaces"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        sandbox
            .get_object("v1", "Namespace", None, "shop-stage")
            .is_some()
    );
    assert!(
        sandbox
            .get_object("v1", "Namespace", None, "shop-production")
            .is_some()
    );
    assert!(
        sandbox
            .get_object("v1", "Namespace", None, "shop-legacy")
            .is_none()
    );

    let out = run(&[
        "--dry-run",
        "--detailed-exitcode",
        "--output",
        "json",
        "openshift-namespaces",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["action"] == "no_op"),
        "{plan}"
    );
}

#[test]
fn embedded_mode_reports_bad_data_with_file_and_pointer_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
    copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
    let ns = tmp
        .path()
        .join("examples/app-interface/data/services/shop/namespaces/shop-stage.yml");
    let text_before = std::fs::read_to_string(&ns).unwrap();
    std::fs::write(
        &ns,
        text_before.replace("/openshift/sandbox/cluster.yml", "/openshift/nowhere.yml"),
    )
    .unwrap();
    let out = Command::new(bin())
        .arg("--config")
        .arg(tmp.path().join("examples/config.toml"))
        .args(["--dry-run", "openshift-namespaces"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shop-stage.yml"), "{stderr}");
    assert!(stderr.contains("/openshift/nowhere.yml"), "{stderr}");
    assert!(out.stdout.is_empty(), "no plan is printed for bad data");
}

/// openshift-resources on the example: plan, apply, converge; a resource removed from the data
/// is deleted; a broken template is an error that disables every delete.
#[tokio::test(flavor = "multi_thread")]
async fn openshift_resources_applies_converges_and_deletes_only_when_safe() {
    let Demo {
        sandbox,
        tmp,
        config,
    } = Demo::start(Vec::new()).await;
    let run = |args: &[&str]| run_with(&config, args);
    let cm = |ns: &str, name: &str| sandbox.get_object("v1", "ConfigMap", Some(ns), name);
    let writes = || sandbox.writes().len();

    assert_eq!(run(&["openshift-namespaces"]).status.code(), Some(0));
    let before = writes();
    let out = run(&["--dry-run", "--detailed-exitcode", "openshift-resources"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("shop-environment") && plan.contains("not on the cluster"),
        "{plan}"
    );
    assert_eq!(writes(), before, "dry-run wrote");

    let out = run(&["openshift-resources"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rendered = cm("shop-production", "shop-environment").expect("template applied");
    assert_eq!(rendered["data"]["environment"], "production");
    assert_eq!(rendered["data"]["replicas"], "3");
    let annotations = &rendered["metadata"]["annotations"];
    assert_eq!(annotations["qontract.integration"], "openshift_resources");
    assert!(
        annotations["qontract.sha256sum"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
    assert!(cm("shop-stage", "shop-settings").is_some());

    let out = run(&["--dry-run", "--detailed-exitcode", "openshift-resources"]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // A broken template: error, exit 1, and the delete of the resource dropped below is skipped.
    let ns_file = tmp
        .path()
        .join("examples/app-interface/data/services/shop/namespaces/shop-production.yml");
    let original = std::fs::read_to_string(&ns_file).unwrap();
    let without_configmap =
        original.replace("- provider: resource\n  path: /shop/configmap.yml\n", "");
    assert_ne!(without_configmap, original);
    std::fs::write(&ns_file, &without_configmap).unwrap();
    let template = tmp
        .path()
        .join("examples/app-interface/resources/shop/settings.yml.j2");
    let good_template = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        good_template.replace("{{ replicas }}", "{{ replicas }"),
    )
    .unwrap();
    let out = run(&["openshift-resources"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("settings.yml.j2"), "{}", text(&out));
    assert!(
        cm("shop-production", "shop-settings").is_some(),
        "no delete while an error is registered"
    );

    // Template fixed: the resource no longer declared is deleted.
    std::fs::write(&template, good_template).unwrap();
    let out = run(&["openshift-resources"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        cm("shop-production", "shop-settings").is_none(),
        "owned and no longer declared"
    );
    assert!(cm("shop-production", "shop-environment").is_some());
}

/// `explain` gives the sha256sum the Python tool computed, for every compatibility vector.
#[test]
fn explain_matches_the_python_sha256sum_of_every_vector() {
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            qontract_test_support::shared_dir().join("compat/sha256-vectors.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for v in vectors.as_array().unwrap() {
        let manifest = tmp.path().join("manifest.json");
        std::fs::write(&manifest, v["body"].to_string()).unwrap();
        let out = Command::new(bin())
            .args(["explain", "--output", "json", "--integration"])
            .arg(v["integration"].as_str().unwrap())
            .arg("--integration-version")
            .arg(v["integration_version"].as_str().unwrap())
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", v["name"], text(&out));
        let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            explained["sha256sum"], v["sha256sum"],
            "vector {}",
            v["name"]
        );
        checked += 1;
    }
    assert_eq!(checked, 40);
}

#[test]
fn explain_says_why_the_plan_would_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = workspace().join("examples/app-interface/resources/shop/configmap.yml");
    let cluster = tmp.path().join("cluster.json");
    let current = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "shop-settings", "namespace": "shop-stage", "annotations": {
            "qontract.integration": "openshift_resources",
            "qontract.integration_version": "1.9.3",
            "qontract.sha256sum": "0000000000000000000000000000000000000000000000000000000000000000"}},
        "data": {"currency": "USD", "checkout": "enabled"}
    });
    std::fs::write(&cluster, current.to_string()).unwrap();
    let out = Command::new(bin())
        .arg("explain")
        .arg(&manifest)
        .arg("--cluster-object")
        .arg(&cluster)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let sha_line = stdout.lines().next().unwrap();
    assert!(
        sha_line.starts_with("qontract.sha256sum: ") && sha_line.len() == 20 + 64,
        "{stdout}"
    );
    assert!(
        stdout.lines().nth(1).unwrap().starts_with("plan: update"),
        "{stdout}"
    );
    insta::assert_snapshot!("explain_update", stdout);

    let out = Command::new(bin())
        .args(["explain", "/no/such/manifest.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("/no/such/manifest.yml"),
        "{}",
        text(&out)
    );
}

/// Manifests are read with PyYAML's YAML 1.1 rules, as the tool reads resources: `yes` is
/// true and `0755` is 493, so the hash is the one the tool sets.
#[test]
fn explain_reads_yaml_like_the_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("m.yml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: yes\n  b: 0755\n  c: '0755'\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["explain", "--output", "json"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["canonical"]["data"],
        serde_json::json!({"a": true, "b": 493, "c": "0755"})
    );
}

/// `SHARDS`/`SHARD_ID` split the namespaces by `"<cluster>/<namespace>"`: the shards are
/// disjoint and together cover everything; a bad value is an error, never a silent full run.
#[tokio::test(flavor = "multi_thread")]
async fn shards_split_the_namespaces() {
    let Demo {
        sandbox: _sandbox,
        tmp: _tmp,
        config,
    } = Demo::start(Vec::new()).await;
    let planned = |shards: &str, shard_id: &str| -> Result<Vec<String>, String> {
        let out = Command::new(bin())
            .env("SHARDS", shards)
            .env("SHARD_ID", shard_id)
            .arg("--config")
            .arg(&config)
            .args(["--dry-run", "--output", "json", "openshift-namespaces"])
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(text(&out));
        }
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        Ok(plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["namespace"].as_str().unwrap().to_owned())
            .collect())
    };
    let mut all = planned("1", "0").unwrap();
    all.sort();
    assert!(all.len() >= 3, "{all:?}");
    let mut first = planned("2", "0").unwrap();
    let second = planned("2", "1").unwrap();
    assert!(
        first.iter().all(|n| !second.contains(n)),
        "{first:?} / {second:?}"
    );
    first.extend(second);
    first.sort();
    assert_eq!(first, all);
    let err = planned("2", "2").unwrap_err();
    assert!(err.contains("SHARD_ID"), "{err}");
}

/// `--early-exit-compare-sha` against our qontract-server holding two bundles: an unrelated
/// change exits early without touching any cluster; a change of the integration's desired
/// state runs in full.
#[tokio::test(flavor = "multi_thread")]
async fn early_exit_skips_the_run_only_when_the_desired_state_is_unchanged() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .start()
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
    copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
    replace_in_tree(
        &tmp.path().join("examples"),
        "http://127.0.0.1:16443",
        &sandbox.url(),
    );
    let app_interface = tmp.path().join("examples/app-interface");
    let bundle_file = tmp.path().join("bundle.json");
    let bundle = |commit: &str| -> String {
        let value = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
            schemas_dir: Default::default(),
            graphql_schema_file: tmp.path().join("schemas/graphql-schema.yml"),
            data_dir: app_interface.join("data"),
            resources_dir: app_interface.join("resources"),
            git_commit: commit.repeat(40),
            git_commit_timestamp: "1798000000".to_owned(),
        })
        .unwrap();
        let text = qontract_bundler::bundle_to_json(&value);
        std::fs::write(&bundle_file, &text).unwrap();
        qontract_bundler::sha256_hex(text.as_bytes())
    };
    let base_sha = bundle("a");

    let (addr, state) = start_bundle_server(&bundle_file);
    let config = tmp.path().join("server-config.toml");
    let demo = std::fs::read_to_string(tmp.path().join("examples/config.toml")).unwrap();
    let secrets = &demo[demo.find("\n[sandbox.creds]").unwrap()..];
    std::fs::write(
        &config,
        format!("[graphql]\nserver = \"http://{addr}/graphql\"\n\n{secrets}"),
    )
    .unwrap();
    let check = |compare: &str| {
        Command::new(bin())
            .arg("--config")
            .arg(&config)
            .args([
                "--dry-run",
                "--early-exit-compare-sha",
                compare,
                "openshift-namespaces",
            ])
            .output()
            .unwrap()
    };

    // An unrelated change (an app's description): early exit, no cluster contacted.
    let app = app_interface.join("data/services/shop/app.yml");
    let text_app = std::fs::read_to_string(&app).unwrap();
    std::fs::write(
        &app,
        text_app.replace("the example web shop", "the example web shop, v2"),
    )
    .unwrap();
    let unrelated_sha = bundle("b");
    assert_ne!(unrelated_sha, base_sha);
    state.reload().unwrap();
    let out = check(&base_sha);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Exit PR check early"), "{}", text(&out));
    assert!(
        sandbox.requests().is_empty(),
        "early exit must not contact clusters"
    );

    // A new namespace: the desired state changed, full dry run.
    let ns = app_interface.join("data/services/shop/namespaces/shop-qa.yml");
    let stage =
        std::fs::read_to_string(app_interface.join("data/services/shop/namespaces/shop-stage.yml"))
            .unwrap();
    std::fs::write(&ns, stage.replace("name: shop-stage", "name: shop-qa")).unwrap();
    bundle("c");
    state.reload().unwrap();
    let out = check(&base_sha);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("Exit PR check early"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shop-qa"),
        "{}",
        text(&out)
    );
    assert!(
        !sandbox.requests().is_empty(),
        "the full run reads the cluster"
    );

    // A bundle the server does not have: full run, not an error.
    let out = check("deadbeef");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Plan:"),
        "{}",
        text(&out)
    );
}

/// openshift-vault-secrets: the Secret is built from the secret store, its value never
/// appears in any output (debug logs and JSON plans included), and openshift-resources, which
/// manages Secrets in the same namespace, leaves it alone.
#[tokio::test(flavor = "multi_thread")]
async fn vault_secrets_are_applied_without_ever_printing_their_values() {
    use base64::Engine as _;
    let Demo {
        sandbox,
        tmp: _tmp,
        config,
    } = Demo::start(Vec::new()).await;
    let run = |args: &[&str]| run_with(&config, args);
    let secret_value = "not-a-real-password";
    let encoded = base64::engine::general_purpose::STANDARD.encode(secret_value);
    let assert_no_secret = |out: &Output| {
        let all = text(out);
        assert!(
            !all.contains(secret_value) && !all.contains(&encoded),
            "secret leaked:\n{all}"
        );
    };
    assert_eq!(run(&["openshift-namespaces"]).status.code(), Some(0));

    for args in [
        &[
            "--dry-run",
            "--log-level",
            "DEBUG",
            "openshift-vault-secrets",
        ][..],
        &["--dry-run", "--output", "json", "openshift-vault-secrets"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_no_secret(&out);
    }
    let out = run(&["--log-level", "DEBUG", "openshift-vault-secrets"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&out);
    let secret = sandbox
        .get_object("v1", "Secret", Some("shop-production"), "shop-db")
        .expect("applied");
    assert_eq!(secret["data"]["password"], encoded.as_str());
    assert_eq!(
        secret["data"]["username"],
        base64::engine::general_purpose::STANDARD.encode("shop")
    );
    assert_eq!(
        secret["metadata"]["annotations"]["qontract.integration"],
        "openshift-vault-secrets"
    );

    let out = run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-vault-secrets",
    ]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
    let out = run(&["--log-level", "DEBUG", "openshift-resources"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&out);
    assert!(
        sandbox
            .get_object("v1", "Secret", Some("shop-production"), "shop-db")
            .is_some(),
        "another integration's Secret is not deleted"
    );
}

/// openshift-prometheus-rules applies the prometheus-rule resource (its `$schema` line is
/// not part of the object) as a PrometheusRule and converges.
#[tokio::test(flavor = "multi_thread")]
async fn prometheus_rules_are_applied_and_converge() {
    let Demo {
        sandbox,
        tmp: _tmp,
        config,
    } = Demo::start(Vec::new()).await;
    let run = |args: &[&str]| run_with(&config, args);
    assert_eq!(run(&["openshift-namespaces"]).status.code(), Some(0));
    let out = run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-prometheus-rules",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shop-alerts"),
        "{}",
        text(&out)
    );
    let out = run(&["openshift-prometheus-rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rule = sandbox
        .get_object(
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            Some("shop-production"),
            "shop-alerts",
        )
        .expect("applied");
    assert!(rule.get("$schema").is_none());
    assert_eq!(
        rule["spec"]["groups"][0]["rules"][0]["alert"],
        "ShopCheckoutErrors"
    );
    assert_eq!(
        rule["metadata"]["annotations"]["qontract.integration"],
        "openshift-prometheus-rules"
    );
    let out = run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-prometheus-rules",
    ]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}

/// Our qontract-server on a free port, serving `file` (reloaded with `state.reload()`).
fn start_bundle_server(
    file: &Path,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<qontract_server::AppState>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let file = file.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let state = qontract_server::AppState::new(qontract_server::ServerConfig {
                datafiles_file: file,
                bundle_ttl: std::time::Duration::from_secs(600),
            });
            state.reload().unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send((listener.local_addr().unwrap(), state.clone()))
                .unwrap();
            let _ = axum::serve(listener, qontract_server::router(state)).await;
        });
    });
    rx.recv().unwrap()
}

/// `--check-only-affected-shards`: a change on one cluster dry-runs only that cluster; the
/// other cluster is never contacted.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_affected_cluster_is_dry_run() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .start()
        .await
        .unwrap();
    let other = KubeTestServer::builder()
        .https(false)
        .token("other-token")
        .start()
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
    copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
    let app_interface = tmp.path().join("examples/app-interface");
    replace_in_tree(
        &tmp.path().join("examples"),
        "http://127.0.0.1:16443",
        &sandbox.url(),
    );
    // A second cluster with one namespace.
    let cluster =
        std::fs::read_to_string(app_interface.join("data/openshift/sandbox/cluster.yml")).unwrap();
    std::fs::create_dir_all(app_interface.join("data/openshift/other")).unwrap();
    std::fs::write(
        app_interface.join("data/openshift/other/cluster.yml"),
        cluster
            .replace("name: sandbox", "name: other")
            .replace(&sandbox.url(), &other.url())
            .replace("path: sandbox/creds", "path: other/creds"),
    )
    .unwrap();
    let ns_dir = app_interface.join("data/services/shop/namespaces");
    let stage = std::fs::read_to_string(ns_dir.join("shop-stage.yml")).unwrap();
    std::fs::write(
        ns_dir.join("shop-eu.yml"),
        stage.replace("name: shop-stage", "name: shop-eu").replace(
            "/openshift/sandbox/cluster.yml",
            "/openshift/other/cluster.yml",
        ),
    )
    .unwrap();
    let bundle_file = tmp.path().join("bundle.json");
    let bundle = |commit: &str| -> String {
        let value = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
            schemas_dir: Default::default(),
            graphql_schema_file: tmp.path().join("schemas/graphql-schema.yml"),
            data_dir: app_interface.join("data"),
            resources_dir: app_interface.join("resources"),
            git_commit: commit.repeat(40),
            git_commit_timestamp: "1798000000".to_owned(),
        })
        .unwrap();
        let text = qontract_bundler::bundle_to_json(&value);
        std::fs::write(&bundle_file, &text).unwrap();
        qontract_bundler::sha256_hex(text.as_bytes())
    };
    let base_sha = bundle("a");
    let (addr, state) = start_bundle_server(&bundle_file);
    let config = tmp.path().join("server-config.toml");
    std::fs::write(
        &config,
        format!(
            "[graphql]\nserver = \"http://{addr}/graphql\"\n\n[sandbox.creds]\ntoken = \"sandbox-token\"\n\n\
             [other.creds]\ntoken = \"other-token\"\n"
        ),
    )
    .unwrap();
    // A namespace added on the sandbox cluster only.
    std::fs::write(
        ns_dir.join("shop-qa.yml"),
        stage.replace("name: shop-stage", "name: shop-qa"),
    )
    .unwrap();
    bundle("b");
    state.reload().unwrap();
    let out = Command::new(bin())
        .arg("--config")
        .arg(&config)
        .args([
            "--dry-run",
            "--early-exit-compare-sha",
            &base_sha,
            "--check-only-affected-shards",
        ])
        .arg("openshift-namespaces")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("affected shards: sandbox"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shop-qa"),
        "{}",
        text(&out)
    );
    assert!(!sandbox.requests().is_empty());
    assert!(
        other.requests().is_empty(),
        "the unaffected cluster was contacted"
    );

    // Without the flag, the whole integration is dry-run: both clusters are read.
    let out = Command::new(bin())
        .arg("--config")
        .arg(&config)
        .args([
            "--dry-run",
            "--early-exit-compare-sha",
            &base_sha,
            "openshift-namespaces",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !other.requests().is_empty(),
        "a full run reads every cluster"
    );
}

/// The example app-interface copied next to the sandbox, and a runner of the binary on it.
struct Example {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Example {
    fn new(sandbox: &KubeTestServer) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
        copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
        replace_in_tree(
            &tmp.path().join("examples"),
            "http://127.0.0.1:16443",
            &sandbox.url(),
        );
        Example {
            data: tmp.path().join("examples/app-interface/data"),
            config: tmp.path().join("examples/config.toml"),
            _tmp: tmp,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.data.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }
}

/// openshift-network-policies: shop-production admits traffic from shop-stage; the dry-run
/// writes nothing, the run creates the policy, the next run converges, and a source namespace
/// on another cluster is an error that deletes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn network_policies_are_applied_and_a_source_on_another_cluster_deletes_nothing() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    assert_eq!(
        example.run(&["openshift-namespaces"]).status.code(),
        Some(0)
    );
    sandbox.clear_requests();

    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-network-policies",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("create  sandbox  shop-production  NetworkPolicy.networking.k8s.io  allow-from-shop-stage-namespace"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to create, 0 to update, 0 to delete"),
        "{plan}"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "dry-run wrote");

    let out = example.run(&["openshift-network-policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let policy = sandbox
        .get_object(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            Some("shop-production"),
            "allow-from-shop-stage-namespace",
        )
        .expect("applied");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "shop-stage"
    );
    assert_eq!(
        policy["spec"]["policyTypes"],
        serde_json::json!(["Ingress"])
    );
    assert_eq!(policy["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(
        policy["metadata"]["annotations"]["qontract.integration"],
        "openshift-network-policies"
    );
    assert_eq!(
        policy["metadata"]["annotations"]["qontract.integration_version"],
        "0.1.0"
    );

    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-network-policies",
    ]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // shop-production now admits a namespace on another cluster instead of shop-stage.
    let cluster = std::fs::read_to_string(example.data.join("openshift/sandbox/cluster.yml"))
        .unwrap()
        .replace("name: sandbox", "name: other");
    std::fs::create_dir_all(example.data.join("openshift/other")).unwrap();
    std::fs::write(example.data.join("openshift/other/cluster.yml"), cluster).unwrap();
    let stage =
        std::fs::read_to_string(example.data.join("services/shop/namespaces/shop-stage.yml"))
            .unwrap();
    std::fs::write(
        example.data.join("services/shop/namespaces/shop-eu.yml"),
        stage.replace("name: shop-stage", "name: shop-eu").replace(
            "/openshift/sandbox/cluster.yml",
            "/openshift/other/cluster.yml",
        ),
    )
    .unwrap();
    example.edit(
        "services/shop/namespaces/shop-production.yml",
        "networkPoliciesAllow:\n- $ref: /services/shop/namespaces/shop-stage.yml",
        "networkPoliciesAllow:\n- $ref: /services/shop/namespaces/shop-eu.yml",
    );
    sandbox.clear_requests();
    for args in [
        &["--dry-run", "openshift-network-policies"][..],
        &["openshift-network-policies"][..],
    ] {
        let out = example.run(args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let all = text(&out);
        assert!(
            all.contains("sandbox/shop-production") && all.contains("other/shop-eu"),
            "the error names both namespaces:\n{all}"
        );
    }
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "nothing is changed");
    assert!(
        sandbox
            .get_object(
                "networking.k8s.io/v1",
                "NetworkPolicy",
                Some("shop-production"),
                "allow-from-shop-stage-namespace",
            )
            .is_some(),
        "nothing is deleted"
    );
}

/// openshift-rolebindings: the example roles grant ada and linus access to the shop
/// namespaces (the sandbox authenticates with GitHub, so the subjects are their GitHub
/// usernames); the dry-run writes nothing, the run creates the RoleBindings, the next run
/// converges, and removing an access entry deletes only that role's RoleBinding, never one
/// created by hand.
#[tokio::test(flavor = "multi_thread")]
async fn rolebindings_are_applied_converge_and_removed_access_is_deleted() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .seed(serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "made-by-hand", "namespace": "shop-production"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "someone"}],
        }))
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    assert_eq!(
        example.run(&["openshift-namespaces"]).status.code(),
        Some(0)
    );
    sandbox.clear_requests();

    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-rolebindings"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    for (namespace, name) in [
        ("shop-production", "admin-linus-example"),
        ("shop-production", "view-ada-example"),
        ("shop-production", "view-linus-example"),
        ("shop-stage", "edit-ada-example"),
        ("shop-stage", "edit-linus-example"),
    ] {
        assert!(
            plan.contains(&format!(
                "create  sandbox  {namespace:<15}  RoleBinding.rbac.authorization.k8s.io  {name}"
            )),
            "{namespace}/{name}:\n{plan}"
        );
    }
    assert!(
        plan.contains("Plan: 5 to create, 0 to update, 0 to delete"),
        "{plan}"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "dry-run wrote");

    let out = example.run(&["openshift-rolebindings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let binding = sandbox
        .get_object(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some("shop-production"),
            "admin-linus-example",
        )
        .expect("applied");
    assert_eq!(
        binding["roleRef"],
        serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"})
    );
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "linus-example"}])
    );
    assert_eq!(
        binding["metadata"]["annotations"]["qontract.integration"],
        "openshift-rolebindings"
    );

    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-rolebindings"]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // shop-sre no longer grants admin on shop-production.
    example.edit(
        "teams/shop/roles/shop-sre.yml",
        "access:\n- namespace:\n    $ref: /services/shop/namespaces/shop-production.yml\n  role: admin\n",
        "",
    );
    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-rolebindings"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("delete  sandbox  shop-production  RoleBinding.rbac.authorization.k8s.io  admin-linus-example"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to create, 0 to update, 1 to delete"),
        "{plan}"
    );
    let out = example.run(&["openshift-rolebindings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let exists = |name: &str| {
        sandbox
            .get_object(
                "rbac.authorization.k8s.io/v1",
                "RoleBinding",
                Some("shop-production"),
                name,
            )
            .is_some()
    };
    assert!(
        !exists("admin-linus-example"),
        "the removed access is deleted"
    );
    assert!(
        exists("view-linus-example"),
        "linus keeps shop-developer's access"
    );
    assert!(
        exists("made-by-hand"),
        "an unmanaged RoleBinding is left alone"
    );
    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-rolebindings"]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}

/// openshift-rolebindings through qontract-server with `--early-exit-compare-sha`: a change
/// that grants nothing exits early without contacting the cluster; a user getting a role is a
/// change of the desired state (the synthetic `Role_v1.users`), dry-run in full.
#[tokio::test(flavor = "multi_thread")]
async fn rolebindings_early_exit_follows_the_users_roles() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    let app_interface = example.data.parent().unwrap().to_owned();
    let bundle_file = app_interface.join("../bundle.json");
    let bundle = |commit: &str| -> String {
        let value = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
            schemas_dir: Default::default(),
            graphql_schema_file: app_interface.join("../../schemas/graphql-schema.yml"),
            data_dir: app_interface.join("data"),
            resources_dir: app_interface.join("resources"),
            git_commit: commit.repeat(40),
            git_commit_timestamp: "1798000000".to_owned(),
        })
        .unwrap();
        let text = qontract_bundler::bundle_to_json(&value);
        std::fs::write(&bundle_file, &text).unwrap();
        qontract_bundler::sha256_hex(text.as_bytes())
    };
    let base_sha = bundle("a");
    let (addr, state) = start_bundle_server(&bundle_file);
    let config = app_interface.join("../server-config.toml");
    let demo = std::fs::read_to_string(&example.config).unwrap();
    let secrets = &demo[demo.find("\n[sandbox.creds]").unwrap()..];
    std::fs::write(
        &config,
        format!("[graphql]\nserver = \"http://{addr}/graphql\"\n\n{secrets}"),
    )
    .unwrap();
    let check = || {
        Command::new(bin())
            .arg("--config")
            .arg(&config)
            .args([
                "--dry-run",
                "--early-exit-compare-sha",
                &base_sha,
                "openshift-rolebindings",
            ])
            .output()
            .unwrap()
    };

    // A role description changes: no RoleBinding changes, early exit.
    example.edit(
        "teams/shop/roles/shop-sre.yml",
        "SREs of the shop",
        "Site reliability engineers of the shop",
    );
    bundle("b");
    state.reload().unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Exit PR check early"), "{}", text(&out));
    assert!(
        sandbox.requests().is_empty(),
        "early exit must not contact clusters"
    );

    // ada becomes an SRE: a new RoleBinding, full dry run.
    example.edit(
        "teams/shop/users/ada.yml",
        "- $ref: /teams/shop/roles/shop-developer.yml\n",
        "- $ref: /teams/shop/roles/shop-developer.yml\n- $ref: /teams/shop/roles/shop-sre.yml\n",
    );
    bundle("c");
    state.reload().unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("Exit PR check early"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("admin-ada-example"),
        "{}",
        text(&out)
    );
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "dry-run wrote"
    );
}

/// `--internal` / `--external` (as app-interface's pr_check commands pass them): the sandbox
/// cluster is not internal, so `--internal` leaves it out entirely and `--external` keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn internal_and_external_select_clusters() {
    let Demo {
        sandbox,
        tmp: _tmp,
        config,
    } = Demo::start(Vec::new()).await;
    let run = |args: &[&str]| run_with(&config, args);
    for integration in [
        "openshift-namespaces",
        "openshift-resources",
        "openshift-vault-secrets",
        "openshift-prometheus-rules",
        "openshift-network-policies",
        "openshift-rolebindings",
    ] {
        sandbox.clear_requests();
        let out = run(&[
            "--dry-run",
            "--detailed-exitcode",
            integration,
            "--internal",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{integration} --internal:\n{}",
            text(&out)
        );
        assert!(
            sandbox.requests().is_empty(),
            "{integration} --internal contacted the external cluster"
        );
        let out = run(&[
            "--dry-run",
            "--detailed-exitcode",
            integration,
            "--external",
        ]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{integration} --external:\n{}",
            text(&out)
        );
    }
}

/// A LimitRange seeded in the sandbox before the run (no qontract annotations).
fn hand_made_limit_range(namespace: &str, name: &str, owned: bool) -> serde_json::Value {
    let mut metadata = serde_json::json!({"name": name, "namespace": namespace});
    if owned {
        metadata["ownerReferences"] = serde_json::json!([{
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "owner",
            "uid": "0d1c1a3e-0000-4000-8000-000000000001",
        }]);
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata,
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "8"}}]},
    })
}

/// openshift-limitranges: shop-production references shop-limits. The dry-run writes nothing,
/// the run creates it and (take_over, the upstream default) deletes the unowned hand-made
/// LimitRange of that namespace but never one with ownerReferences or one in an unmanaged
/// namespace; the next run converges; renaming the datafile's LimitRange replaces it; with
/// `--no-take-over` a hand-made LimitRange is left alone.
#[tokio::test(flavor = "multi_thread")]
async fn limitranges_are_applied_converge_and_take_over_spares_owned_objects() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .seed(hand_made_limit_range(
            "shop-production",
            "made-by-hand",
            false,
        ))
        .seed(hand_made_limit_range(
            "shop-production",
            "owned-by-other",
            true,
        ))
        .seed(hand_made_limit_range("shop-stage", "stage-limits", false))
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    assert_eq!(
        example.run(&["openshift-namespaces"]).status.code(),
        Some(0)
    );
    sandbox.clear_requests();

    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-limitranges"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("create  sandbox  shop-production  LimitRange  shop-limits"),
        "{plan}"
    );
    assert!(
        plan.contains("delete  sandbox  shop-production  LimitRange  made-by-hand"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to create, 0 to update, 1 to delete"),
        "{plan}"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "dry-run wrote");

    let out = example.run(&["openshift-limitranges"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let applied = sandbox
        .get_object("v1", "LimitRange", Some("shop-production"), "shop-limits")
        .expect("applied");
    assert_eq!(
        applied["spec"]["limits"][0],
        serde_json::json!({
            "type": "Container",
            "default": {"cpu": "500m", "memory": "512Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            "max": {"cpu": "2", "memory": "2Gi"},
        })
    );
    assert_eq!(
        applied["metadata"]["annotations"]["qontract.integration"],
        "openshift-limitranges"
    );
    let exists = |namespace: &str, name: &str| {
        sandbox
            .get_object("v1", "LimitRange", Some(namespace), name)
            .is_some()
    };
    assert!(!exists("shop-production", "made-by-hand"), "taken over");
    assert!(exists("shop-production", "owned-by-other"), "owned: kept");
    assert!(
        exists("shop-stage", "stage-limits"),
        "unmanaged namespace: kept"
    );

    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-limitranges"]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // The datafile now declares another name: ours is replaced, the others stay.
    example.edit(
        "services/shop/limits/shop-limits.yml",
        "name: shop-limits",
        "name: shop-limits-v2",
    );
    let out = example.run(&["openshift-limitranges"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(exists("shop-production", "shop-limits-v2"));
    assert!(!exists("shop-production", "shop-limits"), "ours: deleted");
    assert!(exists("shop-production", "owned-by-other"));
    assert!(exists("shop-stage", "stage-limits"));

    // --no-take-over leaves a hand-made LimitRange alone and converges.
    sandbox
        .seed(hand_made_limit_range(
            "shop-production",
            "made-by-hand-again",
            false,
        ))
        .unwrap();
    sandbox.clear_requests();
    let out = example.run(&[
        "--detailed-exitcode",
        "openshift-limitranges",
        "--no-take-over",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "nothing to do");
    assert!(exists("shop-production", "made-by-hand-again"));
}

/// openshift-resourcequotas: shop-production references shop-quota (two entries). The
/// dry-run writes nothing, the run creates both (`spec.hard` flattened, `scopes` only where
/// declared), the next run converges; a hand-made ResourceQuota is never adopted or deleted
/// (take_over is off, as upstream), and removing an entry deletes only that ResourceQuota.
#[tokio::test(flavor = "multi_thread")]
async fn resourcequotas_are_applied_converge_and_removed_entries_are_deleted() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .seed(serde_json::json!({
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "made-by-hand", "namespace": "shop-production"},
            "spec": {"hard": {"pods": "100"}},
        }))
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    assert_eq!(
        example.run(&["openshift-namespaces"]).status.code(),
        Some(0)
    );
    sandbox.clear_requests();

    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-resourcequotas",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in ["shop-compute", "shop-best-effort"] {
        assert!(
            plan.contains(&format!(
                "create  sandbox  shop-production  ResourceQuota  {name}"
            )),
            "{plan}"
        );
    }
    assert!(
        plan.contains("Plan: 2 to create, 0 to update, 0 to delete"),
        "{plan}"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "dry-run wrote");

    let out = example.run(&["openshift-resourcequotas"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let quota =
        |name: &str| sandbox.get_object("v1", "ResourceQuota", Some("shop-production"), name);
    let compute = quota("shop-compute").expect("applied");
    assert_eq!(
        compute["spec"]["hard"],
        serde_json::json!({
            "limits.cpu": "4",
            "limits.memory": "8Gi",
            "requests.cpu": "2",
            "requests.memory": "4Gi",
            "pods": "20",
        })
    );
    assert!(compute["spec"].get("scopes").is_none(), "{compute}");
    assert_eq!(
        compute["metadata"]["annotations"]["qontract.integration"],
        "openshift-resourcequotas"
    );
    let best_effort = quota("shop-best-effort").expect("applied");
    assert_eq!(
        best_effort["spec"]["scopes"],
        serde_json::json!(["BestEffort"])
    );
    assert!(quota("made-by-hand").is_some(), "not ours: kept");

    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-resourcequotas",
    ]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // The best-effort entry is removed: only its ResourceQuota is deleted.
    example.edit(
        "services/shop/quotas/shop-quota.yml",
        "- name: shop-best-effort\n  resources:\n    pods: 5\n  scopes:\n  - BestEffort\n",
        "",
    );
    let out = example.run(&["--dry-run", "openshift-resourcequotas"]);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("Plan: 0 to create, 0 to update, 1 to delete"),
        "{plan}"
    );
    let out = example.run(&["openshift-resourcequotas"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(quota("shop-best-effort").is_none(), "ours: deleted");
    assert!(quota("shop-compute").is_some());
    assert!(quota("made-by-hand").is_some(), "not ours: kept");
    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "openshift-resourcequotas",
    ]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}

/// openshift-routes: shop-production declares the `shop` route with TLS fields from the
/// secret store. The dry-run writes nothing and, like every run, never prints a TLS value;
/// the run creates the Route with the secret's TLS fields; the next run converges; renaming
/// the Route deletes only ours, never a hand-made Route.
#[tokio::test(flavor = "multi_thread")]
async fn routes_are_applied_with_tls_from_the_secret_store_without_printing_it() {
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
        .seed(serde_json::json!({
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "made-by-hand", "namespace": "shop-production"},
            "spec": {"to": {"kind": "Service", "name": "legacy"}},
        }))
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    let key = "not-a-real-route-key";
    let config = std::fs::read_to_string(&example.config).unwrap();
    assert!(config.contains("[shop.production.route-tls]\n"));
    std::fs::write(
        &example.config,
        config.replace(
            "[shop.production.route-tls]\n",
            &format!("[shop.production.route-tls]\nkey = \"{key}\"\n"),
        ),
    )
    .unwrap();
    let assert_no_key = |out: &Output| {
        let all = text(out);
        assert!(!all.contains(key), "TLS key leaked:\n{all}");
    };
    assert_eq!(
        example.run(&["openshift-namespaces"]).status.code(),
        Some(0)
    );
    sandbox.clear_requests();

    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "--log-level",
        "DEBUG",
        "openshift-routes",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_no_key(&out);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("create  sandbox  shop-production  Route.route.openshift.io  shop"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to create, 0 to update, 0 to delete"),
        "{plan}"
    );
    let out = example.run(&["--dry-run", "--output", "json", "openshift-routes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_key(&out);
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "dry-run wrote");

    let out = example.run(&["--log-level", "DEBUG", "openshift-routes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_key(&out);
    let route = |name: &str| {
        sandbox.get_object(
            "route.openshift.io/v1",
            "Route",
            Some("shop-production"),
            name,
        )
    };
    let applied = route("shop").expect("applied");
    assert_eq!(
        applied["spec"]["tls"],
        serde_json::json!({
            "termination": "edge",
            "insecureEdgeTerminationPolicy": "Redirect",
            "key": key,
        })
    );
    assert_eq!(applied["spec"]["host"], "shop.apps.sandbox.example");
    assert_eq!(
        applied["metadata"]["annotations"]["qontract.integration"],
        "openshift-routes"
    );

    let out = example.run(&["--dry-run", "--detailed-exitcode", "openshift-routes"]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // The resource file now names the Route shop-web: ours is replaced, the hand-made stays.
    let file = example.data.join("../resources/shop/route.yml");
    let content = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        content.replace("  name: shop\n", "  name: shop-web\n"),
    )
    .unwrap();
    let out = example.run(&["openshift-routes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_key(&out);
    assert!(route("shop-web").is_some());
    assert!(route("shop").is_none(), "ours: deleted");
    assert!(route("made-by-hand").is_some(), "not ours: kept");
}

/// The README demo in a temporary directory, its sandbox cluster on a free port (seeded with
/// `seed`), and the config that points at both.
struct Demo {
    sandbox: KubeTestServer,
    tmp: tempfile::TempDir,
    config: PathBuf,
}

impl Demo {
    async fn start(seed: Vec<serde_json::Value>) -> Demo {
        let mut builder = KubeTestServer::builder()
            .https(false)
            .token("sandbox-token");
        for object in seed {
            builder = builder.seed(object);
        }
        let sandbox = builder.start().await.unwrap();
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
        copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
        replace_in_tree(
            &tmp.path().join("examples"),
            "http://127.0.0.1:16443",
            &sandbox.url(),
        );
        let config = tmp.path().join("examples/config.toml");
        Demo {
            sandbox,
            tmp,
            config,
        }
    }
}

/// Run the shipped binary with `--config config` and `args`.
fn run_with(config: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}
