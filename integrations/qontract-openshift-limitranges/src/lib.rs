//! `openshift-limitranges`: for every namespace that references a `limitRanges` datafile
//! (`/openshift/limitrange-1.yml`), one `LimitRange` named after that datafile's `name`, whose
//! `spec.limits` are its `limits` (fields left empty in the datafile are omitted, so the
//! cluster's defaulting never looks like drift).
//!
//! As upstream: only namespaces with `limitRanges` that are not `delete: true` are managed;
//! namespaces are sharded by `"<cluster>/<namespace>"`; only `LimitRange` is managed in those
//! namespaces; and `take_over` is on by default (`--no-take-over` turns it off): a LimitRange
//! in a managed namespace that is not declared is deleted even if this integration did not
//! create it, unless it has `ownerReferences`.

pub mod desired;

use clap::Args;
use qontract_gql_bindings::limitranges_namespaces::LimitRangesNamespaces;
use qontract_realize::{DesiredInventory, RealizeOptions};
use qontract_runtime::{ArgsOf, DesiredInput, IntegrationInfo, InventoryIntegration};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-limitranges";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "LimitRange";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftLimitRanges;

/// Arguments of `openshift-limitranges` (beyond the common target arguments).
#[derive(Debug, Clone, Args)]
pub struct OpenshiftLimitRangesArgs {
    /// Leave LimitRanges this integration did not create alone (upstream --no-take-over; by
    /// default undeclared LimitRanges in managed namespaces are deleted)
    #[arg(long, env = "QONTRACT_NO_TAKE_OVER", overrides_with = "take_over")]
    pub no_take_over: bool,
    /// Manage LimitRanges exclusively: adopt and delete those not declared (the default)
    #[arg(long, overrides_with = "no_take_over")]
    pub take_over: bool,
}

impl OpenshiftLimitRangesArgs {
    /// Whether undeclared LimitRanges are adopted and deleted (upstream default: true).
    pub fn take_over(&self) -> bool {
        !self.no_take_over
    }
}

impl InventoryIntegration for OpenshiftLimitRanges {
    type Args = OpenshiftLimitRangesArgs;
    type Query = LimitRangesNamespaces;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Create the LimitRange declared by each namespace's limitRanges",
        managed_types: &[MANAGED_TYPE],
        streamed_by_cluster: true,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        Ok(desired::desired_state(input.data.namespaces(), input.scope))
    }

    fn realize_options(args: &ArgsOf<Self>) -> RealizeOptions {
        RealizeOptions {
            take_over: args.extra.take_over(),
            ..Default::default()
        }
    }
}
