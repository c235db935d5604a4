//! `cargo xtask bench-e2e` (`make bench-e2e SIZE=small|medium|large`): ours and the Python
//! qontract-reconcile 0.10.1 side by side on one generated app-interface.
//!
//! Generates the data set ([`crate::gen_app_interface`]), starts one loopback API server
//! (`kube-testserver`, HTTPS, every generated cluster points at it; namespace names are unique
//! across clusters), an OpenBao dev server (cluster token, AppRole login, as the differential
//! suite) and our `qontract-server` over the bundle, then:
//!
//! 1. converges the cluster with ours (wet `openshift-namespaces`, wet `openshift-resources`:
//!    the wet apply rate of a fresh cluster, all clusters);
//! 2. times dry runs of `openshift-resources` and `openshift-namespaces` of both tools on the
//!    converged cluster (`--runs`, default 3: wall is the median, RSS the maximum);
//! 3. on a fresh cluster, the wet apply rate of both tools on a sample (the first cluster
//!    only: the Python tool runs one `oc apply` subprocess per object).
//!
//! Wall and peak RSS come from `/usr/bin/time` (wait4 rusage of the tool's process tree),
//! API requests and connections (TLS handshakes) from the server's counters
//! (`/debug/kube-testserver/stats`). Prints one table; nothing asserts a time.
//!
//! The Python tool is found on `PATH` with its `oc`/`amtool` shims, installed by
//! `scripts/install-compat-peer.sh` (the differential suite's peer, same venv); our binaries in
//! `--bin-dir` (default `target/release`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::gen_app_interface::{self as gen_ai, OBJECTS_PER_NAMESPACE, Size, Target};

const KUBE_TOKEN: &str = "bench-token";
const BAO_ROOT: &str = "bench-root";
const TOKEN_PATH: &str = "secret/bench/cluster";

struct Options {
    size_name: String,
    size: Size,
    seed: u64,
    runs: usize,
    bin: PathBuf,
    latency_ms: u64,
    thread_pool_size: Option<usize>,
    python: bool,
    keep: bool,
}

/// A child process killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Proc> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let child = cmd
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Proc(child))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for(what: &str, proc: &mut Proc, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !ready() {
        if let Some(status) = proc.0.try_wait()? {
            bail!("{what} exited early ({status})");
        }
        if start.elapsed() > Duration::from_secs(120) {
            bail!("{what} not ready after 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One measured run of a tool.
#[derive(Debug, Clone, Default)]
struct Sample {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
    requests: u64,
    connections: u64,
    exit: i32,
    changes: usize,
}

struct Bench {
    opts: Options,
    work: PathBuf,
    kube_port: u16,
    bao_port: u16,
    config: PathBuf,
    kube: Option<Proc>,
    _bao: Proc,
    _qs: Proc,
    namespaces_per_cluster: usize,
}

impl Bench {
    fn start_kube(&mut self, label: &str) -> Result<()> {
        self.kube = None; // stop the previous one (its port is reused)
        let log = self.work.join(format!("kube-testserver-{label}.log"));
        let mut cmd = Command::new(self.opts.bin.join("kube-testserver"));
        cmd.args(["--port", &self.kube_port.to_string(), "--token", KUBE_TOKEN])
            .arg("--kubeconfig")
            .arg(self.work.join("kubeconfig"));
        if self.opts.latency_ms > 0 {
            cmd.args(["--latency-ms", &self.opts.latency_ms.to_string()]);
        }
        let mut kube = None;
        for _ in 0..50 {
            let mut p = spawn("kube-testserver", &mut cmd, &log)?;
            std::thread::sleep(Duration::from_millis(200));
            if p.0.try_wait()?.is_none() {
                kube = Some(p);
                break;
            }
            // the port of the previous server may still be in TIME_WAIT/closing
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut kube = kube.context("kube-testserver did not start")?;
        wait_for("kube-testserver", &mut kube, || {
            std::fs::read_to_string(&log).is_ok_and(|l| l.contains("url: "))
        })?;
        self.kube = Some(kube);
        Ok(())
    }

    fn kubectl(&self) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.args([
            "--kubeconfig",
            "/dev/null",
            "--insecure-skip-tls-verify",
            "--server",
            &format!("https://127.0.0.1:{}", self.kube_port),
            "--token",
            KUBE_TOKEN,
        ]);
        cmd
    }

    /// (requests, connections) so far, this query's own connection included (not its request).
    fn stats(&self) -> Result<(u64, u64)> {
        let out = self
            .kubectl()
            .args(["get", "--raw", qontract_stats_path()])
            .output()
            .context("kubectl get --raw (stats)")?;
        if !out.status.success() {
            bail!("reading the server's stats: {}", output_text(&out));
        }
        let v: Value = serde_json::from_slice(&out.stdout).context("stats JSON")?;
        Ok((
            v["requests"].as_u64().unwrap_or_default(),
            v["connections"].as_u64().unwrap_or_default(),
        ))
    }

    fn bao(&self, args: &[&str]) -> Result<String> {
        bao_cmd(self.bao_port, args)
    }

    /// Runs one tool under `/usr/bin/time`, with the server's counters around it.
    fn measure(
        &self,
        label: &str,
        python: bool,
        dry_run: bool,
        integration: &str,
        extra: &[&str],
    ) -> Result<Sample> {
        let log = self.work.join(format!("{label}.log"));
        let timing = self.work.join(format!("{label}.time"));
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f").arg("%e %U %S %M").arg("-o").arg(&timing);
        if python {
            cmd.arg("qontract-reconcile");
        } else {
            cmd.arg(self.opts.bin.join("qontract-reconcile"));
        }
        cmd.arg("--config").arg(&self.config);
        if dry_run {
            cmd.arg("--dry-run");
            if !python {
                cmd.args(["--output", "json"]);
            }
        }
        cmd.arg(integration).args(extra);
        if let Some(n) = self.opts.thread_pool_size {
            cmd.args(["--thread-pool-size", &n.to_string()]);
        }
        if python {
            cmd.env_remove("USE_NATIVE_CLIENT").env("HOME", &self.work);
        }
        let (r0, c0) = self.stats()?;
        let out = cmd.output().with_context(|| format!("running {label}"))?;
        let (r1, c1) = self.stats()?;
        std::fs::write(&log, output_text(&out))?;
        let t = std::fs::read_to_string(&timing)
            .with_context(|| format!("reading {}", timing.display()))?;
        let f: Vec<f64> = t
            .lines()
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() < 4 {
            bail!("{label}: unexpected /usr/bin/time output {t:?}");
        }
        let changes = if python {
            python_changes(&String::from_utf8_lossy(&out.stderr))
        } else if dry_run {
            our_changes(&out.stdout)
        } else {
            0
        };
        let sample = Sample {
            wall: f[0],
            cpu: f[1] + f[2],
            rss_kib: f[3] as u64,
            requests: r1.saturating_sub(r0),
            // minus the connection of the second stats query
            connections: c1.saturating_sub(c0).saturating_sub(1),
            exit: out.status.code().unwrap_or(-1),
            changes,
        };
        eprintln!(
            "bench-e2e: {label}: {:.2} s wall, {:.2} s CPU, {} MiB, {} requests, {} connections, exit {}, {} changes (log {})",
            sample.wall,
            sample.cpu,
            sample.rss_kib / 1024,
            sample.requests,
            sample.connections,
            sample.exit,
            sample.changes,
            log.display()
        );
        Ok(sample)
    }
}

fn qontract_stats_path() -> &'static str {
    "/debug/kube-testserver/stats"
}

/// Planned changes in our `--output json` plan (create/update/apply/delete actions).
fn our_changes(stdout: &[u8]) -> usize {
    let Ok(plan) = serde_json::from_slice::<Value>(stdout) else {
        return 0;
    };
    plan["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| {
                    matches!(
                        x["action"].as_str(),
                        Some("create" | "update" | "apply" | "delete")
                    )
                })
                .count()
        })
        .unwrap_or_default()
}

/// The Python tool's `['apply'|'create'|'delete', ...]` action log lines.
fn python_changes(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| {
            l.contains("] - ['apply'") || l.contains("] - ['create'") || l.contains("] - ['delete'")
        })
        .count()
}

fn bao_cmd(port: u16, args: &[&str]) -> Result<String> {
    let addr = format!("http://127.0.0.1:{port}");
    let out = Command::new("bao")
        .args(args)
        .env("BAO_ADDR", &addr)
        .env("BAO_TOKEN", BAO_ROOT)
        .env("VAULT_ADDR", &addr)
        .env("VAULT_TOKEN", BAO_ROOT)
        .output()
        .context("running bao")?;
    if !out.status.success() {
        bail!("bao {}: {}", args.join(" "), output_text(&out));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn parse(args: &[String]) -> Result<Options> {
    let mut size_name = "small".to_string();
    let mut opts = Options {
        size_name: String::new(),
        size: Size::parse("small")?,
        seed: 1,
        runs: 3,
        bin: crate::workspace_root().join("target/release"),
        latency_ms: 0,
        thread_pool_size: None,
        python: true,
        keep: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--size" => size_name = value()?.clone(),
            "--seed" => opts.seed = value()?.parse().context("--seed")?,
            "--runs" => opts.runs = value()?.parse().context("--runs")?,
            "--bin-dir" => opts.bin = PathBuf::from(value()?),
            "--latency-ms" => opts.latency_ms = value()?.parse().context("--latency-ms")?,
            "--thread-pool-size" => {
                opts.thread_pool_size = Some(value()?.parse().context("--thread-pool-size")?)
            }
            "--no-python" => opts.python = false,
            "--keep" => opts.keep = true,
            other => bail!(
                "unknown argument {other} (usage: cargo xtask bench-e2e [--size small|medium|large] [--seed N] [--runs N] [--bin-dir DIR] [--latency-ms N] [--thread-pool-size N] [--no-python] [--keep])"
            ),
        }
    }
    opts.size = Size::parse(&size_name)?;
    opts.size_name = size_name;
    opts.runs = opts.runs.max(1);
    if !opts.bin.is_absolute() {
        opts.bin = std::env::current_dir()?.join(&opts.bin);
    }
    Ok(opts)
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    for b in [
        "qontract-reconcile",
        "qontract-server",
        "qontract-bundler",
        "kube-testserver",
    ] {
        if !opts.bin.join(b).is_file() {
            bail!(
                "{} missing: build with `cargo build --release -p qontract-reconcile -p qontract-server -p qontract-bundler -p qontract-kube-testserver` (or `make bench-e2e`)",
                opts.bin.join(b).display()
            );
        }
    }
    let work = crate::workspace_root()
        .join("target/bench-e2e")
        .join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    eprintln!("bench-e2e: work directory {}", work.display());
    run_in(opts, &work)
}

fn run_in(opts: Options, work: &Path) -> Result<()> {
    let kube_port = free_port()?;
    let bao_port = free_port()?;
    let qs_port = free_port()?;
    let server_url = format!("https://127.0.0.1:{kube_port}");

    // OpenBao with AppRole, as the differential suite
    let mut bao = spawn(
        "bao",
        Command::new("bao")
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={BAO_ROOT}"),
                &format!("-dev-listen-address=127.0.0.1:{bao_port}"),
            ])
            .env("HOME", work),
        &work.join("bao.log"),
    )?;
    wait_for("OpenBao", &mut bao, || {
        bao_cmd(bao_port, &["status"]).is_ok()
    })?;
    bao_cmd(bao_port, &["auth", "enable", "approle"])?;
    let policy = work.join("policy.hcl");
    std::fs::write(
        &policy,
        "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\n",
    )?;
    bao_cmd(
        bao_port,
        &["policy", "write", "bench", &policy.display().to_string()],
    )?;
    bao_cmd(
        bao_port,
        &[
            "write",
            "auth/approle/role/bench",
            "token_policies=bench",
            "token_ttl=4h",
        ],
    )?;
    let role_id = bao_cmd(
        bao_port,
        &["read", "-field=role_id", "auth/approle/role/bench/role-id"],
    )?;
    let secret_id = bao_cmd(
        bao_port,
        &[
            "write",
            "-f",
            "-field=secret_id",
            "auth/approle/role/bench/secret-id",
        ],
    )?;
    bao_cmd(
        bao_port,
        &[
            "kv",
            "put",
            "-mount=secret",
            TOKEN_PATH.trim_start_matches("secret/"),
            &format!("token={KUBE_TOKEN}"),
            &format!("server={server_url}"),
            "username=bench",
        ],
    )?;

    // the data set and its bundle
    let data = work.join("app-interface");
    let t = Instant::now();
    gen_ai::write(
        &data,
        opts.size,
        opts.seed,
        &Target {
            server_url: server_url.clone(),
            token_path: TOKEN_PATH.into(),
        },
    )?;
    let schema = crate::workspace_root()
        .join("../shared/upstream-schemas/qontract-schemas/graphql-schemas/schema.yml");
    let no_schemas = work.join("no-schemas");
    std::fs::create_dir_all(&no_schemas)?;
    let bundle = work.join("bundle.json");
    let out = Command::new(opts.bin.join("qontract-bundler"))
        .arg(&no_schemas)
        .arg(&schema)
        .arg(data.join("data"))
        .arg(data.join("resources"))
        .arg("b".repeat(40))
        .arg("1798000000")
        .stdout(Stdio::from(std::fs::File::create(&bundle)?))
        .stderr(Stdio::piped())
        .output()
        .context("running qontract-bundler")?;
    if !out.status.success() {
        bail!("bundling: {}", String::from_utf8_lossy(&out.stderr));
    }
    eprintln!(
        "bench-e2e: generated and bundled {} ({} objects) in {:.1} s",
        opts.size_name,
        opts.size.objects(),
        t.elapsed().as_secs_f64()
    );

    let mut qs = spawn(
        "qontract-server",
        Command::new(opts.bin.join("qontract-server"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{qs_port}"))
            .arg("--datafiles-file")
            .arg(&bundle),
        &work.join("qontract-server.log"),
    )?;
    wait_for("qontract-server", &mut qs, || {
        std::net::TcpStream::connect(("127.0.0.1", qs_port)).is_ok()
    })?;
    let config = work.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[graphql]\nserver = \"http://127.0.0.1:{qs_port}/graphql\"\n\n[vault]\nserver = \"http://127.0.0.1:{bao_port}\"\nrole_id = \"{}\"\nsecret_id = \"{}\"\n",
            role_id.trim(),
            secret_id.trim()
        ),
    )?;

    let mut b = Bench {
        namespaces_per_cluster: opts.size.namespaces,
        opts,
        work: work.to_path_buf(),
        kube_port,
        bao_port,
        config,
        kube: None,
        _bao: bao,
        _qs: qs,
    };
    let _ = b.bao(&["status"])?;
    let objects = b.opts.size.objects();
    let namespaces = b.opts.size.clusters * b.opts.size.namespaces;

    // 1. converge a fresh cluster with ours (all clusters)
    b.start_kube("main")?;
    let ns_wet = b.measure(
        "ours-namespaces-wet",
        false,
        false,
        "openshift-namespaces",
        &[],
    )?;
    let res_wet = b.measure(
        "ours-resources-wet",
        false,
        false,
        "openshift-resources",
        &[],
    )?;
    if ns_wet.exit != 0 || res_wet.exit != 0 {
        bail!(
            "converging with ours failed; see the logs in {}",
            b.work.display()
        );
    }

    // 2. dry runs on the converged cluster
    let mut rows: Vec<(String, Vec<Sample>, Vec<Sample>)> = Vec::new();
    for integration in ["openshift-resources", "openshift-namespaces"] {
        let mut ours = Vec::new();
        let mut python = Vec::new();
        for i in 0..b.opts.runs {
            ours.push(b.measure(
                &format!("ours-{integration}-dry-{i}"),
                false,
                true,
                integration,
                &[],
            )?);
            if b.opts.python {
                python.push(b.measure(
                    &format!("python-{integration}-dry-{i}"),
                    true,
                    true,
                    integration,
                    &[],
                )?);
            }
        }
        rows.push((integration.to_string(), ours, python));
    }

    // 3. wet apply rate of both tools on a fresh cluster, first cluster only
    let sample_cluster = gen_ai::cluster_name(0);
    let sample_objects = b.namespaces_per_cluster * OBJECTS_PER_NAMESPACE;
    let mut wet_sample: Vec<(String, Sample)> = Vec::new();
    let tools: &[bool] = if b.opts.python {
        &[false, true]
    } else {
        &[false]
    };
    for &python in tools {
        let who = if python { "python" } else { "ours" };
        b.start_kube(&format!("{who}-sample"))?;
        let ns = b.measure(
            &format!("ours-sample-namespaces-for-{who}"),
            false,
            false,
            "openshift-namespaces",
            &["--cluster-name", &sample_cluster],
        )?;
        if ns.exit != 0 {
            bail!("creating the sample's namespaces failed");
        }
        let s = b.measure(
            &format!("{who}-sample-resources-wet"),
            python,
            false,
            "openshift-resources",
            &["--cluster-name", &sample_cluster],
        )?;
        wet_sample.push((who.to_string(), s));
    }
    b.kube = None;

    // the table
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut t = String::new();
    let w = &mut t;
    writeln!(
        w,
        "\nbench-e2e: size {} (seed {}): {} clusters × {} namespaces × {} = {} objects; {} runs per dry run (wall: median; RSS: max); API latency {} ms; --thread-pool-size {}; {} cores; load average at the end {}",
        b.opts.size_name,
        b.opts.seed,
        b.opts.size.clusters,
        b.opts.size.namespaces,
        OBJECTS_PER_NAMESPACE,
        objects,
        b.opts.runs,
        b.opts.latency_ms,
        b.opts
            .thread_pool_size
            .map_or("default (10)".to_string(), |n| n.to_string()),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    writeln!(
        w,
        "{:<40} {:>9} {:>9} {:>9} {:>9} {:>11} {:>8} {:>8}",
        "run", "wall s", "CPU s", "RSS MiB", "requests", "connections", "changes", "exit"
    )?;
    let line = |w: &mut Vec<u8>, name: &str, s: &Sample| {
        let _ = writeln!(
            w,
            "{:<40} {:>9.2} {:>9.2} {:>9.1} {:>9} {:>11} {:>8} {:>8}",
            name,
            s.wall,
            s.cpu,
            s.rss_kib as f64 / 1024.0,
            s.requests,
            s.connections,
            s.changes,
            s.exit
        );
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut ratios = String::new();
    for (integration, ours, python) in &rows {
        let o = summary(ours);
        line(&mut buf, &format!("{integration} dry, ours"), &o);
        if b.opts.latency_ms > 0 {
            // with a fixed per-request latency the run should take about
            // requests ÷ concurrency × latency
            let threads = b.opts.thread_pool_size.unwrap_or(10) as f64;
            ratios.push_str(&format!(
                "{integration} dry run, ours, latency model: {} requests ÷ {threads} × {} ms = {:.2} s; measured {:.2} s\n",
                o.requests,
                b.opts.latency_ms,
                o.requests as f64 / threads * b.opts.latency_ms as f64 / 1000.0,
                o.wall
            ));
        }
        if !python.is_empty() {
            let p = summary(python);
            line(&mut buf, &format!("{integration} dry, Python 0.10.1"), &p);
            ratios.push_str(&format!(
                "{integration} dry run, Python ÷ ours: wall {:.1}×, peak RSS {:.1}×, API requests {:.2}×\n",
                p.wall / o.wall.max(1e-9),
                p.rss_kib as f64 / (o.rss_kib.max(1) as f64),
                p.requests as f64 / (o.requests.max(1) as f64),
            ));
        }
    }
    line(&mut buf, "openshift-namespaces wet, ours", &ns_wet);
    line(&mut buf, "openshift-resources wet, ours", &res_wet);
    for (who, s) in &wet_sample {
        line(
            &mut buf,
            &format!("resources wet {sample_cluster}, {who}"),
            s,
        );
    }
    t.push_str(&String::from_utf8_lossy(&buf));
    t.push('\n');
    t.push_str(&format!(
        "wet apply, fresh cluster, all clusters, ours: {objects} objects in {:.2} s = {:.0} objects/s ({namespaces} namespaces created first in {:.2} s)\n",
        res_wet.wall,
        objects as f64 / res_wet.wall.max(1e-9),
        ns_wet.wall
    ));
    let mut rates = Vec::new();
    for (who, s) in &wet_sample {
        let rate = sample_objects as f64 / s.wall.max(1e-9);
        rates.push(rate);
        t.push_str(&format!(
            "wet apply, fresh cluster, sample ({sample_cluster} only: {sample_objects} objects), {who}: {:.2} s = {rate:.1} objects/s\n",
            s.wall
        ));
    }
    t.push_str(
        "(the wet sample is one cluster because the Python tool runs one `oc apply` subprocess per object; both tools apply the same sample to a fresh cluster)\n",
    );
    if rates.len() == 2 {
        ratios.push_str(&format!(
            "wet apply (sample {sample_cluster}), ours ÷ Python: objects/s {:.1}×\n",
            rates[0] / rates[1].max(1e-9)
        ));
    }
    t.push_str(&ratios);
    println!("{t}");
    std::fs::write(b.work.join("table.txt"), &t)?;
    if !b.opts.keep {
        let _ = std::fs::remove_dir_all(b.work.join("app-interface"));
    }
    Ok(())
}

/// Median wall and CPU, maximum RSS, requests/connections/changes of the median-wall run,
/// worst exit code.
fn summary(samples: &[Sample]) -> Sample {
    let mut sorted: Vec<&Sample> = samples.iter().collect();
    sorted.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    let mid = sorted[sorted.len() / 2];
    let mut cpus: Vec<f64> = samples.iter().map(|s| s.cpu).collect();
    cpus.sort_by(f64::total_cmp);
    Sample {
        wall: mid.wall,
        cpu: cpus[cpus.len() / 2],
        rss_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or_default(),
        requests: mid.requests,
        connections: mid.connections,
        exit: samples.iter().map(|s| s.exit).max().unwrap_or_default(),
        changes: mid.changes,
    }
}
