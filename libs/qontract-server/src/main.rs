//! `qontract-server`: serves the bundle at `DATAFILES_FILE` (`LOAD_METHOD=fs`) over GraphQL.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use qontract_server::{AppState, ServerConfig, router};

/// Drop-in replacement of app-sre's qontract-server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "QONTRACT_SERVER_LISTEN", default_value = "127.0.0.1:4000")]
    listen: String,
    /// How bundles are loaded; only `fs` is supported.
    #[arg(long, env = "LOAD_METHOD", default_value = "fs")]
    load_method: String,
    /// The bundle file (re-read on `POST /reload`).
    #[arg(long, env = "DATAFILES_FILE")]
    datafiles_file: PathBuf,
    /// Bundle files loaded before DATAFILES_FILE (comma-separated, `fs://` prefix optional),
    /// queryable by sha until their TTL runs out.
    #[arg(long, env = "INIT_BUNDLES")]
    init_bundles: Option<String>,
    /// Seconds a non-latest bundle stays queryable after its last use.
    #[arg(long, env = "BUNDLE_SHA_TTL", default_value_t = 1200)]
    bundle_sha_ttl: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if args.load_method != "fs" {
        bail!(
            "LOAD_METHOD={} is not supported (only fs)",
            args.load_method
        );
    }
    let state = AppState::new(ServerConfig {
        datafiles_file: args.datafiles_file.clone(),
        bundle_ttl: Duration::from_secs(args.bundle_sha_ttl),
    });
    if let Some(list) = &args.init_bundles {
        let shas = state
            .load_init_bundles(list)
            .with_context(|| format!("loading INIT_BUNDLES {list}"))?;
        tracing::info!(count = shas.len(), "init bundles loaded");
    }
    let (_, sha) = state
        .reload()
        .with_context(|| format!("loading {}", args.datafiles_file.display()))?;
    tracing::info!(sha = %sha, file = %args.datafiles_file.display(), "bundle loaded");
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(address = %args.listen, "listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving HTTP")?;
    Ok(())
}
