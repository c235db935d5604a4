//! `openshift-namespaces` as its own binary (the same code the multi-call binary links).

use std::process::ExitCode;

use qontract_runtime::{Cli, IntegrationSpec};

fn main() -> ExitCode {
    let spec = IntegrationSpec::of::<qontract_openshift_namespaces::OpenshiftNamespaces>();
    let cli = Cli::new("openshift-namespaces", vec![spec]);
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(cli.run_single(&spec, argv)).into(),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
