//! The shipped binary, as users run it: `--help`, argv[0] dispatch, and the README demo
//! (the example app-interface, bundled in-process, against a loopback sandbox cluster).

use std::process::{Command, Output};

use qontract_e2e::workspace;

mod binaries;
mod daemon;
mod demo_access;
mod streaming;
mod support;

use support::{
    Example, apply, assert_contains_all, assert_converged, assert_demo_namespaces_applied,
    assert_demo_namespaces_planned, assert_exit, assert_exits_early, assert_plan,
    assert_runs_in_full, bin, create_namespaces, demo, dry_run, early_exit_check, run_bin,
    sandbox as sandbox_builder, shop_legacy, start_bundle_server, stdout, text,
};

#[test]
fn help_lists_flags_with_env_vars_for_the_binary_and_each_integration() {
    let out = run_bin(["--help"]);
    assert!(out.status.success());
    assert_contains_all(
        &text(&out),
        &[
            "openshift-namespaces",
            "run-integration",
            "[env: QONTRACT_CONFIG=]",
            "[env: QONTRACT_DRY_RUN=]",
        ],
        "--help",
    );
    let out = run_bin(["openshift-namespaces", "--help"]);
    assert_contains_all(
        &text(&out),
        &[
            "--cluster-name",
            "[env: CLUSTER_NAME=]",
            "--thread-pool-size",
            "[env: QONTRACT_THREAD_POOL_SIZE=]",
        ],
        "openshift-namespaces --help",
    );
}

#[test]
fn a_link_named_after_an_integration_is_that_integration() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("openshift-namespaces");
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    let out = Command::new(&link).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert_contains_all(
        &text(&out),
        &["Usage: openshift-namespaces", "--namespace-name"],
        "the link's --help",
    );
}

/// The README demo, with the sandbox on a free port instead of 16443.
#[tokio::test(flavor = "multi_thread")]
async fn readme_demo_plans_applies_and_converges() {
    let (sandbox, example) = demo([shop_legacy()]).await;

    let out = dry_run(&example, &sandbox, &["openshift-namespaces"], 2);
    assert_demo_namespaces_planned(&out, &sandbox);

    apply(&example, &["openshift-namespaces"]);
    assert_demo_namespaces_applied(&sandbox);

    let out = example.run(&[
        "--dry-run",
        "--detailed-exitcode",
        "--output",
        "json",
        "openshift-namespaces",
    ]);
    assert_exit(&out, 0, "converged");
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
    let example = Example::at("http://127.0.0.1:16443");
    example.edit(
        "services/shop/namespaces/shop-stage.yml",
        "/openshift/sandbox/cluster.yml",
        "/openshift/nowhere.yml",
    );
    let out = example.run(&["--dry-run", "openshift-namespaces"]);
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
    let (sandbox, example) = demo([]).await;
    let cm = |ns: &str, name: &str| sandbox.get_object("v1", "ConfigMap", Some(ns), name);

    create_namespaces(&example);
    let out = dry_run(&example, &sandbox, &["openshift-resources"], 2);
    assert_plan(&out, &["shop-environment", "not on the cluster"]);

    apply(&example, &["openshift-resources"]);
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
    assert_converged(&example, "openshift-resources");

    // A broken template: error, exit 1, and the delete of the resource dropped below is skipped.
    example.edit(
        "services/shop/namespaces/shop-production.yml",
        "- provider: resource\n  path: /shop/configmap.yml\n",
        "",
    );
    let template = example
        .app_interface()
        .join("resources/shop/settings.yml.j2");
    let good_template = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        good_template.replace("{{ replicas }}", "{{ replicas }"),
    )
    .unwrap();
    let out = example.run(&["openshift-resources"]);
    assert_exit(&out, 1, "broken template");
    assert!(text(&out).contains("settings.yml.j2"), "{}", text(&out));
    assert!(
        cm("shop-production", "shop-settings").is_some(),
        "no delete while an error is registered"
    );

    // Template fixed: the resource no longer declared is deleted.
    std::fs::write(&template, good_template).unwrap();
    apply(&example, &["openshift-resources"]);
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
    let out = run_bin([
        "explain".as_ref(),
        manifest.as_os_str(),
        "--cluster-object".as_ref(),
        cluster.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = stdout(&out);
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

    let out = run_bin(["explain", "/no/such/manifest.yml"]);
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
    let out = run_bin([
        "explain".as_ref(),
        "--output".as_ref(),
        "json".as_ref(),
        manifest.as_os_str(),
    ]);
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
    let (_sandbox, example) = demo([]).await;
    let planned = |shards: &str, shard_id: &str| -> Result<Vec<String>, String> {
        let out = Command::new(bin())
            .env("SHARDS", shards)
            .env("SHARD_ID", shard_id)
            .arg("--config")
            .arg(&example.config)
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
    let (sandbox, example) = demo([]).await;
    let base_sha = example.bundle("a");
    let (addr, state) = start_bundle_server(&example.bundle_file());
    let config = example.server_config(addr, None);
    let check = |compare: &str| early_exit_check(&config, compare, &[], "openshift-namespaces");

    // An unrelated change (an app's description): early exit, no cluster contacted.
    example.edit(
        "services/shop/app.yml",
        "the example web shop",
        "the example web shop, v2",
    );
    let unrelated_sha = example.bundle("b");
    assert_ne!(unrelated_sha, base_sha);
    state.reload().unwrap();
    assert_exits_early(&check(&base_sha), &sandbox);

    // A new namespace: the desired state changed, full dry run.
    example.copy_datafile(
        "services/shop/namespaces/shop-stage.yml",
        "services/shop/namespaces/shop-qa.yml",
        &[("name: shop-stage", "name: shop-qa")],
    );
    example.bundle("c");
    state.reload().unwrap();
    assert_runs_in_full(&check(&base_sha), "shop-qa");
    assert!(
        !sandbox.requests().is_empty(),
        "the full run reads the cluster"
    );

    // A bundle the server does not have: full run, not an error.
    assert_runs_in_full(&check("deadbeef"), "Plan:");
}

/// openshift-vault-secrets: the Secret is built from the secret store, its value never
/// appears in any output (debug logs and JSON plans included), and openshift-resources, which
/// manages Secrets in the same namespace, leaves it alone.
#[tokio::test(flavor = "multi_thread")]
async fn vault_secrets_are_applied_without_ever_printing_their_values() {
    use base64::Engine as _;
    let (sandbox, example) = demo([]).await;
    let secret_value = "not-a-real-password";
    let encoded = base64::engine::general_purpose::STANDARD.encode(secret_value);
    let assert_no_secret = |out: &Output| {
        let all = text(out);
        assert!(
            !all.contains(secret_value) && !all.contains(&encoded),
            "secret leaked:\n{all}"
        );
    };
    create_namespaces(&example);

    for args in [
        &[
            "--dry-run",
            "--log-level",
            "DEBUG",
            "openshift-vault-secrets",
        ][..],
        &["--dry-run", "--output", "json", "openshift-vault-secrets"][..],
    ] {
        let out = example.run(args);
        assert_exit(&out, 0, &args.join(" "));
        assert_no_secret(&out);
    }
    assert_no_secret(&apply(
        &example,
        &["--log-level", "DEBUG", "openshift-vault-secrets"],
    ));
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

    assert_converged(&example, "openshift-vault-secrets");
    assert_no_secret(&apply(
        &example,
        &["--log-level", "DEBUG", "openshift-resources"],
    ));
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
    let (sandbox, example) = demo([]).await;
    create_namespaces(&example);
    let out = dry_run(&example, &sandbox, &["openshift-prometheus-rules"], 2);
    assert_plan(&out, &["shop-alerts"]);
    apply(&example, &["openshift-prometheus-rules"]);
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
    assert_converged(&example, "openshift-prometheus-rules");
}

/// A second cluster `other` (a copy of the sandbox's datafile, at `url` when given) and its
/// namespace `shop-eu` (a copy of shop-stage).
fn add_other_cluster(example: &Example, sandbox_url: &str, other_url: Option<&str>) {
    let mut cluster = vec![("name: sandbox", "name: other")];
    if let Some(url) = other_url {
        cluster.push((sandbox_url, url));
        cluster.push(("path: sandbox/creds", "path: other/creds"));
    }
    example.copy_datafile(
        "openshift/sandbox/cluster.yml",
        "openshift/other/cluster.yml",
        &cluster,
    );
    example.copy_datafile(
        "services/shop/namespaces/shop-stage.yml",
        "services/shop/namespaces/shop-eu.yml",
        &[
            ("name: shop-stage", "name: shop-eu"),
            (
                "/openshift/sandbox/cluster.yml",
                "/openshift/other/cluster.yml",
            ),
        ],
    );
}

/// `--check-only-affected-shards`: a change on one cluster dry-runs only that cluster; the
/// other cluster is never contacted.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_affected_cluster_is_dry_run() {
    let (sandbox, example) = demo([]).await;
    let other = sandbox_builder()
        .token("other-token")
        .start()
        .await
        .unwrap();
    add_other_cluster(&example, &sandbox.url(), Some(&other.url()));
    let base_sha = example.bundle("a");
    let (addr, state) = start_bundle_server(&example.bundle_file());
    let config = example.server_config(
        addr,
        Some("[sandbox.creds]\ntoken = \"sandbox-token\"\n\n[other.creds]\ntoken = \"other-token\"\n"),
    );
    // A namespace added on the sandbox cluster only.
    example.copy_datafile(
        "services/shop/namespaces/shop-stage.yml",
        "services/shop/namespaces/shop-qa.yml",
        &[("name: shop-stage", "name: shop-qa")],
    );
    example.bundle("b");
    state.reload().unwrap();
    let out = early_exit_check(
        &config,
        &base_sha,
        &["--check-only-affected-shards"],
        "openshift-namespaces",
    );
    assert_runs_in_full(&out, "shop-qa");
    assert!(
        text(&out).contains("affected shards: sandbox"),
        "{}",
        text(&out)
    );
    assert!(!sandbox.requests().is_empty());
    assert!(
        other.requests().is_empty(),
        "the unaffected cluster was contacted"
    );

    // Without the flag, the whole integration is dry-run: both clusters are read.
    let out = early_exit_check(&config, &base_sha, &[], "openshift-namespaces");
    assert_exit(&out, 0, "full run");
    assert!(
        !other.requests().is_empty(),
        "a full run reads every cluster"
    );
}

/// openshift-network-policies: shop-production admits traffic from shop-stage; the dry-run
/// writes nothing, the run creates the policy, the next run converges, and a source namespace
/// on another cluster is an error that deletes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn network_policies_are_applied_and_a_source_on_another_cluster_deletes_nothing() {
    let (sandbox, example) = demo([]).await;
    create_namespaces(&example);

    let out = dry_run(&example, &sandbox, &["openshift-network-policies"], 2);
    assert_plan(
        &out,
        &[
            "create  sandbox  shop-production  NetworkPolicy.networking.k8s.io  allow-from-shop-stage-namespace",
            "Plan: 1 to create, 0 to update, 0 to delete",
        ],
    );

    apply(&example, &["openshift-network-policies"]);
    let policy = || {
        sandbox.get_object(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            Some("shop-production"),
            "allow-from-shop-stage-namespace",
        )
    };
    let applied = policy().expect("applied");
    assert_eq!(
        applied["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "shop-stage"
    );
    assert_eq!(
        applied["spec"]["policyTypes"],
        serde_json::json!(["Ingress"])
    );
    assert_eq!(applied["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(
        applied["metadata"]["annotations"]["qontract.integration"],
        "openshift-network-policies"
    );
    assert_eq!(
        applied["metadata"]["annotations"]["qontract.integration_version"],
        "0.1.0"
    );
    assert_converged(&example, "openshift-network-policies");

    // shop-production now admits a namespace on another cluster instead of shop-stage.
    add_other_cluster(&example, &sandbox.url(), None);
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
        assert_exit(&out, 1, &args.join(" "));
        let all = text(&out);
        assert!(
            all.contains("sandbox/shop-production") && all.contains("other/shop-eu"),
            "the error names both namespaces:\n{all}"
        );
    }
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "nothing is changed");
    assert!(policy().is_some(), "nothing is deleted");
}

/// openshift-rolebindings: the example roles grant ada and linus access to the shop
/// namespaces (the sandbox authenticates with GitHub, so the subjects are their GitHub
/// usernames); the dry-run writes nothing, the run creates the RoleBindings, the next run
/// converges, and removing an access entry deletes only that role's RoleBinding, never one
/// created by hand.
#[tokio::test(flavor = "multi_thread")]
async fn rolebindings_are_applied_converge_and_removed_access_is_deleted() {
    let (sandbox, example) = demo([serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "made-by-hand", "namespace": "shop-production"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "someone"}],
    })])
    .await;
    create_namespaces(&example);

    let out = dry_run(&example, &sandbox, &["openshift-rolebindings"], 2);
    let planned: Vec<String> = [
        ("shop-production", "admin-linus-example"),
        ("shop-production", "view-ada-example"),
        ("shop-production", "view-linus-example"),
        ("shop-stage", "edit-ada-example"),
        ("shop-stage", "edit-linus-example"),
    ]
    .iter()
    .map(|(namespace, name)| {
        format!("create  sandbox  {namespace:<15}  RoleBinding.rbac.authorization.k8s.io  {name}")
    })
    .collect();
    let mut expected: Vec<&str> = planned.iter().map(String::as_str).collect();
    expected.push("Plan: 5 to create, 0 to update, 0 to delete");
    assert_plan(&out, &expected);

    apply(&example, &["openshift-rolebindings"]);
    let binding = |name: &str| {
        sandbox.get_object(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some("shop-production"),
            name,
        )
    };
    let applied = binding("admin-linus-example").expect("applied");
    assert_eq!(
        applied["roleRef"],
        serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"})
    );
    assert_eq!(
        applied["subjects"],
        serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "linus-example"}])
    );
    assert_eq!(
        applied["metadata"]["annotations"]["qontract.integration"],
        "openshift-rolebindings"
    );
    assert_converged(&example, "openshift-rolebindings");

    // shop-sre no longer grants admin on shop-production.
    example.edit(
        "teams/shop/roles/shop-sre.yml",
        "access:\n- namespace:\n    $ref: /services/shop/namespaces/shop-production.yml\n  role: admin\n",
        "",
    );
    let out = dry_run(&example, &sandbox, &["openshift-rolebindings"], 2);
    assert_plan(
        &out,
        &[
            "delete  sandbox  shop-production  RoleBinding.rbac.authorization.k8s.io  admin-linus-example",
            "Plan: 0 to create, 0 to update, 1 to delete",
        ],
    );
    apply(&example, &["openshift-rolebindings"]);
    assert!(
        binding("admin-linus-example").is_none(),
        "the removed access is deleted"
    );
    assert!(
        binding("view-linus-example").is_some(),
        "linus keeps shop-developer's access"
    );
    assert!(
        binding("made-by-hand").is_some(),
        "an unmanaged RoleBinding is left alone"
    );
    assert_converged(&example, "openshift-rolebindings");
}

/// openshift-rolebindings through qontract-server with `--early-exit-compare-sha`: a change
/// that grants nothing exits early without contacting the cluster; a user getting a role is a
/// change of the desired state (the synthetic `Role_v1.users`), dry-run in full.
#[tokio::test(flavor = "multi_thread")]
async fn rolebindings_early_exit_follows_the_users_roles() {
    let (sandbox, example) = demo([]).await;
    let base_sha = example.bundle("a");
    let (addr, state) = start_bundle_server(&example.bundle_file());
    let config = example.server_config(addr, None);
    let check = || early_exit_check(&config, &base_sha, &[], "openshift-rolebindings");

    // A role description changes: no RoleBinding changes, early exit.
    example.edit(
        "teams/shop/roles/shop-sre.yml",
        "SREs of the shop",
        "Site reliability engineers of the shop",
    );
    example.bundle("b");
    state.reload().unwrap();
    assert_exits_early(&check(), &sandbox);

    // ada becomes an SRE: a new RoleBinding, full dry run.
    example.edit(
        "teams/shop/users/ada.yml",
        "- $ref: /teams/shop/roles/shop-developer.yml\n",
        "- $ref: /teams/shop/roles/shop-developer.yml\n- $ref: /teams/shop/roles/shop-sre.yml\n",
    );
    example.bundle("c");
    state.reload().unwrap();
    assert_runs_in_full(&check(), "admin-ada-example");
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "dry-run wrote"
    );
}

/// `--internal` / `--external` (as app-interface's pr_check commands pass them): the sandbox
/// cluster is not internal, so `--internal` leaves it out entirely and `--external` keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn internal_and_external_select_clusters() {
    let (sandbox, example) = demo([]).await;
    for integration in [
        "openshift-namespaces",
        "openshift-resources",
        "openshift-vault-secrets",
        "openshift-prometheus-rules",
        "openshift-network-policies",
        "openshift-rolebindings",
    ] {
        sandbox.clear_requests();
        dry_run(&example, &sandbox, &[integration, "--internal"], 0);
        assert!(
            sandbox.requests().is_empty(),
            "{integration} --internal contacted the external cluster"
        );
        dry_run(&example, &sandbox, &[integration, "--external"], 2);
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
    let (sandbox, example) = demo([
        hand_made_limit_range("shop-production", "made-by-hand", false),
        hand_made_limit_range("shop-production", "owned-by-other", true),
        hand_made_limit_range("shop-stage", "stage-limits", false),
    ])
    .await;
    create_namespaces(&example);

    let out = dry_run(&example, &sandbox, &["openshift-limitranges"], 2);
    assert_plan(
        &out,
        &[
            "create  sandbox  shop-production  LimitRange  shop-limits",
            "delete  sandbox  shop-production  LimitRange  made-by-hand",
            "Plan: 1 to create, 0 to update, 1 to delete",
        ],
    );

    apply(&example, &["openshift-limitranges"]);
    let limit_range =
        |namespace: &str, name: &str| sandbox.get_object("v1", "LimitRange", Some(namespace), name);
    let exists = |namespace: &str, name: &str| limit_range(namespace, name).is_some();
    let applied = limit_range("shop-production", "shop-limits").expect("applied");
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
    assert!(!exists("shop-production", "made-by-hand"), "taken over");
    assert!(exists("shop-production", "owned-by-other"), "owned: kept");
    assert!(
        exists("shop-stage", "stage-limits"),
        "unmanaged namespace: kept"
    );
    assert_converged(&example, "openshift-limitranges");

    // The datafile now declares another name: ours is replaced, the others stay.
    example.edit(
        "services/shop/limits/shop-limits.yml",
        "name: shop-limits",
        "name: shop-limits-v2",
    );
    apply(&example, &["openshift-limitranges"]);
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
    apply(
        &example,
        &[
            "--detailed-exitcode",
            "openshift-limitranges",
            "--no-take-over",
        ],
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "nothing to do");
    assert!(exists("shop-production", "made-by-hand-again"));
}

/// openshift-resourcequotas: shop-production references shop-quota (two entries). The
/// dry-run writes nothing, the run creates both (`spec.hard` flattened, `scopes` only where
/// declared), the next run converges; a hand-made ResourceQuota is never adopted or deleted
/// (take_over is off, as upstream), and removing an entry deletes only that ResourceQuota.
#[tokio::test(flavor = "multi_thread")]
async fn resourcequotas_are_applied_converge_and_removed_entries_are_deleted() {
    let (sandbox, example) = demo([serde_json::json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "made-by-hand", "namespace": "shop-production"},
        "spec": {"hard": {"pods": "100"}},
    })])
    .await;
    create_namespaces(&example);

    let out = dry_run(&example, &sandbox, &["openshift-resourcequotas"], 2);
    assert_plan(
        &out,
        &[
            "create  sandbox  shop-production  ResourceQuota  shop-compute",
            "create  sandbox  shop-production  ResourceQuota  shop-best-effort",
            "Plan: 2 to create, 0 to update, 0 to delete",
        ],
    );

    apply(&example, &["openshift-resourcequotas"]);
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
    assert_converged(&example, "openshift-resourcequotas");

    // The best-effort entry is removed: only its ResourceQuota is deleted.
    example.edit(
        "services/shop/quotas/shop-quota.yml",
        "- name: shop-best-effort\n  resources:\n    pods: 5\n  scopes:\n  - BestEffort\n",
        "",
    );
    let out = example.run(&["--dry-run", "openshift-resourcequotas"]);
    assert_plan(&out, &["Plan: 0 to create, 0 to update, 1 to delete"]);
    apply(&example, &["openshift-resourcequotas"]);
    assert!(quota("shop-best-effort").is_none(), "ours: deleted");
    assert!(quota("shop-compute").is_some());
    assert!(quota("made-by-hand").is_some(), "not ours: kept");
    assert_converged(&example, "openshift-resourcequotas");
}

/// openshift-routes: shop-production declares the `shop` route with TLS fields from the
/// secret store. The dry-run writes nothing and, like every run, never prints a TLS value;
/// the run creates the Route with the secret's TLS fields; the next run converges; renaming
/// the Route deletes only ours, never a hand-made Route.
#[tokio::test(flavor = "multi_thread")]
async fn routes_are_applied_with_tls_from_the_secret_store_without_printing_it() {
    let (sandbox, example) = demo([serde_json::json!({
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "made-by-hand", "namespace": "shop-production"},
        "spec": {"to": {"kind": "Service", "name": "legacy"}},
    })])
    .await;
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
    create_namespaces(&example);

    let out = dry_run(
        &example,
        &sandbox,
        &["--log-level", "DEBUG", "openshift-routes"],
        2,
    );
    assert_no_key(&out);
    assert_plan(
        &out,
        &[
            "create  sandbox  shop-production  Route.route.openshift.io  shop",
            "Plan: 1 to create, 0 to update, 0 to delete",
        ],
    );
    let out = example.run(&["--dry-run", "--output", "json", "openshift-routes"]);
    assert_exit(&out, 0, "--output json");
    assert_no_key(&out);
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "dry-run wrote");

    assert_no_key(&apply(
        &example,
        &["--log-level", "DEBUG", "openshift-routes"],
    ));
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
    assert_converged(&example, "openshift-routes");

    // The resource file now names the Route shop-web: ours is replaced, the hand-made stays.
    let file = example.app_interface().join("resources/shop/route.yml");
    let content = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        content.replace("  name: shop\n", "  name: shop-web\n"),
    )
    .unwrap();
    assert_no_key(&apply(&example, &["openshift-routes"]));
    assert!(route("shop-web").is_some());
    assert!(route("shop").is_none(), "ours: deleted");
    assert!(route("made-by-hand").is_some(), "not ours: kept");
}
