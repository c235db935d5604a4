//! Each integration's own binary (`openshift-limitranges`, ..., `integrations-manager`): the
//! integration's flags and the common flags on one level, the same runner as
//! `qontract-reconcile <integration>`.

use std::process::Command;

use qontract_e2e::integration_binaries;
use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::copy_dir;

use super::{bin, replace_in_tree, text, workspace};

#[test]
fn every_integration_binary_has_help_with_the_common_flags() {
    for (_, name) in integration_binaries() {
        let out = Command::new(qontract_e2e::bin(name))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} --help: {}", text(&out));
        let help = text(&out);
        for needle in [
            format!("Usage: {name} [OPTIONS]"),
            "--config <FILE>".to_owned(),
            "[env: QONTRACT_CONFIG=]".to_owned(),
            "--dry-run".to_owned(),
            "[env: QONTRACT_DRY_RUN=]".to_owned(),
            "--detailed-exitcode".to_owned(),
        ] {
            assert!(help.contains(&needle), "{name}: {needle} missing:\n{help}");
        }
        // The integration's own description (not the doc of its args struct or of the common
        // flags), the same in the multi-call binary's list, its `<name> --help` and here.
        let listed = text(&Command::new(bin()).arg("--help").output().unwrap())
            .lines()
            .find_map(|l| {
                let l = l.trim_start();
                l.strip_prefix(name)
                    .filter(|rest| rest.starts_with(' '))
                    .map(|rest| rest.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("{name} not listed by qontract-reconcile --help"));
        assert!(
            !listed.is_empty()
                && !listed.starts_with("Arguments of")
                && !listed.starts_with("Flags"),
            "{name}: {listed}"
        );
        let multi = Command::new(bin()).args([name, "--help"]).output().unwrap();
        assert_eq!(text(&multi).lines().next(), Some(listed.as_str()), "{name}");
        assert_eq!(help.lines().next(), Some(listed.as_str()), "{name}");
        // Every flag the integration takes under the multi-call binary, it takes here too.
        for line in text(&multi).lines() {
            if let Some(flag) = line.trim_start().strip_prefix("--") {
                let flag = flag.split([' ', '=']).next().unwrap_or_default();
                assert!(
                    help.contains(&format!("--{flag}")),
                    "{name}: --{flag} missing"
                );
            }
        }
    }
}

#[test]
fn an_integration_binary_rejects_an_unknown_flag_as_a_usage_error() {
    let out = Command::new(qontract_e2e::bin("openshift-limitranges"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    // Usage errors exit 1, as under `qontract-reconcile` (ARCHITECTURE.md, exit codes).
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--no-such-flag"), "{}", text(&out));
    let out = Command::new(bin())
        .args(["openshift-limitranges", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// The README demo's dry run of every integration, once through `qontract-reconcile [FLAGS]
/// <integration>` and once through `<integration> [FLAGS]`: the same plan and exit code.
#[tokio::test(flavor = "multi_thread")]
async fn every_integration_binary_plans_like_the_multi_call_binary() {
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
    let config = config.to_str().unwrap();
    let common = ["--config", config, "--dry-run", "--detailed-exitcode"];
    for (_, name) in integration_binaries() {
        let multi = tokio::task::spawn_blocking({
            let args: Vec<String> = common.iter().map(|a| (*a).to_owned()).collect();
            move || {
                Command::new(bin())
                    .args(&args)
                    .arg(name)
                    .env_remove("RUST_LOG")
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        let single = tokio::task::spawn_blocking({
            let args: Vec<String> = common.iter().map(|a| (*a).to_owned()).collect();
            move || {
                Command::new(qontract_e2e::bin(name))
                    .args(&args)
                    .env_remove("RUST_LOG")
                    .output()
                    .unwrap()
            }
        })
        .await
        .unwrap();
        assert_eq!(
            single.status.code(),
            multi.status.code(),
            "{name}:\n{}\n---\n{}",
            text(&single),
            text(&multi)
        );
        assert_eq!(
            String::from_utf8_lossy(&single.stdout),
            String::from_utf8_lossy(&multi.stdout),
            "{name}"
        );
        assert!(
            String::from_utf8_lossy(&single.stderr).contains("[DRY-RUN]"),
            "{name}: {}",
            text(&single)
        );
    }
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "a dry run wrote"
    );
}
