//! `run-integration`, the container entrypoint, through the shipped binary: configured by
//! environment only (upstream `reconcile/run_integration.py`), one run with `RUN_ONCE`.

use std::path::PathBuf;
use std::process::{Command, Output};

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::copy_dir;

use super::{bin, replace_in_tree, text, workspace};

/// The README demo's sandbox (with `shop-legacy` to delete) and a copy of `examples/`
/// pointing at it; returns the config path.
async fn demo() -> (KubeTestServer, tempfile::TempDir, PathBuf) {
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
    (sandbox, tmp, config)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `qontract-reconcile run-integration` with exactly `env` (plus a free `PROMETHEUS_PORT`).
async fn run_integration(env: &[(&str, &str)]) -> Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(bin());
        cmd.arg("run-integration")
            .env_remove("RUST_LOG")
            .env_remove("INTEGRATION_NAME")
            .env_remove("DRY_RUN")
            .env_remove("RUN_ONCE")
            .env("PROMETHEUS_PORT", free_port().to_string());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_once_dry_runs_then_applies_from_the_environment() {
    let (sandbox, _tmp, config) = demo().await;
    let config = config.to_str().unwrap();

    let out = run_integration(&[
        ("INTEGRATION_NAME", "openshift-namespaces"),
        ("CONFIG", config),
        ("DRY_RUN", "--dry-run"),
        ("RUN_ONCE", "1"),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("create  sandbox  shop-stage"), "{plan}");
    assert!(plan.contains("delete  sandbox  shop-legacy"), "{plan}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("[DRY-RUN]"));
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "the dry run wrote"
    );

    let out = run_integration(&[
        ("INTEGRATION_NAME", "openshift-namespaces"),
        ("CONFIG", config),
        ("RUN_ONCE", "1"),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        sandbox
            .get_object("v1", "Namespace", None, "shop-stage")
            .is_some()
    );
    assert!(
        sandbox
            .get_object("v1", "Namespace", None, "shop-legacy")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_integration_rejects_a_missing_or_unknown_integration_and_touches_nothing() {
    let (sandbox, _tmp, config) = demo().await;
    let config = config.to_str().unwrap();

    let out = run_integration(&[("CONFIG", config), ("RUN_ONCE", "1")]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("INTEGRATION_NAME is not set"),
        "{}",
        text(&out)
    );

    let out = run_integration(&[
        ("INTEGRATION_NAME", "openshift-no-such-thing"),
        ("CONFIG", config),
        ("RUN_ONCE", "1"),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("unknown integration \"openshift-no-such-thing\""),
        "{}",
        text(&out)
    );

    let out = run_integration(&[
        ("INTEGRATION_NAME", "openshift-namespaces"),
        ("CONFIG", config),
        ("DRY_RUN", "yes"),
        ("RUN_ONCE", "1"),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("DRY_RUN"), "{}", text(&out));

    assert!(sandbox.requests().is_empty(), "{:?}", sandbox.requests());
}
