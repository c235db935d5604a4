//! `qontract-bundler <schemas dir> <graphql schema file> <data dir> <resources dir> <git commit>
//! <git commit timestamp>`: writes the bundle JSON to stdout (drop-in for the Python tool).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use qontract_bundler::{BundleInputs, build_bundle, bundle_to_json};

const USAGE: &str = "usage: qontract-bundler [--thread-pool-size N] <schema_dir> <graphql_schema_file> <data_dir> <resource_dir> <git_commit> <git_commit_timestamp>";

fn run() -> anyhow::Result<()> {
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            // accepted for compatibility; parsing uses the available cores
            "--thread-pool-size" => {
                args.next().context("--thread-pool-size needs a value")?;
            }
            s if s.starts_with("--thread-pool-size=") => {}
            _ => positional.push(arg),
        }
    }
    let [schemas, graphql, data, resources, commit, timestamp]: [String; 6] =
        positional.try_into().map_err(|got: Vec<String>| {
            anyhow::anyhow!("expected 6 arguments, got {}\n{USAGE}", got.len())
        })?;
    for p in [&schemas, &graphql, &data, &resources] {
        anyhow::ensure!(std::path::Path::new(p).exists(), "Path does not exist: {p}");
    }
    let inputs = BundleInputs {
        schemas_dir: PathBuf::from(schemas),
        graphql_schema_file: PathBuf::from(graphql),
        data_dir: PathBuf::from(data),
        resources_dir: PathBuf::from(resources),
        git_commit: commit,
        git_commit_timestamp: timestamp,
    };
    let bundle = build_bundle(&inputs)?;
    let text = bundle_to_json(&bundle);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("writing the bundle to stdout")?;
    stdout.flush().context("writing the bundle to stdout")?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qontract-bundler: {e:#}");
            ExitCode::FAILURE
        }
    }
}
