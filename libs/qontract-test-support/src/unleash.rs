//! [`UnleashServer`]: a real Unleash server (the `unleash-server` npm package) on a private
//! PostgreSQL cluster, both on free loopback ports, for the kill-switch tests.
//!
//! Installed by the project's scripts: PostgreSQL by `scripts/install-system-packages.sh`
//! (Debian `postgresql`), unleash-server by `scripts/install-test-services.sh` (npm, into
//! `~/.cache/qontract-test-services/unleash-server-<version>`, or `UNLEASH_SERVER_PREFIX`).
//! A missing piece fails the test with the script to run; nothing is skipped.
//!
//! Each process runs under a tiny `sh` guardian whose stdin is a pipe held by the test: when the
//! [`UnleashServer`] is dropped, or the test process dies, the pipe closes and the guardian
//! stops the process. As root (CI), PostgreSQL runs as the `postgres` user (`setpriv`), since it
//! refuses to run as root.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The unleash-server release `scripts/install-test-services.sh` installs (the last one that
/// runs on Node.js 20).
pub const UNLEASH_SERVER_VERSION: &str = "7.5.1";
/// Admin API token the server is started with.
pub const ADMIN_TOKEN: &str = "*:*.qontract-test-admin-token";
/// Client API token (environment `development`), what `UNLEASH_CLIENT_ACCESS_TOKEN` holds.
pub const CLIENT_TOKEN: &str = "*:development.qontract-test-client-token";
/// The environment of [`CLIENT_TOKEN`].
pub const ENVIRONMENT: &str = "development";

const INSTALL_HINT: &str = "run scripts/install-system-packages.sh (postgresql) and \
                            scripts/install-test-services.sh (unleash-server via npm)";

/// Starts unleash-server with the database, port and tokens given by the environment.
const START_SCRIPT: &str = r#"
const prefix = process.env.UNLEASH_SERVER_PREFIX;
const mod = await import(prefix + '/node_modules/unleash-server/dist/lib/server-impl.js');
const unleash = mod.default ?? mod;
await unleash.start({
  db: { host: '127.0.0.1', port: Number(process.env.TEST_DB_PORT), user: 'unleash',
        password: '', database: 'postgres', ssl: false },
  server: { port: Number(process.env.TEST_UNLEASH_PORT), host: '127.0.0.1' },
  versionCheck: { enable: false },
  authentication: {
    initApiTokens: [
      { environment: '*', projects: ['*'], secret: process.env.TEST_ADMIN_TOKEN, type: 'admin', tokenName: 'qontract-test-admin' },
      { environment: 'development', projects: ['*'], secret: process.env.TEST_CLIENT_TOKEN, type: 'client', tokenName: 'qontract-test-client' },
    ],
  },
});
console.log('unleash-server started');
"#;

/// A process under a guardian shell (see the module docs).
struct Guarded {
    name: &'static str,
    guardian: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl Guarded {
    /// `script` runs the service in the background as `$child`; the guardian then waits for
    /// its stdin to close and runs `stop` (which may use `$child`).
    fn spawn(
        name: &'static str,
        script: &str,
        stop: &str,
        args: &[&str],
        envs: &[(&str, String)],
        log: PathBuf,
    ) -> Self {
        let file =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "{script} & child=$!; read _ignored; {stop}; wait \"$child\""
            ))
            .arg(name)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(file.try_clone().expect("clone log handle"))
            .stderr(file);
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut guardian = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdin = guardian.stdin.take();
        Self {
            name,
            guardian,
            stdin,
            log,
        }
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    fn exited(&mut self) -> bool {
        matches!(self.guardian.try_wait(), Ok(Some(_)))
    }

    fn fail(&self, why: &str) -> ! {
        let log = self.log_text();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{}: {why}; {INSTALL_HINT}\n--- log {} ---\n{}",
            self.name,
            self.log.display(),
            tail.join("\n")
        );
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.guardian.wait();
    }
}

/// A running Unleash server backed by its own PostgreSQL cluster.
pub struct UnleashServer {
    // Field order is drop order: Unleash stops before its database, the directory goes last.
    unleash: Guarded,
    postgres: Guarded,
    port: u16,
    http: reqwest::Client,
    _workdir: tempfile::TempDir,
}

impl std::fmt::Debug for UnleashServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnleashServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}

fn in_path(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(binary))
        .find(|c| c.is_file())
}

/// The PostgreSQL server binaries: `initdb` in PATH, else Debian's
/// `/usr/lib/postgresql/<version>/bin` (newest).
fn postgres_bin_dir() -> PathBuf {
    if let Some(initdb) = in_path("initdb") {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return real.parent().expect("initdb has a directory").to_owned();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL's initdb not found (PATH, /usr/lib/postgresql/*/bin); {INSTALL_HINT}"
        ),
    }
}

/// Where `scripts/install-test-services.sh` put unleash-server.
pub fn unleash_server_prefix() -> PathBuf {
    if let Some(p) = std::env::var_os("UNLEASH_SERVER_PREFIX").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    cache
        .join("qontract-test-services")
        .join(format!("unleash-server-{UNLEASH_SERVER_VERSION}"))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn run(what: &str, command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}; {INSTALL_HINT}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `[setpriv ... --] program` so PostgreSQL does not run as root.
fn as_postgres_user(program: &Path) -> Vec<String> {
    let mut argv = Vec::new();
    if is_root() {
        argv.extend(
            [
                "setpriv",
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ]
            .map(String::from),
        );
    }
    argv.push(program.display().to_string());
    argv
}

impl UnleashServer {
    /// Start PostgreSQL (initdb in a temporary directory) and unleash-server, and wait until
    /// Unleash answers `/health`.
    pub async fn start() -> Self {
        let prefix = unleash_server_prefix();
        assert!(
            prefix
                .join("node_modules/unleash-server/package.json")
                .is_file(),
            "unleash-server is not installed in {}; {INSTALL_HINT}",
            prefix.display()
        );
        let node = in_path("node")
            .unwrap_or_else(|| panic!("node (Node.js >= 20) not found in PATH; {INSTALL_HINT}"));
        let bin = postgres_bin_dir();
        let workdir = tempfile::tempdir().expect("temporary directory");
        let pg_dir = workdir.path().join("pg");
        std::fs::create_dir(&pg_dir).expect("create the PostgreSQL directory");
        if is_root() {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(workdir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("open the temporary directory to the postgres user");
            run(
                "chown postgres",
                Command::new("chown").arg("postgres").arg(&pg_dir),
            );
        }
        let data = pg_dir.join("data");
        let mut initdb = as_postgres_user(&bin.join("initdb"));
        initdb.extend(
            [
                "-D",
                &data.display().to_string(),
                "-U",
                "unleash",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
            .map(String::from),
        );
        run(
            "initdb",
            Command::new(&initdb[0])
                .args(&initdb[1..])
                .env("LC_ALL", "C"),
        );

        let db_port = free_port();
        let mut postgres_argv = as_postgres_user(&bin.join("postgres"));
        postgres_argv.extend([
            "-D".to_owned(),
            data.display().to_string(),
            "-p".to_owned(),
            db_port.to_string(),
            "-k".to_owned(),
            pg_dir.display().to_string(),
            "-c".to_owned(),
            "listen_addresses=127.0.0.1".to_owned(),
            "-c".to_owned(),
            "fsync=off".to_owned(),
        ]);
        let args: Vec<&str> = postgres_argv.iter().map(String::as_str).collect();
        // SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for clients).
        let mut postgres = Guarded::spawn(
            "postgres",
            "\"$@\"",
            "kill -INT \"$child\" 2>/dev/null",
            &args,
            &[],
            workdir.path().join("postgres.log"),
        );
        let deadline = Instant::now() + Duration::from_secs(120);
        while !postgres
            .log_text()
            .contains("database system is ready to accept connections")
        {
            if postgres.exited() {
                postgres.fail("exited during start-up");
            }
            if Instant::now() > deadline {
                postgres.fail("not ready after 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let port = free_port();
        let script = workdir.path().join("start-unleash.mjs");
        std::fs::write(&script, START_SCRIPT).expect("write the start script");
        let node_argv = [node.display().to_string(), script.display().to_string()];
        let args: Vec<&str> = node_argv.iter().map(String::as_str).collect();
        let mut unleash = Guarded::spawn(
            "unleash-server",
            "\"$@\"",
            "kill -TERM \"$child\" 2>/dev/null",
            &args,
            &[
                ("UNLEASH_SERVER_PREFIX", prefix.display().to_string()),
                ("TEST_DB_PORT", db_port.to_string()),
                ("TEST_UNLEASH_PORT", port.to_string()),
                ("TEST_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
                ("TEST_CLIENT_TOKEN", CLIENT_TOKEN.to_owned()),
                ("CHECK_VERSION", "false".to_owned()),
                ("SEND_TELEMETRY", "false".to_owned()),
                ("LOG_LEVEL", "warn".to_owned()),
            ],
            workdir.path().join("unleash.log"),
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        let health = format!("http://127.0.0.1:{port}/health");
        // Migrations of a new database take a while on a busy 2-core machine.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(resp) = http.get(&health).send().await
                && resp.status().is_success()
            {
                break;
            }
            if unleash.exited() {
                unleash.fail("exited during start-up");
            }
            if Instant::now() > deadline {
                unleash.fail("/health not answering after 300 s");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Self {
            unleash,
            postgres,
            port,
            http,
            _workdir: workdir,
        }
    }

    /// `http://127.0.0.1:<port>/api`: what `UNLEASH_API_URL` holds.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// The client token (`UNLEASH_CLIENT_ACCESS_TOKEN`).
    pub fn client_token(&self) -> &'static str {
        CLIENT_TOKEN
    }

    /// An admin API call (`path` below `/api/admin`); returns status and JSON body (`null`
    /// when empty or not JSON).
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/admin{path}", self.api_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header(reqwest::header::AUTHORIZATION, ADMIN_TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// What a client sees: `GET /api/client/features` with the client token.
    pub async fn client_features(&self) -> Value {
        let url = format!("{}/client/features", self.api_url());
        let resp = self
            .http
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, CLIENT_TOKEN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
        resp.json().await.expect("client features JSON")
    }

    /// Create the toggle `name` in the `default` project (it exists afterwards either way).
    pub async fn create_toggle(&self, name: &str) {
        let (status, body) = self
            .admin(
                "POST",
                "/projects/default/features",
                Some(json!({"name": name, "type": "kill-switch"})),
            )
            .await;
        assert!(
            status == 200 || status == 201 || status == 409,
            "create toggle {name}: HTTP {status}: {body}"
        );
    }

    /// Add an activation strategy (`{"name": ..., "parameters": {...}, "constraints": [...]}`)
    /// to the toggle `name` in the client token's environment.
    pub async fn add_strategy(&self, name: &str, strategy: Value) {
        let path =
            format!("/projects/default/features/{name}/environments/{ENVIRONMENT}/strategies");
        let (status, body) = self.admin("POST", &path, Some(strategy)).await;
        assert!(
            (200..300).contains(&status),
            "add strategy to {name}: HTTP {status}: {body}"
        );
    }

    /// Define a custom strategy (e.g. qontract-reconcile's `enableCluster`) with list
    /// parameters `params`.
    pub async fn define_strategy(&self, name: &str, params: &[&str]) {
        let parameters: Vec<Value> = params
            .iter()
            .map(|p| json!({"name": p, "type": "list", "description": "", "required": true}))
            .collect();
        let (status, body) = self
            .admin(
                "POST",
                "/strategies",
                Some(json!({"name": name, "description": "", "parameters": parameters})),
            )
            .await;
        assert!(
            (200..300).contains(&status) || status == 409,
            "define strategy {name}: HTTP {status}: {body}"
        );
    }

    /// Turn `name` on or off in the client token's environment, as an SRE does in the admin
    /// UI, and wait until the client API serves the new state (the server publishes changes
    /// to clients on a one-second schedule).
    pub async fn set_enabled(&self, name: &str, enabled: bool) {
        let path = format!(
            "/projects/default/features/{name}/environments/{ENVIRONMENT}/{}",
            if enabled { "on" } else { "off" }
        );
        let (status, body) = self.admin("POST", &path, None).await;
        assert!(
            (200..300).contains(&status),
            "turn {name} {}: HTTP {status}: {body}",
            if enabled { "on" } else { "off" }
        );
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let doc = self.client_features().await;
            let served = doc["features"]
                .as_array()
                .and_then(|fs| fs.iter().find(|f| f["name"] == name))
                .and_then(|f| f["enabled"].as_bool());
            if served == Some(enabled) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the client API still serves {name} as {served:?} 120 s after the change"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        format!(
            "--- unleash ---\n{}\n--- postgres ---\n{}",
            self.unleash.log_text(),
            self.postgres.log_text()
        )
    }
}
