//! Running a crate's own binary from its async test (the test's loopback servers keep serving
//! while the binary runs).

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `bin --config <config> [args]` on a blocking thread, without the test's `RUST_LOG` (the
/// binary logs at its default level, as users run it). Its stdout is the plan, stderr the log.
pub async fn run_with_config(
    bin: impl Into<PathBuf>,
    config: impl Into<PathBuf>,
    args: &[&str],
) -> Output {
    let (bin, config) = (bin.into(), config.into());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()))
    })
    .await
    .expect("the binary's thread")
}
