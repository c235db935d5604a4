//! `run-integration`, the container entrypoint, through the shipped binary: configured by
//! environment only (upstream `reconcile/run_integration.py`), one run with `RUN_ONCE`.

use std::process::{Command, Output};

use super::support::{
    assert_demo_namespaces_applied, assert_demo_namespaces_planned, assert_exit, bin, demo,
    shop_legacy, text,
};

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
    let (sandbox, example) = demo([shop_legacy()]).await;
    let config = example.config.to_str().unwrap();

    let out = run_integration(&[
        ("INTEGRATION_NAME", "openshift-namespaces"),
        ("CONFIG", config),
        ("DRY_RUN", "--dry-run"),
        ("RUN_ONCE", "1"),
    ])
    .await;
    assert_exit(&out, 0, "the dry run");
    assert_demo_namespaces_planned(&out, &sandbox);

    let out = run_integration(&[
        ("INTEGRATION_NAME", "openshift-namespaces"),
        ("CONFIG", config),
        ("RUN_ONCE", "1"),
    ])
    .await;
    assert_exit(&out, 0, "the run");
    assert_demo_namespaces_applied(&sandbox);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_integration_rejects_a_missing_or_unknown_integration_and_touches_nothing() {
    let (sandbox, example) = demo([shop_legacy()]).await;
    let config = example.config.to_str().unwrap();

    for (env, expected) in [
        (
            &[("CONFIG", config), ("RUN_ONCE", "1")][..],
            "INTEGRATION_NAME is not set",
        ),
        (
            &[
                ("INTEGRATION_NAME", "openshift-no-such-thing"),
                ("CONFIG", config),
                ("RUN_ONCE", "1"),
            ][..],
            "unknown integration \"openshift-no-such-thing\"",
        ),
        (
            &[
                ("INTEGRATION_NAME", "openshift-namespaces"),
                ("CONFIG", config),
                ("DRY_RUN", "yes"),
                ("RUN_ONCE", "1"),
            ][..],
            "DRY_RUN",
        ),
    ] {
        let out = run_integration(env).await;
        assert_exit(&out, 1, expected);
        assert!(text(&out).contains(expected), "{}", text(&out));
    }

    assert!(sandbox.requests().is_empty(), "{:?}", sandbox.requests());
}
