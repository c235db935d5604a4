//! What the CLI tests share: the shipped binary and its output, the README demo's sandbox
//! cluster, the example app-interface copied next to it (with a bundle and our qontract-server
//! when a test needs one), and the plan / apply / converge steps every integration test takes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qontract_kube_testserver::{KubeTestServer, KubeTestServerBuilder};
/// Our qontract-server on a free port, serving a bundle file.
pub(crate) use qontract_test_support::bundle_server::start_bundle_server;
use qontract_test_support::{copy_dir, replace_in_tree};
use serde_json::{Value, json};

use qontract_e2e::workspace;

/// The multi-call binary.
pub(crate) fn bin() -> PathBuf {
    qontract_e2e::bin("qontract-reconcile")
}

/// Run the multi-call binary with `args`.
pub(crate) fn run_bin<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(bin()).args(args).output().unwrap()
}

/// stdout and stderr of a run.
pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// stdout of a run (the plan).
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The run exited with `code` (`what` says which run, for the failure message).
#[track_caller]
pub(crate) fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}:\n{}", text(out));
}

/// `haystack` contains every one of `needles`.
#[track_caller]
pub(crate) fn assert_contains_all(haystack: &str, needles: &[&str], what: &str) {
    for needle in needles {
        assert!(
            haystack.contains(needle),
            "{what}: {needle:?} missing:\n{haystack}"
        );
    }
}

/// The demo's sandbox cluster: plain HTTP, token `sandbox-token` (seed it, then `start()`).
pub(crate) fn sandbox() -> KubeTestServerBuilder {
    KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
}

/// The namespace the README demo deletes.
pub(crate) fn shop_legacy() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop-legacy"}})
}

/// The demo's user API (`kube-testserver --openshift-users`).
pub(crate) const USER_API: &str = "user.openshift.io/v1";

/// The sandbox as `scripts/demo.sh` starts it: user.openshift.io served, and three Users of
/// the GitHub identity provider: ada (entitled through her roles), grace (no role), an admin.
pub(crate) fn sandbox_with_demo_users() -> KubeTestServerBuilder {
    let mut builder = sandbox().openshift_users(true);
    for (user, labels) in [
        ("ada-example", json!({})),
        ("grace-example", json!({})),
        ("sandbox-admin", json!({"admin": "true"})),
    ] {
        builder = builder
            .seed(json!({
                "apiVersion": USER_API, "kind": "User",
                "metadata": {"name": user, "labels": labels},
                "identities": [format!("github:{user}")],
            }))
            .seed(json!({
                "apiVersion": USER_API, "kind": "Identity",
                "metadata": {"name": format!("github:{user}")},
                "providerName": "github", "providerUserName": user,
                "user": {"name": user},
            }));
    }
    builder
}

/// `examples/` and `schemas/` copied into a temporary directory, the sandbox cluster's URL
/// put where the README demo has `http://127.0.0.1:16443`; and the binary run on it.
pub(crate) struct Example {
    tmp: tempfile::TempDir,
    /// `examples/app-interface/data`.
    pub(crate) data: PathBuf,
    /// `examples/config.toml` (the demo's config: embedded bundle, the secrets).
    pub(crate) config: PathBuf,
}

impl Example {
    /// The example pointing at `sandbox`.
    pub(crate) fn new(sandbox: &KubeTestServer) -> Self {
        Self::at(&sandbox.url())
    }

    /// The example with its cluster at `url` (the demo's own `http://127.0.0.1:16443` for
    /// tests that never reach a cluster).
    pub(crate) fn at(url: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&workspace().join("examples"), &tmp.path().join("examples"));
        copy_dir(&workspace().join("schemas"), &tmp.path().join("schemas"));
        replace_in_tree(&tmp.path().join("examples"), "http://127.0.0.1:16443", url);
        Example {
            data: tmp.path().join("examples/app-interface/data"),
            config: tmp.path().join("examples/config.toml"),
            tmp,
        }
    }

    /// `relative` in the temporary directory (`examples/...`, `schemas/...`).
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.tmp.path().join(relative)
    }

    /// `examples/app-interface`.
    pub(crate) fn app_interface(&self) -> PathBuf {
        self.path("examples/app-interface")
    }

    /// The binary with `--config <the demo's config>` and `args`.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        run_with(&self.config, args)
    }

    /// Replace `from` (which must be there) by `to` in the datafile `file`.
    #[track_caller]
    pub(crate) fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.data.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }

    /// Write the datafile `file` as a copy of `template` with each `(from, to)` replaced.
    pub(crate) fn copy_datafile(&self, template: &str, file: &str, replacements: &[(&str, &str)]) {
        let mut text = std::fs::read_to_string(self.data.join(template)).unwrap();
        for (from, to) in replacements {
            text = text.replace(from, to);
        }
        let path = self.data.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// The bundle qontract-server serves ([`Example::bundle`] writes it).
    pub(crate) fn bundle_file(&self) -> PathBuf {
        self.path("bundle.json")
    }

    /// Bundle the example's data as commit `commit` repeated (e.g. `"a"`) into
    /// [`Example::bundle_file`]; returns the bundle's sha256.
    pub(crate) fn bundle(&self, commit: &str) -> String {
        let app_interface = self.app_interface();
        let value = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
            schemas_dir: Default::default(),
            graphql_schema_file: self.path("schemas/graphql-schema.yml"),
            data_dir: app_interface.join("data"),
            resources_dir: app_interface.join("resources"),
            git_commit: commit.repeat(40),
            git_commit_timestamp: "1798000000".to_owned(),
        })
        .unwrap();
        let text = qontract_bundler::bundle_to_json(&value);
        std::fs::write(self.bundle_file(), &text).unwrap();
        qontract_bundler::sha256_hex(text.as_bytes())
    }

    /// A config reading GraphQL from qontract-server at `addr`, with `secrets` (TOML) or, when
    /// `None`, the demo config's secrets (from `[sandbox.creds]` on).
    pub(crate) fn server_config(
        &self,
        addr: std::net::SocketAddr,
        secrets: Option<&str>,
    ) -> PathBuf {
        let demo = std::fs::read_to_string(&self.config).unwrap();
        let secrets = secrets.unwrap_or_else(|| &demo[demo.find("\n[sandbox.creds]").unwrap()..]);
        let config = self.path("server-config.toml");
        std::fs::write(
            &config,
            format!("[graphql]\nserver = \"http://{addr}/graphql\"\n\n{secrets}"),
        )
        .unwrap();
        config
    }
}

/// The README demo: its sandbox (seeded with `seed`) and the example pointing at it.
pub(crate) async fn demo(seed: impl IntoIterator<Item = Value>) -> (KubeTestServer, Example) {
    let mut builder = sandbox();
    for object in seed {
        builder = builder.seed(object);
    }
    let sandbox = builder.start().await.unwrap();
    let example = Example::new(&sandbox);
    (sandbox, example)
}

/// Run the shipped binary with `--config config` and `args`.
pub(crate) fn run_with(config: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// `--dry-run --detailed-exitcode <args>` on the example: it exits `code` and writes nothing
/// to the sandbox. Returns the output.
#[track_caller]
pub(crate) fn dry_run(
    example: &Example,
    sandbox: &KubeTestServer,
    args: &[&str],
    code: i32,
) -> Output {
    sandbox.clear_requests();
    let mut all = vec!["--dry-run", "--detailed-exitcode"];
    all.extend_from_slice(args);
    let out = example.run(&all);
    assert_exit(&out, code, &all.join(" "));
    assert_eq!(
        sandbox.writes(),
        Vec::<String>::new(),
        "{}: the dry run wrote",
        all.join(" ")
    );
    out
}

/// The run of `args` exits 0.
#[track_caller]
pub(crate) fn apply(example: &Example, args: &[&str]) -> Output {
    let out = example.run(args);
    assert_exit(&out, 0, &args.join(" "));
    out
}

/// A detailed-exitcode dry run of `integration` plans nothing (exit 0).
#[track_caller]
pub(crate) fn assert_converged(example: &Example, integration: &str) {
    let out = example.run(&["--dry-run", "--detailed-exitcode", integration]);
    assert_exit(&out, 0, &format!("{integration} converged"));
}

/// The plan of a dry run (stdout) contains `lines`.
#[track_caller]
pub(crate) fn assert_plan(out: &Output, lines: &[&str]) {
    assert_contains_all(&stdout(out), lines, "plan");
}

/// `openshift-namespaces` creates the example's namespaces (the start of most tests).
#[track_caller]
pub(crate) fn create_namespaces(example: &Example) {
    apply(example, &["openshift-namespaces"]);
}

/// Dry run (exit 2, no writes, stdout and stderr contain `expected`), apply `applies` times,
/// converged dry run (exit 0). Returns the first dry run's output (stdout and stderr).
#[track_caller]
pub(crate) fn plan_apply_converge(
    example: &Example,
    sandbox: &KubeTestServer,
    integration: &str,
    expected: &[&str],
    applies: usize,
) -> String {
    let out = dry_run(example, sandbox, &[integration], 2);
    let plan = text(&out);
    assert_contains_all(&plan, expected, integration);
    for _ in 0..applies {
        apply(example, &[integration]);
    }
    assert_converged(example, integration);
    plan
}

/// `--dry-run --early-exit-compare-sha <sha> [extra] <integration>` with `config`.
pub(crate) fn early_exit_check(
    config: &Path,
    sha: &str,
    extra: &[&str],
    integration: &str,
) -> Output {
    let mut args = vec!["--dry-run", "--early-exit-compare-sha", sha];
    args.extend_from_slice(extra);
    args.push(integration);
    run_with(config, &args)
}

/// The PR check exited early (exit 0) without contacting any cluster.
#[track_caller]
pub(crate) fn assert_exits_early(out: &Output, sandbox: &KubeTestServer) {
    assert_exit(out, 0, "early exit");
    assert!(text(out).contains("Exit PR check early"), "{}", text(out));
    assert!(
        sandbox.requests().is_empty(),
        "early exit must not contact clusters"
    );
}

/// The PR check ran in full (exit 0, no early exit) and its plan names `planned`.
#[track_caller]
pub(crate) fn assert_runs_in_full(out: &Output, planned: &str) {
    assert_exit(out, 0, "full run");
    assert!(!text(out).contains("Exit PR check early"), "{}", text(out));
    assert!(stdout(out).contains(planned), "{}", text(out));
}

/// The README demo's `openshift-namespaces` dry run (exit code checked by the caller): it
/// plans to create shop-stage and delete shop-legacy, says `[DRY-RUN]` and only reads.
#[track_caller]
pub(crate) fn assert_demo_namespaces_planned(out: &Output, sandbox: &KubeTestServer) {
    assert_plan(
        out,
        &[
            "create  sandbox  shop-stage",
            "delete  sandbox  shop-legacy",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("[DRY-RUN]"));
    assert!(
        sandbox.requests().iter().all(|r| r.method == "GET"),
        "the dry run wrote"
    );
}

/// After the README demo's `openshift-namespaces` run: the example's namespaces exist,
/// shop-legacy is gone.
#[track_caller]
pub(crate) fn assert_demo_namespaces_applied(sandbox: &KubeTestServer) {
    let namespace = |name: &str| sandbox.get_object("v1", "Namespace", None, name);
    assert!(namespace("shop-stage").is_some());
    assert!(namespace("shop-production").is_some());
    assert!(namespace("shop-legacy").is_none());
}
