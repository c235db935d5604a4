//! What the binary tests of openshift-clusterrolebindings, -groups, -users and
//! -serviceaccount-tokens share (each includes this file with `#[path]`): the app-interface
//! files they write, shaped like the upstream schemas (`/app-sre/integration-1.yml`,
//! `/openshift/cluster-1.yml`, `/access/role-1.yml`, `/access/user-1.yml`), and the run steps
//! they take against the loopback API server.

#![allow(dead_code)]

use std::process::Output;

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{TestAppInterface, output_text as text};

/// A dry run whose exit code says whether anything would change.
pub(crate) const DRY: [&str; 2] = ["--dry-run", "--detailed-exitcode"];

/// The config tables of the secret store holding the clusters' automation token
/// (`sandbox/creds` field `token`, see [`cluster_yaml`]).
pub(crate) const SANDBOX_CREDS: &str = "[sandbox.creds]\ntoken = \"sandbox-token\"\n";

/// A KubeTestServer builder for the sandbox: plain HTTP, token `sandbox-token`.
pub(crate) fn sandbox() -> qontract_kube_testserver::KubeTestServerBuilder {
    KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
}

/// Writes `integrations/<name>.yml` (`/app-sre/integration-1.yml`), allowed to query
/// `schemas` besides the settings and integration schemas.
pub(crate) fn write_integration(
    app: &TestAppInterface,
    name: &str,
    description: &str,
    schemas: &[&str],
) {
    let schemas: String = [
        "/app-interface/app-interface-settings-1.yml",
        "/app-sre/integration-1.yml",
    ]
    .iter()
    .chain(schemas)
    .map(|schema| format!("- {schema}\n"))
    .collect();
    app.write(
        &format!("integrations/{name}.yml"),
        &format!(
            "---\n$schema: /app-sre/integration-1.yml\n\nname: {name}\ndescription: {description}\n\
             upstream: https://github.com/app-sre/qontract-reconcile\nschemas:\n{schemas}"
        ),
    );
}

/// The app-interface of a binary test of an integration granting the access of roles
/// (clusterrolebindings, groups, users): run by `bin` with the sandbox's token, its
/// integration file allowing clusters, roles, users and `schemas`.
pub(crate) fn access_app(
    bin: &str,
    integration: &str,
    description: &str,
    schemas: &[&str],
) -> TestAppInterface {
    let app = TestAppInterface::new(bin, SANDBOX_CREDS);
    let access = [
        "/openshift/cluster-1.yml",
        "/access/role-1.yml",
        "/access/user-1.yml",
    ];
    let schemas: Vec<&str> = access.iter().chain(schemas).copied().collect();
    write_integration(&app, integration, description, &schemas);
    app
}

/// A cluster file (`/openshift/cluster-1.yml`) for cluster `name` served at `url`, with the
/// automation token at `sandbox/creds` and the fields `extra` (YAML lines) besides.
pub(crate) fn cluster_yaml(name: &str, url: &str, extra: &str) -> String {
    format!(
        "---\n$schema: /openshift/cluster-1.yml\n\nlabels: {{}}\nname: {name}\n\
         description: a test cluster\nconsoleUrl: {url}\nprometheusUrl: {url}\n\
         alertmanagerUrl: {url}\nserverUrl: {url}\nelbFQDN: {name}.local\n\
         automationToken:\n  path: sandbox/creds\n  field: token\n{extra}"
    )
}

/// `auth` of a cluster whose users log in with GitHub (`github-org-team`): users are known by
/// their `github_username`.
pub(crate) fn github_auth(team: &str) -> String {
    format!("auth:\n- service: github-org-team\n  org: example\n  team: {team}\n")
}

/// A role file (`/access/role-1.yml`) named `name` with the `access` entries `access` (YAML
/// list lines).
pub(crate) fn role_yaml(name: &str, access: &str) -> String {
    format!("---\n$schema: /access/role-1.yml\n\nlabels: {{}}\nname: {name}\naccess:\n{access}")
}

/// A user file (`/access/user-1.yml`) holding the roles at `roles` (datafile paths).
pub(crate) fn user_yaml(
    name: &str,
    org_username: &str,
    github_username: &str,
    roles: &[&str],
) -> String {
    let roles: String = roles
        .iter()
        .map(|role| format!("- $ref: {role}\n"))
        .collect();
    format!(
        "---\n$schema: /access/user-1.yml\n\nlabels: {{}}\nname: {name}\n\
         org_username: {org_username}\ngithub_username: {github_username}\nroles:\n{roles}"
    )
}

/// A dry run that plans changes (exit 2) and writes nothing to `sandbox` (its request log is
/// cleared first): its output.
pub(crate) fn dry_run_plans_changes(app: &TestAppInterface, sandbox: &KubeTestServer) -> Output {
    sandbox.clear_requests();
    let out = app.run(&DRY);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");
    out
}

/// A run with `args` that succeeds (exit 0): its output.
pub(crate) fn run_ok(app: &TestAppInterface, args: &[&str]) -> Output {
    let out = app.run(args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    out
}

/// A dry run that finds nothing to change (exit 0).
pub(crate) fn assert_converged(app: &TestAppInterface) {
    let out = app.run(&DRY);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}

/// Whether the output `out` contains every one of `lines`; panics naming the first missing.
pub(crate) fn assert_contains_all(out: &Output, lines: &[&str]) {
    let all = text(out);
    for line in lines {
        assert!(all.contains(line), "{line}:\n{all}");
    }
}
