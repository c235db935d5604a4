//! `cargo xtask bench-e2e` (`make bench-e2e SIZE=small|medium|large`): ours and the Python
//! qontract-reconcile 0.10.1 side by side on one generated app-interface.
//!
//! Generates the data set ([`crate::gen_app_interface`]), starts one loopback API server
//! (`kube-testserver`, HTTPS) per generated cluster, as a real estate has one per cluster (each
//! cluster file's `serverUrl` points at its own; started in parallel), an OpenBao dev server
//! (cluster token, AppRole login) and our `qontract-server` over the bundle (the differential
//! suite's services, `qontract_compat::services`), then:
//!
//! 1. converges the clusters with ours (wet `openshift-namespaces`, wet `openshift-resources`:
//!    the wet apply rate of a fresh cluster, all clusters);
//! 2. times dry runs of `openshift-resources` and `openshift-namespaces` of both tools on the
//!    converged clusters (`--runs`, default 3: wall is the median, RSS the maximum);
//! 3. on a fresh cluster (the first cluster's API server restarted empty), the wet apply rate
//!    of both tools on that one cluster (`--cluster-name`: the Python tool runs one `oc apply`
//!    subprocess per object).
//!
//! Wall and peak RSS come from `/usr/bin/time` (wait4 rusage of the tool's process tree),
//! API requests and connections (TLS handshakes) from the servers' counters
//! (`/debug/kube-testserver/stats`, summed over every cluster's server). With `--latency-ms N`
//! every server delays each request by N ms and each row also shows the latency model
//! (requests ÷ thread pool size × N ms) beside the measured wall. Prints one table; nothing
//! asserts a time.
//!
//! The Python tool is found on `PATH` with its `oc`/`amtool` shims, installed by
//! `scripts/install-compat-peer.sh` (the differential suite's peer, same venv); our binaries in
//! `--bin-dir` (default `target/release`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qontract_compat::services::{self, OpenBao, Proc, free_port, output_text};
use serde_json::Value;

use crate::gen_app_interface::{self as gen_ai, OBJECTS_PER_NAMESPACE, Size, Target};

const KUBE_TOKEN: &str = "bench-token";
const BAO_ROOT: &str = "bench-root";
/// Vault path prefix of the clusters' automation tokens (one secret per cluster).
const TOKEN_PREFIX: &str = "secret/bench";
/// `--thread-pool-size` of both tools when not given (ours follows the Python tool's 10).
const DEFAULT_THREAD_POOL_SIZE: usize = 10;

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

/// `n` distinct free loopback ports (none of `taken`).
fn free_ports(n: usize, taken: &[u16]) -> Result<Vec<u16>> {
    let mut seen: BTreeSet<u16> = taken.iter().copied().collect();
    let mut ports = Vec::with_capacity(n);
    while ports.len() < n {
        let port = free_port()?;
        if seen.insert(port) {
            ports.push(port);
        }
    }
    Ok(ports)
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
    /// The API server port of each generated cluster (index = cluster number).
    kube_ports: Vec<u16>,
    config: PathBuf,
    /// Each cluster's running API server.
    kube: Vec<Option<Proc>>,
    /// For the servers' counters.
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    _vault: OpenBao,
    _qs: Proc,
    namespaces_per_cluster: usize,
}

impl Bench {
    /// (Re)starts the API servers of `clusters` (fresh and empty, on their ports), all at
    /// once, and waits until every one serves.
    fn start_kube(&mut self, clusters: &[usize], label: &str) -> Result<()> {
        for &c in clusters {
            self.kube[c] = None; // stop the previous one (its port is reused)
        }
        let dir = self.work.join("kube");
        std::fs::create_dir_all(&dir)?;
        let log = |c: usize| dir.join(format!("{label}-{}.log", gen_ai::cluster_name(c)));
        let mut pending = clusters.to_vec();
        for _ in 0..50 {
            let mut started = Vec::new();
            for &c in &pending {
                let mut cmd = services::kube_testserver(
                    &self.opts.bin,
                    self.kube_ports[c],
                    KUBE_TOKEN,
                    &dir.join(format!("{}.kubeconfig", gen_ai::cluster_name(c))),
                );
                if self.opts.latency_ms > 0 {
                    cmd.args(["--latency-ms", &self.opts.latency_ms.to_string()]);
                }
                started.push((c, Proc::spawn("kube-testserver", &mut cmd, &log(c))?));
            }
            std::thread::sleep(Duration::from_millis(200));
            pending.clear();
            for (c, mut p) in started {
                if p.check_alive().is_ok() {
                    self.kube[c] = Some(p);
                } else {
                    // the port of the previous server may still be closing
                    pending.push(c);
                }
            }
            if pending.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        if let Some(&c) = pending.first() {
            bail!(
                "the API server of {} did not start; see {}",
                gen_ai::cluster_name(c),
                log(c).display()
            );
        }
        for &c in clusters {
            let kube = self.kube[c].as_mut().context("API server missing")?;
            services::wait_kube_ready(kube, &log(c))?;
        }
        Ok(())
    }

    /// (requests, connections) so far, summed over every cluster's server, each query's own
    /// connection included (not its request).
    fn stats(&self) -> Result<(u64, u64)> {
        self.rt.block_on(async {
            let mut queries = tokio::task::JoinSet::new();
            for (c, port) in self.kube_ports.iter().enumerate() {
                let http = self.http.clone();
                let url = format!("https://127.0.0.1:{port}{}", qontract_stats_path());
                queries.spawn(async move {
                    let stats: Result<Value> = async {
                        Ok(http
                            .get(&url)
                            .send()
                            .await?
                            .error_for_status()?
                            .json()
                            .await?)
                    }
                    .await;
                    stats.with_context(|| {
                        format!(
                            "reading the stats of the API server of {} ({url})",
                            gen_ai::cluster_name(c)
                        )
                    })
                });
            }
            let (mut requests, mut connections) = (0, 0);
            while let Some(stats) = queries.join_next().await {
                let v = stats??;
                requests += v["requests"].as_u64().unwrap_or_default();
                connections += v["connections"].as_u64().unwrap_or_default();
            }
            Ok((requests, connections))
        })
    }

    /// `--thread-pool-size` of the measured runs.
    fn concurrency(&self) -> usize {
        self.opts
            .thread_pool_size
            .unwrap_or(DEFAULT_THREAD_POOL_SIZE)
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
            // minus the connection of the second stats query on each server
            connections: c1
                .saturating_sub(c0)
                .saturating_sub(self.kube_ports.len() as u64),
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
    let vault = OpenBao::start(work, BAO_ROOT)?;
    let qs_port = free_ports(1, &[vault.port])?[0];
    // one API server per cluster, as a real estate has
    let kube_ports = free_ports(opts.size.clusters, &[vault.port, qs_port])?;
    let server_urls: Vec<String> = kube_ports
        .iter()
        .map(|p| format!("https://127.0.0.1:{p}"))
        .collect();

    let target = Target {
        server_urls,
        token_prefix: TOKEN_PREFIX.into(),
    };

    // each cluster's automation token with its server (the Python tool checks it against
    // `serverUrl`), read through AppRole as the differential suite
    let approle = vault.approle("bench")?;
    for c in 0..opts.size.clusters {
        let mut token = serde_json::Map::new();
        token.insert("token".into(), KUBE_TOKEN.into());
        token.insert("server".into(), target.server_url(c).into());
        token.insert("username".into(), "bench".into());
        vault.kv_put(&target.token_path(c), &token)?;
    }

    // the data set and its bundle
    let data = work.join("app-interface");
    let t = Instant::now();
    gen_ai::write(&data, opts.size, opts.seed, &target)?;
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

    let qs = services::start_qontract_server(
        &opts.bin,
        qs_port,
        &bundle,
        &work.join("qontract-server.log"),
    )?;
    let config = work.join("config.toml");
    services::write_config(&config, qs_port, &vault, (&approle.0, &approle.1))?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // one connection per stats query (none kept alive): the tools' connections are what
    // the servers' counters minus the queries' own show
    let http = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(0)
        .http1_only()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut b = Bench {
        namespaces_per_cluster: opts.size.namespaces,
        kube: (0..kube_ports.len()).map(|_| None).collect(),
        opts,
        work: work.to_path_buf(),
        kube_ports,
        config,
        rt,
        http,
        _vault: vault,
        _qs: qs,
    };
    let objects = b.opts.size.objects();
    let namespaces = b.opts.size.clusters * b.opts.size.namespaces;

    // 1. converge fresh clusters with ours (all clusters)
    let t = Instant::now();
    let all: Vec<usize> = (0..b.opts.size.clusters).collect();
    b.start_kube(&all, "main")?;
    eprintln!(
        "bench-e2e: started {} API servers in {:.1} s",
        all.len(),
        t.elapsed().as_secs_f64()
    );
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
        b.start_kube(&[0], &format!("{who}-sample"))?;
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
    b.kube.clear();

    // the table
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut t = String::new();
    let w = &mut t;
    writeln!(
        w,
        "\nbench-e2e: size {} (seed {}): {} clusters (one API server each) × {} namespaces × {} = {} objects; {} runs per dry run (wall: median; RSS: max); API latency {} ms; --thread-pool-size {}; {} cores; load average at the end {}",
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
            .map_or(format!("default ({DEFAULT_THREAD_POOL_SIZE})"), |n| n
                .to_string()),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    let model = (b.opts.latency_ms > 0).then(|| LatencyModel {
        latency_ms: b.opts.latency_ms,
        concurrency: b.concurrency(),
    });
    writeln!(w, "{}", table_header(model.as_ref()))?;
    let line = |w: &mut Vec<u8>, name: &str, s: &Sample| {
        let _ = writeln!(w, "{}", table_row(name, s, model.as_ref()));
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut ratios = String::new();
    for (integration, ours, python) in &rows {
        let o = summary(ours);
        line(&mut buf, &format!("{integration} dry, ours"), &o);
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
    if let Some(m) = &model {
        t.push_str(&format!(
            "(model s: API requests ÷ {} (--thread-pool-size) × {} ms, the wall of a run whose only cost is the latency at that many requests in flight; wall÷model near 1: the run keeps its threads busy)\n",
            m.concurrency, m.latency_ms
        ));
    }
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

/// The wall a run would take if each API request cost `latency_ms` and `concurrency` were in
/// flight at any time: requests ÷ concurrency × latency.
struct LatencyModel {
    latency_ms: u64,
    concurrency: usize,
}

impl LatencyModel {
    /// Seconds for `requests` requests.
    fn seconds(&self, requests: u64) -> f64 {
        requests as f64 / self.concurrency.max(1) as f64 * self.latency_ms as f64 / 1000.0
    }
}

/// The table's column titles (with the latency model's columns when there is one).
fn table_header(model: Option<&LatencyModel>) -> String {
    let mut h = format!(
        "{:<40} {:>9} {:>9} {:>9} {:>9} {:>11} {:>8} {:>8}",
        "run", "wall s", "CPU s", "RSS MiB", "requests", "connections", "changes", "exit"
    );
    if model.is_some() {
        h.push_str(&format!(" {:>9} {:>10}", "model s", "wall÷model"));
    }
    h
}

/// One row of the table: the measured figures, then (with a latency) the model's wall for the
/// row's requests and the measured wall ÷ that.
fn table_row(name: &str, s: &Sample, model: Option<&LatencyModel>) -> String {
    let mut row = format!(
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
    if let Some(m) = model {
        let expected = m.seconds(s.requests);
        let ratio = if expected > 0.0 {
            format!("{:.2}", s.wall / expected)
        } else {
            "-".to_string()
        };
        row.push_str(&format!(" {expected:>9.2} {ratio:>10}"));
    }
    row
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(wall: f64, requests: u64) -> Sample {
        Sample {
            wall,
            requests,
            ..Sample::default()
        }
    }

    /// With a latency, every row shows requests ÷ concurrency × latency beside the wall.
    #[test]
    fn rows_show_the_latency_model_beside_the_wall() {
        let model = LatencyModel {
            latency_ms: 20,
            concurrency: 10,
        };
        // 1,000 requests ÷ 10 × 20 ms = 2 s; measured 3 s = 1.5× the model
        let row = table_row(
            "openshift-resources dry, ours",
            &sample(3.0, 1000),
            Some(&model),
        );
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[cols.len() - 2..], ["2.00", "1.50"], "{row}");
        let header = table_header(Some(&model));
        assert!(header.ends_with("model s wall÷model"), "{header}");
        // no requests: no ratio
        assert!(table_row("x", &sample(1.0, 0), Some(&model)).ends_with("0.00          -"));
        // without a latency, no model columns
        assert!(!table_header(None).contains("model"));
        assert!(table_row("x", &sample(3.0, 1000), None).ends_with(" 0"));
    }

    #[test]
    fn cluster_ports_are_distinct_and_avoid_the_taken_ones() {
        let taken = free_port().unwrap();
        let ports = free_ports(50, &[taken]).unwrap();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), 50);
        assert!(!distinct.contains(&taken));
    }
}
