//! `qontract-compat`: the differential suite (`make compat`).
//!
//! Runs the real Python `qontract-reconcile==0.10.1` (installed by
//! `scripts/install-compat-peer.sh`, found on `PATH` with its `oc`/`amtool` shims) and ours on
//! the same bundles (served by our `qontract-server`), the same loopback Kubernetes API server
//! (`kube-testserver`, HTTPS) and the same Vault (OpenBao dev server, AppRole login), and
//! compares them per scenario (`tests/compat/scenarios/<name>/`):
//!
//! 1. on the same starting cluster, the set of actions each tool plans in dry-run
//!    (action, kind, namespace, name) and the dry-run exit codes;
//! 2. after the Python tool applied, ours plans nothing;
//! 3. after ours applied (on a fresh cluster), the Python tool plans nothing.
//!
//! Where the applying tool does not converge on its own apply (it plans again right after), the
//! other tool must plan exactly that again (reported as a note), not nothing.
//!
//! A scenario listed in `tests/compat/expected-differences` (`<scenario>: <reason>`) must
//! differ (0.10.1 differs from current upstream there and we follow upstream); every other
//! scenario must be identical. The last line printed is
//! `compat: N scenarios, I identical, K expected differences`; the exit code is 1 unless
//! I + K = N.
//!
//! Usage: `qontract-compat [SCENARIO...]` (default: all). Our binaries are taken from the
//! directory of this executable; `python`-side `qontract-reconcile`, `oc`, `kubectl`, `bao` from
//! `PATH`. `QONTRACT_COMPAT_GRAPHQL_SCHEMA` overrides the GraphQL schema the bundles are built
//! with (default: the upstream schema in `../shared`), `QONTRACT_COMPAT_KEEP=1` keeps the work
//! directory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qontract_compat::services::{
    self, OpenBao, Proc, free_port, http, output_text as text, start_qontract_server,
};
use serde_json::Value;

mod vault;

const KUBE_TOKEN: &str = "compat-token";
const BAO_ROOT: &str = "compat-root";
const CLUSTER_SECRET: &str = "secret/compat/cluster";

/// One planned action, normalised across both tools.
type Action = (String, String, String, String);

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("compat: error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared services of a run: OpenBao, qontract-server, and the port of the cluster.
struct Env {
    bin: PathBuf,
    work: PathBuf,
    schema: PathBuf,
    kube_port: u16,
    server_url: String,
    vault: OpenBao,
    qs_port: u16,
    bundle_file: PathBuf,
    config: PathBuf,
    _qs: Option<Proc>,
}

impl Env {
    fn start(bin: PathBuf, work: PathBuf, schema: PathBuf) -> Result<Env> {
        let kube_port = free_port()?;
        let qs_port = free_port()?;
        let server_url = format!("https://127.0.0.1:{kube_port}");
        // the dev server writes its token to ~/.vault-token: keep it in the run directory
        let vault = OpenBao::start(&work, BAO_ROOT)?;
        let (role_id, secret_id) = vault.approle("compat")?;
        let mut cluster = serde_json::Map::new();
        cluster.insert("token".into(), KUBE_TOKEN.into());
        cluster.insert("server".into(), server_url.clone().into());
        cluster.insert("username".into(), "compat".into());
        vault.kv_put(CLUSTER_SECRET, &cluster)?;
        let config = work.join("config.toml");
        services::write_config(&config, qs_port, &vault, (&role_id, &secret_id))?;
        Ok(Env {
            bin,
            bundle_file: work.join("bundle.json"),
            config,
            work,
            schema,
            kube_port,
            server_url,
            vault,
            qs_port,
            _qs: None,
        })
    }

    fn bao(&self, args: &[&str]) -> Result<String> {
        self.vault.cmd(args)
    }

    /// Serves `bundle` (replacing the one served before).
    fn serve(&mut self, bundle: &Path) -> Result<()> {
        std::fs::copy(bundle, &self.bundle_file)?;
        if self._qs.is_none() {
            self._qs = Some(start_qontract_server(
                &self.bin,
                self.qs_port,
                &self.bundle_file,
                &self.work.join("qontract-server.log"),
            )?);
        } else {
            let (status, body) = http("POST", self.qs_port, "/reload")?;
            if status != 200 {
                bail!("qontract-server reload: HTTP {status}: {body}");
            }
        }
        Ok(())
    }

    /// A fresh loopback cluster on the run's port, with the scenario's namespaces and seed.
    fn fresh_cluster(&self, scenario: &Scenario, log: &Path) -> Result<Proc> {
        let mut cmd = services::kube_testserver(
            &self.bin,
            self.kube_port,
            KUBE_TOKEN,
            &self.work.join("kubeconfig"),
        );
        if scenario.openshift {
            cmd.arg("--openshift-projects");
        }
        if scenario.openshift_users {
            cmd.arg("--openshift-users");
        }
        for (i, crd) in scenario.crds.iter().enumerate() {
            let file = self.work.join(format!("crd-{i}.json"));
            std::fs::write(&file, crd.to_string())?;
            cmd.arg("--crd").arg(file);
        }
        let mut kube = Proc::spawn("kube-testserver", &mut cmd, log)?;
        services::wait_kube_ready(&mut kube, log)?;
        let mut objects: Vec<Value> = scenario
            .namespaces
            .iter()
            .map(|n| serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}))
            .collect();
        objects.extend(scenario.seed.iter().cloned());
        for object in objects {
            let file = self.work.join("seed.json");
            std::fs::write(&file, object.to_string())?;
            let out = self
                .kubectl()
                .args(["create", "--validate=false", "-f"])
                .arg(&file)
                .output()?;
            if !out.status.success() {
                bail!("seeding {object}: {}", text(&out));
            }
        }
        Ok(kube)
    }

    /// Applies the scenario's `mutate` patches to the live objects.
    fn mutate(&self, scenario: &Scenario) -> Result<()> {
        for m in &scenario.mutate {
            let field = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            let out = self
                .kubectl()
                .args(["patch", &field("resource"), &field("name"), "-n"])
                .arg(field("namespace"))
                .args(["--type", "json", "-p", &m["patch"].to_string()])
                .output()?;
            if !out.status.success() {
                bail!("{}: mutating {m}: {}", scenario.name, text(&out));
            }
        }
        Ok(())
    }

    /// Writes the objects of the scenario's namespaces (and the namespaces) to `file`, for
    /// the logs.
    fn dump(&self, scenario: &Scenario, file: &Path) -> Result<()> {
        let mut dump = String::new();
        let out = self
            .kubectl()
            .args(["get", "namespaces", "-o", "json"])
            .output()?;
        dump.push_str(&String::from_utf8_lossy(&out.stdout));
        for ns in &scenario.namespaces {
            let out = self
                .kubectl()
                .args([
                    "get",
                    "configmaps,secrets,services,deployments,serviceaccounts,routes,networkpolicies,resourcequotas,rolebindings,limitranges,prometheusrules",
                    "-n",
                    ns,
                    "-o",
                    "json",
                ])
                .output()?;
            dump.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        if scenario.openshift_users {
            let out = self
                .kubectl()
                .args(["get", "groups,users,identities", "-o", "json"])
                .output()?;
            dump.push_str(&String::from_utf8_lossy(&out.stdout));
        }
        std::fs::write(file, dump)?;
        Ok(())
    }

    fn kubectl(&self) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.args([
            "--kubeconfig",
            "/dev/null",
            "--insecure-skip-tls-verify",
            "--server",
            &self.server_url,
            "--token",
            KUBE_TOKEN,
        ]);
        cmd
    }

    /// Builds the bundle of base data + `overlay` (its `data/` and `resources/`).
    fn bundle(&self, name: &str, overlay: &Path) -> Result<PathBuf> {
        let dir = self.work.join("trees").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        copy_tree(&suite_dir().join("base/data"), &dir.join("data"))?;
        std::fs::create_dir_all(dir.join("resources"))?;
        if overlay.join("data").is_dir() {
            copy_tree(&overlay.join("data"), &dir.join("data"))?;
        }
        if overlay.join("resources").is_dir() {
            copy_tree(&overlay.join("resources"), &dir.join("resources"))?;
        }
        replace_in_tree(&dir, "@SERVER@", &self.server_url)?;
        let schemas = self.work.join("no-schemas");
        std::fs::create_dir_all(&schemas)?;
        let out = Command::new(self.bin.join("qontract-bundler"))
            .arg(&schemas)
            .arg(&self.schema)
            .arg(dir.join("data"))
            .arg(dir.join("resources"))
            .arg("c".repeat(40))
            .arg("1798000000")
            .output()
            .context("running qontract-bundler")?;
        if !out.status.success() {
            bail!("bundling {name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let file = self.work.join(format!("{name}.bundle.json"));
        std::fs::write(&file, &out.stdout)?;
        Ok(file)
    }

    fn python(
        &self,
        scenario: &Scenario,
        dry_run: bool,
        log: &Path,
    ) -> Result<(i32, BTreeSet<Action>)> {
        let mut cmd = Command::new("qontract-reconcile");
        cmd.arg("--config").arg(&self.config);
        if dry_run {
            cmd.arg("--dry-run");
        }
        cmd.arg(&scenario.integration).args(&scenario.python_args);
        cmd.env_remove("USE_NATIVE_CLIENT").env("HOME", &self.work);
        let out = cmd
            .output()
            .context("running the Python qontract-reconcile")?;
        let all = text(&out);
        std::fs::write(log, &all)?;
        Ok((
            out.status.code().unwrap_or(-1),
            python_actions(&scenario.integration, &String::from_utf8_lossy(&out.stderr)),
        ))
    }

    fn ours(
        &self,
        scenario: &Scenario,
        dry_run: bool,
        log: &Path,
    ) -> Result<(i32, BTreeMap<Action, String>)> {
        let mut cmd = Command::new(self.bin.join("qontract-reconcile"));
        cmd.arg("--config").arg(&self.config);
        if dry_run {
            cmd.args(["--dry-run", "--output", "json"]);
        }
        cmd.arg(&scenario.integration).args(&scenario.our_args);
        let out = cmd.output().context("running our qontract-reconcile")?;
        std::fs::write(log, text(&out))?;
        let code = out.status.code().unwrap_or(-1);
        if !dry_run {
            return Ok((code, BTreeMap::new()));
        }
        let plan: Value = match serde_json::from_slice(&out.stdout) {
            Ok(plan) => plan,
            Err(_) if out.stdout.is_empty() => Value::Null,
            Err(e) => bail!("our plan is not JSON ({e}); see {}", log.display()),
        };
        Ok((code, our_actions(&scenario.integration, &plan)))
    }
}

/// The `bao` CLI as root against the OpenBao on `port`.
fn bao_cmd(port: u16, args: &[&str]) -> Result<String> {
    services::bao_cmd(port, BAO_ROOT, args)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying to {}", target.display()))?;
        }
    }
    Ok(())
}

fn replace_in_tree(dir: &Path, from: &str, to: &str) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            replace_in_tree(&path, from, to)?;
        } else if let Ok(content) = std::fs::read_to_string(&path)
            && content.contains(from)
        {
            std::fs::write(&path, content.replace(from, to))?;
        }
    }
    Ok(())
}

/// `Kind` of `Kind.group` (0.10.1 logs some types with their group).
fn kind_of(resource_type: &str) -> String {
    resource_type
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Parses a Python `repr` of a list of strings, bare names and integers (`['a', None, 2]`,
/// each item as its text); None when the text is not one.
fn python_list(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        let Some(quote) = chars.next() else { break };
        if quote.is_ascii_alphanumeric() {
            // a bare name (`None`, `True`) or an integer
            let mut item = String::from(quote);
            while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric()) {
                item.push(c);
            }
            items.push(item);
            continue;
        }
        if quote != '\'' && quote != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '\\' => item.push(chars.next()?),
                c if c == quote => break,
                c => item.push(c),
            }
        }
        items.push(item);
    }
    Some(items)
}

/// The actions of a Python run: its `['apply'|'delete', 'privileged=…', cluster, ns, kind,
/// name]`, (openshift-namespaces) `['create'|'delete', cluster, ns]`, (openshift-groups)
/// `[action, cluster, group, user|None]` and (openshift-users) `['del_user', cluster, user]`
/// log lines.
fn python_actions(integration: &str, stderr: &str) -> BTreeSet<Action> {
    let mut actions = BTreeSet::new();
    for line in stderr.lines() {
        let Some((_, message)) = line.split_once("] - ") else {
            continue;
        };
        let Some(items) = python_list(message) else {
            continue;
        };
        let item = |i: usize| items.get(i).cloned().unwrap_or_default();
        if integration == "openshift-namespaces" {
            if items.len() == 3 && (items[0] == "create" || items[0] == "delete") {
                actions.insert((item(0), "Namespace".into(), String::new(), item(2)));
            }
        } else if integration == "openshift-groups" {
            if items.len() == 4 && GROUP_ACTIONS.contains(&items[0].as_str()) {
                let user = (items[3] != "None").then(|| item(3));
                actions.insert(group_action(&item(0), &item(1), &item(2), user.as_deref()));
            }
        } else if integration == "openshift-users" {
            if items.len() == 3 && items[0] == "del_user" {
                actions.insert((item(0), "User".into(), item(1), item(2)));
            }
        } else if items.len() == 6
            && (items[0] == "apply" || items[0] == "delete")
            && items[1].starts_with("privileged=")
        {
            actions.insert((item(0), kind_of(&item(4)), item(3), item(5)));
        }
    }
    // 0.10.1 logs a delete before checking whether deletes are enabled; once any error was
    // registered they are disabled for the whole run (upstream `openshift_base.delete`)
    if stderr.contains("'delete' action is disabled due to previous errors") {
        actions.retain(|(action, ..)| action != "delete");
    }
    actions
}

/// The actions of openshift-groups (upstream `calculate_diff`).
const GROUP_ACTIONS: &[&str] = &[
    "create_group",
    "add_user_to_group",
    "del_user_from_group",
    "delete_group",
];

/// An openshift-groups action: (action, `Group`, cluster, `group` or `group/user`).
fn group_action(action: &str, cluster: &str, group: &str, user: Option<&str>) -> Action {
    let name = match user {
        Some(user) => format!("{group}/{user}"),
        None => group.to_owned(),
    };
    (action.into(), "Group".into(), cluster.into(), name)
}

/// The actions of our `--output json` plan, in the Python vocabulary (`create`/`update` are
/// `apply`; for openshift-namespaces `create`/`delete` of the namespace; openshift-groups and
/// openshift-users plan a list of upstream's diff entries).
fn our_actions(integration: &str, plan: &Value) -> BTreeMap<Action, String> {
    let mut actions = BTreeMap::new();
    let field = |a: &Value, k: &str| a[k].as_str().unwrap_or_default().to_owned();
    if integration == "openshift-groups" || integration == "openshift-users" {
        for a in plan.as_array().into_iter().flatten() {
            let action = if integration == "openshift-groups" {
                group_action(
                    &field(a, "action"),
                    &field(a, "cluster"),
                    &field(a, "group"),
                    a["user"].as_str(),
                )
            } else {
                (
                    field(a, "action"),
                    "User".into(),
                    field(a, "cluster"),
                    field(a, "user"),
                )
            };
            actions.insert(action, String::new());
        }
        return actions;
    }
    let reason = |a: &Value| {
        a["reason"]["message"]
            .as_str()
            .or_else(|| a["reason"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let deletion_disabled = plan["deletion_enabled"] == Value::Bool(false);
    for a in plan["actions"].as_array().into_iter().flatten() {
        let action = field(a, "action");
        let action = if action == "delete" && deletion_disabled {
            "skip".to_owned()
        } else {
            action
        };
        // what is not an action (skip, no_op) is kept as `#<action>` for the report
        let not_action = format!("#{action}");
        let verb = match action.as_str() {
            "create" | "update" | "apply" if integration == "openshift-namespaces" => "create",
            "create" | "update" | "apply" => "apply",
            "delete" => "delete",
            _ => not_action.as_str(),
        };
        if integration == "openshift-namespaces" {
            let name = Some(field(a, "name"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| field(a, "namespace"));
            actions.insert(
                (verb.into(), "Namespace".into(), String::new(), name),
                reason(a),
            );
        } else {
            let kind = Some(field(a, "resource_type"))
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| field(a, "kind"));
            actions.insert(
                (
                    verb.into(),
                    kind_of(&kind),
                    field(a, "namespace"),
                    field(a, "name"),
                ),
                reason(a),
            );
        }
    }
    actions
}

fn show(actions: &BTreeSet<Action>) -> String {
    if actions.is_empty() {
        return "nothing".into();
    }
    actions
        .iter()
        .map(|(a, k, ns, n)| {
            if ns.is_empty() {
                format!("{a} {k} {n}")
            } else {
                format!("{a} {k} {ns}/{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The actions of our plan (without the `#skip` / `#no_op` entries kept for reasons).
fn planned_actions(reasons: &BTreeMap<Action, String>) -> BTreeSet<Action> {
    reasons
        .keys()
        .filter(|(action, ..)| !action.starts_with('#'))
        .cloned()
        .collect()
}

/// Python's actions that ours does not plan, each with what ours decided for that object.
fn show_missing(actions: &BTreeSet<Action>, reasons: &BTreeMap<Action, String>) -> String {
    show_each(actions, |a| {
        reasons
            .iter()
            .find(|((action, kind, ns, name), _)| {
                action.starts_with('#') && (kind, ns, name) == (&a.1, &a.2, &a.3)
            })
            .map(|((action, ..), reason)| format!("ours: {}: {reason}", &action[1..]))
    })
}

/// [`show`] with our plan's reason after each action.
fn show_with_reasons(actions: &BTreeSet<Action>, reasons: &BTreeMap<Action, String>) -> String {
    show_each(actions, |a| {
        reasons.get(a).filter(|r| !r.is_empty()).cloned()
    })
}

/// [`show`] of each action, followed by ` (<note>)` where `note` gives one.
fn show_each(actions: &BTreeSet<Action>, note: impl Fn(&Action) -> Option<String>) -> String {
    if actions.is_empty() {
        return "nothing".into();
    }
    actions
        .iter()
        .map(|a| {
            let one = show(&BTreeSet::from([a.clone()]));
            match note(a) {
                Some(note) => format!("{one} ({note})"),
                None => one,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `tests/compat/scenarios/<name>/scenario.json`.
struct Scenario {
    name: String,
    dir: PathBuf,
    integration: String,
    namespaces: Vec<String>,
    seed: Vec<Value>,
    vault: serde_json::Map<String, Value>,
    python_args: Vec<String>,
    our_args: Vec<String>,
    /// JSON patches applied to live objects after each tool's apply (what a mutating webhook
    /// or a controller would do): `{"resource", "namespace", "name", "patch"}`.
    mutate: Vec<Value>,
    /// Exit code the Python tool's dry run must have (`"exit"`, default 0; ours must match it
    /// unless the scenario is an expected difference): a scenario where both fail the same
    /// way early (bad test data) proves nothing.
    exit: i32,
    /// The cluster serves OpenShift's `project.openshift.io` (`"openshift": true`).
    openshift: bool,
    /// The cluster serves OpenShift's `user.openshift.io` Groups, Users, Identities
    /// (`"openshift_users": true`).
    openshift_users: bool,
    /// CustomResourceDefinitions the cluster serves from the start (`"crds"`).
    crds: Vec<Value>,
}

fn load_scenario(dir: &Path) -> Result<Scenario> {
    let file = dir.join("scenario.json");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?,
    )
    .with_context(|| format!("parsing {}", file.display()))?;
    let strings = |k: &str| -> Vec<String> {
        v[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    Ok(Scenario {
        name: dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        dir: dir.to_owned(),
        integration: v["integration"]
            .as_str()
            .with_context(|| format!("{}: integration missing", file.display()))?
            .to_owned(),
        namespaces: strings("namespaces"),
        seed: v["seed"].as_array().cloned().unwrap_or_default(),
        vault: v["vault"].as_object().cloned().unwrap_or_default(),
        python_args: strings("python_args"),
        our_args: strings("our_args"),
        mutate: v["mutate"].as_array().cloned().unwrap_or_default(),
        exit: v["exit"].as_i64().unwrap_or(0) as i32,
        openshift: v["openshift"].as_bool().unwrap_or(false),
        openshift_users: v["openshift_users"].as_bool().unwrap_or(false),
        crds: v["crds"].as_array().cloned().unwrap_or_default(),
    })
}

/// Runs one scenario; returns the differences found (empty: identical), the Python tool's
/// dry-run plan on the starting cluster, and notes (both tools re-planning after an apply).
fn run_scenario(env: &mut Env, s: &Scenario) -> Result<(Vec<String>, String, Vec<String>)> {
    if s.integration == "vault-replication" {
        return vault::run_scenario(env, s);
    }
    let logs = env.work.join("logs").join(&s.name);
    std::fs::create_dir_all(&logs)?;
    let before = s.dir.join("before");
    let before = before
        .is_dir()
        .then(|| env.bundle(&format!("{}-before", s.name), &before));
    let before = before.transpose()?;
    let after = env.bundle(&s.name, &s.dir)?;
    let mut diffs = Vec::new();
    let mut notes = Vec::new();
    let planned;
    let py_apply_code;

    // 1. the same starting cluster (before applied by the Python tool): the same plan
    {
        let _kube = env.fresh_cluster(s, &logs.join("kube-1.log"))?;
        if let Some(before) = &before {
            env.serve(before)?;
            let (code, _) = env.python(s, false, &logs.join("py-before-apply.log"))?;
            if code != 0 {
                diffs.push(format!(
                    "setup: the Python tool applying before/ exited {code}"
                ));
            }
        }
        env.serve(&after)?;
        let (py_code, py) = env.python(s, true, &logs.join("py-dry-run.log"))?;
        planned = show(&py);
        let (our_code, reasons) = env.ours(s, true, &logs.join("ours-dry-run.log"))?;
        let ours = planned_actions(&reasons);
        if py != ours {
            let only_py: BTreeSet<_> = py.difference(&ours).cloned().collect();
            let only_ours: BTreeSet<_> = ours.difference(&py).cloned().collect();
            diffs.push(format!(
                "dry-run plans differ: only Python: {}; only ours: {}",
                show_missing(&only_py, &reasons),
                show_with_reasons(&only_ours, &reasons)
            ));
        }
        if py_code != s.exit {
            diffs.push(format!(
                "setup: the Python tool's dry-run exited {py_code}, the scenario expects {} (see {})",
                s.exit,
                logs.join("py-dry-run.log").display()
            ));
        }
        if py_code != our_code {
            diffs.push(format!(
                "dry-run exit codes differ: Python {py_code}, ours {our_code}"
            ));
        }

        // 2. after the Python tool applied, ours plans nothing (or, where the Python tool does
        //    not converge on its own apply, exactly what it plans again)
        let (code, _) = env.python(s, false, &logs.join("py-apply.log"))?;
        py_apply_code = code;
        env.mutate(s)?;
        env.dump(s, &logs.join("cluster-after-py.json"))?;
        let (_, py_again) = env.python(s, true, &logs.join("py-after-py.log"))?;
        let (_, reasons) = env.ours(s, true, &logs.join("ours-after-py.log"))?;
        let ours = planned_actions(&reasons);
        if ours != py_again {
            diffs.push(format!(
                "after the Python tool applied, ours plans: {}{}",
                show_with_reasons(&ours, &reasons),
                if py_again.is_empty() {
                    String::new()
                } else {
                    format!(" (the Python tool itself plans: {})", show(&py_again))
                }
            ));
        } else if !py_again.is_empty() {
            notes.push(format!(
                "after the Python tool applied, both plan again: {}",
                show_with_reasons(&ours, &reasons)
            ));
        }
    }

    // 3. after ours applied (fresh cluster, before applied by ours), the Python tool plans
    //    nothing (or exactly what ours plans again)
    {
        let _kube = env.fresh_cluster(s, &logs.join("kube-3.log"))?;
        if let Some(before) = &before {
            env.serve(before)?;
            let (code, _) = env.ours(s, false, &logs.join("ours-before-apply.log"))?;
            if code != 0 {
                diffs.push(format!("setup: our apply of before/ exited {code}"));
            }
        }
        env.serve(&after)?;
        let (our_apply_code, _) = env.ours(s, false, &logs.join("ours-apply.log"))?;
        if our_apply_code != py_apply_code {
            diffs.push(format!(
                "apply exit codes differ: Python {py_apply_code}, ours {our_apply_code}"
            ));
        }
        env.mutate(s)?;
        env.dump(s, &logs.join("cluster-after-ours.json"))?;
        let (_, reasons) = env.ours(s, true, &logs.join("ours-after-ours.log"))?;
        let ours_again = planned_actions(&reasons);
        let (_, py) = env.python(s, true, &logs.join("py-after-ours.log"))?;
        if py != ours_again {
            diffs.push(format!(
                "after ours applied, the Python tool plans: {}{}",
                show(&py),
                if ours_again.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (ours itself plans: {})",
                        show_with_reasons(&ours_again, &reasons)
                    )
                }
            ));
        } else if !py.is_empty() {
            notes.push(format!(
                "after ours applied, both plan again: {}",
                show(&py)
            ));
        }
    }
    Ok((diffs, planned, notes))
}

/// Fields 0.10.1 queries that the current upstream GraphQL schema no longer has:
/// (type, field line inserted after the line starting with `after`). The User fragment of
/// 0.10.1 (`openshift-groups`, `openshift-users`) queries `slack_username`; current upstream
/// queries it nowhere and its `User_v1` has no such field, so without it 0.10.1 fails with
/// `Cannot query field "slack_username" on type "User_v1"`. The data never sets them (null).
const PEER_FIELDS: &[(&str, &str, &str)] = &[(
    "User_v1",
    "  - { name: github_username,",
    "  - { name: slack_username, type: string }",
)];

/// The GraphQL schema the bundles are built with: `schema` plus [`PEER_FIELDS`] where
/// missing, written to `work/schema.yml`.
fn peer_schema(schema: &Path, work: &Path) -> Result<PathBuf> {
    let mut text =
        std::fs::read_to_string(schema).with_context(|| format!("reading {}", schema.display()))?;
    for (type_name, after, line) in PEER_FIELDS {
        let start = text
            .find(&format!("- name: {type_name}\n"))
            .with_context(|| format!("{}: type {type_name} missing", schema.display()))?;
        let end = text[start + 1..]
            .find("\n- name: ")
            .map_or(text.len(), |e| start + 1 + e);
        if text[start..end].contains(&line[..line.find(',').unwrap_or(line.len())]) {
            continue;
        }
        let at = text[start..end]
            .find(&format!("\n{after}"))
            .with_context(|| format!("{}: {type_name} has no `{after}`", schema.display()))?;
        let eol = text[start + at + 1..]
            .find('\n')
            .map_or(text.len(), |e| start + at + 1 + e);
        text.insert_str(eol, &format!("\n{line}"));
    }
    let file = work.join("schema.yml");
    std::fs::write(&file, text)?;
    Ok(file)
}

fn expected_differences() -> Result<BTreeMap<String, String>> {
    let file = suite_dir().join("expected-differences");
    let mut map = BTreeMap::new();
    for line in std::fs::read_to_string(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .lines()
    {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once(':').with_context(|| {
            format!(
                "{}: `<scenario>: <reason>` expected, got {line}",
                file.display()
            )
        })?;
        map.insert(name.trim().to_owned(), reason.trim().to_owned());
    }
    Ok(map)
}

fn run() -> Result<bool> {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let bin = std::env::current_exe()?
        .parent()
        .context("executable directory")?
        .to_owned();
    for b in [
        "qontract-reconcile",
        "qontract-server",
        "qontract-bundler",
        "kube-testserver",
    ] {
        if !bin.join(b).is_file() {
            bail!(
                "{} missing: build it first (make compat does)",
                bin.join(b).display()
            );
        }
    }
    for tool in ["qontract-reconcile", "oc", "kubectl", "bao"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        if !found {
            bail!(
                "{tool} not on PATH: run scripts/install-compat-peer.sh and put the directory it prints first on PATH (make compat does)"
            );
        }
    }
    let schema = std::env::var_os("QONTRACT_COMPAT_GRAPHQL_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            workspace()
                .join("../shared/upstream-schemas/qontract-schemas/graphql-schemas/schema.yml")
        });
    if !schema.is_file() {
        bail!("GraphQL schema {} missing", schema.display());
    }
    let expected = expected_differences()?;
    let mut scenarios = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(suite_dir().join("scenarios"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let s = load_scenario(&dir)?;
        if only.is_empty() || only.contains(&s.name) {
            scenarios.push(s);
        }
    }
    for name in expected.keys() {
        if !suite_dir().join("scenarios").join(name).is_dir() {
            bail!("expected-differences names an unknown scenario {name}");
        }
    }

    // one directory per run (runs may overlap); those of finished runs are removed
    let root = workspace().join("target/compat");
    std::fs::create_dir_all(&root)?;
    for entry in std::fs::read_dir(&root)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("run-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let work = root.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let schema = peer_schema(&schema, &work)?;
    let mut env = Env::start(bin, work.clone(), schema)?;
    for s in &scenarios {
        for (path, data) in &s.vault {
            // an object is version 1; a list of objects, versions 1, 2, ...
            let versions = match data {
                Value::Array(list) => list.clone(),
                other => vec![other.clone()],
            };
            for data in &versions {
                let data = data.as_object().with_context(|| {
                    format!(
                        "{}: vault.{path} must be an object or a list of objects",
                        s.name
                    )
                })?;
                env.vault.kv_put(path, data)?;
            }
        }
    }

    let (mut identical, mut expected_seen, mut failed) = (0, 0, Vec::new());
    for s in &scenarios {
        let started = Instant::now();
        let (diffs, planned, notes) = run_scenario(&mut env, s).unwrap_or_else(|e| {
            (
                vec![format!("harness error: {e:#}")],
                "?".into(),
                Vec::new(),
            )
        });
        let secs = started.elapsed().as_secs();
        match (diffs.is_empty(), expected.get(&s.name)) {
            (true, None) => {
                identical += 1;
                println!("ok       {} ({} s): both plan {}", s.name, secs, planned);
                for n in &notes {
                    println!("           note: {n}");
                }
            }
            (false, Some(reason)) => {
                expected_seen += 1;
                println!("expected {} ({} s): {}", s.name, secs, reason);
                for d in &diffs {
                    println!("           {d}");
                }
            }
            (true, Some(_)) => {
                println!(
                    "FAILED   {} ({} s): listed in expected-differences but identical",
                    s.name, secs
                );
                failed.push(s.name.clone());
            }
            (false, None) => {
                println!("FAILED   {} ({} s):", s.name, secs);
                for d in &diffs {
                    println!("           {d}");
                }
                failed.push(s.name.clone());
            }
        }
        let _ = std::io::stdout().flush();
    }
    if !failed.is_empty() {
        println!(
            "failed: {} (logs: {})",
            failed.join(", "),
            work.join("logs").display()
        );
    }
    println!(
        "compat: {} scenarios, {} identical, {} expected differences",
        scenarios.len(),
        identical,
        expected_seen
    );
    Ok(failed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_action_lines() {
        let log = "[2026-12-06 20:00:06] [INFO] [DRY-RUN] [openshift_base.py:apply:390] - ['apply', 'privileged=False', 'compat', 'compat-res', 'ConfigMap', 'settings']\n\
                   [2026-12-06 20:00:06] [INFO] [DRY-RUN] [openshift_base.py:delete:555] - ['delete', 'privileged=False', 'compat', 'compat-res', 'PrometheusRule.monitoring.coreos.com', 'old']\n\
                   [2026-12-06 20:00:06] [INFO] [DRY-RUN] [x.py:f:1] - ['collecting', 'compat', 'ns', 'Kind', 'n']";
        let got = python_actions("openshift-resources", log);
        assert_eq!(
            show(&got),
            "apply ConfigMap compat-res/settings, delete PrometheusRule compat-res/old"
        );
        let ns = "[2026] [INFO] [DRY-RUN] [openshift_namespaces.py:manage_namespaces:121] - ['create', 'compat', 'compat-a']";
        assert_eq!(
            show(&python_actions("openshift-namespaces", ns)),
            "create Namespace compat-a"
        );
    }

    #[test]
    fn parses_group_and_user_actions() {
        let log = "[t] [INFO] [DRY-RUN] [openshift_groups.py:run:290] - ['create_group', 'compat', 'devs', None]\n\
                   [t] [INFO] [DRY-RUN] [openshift_groups.py:run:290] - ['add_user_to_group', 'compat', 'devs', 'ada-gh']\n\
                   [t] [INFO] [DRY-RUN] [openshift_groups.py:run:290] - ['del_user_from_group', 'compat', 'ops', 'bob']";
        let py = python_actions("openshift-groups", log);
        assert_eq!(
            show(&py),
            "add_user_to_group Group compat/devs/ada-gh, create_group Group compat/devs, del_user_from_group Group compat/ops/bob"
        );
        let plan = serde_json::json!([
            {"action": "create_group", "cluster": "compat", "group": "devs", "user": null},
            {"action": "del_user_from_group", "cluster": "compat", "group": "ops", "user": "bob"},
            {"action": "add_user_to_group", "cluster": "compat", "group": "devs", "user": "ada-gh"},
        ]);
        assert_eq!(planned_actions(&our_actions("openshift-groups", &plan)), py);
        let log =
            "[t] [INFO] [DRY-RUN] [openshift_users.py:run:197] - ['del_user', 'compat', 'bob']";
        let py = python_actions("openshift-users", log);
        assert_eq!(show(&py), "del_user User compat/bob");
        let plan = serde_json::json!([{"action": "del_user", "cluster": "compat", "user": "bob"}]);
        assert_eq!(planned_actions(&our_actions("openshift-users", &plan)), py);
    }

    #[test]
    fn adds_the_fields_the_peer_queries() {
        let dir = std::env::temp_dir().join(format!("compat-schema-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let schema = dir.join("in.yml");
        std::fs::write(
            &schema,
            "confs:\n- name: User_v1\n  fields:\n  - { name: name, type: string }\n  - { name: github_username, type: string, isRequired: true }\n  - { name: quay_username, type: string }\n- name: Role_v1\n  fields:\n  - { name: name, type: string }\n",
        )
        .unwrap();
        let out = std::fs::read_to_string(peer_schema(&schema, &dir).unwrap()).unwrap();
        assert!(out.contains(
            "isRequired: true }\n  - { name: slack_username, type: string }\n  - { name: quay_username"
        ));
        // idempotent
        std::fs::write(&schema, &out).unwrap();
        let again = std::fs::read_to_string(peer_schema(&schema, &dir).unwrap()).unwrap();
        assert_eq!(again, out);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn deletes_disabled_by_errors_are_not_actions() {
        let log = "[t] [INFO] [DRY-RUN] [openshift_base.py:delete:555] - ['delete', 'privileged=False', 'compat', 'ns', 'ConfigMap', 'old']\n\
                   [t] [ERROR] [DRY-RUN] [openshift_base.py:delete:565] - 'delete' action is disabled due to previous errors.";
        assert!(python_actions("openshift-resources", log).is_empty());
        let plan = serde_json::json!({"deletion_enabled": false, "actions": [
            {"action": "delete", "namespace": "ns", "resource_type": "ConfigMap", "name": "old"},
        ]});
        assert!(planned_actions(&our_actions("openshift-resources", &plan)).is_empty());
    }

    #[test]
    fn normalises_our_plan() {
        let plan = serde_json::json!({"actions": [
            {"action": "update", "cluster": "c", "namespace": "n", "resource_type": "ConfigMap", "name": "a"},
            {"action": "no_op", "cluster": "c", "namespace": "n", "resource_type": "ConfigMap", "name": "b"},
        ]});
        let ours = our_actions("openshift-resources", &plan);
        let keys = planned_actions(&ours);
        assert_eq!(show(&keys), "apply ConfigMap n/a");
    }
}
