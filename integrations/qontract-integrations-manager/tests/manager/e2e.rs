//! Dry run, apply, convergence, resharding and caller isolation on the example app-interface.

use std::path::PathBuf;
use std::process::{Command, Output};

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{copy_dir, replace_in_tree};
use serde_json::{Value, json};

const NAMESPACE: &str = "app-sre-integrations";
const UPSTREAM: &str = "https://github.com/app-sre/qontract-reconcile";

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

/// The example app-interface pointed at a fresh sandbox whose integrations namespace exists.
struct Fixture {
    sandbox: KubeTestServer,
    tmp: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let sandbox = KubeTestServer::builder()
            .https(false)
            .token("sandbox-token")
            .seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
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
        Self { sandbox, tmp }
    }

    /// `qontract-reconcile --config examples/config.toml ARGS` in a child process.
    fn run(&self, args: &[&str]) -> Output {
        let mut argv = vec![
            "qontract-reconcile".to_owned(),
            "--config".to_owned(),
            self.tmp
                .path()
                .join("examples/config.toml")
                .display()
                .to_string(),
        ];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        Command::new(std::env::current_exe().unwrap())
            .args(["cli_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(super::CHILD_ARGV, serde_json::to_string(&argv).unwrap())
            .env_remove("SHARDS")
            .env_remove("SHARD_ID")
            .output()
            .unwrap()
    }

    fn data_file(&self, path: &str) -> PathBuf {
        self.tmp
            .path()
            .join("examples/app-interface/data")
            .join(path)
    }

    fn edit(&self, path: &str, from: &str, to: &str) {
        let file = self.data_file(path);
        let before = std::fs::read_to_string(&file).unwrap();
        assert!(before.contains(from), "{from:?} not in {path}");
        std::fs::write(&file, before.replace(from, to)).unwrap();
    }

    fn writes(&self) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count()
    }

    fn deployment(&self, name: &str) -> Option<Value> {
        self.sandbox
            .get_object("apps/v1", "Deployment", Some(NAMESPACE), name)
    }

    fn deployment_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .sandbox
            .list_objects("apps/v1", "Deployment", Some(NAMESPACE))
            .iter()
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }
}

/// The value of the `int` container's environment variable `name`.
fn env(workload: &Value, name: &str) -> Option<String> {
    workload["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_apply_converge_and_reshard() {
    let fx = Fixture::new().await;

    // Dry run: the whole plan, zero writes.
    let out = fx.run(&["--dry-run", "--detailed-exitcode", "integrations-manager"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in [
        "qontract-reconcile-openshift-namespaces-0",
        "qontract-reconcile-openshift-namespaces-1",
        "qontract-reconcile-openshift-resources-sandbox",
        "qontract-reconcile-integrations-manager",
    ] {
        assert!(plan.contains(name), "{name} not planned:\n{plan}");
    }
    assert_eq!(fx.writes(), 0, "dry-run wrote");

    // Wet run: one Deployment per shard, with its shard environment.
    let out = fx.run(&["integrations-manager"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fx.deployment_names(),
        [
            "qontract-reconcile-openshift-namespaces-0",
            "qontract-reconcile-openshift-namespaces-1",
            "qontract-reconcile-openshift-resources-sandbox",
        ]
    );
    for shard in ["0", "1"] {
        let d = fx
            .deployment(&format!("qontract-reconcile-openshift-namespaces-{shard}"))
            .unwrap();
        assert_eq!(env(&d, "SHARDS").as_deref(), Some("2"));
        assert_eq!(env(&d, "SHARD_ID").as_deref(), Some(shard));
        assert_eq!(
            env(&d, "INTEGRATION_NAME").as_deref(),
            Some("openshift-namespaces")
        );
        assert_eq!(
            env(&d, "INTEGRATION_EXTRA_ARGS").as_deref(),
            Some("--thread-pool-size 5")
        );
        assert_eq!(env(&d, "DRY_RUN").as_deref(), Some("--dry-run"));
        assert_eq!(env(&d, "SLEEP_DURATION_SECS").as_deref(), Some("300"));
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            "quay.io/app-sre/qontract-reconcile-rs:0.1.0"
        );
        let annotations = &d["metadata"]["annotations"];
        assert_eq!(annotations["qontract.integration"], "integrations-manager");
        assert_eq!(annotations["qontract.caller_name"], UPSTREAM);
    }
    let per_cluster = fx
        .deployment("qontract-reconcile-openshift-resources-sandbox")
        .unwrap();
    assert_eq!(env(&per_cluster, "SHARD_KEY").as_deref(), Some("sandbox"));
    assert_eq!(env(&per_cluster, "SHARDS"), None);
    assert_eq!(
        env(&per_cluster, "INTEGRATION_EXTRA_ARGS").as_deref(),
        Some("--cluster-name sandbox")
    );
    let cron = fx
        .sandbox
        .get_object(
            "batch/v1",
            "CronJob",
            Some(NAMESPACE),
            "qontract-reconcile-integrations-manager",
        )
        .expect("CronJob applied");
    assert_eq!(cron["spec"]["schedule"], "*/10 * * * *");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let job_container = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert!(
        job_container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "RUN_ONCE" && e["value"] == "true")
    );
    let service = fx
        .sandbox
        .get_object("v1", "Service", Some(NAMESPACE), "qontract-reconcile")
        .expect("Service applied");
    assert_eq!(
        service["spec"]["selector"]["component"],
        "qontract-reconcile"
    );
    assert!(
        fx.sandbox
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .all(|r| r.field_manager.as_deref() == Some("qontract-reconcile/integrations-manager")),
        "every write uses our field manager"
    );

    // Converged: a second run plans nothing and writes nothing.
    let before = fx.writes();
    let out = fx.run(&["--dry-run", "--detailed-exitcode", "integrations-manager"]);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
    let out = fx.run(&["integrations-manager"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fx.writes(), before, "a converged run wrote");

    // 2 -> 3 shards: the existing shards are updated, the third created.
    fx.edit(
        "integrations/openshift-namespaces.yml",
        "shards: 2",
        "shards: 3",
    );
    let out = fx.run(&["--dry-run", "--output", "json", "integrations-manager"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let plan: Value = serde_json::from_str(&stdout[stdout.find('{').unwrap()..]).unwrap();
    let actions: Vec<(String, String)> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] != "no_op")
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions.len(),
        3,
        "two updates and one create: {actions:?}\n{plan:#}"
    );
    let out = fx.run(&["integrations-manager"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fx.deployment_names().len(), 4);
    for shard in ["0", "1", "2"] {
        let d = fx
            .deployment(&format!("qontract-reconcile-openshift-namespaces-{shard}"))
            .unwrap();
        assert_eq!(env(&d, "SHARDS").as_deref(), Some("3"));
        assert_eq!(env(&d, "SHARD_ID").as_deref(), Some(shard));
    }

    // 3 -> 2 shards: the extra one is deleted.
    fx.edit(
        "integrations/openshift-namespaces.yml",
        "shards: 3",
        "shards: 2",
    );
    let out = fx.run(&["integrations-manager"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        fx.deployment("qontract-reconcile-openshift-namespaces-2")
            .is_none()
    );
    let d = fx
        .deployment("qontract-reconcile-openshift-namespaces-1")
        .unwrap();
    assert_eq!(env(&d, "SHARDS").as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_of_another_upstream_are_not_touched() {
    let fx = Fixture::new().await;
    let foreign = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "qontract-reconcile-foreign",
            "namespace": NAMESPACE,
            "labels": {"app": "qontract-reconcile-foreign"},
            "annotations": {
                "qontract.integration": "integrations-manager",
                "qontract.integration_version": "0.1.0",
                "qontract.caller_name": "https://github.com/example/other-integrations",
                "qontract.sha256sum": "0000000000000000000000000000000000000000000000000000000000000000",
            },
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "qontract-reconcile-foreign"}},
            "template": {
                "metadata": {"labels": {"app": "qontract-reconcile-foreign"}},
                "spec": {"containers": [{"name": "int", "image": "example/other:1"}]},
            },
        },
    });
    fx.sandbox.seed(foreign).unwrap();

    let out = fx.run(&[
        "integrations-manager",
        "--upstream",
        UPSTREAM,
        "-i",
        "registry.example.com/qontract-reconcile-rs",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        fx.deployment("qontract-reconcile-foreign").is_some(),
        "another upstream's object was deleted"
    );
    let ours = fx
        .deployment("qontract-reconcile-openshift-namespaces-0")
        .unwrap();
    assert_eq!(
        ours["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/qontract-reconcile-rs:0.1.0",
        "--image sets IMAGE"
    );
    assert!(
        fx.sandbox
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .all(|r| !r.path.ends_with("/qontract-reconcile-foreign")),
        "a write to another upstream's object"
    );

    // An upstream no integration has: nothing is deployed, nothing is deleted.
    let before = fx.writes();
    let out = fx.run(&[
        "integrations-manager",
        "--upstream",
        "https://github.com/example/nobody",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fx.writes(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_error_and_changes_nothing() {
    let fx = Fixture::new().await;
    let out = fx.run(&["integrations-manager", "-r", "integrations=main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--image-tag-from-ref"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("not supported"), "{}", text(&out));

    // A key strategy the integration has no option for fails that integration only, and the
    // run deletes nothing.
    fx.edit(
        "integrations/integrations-manager.yml",
        "    cron: '*/10 * * * *'\n",
        "    cron: '*/10 * * * *'\n  sharding:\n    strategy: static\n    shards: 0\n",
    );
    let out = fx.run(&["integrations-manager"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(
        output.contains("integration integrations-manager")
            && output.contains("shards >= 1")
            && output.contains("app-sre-integrations"),
        "{output}"
    );
    assert!(
        fx.deployment("qontract-reconcile-openshift-namespaces-0")
            .is_some(),
        "the other integrations are still deployed"
    );
    assert_eq!(fx.deployment_names().len(), 3);
    assert!(
        fx.sandbox
            .get_object(
                "batch/v1",
                "CronJob",
                Some(NAMESPACE),
                "qontract-reconcile-integrations-manager"
            )
            .is_none(),
        "the broken integration is left out"
    );

    // per-aws-account for an integration without --account-name: an error for that
    // integration only (upstream `check_integration_sharding_params`).
    fx.edit(
        "integrations/integrations-manager.yml",
        "    strategy: static\n    shards: 0\n",
        "    strategy: per-aws-account\n",
    );
    let out = fx.run(&["--dry-run", "integrations-manager"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(
        output.contains("integration integrations-manager")
            && output.contains("--account-name is required by the 'per-aws-account'"),
        "{output}"
    );

    // A strategy this version does not query is reported for that integration only.
    fx.edit(
        "integrations/integrations-manager.yml",
        "    strategy: per-aws-account\n",
        "    strategy: per-ocm-organization\n",
    );
    let out = fx.run(&["--dry-run", "integrations-manager"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let output = text(&out);
    assert!(
        output.contains("integration integrations-manager")
            && output.contains("\"per-ocm-organization\" is not supported"),
        "{output}"
    );
}
