//! The loopback services of a run, shared by the differential suite and
//! `cargo xtask bench-e2e`: child processes killed on drop ([`Proc`]), an OpenBao dev server
//! with an AppRole ([`OpenBao`]), our `qontract-server` over a bundle
//! ([`start_qontract_server`]), `kube-testserver` ([`kube_testserver`], [`wait_kube_ready`])
//! and the `config.toml` both tools read ([`write_config`]).
//!
//! Only `std`, `anyhow` and `serde_json`: xtask links this library, and stays quick to build.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// How long a service may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A child process killed (and reaped) when dropped.
pub struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `cmd` with stdout and stderr to `log`.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Proc> {
        let file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = cmd
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file))
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
        })
    }

    /// An error naming the process when it has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early ({status})", self.name);
        }
        Ok(())
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Polls `ready` every 100 ms until it answers true (an error ends the wait), for at most
/// 120 s.
pub fn wait_for(what: &str, mut ready: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    loop {
        if ready()? {
            return Ok(());
        }
        if start.elapsed() > READY_TIMEOUT {
            bail!("{what} not ready after {} s", READY_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Minimal HTTP/1.1 request on loopback; returns (status, body).
pub fn http(method: &str, port: u16, path: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status")?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// A process's stdout then stderr.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the `bao` CLI against the server on `port` with the root token `root`; its stdout.
pub fn bao_cmd(port: u16, root: &str, args: &[&str]) -> Result<String> {
    let addr = format!("http://127.0.0.1:{port}");
    let out = Command::new("bao")
        .args(args)
        .env("BAO_ADDR", &addr)
        .env("BAO_TOKEN", root)
        .env("VAULT_ADDR", &addr)
        .env("VAULT_TOKEN", root)
        .output()
        .context("running bao")?;
    if !out.status.success() {
        bail!("bao {}: {}", args.join(" "), output_text(&out));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An OpenBao dev server (in-memory, KV v2 at `secret/`) on a free loopback port.
pub struct OpenBao {
    /// Its port on 127.0.0.1.
    pub port: u16,
    root: String,
    home: PathBuf,
    _proc: Proc,
}

impl OpenBao {
    /// Starts the dev server with root token `root`; `home` (created) holds its log
    /// (`bao.log`) and the `~/.vault-token` the dev server writes.
    pub fn start(home: &Path, root: &str) -> Result<OpenBao> {
        std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
        let port = free_port()?;
        let mut proc = Proc::spawn(
            "bao",
            Command::new("bao")
                .args([
                    "server",
                    "-dev",
                    &format!("-dev-root-token-id={root}"),
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                ])
                .env("HOME", home),
            &home.join("bao.log"),
        )?;
        wait_for("OpenBao", || {
            proc.check_alive()?;
            Ok(bao_cmd(port, root, &["status"]).is_ok())
        })?;
        Ok(OpenBao {
            port,
            root: root.to_owned(),
            home: home.to_owned(),
            _proc: proc,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs the `bao` CLI against this server as root; its stdout.
    pub fn cmd(&self, args: &[&str]) -> Result<String> {
        bao_cmd(self.port, &self.root, args)
    }

    /// Enables AppRole and creates the role `role` whose tokens carry the policy `role`
    /// (read and list on `secret/*`); returns its (role_id, secret_id).
    pub fn approle(&self, role: &str) -> Result<(String, String)> {
        self.cmd(&["auth", "enable", "approle"])?;
        let policy = self.home.join(format!("{role}.hcl"));
        std::fs::write(
            &policy,
            "path \"secret/*\" { capabilities = [\"read\", \"list\"] }\n",
        )?;
        self.cmd(&["policy", "write", role, &policy.display().to_string()])?;
        self.cmd(&[
            "write",
            &format!("auth/approle/role/{role}"),
            &format!("token_policies={role}"),
            "token_ttl=4h",
        ])?;
        let role_id = self.cmd(&[
            "read",
            "-field=role_id",
            &format!("auth/approle/role/{role}/role-id"),
        ])?;
        let secret_id = self.cmd(&[
            "write",
            "-f",
            "-field=secret_id",
            &format!("auth/approle/role/{role}/secret-id"),
        ])?;
        Ok((role_id.trim().to_owned(), secret_id.trim().to_owned()))
    }

    /// Writes a KV v2 secret (`secret/<rest>`, a new version) from JSON (values may be empty
    /// strings).
    pub fn kv_put(&self, path: &str, data: &serde_json::Map<String, Value>) -> Result<()> {
        let file = self.home.join("secret.json");
        std::fs::write(&file, Value::Object(data.clone()).to_string())?;
        let mount_path = path
            .strip_prefix("secret/")
            .context("vault paths start with secret/")?;
        self.cmd(&[
            "kv",
            "put",
            "-mount=secret",
            mount_path,
            &format!("@{}", file.display()),
        ])
        .with_context(|| format!("writing vault secret {path}"))?;
        Ok(())
    }
}

/// Starts our `qontract-server` (from `bin_dir`) on `port` over `bundle`; ready once
/// `/sha256` answers.
pub fn start_qontract_server(bin_dir: &Path, port: u16, bundle: &Path, log: &Path) -> Result<Proc> {
    let mut qs = Proc::spawn(
        "qontract-server",
        Command::new(bin_dir.join("qontract-server"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--datafiles-file")
            .arg(bundle),
        log,
    )?;
    wait_for("qontract-server", || {
        qs.check_alive()?;
        Ok(http("GET", port, "/sha256").is_ok_and(|(s, _)| s == 200))
    })?;
    Ok(qs)
}

/// The `config.toml` both tools read: GraphQL at `qontract-server` on `qs_port`, Vault
/// through the AppRole (`role_id`, `secret_id`).
pub fn write_config(
    file: &Path,
    qs_port: u16,
    vault: &OpenBao,
    (role_id, secret_id): (&str, &str),
) -> Result<()> {
    std::fs::write(
        file,
        format!(
            "[graphql]\nserver = \"http://127.0.0.1:{qs_port}/graphql\"\n\n[vault]\nserver = \"{}\"\nrole_id = \"{role_id}\"\nsecret_id = \"{secret_id}\"\n",
            vault.addr()
        ),
    )
    .with_context(|| format!("writing {}", file.display()))
}

/// The `kube-testserver` command (from `bin_dir`): HTTPS on `port`, bearer `token`, its
/// kubeconfig written to `kubeconfig`. Add flags, [`Proc::spawn`] it, then
/// [`wait_kube_ready`].
pub fn kube_testserver(bin_dir: &Path, port: u16, token: &str, kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(bin_dir.join("kube-testserver"));
    cmd.args(["--port", &port.to_string(), "--token", token])
        .arg("--kubeconfig")
        .arg(kubeconfig);
    cmd
}

/// Waits until the `kube-testserver` logging to `log` serves (it prints its `url: `).
pub fn wait_kube_ready(kube: &mut Proc, log: &Path) -> Result<()> {
    wait_for(&format!("kube-testserver ({})", log.display()), || {
        kube.check_alive()?;
        Ok(std::fs::read_to_string(log).is_ok_and(|l| l.contains("url: ")))
    })
}
