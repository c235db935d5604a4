//! integrations-manager end to end: the CLI (the same integrations and runtime as the shipped
//! `qontract-reconcile` binary) in a child process, against the example app-interface
//! (bundled in-process) and a loopback sandbox cluster.
//!
//! The child is this test executable re-run with only [`cli_child`] selected and the argv in
//! `QIM_CLI_ARGV`: it runs `Cli::run_multi` and exits with its code, so stdout (the plan),
//! stderr and the exit code are the real ones.

mod e2e;
mod sample;

use std::ffi::OsString;

use qontract_runtime::{Cli, ExitStatus};

/// Environment variable carrying the child's argv (a JSON array of strings).
const CHILD_ARGV: &str = "QIM_CLI_ARGV";

fn cli() -> Cli {
    Cli::new(
        "qontract-reconcile",
        qontract_integrations_manager::registry::integrations(),
    )
}

/// The child process entry point. Run by the parent tests with `QIM_CLI_ARGV`; otherwise it
/// checks in-process that the CLI knows the integration.
#[test]
fn cli_child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match std::env::var(CHILD_ARGV) {
        Ok(argv) => {
            let argv: Vec<String> = serde_json::from_str(&argv).unwrap();
            let argv: Vec<OsString> = argv.into_iter().map(OsString::from).collect();
            let status = runtime.block_on(cli().run_multi(argv));
            std::process::exit(i32::from(status.code()));
        }
        Err(_) => {
            let command = cli().multi_command();
            let sub = command
                .find_subcommand("integrations-manager")
                .expect("integrations-manager is registered");
            let longs: Vec<&str> = sub.get_arguments().filter_map(|a| a.get_long()).collect();
            for option in [
                "environment-name",
                "image-tag-from-ref",
                "upstream",
                "image",
            ] {
                assert!(longs.contains(&option), "--{option} missing: {longs:?}");
            }
            let status = runtime.block_on(cli().run_multi(vec![
                "qontract-reconcile".into(),
                "integrations-manager".into(),
                "--bogus".into(),
            ]));
            assert_ne!(status, ExitStatus::Success);
        }
    }
}
