//! `vault-replication` scenarios: the harness OpenBao is the source; each tool gets its own
//! fresh destination OpenBao dev server (AppRole login with fixed credentials stored on the
//! source). Compared: both dry-run plans (the Python tool's `['replicate_vault_secret', …]` log
//! lines vs our `--output json` plan), the destinations' state after each tool's wet run (every
//! secret's version list and data), and that after either tool applied the other plans the
//! same (nothing). With `replication.bump` the source is then changed and everything is
//! compared again on the same destinations.
//!
//! `scenario.json` `replication`: `{"source": [op], "destination": [op], "bump": [op]}`, an op
//! being `{"put": "<mount>/<path>", "data": {…}}` (`bao kv put`: KV v1 or v2 by mount) or
//! `{"delete": "<mount>/<path>", "versions": [n]}` (`bao kv delete -versions`). The source has
//! a KV v1 mount `legacy/` besides the dev server's KV v2 `secret/`; so has each destination.
//! In `data/`, `@SOURCE_VAULT@` and `@DEST_VAULT@` are the Vault addresses; the source and
//! destination AppRole credentials are at `creds/replication/{source,dest}` (KV v1:
//! `role_id`, `secret_id`), also on KV v2 at `secret/compat/replication/{source,dest}`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use qontract_compat::services::OpenBao;

use super::{Env, Scenario, bao_cmd, copy_tree, python_list, replace_in_tree, text};

const DEST_ROLE_ID: &str = "compat-replication-dest-role";
const DEST_SECRET_ID: &str = "compat-replication-dest-secret";

/// Read access to everything replicated (source), write access on the destination: what the
/// upstream replication AppRoles have (KV v2 data/metadata, the mount's config, KV v1).
const SOURCE_POLICY: &str = "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\npath \"legacy/*\" { capabilities = [\"read\", \"list\"] }\n";
const DEST_POLICY: &str = "path \"secret/data/*\" { capabilities = [\"create\", \"update\", \"read\"] }\npath \"secret/metadata/*\" { capabilities = [\"read\", \"list\"] }\npath \"secret/config\" { capabilities = [\"read\"] }\npath \"legacy/*\" { capabilities = [\"create\", \"update\", \"read\", \"list\"] }\n";

/// One replication action: (`copy`|`dummy`, path, version or `-` for KV v1).
type Write = (String, String, String);

struct Dest {
    port: u16,
    _vault: OpenBao,
}

impl Dest {
    fn start(work: &Path, name: &str, ops: &[Value]) -> Result<Dest> {
        let home = work.join(format!("dest-{name}"));
        let _ = std::fs::remove_dir_all(&home);
        let vault = OpenBao::start(&home, super::BAO_ROOT).context("destination OpenBao")?;
        let port = vault.port;
        let dest = Dest {
            port,
            _vault: vault,
        };
        let bao = |args: &[&str]| bao_cmd(port, args);
        bao(&["secrets", "enable", "-path=legacy", "-version=1", "kv"])?;
        bao(&["auth", "enable", "approle"])?;
        let policy = home.join("policy.hcl");
        std::fs::write(&policy, DEST_POLICY)?;
        bao(&[
            "policy",
            "write",
            "replicator",
            &policy.display().to_string(),
        ])?;
        bao(&[
            "write",
            "auth/approle/role/replicator",
            "token_policies=replicator",
            "token_ttl=1h",
        ])?;
        bao(&[
            "write",
            "auth/approle/role/replicator/role-id",
            &format!("role_id={DEST_ROLE_ID}"),
        ])?;
        bao(&[
            "write",
            "auth/approle/role/replicator/custom-secret-id",
            &format!("secret_id={DEST_SECRET_ID}"),
        ])?;
        apply_ops(port, &home, ops).context("seeding the destination")?;
        Ok(dest)
    }
}

/// Source setup (once per run; repeated calls are harmless): the KV v1 mount, the replication
/// AppRole and both credential secrets.
fn setup_source(env: &Env) -> Result<()> {
    let _ = env.bao(&["secrets", "enable", "-path=legacy", "-version=1", "kv"]);
    // 0.10.1 `get_vault_credentials` reads the credentials without a version, which fails on
    // KV v2 (`SecretVersionIsNone`): keep them on a KV v1 mount the harness AppRole can read
    let _ = env.bao(&["secrets", "enable", "-path=creds", "-version=1", "kv"]);
    let compat = env.work.join("policy.hcl");
    std::fs::write(
        &compat,
        "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\npath \"creds/*\" { capabilities = [\"read\"] }\n",
    )?;
    env.bao(&["policy", "write", "compat", &compat.display().to_string()])?;
    let policy = env.work.join("replication-source.hcl");
    std::fs::write(&policy, SOURCE_POLICY)?;
    env.bao(&[
        "policy",
        "write",
        "replication-source",
        &policy.display().to_string(),
    ])?;
    env.bao(&[
        "write",
        "auth/approle/role/replication-source",
        "token_policies=replication-source",
        "token_ttl=1h",
    ])?;
    let role_id = env.bao(&[
        "read",
        "-field=role_id",
        "auth/approle/role/replication-source/role-id",
    ])?;
    let secret_id = env.bao(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle/role/replication-source/secret-id",
    ])?;
    let creds = |role: &str, secret: &str| {
        let mut m = serde_json::Map::new();
        m.insert("role_id".into(), role.trim().into());
        m.insert("secret_id".into(), secret.trim().into());
        m
    };
    for (path, data) in [
        ("creds/replication/source", creds(&role_id, &secret_id)),
        (
            "creds/replication/dest",
            creds(DEST_ROLE_ID, DEST_SECRET_ID),
        ),
    ] {
        let op = serde_json::json!({"put": path, "data": data});
        apply_ops(env.vault.port, &env.work, &[op])?;
        // the same on KV v2, read unpinned by `vault-replication-creds-kv2`
        let op = serde_json::json!({"put": path.replace("creds/", "secret/compat/"), "data": data});
        apply_ops(env.vault.port, &env.work, &[op])?;
    }
    Ok(())
}

fn apply_ops(port: u16, tmp: &Path, ops: &[Value]) -> Result<()> {
    for op in ops {
        if let Some(path) = op["put"].as_str() {
            let file = tmp.join("op.json");
            std::fs::write(&file, op["data"].to_string())?;
            bao_cmd(port, &["kv", "put", path, &format!("@{}", file.display())])
                .with_context(|| format!("writing {path}"))?;
        } else if let Some(path) = op["delete"].as_str() {
            let versions: Vec<String> = op["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Value::to_string)
                .collect();
            bao_cmd(
                port,
                &[
                    "kv",
                    "delete",
                    &format!("-versions={}", versions.join(",")),
                    path,
                ],
            )
            .with_context(|| format!("deleting {path}"))?;
        } else {
            bail!("replication op {op}: `put` or `delete` expected");
        }
    }
    Ok(())
}

/// Lists every key under `dir` (ending in `/`) of `mount`, recursively.
fn walk(port: u16, dir: &str, out: &mut Vec<String>) {
    let Ok(listing) = bao_cmd(port, &["kv", "list", "-format=json", dir]) else {
        return;
    };
    let keys: Vec<String> = serde_json::from_str(&listing).unwrap_or_default();
    for k in keys {
        let full = format!("{dir}{k}");
        if k.ends_with('/') {
            walk(port, &full, out);
        } else {
            out.push(full);
        }
    }
}

/// Every secret of a Vault: KV v2 paths with each version's data (or its deletion), KV v1
/// paths with their data.
fn dump(port: u16) -> Result<BTreeMap<String, Value>> {
    let mut state = BTreeMap::new();
    let mut paths = Vec::new();
    walk(port, "secret/", &mut paths);
    for path in paths {
        if path.starts_with("secret/compat/") {
            continue;
        }
        let meta: Value = serde_json::from_str(&bao_cmd(
            port,
            &["kv", "metadata", "get", "-format=json", &path],
        )?)?;
        let current = meta["data"]["current_version"].as_u64().unwrap_or(0);
        let mut versions = Vec::new();
        for v in 1..=current {
            let info = &meta["data"]["versions"][v.to_string()];
            let deleted = info["deletion_time"]
                .as_str()
                .is_some_and(|t| !t.is_empty());
            let data = if deleted || info["destroyed"].as_bool() == Some(true) {
                Value::String("(deleted)".into())
            } else {
                let got: Value = serde_json::from_str(&bao_cmd(
                    port,
                    &["kv", "get", "-format=json", &format!("-version={v}"), &path],
                )?)?;
                got["data"]["data"].clone()
            };
            versions.push(data);
        }
        state.insert(path, Value::Array(versions));
    }
    let mut paths = Vec::new();
    walk(port, "legacy/", &mut paths);
    for path in paths {
        let got: Value =
            serde_json::from_str(&bao_cmd(port, &["kv", "get", "-format=json", &path])?)?;
        state.insert(path, got["data"].clone());
    }
    Ok(state)
}

/// The writes of a Python run: `['replicate_vault_secret', version, path]` (upstream
/// `deep_copy_versions`), `[…, 'generate_dummy_data', version, path]`
/// (`write_dummy_versions`), `[…, path]` (KV v1 copy in `copy_vault_secret`).
fn python_writes(log: &str) -> BTreeSet<Write> {
    let mut writes = BTreeSet::new();
    for line in log.lines() {
        let Some((_, message)) = line.split_once("] - ") else {
            continue;
        };
        let Some(items) = python_list(message) else {
            continue;
        };
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        match items.as_slice() {
            ["replicate_vault_secret", "generate_dummy_data", v, path] => {
                writes.insert(("dummy".into(), (*path).into(), (*v).into()));
            }
            ["replicate_vault_secret", v, path] if v.chars().all(|c| c.is_ascii_digit()) => {
                writes.insert(("copy".into(), (*path).into(), (*v).into()));
            }
            ["replicate_vault_secret", path] => {
                writes.insert(("copy".into(), (*path).into(), "-".into()));
            }
            _ => {}
        }
    }
    writes
}

/// The writes of our JSON plan: each secret's `action` (`copy` (KV v1), `copy version N`,
/// `copy versions A..B (dummy: X, Y)`).
fn our_writes(plan: &Value) -> Result<BTreeSet<Write>> {
    let mut writes = BTreeSet::new();
    for r in plan["replications"].as_array().into_iter().flatten() {
        for s in r["secrets"].as_array().into_iter().flatten() {
            let path = s["path"].as_str().context("secret without path")?;
            let action = s["action"].as_str().context("secret without action")?;
            let (copy, dummies) = match action.split_once(" (dummy: ") {
                Some((c, d)) => (
                    c,
                    d.trim_end_matches(')')
                        .split(", ")
                        .map(str::to_owned)
                        .collect::<BTreeSet<_>>(),
                ),
                None => (action, BTreeSet::new()),
            };
            let range = if copy == "copy" {
                None
            } else if let Some(v) = copy.strip_prefix("copy version ") {
                Some((v.parse::<u64>()?, v.parse::<u64>()?))
            } else if let Some((a, b)) = copy
                .strip_prefix("copy versions ")
                .and_then(|r| r.split_once(".."))
            {
                Some((a.parse()?, b.parse()?))
            } else {
                bail!("unknown action {action} for {path}");
            };
            match range {
                None => {
                    writes.insert(("copy".into(), path.into(), "-".into()));
                }
                Some((a, b)) => {
                    for v in a..=b {
                        let v = v.to_string();
                        let kind = if dummies.contains(&v) {
                            "dummy"
                        } else {
                            "copy"
                        };
                        writes.insert((kind.into(), path.into(), v));
                    }
                }
            }
        }
    }
    Ok(writes)
}

fn show(writes: &BTreeSet<Write>) -> String {
    if writes.is_empty() {
        return "nothing".into();
    }
    writes
        .iter()
        .map(|(k, p, v)| format!("{k} {p}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn python(env: &Env, dry_run: bool, log: &Path) -> Result<(i32, BTreeSet<Write>)> {
    let mut cmd = Command::new("qontract-reconcile");
    cmd.arg("--config").arg(&env.config);
    if dry_run {
        cmd.arg("--dry-run");
    }
    cmd.arg("vault-replication")
        .env_remove("USE_NATIVE_CLIENT")
        .env("HOME", &env.work)
        .current_dir(&env.work);
    let out = cmd
        .output()
        .context("running the Python qontract-reconcile")?;
    std::fs::write(log, text(&out))?;
    Ok((
        out.status.code().unwrap_or(-1),
        python_writes(&String::from_utf8_lossy(&out.stderr)),
    ))
}

fn ours(env: &Env, dry_run: bool, log: &Path) -> Result<(i32, BTreeSet<Write>)> {
    let mut cmd = Command::new(env.bin.join("qontract-reconcile"));
    cmd.arg("--config").arg(&env.config);
    if dry_run {
        cmd.args(["--dry-run", "--output", "json"]);
    }
    cmd.arg("vault-replication");
    let out = cmd.output().context("running our qontract-reconcile")?;
    std::fs::write(log, text(&out))?;
    let code = out.status.code().unwrap_or(-1);
    if !dry_run {
        return Ok((code, BTreeSet::new()));
    }
    let plan: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("our plan is not JSON; see {}", log.display()))?;
    Ok((code, our_writes(&plan)?))
}

/// Runs one `vault-replication` scenario; returns (differences, the Python tool's first plan,
/// notes) like `run_scenario`.
pub(super) fn run_scenario(
    env: &mut Env,
    s: &Scenario,
) -> Result<(Vec<String>, String, Vec<String>)> {
    let logs = env.work.join("logs").join(&s.name);
    std::fs::create_dir_all(&logs)?;
    let file = s.dir.join("scenario.json");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)
        .with_context(|| format!("parsing {}", file.display()))?;
    let ops = |k: &str| {
        spec["replication"][k]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    setup_source(env)?;
    apply_ops(env.vault.port, &env.work, &ops("source")).context("seeding the source")?;
    let dest_py = Dest::start(&env.work, &format!("{}-py", s.name), &ops("destination"))?;
    let dest_ours = Dest::start(&env.work, &format!("{}-ours", s.name), &ops("destination"))?;
    let bundle_for = |env: &Env, who: &str, dest: &Dest| -> Result<PathBuf> {
        let dir = env
            .work
            .join("trees")
            .join(format!("{}-{who}-overlay", s.name));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["data", "resources"] {
            if s.dir.join(sub).is_dir() {
                copy_tree(&s.dir.join(sub), &dir.join(sub))?;
            }
        }
        replace_in_tree(&dir, "@SOURCE_VAULT@", &env.vault.addr())?;
        replace_in_tree(
            &dir,
            "@DEST_VAULT@",
            &format!("http://127.0.0.1:{}", dest.port),
        )?;
        env.bundle(&format!("{}-{who}", s.name), &dir)
    };
    let bundle_py = bundle_for(env, "py", &dest_py)?;
    let bundle_ours = bundle_for(env, "ours", &dest_ours)?;
    let mut diffs = Vec::new();
    let mut notes = Vec::new();
    let mut planned = String::new();
    let bump = ops("bump");
    let stages: &[&str] = if bump.is_empty() {
        &["fresh"]
    } else {
        &["fresh", "bump"]
    };
    for stage in stages {
        if *stage == "bump" {
            apply_ops(env.vault.port, &env.work, &bump).context("bumping the source")?;
        }
        let log = |n: &str| logs.join(format!("{stage}-{n}.log"));
        // both destinations are alike here: compare the dry runs on the Python one
        env.serve(&bundle_py)?;
        let (py_code, py) = python(env, true, &log("py-dry-run"))?;
        let (our_code, our) = ours(env, true, &log("ours-dry-run"))?;
        if planned.is_empty() {
            planned = show(&py);
        } else {
            planned.push_str(&format!("; after the bump {}", show(&py)));
        }
        if py != our {
            diffs.push(format!(
                "{stage}: dry-run plans differ: only Python: {}; only ours: {}",
                show(&py.difference(&our).cloned().collect()),
                show(&our.difference(&py).cloned().collect())
            ));
        }
        if py_code != s.exit {
            diffs.push(format!(
                "{stage}: setup: the Python tool's dry-run exited {py_code}, the scenario expects {} (see {})",
                s.exit,
                log("py-dry-run").display()
            ));
        }
        if py_code != our_code {
            diffs.push(format!(
                "{stage}: dry-run exit codes differ: Python {py_code}, ours {our_code}"
            ));
        }
        // each tool applies on its own destination
        let (py_apply, _) = python(env, false, &log("py-apply"))?;
        env.serve(&bundle_ours)?;
        let (our_apply, _) = ours(env, false, &log("ours-apply"))?;
        if py_apply != our_apply {
            diffs.push(format!(
                "{stage}: apply exit codes differ: Python {py_apply}, ours {our_apply}"
            ));
        }
        let state_py = dump(dest_py.port)?;
        let state_ours = dump(dest_ours.port)?;
        std::fs::write(
            log("dest-after-py").with_extension("json"),
            serde_json::to_string_pretty(&state_py)?,
        )?;
        std::fs::write(
            log("dest-after-ours").with_extension("json"),
            serde_json::to_string_pretty(&state_ours)?,
        )?;
        if state_py != state_ours {
            let paths: BTreeSet<&String> = state_py.keys().chain(state_ours.keys()).collect();
            let differing: Vec<&str> = paths
                .into_iter()
                .filter(|p| state_py.get(*p) != state_ours.get(*p))
                .map(String::as_str)
                .collect();
            diffs.push(format!(
                "{stage}: the destinations differ after the applies at {} (see {})",
                differing.join(", "),
                logs.display()
            ));
        }
        // after either tool applied, the other plans what the applying tool plans (nothing)
        for (who, bundle) in [("py", &bundle_py), ("ours", &bundle_ours)] {
            env.serve(bundle)?;
            let (_, py_again) = python(env, true, &log(&format!("py-after-{who}")))?;
            let (_, our_again) = ours(env, true, &log(&format!("ours-after-{who}")))?;
            let applied = if who == "py" {
                "the Python tool"
            } else {
                "ours"
            };
            if py_again != our_again {
                diffs.push(format!(
                    "{stage}: after {applied} applied, the Python tool plans {}, ours {}",
                    show(&py_again),
                    show(&our_again)
                ));
            } else if !py_again.is_empty() {
                notes.push(format!(
                    "{stage}: after {applied} applied, both plan again: {}",
                    show(&py_again)
                ));
            }
        }
    }
    Ok((diffs, planned, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_replication_lines() {
        let log = "\
[2026-12-06 21:02:00] [INFO] [DRY-RUN] [vault_replication.py:copy_vault_secret:160] - ['replicate_vault_secret', 'Secret not found', 'legacy/team/token']
[2026-12-06 21:02:00] [INFO] [DRY-RUN] [vault_replication.py:copy_vault_secret:163] - ['replicate_vault_secret', 'legacy/team/token']
[2026-12-06 21:02:03] [ERROR] [DRY-RUN] [vault_replication.py:copy_vault_secret:130] - ['replicate_vault_secret', 'no versions found for secret', 'legacy/team/missing']
[2026-12-06 21:02:12] [INFO] [DRY-RUN] [vault_replication.py:deep_copy_versions:83] - ['replicate_vault_secret', 1, 'secret/app/db']
[2026-12-06 21:02:15] [INFO] [DRY-RUN] [vault_replication.py:write_dummy_versions:102] - ['replicate_vault_secret', 'generate_dummy_data', 2, 'secret/app/db']
[2026-12-06 21:02:15] [INFO] [DRY-RUN] [vault_replication.py:deep_copy_versions:83] - ['replicate_vault_secret', 3, 'secret/app/db']
";
        let plan = serde_json::json!({"replications": [{"secrets": [
            {"path": "legacy/team/token", "action": "copy"},
            {"path": "secret/app/db", "action": "copy versions 1..3 (dummy: 2)"},
        ]}]});
        let ours = our_writes(&plan).unwrap();
        assert_eq!(python_writes(log), ours);
        assert_eq!(
            show(&ours),
            "copy legacy/team/token@-, copy secret/app/db@1, copy secret/app/db@3, dummy secret/app/db@2"
        );
    }
}
