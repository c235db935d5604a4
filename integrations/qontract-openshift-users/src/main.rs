//! `openshift-users` as its own binary: the integration's flags and the common ones
//! (`--config`, `--dry-run`, ...) on one level, run by the same runner as
//! `qontract-reconcile openshift-users`.
fn main() -> std::process::ExitCode {
    qontract_runtime::main_single::<qontract_openshift_users::OpenshiftUsers>()
}
