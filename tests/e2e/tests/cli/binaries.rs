//! Each integration's own binary (`openshift-limitranges`, ..., `integrations-manager`): the
//! integration's flags and the common flags on one level, the same runner as
//! `qontract-reconcile <integration>`.

use std::process::{Command, Output};

use qontract_e2e::integration_binaries;

use super::support::{
    Example, assert_contains_all, assert_exit, bin, run_bin, sandbox_with_demo_users, shop_legacy,
    text,
};

#[test]
fn every_integration_binary_has_help_with_the_common_flags() {
    for (_, name) in integration_binaries() {
        let out = Command::new(qontract_e2e::bin(name))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} --help: {}", text(&out));
        let help = text(&out);
        assert_contains_all(
            &help,
            &[
                &format!("Usage: {name} [OPTIONS]"),
                "--config <FILE>",
                "[env: QONTRACT_CONFIG=]",
                "--dry-run",
                "[env: QONTRACT_DRY_RUN=]",
                "--detailed-exitcode",
            ],
            name,
        );
        // The integration's own description (not the doc of its args struct or of the common
        // flags), the same in the multi-call binary's list, its `<name> --help` and here.
        let listed = text(&run_bin(["--help"]))
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
        let multi = run_bin([name, "--help"]);
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
    assert_exit(&out, 1, "openshift-limitranges --no-such-flag");
    assert!(text(&out).contains("--no-such-flag"), "{}", text(&out));
    let out = run_bin(["openshift-limitranges", "--no-such-flag"]);
    assert_exit(
        &out,
        1,
        "qontract-reconcile openshift-limitranges --no-such-flag",
    );
}

/// `text` with the 5 random digits of every requested service-account token Secret
/// (`<service account>-token-NNNNN`, as upstream
/// `openshift_serviceaccount_tokens.service_account_token_request`) replaced by `NNNNN`: two
/// dry runs on a cluster without the token plan two different names.
fn mask_token_requests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("-token-") {
        let (head, tail) = rest.split_at(at + "-token-".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let end = tail[digits..].chars().next();
        if digits == 5 && !end.is_some_and(|c| c.is_alphanumeric() || c == '-') {
            out.push_str("NNNNN");
            rest = &tail[5..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn mask_token_requests_masks_only_five_digit_token_suffixes() {
    assert_eq!(
        mask_token_requests("create  a  shop-deployer-token-03614  x\nshop-deployer-token-48579"),
        "create  a  shop-deployer-token-NNNNN  x\nshop-deployer-token-NNNNN"
    );
    for kept in [
        "a-token-1234",
        "a-token-123456",
        "a-token-12345-b",
        "a-token-abcde",
    ] {
        assert_eq!(mask_token_requests(kept), kept);
    }
}

/// The README demo's dry run of every integration, once through `qontract-reconcile [FLAGS]
/// <integration>` and once through `<integration> [FLAGS]`: the same plan and exit code. The
/// sandbox is the demo's (`kube-testserver --openshift-users`, `shop-legacy` to delete, the
/// Users scripts/demo.sh seeds).
#[tokio::test(flavor = "multi_thread")]
async fn every_integration_binary_plans_like_the_multi_call_binary() {
    let sandbox = sandbox_with_demo_users()
        .seed(shop_legacy())
        .start()
        .await
        .unwrap();
    let example = Example::new(&sandbox);
    let config = example.config.to_str().unwrap();
    let common = ["--config", config, "--dry-run", "--detailed-exitcode"];
    // `binary [common flags] [integration]` on a blocking thread.
    let run = |binary: std::path::PathBuf, integration: Option<&'static str>| {
        let args: Vec<String> = common.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || -> Output {
            Command::new(binary)
                .args(&args)
                .args(integration)
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        })
    };
    for (_, name) in integration_binaries() {
        let multi = run(bin(), Some(name)).await.unwrap();
        let single = run(qontract_e2e::bin(name), None).await.unwrap();
        assert_eq!(
            single.status.code(),
            multi.status.code(),
            "{name}:\n{}\n---\n{}",
            text(&single),
            text(&multi)
        );
        // Every integration of the demo (an integrations/<name>.yml in examples/) plans
        // without error; the others (vault-replication: no Vault in the demo) only match.
        if example
            .data
            .join(format!("integrations/{name}.yml"))
            .exists()
        {
            assert!(
                matches!(multi.status.code(), Some(0 | 2)),
                "{name}: {}",
                text(&multi)
            );
        }
        assert_eq!(
            mask_token_requests(&String::from_utf8_lossy(&single.stdout)),
            mask_token_requests(&String::from_utf8_lossy(&multi.stdout)),
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
