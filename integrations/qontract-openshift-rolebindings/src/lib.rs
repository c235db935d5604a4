//! `openshift-rolebindings`: the namespace access granted by app-interface roles, as
//! RoleBindings. For every role (`roles_v1`) with `access[] {namespace, role | clusterRole}`,
//! every user holding that role gets a `RoleBinding` named `<role>-<username>` that binds the
//! user to the ClusterRole `<role>` (or `<clusterRole>`) in the namespace, and every bot of the
//! role with an `openshift_serviceaccount` (`<ns>/<sa>`) gets `<role>-<ns>-<sa>` binding that
//! ServiceAccount. With `--support-role-ref true`, an access `role` binds the namespace's Role
//! of that name instead (upstream `openshift_bindings.models.RoleBindingSpec`).
//!
//! As upstream: only namespaces with `managedRoles: true` that are not `delete: true` are
//! managed, and in them only `RoleBinding.rbac.authorization.k8s.io`; namespaces are sharded by
//! `"<cluster>/<namespace>"`; expired roles (`expirationDate` today or earlier, UTC) grant
//! nothing; the username is the one the cluster's auth knows (`github_username` for GitHub auth or no
//! auth, `org_username` for `oidc` / `rhidp`); a user holding the same access through several
//! roles gets one RoleBinding. Only RoleBindings carrying this integration's annotations are
//! ever deleted, so bindings created by hand or by other tools are left alone.

pub mod bindings;
pub mod desired;

use clap::Args;
use qontract_gql_bindings::rolebindings_roles::RolebindingsRoles;
use qontract_realize::DesiredInventory;
use qontract_runtime::{DesiredInput, IntegrationInfo, InventoryIntegration};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-rolebindings";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.3.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "RoleBinding.rbac.authorization.k8s.io";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftRolebindings;

/// Arguments of `openshift-rolebindings` (beyond the common target arguments).
#[derive(Debug, Clone, Args)]
pub struct OpenshiftRolebindingsArgs {
    /// Bind an access `role` as the namespace's Role of that name instead of the ClusterRole
    /// (upstream `--support-role-ref`, which takes a value: true/false, yes/no, on/off, 1/0)
    #[arg(long, value_name = "BOOL", default_value = "false", action = clap::ArgAction::Set,
          value_parser = parse_click_bool)]
    pub support_role_ref: bool,
}

/// A value that click's `BoolParamType` does not read as a boolean.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid boolean")]
pub struct InvalidBool(pub String);

/// A boolean option value as click's `BoolParamType` reads it (stripped, case-insensitive).
fn parse_click_bool(value: &str) -> Result<bool, InvalidBool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Ok(true),
        "" | "0" | "false" | "f" | "no" | "n" | "off" => Ok(false),
        other => Err(InvalidBool(other.to_owned())),
    }
}

impl InventoryIntegration for OpenshiftRolebindings {
    type Args = OpenshiftRolebindingsArgs;
    type Query = RolebindingsRoles;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Bind the users of every role to the ClusterRoles their namespace access grants",
        managed_types: &[MANAGED_TYPE],
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        let filter = desired::Filter {
            scope: input.scope.clone(),
            today: desired::today_utc(),
            support_role_ref: input.args.extra.support_role_ref,
        };
        let roles = input.data.roles.as_deref().unwrap_or_default();
        Ok(desired::desired_state(
            roles,
            input.data.namespaces(),
            &filter,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: OpenshiftRolebindingsArgs,
    }

    #[test]
    fn support_role_ref_takes_a_boolean_value_as_upstream_click() {
        let parse = |argv: &[&str]| {
            Cli::try_parse_from(std::iter::once("x").chain(argv.iter().copied()))
                .map(|cli| cli.args.support_role_ref)
        };
        assert!(!parse(&[]).expect("default"));
        assert!(parse(&["--support-role-ref", "true"]).expect("true"));
        assert!(parse(&["--support-role-ref", "Yes"]).expect("yes"));
        assert!(!parse(&["--support-role-ref", "off"]).expect("off"));
        let err = parse(&["--support-role-ref", "Maybe"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"maybe\" is not a valid boolean"), "{err}");
        assert_eq!(parse_click_bool(" Maybe"), Err(InvalidBool("maybe".into())));
        // click: "Option '--support-role-ref' requires an argument."
        assert!(parse(&["--support-role-ref"]).is_err());
    }
}
