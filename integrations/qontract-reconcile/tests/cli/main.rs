//! The shipped binary, as users run it: `--help`, argv[0] dispatch, and the README demo
//! (the example app-interface, bundled in-process, against a loopback sandbox cluster).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::copy_dir;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_qontract-reconcile"))
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
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
    let run = |args: &[&str]| {
        let mut cmd = Command::new(bin());
        cmd.arg("--config").arg(&config).args(args);
        cmd.output().unwrap()
    };

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
