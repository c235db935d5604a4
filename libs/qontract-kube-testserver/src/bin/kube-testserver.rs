//! Standalone loopback Kubernetes API server: the local sandbox cluster.
//!
//! Prints the URL and the path of a kubeconfig, then serves until Ctrl-C / SIGTERM.
//! Flags: `--http` (plain HTTP), `--port N`, `--token T` (default `sandbox`),
//! `--readonly-token T`, `--kubeconfig PATH`, `--crd FILE.json` (repeatable),
//! `--openshift-projects` (serve `project.openshift.io/v1` Projects and ProjectRequests, as an
//! OpenShift cluster does), `--openshift-users` (serve `user.openshift.io/v1` Groups, Users and
//! Identities), `--latency-ms N` (delay every request by N ms). Request and connection
//! counts are served at `/debug/kube-testserver/stats` (no auth).

use qontract_kube_testserver::KubeTestServer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut builder = KubeTestServer::builder();
    let mut token = "sandbox".to_string();
    let mut kubeconfig =
        std::env::temp_dir().join(format!("kube-testserver-{}.kubeconfig", std::process::id()));
    while let Some(a) = args.next() {
        match a.as_str() {
            "--http" => builder = builder.https(false),
            "--openshift-projects" => builder = builder.openshift_projects(true),
            "--openshift-users" => builder = builder.openshift_users(true),
            "--port" => builder = builder.port(args.next().ok_or("--port needs a value")?.parse()?),
            "--latency-ms" => {
                let ms: u64 = args.next().ok_or("--latency-ms needs a value")?.parse()?;
                builder = builder.latency(std::time::Duration::from_millis(ms));
            }
            "--token" => token = args.next().ok_or("--token needs a value")?,
            "--readonly-token" => {
                builder =
                    builder.readonly_token(args.next().ok_or("--readonly-token needs a value")?)
            }
            "--kubeconfig" => kubeconfig = args.next().ok_or("--kubeconfig needs a value")?.into(),
            "--crd" => {
                let path = args.next().ok_or("--crd needs a file")?;
                let crd: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
                builder = builder.crd(crd);
            }
            "-h" | "--help" => {
                println!(
                    "kube-testserver [--http] [--port N] [--token T] [--readonly-token T] [--kubeconfig PATH] [--crd FILE.json]... [--openshift-projects] [--openshift-users] [--latency-ms N]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let server = builder.token(token).start().await?;
    server.write_kube_config(&kubeconfig)?;
    println!("url: {}", server.url());
    println!("kubeconfig: {}", kubeconfig.display());
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
