//! `qontract-reconcile explain`: the canonical JSON and `qontract.sha256sum` the tool sets on a
//! manifest, and — given the object as read from the cluster — why the plan would apply or
//! skip it. Answers "why does it want to apply this?".

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Command};
use futures::future::BoxFuture;
use qontract_runtime::{ExitStatus, OutputFormat, ToolSpec};

/// The `explain` subcommand.
pub(crate) fn spec() -> ToolSpec {
    ToolSpec {
        name: "explain",
        command,
        run,
    }
}

fn command() -> Command {
    Command::new("explain")
        .about(
            "Print the canonical JSON and qontract.sha256sum of a manifest, and why the plan \
             would apply or skip it given the cluster object",
        )
        .arg(
            Arg::new("manifest")
                .value_name("MANIFEST")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("The desired object, YAML or JSON ('-' for stdin)"),
        )
        .arg(
            Arg::new("cluster-object")
                .long("cluster-object")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("The object as read from the cluster (oc get -o json), YAML or JSON"),
        )
        .arg(
            Arg::new("integration")
                .long("integration")
                .env("QONTRACT_EXPLAIN_INTEGRATION")
                .default_value("openshift_resources")
                .help("Integration name as the qontract.integration annotation carries it"),
        )
        .arg(
            Arg::new("integration-version")
                .long("integration-version")
                .env("QONTRACT_EXPLAIN_INTEGRATION_VERSION")
                .default_value("1.9.3")
                .help("Integration version (semver; the major must match the cluster object's)"),
        )
}

fn read(path: &PathBuf) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("reading stdin: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn run(matches: ArgMatches) -> BoxFuture<'static, ExitStatus> {
    Box::pin(async move {
        match explain(&matches) {
            Ok(text) => {
                print!("{text}");
                ExitStatus::Success
            }
            Err(e) => {
                eprintln!("explain: {e}");
                ExitStatus::Error
            }
        }
    })
}

fn explain(matches: &ArgMatches) -> Result<String, String> {
    let manifest_path = matches
        .get_one::<PathBuf>("manifest")
        .ok_or("MANIFEST is required")?;
    let manifest = read(manifest_path)?;
    let cluster_object = match matches.get_one::<PathBuf>("cluster-object") {
        Some(p) => Some(read(p)?),
        None => None,
    };
    let integration = matches
        .get_one::<String>("integration")
        .map(String::as_str)
        .unwrap_or("");
    let version = matches
        .get_one::<String>("integration-version")
        .map(String::as_str)
        .unwrap_or("");
    let explanation = qontract_openshift_engine::explain(
        &manifest,
        integration,
        version,
        cluster_object.as_deref(),
    )
    .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let output = matches
        .get_one::<OutputFormat>("output")
        .copied()
        .unwrap_or_default();
    Ok(match output {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&explanation).map_err(|e| e.to_string())?;
            text.push('\n');
            text
        }
        OutputFormat::Text => {
            let mut text = format!("qontract.sha256sum: {}\n", explanation.sha256sum);
            if let Some(decision) = &explanation.decision {
                text.push_str(&format!(
                    "plan: {} ({})\n",
                    decision.action, decision.reason
                ));
            }
            text.push_str("canonical form (what the sha256sum is computed from):\n");
            text.push_str(
                &serde_json::to_string_pretty(&explanation.canonical).map_err(|e| e.to_string())?,
            );
            text.push('\n');
            text
        }
    })
}
